// The malloc bench's trace: one deterministic sequence of malloc, free and
// realloc operations (shared/reference/peers.md, "Trace"), replayed byte for
// byte by every allocator the bench compares.
//
//   * OPS operations, then a drain that frees every block still live.
//   * At most MAX_LIVE live blocks. Each non-realloc op is a malloc with
//     probability 0.55 (a free otherwise), so the live set climbs for about
//     110k ops and then stays at the cap, where a free is forced.
//   * Sizes: 85% uniform 16-128 B, 14.9% log-uniform 129 B-4 KiB, 0.1%
//     uniform 64-256 KiB.
//   * 10% of the ops are a realloc of a random live block: 70% grow it by up
//     to 100% (at least 1 byte, capped at 256 KiB), 30% redraw its size from
//     the distribution above.
//   * A free or realloc picks a live block uniformly at random.
//
// Encoding (typed arrays, 8 bytes per op): code[i] = slot << 2 | kind, and
// size[i] = the new size of a malloc or realloc (0 for a free). A slot names
// one live block; the replayer keeps slot -> (pointer, size, tag). The same
// arrays are written to a file (little-endian) for the native replayer,
// after a 64-byte header (H_* below).

import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const KIND_MALLOC = 0;
export const KIND_FREE = 1;
export const KIND_REALLOC = 2;

export const DEFAULT_OPS = 1_000_000;
export const DEFAULT_SEED = 0x6d616c6c; // "mall"
export const MAX_LIVE = 10_000;
export const MAX_BLOCK = 256 << 10;

/** Bumped whenever the generator or the file layout changes (it keys the cache). */
export const TRACE_VERSION = 1;
const MAGIC = 0x4352544d; // "MTRC"
export const HEADER_WORDS = 16;

// Header words.
const H_MAGIC = 0;
const H_VERSION = 1;
const H_OPS = 2; // total ops, drain included
const H_BODY_OPS = 3; // ops before the drain
const H_SLOTS = 4;
const H_SEED = 5;
const H_MALLOCS = 6;
const H_FREES = 7;
const H_REALLOCS = 8;
const H_PEAK_LIVE_BYTES = 9;
const H_PEAK_LIVE_BLOCKS = 10;
const H_MAX_SIZE = 11;

export interface Trace {
  /** Total operations, the drain included. */
  ops: number;
  /** Operations before the drain. */
  bodyOps: number;
  /** Slots used (every slot index is below this). */
  slots: number;
  seed: number;
  mallocs: number;
  frees: number;
  reallocs: number;
  /** The most bytes requested and not yet freed at any point: the footprint's lower bound. */
  peakLiveBytes: number;
  peakLiveBlocks: number;
  maxSize: number;
  code: Uint32Array;
  size: Uint32Array;
}

/** sfc32: a small, fast, well-mixed 32-bit generator; the same stream for a given seed everywhere. */
function sfc32(seed: number): () => number {
  let a = 0x9e3779b9,
    b = 0x243f6a88,
    c = 0xb7e15162,
    d = seed | 0;
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 15; i++) next();
  return next;
}

/** Generate the trace (about 0.2 s for 1M ops). */
export function generateTrace(bodyOps = DEFAULT_OPS, seed = DEFAULT_SEED, maxLive = MAX_LIVE): Trace {
  const rnd = sfc32(seed);
  const u = (): number => rnd() / 4294967296; // [0, 1)
  const LN129 = Math.log(129);
  const LN4097 = Math.log(4097);
  const drawSize = (): number => {
    const r = u();
    if (r < 0.85) return 16 + Math.floor(u() * 113); // 16..128
    if (r < 0.999) return Math.min(4096, Math.floor(Math.exp(LN129 + u() * (LN4097 - LN129)))); // 129..4096
    return (64 << 10) + Math.floor(u() * ((192 << 10) + 1)); // 64 KiB..256 KiB
  };

  // Live blocks: a dense array of slot numbers (swap-remove), each slot's size,
  // and a stack of unused slots.
  const live = new Int32Array(maxLive);
  const where = new Int32Array(maxLive);
  const sizeOf = new Uint32Array(maxLive);
  const freeSlots: number[] = [];
  for (let s = maxLive - 1; s >= 0; s--) freeSlots.push(s);
  let nLive = 0;
  let liveBytes = 0;

  const cap = bodyOps + maxLive;
  const code = new Uint32Array(cap);
  const size = new Uint32Array(cap);
  let n = 0;
  let mallocs = 0,
    frees = 0,
    reallocs = 0,
    peakLiveBytes = 0,
    peakLiveBlocks = 0,
    maxSize = 0;

  const doFree = (): void => {
    const j = Math.floor(u() * nLive);
    const s = live[j];
    live[j] = live[--nLive];
    where[live[j]] = j;
    liveBytes -= sizeOf[s];
    freeSlots.push(s);
    code[n] = (s << 2) | KIND_FREE;
    size[n++] = 0;
    frees++;
  };

  for (let i = 0; i < bodyOps; i++) {
    if (nLive > 0 && u() < 0.1) {
      const s = live[Math.floor(u() * nLive)];
      const old = sizeOf[s];
      const nsz = u() < 0.7 ? Math.min(MAX_BLOCK, old + 1 + Math.floor(u() * old)) : drawSize();
      sizeOf[s] = nsz;
      liveBytes += nsz - old;
      code[n] = (s << 2) | KIND_REALLOC;
      size[n++] = nsz;
      reallocs++;
      if (nsz > maxSize) maxSize = nsz;
    } else if (nLive === 0 || (nLive < maxLive && u() < 0.55)) {
      const s = freeSlots.pop()!;
      const sz = drawSize();
      sizeOf[s] = sz;
      where[s] = nLive;
      live[nLive++] = s;
      liveBytes += sz;
      code[n] = (s << 2) | KIND_MALLOC;
      size[n++] = sz;
      mallocs++;
      if (sz > maxSize) maxSize = sz;
    } else {
      doFree();
    }
    if (liveBytes > peakLiveBytes) peakLiveBytes = liveBytes;
    if (nLive > peakLiveBlocks) peakLiveBlocks = nLive;
  }
  while (nLive > 0) doFree(); // the drain, in random order
  return {
    ops: n,
    bodyOps,
    slots: maxLive,
    seed,
    mallocs,
    frees,
    reallocs,
    peakLiveBytes,
    peakLiveBlocks,
    maxSize,
    code: code.slice(0, n),
    size: size.slice(0, n),
  };
}

