// nozero ebizzy: run ebizzy (with its own flags) in a fresh machine and show
// its output and the top of the profile; --json for the figures.

import { MACHINE_NAMES, type MachineProfile } from "../../kernel/cost/machines.ts";
import { formatOpreport } from "../../kernel/cost/oprofile.ts";
import { ZERO_POLICIES, type ZeroPolicyName } from "../../kernel/zero_policy.ts";
import { Machine } from "../machine.ts";
import { type RunFigures, runFigures } from "./figures.ts";
import { type FlagSpec, UsageError, parseFlags } from "./flags.ts";
import { hostEnv, machineFlag } from "./host.ts";

export const EBIZZY_USAGE = `usage: nozero ebizzy [EBIZZY FLAGS] [--policy ${ZERO_POLICIES.join("|")}]
                     [--machine ${MACHINE_NAMES.join("|")}|FILE.json] [--mem MiB] [--cpus N] [--json]
  EBIZZY FLAGS are ebizzy 0.3's (-m, -M, -n N, -s BYTES, -S SECONDS, -t N, -R, -l, -z, -p, -P, -T, -v)
  plus -N (MAP_NOZERO / malloc no-zero mode) and -r SEED; see \`nozero run ebizzy -h\`.
`;

const SPEC: FlagSpec = {
  policy: { kind: "string", values: ZERO_POLICIES },
  machine: { kind: "string" },
  mem: { kind: "int" },
  cpus: { kind: "int" },
  json: { kind: "bool" },
};

export interface EbizzyResult extends RunFigures {
  exitCode: number;
  stdout: string;
  stderr: string;
  recordsPerSecond: number;
  wallSeconds: number;
}

/** Run ebizzy with `args` on a fresh machine. */
export function runEbizzy(args: string[], o: { policy?: ZeroPolicyName; machine?: string | MachineProfile; memMiB?: number; cpus?: number; env?: string[] } = {}): EbizzyResult {
  const wall = performance.now();
  const m = new Machine({ policy: o.policy ?? "nozero", machine: o.machine ?? "host", memMiB: o.memMiB ?? 256, cpus: o.cpus ?? 2 });
  const r = m.run(["ebizzy", ...args], { env: o.env ?? ["PATH=/bin"] });
  const rps = /^(\d+) records\/s$/m.exec(r.stdout);
  return {
    exitCode: r.exitCode,
    stdout: r.stdout,
    stderr: r.stderr,
    recordsPerSecond: rps ? Number(rps[1]) : 0,
    ...runFigures(r, m.k.machine, 10),
    wallSeconds: (performance.now() - wall) / 1000,
  };
}

export async function cmdEbizzy(args: string[]): Promise<number> {
  // Our flags are --long; everything else goes to ebizzy.
  const ours = args.flatMap((a, i) => (a.startsWith("--") ? [i] : []));
  const mine: string[] = [];
  const theirs: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (ours.includes(i)) {
      mine.push(args[i]);
      const spec = SPEC[args[i].slice(2).split("=")[0]];
      if (spec && spec.kind !== "bool" && !args[i].includes("=") && i + 1 < args.length) mine.push(args[++i]);
    } else theirs.push(args[i]);
  }
  const { flags } = parseFlags(mine, SPEC);
  if (flags.cpus === 0) throw new UsageError("--cpus must be at least 1");
  const r = runEbizzy(theirs, {
    policy: flags.policy as ZeroPolicyName | undefined,
    machine: machineFlag(flags.machine as string | undefined),
    memMiB: flags.mem as number | undefined,
    cpus: flags.cpus as number | undefined,
    env: hostEnv(),
  });
  if (flags.json) {
    process.stdout.write(JSON.stringify(r, null, 2) + "\n");
  } else {
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    if (r.exitCode === 0) {
      process.stdout.write(`\nclear_page: ${(100 * r.clearPageShare).toFixed(2)}% of cycles (rank ${r.clearPageRank}); ${r.minflt} minor faults\n`);
      const m = machineFlag(flags.machine as string | undefined);
      process.stdout.write(formatOpreport({ kernelCycles: 0, userCycles: 0, totalCycles: r.cycles, symbols: r.profile.map((p) => ({ image: p.image, symbol: p.symbol, cycles: p.cycles })) }, m, 10) + "\n");
    }
  }
  return r.exitCode;
}
