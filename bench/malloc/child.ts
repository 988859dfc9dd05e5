// One peer of the malloc bench in its own process, so every call site in the
// replay loop sees one allocator only (monomorphic, as a real program's
// would). bench/malloc.bench.ts spawns it as
//
//   node --import tsx bench/malloc/child.ts PEER TRACE REPS [WASM]
//
// PEER is ours | dlmalloc-wasm | dlmalloc-asmjs | tlsf-wasm. It replays the
// trace file REPS times (wall time of each whole replay), then once more in a
// measuring pass (footprint), and prints one line `RESULT {json}` on stdout;
// progress goes to stderr. Also usable by hand, e.g. under --cpu-prof.

import { type OursResult, runOurs } from "./ours.ts";
import { type PeerHeap, dlmallocAsmjs, dlmallocWasm, tlsfWasm } from "./peers.ts";
import { type ReplayStats, Slots, SpanProbe, failures, median, newStats, replay } from "./replay.ts";
import { readTrace } from "./trace.ts";

export interface ChildResult {
  peer: string;
  label: string;
  version: string;
  ops: number;
  repsNs: number[];
  /** CPU time of this process (all its threads) during each replay. */
  repsCpuNs: number[];
  nsPerOp: number;
  failures: number;
  stats: ReplayStats;
  footprintStats: ReplayStats;
  footprintBytes: number;
  /** How footprintBytes was measured. */
  footprintKind: string;
  memoryBytes: number | null;
  notes: string[];
  ours: Omit<OursResult, "repsNs" | "repsCpuNs" | "stats" | "footprintStats"> | null;
}

const log = (s: string): void => {
  process.stderr.write(`${s}\n`);
};

async function main(argv: string[]): Promise<number> {
  const [peer, tracePath, repsArg, wasm] = argv;
  const reps = Number(repsArg);
  if (!peer || !tracePath || !(reps >= 1)) {
    log("usage: child.ts ours|dlmalloc-wasm|dlmalloc-asmjs|tlsf-wasm TRACE REPS [WASM]");
    return 2;
  }
  const t = readTrace(tracePath);
  let out: ChildResult;
  if (peer === "ours") {
    const r = runOurs(t, reps, log);
    const { repsNs, repsCpuNs, stats, footprintStats, ...rest } = r;
    out = {
      peer,
      label: "ours: libc/malloc ptmalloc2 in an emulated process",
      version: "nozero",
      ops: t.ops,
      repsNs,
      repsCpuNs,
      nsPerOp: median(repsNs) / t.ops,
      failures: failures(stats) + failures(footprintStats) + (Object.values(r.exitCodes).some((c) => c !== 0) ? 1 : 0),
      stats,
      footprintStats,
      footprintBytes: r.footprintPeak,
      footprintKind: "peak of mallinfo2 arena+hblkhd above the start, after every op",
      memoryBytes: null,
      notes: ["realloc, 16-B alignment, brk heap + mmap >= 128 KiB (dynamic threshold)"],
      ours: rest,
    };
  } else {
    let p: PeerHeap;
    if (peer === "dlmalloc-wasm") p = await dlmallocWasm();
    else if (peer === "dlmalloc-asmjs") p = await dlmallocAsmjs();
    else if (peer === "tlsf-wasm") {
      if (!wasm) throw new Error("tlsf-wasm needs the .wasm path");
      p = await tlsfWasm(wasm);
    } else {
      log(`child.ts: unknown peer ${peer}`);
      return 2;
    }
    const slots = new Slots(t.slots);
    const stats = newStats(t.ops);
    const repsNs: number[] = [];
    const repsCpuNs: number[] = [];
    for (let r = 0; r < reps; r++) {
      const t0 = process.hrtime.bigint();
      const c0 = process.cpuUsage();
      replay(p.heap, t, slots, null, stats);
      const c = process.cpuUsage(c0);
      repsNs.push(Number(process.hrtime.bigint() - t0));
      repsCpuNs.push((c.user + c.system) * 1000);
      if (stats.crashAt >= 0) break;
    }
    // Footprint: the span of addresses ever handed out, in a separate pass.
    const span = new SpanProbe();
    const footprintStats = replay(p.heap, t, slots, span, newStats(t.ops));
    out = {
      peer,
      label: p.label,
      version: p.version,
      ops: t.ops,
      repsNs,
      repsCpuNs,
      nsPerOp: median(repsNs) / t.ops,
      failures: failures(stats) + failures(footprintStats),
      stats,
      footprintStats,
      footprintBytes: span.span,
      footprintKind: "span of addresses handed out: max(p+n) - min(p)",
      memoryBytes: p.memoryBytes(),
      notes: p.notes,
      ours: null,
    };
  }
  process.stdout.write(`RESULT ${JSON.stringify(out)}\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
