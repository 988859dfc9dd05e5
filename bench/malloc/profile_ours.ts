// Standalone replay of the malloc trace by our allocator in an emulated
// process, for profiling the host side (no footprint or cost passes):
//
//   node --import tsx --cpu-prof --cpu-prof-dir=/tmp/prof bench/malloc/profile_ours.ts [REPS] [OPS]
//   node --import tsx bench/malloc/cpuprofile.ts /tmp/prof/CPU.*.cpuprofile
//
// The trace is the cached file (generated if missing), as the bench uses.

import { Machine } from "../../apps/machine.ts";
import { Slots, median, newStats, replay } from "./replay.ts";
import { DEFAULT_OPS, DEFAULT_SEED, ensureTrace } from "./trace.ts";

const reps = Number(process.argv[2] ?? 10);
const ops = Number(process.argv[3] ?? DEFAULT_OPS);
const { trace } = ensureTrace(ops, DEFAULT_SEED);
const m = new Machine({ memMiB: 128, policy: "stock" });
const slots = new Slots(trace.slots);
const ns: number[] = [];
const cpu: number[] = [];
const stats = newStats(trace.ops);
m.install("mallocreplay", (_argv, _envp, libc) => {
  const mem = libc.mem;
  const heap = {
    malloc: (n: number): number => libc.malloc(n),
    free: (p: number): void => libc.free(p),
    realloc: (p: number, _old: number, n: number): number => libc.realloc(p, n),
    read8: (a: number): number => mem.read8(a),
    write8: (a: number, v: number): void => mem.write8(a, v),
  };
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    replay(heap, trace, slots, null, stats);
    const c = process.cpuUsage(c0);
    ns.push(Number(process.hrtime.bigint() - t0));
    cpu.push((c.user + c.system) * 1000);
  }
  return 0;
});
const r = m.run(["mallocreplay"]);
const perOp = ns.map((x) => x / trace.ops);
const cpuPerOp = cpu.map((x) => x / trace.ops);
console.log(
  `exit ${r.exitCode}; ${trace.ops} ops x ${reps}: ns/op ${perOp.map((x) => x.toFixed(0)).join(" ")}; median ${median(perOp).toFixed(1)}, min ${Math.min(...perOp).toFixed(1)}; cpu ns/op median ${median(cpuPerOp).toFixed(1)}, min ${Math.min(...cpuPerOp).toFixed(1)}; ` +
    `failures ${stats.badTags + stats.misaligned + stats.nulls}${stats.crash ? `; crash at ${stats.crashAt}: ${stats.crash}` : ""}`,
);
