// The page-fault path (kernel/fault.ts) as user code sees it through the
// accessor: zero-page read faults, write faults, write-protect faults,
// signals, stack growth, copy-on-write after fork, MAP_POPULATE, OOM and
// MADV_FREE reclaim.

import { describe, expect, it } from "vitest";
import { Kev } from "../../kernel/cost/events.ts";
import { dupMm } from "../../kernel/fork_mm.ts";
import { PG_ANON } from "../../kernel/frames.ts";
import type { Kernel } from "../../kernel/kernel.ts";
import * as M from "../../kernel/mman.ts";
import { PTE_P, PTE_RW, PTE_SPECIAL } from "../../kernel/pagetable.ts";
import { PAGE_SIZE, STACK_RLIMIT, STACK_TOP } from "../../kernel/param.ts";
import { FatalSignal, SEGV_ACCERR, SEGV_MAPERR, SIGKILL, SIGSEGV } from "../../kernel/signal.ts";
import { NR } from "../../kernel/syscall.ts";
import { Task } from "../../kernel/task.ts";
import { VM_GROWSDOWN } from "../../kernel/vma.ts";
import { bootKernel, exitTask, newTask, runUser, sys } from "../helpers/boot.ts";

// ---- helpers ------------------------------------------------------------------

const P = PAGE_SIZE;
const RW = M.PROT_READ | M.PROT_WRITE;
const ANON = M.MAP_PRIVATE | M.MAP_ANONYMOUS;

function mapAnon(k: Kernel, len: number, prot = RW, flags = 0, addr = 0): number {
  const r = sys(k, NR.mmap2, addr, len, prot, ANON | flags, -1, 0);
  expect(r, `mmap2 -> ${r}`).toBeGreaterThan(0);
  return r;
}

/** Kernel event counts of a task, to compare before and after. */
function snap(t: Task): Float64Array {
  return Float64Array.from(t.counters.k);
}

function delta(before: Float64Array, t: Task, ev: number): number {
  return t.counters.k[ev] - before[ev];
}

function frameOf(t: Task, addr: number): number {
  return t.mm!.pte(addr) >>> 12;
}

/** Run fn as t and return the fatal signal it died of (fails if it did not). */
function signalOf(k: Kernel, t: Task, fn: () => unknown): FatalSignal {
  k.switchTo(t);
  try {
    fn();
  } catch (e) {
    if (e instanceof FatalSignal) return e;
    throw e;
  }
  throw new Error("expected a fatal signal");
}

let nextPid = 5000;

/** fork's memory half: a child task of the same credential with a copy of t's mm. */
function forkChild(k: Kernel, parent: Task): Task {
  k.switchTo(parent);
  const mm = dupMm(parent.mm!);
  expect(mm).not.toBeNull();
  return new Task(nextPid++, "child", parent.cred, mm);
}

// ---- anonymous faults -------------------------------------------------------------------

describe("read fault on an untouched page", () => {
  it("maps the shared zero page: reads 0, no frame, no RSS", () => {
    const k = bootKernel();
    const t = newTask(k);
    const a = mapAnon(k, 4 * P);
    const before = snap(t);
    const free = k.pages.freeFrames;
    expect(t.mm!.mem.read32(a + 8)).toBe(0);
    expect(delta(before, t, Kev.FAULT)).toBe(1);
    expect(delta(before, t, Kev.FAULT_ANON_READ)).toBe(1);
    expect(delta(before, t, Kev.FAULT_ANON_WRITE)).toBe(0);
    expect(delta(before, t, Kev.PAGE_ALLOC)).toBe(1); // the page table, not a data frame
    expect(delta(before, t, Kev.PGTABLE_ALLOC)).toBe(1);
    const pte = t.mm!.pte(a);
    expect(pte >>> 12).toBe(k.zeroFrame);
    expect(pte & PTE_SPECIAL).toBe(PTE_SPECIAL);
    expect(pte & PTE_RW).toBe(0);
    expect(t.mm!.rss).toBe(0);
    expect(k.pages.freeFrames).toBe(free - 1);
  });

  it("every untouched page reads the same zero frame", () => {
    const k = bootKernel();
    const t = newTask(k);
    const a = mapAnon(k, 8 * P);
    const before = snap(t);
    for (let i = 0; i < 8; i++) expect(t.mm!.mem.read8(a + i * P + 100)).toBe(0);
    expect(delta(before, t, Kev.FAULT_ANON_READ)).toBe(8);
    for (let i = 0; i < 8; i++) expect(frameOf(t, a + i * P)).toBe(k.zeroFrame);
    expect(t.mm!.rss).toBe(0);
    expect(k.frames.count[k.zeroFrame]).toBe(1); // reserved, never taken by faults
  });
});

