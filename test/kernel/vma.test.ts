// VMA split and merge (kernel/vma.ts, kernel/mmap.ts), driven through the
// syscalls: the rules of Linux's is_mergeable_vma / can_vma_merge_*:
// adjacent, identical vm_flags, same backing object, continuous pgoff.

import { beforeEach, describe, expect, it } from "vitest";
import type { Kernel } from "../../kernel/kernel.ts";
import * as M from "../../kernel/mman.ts";
import { PAGE_SIZE } from "../../kernel/param.ts";
import { NR } from "../../kernel/syscall.ts";
import type { Task } from "../../kernel/task.ts";
import { VM_NOZERO, VM_READ, VM_SHARED, VM_WRITE, Vma, VmaList } from "../../kernel/vma.ts";
import { TEST_BRK, bootKernel, newTask, sys } from "../helpers/boot.ts";

// ---- helpers ------------------------------------------------------------------

const P = PAGE_SIZE;
const RW = M.PROT_READ | M.PROT_WRITE;
const ANON = M.MAP_PRIVATE | M.MAP_ANONYMOUS;
/** A free stretch of the address space the tests place fixed mappings in. */
const BASE = 0x40000000;

let k: Kernel;
let t: Task;

beforeEach(() => {
  k = bootKernel();
  t = newTask(k);
});

function mmap(addr: number, len: number, prot: number, flags: number): number {
  const r = sys(k, NR.mmap2, addr, len, prot, flags, -1, 0);
  expect(r, `mmap2 -> ${r}`).toBeGreaterThan(0);
  return r;
}

function mmapFixed(addr: number, len: number, prot = RW, flags = ANON): number {
  const r = mmap(addr, len, prot, flags | M.MAP_FIXED);
  expect(r).toBe(addr);
  return r;
}

/** The VMAs as [start, end) pairs, for compact comparisons. */
function spans(): [number, number][] {
  return t.mm!.vmas.list.map((v) => [v.start, v.end]);
}

function vmaAt(addr: number): Vma {
  const v = t.mm!.vmas.findExact(addr);
  if (v === null) throw new Error(`no VMA at 0x${addr.toString(16)}`);
  return v;
}

// ---- merging on mmap --------------------------------------------------------------------

describe("mmap merges adjacent compatible anonymous mappings", () => {
  it("two top-down anonymous mmaps with the same prot become one VMA", () => {
    const a = mmap(0, P, RW, ANON);
    const b = mmap(0, P, RW, ANON);
    expect(b).toBe(a - P); // top-down placement, directly below
    expect(spans()).toEqual([[b, a + P]]);
    expect(vmaAt(b).pgoff).toBe(b / P);
  });

  it("fixed mappings merge on either side and fill a hole into one VMA", () => {
    mmapFixed(BASE, P);
    mmapFixed(BASE + 2 * P, P);
    expect(spans()).toHaveLength(2);
    mmapFixed(BASE + P, P); // merges with both neighbours
    expect(spans()).toEqual([[BASE, BASE + 3 * P]]);
  });

  it("different prot does not merge", () => {
    mmapFixed(BASE, P, RW);
    mmapFixed(BASE + P, P, M.PROT_READ);
    expect(spans()).toEqual([
      [BASE, BASE + P],
      [BASE + P, BASE + 2 * P],
    ]);
    expect(vmaAt(BASE).flags & VM_WRITE).toBe(VM_WRITE);
    expect(vmaAt(BASE + P).flags & VM_WRITE).toBe(0);
  });

  it("MAP_NOZERO next to a plain mapping does not merge (VM_NOZERO differs)", () => {
    mmapFixed(BASE, P, RW, ANON);
    mmapFixed(BASE + P, P, RW, ANON | M.MAP_NOZERO);
    expect(spans()).toHaveLength(2);
    expect(vmaAt(BASE).flags & VM_NOZERO).toBe(0);
    expect(vmaAt(BASE + P).flags & VM_NOZERO).toBe(VM_NOZERO);
    // ... but two MAP_NOZERO mappings do merge.
    mmapFixed(BASE + 2 * P, P, RW, ANON | M.MAP_NOZERO);
    expect(spans()).toEqual([
      [BASE, BASE + P],
      [BASE + P, BASE + 3 * P],
    ]);
  });

  it("shared mappings never merge with private ones, nor with another shared object", () => {
    mmapFixed(BASE, P, RW, ANON);
    mmapFixed(BASE + P, P, RW, M.MAP_SHARED | M.MAP_ANONYMOUS);
    mmapFixed(BASE + 2 * P, P, RW, M.MAP_SHARED | M.MAP_ANONYMOUS);
    mmapFixed(BASE + 3 * P, P, RW, ANON);
    expect(spans()).toHaveLength(4);
    expect(vmaAt(BASE + P).flags & VM_SHARED).toBe(VM_SHARED);
    expect(vmaAt(BASE + P).obj).not.toBe(vmaAt(BASE + 2 * P).obj);
  });

  it("MAP_FIXED over the middle of a VMA with the same flags leaves one VMA", () => {
    mmapFixed(BASE, 3 * P);
    mmapFixed(BASE + P, P);
    expect(spans()).toEqual([[BASE, BASE + 3 * P]]);
  });
});

