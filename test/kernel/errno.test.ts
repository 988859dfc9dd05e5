// The errno table: every invalid-argument class of the mm syscalls, answered
// by our kernel and by Linux.
//
// Ground truth is test/native/errno_probe_i386.expected, the recorded output of
// test/native/errno_probe_i386.c: a freestanding i386 program that issues each
// case with int $0x80 on the build machine's Linux 6.18 as uid 65534 (re-run it
// with test/native/run-errno-probe.sh). This file reads that record at test
// time and replays every case here with the probe's own setup, in the probe's
// order, in one address space:
//   - a task of uid 65534 (mmap_min_addr applies, no CAP_SYS_RAWIO);
//   - m:  a 4-page private anonymous RW mapping (the anchor);
//   - sh: a 2-page shared anonymous RW mapping;
//   - holed(): a fresh 4-page mapping with its third page unmapped, made right
//     before the call that uses it.
// Errors compare as negative errno, successes as "ok" (addresses differ between
// kernels), brk as "unchanged"/"moved" -- exactly what the probe prints.
//
// A recorded case the TS side does not know fails the test: a new probe case
// needs a replay here.
//
// TASK_SIZE: the probe runs as a compat (32-bit) task on a 64-bit kernel, where
// TASK_SIZE is IA32_PAGE_OFFSET = 0xffffe000 (arch/x86/include/asm/
// page_64_types.h); ours is i386's 0xc0000000. The probe's "past the top"
// literals (0xfffff000, 0xfff00000, lengths near 4 GiB) are above both, so the
// replay uses them unchanged and they test the same class. The block "the
// probe's TASK_SIZE classes at the i386 boundary" repeats those classes with
// literals at our 0xc0000000 (and a success just below it).
//
// After the replay come the rules the probe cannot express (MAP_NOZERO, brk2,
// i386-only overflow, success paths), asserted from the man pages, the kernel
// source and the 2007 patch.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import {
  EAGAIN, EEXIST, EFAULT, EINVAL, ENOMEM, ENOSYS, EOVERFLOW, EPERM,
} from "../../kernel/errno.ts";
import type { Kernel } from "../../kernel/kernel.ts";
import {
  BRK_NOZERO, MADV_DONTFORK, MADV_DONTNEED, MADV_DONTNEED_LOCKED, MADV_FREE, MADV_POPULATE_WRITE, MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_GROWSDOWN,
  MAP_HUGETLB, MAP_NOZERO, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, MREMAP_DONTUNMAP, MREMAP_FIXED,
  MREMAP_MAYMOVE, PROT_EXEC, PROT_GROWSDOWN, PROT_GROWSUP, PROT_READ, PROT_WRITE,
} from "../../kernel/mman.ts";
import { MAX_MAP_COUNT, MMAP_BASE, MMAP_MIN_ADDR, PAGE_SIZE, TASK_SIZE } from "../../kernel/param.ts";
import { NR } from "../../kernel/syscall.ts";
import type { Task } from "../../kernel/task.ts";
import { VM_NOZERO, VM_READ, VM_WRITE } from "../../kernel/vma.ts";
import { TEST_BRK, bootKernel, newTask, runUser, sys } from "../helpers/boot.ts";

const NATIVE = new URL("../native/", import.meta.url);
const EXPECTED_PATH = fileURLToPath(new URL("errno_probe_i386.expected", NATIVE));
const SOURCE_PATH = fileURLToPath(new URL("errno_probe_i386.c", NATIVE));

// ---- the record -----------------------------------------------------------------

interface Recorded {
  readonly name: string;
  readonly result: string;
}

/** Parse "case result" lines; anything else is a broken record. */
function parseExpected(text: string): Recorded[] {
  const out: Recorded[] = [];
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "") continue;
    const m = /^([a-z0-9_]+\.[a-z0-9_]+) (-\d+|ok|unchanged|moved)$/.exec(line);
    if (m === null) throw new Error(`errno_probe_i386.expected:${i + 1}: cannot parse ${JSON.stringify(raw)}`);
    out.push({ name: m[1], result: m[2] });
  }
  return out;
}

