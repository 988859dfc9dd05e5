// glibc's own malloc tests (malloc/tst-*.c), ported as behaviours: each
// describe is named after the glibc test it follows and runs small programs
// on an emulated i386 machine, the way glibc's test driver runs its tests as
// processes. Then the integrity checks of malloc.c with their exact messages
// (ptmalloc.md §9), provoked by corrupting chunk headers through libc.mem,
// and the environment: MALLOC_* variables, GLIBC_TUNABLES, AT_SECURE, arenas
// and threads, the dynamic mmap threshold, and calloc's zeroing in every mode.
//
// i386 numbers used throughout (SIZE_SZ 4, MALLOC_ALIGNMENT 16): a chunk is
// request + 4 rounded up to 16, at least 16; malloc(20) is a 32-byte chunk
// (fastbin, tcache bin 1), malloc(200) 208 (small bin), malloc(2000) 2016
// (large bin, beyond the tcache's 1020-byte limit and the 64-byte fastbins).
// The first malloc of a process takes 400 bytes for the tcache itself.

import { describe, expect, it } from "vitest";
import type { Libc, Main } from "../../libc/libc.ts";
import { checkHeap } from "../../libc/malloc/check.ts";
import * as L from "../../libc/malloc/layout.ts";
import { M_CHECK_ACTION, M_MMAP_MAX, M_MMAP_THRESHOLD, M_MXFAST, M_PERTURB, M_TOP_PAD, M_TRIM_THRESHOLD } from "../../libc/malloc/tunables.ts";
import { type ProgramRun, TestMachine, expectClean, expectMachineWorks, expectMallocAbort } from "./helpers.ts";

const ENOMEM = 12;
const EINVAL = 22;
const SIZE_MAX = 0xffffffff;
const PTRDIFF_MAX = 0x7fffffff;
const PAGESIZE = 4096;
const TCACHE_OFF = "GLIBC_TUNABLES=glibc.malloc.tcache_count=0";

// ---- chunk access from a user pointer (what a heap overflow would touch) --------------

/** The size word of mem's chunk (size | flags). */
const head = (libc: Libc, mem: number) => libc.mem.readU32(mem - L.SIZE_SZ);
const setHead = (libc: Libc, mem: number, v: number) => libc.mem.write32(mem - L.SIZE_SZ, v >>> 0);
/** prev_size of mem's chunk: the last word of the chunk before it. */
const setPrevSize = (libc: Libc, mem: number, v: number) => libc.mem.write32(mem - L.CHUNK_HDR_SZ, v >>> 0);
const chunk = (mem: number) => mem - L.CHUNK_HDR_SZ;
const rd = (libc: Libc, a: number) => libc.mem.readU32(a);
const wr = (libc: Libc, a: number, v: number) => libc.mem.write32(a, v >>> 0);
/** Flip bit 2 of a safe-linked next pointer: whatever it revealed is now misaligned. */
const misalignLink = (libc: Libc, at: number) => wr(libc, at, rd(libc, at) ^ 4);
/** A zeroed block to aim corrupted links at: every link read from it is 0. */
function zeroBlock(libc: Libc): number {
  const p = libc.malloc(64);
  libc.memset(p, 0, 64);
  return p;
}
function allZero(libc: Libc, p: number, n: number): boolean {
  const b = libc.mem.readBytes(p, n);
  for (let i = 0; i < n; i++) if (b[i] !== 0) return false;
  return true;
}
function allBytes(libc: Libc, p: number, n: number, v: number): boolean {
  const b = libc.mem.readBytes(p, n);
  for (let i = 0; i < n; i++) if (b[i] !== v) return false;
  return true;
}
/** glibc's tests' merror: one "Error: ..." line on stdout per failed check. */
function checker(libc: Libc) {
  let errors = 0;
  return {
    check(ok: boolean, msg: string) {
      if (!ok) {
        errors++;
        libc.printf("Error: %s\n", msg);
      }
    },
    get status() {
      return errors === 0 ? 0 : 1;
    },
  };
}
/** A tiny deterministic PRNG (glibc's tests use random()). */
function lcg(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s >>> 1;
  };
}

/** Run a glibc-style test program: it prints "Error: ..." lines and returns 1 on failure. */
function expectPass(r: ProgramRun): void {
  expect(r.stdout).toBe("");
  expectClean(r);
}

// =====================================================================================
// Ports of glibc's malloc/tst-*.c
// =====================================================================================

