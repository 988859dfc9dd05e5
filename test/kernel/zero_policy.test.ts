// The zeroing policy (kernel/zero_policy.ts): an uncleared frame really shows
// its previous owner's bytes, and only under the rules.
//
// The scene: task A (uid 1000) writes a pattern into N pages of a MAP_NOZERO
// mapping (memory it declared recyclable) and exits, so its frames go back to
// the allocator with owner tag 1000 and PG_NOZERO. Task B then maps N
// pages, write-faults the first word of each and inspects the rest. The
// kernel has 64 MiB, so the per-cpu list (high 18) holds all of A's frames
// and B is handed exactly those (LIFO) after its page directory and table.

import { describe, expect, it } from "vitest";
import { Kev } from "../../kernel/cost/events.ts";
import { dupMm } from "../../kernel/fork_mm.ts";
import { TAG_MIXED } from "../../kernel/frames.ts";
import type { Kernel } from "../../kernel/kernel.ts";
import * as M from "../../kernel/mman.ts";
import { PAGE_SIZE } from "../../kernel/param.ts";
import { NR } from "../../kernel/syscall.ts";
import { Task, credFor } from "../../kernel/task.ts";
import { POISON_BYTE, type ZeroPolicyName } from "../../kernel/zero_policy.ts";
import { TEST_BRK, bootKernel, exitTask, newTask, runUser, sys } from "../helpers/boot.ts";

// ---- helpers ------------------------------------------------------------------

const P = PAGE_SIZE;
const N = 8;
const RW = M.PROT_READ | M.PROT_WRITE;
const ANON = M.MAP_PRIVATE | M.MAP_ANONYMOUS;
const WORDS = P / 4;

/** A's bytes: word w of its page i. Never zero and never POISON_BYTE-filled. */
function pattern(i: number, w: number): number {
  return (0x5a000000 | (i << 12) | w) >>> 0;
}

function boot(policy: ZeroPolicyName, poison = false): Kernel {
  return bootKernel({ memBytes: 64 << 20, policy, poison });
}

function mapAnon(k: Kernel, len: number, flags = 0): number {
  const r = sys(k, NR.mmap2, 0, len, RW, ANON | flags, -1, 0);
  expect(r, `mmap2 -> ${r}`).toBeGreaterThan(0);
  return r;
}

function clearBytes(t: Task): number {
  return t.counters.k[Kev.CLEAR_HOT_BYTES] + t.counters.k[Kev.CLEAR_COLD_BYTES];
}

/** Task A of `uid` fills N pages (MAP_NOZERO unless `flags` says otherwise) with pattern() and exits. */
function leaveBehind(k: Kernel, uid = 1000, flags = M.MAP_NOZERO): { a: Task; frames: number[] } {
  const a = newTask(k, uid, "A");
  const base = mapAnon(k, N * P, flags);
  const mem = a.mm!.mem;
  for (let i = 0; i < N; i++) for (let w = 0; w < WORDS; w++) mem.write32(base + i * P + 4 * w, pattern(i, w));
  const frames = Array.from({ length: N }, (_, i) => a.mm!.pte(base + i * P) >>> 12);
  exitTask(k, a);
  return { a, frames };
}

type Kind = "old" | "zero" | "poison" | "other";

/** What words 1.. of a page hold: A's bytes (some page of A's, whole), zeros, poison, or a mix. */
function classify(t: Task, page: number): Kind {
  const mem = t.mm!.mem;
  const first = mem.readU32(page + 4);
  if (first === 0) {
    for (let w = 1; w < WORDS; w++) if (mem.read32(page + 4 * w) !== 0) return "other";
    return "zero";
  }
  const poison = (POISON_BYTE * 0x01010101) >>> 0;
  if (first === poison) {
    for (let w = 1; w < WORDS; w++) if (mem.readU32(page + 4 * w) !== poison) return "other";
    return "poison";
  }
  const i = (first >>> 12) & 0xfff;
  for (let w = 1; w < WORDS; w++) if (mem.readU32(page + 4 * w) !== pattern(i, w)) return "other";
  return "old";
}

type Area = "nozero" | "plain" | "brk2" | "brk";

/**
 * Task B of `uid` gets N pages of the given kind of area, write-faults the
 * first word of each (optionally after a read fault mapped the zero page),
 * and reports what the rest of each page holds.
 */
