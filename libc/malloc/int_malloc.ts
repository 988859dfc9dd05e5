// The core of ptmalloc2: _int_malloc (fastbins, small bins, the unsorted
// scan, large bins, the binmap, top), _int_free (tcache, fastbins,
// coalescing into the unsorted bin or top), malloc_consolidate and
// unlink_chunk, with glibc's integrity checks and messages.

import { NON_MAIN_ARENA_FLAG, heapTrimForArena, isMainArena } from "./arena.ts";
import * as L from "./layout.ts";
import type { Malloc } from "./malloc.ts";
import { sysmalloc, systrim } from "./sysmalloc.ts";

/** Per-pass bound on the unsorted scan (glibc's MAX_ITERS). */
const MAX_ITERS = 10000;

// ---- chunk field access (names follow glibc's macros) --------------------------------

function chunksize(m: Malloc, p: number): number {
  // Unsigned, as glibc's size_t: a corrupted size of 2 GiB or more must compare as large.
  return (m.mem.readU32(p + L.F_SIZE) & ~L.SIZE_BITS) >>> 0;
}
function fd(m: Malloc, p: number): number {
  return m.mem.readU32(p + L.F_FD);
}
function bk(m: Malloc, p: number): number {
  return m.mem.readU32(p + L.F_BK);
}
function setFd(m: Malloc, p: number, v: number): void {
  m.mem.write32(p + L.F_FD, v);
}
function setBk(m: Malloc, p: number, v: number): void {
  m.mem.write32(p + L.F_BK, v);
}
function setHead(m: Malloc, p: number, v: number): void {
  m.mem.write32(p + L.F_SIZE, v);
}
/** set_foot: the size into the next chunk's prev_size. */
function setFoot(m: Malloc, p: number, s: number): void {
  m.mem.write32(p + s, s);
}
function inuseBitAtOffset(m: Malloc, p: number, s: number): number {
  return m.mem.readU32(p + s + L.F_SIZE) & L.PREV_INUSE;
}
function setInuseBitAtOffset(m: Malloc, p: number, s: number): void {
  const a = p + s + L.F_SIZE;
  m.mem.write32(a, m.mem.readU32(a) | L.PREV_INUSE);
}
function clearInuseBitAtOffset(m: Malloc, p: number, s: number): void {
  const a = p + s + L.F_SIZE;
  m.mem.write32(a, m.mem.readU32(a) & ~L.PREV_INUSE);
}

function allocPerturb(m: Malloc, mem: number, n: number): void {
  const pb = m.g(L.G_PERTURB);
  if (pb !== 0) m.mem.memset(mem, (pb ^ 0xff) & 0xff, n);
}
export function freePerturb(m: Malloc, mem: number, n: number): void {
  const pb = m.g(L.G_PERTURB);
  if (pb !== 0) m.mem.memset(mem, pb & 0xff, n);
}

function markBin(m: Malloc, av: number, i: number): void {
  const a = av + L.AV_BINMAP + 4 * (i >>> L.BINMAPSHIFT);
  m.mem.write32(a, m.mem.read32(a) | (1 << (i & 31)));
}

