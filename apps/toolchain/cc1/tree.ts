// Tree nodes (tree.h): expression and statement nodes, declarations,
// bindings and scopes, all ggc-allocated structs in user memory, and their
// constructors (build0..build4) and accessors.
//
// Node (36 B): +0 u8 code, +1 u8 flags, +2 u16 depth, +4 type, +8 line, +12 fc,
//   +16 op0, +20 op1, +24 op2, +28 op3, +32 next (argument/statement/initializer chains)
// Decl (40 B): +0 u8 kind, +1 u8 storage, +2 u16 flags, +4 name, +8 type,
//   +12 offset (frame offset; enum value), +16 label (static locals), +20 init
//   (initializer chain), +24 next (chain of file-scope and static decls),
//   +28 line, +32 fc, +36 body (function) / frame size
// Binding (20 B): +0 decl (or tag type), +4 identifier, +8 shadowed binding,
//   +12 next binding in its scope, +16 depth<<1 | is_tag
// Scope (16 B): +0 outer, +4 bindings, +8 depth, +12 flags

import type { UserMemory } from "../../../kernel/uaccess.ts";
import type { Ggc } from "./ggc.ts";

export const N_CODE = 0, N_FLAGS = 1, N_DEPTH = 2, N_TYPE = 4, N_LINE = 8, N_FC = 12, N_OP0 = 16, N_OP1 = 20, N_OP2 = 24, N_OP3 = 28, N_NEXT = 32, N_BYTES = 36;
export const D_KIND = 0, D_STORAGE = 1, D_FLAGS = 2, D_NAME = 4, D_TYPE = 8, D_OFFSET = 12, D_LABEL = 16, D_INIT = 20, D_NEXT = 24, D_LINE = 28, D_FC = 32, D_BODY = 36, D_BYTES = 40;
export const B_DECL = 0, B_IDENT = 4, B_SHADOW = 8, B_NEXT = 12, B_DEPTH = 16, B_BYTES = 20;
export const S_OUTER = 0, S_BINDINGS = 4, S_DEPTH = 8, S_FLAGS = 12, S_BYTES = 16;

export enum N {
  // expressions
  INT_CST = 1, STRING_CST, DECL_REF,
  ADD, SUB, MUL, DIV, MOD, SHL, SHR, BAND, BOR, BXOR,
  EQ, NE, LT, LE, GT, GE,
  LOGAND, LOGOR, LOGNOT, NEG, BITNOT,
  DEREF, ADDR, ASSIGN, COMPOUND, PREINC, PREDEC, POSTINC, POSTDEC,
  COND, COMMA, CALL, CONVERT, MEMBER, SYSCALL, ERROR,
  // statements
  BLOCK, EXPR_STMT, IF, WHILE, DO, FOR, RETURN, BREAK, CONTINUE, SWITCH, CASE, DEFAULT, LOCAL_INIT, EMPTY,
  // digested initializers
  INIT_ELT, INIT_STR,
}

/** Node flags. */
export const NF_UNSIGNED = 1; // comparisons, division, shifts: the operation is unsigned
export const NF_VOIDED = 2;

export enum DK {
  VAR = 1, FUNC, PARM, TYPEDEF, ENUMCONST, ERROR,
}
export enum SC {
  NONE = 0, AUTO, STATIC, EXTERN,
}
/** Decl flags. */
export const DF_DEFINED = 1, DF_GLOBAL = 2, DF_LOCAL_STATIC = 4, DF_USED = 8, DF_INITIALIZED = 16, DF_TENTATIVE = 32;

export const MAX_EXPR_DEPTH = 1000;

export class Trees {
  constructor(
    private readonly m: UserMemory,
    private readonly ggc: Ggc,
  ) {}

  /** A node with code, type, location and operands (build4; make_node clears it, as gcc's does). */
  build(code: N, type: number, line: number, fc: number, op0 = 0, op1 = 0, op2 = 0, op3 = 0): number {
    const m = this.m;
    const n = this.ggc.allocCleared(N_BYTES);
    m.write16(n + N_CODE, code);
    m.write16(n + N_DEPTH, 1);
    m.write32(n + N_TYPE, type);
    m.write32(n + N_LINE, line);
    m.write32(n + N_FC, fc);
    if (op0 !== 0) m.write32(n + N_OP0, op0);
    if (op1 !== 0) m.write32(n + N_OP1, op1);
    if (op2 !== 0) m.write32(n + N_OP2, op2);
    if (op3 !== 0) m.write32(n + N_OP3, op3);
    return n;
  }

  /** Set an expression node's depth from its operand expressions; the depth. */
  setDepth(n: number, a: number, b = 0, c = 0): number {
    const m = this.m;
    let d = a !== 0 ? m.read16(a + N_DEPTH) : 0;
    if (b !== 0) d = Math.max(d, m.read16(b + N_DEPTH));
    if (c !== 0) d = Math.max(d, m.read16(c + N_DEPTH));
    this.m.write16(n + N_DEPTH, Math.min(d + 1, 0xffff));
    return d + 1;
  }

  code(n: number): N {
    return this.m.read8(n + N_CODE);
  }
  flags(n: number): number {
    return this.m.read8(n + N_FLAGS);
  }
  setFlags(n: number, f: number): void {
    this.m.write8(n + N_FLAGS, f);
  }
  type(n: number): number {
    return this.m.readU32(n + N_TYPE);
  }
  line(n: number): number {
    return this.m.read32(n + N_LINE);
  }
  fc(n: number): number {
    return this.m.readU32(n + N_FC);
  }
  op0(n: number): number {
    return this.m.readU32(n + N_OP0);
  }
  op1(n: number): number {
    return this.m.readU32(n + N_OP1);
  }
  op2(n: number): number {
    return this.m.readU32(n + N_OP2);
  }
  op3(n: number): number {
    return this.m.readU32(n + N_OP3);
  }
  next(n: number): number {
    return this.m.readU32(n + N_NEXT);
  }
  setNext(n: number, v: number): void {
    this.m.write32(n + N_NEXT, v);
  }
  set(n: number, off: number, v: number): void {
    this.m.write32(n + off, v);
  }
  /** An INT_CST's value (signed 32-bit). */
  value(n: number): number {
    return this.m.read32(n + N_OP0);
  }

  // ---- declarations -----------------------------------------------------------------------

  decl(kind: DK, name: number, type: number, line: number, fc: number): number {
    const m = this.m;
    const d = this.ggc.allocCleared(D_BYTES);
    m.write8(d + D_KIND, kind);
    m.write32(d + D_NAME, name);
    m.write32(d + D_TYPE, type);
    m.write32(d + D_LINE, line);
    m.write32(d + D_FC, fc);
    return d;
  }

  dKind(d: number): DK {
    return this.m.read8(d + D_KIND);
  }
  dStorage(d: number): SC {
    return this.m.read8(d + D_STORAGE);
  }
  dFlags(d: number): number {
    return this.m.read16(d + D_FLAGS);
  }
  dSetFlags(d: number, f: number): void {
    this.m.write16(d + D_FLAGS, f);
  }
  dName(d: number): number {
    return this.m.readU32(d + D_NAME);
  }
  dType(d: number): number {
    return this.m.readU32(d + D_TYPE);
  }
  dOffset(d: number): number {
    return this.m.read32(d + D_OFFSET);
  }
  dGet(d: number, off: number): number {
    return this.m.readU32(d + off);
  }
  dSet(d: number, off: number, v: number): void {
    this.m.write32(d + off, v);
  }
}
