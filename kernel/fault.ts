// The page-fault path, as Linux's handle_mm_fault: find the VMA (growing a
// stack down if needed), check the access, then
//   not present, read  -> map the shared zero page read-only   (do_anonymous_page)
//   not present, write -> allocate a frame; the zeroing policy decides the clear
//   present, RO, write -> copy-on-write or reuse                (do_wp_page)
// Shared and file mappings take their frames from the backing object.

import { Kev } from "./cost/events.ts";
import { PG_ANON, PG_NOZERO } from "./frames.ts";
import { FAULT_OOM, FAULT_SEGV_ACCERR, FAULT_SEGV_MAPERR, FAULT_SIGBUS, type Mm } from "./mm.ts";
import { NO_FRAME } from "./page_alloc.ts";
import { PTE_D, PTE_P, PTE_RW, PTE_SPECIAL, PTE_USER, mkPte } from "./pagetable.ts";
import { PAGE_SHIFT, STACK_RLIMIT, pageAlignDown } from "./param.ts";
import { mayReceiveUncleared } from "./cred.ts";
import { credTag } from "./task.ts";
import { VM_EXEC, VM_GROWSDOWN, VM_NOZERO, VM_READ, VM_SHARED, VM_WRITE, type Vma } from "./vma.ts";

/** Resolve a fault at vaddr; returns 0 or a negative FAULT_* code. */
export function handleMmFault(mm: Mm, vaddr: number, write: boolean): number {
  const k = mm.k.current.counters.k;
  k[Kev.FAULT]++;
  let vma = mm.vmas.find(vaddr);
  if (vma === null) return FAULT_SEGV_MAPERR;
  if (vma.start > vaddr) {
    if (!(vma.flags & VM_GROWSDOWN) || !expandStack(mm, vma, vaddr)) return FAULT_SEGV_MAPERR;
  }
  if (write ? !(vma.flags & VM_WRITE) : !(vma.flags & (VM_READ | VM_WRITE | VM_EXEC))) {
    return FAULT_SEGV_ACCERR;
  }
  const slot = mm.pteSlotAlloc(vaddr);
  if (slot < 0) return FAULT_OOM;
  const pte = mm.k.phys.i32[slot];
  if (!(pte & PTE_P)) {
    if (vma.obj !== null) return sharedFault(mm, vma, vaddr, slot, write);
    if (!write) {
      mm.k.phys.i32[slot] = mkPte(mm.k.zeroFrame, PTE_USER | PTE_SPECIAL);
      k[Kev.FAULT_ANON_READ]++;
      return 0;
    }
    return anonymousWrite(mm, vma, slot);
  }
  return write ? wpPage(mm, vma, vaddr, slot, pte) : 0;
}

/** do_anonymous_page, write: a new frame, cleared or not as the policy says. */
function anonymousWrite(mm: Mm, vma: Vma, slot: number): number {
  const kern = mm.k;
  const task = kern.current;
  const f = kern.allocUserFrame();
  if (f === NO_FRAME) return FAULT_OOM;
  const nozero = (vma.flags & VM_NOZERO) !== 0 && mayReceiveUncleared(task);
  kern.policy.prepareAnon(f, nozero, credTag(task.cred), task.counters.k);
  kern.frames.flags[f] |= PG_ANON;
  kern.frames.mapcount[f] = 1;
  kern.phys.i32[slot] = mkPte(f, PTE_USER | PTE_RW | PTE_D);
  task.counters.k[Kev.FAULT_ANON_WRITE]++;
  mm.rssAnon++;
  mm.noteRss();
  return 0;
}