/** unlink_chunk: take p out of its doubly linked bin (and the large-bin skip list). */
export function unlinkChunk(m: Malloc, p: number): void {
  const size = chunksize(m, p);
  if (size !== m.mem.readU32(p + size + L.F_PREV_SIZE)) m.printerr("corrupted size vs. prev_size");
  const f = fd(m, p);
  const b = bk(m, p);
  if (bk(m, f) !== p || fd(m, b) !== p) m.printerr("corrupted double-linked list");
  setBk(m, f, b);
  setFd(m, b, f);
  if (!L.inSmallbinRange(m.mem.readU32(p + L.F_SIZE)) && m.mem.readU32(p + L.F_FD_NEXTSIZE) !== 0) {
    const mem = m.mem;
    const pfn = mem.readU32(p + L.F_FD_NEXTSIZE);
    const pbn = mem.readU32(p + L.F_BK_NEXTSIZE);
    if (mem.readU32(pfn + L.F_BK_NEXTSIZE) !== p || mem.readU32(pbn + L.F_FD_NEXTSIZE) !== p) {
      m.printerr("corrupted double-linked list (not small)");
    }
    if (mem.readU32(f + L.F_FD_NEXTSIZE) === 0) {
      if (pfn === p) {
        mem.write32(f + L.F_FD_NEXTSIZE, f);
        mem.write32(f + L.F_BK_NEXTSIZE, f);
      } else {
        mem.write32(f + L.F_FD_NEXTSIZE, pfn);
        mem.write32(f + L.F_BK_NEXTSIZE, pbn);
        mem.write32(pfn + L.F_BK_NEXTSIZE, f);
        mem.write32(pbn + L.F_FD_NEXTSIZE, f);
      }
    } else {
      mem.write32(pfn + L.F_BK_NEXTSIZE, pbn);
      mem.write32(pbn + L.F_FD_NEXTSIZE, pfn);
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
    m.mem.write32(p + L.F_FD_NEXTSIZE, 0);
    m.mem.write32(p + L.F_BK_NEXTSIZE, 0);
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
  const next = L.protectPtr(victim + L.F_FD, fd(m, victim));
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
  const tcBins = m.g(L.MP_TCACHE_BINS);
  const tcCount = m.g(L.MP_TCACHE_COUNT);

  // Fastbins: exact size, LIFO.
  if (nb <= m.g(L.G_MAX_FAST)) {
    const idx = L.fastbinIndex(nb);
    const fb = av + L.AV_FASTBINS + 4 * idx;
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
      const p = victim + L.CHUNK_HDR_SZ;
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
      if (arenaBit) setHead(m, victim, mem.readU32(victim + L.F_SIZE) | arenaBit);
      const tcIdx = L.csize2tidx(nb);
      if (tc !== 0 && tcIdx < tcBins) {
        let tcVictim: number;
        while (mem.read16(tc + 2 * tcIdx) < tcCount && (tcVictim = bk(m, bin)) !== bin) {
          const b2 = bk(m, tcVictim);
          setInuseBitAtOffset(m, tcVictim, nb);
          if (arenaBit) setHead(m, tcVictim, mem.readU32(tcVictim + L.F_SIZE) | arenaBit);
          setBk(m, bin, b2);
          setFd(m, b2, bin);
          m.tcachePut(tc, tcVictim, tcIdx);
        }
      }
      const p = victim + L.CHUNK_HDR_SZ;
      allocPerturb(m, p, bytes);
      return p;
    }
  } else {
    idx = L.largebinIndex(nb);
    if (mem.readU32(av + L.AV_HAVE_FASTCHUNKS) !== 0) mallocConsolidate(m, av);
  }

  const tcIdx = L.csize2tidx(nb);
  const tcacheNb = tc !== 0 && tcIdx < tcBins ? nb : 0;
  let returnCached = false;
  const unsortedLimit = m.g(L.MP_TCACHE_UNSORTED_LIMIT);

  for (;;) {
    // The unsorted scan: place or return each chunk, oldest first.
    let iters = 0;
    let tcacheUnsortedCount = 0;
    const unsorted = L.unsortedChunks(av);
    let victim: number;
    while ((victim = bk(m, unsorted)) !== unsorted) {
      const bck = bk(m, victim);
      const size = chunksize(m, victim);
      const next = victim + size;
      const systemMem = mem.readU32(av + L.AV_SYSTEM_MEM);
      if (size <= L.CHUNK_HDR_SZ || size > systemMem) m.printerr("malloc(): invalid size (unsorted)");
      // chunksize_nomask(next) < CHUNK_HDR_SZ: a fencepost (size 8, as sysmalloc leaves after an
      // old top) is a valid next chunk here.
      const nextHead = mem.readU32(next + L.F_SIZE);
      if (nextHead < L.CHUNK_HDR_SZ || nextHead > systemMem) m.printerr("malloc(): invalid next size (unsorted)");
      if ((mem.readU32(next + L.F_PREV_SIZE) & ~L.SIZE_BITS) >>> 0 !== size) m.printerr("malloc(): mismatching next->prev_size (unsorted)");
      if (fd(m, bck) !== victim || fd(m, victim) !== unsorted) m.printerr("malloc(): unsorted double linked list corrupted");
      if (mem.readU32(next + L.F_SIZE) & L.PREV_INUSE) m.printerr("malloc(): invalid next->prev_inuse (unsorted)");

      // A small request served from the last remainder, if it is the only unsorted chunk.
      if (L.inSmallbinRange(nb) && bck === unsorted && victim === mem.readU32(av + L.AV_LAST_REMAINDER) && size > nb + L.MINSIZE) {
        const remainderSize = size - nb;
        const remainder = victim + nb;
        setFd(m, unsorted, remainder);
        setBk(m, unsorted, remainder);
        mem.write32(av + L.AV_LAST_REMAINDER, remainder);
        setFd(m, remainder, unsorted);
        setBk(m, remainder, unsorted);
        if (!L.inSmallbinRange(remainderSize)) {
          mem.write32(remainder + L.F_FD_NEXTSIZE, 0);
          mem.write32(remainder + L.F_BK_NEXTSIZE, 0);
        }
        setHead(m, victim, nb | L.PREV_INUSE | arenaBit);
        setHead(m, remainder, remainderSize | L.PREV_INUSE);
        setFoot(m, remainder, remainderSize);
        const p = victim + L.CHUNK_HDR_SZ;
        allocPerturb(m, p, bytes);
        return p;
      }

      // Take it off the unsorted list.
      if (fd(m, bck) !== victim) m.printerr("malloc(): corrupted unsorted chunks 3");
      setBk(m, unsorted, bck);
      setFd(m, bck, unsorted);

      if (size === nb) {
        setInuseBitAtOffset(m, victim, size);
        if (arenaBit) setHead(m, victim, mem.readU32(victim + L.F_SIZE) | arenaBit);
        if (tcacheNb > 0 && mem.read16(tc + 2 * tcIdx) < tcCount) {
          m.tcachePut(tc, victim, tcIdx);
          returnCached = true;
          continue;
        }
        const p = victim + L.CHUNK_HDR_SZ;
        allocPerturb(m, p, bytes);
        return p;
      }

      // Place it in its bin.
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
          const sizeP = size | L.PREV_INUSE;
          const last = bk(m, bck2);
          if (sizeP < mem.readU32(last + L.F_SIZE)) {
            fwd = bck2;
            bck2 = bk(m, bck2);
            const ffn = mem.readU32(fwd + L.F_FD + 0) ; // fwd->fd (the largest)
            mem.write32(victim + L.F_FD_NEXTSIZE, ffn);
            const ffnBk = mem.readU32(ffn + L.F_BK_NEXTSIZE);
            mem.write32(victim + L.F_BK_NEXTSIZE, ffnBk);
            mem.write32(ffn + L.F_BK_NEXTSIZE, victim);
            mem.write32(ffnBk + L.F_FD_NEXTSIZE, victim);
          } else {
            while (sizeP < mem.readU32(fwd + L.F_SIZE)) fwd = mem.readU32(fwd + L.F_FD_NEXTSIZE);
            if (sizeP === mem.readU32(fwd + L.F_SIZE)) {
              // Same size: insert as the second of the group, off the skip list.
              fwd = fd(m, fwd);
            } else {
              const fbn = mem.readU32(fwd + L.F_BK_NEXTSIZE);
              mem.write32(victim + L.F_FD_NEXTSIZE, fwd);
              mem.write32(victim + L.F_BK_NEXTSIZE, fbn);
              if (mem.readU32(fbn + L.F_FD_NEXTSIZE) !== fwd) m.printerr("malloc(): largebin double linked list corrupted (nextsize)");
              mem.write32(fwd + L.F_BK_NEXTSIZE, victim);
              mem.write32(fbn + L.F_FD_NEXTSIZE, victim);
            }
            bck2 = bk(m, fwd);
            if (fd(m, bck2) !== fwd) m.printerr("malloc(): largebin double linked list corrupted (bk)");
          }
        } else {
          mem.write32(victim + L.F_FD_NEXTSIZE, victim);
          mem.write32(victim + L.F_BK_NEXTSIZE, victim);
        }
      }
      markBin(m, av, victimIndex);
      setBk(m, victim, bck2);
      setFd(m, victim, fwd);
      setBk(m, fwd, victim);
      setFd(m, bck2, victim);

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
        victim2 = mem.readU32(victim2 + L.F_BK_NEXTSIZE);
        let size: number;
        while ((size = chunksize(m, victim2)) < nb) victim2 = mem.readU32(victim2 + L.F_BK_NEXTSIZE);
        // Prefer the second of a size group so the skip list stays as it is.
        if (victim2 !== bk(m, bin) && mem.readU32(victim2 + L.F_SIZE) === mem.readU32(fd(m, victim2) + L.F_SIZE)) victim2 = fd(m, victim2);
        const remainderSize = size - nb;
        unlinkChunk(m, victim2);
        if (remainderSize < L.MINSIZE) {
          setInuseBitAtOffset(m, victim2, size);
          if (arenaBit) setHead(m, victim2, mem.readU32(victim2 + L.F_SIZE) | arenaBit);
        } else {
          const remainder = victim2 + nb;
          setHead(m, remainder, remainderSize | L.PREV_INUSE);
          setFoot(m, remainder, remainderSize);
          toUnsortedFront(m, av, remainder, remainderSize, "malloc(): corrupted unsorted chunks");
          setHead(m, victim2, nb | L.PREV_INUSE | arenaBit);
        }
        const p = victim2 + L.CHUNK_HDR_SZ;
        allocPerturb(m, p, bytes);
        return p;
      }
    }

    // The binmap: the next non-empty larger bin; its smallest chunk fits.
    let i = idx + 1;
    let block = i >>> L.BINMAPSHIFT;
    let map = mem.readU32(av + L.AV_BINMAP + 4 * block);
    let bit = (1 << (i & 31)) >>> 0;
    let found = 0;
    for (;;) {
      if (bit > map || bit === 0) {
        do {
          if (++block >= L.BINMAPSIZE) break;
        } while ((map = mem.readU32(av + L.AV_BINMAP + 4 * block)) === 0);
        if (block >= L.BINMAPSIZE) break;
        i = block << L.BINMAPSHIFT;
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
        mem.write32(av + L.AV_BINMAP + 4 * block, map);
        i++;
        bit = (bit << 1) >>> 0;
        continue;
      }
      found = victim3;
      const size = chunksize(m, victim3);
      const remainderSize = size - nb;
      unlinkChunk(m, victim3);
      if (remainderSize < L.MINSIZE) {
        setInuseBitAtOffset(m, victim3, size);
        if (arenaBit) setHead(m, victim3, mem.readU32(victim3 + L.F_SIZE) | arenaBit);
      } else {
        const remainder = victim3 + nb;
        setHead(m, remainder, remainderSize | L.PREV_INUSE);
        setFoot(m, remainder, remainderSize);
        toUnsortedFront(m, av, remainder, remainderSize, "malloc(): corrupted unsorted chunks 2");
        if (L.inSmallbinRange(nb)) mem.write32(av + L.AV_LAST_REMAINDER, remainder);
        setHead(m, victim3, nb | L.PREV_INUSE | arenaBit);
      }
      break;
    }
    if (found !== 0) {
      const p = found + L.CHUNK_HDR_SZ;
      allocPerturb(m, p, bytes);
      return p;
    }

    // use_top: split from the bottom of the top chunk.
    const top = mem.readU32(av + L.AV_TOP);
    const size = chunksize(m, top);
    if (size > mem.readU32(av + L.AV_SYSTEM_MEM)) m.printerr("malloc(): corrupted top size");
    if (size >= nb + L.MINSIZE) {
      const remainder = top + nb;
      mem.write32(av + L.AV_TOP, remainder);
      setHead(m, top, nb | L.PREV_INUSE | arenaBit);
      setHead(m, remainder, (size - nb) | L.PREV_INUSE);
      const p = top + L.CHUNK_HDR_SZ;
      allocPerturb(m, p, bytes);
      return p;
    }
    if (mem.readU32(av + L.AV_HAVE_FASTCHUNKS) !== 0) {
      mallocConsolidate(m, av);
      idx = L.inSmallbinRange(nb) ? L.smallbinIndex(nb) : L.largebinIndex(nb);
      continue;
    }
    const r = sysmalloc(m, nb, av);
    if (r !== 0) allocPerturb(m, r, bytes);
    return r;
  }
}

