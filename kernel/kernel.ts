// The kernel: boots emulated physical memory, the page allocator and the
// zeroing policy, and owns the tasks. User code reaches it only through the
// syscall gate (syscall.ts) and user memory (uaccess.ts).

import { Counters, NUEV, SymbolTable } from "./cost/events.ts";
import { HOST, type MachineProfile } from "./cost/machines.ts";
import { Kev } from "./cost/events.ts";
import { FrameTable, PG_ANON, PG_PGTABLE, PG_SHMEM, TAG_NONE } from "./frames.ts";
import { zapRange } from "./memory.ts";
import { FAULT_OOM, FAULT_SEGV_ACCERR, FAULT_SIGBUS, Mm } from "./mm.ts";
import { NO_FRAME, PageAllocator } from "./page_alloc.ts";
import { PTE_D, PTE_P } from "./pagetable.ts";
import { DEFAULT_MEM_BYTES, PAGE_SIZE } from "./param.ts";
import { PhysMem } from "./physmem.ts";
import { ShmemObject } from "./shmem.ts";
import { FatalSignal, SEGV_ACCERR, SEGV_MAPERR, SIGBUS, SIGKILL, SIGSEGV } from "./signal.ts";
import { Task, credFor } from "./task.ts";
import type { MemObject } from "./vma.ts";
import { ZeroingPolicy, type ZeroPolicyName } from "./zero_policy.ts";
import { EACCES, EBADF, ENODEV } from "./errno.ts";
import { CapturedConsole, type ConsoleSink, consoleOps } from "./console.ts";
import type { ProgramImage } from "./exec.ts";
import { O_RDWR, OpenFile } from "./file.ts";
import { oomKill, taskNow } from "./process.ts";
import { Timeline } from "./sched.ts";
import { Vfs } from "./vfs/vfs.ts";
import { populateRootFs } from "./boot_fs.ts";
import { mountProc } from "./procfs.ts";
import "./syscall_table.ts";

export interface KernelConfig {
  /** Emulated RAM in bytes (default 256 MiB). */
  memBytes?: number;
  /** Simulated CPUs (default 2). */
  cpus?: number;
  /** Seed of the kernel's random numbers (AT_RANDOM); default 1. */
  seed?: number;
  /** Where the console writes (default: captured). */
  console?: ConsoleSink;
  /** Zeroing policy at boot (default nozero: the patched kernel). */
  policy?: ZeroPolicyName;
  /** Cost profile (default host). */
  machine?: MachineProfile;
  /** Fill frames handed out uncleared with junk (differential tests). */
  poison?: boolean;
}

/** The shared zero page: frame 0, never allocated. */
export const ZERO_FRAME = 0;

export class Kernel {
  readonly phys: PhysMem;
  readonly frames: FrameTable;
  readonly pages: PageAllocator;
  readonly policy: ZeroingPolicy;
  readonly machine: MachineProfile;
  readonly zeroFrame = ZERO_FRAME;
  readonly symbols = new SymbolTable();
  /** pid 0: boot work and work done on nobody's behalf is charged here. */
  readonly swapper: Task;
  current: Task;
  readonly tasks = new Map<number, Task>();
  lastPid = 0;
  readonly timeline: Timeline;
  readonly programs = new Map<string, ProgramImage>();
  readonly vfs = new Vfs();
  readonly console: ConsoleSink;
  /** Console input (what init's fd 0 reads). */
  readonly stdin = { data: new Uint8Array(0), pos: 0 };
  /** Counters of every task reaped so far (the whole machine's work). */
  readonly totals = new Counters();
  /** The idle-time zeroing thread's work (prezero): off every task's critical path. */
  readonly idleCounters = new Counters();
  /** prezero: frames the idle thread has cleared and not yet handed out, and the idle cycles it used. */
  private prezeroPool = 0;
  private prezeroSpent = 0;
  /** Kernel log (dmesg). */
  readonly logLines: string[] = [];
  private rng: number;
  /** strace hook: receives one formatted line per syscall, and the caller's pid, when set. */
  strace: ((line: string, pid: number) => void) | null = null;
  private nextInode = 1;
  private readonly lazyfreeMms = new Set<Mm>();

