// The lexer (libcpp's _cpp_lex_direct): one preprocessing token at a time
// from the current buffer in user memory, plus what c_lex does with a token's
// spelling (cpp_interpret_integer, cpp_interpret_charconst, cpp_interpret_string).
// The current token is a handful of scalars (k, f, line, fc, v, v2).

import type { Libc } from "../../../libc/libc.ts";
import type { UserMemory } from "../../../kernel/uaccess.ts";
import { type Diag, makeFc } from "./diag.ts";
import type { Ggc } from "./ggc.ts";
import { ID_LEN, ID_STR, type IdentTable, hashFinish, hashStep } from "./ident.ts";
import { BOL, INT_LONG, INT_UNSIGNED, PREV_WHITE, SPELL, T } from "./tokens.ts";

const C_TAB = 9, C_NL = 10, C_CR = 13, C_SP = 32, C_BSL = 92;

/** Character classes (static tables, as libcpp's). */
const IS_IDSTART = new Uint8Array(256);
const IS_IDNUM = new Uint8Array(256);
const IS_DIGIT = new Uint8Array(256);
const IS_HSPACE = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const ch = String.fromCharCode(c);
  IS_IDSTART[c] = /[A-Za-z_$]/.test(ch) ? 1 : 0;
  IS_DIGIT[c] = /[0-9]/.test(ch) ? 1 : 0;
  IS_IDNUM[c] = IS_IDSTART[c] | IS_DIGIT[c];
  IS_HSPACE[c] = c === C_SP || c === C_TAB || c === 11 || c === 12 || c === C_CR || c === 0 ? 1 : 0;
}

export class Lexer {
  // The buffer being lexed.
  cur = 0;
  end = 0;
  line = 1;
  lineStart = 0;
  file = 0;
  /** Inside a directive: a newline ends the line (EOL) instead of being skipped. */
  inDirective = false;
  /** Flags gathered for the next token (BOL at the start of a buffer). */
  pending = BOL;

  // The current token.
  k = 0;
  f = 0;
  tl = 0;
  tfc = 0;
  v = 0;
  v2 = 0;

  private readonly m: UserMemory;
  private readonly sym: number;
  /** c_lex's scratch results. */
  value = 0;
  flags = 0;
  strLen = 0;

  constructor(
    private readonly libc: Libc,
    private readonly diag: Diag,
    private readonly idents: IdentTable,
    private readonly ggc: Ggc,
  ) {
    this.m = libc.mem;
    this.sym = libc.symbol("cc1", "_cpp_lex_direct");
  }

  /** The current token's kind (a call: TypeScript does not narrow it across lexDirect()). */
  kind(): number {
    return this.k;
  }

  /** Start lexing a buffer [start, end) of file `file` at line 1. */
  setBuffer(start: number, end: number, file: number): void {
    this.cur = start;
    this.end = end;
    this.line = 1;
    this.lineStart = start;
    this.file = file;
    this.pending = BOL;
  }

  /** The column of the byte at p on the current line. */
  private col(p: number): number {
    return p - this.lineStart + 1;
  }

  /** Skip horizontal whitespace and comments on this line (and splices); false at a newline or the end. */
  private skipBlanks(): void {
    const m = this.m;
    for (;;) {
      if (this.cur >= this.end) return;
      const c = m.read8(this.cur);
      if (IS_HSPACE[c]) {
        this.cur++;
        this.pending |= PREV_WHITE;
      } else if (c === C_BSL && this.spliceAt(this.cur)) {
        // spliceAt moved past the newline
      } else if (c === 47 /* / */ && this.cur + 1 < this.end) {
        const d = m.read8(this.cur + 1);
        if (d === 42 /* * */) this.skipBlockComment();
        else if (d === 47) {
          this.cur += 2;
          while (this.cur < this.end && m.read8(this.cur) !== C_NL) {
            if (m.read8(this.cur) === C_BSL && this.spliceAt(this.cur)) continue;
            this.cur++;
          }
          this.pending |= PREV_WHITE;
        } else return;
      } else return;
    }
  }

  /** A backslash-newline at p (spaces allowed between): skip it, true. */
  private spliceAt(p: number): boolean {
    const m = this.m;
    let q = p + 1;
    while (q < this.end && (m.read8(q) === C_SP || m.read8(q) === C_TAB || m.read8(q) === C_CR)) q++;
    if (q < this.end && m.read8(q) === C_NL) {
      this.cur = q + 1;
      this.line++;
      this.lineStart = this.cur;
      return true;
    }
    return false;
  }

