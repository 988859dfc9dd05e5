// The user-memory accessor (kernel/uaccess.ts): loads and stores of every
// width and alignment, bulk operations across pages, kernel copies that
// report EFAULT, TLB coherence with the page tables, and event counting.

import { beforeEach, describe, expect, it } from "vitest";
import { NUEV, Uev } from "../../kernel/cost/events.ts";
import type { Kernel } from "../../kernel/kernel.ts";
import { dupMm } from "../../kernel/fork_mm.ts";
import * as M from "../../kernel/mman.ts";
import { PAGE_SIZE } from "../../kernel/param.ts";
import { SIGSEGV } from "../../kernel/signal.ts";
import { NR } from "../../kernel/syscall.ts";
import type { Task } from "../../kernel/task.ts";
import type { UserMemory } from "../../kernel/uaccess.ts";
import { bootKernel, newTask, runUser, sys } from "../helpers/boot.ts";

// ---- helpers ------------------------------------------------------------------

const P = PAGE_SIZE;
const RW = M.PROT_READ | M.PROT_WRITE;
const ANON = M.MAP_PRIVATE | M.MAP_ANONYMOUS;
/** Where the tests map their buffer: page-aligned, far from anything else. */
const BUF = 0x40000000;
const UNMAPPED = 0x30000000;

let k: Kernel;
let t: Task;
let mem: UserMemory;

beforeEach(() => {
  k = bootKernel();
  t = newTask(k);
  mem = t.mm!.mem;
  expect(sys(k, NR.mmap2, BUF, 8 * P, RW, ANON | M.MAP_FIXED, -1, 0)).toBe(BUF);
});

/** The bytes of [a, a + n) read one at a time. */
function bytesAt(a: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => mem.read8(a + i));
}

function fill(a: number, n: number, f: (i: number) => number): void {
  for (let i = 0; i < n; i++) mem.write8(a + i, f(i));
}

/** The user-event count of task t for its current symbol. */
function uev(ev: number): number {
  k.flushUser(t);
  return t.counters.u[t.sym * NUEV + ev] ?? 0;
}

// ---- loads and stores ----------------------------------------------------------------

describe("loads and stores", () => {
  it("8, 16 and 32 bits, aligned, little-endian", () => {
    mem.write32(BUF, 0x04030201);
    expect(bytesAt(BUF, 4)).toEqual([1, 2, 3, 4]);
    expect(mem.read16(BUF)).toBe(0x0201);
    expect(mem.read16(BUF + 2)).toBe(0x0403);
    mem.write16(BUF + 8, 0xbeef);
    expect(bytesAt(BUF + 8, 2)).toEqual([0xef, 0xbe]);
    mem.write8(BUF + 16, 0x1ff); // truncated to a byte
    expect(mem.read8(BUF + 16)).toBe(0xff);
    mem.write16(BUF + 18, 0x12345); // truncated to 16 bits
    expect(mem.read16(BUF + 18)).toBe(0x2345);
  });

  it("unaligned within a page", () => {
    mem.write32(BUF + 1, 0xa1b2c3d4);
    expect(bytesAt(BUF, 6)).toEqual([0, 0xd4, 0xc3, 0xb2, 0xa1, 0]);
    expect(mem.readU32(BUF + 1)).toBe(0xa1b2c3d4);
    mem.write16(BUF + 11, 0x7788);
    expect(mem.read16(BUF + 11)).toBe(0x7788);
    expect(mem.read8(BUF + 11)).toBe(0x88);
    expect(mem.read16(BUF + 1)).toBe(0xc3d4);
    expect(mem.readU32(BUF + 3)).toBe(0x0000a1b2);
  });

  it("across a page boundary", () => {
    const edge = BUF + P;
    mem.write32(edge - 2, 0x11223344);
    expect(bytesAt(edge - 2, 4)).toEqual([0x44, 0x33, 0x22, 0x11]);
    expect(mem.readU32(edge - 2)).toBe(0x11223344);
    expect(mem.read16(edge - 1)).toBe(0x2233);
    mem.write16(edge + P - 1, 0xabcd);
    expect(mem.read8(edge + P - 1)).toBe(0xcd);
    expect(mem.read8(edge + P)).toBe(0xab);
    mem.write32(edge + 2 * P - 3, 0xcafef00d);
    expect(mem.readU32(edge + 2 * P - 3)).toBe(0xcafef00d);
    expect(mem.read32(edge + 2 * P - 3)).toBe(0xcafef00d | 0);
  });

  it("read32 is signed and readU32 unsigned, aligned or not", () => {
    mem.write32(BUF, 0xffffffff);
    expect(mem.read32(BUF)).toBe(-1);
    expect(mem.readU32(BUF)).toBe(0xffffffff);
    mem.write32(BUF + 0x101, 0x80000000);
    expect(mem.read32(BUF + 0x101)).toBe(-0x80000000);
    expect(mem.readU32(BUF + 0x101)).toBe(0x80000000);
    mem.write32(BUF + P - 1, 0x80000001);
    expect(mem.readU32(BUF + P - 1)).toBe(0x80000001);
    // 8- and 16-bit loads are zero-extended.
    mem.write16(BUF + 0x200, 0xffff);
    expect(mem.read16(BUF + 0x200)).toBe(0xffff);
    expect(mem.read8(BUF + 0x201)).toBe(0xff);
    mem.write16(BUF + 0x203, 0x8001);
    expect(mem.read16(BUF + 0x203)).toBe(0x8001);
  });

  it("two pages that share a TLB slot keep their own contents", () => {
    // 8 pages mapped at BUF plus one 256 pages higher: same direct-mapped slot.
    const far = BUF + 256 * P;
    expect(sys(k, NR.mmap2, far, P, RW, ANON | M.MAP_FIXED, -1, 0)).toBe(far);
    for (let i = 0; i < 3; i++) {
      mem.write32(BUF + 8, 0x1111 + i);
      mem.write32(far + 8, 0x2222 + i);
      expect(mem.read32(BUF + 8)).toBe(0x1111 + i);
      expect(mem.read32(far + 8)).toBe(0x2222 + i);
    }
  });
});

