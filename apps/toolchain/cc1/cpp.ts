// The preprocessor (libcpp): the buffer stack of files being read, the
// directives (#include, #define, #undef, conditionals, #error), macro
// definitions and their expansion (cpp_get_token), and #if expressions.
// Everything it keeps is in user memory:
//
//   buffer (malloc'd, 36 B): +0 prev, +4 start, +8 end, +12 cur, +16 line,
//     +20 line_start, +24 file, +28 if depth at entry, +32 pending flags
//   context stack (realloc'd, 16 B each): +0 cur, +4 end, +8 macro to re-enable, +12 buffer to free
//   conditional stack (realloc'd, 12 B each): +0 line, +4 fc, +8 kind | taken<<8 | saw_else<<9
//   cpp_macro (ggc, 24 B): +0 nparams (-1: object-like), +4 params (ggc array of
//     identifier nodes), +8 ntokens, +12 tokens (ggc array of 20-B tokens), +16 flags
//   argument buffers and expansion results: malloc'd token arrays grown with realloc,
//     freed when their context is popped (libcpp's _cpp_get_buff/_cpp_release_buff).
//
// Tokens keep the location where they were spelled (a macro body's tokens
// point into the #define line), as gcc's diagnostics do.

import type { Libc } from "../../../libc/libc.ts";
import { O_RDONLY } from "../../../libc/libc.ts";
import type { UserMemory } from "../../../kernel/uaccess.ts";
import { type Diag, locFile, makeFc } from "./diag.ts";
import { type Ggc, OutOfMemory } from "./ggc.ts";
import { ID_MACRO, type IdentTable } from "./ident.ts";
import type { Lexer } from "./lex.ts";
import { BOL, INT_UNSIGNED, NO_EXPAND, PASTE_LEFT, PREV_WHITE, SPELL, STRINGIFY, T, TK_FC, TK_FLAGS, TK_KIND, TK_LINE, TK_VAL, TK_VAL2, TOK_SIZE } from "./tokens.ts";

const B_PREV = 0, B_START = 4, B_END = 8, B_CUR = 12, B_LINE = 16, B_LSTART = 20, B_FILE = 24, B_IFDEPTH = 28, B_PENDING = 32, B_SIZE = 36;
const C_CUR = 0, C_END = 4, C_MACRO = 8, C_FREE = 12, C_SIZE = 16;
const IF_LINE = 0, IF_FC = 4, IF_BITS = 8, IF_SIZE = 12;
const M_NPARAMS = 0, M_PARAMS = 4, M_NTOKENS = 8, M_TOKENS = 12, M_FLAGS = 16, M_SIZE = 24;
const MF_DISABLED = 1, MF_PASTE = 2, MF_LINE = 4, MF_FILE = 8;

const IFK_IF = 1, IFK_IFDEF = 2, IFK_IFNDEF = 3, IFK_ELIF = 4, IFK_ELSE = 5;
const IF_NAMES = ["", "if", "ifdef", "ifndef", "elif", "else"];
const TAKEN = 1 << 8, SAW_ELSE = 1 << 9;

export const MAX_INCLUDE_DEPTH = 200;
const MAX_ARG_NESTING = 200;
const MAX_IF_NESTING = 256;
const SEEK_SET = 0, SEEK_END = 2;

/** Binary operator precedence in #if. */
const IF_PREC: number[] = [];
IF_PREC[T.COMMA] = 1;
IF_PREC[T.OROR] = 3;
IF_PREC[T.ANDAND] = 4;
IF_PREC[T.BAR] = 5;
IF_PREC[T.CARET] = 6;
IF_PREC[T.AMP] = 7;
IF_PREC[T.EQ] = IF_PREC[T.NE] = 8;
IF_PREC[T.LT] = IF_PREC[T.GT] = IF_PREC[T.LE] = IF_PREC[T.GE] = 9;
IF_PREC[T.SHL] = IF_PREC[T.SHR] = 10;
IF_PREC[T.PLUS] = IF_PREC[T.MINUS] = 11;
IF_PREC[T.STAR] = IF_PREC[T.SLASH] = IF_PREC[T.PERCENT] = 12;

export class Cpp {
  // The current (expanded) token.
  k = 0;
  f = 0;
  tl = 0;
  tfc = 0;
  v = 0;
  v2 = 0;
  /** The token came from the lexer (not a macro context or the pushback). */
  private fromFile = false;
  /** A macro name had white space before it: so has the first token of its expansion (gcc's padding). */
  private padWhite = 0;

  // One token of pushback (peeking for a function-like macro's '(').
  private pb = false;
  private pbK = 0;
  private pbF = 0;
  private pbL = 0;
  private pbFc = 0;
  private pbV = 0;
  private pbV2 = 0;
  private pbFromFile = false;

  private ctxBase = 0;
  private ctxDepth = 0;
  private ctxCap = 0;
  /** Contexts at or below this depth are not popped (an argument being pre-expanded). */
  private floor = 0;
  private argNesting = 0;

  private buffer = 0;
  private includeDepth = 0;

  private ifBase = 0;
  private ifDepth = 0;
  private ifCap = 0;

  /** Scratch token buffer for #define bodies (realloc'd). */
  private scratch = 0;
  private scratchCap = 0;

  private readonly m: UserMemory;
  private readonly symGet: number;
  private readonly symMacro: number;
  private readonly symDirective: number;
  private readonly symExpr: number;
  private readonly symRead: number;

  // Directive names and special identifiers.
  private readonly nDefine: number;
  private readonly nInclude: number;
  private readonly nUndef: number;
  private readonly nIf: number;
  private readonly nIfdef: number;
  private readonly nIfndef: number;
  private readonly nElif: number;
  private readonly nElse: number;
  private readonly nEndif: number;
  private readonly nError: number;
  private readonly nWarning: number;
  private readonly nPragma: number;
  private readonly nLine: number;
  private readonly nIdent: number;
  private readonly nDefined: number;

  // #if evaluation: the current token.
  private iK = 0;
  private iV = 0;
  private iU = false;
  private iL = 0;
  private iFc = 0;
  private iSkip = 0;
  private iDepth = 0;

  constructor(
    private readonly libc: Libc,
    private readonly diag: Diag,
    private readonly idents: IdentTable,
    private readonly ggc: Ggc,
    private readonly lx: Lexer,
    private readonly includeDirs: readonly string[],
  ) {
    this.m = libc.mem;
    this.symGet = libc.symbol("cc1", "cpp_get_token");
    this.symMacro = libc.symbol("cc1", "enter_macro_context");
    this.symDirective = libc.symbol("cc1", "_cpp_handle_directive");
    this.symExpr = libc.symbol("cc1", "_cpp_parse_expr");
    this.symRead = libc.symbol("cc1", "read_file_guts");
    const id = (s: string) => idents.lookupJs(s);
    this.nDefine = id("define");
    this.nInclude = id("include");
    this.nUndef = id("undef");
    this.nIf = id("if");
    this.nIfdef = id("ifdef");
    this.nIfndef = id("ifndef");
    this.nElif = id("elif");
    this.nElse = id("else");
    this.nEndif = id("endif");
    this.nError = id("error");
    this.nWarning = id("warning");
    this.nPragma = id("pragma");
    this.nLine = id("line");
    this.nIdent = id("ident");
    this.nDefined = id("defined");
    this.defineBuiltin("__LINE__", MF_LINE);
    this.defineBuiltin("__FILE__", MF_FILE);
  }

