// nozero calibrate: measure this machine's native figures (syscall, faults,
// munmap, memset, memcpy, malloc) with a small C program built by gcc, count
// what our malloc does on the same loop in the emulator, and write a machine
// profile (JSON) that `--machine FILE.json` loads.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { NUEV, Uev } from "../../kernel/cost/events.ts";
import { type Calibration, profileFromCalibration } from "../../kernel/cost/machines.ts";
import type { Libc } from "../../libc/libc.ts";
import { Machine } from "../machine.ts";
import { type FlagSpec, UsageError, parseFlags } from "./flags.ts";

export const CALIBRATE_USAGE = `usage: nozero calibrate [--out FILE.json] [--json]
  Builds bench/native/calibrate.c with gcc, runs it, and writes a machine
  profile (default nozero-calibrated.json) for --machine FILE.json.
`;

const SPEC: FlagSpec = { out: { kind: "string" }, json: { kind: "bool" } };
const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** workloads.md 5.4's loop: LIVE blocks of 16-512 B, then OPS times free a random one and malloc another. */
const CALIB_LIVE = 10_000;
export const CALIB_OPS = 200_000;

/** The loop in an emulated process; `timed` runs the free+malloc pairs (not the set-up), e.g. between two clock reads. */
function calibrationLoop(libc: Libc, timed: (libc: Libc, pairs: () => void) => void): void {
  let x = 12345;
  const r = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  const slots: number[] = [];
  for (let i = 0; i < CALIB_LIVE; i++) slots.push(libc.malloc(16 + (r() % 497)));
  timed(libc, () => {
    for (let i = 0; i < CALIB_OPS; i++) {
      const s = r() % CALIB_LIVE;
      libc.free(slots[s]);
      slots[s] = libc.malloc(16 + (r() % 497));
    }
  });
}

/** Our malloc's accesses and TLB misses per free+malloc pair on the loop (the set-up mallocs counted as pairs). */
export function mallocAccessesPerPair(timed: (libc: Libc, pairs: () => void) => void = (_libc, pairs) => pairs()): { accesses: number; misses: number } {
  const m = new Machine({ memMiB: 64 });
  m.install("calib", (_argv, _envp, libc) => {
    calibrationLoop(libc, timed);
    return 0;
  });
  const run = m.run(["calib"]);
  let accesses = 0;
  let misses = 0;
  const names = new Set(["malloc", "free", "_int_malloc", "_int_free", "malloc_consolidate"]);
  for (let s = 0; s < run.counters.u.length / NUEV; s++) {
    if (!names.has(m.k.symbols.list[s]?.name ?? "")) continue;
    accesses += run.counters.u[s * NUEV + Uev.ACCESS];
    misses += run.counters.u[s * NUEV + Uev.TLB_MISS];
  }
  if (run.exitCode !== 0) throw new Error(`calibration loop failed: ${run.stderr}`);
  const pairs = CALIB_OPS + CALIB_LIVE;
  return { accesses: accesses / pairs, misses: misses / pairs };
}

/** Build and run the native probe; its "name value" lines, or why it could not. */
function measureNative(): Record<string, number> | string {
  const dir = mkdtempSync(join(tmpdir(), "nozero-cal-"));
  const bin = join(dir, "calibrate");
  try {
    execFileSync("gcc", ["-O2", "-o", bin, join(root, "bench/native/calibrate.c")], { stdio: "pipe" });
  } catch (e) {
    return `cannot build the native probe with gcc (calibrate needs a C compiler): ${(e as Error).message.split("\n")[0]}`;
  }
  const out = execFileSync(bin, { encoding: "utf8" });
  const fig: Record<string, number> = {};
  for (const line of out.trim().split("\n")) {
    const [k, v] = line.split(" ");
    fig[k] = Number(v);
  }
  return fig;
}

function cpuMhz(): number {
  try {
    const m = /cpu MHz\s*:\s*([\d.]+)/.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (m) return Number(m[1]);
  } catch {
    /* not Linux: fall through */
  }
  return 2596;
}

export async function cmdCalibrate(args: string[]): Promise<number> {
  const { flags, rest } = parseFlags(args, SPEC);
  if (rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}`);
  const fig = measureNative();
  if (typeof fig === "string") {
    process.stderr.write(`nozero calibrate: ${fig}\n`);
    return 1;
  }
  const per = mallocAccessesPerPair();
  const cal: Calibration = {
    host: hostname(),
    date: new Date().toISOString().slice(0, 10),
    mhz: cpuMhz(),
    syscall_ns: fig.syscall_ns,
    mmap_munmap_pair_ns: fig.mmap_munmap_pair_ns,
    fault_read_ns: fig.fault_read_ns,
    fault_write_hot_ns: fig.fault_write_hot_ns,
    fault_write_cold_ns: fig.fault_write_cold_ns,
    munmap_page_ns: fig.munmap_page_ns,
    memset_4k_hot_ns: fig.memset_4k_hot_ns,
    memset_4k_cold_ns: fig.memset_4k_cold_ns,
    memcpy_ns_per_byte: fig.memcpy_ns_per_byte,
    malloc_pair_ns: fig.malloc_pair_ns,
    accesses_per_pair: per.accesses,
    misses_per_pair: per.misses,
  };
  const prof = profileFromCalibration(cal);
  const out = resolve((flags.out as string | undefined) ?? "nozero-calibrated.json");
  writeFileSync(out, JSON.stringify({ calibration: cal, profile: prof }, null, 2) + "\n");
  if (flags.json) process.stdout.write(JSON.stringify({ file: out, calibration: cal }, null, 2) + "\n");
  else {
    process.stdout.write(`wrote ${out}\n`);
    for (const [k, v] of Object.entries(cal)) process.stdout.write(`  ${k.padEnd(22)} ${v}\n`);
  }
  return 0;
}
