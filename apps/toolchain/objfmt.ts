// The NZ32 object ("NZO1", .o) and executable ("\x7fNZX") formats of
// docs/toolchain.md: constants, readers and writers over user memory (what
// as, ld and nzx use), and host-side decoders for tests and tools.
//
// Object file, all fields u32 little-endian unless noted:
//
//   +0   "NZO1"                       magic
//   +4   text_size, data_size, bss_size
//   +16  nsyms, nrelocs, strtab_size
//   +28  text bytes, data bytes       (bss has no bytes)
//        nsyms  x { name_offset, section, value, flags }       16 bytes each
//        nrelocs x { section, offset, symbol_index, i32 addend } 16 bytes each
//        strtab: NUL-terminated names
//
// section: 0 undefined, 1 text, 2 data, 3 bss, 4 common (value = size).
// flags: 1 global. Relocations are all R_ABS32: the word at `offset` in
// `section` becomes address(symbol) + addend.
//
// As implemented by this toolchain's as (gas's conventions):
//   - symbols 0, 1, 2 are the section symbols ".text", ".data", ".bss"
//     (local, value 0); a relocation against a local symbol is made against
//     its section symbol with the symbol's offset in the addend;
//   - then every named symbol in order of first appearance: local labels
//     (flags 0) and globals (flags 1); `.L` labels are never written;
//     undefined symbols are global;
//   - the tables are not padded: a reader must accept unaligned fields.
//
// Executable:
//
//   +0   "\x7fNZX"
//   +4   entry, text_addr, text_size, data_addr, data_size, bss_size
//   +28  text bytes, data bytes
//
// bss starts right after data (data_addr + data_size) and the break starts
// at the page after bss.

import type { UserMemory } from "../../kernel/uaccess.ts";

/** "NZO1" read as a little-endian u32. */
export const OBJ_MAGIC = 0x314f5a4e;
export const OBJ_HEADER_BYTES = 28;
export const OBJ_SYM_BYTES = 16;
export const OBJ_RELOC_BYTES = 16;

export const SEC_UNDEF = 0;
export const SEC_TEXT = 1;
export const SEC_DATA = 2;
export const SEC_BSS = 3;
export const SEC_COMMON = 4;
export const SECTION_NAMES = ["*UND*", ".text", ".data", ".bss", "*COM*"] as const;

export const SYM_GLOBAL = 1;

/** "\x7fNZX" read as a little-endian u32. */
export const NZX_MAGIC_U32 = 0x585a4e7f;
export const NZX_HEADER_BYTES = 28;
/** Where ld puts text; data starts at the next page boundary after it. */
export const TEXT_BASE = 0x00400000;
export const PAGE_SIZE = 4096;

// ---- object files in user memory ---------------------------------------------------

/** The header fields of an object (plain numbers). */
export interface ObjHeader {
  textSize: number;
  dataSize: number;
  bssSize: number;
  nsyms: number;
  nrelocs: number;
  strtabSize: number;
}

/** Offsets of an object's parts from its start. */
export interface ObjLayout {
  text: number;
  data: number;
  syms: number;
  relocs: number;
  strtab: number;
  /** Total bytes. */
  end: number;
}

export function objLayout(h: ObjHeader): ObjLayout {
  const text = OBJ_HEADER_BYTES;
  const data = text + h.textSize;
  const syms = data + h.dataSize;
  const relocs = syms + h.nsyms * OBJ_SYM_BYTES;
  const strtab = relocs + h.nrelocs * OBJ_RELOC_BYTES;
  return { text, data, syms, relocs, strtab, end: strtab + h.strtabSize };
}

export function putObjHeader(mem: UserMemory, a: number, h: ObjHeader): void {
  mem.write32(a, OBJ_MAGIC);
  mem.write32(a + 4, h.textSize);
  mem.write32(a + 8, h.dataSize);
  mem.write32(a + 12, h.bssSize);
  mem.write32(a + 16, h.nsyms);
  mem.write32(a + 20, h.nrelocs);
  mem.write32(a + 24, h.strtabSize);
}

