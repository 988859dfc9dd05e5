// The core of ptmalloc2: _int_malloc (fastbins, small bins, the unsorted
// scan, large bins, the binmap, top), _int_free (tcache, fastbins,
// coalescing into the unsorted bin or top), malloc_consolidate and
// unlink_chunk, with glibc's integrity checks and messages.
//
// The commonest steps also have a fast path (the *Fast functions) that works
// on physical memory when every word it touches is in the TLB, making the
// same stores and counting the same loads and stores; otherwise it changes
// nothing and the general code, through the accessor, does the step.

import { NON_MAIN_ARENA_FLAG, heapTrimForArena, isMainArena } from "./arena.ts";
import * as L from "./layout.ts";
import type { Malloc } from "./malloc.ts";
import { sysmalloc, systrim } from "./sysmalloc.ts";

// Layout constants as module locals: V8 would load an imported one through its
// module cell at every use, and that costs the hot paths about 7%.
const {
  AV_BINMAP, AV_FASTBINS, AV_FLAGS, AV_HAVE_FASTCHUNKS, AV_LAST_REMAINDER, AV_SYSTEM_MEM, AV_TOP, BINMAPSHIFT,
  BINMAPSIZE, CHUNK_HDR_SZ, FASTBIN_CONSOLIDATION_THRESHOLD, F_BK, F_BK_NEXTSIZE, F_FD, F_FD_NEXTSIZE, F_PREV_SIZE,
  F_SIZE, G_MAX_FAST, G_PERTURB, G_TCACHE_KEY, MALLOC_ALIGN_MASK, MINSIZE, MP_TCACHE_BINS, MP_TCACHE_COUNT,
  MP_TCACHE_UNSORTED_LIMIT, MP_TOP_PAD, MP_TRIM_THRESHOLD, NFASTBINS, NONCONTIGUOUS_BIT, PREV_INUSE, SIZE_BITS,
  TC_ENTRIES, TE_KEY, TE_NEXT,
} = L;

/** Per-pass bound on the unsorted scan (glibc's MAX_ITERS). */
const MAX_ITERS = 10000;

// ---- chunk field access (names follow glibc's macros) --------------------------------

function chunksize(m: Malloc, p: number): number {
  // Unsigned, as glibc's size_t: a corrupted size of 2 GiB or more must compare as large.
  return (m.mem.readU32(p + F_SIZE) & ~SIZE_BITS) >>> 0;
}
function fd(m: Malloc, p: number): number {
  return m.mem.readU32(p + F_FD);
}
function bk(m: Malloc, p: number): number {
  return m.mem.readU32(p + F_BK);
}
function setFd(m: Malloc, p: number, v: number): void {
  m.mem.write32(p + F_FD, v);
}
function setBk(m: Malloc, p: number, v: number): void {
  m.mem.write32(p + F_BK, v);
}
function setHead(m: Malloc, p: number, v: number): void {
  m.mem.write32(p + F_SIZE, v);
}
/** set_foot: the size into the next chunk's prev_size. */
function setFoot(m: Malloc, p: number, s: number): void {
  m.mem.write32(p + s, s);
}
function inuseBitAtOffset(m: Malloc, p: number, s: number): number {
  return m.mem.readU32(p + s + F_SIZE) & PREV_INUSE;
}
function setInuseBitAtOffset(m: Malloc, p: number, s: number): void {
  const a = p + s + F_SIZE;
  m.mem.write32(a, m.mem.readU32(a) | PREV_INUSE);
}
function clearInuseBitAtOffset(m: Malloc, p: number, s: number): void {
  const a = p + s + F_SIZE;
  m.mem.write32(a, m.mem.readU32(a) & ~PREV_INUSE);
}

function allocPerturb(m: Malloc, mem: number, n: number): void {
  const pb = m.g(G_PERTURB);
  if (pb !== 0) m.mem.memset(mem, (pb ^ 0xff) & 0xff, n);
}
export function freePerturb(m: Malloc, mem: number, n: number): void {
  const pb = m.g(G_PERTURB);
  if (pb !== 0) m.mem.memset(mem, pb & 0xff, n);
}

function markBin(m: Malloc, av: number, i: number): void {
  const a = av + AV_BINMAP + 4 * (i >>> BINMAPSHIFT);
  m.mem.write32(a, m.mem.read32(a) | (1 << (i & 31)));
}

/** unlink_chunk: take p out of its doubly linked bin (and the large-bin skip list). */
export function unlinkChunk(m: Malloc, p: number): void {
  const size = chunksize(m, p);
  if (size !== m.mem.readU32(p + size + F_PREV_SIZE)) m.printerr("corrupted size vs. prev_size");
  const f = fd(m, p);
  const b = bk(m, p);
  if (bk(m, f) !== p || fd(m, b) !== p) m.printerr("corrupted double-linked list");
  setBk(m, f, b);
  setFd(m, b, f);
  if (!L.inSmallbinRange(m.mem.readU32(p + F_SIZE)) && m.mem.readU32(p + F_FD_NEXTSIZE) !== 0) {
    const mem = m.mem;
    const pfn = mem.readU32(p + F_FD_NEXTSIZE);
    const pbn = mem.readU32(p + F_BK_NEXTSIZE);
    if (mem.readU32(pfn + F_BK_NEXTSIZE) !== p || mem.readU32(pbn + F_FD_NEXTSIZE) !== p) {
      m.printerr("corrupted double-linked list (not small)");
    }
    if (mem.readU32(f + F_FD_NEXTSIZE) === 0) {
      if (pfn === p) {
        mem.write32(f + F_FD_NEXTSIZE, f);
        mem.write32(f + F_BK_NEXTSIZE, f);
      } else {
        mem.write32(f + F_FD_NEXTSIZE, pfn);
        mem.write32(f + F_BK_NEXTSIZE, pbn);
        mem.write32(pfn + F_BK_NEXTSIZE, f);
        mem.write32(pbn + F_FD_NEXTSIZE, f);
      }
    } else {
      mem.write32(pfn + F_BK_NEXTSIZE, pbn);
      mem.write32(pbn + F_FD_NEXTSIZE, pfn);
    }
  }
}

