// /bin/id: print user and group IDs (GNU coreutils id).
//
//   id [-u|-g|-G] [-n] [-r] [USER]
//
// With no option: uid=U(name) gid=G(name), then euid=/egid= when they differ
// from the real IDs (a setuid program's), then groups=. This kernel keeps no
// supplementary groups for a process, so a process's groups are its egid;
// for a USER they are the login group and the groups /etc/group lists the
// user in. The account lookups below (getpwnam and friends, over
// /etc/passwd and /etc/group) are shared with su.

import type { Libc } from "../../libc/libc.ts";
import { parseOptions } from "./options.ts";

export interface Passwd {
  name: string;
  uid: number;
  gid: number;
  gecos: string;
  home: string;
  shell: string;
}

export interface Group {
  name: string;
  gid: number;
  members: string[];
}

/** Every well-formed entry of /etc/passwd. */
export function readPasswd(libc: Libc): Passwd[] {
  const out: Passwd[] = [];
  for (const line of (libc.readFile("/etc/passwd") ?? "").split("\n")) {
    const f = line.split(":");
    if (f.length < 7 || !/^[0-9]+$/.test(f[2]) || !/^[0-9]+$/.test(f[3])) continue;
    out.push({ name: f[0], uid: Number(f[2]), gid: Number(f[3]), gecos: f[4], home: f[5], shell: f[6] });
  }
  return out;
}

export function readGroups(libc: Libc): Group[] {
  const out: Group[] = [];
  for (const line of (libc.readFile("/etc/group") ?? "").split("\n")) {
    const f = line.split(":");
    if (f.length < 4 || !/^[0-9]+$/.test(f[2])) continue;
    out.push({ name: f[0], gid: Number(f[2]), members: f[3] === "" ? [] : f[3].split(",") });
  }
  return out;
}

export function getpwnam(libc: Libc, name: string): Passwd | null {
  return readPasswd(libc).find((p) => p.name === name) ?? null;
}

export function getpwuid(libc: Libc, uid: number): Passwd | null {
  return readPasswd(libc).find((p) => p.uid === uid) ?? null;
}

export function getgrgid(libc: Libc, gid: number): Group | null {
  return readGroups(libc).find((g) => g.gid === gid) ?? null;
}

function usageError(libc: Libc, msg: string): number {
  libc.eprintf("id: %s\nTry 'id --help' for more information.\n", msg);
  return 1;
}

export default function main(argv: string[], _envp: string[], libc: Libc): number {
  const p = parseOptions(argv, "aguGnrz");
  if (typeof p === "string") return usageError(libc, p);
  const o = p.opts;
  const only = ["u", "g", "G"].filter((c) => o[c]);
  if (only.length > 1) return usageError(libc, "cannot print \"only\" of more than one choice");
  if (only.length === 0 && (o.n || o.r)) return usageError(libc, "cannot print only names or real IDs in default format");
  if (p.args.length > 1) return usageError(libc, `extra operand '${p.args[1]}'`);

  let ruid: number, euid: number, rgid: number, egid: number;
  let groups: number[];
  if (p.args.length === 1) {
    const arg = p.args[0];
    const pw = getpwnam(libc, arg) ?? (/^[0-9]+$/.test(arg) ? getpwuid(libc, Number(arg)) : null);
    if (pw === null) {
      libc.eprintf("id: '%s': no such user\n", arg);
      return 1;
    }
    ruid = euid = pw.uid;
    rgid = egid = pw.gid;
    groups = [pw.gid, ...readGroups(libc).filter((g) => g.gid !== pw.gid && g.members.includes(pw.name)).map((g) => g.gid)];
  } else {
    ruid = libc.getuid();
    euid = libc.geteuid();
    rgid = libc.getgid();
    egid = libc.getegid();
    groups = [egid];
  }

  const passwd = readPasswd(libc);
  const grp = readGroups(libc);
  const uname = (u: number) => passwd.find((x) => x.uid === u)?.name ?? null;
  const gname = (g: number) => grp.find((x) => x.gid === g)?.name ?? null;
  const idWithName = (n: number, name: string | null) => (name === null ? `${n}` : `${n}(${name})`);

  if (only.length === 1) {
    let ok = true;
    const show = (n: number, name: string | null, kind: string) => {
      if (!o.n) return String(n);
      if (name === null) {
        libc.eprintf("id: cannot find name for %s ID %d\n", kind, n);
        ok = false;
        return String(n);
      }
      return name;
    };
    let line: string;
    if (o.u) {
      const u = o.r ? ruid : euid;
      line = show(u, uname(u), "user");
    } else if (o.g) {
      const g = o.r ? rgid : egid;
      line = show(g, gname(g), "group");
    } else line = groups.map((g) => show(g, gname(g), "group")).join(" ");
    libc.printf("%s\n", line);
    return ok ? 0 : 1;
  }

  let line = `uid=${idWithName(ruid, uname(ruid))} gid=${idWithName(rgid, gname(rgid))}`;
  if (euid !== ruid) line += ` euid=${idWithName(euid, uname(euid))}`;
  if (egid !== rgid) line += ` egid=${idWithName(egid, gname(egid))}`;
  line += ` groups=${groups.map((g) => idWithName(g, gname(g))).join(",")}`;
  libc.printf("%s\n", line);
  return 0;
}