/** The case names the probe source prints, in program order. */
function casesInSource(src: string): string[] {
  const names: string[] = [];
  for (const m of src.matchAll(/report\("([^"]+)"|out\("(brk\.[a-z0-9_]+) "\)/g)) names.push(m[1] ?? m[2]);
  return names;
}

const RECORD = parseExpected(readFileSync(EXPECTED_PATH, "utf8"));
const SOURCE_CASES = casesInSource(readFileSync(SOURCE_PATH, "utf8"));

// ---- the probe's setup, mirrored ----------------------------------------------------------

/** The probe's constants. */
const PR = PROT_READ | PROT_WRITE; // 3
const PRIV = MAP_PRIVATE | MAP_ANONYMOUS; // 0x22
const SHAN = MAP_SHARED | MAP_ANONYMOUS; // 0x21
/** Free in both layouts: below our mmap area and Linux's, above the heap. */
const UNMAPPED = 0x20000000;
const NOBODY = 65534;

/** What the probe prints for a raw result: -errno, or "ok" for anything else (a long, as in C). */
function report(r: number): string {
  const v = r | 0;
  return v < 0 && v > -4096 ? String(v) : "ok";
}

class Probe {
  readonly k: Kernel;
  readonly t: Task;
  /** The 4-page anchor mapping. */
  readonly m: number;
  /** The 2-page shared anonymous mapping. */
  readonly sh: number;
  /** The break before the brk cases (sc(SYS_brk, 0)). */
  b0 = 0;

  constructor(uid = NOBODY) {
    this.k = bootKernel();
    this.t = newTask(this.k, uid, "errno_probe");
    this.m = this.mmap2(0, 0x4000, PR, PRIV, -1, 0);
    this.sh = this.mmap2(0, 0x2000, PR, SHAN, -1, 0);
    if (report(this.m) !== "ok" || report(this.sh) !== "ok") throw new Error("probe setup failed");
  }

  sc(nr: number, ...args: number[]): number {
    this.k.switchTo(this.t);
    return sys(this.k, nr, ...args);
  }

  mmap2(a: number, l: number, p: number, f: number, fd: number, off: number): number {
    return this.sc(NR.mmap2, a, l, p, f, fd, off);
  }

  /** A fresh 4-page mapping with its third page unmapped. */
  holed(): number {
    const h = this.mmap2(0, 0x4000, PR, PRIV, -1, 0);
    this.sc(NR.munmap, h + 0x2000, 0x1000);
    return h;
  }

  /** The probe's brk lines: did brk(addr) leave the break at b0? */
  brkMoves(addr: number): string {
    return this.sc(NR.brk, addr) === this.b0 ? "unchanged" : "moved";
  }
}

interface ProbeCase {
  /** The invalid-argument class, for the test name. */
  readonly cls: string;
  /** The same call as the probe's; returns what the probe prints. */
  readonly run: (p: Probe) => string;
}

/** Every case of errno_probe_i386.c, in its order, with the same arguments. */
const CASES: Readonly<Record<string, ProbeCase>> = {
  // mmap2(addr, len, prot, flags, fd, pgoff)
  "mmap.len0": { cls: "zero length", run: (p) => report(p.mmap2(0, 0, PR, PRIV, -1, 0)) },
  "mmap.notype": { cls: "no MAP_SHARED/MAP_PRIVATE type", run: (p) => report(p.mmap2(0, 0x1000, PR, 0x20, -1, 0)) },
  "mmap.shared_validate_anon": { cls: "MAP_SHARED_VALIDATE|MAP_ANONYMOUS", run: (p) => report(p.mmap2(0, 0x1000, PR, 0x23, -1, 0)) },
  "mmap.fixed_unaligned": { cls: "MAP_FIXED at an unaligned address", run: (p) => report(p.mmap2(0x10000001, 0x1000, PR, PRIV | 0x10, -1, 0)) },
  // 0xfffff000 is past the compat TASK_SIZE (0xffffe000) and past ours (0xc0000000).
  "mmap.fixed_past_top": { cls: "MAP_FIXED past the top of user space", run: (p) => report(p.mmap2(0xfffff000, 0x2000, PR, PRIV | 0x10, -1, 0)) },
  "mmap.len_wraps": { cls: "length that page-aligns to 0 (wraps)", run: (p) => report(p.mmap2(0, 0xfffff001, PR, PRIV, -1, 0)) },
  // 0xfffff000 exceeds both TASK_SIZEs.
  "mmap.len_too_big": { cls: "length larger than user space", run: (p) => report(p.mmap2(0, 0xfffff000, PR, PRIV, -1, 0)) },
  "mmap.badfd": { cls: "file mapping with fd -1", run: (p) => report(p.mmap2(0, 0x1000, PR, 0x02, -1, 0)) },
  "mmap.badfd_nozero": { cls: "file mapping with fd -1 and bit 26 (EBADF first)", run: (p) => report(p.mmap2(0, 0x1000, PR, 0x02 | 0x04000000, -1, 0)) },
  "mmap.noreplace_over": { cls: "MAP_FIXED_NOREPLACE over a mapping", run: (p) => report(p.mmap2(p.m, 0x1000, PR, PRIV | 0x100000, -1, 0)) },
  "mmap.fixed_below_min": { cls: "MAP_FIXED below mmap_min_addr, unprivileged", run: (p) => report(p.mmap2(0, 0x1000, PR, PRIV | 0x10, -1, 0)) },
  "mmap.hugetlb": { cls: "MAP_HUGETLB with no huge pages reserved", run: (p) => report(p.mmap2(0, 0x200000, PR, PRIV | 0x40000, -1, 0)) },
  "mmap.hugetlb_bit26": { cls: "MAP_HUGETLB with bit 26 (huge size 2^1)", run: (p) => report(p.mmap2(0, 0x200000, PR, PRIV | 0x40000 | 0x04000000, -1, 0)) },
  "mmap.priv_bit26": { cls: "bit 26 (MAP_NOZERO) on private anonymous", run: (p) => report(p.mmap2(0, 0x1000, PR, PRIV | 0x04000000, -1, 0)) },
  "mmap.shared_growsdown": { cls: "MAP_GROWSDOWN on shared anonymous", run: (p) => report(p.mmap2(0, 0x1000, PR, SHAN | 0x100, -1, 0)) },
  "mmap.unknown_prot": { cls: "unknown PROT bit (ignored)", run: (p) => report(p.mmap2(0, 0x1000, 0x10 | PR, PRIV, -1, 0)) },

  // munmap(addr, len)
  "munmap.unaligned": { cls: "unaligned address", run: (p) => report(p.sc(NR.munmap, p.m + 1, 0x1000)) },
  "munmap.len0": { cls: "zero length", run: (p) => report(p.sc(NR.munmap, p.m, 0)) },
  "munmap.past_top": { cls: "address past the top of user space", run: (p) => report(p.sc(NR.munmap, 0xfffff000, 0x1000)) },
  "munmap.wraps": { cls: "range running past the top", run: (p) => report(p.sc(NR.munmap, 0x10000000, 0xf8000000)) },
  "munmap.unmapped": { cls: "range with nothing mapped (not an error)", run: (p) => report(p.sc(NR.munmap, UNMAPPED, 0x1000)) },

  // mprotect(addr, len, prot)
  "mprotect.unaligned": { cls: "unaligned address", run: (p) => report(p.sc(NR.mprotect, p.m + 1, 0x1000, 1)) },
  "mprotect.len0": { cls: "zero length (no-op)", run: (p) => report(p.sc(NR.mprotect, p.m, 0, 1)) },
  "mprotect.unmapped": { cls: "unmapped range", run: (p) => report(p.sc(NR.mprotect, UNMAPPED, 0x1000, 1)) },
  "mprotect.hole": { cls: "range with a hole", run: (p) => report(p.sc(NR.mprotect, p.holed(), 0x4000, 1)) },
  "mprotect.badprot": { cls: "unknown PROT bit", run: (p) => report(p.sc(NR.mprotect, p.m, 0x1000, 0x10)) },
  "mprotect.growsdown_and_up": { cls: "PROT_GROWSDOWN|PROT_GROWSUP", run: (p) => report(p.sc(NR.mprotect, p.m, 0x1000, 0x03000001)) },
  "mprotect.growsdown_plain": { cls: "PROT_GROWSDOWN on a non-growsdown VMA", run: (p) => report(p.sc(NR.mprotect, p.m, 0x1000, 0x01000001)) },
  "mprotect.len_wraps": { cls: "length that page-aligns to 0 (wraps)", run: (p) => report(p.sc(NR.mprotect, p.m, 0xffffffff, 1)) },

  // mremap(old, old_len, new_len, flags, new_addr)
  "mremap.badflags": { cls: "unknown flag", run: (p) => report(p.sc(NR.mremap, p.m, 0x1000, 0x1000, 8, 0)) },
  "mremap.fixed_no_maymove": { cls: "MREMAP_FIXED without MREMAP_MAYMOVE", run: (p) => report(p.sc(NR.mremap, p.m, 0x1000, 0x1000, 2, 0x30000000)) },
  "mremap.dontunmap_sizes": { cls: "MREMAP_DONTUNMAP with old_len != new_len", run: (p) => report(p.sc(NR.mremap, p.m, 0x1000, 0x2000, 5, 0)) },
  "mremap.unaligned": { cls: "unaligned old address", run: (p) => report(p.sc(NR.mremap, p.m + 1, 0x1000, 0x2000, 1, 0)) },
  "mremap.newlen0": { cls: "zero new length", run: (p) => report(p.sc(NR.mremap, p.m, 0x1000, 0, 1, 0)) },
  "mremap.unmapped": { cls: "unmapped old address", run: (p) => report(p.sc(NR.mremap, UNMAPPED, 0x1000, 0x2000, 1, 0)) },
  "mremap.oldlen_past_vma": { cls: "old range running past its VMA", run: (p) => report(p.sc(NR.mremap, p.m, 0x5000, 0x6000, 1, 0)) },
  "mremap.grow_blocked": { cls: "growth blocked in place, no MREMAP_MAYMOVE", run: (p) => report(p.sc(NR.mremap, p.m, 0x1000, 0x2000, 0, 0)) },
  "mremap.fixed_overlap": { cls: "MREMAP_FIXED target overlapping the source", run: (p) => report(p.sc(NR.mremap, p.m, 0x2000, 0x2000, 3, p.m + 0x1000)) },
  "mremap.fixed_unaligned": { cls: "MREMAP_FIXED at an unaligned address", run: (p) => report(p.sc(NR.mremap, p.m, 0x1000, 0x1000, 3, 0x30000001)) },
  "mremap.oldlen0_private": { cls: "old_len 0 on a private mapping", run: (p) => report(p.sc(NR.mremap, p.m, 0, 0x1000, 1, 0)) },
  "mremap.shrink_unmapped": { cls: "shrink of an unmapped range", run: (p) => report(p.sc(NR.mremap, UNMAPPED, 0x2000, 0x1000, 0, 0)) },

  // madvise(addr, len, advice)
  "madvise.badadvice": { cls: "unknown advice", run: (p) => report(p.sc(NR.madvise, p.m, 0x1000, 999)) },
  "madvise.unaligned": { cls: "unaligned address", run: (p) => report(p.sc(NR.madvise, p.m + 1, 0x1000, 4)) },
  "madvise.len0": { cls: "zero length (no-op)", run: (p) => report(p.sc(NR.madvise, p.m, 0, 4)) },
  "madvise.unmapped": { cls: "unmapped range", run: (p) => report(p.sc(NR.madvise, UNMAPPED, 0x1000, 4)) },
  "madvise.hole": { cls: "range with a hole", run: (p) => report(p.sc(NR.madvise, p.holed(), 0x4000, 4)) },
  "madvise.free_shared": { cls: "MADV_FREE on shared anonymous", run: (p) => report(p.sc(NR.madvise, p.sh, 0x1000, 8)) },
  "madvise.len_wraps": { cls: "length that page-aligns to 0 (wraps)", run: (p) => report(p.sc(NR.madvise, p.m, 0xffffffff, 4)) },
  "madvise.wipeonfork_shared": { cls: "MADV_WIPEONFORK on shared anonymous", run: (p) => report(p.sc(NR.madvise, p.sh, 0x1000, 18)) },
  "madvise.cold": { cls: "MADV_COLD (a hint)", run: (p) => report(p.sc(NR.madvise, p.m, 0x4000, 20)) },
  "madvise.pageout": { cls: "MADV_PAGEOUT (a hint)", run: (p) => report(p.sc(NR.madvise, p.m, 0x4000, 21)) },
  "madvise.populate_read": { cls: "MADV_POPULATE_READ", run: (p) => report(p.sc(NR.madvise, p.m, 0x4000, 22)) },
  "madvise.populate_write_fresh": { cls: "MADV_POPULATE_WRITE on a fresh RW mapping", run: (p) => report(p.sc(NR.madvise, p.mmap2(0, 0x4000, PR, PRIV, -1, 0), 0x4000, 23)) },
  "madvise.populate_write_ro": { cls: "MADV_POPULATE_WRITE on a read-only mapping", run: (p) => report(p.sc(NR.madvise, p.mmap2(0, 0x1000, 1, PRIV, -1, 0), 0x1000, 23)) },
  "madvise.populate_read_none": { cls: "MADV_POPULATE_READ on PROT_NONE", run: (p) => report(p.sc(NR.madvise, p.mmap2(0, 0x1000, 0, PRIV, -1, 0), 0x1000, 22)) },
  "madvise.populate_hole": { cls: "MADV_POPULATE_READ over a hole", run: (p) => report(p.sc(NR.madvise, p.holed(), 0x4000, 22)) },
  "madvise.dontneed_locked": { cls: "MADV_DONTNEED_LOCKED", run: (p) => report(p.sc(NR.madvise, p.m, 0x1000, 24)) },
  "madvise.collapse": { cls: "MADV_COLLAPSE (no THP here)", run: (p) => report(p.sc(NR.madvise, p.m, 0x1000, 25)) },

  // brk(addr): never an errno; the probe reports whether the break moved.
  "brk.below_start": {
    cls: "below the start of the heap",
    run: (p) => {
      p.b0 = p.sc(NR.brk, 0);
      return p.brkMoves(p.b0 - 0x100000);
    },
  },
  // 0xfff00000 is in the compat stack area and past our TASK_SIZE; the i386
  // stack-area literal is in the TASK_SIZE block below.
  "brk.into_stack": { cls: "up into the stack area", run: (p) => p.brkMoves(0xfff00000) },
};

/**
 * Cases where our answer is allowed to differ from Linux's, with the reason.
 * Keep it empty: an entry is a known divergence, not a way to silence a bug.
 *
 * Same answer, different meaning (no entry needed, but worth knowing):
 * mmap.priv_bit26 -- Linux (MMU) ignores bit 26 under MAP_PRIVATE (it is
 * MAP_UNINITIALIZED, a no-op there), we take it as MAP_NOZERO and mark the VMA
 * VM_NOZERO; both answer "ok". Checked below.
 */
const DIVERGENCES: ReadonlyMap<string, { readonly ours: string; readonly why: string }> = new Map();

function syscallOf(name: string): string {
  return name.slice(0, name.indexOf("."));
}

// ---- the replay -------------------------------------------------------------------

describe("errno table: Linux 6.18 (i386 probe) vs nozero", () => {
  const ours = new Map<string, string>();
  let probe: Probe;

  beforeAll(() => {
    // One address space, the record's order: later cases see what earlier ones left, as in the probe.
    probe = new Probe();
    for (const { name } of RECORD) {
      const c = CASES[name];
      if (c === undefined) continue;
      try {
        ours.set(name, c.run(probe));
      } catch (e) {
        ours.set(name, `threw ${String(e)}`);
      }
    }
  });

  it("the record lists exactly the probe source's cases, in the source's order", () => {
    expect(RECORD.map((r) => r.name)).toEqual(SOURCE_CASES);
  });

  it("knows every case the record holds (a new probe case needs a replay here)", () => {
    expect(RECORD.filter((r) => !(r.name in CASES)).map((r) => r.name)).toEqual([]);
  });

  it("replays nothing the record lacks", () => {
    const recorded = new Set(RECORD.map((r) => r.name));
    expect(Object.keys(CASES).filter((n) => !recorded.has(n))).toEqual([]);
  });

  it("every divergence names a recorded case and really differs", () => {
    for (const [name, d] of DIVERGENCES) {
      const rec = RECORD.find((r) => r.name === name);
      expect(rec, name).toBeDefined();
      expect(d.ours, name).not.toBe(rec!.result);
      expect(d.why.length, name).toBeGreaterThan(0);
    }
  });

  const bySyscall = new Map<string, Recorded[]>();
  for (const r of RECORD) {
    const s = syscallOf(r.name);
    if (!bySyscall.has(s)) bySyscall.set(s, []);
    bySyscall.get(s)!.push(r);
  }

  for (const [sc, rows] of bySyscall) {
    describe(sc, () => {
      it.each(rows.map((r) => ({ ...r, cls: CASES[r.name]?.cls ?? "UNKNOWN CASE: add it to CASES" })))(
        "$name ($cls): Linux says $result",
        ({ name, result }) => {
          expect(CASES[name], `${name} is in the record but not replayed here`).toBeDefined();
          const want = DIVERGENCES.get(name)?.ours ?? result;
          expect(ours.get(name)).toBe(want);
        },
      );
    });
  }

  it("mmap.priv_bit26: the same 'ok', but here the VMA is VM_NOZERO (Linux ignores the bit)", () => {
    const p = new Probe();
    const a = p.mmap2(0, 0x1000, PR, PRIV | 0x04000000, -1, 0);
    expect(report(a)).toBe("ok");
    expect(p.t.mm!.vmas.findExact(a)!.flags & VM_NOZERO).toBe(VM_NOZERO);
  });
});

// ---- the probe's TASK_SIZE classes at the i386 boundary -------------------------------------

/** Classes the probe tests with compat-TASK_SIZE literals, at our TASK_SIZE = 0xc0000000. */
describe("the probe's TASK_SIZE classes at the i386 boundary (TASK_SIZE 0xc0000000)", () => {
  const rows: { name: string; cls: string; want: string; run: (p: Probe) => string }[] = [
    {
      name: "mmap.fixed_past_top", cls: "MAP_FIXED crossing TASK_SIZE", want: `-${ENOMEM}`,
      run: (p) => report(p.mmap2(TASK_SIZE - 0x1000, 0x2000, PR, PRIV | MAP_FIXED, -1, 0)),
    },
    {
      name: "mmap.fixed_past_top", cls: "MAP_FIXED at TASK_SIZE itself", want: `-${ENOMEM}`,
      run: (p) => report(p.mmap2(TASK_SIZE, 0x1000, PR, PRIV | MAP_FIXED, -1, 0)),
    },
    {
      name: "mmap.fixed_past_top", cls: "MAP_FIXED ending exactly at TASK_SIZE is fine", want: "ok",
      run: (p) => report(p.mmap2(TASK_SIZE - 0x2000, 0x2000, PR, PRIV | MAP_FIXED, -1, 0)),
    },
    {
      name: "mmap.len_too_big", cls: "length one page over TASK_SIZE", want: `-${ENOMEM}`,
      run: (p) => report(p.mmap2(0, TASK_SIZE + 0x1000, PR, PRIV, -1, 0)),
    },
    {
      name: "munmap.past_top", cls: "address at TASK_SIZE", want: `-${EINVAL}`,
      run: (p) => report(p.sc(NR.munmap, TASK_SIZE, 0x1000)),
    },
    {
      name: "munmap.wraps", cls: "range running past TASK_SIZE", want: `-${EINVAL}`,
      run: (p) => report(p.sc(NR.munmap, 0x10000000, TASK_SIZE)),
    },
    {
      name: "munmap.past_top", cls: "last page below TASK_SIZE is fine", want: "ok",
      run: (p) => report(p.sc(NR.munmap, TASK_SIZE - 0x1000, 0x1000)),
    },
    {
      // 0xbff00000 is where an i386 stack lives; the mmap area (m, sh) lies in between, as on Linux.
      name: "brk.into_stack", cls: "brk up into the i386 stack area", want: "unchanged",
      run: (p) => {
        p.b0 = p.sc(NR.brk, 0);
        return p.brkMoves(0xbff00000);
      },
    },
  ];
  it.each(rows)("$name ($cls): $want", ({ run, want }) => {
    expect(run(new Probe())).toBe(want);
  });
});

// ---- what the probe cannot express -------------------------------------------------------------

const err = (e: number): number => -e;

describe("mmap2: MAP_NOZERO (the 2007 patch: private anonymous only)", () => {
  it.each([
    { cls: "MAP_SHARED|MAP_ANONYMOUS", flags: SHAN | MAP_NOZERO },
    { cls: "MAP_SHARED_VALIDATE|MAP_ANONYMOUS", flags: MAP_SHARED_VALIDATE | MAP_ANONYMOUS | MAP_NOZERO },
    { cls: "MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB (bit 26 is the MAP_HUGE size field)", flags: PRIV | MAP_HUGETLB | MAP_NOZERO },
    { cls: "MAP_SHARED|MAP_ANONYMOUS|MAP_HUGETLB", flags: SHAN | MAP_HUGETLB | MAP_NOZERO },
  ])("MAP_NOZERO with $cls -> EINVAL", ({ flags }) => {
    const p = new Probe();
    const len = flags & MAP_HUGETLB ? 0x200000 : 0x1000;
    expect(p.mmap2(0, len, PR, flags, -1, 0)).toBe(err(EINVAL));
  });

  it("MAP_NOZERO on a file mapping: the bad descriptor is reported first (EBADF), as Linux orders it", () => {
    const p = new Probe();
    expect(report(p.mmap2(0, 0x1000, PR, MAP_PRIVATE | MAP_NOZERO, 3, 0))).toBe("-9");
  });

  it("MAP_PRIVATE|MAP_ANONYMOUS|MAP_NOZERO succeeds and marks the VMA VM_NOZERO", () => {
    const p = new Probe();
    const a = p.mmap2(0, 0x2000, PR, PRIV | MAP_NOZERO, -1, 0);
    expect(report(a)).toBe("ok");
    const v = p.t.mm!.vmas.findExact(a)!;
    expect(v.flags & VM_NOZERO).toBe(VM_NOZERO);
    expect([v.start, v.end]).toEqual([a, a + 0x2000]);
  });
});

describe("brk2(addr, flags)", () => {
  it.each([
    { cls: "an unknown bit", flags: 0x2 },
    { cls: "BRK_NOZERO plus an unknown bit", flags: BRK_NOZERO | 0x80000000 },
    { cls: "the sign bit", flags: 0x80000000 },
  ])("$cls -> EINVAL, break unchanged", ({ flags }) => {
    const p = new Probe();
    expect(p.sc(NR.brk2, TEST_BRK + 0x10000, flags)).toBe(err(EINVAL));
    expect(p.sc(NR.brk, 0)).toBe(TEST_BRK);
    expect(p.t.mm!.vmas.findExact(TEST_BRK)).toBeNull();
  });

  it("brk2(addr, BRK_NOZERO) grows like brk and marks the heap VMA VM_NOZERO", () => {
    const p = new Probe();
    const want = TEST_BRK + 0x10000;
    expect(p.sc(NR.brk2, want, BRK_NOZERO)).toBe(want);
    expect(p.sc(NR.brk, 0)).toBe(want);
    const heap = p.t.mm!.vmas.findExact(TEST_BRK)!;
    expect([heap.start, heap.end]).toEqual([TEST_BRK, want]);
    expect(heap.flags & (VM_NOZERO | VM_READ | VM_WRITE)).toBe(VM_NOZERO | VM_READ | VM_WRITE);
    // Later plain brk growth stays VM_NOZERO and merges into the same VMA.
    expect(p.sc(NR.brk, want + 0x3000)).toBe(want + 0x3000);
    const grown = p.t.mm!.vmas.findExact(TEST_BRK)!;
    expect([grown.start, grown.end]).toEqual([TEST_BRK, want + 0x3000]);
    expect(grown.flags & VM_NOZERO).toBe(VM_NOZERO);
  });

  it("brk2(addr, 0) is plain brk: the heap is not VM_NOZERO", () => {
    const p = new Probe();
    expect(p.sc(NR.brk2, TEST_BRK + 0x4000, 0)).toBe(TEST_BRK + 0x4000);
    expect(p.t.mm!.vmas.findExact(TEST_BRK)!.flags & VM_NOZERO).toBe(0);
  });

  it("brk2 below the heap start returns the unchanged break, like brk (no errno)", () => {
    const p = new Probe();
    expect(p.sc(NR.brk2, TEST_BRK - 0x100000, BRK_NOZERO)).toBe(TEST_BRK);
    expect(p.sc(NR.brk2, 0, BRK_NOZERO)).toBe(TEST_BRK);
  });
});

describe("mmap2: offset overflow (i386: pgoff + pages must fit in 32 bits)", () => {
  // do_mmap: if ((pgoff + (len >> PAGE_SHIFT)) < pgoff) return -EOVERFLOW, with a
  // 32-bit unsigned long. A compat task on a 64-bit kernel widens pgoff and never
  // overflows, so the probe could not record this; native i386 answers EOVERFLOW.
  it.each([
    { cls: "pgoff 0xffffffff + 1 page", pgoff: 0xffffffff, len: 0x1000, want: err(EOVERFLOW) },
    { cls: "pgoff 0xffffff00 + 257 pages", pgoff: 0xffffff00, len: 0x101000, want: err(EOVERFLOW) },
    { cls: "pgoff 0xfffffff0 + an unaligned length rounding to 17 pages", pgoff: 0xfffffff0, len: 0x10001, want: err(EOVERFLOW) },
  ])("$cls -> EOVERFLOW", ({ pgoff, len, want }) => {
    const p = new Probe();
    expect(p.mmap2(0, len, PR, PRIV, -1, pgoff)).toBe(want);
  });

  it("pgoff 0xfffffffe + 1 page ends at 2^32 - 1 pages: no overflow (anonymous offset is ignored)", () => {
    const p = new Probe();
    expect(report(p.mmap2(0, 0x1000, PR, PRIV, -1, 0xfffffffe))).toBe("ok");
  });
});

describe("mmap2: MAP_FIXED and MAP_FIXED_NOREPLACE", () => {
  it("MAP_FIXED_NOREPLACE on a free range succeeds at exactly that address", () => {
    const p = new Probe();
    const a = 0x40000000;
    expect(p.mmap2(a, 0x3000, PR, PRIV | MAP_FIXED_NOREPLACE, -1, 0)).toBe(a);
    const v = p.t.mm!.vmas.findExact(a)!;
    expect([v.start, v.end]).toEqual([a, a + 0x3000]);
  });

  it("MAP_FIXED_NOREPLACE touching (not overlapping) a mapping succeeds", () => {
    const p = new Probe();
    expect(p.mmap2(p.m - 0x1000 - 0x2000, 0x1000, PR, PRIV | MAP_FIXED_NOREPLACE, -1, 0)).toBe(p.sh - 0x1000);
  });

  it("MAP_FIXED_NOREPLACE partly overlapping a mapping -> EEXIST", () => {
    const p = new Probe();
    expect(p.mmap2(p.m + 0x3000, 0x2000, PR, PRIV | MAP_FIXED_NOREPLACE, -1, 0)).toBe(err(EEXIST));
  });

  it("MAP_FIXED over an existing mapping replaces it: the old contents are gone", () => {
    const p = new Probe();
    const mem = p.t.mm!.mem;
    runUser(p.k, p.t, () => {
      mem.write32(p.m, 0xdeadbeef);
      mem.write32(p.m + 0x1000, 0xcafef00d);
    });
    expect(p.mmap2(p.m, 0x1000, PROT_READ, PRIV | MAP_FIXED, -1, 0)).toBe(p.m);
    const r = runUser(p.k, p.t, () => [mem.readU32(p.m), mem.readU32(p.m + 0x1000)]);
    expect(r.value).toEqual([0, 0xcafef00d]);
    // The replaced page is a new, read-only VMA; the rest of m is untouched.
    expect(p.t.mm!.vmas.findExact(p.m)!.flags & (VM_READ | VM_WRITE)).toBe(VM_READ);
    expect(p.t.mm!.vmas.findExact(p.m + 0x1000)!.flags & VM_WRITE).toBe(VM_WRITE);
  });

  it.each([
    { cls: "address 0", addr: 0 },
    { cls: "the page below mmap_min_addr", addr: MMAP_MIN_ADDR - PAGE_SIZE },
  ])("MAP_FIXED below mmap_min_addr as root (euid 0), $cls: succeeds", ({ addr }) => {
    const p = new Probe(0);
    expect(p.mmap2(addr, 0x1000, PR, PRIV | MAP_FIXED, -1, 0)).toBe(addr);
    expect(p.t.mm!.vmas.findExact(addr)).not.toBeNull();
  });

  it("the same MAP_FIXED below mmap_min_addr as uid 65534 -> EPERM (the probe's class)", () => {
    const p = new Probe();
    expect(p.mmap2(MMAP_MIN_ADDR - PAGE_SIZE, 0x1000, PR, PRIV | MAP_FIXED, -1, 0)).toBe(err(EPERM));
  });

  it("a hint below mmap_min_addr without MAP_FIXED is moved, not refused", () => {
    const p = new Probe();
    const a = p.mmap2(0x1000, 0x1000, PR, PRIV, -1, 0);
    expect(report(a)).toBe("ok");
    expect(a).toBeGreaterThanOrEqual(MMAP_MIN_ADDR);
  });

  it("MAP_GROWSDOWN on private anonymous is fine (only shared is refused)", () => {
    const p = new Probe();
    expect(report(p.mmap2(0, 0x1000, PR, PRIV | MAP_GROWSDOWN, -1, 0))).toBe("ok");
  });
});

describe("mremap", () => {
  it("MREMAP_DONTUNMAP moves the pages and leaves the old range mapped and empty", () => {
    const p = new Probe();
    const mem = p.t.mm!.mem;
    runUser(p.k, p.t, () => mem.write32(p.m, 0x12345678));
    const n = p.sc(NR.mremap, p.m, 0x1000, 0x1000, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0);
    expect(report(n)).toBe("ok");
    expect(n).not.toBe(p.m);
    const old = p.t.mm!.vmas.findExact(p.m);
    expect(old).not.toBeNull();
    expect(p.t.mm!.residentPages(p.m, p.m + 0x1000)).toBe(0);
    const r = runUser(p.k, p.t, () => [mem.readU32(n), mem.readU32(p.m)]);
    expect(r).toEqual({ value: [0x12345678, 0] });
  });

  it("MREMAP_DONTUNMAP with MREMAP_FIXED to a free address succeeds there", () => {
    const p = new Probe();
    const to = 0x40000000;
    expect(p.sc(NR.mremap, p.m, 0x1000, 0x1000, MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP, to)).toBe(to);
    expect(p.t.mm!.vmas.findExact(p.m)).not.toBeNull();
  });

  it("MREMAP_FIXED below mmap_min_addr, unprivileged -> EPERM", () => {
    const p = new Probe();
    expect(p.sc(NR.mremap, p.m, 0x1000, 0x1000, MREMAP_MAYMOVE | MREMAP_FIXED, 0x1000)).toBe(err(EPERM));
  });

  it("shrinking in place returns the old address", () => {
    const p = new Probe();
    expect(p.sc(NR.mremap, p.m, 0x4000, 0x2000, 0, 0)).toBe(p.m);
    expect(p.t.mm!.vmas.findExact(p.m + 0x2000)).toBeNull();
  });

  it("growth blocked in place moves with MREMAP_MAYMOVE", () => {
    const p = new Probe();
    const n = p.sc(NR.mremap, p.m, 0x1000, 0x2000, MREMAP_MAYMOVE, 0);
    expect(report(n)).toBe("ok");
    expect(n).not.toBe(p.m);
  });

  it("old range spanning two VMAs -> EFAULT", () => {
    const p = new Probe();
    expect(p.sc(NR.mremap, p.sh, 0x6000, 0x7000, MREMAP_MAYMOVE, 0)).toBe(err(EFAULT));
  });
});

describe("munmap", () => {
  it("a range that only partly overlaps mappings succeeds and unmaps just the overlap", () => {
    const p = new Probe();
    const a = 0x40000000;
    expect(p.mmap2(a, 0x2000, PR, PRIV | MAP_FIXED, -1, 0)).toBe(a);
    // One free page below, then the first page of the mapping.
    expect(p.sc(NR.munmap, a - 0x1000, 0x2000)).toBe(0);
    expect(p.t.mm!.vmas.findExact(a)).toBeNull();
    expect(p.t.mm!.vmas.findExact(a + 0x1000)).not.toBeNull();
    // The last page of m and free space past MMAP_BASE.
    expect(p.m + 0x4000).toBe(MMAP_BASE);
    expect(p.sc(NR.munmap, p.m + 0x3000, 0x3000)).toBe(0);
    const v = p.t.mm!.vmas.findExact(p.m)!;
    expect([v.start, v.end]).toEqual([p.m, p.m + 0x3000]);
  });

  it("an unaligned length unmaps every page it touches", () => {
    const p = new Probe();
    expect(p.sc(NR.munmap, p.m, 0x1001)).toBe(0);
    expect(p.t.mm!.vmas.findExact(p.m + 0x1000)).toBeNull();
    expect(p.t.mm!.vmas.findExact(p.m + 0x2000)).not.toBeNull();
  });

  it("a hole in the middle of a VMA splits it in two", () => {
    const p = new Probe();
    expect(p.sc(NR.munmap, p.m + 0x1000, 0x1000)).toBe(0);
    expect(p.t.mm!.vmas.findExact(p.m)!.end).toBe(p.m + 0x1000);
    expect(p.t.mm!.vmas.findExact(p.m + 0x2000)!.start).toBe(p.m + 0x2000);
  });
});

describe("mprotect", () => {
  it("PROT_GROWSUP on a mapped range -> EINVAL (x86: VM_GROWSUP is VM_NONE, no VMA grows up)", () => {
    // do_mprotect_pkey: grows & PROT_GROWSUP and !(vma->vm_flags & VM_GROWSUP) -> EINVAL.
    const p = new Probe();
    expect(p.sc(NR.mprotect, p.m, 0x1000, PROT_GROWSUP | PROT_READ)).toBe(err(EINVAL));
  });

  it("PROT_GROWSUP on an unmapped range -> ENOMEM (the VMA lookup fails first)", () => {
    const p = new Probe();
    expect(p.sc(NR.mprotect, UNMAPPED, 0x1000, PROT_GROWSUP | PROT_READ)).toBe(err(ENOMEM));
  });

  it("PROT_GROWSDOWN on a MAP_GROWSDOWN VMA succeeds", () => {
    const p = new Probe();
    const a = p.mmap2(0, 0x2000, PR, PRIV | MAP_GROWSDOWN, -1, 0);
    expect(p.sc(NR.mprotect, a + 0x1000, 0x1000, PROT_GROWSDOWN | PROT_READ)).toBe(0);
  });
});

describe("madvise", () => {
  it("MADV_FREE on a private anonymous mapping succeeds", () => {
    const p = new Probe();
    runUser(p.k, p.t, () => p.t.mm!.mem.write32(p.m, 1));
    expect(p.sc(NR.madvise, p.m, 0x4000, MADV_FREE)).toBe(0);
  });

  it("MADV_DONTNEED on shared anonymous succeeds (only MADV_FREE/WIPEONFORK refuse it)", () => {
    const p = new Probe();
    expect(p.sc(NR.madvise, p.sh, 0x2000, MADV_DONTNEED)).toBe(0);
  });

  it("madvise(0, 0, advice) probes support: 0", () => {
    const p = new Probe();
    expect(p.sc(NR.madvise, 0, 0, MADV_FREE)).toBe(0);
  });

  it("MADV_POPULATE_WRITE faults every page in; MADV_DONTNEED_LOCKED zaps them", () => {
    const p = new Probe();
    const a = p.mmap2(0, 0x4000, PR, PRIV, -1, 0);
    expect(p.sc(NR.madvise, a, 0x4000, MADV_POPULATE_WRITE)).toBe(0);
    expect(p.t.mm!.rssAnon).toBe(4);
    expect(p.sc(NR.madvise, a, 0x4000, MADV_DONTNEED_LOCKED)).toBe(0);
    expect(p.t.mm!.rssAnon).toBe(0);
  });
});

describe("vm.max_map_count", () => {
  /** A probe whose process is at the limit, and a 4-page mapping of its own to split. */
  function nearLimit(): { p: Probe; big: number } {
    const p = new Probe();
    // PROT_EXEC keeps it from merging with the mapping made next to it.
    const big = p.mmap2(0, 0x4000, PR | PROT_EXEC, PRIV, -1, 0);
    const vmas = () => p.t.mm!.vmas.count;
    // Alternate protections page by page in a large mapping: each mprotect adds two VMAs.
    const pages = 2 * (MAX_MAP_COUNT - vmas()) + 8;
    const base = p.mmap2(0, pages * PAGE_SIZE, PR, PRIV, -1, 0);
    for (let i = 1; vmas() + 2 <= MAX_MAP_COUNT && i < pages; i += 2) p.sc(NR.mprotect, base + i * PAGE_SIZE, PAGE_SIZE, PROT_READ);
    // Top up with single pages whose protections differ from their neighbours'.
    for (let n = 0; vmas() < MAX_MAP_COUNT && n < 4; n++) p.mmap2(0, PAGE_SIZE, n & 1 ? PROT_READ : PROT_WRITE, PRIV, -1, 0);
    expect(vmas()).toBe(MAX_MAP_COUNT);
    return { p, big };
  }

  it("an mprotect that must split a VMA past the limit fails with ENOMEM and changes nothing", () => {
    const { p, big } = nearLimit();
    const before = p.t.mm!.vmas.count;
    expect(p.sc(NR.mprotect, big + PAGE_SIZE, PAGE_SIZE, PROT_READ)).toBe(err(ENOMEM));
    expect(p.t.mm!.vmas.count).toBe(before);
    expect(p.t.mm!.vmas.find(big + PAGE_SIZE)!.flags & VM_WRITE).toBe(VM_WRITE);
    // Changing a whole VMA needs no split and still works.
    expect(p.sc(NR.mprotect, big, 0x4000, PROT_READ)).toBe(0);
  });

  it("a madvise that must split past the limit fails with EAGAIN, as madvise_vma_behavior maps it", () => {
    const { p, big } = nearLimit();
    expect(p.sc(NR.madvise, big + PAGE_SIZE, PAGE_SIZE, MADV_DONTFORK)).toBe(err(EAGAIN));
    expect(p.sc(NR.madvise, big, 0x4000, MADV_DONTFORK)).toBe(0);
  });
});

describe("the gate", () => {
  it.each([
    { cls: "a number past the table", nr: 9999 },
    { cls: "the largest 32-bit number", nr: 0xffffffff },
  ])("unknown syscall number, $cls -> ENOSYS", ({ nr }) => {
    const p = new Probe();
    expect(p.sc(nr, 1, 2, 3)).toBe(err(ENOSYS));
  });
});
