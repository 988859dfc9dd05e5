// VMA-level memory operations behind mmap, munmap, mprotect, mremap, madvise
// and brk, with Linux's argument rules and errno. Each returns a result or a
// negative errno; page-level work is in fault.ts and memory.ts.

import { Kev } from "./cost/events.ts";
import { EACCES, EAGAIN, EEXIST, EFAULT, EINVAL, ENOMEM, EOPNOTSUPP, EOVERFLOW, EPERM } from "./errno.ts";
import { handleMmFault } from "./fault.ts";
import { movePageTables, zapRange } from "./memory.ts";
import type { Mm } from "./mm.ts";
import * as M from "./mman.ts";
import { PTE_D, PTE_P, PTE_PROTNONE, PTE_RW, PTE_SPECIAL, pteHasFrame } from "./pagetable.ts";
import {
  MAX_MAP_COUNT, MMAP_MIN_ADDR, PAGE_MASK, PAGE_SHIFT, PAGE_SIZE, STACK_GUARD_GAP, TASK_SIZE,
  TASK_UNMAPPED_BASE, PGDIR_SIZE, pageAlignDown, pageAlignUp, pgdirAlignDown,
} from "./param.ts";
import {
  type MemObject, VM_ACCOUNT, VM_DONTCOPY, VM_EXEC, VM_GROWSDOWN, VM_LOCKED, VM_MAYEXEC, VM_MAYREAD,
  VM_MAYSHARE, VM_MAYWRITE, VM_NORESERVE, VM_NOZERO, VM_READ, VM_SHARED, VM_WIPEONFORK, VM_WRITE, Vma,
  vmStartGap,
} from "./vma.ts";

const VM_ACCESS = VM_READ | VM_WRITE | VM_EXEC;

/** calc_vm_prot_bits. */
function protToVm(prot: number): number {
  return (prot & M.PROT_READ ? VM_READ : 0) | (prot & M.PROT_WRITE ? VM_WRITE : 0) | (prot & M.PROT_EXEC ? VM_EXEC : 0);
}

function chargeVma(mm: Mm, n = 1): void {
  mm.k.current.counters.k[Kev.VMA_OP] += n;
}

// ---- placement ----------------------------------------------------------------

/**
 * get_unmapped_area: where a mapping of len bytes goes. MAP_FIXED takes addr
 * as is; a hint is used if free; otherwise the highest gap below mmap_base
 * (top-down layout), then a bottom-up search. Returns the address or -errno.
 */
export function getUnmappedArea(mm: Mm, addr: number, len: number, fixed: boolean, privileged: boolean): number {
  if (len > TASK_SIZE) return -ENOMEM;
  let a = fixed ? addr : findArea(mm, addr, len);
  if (a < 0) return a;
  if (a > TASK_SIZE - len) return -ENOMEM;
  if (a & PAGE_MASK) return -EINVAL;
  if (a < MMAP_MIN_ADDR && !privileged) return -EPERM;
  return a;
}

function findArea(mm: Mm, hint: number, len: number): number {
  const low = Math.max(PAGE_SIZE, MMAP_MIN_ADDR);
  if (hint !== 0) {
    const h = pageAlignDown(hint);
    if (h >= low && TASK_SIZE - len >= h && isFree(mm, h, h + len)) return h;
  }
  const l = mm.vmas.list;
  // Top-down: the highest gap below mmap_base.
  let next = TASK_SIZE;
  for (let i = l.length - 1; i >= -1; i--) {
    const lo = Math.max(low, i >= 0 ? l[i].end : low);
    const hi = Math.min(next, mm.mmapBase);
    if (hi >= lo + len) return hi - len;
    if (i >= 0) next = vmStartGap(l[i], STACK_GUARD_GAP);
    if (next <= low) break;
  }
  // Bottom-up fallback from TASK_UNMAPPED_BASE.
  let lo = TASK_UNMAPPED_BASE;
  for (const v of l) {
    if (v.end <= lo) continue;
    if (vmStartGap(v, STACK_GUARD_GAP) >= lo + len) return lo;
    lo = Math.max(lo, v.end);
  }
  return TASK_SIZE - len >= lo ? lo : -ENOMEM;
}

