// The page allocator (kernel/page_alloc.ts): a binary buddy system with
// Linux's per-cpu hot list in front of it for order-0 frames.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FrameTable, PG_BUDDY, PG_PCP } from "../../kernel/frames.ts";
import { NO_FRAME, PageAllocator, pcpBatch } from "../../kernel/page_alloc.ts";
import { MAX_ORDER } from "../../kernel/param.ts";
import { bootKernel } from "../helpers/boot.ts";

// ---- helpers ------------------------------------------------------------------

function allocator(nframes: number, reserved: number[] = []): PageAllocator {
  return new PageAllocator(new FrameTable(nframes), reserved);
}

function nrFree(pa: PageAllocator): number[] {
  return Array.from(pa.nrFree);
}

/** Frames on the per-cpu list (those not in the buddy lists). */
function pcpCount(pa: PageAllocator): number {
  return pa.freeFrames - pa.buddyFrames();
}

/** The per-cpu list, coldest first, read from the allocator's ring buffer. */
function pcpFrames(pa: PageAllocator): number[] {
  const ring = pa["pcp"] as Int32Array;
  const bottom = pa["pcpBottom"] as number;
  const count = pa["pcpCount"] as number;
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(ring[(bottom + i) % ring.length]);
  return out;
}

/** The buddy free lists as [first frame, order] blocks, walked through the link arrays. */
function buddyBlocks(pa: PageAllocator): [number, number][] {
  const head = pa["head"] as Int32Array;
  const out: [number, number][] = [];
  for (let o = 0; o < MAX_ORDER; o++) {
    let n = 0;
    for (let f = head[o]; f !== -1; f = pa.frames.next[f]) {
      out.push([f, o]);
      if (++n > pa.frames.nframes) throw new Error(`free list of order ${o} loops`);
    }
  }
  return out;
}

/**
 * Check that every frame is in exactly one place: a block the caller holds,
 * the per-cpu list, or one buddy block (reserved frames in none), and that the
 * allocator's own counts agree with what its lists hold.
 */
function checkConservation(pa: PageAllocator, held: Iterable<[number, number]>, reserved: number[] = []): void {
  const n = pa.frames.nframes;
  const places = new Uint8Array(n);
  let heldFrames = 0;
  for (const [f, o] of held) {
    for (let i = f; i < f + (1 << o); i++) places[i]++;
    heldFrames += 1 << o;
  }
  const pcp = pcpFrames(pa);
  for (const f of pcp) {
    expect(pa.frames.flags[f] & PG_PCP).toBe(PG_PCP);
    places[f]++;
  }
  const perOrder = new Array<number>(MAX_ORDER).fill(0);
  for (const [f, o] of buddyBlocks(pa)) {
    expect(pa.frames.flags[f] & PG_BUDDY).toBe(PG_BUDDY);
    expect(pa.frames.order[f]).toBe(o);
    expect(f % (1 << o)).toBe(0);
    perOrder[o]++;
    for (let i = f; i < f + (1 << o); i++) places[i]++;
  }
  expect(perOrder).toEqual(nrFree(pa));
  for (const r of reserved) expect(places[r]).toBe(0);
  const isReserved = new Set(reserved);
  for (let f = 0; f < n; f++) {
    if (!isReserved.has(f) && places[f] !== 1) throw new Error(`frame ${f} is in ${places[f]} places`);
  }
  expect(pa.freeFrames + heldFrames + reserved.length).toBe(n);
  expect(pa.buddyFrames() + pcp.length).toBe(pa.freeFrames);
}

// ---- buddy system ------------------------------------------------------------------

