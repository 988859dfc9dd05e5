// The cost figures every command reports for a run (ebizzy, build, replay):
// simulated time, cycles, faults, clear_page's cycles, share and rank, and
// the top of the profile.

import type { Counters } from "../../kernel/cost/events.ts";
import type { MachineProfile } from "../../kernel/cost/machines.ts";
import { type ProfileRow, profileRows, symbolRank } from "../../kernel/cost/oprofile.ts";
import { type Priced, clearPageCycles } from "../../kernel/cost/price.ts";

export interface RunFigures {
  simulatedSeconds: number;
  cycles: number;
  minflt: number;
  clearPageCycles: number;
  clearPageShare: number;
  /** clear_page's place in the profile (1: the top), 0 when it never ran. */
  clearPageRank: number;
  profile: ProfileRow[];
}

export function runFigures(
  r: { simulatedSeconds: number; minflt: number; counters: Counters; profile: Priced },
  m: MachineProfile,
  top: number,
): RunFigures {
  const clear = clearPageCycles(r.counters, m);
  const cycles = r.profile.totalCycles;
  return {
    simulatedSeconds: r.simulatedSeconds,
    cycles,
    minflt: r.minflt,
    clearPageCycles: clear,
    clearPageShare: cycles > 0 ? clear / cycles : 0,
    clearPageRank: symbolRank(r.profile, "clear_page").rank,
    profile: profileRows(r.profile, top),
  };
}
