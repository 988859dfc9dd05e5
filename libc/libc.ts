// The C library a program links against: syscall wrappers that set errno,
// the environment, stdio, process and thread control, and (libc/malloc)
// the allocator. Everything a program sees of its process lives in its user
// memory or goes through the syscall gate; the JS-side state here is what a
// real libc keeps in its own .data (errno, atexit handlers, stream fill
// counts), and it is copied at fork.
//
// libc's own .data/.bss is a 16 KiB mapping made at start-up:
//
//   +0x0000  scratch: structs and strings passed to syscalls (4 KiB)
//   +0x1000  stdout buffer (4 KiB)
//   +0x2000  malloc's main_arena and parameters (8 KiB)

import type { UserContext, UserEntry } from "../kernel/ucontext.ts";
import type { UserMemory } from "../kernel/uaccess.ts";
import { NR } from "../kernel/unistd.ts";
import { MAP_ANONYMOUS, MAP_FAILED, MAP_PRIVATE, MAP_STACK, PROT_READ, PROT_WRITE } from "../kernel/mman.ts";
import { SIGABRT } from "../kernel/signal.ts";
import { type FormatArg, formatPrintf } from "./format.ts";
import { arenaThreadFreeres } from "./malloc/arena.ts";
import { G_CURBRK } from "./malloc/layout.ts";
import { Malloc, type ThreadState } from "./malloc/malloc.ts";
import { type Mallinfo2, mallinfo2, mallocInfoText, mallocPeaks, mallocStatsText } from "./malloc/stats.ts";
import { MTRACE_START, mtraceAlloc, mtraceFree, mtraceRealloc } from "./malloc/mtrace.ts";
import { mallopt } from "./malloc/tunables.ts";
import { Stream, latin1 } from "./stdio.ts";

export const LIBC_DATA_BYTES = 16 << 10;
const OFF_SCRATCH = 0;
const SCRATCH_BYTES = 4096;
const OFF_STDOUT = 0x1000;
/** The MALLOC_TRACE log's buffer (its own mapping, so tracing changes nothing else's layout). */
const MTRACE_BUF_BYTES = 4096;
export const OFF_MALLOC = 0x2000;
/** Marshalling space for execve's argument vectors (mapped on first use). */
const BIG_SCRATCH_BYTES = 256 << 10;
/** glibc's default thread stack: RLIMIT_STACK, 8 MiB, plus a guard page. */
const THREAD_STACK = 8 << 20;

const CLONE_THREAD_FLAGS = 0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x40000 | 0x80000 | 0x100000 | 0x200000;
const FUTEX_WAIT_PRIVATE = 128;
const EAGAIN = 11;
const EINTR = 4;

export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_CREAT = 0o100;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;

export function WIFEXITED(s: number): boolean {
  return (s & 0x7f) === 0;
}
export function WEXITSTATUS(s: number): number {
  return (s >> 8) & 0xff;
}
export function WIFSIGNALED(s: number): boolean {
  return (s & 0x7f) !== 0 && (s & 0x7f) !== 0x7f;
}
export function WTERMSIG(s: number): number {
  return s & 0x7f;
}

/** State shared by a process's threads and copied by fork. */
interface ProcessState {
  dataBase: number;
  bigScratch: number;
  stdout: Stream;
  stderr: Stream;
  atexit: (() => void)[];
  environ: number;
  threads: Map<number, { tidAddr: number; stack: number; result: number }>;
  /** Per-process extension state, copied at fork by its owner. */
  ext: Map<string, { clone(): unknown }>;
  /** Where exec left the auxiliary vector. */
  auxv: number;
  /**
   * glibc's __libc_single_threaded, inverted: set by the first pthread_create
   * and never cleared. malloc takes its multi-threaded paths (SINGLE_THREAD_P
   * false) from then on.
   */
  multipleThreads?: boolean;
  /** memcpy's and memset's symbols, interned on first use. */
  symMemcpy?: number;
  symMemset?: number;
  /** The MALLOC_TRACE log, when tracing (libc/malloc/mtrace.ts). */
  mtrace: Stream | null;
}

export interface StatInfo {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  ino: number;
  nlink: number;
  /** st_mtime and st_mtime_nsec. */
  mtime: number;
  mtimeNsec: number;
}