function isFree(mm: Mm, start: number, end: number): boolean {
  const v = mm.vmas.find(start);
  if (v === null) return true;
  if (v.start < end + (v.flags & VM_GROWSDOWN ? STACK_GUARD_GAP : 0)) return false;
  const i = mm.vmas.indexAfter(start);
  const prev = i > 0 ? mm.vmas.list[i - 1] : null;
  return prev === null || prev.end <= start;
}

// ---- creating and removing VMAs ------------------------------------------------

/** mmap_region: map [addr, addr+len) fresh, replacing what was there, merging where Linux would. */
export function mmapRegion(mm: Mm, addr: number, len: number, flags: number, obj: MemObject | null, pgoff: number): number {
  const end = addr + len;
  if (mm.vmas.intersects(addr, end)) {
    const r = unmapRange(mm, addr, end);
    if (r < 0) return r;
  }
  if (mm.vmas.count >= MAX_MAP_COUNT) return -ENOMEM;
  const v = new Vma(addr, end, flags, pgoff, obj);
  obj?.get();
  mm.vmas.insert(v);
  mm.vmas.mergeAround(v);
  chargeVma(mm);
  mm.noteVm();
  return addr;
}

/** do_vmi_munmap: unmap [start, end) (page aligned), splitting VMAs at the edges. */
export function unmapRange(mm: Mm, start: number, end: number): number {
  // An empty range unmaps nothing (mremap of a shared mapping with old_len 0
  // keeps its source); range() would still return the VMA holding start.
  if (end <= start) return 0;
  const vs = mm.vmas.range(start, end);
  if (vs.length === 0) return 0;
  const first = vs[0];
  const last = vs[vs.length - 1];
  const splits = (first.start < start ? 1 : 0) + (last.end > end ? 1 : 0);
  if (splits > 0 && mm.vmas.count + (first === last && splits === 2 ? 1 : 0) >= MAX_MAP_COUNT) return -ENOMEM;
  if (first.start < start) {
    const upper = mm.vmas.split(first, start);
    if (first === last) vs[vs.length - 1] = upper;
    vs[0] = upper;
  }
  const tail = vs[vs.length - 1];
  if (tail.end > end) mm.vmas.split(tail, end);
  for (const v of vs) {
    zapRange(mm, v.start, v.end);
    v.obj?.put();
    mm.vmas.remove(v);
  }
  chargeVma(mm, vs.length + splits);
  mm.freePgtables(start, end);
  mm.k.current.counters.k[Kev.TLB_FLUSH]++;
  return 0;
}

/**
 * Give every VMA part inside [start, end) new flags (mprotect_fixup,
 * madvise_update_vma): split at the edges, apply, merge back, and hand each
 * resulting VMA to `done`. The range must be fully mapped. A split that would
 * pass vm.max_map_count fails with ENOMEM, as split_vma does, leaving the
 * VMAs before it changed.
 */
function setFlagsRange(mm: Mm, start: number, end: number, update: (flags: number) => number, done?: (v: Vma) => void): number {
  for (let v of mm.vmas.range(start, end)) {
    const nf = update(v.flags);
    if (nf !== v.flags) {
      if (v.start < start) {
        if (mm.vmas.count >= MAX_MAP_COUNT) return -ENOMEM;
        v = mm.vmas.split(v, start);
      }
      if (v.end > end) {
        if (mm.vmas.count >= MAX_MAP_COUNT) return -ENOMEM;
        mm.vmas.split(v, end);
      }
      v.flags = nf;
      chargeVma(mm);
      v = mm.vmas.mergeAround(v);
    }
    done?.(v);
  }
  return 0;
}

