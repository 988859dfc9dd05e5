// nozero replay: a real program's malloc trace (glibc's mtrace log or JSON
// lines, plain or gzip) replayed by mtrace-replay in two fresh machines,
// stock glibc and MALLOC_NOZERO=1, as USER; the report puts the two side by
// side with the predicted saving. The trace is first scanned on the host, so
// a bad line is reported by number before anything runs; then each machine
// reads its decoded text on demand from the host file (a host-backed file of
// the emulated VFS: the same bytes whether the trace is gzip or not), so host
// memory follows the trace's live set, not its length.
// runReplay() is the engine for the tests.

import { basename } from "node:path";
import cliProgress from "cli-progress";
import { USERS } from "../../kernel/boot_fs.ts";
import { MACHINE_NAMES, type MachineProfile } from "../../kernel/cost/machines.ts";
import { formatOpreport } from "../../kernel/cost/oprofile.ts";
import { Counters } from "../../kernel/cost/events.ts";
import { price } from "../../kernel/cost/price.ts";
import { ZERO_POLICIES, type ZeroPolicyName } from "../../kernel/zero_policy.ts";
import { TOUCH_LIMITS, type TouchMode } from "../bin/mtrace-replay.ts";
import { Machine, resolveMachine } from "../machine.ts";
import { type SizeClass, formatHistogram } from "../replay/histogram.ts";
import { scanTraceFile } from "../replay/scan.ts";
import { DecodedTraceFile, TraceFileError } from "../replay/trace_file.ts";
import { OP_NAMES, type OpName, TraceError } from "../replay/trace_parser.ts";
import { type RunFigures, runFigures } from "./figures.ts";
import { type FlagSpec, UsageError, parseFlags } from "./flags.ts";
import { hostEnv, machineFlag } from "./host.ts";

const TOUCH_MODES = Object.keys(TOUCH_LIMITS) as TouchMode[];
const MAX_MEM_MIB = 1024;

export const REPLAY_USAGE = `usage: nozero replay [--policy ${ZERO_POLICIES.join("|")}] [--machine ${MACHINE_NAMES.join("|")}|FILE.json]
                     [--touch ${TOUCH_MODES.join("|")}] [--lenient] [--runs N] [--user NAME] [--mem MiB] [--json] TRACE
  Replay a malloc trace (glibc's mtrace log, or JSON lines; plain or gzip)
  through our malloc, without and with MALLOC_NOZERO=1, as USER (default
  alice), and report what page zeroing costs it and what NOZERO saves.
  --touch: what a block's owner writes: every byte (full, the default), its
  first page (head), or nothing. --lenient: count and skip lines that break
  the trace (a free of an address not live) instead of stopping. Each machine
  runs the replay N times in a row (default 3), as a program run again and
  again; the figures are the sum. --mem: the machine's memory (default 256,
  at most ${MAX_MEM_MIB}). Record a trace with tools/mtrace/record.sh.
`;

const SPEC: FlagSpec = {
  touch: { kind: "string", values: TOUCH_MODES },
  lenient: { kind: "bool" },
  runs: { kind: "int" },
  policy: { kind: "string", values: ZERO_POLICIES },
  machine: { kind: "string" },
  user: { kind: "string" },
  mem: { kind: "int" },
  json: { kind: "bool" },
};

/** A trace that cannot be read, breaks its own logic, or does not fit the machine: exit 1, no usage text. */
export class ReplayError extends Error {}

export interface ReplayRun extends RunFigures {
  exitCode: number;
  stdout: string;
  stderr: string;
  maxRssKiB: number;
  /** The most malloc held from the kernel in one replay: heap (brk or brk2) and mmap'd chunks. */
  heapBytes: number;
  mmapBytes: number;
}