  private defineBuiltin(name: string, flag: number): void {
    const mac = this.ggc.alloc(M_SIZE);
    const m = this.m;
    m.write32(mac + M_NPARAMS, -1);
    m.write32(mac + M_PARAMS, 0);
    m.write32(mac + M_NTOKENS, 0);
    m.write32(mac + M_TOKENS, 0);
    m.write32(mac + M_FLAGS, flag);
    m.write32(this.idents.lookupJs(name) + ID_MACRO, mac);
  }

  // ---- files and buffers ---------------------------------------------------------------

  /** Read a whole file into a malloc'd, NUL-terminated buffer: [buf, size], or null. */
  readFile(path: string): [number, number] | null {
    const prev = this.libc.enter(this.symRead);
    try {
      const fd = this.libc.open(path, O_RDONLY);
      if (fd < 0) return null;
      const size = this.libc.lseek(fd, 0, SEEK_END);
      if (size < 0 || this.libc.lseek(fd, 0, SEEK_SET) < 0) {
        this.libc.close(fd);
        return null;
      }
      const buf = this.libc.malloc(size + 1);
      if (buf === 0) throw new OutOfMemory();
      let got = 0;
      while (got < size) {
        const n = this.libc.read(fd, buf + got, size - got);
        if (n <= 0) break;
        got += n;
      }
      this.libc.close(fd);
      this.m.write8(buf + got, 0);
      return [buf, got];
    } finally {
      this.libc.leave(prev);
    }
  }

  /** Enter a file: push a buffer over [buf, buf+size). */
  pushBuffer(buf: number, size: number, file: number): void {
    const m = this.m;
    const lx = this.lx;
    if (this.buffer !== 0) this.saveLexer();
    const b = this.libc.malloc(B_SIZE);
    if (b === 0) throw new OutOfMemory();
    m.write32(b + B_PREV, this.buffer);
    m.write32(b + B_START, buf);
    m.write32(b + B_END, buf + size);
    m.write32(b + B_FILE, file);
    m.write32(b + B_IFDEPTH, this.ifDepth);
    this.buffer = b;
    lx.setBuffer(buf, buf + size, file);
  }

  private saveLexer(): void {
    const m = this.m;
    const lx = this.lx;
    const b = this.buffer;
    m.write32(b + B_CUR, lx.cur);
    m.write32(b + B_END, lx.end);
    m.write32(b + B_LINE, lx.line);
    m.write32(b + B_LSTART, lx.lineStart);
    m.write32(b + B_PENDING, lx.pending);
  }

  private popBuffer(): void {
    const m = this.m;
    const b = this.buffer;
    const prev = m.readU32(b + B_PREV);
    this.libc.free(b);
    this.buffer = prev;
    if (prev !== 0) {
      const lx = this.lx;
      lx.cur = m.readU32(prev + B_CUR);
      lx.end = m.readU32(prev + B_END);
      lx.line = m.read32(prev + B_LINE);
      lx.lineStart = m.readU32(prev + B_LSTART);
      lx.file = m.read32(prev + B_FILE);
      lx.pending = m.read32(prev + B_PENDING);
      lx.inDirective = false;
    }
  }

  /** Open a file (by path) as a new buffer; false if it cannot be read. Re-inclusion reuses the buffer read before. */
  enterFile(path: string): boolean {
    const diag = this.diag;
    for (let i = 0; i < diag.fileCount; i++) {
      if (diag.fileBuf(i) !== 0 && diag.fileName(i) === path) {
        this.pushBuffer(diag.fileBuf(i), diag.fileSize(i), i);
        return true;
      }
    }
    const r = this.readFile(path);
    if (r === null) return false;
    const f = diag.addFile(this.ggc.allocJsString(path), r[0], r[1]);
    this.pushBuffer(r[0], r[1], f);
    return true;
  }

  // ---- contexts --------------------------------------------------------------------------

  private pushContext(start: number, end: number, macro: number, free: number): void {
    if (this.ctxDepth === this.ctxCap) {
      const cap = this.ctxCap === 0 ? 32 : this.ctxCap * 2;
      const p = this.libc.realloc(this.ctxBase, cap * C_SIZE);
      if (p === 0) throw new OutOfMemory();
      this.ctxBase = p;
      this.ctxCap = cap;
    }
    const m = this.m;
    const c = this.ctxBase + this.ctxDepth * C_SIZE;
    m.write32(c + C_CUR, start);
    m.write32(c + C_END, end);
    m.write32(c + C_MACRO, macro);
    m.write32(c + C_FREE, free);
    this.ctxDepth++;
    if (macro !== 0) m.write32(macro + M_FLAGS, m.read32(macro + M_FLAGS) | MF_DISABLED);
  }

  private popContext(): void {
    const m = this.m;
    const c = this.ctxBase + --this.ctxDepth * C_SIZE;
    const macro = m.readU32(c + C_MACRO);
    if (macro !== 0) m.write32(macro + M_FLAGS, m.read32(macro + M_FLAGS) & ~MF_DISABLED);
    const free = m.readU32(c + C_FREE);
    if (free !== 0) this.libc.free(free);
  }

  private loadTok(p: number): void {
    const m = this.m;
    this.k = m.read8(p + TK_KIND);
    this.f = m.read8(p + TK_FLAGS);
    this.tl = m.read32(p + TK_LINE);
    this.tfc = m.readU32(p + TK_FC);
    this.v = m.readU32(p + TK_VAL);
    this.v2 = m.read32(p + TK_VAL2);
  }

  private storeTok(p: number): void {
    const m = this.m;
    m.write16(p + TK_KIND, this.k | (this.f << 8));
    m.write32(p + TK_LINE, this.tl);
    m.write32(p + TK_FC, this.tfc);
    m.write32(p + TK_VAL, this.v);
    m.write32(p + TK_VAL2, this.v2);
  }

  private copyTok(dst: number, src: number): void {
    const m = this.m;
    m.write32(dst, m.read32(src));
    m.write32(dst + 4, m.read32(src + 4));
    m.write32(dst + 8, m.read32(src + 8));
    m.write32(dst + 12, m.read32(src + 12));
    m.write32(dst + 16, m.read32(src + 16));
  }

  private fromLexer(): void {
    const lx = this.lx;
    this.k = lx.k;
    this.f = lx.f;
    this.tl = lx.tl;
    this.tfc = lx.tfc;
    this.v = lx.v;
    this.v2 = lx.v2;
  }

