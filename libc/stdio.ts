// stdio streams over file descriptors, with their buffers in user memory
// (glibc: stdout is line-buffered on a terminal and fully buffered
// otherwise; stderr is unbuffered).

import type { UserMemory } from "../kernel/uaccess.ts";

export type BufferMode = "line" | "full" | "none";

export class Stream {
  /** Bytes waiting in the buffer. */
  fill = 0;

  constructor(
    readonly fd: number,
    /** The buffer's address in user memory. */
    readonly buf: number,
    readonly size: number,
    public mode: BufferMode,
  ) {}

  /**
   * Append text through the buffer; `write` performs write(2) of n bytes at a
   * user address and returns false on error.
   */
  put(mem: UserMemory, text: string, write: (addr: number, n: number) => boolean): boolean {
    const bytes = latin1(text);
    if (this.mode === "none") {
      for (let off = 0; off < bytes.length; off += this.size) {
        const chunk = bytes.subarray(off, off + this.size);
        mem.writeBytes(this.buf, chunk);
        if (!write(this.buf, chunk.length)) return false;
      }
      return true;
    }
    let off = 0;
    while (off < bytes.length) {
      const n = Math.min(this.size - this.fill, bytes.length - off);
      mem.writeBytes(this.buf + this.fill, bytes.subarray(off, off + n));
      this.fill += n;
      off += n;
      if (this.fill === this.size && !this.flush(write)) return false;
    }
    if (this.mode === "line" && bytes.includes(10)) return this.flush(write);
    return true;
  }

  flush(write: (addr: number, n: number) => boolean): boolean {
    if (this.fill === 0) return true;
    const n = this.fill;
    this.fill = 0;
    return write(this.buf, n);
  }

  clone(): Stream {
    const s = new Stream(this.fd, this.buf, this.size, this.mode);
    s.fill = this.fill;
    return s;
  }
}

/** A JS string as bytes (one byte per char code, as C strings of Latin-1). */
export function latin1(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
  return b;
}
