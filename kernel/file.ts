// Open files and per-process descriptor tables. A file's behaviour comes
// from its FileOps (a VFS inode, the console, a /proc generator); the table
// only maps numbers to shared, reference-counted open files.

import { EBADF, EMFILE } from "./errno.ts";
import type { Inode } from "./vfs/inode.ts";
import type { MemObject } from "./vma.ts";

export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_ACCMODE = 3;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_DIRECTORY = 0o200000;
export const O_CLOEXEC = 0o2000000;

/** RLIMIT_NOFILE default soft limit. */
export const NR_OPEN = 1024;

export interface FileOps {
  /** Read into buf at the file position; bytes read or -errno. */
  read(f: OpenFile, buf: Uint8Array): number;
  /** Write data at the file position; bytes written or -errno. */
  write(f: OpenFile, data: Uint8Array): number;
  /** The object mmap maps, or -errno (ENODEV when the file cannot be mapped). */
  mmapObject?(f: OpenFile): MemObject | number;
  /** The last reference is gone. */
  release?(f: OpenFile): void;
}

export class OpenFile {
  refs = 1;
  pos = 0;

  constructor(
    readonly ops: FileOps,
    public flags: number,
    readonly inode: Inode | null = null,
  ) {}

  get readable(): boolean {
    return (this.flags & O_ACCMODE) !== O_WRONLY;
  }

  get writable(): boolean {
    return (this.flags & O_ACCMODE) !== O_RDONLY;
  }
}

export class FileTable {
  private readonly fds: (OpenFile | null)[] = [];
  private readonly cloexec: boolean[] = [];

  get(fd: number): OpenFile | null {
    return fd >= 0 && fd < this.fds.length ? this.fds[fd] : null;
  }

  /** Install f at the lowest free descriptor >= min; -EMFILE if none. */
  install(f: OpenFile, cloexec = false, min = 0): number {
    for (let fd = min; fd < NR_OPEN; fd++) {
      if (this.fds[fd] === undefined || this.fds[fd] === null) {
        this.fds[fd] = f;
        this.cloexec[fd] = cloexec;
        return fd;
      }
    }
    return -EMFILE;
  }

  /** dup2: make `fd` refer to f (closing what was there). */
  installAt(fd: number, f: OpenFile): number {
    if (fd < 0 || fd >= NR_OPEN) return -EBADF;
    const old = this.fds[fd];
    f.refs++;
    this.fds[fd] = f;
    this.cloexec[fd] = false;
    if (old) release(old);
    return fd;
  }

  close(fd: number): number {
    const f = this.get(fd);
    if (f === null) return -EBADF;
    this.fds[fd] = null;
    release(f);
    return 0;
  }

  setCloexec(fd: number, on: boolean): void {
    this.cloexec[fd] = on;
  }

  isCloexec(fd: number): boolean {
    return this.cloexec[fd] === true;
  }

  /** fork: a new table sharing every open file. */
  clone(): FileTable {
    const t = new FileTable();
    this.fds.forEach((f, fd) => {
      if (f) {
        f.refs++;
        t.fds[fd] = f;
        t.cloexec[fd] = this.cloexec[fd];
      }
    });
    return t;
  }

  closeOnExec(): void {
    this.fds.forEach((f, fd) => {
      if (f && this.cloexec[fd]) this.close(fd);
    });
  }

  closeAll(): void {
    this.fds.forEach((f, fd) => {
      if (f) this.close(fd);
    });
  }

  /** Open descriptors, for /proc/PID/fd. */
  entries(): [number, OpenFile][] {
    const out: [number, OpenFile][] = [];
    this.fds.forEach((f, fd) => {
      if (f) out.push([fd, f]);
    });
    return out;
  }
}

function release(f: OpenFile): void {
  if (--f.refs === 0) f.ops.release?.(f);
}