describe("glibc malloc tests", () => {
  const t = new TestMachine();

  describe("tst-malloc", () => {
    it("malloc(-1) fails with ENOMEM; realloc(p, 0) frees and returns NULL; malloc(0) and malloc(513K) succeed; malloc(-512K) fails", () => {
      const r = t.run((_a, _e, libc) => {
        const c = checker(libc);
        libc.errno = 0;
        let p = libc.malloc(SIZE_MAX);
        c.check(p === 0, "malloc (-1) succeeded.");
        c.check(libc.errno === ENOMEM, "errno is not set correctly");
        p = libc.malloc(10);
        c.check(p !== 0, "malloc (10) failed.");
        p = libc.realloc(p, 0);
        c.check(p === 0, "realloc (p, 0) failed.");
        p = libc.malloc(0);
        c.check(p !== 0, "malloc (0) failed.");
        p = libc.realloc(p, 0);
        c.check(p === 0, "realloc (p, 0) failed.");
        p = libc.malloc(513 * 1024);
        c.check(p !== 0, "malloc (513K) failed.");
        const q = libc.malloc((-512 * 1024) >>> 0);
        c.check(q === 0, "malloc (-512K) succeeded.");
        libc.free(p);
        return c.status;
      });
      expectPass(r);
    });
  });

  describe("tst-mallocalign1", () => {
    it("malloc honours MALLOC_ALIGNMENT (16 on i386) for sizes 2, 8, 13, 16, 23, 43, 123", () => {
      const seen: number[] = [];
      expectClean(
        t.run((_a, _e, libc) => {
          for (const s of [2, 8, 13, 16, 23, 43, 123]) {
            const p = libc.malloc(s);
            seen.push(p & L.MALLOC_ALIGN_MASK);
            libc.free(p);
          }
          return 0;
        }),
      );
      expect(seen).toEqual([0, 0, 0, 0, 0, 0, 0]);
    });
  });

  describe("tst-calloc", () => {
    // glibc uses N = 50000 per size; 10000 keeps the file fast and still cycles every
    // block through fill-with-0xff, free and reuse many times.
    const N = 10000;
    it("every byte of fixed-size callocs (15, 5, 17, 6, 31, 96) is 0, though each block was filled with 0xff and freed", () => {
      const r = t.run((_a, _e, libc) => {
        const c = checker(libc);
        const ptrs = new Array<number>(N);
        for (const size of [15, 5, 17, 6, 31, 96]) {
          let i = 0;
          for (; i < N; i++) {
            ptrs[i] = libc.calloc(1, size);
            if (ptrs[i] === 0) break;
            c.check(allZero(libc, ptrs[i], size), `byte not cleared (size ${size}, element ${i})`);
            libc.memset(ptrs[i], 0xff, size);
          }
          while (i-- > 0) libc.free(ptrs[i]);
        }
        return c.status;
      });
      expectPass(r);
    });

    it("random n x elem callocs are all zero", () => {
      const r = t.run((_a, _e, libc) => {
        const c = checker(libc);
        const random = lcg(1);
        const ptrs = new Array<number>(N);
        let i = 0;
        for (; i < N; i++) {
          const n = 1 + (random() % 10);
          const elem = 1 + (random() % 100);
          ptrs[i] = libc.calloc(n, elem);
          if (ptrs[i] === 0) break;
          c.check(allZero(libc, ptrs[i], n * elem), `byte not cleared (size ${n * elem}, element ${i})`);
          libc.memset(ptrs[i], 0xff, n * elem);
        }
        while (i-- > 0) libc.free(ptrs[i]);
        return c.status;
      });
      expectPass(r);
    });

    it("null_test: calloc(0, 0), (0, UINT_MAX), (UINT_MAX, 0), (0, ~0), (~0, 0) do not crash", () => {
      expectClean(
        t.runBody((libc) => {
          libc.calloc(0, 0);
          libc.calloc(0, 0xffffffff);
          libc.calloc(0xffffffff, 0);
          libc.calloc(0, SIZE_MAX);
          libc.calloc(SIZE_MAX, 0);
        }),
      );
    });
  });

  describe("tst-realloc", () => {
    it("realloc's C89/glibc contracts", () => {
      const r = t.run((_a, _e, libc) => {
        const c = checker(libc);
        libc.errno = 0;
        let p = libc.realloc(0, SIZE_MAX);
        c.check(p === 0, "realloc (NULL, -1) succeeded.");
        c.check(libc.errno === ENOMEM, "errno is not set correctly");
        p = libc.realloc(0, 10);
        c.check(p !== 0, "realloc (NULL, 10) failed.");
        libc.free(p);
        p = libc.calloc(20, 1);
        c.check(p !== 0, "calloc (20, 1) failed.");
        p = libc.realloc(p, 200);
        c.check(p !== 0, "realloc (p, 200) failed.");
        c.check(allZero(libc, p, 20), "first 20 bytes were not cleared");
        libc.free(p);
        p = libc.realloc(0, 100);
        c.check(p !== 0, "realloc (NULL, 100) failed.");
        libc.memset(p, 0xff, 100);
        p = libc.realloc(p, 16);
        c.check(p !== 0, "realloc (p, 16) failed.");
        c.check(allBytes(libc, p, 16, 0xff), "first 16 bytes were not correct");
        const q = libc.realloc(p, SIZE_MAX);
        c.check(q === 0, "realloc (p, -1) succeeded.");
        c.check(allBytes(libc, p, 16, 0xff), "first 16 bytes were not correct after failed realloc");
        p = libc.realloc(p, 0);
        c.check(p === 0, "realloc (p, 0) returned non-NULL.");
        p = libc.realloc(0, 0);
        c.check(p !== 0, "realloc (NULL, 0) returned NULL.");
        libc.free(p);
        return c.status;
      });
      expectPass(r);
    });
  });

  describe("tst-reallocarray", () => {
    it("overflow of nmemb x size is ENOMEM and leaves the block intact; otherwise it is realloc", () => {
      const r = t.run((_a, _e, libc) => {
        const c = checker(libc);
        const max = SIZE_MAX;
        for (const [a, b] of [
          [max, 2],
          [2, max],
          [65537, Math.floor(max / 65537) + 1],
          [Math.floor(max / 65537) + 1, 65537],
        ]) {
          libc.errno = 0;
          c.check(libc.reallocarray(0, a, b) === 0, `reallocarray (NULL, ${a}, ${b}) succeeded`);
          c.check(libc.errno === ENOMEM, "errno is not ENOMEM");
        }
        let ptr = libc.reallocarray(0, 10, 2);
        c.check(ptr !== 0 && libc.mallocUsableSize(ptr) >= 20, "reallocarray (NULL, 10, 2)");
        libc.memset(ptr, 0xaf, 20);
        ptr = libc.reallocarray(ptr, 20, 2);
        c.check(ptr !== 0 && libc.mallocUsableSize(ptr) >= 40, "enlarge");
        c.check(allBytes(libc, ptr, 20, 0xaf), "contents lost when enlarging");
        ptr = libc.reallocarray(ptr, 5, 3);
        c.check(ptr !== 0 && libc.mallocUsableSize(ptr) >= 15, "shrink");
        c.check(allBytes(libc, ptr, 15, 0xaf), "contents lost when shrinking");
        libc.errno = 0;
        c.check(libc.reallocarray(ptr, 2, max) === 0 && libc.errno === ENOMEM, "overflow did not fail with ENOMEM");
        c.check(allBytes(libc, ptr, 15, 0xaf), "overflow touched the buffer");
        libc.free(ptr);
        return c.status;
      });
      expectPass(r);
    });
  });

  describe("tst-malloc-too-large", () => {
    // glibc walks all of (SIZE_MAX - 2^14, SIZE_MAX] and (PTRDIFF_MAX, PTRDIFF_MAX + 2^14);
    // a sample of each range (its ends, its first 24 and every 997th value) keeps it quick.
    const sample = (base: number, sign: 1 | -1) => {
      const out = new Set<number>();
      for (let i = 0; i < 24; i++) out.add(i);
      for (let i = 0; i < 1 << 14; i += 997) out.add(i);
      out.add((1 << 14) - 1);
      return [...out].map((i) => (base + sign * i) >>> 0).filter((s) => s > PTRDIFF_MAX);
    };
    const sizes = [...sample(SIZE_MAX, -1), ...sample(PTRDIFF_MAX + 1, 1)];

    it("sizes near SIZE_MAX and above PTRDIFF_MAX fail with ENOMEM in every allocation function, after a small malloc/free", () => {
      const r = t.run((_a, _e, libc) => {
        const c = checker(libc);
        const setup = () => {
          const p = libc.malloc(16);
          c.check(p !== 0, "setup malloc (16) failed");
          libc.free(p);
          libc.errno = 0;
        };
        const memptr = libc.malloc(4);
        for (const size of sizes) {
          const hex = size.toString(16);
          setup();
          c.check(libc.malloc(size) === 0 && libc.errno === ENOMEM, `malloc (0x${hex})`);
          let old = libc.malloc(16);
          setup();
          c.check(libc.realloc(old, size) === 0 && libc.errno === ENOMEM, `realloc (p, 0x${hex})`);
          libc.free(old);
          for (let nmemb = 1; nmemb <= 8 && size % nmemb === 0; nmemb *= 2) {
            setup();
            c.check(libc.calloc(nmemb, size / nmemb) === 0 && libc.errno === ENOMEM, `calloc (${nmemb}, 0x${hex}/${nmemb})`);
            setup();
            c.check(libc.calloc(size / nmemb, nmemb) === 0 && libc.errno === ENOMEM, `calloc (0x${hex}/${nmemb}, ${nmemb})`);
            old = libc.malloc(16);
            setup();
            c.check(libc.reallocarray(old, nmemb, size / nmemb) === 0 && libc.errno === ENOMEM, `reallocarray (p, ${nmemb}, 0x${hex}/${nmemb})`);
            libc.free(old);
          }
          for (let align = 1; align <= 0x80000000; align *= 2) {
            setup();
            c.check(libc.memalign(align, size) === 0 && libc.errno === ENOMEM, `memalign (${align}, 0x${hex})`);
            if (align % 4 === 0) {
              setup();
              libc.mem.write32(memptr, 0);
              c.check(libc.posixMemalign(memptr, align, size) === ENOMEM, `posix_memalign (&p, ${align}, 0x${hex})`);
              c.check(libc.mem.readU32(memptr) === 0, "posix_memalign changed *memptr on failure");
            }
            if (size % align === 0) {
              setup();
              c.check(libc.alignedAlloc(align, size) === 0 && libc.errno === ENOMEM, `aligned_alloc (${align}, 0x${hex})`);
            }
          }
          setup();
          c.check(libc.valloc(size) === 0 && libc.errno === ENOMEM, `valloc (0x${hex})`);
          setup();
          c.check(libc.pvalloc(size) === 0 && libc.errno === ENOMEM, `pvalloc (0x${hex})`);
        }
        return c.status;
      });
      expectPass(r);
    });
  });

  describe("tst-memalign", () => {
    it("memalign's errno and alignment contracts", () => {
      const r = t.run((_a, _e, libc) => {
        const c = checker(libc);
        libc.errno = 0;
        let p = libc.memalign(4, SIZE_MAX);
        c.check(p === 0 && libc.errno === ENOMEM, "memalign (sizeof (void *), -1)");
        libc.errno = 0;
        p = libc.memalign(PAGESIZE, -PAGESIZE >>> 0);
        c.check(p === 0 && libc.errno === ENOMEM, "memalign (pagesize, -pagesize)");
        libc.errno = 0;
        p = libc.memalign(SIZE_MAX, PAGESIZE);
        c.check(p === 0 && libc.errno === EINVAL, "memalign (-1, pagesize)");
        p = libc.memalign(4, 0);
        c.check(p !== 0, "memalign (sizeof (void *), 0) failed.");
        libc.free(p);
        p = libc.memalign(0x100, 10);
        c.check(p !== 0 && (p & 0xff) === 0, "pointer is not aligned to 0x100");
        libc.free(p);
        // Not a power of two: memalign rounds the alignment up (256 -> 512 for 0x101).
        p = libc.memalign(0x101, 10);
        c.check(p !== 0 && (p & 0x1ff) === 0, "memalign (0x101, 10) is not 512-aligned");
        libc.free(p);
        return c.status;
      });
      expectPass(r);
    });
  });

  describe("tst-memalign-2", () => {
    it("memalign reuses the chunk it just freed (tcache, also past the head of a tcache bin) and, mostly, freed large chunks", () => {
      const out: string[] = [];
      const r = t.run((_a, _e, libc) => {
        const c = checker(libc);
        const aligned = (p: number, a: number) => p !== 0 && p % a === 0;
        for (const [size, al] of [
          [24, 32],
          [24, 64],
          [128, 128],
          [500, 128],
        ]) {
          const p1 = libc.memalign(al, size);
          c.check(aligned(p1, al), "NULL or misaligned memory detected.");
          const sz2 = libc.mallocUsableSize(p1);
          libc.free(p1);
          const p2 = libc.memalign(al, sz2); // the same chunk, back from the tcache
          c.check(aligned(p2, al), "NULL or misaligned memory detected.");
          libc.free(p2);
          c.check(p1 === p2, `memalign (${al}, ${sz2}) did not reuse the chunk just freed`);
        }
        // A non-head tcache hit: memalign scans the bin for an entry that is aligned.
        const ptr: number[] = [];
        for (let i = 0; i < 10; i++) ptr.push(i === 4 ? libc.memalign(64, 256) : libc.malloc(256));
        for (const p of ptr) libc.free(p);
        const p = libc.memalign(64, 256);
        c.check(aligned(p, 64), "NULL or misaligned memory detected.");
        c.check(ptr.includes(p), "memalign (64, 256) did not find the aligned tcache entry");
        libc.free(p);
        // Large chunks: the over-allocated parts memalign gives back are reused by memalign.
        const sizes = [23450, 23450, 23550, 23550, 23650, 23650, 33650, 33650];
        const p1s = sizes.map((s) => {
          const q = libc.memalign(64, s);
          c.check(aligned(q, 64), "NULL or misaligned memory detected.");
          libc.malloc(512); // keep the chunks from coalescing
          return q;
        });
        for (const q of p1s) libc.free(q);
        libc.malloc(60000); // sorts the unsorted bin into small and large bins
        const p2s = sizes.map((s) => libc.memalign(64, s));
        const count = p1s.filter((q) => p2s.includes(q)).length;
        out.push(String(count));
        c.check(count > sizes.length / 2, `only ${count} of ${sizes.length} large chunks reused`);
        return c.status;
      });
      expectPass(r);
      expect(Number(out[0])).toBeGreaterThan(4);
    });
  });

  describe("tst-posix_memalign", () => {
    it("posix_memalign returns ENOMEM/EINVAL without touching *memptr, or 0 and an aligned block", () => {
      const r = t.run((_a, _e, libc) => {
        const c = checker(libc);
        const pp = libc.malloc(4);
        const ret = (align: number, size: number) => {
          libc.mem.write32(pp, 0);
          return libc.posixMemalign(pp, align, size);
        };
        c.check(ret(4, SIZE_MAX) === ENOMEM, "posix_memalign (&p, sizeof (void *), -1) succeeded.");
        c.check(libc.mem.readU32(pp) === 0, "returned an error but pointer was modified");
        c.check(ret(PAGESIZE, -PAGESIZE >>> 0) === ENOMEM, "posix_memalign (&p, pagesize, -pagesize) succeeded.");
        c.check(ret(SIZE_MAX, PAGESIZE) === EINVAL, "posix_memalign (&p, -1, pagesize) succeeded.");
        c.check(ret(4, 0) === 0 && libc.mem.readU32(pp) !== 0, "posix_memalign (&p, sizeof (void *), 0) failed.");
        libc.free(libc.mem.readU32(pp));
        c.check(ret(0x300, 10) === EINVAL, "posix_memalign (&p, 0x300, 10) succeeded.");
        c.check(ret(0, 10) === EINVAL, "posix_memalign (&p, 0, 10) succeeded.");
        c.check(ret(2, 10) === EINVAL, "posix_memalign (&p, 2, 10): not a multiple of sizeof (void *)");
        c.check(ret(0x100, 10) === 0, "posix_memalign (&p, 0x100, 10) failed.");
        const p = libc.mem.readU32(pp);
        c.check(p !== 0 && (p & 0xff) === 0, "pointer is not aligned to 0x100");
        libc.free(p);
        return c.status;
      });
      expectPass(r);
    });
  });

  describe("tst-valloc", () => {
    it("valloc(-1), valloc(-pagesize) fail with ENOMEM; valloc(0) succeeds; valloc(32) is page aligned", () => {
      const r = t.run((_a, _e, libc) => {
        const c = checker(libc);
        libc.errno = 0;
        c.check(libc.valloc(SIZE_MAX) === 0 && libc.errno === ENOMEM, "valloc (-1)");
        libc.errno = 0;
        c.check(libc.valloc(-PAGESIZE >>> 0) === 0 && libc.errno === ENOMEM, "valloc (-pagesize)");
        let p = libc.valloc(0);
        c.check(p !== 0, "valloc (0) failed.");
        libc.free(p);
        p = libc.valloc(32);
        c.check(p !== 0 && (p & (PAGESIZE - 1)) === 0, "returned pointer is not page aligned.");
        libc.free(p);
        return c.status;
      });
      expectPass(r);
    });
  });

  describe("tst-pvalloc", () => {
    it("pvalloc(-1), pvalloc(-pagesize) fail with ENOMEM; pvalloc(0) succeeds; pvalloc(32) is a whole aligned page", () => {
      const r = t.run((_a, _e, libc) => {
        const c = checker(libc);
        libc.errno = 0;
        c.check(libc.pvalloc(SIZE_MAX) === 0 && libc.errno === ENOMEM, "pvalloc (-1)");
        libc.errno = 0;
        c.check(libc.pvalloc(-PAGESIZE >>> 0) === 0 && libc.errno === ENOMEM, "pvalloc (-pagesize)");
        let p = libc.pvalloc(0);
        c.check(p !== 0, "pvalloc (0) failed.");
        libc.free(p);
        p = libc.pvalloc(32);
        c.check(p !== 0 && (p & (PAGESIZE - 1)) === 0, "returned pointer is not page aligned.");
        c.check(libc.mallocUsableSize(p) >= PAGESIZE, "pvalloc (32) is less than a page");
        libc.free(p);
        return c.status;
      });
      expectPass(r);
    });
  });

  describe("tst-aligned-alloc", () => {
    it("C17: power-of-two alignments succeed; 65, 0 and SIZE_MAX/2+1 fail", () => {
      const r = t.run((_a, _e, libc) => {
        const c = checker(libc);
        const p1 = libc.alignedAlloc(64, 64);
        c.check(p1 !== 0 && p1 % 64 === 0, "aligned_alloc(64, 64) failed");
        const p2 = libc.alignedAlloc(1, 64);
        c.check(p2 !== 0, "aligned_alloc(1, 64) failed");
        libc.errno = 0;
        c.check(libc.alignedAlloc(65, 64) === 0 && libc.errno === EINVAL, "aligned_alloc(65, 64) did not fail with EINVAL");
        libc.errno = 0;
        c.check(libc.alignedAlloc(0, 64) === 0 && libc.errno === EINVAL, "aligned_alloc(0, 64) did not fail with EINVAL");
        c.check(libc.alignedAlloc(0x80000000, 64) === 0, "aligned_alloc(SIZE_MAX/2+1, 64) did not fail");
        libc.free(p1);
        libc.free(p2);
        return c.status;
      });
      expectPass(r);
    });
  });

  describe("tst-mallopt", () => {
    it("mallopt accepts M_CHECK_ACTION, M_MMAP_MAX, M_MMAP_THRESHOLD, M_MXFAST 0, M_PERTURB, M_TOP_PAD, M_TRIM_THRESHOLD -1 (returns 1)", () => {
      const rets: number[] = [];
      expectClean(
        t.runBody((libc) => {
          rets.push(libc.mallopt(M_CHECK_ACTION, 1));
          rets.push(libc.mallopt(M_MMAP_MAX, 64 * 1024));
          rets.push(libc.mallopt(M_MMAP_THRESHOLD, 64 * 1024));
          rets.push(libc.mallopt(M_MXFAST, 0));
          rets.push(libc.mallopt(M_PERTURB, 0xa5));
          rets.push(libc.mallopt(M_TOP_PAD, 64 * 1024));
          rets.push(libc.mallopt(M_TRIM_THRESHOLD, -1));
        }),
      );
      expect(rets).toEqual([1, 1, 1, 1, 1, 1, 1]);
    });

    it("the settings take effect: 64 KiB is mmapped, no fastbins, perturbed bytes; M_MXFAST above 80 (i386's MAX_FAST_SIZE) is refused", () => {
      const out: Record<string, number> = {};
      expectClean(
        t.runBody((libc) => {
          out.mxfastTooBig = libc.mallopt(M_MXFAST, 81);
          out.mxfast80 = libc.mallopt(M_MXFAST, 80);
          libc.mallopt(M_MMAP_THRESHOLD, 64 * 1024);
          libc.mallopt(M_MXFAST, 0);
          libc.mallopt(M_PERTURB, 0xa5);
          libc.malloc(100000); // leaves top too small for the next request
          const big = libc.malloc(64 * 1024);
          out.bigMmapped = head(libc, big) & L.IS_MMAPPED;
          out.bigByte = libc.mem.read8(big);
          const tc = [];
          for (let i = 0; i < 7; i++) tc.push(libc.malloc(20));
          const a = libc.malloc(20);
          libc.malloc(20);
          for (const p of tc) libc.free(p);
          libc.free(a);
          out.smblks = libc.mallinfo2().smblks;
        }),
      );
      expect(out).toEqual({ mxfastTooBig: 0, mxfast80: 1, bigMmapped: L.IS_MMAPPED, bigByte: 0xa5 ^ 0xff, smblks: 0 });
    });
  });

  describe("tst-trim1", () => {
    it("10000 random mallocs below 16 KiB, 12 of 13 freed, malloc_trim(0), malloc(30000), malloc_trim(0): no crash, heap consistent", () => {
      const r = t.run((_a, _e, libc) => {
        const random = lcg(7);
        const arr: number[] = [];
        for (let i = 0; i < 10000; i++) {
          const p = libc.malloc(random() % 16384);
          if (p === 0) return 1;
          arr.push(p);
        }
        for (let i = 0; i < arr.length; i++) if (i % 13 !== 0) libc.free(arr[i]);
        const before = libc.mallinfo2();
        libc.mallocTrim(0);
        const after = libc.mallinfo2();
        if (after.arena > before.arena) return 2;
        const p = libc.malloc(30000);
        if (p === 0) return 3;
        libc.mallocTrim(0);
        if (checkHeap(libc.mallocator).errors.length > 0) return 4;
        libc.puts(after.arena < before.arena ? "trimmed" : "not trimmed");
        return 0;
      });
      expectClean(r);
      expect(r.stdout).toBe("trimmed\n");
      // malloc_trim madvises whole free pages away inside free chunks, as well as lowering the break.
      expect(r.calls.some((l) => /^madvise\(0x[0-9a-f]+, \d+, MADV_DONTNEED\) = 0$/.test(l))).toBe(true);
    });
  });

  describe("tst-malloc-usable", () => {
    // glibc runs this test with MALLOC_CHECK_=3, where malloc-check (libc_malloc_debug.so
    // since 2.34) makes malloc_usable_size(malloc(7)) exactly 7. Without the debug
    // library the variable has no effect, and the answer is the chunk's usable size:
    // request2size(7) = (7 + SIZE_SZ + 15) & ~15 = 16 = MINSIZE, and an in-use chunk may
    // use all but its 4-byte size word plus the next chunk's prev_size word,
    // 16 - 8 + 4 = 12. (On x86-64 the same arithmetic gives 32 - 16 + 8 = 24.)
    for (const env of [[], ["MALLOC_CHECK_=3"], ["GLIBC_TUNABLES=glibc.malloc.check=3"]]) {
      it(`malloc_usable_size(malloc(7)) is 12 on i386, all of it writable; malloc_usable_size(NULL) is 0${env.length ? ` (${env[0]}: no debug library, no effect)` : ""}`, () => {
        const out: number[] = [];
        const r = t.runBody(
          (libc) => {
            const p = libc.malloc(7);
            out.push(libc.mallocUsableSize(p));
            libc.memset(p, 0, libc.mallocUsableSize(p));
            libc.free(p);
            out.push(libc.mallocUsableSize(0));
            out.push(checkHeap(libc.mallocator).errors.length);
          },
          { env },
        );
        expectClean(r);
        expect(out).toEqual([12, 0, 0]);
      });
    }

    it("usable sizes: in-use arena chunk = size - 4, mmapped chunk = size - 8", () => {
      const out: number[][] = [];
      expectClean(
        t.runBody((libc) => {
          for (const n of [0, 12, 13, 28, 29, 1000, 200000]) {
            const p = libc.malloc(n);
            out.push([n, libc.mallocUsableSize(p), head(libc, p) & ~L.SIZE_BITS, head(libc, p) & L.IS_MMAPPED]);
          }
        }),
      );
      for (const [, usable, size, mmapped] of out) expect(usable).toBe(mmapped ? size - 8 : size - 4);
      expect(out.map(([n, u]) => [n, u])).toEqual([
        [0, 12],
        [12, 12],
        [13, 28],
        [28, 28],
        [29, 44],
        [1000, 1004],
        [200000, 200688],
      ]);
    });
  });

  describe("tst-mxfast", () => {
    const program = (out: number[]) => (libc: Libc) => {
      const p1 = libc.malloc(3); // in the default fastbin range
      const p2 = libc.malloc(512); // so p1 is not next to top
      libc.free(p1);
      out.push(libc.mallinfo2().smblks);
      libc.free(p2);
    };
    it("GLIBC_TUNABLES=glibc.malloc.tcache_count=0:glibc.malloc.mxfast=0: a freed small block is not in a fastbin (smblks == 0)", () => {
      const out: number[] = [];
      expectClean(t.runBody(program(out), { env: ["GLIBC_TUNABLES=glibc.malloc.tcache_count=0:glibc.malloc.mxfast=0"] }));
      expect(out).toEqual([0]);
    });
    it("control: with fastbins on (tcache_count=0 only) the same block is in a fastbin (smblks == 1)", () => {
      const out: number[] = [];
      expectClean(t.runBody(program(out), { env: [TCACHE_OFF] }));
      expect(out).toEqual([1]);
    });
  });

  describe("tst-mallinfo2", () => {
    it("after 19 mallocs of 160*i bytes, uordblks grew by at least their sum", () => {
      const out: number[] = [];
      expectClean(
        t.runBody((libc) => {
          const mi1 = libc.mallinfo2();
          let total = 0;
          for (let i = 1; i < 20; i++) {
            libc.malloc(160 * i);
            total += 160 * i;
          }
          const mi2 = libc.mallinfo2();
          out.push(mi2.uordblks - mi1.uordblks - total);
          out.push(mi2.hblks);
          out.push(mi2.arena - mi2.uordblks - mi2.fordblks);
        }),
      );
      expect(out[0]).toBeGreaterThanOrEqual(0);
      expect(out[1]).toBe(0);
      expect(out[2]).toBe(0);
    });
  });

  describe("tst-tcfree1", () => {
    it("malloc(32); free; free -> free(): double free detected in tcache 2", () => {
      const r = t.runBody((libc) => {
        const x = libc.malloc(32);
        libc.free(x);
        libc.free(x);
      });
      expectMallocAbort(t, r, "free(): double free detected in tcache 2");
    });
  });

  describe("tst-tcfree2", () => {
    it("20 mallocs of 20 bytes, all freed (tcache full), the first freed again -> the tcache walk finds it", () => {
      const r = t.runBody((libc) => {
        const ptrs: number[] = [];
        for (let i = 0; i < 20; i++) ptrs.push(libc.malloc(20));
        for (const p of ptrs) libc.free(p);
        libc.free(ptrs[0]);
        libc.puts("FAIL: tcache double free");
      });
      expect(r.stdout).toBe("");
      expectMallocAbort(t, r, "free(): double free detected in tcache 2");
    });
  });

  describe("tst-tcfree3", () => {
    it("a coincidental tcache key in a valid bin and in an out-of-range chunk is not a double free", () => {
      const r = t.runBody((libc) => {
        const a = libc.malloc(32);
        const b = libc.malloc(32);
        const c = libc.malloc(127 * 1024); // just under the mmap threshold
        libc.memset(c, 0xff, 127 * 1024);
        libc.free(a); // into the tcache: a now holds the key
        libc.memcpy(b, a, 32);
        libc.memcpy(c, a, 32);
        libc.free(b); // valid bin, coincidental key: walk the bin, do not abort
        libc.free(c); // no tcache bin for this size: do not abort
      });
      expectClean(r);
    });
  });

  describe("tst-safe-linking", () => {
    // glibc corrupts a list's next pointer with memset(c, rand() & 0xff, size) and tries
    // up to 16 random masks: one in 16 leaves the revealed pointer aligned, so it only
    // requires one run to die of the exact safe-linking message. Here the masks are a
    // fixed sequence; a run may also survive or die of SIGSEGV (an aligned wild pointer),
    // as in glibc; every other death must be a SIGABRT with a malloc message.
    const SIZE = 0x20; // TCACHE_ALLOC_SIZE
    const FILL = 7; // TCACHE_FILL_COUNT
    const masks = (() => {
      const r = lcg(2020);
      return Array.from({ length: 16 }, () => r() & 0xff);
    })();
    const check = (name: string, body: (libc: Libc, mask: number) => void, expected: string) => {
      it(`${name}: ${expected}`, () => {
        let exact = 0;
        for (const mask of masks) {
          const r = t.runBody((libc) => body(libc, mask));
          if (r.stderr === "") {
            expectClean(r);
            continue;
          }
          // An aligned but wild pointer followed into unmapped memory: glibc's check() sees
          // an empty stderr for that run and tries again; so do we.
          if (r.signal === 11) continue;
          expect(r.signal).toBe(6);
          expect(r.exitCode).toBe(134);
          if (r.stderr === `${expected}\nAborted\n`) exact++;
        }
        expect(exact).toBeGreaterThan(0);
        // The deterministic case: flip one bit so the revealed pointer is certainly misaligned.
        const r = t.runBody((libc) => body(libc, -1));
        expectMallocAbort(t, r, expected);
      });
    };
    const corrupt = (libc: Libc, c: number, mask: number) => {
      if (mask < 0) misalignLink(libc, c);
      else libc.memset(c, mask, SIZE);
    };

    check(
      "test_tcache",
      (libc, mask) => {
        const a = libc.malloc(SIZE);
        const b = libc.malloc(SIZE);
        let c = libc.malloc(SIZE);
        libc.free(a);
        libc.free(b);
        libc.free(c);
        corrupt(libc, c, mask);
        c = libc.malloc(SIZE);
        libc.malloc(SIZE); // this one trips the safe-linking check
      },
      "malloc(): unaligned tcache chunk detected",
    );

    check(
      "test_fastbin",
      (libc, mask) => {
        const a = libc.calloc(1, SIZE);
        const b = libc.calloc(1, SIZE);
        const c = libc.calloc(1, SIZE);
        const pps: number[] = [];
        const ps: number[] = [];
        for (let i = 0; i < FILL; i++) pps.push(libc.calloc(1, SIZE));
        for (let i = 0; i < FILL; i++) ps.push(libc.calloc(1, SIZE));
        for (const p of ps) libc.free(p); // the tcache is full
        libc.free(a); // so these go to the fastbin
        libc.free(b);
        libc.free(c);
        corrupt(libc, c, mask);
        for (const p of pps) libc.free(p);
        for (let i = 0; i < FILL; i++) ps[i] = libc.calloc(1, SIZE);
        pps[FILL - 1] = libc.calloc(1, SIZE);
        libc.calloc(1, SIZE);
        for (let i = 0; i < FILL - 1; i++) pps[i] = libc.calloc(1, SIZE);
        libc.calloc(1, SIZE); // this one trips the safe-linking check
        for (let i = 0; i < FILL; i++) {
          libc.free(ps[i]);
          libc.free(pps[i]);
        }
      },
      "malloc(): unaligned fastbin chunk detected 2",
    );

    check(
      "test_fastbin_consolidate",
      (libc, mask) => {
        const a = libc.calloc(1, SIZE);
        const b = libc.calloc(1, SIZE);
        const c = libc.calloc(1, SIZE);
        const ps: number[] = [];
        for (let i = 0; i < FILL; i++) ps.push(libc.calloc(1, SIZE));
        for (const p of ps) libc.free(p);
        libc.free(a);
        libc.free(b);
        libc.free(c);
        corrupt(libc, c, mask);
        libc.malloc(256 * 1024); // MALLOC_CONSOLIDATE_SIZE: consolidation trips the check
      },
      "malloc_consolidate(): unaligned fastbin chunk detected",
    );
  });

  describe("tst-mallocfork (after fork, each process has its own heap)", () => {
    it("the child frees the parent's blocks and allocates; the parent's copies are untouched", () => {
      const r = t.run((_a, _e, libc) => {
        const c = checker(libc);
        const ptrs: number[] = [];
        for (let i = 0; i < 50; i++) {
          const p = libc.malloc(16 + 37 * i);
          libc.memset(p, i, 16 + 37 * i);
          ptrs.push(p);
        }
        const pid = libc.fork((child) => {
          for (const p of ptrs) child.free(p);
          for (let i = 0; i < 50; i++) child.memset(child.malloc(16 + 37 * i), 0xee, 16 + 37 * i);
          return checkHeap(child.mallocator).errors.length === 0 ? 0 : 3;
        });
        const w = libc.waitpid(pid);
        c.check(w !== null && w.status === 0, "the child failed");
        ptrs.forEach((p, i) => c.check(allBytes(libc, p, 16 + 37 * i, i), `block ${i} changed in the parent`));
        for (const p of ptrs) libc.free(p);
        c.check(checkHeap(libc.mallocator).errors.length === 0, "the parent's heap is inconsistent");
        return c.status;
      });
      expectPass(r);
    });
  });

  describe("tst-free-errno", () => {
    it("free preserves errno: free(NULL), free of mmapped blocks", () => {
      const out: number[] = [];
      expectClean(
        t.runBody((libc) => {
          libc.errno = 1789;
          libc.free(0);
          out.push(libc.errno);
          const ptrs = [libc.malloc(5318153), libc.malloc(5318153)];
          for (const p of ptrs) {
            libc.errno = 1789;
            libc.free(p);
            out.push(libc.errno);
          }
          const small = libc.malloc(100);
          libc.errno = 1789;
          libc.free(small);
          out.push(libc.errno);
        }),
      );
      expect(out).toEqual([1789, 1789, 1789, 1789]);
    });

    it("free preserves errno when munmap fails because the process is at vm.max_map_count", () => {
      // glibc fills the VMA table with 65536 one-page file mappings; here the table is
      // filled faster (the kernel's mmap path is linear in the VMA count) by mprotecting
      // every other page of one big reservation, each split adding two VMAs, stopping
      // short of the limit, then single-page MAP_FIXED mappings up to it.
      const out: Record<string, number> = {};
      t.tracing = false;
      try {
        const r = t.runBody((libc) => {
          const RO = 1;
          const RW = 3;
          const ANON = 0x22;
          const FIXED = 0x10;
          const bigSize = 0x1000000;
          const first = libc.malloc(PAGESIZE);
          const last = libc.malloc(PAGESIZE);
          const ptr = libc.malloc(bigSize - 0x100);
          const aligned = ptr & ~(PAGESIZE - 1);
          // Enlarge the block's mapping by a page at each end, so freeing it splits a VMA.
          libc.memcpy(first, aligned, PAGESIZE);
          libc.memcpy(last, aligned + bigSize - PAGESIZE, PAGESIZE);
          libc.mmap(aligned - PAGESIZE, PAGESIZE + bigSize + PAGESIZE, RW, ANON | FIXED);
          libc.memcpy(aligned, first, PAGESIZE);
          libc.memcpy(aligned + bigSize - PAGESIZE, last, PAGESIZE);
          const vmas = () => (libc.readFile("/proc/self/maps") ?? "").split("\n").filter(Boolean).length;
          const MAX_MAP_COUNT = 65530;
          const pages = 2 * Math.floor((MAX_MAP_COUNT - vmas()) / 2) + 8;
          const base = libc.mmap(0, pages * PAGESIZE, 0, ANON);
          let count = vmas();
          for (let i = 1; count + 2 < MAX_MAP_COUNT - 4; i += 2, count += 2) libc.mprotect(base + i * PAGESIZE, PAGESIZE, RO);
          let n = 0;
          for (; n < 1000; n++) {
            const at = base + (pages - 1 - 2 * n) * PAGESIZE;
            if (libc.mmap(at, PAGESIZE, RO, ANON | FIXED) === 0xffffffff) break;
          }
          out.mmapErrno = libc.errno;
          out.vmas = vmas();
          libc.errno = 1789;
          libc.free(ptr); // munmap would need one more VMA: it fails
          out.errno = libc.errno;
          out.stillMapped = libc.munmap(aligned, bigSize) === -1 ? libc.errno : 0;
        });
        expectClean(r);
      } finally {
        t.tracing = true;
      }
      expect(out.mmapErrno).toBe(ENOMEM);
      expect(out.vmas).toBeGreaterThanOrEqual(65529);
      expect(out.errno).toBe(1789);
      expect(out.stillMapped).toBe(ENOMEM);
    });
  });

  describe("tst-malloc_info / malloc_stats", () => {
    // glibc's tst-malloc_info has four threads allocate (16 MiB each on 32-bit, so every
    // arena needs several heaps), prints malloc_info, lets them free, prints it again.
    // Threads here run when joined, so each thread starts the next and joins it: all four
    // are alive at once. They get arenas as glibc's arena_get2 hands them out: new ones
    // while narenas <= arena_test (2 on 32-bit), then up to 2 x ncpus = 4 arenas, then
    // reused_arena (the main arena). 1 MiB of 20-byte nodes per thread (32-byte chunks)
    // still needs two 1 MiB heaps per arena. Main frees the lists.
    it("malloc_info's XML describes every arena, its heaps (subheaps) and the totals", () => {
      const PER_THREAD = 1 << 20;
      const NODE = 20; // struct list { next; long dummy[4]; } on i386
      let xml1 = "";
      let xml2 = "";
      const r = t.run((_a, _e, libc) => {
        libc.free(libc.malloc(1)); // main gets the main arena
        const heads: number[] = [];
        const spawn = (caller: Libc, k: number): number =>
          caller.pthreadCreate((l) => {
            let h = 0;
            for (let n = 0; n < PER_THREAD; n += NODE) {
              const node = l.malloc(NODE);
              if (node === 0) return 1;
              l.mem.write32(node, h);
              h = node;
            }
            heads.push(h);
            return k + 1 < 4 ? l.pthreadJoin(spawn(l, k + 1)) : 0;
          });
        if (libc.pthreadJoin(spawn(libc, 0)) !== 0) return 1;
        libc.puts("info: After allocation:");
        libc.fflush();
        libc.mallocInfo(0, 1);
        for (let h of heads) {
          while (h !== 0) {
            const next = libc.mem.readU32(h);
            libc.free(h);
            h = next;
          }
        }
        libc.puts("\ninfo: After deallocation:");
        libc.fflush();
        libc.mallocInfo(0, 1);
        return libc.mallocInfo(1, 1) === EINVAL ? 0 : 2;
      });
      expectClean(r);
      [xml1, xml2] = r.stdout.split("\ninfo: After deallocation:\n");
      xml1 = xml1.replace("info: After allocation:\n", "");
      for (const xml of [xml1, xml2]) {
        const lines = xml.trimEnd().split("\n");
        expect(lines[0]).toBe('<malloc version="1">');
        expect(lines[lines.length - 1]).toBe("</malloc>");
        for (const l of lines) {
          expect(l).toMatch(
            /^(<\/?malloc( version="1")?>|<heap nr="\d+">|<\/heap>|<\/?sizes>|  <(size|unsorted) from="\d+" to="\d+" total="\d+" count="\d+"\/>|<total type="(fast|rest|mmap)" count="\d+" size="\d+"\/>|<system type="(current|max)" size="\d+"\/>|<aspace type="(total|mprotect|subheaps)" size="\d+"\/>)$/,
          );
        }
      }
      const heaps = [...xml1.matchAll(/<heap nr="(\d+)">([\s\S]*?)<\/heap>/g)];
      // main + three new arenas (the limit is 2 x 2 CPUs = 4), the fourth thread reusing one.
      expect(heaps.map((h) => h[1])).toEqual(["0", "1", "2", "3"]);
      const subheaps = heaps.slice(1).map((h) => Number(/<aspace type="subheaps" size="(\d+)"\/>/.exec(h[2])![1]));
      for (const s of subheaps) expect(s).toBeGreaterThanOrEqual(2);
      expect(heaps[0][2]).not.toContain("subheaps");
      // The totals are the sums over the heaps.
      const sum = (re: RegExp, s: string) => [...s.matchAll(re)].reduce((a, m) => a + Number(m[1]), 0);
      const tail = xml1.slice(xml1.lastIndexOf("</heap>"));
      expect(Number(/<system type="current" size="(\d+)"\/>/.exec(tail)![1])).toBe(
        sum(/<system type="current" size="(\d+)"\/>/g, xml1.slice(0, xml1.lastIndexOf("</heap>"))),
      );
      // After the frees nearly everything is free again: fastbin chunks ("fast") and binned
      // chunks plus each top ("rest"); the rest is tcaches and their contents.
      const heaps2 = xml2.slice(0, xml2.lastIndexOf("</heap>"));
      const freeAfter = sum(/<total type="(?:fast|rest)" count="\d+" size="(\d+)"\/>/g, heaps2);
      const sysAfter = sum(/<system type="current" size="(\d+)"\/>/g, heaps2);
      expect(sysAfter - freeAfter).toBeLessThan(16 * 1024);
      expect(sysAfter - freeAfter).toBeGreaterThan(0);
    });

    it("malloc_info's per-bin size lines: fastbins (from = size - 15), small and large bins, the unsorted bin last", () => {
      let xml = "";
      const r = t.runBody(
        (libc) => {
          const a = libc.malloc(20); // 32-byte chunk: fastbin
          libc.malloc(20);
          const b = libc.malloc(200); // 208: unsorted, then a small bin
          libc.malloc(20);
          const c = libc.malloc(2000); // 2016: unsorted, then a large bin
          libc.malloc(20);
          const d = libc.malloc(500); // 512: will stay in the unsorted bin
          libc.malloc(20);
          libc.free(b);
          libc.free(c);
          libc.free(libc.malloc(3000)); // sorts b and c into their bins (3000 goes back to top)
          libc.free(a);
          libc.free(d);
          libc.mallocInfo(0, 1);
        },
        { env: [TCACHE_OFF] },
      );
      expectClean(r);
      xml = r.stdout;
      const sizes = /<sizes>\n([\s\S]*?)<\/sizes>/.exec(xml)![1];
      // glibc reads the bins' sizes with chunksize_nomask: a binned chunk's PREV_INUSE bit
      // (always set: its neighbours are in use) is counted in from, to and total.
      expect(sizes).toBe(
        [
          '  <size from="17" to="32" total="32" count="1"/>',
          '  <size from="209" to="209" total="209" count="1"/>',
          '  <size from="2017" to="2017" total="2017" count="1"/>',
          '  <unsorted from="513" to="513" total="513" count="1"/>',
          "",
        ].join("\n"),
      );
      expect(xml).toContain('<total type="fast" count="1" size="32"/>');
    });

    it("malloc_stats: per-arena and total system/in-use bytes (%10u), then max mmap regions and bytes, on stderr", () => {
      const mi: number[] = [];
      const r = t.runBody((libc) => {
        libc.malloc(1000);
        const big = libc.malloc(300000);
        const m = libc.mallinfo2();
        mi.push(m.arena, m.uordblks, m.hblkhd);
        libc.mallocStats();
        libc.free(big);
      });
      expect(r.exitCode).toBe(0);
      const [arena, inuse, mmapped] = mi;
      const u = (n: number) => String(n).padStart(10, " ");
      expect(mmapped).toBe(303104);
      expect(r.stderr).toBe(
        `Arena 0:\nsystem bytes     = ${u(arena)}\nin use bytes     = ${u(inuse)}\n` +
          `Total (incl. mmap):\nsystem bytes     = ${u(arena + mmapped)}\nin use bytes     = ${u(inuse + mmapped)}\n` +
          `max mmap regions = ${u(1)}\nmax mmap bytes   = ${u(mmapped)}\n`,
      );
    });

    it("malloc_stats lists every arena: Arena 0 (main) and Arena 1 (a thread's)", () => {
      const r = t.runBody((libc) => {
        libc.malloc(10);
        libc.pthreadJoin(
          libc.pthreadCreate((l) => {
            l.malloc(10);
            l.mallocStats();
            return 0;
          }),
        );
      });
      expect(r.exitCode).toBe(0);
      expect(r.stderr).toMatch(/^Arena 0:\nsystem bytes     = +\d+\nin use bytes     = +\d+\nArena 1:\nsystem bytes     = +\d+\nin use bytes     = +\d+\nTotal \(incl\. mmap\):\n/);
    });
  });
});

