// Property test of the address-space layer against a page-level model.
//
// fast-check generates sequences of mmap2 / munmap / mprotect / mremap /
// madvise / brk / brk2 calls and user loads and stores over a small window of
// addresses (so operations collide), applies each to the kernel and to a
// model, and after every step compares:
//   - the syscall's result (the model predicts every one, placement included);
//   - loaded values, and the signal and fault address of a bad access;
//   - the fault counter (one fault per page walk that the PTE does not allow);
//   - the VMA list (sorted, aligned, no mergeable neighbours, and exactly the
//     partition the model's pages imply: flags, backing object, pgoff);
//   - every PTE (frame, present, writable, zero page, MADV_FREE clean bit);
//   - the contents of every resident frame;
//   - RSS, page-table frames, frame reference counts and frame conservation
//     (free + in use == all frames, cross-checked against the buddy lists).
// At the end the task exits and every frame but the zero page must be free.
//
// The model is one record per mapped page: its protection, private or shared
// (with the shared object and page index), VM_NOZERO, VM_ACCOUNT, pgoff, the
// state of its PTE (none / zero page / frame, writable, MADV_FREE-clean) and
// its contents. Contents are exact, except that a frame the policy may hand
// out uncleared (nozero policy + VM_NOZERO area, or the uninitialized control
// policy) starts with unknown bytes: the model learns them from the frame
// right after the step that allocated it (checking that no other user's bytes
// are among them, and in poison mode that they are the poison or zeros), and
// every later read must agree.
//
// Ops name their target either as a window page or as "the n-th mapped page /
// VMA start" of the state they run in (so most of them hit something); the
// failure message lists the ops run so far with concrete addresses (w+N is
// window page N). MMPROP_DEBUG=1 prints per-run tallies of the outcomes.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Kev } from "../../kernel/cost/events.ts";
import { EEXIST, EFAULT, EINVAL, ENOMEM } from "../../kernel/errno.ts";
import { PG_ANON, PG_BUDDY, PG_PCP, PG_SHMEM } from "../../kernel/frames.ts";
import type { Kernel } from "../../kernel/kernel.ts";
import * as M from "../../kernel/mman.ts";
import { PTE_D, PTE_P, PTE_RW, PTE_SPECIAL, pteHasFrame } from "../../kernel/pagetable.ts";
import { MMAP_MIN_ADDR, PAGE_SIZE, TASK_SIZE } from "../../kernel/param.ts";
import { SIGBUS, SIGSEGV } from "../../kernel/signal.ts";
import { NR } from "../../kernel/syscall.ts";
import {
  type MemObject, VM_ACCOUNT, VM_EXEC, VM_MAYEXEC, VM_MAYREAD, VM_MAYSHARE, VM_MAYWRITE, VM_NOZERO, VM_READ,
  VM_SHARED, VM_WRITE,
} from "../../kernel/vma.ts";
import { POISON_BYTE, type ZeroPolicyName } from "../../kernel/zero_policy.ts";
import { TEST_BRK, bootKernel, exitTask, newTask, runUser, sys } from "../helpers/boot.ts";

// ---- the window ----------------------------------------------------------------

/** Pages in the window; syscalls and accesses pick page indices in it. */
const W = 48;
/** Window start: 8 pages below the break, so brk and mmap collide. */
const BASE = TEST_BRK - 8 * PAGE_SIZE;
/** mmap_base is the window's top, so non-fixed mmap and mremap land in it (top-down). */
const TOP = BASE + W * PAGE_SIZE;
const UID = 1000;
const FOREIGN_UID = 2000;
/** What another user left in memory: must never show up in a nozero handout. */
const FOREIGN_WORD = 0xd1ba0ff0;
const OWN_WORD = 0x0badf00d;

const pageDown = (a: number): number => a - (a & (PAGE_SIZE - 1));
const alignUp = (n: number): number => pageDown(n + PAGE_SIZE - 1);
const readable = (prot: number): boolean => (prot & (M.PROT_READ | M.PROT_WRITE | M.PROT_EXEC)) !== 0;
const hex = (a: number): string => `0x${(a >>> 0).toString(16)}`;
/** An address as window-relative text: w+3 or w+3:0xffc. */
function wa(a: number): string {
  const p = Math.floor((a - BASE) / PAGE_SIZE);
  const off = a - BASE - p * PAGE_SIZE;
  return off === 0 ? `w${p < 0 ? "" : "+"}${p}` : `w${p < 0 ? "" : "+"}${p}:${hex(off)}`;
}

// ---- operations ----------------------------------------------------------------

const PROTS = {
  NONE: M.PROT_NONE,
  R: M.PROT_READ,
  W: M.PROT_WRITE,
  RW: M.PROT_READ | M.PROT_WRITE,
  RX: M.PROT_READ | M.PROT_EXEC,
  RWX: M.PROT_READ | M.PROT_WRITE | M.PROT_EXEC,
  /** Not a protection: mprotect must refuse it. */
  BAD: 0x10,
} as const;
type ProtName = keyof typeof PROTS;
type MapProt = Exclude<ProtName, "BAD">;
type Place = "any" | "hint" | "fixed" | "noreplace";
type RemapMode = "none" | "maymove" | "fixed" | "dontunmap" | "dontunmap+fixed" | "fixed-only";
type Advice = "DONTNEED" | "FREE" | "WILLNEED" | "BOGUS";
/**
 * How an op's page is chosen: "abs" is window page `page`; "page" is the
 * page-th mapped page (mod their number) and "vma" the page-th VMA start of
 * the model at the time the op runs, so that most ops hit something.
 */
type Sel = "abs" | "page" | "vma";
const ADVICE: Record<Advice, number> = { DONTNEED: M.MADV_DONTNEED, FREE: M.MADV_FREE, WILLNEED: M.MADV_WILLNEED, BOGUS: 12345 };

type Op =
  | { op: "mmap"; sel: Sel; page: number; off: number; npages: number; lenAdj: number; prot: MapProt; shared: boolean; place: Place; populate: boolean; nozero: boolean }
  | { op: "munmap"; sel: Sel; page: number; off: number; npages: number; lenAdj: number }
  | { op: "mprotect"; sel: Sel; page: number; off: number; npages: number; prot: ProtName }
  | { op: "mremap"; sel: Sel; page: number; off: number; oldPages: number; newPages: number; mode: RemapMode; newPage: number; fit: boolean }
  | { op: "madvise"; sel: Sel; page: number; off: number; npages: number; advice: Advice }
  | { op: "brk"; pages: number; off: number; call: "brk" | "brk2" | "brk2-nozero" | "brk2-badflags" }
  | { op: "write8" | "write32"; sel: Sel; page: number; off: number; val: number }
  | { op: "memset"; sel: Sel; page: number; off: number; n: number; val: number }
  | { op: "read8" | "read32" | "reread"; sel: Sel; page: number; off: number }
  | { op: "readBytes"; sel: Sel; page: number; off: number; n: number }
  | { op: "reclaim" };

