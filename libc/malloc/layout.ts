// ptmalloc2's data layout for the i386 ABI (SIZE_SZ 4, MALLOC_ALIGNMENT 16),
// derived by glibc's own formulas. Everything lives in user memory: chunks,
// the arenas (malloc_state), the parameters (mp_) and the tcache.
//
// An allocated chunk:                    A free chunk:
//
//   chunk-> +---------------------+       chunk-> +---------------------+
//           | prev_size (if P=0)  |               | prev_size (if P=0)  |
//           +---------------------+               +---------------------+
//           | size          |A|M|P|               | size          |A|M|P|
//     mem-> +---------------------+               +---------------------+ <- mem
//           | user data ...       |               | fd                  |
//           |                     |               | bk                  |
//           |                     |               | fd_nextsize (large) |
//           |                     |               | bk_nextsize (large) |
//           |                     |               | ...                 |
//   next -> +---------------------+       next -> +---------------------+
//           | (user's last word)  |               | prev_size = size    | (foot)
//           | size of next  |A|M|0|               | size of next  |A|M|0|
//
// P = PREV_INUSE, M = IS_MMAPPED, A = NON_MAIN_ARENA. mem is 16-aligned, so
// chunks sit at 8 mod 16.

export const SIZE_SZ = 4;
export const MALLOC_ALIGNMENT = 16;
export const MALLOC_ALIGN_MASK = MALLOC_ALIGNMENT - 1;
export const CHUNK_HDR_SZ = 2 * SIZE_SZ;
/** offsetof(struct malloc_chunk, fd_nextsize), rounded up to the alignment. */
export const MIN_CHUNK_SIZE = 4 * SIZE_SZ;
export const MINSIZE = (MIN_CHUNK_SIZE + MALLOC_ALIGN_MASK) & ~MALLOC_ALIGN_MASK;

export const PREV_INUSE = 0x1;
export const IS_MMAPPED = 0x2;
export const NON_MAIN_ARENA = 0x4;
export const SIZE_BITS = 0x7;

/** Largest request glibc accepts: PTRDIFF_MAX on i386. */
export const PTRDIFF_MAX = 0x7fffffff;

// Chunk field offsets.
export const F_PREV_SIZE = 0;
export const F_SIZE = 4;
export const F_FD = 8;
export const F_BK = 12;
export const F_FD_NEXTSIZE = 16;
export const F_BK_NEXTSIZE = 20;

/** misaligned_chunk: the chunk's mem is not 16-aligned. */
export function misalignedChunk(p: number): boolean {
  return ((p + CHUNK_HDR_SZ) & MALLOC_ALIGN_MASK) !== 0;
}

/** request2size: the chunk size for a request (0 when the request is too large). */
export function request2size(req: number): number {
  if (req > PTRDIFF_MAX) return 0;
  return req + SIZE_SZ + MALLOC_ALIGN_MASK < MINSIZE ? MINSIZE : (req + SIZE_SZ + MALLOC_ALIGN_MASK) & ~MALLOC_ALIGN_MASK;
}

// ---- bins ----------------------------------------------------------------------

export const NBINS = 128;
export const NSMALLBINS = 64;
export const SMALLBIN_WIDTH = MALLOC_ALIGNMENT;
/** MALLOC_ALIGNMENT > 2 * SIZE_SZ on i386 with 16-byte alignment. */
export const SMALLBIN_CORRECTION = 1;
export const MIN_LARGE_SIZE = (NSMALLBINS - SMALLBIN_CORRECTION) * SMALLBIN_WIDTH;

export function inSmallbinRange(sz: number): boolean {
  return sz < MIN_LARGE_SIZE;
}

export function smallbinIndex(sz: number): number {
  return (sz >>> 4) + SMALLBIN_CORRECTION;
}

/** largebin_index_32_big: glibc's large-bin index for 32-bit with 16-byte alignment. */
export function largebinIndex(sz: number): number {
  if (sz >>> 6 <= 45) return 49 + (sz >>> 6);
  if (sz >>> 9 <= 20) return 91 + (sz >>> 9);
  if (sz >>> 12 <= 10) return 110 + (sz >>> 12);
  if (sz >>> 15 <= 4) return 119 + (sz >>> 15);
  if (sz >>> 18 <= 2) return 124 + (sz >>> 18);
  return 126;
}

export function binIndex(sz: number): number {
  return inSmallbinRange(sz) ? smallbinIndex(sz) : largebinIndex(sz);
}

// Fastbins: fastbin_index uses >> 3 on 32-bit.
export const MAX_FAST_SIZE = (80 * SIZE_SZ) / 4;
export const DEFAULT_MXFAST = (64 * SIZE_SZ) / 4;
export function fastbinIndex(sz: number): number {
  return (sz >>> 3) - 2;
}
export const NFASTBINS = fastbinIndex(request2size(MAX_FAST_SIZE)) + 1;
export const FASTBIN_CONSOLIDATION_THRESHOLD = 65536;

/** set_max_fast: the chunk-size bound fastbins take. */
export function maxFastFor(s: number): number {
  return s === 0 ? MIN_CHUNK_SIZE / 2 : (s + SIZE_SZ) & ~MALLOC_ALIGN_MASK;
}

// Binmap: one bit per bin in 4 words.
export const BINMAPSHIFT = 5;
export const BITSPERMAP = 1 << BINMAPSHIFT;
export const BINMAPSIZE = NBINS / BITSPERMAP;

// ---- struct malloc_state (an arena) --------------------------------------------

