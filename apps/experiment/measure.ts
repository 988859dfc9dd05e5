// One measured run of a workload (ebizzy, mallocbench, the build, the smiffy
// leak check) in a fresh machine, reduced to the figures the experiment
// reports. Every figure except those named *wall* is deterministic.

import { Counters, Kev } from "../../kernel/cost/events.ts";
import type { MachineProfile } from "../../kernel/cost/machines.ts";
import { type ProfileRow, profileRows, symbolRank } from "../../kernel/cost/oprofile.ts";
import { clearPageCriticalCycles, cyclesOf } from "../../kernel/cost/price.ts";
import type { ZeroPolicyName } from "../../kernel/zero_policy.ts";
import { runBuildWithRun } from "../cmd/build.ts";
import { Machine, type RunResult } from "../machine.ts";

export type Workload = "ebizzy" | "mallocbench" | "build" | "leak";

export interface Measurement {
  workload: Workload;
  /** The command as a user would type it (for the time -v block). */
  command: string;
  machine: string;
  policy: ZeroPolicyName;
  /** The 2007 patch in use: ebizzy -N, MALLOC_NOZERO=1. */
  patched: boolean;
  /** The workload's own figure: records/s, allocations/s, build seconds, or leaked pages. */
  value: number;
  unit: string;
  /** Is a higher value better (throughput) or a lower one (time, leaks)? */
  higherIsBetter: boolean;
  exitCode: number;
  simulatedSeconds: number;
  cycles: number;
  userSeconds: number;
  systemSeconds: number;
  minflt: number;
  maxRssKiB: number;
  processes: number;
  contextSwitches: number;
  /** clear_page cycles on the critical path (at fault or free) and off it (idle pre-zeroing). */
  clearCritical: number;
  clearIdle: number;
  clearRank: number;
  clearShare: number;
  profile: ProfileRow[];
  /** Build only: the hash of every object, the executable and the output, and the checksum check. */
  outputHash?: string;
  checksumOk?: boolean;
  wallSeconds: number;
  /** For re-pricing (sensitivity), per-program figures and traces; not serialized. */
  counters: Counters;
  byProgram: Map<string, Counters>;
  segments: RunResult["segments"];
  hz: number;
}

function fromRun(
  r: RunResult, m: MachineProfile, base: Omit<Measurement, "exitCode" | "simulatedSeconds" | "cycles" | "userSeconds" | "systemSeconds" | "minflt" | "maxRssKiB" | "processes" | "contextSwitches" | "clearCritical" | "clearIdle" | "clearRank" | "clearShare" | "profile" | "counters" | "byProgram" | "segments" | "hz">,
): Measurement {
  const cy = cyclesOf(r.counters, m);
  const clearCritical = clearPageCriticalCycles(r.counters, m);
  const clearIdle = r.counters.k[Kev.CLEAR_IDLE_BYTES] * m.kernel[Kev.CLEAR_IDLE_BYTES].cycles;
  const rank = symbolRank(r.profile, "clear_page");
  return {
    ...base,
    exitCode: r.exitCode,
    simulatedSeconds: r.simulatedSeconds,
    cycles: r.cycles,
    userSeconds: cy.user / m.hz,
    systemSeconds: cy.kernel / m.hz,
    minflt: r.minflt,
    maxRssKiB: r.maxRssKiB,
    processes: r.processes,
    contextSwitches: r.counters.k[Kev.CONTEXT_SWITCH],
    clearCritical,
    clearIdle,
    clearRank: rank.rank,
    clearShare: rank.percent / 100,
    profile: profileRows(r.profile, 12),
    counters: r.counters,
    byProgram: r.byProgram,
    segments: r.segments,
    hz: m.hz,
  };
}

export interface Params {
  ebizzy: string[];
  mallocbench: string[];
  buildFiles: number;
  buildJobs: number;
  seed: number;
}

/** The userland of a run: the patch's opt-ins, and calloc must clear for a kernel that never does. */
function environment(patched: boolean, policy: ZeroPolicyName): string[] {
  const env = ["PATH=/bin", "HOME=/home/alice"];
  // Under `uninitialized` no kernel memory is zero, so glibc's calloc shortcut would hand out
  // garbage; the userland must run in no-zero mode (as MAP_UNINITIALIZED users must).
  if (patched || policy === "uninitialized") env.push("MALLOC_NOZERO=1");
  return env;
}

