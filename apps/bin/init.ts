// /sbin/init: pid 1 of a `nozero run`. Runs one command as the requested
// user (argv: init UID GID COMMAND ARGS...), reaps it, and exits with its
// status as a shell would report it (128+signal for a signal, with the
// shell's message on stderr).

import { signalMessage } from "../../kernel/signal.ts";
import { type Libc, WEXITSTATUS, WIFSIGNALED, WTERMSIG } from "../../libc/libc.ts";
import { findCommand } from "./path.ts";

export default function init(argv: string[], envp: string[], libc: Libc): number {
  const uid = Number(argv[1]);
  const gid = Number(argv[2]);
  const cmd = argv.slice(3);
  if (cmd.length === 0) {
    libc.eprintf("usage: init UID GID COMMAND [ARGS...]\n");
    return 2;
  }
  const path = findCommand(libc, cmd[0], envp);
  if (path === null) {
    libc.eprintf("nozero: %s: command not found\n", cmd[0]);
    return 127;
  }
  const pid = libc.fork((c) => {
    if (c.setgid(gid) < 0 || c.setuid(uid) < 0) {
      c.eprintf("init: cannot become uid %d\n", uid);
      return 126;
    }
    c.execve(path, cmd, envp);
    c.eprintf("nozero: %s: %s\n", cmd[0], c.errno === 13 ? "Permission denied" : "cannot execute");
    return 126;
  });
  const w = pid < 0 ? null : libc.waitpid(pid);
  if (w === null) return 1;
  if (WIFSIGNALED(w.status)) {
    const msg = signalMessage(WTERMSIG(w.status));
    if (msg) libc.eprintf("%s\n", msg);
    return 128 + WTERMSIG(w.status);
  }
  return WEXITSTATUS(w.status);
}
