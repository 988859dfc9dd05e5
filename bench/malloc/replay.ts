// Replaying a malloc trace (trace.ts) against one allocator: the loop every
// JS-side peer and our emulated process run, the same way.
//
// Per slot the replayer keeps the block's pointer, requested size and tag.
// Every block gets its tag in its first and last byte; both are checked at
// free and before a realloc, and after a realloc the first byte (and, when
// it grew, the old last byte) must still hold the old tag: realloc kept the
// contents. Pointers must be nonzero and 8-byte aligned. An exception ends
// the replay and is recorded with its op index.

import { KIND_FREE, KIND_MALLOC, type Trace } from "./trace.ts";

/** One allocator as the replayer sees it. Addresses are plain numbers in its own address space. */
export interface Heap {
  malloc(n: number): number;
  free(p: number): void;
  /** realloc(p, n); oldSize is what the caller asked for last (for allocators without a realloc). */
  realloc(p: number, oldSize: number, n: number): number;
  read8(a: number): number;
  write8(a: number, v: number): void;
}

/** Instrumentation for a measuring pass (never present in a timed replay). */
export interface Probe {
  /** A block [p, p+n) was handed out. */
  onAlloc(p: number, n: number): void;
  /** After every op (sampling a footprint). */
  afterOp(i: number): void;
}

export interface ReplayStats {
  ops: number;
  badTags: number;
  misaligned: number;
  nulls: number;
  /** The op index where the allocator threw, or -1. */
  crashAt: number;
  crash: string | null;
}

export function failures(s: ReplayStats): number {
  return s.badTags + s.misaligned + s.nulls + (s.crashAt >= 0 ? 1 : 0);
}

/** Per-slot state, kept between replays so a timed replay allocates nothing. */
export class Slots {
  readonly ptr: Float64Array;
  readonly size: Uint32Array;
  readonly tag: Uint8Array;
  constructor(n: number) {
    this.ptr = new Float64Array(n);
    this.size = new Uint32Array(n);
    this.tag = new Uint8Array(n);
  }
}

export function newStats(ops = 0): ReplayStats {
  return { ops, badTags: 0, misaligned: 0, nulls: 0, crashAt: -1, crash: null };
}

/**
 * Replay the whole trace once, counting into `out` (reset first). Ends with
 * every block freed unless it crashed. An Error thrown by the allocator (a
 * wasm trap, a JS exception) ends the replay and is recorded; anything else
 * thrown (an emulated process being unwound by its kernel: exit, a fatal
 * signal) is recorded and rethrown.
 */
export function replay(h: Heap, t: Trace, slots: Slots, probe: Probe | null, out: ReplayStats = newStats()): ReplayStats {
  const code = t.code;
  const size = t.size;
  const ops = t.ops;
  const ptrOf = slots.ptr;
  const sizeOf = slots.size;
  const tagOf = slots.tag;
  let badTags = 0,
    misaligned = 0,
    nulls = 0,
    crashAt = -1,
    crash: string | null = null;
  let i = 0;
  try {
    for (; i < ops; i++) {
      const c = code[i];
      const s = c >>> 2;
      const kind = c & 3;
      if (kind === KIND_MALLOC) {
        const n = size[i];
        const p = h.malloc(n);
        const tag = (i & 0xfe) | 1;
        ptrOf[s] = p;
        sizeOf[s] = n;
        tagOf[s] = tag;
        if (p === 0) {
          nulls++;
        } else {
          if ((p & 7) !== 0) misaligned++;
          h.write8(p, tag);
          h.write8(p + n - 1, tag);
          if (probe !== null) probe.onAlloc(p, n);
        }
      } else if (kind === KIND_FREE) {
        const p = ptrOf[s];
        if (p !== 0) {
          const tag = tagOf[s];
          if (h.read8(p) !== tag || h.read8(p + sizeOf[s] - 1) !== tag) badTags++;
          h.free(p);
          ptrOf[s] = 0;
        }
      } else {
        const p = ptrOf[s];
        const old = sizeOf[s];
        const oldTag = tagOf[s];
        const n = size[i];
        if (p !== 0 && (h.read8(p) !== oldTag || h.read8(p + old - 1) !== oldTag)) badTags++;
        const q = p === 0 ? h.malloc(n) : h.realloc(p, old, n);
        const tag = (i & 0xfe) | 1;
        sizeOf[s] = n;
        tagOf[s] = tag;
        if (q === 0) {
          nulls++;
          // realloc failed: the old block is still the caller's; keep tracking it.
          if (p !== 0) {
            ptrOf[s] = p;
            sizeOf[s] = old;
            tagOf[s] = oldTag;
          } else ptrOf[s] = 0;
        } else {
          if ((q & 7) !== 0) misaligned++;
          if (p !== 0 && (h.read8(q) !== oldTag || (n >= old && h.read8(q + old - 1) !== oldTag))) badTags++;
          ptrOf[s] = q;
          h.write8(q, tag);
          h.write8(q + n - 1, tag);
          if (probe !== null) probe.onAlloc(q, n);
        }
      }
      if (probe !== null) probe.afterOp(i);
    }
  } catch (e) {
    crashAt = i;
    crash = e instanceof Error ? e.message : `unwound by ${(e as object)?.constructor?.name ?? String(e)}`;
    if (!(e instanceof Error)) {
      Object.assign(out, { ops, badTags, misaligned, nulls, crashAt, crash });
      throw e;
    }
  }
  return Object.assign(out, { ops, badTags, misaligned, nulls, crashAt, crash });
}

/** A probe that tracks the span of addresses ever handed out: max(p+n) - min(p). */
export class SpanProbe implements Probe {
  lo = Infinity;
  hi = 0;
  onAlloc(p: number, n: number): void {
    if (p < this.lo) this.lo = p;
    if (p + n > this.hi) this.hi = p + n;
  }
  afterOp(): void {}
  get span(): number {
    return this.hi > this.lo ? this.hi - this.lo : 0;
  }
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
