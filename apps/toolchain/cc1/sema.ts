// Semantic analysis (c-decl.c, c-typeck.c, fold-const.c): scopes and
// bindings, declarations and redeclaration checks, and the build_* functions
// that type-check an expression as it is parsed, insert the conversions and
// fold constants. Diagnostics follow gcc 12's wording; a bad operand becomes
// an error node so one mistake is reported once.

import type { Libc } from "../../../libc/libc.ts";
import type { UserMemory } from "../../../kernel/uaccess.ts";
import type { Diag } from "./diag.ts";
import type { Ggc } from "./ggc.ts";
import { ID_SYMBOL, ID_TAG, type IdentTable } from "./ident.ts";
import {
  B_BYTES, B_DECL, B_DEPTH, B_IDENT, B_NEXT, B_SHADOW, D_FLAGS, D_INIT, D_KIND, D_LABEL, D_LINE, D_FC, D_NEXT, D_OFFSET, D_STORAGE, D_TYPE,
  DF_DEFINED, DF_GLOBAL, DF_INITIALIZED, DF_LOCAL_STATIC, DF_TENTATIVE, DF_USED, DK, MAX_EXPR_DEPTH, N, N_DEPTH,
  NF_UNSIGNED, S_BINDINGS, S_BYTES, S_DEPTH, S_FLAGS, S_OUTER, SC, Trees,
} from "./tree.ts";
import { F_NEXT, F_TYPE, K, TF_PROTOTYPED, TF_VARIADIC, type Types } from "./types.ts";

/** Spelling of binary operators in diagnostics. */
export const OP_SPELL: Record<number, string> = {
  [N.ADD]: "+", [N.SUB]: "-", [N.MUL]: "*", [N.DIV]: "/", [N.MOD]: "%", [N.SHL]: "<<", [N.SHR]: ">>",
  [N.BAND]: "&", [N.BOR]: "|", [N.BXOR]: "^", [N.EQ]: "==", [N.NE]: "!=", [N.LT]: "<", [N.LE]: "<=",
  [N.GT]: ">", [N.GE]: ">=", [N.LOGAND]: "&&", [N.LOGOR]: "||",
};

/** Codes whose op1 is an expression (others keep a number there: offsets, steps, counts). */
const OP1_IS_NODE: boolean[] = [];
for (let c = N.ADD; c <= N.LOGOR; c++) OP1_IS_NODE[c] = true;
for (const c of [N.ASSIGN, N.COMPOUND, N.COMMA, N.COND, N.CALL]) OP1_IS_NODE[c] = true;

/** Where a value is converted to a type (convert_for_assignment's errtype). */
export const enum Ctx {
  ASSIGN, INIT, RETURN, ARG,
}

export class Sema {
  readonly m: UserMemory;
  readonly tr: Trees;
  scope = 0;
  depth = 0;
  /** The function being defined (its decl), its scope depth, and its frame size so far. */
  fn = 0;
  fnDepth = 0;
  frame = 0;
  private labels = 0;
  /** Chain of file-scope variables and local statics, in declaration order. */
  varHead = 0;
  private varTail = 0;
  private readonly symBuild: number;
  private readonly symFold: number;
  private readonly symDecl: number;

  constructor(
    private readonly libc: Libc,
    readonly diag: Diag,
    private readonly ggc: Ggc,
    readonly idents: IdentTable,
    readonly ty: Types,
    readonly opt: number,
  ) {
    this.m = libc.mem;
    this.tr = new Trees(this.m, ggc);
    this.symBuild = libc.symbol("cc1", "build_binary_op");
    this.symFold = libc.symbol("cc1", "fold_binary_loc");
    this.symDecl = libc.symbol("cc1", "pushdecl");
    this.pushScope(); // file scope
  }

  newLabel(): number {
    return ++this.labels;
  }

  // ---- scopes and bindings --------------------------------------------------------------

  pushScope(): void {
    const s = this.ggc.alloc(S_BYTES);
    const m = this.m;
    m.write32(s + S_OUTER, this.scope);
    m.write32(s + S_BINDINGS, 0);
    m.write32(s + S_DEPTH, ++this.depth);
    m.write32(s + S_FLAGS, 0);
    this.scope = s;
  }

  popScope(): void {
    const m = this.m;
    for (let b = m.readU32(this.scope + S_BINDINGS); b !== 0; b = m.readU32(b + B_NEXT)) {
      const id = m.readU32(b + B_IDENT);
      m.write32(id + (m.read32(b + B_DEPTH) & 1 ? ID_TAG : ID_SYMBOL), m.readU32(b + B_SHADOW));
    }
    this.scope = m.readU32(this.scope + S_OUTER);
    this.depth--;
  }

  /** Bind ident to a decl (or, for a tag, a type) in scope s (default: the current one). */
  bind(ident: number, what: number, isTag: boolean, s = this.scope): void {
    const m = this.m;
    const b = this.ggc.alloc(B_BYTES);
    const slot = ident + (isTag ? ID_TAG : ID_SYMBOL);
    m.write32(b + B_DECL, what);
    m.write32(b + B_IDENT, ident);
    m.write32(b + B_SHADOW, m.readU32(slot));
    m.write32(b + B_NEXT, m.readU32(s + S_BINDINGS));
    m.write32(b + B_DEPTH, (m.read32(s + S_DEPTH) << 1) | (isTag ? 1 : 0));
    m.write32(s + S_BINDINGS, b);
    m.write32(slot, b);
    this.libc.work(20);
  }

