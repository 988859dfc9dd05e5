// File system calls (kernel/sys_file.ts) at the syscall level: round trips
// through user memory, Linux's errno for each misuse, permissions between
// users, directories, descriptors, stat64's i386 layout, devices and mmap of
// files through the page cache.

import { describe, expect, it } from "vitest";
import type { CapturedConsole } from "../../kernel/console.ts";
import { Kev } from "../../kernel/cost/events.ts";
import {
  EACCES, EBADF, EBUSY, EEXIST, EFAULT, EINVAL, EISDIR, EMFILE, ENAMETOOLONG, ENODEV, ENOENT, ENOTDIR, ENOTEMPTY,
  EPERM, ERANGE, ESPIPE,
} from "../../kernel/errno.ts";
import {
  O_APPEND, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY,
} from "../../kernel/file.ts";
import {
  MAP_ANONYMOUS, MAP_NOZERO, MAP_PRIVATE, MAP_SHARED, PROT_NONE, PROT_READ, PROT_WRITE,
} from "../../kernel/mman.ts";
import { TASK_SIZE } from "../../kernel/param.ts";
import { DT_CHR, DT_DIR, DT_REG, ROOT_DEV, SEEK_CUR, SEEK_END, SEEK_SET, mkdev } from "../../kernel/sys_file.ts";
import { NR } from "../../kernel/syscall.ts";
import { S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG } from "../../kernel/vfs/inode.ts";
import { bootKernel } from "../helpers/boot.ts";
import { type User, userTask } from "../helpers/files.ts";

const RW = PROT_READ | PROT_WRITE;

function boot(uid = 1000): { k: ReturnType<typeof bootKernel>; u: User } {
  const k = bootKernel();
  return { k, u: userTask(k, uid) };
}

describe("the root file system at boot", () => {
  it("has the usual directories with their owners and modes", () => {
    const { u } = boot();
    const want: [string, number, number][] = [
      ["/", S_IFDIR | 0o755, 0],
      ["/bin", S_IFDIR | 0o755, 0],
      ["/etc", S_IFDIR | 0o755, 0],
      ["/tmp", S_IFDIR | 0o1777, 0],
      ["/root", S_IFDIR | 0o700, 0],
      ["/dev", S_IFDIR | 0o755, 0],
      ["/proc", S_IFDIR | 0o555, 0],
      ["/home/alice", S_IFDIR | 0o755, 1000],
      ["/home/bob", S_IFDIR | 0o755, 1001],
      ["/home/mallory", S_IFDIR | 0o755, 1002],
    ];
    for (const [path, mode, uid] of want) {
      const { r, st } = u.stat(path);
      expect(r, path).toBe(0);
      expect(st!.mode.toString(8), path).toBe(mode.toString(8));
      expect(st!.uid, path).toBe(uid);
      expect(st!.gid, path).toBe(uid);
    }
  });

  it("/etc/passwd and /etc/group name root, alice, bob and mallory", () => {
    const { u } = boot();
    expect(u.readFile("/etc/passwd")).toBe(
      "root:x:0:0:root:/root:/bin/sh\n" +
        "alice:x:1000:1000:alice:/home/alice:/bin/sh\n" +
        "bob:x:1001:1001:bob:/home/bob:/bin/sh\n" +
        "mallory:x:1002:1002:mallory:/home/mallory:/bin/sh\n",
    );
    const group = u.readFile("/etc/group") as string;
    expect(group).toContain("root:x:0:\n");
    expect(group).toContain("alice:x:1000:\n");
    expect(group).toContain("bob:x:1001:\n");
    expect(group).toContain("mallory:x:1002:\n");
  });

  it("/root is closed to users", () => {
    const { u } = boot();
    expect(u.open("/root/x", O_CREAT | O_WRONLY)).toBe(-EACCES);
    expect(u.list("/root")).toBe(-EACCES);
  });
});

