// In-memory inodes: regular files, directories, symlinks and special files
// whose contents a kernel function produces (procfs) or consumes.

import type { MemObject } from "../vma.ts";

export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFLNK = 0o120000;
export const S_ISUID = 0o4000;
export const S_ISGID = 0o2000;

/**
 * A read-only file whose bytes stay on the host and are read on demand (a
 * trace of gigabytes): only what a reader asks for is ever in memory.
 */
export interface HostSource {
  readonly size: number;
  /** Bytes at [pos, pos + dst.length) into dst; the count read (short only at the end). */
  readAt(pos: number, dst: Uint8Array): number;
}

/** A directory whose entries a kernel function supplies (/proc, /proc/PID). */
export interface DynamicDir {
  lookup(name: string): Inode | null;
  list(): string[];
}

export class Inode {
  /** File contents (first `size` bytes are valid). */
  data: Uint8Array = new Uint8Array(0);
  size = 0;
  nlink = 1;
  /** Simulated modification time, seconds (0: never written, reported as the boot epoch). */
  mtime = 0;
  /** The nanoseconds of the modification time (st_mtime_nsec), so make can order files written within one second. */
  mtimeNsec = 0;
  readonly children: Map<string, Inode> | null;
  parent: Inode | null = null;
  /** Symlink target. */
  target = "";
  /** Special files: contents produced at open (procfs). */
  generate: (() => string) | null = null;
  /** Special files: a write's effect; returns bytes consumed or -errno. */
  store: ((text: string, euid: number) => number) | null = null;
  dynamic: DynamicDir | null = null;
  /** Host-backed files: where the bytes come from (size mirrors source.size). */
  source: HostSource | null = null;
  /** Character devices: which one (console, null, zero). */
  device = "";
  /** The page cache of the file while it is mapped (vfs/filemap.ts). */
  mapping: MemObject | null = null;

  constructor(
    readonly ino: number,
    public mode: number,
    public uid: number,
    public gid: number,
  ) {
    this.children = (mode & S_IFMT) === S_IFDIR ? new Map() : null;
  }

  get isDir(): boolean {
    return (this.mode & S_IFMT) === S_IFDIR;
  }

  get isReg(): boolean {
    return (this.mode & S_IFMT) === S_IFREG;
  }

  get isSymlink(): boolean {
    return (this.mode & S_IFMT) === S_IFLNK;
  }

  /** Replace the contents. */
  setData(bytes: Uint8Array): void {
    this.source = null;
    this.data = bytes;
    this.size = bytes.length;
  }

  /** Write bytes at pos, growing the file. */
  writeAt(pos: number, bytes: Uint8Array): void {
    const end = pos + bytes.length;
    if (end > this.data.length) {
      const grown = new Uint8Array(Math.max(end, this.data.length * 2, 64));
      grown.set(this.data.subarray(0, this.size));
      this.data = grown;
    }
    this.data.set(bytes, pos);
    if (end > this.size) this.size = end;
  }

  /** Empty the file. The old bytes go too: a later write past the end must read back zeros in the hole. */
  truncate(): void {
    this.data = new Uint8Array(0);
    this.size = 0;
  }
}
