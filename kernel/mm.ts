// An address space (Linux mm_struct): its VMAs, its page tables in physical
// frames, its break, its RSS counters and its user-memory accessor. The VMA
// operations are in mmap.ts, the fault path in fault.ts, teardown in memory.ts.

import { Kev } from "./cost/events.ts";
import { PG_PGTABLE } from "./frames.ts";
import type { Kernel } from "./kernel.ts";
import { zapRange } from "./memory.ts";
import { NO_FRAME } from "./page_alloc.ts";
import { PTE_D, PTE_P, PTE_RW, PTE_U, pdeIndex, pteIndex } from "./pagetable.ts";
import { MMAP_BASE, PAGE_SHIFT, PGDIR_SIZE, TASK_SIZE, pgdirAlignDown } from "./param.ts";
import { handleMmFault } from "./fault.ts";
import { UserMemory } from "./uaccess.ts";
import { VmaList } from "./vma.ts";

/** Why a fault could not be resolved: the negative results of Mm.resolve. */
export const FAULT_SEGV_MAPERR = -1;
export const FAULT_SEGV_ACCERR = -2;
export const FAULT_SIGBUS = -3;
export const FAULT_OOM = -4;

export class Mm {
  readonly vmas = new VmaList();
  /** Frame holding the page directory. */
  readonly pgd: number;
  readonly mem: UserMemory;
  startBrk = 0;
  brk = 0;
  /** Extra vm_flags for brk growth: VM_NOZERO once brk2(..., BRK_NOZERO) was called. */
  brkFlags = 0;
  mmapBase = MMAP_BASE;
  /** Resident pages by kind (MM_ANONPAGES, MM_SHMEMPAGES); the zero page is not counted. */
  rssAnon = 0;
  rssShmem = 0;
  hiwaterRss = 0;
  hiwaterVm = 0;
  /** Page-table frames in use, pgd included (VmPTE). */
  ptFrames = 1;
  /** Private anonymous pages under MADV_FREE: reclaimable while clean. */
  readonly lazyfree = new Set<number>();
  /** Tasks sharing this mm (threads); the mm dies with the last. */
  users = 1;

  constructor(readonly k: Kernel) {
    const f = k.allocKernelFrame();
    if (f === NO_FRAME) throw new RangeError("mm: no memory for a page directory");
    this.pgd = f;
    k.frames.flags[f] |= PG_PGTABLE;
    this.mem = new UserMemory(this, k.phys);
  }

  get rss(): number {
    return this.rssAnon + this.rssShmem;
  }

  /** total_vm in pages. */
  get totalVm(): number {
    return this.vmas.totalPages;
  }

  noteRss(): void {
    if (this.rss > this.hiwaterRss) this.hiwaterRss = this.rss;
  }

  noteVm(): void {
    const t = this.totalVm;
    if (t > this.hiwaterVm) this.hiwaterVm = t;
  }

  /** i32 index of vaddr's PTE, or -1 when no page table covers it. */
  pteSlot(vaddr: number): number {
    const pde = this.k.phys.i32[pdeIndex(this.pgd, vaddr)];
    return pde & PTE_P ? pteIndex(pde >>> 12, vaddr) : -1;
  }

  /** The PTE for vaddr, or 0 when there is none. */
  pte(vaddr: number): number {
    const s = this.pteSlot(vaddr);
    return s < 0 ? 0 : this.k.phys.i32[s];
  }

  /** pte_alloc: the PTE slot for vaddr, allocating a cleared page table; -1 on OOM. */
  pteSlotAlloc(vaddr: number): number {
    const i32 = this.k.phys.i32;
    const di = pdeIndex(this.pgd, vaddr);
    let pde = i32[di];
    if (!(pde & PTE_P)) {
      const f = this.k.allocKernelFrame();
      if (f === NO_FRAME) return -1;
      this.k.frames.flags[f] |= PG_PGTABLE;
      this.k.current.counters.k[Kev.PGTABLE_ALLOC]++;
      this.ptFrames++;
      pde = (f << 12) | PTE_P | PTE_RW | PTE_U;
      i32[di] = pde;
    }
    return pteIndex(pde >>> 12, vaddr);
  }

  /**
   * The page walk behind a TLB miss: the PTE mapping vaddr for this access,
   * taking the fault path when the PTE does not allow it. Returns the PTE
   * (positive: frames stay below 2^19) or a negative FAULT_* code.
   */
  resolve(vaddr: number, write: boolean): number {
    if (vaddr >= TASK_SIZE || vaddr < 0) return FAULT_SEGV_MAPERR;
    const i32 = this.k.phys.i32;
    let s = this.pteSlot(vaddr);
    let pte = s < 0 ? 0 : i32[s];
    const need = write ? PTE_P | PTE_RW : PTE_P;
    if ((pte & need) !== need) {
      const r = handleMmFault(this, vaddr, write);
      if (r < 0) return r;
      s = this.pteSlot(vaddr);
      pte = i32[s];
    }
    if (write && !(pte & PTE_D)) i32[s] = pte |= PTE_D;
    return pte;
  }

  /** exit_mmap: unmap everything and free the page tables and the directory. */
  release(): void {
    for (const v of [...this.vmas.list]) {
      zapRange(this, v.start, v.end);
      v.obj?.put();
      this.vmas.remove(v);
    }
    this.mem.flushAll();
    const i32 = this.k.phys.i32;
    for (let d = 0; d < TASK_SIZE / PGDIR_SIZE; d++) {
      const pde = i32[(this.pgd << 10) | d];
      if (pde & PTE_P) this.k.freeKernelFrame(pde >>> 12);
    }
    this.k.freeKernelFrame(this.pgd);
    this.ptFrames = 0;
    this.lazyfree.clear();
  }

  /** free_pgtables: drop page tables whose 4 MiB span no VMA covers any more. */
  freePgtables(start: number, end: number): void {
    const i32 = this.k.phys.i32;
    for (let base = pgdirAlignDown(start); base < end; base += PGDIR_SIZE) {
      const di = pdeIndex(this.pgd, base);
      const pde = i32[di];
      if (!(pde & PTE_P) || this.vmas.intersects(base, base + PGDIR_SIZE)) continue;
      i32[di] = 0;
      this.k.freeKernelFrame(pde >>> 12);
      this.ptFrames--;
    }
  }

  /** Pages of [start, end) that are resident (for tests and /proc smaps). */
  residentPages(start: number, end: number): number {
    let n = 0;
    for (let a = start; a < end; a += 1 << PAGE_SHIFT) if (this.pte(a) & PTE_P) n++;
    return n;
  }
}
