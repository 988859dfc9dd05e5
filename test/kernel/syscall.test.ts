// The syscall gate (kernel/syscall.ts): one entry for user code that counts
// every call in the current task's Counters (Kev.SYSCALL and per number),
// takes the number and the arguments as unsigned 32-bit words, answers
// -ENOSYS for a number it does not know, and feeds the strace hook one line
// per call in strace's own format (strace's mem.c decoders: pointers and hex
// results as %#lx, lengths unsigned, mmap2's page offset shown in bytes, flags
// symbolic, errors as "-1 ENAME (message)").

import { describe, expect, it } from "vitest";
import { Kev } from "../../kernel/cost/events.ts";
import { EBADF, EINVAL, ENOSYS } from "../../kernel/errno.ts";
import type { Kernel } from "../../kernel/kernel.ts";
import {
  BRK_NOZERO, MADV_DONTNEED, MAP_ANONYMOUS, MAP_FIXED, MAP_HUGETLB, MAP_NOZERO, MAP_PRIVATE, MAP_SHARED,
  MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE, PROT_EXEC, PROT_READ, PROT_WRITE,
} from "../../kernel/mman.ts";
import { MMAP_BASE } from "../../kernel/param.ts";
import { NR, type Handler, defineSyscall, formatCall, syscallByName, syscallDef } from "../../kernel/syscall.ts";
import type { Task } from "../../kernel/task.ts";
import { TEST_BRK, bootKernel, newTask, sys } from "../helpers/boot.ts";

const RW = PROT_READ | PROT_WRITE;
const PRIV = MAP_PRIVATE | MAP_ANONYMOUS;

function setup(uid = 1000): { k: Kernel; t: Task } {
  const k = bootKernel();
  return { k, t: newTask(k, uid) };
}

/** Run fn with strace attached; return the lines it printed. */
function traced(k: Kernel, fn: () => void): string[] {
  const lines: string[] = [];
  k.strace = (l) => lines.push(l);
  try {
    fn();
  } finally {
    k.strace = null;
  }
  return lines;
}

/** Trace a single call; return its result and its one line. */
function trace1(k: Kernel, nr: number, ...args: number[]): { r: number; line: string } {
  let r = 0;
  const lines = traced(k, () => {
    r = sys(k, nr, ...args);
  });
  expect(lines).toHaveLength(1);
  return { r, line: lines[0] };
}

// A syscall that records what its handler receives, at a number nothing else uses.
const NR_ECHO = 0x7fff0000;
let echoed: number[] = [];
defineSyscall(NR_ECHO, "test_echo", ((_k, _t, a, b, c, d, e, f) => {
  echoed = [a, b, c, d, e, f];
  return 0;
}) as Handler, ["hex", "hex", "hex", "hex", "hex", "hex"]);

describe("the table", () => {
  it.each([
    ["brk", NR.brk, 45],
    ["munmap", NR.munmap, 91],
    ["mprotect", NR.mprotect, 125],
    ["mremap", NR.mremap, 163],
    ["mmap2", NR.mmap2, 192],
    ["madvise", NR.madvise, 219],
    ["brk2", NR.brk2, 1000],
  ])("%s is i386 number %i (brk2 past the end of the i386 table)", (name, nr, want) => {
    expect(nr).toBe(want);
    expect(syscallDef(nr)?.name).toBe(name);
    expect(syscallByName(name)?.nr).toBe(nr);
  });

  it("refuses a number defined twice", () => {
    expect(() => defineSyscall(NR.brk, "brk_again", (() => 0) as Handler, [])).toThrow(/defined twice/);
  });
});