describe("buddy system", () => {
  it("boots with every frame in the largest aligned blocks", () => {
    // 4096 frames = four order-10 blocks.
    const pa = allocator(4096);
    expect(nrFree(pa)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4]);
    // 100 frames: 64 + 32 + 4, a block never crossing the end of memory.
    expect(nrFree(allocator(100))).toEqual([0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0]);
    // Frame 0 reserved (the zero page): frame 1 alone, 2-3, 4-7, ... 512-1023.
    expect(nrFree(allocator(1024, [0]))).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
  });

  it("splits a large block to allocate one frame, leaving one free block of every lower order", () => {
    const pa = allocator(4096);
    const f = pa.allocPages(0);
    expect(f).not.toBe(NO_FRAME);
    // One order-10 block was split: 1 frame given out (batch 1 => nothing else on the pcp list).
    expect(pa.batch).toBe(1);
    expect(nrFree(pa)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3]);
    expect(pa.freeFrames).toBe(4095);
    checkConservation(pa, [[f, 0]]);
  });

  it("coalesces back to the boot free lists when everything is freed", () => {
    const pa = allocator(4096, [0]);
    const initial = nrFree(pa);
    const held: [number, number][] = [];
    for (const o of [0, 3, 0, 1, 5, 0, 2, 10, 0, 4, 0, 0, 7]) {
      const f = pa.allocPages(o);
      expect(f).not.toBe(NO_FRAME);
      held.push([f, o]);
    }
    checkConservation(pa, held, [0]);
    expect(nrFree(pa)).not.toEqual(initial);
    // Free in an order different from allocation so coalescing meets buddies both ways.
    for (const [f, o] of [...held].reverse().filter((_, i) => i % 2 === 0)) pa.freePages(f, o);
    for (const [f, o] of [...held].reverse().filter((_, i) => i % 2 === 1)) pa.freePages(f, o);
    pa.drainAll();
    expect(pcpCount(pa)).toBe(0);
    expect(nrFree(pa)).toEqual(initial);
    expect(pa.freeFrames).toBe(4095);
    checkConservation(pa, [], [0]);
  });

  it("returns blocks aligned to their size for every order", () => {
    const pa = allocator(8192, [0]);
    const held: [number, number][] = [];
    for (let o = 0; o < MAX_ORDER; o++) {
      // Twice per order, so the second comes from a different split.
      for (let rep = 0; rep < 2; rep++) {
        const f = pa.allocPages(o);
        expect(f, `order ${o}`).not.toBe(NO_FRAME);
        expect(f % (1 << o), `order ${o} at frame ${f}`).toBe(0);
        expect(f + (1 << o)).toBeLessThanOrEqual(8192);
        held.push([f, o]);
      }
    }
    checkConservation(pa, held, [0]);
  });

  it("returns NO_FRAME when memory is exhausted", () => {
    const pa = allocator(64);
    expect(pa.allocPages(7)).toBe(NO_FRAME); // larger than all of memory
    expect(pa.allocPages(6)).toBe(0);
    expect(pa.freeFrames).toBe(0);
    expect(pa.allocPages(0)).toBe(NO_FRAME);
    expect(pa.allocPages(1)).toBe(NO_FRAME);
    pa.freePages(0, 6);
    const frames: number[] = [];
    for (let i = 0; i < 64; i++) frames.push(pa.allocPages(0));
    expect(new Set(frames).size).toBe(64);
    expect(frames).not.toContain(NO_FRAME);
    expect(pa.allocPages(0)).toBe(NO_FRAME);
    checkConservation(
      pa,
      frames.map((f) => [f, 0]),
    );
  });

  it("needs a contiguous aligned block: free frames that are not buddies do not make an order-1 block", () => {
    const pa = allocator(64);
    const frames: number[] = [];
    for (let i = 0; i < 64; i++) frames.push(pa.allocPages(0));
    // Free frames 1 and 2: two free frames, but 1's buddy is 0 and 2's is 3.
    pa.freePages(1, 0);
    pa.freePages(2, 0);
    pa.drainAll();
    expect(pa.freeFrames).toBe(2);
    expect(pa.allocPages(1)).toBe(NO_FRAME);
    // Freeing 3 completes 2-3: now an order-1 block exists, at frame 2.
    pa.freePages(3, 0);
    pa.drainAll();
    expect(pa.allocPages(1)).toBe(2);
  });
});

// ---- per-cpu list ------------------------------------------------------------------------

