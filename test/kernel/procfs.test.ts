// procfs (kernel/procfs.ts) against real Linux output. The samples below are
// copied from real systems:
//  - i386 /proc/PID/maps lines: the "Memory map" glibc printed on a 32-bit
//    Debian (Linux 2.6.32) when a program aborted, and the example in the
//    kernel's Documentation/filesystems/proc.rst;
//  - smaps, status and meminfo lines: this host's /proc (Linux 6.18, x86-64;
//    the labels, their order and the column widths are the same on i386).

import { describe, expect, it } from "vitest";
import { EACCES, EINVAL, ENOENT } from "../../kernel/errno.ts";
import { doExecve, programFile } from "../../kernel/exec.ts";
import { O_CREAT, O_DIRECTORY, O_RDONLY, O_RDWR, O_WRONLY } from "../../kernel/file.ts";
import {
  BRK_NOZERO, MAP_ANONYMOUS, MAP_FIXED, MAP_NOZERO, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE,
} from "../../kernel/mman.ts";
import type { Mm } from "../../kernel/mm.ts";
import { PROC_DEV, mapsLine, vmFlagsString } from "../../kernel/procfs.ts";
import { DT_DIR, DT_LNK, DT_REG } from "../../kernel/sys_file.ts";
import { NR } from "../../kernel/syscall.ts";
import { S_IFDIR, S_IFREG } from "../../kernel/vfs/inode.ts";
import {
  type MemObject, VM_ACCOUNT, VM_EXEC, VM_GROWSDOWN, VM_MAYEXEC, VM_MAYREAD, VM_MAYWRITE, VM_NOZERO, VM_READ, VM_WRITE,
  Vma,
} from "../../kernel/vma.ts";
import { TEST_BRK, bootKernel } from "../helpers/boot.ts";
import { User, userTask } from "../helpers/files.ts";

const RW = PROT_READ | PROT_WRITE;
const PRIV = MAP_PRIVATE | MAP_ANONYMOUS;

// ---- real Linux samples ----------------------------------------------------------------

/** i386 maps lines (2.6.32): note the trailing space of unnamed lines. */
const LINUX_I386_MAPS = [
  "08048000-08049000 r-xp 00000000 00:10 149680     /home/user/mine",
  "0804a000-0806b000 rw-p 00000000 00:00 0          [heap]",
  "b7d00000-b7d21000 rw-p 00000000 00:00 0 ",
  "b7e97000-b7fd5000 r-xp 00000000 00:10 759        /lib/libc-2.11.2.so",
  "b7fd6000-b7fd8000 r--p 0013e000 00:10 759        /lib/libc-2.11.2.so",
  "bffeb000-c0000000 rw-p 00000000 00:00 0          [stack]",
];
/** The example of the task. */
const PROG_LINE = "08048000-08049000 r-xp 00000000 08:01 1234       /bin/prog";

/** One smaps block of the [heap] of `cat` on this host (Linux 6.18). */
const LINUX_SMAPS_BLOCK = `562d6a07d000-562d6a0bf000 rw-p 00000000 00:00 0                          [heap]
Size:                264 kB
KernelPageSize:        4 kB
MMUPageSize:           4 kB
Rss:                  44 kB
Pss:                  44 kB
Pss_Dirty:            44 kB
Shared_Clean:          0 kB
Shared_Dirty:          0 kB
Private_Clean:         0 kB
Private_Dirty:        44 kB
Referenced:           44 kB
Anonymous:            44 kB
KSM:                   0 kB
LazyFree:              0 kB
AnonHugePages:         0 kB
ShmemPmdMapped:        0 kB
FilePmdMapped:         0 kB
Shared_Hugetlb:        0 kB
Private_Hugetlb:       0 kB
Swap:                  0 kB
SwapPss:               0 kB
Locked:                0 kB
THPeligible:           0
VmFlags: rd wr mr mw me ac 
`;

