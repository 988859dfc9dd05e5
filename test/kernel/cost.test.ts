// The cost model (kernel/cost/): counters are deterministic, every event has
// a sourced price on every machine, price() attributes cycles to the right
// symbols, and the opreport view prints them as oprofile did.

import { describe, expect, it } from "vitest";
import { Counters, KERNEL_EVENT_SYMBOL, Kev, NKEV, NUEV, SymbolTable, Uev } from "../../kernel/cost/events.ts";
import { HOST, MACHINES, OPTERON_2007, type MachineProfile } from "../../kernel/cost/machines.ts";
import { SAMPLE_PERIOD, formatOpreport, profileRows, symbolRank } from "../../kernel/cost/oprofile.ts";
import { KERNEL_IMAGE, clearPageCriticalCycles, clearPageCycles, price } from "../../kernel/cost/price.ts";
import { dupMm } from "../../kernel/fork_mm.ts";
import type { Kernel } from "../../kernel/kernel.ts";
import * as M from "../../kernel/mman.ts";
import { PAGE_SIZE } from "../../kernel/param.ts";
import { NR } from "../../kernel/syscall.ts";
import { Task } from "../../kernel/task.ts";
import type { ZeroPolicyName } from "../../kernel/zero_policy.ts";
import { TEST_BRK, bootKernel, exitTask, newTask, runUser, sys } from "../helpers/boot.ts";

// ---- helpers ------------------------------------------------------------------

const P = PAGE_SIZE;
const RW = M.PROT_READ | M.PROT_WRITE;
const ANON = M.MAP_PRIVATE | M.MAP_ANONYMOUS;

/**
 * A fixed mix of everything the counters see: mmap/munmap, read, write and
 * COW faults, brk2 heap reuse, a crash, user symbols. Returns every task.
 */
function workload(k: Kernel): Task[] {
  const tasks: Task[] = [k.swapper];
  const a = newTask(k, 1000, "a");
  tasks.push(a);
  const work = k.symbols.intern("a.out", "work");
  const base = sys(k, NR.mmap2, 0, 64 * P, RW, ANON | M.MAP_NOZERO, -1, 0);
  a.sym = work;
  k.bindUser(a);
  for (let i = 0; i < 64; i++) a.mm!.mem.write32(base + i * P, i);
  for (let i = 0; i < 64; i += 3) a.mm!.mem.read32(base + i * P + 8);
  a.sym = 0;
  k.bindUser(a);
  sys(k, NR.brk2, TEST_BRK + 32 * P, M.BRK_NOZERO);
  a.mm!.mem.memset(TEST_BRK, 7, 32 * P);
  sys(k, NR.munmap, base, 32 * P);
  sys(k, NR.brk, TEST_BRK + 8 * P);
  const child = new Task(9000, "child", a.cred, dupMm(a.mm!));
  tasks.push(child);
  runUser(k, child, () => {
    for (let i = 32; i < 64; i += 2) child.mm!.mem.write32(base + i * P, -i);
    child.mm!.mem.read32(0x1000); // SIGSEGV
  });
  exitTask(k, child);
  k.switchTo(a);
  const c = sys(k, NR.mmap2, 0, 40 * P, RW, ANON | M.MAP_NOZERO, -1, 0);
  for (let i = 0; i < 8; i++) a.mm!.mem.read32(c + i * P); // zero page, then write-protect faults
  a.mm!.mem.memset(c, 1, 40 * P);
  sys(k, NR.madvise, c, 40 * P, M.MADV_DONTNEED);
  a.mm!.mem.memset(c, 2, 40 * P);
  exitTask(k, a);
  return tasks;
}

/** Everything the tasks counted, merged. */
function total(tasks: Task[]): Counters {
  const sum = new Counters();
  for (const t of tasks) sum.merge(t.counters);
  return sum;
}

function snapshot(c: Counters): { k: number[]; u: number[]; syscalls: [number, number][] } {
  let last = c.u.length;
  while (last > 0 && c.u[last - 1] === 0) last--;
  return {
    k: Array.from(c.k),
    u: Array.from(c.u.subarray(0, last)),
    syscalls: [...c.syscalls.entries()].sort((x, y) => x[0] - y[0]),
  };
}

function run(policy: ZeroPolicyName = "nozero", machine: MachineProfile = HOST): { k: Kernel; tasks: Task[] } {
  const k = bootKernel({ policy, machine });
  return { k, tasks: workload(k) };
}

