// One `nozero replay` of a trace file in a process of its own, so its CPU
// time and peak host memory are the replay's alone. bench/replay.bench.ts
// spawns it as
//
//   node --import tsx bench/replay/child.ts TRACE
//
// runReplay with runs 1 and touch full: a host scan pass, then one replay in
// a stock machine and one with MALLOC_NOZERO=1. Prints one line
// `RESULT {json}` on stdout.
//
// Peak memory is VmHWM (/proc/self/status), the peak of this process image:
// getrusage's maxRSS (process.resourceUsage) also counts the spawning
// process's pre-exec fork, so a large bench parent would show through it.

import { readFileSync } from "node:fs";
import { runReplay } from "../../apps/cmd/replay.ts";

export interface ReplayChildResult {
  opsTotal: number;
  cpuNs: number;
  wallNs: number;
  /** RSS (KiB) once node and the modules are loaded, before runReplay. */
  rssBeforeKiB: number;
  /** VmHWM (KiB) after runReplay: this process's peak RSS. */
  maxRssKiB: number;
  /** process.resourceUsage().maxRSS (KiB) after runReplay, for comparison. */
  rusageMaxRssKiB: number;
  exitCodes: [number, number];
  /** Peak RSS of the emulated process (KiB), stock run. */
  emulatedMaxRssKiB: number;
}

const hwmKiB = (): number => Number(/^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? Number.NaN);

const path = process.argv[2];
if (!path) {
  process.stderr.write("usage: child.ts TRACE\n");
  process.exit(2);
}
const rssBeforeKiB = Math.round(process.memoryUsage.rss() / 1024);
const t0 = process.hrtime.bigint();
const c0 = process.cpuUsage();
const r = runReplay(path, { runs: 1, touch: "full" });
const c = process.cpuUsage(c0);
const out: ReplayChildResult = {
  opsTotal: r.opsTotal,
  cpuNs: (c.user + c.system) * 1000,
  wallNs: Number(process.hrtime.bigint() - t0),
  rssBeforeKiB,
  maxRssKiB: hwmKiB(),
  rusageMaxRssKiB: process.resourceUsage().maxRSS,
  exitCodes: [r.stock.exitCode, r.nozero.exitCode],
  emulatedMaxRssKiB: r.stock.maxRssKiB,
};
process.stdout.write(`RESULT ${JSON.stringify(out)}\n`);