export interface ReplayResult {
  trace: string;
  format: string;
  lines: number;
  opsTotal: number;
  ops: Record<OpName, number>;
  failedInTrace: number;
  skippedLines: number;
  peakLiveBytes: number;
  peakLiveBlocks: number;
  liveAtEndBlocks: number;
  liveAtEndBytes: number;
  /** Requests (malloc, calloc, memalign, realloc) by power-of-two size class. */
  histogram: SizeClass[];
  touch: TouchMode;
  lenient: boolean;
  runs: number;
  policy: ZeroPolicyName;
  machine: string;
  user: string;
  memMiB: number;
  stock: ReplayRun;
  nozero: ReplayRun;
  /** Change in simulated time from stock to MALLOC_NOZERO=1, percent (negative: faster). */
  deltaPct: number;
  /** clear_page cycles MALLOC_NOZERO=1 saves, and that as a share of the stock run's cycles. */
  clearPageCyclesSaved: number;
  clearPageSavedShare: number;
  wallSeconds: number;
}

export interface ReplayOptions {
  touch?: TouchMode;
  lenient?: boolean;
  /** Replays in a row in each machine (default 3); the figures are their sum. */
  runs?: number;
  policy?: ZeroPolicyName;
  machine?: string | MachineProfile;
  user?: string;
  memMiB?: number;
  /** The environment both runs start from (MALLOC_NOZERO settings are replaced). */
  env?: string[];
  /** Progress: bytes of the trace file consumed so far out of the total the replay will read. */
  onProgress?: (done: number, total: number) => void;
}

const PEAKS = /^from the kernel at most: heap (\d+) bytes, mmap (\d+) bytes$/gm;

