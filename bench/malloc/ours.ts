// Our allocator in the malloc bench: libc/malloc (ptmalloc2 over emulated
// user memory) inside an emulated process. A program installed in a Machine
// replays the trace through libc.malloc/free/realloc, with the tag bytes
// written and checked through libc.mem (the software-TLB accessor). The
// trace itself stays in host arrays, as a peer's harness keeps it.
//
// Four runs of the program, each a fresh process on the same machine:
//   time       REPS timed replays in one process (host wall clock around each)
//   noop       start-up only: the baseline for simulated cycles
//   once       one replay: simulated cycles per op = (once - noop) / ops,
//              split by symbol, with accessor loads/stores and TLB misses
//   footprint  one replay sampling main_arena.system_mem + mp_.mmapped_mem
//              (mallinfo2's arena + hblkhd) after every op; mallinfo2 itself
//              is called every 100k ops to check the two agree

import { Machine } from "../../apps/machine.ts";
import { NUEV, Uev } from "../../kernel/cost/events.ts";
import type { Libc } from "../../libc/libc.ts";
import * as L from "../../libc/malloc/layout.ts";
import { type Heap, type Probe, type ReplayStats, Slots, newStats, replay } from "./replay.ts";
import type { Trace } from "./trace.ts";

export interface OursResult {
  repsNs: number[];
  repsCpuNs: number[];
  stats: ReplayStats;
  footprintStats: ReplayStats;
  /** Peak of arena + hblkhd above its value before the replay. */
  footprintPeak: number;
  footprintBase: number;
  /** mallinfo2 (arena + hblkhd) disagreed with the sampled fields this many times. */
  mallinfoMismatches: number;
  /** The process's peak RSS (getrusage ru_maxrss), bytes, at the end of the footprint pass. */
  maxRssBytes: number;
  simulated: Simulated;
  exitCodes: Record<string, number>;
}

export interface SymbolCost {
  image: string;
  symbol: string;
  cyclesPerOp: number;
  accessesPerOp: number;
  tlbMissesPerOp: number;
  bytesPerOp: number;
}

export interface Simulated {
  hz: number;
  /** Priced cycles of one replay (the `once` run less the `noop` run), per op. */
  cyclesPerOp: number;
  userCyclesPerOp: number;
  kernelCyclesPerOp: number;
  /** Cycles per op in the allocator's own symbols (libc.so.6), excluding the program's tag work. */
  libcCyclesPerOp: number;
  accessesPerOp: number;
  tlbMissesPerOp: number;
  minorFaults: number;
  /** Per symbol, the costliest first. */
  symbols: SymbolCost[];
  /** Average simulated cycles per op over the timed run (REPS replays, start-up included). */
  timedRunCyclesPerOp: number;
}

function libcHeap(libc: Libc): Heap {
  const mem = libc.mem;
  return {
    malloc: (n: number): number => libc.malloc(n),
    free: (p: number): void => libc.free(p),
    realloc: (p: number, _old: number, n: number): number => libc.realloc(p, n),
    read8: (a: number): number => mem.read8(a),
    write8: (a: number, v: number): void => mem.write8(a, v),
  };
}