describe("write after a zero-page read", () => {
  it("is a write-protect fault that allocates a frame, leaving the zero page zero", () => {
    const k = bootKernel();
    const t = newTask(k);
    const a = mapAnon(k, P);
    expect(t.mm!.mem.read32(a)).toBe(0);
    const before = snap(t);
    t.mm!.mem.write32(a + 4, 0xdeadbeef);
    expect(delta(before, t, Kev.FAULT)).toBe(1);
    expect(delta(before, t, Kev.FAULT_WP)).toBe(1);
    expect(delta(before, t, Kev.FAULT_ANON_WRITE)).toBe(0);
    expect(delta(before, t, Kev.PAGE_ALLOC)).toBe(1);
    expect(delta(before, t, Kev.COPY_PAGE_BYTES)).toBe(0); // the zero page is not copied
    const f = frameOf(t, a);
    expect(f).not.toBe(k.zeroFrame);
    expect(k.frames.flags[f] & PG_ANON).toBe(PG_ANON);
    expect(t.mm!.rss).toBe(1);
    expect(t.mm!.mem.readU32(a + 4)).toBe(0xdeadbeef);
    expect(t.mm!.mem.read32(a)).toBe(0);
    expect(k.phys.frameIsZero(k.zeroFrame)).toBe(true);
  });
});

describe("first write to an untouched page", () => {
  it("allocates directly (FAULT_ANON_WRITE), with no zero-page step", () => {
    const k = bootKernel();
    const t = newTask(k);
    const a = mapAnon(k, 2 * P);
    t.mm!.mem.write8(a + P, 1); // brings in the page table
    const before = snap(t);
    t.mm!.mem.write32(a, 7);
    expect(delta(before, t, Kev.FAULT)).toBe(1);
    expect(delta(before, t, Kev.FAULT_ANON_WRITE)).toBe(1);
    expect(delta(before, t, Kev.FAULT_ANON_READ)).toBe(0);
    expect(delta(before, t, Kev.FAULT_WP)).toBe(0);
    expect(delta(before, t, Kev.PAGE_ALLOC)).toBe(1);
    expect(delta(before, t, Kev.CLEAR_HOT_BYTES) + delta(before, t, Kev.CLEAR_COLD_BYTES)).toBe(P);
    expect(t.mm!.rss).toBe(2);
    expect(t.mm!.pte(a) & (PTE_P | PTE_RW)).toBe(PTE_P | PTE_RW);
  });
});

describe("a second access to a mapped page", () => {
  it("is not a fault, even after a TLB flush", () => {
    const k = bootKernel();
    const t = newTask(k);
    const a = mapAnon(k, 2 * P);
    const mem = t.mm!.mem;
    mem.write32(a, 1);
    mem.read32(a + P); // zero page
    const before = snap(t);
    mem.write32(a + 8, 2);
    mem.read32(a);
    mem.read32(a + P + 4);
    mem.flushAll(); // a TLB miss walks the page table; it does not fault
    mem.write32(a + 12, 3);
    mem.read32(a + P);
    expect(delta(before, t, Kev.FAULT)).toBe(0);
    expect(delta(before, t, Kev.PAGE_ALLOC)).toBe(0);
    expect(t.mm!.rss).toBe(1);
  });
});

// ---- signals -----------------------------------------------------------------------

