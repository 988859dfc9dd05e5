// malloc: one deterministic trace of ~1M malloc/free/realloc ops (plus a
// final drain) replayed by our allocator and by its peers, in one run
// (shared/reference/peers.md has the trace definition and the anchors):
//
//   ours            libc/malloc (ptmalloc2) inside an emulated process, every
//                   metadata access and tag byte through the software TLB
//   glibc           native glibc malloc, bench/malloc/replay.c (gcc -O2)
//   glibc i386      the same with -m32 (gcc-multilib): the ABI our port
//                   follows, so its footprint is the one ours should equal
//   dlmalloc wasm   emscripten's dlmalloc in sql.js's wasm build
//   dlmalloc asm.js the same, compiled to plain JS (sql-asm.js)
//   TLSF wasm       AssemblyScript's runtime allocator (asc -O3)
//
// Each replayer runs in its own child process (bench/malloc/child.ts, or the
// native binary), so the replay loop's call sites stay monomorphic. ns/op is
// the wall time of one whole replay over its op count, median of 5 replays
// (3 with --quick, which also uses a 200k-op trace); it includes decoding
// the trace and the tag writes and checks, as every peer's does. The
// footprint is measured in a separate pass, as a multiple of the trace's
// peak live requested bytes: glibc and ours, the peak of mallinfo2 arena +
// hblkhd; wasm/asm.js, the span of addresses handed out. Our replay is also
// priced by the cost model (simulated cycles per op); that row is labelled.
// Each row also gives the replayer's CPU time per op and its ratio to
// glibc's: on a machine shared with other work, wall time is inflated by
// whatever had the CPU (--json has both, per replay).
//
// The trace is cached in bench/native/bin/ (git-ignored), keyed by version,
// op count and seed; MALLOC_BENCH_OPS overrides the op count.

import { spawnSync } from "node:child_process";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { ChildResult } from "./malloc/child.ts";
import { ROOT, buildNativeReplay, buildTlsfWasm } from "./malloc/build.ts";
import { median } from "./malloc/replay.ts";
import { DEFAULT_OPS, DEFAULT_SEED, ensureTrace } from "./malloc/trace.ts";
import { type BenchOptions, type Figure, type Row, type SuiteDef, type SuiteResult, fmtNs } from "./lib/harness.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const CHILD = join(HERE, "malloc", "child.ts");
const QUICK_OPS = 200_000;

interface PeerRow {
  key: string;
  label: string;
  version: string;
  ops: number;
  repsNs: number[];
  repsCpuNs: number[];
  nsPerOp: number | null;
  footprintBytes: number | null;
  failures: number | null;
  error: string | null;
}

/** Benchmark.js-style relative margin of error (95%, t-distribution) of the reps' mean, percent. */
function rmePct(xs: readonly number[]): number | null {
  const n = xs.length;
  if (n < 2) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const t = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262][n - 2] ?? 1.96;
  return ((t * sd) / Math.sqrt(n) / mean) * 100;
}

function parseKv(out: string): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const line of out.split("\n")) {
    const r = /^(\w+)\s+(-?[\d.]+)$/.exec(line.trim());
    if (r) m.set(r[1], [...(m.get(r[1]) ?? []), Number(r[2])]);
  }
  return m;
}

function failedRow(key: string, label: string, error: string): PeerRow {
  return { key, label, version: "-", ops: 0, repsNs: [], repsCpuNs: [], nsPerOp: null, footprintBytes: null, failures: null, error };
}

