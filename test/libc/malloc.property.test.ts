// Property test of ptmalloc2 (libc/malloc) against a model of what a C
// program may rely on.
//
// fast-check generates sequences of malloc / calloc / realloc / free /
// memalign / malloc_trim(0) with sizes biased to each of the allocator's
// ranges (i386: tcache up to 1020 bytes, fastbins up to 64, small bins below
// 1008, large bins, and mmap around the 128 KiB threshold). One emulated
// program per run interprets the list (handed over through a JS closure; the
// machine runs it synchronously) and, after EVERY op, checks:
//   - the pointer just returned: non-null, aligned (16, or the memalign
//     alignment), malloc_usable_size >= request and not wastefully larger
//     (an arena chunk is at most request2size(n) + MINSIZE);
//   - calloc's bytes are all zero (every freed block was covered with a
//     non-zero pattern, and the kernel's free frames were dirtied first);
//   - realloc kept the first min(old usable, new size) bytes;
//   - every live block: its usable size is unchanged, its [mem, mem+usable)
//     overlaps no other live block, its bytes are still the pattern the model
//     wrote over all of them, and (outside mmap) it is an in-use chunk of the
//     heap walk with the size its header says;
//   - no tcache entry of the running thread and no fastbin entry of any arena
//     lies inside a live block, and the tcache counts match the lists;
//   - checkHeap (every arena walks consistently) reports nothing.
// A process abort (a malloc integrity check) fails the run with its message.
//
// The model: the live blocks in allocation order (ops name them by index mod
// the count, so shrinking keeps them meaningful), each with its pointer,
// request, usable size and the bytes written over its whole usable size.
//
// Modes, each its own property with a fixed seed: stock glibc behaviour;
// MALLOC_NOZERO=1; MALLOC_NOZERO=1 on a poisoning kernel; a 4 KiB mmap
// threshold; mxfast=0; tcache_count=0; MALLOC_PERTURB_; and two threads (each
// with half the ops, in its own arena, freeing each other's blocks, then the
// main thread frees everything left: cross-arena frees), stock and NOZERO.
// MPROP_RUNS=n and MPROP_SEED=s override the runs per mode and the seeds;
// MPROP_ONLY='<the JSON op list of a counterexample>' replays one list (with
// -t to pick the mode), MPROP_STRACE=1 traces its syscalls, MPROP_DEBUG=1
// prints what each mode exercised.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Machine } from "../../apps/machine.ts";
import { MAP_ANONYMOUS, MAP_NOZERO, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../../kernel/mman.ts";
import { FatalSignal } from "../../kernel/signal.ts";
import type { Libc } from "../../libc/libc.ts";
import { arenaForChunk } from "../../libc/malloc/arena.ts";
import { checkHeap } from "../../libc/malloc/check.ts";
import * as L from "../../libc/malloc/layout.ts";
import type { Malloc } from "../../libc/malloc/malloc.ts";

const UID = 1000;
/** Pages of kernel memory dirtied (and freed) by the program before its first malloc. */
const DIRTY_PAGES = 512;

// ---- ops ----------------------------------------------------------------------------

type Op =
  | { k: "malloc"; n: number }
  | { k: "calloc"; n: number; m: number }
  | { k: "realloc"; i: number; n: number }
  | { k: "free"; i: number }
  | { k: "memalign"; align: number; n: number }
  | { k: "trim" };

/** Sizes in every range: tcache/fastbin, tcache/smallbin, smallbin, largebin, mmap-ish. */
const sizeArb = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 24 }), weight: 3 },
  { arbitrary: fc.integer({ min: 25, max: 64 }), weight: 3 },
  { arbitrary: fc.integer({ min: 65, max: 1008 }), weight: 3 },
  { arbitrary: fc.integer({ min: 1009, max: 8192 }), weight: 2 },
  { arbitrary: fc.integer({ min: 64 << 10, max: 300 << 10 }), weight: 1 },
);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ k: fc.constant("malloc" as const), n: sizeArb }), weight: 8 },
  {
    arbitrary: fc
      .tuple(sizeArb, fc.constantFrom(1, 4, 8, 12, 24, 100))
      .map(([total, m]): Op => ({ k: "calloc", n: Math.ceil(total / m), m })),
    weight: 4,
  },
  { arbitrary: fc.record({ k: fc.constant("realloc" as const), i: fc.nat(1000), n: sizeArb }), weight: 6 },
  { arbitrary: fc.record({ k: fc.constant("free" as const), i: fc.nat(1000) }), weight: 8 },
  {
    arbitrary: fc.record({
      k: fc.constant("memalign" as const),
      align: fc.constantFrom(8, 16, 32, 48, 64, 128, 256, 1000, 4096, 16384, 65536),
      n: sizeArb,
    }),
    weight: 3,
  },
  { arbitrary: fc.constant({ k: "trim" } as Op), weight: 1 },
);