describe("SIGSEGV", () => {
  it("an unmapped address: signal 11 at that address (SEGV_MAPERR)", () => {
    const k = bootKernel();
    const t = newTask(k);
    const r = runUser(k, t, () => t.mm!.mem.read32(0x50000010));
    expect(r).toEqual({ signal: SIGSEGV, addr: 0x50000010 });
    expect(signalOf(k, t, () => t.mm!.mem.write8(0x50000123, 1)).code).toBe(SEGV_MAPERR);
    expect(runUser(k, t, () => t.mm!.mem.read8(0)).signal).toBe(SIGSEGV); // NULL
    expect(runUser(k, t, () => t.mm!.mem.read8(0xc0001000)).signal).toBe(SIGSEGV); // kernel space
  });

  it("a write to a PROT_READ page (SEGV_ACCERR), but reading it is fine", () => {
    const k = bootKernel();
    const t = newTask(k);
    const a = mapAnon(k, P, M.PROT_READ);
    expect(runUser(k, t, () => t.mm!.mem.read32(a))).toEqual({ value: 0 });
    const s = signalOf(k, t, () => t.mm!.mem.write32(a + 0x40, 1));
    expect(s.signo).toBe(SIGSEGV);
    expect(s.addr).toBe(a + 0x40);
    expect(s.code).toBe(SEGV_ACCERR);
    expect(k.phys.frameIsZero(k.zeroFrame)).toBe(true);
  });

  it("any access to PROT_NONE", () => {
    const k = bootKernel();
    const t = newTask(k);
    const a = mapAnon(k, P, M.PROT_NONE);
    expect(runUser(k, t, () => t.mm!.mem.read8(a + 3))).toEqual({ signal: SIGSEGV, addr: a + 3 });
    expect(runUser(k, t, () => t.mm!.mem.write8(a + 5, 1))).toEqual({ signal: SIGSEGV, addr: a + 5 });
    expect(signalOf(k, t, () => t.mm!.mem.read8(a)).code).toBe(SEGV_ACCERR);
  });

  it("the kernel, the task's other memory and other tasks carry on afterwards", () => {
    const k = bootKernel();
    const t = newTask(k);
    const a = mapAnon(k, 2 * P);
    t.mm!.mem.write32(a, 42);
    expect(runUser(k, t, () => t.mm!.mem.write32(a + 2 * P + 0x10000000, 1)).signal).toBe(SIGSEGV);
    // The same address space still works, and so do its syscalls.
    expect(runUser(k, t, () => t.mm!.mem.read32(a))).toEqual({ value: 42 });
    k.switchTo(t);
    expect(sys(k, NR.munmap, a, 2 * P)).toBe(0);
    exitTask(k, t);
    // Another task runs normally.
    const u = newTask(k, 1001);
    const b = mapAnon(k, P);
    expect(runUser(k, u, () => {
      u.mm!.mem.write32(b, 99);
      return u.mm!.mem.read32(b);
    })).toEqual({ value: 99 });
  });
});

// ---- stack growth ----------------------------------------------------------------------

describe("stack growth (VM_GROWSDOWN)", () => {
  const STACK = 128 << 10;

  function stackTask(top = STACK_TOP): { k: Kernel; t: Task; base: number } {
    const k = bootKernel();
    const t = newTask(k);
    const base = mapAnon(k, STACK, RW, M.MAP_GROWSDOWN | M.MAP_FIXED, top - STACK);
    expect(base).toBe(top - STACK);
    expect(t.mm!.vmas.findExact(base)!.flags & VM_GROWSDOWN).toBe(VM_GROWSDOWN);
    return { k, t, base };
  }

  it("grows on a fault just below it", () => {
    const { k, t, base } = stackTask();
    expect(runUser(k, t, () => t.mm!.mem.write32(base - 4, 0x5555))).toEqual({ value: undefined });
    const v = t.mm!.vmas.findExact(base - 4)!;
    expect(v.start).toBe(base - P);
    expect(v.end).toBe(STACK_TOP);
    expect(t.mm!.vmas.count).toBe(1);
    expect(t.mm!.mem.read32(base - 4)).toBe(0x5555);
  });

  it("grows up to RLIMIT_STACK and no further", () => {
    const { k, t } = stackTask();
    const lowest = STACK_TOP - STACK_RLIMIT;
    expect(runUser(k, t, () => t.mm!.mem.write8(lowest, 1)).signal).toBeUndefined();
    expect(t.mm!.vmas.findExact(lowest)!.start).toBe(lowest);
    expect(runUser(k, t, () => t.mm!.mem.write8(lowest - 1, 1))).toEqual({ signal: SIGSEGV, addr: lowest - 1 });
    expect(t.mm!.vmas.findExact(lowest - 1)).toBeNull();
  });

  it("a MAP_GROWSDOWN mapping away from the stack top grows too, its size limited by RLIMIT_STACK", () => {
    // Linux acct_stack_growth limits vm_end - new_start, wherever the VMA is.
    const top = 0x60000000;
    const { k, t, base } = stackTask(top);
    expect(runUser(k, t, () => t.mm!.mem.write8(base - 1, 1)).signal).toBeUndefined();
    expect(t.mm!.vmas.findExact(base - 1)!.start).toBe(base - P);
    expect(runUser(k, t, () => t.mm!.mem.write8(top - STACK_RLIMIT - 1, 1)).signal).toBe(SIGSEGV);
  });

  it("a mapping without VM_GROWSDOWN does not grow", () => {
    const k = bootKernel();
    const t = newTask(k);
    const a = mapAnon(k, P);
    expect(runUser(k, t, () => t.mm!.mem.write8(a - 1, 1))).toEqual({ signal: SIGSEGV, addr: a - 1 });
  });
});

