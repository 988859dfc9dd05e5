// The assembler proper, shaped like gas: read_a_source_file lexes each
// statement out of the source buffer in user memory; md_assemble encodes an
// instruction into the current frag and records a fixup for a symbolic
// operand; write_object_file (pass 2) lays out the frags, resolves the fixups
// (a local label becomes its section symbol plus an offset), and writes the
// object. All of the assembler's data lives in user memory:
//
//   source      one malloc'd buffer (grown with realloc while reading)
//   frags       one obstack per section (frch_obstack), 4064-byte chunks
//   fixups      the notes obstack, chained per section
//   symbols     the notes obstack (struct and name), found through a hash table
//   opcodes, pseudo-ops, registers: hash tables built by md_begin
//
// Structures (offsets in bytes):
//
//   section (calloc'd)  +0 obstack (20)  +20 frag_root  +24 frag_now
//                       +28 fix_root     +32 fix_tail   +36 size (bss only)
//   frag                +0 next  +4 address  +8 fix (literal bytes)  +12 type
//                       +16 var (alignment or space)  +20 pad (variable bytes)
//                       +24 literal bytes...
//   fixup               +0 next  +4 frag  +8 where (offset in literal)
//                       +12 symbol  +16 addend  +20 line
//   symbol              +0..15 hash entry (next, name, len, hash)  +16 section
//                       +20 value  +24 flags  +28 index  +32 line  +36 list next
//                       +40 strtab offset  +44 file
//   hash entry (other)  +0..15 hash entry  +16 value

import { strerror } from "../../../kernel/errno.ts";
import { type Libc, O_CREAT, O_RDONLY, O_TRUNC, O_WRONLY } from "../../../libc/libc.ts";
import { type Form, INSNS, word0 } from "../isa.ts";
import { REG_NAMES } from "../isa.ts";
import {
  OBJ_RELOC_BYTES, OBJ_SYM_BYTES, SEC_BSS, SEC_COMMON, SEC_DATA, SEC_TEXT, SEC_UNDEF,
  SYM_GLOBAL, objLayout, putObjHeader, putReloc, putSym,
} from "../objfmt.ts";
import { E_HASH, E_LEN, E_NAME, HTAB_ENTRY_BYTES, Htab, hashStep } from "./htab.ts";
import { OBSTACK_BYTES, Obstack } from "./obstack.ts";

const IMAGE = "as";

// section
const S_FRAG_ROOT = 20;
const S_FRAG_NOW = 24;
const S_FIX_ROOT = 28;
const S_FIX_TAIL = 32;
const S_SIZE = 36;
const SECTION_BYTES = 40;

// frag
const F_NEXT = 0;
const F_ADDRESS = 4;
const F_FIX = 8;
const F_TYPE = 12;
const F_VAR = 16;
const F_PAD = 20;
const F_LITERAL = 24;
const RS_FILL = 0;
const RS_ALIGN = 1;
const RS_SPACE = 2;

// fixup
const X_NEXT = 0;
const X_FRAG = 4;
const X_WHERE = 8;
const X_SYM = 12;
const X_ADDEND = 16;
const X_LINE = 20;
const FIXUP_BYTES = 24;

// symbol
const Y_SECTION = 16;
const Y_VALUE = 20;
const Y_FLAGS = 24;
const Y_INDEX = 28;
const Y_LINE = 32;
const Y_LIST = 36;
const Y_STROFF = 40;
const Y_FILE = 44;
const SYMBOL_BYTES = 48;
const YF_GLOBAL = 1;
const YF_DEFINED = 2;
const YF_LLABEL = 4;
const YF_REFERENCED = 8;

const H_VALUE = HTAB_ENTRY_BYTES;

// Character classes of the lexer (a constant table, as gas's lex_type).
const C_IDSTART = 1;
const C_ID = 2;
const C_DIGIT = 4;
const C_SPACE = 8;
const CTYPE = (() => {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) {
    const ch = String.fromCharCode(c);
    if (/[A-Za-z_.$]/.test(ch)) t[c] |= C_IDSTART | C_ID;
    if (/[0-9]/.test(ch)) t[c] |= C_ID | C_DIGIT;
  }
  t[0x20] = C_SPACE;
  t[0x09] = C_SPACE;
  t[0x0d] = C_SPACE;
  t[0x0b] = C_SPACE;
  t[0x0c] = C_SPACE;
  return t;
})();

const NL = 0x0a;
const HASH = 0x23;
const COMMA = 0x2c;
const QUOTE = 0x22;
const SQUOTE = 0x27;

const DIRECTIVES = [
  ".text", ".data", ".bss", ".globl", ".global", ".byte", ".half", ".short", ".word", ".long", ".int",
  ".ascii", ".asciz", ".string", ".zero", ".space", ".align", ".comm",
] as const;
type Directive = (typeof DIRECTIVES)[number];

/** A statement's error: reported as FILE:LINE: Error: message, and the rest of the line skipped. */
class AsmError {
  constructor(readonly msg: string) {}
}

function quote(s: string): string {
  return `\`${s}'`;
}