/** One line of strace-like text per op, so a shrunk counterexample reads as a program. */
function fmt(o: Op): string {
  const sel = "sel" in o ? o.sel : "abs";
  const at = (page: number, off: number): string =>
    sel === "abs" ? wa(BASE + page * PAGE_SIZE + off) : `${sel}[${page}]${off ? `+${hex(off)}` : ""}`;
  const len = (n: number, adj: number): string => `${n}p${adj ? adj : ""}`;
  switch (o.op) {
    case "mmap": {
      const f = [o.shared ? "SHARED" : "PRIVATE"];
      if (o.place === "fixed") f.push("FIXED");
      if (o.place === "noreplace") f.push("FIXED_NOREPLACE");
      if (o.populate) f.push("POPULATE");
      if (o.nozero) f.push("NOZERO");
      const addr = o.place === "any" ? "NULL" : at(o.page, o.off);
      return `mmap(${addr}, ${len(o.npages, o.lenAdj)}, ${o.prot}, ${f.join("|")})`;
    }
    case "munmap":
      return `munmap(${at(o.page, o.off)}, ${len(o.npages, o.lenAdj)})`;
    case "mprotect":
      return `mprotect(${at(o.page, o.off)}, ${o.npages}p, ${o.prot})`;
    case "mremap":
      if (o.fit) return `mremap(${at(o.page, o.off)}, to VMA end, to VMA start #${o.newPage}, ${o.mode}${o.mode.includes("fixed") ? `, ${wa(BASE + o.newPage * PAGE_SIZE)}` : ""})`;
      return `mremap(${at(o.page, o.off)}, ${o.oldPages}p, ${remapNewPages(o)}p, ${o.mode}${o.mode.includes("fixed") ? `, ${wa(BASE + o.newPage * PAGE_SIZE)}` : ""})`;
    case "madvise":
      return `madvise(${at(o.page, o.off)}, ${o.npages}p, ${o.advice})`;
    case "brk":
      return `${o.call}(start_brk${o.pages >= 0 ? "+" : ""}${o.pages}p${o.off ? `+${hex(o.off)}` : ""})`;
    case "write8":
    case "write32":
      return `${o.op}(${at(o.page, o.off)}, ${hex(o.val)})`;
    case "memset":
      return `memset(${at(o.page, o.off)}, ${hex(o.val)}, ${o.n})`;
    case "read8":
    case "read32":
    case "reread":
      return `${o.op}(${at(o.page, o.off)})`;
    case "readBytes":
      return `readBytes(${at(o.page, o.off)}, ${o.n})`;
    case "reclaim":
      return "reclaim_lazyfree()";
  }
}

function remapNewPages(o: Extract<Op, { op: "mremap" }>): number {
  return o.mode.startsWith("dontunmap") ? o.oldPages : o.newPages;
}

function named<T extends Op>(arb: fc.Arbitrary<T>): fc.Arbitrary<Op> {
  return arb.map((o) => Object.defineProperty(o, fc.toStringMethod, { value: () => fmt(o), enumerable: false }));
}

const pageArb = fc.integer({ min: 0, max: W - 1 });
const selArb = fc.oneof(
  { arbitrary: fc.constant<Sel>("page"), weight: 6 },
  { arbitrary: fc.constant<Sel>("abs"), weight: 2 },
  { arbitrary: fc.constant<Sel>("vma"), weight: 2 },
);
/** Syscall address offsets: almost always page aligned. */
const sysOffArb = fc.oneof({ arbitrary: fc.constant(0), weight: 19 }, { arbitrary: fc.constant(0x10), weight: 1 });
/** Access offsets: biased to page edges, where accesses straddle two pages. */
const accOffArb = fc.oneof(
  { arbitrary: fc.constantFrom(0, 1, 2048, 4092, 4093, 4094, 4095), weight: 1 },
  { arbitrary: fc.integer({ min: 0, max: PAGE_SIZE - 1 }), weight: 2 },
);
const lenAdjArb = fc.oneof({ arbitrary: fc.constant(0), weight: 6 }, { arbitrary: fc.constantFrom(-1, -4095), weight: 1 });
const mapProtArb = fc.oneof(
  { arbitrary: fc.constant<MapProt>("RW"), weight: 6 },
  { arbitrary: fc.constantFrom<MapProt>("NONE", "R", "W", "RX", "RWX"), weight: 4 },
);
const byteArb = fc.integer({ min: 0, max: 255 });

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 12,
    arbitrary: named(
      fc.record({
        op: fc.constant("mmap" as const),
        sel: selArb, page: pageArb,
        off: sysOffArb,
        npages: fc.oneof({ arbitrary: fc.integer({ min: 1, max: 8 }), weight: 19 }, { arbitrary: fc.constant(0), weight: 1 }),
        lenAdj: lenAdjArb,
        prot: mapProtArb,
        shared: fc.oneof({ arbitrary: fc.constant(false), weight: 3 }, { arbitrary: fc.constant(true), weight: 1 }),
        place: fc.constantFrom<Place>("any", "hint", "fixed", "fixed", "noreplace"),
        populate: fc.oneof({ arbitrary: fc.constant(false), weight: 3 }, { arbitrary: fc.constant(true), weight: 1 }),
        nozero: fc.boolean(),
      }),
    ),
  },
  {
    weight: 5,
    arbitrary: named(
      fc.record({ op: fc.constant("munmap" as const), sel: selArb, page: pageArb, off: sysOffArb, npages: fc.integer({ min: 0, max: 10 }), lenAdj: lenAdjArb }),
    ),
  },
  {
    weight: 6,
    arbitrary: named(
      fc.record({
        op: fc.constant("mprotect" as const),
        sel: selArb, page: pageArb,
        off: sysOffArb,
        npages: fc.integer({ min: 0, max: 10 }),
        prot: fc.oneof(
          { arbitrary: fc.constantFrom<ProtName>("NONE", "R", "W", "RW", "RX", "RWX"), weight: 19 },
          { arbitrary: fc.constant<ProtName>("BAD"), weight: 1 },
        ),
      }),
    ),
  },
  {
    weight: 7,
    arbitrary: named(
      fc.record({
        op: fc.constant("mremap" as const),
        sel: selArb, page: pageArb,
        off: sysOffArb,
        oldPages: fc.oneof(
          { arbitrary: fc.integer({ min: 1, max: 3 }), weight: 6 },
          { arbitrary: fc.integer({ min: 4, max: 8 }), weight: 2 },
          { arbitrary: fc.constant(0), weight: 1 },
        ),
        newPages: fc.integer({ min: 1, max: 10 }),
        mode: fc.constantFrom<RemapMode>("none", "none", "maymove", "maymove", "fixed", "fixed", "dontunmap", "dontunmap+fixed", "fixed-only"),
        newPage: pageArb,
        fit: fc.oneof({ arbitrary: fc.constant(false), weight: 2 }, { arbitrary: fc.constant(true), weight: 1 }),
      }),
    ),
  },
  {
    weight: 6,
    arbitrary: named(
      fc.record({
        op: fc.constant("madvise" as const),
        sel: selArb, page: pageArb,
        off: sysOffArb,
        npages: fc.integer({ min: 0, max: 10 }),
        advice: fc.constantFrom<Advice>("DONTNEED", "DONTNEED", "FREE", "FREE", "FREE", "WILLNEED", "BOGUS"),
      }),
    ),
  },
  {
    weight: 5,
    arbitrary: named(
      fc.record({
        op: fc.constant("brk" as const),
        pages: fc.integer({ min: -1, max: 24 }),
        off: fc.oneof({ arbitrary: fc.constant(0), weight: 2 }, { arbitrary: fc.integer({ min: 1, max: PAGE_SIZE - 1 }), weight: 1 }),
        call: fc.constantFrom("brk", "brk", "brk2", "brk2-nozero", "brk2-nozero", "brk2-badflags"),
      }),
    ),
  },
  {
    weight: 10,
    arbitrary: named(fc.record({ op: fc.constantFrom("write8" as const, "write32" as const), sel: selArb, page: pageArb, off: accOffArb, val: fc.integer() })),
  },
  {
    weight: 6,
    arbitrary: named(
      fc.record({ op: fc.constant("memset" as const), sel: selArb, page: pageArb, off: accOffArb, n: fc.integer({ min: 1, max: 2 * PAGE_SIZE + 100 }), val: byteArb }),
    ),
  },
  {
    weight: 14,
    arbitrary: named(fc.record({ op: fc.constantFrom("read8" as const, "read32" as const, "reread" as const), sel: selArb, page: pageArb, off: accOffArb })),
  },
  {
    weight: 4,
    arbitrary: named(fc.record({ op: fc.constant("readBytes" as const), sel: selArb, page: pageArb, off: accOffArb, n: fc.integer({ min: 1, max: 2 * PAGE_SIZE }) })),
  },
  { weight: 2, arbitrary: named(fc.record({ op: fc.constant("reclaim" as const) })) },
);

