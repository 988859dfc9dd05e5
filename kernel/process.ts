// Process lifecycle: fork/clone, the task runner, exit, wait, signals, the
// OOM killer. Tasks run in JS one at a time: a child runs when its parent
// blocks (wait, join, sleep) or ends; each run segment goes onto the
// simulated CPUs through the timeline (sched.ts).

import { Kev } from "./cost/events.ts";
import { cyclesOf } from "./cost/price.ts";
import { ECHILD, EAGAIN, ENOMEM } from "./errno.ts";
import { dupMm } from "./fork_mm.ts";
import type { Kernel } from "./kernel.ts";
import { zapRange } from "./memory.ts";
import { ExecUnwind, FatalSignal, SIGABRT, SIGKILL, TaskExit, signalName } from "./signal.ts";
import { doExecve } from "./exec.ts";
import { FileTable } from "./file.ts";
import { Mm } from "./mm.ts";
import { strerror } from "./errno.ts";
import { Task } from "./task.ts";
import { UserContext, type UserEntry } from "./ucontext.ts";

/**
 * sysctl_sched_migration_cost (500 us): a task that ran this recently is
 * cache-hot, so it waits up to this long for its last CPU (or a new task
 * for its parent's) rather than move.
 */
const MIGRATION_COST = 0.0005;

/** Linux's PID_MAX_DEFAULT. */
const PID_MAX = 32768;

// ---- time -------------------------------------------------------------------------

/** A task's own priced cycles so far. */
export function taskCycles(k: Kernel, t: Task): number {
  k.flushUser(t);
  const c = cyclesOf(t.counters, k.machine);
  return c.kernel + c.user;
}

/** Where the task is on the global timeline (valid while it runs). */
export function taskNow(k: Kernel, t: Task): number {
  return t.segStart + taskCycles(k, t) - t.segBase;
}

/** Put the task on the CPU that can run it soonest after `ready`. */
export function startSegment(k: Kernel, t: Task, ready: number): void {
  const [cpu, start] = k.timeline.pick(ready, t.lastCpu, k.machine.hz * MIGRATION_COST);
  k.timeline.begin(cpu, start);
  t.cpu = cpu;
  t.lastCpu = cpu;
  t.segStart = start;
  t.segBase = taskCycles(k, t);
  k.current.counters.k[Kev.CONTEXT_SWITCH]++;
}

/** Close the running segment; returns its end on the timeline. */
export function endSegment(k: Kernel, t: Task): number {
  const now = taskNow(k, t);
  if (t.cpu >= 0) {
    k.timeline.occupy(t.cpu, t.segStart, now);
    k.segmentLog?.push({ pid: t.pid, comm: t.comm, cpu: t.cpu, start: t.segStart, stop: now });
  }
  t.cpu = -1;
  return now;
}

// ---- creation -----------------------------------------------------------------------

export function allocPid(k: Kernel): number {
  for (let i = 0; i < PID_MAX; i++) {
    const pid = k.lastPid >= PID_MAX - 1 ? 300 : k.lastPid + 1;
    k.lastPid = pid;
    if (!k.tasks.has(pid)) return pid;
  }
  return -EAGAIN;
}

/**
 * fork (thread=false: a copy of the address space, copy-on-write) or clone
 * of a thread (sharing the address space). The child runs `entry` when the
 * parent blocks or ends. Returns the child or -errno.
 */
export function copyProcess(k: Kernel, parent: Task, entry: UserEntry, thread: boolean): Task | number {
  const pid = allocPid(k);
  if (pid < 0) return pid;
  let mm = parent.mm!;
  if (thread) mm.users++;
  else {
    const copy = dupMm(mm);
    if (copy === null) return -ENOMEM;
    mm = copy;
  }
  const t = new Task(pid, parent.comm, { ...parent.cred }, mm);
  t.sym = parent.sym;
  t.entry = entry;
  t.startSp = parent.startSp;
  t.exe = parent.exe;
  t.cwd = parent.cwd;
  t.dumpable = parent.dumpable;
  t.readyAt = taskNow(k, parent);
  t.lastCpu = parent.cpu;
  if (thread) {
    const leader = k.tasks.get(parent.tgid)!;
    t.tgid = parent.tgid;
    t.files = parent.files;
    t.parent = leader.parent;
    leader.threads.push(t);
  } else {
    t.files = parent.files?.clone() ?? null;
    t.parent = parent;
    parent.children.push(t);
  }
  k.tasks.set(pid, t);
  return t;
}

// ---- running -------------------------------------------------------------------------

/**
 * Run a new task to its end, then give the CPU back to whoever ran before.
 * Every way user code can stop (return, exit, a fatal signal, exec, a host
 * error) is handled here and nowhere else.
 */
