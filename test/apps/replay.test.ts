// Replay of malloc traces: the parser (glibc's mtrace line forms and JSON
// lines, errors with line numbers, lenient skipping), trace files (plain and
// gzip, read in pieces), the mtrace-replay program on real recorded traces,
// and `nozero replay`.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync, gzipSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ReplayError, runReplay } from "../../apps/cmd/replay.ts";
import mtraceReplay from "../../apps/bin/mtrace-replay.ts";
import { Machine } from "../../apps/machine.ts";
import { scanTraceFile, scanTraceText } from "../../apps/replay/scan.ts";
import { AddrMap } from "../../apps/replay/addr_map.ts";
import { DecodedTraceFile, LineSplitter, TraceFileError } from "../../apps/replay/trace_file.ts";
import { OP_CALLOC, OP_FREE, OP_MALLOC, OP_MEMALIGN, OP_REALLOC, TraceError } from "../../apps/replay/trace_parser.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const AS_TRACE = resolve(root, "traces/as-calibrate.trace.gz");
const LS_TRACE = resolve(root, "traces/ls-l.trace.gz");
const dir = mkdtempSync(join(tmpdir(), "nozero-replay-"));
let files = 0;

/** Write text to a fresh temp file (gzip-compressed when gz), returning its path. */
function traceFile(text: string | Uint8Array, gz = false): string {
  const path = join(dir, `t${files++}.trace${gz ? ".gz" : ""}`);
  const bytes = typeof text === "string" ? Buffer.from(text, "latin1") : text;
  writeFileSync(path, gz ? gzipSync(bytes) : bytes);
  return path;
}

type Op = [kind: number, slot: number, size: number, align: number, line: number];

function ops(text: string, lenient = false): { ops: Op[]; stats: ReturnType<typeof scanTraceText> } {
  const out: Op[] = [];
  const stats = scanTraceText(text, { lenient, sink: (k, s, n, a, l) => out.push([k, s, n, a, l]) });
  return { ops: out, stats };
}

function parseError(text: string): TraceError {
  try {
    scanTraceText(text);
  } catch (e) {
    if (e instanceof TraceError) return e;
    throw e;
  }
  throw new Error("parsed without error");
}

