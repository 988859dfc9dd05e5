// memhog -p PAGES [-b BYTE] [-N]: write BYTE over every byte of PAGES pages
// of fresh anonymous memory (-N: a MAP_NOZERO mapping, memory declared
// recyclable), then exit, leaving those frames with their owner tag on the
// free lists. The "victim" half of the leak tests.

import { MAP_ANONYMOUS, MAP_FAILED, MAP_NOZERO, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../../kernel/mman.ts";
import type { Libc } from "../../libc/libc.ts";
import { parseOptions } from "./options.ts";

const USAGE = "usage: memhog -p PAGES [-b BYTE] [-N]\n";

export default function memhog(argv: string[], _envp: string[], libc: Libc): number {
  const o = parseOptions(argv, "p:b:N");
  if (typeof o === "string" || o.opts.p === undefined) {
    libc.eprintf("%s%s", typeof o === "string" ? `memhog: ${o}\n` : "", USAGE);
    return 2;
  }
  const pages = Number(o.opts.p);
  const byte = o.opts.b === undefined ? 0x5a : Number(o.opts.b);
  if (!Number.isInteger(pages) || pages <= 0 || !Number.isInteger(byte) || byte < 0 || byte > 255) {
    libc.eprintf("memhog: bad number\n%s", USAGE);
    return 2;
  }
  const len = pages * 4096;
  const p = libc.mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | (o.opts.N ? MAP_NOZERO : 0));
  if (p === MAP_FAILED) {
    libc.eprintf("memhog: mmap: Cannot allocate memory\n");
    return 1;
  }
  libc.memset(p, byte, len);
  return 0;
}
