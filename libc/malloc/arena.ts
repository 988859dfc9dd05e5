// Arenas and heaps (glibc arena.c). The main arena lives in libc's data and
// grows by brk; each other arena lives at the start of a heap: a
// HEAP_MAX_SIZE-aligned region mapped PROT_NONE and made RW as it grows, so
// any chunk's heap (and so its arena) is found by masking its address.
// A thread gets an arena on its first malloc: a new one while there are
// fewer than the limit, else one reused round-robin.

import { MADV_DONTNEED, MAP_FAILED, MAP_NORESERVE, PROT_NONE, PROT_READ, PROT_WRITE } from "../../kernel/mman.ts";
import { unlinkChunk } from "./int_malloc.ts";
import * as L from "./layout.ts";
import type { Malloc } from "./malloc.ts";
import { mmapAnon } from "./sysmalloc.ts";

// Layout constants as module locals: V8 would load an imported one through its
// module cell at every use, and that costs the hot paths about 7%.
const {
  AV_ATTACHED, AV_FLAGS, AV_HAVE_FASTCHUNKS, AV_MAX_SYSTEM_MEM, AV_NEXT, AV_NEXT_FREE, AV_SYSTEM_MEM, AV_TOP,
  CHUNK_HDR_SZ, DEFAULT_MXFAST, F_BK, F_FD, F_PREV_SIZE, F_SIZE, G_ALIGNED_HEAP, G_FREE_LIST, G_MAX_FAST, G_NARENAS,
  G_NARENAS_LIMIT, G_NEXT_TO_USE, HEAP_MAX_SIZE, HEAP_MIN_SIZE, HI_AR_PTR, HI_MPROTECT_SIZE, HI_PAGESIZE, HI_PREV,
  HI_SIZE, MALLOC_ALIGNMENT, MALLOC_ALIGN_MASK, MINSIZE, MP_ARENA_MAX, MP_ARENA_TEST, MP_TOP_PAD, MP_TRIM_THRESHOLD,
  NARENAS_PER_CORE_32, NBINS, NONCONTIGUOUS_BIT, NON_MAIN_ARENA, PAGESIZE, PREV_INUSE, SIZEOF_HEAP_INFO,
  SIZEOF_MALLOC_STATE, SIZE_BITS, SIZE_SZ,
} = L;

export const NON_MAIN_ARENA_FLAG = NON_MAIN_ARENA;

export function isMainArena(m: Malloc, av: number): boolean {
  return av === m.av0;
}

export function heapForPtr(p: number): number {
  return (p & ~(HEAP_MAX_SIZE - 1)) >>> 0;
}

/** arena_for_chunk: the main arena, or the arena named in the chunk's heap_info. */
export function arenaForChunk(m: Malloc, p: number): number {
  if (!(m.mem.readU32(p + F_SIZE) & NON_MAIN_ARENA)) return m.av0;
  return m.mem.readU32(heapForPtr(p) + HI_AR_PTR);
}

/** malloc_init_state: empty bins, top = the unsorted bin's header (initial_top). */
export function mallocInitState(m: Malloc, av: number): void {
  const mem = m.mem;
  for (let i = 1; i < NBINS; i++) {
    const bin = L.binAt(av, i);
    mem.write32(bin + F_FD, bin);
    mem.write32(bin + F_BK, bin);
  }
  if (av !== m.av0) mem.write32(av + AV_FLAGS, mem.readU32(av + AV_FLAGS) | NONCONTIGUOUS_BIT);
  else {
    m.setG(G_MAX_FAST, L.maxFastFor(DEFAULT_MXFAST));
    mem.write32(av + AV_NEXT, av);
  }
  mem.write32(av + AV_HAVE_FASTCHUNKS, 0);
  mem.write32(av + AV_TOP, L.unsortedChunks(av));
}

/** arena_get: the thread's arena, or one chosen for it now. */
export function arenaGet(m: Malloc, bytes: number): number {
  const a = m.tls.arena;
  return a !== 0 ? a : arenaGet2(m, bytes, 0);
}

