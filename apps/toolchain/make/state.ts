// make's data: variables, files (targets and prerequisites with their
// dependency lists), recipes and pattern rules, all in malloc'd structures
// in the process's user memory, as GNU make keeps them (variable.c, file.c,
// rule.c). The `Make` object holds only pointers to them and a few scalars.
//
// struct htab     { u32 size; u32 count; entry **buckets; }             12 bytes
//   every entry starts { entry *next; char *name; u32 name_len; }
// struct variable { hdr; char *value; u32 value_len; u32 flags; }         24 bytes
//   flags: VAR_SIMPLE, VAR_EXPANDING, VAR_EXPORT, origin << 8
// struct file     { hdr; dep *deps, *deps_tail; commands *cmds; u32 flags;
//                   u32 state; u32 mtime, mtime_nsec; char *stem; u32 stem_len;
//                   u32 lineno; }                                         52 bytes
// struct dep      { dep *next; file *file; u32 flags; }                   12 bytes
// struct commands { u32 nlines; cmdline *lines; u32 lineno; char *file; } 16 bytes
//   struct cmdline { char *text; u32 len; u32 lineno; }                   12 bytes
// struct rule     { rule *next; char *target; u32 target_len; pat *deps;
//                   u32 ndeps; commands *cmds; u32 flags; }               28 bytes
//   struct pat { char *text; u32 len; }                                    8 bytes

import type { Libc } from "../../../libc/libc.ts";
import { uhash, ueq, udup, udupStr, ujs } from "./ustr.ts";

// ---- layouts -------------------------------------------------------------------------

export const H_NEXT = 0;
export const H_NAME = 4;
export const H_NAMELEN = 8;

export const V_VALUE = 12;
export const V_VALUELEN = 16;
export const V_FLAGS = 20;
export const VAR_SIZE = 24;
export const VAR_SIMPLE = 1;
export const VAR_EXPANDING = 2;
export const VAR_EXPORT = 4;

export const O_DEFAULT = 0;
export const O_ENV = 1;
export const O_FILE = 2;
export const O_CMDLINE = 3;
export const O_OVERRIDE = 4;
export const O_AUTOMATIC = 5;

export const F_DEPS = 12;
export const F_DEPSTAIL = 16;
export const F_CMDS = 20;
export const F_FLAGS = 24;
export const F_STATE = 28;
export const F_MTIME = 32;
export const F_MTIMENS = 36;
export const F_STEM = 40;
export const F_STEMLEN = 44;
export const F_LINENO = 48;
export const FILE_SIZE = 52;

/** file flags */
export const FF_PHONY = 1;
export const FF_TARGET = 2;
export const FF_MENTIONED = 4;
export const FF_STATTED = 8;
export const FF_EXISTS = 16;
export const FF_IMPLICIT_DONE = 32;
export const FF_REMADE = 64;
/** Updated without a file to show for it: newer than anything. */
export const FF_NEWEST = 128;
export const FF_GOAL = 256;

/** file states */
export const S_NEW = 0;
export const S_CHECKING = 1;
export const S_RUNNING = 2;
export const S_DONE = 3;
export const S_FAILED = 4;

export const D_NEXT = 0;
export const D_FILE = 4;
export const D_FLAGS = 8;
export const DEP_SIZE = 12;
export const DEP_ORDER_ONLY = 1;

export const C_NLINES = 0;
export const C_LINES = 4;
export const C_LINENO = 8;
export const C_FILE = 12;
export const CMDS_SIZE = 16;
export const CMDLINE_SIZE = 12;

export const R_NEXT = 0;
export const R_TARGET = 4;
export const R_TARGETLEN = 8;
export const R_DEPS = 12;
export const R_NDEPS = 16;
export const R_CMDS = 20;
export const R_FLAGS = 24;
export const RULE_SIZE = 28;
export const RULE_BUILTIN = 1;

/** A fatal error: make prints the message and exits 2. */
export class MakeFatal extends Error {}

export interface MakeOptions {
  jobs: number;
  keepGoing: boolean;
  silent: boolean;
  ignoreErrors: boolean;
  dryRun: boolean;
  noBuiltinRules: boolean;
  /** -B: remake every target that has a recipe. */
  alwaysMake: boolean;
}