export function measureEbizzy(p: Params, m: MachineProfile, policy: ZeroPolicyName, patched: boolean): Measurement {
  const wall = performance.now();
  const args = [...p.ebizzy, ...(patched ? ["-N"] : [])];
  const r = new Machine({ machine: m, policy, seed: p.seed, traceSegments: true }).run(["ebizzy", ...args], { uid: 1000, env: environment(patched, policy) });
  const rps = /^(\d+) records\/s$/m.exec(r.stdout);
  return fromRun(r, m, {
    workload: "ebizzy", command: `ebizzy ${args.join(" ")}`, machine: m.name, policy, patched,
    value: rps ? Number(rps[1]) : 0, unit: "records/s", higherIsBetter: true, wallSeconds: (performance.now() - wall) / 1000,
  });
}

export function measureMallocbench(p: Params, m: MachineProfile, policy: ZeroPolicyName, patched: boolean): Measurement {
  const wall = performance.now();
  const r = new Machine({ machine: m, policy, seed: p.seed, traceSegments: true }).run(["mallocbench", ...p.mallocbench], { uid: 1000, env: environment(patched, policy) });
  const rate = /([\d.]+) allocations\/s/.exec(r.stdout);
  return fromRun(r, m, {
    workload: "mallocbench", command: `${patched ? "MALLOC_NOZERO=1 " : ""}mallocbench ${p.mallocbench.join(" ")}`, machine: m.name, policy, patched,
    value: rate ? Number(rate[1]) : 0, unit: "allocations/s", higherIsBetter: true, wallSeconds: (performance.now() - wall) / 1000,
  });
}

export function measureBuild(p: Params, m: MachineProfile, policy: ZeroPolicyName, patched: boolean): Measurement {
  const wall = performance.now();
  const { result, run } = runBuildWithRun({ files: p.buildFiles, jobs: p.buildJobs, seed: p.seed, policy, machine: m, env: environment(patched, policy), traceSegments: true });
  return {
    ...fromRun(run, m, {
      workload: "build", command: `${patched ? "MALLOC_NOZERO=1 " : ""}make -j ${p.buildJobs} (${p.buildFiles} files)`, machine: m.name, policy, patched,
      value: result.simulatedSeconds, unit: "s", higherIsBetter: false, wallSeconds: (performance.now() - wall) / 1000,
    }),
    exitCode: result.exitCode,
    outputHash: result.outputHash,
    checksumOk: result.checksumOk,
  };
}

/** alice fills 256 MAP_NOZERO pages and exits; bob's smiffy counts pages that still hold bytes. */
export function measureLeak(p: Params, m: MachineProfile, policy: ZeroPolicyName): Measurement {
  const wall = performance.now();
  const mach = new Machine({ machine: m, policy, seed: p.seed, memMiB: 64 });
  mach.run(["memhog", "-p", "256", "-N"], { uid: 1000 });
  const r = mach.run(["smiffy", "-s", "256", "-n", "1"], { uid: 1001 });
  const leaked = /^mapping had (\d+) non-zero pages$/m.exec(r.stdout);
  return fromRun(r, m, {
    workload: "leak", command: "su alice -c 'memhog -p 256 -N'; su bob -c 'smiffy -s 256 -n 1'", machine: m.name, policy, patched: false,
    value: leaked ? Number(leaked[1]) : 0, unit: "pages", higherIsBetter: false, wallSeconds: (performance.now() - wall) / 1000,
  });
}

/** Total cycles of counters under a profile with clear_page and one program image's user work scaled. */
export function repriced(c: Counters, byProgram: Map<string, Counters>, m: MachineProfile, clearScale: number, image: string, imageScale: number): number {
  const cy = cyclesOf(c, m);
  const clear = clearPageCriticalCycles(c, m) + c.k[Kev.CLEAR_IDLE_BYTES] * m.kernel[Kev.CLEAR_IDLE_BYTES].cycles;
  let imageUser = 0;
  const prog = byProgram.get(image);
  if (prog !== undefined) imageUser = cyclesOf(prog, m).user;
  return cy.kernel + cy.user + clear * (clearScale - 1) + imageUser * (imageScale - 1);
}