/** Fault in [start, end) as MAP_POPULATE does; stops at the first failure and returns it (mmap ignores it). */
function populate(mm: Mm, start: number, end: number, write: boolean): number {
  for (let a = start; a < end; a += PAGE_SIZE) {
    const pte = mm.pte(a);
    if ((pte & PTE_P) && (!write || pte & PTE_RW)) continue;
    const r = handleMmFault(mm, a, write);
    if (r < 0) return r;
  }
  return 0;
}

// ---- the syscalls' bodies ------------------------------------------------------------

/** do_mmap for mmap2 (offset in pages). Returns the address or -errno. */
export function doMmap(
  mm: Mm, addr: number, len: number, prot: number, flags: number, obj: MemObject | null, pgoff: number,
  privileged: boolean, fileWritable = true,
): number {
  if (len === 0) return -EINVAL;
  if (flags & M.MAP_NOZERO && (obj !== null || (flags & M.MAP_TYPE) !== M.MAP_PRIVATE)) return -EINVAL;
  if (flags & M.MAP_FIXED_NOREPLACE) flags |= M.MAP_FIXED;
  const fixed = (flags & M.MAP_FIXED) !== 0;
  if (!fixed) {
    addr = pageAlignDown(addr);
    if (addr !== 0 && addr < MMAP_MIN_ADDR) addr = pageAlignUp(MMAP_MIN_ADDR);
  }
  len = pageAlignUp(len);
  if (len === 0) return -ENOMEM;
  if (pgoff + (len >>> PAGE_SHIFT) > 0xffffffff) return -EOVERFLOW;
  if (mm.vmas.count > MAX_MAP_COUNT) return -ENOMEM;
  const a = getUnmappedArea(mm, addr, len, fixed, privileged);
  if (a < 0) return a;
  if (flags & M.MAP_FIXED_NOREPLACE && mm.vmas.intersects(a, a + len)) return -EEXIST;

  let vmFlags = protToVm(prot) | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
  if (flags & M.MAP_GROWSDOWN) vmFlags |= VM_GROWSDOWN;
  if (flags & M.MAP_LOCKED) vmFlags |= VM_LOCKED;
  if (flags & M.MAP_NORESERVE) vmFlags |= VM_NORESERVE;
  const type = flags & M.MAP_TYPE;
  if (obj === null) {
    if (type === M.MAP_SHARED) {
      if (vmFlags & VM_GROWSDOWN) return -EINVAL;
      vmFlags |= VM_SHARED | VM_MAYSHARE;
      obj = mm.k.newShmem(len >>> PAGE_SHIFT);
      pgoff = 0;
    } else if (type === M.MAP_PRIVATE) {
      pgoff = a >>> PAGE_SHIFT;
      if (flags & M.MAP_NOZERO) vmFlags |= VM_NOZERO;
      if (!(flags & M.MAP_NORESERVE) && vmFlags & VM_WRITE) vmFlags |= VM_ACCOUNT;
    } else {
      return -EINVAL;
    }
  } else if (type === M.MAP_SHARED || type === M.MAP_SHARED_VALIDATE) {
    if (type === M.MAP_SHARED_VALIDATE && flags & ~(M.LEGACY_MAP_MASK | M.MAP_FIXED_NOREPLACE)) return -EOPNOTSUPP;
    vmFlags |= VM_SHARED | VM_MAYSHARE;
    // A file opened without write access: no writable shared mapping, now or by a later mprotect.
    if (!fileWritable) {
      if (prot & M.PROT_WRITE) return -EACCES;
      vmFlags &= ~(VM_MAYWRITE | VM_SHARED);
    }
  } else if (type !== M.MAP_PRIVATE) {
    return -EINVAL;
  }
  const r = mmapRegion(mm, a, len, vmFlags, obj, pgoff);
  if (r < 0) return r;
  if (vmFlags & VM_LOCKED || (flags & (M.MAP_POPULATE | M.MAP_NONBLOCK)) === M.MAP_POPULATE) {
    populate(mm, a, a + len, (vmFlags & (VM_WRITE | VM_SHARED)) === VM_WRITE);
  }
  return a;
}

