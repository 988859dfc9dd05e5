// One `nozero replay` of a trace file in a process of its own, so its CPU
// time and peak host memory are the replay's alone. bench/replay.bench.ts
// spawns it as
//
//   node --import tsx bench/replay/child.ts TRACE
//
// runReplay with runs 1 and touch full: a host scan pass, then one replay in
// a stock machine and one with MALLOC_NOZERO=1. Prints one line
// `RESULT {json}` on stdout.

import { runReplay } from "../../apps/cmd/replay.ts";

export interface ReplayChildResult {
  opsTotal: number;
  lines: number;
  cpuNs: number;
  wallNs: number;
  /** Current RSS and peak RSS (KiB) once everything is loaded, before runReplay. */
  rssBeforeKiB: number;
  maxRssBeforeKiB: number;
  /** Peak RSS of the process (KiB) after runReplay. */
  maxRssKiB: number;
  exitCodes: [number, number];
  /** Peak RSS of the emulated process (KiB), stock and MALLOC_NOZERO=1. */
  emulatedMaxRssKiB: [number, number];
}

const path = process.argv[2];
if (!path) {
  process.stderr.write("usage: child.ts TRACE\n");
  process.exit(2);
}
const rssBeforeKiB = Math.round(process.memoryUsage.rss() / 1024);
const maxRssBeforeKiB = process.resourceUsage().maxRSS;
const t0 = process.hrtime.bigint();
const c0 = process.cpuUsage();
const r = runReplay(path, { runs: 1, touch: "full" });
const c = process.cpuUsage(c0);
const out: ReplayChildResult = {
  opsTotal: r.opsTotal,
  lines: r.lines,
  cpuNs: (c.user + c.system) * 1000,
  wallNs: Number(process.hrtime.bigint() - t0),
  rssBeforeKiB,
  maxRssBeforeKiB,
  maxRssKiB: process.resourceUsage().maxRSS,
  exitCodes: [r.stock.exitCode, r.nozero.exitCode],
  emulatedMaxRssKiB: [r.stock.maxRssKiB, r.nozero.maxRssKiB],
};
process.stdout.write(`RESULT ${JSON.stringify(out)}\n`);
