// ebizzy 0.3 (with -N) and mallocbench, as the experiment uses them.

import { describe, expect, it } from "vitest";
import { Machine } from "../../apps/machine.ts";
import { readOptions } from "../../apps/bin/ebizzy.ts";
import { runEbizzy } from "../../apps/cmd/ebizzy.ts";
import { Kev } from "../../kernel/cost/events.ts";

describe("ebizzy options, as 0.3 parses them", () => {
  it("has 0.3's defaults (i386: 4-byte records, so 256 KiB chunks)", () => {
    const o = readOptions(["ebizzy"], 2);
    expect(o).toMatchObject({ chunks: 10, chunkSize: 262144, seconds: 10, threads: 4, verbose: 0, seed: null });
  });

  it("parses every flag", () => {
    const o = readOptions(["ebizzy", "-l", "-m", "-n", "3", "-p", "-P", "-R", "-s", "8192", "-S", "2", "-t", "1", "-vvv", "-z", "-T", "-N", "-r", "7"], 2);
    expect(o).toMatchObject({
      noLibMemcpy: true, alwaysMmap: true, chunks: 3, permissions: true, holes: true, randomSize: true,
      chunkSize: 8192, seconds: 2, threads: 1, verbose: 3, linear: true, touch: true, nozero: true, seed: 7,
    });
    expect(readOptions(["ebizzy", "-M"], 2)).toMatchObject({ neverMmap: true });
  });

  it.each([
    ["-n", "0"], ["-s", "0"], ["-S", "0"], ["-t", "0"], ["-n", "x"], ["-q"], ["-m", "-M"], ["-s", "2"], ["extra"],
  ])("rejects %s %s with the usage text and exit 1", (...args) => {
    const m = new Machine({ memMiB: 16 });
    const r = m.run(["ebizzy", ...args.filter(Boolean)]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("Usage: ebizzy [options]");
    expect(r.stdout).toBe("");
  });

  it("explains the two impossible combinations before the usage, as 0.3 does", () => {
    const both = new Machine({ memMiB: 16 }).run(["ebizzy", "-m", "-M"]);
    expect(both.stderr).toMatch(/^Both -m "always mmap" and -M "never mmap" option specified\n/);
    const small = new Machine({ memMiB: 16 }).run(["ebizzy", "-s", "2"]);
    expect(small.stderr).toMatch(/^Chunk size 2 smaller than record size 4\n/);
  });
});

describe("ebizzy runs", () => {
  const fast = ["-S", "1", "-t", "2", "-s", "65536", "-n", "4"];

  it("prints records/s, then real, user and sys in simulated seconds", () => {
    const r = runEbizzy(["-m", ...fast]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^\d+ records\/s\nreal  1\.00 s\nuser  \d+\.\d\d s\nsys   \d+\.\d\d s\n$/);
    expect(r.recordsPerSecond).toBeGreaterThan(0);
  });

  it("is deterministic: the same run gives the same records/s and cycles", () => {
    const a = runEbizzy(["-m", "-r", "5", ...fast]);
    const b = runEbizzy(["-m", "-r", "5", ...fast]);
    expect(b.stdout).toBe(a.stdout);
    expect(b.cycles).toBe(a.cycles);
    expect(b.minflt).toBe(a.minflt);
  });

  it("-N changes only the zeroing: the same faults and copies per record, far fewer clear_page cycles", () => {
    const m1 = new Machine({ memMiB: 64 });
    const plain = m1.run(["ebizzy", "-m", ...fast]);
    const m2 = new Machine({ memMiB: 64 });
    const nz = m2.run(["ebizzy", "-m", "-N", ...fast]);
    const recs = (out: string) => Number(/^(\d+) records/.exec(out)![1]); // real is 1 s: records/s = records
    const per = (r: typeof plain, x: number) => x / recs(r.stdout);
    // Faults and copied bytes per record match (set-up adds the same fixed amount to both).
    expect(per(nz, nz.minflt)).toBeCloseTo(per(plain, plain.minflt), 0);
    const cleared = (r: typeof plain) => r.counters.k[Kev.CLEAR_HOT_BYTES] + r.counters.k[Kev.CLEAR_COLD_BYTES];
    expect(per(nz, cleared(nz))).toBeLessThan(per(plain, cleared(plain)) / 20);
    expect(recs(nz.stdout)).toBeGreaterThan(recs(plain.stdout));
  });

  it("keeps 0.3's rand_num quirk (chunk 0, key 0 every time); -r SEED draws real keys", () => {
    const quirk = runEbizzy(["-vvv", "-S", "0.0005", "-t", "1", "-s", "16384"]);
    const keys = [...quirk.stdout.matchAll(/^Search key (\d+)/gm)].map((x) => Number(x[1]));
    expect(keys.length).toBeGreaterThan(3);
    expect(new Set(keys)).toEqual(new Set([0]));
    const seeded = runEbizzy(["-vvv", "-r", "42", "-S", "0.0005", "-t", "1", "-s", "16384"]);
    const skeys = [...seeded.stdout.matchAll(/^Search key (\d+)/gm)].map((x) => Number(x[1]));
    expect(new Set(skeys).size).toBeGreaterThan(1);
  });

  it("MALLOC_NOZERO in the environment reaches ebizzy's malloc mode (brk2 with BRK_NOZERO)", () => {
    const lines: string[] = [];
    const m = new Machine({ memMiB: 64 });
    m.k.strace = (l) => lines.push(l);
    const r = m.run(["ebizzy", "-S", "0.001", "-t", "1", "-s", "16384"], { env: ["PATH=/bin", "MALLOC_NOZERO=1"] });
    expect(r.exitCode).toBe(0);
    expect(lines.some((l) => /^brk2\(0x[0-9a-f]+, BRK_NOZERO\)/.test(l))).toBe(true);
    const lines2: string[] = [];
    const m2 = new Machine({ memMiB: 64 });
    m2.k.strace = (l) => lines2.push(l);
    m2.run(["ebizzy", "-S", "0.001", "-t", "1", "-s", "16384"]);
    expect(lines2.some((l) => l.startsWith("brk2"))).toBe(false);
    expect(lines2.some((l) => /^brk\(0x/.test(l))).toBe(true);
  });

  it("threads run on the simulated CPUs: two threads on two CPUs do about twice one thread's records", () => {
    const one = runEbizzy(["-m", "-S", "1", "-t", "1", "-s", "65536", "-n", "4"]);
    const two = runEbizzy(["-m", "-S", "1", "-t", "2", "-s", "65536", "-n", "4"]);
    expect(two.recordsPerSecond / one.recordsPerSecond).toBeGreaterThan(1.8);
    expect(two.recordsPerSecond / one.recordsPerSecond).toBeLessThan(2.2);
  });
});

describe("mallocbench", () => {
  const run = (args: string[], env: string[] = ["PATH=/bin"]) => new Machine({ memMiB: 64 }).run(["mallocbench", ...args], { env });

  it("reports rounds, allocations and a rate, deterministically", () => {
    const a = run(["-r", "2", "-w", "256", "-n", "500"]);
    const b = run(["-r", "2", "-w", "256", "-n", "500"]);
    expect(a.exitCode).toBe(0);
    expect(a.stdout).toMatch(/^2 rounds, \d+ allocations, \d+\.\d{6} s, \d+ allocations\/s\n$/);
    expect(b.stdout).toBe(a.stdout);
  });

  it("-f runs each round in a short-lived child: the same allocations, more page faults", () => {
    const inproc = run(["-r", "3", "-w", "256", "-n", "500"]);
    const forked = run(["-r", "3", "-w", "256", "-n", "500", "-f"]);
    const allocs = (s: string) => /(\d+) allocations,/.exec(s)![1];
    expect(allocs(forked.stdout)).toBe(allocs(inproc.stdout));
    expect(forked.minflt).toBeGreaterThan(inproc.minflt);
  });

  it("short-lived rounds run faster with MALLOC_NOZERO (the heap's pages come back uncleared)", () => {
    const rate = (s: string) => Number(/([\d.]+) allocations\/s/.exec(s)![1]);
    const stock = run(["-r", "4", "-w", "512", "-n", "1000", "-f"]);
    const nz = run(["-r", "4", "-w", "512", "-n", "1000", "-f"], ["PATH=/bin", "MALLOC_NOZERO=1"]);
    expect(rate(nz.stdout)).toBeGreaterThan(rate(stock.stdout));
  });
});