// ---- the model -------------------------------------------------------------------

/** PTE states of a model page. */
const NONE = 0;
const ZERO = 1;
const FRAME = 2;
type PteKind = typeof NONE | typeof ZERO | typeof FRAME;

/** A MAP_SHARED|MAP_ANONYMOUS object: fixed size, its pages outlive their PTEs. */
interface SharedObj {
  readonly id: number;
  readonly npages: number;
  /** Contents of the object's pages that exist (allocated on first fault). */
  readonly pages: (Uint8Array | null)[];
  /** The kernel's object, learned from the VMA after the mmap. */
  kobj: MemObject | null;
}

interface Page {
  prot: number;
  shared: SharedObj | null;
  nozero: boolean;
  account: boolean;
  /** Private: the anonymous pgoff Linux keeps; shared: the page index in the object. */
  pgoff: number;
  kind: PteKind;
  /** PTE writable. */
  rw: boolean;
  /** MADV_FREE'd and not written since (PTE clean): reclaim may drop it. */
  lazy: boolean;
  /** Private frame contents (kind FRAME only). */
  data: Uint8Array | null;
  /** Which bytes of data are known (1); null when all are. Unknown bytes come from an uncleared frame. */
  known: Uint8Array | null;
}

interface Fault {
  sig: number;
  addr: number;
}

function vmFlagsOf(p: Page): number {
  return (
    (p.prot & M.PROT_READ ? VM_READ : 0) |
    (p.prot & M.PROT_WRITE ? VM_WRITE : 0) |
    (p.prot & M.PROT_EXEC ? VM_EXEC : 0) |
    VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC |
    (p.shared ? VM_SHARED | VM_MAYSHARE : 0) |
    (p.nozero ? VM_NOZERO : 0) |
    (p.account ? VM_ACCOUNT : 0)
  );
}

/** Would Linux keep p and q (q directly above p) in one VMA? */
function mergeable(p: Page, q: Page): boolean {
  return vmFlagsOf(p) === vmFlagsOf(q) && p.shared === q.shared && q.pgoff === p.pgoff + 1;
}

class Model {
  readonly pages = new Map<number, Page>();
  readonly objs: SharedObj[] = [];
  readonly startBrk = TEST_BRK;
  brk = TEST_BRK;
  brkNozero = false;
  /** Faults the kernel must have counted so far. */
  faults = 0;

  constructor(readonly policy: ZeroPolicyName) {}

  /** May a fresh private frame for p hold old bytes? */
  private unknownOnAlloc(p: Page): boolean {
    return this.policy === "uninitialized" || (this.policy === "nozero" && p.nozero);
  }

  rangeFree(start: number, end: number): boolean {
    for (let a = start; a < end; a += PAGE_SIZE) if (this.pages.has(a)) return false;
    return true;
  }

  /** get_unmapped_area without a usable hint: the highest free range below mmap_base. */
  topDown(len: number): number {
    for (let a = TOP - len; a >= MMAP_MIN_ADDR; a -= PAGE_SIZE) if (this.rangeFree(a, a + len)) return a;
    return -ENOMEM;
  }

  /** The VMA holding a, as the pages' merge rule defines it. */
  vmaAt(a: number): { start: number; end: number } {
    let start = a;
    let end = a + PAGE_SIZE;
    for (;;) {
      const lo = this.pages.get(start - PAGE_SIZE);
      if (lo === undefined || !mergeable(lo, this.pages.get(start)!)) break;
      start -= PAGE_SIZE;
    }
    for (;;) {
      const hi = this.pages.get(end);
      if (hi === undefined || !mergeable(this.pages.get(end - PAGE_SIZE)!, hi)) break;
      end += PAGE_SIZE;
    }
    return { start, end };
  }

  /** Mapped pages, ascending. */
  sortedPages(): number[] {
    return [...this.pages.keys()].sort((x, y) => x - y);
  }

  /** Start addresses of the model's VMAs, ascending. */
  vmaStarts(): number[] {
    return this.sortedPages().filter((a) => {
      const lo = this.pages.get(a - PAGE_SIZE);
      return lo === undefined || !mergeable(lo, this.pages.get(a)!);
    });
  }

  /** The op with its page chosen by the current state, as a window page. */
  concretize(o: Op): Op {
    if (!("sel" in o)) return o;
    if (o.sel !== "abs") {
      const targets = o.sel === "vma" ? this.vmaStarts() : this.sortedPages();
      o = targets.length === 0 ? { ...o, sel: "abs" } : { ...o, sel: "abs", page: (targets[o.page % targets.length] - BASE) / PAGE_SIZE };
    }
    if (o.op === "mremap" && o.fit) {
      // old_len: the rest of the VMA; new_len: up to a later VMA's start, so growth meets a neighbour.
      const addr = BASE + o.page * PAGE_SIZE + o.off;
      o = { ...o, fit: false };
      if (this.pages.has(pageDown(addr))) {
        const end = this.vmaAt(pageDown(addr)).end;
        o.oldPages = Math.max(0, Math.ceil((end - addr) / PAGE_SIZE));
        const later = this.vmaStarts().filter((s) => s > end);
        if (later.length > 0) o.newPages = (later[o.newPage % later.length] - pageDown(addr)) / PAGE_SIZE;
      }
    }
    return o;
  }

  unmap(start: number, end: number): void {
    for (let a = start; a < end; a += PAGE_SIZE) this.pages.delete(a);
  }

  /** zap_page_range: the PTE goes; private contents go with it, shared ones stay in the object. */
  zap(p: Page): void {
    p.kind = NONE;
    p.rw = false;
    p.lazy = false;
    p.data = null;
    p.known = null;
  }

  private freshPage(tmpl: Omit<Page, "kind" | "rw" | "lazy" | "data" | "known">): Page {
    return { ...tmpl, kind: NONE, rw: false, lazy: false, data: null, known: null };
  }

  private newFrame(p: Page): void {
    p.kind = FRAME;
    p.rw = true;
    p.data = new Uint8Array(PAGE_SIZE);
    p.known = this.unknownOnAlloc(p) ? new Uint8Array(PAGE_SIZE) : null;
  }