  /** The decl an identifier names here, or 0. */
  lookup(ident: number): number {
    const b = this.m.readU32(ident + ID_SYMBOL);
    return b === 0 ? 0 : this.m.readU32(b + B_DECL);
  }
  /** The decl an identifier names in the current scope itself, or 0. */
  lookupHere(ident: number): number {
    const b = this.m.readU32(ident + ID_SYMBOL);
    return b !== 0 && this.m.read32(b + B_DEPTH) >> 1 === this.depth ? this.m.readU32(b + B_DECL) : 0;
  }
  lookupTag(ident: number): number {
    const b = this.m.readU32(ident + ID_TAG);
    return b === 0 ? 0 : this.m.readU32(b + B_DECL);
  }
  lookupTagHere(ident: number): number {
    const b = this.m.readU32(ident + ID_TAG);
    return b !== 0 && this.m.read32(b + B_DEPTH) >> 1 === this.depth ? this.m.readU32(b + B_DECL) : 0;
  }
  /** Is ident a typedef name here? */
  isTypedefName(ident: number): boolean {
    const d = this.lookup(ident);
    return d !== 0 && this.m.read8(d + D_KIND) === DK.TYPEDEF;
  }

  private chainVar(d: number): void {
    if (this.varTail === 0) this.varHead = d;
    else this.m.write32(this.varTail + D_NEXT, d);
    this.varTail = d;
  }

  // ---- declarations -----------------------------------------------------------------------

  private name(ident: number): string {
    return this.idents.name(ident);
  }

  /**
   * pushdecl for a declarator: kind (VAR, FUNC, TYPEDEF), storage class, type.
   * Returns the decl now bound to the name (an earlier compatible one is reused).
   */
  declare(kind: DK, ident: number, type: number, sc: SC, line: number, fc: number): number {
    const prev = this.libc.enter(this.symDecl);
    try {
      return this.declare1(kind, ident, type, sc, line, fc);
    } finally {
      this.libc.leave(prev);
    }
  }

  private declare1(kind: DK, ident: number, type: number, sc: SC, line: number, fc: number): number {
    const m = this.m;
    const tr = this.tr;
    const ty = this.ty;
    const fileScope = this.depth === 1;
    if (kind === DK.VAR && ty.isVoid(type)) {
      this.diag.error(line, fc, `variable or field '${this.name(ident)}' declared void`);
      type = ty.error;
    }
    const old = this.lookupHere(ident);
    if (old !== 0) {
      const ok = tr.dKind(old);
      if (ok === DK.ERROR) {
        // an undeclared-identifier placeholder: replace it
      } else if (ok !== kind || ok === DK.ENUMCONST) {
        this.diag.error(line, fc, `'${this.name(ident)}' redeclared as different kind of symbol`);
        return tr.decl(kind, ident, type, line, fc);
      } else if (kind === DK.TYPEDEF) {
        if (!ty.compatible(tr.dType(old), type)) {
          this.diag.error(line, fc, `conflicting types for '${this.name(ident)}'; have '${ty.name(type)}'`);
        }
        return old;
      } else if (!fileScope && kind === DK.VAR && sc !== SC.EXTERN && tr.dStorage(old) !== SC.EXTERN) {
        this.diag.error(line, fc, `redeclaration of '${this.name(ident)}' with no linkage`);
        return tr.decl(kind, ident, type, line, fc);
      } else {
        const ot = tr.dType(old);
        if (!ty.compatible(ot, type)) {
          this.diag.error(line, fc, `conflicting types for '${this.name(ident)}'; have '${ty.name(type)}'`);
          return old;
        }
        // The composite type: a completed array, a prototype.
        if (ty.isArray(ot) && ty.count(ot) < 0 && ty.count(type) >= 0) m.write32(old + D_TYPE, type);
        if (ty.isFunc(ot) && !(ty.flags(ot) & TF_PROTOTYPED) && ty.flags(type) & TF_PROTOTYPED) m.write32(old + D_TYPE, type);
        if (tr.dStorage(old) === SC.EXTERN && sc !== SC.EXTERN) m.write8(old + D_STORAGE, sc);
        if (kind === DK.VAR && sc !== SC.EXTERN && fileScope) tr.dSetFlags(old, tr.dFlags(old) | DF_TENTATIVE);
        return old;
      }
    }
    const d = tr.decl(kind, ident, type, line, fc);
    m.write8(d + D_STORAGE, sc);
    if (fileScope || sc === SC.EXTERN || kind === DK.FUNC) {
      tr.dSetFlags(d, DF_GLOBAL | (kind === DK.VAR && sc !== SC.EXTERN ? DF_TENTATIVE : 0));
      if (kind === DK.VAR && fileScope) this.chainVar(d);
    } else if (kind === DK.VAR && sc === SC.STATIC) {
      tr.dSetFlags(d, DF_LOCAL_STATIC | DF_TENTATIVE);
      m.write32(d + D_LABEL, this.newLabel());
      this.chainVar(d);
    } else if (kind === DK.VAR) {
      if (ty.isArray(type) && ty.count(type) < 0) {
        // completed by an initializer (completeLocal), or "array size missing"
      } else if (!ty.isComplete(type) && !ty.isError(type)) {
        this.diag.error(line, fc, `storage size of '${this.name(ident)}' isn't known`);
        m.write32(d + D_TYPE, ty.error);
      } else this.allocLocal(d);
    }
    if (kind === DK.VAR && fileScope && sc !== SC.EXTERN && !ty.isComplete(type) && !ty.isArray(type) && !ty.isError(type)) {
      this.diag.error(line, fc, `storage size of '${this.name(ident)}' isn't known`);
    }
    this.bind(ident, d, false);
    this.libc.work(400);
    return d;
  }

  /** A frame slot for a local variable (below fp). */
  allocLocal(d: number): void {
    const t = this.tr.dType(d);
    const size = Math.max(this.ty.size(t), 1);
    const align = Math.max(this.ty.align(t), 1);
    this.frame = Math.ceil((this.frame + size) / align) * align;
    this.frame = (this.frame + 3) & ~3;
    this.m.write32(d + D_OFFSET, -this.frame);
  }

  /** A local variable that was declared with an incomplete array type and completed by its initializer. */
  completeLocal(d: number, type: number): void {
    this.m.write32(d + D_TYPE, type);
    if (!(this.tr.dFlags(d) & (DF_GLOBAL | DF_LOCAL_STATIC))) this.allocLocal(d);
  }

