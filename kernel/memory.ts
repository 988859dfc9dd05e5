// Tearing mappings down (Linux zap_pte_range / unmap_vmas) and moving them
// (move_page_tables, for mremap). Frames whose last reference goes are freed
// through the kernel, which hands them to the zeroing policy and allocator.

import { Kev } from "./cost/events.ts";
import { PG_ANON } from "./frames.ts";
import type { Mm } from "./mm.ts";
import { PTE_P, PTE_SPECIAL, pdeIndex, pteHasFrame } from "./pagetable.ts";
import { PAGE_SIZE, PGDIR_SIZE, pgdirAlignDown } from "./param.ts";

/** Unmap every page of [start, end) inside vma, dropping frame references. */
export function zapRange(mm: Mm, start: number, end: number): void {
  const kern = mm.k;
  const i32 = kern.phys.i32;
  const fr = kern.frames;
  const k = kern.current.counters.k;
  let zapped = 0;
  for (let a = start; a < end; ) {
    const pde = i32[pdeIndex(mm.pgd, a)];
    const blockEnd = Math.min(end, pgdirAlignDown(a) + PGDIR_SIZE);
    if (!(pde & PTE_P)) {
      a = blockEnd;
      continue;
    }
    const base = (pde >>> 12) << 10;
    for (; a < blockEnd; a += PAGE_SIZE) {
      const s = base | ((a >>> 12) & 0x3ff);
      const pte = i32[s];
      if (!pteHasFrame(pte)) continue;
      i32[s] = 0;
      zapped++;
      if (pte & PTE_SPECIAL) continue;
      const f = pte >>> 12;
      fr.mapcount[f]--;
      if (fr.flags[f] & PG_ANON) mm.rssAnon--;
      else mm.rssShmem--;
      kern.putPage(f);
    }
  }
  k[Kev.ZAP_PTE] += zapped;
  if (mm.lazyfree.size > 0) {
    for (const a of mm.lazyfree) if (a >= start && a < end) mm.lazyfree.delete(a);
  }
  mm.mem.flushRange(start, end);
}

/**
 * move_page_tables: carry the PTEs of [from, from + len) to [to, to + len)
 * without touching the frames (mremap moves mappings, not contents).
 * Returns false if a page table could not be allocated.
 */
export function movePageTables(mm: Mm, from: number, to: number, len: number): boolean {
  const i32 = mm.k.phys.i32;
  // Allocate every destination table first so a failure leaves nothing half-moved.
  for (let off = 0; off < len; off += PAGE_SIZE) {
    if (pteHasFrame(mm.pte(from + off)) && mm.pteSlotAlloc(to + off) < 0) return false;
  }
  const down = to < from;
  for (let i = 0; i < len; i += PAGE_SIZE) {
    const off = down ? i : len - PAGE_SIZE - i;
    const s = mm.pteSlot(from + off);
    if (s < 0) continue;
    const pte = i32[s];
    if (!pteHasFrame(pte)) continue;
    i32[s] = 0;
    i32[mm.pteSlot(to + off)] = pte;
    if (mm.lazyfree.delete(from + off)) mm.lazyfree.add(to + off);
  }
  mm.mem.flushRange(from, from + len);
  mm.mem.flushRange(to, to + len);
  return true;
}
