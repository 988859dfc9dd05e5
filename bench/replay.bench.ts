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
//           (1 with --quick); each includes its JIT warm-up, as a `nozero
//           replay` run does.
//   native  bench/replay/replay_mtrace.c (gcc -O2, built at bench time):
//           getline + parse + glibc malloc/free/realloc + memset of every
//           byte + first/last byte checks, one replay per process; ops/s =
//           ops over its CPU time. Median of 5.
//   x20     the trace body written 20 times over (22M lines; each ends by freeing every
//           block), replayed once by each: if the replay streams, the peak
//           RSS stays the 1x run's instead of growing with the trace.
//
// Peak RSS is each process image's VmHWM: getrusage's ru_maxrss of a spawned
// child also counts the pre-exec fork of this (node) process.

import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { median } from "./malloc/replay.ts";
import { BIN_DIR } from "./malloc/trace.ts";
import type { ReplayChildResult } from "./replay/child.ts";
import { type MtraceTrace, ensureMtraceTrace } from "./replay/mtrace_trace.ts";
import type { BenchOptions, Figure, Row, SuiteDef, SuiteResult } from "./lib/harness.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..");
const CHILD = join(HERE, "replay", "child.ts");
const LONG_REPS = 20;
const NATIVE_REPS = 5;

type Outcome<T> = { ok: true; v: T } | { ok: false; reason: string };

interface Native {
  ops: number;
  seconds: number;
  cpuSeconds: number;
  /** VmHWM, KiB. */
  maxRssKiB: number;
}

/** 95% relative margin of error of the mean, percent (t-distribution); null for one sample. */
function rmePct(xs: readonly number[]): number | null {
  const n = xs.length;
  if (n < 2) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const t = [12.706, 4.303, 3.182, 2.776][n - 2] ?? 1.96;
  return ((t * sd) / Math.sqrt(n) / mean) * 100;
}

/** gcc -O2 bench/replay/replay_mtrace.c -> bench/native/bin/replay-mtrace (every run: it takes a fraction of a second). */
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
  const v = { ops: Number(kv.get("ops")), seconds: Number(kv.get("seconds")), cpuSeconds: Number(kv.get("cpu_seconds")), maxRssKiB: Number(kv.get("hwm_kib")) };
  if (v.ops !== t.ops) return { ok: false, reason: `replay_mtrace replayed ${v.ops} ops, the trace has ${t.ops}` };
  return { ok: true, v };
}

function runOurs(t: MtraceTrace): Outcome<ReplayChildResult> {
  const p = spawnSync(process.execPath, ["--import", "tsx", CHILD, t.path], { cwd: ROOT, encoding: "utf8", timeout: 600_000 });
  const line = p.stdout?.split("\n").find((l) => l.startsWith("RESULT "));
  if (p.status !== 0 || line === undefined) return { ok: false, reason: `child exited ${p.status ?? p.signal}: ${p.stderr?.trim().split("\n").slice(-3).join(" / ")}` };
  const r = JSON.parse(line.slice(7)) as ReplayChildResult;
  if (r.opsTotal !== t.ops || r.exitCodes.some((c) => c !== 0)) return { ok: false, reason: `scanned ${r.opsTotal} of ${t.ops} ops, replay exit codes ${r.exitCodes.join(" ")}` };
  return { ok: true, v: r };
}

