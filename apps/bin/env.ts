// /bin/env: run a program in a modified environment (GNU coreutils env).
//
//   env [-i] [-u NAME]... [-] [NAME=VALUE]... [COMMAND [ARG]...]
//
// Without COMMAND, print the resulting environment, one NAME=VALUE a line.
// COMMAND is looked up on the PATH of the new environment, as execvp does.
// Exit status: 125 for env's own errors, 126 if COMMAND cannot be run, 127 if
// it is not found; otherwise COMMAND's (it replaces env).

import { strerror } from "../../kernel/errno.ts";
import type { Libc } from "../../libc/libc.ts";
import { findCommand } from "./path.ts";

const EACCES = 13;
const ENOENT = 2;

function usageError(libc: Libc, msg: string): number {
  libc.eprintf("env: %s\nTry 'env --help' for more information.\n", msg);
  return 125;
}

export default function main(argv: string[], envp: string[], libc: Libc): number {
  let env = [...envp];
  let i = 1;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      i++;
      break;
    }
    if (a === "-") {
      env = [];
      i++;
      break;
    }
    if (a === "-i" || a === "--ignore-environment") {
      env = [];
      continue;
    }
    if (a === "-u" || a.startsWith("--unset=") || (a.startsWith("-u") && a.length > 2)) {
      const name = a === "-u" ? argv[++i] : a.startsWith("--unset=") ? a.slice(8) : a.slice(2);
      if (name === undefined) return usageError(libc, "option requires an argument -- 'u'");
      if (name === "" || name.includes("=")) {
        libc.eprintf("env: cannot unset '%s': Invalid argument\n", name);
        return 125;
      }
      env = env.filter((e) => !e.startsWith(`${name}=`));
      continue;
    }
    if (a.startsWith("-") && a.length > 1) {
      // Clustered -i (e.g. -iu NAME is rare; accept -i only in clusters).
      if (/^-i+$/.test(a)) {
        env = [];
        continue;
      }
      return usageError(libc, a.startsWith("--") ? `unrecognized option '${a}'` : `invalid option -- '${a[1] === "i" ? a[2] : a[1]}'`);
    }
    break;
  }
  for (; i < argv.length && argv[i].indexOf("=") > 0; i++) {
    const a = argv[i];
    const name = a.slice(0, a.indexOf("="));
    env = env.filter((e) => !e.startsWith(`${name}=`));
    env.push(a);
  }
  if (i >= argv.length) {
    for (const e of env) libc.printf("%s\n", e);
    return 0;
  }
  const cmd = argv.slice(i);
  const path = findCommand(libc, cmd[0], env);
  if (path === null) {
    libc.eprintf("env: '%s': %s\n", cmd[0], strerror(ENOENT));
    return 127;
  }
  libc.execve(path, cmd, env);
  const e = libc.errno;
  libc.eprintf("env: '%s': %s\n", cmd[0], strerror(e));
  return e === ENOENT ? 127 : e === EACCES ? 126 : 126;
}