/** Put p (size, already headed) at the front of the unsorted bin. */
function toUnsortedFront(m: Malloc, av: number, p: number, size: number, msg: string): void {
  const bck = L.unsortedChunks(av);
  const fwd = fd(m, bck);
  if (bk(m, fwd) !== bck) m.printerr(msg);
  setFd(m, p, fwd);
  setBk(m, p, bck);
  if (!L.inSmallbinRange(size)) {
    m.mem.write32(p + F_FD_NEXTSIZE, 0);
    m.mem.write32(p + F_BK_NEXTSIZE, 0);
  }
  setFd(m, bck, p);
  setBk(m, fwd, p);
}

/**
 * Pop victim, the head of fastbin fb. Single-threaded, glibc just stores the
 * revealed next pointer; once the process has threads it uses REMOVE_FB, a
 * compare-and-swap loop that checks the next pointer's alignment first.
 */
function removeFb(m: Malloc, fb: number, victim: number): void {
  const next = L.protectPtr(victim + F_FD, fd(m, victim));
  if (!m.libc.singleThreaded && next !== 0 && L.misalignedChunk(next)) m.printerr("malloc(): unaligned fastbin chunk detected");
  m.mem.write32(fb, next);
}

// ---- _int_malloc ------------------------------------------------------------------------

/** _int_malloc: a chunk for `bytes` from arena av (0: no usable arena, mmap only). */
export function intMalloc(m: Malloc, av: number, bytes: number): number {
  const prev = m.libc.enter(m.symIntMalloc);
  const r = intMallocBody(m, av, bytes);
  m.libc.leave(prev);
  return r;
}

