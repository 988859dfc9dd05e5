// The recursive-descent parser (c-parser.c): declarations, declarators,
// struct/union/enum specifiers, initializers, statements and expressions with
// C's precedence, walking the token vector by index. Each construct is handed
// to sema as it is recognised (build_* check and fold it); each function body
// goes to the code generator when it is complete. Syntax errors stop the
// compilation (gcc's wording and locations: a missing ';' ')' ']' ':' is
// reported just after the previous token).

import type { Libc } from "../../../libc/libc.ts";
import type { UserMemory } from "../../../kernel/uaccess.ts";
import { TK_LEN, type TokenVec } from "./clex.ts";
import type { Codegen } from "./codegen.ts";
import { type Diag, locCol, locFile, makeFc } from "./diag.ts";
import type { Ggc } from "./ggc.ts";
import { Ctx, type Sema } from "./sema.ts";
import { DF_DEFINED, DF_GLOBAL, DF_LOCAL_STATIC, DK, N, SC, D_TYPE } from "./tree.ts";
import { INT_LONG, INT_UNSIGNED, SPELL, T, TK_FC, TK_KIND, TK_LINE, TK_VAL, TK_VAL2, TOK_SIZE } from "./tokens.ts";
import { F_LINE, F_NAME, F_NEXT, F_OFFSET, F_TYPE, K, TF_COMPLETE, TF_DEFINING, TF_PROTOTYPED, TF_VARIADIC, TY_ALIGN, TY_FIELDS, TY_SIZE, TY_TAG, type Types } from "./types.ts";

// Declarator nodes (ggc, 16 B; gcc's c_declarator): +0 kind, +4 a, +8 b, +12 next
const DR_PTR = 1, DR_ARRAY = 2, DR_FUNC = 3;
const DR_KIND = 0, DR_A = 4, DR_B = 8, DR_NEXT = 12, DR_BYTES = 16;

const MAX_PARENS = 256;
const MAX_STMT_NESTING = 1000;
const MAX_NEST = 1000;

/** Binary operators: token -> [tree code, precedence]. */
const BINOP: ([N, number] | undefined)[] = [];
BINOP[T.OROR] = [N.LOGOR, 1];
BINOP[T.ANDAND] = [N.LOGAND, 2];
BINOP[T.BAR] = [N.BOR, 3];
BINOP[T.CARET] = [N.BXOR, 4];
BINOP[T.AMP] = [N.BAND, 5];
BINOP[T.EQ] = [N.EQ, 6];
BINOP[T.NE] = [N.NE, 6];
BINOP[T.LT] = [N.LT, 7];
BINOP[T.GT] = [N.GT, 7];
BINOP[T.LE] = [N.LE, 7];
BINOP[T.GE] = [N.GE, 7];
BINOP[T.SHL] = [N.SHL, 8];
BINOP[T.SHR] = [N.SHR, 8];
BINOP[T.PLUS] = [N.ADD, 9];
BINOP[T.MINUS] = [N.SUB, 9];
BINOP[T.STAR] = [N.MUL, 10];
BINOP[T.SLASH] = [N.DIV, 10];
BINOP[T.PERCENT] = [N.MOD, 10];

const ASSIGN_OP: (N | undefined)[] = [];
ASSIGN_OP[T.ASSIGN] = N.ASSIGN;
ASSIGN_OP[T.ADD_ASSIGN] = N.ADD;
ASSIGN_OP[T.SUB_ASSIGN] = N.SUB;
ASSIGN_OP[T.MUL_ASSIGN] = N.MUL;
ASSIGN_OP[T.DIV_ASSIGN] = N.DIV;
ASSIGN_OP[T.MOD_ASSIGN] = N.MOD;
ASSIGN_OP[T.SHL_ASSIGN] = N.SHL;
ASSIGN_OP[T.SHR_ASSIGN] = N.SHR;
ASSIGN_OP[T.AND_ASSIGN] = N.BAND;
ASSIGN_OP[T.XOR_ASSIGN] = N.BXOR;
ASSIGN_OP[T.OR_ASSIGN] = N.BOR;

/** The result of parsing declaration specifiers. */
interface Specs {
  type: number;
  sc: SC;
  typedef: boolean;
  /** Some specifier was seen; `typed`: a type specifier was. */
  any: boolean;
  typed: boolean;
}

export class Parser {
  private pos = 0;
  private readonly m: UserMemory;
  private readonly base: number;
  private readonly ty: Types;
  private readonly tr;

  // The declarator being parsed: its identifier and location.
  private declName = 0;
  private declLine = 0;
  private declFc = 0;

  private parens = 0;
  /** Recursion through assignment, ?:, casts and unary operators. */
  private nest = 0;
  private stmts = 0;
  /** Enclosing loops and switches (for break and continue). */
  private loops = 0;
  private breakables = 0;
  /** The innermost switch: its case chain and whether it has a default. */
  private swNode = 0;
  private swCases = 0;
  private swDefault = false;

  private readonly symDecl: number;
  private readonly symStmt: number;
  private readonly symExpr: number;

  constructor(
    private readonly libc: Libc,
    private readonly diag: Diag,
    private readonly ggc: Ggc,
    private readonly s: Sema,
    vec: TokenVec,
    private readonly cg: Codegen,
  ) {
    this.m = libc.mem;
    this.base = vec.base;
    this.ty = s.ty;
    this.tr = s.tr;
    this.symDecl = libc.symbol("cc1", "c_parser_declaration_or_fndef");
    this.symStmt = libc.symbol("cc1", "c_parser_statement_after_labels");
    this.symExpr = libc.symbol("cc1", "c_parser_binary_expression");
  }

  // ---- tokens ------------------------------------------------------------------------------

  private kind(i = this.pos): number {
    return this.m.read8(this.base + i * TOK_SIZE + TK_KIND);
  }
  private val(i = this.pos): number {
    return this.m.readU32(this.base + i * TOK_SIZE + TK_VAL);
  }
  private val2(i = this.pos): number {
    return this.m.read32(this.base + i * TOK_SIZE + TK_VAL2);
  }
  private line(i = this.pos): number {
    return this.m.read32(this.base + i * TOK_SIZE + TK_LINE);
  }
  private fc(i = this.pos): number {
    return this.m.readU32(this.base + i * TOK_SIZE + TK_FC);
  }
  private advance(): void {
    if (this.kind() !== T.EOF) this.pos++;
    this.libc.work(60);
  }
  private peek(n = 1): number {
    const i = this.pos + n;
    for (let j = this.pos; j < i; j++) if (this.kind(j) === T.EOF) return T.EOF;
    return this.kind(i);
  }

  /** How the token at i is described after "expected X". */
  private describe(i = this.pos): string {
    const k = this.kind(i);
    if (k === T.EOF) return "at end of input";
    if (k === T.IDENT || (k >= T.KW_FIRST && k < T.KW_LAST)) return `before '${this.s.idents.name(this.val(i))}'`;
    if (k === T.INT) return "before numeric constant";
    if (k === T.STR) return "before string constant";
    if (k === T.CHR) {
      const v = this.val(i) & 0xff;
      return v > 0x20 && v < 0x7f ? `before '${String.fromCharCode(v)}'` : `before '\\x${v.toString(16)}'`;
    }
    return `before '${SPELL[k] ?? "?"}' token`;
  }

