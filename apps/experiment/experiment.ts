// The experiment behind `nozero compare`: the 2007 table (ebizzy, the
// malloc-heavy program and the build, each without and with the patch), the
// zeroing strategies on equal terms, and what the host profile says next to
// what real gcc, as and ebizzy show on this machine, for both machine
// profiles. Runs are deterministic; the report keeps wall-clock figures
// under keys containing "wall".

import { Kev } from "../../kernel/cost/events.ts";
import { HOST, type MachineProfile, OPTERON_2007 } from "../../kernel/cost/machines.ts";
import { clearPageCriticalCycles, cyclesOf } from "../../kernel/cost/price.ts";
import type { ZeroPolicyName } from "../../kernel/zero_policy.ts";
import { type AllocationSizes, allocationSizes } from "./alloc_sizes.ts";
import { type Measurement, type Params, measureBuild, measureEbizzy, measureLeak, measureMallocbench, repriced } from "./measure.ts";

/** The 2007 figures (LWN 240462): the change the patched userland gave. */
export const FIGURES_2007 = {
  ebizzy: { low: 10, high: 15, text: "+10% to +15%" },
  mallocbench: { low: 13, high: 15, text: "about +14%" },
  build: { low: -3, high: -2.5, text: "-2.5% to -3%" },
} as const;

/** Real figures on this machine (workloads.md 5.6-5.7): clear_page's share of each program. */
export const REAL_SHARES = {
  cc1: { low: 0.5, high: 1.6, text: "0.5-1.6% (perf, gcc 12.2)" },
  as: { low: 1.3, high: 2.7, text: "1.3-2.7% (perf, binutils 2.40)" },
  ebizzy: { low: 3, high: 5, text: "about 4% (ebz -m loop, perf)" },
} as const;

export const STRATEGIES: readonly ZeroPolicyName[] = ["stock", "nozero", "init_on_free", "prezero", "uninitialized"];

export function params(quick: boolean): Params {
  return quick
    ? { ebizzy: ["-m", "-S", "0.25", "-t", "2"], mallocbench: ["-f", "-r", "4"], buildFiles: 12, buildJobs: 2, seed: 1 }
    : { ebizzy: ["-m", "-S", "1", "-t", "2"], mallocbench: ["-f", "-r", "16"], buildFiles: 60, buildJobs: 2, seed: 1 };
}

export interface Row2007 {
  workload: "ebizzy" | "mallocbench" | "build";
  metric: string;
  stock: Measurement;
  patched: Measurement;
  /** Change of the workload's figure, in percent (positive: higher). */
  changePercent: number;
  figure2007: string;
  inBand: boolean;
}

export interface StrategyRow {
  policy: ZeroPolicyName;
  /** The userland the strategy runs: the patched one for nozero (and, for calloc's sake, uninitialized). */
  patched: boolean;
  build: Measurement;
  ebizzy: Measurement;
  leak: Measurement;
}

export interface Fidelity {
  program: "cc1" | "as" | "ebizzy";
  /** clear_page's share of the program's own cycles under the host profile, percent. */
  emulatedPercent: number;
  real: string;
  inRange: boolean;
  faultsPerSecond: number;
}

export interface Sensitivity {
  /** The build's change in total CPU cycles, percent, at each scale of clear_page's cost. */
  clearScale: { scale: number; changePercent: number }[];
  /** ... and at each scale of cc1's own work per page. */
  cc1Scale: { scale: number; changePercent: number }[];
}

export interface MachineReport {
  machine: string;
  description: string;
  table: Row2007[];
  strategies: StrategyRow[];
  fidelity: Fidelity[];
  sensitivity: Sensitivity;
}

export interface Report {
  quick: boolean;
  params: Params;
  machines: MachineReport[];
  /** Identical outputs of the build under every strategy (invariant 3). */
  buildOutputsIdentical: boolean;
  /** Request sizes of our cc1 and as beside real gcc's and gas's. */
  allocationSizes: AllocationSizes[];
  wallSeconds: number;
}

const change = (a: Measurement, b: Measurement) => (a.value === 0 ? 0 : 100 * (b.value / a.value - 1));

/** The list of runs, so a caller can show progress. */
export function plannedRuns(machines = 2): number {
  // Per machine: 3 workloads x 2 for the table, then (build + ebizzy) for 3 more strategies, and a leak check per strategy.
  return machines * (6 + 3 * 2 + STRATEGIES.length) + 1;
}

/** The profiles the experiment runs under unless told otherwise: 2007's and this machine's. */
export const DEFAULT_MACHINES: readonly MachineProfile[] = [OPTERON_2007, HOST];

