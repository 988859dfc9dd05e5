// The scheduler's timeline. Tasks run in JS one at a time, to completion or
// until they block (wait, join, sleep); each run segment is then placed on
// one of N simulated CPUs, starting no earlier than the task became ready
// and no earlier than the CPU was free. That is how a parallel job (make -j,
// ebizzy's threads) gets its simulated elapsed time while the emulator itself
// runs everything in a fixed, deterministic order. A CPU's free time only
// moves forward, so segments must reach it roughly in time order: a blocked
// task runs only its own process tree meanwhile (process.ts ownTasks), and a
// task keeps to its last CPU (a new one to its parent's) when that CPU is
// free within the migration cost, instead of hopping and leaving every CPU
// busy until the end of its chain (sh -> cc -> cc1 -> as).

export class Timeline {
  /** Cycle at which each CPU is next free. */
  readonly freeAt: Float64Array;
  /** Busy cycles per CPU (for utilisation and idle-time accounting). */
  readonly busy: Float64Array;
  /** Latest end of any segment placed so far. */
  end = 0;
  /** A segment runs on the CPU now (placed at its start, closed by occupy). */
  readonly running: Uint8Array;
  /** Idle cycles in gaps between segments already placed. */
  private gapIdle = 0;

  constructor(readonly ncpus: number) {
    this.freeAt = new Float64Array(ncpus);
    this.busy = new Float64Array(ncpus);
    this.running = new Uint8Array(ncpus);
  }

  /** A segment starts on cpu at `start`: the CPU was idle since it was last free. */
  begin(cpu: number, start: number): void {
    if (start > this.freeAt[cpu]) this.gapIdle += start - this.freeAt[cpu];
    this.freeAt[cpu] = start;
    this.running[cpu] = 1;
  }

  /**
   * Choose the CPU that can start a segment ready at `ready` soonest; returns
   * [cpu, start]. Among CPUs free by then, `prefer` (the task's last CPU, or
   * its parent's) wins, as Linux's wake-affine placement does. Without that a
   * chain of processes (sh -> cc -> cc1) would hop from CPU to CPU and leave
   * every CPU's free time at its end, so another chain placed afterwards (the
   * emulator runs them one after the other) could not start beside it.
   */
  pick(ready: number, prefer = -1, slack = 0): [number, number] {
    if (prefer >= 0 && prefer < this.ncpus && this.freeAt[prefer] <= ready + slack) return [prefer, Math.max(ready, this.freeAt[prefer])];
    let best = 0;
    let bestStart = Math.max(ready, this.freeAt[0]);
    for (let c = 1; c < this.ncpus; c++) {
      const s = Math.max(ready, this.freeAt[c]);
      if (s < bestStart) {
        best = c;
        bestStart = s;
      }
    }
    return [best, bestStart];
  }

  /** Record that cpu ran a segment over [start, stop). */
  occupy(cpu: number, start: number, stop: number): void {
    this.running[cpu] = 0;
    this.freeAt[cpu] = stop;
    this.busy[cpu] += stop - start;
    if (stop > this.end) this.end = stop;
  }

  /** Idle cycles of all CPUs up to `now` (a time the running segments have reached). */
  idleUntil(now: number): number {
    let idle = this.gapIdle;
    for (let c = 0; c < this.ncpus; c++) if (!this.running[c] && now > this.freeAt[c]) idle += now - this.freeAt[c];
    return idle;
  }
}