export const AV_MUTEX = 0;
export const AV_FLAGS = 4;
export const AV_HAVE_FASTCHUNKS = 8;
export const AV_FASTBINS = 12;
export const AV_TOP = AV_FASTBINS + 4 * NFASTBINS;
export const AV_LAST_REMAINDER = AV_TOP + 4;
export const AV_BINS = AV_LAST_REMAINDER + 4;
export const AV_BINMAP = AV_BINS + 4 * (NBINS * 2 - 2);
export const AV_NEXT = AV_BINMAP + 4 * BINMAPSIZE;
export const AV_NEXT_FREE = AV_NEXT + 4;
export const AV_ATTACHED = AV_NEXT_FREE + 4;
export const AV_SYSTEM_MEM = AV_ATTACHED + 4;
export const AV_MAX_SYSTEM_MEM = AV_SYSTEM_MEM + 4;
export const SIZEOF_MALLOC_STATE = AV_MAX_SYSTEM_MEM + 4;

/** flags bit: the arena is not contiguous (its memory came from mmap, not brk). */
export const NONCONTIGUOUS_BIT = 2;

/** bin_at: the fake chunk whose fd/bk are bin i's list head. */
export function binAt(av: number, i: number): number {
  return av + AV_BINS + (i - 1) * 8 - F_FD;
}

export function unsortedChunks(av: number): number {
  return binAt(av, 1);
}

// ---- struct malloc_par (mp_) and other globals, kept after main_arena ------------

export const MP_TRIM_THRESHOLD = 0;
export const MP_TOP_PAD = 4;
export const MP_MMAP_THRESHOLD = 8;
export const MP_ARENA_TEST = 12;
export const MP_ARENA_MAX = 16;
export const MP_N_MMAPS = 20;
export const MP_N_MMAPS_MAX = 24;
export const MP_MAX_N_MMAPS = 28;
export const MP_NO_DYN_THRESHOLD = 32;
export const MP_MMAPPED_MEM = 36;
export const MP_MAX_MMAPPED_MEM = 40;
export const MP_SBRK_BASE = 44;
export const MP_TCACHE_BINS = 48;
export const MP_TCACHE_MAX_BYTES = 52;
export const MP_TCACHE_COUNT = 56;
export const MP_TCACHE_UNSORTED_LIMIT = 60;
export const G_MAX_FAST = 64;
export const G_PERTURB = 68;
export const G_TCACHE_KEY = 72;
export const G_NARENAS = 76;
export const G_NARENAS_LIMIT = 80;
export const G_NEXT_TO_USE = 84;
export const G_FREE_LIST = 88;
export const G_NOZERO = 92;
export const G_CURBRK = 96;
export const G_ALIGNED_HEAP = 100;
export const SIZEOF_GLOBALS = 104;

// ---- tcache ------------------------------------------------------------------------

export const TCACHE_MAX_BINS = 64;
export const TCACHE_FILL_COUNT = 7;
export const MAX_TCACHE_COUNT = 65535;
/** tcache_perthread_struct: uint16_t counts[64], then tcache_entry *entries[64]. */
export const TC_COUNTS = 0;
export const TC_ENTRIES = 2 * TCACHE_MAX_BINS;
export const SIZEOF_TCACHE = TC_ENTRIES + 4 * TCACHE_MAX_BINS;
/** A tcache entry overlays the user area: next (safe-linked) then key. */
export const TE_NEXT = 0;
export const TE_KEY = 4;

export function csize2tidx(x: number): number {
  return ((x - MINSIZE + MALLOC_ALIGNMENT - 1) / MALLOC_ALIGNMENT) | 0;
}
export function tidx2usize(i: number): number {
  return i * MALLOC_ALIGNMENT + MINSIZE - SIZE_SZ;
}
export const MAX_TCACHE_SIZE = tidx2usize(TCACHE_MAX_BINS - 1);

/** Safe-linking: PROTECT_PTR(pos, ptr) = (pos >> 12) ^ ptr (REVEAL_PTR is the same). */
export function protectPtr(pos: number, ptr: number): number {
  return ((pos >>> 12) ^ ptr) >>> 0;
}

// ---- mmap and heaps ----------------------------------------------------------------

export const DEFAULT_MMAP_THRESHOLD_MIN = 128 * 1024;
/** 512 KiB on 32-bit. */
export const DEFAULT_MMAP_THRESHOLD_MAX = 512 * 1024;
export const DEFAULT_TRIM_THRESHOLD = 128 * 1024;
export const DEFAULT_TOP_PAD = 128 * 1024;
export const DEFAULT_MMAP_MAX = 65536;
export const HEAP_MIN_SIZE = 32 * 1024;
export const HEAP_MAX_SIZE = 2 * DEFAULT_MMAP_THRESHOLD_MAX;
/** The brk fallback when MORECORE fails: at least 1 MiB of mmap. */
export const MMAP_AS_MORECORE_SIZE = 1024 * 1024;
/** arena_test and NARENAS_FROM_NCORES on 32-bit. */
export const ARENA_TEST_32 = 2;
export const NARENAS_PER_CORE_32 = 2;

/** heap_info: ar_ptr, prev, size, mprotect_size, pagesize, pad; 24 bytes. */
export const HI_AR_PTR = 0;
export const HI_PREV = 4;
export const HI_SIZE = 8;
export const HI_MPROTECT_SIZE = 12;
export const HI_PAGESIZE = 16;
export const SIZEOF_HEAP_INFO = 24;

export const PAGESIZE = 4096;
