// ld [-o OUTPUT] [-e ENTRY] FILE.o...: the NZ32 linker (GNU ld's command line).
//
// 1. Load: each object is read whole into a malloc'd buffer (after ld's own
//    startup object, crt0, unless -e names another entry) and its header
//    checked.
// 2. Symbols (_bfd_generic_link_add_symbols): every global or undefined
//    symbol goes into one hash table in user memory; its entries (carved
//    from an obstack) say defined / common / undefined, by which object, where.
//    A second definition is `ld: multiple definition of 'sym'`; a common
//    merges with commons (largest size) and yields to a definition. Each
//    object gets a malloc'd array from its symbol indices to hash entries.
// 3. Layout (lang_process): text at 0x00400000, each object's contribution
//    aligned to 16; data from the next page boundary, likewise; bss right
//    after data (data_size is padded to 16), then the commons, aligned to
//    their size (up to 16), in order of first appearance.
// 4. Relocate (bfd_perform_relocation): every R_ABS32 word becomes the
//    symbol's address plus the addend, in a calloc'd image of the file. A
//    relocation against a symbol nobody defined is `ld: undefined reference
//    to 'sym'` (once per symbol; an undefined symbol nothing refers to is
//    no error, as with GNU ld).
// 5. Write the NZX executable: the old file is unlinked and a new one
//    created with mode 0755 through open.
//
// crt0 (ld's built-in startup object) defines _start:
//
//   _start: li fp, 0; mov r4, sp; ld r1, [r4]      argc
//           addi r2, r4, 4                          argv
//           li r5, 4; mul r3, r1, r5; add r3, r3, r2; addi r3, r3, 4   envp
//           push r3; push r2; push r1; call main; addi sp, sp, 12
//           mov r1, r0; li r0, 1; sys               exit(main's result)
//
// Errors exit 1 without writing the output.

import { strerror } from "../../../kernel/errno.ts";
import { type Libc, O_CREAT, O_RDONLY, O_TRUNC, O_WRONLY } from "../../../libc/libc.ts";
import { ObstackExhausted, OBSTACK_BYTES, Obstack } from "../as/obstack.ts";
import { E_HASH, E_LEN, E_NAME, HTAB_ENTRY_BYTES, Htab, hashStep } from "../as/htab.ts";
import { INSN_BYTES, OP, REG_FP, REG_SP, encode } from "../isa.ts";
import {
  NZX_HEADER_BYTES, PAGE_SIZE, SEC_BSS, SEC_COMMON, SEC_DATA, SEC_TEXT, SEC_UNDEF, SYM_GLOBAL, TEXT_BASE,
  objLayout, putNzxHeader, readObjHeader, relocAddr, symAddr, writeObject,
} from "../objfmt.ts";

const IMAGE = "ld";

// Object descriptor (malloc'd).
const D_NEXT = 0;
const D_BUF = 4;
const D_SIZE = 8;
const D_NAME = 12;
const D_TEXT_SIZE = 16;
const D_DATA_SIZE = 20;
const D_BSS_SIZE = 24;
const D_NSYMS = 28;
const D_NRELOCS = 32;
const D_STRTAB_SIZE = 36;
const D_TEXT_ADDR = 40;
const D_DATA_ADDR = 44;
const D_BSS_ADDR = 48;
const D_GLOBALS = 52;
const DESC_BYTES = 56;

// Global hash entry (obstack).
const G_TYPE = HTAB_ENTRY_BYTES;
const G_OWNER = G_TYPE + 4;
const G_SECTION = G_TYPE + 8;
const G_VALUE = G_TYPE + 12;
const G_ADDR = G_TYPE + 16;
const G_LIST = G_TYPE + 20;
const ENTRY_BYTES = G_TYPE + 24;
const T_UNDEF = 0;
const T_DEFINED = 1;
const T_COMMON = 2;

const SECTION_ALIGN = 16;

function alignUp(v: number, a: number): number {
  return (v + a - 1) & -a;
}