/** Native glibc: x86-64, the anchor every ratio is to; i386 (-m32), the ABI our port follows, for its footprint. */
function runGlibc(tracePath: string, reps: number, log: (s: string) => void, m32 = false): PeerRow {
  const key = m32 ? "glibc_i386" : "glibc";
  const label = `glibc malloc, native C (replay.c, gcc -O2${m32 ? " -m32" : ""})`;
  const b = buildNativeReplay(m32);
  if (!b.ok) return failedRow(key, label, b.reason);
  log(`  ${key}: ${b.cmd}; ${reps} timed replays, then the footprint pass`);
  const timed = spawnSync(b.path, [tracePath, "time", String(reps)], { encoding: "utf8", timeout: 600_000 });
  if (timed.status !== 0) return failedRow(key, label, `replay time exited ${timed.status}: ${timed.stderr?.trim()}`);
  const fp = spawnSync(b.path, [tracePath, "footprint"], { encoding: "utf8", timeout: 600_000 });
  if (fp.status !== 0) return failedRow(key, label, `replay footprint exited ${fp.status}: ${fp.stderr?.trim()}`);
  const t = parseKv(timed.stdout);
  const f = parseKv(fp.stdout);
  const ops = t.get("ops")?.[0] ?? 0;
  const repsNs = t.get("rep_ns") ?? [];
  const repsCpuNs = t.get("rep_cpu_ns") ?? [];
  const fails = (kv: Map<string, number[]>) => (kv.get("bad_tags")?.[0] ?? 0) + (kv.get("misaligned")?.[0] ?? 0) + (kv.get("nulls")?.[0] ?? 0);
  const ldd = spawnSync("ldd", ["--version"], { encoding: "utf8" });
  const glibcVersion = /(\d+\.\d+)\s*$/m.exec(ldd.stdout?.split("\n")[0] ?? "")?.[1];
  return {
    key,
    label,
    version: `${glibcVersion ? `glibc ${glibcVersion}` : "glibc"}${m32 ? " i386" : ""}`,
    ops,
    repsNs,
    repsCpuNs,
    nsPerOp: repsNs.length ? median(repsNs) / ops : null,
    footprintBytes: (f.get("footprint_peak")?.[0] ?? 0) - (f.get("footprint_base")?.[0] ?? 0),
    failures: fails(t) + fails(f),
    error: null,
  };
}

function runChild(key: string, peer: string, tracePath: string, reps: number, extra: string[], log: (s: string) => void): { row: PeerRow; r: ChildResult | null } {
  log(`  ${peer}: child process, ${reps} timed replays, then the footprint pass`);
  const args = ["--import", "tsx", CHILD, peer, tracePath, String(reps), ...extra];
  const p = spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8", timeout: 1_800_000, stdio: ["ignore", "pipe", "inherit"], maxBuffer: 64 << 20 });
  const line = p.stdout?.split("\n").find((l) => l.startsWith("RESULT "));
  if (p.status !== 0 || line === undefined) return { row: failedRow(key, peer, `child exited ${p.status ?? p.signal}${p.error ? `: ${p.error.message}` : ""}`), r: null };
  const r = JSON.parse(line.slice(7)) as ChildResult;
  return {
    row: { key, label: r.label, version: r.version, ops: r.ops, repsNs: r.repsNs, repsCpuNs: r.repsCpuNs, nsPerOp: r.nsPerOp, footprintBytes: r.footprintBytes, failures: r.failures, error: null },
    r,
  };
}

