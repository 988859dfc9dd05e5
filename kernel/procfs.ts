// procfs: /proc/meminfo, /proc/PID/{maps,smaps,status,statm,cmdline,comm},
// /proc/self and /proc/sys/vm/zero_policy, in Linux's formats
// (fs/proc/task_mmu.c, fs/proc/meminfo.c, fs/proc/array.c). File contents are
// generated when the file is opened (Inode.generate), so all reads of one open
// file see one consistent snapshot; writes go to Inode.store.
//
//   /proc                 dr-xr-xr-x root   (a DynamicDir over the task table)
//   ├── meminfo           -r--r--r--
//   ├── self -> PID       the reading task's thread group
//   ├── sys/vm/zero_policy  -rw-r--r-- root: the zeroing policy, switchable by root
//   └── PID/              dr-xr-xr-x owner (root when not dumpable)
//       ├── maps, smaps   -r--r--r-- (opening needs ptrace read access)
//       ├── status, statm, cmdline, comm

import type { Kernel } from "./kernel.ts";
import { ptraceMayAccess } from "./cred.ts";
import { EACCES, EINVAL, EPERM } from "./errno.ts";
import { PG_ANON, PG_PGTABLE, PG_SHMEM, PG_ZERO } from "./frames.ts";
import type { Mm } from "./mm.ts";
import { PTE_D, PTE_SPECIAL, pteHasFrame } from "./pagetable.ts";
import { PAGE_SIZE, PGDIR_SIZE, pageAlignUp, pgdirAlignDown } from "./param.ts";
import { ShmemObject } from "./shmem.ts";
import type { Task } from "./task.ts";
import { type DynamicDir, Inode, S_IFDIR, S_IFLNK, S_IFREG } from "./vfs/inode.ts";
import {
  VM_ACCOUNT, VM_DONTCOPY, VM_EXEC, VM_GROWSDOWN, VM_LOCKED, VM_MAYEXEC, VM_MAYREAD, VM_MAYSHARE, VM_MAYWRITE,
  VM_NORESERVE, VM_NOZERO, VM_READ, VM_SHARED, VM_WIPEONFORK, VM_WRITE, type Vma,
} from "./vma.ts";
import { isZeroPolicy } from "./zero_policy.ts";

/** procfs's st_dev, 00:15 (what this host's /proc reports). */
export const PROC_DEV = 0x15;

const procInodes = new WeakSet<Inode>();
/** procfs files whose opening needs ptrace read access to their task (maps, smaps). */
const guarded = new WeakMap<Inode, Task>();

export function isProcInode(ino: Inode): boolean {
  return procInodes.has(ino);
}

/** proc_mem_open's check: 0, or -EACCES when `t` may not read the target's memory layout. */
export function procMayOpen(ino: Inode, t: Task): number {
  const target = guarded.get(ino);
  if (target === undefined) return 0;
  return ptraceMayAccess(t, target) ? 0 : -EACCES;
}

function procInode(k: Kernel, mode: number, uid = 0, gid = 0): Inode {
  const ino = k.vfs.newInode(mode, uid, gid);
  if (ino.isDir) ino.nlink = 2;
  procInodes.add(ino);
  return ino;
}

function procFile(k: Kernel, mode: number, generate: () => string, uid = 0, gid = 0): Inode {
  const ino = procInode(k, S_IFREG | mode, uid, gid);
  ino.generate = generate;
  return ino;
}

// ---- formatting helpers -----------------------------------------------------------------

const hex8 = (v: number) => v.toString(16).padStart(8, "0");

/** meminfo/smaps: the label padded to 16 columns, the value right-aligned in 8, then " kB". */
function kbLine(label: string, kb: number): string {
  return `${`${label}:`.padEnd(16)}${String(Math.floor(kb)).padStart(8)} kB\n`;
}

/** A plain count in the same columns (HugePages_Total style). */
function countLine(label: string, n: number): string {
  return `${`${label}:`.padEnd(16)}${String(n).padStart(8)}\n`;
}

