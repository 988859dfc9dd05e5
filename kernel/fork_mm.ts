// dup_mmap / copy_page_range: the address space a fork child gets. Private
// writable pages become copy-on-write in both parent and child (their PTEs
// lose RW); shared pages stay shared; VM_DONTCOPY areas are left out and
// VM_WIPEONFORK areas start empty in the child.

import { Kev } from "./cost/events.ts";
import { PG_ANON } from "./frames.ts";
import { Mm } from "./mm.ts";
import { PTE_P, PTE_RW, PTE_SPECIAL, pdeIndex, pteHasFrame } from "./pagetable.ts";
import { PAGE_SIZE, PGDIR_SIZE, pgdirAlignDown } from "./param.ts";
import { VM_DONTCOPY, VM_SHARED, VM_WIPEONFORK, Vma } from "./vma.ts";

/** A copy of `old` for a fork child; null if memory for page tables ran out. */
export function dupMm(old: Mm): Mm | null {
  const k = old.k;
  const mm = new Mm(k);
  mm.startBrk = old.startBrk;
  mm.brk = old.brk;
  mm.brkFlags = old.brkFlags;
  mm.mmapBase = old.mmapBase;
  const i32 = k.phys.i32;
  const fr = k.frames;
  let copied = 0;
  for (const v of old.vmas.list) {
    if (v.flags & VM_DONTCOPY) continue;
    const nv = new Vma(v.start, v.end, v.flags, v.pgoff, v.obj);
    v.obj?.get();
    mm.vmas.insert(nv);
    if (v.flags & VM_WIPEONFORK) continue;
    const cow = !(v.flags & VM_SHARED);
    for (let a = v.start; a < v.end; ) {
      const pde = i32[pdeIndex(old.pgd, a)];
      const blockEnd = Math.min(v.end, pgdirAlignDown(a) + PGDIR_SIZE);
      if (!(pde & PTE_P)) {
        a = blockEnd;
        continue;
      }
      for (; a < blockEnd; a += PAGE_SIZE) {
        const s = old.pteSlot(a);
        let pte = i32[s];
        if (!pteHasFrame(pte)) continue;
        const ns = mm.pteSlotAlloc(a);
        if (ns < 0) {
          mm.release();
          return null;
        }
        if (cow && pte & PTE_RW) {
          pte &= ~PTE_RW;
          i32[s] = pte;
        }
        i32[ns] = pte;
        copied++;
        if (pte & PTE_SPECIAL) continue;
        const f = pte >>> 12;
        fr.count[f]++;
        fr.mapcount[f]++;
        if (fr.flags[f] & PG_ANON) mm.rssAnon++;
        else mm.rssShmem++;
      }
    }
  }
  old.mem.flushAll();
  k.current.counters.k[Kev.FORK_PTE] += copied;
  mm.noteRss();
  mm.noteVm();
  return mm;
}
