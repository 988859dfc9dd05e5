// A booted emulated machine with nozero's programs installed, and a way to
// run one command in it as a user: the engine behind `nozero run`, the
// experiments and the end-to-end tests.

import { type ConsoleSink, CapturedConsole } from "../kernel/console.ts";
import { minorFaults } from "../kernel/sys_proc.ts";
import { Counters } from "../kernel/cost/events.ts";
import { readFileSync } from "node:fs";
import { MACHINES, type MachineProfile, isMachineProfile } from "../kernel/cost/machines.ts";
import { type Priced, price } from "../kernel/cost/price.ts";
import { programFile } from "../kernel/exec.ts";
import { Kernel } from "../kernel/kernel.ts";
import { runInit } from "../kernel/process.ts";
import { type Task, credFor } from "../kernel/task.ts";
import type { ZeroPolicyName } from "../kernel/zero_policy.ts";
import { type Main, crt0 } from "../libc/libc.ts";
import { PROGRAMS, type ProgramSpec } from "./registry.ts";

/**
 * A machine profile by name (host, opteron-2007) or from a file written by
 * `nozero calibrate`; a RangeError says what is wrong.
 */
export function resolveMachine(nameOrFile: string | MachineProfile): MachineProfile {
  if (typeof nameOrFile !== "string") return nameOrFile;
  const named = MACHINES[nameOrFile];
  if (named !== undefined) return named;
  if (!nameOrFile.endsWith(".json")) throw new RangeError(`unknown machine profile '${nameOrFile}' (host, opteron-2007, or a FILE.json from nozero calibrate)`);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(nameOrFile, "utf8"));
  } catch (e) {
    throw new RangeError(`cannot read machine profile ${nameOrFile}: ${(e as Error).message}`);
  }
  const prof = (data as { profile?: unknown }).profile ?? data;
  if (!isMachineProfile(prof)) throw new RangeError(`${nameOrFile} is not a machine profile`);
  return prof;
}

export interface MachineOptions {
  memMiB?: number;
  cpus?: number;
  policy?: ZeroPolicyName;
  machine?: string | MachineProfile;
  poison?: boolean;
  seed?: number;
  console?: ConsoleSink;
  strace?: (line: string, pid: number) => void;
  /** Record every run segment (kernel segmentLog) for trace export. */
  traceSegments?: boolean;
}

export interface RunResult {
  /** The command's exit code as a shell reports it (128+signal for a signal). */
  exitCode: number;
  /** The signal that ended the command, or 0. */
  signal: number;
  stdout: string;
  stderr: string;
  /** All cycles the machine's tasks used, and the elapsed simulated time. */
  cycles: number;
  simulatedSeconds: number;
  minflt: number;
  counters: Counters;
  profile: Priced;
  /** The work of each program (by command name), for per-program profiles. */
  byProgram: Map<string, Counters>;
  /** Peak resident set of any process of the run, in KiB (ru_maxrss). */
  maxRssKiB: number;
  /** Processes the run created and reaped (init included). */
  processes: number;
  /** The run's segments on the simulated CPUs (when the machine records them). */
  segments: { pid: number; comm: string; cpu: number; start: number; stop: number }[];
}

export class Machine {
  readonly k: Kernel;
  private readonly captured: CapturedConsole | null;

  constructor(readonly opts: MachineOptions = {}) {
    const machine = resolveMachine(opts.machine ?? "host");
    this.captured = opts.console ? null : new CapturedConsole();
    this.k = new Kernel({
      memBytes: (opts.memMiB ?? 256) << 20,
      cpus: opts.cpus ?? 2,
      policy: opts.policy ?? "nozero",
      machine,
      poison: opts.poison,
      seed: opts.seed,
      console: opts.console ?? this.captured!,
    });
    if (opts.strace) this.k.strace = opts.strace;
    if (opts.traceSegments) this.k.segmentLog = [];
    for (const [name, spec] of Object.entries(PROGRAMS)) this.install(name, spec);
  }

