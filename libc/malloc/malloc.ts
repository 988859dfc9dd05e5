// ptmalloc2 (glibc 2.35-2.39 malloc), in TypeScript over user memory.
//
// Why this allocator: it is the one the experiment measures. Small requests
// come from per-thread caches (tcache) and per-arena fastbins; the rest from
// the unsorted, small and large bins of an arena, then its top chunk; large
// requests get their own mmap, with glibc's dynamic threshold. The main arena
// grows by brk; threads get arenas in mmap'd heaps. With MALLOC_NOZERO=1 the
// heap grows by brk2(..., BRK_NOZERO) and every mapping is MAP_NOZERO, and
// calloc clears everything it returns because fresh kernel memory is no
// longer known to be zero.
//
// Vital statistics (i386): chunks are 16-byte multiples at 8 mod 16, with 4
// bytes of overhead (8 for mmapped chunks); the smallest chunk is 16 bytes
// (12 usable). Every piece of state is in user memory: main_arena and mp_ in
// libc's data, the tcache and other arenas in the heap.
//
// This file: the public entry points (__libc_malloc and friends) and the
// tcache. int_malloc.ts: _int_malloc, _int_free, malloc_consolidate, bins.
// sysmalloc.ts: growing and trimming. arena.ts: arenas and heaps.
// realloc.ts: realloc and memalign. tunables.ts, stats.ts, check.ts.

import { NUEV, Uev } from "../../kernel/cost/events.ts";
import type { Libc } from "../libc.ts";
import type { UserMemory } from "../../kernel/uaccess.ts";
import { arenaForChunk, arenaGet, arenaGetRetry, mallocInitState } from "./arena.ts";
import { intFree, intFreeFast, intMalloc, mallocConsolidate } from "./int_malloc.ts";
import * as L from "./layout.ts";
import { intMemalign, intRealloc, mremapChunk } from "./realloc.ts";
import { mtrimArena, munmapChunk } from "./sysmalloc.ts";
import { applyEnvironment, initTcacheKey, setDefaults } from "./tunables.ts";

// Layout constants as module locals: V8 would load an imported one through its
// module cell at every use, and that costs the hot paths about 7%.
const {
  AV_MAX_SYSTEM_MEM, AV_NEXT, AV_TOP, CHUNK_HDR_SZ, DEFAULT_MMAP_THRESHOLD_MAX, F_SIZE, G_NOZERO, G_PERTURB,
  G_TCACHE_KEY, HEAP_MAX_SIZE, HI_MPROTECT_SIZE, IS_MMAPPED, MALLOC_ALIGNMENT, MALLOC_ALIGN_MASK, MINSIZE,
  MP_MMAP_THRESHOLD, MP_NO_DYN_THRESHOLD, MP_SBRK_BASE, MP_TCACHE_BINS, MP_TRIM_THRESHOLD,
  NON_MAIN_ARENA, PAGESIZE, PREV_INUSE, SIZEOF_GLOBALS, SIZEOF_MALLOC_STATE, SIZEOF_TCACHE, SIZE_BITS, SIZE_SZ,
  TCACHE_MAX_BINS, TC_ENTRIES, TE_KEY,
} = L;

const EINVAL = 22;
const ENOMEM = 12;
const SIGABRT_MSG_FD = 2;
/** Loads and stores of a tcache hit in malloc (the bin checks, then tcache_get). */
const TCACHE_GET_ACCESSES = 8;
/** free's own loads (the size, twice) before _int_free. */
const FREE_ACCESSES = 2;

/**
 * A JS copy of mp_ and the other globals, shared by a process's threads and
 * copied at fork. Every read still counts as the load glibc makes (the
 * simulated cost is unchanged); only the emulator skips translating it.
 * Every write goes to user memory and the copy together.
 */
class GlobalsCopy {
  readonly v = new Uint32Array(SIZEOF_GLOBALS / 4);
  clone(): GlobalsCopy {
    const c = new GlobalsCopy();
    c.v.set(this.v);
    return c;
  }
}