describe("per-cpu hot list", () => {
  it("hands a just-freed frame out next (LIFO)", () => {
    const k = bootKernel();
    const pa = k.pages;
    const a = pa.allocFrame();
    const b = pa.allocFrame();
    const c = pa.allocFrame();
    pa.freeFrame(a);
    expect(pa.allocFrame()).toBe(a);
    pa.freeFrame(b);
    pa.freeFrame(c);
    expect(pa.allocFrame()).toBe(c);
    expect(pa.allocFrame()).toBe(b);
  });

  it("LIFO also holds with a large batch", () => {
    const pa = allocator(65536, [0]);
    expect(pa.batch).toBe(15);
    const fs = Array.from({ length: 10 }, () => pa.allocFrame());
    for (const f of fs) pa.freeFrame(f);
    const again = Array.from({ length: 10 }, () => pa.allocFrame());
    expect(again).toEqual([...fs].reverse());
  });

  it("drains a batch of the coldest frames to the buddy lists when the list reaches high", () => {
    const pa = allocator(65536, [0]);
    const { batch, high } = pa;
    expect(high).toBe(6 * batch);
    const fs = Array.from({ length: high + 5 }, () => pa.allocFrame());
    pa.drainAll();
    expect(pcpCount(pa)).toBe(0);
    for (let i = 0; i < high - 1; i++) pa.freeFrame(fs[i]);
    expect(pcpCount(pa)).toBe(high - 1);
    expect(fs.slice(0, high - 1).every((f) => pa.frames.flags[f] & PG_PCP)).toBe(true);
    const buddyBefore = pa.buddyFrames();
    pa.freeFrame(fs[high - 1]); // the list reaches high
    expect(pcpCount(pa)).toBe(high - batch);
    expect(pa.buddyFrames()).toBe(buddyBefore + batch);
    // The drained frames are the first freed (the cold end); the rest stay hot.
    for (const f of fs.slice(0, batch)) expect(pa.frames.flags[f] & PG_PCP).toBe(0);
    for (const f of fs.slice(batch, high)) expect(pa.frames.flags[f] & PG_PCP).toBe(PG_PCP);
    // The hot end is unchanged: the last frame freed comes back first.
    expect(pa.allocFrame()).toBe(fs[high - 1]);
    checkConservation(
      pa,
      [...fs.slice(high), fs[high - 1]].map((f) => [f, 0]),
      [0],
    );
  });

  it("refills from the buddy lists a batch at a time", () => {
    const pa = allocator(65536, [0]);
    const before = pa.buddyFrames();
    pa.allocFrame();
    expect(pa.buddyFrames()).toBe(before - pa.batch);
    expect(pcpCount(pa)).toBe(pa.batch - 1);
  });

  it("counts traffic so a frame's reuse distance is measurable", () => {
    const pa = allocator(1024, [0]);
    const f = pa.allocFrame();
    pa.freeFrame(f);
    expect(pa.sinceFreed(f)).toBe(0);
    const g = pa.allocFrame(); // f again
    expect(g).toBe(f);
    expect(pa.sinceFreed(f)).toBe(1);
    expect(pa.sinceAllocated(f)).toBe(0);
    // Frames freed at boot have no reuse history: infinitely cold.
    expect(pa.sinceFreed(pa.allocFrame())).toBe(Infinity);
  });
});

describe("pcpBatch matches Linux zone_batchsize", () => {
  // batch = pages/1024, capped at 512 KiB worth, /4, at least 1, then
  // rounddown_pow_of_two(batch + batch/2) - 1 (and never 0: setup_pageset's max(1, batch)).
  it.each([
    [256, 1], // 1 MiB
    [4096, 1], // 16 MiB: 4/4 = 1 -> rounddown(1) - 1 = 0 -> 1
    [8192, 1], // 32 MiB: 2 -> rounddown(3) - 1 = 1
    [16384, 3], // 64 MiB: 4 -> rounddown(6) - 1 = 3
    [32768, 7], // 128 MiB: 8 -> rounddown(12) - 1 = 7
    [65536, 15], // 256 MiB: 16 -> rounddown(24) - 1 = 15
    [131072, 31], // 512 MiB: 128 capped -> 32 -> rounddown(48) - 1 = 31
    [262144, 31], // 1 GiB: capped, the classic x86 value
  ])("%i frames -> batch %i", (nframes, batch) => {
    expect(pcpBatch(nframes)).toBe(batch);
  });

  it("the kernel's allocator uses it, with high = 6 * batch", () => {
    const k = bootKernel({ memBytes: 128 << 20 });
    expect(k.pages.batch).toBe(7);
    expect(k.pages.high).toBe(42);
  });
});

// ---- conservation (property) ----------------------------------------------------------

type Op = { kind: "alloc"; order: number } | { kind: "free"; pick: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("alloc" as const), order: fc.nat({ max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("alloc" as const), order: fc.integer({ min: 4, max: MAX_ORDER - 1 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("free" as const), pick: fc.nat() }) },
);

describe("conservation property", () => {
  it("any sequence of allocPages/freePages keeps free + used == total and no frame in two places", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(512, 1000, 4096, 16384),
        fc.array(opArb, { minLength: 1, maxLength: 120 }),
        (nframes, ops) => {
          const reserved = [0];
          const pa = allocator(nframes, reserved);
          const initial = nrFree(pa);
          const held: [number, number][] = [];
          for (const op of ops) {
            if (op.kind === "alloc") {
              const free = pa.freeFrames;
              const f = pa.allocPages(op.order);
              if (f === NO_FRAME) {
                expect(pa.freeFrames).toBe(free);
                continue;
              }
              expect(f % (1 << op.order)).toBe(0);
              held.push([f, op.order]);
            } else if (held.length > 0) {
              const [f, o] = held.splice(op.pick % held.length, 1)[0];
              pa.freePages(f, o);
            }
            checkConservation(pa, held, reserved);
          }
          for (const [f, o] of held) pa.freePages(f, o);
          pa.drainAll();
          checkConservation(pa, [], reserved);
          expect(nrFree(pa)).toEqual(initial);
        },
      ),
      { seed: 0x2007, numRuns: 150 },
    );
  });
});
