// Helpers for libc tests that run small programs on an emulated machine:
// install a program under a fresh name, run it with an environment, and
// read back what it did (its output, its exit, the syscalls strace saw).

import { expect } from "vitest";
import { Machine, type MachineOptions, type RunResult } from "../../apps/machine.ts";
import type { Libc, Main } from "../../libc/libc.ts";
import { checkHeap } from "../../libc/malloc/check.ts";

export interface Traced {
  pid: number;
  line: string;
}

export interface ProgramRun extends RunResult {
  /** Every syscall of the run (init's and the program's), as strace printed it. */
  trace: Traced[];
  /** The program's own syscalls (its process and threads: everything but init) from its exec on, in order. */
  calls: string[];
}

export interface RunOptions {
  env?: string[];
  uid?: number;
  /** Install the program setuid root (run it as a non-root uid to get AT_SECURE). */
  setuid?: boolean;
  args?: string[];
}

/** A machine whose runs are traced, for tests that install their own little programs. */
export class TestMachine {
  readonly m: Machine;
  private trace: Traced[] = [];
  private seq = 0;
  /** strace formatting costs time; tests with a very large number of syscalls turn it off. */
  tracing = true;

  constructor(opts: MachineOptions = {}) {
    this.m = new Machine({ memMiB: 64, ...opts, strace: (line, pid) => this.tracing && this.trace.push({ pid, line }) });
  }

  /** Install main under a fresh name and run it once. */
  run(main: Main, opts: RunOptions = {}): ProgramRun {
    const name = `prog${++this.seq}`;
    this.m.install(name, opts.setuid ? { main, setuid: true, owner: 0 } : main);
    this.trace = [];
    const r = this.m.run([name, ...(opts.args ?? [])], { env: ["PATH=/bin", "HOME=/root", ...(opts.env ?? [])], uid: opts.uid });
    const trace = this.trace;
    this.trace = [];
    // The program is the process init forked and that then exec'd it (with any threads it made).
    const at = trace.findIndex((t) => t.pid !== 1 && /^execve\(/.test(t.line));
    const calls = at < 0 ? [] : trace.slice(at + 1).filter((t) => t.pid !== 1).map((t) => t.line);
    return { ...r, trace, calls };
  }

  /** Run a body that must not return; the program exits 0 if it does. */
  runBody(body: (libc: Libc) => void, opts: RunOptions = {}): ProgramRun {
    return this.run(
      (_argv, _envp, libc) => {
        body(libc);
        return 0;
      },
      opts,
    );
  }
}

/**
 * A healthy program: allocates, frees and reallocates a few hundred blocks of
 * assorted sizes (fastbin, smallbin, large, mmapped), checks its data and the
 * heap's consistency, prints "ok".
 */
export const healthy: Main = (_argv, _envp, libc) => {
  const ptrs: number[] = [];
  const sizes = [1, 20, 60, 100, 200, 1000, 2000, 5000, 70000, 200000];
  for (let i = 0; i < 300; i++) {
    const n = sizes[i % sizes.length];
    const p = libc.malloc(n);
    if (p === 0) return 1;
    libc.memset(p, i & 0xff, n);
    ptrs.push(p);
  }
  for (let i = 0; i < ptrs.length; i += 2) libc.free(ptrs[i]);
  for (let i = 1; i < ptrs.length; i += 2) {
    if (libc.mem.read8(ptrs[i]) !== (i & 0xff)) return 2;
    ptrs[i] = libc.realloc(ptrs[i], sizes[(i + 3) % sizes.length]);
    if (ptrs[i] === 0) return 3;
  }
  const { errors } = checkHeap(libc.mallocator);
  if (errors.length > 0) {
    libc.printf("%s\n", errors.join("\n"));
    return 4;
  }
  for (let i = 1; i < ptrs.length; i += 2) libc.free(ptrs[i]);
  libc.puts("ok");
  return 0;
};

/** The machine still runs programs: a healthy one completes. */
export function expectMachineWorks(t: TestMachine): void {
  const r = t.run(healthy);
  expect(r.stderr).toBe("");
  expect(r.stdout).toBe("ok\n");
  expect(r.exitCode).toBe(0);
}

/**
 * glibc's malloc_printerr: the message and a newline on stderr in one write,
 * then abort(): SIGABRT, which the shell (here init) reports as "Aborted" and
 * status 134. r.stderr holds the console's stderr for the run: the program's
 * bytes first, then init's report; the strace shows the program wrote fd 2
 * exactly once, msg.length + 1 bytes, and then sent itself SIGABRT.
 */
export function expectMallocAbort(t: TestMachine, r: ProgramRun, msg: string): void {
  expect(r.stderr).toBe(`${msg}\nAborted\n`);
  expect(r.exitCode).toBe(134);
  expect(r.signal).toBe(6);
  const writes = r.calls.filter((l) => /^write\(2,/.test(l));
  expect(writes).toHaveLength(1);
  expect(writes[0]).toMatch(new RegExp(`^write\\(2, 0x[0-9a-f]+, ${msg.length + 1}\\) = ${msg.length + 1}$`));
  // abort(): the next thing the program does is send itself SIGABRT.
  const after = r.calls.slice(r.calls.indexOf(writes[0]) + 1).filter((l) => !/^get(pid|tid)\(\)/.test(l));
  expect(after[0]).toMatch(/^kill\(\d+, 6\) = 0$/);
  expectMachineWorks(t);
}

/** A program that ran to the end without a word on stderr. */
export function expectClean(r: ProgramRun): void {
  expect(r.stderr).toBe("");
  expect(r.signal).toBe(0);
  expect(r.exitCode).toBe(0);
}