  /**
   * One page walk for an access at a (a TLB hit behaves as a walk that needs
   * no fault). Returns 0, SIGSEGV or SIGBUS; updates PTE state and faults.
   */
  touch(a: number, write: boolean): number {
    const p = this.pages.get(pageDown(a));
    const present = p !== undefined && p.kind !== NONE && readable(p.prot);
    if (present && (!write || p.rw)) {
      if (write) p.lazy = false;
      return 0;
    }
    this.faults++;
    if (p === undefined) return SIGSEGV;
    if (write ? !(p.prot & M.PROT_WRITE) : !readable(p.prot)) return SIGSEGV;
    if (p.shared !== null) {
      if (p.kind === NONE) {
        if (p.pgoff >= p.shared.npages) return SIGBUS;
        p.shared.pages[p.pgoff] ??= new Uint8Array(PAGE_SIZE);
        p.kind = FRAME;
      }
      p.rw = write;
      return 0;
    }
    if (!write) {
      p.kind = ZERO; // do_anonymous_page, read: the zero page
      p.rw = false;
      return 0;
    }
    if (p.kind === FRAME) p.rw = true; // do_wp_page: sole owner, reuse in place
    else this.newFrame(p); // not present, or the zero page: a new frame
    p.lazy = false;
    return 0;
  }

  /** Contents backing p, or null when it reads as zeros. */
  bytesOf(p: Page): Uint8Array | null {
    if (p.shared !== null) return p.shared.pages[p.pgoff] ?? null;
    return p.kind === FRAME ? p.data : null;
  }

  /**
   * A user access of n bytes at a, page chunk by page chunk, in order, as the
   * accessor does: stops at the first page that faults. Writes take bytes
   * from src(i); reads return the bytes read so far.
   */
  access(a: number, n: number, write: boolean, src?: (i: number) => number): { out: Uint8Array; fault: Fault | null } {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; ) {
      const cur = a + i;
      const chunk = Math.min(n - i, PAGE_SIZE - (cur & (PAGE_SIZE - 1)));
      const sig = this.touch(cur, write);
      if (sig !== 0) return { out, fault: { sig, addr: cur } };
      const p = this.pages.get(pageDown(cur))!;
      const b = this.bytesOf(p);
      const base = cur & (PAGE_SIZE - 1);
      for (let j = 0; j < chunk; j++) {
        if (write) {
          b![base + j] = src!(i + j);
          if (p.known !== null) p.known[base + j] = 1;
        } else {
          if (p.known !== null && !p.known[base + j]) throw new Error(`model: read of an unlearned byte at ${hex(cur + j)}`);
          out[i + j] = b === null ? 0 : b[base + j];
        }
      }
      i += chunk;
    }
    return { out, fault: null };
  }

  // ---- syscalls: each returns what the kernel must return ------------------------

  mmap(addr: number, len0: number, prot: number, flags: number): number {
    if (len0 === 0) return -EINVAL;
    const shared = (flags & M.MAP_TYPE) === M.MAP_SHARED;
    if (flags & M.MAP_NOZERO && shared) return -EINVAL;
    const noreplace = (flags & M.MAP_FIXED_NOREPLACE) !== 0;
    const fixed = noreplace || (flags & M.MAP_FIXED) !== 0;
    const len = alignUp(len0);
    let a: number;
    if (fixed) {
      if (addr & (PAGE_SIZE - 1)) return -EINVAL;
      a = addr;
    } else {
      const h = pageDown(addr);
      a = h !== 0 && this.rangeFree(h, h + len) ? h : this.topDown(len);
      if (a < 0) return a;
    }
    if (noreplace && !this.rangeFree(a, a + len)) return -EEXIST;
    this.unmap(a, a + len);
    const obj: SharedObj | null = shared ? { id: this.objs.length, npages: len / PAGE_SIZE, pages: [], kobj: null } : null;
    if (obj !== null) this.objs.push(obj);
    for (let i = 0; i < len / PAGE_SIZE; i++) {
      this.pages.set(a + i * PAGE_SIZE, this.freshPage({
        prot,
        shared: obj,
        nozero: (flags & M.MAP_NOZERO) !== 0,
        account: !shared && (prot & M.PROT_WRITE) !== 0,
        pgoff: shared ? i : a / PAGE_SIZE + i,
      }));
    }
    if (flags & M.MAP_POPULATE) {
      const write = !shared && (prot & M.PROT_WRITE) !== 0;
      for (let i = 0; i < len / PAGE_SIZE; i++) if (this.touch(a + i * PAGE_SIZE, write) !== 0) break;
    }
    return a;
  }

  munmap(start: number, len0: number): number {
    if (start & (PAGE_SIZE - 1)) return -EINVAL;
    const len = alignUp(len0);
    if (len === 0) return -EINVAL;
    this.unmap(start, start + len);
    return 0;
  }

  mprotect(start: number, len0: number, prot: number): number {
    if (start & (PAGE_SIZE - 1)) return -EINVAL;
    if (len0 === 0) return 0;
    const end = start + alignUp(len0);
    if (prot & ~(M.PROT_READ | M.PROT_WRITE | M.PROT_EXEC | M.PROT_SEM)) return -EINVAL;
    if (!this.pages.has(start)) return -ENOMEM;
    let a = start;
    for (; a < end; a += PAGE_SIZE) {
      const p = this.pages.get(a);
      if (p === undefined) break;
      p.prot = prot;
      // mprotect_fixup: a private mapping made writable is charged (VM_ACCOUNT) from then on.
      if (p.shared === null && prot & M.PROT_WRITE) p.account = true;
      // change_protection: write permission only comes back through a fault.
      if (!(prot & M.PROT_WRITE)) p.rw = false;
    }
    return a < end ? -ENOMEM : 0;
  }

  mremap(addr: number, oldLen0: number, newLen0: number, flags: number, newAddr: number): number {
    const FIXED = M.MREMAP_FIXED;
    const MAYMOVE = M.MREMAP_MAYMOVE;
    const DONTUNMAP = M.MREMAP_DONTUNMAP;
    if (flags & FIXED && !(flags & MAYMOVE)) return -EINVAL;
    if (flags & DONTUNMAP && (!(flags & MAYMOVE) || oldLen0 !== newLen0)) return -EINVAL;
    if (addr & (PAGE_SIZE - 1)) return -EINVAL;
    let oldLen = alignUp(oldLen0);
    const newLen = alignUp(newLen0);
    if (newLen === 0) return -EINVAL;
    if (!this.pages.has(addr)) return -EFAULT;
    if (flags & (FIXED | DONTUNMAP)) {
      if (flags & FIXED) {
        if (newAddr & (PAGE_SIZE - 1)) return -EINVAL;
        if (addr + oldLen > newAddr && newAddr + newLen > addr) return -EINVAL;
        this.unmap(newAddr, newAddr + newLen);
      }
      if (oldLen > newLen) {
        this.unmap(addr + newLen, addr + oldLen);
        oldLen = newLen;
      }
      const err = this.resizable(addr, oldLen);
      if (err < 0) return err;
      const dest = flags & FIXED ? newAddr : this.topDown(newLen);
      if (dest < 0) return dest;
      this.move(addr, oldLen, newLen, dest, (flags & DONTUNMAP) !== 0);
      return dest;
    }
    if (oldLen >= newLen) {
      this.unmap(addr + newLen, addr + oldLen);
      return addr;
    }
    const err = this.resizable(addr, oldLen);
    if (err < 0) return err;
    const vma = this.vmaAt(addr);
    if (addr + oldLen === vma.end && this.rangeFree(vma.end, addr + newLen)) {
      // vma_expandable: grow in place; the new pages continue the VMA.
      const last = this.pages.get(vma.end - PAGE_SIZE)!;
      for (let a = vma.end, i = 1; a < addr + newLen; a += PAGE_SIZE, i++) {
        this.pages.set(a, this.freshPage({ ...last, pgoff: last.pgoff + i }));
      }
      return addr;
    }
    if (!(flags & MAYMOVE)) return -ENOMEM;
    const dest = this.topDown(newLen);
    if (dest < 0) return dest;
    this.move(addr, oldLen, newLen, dest, false);
    return dest;
  }

  /** vma_to_resize: [addr, addr+oldLen) inside one VMA; a zero old_len only duplicates shared mappings. */
  private resizable(addr: number, oldLen: number): number {
    if (!this.pages.has(addr)) return -EFAULT;
    const vma = this.vmaAt(addr);
    if (oldLen > vma.end - addr) return -EFAULT;
    if (oldLen === 0 && this.pages.get(addr)!.shared === null) return -EINVAL;
    return 0;
  }

  /** move_vma: PTEs (and MADV_FREE state) travel; the tail beyond oldLen is fresh. */
  private move(addr: number, oldLen: number, newLen: number, dest: number, keepOld: boolean): void {
    const head = this.pages.get(addr)!;
    const moved: Page[] = [];
    for (let off = 0; off < newLen; off += PAGE_SIZE) {
      moved.push(off < oldLen ? { ...this.pages.get(addr + off)! } : this.freshPage({ ...head, pgoff: head.pgoff + off / PAGE_SIZE }));
    }
    if (keepOld) {
      for (let off = 0; off < oldLen; off += PAGE_SIZE) this.zap(this.pages.get(addr + off)!);
    } else {
      this.unmap(addr, addr + oldLen);
    }
    moved.forEach((p, i) => this.pages.set(dest + i * PAGE_SIZE, p));
  }

  madvise(start: number, len0: number, advice: number): number {
    if (advice !== M.MADV_DONTNEED && advice !== M.MADV_FREE && advice !== M.MADV_WILLNEED) return -EINVAL;
    if (start & (PAGE_SIZE - 1)) return -EINVAL;
    const end = start + alignUp(len0);
    if (end === start) return 0;
    let hole = false;
    for (let a = start; a < end; a += PAGE_SIZE) {
      const p = this.pages.get(a);
      if (p === undefined) {
        hole = true;
        continue;
      }
      if (advice === M.MADV_DONTNEED) {
        this.zap(p);
      } else if (advice === M.MADV_FREE) {
        if (p.shared !== null) return -EINVAL;
        if (p.kind === FRAME && readable(p.prot)) p.lazy = true;
      }
    }
    return hole ? -ENOMEM : 0;
  }

  brkCall(addr: number, nozero: boolean): number {
    if (nozero && !this.brkNozero) {
      this.brkNozero = true;
      for (let a = this.startBrk; a < alignUp(this.brk); a += PAGE_SIZE) {
        const p = this.pages.get(a);
        if (p !== undefined) p.nozero = true;
      }
    }
    if (addr < this.startBrk || addr > TASK_SIZE) return this.brk;
    const newbrk = alignUp(addr);
    const oldbrk = alignUp(this.brk);
    if (newbrk === oldbrk) return (this.brk = addr);
    if (addr <= this.brk) {
      this.unmap(newbrk, oldbrk);
      return (this.brk = addr);
    }
    // Growth keeps a guard page below the next mapping.
    if (!this.rangeFree(oldbrk, newbrk + PAGE_SIZE)) return this.brk;
    for (let a = oldbrk; a < newbrk; a += PAGE_SIZE) {
      this.pages.set(a, this.freshPage({ prot: M.PROT_READ | M.PROT_WRITE, shared: null, nozero: this.brkNozero, account: true, pgoff: a / PAGE_SIZE }));
    }
    return (this.brk = addr);
  }

  /** Reclaim of MADV_FREE pages: clean, present ones go; with one mm and no fork every mark is consumed. */
  reclaim(): void {
    for (const p of this.pages.values()) {
      if (p.lazy && p.kind === FRAME && readable(p.prot)) this.zap(p);
      p.lazy = false;
    }
  }
}