function probe(k: Kernel, uid: number, area: Area, readFirst = false): { b: Task; kinds: Kind[]; frames: number[] } {
  const b = newTask(k, uid, "B");
  let base: number;
  if (area === "brk" || area === "brk2") {
    base = TEST_BRK;
    const end = TEST_BRK + N * P;
    const r = area === "brk2" ? sys(k, NR.brk2, end, M.BRK_NOZERO) : sys(k, NR.brk, end);
    expect(r).toBe(end);
  } else {
    base = mapAnon(k, N * P, area === "nozero" ? M.MAP_NOZERO : 0);
  }
  const r = runUser(k, b, () => {
    for (let i = 0; i < N; i++) {
      if (readFirst) b.mm!.mem.read32(base + i * P);
      b.mm!.mem.write32(base + i * P, 1);
    }
    return Array.from({ length: N }, (_, i) => classify(b, base + i * P));
  });
  expect(r.signal).toBeUndefined();
  const frames = Array.from({ length: N }, (_, i) => b.mm!.pte(base + i * P) >>> 12);
  return { b, kinds: r.value!, frames };
}

const all = (kind: Kind): Kind[] => new Array<Kind>(N).fill(kind);

// ---- nozero ------------------------------------------------------------------------

describe("nozero policy", () => {
  it("the same uid in a MAP_NOZERO area sees its old bytes", () => {
    const k = boot("nozero");
    const { frames } = leaveBehind(k, 1000);
    const handouts = k.policy.unclearedHandouts;
    const { b, kinds, frames: got } = probe(k, 1000, "nozero");
    expect(kinds.filter((x) => x === "old").length).toBeGreaterThan(0);
    expect(kinds).toEqual(all("old"));
    expect(new Set(got)).toEqual(new Set(frames)); // really A's frames
    expect(k.policy.unclearedHandouts - handouts).toBe(N);
    expect(clearBytes(b)).toBe(P); // only B's page table was cleared
  });

  it("the same uid never gets back data its owner kept in plain (non-NOZERO) memory", () => {
    const k = boot("nozero");
    const { frames } = leaveBehind(k, 1000, 0);
    const { kinds, frames: got } = probe(k, 1000, "nozero");
    expect(new Set(got)).toEqual(new Set(frames)); // the same frames, cleared
    expect(kinds).toEqual(all("zero"));
  });

  it("another uid in a MAP_NOZERO area sees only zeros", () => {
    const k = boot("nozero");
    const { frames } = leaveBehind(k, 1000);
    const { b, kinds, frames: got } = probe(k, 1001, "nozero");
    expect(new Set(got)).toEqual(new Set(frames)); // the same frames, cleared
    expect(kinds).toEqual(all("zero"));
    expect(clearBytes(b)).toBe((N + 1) * P);
  });

  it("the same uid in a plain mapping sees only zeros", () => {
    const k = boot("nozero");
    const { frames } = leaveBehind(k, 1000);
    const { kinds, frames: got } = probe(k, 1000, "plain");
    expect(new Set(got)).toEqual(new Set(frames));
    expect(kinds).toEqual(all("zero"));
  });

  it("a brk2(BRK_NOZERO) heap behaves like MAP_NOZERO", () => {
    const same = boot("nozero");
    leaveBehind(same, 1000);
    expect(probe(same, 1000, "brk2").kinds).toEqual(all("old"));

    const other = boot("nozero");
    leaveBehind(other, 1000);
    expect(probe(other, 1001, "brk2").kinds).toEqual(all("zero"));

    const plain = boot("nozero");
    leaveBehind(plain, 1000);
    expect(probe(plain, 1000, "brk").kinds).toEqual(all("zero"));
  });

  it("a write after a zero-page read follows the same rule (write-protect fault path)", () => {
    const same = boot("nozero");
    leaveBehind(same, 1000);
    expect(probe(same, 1000, "nozero", true).kinds).toEqual(all("old"));

    const other = boot("nozero");
    leaveBehind(other, 1000);
    expect(probe(other, 1001, "nozero", true).kinds).toEqual(all("zero"));
  });

  it("frames written by two credentials become TAG_MIXED and are cleared for both", () => {
    for (const uid of [1000, 1001]) {
      const k = boot("nozero");
      // Parent (1000) writes a page; a child running as 1001 writes its copy-on-write copy.
      const parent = newTask(k, 1000, "parent");
      const base = mapAnon(k, P);
      for (let w = 0; w < WORDS; w++) parent.mm!.mem.write32(base + 4 * w, pattern(0, w));
      const child = new Task(7000 + uid, "child", credFor(1001), dupMm(parent.mm!));
      runUser(k, child, () => child.mm!.mem.write32(base + 8, 0x1001));
      const mixed = child.mm!.pte(base) >>> 12;
      expect(k.frames.tag[mixed]).toBe(TAG_MIXED);
      expect(k.frames.tag[parent.mm!.pte(base) >>> 12]).toBe(1000);
      exitTask(k, child); // the mixed frame is freed, on top of the per-cpu list
      expect(k.phys.frameIsZero(mixed)).toBe(false);
      // Either owner now faults a NOZERO page and gets that frame: it must be cleared.
      const b = newTask(k, uid, "B");
      const a = mapAnon(k, P, M.MAP_NOZERO);
      runUser(k, b, () => b.mm!.mem.write32(a, 1));
      expect(b.mm!.pte(a) >>> 12).toBe(mixed);
      expect(classify(b, a)).toBe("zero");
    }
  });
});

