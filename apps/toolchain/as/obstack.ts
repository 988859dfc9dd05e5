// Obstacks (glibc/libiberty obstack.c) in user memory: a stack of malloc'd
// chunks in which objects are allocated, or grown one at a time and then
// finished. gas keeps its frags, fixups and symbols in them; ld keeps its
// hash entries in one. The default chunk is 4064 bytes: 4096 minus malloc's
// and the chunk header's overhead (workloads.md 3.2).
//
// struct obstack (20 bytes, wherever the owner puts it):
//   +0  chunk_size    +4  chunk (current)   +8  object_base
//   +12 next_free     +16 chunk_limit
// struct _obstack_chunk (8-byte header, then the objects):
//   +0  limit         +4  prev
//
// Objects are aligned to 8 (the i386 ABI's alignment of double, which is
// what obstack's DEFAULT_ALIGNMENT comes to there).

import type { Libc } from "../../../libc/libc.ts";

export const OBSTACK_BYTES = 20;
export const OBSTACK_CHUNK_SIZE = 4064;
const CHUNK_HEADER = 8;
const ALIGN_MASK = 7;

const O_CHUNK_SIZE = 0;
const O_CHUNK = 4;
const O_OBJECT_BASE = 8;
const O_NEXT_FREE = 12;
const O_CHUNK_LIMIT = 16;

/** Out of memory in an obstack: the program reports it and exits (obstack_alloc_failed_handler). */
export class ObstackExhausted extends Error {}

function alignUp(p: number): number {
  return (p + ALIGN_MASK) & ~ALIGN_MASK;
}

/** An obstack whose header lives at `h` in user memory. The JS object holds only the address. */
export class Obstack {
  constructor(
    private readonly libc: Libc,
    readonly h: number,
  ) {}

  /** _obstack_begin: the first chunk. */
  static begin(libc: Libc, h: number, chunkSize = OBSTACK_CHUNK_SIZE): Obstack {
    const o = new Obstack(libc, h);
    const m = libc.mem;
    const chunk = libc.malloc(chunkSize);
    if (chunk === 0) throw new ObstackExhausted("memory exhausted");
    m.write32(chunk, chunk + chunkSize);
    m.write32(chunk + 4, 0);
    const base = alignUp(chunk + CHUNK_HEADER);
    m.write32(h + O_CHUNK_SIZE, chunkSize);
    m.write32(h + O_CHUNK, chunk);
    m.write32(h + O_OBJECT_BASE, base);
    m.write32(h + O_NEXT_FREE, base);
    m.write32(h + O_CHUNK_LIMIT, chunk + chunkSize);
    return o;
  }

  /** Where the growing object starts. */
  get base(): number {
    return this.libc.mem.readU32(this.h + O_OBJECT_BASE);
  }
  get nextFree(): number {
    return this.libc.mem.readU32(this.h + O_NEXT_FREE);
  }
  /** Bytes of the growing object so far. */
  get objectSize(): number {
    return this.nextFree - this.base;
  }
  /** Bytes left in the current chunk. */
  get room(): number {
    return this.libc.mem.readU32(this.h + O_CHUNK_LIMIT) - this.nextFree;
  }

  /** obstack_blank: grow the current object by n bytes (contents undefined); the address of the new bytes. */
  blank(n: number): number {
    const m = this.libc.mem;
    let next = m.readU32(this.h + O_NEXT_FREE);
    if (m.readU32(this.h + O_CHUNK_LIMIT) - next < n) {
      this.newchunk(n);
      next = m.readU32(this.h + O_NEXT_FREE);
    }
    m.write32(this.h + O_NEXT_FREE, next + n);
    return next;
  }

  /** Make room for n more bytes of the growing object (moving it to a new chunk if needed). */
  makeRoom(n: number): void {
    if (this.room < n) this.newchunk(n);
  }

  /** obstack_finish: end the growing object; its address. */
  finish(): number {
    const m = this.libc.mem;
    const h = this.h;
    const value = m.readU32(h + O_OBJECT_BASE);
    let next = alignUp(m.readU32(h + O_NEXT_FREE));
    const limit = m.readU32(h + O_CHUNK_LIMIT);
    if (next > limit) next = limit;
    m.write32(h + O_NEXT_FREE, next);
    m.write32(h + O_OBJECT_BASE, next);
    return value;
  }

  /** obstack_alloc: n bytes, uninitialised. */
  alloc(n: number): number {
    this.blank(n);
    return this.finish();
  }

  /** obstack_copy0: n bytes from src, and a NUL. */
  copy0(src: number, n: number): number {
    const p = this.blank(n + 1);
    this.libc.mem.memcpy(p, src, n);
    this.libc.mem.write8(p + n, 0);
    return this.finish();
  }

  /**
   * _obstack_newchunk: a chunk big enough for the growing object plus n
   * bytes (at least chunk_size), the object copied over; the old chunk is
   * freed if the object was all it held.
   */
  private newchunk(n: number): void {
    const libc = this.libc;
    const m = libc.mem;
    const h = this.h;
    const prev = libc.enter(libc.symbol("libc.so.6", "_obstack_newchunk"));
    const oldChunk = m.readU32(h + O_CHUNK);
    const base = m.readU32(h + O_OBJECT_BASE);
    const objSize = m.readU32(h + O_NEXT_FREE) - base;
    let newSize = objSize + n + (objSize >>> 3) + ALIGN_MASK + 100;
    const chunkSize = m.readU32(h + O_CHUNK_SIZE);
    if (newSize < chunkSize) newSize = chunkSize;
    const chunk = libc.malloc(newSize);
    if (chunk === 0) throw new ObstackExhausted("memory exhausted");
    m.write32(chunk, chunk + newSize);
    m.write32(chunk + 4, oldChunk);
    const newBase = alignUp(chunk + CHUNK_HEADER);
    if (objSize > 0) m.memcpy(newBase, base, objSize);
    // The old chunk held only this object: nothing else can point into it.
    if (base === alignUp(oldChunk + CHUNK_HEADER)) {
      m.write32(chunk + 4, m.readU32(oldChunk + 4));
      libc.free(oldChunk);
    }
    m.write32(h + O_CHUNK, chunk);
    m.write32(h + O_CHUNK_LIMIT, chunk + newSize);
    m.write32(h + O_OBJECT_BASE, newBase);
    m.write32(h + O_NEXT_FREE, newBase + objSize);
    libc.work(30);
    libc.leave(prev);
  }

  /** obstack_free(h, 0): every chunk back to malloc. */
  freeAll(): void {
    const m = this.libc.mem;
    let c = m.readU32(this.h + O_CHUNK);
    while (c !== 0) {
      const prev = m.readU32(c + 4);
      this.libc.free(c);
      c = prev;
    }
    m.write32(this.h + O_CHUNK, 0);
    m.write32(this.h + O_OBJECT_BASE, 0);
    m.write32(this.h + O_NEXT_FREE, 0);
    m.write32(this.h + O_CHUNK_LIMIT, 0);
  }
}