/** Per-thread malloc state: the thread's tcache and arena (glibc keeps these in TLS). */
export interface ThreadState {
  tcache: number;
  arena: number;
}

/**
 * One thread's view of its process's allocator. Process-wide state is in
 * user memory at `mp` (mp_ and globals) and `av0` (main_arena); only the
 * TLS pointers are JS fields.
 */
export class Malloc {
  readonly mem: UserMemory;
  /** main_arena and the parameters, in libc's data. */
  readonly av0: number;
  readonly mp: number;
  /** Symbols for cost attribution. */
  readonly symMalloc: number;
  readonly symFree: number;
  readonly symIntMalloc: number;
  readonly symIntFree: number;
  readonly symSysmalloc: number;
  readonly symConsolidate: number;
  readonly symCalloc: number;
  readonly symRealloc: number;
  /** True once this thread has checked the process's allocator is initialised. */
  private initialized = false;
  /** The process's copy of mp_ and the globals (see GlobalsCopy); g() is the counted read. */
  readonly globals: Uint32Array;
  /** The ACCESS counters of malloc, free and _int_free, for the fast paths. */
  private readonly accMalloc: number;
  private readonly accFree: number;
  private readonly accIntFree: number;

  constructor(
    readonly libc: Libc,
    base: number,
    readonly tls: ThreadState,
  ) {
    this.mem = libc.mem;
    this.av0 = base;
    this.mp = base + ((SIZEOF_MALLOC_STATE + 15) & ~15);
    const img = "libc.so.6";
    this.symMalloc = libc.symbol(img, "malloc");
    this.symFree = libc.symbol(img, "free");
    this.symIntMalloc = libc.symbol(img, "_int_malloc");
    this.symIntFree = libc.symbol(img, "_int_free");
    this.symSysmalloc = libc.symbol(img, "sysmalloc");
    this.symConsolidate = libc.symbol(img, "malloc_consolidate");
    this.symCalloc = libc.symbol(img, "calloc");
    this.symRealloc = libc.symbol(img, "realloc");
    this.globals = libc.ext("malloc.globals", () => new GlobalsCopy()).v;
    this.accMalloc = this.symMalloc * NUEV + Uev.ACCESS;
    this.accFree = this.symFree * NUEV + Uev.ACCESS;
    this.accIntFree = this.symIntFree * NUEV + Uev.ACCESS;
  }

  /** Bytes of libc data the allocator needs at `base`. */
  static readonly DATA_BYTES = ((SIZEOF_MALLOC_STATE + 15) & ~15) + SIZEOF_GLOBALS;

  // ---- small helpers shared by the other files ----------------------------------------

  /** A global of mp_ (the load glibc makes, counted; the value from the process's copy). */
  g(off: number): number {
    this.mem.acc++;
    return this.globals[off >> 2];
  }

  setG(off: number, v: number): void {
    this.mem.write32(this.mp + off, v);
    this.globals[off >> 2] = v;
  }

  get nozero(): boolean {
    return this.g(G_NOZERO) !== 0;
  }

  /** malloc_printerr: the message on stderr, then abort (SIGABRT); the process ends here. */
  printerr(msg: string): never {
    this.libc.writeString(SIGABRT_MSG_FD, msg + "\n");
    return this.libc.abort();
  }

  /** ptmalloc_init: parameters from the environment and tunables, the main arena. */
  ensureInit(): void {
    if (this.initialized) return;
    this.initialized = true;
    if (this.g(G_TCACHE_KEY) !== 0) return; // inherited across fork: already set up
    setDefaults(this);
    mallocInitState(this, this.av0);
    applyEnvironment(this);
    initTcacheKey(this);
    this.tls.arena = this.av0;
  }

  // ---- tcache ---------------------------------------------------------------------------

  private tcacheInit(): void {
    const bytes = SIZEOF_TCACHE;
    let av = arenaGet(this, bytes);
    let victim = intMalloc(this, av, bytes);
    if (victim === 0 && av !== 0) {
      av = arenaGetRetry(this, av, bytes);
      victim = intMalloc(this, av, bytes);
    }
    if (victim !== 0) {
      this.mem.memset(victim, 0, bytes);
      this.tls.tcache = victim;
    }
  }

