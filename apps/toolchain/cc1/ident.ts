// The identifier hash table (libcpp's symtab.c): open addressing with double
// hashing over a power-of-two table of pointers to identifier nodes, malloc'd
// and grown in place with realloc; nodes and their strings are ggc objects.
//
// Identifier node (ggc, 32 bytes):
//   +0 hash, +4 len, +8 str (NUL-terminated ggc string), +12 rid (keyword
//   token kind, or 0), +16 macro (cpp_macro or 0), +20 symbol binding,
//   +24 tag binding, +28 spare

import type { Libc } from "../../../libc/libc.ts";
import type { UserMemory } from "../../../kernel/uaccess.ts";
import { type Ggc, OutOfMemory } from "./ggc.ts";
import { KEYWORDS } from "./tokens.ts";

export const ID_HASH = 0;
export const ID_LEN = 4;
export const ID_STR = 8;
export const ID_RID = 12;
export const ID_MACRO = 16;
export const ID_SYMBOL = 20;
export const ID_TAG = 24;
export const ID_SIZE = 32;

/** HT_HASHSTEP / HT_HASHFINISH (libcpp). */
export function hashStep(r: number, c: number): number {
  return (Math.imul(r, 67) + c - 113) | 0;
}
export function hashFinish(r: number, len: number): number {
  return (r + len) >>> 0;
}

export class IdentTable {
  /** The table: `size` slots of node pointers. */
  private table: number;
  private size = 1024;
  private count = 0;
  private readonly m: UserMemory;
  private readonly sym: number;
  /** A scratch buffer for names that come from the host (keywords, -D). */
  private scratch = 0;
  private scratchLen = 0;

  constructor(
    private readonly libc: Libc,
    private readonly ggc: Ggc,
  ) {
    this.m = libc.mem;
    this.sym = libc.symbol("cc1", "ht_lookup");
    this.table = libc.calloc(this.size, 4);
    if (this.table === 0) throw new OutOfMemory();
    for (const [name, rid] of KEYWORDS) this.m.write32(this.lookupJs(name) + ID_RID, rid);
  }

  /** ht_lookup with insertion: the node for len bytes at str whose hash is `hash`. */
  lookup(str: number, len: number, hash: number): number {
    const prev = this.libc.enter(this.sym);
    const m = this.m;
    const mask = this.size - 1;
    let i = hash & mask;
    const step = ((Math.imul(hash, 17) & mask) | 1) >>> 0;
    let work = 12;
    for (;;) {
      const node = m.readU32(this.table + 4 * i);
      if (node === 0) break;
      if (m.readU32(node + ID_HASH) === hash && m.read32(node + ID_LEN) === len) {
        const s = m.readU32(node + ID_STR);
        let j = 0;
        while (j < len && m.read8(s + j) === m.read8(str + j)) j++;
        work += 3 * j;
        if (j === len) {
          this.libc.work(work);
          this.libc.leave(prev);
          return node;
        }
      }
      i = (i + step) & mask;
      work += 6;
    }
    const node = this.ggc.alloc(ID_SIZE);
    m.write32(node + ID_HASH, hash);
    m.write32(node + ID_LEN, len);
    m.write32(node + ID_STR, this.ggc.allocString(str, len));
    m.write32(node + ID_RID, 0);
    m.write32(node + ID_MACRO, 0);
    m.write32(node + ID_SYMBOL, 0);
    m.write32(node + ID_TAG, 0);
    m.write32(node + 28, 0);
    m.write32(this.table + 4 * i, node);
    if (++this.count * 4 >= this.size * 3) this.expand();
    this.libc.work(work + 20);
    this.libc.leave(prev);
    return node;
  }

  /** The node for a host string (copied through a scratch buffer in user memory). */
  lookupJs(name: string): number {
    if (this.scratchLen < name.length + 1) {
      const n = Math.max(64, name.length + 1);
      const p = this.libc.realloc(this.scratch, n);
      if (p === 0) throw new OutOfMemory();
      this.scratch = p;
      this.scratchLen = n;
    }
    let h = 0;
    for (let i = 0; i < name.length; i++) {
      const c = name.charCodeAt(i) & 0xff;
      this.m.write8(this.scratch + i, c);
      h = hashStep(h, c);
    }
    return this.lookup(this.scratch, name.length, hashFinish(h, name.length));
  }

  /** The name of an identifier node as a host string (for diagnostics and output). */
  name(node: number): string {
    const m = this.m;
    const len = m.read32(node + ID_LEN);
    const s = m.readU32(node + ID_STR);
    let out = "";
    for (let i = 0; i < len; i++) out += String.fromCharCode(m.read8(s + i));
    return out;
  }

  /**
   * ht_expand, in place: realloc to twice the size, then move every old
   * entry to its slot under the new mask. Old entries are tagged (low bit:
   * nodes are 8-aligned) and treated as free slots by the re-insertion,
   * which swaps a tagged entry out when it lands on one.
   */
  private expand(): void {
    const m = this.m;
    const old = this.size;
    const size = old * 2;
    const t = this.libc.realloc(this.table, size * 4);
    if (t === 0) throw new OutOfMemory();
    this.libc.memset(t + old * 4, 0, old * 4);
    for (let i = 0; i < old; i++) {
      const v = m.readU32(t + 4 * i);
      if (v !== 0) m.write32(t + 4 * i, v | 1);
    }
    const mask = size - 1;
    for (let i = 0; i < size; i++) {
      let v = m.readU32(t + 4 * i);
      if ((v & 1) === 0) continue;
      m.write32(t + 4 * i, 0);
      v = (v & ~1) >>> 0;
      for (;;) {
        const hash = m.readU32(v + ID_HASH);
        let j = hash & mask;
        const step = ((Math.imul(hash, 17) & mask) | 1) >>> 0;
        let w = m.readU32(t + 4 * j);
        while (w !== 0 && (w & 1) === 0) {
          j = (j + step) & mask;
          w = m.readU32(t + 4 * j);
        }
        m.write32(t + 4 * j, v);
        this.libc.work(10);
        if (w === 0) break;
        v = (w & ~1) >>> 0; // displaced an entry not yet moved: move it next
      }
    }
    this.table = t;
    this.size = size;
  }
}