/** Replay the trace file at `path` stock and with MALLOC_NOZERO=1. Throws ReplayError for a bad trace. */
export function runReplay(path: string, opts: ReplayOptions = {}): ReplayResult {
  const wall = performance.now();
  const touch = opts.touch ?? "full";
  const lenient = opts.lenient ?? false;
  const runs = opts.runs ?? 3;
  const policy = opts.policy ?? "nozero";
  const memMiB = opts.memMiB ?? 256;
  const profile = resolveMachine(opts.machine ?? "host");
  const user = USERS.find((u) => u.name === (opts.user ?? "alice"));
  if (user === undefined) throw new RangeError(`unknown user ${opts.user}`);
  const passes = 1 + 2 * runs;
  let pass = 0;
  const progress = (done: number, size: number): void => opts.onProgress?.(pass * size + done, passes * size);

  let scan;
  try {
    scan = scanTraceFile(path, { lenient, touchLimit: TOUCH_LIMITS[touch] }, progress);
  } catch (e) {
    if (e instanceof TraceError) throw new ReplayError(`${path}:${e.line}: ${e.detail}${lenient ? "" : " (--lenient skips such lines)"}`);
    if (e instanceof TraceFileError) throw new ReplayError(`${path}${e.line > 0 ? `:${e.line}` : ""}: ${e.detail}`);
    throw e;
  }
  const outOfMemory = (line: number, why: string): ReplayError =>
    new ReplayError(
      `${path}:${line}: out of memory: ${why}; the trace's blocks, written as --touch ${touch} writes them, reach ${scan.peakTouchedBytes} bytes live on this line, and the emulated machine has ${memMiB} MiB (try --mem or --touch ${touch === "full" ? "head" : "none"})`,
    );
  if (scan.peakTouchedBytes > memMiB * 2 ** 20) throw outOfMemory(scan.peakTouchedLine, "the replay cannot fit");

  const base = (opts.env ?? ["PATH=/bin"])
    .filter((e) => !e.startsWith("MALLOC_NOZERO=") && !/^GLIBC_TUNABLES=.*glibc\.malloc\.nozero=/.test(e))
    .map((e) => (e.startsWith("HOME=") ? `HOME=${user.home}` : e));
  const file = `${user.home}/${basename(path).replace(/\.gz$/, "")}`;
  const argv = ["mtrace-replay", "-t", touch, ...(lenient ? ["-l"] : []), file];

  // The runs follow each other in one machine, as a program run again and
  // again (cc1 in a build): later runs can get frames the earlier ones freed.
  const once = (nozero: boolean): ReplayRun => {
    const m = new Machine({ policy, machine: profile, memMiB });
    const env = nozero ? [...base, "MALLOC_NOZERO=1"] : base;
    const counters = new Counters();
    const out = { exitCode: 0, stdout: "", stderr: "", simulatedSeconds: 0, minflt: 0, maxRssKiB: 0, heapBytes: 0, mmapBytes: 0 };
    for (let i = 0; i < runs; i++, pass++) {
      const src = new DecodedTraceFile(path, scan.bytes, progress);
      m.k.vfs.hostFile(file, src, 0o444, user.uid, user.uid);
      let r;
      try {
        r = m.run(argv, { uid: user.uid, gid: user.uid, env });
      } finally {
        src.close();
      }
      counters.merge(r.counters);
      out.exitCode = r.exitCode;
      out.stdout += r.stdout;
      out.stderr += r.stderr;
      out.simulatedSeconds += r.simulatedSeconds;
      out.minflt += r.minflt;
      out.maxRssKiB = Math.max(out.maxRssKiB, r.maxRssKiB);
      for (const p of r.stdout.matchAll(PEAKS)) {
        out.heapBytes = Math.max(out.heapBytes, Number(p[1]));
        out.mmapBytes = Math.max(out.mmapBytes, Number(p[2]));
      }
      if (r.exitCode === 0) continue;
      const killed = m.k.logLines.some((l) => l.startsWith("Out of memory: Killed process"));
      if (killed) throw outOfMemory(scan.peakTouchedLine, `the OOM killer ended the replay${nozero ? " (MALLOC_NOZERO=1)" : ""}`);
      const said = r.stderr.match(/^mtrace-replay: [^\n]*?:(\d+): (.*)$/m);
      if (said !== null) throw new ReplayError(`${path}:${said[1]}: ${said[2]}${nozero ? " (MALLOC_NOZERO=1)" : ""}`);
      throw new ReplayError(`${path}: the replay failed (exit ${r.exitCode}${nozero ? ", MALLOC_NOZERO=1" : ""}): ${r.stderr.trim()}`);
    }
    return { ...out, ...runFigures({ ...out, counters, profile: price(counters, profile, m.k.symbols) }, profile, 10) };
  };
  const stock = once(false);
  const nozero = once(true);
  const saved = stock.clearPageCycles - nozero.clearPageCycles;
  return {
    trace: path,
    format: scan.format,
    lines: scan.lines,
    opsTotal: scan.opsTotal,
    ops: scan.ops,
    failedInTrace: scan.failedInTrace,
    skippedLines: scan.skipped,
    peakLiveBytes: scan.peakLiveBytes,
    peakLiveBlocks: scan.peakLiveBlocks,
    liveAtEndBlocks: scan.liveAtEndBlocks,
    liveAtEndBytes: scan.liveAtEndBytes,
    histogram: scan.histogram.classes(),
    touch,
    lenient,
    runs,
    policy,
    machine: profile.name,
    user: user.name,
    memMiB,
    stock,
    nozero,
    deltaPct: stock.simulatedSeconds > 0 ? (100 * (nozero.simulatedSeconds - stock.simulatedSeconds)) / stock.simulatedSeconds : 0,
    clearPageCyclesSaved: saved,
    clearPageSavedShare: stock.cycles > 0 ? saved / stock.cycles : 0,
    wallSeconds: (performance.now() - wall) / 1000,
  };
}