// ---- bulk operations ------------------------------------------------------------------

describe("bulk operations", () => {
  it("memset across pages touches exactly the range", () => {
    fill(BUF + P - 10, 20, () => 0xee);
    mem.memset(BUF + P - 5, 0x5a, P + 10);
    expect(bytesAt(BUF + P - 10, 5)).toEqual([0xee, 0xee, 0xee, 0xee, 0xee]);
    expect(bytesAt(BUF + P - 5, 5)).toEqual(new Array(5).fill(0x5a));
    expect(mem.read8(BUF + 2 * P - 1)).toBe(0x5a);
    expect(mem.read8(BUF + 2 * P + 4)).toBe(0x5a);
    expect(mem.read8(BUF + 2 * P + 5)).toBe(0);
  });

  it("writeBytes/readBytes across pages round-trip", () => {
    const data = Uint8Array.from({ length: 3 * P + 17 }, (_, i) => (i * 31 + 7) & 0xff);
    mem.writeBytes(BUF + 100, data);
    expect(mem.readBytes(BUF + 100, data.length)).toEqual(data);
    expect(mem.read8(BUF + 100 + P)).toBe(data[P]);
    expect(mem.read8(BUF + 99)).toBe(0);
    expect(mem.read8(BUF + 100 + data.length)).toBe(0);
    expect(mem.readBytes(BUF, 0)).toEqual(new Uint8Array(0));
  });

  it("memcpy between non-overlapping ranges with different page offsets", () => {
    fill(BUF + 50, 2 * P, (i) => i & 0xff);
    mem.memcpy(BUF + 4 * P + 3000, BUF + 50, 2 * P);
    for (const i of [0, 1, P - 3000 - 1, P - 3000, P - 50, P, 2 * P - 1]) {
      expect(mem.read8(BUF + 4 * P + 3000 + i), `byte ${i}`).toBe(i & 0xff);
    }
    expect(mem.read8(BUF + 4 * P + 2999)).toBe(0);
    expect(mem.read8(BUF + 6 * P + 3000)).toBe(0);
  });

  it("overlapping memcpy forward (dst above src) has memmove semantics", () => {
    const n = P + 500;
    fill(BUF + 10, n, (i) => (i * 7) & 0xff);
    mem.memcpy(BUF + 10 + 300, BUF + 10, n);
    expect(bytesAt(BUF + 310, n)).toEqual(Array.from({ length: n }, (_, i) => (i * 7) & 0xff));
    expect(bytesAt(BUF + 10, 300)).toEqual(Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff));
  });

  it("overlapping memcpy backward (dst below src) has memmove semantics", () => {
    const n = 2 * P;
    fill(BUF + 3 * P - 7, n, (i) => (i * 13 + 1) & 0xff);
    mem.memcpy(BUF + P + 5, BUF + 3 * P - 7, n);
    expect(bytesAt(BUF + P + 5, n)).toEqual(Array.from({ length: n }, (_, i) => (i * 13 + 1) & 0xff));
  });

  it("memcpy by one byte in either direction across a page edge", () => {
    const ref = Array.from({ length: 64 }, (_, i) => i + 1);
    fill(BUF + P - 32, 64, (i) => ref[i]);
    mem.memcpy(BUF + P - 31, BUF + P - 32, 64);
    expect(bytesAt(BUF + P - 31, 64)).toEqual(ref);
    mem.memcpy(BUF + P - 32, BUF + P - 31, 64);
    expect(bytesAt(BUF + P - 32, 64)).toEqual(ref);
  });

  it("writeCString/readCString, across pages, stopping at NUL or max", () => {
    mem.writeCString(BUF + P - 3, "hello, world");
    expect(mem.readCString(BUF + P - 3)).toBe("hello, world");
    expect(mem.read8(BUF + P - 3 + 12)).toBe(0);
    expect(mem.readCString(BUF + P - 3, 5)).toBe("hello");
    mem.writeCString(BUF, "");
    expect(mem.readCString(BUF)).toBe("");
    mem.writeCString(BUF + 200, "caf\u00e9"); // Latin-1
    expect(mem.read8(BUF + 203)).toBe(0xe9);
    expect(mem.readCString(BUF + 200)).toBe("caf\u00e9");
  });

  it("a bulk operation over an unmapped page signals at the first bad byte", () => {
    const end = BUF + 8 * P;
    expect(runUser(k, t, () => mem.memset(end - 10, 1, 20))).toEqual({ signal: SIGSEGV, addr: end });
    expect(mem.read8(end - 1)).toBe(1); // the mapped part was written first
  });
});

