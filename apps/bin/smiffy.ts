// smiffy [-s PAGES] [-n ROUNDS]: Davide Libenzi's MAP_NOZERO test. Each round
// maps PAGES pages with MAP_NOZERO, write-faults the first word of each page
// (a read would map the zero page), and checks that the rest of the page is
// zero. Any other bytes came from a frame's previous owner. Prints
// "mapping had N non-zero pages" for a round that found some; exits 0 only if
// no round did.

import { MAP_ANONYMOUS, MAP_FAILED, MAP_NOZERO, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../../kernel/mman.ts";
import type { Libc } from "../../libc/libc.ts";
import { parseOptions } from "./options.ts";

const USAGE = "usage: smiffy [-s PAGES] [-n ROUNDS]\n";

export default function smiffy(argv: string[], _envp: string[], libc: Libc): number {
  const o = parseOptions(argv, "s:n:");
  if (typeof o === "string") {
    libc.eprintf("smiffy: %s\n%s", o, USAGE);
    return 2;
  }
  const pages = Number(o.opts.s ?? 128);
  const rounds = Number(o.opts.n ?? 1);
  if (!Number.isInteger(pages) || pages <= 0 || !Number.isInteger(rounds) || rounds <= 0) {
    libc.eprintf("smiffy: bad number\n%s", USAGE);
    return 2;
  }
  const len = pages * 4096;
  const mem = libc.mem;
  let leaked = 0;
  for (let r = 0; r < rounds; r++) {
    const m = libc.mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NOZERO);
    if (m === MAP_FAILED) {
      libc.eprintf("smiffy: mmap: Cannot allocate memory\n");
      return 1;
    }
    let dirty = 0;
    for (let pg = 0; pg < pages; pg++) {
      const base = m + pg * 4096;
      mem.write32(base, 1);
      for (let a = base + 4; a < base + 4096; a += 4) {
        if (mem.read32(a) !== 0) {
          dirty++;
          break;
        }
      }
    }
    if (dirty > 0) libc.printf("mapping had %d non-zero pages\n", dirty);
    leaked += dirty;
    libc.munmap(m, len);
  }
  return leaked > 0 ? 1 : 0;
}
