// Shared anonymous memory (MAP_SHARED|MAP_ANONYMOUS): a tmpfs-like object
// whose frames every mapping of it shares. Its frames are always cleared:
// MAP_NOZERO covers private anonymous memory only.

import { PG_SHMEM } from "./frames.ts";
import type { Kernel } from "./kernel.ts";
import { NO_FRAME } from "./page_alloc.ts";
import type { MemObject } from "./vma.ts";

export class ShmemObject implements MemObject {
  readonly name = "/dev/zero (deleted)";
  readonly dev = "00:01";
  private readonly pages: Int32Array;
  private refs = 0;

  constructor(
    private readonly k: Kernel,
    readonly inode: number,
    npages: number,
  ) {
    this.pages = new Int32Array(npages).fill(NO_FRAME);
  }

  getPage(pgoff: number): number {
    if (pgoff >= this.pages.length) return -2;
    let f = this.pages[pgoff];
    if (f !== NO_FRAME) return f;
    f = this.k.allocUserFrame();
    if (f === NO_FRAME) return NO_FRAME;
    this.k.policy.prepareZeroed(f, this.k.current.counters.k);
    this.k.frames.flags[f] |= PG_SHMEM;
    this.pages[pgoff] = f;
    return f;
  }

  get(): void {
    this.refs++;
  }

  /** The last mapping gone: the object's own frame references go too. */
  put(): void {
    if (--this.refs > 0) return;
    for (let i = 0; i < this.pages.length; i++) {
      const f = this.pages[i];
      if (f !== NO_FRAME) this.k.putPage(f);
      this.pages[i] = NO_FRAME;
    }
  }
}
