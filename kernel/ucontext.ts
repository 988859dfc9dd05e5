// What a process's user code holds of the kernel: its memory accessor and its
// syscall gate, plus cost attribution (which user symbol is running, how many
// instructions of program work it did). Nothing else of the kernel.

import { Uev } from "./cost/events.ts";
import { cyclesOf } from "./cost/price.ts";
import type { Kernel } from "./kernel.ts";
import { syscall } from "./syscall.ts";
import type { Task } from "./task.ts";
import type { UserMemory } from "./uaccess.ts";

/** User code a task runs: crt0 of a program, a fork child's continuation, a thread's start routine. */
export type UserEntry = (ctx: UserContext) => number;

export class UserContext {
  readonly mem: UserMemory;
  /** The stack pointer at entry: where exec left argc, argv, envp and auxv. */
  readonly sp: number;

  constructor(
    private readonly k: Kernel,
    private readonly task: Task,
  ) {
    this.mem = task.mm!.mem;
    this.sp = task.startSp;
  }

  syscall(nr: number, a = 0, b = 0, c = 0, d = 0, e = 0, f = 0): number {
    return syscall(this.k, nr, a, b, c, d, e, f);
  }

  /** The continuation a fork or clone child will run, in place of returning from the syscall. */
  setChildEntry(fn: UserEntry): void {
    this.task.childEntry = fn;
  }

  /** Intern a user symbol (image, name) for attribution. */
  symbol(image: string, name: string): number {
    return this.k.symbols.intern(image, name);
  }

  /** Charge following user work to `sym`; returns the previous symbol to restore with leave(). */
  enter(sym: number): number {
    const t = this.task;
    const prev = t.sym;
    t.sym = sym;
    this.mem.enter(sym, t.counters);
    return prev;
  }

  leave(prev: number): void {
    this.enter(prev);
  }

  /** Count n instructions of program work under the current symbol. */
  work(n: number): void {
    this.task.counters.addUser(this.task.sym, Uev.INSN, n);
  }

  /** The task's position on the simulated timeline, in cycles (CLOCK_MONOTONIC). */
  now(): number {
    const t = this.task;
    this.mem.flush();
    const c = cyclesOf(t.counters, this.k.machine);
    return t.segStart + (c.kernel + c.user - t.segBase);
  }

  /** Cycles per simulated second of this machine. */
  get hz(): number {
    return this.k.machine.hz;
  }
}