/** Run every pass; `log` gets progress lines. */
export function runOurs(t: Trace, reps: number, log: (s: string) => void): OursResult {
  const m = new Machine({ memMiB: 128, policy: "stock" });
  const slots = new Slots(t.slots);
  const repsNs: number[] = [];
  const repsCpuNs: number[] = [];
  const stats = newStats(t.ops);
  const footprintStats = newStats(t.ops);
  let footprintPeak = 0;
  let footprintBase = 0;
  let mallinfoMismatches = 0;
  let maxRssBytes = 0;

  m.install("mallocreplay", (argv, _envp, libc) => {
    const mode = argv[1];
    if (mode === "noop") return 0;
    const heap = libcHeap(libc);
    if (mode === "time") {
      for (let r = 0; r < reps; r++) {
        const t0 = process.hrtime.bigint();
        const c0 = process.cpuUsage();
        replay(heap, t, slots, null, stats);
        const c = process.cpuUsage(c0);
        repsNs.push(Number(process.hrtime.bigint() - t0));
        repsCpuNs.push((c.user + c.system) * 1000);
        if (stats.crashAt >= 0) break;
      }
    } else if (mode === "once") {
      replay(heap, t, slots, null, stats);
    } else if (mode === "footprint") {
      const M = libc.mallocator;
      M.ensureInit();
      const mem = libc.mem;
      const sysMem = M.av0 + L.AV_SYSTEM_MEM;
      const sample = (): number => mem.readU32(sysMem) + M.g(L.MP_MMAPPED_MEM);
      footprintBase = sample();
      let peak = footprintBase;
      const probe: Probe = {
        onAlloc(): void {},
        afterOp(i: number): void {
          const f = sample();
          if (f > peak) peak = f;
          if (i % 100_000 === 0) {
            const mi = libc.mallinfo2();
            if (mi.arena + mi.hblkhd !== f) mallinfoMismatches++;
          }
        },
      };
      replay(heap, t, slots, probe, footprintStats);
      footprintPeak = peak - footprintBase;
      maxRssBytes = libc.getrusage(0).maxrss * 1024;
    }
    return 0;
  });

  const exitCodes: Record<string, number> = {};
  const run = (mode: string) => {
    const r = m.run(["mallocreplay", mode]);
    exitCodes[mode] = r.exitCode;
    if (r.exitCode !== 0) log(`  ours: ${mode} run exited ${r.exitCode}: ${r.stderr.trim().slice(0, 500)}`);
    return r;
  };

  log(`  ours: ${reps} timed replays`);
  const timed = run("time");
  const noop = run("noop");
  log("  ours: one replay for simulated cycles");
  const once = run("once");
  log("  ours: footprint pass (arena + hblkhd after every op)");
  run("footprint");

  // Simulated cost of one replay, by symbol: `once` less `noop`.
  const syms = m.k.symbols.list;
  const per = new Map<string, SymbolCost>();
  const costOf = (image: string, symbol: string): SymbolCost => {
    const key = `${image}\0${symbol}`;
    let c = per.get(key);
    if (c === undefined) {
      c = { image, symbol, cyclesPerOp: 0, accessesPerOp: 0, tlbMissesPerOp: 0, bytesPerOp: 0 };
      per.set(key, c);
    }
    return c;
  };
  for (const [r, sign] of [
    [once, 1],
    [noop, -1],
  ] as const) {
    for (const s of r.profile.symbols) costOf(s.image, s.symbol).cyclesPerOp += (sign * s.cycles) / t.ops;
    const u = r.counters.u;
    for (let i = 0; i < u.length; i += NUEV) {
      const info = syms[i / NUEV];
      if (info === undefined || (u[i] === 0 && u[i + 1] === 0 && u[i + 2] === 0)) continue;
      const c = costOf(info.image, info.name);
      c.accessesPerOp += (sign * u[i + Uev.ACCESS]) / t.ops;
      c.tlbMissesPerOp += (sign * u[i + Uev.TLB_MISS]) / t.ops;
      c.bytesPerOp += (sign * u[i + Uev.BYTES]) / t.ops;
    }
  }
  const symbols = [...per.values()].filter((c) => Math.abs(c.cyclesPerOp) > 1e-3 || c.accessesPerOp > 1e-3).sort((a, b) => b.cyclesPerOp - a.cyclesPerOp);
  const sum = (f: (c: SymbolCost) => number, pick: (c: SymbolCost) => boolean = () => true) =>
    symbols.filter(pick).reduce((a, c) => a + f(c), 0);
  const simulated: Simulated = {
    hz: m.k.machine.hz,
    cyclesPerOp: (once.cycles - noop.cycles) / t.ops,
    userCyclesPerOp: (once.profile.userCycles - noop.profile.userCycles) / t.ops,
    kernelCyclesPerOp: (once.profile.kernelCycles - noop.profile.kernelCycles) / t.ops,
    libcCyclesPerOp: sum((c) => c.cyclesPerOp, (c) => c.image === "libc.so.6"),
    accessesPerOp: sum((c) => c.accessesPerOp),
    tlbMissesPerOp: sum((c) => c.tlbMissesPerOp),
    minorFaults: once.minflt - noop.minflt,
    symbols,
    timedRunCyclesPerOp: timed.cycles / (t.ops * Math.max(1, repsNs.length)),
  };
  return { repsNs, repsCpuNs, stats, footprintStats, footprintPeak, footprintBase, mallinfoMismatches, maxRssBytes, simulated, exitCodes };
}