async function run(opts: BenchOptions): Promise<SuiteResult> {
  const quick = opts.minSamples < 20; // run.ts's --quick
  const reps = quick ? 3 : 5;
  const envOps = Number(process.env.MALLOC_BENCH_OPS);
  const bodyOps = envOps > 0 ? Math.floor(envOps) : quick ? QUICK_OPS : DEFAULT_OPS;
  const t0 = performance.now();
  const { path: tracePath, trace, generated } = ensureTrace(bodyOps, DEFAULT_SEED);
  opts.log(
    `  trace: ${relative(ROOT, tracePath)} (${generated ? `generated in ${((performance.now() - t0) / 1000).toFixed(1)} s` : "cached"}): ` +
      `${trace.ops} ops = ${trace.mallocs} malloc + ${trace.frees} free + ${trace.reallocs} realloc; peak live ${trace.peakLiveBytes} B in ${trace.peakLiveBlocks} blocks`,
  );

  const rows: PeerRow[] = [];
  const notes: string[] = [];
  // Native first, while nothing else of ours is running.
  rows.push(runGlibc(tracePath, reps, opts.log));
  rows.push(runGlibc(tracePath, reps, opts.log, true));
  const ours = runChild("ours", "ours", tracePath, reps, [], opts.log);
  rows.push(ours.row);
  rows.push(runChild("dlmalloc_wasm", "dlmalloc-wasm", tracePath, reps, [], opts.log).row);
  rows.push(runChild("dlmalloc_asmjs", "dlmalloc-asmjs", tracePath, reps, [], opts.log).row);
  const tlsf = buildTlsfWasm();
  if (tlsf.ok) {
    opts.log(`  tlsf: ${tlsf.cached ? "cached " : ""}${tlsf.cmd}`);
    rows.push(runChild("tlsf_wasm", "tlsf-wasm", tracePath, reps, [tlsf.path], opts.log).row);
  } else rows.push(failedRow("tlsf_wasm", "tlsf-wasm", tlsf.reason));

  const glibc = rows[0].nsPerOp;
  const glibcCpu = rows[0].repsCpuNs.length && rows[0].ops ? median(rows[0].repsCpuNs) / rows[0].ops : null;
  const figures: Record<string, Figure> = {
    trace_file: relative(ROOT, tracePath),
    trace_seed: trace.seed,
    trace_ops: trace.ops,
    trace_body_ops: trace.bodyOps,
    trace_mallocs: trace.mallocs,
    trace_frees: trace.frees,
    trace_reallocs: trace.reallocs,
    trace_peak_live_bytes: trace.peakLiveBytes,
    trace_peak_live_blocks: trace.peakLiveBlocks,
    reps,
  };
  const out: Row[] = [];
  const labelW = Math.max(...rows.map((r) => r.label.length));
  for (const r of rows) {
    const fp = r.footprintBytes === null ? null : r.footprintBytes / trace.peakLiveBytes;
    figures[`${r.key}_version`] = r.version;
    figures[`${r.key}_ns_per_op`] = r.nsPerOp;
    figures[`${r.key}_reps_wall_ns`] = r.repsNs.map((x) => Math.round(x)).join(" ");
    figures[`${r.key}_cpu_ns_per_op`] = r.repsCpuNs.length && r.ops ? median(r.repsCpuNs) / r.ops : null;
    figures[`${r.key}_over_glibc_cpu_ratio`] = r.repsCpuNs.length && r.ops && glibcCpu ? median(r.repsCpuNs) / r.ops / glibcCpu : null;
    figures[`${r.key}_reps_cpu_ns`] = r.repsCpuNs.map((x) => Math.round(x)).join(" ");
    figures[`${r.key}_over_glibc_wall_ratio`] = r.nsPerOp !== null && glibc ? r.nsPerOp / glibc : null;
    figures[`${r.key}_footprint_bytes`] = r.footprintBytes;
    figures[`${r.key}_footprint_x_peak_live`] = fp;
    figures[`${r.key}_failures`] = r.failures;
    if (r.error) {
      figures[`${r.key}_error`] = r.error;
      notes.push(`${r.label}: skipped: ${r.error}`);
    }
    const fpText = fp === null ? "-" : `${fp.toFixed(2)}x`;
    const failText = r.failures === null ? "-" : String(r.failures);
    const cpu = r.repsCpuNs.length && r.ops ? median(r.repsCpuNs) / r.ops : null;
    const cpuText = cpu === null ? "-" : `${fmtNs(cpu)} (${glibcCpu ? (cpu / glibcCpu).toFixed(2) : "-"}x)`;
    out.push({
      name: `${r.label.padEnd(labelW)}  fp ${fpText.padStart(5)}  fail ${failText}  cpu ns/op ${cpuText.padEnd(13)}`,
      ns: r.nsPerOp,
      rmePct: rmePct(r.repsNs.map((x) => x / Math.max(1, r.ops))),
      ratio: r.nsPerOp !== null && glibc ? r.nsPerOp / glibc : null,
      ratioTo: glibc ? "glibc native" : null,
    });
  }

  notes.push(
    "cpu ns/op: the replayer process's CPU time per op (median; its ratio to glibc's in brackets): unlike wall time, " +
      "not inflated while another process has the CPU, so the one to read on a shared machine",
  );

  // Ours in simulated terms (the cost model), and where its simulated cycles go.
  const o = ours.r?.ours;
  if (o) {
    const s = o.simulated;
    const simNs = (s.cyclesPerOp / s.hz) * 1e9;
    out.push({
      name: `${"ours, SIMULATED: cost-model cycles / machine hz".padEnd(labelW)}  ${s.cyclesPerOp.toFixed(1)} cycles/op`,
      ns: simNs,
      rmePct: null,
      ratio: glibc ? simNs / glibc : null,
      ratioTo: glibc ? "glibc native (wall)" : null,
    });
    Object.assign(figures, {
      ours_sim_hz: s.hz,
      ours_sim_cycles_per_op: s.cyclesPerOp,
      ours_sim_ns_per_op: simNs,
      ours_sim_user_cycles_per_op: s.userCyclesPerOp,
      ours_sim_kernel_cycles_per_op: s.kernelCyclesPerOp,
      ours_sim_libc_cycles_per_op: s.libcCyclesPerOp,
      ours_sim_accesses_per_op: s.accessesPerOp,
      ours_sim_tlb_misses_per_op: s.tlbMissesPerOp,
      ours_sim_minor_faults: s.minorFaults,
      ours_sim_timed_run_cycles_per_op: s.timedRunCyclesPerOp,
      ours_wall_ns_per_access: ours.row.nsPerOp !== null ? ours.row.nsPerOp / s.accessesPerOp : null,
      ours_cpu_ns_per_access: ours.row.repsCpuNs.length && ours.row.ops ? median(ours.row.repsCpuNs) / ours.row.ops / s.accessesPerOp : null,
      ours_max_rss_bytes: o.maxRssBytes,
      ours_mallinfo_mismatches: o.mallinfoMismatches,
    });
    for (const c of s.symbols) {
      const k = `ours_sim_sym_${c.image.replace(/\W/g, "_")}_${c.symbol.replace(/\W/g, "_")}`;
      figures[`${k}_cycles_per_op`] = c.cyclesPerOp;
      figures[`${k}_accesses_per_op`] = c.accessesPerOp;
      figures[`${k}_tlb_misses_per_op`] = c.tlbMissesPerOp;
    }
    const top = s.symbols
      .slice(0, 8)
      .map((c) => `${c.symbol} ${c.cyclesPerOp.toFixed(1)}`)
      .join(", ");
    notes.push(
      `ours simulated: ${s.cyclesPerOp.toFixed(1)} cycles/op (user ${s.userCyclesPerOp.toFixed(1)}, kernel ${s.kernelCyclesPerOp.toFixed(1)}; ` +
        `libc.so.6 ${s.libcCyclesPerOp.toFixed(1)}) at ${(s.hz / 1e9).toFixed(3)} GHz; ${s.accessesPerOp.toFixed(1)} accessor loads/stores and ` +
        `${s.tlbMissesPerOp.toFixed(2)} TLB misses per op; ${s.minorFaults} minor faults in one replay`,
    );
    notes.push(`ours simulated cycles/op by symbol: ${top}`);
    if (o.mallinfoMismatches !== 0) notes.push(`ours: mallinfo2 disagreed with the sampled arena fields ${o.mallinfoMismatches} times`);
    const oursCpu = ours.row.repsCpuNs.length && ours.row.ops ? median(ours.row.repsCpuNs) / ours.row.ops : null;
    if (oursCpu !== null)
      notes.push(`ours: ${fmtNs(oursCpu / s.accessesPerOp)} cpu ns per accessor load/store, everything included (${fmtNs(oursCpu)} cpu ns/op over ${s.accessesPerOp.toFixed(1)} accesses/op)`);
  }
  notes.push(
    `trace: ${trace.ops} ops (${trace.mallocs} malloc, ${trace.frees} free, ${trace.reallocs} realloc), peak live ${trace.peakLiveBytes} B; ` +
      `ns/op = median of ${reps} whole replays / ops (first replays include JIT warm-up; ±rme is over the replays); ` +
      `fp = footprint / peak live (glibc, ours: mallinfo2 arena+hblkhd peak; wasm/asm.js: span of addresses handed out)`,
  );
  return { suite: "malloc", title: "malloc trace replay (peers.md)", unit: "ns per op, wall", rows: out, figures, notes };
}

export const mallocSuite: SuiteDef = {
  name: "malloc",
  title: "malloc trace replay: ours (emulated ptmalloc2) vs glibc, dlmalloc, TLSF",
  run,
};