/** status: "Label:\t%8lu kB". */
function statusKb(label: string, kb: number): string {
  return `${label}:\t${String(Math.floor(kb)).padStart(8)} kB\n`;
}

const KB_PER_PAGE = PAGE_SIZE / 1024;

/** Call fn for every PTE of [start, end) that holds a frame, skipping absent page tables. */
function forEachPte(mm: Mm, start: number, end: number, fn: (addr: number, pte: number) => void): void {
  const i32 = mm.k.phys.i32;
  for (let a = start; a < end; ) {
    const s = mm.pteSlot(a);
    if (s < 0) {
      a = pgdirAlignDown(a) + PGDIR_SIZE;
      continue;
    }
    const pte = i32[s];
    if (pteHasFrame(pte)) fn(a, pte);
    a += PAGE_SIZE;
  }
}

// ---- tasks ---------------------------------------------------------------------------------

/** The live task with this pid (the running task counts even if it is not in the table). */
function findTask(k: Kernel, pid: number): Task | null {
  const t = k.tasks.get(pid);
  if (t !== undefined && t.state !== "reaped") return t;
  const c = k.current;
  return c.pid === pid && c.pid !== 0 ? c : null;
}

function leaderOf(k: Kernel, t: Task): Task {
  return k.tasks.get(t.tgid) ?? t;
}

/** Every distinct address space in use. */
function liveMms(k: Kernel): Set<Mm> {
  const out = new Set<Mm>();
  for (const t of k.tasks.values()) if (t.mm !== null) out.add(t.mm);
  if (k.current.mm !== null) out.add(k.current.mm);
  return out;
}

// ---- /proc/PID/maps --------------------------------------------------------------------------

/** Where the pathname column starts on a 32-bit kernel: seq_setwidth(25 + sizeof(void *) * 6 - 1), then one pad char. */
const MAPS_NAME_COLUMN = 25 + 4 * 6 - 1;

function vmaName(mm: Mm, v: Vma): string {
  if (v.obj !== null) return v.obj.name;
  // vma_is_initial_heap: the VMA overlapping start_brk..brk.
  if (v.start < pageAlignUp(mm.brk) && v.end > mm.startBrk && mm.brk > mm.startBrk) return "[heap]";
  if (v.flags & VM_GROWSDOWN) return "[stack]";
  return "";
}

/**
 * show_map_vma: "%08lx-%08lx %c%c%c%c %08llx %02x:%02x %lu " then, if the
 * VMA has a name, spaces up to the pathname column and the name. The perms'
 * fourth letter is 's' for VM_MAYSHARE. Anonymous VMAs show offset 0.
 */
export function mapsLine(mm: Mm, v: Vma): string {
  const f = v.flags;
  const perms = `${f & VM_READ ? "r" : "-"}${f & VM_WRITE ? "w" : "-"}${f & VM_EXEC ? "x" : "-"}${f & VM_MAYSHARE ? "s" : "p"}`;
  const off = v.obj !== null ? v.pgoff * PAGE_SIZE : 0;
  const dev = v.obj?.dev ?? "00:00";
  const ino = v.obj?.inode ?? 0;
  const prefix = `${hex8(v.start)}-${hex8(v.end)} ${perms} ${hex8(off)} ${dev} ${ino} `;
  const name = vmaName(mm, v);
  return name === "" ? prefix : `${prefix.padEnd(MAPS_NAME_COLUMN)} ${name}`;
}

function maps(t: Task): string {
  const mm = t.mm;
  if (mm === null) return "";
  return mm.vmas.list.map((v) => mapsLine(mm, v) + "\n").join("");
}

// ---- /proc/PID/smaps -------------------------------------------------------------------------

/**
 * Linux's two-letter VmFlags mnemonics for the bits this kernel has. Bit 26
 * is VM_DONTDUMP ("dd") in modern Linux; here it is the 2007 patch's
 * VM_NOZERO, shown as "nz".
 */