function showOp(op: Op): string {
  switch (op.k) {
    case "malloc":
      return `malloc(${op.n})`;
    case "calloc":
      return `calloc(${op.n}, ${op.m})`;
    case "realloc":
      return `realloc(live[${op.i} mod count], ${op.n})`;
    case "free":
      return `free(live[${op.i} mod count])`;
    case "memalign":
      return `memalign(${op.align}, ${op.n})`;
    case "trim":
      return "malloc_trim(0)";
  }
}

// ---- modes --------------------------------------------------------------------------

interface Mode {
  name: string;
  env: string[];
  poison?: boolean;
  threads?: boolean;
  /** mp_/global words the environment must have set: [offset, value]. */
  expect: [number, number, string][];
  seed: number;
  runs: number;
  maxOps: number;
}

const NOZERO_ON: [number, number, string] = [L.G_NOZERO, 1, "nozero"];
const NOZERO_OFF: [number, number, string] = [L.G_NOZERO, 0, "nozero"];
const maxOps = 250;

const MODES: Mode[] = [
  {
    name: "stock glibc (nozero kernel, no MALLOC_NOZERO)",
    env: [],
    expect: [NOZERO_OFF, [L.MP_MMAP_THRESHOLD, 128 << 10, "mmap_threshold"]],
    seed: 0x5eed01,
    runs: 150,
    maxOps,
  },
  { name: "MALLOC_NOZERO=1", env: ["MALLOC_NOZERO=1"], expect: [NOZERO_ON], seed: 0x5eed02, runs: 150, maxOps },
  { name: "MALLOC_NOZERO=1 on a poisoning kernel", env: ["MALLOC_NOZERO=1"], poison: true, expect: [NOZERO_ON], seed: 0x5eed03, runs: 90, maxOps },
  {
    name: "MALLOC_MMAP_THRESHOLD_=4096",
    env: ["MALLOC_MMAP_THRESHOLD_=4096"],
    expect: [[L.MP_MMAP_THRESHOLD, 4096, "mmap_threshold"], [L.MP_NO_DYN_THRESHOLD, 1, "no_dyn_threshold"]],
    seed: 0x5eed04,
    runs: 90,
    maxOps,
  },
  {
    name: "glibc.malloc.mxfast=0",
    env: ["GLIBC_TUNABLES=glibc.malloc.mxfast=0"],
    expect: [[L.G_MAX_FAST, L.MIN_CHUNK_SIZE / 2, "global_max_fast"]],
    seed: 0x5eed05,
    runs: 90,
    maxOps,
  },
  {
    name: "glibc.malloc.tcache_count=0",
    env: ["GLIBC_TUNABLES=glibc.malloc.tcache_count=0"],
    expect: [[L.MP_TCACHE_COUNT, 0, "tcache_count"]],
    seed: 0x5eed06,
    runs: 90,
    maxOps,
  },
  { name: "MALLOC_PERTURB_=165", env: ["MALLOC_PERTURB_=165"], expect: [[L.G_PERTURB, 165, "perturb_byte"]], seed: 0x5eed07, runs: 90, maxOps },
  { name: "two threads, cross-arena frees", env: [], threads: true, expect: [NOZERO_OFF], seed: 0x5eed08, runs: 90, maxOps },
  { name: "two threads, cross-arena frees, MALLOC_NOZERO=1", env: ["MALLOC_NOZERO=1"], threads: true, expect: [NOZERO_ON], seed: 0x5eed09, runs: 60, maxOps },
];

