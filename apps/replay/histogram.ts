// Allocation size histograms of an mtrace operation stream: how many
// requests (malloc, and realloc to a new size) fell in each power-of-two
// class, and the bytes they asked for. Fidelity checks set our programs'
// histograms beside real gcc's and gas's.

import { OP_FREE, type MtraceOps } from "./mtrace.ts";

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

export function sizeHistogram(ops: MtraceOps): SizeClass[] {
  const classes: SizeClass[] = [...LIMITS, Infinity].map((upTo) => ({
    upTo,
    label: upTo === Infinity ? `>${kib(LIMITS[LIMITS.length - 1])}` : `<=${kib(upTo)}`,
    count: 0,
    bytes: 0,
  }));
  for (let i = 0; i < ops.count; i++) {
    if (ops.kind[i] === OP_FREE) continue;
    const n = ops.size[i];
    let c = 0;
    while (n > classes[c].upTo) c++;
    classes[c].count++;
    classes[c].bytes += n;
  }
  return classes;
}

/** Each class's share of the requests, percent, as "label share" pairs for printing. */
export function formatHistogram(h: readonly SizeClass[]): string {
  const total = h.reduce((a, c) => a + c.count, 0) || 1;
  return h
    .filter((c) => c.count > 0)
    .map((c) => `${c.label} ${((100 * c.count) / total).toFixed(1)}%`)
    .join(", ");
}