  /** A parameter of the function being defined: its slot above fp (arguments at fp+8). */
  declareParam(ident: number, type: number, index: number, line: number, fc: number): void {
    if (this.lookupHere(ident) !== 0) {
      this.diag.error(line, fc, `redefinition of parameter '${this.name(ident)}'`);
      return;
    }
    const d = this.tr.decl(DK.PARM, ident, type, line, fc);
    this.m.write8(d + D_STORAGE, SC.AUTO);
    this.m.write32(d + D_OFFSET, 8 + 4 * index);
    this.bind(ident, d, false);
  }

  /** An enumerator. */
  declareEnumConst(ident: number, value: number, line: number, fc: number): void {
    const old = this.lookupHere(ident);
    if (old !== 0 && this.tr.dKind(old) !== DK.ERROR) {
      this.diag.error(line, fc, `redeclaration of enumerator '${this.name(ident)}'`);
      return;
    }
    const d = this.tr.decl(DK.ENUMCONST, ident, this.ty.int, line, fc);
    this.m.write32(d + D_OFFSET, value);
    this.bind(ident, d, false);
  }

  /** Mark a decl as having an initializer (redefinition if it had one). */
  markInitialized(d: number, line: number, fc: number): boolean {
    const f = this.tr.dFlags(d);
    if (f & DF_INITIALIZED) {
      this.diag.error(line, fc, `redefinition of '${this.name(this.tr.dName(d))}'`);
      return false;
    }
    this.tr.dSetFlags(d, f | DF_INITIALIZED | DF_DEFINED);
    return true;
  }

  // ---- expressions: helpers ---------------------------------------------------------------

  err(): number {
    return this.tr.build(N.ERROR, this.ty.error, 0, 0);
  }
  isErr(e: number): boolean {
    return this.tr.code(e) === N.ERROR || this.ty.isError(this.tr.type(e));
  }
  intCst(v: number, type: number, line: number, fc: number): number {
    return this.tr.build(N.INT_CST, type, line, fc, v | 0);
  }
  isConst(e: number): boolean {
    return this.tr.code(e) === N.INT_CST;
  }

  /** Build a node and set its depth, refusing trees too deep to walk. */
  private node(code: N, type: number, line: number, fc: number, a: number, b = 0, c = 0, d = 0): number {
    const n = this.tr.build(code, type, line, fc, a, b, c, d);
    if (this.tr.setDepth(n, a, OP1_IS_NODE[code] ? b : 0, code === N.COND ? c : 0) > MAX_EXPR_DEPTH) {
      this.diag.fatal(line, fc, `expression nesting exceeds maximum of ${MAX_EXPR_DEPTH}`);
    }
    return n;
  }

  /** Value truncated to an integer type. */
  truncate(v: number, t: number): number {
    switch (this.ty.kind(t)) {
      case K.CHAR:
      case K.SCHAR:
        return (v << 24) >> 24;
      case K.UCHAR:
        return v & 0xff;
      case K.SHORT:
        return (v << 16) >> 16;
      case K.USHORT:
        return v & 0xffff;
      default:
        return v | 0;
    }
  }

  isLvalue(e: number): boolean {
    const tr = this.tr;
    switch (tr.code(e)) {
      case N.DECL_REF: {
        const k = tr.dKind(tr.op0(e));
        return k === DK.VAR || k === DK.PARM;
      }
      case N.DEREF:
      case N.STRING_CST:
        return true;
      case N.MEMBER:
        return this.isLvalue(tr.op0(e));
      default:
        return false;
    }
  }

  /** Array-to-pointer and function-to-pointer decay; void and incomplete values are errors here. */
  rvalue(e: number): number {
    const ty = this.ty;
    const tr = this.tr;
    const t = tr.type(e);
    const k = ty.kind(t);
    if (k === K.ARRAY) {
      return this.node(N.ADDR, ty.pointerTo(ty.target(t)), tr.line(e), tr.fc(e), e);
    }
    if (k === K.FUNC) return this.node(N.ADDR, ty.pointerTo(t), tr.line(e), tr.fc(e), e);
    return e;
  }

  /** An operand used for its value: decayed; void, and incomplete structs, rejected. */
  value(e: number): number {
    if (this.isErr(e)) return e;
    e = this.rvalue(e);
    const t = this.tr.type(e);
    if (this.ty.isVoid(t)) {
      this.diag.error(this.tr.line(e), this.tr.fc(e), "void value not ignored as it ought to be");
      return this.err();
    }
    if (this.ty.isRecord(t) && !this.ty.isComplete(t)) {
      this.diag.error(this.tr.line(e), this.tr.fc(e), `invalid use of undefined type '${this.ty.name(t)}'`);
      return this.err();
    }
    return e;
  }

  /** convert: e as type t (a CONVERT node; constants are folded). */
  convert(e: number, t: number): number {
    const tr = this.tr;
    const ty = this.ty;
    const et = tr.type(e);
    if (et === t || this.isErr(e)) return e;
    if (tr.code(e) === N.INT_CST && (ty.isInteger(t) || ty.isPointer(t))) {
      return this.intCst(this.truncate(tr.value(e), t), t, tr.line(e), tr.fc(e));
    }
    return this.node(N.CONVERT, t, tr.line(e), tr.fc(e), e);
  }

  /** The type shown for an operand in "invalid operands" (after promotion). */
  private shown(e: number): string {
    return this.ty.name(this.ty.promote(this.tr.type(e)));
  }

  // ---- build_* ------------------------------------------------------------------------------

  /** build_binary_op. */
  buildBinary(op: N, a: number, b: number, line: number, fc: number): number {
    const prev = this.libc.enter(this.symBuild);
    try {
      return this.binary(op, a, b, line, fc);
    } finally {
      this.libc.work(300);
      this.libc.leave(prev);
    }
  }