describe("mtrace lines", () => {
  it("reads every line form glibc writes: callers by path, by bare name, by address only, and none", () => {
    const { ops: o, stats } = ops(
      [
        "= Start",
        "@ /lib/x86_64-linux-gnu/libc.so.6:[0x39221] + 0x559fb90152a0 0x5",
        "@ ./prog:(main+0x1c)[0x401136] + 0x559fb9015930 0x1d8",
        "@ [0x401136] + (nil) 0x7fffffffffff",
        "+ 0x559fb9016000 0",
        "@ ls:[0x18032] < 0x559fb9015930",
        "@ ls:[0x18032] > 0x559fb9027130 0xa280",
        "@ ls:[0x18032] ! 0x559fb9027130 0x7fffffff0000",
        "- 0x559fb90152a0",
        "@ /opt/my app/lib x.so:(__libc_freeres+a4)[0x17aa44] - 0x559fb9027130",
        "= End",
        "",
      ].join("\n"),
    );
    expect(o.map((x) => x[0])).toEqual([OP_MALLOC, OP_MALLOC, OP_MALLOC, OP_REALLOC, OP_FREE, OP_FREE]);
    expect(o.map((x) => x[2])).toEqual([5, 0x1d8, 0, 0xa280, 0, 0]);
    expect(o.map((x) => x[4])).toEqual([2, 3, 5, 7, 9, 10]);
    // The realloc keeps its block's slot; a freed slot is reused.
    expect(o[3][1]).toBe(o[1][1]);
    expect(stats.slots).toBe(3);
    expect(stats).toMatchObject({
      format: "mtrace",
      lines: 11,
      ops: { malloc: 4, calloc: 0, memalign: 0, realloc: 2, free: 2 },
      opsTotal: 8,
      failedInTrace: 2,
      skipped: 0,
      peakLiveBytes: 5 + 0xa280,
      peakLiveBlocks: 3,
      liveAtEndBlocks: 1,
      liveAtEndBytes: 0,
    });
  });

  it("accepts CRLF line ends and a last line without a newline", () => {
    expect(ops("= Start\r\n+ 0x10 0x20\r\n- 0x10").stats.opsTotal).toBe(2);
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
    ["+ 0x10 0xffffffffffffffffff\n", 1, "is too large for a size_t"],
    ["+ 0x10 0x20\n- 0x30\n", 2, "free of 0x30, which is not live"],
    ["+ 0x10 0x20\n- 0x10\n- 0x10\n", 3, "free of 0x10, which is not live"],
    ["= Start\n< 0x20\n> 0x30 0x40\n", 2, "realloc of 0x20, which is not live"],
    ["+ 0x10 0x20\n+ 0x10 0x30\n", 2, "0x10 is handed out again while live (allocated on line 1)"],
    ["+ 0x10 0x20\n+ 0x20 0x20\n< 0x10\n> 0x20 0x40\n", 4, "realloc returned 0x20, which is live (allocated on line 2)"],
  ])("rejects %j at line %d", (text, line, detail) => {
    const e = parseError(text);
    expect(e.line).toBe(line);
    expect(e.detail).toContain(detail);
    expect(e.message).toBe(`line ${line}: ${e.detail}`);
  });

  it("lenient parsing counts and skips what breaks the trace; a realloc of a block it never saw becomes an allocation", () => {
    const { ops: o, stats } = ops("- 0x10\nbogus\n< 0x20\n> 0x30 0x40\n- 0x30\n+ 0x50 0x8\n+ 0x50 0x9\n", true);
    expect(o.map((x) => [x[0], x[2]])).toEqual([
      [OP_MALLOC, 0x40],
      [OP_FREE, 0],
      [OP_MALLOC, 8],
    ]);
    expect(stats.skipped).toBe(4);
    expect(stats.firstSkipped).toBe("line 1: free of 0x10, which is not live (allocated before the trace started, or freed already)");
    expect(stats.ops).toEqual({ malloc: 2, calloc: 0, memalign: 0, realloc: 1, free: 2 });
  });
});

describe("JSON lines", () => {
  const jl = (...objs: object[]) => objs.map((o) => JSON.stringify(o)).join("\n") + "\n";

  it("tell malloc, calloc, memalign, realloc and free apart", () => {
    const { ops: o, stats } = ops(
      jl(
        { op: "malloc", ptr: "0x1000", size: 24 },
        { op: "calloc", ptr: "0x2000", size: 400 },
        { op: "memalign", ptr: "0x4000", size: 100, align: 64 },
        { op: "realloc", old: "0x1000", ptr: "0x5000", size: 4000 },
        { op: "realloc", old: "0x0", ptr: "0x6000", size: 8 },
        { op: "realloc", old: "0x6000", ptr: "0x0", size: 0 },
        { op: "malloc", ptr: "0x0", size: 1e12 },
        { op: "free", ptr: "0x0" },
        { op: "free", ptr: "0x00002000" },
      ),
    );
    expect(o.map((x) => [x[0], x[2], x[3]])).toEqual([
      [OP_MALLOC, 24, 0],
      [OP_CALLOC, 400, 0],
      [OP_MEMALIGN, 100, 64],
      [OP_REALLOC, 4000, 0],
      [OP_REALLOC, 8, 0],
      [OP_REALLOC, 0, 0], // realloc(p, 0) frees p
      [OP_FREE, 0, 0], // free(NULL), replayed as such
      [OP_FREE, 0, 0],
    ]);
    expect(o[6][1]).toBe(-1);
    expect(stats).toMatchObject({
      format: "jsonl",
      ops: { malloc: 2, calloc: 1, memalign: 1, realloc: 3, free: 2 },
      opsTotal: 9,
      failedInTrace: 1,
      peakLiveBytes: 400 + 100 + 4000 + 8,
      liveAtEndBlocks: 2,
      liveAtEndBytes: 4100,
    });
  });

  it.each([
    ['{"op":"malloc","ptr":"0x10","size":1}\n[1,2]\n', 2, "not a JSON object"],
    ['{"op":"malloc","ptr":"0x10","size":1}\n{"op":"malloc"\n', 2, "not a JSON object"],
    ['{"op":"mmap","ptr":"0x10","size":1}\n', 1, '"op" must be one of malloc, calloc, memalign, realloc, free, not "mmap"'],
    ['{"op":"malloc","ptr":16,"size":1}\n', 1, '"ptr" must be a hex address string'],
    ['{"op":"malloc","ptr":"0x10","size":-1}\n', 1, '"size" must be a byte count'],
    ['{"op":"memalign","ptr":"0x10","size":1,"align":24}\n', 1, '"align" must be a power of two, not 24'],
    ['{"op":"free","ptr":"0x10"}\n', 1, "free of 0x10, which is not live"],
    ['{"op":"realloc","ptr":"0x20","size":8}\n', 1, '"old" must be a hex address string'],
  ])("rejects %j at line %d", (text, line, detail) => {
    const e = parseError(text);
    expect(e.line).toBe(line);
    expect(e.detail).toContain(detail);
  });
});