describe("counting", () => {
  it("counts every entry as Kev.SYSCALL and per number, successes, errors and unknown numbers alike", () => {
    const { k, t } = setup();
    const before = t.counters.k[Kev.SYSCALL];
    sys(k, NR.brk, 0);
    const a = sys(k, NR.mmap2, 0, 0x1000, RW, PRIV, -1, 0);
    sys(k, NR.munmap, a, 0x1000);
    sys(k, NR.munmap, a + 1, 0x1000); // EINVAL
    sys(k, NR.mmap2, 0, 0x1000, RW, PRIV, -1, 0);
    sys(k, 9999); // ENOSYS
    expect(t.counters.k[Kev.SYSCALL] - before).toBe(6);
    expect(Object.fromEntries(t.counters.syscalls)).toEqual({
      [NR.brk]: 1, [NR.mmap2]: 2, [NR.munmap]: 2, 9999: 1,
    });
  });

  it("charges the current task only", () => {
    const k = bootKernel();
    const t1 = newTask(k, 1000, "one");
    const t2 = newTask(k, 1001, "two");
    const swapperCalls = k.swapper.counters.k[Kev.SYSCALL];
    k.switchTo(t1);
    sys(k, NR.brk, 0);
    sys(k, NR.brk, 0);
    k.switchTo(t2);
    sys(k, NR.brk, 0);
    expect(t1.counters.k[Kev.SYSCALL]).toBe(2);
    expect(t2.counters.k[Kev.SYSCALL]).toBe(1);
    expect(t1.counters.syscalls.get(NR.brk)).toBe(2);
    expect(t2.counters.syscalls.get(NR.brk)).toBe(1);
    expect(k.swapper.counters.k[Kev.SYSCALL]).toBe(swapperCalls);
  });

  it("the per-number counts add up to Kev.SYSCALL", () => {
    const { k, t } = setup();
    for (let i = 0; i < 5; i++) sys(k, NR.mmap2, 0, 0x1000, RW, PRIV, -1, 0);
    sys(k, NR.madvise, 0, 0, MADV_DONTNEED);
    sys(k, NR.brk2, TEST_BRK, 0);
    let sum = 0;
    for (const n of t.counters.syscalls.values()) sum += n;
    expect(sum).toBe(t.counters.k[Kev.SYSCALL]);
  });

  it("merged Counters keep the per-number counts", () => {
    const { k, t } = setup();
    sys(k, NR.brk, 0);
    const u = newTask(k, 1000);
    sys(k, NR.brk, 0);
    sys(k, NR.munmap, 0x20000000, 0x1000);
    t.counters.merge(u.counters);
    expect(t.counters.syscalls.get(NR.brk)).toBe(2);
    expect(t.counters.syscalls.get(NR.munmap)).toBe(1);
  });
});

