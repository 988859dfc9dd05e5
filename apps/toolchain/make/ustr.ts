// Strings, growable buffers and pointer vectors in a program's user memory,
// for make and the cc driver (docs/toolchain.md, "Memory discipline"): the
// bytes live in malloc'd memory and are read and written through libc.mem;
// the JS objects here hold only a pointer, a length and a capacity.
//
// Strings are (pointer, length) pairs; the buffers keep a NUL after their
// last byte, so `ptr` is also a C string.

import type { Libc } from "../../../libc/libc.ts";
import { NR } from "../../../kernel/unistd.ts";

/** A growable byte buffer in malloc'd memory (C: struct { char *p; size_t len, cap; }). */
export class UBuf {
  ptr: number;
  len = 0;
  cap: number;

  constructor(
    private readonly libc: Libc,
    cap = 64,
  ) {
    this.cap = Math.max(16, cap);
    this.ptr = libc.malloc(this.cap);
    if (this.ptr === 0) throw new RangeError("virtual memory exhausted");
    libc.mem.write8(this.ptr, 0);
  }

  /** Room for n more bytes and the NUL. */
  reserve(n: number): void {
    if (this.len + n + 1 <= this.cap) return;
    let cap = this.cap * 2;
    while (cap < this.len + n + 1) cap *= 2;
    const p = this.libc.realloc(this.ptr, cap);
    if (p === 0) throw new RangeError("virtual memory exhausted");
    this.ptr = p;
    this.cap = cap;
  }

  putByte(c: number): void {
    this.reserve(1);
    const m = this.libc.mem;
    m.write8(this.ptr + this.len, c);
    this.len++;
    m.write8(this.ptr + this.len, 0);
  }

  /** Append n bytes from user memory at src. */
  put(src: number, n: number): void {
    if (n <= 0) return;
    this.reserve(n);
    this.libc.mem.memcpy(this.ptr + this.len, src, n);
    this.len += n;
    this.libc.mem.write8(this.ptr + this.len, 0);
  }

  /** Append a JS string (program constants and syscall results only). */
  putStr(s: string): void {
    this.reserve(s.length);
    const m = this.libc.mem;
    for (let i = 0; i < s.length; i++) m.write8(this.ptr + this.len + i, s.charCodeAt(i) & 0xff);
    this.len += s.length;
    m.write8(this.ptr + this.len, 0);
  }

  /** Append a decimal number. */
  putNum(n: number): void {
    this.putStr(String(n));
  }

  byteAt(i: number): number {
    return this.libc.mem.read8(this.ptr + i);
  }

  truncate(len: number): void {
    this.len = len;
    this.libc.mem.write8(this.ptr + len, 0);
  }

  clear(): void {
    this.truncate(0);
  }

  /** A JS copy of the contents: for diagnostics and syscall arguments only. */
  toString(): string {
    return ujs(this.libc, this.ptr, this.len);
  }

  /** A malloc'd NUL-terminated copy of the contents. */
  dup(): number {
    return udup(this.libc, this.ptr, this.len);
  }

  free(): void {
    this.libc.free(this.ptr);
    this.ptr = 0;
    this.len = this.cap = 0;
  }
}

/** A growable array of 32-bit words (pointers) in malloc'd memory. */
export class UVec {
  ptr: number;
  len = 0;
  cap: number;

  constructor(
    private readonly libc: Libc,
    cap = 8,
  ) {
    this.cap = Math.max(4, cap);
    this.ptr = libc.malloc(this.cap * 4);
    if (this.ptr === 0) throw new RangeError("virtual memory exhausted");
  }

  push(v: number): void {
    if (this.len + 1 >= this.cap) {
      const cap = this.cap * 2;
      const p = this.libc.realloc(this.ptr, cap * 4);
      if (p === 0) throw new RangeError("virtual memory exhausted");
      this.ptr = p;
      this.cap = cap;
    }
    this.libc.mem.write32(this.ptr + 4 * this.len, v);
    this.len++;
    // Always NULL-terminated, so ptr is also a char *argv[].
    this.libc.mem.write32(this.ptr + 4 * this.len, 0);
  }

  get(i: number): number {
    return this.libc.mem.readU32(this.ptr + 4 * i);
  }

