// Machine profiles: the price of every counted event, in cycles, with its
// source. This file and price.ts are the only places with cycle figures.
//
// Kernel prices are per event (per byte for the *_BYTES events); user prices
// per access, per TLB miss, per byte of bulk work and per counted instruction.

import { Kev, NKEV, NUEV, Uev } from "./events.ts";

export interface Price {
  readonly cycles: number;
  readonly source: string;
}

export interface MachineProfile {
  readonly name: string;
  readonly description: string;
  /** Clock in Hz: simulated seconds = cycles / hz. */
  readonly hz: number;
  readonly hzSource: string;
  /** Frames reused within this many bytes of page traffic are cache-hot (clear_page hot vs cold). */
  readonly cacheBytes: number;
  readonly cacheSource: string;
  readonly kernel: readonly Price[]; // indexed by Kev
  readonly user: readonly Price[]; // indexed by Uev
}

export type KevName = keyof typeof Kev;
export type UevName = keyof typeof Uev;

/**
 * Build a profile from prices in nanoseconds (as measured on a machine) or in
 * cycles (as hardware manuals give them); `unit` says which.
 */
export function profile(
  p: Omit<MachineProfile, "kernel" | "user">,
  unit: "ns" | "cycles",
  kernelPrices: Record<KevName, [number, string]>,
  userPrices: Record<UevName, [number, string]>,
): MachineProfile {
  const cyc = (x: number) => (unit === "ns" ? x * (p.hz / 1e9) : x);
  const kernel: Price[] = new Array(NKEV);
  for (const [name, [x, source]] of Object.entries(kernelPrices) as [KevName, [number, string]][]) {
    kernel[Kev[name]] = { cycles: cyc(x), source };
  }
  const user: Price[] = new Array(NUEV);
  for (const [name, [x, source]] of Object.entries(userPrices) as [UevName, [number, string]][]) {
    user[Uev[name]] = { cycles: cyc(x), source };
  }
  return { ...p, kernel, user };
}

const W51 = "shared/reference/workloads.md 5.1 (fault ./fault, run A)";
/** Why pre-zeroing can lose (linux-mm.md 2.2): a page zeroed long before use is cold when the task touches it. */
const DRAGONFLY = "DragonFly BSD's reason for removing idle pre-zeroing (linux-mm.md 2.2): the task must fetch the page from DRAM";
const W52 = "shared/reference/workloads.md 5.2 (clear ./clear)";
const W53 = "shared/reference/workloads.md 5.3 (perf: clear_page_erms inside faults)";
const CAL = "bench/native/calibrate.c on the build machine (EPYC Zen 4 guest, Linux 6.18), 2026-11-25";
/**
 * A user load or store, with its share of the work around it, calibrated so
 * our ptmalloc costs what native glibc does: on workloads.md 5.4's loop
 * (10,000 live blocks, free a random one and malloc 16-512 B) it makes 31.85
 * accesses and 1.18 TLB misses per free+malloc pair (test/libc/malloc-cost.test.ts),
 * and glibc 2.36 takes 22.8 ns = 59.2 cycles per pair there; so an access is
 * (59.2 - 1.18 x 7) / 31.85 = 1.6 cycles.
 */
const CALIB_ACCESS = "calibrated on workloads.md 5.4 (native malloc+free 22.8 ns): (59.2 - 1.18 x 7 cycles) / 31.85 accesses = 1.6 cycles";

/**
 * The build machine: a 2-vCPU AMD EPYC (Zen 4) KVM guest, Linux 6.18.
 * Fault split: a read fault costs 620 ns and a write fault 1094-1263 ns
 * besides its clear (5.1/5.3); the ~500 ns on top of a read fault is
 * "alloc + memcg + LRU" (5.1). We give 100 ns of that to the page allocator.
 */
