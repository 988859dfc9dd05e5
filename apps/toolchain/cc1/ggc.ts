// cc1's garbage-collected heap, after gcc/ggc-page.c (GCC 4.4): GC pages
// mmap'd in 1 MiB quires (MAP_NOZERO in no-zero mode), one object size
// ("order") per page, an in-use bitmap per page in a malloc'd page_entry,
// big objects in their own mmap. It never collects (ggc-min-heapsize is
// 128 MiB on any machine with 1 GiB or more); everything goes at exit.
//
// The global state G lives in user memory (calloc'd at start-up):
//   +0   free_pages        page_entry list of unused pages of quires
//   +4   bytes_mapped
//   +8   allocated         bytes handed out (object sizes)
//   +12  quires            quires mapped
//   +16  big               page_entry list of big objects
//   +20  big_bytes
//   +24  pages[NUM_ORDERS] the page_entry list of each order (pages with free objects first)
//   ...  count[NUM_ORDERS] objects allocated per order (for -fmem-report)
//
// page_entry (malloc'd; XCNEWVAR in gcc):
//   +0 next, +4 bytes, +8 page, +12 num_free_objects, +16 next_bit_hint,
//   +20 order, +24 in_use_p[] (one bit per object, plus the one-past-the-end bit)

import { MAP_ANONYMOUS, MAP_FAILED, MAP_NOZERO, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../../../kernel/mman.ts";
import type { Libc } from "../../../libc/libc.ts";

export const GGC_QUIRE_SIZE = 256;
const PAGE = 4096;
const LG_PAGE = 12;

/** Object size of each order: powers of two from 8 B to a page, then gcc's extra orders (MAX_ALIGNMENT 8 x 3, 5-7, 9-15). */
export const OBJECT_SIZE: readonly number[] = [8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 24, 40, 48, 56, 72, 80, 88, 96, 104, 112, 120];
export const NUM_ORDERS = OBJECT_SIZE.length;
const OBJECTS_PER_PAGE = OBJECT_SIZE.map((s) => Math.floor(PAGE / s));
/** sizeof(page_entry) for an order: header plus the bitmap of its objects and the end bit. */
const PAGE_ENTRY_SIZE = OBJECTS_PER_PAGE.map((n) => 24 + 4 * Math.ceil((n + 1) / 32));

/** size_lookup[]: the order of the smallest size class holding n bytes, n < 512 (static data in gcc). */
const SIZE_LOOKUP = new Uint8Array(512);
for (let n = 0; n < 512; n++) {
  let best = -1;
  for (let o = 0; o < NUM_ORDERS; o++) if (OBJECT_SIZE[o] >= n && (best < 0 || OBJECT_SIZE[o] < OBJECT_SIZE[best])) best = o;
  SIZE_LOOKUP[n] = best;
}

const G_FREE_PAGES = 0;
const G_BYTES_MAPPED = 4;
const G_ALLOCATED = 8;
const G_QUIRES = 12;
const G_BIG = 16;
const G_BIG_BYTES = 20;
const G_PAGES = 24;
const G_COUNT = G_PAGES + 4 * NUM_ORDERS;
const G_SIZE = G_COUNT + 4 * NUM_ORDERS;

const PE_NEXT = 0;
const PE_BYTES = 4;
const PE_PAGE = 8;
const PE_NFREE = 12;
const PE_HINT = 16;
const PE_ORDER = 20;
const PE_BITS = 24;

/** Thrown when the heap cannot grow (gcc: "virtual memory exhausted"). */
export class OutOfMemory extends Error {}

export class Ggc {
  readonly G: number;
  private readonly symAlloc: number;
  private readonly symPage: number;
  private readonly mem;
  private readonly mapFlags: number;

  constructor(
    private readonly libc: Libc,
    readonly nozero: boolean,
  ) {
    this.mem = libc.mem;
    this.symAlloc = libc.symbol("cc1", "ggc_internal_alloc");
    this.symPage = libc.symbol("cc1", "alloc_page");
    this.mapFlags = MAP_PRIVATE | MAP_ANONYMOUS | (nozero ? MAP_NOZERO : 0);
    const g = libc.calloc(1, G_SIZE);
    if (g === 0) throw new OutOfMemory();
    this.G = g;
  }

  /** ggc_alloc: size bytes, not cleared. */
  alloc(size: number): number {
    const prev = this.libc.enter(this.symAlloc);
    const m = this.mem;
    const G = this.G;
    if (size > PAGE) {
      const r = this.allocBig(size);
      this.libc.leave(prev);
      return r;
    }
    let order: number;
    if (size < 512) order = SIZE_LOOKUP[size];
    else {
      order = 7; // 1024: scan upward from order 10 in gcc's numbering
      while (OBJECT_SIZE[order] < size) order++;
    }
    const osize = OBJECT_SIZE[order];
    let entry = m.readU32(G + G_PAGES + 4 * order);
    if (entry === 0 || m.read32(entry + PE_NFREE) === 0) {
      entry = this.allocPage(order);
      m.write32(entry + PE_NEXT, m.read32(G + G_PAGES + 4 * order));
      m.write32(G + G_PAGES + 4 * order, entry);
    }
    // Find a free object: the hint first, then a scan of the bitmap.
    let bit = m.read32(entry + PE_HINT);
    let word = bit >>> 5;
    let w = m.read32(entry + PE_BITS + 4 * word);
    if ((w >>> (bit & 31)) & 1) {
      word = 0;
      for (;;) {
        w = m.read32(entry + PE_BITS + 4 * word);
        if (w !== -1) break;
        word++;
      }
      bit = word * 32 + (31 - Math.clz32(~w & (w + 1)));
    }
    m.write32(entry + PE_BITS + 4 * word, w | (1 << (bit & 31)));
    m.write32(entry + PE_NFREE, m.read32(entry + PE_NFREE) - 1);
    m.write32(entry + PE_HINT, bit + 1);
    m.write32(G + G_ALLOCATED, m.read32(G + G_ALLOCATED) + osize);
    m.write32(G + G_COUNT + 4 * order, m.read32(G + G_COUNT + 4 * order) + 1);
    this.libc.work(40);
    this.libc.leave(prev);
    return (m.readU32(entry + PE_PAGE) + bit * osize) >>> 0;
  }

  /** ggc_alloc_cleared. */
  allocCleared(size: number): number {
    const p = this.alloc(size);
    this.libc.memset(p, 0, size);
    return p;
  }

  /** ggc_alloc_string: a NUL-terminated copy of len bytes at src (user memory). */
  allocString(src: number, len: number): number {
    const p = this.alloc(len + 1);
    if (len > 0) this.libc.memcpy(p, src, len);
    this.mem.write8(p + len, 0);
    return p;
  }

  /** A NUL-terminated copy of a host string (Latin-1). */
  allocJsString(s: string): number {
    const p = this.alloc(s.length + 1);
    const m = this.mem;
    for (let i = 0; i < s.length; i++) m.write8(p + i, s.charCodeAt(i));
    m.write8(p + s.length, 0);
    return p;
  }

  /** alloc_anon: a fresh private anonymous mapping. */
  private allocAnon(size: number): number {
    const p = this.libc.mmap(0, size, PROT_READ | PROT_WRITE, this.mapFlags);
    if (p === MAP_FAILED) throw new OutOfMemory();
    const G = this.G;
    this.mem.write32(G + G_BYTES_MAPPED, this.mem.read32(G + G_BYTES_MAPPED) + size);
    return p;
  }

  /** alloc_page: a page for objects of one order, from the free pages of a quire (mapping one if none). */
  private allocPage(order: number): number {
    const prev = this.libc.enter(this.symPage);
    const m = this.mem;
    const G = this.G;
    const peSize = PAGE_ENTRY_SIZE[order];
    let entry = 0;
    let page = 0;
    // The free-page list: take the first (all entries are one page).
    const p = m.readU32(G + G_FREE_PAGES);
    if (p !== 0) {
      m.write32(G + G_FREE_PAGES, m.read32(p + PE_NEXT));
      page = m.readU32(p + PE_PAGE);
      if (m.read32(p + PE_ORDER) === order) {
        entry = p;
        this.libc.memset(entry, 0, peSize);
      } else this.libc.free(p);
    } else {
      // Map a quire: use its first page, put the rest on the free list
      // (counting down so that the list is in ascending memory order).
      page = this.allocAnon(GGC_QUIRE_SIZE * PAGE);
      m.write32(G + G_QUIRES, m.read32(G + G_QUIRES) + 1);
      let f = m.readU32(G + G_FREE_PAGES);
      for (let i = GGC_QUIRE_SIZE - 1; i >= 1; i--) {
        const e = this.libc.calloc(1, peSize);
        if (e === 0) throw new OutOfMemory();
        m.write32(e + PE_ORDER, order);
        m.write32(e + PE_BYTES, PAGE);
        m.write32(e + PE_PAGE, page + (i << LG_PAGE));
        m.write32(e + PE_NEXT, f);
        f = e;
        this.libc.work(8);
      }
      m.write32(G + G_FREE_PAGES, f);
    }
    if (entry === 0) {
      entry = this.libc.calloc(1, peSize);
      if (entry === 0) throw new OutOfMemory();
    }
    const n = OBJECTS_PER_PAGE[order];
    m.write32(entry + PE_BYTES, PAGE);
    m.write32(entry + PE_PAGE, page);
    m.write32(entry + PE_NFREE, n);
    m.write32(entry + PE_HINT, 0);
    m.write32(entry + PE_ORDER, order);
    // The one-past-the-end bit.
    const w = entry + PE_BITS + 4 * (n >>> 5);
    m.write32(w, m.read32(w) | (1 << (n & 31)));
    this.libc.work(40);
    this.libc.leave(prev);
    return entry;
  }

  /** An object of more than a page: its own mapping and page_entry. */
  private allocBig(size: number): number {
    const m = this.mem;
    const G = this.G;
    const bytes = (size + PAGE - 1) & ~(PAGE - 1);
    const page = this.allocAnon(bytes);
    const e = this.libc.calloc(1, PE_BITS + 4);
    if (e === 0) throw new OutOfMemory();
    m.write32(e + PE_BYTES, bytes);
    m.write32(e + PE_PAGE, page);
    m.write32(e + PE_ORDER, -1);
    m.write32(e + PE_BITS, 1);
    m.write32(e + PE_NEXT, m.read32(G + G_BIG));
    m.write32(G + G_BIG, e);
    m.write32(G + G_BIG_BYTES, m.read32(G + G_BIG_BYTES) + bytes);
    m.write32(G + G_ALLOCATED, m.read32(G + G_ALLOCATED) + bytes);
    this.libc.work(60);
    return page;
  }

  /** -fmem-report: the heap by order, as ggc_print_statistics does. */
  report(): string {
    const m = this.mem;
    const G = this.G;
    let s = "Memory still allocated at the end of the compilation process\n";
    s += `${"Size".padStart(8)}${"Allocated".padStart(12)}${"Objects".padStart(10)}\n`;
    const order = [...OBJECT_SIZE.keys()].sort((a, b) => OBJECT_SIZE[a] - OBJECT_SIZE[b]);
    for (const o of order) {
      const n = m.readU32(G + G_COUNT + 4 * o);
      if (n === 0) continue;
      s += `${String(OBJECT_SIZE[o]).padStart(8)}${String(n * OBJECT_SIZE[o]).padStart(12)}${String(n).padStart(10)}\n`;
    }
    s += `${"big".padStart(8)}${String(m.readU32(G + G_BIG_BYTES)).padStart(12)}\n`;
    s += `Total allocated: ${m.readU32(G + G_ALLOCATED)} bytes; mapped: ${m.readU32(G + G_BYTES_MAPPED)} bytes in ${m.readU32(G + G_QUIRES)} quires of ${GGC_QUIRE_SIZE} pages${this.nozero ? " (MAP_NOZERO)" : ""}\n`;
    return s;
  }

  get bytesAllocated(): number {
    return this.mem.readU32(this.G + G_ALLOCATED);
  }
  get quires(): number {
    return this.mem.readU32(this.G + G_QUIRES);
  }
}
