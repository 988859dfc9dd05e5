// as [-o OBJFILE] [FILE...]: the NZ32 assembler (GNU as's command line).
//
// Assembles the files, in order, as one source (standard input when none is
// given) into an NZO1 object (default a.out). Diagnostics are gas's
// `FILE:LINE: Error: message`; any error means no output and exit status 1.
// See assembler.ts for the data structures and docs/toolchain.md for the
// language.

import type { Libc } from "../../../libc/libc.ts";
import { Assembler } from "./assembler.ts";
import { ObstackExhausted } from "./obstack.ts";

export default function as(argv: string[], _envp: string[], libc: Libc): number {
  let out = "a.out";
  const inputs: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-o") {
      if (i + 1 >= argv.length) {
        libc.eprintf("as: option requires an argument -- 'o'\n");
        return 1;
      }
      out = argv[++i];
    } else if (a.startsWith("-o") && a.length > 2) {
      out = a.slice(2);
    } else if (a === "--32" || a === "-Qy" || a === "--") {
      // accepted for compatibility: NZ32 has one word size
    } else if (a.startsWith("-") && a !== "-") {
      libc.eprintf("as: unrecognized option '%s'\n", a);
      return 1;
    } else {
      inputs.push(a);
    }
  }
  const asm = new Assembler(libc);
  try {
    if (!asm.begin()) {
      libc.eprintf("as: memory exhausted\n");
      return 1;
    }
    const files = inputs.length === 0 ? [null] : inputs;
    for (const f of files) {
      const src = asm.readSource(f === "-" ? null : f);
      if (typeof src === "string") {
        libc.eprintf("as: %s\n", src);
        return 1;
      }
      asm.assemble(f === null || f === "-" ? "{standard input}" : f, src.buf, src.size);
      libc.free(src.buf);
    }
    return asm.writeObject(out) ? 0 : 1;
  } catch (e) {
    if (e instanceof ObstackExhausted) {
      libc.eprintf("as: memory exhausted\n");
      return 1;
    }
    throw e;
  }
}