/** The tcache entry cached during the unsorted scan (tcache_get). */
function tcacheGetFrom(m: Malloc, idx: number): number {
  const mem = m.mem;
  const tc = m.tls.tcache;
  const slot = tc + L.TC_ENTRIES + 4 * idx;
  const e = mem.readU32(slot);
  if (L.misalignedChunk(e - L.CHUNK_HDR_SZ)) m.printerr("malloc(): unaligned tcache chunk detected");
  mem.write32(slot, L.protectPtr(e, mem.readU32(e)));
  const c = tc + 2 * idx;
  mem.write16(c, mem.read16(c) - 1);
  mem.write32(e + L.TE_KEY, 0);
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
  const size = chunksize(m, p);
  // (uintptr_t) p > (uintptr_t) -size: a size of 0 wraps to 0 and fails too.
  if (p > (-size >>> 0) || L.misalignedChunk(p)) m.printerr("free(): invalid pointer");
  if (size < L.MINSIZE || size & L.MALLOC_ALIGN_MASK) m.printerr("free(): invalid size");

  const tc = m.tls.tcache;
  const tcIdx = L.csize2tidx(size);
  if (tc !== 0 && tcIdx < m.g(L.MP_TCACHE_BINS)) {
    const e = p + L.CHUNK_HDR_SZ;
    const tcCount = m.g(L.MP_TCACHE_COUNT);
    if (mem.readU32(e + L.TE_KEY) === m.g(L.G_TCACHE_KEY)) {
      // Possibly a double free: walk this bin to be sure (a coincidental key match just continues).
      let cnt = 0;
      for (let tmp = mem.readU32(tc + L.TC_ENTRIES + 4 * tcIdx); tmp !== 0; tmp = L.protectPtr(tmp, mem.readU32(tmp)), cnt++) {
        if (cnt >= tcCount) m.printerr("free(): too many chunks detected in tcache");
        if (tmp & L.MALLOC_ALIGN_MASK) m.printerr("free(): unaligned chunk detected in tcache 2");
        if (tmp === e) m.printerr("free(): double free detected in tcache 2");
      }
    }
    if (mem.read16(tc + 2 * tcIdx) < tcCount) {
      m.tcachePut(tc, p, tcIdx);
      return;
    }
  }

  if (size <= m.g(L.G_MAX_FAST)) {
    const next = p + size;
    if (mem.readU32(next + L.F_SIZE) <= L.CHUNK_HDR_SZ || chunksize(m, next) >= mem.readU32(av + L.AV_SYSTEM_MEM)) {
      m.printerr("free(): invalid next size (fast)");
    }
    freePerturb(m, p + L.CHUNK_HDR_SZ, size - L.CHUNK_HDR_SZ);
    mem.write32(av + L.AV_HAVE_FASTCHUNKS, 1);
    const idx = L.fastbinIndex(size);
    const fb = av + L.AV_FASTBINS + 4 * idx;
    const old = mem.readU32(fb);
    if (old === p) m.printerr("double free or corruption (fasttop)");
    setFd(m, p, L.protectPtr(p + L.F_FD, old));
    mem.write32(fb, p);
    // Only with the arena lock held (internal frees): free() itself may not dereference old.
    if (haveLock && old !== 0 && L.fastbinIndex(chunksize(m, old)) !== idx) m.printerr("invalid fastbin entry (free)");
    return;
  }
  mergeChunk(m, av, p, size);
}