export class Assembler {
  private readonly mem;
  private notes!: Obstack;
  private symtab!: Htab;
  private opHash!: Htab;
  private regHash!: Htab;
  private poHash!: Htab;
  /** Section structs, by SEC_TEXT..SEC_BSS (index 0 unused). */
  private readonly secs = [0, 0, 0, 0];
  private readonly obs: Obstack[] = [];
  private cur = SEC_TEXT;
  private symRoot = 0;
  private symTail = 0;
  errors = 0;

  // The lexer: the source buffer and where we are in it.
  private p = 0;
  private end = 0;
  private line = 0;
  private fileIndex = 0;
  private files: string[] = [];
  /** The instruction being assembled (for diagnostics). */
  private mnemonic = "";
  /** Result of expr(): a constant and at most one symbol. */
  private exprValue = 0;
  private exprSym = 0;
  /** Token scanned by ident(): start, length, hash. */
  private tokStart = 0;
  private tokLen = 0;
  private tokHash = 0;

  private readonly symReadSource: number;
  private readonly symAssemble: number;
  private readonly symWrite: number;
  private readonly symFixup: number;

  constructor(private readonly libc: Libc) {
    this.mem = libc.mem;
    this.symReadSource = libc.symbol(IMAGE, "read_a_source_file");
    this.symAssemble = libc.symbol(IMAGE, "md_assemble");
    this.symWrite = libc.symbol(IMAGE, "write_object_file");
    this.symFixup = libc.symbol(IMAGE, "fixup_segment");
  }

  // ---- set-up: md_begin and the section frag chains -------------------------------

  /** Create the obstacks, hash tables and sections; false if out of memory. */
  begin(): boolean {
    const libc = this.libc;
    const m = this.mem;
    const prev = libc.enter(libc.symbol(IMAGE, "md_begin"));
    const notesH = libc.malloc(OBSTACK_BYTES);
    if (notesH === 0) return false;
    this.notes = Obstack.begin(libc, notesH);
    const symtab = Htab.create(libc, 256, IMAGE);
    const opHash = Htab.create(libc, 64, IMAGE);
    const regHash = Htab.create(libc, 16, IMAGE);
    const poHash = Htab.create(libc, 32, IMAGE);
    if (!symtab || !opHash || !regHash || !poHash) return false;
    this.symtab = symtab;
    this.opHash = opHash;
    this.regHash = regHash;
    this.poHash = poHash;
    INSNS.forEach((insn, i) => this.addName(opHash, insn.name, i));
    REG_NAMES.forEach((r, i) => this.addName(regHash, r, i));
    DIRECTIVES.forEach((d, i) => this.addName(poHash, d, i));
    this.obs.push(this.notes);
    for (let s = SEC_TEXT; s <= SEC_BSS; s++) {
      const sec = libc.calloc(1, SECTION_BYTES);
      if (sec === 0) return false;
      this.secs[s] = sec;
      if (s !== SEC_BSS) {
        this.obs[s] = Obstack.begin(libc, sec + 0);
        this.startFrag(s, 0, 0);
        m.write32(sec + S_FRAG_ROOT, m.readU32(sec + S_FRAG_NOW));
      }
    }
    libc.leave(prev);
    return true;
  }

  /** A constant name in a hash table (md_begin's tables). */
  private addName(t: Htab, name: string, value: number): void {
    const m = this.mem;
    const n = this.notes.blank(name.length + 1);
    let h = 0;
    for (let i = 0; i < name.length; i++) {
      const c = name.charCodeAt(i);
      m.write8(n + i, c);
      h = hashStep(h, c);
    }
    m.write8(n + name.length, 0);
    this.notes.finish();
    const e = this.notes.alloc(HTAB_ENTRY_BYTES + 4);
    m.write32(e + E_NAME, n);
    m.write32(e + E_LEN, name.length);
    m.write32(e + E_HASH, h);
    m.write32(e + H_VALUE, value);
    t.insert(e);
  }

  /** Start a frag at `address` in section s, with room for n literal bytes in the same chunk. */
  private startFrag(s: number, address: number, n: number): void {
    const m = this.mem;
    const ob = this.obs[s];
    const sec = this.secs[s];
    ob.makeRoom(F_LITERAL + n);
    const f = ob.blank(F_LITERAL);
    m.write32(f + F_NEXT, 0);
    m.write32(f + F_ADDRESS, address);
    m.write32(f + F_FIX, 0);
    m.write32(f + F_TYPE, RS_FILL);
    m.write32(f + F_VAR, 0);
    m.write32(f + F_PAD, 0);
    const old = m.readU32(sec + S_FRAG_NOW);
    if (old !== 0) m.write32(old + F_NEXT, f);
    m.write32(sec + S_FRAG_NOW, f);
  }

  /** End frag_now of section s as `type` (frag_var); its size. */
  private closeFrag(s: number, type: number, v: number, pad: number): number {
    const m = this.mem;
    const f = m.readU32(this.secs[s] + S_FRAG_NOW);
    const fix = this.obs[s].nextFree - (f + F_LITERAL);
    m.write32(f + F_FIX, fix);
    m.write32(f + F_TYPE, type);
    m.write32(f + F_VAR, v);
    m.write32(f + F_PAD, pad);
    this.obs[s].finish();
    return fix + pad;
  }

