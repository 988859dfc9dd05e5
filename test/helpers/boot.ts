// Test helpers: boot a small kernel, make a user task with a bare address
// space (a break, no image), run user code in it and catch its signal.

import { Kernel, type KernelConfig } from "../../kernel/kernel.ts";
import { Mm } from "../../kernel/mm.ts";
import { FatalSignal } from "../../kernel/signal.ts";
import { syscall } from "../../kernel/syscall.ts";
import { Task, credFor } from "../../kernel/task.ts";

export const TEST_BRK = 0x08050000;

export function bootKernel(cfg: KernelConfig = {}): Kernel {
  return new Kernel({ memBytes: 16 << 20, ...cfg });
}

let nextPid = 100;

/** A task of `uid` with an empty address space whose break starts at TEST_BRK. */
export function newTask(k: Kernel, uid = 1000, comm = "test"): Task {
  const mm = new Mm(k);
  mm.startBrk = mm.brk = TEST_BRK;
  const t = new Task(nextPid++, comm, credFor(uid), mm);
  k.switchTo(t);
  return t;
}

/** Run fn as task t; a fatal signal comes back as a value, as the task runner will report it. */
export function runUser<T>(k: Kernel, t: Task, fn: () => T): { value?: T; signal?: number; addr?: number } {
  k.switchTo(t);
  try {
    return { value: fn() };
  } catch (e) {
    if (e instanceof FatalSignal) return { signal: e.signo, addr: e.addr };
    throw e;
  }
}

/** Syscall as the current task. */
export function sys(k: Kernel, nr: number, ...args: number[]): number {
  return syscall(k, nr, ...args);
}

/** End a task: its address space goes back to the allocator. */
export function exitTask(k: Kernel, t: Task): void {
  k.switchTo(t);
  t.mm!.release();
  t.mm = null;
  k.switchTo(k.swapper);
}
