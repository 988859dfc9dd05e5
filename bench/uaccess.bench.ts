// User-memory access through the emulator's accessor (kernel/uaccess.ts):
// read32/write32 through a task's mm.mem on a mapped, pre-faulted region.
//
//   TLB hit   a loop over HOT_PAGES pages: every access hits the software TLB
//   TLB miss  a stride of one page over MISS_PAGES pages, twice the 256-entry
//             direct-mapped TLB, so page p evicts page p-256 from its slot:
//             every access walks the page table (PTE present, no fault).
//             The word within page p is at byte (p * 64) & 0xfff, so the 512
//             host cache lines touched do not all fall in one cache set (a
//             plain 4 KiB stride would measure L1/L2 set conflicts, not the walk).
//
// The floor is the same loop over a plain Int32Array (hot: 16 KiB; strided:
// the same word offsets over the same 2 MiB). Each call does ACCESSES
// accesses; the accessor counts them into the task's counters as it always does.

import { type Case, type Figure, type Row, type SuiteDef, type SuiteResult, measure, sink } from "./lib/harness.ts";
import { benchKernel, benchTask, mapAnon } from "./lib/boot.ts";
import { NUEV, Uev } from "../kernel/cost/events.ts";

const TLB_ENTRIES = 256; // TLB_SIZE in kernel/uaccess.ts
const HOT_PAGES = 4;
const HOT_MASK = HOT_PAGES * 4096 - 1;
const MISS_PAGES = 2 * TLB_ENTRIES;
const MISS_MASK = MISS_PAGES - 1;
const ACCESSES = 8192;

/** Byte offset of access j in the miss loop: page j mod MISS_PAGES, a different cache line in each. */
function missOff(j: number): number {
  const p = j & MISS_MASK;
  return (p << 12) | ((p << 6) & 0xfc0);
}