export class Libc {
  errno = 0;
  readonly mem: UserMemory;
  private allocator: Malloc | null = null;

  constructor(
    readonly ctx: UserContext,
    private readonly p: ProcessState,
    /** This thread's malloc TLS (its tcache and arena). */
    private readonly tls: ThreadState = { tcache: 0, arena: 0 },
  ) {
    this.mem = ctx.mem;
  }

  /** crt0's job: map libc's data, set up stdio and environ (the envp array at `environ`). */
  static start(ctx: UserContext, environ: number, auxv: number): Libc {
    const p: ProcessState = {
      auxv,
      dataBase: 0,
      bigScratch: 0,
      stdout: new Stream(1, 0, 0, "none"),
      stderr: new Stream(2, 0, 0, "none"),
      atexit: [],
      environ,
      threads: new Map(),
      ext: new Map(),
      mtrace: null,
    };
    const libc = new Libc(ctx, p);
    const base = libc.mmap(0, LIBC_DATA_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    if (base === MAP_FAILED) libc._exit(127);
    p.dataBase = base;
    p.stdout = new Stream(1, base + OFF_STDOUT, 4096, "line");
    p.stderr = new Stream(2, base + OFF_SCRATCH + SCRATCH_BYTES - 1024, 1024, "none");
    libc.startMtrace();
    return libc;
  }

  /** mtrace(): with MALLOC_TRACE set, log every allocation to that file, fully buffered. */
  private startMtrace(): void {
    const path = this.getenv("MALLOC_TRACE");
    if (path === null || path === "") return;
    const fd = this.open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o666);
    if (fd < 0) return;
    const buf = this.mmap(0, MTRACE_BUF_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    if (buf === MAP_FAILED) {
      this.close(fd);
      return;
    }
    this.p.mtrace = new Stream(fd, buf, MTRACE_BUF_BYTES, "full");
    this.trace(MTRACE_START);
  }

  private trace(line: string): void {
    const s = this.p.mtrace!;
    s.put(this.mem, line, (addr, n) => this.write(s.fd, addr, n) === n);
  }

  /** Address of libc's static data (malloc keeps main_arena there). */
  get dataBase(): number {
    return this.p.dataBase;
  }

  /** Per-process state a libc module keeps (created on first use, cloned at fork). */
  ext<T extends { clone(): unknown }>(key: string, make: () => T): T {
    let v = this.p.ext.get(key) as T | undefined;
    if (v === undefined) {
      v = make();
      this.p.ext.set(key, v);
    }
    return v;
  }

  // ---- the syscall boundary -------------------------------------------------------

  /** A raw syscall with glibc's convention: -1 and errno on failure. */
  syscall(nr: number, a = 0, b = 0, c = 0, d = 0, e = 0, f = 0): number {
    const r = this.ctx.syscall(nr, a, b, c, d, e, f);
    if (r < 0 && r > -4096) {
      this.errno = -r;
      return -1;
    }
    return r;
  }

  /** Copy a string into the scratch area; its address. */
  private cstr(s: string, at = 0): number {
    const addr = this.p.dataBase + OFF_SCRATCH + at;
    if (at + s.length + 1 > SCRATCH_BYTES) throw new RangeError("libc: string too long for a syscall argument");
    this.mem.writeCString(addr, s);
    return addr;
  }

  private scratch(off = 0): number {
    return this.p.dataBase + OFF_SCRATCH + off;
  }

  // ---- process ----------------------------------------------------------------------

  getpid(): number {
    return this.syscall(NR.getpid);
  }
  getppid(): number {
    return this.syscall(NR.getppid);
  }
  gettid(): number {
    return this.syscall(NR.gettid);
  }
  getuid(): number {
    return this.syscall(NR.getuid32);
  }
  geteuid(): number {
    return this.syscall(NR.geteuid32);
  }
  getgid(): number {
    return this.syscall(NR.getgid32);
  }
  getegid(): number {
    return this.syscall(NR.getegid32);
  }
  setuid(uid: number): number {
    return this.syscall(NR.setuid32, uid);
  }
  setgid(gid: number): number {
    return this.syscall(NR.setgid32, gid);
  }
  kill(pid: number, sig: number): number {
    return this.syscall(NR.kill, pid, sig);
  }

  /**
   * fork: the child runs `child` with its own libc (a copy of this one's
   * state over the copied address space); its return value is its exit
   * status. Returns the child's pid, or -1.
   */
  fork(child: (libc: Libc) => number): number {
    // The child runs later (when this process blocks or ends): its copy of
    // libc's state is taken now, as its memory was.
    const state = cloneState(this.p);
    const tls = { ...this.tls };
    this.ctx.setChildEntry((c) => {
      const l = new Libc(c, state, tls);
      return l.exit(child(l));
    });
    return this.syscall(NR.fork);
  }

  /** execve: on success never returns (the new program replaces this one); -1 on failure. */
  execve(path: string, argv: readonly string[], envp: readonly string[]): number {
    if (this.p.bigScratch === 0) {
      const m = this.mmap(0, BIG_SCRATCH_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
      if (m === MAP_FAILED) return -1;
      this.p.bigScratch = m;
    }
    // Strings, then the two NULL-terminated pointer arrays, all in user memory.
    let at = this.p.bigScratch;
    const end = this.p.bigScratch + BIG_SCRATCH_BYTES;
    const place = (s: string) => {
      const a = at;
      at += s.length + 1;
      if (at > end) throw new RangeError("execve: argument list too long for libc's buffer");
      this.mem.writeCString(a, s);
      return a;
    };
    const pathPtr = place(path);
    const argPtrs = argv.map(place);
    const envPtrs = envp.map(place);
    at = (at + 3) & ~3;
    const argvPtr = at;
    for (const p of [...argPtrs, 0]) {
      this.mem.write32(at, p);
      at += 4;
    }
    const envpPtr = at;
    for (const p of [...envPtrs, 0]) {
      this.mem.write32(at, p);
      at += 4;
    }
    this.flushAll();
    return this.syscall(NR.execve, pathPtr, argvPtr, envpPtr);
  }

  /** The environment as the kernel laid it out (or as setenv changed it). */
  get environ(): string[] {
    const out: string[] = [];
    for (let p = this.p.environ; p !== 0; p += 4) {
      const s = this.mem.readU32(p);
      if (s === 0) break;
      out.push(this.mem.readCString(s));
    }
    return out;
  }

  /** The address of the envp array in user memory (C's `environ`), for a raw execve. */
  get environPtr(): number {
    return this.p.environ;
  }

  /** waitpid: {pid, status} of a child that ended, or null with errno set. */
  waitpid(pid: number, options = 0): { pid: number; status: number } | null {
    const sp = this.scratch(0);
    this.mem.write32(sp, 0);
    const r = this.syscall(NR.wait4, pid, sp, options, 0);
    if (r < 0) return null;
    return { pid: r, status: this.mem.read32(sp) };
  }

  /** fork + execve; the child exits 127 if the exec fails (as posix_spawn reports). */
  spawn(path: string, argv: readonly string[], envp: readonly string[] = this.environ): number {
    return this.fork((c) => {
      c.execve(path, argv, envp);
      return 127;
    });
  }

  atexit(fn: () => void): void {
    this.p.atexit.push(fn);
  }

  /** exit: atexit handlers in reverse, flush stdio, then end the process. */
  exit(status: number): never {
    const fns = this.p.atexit.splice(0);
    for (let i = fns.length - 1; i >= 0; i--) fns[i]();
    this.flushAll();
    return this._exit(status);
  }

  _exit(status: number): never {
    this.ctx.syscall(NR.exit_group, status);
    throw new Error("exit_group returned");
  }

  /** abort: SIGABRT to this process (no stdio flush, as glibc since 2.27). */
  abort(): never {
    this.ctx.syscall(NR.kill, this.getpid(), SIGABRT);
    throw new Error("abort: SIGABRT was not delivered");
  }

  /** sleep for a simulated time in seconds (nanosleep). */
  sleep(seconds: number): number {
    const sp = this.scratch(0);
    const whole = Math.floor(seconds);
    this.mem.write32(sp, whole);
    this.mem.write32(sp + 4, Math.round((seconds - whole) * 1e9));
    return this.syscall(NR.nanosleep, sp, 0);
  }

  /** clock_gettime as seconds (a JS number). */
  clockGettime(clock = 1): number {
    const sp = this.scratch(0);
    if (this.syscall(NR.clock_gettime, clock, sp) < 0) return -1;
    return this.mem.readU32(sp) + this.mem.readU32(sp + 4) / 1e9;
  }

  /** time(2): whole seconds of CLOCK_REALTIME. */
  time(): number {
    return Math.floor(this.clockGettime(0));
  }

  /**
   * The emulator's clock in seconds, read without a syscall or any cost: for
   * modelling a flag another thread flips at a known time (ebizzy's
   * threads_go), since tasks run one at a time and cannot see each other.
   */
  simNow(): number {
    return this.ctx.now() / this.ctx.hz;
  }

  /** getrusage: user and system seconds, max RSS (KiB) and minor faults. */
  getrusage(who = 0): { utime: number; stime: number; maxrss: number; minflt: number } {
    const sp = this.scratch(0);
    this.syscall(NR.getrusage, who, sp);
    const r = (i: number) => this.mem.readU32(sp + 4 * i);
    return { utime: r(0) + r(1) / 1e6, stime: r(2) + r(3) / 1e6, maxrss: r(4), minflt: r(8) };
  }

  // ---- threads -------------------------------------------------------------------------

  /**
   * pthread_create: a thread running `start` on its own stack, sharing the
   * address space. It runs when joined (or when this thread blocks).
   */
  pthreadCreate(start: (libc: Libc) => number): number {
    this.p.multipleThreads = true;
    const stack = this.mmap(0, THREAD_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK);
    if (stack === MAP_FAILED) return -1;
    const tidAddr = stack + THREAD_STACK - 16;
    const state = this.p;
    this.ctx.setChildEntry((c) => {
      const l = new Libc(c, state);
      const r = start(l);
      const th = state.threads.get(l.gettid());
      if (th) th.result = r;
      l.threadFreeres();
      l.ctx.syscall(NR.exit, 0);
      return 0;
    });
    const tid = this.syscall(NR.clone, CLONE_THREAD_FLAGS, tidAddr, 0, 0, tidAddr);
    if (tid < 0) {
      this.munmap(stack, THREAD_STACK);
      return -1;
    }
    this.mem.write32(tidAddr, tid);
    state.threads.set(tid, { tidAddr, stack, result: 0 });
    return tid;
  }

  /** pthread_join: wait on the thread's tid word (cleared by the kernel at its exit); its result. */
  pthreadJoin(tid: number): number {
    const th = this.p.threads.get(tid);
    if (th === undefined) return -1;
    for (;;) {
      const v = this.mem.read32(th.tidAddr);
      if (v === 0) break;
      const r = this.syscall(NR.futex, th.tidAddr, FUTEX_WAIT_PRIVATE, v);
      if (r < 0 && this.errno !== EAGAIN && this.errno !== EINTR) break;
    }
    this.p.threads.delete(tid);
    this.munmap(th.stack, THREAD_STACK);
    return th.result;
  }

  // ---- memory ----------------------------------------------------------------------------

  mmap(addr: number, len: number, prot: number, flags: number, fd = -1, offset = 0): number {
    if (offset % 4096 !== 0) {
      this.errno = 22;
      return MAP_FAILED;
    }
    const r = this.syscall(NR.mmap2, addr, len, prot, flags, fd, offset / 4096);
    return r === -1 ? MAP_FAILED : r >>> 0;
  }
  munmap(addr: number, len: number): number {
    return this.syscall(NR.munmap, addr, len);
  }
  mprotect(addr: number, len: number, prot: number): number {
    return this.syscall(NR.mprotect, addr, len, prot);
  }
  mremap(addr: number, oldLen: number, newLen: number, flags: number, newAddr = 0): number {
    const r = this.syscall(NR.mremap, addr, oldLen, newLen, flags, newAddr);
    return r === -1 ? MAP_FAILED : r >>> 0;
  }
  madvise(addr: number, len: number, advice: number): number {
    return this.syscall(NR.madvise, addr, len, advice);
  }
  /**
   * brk(addr): 0, or -1 with ENOMEM when the kernel did not move the break
   * there. As glibc's __brk, it records the break in __curbrk, which sbrk and
   * malloc's MORECORE share (so malloc notices a program's own sbrk).
   */
  brk(addr: number): number {
    const r = this.ctx.syscall(NR.brk, addr) >>> 0;
    this.mallocator.setG(G_CURBRK, r);
    if (r < addr) {
      this.errno = 12;
      return -1;
    }
    return 0;
  }
  /** sbrk(incr): the old break, the break moved by incr; (void *) -1 with ENOMEM on failure. */
  sbrk(incr: number): number {
    let cur = this.mallocator.g(G_CURBRK);
    if (cur === 0 && this.brk(0) < 0) return 0xffffffff;
    cur = this.mallocator.g(G_CURBRK);
    if (incr === 0) return cur;
    return this.brk((cur + incr) >>> 0) < 0 ? 0xffffffff : cur;
  }
  /** The raw break (brk(0)). */
  currentBreak(): number {
    return this.ctx.syscall(NR.brk, 0) >>> 0;
  }
  /** The 2007 patch's brk2(addr, flags): the new break (or the old one on failure). */
  brk2(addr: number, flags: number): number {
    const r = this.ctx.syscall(NR.brk2, addr, flags);
    if (r < 0 && r > -4096) {
      this.errno = -r;
      return -1;
    }
    return r >>> 0;
  }

  /** memset/memcpy through user memory, charged as bulk bytes. */
  memset(p: number, c: number, n: number): number {
    const prev = this.enter(this.p.symMemset ??= this.symbol("libc.so.6", "memset"));
    this.mem.memset(p, c, n);
    this.leave(prev);
    return p;
  }
  memcpy(d: number, s: number, n: number): number {
    const prev = this.enter(this.p.symMemcpy ??= this.symbol("libc.so.6", "memcpy"));
    this.mem.memcpy(d, s, n);
    this.leave(prev);
    return d;
  }
  strlen(p: number): number {
    let n = 0;
    while (this.mem.read8(p + n) !== 0) n++;
    return n;
  }

  // ---- files -------------------------------------------------------------------------------

  open(path: string, flags = O_RDONLY, mode = 0o666): number {
    return this.syscall(NR.open, this.cstr(path), flags, mode);
  }
  close(fd: number): number {
    return this.syscall(NR.close, fd);
  }
  read(fd: number, buf: number, n: number): number {
    return this.syscall(NR.read, fd, buf, n);
  }
  write(fd: number, buf: number, n: number): number {
    return this.syscall(NR.write, fd, buf, n);
  }
  lseek(fd: number, off: number, whence: number): number {
    return this.syscall(NR.lseek, fd, off, whence);
  }
  unlink(path: string): number {
    return this.syscall(NR.unlink, this.cstr(path));
  }
  mkdir(path: string, mode = 0o777): number {
    return this.syscall(NR.mkdir, this.cstr(path), mode);
  }
  rmdir(path: string): number {
    return this.syscall(NR.rmdir, this.cstr(path));
  }
  chdir(path: string): number {
    return this.syscall(NR.chdir, this.cstr(path));
  }
  dup2(from: number, to: number): number {
    return this.syscall(NR.dup2, from, to);
  }
  getcwd(): string | null {
    const buf = this.scratch(0);
    return this.syscall(NR.getcwd, buf, SCRATCH_BYTES) < 0 ? null : this.mem.readCString(buf);
  }

  /** stat64 of a path (follows symlinks); null with errno set. */
  stat(path: string): StatInfo | null {
    const buf = this.scratch(2048);
    if (this.syscall(NR.stat64, this.cstr(path), buf) < 0) return null;
    const m = this.mem;
    return { mode: m.readU32(buf + 16), nlink: m.readU32(buf + 20), uid: m.readU32(buf + 24), gid: m.readU32(buf + 28), size: m.readU32(buf + 44), ino: m.readU32(buf + 88), mtime: m.readU32(buf + 72), mtimeNsec: m.readU32(buf + 76) };
  }

  /** Read a whole file as a string; null with errno set. */
  readFile(path: string): string | null {
    const fd = this.open(path, O_RDONLY);
    if (fd < 0) return null;
    const buf = this.scratch(1024);
    let s = "";
    for (;;) {
      const n = this.read(fd, buf, 2048);
      if (n < 0) {
        this.close(fd);
        return null;
      }
      if (n === 0) break;
      s += Buffer.from(this.mem.readBytes(buf, n)).toString("latin1");
    }
    this.close(fd);
    return s;
  }

  /** Write a JS string to a descriptor (through user memory, in scratch-sized pieces). */
  writeString(fd: number, s: string): number {
    const bytes = latin1(s);
    const buf = this.scratch(1024);
    let done = 0;
    while (done < bytes.length) {
      const chunk = bytes.subarray(done, done + 2048);
      this.mem.writeBytes(buf, chunk);
      const n = this.write(fd, buf, chunk.length);
      if (n < 0) return -1;
      done += n;
    }
    return done;
  }

  /** Names in a directory (getdents64); null with errno set. */
  readdir(path: string): string[] | null {
    const fd = this.open(path, 0o200000);
    if (fd < 0) return null;
    const buf = this.scratch(1024);
    const names: string[] = [];
    for (;;) {
      const n = this.syscall(NR.getdents64, fd, buf, 2048);
      if (n <= 0) break;
      for (let off = 0; off < n; ) {
        const reclen = this.mem.read16(buf + off + 16);
        names.push(this.mem.readCString(buf + off + 19));
        off += reclen;
      }
    }
    this.close(fd);
    return names.filter((x) => x !== "." && x !== "..");
  }

  // ---- stdio -----------------------------------------------------------------------------

  printf(fmt: string, ...args: FormatArg[]): number {
    return this.fputs(this.p.stdout, this.sprintf(fmt, ...args));
  }
  eprintf(fmt: string, ...args: FormatArg[]): number {
    return this.fputs(this.p.stderr, this.sprintf(fmt, ...args));
  }
  puts(s: string): number {
    return this.fputs(this.p.stdout, s + "\n");
  }
  sprintf(fmt: string, ...args: FormatArg[]): string {
    return formatPrintf(fmt, args, (p) => this.mem.readCString(p));
  }
  /** Write text to fd 1 or 2 through its stream. */
  dprint(fd: 1 | 2, text: string): number {
    return this.fputs(fd === 1 ? this.p.stdout : this.p.stderr, text);
  }
  fflush(): void {
    this.flushAll();
  }
  /** stdout buffering (setvbuf). */
  setStdoutMode(mode: "line" | "full" | "none"): void {
    this.p.stdout.mode = mode;
  }

  private fputs(s: Stream, text: string): number {
    const ok = s.put(this.mem, text, (addr, n) => this.write(s.fd, addr, n) === n);
    return ok ? text.length : -1;
  }

  private flushAll(): void {
    this.p.stdout.flush((addr, n) => this.write(1, addr, n) === n);
    const t = this.p.mtrace;
    t?.flush((addr, n) => this.write(t.fd, addr, n) === n);
  }

  // ---- malloc (libc/malloc: ptmalloc2) ----------------------------------------------------

  /** SINGLE_THREAD_P: no thread was ever created in this process. */
  get singleThreaded(): boolean {
    return this.p.multipleThreads !== true;
  }

  /** This thread's view of the allocator. */
  get mallocator(): Malloc {
    return (this.allocator ??= new Malloc(this, this.p.dataBase + OFF_MALLOC, this.tls));
  }
  /** An allocation's result, logged when tracing. */
  private traced(p: number, n: number): number {
    if (this.p.mtrace !== null) this.trace(mtraceAlloc(p, n));
    return p;
  }
  malloc(n: number): number {
    return this.traced(this.mallocator.malloc(n), n);
  }
  free(p: number): void {
    if (this.p.mtrace !== null) this.trace(mtraceFree(p));
    this.mallocator.free(p);
  }
  calloc(n: number, size: number): number {
    return this.traced(this.mallocator.calloc(n, size), n * size);
  }
  realloc(old: number, n: number): number {
    const p = this.mallocator.realloc(old, n);
    if (this.p.mtrace !== null) this.trace(mtraceRealloc(old, p, n));
    return p;
  }
  /** reallocarray: realloc(p, nmemb * size); 0 with ENOMEM (p untouched) when the product overflows size_t. */
  reallocarray(p: number, nmemb: number, size: number): number {
    if (nmemb * size > 0xffffffff) {
      this.errno = 12;
      return 0;
    }
    return this.realloc(p, nmemb * size);
  }
  memalign(alignment: number, n: number): number {
    return this.traced(this.mallocator.memalign(alignment, n), n);
  }
  /** posix_memalign: 0 with *memptr set, or EINVAL/ENOMEM. */
  posixMemalign(memptr: number, alignment: number, n: number): number {
    const r = this.mallocator.posixMemalign(memptr, alignment, n);
    if (r === 0 && this.p.mtrace !== null) this.traced(this.mem.readU32(memptr), n);
    return r;
  }
  alignedAlloc(alignment: number, n: number): number {
    return this.traced(this.mallocator.alignedAlloc(alignment, n), n);
  }
  valloc(n: number): number {
    return this.traced(this.mallocator.valloc(n), n);
  }
  pvalloc(n: number): number {
    return this.traced(this.mallocator.pvalloc(n), n);
  }
  mallocUsableSize(p: number): number {
    return this.mallocator.usableSize(p);
  }
  mallocTrim(pad: number): number {
    return this.mallocator.trim(pad);
  }
  mallopt(param: number, value: number): number {
    return mallopt(this.mallocator, param, value);
  }
  mallinfo2(): Mallinfo2 {
    return mallinfo2(this.mallocator);
  }
  /** The most heap and mmap memory malloc has held (what malloc_info and malloc_stats report as max). */
  mallocPeaks(): { maxSystemMem: number; maxMmappedMem: number } {
    return mallocPeaks(this.mallocator);
  }
  /** malloc_stats: its report on stderr. */
  mallocStats(): void {
    this.dprint(2, mallocStatsText(this.mallocator));
  }
  /** malloc_info(0, fd): glibc's XML on a descriptor (options must be 0: else EINVAL). */
  mallocInfo(options: number, fd: number): number {
    if (options !== 0) return 22;
    this.flushAll();
    return this.writeString(fd, mallocInfoText(this.mallocator)) < 0 ? -1 : 0;
  }

  /** A thread ends: its tcache goes back to its arena, and it detaches from the arena. */
  threadFreeres(): void {
    const m = this.allocator;
    if (m === null) return;
    m.tcacheThreadShutdown();
    arenaThreadFreeres(m);
  }

  /** getauxval: a value of the auxiliary vector exec left (0 if absent). */
  auxv(type: number): number {
    for (let a = this.p.auxv; a !== 0; a += 8) {
      const t = this.mem.readU32(a);
      if (t === 0) return 0;
      if (t === type) return this.mem.readU32(a + 4);
    }
    return 0;
  }

  // ---- environment ------------------------------------------------------------------------

  /** getenv: scans the environment in user memory. */
  getenv(name: string): string | null {
    for (const e of this.environ) {
      if (e.length > name.length && e[name.length] === "=" && e.startsWith(name)) return e.slice(name.length + 1);
    }
    return null;
  }

  // ---- cost attribution ---------------------------------------------------------------------

  /** Intern a symbol of this program or library, for enter(). */
  symbol(image: string, name: string): number {
    return this.ctx.symbol(image, name);
  }
  enter(sym: number): number {
    return this.ctx.enter(sym);
  }
  leave(prev: number): void {
    this.ctx.leave(prev);
  }
  /** Count n instructions of program work under the current symbol. */
  work(n: number): void {
    this.ctx.work(n);
  }
}

function cloneState(p: ProcessState): ProcessState {
  const ext = new Map<string, { clone(): unknown }>();
  for (const [k, v] of p.ext) ext.set(k, v.clone() as { clone(): unknown });
  return {
    ...p,
    stdout: p.stdout.clone(),
    stderr: p.stderr.clone(),
    mtrace: p.mtrace?.clone() ?? null,
    atexit: [...p.atexit],
    threads: new Map(),
    ext,
  };
}

/** A program's main: argv and envp as the kernel laid them out, and its libc. */
export type Main = (argv: string[], envp: string[], libc: Libc) => number;

/**
 * crt0: read argc, argv and envp from the initial stack in user memory, start
 * libc, run main (its work charged to the symbol `main` of image `image`), and
 * exit with its result.
 */
export function crt0(main: Main, image: string): UserEntry {
  return (ctx) => {
    ctx.enter(ctx.symbol(image, "main"));
    const m = ctx.mem;
    const argc = m.readU32(ctx.sp);
    const argv: string[] = [];
    for (let i = 0; i < argc; i++) argv.push(m.readCString(m.readU32(ctx.sp + 4 + 4 * i)));
    const environ = ctx.sp + 4 + 4 * (argc + 1);
    let auxv = environ;
    while (m.readU32(auxv) !== 0) auxv += 4;
    const libc = Libc.start(ctx, environ, auxv + 4);
    return libc.exit(main(argv, libc.environ, libc));
  };
}
