// Bench set-up: a kernel and one user task with an empty address space, the
// way test/helpers/boot.ts makes them (kept separate so the tests can change
// their helpers freely).

import { Kernel, type KernelConfig } from "../../kernel/kernel.ts";
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../../kernel/mman.ts";
import { Mm } from "../../kernel/mm.ts";
import { NR, syscall } from "../../kernel/syscall.ts";
import { Task, credFor } from "../../kernel/task.ts";

export function benchKernel(cfg: KernelConfig = {}): Kernel {
  return new Kernel({ memBytes: 64 << 20, policy: "stock", ...cfg });
}

export function benchTask(k: Kernel, uid = 1000): Task {
  const mm = new Mm(k);
  mm.startBrk = mm.brk = 0x08050000;
  const t = new Task(900, "bench", credFor(uid), mm);
  k.switchTo(t);
  return t;
}

/** mmap2 a private anonymous read-write region as the current task; throws on failure. */
export function mapAnon(k: Kernel, bytes: number): number {
  const a = syscall(k, NR.mmap2, 0, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (a < 0 || a > 0xfffff000) throw new Error(`bench mmap2 of ${bytes} bytes failed: ${a}`);
  return a >>> 0;
}