// ---- determinism --------------------------------------------------------------------

describe("determinism", () => {
  it("the same operations on two fresh kernels give identical counters, per task", () => {
    const r1 = run();
    const r2 = run();
    expect(r1.tasks.length).toBe(r2.tasks.length);
    for (let i = 0; i < r1.tasks.length; i++) {
      expect(snapshot(r2.tasks[i].counters), `task ${r1.tasks[i].comm}`).toEqual(snapshot(r1.tasks[i].counters));
    }
    // The workload really did something worth comparing.
    const c = total(r1.tasks);
    for (const ev of [Kev.FAULT_ANON_WRITE, Kev.FAULT_ANON_READ, Kev.FAULT_WP, Kev.COPY_PAGE_BYTES, Kev.ZAP_PTE, Kev.SYSCALL]) {
      expect(c.k[ev], `Kev ${ev}`).toBeGreaterThan(0);
    }
  });

  it("and identical priced cycles on every machine", () => {
    for (const m of Object.values(MACHINES)) {
      const r1 = run("nozero", m);
      const r2 = run("nozero", m);
      const p1 = price(total(r1.tasks), m, r1.k.symbols);
      const p2 = price(total(r2.tasks), m, r2.k.symbols);
      expect(p2).toEqual(p1);
      expect(p1.totalCycles).toBeGreaterThan(0);
    }
  });

  it("the counters do see a change of policy (the comparison is not vacuous)", () => {
    const nz = run("nozero");
    const st = run("stock");
    const cn = total(nz.tasks);
    const cs = total(st.tasks);
    const clears = (c: Counters) => c.k[Kev.CLEAR_HOT_BYTES] + c.k[Kev.CLEAR_COLD_BYTES];
    expect(clears(cn)).toBeLessThan(clears(cs));
    expect(cn.k[Kev.FAULT_ANON_WRITE]).toBe(cs.k[Kev.FAULT_ANON_WRITE]);
  });
});

// ---- prices --------------------------------------------------------------------------

describe("machine profiles", () => {
  it("the event tables are complete: Kev and Uev are 0..n-1, each kernel event has a symbol", () => {
    expect(Object.values(Kev).sort((x, y) => x - y)).toEqual(Array.from({ length: NKEV }, (_, i) => i));
    expect(Object.values(Uev).sort((x, y) => x - y)).toEqual(Array.from({ length: NUEV }, (_, i) => i));
    expect(KERNEL_EVENT_SYMBOL).toHaveLength(NKEV);
    for (const s of KERNEL_EVENT_SYMBOL) expect(s).toMatch(/^[a-z_][a-z0-9_]*$/);
    expect(KERNEL_EVENT_SYMBOL[Kev.CLEAR_HOT_BYTES]).toBe("clear_page");
    expect(KERNEL_EVENT_SYMBOL[Kev.CLEAR_COLD_BYTES]).toBe("clear_page");
    expect(KERNEL_EVENT_SYMBOL[Kev.CLEAR_IDLE_BYTES]).toBe("clear_page");
  });

  for (const [name, m] of Object.entries(MACHINES)) {
    describe(name, () => {
      it("prices every Kev and Uev with a positive cycle count and a non-empty source", () => {
        expect(m.name).toBe(name);
        expect(m.kernel).toHaveLength(NKEV);
        expect(m.user).toHaveLength(NUEV);
        for (const [ev, i] of Object.entries(Kev)) {
          const pr = m.kernel[i];
          expect(pr, `Kev.${ev}`).toBeDefined();
          expect(Number.isFinite(pr.cycles) && pr.cycles > 0, `Kev.${ev} cycles`).toBe(true);
          expect(pr.source.trim().length, `Kev.${ev} source`).toBeGreaterThan(0);
        }
        for (const [ev, i] of Object.entries(Uev)) {
          const pr = m.user[i];
          expect(pr, `Uev.${ev}`).toBeDefined();
          expect(Number.isFinite(pr.cycles) && pr.cycles > 0, `Uev.${ev} cycles`).toBe(true);
          expect(pr.source.trim().length, `Uev.${ev} source`).toBeGreaterThan(0);
        }
      });

      it("gives its clock and cache size with sources", () => {
        expect(m.hz).toBeGreaterThan(1e8);
        expect(m.hzSource.trim()).not.toBe("");
        expect(m.cacheBytes % PAGE_SIZE).toBe(0);
        expect(m.cacheSource.trim()).not.toBe("");
        expect(m.description.trim()).not.toBe("");
      });

      it("prices a cold clear above a hot one", () => {
        expect(m.kernel[Kev.CLEAR_COLD_BYTES].cycles).toBeGreaterThan(m.kernel[Kev.CLEAR_HOT_BYTES].cycles);
      });
    });
  }

  it("host prices measured in ns are converted at the host clock", () => {
    // workloads.md 5.3: a cold clear_page is 347 ns per 4 KiB page.
    const ns = (HOST.kernel[Kev.CLEAR_COLD_BYTES].cycles * PAGE_SIZE) / (HOST.hz / 1e9);
    expect(ns).toBeCloseTo(347, 6);
    expect(MACHINES["opteron-2007"]).toBe(OPTERON_2007);
  });
});