  set(i: number, v: number): void {
    this.libc.mem.write32(this.ptr + 4 * i, v);
  }

  free(): void {
    this.libc.free(this.ptr);
    this.ptr = 0;
    this.len = this.cap = 0;
  }
}

/** malloc'd NUL-terminated copy of n bytes at p. */
export function udup(libc: Libc, p: number, n: number): number {
  const q = libc.malloc(n + 1);
  if (q === 0) throw new RangeError("virtual memory exhausted");
  if (n > 0) libc.mem.memcpy(q, p, n);
  libc.mem.write8(q + n, 0);
  return q;
}

/** malloc'd NUL-terminated copy of a JS string (argv words, constants). */
export function udupStr(libc: Libc, s: string): number {
  const q = libc.malloc(s.length + 1);
  if (q === 0) throw new RangeError("virtual memory exhausted");
  const m = libc.mem;
  for (let i = 0; i < s.length; i++) m.write8(q + i, s.charCodeAt(i) & 0xff);
  m.write8(q + s.length, 0);
  return q;
}

/** strlen. */
export function ulen(libc: Libc, p: number): number {
  const m = libc.mem;
  let n = 0;
  while (m.read8(p + n) !== 0) n++;
  return n;
}

/** Bytes equal: (a, an) and (b, bn). */
export function ueq(libc: Libc, a: number, an: number, b: number, bn: number): boolean {
  if (an !== bn) return false;
  const m = libc.mem;
  for (let i = 0; i < an; i++) if (m.read8(a + i) !== m.read8(b + i)) return false;
  return true;
}

/** (p, n) equals the ASCII constant s. */
export function ueqStr(libc: Libc, p: number, n: number, s: string): boolean {
  if (n !== s.length) return false;
  const m = libc.mem;
  for (let i = 0; i < n; i++) if (m.read8(p + i) !== s.charCodeAt(i)) return false;
  return true;
}

/** memcmp-style order of two byte strings. */
export function ucmp(libc: Libc, a: number, an: number, b: number, bn: number): number {
  const m = libc.mem;
  const n = Math.min(an, bn);
  for (let i = 0; i < n; i++) {
    const d = m.read8(a + i) - m.read8(b + i);
    if (d !== 0) return d;
  }
  return an - bn;
}

/** FNV-1a hash of n bytes at p. */
export function uhash(libc: Libc, p: number, n: number): number {
  const m = libc.mem;
  let h = 0x811c9dc5;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ m.read8(p + i), 0x01000193);
  return h >>> 0;
}

/** A JS string of n bytes at p (Latin-1): for diagnostics and syscall arguments. */
export function ujs(libc: Libc, p: number, n: number): string {
  const m = libc.mem;
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(m.read8(p + i));
  return s;
}

export function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0b || c === 0x0c || c === 0x0d;
}

/**
 * execve with the path and the NULL-terminated argv and envp arrays already in
 * user memory (what execv(3) does); -1 with errno on failure.
 */
export function execvUser(libc: Libc, path: number, argv: number, envp: number): number {
  libc.fflush();
  return libc.syscall(NR.execve, path, argv, envp);
}

/**
 * Read a whole file into a malloc'd buffer (NUL-terminated); its pointer and
 * length, or null with errno set.
 */
export function readWhole(libc: Libc, path: string): { ptr: number; len: number } | null {
  const fd = libc.open(path);
  if (fd < 0) return null;
  const st = libc.stat(path);
  let cap = Math.max(4096, (st?.size ?? 0) + 1);
  let ptr = libc.malloc(cap);
  let len = 0;
  for (;;) {
    if (len + 1 >= cap) {
      cap *= 2;
      const p = libc.realloc(ptr, cap);
      if (p === 0) {
        libc.free(ptr);
        libc.close(fd);
        libc.errno = 12;
        return null;
      }
      ptr = p;
    }
    const n = libc.read(fd, ptr + len, cap - 1 - len);
    if (n < 0) {
      const e = libc.errno;
      libc.free(ptr);
      libc.close(fd);
      libc.errno = e;
      return null;
    }
    if (n === 0) break;
    len += n;
  }
  libc.close(fd);
  libc.mem.write8(ptr + len, 0);
  return { ptr, len };
}
