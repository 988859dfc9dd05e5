// Emulated physical memory: one ArrayBuffer; frame n lives at byte n * PAGE_SIZE.
// Frame-level bulk work (clear, copy) lives here so every caller uses the
// fastest typed-array primitive measured for it (see bench/clear_page.bench.ts).

import { PAGE_SHIFT, PAGE_SIZE } from "./param.ts";

export class PhysMem {
  readonly buffer: ArrayBuffer;
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly i32: Int32Array;
  readonly nframes: number;

  constructor(bytes: number) {
    if (bytes % PAGE_SIZE !== 0 || bytes <= 0 || bytes > 0x40000000) {
      throw new RangeError(`physical memory must be a positive multiple of 4 KiB up to 1 GiB, got ${bytes}`);
    }
    this.buffer = new ArrayBuffer(bytes);
    this.u8 = new Uint8Array(this.buffer);
    this.u16 = new Uint16Array(this.buffer);
    this.i32 = new Int32Array(this.buffer);
    this.nframes = bytes >>> PAGE_SHIFT;
  }

  /** The real work of clear_page: write zeros over the whole frame. */
  clearFrame(frame: number): void {
    const off = frame << PAGE_SHIFT;
    this.u8.fill(0, off, off + PAGE_SIZE);
  }

  /** The real work of copy_page. */
  copyFrame(dst: number, src: number): void {
    const s = src << PAGE_SHIFT;
    this.u8.copyWithin(dst << PAGE_SHIFT, s, s + PAGE_SIZE);
  }

  fillFrame(frame: number, byte: number): void {
    const off = frame << PAGE_SHIFT;
    this.u8.fill(byte, off, off + PAGE_SIZE);
  }

  /** True if every byte of the frame is zero (tests and smiffy-style checks). */
  frameIsZero(frame: number): boolean {
    const w = frame << (PAGE_SHIFT - 2);
    const end = w + (PAGE_SIZE >> 2);
    const i32 = this.i32;
    for (let i = w; i < end; i++) if (i32[i] !== 0) return false;
    return true;
  }
}
