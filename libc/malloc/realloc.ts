// realloc and memalign's cores: _int_realloc (shrink in place, grow into top
// or a free neighbour, else malloc-copy-free), mremap_chunk for mmapped
// chunks, and _int_memalign (over-allocate, give back the leader and tail).

import { MAP_FAILED, MREMAP_MAYMOVE } from "../../kernel/mman.ts";
import { NON_MAIN_ARENA_FLAG, isMainArena } from "./arena.ts";
import { intFree, intMalloc, unlinkChunk } from "./int_malloc.ts";
import * as L from "./layout.ts";
import type { Malloc } from "./malloc.ts";

// Layout constants as module locals: V8 would load an imported one through its
// module cell at every use, and that costs the hot paths about 7%.
const {
  AV_SYSTEM_MEM, AV_TOP, CHUNK_HDR_SZ, F_PREV_SIZE, F_SIZE, IS_MMAPPED, MALLOC_ALIGN_MASK, MINSIZE, MP_MAX_MMAPPED_MEM,
  MP_MMAPPED_MEM, PAGESIZE, PREV_INUSE, SIZE_BITS, SIZE_SZ,
} = L;

/** _int_realloc: the new mem for oldp resized to nb, or 0 (oldp untouched). */
export function intRealloc(m: Malloc, av: number, oldp: number, oldsize: number, nb: number): number {
  const mem = m.mem;
  const flag = isMainArena(m, av) ? 0 : NON_MAIN_ARENA_FLAG;
  const systemMem = mem.readU32(av + AV_SYSTEM_MEM);
  if (mem.readU32(oldp + F_SIZE) <= CHUNK_HDR_SZ || oldsize >= systemMem) m.printerr("realloc(): invalid old size");
  const next = oldp + oldsize;
  const nextHead = mem.readU32(next + F_SIZE);
  const nextsize = (nextHead & ~SIZE_BITS) >>> 0;
  if (nextHead <= CHUNK_HDR_SZ || nextsize >= systemMem) m.printerr("realloc(): invalid next size");
  let newp = oldp;
  let newsize = oldsize;
  if (oldsize < nb) {
    const top = mem.readU32(av + AV_TOP);
    if (next === top && oldsize + nextsize >= nb + MINSIZE) {
      // Grow into top.
      newsize = oldsize + nextsize;
      setHeadSize(m, oldp, nb | flag);
      mem.write32(av + AV_TOP, oldp + nb);
      mem.write32(oldp + nb + F_SIZE, (newsize - nb) | PREV_INUSE);
      return oldp + CHUNK_HDR_SZ;
    }
    // inuse(next) reads the chunk after next, so only when next is not top.
    if (next !== top && !(mem.readU32(next + nextsize + F_SIZE) & PREV_INUSE) && oldsize + nextsize >= nb) {
      newsize = oldsize + nextsize;
      unlinkChunk(m, next);
    } else {
      const newmem = intMalloc(m, av, nb - MALLOC_ALIGN_MASK);
      if (newmem === 0) return 0;
      const np = newmem - CHUNK_HDR_SZ;
      if (np === next) {
        // The new chunk is the one right after: merge without copying.
        newsize = (mem.readU32(np + F_SIZE) & ~SIZE_BITS) + oldsize;
        newp = oldp;
      } else {
        mem.memcpy(newmem, oldp + CHUNK_HDR_SZ, oldsize - CHUNK_HDR_SZ + SIZE_SZ);
        intFree(m, av, oldp, true);
        return newmem;
      }
    }
  }
  const remainderSize = newsize - nb;
  if (remainderSize < MINSIZE) {
    setHeadSize(m, newp, newsize | flag);
    setInuse(m, newp, newsize);
  } else {
    const remainder = newp + nb;
    setHeadSize(m, newp, nb | flag);
    mem.write32(remainder + F_SIZE, remainderSize | PREV_INUSE | flag);
    setInuse(m, remainder, remainderSize);
    intFree(m, av, remainder, true);
  }
  return newp + CHUNK_HDR_SZ;
}

