// Replay of glibc mtrace logs: the parser (glibc's line forms, errors with
// line numbers), the mtrace-replay program on real recorded traces, and
// `nozero replay`.

import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readTrace, runReplay } from "../../apps/cmd/replay.ts";
import mtraceReplay from "../../apps/bin/mtrace-replay.ts";
import { Machine } from "../../apps/machine.ts";
import { sizeHistogram } from "../../apps/replay/histogram.ts";
import { MtraceError, OP_FREE, OP_MALLOC, OP_REALLOC, parseMtrace } from "../../apps/replay/mtrace.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const AS_TRACE = resolve(root, "traces/as-calibrate.trace.gz");

function parseError(text: string): MtraceError {
  try {
    parseMtrace(text);
  } catch (e) {
    if (e instanceof MtraceError) return e;
    throw e;
  }
  throw new Error("parsed without error");
}

describe("parseMtrace", () => {
  it("reads every line form glibc 2.36 writes, with and without a caller", () => {
    const t = parseMtrace(
      [
        "= Start",
        "@ /lib/x86_64-linux-gnu/libc.so.6:[0x39221] + 0x559fb90152a0 0x5",
        "@ ./prog:(main+1c)[0x401136] + 0x559fb9015930 0x1d8",
        "@ [0x401136] + (nil) 0x7fffffffffff",
        "+ 0x559fb9016000 0",
        "@ ls:[0x18032] < 0x559fb9015930",
        "@ ls:[0x18032] > 0x559fb9027130 0xa280",
        "@ ls:[0x18032] ! 0x559fb9027130 0x7fffffff0000",
        "- 0x559fb90152a0",
        "@ /lib/x86_64-linux-gnu/libc.so.6:(__libc_freeres+a4)[0x17aa44] - 0x559fb9027130",
        "= End",
        "",
      ].join("\n"),
    );
    expect([...t.kind]).toEqual([OP_MALLOC, OP_MALLOC, OP_MALLOC, OP_REALLOC, OP_FREE, OP_FREE]);
    expect([...t.size]).toEqual([5, 0x1d8, 0, 0xa280, 0, 0]);
    expect([...t.line]).toEqual([2, 3, 5, 7, 9, 10]);
    // The realloc keeps its block's slot; freed slots are reused.
    expect(t.slot[3]).toBe(t.slot[1]);
    expect(t.slots).toBe(3);
    expect({ mallocs: t.mallocs, frees: t.frees, reallocs: t.reallocs, failed: t.failed, unmatched: t.unmatched, leaked: t.leaked }).toEqual({
      mallocs: 3,
      frees: 2,
      reallocs: 1,
      failed: 2,
      unmatched: 0,
      leaked: 1,
    });
    expect(t.peakLiveBytes).toBe(5 + 0xa280);
  });

  it("counts frees of blocks from before the trace, and replays their reallocs as allocations", () => {
    const t = parseMtrace("- 0x10\n< 0x20\n> 0x30 0x40\n- 0x30\n");
    expect(t.unmatched).toBe(2);
    expect([...t.kind]).toEqual([OP_MALLOC, OP_FREE]);
    expect(t.size[0]).toBe(0x40);
  });

  it("accepts CRLF line ends", () => {
    expect(parseMtrace("= Start\r\n+ 0x10 0x20\r\n- 0x10\r\n").count).toBe(2);
  });

  it.each([
    ["+ 0x10 0x20\nmalloc 0x10\n", 2, "not an mtrace line: 'malloc 0x10'"],
    ["= Start\n= Middle\n", 2, "unknown marker '= Middle'"],
    ["+ 0x10\n", 1, "'+' needs an address and a size"],
    ["+ 0x10 0x20\n- 0x10 0x20\n", 2, "'-' takes only an address"],
    ["+ 0x10 0x20\n< 0x10\n- 0x10\n", 3, "expected '>' after the realloc '<' on line 2, got '-'"],
    ["> 0x10 0x20\n", 1, "realloc '>' without the '<' line before it"],
    ["+ 0x10 0x20\n< 0x10\n", 2, "realloc '<' has no '>' line after it"],
    ["+ 0x10 12\n", 1, "not an mtrace line"],
    ["+ 0x10 0xffffffffffffffffff\n", 1, "is too large"],
  ])("rejects %j at line %d", (text, line, detail) => {
    const e = parseError(text);
    expect(e.line).toBe(line);
    expect(e.detail).toContain(detail);
    expect(e.message).toBe(`line ${line}: ${e.detail}`);
  });
});

describe("sizeHistogram", () => {
  it("counts mallocs and reallocs by power-of-two class, not frees", () => {
    const h = sizeHistogram(parseMtrace("+ 0x1 0\n+ 0x2 0x10\n+ 0x3 0x11\n< 0x3\n> 0x4 0x40000\n- 0x4\n+ 0x5 0x20001\n"));
    const nonEmpty = h.filter((c) => c.count > 0).map((c) => [c.label, c.count, c.bytes]);
    expect(nonEmpty).toEqual([
      ["<=16", 2, 16],
      ["<=32", 1, 17],
      [">128K", 2, 0x40000 + 0x20001],
    ]);
  });
});