  /** tcache_get: pop the head of bin idx. */
  private tcacheGet(tc: number, idx: number): number {
    const m = this.mem;
    const slot = tc + TC_ENTRIES + 4 * idx;
    const e = m.readU32(slot);
    if (e & MALLOC_ALIGN_MASK) this.printerr("malloc(): unaligned tcache chunk detected");
    m.write32(slot, L.protectPtr(e, m.readU32(e)));
    const c = tc + 2 * idx;
    m.write16(c, m.read16(c) - 1);
    m.write32(e + TE_KEY, 0);
    return e;
  }

  /** tcache_put: push chunk p onto bin idx. */
  tcachePut(tc: number, p: number, idx: number): void {
    const m = this.mem;
    const e = p + CHUNK_HDR_SZ;
    const slot = tc + TC_ENTRIES + 4 * idx;
    m.write32(e + TE_KEY, this.g(G_TCACHE_KEY));
    m.write32(e, L.protectPtr(e, m.readU32(slot)));
    m.write32(slot, e);
    const c = tc + 2 * idx;
    m.write16(c, m.read16(c) + 1);
  }

  // ---- fast paths ---------------------------------------------------------------------------
  //
  // The commonest malloc (a tcache hit) and frees, done on physical memory
  // once every word they touch is known to be in the TLB (so none of their
  // accesses could miss: UserMemory.wordW). They make the same stores and
  // count the same loads and stores to the same symbols as the general path,
  // without switching symbols; anything else (a miss, a check that would
  // fail, an empty bin) returns 0 before changing anything, and the general
  // path does the operation.

  /** malloc served from the tcache: the chunk, or 0. */
  private tcacheGetFast(bytes: number): number {
    const tc = this.tls.tcache;
    const nb = L.request2size(bytes);
    if (tc === 0 || nb === 0 || !this.initialized) return 0;
    const idx = L.csize2tidx(nb);
    const mem = this.mem;
    const counts = mem.counts;
    if (idx >= this.globals[MP_TCACHE_BINS >> 2] || counts.length <= this.accMalloc) return 0;
    const ci = mem.halfW(tc + 2 * idx);
    const si = mem.wordW(tc + TC_ENTRIES + 4 * idx);
    if (ci < 0 || si < 0) return 0;
    const n = mem.u16[ci];
    const e = mem.i32[si] >>> 0;
    if (n === 0 || e & MALLOC_ALIGN_MASK) return 0;
    const ei = mem.wordW(e);
    if (ei < 0) return 0;
    mem.i32[si] = L.protectPtr(e, mem.i32[ei] >>> 0);
    mem.u16[ci] = n - 1;
    mem.i32[ei + (TE_KEY >> 2)] = 0;
    counts[this.accMalloc] += TCACHE_GET_ACCESSES;
    return e;
  }

  /** free of a main-arena chunk by _int_free's fast paths (int_malloc.ts): true if done. */
  private freeFast(mem: number): boolean {
    const m = this.mem;
    const counts = m.counts;
    const head = m.wordW(mem - CHUNK_HDR_SZ + F_SIZE);
    if (!this.initialized || head < 0 || counts.length <= this.accFree || counts.length <= this.accIntFree) return false;
    // Mmapped chunks and other arenas' take the general path.
    if (m.i32[head] & (IS_MMAPPED | NON_MAIN_ARENA)) return false;
    const n = intFreeFast(this, this.av0, mem - CHUNK_HDR_SZ, false);
    if (n === 0) return false;
    counts[this.accFree] += FREE_ACCESSES;
    counts[this.accIntFree] += n;
    return true;
  }

  // ---- public API -----------------------------------------------------------------------