function report(r: ReplayResult, machine: MachineProfile): string {
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  const row = (label: string, f: (x: ReplayRun) => string) => `  ${label.padEnd(24)}${f(r.stock).padStart(16)}${f(r.nozero).padStart(18)}`;
  const top = (x: ReplayRun) =>
    formatOpreport({ kernelCycles: 0, userCycles: 0, totalCycles: x.cycles, symbols: x.profile.map((p) => ({ image: p.image, symbol: p.symbol, cycles: p.cycles })) }, machine, 8);
  const lines = [
    `nozero replay: ${r.trace} (${r.format}, ${r.lines} lines): ${r.opsTotal} operations: ${OP_NAMES.map((k) => `${r.ops[k]} ${k}`).join(", ")}`,
    `  peak live ${r.peakLiveBytes} bytes in ${r.peakLiveBlocks} blocks; ${r.liveAtEndBlocks} blocks (${r.liveAtEndBytes} bytes) live at the end; ${r.failedInTrace} calls failed in the trace`,
    ...(r.lenient ? [`  --lenient: ${r.skippedLines} lines skipped`] : []),
    `  request sizes: ${formatHistogram(r.histogram)}`,
    `  ${r.runs} run(s) per machine, touch ${r.touch}, policy ${r.policy}, machine ${r.machine} with ${r.memMiB} MiB, user ${r.user}`,
    "",
    `  ${"".padEnd(24)}${"stock".padStart(16)}${"MALLOC_NOZERO=1".padStart(18)}`,
    row("exit", (x) => String(x.exitCode)),
    row("simulated seconds", (x) => x.simulatedSeconds.toFixed(6)),
    row("cycles", (x) => x.cycles.toExponential(4)),
    row("heap from the kernel", (x) => String(x.heapBytes)),
    row("mmap from the kernel", (x) => String(x.mmapBytes)),
    row("minor faults", (x) => String(x.minflt)),
    row("clear_page cycles", (x) => x.clearPageCycles.toExponential(4)),
    row("clear_page share", (x) => `${pct(x.clearPageShare)} (#${x.clearPageRank || "-"})`),
    row("max RSS KiB", (x) => String(x.maxRssKiB)),
    `  predicted saving with MALLOC_NOZERO=1: ${pct(r.clearPageSavedShare)} of cycles in clear_page; simulated time ${r.deltaPct >= 0 ? "+" : ""}${r.deltaPct.toFixed(2)}%`,
    "",
    `profile, stock:\n${top(r.stock)}\n\nprofile, MALLOC_NOZERO=1:\n${top(r.nozero)}`,
    "",
  ];
  return lines.join("\n");
}

export async function cmdReplay(args: string[]): Promise<number> {
  const { flags, rest } = parseFlags(args, SPEC, false);
  if (rest.length !== 1) throw new UsageError(rest.length === 0 ? "missing TRACE" : `unexpected argument '${rest[1]}'`);
  const userName = (flags.user as string | undefined) ?? "alice";
  if (!USERS.some((u) => u.name === userName)) throw new UsageError(`unknown user ${userName} (${USERS.map((u) => u.name).join(", ")})`);
  if (flags.runs === 0) throw new UsageError("--runs must be at least 1");
  const mem = flags.mem as number | undefined;
  if (mem !== undefined && (mem < 1 || mem > MAX_MEM_MIB)) throw new UsageError(`--mem must be 1 to ${MAX_MEM_MIB}`);
  const machine = machineFlag(flags.machine as string | undefined);
  const bar = process.stderr.isTTY === true ? new cliProgress.SingleBar({ format: "{bar} {percentage}% replay", clearOnComplete: true, stream: process.stderr }, cliProgress.Presets.shades_classic) : null;
  let r: ReplayResult;
  try {
    bar?.start(1, 0);
    r = runReplay(rest[0], {
      touch: flags.touch as TouchMode | undefined,
      lenient: flags.lenient === true,
      runs: flags.runs as number | undefined,
      policy: flags.policy as ZeroPolicyName | undefined,
      machine,
      user: userName,
      memMiB: mem,
      env: hostEnv(),
      onProgress: bar === null ? undefined : (done, total) => bar.update(done / total),
    });
  } catch (e) {
    if (!(e instanceof ReplayError)) throw e;
    bar?.stop();
    process.stderr.write(`nozero replay: ${e.message}\n`);
    return 1;
  }
  bar?.stop();
  if (flags.json) {
    process.stdout.write(JSON.stringify(r, null, 2) + "\n");
    return 0;
  }
  process.stdout.write(report(r, machine));
  return 0;
}