  private pushBack(fromFile: boolean): void {
    this.pb = true;
    this.pbK = this.k;
    this.pbF = this.f;
    this.pbL = this.tl;
    this.pbFc = this.tfc;
    this.pbV = this.v;
    this.pbV2 = this.v2;
    this.pbFromFile = fromFile;
  }

  /** The next token without macro expansion: pushback, macro contexts, then the file (running directives). */
  private getRaw(): void {
    if (this.pb) {
      this.pb = false;
      this.k = this.pbK;
      this.f = this.pbF;
      this.tl = this.pbL;
      this.tfc = this.pbFc;
      this.v = this.pbV;
      this.v2 = this.pbV2;
      this.fromFile = this.pbFromFile;
      return;
    }
    const m = this.m;
    while (this.ctxDepth > 0) {
      const c = this.ctxBase + (this.ctxDepth - 1) * C_SIZE;
      const cur = m.readU32(c + C_CUR);
      if (cur < m.readU32(c + C_END)) {
        m.write32(c + C_CUR, cur + TOK_SIZE);
        this.loadTok(cur);
        this.fromFile = false;
        return;
      }
      if (this.ctxDepth === this.floor) {
        this.k = T.EOF;
        this.f = 0;
        this.fromFile = false;
        return;
      }
      this.popContext();
    }
    const lx = this.lx;
    for (;;) {
      lx.lexDirect();
      if (lx.k === T.HASH && lx.f & BOL && !lx.inDirective) {
        this.handleDirective();
        continue;
      }
      break;
    }
    this.fromLexer();
    this.fromFile = true;
  }

  /** cpp_get_token: the next token after macro expansion (EOF at the end of the main file). */
  getToken(): void {
    const prev = this.libc.enter(this.symGet);
    const m = this.m;
    for (;;) {
      this.getRaw();
      if (this.k === T.EOF) {
        if (this.fromFile && !this.lx.inDirective && this.endOfBuffer()) continue;
        break;
      }
      if (this.k !== T.IDENT || this.f & NO_EXPAND) break;
      const mac = m.readU32(this.v + ID_MACRO);
      if (mac === 0) break;
      const mf = m.read32(mac + M_FLAGS);
      if (mf & MF_DISABLED) {
        this.f |= NO_EXPAND;
        break;
      }
      if (mf & (MF_LINE | MF_FILE)) {
        this.builtin(mf);
        break;
      }
      const white = this.f & PREV_WHITE;
      if (this.enterMacroContext(mac)) {
        this.padWhite |= white;
        continue;
      }
      break;
    }
    if (this.padWhite !== 0 && this.k !== T.EOF) {
      this.f |= PREV_WHITE;
      this.padWhite = 0;
    }
    this.libc.work(30);
    this.libc.leave(prev);
  }

  /** At the end of a file: report unterminated conditionals; pop to the includer (true), or false at the end of input. */
  private endOfBuffer(): boolean {
    const m = this.m;
    const base = m.read32(this.buffer + B_IFDEPTH);
    while (this.ifDepth > base) {
      const r = this.ifBase + (this.ifDepth - 1) * IF_SIZE;
      const fc = m.readU32(r + IF_FC);
      this.ifDepth--;
      this.diag.error(m.read32(r + IF_LINE), makeFc(locFile(fc), 0), `unterminated #${IF_NAMES[m.read32(r + IF_BITS) & 0xff]}`);
    }
    if (m.readU32(this.buffer + B_PREV) === 0) return false;
    this.popBuffer();
    if (this.includeDepth > 0) this.includeDepth--;
    return true;
  }

  /** __LINE__ and __FILE__: the current token becomes a number or a string. */
  private builtin(mf: number): void {
    const s = mf & MF_LINE ? String(this.lx.line) : JSON.stringify(this.diag.fileName(this.lx.file));
    this.k = mf & MF_LINE ? T.NUMBER : T.STRING;
    this.v = this.ggc.allocJsString(s);
    this.v2 = s.length;
  }

  // ---- macro expansion ---------------------------------------------------------------------

  /** enter_macro_context: expand the macro whose name is the current token; false if it is not invoked. */
  private enterMacroContext(mac: number): boolean {
    const m = this.m;
    const prev = this.libc.enter(this.symMacro);
    try {
      const nparams = m.read32(mac + M_NPARAMS);
      const ntok = m.read32(mac + M_NTOKENS);
      if (nparams < 0) {
        if (ntok === 0) return true;
        const toks = m.readU32(mac + M_TOKENS);
        if (!(m.read32(mac + M_FLAGS) & MF_PASTE)) {
          this.pushContext(toks, toks + ntok * TOK_SIZE, mac, 0);
          this.libc.work(20);
          return true;
        }
        this.replace(mac, 0, 0, 0);
        return true;
      }
      // Function-like: is the next token a '('?
      const nK = this.k, nF = this.f, nL = this.tl, nFc = this.tfc, nV = this.v, nV2 = this.v2;
      this.getRaw();
      if (this.k !== T.LPAREN) {
        this.pushBack(this.fromFile);
        this.k = nK;
        this.f = nF;
        this.tl = nL;
        this.tfc = nFc;
        this.v = nV;
        this.v2 = nV2;
        return false;
      }
      this.collectArgs(mac, nparams, nV, nL, nFc);
      return true;
    } finally {
      this.libc.leave(prev);
    }
  }

  /** collect_args: the arguments up to the matching ')', then replace and push the expansion. */
  private collectArgs(mac: number, nparams: number, name: number, nameLine: number, nameFc: number): void {
    const m = this.m;
    const libc = this.libc;
    let cap = 16;
    let buf = libc.malloc(cap * TOK_SIZE);
    let icap = 8;
    let idx = libc.malloc(icap * 4); // start index of each argument
    if (buf === 0 || idx === 0) throw new OutOfMemory();
    let n = 0;
    let nargs = 1;
    m.write32(idx, 0);
    let depth = 0;
    for (;;) {
      this.getRaw();
      const k = this.k;
      if (k === T.EOF || k === T.EOL) {
        this.diag.errorStop(nameLine, nameFc, `unterminated argument list invoking macro "${this.idents.name(name)}"`);
      }
      if (k === T.RPAREN && depth === 0) break;
      if (k === T.COMMA && depth === 0) {
        if (nargs === icap) {
          icap *= 2;
          idx = libc.realloc(idx, icap * 4);
          if (idx === 0) throw new OutOfMemory();
        }
        m.write32(idx + 4 * nargs++, n);
        continue;
      }
      if (k === T.LPAREN) depth++;
      else if (k === T.RPAREN) depth--;
      if (n === cap) {
        cap *= 2;
        buf = libc.realloc(buf, cap * TOK_SIZE);
        if (buf === 0) throw new OutOfMemory();
      }
      this.storeTok(buf + n * TOK_SIZE);
      n++;
    }
    libc.work(10 * n);
    if (nparams === 0 && nargs === 1 && n === 0) nargs = 0;
    if (nargs !== nparams) {
      const nm = this.idents.name(name);
      if (nargs < nparams) this.diag.errorStop(this.tl, this.tfc, `macro "${nm}" requires ${nparams} arguments, but only ${nargs} given`);
      this.diag.errorStop(this.tl, this.tfc, `macro "${nm}" passed ${nargs} arguments, but takes just ${nparams}`);
    }
    if (nargs === icap) {
      idx = libc.realloc(idx, (icap + 1) * 4);
      if (idx === 0) throw new OutOfMemory();
    }
    m.write32(idx + 4 * nargs, n);
    this.replace(mac, buf, idx, nargs);
    libc.free(idx);
    libc.free(buf);
  }

