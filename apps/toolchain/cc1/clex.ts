// c_lex: the C front end's view of the preprocessed token stream. Every token
// from cpp_get_token is converted (keywords, integer and character constants,
// decoded and concatenated string literals) and appended to one token vector
// in user memory, grown with realloc, which the parser then walks by index
// (the shape of GCC's C++ front end, which lexes the whole file first).
//
// Vector tokens use the cpp_token layout (tokens.ts) with +2 u16 = the
// spelling's length (for "expected ';'" at the end of the previous token).

import type { Libc } from "../../../libc/libc.ts";
import type { UserMemory } from "../../../kernel/uaccess.ts";
import type { Cpp } from "./cpp.ts";
import { type Diag, locCol, locFile, makeFc } from "./diag.ts";
import { type Ggc, OutOfMemory } from "./ggc.ts";
import { ID_LEN, ID_RID } from "./ident.ts";
import type { Lexer } from "./lex.ts";
import { SPELL, T, TK_FC, TK_KIND, TK_LINE, TK_VAL, TK_VAL2, TOK_SIZE } from "./tokens.ts";

export const TK_LEN = 2;

export class TokenVec {
  base = 0;
  count = 0;
  private cap = 0;
  private readonly m: UserMemory;
  private readonly sym: number;
  private lastLine = -1;
  private lastFile = -1;
  private firstCol = 1;

  constructor(
    private readonly libc: Libc,
    private readonly diag: Diag,
    private readonly ggc: Ggc,
    private readonly cpp: Cpp,
    private readonly lx: Lexer,
  ) {
    this.m = libc.mem;
    this.sym = libc.symbol("cc1", "c_lex_with_flags");
  }

  private push(k: number, len: number, line: number, fc: number, v: number, v2: number): void {
    if (this.count === this.cap) {
      const cap = this.cap === 0 ? 1024 : this.cap * 2;
      const p = this.libc.realloc(this.base, cap * TOK_SIZE);
      if (p === 0) throw new OutOfMemory();
      this.base = p;
      this.cap = cap;
    }
    const m = this.m;
    const t = this.base + this.count * TOK_SIZE;
    m.write8(t + TK_KIND, k);
    m.write8(t + 1, 0);
    m.write16(t + TK_LEN, len > 0xffff ? 0xffff : len);
    m.write32(t + TK_LINE, line);
    m.write32(t + TK_FC, fc);
    m.write32(t + TK_VAL, v);
    m.write32(t + TK_VAL2, v2);
    this.count++;
    if (line !== this.lastLine || locFile(fc) !== this.lastFile) {
      this.lastLine = line;
      this.lastFile = locFile(fc);
      this.firstCol = locCol(fc);
    }
  }

  /** Lex the whole translation unit into the vector (ending with EOF). */
  lexAll(): void {
    const cpp = this.cpp;
    const lx = this.lx;
    const m = this.m;
    const diag = this.diag;
    for (;;) {
      cpp.getToken();
      const prev = this.libc.enter(this.sym);
      const k = cpp.k;
      const line = cpp.tl, fc = cpp.tfc;
      switch (k) {
        case T.EOF: {
          const l = this.lastLine < 0 ? 1 : this.lastLine;
          const f = this.lastFile < 0 ? 0 : this.lastFile;
          this.push(T.EOF, 0, l, makeFc(f, this.firstCol), 0, 0);
          this.libc.leave(prev);
          return;
        }
        case T.IDENT: {
          const rid = m.read32(cpp.v + ID_RID);
          this.push(rid !== 0 ? rid : T.IDENT, m.read32(cpp.v + ID_LEN), line, fc, cpp.v, 0);
          break;
        }
        case T.NUMBER: {
          const err = lx.interpretNumber(cpp.v, cpp.v2);
          if (err !== null) diag.errorStop(line, fc, err);
          this.push(T.INT, cpp.v2, line, fc, lx.value, lx.flags);
          break;
        }
        case T.CHAR: {
          const err = lx.interpretChar(cpp.v, cpp.v2);
          if (err !== null) diag.errorStop(line, fc, err);
          this.push(T.CHR, cpp.v2, line, fc, lx.value, 0);
          break;
        }
        case T.STRING: {
          const s = lx.internString(cpp.v, cpp.v2);
          const n = lx.strLen;
          const last = this.base + (this.count - 1) * TOK_SIZE;
          if (this.count > 0 && m.read8(last + TK_KIND) === T.STR) {
            // Adjacent string literals are one (translation phase 6).
            const a = m.readU32(last + TK_VAL);
            const an = m.read32(last + TK_VAL2);
            const j = this.ggc.alloc(an + n + 1);
            this.libc.memcpy(j, a, an);
            this.libc.memcpy(j + an, s, n + 1);
            m.write32(last + TK_VAL, j);
            m.write32(last + TK_VAL2, an + n);
          } else this.push(T.STR, cpp.v2, line, fc, s, n);
          break;
        }
        case T.PLACEMARKER:
          break;
        case T.OTHER: {
          if (cpp.v2 > 0) diag.errorStop(line, fc, `missing terminating ${lx.text(cpp.v, 1)} character`);
          const c = cpp.v;
          const shown = c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\${c.toString(8).padStart(3, "0")}`;
          diag.errorStop(line, fc, `stray '${shown}' in program`);
          break;
        }
        case T.HASH:
        case T.PASTE:
          diag.errorStop(line, fc, `stray '${SPELL[k]}' in program`);
          break;
        default:
          this.push(k, SPELL[k]?.length ?? 1, line, fc, cpp.v, cpp.v2);
      }
      this.libc.work(120);
      this.libc.leave(prev);
    }
  }
}