/** arena_get_retry: after a failure, the main arena, or another one if it was the main arena. */
export function arenaGetRetry(m: Malloc, av: number, bytes: number): number {
  return av !== m.av0 ? m.av0 : arenaGet2(m, bytes, av);
}

/** arena_get2: a free arena, a new arena while under the limit, else a reused one. */
function arenaGet2(m: Malloc, size: number, avoid: number): number {
  const free = m.g(G_FREE_LIST);
  if (free !== 0) {
    m.setG(G_FREE_LIST, m.mem.readU32(free + AV_NEXT_FREE));
    attach(m, free);
    return free;
  }
  let limit = m.g(G_NARENAS_LIMIT);
  const narenas = m.g(G_NARENAS);
  if (limit === 0) {
    if (m.g(MP_ARENA_MAX) !== 0) limit = m.g(MP_ARENA_MAX);
    else if (narenas > m.g(MP_ARENA_TEST)) limit = NARENAS_PER_CORE_32 * nprocs(m);
    m.setG(G_NARENAS_LIMIT, limit);
  }
  // (narenas <= limit - 1, with glibc's unsigned wrap when the limit is still 0)
  if (limit === 0 || narenas <= limit - 1) {
    m.setG(G_NARENAS, narenas + 1);
    const a = intNewArena(m, size);
    if (a !== 0) return a;
    m.setG(G_NARENAS, narenas);
  }
  return reusedArena(m, avoid);
}

/** __get_nprocs through sched_getaffinity's CPU mask. */
function nprocs(m: Malloc): number {
  const buf = m.libc.dataBase;
  const n = m.libc.syscall(242, 0, 128, buf);
  if (n <= 0) return 1;
  let cpus = 0;
  for (let i = 0; i < n; i++) {
    let b = m.mem.read8(buf + i);
    while (b) {
      cpus += b & 1;
      b >>= 1;
    }
  }
  return cpus || 1;
}

function attach(m: Malloc, av: number): void {
  m.mem.write32(av + AV_ATTACHED, m.mem.readU32(av + AV_ATTACHED) + 1);
  m.tls.arena = av;
}

/** reused_arena: the next arena in the ring (every trylock succeeds in a single JS thread). */
function reusedArena(m: Malloc, avoid: number): number {
  let result = m.g(G_NEXT_TO_USE) || m.av0;
  if (result === avoid) result = m.mem.readU32(result + AV_NEXT);
  attach(m, result);
  m.setG(G_NEXT_TO_USE, m.mem.readU32(result + AV_NEXT));
  return result;
}

/** _int_new_arena: a heap with the arena's malloc_state at its start; linked after main_arena. */
function intNewArena(m: Malloc, size: number): number {
  const mem = m.mem;
  const pad = m.g(MP_TOP_PAD);
  let h = newHeap(m, size + SIZEOF_HEAP_INFO + SIZEOF_MALLOC_STATE + MALLOC_ALIGNMENT, pad);
  if (h === 0) h = newHeap(m, SIZEOF_HEAP_INFO + SIZEOF_MALLOC_STATE + MALLOC_ALIGNMENT, pad);
  if (h === 0) return 0;
  const a = h + SIZEOF_HEAP_INFO;
  // glibc leaves the fastbins, binmap, last_remainder and flags of a new
  // arena as the fresh mmap gave them: zero. A MAP_NOZERO heap may hold old
  // bytes, so nozero clears the malloc_state first.
  if (m.nozero) mem.memset(a, 0, SIZEOF_MALLOC_STATE);
  mem.write32(h + HI_AR_PTR, a);
  mallocInitState(m, a);
  mem.write32(a + AV_ATTACHED, 1);
  const hsize = mem.readU32(h + HI_SIZE);
  mem.write32(a + AV_SYSTEM_MEM, hsize);
  mem.write32(a + AV_MAX_SYSTEM_MEM, hsize);
  let ptr = a + SIZEOF_MALLOC_STATE;
  const misalign = (ptr + CHUNK_HDR_SZ) & MALLOC_ALIGN_MASK;
  if (misalign > 0) ptr += MALLOC_ALIGNMENT - misalign;
  mem.write32(a + AV_TOP, ptr);
  mem.write32(ptr + F_SIZE, (h + hsize - ptr) | PREV_INUSE);
  mem.write32(a + AV_NEXT, mem.readU32(m.av0 + AV_NEXT));
  mem.write32(m.av0 + AV_NEXT, a);
  m.tls.arena = a;
  return a;
}