  /** A syntax error at the current token: "expected WHAT before ..." (stops). */
  private expected(what: string): never {
    this.diag.errorStop(this.line(), this.fc(), `expected ${what} ${this.describe()}`);
  }

  /** c_parser_require for ; ) ] : - reported just after the previous token. */
  private require(k: T): void {
    if (this.kind() === k) {
      this.advance();
      return;
    }
    const what = `'${SPELL[k]}'`;
    if (this.pos > 0 && (k === T.SEMI || k === T.RPAREN || k === T.RBRACK || k === T.COLON)) {
      const p = this.pos - 1;
      const fc = this.fc(p);
      const len = this.m.read16(this.base + p * TOK_SIZE + TK_LEN);
      this.diag.errorStop(this.line(p), makeFc(locFile(fc), locCol(fc) + len), `expected ${what} ${this.describe()}`);
    }
    this.expected(what);
  }

  private accept(k: T): boolean {
    if (this.kind() !== k) return false;
    this.advance();
    return true;
  }

  // ---- the translation unit ------------------------------------------------------------------

  parseTranslationUnit(): void {
    while (this.kind() !== T.EOF) {
      const prev = this.libc.enter(this.symDecl);
      this.externalDeclaration();
      this.libc.leave(prev);
    }
  }

  private isTypeStart(i = this.pos): boolean {
    const k = this.kind(i);
    switch (k) {
      case T.KW_VOID: case T.KW_CHAR: case T.KW_SHORT: case T.KW_INT: case T.KW_LONG: case T.KW_SIGNED:
      case T.KW_UNSIGNED: case T.KW_STRUCT: case T.KW_UNION: case T.KW_ENUM: case T.KW_CONST:
      case T.KW_VOLATILE: case T.KW_FLOAT: case T.KW_DOUBLE:
        return true;
      case T.IDENT:
        return this.s.isTypedefName(this.val(i));
      default:
        return false;
    }
  }

  private isDeclStart(i = this.pos): boolean {
    const k = this.kind(i);
    switch (k) {
      case T.KW_TYPEDEF: case T.KW_EXTERN: case T.KW_STATIC: case T.KW_AUTO: case T.KW_REGISTER: case T.KW_INLINE:
        return true;
      default:
        return this.isTypeStart(i);
    }
  }

  /** declaration-specifiers */
  private declSpecs(): Specs {
    const ty = this.ty;
    let sc = SC.NONE;
    let scSeen = false;
    let typedef = false;
    let any = false;
    let nVoid = 0, nChar = 0, nShort = 0, nLong = 0, nInt = 0, nSigned = 0, nUnsigned = 0;
    let other = 0; // a tag or typedef type
    const both = (a: string, b: string) => this.diag.error(this.line(), this.fc(), `both '${a}' and '${b}' in declaration specifiers`);
    const twoTypes = () => this.diag.error(this.line(), this.fc(), "two or more data types in declaration specifiers");
    const basic = () => nVoid + nChar + nInt + (other !== 0 ? 1 : 0);
    for (;;) {
      const k = this.kind();
      let storage = -1;
      switch (k) {
        case T.KW_TYPEDEF: storage = 100; break;
        case T.KW_EXTERN: storage = SC.EXTERN; break;
        case T.KW_STATIC: storage = SC.STATIC; break;
        case T.KW_AUTO: case T.KW_REGISTER: storage = SC.AUTO; break;
        case T.KW_CONST: case T.KW_VOLATILE: case T.KW_INLINE: break;
        case T.KW_VOID:
          if (basic() > 0) twoTypes();
          else if (nShort) both("short", "void");
          else if (nLong) both("long", "void");
          else if (nSigned) both("signed", "void");
          else if (nUnsigned) both("unsigned", "void");
          nVoid++;
          break;
        case T.KW_CHAR:
          if (basic() > 0) twoTypes();
          else if (nShort) both("short", "char");
          else if (nLong) both("long", "char");
          nChar++;
          break;
        case T.KW_INT:
          if (basic() > 0) twoTypes();
          nInt++;
          break;
        case T.KW_SHORT:
          if (nChar) both("short", "char");
          else if (nLong) both("long", "short");
          else if (nVoid) both("short", "void");
          else if (other) twoTypes();
          nShort++;
          break;
        case T.KW_LONG:
          if (nChar) both("long", "char");
          else if (nShort) both("long", "short");
          else if (nVoid) both("long", "void");
          else if (nLong) this.s.sorry(this.line(), this.fc(), "'long long' (the subset's long is 32 bits)");
          else if (other) twoTypes();
          nLong++;
          break;
        case T.KW_SIGNED:
          if (nUnsigned) both("signed", "unsigned");
          else if (nVoid) both("signed", "void");
          else if (other) twoTypes();
          nSigned++;
          break;
        case T.KW_UNSIGNED:
          if (nSigned) both("signed", "unsigned");
          else if (nVoid) both("unsigned", "void");
          else if (other) twoTypes();
          nUnsigned++;
          break;
        case T.KW_FLOAT:
        case T.KW_DOUBLE:
          this.s.sorry(this.line(), this.fc(), "floating-point types");
          nInt++;
          break;
        case T.KW_STRUCT:
        case T.KW_UNION:
        case T.KW_ENUM: {
          const tline = this.line(), tfc = this.fc();
          const t = k === T.KW_ENUM ? this.enumSpecifier() : this.structSpecifier();
          if (basic() + nShort + nLong + nSigned + nUnsigned > 0) this.diag.error(tline, tfc, "two or more data types in declaration specifiers");
          other = t;
          any = true;
          continue;
        }
        default: {
          if (k === T.IDENT && basic() + nShort + nLong + nSigned + nUnsigned === 0 && this.s.isTypedefName(this.val())) {
            other = this.tr.dType(this.s.lookup(this.val()));
            break;
          }
          let type: number;
          const typed = basic() + nShort + nLong + nSigned + nUnsigned > 0;
          if (other !== 0) type = other;
          else if (nVoid) type = ty.void;
          else if (nChar) type = nSigned ? ty.schar : nUnsigned ? ty.uchar : ty.char;
          else if (nShort) type = nUnsigned ? ty.ushort : ty.short;
          else if (nLong) type = nUnsigned ? ty.ulong : ty.long;
          else type = nUnsigned ? ty.uint : ty.int;
          return { type, sc, typedef, any, typed };
        }
      }
      if (storage >= 0) {
        if (scSeen) this.diag.error(this.line(), this.fc(), "multiple storage classes in declaration specifiers");
        scSeen = true;
        if (storage === 100) typedef = true;
        else sc = storage;
      }
      any = true;
      this.advance();
    }
  }