/** ld's crt0: _start calls main(argc, argv, envp) and exits with its result. */
function crt0Object(): Uint8Array {
  const code: Uint8Array[] = [
    encode(OP.LI, REG_FP, 0, 0, 0),
    encode(OP.MOV, 4, REG_SP),
    encode(OP.LD, 1, 4, 0, 0),
    encode(OP.ADDI, 2, 4, 0, 4),
    encode(OP.LI, 5, 0, 0, 4),
    encode(OP.MUL, 3, 1, 5),
    encode(OP.ADD, 3, 3, 2),
    encode(OP.ADDI, 3, 3, 0, 4),
    encode(OP.PUSH, 0, 3),
    encode(OP.PUSH, 0, 2),
    encode(OP.PUSH, 0, 1),
  ];
  const callAt = code.length * INSN_BYTES;
  code.push(
    encode(OP.CALL, 0, 0, 0, 0),
    encode(OP.ADDI, REG_SP, REG_SP, 0, 12),
    encode(OP.MOV, 1, 0),
    encode(OP.LI, 0, 0, 0, 1),
    encode(OP.SYS),
  );
  const text = new Uint8Array(code.length * INSN_BYTES);
  code.forEach((c, i) => text.set(c, i * INSN_BYTES));
  return writeObject({
    text,
    symbols: [
      { name: "_start", section: SEC_TEXT, value: 0, global: true },
      { name: "main", section: SEC_UNDEF, value: 0, global: true },
    ],
    relocs: [{ section: SEC_TEXT, offset: callAt + 4, symbol: 1, addend: 0 }],
  });
}
const CRT0 = crt0Object();

class Linker {
  private readonly mem;
  private hash!: Htab;
  private stat!: Obstack;
  private first = 0;
  private last = 0;
  private listFirst = 0;
  private listLast = 0;
  errors = 0;
  /** Input names, by D_NAME (argv is the program's own: fixed size). */
  readonly names: string[] = [];

  constructor(private readonly libc: Libc) {
    this.mem = libc.mem;
  }

  begin(): boolean {
    const h = this.libc.malloc(OBSTACK_BYTES);
    if (h === 0) return false;
    this.stat = Obstack.begin(this.libc, h);
    const t = Htab.create(this.libc, 1024, IMAGE);
    if (t === null) return false;
    this.hash = t;
    return true;
  }

  private fail(msg: string): void {
    this.errors++;
    this.libc.eprintf("ld: %s\n", msg);
  }

  // ---- loading ---------------------------------------------------------------------------

  /** Read an object file into memory and queue it; false (reported) if it cannot be used. */
  loadFile(path: string): boolean {
    const libc = this.libc;
    const prev = libc.enter(libc.symbol(IMAGE, "bfd_bread"));
    try {
      const st = libc.stat(path);
      const fd = st === null ? -1 : libc.open(path, O_RDONLY);
      if (st === null || fd < 0) {
        this.fail(`cannot find ${path}: ${strerror(libc.errno)}`);
        return false;
      }
      const buf = libc.malloc(Math.max(st.size, 1));
      if (buf === 0) {
        libc.close(fd);
        this.fail("memory exhausted");
        return false;
      }
      let size = 0;
      while (size < st.size) {
        const n = libc.read(fd, buf + size, st.size - size);
        if (n <= 0) break;
        size += n;
      }
      libc.close(fd);
      return this.addObject(path, buf, size);
    } finally {
      libc.leave(prev);
    }
  }

  /** The built-in crt0, copied into user memory like any input. */
  loadCrt0(): boolean {
    const buf = this.libc.malloc(CRT0.length);
    if (buf === 0) return false;
    this.mem.writeBytes(buf, CRT0);
    return this.addObject("crt0.o", buf, CRT0.length);
  }

  private addObject(name: string, buf: number, size: number): boolean {
    const libc = this.libc;
    const m = this.mem;
    const h = readObjHeader(m, buf, size);
    if (typeof h === "string") {
      this.fail(`${name}: ${h}`);
      return false;
    }
    const d = libc.calloc(1, DESC_BYTES);
    const globals = libc.calloc(Math.max(h.nsyms, 1), 4);
    if (d === 0 || globals === 0) {
      this.fail("memory exhausted");
      return false;
    }
    m.write32(d + D_BUF, buf);
    m.write32(d + D_SIZE, size);
    m.write32(d + D_NAME, this.names.length);
    this.names.push(name);
    m.write32(d + D_TEXT_SIZE, h.textSize);
    m.write32(d + D_DATA_SIZE, h.dataSize);
    m.write32(d + D_BSS_SIZE, h.bssSize);
    m.write32(d + D_NSYMS, h.nsyms);
    m.write32(d + D_NRELOCS, h.nrelocs);
    m.write32(d + D_STRTAB_SIZE, h.strtabSize);
    m.write32(d + D_GLOBALS, globals);
    if (this.last === 0) this.first = d;
    else m.write32(this.last + D_NEXT, d);
    this.last = d;
    libc.work(50);
    return true;
  }