  /** frag_more: n literal bytes at the end of the current section; their address. */
  private fragMore(n: number): number {
    const s = this.cur;
    const ob = this.obs[s];
    if (ob.room < n) {
      // Frags never move once fixups point at them: close this one and start another (frag_grow).
      const m = this.mem;
      const f = m.readU32(this.secs[s] + S_FRAG_NOW);
      const size = this.closeFrag(s, RS_FILL, 0, 0);
      this.startFrag(s, m.readU32(f + F_ADDRESS) + size, n);
    }
    return ob.blank(n);
  }

  /** The current offset in section s. */
  private offset(s: number): number {
    const m = this.mem;
    const sec = this.secs[s];
    if (s === SEC_BSS) return m.readU32(sec + S_SIZE);
    const f = m.readU32(sec + S_FRAG_NOW);
    return m.readU32(f + F_ADDRESS) + (this.obs[s].nextFree - (f + F_LITERAL));
  }

  /** A variable-size frag (rs_align or rs_space) of `pad` bytes, then a fresh frag. */
  private fragVar(type: number, v: number, pad: number): void {
    const s = this.cur;
    const m = this.mem;
    const f = m.readU32(this.secs[s] + S_FRAG_NOW);
    const size = this.closeFrag(s, type, v, pad);
    this.startFrag(s, m.readU32(f + F_ADDRESS) + size, 0);
  }

  /** fix_new: the 4 bytes at `p` in the current frag become symbol + addend. */
  private fixNew(p: number, sym: number, addend: number): void {
    const m = this.mem;
    const sec = this.secs[this.cur];
    const f = m.readU32(sec + S_FRAG_NOW);
    const x = this.notes.alloc(FIXUP_BYTES);
    m.write32(x + X_NEXT, 0);
    m.write32(x + X_FRAG, f);
    m.write32(x + X_WHERE, p - (f + F_LITERAL));
    m.write32(x + X_SYM, sym);
    m.write32(x + X_ADDEND, addend);
    m.write32(x + X_LINE, this.line);
    const tail = m.readU32(sec + S_FIX_TAIL);
    if (tail === 0) m.write32(sec + S_FIX_ROOT, x);
    else m.write32(tail + X_NEXT, x);
    m.write32(sec + S_FIX_TAIL, x);
    this.libc.work(15);
  }

  // ---- symbols ---------------------------------------------------------------------------

  /** symbol_find_or_make for the token just scanned. */
  private symbolFor(): number {
    const m = this.mem;
    const found = this.symtab.find(this.tokStart, this.tokLen, this.tokHash);
    if (found !== 0) return found;
    const name = this.notes.copy0(this.tokStart, this.tokLen);
    const y = this.notes.alloc(SYMBOL_BYTES);
    m.write32(y + E_NAME, name);
    m.write32(y + E_LEN, this.tokLen);
    m.write32(y + E_HASH, this.tokHash);
    m.write32(y + Y_SECTION, SEC_UNDEF);
    m.write32(y + Y_VALUE, 0);
    const local = this.tokLen >= 2 && m.read8(this.tokStart) === 0x2e && m.read8(this.tokStart + 1) === 0x4c; // ".L"
    m.write32(y + Y_FLAGS, local ? YF_LLABEL : 0);
    m.write32(y + Y_INDEX, -1);
    m.write32(y + Y_LINE, 0);
    m.write32(y + Y_LIST, 0);
    m.write32(y + Y_STROFF, 0);
    m.write32(y + Y_FILE, this.fileIndex);
    if (this.symTail === 0) this.symRoot = y;
    else m.write32(this.symTail + Y_LIST, y);
    this.symTail = y;
    this.symtab.insert(y);
    this.libc.work(40);
    return y;
  }

  private symName(y: number): string {
    const m = this.mem;
    const p = m.readU32(y + E_NAME);
    const n = m.readU32(y + E_LEN);
    let s = "";
    for (let i = 0; i < n; i++) s += String.fromCharCode(m.read8(p + i));
    return s;
  }

  /** A reference to y from the current line. */
  private reference(y: number): void {
    const m = this.mem;
    const fl = m.readU32(y + Y_FLAGS);
    if ((fl & YF_REFERENCED) === 0) {
      m.write32(y + Y_FLAGS, fl | YF_REFERENCED);
      m.write32(y + Y_LINE, this.line);
      m.write32(y + Y_FILE, this.fileIndex);
    }
  }

  private defineLabel(y: number): void {
    const m = this.mem;
    const fl = m.readU32(y + Y_FLAGS);
    if (fl & YF_DEFINED || m.readU32(y + Y_SECTION) === SEC_COMMON) throw new AsmError(`symbol ${quote(this.symName(y))} is already defined`);
    m.write32(y + Y_FLAGS, fl | YF_DEFINED);
    m.write32(y + Y_SECTION, this.cur);
    m.write32(y + Y_VALUE, this.offset(this.cur));
  }

