// /bin/sleep: pause for the sum of the given intervals (GNU coreutils sleep).
//
//   sleep NUMBER[SUFFIX]...     SUFFIX: s (seconds, the default), m, h, d
//
// Time is the machine's simulated time (nanosleep): the task leaves its CPU
// and other tasks run meanwhile.

import type { Libc } from "../../libc/libc.ts";

const UNIT: Record<string, number> = { "": 1, s: 1, m: 60, h: 3600, d: 86400 };

function usageError(libc: Libc, msg: string): number {
  libc.eprintf("sleep: %s\nTry 'sleep --help' for more information.\n", msg);
  return 1;
}

export default function main(argv: string[], _envp: string[], libc: Libc): number {
  let args = argv.slice(1);
  if (args[0] === "--") args = args.slice(1);
  if (args.length === 0) return usageError(libc, "missing operand");
  let total = 0;
  let bad = false;
  for (const a of args) {
    const m = /^(\+?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)([smhd]?)$/.exec(a);
    if (m === null) {
      if (/^-[^0-9.]/.test(a)) return usageError(libc, `invalid option -- '${a[1]}'`);
      libc.eprintf("sleep: invalid time interval '%s'\n", a);
      bad = true;
      continue;
    }
    total += Number(m[1]) * UNIT[m[2]];
  }
  if (bad) {
    libc.eprintf("Try 'sleep --help' for more information.\n");
    return 1;
  }
  // nanosleep takes whole seconds in a 32-bit word; longer sleeps go in steps.
  const STEP = 0x7fffffff;
  while (total > 0) {
    const s = Math.min(total, STEP);
    if (libc.sleep(s) < 0) return 1;
    total -= s;
  }
  return 0;
}