// ---- copy-on-write --------------------------------------------------------------------------

describe("copy-on-write after dupMm", () => {
  function parentWithPage(): { k: Kernel; parent: Task; a: number } {
    const k = bootKernel();
    const parent = newTask(k);
    const a = mapAnon(k, 2 * P);
    parent.mm!.mem.write32(a, 0x11111111);
    parent.mm!.mem.write32(a + P, 0x22222222);
    return { k, parent, a };
  }

  it("parent and child share the frames read-only (count 2)", () => {
    const { k, parent, a } = parentWithPage();
    const f = frameOf(parent, a);
    const child = forkChild(k, parent);
    expect(frameOf(child, a)).toBe(f);
    expect(k.frames.count[f]).toBe(2);
    expect(k.frames.mapcount[f]).toBe(2);
    expect(parent.mm!.pte(a) & PTE_RW).toBe(0);
    expect(child.mm!.pte(a) & PTE_RW).toBe(0);
    expect(child.mm!.rss).toBe(2);
    const before = snap(child);
    expect(runUser(k, child, () => child.mm!.mem.read32(a))).toEqual({ value: 0x11111111 });
    expect(delta(before, child, Kev.COPY_PAGE_BYTES)).toBe(0);
  });

  it("a write in the child copies; the parent keeps the old bytes", () => {
    const { k, parent, a } = parentWithPage();
    const f = frameOf(parent, a);
    const child = forkChild(k, parent);
    const before = snap(child);
    runUser(k, child, () => child.mm!.mem.write32(a + 4, 0x33));
    expect(delta(before, child, Kev.FAULT_WP)).toBe(1);
    expect(delta(before, child, Kev.COPY_PAGE_BYTES)).toBe(P);
    expect(frameOf(child, a)).not.toBe(f);
    expect(frameOf(parent, a)).toBe(f);
    expect(k.frames.count[f]).toBe(1);
    expect(child.mm!.mem.read32(a)).toBe(0x11111111); // copied
    expect(child.mm!.mem.read32(a + 4)).toBe(0x33);
    k.switchTo(parent);
    expect(parent.mm!.mem.read32(a + 4)).toBe(0);
    // The parent is now the frame's only user: its write reuses it, no copy.
    const pb = snap(parent);
    parent.mm!.mem.write32(a + 8, 0x44);
    expect(delta(pb, parent, Kev.FAULT_WP)).toBe(1);
    expect(delta(pb, parent, Kev.COPY_PAGE_BYTES)).toBe(0);
    expect(frameOf(parent, a)).toBe(f);
    k.switchTo(child);
    expect(child.mm!.mem.read32(a + 8)).toBe(0);
  });

  it("a write in the parent copies; the child keeps the old bytes", () => {
    const { k, parent, a } = parentWithPage();
    const f = frameOf(parent, a + P);
    const child = forkChild(k, parent);
    const before = snap(parent);
    runUser(k, parent, () => parent.mm!.mem.write32(a + P, 0x55));
    expect(delta(before, parent, Kev.COPY_PAGE_BYTES)).toBe(P);
    expect(frameOf(parent, a + P)).not.toBe(f);
    expect(frameOf(child, a + P)).toBe(f);
    expect(runUser(k, child, () => child.mm!.mem.read32(a + P))).toEqual({ value: 0x22222222 });
  });

  it("after the child exits, the parent's write reuses the frame without a copy", () => {
    const { k, parent, a } = parentWithPage();
    const f = frameOf(parent, a);
    const child = forkChild(k, parent);
    exitTask(k, child);
    expect(k.frames.count[f]).toBe(1);
    k.switchTo(parent);
    const before = snap(parent);
    parent.mm!.mem.write32(a, 0x66);
    expect(delta(before, parent, Kev.FAULT_WP)).toBe(1);
    expect(delta(before, parent, Kev.COPY_PAGE_BYTES)).toBe(0);
    expect(delta(before, parent, Kev.PAGE_ALLOC)).toBe(0);
    expect(frameOf(parent, a)).toBe(f);
  });

  it("after the parent exits, the child's write reuses the frame without a copy", () => {
    const { k, parent, a } = parentWithPage();
    const f = frameOf(parent, a);
    const child = forkChild(k, parent);
    exitTask(k, parent);
    k.switchTo(child);
    const before = snap(child);
    child.mm!.mem.write32(a, 0x77);
    expect(delta(before, child, Kev.COPY_PAGE_BYTES)).toBe(0);
    expect(frameOf(child, a)).toBe(f);
    expect(child.mm!.mem.read32(a + 0)).toBe(0x77);
  });

  it("a zero-page PTE shared by fork gives the writer a fresh frame, not a copy", () => {
    const k = bootKernel();
    const parent = newTask(k);
    const a = mapAnon(k, P);
    parent.mm!.mem.read32(a);
    const child = forkChild(k, parent);
    expect(frameOf(child, a)).toBe(k.zeroFrame);
    const before = snap(child);
    runUser(k, child, () => child.mm!.mem.write32(a, 9));
    expect(delta(before, child, Kev.COPY_PAGE_BYTES)).toBe(0);
    expect(delta(before, child, Kev.PAGE_ALLOC)).toBe(1);
    expect(frameOf(parent, a)).toBe(k.zeroFrame);
    expect(k.phys.frameIsZero(k.zeroFrame)).toBe(true);
  });
});