// =====================================================================================
// malloc.c's integrity checks (ptmalloc.md §9): corrupt, then watch it abort
// =====================================================================================

interface AbortCase {
  /** What is corrupted and how it is noticed. */
  how: string;
  msg: string;
  env?: string[];
  body: (libc: Libc) => void;
}

const ABORTS: AbortCase[] = [
  // ---- free ----
  {
    how: "free of a misaligned pointer",
    msg: "free(): invalid pointer",
    body: (libc) => {
      const a = libc.malloc(64);
      libc.memset(a, 0, 64);
      libc.free(a + 4);
    },
  },
  {
    how: "free of an aligned pointer whose size word is 0 (p > -size wraps)",
    msg: "free(): invalid pointer",
    body: (libc) => {
      const a = libc.malloc(64);
      libc.memset(a, 0, 64);
      libc.free(a + 16);
    },
  },
  {
    how: "free of a chunk whose size is below MINSIZE",
    msg: "free(): invalid size",
    body: (libc) => {
      const a = libc.malloc(64);
      setHead(libc, a, 8 | L.PREV_INUSE);
      libc.free(a);
    },
  },
  {
    how: "free of a chunk whose size is not a multiple of 16",
    msg: "free(): invalid size",
    body: (libc) => {
      const a = libc.malloc(64);
      setHead(libc, a, 24 | L.PREV_INUSE);
      libc.free(a);
    },
  },
  {
    how: "a small chunk freed twice with the tcache off",
    msg: "double free or corruption (fasttop)",
    env: [TCACHE_OFF],
    body: (libc) => {
      const a = libc.malloc(20);
      libc.free(a);
      libc.free(a);
    },
  },
  {
    how: "a small chunk freed twice once its tcache bin is full",
    msg: "double free or corruption (fasttop)",
    body: (libc) => {
      const fill: number[] = [];
      for (let i = 0; i < 7; i++) fill.push(libc.malloc(20));
      const a = libc.malloc(20);
      for (const p of fill) libc.free(p);
      libc.free(a);
      libc.free(a);
    },
  },
  {
    how: "a chunk merged into top, freed again: on i386 top's size is 8 mod 16 (top starts at 8 mod 16 and ends on a page), so the size check fires first",
    msg: "free(): invalid size",
    body: (libc) => {
      const a = libc.malloc(2000);
      libc.free(a);
      libc.free(a);
    },
  },
  {
    how: "the top chunk freed, its size word first rounded to a multiple of 16",
    msg: "double free or corruption (top)",
    body: (libc) => {
      const a = libc.malloc(2000);
      libc.free(a); // a is now the top chunk
      setHead(libc, a, (head(libc, a) & ~L.MALLOC_ALIGN_MASK) | L.PREV_INUSE);
      libc.free(a);
    },
  },
  {
    how: "a chunk whose size reaches past the end of top",
    msg: "double free or corruption (out)",
    body: (libc) => {
      const a = libc.malloc(2000);
      libc.malloc(16);
      setHead(libc, a, 0x100000 | L.PREV_INUSE);
      libc.free(a);
    },
  },
  {
    how: "a large chunk freed twice (the next chunk's PREV_INUSE is already clear)",
    msg: "double free or corruption (!prev)",
    body: (libc) => {
      const a = libc.malloc(2000);
      libc.malloc(16);
      libc.free(a);
      libc.free(a);
    },
  },
  {
    how: "free when the next chunk's size is 0",
    msg: "free(): invalid next size (normal)",
    body: (libc) => {
      const a = libc.malloc(2000);
      const b = libc.malloc(2000);
      libc.malloc(16);
      setHead(libc, b, 0 | L.PREV_INUSE);
      libc.free(a);
    },
  },
  {
    how: "free when the next chunk's size exceeds the arena",
    msg: "free(): invalid next size (normal)",
    body: (libc) => {
      const a = libc.malloc(2000);
      const b = libc.malloc(2000);
      libc.malloc(16);
      setHead(libc, b, 0x100000 | L.PREV_INUSE);
      libc.free(a);
    },
  },
  {
    how: "fastbin free when the next chunk's size is 0",
    msg: "free(): invalid next size (fast)",
    env: [TCACHE_OFF],
    body: (libc) => {
      const a = libc.malloc(20);
      const b = libc.malloc(20);
      setHead(libc, b, 0 | L.PREV_INUSE);
      libc.free(a);
    },
  },
  {
    how: "backward coalescing when prev_size does not lead to a chunk of that size",
    msg: "corrupted size vs. prev_size while consolidating",
    body: (libc) => {
      const a = libc.malloc(2000);
      const b = libc.malloc(2000);
      libc.malloc(16);
      libc.free(a);
      setPrevSize(libc, b, 16);
      wr(libc, chunk(b) - 16 + 4, 0);
      libc.free(b);
    },
  },
  {
    how: "forward coalescing with a free chunk whose foot (next prev_size) disagrees with its size",
    msg: "corrupted size vs. prev_size",
    body: (libc) => {
      const a = libc.malloc(2000);
      const b = libc.malloc(2000);
      const c = libc.malloc(2000);
      libc.malloc(16);
      libc.free(b);
      setPrevSize(libc, c, 2000);
      libc.free(a);
    },
  },
  {
    how: "unlinking a free chunk whose fd->bk is not itself",
    msg: "corrupted double-linked list",
    body: (libc) => {
      const z = zeroBlock(libc);
      const a = libc.malloc(2000);
      const b = libc.malloc(2000);
      libc.malloc(2000);
      libc.malloc(16);
      libc.free(b);
      wr(libc, b, z); // b->fd
      libc.free(a);
    },
  },
  {
    how: "unlinking a large-bin chunk whose fd_nextsize->bk_nextsize is not itself",
    msg: "corrupted double-linked list (not small)",
    body: (libc) => {
      const z = zeroBlock(libc);
      const w = libc.malloc(2000);
      const x = libc.malloc(2000);
      libc.malloc(16);
      libc.free(x);
      libc.malloc(3000); // sorts x into its large bin
      wr(libc, x + 8, z); // x->fd_nextsize
      libc.free(w);
    },
  },
  {
    how: "inserting into the unsorted bin when its first chunk's bk is not the bin",
    msg: "free(): corrupted unsorted chunks",
    body: (libc) => {
      const z = zeroBlock(libc);
      libc.malloc(2000);
      const b = libc.malloc(2000);
      libc.malloc(2000);
      const d = libc.malloc(2000);
      libc.malloc(16);
      libc.free(b);
      wr(libc, b + 4, z); // b->bk
      libc.free(d);
    },
  },
  // ---- malloc ----
  {
    how: "top's size overwritten with a huge value (house of force)",
    msg: "malloc(): corrupted top size",
    body: (libc) => {
      const a = libc.malloc(16); // a 32-byte chunk; top starts 24 bytes after a
      wr(libc, a + 24 + 4, 0xfffffff1);
      libc.malloc(2000);
    },
  },
  {
    how: "a fastbin chunk whose size belongs to another fastbin",
    msg: "malloc(): memory corruption (fast)",
    env: [TCACHE_OFF],
    body: (libc) => {
      const a = libc.malloc(20);
      libc.malloc(20);
      libc.free(a);
      setHead(libc, a, 48 | L.PREV_INUSE);
      libc.malloc(20);
    },
  },
  {
    how: "a small-bin chunk whose bk->fd is not itself",
    msg: "malloc(): smallbin double linked list corrupted",
    env: [TCACHE_OFF],
    body: (libc) => {
      const z = zeroBlock(libc);
      const a = libc.malloc(200);
      libc.malloc(20);
      libc.free(a);
      libc.malloc(2000); // sorts a into its small bin
      wr(libc, a + 4, z); // a->bk
      libc.malloc(200);
    },
  },
  {
    how: "an unsorted chunk whose size is 8 (not more than the header)",
    msg: "malloc(): invalid size (unsorted)",
    body: (libc) => {
      const a = libc.malloc(2000);
      libc.malloc(16);
      libc.free(a);
      setHead(libc, a, 8 | L.PREV_INUSE);
      libc.malloc(3000);
    },
  },
  {
    how: "an unsorted chunk whose size exceeds the arena",
    msg: "malloc(): invalid size (unsorted)",
    body: (libc) => {
      const a = libc.malloc(2000);
      libc.malloc(16);
      libc.free(a);
      setHead(libc, a, 0x100000 | L.PREV_INUSE);
      libc.malloc(3000);
    },
  },
  {
    how: "an unsorted chunk whose next chunk's size is 0",
    msg: "malloc(): invalid next size (unsorted)",
    body: (libc) => {
      const a = libc.malloc(2000);
      const g = libc.malloc(16);
      libc.free(a);
      setHead(libc, g, 0);
      libc.malloc(3000);
    },
  },
  {
    how: "an unsorted chunk whose next chunk's prev_size disagrees",
    msg: "malloc(): mismatching next->prev_size (unsorted)",
    body: (libc) => {
      const a = libc.malloc(2000);
      const g = libc.malloc(16);
      libc.free(a);
      setPrevSize(libc, g, 2000);
      libc.malloc(3000);
    },
  },
  {
    how: "an unsorted chunk whose fd is not the bin",
    msg: "malloc(): unsorted double linked list corrupted",
    body: (libc) => {
      const a = libc.malloc(2000);
      libc.malloc(16);
      libc.free(a);
      wr(libc, a, chunk(a)); // a->fd
      libc.malloc(3000);
    },
  },
  {
    how: "an unsorted chunk whose next chunk says it is in use",
    msg: "malloc(): invalid next->prev_inuse (unsorted)",
    body: (libc) => {
      const a = libc.malloc(2000);
      const g = libc.malloc(16);
      libc.free(a);
      setHead(libc, g, head(libc, g) | L.PREV_INUSE);
      libc.malloc(3000);
    },
  },
  {
    how: "sorting a chunk into a large bin whose skip list is broken",
    msg: "malloc(): largebin double linked list corrupted (nextsize)",
    body: (libc) => {
      const z = zeroBlock(libc);
      const x = libc.malloc(2000); // 2016
      libc.malloc(16);
      const y = libc.malloc(2020); // 2032: the same large bin
      libc.malloc(16);
      libc.free(x);
      libc.malloc(3000); // x into the large bin
      libc.free(y);
      wr(libc, x + 12, z); // x->bk_nextsize
      libc.malloc(3000);
    },
  },
  {
    how: "sorting a chunk into a large bin whose list is broken",
    msg: "malloc(): largebin double linked list corrupted (bk)",
    body: (libc) => {
      const z = zeroBlock(libc);
      const x = libc.malloc(2000);
      libc.malloc(16);
      const y = libc.malloc(2020);
      libc.malloc(16);
      libc.free(x);
      libc.malloc(3000);
      libc.free(y);
      wr(libc, x + 4, z); // x->bk
      libc.malloc(3000);
    },
  },
  {
    how: "a tcache entry whose next pointer reveals a misaligned address",
    msg: "malloc(): unaligned tcache chunk detected",
    body: (libc) => {
      const a = libc.malloc(20);
      const b = libc.malloc(20);
      libc.free(a);
      libc.free(b);
      misalignLink(libc, b); // b->next
      libc.malloc(20);
      libc.malloc(20);
    },
  },
  {
    how: "a fastbin head that is misaligned",
    msg: "malloc(): unaligned fastbin chunk detected 2",
    env: [TCACHE_OFF],
    body: (libc) => {
      const a = libc.malloc(20);
      const b = libc.malloc(20);
      libc.malloc(20);
      libc.free(a);
      libc.free(b);
      misalignLink(libc, b); // b->fd
      libc.malloc(20);
      libc.malloc(20);
    },
  },
  {
    how: "a fastbin pop in a process that has created a thread (REMOVE_FB checks the next link as it pops)",
    msg: "malloc(): unaligned fastbin chunk detected",
    env: [TCACHE_OFF],
    body: (libc) => {
      libc.pthreadJoin(libc.pthreadCreate(() => 0)); // SINGLE_THREAD_P is false from now on
      const a = libc.malloc(20);
      const b = libc.malloc(20);
      libc.malloc(20);
      libc.free(a);
      libc.free(b);
      misalignLink(libc, b);
      libc.malloc(20); // single-threaded, this one would succeed and the next die ("... 2")
    },
  },
  {
    how: "moving fastbin chunks into the tcache meets a misaligned one",
    msg: "malloc(): unaligned fastbin chunk detected 3",
    body: (libc) => {
      const fill: number[] = [];
      for (let i = 0; i < 7; i++) fill.push(libc.malloc(20));
      const a = libc.malloc(20);
      const b = libc.malloc(20);
      libc.malloc(20);
      for (const p of fill) libc.free(p);
      libc.free(a);
      libc.free(b);
      misalignLink(libc, b);
      for (let i = 0; i < 7; i++) libc.malloc(20); // empty the tcache bin
      libc.malloc(20); // b from the fastbin; stashing what follows it fails
    },
  },
  {
    how: "consolidating a fastbin chunk whose size belongs to another fastbin",
    msg: "malloc_consolidate(): invalid chunk size",
    env: [TCACHE_OFF],
    body: (libc) => {
      const a = libc.malloc(20);
      libc.malloc(20);
      libc.free(a);
      setHead(libc, a, 48 | L.PREV_INUSE);
      libc.malloc(2000);
    },
  },
  {
    how: "consolidating a fastbin chunk whose prev_size is wrong",
    msg: "corrupted size vs. prev_size in fastbins",
    env: [TCACHE_OFF],
    body: (libc) => {
      const p = libc.malloc(200);
      const f = libc.malloc(20);
      libc.malloc(20);
      libc.free(p);
      libc.free(f);
      setPrevSize(libc, f, 64);
      wr(libc, chunk(f) - 64 + 4, 0);
      libc.malloc(2000);
    },
  },
  {
    how: "a double-free check walking a tcache bin that loops",
    msg: "free(): too many chunks detected in tcache",
    body: (libc) => {
      const a = libc.malloc(20);
      const b = libc.malloc(20);
      const c = libc.malloc(20);
      libc.free(a);
      libc.free(b);
      wr(libc, a, L.protectPtr(a, b)); // a->next = b: b, a, b, a, ...
      wr(libc, c + 4, rd(libc, a + 4)); // c carries the tcache key
      libc.free(c);
    },
  },
  {
    how: "a double-free check walking a tcache bin that holds a misaligned entry",
    msg: "free(): unaligned chunk detected in tcache 2",
    body: (libc) => {
      const a = libc.malloc(20);
      const c = libc.malloc(20);
      libc.free(a);
      misalignLink(libc, a);
      wr(libc, c + 4, rd(libc, a + 4));
      libc.free(c);
    },
  },
  {
    how: "an internal free (realloc's split remainder, arena lock held) onto a fastbin whose head has another bin's size",
    msg: "invalid fastbin entry (free)",
    env: [TCACHE_OFF],
    body: (libc) => {
      const f = libc.malloc(20);
      libc.malloc(20);
      libc.free(f);
      setHead(libc, f, 48 | L.PREV_INUSE);
      const a = libc.malloc(60); // a 64-byte chunk
      libc.malloc(100); // (not 20: that would pop the corrupted head and die of the fastbin's own check)
      libc.realloc(a, 20); // frees a 32-byte remainder
    },
  },
  {
    how: "free of a chunk that claims IS_MMAPPED but is not page aligned",
    msg: "munmap_chunk(): invalid pointer",
    body: (libc) => {
      const a = libc.malloc(100);
      setPrevSize(libc, a, 0);
      setHead(libc, a, head(libc, a) | L.IS_MMAPPED);
      libc.free(a);
    },
  },
  {
    how: "realloc of a chunk that claims IS_MMAPPED but is not page aligned",
    msg: "mremap_chunk(): invalid pointer",
    body: (libc) => {
      const a = libc.malloc(100);
      setPrevSize(libc, a, 0);
      setHead(libc, a, head(libc, a) | L.IS_MMAPPED);
      libc.realloc(a, 5000);
    },
  },
  {
    how: "realloc of a misaligned pointer",
    msg: "realloc(): invalid pointer",
    body: (libc) => {
      const a = libc.malloc(64);
      libc.memset(a, 0, 64);
      libc.realloc(a + 4, 100);
    },
  },
  {
    how: "realloc of a chunk whose size is 8",
    msg: "realloc(): invalid old size",
    body: (libc) => {
      const a = libc.malloc(64);
      setHead(libc, a, 8);
      wr(libc, a + 4, 0);
      libc.realloc(a, 5000);
    },
  },
  {
    how: "realloc when the next chunk's size is 0",
    msg: "realloc(): invalid next size",
    body: (libc) => {
      const a = libc.malloc(100);
      const b = libc.malloc(100);
      setHead(libc, b, 0 | L.PREV_INUSE);
      libc.realloc(a, 5000);
    },
  },
  {
    how: "the program lowered the break under malloc's top (a foreign brk), then the heap had to grow",
    msg: "break adjusted to free malloc space",
    body: (libc) => {
      libc.malloc(1);
      libc.brk(libc.sbrk(0) - 2 * PAGESIZE);
      libc.malloc(100000); // still fits in top
      libc.malloc(100000); // sysmalloc: sbrk answers below the old end of top
    },
  },
  // ---- statistics and thread exit walk the lists too ----
  {
    how: "mallinfo2 walking a fastbin with a misaligned link",
    msg: "int_mallinfo(): unaligned fastbin chunk detected",
    env: [TCACHE_OFF],
    body: (libc) => {
      const a = libc.malloc(20);
      libc.malloc(20);
      libc.free(a);
      misalignLink(libc, a);
      libc.mallinfo2();
    },
  },
  {
    how: "malloc_stats walking a fastbin with a misaligned link",
    msg: "int_mallinfo(): unaligned fastbin chunk detected",
    env: [TCACHE_OFF],
    body: (libc) => {
      const a = libc.malloc(20);
      libc.malloc(20);
      libc.free(a);
      misalignLink(libc, a);
      libc.mallocStats();
    },
  },
  {
    how: "malloc_info walking a fastbin with a misaligned link",
    msg: "__malloc_info(): unaligned fastbin chunk detected",
    env: [TCACHE_OFF],
    body: (libc) => {
      const a = libc.malloc(20);
      libc.malloc(20);
      libc.free(a);
      misalignLink(libc, a);
      libc.mallocInfo(0, 1);
    },
  },
  {
    how: "a thread exits with a misaligned link in its tcache (the whole process aborts)",
    msg: "tcache_thread_shutdown(): unaligned tcache chunk detected",
    body: (libc) => {
      libc.free(libc.malloc(1));
      libc.pthreadJoin(
        libc.pthreadCreate((l) => {
          const a = l.malloc(20);
          l.free(a);
          misalignLink(l, a);
          return 0;
        }),
      );
      libc.puts("main survived");
    },
  },
];

