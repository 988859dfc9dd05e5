// Getting memory from the kernel and giving it back: sysmalloc (grow the
// main heap by brk, or a thread's heap, or mmap a chunk of its own),
// systrim (lower the break), munmap_chunk, and malloc_trim's per-arena work.
// With MALLOC_NOZERO the heap grows by brk2(..., BRK_NOZERO) and mappings
// carry MAP_NOZERO.

import { BRK_NOZERO, MADV_DONTNEED, MAP_ANONYMOUS, MAP_FAILED, MAP_NOZERO, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../../kernel/mman.ts";
import { NR } from "../../kernel/unistd.ts";
import { NON_MAIN_ARENA_FLAG, growHeap, heapForPtr, isMainArena, newHeap } from "./arena.ts";
import { intFree, mallocConsolidate } from "./int_malloc.ts";
import * as L from "./layout.ts";
import type { Malloc } from "./malloc.ts";

const ENOMEM = 12;

function alignUp(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

/** mmap with the allocator's flags: MAP_NOZERO in no-zero mode. */
export function mmapAnon(m: Malloc, addr: number, len: number, prot: number, extra = 0): number {
  const flags = MAP_PRIVATE | MAP_ANONYMOUS | extra | (m.nozero ? MAP_NOZERO : 0);
  return m.libc.mmap(addr, len, prot, flags);
}

/**
 * MORECORE (glibc's sbrk): move the break by incr; the old break, or 0 on
 * failure (MORECORE_FAILURE). The break is cached as __curbrk does.
 */
export function morecore(m: Malloc, incr: number): number {
  const libc = m.libc;
  let cur = m.g(L.G_CURBRK);
  if (cur === 0) {
    cur = libc.ctx.syscall(NR.brk, 0) >>> 0;
    m.setG(L.G_CURBRK, cur);
  }
  if (incr === 0) return cur;
  const want = cur + incr;
  if (want < 0 || want > 0xffffffff) return 0;
  const got = m.nozero ? libc.brk2(want, BRK_NOZERO) : libc.ctx.syscall(NR.brk, want) >>> 0;
  if (got === -1) return 0;
  m.setG(L.G_CURBRK, got);
  if (got !== want) {
    libc.errno = ENOMEM;
    return 0;
  }
  return cur;
}

/** sysmalloc_mmap: a chunk of its own, in its own mapping; its mem, or 0. */
function sysmallocMmap(m: Malloc, nb: number): number {
  const mem = m.mem;
  const size = alignUp(nb + L.SIZE_SZ + L.MALLOC_ALIGN_MASK, L.PAGESIZE);
  if (size <= nb) return 0;
  const mm = mmapAnon(m, 0, size, PROT_READ | PROT_WRITE);
  if (mm === MAP_FAILED) return 0;
  // mem must be 16-aligned: the chunk starts 8 bytes in, prev_size records the offset.
  const front = (mm + L.CHUNK_HDR_SZ) & L.MALLOC_ALIGN_MASK;
  const correction = front ? L.MALLOC_ALIGNMENT - front : 0;
  const p = mm + correction;
  mem.write32(p + L.F_PREV_SIZE, correction);
  mem.write32(p + L.F_SIZE, (size - correction) | L.IS_MMAPPED);
  const n = m.g(L.MP_N_MMAPS) + 1;
  m.setG(L.MP_N_MMAPS, n);
  if (n > m.g(L.MP_MAX_N_MMAPS)) m.setG(L.MP_MAX_N_MMAPS, n);
  const sum = m.g(L.MP_MMAPPED_MEM) + size;
  m.setG(L.MP_MMAPPED_MEM, sum);
  if (sum > m.g(L.MP_MAX_MMAPPED_MEM)) m.setG(L.MP_MAX_MMAPPED_MEM, sum);
  return p + L.CHUNK_HDR_SZ;
}

/** munmap_chunk: unmap an mmapped chunk after checking it really is one. */
export function munmapChunk(m: Malloc, p: number): void {
  const mem = m.mem;
  const size = mem.readU32(p + L.F_SIZE) & ~L.SIZE_BITS;
  const off = mem.readU32(p + L.F_PREV_SIZE);
  const block = p - off;
  const total = off + size;
  const pageOff = (p + L.CHUNK_HDR_SZ) & (L.PAGESIZE - 1);
  if ((block | total) & (L.PAGESIZE - 1) || pageOff & (pageOff - 1)) m.printerr("munmap_chunk(): invalid pointer");
  m.setG(L.MP_N_MMAPS, m.g(L.MP_N_MMAPS) - 1);
  m.setG(L.MP_MMAPPED_MEM, m.g(L.MP_MMAPPED_MEM) - total);
  m.libc.munmap(block, total);
}

/** sysmalloc: grow av (or mmap) to serve nb; the mem, or 0 with ENOMEM. */
export function sysmalloc(m: Malloc, nb: number, av: number): number {
  const prev = m.libc.enter(m.symSysmalloc);
  const r = sysmallocBody(m, nb, av);
  m.libc.leave(prev);
  return r;
}

function sysmallocBody(m: Malloc, nb: number, av: number): number {
  const mem = m.mem;
  let triedMmap = false;
  if (av === 0 || (nb >= m.g(L.MP_MMAP_THRESHOLD) && m.g(L.MP_N_MMAPS) < m.g(L.MP_N_MMAPS_MAX))) {
    const r = sysmallocMmap(m, nb);
    if (r !== 0) return r;
    triedMmap = true;
  }
  if (av === 0) return 0;

  const oldTop = mem.readU32(av + L.AV_TOP);
  let oldSize = mem.readU32(oldTop + L.F_SIZE) & ~L.SIZE_BITS;
  const oldEnd = oldTop + oldSize;

  if (!isMainArena(m, av)) {
    const oldHeap = heapForPtr(oldTop);
    const oldHeapSize = mem.readU32(oldHeap + L.HI_SIZE);
    if (L.MINSIZE + nb - oldSize > 0 && growHeap(m, oldHeap, L.MINSIZE + nb - oldSize) === 0) {
      const heapSize = mem.readU32(oldHeap + L.HI_SIZE);
      mem.write32(av + L.AV_SYSTEM_MEM, mem.readU32(av + L.AV_SYSTEM_MEM) + heapSize - oldHeapSize);
      mem.write32(oldTop + L.F_SIZE, (oldHeap + heapSize - oldTop) | L.PREV_INUSE);
    } else {
      const heap = newHeap(m, nb + (L.MINSIZE + L.SIZEOF_HEAP_INFO), m.g(L.MP_TOP_PAD));
      if (heap !== 0) {
        mem.write32(heap + L.HI_AR_PTR, av);
        mem.write32(heap + L.HI_PREV, oldHeap);
        const heapSize = mem.readU32(heap + L.HI_SIZE);
        mem.write32(av + L.AV_SYSTEM_MEM, mem.readU32(av + L.AV_SYSTEM_MEM) + heapSize);
        const top = heap + L.SIZEOF_HEAP_INFO;
        mem.write32(av + L.AV_TOP, top);
        mem.write32(top + L.F_SIZE, (heapSize - L.SIZEOF_HEAP_INFO) | L.PREV_INUSE);
        // Fence the old top: two fenceposts, the rest freed if big enough.
        oldSize = (oldSize - L.MINSIZE) & ~L.MALLOC_ALIGN_MASK;
        mem.write32(oldTop + oldSize + L.CHUNK_HDR_SZ + L.F_SIZE, 0 | L.PREV_INUSE);
        if (oldSize >= L.MINSIZE) {
          mem.write32(oldTop + oldSize + L.F_SIZE, L.CHUNK_HDR_SZ | L.PREV_INUSE);
          mem.write32(oldTop + oldSize + L.CHUNK_HDR_SZ, L.CHUNK_HDR_SZ);
          mem.write32(oldTop + L.F_SIZE, oldSize | L.PREV_INUSE | NON_MAIN_ARENA_FLAG);
          intFree(m, av, oldTop, true);
        } else {
          mem.write32(oldTop + L.F_SIZE, (oldSize + L.CHUNK_HDR_SZ) | L.PREV_INUSE);
          mem.write32(oldTop + oldSize + L.CHUNK_HDR_SZ, oldSize + L.CHUNK_HDR_SZ);
        }
      } else if (!triedMmap) {
        const r = sysmallocMmap(m, nb);
        if (r !== 0) return r;
      }
    }
  } else {
    growMainArena(m, av, nb, oldTop, oldSize, oldEnd);
  }

  const sys = mem.readU32(av + L.AV_SYSTEM_MEM);
  if (sys > mem.readU32(av + L.AV_MAX_SYSTEM_MEM)) mem.write32(av + L.AV_MAX_SYSTEM_MEM, sys);
  const p = mem.readU32(av + L.AV_TOP);
  const size = mem.readU32(p + L.F_SIZE) & ~L.SIZE_BITS;
  if (size >= nb + L.MINSIZE) {
    const remainder = p + nb;
    mem.write32(av + L.AV_TOP, remainder);
    mem.write32(p + L.F_SIZE, nb | L.PREV_INUSE | (isMainArena(m, av) ? 0 : NON_MAIN_ARENA_FLAG));
    mem.write32(remainder + L.F_SIZE, (size - nb) | L.PREV_INUSE);
    return p + L.CHUNK_HDR_SZ;
  }
  m.libc.errno = ENOMEM;
  return 0;
}

/** The main arena's growth by MORECORE, with the mmap fallback and glibc's alignment corrections. */
function growMainArena(m: Malloc, av: number, nb: number, oldTop: number, oldSize: number, oldEnd: number): void {
  const mem = m.mem;
  const contiguous = !(mem.readU32(av + L.AV_FLAGS) & L.NONCONTIGUOUS_BIT);
  let size = nb + m.g(L.MP_TOP_PAD) + L.MINSIZE;
  if (contiguous) size -= oldSize;
  size = alignUp(size, L.PAGESIZE);
  let brk = 0;
  let sndBrk = 0;
  if (size > 0) brk = morecore(m, size);
  if (brk === 0) {
    // MORECORE failed: fall back to mmap, and the arena is non-contiguous from now on.
    if (contiguous) size = alignUp(size + oldSize, L.PAGESIZE);
    if (size < L.MMAP_AS_MORECORE_SIZE) size = L.MMAP_AS_MORECORE_SIZE;
    if (size > nb) {
      const mbrk = mmapAnon(m, 0, size, PROT_READ | PROT_WRITE);
      if (mbrk !== MAP_FAILED) {
        brk = mbrk;
        sndBrk = brk + size;
        mem.write32(av + L.AV_FLAGS, mem.readU32(av + L.AV_FLAGS) | L.NONCONTIGUOUS_BIT);
      }
    }
  }
  if (brk === 0) return;
  if (m.g(L.MP_SBRK_BASE) === 0) m.setG(L.MP_SBRK_BASE, brk);
  mem.write32(av + L.AV_SYSTEM_MEM, mem.readU32(av + L.AV_SYSTEM_MEM) + size);
  const nowContiguous = !(mem.readU32(av + L.AV_FLAGS) & L.NONCONTIGUOUS_BIT);
  if (brk === oldEnd && sndBrk === 0) {
    mem.write32(oldTop + L.F_SIZE, (size + oldSize) | L.PREV_INUSE);
    return;
  }
  if (nowContiguous && oldSize !== 0 && brk < oldEnd) m.printerr("break adjusted to free malloc space");
  let correction = 0;
  let alignedBrk = brk;
  if (nowContiguous) {
    // Foreign sbrk or the first call: align the start, keep the end page aligned.
    if (oldSize !== 0) mem.write32(av + L.AV_SYSTEM_MEM, mem.readU32(av + L.AV_SYSTEM_MEM) + brk - oldEnd);
    const front = (brk + L.CHUNK_HDR_SZ) & L.MALLOC_ALIGN_MASK;
    if (front > 0) {
      correction = L.MALLOC_ALIGNMENT - front;
      alignedBrk += correction;
    }
    correction += oldSize;
    const endMisalign = brk + size + correction;
    correction += alignUp(endMisalign, L.PAGESIZE) - endMisalign;
    sndBrk = morecore(m, correction);
    if (sndBrk === 0) {
      correction = 0;
      sndBrk = morecore(m, 0);
    }
  } else {
    const front = (brk + L.CHUNK_HDR_SZ) & L.MALLOC_ALIGN_MASK;
    if (front > 0) alignedBrk += L.MALLOC_ALIGNMENT - front;
    if (sndBrk === 0) sndBrk = morecore(m, 0);
  }
  if (sndBrk === 0) return;
  mem.write32(av + L.AV_TOP, alignedBrk);
  mem.write32(alignedBrk + L.F_SIZE, (sndBrk - alignedBrk + correction) | L.PREV_INUSE);
  mem.write32(av + L.AV_SYSTEM_MEM, mem.readU32(av + L.AV_SYSTEM_MEM) + correction);
  if (oldSize !== 0) {
    // The old top cannot be merged: fence it off and free what is left of it.
    oldSize = (oldSize - 2 * L.CHUNK_HDR_SZ) & ~L.MALLOC_ALIGN_MASK;
    mem.write32(oldTop + L.F_SIZE, oldSize | L.PREV_INUSE);
    mem.write32(oldTop + oldSize + L.F_SIZE, L.CHUNK_HDR_SZ | L.PREV_INUSE);
    mem.write32(oldTop + oldSize + L.CHUNK_HDR_SZ + L.F_SIZE, L.CHUNK_HDR_SZ | L.PREV_INUSE);
    if (oldSize >= L.MINSIZE) intFree(m, av, oldTop, true);
  }
}

/** systrim: give the top of the main heap back by lowering the break, keeping `pad`. */
export function systrim(m: Malloc, pad: number, av: number): number {
  const mem = m.mem;
  const top = mem.readU32(av + L.AV_TOP);
  const topSize = mem.readU32(top + L.F_SIZE) & ~L.SIZE_BITS;
  const topArea = topSize - L.MINSIZE - 1;
  if (topArea <= pad) return 0;
  const extra = Math.floor((topArea - pad) / L.PAGESIZE) * L.PAGESIZE;
  if (extra === 0) return 0;
  const currentBrk = morecore(m, 0);
  if (currentBrk !== top + topSize) return 0;
  morecore(m, -extra);
  const newBrk = morecore(m, 0);
  if (newBrk === 0) return 0;
  const released = currentBrk - newBrk;
  if (released === 0) return 0;
  mem.write32(av + L.AV_SYSTEM_MEM, mem.readU32(av + L.AV_SYSTEM_MEM) - released);
  mem.write32(top + L.F_SIZE, (topSize - released) | L.PREV_INUSE);
  return 1;
}

/**
 * mtrim (malloc_trim for one arena): consolidate, MADV_DONTNEED every whole
 * page inside free chunks of the unsorted and page-sized-or-larger bins,
 * then trim the main heap's top.
 */
export function mtrimArena(m: Malloc, av: number, pad: number): number {
  const mem = m.mem;
  mallocConsolidate(m, av);
  const ps = L.PAGESIZE;
  const psindex = L.binIndex(ps);
  const sizeofChunk = 6 * L.SIZE_SZ;
  let result = 0;
  for (let i = 1; i < L.NBINS; i++) {
    if (i !== 1 && i < psindex) continue;
    const bin = L.binAt(av, i);
    for (let p = mem.readU32(bin + L.F_BK); p !== bin; p = mem.readU32(p + L.F_BK)) {
      let size = mem.readU32(p + L.F_SIZE) & ~L.SIZE_BITS;
      if (size <= ps - 1 + sizeofChunk) continue;
      const paligned = (p + sizeofChunk + ps - 1) & ~(ps - 1);
      size -= paligned - p;
      if (size > ps - 1) {
        m.libc.madvise(paligned >>> 0, size & ~(ps - 1), MADV_DONTNEED);
        result = 1;
      }
    }
  }
  return result | (isMainArena(m, av) ? systrim(m, pad, av) : 0);
}