  private skipBlockComment(): void {
    const m = this.m;
    const startLine = this.line;
    const startCol = this.col(this.cur);
    this.cur += 2;
    for (;;) {
      if (this.cur >= this.end) this.diag.errorStop(startLine, makeFc(this.file, startCol), "unterminated comment");
      const c = m.read8(this.cur);
      if (c === 42 && this.cur + 1 < this.end && m.read8(this.cur + 1) === 47) {
        this.cur += 2;
        break;
      }
      if (c === C_NL) {
        this.cur++;
        this.line++;
        this.lineStart = this.cur;
      } else this.cur++;
    }
    this.libc.work(2 * (this.cur - this.lineStart));
    this.pending |= PREV_WHITE;
  }

  /** _cpp_lex_direct: the next token of the buffer into (k, f, tl, tfc, v, v2). */
  lexDirect(): void {
    const prev = this.libc.enter(this.sym);
    const m = this.m;
    for (;;) {
      this.skipBlanks();
      if (this.cur >= this.end) {
        this.k = this.inDirective ? T.EOL : T.EOF;
        this.setLoc(this.cur);
        break;
      }
      const start = this.cur;
      const c = m.read8(start);
      if (c === C_NL) {
        if (this.inDirective) {
          this.k = T.EOL;
          this.setLoc(start);
          break;
        }
        this.cur++;
        this.line++;
        this.lineStart = this.cur;
        this.pending |= BOL | PREV_WHITE;
        continue;
      }
      this.setLoc(start);
      this.v = 0;
      this.v2 = 0;
      if (IS_IDSTART[c]) this.lexIdentifier(start);
      else if (IS_DIGIT[c] || (c === 46 && start + 1 < this.end && IS_DIGIT[m.read8(start + 1)])) this.lexNumber(start);
      else if (c === 34 || c === 39) this.lexString(start, c);
      else this.lexPunct(start, c);
      break;
    }
    this.libc.work(40);
    this.libc.leave(prev);
  }

  private setLoc(p: number): void {
    this.tl = this.line;
    this.tfc = makeFc(this.file, this.col(p));
    this.f = this.pending;
    this.pending = 0;
  }

  private lexIdentifier(start: number): void {
    const m = this.m;
    let p = start;
    let h = 0;
    while (p < this.end) {
      const c = m.read8(p);
      if (!IS_IDNUM[c]) break;
      h = hashStep(h, c);
      p++;
    }
    const len = p - start;
    this.cur = p;
    this.libc.work(4 * len);
    this.k = T.IDENT;
    this.v = this.idents.lookup(start, len, hashFinish(h, len));
  }

  private lexNumber(start: number): void {
    const m = this.m;
    let p = start + 1;
    while (p < this.end) {
      const c = m.read8(p);
      if (IS_IDNUM[c] || c === 46) p++;
      else if ((c === 43 || c === 45) && (m.read8(p - 1) | 0x20) === 101 /* e */) p++;
      else break;
    }
    this.cur = p;
    this.libc.work(4 * (p - start));
    this.k = T.NUMBER;
    this.v = start;
    this.v2 = p - start;
  }

  private lexString(start: number, q: number): void {
    const m = this.m;
    let p = start + 1;
    for (;;) {
      if (p >= this.end || m.read8(p) === C_NL) {
        if (this.inDirective) {
          // As cpp does in directives: the rest of the line is one stray token.
          this.k = T.OTHER;
          this.v = start;
          this.v2 = p - start;
          this.cur = p;
          return;
        }
        this.diag.errorStop(this.tl, this.tfc, `missing terminating ${String.fromCharCode(q)} character`);
      }
      const c = m.read8(p);
      if (c === C_BSL) {
        if (p + 1 < this.end && m.read8(p + 1) === C_NL) {
          // a splice inside a literal
          p += 2;
          this.line++;
          this.lineStart = p;
          continue;
        }
        p += 2;
        continue;
      }
      p++;
      if (c === q) break;
    }
    this.cur = p;
    this.libc.work(3 * (p - start));
    this.k = q === 34 ? T.STRING : T.CHAR;
    this.v = start;
    this.v2 = p - start;
  }

