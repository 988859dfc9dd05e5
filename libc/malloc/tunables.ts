// malloc's parameters: glibc's defaults, the glibc.malloc.* tunables from
// GLIBC_TUNABLES, the legacy MALLOC_*_ variables, mallopt, and nozero's own
// switch (MALLOC_NOZERO=1 or glibc.malloc.nozero=1). Setuid processes
// (AT_SECURE) ignore all of them, as glibc ignores SXID_IGNORE tunables.

import * as L from "./layout.ts";
import type { Malloc } from "./malloc.ts";

export const M_MXFAST = 1;
export const M_TRIM_THRESHOLD = -1;
export const M_TOP_PAD = -2;
export const M_MMAP_THRESHOLD = -3;
export const M_MMAP_MAX = -4;
export const M_CHECK_ACTION = -5;
export const M_PERTURB = -6;
export const M_ARENA_TEST = -7;
export const M_ARENA_MAX = -8;
/** nozero's extension: mallopt(M_NOZERO, 1) switches to no-zero mode (as MALLOC_NOZERO=1 does). */
export const M_NOZERO = -101;

/** The static initialiser of mp_ and the globals. */
export function setDefaults(m: Malloc): void {
  const set = (off: number, v: number) => m.setG(off, v);
  set(L.MP_TRIM_THRESHOLD, L.DEFAULT_TRIM_THRESHOLD);
  set(L.MP_TOP_PAD, L.DEFAULT_TOP_PAD);
  set(L.MP_MMAP_THRESHOLD, L.DEFAULT_MMAP_THRESHOLD_MIN);
  set(L.MP_ARENA_TEST, L.ARENA_TEST_32);
  set(L.MP_N_MMAPS_MAX, L.DEFAULT_MMAP_MAX);
  set(L.MP_TCACHE_BINS, L.TCACHE_MAX_BINS);
  set(L.MP_TCACHE_MAX_BYTES, L.tidx2usize(L.TCACHE_MAX_BINS - 1));
  set(L.MP_TCACHE_COUNT, L.TCACHE_FILL_COUNT);
  set(L.G_NARENAS, 1);
}

/**
 * The tcache key: random, from getrandom(2) (glibc's tcache_key_initialize),
 * never zero so "no key" stays distinguishable.
 */
export function initTcacheKey(m: Malloc): void {
  const buf = m.libc.dataBase;
  m.libc.syscall(355, buf, 4, 0);
  m.setG(L.G_TCACHE_KEY, m.mem.readU32(buf) || 0x5a5a5a5a);
}

// ---- the do_set_* helpers: glibc's validation, 1 on success, 0 when rejected ----

function doSetMxfast(m: Malloc, v: number): number {
  if (v > L.MAX_FAST_SIZE) return 0;
  m.setG(L.G_MAX_FAST, L.maxFastFor(v));
  return 1;
}

function noDyn(m: Malloc, off: number, v: number): number {
  m.setG(off, v);
  m.setG(L.MP_NO_DYN_THRESHOLD, 1);
  return 1;
}

function doSetMmapThreshold(m: Malloc, v: number): number {
  // Forbid thresholds above half the maximum heap (glibc 2.35+).
  if (v > L.HEAP_MAX_SIZE / 2) return 0;
  return noDyn(m, L.MP_MMAP_THRESHOLD, v);
}

function doSetTcacheMax(m: Malloc, v: number): number {
  if (v > L.MAX_TCACHE_SIZE) return 0;
  m.setG(L.MP_TCACHE_MAX_BYTES, v);
  m.setG(L.MP_TCACHE_BINS, L.csize2tidx(L.request2size(v)) + 1);
  return 1;
}

