// C types (tree.h's type nodes): the builtin integer types, pointers (cached
// on their target, as TYPE_POINTER_TO), arrays, structs/unions (a field
// list), enums and function types; the usual conversions, compatibility,
// and gcc's spelling of a type in diagnostics ('int *', 'int (*)[4]').
//
// Type node (ggc, 32 B): +0 u8 kind, +1 u8 flags, +4 size, +8 align,
//   +12 target (pointee, element, return type), +16 count (array length or
//   -1; function: number of parameters), +20 fields (struct fields /
//   function parameters: field list), +24 tag (identifier or 0), +28 pointer-to cache
// Field (ggc, 20 B): +0 name, +4 type, +8 offset, +12 next, +16 line

import type { UserMemory } from "../../../kernel/uaccess.ts";
import type { Ggc } from "./ggc.ts";
import type { IdentTable } from "./ident.ts";

export const TY_KIND = 0, TY_FLAGS = 1, TY_SIZE = 4, TY_ALIGN = 8, TY_TARGET = 12, TY_COUNT = 16, TY_FIELDS = 20, TY_TAG = 24, TY_PTR = 28, TY_BYTES = 32;
export const F_NAME = 0, F_TYPE = 4, F_OFFSET = 8, F_NEXT = 12, F_LINE = 16, F_BYTES = 20;

export enum K {
  VOID = 1, CHAR, SCHAR, UCHAR, SHORT, USHORT, INT, UINT, LONG, ULONG, ENUM,
  PTR, ARRAY, STRUCT, UNION, FUNC, ERROR,
}

/** Type flags. */
export const TF_COMPLETE = 1, TF_PROTOTYPED = 2, TF_VARIADIC = 4, TF_DEFINING = 8;

const BASE_NAMES: Record<number, string> = {
  [K.VOID]: "void", [K.CHAR]: "char", [K.SCHAR]: "signed char", [K.UCHAR]: "unsigned char",
  [K.SHORT]: "short int", [K.USHORT]: "short unsigned int", [K.INT]: "int", [K.UINT]: "unsigned int",
  [K.LONG]: "long int", [K.ULONG]: "long unsigned int", [K.ERROR]: "<type-error>",
};

export class Types {
  readonly void: number;
  readonly char: number;
  readonly schar: number;
  readonly uchar: number;
  readonly short: number;
  readonly ushort: number;
  readonly int: number;
  readonly uint: number;
  readonly long: number;
  readonly ulong: number;
  readonly error: number;
  readonly charPtr: number;
  readonly voidPtr: number;

  constructor(
    private readonly m: UserMemory,
    private readonly ggc: Ggc,
    private readonly idents: IdentTable,
  ) {
    const b = (k: K, size: number) => this.make(k, size, size === 0 ? 1 : size, TF_COMPLETE);
    this.void = b(K.VOID, 0);
    this.m.write8(this.void + TY_FLAGS, 0);
    this.char = b(K.CHAR, 1);
    this.schar = b(K.SCHAR, 1);
    this.uchar = b(K.UCHAR, 1);
    this.short = b(K.SHORT, 2);
    this.ushort = b(K.USHORT, 2);
    this.int = b(K.INT, 4);
    this.uint = b(K.UINT, 4);
    this.long = b(K.LONG, 4);
    this.ulong = b(K.ULONG, 4);
    this.error = b(K.ERROR, 4);
    this.charPtr = this.pointerTo(this.char);
    this.voidPtr = this.pointerTo(this.void);
  }

  /** A fresh type node. */
  make(kind: K, size: number, align: number, flags: number): number {
    const t = this.ggc.allocCleared(TY_BYTES);
    const m = this.m;
    m.write16(t + TY_KIND, kind | (flags << 8));
    m.write32(t + TY_SIZE, size);
    m.write32(t + TY_ALIGN, align);
    return t;
  }