export const HOST: MachineProfile = profile(
  {
    name: "host",
    description: "this build machine: AMD EPYC (Zen 4) 2-vCPU KVM guest, Linux 6.18, glibc 2.36",
    hz: 2.596e9,
    hzSource: "/proc/cpuinfo 'cpu MHz: 2596.122' on the build machine",
    cacheBytes: 1 << 20,
    cacheSource: "workloads.md 5: L2 1 MiB per core; 5.1/5.3: a 1 MiB region recycles hot (71 ns clears), 256 MiB is cold (347 ns)",
  },
  "ns",
  {
    SYSCALL: [115.6, `${CAL}: getppid loop, 115.6 ns`],
    FAULT: [580, `${W51}: read fault 620 ns, minus the zero-page mapping (FAULT_ANON_READ)`],
    FAULT_ANON_READ: [40, "estimate: PTE set for the zero page, a small part of the 620 ns read fault"],
    FAULT_ANON_WRITE: [470, `${W51}: write fault minus clear minus read fault is ~500 ns (alloc+memcg+LRU); minus PAGE_ALLOC`],
    FAULT_WP: [470, "as FAULT_ANON_WRITE: do_wp_page does the same rmap/LRU/charge work for its new frame"],
    FAULT_SHARED: [300, "estimate: shmem page lookup and mapping, between a read and a write fault"],
    PAGE_ALLOC: [100, "estimate: per-cpu list pop; part of the ~500 ns alloc+memcg+LRU (5.1)"],
    PAGE_FREE: [93, `${CAL}: munmap of a touched page 233 ns, minus ZAP_PTE`],
    CLEAR_HOT_BYTES: [71 / 4096, `${W53}: 71 ns per 4 KiB page recycled hot`],
    CLEAR_COLD_BYTES: [347 / 4096, `${W53}: 347 ns per 4 KiB page, cold`],
    CLEAR_IDLE_BYTES: [135 / 4096, `${W52}: rep stosb, sequential cold 135 ns per 4 KiB (the idle zeroer sweeps free frames in order)`],
    COPY_PAGE_BYTES: [0.0109, `${CAL}: memcpy of 512 KiB, 0.0109 ns/byte`],
    ZAP_PTE: [140, `${CAL}: munmap 233 ns per touched page; split 140 PTE teardown + 93 free (estimate of the split)`],
    VMA_OP: [1500, `${CAL}: mmap+munmap of one page 3626 ns, minus two syscalls: ~3400 ns for two VMA ops and a TLB flush`],
    TLB_FLUSH: [400, `${CAL}: remainder of the mmap+munmap pair after two VMA ops (estimate of the split)`],
    COPY_USER_BYTES: [0.0109, `${CAL}: memcpy rate, 0.0109 ns/byte`],
    PGTABLE_ALLOC: [171, `${W52}/${W53}: a page-table page is a cold clear_page (347 ns) half the time, hot otherwise (estimate)`],
    FORK_PTE: [10, "estimate: copy_pte_range copies and write-protects a PTE: a few loads and stores"],
    EXEC: [150000, "estimate: execve of a small static binary on Linux is ~100-200 us"],
    CONTEXT_SWITCH: [1500, "estimate: a context switch in a KVM guest with mitigations, ~1-2 us"],
    ARCH_WORK: [50, "estimate: one unit of VFS/process-table bookkeeping"],
    PREZERO_COLD_TOUCH: [347 - 71, `${DRAGONFLY}: cold minus hot clear_page, ${W53}`],
  },
  {
    ACCESS: [1.6 / 2.596, CALIB_ACCESS],
    TLB_MISS: [2.7, "estimate: a Zen 4 L2 DTLB hit, ~7 cycles"],
    BYTES: [0.0109, `${CAL}: memcpy rate, 0.0109 ns/byte`],
    INSN: [0.385, "one counted instruction: 1 cycle (IPC 1)"],
  },
);

const AMD = "AMD Software Optimization Guide for AMD64 Processors (25112 rev 3.06)";
const HP = "Hennessy & Patterson, Computer Architecture 4th ed., Opteron (K8) case study";
const EVEREST = "AnandTech 2294/5 (2007): Everest on Opteron 8218HE, write 6186 MB/s, copy 5895 MB/s, latency 64 ns";
const K8SRC = "linux-2.6.20 arch/x86_64/lib/clear_page.S + setup.c init_amd: K8 rev E/F set REP_GOOD, clear_page_c is rep stosq";

/**
 * Davide Libenzi's 2007 test machine: a dual AMD Opteron (K8) with 8 GB,
 * Linux 2.6.22-rc5. The model was not published; a 2.4 GHz Opteron 250/280
 * class part is assumed. Hardware figures are sourced; the kernel software
 * path costs were not measured on K8 anywhere we found and are estimates,
 * marked EST with their reasoning (notes in docs/opteron-2007.md).
 */