  private lexPunct(p: number, c: number): void {
    const m = this.m;
    const n1 = p + 1 < this.end ? m.read8(p + 1) : 0;
    const n2 = p + 2 < this.end ? m.read8(p + 2) : 0;
    let k: T = T.OTHER;
    let len = 1;
    switch (c) {
      case 40: k = T.LPAREN; break;
      case 41: k = T.RPAREN; break;
      case 91: k = T.LBRACK; break;
      case 93: k = T.RBRACK; break;
      case 123: k = T.LBRACE; break;
      case 125: k = T.RBRACE; break;
      case 44: k = T.COMMA; break;
      case 59: k = T.SEMI; break;
      case 126: k = T.TILDE; break;
      case 63: k = T.QUESTION; break;
      case 58: k = T.COLON; break;
      case 46:
        if (n1 === 46 && n2 === 46) { k = T.ELLIPSIS; len = 3; }
        else k = T.DOT;
        break;
      case 45:
        if (n1 === 62) { k = T.ARROW; len = 2; }
        else if (n1 === 45) { k = T.DEC; len = 2; }
        else if (n1 === 61) { k = T.SUB_ASSIGN; len = 2; }
        else k = T.MINUS;
        break;
      case 43:
        if (n1 === 43) { k = T.INC; len = 2; }
        else if (n1 === 61) { k = T.ADD_ASSIGN; len = 2; }
        else k = T.PLUS;
        break;
      case 38:
        if (n1 === 38) { k = T.ANDAND; len = 2; }
        else if (n1 === 61) { k = T.AND_ASSIGN; len = 2; }
        else k = T.AMP;
        break;
      case 124:
        if (n1 === 124) { k = T.OROR; len = 2; }
        else if (n1 === 61) { k = T.OR_ASSIGN; len = 2; }
        else k = T.BAR;
        break;
      case 42: if (n1 === 61) { k = T.MUL_ASSIGN; len = 2; } else k = T.STAR; break;
      case 47: if (n1 === 61) { k = T.DIV_ASSIGN; len = 2; } else k = T.SLASH; break;
      case 37: if (n1 === 61) { k = T.MOD_ASSIGN; len = 2; } else k = T.PERCENT; break;
      case 94: if (n1 === 61) { k = T.XOR_ASSIGN; len = 2; } else k = T.CARET; break;
      case 33: if (n1 === 61) { k = T.NE; len = 2; } else k = T.NOT; break;
      case 61: if (n1 === 61) { k = T.EQ; len = 2; } else k = T.ASSIGN; break;
      case 60:
        if (n1 === 60) {
          if (n2 === 61) { k = T.SHL_ASSIGN; len = 3; }
          else { k = T.SHL; len = 2; }
        } else if (n1 === 61) { k = T.LE; len = 2; }
        else k = T.LT;
        break;
      case 62:
        if (n1 === 62) {
          if (n2 === 61) { k = T.SHR_ASSIGN; len = 3; }
          else { k = T.SHR; len = 2; }
        } else if (n1 === 61) { k = T.GE; len = 2; }
        else k = T.GT;
        break;
      case 35: if (n1 === 35) { k = T.PASTE; len = 2; } else k = T.HASH; break;
      default:
        k = T.OTHER;
        this.v = c;
    }
    this.k = k;
    this.cur = p + len;
  }

  /** For #include <...>: the header name up to '>' on this line, as a HEADER token (v, v2 = the name). */
  lexHeaderName(): boolean {
    const m = this.m;
    this.skipBlanks();
    if (this.cur >= this.end || m.read8(this.cur) !== 60) return false;
    this.setLoc(this.cur);
    let p = this.cur + 1;
    while (p < this.end && m.read8(p) !== 62 && m.read8(p) !== C_NL) p++;
    if (p >= this.end || m.read8(p) !== 62) return false;
    this.k = T.HEADER;
    this.v = this.cur + 1;
    this.v2 = p - this.cur - 1;
    this.cur = p + 1;
    return true;
  }

  /** Is the next character (no blanks skipped) a '('? For function-like #define. */
  nextIsParen(): boolean {
    return this.cur < this.end && this.m.read8(this.cur) === 40;
  }