// ---- other policies ------------------------------------------------------------------

describe("stock policy", () => {
  it("always clears, even for the same uid in a MAP_NOZERO area", () => {
    const k = boot("stock");
    const { frames } = leaveBehind(k, 1000);
    const { b, kinds, frames: got } = probe(k, 1000, "nozero");
    expect(new Set(got)).toEqual(new Set(frames));
    expect(kinds).toEqual(all("zero"));
    expect(clearBytes(b)).toBe((N + 1) * P);
    expect(k.policy.unclearedHandouts).toBe(0);
  });
});

describe("uninitialized policy (the insecure control)", () => {
  it("leaks one uid's bytes to another, even in a plain mapping", () => {
    const k = boot("uninitialized");
    const { frames } = leaveBehind(k, 1000);
    const { b, kinds, frames: got } = probe(k, 1001, "plain");
    expect(new Set(got)).toEqual(new Set(frames));
    expect(kinds).toEqual(all("old"));
    // Page tables are still cleared: only user frames go out dirty.
    expect(clearBytes(b)).toBe(P);
  });
});

describe("init_on_free policy", () => {
  it("clears at free time, charged to the freeing task; the next fault needs no clear", () => {
    const k = boot("init_on_free");
    const a = newTask(k, 1000, "A");
    const base = mapAnon(k, N * P);
    for (let i = 0; i < N; i++) for (let w = 0; w < WORDS; w++) a.mm!.mem.write32(base + i * P + 4 * w, pattern(i, w));
    const frames = Array.from({ length: N }, (_, i) => a.mm!.pte(base + i * P) >>> 12);
    const beforeExit = clearBytes(a);
    exitTask(k, a);
    expect(clearBytes(a) - beforeExit).toBe(N * P);
    for (const f of frames) expect(k.phys.frameIsZero(f)).toBe(true);

    const cleared = k.policy.clearedAtAlloc;
    const { b, kinds, frames: got } = probe(k, 1001, "plain");
    expect(new Set(got)).toEqual(new Set(frames));
    expect(kinds).toEqual(all("zero"));
    // B cleared its page table (freed as a page table, not through init_on_free) and nothing else.
    expect(clearBytes(b)).toBe(P);
    expect(k.policy.clearedAtAlloc - cleared).toBe(1 + 1); // B's page directory and page table
  });
});

describe("poison mode", () => {
  it("fills uncleared handouts with POISON_BYTE; cleared frames stay zero", () => {
    const same = boot("nozero", true);
    leaveBehind(same, 1000);
    expect(probe(same, 1000, "nozero").kinds).toEqual(all("poison"));

    const other = boot("nozero", true);
    leaveBehind(other, 1000);
    expect(probe(other, 1001, "nozero").kinds).toEqual(all("zero"));

    const leak = boot("uninitialized", true);
    leaveBehind(leak, 1000);
    expect(probe(leak, 1001, "plain").kinds).toEqual(all("poison"));
  });
});

// ---- clear_page accounting ------------------------------------------------------------