  /** Pre-expand argument i (tokens [start, end) of buf) into a malloc'd buffer: [ptr, count]. */
  private expandArg(buf: number, start: number, end: number): [number, number] {
    if (++this.argNesting > MAX_ARG_NESTING) this.diag.errorStop(this.tl, this.tfc, "macro arguments nested too deeply");
    const libc = this.libc;
    let cap = Math.max(4, end - start);
    let out = libc.malloc(cap * TOK_SIZE);
    if (out === 0) throw new OutOfMemory();
    let n = 0;
    const saveFloor = this.floor;
    this.pushContext(buf + start * TOK_SIZE, buf + end * TOK_SIZE, 0, 0);
    this.floor = this.ctxDepth;
    for (;;) {
      this.getToken();
      if (this.k === T.EOF) break;
      if (n === cap) {
        cap *= 2;
        out = libc.realloc(out, cap * TOK_SIZE);
        if (out === 0) throw new OutOfMemory();
      }
      this.storeTok(out + n * TOK_SIZE);
      n++;
    }
    this.floor = saveFloor;
    this.popContext();
    this.argNesting--;
    return [out, n];
  }

  /** replace_args (+ paste_all_tokens): the macro's body with its arguments, pushed as a context. */
  private replace(mac: number, args: number, idx: number, nargs: number): void {
    const m = this.m;
    const libc = this.libc;
    const ntok = m.read32(mac + M_NTOKENS);
    const body = m.readU32(mac + M_TOKENS);
    let cap = ntok + 8;
    let out = libc.malloc(cap * TOK_SIZE);
    if (out === 0) throw new OutOfMemory();
    let n = 0;
    // Pre-expanded arguments, computed when first needed: (ptr, count) pairs.
    const cache = nargs > 0 ? libc.calloc(nargs, 8) : 0;
    const ensure = (extra: number) => {
      if (n + extra > cap) {
        cap = Math.max(cap * 2, n + extra);
        out = libc.realloc(out, cap * TOK_SIZE);
        if (out === 0) throw new OutOfMemory();
      }
    };
    let pasteBefore = false;
    for (let i = 0; i < ntok; i++) {
      const t = body + i * TOK_SIZE;
      const k = m.read8(t + TK_KIND);
      const fl = m.read8(t + TK_FLAGS);
      if (k !== T.MACRO_ARG) {
        ensure(1);
        this.copyTok(out + n * TOK_SIZE, t);
        n++;
        pasteBefore = (fl & PASTE_LEFT) !== 0;
        continue;
      }
      const a = m.read32(t + TK_VAL);
      const s = m.read32(idx + 4 * a);
      const e = m.read32(idx + 4 * a + 4);
      if (fl & STRINGIFY) {
        ensure(1);
        this.stringify(args, s, e, t);
        this.f = (fl & (PASTE_LEFT | PREV_WHITE));
        this.storeTok(out + n * TOK_SIZE);
        n++;
      } else if (fl & PASTE_LEFT || pasteBefore) {
        // An operand of ##: the argument as written.
        if (e === s) {
          ensure(1);
          const p = out + n * TOK_SIZE;
          this.copyTok(p, t);
          m.write8(p + TK_KIND, T.PLACEMARKER);
          n++;
        } else {
          ensure(e - s);
          for (let j = s; j < e; j++) this.copyTok(out + (n + j - s) * TOK_SIZE, args + j * TOK_SIZE);
          if (fl & PASTE_LEFT) {
            const last = out + (n + e - s - 1) * TOK_SIZE;
            m.write8(last + TK_FLAGS, m.read8(last + TK_FLAGS) | PASTE_LEFT);
          }
          n += e - s;
        }
      } else {
        let ep = m.readU32(cache + 8 * a);
        let en = m.read32(cache + 8 * a + 4);
        if (ep === 0) {
          [ep, en] = this.expandArg(args, s, e);
          m.write32(cache + 8 * a, ep);
          m.write32(cache + 8 * a + 4, en);
        }
        ensure(en);
        if (en > 0) libc.memcpy(out + n * TOK_SIZE, ep, en * TOK_SIZE);
        if (en > 0 && fl & PREV_WHITE) m.write8(out + n * TOK_SIZE + TK_FLAGS, m.read8(out + n * TOK_SIZE + TK_FLAGS) | PREV_WHITE);
        n += en;
      }
      pasteBefore = (fl & PASTE_LEFT) !== 0;
    }
    for (let a = 0; a < nargs; a++) {
      const ep = m.readU32(cache + 8 * a);
      if (ep !== 0) libc.free(ep);
    }
    if (cache !== 0) libc.free(cache);
    if (m.read32(mac + M_FLAGS) & MF_PASTE) n = this.pasteAll(out, n);
    libc.work(12 * n + 40);
    if (n === 0) {
      libc.free(out);
      // An empty expansion still disables nothing; but the macro must not be re-entered from its own (empty) body.
      return;
    }
    this.pushContext(out, out + n * TOK_SIZE, mac, out);
  }