function intMallocBody(m: Malloc, av: number, bytes: number): number {
  const mem = m.mem;
  const nb = L.request2size(bytes);
  if (nb === 0) return 0;
  if (av === 0) {
    const r = sysmalloc(m, nb, 0);
    if (r !== 0) allocPerturb(m, r, bytes);
    return r;
  }
  const arenaBit = isMainArena(m, av) ? 0 : NON_MAIN_ARENA_FLAG;
  const tc = m.tls.tcache;
  const tcBins = m.g(MP_TCACHE_BINS);
  const tcCount = m.g(MP_TCACHE_COUNT);

  // Fastbins: exact size, LIFO.
  if (nb <= m.g(G_MAX_FAST)) {
    const idx = L.fastbinIndex(nb);
    const fb = av + AV_FASTBINS + 4 * idx;
    const victim = mem.readU32(fb);
    if (victim !== 0) {
      if (L.misalignedChunk(victim)) m.printerr("malloc(): unaligned fastbin chunk detected 2");
      removeFb(m, fb, victim);
      if (L.fastbinIndex(chunksize(m, victim)) !== idx) m.printerr("malloc(): memory corruption (fast)");
      // Stash further chunks of this size into the tcache.
      const tcIdx = L.csize2tidx(nb);
      if (tc !== 0 && tcIdx < tcBins) {
        let tcVictim: number;
        while (mem.read16(tc + 2 * tcIdx) < tcCount && (tcVictim = mem.readU32(fb)) !== 0) {
          if (L.misalignedChunk(tcVictim)) m.printerr("malloc(): unaligned fastbin chunk detected 3");
          removeFb(m, fb, tcVictim);
          m.tcachePut(tc, tcVictim, tcIdx);
        }
      }
      const p = victim + CHUNK_HDR_SZ;
      allocPerturb(m, p, bytes);
      return p;
    }
  }

  // Small bins: exact size, oldest first.
  let idx: number;
  if (L.inSmallbinRange(nb)) {
    idx = L.smallbinIndex(nb);
    const bin = L.binAt(av, idx);
    const victim = bk(m, bin);
    if (victim !== bin) {
      const bck = bk(m, victim);
      if (fd(m, bck) !== victim) m.printerr("malloc(): smallbin double linked list corrupted");
      setInuseBitAtOffset(m, victim, nb);
      setBk(m, bin, bck);
      setFd(m, bck, bin);
      if (arenaBit) setHead(m, victim, mem.readU32(victim + F_SIZE) | arenaBit);
      const tcIdx = L.csize2tidx(nb);
      if (tc !== 0 && tcIdx < tcBins && (arenaBit !== 0 || !stashSmallbinFast(m, bin, nb, tc, tcIdx, tcCount))) {
        let tcVictim: number;
        while (mem.read16(tc + 2 * tcIdx) < tcCount && (tcVictim = bk(m, bin)) !== bin) {
          const b2 = bk(m, tcVictim);
          setInuseBitAtOffset(m, tcVictim, nb);
          if (arenaBit) setHead(m, tcVictim, mem.readU32(tcVictim + F_SIZE) | arenaBit);
          setBk(m, bin, b2);
          setFd(m, b2, bin);
          m.tcachePut(tc, tcVictim, tcIdx);
        }
      }
      const p = victim + CHUNK_HDR_SZ;
      allocPerturb(m, p, bytes);
      return p;
    }
  } else {
    idx = L.largebinIndex(nb);
    if (mem.readU32(av + AV_HAVE_FASTCHUNKS) !== 0) mallocConsolidate(m, av);
  }

  const tcIdx = L.csize2tidx(nb);
  const tcacheNb = tc !== 0 && tcIdx < tcBins ? nb : 0;
  let returnCached = false;
  const unsortedLimit = m.g(MP_TCACHE_UNSORTED_LIMIT);

  for (;;) {
    // The unsorted scan: place or return each chunk, oldest first.
    let iters = 0;
    let tcacheUnsortedCount = 0;
    const unsorted = L.unsortedChunks(av);
    let victim: number;
    while ((victim = bk(m, unsorted)) !== unsorted) {
      if (!binUnsortedFast(m, av, unsorted, victim, nb)) {
        const bck = bk(m, victim);
        const size = chunksize(m, victim);
        const next = victim + size;
        const systemMem = mem.readU32(av + AV_SYSTEM_MEM);
        if (size <= CHUNK_HDR_SZ || size > systemMem) m.printerr("malloc(): invalid size (unsorted)");
        // chunksize_nomask(next) < CHUNK_HDR_SZ: a fencepost (size 8, as sysmalloc leaves after an
        // old top) is a valid next chunk here.
        const nextHead = mem.readU32(next + F_SIZE);
        if (nextHead < CHUNK_HDR_SZ || nextHead > systemMem) m.printerr("malloc(): invalid next size (unsorted)");
        if ((mem.readU32(next + F_PREV_SIZE) & ~SIZE_BITS) >>> 0 !== size) m.printerr("malloc(): mismatching next->prev_size (unsorted)");
        if (fd(m, bck) !== victim || fd(m, victim) !== unsorted) m.printerr("malloc(): unsorted double linked list corrupted");
        if (mem.readU32(next + F_SIZE) & PREV_INUSE) m.printerr("malloc(): invalid next->prev_inuse (unsorted)");

        // A small request served from the last remainder, if it is the only unsorted chunk.
        if (L.inSmallbinRange(nb) && bck === unsorted && victim === mem.readU32(av + AV_LAST_REMAINDER) && size > nb + MINSIZE) {
          const remainderSize = size - nb;
          const remainder = victim + nb;
          setFd(m, unsorted, remainder);
          setBk(m, unsorted, remainder);
          mem.write32(av + AV_LAST_REMAINDER, remainder);
          setFd(m, remainder, unsorted);
          setBk(m, remainder, unsorted);
          if (!L.inSmallbinRange(remainderSize)) {
            mem.write32(remainder + F_FD_NEXTSIZE, 0);
            mem.write32(remainder + F_BK_NEXTSIZE, 0);
          }
          setHead(m, victim, nb | PREV_INUSE | arenaBit);
          setHead(m, remainder, remainderSize | PREV_INUSE);
          setFoot(m, remainder, remainderSize);
          const p = victim + CHUNK_HDR_SZ;
          allocPerturb(m, p, bytes);
          return p;
        }

        // Take it off the unsorted list.
        if (fd(m, bck) !== victim) m.printerr("malloc(): corrupted unsorted chunks 3");
        setBk(m, unsorted, bck);
        setFd(m, bck, unsorted);

        if (size === nb) {
          setInuseBitAtOffset(m, victim, size);
          if (arenaBit) setHead(m, victim, mem.readU32(victim + F_SIZE) | arenaBit);
          if (tcacheNb > 0 && mem.read16(tc + 2 * tcIdx) < tcCount) {
            m.tcachePut(tc, victim, tcIdx);
            returnCached = true;
            continue;
          }
          const p = victim + CHUNK_HDR_SZ;
          allocPerturb(m, p, bytes);
          return p;
        }

        placeInBin(m, av, victim, size);
      }

      // With a limit set, return a cached chunk once enough have been processed.
      ++tcacheUnsortedCount;
      if (returnCached && unsortedLimit > 0 && tcacheUnsortedCount > unsortedLimit) return tcacheGetFrom(m, tcIdx);
      if (++iters >= MAX_ITERS) break;
    }
    if (returnCached) return tcacheGetFrom(m, tcIdx);

    // A large request: the smallest chunk in its own bin that fits.
    if (!L.inSmallbinRange(nb)) {
      const bin = L.binAt(av, idx);
      let victim2 = fd(m, bin);
      if (victim2 !== bin && chunksize(m, victim2) >= nb) {
        victim2 = mem.readU32(victim2 + F_BK_NEXTSIZE);
        let size: number;
        while ((size = chunksize(m, victim2)) < nb) victim2 = mem.readU32(victim2 + F_BK_NEXTSIZE);
        // Prefer the second of a size group so the skip list stays as it is.
        if (victim2 !== bk(m, bin) && mem.readU32(victim2 + F_SIZE) === mem.readU32(fd(m, victim2) + F_SIZE)) victim2 = fd(m, victim2);
        const remainderSize = size - nb;
        unlinkChunk(m, victim2);
        if (remainderSize < MINSIZE) {
          setInuseBitAtOffset(m, victim2, size);
          if (arenaBit) setHead(m, victim2, mem.readU32(victim2 + F_SIZE) | arenaBit);
        } else {
          const remainder = victim2 + nb;
          setHead(m, remainder, remainderSize | PREV_INUSE);
          setFoot(m, remainder, remainderSize);
          toUnsortedFront(m, av, remainder, remainderSize, "malloc(): corrupted unsorted chunks");
          setHead(m, victim2, nb | PREV_INUSE | arenaBit);
        }
        const p = victim2 + CHUNK_HDR_SZ;
        allocPerturb(m, p, bytes);
        return p;
      }
    }

    // The binmap: the next non-empty larger bin; its smallest chunk fits.
    let i = idx + 1;
    let block = i >>> BINMAPSHIFT;
    let map = mem.readU32(av + AV_BINMAP + 4 * block);
    let bit = (1 << (i & 31)) >>> 0;
    let found = 0;
    for (;;) {
      if (bit > map || bit === 0) {
        do {
          if (++block >= BINMAPSIZE) break;
        } while ((map = mem.readU32(av + AV_BINMAP + 4 * block)) === 0);
        if (block >= BINMAPSIZE) break;
        i = block << BINMAPSHIFT;
        bit = 1;
      }
      while ((bit & map) === 0) {
        i++;
        bit = (bit << 1) >>> 0;
      }
      const bin = L.binAt(av, i);
      const victim3 = bk(m, bin);
      if (victim3 === bin) {
        // A stale bit: clear it and look further.
        map = (map & ~bit) >>> 0;
        mem.write32(av + AV_BINMAP + 4 * block, map);
        i++;
        bit = (bit << 1) >>> 0;
        continue;
      }
      found = victim3;
      const size = chunksize(m, victim3);
      const remainderSize = size - nb;
      unlinkChunk(m, victim3);
      if (remainderSize < MINSIZE) {
        setInuseBitAtOffset(m, victim3, size);
        if (arenaBit) setHead(m, victim3, mem.readU32(victim3 + F_SIZE) | arenaBit);
      } else {
        const remainder = victim3 + nb;
        setHead(m, remainder, remainderSize | PREV_INUSE);
        setFoot(m, remainder, remainderSize);
        toUnsortedFront(m, av, remainder, remainderSize, "malloc(): corrupted unsorted chunks 2");
        if (L.inSmallbinRange(nb)) mem.write32(av + AV_LAST_REMAINDER, remainder);
        setHead(m, victim3, nb | PREV_INUSE | arenaBit);
      }
      break;
    }
    if (found !== 0) {
      const p = found + CHUNK_HDR_SZ;
      allocPerturb(m, p, bytes);
      return p;
    }

    // use_top: split from the bottom of the top chunk.
    const top = mem.readU32(av + AV_TOP);
    const size = chunksize(m, top);
    if (size > mem.readU32(av + AV_SYSTEM_MEM)) m.printerr("malloc(): corrupted top size");
    if (size >= nb + MINSIZE) {
      const remainder = top + nb;
      mem.write32(av + AV_TOP, remainder);
      setHead(m, top, nb | PREV_INUSE | arenaBit);
      setHead(m, remainder, (size - nb) | PREV_INUSE);
      const p = top + CHUNK_HDR_SZ;
      allocPerturb(m, p, bytes);
      return p;
    }
    if (mem.readU32(av + AV_HAVE_FASTCHUNKS) !== 0) {
      mallocConsolidate(m, av);
      idx = L.inSmallbinRange(nb) ? L.smallbinIndex(nb) : L.largebinIndex(nb);
      continue;
    }
    const r = sysmalloc(m, nb, av);
    if (r !== 0) allocPerturb(m, r, bytes);
    return r;
  }
}