export const OPTERON_2007: MachineProfile = profile(
  {
    name: "opteron-2007",
    description: "dual AMD Opteron (K8, 2.4 GHz assumed), 8 GB, Linux 2.6.22-rc5, June 2007",
    hz: 2.4e9,
    hzSource: "EST: Opteron 250/280 class, 2.4 GHz (dual Opteron boxes of 2006-07 on LKML; the exact model is not known)",
    cacheBytes: 1 << 20,
    cacheSource: `${HP}: L2 1 MiB per core, 16-way, exclusive`,
  },
  "cycles",
  {
    SYSCALL: [150, `${AMD} table 13: SYSCALL 27 + SYSRET 35 cycles, plus ~90 for the 2.6.22 system_call path (EST)`],
    FAULT: [1000, "EST: trap + iret 940-1050 cycles on Core Duo/Haswell (Torvalds 2014), plus find_vma and walk"],
    FAULT_ANON_READ: [200, "EST: 2.6.22 read fault takes ZERO_PAGE refcount and file rmap atomics on a shared struct page"],
    FAULT_ANON_WRITE: [250, "EST: 2.6.22 do_anonymous_page: anon rss, lru_cache_add_active, page_add_new_anon_rmap"],
    FAULT_WP: [250, "EST: as FAULT_ANON_WRITE, do_wp_page does the same bookkeeping for its new frame"],
    FAULT_SHARED: [600, "EST: shmem_getpage lookup and mapping"],
    PAGE_ALLOC: [350, "EST: pcp fast path; a 2009 x86-64 kerneltop puts (get_page_from_freelist + __rmqueue_smallest) at 0.26 x clear_page_c"],
    PAGE_FREE: [200, "EST: release_pages/free_hot_cold_page, ~0.1 x clear_page_c in the same 2009 profile"],
    CLEAR_HOT_BYTES: [700 / 4096, `${AMD} table 6: rep stos = 14 + 512 cycles from L1; 700 for a frame resident in L2 (EST: 8 B/clk L1-L2 path, ${HP})`],
    CLEAR_COLD_BYTES: [1800 / 4096, `${K8SRC}; no streaming stores, so DRAM-bound: 4096 B at ~5.5 GB/s write (${EVEREST}) = 1800 cycles at 2.4 GHz`],
    CLEAR_IDLE_BYTES: [1800 / 4096, "as CLEAR_COLD_BYTES: an idle zeroer touches cold frames"],
    COPY_PAGE_BYTES: [1350 / 4096, `EST: rep movsq 527 cycles hot (${AMD} table 6) to 2200 cold (${EVEREST}); a COW source is usually warm`],
    ZAP_PTE: [150, "EST: unmap_vmas ~0.13 x clear_page_c in the 2009 kerneltop profile"],
    VMA_OP: [1200, "EST: vma_merge / split / rbtree insert and slab allocation in 2.6.22"],
    TLB_FLUSH: [300, "EST: CR3 reload plus refill of the 40-entry L1 DTLB; no PCID or PTI in 2007"],
    COPY_USER_BYTES: [1 / 2.3, `copy_user_generic is rep movsq; out of cache: ${EVEREST} = 2.3 B/cycle`],
    PGTABLE_ALLOC: [2150, "clear_page cold (1800) + page alloc (350): page tables come cleared from the allocator"],
    FORK_PTE: [20, "EST: copy_pte_range copies and write-protects one PTE"],
    EXEC: [240000, "EST: execve of a small static binary on 2007 hardware, ~100 us"],
    CONTEXT_SWITCH: [3000, "EST: lmbench lat_ctx of a few microseconds on 2007 x86-64"],
    ARCH_WORK: [100, "EST: one unit of VFS/process-table bookkeeping"],
    PREZERO_COLD_TOUCH: [1800 - 700, `${DRAGONFLY}: cold minus hot clear_page (CLEAR_COLD_BYTES - CLEAR_HOT_BYTES per page)`],
  },
  {
    ACCESS: [1.6, `${CALIB_ACCESS}; carried over in cycles (K8 and Zen 4 both hit L1 in 3-4 cycles, ${HP})`],
    TLB_MISS: [30, `${HP}: L2 DTLB hit 7 cycles; a walk with cached page-table entries ~25-40 (EST)`],
    BYTES: [0.37, `EST: a 512 KiB memcpy is L2-bound: 8 B/clk L1-L2 (${HP}) over source read, RFO and write-back, ~2.7 B/cycle`],
    INSN: [1, "one counted instruction: 1 cycle (IPC 1)"],
  },
);

export const MACHINES: Record<string, MachineProfile> = { host: HOST, "opteron-2007": OPTERON_2007 };
export const MACHINE_NAMES = Object.keys(MACHINES);

export function machineByName(name: string): MachineProfile | undefined {
  return MACHINES[name];
}

/** A profile written by `nozero calibrate` (its JSON's `profile`). */
export function isMachineProfile(x: unknown): x is MachineProfile {
  const p = x as MachineProfile;
  return typeof p === "object" && p !== null && typeof p.hz === "number" && Array.isArray(p.kernel) && p.kernel.length === NKEV && Array.isArray(p.user) && p.user.length === NUEV;
}

/** The figures `nozero calibrate` measures (bench/native/calibrate.c), in ns. */
export interface Calibration {
  host: string;
  date: string;
  mhz: number;
  syscall_ns: number;
  mmap_munmap_pair_ns: number;
  fault_read_ns: number;
  fault_write_hot_ns: number;
  fault_write_cold_ns: number;
  munmap_page_ns: number;
  memset_4k_hot_ns: number;
  memset_4k_cold_ns: number;
  memcpy_ns_per_byte: number;
  malloc_pair_ns: number;
  /** Our malloc's accesses and TLB misses per free+malloc pair on the same loop (measured in the emulator). */
  accesses_per_pair: number;
  misses_per_pair: number;
}