// ---- the model ----------------------------------------------------------------------

interface Block {
  id: number;
  p: number;
  req: number;
  usable: number;
  mmapped: boolean;
  /** How it was made (for messages). */
  how: string;
  /** The bytes the model wrote over [p, p+usable). */
  bytes: Uint8Array;
}

class CheckFailure extends Error {}

function hex(x: number): string {
  return "0x" + (x >>> 0).toString(16);
}

/** A block's pattern: never zero, different per block, not periodic at small strides. */
function pattern(id: number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  const s = (id * 37) % 255;
  for (let i = 0; i < n; i++) b[i] = ((s + i * 131 + (i >>> 8) * 7) % 255) + 1;
  return b;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function firstDiff(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

/** One property run: the ops, the model, and where it failed. */
class Run {
  live: Block[] = [];
  nextId = 1;
  /** Index of the op being run (or -1 before the first, ops.length after the last). */
  at = -1;
  failure: string | null = null;
  /** What each op resolved to, for the failure report. */
  trace: string[] = [];
  /** Per-run tallies. */
  checks = 0;
  maxLive = 0;
  mmapped = 0;
  arenaBlocks = 0;
  callocBytes = 0;
  /** Most heaps a thread's arena had at once. */
  maxHeaps = 0;
  /** Each worker thread's arena (threads mode). */
  arenas: number[] = [];

  constructor(
    readonly mode: Mode,
    readonly ops: Op[],
  ) {}

  fail(msg: string): never {
    throw new CheckFailure(msg);
  }

  summary(): string {
    const lines = [`model: ${this.live.length} live block(s), ${this.live.reduce((s, b) => s + b.req, 0)} bytes requested`];
    for (const b of [...this.live].sort((x, y) => x.p - y.p).slice(0, 16)) {
      lines.push(`  #${b.id} ${hex(b.p)} req ${b.req} usable ${b.usable}${b.mmapped ? " mmapped" : ""} (${b.how})`);
    }
    if (this.live.length > 16) lines.push(`  ... ${this.live.length - 16} more`);
    lines.push("last ops:", ...this.trace.slice(-8).map((t) => "  " + t));
    return lines.join("\n");
  }

  report(e: unknown): string {
    const op = this.at >= 0 && this.at < this.ops.length ? showOp(this.ops[this.at]) : this.at < 0 ? "(set-up)" : "(wind-down)";
    const what = e instanceof CheckFailure ? e.message : `test code threw: ${(e as Error)?.stack ?? String(e)}`;
    return `[${this.mode.name}] op ${this.at} of ${this.ops.length}: ${op}\n${what}\n${this.summary()}`;
  }

  // ---- the program ----------------------------------------------------------------

  main(libc: Libc): number {
    try {
      this.setUp(libc);
      if (this.mode.threads) this.threaded(libc);
      else {
        for (let i = 0; i < this.ops.length; i++) this.step(libc, i);
        this.at = this.ops.length;
      }
      return 0;
    } catch (e) {
      return this.caught(e);
    }
  }

  /** Record a failed check or a bug in this file; let the kernel's own unwinding (signals, exit) through. */
  private caught(e: unknown): number {
    if (e instanceof FatalSignal) {
      // Let it kill the process as it should, but say where it hit.
      this.failure ??= this.report(new CheckFailure(`the process took signal ${e.signo} (fault address ${hex(e.addr)})`));
      throw e;
    }
    if (!(e instanceof Error)) throw e;
    this.failure ??= this.report(e);
    return 1;
  }

  /** Dirty and free some kernel memory (so nothing fresh is zero by accident), then check the mode took. */
  private setUp(libc: Libc): void {
    const len = DIRTY_PAGES * 4096;
    const p = libc.mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NOZERO);
    libc.memset(p, 0xa5, len);
    libc.munmap(p, len);
    const m = libc.mallocator;
    m.ensureInit();
    for (const [off, v, name] of this.mode.expect) {
      if (m.g(off) !== v) this.fail(`mode not in effect: ${name} is ${m.g(off)}, expected ${v}`);
    }
    // Real programs allocate in main first (stdio does); so do we, and threads get arenas of their own.
    libc.free(libc.malloc(1));
  }

  /** Two threads, half the ops each (the first still alive while the second runs), then main frees the rest. */
  private threaded(libc: Libc): void {
    const half = Math.ceil(this.ops.length / 2);
    const worker = (from: number, to: number, lingers: boolean) => (l: Libc) => {
      try {
        for (let i = from; i < to; i++) this.step(l, i);
        const a = l.mallocator.tls.arena;
        if (a !== 0) this.arenas.push(a);
        // Sleep: the other thread starts now and must get an arena of its own.
        if (lingers) l.sleep(0.001);
        return 0;
      } catch (e) {
        return this.caught(e);
      }
    };
    const a = libc.pthreadCreate(worker(0, half, true));
    const b = libc.pthreadCreate(worker(half, this.ops.length, false));
    if (a < 0 || b < 0) this.fail("pthread_create failed");
    const ra = libc.pthreadJoin(a);
    const rb = libc.pthreadJoin(b);
    if (this.failure !== null) return;
    if (ra !== 0 || rb !== 0) this.fail(`thread results ${ra}, ${rb}`);
    this.at = this.ops.length;
    const m = libc.mallocator;
    for (const av of this.arenas) if (av === m.av0 || av === 0) this.fail(`a thread ran in the main arena (${hex(av)})`);
    if (this.arenas.length === 2 && this.arenas[0] === this.arenas[1]) this.fail(`both threads shared arena ${hex(this.arenas[0])}`);
    this.verify(libc, "after both threads exited");
    // The main thread frees every block the threads left: cross-arena frees.
    while (this.live.length > 0) {
      const blk = this.live[0];
      const arena = blk.mmapped ? "mmapped" : `arena ${hex(arenaForChunk(m, blk.p - L.CHUNK_HDR_SZ))}`;
      this.trace.push(`main: free(#${blk.id} ${hex(blk.p)}, ${arena})`);
      this.live.shift();
      libc.free(blk.p);
      this.verify(libc, `main thread freed #${blk.id} (${arena})`);
    }
    libc.mallocTrim(0);
    this.trace.push("main: malloc_trim(0)");
    this.verify(libc, "final malloc_trim(0)");
  }

  // ---- one op -----------------------------------------------------------------------

  private pick(i: number): Block | null {
    return this.live.length === 0 ? null : this.live[i % this.live.length];
  }

  private step(libc: Libc, i: number): void {
    this.at = i;
    const op = this.ops[i];
    const mem = libc.mem;
    switch (op.k) {
      case "malloc": {
        const p = libc.malloc(op.n);
        this.trace.push(`${i}: malloc(${op.n}) = ${hex(p)}`);
        this.adopt(libc, p, op.n, 16, `malloc(${op.n})`);
        break;
      }
      case "calloc": {
        const sz = op.n * op.m;
        const p = libc.calloc(op.n, op.m);
        this.trace.push(`${i}: calloc(${op.n}, ${op.m}) = ${hex(p)}`);
        if (p !== 0 && sz > 0) {
          const got = mem.readBytes(p, sz);
          const nz = got.findIndex((x) => x !== 0);
          if (nz >= 0) this.fail(`calloc(${op.n}, ${op.m}) = ${hex(p)}: byte ${nz} of ${sz} is ${hex(got[nz])}, not zero`);
          this.callocBytes += sz;
        }
        this.adopt(libc, p, sz, 16, `calloc(${op.n}, ${op.m})`);
        break;
      }
      case "realloc": {
        const old = this.pick(op.i);
        if (old === null) {
          const p = libc.realloc(0, op.n);
          this.trace.push(`${i}: realloc(NULL, ${op.n}) = ${hex(p)}`);
          this.adopt(libc, p, op.n, 16, `realloc(NULL, ${op.n})`);
          break;
        }
        const p = libc.realloc(old.p, op.n);
        this.trace.push(`${i}: realloc(#${old.id} ${hex(old.p)} req ${old.req} usable ${old.usable}, ${op.n}) = ${hex(p)}`);
        if (op.n === 0) {
          if (p !== 0) this.fail(`realloc(p, 0) returned ${hex(p)}, not NULL (it must free)`);
          this.live.splice(this.live.indexOf(old), 1);
          break;
        }
        if (p === 0) this.fail(`realloc(#${old.id}, ${op.n}) returned NULL (errno ${libc.errno})`);
        const keep = Math.min(old.usable, op.n);
        const got = mem.readBytes(p, keep);
        if (!sameBytes(got, old.bytes.subarray(0, keep))) {
          const d = firstDiff(got, old.bytes);
          this.fail(`realloc(#${old.id} ${hex(old.p)}, ${op.n}) = ${hex(p)} lost contents: byte ${d} of the ${keep} kept is ${hex(got[d])}, was ${hex(old.bytes[d])}`);
        }
        this.live.splice(this.live.indexOf(old), 1);
        this.adopt(libc, p, op.n, 16, `realloc(#${old.id}, ${op.n})`);
        break;
      }
      case "free": {
        const b = this.pick(op.i);
        if (b === null) {
          libc.free(0);
          this.trace.push(`${i}: free(NULL)`);
          break;
        }
        this.trace.push(`${i}: free(#${b.id} ${hex(b.p)})`);
        this.live.splice(this.live.indexOf(b), 1);
        libc.free(b.p);
        break;
      }
      case "memalign": {
        const p = libc.memalign(op.align, op.n);
        this.trace.push(`${i}: memalign(${op.align}, ${op.n}) = ${hex(p)}`);
        let want = 16;
        while (want < op.align) want *= 2;
        this.adopt(libc, p, op.n, want, `memalign(${op.align}, ${op.n})`);
        break;
      }
      case "trim": {
        const r = libc.mallocTrim(0);
        this.trace.push(`${i}: malloc_trim(0) = ${r}`);
        break;
      }
    }
    this.verify(libc, `after op ${i}`);
  }

  /** A block just returned: check it, record it, cover it with its pattern. */
  private adopt(libc: Libc, p: number, req: number, align: number, how: string): void {
    if (p === 0) this.fail(`${how} returned NULL (errno ${libc.errno})`);
    if (p % align !== 0) this.fail(`${how} = ${hex(p)} is not ${align}-aligned`);
    const usable = libc.mallocUsableSize(p);
    if (usable < req) this.fail(`${how} = ${hex(p)}: malloc_usable_size ${usable} < request ${req}`);
    const head = libc.mem.readU32(p - L.CHUNK_HDR_SZ + L.F_SIZE);
    const mmapped = (head & L.IS_MMAPPED) !== 0;
    if (!mmapped) {
      const size = head & ~L.SIZE_BITS;
      const bound = L.request2size(req) + L.MINSIZE;
      if (size > bound) this.fail(`${how} = ${hex(p)}: chunk of ${size} bytes for a ${req}-byte request (more than request2size + MINSIZE = ${bound})`);
    }
    const id = this.nextId++;
    const bytes = pattern(id, usable);
    libc.mem.writeBytes(p, bytes);
    this.live.push({ id, p, req, usable, mmapped, how, bytes });
    this.maxLive = Math.max(this.maxLive, this.live.length);
    if (mmapped) this.mmapped++;
    else this.arenaBlocks++;
  }

  // ---- the invariants ---------------------------------------------------------------

  verify(libc: Libc, when: string): void {
    this.checks++;
    const m = libc.mallocator;
    const mem = libc.mem;
    const { chunks, errors } = checkHeap(m);
    if (errors.length > 0) this.fail(`${when}: checkHeap: ${errors.slice(0, 6).join("; ")}${errors.length > 6 ? ` (+${errors.length - 6})` : ""}`);
    const walk = new Map<number, { size: number; inuse: boolean }>();
    for (const c of chunks) walk.set(c.p, c);

    // Live blocks: stable usable size, in-use chunks, no overlap, contents intact.
    const sorted = [...this.live].sort((x, y) => x.p - y.p);
    const starts: number[] = [];
    const ends: number[] = [];
    for (const b of sorted) {
      const usable = libc.mallocUsableSize(b.p);
      if (usable !== b.usable) this.fail(`${when}: #${b.id} ${hex(b.p)}: malloc_usable_size is now ${usable}, was ${b.usable}`);
      const head = mem.readU32(b.p - L.CHUNK_HDR_SZ + L.F_SIZE);
      const size = head & ~L.SIZE_BITS;
      if (((head & L.IS_MMAPPED) !== 0) !== b.mmapped) this.fail(`${when}: #${b.id} ${hex(b.p)}: IS_MMAPPED flipped (head ${hex(head)})`);
      if (!b.mmapped) {
        const c = walk.get(b.p - L.CHUNK_HDR_SZ);
        if (c === undefined) this.fail(`${when}: #${b.id} ${hex(b.p)} is not a chunk of the heap walk`);
        if (!c.inuse) this.fail(`${when}: #${b.id} ${hex(b.p)} is free in the heap walk`);
        if (c.size !== size) this.fail(`${when}: #${b.id} ${hex(b.p)}: walk size ${c.size} != header size ${size}`);
      }
      starts.push(b.p - L.CHUNK_HDR_SZ);
      ends.push(b.p - L.CHUNK_HDR_SZ + size);
    }
    for (let i = 1; i < sorted.length; i++) {
      const a = sorted[i - 1];
      const b = sorted[i];
      if (a.p + a.usable > b.p) this.fail(`${when}: #${a.id} [${hex(a.p)}, +${a.usable}) overlaps #${b.id} at ${hex(b.p)}`);
    }
    for (const b of sorted) {
      const got = mem.readBytes(b.p, b.usable);
      if (!sameBytes(got, b.bytes)) {
        const d = firstDiff(got, b.bytes);
        this.fail(`${when}: #${b.id} ${hex(b.p)} (${b.how}) corrupted: byte ${d} of ${b.usable} is ${hex(got[d])}, wrote ${hex(b.bytes[d])}`);
      }
    }

    // Chunks on the singly linked lists (which the walk counts as in use) must not be live.
    const inLive = (c: number, size: number): boolean => {
      let lo = 0;
      let hi = starts.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (ends[mid] <= c) lo = mid + 1;
        else hi = mid;
      }
      return lo < starts.length && starts[lo] < c + size;
    };
    this.checkTcache(m, when, inLive);
    this.checkFastbins(m, when, inLive);
  }

  private checkTcache(m: Malloc, when: string, inLive: (c: number, size: number) => boolean): void {
    const tc = m.tls.tcache;
    if (tc === 0) return;
    const mem = m.mem;
    for (let idx = 0; idx < L.TCACHE_MAX_BINS; idx++) {
      const count = mem.read16(tc + L.TC_COUNTS + 2 * idx);
      let n = 0;
      for (let e = mem.readU32(tc + L.TC_ENTRIES + 4 * idx); e !== 0; e = L.protectPtr(e, mem.readU32(e + L.TE_NEXT))) {
        if (e & L.MALLOC_ALIGN_MASK || ++n > count) this.fail(`${when}: tcache bin ${idx}: bad list (entry ${hex(e)}, ${n} entries, count ${count})`);
        const c = e - L.CHUNK_HDR_SZ;
        const size = mem.readU32(c + L.F_SIZE) & ~L.SIZE_BITS;
        if (L.csize2tidx(size) !== idx) this.fail(`${when}: tcache bin ${idx} holds ${hex(e)} of size ${size}`);
        if (inLive(c, size)) this.fail(`${when}: tcache entry ${hex(e)} (size ${size}) lies in a live block`);
      }
      if (n !== count) this.fail(`${when}: tcache bin ${idx}: count ${count} but ${n} entries`);
    }
  }

  private checkFastbins(m: Malloc, when: string, inLive: (c: number, size: number) => boolean): void {
    const mem = m.mem;
    let av = m.av0;
    do {
      if (av !== m.av0) {
        let n = 0;
        for (let h = (mem.readU32(av + L.AV_TOP) & ~(L.HEAP_MAX_SIZE - 1)) >>> 0; h !== 0 && n < 1000; h = mem.readU32(h + L.HI_PREV)) n++;
        this.maxHeaps = Math.max(this.maxHeaps, n);
      }
      for (let idx = 0; idx < L.NFASTBINS; idx++) {
        let n = 0;
        for (let c = mem.readU32(av + L.AV_FASTBINS + 4 * idx); c !== 0; c = L.protectPtr(c + L.F_FD, mem.readU32(c + L.F_FD))) {
          if (L.misalignedChunk(c) || ++n > 100_000) this.fail(`${when}: arena ${hex(av)} fastbin ${idx}: bad list at ${hex(c)}`);
          const size = mem.readU32(c + L.F_SIZE) & ~L.SIZE_BITS;
          if (L.fastbinIndex(size) !== idx) this.fail(`${when}: arena ${hex(av)} fastbin ${idx} holds ${hex(c)} of size ${size}`);
          if (inLive(c, size)) this.fail(`${when}: fastbin chunk ${hex(c)} (size ${size}) lies in a live block`);
        }
      }
      av = mem.readU32(av + L.AV_NEXT);
    } while (av !== m.av0 && av !== 0);
  }
}

