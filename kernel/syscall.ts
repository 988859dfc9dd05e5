// The syscall gate: one synchronous entry for user code. A number and up to
// six plain-number arguments go in; a value or a negative errno comes out.
// The gate charges entry cost, counts calls per number and hosts strace.
// Numbers are i386 Linux's; brk2 (the 2007 patch's) has none there, so it
// takes a number past the end of the i386 table.

import { Kev } from "./cost/events.ts";
import { errnoName, strerror } from "./errno.ts";
import type { Kernel } from "./kernel.ts";
import {
  MAP_HUGETLB, formatBrkFlags, formatMadvise, formatMapFlags, formatMremapFlags,
  formatProt,
} from "./mman.ts";
import { FatalSignal, TaskExit } from "./signal.ts";
import { NR } from "./unistd.ts";
import type { Task } from "./task.ts";

export type Handler = (k: Kernel, t: Task, a: number, b: number, c: number, d: number, e: number, f: number) => number;

/**
 * How strace prints an argument: "int" signed (fds), "uint" unsigned (lengths),
 * "hex" %#lx, "ptr" NULL or %#lx, "pgoff" an mmap2 page offset shown in bytes
 * (%#llx, as strace's mmap_4koff does), the rest symbolically.
 */
export type ArgKind =
  | "int" | "uint" | "hex" | "ptr" | "pgoff" | "prot" | "mapflags" | "mremapflags" | "madvise" | "brkflags" | "str";

export interface SyscallDef {
  readonly nr: number;
  readonly name: string;
  readonly handler: Handler;
  readonly args: readonly ArgKind[];
  readonly ret: "int" | "hex";
  /** How many of `args` strace shows for these values (mremap shows new_address only with MREMAP_FIXED). */
  readonly shown?: (argv: readonly number[]) => number;
}

export { NR };

const table = new Map<number, SyscallDef>();

/** Add a syscall to the table (each subsystem's handlers register here, once). */
export function defineSyscall(
  nr: number, name: string, handler: Handler, args: readonly ArgKind[], ret: "int" | "hex" = "int",
  shown?: (argv: readonly number[]) => number,
): void {
  if (table.has(nr)) throw new Error(`syscall ${nr} defined twice`);
  table.set(nr, { nr, name, handler: handler as Handler, args, ret, shown });
}

export function syscallDef(nr: number): SyscallDef | undefined {
  return table.get(nr);
}

export function syscallByName(name: string): SyscallDef | undefined {
  for (const d of table.values()) if (d.name === name) return d;
  return undefined;
}


const ENOSYS = 38;

/**
 * Enter the kernel from the current task. The number and the arguments are
 * taken as 32-bit unsigned words, as registers would hold them.
 */
export function syscall(k: Kernel, nr: number, a = 0, b = 0, c = 0, d = 0, e = 0, f = 0): number {
  nr >>>= 0;
  const t = k.current;
  t.mm?.mem.flush();
  const ctr = t.counters;
  ctr.k[Kev.SYSCALL]++;
  ctr.syscalls.set(nr, (ctr.syscalls.get(nr) ?? 0) + 1);
  const def = table.get(nr);
  const r = def === undefined ? -ENOSYS : def.handler(k, t, a >>> 0, b >>> 0, c >>> 0, d >>> 0, e >>> 0, f >>> 0);
  if (k.strace !== null) k.strace(formatCall(t, nr, def, [a, b, c, d, e, f], r), t.pid);
  // Leaving the kernel: an exit or exec ends this user code; a fatal signal kills it.
  if (t.unwind !== null) {
    const u = t.unwind;
    t.unwind = null;
    throw u;
  }
  if (t.pendingSignal !== 0) throw new FatalSignal(t.pendingSignal);
  return r;
}

/** printf's %#x: "0" for zero, else 0x and lower-case hex, unpadded. */
function altHex(v: number): string {
  return v === 0 ? "0" : `0x${v.toString(16)}`;
}

/** strace's printflags: bits with no name at all print as hex and a PROT_??? comment. */
function orUnknown(s: string, dflt: string): string {
  return /^0x[0-9a-f]+$/.test(s) ? `${s} /* ${dflt} */` : s;
}

const MAP_HUGE_SHIFT = 26;

/** strace's print_mmap_flags: under MAP_HUGETLB bits 26..31 are the size field, "N<<MAP_HUGE_SHIFT". */
function formatMmapFlags(v: number): string {
  if (!(v & MAP_HUGETLB) || v >>> MAP_HUGE_SHIFT === 0) return formatMapFlags(v);
  return `${formatMapFlags(v & ((1 << MAP_HUGE_SHIFT) - 1))}|${v >>> MAP_HUGE_SHIFT}<<MAP_HUGE_SHIFT`;
}

function formatArg(t: Task, kind: ArgKind, v: number): string {
  v >>>= 0;
  switch (kind) {
    case "int":
      return String(v | 0);
    case "uint":
      return String(v);
    case "hex":
      return altHex(v);
    case "ptr":
      return v === 0 ? "NULL" : altHex(v);
    case "pgoff":
      return altHex(v * 4096);
    case "prot":
      return orUnknown(formatProt(v), "PROT_???");
    case "mapflags":
      return formatMmapFlags(v);
    case "mremapflags":
      return orUnknown(formatMremapFlags(v), "MREMAP_???");
    case "madvise": {
      const s = formatMadvise(v);
      return s === String(v) ? `${altHex(v)} /* MADV_??? */` : s;
    }
    case "brkflags":
      return orUnknown(formatBrkFlags(v), "BRK_???");
    case "str": {
      const s = t.mm?.mem.strncpyFromUser(v, 4096);
      return s === null || s === undefined ? `0x${v.toString(16)}` : JSON.stringify(s);
    }
  }
}

/**
 * One strace line, as strace prints it: name(args) = result; pointers and hex
 * results %#lx, errors as "-1 ENAME (message)", an unknown number as
 * syscall_0xNR with its six raw arguments.
 */
export function formatCall(t: Task, nr: number, def: SyscallDef | undefined, argv: number[], r: number): string {
  const name = def?.name ?? `syscall_${altHex(nr >>> 0)}`;
  const args = def
    ? def.args.slice(0, def.shown?.(argv) ?? def.args.length).map((kind, i) => formatArg(t, kind, argv[i])).join(", ")
    : argv.map((x) => altHex(x >>> 0)).join(", ");
  const res =
    t.unwind instanceof TaskExit
      ? "?"
      : r < 0 && r > -4096
      ? `-1 ${errnoName(-r)} (${strerror(-r)})`
      : def?.ret === "hex"
        ? altHex(r >>> 0)
        : String(r);
  return `${name}(${args}) = ${res}`;
}