// ---- the kernel side ---------------------------------------------------------------

interface Cfg {
  policy: ZeroPolicyName;
  poison: boolean;
  seed: number;
  numRuns: number;
}

/** Whole-run tallies, so the tests can show the interesting paths were taken. */
interface Tally {
  runs: number;
  ops: number;
  signals: number;
  syscallErrors: number;
  /** Frames learned with unknown bytes: all zero, all poison, other (old bytes). */
  learnedZero: number;
  learnedPoison: number;
  learnedOld: number;
  foreignSeen: number;
  lazyReclaimed: number;
  /** Reads of untouched private pages checked for "one fault, then none". */
  untouchedRereads: number;
  maxVmas: number;
  /** Outcomes by op ("mremap maymove -> moved", "read8 -> SIGSEGV"...), to judge coverage. */
  outcomes: Map<string, number>;
}

const newTally = (): Tally => ({
  runs: 0, ops: 0, signals: 0, syscallErrors: 0, learnedZero: 0, learnedPoison: 0, learnedOld: 0, foreignSeen: 0,
  lazyReclaimed: 0, untouchedRereads: 0, maxVmas: 0, outcomes: new Map(),
});
const note = (t: Tally, key: string): void => {
  t.outcomes.set(key, (t.outcomes.get(key) ?? 0) + 1);
};
const outcome = (r: number, addr?: number): string =>
  r < 0 && r > -4096 ? `-${r}` : addr !== undefined && r !== addr ? "moved" : "ok";

class Mismatch extends Error {}

/** Fill frames with two users' bytes and free them, so reuse has something to leak. */
function warmUp(k: Kernel): void {
  for (const [uid, word] of [[UID, OWN_WORD], [FOREIGN_UID, FOREIGN_WORD]] as const) {
    const t = newTask(k, uid, "warmup");
    const n = 48;
    // MAP_NOZERO: both users declare their frames recyclable, so only the owner check keeps them apart.
    const a = sys(k, NR.mmap2, 0, n * PAGE_SIZE, M.PROT_READ | M.PROT_WRITE, M.MAP_PRIVATE | M.MAP_ANONYMOUS | M.MAP_NOZERO, -1, 0);
    const fill = new Uint8Array(PAGE_SIZE);
    new DataView(fill.buffer).setUint32(0, word, true);
    for (let i = 4; i < PAGE_SIZE; i *= 2) fill.copyWithin(i, 0, i);
    for (let i = 0; i < n; i++) t.mm!.mem.writeBytes(a + i * PAGE_SIZE, fill);
    exitTask(k, t);
  }
}

