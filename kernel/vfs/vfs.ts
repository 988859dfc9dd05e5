// Path lookup, permission checks and namespace operations over the inode
// tree (Linux namei.c and friends, reduced to what the emulator needs).

import { EACCES, EEXIST, ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR, ENOTEMPTY, EPERM, EISDIR } from "../errno.ts";
import type { Cred } from "../task.ts";
import { type DynamicDir, type HostSource, Inode, S_IFDIR, S_IFLNK, S_IFREG } from "./inode.ts";

export const MAY_EXEC = 1;
export const MAY_WRITE = 2;
export const MAY_READ = 4;

const PATH_MAX = 4096;
const MAXSYMLINKS = 40;

export class Vfs {
  readonly root: Inode;
  private nextIno = 1;

  constructor() {
    this.root = this.newInode(S_IFDIR | 0o755, 0, 0);
    this.root.parent = this.root;
  }

  newInode(mode: number, uid: number, gid: number): Inode {
    return new Inode(this.nextIno++, mode, uid, gid);
  }

  /**
   * generic_permission: owner, group or other bits by euid/egid. Root may
   * read and write anything, and execute a file only if some x bit is set.
   */
  permission(ino: Inode, cred: Cred, mask: number): number {
    if (cred.euid === 0) {
      if (!(mask & MAY_EXEC) || ino.isDir || ino.mode & 0o111) return 0;
      return -EACCES;
    }
    let bits = ino.mode & 7;
    if (cred.euid === ino.uid) bits = (ino.mode >> 6) & 7;
    else if (cred.egid === ino.gid) bits = (ino.mode >> 3) & 7;
    return (bits & mask) === mask ? 0 : -EACCES;
  }

  /** Resolve path from cwd; the inode or -errno. Follows symlinks (the last one if follow). */
  lookup(path: string, cwd: string, cred: Cred, follow = true): Inode | number {
    return this.walk(path, cwd, cred, follow, 0);
  }

  /** The directory that would hold path's last component, and that name. */
  lookupParent(path: string, cwd: string, cred: Cred): { dir: Inode; name: string } | number {
    if (path.length === 0) return -ENOENT;
    if (path.length >= PATH_MAX) return -ENAMETOOLONG;
    const trimmed = path.replace(/\/+$/, "");
    const slash = trimmed.lastIndexOf("/");
    const name = trimmed.slice(slash + 1);
    const dirPath = slash < 0 ? "." : slash === 0 ? "/" : trimmed.slice(0, slash);
    const dir = this.lookup(dirPath, cwd, cred);
    if (typeof dir === "number") return dir;
    if (!dir.isDir) return -ENOTDIR;
    if (name === "" || name === "." || name === "..") return { dir, name: name || "." };
    if (name.length > 255) return -ENAMETOOLONG;
    return { dir, name };
  }

  /** The entries of a directory, "." and ".." first. */
  list(dir: Inode): string[] {
    const names = dir.dynamic ? dir.dynamic.list() : [...dir.children!.keys()];
    return [".", "..", ...names];
  }

  child(dir: Inode, name: string): Inode | null {
    if (name === ".") return dir;
    if (name === "..") return dir.parent ?? dir;
    if (dir.dynamic) return dir.dynamic.lookup(name);
    return dir.children!.get(name) ?? null;
  }

  /** Create a regular file, directory or symlink named `name` in dir (no permission check). */
  link(dir: Inode, name: string, ino: Inode): void {
    dir.children!.set(name, ino);
    ino.parent = dir;
    if (ino.isDir) dir.nlink++;
  }

  /** Create an entry as `cred` would: needs write and search permission on dir. */
  create(dir: Inode, name: string, mode: number, cred: Cred): Inode | number {
    if (dir.dynamic) return -EACCES;
    const p = this.permission(dir, cred, MAY_WRITE | MAY_EXEC);
    if (p < 0) return p;
    if (dir.children!.has(name)) return -EEXIST;
    const ino = this.newInode(mode, cred.euid, cred.egid);
    if (ino.isDir) ino.nlink = 2;
    this.link(dir, name, ino);
    return ino;
  }

