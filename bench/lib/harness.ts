// The shared shape of every bench suite: cases measured with Benchmark.Suite,
// rows for the table, and a flat map of named figures for --json.
//
// Each case runs many operations per call (opsPerCall) so Benchmark.js's
// per-call overhead is amortised; the figure reported is the mean time per
// operation. Wall-clock numbers only: nothing here feeds simulated cycles.

import Benchmark from "benchmark";

export interface BenchOptions {
  /** Benchmark.js maxTime per case, seconds. */
  maxTime: number;
  /** Benchmark.js minSamples per case. */
  minSamples: number;
  /** Progress lines (to stderr, so --json stdout stays one object). */
  log: (line: string) => void;
}

export interface Case {
  name: string;
  /** Operations one call of fn performs (accesses, pages). */
  opsPerCall: number;
  fn: () => void;
}

export interface Measured {
  name: string;
  nsPerOp: number;
  /** Relative margin of error of the mean, percent (Benchmark.js rme). */
  rmePct: number;
  samples: number;
  opsPerCall: number;
}

/** One line of the printed table. ratio is this row's ns over the row named by ratioTo. */
export interface Row {
  name: string;
  ns: number | null;
  rmePct: number | null;
  ratio: number | null;
  ratioTo: string | null;
}

export type Figure = number | string | boolean | null;

export interface SuiteResult {
  suite: string;
  title: string;
  /** Unit of the ns column, e.g. "ns per access". */
  unit: string;
  rows: Row[];
  /** Every figure by name; wall-clock ones have "ns" or "wall" in the key. */
  figures: Record<string, Figure>;
  notes: string[];
}

export interface SuiteDef {
  name: string;
  title: string;
  run: (opts: BenchOptions) => SuiteResult | Promise<SuiteResult>;
}

/** Run the cases in one Benchmark.Suite, synchronously, in order. */
export function measure(cases: readonly Case[], opts: BenchOptions): Measured[] {
  const suite = new Benchmark.Suite();
  const byName = new Map<string, Case>();
  for (const c of cases) {
    if (byName.has(c.name)) throw new Error(`duplicate bench case ${c.name}`);
    byName.set(c.name, c);
    suite.add(c.name, c.fn, { maxTime: opts.maxTime, minSamples: opts.minSamples });
  }
  const out: Measured[] = [];
  let failed: Error | null = null;
  suite.on("cycle", (ev: Benchmark.Event) => {
    const b = ev.target as unknown as Benchmark;
    const c = byName.get(b.name ?? "")!;
    if (b.error) {
      failed ??= new Error(`bench case ${c.name} failed: ${b.error.message}`, { cause: b.error });
      return;
    }
    const m: Measured = {
      name: c.name,
      nsPerOp: (b.stats.mean * 1e9) / c.opsPerCall,
      rmePct: b.stats.rme,
      samples: b.stats.sample.length,
      opsPerCall: c.opsPerCall,
    };
    out.push(m);
    opts.log(`  ${c.name}: ${fmtNs(m.nsPerOp)} ns/op ±${m.rmePct.toFixed(2)}% (${m.samples} samples)`);
  });
  suite.run({ async: false });
  if (failed) throw failed;
  return out;
}

export function fmtNs(ns: number): string {
  if (ns >= 100) return ns.toFixed(0);
  if (ns >= 10) return ns.toFixed(1);
  return ns.toFixed(2);
}

/** Table rows for every suite, one header per suite. */
export function formatTable(results: readonly SuiteResult[]): string {
  const lines: string[] = [];
  const nameW = Math.max(24, ...results.flatMap((r) => r.rows.map((row) => row.name.length)));
  for (const r of results) {
    lines.push(`${r.title}  (${r.unit})`);
    lines.push(`  ${"name".padEnd(nameW)}  ${"ns/op".padStart(9)}  ${"±rme".padStart(7)}  ${"ratio".padStart(7)}  vs`);
    for (const row of r.rows) {
      const ns = row.ns === null ? "-" : fmtNs(row.ns);
      const rme = row.rmePct === null ? "-" : `${row.rmePct.toFixed(1)}%`;
      const ratio = row.ratio === null ? "-" : `${row.ratio.toFixed(2)}x`;
      lines.push(`  ${row.name.padEnd(nameW)}  ${ns.padStart(9)}  ${rme.padStart(7)}  ${ratio.padStart(7)}  ${row.ratioTo ?? ""}`.trimEnd());
    }
    for (const n of r.notes) lines.push(`  note: ${n}`);
    lines.push("");
  }
  return lines.join("\n");
}

/** A sink the optimiser cannot see through, for loads a loop must not drop. */
export const sink = { v: 0 };