/** A random trace as mtrace text and JSON lines, with its figures counted independently. */
const traceArb = fc.array(fc.tuple(fc.nat(9), fc.integer({ min: 0, max: 70000 })), { maxLength: 200 }).map((steps) => {
  const live = new Map<number, number>(); // address -> size
  let next = 0x1000;
  let liveBytes = 0;
  let peakBytes = 0;
  let peakBlocks = 0;
  const counts = { malloc: 0, realloc: 0, free: 0 };
  const mtrace = ["= Start"];
  const json: string[] = [];
  const hex = (n: number) => `0x${n.toString(16)}`;
  for (const [what, size] of steps) {
    const addrs = [...live.keys()];
    const victim = addrs.length > 0 ? addrs[size % addrs.length] : -1;
    if (what < 5 || victim < 0) {
      const a = (next += 0x20000);
      live.set(a, size);
      liveBytes += size;
      counts.malloc++;
      mtrace.push(`@ ./prog:[0x401136] + ${hex(a)} ${size === 0 ? "0" : hex(size)}`);
      json.push(JSON.stringify({ op: "malloc", ptr: hex(a), size }));
    } else if (what < 8) {
      liveBytes -= live.get(victim)!;
      live.delete(victim);
      counts.free++;
      mtrace.push(`- ${hex(victim)}`);
      json.push(JSON.stringify({ op: "free", ptr: hex(victim) }));
    } else {
      const a = what === 8 ? victim : (next += 0x20000); // in place, or moved
      liveBytes += size - live.get(victim)!;
      live.delete(victim);
      live.set(a, size);
      counts.realloc++;
      mtrace.push(`< ${hex(victim)}`, `> ${hex(a)} ${size === 0 ? "0" : hex(size)}`);
      json.push(JSON.stringify({ op: "realloc", old: hex(victim), ptr: hex(a), size }));
    }
    peakBytes = Math.max(peakBytes, liveBytes);
    peakBlocks = Math.max(peakBlocks, live.size);
  }
  mtrace.push("= End");
  return {
    mtrace: mtrace.join("\n") + "\n",
    json: json.join("\n") + "\n",
    expected: { peakLiveBytes: peakBytes, peakLiveBlocks: peakBlocks, liveAtEndBlocks: live.size, liveAtEndBytes: liveBytes, ...counts },
  };
});

