// The page allocator: a binary buddy system over frames (orders 0..MAX_ORDER-1,
// split on allocation, coalesced on free) with Linux's per-cpu hot list for
// order-0 frames in front of it. A frame freed onto the hot list is the next
// one handed out, which is what makes just-freed frames cache-hot when reused.

import { FrameTable, PG_BUDDY, PG_PCP, PG_RESERVED } from "./frames.ts";
import { MAX_ORDER } from "./param.ts";

/** The "no memory" result: callers turn it into VM_FAULT_OOM or -ENOMEM. */
export const NO_FRAME = -1;

/**
 * Linux zone_batchsize() (mm/page_alloc.c): about a thousandth of the zone,
 * at most 512 KiB, quartered, then rounded to 2^n - 1 to avoid cache aliasing.
 */
export function pcpBatch(nframes: number): number {
  let batch = Math.floor(nframes / 1024);
  if (batch * 4096 > 512 * 1024) batch = (512 * 1024) / 4096;
  batch = Math.floor(batch / 4);
  if (batch < 1) batch = 1;
  const b = batch + (batch >> 1);
  return (1 << (31 - Math.clz32(b))) - 1 || 1;
}

export class PageAllocator {
  private readonly head = new Int32Array(MAX_ORDER).fill(-1);
  /** Free blocks per order (/proc/buddyinfo). */
  readonly nrFree = new Int32Array(MAX_ORDER);
  /** Per-cpu list: a ring buffer, hot end at the top, cold end at the bottom. */
  private readonly pcp: Int32Array;
  private pcpBottom = 0;
  private pcpCount = 0;
  readonly batch: number;
  /** 2.6.22 setup_pageset(): high = 6 * batch. */
  readonly high: number;
  /** Frames allocated plus frames freed so far: the clock of cache-hotness. */
  traffic = 0;
  private freeTotal = 0;

  constructor(readonly frames: FrameTable, reserved: readonly number[]) {
    this.batch = pcpBatch(frames.nframes);
    this.high = 6 * this.batch;
    this.pcp = new Int32Array(this.high + this.batch + 1);
    const isReserved = new Uint8Array(frames.nframes);
    for (const f of reserved) {
      isReserved[f] = 1;
      frames.flags[f] |= PG_RESERVED;
      frames.count[f] = 1;
    }
    // Hand every other frame to the buddy lists in the largest aligned blocks.
    for (let f = 0; f < frames.nframes; f++) {
      if (isReserved[f]) continue;
      this.freeBlock(f, 0);
    }
    // Boot-time frees are not reuse: nothing is cache-hot yet.
    frames.freedAt.fill(-Infinity);
    this.traffic = 0;
  }

  /** Free frames, including those on the per-cpu list (MemFree). */
  get freeFrames(): number {
    return this.freeTotal;
  }

  /** Allocate 2^order contiguous frames; returns the first frame or NO_FRAME. */
  allocPages(order: number): number {
    if (order === 0) return this.allocFrame();
    return this.rmqueueSmallest(order);
  }

  freePages(frame: number, order: number): void {
    if (order === 0) this.freeFrame(frame);
    else this.freeBlock(frame, order);
  }

  /** Order-0 allocation from the hot end of the per-cpu list. */
  allocFrame(): number {
    if (this.pcpCount === 0 && !this.refillPcp()) return NO_FRAME;
    this.pcpCount--;
    const f = this.pcp[(this.pcpBottom + this.pcpCount) % this.pcp.length];
    this.frames.flags[f] &= ~PG_PCP;
    this.frames.count[f] = 1;
    this.frames.allocAt[f] = ++this.traffic;
    this.freeTotal--;
    return f;
  }

  /** Order-0 free onto the hot end; overflowing `high` drains a batch from the cold end. */
  freeFrame(frame: number): void {
    const fr = this.frames;
    fr.count[frame] = 0;
    fr.mapcount[frame] = 0;
    fr.flags[frame] |= PG_PCP;
    fr.freedAt[frame] = ++this.traffic;
    this.pcp[(this.pcpBottom + this.pcpCount) % this.pcp.length] = frame;
    this.pcpCount++;
    this.freeTotal++;
    if (this.pcpCount >= this.high) this.drainPcp(this.batch);
  }