  // ---- pass 1: read_a_source_file ------------------------------------------------------

  /**
   * Read a source file (or standard input for null) into a malloc'd buffer;
   * its address and size, or an error message.
   */
  readSource(path: string | null): { buf: number; size: number } | string {
    const libc = this.libc;
    const fd = path === null ? 0 : libc.open(path, O_RDONLY);
    if (fd < 0) return `can't open ${path} for reading: ${strerror(libc.errno)}`;
    let cap = 16 << 10;
    let buf = libc.malloc(cap);
    let size = 0;
    for (;;) {
      if (cap - size < 4096) {
        cap *= 2;
        const nb = libc.realloc(buf, cap);
        if (nb === 0) return "memory exhausted";
        buf = nb;
      }
      const n = libc.read(fd, buf + size, cap - size - 1);
      if (n < 0) {
        const err = `can't read ${path ?? "{standard input}"}: ${strerror(libc.errno)}`;
        if (path !== null) libc.close(fd);
        return err;
      }
      if (n === 0) break;
      size += n;
    }
    if (path !== null) libc.close(fd);
    this.mem.write8(buf + size, NL);
    return { buf, size };
  }

  /** Assemble the source text at buf (size bytes, followed by a newline) as file `name`. */
  assemble(name: string, buf: number, size: number): void {
    const libc = this.libc;
    const prev = libc.enter(this.symReadSource);
    this.fileIndex = this.files.length;
    this.files.push(name);
    this.p = buf;
    this.end = buf + size;
    this.line = 0;
    while (this.p < this.end) {
      this.line++;
      const start = this.p;
      try {
        this.statement();
      } catch (e) {
        if (!(e instanceof AsmError)) throw e;
        this.error(e.msg);
        this.skipLine();
      }
      libc.work(10 + 3 * (this.p - start));
    }
    libc.leave(prev);
  }

  private error(msg: string, line = this.line, file = this.files[this.fileIndex]): void {
    this.errors++;
    this.libc.eprintf("%s:%d: Error: %s\n", file, line, msg);
  }

  private peek(): number {
    return this.mem.read8(this.p);
  }

  private skipSpaces(): void {
    while (CTYPE[this.mem.read8(this.p)] & C_SPACE) this.p++;
  }

  /** At the end of the statement (newline or comment)? */
  private atEnd(): boolean {
    const c = this.peek();
    return c === NL || c === HASH;
  }

  private skipLine(): void {
    while (this.mem.read8(this.p) !== NL) this.p++;
    this.p++;
  }

  /** Scan an identifier at p into tok*; false if none starts here. */
  private ident(): boolean {
    const m = this.mem;
    let c = m.read8(this.p);
    if ((CTYPE[c] & C_IDSTART) === 0) return false;
    const start = this.p;
    let h = 0;
    do {
      h = hashStep(h, c);
      c = m.read8(++this.p);
    } while (CTYPE[c] & C_ID);
    this.tokStart = start;
    this.tokLen = this.p - start;
    this.tokHash = h;
    return true;
  }

  private tokText(): string {
    let s = "";
    for (let i = 0; i < this.tokLen; i++) s += String.fromCharCode(this.mem.read8(this.tokStart + i));
    return s;
  }

  /** The rest of the statement, or of the operand starting at `from` (for diagnostics). */
  private textFrom(from: number, stopAtComma: boolean): string {
    const m = this.mem;
    let s = "";
    for (let q = from; ; q++) {
      const c = m.read8(q);
      if (c === NL || c === HASH || (stopAtComma && c === COMMA)) break;
      s += String.fromCharCode(c);
    }
    return s.trim();
  }

  private junk(): AsmError {
    return new AsmError(`junk at end of line, first unrecognized character is ${quote(String.fromCharCode(this.peek()))}`);
  }

  /** The statement must end here (spaces and a comment allowed). */
  private endStatement(): void {
    this.skipSpaces();
    if (!this.atEnd()) throw this.junk();
    this.skipLine();
  }

  private statement(): void {
    for (;;) {
      this.skipSpaces();
      if (this.atEnd()) {
        this.skipLine();
        return;
      }
      if (!this.ident()) throw this.junk();
      if (this.peek() !== 0x3a /* ':' */) break;
      this.p++;
      this.defineLabel(this.symbolFor());
    }
    if (this.mem.read8(this.tokStart) === 0x2e) {
      const e = this.poHash.find(this.tokStart, this.tokLen, this.tokHash);
      if (e === 0) throw new AsmError(`unknown pseudo-op: ${quote(this.tokText())}`);
      this.directive(DIRECTIVES[this.mem.readU32(e + H_VALUE)]);
      return;
    }
    const e = this.opHash.find(this.tokStart, this.tokLen, this.tokHash);
    if (e === 0) throw new AsmError(`no such instruction: ${quote(this.tokText())}`);
    const libc = this.libc;
    const prev = libc.enter(this.symAssemble);
    try {
      this.mdAssemble(this.mem.readU32(e + H_VALUE));
    } finally {
      libc.leave(prev);
    }
  }

  // ---- operands ---------------------------------------------------------------------