  /** struct-or-union-specifier */
  private structSpecifier(): number {
    const ty = this.ty;
    const m = this.m;
    const isUnion = this.kind() === T.KW_UNION;
    const kw = isUnion ? "union" : "struct";
    const kind = isUnion ? K.UNION : K.STRUCT;
    this.advance();
    let tag = 0;
    const tline = this.line(), tfc = this.fc();
    if (this.kind() === T.IDENT) {
      tag = this.val();
      this.advance();
    }
    if (this.kind() !== T.LBRACE) {
      if (tag === 0) this.expected("'{'");
      const old = this.s.lookupTag(tag);
      if (old !== 0) {
        if (ty.kind(old) !== kind) this.diag.error(tline, tfc, `'${kw} ${this.s.idents.name(tag)}' defined as wrong kind of tag`);
        return old;
      }
      const t = ty.make(kind, 0, 1, 0);
      m.write32(t + TY_TAG, tag);
      this.s.bind(tag, t, true);
      return t;
    }
    this.advance();
    let t = 0;
    if (tag !== 0) {
      const old = this.s.lookupTagHere(tag);
      if (old !== 0 && ty.kind(old) === kind && !(ty.flags(old) & (TF_COMPLETE | TF_DEFINING))) t = old;
      else if (old !== 0 && ty.kind(old) === kind) {
        this.diag.error(tline, tfc, `redefinition of '${kw} ${this.s.idents.name(tag)}'`);
      } else if (old !== 0) this.diag.error(tline, tfc, `'${kw} ${this.s.idents.name(tag)}' defined as wrong kind of tag`);
    }
    if (t === 0) {
      t = ty.make(kind, 0, 1, 0);
      m.write32(t + TY_TAG, tag);
      if (tag !== 0 && this.s.lookupTagHere(tag) === 0) this.s.bind(tag, t, true);
    }
    ty.setFlags(t, TF_DEFINING);
    // Members.
    let size = 0, align = 1, head = 0, tail = 0;
    while (this.kind() !== T.RBRACE) {
      if (this.kind() === T.EOF) this.expected("';', identifier or '('");
      if (this.kind() === T.SEMI) {
        this.advance();
        continue;
      }
      const specs = this.declSpecs();
      if (!specs.any) {
        if (this.kind() === T.IDENT && this.peek() === T.IDENT) {
          this.diag.error(this.line(), this.fc(), `unknown type name '${this.s.idents.name(this.val())}'`);
          this.advance();
          specs.type = ty.error;
        } else this.expected("specifier-qualifier-list");
      }
      for (;;) {
        const saveName = this.declName;
        this.declName = 0;
        const chain = this.declarator(false);
        const name = this.declName, fline = this.declLine, ffc = this.declFc;
        this.declName = saveName;
        const ft = this.applyDeclarator(specs.type, chain, name, fline, ffc);
        if (this.kind() === T.COLON) this.diag.errorStop(this.line(), this.fc(), "sorry, unimplemented: bit-fields");
        let ok = true;
        if (ty.isFunc(ft)) {
          this.diag.error(fline, ffc, `field '${this.s.idents.name(name)}' declared as a function`);
          ok = false;
        } else if (!ty.isComplete(ft) && !ty.isError(ft)) {
          this.diag.error(fline, ffc, `field '${this.s.idents.name(name)}' has incomplete type`);
          ok = false;
        } else if (ty.findField(t, name) !== 0 || this.fieldIn(head, name)) {
          this.diag.error(fline, ffc, `duplicate member '${this.s.idents.name(name)}'`);
          ok = false;
        }
        if (ok) {
          const fa = Math.max(1, ty.align(ft));
          const fs = ty.size(ft);
          let off = 0;
          if (isUnion) size = Math.max(size, fs);
          else {
            off = Math.ceil(size / fa) * fa;
            size = off + fs;
          }
          align = Math.max(align, fa);
          const f = ty.field(name, ft, off, fline);
          if (tail === 0) head = f;
          else m.write32(tail + F_NEXT, f);
          tail = f;
        }
        if (this.accept(T.COMMA)) continue;
        if (this.kind() === T.SEMI) {
          this.advance();
          break;
        }
        this.expected("':', ',', ';', '}' or '__attribute__'");
      }
    }
    this.advance(); // }
    size = Math.ceil(size / align) * align;
    m.write32(t + TY_SIZE, size);
    m.write32(t + TY_ALIGN, align);
    m.write32(t + TY_FIELDS, head);
    ty.setFlags(t, TF_COMPLETE);
    this.libc.work(100);
    return t;
  }

  private fieldIn(head: number, name: number): boolean {
    for (let f = head; f !== 0; f = this.m.readU32(f + F_NEXT)) if (this.m.readU32(f + F_NAME) === name) return true;
    return false;
  }

  /** enum-specifier: enumerators are int constants. */
  private enumSpecifier(): number {
    const ty = this.ty;
    this.advance();
    let tag = 0;
    const tline = this.line(), tfc = this.fc();
    if (this.kind() === T.IDENT) {
      tag = this.val();
      this.advance();
    }
    if (this.kind() !== T.LBRACE) {
      if (tag === 0) this.expected("'{'");
      const old = this.s.lookupTag(tag);
      if (old !== 0) return old;
      const t = ty.make(K.ENUM, 4, 4, TF_COMPLETE);
      this.m.write32(t + TY_TAG, tag);
      this.s.bind(tag, t, true);
      return t;
    }
    this.advance();
    let t = tag !== 0 ? this.s.lookupTagHere(tag) : 0;
    if (t !== 0 && ty.kind(t) === K.ENUM && ty.fields(t) !== 0) {
      this.diag.error(tline, tfc, `redeclaration of 'enum ${this.s.idents.name(tag)}'`);
      t = 0;
    }
    if (t === 0) {
      t = ty.make(K.ENUM, 4, 4, TF_COMPLETE);
      this.m.write32(t + TY_TAG, tag);
      if (tag !== 0) this.s.bind(tag, t, true);
    }
    this.m.write32(t + TY_FIELDS, 1); // defined
    let value = 0;
    while (this.kind() !== T.RBRACE) {
      if (this.kind() !== T.IDENT) this.expected("identifier");
      const name = this.val();
      const line = this.line(), fc = this.fc();
      this.advance();
      if (this.accept(T.ASSIGN)) {
        const e = this.conditional();
        const v = this.s.constValue(e);
        if (v === null) {
          if (!this.s.isErr(e)) this.diag.error(this.tr.line(e), this.tr.fc(e), `enumerator value for '${this.s.idents.name(name)}' is not an integer constant`);
        } else value = v;
      }
      this.s.declareEnumConst(name, value, line, fc);
      value = (value + 1) | 0;
      if (this.accept(T.COMMA)) continue;
      if (this.kind() !== T.RBRACE) this.expected("',' or '}'");
    }
    this.advance();
    return t;
  }

  // ---- declarators ------------------------------------------------------------------------------

  private drNode(kind: number, a: number, b: number, next: number): number {
    const d = this.ggc.alloc(DR_BYTES);
    const m = this.m;
    m.write32(d + DR_KIND, kind);
    m.write32(d + DR_A, a);
    m.write32(d + DR_B, b);
    m.write32(d + DR_NEXT, next);
    return d;
  }

  /** At '(' in a declarator: a nested declarator (not a parameter list)? */
  private nestedDeclarator(): boolean {
    const k = this.peek();
    if (k === T.STAR || k === T.LPAREN || k === T.LBRACK) return true;
    return k === T.IDENT && !this.s.isTypedefName(this.val(this.pos + 1));
  }