const VM_MNEMONICS: [number, string][] = [
  [VM_READ, "rd"], [VM_WRITE, "wr"], [VM_EXEC, "ex"], [VM_SHARED, "sh"], [VM_MAYREAD, "mr"],
  [VM_MAYWRITE, "mw"], [VM_MAYEXEC, "me"], [VM_MAYSHARE, "ms"], [VM_GROWSDOWN, "gd"], [VM_LOCKED, "lo"],
  [VM_DONTCOPY, "dc"], [VM_ACCOUNT, "ac"], [VM_NORESERVE, "nr"], [VM_WIPEONFORK, "wf"], [VM_NOZERO, "nz"],
];

export function vmFlagsString(flags: number): string {
  let s = "";
  for (const [bit, m] of VM_MNEMONICS) if (flags & bit) s += `${m} `;
  return s;
}

export interface SmapsCounts {
  rss: number;
  pss: number;
  pssDirty: number;
  sharedClean: number;
  sharedDirty: number;
  privateClean: number;
  privateDirty: number;
  anonymous: number;
  lazyFree: number;
}

/** smaps_pte_entry over one VMA, in bytes. The shared zero page is not a normal page: not counted. */
export function smapsCounts(mm: Mm, v: Vma): SmapsCounts {
  const fr = mm.k.frames;
  const c: SmapsCounts = {
    rss: 0, pss: 0, pssDirty: 0, sharedClean: 0, sharedDirty: 0, privateClean: 0, privateDirty: 0, anonymous: 0, lazyFree: 0,
  };
  forEachPte(mm, v.start, v.end, (a, pte) => {
    if (pte & PTE_SPECIAL) return;
    const f = pte >>> 12;
    const dirty = (pte & PTE_D) !== 0;
    const mapcount = Math.max(1, fr.mapcount[f]);
    c.rss += PAGE_SIZE;
    if (fr.flags[f] & PG_ANON) {
      c.anonymous += PAGE_SIZE;
      if (!dirty && mm.lazyfree.has(a)) c.lazyFree += PAGE_SIZE;
    }
    const pss = PAGE_SIZE / mapcount;
    c.pss += pss;
    if (dirty) c.pssDirty += pss;
    if (mapcount >= 2) {
      if (dirty) c.sharedDirty += PAGE_SIZE;
      else c.sharedClean += PAGE_SIZE;
    } else if (dirty) c.privateDirty += PAGE_SIZE;
    else c.privateClean += PAGE_SIZE;
  });
  return c;
}

function smaps(t: Task): string {
  const mm = t.mm;
  if (mm === null) return "";
  let out = "";
  for (const v of mm.vmas.list) {
    const c = smapsCounts(mm, v);
    const kb = (b: number) => Math.floor(b / 1024);
    out += mapsLine(mm, v) + "\n";
    out += kbLine("Size", kb(v.end - v.start));
    out += kbLine("KernelPageSize", KB_PER_PAGE);
    out += kbLine("MMUPageSize", KB_PER_PAGE);
    out += kbLine("Rss", kb(c.rss));
    out += kbLine("Pss", kb(c.pss));
    out += kbLine("Pss_Dirty", kb(c.pssDirty));
    out += kbLine("Shared_Clean", kb(c.sharedClean));
    out += kbLine("Shared_Dirty", kb(c.sharedDirty));
    out += kbLine("Private_Clean", kb(c.privateClean));
    out += kbLine("Private_Dirty", kb(c.privateDirty));
    out += kbLine("Referenced", kb(c.rss));
    out += kbLine("Anonymous", kb(c.anonymous));
    out += kbLine("KSM", 0);
    out += kbLine("LazyFree", kb(c.lazyFree));
    out += kbLine("AnonHugePages", 0);
    out += kbLine("ShmemPmdMapped", 0);
    out += kbLine("FilePmdMapped", 0);
    out += kbLine("Shared_Hugetlb", 0);
    out += kbLine("Private_Hugetlb", 0);
    out += kbLine("Swap", 0);
    out += kbLine("SwapPss", 0);
    out += kbLine("Locked", v.flags & VM_LOCKED ? kb(c.pss) : 0);
    out += countLine("THPeligible", 0);
    out += `VmFlags: ${vmFlagsString(v.flags)}\n`;
  }
  return out;
}