  private mismatch(): AsmError {
    return new AsmError(`number of operands mismatch for ${quote(this.mnemonic)}`);
  }

  /** A register operand. */
  private reg(): number {
    this.skipSpaces();
    if (this.atEnd()) throw this.mismatch();
    const start = this.p;
    if (this.ident()) {
      const e = this.regHash.find(this.tokStart, this.tokLen, this.tokHash);
      if (e !== 0) return this.mem.readU32(e + H_VALUE);
      throw new AsmError(`bad register name ${quote(this.tokText())}`);
    }
    throw new AsmError(`bad register name ${quote(this.textFrom(start, true))}`);
  }

  /** The comma between two operands. */
  private comma(): void {
    this.skipSpaces();
    if (this.peek() === COMMA) {
      this.p++;
      return;
    }
    if (this.atEnd()) throw this.mismatch();
    throw this.junk();
  }

  /** A number at p (decimal, 0x hex, or a character constant); null if none starts here. */
  private number(): number | null {
    const m = this.mem;
    let c = m.read8(this.p);
    if (c === SQUOTE) {
      this.p++;
      const v = this.charValue();
      if (m.read8(this.p) !== SQUOTE) return null;
      this.p++;
      return v;
    }
    if ((CTYPE[c] & C_DIGIT) === 0) return null;
    let v = 0;
    if (c === 0x30 && (m.read8(this.p + 1) | 0x20) === 0x78) {
      this.p += 2;
      let digits = 0;
      for (;;) {
        c = m.read8(this.p);
        const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66 ? (c | 0x20) - 0x61 + 10 : -1;
        if (d < 0) break;
        v = v * 16 + d;
        digits++;
        this.p++;
      }
      if (digits === 0) return null;
    } else {
      while (CTYPE[(c = m.read8(this.p))] & C_DIGIT) {
        v = v * 10 + (c - 0x30);
        this.p++;
      }
    }
    if (CTYPE[m.read8(this.p)] & C_ID) return null;
    return v;
  }

  /**
   * An expression: terms joined by + and -, each a number, a character
   * constant or a symbol; at most one symbol, added. Sets exprValue and
   * exprSym. `what` names the operand in a diagnostic.
   */
  private expr(negate = false): void {
    this.skipSpaces();
    if (this.atEnd()) throw this.mismatch();
    if (this.peek() === COMMA) throw new AsmError("missing operand");
    const start = this.p;
    const bad = () => new AsmError(`bad operand ${quote(this.textFrom(start, true))}`);
    let value = 0;
    let sym = 0;
    let sign = negate ? -1 : 1;
    for (;;) {
      this.skipSpaces();
      while (this.peek() === 0x2d /* '-' */) {
        sign = -sign;
        this.p++;
        this.skipSpaces();
      }
      const before = this.p;
      const n = this.number();
      if (n === null && this.p !== before) throw bad(); // "0x", "12abc"
      if (n !== null) {
        value += sign * n;
      } else if (this.ident()) {
        if (sym !== 0 || sign < 0) throw bad();
        sym = this.symbolFor();
        this.reference(sym);
      } else {
        throw bad();
      }
      this.skipSpaces();
      const c = this.peek();
      if (c === 0x2b /* '+' */) sign = 1;
      else if (c === 0x2d) sign = -1;
      else break;
      this.p++;
    }
    if (value < -0x80000000 || value > 0xffffffff) throw new AsmError(`value out of range: ${quote(this.textFrom(start, true))}`);
    this.exprValue = value | 0;
    this.exprSym = sym;
    this.libc.work(20);
  }

  /** A memory operand [reg], [reg+expr], [reg-expr]: the base register; the offset in expr*. */
  private memOperand(): number {
    this.skipSpaces();
    if (this.atEnd()) throw this.mismatch();
    const start = this.p;
    const bad = () => new AsmError(`bad operand ${quote(this.textFrom(start, true))}`);
    if (this.peek() !== 0x5b /* '[' */) throw bad();
    this.p++;
    const r = this.reg();
    this.skipSpaces();
    let c = this.peek();
    this.exprValue = 0;
    this.exprSym = 0;
    if (c === 0x2b || c === 0x2d) {
      this.p++;
      this.skipSpaces();
      if (this.atEnd() || this.peek() === 0x5d) throw bad();
      try {
        this.expr(c === 0x2d);
      } catch (e) {
        if (e instanceof AsmError && e.msg.startsWith("bad operand")) throw bad();
        throw e;
      }
      this.skipSpaces();
      c = this.peek();
    }
    if (c !== 0x5d /* ']' */) throw bad();
    this.p++;
    return r;
  }

  // ---- md_assemble ----------------------------------------------------------------------