  /** Write files (paths relative to dir) into the machine, owned by uid, creating their directories. */
  writeFiles(dir: string, files: readonly { path: string; text: string }[], uid = 0): void {
    this.k.vfs.mkdirs(dir, 0o755, uid, uid);
    for (const f of files) {
      const path = `${dir}/${f.path}`;
      this.k.vfs.mkdirs(path.slice(0, path.lastIndexOf("/")), 0o755, uid, uid);
      this.k.vfs.writeFile(path, f.text, 0o644, uid, uid);
    }
  }

  /** Whether root sees a file at path. */
  has(path: string): boolean {
    return typeof this.k.vfs.lookup(path, "/", credFor(0)) !== "number";
  }

  /** A file's bytes as root reads them, or null when there is no such file. */
  readFile(path: string): Uint8Array | null {
    const ino = this.k.vfs.lookup(path, "/", credFor(0));
    if (typeof ino === "number") return null;
    if (ino.source === null) return ino.data.subarray(0, ino.size);
    const bytes = new Uint8Array(ino.source.size);
    return bytes.subarray(0, ino.source.readAt(0, bytes));
  }

  /** Install a program as /bin/NAME (or at spec.path), optionally setuid to its owner. */
  install(name: string, spec: ProgramSpec | Main): void {
    const s: ProgramSpec = typeof spec === "function" ? { main: spec } : spec;
    const path = s.path ?? `/bin/${name}`;
    const mode = (s.setuid ? 0o4000 : 0) | (s.mode ?? 0o755);
    this.k.vfs.writeFile(path, programFile(name), mode, s.owner ?? 0, s.owner ?? 0);
    this.k.programs.set(name, { entry: crt0(s.main, name), textBytes: s.textBytes, dataBytes: s.dataBytes });
  }

  /**
   * Run argv as uid (default root) with env, through a fresh init. Runs on
   * one machine follow each other: frames freed by one are on the free lists
   * for the next. The result covers this run only.
   */
  run(argv: string[], opts: { uid?: number; gid?: number; env?: string[] } = {}): RunResult {
    const uid = opts.uid ?? 0;
    const env = opts.env ?? ["PATH=/bin", "HOME=/root"];
    const k = this.k;
    const mark = this.captured?.mark() ?? 0;
    const before = new Counters();
    before.merge(k.totals);
    before.merge(k.idleCounters);
    const startCycle = k.timeline.end;
    const segStart = k.segmentLog?.length ?? 0;
    const byProgram = new Map<string, Counters>();
    let maxRss = 0;
    let processes = 0;
    const listen = (t: Task) => {
      let c = byProgram.get(t.comm);
      if (c === undefined) byProgram.set(t.comm, (c = new Counters()));
      c.merge(t.counters);
      maxRss = Math.max(maxRss, t.maxRss);
      if (t.isThreadLeader) processes++;
    };
    k.reapListeners.push(listen);
    const st = runInit(k, "/sbin/init", ["init", String(uid), String(opts.gid ?? uid), ...argv], env);
    k.reapListeners.splice(k.reapListeners.indexOf(listen), 1);
    let stderr = this.captured?.text("stderr", mark) ?? "";
    let exitCode: number;
    let signal = 0;
    if (typeof st === "string") {
      stderr += `nozero: ${st}\n`;
      exitCode = 127;
    } else {
      exitCode = (st >> 8) & 0xff;
      if (st & 0x7f) {
        signal = st & 0x7f;
        exitCode = 128 + signal;
      }
      // init reports the command's own signal as 128+sig.
      if (exitCode > 128 && signal === 0) signal = exitCode - 128;
    }
    const counters = new Counters();
    counters.merge(k.totals);
    counters.merge(k.idleCounters);
    counters.subtract(before);
    const profile = price(counters, k.machine, k.symbols);
    return {
      exitCode,
      signal,
      stdout: this.captured?.text("stdout", mark) ?? "",
      stderr,
      cycles: profile.totalCycles,
      simulatedSeconds: (k.timeline.end - startCycle) / k.machine.hz,
      minflt: minorFaults(counters),
      counters,
      profile,
      byProgram,
      maxRssKiB: maxRss * 4,
      processes,
      segments: k.segmentLog?.slice(segStart) ?? [],
    };
  }
}