// ---- splitting and merging back ------------------------------------------------------

describe("mprotect splits and merges", () => {
  it("mprotect of the middle splits into three; mprotect back merges into one", () => {
    mmapFixed(BASE, 3 * P);
    expect(sys(k, NR.mprotect, BASE + P, P, M.PROT_READ)).toBe(0);
    expect(spans()).toEqual([
      [BASE, BASE + P],
      [BASE + P, BASE + 2 * P],
      [BASE + 2 * P, BASE + 3 * P],
    ]);
    expect(vmaAt(BASE + P).flags & (VM_READ | VM_WRITE)).toBe(VM_READ);
    expect(vmaAt(BASE + 2 * P).pgoff).toBe(BASE / P + 2);
    expect(sys(k, NR.mprotect, BASE + P, P, RW)).toBe(0);
    expect(spans()).toEqual([[BASE, BASE + 3 * P]]);
    expect(vmaAt(BASE).pgoff).toBe(BASE / P);
  });

  it("mprotect of an edge splits into two and merges with a neighbour of the new prot", () => {
    mmapFixed(BASE, 2 * P, M.PROT_READ);
    mmapFixed(BASE + 2 * P, 2 * P, RW);
    expect(spans()).toHaveLength(2);
    // The last page of the read-only VMA becomes RW and joins the RW VMA (mprotect_fixup
    // gives a private mapping turning writable VM_ACCOUNT, so its flags match).
    expect(sys(k, NR.mprotect, BASE + P, P, RW)).toBe(0);
    expect(spans()).toEqual([
      [BASE, BASE + P],
      [BASE + P, BASE + 4 * P],
    ]);
  });

  it("mprotect with no change creates no split", () => {
    mmapFixed(BASE, 3 * P);
    expect(sys(k, NR.mprotect, BASE + P, P, RW)).toBe(0);
    expect(spans()).toEqual([[BASE, BASE + 3 * P]]);
  });

  it("madvise(MADV_DONTFORK) on part of a VMA splits it, MADV_DOFORK merges it back", () => {
    mmapFixed(BASE, 4 * P);
    expect(sys(k, NR.madvise, BASE + P, 2 * P, M.MADV_DONTFORK)).toBe(0);
    expect(spans()).toHaveLength(3);
    expect(sys(k, NR.madvise, BASE + P, 2 * P, M.MADV_DOFORK)).toBe(0);
    expect(spans()).toEqual([[BASE, BASE + 4 * P]]);
  });
});

describe("munmap splits", () => {
  it("munmap of the middle leaves two VMAs with their own pgoff", () => {
    mmapFixed(BASE, 3 * P);
    expect(sys(k, NR.munmap, BASE + P, P)).toBe(0);
    expect(spans()).toEqual([
      [BASE, BASE + P],
      [BASE + 2 * P, BASE + 3 * P],
    ]);
    expect(vmaAt(BASE + 2 * P).pgoff).toBe(BASE / P + 2);
    // Re-mapping the hole merges all three again.
    mmapFixed(BASE + P, P);
    expect(spans()).toEqual([[BASE, BASE + 3 * P]]);
  });

  it("munmap across several VMAs trims both edges and removes those inside", () => {
    mmapFixed(BASE, 2 * P, M.PROT_READ);
    mmapFixed(BASE + 2 * P, 2 * P, RW);
    mmapFixed(BASE + 4 * P, 2 * P, M.PROT_READ);
    expect(sys(k, NR.munmap, BASE + P, 4 * P)).toBe(0);
    expect(spans()).toEqual([
      [BASE, BASE + P],
      [BASE + 5 * P, BASE + 6 * P],
    ]);
  });
});

