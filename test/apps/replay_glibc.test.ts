// `nozero replay` on a log real glibc wrote: test/fixtures/mtrace_pattern.c
// built with the host's gcc and run under glibc's mtrace (MALLOC_TRACE plus
// the libc_malloc_debug.so.0 preload, glibc >= 2.34). The program prints
// what its log must show, counted from its calls' results; the scan and the
// replay must find the same, plain and gzip, and a line taken out of the log
// must be reported by the line where the trace breaks.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ReplayResult, runReplay } from "../../apps/cmd/replay.ts";
import { scanTraceFile } from "../../apps/replay/scan.ts";
import { TraceError, type TraceStats } from "../../apps/replay/trace_parser.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const FIXTURE = resolve(root, "test/fixtures/mtrace_pattern.c");

/** The preload that carries mtrace since glibc 2.34, as an absolute path, or "". */
function findMallocDebug(): string {
  const r = spawnSync("gcc", ["-print-file-name=libc_malloc_debug.so.0"], { encoding: "utf8" });
  const asked = r.status === 0 ? r.stdout.trim() : "";
  if (asked.startsWith("/") && existsSync(asked)) return asked;
  for (const dir of ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"]) {
    const p = `${dir}/libc_malloc_debug.so.0`;
    if (existsSync(p)) return p;
  }
  return "";
}

const hasGcc = spawnSync("gcc", ["--version"]).status === 0;
const MALLOC_DEBUG = hasGcc ? findMallocDebug() : "";
const skipReason = !hasGcc
  ? "gcc is not on PATH"
  : MALLOC_DEBUG === ""
    ? "libc_malloc_debug.so.0 not found (glibc >= 2.34 carries mtrace there)"
    : "";
if (skipReason !== "") console.log(`replay_glibc.test.ts: skipped: ${skipReason}`);

/** The program's "key value" lines. */
type Expected = Record<string, number>;

/** The scan's figures that the program counts itself. */
function counted(s: TraceStats | ReplayResult): Expected {
  const skipped = "skipped" in s ? s.skipped : s.skippedLines;
  return {
    malloc: s.ops.malloc,
    free: s.ops.free,
    realloc: s.ops.realloc,
    calloc: s.ops.calloc,
    memalign: s.ops.memalign,
    opsTotal: s.opsTotal,
    failed: s.failedInTrace,
    peak_live_bytes: s.peakLiveBytes,
    peak_live_blocks: s.peakLiveBlocks,
    live_at_end_blocks: s.liveAtEndBlocks,
    live_at_end_bytes: s.liveAtEndBytes,
    skipped,
  };
}

function fromProgram(e: Expected): Expected {
  return {
    malloc: e.malloc,
    free: e.free,
    realloc: e.realloc,
    // glibc's log cannot tell calloc and memalign from malloc: all are "+".
    calloc: 0,
    memalign: 0,
    opsTotal: e.malloc + e.free + e.realloc,
    failed: e.failed,
    peak_live_bytes: e.peak_live_bytes,
    peak_live_blocks: e.peak_live_blocks,
    live_at_end_blocks: e.live_at_end_blocks,
    live_at_end_bytes: e.live_at_end_bytes,
    skipped: 0,
  };
}