function runScenario(cfg: Cfg, ops: Op[], tally: Tally): void {
  const k = bootKernel({ policy: cfg.policy, poison: cfg.poison });
  const nframes = k.phys.nframes;
  warmUp(k);
  if (k.pages.freeFrames !== nframes - 1) throw new Mismatch(`warm-up leaked: ${nframes - 1 - k.pages.freeFrames} frames`);
  const t = newTask(k, UID);
  const mm = t.mm!;
  mm.mmapBase = TOP;
  const m = new Model(cfg.policy);
  const trace: string[] = [];
  const faultsNow = (): number => t.counters.k[Kev.FAULT];
  const faults0 = faultsNow();
  let lastFaults = faults0;
  tally.runs++;

  const fail = (msg: string): never => {
    throw new Mismatch(`${msg}\n  after:\n    ${trace.join("\n    ")}`);
  };
  const eq = (actual: unknown, expected: unknown, what: string): void => {
    if (actual !== expected) fail(`${what}: kernel ${String(actual)}, model ${String(expected)}`);
  };

  /** Run user code; a fatal signal comes back with its address. */
  const user = <T>(fn: () => T): { value?: T; fault: Fault | null } => {
    const r = runUser(k, t, fn);
    if (r.signal !== undefined) {
      tally.signals++;
      note(tally, `${label} -> signal ${r.signal}`);
      return { fault: { sig: r.signal, addr: r.addr! } };
    }
    note(tally, `${label} -> ok`);
    return { value: r.value, fault: null };
  };
  const eqFault = (actual: Fault | null, expected: Fault | null, what: string): void => {
    const s = (f: Fault | null): string => (f === null ? "no signal" : `signal ${f.sig} at ${wa(f.addr)}`);
    if (s(actual) !== s(expected)) fail(`${what}: kernel ${s(actual)}, model ${s(expected)}`);
  };
  const checkFaults = (what: string): void => {
    const now = faultsNow();
    if (now < lastFaults) fail(`${what}: fault counter went down`);
    lastFaults = now;
    eq(now - faults0, m.faults, `${what}: faults counted`);
  };
  const sysc = (nr: number, ...args: number[]): number => {
    k.switchTo(t);
    const r = sys(k, nr, ...args);
    if (r < 0) tally.syscallErrors++;
    note(tally, `${label} -> ${outcome(r, nr === NR.mremap || nr === NR.mmap2 ? args[0] : undefined)}`);
    return r;
  };

  let label = "";
  const apply = (o: Op): void => {
    label = o.op === "mremap" ? `mremap ${o.mode}` : o.op === "mmap" ? `mmap ${o.place}` : o.op === "madvise" ? `madvise ${o.advice}` : o.op === "brk" ? o.call : o.op;
    const at = (page: number, off: number): number => BASE + page * PAGE_SIZE + off;
    switch (o.op) {
      case "mmap": {
        const addr = o.place === "any" ? 0 : at(o.page, o.place === "hint" ? o.off * 0x11 : o.off);
        const len = o.npages === 0 ? 0 : o.npages * PAGE_SIZE + o.lenAdj;
        const flags =
          (o.shared ? M.MAP_SHARED : M.MAP_PRIVATE) | M.MAP_ANONYMOUS |
          (o.place === "fixed" ? M.MAP_FIXED : 0) | (o.place === "noreplace" ? M.MAP_FIXED_NOREPLACE : 0) |
          (o.populate ? M.MAP_POPULATE : 0) | (o.nozero ? M.MAP_NOZERO : 0);
        const exp = m.mmap(addr, len, PROTS[o.prot], flags);
        const r = sysc(NR.mmap2, addr, len, PROTS[o.prot], flags, -1, 0);
        eq(r, exp, "mmap2 result");
        if (r >= 0 && o.shared) m.objs[m.objs.length - 1].kobj = mm.vmas.findExact(r)?.obj ?? null;
        break;
      }
      case "munmap": {
        const len = o.npages === 0 ? 0 : o.npages * PAGE_SIZE + o.lenAdj;
        eq(sysc(NR.munmap, at(o.page, o.off), len), m.munmap(at(o.page, o.off), len), "munmap result");
        break;
      }
      case "mprotect": {
        const a = at(o.page, o.off);
        eq(sysc(NR.mprotect, a, o.npages * PAGE_SIZE, PROTS[o.prot]), m.mprotect(a, o.npages * PAGE_SIZE, PROTS[o.prot]), "mprotect result");
        break;
      }
      case "mremap": {
        const flags = {
          none: 0,
          maymove: M.MREMAP_MAYMOVE,
          fixed: M.MREMAP_MAYMOVE | M.MREMAP_FIXED,
          dontunmap: M.MREMAP_MAYMOVE | M.MREMAP_DONTUNMAP,
          "dontunmap+fixed": M.MREMAP_MAYMOVE | M.MREMAP_DONTUNMAP | M.MREMAP_FIXED,
          "fixed-only": M.MREMAP_FIXED,
        }[o.mode];
        const a = at(o.page, o.off);
        const oldLen = o.oldPages * PAGE_SIZE;
        const newLen = remapNewPages(o) * PAGE_SIZE;
        const na = flags & M.MREMAP_FIXED ? at(o.newPage, 0) : 0;
        const exp = m.mremap(a, oldLen, newLen, flags, na);
        eq(sysc(NR.mremap, a, oldLen, newLen, flags, na), exp, "mremap result");
        break;
      }
      case "madvise": {
        const a = at(o.page, o.off);
        const exp = m.madvise(a, o.npages * PAGE_SIZE, ADVICE[o.advice]);
        eq(sysc(NR.madvise, a, o.npages * PAGE_SIZE, ADVICE[o.advice]), exp, "madvise result");
        break;
      }
      case "brk": {
        const a = m.startBrk + o.pages * PAGE_SIZE + o.off;
        if (o.call === "brk") {
          eq(sysc(NR.brk, a), m.brkCall(a, false), "brk result");
        } else if (o.call === "brk2-badflags") {
          eq(sysc(NR.brk2, a, 2), -EINVAL, "brk2 result");
        } else {
          const nozero = o.call === "brk2-nozero";
          eq(sysc(NR.brk2, a, nozero ? M.BRK_NOZERO : 0), m.brkCall(a, nozero), "brk2 result");
        }
        eq(mm.brk, m.brk, "mm.brk");
        break;
      }
      case "write8": {
        const a = at(o.page, o.off);
        const v = o.val & 0xff;
        const exp = m.access(a, 1, true, () => v);
        eqFault(user(() => mm.mem.write8(a, v)).fault, exp.fault, "write8");
        break;
      }
      case "write32": {
        const a = at(o.page, o.off);
        const exp = m.access(a, 4, true, (i) => (o.val >>> (8 * i)) & 0xff);
        eqFault(user(() => mm.mem.write32(a, o.val)).fault, exp.fault, "write32");
        break;
      }
      case "memset": {
        const a = at(o.page, o.off);
        const exp = m.access(a, o.n, true, () => o.val);
        eqFault(user(() => mm.mem.memset(a, o.val, o.n)).fault, exp.fault, "memset");
        break;
      }
      case "read8": {
        const a = at(o.page, o.off);
        const exp = m.access(a, 1, false);
        const r = user(() => mm.mem.read8(a));
        eqFault(r.fault, exp.fault, "read8");
        if (r.fault === null) eq(r.value, exp.out[0], `read8 ${wa(a)}`);
        break;
      }
      case "read32": {
        const a = at(o.page, o.off);
        const exp = m.access(a, 4, false);
        const r = user(() => mm.mem.read32(a));
        eqFault(r.fault, exp.fault, "read32");
        if (r.fault === null) eq(r.value, new DataView(exp.out.buffer).getInt32(0, true), `read32 ${wa(a)}`);
        break;
      }
      case "reread": {
        // The same byte twice: an untouched readable private page costs one
        // fault (the zero page goes in), the second read none (TLB or walk).
        const a = at(o.page, o.off);
        const p = m.pages.get(pageDown(a));
        const untouched = p !== undefined && p.shared === null && p.kind === NONE && readable(p.prot);
        if (untouched) tally.untouchedRereads++;
        for (let pass = 0; pass < 2; pass++) {
          const before = faultsNow();
          const exp = m.access(a, 1, false);
          const r = user(() => mm.mem.read8(a));
          eqFault(r.fault, exp.fault, `reread pass ${pass}`);
          if (r.fault === null) eq(r.value, exp.out[0], `reread ${wa(a)} pass ${pass}`);
          if (untouched) eq(faultsNow() - before, pass === 0 ? 1 : 0, `faults of read ${pass + 1} of an untouched page`);
          checkFaults(`reread pass ${pass}`);
        }
        break;
      }
      case "readBytes": {
        const a = at(o.page, o.off);
        const exp = m.access(a, o.n, false);
        const r = user(() => mm.mem.readBytes(a, o.n));
        eqFault(r.fault, exp.fault, "readBytes");
        if (r.fault === null) {
          const got = r.value!;
          const i = got.findIndex((b, j) => b !== exp.out[j]);
          if (i >= 0) fail(`readBytes: byte at ${wa(a + i)} is ${hex(got[i])}, model ${hex(exp.out[i])}`);
        }
        break;
      }
      case "reclaim": {
        k.switchTo(t);
        const before = [...m.pages.values()].filter((p) => p.lazy && p.kind === FRAME && readable(p.prot)).length;
        m.reclaim();
        eq(k.reclaimLazyfree(), before, "pages reclaimed");
        tally.lazyReclaimed += before;
        break;
      }
    }
  };

  // ---- invariants after every step ----------------------------------------------------

  const i32 = k.phys.i32;
  const u8 = k.phys.u8;
  const fr = k.frames;
  const frameBytes = (f: number): Uint8Array => u8.subarray(f * PAGE_SIZE, (f + 1) * PAGE_SIZE);

  const check = (): void => {
    // Reclaim under memory pressure may drop clean MADV_FREE pages at any
    // time: the model accepts it (contents then read as zero) when it happened.
    for (const [a, p] of m.pages) {
      if (p.lazy && p.kind === FRAME && !pteHasFrame(mm.pte(a))) m.zap(p);
    }

    // Learn the bytes of frames handed out uncleared.
    for (const [a, p] of m.pages) {
      if (p.known === null) continue;
      const pte = mm.pte(a);
      if (!pteHasFrame(pte) || pte & PTE_SPECIAL) fail(`${wa(a)}: model has a fresh frame, PTE ${hex(pte)}`);
      const phys = frameBytes(pte >>> 12);
      let zero = true;
      let poison = true;
      for (let i = 0; i < PAGE_SIZE; i++) {
        if (p.known[i]) continue;
        p.data![i] = phys[i];
        if (phys[i] !== 0) zero = false;
        if (phys[i] !== POISON_BYTE) poison = false;
      }
      for (let i = 0; i < PAGE_SIZE; i += 4) {
        if (p.known[i] | p.known[i + 1] | p.known[i + 2] | p.known[i + 3]) continue;
        if ((phys[i] | (phys[i + 1] << 8) | (phys[i + 2] << 16) | (phys[i + 3] << 24)) >>> 0 !== FOREIGN_WORD) continue;
        tally.foreignSeen++;
        if (cfg.policy !== "uninitialized") fail(`${wa(a)}: another user's bytes at offset ${hex(i)} in a fresh frame`);
        break;
      }
      if (cfg.poison && !zero && !poison) fail(`${wa(a)}: poison mode handed out a frame neither cleared nor poisoned`);
      if (zero) tally.learnedZero++;
      else if (poison) tally.learnedPoison++;
      else tally.learnedOld++;
      p.known = null;
    }

    // The VMA list on its own: sorted, aligned, disjoint, nothing left to merge.
    const vl = mm.vmas.list;
    tally.maxVmas = Math.max(tally.maxVmas, vl.length);
    for (let i = 0; i < vl.length; i++) {
      const v = vl[i];
      if (v.start & (PAGE_SIZE - 1) || v.end & (PAGE_SIZE - 1) || v.start >= v.end) fail(`bad VMA [${hex(v.start)}, ${hex(v.end)})`);
      if (i > 0 && vl[i - 1].end > v.start) fail(`VMAs overlap or are unsorted at ${hex(v.start)}`);
      if (i > 0 && vl[i - 1].canMergeWith(v)) fail(`VMAs [${wa(vl[i - 1].start)}, ${wa(v.start)}) and [${wa(v.start)}, ${wa(v.end)}) should have merged`);
    }
    const covered = vl.reduce((n, v) => n + v.pages, 0);
    if (mm.totalVm !== covered) fail(`total_vm ${mm.totalVm} pages, but the VMAs cover ${covered}`);
    // ... and exactly the partition the model's pages imply.
    const runs: { start: number; end: number; p: Page }[] = [];
    for (const a of [...m.pages.keys()].sort((x, y) => x - y)) {
      const p = m.pages.get(a)!;
      const last = runs[runs.length - 1];
      if (last !== undefined && last.end === a && mergeable(m.pages.get(a - PAGE_SIZE)!, p)) last.end += PAGE_SIZE;
      else runs.push({ start: a, end: a + PAGE_SIZE, p });
    }
    const vmaText = (s: number, e: number, f: number, pg: number): string => `[${wa(s)}, ${wa(e)}) flags ${hex(f)} pgoff ${hex(pg)}`;
    eq(vl.length, runs.length, `VMA count (kernel ${vl.map((v) => vmaText(v.start, v.end, v.flags, v.pgoff)).join(" ")}; model ${runs.map((r) => vmaText(r.start, r.end, vmFlagsOf(r.p), r.p.pgoff)).join(" ")})`);
    runs.forEach((r, i) => {
      const v = vl[i];
      const want = vmaText(r.start, r.end, vmFlagsOf(r.p), r.p.pgoff);
      if (vmaText(v.start, v.end, v.flags, v.pgoff) !== want) fail(`VMA ${i}: kernel ${vmaText(v.start, v.end, v.flags, v.pgoff)}, model ${want}`);
      if (v.obj !== (r.p.shared?.kobj ?? null)) fail(`VMA ${want}: wrong backing object`);
    });

    // Every PTE: it must belong to a model page and agree with it.
    let ptes = 0;
    let pdes = 0;
    let privFrames = 0;
    let sharedMapped = 0;
    const ptesOfFrame = new Map<number, number>();
    for (let d = 0; d < TASK_SIZE >>> 22; d++) {
      const pde = i32[(mm.pgd << 10) | d];
      if (!(pde & PTE_P)) continue;
      pdes++;
      for (let j = 0; j < 1024; j++) {
        const pte = i32[((pde >>> 12) << 10) | j];
        if (pte === 0) continue;
        const a = d * 0x400000 + j * PAGE_SIZE;
        const p = m.pages.get(a);
        if (!pteHasFrame(pte)) fail(`${wa(a)}: stray PTE bits ${hex(pte)}`);
        if (p === undefined || p.kind === NONE) fail(`${wa(a)}: PTE ${hex(pte)} where the model has ${p === undefined ? "no mapping" : "no page"}`);
        ptes++;
        const f = pte >>> 12;
        const what = `${wa(a)} PTE ${hex(pte)}`;
        eq((pte & PTE_P) !== 0, readable(p!.prot), `${what}: present`);
        eq((pte & PTE_RW) !== 0, p!.rw, `${what}: writable`);
        if (p!.kind === ZERO) {
          if (!(pte & PTE_SPECIAL) || f !== k.zeroFrame) fail(`${what}: expected the zero page`);
          continue;
        }
        if (pte & PTE_SPECIAL || f === k.zeroFrame) fail(`${what}: the zero page where the model has a frame`);
        ptesOfFrame.set(f, (ptesOfFrame.get(f) ?? 0) + 1);
        if (p!.shared === null) {
          privFrames++;
          if (p!.lazy && pte & PTE_D) fail(`${what}: MADV_FREE page is dirty`);
          if (p!.lazy && !mm.lazyfree.has(a)) fail(`${what}: MADV_FREE page not on the lazyfree list`);
          if (!(fr.flags[f] & PG_ANON) || fr.count[f] !== 1 || fr.mapcount[f] !== 1) {
            fail(`${what}: private frame flags ${hex(fr.flags[f])} count ${fr.count[f]} mapcount ${fr.mapcount[f]}`);
          }
          const b = frameBytes(f);
          if (!Buffer.from(b.buffer, b.byteOffset, PAGE_SIZE).equals(p!.data!)) {
            const i = b.findIndex((x, n) => x !== p!.data![n]);
            fail(`${wa(a + i)}: frame holds ${hex(b[i])}, model ${hex(p!.data![i])}`);
          }
        } else {
          sharedMapped++;
          eq(f, p!.shared.kobj!.getPage(p!.pgoff), `${what}: shared page frame`);
        }
      }
    }
    let modelPtes = 0;
    for (const p of m.pages.values()) if (p.kind !== NONE) modelPtes++;
    eq(ptes, modelPtes, "PTEs holding a page");
    eq(mm.rssAnon, privFrames, "rssAnon");
    eq(mm.rssShmem, sharedMapped, "rssShmem");
    eq(mm.ptFrames, 1 + pdes, "page-table frames");
    eq(mm.brk, m.brk, "brk");

    // Shared objects still mapped somewhere: their pages, contents and references.
    const live = new Set<SharedObj>();
    for (const p of m.pages.values()) if (p.shared !== null) live.add(p.shared);
    let shmemFrames = 0;
    for (const obj of live) {
      obj.pages.forEach((data, idx) => {
        if (data === null) return;
        shmemFrames++;
        const f = obj.kobj!.getPage(idx);
        if (!(fr.flags[f] & PG_SHMEM)) fail(`shared object ${obj.id} page ${idx}: frame ${f} not PG_SHMEM`);
        const maps = ptesOfFrame.get(f) ?? 0;
        if (fr.count[f] !== 1 + maps || fr.mapcount[f] !== maps) {
          fail(`shared object ${obj.id} page ${idx}: count ${fr.count[f]} mapcount ${fr.mapcount[f]}, mapped ${maps} times`);
        }
        const b = frameBytes(f);
        if (!Buffer.from(b.buffer, b.byteOffset, PAGE_SIZE).equals(data)) {
          const i = b.findIndex((x, n) => x !== data[n]);
          fail(`shared object ${obj.id} page ${idx} offset ${hex(i)}: frame holds ${hex(b[i])}, model ${hex(data[i])}`);
        }
      });
    }

    // Frame conservation, counted three ways.
    let inUse = 0;
    let pcp = 0;
    let buddy = 0;
    for (let f = 0; f < nframes; f++) {
      const fl = fr.flags[f];
      if (fr.count[f] !== 0) {
        inUse++;
        if (fl & (PG_BUDDY | PG_PCP)) fail(`frame ${f} in use (count ${fr.count[f]}) but on a free list`);
      }
      if (fl & PG_PCP) pcp++;
      if (fl & PG_BUDDY) buddy += 1 << fr.order[f];
    }
    eq(inUse + k.pages.freeFrames, nframes, "frames in use + free frames");
    eq(buddy, k.pages.buddyFrames(), "frames in buddy blocks");
    eq(pcp, k.pages.freeFrames - k.pages.buddyFrames(), "frames on the per-cpu list");
    eq(inUse, 1 + mm.ptFrames + privFrames + shmemFrames, "frames in use (zero page + page tables + private + shmem)");
    eq(fr.count[k.zeroFrame], 1, "zero page count");
    if (!k.phys.frameIsZero(k.zeroFrame)) fail("the zero page was written");
  };

  check();
  ops.forEach((abstract, i) => {
    const o = m.concretize(abstract);
    trace.push(`#${i} ${fmt(o)}`);
    tally.ops++;
    apply(o);
    checkFaults(fmt(o));
    check();
  });

  exitTask(k, t);
  if (k.pages.freeFrames !== nframes - 1) fail(`exit leaked ${nframes - 1 - k.pages.freeFrames} frames`);
  for (let f = 0; f < nframes; f++) {
    if (f !== k.zeroFrame && fr.count[f] !== 0) fail(`exit: frame ${f} still has count ${fr.count[f]}`);
  }
}