/** One parameter by glibc tunable name; values outside the tunable's range are ignored. */
function setTunable(m: Malloc, name: string, v: number): void {
  switch (name) {
    case "mxfast":
      doSetMxfast(m, v);
      break;
    case "trim_threshold":
      noDyn(m, L.MP_TRIM_THRESHOLD, v);
      break;
    case "top_pad":
      noDyn(m, L.MP_TOP_PAD, v);
      break;
    case "mmap_threshold":
      doSetMmapThreshold(m, v);
      break;
    case "mmap_max":
      noDyn(m, L.MP_N_MMAPS_MAX, v);
      break;
    case "arena_max":
      if (v >= 1) m.setG(L.MP_ARENA_MAX, v);
      break;
    case "arena_test":
      if (v >= 1) m.setG(L.MP_ARENA_TEST, v);
      break;
    case "perturb":
      if (v <= 0xff) m.setG(L.G_PERTURB, v);
      break;
    case "tcache_max":
      doSetTcacheMax(m, v);
      break;
    case "tcache_count":
      if (v <= L.MAX_TCACHE_COUNT) m.setG(L.MP_TCACHE_COUNT, v);
      break;
    case "tcache_unsorted_limit":
      m.setG(L.MP_TCACHE_UNSORTED_LIMIT, v);
      break;
    case "nozero":
      m.setG(L.G_NOZERO, v !== 0 ? 1 : 0);
      break;
  }
}

/** A tunable's number: decimal, 0x hex or 0 octal, as strtoul with base 0; NaN if malformed. */
function parseNumber(s: string): number {
  const t = s.trim();
  if (/^0x[0-9a-f]+$/i.test(t)) return parseInt(t.slice(2), 16);
  if (/^0[0-7]+$/.test(t)) return parseInt(t, 8);
  if (/^[0-9]+$/.test(t)) return Number(t);
  return NaN;
}

/** The legacy variables, mapped to their tunables (MALLOC_ARENA_MAX has no trailing underscore). */
const ENV_ALIASES: Record<string, string> = {
  MALLOC_TOP_PAD_: "top_pad",
  MALLOC_PERTURB_: "perturb",
  MALLOC_MMAP_THRESHOLD_: "mmap_threshold",
  MALLOC_TRIM_THRESHOLD_: "trim_threshold",
  MALLOC_MMAP_MAX_: "mmap_max",
  MALLOC_ARENA_MAX: "arena_max",
  MALLOC_ARENA_TEST: "arena_test",
  MALLOC_NOZERO: "nozero",
};

/** ptmalloc_init's reading of the environment (after malloc_init_state of the main arena). */
export function applyEnvironment(m: Malloc): void {
  if (m.libc.auxv(23) !== 0) return; // AT_SECURE
  for (const [env, name] of Object.entries(ENV_ALIASES)) {
    const v = m.libc.getenv(env);
    if (v === null) continue;
    const n = parseNumber(v);
    if (!Number.isNaN(n)) setTunable(m, name, n);
  }
  const tunables = m.libc.getenv("GLIBC_TUNABLES");
  if (tunables === null) return;
  for (const item of tunables.split(":")) {
    const eq = item.indexOf("=");
    if (eq < 0) continue;
    const full = item.slice(0, eq);
    if (!full.startsWith("glibc.malloc.")) continue;
    const n = parseNumber(item.slice(eq + 1));
    if (!Number.isNaN(n)) setTunable(m, full.slice("glibc.malloc.".length), n);
  }
}

/** mallopt: consolidate the main arena, then apply; 1 on success, 0 when rejected. */
export function mallopt(m: Malloc, param: number, value: number): number {
  m.consolidateMain();
  switch (param) {
    case M_MXFAST:
      return value < 0 ? 0 : doSetMxfast(m, value);
    case M_TRIM_THRESHOLD:
      return noDyn(m, L.MP_TRIM_THRESHOLD, value >>> 0);
    case M_TOP_PAD:
      return noDyn(m, L.MP_TOP_PAD, value >>> 0);
    case M_MMAP_THRESHOLD:
      return doSetMmapThreshold(m, value >>> 0);
    case M_MMAP_MAX:
      return noDyn(m, L.MP_N_MMAPS_MAX, value);
    case M_CHECK_ACTION:
      return 1;
    case M_PERTURB:
      m.setG(L.G_PERTURB, value & 0xff);
      return 1;
    case M_ARENA_TEST:
      if (value > 0) m.setG(L.MP_ARENA_TEST, value);
      return 1;
    case M_ARENA_MAX:
      if (value > 0) m.setG(L.MP_ARENA_MAX, value);
      return 1;
    case M_NOZERO:
      m.setG(L.G_NOZERO, value !== 0 ? 1 : 0);
      return 1;
    default:
      return 1;
  }
}