/** set_head_size: the size, keeping the flag bits. */
function setHeadSize(m: Malloc, p: number, s: number): void {
  m.mem.write32(p + F_SIZE, (m.mem.readU32(p + F_SIZE) & SIZE_BITS) | s);
}

function setInuse(m: Malloc, p: number, s: number): void {
  const a = p + s + F_SIZE;
  m.mem.write32(a, m.mem.readU32(a) | PREV_INUSE);
}

/** mremap_chunk: resize an mmapped chunk's mapping; the (possibly moved) chunk, or 0. */
export function mremapChunk(m: Malloc, p: number, nb: number): number {
  const mem = m.mem;
  const offset = mem.readU32(p + F_PREV_SIZE);
  const size = mem.readU32(p + F_SIZE) & ~SIZE_BITS;
  const block = p - offset;
  const total = offset + size;
  const pageOff = (p + CHUNK_HDR_SZ) & (PAGESIZE - 1);
  if ((block | total) & (PAGESIZE - 1) || pageOff & (pageOff - 1)) m.printerr("mremap_chunk(): invalid pointer");
  const newSize = Math.ceil((nb + offset + SIZE_SZ) / PAGESIZE) * PAGESIZE;
  if (total === newSize) return p;
  const cp = m.libc.mremap(block, total, newSize, MREMAP_MAYMOVE);
  if (cp === MAP_FAILED) return 0;
  const np = cp + offset;
  mem.write32(np + F_SIZE, (newSize - offset) | IS_MMAPPED);
  const sum = m.g(MP_MMAPPED_MEM) + newSize - size - offset;
  m.setG(MP_MMAPPED_MEM, sum);
  if (sum > m.g(MP_MAX_MMAPPED_MEM)) m.setG(MP_MAX_MMAPPED_MEM, sum);
  return np;
}

/** _int_memalign: a chunk of `bytes` whose mem is a multiple of `alignment` (a power of two > 16). */
export function intMemalign(m: Malloc, av: number, alignment: number, bytes: number): number {
  const mem = m.mem;
  const nb = L.request2size(bytes);
  if (nb === 0 || nb > 0xffffffff - alignment - MINSIZE) return 0;
  const flag = isMainArena(m, av) ? 0 : NON_MAIN_ARENA_FLAG;
  const mm = intMalloc(m, av, nb + alignment + MINSIZE);
  if (mm === 0) return 0;
  let p = mm - CHUNK_HDR_SZ;
  if (mm % alignment !== 0) {
    let brk = Math.ceil(mm / alignment) * alignment - CHUNK_HDR_SZ;
    if (brk - p < MINSIZE) brk += alignment;
    const newp = brk;
    const leadsize = brk - p;
    const head = mem.readU32(p + F_SIZE);
    const newsize = (head & ~SIZE_BITS) - leadsize;
    if (head & IS_MMAPPED) {
      mem.write32(newp + F_PREV_SIZE, mem.readU32(p + F_PREV_SIZE) + leadsize);
      mem.write32(newp + F_SIZE, newsize | IS_MMAPPED);
      return newp + CHUNK_HDR_SZ;
    }
    mem.write32(newp + F_SIZE, newsize | PREV_INUSE | flag);
    setInuse(m, newp, newsize);
    setHeadSize(m, p, leadsize | flag);
    intFree(m, av, p, true);
    p = newp;
  }
  const head = mem.readU32(p + F_SIZE);
  if (!(head & IS_MMAPPED)) {
    const size = head & ~SIZE_BITS;
    if (size > nb + MINSIZE) {
      const remainder = p + nb;
      mem.write32(remainder + F_SIZE, (size - nb) | PREV_INUSE | flag);
      setHeadSize(m, p, nb);
      intFree(m, av, remainder, true);
    }
  }
  return p + CHUNK_HDR_SZ;
}
