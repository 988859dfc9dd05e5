// User-memory access for one address space, through a software TLB (the
// v86 shape): the fast path is a tag compare and a typed-array access; a miss
// walks the page table (Mm.resolve), which takes the fault path when needed.
//
// TLB entry i (direct mapped by virtual page number):
//   rTag[i] = the page's address (vpn << 12, as int32) readable through this entry, or -1
//   wTag[i] = the same for writing, or -1 (only once the PTE is RW and dirty)
//   base[i] = byte offset of the frame in physical memory
// An access hits when its address, masked to the page and its alignment
// bits, equals the tag: one compare checks both (a misaligned address never
// equals a page's address), which keeps the accessors short for V8 to inline.
//
// Loads and stores bump an integer (`acc`, cheapest for V8); it is added into
// the running task's per-symbol counters (`counts` at `cur`) on every TLB
// miss, bulk operation, symbol switch, task switch and syscall, so it stays
// small and the work lands on the right symbol. Never priced here.
// Kernel copies (copyFromUser/copyToUser) report EFAULT instead of signalling.

import * as Ev from "./cost/events.ts";
import type { Mm } from "./mm.ts";
import { PTE_D, PTE_RW } from "./pagetable.ts";
import type { PhysMem } from "./physmem.ts";

/** Module locals: V8 would load an imported binding through its module cell at every use. */
const { NUEV } = Ev;
const { ACCESS, TLB_MISS, BYTES } = Ev.Uev;

// The constants are a const enum so that the compiler writes the numbers into
// the accessors: a module-level const costs V8 a context load and a hole check.
const enum K {
  TLB_BITS = 8,
  TLB_SIZE = 1 << TLB_BITS,
  TLB_MASK = TLB_SIZE - 1,
  /**
   * A larger host-side cache of translations behind the simulated TLB: a
   * simulated miss that hits it is still counted as a page walk, but the
   * emulator skips walking the page tables (32 MiB of reach).
   */
  L2_BITS = 13,
  L2_SIZE = 1 << L2_BITS,
  L2_MASK = L2_SIZE - 1,
  PAGE = 4096,
  OFF = 0xfff,
  /** An address masked for the tag compare of an 8-, 16- and 32-bit access. */
  TAG8 = ~OFF,
  TAG16 = ~(OFF & ~1),
  TAG32 = ~(OFF & ~3),
}

export class UserMemory {
  private readonly rTag = new Int32Array(K.TLB_SIZE).fill(-1);
  private readonly wTag = new Int32Array(K.TLB_SIZE).fill(-1);
  private readonly base = new Int32Array(K.TLB_SIZE);
  private readonly l2Tag = new Int32Array(K.L2_SIZE).fill(-1);
  private readonly l2Base = new Int32Array(K.L2_SIZE);
  /** 1 when the L2 entry may be written through (the PTE is writable and dirty). */
  private readonly l2Write = new Uint8Array(K.L2_SIZE);
  private readonly u8: Uint8Array;
  /** Physical memory, for fast paths that checked their words with `wordW`/`halfW` (see there). */
  readonly u16: Uint16Array;
  readonly i32: Int32Array;
  /** Loads and stores not yet added into `counts`. */
  acc = 0;
  /** The running task's user counters (Counters.u) and the running symbol's slot in them. */
  counts: Float64Array = new Float64Array(NUEV);
  cur = 0;

  constructor(
    private readonly mm: Mm,
    phys: PhysMem,
  ) {
    this.u8 = phys.u8;
    this.u16 = phys.u16;
    this.i32 = phys.i32;
  }

  // ---- loads and stores -------------------------------------------------

  read8(a: number): number {
    this.acc++;
    const i = (a >>> 12) & K.TLB_MASK;
    const b = this.rTag[i] === (a & K.TAG8) ? this.base[i] : this.fill(a, false);
    return this.u8[b | (a & K.OFF)];
  }