/** /proc/self/status memory lines of `cat` on this host. */
const LINUX_STATUS_LINES = [
  "VmPeak:\t    3708 kB",
  "VmSize:\t    3708 kB",
  "VmRSS:\t    1760 kB",
  "RssAnon:\t     120 kB",
  "VmPTE:\t      48 kB",
];

/** /proc/meminfo lines of this host, and the sample of a 256 MiB machine. */
const LINUX_MEMINFO_LINES = [
  "MemTotal:       24684092 kB",
  "MemFree:        24074772 kB",
  "Buffers:            1496 kB",
  "AnonPages:        220296 kB",
  "Committed_AS:     369620 kB",
  "HugePages_Total:       0",
  "Hugepagesize:       2048 kB",
  "MemTotal:         262144 kB",
];

/** Split a line into its label and value the way the kernel printed it: label padded to 16, value right-aligned in 8. */
function columns(line: string): { label: string; valueEnd: number; kb: boolean } {
  const m = /^([^:]+:) *(\d+)( kB)?$/.exec(line);
  if (m === null) throw new Error(`not a meminfo-style line: ${JSON.stringify(line)}`);
  return { label: m[1], valueEnd: line.length - (m[3] ? 3 : 0), kb: m[3] !== undefined };
}

function fakeObj(name: string, dev: string, inode: number): MemObject {
  return { name, dev, inode, getPage: () => -2, get() {}, put() {} };
}

const fakeMm = (startBrk: number, brk: number) => ({ startBrk, brk }) as unknown as Mm;

function smapsBlocks(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let cur: string[] = [];
  for (const line of text.split("\n")) {
    if (/^[0-9a-f]{8}-[0-9a-f]{8} /.test(line)) {
      cur = [line];
      out.set(line.slice(0, 17), cur);
    } else if (line !== "") cur.push(line);
  }
  return out;
}

function field(block: string[], label: string): number {
  const l = block.find((x) => x.startsWith(`${label}:`));
  if (l === undefined) throw new Error(`no ${label}`);
  return Number(/(\d+)/.exec(l.slice(label.length + 1))![1]);
}

function hex8(v: number): string {
  return v.toString(16).padStart(8, "0");
}

function pidOf(u: User): number {
  return u.t.pid;
}

// ---- maps ------------------------------------------------------------------------------------