/**
 * new_heap: a HEAP_MAX_SIZE-aligned region, PROT_NONE except its first
 * `size + top_pad` bytes (at least HEAP_MIN_SIZE); 0 if none can be mapped.
 */
export function newHeap(m: Malloc, size: number, topPad: number): number {
  if (size + topPad < HEAP_MIN_SIZE) size = HEAP_MIN_SIZE;
  else if (size + topPad <= HEAP_MAX_SIZE) size += topPad;
  else if (size > HEAP_MAX_SIZE) return 0;
  else size = HEAP_MAX_SIZE;
  size = Math.ceil(size / PAGESIZE) * PAGESIZE;
  const libc = m.libc;
  let p2 = MAP_FAILED;
  const aligned = m.g(G_ALIGNED_HEAP);
  if (aligned !== 0) {
    p2 = mmapAnon(m, aligned, HEAP_MAX_SIZE, PROT_NONE, MAP_NORESERVE);
    m.setG(G_ALIGNED_HEAP, 0);
    if (p2 !== MAP_FAILED && p2 & (HEAP_MAX_SIZE - 1)) {
      libc.munmap(p2, HEAP_MAX_SIZE);
      p2 = MAP_FAILED;
    }
  }
  if (p2 === MAP_FAILED) {
    const p1 = mmapAnon(m, 0, HEAP_MAX_SIZE * 2, PROT_NONE, MAP_NORESERVE);
    if (p1 !== MAP_FAILED) {
      p2 = (p1 + HEAP_MAX_SIZE - 1) & ~(HEAP_MAX_SIZE - 1);
      p2 >>>= 0;
      const ul = p2 - p1;
      if (ul) libc.munmap(p1, ul);
      else m.setG(G_ALIGNED_HEAP, p2 + HEAP_MAX_SIZE);
      libc.munmap(p2 + HEAP_MAX_SIZE, HEAP_MAX_SIZE - ul);
    } else {
      p2 = mmapAnon(m, 0, HEAP_MAX_SIZE, PROT_NONE, MAP_NORESERVE);
      if (p2 === MAP_FAILED) return 0;
      if (p2 & (HEAP_MAX_SIZE - 1)) {
        libc.munmap(p2, HEAP_MAX_SIZE);
        return 0;
      }
    }
  }
  if (libc.mprotect(p2, size, PROT_READ | PROT_WRITE) !== 0) {
    libc.munmap(p2, HEAP_MAX_SIZE);
    return 0;
  }
  const mem = m.mem;
  // glibc relies on a fresh mapping for h->prev = NULL (only sysmalloc sets
  // it); a MAP_NOZERO heap may hold old bytes, so nozero clears heap_info.
  if (m.nozero) mem.memset(p2, 0, SIZEOF_HEAP_INFO);
  mem.write32(p2 + HI_SIZE, size);
  mem.write32(p2 + HI_MPROTECT_SIZE, size);
  mem.write32(p2 + HI_PAGESIZE, PAGESIZE);
  return p2;
}

/** grow_heap: make `diff` more bytes of the heap usable; 0, or negative on failure. */
export function growHeap(m: Malloc, h: number, diff: number): number {
  const mem = m.mem;
  diff = Math.ceil(diff / PAGESIZE) * PAGESIZE;
  const newSize = mem.readU32(h + HI_SIZE) + diff;
  if (newSize > HEAP_MAX_SIZE) return -1;
  const prot = mem.readU32(h + HI_MPROTECT_SIZE);
  if (newSize > prot) {
    if (m.libc.mprotect(h + prot, newSize - prot, PROT_READ | PROT_WRITE) !== 0) return -2;
    mem.write32(h + HI_MPROTECT_SIZE, newSize);
  }
  mem.write32(h + HI_SIZE, newSize);
  return 0;
}