  /**
   * declarator / abstract-declarator: the derivations to apply to the base
   * type, in order (pointers first, then suffixes from the right, then the
   * nested declarator's). The identifier goes to declName.
   */
  private declarator(abstract: boolean): number {
    let nptr = 0;
    while (this.kind() === T.STAR) {
      this.advance();
      nptr++;
      while (this.kind() === T.KW_CONST || this.kind() === T.KW_VOLATILE) this.advance();
    }
    let head = 0;
    const k = this.kind();
    if (k === T.IDENT) {
      this.declName = this.val();
      this.declLine = this.line();
      this.declFc = this.fc();
      this.advance();
    } else if (k === T.LPAREN && this.nestedDeclarator()) {
      if (++this.parens > MAX_PARENS) this.diag.fatal(this.line(), this.fc(), `bracket nesting level exceeded maximum of ${MAX_PARENS}`);
      this.advance();
      head = this.declarator(abstract);
      this.require(T.RPAREN);
      this.parens--;
    } else if (!abstract) this.expected("identifier or '('");
    for (;;) {
      if (this.kind() === T.LBRACK) {
        const bl = this.line(), bfc = this.fc();
        this.advance();
        let n = -1;
        if (this.kind() !== T.RBRACK) {
          const e = this.assignment();
          const v = this.s.constValue(e);
          const nm = this.declName !== 0 ? ` '${this.s.idents.name(this.declName)}'` : "";
          if (this.s.isErr(e)) n = 0;
          else if (!this.ty.isInteger(this.tr.type(e))) {
            this.diag.error(this.declName !== 0 ? this.declLine : bl, this.declName !== 0 ? this.declFc : bfc, `size of array${nm} has non-integer type`);
            n = 0;
          } else if (v === null) {
            this.s.sorry(this.tr.line(e), this.tr.fc(e), "variable-length arrays");
            n = 0;
          } else if (v < 0) {
            this.diag.error(this.declName !== 0 ? this.declLine : bl, this.declName !== 0 ? this.declFc : bfc, `size of array${nm} is negative`);
            n = 0;
          } else n = v;
        }
        this.require(T.RBRACK);
        head = this.drNode(DR_ARRAY, n, 0, head);
      } else if (this.kind() === T.LPAREN) {
        this.advance();
        const [params, count, flags] = this.parameterList();
        head = this.drNode(DR_FUNC, params, count | (flags << 16), head);
      } else break;
    }
    for (let i = 0; i < nptr; i++) head = this.drNode(DR_PTR, 0, 0, head);
    this.libc.work(300);
    return head;
  }

  /** The type a declarator chain gives a base type. */
  private applyDeclarator(base: number, chain: number, name: number, line: number, fc: number): number {
    const ty = this.ty;
    const m = this.m;
    let t = base;
    const nm = () => (name !== 0 ? `'${this.s.idents.name(name)}'` : "type name");
    for (let d = chain; d !== 0; d = m.readU32(d + DR_NEXT)) {
      switch (m.read32(d + DR_KIND)) {
        case DR_PTR:
          t = ty.pointerTo(t);
          break;
        case DR_ARRAY:
          if (ty.isFunc(t)) {
            this.diag.error(line, fc, `declaration of ${nm()} as array of functions`);
            t = ty.error;
          } else if (ty.isVoid(t)) {
            this.diag.error(line, fc, `declaration of ${nm()} as array of voids`);
            t = ty.error;
          } else if (!ty.isComplete(t) && !ty.isError(t)) {
            this.diag.error(line, fc, `array type has incomplete element type '${ty.name(t)}'`);
            t = ty.error;
          } else t = ty.arrayOf(t, m.read32(d + DR_A));
          break;
        case DR_FUNC:
          if (ty.isArray(t)) {
            this.diag.error(line, fc, `${nm()} declared as function returning an array`);
            t = ty.error;
          } else if (ty.isFunc(t)) {
            this.diag.error(line, fc, `${nm()} declared as function returning a function`);
            t = ty.error;
          } else {
            const b = m.read32(d + DR_B);
            t = ty.funcType(t, m.readU32(d + DR_A), b & 0xffff, b >>> 16);
          }
          break;
      }
    }
    return t;
  }

  /** After '(': a parameter list; [fields, count, flags]. Parameters get their own (prototype) scope. */
  private parameterList(): [number, number, number] {
    const ty = this.ty;
    const m = this.m;
    if (this.accept(T.RPAREN)) return [0, 0, 0];
    if (this.kind() === T.KW_VOID && this.peek() === T.RPAREN) {
      this.advance();
      this.advance();
      return [0, 0, TF_PROTOTYPED];
    }
    this.s.pushScope();
    let head = 0, tail = 0, n = 0, flags = TF_PROTOTYPED;
    const saveName = this.declName, saveLine = this.declLine, saveFc = this.declFc;
    for (;;) {
      if (this.kind() === T.ELLIPSIS && n > 0) {
        this.advance();
        flags |= TF_VARIADIC;
        this.require(T.RPAREN);
        break;
      }
      const specs = this.declSpecs();
      if (!specs.any) {
        if (this.kind() === T.IDENT) {
          this.diag.error(this.line(), this.fc(), `unknown type name '${this.s.idents.name(this.val())}'`);
          this.advance();
          specs.type = ty.error;
        } else this.expected("declaration specifiers or '...'");
      }
      this.declName = 0;
      const pl = this.line(), pfc = this.fc();
      const chain = this.declarator(true);
      const name = this.declName;
      let t = this.applyDeclarator(specs.type, chain, name, this.declName !== 0 ? this.declLine : pl, this.declName !== 0 ? this.declFc : pfc);
      if (ty.isArray(t)) t = ty.pointerTo(ty.target(t));
      else if (ty.isFunc(t)) t = ty.pointerTo(t);
      else if (ty.isVoid(t)) {
        this.diag.error(pl, pfc, name !== 0 ? `parameter ${n + 1} ('${this.s.idents.name(name)}') has void type` : "'void' must be the only parameter");
        t = ty.error;
      }
      // A parameter's field keeps its location: F_LINE and (in F_OFFSET) the column.
      const f = ty.field(name, t, name !== 0 ? this.declFc : pfc, name !== 0 ? this.declLine : pl);
      if (tail === 0) head = f;
      else m.write32(tail + F_NEXT, f);
      tail = f;
      n++;
      if (this.accept(T.COMMA)) continue;
      if (this.accept(T.RPAREN)) break;
      this.expected("';', ',' or ')'");
    }
    this.declName = saveName;
    this.declLine = saveLine;
    this.declFc = saveFc;
    this.s.popScope();
    return [head, n, flags];
  }

  /** type-name (casts, sizeof) */
  private typeName(): number {
    const specs = this.declSpecs();
    const save = this.declName;
    this.declName = 0;
    const chain = this.declarator(true);
    this.declName = save;
    return this.applyDeclarator(specs.type, chain, 0, this.line(), this.fc());
  }

  // ---- declarations --------------------------------------------------------------------------------

  private externalDeclaration(): void {
    if (this.accept(T.SEMI)) return;
    let specs = this.declSpecs();
    if (!specs.any) {
      const k = this.kind();
      if (k === T.IDENT && (this.peek() === T.IDENT || this.peek() === T.STAR)) {
        this.diag.error(this.line(), this.fc(), `unknown type name '${this.s.idents.name(this.val())}'`);
        this.advance();
        specs = { type: this.ty.error, sc: SC.NONE, typedef: false, any: true, typed: true };
      } else if (k !== T.IDENT) this.expected("identifier or '('");
      // An identifier: implicit int (C89: "main() {...}").
    }
    this.initDeclarators(specs, true);
  }

