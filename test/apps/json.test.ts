// The --json output of every nozero command, run as a user runs it: stdout is
// exactly one JSON object with the documented fields and types, and two runs
// agree on every figure whose key does not say "wall".

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { isMachineProfile } from "../../kernel/cost/machines.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const tsx = resolve(root, "node_modules/.bin/tsx");

type Kind = "number" | "string" | "boolean" | "object" | "array";
type Shape = Record<string, Kind>;

/** `nozero ARGS --json`: the exit code and the one object on stdout. */
function nozeroJson(args: string[], env: Record<string, string> = {}): { code: number; json: Record<string, unknown>; stderr: string } {
  const r = spawnSync(tsx, [resolve(root, "apps/cli.ts"), ...args], {
    cwd: root,
    env: { ...process.env, MALLOC_NOZERO: "", ...env },
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  return { code: r.status ?? -1, json: JSON.parse(r.stdout) as Record<string, unknown>, stderr: r.stderr };
}

function expectShape(obj: unknown, shape: Shape, where: string): void {
  expect(obj, where).toBeTypeOf("object");
  for (const [key, kind] of Object.entries(shape)) {
    const v = (obj as Record<string, unknown>)[key];
    if (kind === "array") expect(Array.isArray(v), `${where}.${key} is an array`).toBe(true);
    else expect(typeof v, `${where}.${key}`).toBe(kind);
  }
}

/** The object with every key that names a wall-clock figure removed. */
function withoutWall(x: unknown): unknown {
  return JSON.parse(JSON.stringify(x, (k, v) => (/wall/i.test(k) ? undefined : v)));
}

const PROFILE_ROW: Shape = { samples: "number", percent: "number", image: "string", symbol: "string", cycles: "number" };

describe("--json of every command", () => {
  it("run", () => {
    const a = nozeroJson(["run", "--json", "--", "mallocbench", "-r", "2", "-n", "500"]);
    expect(a.code).toBe(0);
    expectShape(a.json, { exitCode: "number", signal: "number", stdout: "string", stderr: "string", cycles: "number", simulatedSeconds: "number", minflt: "number" }, "run");
    const b = nozeroJson(["run", "--json", "--", "mallocbench", "-r", "2", "-n", "500"]);
    expect(withoutWall(b.json)).toEqual(withoutWall(a.json));
  });

  it("ebizzy", () => {
    const args = ["ebizzy", "--json", "-m", "-S", "0.05", "-t", "1"];
    const a = nozeroJson(args);
    expect(a.code).toBe(0);
    expectShape(
      a.json,
      { exitCode: "number", stdout: "string", recordsPerSecond: "number", simulatedSeconds: "number", cycles: "number", minflt: "number", clearPageCycles: "number", clearPageShare: "number", clearPageRank: "number", wallSeconds: "number", profile: "array" },
      "ebizzy",
    );
    expectShape((a.json.profile as unknown[])[0], PROFILE_ROW, "ebizzy.profile[0]");
    expect(a.json.recordsPerSecond).toBeGreaterThan(0);
    expect(withoutWall(nozeroJson(args).json)).toEqual(withoutWall(a.json));
  });

  it("build", () => {
    const args = ["build", "--json", "--files", "4", "--header-lines", "300"];
    const a = nozeroJson(args);
    expect(a.code).toBe(0);
    expectShape(
      a.json,
      {
        outputHash: "string",
        programOutput: "string",
        expectedChecksum: "number",
        checksumOk: "boolean",
        simulatedSeconds: "number",
        cycles: "number",
        minflt: "number",
        clearPageCycles: "number",
        clearPageShare: "number",
        processes: "number",
        processesByProgram: "object",
        objectHashes: "object",
        executableHash: "string",
        profile: "array",
        wallSeconds: "number",
      },
      "build",
    );
    expect(a.json.checksumOk).toBe(true);
    expect(a.json.programOutput).toBe(`${a.json.expectedChecksum}\n`);
    expect(withoutWall(nozeroJson(args).json)).toEqual(withoutWall(a.json));
  });

  it("gen-tree", () => {
    const dir = join(mkdtempSync(join(tmpdir(), "nozero-json-")), "tree");
    const a = nozeroJson(["gen-tree", "--json", "--files", "5", "--header-lines", "200", dir]);
    expect(a.code).toBe(0);
    expectShape(a.json, { dir: "string", files: "number", cFiles: "number", bytes: "number", objects: "number", expectedChecksum: "number", expectedOutput: "string" }, "gen-tree");
    expect(a.json.cFiles).toBe(5);
    expect(existsSync(join(dir, "Makefile"))).toBe(true);
  });

  it("replay", () => {
    const a = nozeroJson(["replay", "--json", "--lenient", "--runs", "1", "traces/ls-l.trace.gz"]);
    expect(a.code).toBe(0);
    expectShape(a.json, { trace: "string", opsTotal: "number", ops: "object", peakLiveBytes: "number", peakLiveBlocks: "number", liveAtEndBlocks: "number", liveAtEndBytes: "number", deltaPct: "number", stock: "object", nozero: "object", wallSeconds: "number" }, "replay");
    expect(withoutWall(nozeroJson(["replay", "--json", "--lenient", "--runs", "1", "traces/ls-l.trace.gz"]).json)).toEqual(withoutWall(a.json));
  });

  it.skipIf(spawnSync("gcc", ["--version"]).status !== 0)("calibrate (needs gcc)", () => {
    const out = join(mkdtempSync(join(tmpdir(), "nozero-cal-")), "m.json");
    const a = nozeroJson(["calibrate", "--json", "--out", out]);
    expect(a.code).toBe(0);
    expect(a.json.file).toBe(out);
    const cal = a.json.calibration as Record<string, unknown>;
    for (const k of ["syscall_ns", "fault_read_ns", "fault_write_hot_ns", "fault_write_cold_ns", "munmap_page_ns", "memset_4k_hot_ns", "memset_4k_cold_ns", "memcpy_ns_per_byte", "malloc_pair_ns", "accesses_per_pair", "misses_per_pair", "mhz"]) {
      expect(typeof cal[k], k).toBe("number");
    }
    // The file it wrote is a profile --machine accepts.
    expect(isMachineProfile((JSON.parse(readFileSync(out, "utf8")) as { profile: unknown }).profile)).toBe(true);
  });

  it("compare --quick --machine host (no progress bar on stderr)", () => {
    const a = nozeroJson(["compare", "--quick", "--machine", "host", "--json"]);
    expect(a.code).toBe(0);
    expect(a.stderr).toBe("");
    expect(a.json).toMatchObject({ quick: true, buildOutputsIdentical: true });
    expectShape(a.json, { machines: "array", wallSeconds: "number" }, "compare");
    expect((a.json.machines as { machine: string }[]).map((m) => m.machine)).toEqual(["host"]);
  }, 120_000);
});
