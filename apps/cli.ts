// nozero: the command line. `nozero COMMAND [FLAGS] ...`; bad flags print the
// command's usage and exit 2.

import { CALIBRATE_USAGE, cmdCalibrate } from "./cmd/calibrate.ts";
import { COMPARE_USAGE, cmdCompare } from "./cmd/compare.ts";
import { EBIZZY_USAGE, cmdEbizzy } from "./cmd/ebizzy.ts";
import { RUN_USAGE, cmdRun } from "./cmd/run.ts";
import { UsageError } from "./cmd/flags.ts";
import { GENTREE_USAGE, cmdGenTree } from "./cmd/gentree.ts";
import { BUILD_USAGE, cmdBuild } from "./cmd/build.ts";
import { REPLAY_USAGE, cmdReplay } from "./cmd/replay.ts";

interface Command {
  usage: string;
  run(args: string[]): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  compare: { usage: COMPARE_USAGE, run: cmdCompare },
  run: { usage: RUN_USAGE, run: cmdRun },
  ebizzy: { usage: EBIZZY_USAGE, run: cmdEbizzy },
  calibrate: { usage: CALIBRATE_USAGE, run: cmdCalibrate },
  "gen-tree": { usage: GENTREE_USAGE, run: cmdGenTree },
  build: { usage: BUILD_USAGE, run: cmdBuild },
  replay: { usage: REPLAY_USAGE, run: cmdReplay },
};

const USAGE = `usage: nozero COMMAND [FLAGS] [ARGS...]
commands:
  compare   the experiment: the 2007 table and every zeroing strategy (npm start)
  run       run one program in a fresh emulated machine
  ebizzy    run ebizzy in a fresh machine and show the profile
  calibrate measure this machine and write a cost profile (--machine FILE.json)
  gen-tree  write a generated kernel-like C source tree to a host directory
  build     build a generated tree with make -j, cc, cc1, as and ld in a machine
  replay    replay a glibc mtrace log through our malloc, stock and MALLOC_NOZERO=1
  help      this text
`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === "help" || name === "--help") {
    process.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  const cmd = COMMANDS[name];
  if (cmd === undefined) {
    process.stderr.write(`nozero: unknown command '${name}'\n${USAGE}`);
    return 2;
  }
  try {
    return await cmd.run(args);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`nozero ${name}: ${e.message}\n${cmd.usage}`);
      return 2;
    }
    throw e;
  }
}

// `nozero ... | head` closes the pipe early: stop quietly, as a C program killed by SIGPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
    process.exit(141);
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`nozero: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 70;
  },
);
