// /bin/rm: remove files (GNU coreutils rm).
//
//   rm [-f] [-r|-R] FILE...
//
// Each operand is unlinked; a directory needs -r, which empties it depth
// first and then removes it with rmdir (a symlink is removed, never
// followed). -f ignores operands that do not exist and makes no operands
// fine. Errors are reported ("rm: cannot remove 'x': No such file or
// directory") and the rest still removed; the status is then 1.

import { EISDIR, ENOENT, strerror } from "../../kernel/errno.ts";
import type { Libc } from "../../libc/libc.ts";
import { parseOptions } from "./options.ts";

export default function main(argv: string[], _envp: string[], libc: Libc): number {
  const p = parseOptions(argv, "frR");
  if (typeof p === "string") {
    libc.eprintf("rm: %s\nTry 'rm --help' for more information.\n", p);
    return 1;
  }
  const force = p.opts.f === true;
  const recursive = p.opts.r === true || p.opts.R === true;
  if (p.args.length === 0) {
    if (force) return 0;
    libc.eprintf("rm: missing operand\nTry 'rm --help' for more information.\n");
    return 1;
  }
  let status = 0;
  const fail = (path: string, errno: number): void => {
    libc.eprintf("rm: cannot remove '%s': %s\n", path, strerror(errno));
    status = 1;
  };
  const remove = (path: string): void => {
    if (libc.unlink(path) === 0) return;
    const errno = libc.errno;
    if (errno === ENOENT && force) return;
    if (errno !== EISDIR) return fail(path, errno);
    if (!recursive) return fail(path, EISDIR);
    const names = libc.readdir(path);
    if (names === null) return fail(path, libc.errno);
    for (const name of names) remove(`${path.replace(/\/+$/, "")}/${name}`);
    if (libc.rmdir(path) < 0) fail(path, libc.errno);
  };
  for (const path of p.args) remove(path);
  return status;
}