  private binary(op: N, a: number, b: number, line: number, fc: number): number {
    const ty = this.ty;
    const tr = this.tr;
    if (this.isErr(a) || this.isErr(b)) return this.err();
    a = this.value(a);
    b = this.value(b);
    if (this.isErr(a) || this.isErr(b)) return this.err();
    const ta = tr.type(a), tb = tr.type(b);
    const ia = ty.isInteger(ta), ib = ty.isInteger(tb);
    const pa = ty.isPointer(ta), pb = ty.isPointer(tb);
    switch (op) {
      case N.ADD:
        if (ia && ib) return this.arith(op, ty.common(ta, tb), a, b, line, fc);
        if (pa && ib) return this.pointerArith(N.ADD, a, b, line, fc);
        if (ia && pb) return this.pointerArith(N.ADD, b, a, line, fc);
        break;
      case N.SUB:
        if (ia && ib) return this.arith(op, ty.common(ta, tb), a, b, line, fc);
        if (pa && ib) return this.pointerArith(N.SUB, a, b, line, fc);
        if (pa && pb && ty.compatible(ty.target(ta), ty.target(tb))) return this.pointerDiff(a, b, line, fc);
        break;
      case N.MUL:
      case N.DIV:
      case N.MOD:
      case N.BAND:
      case N.BOR:
      case N.BXOR:
        if (ia && ib) return this.arith(op, ty.common(ta, tb), a, b, line, fc);
        break;
      case N.SHL:
      case N.SHR:
        if (ia && ib) {
          const t = ty.promote(ta);
          return this.arith(op, t, a, this.convert(b, ty.promote(tb)), line, fc);
        }
        break;
      case N.EQ:
      case N.NE:
      case N.LT:
      case N.LE:
      case N.GT:
      case N.GE: {
        let unsigned = false;
        if (ia && ib) unsigned = ty.isUnsigned(ty.common(ta, tb));
        else if ((pa || ia) && (pb || ib)) unsigned = true;
        else break;
        return this.fold(this.flagged(this.node(op, ty.int, line, fc, a, b), unsigned));
      }
      case N.LOGAND:
      case N.LOGOR:
        if (ty.isScalar(ta) && ty.isScalar(tb)) return this.fold(this.node(op, ty.int, line, fc, a, b));
        break;
      default:
        break;
    }
    this.diag.error(line, fc, `invalid operands to binary ${OP_SPELL[op]} (have '${this.shown(a)}' and '${this.shown(b)}')`);
    return this.err();
  }

  private flagged(n: number, unsigned: boolean): number {
    if (unsigned) this.tr.setFlags(n, this.tr.flags(n) | NF_UNSIGNED);
    return n;
  }

  private arith(op: N, t: number, a: number, b: number, line: number, fc: number): number {
    const unsigned = this.ty.isUnsigned(op === N.SHL || op === N.SHR ? t : t);
    return this.fold(this.flagged(this.node(op, t, line, fc, a, b), unsigned));
  }

  /** The size a pointer steps by (1 for void and functions); 0 with an error for an incomplete type. */
  private stepSize(pt: number, line: number, fc: number): number {
    const ty = this.ty;
    const t = ty.target(pt);
    if (ty.isVoid(t) || ty.isFunc(t)) return 1;
    if (!ty.isComplete(t)) {
      this.diag.error(line, fc, `invalid use of undefined type '${ty.name(t)}'`);
      return 0;
    }
    return ty.size(t);
  }

  /** An integer scaled by a size (folded when constant). */
  scaled(i: number, size: number, line: number, fc: number): number {
    const tr = this.tr;
    const ty = this.ty;
    i = this.convert(i, ty.int);
    if (size === 1) return i;
    if (tr.code(i) === N.INT_CST) return this.intCst(Math.imul(tr.value(i), size), ty.int, line, fc);
    return this.node(N.MUL, ty.int, line, fc, i, this.intCst(size, ty.int, line, fc));
  }

  private pointerArith(op: N, p: number, i: number, line: number, fc: number): number {
    const size = this.stepSize(this.tr.type(p), line, fc);
    if (size === 0) return this.err();
    return this.fold(this.node(op, this.tr.type(p), line, fc, p, this.scaled(i, size, line, fc)));
  }

  private pointerDiff(a: number, b: number, line: number, fc: number): number {
    const size = this.stepSize(this.tr.type(a), line, fc);
    if (size === 0) return this.err();
    const d = this.fold(this.node(N.SUB, this.ty.int, line, fc, a, b));
    if (size === 1) return d;
    return this.fold(this.node(N.DIV, this.ty.int, line, fc, d, this.intCst(size, this.ty.int, line, fc)));
  }

  /** fold: constant operands computed, as 32-bit machine arithmetic. */
  fold(n: number): number {
    const tr = this.tr;
    const code = tr.code(n);
    const a = tr.op0(n);
    const b = tr.op1(n);
    if (tr.code(a) !== N.INT_CST || (b !== 0 && tr.code(b) !== N.INT_CST)) return this.foldPartial(n);
    const prev = this.libc.enter(this.symFold);
    const x = tr.value(a);
    const y = b !== 0 ? tr.value(b) : 0;
    const u = (tr.flags(n) & NF_UNSIGNED) !== 0;
    let v: number | null = null;
    switch (code) {
      case N.ADD: v = x + y; break;
      case N.SUB: v = x - y; break;
      case N.MUL: v = Math.imul(x, y); break;
      case N.DIV:
        if (y !== 0) v = u ? (x >>> 0) / (y >>> 0) : x === -0x80000000 && y === -1 ? x : x / y;
        break;
      case N.MOD:
        if (y !== 0) v = u ? (x >>> 0) % (y >>> 0) : x === -0x80000000 && y === -1 ? 0 : x % y;
        break;
      case N.SHL: v = x << (y & 31); break;
      case N.SHR: v = u ? x >>> (y & 31) : x >> (y & 31); break;
      case N.BAND: v = x & y; break;
      case N.BOR: v = x | y; break;
      case N.BXOR: v = x ^ y; break;
      case N.EQ: v = x === y ? 1 : 0; break;
      case N.NE: v = x !== y ? 1 : 0; break;
      case N.LT: v = (u ? x >>> 0 < y >>> 0 : x < y) ? 1 : 0; break;
      case N.LE: v = (u ? x >>> 0 <= y >>> 0 : x <= y) ? 1 : 0; break;
      case N.GT: v = (u ? x >>> 0 > y >>> 0 : x > y) ? 1 : 0; break;
      case N.GE: v = (u ? x >>> 0 >= y >>> 0 : x >= y) ? 1 : 0; break;
      case N.LOGAND: v = x !== 0 && y !== 0 ? 1 : 0; break;
      case N.LOGOR: v = x !== 0 || y !== 0 ? 1 : 0; break;
      case N.NEG: v = -x; break;
      case N.BITNOT: v = ~x; break;
      case N.LOGNOT: v = x === 0 ? 1 : 0; break;
      default: break;
    }
    this.libc.work(60);
    this.libc.leave(prev);
    if (v === null) return n;
    if (code === N.DIV || code === N.MOD) v = Math.trunc(v);
    return this.intCst(this.truncate(v | 0, tr.type(n)), tr.type(n), tr.line(n), tr.fc(n));
  }