/** One make process's state: pointers to its structures and a few scalars. */
export class Make {
  readonly mem;
  /** Hash tables of variables and files. */
  vars: number;
  files: number;
  /** Pattern rules, in definition order (head and tail). */
  rules = 0;
  rulesTail = 0;
  /** The first target of the makefile (a file *), or 0. */
  defaultGoal = 0;
  /** The file whose recipe is being expanded (automatic variables), or 0. */
  autoFile = 0;
  /** Where messages say the makefile is, and the message prefix ("make" or "make[N]"). */
  makefileName = "Makefile";
  prog = "make";
  makelevel = 0;
  /** Commands started so far, and whether an error stopped new work. */
  commandsStarted = 0;
  stopped = false;
  hadError = false;
  /** Running jobs: a list of struct job in user memory, and its length. */
  jobs = 0;
  njobs = 0;
  /** The environment for recipes (a char *envp[] in user memory), built on first use. */
  childEnv = 0;
  /** A struct stat64 buffer for stat(2). */
  statBuf = 0;
  private shell = 0;
  private dashc = 0;
  /** Symbols for the profile. */
  readonly sym: Record<"read" | "expand" | "update" | "job" | "reap" | "hash", number>;

  constructor(
    readonly libc: Libc,
    readonly opts: MakeOptions,
  ) {
    this.mem = libc.mem;
    this.vars = htabNew(libc, 256);
    this.files = htabNew(libc, 512);
    const s = (n: string) => libc.symbol("make", n);
    this.sym = {
      read: s("eval_makefile"),
      expand: s("variable_expand_string"),
      update: s("update_file"),
      job: s("new_job"),
      reap: s("reap_children"),
      hash: s("hash_find_slot"),
    };
  }

  /** "/bin/sh" and "-c" as C strings (argv words for every recipe line). */
  shellPath(): number {
    return (this.shell ||= udupStr(this.libc, "/bin/sh"));
  }

  dashC(): number {
    return (this.dashc ||= udupStr(this.libc, "-c"));
  }

  malloc(n: number): number {
    const p = this.libc.malloc(n);
    if (p === 0) throw new MakeFatal("virtual memory exhausted");
    return p;
  }

  calloc(n: number): number {
    const p = this.libc.calloc(1, n);
    if (p === 0) throw new MakeFatal("virtual memory exhausted");
    return p;
  }

  // ---- variables ------------------------------------------------------------------------

  lookupVar(name: number, len: number): number {
    return htabFind(this, this.vars, name, len);
  }

  /**
   * Define (or redefine) a variable; the value is copied. A variable from the
   * command line keeps its value against the makefile unless `override`.
   */
  defineVar(name: number, len: number, value: number, vlen: number, origin: number, simple: boolean): number {
    const m = this.mem;
    let v = this.lookupVar(name, len);
    if (v !== 0) {
      const old = m.readU32(v + V_FLAGS) >>> 8;
      if (old === O_CMDLINE && origin === O_FILE) return v;
      if (old === O_OVERRIDE && origin !== O_OVERRIDE && origin !== O_AUTOMATIC) return v;
      this.libc.free(m.readU32(v + V_VALUE));
    } else {
      v = this.calloc(VAR_SIZE);
      m.write32(v + H_NAME, udup(this.libc, name, len));
      m.write32(v + H_NAMELEN, len);
      htabInsert(this, this.vars, v);
    }
    m.write32(v + V_VALUE, udup(this.libc, value, vlen));
    m.write32(v + V_VALUELEN, vlen);
    const keep = m.readU32(v + V_FLAGS) & VAR_EXPORT;
    m.write32(v + V_FLAGS, keep | (simple ? VAR_SIMPLE : 0) | (origin << 8));
    return v;
  }

  /** Append to a variable's value with a space (+=). */
  appendVar(v: number, value: number, vlen: number): void {
    const m = this.mem;
    const old = m.readU32(v + V_VALUE);
    const olen = m.readU32(v + V_VALUELEN);
    const sep = olen > 0 && vlen > 0 ? 1 : 0;
    const p = this.malloc(olen + sep + vlen + 1);
    m.memcpy(p, old, olen);
    if (sep) m.write8(p + olen, 0x20);
    m.memcpy(p + olen + sep, value, vlen);
    m.write8(p + olen + sep + vlen, 0);
    this.libc.free(old);
    m.write32(v + V_VALUE, p);
    m.write32(v + V_VALUELEN, olen + sep + vlen);
  }

  // ---- files ----------------------------------------------------------------------------

  lookupFile(name: number, len: number): number {
    return htabFind(this, this.files, name, len);
  }

  /** The file struct for a name, created on first mention. */
  enterFile(name: number, len: number): number {
    let f = this.lookupFile(name, len);
    if (f !== 0) return f;
    f = this.calloc(FILE_SIZE);
    this.mem.write32(f + H_NAME, udup(this.libc, name, len));
    this.mem.write32(f + H_NAMELEN, len);
    htabInsert(this, this.files, f);
    return f;
  }

