// A task: the unit the kernel schedules and charges (Linux task_struct).
// Threads are tasks sharing an mm and a thread group (tgid).

import { Counters } from "./cost/events.ts";
import type { FileTable } from "./file.ts";
import type { Mm } from "./mm.ts";
import type { UserEntry } from "./ucontext.ts";

export interface Cred {
  uid: number;
  euid: number;
  suid: number;
  gid: number;
  egid: number;
  sgid: number;
}

export function credFor(uid: number, gid = uid): Cred {
  return { uid, euid: uid, suid: uid, gid, egid: gid, sgid: gid };
}

/**
 * The owner tag frames written by this credential receive. The effective uid
 * is the identity that reads and writes memory, so a setuid-root program's
 * pages belong to root even when a user ran it.
 */
export function credTag(c: Cred): number {
  return c.euid;
}

export type TaskState = "new" | "running" | "blocked" | "zombie" | "reaped";

export class Task {
  readonly counters = new Counters();
  /** The user symbol the task is executing; user events are charged to it. */
  sym = 0;
  state: TaskState = "new";
  tgid: number;
  parent: Task | null = null;
  readonly children: Task[] = [];
  /** Other threads of the group (on the group leader only). */
  readonly threads: Task[] = [];
  files: FileTable | null = null;
  cwd = "/";
  /** Code the task runs when it starts or after an exec: crt0 of its program, or a fork child's continuation. */
  entry: UserEntry | null = null;
  /** User stack pointer at exec: where crt0 finds argc, argv and envp. */
  startSp = 0;
  /** The program image name (for /proc/PID/exe and the profile). */
  exe = "";
  /** wait status (Linux encoding): exit code << 8, or the signal number. */
  exitStatus = 0;
  /** A fatal signal delivered while the task was not running, to act on when it resumes. */
  pendingSignal = 0;
  /** Global cycle at which pendingSignal was sent (a sleep it interrupts ends there). */
  signalAt = 0;
  /** False after a credential change (setuid exec, setuid()): ptrace and core dumps are refused. */
  dumpable = true;
  ptracer: Task | null = null;
  /** CLONE_CHILD_CLEARTID: the user address zeroed (and futex-woken) when the thread exits. */
  clearChildTid = 0;
  /** Set by a syscall that ends the user code (exit, exec): thrown by the gate after tracing. */
  unwind: object | null = null;
  /** Fork/clone: the continuation the child will run (set by libc before the syscall). */
  childEntry: UserEntry | null = null;
  /** Scheduling: global cycle at which the task may run next. */
  readyAt = 0;
  /** Current run segment: its CPU, global start cycle and the task's own cycles at that start. */
  cpu = -1;
  /** The CPU it last ran on (a new task: its parent's), preferred when it is free (wake-affine). */
  lastCpu = -1;
  segStart = 0;
  segBase = 0;
  /** Peak resident pages of its address space (VmHWM), recorded at exit. */
  maxRss = 0;
  /** Global cycles at which the task started and ended. */
  startedAt = 0;
  endedAt = 0;
  /** Work of reaped children (rusage RUSAGE_CHILDREN). */
  readonly childCounters = new Counters();
  /** Work of this process's threads that have exited (on the group leader). */
  readonly deadThreadCounters = new Counters();

  constructor(
    readonly pid: number,
    public comm: string,
    public cred: Cred,
    public mm: Mm | null,
  ) {
    this.tgid = pid;
  }

  get isThreadLeader(): boolean {
    return this.tgid === this.pid;
  }
}