  /** __libc_malloc. Returns the user pointer, or 0 with errno ENOMEM. */
  malloc(bytes: number): number {
    const hit = this.tcacheGetFast(bytes);
    if (hit !== 0) return hit;
    const prev = this.libc.enter(this.symMalloc);
    this.ensureInit();
    const nb = L.request2size(bytes);
    if (nb === 0) {
      this.libc.errno = ENOMEM;
      this.libc.leave(prev);
      return 0;
    }
    const idx = L.csize2tidx(nb);
    if (this.tls.tcache === 0) this.tcacheInit();
    const tc = this.tls.tcache;
    let victim: number;
    if (tc !== 0 && idx < this.g(MP_TCACHE_BINS) && this.mem.read16(tc + 2 * idx) > 0) {
      victim = this.tcacheGet(tc, idx);
    } else {
      let av = arenaGet(this, bytes);
      victim = intMalloc(this, av, bytes);
      if (victim === 0 && av !== 0) {
        av = arenaGetRetry(this, av, bytes);
        victim = intMalloc(this, av, bytes);
      }
      if (victim === 0) this.libc.errno = ENOMEM;
    }
    this.libc.leave(prev);
    return victim;
  }

  /** __libc_free. errno is preserved. */
  free(mem: number): void {
    if (mem === 0 || this.freeFast(mem)) return;
    const prev = this.libc.enter(this.symFree);
    const errno = this.libc.errno;
    this.ensureInit();
    const p = mem - CHUNK_HDR_SZ;
    const sizeNomask = this.mem.readU32(p + F_SIZE);
    if (sizeNomask & IS_MMAPPED) {
      // The dynamic threshold: a freed mmapped chunk raises the mmap threshold to its size.
      if (this.g(MP_NO_DYN_THRESHOLD) === 0 && sizeNomask > this.g(MP_MMAP_THRESHOLD) && sizeNomask <= DEFAULT_MMAP_THRESHOLD_MAX) {
        const size = sizeNomask & ~SIZE_BITS;
        this.setG(MP_MMAP_THRESHOLD, size);
        this.setG(MP_TRIM_THRESHOLD, 2 * size);
      }
      munmapChunk(this, p);
    } else {
      if (this.tls.tcache === 0) this.tcacheInit();
      intFree(this, arenaForChunk(this, p), p, false);
    }
    this.libc.errno = errno;
    this.libc.leave(prev);
  }

  /**
   * __libc_calloc: n*elem bytes, all zero. glibc skips clearing memory it
   * knows came fresh from the kernel (mmapped chunks, the part of top above
   * the highest break ever reached); with MALLOC_NOZERO nothing from the
   * kernel is known to be zero, so everything is cleared.
   */
  calloc(n: number, elem: number): number {
    const prev = this.libc.enter(this.symCalloc);
    const r = this.callocInner(n, elem);
    this.libc.leave(prev);
    return r;
  }

  private callocInner(n: number, elem: number): number {
    const m = this.mem;
    const sz = n * elem;
    if (sz > 0xffffffff || !Number.isSafeInteger(sz)) {
      this.libc.errno = ENOMEM;
      return 0;
    }
    this.ensureInit();
    if (this.tls.tcache === 0) this.tcacheInit();
    const perturb = this.g(G_PERTURB) !== 0;
    const nozero = this.nozero;
    let av = arenaGet(this, sz);
    let oldtopsize = 0;
    let oldtop = 0;
    if (av !== 0) {
      oldtop = m.readU32(av + AV_TOP);
      oldtopsize = m.readU32(oldtop + F_SIZE) & ~SIZE_BITS;
      if (av === this.av0) {
        // MORECORE_CLEARS < 2: memory below the highest break ever obtained may be dirty.
        const hw = this.g(MP_SBRK_BASE) + m.readU32(av + AV_MAX_SYSTEM_MEM) - oldtop;
        if (oldtopsize < hw) oldtopsize = hw;
      } else {
        const heap = (oldtop & ~(HEAP_MAX_SIZE - 1)) >>> 0;
        const hw = heap + m.readU32(heap + HI_MPROTECT_SIZE) - oldtop;
        if (oldtopsize < hw) oldtopsize = hw;
      }
    }
    let mem = intMalloc(this, av, sz);
    if (mem === 0 && av !== 0) {
      av = arenaGetRetry(this, av, sz);
      mem = intMalloc(this, av, sz);
    }
    if (mem === 0) {
      this.libc.errno = ENOMEM;
      return 0;
    }
    const p = mem - CHUNK_HDR_SZ;
    const head = m.readU32(p + F_SIZE);
    if (head & IS_MMAPPED) {
      if (perturb || nozero) m.memset(mem, 0, sz);
      return mem;
    }
    let csz = head & ~SIZE_BITS;
    if (!perturb && !nozero && p === oldtop && csz > oldtopsize) csz = oldtopsize;
    m.memset(mem, 0, csz - SIZE_SZ);
    return mem;
  }