  /** init-declarator-list ';' (or a function definition). */
  private initDeclarators(specs: Specs, fileScope: boolean): void {
    const ty = this.ty;
    const s = this.s;
    if (this.kind() === T.SEMI) {
      this.advance();
      return;
    }
    for (let first = true; ; first = false) {
      this.declName = 0;
      const chain = this.declarator(false);
      const name = this.declName, line = this.declLine, fc = this.declFc;
      const t = this.applyDeclarator(specs.type, chain, name, line, fc);
      let hadInit = false;
      if (specs.typedef) {
        s.declare(DK.TYPEDEF, name, t, SC.NONE, line, fc);
      } else if (ty.isFunc(t)) {
        let sc = specs.sc;
        if (!fileScope && sc === SC.STATIC) this.diag.error(line, fc, `invalid storage class for function '${s.idents.name(name)}'`);
        if (sc === SC.AUTO) sc = SC.EXTERN;
        if (ty.isRecord(ty.target(t))) s.sorry(line, fc, "returning a struct or union by value");
        const d = s.declare(DK.FUNC, name, t, sc === SC.NONE ? SC.NONE : sc, line, fc);
        if (this.kind() === T.LBRACE && first) {
          if (!fileScope) this.diag.errorStop(line, fc, "sorry, unimplemented: nested functions");
          this.functionDefinition(d, t, line, fc);
          return;
        }
      } else {
        const d = s.declare(DK.VAR, name, t, specs.sc, line, fc);
        if (this.kind() === T.ASSIGN) {
          this.advance();
          hadInit = true;
          this.declInitializer(d, specs.sc, fileScope, name, line, fc);
        } else if (!fileScope && specs.sc !== SC.EXTERN && ty.isArray(this.tr.dType(d)) && ty.count(this.tr.dType(d)) < 0) {
          this.diag.error(line, fc, `array size missing in '${s.idents.name(name)}'`);
        }
      }
      if (this.accept(T.COMMA)) continue;
      if (this.accept(T.SEMI)) return;
      if (hadInit) this.expected("',' or ';'");
      this.expected("'=', ',', ';', 'asm' or '__attribute__'");
    }
  }

  /** `= initializer` of a declared variable. */
  private declInitializer(d: number, sc: SC, fileScope: boolean, name: number, line: number, fc: number): void {
    const s = this.s;
    const ty = this.ty;
    const tr = this.tr;
    if (sc === SC.EXTERN && !fileScope) {
      this.diag.error(line, fc, `'${s.idents.name(name)}' has both 'extern' and initializer`);
    }
    let t = tr.dType(d);
    const isStatic = (tr.dFlags(d) & (DF_GLOBAL | DF_LOCAL_STATIC)) !== 0;
    if (!ty.isComplete(t) && !ty.isArray(t) && !ty.isError(t)) {
      this.diag.error(line, fc, `variable '${s.idents.name(name)}' has initializer but incomplete type`);
      t = ty.error;
    }
    const il = this.line(), ifc = this.fc();
    this.initHead = 0;
    this.initTail = 0;
    let count = -1;
    if (ty.isError(t)) this.assignment();
    else count = this.initializer(t, 0, true);
    if (ty.isArray(t) && ty.count(t) < 0 && count >= 0) {
      t = ty.arrayOf(ty.target(t), count);
      if (isStatic) this.m.write32(d + D_TYPE, t);
      else s.completeLocal(d, t);
    }
    const init = this.initHead;
    if (isStatic) {
      // Static storage: every element must be a constant.
      for (let e = init; e !== 0; e = tr.next(e)) {
        if (tr.code(e) !== N.INIT_ELT) continue;
        const x = tr.op0(e);
        if (s.isErr(x)) continue;
        if (ty.isRecord(tr.type(e)) || s.staticAddress(x) === null) {
          this.diag.error(tr.line(x), tr.fc(x), "initializer element is not constant");
          break;
        }
      }
      if (s.markInitialized(d, line, fc)) s.setDeclInit(d, init);
    } else {
      tr.dSetFlags(d, tr.dFlags(d) | DF_DEFINED);
      this.pendingLocalInit = tr.build(N.LOCAL_INIT, t, il, ifc, d, init);
    }
  }

  private initHead = 0;
  private initTail = 0;
  private pendingLocalInit = 0;

  private addInit(n: number): void {
    if (this.initTail === 0) this.initHead = n;
    else this.tr.setNext(this.initTail, n);
    this.initTail = n;
  }

  /**
   * An initializer for an object of type t at offset `off`. `top`: not an
   * element of an enclosing brace list. Returns the number of array elements
   * initialized (for an array of unknown size), else -1.
   */
  private initializer(t: number, off: number, top: boolean): number {
    const ty = this.ty;
    const tr = this.tr;
    const s = this.s;
    if (ty.isArray(t) && this.isCharType(ty.target(t))) {
      // "string" or { "string" }
      const braced = this.kind() === T.LBRACE && this.peek() === T.STR;
      if (this.kind() === T.STR || braced) {
        if (braced) this.advance();
        const bytes = this.val(), len = this.val2();
        const sl = this.line(), sfc = this.fc();
        this.advance();
        if (braced) {
          this.accept(T.COMMA);
          this.require(T.RBRACE);
        }
        const n = ty.count(t);
        const copy = n < 0 ? len + 1 : Math.min(n, len + 1);
        this.addInit(tr.build(N.INIT_STR, t, sl, sfc, bytes, off, copy));
        return n < 0 ? len + 1 : -1;
      }
    }
    if (this.kind() === T.LBRACE) {
      this.advance();
      let r = -1;
      if (ty.isAggregate(t)) r = this.aggregate(t, off, true);
      else {
        if (this.kind() === T.RBRACE) this.expected("expression");
        this.scalarInit(t, off);
        while (this.accept(T.COMMA) && this.kind() !== T.RBRACE) this.assignment(); // excess elements: ignored
      }
      this.require(T.RBRACE);
      return r;
    }
    if (ty.isAggregate(t)) {
      if (!top) return this.aggregate(t, off, false);
      // A struct may be initialized from a struct value.
      const e = this.assignment();
      if (ty.isRecord(t) && (s.isErr(e) || tr.type(e) === t)) {
        this.addInit(tr.build(N.INIT_ELT, t, tr.line(e), tr.fc(e), e, off));
        return -1;
      }
      if (!s.isErr(e)) this.diag.error(tr.line(e), tr.fc(e), "invalid initializer");
      return -1;
    }
    this.scalarInit(t, off);
    return -1;
  }

  private isCharType(t: number): boolean {
    const k = this.ty.kind(t);
    return k === K.CHAR || k === K.SCHAR || k === K.UCHAR;
  }

  private scalarInit(t: number, off: number): void {
    const e = this.assignment();
    const c = this.s.convertFor(t, e, Ctx.INIT, 0, "");
    this.addInit(this.tr.build(N.INIT_ELT, t, this.tr.line(e), this.tr.fc(e), c, off));
  }