// ---- price() --------------------------------------------------------------------------

describe("price()", () => {
  function counters(): { c: Counters; syms: SymbolTable; parse: number; mallocSym: number } {
    const syms = new SymbolTable();
    syms.intern("[unknown]", "main");
    const parse = syms.intern("cc1", "parse");
    const mallocSym = syms.intern("libc.so", "_int_malloc");
    const c = new Counters();
    c.k[Kev.CLEAR_HOT_BYTES] = 3 * PAGE_SIZE;
    c.k[Kev.CLEAR_COLD_BYTES] = 5 * PAGE_SIZE;
    c.k[Kev.FAULT_ANON_READ] = 2;
    c.k[Kev.FAULT_ANON_WRITE] = 8;
    c.k[Kev.SYSCALL] = 4;
    c.addUser(parse, Uev.ACCESS, 100_000);
    c.addUser(parse, Uev.BYTES, 8192);
    c.addUser(mallocSym, Uev.TLB_MISS, 10);
    return { c, syms, parse, mallocSym };
  }

  for (const m of [HOST, OPTERON_2007]) {
    it(`attributes clear bytes to vmlinux clear_page and user work to the user symbol (${m.name})`, () => {
      const { c, syms } = counters();
      const p = price(c, m, syms);
      const K = m.kernel;
      const U = m.user;
      const row = (image: string, symbol: string) => p.symbols.find((s) => s.image === image && s.symbol === symbol);
      expect(row(KERNEL_IMAGE, "clear_page")?.cycles).toBeCloseTo(
        3 * PAGE_SIZE * K[Kev.CLEAR_HOT_BYTES].cycles + 5 * PAGE_SIZE * K[Kev.CLEAR_COLD_BYTES].cycles,
        6,
      );
      // Two events share do_anonymous_page: one row with both.
      expect(row(KERNEL_IMAGE, "do_anonymous_page")?.cycles).toBeCloseTo(
        2 * K[Kev.FAULT_ANON_READ].cycles + 8 * K[Kev.FAULT_ANON_WRITE].cycles,
        6,
      );
      expect(row(KERNEL_IMAGE, "system_call")?.cycles).toBeCloseTo(4 * K[Kev.SYSCALL].cycles, 6);
      expect(row("cc1", "parse")?.cycles).toBeCloseTo(100_000 * U[Uev.ACCESS].cycles + 8192 * U[Uev.BYTES].cycles, 6);
      expect(row("libc.so", "_int_malloc")?.cycles).toBeCloseTo(10 * U[Uev.TLB_MISS].cycles, 6);
      // Nothing else: symbols with no events do not appear; the user symbol is not in vmlinux.
      expect(p.symbols).toHaveLength(5);
      expect(row(KERNEL_IMAGE, "parse")).toBeUndefined();
      expect(row("[unknown]", "main")).toBeUndefined();
      // Totals add up and rows are largest first.
      const kernel = p.symbols.filter((s) => s.image === KERNEL_IMAGE).reduce((x, s) => x + s.cycles, 0);
      expect(p.kernelCycles).toBeCloseTo(kernel, 6);
      expect(p.totalCycles).toBeCloseTo(p.kernelCycles + p.userCycles, 6);
      for (let i = 1; i < p.symbols.length; i++) expect(p.symbols[i - 1].cycles).toBeGreaterThanOrEqual(p.symbols[i].cycles);
    });
  }

  it("clearPageCycles counts hot, cold and idle clears; the critical path leaves idle out", () => {
    const c = new Counters();
    c.k[Kev.CLEAR_HOT_BYTES] = PAGE_SIZE;
    c.k[Kev.CLEAR_COLD_BYTES] = 2 * PAGE_SIZE;
    c.k[Kev.CLEAR_IDLE_BYTES] = 4 * PAGE_SIZE;
    const K = HOST.kernel;
    const critical = PAGE_SIZE * K[Kev.CLEAR_HOT_BYTES].cycles + 2 * PAGE_SIZE * K[Kev.CLEAR_COLD_BYTES].cycles;
    expect(clearPageCriticalCycles(c, HOST)).toBeCloseTo(critical, 6);
    expect(clearPageCycles(c, HOST)).toBeCloseTo(critical + 4 * PAGE_SIZE * K[Kev.CLEAR_IDLE_BYTES].cycles, 6);
    const p = price(c, HOST, new SymbolTable());
    expect(p.symbols).toHaveLength(1);
    expect(p.symbols[0].cycles).toBeCloseTo(clearPageCycles(c, HOST), 6);
  });

  it("empty counters price to zero cycles and no rows", () => {
    const p = price(new Counters(), HOST, new SymbolTable());
    expect(p).toEqual({ kernelCycles: 0, userCycles: 0, totalCycles: 0, symbols: [] });
  });
});

