// Memory-management system calls: unpack, validate what is the syscall's own
// business, delegate to mmap.ts. Return a value or -errno.

import { EINVAL, ENOMEM } from "./errno.ts";
import type { Kernel } from "./kernel.ts";
import { doBrk, doMadvise, doMmap, doMprotect, doMremap, doMunmap } from "./mmap.ts";
import { BRK_NOZERO, MAP_ANONYMOUS, MAP_HUGETLB } from "./mman.ts";
import type { Mm } from "./mm.ts";
import type { Task } from "./task.ts";

/** MAP_HUGE_SHIFT/MASK: with MAP_HUGETLB, bits 26..31 give log2 of the huge page size. */
const MAP_HUGE_SHIFT = 26;
const MAP_HUGE_MASK = 0x3f;

function mmOf(t: Task): Mm {
  return t.mm!;
}

function privileged(t: Task): boolean {
  return t.cred.euid === 0;
}

export function sys_brk(_k: Kernel, t: Task, addr: number): number {
  return doBrk(mmOf(t), addr, false);
}

/** brk2(addr, flags): brk with flags; BRK_NOZERO marks the heap VM_NOZERO. */
export function sys_brk2(_k: Kernel, t: Task, addr: number, flags: number): number {
  if (flags & ~BRK_NOZERO) return -EINVAL;
  return doBrk(mmOf(t), addr, (flags & BRK_NOZERO) !== 0);
}

/** mmap2(addr, len, prot, flags, fd, pgoff): the i386 mmap, offset in pages. */
export function sys_mmap2(k: Kernel, t: Task, addr: number, len: number, prot: number, flags: number, fd: number, pgoff: number): number {
  if (!(flags & MAP_ANONYMOUS)) {
    const obj = k.mmapObject(t, fd | 0);
    if (typeof obj === "number") return obj;
    const writable = t.files?.get(fd | 0)?.writable ?? false;
    return doMmap(mmOf(t), addr, len, prot, flags, obj, pgoff, privileged(t), writable);
  }
  if (flags & MAP_HUGETLB) {
    // No huge pages are reserved: a valid size gets ENOMEM, as on a stock system.
    const log = (flags >>> MAP_HUGE_SHIFT) & MAP_HUGE_MASK;
    return log === 0 || log === 21 || log === 30 ? -ENOMEM : -EINVAL;
  }
  return doMmap(mmOf(t), addr, len, prot, flags, null, pgoff, privileged(t));
}

export function sys_munmap(_k: Kernel, t: Task, addr: number, len: number): number {
  return doMunmap(mmOf(t), addr, len);
}

export function sys_mprotect(_k: Kernel, t: Task, addr: number, len: number, prot: number): number {
  return doMprotect(mmOf(t), addr, len, prot);
}

export function sys_mremap(_k: Kernel, t: Task, addr: number, oldLen: number, newLen: number, flags: number, newAddr: number): number {
  return doMremap(mmOf(t), addr, oldLen, newLen, flags, newAddr, privileged(t));
}

export function sys_madvise(_k: Kernel, t: Task, addr: number, len: number, advice: number): number {
  return doMadvise(mmOf(t), addr, len, advice);
}