describe("brk", () => {
  it("growing the break extends one heap VMA", () => {
    expect(sys(k, NR.brk, TEST_BRK + P)).toBe(TEST_BRK + P);
    expect(sys(k, NR.brk, TEST_BRK + 3 * P + 123)).toBe(TEST_BRK + 3 * P + 123);
    expect(sys(k, NR.brk, TEST_BRK + 8 * P)).toBe(TEST_BRK + 8 * P);
    expect(spans()).toEqual([[TEST_BRK, TEST_BRK + 8 * P]]);
    // Shrinking trims the same VMA.
    expect(sys(k, NR.brk, TEST_BRK + 2 * P)).toBe(TEST_BRK + 2 * P);
    expect(spans()).toEqual([[TEST_BRK, TEST_BRK + 2 * P]]);
  });

  it("brk2(BRK_NOZERO) marks the whole heap VM_NOZERO and later growth stays one VMA", () => {
    sys(k, NR.brk, TEST_BRK + 2 * P);
    expect(vmaAt(TEST_BRK).flags & VM_NOZERO).toBe(0);
    expect(sys(k, NR.brk2, TEST_BRK + 4 * P, M.BRK_NOZERO)).toBe(TEST_BRK + 4 * P);
    expect(spans()).toEqual([[TEST_BRK, TEST_BRK + 4 * P]]);
    expect(vmaAt(TEST_BRK).flags & VM_NOZERO).toBe(VM_NOZERO);
    // Plain brk afterwards keeps growing the same NOZERO heap.
    sys(k, NR.brk, TEST_BRK + 6 * P);
    expect(spans()).toEqual([[TEST_BRK, TEST_BRK + 6 * P]]);
    expect(vmaAt(TEST_BRK + 5 * P).flags & VM_NOZERO).toBe(VM_NOZERO);
  });
});

describe("mremap", () => {
  it("a moved VMA keeps its pgoff and does not merge with a new neighbour", () => {
    mmapFixed(BASE, P);
    const far = BASE + 0x100000;
    mmapFixed(far, P);
    t.mm!.mem.write32(far, 0x1234);
    const r = sys(k, NR.mremap, far, P, P, M.MREMAP_MAYMOVE | M.MREMAP_FIXED, BASE + P);
    expect(r).toBe(BASE + P);
    // Same flags and adjacent, but pgoff is far's, not BASE's + 1: Linux keeps them apart.
    expect(spans()).toEqual([
      [BASE, BASE + P],
      [BASE + P, BASE + 2 * P],
    ]);
    expect(vmaAt(BASE + P).pgoff).toBe(far / P);
    expect(t.mm!.mem.read32(BASE + P)).toBe(0x1234);
    // Control: a fresh mapping in the same place would have merged.
    sys(k, NR.munmap, BASE + P, P);
    mmapFixed(BASE + P, P);
    expect(spans()).toEqual([[BASE, BASE + 2 * P]]);
  });

  it("growing in place extends the VMA and merges with a compatible VMA it reaches", () => {
    mmapFixed(BASE, P);
    mmapFixed(BASE + 3 * P, P);
    expect(sys(k, NR.mremap, BASE, P, 3 * P, 0)).toBe(BASE);
    expect(spans()).toEqual([[BASE, BASE + 4 * P]]);
  });

  it("shrinking unmaps the tail", () => {
    mmapFixed(BASE, 4 * P);
    expect(sys(k, NR.mremap, BASE, 4 * P, P, 0)).toBe(BASE);
    expect(spans()).toEqual([[BASE, BASE + P]]);
  });
});

// ---- VmaList directly -------------------------------------------------------------------