  constructor(cfg: KernelConfig = {}) {
    this.machine = cfg.machine ?? HOST;
    this.phys = new PhysMem(cfg.memBytes ?? DEFAULT_MEM_BYTES);
    this.frames = new FrameTable(this.phys.nframes);
    this.pages = new PageAllocator(this.frames, [ZERO_FRAME]);
    this.policy = new ZeroingPolicy(
      cfg.policy ?? "nozero",
      this.phys,
      this.frames,
      this.pages,
      Math.floor(this.machine.cacheBytes / PAGE_SIZE),
      cfg.poison ?? false,
      () => this.takePrezeroed(),
    );
    this.symbols.intern("[unknown]", "main");
    this.swapper = new Task(0, "swapper", credFor(0), null);
    this.current = this.swapper;
    this.timeline = new Timeline(cfg.cpus ?? 2);
    this.console = cfg.console ?? new CapturedConsole();
    this.rng = (cfg.seed ?? 1) >>> 0 || 1;
    populateRootFs(this);
    mountProc(this);
  }

  // ---- kernel services ------------------------------------------------------------

  log(msg: string): void {
    this.logLines.push(msg);
  }

  /** A message to the console's error stream (the kernel's own complaints about a task). */
  consoleError(msg: string): void {
    this.console.write("stderr", new TextEncoder().encode(msg));
  }