  /** -O1's algebraic simplifications of a node with one constant operand. */
  private foldPartial(n: number): number {
    if (this.opt === 0) return n;
    const tr = this.tr;
    const code = tr.code(n);
    const b = tr.op1(n);
    if (b === 0 || tr.code(b) !== N.INT_CST) return n;
    const y = tr.value(b);
    const a = tr.op0(n);
    const same = (x: number) => (tr.type(x) === tr.type(n) ? x : n);
    if ((code === N.ADD || code === N.SUB || code === N.BOR || code === N.BXOR || code === N.SHL || code === N.SHR) && y === 0) return same(a);
    if ((code === N.MUL || code === N.DIV) && y === 1) return same(a);
    return n;
  }

  /** build_unary_op for - ~ ! + * & */
  buildUnary(op: "-" | "~" | "!" | "+" | "*" | "&", e: number, line: number, fc: number): number {
    const ty = this.ty;
    const tr = this.tr;
    if (this.isErr(e)) return e;
    if (op === "&") {
      if (tr.code(e) === N.DECL_REF && tr.dKind(tr.op0(e)) === DK.FUNC) return this.node(N.ADDR, ty.pointerTo(tr.type(e)), line, fc, e);
      if (!this.isLvalue(e)) {
        this.diag.error(line, fc, "lvalue required as unary '&' operand");
        return this.err();
      }
      if (tr.code(e) === N.DEREF) return this.convert(tr.op0(e), ty.pointerTo(tr.type(e)));
      return this.node(N.ADDR, ty.pointerTo(tr.type(e)), line, fc, e);
    }
    if (op === "*") {
      e = this.rvalue(e);
      const t = tr.type(e);
      if (!ty.isPointer(t)) {
        this.diag.error(line, fc, `invalid type argument of unary '*' (have '${ty.name(t)}')`);
        return this.err();
      }
      return this.node(N.DEREF, ty.target(t), line, fc, e);
    }
    e = this.value(e);
    if (this.isErr(e)) return e;
    const t = tr.type(e);
    switch (op) {
      case "-":
        if (!ty.isInteger(t)) break;
        return this.fold(this.node(N.NEG, ty.promote(t), line, fc, this.convert(e, ty.promote(t))));
      case "~":
        if (!ty.isInteger(t)) break;
        return this.fold(this.node(N.BITNOT, ty.promote(t), line, fc, this.convert(e, ty.promote(t))));
      case "+":
        if (!ty.isInteger(t)) break;
        return this.convert(e, ty.promote(t));
      case "!":
        if (!ty.isScalar(t)) break;
        return this.fold(this.node(N.LOGNOT, ty.int, line, fc, e));
    }
    const what = op === "-" ? "unary minus" : op === "~" ? "bit-complement" : op === "+" ? "unary plus" : "unary exclamation mark";
    this.diag.error(line, fc, `wrong type argument to ${what}`);
    return this.err();
  }

  /** ++ and -- (code PREINC, PREDEC, POSTINC, POSTDEC). */
  buildIncDec(code: N, e: number, line: number, fc: number): number {
    const ty = this.ty;
    const tr = this.tr;
    if (this.isErr(e)) return e;
    const inc = code === N.PREINC || code === N.POSTINC;
    const t = tr.type(e);
    if (!ty.isScalar(t)) {
      this.diag.error(line, fc, `wrong type argument to ${inc ? "increment" : "decrement"}`);
      return this.err();
    }
    if (!this.isLvalue(e)) {
      this.diag.error(line, fc, `lvalue required as ${inc ? "increment" : "decrement"} operand`);
      return this.err();
    }
    let step = 1;
    if (ty.isPointer(t)) {
      step = this.stepSize(t, line, fc);
      if (step === 0) return this.err();
    }
    return this.node(code, t, line, fc, e, inc ? step : -step);
  }

  /** convert_for_assignment: rhs as a value of type t (ctx says where, for the message). */
  convertFor(t: number, rhs: number, ctx: Ctx, argNo: number, fname: string): number {
    const ty = this.ty;
    const tr = this.tr;
    if (this.isErr(rhs) || ty.isError(t)) return this.isErr(rhs) ? rhs : this.err();
    rhs = this.rvalue(rhs);
    const rt = tr.type(rhs);
    const line = tr.line(rhs), fc = tr.fc(rhs);
    if (ty.isVoid(rt)) {
      this.diag.error(line, fc, "void value not ignored as it ought to be");
      return this.err();
    }
    const tk = ty.kind(t);
    let ok = false;
    if (ty.isInteger(t) && ty.isScalar(rt)) ok = true;
    else if (tk === K.PTR && ty.isScalar(rt)) ok = true;
    else if ((tk === K.STRUCT || tk === K.UNION) && rt === t) return rhs;
    if (ok) return this.convert(rhs, t);
    switch (ctx) {
      case Ctx.ASSIGN:
        this.diag.error(line, fc, `incompatible types when assigning to type '${ty.name(t)}' from type '${ty.name(rt)}'`);
        break;
      case Ctx.INIT:
        this.diag.error(line, fc, `incompatible types when initializing type '${ty.name(t)}' using type '${ty.name(rt)}'`);
        break;
      case Ctx.RETURN:
        this.diag.error(line, fc, `incompatible types when returning type '${ty.name(rt)}' but '${ty.name(t)}' was expected`);
        break;
      case Ctx.ARG:
        this.diag.error(line, fc, `incompatible type for argument ${argNo} of '${fname}'`);
        break;
    }
    return this.err();
  }

