// Test helpers for the file syscalls: a user task with a descriptor table and
// a scratch area of user memory where strings and buffers are put, and thin
// wrappers that pass them to the syscalls and decode what comes back.

import type { Kernel } from "../../kernel/kernel.ts";
import { FileTable } from "../../kernel/file.ts";
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../../kernel/mman.ts";
import { NR } from "../../kernel/syscall.ts";
import type { Task } from "../../kernel/task.ts";
import { newTask, sys } from "./boot.ts";

const SCRATCH_BYTES = 1 << 20;

export interface Stat64 {
  dev: number;
  ino: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blksize: number;
  blocks: number;
  atime: number;
  mtime: number;
  ctime: number;
  ino64: number;
}

export interface Dirent {
  ino: number;
  off: number;
  reclen: number;
  type: number;
  name: string;
}

/** A user process as seen from a test: syscalls with strings and buffers in its own memory. */
export class User {
  readonly scratch: number;
  private top = 0;

  constructor(
    readonly k: Kernel,
    readonly t: Task,
  ) {
    t.files ??= new FileTable();
    this.scratch = this.sc(NR.mmap2, 0, SCRATCH_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (this.scratch < 0 && this.scratch > -4096) throw new Error(`scratch mmap failed: ${this.scratch}`);
  }

  get mem() {
    return this.t.mm!.mem;
  }

  /** A syscall made by this task. */
  sc(nr: number, ...args: number[]): number {
    this.k.switchTo(this.t);
    return sys(this.k, nr, ...args);
  }

  /** n bytes of scratch memory (8-aligned; wraps around when full). */
  alloc(n: number): number {
    n = (n + 7) & ~7;
    if (this.top + n > SCRATCH_BYTES) this.top = 0;
    const a = this.scratch + this.top;
    this.top += n;
    return a;
  }

  bytes(data: Uint8Array | string): number {
    const b = typeof data === "string" ? Buffer.from(data, "latin1") : data;
    const a = this.alloc(Math.max(1, b.length));
    this.k.switchTo(this.t);
    this.mem.writeBytes(a, b);
    return a;
  }

  cstr(s: string): number {
    const a = this.alloc(s.length + 1);
    this.k.switchTo(this.t);
    this.mem.writeCString(a, s);
    return a;
  }

  open(path: string, flags = 0, mode = 0o644): number {
    return this.sc(NR.open, this.cstr(path), flags, mode);
  }

  close(fd: number): number {
    return this.sc(NR.close, fd);
  }

  write(fd: number, data: Uint8Array | string): number {
    const b = typeof data === "string" ? Buffer.from(data, "latin1") : data;
    return this.sc(NR.write, fd, this.bytes(b), b.length);
  }

  /** read(fd, n): the result and the bytes read (Latin-1). */
  read(fd: number, n: number): { r: number; text: string } {
    const a = this.alloc(n);
    const r = this.sc(NR.read, fd, a, n);
    this.k.switchTo(this.t);
    const text = r > 0 ? Buffer.from(this.mem.readBytes(a, r)).toString("latin1") : "";
    return { r, text };
  }

  lseek(fd: number, off: number, whence: number): number {
    return this.sc(NR.lseek, fd, off, whence);
  }

  /** The whole file, or -errno from open or read. */
  readFile(path: string): string | number {
    const fd = this.open(path, 0);
    if (fd < 0) return fd;
    let out = "";
    for (;;) {
      const { r, text } = this.read(fd, 4096);
      if (r < 0) {
        this.close(fd);
        return r;
      }
      if (r === 0) break;
      out += text;
    }
    this.close(fd);
    return out;
  }

  /** Create or truncate a file and write text to it; 0 or -errno. */
  writeFile(path: string, text: string, mode = 0o644, flags = 0o1101 /* O_WRONLY|O_CREAT|O_TRUNC */): number {
    const fd = this.open(path, flags, mode);
    if (fd < 0) return fd;
    const r = this.write(fd, text);
    this.close(fd);
    return r < 0 ? r : 0;
  }

  /** Decode a struct stat64 at addr. */
  decodeStat(addr: number): Stat64 {
    this.k.switchTo(this.t);
    const b = this.mem.readBytes(addr, 96);
    const dv = new DataView(b.buffer);
    const u32 = (o: number) => dv.getUint32(o, true);
    const u64 = (o: number) => u32(o) + u32(o + 4) * 0x100000000;
    return {
      dev: u64(0), ino: u32(12), mode: u32(16), nlink: u32(20), uid: u32(24), gid: u32(28), rdev: u64(32),
      size: u64(44), blksize: u32(52), blocks: u64(56), atime: u32(64), mtime: u32(72), ctime: u32(80), ino64: u64(88),
    };
  }

  stat(path: string, nr: number = NR.stat64): { r: number; st: Stat64 | null } {
    const buf = this.alloc(96);
    const r = this.sc(nr, this.cstr(path), buf);
    return { r, st: r === 0 ? this.decodeStat(buf) : null };
  }

  fstat(fd: number): { r: number; st: Stat64 | null } {
    const buf = this.alloc(96);
    const r = this.sc(NR.fstat64, fd, buf);
    return { r, st: r === 0 ? this.decodeStat(buf) : null };
  }

  /** One getdents64 call with a buffer of `size` bytes, decoded. */
  getdents(fd: number, size = 4096): { r: number; entries: Dirent[] } {
    const buf = this.alloc(size);
    const r = this.sc(NR.getdents64, fd, buf, size);
    const entries: Dirent[] = [];
    if (r > 0) {
      this.k.switchTo(this.t);
      const b = this.mem.readBytes(buf, r);
      const dv = new DataView(b.buffer);
      for (let o = 0; o < r; ) {
        const reclen = dv.getUint16(o + 16, true);
        let end = o + 19;
        while (b[end] !== 0) end++;
        entries.push({
          ino: dv.getUint32(o, true) + dv.getUint32(o + 4, true) * 0x100000000,
          off: dv.getUint32(o + 8, true) + dv.getInt32(o + 12, true) * 0x100000000,
          reclen,
          type: b[o + 18],
          name: Buffer.from(b.subarray(o + 19, end)).toString("latin1"),
        });
        o += reclen;
      }
    }
    return { r, entries };
  }

  /** Every name in a directory (getdents64 until 0). */
  list(path: string): string[] | number {
    const fd = this.open(path, 0o200000 /* O_DIRECTORY */);
    if (fd < 0) return fd;
    const names: string[] = [];
    for (;;) {
      const { r, entries } = this.getdents(fd, 512);
      if (r < 0) return r;
      if (r === 0) break;
      for (const e of entries) names.push(e.name);
    }
    this.close(fd);
    return names;
  }
}

/** A new task of `uid` with a descriptor table and scratch memory. */
export function userTask(k: Kernel, uid: number, comm = "test"): User {
  return new User(k, newTask(k, uid, comm));
}
