// The page cache of a mapped file: frames holding the file's pages, shared by
// every mapping of the inode, filled from the file on first fault and freed
// when the last mapping goes (shared writable mappings write back first).
// Program images map their text this way; pages past the end of a file read
// as zeros up to `minBytes` (an image is at least as long as its text).

import type { Kernel } from "../kernel.ts";
import { NO_FRAME } from "../page_alloc.ts";
import { PAGE_SHIFT, PAGE_SIZE } from "../param.ts";
import { PG_SHMEM } from "../frames.ts";
import type { MemObject } from "../vma.ts";
import type { Inode } from "./inode.ts";

class FileMapping implements MemObject {
  readonly dev = "08:01";
  private readonly frames = new Map<number, number>();
  private refs = 0;

  constructor(
    private readonly k: Kernel,
    private readonly ino: Inode,
    readonly name: string,
    private minBytes: number,
  ) {}

  get inode(): number {
    return this.ino.ino;
  }

  grow(minBytes: number): void {
    if (minBytes > this.minBytes) this.minBytes = minBytes;
  }

  getPage(pgoff: number): number {
    if (pgoff << PAGE_SHIFT >= Math.max(this.ino.size, this.minBytes)) return -2;
    let f = this.frames.get(pgoff);
    if (f !== undefined) return f;
    f = this.k.allocUserFrame();
    if (f === NO_FRAME) return NO_FRAME;
    this.k.policy.prepareZeroed(f, this.k.current.counters.k);
    this.k.frames.flags[f] |= PG_SHMEM;
    const from = pgoff << PAGE_SHIFT;
    if (from < this.ino.size) {
      this.k.phys.u8.set(this.ino.data.subarray(from, Math.min(this.ino.size, from + PAGE_SIZE)), f << PAGE_SHIFT);
    }
    this.frames.set(pgoff, f);
    return f;
  }

  get(): void {
    this.refs++;
  }

  put(): void {
    if (--this.refs > 0) return;
    for (const [pgoff, f] of this.frames) {
      this.writeBack(pgoff, f);
      this.k.putPage(f);
    }
    this.frames.clear();
    this.ino.mapping = null;
  }

  /** Shared mappings write through to the file: copy the cached page back within the file size. */
  private writeBack(pgoff: number, f: number): void {
    const from = pgoff << PAGE_SHIFT;
    if (from >= this.ino.size) return;
    const n = Math.min(PAGE_SIZE, this.ino.size - from);
    this.ino.data.set(this.k.phys.u8.subarray(f << PAGE_SHIFT, (f << PAGE_SHIFT) + n), from);
  }
}

/** The inode's page cache, created on first use. */
export function fileMapping(k: Kernel, ino: Inode, name: string, minBytes = 0): MemObject {
  let m = ino.mapping as FileMapping | null;
  if (m === null) {
    m = new FileMapping(k, ino, name, minBytes);
    ino.mapping = m;
  } else {
    m.grow(minBytes);
  }
  return m;
}