export function runTask(k: Kernel, t: Task): void {
  const prev = k.current;
  k.switchTo(t);
  t.state = "running";
  startSegment(k, t, t.readyAt);
  t.startedAt = t.segStart;
  let status = 0;
  for (;;) {
    if (t.pendingSignal !== 0) {
      status = t.pendingSignal;
      break;
    }
    try {
      const entry = t.entry!;
      status = (entry(new UserContext(k, t)) & 0xff) << 8;
      break;
    } catch (e) {
      if (e instanceof ExecUnwind) continue;
      if (e instanceof TaskExit) status = (e.status & 0xff) << 8;
      else if (e instanceof FatalSignal) status = e.signo;
      else {
        k.log(`${t.comm}[${t.pid}]: internal error, killed with ${signalName(SIGABRT)}: ${(e as Error)?.stack ?? String(e)}`);
        k.consoleError(`nozero: ${t.comm}: internal error: ${(e as Error)?.message ?? String(e)}\n`);
        status = SIGABRT;
      }
      break;
    }
  }
  doExit(k, t, status);
  k.switchTo(prev);
}

/** do_exit: release the address space and files, run orphaned new children, become a zombie. */
export function doExit(k: Kernel, t: Task, status: number): void {
  t.exitStatus = status;
  const mm = t.mm;
  k.flushUser(t);
  // CLONE_CHILD_CLEARTID: zero the thread's tid word so a joiner's futex wait ends.
  if (mm !== null && t.clearChildTid !== 0) mm.mem.copyToUser(t.clearChildTid, new Uint8Array(4));
  if (mm !== null) t.maxRss = mm.hiwaterRss;
  // Tearing the address space down is the exiting task's work, on its timeline.
  if (mm !== null && --mm.users === 0) mm.release();
  t.mm = null;
  if (t.isThreadLeader) t.files?.closeAll();
  t.files = null;
  t.endedAt = endSegment(k, t);
  t.state = "zombie";
  // Its tasks never started run now ("or the parent ends"); orphans go to init.
  runRunnable(k, ownTasks(t));
  const init = k.tasks.get(1) ?? null;
  for (const c of t.children) {
    c.parent = init;
    if (init !== null && init !== t) init.children.push(c);
  }
  t.children.length = 0;
  if (t.isThreadLeader) for (const th of t.threads) if (th.state === "new") th.pendingSignal = SIGKILL;
  if (t.parent === null || t.parent.state === "zombie" || t.parent.state === "reaped") reap(k, t);
  if (!t.isThreadLeader) reap(k, t);
}

/**
 * The tasks that are t's to run when it blocks in wait4 or ends: its
 * descendants and its own threads. Every other task waits for one of its own
 * ancestors to block or end (all descend from init, which waits), so each
 * process tree reaches the timeline in time order and, with the CPU
 * affinity of Timeline.pick, stays on its CPU. Running an unrelated tree
 * inside this one's wait would place that tree's later segments before this
 * one's earlier ones, and a parallel make's jobs would look serialised.
 */
export function ownTasks(t: Task): (c: Task) => boolean {
  return (c) => {
    if (c.tgid === t.tgid) return true;
    for (let p = c.parent; p !== null; p = p.parent) if (p === t) return true;
    return false;
  };
}

/**
 * Run every task that was created but has not started, oldest first: they
 * were runnable all along, and the CPU is now free (the running task blocked
 * or ended). The timeline still starts each at the moment it became ready.
 */
export function runRunnable(k: Kernel, only: ((t: Task) => boolean) | null = null): void {
  for (let again = true; again; ) {
    again = false;
    for (const t of k.tasks.values()) {
      if (t.state !== "new" || (only !== null && !only(t))) continue;
      runTask(k, t);
      again = true;
      break;
    }
  }
}

function reap(k: Kernel, t: Task): void {
  t.state = "reaped";
  k.tasks.delete(t.pid);
  const leader = k.tasks.get(t.tgid);
  if (!t.isThreadLeader && leader !== undefined) {
    // A thread's work stays with its process (signal_struct's totals, RUSAGE_SELF).
    leader.deadThreadCounters.merge(t.counters);
    const i = leader.threads.indexOf(t);
    if (i >= 0) leader.threads.splice(i, 1);
  } else if (t.parent !== null) {
    const i = t.parent.children.indexOf(t);
    if (i >= 0) t.parent.children.splice(i, 1);
    t.parent.childCounters.merge(t.counters);
    t.parent.childCounters.merge(t.childCounters);
  }
  k.reaped(t);
}

/**
 * Block the current task (it waits, sleeps or joins): close its segment, let
 * every runnable task run, then resume it on the timeline at
 * `resumeAt(blockedAt)`.
 */
export function blockAndRun(k: Kernel, resumeAt: (blockedAt: number) => number, only: ((t: Task) => boolean) | null = null): void {
  const t = k.current;
  const at = endSegment(k, t);
  t.state = "blocked";
  runRunnable(k, only);
  t.state = "running";
  startSegment(k, t, resumeAt(at));
}