  private layoutOf(d: number) {
    const m = this.mem;
    return objLayout({
      textSize: m.readU32(d + D_TEXT_SIZE), dataSize: m.readU32(d + D_DATA_SIZE), bssSize: m.readU32(d + D_BSS_SIZE),
      nsyms: m.readU32(d + D_NSYMS), nrelocs: m.readU32(d + D_NRELOCS), strtabSize: m.readU32(d + D_STRTAB_SIZE),
    });
  }

  private nameOf(d: number): string {
    return this.names[this.mem.readU32(d + D_NAME)];
  }

  private entryName(e: number): string {
    const m = this.mem;
    const p = m.readU32(e + E_NAME);
    const n = m.readU32(e + E_LEN);
    let s = "";
    for (let i = 0; i < n; i++) s += String.fromCharCode(m.read8(p + i));
    return s;
  }

  // ---- symbols -------------------------------------------------------------------------------

  /** bfd_link_hash_lookup(create): the entry for the NUL-terminated name at p (at most max bytes). */
  private lookup(p: number, max: number): number {
    const m = this.mem;
    let h = 0;
    let len = 0;
    for (let c = m.read8(p); c !== 0 && len < max; c = m.read8(p + ++len)) h = hashStep(h, c);
    this.libc.work(3 * len);
    const found = this.hash.find(p, len, h);
    if (found !== 0) return found;
    const e = this.stat.alloc(ENTRY_BYTES);
    m.write32(e + E_NAME, p);
    m.write32(e + E_LEN, len);
    m.write32(e + E_HASH, h);
    m.write32(e + G_TYPE, T_UNDEF);
    m.write32(e + G_OWNER, 0);
    m.write32(e + G_SECTION, 0);
    m.write32(e + G_VALUE, 0);
    m.write32(e + G_ADDR, 0);
    m.write32(e + G_LIST, 0);
    if (this.listLast === 0) this.listFirst = e;
    else m.write32(this.listLast + G_LIST, e);
    this.listLast = e;
    this.hash.insert(e);
    return e;
  }

  /** Enter every object's global and undefined symbols in the hash table. */
  addSymbols(): void {
    const libc = this.libc;
    const m = this.mem;
    const prev = libc.enter(libc.symbol(IMAGE, "_bfd_generic_link_add_symbols"));
    for (let d = this.first; d !== 0; d = m.readU32(d + D_NEXT)) {
      const buf = m.readU32(d + D_BUF);
      const l = this.layoutOf(d);
      const nsyms = m.readU32(d + D_NSYMS);
      const strSize = m.readU32(d + D_STRTAB_SIZE);
      const globals = m.readU32(d + D_GLOBALS);
      for (let i = 0; i < nsyms; i++) {
        const s = symAddr(buf + l.syms, i);
        const nameOff = m.readU32(s);
        const sec = m.readU32(s + 4);
        const value = m.readU32(s + 8);
        const flags = m.readU32(s + 12);
        libc.work(12);
        if (nameOff >= strSize || sec > SEC_COMMON) {
          this.fail(`${this.nameOf(d)}: bad symbol index ${i}`);
          continue;
        }
        if ((flags & SYM_GLOBAL) === 0 && sec !== SEC_UNDEF) continue;
        const e = this.lookup(buf + l.strtab + nameOff, strSize - nameOff);
        m.write32(globals + 4 * i, e);
        const type = m.readU32(e + G_TYPE);
        if (sec === SEC_UNDEF) continue;
        if (sec === SEC_COMMON) {
          if (type === T_UNDEF) {
            m.write32(e + G_TYPE, T_COMMON);
            m.write32(e + G_OWNER, d);
            m.write32(e + G_VALUE, value);
          } else if (type === T_COMMON && value > m.readU32(e + G_VALUE)) {
            m.write32(e + G_VALUE, value);
          }
          continue;
        }
        if (type === T_DEFINED) {
          this.fail(`multiple definition of '${this.entryName(e)}'`);
          continue;
        }
        m.write32(e + G_TYPE, T_DEFINED);
        m.write32(e + G_OWNER, d);
        m.write32(e + G_SECTION, sec);
        m.write32(e + G_VALUE, value);
      }
    }
    libc.leave(prev);
  }

  // ---- layout --------------------------------------------------------------------------------

