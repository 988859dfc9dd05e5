// Pricing: counters x machine profile -> cycles per symbol. The profiler
// report (oprofile.ts) and every time figure come from here.

import { Counters, KERNEL_EVENT_SYMBOL, Kev, NKEV, NUEV, type SymbolTable } from "./events.ts";
import type { MachineProfile } from "./machines.ts";

export const KERNEL_IMAGE = "vmlinux";

export interface SymbolCycles {
  readonly image: string;
  readonly symbol: string;
  cycles: number;
}

export interface Priced {
  readonly kernelCycles: number;
  readonly userCycles: number;
  readonly totalCycles: number;
  /** Cycles per (image, symbol), largest first. */
  readonly symbols: SymbolCycles[];
}

export function price(c: Counters, m: MachineProfile, syms: SymbolTable): Priced {
  const by = new Map<string, SymbolCycles>();
  const add = (image: string, symbol: string, cycles: number) => {
    if (cycles === 0) return;
    const key = `${image}\0${symbol}`;
    const e = by.get(key);
    if (e) e.cycles += cycles;
    else by.set(key, { image, symbol, cycles });
  };
  let kernelCycles = 0;
  for (let e = 0; e < NKEV; e++) {
    const cy = c.k[e] * m.kernel[e].cycles;
    kernelCycles += cy;
    add(KERNEL_IMAGE, KERNEL_EVENT_SYMBOL[e], cy);
  }
  let userCycles = 0;
  for (let i = 0; i < c.u.length; i += NUEV) {
    let cy = 0;
    for (let ev = 0; ev < NUEV; ev++) cy += c.u[i + ev] * m.user[ev].cycles;
    if (cy === 0) continue;
    userCycles += cy;
    const s = syms.list[i / NUEV];
    add(s.image, s.name, cy);
  }
  const symbols = [...by.values()].sort((a, b) => b.cycles - a.cycles || (a.symbol < b.symbol ? -1 : 1));
  return { kernelCycles, userCycles, totalCycles: kernelCycles + userCycles, symbols };
}

/** Cycles spent in clear_page by these counters (hot, cold and idle clears). */
export function clearPageCycles(c: Counters, m: MachineProfile): number {
  return clearCycles(c, m, true);
}

/** clear_page cycles on the critical path (excluding idle pre-zeroing). */
export function clearPageCriticalCycles(c: Counters, m: MachineProfile): number {
  return clearCycles(c, m, false);
}

function clearCycles(c: Counters, m: MachineProfile, idle: boolean): number {
  const K = m.kernel;
  let cy = c.k[Kev.CLEAR_HOT_BYTES] * K[Kev.CLEAR_HOT_BYTES].cycles + c.k[Kev.CLEAR_COLD_BYTES] * K[Kev.CLEAR_COLD_BYTES].cycles;
  if (idle) cy += c.k[Kev.CLEAR_IDLE_BYTES] * K[Kev.CLEAR_IDLE_BYTES].cycles;
  return cy;
}

/** Total priced cycles of counters, split into kernel and user (fast: no allocation). */
export function cyclesOf(c: Counters, m: MachineProfile): { kernel: number; user: number } {
  let kernel = 0;
  for (let e = 0; e < NKEV; e++) kernel += c.k[e] * m.kernel[e].cycles;
  let user = 0;
  const u = c.u;
  for (let i = 0; i < u.length; i += NUEV) {
    user += u[i] * m.user[0].cycles + u[i + 1] * m.user[1].cycles + u[i + 2] * m.user[2].cycles + u[i + 3] * m.user[3].cycles;
  }
  return { kernel, user };
}