/** Run one op list in a fresh machine; a failure report, or null. */
function runOps(mode: Mode, ops: Op[]): string | null {
  const strace = process.env.MPROP_STRACE ? (line: string, pid: number) => console.log(`[${pid}] ${line}`) : undefined;
  const machine = new Machine({ memMiB: 32, poison: mode.poison, strace });
  const run = new Run(mode, ops);
  machine.install("mprop", (_argv, _envp, libc) => run.main(libc));
  const r = machine.run(["mprop"], { uid: UID, env: ["PATH=/bin", "HOME=/tmp", ...mode.env] });
  const ended = `the program ended with exit code ${r.exitCode} (signal ${r.signal}); stderr: ${JSON.stringify(r.stderr)}`;
  if (run.failure !== null) return r.exitCode === 0 || r.exitCode === 1 ? run.failure : `${run.failure}\n${ended}`;
  if (r.exitCode !== 0) return run.report(new CheckFailure(`${ended}; kernel log: ${machine.k.logLines.slice(-3).join(" | ")}`));
  if (run.at !== ops.length) return run.report(new CheckFailure("the program stopped early"));
  tally.runs++;
  tally.ops += ops.length;
  tally.checks += run.checks;
  tally.maxLive = Math.max(tally.maxLive, run.maxLive);
  tally.mmapped += run.mmapped;
  tally.arenaBlocks += run.arenaBlocks;
  tally.callocBytes += run.callocBytes;
  tally.maxHeaps = Math.max(tally.maxHeaps, run.maxHeaps);
  return null;
}