/**
 * _int_malloc's small-bin stash loop (main arena), on physical memory: moves
 * chunks of size nb from the bin into tcache bin tcIdx while each iteration's
 * words are all in the TLB (UserMemory.wordW), counting the loads and stores
 * the general path would make. True when the loop ended; false when it
 * stopped before an iteration it could not check (the general loop goes on).
 */
function stashSmallbinFast(m: Malloc, bin: number, nb: number, tc: number, tcIdx: number, tcCount: number): boolean {
  const mem = m.mem;
  const i32 = mem.i32;
  const u16 = mem.u16;
  const count = mem.halfW(tc + 2 * tcIdx);
  const slot = mem.wordW(tc + TC_ENTRIES + 4 * tcIdx);
  const binBk = mem.wordW(bin + F_BK);
  if (count < 0 || slot < 0 || binBk < 0) return false;
  const key = m.globals[G_TCACHE_KEY >> 2];
  for (;;) {
    if (u16[count] >= tcCount) {
      mem.acc += 1;
      return true;
    }
    const victim = i32[binBk] >>> 0;
    if (victim === bin) {
      mem.acc += 2;
      return true;
    }
    const e = victim + CHUNK_HDR_SZ;
    const vBk = mem.wordW(victim + F_BK);
    const nHead = mem.wordW(victim + nb + F_SIZE);
    const eNext = mem.wordW(e + TE_NEXT);
    const eKey = mem.wordW(e + TE_KEY);
    if (vBk < 0 || nHead < 0 || eNext < 0 || eKey < 0) return false;
    const b2 = i32[vBk] >>> 0;
    const b2Fd = mem.wordW(b2 + F_FD);
    if (b2Fd < 0) return false;
    // As the general path: set_inuse_bit_at_offset, unlink from the bin's tail, tcache_put.
    i32[nHead] |= PREV_INUSE;
    i32[binBk] = b2;
    i32[b2Fd] = bin;
    i32[eKey] = key;
    i32[eNext] = L.protectPtr(e, i32[slot] >>> 0);
    i32[slot] = e;
    u16[count]++;
    mem.acc += 14;
  }
}

/**
 * The commonest step of the unsorted scan, on physical memory: victim (the
 * oldest unsorted chunk) passes the checks, is neither a last remainder to
 * split nor an exact fit, and goes into its small bin. Done only when every
 * word it touches is in the TLB (UserMemory.wordW), counting the loads and
 * stores the general path would make; false, before changing anything,
 * otherwise (the general path then does the step, or reports the corruption).
 */