  /** Append a prerequisite to a file's list (no duplicates). */
  addDep(f: number, dep: number, flags: number): void {
    const m = this.mem;
    for (let d = m.readU32(f + F_DEPS); d !== 0; d = m.readU32(d + D_NEXT)) {
      if (m.readU32(d + D_FILE) === dep) return;
    }
    const d = this.calloc(DEP_SIZE);
    m.write32(d + D_FILE, dep);
    m.write32(d + D_FLAGS, flags);
    const tail = m.readU32(f + F_DEPSTAIL);
    if (tail === 0) m.write32(f + F_DEPS, d);
    else m.write32(tail + D_NEXT, d);
    m.write32(f + F_DEPSTAIL, d);
  }

  /** Put a prerequisite first (an implicit rule's, so it becomes $<). */
  prependDep(f: number, dep: number): void {
    const m = this.mem;
    const d = this.calloc(DEP_SIZE);
    m.write32(d + D_FILE, dep);
    const head = m.readU32(f + F_DEPS);
    m.write32(d + D_NEXT, head);
    m.write32(f + F_DEPS, d);
    if (head === 0) m.write32(f + F_DEPSTAIL, d);
  }

  fileName(f: number): string {
    return ujs(this.libc, this.mem.readU32(f + H_NAME), this.mem.readU32(f + H_NAMELEN));
  }

  flags(f: number): number {
    return this.mem.readU32(f + F_FLAGS);
  }

  setFlags(f: number, bits: number): void {
    this.mem.write32(f + F_FLAGS, this.mem.readU32(f + F_FLAGS) | bits);
  }

  // ---- messages -------------------------------------------------------------------------

  /** "make: TEXT" on stderr (after flushing stdout, so the order is kept). */
  error(text: string): void {
    this.libc.fflush();
    this.libc.eprintf("%s: %s\n", this.prog, text);
  }

  /** "make: TEXT" on stdout. */
  message(text: string): void {
    this.libc.printf("%s: %s\n", this.prog, text);
  }
}

// ---- hash tables ---------------------------------------------------------------------------

function htabNew(libc: Libc, size: number): number {
  const t = libc.malloc(12);
  const b = libc.calloc(size, 4);
  if (t === 0 || b === 0) throw new MakeFatal("virtual memory exhausted");
  libc.mem.write32(t, size);
  libc.mem.write32(t + 4, 0);
  libc.mem.write32(t + 8, b);
  return t;
}

export function htabFind(mk: Make, t: number, name: number, len: number): number {
  const m = mk.mem;
  const prev = mk.libc.enter(mk.sym.hash);
  const size = m.readU32(t);
  const h = uhash(mk.libc, name, len);
  mk.libc.work(4 + len);
  let e = m.readU32(m.readU32(t + 8) + 4 * (h & (size - 1)));
  while (e !== 0 && !ueq(mk.libc, m.readU32(e + H_NAME), m.readU32(e + H_NAMELEN), name, len)) e = m.readU32(e + H_NEXT);
  mk.libc.leave(prev);
  return e;
}

/** Insert an entry (not already present); the table doubles when full. */
function htabInsert(mk: Make, t: number, e: number): void {
  const m = mk.mem;
  let size = m.readU32(t);
  const count = m.readU32(t + 4) + 1;
  m.write32(t + 4, count);
  if (count > size) {
    // Rehash into twice the buckets.
    const old = m.readU32(t + 8);
    const nsize = size * 2;
    const nb = mk.libc.calloc(nsize, 4);
    if (nb === 0) throw new MakeFatal("virtual memory exhausted");
    for (let i = 0; i < size; i++) {
      for (let x = m.readU32(old + 4 * i); x !== 0; ) {
        const next = m.readU32(x + H_NEXT);
        const h = uhash(mk.libc, m.readU32(x + H_NAME), m.readU32(x + H_NAMELEN)) & (nsize - 1);
        m.write32(x + H_NEXT, m.readU32(nb + 4 * h));
        m.write32(nb + 4 * h, x);
        x = next;
      }
    }
    mk.libc.free(old);
    m.write32(t, nsize);
    m.write32(t + 8, nb);
    size = nsize;
  }
  const h = uhash(mk.libc, m.readU32(e + H_NAME), m.readU32(e + H_NAMELEN)) & (size - 1);
  const slot = m.readU32(t + 8) + 4 * h;
  m.write32(e + H_NEXT, m.readU32(slot));
  m.write32(slot, e);
}

/** Visit every entry of a table (bucket order). */
export function htabEach(mk: Make, t: number, fn: (e: number) => void): void {
  const m = mk.mem;
  const size = m.readU32(t);
  const b = m.readU32(t + 8);
  for (let i = 0; i < size; i++) {
    for (let e = m.readU32(b + 4 * i); e !== 0; e = m.readU32(e + H_NEXT)) fn(e);
  }
}