  /** Skip to the end of this line, lexing nothing (skipped groups; #error's text is read before). */
  skipLine(): void {
    const m = this.m;
    while (this.cur < this.end) {
      const c = m.read8(this.cur);
      if (c === C_NL) return;
      if (c === C_BSL && this.spliceAt(this.cur)) continue;
      if (c === 47 && this.cur + 1 < this.end && m.read8(this.cur + 1) === 42) {
        this.skipBlockComment();
        continue;
      }
      if (c === 47 && this.cur + 1 < this.end && m.read8(this.cur + 1) === 47) {
        while (this.cur < this.end && m.read8(this.cur) !== C_NL) this.cur++;
        return;
      }
      if (c === 34 || c === 39) {
        // a literal (unterminated ones end at the line's end, silently)
        this.cur++;
        while (this.cur < this.end) {
          const d = m.read8(this.cur);
          if (d === C_NL) break;
          this.cur++;
          if (d === C_BSL && this.cur < this.end && m.read8(this.cur) !== C_NL) this.cur++;
          else if (d === c) break;
        }
        continue;
      }
      this.cur++;
    }
  }

  /** In a skipped group: move to the start of the next line; false at the end of the buffer. */
  nextLine(): boolean {
    this.skipLine();
    if (this.cur >= this.end) return false;
    this.cur++;
    this.line++;
    this.lineStart = this.cur;
    this.pending = BOL | PREV_WHITE;
    return true;
  }

  /** At the start of a line in a skipped group: is it a directive (a '#' after blanks)? Consumes the '#'. */
  atDirective(): boolean {
    this.skipBlanks();
    if (this.cur < this.end && this.m.read8(this.cur) === 35 && !(this.cur + 1 < this.end && this.m.read8(this.cur + 1) === 35)) {
      this.cur++;
      return true;
    }
    return false;
  }

  // ---- spellings ---------------------------------------------------------------------

  /** A token's spelling as a host string (diagnostics, #error, stringizing, pasting). */
  spell(k: number, v: number, v2: number): string {
    switch (k) {
      case T.IDENT:
        return this.idents.name(v);
      case T.NUMBER:
      case T.STRING:
      case T.CHAR:
      case T.HEADER:
        return this.text(v, v2);
      case T.OTHER:
        return v2 > 0 ? this.text(v, v2) : String.fromCharCode(v);
      case T.EOF:
      case T.EOL:
      case T.PLACEMARKER:
      case T.MACRO_ARG:
        return "";
      default:
        return SPELL[k] ?? "";
    }
  }

  /** len bytes at p as a host string. */
  text(p: number, len: number): string {
    let s = "";
    for (let i = 0; i < len; i++) s += String.fromCharCode(this.m.read8(p + i));
    return s;
  }

  // ---- c_lex: interpreting spellings -----------------------------------------------------

  /**
   * cpp_classify_number + cpp_interpret_integer: sets value and flags
   * (INT_UNSIGNED, INT_LONG); an error message, or null.
   */
  interpretNumber(p: number, len: number): string | null {
    const m = this.m;
    let i = 0;
    let base = 10;
    if (len > 1 && m.read8(p) === 48 && (m.read8(p + 1) | 0x20) === 120) {
      base = 16;
      i = 2;
    } else if (m.read8(p) === 48) base = 8;
    const digitsStart = i;
    let v = 0;
    let big = false;
    let badOctal = -1;
    for (; i < len; i++) {
      const c = m.read8(p + i);
      let d: number;
      if (c >= 48 && c <= 57) d = c - 48;
      else if (base === 16 && (c | 0x20) >= 97 && (c | 0x20) <= 102) d = (c | 0x20) - 87;
      else break;
      if (base === 8 && d >= 8) {
        if (badOctal < 0) badOctal = c;
        d = 0;
      }
      v = v * base + d;
      if (v > 0xffffffff) big = true;
    }
    this.libc.work(6 * len);
    // Floating constants: not in the subset.
    const stop = i < len ? m.read8(p + i) : 0;
    if (stop === 46 || (base !== 16 && (stop | 0x20) === 101) || (len > 0 && m.read8(p) === 46)) {
      return "floating-point constants are not supported";
    }
    if (base === 16 && i === digitsStart) return `invalid suffix "${this.text(p + 1, len - 1)}" on integer constant`;
    // Suffixes: u, l, ul, lu (any case); ll is not in the subset.
    const suffix = this.text(p + i, len - i);
    const s = suffix.toLowerCase();
    let flags = 0;
    if (s === "") flags = 0;
    else if (s === "u") flags = INT_UNSIGNED;
    else if (s === "l") flags = INT_LONG;
    else if (s === "ul" || s === "lu") flags = INT_UNSIGNED | INT_LONG;
    else return `invalid suffix "${suffix}" on integer constant`;
    if (badOctal >= 0) return `invalid digit "${String.fromCharCode(badOctal)}" in octal constant`;
    if (big) return "integer constant is too large for its type";
    // The type: int if it fits, else (decimal: long, which is no bigger here) unsigned.
    if (v > 0x7fffffff) flags |= INT_UNSIGNED;
    this.value = v | 0;
    this.flags = flags;
    return null;
  }