  private mdAssemble(index: number): void {
    const insn = INSNS[index];
    const form: Form = insn.form;
    this.mnemonic = insn.name;
    let rd = 0;
    let rs = 0;
    let rt = 0;
    this.exprValue = 0;
    this.exprSym = 0;
    switch (form) {
      case "rd,imm":
        rd = this.reg();
        this.comma();
        this.expr();
        break;
      case "rd,rs":
        rd = this.reg();
        this.comma();
        rs = this.reg();
        break;
      case "rd,rs,imm":
        rd = this.reg();
        this.comma();
        rs = this.reg();
        this.comma();
        this.expr();
        break;
      case "rd,rs,rt":
        rd = this.reg();
        this.comma();
        rs = this.reg();
        this.comma();
        rt = this.reg();
        break;
      case "rd,mem":
        rd = this.reg();
        this.comma();
        rs = this.memOperand();
        break;
      case "mem,rt":
        rs = this.memOperand();
        this.comma();
        rt = this.reg();
        break;
      case "imm":
        this.expr();
        break;
      case "rs,imm":
        rs = this.reg();
        this.comma();
        this.expr();
        break;
      case "rs":
        rs = this.reg();
        break;
      case "rd":
        rd = this.reg();
        break;
      case "":
        break;
    }
    this.skipSpaces();
    if (this.peek() === COMMA || (form === "" && !this.atEnd())) throw this.mismatch();
    this.endStatement();
    if (this.cur === SEC_BSS) throw new AsmError(`attempt to store non-zero value in section ${quote(".bss")}`);
    const m = this.mem;
    const at = this.fragMore(8);
    m.write32(at, word0(insn.op, rd, rs, rt));
    if (this.exprSym !== 0) {
      m.write32(at + 4, 0);
      this.fixNew(at + 4, this.exprSym, this.exprValue);
    } else {
      m.write32(at + 4, this.exprValue);
    }
    this.libc.work(40);
  }

  // ---- pseudo-ops -------------------------------------------------------------------------

  private directive(d: Directive): void {
    const libc = this.libc;
    libc.work(20);
    switch (d) {
      case ".text":
      case ".data":
      case ".bss":
        this.endStatement();
        this.cur = d === ".text" ? SEC_TEXT : d === ".data" ? SEC_DATA : SEC_BSS;
        return;
      case ".globl":
      case ".global":
        for (;;) {
          this.skipSpaces();
          const start = this.p;
          if (this.atEnd()) throw new AsmError("missing operand");
          if (!this.ident()) throw new AsmError(`bad operand ${quote(this.textFrom(start, true))}`);
          const y = this.symbolFor();
          this.mem.write32(y + Y_FLAGS, this.mem.readU32(y + Y_FLAGS) | YF_GLOBAL);
          this.skipSpaces();
          if (this.peek() !== COMMA) break;
          this.p++;
        }
        this.endStatement();
        return;
      case ".byte":
        return this.cons(1);
      case ".half":
      case ".short":
        return this.cons(2);
      case ".word":
      case ".long":
      case ".int":
        return this.cons(4);
      case ".ascii":
        return this.stringer(false);
      case ".asciz":
      case ".string":
        return this.stringer(true);
      case ".zero":
      case ".space": {
        const n = this.absolute();
        if (n < 0) throw new AsmError(`bad operand ${quote(String(n))}`);
        this.endStatement();
        if (this.cur === SEC_BSS) this.growBss(n);
        else this.fragVar(RS_SPACE, n, n);
        return;
      }
      case ".align": {
        const n = this.absolute();
        if (n <= 0 || (n & (n - 1)) !== 0 || n > 65536) throw new AsmError("alignment not a power of 2");
        this.endStatement();
        const pad = -this.offset(this.cur) & (n - 1);
        if (this.cur === SEC_BSS) this.growBss(pad);
        else if (pad !== 0) this.fragVar(RS_ALIGN, n, pad);
        return;
      }
      case ".comm": {
        this.skipSpaces();
        const start = this.p;
        if (!this.ident()) throw new AsmError(`bad operand ${quote(this.textFrom(start, true))}`);
        const y = this.symbolFor();
        this.mnemonic = ".comm";
        this.comma();
        const size = this.absolute();
        if (size < 0) throw new AsmError(`bad operand ${quote(String(size))}`);
        this.endStatement();
        const m = this.mem;
        const fl = m.readU32(y + Y_FLAGS);
        if (fl & YF_DEFINED) throw new AsmError(`symbol ${quote(this.symName(y))} is already defined`);
        const old = m.readU32(y + Y_SECTION) === SEC_COMMON ? m.readU32(y + Y_VALUE) : 0;
        m.write32(y + Y_SECTION, SEC_COMMON);
        m.write32(y + Y_VALUE, Math.max(old, size));
        m.write32(y + Y_FLAGS, fl | YF_GLOBAL);
        return;
      }
    }
  }

  /** An expression that must be a constant. */
  private absolute(): number {
    this.skipSpaces();
    const start = this.p;
    this.mnemonic = "";
    if (this.atEnd()) throw new AsmError("missing operand");
    this.expr();
    if (this.exprSym !== 0) throw new AsmError(`bad operand ${quote(this.textFrom(start, true))}`);
    return this.exprValue;
  }

  private growBss(n: number): void {
    const sec = this.secs[SEC_BSS];
    this.mem.write32(sec + S_SIZE, this.mem.readU32(sec + S_SIZE) + n);
  }