/** _int_free_merge_chunk: coalesce with free neighbours, bin the result, maybe trim. */
function mergeChunk(m: Malloc, av: number, p: number, size: number): void {
  const mem = m.mem;
  const next = p + size;
  const top = mem.readU32(av + L.AV_TOP);
  if (p === top) m.printerr("double free or corruption (top)");
  if (!(mem.readU32(av + L.AV_FLAGS) & L.NONCONTIGUOUS_BIT) && next >= top + chunksize(m, top)) m.printerr("double free or corruption (out)");
  if (!(mem.readU32(next + L.F_SIZE) & L.PREV_INUSE)) m.printerr("double free or corruption (!prev)");
  const nextsize = chunksize(m, next);
  if (mem.readU32(next + L.F_SIZE) <= L.CHUNK_HDR_SZ || nextsize >= mem.readU32(av + L.AV_SYSTEM_MEM)) m.printerr("free(): invalid next size (normal)");
  freePerturb(m, p + L.CHUNK_HDR_SZ, size - L.CHUNK_HDR_SZ);
  // Consolidate backward.
  if (!(mem.readU32(p + L.F_SIZE) & L.PREV_INUSE)) {
    const prevsize = mem.readU32(p + L.F_PREV_SIZE);
    size += prevsize;
    p -= prevsize;
    if (chunksize(m, p) !== prevsize) m.printerr("corrupted size vs. prev_size while consolidating");
    unlinkChunk(m, p);
  }
  size = createChunk(m, av, p, size, next, nextsize, top);
  maybeConsolidate(m, av, size);
}