function binUnsortedFast(m: Malloc, av: number, unsorted: number, victim: number, nb: number): boolean {
  const mem = m.mem;
  const i32 = mem.i32;
  const vBk = mem.wordW(victim + F_BK);
  const vSize = mem.wordW(victim + F_SIZE);
  const vFd = mem.wordW(victim + F_FD);
  const sysMem = mem.wordW(av + AV_SYSTEM_MEM);
  if (vBk < 0 || vSize < 0 || vFd < 0 || sysMem < 0) return false;
  const bck = i32[vBk] >>> 0;
  const size = (i32[vSize] & ~SIZE_BITS) >>> 0;
  const systemMem = i32[sysMem] >>> 0;
  if (size === nb || !L.inSmallbinRange(size) || size <= CHUNK_HDR_SZ || size > systemMem) return false;
  const next = victim + size;
  const nHead = mem.wordW(next + F_SIZE);
  const nPrev = mem.wordW(next + F_PREV_SIZE);
  const bFd = mem.wordW(bck + F_FD);
  if (nHead < 0 || nPrev < 0 || bFd < 0) return false;
  const nextHead = i32[nHead] >>> 0;
  if (nextHead < CHUNK_HDR_SZ || nextHead > systemMem || nextHead & PREV_INUSE) return false;
  if ((i32[nPrev] & ~SIZE_BITS) >>> 0 !== size || i32[bFd] >>> 0 !== victim || i32[vFd] >>> 0 !== unsorted) return false;
  // The general path's loads and stores: 9 for the checks, 2 to unlink, 7 to bin.
  let accesses = 18;
  if (L.inSmallbinRange(nb) && bck === unsorted) {
    const lr = mem.wordW(av + AV_LAST_REMAINDER);
    if (lr < 0 || (victim === i32[lr] >>> 0 && size > nb + MINSIZE)) return false;
    accesses++;
  }
  const idx = L.smallbinIndex(size);
  const bck2 = L.binAt(av, idx);
  const uBk = mem.wordW(unsorted + F_BK);
  const b2Fd = mem.wordW(bck2 + F_FD);
  const map = mem.wordW(av + AV_BINMAP + 4 * (idx >>> BINMAPSHIFT));
  // (The general path reads the bin's fd and the binmap after unlinking victim: neither is the
  // word it wrote at bck, but in a corrupted list.)
  if (uBk < 0 || b2Fd < 0 || map < 0 || b2Fd === bFd || map === bFd) return false;
  const fwd = i32[b2Fd] >>> 0;
  i32[uBk] = bck;
  i32[bFd] = unsorted;
  i32[map] |= 1 << (idx & 31);
  i32[vBk] = bck2;
  i32[vFd] = fwd;
  const fBk = mem.wordW(fwd + F_BK);
  if (fBk >= 0) {
    i32[fBk] = victim;
    i32[b2Fd] = victim;
    mem.acc += accesses;
  } else {
    // The bin's first chunk is not in the TLB: the last two stores go through the accessor,
    // which misses (or faults) there as the general path would, every access before it a hit.
    mem.acc += accesses - 2;
    mem.write32(fwd + F_BK, victim);
    mem.write32(bck2 + F_FD, victim);
  }
  return true;
}

/** Put a chunk taken off the unsorted list into its small or large bin (large bins stay sorted). */
function placeInBin(m: Malloc, av: number, victim: number, size: number): void {
  const mem = m.mem;
  let victimIndex: number;
  let fwd: number;
  let bck2: number;
  if (L.inSmallbinRange(size)) {
    victimIndex = L.smallbinIndex(size);
    bck2 = L.binAt(av, victimIndex);
    fwd = fd(m, bck2);
  } else {
    victimIndex = L.largebinIndex(size);
    bck2 = L.binAt(av, victimIndex);
    fwd = fd(m, bck2);
    if (fwd !== bck2) {
      // Large bins are sorted by size, largest first; the skip list links size groups.
      const sizeP = size | PREV_INUSE;
      const last = bk(m, bck2);
      if (sizeP < mem.readU32(last + F_SIZE)) {
        fwd = bck2;
        bck2 = bk(m, bck2);
        const ffn = fd(m, fwd); // the largest
        mem.write32(victim + F_FD_NEXTSIZE, ffn);
        const ffnBk = mem.readU32(ffn + F_BK_NEXTSIZE);
        mem.write32(victim + F_BK_NEXTSIZE, ffnBk);
        mem.write32(ffn + F_BK_NEXTSIZE, victim);
        mem.write32(ffnBk + F_FD_NEXTSIZE, victim);
      } else {
        while (sizeP < mem.readU32(fwd + F_SIZE)) fwd = mem.readU32(fwd + F_FD_NEXTSIZE);
        if (sizeP === mem.readU32(fwd + F_SIZE)) {
          // Same size: insert as the second of the group, off the skip list.
          fwd = fd(m, fwd);
        } else {
          const fbn = mem.readU32(fwd + F_BK_NEXTSIZE);
          mem.write32(victim + F_FD_NEXTSIZE, fwd);
          mem.write32(victim + F_BK_NEXTSIZE, fbn);
          if (mem.readU32(fbn + F_FD_NEXTSIZE) !== fwd) m.printerr("malloc(): largebin double linked list corrupted (nextsize)");
          mem.write32(fwd + F_BK_NEXTSIZE, victim);
          mem.write32(fbn + F_FD_NEXTSIZE, victim);
        }
        bck2 = bk(m, fwd);
        if (fd(m, bck2) !== fwd) m.printerr("malloc(): largebin double linked list corrupted (bk)");
      }
    } else {
      mem.write32(victim + F_FD_NEXTSIZE, victim);
      mem.write32(victim + F_BK_NEXTSIZE, victim);
    }
  }
  markBin(m, av, victimIndex);
  setBk(m, victim, bck2);
  setFd(m, victim, fwd);
  setBk(m, fwd, victim);
  setFd(m, bck2, victim);
}