// ---- the runs ----------------------------------------------------------------------

const opsArb = fc.array(opArb, { minLength: 1, maxLength: 80, size: "max" });

function property(cfg: Cfg): Tally {
  const tally = newTally();
  fc.assert(
    fc.property(opsArb, (ops) => {
      runScenario(cfg, ops, tally);
    }),
    { seed: cfg.seed, numRuns: cfg.numRuns },
  );
  if (process.env.MMPROP_DEBUG) {
    console.log(cfg.policy, cfg.poison ? "poison" : "", JSON.stringify({ ...tally, outcomes: undefined }));
    console.log([...tally.outcomes].sort().map(([key, n]) => `  ${key}: ${n}`).join("\n"));
  }
  return tally;
}

describe("mm property: regressions the model found", () => {
  it("mremap(old_len 0, MAYMOVE) of a shared mapping duplicates it and leaves the source VMA whole", () => {
    const k = bootKernel();
    const t = newTask(k);
    const mm = t.mm!;
    const a = sys(k, NR.mmap2, 0, 2 * PAGE_SIZE, M.PROT_READ | M.PROT_WRITE, M.MAP_SHARED | M.MAP_ANONYMOUS, -1, 0);
    const dup = sys(k, NR.mremap, a + PAGE_SIZE, 0, PAGE_SIZE, M.MREMAP_MAYMOVE, 0);
    expect(dup).toBeGreaterThan(0);
    const src = mm.vmas.findExact(a)!;
    expect([src.start, src.end]).toEqual([a, a + 2 * PAGE_SIZE]); // was split at a + PAGE_SIZE
    mm.mem.write32(a + PAGE_SIZE + 8, 0x1234abcd);
    expect(mm.mem.read32(dup + 8)).toBe(0x1234abcd); // the duplicate maps the same page
    exitTask(k, t);
    expect(k.pages.freeFrames).toBe(k.phys.nframes - 1);
  });
});