  /** Place every section and common; the sizes for the executable header. */
  layout(): { textSize: number; dataAddr: number; dataSize: number; bssSize: number } {
    const libc = this.libc;
    const m = this.mem;
    const prev = libc.enter(libc.symbol(IMAGE, "lang_process"));
    let at = TEXT_BASE;
    for (let d = this.first; d !== 0; d = m.readU32(d + D_NEXT)) {
      at = alignUp(at, SECTION_ALIGN);
      m.write32(d + D_TEXT_ADDR, at);
      at += m.readU32(d + D_TEXT_SIZE);
    }
    const textSize = at - TEXT_BASE;
    const dataAddr = Math.max(alignUp(at, PAGE_SIZE), TEXT_BASE + PAGE_SIZE);
    at = dataAddr;
    for (let d = this.first; d !== 0; d = m.readU32(d + D_NEXT)) {
      at = alignUp(at, SECTION_ALIGN);
      m.write32(d + D_DATA_ADDR, at);
      at += m.readU32(d + D_DATA_SIZE);
    }
    at = alignUp(at, SECTION_ALIGN);
    const dataSize = at - dataAddr;
    const bssAddr = at;
    for (let d = this.first; d !== 0; d = m.readU32(d + D_NEXT)) {
      at = alignUp(at, SECTION_ALIGN);
      m.write32(d + D_BSS_ADDR, at);
      at += m.readU32(d + D_BSS_SIZE);
    }
    // Commons, then every defined symbol's final address; undefined ones are errors.
    for (let e = this.listFirst; e !== 0; e = m.readU32(e + G_LIST)) {
      const type = m.readU32(e + G_TYPE);
      if (type === T_COMMON) {
        const size = m.readU32(e + G_VALUE);
        const align = size >= 16 ? 16 : size >= 8 ? 8 : size >= 4 ? 4 : size >= 2 ? 2 : 1;
        at = alignUp(at, align);
        m.write32(e + G_ADDR, at);
        at += size;
      } else if (type === T_DEFINED) {
        const d = m.readU32(e + G_OWNER);
        const sec = m.readU32(e + G_SECTION);
        m.write32(e + G_ADDR, this.sectionBase(d, sec) + m.readU32(e + G_VALUE));
      }
      libc.work(15);
    }
    libc.leave(prev);
    return { textSize, dataAddr, dataSize, bssSize: at - bssAddr };
  }

  private sectionBase(d: number, sec: number): number {
    const m = this.mem;
    return sec === SEC_TEXT ? m.readU32(d + D_TEXT_ADDR) : sec === SEC_DATA ? m.readU32(d + D_DATA_ADDR) : m.readU32(d + D_BSS_ADDR);
  }

  /** The address of `name` (a global symbol, or a number), or null. */
  resolveEntry(name: string): number | null {
    if (/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(name)) return Number(name) >>> 0;
    const m = this.mem;
    const p = this.libc.malloc(name.length + 1);
    if (p === 0) return null;
    m.writeCString(p, name);
    const e = this.lookup(p, name.length + 1);
    this.libc.free(p);
    const type = m.readU32(e + G_TYPE);
    return type === T_UNDEF ? null : m.readU32(e + G_ADDR);
  }

  // ---- relocation and output ---------------------------------------------------------------------

  /** Copy every object's sections into the image at img (file offset 0) and apply its relocations. */
  relocate(img: number, dataAddr: number, textSize: number): void {
    const libc = this.libc;
    const m = this.mem;
    const prev = libc.enter(libc.symbol(IMAGE, "bfd_perform_relocation"));
    const textFile = img + NZX_HEADER_BYTES;
    const dataFile = textFile + textSize;
    for (let d = this.first; d !== 0; d = m.readU32(d + D_NEXT)) {
      const buf = m.readU32(d + D_BUF);
      const l = this.layoutOf(d);
      const tsz = m.readU32(d + D_TEXT_SIZE);
      const dsz = m.readU32(d + D_DATA_SIZE);
      const tOut = textFile + (m.readU32(d + D_TEXT_ADDR) - TEXT_BASE);
      const dOut = dataFile + (m.readU32(d + D_DATA_ADDR) - dataAddr);
      if (tsz > 0) libc.memcpy(tOut, buf + l.text, tsz);
      if (dsz > 0) libc.memcpy(dOut, buf + l.data, dsz);
      const nsyms = m.readU32(d + D_NSYMS);
      const nrelocs = m.readU32(d + D_NRELOCS);
      const globals = m.readU32(d + D_GLOBALS);
      for (let i = 0; i < nrelocs; i++) {
        const r = relocAddr(buf + l.relocs, i);
        const sec = m.readU32(r);
        const off = m.readU32(r + 4);
        const si = m.readU32(r + 8);
        const addend = m.read32(r + 12);
        libc.work(20);
        const size = sec === SEC_TEXT ? tsz : sec === SEC_DATA ? dsz : 0;
        if ((sec !== SEC_TEXT && sec !== SEC_DATA) || off + 4 > size || si >= nsyms) {
          this.fail(`${this.nameOf(d)}: bad relocation ${i}`);
          continue;
        }
        const e = m.readU32(globals + 4 * si);
        let s: number;
        if (e !== 0) {
          s = m.readU32(e + G_ADDR);
          if (m.readU32(e + G_TYPE) === T_UNDEF && m.readU32(e + G_SECTION) === 0) {
            m.write32(e + G_SECTION, 1); // reported
            this.fail(`undefined reference to '${this.entryName(e)}'`);
          }
        } else {
          const y = symAddr(buf + l.syms, si);
          const ysec = m.readU32(y + 4);
          s = ysec >= SEC_TEXT && ysec <= SEC_BSS ? this.sectionBase(d, ysec) + m.readU32(y + 8) : 0;
        }
        m.write32((sec === SEC_TEXT ? tOut : dOut) + off, (s + addend) | 0);
      }
    }
    libc.leave(prev);
  }
}

