// The native calibration probe (bench/native/calibrate.c): built with gcc -O2
// at bench time into bench/native/bin/ (git-ignored), then run for one figure
// group. No gcc: the caller gets the reason and skips the native column.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const NATIVE_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "native");
const SRC = join(NATIVE_DIR, "calibrate.c");
const BIN = join(NATIVE_DIR, "bin", "calibrate");

export type NativeResult = { ok: true; figures: Record<string, number>; cmd: string } | { ok: false; reason: string };

/** Build with gcc -O2 (every run: it takes a fraction of a second) and run `calibrate <what>`. */
export function runCalibrate(what: string): NativeResult {
  if (!existsSync(SRC)) return { ok: false, reason: `${SRC} is missing` };
  mkdirSync(dirname(BIN), { recursive: true });
  const cc = spawnSync("gcc", ["-O2", "-o", BIN, SRC], { encoding: "utf8" });
  if (cc.error) return { ok: false, reason: `gcc not available (${(cc.error as NodeJS.ErrnoException).code ?? cc.error.message})` };
  if (cc.status !== 0) return { ok: false, reason: `gcc -O2 calibrate.c failed: ${cc.stderr.trim()}` };
  const run = spawnSync(BIN, [what], { encoding: "utf8", timeout: 60_000 });
  if (run.error) return { ok: false, reason: `running calibrate failed: ${run.error.message}` };
  if (run.status !== 0) return { ok: false, reason: `calibrate ${what} exited ${run.status}: ${run.stderr.trim()}` };
  const figures: Record<string, number> = {};
  for (const line of run.stdout.split("\n")) {
    const m = /^(\w+)\s+(-?[\d.]+)$/.exec(line.trim());
    if (m) figures[m[1]] = Number(m[2]);
  }
  return { ok: true, figures, cmd: `gcc -O2 -o ${BIN} ${SRC} && ${BIN} ${what}` };
}