  /** The elements of an array or struct initializer (braced: up to '}'; else as many as the object takes). */
  private aggregate(t: number, off: number, braced: boolean): number {
    const ty = this.ty;
    const m = this.m;
    const more = () => this.kind() !== T.RBRACE && this.kind() !== T.EOF;
    /** After an element: consume the ',' if another element of this list follows. */
    const sep = (): boolean => {
      if (this.kind() !== T.COMMA) return false;
      if (!braced && this.peek() === T.RBRACE) return false;
      this.advance();
      return more();
    };
    if (ty.isArray(t)) {
      const elem = ty.target(t);
      const n = ty.count(t);
      const es = ty.size(elem);
      let i = 0;
      while (more()) {
        if (n >= 0 && i >= n) {
          if (!braced) break;
          // excess elements: parsed and dropped
          const save = this.initTail;
          this.initializer(elem, off + i * es, false);
          this.initTail = save;
          if (save !== 0) this.tr.setNext(save, 0);
          else this.initHead = 0;
        } else this.initializer(elem, off + i * es, false);
        i++;
        if (!braced && n >= 0 && i >= n) break;
        if (!sep()) break;
      }
      return i;
    }
    // struct or union
    let f = ty.fields(t);
    const isUnion = ty.kind(t) === K.UNION;
    while (more()) {
      if (f === 0) {
        if (!braced) break;
        this.assignment(); // excess: ignored
      } else {
        this.initializer(m.readU32(f + F_TYPE), off + m.read32(f + F_OFFSET), false);
        f = isUnion ? 0 : m.readU32(f + F_NEXT);
      }
      if (!braced && f === 0) break;
      if (!sep()) break;
    }
    return -1;
  }

  /** function-definition: parameters, body, then code for it. */
  private functionDefinition(d: number, t: number, line: number, fc: number): void {
    const s = this.s;
    const ty = this.ty;
    const m = this.m;
    const tr = this.tr;
    if (tr.dFlags(d) & DF_DEFINED) this.diag.error(line, fc, `redefinition of '${s.idents.name(tr.dName(d))}'`);
    tr.dSetFlags(d, tr.dFlags(d) | DF_DEFINED);
    // The definition's own parameter names (the decl may carry an earlier prototype's type).
    s.fn = d;
    s.frame = 0;
    s.pushScope();
    s.fnDepth = s.depth;
    let i = 0;
    for (let p = ty.fields(t); p !== 0; p = m.readU32(p + F_NEXT), i++) {
      const name = m.readU32(p + F_NAME);
      const pt = m.readU32(p + F_TYPE);
      const pl = m.read32(p + F_LINE), pfc = m.readU32(p + F_OFFSET);
      if (name === 0) {
        this.diag.error(pl, pfc, "parameter name omitted");
        continue;
      }
      if (ty.isRecord(pt)) s.sorry(pl, pfc, "passing a struct or union by value");
      s.declareParam(name, pt, i, pl, pfc);
    }
    const body = this.compound(false);
    s.popScope();
    s.fn = 0;
    if (this.diag.errors === 0) this.cg.expandFunction(d, body, s.frame);
  }

  // ---- statements ------------------------------------------------------------------------------------

  /** compound-statement; `scope`: open a new scope (not for a function's outermost block). */
  private compound(scope: boolean): number {
    const tr = this.tr;
    const bl = this.line(), bfc = this.fc();
    if (this.kind() !== T.LBRACE) this.expected("'{'");
    this.advance();
    if (scope) this.s.pushScope();
    let head = 0, tail = 0;
    const append = (n: number) => {
      if (n === 0) return;
      if (tail === 0) head = n;
      else tr.setNext(tail, n);
      tail = n;
    };
    while (this.kind() !== T.RBRACE) {
      if (this.kind() === T.EOF) this.diag.errorStop(this.line(), this.fc(), "expected declaration or statement at end of input");
      if (this.isLocalDeclStart()) {
        const prev = this.libc.enter(this.symDecl);
        this.localDeclaration(append);
        this.libc.leave(prev);
      } else append(this.statement());
    }
    this.advance();
    if (scope) this.s.popScope();
    return tr.build(N.BLOCK, 0, bl, bfc, head);
  }

  private isLocalDeclStart(): boolean {
    if (this.isDeclStart()) return true;
    // "foo x;" with foo not a type: a declaration with an unknown type name.
    return this.kind() === T.IDENT && this.peek() === T.IDENT && this.s.lookup(this.val()) === 0;
  }

  private localDeclaration(append: (n: number) => void): void {
    let specs = this.declSpecs();
    if (!specs.any) {
      this.diag.error(this.line(), this.fc(), `unknown type name '${this.s.idents.name(this.val())}'`);
      this.advance();
      specs = { type: this.ty.error, sc: SC.NONE, typedef: false, any: true, typed: true };
    }
    if (specs.sc === SC.NONE && !specs.typedef) specs.sc = SC.AUTO;
    if (this.accept(T.SEMI)) return;
    for (;;) {
      this.pendingLocalInit = 0;
      this.declName = 0;
      const chain = this.declarator(false);
      const name = this.declName, line = this.declLine, fc = this.declFc;
      const t = this.applyDeclarator(specs.type, chain, name, line, fc);
      let hadInit = false;
      if (specs.typedef) this.s.declare(DK.TYPEDEF, name, t, SC.NONE, line, fc);
      else if (this.ty.isFunc(t)) {
        if (specs.sc === SC.STATIC) this.diag.error(line, fc, `invalid storage class for function '${this.s.idents.name(name)}'`);
        this.s.declare(DK.FUNC, name, t, SC.EXTERN, line, fc);
        if (this.kind() === T.LBRACE) this.diag.errorStop(line, fc, "sorry, unimplemented: nested functions");
      } else {
        const d = this.s.declare(DK.VAR, name, t, specs.sc, line, fc);
        if (this.accept(T.ASSIGN)) {
          hadInit = true;
          this.declInitializer(d, specs.sc, false, name, line, fc);
          append(this.pendingLocalInit);
        } else if (specs.sc !== SC.EXTERN && this.ty.isArray(this.tr.dType(d)) && this.ty.count(this.tr.dType(d)) < 0) {
          this.diag.error(line, fc, `array size missing in '${this.s.idents.name(name)}'`);
        }
      }
      if (this.accept(T.COMMA)) continue;
      if (this.accept(T.SEMI)) return;
      if (hadInit) this.expected("',' or ';'");
      this.expected("'=', ',', ';', 'asm' or '__attribute__'");
    }
  }

  private statement(): number {
    if (++this.stmts > MAX_STMT_NESTING) this.diag.fatal(this.line(), this.fc(), `statements nested too deeply (maximum ${MAX_STMT_NESTING})`);
    const prev = this.libc.enter(this.symStmt);
    try {
      this.libc.work(200);
      return this.statement1();
    } finally {
      this.libc.leave(prev);
      this.stmts--;
    }
  }

