// nozero build: the kernel-build experiment. A fresh machine gets a generated
// kernel-like tree in ~USER/src (owned by the user); `make -j J` builds it
// there as that user (make -> sh -> cc -> cc1, as; then ld), then ./prog
// runs. The report: the build's simulated time, processes, faults, the cost
// of clear_page, the profile, the program's output against the generator's
// checksum, and sha256 hashes of every object and the executable (which must
// not depend on the zeroing policy or MALLOC_NOZERO).
//
// The host environment passes through (MALLOC_NOZERO=1 nozero build is the
// patched run). runBuild() is the engine, for `nozero compare` and the tests.

import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { USERS } from "../../kernel/boot_fs.ts";
import { MACHINE_NAMES, type MachineProfile } from "../../kernel/cost/machines.ts";
import { formatOpreport } from "../../kernel/cost/oprofile.ts";
import { credFor } from "../../kernel/task.ts";
import type { Task } from "../../kernel/task.ts";
import type { Inode } from "../../kernel/vfs/inode.ts";
import { ZERO_POLICIES, type ZeroPolicyName } from "../../kernel/zero_policy.ts";
import { generateTree } from "../gentree/gentree.ts";
import { Machine, type RunResult, resolveMachine } from "../machine.ts";
import { type RunFigures, runFigures } from "./figures.ts";
import { type FlagSpec, UsageError, parseFlags } from "./flags.ts";
import { hostEnv, machineFlag } from "./host.ts";

export const BUILD_USAGE = `usage: nozero build [--files N] [--jobs J] [--seed S] [--policy ${ZERO_POLICIES.join("|")}]
                    [--machine ${MACHINE_NAMES.join("|")}] [--user NAME] [--cpus N] [--mem MiB]
                    [--header-lines N] [--out DIR] [--verbose] [--json]
  Generate a kernel-like tree (N .c files, default 60; seed default 1), build
  it with \`make -j J\` (default 2) as USER (default alice) in a fresh machine,
  run the program, and report the build's cost. MALLOC_NOZERO=1 in the
  environment makes it the patched (MAP_NOZERO) build. --header-lines sets
  about how long each file is once its headers are included (default 10000;
  kernel files are 10-40 k lines). --verbose shows make's output. --out
  copies the built tree (sources, .o files, prog) to the host directory DIR;
  \`nozero run DIR/prog\` runs the program again.
`;

const SPEC: FlagSpec = {
  files: { kind: "int" },
  jobs: { kind: "int" },
  seed: { kind: "int" },
  policy: { kind: "string", values: ZERO_POLICIES },
  machine: { kind: "string" },
  user: { kind: "string" },
  cpus: { kind: "int" },
  mem: { kind: "int" },
  "header-lines": { kind: "int" },
  verbose: { kind: "bool" },
  out: { kind: "string" },
  json: { kind: "bool" },
};

export interface BuildOptions {
  files?: number;
  jobs?: number;
  seed?: number;
  policy?: ZeroPolicyName;
  machine?: string | MachineProfile;
  user?: string;
  cpus?: number;
  memMiB?: number;
  /** The environment of the build (default: PATH=/bin and HOME). */
  env?: string[];
  /** Add MALLOC_NOZERO=1 to the environment (the patched build). */
  nozero?: boolean;
  /** Poison reused frames and freed chunks (differential tests). */
  poison?: boolean;
  /** Lines per file after preprocessing (gen-tree's headerLines). */
  headerLines?: number;
  /** Record the run's segments on the simulated CPUs (trace export). */
  traceSegments?: boolean;
  /** Copy the built tree (sources, objects, executable) to this host directory. */
  outDir?: string;
}

export interface BuildResult extends RunFigures {
  files: number;
  jobs: number;
  seed: number;
  policy: ZeroPolicyName;
  machine: string;
  user: string;
  nozeroEnv: boolean;
  /** make's exit code (0: built). */
  exitCode: number;
  makeStdout: string;
  makeStderr: string;
  /** The program's output and exit code, and what the generator says it prints. */
  programOutput: string;
  programExitCode: number;
  expectedChecksum: number;
  checksumOk: boolean;
  /** sha256 over every object file, the executable and the program's output. */
  outputHash: string;
  objectHashes: Record<string, string>;
  executableHash: string;
  /** Processes the build ran (forks), and by the program each last exec'd. */
  processes: number;
  processesByProgram: Record<string, number>;
  wallSeconds: number;
}

