// /bin/ls: list directory contents (GNU coreutils ls, output not to a tty).
//
//   ls [-1aAdlr] [FILE...]
//
// Names are sorted as in the C locale, one per line; names starting with "."
// are hidden unless -a (with . and ..) or -A. -l prints the long format:
// mode, links, owner, group, size (or major, minor for a device), the
// modification time in UTC ("Jun 28 00:00" within six months, else
// "Jun 28  2007") and the name, preceded by "total" blocks for a directory.
// -d lists directories themselves; -r reverses the order. Operands that are
// not directories are listed first, then each directory (with a "NAME:"
// header when there are several operands). Exit status: 0, 1 for a minor
// problem, 2 when an operand cannot be accessed.

import { strerror } from "../../kernel/errno.ts";
import { MAP_ANONYMOUS, MAP_FAILED, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../../kernel/mman.ts";
import { NR } from "../../kernel/unistd.ts";
import type { Libc } from "../../libc/libc.ts";
import { readGroups, readPasswd } from "./id.ts";
import { parseOptions } from "./options.ts";

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFLNK = 0o120000;
const S_IFIFO = 0o010000;
const S_IFSOCK = 0o140000;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const SIX_MONTHS = 31556952 / 2;

interface Stat {
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blocks: number;
  mtime: number;
}

function modeString(mode: number): string {
  const type = mode & S_IFMT;
  const t =
    type === S_IFDIR ? "d" : type === S_IFCHR ? "c" : type === S_IFBLK ? "b" : type === S_IFLNK ? "l"
    : type === S_IFIFO ? "p" : type === S_IFSOCK ? "s" : "-";
  const rwx = (shift: number, special: number, ch: string) => {
    const bits = (mode >> shift) & 7;
    const x = bits & 1;
    const s = mode & special;
    return (bits & 4 ? "r" : "-") + (bits & 2 ? "w" : "-") + (s ? (x ? ch : ch.toUpperCase()) : x ? "x" : "-");
  };
  return t + rwx(6, 0o4000, "s") + rwx(3, 0o2000, "s") + rwx(0, 0o1000, "t");
}

function timeString(mtime: number, now: number): string {
  const d = new Date(mtime * 1000);
  const day = String(d.getUTCDate()).padStart(2);
  const recent = mtime <= now && now - mtime < SIX_MONTHS;
  const tail = recent
    ? `${String(d.getUTCHours()).padStart(2, "0")}:${String(d.getUTCMinutes()).padStart(2, "0")}`
    : ` ${d.getUTCFullYear()}`;
  return `${MONTHS[d.getUTCMonth()]} ${day} ${tail}`;
}

export default function main(argv: string[], _envp: string[], libc: Libc): number {
  const p = parseOptions(argv, "1aAdlr");
  if (typeof p === "string") {
    libc.eprintf("ls: %s\nTry 'ls --help' for more information.\n", p);
    return 2;
  }
  const o = p.opts;
  const long = o.l === true;
  const buf = libc.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  if (buf === MAP_FAILED) return 2;
  const pathBuf = buf + 256;

  const lstat = (path: string): Stat | null => {
    if (path.length + 1 > 4096 - 256) return null;
    libc.mem.writeCString(pathBuf, path);
    if (libc.syscall(NR.lstat64, pathBuf, buf) < 0) return null;
    const m = libc.mem;
    return {
      mode: m.readU32(buf + 16), nlink: m.readU32(buf + 20), uid: m.readU32(buf + 24), gid: m.readU32(buf + 28),
      rdev: m.readU32(buf + 32), size: m.readU32(buf + 44) + m.readU32(buf + 48) * 0x100000000,
      blocks: m.readU32(buf + 56), mtime: m.readU32(buf + 72),
    };
  };

  let users: Map<number, string> | null = null;
  let groups: Map<number, string> | null = null;
  const owner = (uid: number) => (users ??= new Map(readPasswd(libc).map((u) => [u.uid, u.name]))).get(uid) ?? String(uid);
  const group = (gid: number) => (groups ??= new Map(readGroups(libc).map((g) => [g.gid, g.name]))).get(gid) ?? String(gid);
  const now = long ? Math.floor(libc.clockGettime(0)) : 0;

  const sortNames = (names: string[]) => {
    names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (o.r) names.reverse();
    return names;
  };

  /** Print entries (name shown, path to stat); with -l in aligned columns. */
  const print = (entries: { name: string; path: string }[], total: boolean): boolean => {
    if (!long) {
      for (const e of entries) libc.printf("%s\n", e.name);
      return true;
    }
    let ok = true;
    const rows: { st: Stat; name: string }[] = [];
    for (const e of entries) {
      const st = lstat(e.path);
      if (st === null) {
        libc.eprintf("ls: cannot access '%s': %s\n", e.path, strerror(libc.errno));
        ok = false;
        continue;
      }
      rows.push({ st, name: e.name });
    }
    const sizeOf = (st: Stat) => {
      const t = st.mode & S_IFMT;
      if (t === S_IFCHR || t === S_IFBLK) return `${(st.rdev >> 8) & 0xfff}, ${(st.rdev & 0xff) | ((st.rdev >> 12) & ~0xff)}`;
      return String(st.size);
    };
    const cols = rows.map((r) => ({
      mode: modeString(r.st.mode), nlink: String(r.st.nlink), owner: owner(r.st.uid), group: group(r.st.gid),
      size: sizeOf(r.st), time: timeString(r.st.mtime, now), name: r.name,
    }));
    const w = (k: "nlink" | "owner" | "group" | "size") => Math.max(0, ...cols.map((c) => c[k].length));
    const [wl, wo, wg, ws] = [w("nlink"), w("owner"), w("group"), w("size")];
    if (total) libc.printf("total %d\n", rows.reduce((n, r) => n + Math.ceil(r.st.blocks / 2), 0));
    for (const c of cols) {
      libc.printf("%s %*s %-*s %-*s %*s %s %s\n", c.mode, wl, c.nlink, wo, c.owner, wg, c.group, ws, c.size, c.time, c.name);
    }
    return ok;
  };

  let status = 0;
  const operands = p.args.length === 0 ? ["."] : p.args;
  const files: string[] = [];
  const dirs: string[] = [];
  for (const a of operands) {
    const st = libc.stat(a) ?? lstat(a);
    if (st === null) {
      libc.eprintf("ls: cannot access '%s': %s\n", a, strerror(libc.errno));
      status = 2;
      continue;
    }
    if ((st.mode & S_IFMT) === S_IFDIR && !o.d) dirs.push(a);
    else files.push(a);
  }
  sortNames(files);
  sortNames(dirs);
  if (files.length > 0 && !print(files.map((f) => ({ name: f, path: f })), false)) status = Math.max(status, 1);
  const headers = operands.length > 1;
  dirs.forEach((d, i) => {
    if (files.length > 0 || i > 0) libc.printf("\n");
    if (headers) libc.printf("%s:\n", d);
    const names = libc.readdir(d);
    if (names === null) {
      libc.eprintf("ls: cannot open directory '%s': %s\n", d, strerror(libc.errno));
      status = 2;
      return;
    }
    let shown = names;
    if (o.a) shown = [".", "..", ...names];
    else if (!o.A) shown = names.filter((n) => !n.startsWith("."));
    sortNames(shown);
    const base = d.endsWith("/") ? d : `${d}/`;
    if (!print(shown.map((n) => ({ name: n, path: base + n })), true)) status = Math.max(status, 1);
  });
  libc.munmap(buf, 4096);
  return status;
}
