// nozero compare: the experiment (what `npm start` runs).

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import cliProgress from "cli-progress";
import { DEFAULT_MACHINES, plannedRuns, runExperiment } from "../experiment/experiment.ts";
import { reportHtml } from "../experiment/report_html.ts";
import { formatReport, reportJson } from "../experiment/report_text.ts";
import { traceFiles } from "../experiment/trace.ts";
import { type FlagSpec, UsageError, parseFlags } from "./flags.ts";
import { machineFlag } from "./host.ts";

export const COMPARE_USAGE = `usage: nozero compare [--quick] [--machine M[,M...]] [--json] [--html FILE] [--trace-out DIR]
  Runs ebizzy, mallocbench and a kernel-like build without and with the 2007
  patch, and every zeroing strategy, under each cost profile M (default
  opteron-2007,host; a FILE.json from nozero calibrate works too), and prints
  the table beside the 2007 figures. --quick runs smaller work.
`;

const SPEC: FlagSpec = { quick: { kind: "bool" }, machine: { kind: "string" }, json: { kind: "bool" }, html: { kind: "string" }, "trace-out": { kind: "string" } };

export async function cmdCompare(args: string[]): Promise<number> {
  const { flags, rest } = parseFlags(args, SPEC);
  if (rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}`);
  const json = flags.json === true;
  const showBar = !json && process.stderr.isTTY === true;
  const bar = showBar ? new cliProgress.SingleBar({ format: "{bar} {value}/{total} {label}", clearOnComplete: true, stream: process.stderr }, cliProgress.Presets.shades_classic) : null;
  const profiles = flags.machine === undefined ? DEFAULT_MACHINES : (flags.machine as string).split(",").map((m) => machineFlag(m));
  if (new Set(profiles.map((p) => p.name)).size !== profiles.length) throw new UsageError("--machine names a profile twice");
  bar?.start(plannedRuns(profiles.length), 0, { label: "" });
  const report = runExperiment(flags.quick === true, (label) => bar?.increment({ label }), profiles);
  bar?.stop();
  if (flags.html) writeFileSync(flags.html as string, reportHtml(report));
  if (flags["trace-out"]) {
    const dir = flags["trace-out"] as string;
    mkdirSync(dir, { recursive: true });
    for (const [name, body] of traceFiles(report)) writeFileSync(join(dir, name), body);
  }
  process.stdout.write(json ? JSON.stringify(reportJson(report), null, 2) + "\n" : formatReport(report));
  return 0;
}
