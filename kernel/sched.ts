// The scheduler's timeline. Tasks run in JS one at a time, to completion or
// until they block (wait, join, sleep); each run segment is then placed on
// one of N simulated CPUs, starting no earlier than the task became ready
// and no earlier than the CPU was free. That is how a parallel job (make -j,
// ebizzy's threads) gets its simulated elapsed time while the emulator itself
// runs everything in a fixed, deterministic order.

export class Timeline {
  /** Cycle at which each CPU is next free. */
  readonly freeAt: Float64Array;
  /** Busy cycles per CPU (for utilisation and idle-time accounting). */
  readonly busy: Float64Array;
  /** Latest end of any segment placed so far. */
  end = 0;

  constructor(readonly ncpus: number) {
    this.freeAt = new Float64Array(ncpus);
    this.busy = new Float64Array(ncpus);
  }

  /** Choose the CPU that can start a segment ready at `ready` soonest; returns [cpu, start]. */
  pick(ready: number): [number, number] {
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
    this.freeAt[cpu] = stop;
    this.busy[cpu] += stop - start;
    if (stop > this.end) this.end = stop;
  }

  /** Idle cycles of all CPUs over [0, end). */
  idleCycles(): number {
    let b = 0;
    for (let c = 0; c < this.ncpus; c++) b += this.busy[c];
    return this.end * this.ncpus - b;
  }
}