/** The tcache entry cached during the unsorted scan (tcache_get). */
function tcacheGetFrom(m: Malloc, idx: number): number {
  const mem = m.mem;
  const tc = m.tls.tcache;
  const slot = tc + TC_ENTRIES + 4 * idx;
  const e = mem.readU32(slot);
  if (L.misalignedChunk(e - CHUNK_HDR_SZ)) m.printerr("malloc(): unaligned tcache chunk detected");
  mem.write32(slot, L.protectPtr(e, mem.readU32(e)));
  const c = tc + 2 * idx;
  mem.write16(c, mem.read16(c) - 1);
  mem.write32(e + TE_KEY, 0);
  return e;
}

// ---- _int_free ---------------------------------------------------------------------------

/** _int_free: give chunk p back to the tcache, a fastbin, the unsorted bin or top. */
export function intFree(m: Malloc, av: number, p: number, haveLock: boolean): void {
  const prev = m.libc.enter(m.symIntFree);
  intFreeBody(m, av, p, haveLock);
  m.libc.leave(prev);
}

function intFreeBody(m: Malloc, av: number, p: number, haveLock: boolean): void {
  const mem = m.mem;
  const fast = intFreeFast(m, av, p, haveLock);
  if (fast !== 0) {
    mem.acc += fast;
    return;
  }
  const size = chunksize(m, p);
  // (uintptr_t) p > (uintptr_t) -size: a size of 0 wraps to 0 and fails too.
  if (p > (-size >>> 0) || L.misalignedChunk(p)) m.printerr("free(): invalid pointer");
  if (size < MINSIZE || size & MALLOC_ALIGN_MASK) m.printerr("free(): invalid size");

  const tc = m.tls.tcache;
  const tcIdx = L.csize2tidx(size);
  if (tc !== 0 && tcIdx < m.g(MP_TCACHE_BINS)) {
    const e = p + CHUNK_HDR_SZ;
    const tcCount = m.g(MP_TCACHE_COUNT);
    if (mem.readU32(e + TE_KEY) === m.g(G_TCACHE_KEY)) {
      // Possibly a double free: walk this bin to be sure (a coincidental key match just continues).
      let cnt = 0;
      for (let tmp = mem.readU32(tc + TC_ENTRIES + 4 * tcIdx); tmp !== 0; tmp = L.protectPtr(tmp, mem.readU32(tmp)), cnt++) {
        if (cnt >= tcCount) m.printerr("free(): too many chunks detected in tcache");
        if (tmp & MALLOC_ALIGN_MASK) m.printerr("free(): unaligned chunk detected in tcache 2");
        if (tmp === e) m.printerr("free(): double free detected in tcache 2");
      }
    }
    if (mem.read16(tc + 2 * tcIdx) < tcCount) {
      m.tcachePut(tc, p, tcIdx);
      return;
    }
  }

  if (size <= m.g(G_MAX_FAST)) {
    const next = p + size;
    if (mem.readU32(next + F_SIZE) <= CHUNK_HDR_SZ || chunksize(m, next) >= mem.readU32(av + AV_SYSTEM_MEM)) {
      m.printerr("free(): invalid next size (fast)");
    }
    freePerturb(m, p + CHUNK_HDR_SZ, size - CHUNK_HDR_SZ);
    mem.write32(av + AV_HAVE_FASTCHUNKS, 1);
    const idx = L.fastbinIndex(size);
    const fb = av + AV_FASTBINS + 4 * idx;
    const old = mem.readU32(fb);
    if (old === p) m.printerr("double free or corruption (fasttop)");
    setFd(m, p, L.protectPtr(p + F_FD, old));
    mem.write32(fb, p);
    // Only with the arena lock held (internal frees): free() itself may not dereference old.
    if (haveLock && old !== 0 && L.fastbinIndex(chunksize(m, old)) !== idx) m.printerr("invalid fastbin entry (free)");
    return;
  }
  mergeChunk(m, av, p, size);
}

/** Loads and stores of _int_free's checks and tcache_put; of its checks of a full tcache bin and of max_fast. */
const TCACHE_PUT_ACCESSES = 13;
const TCACHE_FULL_ACCESSES = 7;

/**
 * _int_free's common cases on physical memory: into the tcache, or (the
 * tcache bin full) into a fastbin (without the arena lock, as free() itself)
 * or the unsorted bin. Done only when every word it touches is in the TLB
 * (UserMemory.wordW): the number of loads and stores the general path would
 * have made, for the caller to count to _int_free; 0, before changing
 * anything, otherwise (the general path then frees p, or reports the error).
 */
export function intFreeFast(m: Malloc, av: number, p: number, haveLock: boolean): number {
  const tc = m.tls.tcache;
  const mem = m.mem;
  const i32 = mem.i32;
  const g = m.globals;
  const e = p + CHUNK_HDR_SZ;
  const head = mem.wordW(p + F_SIZE);
  // (e is 16-aligned once the checks pass, so its key is in the same page as its next.)
  const next = mem.wordW(e + TE_NEXT);
  const key = next + (TE_KEY >> 2);
  if (tc === 0 || head < 0 || next < 0 || L.misalignedChunk(p)) return 0;
  const size = (i32[head] & ~SIZE_BITS) >>> 0;
  if (p > (-size >>> 0) || size < MINSIZE || size & MALLOC_ALIGN_MASK) return 0;
  const idx = L.csize2tidx(size);
  const tcacheKey = g[G_TCACHE_KEY >> 2];
  // A key match means a possible double free: the general path walks the bin.
  if (idx >= g[MP_TCACHE_BINS >> 2] || i32[key] >>> 0 === tcacheKey) return 0;
  const count = mem.halfW(tc + 2 * idx);
  const slot = mem.wordW(tc + TC_ENTRIES + 4 * idx);
  if (count < 0 || slot < 0) return 0;
  const n = mem.u16[count];
  if (n < g[MP_TCACHE_COUNT >> 2]) {
    i32[key] = tcacheKey;
    i32[next] = L.protectPtr(e, i32[slot] >>> 0);
    i32[slot] = e;
    mem.u16[count]++;
    return TCACHE_PUT_ACCESSES;
  }
  const rest = size > g[G_MAX_FAST >> 2] ? freeToUnsortedFast(m, av, p, size) : haveLock ? 0 : fastbinFreeFast(m, av, p, size);
  return rest === 0 ? 0 : TCACHE_FULL_ACCESSES + rest;
}