// ---- the file ------------------------------------------------------------------------

/** bench/native/bin (git-ignored): built binaries, the wasm peer and cached traces. */
export const BIN_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "native", "bin");

export function tracePath(bodyOps: number, seed: number): string {
  return join(BIN_DIR, `malloc-trace-v${TRACE_VERSION}-${bodyOps}-${seed.toString(16)}.bin`);
}

export function writeTrace(path: string, t: Trace): void {
  const h = new Uint32Array(HEADER_WORDS);
  h[H_MAGIC] = MAGIC;
  h[H_VERSION] = TRACE_VERSION;
  h[H_OPS] = t.ops;
  h[H_BODY_OPS] = t.bodyOps;
  h[H_SLOTS] = t.slots;
  h[H_SEED] = t.seed;
  h[H_MALLOCS] = t.mallocs;
  h[H_FREES] = t.frees;
  h[H_REALLOCS] = t.reallocs;
  h[H_PEAK_LIVE_BYTES] = t.peakLiveBytes;
  h[H_PEAK_LIVE_BLOCKS] = t.peakLiveBlocks;
  h[H_MAX_SIZE] = t.maxSize;
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, "w");
  try {
    for (const a of [h, t.code, t.size]) writeSync(fd, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export function readTrace(path: string): Trace {
  const buf = readFileSync(path);
  // Copy into a fresh, 4-aligned ArrayBuffer (Buffer's pool offset may not be).
  const bytes = new Uint8Array(buf.byteLength);
  bytes.set(buf);
  const w = new Uint32Array(bytes.buffer);
  if (w[H_MAGIC] !== MAGIC || w[H_VERSION] !== TRACE_VERSION) throw new Error(`${path}: not a v${TRACE_VERSION} malloc trace`);
  const ops = w[H_OPS];
  if (bytes.byteLength !== 4 * (HEADER_WORDS + 2 * ops)) throw new Error(`${path}: truncated (${bytes.byteLength} bytes for ${ops} ops)`);
  return {
    ops,
    bodyOps: w[H_BODY_OPS],
    slots: w[H_SLOTS],
    seed: w[H_SEED],
    mallocs: w[H_MALLOCS],
    frees: w[H_FREES],
    reallocs: w[H_REALLOCS],
    peakLiveBytes: w[H_PEAK_LIVE_BYTES],
    peakLiveBlocks: w[H_PEAK_LIVE_BLOCKS],
    maxSize: w[H_MAX_SIZE],
    code: w.subarray(HEADER_WORDS, HEADER_WORDS + ops),
    size: w.subarray(HEADER_WORDS + ops, HEADER_WORDS + 2 * ops),
  };
}

/** The cached trace file for (bodyOps, seed), generated and written if absent; its path and contents. */
export function ensureTrace(bodyOps = DEFAULT_OPS, seed = DEFAULT_SEED): { path: string; trace: Trace; generated: boolean } {
  const path = tracePath(bodyOps, seed);
  if (existsSync(path)) {
    try {
      return { path, trace: readTrace(path), generated: false };
    } catch {
      // stale or damaged: make it again
    }
  }
  const trace = generateTrace(bodyOps, seed);
  writeTrace(path, trace);
  return { path, trace, generated: true };
}