// ---- /proc/PID/status, statm, cmdline, comm -------------------------------------------------

export interface MmStats {
  totalVm: number;
  peakVm: number;
  lockedVm: number;
  rssAnon: number;
  rssFile: number;
  rssShmem: number;
  hiwaterRss: number;
  dataVm: number;
  stackVm: number;
  exeVm: number;
  libVm: number;
  ptFrames: number;
}

/** task_mem's numbers, in pages: data = private writable non-stack, stack = VM_GROWSDOWN, exe/lib = exec-only file text. */
export function mmStats(t: Task): MmStats | null {
  const mm = t.mm;
  if (mm === null) return null;
  const s: MmStats = {
    totalVm: 0, peakVm: 0, lockedVm: 0, rssAnon: mm.rssAnon, rssFile: 0, rssShmem: 0, hiwaterRss: 0,
    dataVm: 0, stackVm: 0, exeVm: 0, libVm: 0, ptFrames: mm.ptFrames,
  };
  const fr = mm.k.frames;
  for (const v of mm.vmas.list) {
    const n = v.pages;
    s.totalVm += n;
    if (v.flags & VM_LOCKED) s.lockedVm += n;
    if ((v.flags & (VM_WRITE | VM_SHARED | VM_GROWSDOWN)) === VM_WRITE) s.dataVm += n;
    else if (v.flags & VM_GROWSDOWN) s.stackVm += n;
    else if ((v.flags & (VM_EXEC | VM_WRITE)) === VM_EXEC) {
      if (v.obj !== null && v.obj.name === t.exe) s.exeVm += n;
      else s.libVm += n;
    }
    if (v.obj instanceof ShmemObject) {
      forEachPte(mm, v.start, v.end, (_a, pte) => {
        if (!(pte & PTE_SPECIAL) && !(fr.flags[pte >>> 12] & PG_ANON)) s.rssShmem++;
      });
    }
  }
  s.rssFile = Math.max(0, mm.rssShmem - s.rssShmem);
  s.peakVm = Math.max(mm.hiwaterVm, s.totalVm);
  s.hiwaterRss = Math.max(mm.hiwaterRss, mm.rss);
  return s;
}

function stateOf(t: Task): string {
  switch (t.state) {
    case "blocked":
      return "S (sleeping)";
    case "zombie":
    case "reaped":
      return "Z (zombie)";
    default:
      return "R (running)";
  }
}

function threadCount(k: Kernel, t: Task): number {
  const leader = leaderOf(k, t);
  let n = 0;
  for (const th of [leader, ...leader.threads]) if (th.state !== "zombie" && th.state !== "reaped") n++;
  return Math.max(n, 1);
}

/** fdtable size: 32 (NR_OPEN_DEFAULT on i386) until a descriptor needs more, then a power of two >= 256. */
function fdSize(t: Task): number {
  let max = -1;
  for (const [fd] of t.files?.entries() ?? []) max = Math.max(max, fd);
  if (max < 32) return 32;
  let n = 256;
  while (n <= max) n *= 2;
  return n;
}