/** munmap. */
export function doMunmap(mm: Mm, start: number, len: number): number {
  if (start & PAGE_MASK || start > TASK_SIZE || len > TASK_SIZE - start) return -EINVAL;
  len = pageAlignUp(len);
  if (len === 0) return -EINVAL;
  return unmapRange(mm, start, start + len);
}

/** mprotect. */
export function doMprotect(mm: Mm, start: number, len: number, prot: number): number {
  if (start & PAGE_MASK) return -EINVAL;
  if (len === 0) return 0;
  len = pageAlignUp(len);
  const end = start + len;
  if (len === 0 || end > 0xffffffff) return -ENOMEM;
  const grows = prot & (M.PROT_GROWSDOWN | M.PROT_GROWSUP);
  if (grows === (M.PROT_GROWSDOWN | M.PROT_GROWSUP)) return -EINVAL;
  prot &= ~grows;
  if (prot & ~(M.PROT_READ | M.PROT_WRITE | M.PROT_EXEC | M.PROT_SEM)) return -EINVAL;
  const first = mm.vmas.find(start);
  if (first === null) return -ENOMEM;
  if (grows & M.PROT_GROWSDOWN) {
    if (first.start >= end) return -ENOMEM;
    if (!(first.flags & VM_GROWSDOWN)) return -EINVAL;
    start = first.start;
  } else if (first.start > start) {
    return -ENOMEM;
  } else if (grows & M.PROT_GROWSUP) {
    // x86 has no VM_GROWSUP (it is VM_NONE), so no VMA can take PROT_GROWSUP.
    return -EINVAL;
  }
  const want = protToVm(prot);
  // Walk the covered VMAs: stop at a hole (ENOMEM) or a forbidden access (EACCES).
  let covered = start;
  let err = 0;
  for (const v of mm.vmas.range(start, end)) {
    if (v.start > covered) {
      err = -ENOMEM;
      break;
    }
    const nf = (v.flags & ~VM_ACCESS) | want;
    if ((nf & ~(nf >> 4)) & VM_ACCESS) {
      err = -EACCES;
      break;
    }
    covered = v.end;
  }
  if (err === 0 && covered < end) err = -ENOMEM;
  const stop = Math.min(covered, end);
  if (stop > start) {
    const r = setFlagsRange(mm, start, stop, (f) => mprotectFlags(f, want), (v) => changePteProtection(mm, Math.max(v.start, start), Math.min(v.end, stop), v.flags));
    if (r < 0) return r;
  }
  return err;
}

/**
 * mprotect_fixup's new vm_flags: a private mapping that becomes writable for
 * the first time is charged as data from then on (VM_ACCOUNT), so it matches,
 * and merges with, a mapping that was writable from the start.
 */
function mprotectFlags(old: number, want: number): number {
  const nf = (old & ~VM_ACCESS) | want;
  if (nf & VM_WRITE && !(old & (VM_ACCOUNT | VM_WRITE | VM_SHARED | VM_NORESERVE))) return nf | VM_ACCOUNT;
  return nf;
}

/** change_protection: make PTEs agree with new VMA flags (write access comes back through faults). */
function changePteProtection(mm: Mm, start: number, end: number, flags: number): void {
  const i32 = mm.k.phys.i32;
  const none = (flags & VM_ACCESS) === 0;
  for (let a = start; a < end; a += PAGE_SIZE) {
    const s = mm.pteSlot(a);
    if (s < 0) {
      a = pgdirAlignDown(a) + PGDIR_SIZE - PAGE_SIZE;
      continue;
    }
    const pte = i32[s];
    if (!pteHasFrame(pte)) continue;
    let np = none ? (pte & ~(PTE_P | PTE_RW)) | PTE_PROTNONE : (pte | PTE_P) & ~PTE_PROTNONE;
    if (!(flags & VM_WRITE) || pte & PTE_SPECIAL) np &= ~PTE_RW;
    i32[s] = np;
  }
  mm.mem.flushRange(start, end);
  mm.k.current.counters.k[Kev.TLB_FLUSH]++;
}