  /** __libc_realloc. */
  realloc(oldmem: number, bytes: number): number {
    const prev = this.libc.enter(this.symRealloc);
    const r = this.reallocInner(oldmem, bytes);
    this.libc.leave(prev);
    return r;
  }

  private reallocInner(oldmem: number, bytes: number): number {
    this.ensureInit();
    if (bytes === 0 && oldmem !== 0) {
      this.free(oldmem);
      return 0;
    }
    if (oldmem === 0) return this.malloc(bytes);
    const m = this.mem;
    const oldp = oldmem - CHUNK_HDR_SZ;
    const head = m.readU32(oldp + F_SIZE);
    const oldsize = (head & ~SIZE_BITS) >>> 0;
    const mmapped = (head & IS_MMAPPED) !== 0;
    // glibc 2.38: a request that still fits, with less than 2 * SIZE_SZ of slack (or, for an
    // mmapped chunk, at most a page), returns the block as it is, before any other check.
    const usable = this.usableSize(oldmem);
    if (bytes <= usable && (usable - bytes < 2 * SIZE_SZ || (mmapped && usable - bytes <= PAGESIZE))) return oldmem;
    if (!mmapped && this.tls.tcache === 0) this.tcacheInit();
    if (oldp > (-oldsize >>> 0) || L.misalignedChunk(oldp)) this.printerr("realloc(): invalid pointer");
    const nb = L.request2size(bytes);
    if (nb === 0) {
      this.libc.errno = ENOMEM;
      return 0;
    }
    if (mmapped) {
      const np = mremapChunk(this, oldp, nb);
      if (np !== 0) return np + CHUNK_HDR_SZ;
      if (oldsize - SIZE_SZ >= nb) return oldmem;
      const newmem = this.malloc(bytes);
      if (newmem === 0) return 0;
      m.memcpy(newmem, oldmem, oldsize - CHUNK_HDR_SZ);
      munmapChunk(this, oldp);
      return newmem;
    }
    const av = arenaForChunk(this, oldp);
    return intRealloc(this, av, oldp, oldsize, nb);
  }

  /** memalign / _mid_memalign: alignment rounded up to a power of two. */
  memalign(alignment: number, bytes: number): number {
    this.ensureInit();
    if (alignment <= MALLOC_ALIGNMENT) return this.malloc(bytes);
    if (alignment < MINSIZE) alignment = MINSIZE;
    if (alignment > 0x80000000) {
      this.libc.errno = EINVAL;
      return 0;
    }
    if (alignment & (alignment - 1)) {
      let a = MALLOC_ALIGNMENT * 2;
      while (a < alignment) a *= 2;
      alignment = a;
    }
    const nb = L.request2size(bytes);
    if (nb === 0) {
      this.libc.errno = ENOMEM;
      return 0;
    }
    const prev = this.libc.enter(this.symMalloc);
    const r = this.memalignFromTcache(nb, alignment) || intMemalign(this, arenaGet(this, bytes + alignment + MINSIZE), alignment, bytes);
    if (r === 0) this.libc.errno = ENOMEM;
    this.libc.leave(prev);
    return r;
  }