/** Build a generated tree in a fresh machine; the figures of the make run. */
export function runBuild(opts: BuildOptions = {}): BuildResult {
  return runBuildWithRun(opts).result;
}

/** runBuild, with the make run's own result (its counters and per-program work) for the experiment. */
export function runBuildWithRun(opts: BuildOptions = {}): { result: BuildResult; run: RunResult } {
  const wall = performance.now();
  const files = opts.files ?? 60;
  const jobs = opts.jobs ?? 2;
  const seed = opts.seed ?? 1;
  const policy = opts.policy ?? "nozero";
  const machineProfile = resolveMachine(opts.machine ?? "host");
  const machineName = machineProfile.name;
  const userName = opts.user ?? "alice";
  const user = USERS.find((u) => u.name === userName);
  if (user === undefined) throw new RangeError(`unknown user ${userName}`);
  const env = [...(opts.env ?? ["PATH=/bin", `HOME=${user.home}`])];
  if (opts.nozero && !env.includes("MALLOC_NOZERO=1")) env.push("MALLOC_NOZERO=1");
  const nozeroEnv = env.some((e) => e === "MALLOC_NOZERO=1" || /^GLIBC_TUNABLES=.*glibc\.malloc\.nozero=1/.test(e));

  const tree = generateTree({ files, seed, headerLines: opts.headerLines });
  const m = new Machine({ policy, machine: machineProfile, cpus: opts.cpus ?? 2, memMiB: opts.memMiB ?? 256, poison: opts.poison, seed, traceSegments: opts.traceSegments });
  const src = `${user.home}/src`;
  const uid = user.uid;
  m.writeFiles(src, tree.files, uid);

  // Count the processes by the program each ran last (host-side bookkeeping).
  const byProgram: Record<string, number> = {};
  const k = m.k;
  let counting = false;
  k.reapListeners.push((t: Task) => {
    // pid 1 is the harness's init, not part of the build.
    if (counting && t.isThreadLeader && t.pid !== 1) byProgram[t.comm] = (byProgram[t.comm] ?? 0) + 1;
  });
  counting = true;
  const r = m.run(["make", "-C", src, "-j", String(jobs)], { uid, gid: uid, env });
  counting = false;

  let programOutput = "";
  let programExitCode = -1;
  if (r.exitCode === 0) {
    const p = m.run([`${src}/${tree.program}`], { uid, gid: uid, env });
    programOutput = p.stdout;
    programExitCode = p.exitCode;
  }

  // Hashes of what the build produced.
  const whole = createHash("sha256");
  const objectHashes: Record<string, string> = {};
  for (const o of tree.objects) {
    const b = m.readFile(`${src}/${o}`);
    objectHashes[o] = b === null ? "missing" : sha256(b);
    whole.update(`${o}\0${b?.length ?? -1}\0`);
    if (b) whole.update(b);
  }
  const exe = m.readFile(`${src}/${tree.program}`);
  const executableHash = exe === null ? "missing" : sha256(exe);
  whole.update(`${tree.program}\0${exe?.length ?? -1}\0`);
  if (exe) whole.update(exe);
  whole.update(`output\0${programOutput}`);

  if (opts.outDir !== undefined) {
    const top = k.vfs.lookup(src, "/", credFor(0));
    if (typeof top !== "number") copyOut(k.vfs, top, opts.outDir);
  }

  const processes = Object.values(byProgram).reduce((a, b) => a + b, 0);
  const result: BuildResult = {
    files, jobs, seed, policy, machine: machineName, user: userName, nozeroEnv,
    exitCode: r.exitCode,
    makeStdout: r.stdout,
    makeStderr: r.stderr,
    programOutput,
    programExitCode,
    expectedChecksum: tree.expectedChecksum,
    checksumOk: programOutput === tree.expectedOutput,
    outputHash: whole.digest("hex"),
    objectHashes,
    executableHash,
    ...runFigures(r, machineProfile, 15),
    processes,
    processesByProgram: byProgram,
    wallSeconds: (performance.now() - wall) / 1000,
  };
  return { result, run: r };
}

