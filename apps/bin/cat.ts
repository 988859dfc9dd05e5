// /bin/cat: concatenate files to standard output (GNU coreutils cat).
//
//   cat [-nu] [FILE...]     "-" or no FILE: standard input
//
// Bytes are copied through a buffer in user memory with read(2)/write(2);
// -n numbers the output lines ("%6d\t"). A file that cannot be read is
// reported ("cat: NAME: No such file or directory") and the rest are still
// copied; the status is then 1.

import { strerror } from "../../kernel/errno.ts";
import { MAP_ANONYMOUS, MAP_FAILED, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../../kernel/mman.ts";
import { type Libc, O_RDONLY } from "../../libc/libc.ts";
import { parseOptions } from "./options.ts";

const BUF_BYTES = 64 << 10;

export default function main(argv: string[], _envp: string[], libc: Libc): number {
  const p = parseOptions(argv, "nu");
  if (typeof p === "string") {
    libc.eprintf("cat: %s\nTry 'cat --help' for more information.\n", p);
    return 1;
  }
  const number = p.opts.n === true;
  const buf = libc.mmap(0, BUF_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  if (buf === MAP_FAILED) {
    libc.eprintf("cat: %s\n", strerror(libc.errno));
    return 1;
  }
  let line = 1;
  let atLineStart = true;
  /** Write n bytes at buf (numbering lines with -n); false on a write error. */
  const emit = (n: number): boolean => {
    if (!number) {
      for (let off = 0; off < n; ) {
        const w = libc.write(1, buf + off, n - off);
        if (w <= 0) return false;
        off += w;
      }
      return true;
    }
    let text = "";
    for (const ch of Buffer.from(libc.mem.readBytes(buf, n)).toString("latin1")) {
      if (atLineStart) text += `${String(line++).padStart(6)}\t`;
      text += ch;
      atLineStart = ch === "\n";
    }
    return libc.writeString(1, text) >= 0;
  };

  let status = 0;
  const files = p.args.length === 0 ? ["-"] : p.args;
  for (const name of files) {
    const fd = name === "-" ? 0 : libc.open(name, O_RDONLY);
    if (fd < 0) {
      libc.eprintf("cat: %s: %s\n", name, strerror(libc.errno));
      status = 1;
      continue;
    }
    for (;;) {
      const n = libc.read(fd, buf, BUF_BYTES);
      if (n < 0) {
        libc.eprintf("cat: %s: %s\n", name, strerror(libc.errno));
        status = 1;
        break;
      }
      if (n === 0) break;
      if (!emit(n)) {
        libc.eprintf("cat: write error: %s\n", strerror(libc.errno));
        return 1;
      }
    }
    if (fd !== 0) libc.close(fd);
  }
  return status;
}