describe("mtrace-replay", () => {
  const text = readTrace(AS_TRACE);

  function replayOnce(args: string[], env: string[] = ["PATH=/bin"]) {
    const m = new Machine({ policy: "nozero" });
    m.k.vfs.writeFile("/tmp/as.trace", Buffer.from(text, "latin1"), 0o644, 1000, 1000);
    return m.run(["mtrace-replay", ...args, "/tmp/as.trace"], { uid: 1000, gid: 1000, env });
  }

  it.each(["all", "ends", "none"])("replays a real as trace with -t %s and checks every block", (touch) => {
    const r = replayOnce(["-t", touch]);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^replayed 1256 operations \(839 malloc, 416 free, 1 realloc\) from \/tmp\/as.trace$/m);
  });

  it("writing every byte costs more cycles than writing the ends, which costs more than nothing", () => {
    const [all, ends, none] = ["all", "ends", "none"].map((t) => replayOnce(["-t", t]).cycles);
    expect(all).toBeGreaterThan(ends);
    expect(ends).toBeGreaterThan(none);
  });

  it("passes with malloc's perturb and check knobs set", () => {
    const r = replayOnce([], ["PATH=/bin", "MALLOC_PERTURB_=165", "MALLOC_CHECK_=3", "MALLOC_NOZERO=1"]);
    expect(r.exitCode).toBe(0);
  });

  it("catches a realloc that loses the block's contents", () => {
    const m = new Machine();
    m.install("lossy-replay", (argv, envp, libc) => {
      libc.realloc = (_p: number, n: number) => libc.malloc(n); // moves without copying
      return mtraceReplay(argv, envp, libc);
    });
    m.k.vfs.writeFile("/tmp/t.trace", "+ 0x10 0x20\n< 0x10\n> 0x20 0x40\n- 0x20\n");
    const r = m.run(["lossy-replay", "/tmp/t.trace"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^mtrace-replay: \/tmp\/t.trace:4: block of 64 bytes changed under the program \(first byte 0, last 1, wrote 1\)\n$/);
  });

  it("reports a malformed trace with its file and line, and bad flags with usage", () => {
    const m = new Machine();
    m.k.vfs.writeFile("/tmp/bad.trace", "= Start\n+ 0x10 0x20\n+ 0x10\n");
    const bad = m.run(["mtrace-replay", "/tmp/bad.trace"]);
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toBe("mtrace-replay: /tmp/bad.trace:3: '+' needs an address and a size\n");
    const usage = m.run(["mtrace-replay", "-t", "some", "/tmp/bad.trace"]);
    expect(usage.exitCode).toBe(2);
    expect(usage.stderr).toContain("usage: mtrace-replay");
  });
});

describe("runReplay", () => {
  const text = readTrace(AS_TRACE);

  it("is deterministic, and MALLOC_NOZERO=1 changes only the zeroing", () => {
    const a = runReplay("as.trace", text);
    const b = runReplay("as.trace", text);
    for (const k of ["simulatedSeconds", "cycles", "minflt", "clearPageCycles"] as const) {
      expect(b.stock[k]).toBe(a.stock[k]);
      expect(b.nozero[k]).toBe(a.nozero[k]);
    }
    expect(a.stock.exitCode).toBe(0);
    expect(a.nozero.exitCode).toBe(0);
    // Same work and the same faults; the later runs reuse the user's own frames uncleared.
    expect(a.nozero.minflt).toBe(a.stock.minflt);
    expect(a.nozero.clearPageCycles).toBeLessThan(a.stock.clearPageCycles);
    expect(a.nozero.cycles).toBeLessThan(a.stock.cycles);
    const untimed = (s: string) => s.replace(/^.* s simulated in the replay loop\n/gm, "");
    expect(untimed(a.nozero.stdout)).toBe(untimed(a.stock.stdout));
  });

  it("one run per machine has nothing of the user's to recycle: the same clear_page cycles either way", () => {
    const r = runReplay("as.trace", text, { runs: 1 });
    expect(r.nozero.clearPageCycles).toBe(r.stock.clearPageCycles);
  });
});

describe("nozero replay", () => {
  const tsx = resolve(root, "node_modules/.bin/tsx");
  const nozero = (args: string[]) => {
    const r = spawnSync(tsx, [resolve(root, "apps/cli.ts"), "replay", ...args], { cwd: root, encoding: "utf8", env: { ...process.env, MALLOC_NOZERO: "" } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it("--json prints one object with both runs", () => {
    const r = nozero(["--json", "--runs", "2", "traces/ls-l.trace.gz"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ trace: "traces/ls-l.trace.gz", operations: 778, mallocs: 425, frees: 352, reallocs: 1, runs: 2, touch: "all", policy: "nozero", machine: "host", user: "alice" });
    for (const run of [j.stock, j.nozero]) {
      for (const k of ["exitCode", "simulatedSeconds", "cycles", "minflt", "clearPageCycles", "clearPageShare", "clearPageRank", "maxRssKiB"]) expect(typeof run[k]).toBe("number");
      expect(Array.isArray(run.profile)).toBe(true);
    }
    expect(typeof j.deltaPct).toBe("number");
    expect(typeof j.wallSeconds).toBe("number");
  });

  it("a malformed trace line is reported with its number, exit 2; so is a missing file", () => {
    const dir = mkdtempSync(join(tmpdir(), "nozero-replay-"));
    const bad = join(dir, "bad.trace");
    writeFileSync(bad, "= Start\n@ ./p:[0x1] + 0x10 0x20\n@ ./p:[0x1] free 0x10\n");
    const r = nozero([bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`nozero replay: ${bad}:3: not an mtrace line: '@ ./p:[0x1] free 0x10'\n`);
    const missing = nozero([join(dir, "none.trace")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("ENOENT");
  });

  it("bad flags print usage and exit 2", () => {
    for (const args of [["--touch", "half", "x"], ["--runs", "0", "x"], [], ["--bogus", "x"]]) {
      const r = nozero(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("usage: nozero replay");
    }
  });
});
