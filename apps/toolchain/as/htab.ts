// A chained hash table in user memory keyed by byte strings in user memory
// (the role of libiberty's htab in gas and of bfd_hash_table in ld).
//
// struct htab (malloc'd, 12 bytes): +0 buckets (calloc'd array of entry
// pointers), +4 size (a power of two), +8 count.
// Entries belong to the caller (usually carved from an obstack) and start
// with the chain header: +0 next, +4 name, +8 len, +12 hash; the caller's
// fields follow at HTAB_ENTRY_BYTES.
//
// The hash is libiberty's htab_hash_string (r = r * 67 + c - 113), computed
// by the caller's lexer as it scans a name, or by hashBytes.

import type { Libc } from "../../../libc/libc.ts";

export const HTAB_ENTRY_BYTES = 16;
export const E_NEXT = 0;
export const E_NAME = 4;
export const E_LEN = 8;
export const E_HASH = 12;

/** One step of the string hash. */
export function hashStep(r: number, c: number): number {
  return (Math.imul(r, 67) + c - 113) | 0;
}

export function hashBytes(libc: Libc, p: number, len: number): number {
  const m = libc.mem;
  let r = 0;
  for (let i = 0; i < len; i++) r = hashStep(r, m.read8(p + i));
  libc.work(3 * len);
  return r;
}

export class Htab {
  private constructor(
    private readonly libc: Libc,
    /** The table's header in user memory. */
    readonly t: number,
    /** Symbols charged for lookups and for growing the table. */
    private readonly sym: number,
    private readonly expandSym: number,
  ) {}

  /**
   * A table with `size` buckets (rounded up to a power of two), its work
   * charged to libiberty's functions in `image` (linked statically, as in
   * binutils); null if out of memory.
   */
  static create(libc: Libc, size: number, image: string): Htab | null {
    let n = 16;
    while (n < size) n <<= 1;
    const t = libc.malloc(12);
    if (t === 0) return null;
    const buckets = libc.calloc(n, 4);
    if (buckets === 0) return null;
    const m = libc.mem;
    m.write32(t, buckets);
    m.write32(t + 4, n);
    m.write32(t + 8, 0);
    return new Htab(libc, t, libc.symbol(image, "htab_find_with_hash"), libc.symbol(image, "htab_expand"));
  }

  get count(): number {
    return this.libc.mem.readU32(this.t + 8);
  }

  /** The entry named by the len bytes at name (whose hash is `hash`), or 0. */
  find(name: number, len: number, hash: number): number {
    const libc = this.libc;
    const m = libc.mem;
    const prev = libc.enter(this.sym);
    const size = m.readU32(this.t + 4);
    let e = m.readU32(m.readU32(this.t) + 4 * (hash & (size - 1)));
    let steps = 0;
    while (e !== 0) {
      steps++;
      if (m.read32(e + E_HASH) === hash && m.readU32(e + E_LEN) === len) {
        const en = m.readU32(e + E_NAME);
        let i = 0;
        while (i < len && m.read8(en + i) === m.read8(name + i)) i++;
        libc.work(4 * i);
        if (i === len) break;
      }
      e = m.readU32(e + E_NEXT);
    }
    libc.work(12 + 6 * steps);
    libc.leave(prev);
    return e;
  }

  /** Add an entry (its name, len and hash already set; not already present). */
  insert(e: number): boolean {
    const m = this.libc.mem;
    const t = this.t;
    const count = m.readU32(t + 8) + 1;
    m.write32(t + 8, count);
    if (count > m.readU32(t + 4) && !this.expand()) return false;
    const size = m.readU32(t + 4);
    const slot = m.readU32(t) + 4 * (m.read32(e + E_HASH) & (size - 1));
    m.write32(e + E_NEXT, m.readU32(slot));
    m.write32(slot, e);
    this.libc.work(10);
    return true;
  }

  /** Double the bucket array and rehash every chain (htab_expand). */
  private expand(): boolean {
    const libc = this.libc;
    const m = libc.mem;
    const t = this.t;
    const prev = libc.enter(this.expandSym);
    const oldBuckets = m.readU32(t);
    const oldSize = m.readU32(t + 4);
    const size = oldSize * 2;
    const buckets = libc.calloc(size, 4);
    if (buckets === 0) {
      libc.leave(prev);
      return false;
    }
    for (let i = 0; i < oldSize; i++) {
      let e = m.readU32(oldBuckets + 4 * i);
      while (e !== 0) {
        const next = m.readU32(e + E_NEXT);
        const slot = buckets + 4 * (m.read32(e + E_HASH) & (size - 1));
        m.write32(e + E_NEXT, m.readU32(slot));
        m.write32(slot, e);
        e = next;
      }
    }
    libc.work(8 * oldSize + 8 * m.readU32(t + 8));
    libc.free(oldBuckets);
    m.write32(t, buckets);
    m.write32(t + 4, size);
    libc.leave(prev);
    return true;
  }

  /** Free the bucket array and the header (entries are the caller's). */
  destroy(): void {
    this.libc.free(this.libc.mem.readU32(this.t));
    this.libc.free(this.t);
  }
}