  /** .byte/.half/.word: a list of expressions, `size` bytes each (a symbol only in .word). */
  private cons(size: number): void {
    const m = this.mem;
    for (;;) {
      this.skipSpaces();
      const start = this.p;
      if (this.atEnd()) throw new AsmError("missing operand");
      this.expr();
      if (this.exprSym !== 0 && size !== 4) throw new AsmError(`bad operand ${quote(this.textFrom(start, true))}`);
      if (this.cur === SEC_BSS) {
        if (this.exprSym !== 0 || this.exprValue !== 0) throw new AsmError(`attempt to store non-zero value in section ${quote(".bss")}`);
        this.growBss(size);
      } else {
        const at = this.fragMore(size);
        const v = this.exprSym !== 0 ? 0 : this.exprValue;
        if (size === 1) m.write8(at, v);
        else if (size === 2) m.write16(at, v);
        else m.write32(at, v);
        if (this.exprSym !== 0) this.fixNew(at, this.exprSym, this.exprValue);
      }
      this.skipSpaces();
      if (this.peek() !== COMMA) break;
      this.p++;
    }
    this.endStatement();
  }

  /**
   * One character of a string or character constant at p, escapes decoded
   * (\n \t \r \0 \a \b \f \v \\ \" \' \xHH \ooo; any other escaped
   * character stands for itself, as in gas).
   */
  private charValue(): number {
    const m = this.mem;
    const c = m.read8(this.p);
    if (c === NL) throw new AsmError("missing end-quote");
    this.p++;
    if (c !== 0x5c) return c;
    const e = m.read8(this.p);
    if (e === NL) throw new AsmError("missing end-quote");
    this.p++;
    switch (e) {
      case 0x6e: return 10;
      case 0x74: return 9;
      case 0x72: return 13;
      case 0x61: return 7;
      case 0x62: return 8;
      case 0x66: return 12;
      case 0x76: return 11;
      case 0x78: {
        let v = 0;
        let n = 0;
        for (;;) {
          const h = m.read8(this.p) | 0x20;
          const d = h >= 0x30 && h <= 0x39 ? h - 0x30 : h >= 0x61 && h <= 0x66 ? h - 0x61 + 10 : -1;
          if (d < 0 || n === 2) break;
          v = v * 16 + d;
          n++;
          this.p++;
        }
        return v & 0xff;
      }
      default:
        if (e >= 0x30 && e <= 0x37) {
          let v = e - 0x30;
          for (let n = 1; n < 3; n++) {
            const o = m.read8(this.p);
            if (o < 0x30 || o > 0x37) break;
            v = v * 8 + (o - 0x30);
            this.p++;
          }
          return v & 0xff;
        }
        return e;
    }
  }

  /** .ascii/.asciz: one or more quoted strings. */
  private stringer(nul: boolean): void {
    const m = this.mem;
    for (;;) {
      this.skipSpaces();
      const start = this.p;
      if (this.peek() !== QUOTE) {
        if (this.atEnd()) throw new AsmError("missing operand");
        throw new AsmError(`bad operand ${quote(this.textFrom(start, true))}`);
      }
      // Measure, then copy: the bytes go into the frag in one piece.
      this.p++;
      let n = 0;
      while (this.peek() !== QUOTE) {
        this.charValue();
        n++;
      }
      if (nul) n++;
      if (this.cur === SEC_BSS) throw new AsmError(`attempt to store non-zero value in section ${quote(".bss")}`);
      const at = this.fragMore(n);
      this.p = start + 1;
      let i = 0;
      while (this.peek() !== QUOTE) m.write8(at + i++, this.charValue());
      if (nul) m.write8(at + i, 0);
      this.p++;
      this.libc.work(4 * n);
      this.skipSpaces();
      if (this.peek() !== COMMA) break;
      this.p++;
    }
    this.endStatement();
  }

  // ---- pass 2: write_object_file ------------------------------------------------------------

