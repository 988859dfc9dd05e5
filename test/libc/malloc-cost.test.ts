// The user-access price is calibrated on our own malloc (kernel/cost/machines.ts,
// CALIB_ACCESS): workloads.md 5.4's native loop, replayed here, must still
// cost what glibc measured (22.8 ns per free+malloc pair on this machine).
// If malloc's access pattern changes, this fails and the price is recalibrated.

import { describe, expect, it } from "vitest";
import { CALIB_OPS, mallocAccessesPerPair } from "../../apps/cmd/calibrate.ts";
import { HOST } from "../../kernel/cost/machines.ts";

describe("malloc's simulated cost matches native glibc on the calibration loop", () => {
  it("10,000 live blocks, free a random one and malloc 16-512 B: ~22.8 ns per pair", () => {
    let cyclesPerPair = 0;
    const per = mallocAccessesPerPair((libc, pairs) => {
      const c0 = libc.ctx.now();
      pairs();
      cyclesPerPair = (libc.ctx.now() - c0) / CALIB_OPS;
    });
    const ns = cyclesPerPair / (HOST.hz / 1e9);
    // Whole-run counts include the 10,000 set-up mallocs: about 5% of the pairs' work.
    expect(per.accesses).toBeGreaterThan(28);
    expect(per.accesses).toBeLessThan(36);
    expect(per.misses).toBeLessThan(2);
    expect(ns).toBeGreaterThan(22.8 * 0.9);
    expect(ns).toBeLessThan(22.8 * 1.1);
  });
});