  /** Deterministic random bytes (xorshift32 from the boot seed). */
  randomBytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      let x = this.rng;
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.rng = x >>> 0;
      out[i] = x & 0xff;
    }
    return out;
  }

  /** When set, every run segment placed on a CPU (for trace export). */
  segmentLog: { pid: number; comm: string; cpu: number; start: number; stop: number }[] | null = null;
  /** Called with every task as it is reaped (host-side accounting: per-program totals, process counts). */
  readonly reapListeners: ((t: Task) => void)[] = [];

  /** A task was reaped: its work joins the machine's totals. */
  reaped(t: Task): void {
    this.totals.merge(t.counters);
    for (const f of this.reapListeners) f(t);
  }

  /** exec's de_thread: the other threads of t's group die. */
  killOtherThreads(t: Task): void {
    const leader = this.tasks.get(t.tgid) ?? t;
    for (const th of [leader, ...leader.threads]) {
      if (th !== t && th.state !== "zombie" && th.state !== "reaped") th.pendingSignal = SIGKILL;
    }
  }

  /** A console file for fds 0-2 of the first process. */
  consoleFile(stream: "stdout" | "stderr"): OpenFile {
    return new OpenFile(consoleOps(this.console, stream, this.stdin), O_RDWR);
  }

  // ---- frames ----------------------------------------------------------------

  /** A frame for user memory (count 1), reclaiming MADV_FREE pages under pressure; NO_FRAME if none. */
  allocUserFrame(): number {
    let f = this.pages.allocFrame();
    if (f === NO_FRAME && this.reclaimLazyfree() > 0) f = this.pages.allocFrame();
    if (f === NO_FRAME) {
      this.pages.drainAll();
      f = this.pages.allocFrame();
    }
    if (f !== NO_FRAME) this.current.counters.k[Kev.PAGE_ALLOC]++;
    return f;
  }

  /** A cleared frame for page tables; NO_FRAME if none. */
  allocKernelFrame(): number {
    const f = this.allocUserFrame();
    if (f !== NO_FRAME) this.policy.prepareZeroed(f, this.current.counters.k);
    return f;
  }

  freeKernelFrame(f: number): void {
    this.frames.flags[f] &= ~PG_PGTABLE;
    this.frames.tag[f] = TAG_NONE;
    this.freeFrame(f);
  }

  /** put_page: drop one reference; the last one frees the frame, which keeps its owner tag. */
  putPage(f: number): void {
    if (--this.frames.count[f] > 0) return;
    this.policy.onFree(f, this.current.counters.k);
    this.frames.flags[f] &= ~(PG_ANON | PG_SHMEM);
    this.freeFrame(f);
  }

  private freeFrame(f: number): void {
    this.pages.freeFrame(f);
    this.current.counters.k[Kev.PAGE_FREE]++;
  }

  /** The backing object of an open file for mmap; -EBADF for a bad descriptor. */
  mmapObject(t: Task, fd: number): MemObject | number {
    const f = t.files?.get(fd) ?? null;
    if (f === null) return -EBADF;
    if (!f.readable) return -EACCES;
    return f.ops.mmapObject?.(f) ?? -ENODEV;
  }

  newShmem(npages: number): ShmemObject {
    return new ShmemObject(this, this.nextInode++, npages);
  }

  /**
   * prezero: the idle thread clears free frames with the CPU time left idle so
   * far (up to half the free frames, FreeBSD's hysteresis); take one if any.
   */
  takePrezeroed(): boolean {
    const t = this.current;
    const now = t.cpu >= 0 ? taskNow(this, t) : this.timeline.end;
    const perPage = this.machine.kernel[Kev.CLEAR_IDLE_BYTES].cycles * PAGE_SIZE;
    const affordable = Math.floor((this.timeline.idleUntil(now) - this.prezeroSpent) / perPage);
    const room = Math.floor(this.pages.freeFrames / 2) - this.prezeroPool;
    const add = Math.max(0, Math.min(affordable, room));
    if (add > 0) {
      this.prezeroPool += add;
      this.prezeroSpent += add * perPage;
      this.idleCounters.k[Kev.CLEAR_IDLE_BYTES] += add * PAGE_SIZE;
    }
    if (this.prezeroPool === 0) return false;
    this.prezeroPool--;
    return true;
  }

  // ---- MADV_FREE reclaim ---------------------------------------------------------

  noteLazyfree(mm: Mm): void {
    this.lazyfreeMms.add(mm);
  }

  /** Free the clean MADV_FREE pages (what reclaim does under memory pressure). */
  reclaimLazyfree(): number {
    let freed = 0;
    for (const mm of this.lazyfreeMms) {
      for (const a of [...mm.lazyfree]) {
        const pte = mm.pte(a);
        if (!(pte & PTE_P) || pte & PTE_D) mm.lazyfree.delete(a);
        else if (this.frames.count[pte >>> 12] === 1) {
          zapRange(mm, a, a + PAGE_SIZE);
          freed++;
        }
      }
      if (mm.lazyfree.size === 0) this.lazyfreeMms.delete(mm);
    }
    return freed;
  }

  // ---- tasks -------------------------------------------------------------------------

  /** Make `task` the running task: its user memory now counts into its counters. */
  switchTo(task: Task): void {
    this.current.mm?.mem.flush();
    this.current = task;
    this.bindUser(task);
  }

  /** Point the task's user-memory accessor at the task's counters and current symbol. */
  bindUser(task: Task): void {
    const mm = task.mm;
    if (mm === null) return;
    mm.mem.flush();
    mm.mem.counts = task.counters.ensure(task.sym);
    mm.mem.cur = task.sym * NUEV;
  }

  /** Bring the task's user counters up to date (its accessor's pending count), before reading them. */
  flushUser(task: Task): void {
    if (task === this.current) task.mm?.mem.flush();
  }

  /**
   * A user access the fault path could not resolve: deliver the signal to the
   * current task by unwinding its user code. Out of memory calls the OOM
   * killer: if it killed another task, return so the access is retried.
   */
  deliverFault(addr: number, code: number): void {
    if (code === FAULT_OOM) {
      const victim = oomKill(this);
      if (victim !== null && victim.tgid !== this.current.tgid) return;
      throw new FatalSignal(SIGKILL, addr);
    }
    if (code === FAULT_SIGBUS) throw new FatalSignal(SIGBUS, addr);
    throw new FatalSignal(SIGSEGV, addr, code === FAULT_SEGV_ACCERR ? SEGV_ACCERR : SEGV_MAPERR);
  }
}