describe("open, read, write, close", () => {
  it("round-trips bytes through a new file", () => {
    const { k, u } = boot();
    const fd = u.open("/tmp/f", O_CREAT | O_WRONLY, 0o644);
    expect(fd).toBe(0);
    expect(u.write(fd, "hello, world\n")).toBe(13);
    expect(u.close(fd)).toBe(0);
    expect(u.close(fd)).toBe(-EBADF);
    const rd = u.open("/tmp/f", O_RDONLY);
    expect(u.read(rd, 5)).toEqual({ r: 5, text: "hello" });
    expect(u.read(rd, 100)).toEqual({ r: 8, text: ", world\n" });
    expect(u.read(rd, 100)).toEqual({ r: 0, text: "" });
    expect(u.t.counters.k[Kev.COPY_USER_BYTES]).toBeGreaterThanOrEqual(26);
    expect(u.t.counters.k[Kev.ARCH_WORK]).toBeGreaterThan(0);
    expect(k.vfs.lookup("/tmp/f", "/", u.t.cred)).toMatchObject({ size: 13 });
  });

  it("gives the lowest free descriptor", () => {
    const { u } = boot();
    expect(u.open("/etc/passwd")).toBe(0);
    expect(u.open("/etc/passwd")).toBe(1);
    expect(u.open("/etc/passwd")).toBe(2);
    u.close(1);
    expect(u.open("/etc/group")).toBe(1);
  });

  it("creates with mode & ~umask (022) and owns the file by the creator", () => {
    const { u } = boot();
    u.close(u.open("/tmp/m", O_CREAT | O_WRONLY, 0o777));
    expect(u.stat("/tmp/m").st).toMatchObject({ mode: S_IFREG | 0o755, uid: 1000, gid: 1000, nlink: 1 });
    u.close(u.open("/tmp/s", O_CREAT | O_WRONLY, 0o4666));
    expect(u.stat("/tmp/s").st!.mode).toBe(S_IFREG | 0o4644);
  });

  it("O_CREAT|O_EXCL: EEXIST for an existing file, a new file otherwise", () => {
    const { u } = boot();
    expect(u.open("/tmp/x", O_CREAT | O_EXCL | O_WRONLY)).toBeGreaterThanOrEqual(0);
    expect(u.open("/tmp/x", O_CREAT | O_EXCL | O_WRONLY)).toBe(-EEXIST);
    expect(u.open("/tmp/x", O_CREAT | O_WRONLY)).toBeGreaterThanOrEqual(0);
    expect(u.open("/etc", O_CREAT | O_EXCL)).toBe(-EEXIST);
    expect(u.open("/etc", O_CREAT)).toBe(-EISDIR);
  });

  it("a file created read-only may be written through the creating open", () => {
    const { u } = boot();
    const fd = u.open("/tmp/ro", O_CREAT | O_RDWR, 0o444);
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(u.write(fd, "x")).toBe(1);
    expect(u.open("/tmp/ro", O_WRONLY)).toBe(-EACCES);
  });

  it("O_TRUNC empties the file; the old bytes do not come back in a hole", () => {
    const { u } = boot();
    expect(u.writeFile("/tmp/t", "secretsecret")).toBe(0);
    const fd = u.open("/tmp/t", O_RDWR | O_TRUNC);
    expect(u.fstat(fd).st!.size).toBe(0);
    expect(u.lseek(fd, 8, SEEK_SET)).toBe(8);
    expect(u.write(fd, "Z")).toBe(1);
    expect(u.readFile("/tmp/t")).toBe("\0\0\0\0\0\0\0\0Z");
  });

  it("O_APPEND writes at the end whatever the position", () => {
    const { u } = boot();
    u.writeFile("/tmp/a", "abc");
    const fd = u.open("/tmp/a", O_WRONLY | O_APPEND);
    expect(u.lseek(fd, 0, SEEK_SET)).toBe(0);
    expect(u.write(fd, "def")).toBe(3);
    expect(u.lseek(fd, 0, SEEK_CUR)).toBe(6);
    expect(u.readFile("/tmp/a")).toBe("abcdef");
  });

  it("O_CLOEXEC marks the descriptor close-on-exec", () => {
    const { u } = boot();
    const a = u.open("/etc/passwd", O_RDONLY | O_CLOEXEC);
    const b = u.open("/etc/passwd", O_RDONLY);
    expect(u.t.files!.isCloexec(a)).toBe(true);
    expect(u.t.files!.isCloexec(b)).toBe(false);
  });

  it("ENOENT, ENOTDIR, EISDIR and O_DIRECTORY", () => {
    const { u } = boot();
    expect(u.open("/nope", O_RDONLY)).toBe(-ENOENT);
    expect(u.open("/tmp/nodir/f", O_CREAT | O_WRONLY)).toBe(-ENOENT);
    expect(u.open("", O_RDONLY)).toBe(-ENOENT);
    expect(u.open("/etc/passwd/x", O_RDONLY)).toBe(-ENOTDIR);
    expect(u.open("/etc/passwd/", O_RDONLY)).toBe(-ENOTDIR);
    expect(u.open("/etc/passwd", O_RDONLY | O_DIRECTORY)).toBe(-ENOTDIR);
    expect(u.open("/tmp", O_RDONLY | O_DIRECTORY)).toBeGreaterThanOrEqual(0);
    expect(u.open("/tmp", O_WRONLY)).toBe(-EISDIR);
    expect(u.open("/tmp", O_RDWR)).toBe(-EISDIR);
    expect(u.open("/tmp/newdir/", O_CREAT | O_WRONLY)).toBe(-EISDIR);
    const d = u.open("/tmp", O_RDONLY);
    expect(u.read(d, 10).r).toBe(-EISDIR);
  });

  it("ENAMETOOLONG for a long component or a path without a NUL in PATH_MAX; EFAULT for a bad pointer", () => {
    const { u } = boot();
    expect(u.open(`/tmp/${"a".repeat(256)}`, O_CREAT | O_WRONLY)).toBe(-ENAMETOOLONG);
    expect(u.open(`/tmp/${"a".repeat(255)}`, O_CREAT | O_WRONLY)).toBeGreaterThanOrEqual(0);
    const long = u.bytes("/".repeat(5000));
    expect(u.sc(NR.open, long, O_RDONLY, 0)).toBe(-ENAMETOOLONG);
    expect(u.sc(NR.open, 0, O_RDONLY, 0)).toBe(-EFAULT);
    expect(u.sc(NR.open, 0xc0000000, O_RDONLY, 0)).toBe(-EFAULT);
    // A string running off the end of the mapping.
    const end = u.scratch + (1 << 20) - 3;
    u.mem.writeBytes(end, new Uint8Array([0x2f, 0x61, 0x62]));
    expect(u.sc(NR.open, end, O_RDONLY, 0)).toBe(-EFAULT);
  });

  it("EMFILE once all 1024 descriptors are taken, checked before the path", () => {
    const { u } = boot();
    let last = -1;
    for (let i = 0; i < 1024; i++) last = u.open("/etc/passwd");
    expect(last).toBe(1023);
    expect(u.open("/etc/passwd")).toBe(-EMFILE);
    expect(u.open("/nonexistent")).toBe(-EMFILE);
    expect(u.sc(NR.dup, 0)).toBe(-EMFILE);
    u.close(7);
    expect(u.open("/etc/group")).toBe(7);
  });

  it("EBADF: unopened descriptors, reading a write-only file, writing a read-only one", () => {
    const { u } = boot();
    const buf = u.alloc(16);
    expect(u.sc(NR.read, 5, buf, 1)).toBe(-EBADF);
    expect(u.sc(NR.write, -1, buf, 1)).toBe(-EBADF);
    expect(u.sc(NR.close, 99)).toBe(-EBADF);
    expect(u.sc(NR.lseek, 99, 0, SEEK_SET)).toBe(-EBADF);
    const ro = u.open("/etc/passwd", O_RDONLY);
    expect(u.write(ro, "x")).toBe(-EBADF);
    const wo = u.open("/tmp/w", O_CREAT | O_WRONLY);
    expect(u.read(wo, 1).r).toBe(-EBADF);
  });

  it("count 0 reads and writes nothing", () => {
    const { u } = boot();
    const fd = u.open("/etc/passwd");
    expect(u.sc(NR.read, fd, u.alloc(1), 0)).toBe(0);
    expect(u.lseek(fd, 0, SEEK_CUR)).toBe(0);
  });
});