/** mremap. Returns the (possibly new) address or -errno. */
export function doMremap(mm: Mm, addr: number, oldLen: number, newLen: number, flags: number, newAddr: number, privileged: boolean): number {
  if (flags & ~(M.MREMAP_FIXED | M.MREMAP_MAYMOVE | M.MREMAP_DONTUNMAP)) return -EINVAL;
  if (flags & M.MREMAP_FIXED && !(flags & M.MREMAP_MAYMOVE)) return -EINVAL;
  if (flags & M.MREMAP_DONTUNMAP && (!(flags & M.MREMAP_MAYMOVE) || oldLen !== newLen)) return -EINVAL;
  if (addr & PAGE_MASK) return -EINVAL;
  oldLen = pageAlignUp(oldLen);
  newLen = pageAlignUp(newLen);
  if (newLen === 0) return -EINVAL;
  if (addr + oldLen > 0xffffffff) return -EINVAL;

  // Linux 6.x looks the VMA up before anything else: an unmapped address is EFAULT even for a shrink.
  if (mm.vmas.findExact(addr) === null) return -EFAULT;
  if (flags & (M.MREMAP_FIXED | M.MREMAP_DONTUNMAP)) {
    return mremapTo(mm, addr, oldLen, newLen, flags, newAddr, privileged);
  }
  if (oldLen >= newLen) {
    // Shrinking: unmap the tail, in place.
    if (oldLen > newLen) {
      const r = unmapRange(mm, addr + newLen, addr + oldLen);
      if (r < 0) return r;
    }
    return addr;
  }
  const vma = vmaToResize(mm, addr, oldLen);
  if (typeof vma === "number") return vma;
  // vma_expandable: grow in place if the VMA ends here and the space above is free.
  const newEnd = addr + newLen;
  if (addr + oldLen === vma.end && newEnd <= TASK_SIZE && !mm.vmas.intersects(vma.end, newEnd)) {
    mm.vmas.resize(vma, vma.start, newEnd);
    mm.vmas.mergeAround(vma);
    chargeVma(mm);
    mm.noteVm();
    return addr;
  }
  if (!(flags & M.MREMAP_MAYMOVE)) return -ENOMEM;
  const dest = getUnmappedArea(mm, 0, newLen, false, privileged);
  if (dest < 0) return dest;
  return moveVma(mm, vma, addr, oldLen, newLen, dest, false);
}

/** vma_to_resize: the single VMA that must hold [addr, addr+oldLen). */
function vmaToResize(mm: Mm, addr: number, oldLen: number): Vma | number {
  const vma = mm.vmas.findExact(addr);
  if (vma === null) return -EFAULT;
  if (oldLen > vma.end - addr) return -EFAULT;
  if (oldLen === 0 && !(vma.flags & (VM_SHARED | VM_MAYSHARE))) return -EINVAL;
  return vma;
}

