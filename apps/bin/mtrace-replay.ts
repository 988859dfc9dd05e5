// mtrace-replay: run a glibc mtrace log against this process's malloc. Every
// allocation is written as the traced program would have written it (-t all:
// every byte, -t ends: first and last byte, -t none: nothing), and every block
// is checked on free and realloc: its first and last bytes must still hold
// what was written, so a malloc that hands out overlapping memory or loses
// realloc contents fails the replay (exit 1).
//
//   mtrace-replay [-t all|ends|none] [-v] FILE
//
// The trace holds allocations only, not the traced program's other work, so
// the replay's clear_page share is that of the allocation pattern alone.

import type { Libc } from "../../libc/libc.ts";
import { MtraceError, OP_FREE, OP_MALLOC, type MtraceOps, parseMtrace } from "../replay/mtrace.ts";
import { parseOptions } from "./options.ts";

const USAGE = "usage: mtrace-replay [-t all|ends|none] [-v] FILE\n";
const TOUCH_MODES = ["all", "ends", "none"] as const;
type Touch = (typeof TOUCH_MODES)[number];

interface Outcome {
  failed: number;
  /** Line of the first block whose contents changed, or 0. */
  badLine: number;
  badDetail: string;
}

function replay(libc: Libc, ops: MtraceOps, touch: Touch): Outcome {
  const mem = libc.mem;
  const ptr = new Uint32Array(ops.slots);
  const size = new Float64Array(ops.slots);
  const tag = new Uint8Array(ops.slots);
  const out: Outcome = { failed: 0, badLine: 0, badDetail: "" };

  // Write bytes [from, to) of the block at p with t (a grown realloc writes only its new part).
  const fill = (p: number, from: number, to: number, t: number): void => {
    if (to <= from) return;
    if (touch === "all") libc.memset(p + from, t, to - from);
    else if (touch === "ends") {
      mem.write8(p + from, t);
      mem.write8(p + to - 1, t);
    }
  };
  const intact = (slot: number, line: number): boolean => {
    const n = size[slot];
    if (touch === "none" || n === 0) return true;
    const p = ptr[slot];
    const first = mem.read8(p);
    const last = mem.read8(p + n - 1);
    if (first === tag[slot] && last === tag[slot]) return true;
    out.badLine = line;
    out.badDetail = `block of ${n} bytes changed under the program (first byte ${first}, last ${last}, wrote ${tag[slot]})`;
    return false;
  };

  for (let i = 0; i < ops.count; i++) {
    const slot = ops.slot[i];
    const n = ops.size[i];
    const kind = ops.kind[i];
    if (kind === OP_MALLOC) {
      const p = libc.malloc(n);
      ptr[slot] = p;
      size[slot] = p === 0 ? 0 : n;
      if (p === 0) {
        out.failed++;
        continue;
      }
      tag[slot] = (i % 255) + 1;
      fill(p, 0, n, tag[slot]);
    } else if (kind === OP_FREE) {
      if (ptr[slot] === 0) continue; // its allocation failed here
      if (!intact(slot, ops.line[i])) return out;
      libc.free(ptr[slot]);
      ptr[slot] = 0;
    } else {
      const old = ptr[slot];
      if (old !== 0 && !intact(slot, ops.line[i])) return out;
      const p = libc.realloc(old, n);
      if (p === 0 && n > 0) {
        out.failed++; // the old block, if any, is untouched
        continue;
      }
      const kept = old === 0 ? 0 : Math.min(size[slot], n);
      if (old === 0) tag[slot] = (i % 255) + 1;
      ptr[slot] = p;
      size[slot] = p === 0 ? 0 : n;
      fill(p, kept, n, tag[slot]);
      // A shrink keeps the old bytes; the new last byte must carry the tag too.
      if (p !== 0 && kept === n && n > 0 && touch !== "none") mem.write8(p + n - 1, tag[slot]);
    }
  }
  return out;
}

export default function mtraceReplay(argv: string[], _envp: string[], libc: Libc): number {
  const o = parseOptions(argv, "t:v");
  if (typeof o === "string" || o.args.length !== 1) {
    libc.eprintf("%s%s", typeof o === "string" ? `mtrace-replay: ${o}\n` : "", USAGE);
    return 2;
  }
  const touch = (o.opts.t ?? "all") as Touch;
  if (!TOUCH_MODES.includes(touch)) {
    libc.eprintf("mtrace-replay: -t must be all, ends or none\n%s", USAGE);
    return 2;
  }
  const file = o.args[0];
  const text = libc.readFile(file);
  if (text === null) {
    libc.eprintf("mtrace-replay: %s: cannot read\n", file);
    return 1;
  }
  let ops: MtraceOps;
  try {
    ops = parseMtrace(text);
  } catch (e) {
    if (!(e instanceof MtraceError)) throw e;
    libc.eprintf("mtrace-replay: %s:%d: %s\n", file, e.line, e.detail);
    return 1;
  }
  const t0 = libc.clockGettime(1);
  const r = replay(libc, ops, touch);
  const t1 = libc.clockGettime(1);
  if (r.badLine !== 0) {
    libc.eprintf("mtrace-replay: %s:%d: %s\n", file, r.badLine, r.badDetail);
    return 1;
  }
  libc.printf("replayed %d operations (%d malloc, %d free, %d realloc) from %s\n", ops.count, ops.mallocs, ops.frees, ops.reallocs, file);
  libc.printf("peak live %d bytes in %d blocks; %d left allocated; %d unmatched frees; %d failed here, %d in the trace\n", ops.peakLiveBytes, ops.slots, ops.leaked, ops.unmatched, r.failed, ops.failed);
  if (o.opts.v === true) libc.mallocStats();
  libc.printf("%.6f s simulated in the replay loop\n", t1 - t0);
  return 0;
}
