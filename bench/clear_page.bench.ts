// clear_page: the emulator's real clearing work (PhysMem.clearFrame, a
// u8.fill(0, off, off + 4096) over emulated physical memory) per 4 KiB frame,
// against the other typed-array primitives that could do it, and against
// native memset measured by bench/native/calibrate.c in the same run.
//
//   hot   the same HOT_FRAMES frames again and again (16 KiB: in L1)
//   cold  a sequential sweep over every frame of a 256 MiB PhysMem (the
//         default emulated RAM; far beyond L3), as calibrate.c's cold memset
//
// Frame 0 stays zero, as the kernel's shared zero page does; it is the source
// for the copyWithin variant, and the sweeps cover frames 1..nframes-1.

import { PhysMem } from "../kernel/physmem.ts";
import { DEFAULT_MEM_BYTES } from "../kernel/param.ts";
import { type Case, type Figure, type Measured, type Row, type SuiteDef, type SuiteResult, measure } from "./lib/harness.ts";
import { runCalibrate } from "./lib/native.ts";

const PAGE = 4096;
const HOT_FRAMES = 4;
const PER_CALL = 256; // frames cleared per benchmark call

interface Method {
  key: string;
  label: string;
  hot: () => void;
  cold: () => void;
}

function run(opts: Parameters<SuiteDef["run"]>[0]): SuiteResult {
  // Native first, while nothing else of ours is running.
  opts.log("  native: gcc -O2 bench/native/calibrate.c; calibrate memset");
  const native = runCalibrate("memset");
  if (!native.ok) opts.log(`  native: skipped: ${native.reason}`);

  const phys = new PhysMem(DEFAULT_MEM_BYTES);
  const { u8, i32, nframes } = phys;
  const f64 = new Float64Array(phys.buffer);
  u8.fill(1); // fault every host page in before timing anything
  phys.clearFrame(0);
  const zeroPage = new Uint8Array(PAGE);
  const ZERO_OFF = 0;
  const sweep = nframes - 1; // frames 1..nframes-1

  // Per-method cursors for the cold sweep; one function literal per case so
  // each loop gets its own type feedback (no shared, polymorphic call site).
  let cClear = 0,
    cSub = 0,
    cSet = 0,
    cCopy = 0,
    cI32 = 0,
    cF64 = 0;
  const methods: Method[] = [
    {
      key: "clearframe_fill",
      label: "PhysMem.clearFrame (u8.fill range)",
      hot: () => {
        for (let i = 0; i < PER_CALL; i++) phys.clearFrame(1 + (i & (HOT_FRAMES - 1)));
      },
      cold: () => {
        for (let i = 0; i < PER_CALL; i++) {
          phys.clearFrame(1 + cClear);
          if (++cClear === sweep) cClear = 0;
        }
      },
    },
    {
      key: "subarray_fill",
      label: "u8.subarray(o,o+4096).fill(0)",
      hot: () => {
        for (let i = 0; i < PER_CALL; i++) {
          const o = (1 + (i & (HOT_FRAMES - 1))) * PAGE;
          u8.subarray(o, o + PAGE).fill(0);
        }
      },
      cold: () => {
        for (let i = 0; i < PER_CALL; i++) {
          const o = (1 + cSub) * PAGE;
          u8.subarray(o, o + PAGE).fill(0);
          if (++cSub === sweep) cSub = 0;
        }
      },
    },
    {
      key: "set_zero_page",
      label: "u8.set(zeroPage, o)",
      hot: () => {
        for (let i = 0; i < PER_CALL; i++) u8.set(zeroPage, (1 + (i & (HOT_FRAMES - 1))) * PAGE);
      },
      cold: () => {
        for (let i = 0; i < PER_CALL; i++) {
          u8.set(zeroPage, (1 + cSet) * PAGE);
          if (++cSet === sweep) cSet = 0;
        }
      },
    },
    {
      key: "copywithin_zero_frame",
      label: "u8.copyWithin(o, zero frame)",
      hot: () => {
        for (let i = 0; i < PER_CALL; i++) u8.copyWithin((1 + (i & (HOT_FRAMES - 1))) * PAGE, ZERO_OFF, ZERO_OFF + PAGE);
      },
      cold: () => {
        for (let i = 0; i < PER_CALL; i++) {
          u8.copyWithin((1 + cCopy) * PAGE, ZERO_OFF, ZERO_OFF + PAGE);
          if (++cCopy === sweep) cCopy = 0;
        }
      },
    },
    {
      key: "i32_loop",
      label: "Int32Array loop (1024 stores)",
      hot: () => {
        for (let i = 0; i < PER_CALL; i++) {
          const w = (1 + (i & (HOT_FRAMES - 1))) * (PAGE >> 2);
          for (let j = w; j < w + (PAGE >> 2); j++) i32[j] = 0;
        }
      },
      cold: () => {
        for (let i = 0; i < PER_CALL; i++) {
          const w = (1 + cI32) * (PAGE >> 2);
          for (let j = w; j < w + (PAGE >> 2); j++) i32[j] = 0;
          if (++cI32 === sweep) cI32 = 0;
        }
      },
    },
    {
      key: "f64_loop",
      label: "Float64Array loop (512 stores)",
      hot: () => {
        for (let i = 0; i < PER_CALL; i++) {
          const w = (1 + (i & (HOT_FRAMES - 1))) * (PAGE >> 3);
          for (let j = w; j < w + (PAGE >> 3); j++) f64[j] = 0;
        }
      },
      cold: () => {
        for (let i = 0; i < PER_CALL; i++) {
          const w = (1 + cF64) * (PAGE >> 3);
          for (let j = w; j < w + (PAGE >> 3); j++) f64[j] = 0;
          if (++cF64 === sweep) cF64 = 0;
        }
      },
    },
  ];

  // Every method must leave a dirty frame all zero.
  for (const mth of methods) {
    phys.fillFrame(1, 0xa5);
    mth.hot();
    if (!phys.frameIsZero(1)) throw new Error(`clear_page bench: ${mth.key} did not clear the frame`);
  }

  const cases: Case[] = [];
  for (const mth of methods) cases.push({ name: `hot  ${mth.label}`, opsPerCall: PER_CALL, fn: mth.hot });
  for (const mth of methods) cases.push({ name: `cold ${mth.label}`, opsPerCall: PER_CALL, fn: mth.cold });
  const m = new Map<string, Measured>(measure(cases, opts).map((x) => [x.name, x]));

  const nativeHot = native.ok ? (native.figures.memset_4k_hot_ns ?? null) : null;
  const nativeCold = native.ok ? (native.figures.memset_4k_cold_ns ?? null) : null;
  const rows: Row[] = [];
  const figures: Record<string, Figure> = {
    hot_frames: HOT_FRAMES,
    cold_sweep_frames: sweep,
    phys_bytes: DEFAULT_MEM_BYTES,
    frames_per_call: PER_CALL,
    native_available: native.ok,
    native_memset_4k_hot_ns: nativeHot,
    native_memset_4k_cold_ns: nativeCold,
  };
  if (native.ok) figures.native_command = native.cmd;
  else figures.native_skipped_reason = native.reason;
  for (const [temp, nat] of [
    ["hot", nativeHot],
    ["cold", nativeCold],
  ] as const) {
    for (const mth of methods) {
      const x = m.get(`${temp === "hot" ? "hot " : "cold"} ${mth.label}`)!;
      const ratio = nat === null ? null : x.nsPerOp / nat;
      rows.push({ name: x.name, ns: x.nsPerOp, rmePct: x.rmePct, ratio, ratioTo: nat === null ? null : `native memset ${temp}` });
      figures[`${mth.key}_${temp}_ns_per_page`] = x.nsPerOp;
      figures[`${mth.key}_${temp}_ns_rme_pct`] = x.rmePct;
      figures[`${mth.key}_${temp}_over_native_wall_ratio`] = ratio;
    }
    rows.push({ name: `${temp === "hot" ? "hot " : "cold"} native memset (gcc -O2)`, ns: nat, rmePct: null, ratio: nat === null ? null : 1, ratioTo: nat === null ? "skipped" : "(median of 9)" });
  }
  // Which primitive is fastest, and how clearFrame compares with it.
  for (const temp of ["hot", "cold"] as const) {
    let best = methods[0];
    const ns = (mth: Method) => m.get(`${temp === "hot" ? "hot " : "cold"} ${mth.label}`)!.nsPerOp;
    for (const mth of methods) if (ns(mth) < ns(best)) best = mth;
    figures[`fastest_${temp}_wall`] = best.key;
    figures[`clearframe_over_fastest_${temp}_wall_ratio`] = ns(methods[0]) / ns(best);
  }
  const notes = [
    `hot: ${HOT_FRAMES} frames reused; cold: sequential sweep of ${sweep} frames (${DEFAULT_MEM_BYTES >> 20} MiB); ${PER_CALL} frames per call`,
    `fastest hot: ${figures.fastest_hot_wall} (clearFrame ${(figures.clearframe_over_fastest_hot_wall_ratio as number).toFixed(2)}x it); fastest cold: ${figures.fastest_cold_wall} (clearFrame ${(figures.clearframe_over_fastest_cold_wall_ratio as number).toFixed(2)}x it)`,
  ];
  if (!native.ok) notes.push(`native column skipped: ${native.reason}`);
  return { suite: "clear_page", title: "clear_page: clearing one 4 KiB frame", unit: "ns per page", rows, figures, notes };
}

export const clearPageSuite: SuiteDef = {
  name: "clear_page",
  title: "clear_page: PhysMem.clearFrame and alternatives vs native memset",
  run,
};