describe.skipIf(skipReason !== "")("nozero replay on a real glibc mtrace log (host gcc and glibc)", () => {
  let dir = "";
  let prog = "";

  /** Run the fixture under mtrace; its log and what it printed. */
  function record(name: string, args: string[] = []): { log: string; text: string; expected: Expected } {
    const log = join(dir, `${name}.trace`);
    const r = spawnSync(prog, args, {
      cwd: dir,
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", MALLOC_TRACE: log, LD_PRELOAD: MALLOC_DEBUG },
    });
    expect(r.status, r.stderr).toBe(0);
    const expected: Expected = {};
    for (const line of r.stdout.trim().split("\n")) {
      const [key, value] = line.split(" ");
      expected[key] = Number(value);
    }
    return { log, text: readFileSync(log, "latin1"), expected };
  }

  let plain: ReturnType<typeof record>;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "nozero-mtrace-"));
    prog = join(dir, "prog");
    const cc = spawnSync("gcc", ["-O0", "-o", prog, FIXTURE], { encoding: "utf8" });
    expect(cc.status, cc.stderr).toBe(0);
    plain = record("pattern");
  });

  afterAll(() => {
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  it("the program runs its whole pattern, and glibc logs it line by line", () => {
    const e = plain.expected;
    expect(e).toMatchObject({ malloc: 19, free: 17, realloc: 4, failed: 2, live_at_end_blocks: 1, live_at_end_bytes: 777 });
    expect(e.realloc_moved).toBeGreaterThanOrEqual(1);
    const lines = plain.text.split("\n");
    expect(lines[0]).toBe("= Start");
    expect(lines.at(-2)).toBe("= End");
    expect(lines.at(-1)).toBe("");
    // Every call carries its caller in the main program ("@ ./prog:[0x...]").
    for (const l of lines.slice(1, -2)) expect(l).toMatch(/^@ \S+\[0x[0-9a-f]+\] [-+<>!] /);
    expect(plain.text).toMatch(/ \+ 0x[0-9a-f]+ 0\n/); // malloc(0): a bare 0
    expect(plain.text).toContain(` + (nil) 0x${e.fail_size.toString(16)}\n`);
    expect(plain.text).toMatch(new RegExp(` ! 0x[0-9a-f]+ 0x${e.fail_size.toString(16)}\n`));
  });

  it("a strict scan counts what the program did, and so does the log gzip-compressed", () => {
    const s = scanTraceFile(plain.log);
    expect(s.format).toBe("mtrace");
    expect(counted(s)).toEqual(fromProgram(plain.expected));

    const gz = `${plain.log}.gz`;
    writeFileSync(gz, gzipSync(Buffer.from(plain.text, "latin1")));
    const z = scanTraceFile(gz);
    const { histogram: h1, ...rest1 } = s;
    const { histogram: h2, ...rest2 } = z;
    expect(rest2).toEqual(rest1);
    expect(h2.classes()).toEqual(h1.classes());
  });

  it("runReplay replays it in both modes, plain and gzip alike", () => {
    const gz = `${plain.log}.gz`;
    if (!existsSync(gz)) writeFileSync(gz, gzipSync(Buffer.from(plain.text, "latin1")));
    const r = runReplay(plain.log, { runs: 1 });
    const rz = runReplay(gz, { runs: 1 });
    for (const x of [r, rz]) {
      expect(x.format).toBe("mtrace");
      expect(counted(x)).toEqual(fromProgram(plain.expected));
      expect(x.stock.exitCode, x.stock.stderr).toBe(0);
      expect(x.nozero.exitCode, x.nozero.stderr).toBe(0);
    }
    const figures = (x: ReplayResult) => ({
      stock: { cycles: x.stock.cycles, minflt: x.stock.minflt, clearPageCycles: x.stock.clearPageCycles, simulatedSeconds: x.stock.simulatedSeconds },
      nozero: { cycles: x.nozero.cycles, minflt: x.nozero.minflt, clearPageCycles: x.nozero.clearPageCycles, simulatedSeconds: x.nozero.simulatedSeconds },
    });
    expect(figures(rz)).toEqual(figures(r));
    expect(r.stock.cycles).toBeGreaterThan(0);
    expect(r.stock.minflt).toBeGreaterThan(0);
  });

  it("a '+' line taken out: a strict scan names the line of its free, a lenient one skips that line", () => {
    const lines = plain.text.split("\n");
    // The first allocation whose address is next seen in its "- PTR" line.
    let cut = -1;
    let freeLine = -1;
    let addr = "";
    for (let i = 0; i < lines.length && cut < 0; i++) {
      const m = / \+ (0x[0-9a-f]+) /.exec(lines[i]);
      if (m === null) continue;
      const next = lines.findIndex((l, j) => j > i && l.includes(` ${m[1]}`));
      if (next > 0 && lines[next].endsWith(` - ${m[1]}`)) [cut, freeLine, addr] = [i, next, m[1]];
    }
    expect(cut).toBeGreaterThan(0);
    const broken = join(dir, "broken.trace");
    writeFileSync(broken, lines.filter((_, i) => i !== cut).join("\n"), "latin1");

    let err: unknown = null;
    try {
      scanTraceFile(broken);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TraceError);
    // freeLine is 0-based in the original; one line before it is gone.
    expect((err as TraceError).line).toBe(freeLine);
    expect((err as TraceError).detail).toContain(addr);

    const s = scanTraceFile(broken, { lenient: true });
    expect(s.skipped).toBe(1);
    expect(s.firstSkipped).toBe((err as TraceError).message);
    const e = plain.expected;
    expect({ malloc: s.ops.malloc, free: s.ops.free, live: s.liveAtEndBlocks }).toEqual({ malloc: e.malloc - 1, free: e.free, live: 1 });
  });

  it("a failing malloc(SIZE_MAX/2), as glibc logs it, scans like any failed call", () => {
    const huge = record("huge", ["huge"]);
    expect(huge.text).toContain(" + (nil) 0x7fffffffffffffff\n");
    expect(counted(scanTraceFile(huge.log))).toEqual(fromProgram(huge.expected));
  });
});