describe("bad user buffers", () => {
  it("read into an unmapped buffer is EFAULT and leaves the position alone", () => {
    const { u } = boot();
    const fd = u.open("/etc/passwd");
    expect(u.sc(NR.read, fd, 0x1000, 10)).toBe(-EFAULT);
    expect(u.lseek(fd, 0, SEEK_CUR)).toBe(0);
    expect(u.read(fd, 4).text).toBe("root");
  });

  it("read into a read-only mapping is EFAULT", () => {
    const { u } = boot();
    const ro = u.sc(NR.mmap2, 0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    const fd = u.open("/etc/passwd");
    expect(u.sc(NR.read, fd, ro, 10)).toBe(-EFAULT);
    expect(u.stat("/etc/passwd").r).toBe(0);
    expect(u.sc(NR.stat64, u.cstr("/etc/passwd"), ro)).toBe(-EFAULT);
    expect(u.sc(NR.fstat64, fd, ro)).toBe(-EFAULT);
  });

  it("write from an unmapped or PROT_NONE buffer is EFAULT and writes nothing", () => {
    const { u } = boot();
    const fd = u.open("/tmp/e", O_CREAT | O_RDWR);
    expect(u.sc(NR.write, fd, 0x2000, 10)).toBe(-EFAULT);
    const none = u.sc(NR.mmap2, 0, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    expect(u.sc(NR.write, fd, none, 10)).toBe(-EFAULT);
    expect(u.fstat(fd).st!.size).toBe(0);
  });

  it("a buffer reaching past TASK_SIZE is EFAULT before anything is read", () => {
    const { u } = boot();
    const fd = u.open("/etc/passwd");
    expect(u.sc(NR.read, fd, TASK_SIZE - 4, 8)).toBe(-EFAULT);
    expect(u.sc(NR.read, fd, u.alloc(8), 0xffffffff)).toBe(-EFAULT);
    expect(u.lseek(fd, 0, SEEK_CUR)).toBe(0);
  });

  it("a write whose buffer ends in an unmapped page writes the mapped part", () => {
    const { u } = boot();
    const a = u.sc(NR.mmap2, 0, 1024 * 1024 + 4096, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    expect(u.sc(NR.munmap, a + 1024 * 1024, 4096)).toBe(0);
    const fd = u.open("/tmp/p", O_CREAT | O_RDWR);
    // 1 MiB steps: the first step is copied, the second faults.
    expect(u.sc(NR.write, fd, a, 1024 * 1024 + 10)).toBe(1024 * 1024);
    expect(u.fstat(fd).st!.size).toBe(1024 * 1024);
  });
});

describe("lseek", () => {
  it("SEEK_SET, SEEK_CUR, SEEK_END; EINVAL for a negative result or a bad whence", () => {
    const { u } = boot();
    u.writeFile("/tmp/l", "0123456789");
    const fd = u.open("/tmp/l", O_RDWR);
    expect(u.lseek(fd, 3, SEEK_SET)).toBe(3);
    expect(u.read(fd, 2).text).toBe("34");
    expect(u.lseek(fd, 2, SEEK_CUR)).toBe(7);
    expect(u.lseek(fd, -2, SEEK_END)).toBe(8);
    expect(u.read(fd, 10).text).toBe("89");
    expect(u.lseek(fd, -11, SEEK_END)).toBe(-EINVAL);
    expect(u.lseek(fd, -1, SEEK_SET)).toBe(-EINVAL);
    expect(u.lseek(fd, 0, 3)).toBe(-EINVAL);
    expect(u.lseek(fd, 0, SEEK_CUR)).toBe(10);
  });

  it("writing past the end leaves a hole of zeros", () => {
    const { u } = boot();
    const fd = u.open("/tmp/h", O_CREAT | O_RDWR);
    expect(u.lseek(fd, 5, SEEK_SET)).toBe(5);
    expect(u.write(fd, "x")).toBe(1);
    expect(u.readFile("/tmp/h")).toBe("\0\0\0\0\0x");
  });

  it("the console cannot seek (ESPIPE); /dev/null and /dev/zero always answer 0", () => {
    const { k, u } = boot();
    const con = u.t.files!.install(k.consoleFile("stdout"));
    expect(u.lseek(con, 0, SEEK_SET)).toBe(-ESPIPE);
    const n = u.open("/dev/null", O_RDWR);
    expect(u.lseek(n, 100, SEEK_SET)).toBe(0);
    const z = u.open("/dev/zero", O_RDONLY);
    expect(u.lseek(z, 100, SEEK_END)).toBe(0);
  });
});

describe("permissions between users", () => {
  it("alice cannot read bob's 0600 file; root can; bob can", () => {
    const k = bootKernel();
    const bob = userTask(k, 1001);
    const alice = userTask(k, 1000);
    const root = userTask(k, 0);
    expect(bob.writeFile("/home/bob/secret", "bob's secret", 0o600)).toBe(0);
    expect(bob.stat("/home/bob/secret").st).toMatchObject({ mode: S_IFREG | 0o600, uid: 1001 });
    expect(alice.open("/home/bob/secret", O_RDONLY)).toBe(-EACCES);
    expect(alice.open("/home/bob/secret", O_WRONLY)).toBe(-EACCES);
    expect(alice.open("/home/bob/secret", O_RDONLY | O_TRUNC)).toBe(-EACCES);
    expect(alice.stat("/home/bob/secret").r).toBe(0); // stat needs only search permission
    expect(root.readFile("/home/bob/secret")).toBe("bob's secret");
    expect(bob.readFile("/home/bob/secret")).toBe("bob's secret");
  });

  it("a 0644 file is readable by others but not writable", () => {
    const k = bootKernel();
    const bob = userTask(k, 1001);
    const alice = userTask(k, 1000);
    bob.writeFile("/home/bob/pub", "public");
    expect(alice.readFile("/home/bob/pub")).toBe("public");
    expect(alice.open("/home/bob/pub", O_RDWR)).toBe(-EACCES);
    expect(alice.open("/etc/passwd", O_WRONLY)).toBe(-EACCES);
  });

  it("creating needs write permission on the directory", () => {
    const k = bootKernel();
    const alice = userTask(k, 1000);
    expect(alice.open("/home/bob/intrude", O_CREAT | O_WRONLY)).toBe(-EACCES);
    expect(alice.open("/etc/evil", O_CREAT | O_WRONLY)).toBe(-EACCES);
    expect(alice.sc(NR.mkdir, alice.cstr("/home/bob/d"), 0o755)).toBe(-EACCES);
    expect(alice.open("/home/alice/mine", O_CREAT | O_WRONLY)).toBeGreaterThanOrEqual(0);
  });

  it("a directory without search permission hides what is in it", () => {
    const k = bootKernel();
    const bob = userTask(k, 1001);
    const alice = userTask(k, 1000);
    expect(bob.sc(NR.mkdir, bob.cstr("/tmp/closed"), 0o700)).toBe(0);
    bob.writeFile("/tmp/closed/f", "x", 0o666);
    expect(alice.open("/tmp/closed/f", O_RDONLY)).toBe(-EACCES);
    expect(alice.stat("/tmp/closed/f").r).toBe(-EACCES);
    expect(alice.list("/tmp/closed")).toBe(-EACCES);
  });

  it("sticky /tmp: only the owner (or root) may remove a file", () => {
    const k = bootKernel();
    const bob = userTask(k, 1001);
    const alice = userTask(k, 1000);
    const root = userTask(k, 0);
    alice.writeFile("/tmp/alices", "a", 0o666);
    expect(bob.sc(NR.unlink, bob.cstr("/tmp/alices"))).toBe(-EPERM);
    expect(root.sc(NR.unlink, root.cstr("/tmp/alices"))).toBe(0);
    alice.writeFile("/tmp/alices2", "a", 0o666);
    expect(alice.sc(NR.unlink, alice.cstr("/tmp/alices2"))).toBe(0);
  });

  it("removing from a directory without write permission is EACCES, even if not empty", () => {
    const k = bootKernel();
    const bob = userTask(k, 1001);
    const alice = userTask(k, 1000);
    bob.sc(NR.mkdir, bob.cstr("/home/bob/d"), 0o777);
    bob.writeFile("/home/bob/d/f", "x");
    expect(alice.sc(NR.rmdir, alice.cstr("/home/bob/d"))).toBe(-EACCES);
    expect(alice.sc(NR.unlink, alice.cstr("/home/bob/d/nothere"))).toBe(-ENOENT);
    expect(alice.sc(NR.unlink, alice.cstr("/home/bob/d/f"))).toBe(-EACCES); // mkdir's 0777 became 0755 (umask 022)
  });
});

describe("directories: mkdir, rmdir, unlink, getdents64", () => {
  it("lists a directory with types, inode numbers and 8-byte aligned records", () => {
    const { u } = boot();
    expect(u.sc(NR.mkdir, u.cstr("/tmp/d"), 0o777)).toBe(0);
    expect(u.stat("/tmp/d").st).toMatchObject({ mode: S_IFDIR | 0o755, nlink: 2, uid: 1000 });
    u.writeFile("/tmp/d/a", "1");
    u.writeFile("/tmp/d/bb", "22");
    expect(u.sc(NR.mkdir, u.cstr("/tmp/d/sub"), 0o755)).toBe(0);
    expect(u.stat("/tmp/d").st!.nlink).toBe(3);
    const fd = u.open("/tmp/d", O_RDONLY | O_DIRECTORY);
    const { r, entries } = u.getdents(fd);
    expect(r).toBeGreaterThan(0);
    expect(entries.map((e) => [e.name, e.type])).toEqual([
      [".", DT_DIR], ["..", DT_DIR], ["a", DT_REG], ["bb", DT_REG], ["sub", DT_DIR],
    ]);
    for (const e of entries) {
      expect(e.reclen % 8).toBe(0);
      expect(e.reclen).toBe((19 + e.name.length + 1 + 7) & ~7);
    }
    expect(entries.map((e) => e.off)).toEqual([1, 2, 3, 4, 5]);
    expect(entries[2].ino).toBe(u.stat("/tmp/d/a").st!.ino);
    expect(entries[1].ino).toBe(u.stat("/tmp").st!.ino);
    expect(r).toBe(entries.reduce((n, e) => n + e.reclen, 0));
    expect(u.getdents(fd).r).toBe(0);
    // Rewind and read again, one small buffer at a time.
    expect(u.lseek(fd, 0, SEEK_SET)).toBe(0);
    expect(u.getdents(fd, 24).entries.map((e) => e.name)).toEqual(["."]);
    expect(u.getdents(fd, 24).entries.map((e) => e.name)).toEqual([".."]);
    expect(u.lseek(fd, 0, SEEK_END)).toBe(-EINVAL);
  });

  it("getdents64: EINVAL if one record does not fit, ENOTDIR on a file, EFAULT on a bad buffer", () => {
    const { u } = boot();
    const fd = u.open("/etc", O_RDONLY);
    expect(u.getdents(fd, 16).r).toBe(-EINVAL);
    expect(u.sc(NR.getdents64, fd, 0x1000, 4096)).toBe(-EFAULT);
    const f = u.open("/etc/passwd", O_RDONLY);
    expect(u.getdents(f).r).toBe(-ENOTDIR);
    expect(u.getdents(77).r).toBe(-EBADF);
  });

  it("lists /dev with character devices and / with its directories", () => {
    const { u } = boot();
    const fd = u.open("/dev", O_RDONLY);
    const types = Object.fromEntries(u.getdents(fd).entries.map((e) => [e.name, e.type]));
    expect(types).toMatchObject({ null: DT_CHR, zero: DT_CHR, console: DT_CHR });
    expect(u.list("/")).toEqual([".", "..", "bin", "etc", "tmp", "home", "root", "proc", "dev"]);
  });

  it("rmdir: ENOTEMPTY, ENOTDIR, EINVAL for '.', EBUSY for / and /proc; then removes", () => {
    const { u } = boot();
    const root = userTask(u.k, 0);
    u.sc(NR.mkdir, u.cstr("/tmp/r"), 0o755);
    u.writeFile("/tmp/r/f", "x");
    expect(u.sc(NR.rmdir, u.cstr("/tmp/r"))).toBe(-ENOTEMPTY);
    expect(u.sc(NR.rmdir, u.cstr("/tmp/r/f"))).toBe(-ENOTDIR);
    expect(u.sc(NR.rmdir, u.cstr("/tmp/r/."))).toBe(-EINVAL);
    expect(u.sc(NR.rmdir, u.cstr("/tmp/r/.."))).toBe(-ENOTEMPTY);
    expect(u.sc(NR.rmdir, u.cstr("/tmp/nothing"))).toBe(-ENOENT);
    expect(root.sc(NR.rmdir, root.cstr("/"))).toBe(-EBUSY);
    expect(root.sc(NR.rmdir, root.cstr("/proc"))).toBe(-EBUSY);
    expect(u.sc(NR.unlink, u.cstr("/tmp/r/f"))).toBe(0);
    expect(u.sc(NR.rmdir, u.cstr("/tmp/r/"))).toBe(0);
    expect(u.stat("/tmp/r").r).toBe(-ENOENT);
  });

  it("unlink: EISDIR for a directory, ENOTDIR for a file with a trailing slash, ENOENT when gone", () => {
    const { u } = boot();
    u.writeFile("/tmp/u", "x");
    u.sc(NR.mkdir, u.cstr("/tmp/dd"), 0o755);
    expect(u.sc(NR.unlink, u.cstr("/tmp/dd"))).toBe(-EISDIR);
    expect(u.sc(NR.unlink, u.cstr("/tmp"))).toBe(-EACCES); // may_delete checks "/" first
    expect(u.sc(NR.rmdir, u.cstr("/tmp/dd"))).toBe(0);
    expect(u.sc(NR.unlink, u.cstr("/tmp/u/"))).toBe(-ENOTDIR);
    expect(u.sc(NR.unlink, u.cstr("/tmp/u"))).toBe(0);
    expect(u.sc(NR.unlink, u.cstr("/tmp/u"))).toBe(-ENOENT);
    expect(u.list("/tmp")).toEqual([".", ".."]);
  });

  it("an unlinked file stays readable through a descriptor already open", () => {
    const { u } = boot();
    u.writeFile("/tmp/gone", "still here");
    const fd = u.open("/tmp/gone", O_RDONLY);
    expect(u.sc(NR.unlink, u.cstr("/tmp/gone"))).toBe(0);
    expect(u.read(fd, 100).text).toBe("still here");
    expect(u.fstat(fd).st!.nlink).toBe(0);
  });

  it("mkdir: EEXIST for an existing name (before any permission check), ENOENT for a missing parent", () => {
    const { u } = boot();
    expect(u.sc(NR.mkdir, u.cstr("/etc"), 0o755)).toBe(-EEXIST);
    expect(u.sc(NR.mkdir, u.cstr("/etc/passwd"), 0o755)).toBe(-EEXIST);
    expect(u.sc(NR.mkdir, u.cstr("/"), 0o755)).toBe(-EEXIST);
    expect(u.sc(NR.mkdir, u.cstr("/tmp/a/b"), 0o755)).toBe(-ENOENT);
    expect(u.sc(NR.mkdir, u.cstr("/etc/passwd/x"), 0o755)).toBe(-ENOTDIR);
    expect(u.sc(NR.mkdir, u.cstr("/etc/new"), 0o755)).toBe(-EACCES);
    expect(u.sc(NR.mkdir, u.cstr("/tmp/sticky"), 0o1777)).toBe(0);
    expect(u.stat("/tmp/sticky").st!.mode).toBe(S_IFDIR | 0o1755);
  });
});

describe("chdir and getcwd", () => {
  it("changes the directory relative paths start from", () => {
    const { u } = boot();
    const buf = u.alloc(256);
    expect(u.sc(NR.getcwd, buf, 256)).toBe(2);
    expect(u.mem.readCString(buf)).toBe("/");
    expect(u.sc(NR.chdir, u.cstr("/home/alice"))).toBe(0);
    expect(u.sc(NR.getcwd, buf, 256)).toBe(12);
    expect(u.mem.readCString(buf)).toBe("/home/alice");
    expect(u.writeFile("notes", "n")).toBe(0);
    expect(u.readFile("/home/alice/notes")).toBe("n");
    expect(u.sc(NR.chdir, u.cstr("../bob/./..//alice/.."))).toBe(0);
    expect(u.sc(NR.getcwd, buf, 256)).toBe(6);
    expect(u.mem.readCString(buf)).toBe("/home");
    expect(u.readFile("alice/notes")).toBe("n");
  });

  it("ENOTDIR, ENOENT, EACCES; getcwd ERANGE and EFAULT", () => {
    const { u } = boot();
    expect(u.sc(NR.chdir, u.cstr("/etc/passwd"))).toBe(-ENOTDIR);
    expect(u.sc(NR.chdir, u.cstr("/nope"))).toBe(-ENOENT);
    expect(u.sc(NR.chdir, u.cstr("/root"))).toBe(-EACCES);
    u.sc(NR.chdir, u.cstr("/home/alice"));
    expect(u.sc(NR.getcwd, u.alloc(16), 11)).toBe(-ERANGE);
    expect(u.sc(NR.getcwd, u.alloc(16), 12)).toBe(12);
    expect(u.sc(NR.getcwd, 0x1000, 100)).toBe(-EFAULT);
  });

  it("getcwd of a removed directory is ENOENT", () => {
    const { u } = boot();
    u.sc(NR.mkdir, u.cstr("/tmp/cwd"), 0o755);
    u.sc(NR.chdir, u.cstr("/tmp/cwd"));
    expect(u.sc(NR.rmdir, u.cstr("/tmp/cwd"))).toBe(0);
    expect(u.sc(NR.getcwd, u.alloc(64), 64)).toBe(-ENOENT);
  });
});

describe("dup and dup2", () => {
  it("dup2 makes a second descriptor sharing the file and its offset", () => {
    const { u } = boot();
    const fd = u.open("/tmp/d2", O_CREAT | O_RDWR);
    expect(u.sc(NR.dup2, fd, 5)).toBe(5);
    expect(u.write(5, "abc")).toBe(3);
    expect(u.lseek(fd, 0, SEEK_CUR)).toBe(3);
    expect(u.write(fd, "def")).toBe(3);
    expect(u.close(fd)).toBe(0);
    expect(u.lseek(5, 0, SEEK_SET)).toBe(0);
    expect(u.read(5, 10).text).toBe("abcdef");
  });

  it("dup2 onto an open descriptor closes it first; dup2(fd, fd) returns fd", () => {
    const { u } = boot();
    const a = u.open("/etc/passwd");
    const b = u.open("/etc/group");
    expect(u.sc(NR.dup2, a, b)).toBe(b);
    expect(u.read(b, 4).text).toBe("root");
    expect(u.sc(NR.dup2, a, a)).toBe(a);
    expect(u.sc(NR.dup2, 40, a)).toBe(-EBADF);
    expect(u.sc(NR.dup2, 40, 40)).toBe(-EBADF);
    expect(u.sc(NR.dup2, a, 1024)).toBe(-EBADF);
    expect(u.sc(NR.dup2, a, -1)).toBe(-EBADF);
  });

  it("dup takes the lowest free descriptor and clears close-on-exec", () => {
    const { u } = boot();
    const a = u.open("/etc/passwd", O_RDONLY | O_CLOEXEC);
    u.open("/etc/passwd");
    u.open("/etc/passwd");
    u.close(1);
    expect(u.sc(NR.dup, a)).toBe(1);
    expect(u.t.files!.isCloexec(1)).toBe(false);
    expect(u.sc(NR.dup, 99)).toBe(-EBADF);
  });
});

describe("stat64", () => {
  it("fills the i386 struct stat64 (96 bytes) and nothing past it", () => {
    const { u } = boot();
    const buf = u.alloc(128);
    u.mem.writeBytes(buf, new Uint8Array(128).fill(0xee));
    expect(u.sc(NR.stat64, u.cstr("/etc/passwd"), buf)).toBe(0);
    expect([...u.mem.readBytes(buf + 96, 32)].every((b) => b === 0xee)).toBe(true);
    const st = u.decodeStat(buf);
    const size = (u.readFile("/etc/passwd") as string).length;
    expect(st).toMatchObject({
      dev: ROOT_DEV, mode: S_IFREG | 0o644, nlink: 1, uid: 0, gid: 0, rdev: 0, size, blksize: 4096, blocks: 8,
    });
    expect(st.ino).toBeGreaterThan(0);
    expect(st.ino64).toBe(st.ino);
    expect(st.mtime).toBeGreaterThanOrEqual(1182988800);
    expect(st.atime).toBe(st.mtime);
    // The padding words stay zero.
    expect(u.mem.readBytes(buf + 8, 4)).toEqual(new Uint8Array(4));
    expect(u.mem.readBytes(buf + 40, 4)).toEqual(new Uint8Array(4));
  });

  it("devices carry their Linux device numbers", () => {
    const { u } = boot();
    expect(u.stat("/dev/null").st).toMatchObject({ mode: S_IFCHR | 0o666, rdev: mkdev(1, 3), size: 0, blocks: 0 });
    expect(u.stat("/dev/zero").st).toMatchObject({ mode: S_IFCHR | 0o666, rdev: mkdev(1, 5) });
    expect(u.stat("/dev/console").st).toMatchObject({ mode: S_IFCHR | 0o600, rdev: mkdev(5, 1) });
    expect(mkdev(1, 3)).toBe(0x103);
  });

  it("lstat64 sees a symlink, stat64 its target; fstat64 an open file and the console", () => {
    const { k, u } = boot();
    k.vfs.symlink("/tmp/link", "/etc/passwd");
    const l = u.stat("/tmp/link", NR.lstat64).st!;
    expect(l.mode).toBe(S_IFLNK | 0o777);
    expect(l.size).toBe("/etc/passwd".length);
    expect(u.stat("/tmp/link").st!.ino).toBe(u.stat("/etc/passwd").st!.ino);
    expect(u.stat("/proc/self", NR.lstat64).st!.mode).toBe(S_IFLNK | 0o777);
    const fd = u.open("/tmp/f", O_CREAT | O_WRONLY);
    u.write(fd, "12345");
    expect(u.fstat(fd).st).toMatchObject({ size: 5, uid: 1000, mode: S_IFREG | 0o644 });
    const con = u.t.files!.install(k.consoleFile("stdout"));
    expect(u.fstat(con).st!.mode & 0o170000).toBe(S_IFCHR);
    expect(u.fstat(99).r).toBe(-EBADF);
  });

  it("directories report 4096 bytes; a large file its 512-byte blocks", () => {
    const { u } = boot();
    expect(u.stat("/tmp").st).toMatchObject({ size: 4096, blocks: 8 });
    u.writeFile("/tmp/big", "x".repeat(10000));
    expect(u.stat("/tmp/big").st).toMatchObject({ size: 10000, blocks: 24 });
    expect(u.stat("/nope").r).toBe(-ENOENT);
    expect(u.sc(NR.stat64, 0, u.alloc(96))).toBe(-EFAULT);
  });
});

describe("devices", () => {
  it("/dev/null swallows writes and reads end-of-file", () => {
    const { u } = boot();
    const fd = u.open("/dev/null", O_RDWR);
    expect(u.write(fd, "discard me")).toBe(10);
    expect(u.read(fd, 10)).toEqual({ r: 0, text: "" });
  });

  it("/dev/zero fills the whole buffer with zeros", () => {
    const { u } = boot();
    const fd = u.open("/dev/zero", O_RDONLY);
    const buf = u.bytes(new Uint8Array(3000).fill(0xff));
    expect(u.sc(NR.read, fd, buf, 3000)).toBe(3000);
    expect([...u.mem.readBytes(buf, 3000)].every((b) => b === 0)).toBe(true);
  });

  it("/dev/console writes reach the console; only root may open it", () => {
    const { k, u } = boot();
    expect(u.open("/dev/console", O_WRONLY)).toBe(-EACCES);
    const root = userTask(k, 0);
    const fd = root.open("/dev/console", O_WRONLY);
    expect(root.write(fd, "to the console\n")).toBe(15);
    expect((k.console as CapturedConsole).text("stdout")).toContain("to the console\n");
  });

  it("devices and directories cannot be mapped (ENODEV)", () => {
    const { u } = boot();
    for (const path of ["/dev/zero", "/dev/null", "/tmp"]) {
      const fd = u.open(path, O_RDONLY);
      expect(u.sc(NR.mmap2, 0, 4096, PROT_READ, MAP_PRIVATE, fd, 0), path).toBe(-ENODEV);
    }
    const fd = u.open("/proc/meminfo", O_RDONLY);
    expect(u.sc(NR.mmap2, 0, 4096, PROT_READ, MAP_PRIVATE, fd, 0)).toBe(-ENODEV);
  });
});

describe("mmap of a file", () => {
  it("MAP_PRIVATE reads the file's bytes; a private write stays private", () => {
    const { u } = boot();
    u.writeFile("/tmp/m", "file contents");
    const fd = u.open("/tmp/m", O_RDONLY);
    const a = u.sc(NR.mmap2, 0, 8192, RW, MAP_PRIVATE, fd, 0);
    expect(a).toBeGreaterThan(0);
    expect(u.mem.readCString(a)).toBe("file contents");
    expect(u.mem.read8(a + 4096 - 1)).toBe(0); // the rest of the page reads as zeros
    u.mem.writeBytes(a, Buffer.from("FILE"));
    expect(u.mem.readCString(a)).toBe("FILE contents");
    expect(u.sc(NR.munmap, a, 8192)).toBe(0);
    expect(u.readFile("/tmp/m")).toBe("file contents");
  });

  it("MAP_SHARED writes reach the file: read() sees them after munmap (and while mapped)", () => {
    const { u } = boot();
    u.writeFile("/tmp/s", "aaaaaaaaaa");
    const fd = u.open("/tmp/s", O_RDWR);
    const a = u.sc(NR.mmap2, 0, 4096, RW, MAP_SHARED, fd, 0);
    expect(a).toBeGreaterThan(0);
    u.mem.writeCString(a + 2, "XYZ");
    expect(u.readFile("/tmp/s")).toBe("aaXYZ\0aaaa");
    expect(u.sc(NR.munmap, a, 4096)).toBe(0);
    expect(u.readFile("/tmp/s")).toBe("aaXYZ\0aaaa");
  });

  it("write() to a mapped file shows through the mapping", () => {
    const { u } = boot();
    u.writeFile("/tmp/w", "0123456789");
    const fd = u.open("/tmp/w", O_RDWR);
    const a = u.sc(NR.mmap2, 0, 4096, PROT_READ, MAP_SHARED, fd, 0);
    expect(u.mem.read8(a)).toBe(0x30);
    u.lseek(fd, 0, SEEK_SET);
    u.write(fd, "AB");
    expect(u.mem.read8(a)).toBe(0x41);
    expect(u.sc(NR.munmap, a, 4096)).toBe(0);
    expect(u.readFile("/tmp/w")).toBe("AB23456789");
  });

  it("a shared writable mapping needs a descriptor open for writing, also through mprotect", () => {
    const k = bootKernel();
    const bob = userTask(k, 1001);
    const alice = userTask(k, 1000);
    bob.writeFile("/home/bob/pub", "bob's data");
    const fd = alice.open("/home/bob/pub", O_RDONLY);
    expect(alice.sc(NR.mmap2, 0, 4096, RW, MAP_SHARED, fd, 0)).toBe(-EACCES);
    const a = alice.sc(NR.mmap2, 0, 4096, PROT_READ, MAP_SHARED, fd, 0);
    expect(a).toBeGreaterThan(0);
    expect(alice.sc(NR.mprotect, a, 4096, RW)).toBe(-EACCES);
    expect(alice.readFile("/proc/self/maps")).toMatch(/ r--s 00000000 08:01 \d+ +\/home\/bob\/pub\n/);
    // A private writable copy is allowed and leaves the file alone.
    const p = alice.sc(NR.mmap2, 0, 4096, RW, MAP_PRIVATE, fd, 0);
    alice.mem.writeCString(p, "ALICE");
    alice.sc(NR.munmap, p, 4096);
    alice.sc(NR.munmap, a, 4096);
    expect(bob.readFile("/home/bob/pub")).toBe("bob's data");
    const wo = alice.open("/tmp/wo", O_CREAT | O_WRONLY);
    expect(alice.sc(NR.mmap2, 0, 4096, PROT_READ, MAP_PRIVATE, wo, 0)).toBe(-EACCES);
    expect(alice.sc(NR.mmap2, 0, 4096, PROT_READ, MAP_PRIVATE, 55, 0)).toBe(-EBADF);
  });

  it("MAP_NOZERO on a file mapping is EINVAL, private or shared", () => {
    const { u } = boot();
    u.writeFile("/tmp/nz", "x");
    const fd = u.open("/tmp/nz", O_RDWR);
    expect(u.sc(NR.mmap2, 0, 4096, RW, MAP_PRIVATE | MAP_NOZERO, fd, 0)).toBe(-EINVAL);
    expect(u.sc(NR.mmap2, 0, 4096, RW, MAP_SHARED | MAP_NOZERO, fd, 0)).toBe(-EINVAL);
    expect(u.sc(NR.mmap2, 0, 4096, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NOZERO, -1, 0)).toBeGreaterThan(0);
  });

  it("pages past the end of the file are SIGBUS territory, not another file's bytes", () => {
    const { u } = boot();
    u.writeFile("/tmp/short", "s");
    const fd = u.open("/tmp/short", O_RDONLY);
    const a = u.sc(NR.mmap2, 0, 8192, PROT_READ, MAP_PRIVATE, fd, 0);
    expect(u.mem.copyFromUser(a + 4096, 1)).toBeNull();
  });
});