// ---- MAP_POPULATE -------------------------------------------------------------------------------

describe("MAP_POPULATE", () => {
  it("pre-faults a writable mapping: every page resident, later writes do not fault", () => {
    const k = bootKernel();
    const t = newTask(k);
    const before = snap(t);
    const a = mapAnon(k, 4 * P, RW, M.MAP_POPULATE);
    expect(delta(before, t, Kev.FAULT_ANON_WRITE)).toBe(4);
    expect(t.mm!.rss).toBe(4);
    expect(t.mm!.residentPages(a, a + 4 * P)).toBe(4);
    const mid = snap(t);
    for (let i = 0; i < 4; i++) t.mm!.mem.write32(a + i * P, i);
    expect(delta(mid, t, Kev.FAULT)).toBe(0);
  });

  it("pre-faults a read-only mapping with the zero page", () => {
    const k = bootKernel();
    const t = newTask(k);
    const a = mapAnon(k, 3 * P, M.PROT_READ, M.MAP_POPULATE);
    expect(t.mm!.rss).toBe(0);
    for (let i = 0; i < 3; i++) expect(frameOf(t, a + i * P)).toBe(k.zeroFrame);
    const before = snap(t);
    expect(t.mm!.mem.read32(a + 2 * P)).toBe(0);
    expect(delta(before, t, Kev.FAULT)).toBe(0);
  });

  it("without MAP_POPULATE nothing is resident", () => {
    const k = bootKernel();
    const t = newTask(k);
    const a = mapAnon(k, 4 * P);
    expect(t.mm!.residentPages(a, a + 4 * P)).toBe(0);
  });
});

// ---- OOM -------------------------------------------------------------------------------------