/**
 * A profile from a calibration, derived the way HOST is from workloads.md:
 * the same splits, with this machine's figures. The clear costs are user
 * memset of a 4 KiB page (hot and cold): the in-fault clear_page needs perf,
 * which calibrate does not assume.
 */
export function profileFromCalibration(c: Calibration): MachineProfile {
  const src = (what: string) => `nozero calibrate on ${c.host}, ${c.date}: ${what}`;
  const clearHot = c.memset_4k_hot_ns;
  const clearCold = c.memset_4k_cold_ns;
  const writeExtra = Math.max(0, c.fault_write_hot_ns - clearHot - c.fault_read_ns);
  const hz = c.mhz * 1e6;
  const tlbMissNs = HOST.user[Uev.TLB_MISS].cycles / (HOST.hz / 1e9);
  const accessNs = Math.max(0.05, (c.malloc_pair_ns - c.misses_per_pair * tlbMissNs) / c.accesses_per_pair);
  return profile(
    {
      name: "calibrated",
      description: `measured on ${c.host} by nozero calibrate, ${c.date}`,
      hz,
      hzSource: src(`cpu MHz ${c.mhz}`),
      cacheBytes: HOST.cacheBytes,
      cacheSource: `as host: ${HOST.cacheSource}`,
    },
    "ns",
    {
      SYSCALL: [c.syscall_ns, src(`getppid loop ${c.syscall_ns} ns`)],
      FAULT: [c.fault_read_ns - 40, src(`read fault ${c.fault_read_ns} ns minus the zero-page mapping (40 ns, as host)`)],
      FAULT_ANON_READ: [40, "as host (estimate)"],
      FAULT_ANON_WRITE: [Math.max(0, writeExtra - 100), src(`write fault ${c.fault_write_hot_ns} - memset ${clearHot} - read fault ${c.fault_read_ns}, minus PAGE_ALLOC`)],
      FAULT_WP: [Math.max(0, writeExtra - 100), "as FAULT_ANON_WRITE"],
      FAULT_SHARED: [(c.fault_read_ns + c.fault_write_hot_ns) / 2 - clearHot, "between a read and a write fault (estimate)"],
      PAGE_ALLOC: [100, "as host (estimate)"],
      PAGE_FREE: [c.munmap_page_ns * 0.4, src(`munmap of a touched page ${c.munmap_page_ns} ns, 40% (as host's split)`)],
      CLEAR_HOT_BYTES: [clearHot / 4096, src(`memset of a hot 4 KiB page ${clearHot} ns`)],
      CLEAR_COLD_BYTES: [clearCold / 4096, src(`memset of a cold 4 KiB page ${clearCold} ns`)],
      CLEAR_IDLE_BYTES: [clearCold / 4096, "as CLEAR_COLD_BYTES"],
      COPY_PAGE_BYTES: [c.memcpy_ns_per_byte, src(`memcpy ${c.memcpy_ns_per_byte} ns/byte`)],
      ZAP_PTE: [c.munmap_page_ns * 0.6, src(`munmap of a touched page ${c.munmap_page_ns} ns, 60%`)],
      VMA_OP: [(c.mmap_munmap_pair_ns - 2 * c.syscall_ns) * 0.44, src(`mmap+munmap pair ${c.mmap_munmap_pair_ns} ns minus two syscalls, 44% per VMA op`)],
      TLB_FLUSH: [(c.mmap_munmap_pair_ns - 2 * c.syscall_ns) * 0.12, src("the remaining 12% of the pair")],
      COPY_USER_BYTES: [c.memcpy_ns_per_byte, src(`memcpy ${c.memcpy_ns_per_byte} ns/byte`)],
      PGTABLE_ALLOC: [(clearHot + clearCold) / 2 + 100, "a page-table page: half hot, half cold clear, plus an allocation"],
      FORK_PTE: [10, "as host (estimate)"],
      EXEC: [150000, "as host (estimate)"],
      CONTEXT_SWITCH: [1500, "as host (estimate)"],
      ARCH_WORK: [50, "as host (estimate)"],
      PREZERO_COLD_TOUCH: [clearCold - clearHot, src("cold minus hot memset of a page (DragonFly's argument)")],
    },
    {
      ACCESS: [accessNs, src(`malloc+free ${c.malloc_pair_ns} ns over ${c.accesses_per_pair} accesses and ${c.misses_per_pair} TLB misses`)],
      TLB_MISS: [tlbMissNs, "as host (estimate)"],
      BYTES: [c.memcpy_ns_per_byte, src(`memcpy ${c.memcpy_ns_per_byte} ns/byte`)],
      INSN: [1e9 / hz, "one counted instruction: 1 cycle (IPC 1)"],
    },
  );
}