describe("/proc/PID/maps", () => {
  it("formats lines exactly as i386 Linux does", () => {
    const rx = VM_READ | VM_EXEC | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
    const rw = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
    const mm = fakeMm(0x0804a000, 0x0806b000);
    const mine = fakeObj("/home/user/mine", "00:10", 149680);
    const libc = fakeObj("/lib/libc-2.11.2.so", "00:10", 759);
    const ours = [
      mapsLine(mm, new Vma(0x08048000, 0x08049000, rx, 0, mine)),
      mapsLine(mm, new Vma(0x0804a000, 0x0806b000, rw, 0x0804a, null)),
      mapsLine(mm, new Vma(0xb7d00000, 0xb7d21000, rw, 0xb7d00, null)),
      mapsLine(mm, new Vma(0xb7e97000, 0xb7fd5000, rx, 0, libc)),
      mapsLine(mm, new Vma(0xb7fd6000, 0xb7fd8000, VM_READ | VM_MAYREAD, 0x13e, libc)),
      mapsLine(mm, new Vma(0xbffeb000, 0xc0000000, rw | VM_GROWSDOWN, 0xbffeb, null)),
    ];
    expect(ours).toEqual(LINUX_I386_MAPS);
    expect(mapsLine(mm, new Vma(0x08048000, 0x08049000, rx, 0, fakeObj("/bin/prog", "08:01", 1234)))).toBe(PROG_LINE);
  });

  it("shows an exec'd program: its file, data, [heap], anonymous maps and [stack]", () => {
    const k = bootKernel();
    k.programs.set("prog", { entry: () => 0 });
    k.vfs.writeFile("/bin/prog", programFile("prog"), 0o755);
    const boot = userTask(k, 1000);
    expect(doExecve(k, boot.t, "/bin/prog", ["prog", "-v", "two words"], ["HOME=/home/alice"])).toBe(0);
    const u = new User(k, boot.t); // a new address space: new scratch memory
    const brk0 = u.sc(NR.brk, 0);
    expect(u.sc(NR.brk, brk0 + 10000)).toBe(brk0 + 10000);
    const ino = u.stat("/bin/prog").st!.ino;
    const lines = (u.readFile("/proc/self/maps") as string).split("\n");
    expect(lines.pop()).toBe("");
    expect(lines[0]).toBe(`08048000-08058000 r-xp 00000000 08:01 ${ino}`.padEnd(48) + " /bin/prog");
    expect(lines[1]).toBe("08058000-0805c000 rw-p 00000000 00:00 0 ");
    expect(lines[2]).toBe(`0805c000-${hex8(0x0805c000 + 12288)} rw-p 00000000 00:00 0          [heap]`);
    expect(lines[lines.length - 1]).toBe("bffe0000-c0000000 rw-p 00000000 00:00 0          [stack]");
    expect(lines).toContain(`${hex8(u.scratch)}-${hex8(u.scratch + (1 << 20))} rw-p 00000000 00:00 0 `);
    for (const l of lines) {
      expect(l).toMatch(/^[0-9a-f]{8}-[0-9a-f]{8} [r-][w-][x-][sp] [0-9a-f]{8} [0-9a-f]{2}:[0-9a-f]{2} \d+ ( {0,40}\S.*)?$/);
      if (!l.endsWith(" ")) expect(l[48]).toBe(" ");
    }
    expect(u.readFile("/proc/self/cmdline")).toBe("prog\0-v\0two words\0");
    expect(u.readFile("/proc/self/comm")).toBe("prog\n");
    const status = u.readFile("/proc/self/status") as string;
    expect(status).toContain("Name:\tprog\n");
    expect(status).toMatch(/\nVmExe:\t {6}64 kB\n/);
    expect(status).toMatch(/\nVmStk:\t {5}128 kB\n/);
  });

  it("a shared anonymous mapping is /dev/zero (deleted); a file mapping shows its offset", () => {
    const k = bootKernel();
    const u = userTask(k, 1000);
    const sh = u.sc(NR.mmap2, 0, 8192, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    u.writeFile("/tmp/data", "x".repeat(3 * 4096));
    const fd = u.open("/tmp/data", O_RDONLY);
    const fm = u.sc(NR.mmap2, 0, 4096, PROT_READ, MAP_PRIVATE, fd, 2);
    const maps = u.readFile("/proc/self/maps") as string;
    expect(maps).toMatch(new RegExp(`^${hex8(sh)}-${hex8(sh + 8192)} rw-s 00000000 00:01 \\d+ +/dev/zero \\(deleted\\)$`, "m"));
    const ino = u.stat("/tmp/data").st!.ino;
    expect(maps).toContain(`${`${hex8(fm)}-${hex8(fm + 4096)} r--p 00002000 08:01 ${ino}`.padEnd(48)} /tmp/data\n`);
  });

  it("is a snapshot taken at open", () => {
    const k = bootKernel();
    const u = userTask(k, 1000);
    const fd = u.open("/proc/self/maps", O_RDONLY);
    const a = u.sc(NR.mmap2, 0, 4096, RW, PRIV, -1, 0);
    const { text } = u.read(fd, 65536);
    expect(text).not.toContain(hex8(a));
    expect(u.readFile("/proc/self/maps")).toContain(`${hex8(a)}-`);
  });

  it("another user's maps and smaps need ptrace access (EACCES); status does not; root may read all", () => {
    const k = bootKernel();
    const bob = userTask(k, 1001, "bobprog");
    k.tasks.set(bob.t.pid, bob.t);
    const alice = userTask(k, 1000);
    const root = userTask(k, 0);
    const p = pidOf(bob);
    expect(alice.open(`/proc/${p}/maps`, O_RDONLY)).toBe(-EACCES);
    expect(alice.open(`/proc/${p}/smaps`, O_RDONLY)).toBe(-EACCES);
    expect(alice.readFile(`/proc/${p}/status`)).toContain("Name:\tbobprog\n");
    expect(root.readFile(`/proc/${p}/maps`)).toContain(hex8(bob.scratch));
    expect(bob.readFile(`/proc/${p}/maps`)).toContain(hex8(bob.scratch));
    expect(alice.stat(`/proc/${p}`).st).toMatchObject({ mode: S_IFDIR | 0o555, uid: 1001, gid: 1001 });
    // A task that is not dumpable (it changed credentials) belongs to root in /proc.
    bob.t.dumpable = false;
    expect(alice.stat(`/proc/${p}`).st!.uid).toBe(0);
    expect(bob.open(`/proc/${p}/maps`, O_RDONLY)).toBeGreaterThanOrEqual(0);
    expect(alice.open(`/proc/${p}/maps`, O_RDONLY)).toBe(-EACCES);
  });
});

// ---- smaps ------------------------------------------------------------------------------------

describe("/proc/PID/smaps", () => {
  it("prints Linux's fields, in Linux's order and columns", () => {
    const k = bootKernel();
    const u = userTask(k, 1000);
    // MAP_FIXED away from the scratch area, so the VMAs do not merge.
    const a = u.sc(NR.mmap2, 0x40000000, 264 * 1024, RW, PRIV | MAP_FIXED, -1, 0);
    for (let i = 0; i < 11; i++) u.mem.write8(a + i * 4096, 1);
    const block = smapsBlocks(u.readFile("/proc/self/smaps") as string).get(`${hex8(a)}-${hex8(a + 264 * 1024)}`)!;
    const linux = LINUX_SMAPS_BLOCK.split("\n").filter((l) => l !== "");
    expect(block.length).toBe(linux.length);
    // Same labels, same value column, and for this mapping the same numbers as Linux's heap.
    expect(block.slice(1)).toEqual(linux.slice(1));
    for (let i = 1; i < linux.length - 1; i++) {
      const ours = columns(block[i]);
      const theirs = columns(linux[i]);
      expect(ours).toEqual(theirs);
      expect(ours.valueEnd).toBe(24);
    }
  });

  it("VmFlags has nz exactly for MAP_NOZERO mappings and a brk2(BRK_NOZERO) heap", () => {
    const k = bootKernel();
    const u = userTask(k, 1000);
    const plain = u.sc(NR.mmap2, 0x40000000, 8192, RW, PRIV | MAP_FIXED, -1, 0);
    const nz = u.sc(NR.mmap2, 0x40100000, 8192, RW, PRIV | MAP_FIXED | MAP_NOZERO, -1, 0);
    const ro = u.sc(NR.mmap2, 0x40200000, 4096, PROT_READ, PRIV | MAP_FIXED, -1, 0);
    expect(u.sc(NR.brk, TEST_BRK + 8192)).toBe(TEST_BRK + 8192);
    let blocks = smapsBlocks(u.readFile("/proc/self/smaps") as string);
    const flags = (start: number, len: number) => blocks.get(`${hex8(start)}-${hex8(start + len)}`)!.at(-1);
    expect(flags(plain, 8192)).toBe("VmFlags: rd wr mr mw me ac ");
    expect(flags(nz, 8192)).toBe("VmFlags: rd wr mr mw me ac nz ");
    expect(flags(ro, 4096)).toBe("VmFlags: rd mr mw me ");
    expect(flags(TEST_BRK, 8192)).toBe("VmFlags: rd wr mr mw me ac ");
    expect(blocks.get(`${hex8(TEST_BRK)}-${hex8(TEST_BRK + 8192)}`)![0]).toMatch(/ \[heap\]$/);
    // brk2(BRK_NOZERO) marks the existing heap and what it grows into.
    expect(u.sc(NR.brk2, TEST_BRK + 16384, BRK_NOZERO)).toBe(TEST_BRK + 16384);
    blocks = smapsBlocks(u.readFile("/proc/self/smaps") as string);
    expect(flags(TEST_BRK, 16384)).toBe("VmFlags: rd wr mr mw me ac nz ");
    const nzBlocks = [...blocks.values()].filter((b) => b.at(-1)!.includes(" nz "));
    expect(nzBlocks.map((b) => b[0].slice(0, 17)).sort()).toEqual(
      [`${hex8(nz)}-${hex8(nz + 8192)}`, `${hex8(TEST_BRK)}-${hex8(TEST_BRK + 16384)}`].sort(),
    );
    expect(vmFlagsString(VM_READ | VM_WRITE | VM_ACCOUNT | VM_NOZERO | VM_GROWSDOWN)).toBe("rd wr gd ac nz ");
  });

  it("Rss does not count the shared zero page", () => {
    const k = bootKernel();
    const u = userTask(k, 1000);
    const a = u.sc(NR.mmap2, 0x40000000, 8 * 4096, RW, PRIV | MAP_FIXED, -1, 0);
    for (let i = 0; i < 8; i++) expect(u.mem.read8(a + i * 4096)).toBe(0); // all mapped to the zero page
    const key = `${hex8(a)}-${hex8(a + 8 * 4096)}`;
    let b = smapsBlocks(u.readFile("/proc/self/smaps") as string).get(key)!;
    expect(field(b, "Size")).toBe(32);
    expect(field(b, "Rss")).toBe(0);
    expect(field(b, "Pss")).toBe(0);
    expect(field(b, "Anonymous")).toBe(0);
    u.mem.write8(a, 1);
    u.mem.write8(a + 5 * 4096, 1);
    b = smapsBlocks(u.readFile("/proc/self/smaps") as string).get(key)!;
    expect(field(b, "Rss")).toBe(8);
    expect(field(b, "Pss")).toBe(8);
    expect(field(b, "Private_Dirty")).toBe(8);
    expect(field(b, "Anonymous")).toBe(8);
    expect(field(b, "Referenced")).toBe(8);
  });

  it("a file page mapped by two processes is shared: Pss is half of Rss", () => {
    const k = bootKernel();
    const a = userTask(k, 1000);
    const b = userTask(k, 1000);
    a.writeFile("/tmp/shared", "s".repeat(4096));
    const fa = a.open("/tmp/shared", O_RDONLY);
    const fb = b.open("/tmp/shared", O_RDONLY);
    const ma = a.sc(NR.mmap2, 0, 4096, PROT_READ, MAP_SHARED, fa, 0);
    const mb = b.sc(NR.mmap2, 0, 4096, PROT_READ, MAP_SHARED, fb, 0);
    expect(a.mem.read8(ma)).toBe(0x73);
    k.switchTo(b.t);
    expect(b.mem.read8(mb)).toBe(0x73);
    const blk = smapsBlocks(a.readFile("/proc/self/smaps") as string).get(`${hex8(ma)}-${hex8(ma + 4096)}`)!;
    expect(field(blk, "Rss")).toBe(4);
    expect(field(blk, "Pss")).toBe(2);
    expect(field(blk, "Shared_Clean")).toBe(4);
    expect(field(blk, "Anonymous")).toBe(0);
    expect(blk[0]).toMatch(/ r--s 00000000 08:01 \d+ +\/tmp\/shared$/);
  });
});

// ---- status, statm ----------------------------------------------------------------------------

describe("/proc/PID/status", () => {
  it("has Linux's lines: ids, four uids, memory in kB columns", () => {
    const k = bootKernel();
    const u = userTask(k, 1000, "stat-test");
    const a = u.sc(NR.mmap2, 0, 16 * 4096, RW, PRIV, -1, 0);
    for (let i = 0; i < 4; i++) u.mem.write8(a + i * 4096, 7);
    const s = u.readFile("/proc/self/status") as string;
    const lines = s.split("\n");
    expect(lines[0]).toBe("Name:\tstat-test");
    expect(lines[1]).toBe("Umask:\t0022");
    expect(lines[2]).toBe("State:\tR (running)");
    expect(s).toContain(`\nTgid:\t${u.t.pid}\n`);
    expect(s).toContain(`\nPid:\t${u.t.pid}\n`);
    expect(s).toContain("\nPPid:\t0\n");
    expect(s).toContain("\nUid:\t1000\t1000\t1000\t1000\n");
    expect(s).toContain("\nGid:\t1000\t1000\t1000\t1000\n");
    expect(s).toContain("\nThreads:\t1\n");
    for (const label of ["VmPeak", "VmSize", "VmLck", "VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem", "VmData", "VmStk", "VmExe", "VmLib", "VmPTE"]) {
      expect(s).toMatch(new RegExp(`\\n${label}:\\t[ \\d]{8} kB\\n`));
    }
    // Same shape as Linux's lines: a tab, the value right-aligned in 8 columns, " kB".
    for (const linux of LINUX_STATUS_LINES) {
      const label = linux.slice(0, linux.indexOf(":"));
      const shape = new RegExp(`^${label}:\\t[ \\d]{8} kB$`);
      expect(linux).toMatch(shape);
      expect(lines.find((l) => l.startsWith(`${label}:`))).toMatch(shape);
    }
    // The 1 MiB scratch area and 16 pages are mapped; 4 written pages + scratch's touched pages are resident.
    const num = (label: string) => Number(new RegExp(`\\n${label}:\\t *(\\d+) kB`).exec(s)![1]);
    expect(num("VmSize")).toBe(1024 + 64);
    expect(num("VmData")).toBe(1024 + 64);
    expect(num("RssAnon")).toBe(u.t.mm!.rssAnon * 4);
    expect(num("RssAnon")).toBeGreaterThanOrEqual(16);
    expect(num("VmRSS")).toBe(num("RssAnon") + num("RssFile") + num("RssShmem"));
    expect(num("VmHWM")).toBeGreaterThanOrEqual(num("VmRSS"));
    expect(num("VmPTE")).toBe(u.t.mm!.ptFrames * 4);
  });

  it("statm counts pages: size resident shared text lib data dt", () => {
    const k = bootKernel();
    const u = userTask(k, 1000);
    const [size, resident, shared, text, lib, data, dt] = (u.readFile("/proc/self/statm") as string).trim().split(" ").map(Number);
    expect(size).toBe(256);
    expect(resident).toBe(u.t.mm!.rss);
    expect([shared, text, lib, data, dt]).toEqual([0, 0, 0, 256, 0]);
  });
});

// ---- meminfo ------------------------------------------------------------------------------------

describe("/proc/meminfo", () => {
  it("uses Linux's columns: label to 16, value right-aligned to 24, then kB", () => {
    for (const l of LINUX_MEMINFO_LINES) expect(columns(l).valueEnd).toBe(24);
    const k = bootKernel({ memBytes: (16 << 20) + 4096 }); // frame 0 is the zero page, reserved
    const u = userTask(k, 1000);
    const text = u.readFile("/proc/meminfo") as string;
    const lines = text.split("\n");
    expect(lines.pop()).toBe("");
    expect(lines[0]).toBe("MemTotal:          16384 kB");
    for (const l of lines) expect(columns(l).valueEnd, l).toBe(24);
    const labels = lines.map((l) => l.slice(0, l.indexOf(":")));
    const order = ["MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "AnonPages", "Mapped", "Shmem", "PageTables", "CommitLimit", "Committed_AS"];
    const idx = order.map((l) => labels.indexOf(l));
    expect(idx.every((i) => i >= 0)).toBe(true);
    expect([...idx].sort((a, b) => a - b)).toEqual(idx);
    expect(lines).toContain("HugePages_Total:       0");
    expect(labels).toContain("NozeroUncleared");
  });

  it("follows the machine: MemFree falls and AnonPages rises as pages are touched", () => {
    const k = bootKernel();
    const u = userTask(k, 1000);
    const get = (label: string) => {
      const m = new RegExp(`^${label}: *(\\d+)`, "m").exec(u.readFile("/proc/meminfo") as string);
      return Number(m![1]);
    };
    for (let p = 0; p < 1 << 20; p += 4096) u.mem.write8(u.scratch + p, 0); // the scratch area is resident from now on
    const free0 = get("MemFree");
    const anon0 = get("AnonPages");
    const a = u.sc(NR.mmap2, 0, 64 * 4096, RW, PRIV, -1, 0);
    for (let i = 0; i < 64; i++) u.mem.write8(a + i * 4096, 1);
    expect(get("AnonPages") - anon0).toBe(256);
    expect(free0 - get("MemFree")).toBeGreaterThanOrEqual(256);
    expect(get("Committed_AS")).toBeGreaterThanOrEqual(256 + 1024);
    expect(get("MemFree")).toBe(k.pages.freeFrames * 4);
  });

  it("NozeroUncleared reports the policy's uncleared handouts", () => {
    const k = bootKernel({ policy: "nozero" });
    const u = userTask(k, 1000);
    for (let round = 0; round < 2; round++) {
      const a = u.sc(NR.mmap2, 0, 8 * 4096, RW, PRIV | MAP_NOZERO, -1, 0);
      for (let i = 0; i < 8; i++) u.mem.write8(a + i * 4096, 1);
      u.sc(NR.munmap, a, 8 * 4096);
    }
    expect(k.policy.unclearedHandouts).toBeGreaterThan(0);
    const m = /^NozeroUncleared: *(\d+)$/m.exec(u.readFile("/proc/meminfo") as string);
    expect(Number(m![1])).toBe(k.policy.unclearedHandouts);
  });
});

// ---- /proc/sys/vm/zero_policy -------------------------------------------------------------------

describe("/proc/sys/vm/zero_policy", () => {
  it("reads the policy; root switches it at run time (trailing newline optional)", () => {
    const k = bootKernel({ policy: "nozero" });
    const root = userTask(k, 0);
    expect(root.readFile("/proc/sys/vm/zero_policy")).toBe("nozero\n");
    expect(root.writeFile("/proc/sys/vm/zero_policy", "stock\n", 0o644, O_WRONLY)).toBe(0);
    expect(k.policy.name).toBe("stock");
    expect(root.readFile("/proc/sys/vm/zero_policy")).toBe("stock\n");
    expect(root.writeFile("/proc/sys/vm/zero_policy", "init_on_free", 0o644, O_WRONLY)).toBe(0);
    expect(k.policy.name).toBe("init_on_free");
    const fd = root.open("/proc/sys/vm/zero_policy", O_RDWR);
    expect(root.write(fd, "bogus\n")).toBe(-EINVAL);
    expect(root.write(fd, "stock\n\n")).toBe(-EINVAL);
    expect(k.policy.name).toBe("init_on_free");
  });

  it("the switch takes effect: under stock, MAP_NOZERO pages are cleared", () => {
    const k = bootKernel({ policy: "nozero" });
    const root = userTask(k, 0);
    root.writeFile("/proc/sys/vm/zero_policy", "stock", 0o644, O_WRONLY);
    const u = userTask(k, 1000);
    for (let round = 0; round < 2; round++) {
      const a = u.sc(NR.mmap2, 0, 8 * 4096, RW, PRIV | MAP_NOZERO, -1, 0);
      for (let i = 0; i < 8; i++) {
        expect(u.mem.read32(a + i * 4096 + 64)).toBe(0);
        u.mem.write32(a + i * 4096 + 64, 0x5ec2e7);
      }
      u.sc(NR.munmap, a, 8 * 4096);
    }
    expect(k.policy.unclearedHandouts).toBe(0);
  });

  it("a user may read it but not write it (mode 0644, root's)", () => {
    const k = bootKernel();
    const alice = userTask(k, 1000);
    expect(alice.readFile("/proc/sys/vm/zero_policy")).toBe("nozero\n");
    expect(alice.open("/proc/sys/vm/zero_policy", O_WRONLY)).toBe(-EACCES);
    expect(alice.open("/proc/sys/vm/zero_policy", O_RDWR)).toBe(-EACCES);
    expect(alice.stat("/proc/sys/vm/zero_policy").st).toMatchObject({ mode: S_IFREG | 0o644, uid: 0, size: 0, dev: PROC_DEV });
    expect(k.policy.name).toBe("nozero");
  });
});

// ---- the tree ----------------------------------------------------------------------------------

describe("the /proc tree", () => {
  it("lists meminfo, self, sys and the running processes; self is the reader's pid", () => {
    const k = bootKernel();
    const u = userTask(k, 1000);
    const names = u.list("/proc") as string[];
    expect(names).toEqual(expect.arrayContaining([".", "..", "meminfo", "self", "sys", String(u.t.pid)]));
    expect(u.readFile("/proc/self/status")).toContain(`\nPid:\t${u.t.pid}\n`);
    expect(u.list("/proc/self")).toEqual([".", "..", "cmdline", "comm", "maps", "smaps", "statm", "status"]);
    expect(u.list("/proc/sys/vm")).toEqual([".", "..", "zero_policy"]);
    const fd = u.open("/proc", O_RDONLY | O_DIRECTORY);
    const types = Object.fromEntries(u.getdents(fd).entries.map((e) => [e.name, e.type]));
    expect(types).toMatchObject({ meminfo: DT_REG, self: DT_LNK, sys: DT_DIR, [String(u.t.pid)]: DT_DIR });
    const other = userTask(k, 1001);
    expect(other.readFile("/proc/self/status")).toContain(`\nPid:\t${other.t.pid}\n`);
    expect(other.open(`/proc/${u.t.pid}/status`, O_RDONLY)).toBe(-ENOENT); // not in the task table, not running
    expect(other.open("/proc/99999/status", O_RDONLY)).toBe(-ENOENT);
  });

  it("procfs files report size 0 and the proc device; nothing can be created there", () => {
    const k = bootKernel();
    const u = userTask(k, 1000);
    expect(u.stat("/proc/meminfo").st).toMatchObject({ mode: S_IFREG | 0o444, size: 0, blocks: 0, dev: PROC_DEV });
    expect(u.stat("/proc").st).toMatchObject({ mode: S_IFDIR | 0o555, uid: 0 });
    expect(u.open("/proc/new", O_CREAT | O_WRONLY)).toBe(-EACCES);
    expect(u.sc(NR.mkdir, u.cstr("/proc/d"), 0o755)).toBe(-EACCES);
    const root = userTask(k, 0);
    const fd = root.open("/proc/meminfo", O_WRONLY);
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(root.write(fd, "x")).toBe(-EINVAL);
    expect(root.open("/proc/self", O_RDONLY | O_DIRECTORY)).toBeGreaterThanOrEqual(0);
  });

  it("chdir into /proc/self and read relative names", () => {
    const k = bootKernel();
    const u = userTask(k, 1000, "cwdproc");
    expect(u.sc(NR.chdir, u.cstr("/proc/self"))).toBe(0);
    expect(u.readFile("comm")).toBe("cwdproc\n");
    expect(u.readFile("../meminfo")).toMatch(/^MemTotal:/);
  });
});