/**
 * The header of the `size`-byte object at a, or a complaint if it is not
 * one this toolchain wrote (bad magic, sizes that overrun the file).
 */
export function readObjHeader(mem: UserMemory, a: number, size: number): ObjHeader | string {
  if (size < OBJ_HEADER_BYTES || mem.read32(a) !== OBJ_MAGIC) return "file format not recognized";
  const h: ObjHeader = {
    textSize: mem.readU32(a + 4),
    dataSize: mem.readU32(a + 8),
    bssSize: mem.readU32(a + 12),
    nsyms: mem.readU32(a + 16),
    nrelocs: mem.readU32(a + 20),
    strtabSize: mem.readU32(a + 24),
  };
  if (h.textSize > size || h.dataSize > size || h.nsyms > size || h.nrelocs > size || h.strtabSize > size) return "file truncated";
  if (objLayout(h).end !== size) return "file truncated";
  return h;
}

/** Symbol i of the table at `syms`. */
export function symAddr(syms: number, i: number): number {
  return syms + i * OBJ_SYM_BYTES;
}
export function relocAddr(relocs: number, i: number): number {
  return relocs + i * OBJ_RELOC_BYTES;
}

export function putSym(mem: UserMemory, a: number, name: number, section: number, value: number, flags: number): void {
  mem.write32(a, name);
  mem.write32(a + 4, section);
  mem.write32(a + 8, value);
  mem.write32(a + 12, flags);
}

export function putReloc(mem: UserMemory, a: number, section: number, offset: number, sym: number, addend: number): void {
  mem.write32(a, section);
  mem.write32(a + 4, offset);
  mem.write32(a + 8, sym);
  mem.write32(a + 12, addend);
}

// ---- executables in user memory -----------------------------------------------------

export interface NzxHeader {
  entry: number;
  textAddr: number;
  textSize: number;
  dataAddr: number;
  dataSize: number;
  bssSize: number;
}

export function putNzxHeader(mem: UserMemory, a: number, h: NzxHeader): void {
  mem.write32(a, NZX_MAGIC_U32);
  mem.write32(a + 4, h.entry);
  mem.write32(a + 8, h.textAddr);
  mem.write32(a + 12, h.textSize);
  mem.write32(a + 16, h.dataAddr);
  mem.write32(a + 20, h.dataSize);
  mem.write32(a + 24, h.bssSize);
}

/** The header at a (n bytes were read), or null if it is not an NZX header. */
export function readNzxHeader(mem: UserMemory, a: number, n: number): NzxHeader | null {
  if (n < NZX_HEADER_BYTES || mem.read32(a) !== NZX_MAGIC_U32) return null;
  return {
    entry: mem.readU32(a + 4),
    textAddr: mem.readU32(a + 8),
    textSize: mem.readU32(a + 12),
    dataAddr: mem.readU32(a + 16),
    dataSize: mem.readU32(a + 20),
    bssSize: mem.readU32(a + 24),
  };
}

// ---- host-side decoders (tests, tools) ----------------------------------------------

export interface ObjSymbol {
  name: string;
  section: number;
  value: number;
  global: boolean;
}

export interface ObjReloc {
  section: number;
  offset: number;
  symbol: number;
  addend: number;
}

export interface ObjectFile extends ObjHeader {
  text: Uint8Array;
  data: Uint8Array;
  symbols: ObjSymbol[];
  relocs: ObjReloc[];
}

