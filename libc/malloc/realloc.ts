// realloc and memalign's cores: _int_realloc (shrink in place, grow into top
// or a free neighbour, else malloc-copy-free), mremap_chunk for mmapped
// chunks, and _int_memalign (over-allocate, give back the leader and tail).

import { MAP_FAILED, MREMAP_MAYMOVE } from "../../kernel/mman.ts";
import { NON_MAIN_ARENA_FLAG, isMainArena } from "./arena.ts";
import { intFree, intMalloc, unlinkChunk } from "./int_malloc.ts";
import * as L from "./layout.ts";
import type { Malloc } from "./malloc.ts";

/** _int_realloc: the new mem for oldp resized to nb, or 0 (oldp untouched). */
export function intRealloc(m: Malloc, av: number, oldp: number, oldsize: number, nb: number): number {
  const mem = m.mem;
  const flag = isMainArena(m, av) ? 0 : NON_MAIN_ARENA_FLAG;
  const systemMem = mem.readU32(av + L.AV_SYSTEM_MEM);
  if (mem.readU32(oldp + L.F_SIZE) <= L.CHUNK_HDR_SZ || oldsize >= systemMem) m.printerr("realloc(): invalid old size");
  const next = oldp + oldsize;
  const nextHead = mem.readU32(next + L.F_SIZE);
  const nextsize = (nextHead & ~L.SIZE_BITS) >>> 0;
  if (nextHead <= L.CHUNK_HDR_SZ || nextsize >= systemMem) m.printerr("realloc(): invalid next size");
  let newp = oldp;
  let newsize = oldsize;
  if (oldsize < nb) {
    const top = mem.readU32(av + L.AV_TOP);
    if (next === top && oldsize + nextsize >= nb + L.MINSIZE) {
      // Grow into top.
      newsize = oldsize + nextsize;
      setHeadSize(m, oldp, nb | flag);
      mem.write32(av + L.AV_TOP, oldp + nb);
      mem.write32(oldp + nb + L.F_SIZE, (newsize - nb) | L.PREV_INUSE);
      return oldp + L.CHUNK_HDR_SZ;
    }
    // inuse(next) reads the chunk after next, so only when next is not top.
    if (next !== top && !(mem.readU32(next + nextsize + L.F_SIZE) & L.PREV_INUSE) && oldsize + nextsize >= nb) {
      newsize = oldsize + nextsize;
      unlinkChunk(m, next);
    } else {
      const newmem = intMalloc(m, av, nb - L.MALLOC_ALIGN_MASK);
      if (newmem === 0) return 0;
      const np = newmem - L.CHUNK_HDR_SZ;
      if (np === next) {
        // The new chunk is the one right after: merge without copying.
        newsize = (mem.readU32(np + L.F_SIZE) & ~L.SIZE_BITS) + oldsize;
        newp = oldp;
      } else {
        mem.memcpy(newmem, oldp + L.CHUNK_HDR_SZ, oldsize - L.CHUNK_HDR_SZ + L.SIZE_SZ);
        intFree(m, av, oldp, true);
        return newmem;
      }
    }
  }
  const remainderSize = newsize - nb;
  if (remainderSize < L.MINSIZE) {
    setHeadSize(m, newp, newsize | flag);
    setInuse(m, newp, newsize);
  } else {
    const remainder = newp + nb;
    setHeadSize(m, newp, nb | flag);
    mem.write32(remainder + L.F_SIZE, remainderSize | L.PREV_INUSE | flag);
    setInuse(m, remainder, remainderSize);
    intFree(m, av, remainder, true);
  }
  return newp + L.CHUNK_HDR_SZ;
}

/** set_head_size: the size, keeping the flag bits. */
function setHeadSize(m: Malloc, p: number, s: number): void {
  m.mem.write32(p + L.F_SIZE, (m.mem.readU32(p + L.F_SIZE) & L.SIZE_BITS) | s);
}

function setInuse(m: Malloc, p: number, s: number): void {
  const a = p + s + L.F_SIZE;
  m.mem.write32(a, m.mem.readU32(a) | L.PREV_INUSE);
}

/** mremap_chunk: resize an mmapped chunk's mapping; the (possibly moved) chunk, or 0. */
export function mremapChunk(m: Malloc, p: number, nb: number): number {
  const mem = m.mem;
  const offset = mem.readU32(p + L.F_PREV_SIZE);
  const size = mem.readU32(p + L.F_SIZE) & ~L.SIZE_BITS;
  const block = p - offset;
  const total = offset + size;
  const pageOff = (p + L.CHUNK_HDR_SZ) & (L.PAGESIZE - 1);
  if ((block | total) & (L.PAGESIZE - 1) || pageOff & (pageOff - 1)) m.printerr("mremap_chunk(): invalid pointer");
  const newSize = Math.ceil((nb + offset + L.SIZE_SZ) / L.PAGESIZE) * L.PAGESIZE;
  if (total === newSize) return p;
  const cp = m.libc.mremap(block, total, newSize, MREMAP_MAYMOVE);
  if (cp === MAP_FAILED) return 0;
  const np = cp + offset;
  mem.write32(np + L.F_SIZE, (newSize - offset) | L.IS_MMAPPED);
  const sum = m.g(L.MP_MMAPPED_MEM) + newSize - size - offset;
  m.setG(L.MP_MMAPPED_MEM, sum);
  if (sum > m.g(L.MP_MAX_MMAPPED_MEM)) m.setG(L.MP_MAX_MMAPPED_MEM, sum);
  return np;
}

/** _int_memalign: a chunk of `bytes` whose mem is a multiple of `alignment` (a power of two > 16). */
export function intMemalign(m: Malloc, av: number, alignment: number, bytes: number): number {
  const mem = m.mem;
  const nb = L.request2size(bytes);
  if (nb === 0 || nb > 0xffffffff - alignment - L.MINSIZE) return 0;
  const flag = isMainArena(m, av) ? 0 : NON_MAIN_ARENA_FLAG;
  const mm = intMalloc(m, av, nb + alignment + L.MINSIZE);
  if (mm === 0) return 0;
  let p = mm - L.CHUNK_HDR_SZ;
  if (mm % alignment !== 0) {
    let brk = Math.ceil(mm / alignment) * alignment - L.CHUNK_HDR_SZ;
    if (brk - p < L.MINSIZE) brk += alignment;
    const newp = brk;
    const leadsize = brk - p;
    const head = mem.readU32(p + L.F_SIZE);
    const newsize = (head & ~L.SIZE_BITS) - leadsize;
    if (head & L.IS_MMAPPED) {
      mem.write32(newp + L.F_PREV_SIZE, mem.readU32(p + L.F_PREV_SIZE) + leadsize);
      mem.write32(newp + L.F_SIZE, newsize | L.IS_MMAPPED);
      return newp + L.CHUNK_HDR_SZ;
    }
    mem.write32(newp + L.F_SIZE, newsize | L.PREV_INUSE | flag);
    setInuse(m, newp, newsize);
    setHeadSize(m, p, leadsize | flag);
    intFree(m, av, p, true);
    p = newp;
  }
  const head = mem.readU32(p + L.F_SIZE);
  if (!(head & L.IS_MMAPPED)) {
    const size = head & ~L.SIZE_BITS;
    if (size > nb + L.MINSIZE) {
      const remainder = p + nb;
      mem.write32(remainder + L.F_SIZE, (size - nb) | L.PREV_INUSE | flag);
      setHeadSize(m, p, nb);
      intFree(m, av, remainder, true);
    }
  }
  return p + L.CHUNK_HDR_SZ;
}