function status(k: Kernel, t: Task): string {
  const c = t.cred;
  let out = "";
  out += `Name:\t${t.comm}\n`;
  out += `Umask:\t0022\n`;
  out += `State:\t${stateOf(t)}\n`;
  out += `Tgid:\t${t.tgid}\n`;
  out += `Ngid:\t0\n`;
  out += `Pid:\t${t.pid}\n`;
  out += `PPid:\t${t.parent?.tgid ?? 0}\n`;
  out += `TracerPid:\t${t.ptracer?.tgid ?? 0}\n`;
  out += `Uid:\t${c.uid}\t${c.euid}\t${c.suid}\t${c.euid}\n`;
  out += `Gid:\t${c.gid}\t${c.egid}\t${c.sgid}\t${c.egid}\n`;
  out += `FDSize:\t${fdSize(t)}\n`;
  out += `Groups:\t \n`;
  const s = mmStats(t);
  if (s !== null) {
    const kb = (pages: number) => pages * KB_PER_PAGE;
    out += statusKb("VmPeak", kb(s.peakVm));
    out += statusKb("VmSize", kb(s.totalVm));
    out += statusKb("VmLck", kb(s.lockedVm));
    out += statusKb("VmPin", 0);
    out += statusKb("VmHWM", kb(s.hiwaterRss));
    out += statusKb("VmRSS", kb(s.rssAnon + s.rssFile + s.rssShmem));
    out += statusKb("RssAnon", kb(s.rssAnon));
    out += statusKb("RssFile", kb(s.rssFile));
    out += statusKb("RssShmem", kb(s.rssShmem));
    out += statusKb("VmData", kb(s.dataVm));
    out += statusKb("VmStk", kb(s.stackVm));
    out += statusKb("VmExe", kb(s.exeVm));
    out += statusKb("VmLib", kb(s.libVm));
    out += statusKb("VmPTE", kb(s.ptFrames));
    out += statusKb("VmSwap", 0);
    out += statusKb("HugetlbPages", 0);
  }
  out += `CoreDumping:\t0\n`;
  out += `Threads:\t${threadCount(k, t)}\n`;
  return out;
}

/** statm: size resident shared text lib data dt, in pages (lib and dt are always 0 since 2.6). */
function statm(t: Task): string {
  const s = mmStats(t);
  if (s === null) return "0 0 0 0 0 0 0\n";
  const rss = s.rssAnon + s.rssFile + s.rssShmem;
  return `${s.totalVm} ${rss} ${s.rssFile + s.rssShmem} ${s.exeVm} 0 ${s.dataVm + s.stackVm} 0\n`;
}

/** cmdline: argv as exec laid it out on the stack, each string NUL-terminated; empty without an mm. */
function cmdline(t: Task): string {
  const mm = t.mm;
  if (mm === null || t.startSp === 0) return "";
  const w = mm.mem.copyFromUser(t.startSp, 4);
  if (w === null) return "";
  const argc = new DataView(w.buffer).getUint32(0, true);
  let out = "";
  for (let i = 0; i < Math.min(argc, 4096); i++) {
    const p = mm.mem.copyFromUser(t.startSp + 4 + 4 * i, 4);
    if (p === null) break;
    const s = mm.mem.strncpyFromUser(new DataView(p.buffer).getUint32(0, true), 131072);
    if (s === null) break;
    out += s + "\0";
  }
  return out;
}

// ---- /proc/meminfo ------------------------------------------------------------------------------

/** i386 THREAD_SIZE: each task's kernel stack. */
const KERNEL_STACK_KB = 8;
/** i386 VMALLOC area with the default 3G/1G split. */
const VMALLOC_TOTAL_KB = 122880;