  read16(a: number): number {
    this.acc++;
    const i = (a >>> 12) & K.TLB_MASK;
    return this.rTag[i] === (a & K.TAG16) ? this.u16[(this.base[i] | (a & K.OFF)) >> 1] : this.read16Slow(a);
  }

  /** Signed 32-bit load. */
  read32(a: number): number {
    this.acc++;
    const i = (a >>> 12) & K.TLB_MASK;
    return this.rTag[i] === (a & K.TAG32) ? this.i32[(this.base[i] | (a & K.OFF)) >> 2] : this.read32Slow(a);
  }

  /** Unsigned 32-bit load: pointers and size_t. */
  readU32(a: number): number {
    return this.read32(a) >>> 0;
  }

  write8(a: number, v: number): void {
    this.acc++;
    const i = (a >>> 12) & K.TLB_MASK;
    const b = this.wTag[i] === (a & K.TAG8) ? this.base[i] : this.fill(a, true);
    this.u8[b | (a & K.OFF)] = v;
  }

  write16(a: number, v: number): void {
    this.acc++;
    const i = (a >>> 12) & K.TLB_MASK;
    if (this.wTag[i] === (a & K.TAG16)) this.u16[(this.base[i] | (a & K.OFF)) >> 1] = v;
    else this.write16Slow(a, v);
  }

  write32(a: number, v: number): void {
    this.acc++;
    const i = (a >>> 12) & K.TLB_MASK;
    if (this.wTag[i] === (a & K.TAG32)) this.i32[(this.base[i] | (a & K.OFF)) >> 2] = v;
    else this.write32Slow(a, v);
  }

  // Fast paths may check that every word they will touch is in the TLB for
  // writing (and so for reading): then none of their accesses can miss, and
  // they may use `i32`/`u16` directly, as long as they count the loads and
  // stores the accessors would have counted, to the symbol that would have
  // made them. The checks have no side effects.

  /** The index in `i32` of the word at a, if a is aligned and the TLB maps it for writing; else -1. */
  wordW(a: number): number {
    const i = (a >>> 12) & K.TLB_MASK;
    return this.wTag[i] === (a & K.TAG32) ? (this.base[i] | (a & K.OFF)) >> 2 : -1;
  }

  /** The index in `u16` of the halfword at a, likewise. */
  halfW(a: number): number {
    const i = (a >>> 12) & K.TLB_MASK;
    return this.wTag[i] === (a & K.TAG16) ? (this.base[i] | (a & K.OFF)) >> 1 : -1;
  }

  // ---- bulk operations (user work: counted in bytes) ----------------------

  /** memset: n bytes at a set to byte. */
  memset(a: number, byte: number, n: number): void {
    this.flush();
    this.counts[this.cur + BYTES] += n;
    while (n > 0) {
      const off = a & K.OFF;
      const chunk = Math.min(n, K.PAGE - off);
      const p = this.phys(a, true) | off;
      this.u8.fill(byte, p, p + chunk);
      a += chunk;
      n -= chunk;
    }
  }

  /** memmove (also serves memcpy): correct for overlapping ranges. */
  memcpy(dst: number, src: number, n: number): void {
    this.flush();
    this.counts[this.cur + BYTES] += n;
    if (dst > src && dst < src + n) {
      this.copyBackward(dst, src, n);
      return;
    }
    while (n > 0) {
      const chunk = Math.min(n, K.PAGE - (src & K.OFF), K.PAGE - (dst & K.OFF));
      const pd = this.phys(dst, true) | (dst & K.OFF);
      const ps = this.phys(src, false) | (src & K.OFF);
      this.u8.copyWithin(pd, ps, ps + chunk);
      dst += chunk;
      src += chunk;
      n -= chunk;
    }
  }