function run(opts: Parameters<SuiteDef["run"]>[0]): SuiteResult {
  const k = benchKernel();
  const t = benchTask(k);
  const mm = t.mm!;
  const mem = mm.mem;
  // mmap2 puts this just below MMAP_BASE (0xB8000000): addresses above 2^31,
  // as every mmap'd address in an emulated process is.
  const base = mapAnon(k, MISS_PAGES * 4096);
  for (let p = 0; p < MISS_PAGES; p++) mem.write32(base + p * 4096, p); // write faults: PTEs present, RW, dirty

  const hotFloor = new Int32Array((HOT_MASK + 1) >> 2);
  const stridedFloor = new Int32Array(MISS_PAGES * 1024);
  stridedFloor.fill(1);

  // One function literal per case, so each loop gets its own type feedback.
  const read32Hit = (): void => {
    let s = 0;
    for (let j = 0; j < ACCESSES; j++) s = (s + mem.read32(base + ((j << 2) & HOT_MASK))) | 0;
    sink.v ^= s;
  };
  const write32Hit = (): void => {
    for (let j = 0; j < ACCESSES; j++) mem.write32(base + ((j << 2) & HOT_MASK), j);
  };
  const read32Miss = (): void => {
    let s = 0;
    for (let j = 0; j < ACCESSES; j++) s = (s + mem.read32(base + missOff(j))) | 0;
    sink.v ^= s;
  };
  const write32Miss = (): void => {
    for (let j = 0; j < ACCESSES; j++) mem.write32(base + missOff(j), j);
  };
  const floorReadHot = (): void => {
    let s = 0;
    for (let j = 0; j < ACCESSES; j++) s = (s + hotFloor[j & (HOT_MASK >> 2)]) | 0;
    sink.v ^= s;
  };
  const floorWriteHot = (): void => {
    for (let j = 0; j < ACCESSES; j++) hotFloor[j & (HOT_MASK >> 2)] = j;
  };
  const floorReadStrided = (): void => {
    let s = 0;
    for (let j = 0; j < ACCESSES; j++) s = (s + stridedFloor[missOff(j) >> 2]) | 0;
    sink.v ^= s;
  };
  const floorWriteStrided = (): void => {
    for (let j = 0; j < ACCESSES; j++) stridedFloor[missOff(j) >> 2] = j;
  };

  // Check that each accessor loop does what its name says: TLB misses per access over one call.
  const userCount = (uev: number): number => {
    k.flushUser(t);
    return t.counters.u[t.sym * NUEV + uev] ?? 0;
  };
  const missRate = (loop: () => void): number => {
    loop(); // warm: fills the TLB for the hot set
    const a0 = userCount(Uev.ACCESS);
    const m0 = userCount(Uev.TLB_MISS);
    loop();
    return (userCount(Uev.TLB_MISS) - m0) / (userCount(Uev.ACCESS) - a0);
  };
  const rates = {
    read32_tlb_hit: missRate(read32Hit),
    write32_tlb_hit: missRate(write32Hit),
    read32_tlb_miss: missRate(read32Miss),
    write32_tlb_miss: missRate(write32Miss),
  };
  if (rates.read32_tlb_hit !== 0 || rates.write32_tlb_hit !== 0 || rates.read32_tlb_miss !== 1 || rates.write32_tlb_miss !== 1) {
    throw new Error(`uaccess bench: TLB miss rates not as designed: ${JSON.stringify(rates)}`);
  }

  const cases: Case[] = [
    { name: "read32 TLB hit", opsPerCall: ACCESSES, fn: read32Hit },
    { name: "write32 TLB hit", opsPerCall: ACCESSES, fn: write32Hit },
    { name: "read32 TLB miss (walk)", opsPerCall: ACCESSES, fn: read32Miss },
    { name: "write32 TLB miss (walk)", opsPerCall: ACCESSES, fn: write32Miss },
    { name: "Int32Array read, hot", opsPerCall: ACCESSES, fn: floorReadHot },
    { name: "Int32Array write, hot", opsPerCall: ACCESSES, fn: floorWriteHot },
    { name: "Int32Array read, strided", opsPerCall: ACCESSES, fn: floorReadStrided },
    { name: "Int32Array write, strided", opsPerCall: ACCESSES, fn: floorWriteStrided },
  ];
  const m = new Map(measure(cases, opts).map((x) => [x.name, x]));

  const pairs: [string, string, string, string][] = [
    // [row, floor row, figure key, floor key]
    ["read32 TLB hit", "Int32Array read, hot", "read32_tlb_hit", "floor_i32_read_hot"],
    ["write32 TLB hit", "Int32Array write, hot", "write32_tlb_hit", "floor_i32_write_hot"],
    ["read32 TLB miss (walk)", "Int32Array read, strided", "read32_tlb_miss", "floor_i32_read_strided"],
    ["write32 TLB miss (walk)", "Int32Array write, strided", "write32_tlb_miss", "floor_i32_write_strided"],
  ];
  const rows: Row[] = [];
  const figures: Record<string, Figure> = {
    tlb_entries: TLB_ENTRIES,
    hot_pages: HOT_PAGES,
    miss_pages: MISS_PAGES,
    accesses_per_call: ACCESSES,
    region_base: `0x${base.toString(16)}`,
  };
  for (const [row, floorRow, key] of pairs) {
    const a = m.get(row)!;
    const f = m.get(floorRow)!;
    rows.push({ name: row, ns: a.nsPerOp, rmePct: a.rmePct, ratio: a.nsPerOp / f.nsPerOp, ratioTo: floorRow });
    figures[`${key}_ns_per_access`] = a.nsPerOp;
    figures[`${key}_ns_rme_pct`] = a.rmePct;
    figures[`${key}_over_floor_wall_ratio`] = a.nsPerOp / f.nsPerOp;
    figures[`${key}_tlb_misses_per_access`] = rates[key as keyof typeof rates];
  }
  for (const [, floorRow, , floorKey] of pairs) {
    const f = m.get(floorRow)!;
    rows.push({ name: floorRow, ns: f.nsPerOp, rmePct: f.rmePct, ratio: 1, ratioTo: "(floor)" });
    figures[`${floorKey}_ns_per_access`] = f.nsPerOp;
    figures[`${floorKey}_ns_rme_pct`] = f.rmePct;
  }
  const hit = m.get("read32 TLB hit")!.nsPerOp;
  const miss = m.get("read32 TLB miss (walk)")!.nsPerOp;
  figures.read32_walk_extra_ns = miss - hit;
  figures.write32_walk_extra_ns = m.get("write32 TLB miss (walk)")!.nsPerOp - m.get("write32 TLB hit")!.nsPerOp;
  return {
    suite: "uaccess",
    title: "uaccess: UserMemory read32/write32 via mm.mem",
    unit: "ns per access",
    rows,
    figures,
    notes: [
      `hot set ${HOT_PAGES} pages; miss loop strides ${MISS_PAGES} pages (2x the ${TLB_ENTRIES}-entry TLB); ${ACCESSES} accesses per call; region at 0x${base.toString(16)}`,
    ],
  };
}

export const uaccessSuite: SuiteDef = {
  name: "uaccess",
  title: "user-memory accessor: TLB hit and miss vs a plain Int32Array",
  run,
};