  /** Lay out, resolve fixups, and write the object to `out`; false on an error (reported). */
  writeObject(out: string): boolean {
    const libc = this.libc;
    const m = this.mem;
    const prev = libc.enter(this.symWrite);
    try {
      // Close the last frag of each section: its size ends the section.
      const sizes = [0, 0, 0, 0];
      for (const s of [SEC_TEXT, SEC_DATA]) {
        const f = m.readU32(this.secs[s] + S_FRAG_NOW);
        sizes[s] = m.readU32(f + F_ADDRESS) + this.closeFrag(s, RS_FILL, 0, 0);
      }
      sizes[SEC_BSS] = m.readU32(this.secs[SEC_BSS] + S_SIZE);

      // Local labels must be defined; number the symbols the object will carry.
      let nsyms = 3;
      let strtab = ".text\0.data\0.bss\0".length;
      for (let y = this.symRoot; y !== 0; y = m.readU32(y + Y_LIST)) {
        const fl = m.readU32(y + Y_FLAGS);
        if ((fl & YF_LLABEL) !== 0 && (fl & YF_GLOBAL) === 0) {
          if ((fl & YF_DEFINED) === 0) this.error(`local label ${quote(this.symName(y))} is not defined`, m.readU32(y + Y_LINE), this.files[m.readU32(y + Y_FILE)]);
          continue;
        }
        m.write32(y + Y_INDEX, nsyms++);
        m.write32(y + Y_STROFF, strtab);
        strtab += m.readU32(y + E_LEN) + 1;
        libc.work(10);
      }
      if (this.errors > 0) return false;

      let nrelocs = 0;
      for (const s of [SEC_TEXT, SEC_DATA]) for (let x = m.readU32(this.secs[s] + S_FIX_ROOT); x !== 0; x = m.readU32(x + X_NEXT)) nrelocs++;

      const h = { textSize: sizes[SEC_TEXT], dataSize: sizes[SEC_DATA], bssSize: sizes[SEC_BSS], nsyms, nrelocs, strtabSize: strtab };
      const l = objLayout(h);
      const buf = libc.malloc(l.end);
      if (buf === 0) {
        libc.eprintf("as: memory exhausted\n");
        return false;
      }
      putObjHeader(m, buf, h);
      this.writeFrags(SEC_TEXT, buf + l.text);
      this.writeFrags(SEC_DATA, buf + l.data);

      // Symbols: the three section symbols, then the named ones.
      let sa = buf + l.syms;
      const st = buf + l.strtab;
      for (let s = SEC_TEXT; s <= SEC_BSS; s++) {
        putSym(m, sa, [0, 6, 12][s - 1], s, 0, 0);
        sa += OBJ_SYM_BYTES;
      }
      m.writeCString(st, ".text");
      m.writeCString(st + 6, ".data");
      m.writeCString(st + 12, ".bss");
      for (let y = this.symRoot; y !== 0; y = m.readU32(y + Y_LIST)) {
        const idx = m.read32(y + Y_INDEX);
        if (idx < 0) continue;
        const fl = m.readU32(y + Y_FLAGS);
        const sec = m.readU32(y + Y_SECTION);
        const global = (fl & YF_GLOBAL) !== 0 || sec === SEC_UNDEF;
        const off = m.readU32(y + Y_STROFF);
        putSym(m, buf + l.syms + idx * OBJ_SYM_BYTES, off, sec, m.readU32(y + Y_VALUE), global ? SYM_GLOBAL : 0);
        const len = m.readU32(y + E_LEN);
        m.memcpy(st + off, m.readU32(y + E_NAME), len);
        m.write8(st + off + len, 0);
        libc.work(12);
      }

      // Relocations (fixup_segment + write_relocs): locals against their section symbol.
      const fprev = libc.enter(this.symFixup);
      let ra = buf + l.relocs;
      for (const s of [SEC_TEXT, SEC_DATA]) {
        for (let x = m.readU32(this.secs[s] + S_FIX_ROOT); x !== 0; x = m.readU32(x + X_NEXT)) {
          const y = m.readU32(x + X_SYM);
          const offset = m.readU32(m.readU32(x + X_FRAG) + F_ADDRESS) + m.readU32(x + X_WHERE);
          let addend = m.read32(x + X_ADDEND);
          let index = m.read32(y + Y_INDEX);
          const fl = m.readU32(y + Y_FLAGS);
          const sec = m.readU32(y + Y_SECTION);
          if ((fl & YF_GLOBAL) === 0 && sec >= SEC_TEXT && sec <= SEC_BSS) {
            index = sec - SEC_TEXT;
            addend = (addend + m.readU32(y + Y_VALUE)) | 0;
          }
          putReloc(m, ra, s, offset, index, addend);
          ra += OBJ_RELOC_BYTES;
          libc.work(20);
        }
      }
      libc.leave(fprev);

      const ok = this.writeFile(out, buf, l.end);
      libc.free(buf);
      return ok;
    } finally {
      libc.leave(prev);
    }
  }

  /** Copy a section's frags (literal bytes, then zeros for alignment and space) to dst. */
  private writeFrags(s: number, dst: number): void {
    const m = this.mem;
    for (let f = m.readU32(this.secs[s] + S_FRAG_ROOT); f !== 0; f = m.readU32(f + F_NEXT)) {
      const at = dst + m.readU32(f + F_ADDRESS);
      const fix = m.readU32(f + F_FIX);
      if (fix > 0) m.memcpy(at, f + F_LITERAL, fix);
      const pad = m.readU32(f + F_PAD);
      if (pad > 0) m.memset(at + fix, 0, pad);
      this.libc.work(10);
    }
  }

  private writeFile(out: string, buf: number, n: number): boolean {
    const libc = this.libc;
    libc.unlink(out);
    const fd = libc.open(out, O_WRONLY | O_CREAT | O_TRUNC, 0o666);
    if (fd < 0) {
      libc.eprintf("as: can't open %s for writing: %s\n", out, strerror(libc.errno));
      return false;
    }
    for (let done = 0; done < n; ) {
      const w = libc.write(fd, buf + done, n - done);
      if (w <= 0) {
        libc.eprintf("as: can't write %s: %s\n", out, strerror(libc.errno));
        libc.close(fd);
        return false;
      }
      done += w;
    }
    libc.close(fd);
    return true;
  }
}
