// Virtual memory areas: the sorted list of an address space's mappings, with
// Linux's merge rule (adjacent, same flags, same backing object, continuous
// page offset) and split.

import { PAGE_SHIFT } from "./param.ts";

// vm_flags bits, Linux values (include/linux/mm.h).
export const VM_READ = 0x1;
export const VM_WRITE = 0x2;
export const VM_EXEC = 0x4;
export const VM_SHARED = 0x8;
export const VM_MAYREAD = 0x10;
export const VM_MAYWRITE = 0x20;
export const VM_MAYEXEC = 0x40;
export const VM_MAYSHARE = 0x80;
export const VM_GROWSDOWN = 0x100;
export const VM_LOCKED = 0x2000;
export const VM_DONTCOPY = 0x20000;
export const VM_ACCOUNT = 0x100000;
export const VM_NORESERVE = 0x200000;
export const VM_WIPEONFORK = 0x2000000;
/** The 2007 patch's flag: faults may hand out frames this credential last owned, uncleared. */
export const VM_NOZERO = 0x4000000;

/** A backing object for shared or file mappings (shmem, a VFS file's page cache). */
export interface MemObject {
  readonly name: string; // pathname column of /proc/PID/maps ("" for shared anon)
  readonly dev: string; // "MM:mm"
  readonly inode: number;
  /** Frame holding page `pgoff`, allocating it if needed; NO_FRAME on OOM, -2 beyond end of file. */
  getPage(pgoff: number): number;
  get(): void;
  put(): void;
}

export class Vma {
  constructor(
    public start: number,
    public end: number,
    public flags: number,
    /** Offset of `start` in the backing object in pages; start >> 12 for anonymous VMAs. */
    public pgoff: number,
    public obj: MemObject | null,
  ) {}

  get pages(): number {
    return (this.end - this.start) >>> PAGE_SHIFT;
  }

  /** is_mergeable_vma + continuity: may `b` (directly after this VMA) merge into it? */
  canMergeWith(b: Vma): boolean {
    return (
      this.end === b.start &&
      this.flags === b.flags &&
      this.obj === b.obj &&
      this.pgoff + this.pages === b.pgoff
    );
  }
}

/** The VMAs of one mm, sorted by address, non-overlapping. */
export class VmaList {
  readonly list: Vma[] = [];
  private cache: Vma | null = null;
  /** Pages the VMAs cover (total_vm), kept as they change so mmap stays O(log n) with 65k VMAs. */
  private pages = 0;

  get count(): number {
    return this.list.length;
  }

  get totalPages(): number {
    return this.pages;
  }

  /** Move a VMA's bounds in place (stack growth, mremap in place); the caller keeps the list sorted. */
  resize(v: Vma, start: number, end: number): void {
    this.pages += ((end - start) >>> PAGE_SHIFT) - v.pages;
    v.start = start;
    v.end = end;
  }

  /** Index of the first VMA with end > addr (list.length if none). */
  indexAfter(addr: number): number {
    const l = this.list;
    let lo = 0;
    let hi = l.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (l[mid].end > addr) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** find_vma: the first VMA with end > addr, which may start above addr. */
  find(addr: number): Vma | null {
    const c = this.cache;
    if (c !== null && c.start <= addr && addr < c.end) return c;
    const v = this.list[this.indexAfter(addr)] ?? null;
    if (v !== null && v.start <= addr) this.cache = v;
    return v;
  }

  /** The VMA containing addr, or null. */
  findExact(addr: number): Vma | null {
    const v = this.find(addr);
    return v !== null && v.start <= addr ? v : null;
  }

  /** True if any VMA intersects [start, end). */
  intersects(start: number, end: number): boolean {
    const v = this.list[this.indexAfter(start)];
    return v !== undefined && v.start < end;
  }

  /** VMAs intersecting [start, end), in order. */
  range(start: number, end: number): Vma[] {
    const out: Vma[] = [];
    for (let i = this.indexAfter(start); i < this.list.length && this.list[i].start < end; i++) {
      out.push(this.list[i]);
    }
    return out;
  }

  insert(v: Vma): void {
    this.list.splice(this.indexAfter(v.start), 0, v);
    this.pages += v.pages;
  }

  remove(v: Vma): void {
    const i = this.list.indexOf(v);
    if (i >= 0) {
      this.list.splice(i, 1);
      this.pages -= v.pages;
    }
    if (this.cache === v) this.cache = null;
  }

  /** Split v at addr (page aligned, strictly inside); returns the new upper VMA. */
  split(v: Vma, addr: number): Vma {
    const upper = new Vma(addr, v.end, v.flags, v.pgoff + ((addr - v.start) >>> PAGE_SHIFT), v.obj);
    v.end = addr;
    upper.obj?.get();
    this.list.splice(this.list.indexOf(v) + 1, 0, upper);
    return upper;
  }

  /** Merge v with its neighbours where Linux would; returns the surviving VMA. */
  mergeAround(v: Vma): Vma {
    const i = this.list.indexOf(v);
    const next = this.list[i + 1];
    if (next !== undefined && v.canMergeWith(next)) {
      v.end = next.end;
      next.obj?.put();
      this.list.splice(i + 1, 1);
      if (this.cache === next) this.cache = null;
    }
    const prev = this.list[i - 1];
    if (prev !== undefined && prev.canMergeWith(v)) {
      prev.end = v.end;
      v.obj?.put();
      this.list.splice(i, 1);
      if (this.cache === v) this.cache = null;
      return prev;
    }
    return v;
  }
}

/** vm_start_gap: a growing-down stack keeps a guard gap free below it. */
export function vmStartGap(v: Vma, guard: number): number {
  return v.flags & VM_GROWSDOWN ? Math.max(0, v.start - guard) : v.start;
}
