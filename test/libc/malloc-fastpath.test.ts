// malloc's fast paths (the *Fast functions of libc/malloc) work on physical
// memory and count the loads and stores the general code would have made.
// Every one of them needs UserMemory.wordW/halfW to find its words in the
// TLB, so with those answering "not there" only the general code runs: both
// runs of the same workload must end with the same memory contents and the
// very same counters, TLB misses included.

import { describe, expect, it } from "vitest";
import { Machine } from "../../apps/machine.ts";
import { UserMemory } from "../../kernel/uaccess.ts";
import type { Libc } from "../../libc/libc.ts";

/** Random mallocs, frees and reallocs over 3000 live blocks of 16 B to 3 KiB (small and large bins), plus a thread. */
function workload(libc: Libc): number {
  let x = 2463534242;
  const r = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  const size = (): number => (r() % 8 === 0 ? 1000 + (r() % 2000) : 16 + (r() % 200));
  const run = (l: Libc, n: number): number => {
    const live: number[] = [];
    for (let i = 0; i < 3000; i++) live.push(l.malloc(size()));
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const s = r() % live.length;
      const op = r() % 10;
      if (op < 6) {
        l.free(live[s]);
        live[s] = l.malloc(size());
      } else live[s] = l.realloc(live[s], size());
      l.mem.write8(live[s], i & 0xff);
      sum = (sum + l.mem.read8(live[(s * 7) % live.length])) | 0;
    }
    for (const p of live) l.free(p);
    return sum;
  };
  const t = libc.pthreadCreate((l) => run(l, 5000) & 0);
  const sum = run(libc, 40000);
  libc.pthreadJoin(t);
  return sum & 0x7f;
}

function measure(env: string[]): { exitCode: number; cycles: number; u: number[]; k: number[] } {
  const m = new Machine({ memMiB: 64, cpus: 2 });
  m.install("churn", (_argv, _envp, libc) => workload(libc));
  const r = m.run(["churn"], { env: ["PATH=/bin", ...env] });
  return { exitCode: r.exitCode, cycles: r.cycles, u: Array.from(r.counters.u), k: Array.from(r.counters.k) };
}

function withoutFastPaths<T>(f: () => T): T {
  const proto = UserMemory.prototype;
  const { wordW, halfW } = proto;
  proto.wordW = () => -1;
  proto.halfW = () => -1;
  try {
    return f();
  } finally {
    proto.wordW = wordW;
    proto.halfW = halfW;
  }
}

describe("malloc's fast paths count exactly what the general code counts", () => {
  for (const env of [[], ["GLIBC_TUNABLES=glibc.malloc.tcache_count=0"], ["MALLOC_PERTURB_=165"]]) {
    it(`the same counters with and without them${env.length ? ` (${env.join(" ")})` : ""}`, () => {
      const fast = measure(env);
      const general = withoutFastPaths(() => measure(env));
      expect(fast.exitCode).toBe(general.exitCode);
      expect(fast.u).toEqual(general.u);
      expect(fast.k).toEqual(general.k);
      expect(fast.cycles).toBe(general.cycles);
    });
  }
});