export interface WaitResult {
  pid: number;
  status: number;
  child: Task | null;
}

/**
 * wait4: the first matching child to end on the timeline (running any that
 * have not run yet); pid -1 means any child. With WNOHANG a child that has
 * not run yet is not waited for.
 */
export function doWait(k: Kernel, pid: number, nohang: boolean): WaitResult | number {
  const t = k.current;
  const match = (c: Task) => pid === -1 || c.pid === pid;
  if (!t.children.some(match)) return -ECHILD;
  let zombie: Task | null = null;
  const pick = () => {
    zombie = null;
    for (const c of t.children) {
      if (match(c) && c.state === "zombie" && (zombie === null || c.endedAt < zombie.endedAt)) zombie = c;
    }
  };
  // While it waits, its own tasks run (ownTasks); if none of them ends, all do.
  const mine = ownTasks(t);
  pick();
  if (zombie === null) {
    if (nohang) return { pid: 0, status: 0, child: null };
    blockAndRun(k, (at) => {
      pick();
      return zombie === null ? at : Math.max(at, (zombie as Task).endedAt);
    }, mine);
    pick();
    if (zombie === null) {
      blockAndRun(k, (at) => {
        pick();
        return zombie === null ? at : Math.max(at, (zombie as Task).endedAt);
      });
      pick();
    }
  } else {
    const z: Task = zombie;
    if (z.endedAt > taskNow(k, t)) {
      // The zombie ended later on the timeline than now: block until then. The
      // tasks that run meanwhile may include a child that ends sooner (make -j
      // forks one and waits for any), so choose again after they ran.
      blockAndRun(k, (at) => {
        pick();
        return Math.max(at, (zombie ?? z).endedAt);
      }, mine);
      pick();
    }
  }
  if (zombie === null) return -ECHILD;
  const z: Task = zombie;
  reap(k, z);
  return { pid: z.pid, status: z.exitStatus, child: z };
}

// ---- signals ----------------------------------------------------------------------------

/**
 * Deliver a fatal signal (the emulated libc installs no handlers, so every
 * signal but SIGCHLD is fatal). The running task unwinds at once; another
 * task acts on it when it next runs or returns from a syscall.
 */
export function sendFatal(k: Kernel, target: Task, sig: number): void {
  const group = [k.tasks.get(target.tgid) ?? target, ...(k.tasks.get(target.tgid)?.threads ?? [])];
  const now = taskNow(k, k.current);
  for (const th of group) {
    if (th.state !== "zombie" && th.state !== "reaped" && th.pendingSignal === 0) {
      th.pendingSignal = sig;
      th.signalAt = now;
    }
  }
}

// ---- out of memory ----------------------------------------------------------------------

/**
 * The OOM killer: kill the task with the largest RSS (never init) and take
 * its memory back at once, as the oom reaper does. Returns the victim, or
 * null if there is nothing to kill.
 */
export function oomKill(k: Kernel): Task | null {
  let victim: Task | null = null;
  for (const t of k.tasks.values()) {
    if (t.pid <= 1 || t.mm === null || !t.isThreadLeader || t.state === "zombie" || t.state === "reaped") continue;
    if (t.pendingSignal === SIGKILL) continue;
    if (victim === null || t.mm.rss > victim.mm!.rss) victim = t;
  }
  if (victim === null) return null;
  k.log(`Out of memory: Killed process ${victim.pid} (${victim.comm}) total-vm:${victim.mm!.totalVm * 4}kB, anon-rss:${victim.mm!.rssAnon * 4}kB`);
  sendFatal(k, victim, SIGKILL);
  const mm = victim.mm!;
  for (const v of mm.vmas.list) zapRange(mm, v.start, v.end);
  return victim;
}

/**
 * Create pid 1 running the program at `path` as root with the console on fds
 * 0-2, and run it to its end. Returns its wait status, or the reason the
 * program could not be started.
 */
export function runInit(k: Kernel, path: string, argv: string[], envp: string[]): number | string {
  const init = new Task(1, "init", { uid: 0, euid: 0, suid: 0, gid: 0, egid: 0, sgid: 0 }, new Mm(k));
  const files = new FileTable();
  const out = k.consoleFile("stdout");
  files.install(out);
  files.installAt(1, out);
  files.install(k.consoleFile("stderr"), false, 2);
  init.files = files;
  k.tasks.set(1, init);
  k.lastPid = Math.max(k.lastPid, 1);
  let failure = "";
  // The first exec happens inside init's own run, so its cost is on the timeline.
  init.entry = () => {
    const r = doExecve(k, init, path, argv, envp);
    if (r < 0) {
      failure = `${path}: ${strerror(-r)}`;
      return 127;
    }
    throw new ExecUnwind();
  };
  init.readyAt = k.timeline.end;
  runTask(k, init);
  return failure || init.exitStatus;
}
