// nozero run: boot a machine, run one program as a user, report.

import { pathToFileURL } from "node:url";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { MACHINE_NAMES } from "../../kernel/cost/machines.ts";
import { formatOpreport, profileRows } from "../../kernel/cost/oprofile.ts";
import { ZERO_POLICIES, type ZeroPolicyName } from "../../kernel/zero_policy.ts";
import type { Main } from "../../libc/libc.ts";
import { Machine } from "../machine.ts";
import { type FlagSpec, UsageError, parseFlags } from "./flags.ts";
import { HostFile, hostConsole, hostEnv, machineFlag } from "./host.ts";

export const RUN_USAGE = `usage: nozero run [--uid N|--user NAME] [--mem MiB] [--cpus N]
                  [--policy ${ZERO_POLICIES.join("|")}]
                  [--machine ${MACHINE_NAMES.join("|")}|FILE.json] [--strace] [--profile] [--json]
                  PROGRAM [ARGS...]
  PROGRAM is a program of the emulated system (sh, smiffy, ...), a path in it,
  a TypeScript module on the host (./prog.ts) whose default export is
  main(argv, envp, libc), or a host file with a / in its name (an NZX
  executable such as ./a.out, or a #! script), copied in at the same path.
  A later argument with a / that names a host file (a trace for
  mtrace-replay) is lent to the machine read-only at its absolute path,
  read on demand.
`;

const SPEC: FlagSpec = {
  uid: { kind: "int" },
  user: { kind: "string" },
  mem: { kind: "int" },
  cpus: { kind: "int" },
  policy: { kind: "string", values: ZERO_POLICIES },
  machine: { kind: "string" },
  strace: { kind: "bool" },
  profile: { kind: "bool" },
  json: { kind: "bool" },
  seed: { kind: "int" },
};

const USERS: Record<string, number> = { root: 0, alice: 1000, bob: 1001, mallory: 1002 };

export async function cmdRun(args: string[]): Promise<number> {
  const { flags, rest } = parseFlags(args, SPEC);
  if (rest.length === 0) throw new UsageError("missing PROGRAM");
  if (flags.uid !== undefined && flags.user !== undefined) throw new UsageError("--uid and --user exclude each other");
  let uid = (flags.uid as number | undefined) ?? 0;
  if (flags.user !== undefined) {
    const u = USERS[flags.user as string];
    if (u === undefined) throw new UsageError(`unknown user ${flags.user}`);
    uid = u;
  }
  if (flags.cpus === 0) throw new UsageError("--cpus must be at least 1");
  const json = flags.json === true;
  const strace: string[] = [];
  const wallStart = performance.now();
  const m = new Machine({
    memMiB: (flags.mem as number | undefined) ?? 256,
    cpus: (flags.cpus as number | undefined) ?? 2,
    policy: (flags.policy as ZeroPolicyName | undefined) ?? "nozero",
    machine: machineFlag(flags.machine as string | undefined),
    seed: flags.seed as number | undefined,
    console: json ? undefined : hostConsole(),
    strace: flags.strace ? (line, pid) => (json ? strace.push(`[pid ${pid}] ${line}`) : process.stderr.write(`[pid ${pid}] ${line}\n`)) : undefined,
  });
  if (/\.[cm]?[tj]s$/.test(rest[0])) await installHostProgram(m, rest[0]);
  else if (rest[0].includes("/") && existsSync(rest[0])) rest[0] = installHostFile(m, rest[0]);
  const lent = lendHostFiles(m, rest);
  let r;
  try {
    r = m.run(rest, { uid, env: hostEnv() });
  } finally {
    for (const f of lent) f.close();
  }
  const wallSeconds = (performance.now() - wallStart) / 1000;
  if (json) {
    const out: Record<string, unknown> = {
      exitCode: r.exitCode,
      signal: r.signal,
      stdout: r.stdout,
      stderr: r.stderr,
      cycles: r.cycles,
      simulatedSeconds: r.simulatedSeconds,
      minflt: r.minflt,
      wallSeconds,
    };
    if (flags.profile) out.profile = profileRows(r.profile, 20);
    if (flags.strace) out.strace = strace;
    process.stdout.write(JSON.stringify(out, null, 2) + "\n");
  } else if (flags.profile) {
    process.stderr.write(formatOpreport(r.profile, m.k.machine) + "\n");
  }
  return r.exitCode;
}

/** A host file (an NZX executable such as a.out, or a #! script) installed at the same path in the machine. */
function installHostFile(m: Machine, file: string): string {
  const path = resolve(file);
  m.k.vfs.mkdirs(dirname(path));
  m.k.vfs.writeFile(path, readFileSync(path), 0o755);
  return path;
}

/**
 * Arguments after the program that name host files (with a /) the machine
 * does not have: lent read-only at their absolute paths, the arguments
 * rewritten to them. The machine's own files (/etc/passwd) are never shadowed.
 */
function lendHostFiles(m: Machine, argv: string[]): HostFile[] {
  const lent: HostFile[] = [];
  for (let i = 1; i < argv.length; i++) {
    if (!argv[i].includes("/") || !existsSync(argv[i]) || !statSync(argv[i]).isFile()) continue;
    const path = resolve(argv[i]);
    if (m.has(path)) continue;
    const f = new HostFile(path);
    lent.push(f);
    m.k.vfs.mkdirs(dirname(path));
    m.k.vfs.hostFile(path, f);
    argv[i] = path;
  }
  return lent;
}

/** Load a host TypeScript module as a program and install it at the same path in the machine (cwd /). */
async function installHostProgram(m: Machine, file: string): Promise<void> {
  const mod = (await import(pathToFileURL(resolve(file)).href)) as { default?: Main };
  if (typeof mod.default !== "function") throw new UsageError(`${file}: no default export main(argv, envp, libc)`);
  const name = file.replace(/^.*\//, "").replace(/\.[cm]?[tj]s$/, "");
  const path = "/" + resolve("/", file).replace(/^\/+/, "");
  m.install(name, { main: mod.default, path });
}