  /** unlink or rmdir `name` from dir as `cred` (sticky directories: only the owner may remove). */
  remove(dir: Inode, name: string, cred: Cred, wantDir: boolean): number {
    if (dir.dynamic) return -EPERM;
    const ino = dir.children!.get(name);
    if (ino === undefined) return -ENOENT;
    // may_delete's order: permission on the directory, the sticky rule, then the type checks.
    const p = this.permission(dir, cred, MAY_WRITE | MAY_EXEC);
    if (p < 0) return p;
    if (dir.mode & 0o1000 && cred.euid !== 0 && cred.euid !== ino.uid && cred.euid !== dir.uid) return -EPERM;
    if (wantDir && !ino.isDir) return -ENOTDIR;
    if (!wantDir && ino.isDir) return -EISDIR;
    if (wantDir && ino.children!.size > 0) return -ENOTEMPTY;
    dir.children!.delete(name);
    ino.nlink--;
    if (ino.isDir) dir.nlink--;
    return 0;
  }

  /** Host-side set-up (boot): make directories along path, owned by uid. */
  mkdirs(path: string, mode = 0o755, uid = 0, gid = 0): Inode {
    let cur = this.root;
    for (const part of path.split("/").filter(Boolean)) {
      let next = cur.children?.get(part);
      if (next === undefined) {
        next = this.newInode(S_IFDIR | mode, uid, gid);
        next.nlink = 2;
        this.link(cur, part, next);
      }
      cur = next;
    }
    return cur;
  }

  /** Host-side set-up (boot): write a whole file, creating it and its directories. */
  writeFile(path: string, data: Uint8Array | string, mode = 0o644, uid = 0, gid = 0): Inode {
    const slash = path.lastIndexOf("/");
    const dir = this.mkdirs(path.slice(0, slash));
    let ino = dir.children!.get(path.slice(slash + 1));
    if (ino === undefined) {
      ino = this.newInode(S_IFREG | mode, uid, gid);
      this.link(dir, path.slice(slash + 1), ino);
    }
    ino.setData(typeof data === "string" ? new TextEncoder().encode(data) : data);
    return ino;
  }

  /** Host-side set-up: a read-only file whose bytes `source` serves on demand. */
  hostFile(path: string, source: HostSource, mode = 0o444, uid = 0, gid = 0): Inode {
    const ino = this.writeFile(path, new Uint8Array(0), mode, uid, gid);
    ino.source = source;
    ino.size = source.size;
    return ino;
  }

  /** Host-side set-up: a directory served by a kernel function. */
  mountDynamic(path: string, dyn: DynamicDir): Inode {
    const d = this.mkdirs(path, 0o555);
    d.dynamic = dyn;
    return d;
  }

  symlink(path: string, target: string): Inode {
    const slash = path.lastIndexOf("/");
    const dir = this.mkdirs(path.slice(0, slash));
    const ino = this.newInode(S_IFLNK | 0o777, 0, 0);
    ino.target = target;
    this.link(dir, path.slice(slash + 1), ino);
    return ino;
  }

  private walk(path: string, cwd: string, cred: Cred, follow: boolean, depth: number): Inode | number {
    if (path.length === 0) return -ENOENT;
    if (path.length >= PATH_MAX) return -ENAMETOOLONG;
    let cur: Inode;
    if (path.startsWith("/")) cur = this.root;
    else {
      // Relative to cwd (or, for a relative symlink target, to the symlink's directory).
      const c = cwd !== "/" ? this.walk(cwd, "/", cred, true, depth + 1) : this.root;
      if (typeof c === "number") return c;
      cur = c;
    }
    const parts = path.split("/").filter(Boolean);
    for (let i = 0; i < parts.length; i++) {
      if (!cur.isDir) return -ENOTDIR;
      const p = this.permission(cur, cred, MAY_EXEC);
      if (p < 0) return p;
      if (parts[i].length > 255) return -ENAMETOOLONG;
      const next = this.child(cur, parts[i]);
      if (next === null) return -ENOENT;
      const last = i === parts.length - 1;
      if (next.isSymlink && (!last || follow)) {
        if (depth >= MAXSYMLINKS) return -ELOOP;
        const base = next.target.startsWith("/") ? "/" : this.pathOf(cur);
        const t = this.walk(next.target, base, cred, true, depth + 1);
        if (typeof t === "number") return t;
        cur = t;
        continue;
      }
      cur = next;
    }
    if (path.endsWith("/") && !cur.isDir) return -ENOTDIR;
    return cur;
  }

  /** The absolute path of a directory inode (for relative symlinks and getcwd). */
  pathOf(ino: Inode): string {
    const parts: string[] = [];
    let cur = ino;
    while (cur !== this.root && cur.parent) {
      const parent = cur.parent;
      let name = "";
      for (const [n, c] of parent.children ?? []) if (c === cur) name = n;
      parts.unshift(name);
      cur = parent;
    }
    return "/" + parts.join("/");
  }
}