describe("clear_page byte counters", () => {
  it("count 4096 per cleared frame", () => {
    const k = boot("stock");
    const t = newTask(k);
    const base = mapAnon(k, 10 * P);
    const cleared = k.policy.clearedAtAlloc;
    for (let i = 0; i < 10; i++) t.mm!.mem.write8(base + i * P, 1);
    expect(k.policy.clearedAtAlloc - cleared).toBe(11); // ten pages and a page table
    expect(clearBytes(t)).toBe(11 * P);
  });

  it("a frame never used since boot is cold; one reused right after its free is hot", () => {
    const k = boot("stock");
    const t = newTask(k);
    const base = mapAnon(k, 2 * P);
    t.mm!.mem.write8(base + P, 1); // the page table, out of the way
    const k0 = Float64Array.from(t.counters.k);
    t.mm!.mem.write8(base, 1);
    const x = t.mm!.pte(base) >>> 12;
    expect(t.counters.k[Kev.CLEAR_COLD_BYTES] - k0[Kev.CLEAR_COLD_BYTES]).toBe(P);
    expect(t.counters.k[Kev.CLEAR_HOT_BYTES] - k0[Kev.CLEAR_HOT_BYTES]).toBe(0);

    expect(sys(k, NR.madvise, base, P, M.MADV_DONTNEED)).toBe(0);
    const k1 = Float64Array.from(t.counters.k);
    t.mm!.mem.write8(base, 2);
    expect(t.mm!.pte(base) >>> 12).toBe(x);
    expect(t.counters.k[Kev.CLEAR_HOT_BYTES] - k1[Kev.CLEAR_HOT_BYTES]).toBe(P);
    expect(t.counters.k[Kev.CLEAR_COLD_BYTES] - k1[Kev.CLEAR_COLD_BYTES]).toBe(0);
  });

  it("a frame reused after lots of other page traffic is cold", () => {
    const k = boot("stock");
    const t = newTask(k);
    const base = mapAnon(k, 2 * P);
    const p = base;
    const q = base + P;
    const mem = t.mm!.mem;
    mem.write8(p, 1);
    mem.write8(q, 1);
    const x = t.mm!.pte(p) >>> 12;
    // Free x, then q's frame on top of it; churn q's frame so x sits under it while traffic passes.
    sys(k, NR.madvise, p, P, M.MADV_DONTNEED);
    sys(k, NR.madvise, q, P, M.MADV_DONTNEED);
    const cacheFrames = k.machine.cacheBytes / P;
    for (let i = 0; i < cacheFrames; i++) {
      mem.write8(q, 1);
      sys(k, NR.madvise, q, P, M.MADV_DONTNEED);
    }
    mem.write8(p, 1); // takes the churned frame, hot
    const before = Float64Array.from(t.counters.k);
    mem.write8(q, 1); // takes x, freed 2 * cacheFrames allocations and frees ago
    expect(t.mm!.pte(q) >>> 12).toBe(x);
    expect(t.counters.k[Kev.CLEAR_COLD_BYTES] - before[Kev.CLEAR_COLD_BYTES]).toBe(P);
    expect(t.counters.k[Kev.CLEAR_HOT_BYTES] - before[Kev.CLEAR_HOT_BYTES]).toBe(0);
  });

  it("re-touching a large region after freeing it clears some frames hot and the long-freed ones cold", () => {
    const k = boot("stock");
    const t = newTask(k);
    const R = 600;
    const base = mapAnon(k, R * P);
    for (let i = 0; i < R; i++) t.mm!.mem.write8(base + i * P, 1);
    sys(k, NR.madvise, base, R * P, M.MADV_DONTNEED);
    const before = Float64Array.from(t.counters.k);
    const cleared = k.policy.clearedAtAlloc;
    for (let i = 0; i < R; i++) t.mm!.mem.write8(base + i * P, 1);
    const hot = t.counters.k[Kev.CLEAR_HOT_BYTES] - before[Kev.CLEAR_HOT_BYTES];
    const cold = t.counters.k[Kev.CLEAR_COLD_BYTES] - before[Kev.CLEAR_COLD_BYTES];
    expect(k.policy.clearedAtAlloc - cleared).toBe(R);
    expect(hot + cold).toBe(R * P);
    expect(hot).toBeGreaterThan(0);
    expect(cold).toBeGreaterThan(0);
  });
});