/** MPROP_DEBUG=1: what the runs of each mode exercised. */
const tally = { runs: 0, ops: 0, checks: 0, maxLive: 0, mmapped: 0, arenaBlocks: 0, callocBytes: 0, maxHeaps: 0 };

function property(mode: Mode): void {
  const only = process.env.MPROP_ONLY;
  if (only) {
    // Replay one counterexample (the JSON op list fast-check printed).
    const failure = runOps(mode, JSON.parse(only) as Op[]);
    if (failure !== null) throw new Error(failure);
    return;
  }
  const runs = Number(process.env.MPROP_RUNS) || mode.runs;
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: mode.maxOps, size: "max" }), (ops) => {
      const failure = runOps(mode, ops);
      if (failure !== null) throw new Error(failure);
    }),
    { seed: Number(process.env.MPROP_SEED) || mode.seed, numRuns: runs },
  );
  if (process.env.MPROP_DEBUG) {
    console.log(`${mode.name}: ${JSON.stringify(tally)}`);
    for (const k of Object.keys(tally) as (keyof typeof tally)[]) tally[k] = 0;
  }
}

describe("malloc property: random op sequences against a model", () => {
  for (const mode of MODES) it(mode.name, () => property(mode));
});

// ---- regressions found by the property ------------------------------------------------