// ---- opreport -----------------------------------------------------------------------------

describe("formatOpreport", () => {
  it("prints oprofile's header and one row per symbol with samples = cycles / 100000", () => {
    const { k, tasks } = run();
    const p = price(total(tasks), HOST, k.symbols);
    const text = formatOpreport(p, HOST, 100);
    const lines = text.split("\n");
    expect(lines[0]).toBe("CPU: host, speed 2596 MHz (simulated)");
    expect(lines[1]).toBe(
      "Counted CPU_CLK_UNHALTED events (Cycles outside of halt state) with a unit mask of 0x00 (No unit mask) count 100000",
    );
    expect(lines[2]).toMatch(/^samples\s+%\s+image name\s+symbol name$/);
    const rows = lines.slice(3);
    expect(rows).toHaveLength(p.symbols.length);
    expect(SAMPLE_PERIOD).toBe(100_000);
    let percent = 0;
    rows.forEach((line, i) => {
      const [samples, pct, image, symbol] = line.trim().split(/\s+/);
      const s = p.symbols[i];
      expect(symbol).toBe(s.symbol);
      expect(image).toBe(s.image);
      expect(Number(samples)).toBe(Math.round(s.cycles / 100_000));
      expect(Number(pct)).toBeCloseTo((100 * s.cycles) / p.totalCycles, 3);
      percent += Number(pct);
    });
    expect(percent).toBeCloseTo(100, 2);
    expect(rows.some((r) => / vmlinux +clear_page$/.test(r))).toBe(true);
  });

  it("limits the rows and keeps the largest", () => {
    const { k, tasks } = run();
    const p = price(total(tasks), HOST, k.symbols);
    expect(p.symbols.length).toBeGreaterThan(3);
    const lines = formatOpreport(p, HOST, 3).split("\n");
    expect(lines).toHaveLength(6);
    expect(lines[3].trim().split(/\s+/)[3]).toBe(p.symbols[0].symbol);
    expect(profileRows(p, 3).map((r) => r.symbol)).toEqual(p.symbols.slice(0, 3).map((s) => s.symbol));
  });
});

// ---- machines compared --------------------------------------------------------------------

describe("the 2007 Opteron and this machine", () => {
  it("opteron-2007 makes clear_page a larger share than host for the same counters", () => {
    for (const policy of ["stock", "nozero"] as const) {
      const { k, tasks } = run(policy);
      const c = total(tasks);
      const host = symbolRank(price(c, HOST, k.symbols), "clear_page");
      const opteron = symbolRank(price(c, OPTERON_2007, k.symbols), "clear_page");
      expect(host.rank).toBeGreaterThan(0);
      expect(opteron.percent, policy).toBeGreaterThan(host.percent);
      expect(opteron.rank).toBeLessThanOrEqual(host.rank);
    }
  });

  it("symbolRank reports 0 for a symbol with no cycles", () => {
    const p = price(new Counters(), HOST, new SymbolTable());
    expect(symbolRank(p, "clear_page")).toEqual({ rank: 0, percent: 0 });
  });
});