// ---- kernel copies -----------------------------------------------------------------------

describe("kernel copies report EFAULT instead of signalling", () => {
  it("copyFromUser returns the bytes, or null on a bad address", () => {
    mem.writeCString(BUF + P - 2, "abcd");
    expect(Array.from(mem.copyFromUser(BUF + P - 2, 4)!)).toEqual([97, 98, 99, 100]);
    expect(mem.copyFromUser(UNMAPPED, 4)).toBeNull();
    expect(mem.copyFromUser(BUF + 8 * P - 2, 4)).toBeNull(); // runs off the end
    expect(mem.copyFromUser(0xc0000000, 4)).toBeNull();
  });

  it("copyToUser writes, or returns false on a bad or read-only address", () => {
    expect(mem.copyToUser(BUF + P - 1, Uint8Array.of(9, 8))).toBe(true);
    expect(bytesAt(BUF + P - 1, 2)).toEqual([9, 8]);
    expect(mem.copyToUser(UNMAPPED, Uint8Array.of(1))).toBe(false);
    expect(sys(k, NR.mprotect, BUF + 2 * P, P, M.PROT_READ)).toBe(0);
    expect(mem.copyToUser(BUF + 2 * P, Uint8Array.of(1))).toBe(false);
    expect(mem.read8(BUF + 2 * P)).toBe(0);
  });

  it("strncpyFromUser returns the string, or null on a bad address or no NUL within max", () => {
    mem.writeCString(BUF + P - 4, "/bin/sh");
    expect(mem.strncpyFromUser(BUF + P - 4, 100)).toBe("/bin/sh");
    expect(mem.strncpyFromUser(BUF + P - 4, 7)).toBeNull(); // the NUL is byte 8
    expect(mem.strncpyFromUser(BUF + P - 4, 8)).toBe("/bin/sh");
    expect(mem.strncpyFromUser(UNMAPPED, 10)).toBeNull();
    mem.memset(BUF + 8 * P - 4, 0x41, 4); // no NUL before the end of the mapping
    expect(mem.strncpyFromUser(BUF + 8 * P - 4, 100)).toBeNull();
  });

  it("none of them throws", () => {
    expect(() => {
      mem.copyFromUser(0, 16);
      mem.copyToUser(0, new Uint8Array(16));
      mem.strncpyFromUser(0, 16);
    }).not.toThrow();
  });
});

// ---- TLB coherence ----------------------------------------------------------------------------