describe("VmaList lookups", () => {
  const FL = VM_READ | VM_WRITE;
  function list(...ranges: [number, number][]): VmaList {
    const l = new VmaList();
    for (const [s, e] of ranges) l.insert(new Vma(s, e, FL, s / P, null));
    return l;
  }

  it("an empty list finds nothing", () => {
    const l = new VmaList();
    expect(l.find(0)).toBeNull();
    expect(l.findExact(BASE)).toBeNull();
    expect(l.intersects(0, 0xc0000000)).toBe(false);
    expect(l.range(0, 0xc0000000)).toEqual([]);
  });

  it("keeps VMAs sorted whatever the insertion order", () => {
    const l = list([0x3000, 0x4000], [0x1000, 0x2000], [0x5000, 0x6000]);
    expect(l.list.map((v) => v.start)).toEqual([0x1000, 0x3000, 0x5000]);
  });

  it("find returns the first VMA ending above addr, even if it starts above", () => {
    const l = list([0x1000, 0x2000], [0x3000, 0x5000]);
    expect(l.find(0)?.start).toBe(0x1000);
    expect(l.find(0x1000)?.start).toBe(0x1000);
    expect(l.find(0x1fff)?.start).toBe(0x1000);
    expect(l.find(0x2000)?.start).toBe(0x3000); // end is exclusive
    expect(l.find(0x4fff)?.start).toBe(0x3000);
    expect(l.find(0x5000)).toBeNull();
  });

  it("findExact returns only the VMA containing addr", () => {
    const l = list([0x1000, 0x2000], [0x3000, 0x5000]);
    expect(l.findExact(0xfff)).toBeNull();
    expect(l.findExact(0x1000)?.start).toBe(0x1000);
    expect(l.findExact(0x2000)).toBeNull();
    expect(l.findExact(0x2fff)).toBeNull();
    expect(l.findExact(0x3000)?.start).toBe(0x3000);
    expect(l.findExact(0x5000)).toBeNull();
  });

  it("intersects is half-open on both sides", () => {
    const l = list([0x3000, 0x5000]);
    expect(l.intersects(0x1000, 0x3000)).toBe(false); // ends where the VMA starts
    expect(l.intersects(0x1000, 0x3001)).toBe(true);
    expect(l.intersects(0x5000, 0x6000)).toBe(false); // starts where the VMA ends
    expect(l.intersects(0x4fff, 0x6000)).toBe(true);
    expect(l.intersects(0x3800, 0x3900)).toBe(true); // inside
    expect(l.intersects(0x0, 0xc0000000)).toBe(true); // around
  });

  it("range returns the VMAs intersecting [start, end) in order", () => {
    const l = list([0x1000, 0x2000], [0x3000, 0x4000], [0x5000, 0x6000]);
    const starts = (s: number, e: number) => l.range(s, e).map((v) => v.start);
    expect(starts(0, 0x10000)).toEqual([0x1000, 0x3000, 0x5000]);
    expect(starts(0x1fff, 0x3001)).toEqual([0x1000, 0x3000]);
    expect(starts(0x2000, 0x3000)).toEqual([]);
    expect(starts(0x2000, 0x5000)).toEqual([0x3000]);
    expect(starts(0x5fff, 0x7000)).toEqual([0x5000]);
  });

  it("the lookup cache never returns a removed VMA", () => {
    const l = list([0x1000, 0x2000], [0x3000, 0x4000]);
    const v = l.findExact(0x1800)!;
    expect(l.find(0x1800)).toBe(v); // now cached
    l.remove(v);
    expect(l.find(0x1800)?.start).toBe(0x3000);
    expect(l.findExact(0x1800)).toBeNull();
  });

  it("the lookup cache follows a split", () => {
    const l = list([0x1000, 0x4000]);
    const v = l.findExact(0x3000)!; // cache the whole VMA
    const upper = l.split(v, 0x2000);
    expect(l.findExact(0x3000)).toBe(upper);
    expect(l.findExact(0x1000)).toBe(v);
    expect(upper.pgoff).toBe(v.pgoff + 1);
  });

  it("the lookup cache never returns a VMA merged away", () => {
    const l = list([0x1000, 0x2000], [0x2000, 0x3000]);
    const upper = l.findExact(0x2800)!; // cache the upper one
    expect(l.count).toBe(2); // insert does not merge
    const survivor = l.mergeAround(upper);
    expect(l.count).toBe(1);
    expect(survivor.start).toBe(0x1000);
    expect(l.findExact(0x2800)).toBe(survivor);
  });
});