describe("trace figures", () => {
  it("counts and peak live bytes equal an independent count, in both forms (property)", () => {
    fc.assert(
      fc.property(traceArb, ({ mtrace, json, expected }) => {
        for (const text of [mtrace, json]) {
          const s = scanTraceText(text);
          expect({
            peakLiveBytes: s.peakLiveBytes,
            peakLiveBlocks: s.peakLiveBlocks,
            liveAtEndBlocks: s.liveAtEndBlocks,
            liveAtEndBytes: s.liveAtEndBytes,
            malloc: s.ops.malloc,
            realloc: s.ops.realloc,
            free: s.ops.free,
          }).toEqual(expected);
          expect(s.opsTotal).toBe(expected.malloc + expected.realloc + expected.free);
        }
      }),
      { seed: 8, numRuns: 150 },
    );
  });

  it("lines come out the same however the bytes are cut (property)", () => {
    const text = (out: string[]) => (b: Uint8Array, start: number, end: number) => out.push(Buffer.from(b.subarray(start, end)).toString("latin1"));
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("a", "b", "\n", "\r", " ") }), fc.array(fc.nat(40)), (s, cuts) => {
        const bytes = Buffer.from(s, "latin1");
        const whole: string[] = [];
        const w = new LineSplitter();
        w.push(bytes, text(whole));
        w.end(text(whole));
        const pieces: string[] = [];
        const p = new LineSplitter();
        let at = 0;
        for (const c of cuts) {
          p.push(bytes.subarray(at, Math.min(bytes.length, at + c)), text(pieces));
          at = Math.min(bytes.length, at + c);
        }
        p.push(bytes.subarray(at), text(pieces));
        p.end(text(pieces));
        expect(pieces).toEqual(whole);
        expect(whole).toEqual(s === "" ? [] : s.replace(/\n$/, "").split("\n"));
      }),
      { seed: 9, numRuns: 200 },
    );
  });
});

describe("AddrMap", () => {
  it("agrees with a Map through sets, gets and deletes, across growth (property)", () => {
    // Few distinct addresses in a narrow range, so probe chains collide and deletions shift them.
    const addr = fc.tuple(fc.constantFrom(0, 1, 0x7fff), fc.integer({ min: 0, max: 3000 }).map((x) => (x * 16) >>> 0));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), addr), { maxLength: 3000 }), (steps) => {
        const m = new AddrMap();
        const model = new Map<string, number>();
        steps.forEach(([add, [hi, lo]], i) => {
          const key = `${hi}:${lo}`;
          if (add && !model.has(key)) {
            m.set(hi, lo, i);
            model.set(key, i);
          } else if (!add && model.has(key)) {
            m.delete(hi, lo);
            model.delete(key);
          }
          expect(m.get(hi, lo)).toBe(model.get(key) ?? -1);
        });
        expect(m.size).toBe(model.size);
        for (const [key, v] of model) {
          const [hi, lo] = key.split(":").map(Number);
          expect(m.get(hi, lo)).toBe(v);
        }
      }),
      { seed: 10, numRuns: 60 },
    );
  });
});

describe("trace files", () => {
  const real = gunzipSync(readFileSync(LS_TRACE));

  it("gzip and plain give the same figures; gzip is told by its magic bytes, not its name", () => {
    const plain = scanTraceFile(traceFile(real), { lenient: true });
    const gz = scanTraceFile(traceFile(real, true), { lenient: true });
    const gzNoSuffix = traceFile(gzipSync(real));
    expect(gz).toEqual(plain);
    expect(scanTraceFile(gzNoSuffix, { lenient: true })).toEqual(plain);
    expect(plain.bytes).toBe(real.length);
    expect(plain.opsTotal).toBe(781);
  });

  it("a concatenation of gzip members reads as one file", () => {
    const half = real.indexOf(10, real.length >> 1) + 1;
    const joined = Buffer.concat([gzipSync(real.subarray(0, half)), gzipSync(real.subarray(half))]);
    expect(scanTraceFile(traceFile(joined), { lenient: true })).toEqual(scanTraceFile(traceFile(real), { lenient: true }));
  });

  it.each([
    ["in its data", (gz: Buffer) => gz.subarray(0, gz.length >> 1)],
    ["in its trailer", (gz: Buffer) => gz.subarray(0, gz.length - 3)],
  ])("a gzip file cut short %s is an error naming the line it broke in", (_, cut) => {
    const path = traceFile(cut(gzipSync(real)));
    let err: unknown;
    try {
      scanTraceFile(path, { lenient: true });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TraceFileError);
    const e = err as TraceFileError;
    expect(e.detail).toMatch(/^gzip data is (damaged or )?cut short/);
    expect(e.line).toBeGreaterThan(1);
  });

  it("a host-backed file serves the decoded bytes at any position, decoding again to go back", () => {
    const path = traceFile(real, true);
    const f = new DecodedTraceFile(path, real.length);
    const buf = new Uint8Array(100);
    expect(f.readAt(5000, buf)).toBe(100);
    expect(Buffer.from(buf)).toEqual(real.subarray(5000, 5100));
    expect(f.readAt(10, buf)).toBe(100);
    expect(Buffer.from(buf)).toEqual(real.subarray(10, 110));
    expect(f.readAt(real.length - 30, buf)).toBe(30);
    f.close();
  });
});