describe("malloc.c integrity checks: exact message on stderr, SIGABRT, and the machine carries on", () => {
  const t = new TestMachine();
  for (const c of ABORTS) {
    it(`${c.msg} <- ${c.how}${c.env ? ` [${c.env.join(" ")}]` : ""}`, () => {
      const r = t.runBody(c.body, { env: c.env });
      expect(r.stdout).toBe("");
      expectMallocAbort(t, r, c.msg);
    });
  }

  it("the same fastbin-head corruption goes unnoticed by a plain free(), which holds no arena lock (have_lock == 0)", () => {
    const r = t.run(
      (_a, _e, libc) => {
        const f = libc.malloc(20);
        const h = libc.malloc(20);
        libc.malloc(20);
        libc.free(f);
        setHead(libc, f, 48 | L.PREV_INUSE);
        libc.free(h); // pushes h over the corrupted head without looking at it
        libc.puts("survived");
        return 0;
      },
      { env: [TCACHE_OFF] },
    );
    expectClean(r);
    expect(r.stdout).toBe("survived\n");
  });

  it("realloc within 2 * SIZE_SZ (8 on i386) of the usable size returns the block before any check (glibc 2.38); 8 or more goes on to _int_realloc's", () => {
    const same: boolean[] = [];
    const corrupt = (libc: Libc) => {
      const a = libc.malloc(100); // usable 108
      const b = libc.malloc(100);
      setHead(libc, b, 0 | L.PREV_INUSE); // the next chunk's size is now 0
      return a;
    };
    expectClean(
      t.runBody((libc) => {
        const a = corrupt(libc);
        same.push(libc.realloc(a, 101) === a, libc.realloc(a, 108) === a);
      }),
    );
    expect(same).toEqual([true, true]);
    expectMallocAbort(
      t,
      t.runBody((libc) => libc.realloc(corrupt(libc), 100)),
      "realloc(): invalid next size",
    );
  });

  it("many crashes in a row leave the kernel and the other programs unharmed", () => {
    for (let i = 0; i < 5; i++) {
      const r = t.runBody((libc) => {
        const p = libc.malloc(32);
        libc.free(p);
        libc.free(p);
      });
      expect(r.signal).toBe(6);
    }
    expectMachineWorks(t);
  });
});