  kind(t: number): K {
    return this.m.read8(t + TY_KIND);
  }
  flags(t: number): number {
    return this.m.read8(t + TY_FLAGS);
  }
  setFlags(t: number, f: number): void {
    this.m.write8(t + TY_FLAGS, f);
  }
  size(t: number): number {
    return this.m.read32(t + TY_SIZE);
  }
  align(t: number): number {
    return this.m.read32(t + TY_ALIGN);
  }
  target(t: number): number {
    return this.m.readU32(t + TY_TARGET);
  }
  count(t: number): number {
    return this.m.read32(t + TY_COUNT);
  }
  fields(t: number): number {
    return this.m.readU32(t + TY_FIELDS);
  }
  tag(t: number): number {
    return this.m.readU32(t + TY_TAG);
  }

  pointerTo(t: number): number {
    const m = this.m;
    const cached = m.readU32(t + TY_PTR);
    if (cached !== 0) return cached;
    const p = this.make(K.PTR, 4, 4, TF_COMPLETE);
    m.write32(p + TY_TARGET, t);
    m.write32(t + TY_PTR, p);
    return p;
  }

  arrayOf(elem: number, n: number): number {
    const m = this.m;
    const complete = n >= 0 && this.isComplete(elem);
    const a = this.make(K.ARRAY, complete ? this.size(elem) * n : 0, this.align(elem), complete ? TF_COMPLETE : 0);
    m.write32(a + TY_TARGET, elem);
    m.write32(a + TY_COUNT, n);
    return a;
  }

  /** A function type: return type, parameter list (fields), count, flags. */
  funcType(ret: number, params: number, n: number, flags: number): number {
    const m = this.m;
    const f = this.make(K.FUNC, 1, 1, flags | TF_COMPLETE);
    m.write32(f + TY_TARGET, ret);
    m.write32(f + TY_COUNT, n);
    m.write32(f + TY_FIELDS, params);
    return f;
  }

  field(name: number, type: number, offset: number, line: number): number {
    const m = this.m;
    const f = this.ggc.alloc(F_BYTES);
    m.write32(f + F_NAME, name);
    m.write32(f + F_TYPE, type);
    m.write32(f + F_OFFSET, offset);
    m.write32(f + F_NEXT, 0);
    m.write32(f + F_LINE, line);
    return f;
  }

  // ---- predicates -----------------------------------------------------------------------

  isInteger(t: number): boolean {
    const k = this.kind(t);
    return k >= K.CHAR && k <= K.ENUM;
  }
  isArith(t: number): boolean {
    return this.isInteger(t);
  }
  isPointer(t: number): boolean {
    return this.kind(t) === K.PTR;
  }
  isScalar(t: number): boolean {
    const k = this.kind(t);
    return (k >= K.CHAR && k <= K.PTR) || k === K.ERROR;
  }
  isAggregate(t: number): boolean {
    const k = this.kind(t);
    return k === K.STRUCT || k === K.UNION || k === K.ARRAY;
  }
  isRecord(t: number): boolean {
    const k = this.kind(t);
    return k === K.STRUCT || k === K.UNION;
  }
  isVoid(t: number): boolean {
    return this.kind(t) === K.VOID;
  }
  isError(t: number): boolean {
    return this.kind(t) === K.ERROR;
  }
  isFunc(t: number): boolean {
    return this.kind(t) === K.FUNC;
  }
  isArray(t: number): boolean {
    return this.kind(t) === K.ARRAY;
  }
  isComplete(t: number): boolean {
    return (this.flags(t) & TF_COMPLETE) !== 0;
  }
  isUnsigned(t: number): boolean {
    const k = this.kind(t);
    return k === K.UCHAR || k === K.USHORT || k === K.UINT || k === K.ULONG || k === K.PTR;
  }

  /** The integer promotions. */
  promote(t: number): number {
    const k = this.kind(t);
    if (k >= K.CHAR && k <= K.USHORT) return this.int;
    if (k === K.ENUM) return this.int;
    return t;
  }