/** _int_free_create_chunk: forward-coalesce, then into the unsorted bin or top. */
function createChunk(m: Malloc, av: number, p: number, size: number, next: number, nextsize: number, top: number): number {
  if (next !== top) {
    if (!inuseBitAtOffset(m, next, nextsize)) {
      unlinkChunk(m, next);
      size += nextsize;
    } else clearInuseBitAtOffset(m, next, 0);
    toUnsortedFront(m, av, p, size, "free(): corrupted unsorted chunks");
    setHead(m, p, size | L.PREV_INUSE);
    setFoot(m, p, size);
  } else {
    size += nextsize;
    setHead(m, p, size | L.PREV_INUSE);
    m.mem.write32(av + L.AV_TOP, p);
  }
  return size;
}

/** _int_free_maybe_consolidate: a big free consolidates fastbins and may trim top. */
function maybeConsolidate(m: Malloc, av: number, size: number): void {
  if (size < L.FASTBIN_CONSOLIDATION_THRESHOLD) return;
  if (m.mem.readU32(av + L.AV_HAVE_FASTCHUNKS) !== 0) mallocConsolidate(m, av);
  if (isMainArena(m, av)) {
    if (chunksize(m, m.mem.readU32(av + L.AV_TOP)) >= m.g(L.MP_TRIM_THRESHOLD)) systrim(m, m.g(L.MP_TOP_PAD), av);
  } else {
    heapTrimForArena(m, av, m.g(L.MP_TOP_PAD));
  }
}

