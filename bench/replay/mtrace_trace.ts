// The malloc bench's trace (bench/malloc/trace.ts: same generator, same
// seed, ~1M ops plus the drain) as a glibc mtrace log, the text `nozero
// replay` and bench/replay/replay_mtrace.c both read:
//
//   = Start
//   @ ./prog:[0x401136] + 0xPTR 0xSIZE       malloc
//   @ ./prog:[0x401136] - 0xPTR              free
//   @ ./prog:[0x401136] < 0xOLD              realloc, then its result:
//   @ ./prog:[0x401136] > 0xNEW 0xSIZE
//   = End
//
// Addresses are synthetic but consistent: generator slot s owns two 256 KiB
// halves (the largest block fits one), and its live block sits in one of
// them, so live blocks never share an address. A realloc that shrinks keeps
// its address; one that grows moves to the other half, as a realloc that
// cannot extend in place does. A freed slot's address comes back with its
// next malloc, as a real heap's would.
//
// REPS > 1 writes the body REPS times (the long trace of the streaming check).
// Each body ends with the drain, so nothing is live across a repetition;
// each repetition's addresses are offset too, so no address string repeats.
//
// Cached in bench/native/bin/ (git-ignored), keyed by version, ops, seed, reps.

import { closeSync, existsSync, mkdirSync, openSync, renameSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { BIN_DIR, DEFAULT_OPS, DEFAULT_SEED, KIND_FREE, KIND_MALLOC, type Trace, ensureTrace } from "../malloc/trace.ts";

/** Bumped whenever the text written changes (it keys the cache). */
const MTRACE_VERSION = 1;
const BASE = 0x10000000;
const HALF = 0x40000; // 256 KiB: MAX_BLOCK
const REP_SPAN = 2 ** 36; // above every slot's pair of halves (10,000 slots x 512 KiB)
const CALLER = "@ ./prog:[0x401136] ";
const FLUSH = 1 << 20;

export interface MtraceTrace {
  path: string;
  /** The generator's trace (one repetition). */
  trace: Trace;
  reps: number;
  /** Operations the log holds: trace.ops per repetition. */
  ops: number;
  bytes: number;
  generated: boolean;
}

function writeMtrace(path: string, t: Trace, reps: number): void {
  const half = new Uint8Array(t.slots); // which half each slot's block is in
  const size = new Uint32Array(t.slots);
  const hex = (rep: number, s: number): string => (rep * REP_SPAN + BASE + (2 * s + half[s]) * HALF).toString(16);
  mkdirSync(BIN_DIR, { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, "w");
  try {
    let out = "= Start\n";
    for (let rep = 0; rep < reps; rep++) {
      for (let i = 0; i < t.ops; i++) {
        const s = t.code[i] >>> 2;
        const kind = t.code[i] & 3;
        const n = t.size[i];
        if (kind === KIND_MALLOC) {
          size[s] = n;
          out += `${CALLER}+ 0x${hex(rep, s)} 0x${n.toString(16)}\n`;
        } else if (kind === KIND_FREE) {
          out += `${CALLER}- 0x${hex(rep, s)}\n`;
        } else {
          out += `${CALLER}< 0x${hex(rep, s)}\n`;
          if (n > size[s]) half[s] ^= 1;
          size[s] = n;
          out += `${CALLER}> 0x${hex(rep, s)} 0x${n.toString(16)}\n`;
        }
        if (out.length >= FLUSH) {
          writeSync(fd, out, null, "latin1");
          out = "";
        }
      }
    }
    writeSync(fd, `${out}= End\n`, null, "latin1");
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** The cached mtrace log of the malloc bench's trace, REPS bodies long, written if absent. */
export function ensureMtraceTrace(reps = 1, bodyOps = DEFAULT_OPS, seed = DEFAULT_SEED): MtraceTrace {
  const { trace } = ensureTrace(bodyOps, seed);
  const path = join(BIN_DIR, `replay-mtrace-v${MTRACE_VERSION}-${bodyOps}-${seed.toString(16)}-x${reps}.mtrace`);
  const generated = !existsSync(path);
  if (generated) writeMtrace(path, trace, reps);
  return { path, trace, reps, ops: trace.ops * reps, bytes: statSync(path).size, generated };
}