  /** The usual arithmetic conversions (32-bit int and long). */
  common(a: number, b: number): number {
    a = this.promote(a);
    b = this.promote(b);
    const ka = this.kind(a), kb = this.kind(b);
    if (ka === K.ULONG || kb === K.ULONG) return this.ulong;
    if (ka === K.LONG || kb === K.LONG) return ka === K.UINT || kb === K.UINT ? this.ulong : this.long;
    if (ka === K.UINT || kb === K.UINT) return this.uint;
    return this.int;
  }

  /** comptypes: are two types compatible? */
  compatible(a: number, b: number): boolean {
    for (let guard = 0; guard < 1000; guard++) {
      if (a === b) return true;
      const ka = this.kind(a), kb = this.kind(b);
      if (ka === K.ERROR || kb === K.ERROR) return true;
      if (ka !== kb) return false;
      switch (ka) {
        case K.PTR:
          a = this.target(a);
          b = this.target(b);
          continue;
        case K.ARRAY: {
          const na = this.count(a), nb = this.count(b);
          if (na >= 0 && nb >= 0 && na !== nb) return false;
          a = this.target(a);
          b = this.target(b);
          continue;
        }
        case K.FUNC: {
          if (!this.compatible(this.target(a), this.target(b))) return false;
          const fa = this.flags(a), fb = this.flags(b);
          if (!(fa & TF_PROTOTYPED) || !(fb & TF_PROTOTYPED)) return true;
          if ((fa & TF_VARIADIC) !== (fb & TF_VARIADIC) || this.count(a) !== this.count(b)) return false;
          let pa = this.fields(a), pb = this.fields(b);
          while (pa !== 0 && pb !== 0) {
            if (!this.compatible(this.m.readU32(pa + F_TYPE), this.m.readU32(pb + F_TYPE))) return false;
            pa = this.m.readU32(pa + F_NEXT);
            pb = this.m.readU32(pb + F_NEXT);
          }
          return true;
        }
        default:
          // integer kinds of the same kind are the same type; tagged types are their node
          return ka !== K.STRUCT && ka !== K.UNION && ka !== K.ENUM;
      }
    }
    return false;
  }

  /** The field of a struct/union named `name`, or 0. */
  findField(t: number, name: number): number {
    const m = this.m;
    for (let f = this.fields(t); f !== 0; f = m.readU32(f + F_NEXT)) if (m.readU32(f + F_NAME) === name) return f;
    return 0;
  }

  // ---- spelling ---------------------------------------------------------------------------

  /** The type as gcc prints it in diagnostics. */
  name(t: number): string {
    return this.spell(t, "");
  }

  private spell(t: number, d: string): string {
    for (let guard = 0; guard < 200; guard++) {
      const k = this.kind(t);
      switch (k) {
        case K.PTR: {
          const tk = this.kind(this.target(t));
          d = tk === K.ARRAY || tk === K.FUNC ? `(*${d})` : `*${d}`;
          t = this.target(t);
          continue;
        }
        case K.ARRAY: {
          const n = this.count(t);
          d = `${d}[${n >= 0 ? n : ""}]`;
          t = this.target(t);
          continue;
        }
        case K.FUNC: {
          d = `${d}(${this.paramList(t)})`;
          t = this.target(t);
          continue;
        }
        default: {
          let base = BASE_NAMES[k];
          if (k === K.STRUCT || k === K.UNION || k === K.ENUM) {
            const tag = this.tag(t);
            base = `${k === K.STRUCT ? "struct" : k === K.UNION ? "union" : "enum"} ${tag !== 0 ? this.idents.name(tag) : "<anonymous>"}`;
          }
          if (d === "") return base;
          return d.startsWith("*") || d.startsWith("(*") ? `${base} ${d}` : `${base}${d}`;
        }
      }
    }
    return "<type>";
  }

  private paramList(f: number): string {
    const fl = this.flags(f);
    if (!(fl & TF_PROTOTYPED)) return "";
    const parts: string[] = [];
    for (let p = this.fields(f); p !== 0; p = this.m.readU32(p + F_NEXT)) parts.push(this.name(this.m.readU32(p + F_TYPE)));
    if (fl & TF_VARIADIC) parts.push("...");
    return parts.length === 0 ? "void" : parts.join(", ");
  }
}