describe("a trace that shrinks under a host-backed file", () => {
  it("ends where the file now ends instead of waiting for bytes that will not come", () => {
    const path = traceFile("+ 0x10 0x20\n- 0x10\n");
    const f = new DecodedTraceFile(path, 20);
    writeFileSync(path, "+ 0x10");
    const buf = new Uint8Array(20);
    expect(f.readAt(0, buf)).toBe(6);
    expect(f.readAt(6, buf)).toBe(0);
    f.close();
  });
});

describe("mtrace-replay", () => {
  const asPath = traceFile(gunzipSync(readFileSync(AS_TRACE)));

  function replayIn(m: Machine, path: string, args: string[], env: string[] = ["PATH=/bin"]) {
    m.k.vfs.hostFile("/tmp/t.trace", new DecodedTraceFile(path, readFileSync(path).length), 0o444, 1000, 1000);
    return m.run(["mtrace-replay", ...args, "/tmp/t.trace"], { uid: 1000, gid: 1000, env });
  }
  const replayOnce = (args: string[], env?: string[]) => replayIn(new Machine({ policy: "nozero" }), asPath, args, env);

  it.each(["full", "head", "none"])("replays a real as trace with -t %s and checks every block", (touch) => {
    const r = replayOnce(["-l", "-t", touch]);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^replayed 1256 operations \(839 malloc, 0 calloc, 0 memalign, 1 realloc, 418 free\) from 1260 lines of \/tmp\/t.trace$/m);
    expect(r.stdout).toMatch(/^skipped 2 lines \(first: line 1257: free of 0x[0-9a-f]+, which is not live/m);
    expect(r.stdout).toMatch(/^from the kernel at most: heap \d+ bytes, mmap \d+ bytes$/m);
  });

  it("reads a gzip trace itself (as `nozero run` hands it one), and names the line a cut-short one broke in", () => {
    const gz = gzipSync(readFileSync(asPath));
    const m = new Machine();
    m.k.vfs.writeFile("/tmp/as.trace.gz", gz, 0o644);
    m.k.vfs.writeFile("/tmp/cut.trace.gz", gz.subarray(0, gz.length >> 1), 0o644);
    const plain = replayIn(new Machine(), asPath, ["-l"]);
    const r = m.run(["mtrace-replay", "-l", "/tmp/as.trace.gz"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.replace(/\/tmp\/as.trace.gz/g, "/tmp/t.trace").replace(/^.* s simulated in the replay loop\n/m, "")).toBe(plain.stdout.replace(/^.* s simulated in the replay loop\n/m, ""));
    const cut = m.run(["mtrace-replay", "-l", "/tmp/cut.trace.gz"]);
    expect(cut.exitCode).toBe(1);
    expect(cut.stderr).toMatch(/^mtrace-replay: \/tmp\/cut.trace.gz:\d+: gzip data is damaged or cut short/);
  });

  it("stops at the first line that breaks the trace unless -l", () => {
    const r = replayOnce([]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^mtrace-replay: \/tmp\/t.trace:1257: free of 0x[0-9a-f]+, which is not live/);
  });

  it("writing every byte costs more cycles than the first page, which costs more than nothing", () => {
    const [full, head, none] = ["full", "head", "none"].map((t) => replayOnce(["-l", "-t", t]).cycles);
    expect(full).toBeGreaterThan(head);
    expect(head).toBeGreaterThan(none);
  });

  it("passes with malloc's perturb and check knobs set", () => {
    const r = replayOnce(["-l"], ["PATH=/bin", "MALLOC_PERTURB_=165", "MALLOC_CHECK_=3", "MALLOC_NOZERO=1"]);
    expect(r.exitCode).toBe(0);
  });

  it("replays calloc as calloc and memalign as memalign, and checks the alignment it got", () => {
    const m = new Machine();
    m.k.vfs.writeFile("/tmp/t.jsonl", '{"op":"memalign","ptr":"0x10","size":100,"align":4096}\n{"op":"calloc","ptr":"0x20","size":64}\n', 0o644);
    const seen: string[] = [];
    m.install("spy-replay", (argv, envp, libc) => {
      const { calloc, memalign } = libc;
      libc.calloc = (n: number, s: number) => (seen.push(`calloc(${n}, ${s})`), calloc.call(libc, n, s));
      libc.memalign = (a: number, n: number) => {
        const p = memalign.call(libc, a, n);
        seen.push(`memalign(${a}, ${n}) aligned ${p % a === 0}`);
        return p;
      };
      return mtraceReplay(argv, envp, libc);
    });
    expect(m.run(["spy-replay", "/tmp/t.jsonl"]).exitCode).toBe(0);
    expect(seen).toEqual(["memalign(4096, 100) aligned true", "calloc(1, 64)"]);
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
    expect(r.stderr).toMatch(/^mtrace-replay: \/tmp\/t.trace:4: block of 64 bytes changed under the program \(first byte 0, last 2, wrote 2\)\n$/);
  });

  it("a request this machine cannot satisfy ends the replay with an out-of-memory report naming its line", () => {
    const m = new Machine({ memMiB: 32 });
    m.k.vfs.writeFile("/tmp/t.trace", "= Start\n+ 0x10 0x20\n+ 0x20 0xc0000000\n- 0x10\n");
    const r = m.run(["mtrace-replay", "-t", "none", "/tmp/t.trace"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe("mtrace-replay: /tmp/t.trace:3: out of memory: malloc of 3221225472 bytes failed here, where the traced program got its block\n");
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

  it("a host-backed file is read-only in the machine and holds none of the trace's bytes", () => {
    const m = new Machine();
    const r = replayIn(m, asPath, ["-l", "-t", "none"]);
    expect(r.exitCode).toBe(0);
    const w = m.run(["sh", "-c", "echo x >> /tmp/t.trace"]);
    expect(w.stderr).toContain("Read-only file system");
    const ino = m.k.vfs.lookup("/tmp/t.trace", "/", { uid: 0, euid: 0, suid: 0, gid: 0, egid: 0, sgid: 0 });
    expect(typeof ino === "number" ? -1 : ino.data.length).toBe(0);
  });
});

describe("runReplay", () => {
  it("is deterministic, and MALLOC_NOZERO=1 changes only the zeroing", () => {
    const a = runReplay(AS_TRACE, { lenient: true });
    const b = runReplay(AS_TRACE, { lenient: true });
    for (const k of ["simulatedSeconds", "cycles", "minflt", "clearPageCycles", "heapBytes", "mmapBytes"] as const) {
      expect(b.stock[k]).toBe(a.stock[k]);
      expect(b.nozero[k]).toBe(a.nozero[k]);
    }
    expect(a.stock.exitCode).toBe(0);
    expect(a.nozero.exitCode).toBe(0);
    // Same work and the same faults; the later runs reuse the user's own frames uncleared.
    expect(a.nozero.minflt).toBe(a.stock.minflt);
    expect(a.nozero.heapBytes).toBe(a.stock.heapBytes);
    expect(a.nozero.clearPageCycles).toBeLessThan(a.stock.clearPageCycles);
    expect(a.nozero.cycles).toBeLessThan(a.stock.cycles);
    expect(a.clearPageCyclesSaved).toBe(a.stock.clearPageCycles - a.nozero.clearPageCycles);
    const untimed = (s: string) => s.replace(/^.* s simulated in the replay loop\n/gm, "");
    expect(untimed(a.nozero.stdout)).toBe(untimed(a.stock.stdout));
  });

  it("one run per machine has nothing of the user's to recycle: the same clear_page cycles either way", () => {
    const r = runReplay(AS_TRACE, { runs: 1, lenient: true });
    expect(r.nozero.clearPageCycles).toBe(r.stock.clearPageCycles);
  });

  it("gzip and plain replay alike", () => {
    // The same name in the machine: the replayer prints it, and its length costs cycles.
    const sub = mkdtempSync(join(dir, "ls-"));
    writeFileSync(join(sub, "ls-l.trace"), gunzipSync(readFileSync(LS_TRACE)));
    const plain = runReplay(join(sub, "ls-l.trace"), { runs: 1, lenient: true });
    const gz = runReplay(LS_TRACE, { runs: 1, lenient: true });
    for (const mode of ["stock", "nozero"] as const) {
      expect([gz[mode].cycles, gz[mode].minflt, gz[mode].clearPageCycles]).toEqual([plain[mode].cycles, plain[mode].minflt, plain[mode].clearPageCycles]);
    }
  });

  it("under the stock policy the kernel ignores MAP_NOZERO and brk2's flag: nothing saved; the Opteron profile prices the same work", () => {
    const host = runReplay(AS_TRACE, { lenient: true, policy: "stock" });
    expect(host.policy).toBe("stock");
    expect(host.nozero.clearPageCycles).toBe(host.stock.clearPageCycles);
    expect(host.clearPageCyclesSaved).toBe(0);
    const opteron = runReplay(AS_TRACE, { lenient: true, policy: "stock", machine: "opteron-2007" });
    expect(opteron.machine).toBe("opteron-2007");
    expect(opteron.stock.minflt).toBe(host.stock.minflt);
    expect(opteron.stock.cycles).not.toBe(host.stock.cycles);
  });

  it("replays JSON lines with calloc and memalign in both modes; calloc clears in full under MALLOC_NOZERO=1", () => {
    const lines: string[] = [];
    for (let i = 0; i < 200; i++) {
      lines.push(JSON.stringify({ op: i % 3 === 0 ? "calloc" : "malloc", ptr: `0x${(0x10000 + i * 0x1000).toString(16)}`, size: 3000 }));
      if (i % 10 === 9) lines.push(JSON.stringify({ op: "memalign", ptr: `0x${(0x900000 + i * 0x1000).toString(16)}`, size: 256, align: 256 }));
    }
    for (let i = 0; i < 200; i++) lines.push(JSON.stringify({ op: "free", ptr: `0x${(0x10000 + i * 0x1000).toString(16)}` }));
    const r = runReplay(traceFile(lines.join("\n") + "\n"), { runs: 2 });
    expect(r.format).toBe("jsonl");
    expect(r.ops).toEqual({ malloc: 133, calloc: 67, memalign: 20, realloc: 0, free: 200 });
    expect([r.stock.exitCode, r.nozero.exitCode]).toEqual([0, 0]);
    expect(r.liveAtEndBlocks).toBe(20);
  });

  it("a trace whose written blocks cannot fit the machine is refused before it runs, naming the line of the peak", () => {
    const text = "= Start\n+ 0x10 0x1000000\n+ 0x20 0x1000000\n- 0x10\n- 0x20\n"; // 2 x 16 MiB live on line 3
    const path = traceFile(text);
    expect(() => runReplay(path, { memMiB: 24, runs: 1 })).toThrow(
      new ReplayError(
        `${path}:3: out of memory: the replay cannot fit; the trace's blocks, written as --touch full writes them, reach 33554432 bytes live on this line, and the emulated machine has 24 MiB (try --mem or --touch head)`,
      ),
    );
    // Writing only the first page of each block fits.
    expect(runReplay(path, { memMiB: 24, runs: 1, touch: "head" }).stock.exitCode).toBe(0);
  });

  it("a replay the OOM killer ends is reported as out of memory, naming the line of the peak", () => {
    // 22 MiB of blocks on a 22 MiB machine: the scan lets it by, the kernel's own pages do not.
    const path = traceFile("= Start\n+ 0x10 0x1600000\n- 0x10\n");
    expect(() => runReplay(path, { memMiB: 22, runs: 1 })).toThrow(/:2: out of memory: the OOM killer ended the replay; .* reach 23068672 bytes live on this line/);
  });

  it("host memory follows the live set: the parser's slots and the machine's copy of the trace stay small", () => {
    const lines = ["= Start"];
    for (let i = 0; i < 20000; i++) lines.push(`+ 0x${(0x1000 + (i % 8) * 0x100).toString(16)} 0x40`, `- 0x${(0x1000 + (i % 8) * 0x100).toString(16)}`);
    const r = runReplay(traceFile(lines.join("\n") + "\n", true), { runs: 1, touch: "none" });
    expect(r.opsTotal).toBe(40000);
    expect(r.peakLiveBlocks).toBe(1);
    expect(r.stock.stdout).toMatch(/^replayed 40000 operations/m);
  });
});

describe("nozero replay", () => {
  const tsx = resolve(root, "node_modules/.bin/tsx");
  const nozero = (args: string[]) => {
    const r = spawnSync(tsx, [resolve(root, "apps/cli.ts"), "replay", ...args], { cwd: root, encoding: "utf8", env: { ...process.env, MALLOC_NOZERO: "" } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it("--json prints one object with the trace's counts and both modes' figures", () => {
    const r = nozero(["--json", "--lenient", "--runs", "2", "traces/ls-l.trace.gz"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({
      trace: "traces/ls-l.trace.gz",
      format: "mtrace",
      opsTotal: 781,
      ops: { malloc: 425, calloc: 0, memalign: 0, realloc: 1, free: 355 },
      skippedLines: 3,
      runs: 2,
      touch: "full",
      lenient: true,
      policy: "nozero",
      machine: "host",
      user: "alice",
    });
    for (const k of ["peakLiveBytes", "peakLiveBlocks", "liveAtEndBlocks", "liveAtEndBytes", "deltaPct", "clearPageCyclesSaved", "wallSeconds"]) expect(typeof j[k]).toBe("number");
    for (const run of [j.stock, j.nozero]) {
      for (const k of ["exitCode", "simulatedSeconds", "cycles", "minflt", "clearPageCycles", "clearPageShare", "clearPageRank", "maxRssKiB", "heapBytes", "mmapBytes"]) expect(typeof run[k]).toBe("number");
      expect(Array.isArray(run.profile)).toBe(true);
    }
  });

  it("a bad trace is reported with its file and line, exit 1; so is a missing file", () => {
    const bad = traceFile("= Start\n@ ./p:[0x1] + 0x10 0x20\n@ ./p:[0x1] free 0x10\n");
    const r = nozero([bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`nozero replay: ${bad}:3: not an mtrace line: '@ ./p:[0x1] free 0x10' (--lenient skips such lines)\n`);
    const unknown = nozero(["traces/ls-l.trace.gz"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^nozero replay: traces\/ls-l.trace.gz:\d+: free of 0x[0-9a-f]+, which is not live .*\(--lenient skips such lines\)\n$/);
    const missing = nozero([join(dir, "none.trace")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`nozero replay: ${join(dir, "none.trace")}: no such file\n`);
  });

  it("bad flags print usage and exit 2", () => {
    for (const args of [["--touch", "half", "x"], ["--runs", "0", "x"], ["--mem", "4096", "x"], [], ["--bogus", "x"]]) {
      const r = nozero(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("usage: nozero replay");
    }
  });
});
