// An opreport-like view of priced counters: samples of CPU_CLK_UNHALTED at
// oprofile's default count (one sample per 100,000 cycles), per symbol.

import type { MachineProfile } from "./machines.ts";
import type { Priced } from "./price.ts";

/** oprofile's default CPU_CLK_UNHALTED count: one sample per 100,000 cycles. */
export const SAMPLE_PERIOD = 100_000;

export interface ProfileRow {
  readonly samples: number;
  readonly percent: number;
  readonly image: string;
  readonly symbol: string;
  readonly cycles: number;
}

/** The top `limit` symbols with their sample counts and share of all cycles. */
export function profileRows(p: Priced, limit = Infinity): ProfileRow[] {
  const total = p.totalCycles || 1;
  return p.symbols.slice(0, limit).map((s) => ({
    samples: Math.round(s.cycles / SAMPLE_PERIOD),
    percent: (100 * s.cycles) / total,
    image: s.image,
    symbol: s.symbol,
    cycles: s.cycles,
  }));
}

/** Rank (1-based) and share of a symbol, as oprofile shows it; rank 0 if absent. */
export function symbolRank(p: Priced, symbol: string): { rank: number; percent: number } {
  const i = p.symbols.findIndex((s) => s.symbol === symbol);
  return i < 0 ? { rank: 0, percent: 0 } : { rank: i + 1, percent: (100 * p.symbols[i].cycles) / (p.totalCycles || 1) };
}

export function formatOpreport(p: Priced, m: MachineProfile, limit = 20): string {
  const mhz = Math.round(m.hz / 1e6);
  const lines = [
    `CPU: ${m.name}, speed ${mhz} MHz (simulated)`,
    `Counted CPU_CLK_UNHALTED events (Cycles outside of halt state) with a unit mask of 0x00 (No unit mask) count ${SAMPLE_PERIOD}`,
    "samples  %        image name               symbol name",
  ];
  for (const r of profileRows(p, limit)) {
    lines.push(`${String(r.samples).padEnd(8)} ${r.percent.toFixed(4).padEnd(8)} ${r.image.padEnd(24)} ${r.symbol}`);
  }
  return lines.join("\n");
}