  /** stringify_arg: the argument's spelling as a string literal token (into the current token). */
  private stringify(args: number, s: number, e: number, at: number): void {
    const m = this.m;
    let str = '"';
    for (let j = s; j < e; j++) {
      const t = args + j * TOK_SIZE;
      const k = m.read8(t + TK_KIND);
      if (j > s && m.read8(t + TK_FLAGS) & PREV_WHITE) str += " ";
      let sp = this.lx.spell(k, m.readU32(t + TK_VAL), m.read32(t + TK_VAL2));
      if (k === T.STRING || k === T.CHAR) sp = sp.replace(/[\\"]/g, (c) => "\\" + c);
      str += sp;
    }
    str += '"';
    this.k = T.STRING;
    this.tl = m.read32(at + TK_LINE);
    this.tfc = m.readU32(at + TK_FC);
    this.v = this.ggc.allocJsString(str);
    this.v2 = str.length;
  }

  /** paste_all_tokens: apply the ## operators in an expansion, in place; the new count. */
  private pasteAll(buf: number, n: number): number {
    const m = this.m;
    let w = 0;
    for (let r = 0; r < n; r++) {
      this.loadTok(buf + r * TOK_SIZE);
      while (this.f & PASTE_LEFT && r + 1 < n) {
        r++;
        const rhs = buf + r * TOK_SIZE;
        const rk = m.read8(rhs + TK_KIND);
        const rf = m.read8(rhs + TK_FLAGS);
        if (rk === T.PLACEMARKER) {
          this.f = (this.f & ~PASTE_LEFT) | (rf & PASTE_LEFT);
          continue;
        }
        if (this.k === T.PLACEMARKER) {
          const keep = this.f & PREV_WHITE;
          this.loadTok(rhs);
          this.f = (this.f & ~PREV_WHITE) | keep;
          continue;
        }
        this.pasteTokens(rhs, rf);
      }
      if (this.k === T.PLACEMARKER) continue;
      this.f &= ~PASTE_LEFT;
      this.storeTok(buf + w * TOK_SIZE);
      w++;
    }
    return w;
  }

  /** paste_tokens: the current token ## the token at rhs, re-lexed as one token. */
  private pasteTokens(rhs: number, rf: number): void {
    const m = this.m;
    const lx = this.lx;
    const a = lx.spell(this.k, this.v, this.v2);
    const b = lx.spell(m.read8(rhs + TK_KIND), m.readU32(rhs + TK_VAL), m.read32(rhs + TK_VAL2));
    const s = a + b;
    const p = this.ggc.allocJsString(s);
    // Lex the spelling on its own, then put the lexer back.
    const save = [lx.cur, lx.end, lx.line, lx.lineStart, lx.file, lx.pending, lx.inDirective ? 1 : 0];
    const [sk, sf, sl, sfc, sv, sv2] = [lx.k, lx.f, lx.tl, lx.tfc, lx.v, lx.v2];
    lx.setBuffer(p, p + s.length, this.tfc >>> 16);
    lx.inDirective = true;
    lx.lexDirect();
    const ok = lx.cur === p + s.length && lx.k !== T.EOL && lx.k !== T.EOF && !(lx.k === T.OTHER && s.length > 1);
    const nk = lx.k, nv = lx.v, nv2 = lx.v2;
    [lx.cur, lx.end, lx.line, lx.lineStart, lx.file, lx.pending] = save;
    lx.inDirective = save[6] === 1;
    [lx.k, lx.f, lx.tl, lx.tfc, lx.v, lx.v2] = [sk, sf, sl, sfc, sv, sv2];
    if (!ok) this.diag.errorStop(this.tl, this.tfc, `pasting "${a}" and "${b}" does not give a valid preprocessing token`);
    this.k = nk;
    this.v = nv;
    this.v2 = nv2;
    this.f = (this.f & PREV_WHITE) | (rf & PASTE_LEFT);
  }

  // ---- directives ----------------------------------------------------------------------------

  private handleDirective(): void {
    const prev = this.libc.enter(this.symDirective);
    const lx = this.lx;
    lx.inDirective = true;
    lx.lexDirect();
    this.libc.work(40);
    if (lx.k === T.IDENT) {
      const d = lx.v;
      const dl = lx.tl, dfc = lx.tfc;
      if (d === this.nDefine) this.doDefine();
      else if (d === this.nInclude) {
        if (this.doInclude(dl, dfc)) {
          this.libc.leave(prev);
          return;
        }
      } else if (d === this.nUndef) this.doUndef();
      else if (d === this.nIf) this.doIf(IFK_IF, dl, dfc);
      else if (d === this.nIfdef) this.doIf(IFK_IFDEF, dl, dfc);
      else if (d === this.nIfndef) this.doIf(IFK_IFNDEF, dl, dfc);
      else if (d === this.nElif || d === this.nElse) this.doElse(d === this.nElif ? IFK_ELIF : IFK_ELSE, dl, dfc);
      else if (d === this.nEndif) this.doEndif(dl, dfc);
      else if (d === this.nError || d === this.nWarning) this.doDiagnostic(d === this.nError, dl, dfc);
      else if (d === this.nPragma || d === this.nLine || d === this.nIdent) {
        // accepted and ignored
      } else this.diag.error(dl, dfc, `invalid preprocessing directive #${this.idents.name(d)}`);
    } else if (lx.k !== T.EOL && lx.k !== T.NUMBER) {
      this.diag.error(lx.tl, lx.tfc, `invalid preprocessing directive #${lx.spell(lx.k, lx.v, lx.v2)}`);
    }
    lx.skipLine();
    lx.inDirective = false;
    this.libc.leave(prev);
  }

  /** A macro name after #define/#undef/#ifdef (the lexer's token); false with an error if missing. */
  private macroName(dir: string): boolean {
    const lx = this.lx;
    if (lx.k === T.EOL) {
      this.diag.error(lx.tl, lx.tfc, `no macro name given in #${dir} directive`);
      return false;
    }
    if (lx.k !== T.IDENT) {
      this.diag.error(lx.tl, lx.tfc, "macro names must be identifiers");
      return false;
    }
    if (lx.v === this.nDefined && dir !== "ifdef" && dir !== "ifndef") {
      this.diag.error(lx.tl, lx.tfc, '"defined" cannot be used as a macro name');
      return false;
    }
    return true;
  }

  private ensureScratch(n: number): void {
    if (n <= this.scratchCap) return;
    const cap = Math.max(64, this.scratchCap * 2, n);
    const p = this.libc.realloc(this.scratch, cap * TOK_SIZE);
    if (p === 0) throw new OutOfMemory();
    this.scratch = p;
    this.scratchCap = cap;
  }

  /** #define NAME[(params)] body */
  private doDefine(): void {
    const lx = this.lx;
    const m = this.m;
    const diag = this.diag;
    lx.lexDirect();
    if (!this.macroName("define")) return;
    const name = lx.v;
    let nparams = -1;
    let params = 0;
    if (lx.nextIsParen()) {
      lx.lexDirect(); // (
      nparams = 0;
      let pcap = 4;
      params = this.libc.malloc(pcap * 4);
      if (params === 0) throw new OutOfMemory();
      lx.lexDirect();
      if (lx.k !== T.RPAREN) {
        for (;;) {
          if (lx.k === T.ELLIPSIS) {
            this.libc.free(params);
            return diag.error(lx.tl, lx.tfc, "variadic macros are not supported");
          }
          if (lx.k !== T.IDENT) {
            this.libc.free(params);
            if (lx.k === T.EOL) return diag.error(lx.tl, lx.tfc, "expected parameter name before end of line");
            return diag.error(lx.tl, lx.tfc, `expected parameter name, found "${lx.spell(lx.k, lx.v, lx.v2)}"`);
          }
          for (let i = 0; i < nparams; i++) {
            if (m.readU32(params + 4 * i) === lx.v) {
              this.libc.free(params);
              return diag.error(lx.tl, lx.tfc, `duplicate macro parameter "${this.idents.name(lx.v)}"`);
            }
          }
          if (nparams === pcap) {
            pcap *= 2;
            params = this.libc.realloc(params, pcap * 4);
            if (params === 0) throw new OutOfMemory();
          }
          m.write32(params + 4 * nparams++, lx.v);
          lx.lexDirect();
          if (lx.kind() === T.RPAREN) break;
          if (lx.kind() !== T.COMMA) {
            this.libc.free(params);
            if (lx.kind() === T.EOL) return diag.error(lx.tl, lx.tfc, "expected ')' before end of line");
            return diag.error(lx.tl, lx.tfc, `expected ',' or ')', found "${lx.spell(lx.k, lx.v, lx.v2)}"`);
          }
          lx.lexDirect();
        }
      }
    }
    // The body.
    let n = 0;
    let flags = 0;
    let stringifyNext = false;
    for (;;) {
      lx.lexDirect();
      if (lx.k === T.EOL) break;
      this.ensureScratch(n + 1);
      const p = this.scratch + n * TOK_SIZE;
      let k = lx.k;
      let v = lx.v;
      if (k === T.IDENT && nparams > 0) {
        for (let i = 0; i < nparams; i++) {
          if (m.readU32(params + 4 * i) === v) {
            k = T.MACRO_ARG;
            v = i;
            break;
          }
        }
      }
      if (stringifyNext) {
        stringifyNext = false;
        if (k !== T.MACRO_ARG) {
          this.libc.free(params);
          return diag.error(lx.tl, lx.tfc, "'#' is not followed by a macro parameter");
        }
        const q = p - TOK_SIZE; // the '#' token: becomes the argument
        m.write8(q + TK_KIND, T.MACRO_ARG);
        m.write8(q + TK_FLAGS, m.read8(q + TK_FLAGS) | STRINGIFY);
        m.write32(q + TK_VAL, v);
        continue;
      }
      if (k === T.HASH && nparams >= 0) stringifyNext = true;
      if (k === T.PASTE) {
        if (n === 0) {
          if (params) this.libc.free(params);
          return diag.error(lx.tl, lx.tfc, "'##' cannot appear at either end of a macro expansion");
        }
        const q = p - TOK_SIZE;
        m.write8(q + TK_FLAGS, m.read8(q + TK_FLAGS) | PASTE_LEFT);
        flags |= MF_PASTE;
        // The next token must exist.
        lx.lexDirect();
        if (lx.k === T.EOL) {
          if (params) this.libc.free(params);
          return diag.error(lx.tl, lx.tfc, "'##' cannot appear at either end of a macro expansion");
        }
        // Re-run this token through the loop body by storing it now.
        k = lx.k;
        v = lx.v;
        if (k === T.IDENT && nparams > 0) {
          for (let i = 0; i < nparams; i++) {
            if (m.readU32(params + 4 * i) === v) {
              k = T.MACRO_ARG;
              v = i;
              break;
            }
          }
        }
        if (k === T.HASH && nparams >= 0) stringifyNext = true;
      }
      m.write16(p + TK_KIND, k | ((n === 0 ? lx.f & ~(PREV_WHITE | BOL) : lx.f & ~BOL) << 8));
      m.write32(p + TK_LINE, lx.tl);
      m.write32(p + TK_FC, lx.tfc);
      m.write32(p + TK_VAL, v);
      m.write32(p + TK_VAL2, lx.v2);
      n++;
    }
    if (stringifyNext) {
      if (params) this.libc.free(params);
      return diag.error(lx.tl, lx.tfc, "'#' is not followed by a macro parameter");
    }
    this.libc.work(30 * n + 50);
    // The macro, in GC memory.
    const mac = this.ggc.alloc(M_SIZE);
    m.write32(mac + M_NPARAMS, nparams);
    let gp = 0;
    if (nparams > 0) {
      gp = this.ggc.alloc(nparams * 4);
      this.libc.memcpy(gp, params, nparams * 4);
    }
    if (params) this.libc.free(params);
    m.write32(mac + M_PARAMS, gp);
    m.write32(mac + M_NTOKENS, n);
    let toks = 0;
    if (n > 0) {
      toks = this.ggc.alloc(n * TOK_SIZE);
      this.libc.memcpy(toks, this.scratch, n * TOK_SIZE);
    }
    m.write32(mac + M_TOKENS, toks);
    m.write32(mac + M_FLAGS, flags);
    // Redefining a macro that is being expanded keeps the old one alive in its context.
    m.write32(name + ID_MACRO, mac);
  }

  private doUndef(): void {
    const lx = this.lx;
    lx.lexDirect();
    if (!this.macroName("undef")) return;
    this.m.write32(lx.v + ID_MACRO, 0);
  }

  /** #include "file" / <file>: true if a new buffer was entered (the directive is finished). */
  private doInclude(dl: number, dfc: number): boolean {
    const lx = this.lx;
    const diag = this.diag;
    let name: string;
    let nl = 0, nfc = 0;
    if (lx.lexHeaderName()) {
      name = lx.text(lx.v, lx.v2);
      nl = lx.tl;
      nfc = lx.tfc;
    } else {
      // A string literal, possibly from a macro.
      this.getToken();
      nl = this.tl;
      nfc = this.tfc;
      if (this.k === T.STRING) {
        name = lx.text(this.v + 1, this.v2 - 2);
      } else {
        diag.error(this.k === T.EOL ? dl : this.tl, this.k === T.EOL ? dfc : this.tfc, '#include expects "FILENAME" or <FILENAME>');
        return false;
      }
    }
    if (name === "") {
      diag.error(nl, nfc, "empty filename in #include");
      return false;
    }
    if (this.includeDepth >= MAX_INCLUDE_DEPTH) {
      diag.error(nl, nfc, `#include nested depth ${MAX_INCLUDE_DEPTH} exceeds maximum of ${MAX_INCLUDE_DEPTH} (use -fmax-include-depth=DEPTH to increase the maximum)`);
      return false;
    }
    // Finish the directive line in this buffer, then enter the file.
    lx.skipLine();
    lx.inDirective = false;
    const dirs: string[] = [...this.includeDirs];
    const cur = diag.fileName(lx.file);
    const slash = cur.lastIndexOf("/");
    dirs.push(slash < 0 ? "" : cur.slice(0, slash) || "/");
    const candidates = name.startsWith("/") ? [name] : dirs.map((d) => (d === "" ? name : d.endsWith("/") ? d + name : `${d}/${name}`));
    for (const path of candidates) {
      if (this.enterFile(path)) {
        this.includeDepth++;
        return true;
      }
    }
    return diag.fatal(nl, nfc, `${name}: No such file or directory`);
  }

  private pushIf(kind: number, line: number, fc: number, taken: boolean): void {
    if (this.ifDepth >= MAX_IF_NESTING * 64) this.diag.errorStop(line, fc, "#if nesting too deep");
    if (this.ifDepth === this.ifCap) {
      const cap = this.ifCap === 0 ? 16 : this.ifCap * 2;
      const p = this.libc.realloc(this.ifBase, cap * IF_SIZE);
      if (p === 0) throw new OutOfMemory();
      this.ifBase = p;
      this.ifCap = cap;
    }
    const r = this.ifBase + this.ifDepth++ * IF_SIZE;
    this.m.write32(r + IF_LINE, line);
    this.m.write32(r + IF_FC, fc);
    this.m.write32(r + IF_BITS, kind | (taken ? TAKEN : 0));
  }

  private doIf(kind: number, dl: number, dfc: number): void {
    const lx = this.lx;
    let cond: boolean;
    if (kind === IFK_IF) cond = this.evalIf();
    else {
      lx.lexDirect();
      if (!this.macroName(kind === IFK_IFDEF ? "ifdef" : "ifndef")) cond = false;
      else cond = (this.m.readU32(lx.v + ID_MACRO) !== 0) === (kind === IFK_IFDEF);
    }
    this.pushIf(kind, dl, dfc, cond);
    if (!cond) this.skipGroup();
  }

  /** The innermost open conditional of this file, or 0. */
  private topIf(): number {
    const base = this.m.read32(this.buffer + B_IFDEPTH);
    return this.ifDepth > base ? this.ifBase + (this.ifDepth - 1) * IF_SIZE : 0;
  }

  /** #elif / #else reached in a group being processed: the rest of the conditional is skipped. */
  private doElse(kind: number, dl: number, dfc: number): void {
    const m = this.m;
    const r = this.topIf();
    const name = kind === IFK_ELIF ? "elif" : "else";
    if (r === 0) return this.diag.error(dl, dfc, `#${name} without #if`);
    const bits = m.read32(r + IF_BITS);
    if (bits & SAW_ELSE) return this.diag.error(dl, dfc, `#${name} after #else`);
    m.write32(r + IF_BITS, kind | TAKEN | (kind === IFK_ELSE ? SAW_ELSE : 0));
    this.skipGroup();
  }

  private doEndif(dl: number, dfc: number): void {
    if (this.topIf() === 0) return this.diag.error(dl, dfc, "#endif without #if");
    this.ifDepth--;
  }

  /** skip_group: lines up to the #elif/#else that is taken or the matching #endif. */
  private skipGroup(): void {
    const lx = this.lx;
    const m = this.m;
    lx.skipLine();
    lx.inDirective = false;
    let depth = 0;
    let lines = 0;
    while (lx.nextLine()) {
      lines++;
      if (!lx.atDirective()) continue;
      lx.inDirective = true;
      lx.lexDirect();
      if (lx.k === T.IDENT) {
        const d = lx.v;
        const dl = lx.tl, dfc = lx.tfc;
        if (d === this.nIf || d === this.nIfdef || d === this.nIfndef) depth++;
        else if (depth === 0 && (d === this.nElif || d === this.nElse)) {
          const r = this.ifBase + (this.ifDepth - 1) * IF_SIZE;
          const bits = m.read32(r + IF_BITS);
          const isElse = d === this.nElse;
          if (bits & SAW_ELSE) this.diag.error(dl, dfc, `#${isElse ? "else" : "elif"} after #else`);
          else if (!(bits & TAKEN) && (isElse || this.evalIf())) {
            m.write32(r + IF_BITS, (isElse ? IFK_ELSE | SAW_ELSE : IFK_ELIF) | TAKEN);
            break;
          } else m.write32(r + IF_BITS, (isElse ? IFK_ELSE | SAW_ELSE : IFK_ELIF) | (bits & TAKEN));
        } else if (d === this.nEndif) {
          if (depth === 0) {
            this.ifDepth--;
            break;
          }
          depth--;
        }
      }
      lx.skipLine();
      lx.inDirective = false;
    }
    this.libc.work(20 * lines);
    lx.inDirective = true; // the caller finishes the directive line
  }

  private doDiagnostic(isError: boolean, dl: number, dfc: number): void {
    const lx = this.lx;
    let text = isError ? "#error" : "#warning";
    for (;;) {
      lx.lexDirect();
      if (lx.k === T.EOL) break;
      text += (lx.f & PREV_WHITE ? " " : "") + lx.spell(lx.k, lx.v, lx.v2);
    }
    if (isError) this.diag.error(dl, dfc, text);
    else this.libc.eprintf("%s: warning: %s\n", this.diag.where(dl, dfc), text);
  }

  // ---- #if expressions (_cpp_parse_expr) --------------------------------------------------

  private evalIf(): boolean {
    const prev = this.libc.enter(this.symExpr);
    this.iSkip = 0;
    this.iDepth = 0;
    this.ifNext();
    if (this.iK === T.EOL) this.diag.errorStop(this.iL, this.iFc, "#if with no expression");
    const [v] = this.ifCond();
    if (this.iK !== T.EOL) {
      if (this.iK === T.RPAREN) this.diag.errorStop(this.iL, this.iFc, "missing '(' in expression");
      this.diag.errorStop(this.iL, this.iFc, `missing binary operator before token "${this.iSpell()}"`);
    }
    this.libc.leave(prev);
    return v !== 0;
  }

  /** The current token's kind (a call, so that TypeScript does not narrow it across calls that change it). */
  kind(): number {
    return this.k;
  }
  private iKind(): number {
    return this.iK;
  }

  private iSpell(): string {
    return this.lx.spell(this.k, this.v, this.v2);
  }

  /** The next #if token: numbers (identifiers are 0, defined X is 0 or 1) become T.INT with iV/iU. */
  private ifNext(): void {
    this.getToken();
    this.iL = this.tl;
    this.iFc = this.tfc;
    this.libc.work(20);
    const k = this.k;
    switch (k) {
      case T.IDENT: {
        if (this.v === this.nDefined) {
          this.getRaw();
          const paren = this.k === T.LPAREN;
          if (paren) this.getRaw();
          if (this.k !== T.IDENT) this.diag.errorStop(this.iL, this.iFc, 'operator "defined" requires an identifier');
          const defined = this.m.readU32(this.v + ID_MACRO) !== 0;
          if (paren) {
            this.getRaw();
            if (this.kind() !== T.RPAREN) this.diag.errorStop(this.iL, this.iFc, `missing ')' after "defined"`);
          }
          this.iV = defined ? 1 : 0;
        } else this.iV = 0;
        this.iK = T.INT;
        this.iU = false;
        return;
      }
      case T.NUMBER: {
        const err = this.lx.interpretNumber(this.v, this.v2);
        if (err !== null) this.diag.errorStop(this.iL, this.iFc, err);
        this.iK = T.INT;
        this.iV = this.lx.value;
        this.iU = (this.lx.flags & INT_UNSIGNED) !== 0;
        return;
      }
      case T.CHAR: {
        const err = this.lx.interpretChar(this.v, this.v2);
        if (err !== null) this.diag.errorStop(this.iL, this.iFc, err);
        this.iK = T.INT;
        this.iV = this.lx.value;
        this.iU = false;
        return;
      }
      case T.STRING:
      case T.OTHER:
      case T.HASH:
      case T.PASTE:
      case T.LBRACE:
      case T.RBRACE:
      case T.LBRACK:
      case T.RBRACK:
      case T.SEMI:
      case T.DOT:
      case T.ARROW:
      case T.ELLIPSIS:
      case T.INC:
      case T.DEC:
      case T.EOF:
        if (k === T.EOF) {
          this.iK = T.EOL;
          return;
        }
        this.diag.errorStop(this.iL, this.iFc, `token "${this.iSpell()}" is not valid in preprocessor expressions`);
        break;
      default:
        if (k >= T.ASSIGN && k <= T.OR_ASSIGN) this.diag.errorStop(this.iL, this.iFc, `token "${this.iSpell()}" is not valid in preprocessor expressions`);
        this.iK = k;
    }
  }

  private ifCond(): [number, boolean] {
    const c = this.ifBinary(1);
    if (this.iK !== T.QUESTION) return c;
    const ql = this.iL, qfc = this.iFc;
    this.ifNext();
    if (c[0] === 0) this.iSkip++;
    const a = this.ifCond();
    if (c[0] === 0) this.iSkip--;
    if (this.iKind() !== T.COLON) this.diag.errorStop(ql, qfc, "'?' without following ':'");
    this.ifNext();
    if (c[0] !== 0) this.iSkip++;
    const b = this.ifCond();
    if (c[0] !== 0) this.iSkip--;
    const u = a[1] || b[1];
    return [c[0] !== 0 ? a[0] : b[0], u];
  }

  private ifBinary(minPrec: number): [number, boolean] {
    let [l, lu] = this.ifUnary();
    for (;;) {
      const op = this.iK;
      const prec = IF_PREC[op] ?? 0;
      if (prec < minPrec || prec === 0) return [l, lu];
      const ol = this.iL, ofc = this.iFc;
      this.ifNext();
      if (this.iK === T.EOL) this.diag.errorStop(this.iL, this.iFc, `operator '${SPELL[op]}' has no right operand`);
      const shortCircuit = (op === T.ANDAND && l === 0) || (op === T.OROR && l !== 0);
      if (shortCircuit) this.iSkip++;
      const [r, ru] = this.ifBinary(prec + 1);
      if (shortCircuit) this.iSkip--;
      const u = lu || ru;
      switch (op) {
        case T.STAR: l = Math.imul(l, r); break;
        case T.SLASH:
        case T.PERCENT:
          if (r === 0) {
            if (this.iSkip === 0) this.diag.errorStop(ol, ofc, "division by zero in #if");
            l = 0;
          } else if (u) l = op === T.SLASH ? ((l >>> 0) / (r >>> 0)) | 0 : ((l >>> 0) % (r >>> 0)) | 0;
          else l = op === T.SLASH ? (l / r) | 0 : (l % r) | 0;
          break;
        case T.PLUS: l = (l + r) | 0; break;
        case T.MINUS: l = (l - r) | 0; break;
        case T.SHL: l = r >= 32 || r < 0 ? 0 : l << r; lu = lu; break;
        case T.SHR: l = r >= 32 || r < 0 ? (lu ? 0 : l >> 31) : lu ? (l >>> r) | 0 : l >> r; break;
        case T.LT: l = (u ? l >>> 0 < r >>> 0 : l < r) ? 1 : 0; break;
        case T.GT: l = (u ? l >>> 0 > r >>> 0 : l > r) ? 1 : 0; break;
        case T.LE: l = (u ? l >>> 0 <= r >>> 0 : l <= r) ? 1 : 0; break;
        case T.GE: l = (u ? l >>> 0 >= r >>> 0 : l >= r) ? 1 : 0; break;
        case T.EQ: l = l === r ? 1 : 0; break;
        case T.NE: l = l !== r ? 1 : 0; break;
        case T.AMP: l &= r; break;
        case T.CARET: l ^= r; break;
        case T.BAR: l |= r; break;
        case T.ANDAND: l = l !== 0 && r !== 0 ? 1 : 0; break;
        case T.OROR: l = l !== 0 || r !== 0 ? 1 : 0; break;
        case T.COMMA: l = r; break;
      }
      if (op === T.SHL || op === T.SHR) continue; // keeps the left operand's signedness
      lu = op >= T.LT && op <= T.NE ? false : op === T.ANDAND || op === T.OROR ? false : op === T.COMMA ? ru : u;
    }
  }

  private ifUnary(): [number, boolean] {
    const k = this.iK;
    const l = this.iL, fc = this.iFc;
    if (++this.iDepth > 256) this.diag.fatal(l, fc, "#if expression nested too deeply");
    try {
      switch (k) {
        case T.INT: {
          const r: [number, boolean] = [this.iV, this.iU];
          this.ifNext();
          return r;
        }
        case T.LPAREN: {
          this.ifNext();
          if (this.iK === T.RPAREN) this.diag.errorStop(this.iL, this.iFc, "missing expression between '(' and ')'");
          const r = this.ifCond();
          if (this.iK !== T.RPAREN) this.diag.errorStop(l, fc, "missing ')' in expression");
          this.ifNext();
          return r;
        }
        case T.MINUS:
        case T.PLUS:
        case T.TILDE:
        case T.NOT: {
          this.ifNext();
          if (this.iK === T.EOL) this.diag.errorStop(this.iL, this.iFc, `operator '${SPELL[k]}' has no right operand`);
          const [v, u] = this.ifUnary();
          if (k === T.MINUS) return [-v | 0, u];
          if (k === T.TILDE) return [~v, u];
          if (k === T.NOT) return [v === 0 ? 1 : 0, false];
          return [v, u];
        }
        case T.EOL:
          this.diag.errorStop(l, fc, "#if with no expression");
          break;
        case T.RPAREN:
          this.diag.errorStop(l, fc, "missing '(' in expression");
          break;
        default:
          this.diag.errorStop(l, fc, `operator '${SPELL[k] ?? "?"}' has no left operand`);
      }
      return [0, false];
    } finally {
      this.iDepth--;
    }
  }

  /**
   * -E: the preprocessed tokens as text (a token starting a line starts a
   * new line; a space where there was white space, or where two tokens
   * would otherwise paste).
   */
  preprocessTo(write: (s: string) => void): void {
    let line = "";
    let first = true;
    for (;;) {
      this.getToken();
      if (this.k === T.EOF) break;
      if (this.k === T.PLACEMARKER) continue;
      const s = this.lx.spell(this.k, this.v, this.v2);
      if (this.f & BOL && !first) {
        write(line + "\n");
        line = "";
      } else if (!first && (this.f & PREV_WHITE || line !== "")) line += " ";
      line += s;
      first = false;
    }
    write(line === "" ? "" : line + "\n");
  }

  /**
   * Run the command-line definitions (-D, and the predefined macros) as a
   * buffer of #define lines named <command-line>, before the main file.
   */
  runPredefines(text: string): void {
    const p = this.libc.malloc(text.length + 1);
    if (p === 0) throw new OutOfMemory();
    this.m.writeCString(p, text);
    const f = this.diag.addFile(this.ggc.allocJsString("<command-line>"), p, text.length);
    this.pushBuffer(p, text.length, f);
    for (;;) {
      this.getToken();
      if (this.k === T.EOF) break;
      this.diag.errorStop(this.tl, this.tfc, `stray '${this.lx.spell(this.k, this.v, this.v2)}' in program`);
    }
    this.popBuffer();
  }
}