function mremapTo(mm: Mm, addr: number, oldLen: number, newLen: number, flags: number, newAddr: number, privileged: boolean): number {
  if (flags & M.MREMAP_FIXED) {
    if (newAddr & PAGE_MASK) return -EINVAL;
    if (newLen > TASK_SIZE || newAddr > TASK_SIZE - newLen) return -EINVAL;
    if (addr + oldLen > newAddr && newAddr + newLen > addr) return -EINVAL;
    const r = unmapRange(mm, newAddr, newAddr + newLen);
    if (r < 0) return r;
  }
  if (oldLen > newLen) {
    const r = unmapRange(mm, addr + newLen, addr + oldLen);
    if (r < 0) return r;
    oldLen = newLen;
  }
  const vma = vmaToResize(mm, addr, oldLen);
  if (typeof vma === "number") return vma;
  let dest = newAddr;
  if (!(flags & M.MREMAP_FIXED)) {
    dest = getUnmappedArea(mm, 0, newLen, false, privileged);
  } else if (newAddr < MMAP_MIN_ADDR && !privileged) {
    dest = -EPERM;
  }
  if (dest < 0) return dest;
  return moveVma(mm, vma, addr, oldLen, newLen, dest, (flags & M.MREMAP_DONTUNMAP) !== 0);
}

/** move_vma: the pages of [addr, addr+oldLen) go to dest; the new VMA is newLen long. */
function moveVma(mm: Mm, vma: Vma, addr: number, oldLen: number, newLen: number, dest: number, keepOld: boolean): number {
  if (mm.vmas.count + 2 >= MAX_MAP_COUNT) return -ENOMEM;
  const pgoff = vma.pgoff + ((addr - vma.start) >>> PAGE_SHIFT);
  const moved = new Vma(dest, dest + newLen, vma.flags, pgoff, vma.obj);
  if (!movePageTables(mm, addr, dest, oldLen)) return -ENOMEM;
  vma.obj?.get();
  mm.vmas.insert(moved);
  mm.vmas.mergeAround(moved);
  chargeVma(mm);
  if (!keepOld) {
    unmapRange(mm, addr, addr + oldLen);
  }
  mm.noteVm();
  return dest;
}

const VALID_ADVICE = new Set([
  M.MADV_NORMAL, M.MADV_RANDOM, M.MADV_SEQUENTIAL, M.MADV_WILLNEED, M.MADV_DONTNEED, M.MADV_FREE,
  M.MADV_REMOVE, M.MADV_DONTFORK, M.MADV_DOFORK, M.MADV_HUGEPAGE, M.MADV_NOHUGEPAGE,
  M.MADV_DONTDUMP, M.MADV_DODUMP, M.MADV_WIPEONFORK, M.MADV_KEEPONFORK,
  // Linux 5.4-6.x: KSM (no merging here), reclaim hints (no swap), populate, DONTNEED on locked VMAs.
  M.MADV_MERGEABLE, M.MADV_UNMERGEABLE, M.MADV_COLD, M.MADV_PAGEOUT,
  M.MADV_POPULATE_READ, M.MADV_POPULATE_WRITE, M.MADV_DONTNEED_LOCKED,
]);

/** madvise. Applies to the mapped parts of the range; a hole makes the result ENOMEM. */
export function doMadvise(mm: Mm, start: number, lenIn: number, advice: number): number {
  if (!VALID_ADVICE.has(advice)) return -EINVAL;
  if (start & PAGE_MASK) return -EINVAL;
  const len = pageAlignUp(lenIn);
  if (lenIn !== 0 && len === 0) return -EINVAL;
  const end = start + len;
  if (end > 0x100000000) return -EINVAL;
  if (end === start) return 0;
  const vs = mm.vmas.range(start, end);
  let hole = vs.length === 0 || vs[0].start > start || vs[vs.length - 1].end < end;
  for (let i = 1; i < vs.length; i++) if (vs[i].start > vs[i - 1].end) hole = true;
  for (const v of vs) {
    const err = adviseVma(mm, v, Math.max(start, v.start), Math.min(end, v.end), advice);
    if (err < 0) return err;
  }
  return hole ? -ENOMEM : 0;
}

