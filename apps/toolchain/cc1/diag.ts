// Diagnostics in gcc's format (FILE:LINE:COL: error: message) and the table
// of source files they name. Columns are display columns (tabs to the next
// multiple of 8, as gcc 11+ counts them), computed from the byte column when a
// diagnostic is printed. The file table is a realloc-grown array in user memory:
//   entry (12 bytes): +0 name (ggc string), +4 buffer, +8 size

import type { Libc } from "../../../libc/libc.ts";
import type { UserMemory } from "../../../kernel/uaccess.ts";
import { OutOfMemory } from "./ggc.ts";

const FE_SIZE = 12;
export const MAX_ERRORS = 10;

/** Unwinds the compiler after an error it does not recover from. */
export class Stop extends Error {}

export function locFile(fc: number): number {
  return fc >>> 16;
}
export function locCol(fc: number): number {
  return fc & 0xffff;
}
export function makeFc(file: number, col: number): number {
  return ((file << 16) | (col > 0xffff ? 0xffff : col)) >>> 0;
}

export class Diag {
  errors = 0;
  private files = 0;
  private nfiles = 0;
  private cap = 0;
  private readonly m: UserMemory;

  constructor(private readonly libc: Libc) {
    this.m = libc.mem;
  }

  /** Add a file (name as a ggc string, its buffer and size); its index. */
  addFile(name: number, buf: number, size: number): number {
    if (this.nfiles === this.cap) {
      const cap = this.cap === 0 ? 16 : this.cap * 2;
      const p = this.libc.realloc(this.files, cap * FE_SIZE);
      if (p === 0) throw new OutOfMemory();
      this.files = p;
      this.cap = cap;
    }
    const e = this.files + this.nfiles * FE_SIZE;
    this.m.write32(e, name);
    this.m.write32(e + 4, buf);
    this.m.write32(e + 8, size);
    return this.nfiles++;
  }

  get fileCount(): number {
    return this.nfiles;
  }
  fileNamePtr(i: number): number {
    return this.m.readU32(this.files + i * FE_SIZE);
  }
  fileBuf(i: number): number {
    return this.m.readU32(this.files + i * FE_SIZE + 4);
  }
  fileSize(i: number): number {
    return this.m.readU32(this.files + i * FE_SIZE + 8);
  }
  fileName(i: number): string {
    return i < this.nfiles ? this.m.readCString(this.fileNamePtr(i)) : "<unknown>";
  }

  /** The display column of byte column `col` on `line` of file `f`. */
  displayCol(f: number, line: number, col: number): number {
    if (f >= this.nfiles || col >= 0xffff) return col;
    const m = this.m;
    const buf = this.fileBuf(f);
    const size = this.fileSize(f);
    let p = 0;
    for (let l = 1; l < line && p < size; p++) if (m.read8(buf + p) === 10) l++;
    let d = 0;
    for (let i = 0; i < col - 1 && p + i < size; i++) {
      const c = m.read8(buf + p + i);
      if (c === 10) break;
      d = c === 9 ? (d + 8) & ~7 : d + 1;
    }
    return d + 1 + Math.max(0, col - 1 - this.lineLen(buf + p, size - p));
  }

  private lineLen(p: number, max: number): number {
    let n = 0;
    while (n < max && this.m.read8(p + n) !== 10) n++;
    return n;
  }

  where(line: number, fc: number): string {
    const f = locFile(fc);
    const col = locCol(fc);
    return col === 0 ? `${this.fileName(f)}:${line}` : `${this.fileName(f)}:${line}:${this.displayCol(f, line, col)}`;
  }

  /** An error; compilation goes on (up to MAX_ERRORS). */
  error(line: number, fc: number, msg: string): void {
    this.libc.eprintf("%s: error: %s\n", this.where(line, fc), msg);
    if (++this.errors >= MAX_ERRORS) throw new Stop();
  }

  /** An error after which this phase cannot go on. */
  errorStop(line: number, fc: number, msg: string): never {
    this.libc.eprintf("%s: error: %s\n", this.where(line, fc), msg);
    this.errors++;
    throw new Stop();
  }

  /** A fatal error: the message, then "compilation terminated." */
  fatal(line: number, fc: number, msg: string): never {
    this.libc.eprintf("%s: fatal error: %s\ncompilation terminated.\n", this.where(line, fc), msg);
    this.errors++;
    throw new Stop();
  }

  /** A fatal error with no location (cc1: fatal error: ...). */
  fatalNoLoc(msg: string): never {
    this.libc.eprintf("cc1: fatal error: %s\ncompilation terminated.\n", msg);
    this.errors++;
    throw new Stop();
  }
}