export function runExperiment(quick: boolean, tick: (label: string) => void = () => {}, profiles: readonly MachineProfile[] = DEFAULT_MACHINES): Report {
  const wall = performance.now();
  const p = params(quick);
  const machines: MachineReport[] = [];
  const hashes = new Set<string>();
  for (const m of profiles) {
    const step = <T>(label: string, f: () => T): T => {
      tick(`${m.name}: ${label}`);
      return f();
    };
    const eb = [false, true].map((pt) => step(`ebizzy${pt ? " -N" : ""}`, () => measureEbizzy(p, m, pt ? "nozero" : "stock", pt)));
    const mb = [false, true].map((pt) => step(`mallocbench${pt ? " (MALLOC_NOZERO)" : ""}`, () => measureMallocbench(p, m, pt ? "nozero" : "stock", pt)));
    const bd = [false, true].map((pt) => step(`build${pt ? " (MALLOC_NOZERO)" : ""}`, () => measureBuild(p, m, pt ? "nozero" : "stock", pt)));
    const row = (workload: Row2007["workload"], metric: string, pair: Measurement[]): Row2007 => {
      const c = change(pair[0], pair[1]);
      const f = FIGURES_2007[workload];
      return { workload, metric, stock: pair[0], patched: pair[1], changePercent: c, figure2007: f.text, inBand: c >= f.low && c <= f.high };
    };
    const table = [row("ebizzy", "records/s", eb), row("mallocbench", "allocations/s", mb), row("build", "build time (s)", bd)];

    const strategies: StrategyRow[] = STRATEGIES.map((policy) => {
      const patched = policy === "nozero";
      const build = policy === "stock" ? bd[0] : policy === "nozero" ? bd[1] : step(`build under ${policy}`, () => measureBuild(p, m, policy, false));
      const ebizzy = policy === "stock" ? eb[0] : policy === "nozero" ? eb[1] : step(`ebizzy under ${policy}`, () => measureEbizzy(p, m, policy, false));
      const leak = step(`leak check under ${policy}`, () => measureLeak(p, m, policy));
      return { policy, patched: patched || policy === "uninitialized", build, ebizzy, leak };
    });
    for (const s of strategies) if (s.build.outputHash) hashes.add(s.build.outputHash);

    machines.push({
      machine: m.name,
      description: m.description,
      table,
      strategies,
      fidelity: fidelity(m, bd[0], eb[0]),
      sensitivity: sensitivity(m, bd[0], bd[1]),
    });
  }
  tick("allocation sizes of cc1 and as");
  const allocSizes = allocationSizes(p.buildFiles, p.seed);
  return { quick, params: p, machines, buildOutputsIdentical: hashes.size === 1, allocationSizes: allocSizes, wallSeconds: (performance.now() - wall) / 1000 };
}

/** clear_page's share of cc1, as and ebizzy under this profile, next to the real figures. */
function fidelity(m: MachineProfile, build: Measurement, ebizzy: Measurement): Fidelity[] {
  const share = (prog: "cc1" | "as"): Fidelity => {
    const c = build.byProgram.get(prog);
    const r = REAL_SHARES[prog];
    if (c === undefined) return { program: prog, emulatedPercent: 0, real: r.text, inRange: false, faultsPerSecond: 0 };
    const cy = cyclesOf(c, m);
    const total = cy.kernel + cy.user;
    const pct = total > 0 ? (100 * clearPageCriticalCycles(c, m)) / total : 0;
    const faults = c.k[Kev.FAULT_ANON_READ] + c.k[Kev.FAULT_ANON_WRITE] + c.k[Kev.FAULT_WP] + c.k[Kev.FAULT_SHARED];
    return { program: prog, emulatedPercent: pct, real: r.text, inRange: pct >= r.low && pct <= r.high, faultsPerSecond: faults / (total / m.hz) };
  };
  const e = REAL_SHARES.ebizzy;
  const eShare = 100 * ebizzy.clearShare;
  return [
    share("cc1"),
    share("as"),
    { program: "ebizzy", emulatedPercent: eShare, real: e.text, inRange: eShare >= e.low && eShare <= e.high, faultsPerSecond: ebizzy.minflt / ebizzy.simulatedSeconds },
  ];
}

/** How the build's gain moves with clear_page's cost and with cc1's work per page (total CPU cycles). */
function sensitivity(m: MachineProfile, stock: Measurement, patched: Measurement): Sensitivity {
  const delta = (clear: number, cc1: number) => {
    const a = repriced(stock.counters, stock.byProgram, m, clear, "cc1", cc1);
    const b = repriced(patched.counters, patched.byProgram, m, clear, "cc1", cc1);
    return 100 * (b / a - 1);
  };
  return {
    clearScale: [0.5, 1, 2, 4].map((scale) => ({ scale, changePercent: delta(scale, 1) })),
    cc1Scale: [0.5, 1, 2].map((scale) => ({ scale, changePercent: delta(1, scale) })),
  };
}
