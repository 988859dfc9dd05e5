// /bin/kill: send a signal to processes (procps kill).
//
//   kill [-SIGNAL | -s SIGNAL | -n NUMBER] [--] PID...
//   kill -l [SIGNAL]   list signal names, or translate one (name <-> number)
//   kill -L            the same as a table
//
// SIGNAL is a name (KILL, SIGKILL, any case) or a number; the default is
// TERM. Each PID is signalled in turn; a failure is reported as
// "kill: (PID): No such process" and makes the status 1.

import { strerror } from "../../kernel/errno.ts";
import type { Libc } from "../../libc/libc.ts";

/** Linux i386 signal names, by number. */
const NAMES = [
  "", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM",
  "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH",
  "POLL", "PWR", "SYS",
];
const ALIASES: Record<string, number> = { IOT: 6, CLD: 17, IO: 29 };

/** A signal spec (name with or without SIG, or number) as a number; -1 if unknown. */
export function parseSignal(spec: string): number {
  if (/^[0-9]+$/.test(spec)) {
    const n = Number(spec);
    return n <= 64 ? n : -1;
  }
  let name = spec.toUpperCase();
  if (name.startsWith("SIG")) name = name.slice(3);
  const i = NAMES.indexOf(name);
  if (i > 0) return i;
  return ALIASES[name] ?? -1;
}

function usage(libc: Libc): number {
  libc.eprintf(
    "\nUsage:\n kill [options] <pid> [...]\n\nOptions:\n" +
      " <pid> [...]            send signal to every <pid> listed\n" +
      " -<signal>, -s, --signal <signal>\n" +
      "                        specify the <signal> to be sent\n" +
      " -l, --list=[<signal>]  list all signal names, or convert one to a name\n" +
      " -L, --table            list all signal names in a nice table\n",
  );
  return 1;
}

export default function main(argv: string[], _envp: string[], libc: Libc): number {
  let sig = 15;
  let i = 1;
  const a = argv[1];
  if (a === undefined) return usage(libc);
  if (a === "-l" || a === "--list" || a.startsWith("--list=")) {
    const spec = a.startsWith("--list=") ? a.slice(7) : argv[2];
    if (spec === undefined) {
      libc.printf("%s\n", NAMES.slice(1).join(" "));
      return 0;
    }
    const n = parseSignal(spec);
    if (n <= 0 || n >= NAMES.length) {
      libc.eprintf("kill: unknown signal name %s\n", spec);
      return 1;
    }
    libc.printf("%s\n", /^[0-9]+$/.test(spec) ? NAMES[n] : String(n));
    return 0;
  }
  if (a === "-L" || a === "--table") {
    let line = "";
    for (let n = 1; n < NAMES.length; n++) {
      line += `${String(n).padStart(2)} ${NAMES[n].padEnd(8)}`;
      if (n % 7 === 0 || n === NAMES.length - 1) {
        libc.printf("%s\n", line.trimEnd());
        line = "";
      }
    }
    return 0;
  }
  if (a === "-s" || a === "--signal" || a === "-n") {
    const spec = argv[2];
    if (spec === undefined) return usage(libc);
    sig = parseSignal(spec);
    if (sig < 0) {
      libc.eprintf("kill: unknown signal name %s\n", spec);
      return 1;
    }
    i = 3;
  } else if (a.startsWith("-") && a !== "--" && a.length > 1) {
    sig = parseSignal(a.slice(1));
    if (sig < 0) {
      libc.eprintf("kill: unknown signal name %s\n", a.slice(1));
      return 1;
    }
    i = 2;
  }
  if (argv[i] === "--") i++;
  const pids = argv.slice(i);
  if (pids.length === 0) return usage(libc);
  let status = 0;
  for (const p of pids) {
    if (!/^-?[0-9]+$/.test(p)) {
      libc.eprintf("kill: failed to parse argument: '%s'\n", p);
      status = 1;
      continue;
    }
    if (libc.kill(Number(p), sig) < 0) {
      libc.eprintf("kill: (%s): %s\n", p, strerror(libc.errno));
      status = 1;
    }
  }
  return status;
}