  private statement1(): number {
    const s = this.s;
    const tr = this.tr;
    const line = this.line(), fc = this.fc();
    switch (this.kind()) {
      case T.LBRACE:
        return this.compound(true);
      case T.SEMI:
        this.advance();
        return tr.build(N.EMPTY, 0, line, fc);
      case T.KW_IF: {
        this.advance();
        this.require(T.LPAREN);
        const c = s.truth(this.expression());
        this.require(T.RPAREN);
        const then = this.statement();
        const els = this.accept(T.KW_ELSE) ? this.statement() : 0;
        return tr.build(N.IF, 0, line, fc, c, then, els);
      }
      case T.KW_WHILE: {
        this.advance();
        this.require(T.LPAREN);
        const c = s.truth(this.expression());
        this.require(T.RPAREN);
        const body = this.loopBody();
        return tr.build(N.WHILE, 0, line, fc, c, body);
      }
      case T.KW_DO: {
        this.advance();
        const body = this.loopBody();
        if (this.kind() !== T.KW_WHILE) this.expected("'while'");
        this.advance();
        this.require(T.LPAREN);
        const c = s.truth(this.expression());
        this.require(T.RPAREN);
        this.require(T.SEMI);
        return tr.build(N.DO, 0, line, fc, body, c);
      }
      case T.KW_FOR: {
        this.advance();
        this.require(T.LPAREN);
        let scoped = false;
        let init = 0;
        if (this.isDeclStart()) {
          s.pushScope();
          scoped = true;
          let head = 0, tail = 0;
          this.localDeclaration((n) => {
            if (n === 0) return;
            if (tail === 0) head = n;
            else tr.setNext(tail, n);
            tail = n;
          });
          init = head !== 0 ? tr.build(N.BLOCK, 0, line, fc, head) : 0;
        } else {
          if (this.kind() !== T.SEMI) init = tr.build(N.EXPR_STMT, 0, line, fc, this.expression());
          this.require(T.SEMI);
        }
        let cond = 0;
        if (this.kind() !== T.SEMI) cond = s.truth(this.expression());
        this.require(T.SEMI);
        let step = 0;
        if (this.kind() !== T.RPAREN) step = this.expression();
        this.require(T.RPAREN);
        const body = this.loopBody();
        if (scoped) s.popScope();
        return tr.build(N.FOR, 0, line, fc, init, cond, step, body);
      }
      case T.KW_SWITCH: {
        this.advance();
        this.require(T.LPAREN);
        let c = this.expression();
        this.require(T.RPAREN);
        if (!s.isErr(c)) {
          c = s.value(c);
          if (!s.isErr(c) && !this.ty.isInteger(tr.type(c))) {
            this.diag.error(tr.line(c), tr.fc(c), "switch quantity not an integer");
            c = s.err();
          } else if (!s.isErr(c)) c = s.convert(c, this.ty.promote(tr.type(c)));
        }
        const node = tr.build(N.SWITCH, 0, line, fc, c);
        const [sn, sc, sd] = [this.swNode, this.swCases, this.swDefault];
        this.swNode = node;
        this.swCases = 0;
        this.swDefault = false;
        this.breakables++;
        const body = this.statement();
        this.breakables--;
        tr.set(node, 20, body); // op1
        tr.set(node, 24, this.swCases); // op2
        [this.swNode, this.swCases, this.swDefault] = [sn, sc, sd];
        return node;
      }
      case T.KW_CASE: {
        this.advance();
        const e = this.conditional();
        this.require(T.COLON);
        let v = s.constValue(e);
        if (this.swNode === 0) this.diag.error(line, fc, "case label not within a switch statement");
        else if (v === null) {
          if (!s.isErr(e)) this.diag.error(line, fc, "case label does not reduce to an integer constant");
        } else {
          const st = tr.op0(this.swNode);
          if (!s.isErr(st)) v = s.truncate(v, tr.type(st));
          for (let c = this.swCases; c !== 0; c = tr.op2(c)) {
            if (tr.value(c) === v) {
              this.diag.error(line, fc, "duplicate case value");
              v = null;
              break;
            }
          }
        }
        const label = s.newLabel();
        const node = tr.build(N.CASE, 0, line, fc, v ?? 0, label, 0);
        if (this.swNode !== 0 && v !== null) {
          tr.set(node, 24, this.swCases);
          this.swCases = node;
        }
        tr.set(node, 28, this.labeledStatement());
        return node;
      }
      case T.KW_DEFAULT: {
        this.advance();
        this.require(T.COLON);
        const label = s.newLabel();
        if (this.swNode === 0) this.diag.error(line, fc, "'default' label not within a switch statement");
        else if (this.swDefault) this.diag.error(line, fc, "multiple default labels in one switch");
        else {
          this.swDefault = true;
          tr.set(this.swNode, 28, label); // op3: the default label
        }
        const node = tr.build(N.DEFAULT, 0, line, fc, 0, label);
        tr.set(node, 28, this.labeledStatement());
        return node;
      }
      case T.KW_BREAK:
        this.advance();
        if (this.breakables === 0) this.diag.error(line, fc, "break statement not within loop or switch");
        this.require(T.SEMI);
        return tr.build(N.BREAK, 0, line, fc);
      case T.KW_CONTINUE:
        this.advance();
        if (this.loops === 0) this.diag.error(line, fc, "continue statement not within a loop");
        this.require(T.SEMI);
        return tr.build(N.CONTINUE, 0, line, fc);
      case T.KW_RETURN: {
        this.advance();
        let e = 0;
        if (this.kind() !== T.SEMI) e = this.expression();
        this.require(T.SEMI);
        const ret = this.ty.target(tr.dType(s.fn));
        if (e !== 0 && !s.isErr(e)) {
          if (this.ty.isVoid(ret)) {
            // 'return' with a value, in function returning void: evaluated, then a plain return.
            const x = tr.build(N.EXPR_STMT, 0, line, fc, e);
            tr.setNext(x, tr.build(N.RETURN, 0, line, fc, 0));
            return tr.build(N.BLOCK, 0, line, fc, x);
          }
          e = s.convertFor(ret, e, Ctx.RETURN, 0, "");
        }
        return tr.build(N.RETURN, 0, line, fc, e);
      }
      case T.KW_GOTO:
        this.diag.errorStop(line, fc, "sorry, unimplemented: 'goto'");
        break;
      case T.IDENT:
        if (this.peek() === T.COLON) this.diag.errorStop(line, fc, "sorry, unimplemented: labels");
        break;
      default:
        break;
    }
    const e = this.expression();
    this.require(T.SEMI);
    return tr.build(N.EXPR_STMT, 0, line, fc, e);
  }

  /** The statement after a case or default label ('}' right after one: an empty statement). */
  private labeledStatement(): number {
    if (this.kind() === T.RBRACE) return this.tr.build(N.EMPTY, 0, this.line(), this.fc());
    return this.statement();
  }

  private loopBody(): number {
    this.loops++;
    this.breakables++;
    const b = this.statement();
    this.loops--;
    this.breakables--;
    return b;
  }

  // ---- expressions ----------------------------------------------------------------------------------------

  /** expression: assignment-expressions separated by commas. */
  private expression(): number {
    let e = this.assignment();
    while (this.kind() === T.COMMA) {
      const line = this.line(), fc = this.fc();
      this.advance();
      e = this.s.buildComma(e, this.assignment(), line, fc);
    }
    return e;
  }

