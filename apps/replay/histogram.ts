// Allocation size histograms of a malloc trace: how many requests (malloc,
// calloc, memalign, and realloc to a new size) fell in each power-of-two
// class, and the bytes they asked for. Fidelity checks set our programs'
// histograms beside real gcc's and gas's.

export interface SizeClass {
  /** Requests of at most this many bytes (and more than the previous class's). */
  upTo: number;
  label: string;
  count: number;
  bytes: number;
}

/** Class limits: 16 B, 32 B, ... 128 KiB, then everything larger. */
const LIMITS = Array.from({ length: 14 }, (_, i) => 16 << i);

const kib = (n: number): string => (n >= 1024 ? `${n / 1024}K` : String(n));

export class SizeHistogram {
  private readonly counts = new Float64Array(LIMITS.length + 1);
  private readonly bytes = new Float64Array(LIMITS.length + 1);

  add(size: number): void {
    let c = 0;
    while (c < LIMITS.length && size > LIMITS[c]) c++;
    this.counts[c]++;
    this.bytes[c] += size;
  }

  classes(): SizeClass[] {
    return [...LIMITS, Infinity].map((upTo, i) => ({
      upTo,
      label: upTo === Infinity ? `>${kib(LIMITS[LIMITS.length - 1])}` : `<=${kib(upTo)}`,
      count: this.counts[i],
      bytes: this.bytes[i],
    }));
  }
}

/** Each class's share of the requests, percent, as "label share" pairs for printing. */
export function formatHistogram(h: readonly SizeClass[]): string {
  const total = h.reduce((a, c) => a + c.count, 0) || 1;
  return h
    .filter((c) => c.count > 0)
    .map((c) => `${c.label} ${((100 * c.count) / total).toFixed(1)}%`)
    .join(", ");
}