  /** A copy of n bytes of user memory. */
  readBytes(a: number, n: number): Uint8Array {
    this.flush();
    this.counts[this.cur + BYTES] += n;
    const out = new Uint8Array(n);
    for (let done = 0; done < n; ) {
      const chunk = Math.min(n - done, K.PAGE - (a & K.OFF));
      const p = this.phys(a, false) | (a & K.OFF);
      out.set(this.u8.subarray(p, p + chunk), done);
      a += chunk;
      done += chunk;
    }
    return out;
  }

  writeBytes(a: number, data: Uint8Array): void {
    this.flush();
    this.counts[this.cur + BYTES] += data.length;
    for (let done = 0; done < data.length; ) {
      const chunk = Math.min(data.length - done, K.PAGE - (a & K.OFF));
      const p = this.phys(a, true) | (a & K.OFF);
      this.u8.set(data.subarray(done, done + chunk), p);
      a += chunk;
      done += chunk;
    }
  }

  /** The NUL-terminated string at a (bytes as Latin-1), at most max bytes. */
  readCString(a: number, max = 1 << 20): string {
    let s = "";
    for (let n = 0; n < max; n++) {
      const c = this.read8(a + n);
      if (c === 0) break;
      s += String.fromCharCode(c);
    }
    return s;
  }

  /** Write s (Latin-1) and a NUL at a. */
  writeCString(a: number, s: string): void {
    const b = new Uint8Array(s.length + 1);
    for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
    this.writeBytes(a, b);
  }

  // ---- kernel access: EFAULT instead of a signal ----------------------------

  /** copy_from_user: n bytes, or null if any page cannot be accessed. */
  copyFromUser(a: number, n: number): Uint8Array | null {
    const out = new Uint8Array(n);
    for (let done = 0; done < n; ) {
      const chunk = Math.min(n - done, K.PAGE - (a & K.OFF));
      const b = this.tryFill(a, false);
      if (b < 0) return null;
      const p = b | (a & K.OFF);
      out.set(this.u8.subarray(p, p + chunk), done);
      a += chunk;
      done += chunk;
    }
    return out;
  }

  /** copy_to_user: false if any page cannot be written. */
  copyToUser(a: number, data: Uint8Array): boolean {
    for (let done = 0; done < data.length; ) {
      const chunk = Math.min(data.length - done, K.PAGE - (a & K.OFF));
      const b = this.tryFill(a, true);
      if (b < 0) return false;
      this.u8.set(data.subarray(done, done + chunk), b | (a & K.OFF));
      a += chunk;
      done += chunk;
    }
    return true;
  }

  /** strncpy_from_user: the string at a, or null on a bad address or no NUL within max. */
  strncpyFromUser(a: number, max: number): string | null {
    let s = "";
    for (let n = 0; n < max; n++) {
      const b = this.tryFill(a + n, false);
      if (b < 0) return null;
      const c = this.u8[b | ((a + n) & K.OFF)];
      if (c === 0) return s;
      s += String.fromCharCode(c);
    }
    return null;
  }

  /** Charge the following loads and stores to symbol `sym` of `counters` (the running task's). */
  enter(sym: number, counters: Ev.Counters): void {
    this.flush();
    const cur = sym * NUEV;
    if (cur + NUEV > this.counts.length) this.counts = counters.ensure(sym);
    this.cur = cur;
  }

  /** Add the pending access count into the counters (before they are read or rebound). */
  flush(): void {
    if (this.acc !== 0) {
      this.counts[this.cur + ACCESS] += this.acc;
      this.acc = 0;
    }
  }

  // ---- TLB maintenance ------------------------------------------------------

  flushPage(vaddr: number): void {
    const vpn = vaddr >>> 12;
    const i = vpn & K.TLB_MASK;
    const tag = vaddr & K.TAG8;
    if (this.rTag[i] === tag) this.rTag[i] = -1;
    if (this.wTag[i] === tag) this.wTag[i] = -1;
    const j = vpn & K.L2_MASK;
    if (this.l2Tag[j] === vpn) this.l2Tag[j] = -1;
  }

