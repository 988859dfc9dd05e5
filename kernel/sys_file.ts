// File system calls: open, close, read, write, lseek, unlink, mkdir, rmdir,
// dup, dup2, chdir, getcwd, stat64/lstat64/fstat64, getdents64 — with Linux's
// errno rules and check order (fs/open.c, fs/namei.c, fs/read_write.c,
// fs/stat.c, fs/readdir.c). Handlers unpack and validate, move data through
// the caller's user memory, delegate to the VFS (vfs/vfs.ts) and return a
// value or -errno; they never throw.
//
// What an open file does depends on its inode:
//   regular file    Inode data, kept coherent with the page cache while the
//                   file is mmapped (vfs/filemap.ts); mmap maps the page cache
//   directory       read/write EISDIR; getdents64 lists it; mmap ENODEV
//   char device     console, null, zero (console.ts); mmap ENODEV
//   procfs file     contents generated at open (Inode.generate), so every read
//                   of one open sees one snapshot; writes go to Inode.store

import { Kev } from "./cost/events.ts";
import {
  EBADF, EBUSY, EEXIST, EFAULT, EINVAL, EISDIR, EMFILE, ENAMETOOLONG, ENODEV, ENOENT, ENOTDIR, ENOTEMPTY,
  EOVERFLOW, ERANGE, EROFS, ESPIPE,
} from "./errno.ts";
import { consoleOps, nullOps, zeroOps } from "./console.ts";
import {
  type FileOps, NR_OPEN, O_ACCMODE, O_APPEND, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_RDONLY, O_TRUNC, O_WRONLY,
  OpenFile,
} from "./file.ts";
import type { Kernel } from "./kernel.ts";
import { NO_FRAME } from "./page_alloc.ts";
import { PAGE_SHIFT, PAGE_SIZE, TASK_SIZE } from "./param.ts";
import { taskNow } from "./process.ts";
import { PROC_DEV, isProcInode, procMayOpen } from "./procfs.ts";
import { type Task, credFor } from "./task.ts";
import { fileMapping } from "./vfs/filemap.ts";
import { type HostSource, type Inode, S_IFCHR, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from "./vfs/inode.ts";
import { MAY_EXEC, MAY_READ, MAY_WRITE } from "./vfs/vfs.ts";

export const SEEK_SET = 0;
export const SEEK_CUR = 1;
export const SEEK_END = 2;

/** There is no umask syscall: every task has the usual 022. */
export const UMASK = 0o022;
const PATH_MAX = 4096;
/** MAX_RW_COUNT: read and write move at most INT_MAX rounded down to a page. */
const MAX_RW_COUNT = 0x7ffff000;
/** Bytes moved per step of a read or write (bounds the kernel buffer). */
const RW_CHUNK = 1 << 20;
/** CLOCK_REALTIME at boot, as sys_proc.ts has it: file times before any write. */
const BOOT_EPOCH = 1182988800;
/** i386 off_t: lseek results beyond this are EOVERFLOW (_llseek would be needed). */
const OFF_T_MAX = 0x7fffffff;

/** The root file system's device, 08:01 (what vfs/filemap.ts shows in /proc/PID/maps). */
export const ROOT_DEV = mkdev(8, 1);

/** Character devices: name -> (major, minor), as on Linux. */
const DEVICES: Record<string, [number, number]> = {
  null: [1, 3],
  zero: [1, 5],
  console: [5, 1],
};

/** new_encode_dev: the dev_t layout stat64 reports. */
export function mkdev(major: number, minor: number): number {
  return ((minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12)) >>> 0;
}

// ---- helpers -------------------------------------------------------------------------

function work(t: Task, units: number): void {
  t.counters.k[Kev.ARCH_WORK] += units;
}

function copied(t: Task, bytes: number): void {
  t.counters.k[Kev.COPY_USER_BYTES] += bytes;
}

/** Path components walked: what a lookup is charged. */
function components(path: string): number {
  let n = 0;
  for (const p of path.split("/")) if (p !== "") n++;
  return n;
}

/** getname: the path string at ptr; EFAULT for a bad pointer, ENAMETOOLONG with no NUL within PATH_MAX. */
function getname(t: Task, ptr: number): string | number {
  const mem = t.mm?.mem;
  if (mem === undefined) return -EFAULT;
  const s = mem.strncpyFromUser(ptr, PATH_MAX);
  if (s !== null) {
    copied(t, s.length + 1);
    return s;
  }
  // No string: either a fault before any NUL, or PATH_MAX readable bytes without one.
  return mem.copyFromUser(ptr, PATH_MAX) === null ? -EFAULT : -ENAMETOOLONG;
}

/** access_ok: the range lies below TASK_SIZE. */
function accessOk(addr: number, len: number): boolean {
  return addr + len <= TASK_SIZE;
}

function fileOf(t: Task, fd: number): OpenFile | null {
  return t.files?.get(fd | 0) ?? null;
}

/** Set a file's modification time to now: boot epoch plus the task's simulated time, to the nanosecond. */
function touch(k: Kernel, t: Task, ino: Inode): void {
  const secs = taskNow(k, t) / k.machine.hz;
  const whole = Math.floor(secs);
  ino.mtime = BOOT_EPOCH + whole;
  ino.mtimeNsec = Math.min(999_999_999, Math.floor((secs - whole) * 1e9));
}

/** The absolute path of an inode if the tree can name it; used for mmap names and the cwd. */
function nameOf(k: Kernel, ino: Inode, fallback: string): string {
  const p = k.vfs.pathOf(ino);
  return k.vfs.lookup(p, "/", ROOT_CRED, false) === ino ? p : fallback;
}

const ROOT_CRED = credFor(0);

/** Normalise `path` against cwd lexically ("." and ".." removed). */
function lexicalPath(cwd: string, path: string): string {
  const parts: string[] = [];
  for (const seg of (path.startsWith("/") ? path : `${cwd}/${path}`).split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") parts.pop();
    else parts.push(seg);
  }
  return "/" + parts.join("/");
}

// ---- file operations by inode kind -------------------------------------------------------

/** Copy file bytes [pos, pos + out.length) into out, through the page cache while the file is mapped. */
function readInode(k: Kernel, ino: Inode, pos: number, out: Uint8Array): void {
  const m = ino.mapping;
  if (m === null) {
    out.set(ino.data.subarray(pos, pos + out.length));
    return;
  }
  const u8 = k.phys.u8;
  for (let done = 0; done < out.length; ) {
    const at = pos + done;
    const off = at & (PAGE_SIZE - 1);
    const n = Math.min(out.length - done, PAGE_SIZE - off);
    const f = m.getPage(at >>> PAGE_SHIFT);
    if (f >= 0 && f !== NO_FRAME) out.set(u8.subarray((f << PAGE_SHIFT) + off, (f << PAGE_SHIFT) + off + n), done);
    else out.set(ino.data.subarray(at, at + n), done);
    done += n;
  }
}

/** Write data at pos, growing the file; a mapped file's cached pages see the new bytes too. */
function writeInode(k: Kernel, ino: Inode, pos: number, data: Uint8Array): void {
  ino.writeAt(pos, data);
  const m = ino.mapping;
  if (m === null) return;
  const u8 = k.phys.u8;
  for (let done = 0; done < data.length; ) {
    const at = pos + done;
    const off = at & (PAGE_SIZE - 1);
    const n = Math.min(data.length - done, PAGE_SIZE - off);
    const f = m.getPage(at >>> PAGE_SHIFT);
    if (f >= 0 && f !== NO_FRAME) u8.set(data.subarray(done, done + n), (f << PAGE_SHIFT) + off);
    done += n;
  }
}

function regularOps(k: Kernel, ino: Inode, name: string): FileOps {
  return {
    read(f, buf) {
      if (f.pos >= ino.size) return 0;
      const n = Math.min(buf.length, ino.size - f.pos);
      readInode(k, ino, f.pos, buf.subarray(0, n));
      f.pos += n;
      return n;
    },
    write(f, data) {
      if (f.flags & O_APPEND) f.pos = ino.size;
      writeInode(k, ino, f.pos, data);
      f.pos += data.length;
      touch(k, k.current, ino);
      return data.length;
    },
    mmapObject: () => fileMapping(k, ino, name),
  };
}

/** A host-backed file: read-only, not mappable (its bytes are not in the machine). */
function hostOps(src: HostSource): FileOps {
  return {
    read(f, buf) {
      if (f.pos >= src.size) return 0;
      const n = src.readAt(f.pos, buf.subarray(0, Math.min(buf.length, src.size - f.pos)));
      f.pos += n;
      return n;
    },
    write: () => -EBADF,
    mmapObject: () => -ENODEV,
  };
}

const dirOps: FileOps = {
  read: () => -EISDIR,
  write: () => -EISDIR,
};

/** A procfs file: the snapshot taken at open; writes go to the inode's store as text. */
function generatedOps(k: Kernel, ino: Inode, snapshot: Uint8Array): FileOps {
  return {
    read(f, buf) {
      if (f.pos >= snapshot.length) return 0;
      const n = Math.min(buf.length, snapshot.length - f.pos);
      buf.set(snapshot.subarray(f.pos, f.pos + n));
      f.pos += n;
      return n;
    },
    write(f, data) {
      if (ino.store === null) return -EINVAL;
      const r = ino.store(Buffer.from(data).toString("latin1"), k.current.cred.euid);
      if (r > 0) f.pos += r;
      return r;
    },
  };
}

function deviceOps(k: Kernel, device: string): FileOps | null {
  switch (device) {
    case "console":
      return consoleOps(k.console, "stdout", k.stdin);
    case "null":
      return nullOps;
    case "zero":
      return zeroOps;
    default:
      return null;
  }
}

/** The device node behind an open file with no inode (fds 0-2 from Kernel.consoleFile). */
function consoleInode(k: Kernel): Inode | null {
  const ino = k.vfs.lookup("/dev/console", "/", ROOT_CRED);
  return typeof ino === "number" ? null : ino;
}

// ---- open, close ------------------------------------------------------------------------

/**
 * open(path, flags, mode). Linux's order: the path is copied (EFAULT,
 * ENAMETOOLONG), a descriptor is reserved (EMFILE), the path walked (ENOENT,
 * ENOTDIR, EACCES on a search), then O_CREAT/O_EXCL (EEXIST), the type checks
 * (EISDIR, ENOTDIR) and may_open's permission check. A file this call created
 * is not permission-checked again (a 0444 file may be created O_RDWR).
 */
export function sys_open(k: Kernel, t: Task, pathPtr: number, flags: number, mode: number): number {
  const path = getname(t, pathPtr);
  if (typeof path === "number") return path;
  const files = t.files;
  if (files === null || files.entries().length >= NR_OPEN) return -EMFILE;
  work(t, 1 + components(path));
  const vfs = k.vfs;
  const acc = flags & O_ACCMODE;
  let ino: Inode;
  let created = false;
  if (flags & O_CREAT) {
    const p = vfs.lookupParent(path, t.cwd, t.cred);
    if (typeof p === "number") return p;
    const search = vfs.permission(p.dir, t.cred, MAY_EXEC);
    if (search < 0) return search;
    if (p.name === "." || p.name === ".." || /^\/*$/.test(path)) return -EISDIR;
    const existing = vfs.child(p.dir, p.name);
    if (existing !== null) {
      if (flags & O_EXCL) return -EEXIST;
      const r = existing.isSymlink ? vfs.lookup(path, t.cwd, t.cred) : existing;
      if (typeof r === "number") return r;
      if (r.isDir) return -EISDIR;
      ino = r;
    } else {
      if (path.endsWith("/")) return -EISDIR;
      const r = vfs.create(p.dir, p.name, S_IFREG | (mode & 0o7777 & ~UMASK), t.cred);
      if (typeof r === "number") return r;
      touch(k, t, r);
      ino = r;
      created = true;
    }
  } else {
    const r = vfs.lookup(path, t.cwd, t.cred);
    if (typeof r === "number") return r;
    ino = r;
  }
  if (flags & O_DIRECTORY && !ino.isDir) return -ENOTDIR;
  if (!created) {
    let mask = acc === O_RDONLY ? MAY_READ : acc === O_WRONLY ? MAY_WRITE : MAY_READ | MAY_WRITE;
    if (flags & O_TRUNC) mask |= MAY_WRITE;
    if (ino.isDir && mask & MAY_WRITE) return -EISDIR;
    const perm = vfs.permission(ino, t.cred, mask);
    if (perm < 0) return perm;
    const pm = procMayOpen(ino, t);
    if (pm < 0) return pm;
  }
  let ops: FileOps;
  if (ino.isDir) ops = dirOps;
  else if ((ino.mode & S_IFMT) === S_IFCHR) {
    const d = deviceOps(k, ino.device);
    if (d === null) return -ENODEV;
    ops = d;
  } else if (ino.source !== null) {
    if (acc !== O_RDONLY || flags & O_TRUNC) return -EROFS;
    ops = hostOps(ino.source);
  } else if (ino.generate !== null || ino.store !== null) {
    const text = ino.generate?.() ?? "";
    ops = generatedOps(k, ino, new Uint8Array(Buffer.from(text, "latin1")));
  } else {
    if (flags & O_TRUNC && !created && ino.size > 0) {
      ino.truncate();
      touch(k, t, ino);
    }
    ops = regularOps(k, ino, nameOf(k, ino, lexicalPath(t.cwd, path)));
  }
  const file = new OpenFile(ops, flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC), ino);
  return files.install(file, (flags & O_CLOEXEC) !== 0);
}

export function sys_close(_k: Kernel, t: Task, fd: number): number {
  if (t.files === null) return -EBADF;
  work(t, 1);
  return t.files.close(fd | 0);
}

// ---- read, write, lseek -----------------------------------------------------------------

/** read(fd, buf, count): through a kernel buffer, copied out with copy_to_user. */
export function sys_read(_k: Kernel, t: Task, fd: number, buf: number, count: number): number {
  const f = fileOf(t, fd);
  if (f === null || !f.readable) return -EBADF;
  if (!accessOk(buf, count)) return -EFAULT;
  const mem = t.mm?.mem;
  if (mem === undefined) return -EFAULT;
  work(t, 1);
  count = Math.min(count, MAX_RW_COUNT);
  let done = 0;
  while (done < count) {
    const want = Math.min(count - done, RW_CHUNK);
    const kbuf = new Uint8Array(want);
    const pos = f.pos;
    const r = f.ops.read(f, kbuf);
    if (r < 0) return done > 0 ? done : r;
    if (r === 0) break;
    if (!mem.copyToUser(buf + done, kbuf.subarray(0, r))) {
      f.pos = pos; // nothing of this step reached the user
      return done > 0 ? done : -EFAULT;
    }
    copied(t, r);
    done += r;
    if (r < want) break;
  }
  return done;
}

/** write(fd, buf, count): copy_from_user into a kernel buffer, then the file's write. */
export function sys_write(_k: Kernel, t: Task, fd: number, buf: number, count: number): number {
  const f = fileOf(t, fd);
  if (f === null || !f.writable) return -EBADF;
  if (!accessOk(buf, count)) return -EFAULT;
  const mem = t.mm?.mem;
  if (mem === undefined) return -EFAULT;
  work(t, 1);
  count = Math.min(count, MAX_RW_COUNT);
  let done = 0;
  while (done < count) {
    const want = Math.min(count - done, RW_CHUNK);
    const data = mem.copyFromUser(buf + done, want);
    if (data === null) return done > 0 ? done : -EFAULT;
    copied(t, want);
    const r = f.ops.write(f, data);
    if (r < 0) return done > 0 ? done : r;
    done += r;
    if (r < want) break;
  }
  return done;
}

/**
 * lseek(fd, offset, whence) with a 32-bit off_t. Regular files take all three
 * whences; directories and procfs files (seq_lseek) only SET and CUR;
 * /dev/null and /dev/zero always answer 0 (null_lseek); the console is a tty
 * and cannot seek (ESPIPE).
 */
export function sys_lseek(_k: Kernel, t: Task, fd: number, offset: number, whence: number): number {
  const f = fileOf(t, fd);
  if (f === null) return -EBADF;
  const ino = f.inode;
  if (ino === null || ino.device === "console") return -ESPIPE;
  if (ino.device === "null" || ino.device === "zero") {
    f.pos = 0; // null_lseek/zero_lseek ignore their arguments
    return 0;
  }
  if (whence > SEEK_END) return -EINVAL;
  const off = offset | 0;
  let base: number;
  if (whence === SEEK_SET) base = 0;
  else if (whence === SEEK_CUR) base = f.pos;
  else if (ino.isReg && ino.generate === null && ino.store === null) base = ino.size;
  else return -EINVAL;
  const pos = base + off;
  if (pos < 0) return -EINVAL;
  if (pos > OFF_T_MAX) return -EOVERFLOW;
  f.pos = pos;
  return pos;
}

// ---- namespace: unlink, mkdir, rmdir, chdir, getcwd ------------------------------------------

/** unlink(path): EISDIR for a directory (Linux), "." and ".." too; a trailing slash on a file is ENOTDIR. */
export function sys_unlink(k: Kernel, t: Task, pathPtr: number): number {
  const path = getname(t, pathPtr);
  if (typeof path === "number") return path;
  work(t, 1 + components(path));
  const p = k.vfs.lookupParent(path, t.cwd, t.cred);
  if (typeof p === "number") return p;
  if (p.name === "." || p.name === ".." || /^\/*$/.test(path)) return -EISDIR;
  const search = k.vfs.permission(p.dir, t.cred, MAY_EXEC);
  if (search < 0) return search;
  if (path.endsWith("/")) {
    const c = k.vfs.child(p.dir, p.name);
    return c === null ? -ENOENT : c.isDir ? -EISDIR : -ENOTDIR;
  }
  return k.vfs.remove(p.dir, p.name, t.cred, false);
}

/** mkdir(path, mode): EEXIST before the permission check, as filename_create does. */
export function sys_mkdir(k: Kernel, t: Task, pathPtr: number, mode: number): number {
  const path = getname(t, pathPtr);
  if (typeof path === "number") return path;
  work(t, 1 + components(path));
  const p = k.vfs.lookupParent(path, t.cwd, t.cred);
  if (typeof p === "number") return p;
  if (p.name === "." || p.name === ".." || /^\/*$/.test(path)) return -EEXIST;
  const search = k.vfs.permission(p.dir, t.cred, MAY_EXEC);
  if (search < 0) return search;
  if (k.vfs.child(p.dir, p.name) !== null) return -EEXIST;
  const r = k.vfs.create(p.dir, p.name, S_IFDIR | (mode & 0o1777 & ~UMASK), t.cred);
  if (typeof r === "number") return r;
  touch(k, t, r);
  return 0;
}

/** rmdir(path): EINVAL for ".", ENOTEMPTY for "..", EBUSY for "/" and mount points (/proc). */
export function sys_rmdir(k: Kernel, t: Task, pathPtr: number): number {
  const path = getname(t, pathPtr);
  if (typeof path === "number") return path;
  work(t, 1 + components(path));
  if (/^\/+$/.test(path)) return -EBUSY;
  const p = k.vfs.lookupParent(path, t.cwd, t.cred);
  if (typeof p === "number") return p;
  if (p.name === ".") return -EINVAL;
  if (p.name === "..") return -ENOTEMPTY;
  const search = k.vfs.permission(p.dir, t.cred, MAY_EXEC);
  if (search < 0) return search;
  const c = k.vfs.child(p.dir, p.name);
  if (c !== null && c.dynamic !== null && !p.dir.dynamic) return -EBUSY;
  return k.vfs.remove(p.dir, p.name, t.cred, true);
}

export function sys_chdir(k: Kernel, t: Task, pathPtr: number): number {
  const path = getname(t, pathPtr);
  if (typeof path === "number") return path;
  work(t, 1 + components(path));
  const ino = k.vfs.lookup(path, t.cwd, t.cred);
  if (typeof ino === "number") return ino;
  if (!ino.isDir) return -ENOTDIR;
  const perm = k.vfs.permission(ino, t.cred, MAY_EXEC);
  if (perm < 0) return perm;
  t.cwd = nameOf(k, ino, lexicalPath(t.cwd, path));
  return 0;
}

/** getcwd(buf, size): the length written, NUL included; ERANGE if it does not fit; ENOENT once the directory is gone. */
export function sys_getcwd(k: Kernel, t: Task, buf: number, size: number): number {
  const mem = t.mm?.mem;
  if (mem === undefined) return -EFAULT;
  work(t, 1 + components(t.cwd));
  if (typeof k.vfs.lookup(t.cwd, "/", ROOT_CRED) === "number") return -ENOENT;
  const len = t.cwd.length + 1;
  if (size < len) return -ERANGE;
  const b = new Uint8Array(len);
  for (let i = 0; i < t.cwd.length; i++) b[i] = t.cwd.charCodeAt(i) & 0xff;
  if (!mem.copyToUser(buf, b)) return -EFAULT;
  copied(t, len);
  return len;
}

// ---- dup, dup2 ------------------------------------------------------------------------------

export function sys_dup(_k: Kernel, t: Task, fd: number): number {
  const f = fileOf(t, fd);
  if (f === null) return -EBADF;
  work(t, 1);
  f.refs++;
  const r = t.files!.install(f, false);
  if (r < 0) f.refs--;
  return r;
}

/** dup2(old, new): EBADF for a bad old or an out-of-range new; old == new returns new untouched. */
export function sys_dup2(_k: Kernel, t: Task, oldfd: number, newfd: number): number {
  const f = fileOf(t, oldfd);
  if (f === null) return -EBADF;
  work(t, 1);
  if ((oldfd | 0) === (newfd | 0)) return newfd | 0;
  return t.files!.installAt(newfd | 0, f);
}

// ---- stat64 ---------------------------------------------------------------------------------

/*
 * i386 struct stat64 (arch/x86/include/uapi/asm/stat.h), 96 bytes, 4-byte
 * aligned (long long is 4-aligned in i386 structs):
 *
 *   off  size  field
 *     0     8  st_dev          unsigned long long (new_encode_dev)
 *     8     4  __pad0
 *    12     4  __st_ino        unsigned long (low 32 bits of the inode)
 *    16     4  st_mode         unsigned int
 *    20     4  st_nlink        unsigned int
 *    24     4  st_uid          unsigned long
 *    28     4  st_gid          unsigned long
 *    32     8  st_rdev         unsigned long long
 *    40     4  __pad3
 *    44     8  st_size         long long
 *    52     4  st_blksize      unsigned long
 *    56     8  st_blocks       unsigned long long (512-byte units)
 *    64     4  st_atime        + 68 st_atime_nsec
 *    72     4  st_mtime        + 76 st_mtime_nsec
 *    80     4  st_ctime        + 84 st_ctime_nsec
 *    88     8  st_ino          unsigned long long
 */
export const STAT64_SIZE = 96;

export function stat64Bytes(ino: Inode): Uint8Array {
  const b = new Uint8Array(STAT64_SIZE);
  const dv = new DataView(b.buffer);
  const proc = isProcInode(ino);
  const type = ino.mode & S_IFMT;
  let size = 0;
  if (type === S_IFREG && !proc) size = ino.size;
  else if (type === S_IFDIR && !proc) size = PAGE_SIZE;
  else if (type === S_IFLNK) size = ino.target.length;
  const blocks = type === S_IFREG || type === S_IFDIR ? Math.ceil(size / PAGE_SIZE) * 8 : 0;
  const dev = DEVICES[ino.device];
  const time = ino.mtime || BOOT_EPOCH;
  const nsec = ino.mtime ? ino.mtimeNsec : 0;
  dv.setUint32(0, proc ? PROC_DEV : ROOT_DEV, true);
  dv.setUint32(12, ino.ino >>> 0, true);
  dv.setUint32(16, ino.mode >>> 0, true);
  dv.setUint32(20, ino.nlink >>> 0, true);
  dv.setUint32(24, ino.uid >>> 0, true);
  dv.setUint32(28, ino.gid >>> 0, true);
  dv.setUint32(32, type === S_IFCHR && dev ? mkdev(dev[0], dev[1]) : 0, true);
  dv.setUint32(44, size % 0x100000000, true);
  dv.setUint32(48, Math.floor(size / 0x100000000), true);
  dv.setUint32(52, PAGE_SIZE, true);
  dv.setUint32(56, blocks, true);
  dv.setUint32(64, time, true);
  dv.setUint32(68, nsec, true);
  dv.setUint32(72, time, true);
  dv.setUint32(76, nsec, true);
  dv.setUint32(80, time, true);
  dv.setUint32(84, nsec, true);
  dv.setUint32(88, ino.ino >>> 0, true);
  return b;
}

function putStat(t: Task, buf: number, ino: Inode): number {
  const mem = t.mm?.mem;
  if (mem === undefined || !mem.copyToUser(buf, stat64Bytes(ino))) return -EFAULT;
  copied(t, STAT64_SIZE);
  return 0;
}

function statPath(k: Kernel, t: Task, pathPtr: number, buf: number, follow: boolean): number {
  const path = getname(t, pathPtr);
  if (typeof path === "number") return path;
  work(t, 1 + components(path));
  const ino = k.vfs.lookup(path, t.cwd, t.cred, follow);
  if (typeof ino === "number") return ino;
  return putStat(t, buf, ino);
}

export const sys_stat64 = (k: Kernel, t: Task, pathPtr: number, buf: number) => statPath(k, t, pathPtr, buf, true);
export const sys_lstat64 = (k: Kernel, t: Task, pathPtr: number, buf: number) => statPath(k, t, pathPtr, buf, false);

export function sys_fstat64(k: Kernel, t: Task, fd: number, buf: number): number {
  const f = fileOf(t, fd);
  if (f === null) return -EBADF;
  work(t, 1);
  const ino = f.inode ?? consoleInode(k);
  if (ino === null) return -EBADF;
  return putStat(t, buf, ino);
}

// ---- getdents64 -----------------------------------------------------------------------------

export const DT_UNKNOWN = 0;
export const DT_CHR = 2;
export const DT_DIR = 4;
export const DT_REG = 8;
export const DT_LNK = 10;

function dtype(ino: Inode): number {
  switch (ino.mode & S_IFMT) {
    case S_IFDIR:
      return DT_DIR;
    case S_IFREG:
      return DT_REG;
    case S_IFLNK:
      return DT_LNK;
    case S_IFCHR:
      return DT_CHR;
    default:
      return DT_UNKNOWN;
  }
}

/**
 * getdents64(fd, dirp, count): struct linux_dirent64 records
 *   u64 d_ino @0, s64 d_off @8 (position of the next entry), u16 d_reclen @16,
 *   u8 d_type @18, d_name @19 (NUL-terminated), padded to 8 bytes.
 * The file position counts entries ("." and ".." first). EINVAL if not even
 * one record fits; 0 at the end.
 */
export function sys_getdents64(k: Kernel, t: Task, fd: number, dirp: number, count: number): number {
  const f = fileOf(t, fd);
  if (f === null) return -EBADF;
  if (!accessOk(dirp, count)) return -EFAULT;
  const dir = f.inode;
  if (dir === null || !dir.isDir) return -ENOTDIR;
  const mem = t.mm?.mem;
  if (mem === undefined) return -EFAULT;
  const names = k.vfs.list(dir);
  const out = new Uint8Array(Math.min(count, RW_CHUNK));
  const dv = new DataView(out.buffer);
  let used = 0;
  let pos = f.pos;
  for (; pos < names.length; pos++) {
    const name = names[pos];
    const child = k.vfs.child(dir, name);
    if (child === null) continue; // gone since the listing (a task exited)
    const reclen = (19 + name.length + 1 + 7) & ~7;
    if (used + reclen > out.length) {
      if (used === 0) return -EINVAL;
      break;
    }
    dv.setUint32(used, child.ino >>> 0, true);
    dv.setUint32(used + 8, pos + 1, true);
    dv.setUint16(used + 16, reclen, true);
    out[used + 18] = dtype(child);
    for (let i = 0; i < name.length; i++) out[used + 19 + i] = name.charCodeAt(i) & 0xff;
    used += reclen;
  }
  work(t, 1 + (pos - f.pos));
  if (used > 0 && !mem.copyToUser(dirp, out.subarray(0, used))) return -EFAULT;
  copied(t, used);
  f.pos = pos;
  return used;
}
