// The root file system at boot: the usual directories, the users' homes,
// /etc/passwd and /etc/group, and the character devices. Programs under /bin
// are installed later by the host (vfs.writeFile with exec.ts's programFile).
//
//   /            drwxr-xr-x root
//   ├── bin      drwxr-xr-x root
//   ├── dev      drwxr-xr-x root   null, zero (crw-rw-rw-), console (crw-------)
//   ├── etc      drwxr-xr-x root   passwd, group, hostname (-rw-r--r--)
//   ├── home     drwxr-xr-x root   alice, bob, mallory (drwxr-xr-x, each its owner's)
//   ├── proc     dr-xr-xr-x root   procfs (procfs.ts)
//   ├── root     drwx------ root
//   └── tmp      drwxrwxrwt root   (sticky)

import type { Kernel } from "./kernel.ts";
import { S_IFCHR } from "./vfs/inode.ts";

export interface User {
  readonly name: string;
  readonly uid: number;
  readonly home: string;
}

/** The machine's accounts: gid = uid, shell /bin/sh. */
export const USERS: readonly User[] = [
  { name: "root", uid: 0, home: "/root" },
  { name: "alice", uid: 1000, home: "/home/alice" },
  { name: "bob", uid: 1001, home: "/home/bob" },
  { name: "mallory", uid: 1002, home: "/home/mallory" },
];

/** The tty group, owner group of terminals. */
const TTY_GID = 5;

export function passwdText(): string {
  return USERS.map((u) => `${u.name}:x:${u.uid}:${u.uid}:${u.name}:${u.home}:/bin/sh\n`).join("");
}

export function groupText(): string {
  const lines = USERS.map((u) => `${u.name}:x:${u.uid}:\n`);
  lines.splice(1, 0, `tty:x:${TTY_GID}:\n`);
  return lines.join("");
}

/** Build the root file system (called once by the Kernel constructor). */
export function populateRootFs(k: Kernel): void {
  const vfs = k.vfs;
  vfs.mkdirs("/bin", 0o755);
  vfs.mkdirs("/etc", 0o755);
  vfs.mkdirs("/tmp", 0o1777);
  vfs.mkdirs("/home", 0o755);
  for (const u of USERS) {
    if (u.uid === 0) vfs.mkdirs(u.home, 0o700);
    else vfs.mkdirs(u.home, 0o755, u.uid, u.uid);
  }
  vfs.mkdirs("/proc", 0o555);

  vfs.writeFile("/etc/passwd", passwdText(), 0o644);
  vfs.writeFile("/etc/group", groupText(), 0o644);
  vfs.writeFile("/etc/hostname", "nozero\n", 0o644);

  const dev = vfs.mkdirs("/dev", 0o755);
  const node = (name: string, mode: number) => {
    const ino = vfs.newInode(S_IFCHR | mode, 0, 0);
    ino.device = name;
    vfs.link(dev, name, ino);
  };
  node("null", 0o666);
  node("zero", 0o666);
  node("console", 0o600);
}