  flushRange(start: number, end: number): void {
    if (end - start >= K.L2_SIZE * K.PAGE) {
      this.flushAll();
      return;
    }
    for (let a = start; a < end; a += K.PAGE) this.flushPage(a);
  }

  flushAll(): void {
    this.rTag.fill(-1);
    this.wTag.fill(-1);
    this.l2Tag.fill(-1);
  }

  // ---- slow paths -------------------------------------------------------------

  /** Physical byte offset of a's frame for this access (TLB or walk); signals on a bad access. */
  private phys(a: number, write: boolean): number {
    const i = (a >>> 12) & K.TLB_MASK;
    if ((write ? this.wTag[i] : this.rTag[i]) === (a & K.TAG8)) return this.base[i];
    return this.fill(a, write);
  }

  private fill(a: number, write: boolean): number {
    for (;;) {
      const b = this.tryFill(a, write);
      if (b >= 0) return b;
      this.mm.k.deliverFault(a >>> 0, b);
    }
  }

  /** Walk (and fault) a's page into the TLB; the frame's byte offset or a negative FAULT_* code. */
  private tryFill(a: number, write: boolean): number {
    const vpn = a >>> 12;
    const j = vpn & K.L2_MASK;
    let b: number;
    let writable: number;
    if (this.l2Tag[j] === vpn && (!write || this.l2Write[j] === 1)) {
      b = this.l2Base[j];
      writable = this.l2Write[j];
    } else {
      const pte = this.mm.resolve(a >>> 0, write);
      if (pte < 0) return pte;
      b = (pte >>> 12) << 12;
      writable = (pte & (PTE_RW | PTE_D)) === (PTE_RW | PTE_D) ? 1 : 0;
      this.l2Tag[j] = vpn;
      this.l2Base[j] = b;
      this.l2Write[j] = writable;
    }
    this.flush();
    this.counts[this.cur + TLB_MISS]++;
    const i = vpn & K.TLB_MASK;
    const tag = a & K.TAG8;
    this.rTag[i] = tag;
    this.wTag[i] = writable === 1 ? tag : -1;
    this.base[i] = b;
    return b;
  }

  private read16Slow(a: number): number {
    if ((a & 1) === 0) return this.u16[(this.fill(a, false) | (a & K.OFF)) >> 1];
    this.acc -= 2;
    return this.read8(a) | (this.read8(a + 1) << 8);
  }

  private read32Slow(a: number): number {
    if ((a & 3) === 0) return this.i32[(this.fill(a, false) | (a & K.OFF)) >> 2];
    this.acc -= 4;
    return this.read8(a) | (this.read8(a + 1) << 8) | (this.read8(a + 2) << 16) | (this.read8(a + 3) << 24);
  }

  private write16Slow(a: number, v: number): void {
    if ((a & 1) === 0) {
      this.u16[(this.fill(a, true) | (a & K.OFF)) >> 1] = v;
      return;
    }
    this.acc -= 2;
    this.write8(a, v);
    this.write8(a + 1, v >>> 8);
  }

  private write32Slow(a: number, v: number): void {
    if ((a & 3) === 0) {
      this.i32[(this.fill(a, true) | (a & K.OFF)) >> 2] = v;
      return;
    }
    this.acc -= 4;
    this.write8(a, v);
    this.write8(a + 1, v >>> 8);
    this.write8(a + 2, v >>> 16);
    this.write8(a + 3, v >>> 24);
  }

  private copyBackward(dst: number, src: number, n: number): void {
    let d = dst + n;
    let s = src + n;
    while (n > 0) {
      const chunk = Math.min(n, ((s - 1) & K.OFF) + 1, ((d - 1) & K.OFF) + 1);
      d -= chunk;
      s -= chunk;
      const pd = this.phys(d, true) | (d & K.OFF);
      const ps = this.phys(s, false) | (s & K.OFF);
      this.u8.copyWithin(pd, ps, ps + chunk);
      n -= chunk;
    }
  }
}
