// Process system calls: exit, fork/clone, execve, wait4, ids, setuid family,
// kill, ptrace, sleep, clocks and rusage, futex for thread join, uname.

import { Kev } from "./cost/events.ts";
import { cyclesOf } from "./cost/price.ts";
import { setgid, setresuid, setuid, ptraceMayAccess } from "./cred.ts";
import { EAGAIN, EDEADLK, EFAULT, EINVAL, EPERM, ESRCH } from "./errno.ts";
import { copyStrings, doExecve } from "./exec.ts";
import type { Kernel } from "./kernel.ts";
import { blockAndRun, copyProcess, doWait, sendFatal, taskNow } from "./process.ts";
import { ExecUnwind, SIGCHLD, SIGKILL, TaskExit } from "./signal.ts";
import { type Task, credTag } from "./task.ts";
import { Counters } from "./cost/events.ts";

export const CLONE_VM = 0x100;
export const CLONE_THREAD = 0x10000;
export const CLONE_CHILD_CLEARTID = 0x200000;
export const WNOHANG = 1;
export const FUTEX_WAIT = 0;
export const FUTEX_WAKE = 1;
const FUTEX_CMD_MASK = 0x7f;
export const PTRACE_PEEKDATA = 2;
export const PTRACE_POKEDATA = 5;
export const PTRACE_ATTACH = 16;
export const PTRACE_DETACH = 17;
/** Signals whose default action is to do nothing. */
const IGNORED = new Set([SIGCHLD, 18, 23, 28]);
/** CLOCK_REALTIME at boot: the 2007 patch's date (Thu 28 Jun 2007 00:00 UTC). */
const BOOT_EPOCH = 1182988800;

function put32s(t: Task, addr: number, words: number[]): boolean {
  const b = new Uint8Array(4 * words.length);
  const dv = new DataView(b.buffer);
  words.forEach((w, i) => dv.setUint32(4 * i, w >>> 0, true));
  return t.mm!.mem.copyToUser(addr, b);
}