  /** Assignment (op ASSIGN) or compound assignment (op the binary code). */
  buildAssign(op: N, lhs: number, rhs: number, line: number, fc: number): number {
    const ty = this.ty;
    const tr = this.tr;
    if (this.isErr(lhs) || this.isErr(rhs)) return this.err();
    if (!this.isLvalue(lhs) || tr.code(lhs) === N.STRING_CST) {
      this.diag.error(line, fc, "lvalue required as left operand of assignment");
      return this.err();
    }
    const lt = tr.type(lhs);
    if (ty.isArray(lt)) {
      this.diag.error(line, fc, "assignment to expression with array type");
      return this.err();
    }
    if (op === N.ASSIGN) {
      const r = this.convertFor(lt, rhs, Ctx.ASSIGN, 0, "");
      if (this.isErr(r)) return r;
      return this.node(N.ASSIGN, lt, line, fc, lhs, r);
    }
    // Compound: lhs op= rhs, as lhs = lhs op rhs with lhs evaluated once.
    rhs = this.value(rhs);
    if (this.isErr(rhs)) return rhs;
    const rt = tr.type(rhs);
    let computation = 0;
    let r = rhs;
    if ((op === N.ADD || op === N.SUB) && ty.isPointer(lt) && ty.isInteger(rt)) {
      const size = this.stepSize(lt, line, fc);
      if (size === 0) return this.err();
      r = this.scaled(rhs, size, line, fc);
      computation = lt;
    } else if (ty.isInteger(lt) && ty.isInteger(rt)) {
      computation = op === N.SHL || op === N.SHR ? ty.promote(lt) : ty.common(lt, rt);
    } else if (!ty.isInteger(lt) || !ty.isInteger(rt)) {
      const ok = (op === N.ADD || op === N.SUB) && ty.isPointer(lt) && ty.isInteger(rt);
      if (!ok) {
        this.diag.error(line, fc, `invalid operands to binary ${OP_SPELL[op]} (have '${this.ty.name(ty.promote(lt))}' and '${this.ty.name(ty.promote(rt))}')`);
        return this.err();
      }
    }
    const n = this.node(N.COMPOUND, lt, line, fc, lhs, r, op, computation);
    return this.flagged(n, ty.isUnsigned(computation));
  }

  /** c ? a : b */
  buildCond(c: number, a: number, b: number, line: number, fc: number): number {
    const ty = this.ty;
    const tr = this.tr;
    if (this.isErr(c) || this.isErr(a) || this.isErr(b)) return this.err();
    c = this.truth(c);
    if (this.isErr(c)) return c;
    a = this.rvalue(a);
    b = this.rvalue(b);
    const ta = tr.type(a), tb = tr.type(b);
    let t = 0;
    if (ty.isInteger(ta) && ty.isInteger(tb)) {
      t = ty.common(ta, tb);
      a = this.convert(a, t);
      b = this.convert(b, t);
    } else if (ty.isPointer(ta) && ty.isPointer(tb)) t = ty.isVoid(ty.target(tb)) ? tb : ta;
    else if (ty.isPointer(ta) && ty.isInteger(tb)) t = ta;
    else if (ty.isInteger(ta) && ty.isPointer(tb)) t = tb;
    else if (ta === tb && (ty.isRecord(ta) || ty.isVoid(ta))) t = ta;
    else if (ty.isVoid(ta) && ty.isVoid(tb)) t = ty.void;
    if (t === 0) {
      this.diag.error(line, fc, "type mismatch in conditional expression");
      return this.err();
    }
    if (tr.code(c) === N.INT_CST) return this.convert(tr.value(c) !== 0 ? a : b, t);
    return this.node(N.COND, t, line, fc, c, a, b);
  }

  /** A condition: a scalar value (c_objc_common_truthvalue_conversion). */
  truth(e: number): number {
    if (this.isErr(e)) return e;
    e = this.value(e);
    if (this.isErr(e)) return e;
    const t = this.tr.type(e);
    if (!this.ty.isScalar(t)) {
      const k = this.ty.kind(t);
      this.diag.error(this.tr.line(e), this.tr.fc(e), `used ${k === K.UNION ? "union" : k === K.ARRAY ? "array" : "struct"} type value where scalar is required`);
      return this.err();
    }
    return e;
  }

  /** e1 , e2 */
  buildComma(a: number, b: number, line: number, fc: number): number {
    if (this.isErr(a) || this.isErr(b)) return this.err();
    b = this.rvalue(b);
    return this.node(N.COMMA, this.tr.type(b), line, fc, a, b);
  }