/** Copy a directory of the machine to the host, keeping the execute bits. */
function copyOut(vfs: Machine["k"]["vfs"], dir: Inode, hostDir: string): void {
  mkdirSync(hostDir, { recursive: true });
  for (const name of vfs.list(dir).slice(2)) {
    const ino = vfs.child(dir, name)!;
    const to = join(hostDir, name);
    if (ino.isDir) copyOut(vfs, ino, to);
    else writeFileSync(to, ino.data.subarray(0, ino.size), { mode: ino.mode & 0o777 });
  }
}

function sha256(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

export async function cmdBuild(args: string[]): Promise<number> {
  const { flags, rest } = parseFlags(args, SPEC, false);
  if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}'`);
  const files = (flags.files as number | undefined) ?? 60;
  if (files < 3) throw new UsageError("--files must be at least 3 (init/main.c and lib/print.c are two of them)");
  if (flags.jobs === 0) throw new UsageError("--jobs must be at least 1");
  if (flags.cpus === 0) throw new UsageError("--cpus must be at least 1");
  const userName = (flags.user as string | undefined) ?? "alice";
  if (!USERS.some((u) => u.name === userName)) throw new UsageError(`unknown user ${userName} (${USERS.map((u) => u.name).join(", ")})`);
  const user = USERS.find((u) => u.name === userName)!;
  const env = hostEnv().map((e) => (e.startsWith("HOME=") ? `HOME=${user.home}` : e));
  const r = runBuild({
    files,
    jobs: flags.jobs as number | undefined,
    seed: flags.seed as number | undefined,
    policy: flags.policy as ZeroPolicyName | undefined,
    machine: machineFlag(flags.machine as string | undefined),
    user: userName,
    cpus: flags.cpus as number | undefined,
    memMiB: flags.mem as number | undefined,
    headerLines: flags["header-lines"] as number | undefined,
    outDir: flags.out as string | undefined,
    env,
  });
  const status = r.exitCode !== 0 ? r.exitCode : r.checksumOk ? 0 : 1;
  if (flags.json) {
    const { makeStdout, makeStderr, ...rest } = r;
    const out = { ...rest, makeStderr: makeStderr.slice(-4000), ...(flags.verbose ? { makeStdout } : {}) };
    process.stdout.write(JSON.stringify(out, null, 2) + "\n");
    return status;
  }
  if (flags.verbose || r.exitCode !== 0) process.stdout.write(r.makeStdout);
  process.stderr.write(r.makeStderr);
  const m = machineFlag(flags.machine as string | undefined);
  const by = Object.entries(r.processesByProgram).sort((a, b) => b[1] - a[1]).map(([n, c]) => `${n} ${c}`).join(", ");
  const lines = [
    `nozero build: ${r.files} files, make -j ${r.jobs}, seed ${r.seed}, policy ${r.policy}${r.nozeroEnv ? " + MALLOC_NOZERO=1" : ""}, machine ${r.machine}, user ${r.user}`,
    `build:      ${r.simulatedSeconds.toFixed(4)} s simulated, ${r.wallSeconds.toFixed(2)} s wall; make exited ${r.exitCode}`,
    `processes:  ${r.processes} (${by})`,
    `faults:     ${r.minflt} minor`,
    `clear_page: ${(100 * r.clearPageShare).toFixed(2)}% of ${r.cycles.toExponential(3)} cycles (rank ${r.clearPageRank})`,
  ];
  if (r.exitCode === 0) {
    lines.push(`program:    ./prog printed ${JSON.stringify(r.programOutput.trim())}, expected ${r.expectedChecksum}: ${r.checksumOk ? "ok" : "MISMATCH"}`);
  }
  lines.push(`outputs:    sha256 ${r.outputHash} (${Object.keys(r.objectHashes).length} objects, prog ${r.executableHash.slice(0, 16)}...)`);
  process.stdout.write(lines.join("\n") + "\n\n");
  process.stdout.write(formatOpreport({ kernelCycles: 0, userCycles: 0, totalCycles: r.cycles, symbols: r.profile.map((p) => ({ image: p.image, symbol: p.symbol, cycles: p.cycles })) }, m, 15) + "\n");
  return status;
}