function get32(t: Task, addr: number): number | null {
  const b = t.mm!.mem.copyFromUser(addr, 4);
  return b === null ? null : (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
}

export function sys_exit(_k: Kernel, t: Task, code: number): number {
  t.unwind = new TaskExit(code & 0xff);
  return 0;
}

export function sys_exit_group(k: Kernel, t: Task, code: number): number {
  const leader = k.tasks.get(t.tgid) ?? t;
  for (const th of [leader, ...leader.threads]) if (th !== t && th.state !== "zombie" && th.state !== "reaped") th.pendingSignal = SIGKILL;
  t.unwind = new TaskExit(code & 0xff);
  return 0;
}

export function sys_fork(k: Kernel, t: Task): number {
  const entry = t.childEntry;
  t.childEntry = null;
  if (entry === null) return -EINVAL;
  const c = copyProcess(k, t, entry, false);
  return typeof c === "number" ? c : c.pid;
}

/** clone(flags, stack, parent_tid, tls, child_tid): threads (CLONE_VM|CLONE_THREAD) or a fork. */
export function sys_clone(k: Kernel, t: Task, flags: number, _stack: number, _ptid: number, _tls: number, ctid: number): number {
  const entry = t.childEntry;
  t.childEntry = null;
  if (entry === null) return -EINVAL;
  const thread = (flags & (CLONE_VM | CLONE_THREAD)) === (CLONE_VM | CLONE_THREAD);
  if (!thread && flags & CLONE_VM) return -EINVAL;
  const c = copyProcess(k, t, entry, thread);
  if (typeof c === "number") return c;
  if (flags & CLONE_CHILD_CLEARTID) c.clearChildTid = ctid;
  return c.pid;
}

export function sys_execve(k: Kernel, t: Task, pathPtr: number, argvPtr: number, envpPtr: number): number {
  const path = t.mm!.mem.strncpyFromUser(pathPtr, 4096);
  if (path === null) return -EFAULT;
  const argv = copyStrings(t, argvPtr);
  if (typeof argv === "number") return argv;
  const envp = copyStrings(t, envpPtr);
  if (typeof envp === "number") return envp;
  const r = doExecve(k, t, path, argv, envp);
  if (r === 0) t.unwind = new ExecUnwind();
  return r;
}

export function sys_wait4(k: Kernel, t: Task, pid: number, statusPtr: number, options: number, rusagePtr: number): number {
  const r = doWait(k, pid | 0, (options & WNOHANG) !== 0);
  if (typeof r === "number") return r;
  if (r.child !== null) {
    if (statusPtr !== 0 && !put32s(t, statusPtr, [r.status])) return -EFAULT;
    if (rusagePtr !== 0 && !putRusage(k, t, rusagePtr, r.child.counters, r.child.mm?.hiwaterRss ?? 0)) return -EFAULT;
  }
  return r.pid;
}

export function sys_waitpid(k: Kernel, t: Task, pid: number, statusPtr: number, options: number): number {
  return sys_wait4(k, t, pid, statusPtr, options, 0);
}

export const sys_getpid = (_k: Kernel, t: Task) => t.tgid;
export const sys_gettid = (_k: Kernel, t: Task) => t.pid;
export const sys_getppid = (_k: Kernel, t: Task) => t.parent?.tgid ?? 0;
export const sys_getuid = (_k: Kernel, t: Task) => t.cred.uid;
export const sys_geteuid = (_k: Kernel, t: Task) => t.cred.euid;
export const sys_getgid = (_k: Kernel, t: Task) => t.cred.gid;
export const sys_getegid = (_k: Kernel, t: Task) => t.cred.egid;
export const sys_setuid = (k: Kernel, t: Task, uid: number) => setuid(k, t, uid);
export const sys_setgid = (k: Kernel, t: Task, gid: number) => setgid(k, t, gid);
export const sys_setresuid = (k: Kernel, t: Task, r: number, e: number, s: number) => setresuid(k, t, r, e, s);

/** kill(pid, sig): pid > 0 only; sig 0 checks permission. */
export function sys_kill(k: Kernel, t: Task, pid: number, sig: number): number {
  if (sig > 64) return -EINVAL;
  if ((pid | 0) <= 0) return -EINVAL;
  const target = k.tasks.get(pid);
  if (target === undefined || target.state === "reaped") return -ESRCH;
  const s = t.cred;
  const d = target.cred;
  if (s.euid !== 0 && s.uid !== d.uid && s.uid !== d.suid && s.euid !== d.uid && s.euid !== d.suid) return -EPERM;
  if (sig === 0 || IGNORED.has(sig) || target.state === "zombie") return 0;
  sendFatal(k, target, sig);
  return 0;
}

/** ptrace: ATTACH and DETACH with Linux's access rule, PEEKDATA/POKEDATA on a tracee. */
export function sys_ptrace(k: Kernel, t: Task, req: number, pid: number, addr: number, data: number): number {
  const target = k.tasks.get(pid);
  if (target === undefined || target.state === "zombie" || target.state === "reaped") return -ESRCH;
  switch (req) {
    case PTRACE_ATTACH:
      if (target.tgid === t.tgid || target.ptracer !== null) return -EPERM;
      if (!ptraceMayAccess(t, target)) return -EPERM;
      target.ptracer = t;
      return 0;
    case PTRACE_DETACH:
      if (target.ptracer !== t) return -ESRCH;
      target.ptracer = null;
      return 0;
    case PTRACE_PEEKDATA: {
      if (target.ptracer !== t || target.mm === null) return -ESRCH;
      const w = target.mm.mem.copyFromUser(addr, 4);
      if (w === null) return -EFAULT;
      return t.mm!.mem.copyToUser(data, w) ? 0 : -EFAULT;
    }
    case PTRACE_POKEDATA: {
      if (target.ptracer !== t || target.mm === null) return -ESRCH;
      const b = new Uint8Array(4);
      new DataView(b.buffer).setUint32(0, data, true);
      if (!target.mm.mem.copyToUser(addr, b)) return -EFAULT;
      // access_process_vm as the tracer: the frames now hold the tracer's bytes too.
      for (const a of [addr, addr + 3]) k.frames.tagWriter(target.mm.pte(a) >>> 12, credTag(t.cred));
      return 0;
    }
    default:
      return -EINVAL;
  }
}

/** nanosleep(req, rem): the task leaves its CPU for the time given. */
export function sys_nanosleep(k: Kernel, t: Task, reqPtr: number): number {
  const sec = get32(t, reqPtr);
  const nsec = get32(t, reqPtr + 4);
  if (sec === null || nsec === null) return -EFAULT;
  if (nsec >= 1e9) return -EINVAL;
  const cycles = (sec + nsec / 1e9) * k.machine.hz;
  // A fatal signal sent meanwhile (by a task that ran while this one slept) ends the sleep.
  blockAndRun(k, (at) => (t.pendingSignal !== 0 ? Math.min(at + cycles, Math.max(at, t.signalAt)) : at + cycles));
  return 0;
}

export function sys_clock_gettime(k: Kernel, t: Task, clock: number, tsPtr: number): number {
  let cycles: number;
  if (clock === 0 || clock === 1) cycles = taskNow(k, t);
  else if (clock === 2 || clock === 3) cycles = taskCyclesOnly(k, t);
  else return -EINVAL;
  const secs = cycles / k.machine.hz;
  const whole = Math.floor(secs);
  const base = clock === 0 ? BOOT_EPOCH : 0;
  return put32s(t, tsPtr, [base + whole, Math.floor((secs - whole) * 1e9)]) ? 0 : -EFAULT;
}

function taskCyclesOnly(k: Kernel, t: Task): number {
  const c = cyclesOf(t.counters, k.machine);
  return c.kernel + c.user;
}

/** Minor faults: faults the kernel resolved (Linux min_flt). */
export function minorFaults(c: Counters): number {
  return c.k[Kev.FAULT_ANON_READ] + c.k[Kev.FAULT_ANON_WRITE] + c.k[Kev.FAULT_WP] + c.k[Kev.FAULT_SHARED];
}

/** struct rusage (i386): utime, stime as timeval; maxrss (KiB); minflt at word 8. */
function putRusage(k: Kernel, t: Task, addr: number, c: Counters, maxrssPages: number): boolean {
  const cy = cyclesOf(c, k.machine);
  const tv = (cycles: number) => {
    const us = Math.floor((cycles / k.machine.hz) * 1e6);
    return [Math.floor(us / 1e6), us % 1e6];
  };
  const words = new Array(18).fill(0);
  [words[0], words[1]] = tv(cy.user);
  [words[2], words[3]] = tv(cy.kernel);
  words[4] = maxrssPages * 4;
  words[8] = minorFaults(c);
  return put32s(t, addr, words);
}

/** The whole process's counters: every thread, live or exited (RUSAGE_SELF). */
function processCounters(k: Kernel, t: Task): Counters {
  const leader = k.tasks.get(t.tgid) ?? t;
  const sum = new Counters();
  sum.merge(leader.counters);
  sum.merge(leader.deadThreadCounters);
  for (const th of leader.threads) sum.merge(th.counters);
  return sum;
}

export function sys_getrusage(k: Kernel, t: Task, who: number, addr: number): number {
  if (who === 0) return putRusage(k, t, addr, processCounters(k, t), t.mm?.hiwaterRss ?? 0) ? 0 : -EFAULT;
  if ((who | 0) === -1) return putRusage(k, t, addr, t.childCounters, 0) ? 0 : -EFAULT;
  return -EINVAL;
}

/** futex: FUTEX_WAIT blocks until the word changes (a thread exiting clears its tid); WAKE is a no-op. */
export function sys_futex(k: Kernel, t: Task, addr: number, op: number, val: number): number {
  const cmd = op & FUTEX_CMD_MASK;
  if (cmd === FUTEX_WAKE) return 0;
  if (cmd !== FUTEX_WAIT) return -EINVAL;
  const cur = get32(t, addr);
  if (cur === null) return -EFAULT;
  if (cur !== val >>> 0) return -EAGAIN;
  let clearer: Task | null = null;
  for (const o of k.tasks.values()) if (o.mm === t.mm && o.clearChildTid === addr) clearer = o;
  if (clearer === null) return -EDEADLK;
  const c = clearer;
  blockAndRun(k, (at) => Math.max(at, c.endedAt));
  return get32(t, addr) === val >>> 0 ? -EDEADLK : 0;
}

export function sys_set_tid_address(_k: Kernel, t: Task, addr: number): number {
  t.clearChildTid = addr;
  return t.pid;
}

/** uname: struct utsname of six 65-byte fields. */
export function sys_uname(_k: Kernel, t: Task, addr: number): number {
  const fields = ["Linux", "nozero", "2.6.22-rc5-nozero", "#1 SMP PREEMPT", "i686", "(none)"];
  const b = new Uint8Array(6 * 65);
  fields.forEach((f, i) => {
    for (let j = 0; j < f.length; j++) b[i * 65 + j] = f.charCodeAt(j);
  });
  return t.mm!.mem.copyToUser(addr, b) ? 0 : -EFAULT;
}

/** sched_getaffinity(pid, len, mask): every simulated CPU; returns the mask size (4 bytes on i386). */
export function sys_sched_getaffinity(k: Kernel, t: Task, _pid: number, len: number, mask: number): number {
  const size = 4;
  if (len < size) return -EINVAL;
  const bits = k.timeline.ncpus >= 32 ? 0xffffffff : (1 << k.timeline.ncpus) - 1;
  return put32s(t, mask, [bits]) ? size : -EFAULT;
}

/** getrandom(buf, count, flags): the kernel's deterministic random bytes. */
export function sys_getrandom(k: Kernel, t: Task, buf: number, count: number): number {
  const n = Math.min(count, 33554431);
  return t.mm!.mem.copyToUser(buf, k.randomBytes(n)) ? n : -EFAULT;
}