  /** A call: fn(args...), args a chain through N_NEXT. */
  buildCall(fn: number, args: number, nargs: number, line: number, fc: number): number {
    const ty = this.ty;
    const tr = this.tr;
    const m = this.m;
    if (this.isErr(fn)) return this.err();
    for (let a = args; a !== 0; a = tr.next(a)) if (this.isErr(a)) return this.err();
    let fname = "";
    if (tr.code(fn) === N.DECL_REF) fname = this.name(tr.dName(tr.op0(fn)));
    const f = this.rvalue(fn);
    const pt = tr.type(f);
    if (!ty.isPointer(pt) || !ty.isFunc(ty.target(pt))) {
      const what = fname !== "" ? ` '${fname}'` : tr.code(fn) === N.INT_CST ? ` '${tr.value(fn)}'` : "";
      this.diag.error(tr.line(fn), tr.fc(fn), `called object${what} is not a function or function pointer`);
      return this.err();
    }
    const ft = ty.target(pt);
    const ret = ty.target(ft);
    const flags = ty.flags(ft);
    const nparams = ty.count(ft);
    const fnLine = tr.line(fn), fnFc = tr.fc(fn);
    const shownName = fname !== "" ? ` '${fname}'` : "";
    if (flags & TF_PROTOTYPED) {
      if (nargs > nparams && !(flags & TF_VARIADIC)) {
        this.diag.error(fnLine, fnFc, `too many arguments to function${shownName}`);
        return this.err();
      }
      if (nargs < nparams) {
        this.diag.error(fnLine, fnFc, `too few arguments to function${shownName}`);
        return this.err();
      }
    }
    if (ty.isRecord(ret)) {
      this.sorry(line, fc, "returning a struct or union by value");
      return this.err();
    }
    // Convert the arguments, relinking the chain.
    let p = flags & TF_PROTOTYPED ? ty.fields(ft) : 0;
    let head = 0, tail = 0;
    let i = 0;
    for (let a = args; a !== 0; ) {
      const next = tr.next(a);
      let c: number;
      if (p !== 0) {
        const ptype = m.readU32(p + F_TYPE);
        if (ty.isRecord(ptype)) {
          this.sorry(tr.line(a), tr.fc(a), "passing a struct or union by value");
          return this.err();
        }
        c = this.convertFor(ptype, a, Ctx.ARG, i + 1, fname);
        p = m.readU32(p + F_NEXT);
      } else {
        c = this.value(a);
        if (!this.isErr(c)) {
          if (ty.isRecord(tr.type(c))) {
            this.sorry(tr.line(a), tr.fc(a), "passing a struct or union by value");
            return this.err();
          }
          c = this.convert(c, ty.promote(tr.type(c)));
        }
      }
      if (this.isErr(c)) return this.err();
      if (c === a) tr.setNext(c, 0);
      if (tail === 0) head = c;
      else tr.setNext(tail, c);
      tail = c;
      a = next;
      i++;
    }
    const n = this.node(N.CALL, ret, fnLine, fnFc, f, head, nargs);
    let depth = 0;
    for (let a = head; a !== 0; a = tr.next(a)) depth = Math.max(depth, m.read16(a + N_DEPTH));
    if (depth + 1 > MAX_EXPR_DEPTH) this.diag.fatal(line, fc, `expression nesting exceeds maximum of ${MAX_EXPR_DEPTH}`);
    m.write16(n + N_DEPTH, Math.max(m.read16(n + N_DEPTH), depth + 1));
    return n;
  }

  /** __syscall(n, a, ...): up to six integer or pointer arguments. */
  buildSyscall(args: number, nargs: number, line: number, fc: number): number {
    const tr = this.tr;
    if (nargs < 1 || nargs > 6) {
      this.diag.error(line, fc, nargs < 1 ? "too few arguments to function '__syscall'" : "too many arguments to function '__syscall'");
      return this.err();
    }
    let head = 0, tail = 0;
    let i = 0;
    for (let a = args; a !== 0; ) {
      const next = tr.next(a);
      const c = this.convertFor(this.ty.int, a, Ctx.ARG, ++i, "__syscall");
      if (this.isErr(c)) return c;
      tr.setNext(c, 0);
      if (tail === 0) head = c;
      else tr.setNext(tail, c);
      tail = c;
      a = next;
    }
    return this.node(N.SYSCALL, this.ty.int, line, fc, head, nargs);
  }

  /** obj.name or obj->name */
  buildMember(obj: number, ident: number, arrow: boolean, line: number, fc: number): number {
    const ty = this.ty;
    const tr = this.tr;
    if (this.isErr(obj)) return obj;
    let st: number;
    if (arrow) {
      obj = this.rvalue(obj);
      const t = tr.type(obj);
      if (!ty.isPointer(t)) {
        this.diag.error(line, fc, `invalid type argument of '->' (have '${ty.name(t)}')`);
        return this.err();
      }
      st = ty.target(t);
      if (!ty.isRecord(st)) {
        this.diag.error(line, fc, `request for member '${this.name(ident)}' in something not a structure or union`);
        return this.err();
      }
      obj = this.node(N.DEREF, st, line, fc, obj);
    } else {
      st = tr.type(obj);
      if (!ty.isRecord(st)) {
        this.diag.error(line, fc, `request for member '${this.name(ident)}' in something not a structure or union`);
        return this.err();
      }
    }
    if (!ty.isComplete(st)) {
      this.diag.error(line, fc, `invalid use of undefined type '${ty.name(st)}'`);
      return this.err();
    }
    const f = ty.findField(st, ident);
    if (f === 0) {
      this.diag.error(line, fc, `'${ty.name(st)}' has no member named '${this.name(ident)}'`);
      return this.err();
    }
    return this.node(N.MEMBER, this.m.readU32(f + F_TYPE), line, fc, obj, this.m.read32(f + 8));
  }

  /** a[i] */
  buildIndex(a: number, i: number, line: number, fc: number): number {
    const ty = this.ty;
    const tr = this.tr;
    if (this.isErr(a) || this.isErr(i)) return this.err();
    a = this.rvalue(a);
    i = this.rvalue(i);
    if (ty.isInteger(tr.type(a)) && ty.isPointer(tr.type(i))) [a, i] = [i, a];
    if (!ty.isPointer(tr.type(a))) {
      this.diag.error(line, fc, "subscripted value is neither array nor pointer nor vector");
      return this.err();
    }
    if (!ty.isInteger(tr.type(i))) {
      this.diag.error(line, fc, "array subscript is not an integer");
      return this.err();
    }
    const p = this.pointerArith(N.ADD, a, i, line, fc);
    if (this.isErr(p)) return p;
    return this.node(N.DEREF, ty.target(tr.type(a)), line, fc, p);
  }