  /** One escape sequence at p (after the backslash): sets value; returns the position after it. */
  private escape(p: number, end: number): number {
    const m = this.m;
    const c = m.read8(p);
    switch (c) {
      case 110: this.value = 10; return p + 1;
      case 116: this.value = 9; return p + 1;
      case 114: this.value = 13; return p + 1;
      case 97: this.value = 7; return p + 1;
      case 98: this.value = 8; return p + 1;
      case 102: this.value = 12; return p + 1;
      case 118: this.value = 11; return p + 1;
      case 101: case 69: this.value = 27; return p + 1;
      case 120: {
        let v = 0;
        let q = p + 1;
        while (q < end) {
          const d = m.read8(q) | 0x20;
          if (d >= 48 && d <= 57) v = v * 16 + d - 48;
          else if (d >= 97 && d <= 102) v = v * 16 + d - 87;
          else break;
          if (v > 0xffffff) v = 0xffffff;
          q++;
        }
        this.value = v & 0xff;
        return q;
      }
      default:
        if (c >= 48 && c <= 55) {
          let v = 0;
          let q = p;
          for (let n = 0; n < 3 && q < end && m.read8(q) >= 48 && m.read8(q) <= 55; n++, q++) v = v * 8 + m.read8(q) - 48;
          this.value = v & 0xff;
          return q;
        }
        this.value = c;
        return p + 1;
    }
  }

  /** cpp_interpret_charconst: a character constant's value (char is signed); an error message, or null. */
  interpretChar(p: number, len: number): string | null {
    const m = this.m;
    const end = p + len - 1;
    let q = p + 1;
    let v = 0;
    let n = 0;
    while (q < end) {
      let c = m.read8(q);
      if (c === C_BSL) {
        q = this.escape(q + 1, end);
        c = this.value;
      } else q++;
      v = ((v << 8) | c) | 0;
      n++;
    }
    if (n === 0) return "empty character constant";
    this.value = n === 1 ? (v << 24) >> 24 : v;
    return null;
  }

  /** The decoded length of a string literal's spelling (quotes included). */
  stringLength(p: number, len: number): number {
    const m = this.m;
    const end = p + len - 1;
    let n = 0;
    for (let q = p + 1; q < end; n++) {
      if (m.read8(q) === C_BSL) {
        if (q + 1 < end && m.read8(q + 1) === C_NL) {
          q += 2;
          n--;
          continue;
        }
        q = this.escape(q + 1, end);
      } else q++;
    }
    return n;
  }

  /** cpp_interpret_string: decode a string literal's spelling into dst; the bytes written. */
  decodeString(p: number, len: number, dst: number): number {
    const m = this.m;
    const end = p + len - 1;
    let n = 0;
    for (let q = p + 1; q < end; ) {
      let c = m.read8(q);
      if (c === C_BSL) {
        if (q + 1 < end && m.read8(q + 1) === C_NL) {
          q += 2;
          continue;
        }
        q = this.escape(q + 1, end);
        c = this.value;
      } else q++;
      m.write8(dst + n++, c);
    }
    this.libc.work(4 * len);
    return n;
  }

  /** A string literal's decoded bytes as a new NUL-terminated ggc string; strLen is set. */
  internString(p: number, len: number): number {
    const n = this.stringLength(p, len);
    const s = this.ggc.alloc(n + 1);
    this.decodeString(p, len, s);
    this.m.write8(s + n, 0);
    this.strLen = n;
    return s;
  }

  /** An identifier node's string pointer and length. */
  identText(node: number): [number, number] {
    return [this.m.readU32(node + ID_STR), this.m.read32(node + ID_LEN)];
  }
}