export default function ld(argv: string[], _envp: string[], libc: Libc): number {
  let out = "a.out";
  let entry: string | null = null;
  const inputs: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-o" || a === "-e") {
      if (i + 1 >= argv.length) {
        libc.eprintf("ld: option requires an argument -- '%s'\n", a[1]);
        return 1;
      }
      if (a === "-o") out = argv[++i];
      else entry = argv[++i];
    } else if (a.startsWith("-o") && a.length > 2) {
      out = a.slice(2);
    } else if (a.startsWith("-e") && a.length > 2) {
      entry = a.slice(2);
    } else if (a.startsWith("-") && a.length > 1) {
      libc.eprintf("ld: unrecognized option '%s'\n", a);
      return 1;
    } else {
      inputs.push(a);
    }
  }
  if (inputs.length === 0) {
    libc.eprintf("ld: no input files\n");
    return 1;
  }
  const L = new Linker(libc);
  try {
    if (!L.begin() || (entry === null && !L.loadCrt0())) {
      libc.eprintf("ld: memory exhausted\n");
      return 1;
    }
    for (const f of inputs) L.loadFile(f);
    if (L.errors > 0) return 1;
    L.addSymbols();
    const lay = L.layout();
    if (L.errors > 0) return 1;
    const entryName = entry ?? "_start";
    const entryAddr = L.resolveEntry(entryName);
    if (entryAddr === null) {
      libc.eprintf("ld: cannot find entry symbol '%s'\n", entryName);
      return 1;
    }
    const fileSize = NZX_HEADER_BYTES + lay.textSize + lay.dataSize;
    const img = libc.calloc(1, fileSize);
    if (img === 0) {
      libc.eprintf("ld: memory exhausted\n");
      return 1;
    }
    L.relocate(img, lay.dataAddr, lay.textSize);
    if (L.errors > 0) return 1;
    putNzxHeader(libc.mem, img, {
      entry: entryAddr, textAddr: TEXT_BASE, textSize: lay.textSize, dataAddr: lay.dataAddr, dataSize: lay.dataSize, bssSize: lay.bssSize,
    });
    return writeOutput(libc, out, img, fileSize) ? 0 : 1;
  } catch (e) {
    if (e instanceof ObstackExhausted) {
      libc.eprintf("ld: memory exhausted\n");
      return 1;
    }
    throw e;
  }
}

function writeOutput(libc: Libc, out: string, img: number, n: number): boolean {
  const prev = libc.enter(libc.symbol(IMAGE, "bfd_close"));
  try {
    libc.unlink(out);
    const fd = libc.open(out, O_WRONLY | O_CREAT | O_TRUNC, 0o755);
    if (fd < 0) {
      libc.eprintf("ld: cannot open output file %s: %s\n", out, strerror(libc.errno));
      return false;
    }
    for (let done = 0; done < n; ) {
      const w = libc.write(fd, img + done, n - done);
      if (w <= 0) {
        libc.eprintf("ld: final link failed: %s\n", strerror(libc.errno));
        libc.close(fd);
        return false;
      }
      done += w;
    }
    libc.close(fd);
    return true;
  } finally {
    libc.leave(prev);
  }
}