describe("malloc regressions found by the property", () => {
  // A thread's first malloc makes an arena at the start of a fresh heap. glibc
  // counts on that mapping being zero for heap_info.prev and for the arena's
  // fastbins, binmap and last_remainder; under MALLOC_NOZERO the heap is
  // MAP_NOZERO and may hold this user's old bytes. Before the fix the
  // heap's prev was 0xa5a5a5a5 and the process died of SIGSEGV at 0xa5a5a5a9
  // on its next heap walk (counterexample: two threads, NOZERO, [malloc(65536)]).
  it("a new arena in a MAP_NOZERO heap starts clean (heap_info.prev, fastbins, binmap)", () => {
    const machine = new Machine({ memMiB: 32 });
    const seen: string[] = [];
    machine.install("arena", (_argv, _envp, libc) => {
      const len = DIRTY_PAGES * 4096;
      const d = libc.mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NOZERO);
      libc.memset(d, 0xa5, len);
      libc.munmap(d, len);
      libc.free(libc.malloc(1));
      const t = libc.pthreadCreate((l) => {
        const p = l.malloc(100);
        const m = l.mallocator;
        const av = m.tls.arena;
        const h = (p & ~(L.HEAP_MAX_SIZE - 1)) >>> 0;
        if (av === m.av0) seen.push("the thread got the main arena");
        if (m.mem.readU32(h + L.HI_PREV) !== 0) seen.push(`heap_info.prev = ${hex(m.mem.readU32(h + L.HI_PREV))}`);
        for (let i = 0; i < L.NFASTBINS; i++) {
          const fb = m.mem.readU32(av + L.AV_FASTBINS + 4 * i);
          if (fb !== 0) seen.push(`fastbin ${i} = ${hex(fb)}`);
        }
        for (let i = 0; i < L.BINMAPSIZE; i++) {
          const w = m.mem.readU32(av + L.AV_BINMAP + 4 * i);
          if (w !== 0) seen.push(`binmap[${i}] = ${hex(w)}`);
        }
        const lr = m.mem.readU32(av + L.AV_LAST_REMAINDER);
        if (lr !== 0) seen.push(`last_remainder = ${hex(lr)}`);
        l.free(p);
        seen.push(...checkHeap(m).errors);
        return 0;
      });
      libc.pthreadJoin(t);
      seen.push(...checkHeap(libc.mallocator).errors);
      return 0;
    });
    const r = machine.run(["arena"], { uid: UID, env: ["PATH=/bin", "MALLOC_NOZERO=1"] });
    expect({ exit: r.exitCode, stderr: r.stderr, seen }).toEqual({ exit: 0, stderr: "", seen: [] });
  });
});