describe("mm property: random mmap/munmap/mprotect/mremap/madvise/brk and accesses against a page model", () => {
  it("nozero policy: NOZERO frames may show the same user's old bytes, never another's", () => {
    const t = property({ policy: "nozero", poison: false, seed: 0x6e6f7a, numRuns: 150 });
    expect(t.signals).toBeGreaterThan(0);
    expect(t.syscallErrors).toBeGreaterThan(0);
    expect(t.learnedOld).toBeGreaterThan(0); // uncleared reuse really happened
    expect(t.lazyReclaimed).toBeGreaterThan(0);
    expect(t.untouchedRereads).toBeGreaterThan(0);
  });

  it("stock policy: every fresh page reads as zeros, MAP_NOZERO or not", () => {
    const t = property({ policy: "stock", poison: false, seed: 0x73746f, numRuns: 120 });
    expect(t.learnedZero + t.learnedPoison + t.learnedOld).toBe(0);
  });

  it("nozero policy with poison: an uncleared handout is all poison, and still only the same user's", () => {
    const t = property({ policy: "nozero", poison: true, seed: 0x706f69, numRuns: 100 });
    expect(t.learnedPoison).toBeGreaterThan(0);
    expect(t.learnedOld).toBe(0);
  });

  it("init_on_free policy: frames cleared at free read as zeros", () => {
    property({ policy: "init_on_free", poison: false, seed: 0x696f66, numRuns: 50 });
  });

  it("uninitialized control: the model's leak check does see another user's bytes", () => {
    const t = property({ policy: "uninitialized", poison: false, seed: 0x756e69, numRuns: 40 });
    expect(t.foreignSeen).toBeGreaterThan(0);
  });
});