  private assignment(): number {
    if (++this.nest > MAX_NEST) this.diag.fatal(this.line(), this.fc(), `expression nesting exceeds maximum of ${MAX_NEST}`);
    const lhs = this.conditional();
    const op = ASSIGN_OP[this.kind()];
    let r = lhs;
    if (op !== undefined) {
      const line = this.line(), fc = this.fc();
      this.advance();
      const rhs = this.assignment();
      r = this.s.buildAssign(op, lhs, rhs, line, fc);
    }
    this.nest--;
    return r;
  }

  private conditional(): number {
    const c = this.binary(1);
    if (this.kind() !== T.QUESTION) return c;
    const line = this.line(), fc = this.fc();
    this.advance();
    if (++this.nest > MAX_NEST) this.diag.fatal(line, fc, `expression nesting exceeds maximum of ${MAX_NEST}`);
    const a = this.expression();
    const cl = this.line(), cfc = this.fc();
    this.require(T.COLON);
    const b = this.conditional();
    this.nest--;
    return this.s.buildCond(c, a, b, cl, cfc);
  }

  /** Binary operators by precedence climbing (left-associative: a loop, not recursion). */
  private binary(minPrec: number): number {
    const prev = this.libc.enter(this.symExpr);
    let lhs = this.cast();
    for (;;) {
      const op = BINOP[this.kind()];
      if (op === undefined || op[1] < minPrec) break;
      const line = this.line(), fc = this.fc();
      this.advance();
      let rhs = this.binary(op[1] + 1);
      if (op[0] === N.LOGAND || op[0] === N.LOGOR) {
        lhs = this.s.truth(lhs);
        rhs = this.s.truth(rhs);
      }
      lhs = this.s.buildBinary(op[0], lhs, rhs, line, fc);
      this.libc.work(80);
    }
    this.libc.leave(prev);
    return lhs;
  }

  private cast(): number {
    if (this.kind() === T.LPAREN && this.isTypeStart(this.pos + 1)) {
      const line = this.line(), fc = this.fc();
      this.advance();
      const t = this.typeName();
      this.require(T.RPAREN);
      if (this.kind() === T.LBRACE) this.diag.errorStop(line, fc, "sorry, unimplemented: compound literals");
      if (++this.nest > MAX_NEST) this.diag.fatal(line, fc, `expression nesting exceeds maximum of ${MAX_NEST}`);
      const e = this.cast();
      this.nest--;
      return this.s.buildCast(t, e, line, fc);
    }
    return this.unary();
  }

  private unary(): number {
    const s = this.s;
    const line = this.line(), fc = this.fc();
    const k = this.kind();
    let op: "-" | "~" | "!" | "+" | "*" | "&" | null = null;
    switch (k) {
      case T.INC:
      case T.DEC: {
        this.advance();
        const e = this.nestedUnary();
        return s.buildIncDec(k === T.INC ? N.PREINC : N.PREDEC, e, line, fc);
      }
      case T.MINUS: op = "-"; break;
      case T.PLUS: op = "+"; break;
      case T.TILDE: op = "~"; break;
      case T.NOT: op = "!"; break;
      case T.STAR: op = "*"; break;
      case T.AMP: op = "&"; break;
      case T.KW_SIZEOF: {
        this.advance();
        if (this.kind() === T.LPAREN && this.isTypeStart(this.pos + 1)) {
          this.advance();
          const tl = this.line(), tfc = this.fc();
          const t = this.typeName();
          this.require(T.RPAREN);
          return s.buildSizeof(t, tl, tfc);
        }
        const e = this.nestedUnary();
        if (s.isErr(e)) return e;
        return s.buildSizeof(this.tr.type(e), line, fc);
      }
      default:
        return this.postfix(this.primary());
    }
    this.advance();
    if (++this.nest > MAX_NEST) this.diag.fatal(line, fc, `expression nesting exceeds maximum of ${MAX_NEST}`);
    let e = this.cast();
    this.nest--;
    if (op === "!") e = s.truth(e);
    return s.buildUnary(op, e, line, fc);
  }

  private nestedUnary(): number {
    if (++this.nest > MAX_NEST) this.diag.fatal(this.line(), this.fc(), `expression nesting exceeds maximum of ${MAX_NEST}`);
    const e = this.unary();
    this.nest--;
    return e;
  }

  private primary(): number {
    const s = this.s;
    const line = this.line(), fc = this.fc();
    switch (this.kind()) {
      case T.IDENT: {
        const id = this.val();
        if (s.isTypedefName(id)) this.expected("expression");
        this.advance();
        return s.buildDeclRef(id, line, fc, this.kind() === T.LPAREN);
      }
      case T.INT: {
        const fl = this.val2();
        const t = fl & INT_UNSIGNED ? (fl & INT_LONG ? this.ty.ulong : this.ty.uint) : fl & INT_LONG ? this.ty.long : this.ty.int;
        const v = this.val();
        this.advance();
        return s.intCst(v, t, line, fc);
      }
      case T.CHR: {
        const v = this.val();
        this.advance();
        return s.intCst(v, this.ty.int, line, fc);
      }
      case T.STR: {
        const b = this.val(), n = this.val2();
        this.advance();
        return s.buildString(b, n, line, fc);
      }
      case T.LPAREN: {
        if (++this.parens > MAX_PARENS) this.diag.fatal(line, fc, `bracket nesting level exceeded maximum of ${MAX_PARENS}`);
        this.advance();
        const e = this.expression();
        this.require(T.RPAREN);
        this.parens--;
        return e;
      }
      case T.KW_SYSCALL: {
        this.advance();
        if (this.kind() !== T.LPAREN) this.expected("'('");
        this.advance();
        const [args, n] = this.argumentList();
        return s.buildSyscall(args, n, line, fc);
      }
      default:
        this.expected("expression");
    }
  }

  /** After '(': arguments up to ')'; [chain, count]. */
  private argumentList(): [number, number] {
    let head = 0, tail = 0, n = 0;
    if (this.accept(T.RPAREN)) return [0, 0];
    for (;;) {
      const a = this.assignment();
      if (tail === 0) head = a;
      else this.tr.setNext(tail, a);
      tail = a;
      n++;
      if (this.accept(T.COMMA)) continue;
      this.require(T.RPAREN);
      return [head, n];
    }
  }

  private postfix(e: number): number {
    const s = this.s;
    for (;;) {
      const line = this.line(), fc = this.fc();
      switch (this.kind()) {
        case T.LBRACK: {
          this.advance();
          const i = this.expression();
          this.require(T.RBRACK);
          e = s.buildIndex(e, i, line, fc);
          break;
        }
        case T.LPAREN: {
          this.advance();
          const [args, n] = this.argumentList();
          e = s.buildCall(e, args, n, line, fc);
          break;
        }
        case T.DOT:
        case T.ARROW: {
          const arrow = this.kind() === T.ARROW;
          this.advance();
          if (this.kind() !== T.IDENT) this.expected("identifier");
          const id = this.val();
          this.advance();
          e = s.buildMember(e, id, arrow, line, fc);
          break;
        }
        case T.INC:
        case T.DEC:
          e = s.buildIncDec(this.kind() === T.INC ? N.POSTINC : N.POSTDEC, e, line, fc);
          this.advance();
          break;
        default:
          return e;
      }
    }
  }
}