function meminfo(k: Kernel): string {
  const fr = k.frames;
  let anon = 0;
  let cache = 0;
  let pgtables = 0;
  let zeroFree = 0;
  for (let f = 0; f < fr.nframes; f++) {
    const fl = fr.flags[f];
    if (fr.count[f] === 0) {
      if (fl & PG_ZERO) zeroFree++;
      continue;
    }
    if (fl & PG_ANON) anon++;
    else if (fl & PG_SHMEM) cache++;
    if (fl & PG_PGTABLE) pgtables++;
  }
  // Mapped and Shmem: frames of file and shmem objects mapped anywhere; commit: accounted areas.
  const mapped = new Set<number>();
  const shmem = new Set<number>();
  let committed = 0;
  let mlocked = 0;
  for (const mm of liveMms(k)) {
    for (const v of mm.vmas.list) {
      if (v.flags & VM_ACCOUNT || v.obj instanceof ShmemObject) committed += v.pages;
      const isShmem = v.obj instanceof ShmemObject;
      if (v.obj === null && !(v.flags & VM_LOCKED)) continue;
      forEachPte(mm, v.start, v.end, (_a, pte) => {
        if (pte & PTE_SPECIAL) return;
        const f = pte >>> 12;
        if (v.flags & VM_LOCKED) mlocked++;
        if (fr.flags[f] & PG_ANON) return;
        mapped.add(f);
        if (isShmem) shmem.add(f);
      });
    }
  }
  let tasks = 0;
  for (const t of k.tasks.values()) if (t.state !== "zombie" && t.state !== "reaped") tasks++;
  const kb = (pages: number) => pages * KB_PER_PAGE;
  const total = fr.nframes - 1; // frame 0 is the shared zero page, reserved
  const free = k.pages.freeFrames;
  const fileCache = Math.max(0, cache - shmem.size);
  let out = "";
  out += kbLine("MemTotal", kb(total));
  out += kbLine("MemFree", kb(free));
  out += kbLine("MemAvailable", kb(free + fileCache));
  out += kbLine("Buffers", 0);
  out += kbLine("Cached", kb(cache));
  out += kbLine("SwapCached", 0);
  out += kbLine("Active", kb(anon + cache));
  out += kbLine("Inactive", 0);
  out += kbLine("Active(anon)", kb(anon + shmem.size));
  out += kbLine("Inactive(anon)", 0);
  out += kbLine("Active(file)", kb(fileCache));
  out += kbLine("Inactive(file)", 0);
  out += kbLine("Unevictable", kb(mlocked));
  out += kbLine("Mlocked", kb(mlocked));
  out += kbLine("SwapTotal", 0);
  out += kbLine("SwapFree", 0);
  out += kbLine("Dirty", 0);
  out += kbLine("Writeback", 0);
  out += kbLine("AnonPages", kb(anon));
  out += kbLine("Mapped", kb(mapped.size));
  out += kbLine("Shmem", kb(shmem.size));
  out += kbLine("KReclaimable", 0);
  out += kbLine("Slab", 0);
  out += kbLine("SReclaimable", 0);
  out += kbLine("SUnreclaim", 0);
  out += kbLine("KernelStack", tasks * KERNEL_STACK_KB);
  out += kbLine("PageTables", kb(pgtables));
  out += kbLine("NFS_Unstable", 0);
  out += kbLine("Bounce", 0);
  out += kbLine("WritebackTmp", 0);
  // overcommit_ratio 50, no swap.
  out += kbLine("CommitLimit", kb(Math.floor(total / 2)));
  out += kbLine("Committed_AS", kb(committed));
  out += kbLine("VmallocTotal", VMALLOC_TOTAL_KB);
  out += kbLine("VmallocUsed", 0);
  out += kbLine("VmallocChunk", 0);
  out += kbLine("AnonHugePages", 0);
  out += countLine("HugePages_Total", 0);
  out += countLine("HugePages_Free", 0);
  out += countLine("HugePages_Rsvd", 0);
  out += countLine("HugePages_Surp", 0);
  out += kbLine("Hugepagesize", 4096);
  // nozero's own lines; real kernels have none. Event counts since boot are
  // plain numbers of frames (like HugePages_*); ZeroedFree is an amount.
  out += countLine("NozeroUncleared", k.policy.unclearedHandouts); // frames handed out without a clear
  out += countLine("NozeroCleared", k.policy.clearedAtAlloc); // frames cleared at allocation
  out += kbLine("ZeroedFree", kb(zeroFree)); // free frames known zero (init_on_free, prezero)
  return out;
}

// ---- /proc/sys/vm/zero_policy ---------------------------------------------------------------------

