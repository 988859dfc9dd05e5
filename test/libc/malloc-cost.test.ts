// The user-access price is calibrated on our own malloc (kernel/cost/machines.ts,
// CALIB_ACCESS): workloads.md 5.4's native loop, replayed here, must still
// cost what glibc measured (22.8 ns per free+malloc pair on this machine).
// If malloc's access pattern changes, this fails and the price is recalibrated.

import { describe, expect, it } from "vitest";
import { Machine } from "../../apps/machine.ts";
import { NUEV, Uev } from "../../kernel/cost/events.ts";
import { HOST } from "../../kernel/cost/machines.ts";

describe("malloc's simulated cost matches native glibc on the calibration loop", () => {
  it("10,000 live blocks, free a random one and malloc 16-512 B: ~22.8 ns per pair", () => {
    const m = new Machine({ memMiB: 64 });
    let cyclesPerPair = 0;
    m.install("calib", (_argv, _envp, libc) => {
      const LIVE = 10_000;
      const OPS = 200_000;
      let x = 12345;
      const r = () => {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        return x >>> 0;
      };
      const slots: number[] = [];
      for (let i = 0; i < LIVE; i++) slots.push(libc.malloc(16 + (r() % 497)));
      const c0 = libc.ctx.now();
      for (let i = 0; i < OPS; i++) {
        const s = r() % LIVE;
        libc.free(slots[s]);
        slots[s] = libc.malloc(16 + (r() % 497));
      }
      cyclesPerPair = (libc.ctx.now() - c0) / OPS;
      return 0;
    });
    const r = m.run(["calib"]);
    expect(r.exitCode).toBe(0);
    // The pairs' accesses land on malloc's and free's symbols.
    let acc = 0;
    let miss = 0;
    const u = r.counters.u;
    for (let s = 0; s < u.length / NUEV; s++) {
      const name = m.k.symbols.list[s]?.name ?? "";
      if (!["malloc", "free", "_int_malloc", "_int_free", "malloc_consolidate"].includes(name)) continue;
      acc += u[s * NUEV + Uev.ACCESS];
      miss += u[s * NUEV + Uev.TLB_MISS];
    }
    const ns = cyclesPerPair / (HOST.hz / 1e9);
    // Whole-run counts include the 10,000 set-up mallocs: about 5% of the pairs' work.
    expect(acc / 210_000).toBeGreaterThan(28);
    expect(acc / 210_000).toBeLessThan(36);
    expect(miss / 210_000).toBeLessThan(2);
    expect(ns).toBeGreaterThan(22.8 * 0.9);
    expect(ns).toBeLessThan(22.8 * 1.1);
  });
});