/** do_wp_page: a write to a present read-only page of a writable VMA. */
function wpPage(mm: Mm, vma: Vma, vaddr: number, slot: number, pte: number): number {
  const kern = mm.k;
  const task = kern.current;
  const fr = kern.frames;
  const tag = credTag(task.cred);
  task.counters.k[Kev.FAULT_WP]++;
  const old = pte >>> 12;
  mm.mem.flushPage(vaddr);
  if (pte & PTE_SPECIAL) {
    // Write to the zero page: a fresh frame, as a write fault would have got.
    const f = kern.allocUserFrame();
    if (f === NO_FRAME) return FAULT_OOM;
    const nozero = (vma.flags & VM_NOZERO) !== 0 && mayReceiveUncleared(task);
    kern.policy.prepareAnon(f, nozero, tag, task.counters.k);
    fr.flags[f] |= PG_ANON;
    fr.mapcount[f] = 1;
    kern.phys.i32[slot] = mkPte(f, PTE_USER | PTE_RW | PTE_D);
    mm.rssAnon++;
    mm.noteRss();
    return 0;
  }
  if (vma.flags & VM_SHARED || (fr.count[old] === 1 && fr.flags[old] & PG_ANON)) {
    // Shared mapping, or the only user of an anonymous frame: reuse in place.
    fr.tagWriter(old, tag);
    kern.phys.i32[slot] = pte | PTE_RW | PTE_D;
    return 0;
  }
  const f = kern.allocUserFrame();
  if (f === NO_FRAME) return FAULT_OOM;
  kern.phys.copyFrame(f, old);
  task.counters.k[Kev.COPY_PAGE_BYTES] += 1 << PAGE_SHIFT;
  fr.tag[f] = fr.tag[old];
  fr.tagWriter(f, tag);
  fr.flags[f] = (fr.flags[f] & ~PG_NOZERO) | PG_ANON | (vma.flags & VM_NOZERO && mayReceiveUncleared(task) ? PG_NOZERO : 0);
  fr.mapcount[f] = 1;
  kern.phys.i32[slot] = mkPte(f, PTE_USER | PTE_RW | PTE_D);
  const wasAnon = (fr.flags[old] & PG_ANON) !== 0;
  fr.mapcount[old]--;
  kern.putPage(old);
  if (!wasAnon) {
    // A private copy of a file or shmem page becomes anonymous memory.
    mm.rssShmem--;
    mm.rssAnon++;
  }
  mm.noteRss();
  return 0;
}

/** A fault on a VMA backed by an object: shared pages map the object's frame. */
function sharedFault(mm: Mm, vma: Vma, vaddr: number, slot: number, write: boolean): number {
  const kern = mm.k;
  const k = kern.current.counters.k;
  k[Kev.FAULT_SHARED]++;
  const f = vma.obj!.getPage(vma.pgoff + ((vaddr - vma.start) >>> PAGE_SHIFT));
  if (f === NO_FRAME) return FAULT_OOM;
  if (f < 0) return FAULT_SIGBUS;
  kern.frames.count[f]++;
  kern.frames.mapcount[f]++;
  mm.rssShmem++;
  mm.noteRss();
  if (vma.flags & VM_SHARED) {
    const rw = write ? PTE_RW | PTE_D : 0;
    if (write) kern.frames.tagWriter(f, credTag(kern.current.cred));
    kern.phys.i32[slot] = mkPte(f, PTE_USER | rw);
    return 0;
  }
  kern.phys.i32[slot] = mkPte(f, PTE_USER);
  return write ? wpPage(mm, vma, vaddr, slot, kern.phys.i32[slot]) : 0;
}

/**
 * expand_stack: grow a VM_GROWSDOWN VMA down to cover vaddr, within
 * RLIMIT_STACK. As in acct_stack_growth, the limit is on the VMA's new size
 * (vm_end - new start), wherever the VMA is.
 */
function expandStack(mm: Mm, vma: Vma, vaddr: number): boolean {
  const start = pageAlignDown(vaddr);
  if (vma.end - start > STACK_RLIMIT) return false;
  const i = mm.vmas.indexAfter(vma.start);
  const prev = i > 0 ? mm.vmas.list[i - 1] : null;
  if (prev !== null && prev.end > start) return false;
  vma.pgoff -= (vma.start - start) >>> PAGE_SHIFT;
  mm.vmas.resize(vma, start, vma.end);
  mm.noteVm();
  return true;
}