/** shrink_heap: release the heap's tail with MADV_DONTNEED (overcommit allows it). */
function shrinkHeap(m: Malloc, h: number, diff: number): number {
  const newSize = m.mem.readU32(h + HI_SIZE) - diff;
  if (newSize < SIZEOF_HEAP_INFO) return -1;
  m.libc.madvise(h + newSize, diff, MADV_DONTNEED);
  m.mem.write32(h + HI_SIZE, newSize);
  return 0;
}

function deleteHeap(m: Malloc, h: number): void {
  if (h + HEAP_MAX_SIZE === m.g(G_ALIGNED_HEAP)) m.setG(G_ALIGNED_HEAP, 0);
  m.libc.munmap(h, HEAP_MAX_SIZE);
}

/** heap_trim for the heap holding av's top. */
export function heapTrimForArena(m: Malloc, av: number, pad: number): number {
  return heapTrim(m, heapForPtr(m.mem.readU32(av + AV_TOP)), pad);
}

/**
 * heap_trim: unmap whole heaps whose only chunk is top, then shrink the last
 * heap's top above trim_threshold, keeping `pad`.
 */
function heapTrim(m: Malloc, heap: number, pad: number): number {
  const mem = m.mem;
  const av = mem.readU32(heap + HI_AR_PTR);
  let top = mem.readU32(av + AV_TOP);
  while (top === heap + SIZEOF_HEAP_INFO) {
    const prevHeap = mem.readU32(heap + HI_PREV);
    if (prevHeap === 0) break;
    const prevSize = mem.readU32(prevHeap + HI_SIZE) - (MINSIZE - 2 * SIZE_SZ);
    let p = prevHeap + prevSize;
    const misalign = p & MALLOC_ALIGN_MASK;
    p = prevHeap + prevSize - misalign;
    // p is the fencepost; the chunk before it is the old top's remains.
    p -= mem.readU32(p + F_PREV_SIZE);
    let newSize = (mem.readU32(p + F_SIZE) & ~SIZE_BITS) + (MINSIZE - 2 * SIZE_SZ) + misalign;
    if (!(mem.readU32(p + F_SIZE) & PREV_INUSE)) newSize += mem.readU32(p + F_PREV_SIZE);
    if (newSize + (HEAP_MAX_SIZE - mem.readU32(prevHeap + HI_SIZE)) < m.g(MP_TRIM_THRESHOLD) + MINSIZE + pad) break;
    mem.write32(av + AV_SYSTEM_MEM, mem.readU32(av + AV_SYSTEM_MEM) - mem.readU32(heap + HI_SIZE));
    deleteHeap(m, heap);
    heap = prevHeap;
    if (!(mem.readU32(p + F_SIZE) & PREV_INUSE)) {
      p -= mem.readU32(p + F_PREV_SIZE);
      unlinkChunk(m, p);
    }
    mem.write32(av + AV_TOP, p);
    top = p;
    mem.write32(top + F_SIZE, newSize | PREV_INUSE);
  }
  const topSize = mem.readU32(top + F_SIZE) & ~SIZE_BITS;
  if (topSize < m.g(MP_TRIM_THRESHOLD)) return 0;
  const topArea = topSize - MINSIZE - 1;
  if (topArea < 0 || topArea <= pad) return 0;
  const extra = Math.floor((topArea - pad) / PAGESIZE) * PAGESIZE;
  if (extra === 0) return 0;
  if (shrinkHeap(m, heap, extra) !== 0) return 0;
  mem.write32(av + AV_SYSTEM_MEM, mem.readU32(av + AV_SYSTEM_MEM) - extra);
  mem.write32(top + F_SIZE, (topSize - extra) | PREV_INUSE);
  return 1;
}

/** arena_thread_freeres: a thread that exits detaches from its arena; an unused arena goes on the free list. */
export function arenaThreadFreeres(m: Malloc): void {
  const a = m.tls.arena;
  if (a === 0) return;
  m.tls.arena = 0;
  const n = m.mem.readU32(a + AV_ATTACHED) - 1;
  m.mem.write32(a + AV_ATTACHED, n);
  if (n === 0) {
    m.mem.write32(a + AV_NEXT_FREE, m.g(G_FREE_LIST));
    m.setG(G_FREE_LIST, a);
  }
}