  /** A tcache entry of the right size that happens to be aligned already (glibc 2.38). */
  private memalignFromTcache(nb: number, alignment: number): number {
    if (this.tls.tcache === 0) this.tcacheInit();
    const tc = this.tls.tcache;
    const idx = L.csize2tidx(nb);
    if (tc === 0 || idx >= this.g(MP_TCACHE_BINS) || this.mem.read16(tc + 2 * idx) === 0) return 0;
    const m = this.mem;
    let slot = tc + TC_ENTRIES + 4 * idx;
    let e = m.readU32(slot);
    while (e !== 0 && e % alignment !== 0) {
      slot = e;
      e = L.protectPtr(e, m.readU32(e));
    }
    if (e === 0) return 0;
    // tcache_get_n: unlink e from wherever it is in the chain.
    const next = L.protectPtr(e, m.readU32(e));
    if (slot === tc + TC_ENTRIES + 4 * idx) m.write32(slot, next);
    else m.write32(slot, L.protectPtr(slot, next));
    const c = tc + 2 * idx;
    m.write16(c, m.read16(c) - 1);
    m.write32(e + TE_KEY, 0);
    return e;
  }

  /** posix_memalign: 0 and *memptr, or EINVAL/ENOMEM (memptr untouched). */
  posixMemalign(memptr: number, alignment: number, bytes: number): number {
    if (alignment % 4 !== 0 || alignment === 0 || (alignment / 4) & (alignment / 4 - 1)) return EINVAL;
    const mem = this.memalign(alignment, bytes);
    if (mem === 0) return ENOMEM;
    this.mem.write32(memptr, mem);
    return 0;
  }

  /** aligned_alloc (ISO C17: a bad alignment is EINVAL). */
  alignedAlloc(alignment: number, bytes: number): number {
    if (alignment === 0 || alignment & (alignment - 1)) {
      this.libc.errno = EINVAL;
      return 0;
    }
    return this.memalign(alignment, bytes);
  }

  valloc(bytes: number): number {
    return this.memalign(PAGESIZE, bytes);
  }

  pvalloc(bytes: number): number {
    const rounded = bytes + PAGESIZE - 1;
    if (rounded > 0xffffffff) {
      this.libc.errno = ENOMEM;
      return 0;
    }
    return this.memalign(PAGESIZE, (rounded & ~(PAGESIZE - 1)) >>> 0);
  }

  /** malloc_usable_size. */
  usableSize(mem: number): number {
    if (mem === 0) return 0;
    const p = mem - CHUNK_HDR_SZ;
    const head = this.mem.readU32(p + F_SIZE);
    const size = (head & ~SIZE_BITS) >>> 0;
    if (head & IS_MMAPPED) return size - CHUNK_HDR_SZ;
    const nextHead = this.mem.readU32((p + size + F_SIZE) >>> 0);
    return nextHead & PREV_INUSE ? size - CHUNK_HDR_SZ + SIZE_SZ : 0;
  }

  /** malloc_trim(pad): give back what can be given back, in every arena. */
  trim(pad: number): number {
    this.ensureInit();
    let result = 0;
    let av = this.av0;
    do {
      result |= mtrimArena(this, av, pad);
      av = this.mem.readU32(av + AV_NEXT);
    } while (av !== this.av0);
    return result;
  }

  /** tcache_thread_shutdown: free every cached chunk back to its arena, then the tcache itself. */
  tcacheThreadShutdown(): void {
    const tc = this.tls.tcache;
    if (tc === 0) return;
    this.tls.tcache = 0;
    const m = this.mem;
    for (let i = 0; i < TCACHE_MAX_BINS; i++) {
      let e = m.readU32(tc + TC_ENTRIES + 4 * i);
      while (e !== 0) {
        if (e & MALLOC_ALIGN_MASK) this.printerr("tcache_thread_shutdown(): unaligned tcache chunk detected");
        const next = L.protectPtr(e, m.readU32(e));
        m.write32(e + TE_KEY, 0);
        this.free(e);
        e = next;
      }
    }
    this.free(tc);
  }

  /** Consolidate the main arena (mallopt does this before every change). */
  consolidateMain(): void {
    this.ensureInit();
    mallocConsolidate(this, this.av0);
  }
}