describe("unsigned 32-bit arguments", () => {
  it("hands the handler each argument as a 32-bit unsigned word; missing ones are 0", () => {
    const { k } = setup();
    sys(k, NR_ECHO, -1, 2 ** 32 + 5, -4096, 0x80000000, 1.9);
    expect(echoed).toEqual([0xffffffff, 5, 0xfffff000, 0x80000000, 1, 0]);
    sys(k, NR_ECHO);
    expect(echoed).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it("takes the syscall number as a 32-bit word too (a register holds it)", () => {
    const { k, t } = setup();
    expect(sys(k, NR.brk + 2 ** 32, 0)).toBe(TEST_BRK);
    expect(t.counters.syscalls.get(NR.brk)).toBe(1);
    expect(sys(k, -1)).toBe(-ENOSYS);
    expect(t.counters.syscalls.get(0xffffffff)).toBe(1);
  });

  it("a negative address is the same as its unsigned value", () => {
    const { k } = setup();
    expect(sys(k, NR.munmap, -4096, 0x1000)).toBe(sys(k, NR.munmap, 0xfffff000, 0x1000));
    expect(sys(k, NR.munmap, -4096, 0x1000)).toBe(-EINVAL);
  });

  it("fd -1 and fd 0xffffffff are the same bad descriptor", () => {
    const { k } = setup();
    expect(sys(k, NR.mmap2, 0, 0x1000, RW, MAP_PRIVATE, -1, 0)).toBe(-EBADF);
    expect(sys(k, NR.mmap2, 0, 0x1000, RW, MAP_PRIVATE, 0xffffffff, 0)).toBe(-EBADF);
  });

  it("a length above 2^32 wraps to its low 32 bits", () => {
    const { k, t } = setup();
    const a = sys(k, NR.mmap2, 0, 2 ** 32 + 0x3000, RW, PRIV, -1, 0);
    const v = t.mm!.vmas.findExact(a)!;
    expect(v.end - v.start).toBe(0x3000);
  });

  it("addresses come back unsigned (never negative)", () => {
    const { k } = setup();
    const a = sys(k, NR.mmap2, 0, 0x1000, RW, PRIV, -1, 0);
    expect(a).toBe(MMAP_BASE - 0x1000);
    expect(a).toBeGreaterThan(0x80000000);
  });
});

describe("strace lines", () => {
  const A = MMAP_BASE - 0x2000; // 0xb7ffe000: the first 2-page mapping of a fresh task

  it("one line per call, in order, after the call (the result is in it); none without the hook", () => {
    const { k } = setup();
    const lines = traced(k, () => {
      sys(k, NR.brk, 0);
      sys(k, NR.brk, TEST_BRK + 0x1000);
    });
    expect(lines).toEqual(["brk(NULL) = 0x8050000", "brk(0x8051000) = 0x8051000"]);
    k.strace = null;
    expect(() => sys(k, NR.brk, 0)).not.toThrow();
  });

  it.each<{ cls: string; nr: number; args: number[]; uid?: number; pre?: (k: Kernel) => void; want: string }>([
    // mmap2
    {
      cls: "mmap2 MAP_NOZERO, offset 0 prints as 0",
      nr: NR.mmap2, args: [0, 8192, RW, PRIV | MAP_NOZERO, -1, 0],
      want: `mmap2(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_NOZERO, -1, 0) = 0x${A.toString(16)}`,
    },
    {
      cls: "mmap2 offset in bytes (pgoff 5 -> 0x5000), file error",
      nr: NR.mmap2, args: [0, 4096, PROT_READ, MAP_PRIVATE, 3, 5],
      want: "mmap2(NULL, 4096, PROT_READ, MAP_PRIVATE, 3, 0x5000) = -1 EBADF (Bad file descriptor)",
    },
    {
      cls: "mmap2 offset past 32 bits in bytes (pgoff 0xffffffff)",
      nr: NR.mmap2, args: [0, 4096, RW, PRIV, -1, 0xffffffff],
      want: "mmap2(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0xffffffff000) = -1 EOVERFLOW (Value too large for defined data type)",
    },
    {
      cls: "mmap2 hint, MAP_FIXED, PROT_EXEC",
      nr: NR.mmap2, args: [0x40000000, 4096, PROT_READ | PROT_EXEC, PRIV | MAP_FIXED, -1, 0],
      want: "mmap2(0x40000000, 4096, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_ANONYMOUS, -1, 0) = 0x40000000",
    },
    {
      cls: "mmap2 length unsigned",
      nr: NR.mmap2, args: [0, 0xfffff000, RW, PRIV, -1, 0],
      want: "mmap2(NULL, 4294963200, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = -1 ENOMEM (Cannot allocate memory)",
    },
    {
      cls: "mmap2 MAP_HUGETLB size field as N<<MAP_HUGE_SHIFT",
      nr: NR.mmap2, args: [0, 0x200000, RW, PRIV | MAP_HUGETLB | (21 << 26), -1, 0],
      want: "mmap2(NULL, 2097152, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB|21<<MAP_HUGE_SHIFT, -1, 0) = -1 ENOMEM (Cannot allocate memory)",
    },
    {
      cls: "mmap2 MAP_HUGETLB with bit 26: the size field, not MAP_NOZERO",
      nr: NR.mmap2, args: [0, 0x200000, RW, PRIV | MAP_HUGETLB | MAP_NOZERO, -1, 0],
      want: "mmap2(NULL, 2097152, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB|1<<MAP_HUGE_SHIFT, -1, 0) = -1 EINVAL (Invalid argument)",
    },
    {
      cls: "mmap2 PROT_NONE, MAP_SHARED, unknown prot bit",
      nr: NR.mmap2, args: [0, 4096, 0x10, MAP_SHARED | MAP_ANONYMOUS, -1, 0],
      want: `mmap2(NULL, 4096, 0x10 /* PROT_??? */, MAP_SHARED|MAP_ANONYMOUS, -1, 0) = 0x${(MMAP_BASE - 0x1000).toString(16)}`,
    },
    {
      cls: "mmap2 at address 0 as root returns 0",
      nr: NR.mmap2, args: [0, 4096, 0, PRIV | MAP_FIXED, -1, 0], uid: 0,
      want: "mmap2(NULL, 4096, PROT_NONE, MAP_PRIVATE|MAP_FIXED|MAP_ANONYMOUS, -1, 0) = 0",
    },
    // brk, brk2
    { cls: "brk query", nr: NR.brk, args: [0], want: "brk(NULL) = 0x8050000" },
    { cls: "brk failing returns the old break, not an errno", nr: NR.brk, args: [0x07f50000], want: "brk(0x7f50000) = 0x8050000" },
    { cls: "brk2 BRK_NOZERO", nr: NR.brk2, args: [0x08060000, BRK_NOZERO], want: "brk2(0x8060000, BRK_NOZERO) = 0x8060000" },
    { cls: "brk2 no flags", nr: NR.brk2, args: [0x08060000, 0], want: "brk2(0x8060000, 0) = 0x8060000" },
    {
      cls: "brk2 unknown flag with a known one",
      nr: NR.brk2, args: [0x08060000, BRK_NOZERO | 2],
      want: "brk2(0x8060000, BRK_NOZERO|0x2) = -1 EINVAL (Invalid argument)",
    },
    {
      cls: "brk2 only unknown flags",
      nr: NR.brk2, args: [0x08060000, 2],
      want: "brk2(0x8060000, 0x2 /* BRK_??? */) = -1 EINVAL (Invalid argument)",
    },
    // munmap, mprotect
    { cls: "munmap unaligned", nr: NR.munmap, args: [0x08050001, 4096], want: "munmap(0x8050001, 4096) = -1 EINVAL (Invalid argument)" },
    { cls: "munmap length unsigned", nr: NR.munmap, args: [0x10000000, 0xf8000000], want: "munmap(0x10000000, 4160749568) = -1 EINVAL (Invalid argument)" },
    { cls: "munmap nothing mapped", nr: NR.munmap, args: [0x20000000, 4096], want: "munmap(0x20000000, 4096) = 0" },
    {
      cls: "mprotect success",
      nr: NR.mprotect, args: [A, 4096, PROT_READ], pre: (k) => sys(k, NR.mmap2, 0, 8192, RW, PRIV, -1, 0),
      want: `mprotect(0x${A.toString(16)}, 4096, PROT_READ) = 0`,
    },
    {
      cls: "mprotect PROT_NONE on nothing",
      nr: NR.mprotect, args: [0x20000000, 4096, 0],
      want: "mprotect(0x20000000, 4096, PROT_NONE) = -1 ENOMEM (Cannot allocate memory)",
    },
    {
      cls: "mprotect known and unknown bits",
      nr: NR.mprotect, args: [0x20000000, 4096, PROT_READ | 0x10],
      want: "mprotect(0x20000000, 4096, PROT_READ|0x10) = -1 EINVAL (Invalid argument)",
    },
    {
      cls: "mprotect PROT_GROWSDOWN",
      nr: NR.mprotect, args: [0x20000000, 4096, 0x01000001],
      want: "mprotect(0x20000000, 4096, PROT_READ|PROT_GROWSDOWN) = -1 ENOMEM (Cannot allocate memory)",
    },
    // mremap: new_address only with MREMAP_MAYMOVE|MREMAP_FIXED
    {
      cls: "mremap MREMAP_MAYMOVE, blocked above so it moves: four arguments",
      nr: NR.mremap, args: [A, 8192, 16384, MREMAP_MAYMOVE, 0x12345000],
      pre: (k) => {
        sys(k, NR.mmap2, 0, 8192, RW, PRIV, -1, 0);
        sys(k, NR.mmap2, MMAP_BASE, 4096, PROT_READ, PRIV | MAP_FIXED, -1, 0);
      },
      want: `mremap(0x${A.toString(16)}, 8192, 16384, MREMAP_MAYMOVE) = 0x${(A - 0x4000).toString(16)}`,
    },
    {
      cls: "mremap growing in place (free above)",
      nr: NR.mremap, args: [A, 8192, 16384, MREMAP_MAYMOVE, 0], pre: (k) => sys(k, NR.mmap2, 0, 8192, RW, PRIV, -1, 0),
      want: `mremap(0x${A.toString(16)}, 8192, 16384, MREMAP_MAYMOVE) = 0x${A.toString(16)}`,
    },
    {
      cls: "mremap no flags shrink",
      nr: NR.mremap, args: [A, 8192, 4096, 0, 0], pre: (k) => sys(k, NR.mmap2, 0, 8192, RW, PRIV, -1, 0),
      want: `mremap(0x${A.toString(16)}, 8192, 4096, 0) = 0x${A.toString(16)}`,
    },
    {
      cls: "mremap MREMAP_FIXED: five arguments",
      nr: NR.mremap, args: [A, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, 0x40000000], pre: (k) => sys(k, NR.mmap2, 0, 8192, RW, PRIV, -1, 0),
      want: `mremap(0x${A.toString(16)}, 4096, 4096, MREMAP_MAYMOVE|MREMAP_FIXED, 0x40000000) = 0x40000000`,
    },
    {
      cls: "mremap MREMAP_DONTUNMAP",
      nr: NR.mremap, args: [0x20000000, 4096, 4096, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0],
      want: "mremap(0x20000000, 4096, 4096, MREMAP_MAYMOVE|MREMAP_DONTUNMAP) = -1 EFAULT (Bad address)",
    },
    {
      cls: "mremap unknown flag",
      nr: NR.mremap, args: [0x20000000, 4096, 4096, 8, 0],
      want: "mremap(0x20000000, 4096, 4096, 0x8 /* MREMAP_??? */) = -1 EINVAL (Invalid argument)",
    },
    // madvise
    {
      cls: "madvise named advice",
      nr: NR.madvise, args: [A, 8192, MADV_DONTNEED], pre: (k) => sys(k, NR.mmap2, 0, 8192, RW, PRIV, -1, 0),
      want: `madvise(0x${A.toString(16)}, 8192, MADV_DONTNEED) = 0`,
    },
    {
      cls: "madvise unknown advice",
      nr: NR.madvise, args: [0x20000000, 4096, 999],
      want: "madvise(0x20000000, 4096, 0x3e7 /* MADV_??? */) = -1 EINVAL (Invalid argument)",
    },
    {
      cls: "madvise length unsigned",
      nr: NR.madvise, args: [0x20000000, 0xffffffff, MADV_DONTNEED],
      want: "madvise(0x20000000, 4294967295, MADV_DONTNEED) = -1 EINVAL (Invalid argument)",
    },
    // unknown numbers
    {
      cls: "unknown number: syscall_0xNR and six raw arguments",
      nr: 9999, args: [1, 0xffffffff],
      want: "syscall_0x270f(0x1, 0xffffffff, 0, 0, 0, 0) = -1 ENOSYS (Function not implemented)",
    },
  ])("$cls", ({ nr, args, uid, pre, want }) => {
    const { k } = setup(uid ?? 1000);
    pre?.(k);
    expect(trace1(k, nr, ...args).line).toBe(want);
  });

  it("every line of a mixed session has strace's shape", () => {
    const { k } = setup();
    const lines = traced(k, () => {
      const a = sys(k, NR.mmap2, 0, 0x4000, RW, PRIV, -1, 0);
      sys(k, NR.mprotect, a, 0x1000, PROT_READ);
      sys(k, NR.madvise, a, 0x4000, MADV_DONTNEED);
      sys(k, NR.mremap, a, 0x4000, 0x8000, MREMAP_MAYMOVE, 0);
      sys(k, NR.munmap, a, 0x1000);
      sys(k, NR.brk2, TEST_BRK + 0x2000, BRK_NOZERO);
      sys(k, NR.brk, TEST_BRK - 1);
      sys(k, NR.mmap2, 0, 0, RW, PRIV, -1, 0);
      sys(k, 12345, 1, 2, 3, 4, 5, 6);
    });
    expect(lines).toHaveLength(9);
    const shape = /^[a-z_0-9]+\((?:[^()]|\([^()]*\))*\) = (?:0|0x[0-9a-f]+|\d+|-1 E[A-Z0-9]+ \([^()]+\))$/;
    for (const l of lines) expect(l).toMatch(shape);
    // No zero-padded hex anywhere (strace prints %#lx).
    for (const l of lines) expect(l).not.toMatch(/0x0[0-9a-f]/);
  });

  it("formatCall is the same formatter the hook uses", () => {
    const { k, t } = setup();
    const { r, line } = trace1(k, NR.munmap, 0x08050001, 4096);
    expect(formatCall(t, NR.munmap, syscallDef(NR.munmap), [0x08050001, 4096, 0, 0, 0, 0], r)).toBe(line);
  });
});
