// build: how fast the emulator runs a build. `nozero build` of a 60-file
// generated tree (make -j2, cc -> cc1 + as, then ld), stock glibc and
// MALLOC_NOZERO=1, timed on the host (wall and process CPU) against the
// simulated seconds the same build takes on the emulated machine.
//
// A build takes seconds, far beyond what Benchmark.js samples well, so each
// variant runs REPS times in a plain loop; the figure is the mean per
// compiled file and the rme is the 95% margin of that mean. One unmeasured
// build first, so JIT warm-up is not charged to the stock variant.

import { runBuild } from "../apps/cmd/build.ts";
import type { Figure, Row, SuiteDef, SuiteResult } from "./lib/harness.ts";

const FILES = 60;

interface Timed {
  wallNs: number[];
  cpuNs: number[];
  simulatedSeconds: number;
  processes: number;
  minflt: number;
  outputHash: string;
}

function timeBuild(nozero: boolean, reps: number, log: (l: string) => void): Timed {
  const t: Timed = { wallNs: [], cpuNs: [], simulatedSeconds: 0, processes: 0, minflt: 0, outputHash: "" };
  for (let i = 0; i < reps; i++) {
    const cpu0 = process.cpuUsage();
    const w0 = process.hrtime.bigint();
    const r = runBuild({ files: FILES, nozero });
    const wall = Number(process.hrtime.bigint() - w0);
    const cpu = process.cpuUsage(cpu0);
    if (r.exitCode !== 0 || !r.checksumOk) throw new Error(`bench build failed: make exit ${r.exitCode}\n${r.makeStderr}`);
    // Simulated figures are deterministic: every rep must agree.
    if (i > 0 && (r.simulatedSeconds !== t.simulatedSeconds || r.outputHash !== t.outputHash)) {
      throw new Error("bench build: simulated figures differ between reps");
    }
    t.wallNs.push(wall);
    t.cpuNs.push((cpu.user + cpu.system) * 1000);
    t.simulatedSeconds = r.simulatedSeconds;
    t.processes = r.processes;
    t.minflt = r.minflt;
    t.outputHash = r.outputHash;
    log(`  ${nozero ? "MALLOC_NOZERO=1" : "stock"} rep ${i + 1}/${reps}: ${(wall / 1e9).toFixed(2)} s wall, ${r.simulatedSeconds.toFixed(4)} s simulated`);
  }
  return t;
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Relative 95% margin of error of the mean, percent (normal approximation). */
function rmePct(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  const variance = xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1);
  return (1.96 * Math.sqrt(variance / xs.length) * 100) / m;
}

function run(opts: Parameters<SuiteDef["run"]>[0]): SuiteResult {
  const reps = opts.minSamples >= 20 ? 3 : 1;
  opts.log(`  ${FILES}-file tree, make -j2, one warm-up build, then ${reps} rep(s) per variant`);
  // The first build in a process pays for JIT compilation of the whole emulator.
  runBuild({ files: FILES });
  const variants = [
    { key: "stock", label: "build, stock", t: timeBuild(false, reps, opts.log) },
    { key: "nozero", label: "build, MALLOC_NOZERO=1", t: timeBuild(true, reps, opts.log) },
  ];
  const rows: Row[] = [];
  const figures: Record<string, Figure> = { files: FILES, reps };
  const notes: string[] = [];
  for (const v of variants) {
    const wallPerFile = mean(v.t.wallNs) / FILES;
    const cpuPerFile = mean(v.t.cpuNs) / FILES;
    const simPerFileNs = (v.t.simulatedSeconds * 1e9) / FILES;
    rows.push({ name: `${v.label}: wall per file`, ns: wallPerFile, rmePct: rmePct(v.t.wallNs), ratio: wallPerFile / simPerFileNs, ratioTo: "simulated per file" });
    rows.push({ name: `${v.label}: cpu per file`, ns: cpuPerFile, rmePct: rmePct(v.t.cpuNs), ratio: cpuPerFile / simPerFileNs, ratioTo: "simulated per file" });
    rows.push({ name: `${v.label}: simulated per file`, ns: simPerFileNs, rmePct: null, ratio: null, ratioTo: null });
    figures[`${v.key}_wall_s_per_file`] = wallPerFile / 1e9;
    figures[`${v.key}_cpu_wall_s_per_file`] = cpuPerFile / 1e9;
    figures[`${v.key}_simulated_s_per_file`] = simPerFileNs / 1e9;
    figures[`${v.key}_wall_over_simulated`] = wallPerFile / simPerFileNs;
    figures[`${v.key}_processes`] = v.t.processes;
    figures[`${v.key}_minflt`] = v.t.minflt;
    notes.push(`${v.label}: ${(mean(v.t.wallNs) / 1e9).toFixed(2)} s wall for ${FILES} files (${v.t.processes} processes), ${v.t.simulatedSeconds.toFixed(4)} s simulated; the emulator runs ${(wallPerFile / simPerFileNs).toFixed(1)}x slower than the machine it models`);
  }
  const [stock, nozero] = variants;
  figures.identical_output = stock.t.outputHash === nozero.t.outputHash;
  return { suite: "build", title: `nozero build of a ${FILES}-file tree`, unit: "ns per compiled file", rows, figures, notes };
}

export const buildSuite: SuiteDef = { name: "build", title: `nozero build, ${FILES}-file tree: wall vs simulated seconds per compiled file`, run };