/** A write: the policy name, one trailing newline allowed; EINVAL for an unknown name. */
function storeZeroPolicy(k: Kernel, text: string, euid: number): number {
  if (euid !== 0) return -EPERM;
  const name = text.endsWith("\n") ? text.slice(0, -1) : text;
  if (!isZeroPolicy(name)) return -EINVAL;
  if (k.policy.name !== name) k.log(`zero_policy: ${k.policy.name} -> ${name}`);
  k.policy.name = name;
  return text.length;
}

// ---- the tree -----------------------------------------------------------------------------------

interface PidEntry {
  task: Task;
  dir: Inode;
}

const PID_FILES = ["cmdline", "comm", "maps", "smaps", "statm", "status"];

/** Mount /proc (called once by the Kernel constructor). */
export function mountProc(k: Kernel): void {
  const vfs = k.vfs;
  const proc = vfs.mkdirs("/proc", 0o555);
  proc.mode = S_IFDIR | 0o555;
  procInodes.add(proc);

  // Static entries, linked into the real children map too so pathOf can name them.
  const statics = new Map<string, Inode>();
  const addStatic = (dir: Inode, name: string, ino: Inode) => {
    vfs.link(dir, name, ino);
    if (dir === proc) statics.set(name, ino);
  };
  addStatic(proc, "meminfo", procFile(k, 0o444, () => meminfo(k)));
  const sys = procInode(k, S_IFDIR | 0o555);
  addStatic(proc, "sys", sys);
  const vm = procInode(k, S_IFDIR | 0o555);
  vfs.link(sys, "vm", vm);
  const zp = procFile(k, 0o644, () => `${k.policy.name}\n`);
  zp.store = (text, euid) => storeZeroPolicy(k, text, euid);
  vfs.link(vm, "zero_policy", zp);

  const self = procInode(k, S_IFLNK | 0o777);
  self.parent = proc;

  const pids = new Map<number, PidEntry>();

  const pidDir = (t: Task): Inode => {
    let e = pids.get(t.pid);
    if (e === undefined || e.task !== t) {
      const dir = procInode(k, S_IFDIR | 0o555);
      dir.parent = proc;
      const files = new Map<string, Inode>();
      const file = (name: string, gen: () => string, ptraceGuard = false) => {
        const ino = procFile(k, 0o444, gen);
        ino.parent = dir;
        if (ptraceGuard) guarded.set(ino, t);
        files.set(name, ino);
      };
      file("cmdline", () => cmdline(t));
      file("comm", () => `${t.comm}\n`);
      file("maps", () => maps(t), true);
      file("smaps", () => smaps(t), true);
      file("statm", () => statm(t));
      file("status", () => status(k, t));
      dir.dynamic = {
        lookup: (name) => files.get(name) ?? null,
        list: () => PID_FILES,
      };
      e = { task: t, dir };
      pids.set(t.pid, e);
    }
    // task_dump_owner: the task's effective ids while dumpable, else root.
    const uid = t.dumpable ? t.cred.euid : 0;
    const gid = t.dumpable ? t.cred.egid : 0;
    for (const ino of [e.dir, ...PID_FILES.map((n) => e.dir.dynamic!.lookup(n)!)]) {
      ino.uid = uid;
      ino.gid = gid;
    }
    return e.dir;
  };

  const dyn: DynamicDir = {
    lookup(name: string): Inode | null {
      const st = statics.get(name);
      if (st !== undefined) return st;
      if (name === "self") {
        self.target = String(k.current.tgid);
        return self;
      }
      if (!/^[1-9][0-9]*$/.test(name)) return null;
      const t = findTask(k, Number(name));
      return t === null ? null : pidDir(t);
    },
    list(): string[] {
      const live = new Set<number>();
      for (const t of k.tasks.values()) if (t.isThreadLeader && t.state !== "reaped") live.add(t.pid);
      const c = k.current;
      if (c.pid !== 0 && c.state !== "reaped") live.add(c.tgid);
      for (const pid of pids.keys()) if (!live.has(pid)) pids.delete(pid);
      return [...statics.keys(), "self", ...[...live].sort((a, b) => a - b).map(String)];
    },
  };
  vfs.mountDynamic("/proc", dyn);
}
