// nozero replay: a real program's malloc trace (glibc mtrace format, plain or
// .gz) replayed by mtrace-replay in two fresh machines, stock glibc and
// MALLOC_NOZERO=1, as USER; the report puts the two runs side by side. The
// trace is checked on the host first, so a malformed line is reported with
// its number before anything runs. runReplay() is the engine for the tests.

import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { gunzipSync } from "node:zlib";
import { USERS } from "../../kernel/boot_fs.ts";
import { MACHINE_NAMES, type MachineProfile } from "../../kernel/cost/machines.ts";
import { formatOpreport } from "../../kernel/cost/oprofile.ts";
import { Counters } from "../../kernel/cost/events.ts";
import { price } from "../../kernel/cost/price.ts";
import { ZERO_POLICIES, type ZeroPolicyName } from "../../kernel/zero_policy.ts";
import { Machine, resolveMachine } from "../machine.ts";
import { type SizeClass, formatHistogram, sizeHistogram } from "../replay/histogram.ts";
import { MtraceError, parseMtrace } from "../replay/mtrace.ts";
import { type RunFigures, runFigures } from "./figures.ts";
import { type FlagSpec, UsageError, parseFlags } from "./flags.ts";
import { hostEnv, machineFlag } from "./host.ts";

export const REPLAY_USAGE = `usage: nozero replay [--touch all|ends|none] [--runs N] [--policy ${ZERO_POLICIES.join("|")}]
                     [--machine ${MACHINE_NAMES.join("|")}|FILE.json] [--user NAME] [--mem MiB] [--json] TRACE
  Replay a glibc mtrace log (TRACE, or TRACE.gz) through our malloc, without
  and with MALLOC_NOZERO=1, as USER (default alice). --touch says how much of
  each block the replay writes (default all: every byte, as a program that
  fills what it allocates). Each machine runs the replay N times in a row
  (default 3), as a program run again and again; the figures are the sum.
  Record a trace with tools/mtrace/record.sh.
`;

const SPEC: FlagSpec = {
  touch: { kind: "string", values: ["all", "ends", "none"] },
  runs: { kind: "int" },
  policy: { kind: "string", values: ZERO_POLICIES },
  machine: { kind: "string" },
  user: { kind: "string" },
  mem: { kind: "int" },
  json: { kind: "bool" },
};

/** A trace file that cannot be read or parsed: exit 2, no usage text. */
export class TraceError extends Error {}

export interface ReplayRun extends RunFigures {
  exitCode: number;
  stdout: string;
  stderr: string;
  maxRssKiB: number;
}

export interface ReplayResult {
  trace: string;
  lines: number;
  operations: number;
  mallocs: number;
  frees: number;
  reallocs: number;
  unmatchedFrees: number;
  failedInTrace: number;
  peakLiveBytes: number;
  leakedBlocks: number;
  /** Requests (malloc, realloc) by power-of-two size class. */
  histogram: SizeClass[];
  touch: string;
  runs: number;
  policy: ZeroPolicyName;
  machine: string;
  user: string;
  stock: ReplayRun;
  nozero: ReplayRun;
  /** Change in simulated time from stock to MALLOC_NOZERO=1, percent (negative: faster). */
  deltaPct: number;
  wallSeconds: number;
}

export interface ReplayOptions {
  touch?: "all" | "ends" | "none";
  /** Replays in a row in each machine (default 3); the figures are their sum. */
  runs?: number;
  policy?: ZeroPolicyName;
  machine?: string | MachineProfile;
  user?: string;
  memMiB?: number;
  /** The environment both runs start from (MALLOC_NOZERO settings are replaced). */
  env?: string[];
}

/** The text of a trace file; .gz is decompressed. */
export function readTrace(path: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
    if (path.endsWith(".gz")) bytes = gunzipSync(bytes);
  } catch (e) {
    throw new TraceError(`${path}: ${(e as Error).message}`);
  }
  return bytes.toString("latin1");
}