describe("out of memory", () => {
  it("kills the task with SIGKILL instead of throwing a host error, and frees its memory", () => {
    const k = bootKernel({ memBytes: 1 << 20 }); // 256 frames
    const free = k.pages.freeFrames;
    const t = newTask(k);
    const a = mapAnon(k, 400 * P);
    let touched = 0;
    const r = runUser(k, t, () => {
      for (let i = 0; i < 400; i++) {
        t.mm!.mem.write32(a + i * P, i);
        touched++;
      }
    });
    expect(r.signal).toBe(SIGKILL);
    expect(touched).toBeGreaterThan(200);
    expect(touched).toBeLessThan(256);
    expect(k.pages.freeFrames).toBe(0);
    exitTask(k, t);
    expect(k.pages.freeFrames).toBe(free);
    // The machine carries on.
    const u = newTask(k);
    const b = mapAnon(k, 8 * P);
    expect(runUser(k, u, () => {
      for (let i = 0; i < 8; i++) u.mm!.mem.write32(b + i * P, i);
      return u.mm!.mem.read32(b + 7 * P);
    })).toEqual({ value: 7 });
  });
});

// ---- MADV_FREE ---------------------------------------------------------------------------------

describe("MADV_FREE", () => {
  it("keeps the pages until memory pressure, then reclaims only the clean ones", () => {
    const k = bootKernel({ memBytes: 1 << 20 });
    const t = newTask(k);
    const mem = t.mm!.mem;
    const N = 16;
    const lazy = mapAnon(k, N * P);
    for (let i = 0; i < N; i++) mem.write32(lazy + i * P, i + 1);
    expect(sys(k, NR.madvise, lazy, N * P, M.MADV_FREE)).toBe(0);
    // Redirty the first half: a write cancels the free for that page.
    for (let i = 0; i < N / 2; i++) mem.write32(lazy + i * P + 4, 100 + i);
    // No pressure yet: everything is still there.
    expect(t.mm!.residentPages(lazy, lazy + N * P)).toBe(N);
    for (let i = 0; i < N; i++) expect(mem.read32(lazy + i * P)).toBe(i + 1);

    // Pressure: write more pages than are free (the clean half makes up the difference).
    const need = k.pages.freeFrames + 4;
    const hog = mapAnon(k, need * P);
    const r = runUser(k, t, () => {
      for (let i = 0; i < need; i++) mem.write32(hog + i * P, 1);
    });
    expect(r.signal).toBeUndefined();
    expect(t.mm!.residentPages(lazy, lazy + N / 2 * P)).toBe(N / 2);
    expect(t.mm!.residentPages(lazy + N / 2 * P, lazy + N * P)).toBe(0);
    for (let i = 0; i < N / 2; i++) {
      expect(mem.read32(lazy + i * P)).toBe(i + 1);
      expect(mem.read32(lazy + i * P + 4)).toBe(100 + i);
    }
    for (let i = N / 2; i < N; i++) expect(mem.read32(lazy + i * P)).toBe(0);
  });

  it("without pressure MADV_FREE frees nothing", () => {
    const k = bootKernel();
    const t = newTask(k);
    const a = mapAnon(k, 4 * P);
    for (let i = 0; i < 4; i++) t.mm!.mem.write32(a + i * P, 0xabc);
    const free = k.pages.freeFrames;
    expect(sys(k, NR.madvise, a, 4 * P, M.MADV_FREE)).toBe(0);
    expect(k.pages.freeFrames).toBe(free);
    expect(t.mm!.rss).toBe(4);
    expect(t.mm!.mem.read32(a + 3 * P)).toBe(0xabc);
  });

  it("MADV_DONTNEED, by contrast, drops pages at once and they read back as zeros", () => {
    const k = bootKernel();
    const t = newTask(k);
    const a = mapAnon(k, 2 * P);
    t.mm!.mem.write32(a, 5);
    t.mm!.mem.write32(a + P, 6);
    expect(sys(k, NR.madvise, a, 2 * P, M.MADV_DONTNEED)).toBe(0);
    expect(t.mm!.rss).toBe(0);
    expect(t.mm!.mem.read32(a)).toBe(0);
    expect(t.mm!.mem.read32(a + P)).toBe(0);
  });
});