/** _int_free_merge_chunk: coalesce with free neighbours, bin the result, maybe trim. */
function mergeChunk(m: Malloc, av: number, p: number, size: number): void {
  const mem = m.mem;
  const fast = freeToUnsortedFast(m, av, p, size);
  if (fast !== 0) {
    mem.acc += fast;
    return;
  }
  const next = p + size;
  const top = mem.readU32(av + AV_TOP);
  if (p === top) m.printerr("double free or corruption (top)");
  if (!(mem.readU32(av + AV_FLAGS) & NONCONTIGUOUS_BIT) && next >= top + chunksize(m, top)) m.printerr("double free or corruption (out)");
  if (!(mem.readU32(next + F_SIZE) & PREV_INUSE)) m.printerr("double free or corruption (!prev)");
  const nextsize = chunksize(m, next);
  if (mem.readU32(next + F_SIZE) <= CHUNK_HDR_SZ || nextsize >= mem.readU32(av + AV_SYSTEM_MEM)) m.printerr("free(): invalid next size (normal)");
  freePerturb(m, p + CHUNK_HDR_SZ, size - CHUNK_HDR_SZ);
  // Consolidate backward.
  if (!(mem.readU32(p + F_SIZE) & PREV_INUSE)) {
    const prevsize = mem.readU32(p + F_PREV_SIZE);
    size += prevsize;
    p -= prevsize;
    if (chunksize(m, p) !== prevsize) m.printerr("corrupted size vs. prev_size while consolidating");
    unlinkChunk(m, p);
  }
  size = createChunk(m, av, p, size, next, nextsize, top);
  maybeConsolidate(m, av, size);
}

/**
 * mergeChunk's commonest case, on physical memory: both neighbours are in
 * use, so p just goes to the front of the unsorted bin. Done only when every
 * word it touches is in the TLB (UserMemory.wordW); the number of loads and
 * stores the general path would have made, for the caller to count; 0,
 * before changing anything, otherwise (the general path then frees p, or
 * reports the corruption).
 */
function freeToUnsortedFast(m: Malloc, av: number, p: number, size: number): number {
  const mem = m.mem;
  const i32 = mem.i32;
  const next = p + size;
  const unsorted = L.unsortedChunks(av);
  const aTop = mem.wordW(av + AV_TOP);
  const aFlags = mem.wordW(av + AV_FLAGS);
  const aSysMem = mem.wordW(av + AV_SYSTEM_MEM);
  const pHead = mem.wordW(p + F_SIZE);
  const nHead = mem.wordW(next + F_SIZE);
  const nPrev = mem.wordW(next + F_PREV_SIZE);
  const uFd = mem.wordW(unsorted + F_FD);
  if (aTop < 0 || aFlags < 0 || aSysMem < 0 || pHead < 0 || nHead < 0 || nPrev < 0 || uFd < 0) return 0;
  const top = i32[aTop] >>> 0;
  // The general path's loads and stores: 8 for the checks, 3 for next's P bit, 6 to link, 2 for the boundary tags.
  let accesses = 19;
  if (p === top || next === top || m.globals[G_PERTURB >> 2] !== 0) return 0;
  if (!(i32[aFlags] & NONCONTIGUOUS_BIT)) {
    const tHead = mem.wordW(top + F_SIZE);
    if (tHead < 0 || next >= top + ((i32[tHead] & ~SIZE_BITS) >>> 0)) return 0;
    accesses++;
  }
  const nextHead = i32[nHead] >>> 0;
  const nextsize = (nextHead & ~SIZE_BITS) >>> 0;
  if (!(nextHead & PREV_INUSE) || nextHead <= CHUNK_HDR_SZ || nextsize >= i32[aSysMem] >>> 0) return 0;
  const nnHead = mem.wordW(next + nextsize + F_SIZE);
  if (!(i32[pHead] & PREV_INUSE) || nnHead < 0 || !(i32[nnHead] & PREV_INUSE)) return 0;
  const fwd = i32[uFd] >>> 0;
  const fBk = mem.wordW(fwd + F_BK);
  const pFd = mem.wordW(p + F_FD);
  const pBk = mem.wordW(p + F_BK);
  // (The unsorted bin's head and fwd's bk are read after next's P bit is cleared: the same
  // word only in a corrupted heap.)
  if (fBk < 0 || pFd < 0 || pBk < 0 || uFd === nHead || fBk === nHead || i32[fBk] >>> 0 !== unsorted) return 0;
  const large = !L.inSmallbinRange(size);
  let pFdNext = -1;
  let pBkNext = -1;
  if (large) {
    pFdNext = mem.wordW(p + F_FD_NEXTSIZE);
    pBkNext = mem.wordW(p + F_BK_NEXTSIZE);
    if (pFdNext < 0 || pBkNext < 0 || size >= FASTBIN_CONSOLIDATION_THRESHOLD) return 0;
    accesses += 2;
  }
  i32[nHead] = nextHead & ~PREV_INUSE;
  i32[pFd] = fwd;
  i32[pBk] = unsorted;
  if (large) {
    i32[pFdNext] = 0;
    i32[pBkNext] = 0;
  }
  i32[uFd] = p;
  i32[fBk] = p;
  i32[pHead] = size | PREV_INUSE;
  i32[nPrev] = size;
  return accesses;
}