/** Replay `text` (the trace named `name`) stock and with MALLOC_NOZERO=1. */
export function runReplay(name: string, text: string, opts: ReplayOptions = {}): ReplayResult {
  const wall = performance.now();
  let ops;
  try {
    ops = parseMtrace(text);
  } catch (e) {
    if (e instanceof MtraceError) throw new TraceError(`${name}:${e.line}: ${e.detail}`);
    throw e;
  }
  const touch = opts.touch ?? "all";
  const runs = opts.runs ?? 3;
  const policy = opts.policy ?? "nozero";
  const profile = resolveMachine(opts.machine ?? "host");
  const user = USERS.find((u) => u.name === (opts.user ?? "alice"));
  if (user === undefined) throw new RangeError(`unknown user ${opts.user}`);
  const base = (opts.env ?? ["PATH=/bin"])
    .filter((e) => !e.startsWith("MALLOC_NOZERO=") && !/^GLIBC_TUNABLES=.*glibc\.malloc\.nozero=/.test(e))
    .map((e) => (e.startsWith("HOME=") ? `HOME=${user.home}` : e));
  const file = `${user.home}/${basename(name).replace(/\.gz$/, "")}`;

  // The runs follow each other in one machine, as a program run again and
  // again (cc1 in a build): later runs can get frames the earlier ones freed.
  const once = (nozero: boolean): ReplayRun => {
    const m = new Machine({ policy, machine: profile, memMiB: opts.memMiB ?? 256 });
    m.k.vfs.writeFile(file, Buffer.from(text, "latin1"), 0o644, user.uid, user.uid);
    const env = nozero ? [...base, "MALLOC_NOZERO=1"] : base;
    const counters = new Counters();
    const out = { exitCode: 0, stdout: "", stderr: "", simulatedSeconds: 0, minflt: 0, maxRssKiB: 0 };
    for (let i = 0; i < runs && out.exitCode === 0; i++) {
      const r = m.run(["mtrace-replay", "-t", touch, file], { uid: user.uid, gid: user.uid, env });
      counters.merge(r.counters);
      out.exitCode = r.exitCode;
      out.stdout += r.stdout;
      out.stderr += r.stderr;
      out.simulatedSeconds += r.simulatedSeconds;
      out.minflt += r.minflt;
      out.maxRssKiB = Math.max(out.maxRssKiB, r.maxRssKiB);
    }
    return { ...out, ...runFigures({ ...out, counters, profile: price(counters, profile, m.k.symbols) }, profile, 10) };
  };
  const stock = once(false);
  const nozero = once(true);
  return {
    trace: name,
    lines: ops.lines,
    operations: ops.count,
    mallocs: ops.mallocs,
    frees: ops.frees,
    reallocs: ops.reallocs,
    unmatchedFrees: ops.unmatched,
    failedInTrace: ops.failed,
    peakLiveBytes: ops.peakLiveBytes,
    leakedBlocks: ops.leaked,
    histogram: sizeHistogram(ops),
    touch,
    runs,
    policy,
    machine: profile.name,
    user: user.name,
    stock,
    nozero,
    deltaPct: stock.simulatedSeconds > 0 ? (100 * (nozero.simulatedSeconds - stock.simulatedSeconds)) / stock.simulatedSeconds : 0,
    wallSeconds: (performance.now() - wall) / 1000,
  };
}

export async function cmdReplay(args: string[]): Promise<number> {
  const { flags, rest } = parseFlags(args, SPEC, false);
  if (rest.length !== 1) throw new UsageError(rest.length === 0 ? "missing TRACE" : `unexpected argument '${rest[1]}'`);
  const userName = (flags.user as string | undefined) ?? "alice";
  if (!USERS.some((u) => u.name === userName)) throw new UsageError(`unknown user ${userName} (${USERS.map((u) => u.name).join(", ")})`);
  if (flags.runs === 0) throw new UsageError("--runs must be at least 1");
  if (flags.mem === 0) throw new UsageError("--mem must be at least 1");
  const machine = machineFlag(flags.machine as string | undefined);
  let r: ReplayResult;
  try {
    r = runReplay(rest[0], readTrace(rest[0]), {
      touch: flags.touch as ReplayOptions["touch"],
      runs: flags.runs as number | undefined,
      policy: flags.policy as ZeroPolicyName | undefined,
      machine,
      user: userName,
      memMiB: flags.mem as number | undefined,
      env: hostEnv(),
    });
  } catch (e) {
    if (!(e instanceof TraceError)) throw e;
    process.stderr.write(`nozero replay: ${e.message}\n`);
    return 2;
  }
  const status = r.stock.exitCode !== 0 ? r.stock.exitCode : r.nozero.exitCode;
  if (flags.json) {
    process.stdout.write(JSON.stringify(r, null, 2) + "\n");
    return status;
  }
  process.stderr.write(r.stock.stderr + r.nozero.stderr);
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  const row = (label: string, f: (x: ReplayRun) => string) => `  ${label.padEnd(22)}${f(r.stock).padStart(16)}${f(r.nozero).padStart(18)}`;
  const lines = [
    `nozero replay: ${r.trace}: ${r.operations} operations (${r.mallocs} malloc, ${r.frees} free, ${r.reallocs} realloc) from ${r.lines} lines`,
    `  peak live ${r.peakLiveBytes} bytes; ${r.leakedBlocks} blocks never freed; ${r.unmatchedFrees} frees of blocks from before the trace`,
    `  request sizes: ${formatHistogram(r.histogram)}`,
    `  ${r.runs} run(s) per machine, touch ${r.touch}, policy ${r.policy}, machine ${r.machine}, user ${r.user}`,
    "",
    `  ${"".padEnd(22)}${"stock".padStart(16)}${"MALLOC_NOZERO=1".padStart(18)}`,
    row("exit", (x) => String(x.exitCode)),
    row("simulated seconds", (x) => x.simulatedSeconds.toFixed(6)),
    row("cycles", (x) => x.cycles.toExponential(4)),
    row("minor faults", (x) => String(x.minflt)),
    row("clear_page cycles", (x) => x.clearPageCycles.toExponential(4)),
    row("clear_page share", (x) => `${pct(x.clearPageShare)} (#${x.clearPageRank || "-"})`),
    row("max RSS KiB", (x) => String(x.maxRssKiB)),
    `  change in simulated time with MALLOC_NOZERO=1: ${r.deltaPct >= 0 ? "+" : ""}${r.deltaPct.toFixed(2)}%`,
    "",
  ];
  process.stdout.write(lines.join("\n") + "\n");
  const top = (x: ReplayRun) => formatOpreport({ kernelCycles: 0, userCycles: 0, totalCycles: x.cycles, symbols: x.profile.map((p) => ({ image: p.image, symbol: p.symbol, cycles: p.cycles })) }, machine, 8);
  process.stdout.write(`profile, stock:\n${top(r.stock)}\n\nprofile, MALLOC_NOZERO=1:\n${top(r.nozero)}\n`);
  return status;
}