/** Decode an object file's bytes; throws on a malformed one. */
export function readObject(b: Uint8Array): ObjectFile {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u32 = (o: number) => dv.getUint32(o, true);
  if (b.length < OBJ_HEADER_BYTES || u32(0) !== OBJ_MAGIC) throw new Error("not an NZO1 object");
  const h: ObjHeader = { textSize: u32(4), dataSize: u32(8), bssSize: u32(12), nsyms: u32(16), nrelocs: u32(20), strtabSize: u32(24) };
  const l = objLayout(h);
  if (l.end !== b.length) throw new Error(`object size ${b.length}, header says ${l.end}`);
  const cstr = (o: number) => {
    let e = l.strtab + o;
    while (e < b.length && b[e] !== 0) e++;
    return Buffer.from(b.subarray(l.strtab + o, e)).toString("latin1");
  };
  const symbols: ObjSymbol[] = [];
  for (let i = 0; i < h.nsyms; i++) {
    const a = l.syms + i * OBJ_SYM_BYTES;
    symbols.push({ name: cstr(u32(a)), section: u32(a + 4), value: u32(a + 8), global: (u32(a + 12) & SYM_GLOBAL) !== 0 });
  }
  const relocs: ObjReloc[] = [];
  for (let i = 0; i < h.nrelocs; i++) {
    const a = l.relocs + i * OBJ_RELOC_BYTES;
    relocs.push({ section: u32(a), offset: u32(a + 4), symbol: u32(a + 8), addend: dv.getInt32(a + 12, true) });
  }
  return {
    ...h,
    text: b.slice(l.text, l.text + h.textSize),
    data: b.slice(l.data, l.data + h.dataSize),
    symbols,
    relocs,
  };
}

/** Encode an object file (for tests that need hand-made or malformed objects). */
export function writeObject(o: { text?: Uint8Array; data?: Uint8Array; bssSize?: number; symbols?: ObjSymbol[]; relocs?: ObjReloc[] }): Uint8Array {
  const text = o.text ?? new Uint8Array(0);
  const data = o.data ?? new Uint8Array(0);
  const symbols = o.symbols ?? [];
  const relocs = o.relocs ?? [];
  const names: number[] = [];
  let strtab = "";
  for (const s of symbols) {
    names.push(strtab.length);
    strtab += `${s.name}\0`;
  }
  const h: ObjHeader = { textSize: text.length, dataSize: data.length, bssSize: o.bssSize ?? 0, nsyms: symbols.length, nrelocs: relocs.length, strtabSize: strtab.length };
  const l = objLayout(h);
  const b = new Uint8Array(l.end);
  const dv = new DataView(b.buffer);
  const put = (off: number, v: number) => dv.setUint32(off, v >>> 0, true);
  put(0, OBJ_MAGIC);
  [h.textSize, h.dataSize, h.bssSize, h.nsyms, h.nrelocs, h.strtabSize].forEach((v, i) => put(4 + 4 * i, v));
  b.set(text, l.text);
  b.set(data, l.data);
  symbols.forEach((s, i) => {
    const a = l.syms + i * OBJ_SYM_BYTES;
    put(a, names[i]);
    put(a + 4, s.section);
    put(a + 8, s.value);
    put(a + 12, s.global ? SYM_GLOBAL : 0);
  });
  relocs.forEach((r, i) => {
    const a = l.relocs + i * OBJ_RELOC_BYTES;
    put(a, r.section);
    put(a + 4, r.offset);
    put(a + 8, r.symbol);
    put(a + 12, r.addend);
  });
  b.set(Buffer.from(strtab, "latin1"), l.strtab);
  return b;
}

export interface Executable extends NzxHeader {
  text: Uint8Array;
  data: Uint8Array;
}

/** Decode an NZX executable's bytes; throws on a malformed one. */
export function readExecutable(b: Uint8Array): Executable {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u32 = (o: number) => dv.getUint32(o, true);
  if (b.length < NZX_HEADER_BYTES || u32(0) !== NZX_MAGIC_U32) throw new Error("not an NZX executable");
  const h: NzxHeader = { entry: u32(4), textAddr: u32(8), textSize: u32(12), dataAddr: u32(16), dataSize: u32(20), bssSize: u32(24) };
  if (NZX_HEADER_BYTES + h.textSize + h.dataSize !== b.length) throw new Error("NZX executable truncated");
  const t = NZX_HEADER_BYTES;
  return { ...h, text: b.slice(t, t + h.textSize), data: b.slice(t + h.textSize, t + h.textSize + h.dataSize) };
}
