// The syscall gate: one synchronous entry for user code. A number and up to
// six plain-number arguments go in; a value or a negative errno comes out.
// The gate charges entry cost, counts calls per number and hosts strace.
// Numbers are i386 Linux's; brk2 (the 2007 patch's) has none there, so it
// takes a number past the end of the i386 table.

import { Kev } from "./cost/events.ts";
import { errnoName, strerror } from "./errno.ts";
import type { Kernel } from "./kernel.ts";
import { formatBrkFlags, formatMadvise, formatMapFlags, formatMremapFlags, formatProt } from "./mman.ts";
import * as mm from "./sys_mm.ts";
import type { Task } from "./task.ts";

export type Handler = (k: Kernel, t: Task, a: number, b: number, c: number, d: number, e: number, f: number) => number;

/** How strace prints an argument or a result. */
export type ArgKind = "int" | "hex" | "ptr" | "prot" | "mapflags" | "mremapflags" | "madvise" | "brkflags" | "str";

export interface SyscallDef {
  readonly nr: number;
  readonly name: string;
  readonly handler: Handler;
  readonly args: readonly ArgKind[];
  readonly ret: "int" | "hex";
}

export const NR = {
  brk: 45,
  munmap: 91,
  mprotect: 125,
  mremap: 163,
  mmap2: 192,
  madvise: 219,
  brk2: 1000,
} as const;

const table = new Map<number, SyscallDef>();

/** Add a syscall to the table (each subsystem's handlers register here, once). */
export function defineSyscall(nr: number, name: string, handler: Handler, args: readonly ArgKind[], ret: "int" | "hex" = "int"): void {
  if (table.has(nr)) throw new Error(`syscall ${nr} defined twice`);
  table.set(nr, { nr, name, handler: handler as Handler, args, ret });
}

export function syscallDef(nr: number): SyscallDef | undefined {
  return table.get(nr);
}

export function syscallByName(name: string): SyscallDef | undefined {
  for (const d of table.values()) if (d.name === name) return d;
  return undefined;
}

defineSyscall(NR.brk, "brk", mm.sys_brk as Handler, ["ptr"], "hex");
defineSyscall(NR.brk2, "brk2", mm.sys_brk2 as Handler, ["ptr", "brkflags"], "hex");
defineSyscall(NR.mmap2, "mmap2", mm.sys_mmap2 as Handler, ["ptr", "int", "prot", "mapflags", "int", "hex"], "hex");
defineSyscall(NR.munmap, "munmap", mm.sys_munmap as Handler, ["ptr", "int"]);
defineSyscall(NR.mprotect, "mprotect", mm.sys_mprotect as Handler, ["ptr", "int", "prot"]);
defineSyscall(NR.mremap, "mremap", mm.sys_mremap as Handler, ["ptr", "int", "int", "mremapflags", "ptr"], "hex");
defineSyscall(NR.madvise, "madvise", mm.sys_madvise as Handler, ["ptr", "int", "madvise"]);

const ENOSYS = 38;

/**
 * Enter the kernel from the current task. Arguments are taken as 32-bit
 * unsigned words, as registers would hold them.
 */
export function syscall(k: Kernel, nr: number, a = 0, b = 0, c = 0, d = 0, e = 0, f = 0): number {
  const t = k.current;
  const ctr = t.counters;
  ctr.k[Kev.SYSCALL]++;
  ctr.syscalls.set(nr, (ctr.syscalls.get(nr) ?? 0) + 1);
  const def = table.get(nr);
  const r = def === undefined ? -ENOSYS : def.handler(k, t, a >>> 0, b >>> 0, c >>> 0, d >>> 0, e >>> 0, f >>> 0);
  if (k.strace !== null) k.strace(formatCall(t, nr, def, [a, b, c, d, e, f], r));
  return r;
}

function formatArg(t: Task, kind: ArgKind, v: number): string {
  v >>>= 0;
  switch (kind) {
    case "int":
      return String(v | 0);
    case "hex":
      return `0x${v.toString(16)}`;
    case "ptr":
      return v === 0 ? "NULL" : `0x${v.toString(16).padStart(8, "0")}`;
    case "prot":
      return formatProt(v);
    case "mapflags":
      return formatMapFlags(v);
    case "mremapflags":
      return formatMremapFlags(v);
    case "madvise":
      return formatMadvise(v);
    case "brkflags":
      return formatBrkFlags(v);
    case "str": {
      const s = t.mm?.mem.strncpyFromUser(v, 4096);
      return s === null || s === undefined ? `0x${v.toString(16)}` : JSON.stringify(s);
    }
  }
}

/** One strace line: name(args) = result, errors as "-1 ENAME (message)". */
export function formatCall(t: Task, nr: number, def: SyscallDef | undefined, argv: number[], r: number): string {
  const name = def?.name ?? `syscall_${nr}`;
  const args = def ? def.args.map((kind, i) => formatArg(t, kind, argv[i])).join(", ") : argv.map((x) => `0x${(x >>> 0).toString(16)}`).join(", ");
  const res =
    r < 0 && r > -4096
      ? `-1 ${errnoName(-r)} (${strerror(-r)})`
      : def?.ret === "hex"
        ? `0x${(r >>> 0).toString(16).padStart(8, "0")}`
        : String(r);
  return `${name}(${args}) = ${res}`;
}
