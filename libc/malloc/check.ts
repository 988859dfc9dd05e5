// Heap consistency checks (glibc's do_check_malloc_state, as a walk): every
// chunk of every arena is well formed, free chunks are coalesced, binned and
// footed, and the walk ends exactly at top. Used by the tests after every step.

import * as L from "./layout.ts";
import type { Malloc } from "./malloc.ts";

export interface HeapChunk {
  p: number;
  size: number;
  /** In use as far as the boundary tags say (fastbin and tcache chunks count as in use). */
  inuse: boolean;
}

/** Walk every arena; returns the chunks in address order and any inconsistency found. */
export function checkHeap(m: Malloc): { chunks: HeapChunk[]; errors: string[] } {
  const mem = m.mem;
  const errors: string[] = [];
  const chunks: HeapChunk[] = [];
  let av = m.av0;
  do {
    const binned = binnedChunks(m, av, errors);
    const top = mem.readU32(av + L.AV_TOP);
    const regions: [number, number][] = [];
    if (av === m.av0) {
      const base = m.g(L.MP_SBRK_BASE);
      if (base !== 0 && !(mem.readU32(av + L.AV_FLAGS) & L.NONCONTIGUOUS_BIT)) {
        const first = base + ((16 - ((base + L.CHUNK_HDR_SZ) & L.MALLOC_ALIGN_MASK)) & L.MALLOC_ALIGN_MASK);
        regions.push([first, top]);
      }
    } else {
      // Heaps from the newest (holding top) back along prev; the first holds the arena itself.
      const heaps: number[] = [];
      for (let h = (top & ~(L.HEAP_MAX_SIZE - 1)) >>> 0; h !== 0; h = mem.readU32(h + L.HI_PREV)) heaps.unshift(h);
      heaps.forEach((h, i) => {
        let start = h + L.SIZEOF_HEAP_INFO + (i === 0 ? L.SIZEOF_MALLOC_STATE : 0);
        const mis = (start + L.CHUNK_HDR_SZ) & L.MALLOC_ALIGN_MASK;
        if (mis) start += L.MALLOC_ALIGNMENT - mis;
        regions.push([start, i === heaps.length - 1 ? top : h + mem.readU32(h + L.HI_SIZE)]);
      });
    }
    for (const [start, end] of regions) {
      // After a foreign sbrk the main heap has gaps, each behind a fencepost pair
      // (sysmalloc): the walk resumes at the next chunk it knows of, a binned one or top.
      let from = start;
      for (let gap = walkRegion(m, from, end, end === top, binned, chunks, errors); gap !== 0; gap = walkRegion(m, from, end, end === top, binned, chunks, errors)) {
        from = Math.min(end, ...[...binned].filter((c) => c > gap));
      }
    }
    for (const p of binned) if (!chunks.some((c) => c.p === p)) errors.push(`binned chunk ${hex(p)} not found in the heap walk`);
    const topSize = mem.readU32(top + L.F_SIZE) & ~L.SIZE_BITS;
    if (top !== L.unsortedChunks(av) && topSize < L.MINSIZE) errors.push(`top ${hex(top)} smaller than MINSIZE`);
    av = mem.readU32(av + L.AV_NEXT);
  } while (av !== m.av0 && av !== 0);
  return { chunks, errors };
}

function hex(x: number): string {
  return "0x" + (x >>> 0).toString(16);
}

/** Chunks on the regular bins, with their list links checked. */
function binnedChunks(m: Malloc, av: number, errors: string[]): Set<number> {
  const mem = m.mem;
  const set = new Set<number>();
  for (let i = 1; i < L.NBINS; i++) {
    const b = L.binAt(av, i);
    let guard = 0;
    for (let p = mem.readU32(b + L.F_FD); p !== b; p = mem.readU32(p + L.F_FD)) {
      if (mem.readU32(mem.readU32(p + L.F_FD) + L.F_BK) !== p) errors.push(`bin ${i}: ${hex(p)}->fd->bk broken`);
      const size = mem.readU32(p + L.F_SIZE) & ~L.SIZE_BITS;
      if (i > 1 && L.binIndex(size) !== i) errors.push(`bin ${i}: chunk ${hex(p)} of size ${size} belongs in bin ${L.binIndex(size)}`);
      set.add(p);
      if (++guard > 1_000_000) {
        errors.push(`bin ${i}: list does not end`);
        break;
      }
    }
  }
  return set;
}

/** Walk [start, end); returns the address past a fencepost pair that ends the walk early (a foreign sbrk's gap), or 0. */
function walkRegion(m: Malloc, start: number, end: number, endsAtTop: boolean, binned: Set<number>, out: HeapChunk[], errors: string[]): number {
  const mem = m.mem;
  let prevFree = false;
  let p = start;
  while (p < end) {
    const head = mem.readU32(p + L.F_SIZE);
    const size = head & ~L.SIZE_BITS;
    if (size === 0 || size & L.MALLOC_ALIGN_MASK) {
      // A fencepost (size 8 or 0) ends a region of a non-main heap.
      if (!endsAtTop && size <= L.CHUNK_HDR_SZ) return 0;
      if (size === L.CHUNK_HDR_SZ && (mem.readU32(p + L.CHUNK_HDR_SZ + L.F_SIZE) & ~L.SIZE_BITS) === L.CHUNK_HDR_SZ) return p + 2 * L.CHUNK_HDR_SZ;
      errors.push(`chunk ${hex(p)} has bad size ${size}`);
      return 0;
    }
    const next = p + size;
    const inuse = (mem.readU32(next + L.F_SIZE) & L.PREV_INUSE) !== 0;
    if (!inuse) {
      if (prevFree) errors.push(`two free chunks side by side at ${hex(p)}`);
      if (mem.readU32(next + L.F_PREV_SIZE) !== size) errors.push(`free chunk ${hex(p)}: foot ${mem.readU32(next)} != size ${size}`);
      if (!binned.has(p)) errors.push(`free chunk ${hex(p)} is on no bin`);
      if (size < L.MINSIZE) errors.push(`free chunk ${hex(p)} smaller than MINSIZE`);
    }
    if (((head & L.PREV_INUSE) === 0) !== prevFree && p !== start) errors.push(`chunk ${hex(p)}: PREV_INUSE does not match the previous chunk`);
    out.push({ p, size, inuse });
    prevFree = !inuse;
    p = next;
  }
  if (endsAtTop && p !== end) errors.push(`walk overran top: ended at ${hex(p)}, top at ${hex(end)}`);
  return 0;
}
