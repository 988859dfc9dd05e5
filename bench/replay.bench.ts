// replay: how fast `nozero replay` gets through a trace, against a native C
// replayer of the same text, and whether its host memory follows the trace's
// live set rather than its length (the streaming claim of apps/cmd/replay.ts).
//
// The trace is the malloc bench's (~1M ops, at most 10,000 live blocks) as a
// glibc mtrace log (bench/replay/mtrace_trace.ts), cached in bench/native/bin/.
//
//   ours    bench/replay/child.ts in a fresh process: runReplay(trace, { runs:
//           1, touch: "full" }) once: a host scan pass, then a replay in a
//           stock machine and one with MALLOC_NOZERO=1. ops/s = 2 x opsTotal
//           over the child's CPU time in runReplay (the scan is charged to
//           the replays, as `nozero replay` spends it). Median of 3 children
//           (1 with --quick); each child's replay includes its JIT warm-up,
//           as a `nozero replay` run does.
//   native  bench/replay/replay_mtrace.c (gcc -O2, built at bench time):
//           getline + parse + glibc malloc/free/realloc + memset of every
//           byte + first/last byte checks, one replay per process; ops/s =
//           ops over its CPU time (CLOCK_PROCESS_CPUTIME_ID). Median of 5.
//   4x      the same trace body written 4 times (each ends by freeing every
//           block) replayed by ours and by native once: their peak RSS
//           should match the 1x run's, not grow 4x.

import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { median } from "./malloc/replay.ts";
import { BIN_DIR } from "./malloc/trace.ts";
import type { ReplayChildResult } from "./replay/child.ts";
import { type MtraceTrace, ensureMtraceTrace } from "./replay/mtrace_trace.ts";
import { type BenchOptions, type Figure, type Row, type SuiteDef, type SuiteResult, fmtNs } from "./lib/harness.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..");
const CHILD = join(HERE, "replay", "child.ts");
const LONG_REPS = 4;

type Outcome<T> = { ok: true; v: T } | { ok: false; reason: string };

interface Native {
  ops: number;
  seconds: number;
  cpuSeconds: number;
  maxRssKiB: number;
}

/** 95% relative margin of error of the mean, percent (t-distribution); null for one sample. */
function rmePct(xs: readonly number[]): number | null {
  const n = xs.length;
  if (n < 2) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const t = [12.706, 4.303, 3.182, 2.776, 2.571][n - 2] ?? 1.96;
  return ((t * sd) / Math.sqrt(n) / mean) * 100;
}

function buildNative(): Outcome<string> {
  const out = join(BIN_DIR, "replay-mtrace");
  mkdirSync(BIN_DIR, { recursive: true });
  const cc = spawnSync("gcc", ["-O2", "-o", out, join(HERE, "replay", "replay_mtrace.c")], { encoding: "utf8" });
  if (cc.error) return { ok: false, reason: `gcc not available (${cc.error.message})` };
  if (cc.status !== 0) return { ok: false, reason: `gcc -O2 replay_mtrace.c failed: ${cc.stderr.trim()}` };
  return { ok: true, v: out };
}

function runNative(bin: string, t: MtraceTrace): Outcome<Native> {
  const p = spawnSync(bin, [t.path], { encoding: "utf8", timeout: 300_000 });
  if (p.status !== 0) return { ok: false, reason: `replay_mtrace exited ${p.status ?? p.signal}: ${p.stderr?.trim()}` };
  const kv = new Map(p.stdout.split("\n").map((l) => l.split(" ") as [string, string]));
  const v = { ops: Number(kv.get("ops")), seconds: Number(kv.get("seconds")), cpuSeconds: Number(kv.get("cpu_seconds")), maxRssKiB: Number(kv.get("maxrss_kib")) };
  if (v.ops !== t.ops) return { ok: false, reason: `replay_mtrace replayed ${v.ops} ops, the trace has ${t.ops}` };
  return { ok: true, v };
}

function runOurs(t: MtraceTrace): Outcome<ReplayChildResult> {
  const p = spawnSync(process.execPath, ["--import", "tsx", CHILD, t.path], { cwd: ROOT, encoding: "utf8", timeout: 600_000 });
  const line = p.stdout?.split("\n").find((l) => l.startsWith("RESULT "));
  if (p.status !== 0 || line === undefined) return { ok: false, reason: `child exited ${p.status ?? p.signal}: ${p.stderr?.trim().split("\n").slice(-3).join(" / ")}` };
  const r = JSON.parse(line.slice(7)) as ReplayChildResult;
  if (r.opsTotal !== t.ops || r.exitCodes.some((c) => c !== 0)) return { ok: false, reason: `replayed ${r.opsTotal} of ${t.ops} ops, exit codes ${r.exitCodes.join(" ")}` };
  return { ok: true, v: r };
}