  /** Frames allocated or freed since `frame` was freed: small means still in cache. */
  sinceFreed(frame: number): number {
    return this.traffic - this.frames.freedAt[frame];
  }

  /** Frames allocated or freed since `frame` was allocated. */
  sinceAllocated(frame: number): number {
    return this.traffic - this.frames.allocAt[frame];
  }

  /** Free frames in the buddy lists (not the hot list), per order, for tests and /proc. */
  buddyFrames(): number {
    let n = 0;
    for (let o = 0; o < MAX_ORDER; o++) n += this.nrFree[o] << o;
    return n;
  }

  /** Return every hot-list frame to the buddy lists (drain_all_pages before OOM). */
  drainAll(): void {
    this.drainPcp(this.pcpCount);
  }

  private refillPcp(): boolean {
    for (let i = 0; i < this.batch; i++) {
      const f = this.rmqueueSmallest(0);
      if (f === NO_FRAME) break;
      // rmqueue_bulk takes frames in address order; the last taken is handed out first.
      this.frames.flags[f] |= PG_PCP;
      this.frames.count[f] = 0;
      this.freeTotal++;
      this.pcp[(this.pcpBottom + this.pcpCount) % this.pcp.length] = f;
      this.pcpCount++;
    }
    return this.pcpCount > 0;
  }

  private drainPcp(n: number): void {
    for (let i = 0; i < n && this.pcpCount > 0; i++) {
      const f = this.pcp[this.pcpBottom];
      this.pcpBottom = (this.pcpBottom + 1) % this.pcp.length;
      this.pcpCount--;
      this.frames.flags[f] &= ~PG_PCP;
      this.freeTotal--;
      this.freeBlock(f, 0);
    }
  }

  /** __rmqueue_smallest + expand: take the smallest block that fits, split off upper halves. */
  private rmqueueSmallest(order: number): number {
    for (let o = order; o < MAX_ORDER; o++) {
      const f = this.head[o];
      if (f === -1) continue;
      this.unlink(f, o);
      let size = 1 << o;
      for (let cur = o; cur > order; ) {
        cur--;
        size >>= 1;
        this.link(f + size, cur);
      }
      this.frames.count[f] = 1;
      this.freeTotal -= 1 << order;
      return f;
    }
    return NO_FRAME;
  }

  /** __free_one_page: coalesce with free buddies of the same order, then link. */
  private freeBlock(frame: number, order: number): void {
    const fr = this.frames;
    fr.count[frame] = 0;
    this.freeTotal += 1 << order;
    let pfn = frame;
    while (order < MAX_ORDER - 1) {
      const buddy = pfn ^ (1 << order);
      if (buddy >= fr.nframes || !(fr.flags[buddy] & PG_BUDDY) || fr.order[buddy] !== order) break;
      this.unlink(buddy, order);
      pfn &= buddy;
      order++;
    }
    this.link(pfn, order);
  }

  private link(f: number, order: number): void {
    const fr = this.frames;
    fr.flags[f] |= PG_BUDDY;
    fr.order[f] = order;
    const h = this.head[order];
    fr.next[f] = h;
    fr.prev[f] = -1;
    if (h !== -1) fr.prev[h] = f;
    this.head[order] = f;
    this.nrFree[order]++;
  }

  private unlink(f: number, order: number): void {
    const fr = this.frames;
    const n = fr.next[f];
    const p = fr.prev[f];
    if (p === -1) this.head[order] = n;
    else fr.next[p] = n;
    if (n !== -1) fr.prev[n] = p;
    fr.flags[f] &= ~PG_BUDDY;
    fr.next[f] = fr.prev[f] = -1;
    this.nrFree[order]--;
  }
}