// ---- malloc_consolidate --------------------------------------------------------------------

/** Coalesce every fastbin chunk into the unsorted bin or top. */
export function mallocConsolidate(m: Malloc, av: number): void {
  const prev = m.libc.enter(m.symConsolidate);
  const mem = m.mem;
  mem.write32(av + L.AV_HAVE_FASTCHUNKS, 0);
  const unsorted = L.unsortedChunks(av);
  for (let idx = 0; idx < L.NFASTBINS; idx++) {
    const fb = av + L.AV_FASTBINS + 4 * idx;
    let p = mem.readU32(fb);
    mem.write32(fb, 0);
    while (p !== 0) {
      if (L.misalignedChunk(p)) m.printerr("malloc_consolidate(): unaligned fastbin chunk detected");
      if (L.fastbinIndex(chunksize(m, p)) !== idx) m.printerr("malloc_consolidate(): invalid chunk size");
      const nextp = L.protectPtr(p + L.F_FD, fd(m, p));
      let size = chunksize(m, p);
      const next = p + size;
      const nextsize = chunksize(m, next);
      if (!(mem.readU32(p + L.F_SIZE) & L.PREV_INUSE)) {
        const prevsize = mem.readU32(p + L.F_PREV_SIZE);
        size += prevsize;
        p -= prevsize;
        if (chunksize(m, p) !== prevsize) m.printerr("corrupted size vs. prev_size in fastbins");
        unlinkChunk(m, p);
      }
      if (next !== mem.readU32(av + L.AV_TOP)) {
        if (!inuseBitAtOffset(m, next, nextsize)) {
          size += nextsize;
          unlinkChunk(m, next);
        } else clearInuseBitAtOffset(m, next, 0);
        const first = fd(m, unsorted);
        setFd(m, unsorted, p);
        setBk(m, first, p);
        if (!L.inSmallbinRange(size)) {
          mem.write32(p + L.F_FD_NEXTSIZE, 0);
          mem.write32(p + L.F_BK_NEXTSIZE, 0);
        }
        setHead(m, p, size | L.PREV_INUSE);
        setBk(m, p, unsorted);
        setFd(m, p, first);
        setFoot(m, p, size);
      } else {
        size += nextsize;
        setHead(m, p, size | L.PREV_INUSE);
        mem.write32(av + L.AV_TOP, p);
      }
      p = nextp;
    }
  }
  m.libc.leave(prev);
}
