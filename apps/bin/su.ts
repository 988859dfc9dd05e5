// /bin/su: run a shell as another user (util-linux su, without PAM).
//
//   su [-|-l|--login] [-m|-p] [-s SHELL] [-c COMMAND] [USER [ARG...]]
//
// Options may come before or after USER (su alice -c 'id'). There are no
// passwords here and su is not setuid: only root may use it; anyone else
// gets "su: Authentication failure". su looks USER (default root) up in
// /etc/passwd, sets the group then the user ID, and executes the user's
// shell (/bin/sh if the entry's shell is missing) with -c COMMAND if given.
// Environment: kept, with HOME and SHELL set, and USER and LOGNAME when the
// target is not root; -m/-p keeps it untouched; a login shell (-, -l) starts
// from a clean one (TERM kept, PATH the default) in the user's home
// directory, and its argv[0] is "-sh".

import { strerror } from "../../kernel/errno.ts";
import type { Libc } from "../../libc/libc.ts";
import { getpwnam } from "./id.ts";

const EACCES = 13;
const DEFAULT_PATH = "/usr/local/bin:/bin:/usr/bin";
const DEFAULT_PATH_ROOT = "/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin";

function usage(libc: Libc, msg: string): number {
  libc.eprintf("su: %s\nTry 'su --help' for more information.\n", msg);
  return 1;
}

export default function main(argv: string[], envp: string[], libc: Libc): number {
  let login = false;
  let keepEnv = false;
  let command: string | null = null;
  let shellOpt: string | null = null;
  const operands: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    const value = (opt: string): string | null => {
      const v = argv[++i];
      if (v === undefined) {
        usage(libc, `option requires an argument -- '${opt}'`);
        return null;
      }
      return v;
    };
    if (operands.length > 0 && a === "--") {
      operands.push(...argv.slice(i + 1));
      break;
    }
    if (a === "-" || a === "-l" || a === "--login") login = true;
    else if (a === "-m" || a === "-p" || a === "--preserve-environment") keepEnv = true;
    else if (a === "-c" || a === "--command") {
      if ((command = value("c")) === null) return 1;
    } else if (a.startsWith("--command=")) command = a.slice(10);
    else if (a === "-s" || a === "--shell") {
      if ((shellOpt = value("s")) === null) return 1;
    } else if (a.startsWith("--shell=")) shellOpt = a.slice(8);
    else if (a === "--") {
      operands.push(...argv.slice(i + 1));
      break;
    } else if (a.startsWith("-") && a.length > 1 && operands.length === 0) {
      return usage(libc, `invalid option -- '${a[1]}'`);
    } else operands.push(a);
  }
  const user = operands[0] ?? "root";
  const extra = operands.slice(1);

  if (libc.getuid() !== 0) {
    libc.eprintf("su: Authentication failure\n");
    return 1;
  }
  const pw = getpwnam(libc, user);
  if (pw === null) {
    libc.eprintf("su: user %s does not exist\n", user);
    return 1;
  }

  let shell = shellOpt ?? pw.shell;
  if (shell === "" || libc.stat(shell) === null) shell = "/bin/sh";

  if (libc.setgid(pw.gid) < 0) {
    libc.eprintf("su: cannot set group id: %s\n", strerror(libc.errno));
    return 1;
  }
  if (libc.setuid(pw.uid) < 0) {
    libc.eprintf("su: cannot set user id: %s\n", strerror(libc.errno));
    return 1;
  }

  let env: string[];
  if (login) {
    const term = envp.find((e) => e.startsWith("TERM="));
    env = [...(term ? [term] : [])];
    env.push(`HOME=${pw.home}`, `SHELL=${shell}`, `USER=${pw.name}`, `LOGNAME=${pw.name}`);
    env.push(`PATH=${pw.uid === 0 ? DEFAULT_PATH_ROOT : DEFAULT_PATH}`);
    if (libc.chdir(pw.home) < 0) {
      libc.eprintf("su: warning: cannot change directory to %s: %s\n", pw.home, strerror(libc.errno));
    }
  } else if (keepEnv) env = [...envp];
  else {
    const set = new Map<string, string>([["HOME", pw.home], ["SHELL", shell]]);
    if (pw.uid !== 0) {
      set.set("USER", pw.name);
      set.set("LOGNAME", pw.name);
    }
    env = envp.map((e) => {
      const name = e.slice(0, Math.max(0, e.indexOf("=")));
      const v = set.get(name);
      if (v === undefined) return e;
      set.delete(name);
      return `${name}=${v}`;
    });
    for (const [k, v] of set) env.push(`${k}=${v}`);
  }

  const base = shell.slice(shell.lastIndexOf("/") + 1);
  const shArgv = [login ? `-${base}` : base, ...(command !== null ? ["-c", command] : []), ...extra];
  libc.execve(shell, shArgv, env);
  const e = libc.errno;
  libc.eprintf("su: failed to execute %s: %s\n", shell, strerror(e));
  return e === EACCES ? 126 : 127;
}