/**
 * _int_free's fastbin push without the arena lock (free() itself), on
 * physical memory, like freeToUnsortedFast: the loads and stores made, or 0
 * before changing anything.
 */
function fastbinFreeFast(m: Malloc, av: number, p: number, size: number): number {
  const mem = m.mem;
  const i32 = mem.i32;
  const next = p + size;
  const fb = av + AV_FASTBINS + 4 * L.fastbinIndex(size);
  const nHead = mem.wordW(next + F_SIZE);
  const aSysMem = mem.wordW(av + AV_SYSTEM_MEM);
  const aFast = mem.wordW(av + AV_HAVE_FASTCHUNKS);
  const fbI = mem.wordW(fb);
  const pFd = mem.wordW(p + F_FD);
  if (nHead < 0 || aSysMem < 0 || aFast < 0 || fbI < 0 || pFd < 0 || m.globals[G_PERTURB >> 2] !== 0) return 0;
  const nextHead = i32[nHead] >>> 0;
  if (nextHead <= CHUNK_HDR_SZ || (nextHead & ~SIZE_BITS) >>> 0 >= i32[aSysMem] >>> 0) return 0;
  // (The bin head is read after have_fastchunks is set: the same word only if av is corrupted.)
  const old = i32[fbI] >>> 0;
  if (old === p || fbI === aFast) return 0;
  i32[aFast] = 1;
  i32[pFd] = L.protectPtr(p + F_FD, old);
  i32[fbI] = p;
  // The size checks' 3 loads, the perturb byte, have_fastchunks, the bin's old head, 2 stores.
  return 8;
}

/** _int_free_create_chunk: forward-coalesce, then into the unsorted bin or top. */
function createChunk(m: Malloc, av: number, p: number, size: number, next: number, nextsize: number, top: number): number {
  if (next !== top) {
    if (!inuseBitAtOffset(m, next, nextsize)) {
      unlinkChunk(m, next);
      size += nextsize;
    } else clearInuseBitAtOffset(m, next, 0);
    toUnsortedFront(m, av, p, size, "free(): corrupted unsorted chunks");
    setHead(m, p, size | PREV_INUSE);
    setFoot(m, p, size);
  } else {
    size += nextsize;
    setHead(m, p, size | PREV_INUSE);
    m.mem.write32(av + AV_TOP, p);
  }
  return size;
}

/** _int_free_maybe_consolidate: a big free consolidates fastbins and may trim top. */
function maybeConsolidate(m: Malloc, av: number, size: number): void {
  if (size < FASTBIN_CONSOLIDATION_THRESHOLD) return;
  if (m.mem.readU32(av + AV_HAVE_FASTCHUNKS) !== 0) mallocConsolidate(m, av);
  if (isMainArena(m, av)) {
    if (chunksize(m, m.mem.readU32(av + AV_TOP)) >= m.g(MP_TRIM_THRESHOLD)) systrim(m, m.g(MP_TOP_PAD), av);
  } else {
    heapTrimForArena(m, av, m.g(MP_TOP_PAD));
  }
}

// ---- malloc_consolidate --------------------------------------------------------------------

/** Coalesce every fastbin chunk into the unsorted bin or top. */
export function mallocConsolidate(m: Malloc, av: number): void {
  const prev = m.libc.enter(m.symConsolidate);
  const mem = m.mem;
  mem.write32(av + AV_HAVE_FASTCHUNKS, 0);
  const unsorted = L.unsortedChunks(av);
  for (let idx = 0; idx < NFASTBINS; idx++) {
    const fb = av + AV_FASTBINS + 4 * idx;
    let p = mem.readU32(fb);
    mem.write32(fb, 0);
    while (p !== 0) {
      if (L.misalignedChunk(p)) m.printerr("malloc_consolidate(): unaligned fastbin chunk detected");
      if (L.fastbinIndex(chunksize(m, p)) !== idx) m.printerr("malloc_consolidate(): invalid chunk size");
      const nextp = L.protectPtr(p + F_FD, fd(m, p));
      let size = chunksize(m, p);
      const next = p + size;
      const nextsize = chunksize(m, next);
      if (!(mem.readU32(p + F_SIZE) & PREV_INUSE)) {
        const prevsize = mem.readU32(p + F_PREV_SIZE);
        size += prevsize;
        p -= prevsize;
        if (chunksize(m, p) !== prevsize) m.printerr("corrupted size vs. prev_size in fastbins");
        unlinkChunk(m, p);
      }
      if (next !== mem.readU32(av + AV_TOP)) {
        if (!inuseBitAtOffset(m, next, nextsize)) {
          size += nextsize;
          unlinkChunk(m, next);
        } else clearInuseBitAtOffset(m, next, 0);
        const first = fd(m, unsorted);
        setFd(m, unsorted, p);
        setBk(m, first, p);
        if (!L.inSmallbinRange(size)) {
          mem.write32(p + F_FD_NEXTSIZE, 0);
          mem.write32(p + F_BK_NEXTSIZE, 0);
        }
        setHead(m, p, size | PREV_INUSE);
        setBk(m, p, unsorted);
        setFd(m, p, first);
        setFoot(m, p, size);
      } else {
        size += nextsize;
        setHead(m, p, size | PREV_INUSE);
        mem.write32(av + AV_TOP, p);
      }
      p = nextp;
    }
  }
  m.libc.leave(prev);
}