// =====================================================================================
// The environment: MALLOC_* variables, GLIBC_TUNABLES, AT_SECURE, arenas and threads
// =====================================================================================

describe("environment and tunables", () => {
  const t = new TestMachine();

  /** Marks phases in the strace: the program's getpid() calls. */
  const phases = (calls: string[]) => {
    const out: string[][] = [[]];
    for (const l of calls) {
      if (/^getpid\(\)/.test(l)) out.push([]);
      else out[out.length - 1].push(l);
    }
    return out;
  };

  describe("MALLOC_MMAP_THRESHOLD_ / glibc.malloc.mmap_threshold", () => {
    // glibc consults mmap_threshold only in sysmalloc, when no bin and not top can serve a
    // request: so first take 100000 bytes, leaving top (138856 bytes after the tcache)
    // too small for 64 KiB.
    const probe = (out: Record<string, number>) => (libc: Libc) => {
      libc.malloc(100000);
      const p = libc.malloc(64 * 1024);
      const mi = libc.mallinfo2();
      out.mmapped = head(libc, p) & L.IS_MMAPPED;
      out.hblks = mi.hblks;
      out.hblkhd = mi.hblkhd;
    };
    it("MALLOC_MMAP_THRESHOLD_=65536: a 64 KiB request gets its own mapping (hblks 1, hblkhd 69632)", () => {
      const out: Record<string, number> = {};
      const r = t.runBody(probe(out), { env: ["MALLOC_MMAP_THRESHOLD_=65536"] });
      expectClean(r);
      // request2size(65536) = 65552 >= 65536; the mapping is ALIGN_UP(65552 + 4 + 15, 4096).
      expect(out).toEqual({ mmapped: L.IS_MMAPPED, hblks: 1, hblkhd: 69632 });
      expect(r.calls.filter((l) => l.startsWith("mmap2(NULL, 69632, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)"))).toHaveLength(1);
    });
    it("default (128 KiB): the same request grows the heap instead (hblks 0)", () => {
      const out: Record<string, number> = {};
      expectClean(t.runBody(probe(out)));
      expect(out).toEqual({ mmapped: 0, hblks: 0, hblkhd: 0 });
    });
    it("GLIBC_TUNABLES=glibc.malloc.mmap_threshold=65536 does the same", () => {
      const out: Record<string, number> = {};
      expectClean(t.runBody(probe(out), { env: ["GLIBC_TUNABLES=glibc.malloc.mmap_threshold=65536"] }));
      expect(out).toEqual({ mmapped: L.IS_MMAPPED, hblks: 1, hblkhd: 69632 });
    });
    it("GLIBC_TUNABLES wins over the MALLOC_MMAP_THRESHOLD_ alias", () => {
      const out: Record<string, number> = {};
      expectClean(t.runBody(probe(out), { env: ["MALLOC_MMAP_THRESHOLD_=65536", "GLIBC_TUNABLES=glibc.malloc.mmap_threshold=262144"] }));
      expect(out.hblks).toBe(0);
    });
    it("the threshold is not consulted while top can serve: 64 KiB from a fresh 132 KiB heap comes from top", () => {
      const out: number[] = [];
      expectClean(
        t.runBody(
          (libc) => {
            out.push(head(libc, libc.malloc(64 * 1024)) & L.IS_MMAPPED, libc.mallinfo2().hblks);
          },
          { env: ["MALLOC_MMAP_THRESHOLD_=65536"] },
        ),
      );
      expect(out).toEqual([0, 0]);
    });
    it("a threshold above HEAP_MAX_SIZE/2 (512 KiB on i386) is refused: the default stays", () => {
      const out: Record<string, number> = {};
      expectClean(
        t.runBody(
          (libc) => {
            out.mmapped = head(libc, libc.malloc(200000)) & L.IS_MMAPPED;
          },
          { env: ["MALLOC_MMAP_THRESHOLD_=1048576"] },
        ),
      );
      expect(out.mmapped).toBe(L.IS_MMAPPED);
    });
  });

  describe("MALLOC_TOP_PAD_", () => {
    // The first malloc makes the tcache (384 bytes, a 400-byte chunk): sysmalloc asks for
    // ALIGN_UP(400 + top_pad + MINSIZE, 4096), then a second sbrk of 4096 fixes the
    // 16-byte alignment of the first chunk (brk + 8 is 8 mod 16) and the page end.
    for (const [pad, arena] of [
      [null, 139264],
      [0, 8192],
      [1 << 20, 1056768],
    ] as const) {
      it(`${pad === null ? "default top_pad (128 KiB)" : `MALLOC_TOP_PAD_=${pad}`}: the first heap is ${arena} bytes`, () => {
        const out: number[] = [];
        const r = t.runBody(
          (libc) => {
            libc.malloc(1);
            out.push(libc.mallinfo2().arena);
          },
          { env: pad === null ? [] : [`MALLOC_TOP_PAD_=${pad}`] },
        );
        expectClean(r);
        expect(out).toEqual([arena]);
        const brks = r.calls.filter((l) => /^brk\(0x/.test(l));
        expect(brks).toHaveLength(2);
      });
    }
  });

  describe("MALLOC_TRIM_THRESHOLD_", () => {
    const program = (out: number[]) => (libc: Libc) => {
      const a = libc.malloc(100000); // fits in the first heap's top
      out.push(libc.mallinfo2().arena);
      libc.getpid();
      libc.free(a); // merges into top: top is 138856 bytes again
      out.push(libc.mallinfo2().arena);
    };
    it("default (128 KiB): freeing 100000 bytes next to top trims the heap down to top_pad (brk lowered by a page)", () => {
      const out: number[] = [];
      const r = t.runBody(program(out));
      expectClean(r);
      expect(out).toEqual([139264, 135168]);
      expect(phases(r.calls)[1].filter((l) => l.startsWith("brk("))).toHaveLength(1);
    });
    it("MALLOC_TRIM_THRESHOLD_=1048576: the same free keeps the memory", () => {
      const out: number[] = [];
      const r = t.runBody(program(out), { env: ["MALLOC_TRIM_THRESHOLD_=1048576"] });
      expectClean(r);
      expect(out).toEqual([139264, 139264]);
      expect(phases(r.calls)[1].filter((l) => l.startsWith("brk("))).toHaveLength(0);
    });
  });

  describe("MALLOC_PERTURB_", () => {
    const P = 0xa5;
    const env = [`MALLOC_PERTURB_=${P}`];
    const run = (body: (libc: Libc, out: Record<string, boolean | number>) => void) => {
      const out: Record<string, boolean | number> = {};
      expectClean(t.runBody((libc) => body(libc, out), { env }));
      return out;
    };
    it("an allocation through _int_malloc has its requested bytes (only) filled with perturb ^ 0xff", () => {
      const out = run((libc, o) => {
        const a = libc.malloc(100); // from top; usable size 108
        o.fill = allBytes(libc, a, 100, P ^ 0xff);
        o.rest = allZero(libc, a + 100, 8);
      });
      expect(out).toEqual({ fill: true, rest: true });
    });
    it("the tcache path touches nothing: neither the free into the tcache nor the allocation out of it", () => {
      const out = run((libc, o) => {
        const a = libc.malloc(100);
        libc.memset(a, 0x11, 100);
        libc.free(a); // tcache_put writes next and key (8 bytes), nothing else
        o.afterFree = allBytes(libc, a + 8, 92, 0x11);
        const a2 = libc.malloc(100);
        o.same = a2 === a;
        o.afterMalloc = allBytes(libc, a2 + 8, 92, 0x11);
      });
      expect(out).toEqual({ afterFree: true, same: true, afterMalloc: true });
    });
    it("a fastbin free (tcache bin full) fills the user area with perturb; then fd is written over its first word", () => {
      const out = run((libc, o) => {
        const fill: number[] = [];
        for (let i = 0; i < 7; i++) fill.push(libc.malloc(20));
        const f = libc.malloc(20);
        libc.malloc(20);
        for (const p of fill) libc.free(p);
        libc.memset(f, 0x11, 24);
        libc.free(f);
        o.fast = allBytes(libc, f + 4, 20, P);
        o.smblks = libc.mallinfo2().smblks;
      });
      expect(out).toEqual({ fast: true, smblks: 1 });
    });
    it("a normal free fills chunksize - 8 bytes with perturb, under fd, bk, the nextsize words and before the foot", () => {
      const out = run((libc, o) => {
        const big = libc.malloc(2000); // a 2016-byte chunk
        libc.malloc(100);
        libc.memset(big, 0x11, 2012);
        libc.free(big); // into the unsorted bin
        o.perturbed = allBytes(libc, big + 16, 2016 - 8 - 16, P);
        o.foot = rd(libc, big + 2008);
        const again = libc.malloc(2000); // back out through _int_malloc: filled again
        o.same = again === big;
        o.refill = allBytes(libc, again, 2000, P ^ 0xff);
      });
      expect(out).toEqual({ perturbed: true, foot: 2016, same: true, refill: true });
    });
    it("GLIBC_TUNABLES=glibc.malloc.perturb=165 is the same knob; calloc still returns zeros, mmapped or not", () => {
      const out: boolean[] = [];
      expectClean(
        t.runBody(
          (libc) => {
            out.push(allBytes(libc, libc.malloc(100), 100, P ^ 0xff));
            out.push(allZero(libc, libc.calloc(1, 100), 100));
            out.push(allZero(libc, libc.calloc(1, 300000), 300000));
          },
          { env: [`GLIBC_TUNABLES=glibc.malloc.perturb=${P}`] },
        ),
      );
      expect(out).toEqual([true, true, true]);
    });
  });

  describe("GLIBC_TUNABLES tcache_count / tcache_max", () => {
    it("tcache_count=0: a freed small block goes to a fastbin (smblks 1); by default to the tcache (smblks 0, counted in use)", () => {
      const run = (env: string[]) => {
        const out: number[] = [];
        expectClean(
          t.runBody(
            (libc) => {
              const a = libc.malloc(20);
              libc.malloc(20);
              const before = libc.mallinfo2().uordblks;
              libc.free(a);
              const mi = libc.mallinfo2();
              out.push(mi.smblks, mi.fsmblks, before - mi.uordblks);
            },
            { env },
          ),
        );
        return out;
      };
      expect(run([TCACHE_OFF])).toEqual([1, 32, 32]);
      expect(run([])).toEqual([0, 0, 0]);
    });
    it("tcache_max=76 caches chunks up to 80 bytes: a double free of malloc(76) is caught by the tcache, of malloc(77) by the heap", () => {
      const env = ["GLIBC_TUNABLES=glibc.malloc.tcache_max=76"];
      const dbl = (n: number) =>
        t.runBody(
          (libc) => {
            const a = libc.malloc(n);
            libc.malloc(16);
            libc.free(a);
            libc.free(a);
          },
          { env },
        );
      expectMallocAbort(t, dbl(76), "free(): double free detected in tcache 2");
      expectMallocAbort(t, dbl(77), "double free or corruption (!prev)");
      // Without the tunable, 77 bytes are well inside the default 1020-byte tcache.
      expectMallocAbort(
        t,
        t.runBody((libc) => {
          const a = libc.malloc(77);
          libc.free(a);
          libc.free(a);
        }),
        "free(): double free detected in tcache 2",
      );
    });
  });

  describe("MALLOC_ARENA_MAX and threads", () => {
    const threadMalloc = (out: Record<string, number>) => (libc: Libc) => {
      const m = libc.malloc(100); // the main thread takes the main arena
      out.mainFlags = head(libc, m) & L.SIZE_BITS;
      libc.pthreadJoin(
        libc.pthreadCreate((l) => {
          const p = l.malloc(100);
          out.threadFlags = head(l, p) & L.SIZE_BITS;
          out.sameHeap = Math.abs(p - m) < 1 << 20 ? 1 : 0;
          l.free(p);
          return 0;
        }),
      );
    };
    it("a thread's malloc gets a non-main arena: NON_MAIN_ARENA set in its chunk header, in an mmapped heap", () => {
      const out: Record<string, number> = {};
      const r = t.runBody(threadMalloc(out));
      expectClean(r);
      expect(out).toEqual({ mainFlags: L.PREV_INUSE, threadFlags: L.PREV_INUSE | L.NON_MAIN_ARENA, sameHeap: 0 });
      // new_heap: 2 x HEAP_MAX_SIZE reserved PROT_NONE, trimmed to an aligned 1 MiB, then made RW.
      expect(r.calls.some((l) => /^mmap2\(NULL, 2097152, PROT_NONE, MAP_PRIVATE\|MAP_ANONYMOUS\|MAP_NORESERVE, -1, 0\)/.test(l))).toBe(true);
      expect(r.calls.some((l) => /^mprotect\(0x[0-9a-f]+00000, \d+, PROT_READ\|PROT_WRITE\) = 0$/.test(l))).toBe(true);
    });
    for (const env of ["MALLOC_ARENA_MAX=1", "GLIBC_TUNABLES=glibc.malloc.arena_max=1"]) {
      it(`${env}: the thread shares the main arena (no NON_MAIN_ARENA bit)`, () => {
        const out: Record<string, number> = {};
        expectClean(t.runBody(threadMalloc(out), { env: [env] }));
        expect(out).toEqual({ mainFlags: L.PREV_INUSE, threadFlags: L.PREV_INUSE, sameHeap: 1 });
      });
    }
    it("a block malloc'd by a thread can be freed by main, into the thread's arena", () => {
      const out: number[] = [];
      expectClean(
        t.runBody((libc) => {
          libc.free(libc.malloc(1));
          let p = 0;
          libc.pthreadJoin(
            libc.pthreadCreate((l) => {
              p = l.malloc(5000);
              return 0;
            }),
          );
          const before = libc.mallinfo2();
          libc.free(p);
          const after = libc.mallinfo2();
          out.push(before.uordblks - after.uordblks, checkHeap(libc.mallocator).errors.length);
        }),
      );
      expect(out).toEqual([5008, 0]);
    });
  });

  describe("AT_SECURE: a setuid program ignores MALLOC_* and GLIBC_TUNABLES", () => {
    const probe = (out: Record<string, number>) => (libc: Libc) => {
      const p = libc.malloc(64 * 1024);
      out.mmapped = head(libc, p) & L.IS_MMAPPED;
      out.firstByte = libc.mem.read8(p);
      out.arena = libc.mallinfo2().arena;
      const a = libc.malloc(20);
      libc.free(a);
      out.smblks = libc.mallinfo2().smblks;
    };
    const env = ["MALLOC_MMAP_THRESHOLD_=65536", "MALLOC_PERTURB_=165", "MALLOC_TOP_PAD_=0", "GLIBC_TUNABLES=glibc.malloc.tcache_count=0"];
    it("run as uid 1000, setuid root: defaults everywhere", () => {
      const out: Record<string, number> = {};
      expectClean(t.runBody(probe(out), { env, uid: 1000, setuid: true }));
      expect(out).toEqual({ mmapped: 0, firstByte: 0, arena: 139264, smblks: 0 });
    });
    it("control: the same program without the setuid bit honours them all", () => {
      const out: Record<string, number> = {};
      expectClean(t.runBody(probe(out), { env, uid: 1000 }));
      expect(out).toEqual({ mmapped: L.IS_MMAPPED, firstByte: 0xa5 ^ 0xff, arena: 8192, smblks: 1 });
    });
  });

  describe("sbrk and malloc share __curbrk", () => {
    it("a program's own sbrk between mallocs: sysmalloc sees a foreign sbrk and puts the heap after it, leaving the program's page alone", () => {
      const out: Record<string, number | boolean> = {};
      const r = t.runBody((libc) => {
        libc.malloc(1);
        const mine = libc.sbrk(PAGESIZE);
        libc.memset(mine, 0x77, PAGESIZE);
        libc.malloc(100000); // from top
        const b = libc.malloc(100000); // top is too small: the break moves again
        libc.memset(b, 0x55, 100000);
        out.intact = allBytes(libc, mine, PAGESIZE, 0x77);
        out.after = b > mine + PAGESIZE - 1;
        // The heap walk steps over the gap behind the old top's fenceposts.
        out.walks = checkHeap(libc.mallocator).errors.length === 0;
        // The old top ends in two fenceposts below the program's page: freeing and
        // reallocating around them still works.
        libc.free(b);
        const c = libc.malloc(30000);
        libc.memset(c, 0x66, 30000);
        out.stillIntact = allBytes(libc, mine, PAGESIZE, 0x77);
      });
      expectClean(r);
      expect(out).toEqual({ intact: true, after: true, walks: true, stillIntact: true });
      // brk(NULL), the heap's two brk, the program's sbrk, then sysmalloc's MORECORE and its
      // second call for the foreign-sbrk correction (alignment, the old top's size that can
      // no longer be merged, the page end), and finally free(b)'s trim lowering the break.
      const brks = r.calls.filter((l) => /^brk\(/.test(l)).map((l) => /= (0x[0-9a-f]+)$/.exec(l)![1]);
      expect(brks).toHaveLength(7);
      expect(Number(brks[6])).toBeLessThan(Number(brks[5]));
    });
  });

  describe("the dynamic mmap threshold", () => {
    const N = 200 * 1024;
    it("freeing a 200 KiB mmapped chunk raises the threshold to its size: the next 200 KiB comes from the heap, and its free no longer trims", () => {
      const out: Record<string, number>[] = [];
      const r = t.runBody((libc) => {
        const snap = (p: number) => {
          const mi = libc.mallinfo2();
          out.push({ mmapped: head(libc, p) & L.IS_MMAPPED, hblks: mi.hblks, arena: mi.arena });
        };
        libc.free(libc.malloc(1));
        libc.getpid();
        const a = libc.malloc(N);
        snap(a);
        libc.getpid();
        libc.free(a);
        libc.getpid();
        const b = libc.malloc(N);
        snap(b);
        libc.getpid();
        libc.free(b); // top is now 339544 bytes: under the new trim threshold, 2 x 208888
        snap(libc.malloc(1));
      });
      expectClean(r);
      const [, mA, fA, mB, fB] = phases(r.calls.filter((l) => !l.startsWith("exit_group(")));
      // request2size(204800) = 204816; ALIGN_UP(204816 + 4 + 15, 4096) = 208896.
      expect(mA).toEqual([expect.stringMatching(/^mmap2\(NULL, 208896, PROT_READ\|PROT_WRITE, MAP_PRIVATE\|MAP_ANONYMOUS, -1, 0\) = 0x/)]);
      expect(fA).toEqual([expect.stringMatching(/^munmap\(0x[0-9a-f]+, 208896\) = 0$/)]);
      expect(mB.length).toBeGreaterThan(0);
      for (const l of mB) expect(l).toMatch(/^brk\(0x/);
      expect(fB).toEqual([]);
      expect(out[0]).toEqual({ mmapped: L.IS_MMAPPED, hblks: 1, arena: 139264 });
      expect(out[1].mmapped).toBe(0);
      expect(out[1].hblks).toBe(0);
      // sysmalloc grew the break by ALIGN_UP(204816 + top_pad + MINSIZE - top's 138840, 4096).
      expect(out[1].arena).toBe(139264 + 200704);
      expect(out[2].arena).toBe(out[1].arena);
    });
    it("a fixed threshold (MALLOC_MMAP_THRESHOLD_ set) is never adjusted: the second 200 KiB is mmapped again", () => {
      const out: number[] = [];
      expectClean(
        t.runBody(
          (libc) => {
            libc.free(libc.malloc(N));
            const b = libc.malloc(N);
            out.push(head(libc, b) & L.IS_MMAPPED, libc.mallinfo2().hblks);
          },
          { env: ["MALLOC_MMAP_THRESHOLD_=131072"] },
        ),
      );
      expect(out).toEqual([L.IS_MMAPPED, 1]);
    });
    it("chunks above DEFAULT_MMAP_THRESHOLD_MAX (512 KiB on i386) do not move the threshold", () => {
      const out: number[] = [];
      expectClean(
        t.runBody((libc) => {
          libc.free(libc.malloc(600 * 1024));
          out.push(head(libc, libc.malloc(N)) & L.IS_MMAPPED);
        }),
      );
      expect(out).toEqual([L.IS_MMAPPED]);
    });
  });
});

// =====================================================================================
// calloc returns zeros in every mode (DESIGN.md invariant 2)
// =====================================================================================

describe("calloc: zero in every mode, after dirtying freed memory", () => {
  const MODES: [string, string[]][] = [
    ["default", []],
    ["MALLOC_PERTURB_=165", ["MALLOC_PERTURB_=165"]],
    ["MALLOC_NOZERO=1", ["MALLOC_NOZERO=1"]],
    ["MALLOC_NOZERO=1 with MALLOC_PERTURB_=90", ["MALLOC_NOZERO=1", "MALLOC_PERTURB_=90"]],
    ["glibc.malloc.nozero=1", ["GLIBC_TUNABLES=glibc.malloc.nozero=1"]],
    ["tcache off, no fastbins", ["GLIBC_TUNABLES=glibc.malloc.tcache_count=0:glibc.malloc.mxfast=0"]],
    ["MALLOC_TOP_PAD_=0 (top grows and shrinks often)", ["MALLOC_TOP_PAD_=0", "MALLOC_TRIM_THRESHOLD_=0"]],
    ["MALLOC_NOZERO=1, MALLOC_MMAP_THRESHOLD_=4096 (most blocks mmapped)", ["MALLOC_NOZERO=1", "MALLOC_MMAP_THRESHOLD_=4096"]],
  ];
  const SIZES = [1, 7, 12, 24, 25, 60, 100, 200, 1000, 2000, 5000, 20000, 70000, 140000, 300000];

  /** Fill the heap, mmapped blocks and a thread's arena with 0xff, free it all, trim, then calloc. */
  const program: Main = (_a, _e, libc) => {
    const bad: string[] = [];
    const dirty = (l: Libc) => {
      const ps: number[] = [];
      for (let round = 0; round < 3; round++)
        for (const n of SIZES) {
          const p = l.malloc(n);
          l.memset(p, 0xff, l.mallocUsableSize(p));
          ps.push(p);
        }
      for (let i = 0; i < ps.length; i += 2) l.free(ps[i]);
      for (let i = 1; i < ps.length; i += 2) l.free(ps[i]);
    };
    const verify = (l: Libc, where: string) => {
      const keep: number[] = [];
      for (let round = 0; round < 2; round++)
        for (const n of SIZES) {
          for (const [k, e] of [
            [1, n],
            [n, 1],
          ]) {
            const p = l.calloc(k, e);
            if (p === 0) {
              bad.push(`${where}: calloc(${k}, ${e}) failed`);
              continue;
            }
            if (!allZero(l, p, n)) bad.push(`${where}: calloc(${k}, ${e}) not zero`);
            l.memset(p, 0xee, n);
            keep.push(p);
          }
        }
      for (let i = 0; i < keep.length; i += 3) l.free(keep[i]);
    };
    dirty(libc);
    verify(libc, "main, after free");
    dirty(libc);
    libc.mallocTrim(0); // pages go back (brk lowered, MADV_DONTNEED) and come back on reuse
    verify(libc, "main, after malloc_trim");
    libc.pthreadJoin(
      libc.pthreadCreate((l) => {
        dirty(l);
        verify(l, "thread arena");
        l.mallocTrim(0);
        verify(l, "thread arena, after malloc_trim");
        return 0;
      }),
    );
    for (const b of bad) libc.puts(b);
    return bad.length === 0 ? 0 : 1;
  };

  const t = new TestMachine();
  const dirtier: Main = (_a, _e, libc) => {
    // Leave 8 MiB of 0xff in frames this user gets back later (the nozero policy hands a
    // user's own freed frames back uncleared to VM_NOZERO areas).
    const p = libc.mmap(0, 8 << 20, 3, 0x22 | 0x04000000); // MAP_NOZERO: recyclable by this user
    libc.memset(p, 0xff, 8 << 20);
    return 0;
  };

  for (const [name, env] of MODES) {
    it(name, () => {
      expectClean(t.run(dirtier, { uid: 1000 }));
      const r = t.run(program, { env, uid: 1000 });
      expect(r.stdout).toBe("");
      expectClean(r);
    });
  }

  it("why MALLOC_NOZERO needs calloc to clear: the same user's stale bytes really do come back in fresh heap and mmap memory", () => {
    expectClean(t.run(dirtier, { uid: 1000 }));
    const seen: number[] = [];
    const r = t.runBody(
      (libc) => {
        const big = libc.malloc(1 << 20); // mmapped with MAP_NOZERO
        const heap = libc.malloc(100000); // brk2(..., BRK_NOZERO) heap
        let dirtyBytes = 0;
        for (const [p, n] of [
          [big, 1 << 20],
          [heap, 100000],
        ])
          for (const b of libc.mem.readBytes(p, n)) if (b === 0xff) dirtyBytes++;
        seen.push(dirtyBytes);
      },
      { env: ["MALLOC_NOZERO=1"], uid: 1000 },
    );
    expectClean(r);
    expect(seen[0]).toBeGreaterThan(0);
    expect(r.calls.some((l) => /MAP_NOZERO/.test(l))).toBe(true);
    expect(r.calls.some((l) => /^brk2\(/.test(l))).toBe(true);
  });
});