/** Run `f` n times; all its values, or the first failure. */
function repeat<T>(n: number, f: () => Outcome<T>): Outcome<T[]> {
  const vs: T[] = [];
  for (let i = 0; i < n; i++) {
    const r = f();
    if (!r.ok) return r;
    vs.push(r.v);
  }
  return { ok: true, v: vs };
}

const mops = (opsPerS: number): string => `${(opsPerS / 1e6).toFixed(2)} M ops/s`;
const mib = (kib: number): string => `${(kib / 1024).toFixed(1)} MiB`;

function run(opts: BenchOptions): SuiteResult {
  const quick = opts.minSamples < 20; // run.ts's --quick
  const oursReps = quick ? 1 : 3;
  const nativeReps = 5;
  const t0 = performance.now();
  const short = ensureMtraceTrace(1);
  const long = ensureMtraceTrace(LONG_REPS);
  const s = short.trace;
  opts.log(
    `  traces: ${relative(ROOT, short.path)} (${short.ops} ops, ${mib(short.bytes / 1024)}) and x${LONG_REPS} (${long.ops} ops, ${mib(long.bytes / 1024)}), ` +
      `${short.generated || long.generated ? `written in ${((performance.now() - t0) / 1000).toFixed(1)} s` : "cached"}; ` +
      `${s.mallocs} malloc + ${s.frees} free + ${s.reallocs} realloc per body, peak live ${s.peakLiveBytes} B in ${s.peakLiveBlocks} blocks`,
  );
  const figures: Record<string, Figure> = {
    trace_file: relative(ROOT, short.path),
    trace_ops: short.ops,
    trace_bytes: short.bytes,
    trace_peak_live_bytes: s.peakLiveBytes,
    trace_peak_live_blocks: s.peakLiveBlocks,
    long_trace_ops: long.ops,
    long_trace_bytes: long.bytes,
    ours_reps: oursReps,
    native_reps: nativeReps,
  };
  const rows: Row[] = [];
  const notes: string[] = [];
  const failed = (key: string, label: string, reason: string): void => {
    figures[`${key}_error`] = reason;
    notes.push(`${label}: failed: ${reason}`);
    rows.push({ name: `${label}: FAILED`, ns: null, rmePct: null, ratio: null, ratioTo: null });
  };

  // Native first, while nothing else of ours runs.
  const bin = buildNative();
  let nativeNs: number | null = null;
  let nativeOpsPerS: number | null = null;
  const nativeLabel = "native C: replay_mtrace.c, glibc malloc (gcc -O2)";
  if (!bin.ok) failed("native", nativeLabel, bin.reason);
  else {
    opts.log(`  native: gcc -O2 replay_mtrace.c; ${nativeReps} replays, then one of the x${LONG_REPS} trace`);
    const reps = repeat(nativeReps, () => runNative(bin.v, short));
    const big = runNative(bin.v, long);
    if (!reps.ok) failed("native", nativeLabel, reps.reason);
    else {
      const cpuNs = reps.v.map((r) => (r.cpuSeconds * 1e9) / r.ops);
      nativeNs = median(cpuNs);
      nativeOpsPerS = 1e9 / nativeNs;
      const rss = Math.max(...reps.v.map((r) => r.maxRssKiB));
      Object.assign(figures, {
        native_cpu_ns_per_op: nativeNs,
        native_ops_per_s: nativeOpsPerS,
        native_wall_ops_per_s: short.ops / median(reps.v.map((r) => r.seconds)),
        native_reps_cpu_s: reps.v.map((r) => r.cpuSeconds).join(" "),
        native_max_rss_kib: rss,
        native_long_max_rss_kib: big.ok ? big.v.maxRssKiB : null,
      });
      rows.push({ name: `${nativeLabel}: ${mops(nativeOpsPerS)}, max RSS ${mib(rss)}`, ns: nativeNs, rmePct: rmePct(cpuNs), ratio: 1, ratioTo: "native C" });
      if (!big.ok) notes.push(`native x${LONG_REPS}: failed: ${big.reason}`);
    }
  }

  const oursLabel = "ours: nozero replay, runs 1, touch full (scan + stock + NOZERO)";
  opts.log(`  ours: ${oursReps} child process(es), runReplay of ${short.ops} ops each`);
  const ours = repeat(oursReps, () => runOurs(short));
  if (!ours.ok) failed("ours", oursLabel, ours.reason);
  else {
    // Each child replays the trace twice (stock, MALLOC_NOZERO=1).
    const cpuNs = ours.v.map((r) => r.cpuNs / (2 * r.opsTotal));
    const ns = median(cpuNs);
    const opsPerS = 1e9 / ns;
    const wallS = median(ours.v.map((r) => r.wallNs)) / 1e9;
    const maxRss = Math.max(...ours.v.map((r) => r.maxRssKiB));
    const before = Math.max(...ours.v.map((r) => r.rssBeforeKiB));
    Object.assign(figures, {
      ours_cpu_ns_per_op: ns,
      ours_ops_per_s: opsPerS,
      ours_wall_s: wallS,
      ours_wall_ops_per_s: (2 * short.ops) / wallS,
      ours_reps_cpu_s: ours.v.map((r) => (r.cpuNs / 1e9).toFixed(3)).join(" "),
      ours_rss_before_kib: before,
      ours_max_rss_kib: maxRss,
      ours_emulated_max_rss_kib: ours.v[0].emulatedMaxRssKiB[0],
      native_over_ours_ops_ratio: nativeOpsPerS === null ? null : nativeOpsPerS / opsPerS,
    });
    rows.push({
      name: `${oursLabel}: ${mops(opsPerS)}, ${wallS.toFixed(2)} s wall, max RSS ${mib(maxRss)}`,
      ns,
      rmePct: rmePct(cpuNs),
      ratio: nativeNs === null ? null : ns / nativeNs,
      ratioTo: nativeNs === null ? null : "native C",
    });
    notes.push(
      `ours: ${mops(opsPerS)} CPU (${mops((2 * short.ops) / wallS)} wall, ${wallS.toFixed(2)} s for scan + 2 replays of ${short.ops} ops); ` +
        (nativeOpsPerS === null ? "native failed" : `native ${mops(nativeOpsPerS)}: native/ours = ${(nativeOpsPerS / opsPerS).toFixed(1)}x`),
    );
    notes.push(`ours host memory: RSS ${mib(before)} before runReplay (node + modules), peak ${mib(maxRss)} (+${mib(maxRss - before)} for the replay); the emulated process's own peak RSS ${mib(ours.v[0].emulatedMaxRssKiB[0])}`);
  }

  opts.log(`  ours: one child, runReplay of the x${LONG_REPS} trace (${long.ops} ops)`);
  const big = runOurs(long);
  const longLabel = `ours, x${LONG_REPS} trace (streaming check)`;
  if (!big.ok) failed("ours_long", longLabel, big.reason);
  else {
    const r = big.v;
    const ns = r.cpuNs / (2 * r.opsTotal);
    Object.assign(figures, { ours_long_cpu_ns_per_op: ns, ours_long_wall_s: r.wallNs / 1e9, ours_long_rss_before_kib: r.rssBeforeKiB, ours_long_max_rss_kib: r.maxRssKiB });
    rows.push({ name: `${longLabel}: ${mops(1e9 / ns)}, ${(r.wallNs / 1e9).toFixed(2)} s wall, max RSS ${mib(r.maxRssKiB)}`, ns, rmePct: null, ratio: nativeNs === null ? null : ns / nativeNs, ratioTo: nativeNs === null ? null : "native C" });
    if (ours.ok) {
      const one = Math.max(...ours.v.map((x) => x.maxRssKiB));
      notes.push(
        `streaming: peak RSS ${mib(one)} for ${short.ops} ops, ${mib(r.maxRssKiB)} for ${long.ops} ops (x${(r.maxRssKiB / one).toFixed(2)} for x${LONG_REPS} the trace; ` +
          `native ${mib(Number(figures.native_max_rss_kib ?? 0))} and ${mib(Number(figures.native_long_max_rss_kib ?? 0))})`,
      );
    }
  }
  notes.push(`ns/op: CPU ns per replayed op (ours: the child's CPU in runReplay over 2 x ops; native: its CPU over ops), median over processes; ratio: over native's`);
  return { suite: "replay", title: "nozero replay throughput and host memory (mtrace log of the malloc trace)", unit: "ns per replayed op, CPU", rows, figures, notes };
}

export const replaySuite: SuiteDef = {
  name: "replay",
  title: "nozero replay: ops/s and host memory vs a native C replayer",
  run,
};