  /** (type) e */
  buildCast(t: number, e: number, line: number, fc: number): number {
    const ty = this.ty;
    const tr = this.tr;
    if (this.isErr(e) || ty.isError(t)) return this.err();
    e = this.rvalue(e);
    if (ty.isVoid(t)) return this.node(N.CONVERT, t, line, fc, e);
    if (!ty.isScalar(t)) {
      if (ty.isRecord(t) && tr.type(e) === t) return e;
      this.diag.error(line, fc, "conversion to non-scalar type requested");
      return this.err();
    }
    const et = tr.type(e);
    if (!ty.isScalar(et)) {
      this.diag.error(line, fc, ty.isVoid(et) ? "void value not ignored as it ought to be" : `aggregate value used where ${ty.isPointer(t) ? "a pointer" : "an integer"} was expected`);
      return this.err();
    }
    const c = this.convert(e, t);
    if (c === e && tr.code(e) !== N.INT_CST) return this.node(N.CONVERT, t, line, fc, e);
    return c;
  }

  /** sizeof for a type. */
  buildSizeof(t: number, line: number, fc: number): number {
    const ty = this.ty;
    if (ty.isError(t)) return this.err();
    let size: number;
    if (ty.isVoid(t) || ty.isFunc(t)) size = 1;
    else if (!ty.isComplete(t)) {
      this.diag.error(line, fc, `invalid application of 'sizeof' to incomplete type '${ty.name(t)}'`);
      return this.err();
    } else size = ty.size(t);
    return this.intCst(size, ty.uint, line, fc);
  }

  /** An identifier in an expression. */
  buildDeclRef(ident: number, line: number, fc: number, called: boolean): number {
    const tr = this.tr;
    const d = this.lookup(ident);
    if (d === 0) {
      if (called) {
        this.diag.error(line, fc, `implicit declaration of function '${this.name(ident)}'`);
        this.bind(ident, tr.decl(DK.ERROR, ident, this.ty.error, line, fc), false, this.fnScope());
      } else if (this.fn !== 0) {
        this.diag.error(line, fc, `'${this.name(ident)}' undeclared (first use in this function)`);
        this.bind(ident, tr.decl(DK.ERROR, ident, this.ty.error, line, fc), false, this.fnScope());
      } else this.diag.error(line, fc, `'${this.name(ident)}' undeclared here (not in a function)`);
      return this.err();
    }
    switch (tr.dKind(d)) {
      case DK.ERROR:
        return this.err();
      case DK.ENUMCONST:
        return this.intCst(tr.dOffset(d), this.ty.int, line, fc);
      default:
        tr.dSetFlags(d, tr.dFlags(d) | DF_USED);
        return this.tr.build(N.DECL_REF, tr.dType(d), line, fc, d);
    }
  }

  /** The scope of the function body being compiled (for undeclared-identifier placeholders). */
  private fnScope(): number {
    let s = this.scope;
    const m = this.m;
    while (s !== 0 && m.read32(s + S_DEPTH) > this.fnDepth) s = m.readU32(s + S_OUTER);
    return s !== 0 ? s : this.scope;
  }

  /** A string literal (bytes, length without the NUL): an array of char lvalue. */
  buildString(bytes: number, len: number, line: number, fc: number): number {
    const t = this.ty.arrayOf(this.ty.char, len + 1);
    return this.tr.build(N.STRING_CST, t, line, fc, bytes, len, 0);
  }

  /** The value of an integer constant expression, or null. */
  constValue(e: number): number | null {
    return this.tr.code(e) === N.INT_CST && this.ty.isInteger(this.tr.type(e)) ? this.tr.value(e) : null;
  }

  /**
   * An address constant (for static initializers): [what, symbol, offset]
   * where what is 0 (a plain number), 1 (symbol is a decl) or 2 (a
   * STRING_CST node); null if e is not constant.
   */
  staticAddress(e: number): [number, number, number] | null {
    const tr = this.tr;
    for (let guard = 0; guard < 10000; guard++) {
      switch (tr.code(e)) {
        case N.INT_CST:
          return [0, 0, tr.value(e)];
        case N.CONVERT:
          e = tr.op0(e);
          continue;
        case N.ADDR:
          return this.lvalueAddress(tr.op0(e));
        case N.ADD:
        case N.SUB: {
          const b = tr.op1(e);
          if (tr.code(b) !== N.INT_CST) return null;
          const a = this.staticAddress(tr.op0(e));
          if (a === null) return null;
          return [a[0], a[1], (a[2] + (tr.code(e) === N.ADD ? tr.value(b) : -tr.value(b))) | 0];
        }
        default:
          return null;
      }
    }
    return null;
  }

  private lvalueAddress(lv: number): [number, number, number] | null {
    const tr = this.tr;
    switch (tr.code(lv)) {
      case N.DECL_REF: {
        const d = tr.op0(lv);
        const f = tr.dFlags(d);
        return f & (DF_GLOBAL | DF_LOCAL_STATIC) ? [1, d, 0] : null;
      }
      case N.STRING_CST:
        return [2, lv, 0];
      case N.MEMBER: {
        const a = this.lvalueAddress(tr.op0(lv));
        return a === null ? null : [a[0], a[1], a[2] + tr.op1(lv)];
      }
      case N.DEREF:
        return this.staticAddress(tr.op0(lv));
      default:
        return null;
    }
  }

  /** sorry, unimplemented: a construct outside the subset. */
  sorry(line: number, fc: number, what: string): void {
    this.libc.eprintf("%s: sorry, unimplemented: %s\n", this.diag.where(line, fc), what);
    this.diag.errors++;
  }

  /** Decl accessors the parser and code generator share. */
  declInit(d: number): number {
    return this.m.readU32(d + D_INIT);
  }
  setDeclInit(d: number, init: number): void {
    this.m.write32(d + D_INIT, init);
  }
  declLabel(d: number): number {
    return this.m.read32(d + D_LABEL);
  }
  declLoc(d: number): [number, number] {
    return [this.m.read32(d + D_LINE), this.m.readU32(d + D_FC)];
  }
  declFlags(d: number): number {
    return this.m.read16(d + D_FLAGS);
  }
}

