// mallocbench: a malloc-heavy program shaped like the code behind the 2007
// "+14%": many allocations of mixed small and medium sizes, each written as
// soon as it is returned, freed in mixed order. Each round builds a working
// set, churns it (free a random block, allocate and write a new one), then
// frees everything in random order. With -f every round runs in a fork()ed
// child that exits afterwards, so each round's heap is freshly faulted pages,
// as in a build's short-lived compiler processes.
//
//   mallocbench [-r ROUNDS] [-w KIB] [-n OPS] [-f] [-s SEED] [-v]
//
// Prints the rounds, allocations and simulated seconds, and allocations/s.

import type { Libc } from "../../libc/libc.ts";
import { WEXITSTATUS } from "../../libc/libc.ts";
import { parseOptions } from "./options.ts";

const USAGE = "usage: mallocbench [-r ROUNDS] [-w KIB] [-n OPS] [-f] [-s SEED] [-v]\n";

interface Config {
  rounds: number;
  workingSet: number;
  churn: number;
  fork: boolean;
  seed: number;
  verbose: boolean;
}

/** A small deterministic generator (xorshift32). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 0x2545f491;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>>= 0);
  };
}

/** Mixed sizes: mostly small, some medium, a few larger. */
function drawSize(r: () => number): number {
  const pick = r() % 100;
  if (pick < 70) return 16 + (r() % 113);
  if (pick < 95) return 129 + (r() % 896);
  return 1025 + (r() % 7168);
}

/** One round; returns the number of allocations made. */
function round(libc: Libc, c: Config, seed: number): number {
  const r = rng(seed);
  const ptrs: number[] = [];
  const sizes: number[] = [];
  let live = 0;
  let allocs = 0;
  const allocate = () => {
    const n = drawSize(r);
    const p = libc.malloc(n);
    if (p === 0) return false;
    libc.memset(p, (allocs & 0x7f) + 1, n);
    ptrs.push(p);
    sizes.push(n);
    live += n;
    allocs++;
    return true;
  };
  const freeAt = (i: number) => {
    libc.free(ptrs[i]);
    live -= sizes[i];
    ptrs[i] = ptrs[ptrs.length - 1];
    sizes[i] = sizes[sizes.length - 1];
    ptrs.pop();
    sizes.pop();
  };
  while (live < c.workingSet) if (!allocate()) return -1;
  for (let i = 0; i < c.churn; i++) {
    freeAt(r() % ptrs.length);
    if (!allocate()) return -1;
  }
  while (ptrs.length > 0) freeAt(r() % ptrs.length);
  libc.work(allocs * 20);
  return allocs;
}

export default function mallocbench(argv: string[], _envp: string[], libc: Libc): number {
  const o = parseOptions(argv, "r:w:n:fs:v");
  if (typeof o === "string" || o.args.length > 0) {
    libc.eprintf("%s%s", typeof o === "string" ? `mallocbench: ${o}\n` : "", USAGE);
    return 2;
  }
  const num = (k: string, d: number) => (o.opts[k] === undefined ? d : Number(o.opts[k]));
  const c: Config = {
    rounds: num("r", 16),
    workingSet: num("w", 2048) * 1024,
    churn: num("n", 8000),
    fork: o.opts.f === true,
    seed: num("s", 2007),
    verbose: o.opts.v === true,
  };
  if (![c.rounds, c.workingSet, c.churn, c.seed].every((x) => Number.isInteger(x) && x >= 0) || c.rounds === 0) {
    libc.eprintf("mallocbench: bad number\n%s", USAGE);
    return 2;
  }
  const t0 = libc.clockGettime(1);
  let allocs = 0;
  for (let i = 0; i < c.rounds; i++) {
    const seed = (c.seed * 2654435761 + i) >>> 0;
    if (c.fork) {
      // The child's allocation count comes back as its exit status (mod 256 is enough to check it ran).
      const pid = libc.fork((child) => (round(child, c, seed) < 0 ? 1 : 0));
      const w = pid < 0 ? null : libc.waitpid(pid);
      if (w === null || WEXITSTATUS(w.status) !== 0) {
        libc.eprintf("mallocbench: round %d failed\n", i);
        return 1;
      }
      allocs += countAllocs(c, seed);
    } else {
      const n = round(libc, c, seed);
      if (n < 0) {
        libc.eprintf("mallocbench: out of memory in round %d\n", i);
        return 1;
      }
      allocs += n;
    }
    if (c.verbose) libc.printf("round %d done\n", i);
  }
  const secs = libc.clockGettime(1) - t0;
  libc.printf("%u rounds, %u allocations, %.6f s, %.0f allocations/s\n", c.rounds, allocs, secs, allocs / secs);
  return 0;
}

/** A round's allocation count depends only on its seed and parameters: replay the size draws. */
function countAllocs(c: Config, seed: number): number {
  const r = rng(seed);
  let live = 0;
  let allocs = 0;
  const sizes: number[] = [];
  const draw = () => {
    const n = drawSize(r);
    sizes.push(n);
    live += n;
    allocs++;
  };
  while (live < c.workingSet) draw();
  for (let i = 0; i < c.churn; i++) {
    const j = r() % sizes.length;
    live -= sizes[j];
    sizes[j] = sizes[sizes.length - 1];
    sizes.pop();
    draw();
  }
  return allocs;
}