function adviseVma(mm: Mm, v: Vma, start: number, end: number, advice: number): number {
  const privateAnon = v.obj === null && !(v.flags & VM_SHARED);
  // madvise_vma_behavior reports a failed split (max_map_count) as EAGAIN.
  const setFlags = (update: (f: number) => number): number => {
    const r = setFlagsRange(mm, start, end, update);
    return r === -ENOMEM ? -EAGAIN : r;
  };
  switch (advice) {
    case M.MADV_DONTNEED:
      if (v.flags & VM_LOCKED) return -EINVAL;
      zapRange(mm, start, end);
      return 0;
    case M.MADV_DONTNEED_LOCKED:
      zapRange(mm, start, end);
      return 0;
    case M.MADV_POPULATE_READ:
    case M.MADV_POPULATE_WRITE: {
      // As Linux 6.18 answers: no access at all, or a write populate of a read-only VMA, is EINVAL.
      const write = advice === M.MADV_POPULATE_WRITE;
      if (!(v.flags & VM_ACCESS) || (write && !(v.flags & VM_WRITE))) return -EINVAL;
      return populate(mm, start, end, write) < 0 ? -ENOMEM : 0;
    }
    case M.MADV_FREE:
      if (!privateAnon) return -EINVAL;
      markLazyfree(mm, start, end);
      return 0;
    case M.MADV_REMOVE:
      return v.flags & VM_SHARED ? (zapRange(mm, start, end), 0) : -EACCES;
    case M.MADV_DONTFORK:
      return setFlags((f) => f | VM_DONTCOPY);
    case M.MADV_DOFORK:
      return setFlags((f) => f & ~VM_DONTCOPY);
    case M.MADV_WIPEONFORK:
      if (!privateAnon) return -EINVAL;
      return setFlags((f) => f | VM_WIPEONFORK);
    case M.MADV_KEEPONFORK:
      return setFlags((f) => f & ~VM_WIPEONFORK);
    default:
      return 0;
  }
}

/** MADV_FREE: clean the PTEs; a later write re-dirties (keeps) a page, reclaim drops clean ones. */
function markLazyfree(mm: Mm, start: number, end: number): void {
  const i32 = mm.k.phys.i32;
  for (let a = start; a < end; a += PAGE_SIZE) {
    const s = mm.pteSlot(a);
    if (s < 0) continue;
    const pte = i32[s];
    if (!(pte & PTE_P) || pte & PTE_SPECIAL) continue;
    i32[s] = pte & ~PTE_D;
    mm.lazyfree.add(a);
  }
  if (mm.lazyfree.size > 0) mm.k.noteLazyfree(mm);
  mm.mem.flushRange(start, end);
}

/**
 * brk: move the break. Returns the new break, or the old one on failure (the
 * raw syscall never returns an errno). `nozero` is brk2's BRK_NOZERO.
 */
export function doBrk(mm: Mm, brk: number, nozero: boolean): number {
  if (nozero && !(mm.brkFlags & VM_NOZERO)) {
    mm.brkFlags |= VM_NOZERO;
    const heapEnd = pageAlignUp(mm.brk);
    if (heapEnd > mm.startBrk) setFlagsRange(mm, mm.startBrk, heapEnd, (f) => f | VM_NOZERO);
  }
  if (brk < mm.startBrk || brk > TASK_SIZE) return mm.brk;
  const newbrk = pageAlignUp(brk);
  const oldbrk = pageAlignUp(mm.brk);
  if (newbrk === oldbrk) {
    mm.brk = brk;
    return brk;
  }
  if (brk <= mm.brk) {
    if (unmapRange(mm, newbrk, oldbrk) < 0) return mm.brk;
    mm.brk = brk;
    return brk;
  }
  const next = mm.vmas.find(oldbrk);
  if (next !== null && newbrk + PAGE_SIZE > vmStartGap(next, STACK_GUARD_GAP)) return mm.brk;
  const flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT | mm.brkFlags;
  if (mmapRegion(mm, oldbrk, newbrk - oldbrk, flags, null, oldbrk >>> PAGE_SHIFT) < 0) return mm.brk;
  mm.brk = brk;
  return brk;
}