/** Run `f` n times: all its values, or the first failure. */
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
  const oursReps = opts.minSamples < 20 ? 1 : 3; // run.ts's --quick: 1
  const t0 = performance.now();
  const short = ensureMtraceTrace(1);
  const long = ensureMtraceTrace(LONG_REPS);
  const s = short.trace;
  opts.log(
    `  traces: ${relative(ROOT, short.path)} (${short.ops} ops, ${mib(short.bytes / 1024)}) and its x${LONG_REPS} (${long.ops} ops, ${mib(long.bytes / 1024)}), ` +
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
    native_reps: NATIVE_REPS,
  };
  const rows: Row[] = [];
  const notes: string[] = [];
  const failed = (key: string, label: string, reason: string): void => {
    figures[`${key}_error`] = reason;
    notes.push(`${label}: failed: ${reason}`);
    rows.push({ name: `${label}: FAILED`, ns: null, rmePct: null, ratio: null, ratioTo: null });
  };
  const vsNative = (ns: number, nativeNs: number | null): Pick<Row, "ratio" | "ratioTo"> =>
    nativeNs === null ? { ratio: null, ratioTo: null } : { ratio: ns / nativeNs, ratioTo: "native C" };

  // Native first, while nothing else of ours runs.
  const nativeLabel = "native C: replay_mtrace.c, glibc malloc (gcc -O2)";
  let nativeNs: number | null = null;
  let nativeMem = "native failed";
  opts.log(`  native: gcc -O2 replay_mtrace.c; ${NATIVE_REPS} replays, then one of the x${LONG_REPS} trace`);
  const bin = buildNative();
  const native = bin.ok ? repeat(NATIVE_REPS, () => runNative(bin.v, short)) : bin;
  const nativeLong = bin.ok ? runNative(bin.v, long) : bin;
  if (!native.ok) failed("native", nativeLabel, native.reason);
  else {
    const cpuNs = native.v.map((r) => (r.cpuSeconds * 1e9) / r.ops);
    nativeNs = median(cpuNs);
    const rss = Math.max(...native.v.map((r) => r.maxRssKiB));
    nativeMem = nativeLong.ok ? `native ${mib(rss)} and ${mib(nativeLong.v.maxRssKiB)}` : `native x${LONG_REPS} failed: ${nativeLong.reason}`;
    Object.assign(figures, {
      native_cpu_ns_per_op: nativeNs,
      native_ops_per_s: 1e9 / nativeNs,
      native_wall_ops_per_s: short.ops / median(native.v.map((r) => r.seconds)),
      native_reps_cpu_s: native.v.map((r) => r.cpuSeconds).join(" "),
      native_max_rss_kib: rss,
      native_long_max_rss_kib: nativeLong.ok ? nativeLong.v.maxRssKiB : null,
    });
    rows.push({ name: `${nativeLabel}: ${mops(1e9 / nativeNs)}, peak RSS ${mib(rss)}`, ns: nativeNs, rmePct: rmePct(cpuNs), ratio: 1, ratioTo: "native C" });
  }

  const oursLabel = "ours: runReplay, runs 1, touch full (scan + stock + NOZERO)";
  opts.log(`  ours: ${oursReps} child process(es), runReplay of ${short.ops} ops each`);
  const ours = repeat(oursReps, () => runOurs(short));
  let oursRss: number | null = null;
  if (!ours.ok) failed("ours", oursLabel, ours.reason);
  else {
    // Each child replays the trace twice (stock, MALLOC_NOZERO=1).
    const cpuNs = ours.v.map((r) => r.cpuNs / (2 * r.opsTotal));
    const ns = median(cpuNs);
    const wallS = median(ours.v.map((r) => r.wallNs)) / 1e9;
    const before = Math.max(...ours.v.map((r) => r.rssBeforeKiB));
    oursRss = Math.max(...ours.v.map((r) => r.maxRssKiB));
    Object.assign(figures, {
      ours_cpu_ns_per_op: ns,
      ours_ops_per_s: 1e9 / ns,
      ours_wall_s: wallS,
      ours_wall_ops_per_s: (2 * short.ops) / wallS,
      ours_reps_cpu_s: ours.v.map((r) => (r.cpuNs / 1e9).toFixed(3)).join(" "),
      ours_rss_before_kib: before,
      ours_max_rss_kib: oursRss,
      ours_rusage_max_rss_kib: Math.max(...ours.v.map((r) => r.rusageMaxRssKiB)),
      ours_emulated_max_rss_kib: ours.v[0].emulatedMaxRssKiB,
      native_over_ours_ops_ratio: nativeNs === null ? null : ns / nativeNs,
    });
    rows.push({ name: `${oursLabel}: ${mops(1e9 / ns)}, ${wallS.toFixed(2)} s wall, peak RSS ${mib(oursRss)}`, ns, rmePct: rmePct(cpuNs), ...vsNative(ns, nativeNs) });
    notes.push(
      `ours: ${mops(1e9 / ns)} CPU, ${mops((2 * short.ops) / wallS)} wall (${wallS.toFixed(2)} s for the scan and 2 replays of ${short.ops} ops)` +
        (nativeNs === null ? "" : `; native ${mops(1e9 / nativeNs)}: native/ours = ${(ns / nativeNs).toFixed(1)}x`),
    );
    notes.push(
      `ours host memory: RSS ${mib(before)} before runReplay (node + modules), peak ${mib(oursRss)} (+${mib(oursRss - before)} for the replay); ` +
        `the emulated process's own peak RSS ${mib(ours.v[0].emulatedMaxRssKiB)}`,
    );
  }

  opts.log(`  ours: one child, runReplay of the x${LONG_REPS} trace (${long.ops} ops)`);
  const longLabel = `ours, the x${LONG_REPS} trace (streaming check)`;
  const big = runOurs(long);
  if (!big.ok) failed("ours_long", longLabel, big.reason);
  else {
    const r = big.v;
    const ns = r.cpuNs / (2 * r.opsTotal);
    Object.assign(figures, { ours_long_cpu_ns_per_op: ns, ours_long_wall_s: r.wallNs / 1e9, ours_long_rss_before_kib: r.rssBeforeKiB, ours_long_max_rss_kib: r.maxRssKiB });
    rows.push({ name: `${longLabel}: ${mops(1e9 / ns)}, ${(r.wallNs / 1e9).toFixed(2)} s wall, peak RSS ${mib(r.maxRssKiB)}`, ns, rmePct: null, ...vsNative(ns, nativeNs) });
    if (oursRss !== null)
      notes.push(
        `streaming: ours peaks at ${mib(oursRss)} RSS for ${short.ops} ops and ${mib(r.maxRssKiB)} for ${long.ops} ops ` +
          `(x${(r.maxRssKiB / oursRss).toFixed(2)} for a trace x${LONG_REPS} as long; ${nativeMem})`,
      );
  }
  notes.push("ns/op: CPU ns per replayed op (ours: the child's CPU in runReplay over 2 x ops; native: its CPU over ops), median over processes; ratio: over native's");
  return { suite: "replay", title: "nozero replay throughput and host memory (mtrace log of the malloc trace)", unit: "ns per replayed op, CPU", rows, figures, notes };
}

export const replaySuite: SuiteDef = {
  name: "replay",
  title: "nozero replay: ops/s and host memory vs a native C replayer",
  run,
};
