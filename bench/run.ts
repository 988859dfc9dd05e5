// Bench runner: `npm run bench` runs every suite; `npm run bench -- uaccess`
// runs the named ones; `--json` prints one JSON object instead of the table;
// `--quick` shortens every case (a smoke run, numbers less stable).
//
// To add a suite: write bench/<name>.bench.ts exporting a SuiteDef and add it
// to SUITES below (in the order `npm run bench` should run them).

import { arch, cpus, release } from "node:os";
import { buildSuite } from "./build.bench.ts";
import { clearPageSuite } from "./clear_page.bench.ts";
import { type BenchOptions, type SuiteDef, type SuiteResult, formatTable } from "./lib/harness.ts";
import { mallocSuite } from "./malloc.bench.ts";
import { replaySuite } from "./replay.bench.ts";
import { uaccessSuite } from "./uaccess.bench.ts";

const SUITES: readonly SuiteDef[] = [uaccessSuite, clearPageSuite, mallocSuite, replaySuite, buildSuite];

function usage(): string {
  return [
    "usage: npm run bench -- [suite ...] [--json] [--quick]",
    "suites:",
    ...SUITES.map((s) => `  ${s.name.padEnd(12)} ${s.title}`),
  ].join("\n");
}

async function main(argv: readonly string[]): Promise<number> {
  let json = false;
  let quick = false;
  const names: string[] = [];
  for (const a of argv) {
    if (a === "--json") json = true;
    else if (a === "--quick") quick = true;
    else if (a === "--help" || a === "-h") {
      console.log(usage());
      return 0;
    } else if (a.startsWith("-")) {
      console.error(`bench: unknown flag ${a}\n${usage()}`);
      return 2;
    } else names.push(a);
  }
  const chosen: SuiteDef[] = [];
  for (const n of names) {
    const s = SUITES.find((x) => x.name === n);
    if (!s) {
      console.error(`bench: no suite named ${n}\n${usage()}`);
      return 2;
    }
    if (!chosen.includes(s)) chosen.push(s);
  }
  if (chosen.length === 0) chosen.push(...SUITES);

  const opts: BenchOptions = {
    maxTime: quick ? 0.25 : 1.5,
    minSamples: quick ? 5 : 20,
    log: (line) => process.stderr.write(`${line}\n`),
  };
  const t0 = process.hrtime.bigint();
  const results: SuiteResult[] = [];
  for (const s of chosen) {
    opts.log(`bench ${s.name}: ${s.title}`);
    results.push(await s.run(opts));
  }
  const wallNs = Number(process.hrtime.bigint() - t0);

  if (json) {
    const out = {
      bench: "nozero",
      node: process.version,
      v8: process.versions.v8,
      platform: `${process.platform} ${release()} ${arch()}`,
      cpu: cpus()[0]?.model ?? "unknown",
      wall_clock_start: new Date(Date.now() - wallNs / 1e6).toISOString(),
      quick,
      max_time_s: opts.maxTime,
      min_samples: opts.minSamples,
      total_wall_ns: wallNs,
      suites: Object.fromEntries(
        results.map((r) => [
          r.suite,
          {
            title: r.title,
            unit: r.unit,
            rows: r.rows.map((row) => ({ name: row.name, ns_per_op: row.ns, ns_rme_pct: row.rmePct, wall_ratio: row.ratio, wall_ratio_to: row.ratioTo })),
            figures: r.figures,
            wall_notes: r.notes,
          },
        ]),
      ),
    };
    console.log(JSON.stringify(out, null, 2));
  } else {
    console.log(`nozero bench: node ${process.version}, ${cpus()[0]?.model ?? "unknown cpu"}${quick ? ", --quick" : ""}\n`);
    console.log(formatTable(results));
    console.log(`total wall time ${(wallNs / 1e9).toFixed(1)} s`);
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