describe("TLB coherence", () => {
  it("mprotect(PROT_READ) after a write: the next write signals", () => {
    mem.write32(BUF, 1); // cached writable
    expect(sys(k, NR.mprotect, BUF, P, M.PROT_READ)).toBe(0);
    expect(mem.read32(BUF)).toBe(1);
    expect(runUser(k, t, () => mem.write32(BUF, 2))).toEqual({ signal: SIGSEGV, addr: BUF });
    expect(mem.read32(BUF)).toBe(1);
  });

  it("mprotect(PROT_NONE) after a read: the next read signals", () => {
    mem.write32(BUF + P, 5);
    expect(mem.read32(BUF + P)).toBe(5);
    expect(sys(k, NR.mprotect, BUF + P, P, M.PROT_NONE)).toBe(0);
    expect(runUser(k, t, () => mem.read32(BUF + P))).toEqual({ signal: SIGSEGV, addr: BUF + P });
    // Restoring access shows the page kept its contents.
    expect(sys(k, NR.mprotect, BUF + P, P, RW)).toBe(0);
    expect(mem.read32(BUF + P)).toBe(5);
  });

  it("munmap after a write: the next read signals", () => {
    mem.write32(BUF + 3 * P, 7);
    expect(mem.read32(BUF + 3 * P)).toBe(7);
    expect(sys(k, NR.munmap, BUF + 3 * P, P)).toBe(0);
    expect(runUser(k, t, () => mem.read32(BUF + 3 * P))).toEqual({ signal: SIGSEGV, addr: BUF + 3 * P });
    expect(runUser(k, t, () => mem.write32(BUF + 3 * P, 1)).signal).toBe(SIGSEGV);
  });

  it("mremap: the old address signals, the new one shows the data", () => {
    mem.write32(BUF + 5 * P, 0x77);
    const to = BUF + 0x100000;
    expect(sys(k, NR.mremap, BUF + 5 * P, P, P, M.MREMAP_MAYMOVE | M.MREMAP_FIXED, to)).toBe(to);
    expect(runUser(k, t, () => mem.read32(BUF + 5 * P)).signal).toBe(SIGSEGV);
    expect(mem.read32(to)).toBe(0x77);
    mem.write32(to + 4, 0x78);
    expect(mem.read32(to + 4)).toBe(0x78);
  });

  it("MADV_DONTNEED after a write: the next read sees a fresh zero page", () => {
    mem.write32(BUF + 6 * P, 0x99);
    expect(sys(k, NR.madvise, BUF + 6 * P, P, M.MADV_DONTNEED)).toBe(0);
    expect(mem.read32(BUF + 6 * P)).toBe(0);
  });

  it("fork: a parent's cached writable entry does not let it write into the shared frame", () => {
    mem.write32(BUF, 0x1234); // cached writable in the parent
    const child = dupMm(t.mm!)!;
    mem.write32(BUF, 0x5678); // must take the copy-on-write fault
    expect(mem.read32(BUF)).toBe(0x5678);
    expect(child.mem.read32(BUF)).toBe(0x1234);
  });

  it("a write after a zero-page read goes to a new frame, not the zero page", () => {
    expect(mem.read32(BUF + 7 * P)).toBe(0); // cached readable, zero page
    mem.write32(BUF + 7 * P, 0x42);
    expect(mem.read32(BUF + 7 * P)).toBe(0x42);
    expect(k.phys.frameIsZero(k.zeroFrame)).toBe(true);
    expect(mem.read32(BUF + 6 * P)).toBe(0); // another zero-page page still reads zero
  });
});

// ---- counters ------------------------------------------------------------------------------

describe("access counting", () => {
  it("loads, stores, misses and bulk bytes count straight into the task's counters", () => {
    const a0 = uev(Uev.ACCESS);
    const m0 = uev(Uev.TLB_MISS);
    const b0 = uev(Uev.BYTES);
    mem.write32(BUF, 1); // miss + fault
    mem.read32(BUF); // hit
    mem.read8(BUF + 1); // hit
    mem.write16(BUF + 2, 1); // hit
    expect(uev(Uev.ACCESS) - a0).toBe(4);
    expect(uev(Uev.TLB_MISS) - m0).toBe(1);
    mem.memset(BUF + P, 0, 100);
    mem.readBytes(BUF, 28);
    expect(uev(Uev.ACCESS) - a0).toBe(4);
    expect(uev(Uev.TLB_MISS) - m0).toBe(2); // the memset's page was a second miss
    expect(uev(Uev.BYTES) - b0).toBe(128);
  });

  it("an unaligned word access counts as one access", () => {
    const a0 = uev(Uev.ACCESS);
    mem.write32(BUF + 1, 0x01020304);
    expect(mem.read32(BUF + 1)).toBe(0x01020304);
    expect(uev(Uev.ACCESS) - a0).toBe(2);
  });

  it("charges the user symbol the task is executing", () => {
    const sym = k.symbols.intern("test", "worker");
    const prev = t.sym;
    t.sym = sym;
    k.bindUser(t);
    for (let i = 0; i < 10; i++) mem.read8(BUF);
    t.sym = prev;
    k.bindUser(t);
    mem.read8(BUF);
    k.flushUser(t);
    expect(t.counters.u[sym * NUEV + Uev.ACCESS]).toBe(10);
  });

  it("after a task switch, accesses count for the new task", () => {
    mem.read8(BUF);
    mem.read8(BUF + 1);
    const before = uev(Uev.ACCESS);
    const u = newTask(k, 1001); // switches to u
    const page = sys(k, NR.mmap2, 0, P, M.PROT_READ | M.PROT_WRITE, M.MAP_PRIVATE | M.MAP_ANONYMOUS, -1, 0);
    u.mm!.mem.read32(page);
    k.flushUser(u);
    expect(t.counters.u[t.sym * NUEV + Uev.ACCESS]).toBe(before);
    expect(u.counters.u[Uev.ACCESS]).toBe(1);
  });
});
