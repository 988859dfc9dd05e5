// ebizzy 0.3 (Valerie Henson, Intel; LTP utils/benchmark/ebizzy-0.3), as an
// emulated program, plus Davide Libenzi's -N. Each thread repeatedly picks a
// chunk, allocates a buffer, copies the chunk into it, searches it for a key
// and frees it: one "record". It reports records per second of (simulated)
// wall time, and the user and system time the process used.
//
// Kept from 0.3: its rand_num() precedence slip (`*state *= 1103515245 +
// 12345` with state starting at 0), so every record uses chunk 0 and key 0.
// The memory work per record is the same either way. `-r SEED` (an
// extension) uses a working LCG seeded per thread instead.
//
// Other extensions: -S takes fractions of a second (simulated seconds are
// costly to emulate); -N (Davide's) takes every buffer with MAP_NOZERO and,
// in malloc mode, switches malloc to no-zero mode (brk2 BRK_NOZERO, MAP_NOZERO).
//
// Threads run when the main thread sleeps; a thread stops when the simulated
// clock reaches the end of the run, which is when 0.3's main thread clears
// threads_go.

import { MAP_ANONYMOUS, MAP_FAILED, MAP_NOZERO, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../../kernel/mman.ts";
import type { Libc } from "../../libc/libc.ts";
import { M_MMAP_MAX, M_NOZERO } from "../../libc/malloc/tunables.ts";
import { parseOptions } from "./options.ts";

/** sizeof(record_t) = sizeof(size_t) on i386. */
const RECORD = 4;

const USAGE = `Usage: ebizzy [options]
-l		 Don't use library memcpy
-m		 Always use mmap instead of malloc
-M		 Never use mmap
-n <num>	 Number of memory chunks to allocate
-N		 Use MAP_NOZERO/brk2 (no-zero pages)
-p 		 Prevent mmap coalescing using permissions
-P 		 Prevent mmap coalescing using holes
-r <seed>	 Random chunks and keys from a working LCG seeded with <seed>
-R		 Randomize size of memory to copy and search
-s <size>	 Size of memory chunks, in bytes
-S <seconds>	 Number of seconds to run
-t <num>	 Number of threads (2 * number cpus by default)
-T		 Just touch the pages, don't copy or search
-v[v[v]]	 Be verbose (more v's for more verbose)
-z		 Linear search instead of binary search
`;

interface Options {
  noLibMemcpy: boolean;
  alwaysMmap: boolean;
  neverMmap: boolean;
  chunks: number;
  nozero: boolean;
  permissions: boolean;
  holes: boolean;
  seed: number | null;
  randomSize: boolean;
  chunkSize: number;
  seconds: number;
  threads: number;
  touch: boolean;
  verbose: number;
  linear: boolean;
}

/** atoi, as 0.3 parses its numbers (leading digits; anything else is 0). */
function atoi(s: string): number {
  const m = /^\s*[+-]?\d+/.exec(s);
  return m ? parseInt(m[0], 10) : 0;
}

/** Parse like 0.3's read_options; a string is a complaint to print before the usage. */
export function readOptions(argv: string[], cpus: number): Options | string {
  const o: Options = {
    noLibMemcpy: false, alwaysMmap: false, neverMmap: false, chunks: 10, nozero: false, permissions: false,
    holes: false, seed: null, randomSize: false, chunkSize: RECORD * 64 * 1024, seconds: 10, threads: 2 * cpus,
    touch: false, verbose: 0, linear: false,
  };
  const p = parseOptions(argv, "lmMn:Npr:PRs:S:t:vzT");
  if (typeof p === "string") return `ebizzy: ${p}`;
  if (p.args.length > 0) return "";
  for (const [c, v] of p.seen) {
    switch (c) {
      case "l": o.noLibMemcpy = true; break;
      case "m": o.alwaysMmap = true; break;
      case "M": o.neverMmap = true; break;
      case "n": if ((o.chunks = atoi(v as string)) <= 0) return ""; break;
      case "N": o.nozero = true; break;
      case "p": o.permissions = true; break;
      case "P": o.holes = true; break;
      case "r": o.seed = atoi(v as string) >>> 0; break;
      case "R": o.randomSize = true; break;
      case "s": if ((o.chunkSize = atoi(v as string)) <= 0) return ""; break;
      case "S": {
        const s = Number(v);
        if (!(s > 0)) return "";
        o.seconds = s;
        break;
      }
      case "t": if ((o.threads = atoi(v as string)) <= 0) return ""; break;
      case "v": o.verbose++; break;
      case "z": o.linear = true; break;
      case "T": o.touch = true; break;
    }
  }
  if (o.alwaysMmap && o.neverMmap) return 'Both -m "always mmap" and -M "never mmap" option specified';
  if (o.chunkSize < RECORD) return `Chunk size ${o.chunkSize} smaller than record size ${RECORD}`;
  return o;
}

class Ebizzy {
  /** The chunks to copy from. */
  readonly mem: number[] = [];
  readonly symSearch: number;
  readonly symCompare: number;

  constructor(
    readonly libc: Libc,
    readonly o: Options,
  ) {
    this.symSearch = libc.symbol("ebizzy", "search_mem");
    this.symCompare = libc.symbol("ebizzy", "compare");
  }

  allocMem(libc: Libc, size: number): number {
    if (!this.o.alwaysMmap) {
      const p = libc.malloc(size);
      if (p === 0) {
        libc.eprintf("malloc failed\n");
        libc.exit(1);
      }
      return p;
    }
    const p = libc.mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | (this.o.nozero ? MAP_NOZERO : 0));
    if (p === MAP_FAILED) {
      libc.eprintf("mmap failed\n");
      libc.exit(1);
    }
    return p;
  }

  freeMem(libc: Libc, p: number, size: number): void {
    if (!this.o.alwaysMmap) libc.free(p);
    else libc.munmap(p, size);
  }

  /** allocate + write_pattern: chunks hold records 0, 1, 2, ... (sorted). */
  setup(): void {
    const { libc, o } = this;
    const holes: number[] = [];
    for (let i = 0; i < o.chunks; i++) {
      this.mem.push(this.allocMem(libc, o.chunkSize));
      if (o.holes) holes.push(this.allocMem(libc, 4096));
    }
    for (const h of holes) this.freeMem(libc, h, 4096);
    const n = Math.floor(o.chunkSize / RECORD);
    for (let i = 0; i < o.chunks; i++) {
      const c = this.mem[i];
      for (let j = 0; j < n; j++) libc.mem.write32(c + RECORD * j, j);
      if (o.permissions && i % 2 === 0) libc.mprotect(c, o.chunkSize, PROT_READ);
    }
  }

  /** search_mem: records until the run ends (threads_go cleared at `deadline`). */
  searchMem(libc: Libc, deadline: number, threadIndex: number): number {
    const o = this.o;
    const prev = libc.enter(this.symSearch);
    const rand = randNum(o.seed === null ? null : (o.seed + threadIndex * 0x9e3779b9) >>> 0);
    let copySize = o.chunkSize;
    let i = 0;
    for (; libc.simNow() < deadline; i++) {
      const chunk = rand(o.chunks);
      const src = this.mem[chunk];
      if (o.randomSize) copySize = (rand(Math.floor(o.chunkSize / RECORD)) + 1) * RECORD;
      const copy = this.allocMem(libc, copySize);
      if (o.touch) {
        for (let a = copy; a < copy + copySize; a += 4096) libc.mem.write8(a, 1);
      } else {
        if (o.noLibMemcpy) {
          for (let b = 0; b < copySize; b++) libc.mem.write8(copy + b, libc.mem.read8(src + b));
          libc.work(2 * copySize);
        } else libc.memcpy(copy, src, copySize);
        const n = Math.floor(copySize / RECORD);
        const key = rand(n);
        if (o.verbose > 2) libc.printf("Search key %u, copy size %u\n", key, copySize);
        const found = o.linear ? this.linearSearch(libc, key, copy, n) : this.bsearch(libc, key, copy, n);
        if (found === 0) {
          libc.eprintf("Couldn't find key %d\n", key);
          libc.exit(1);
        }
      }
      this.freeMem(libc, copy, copySize);
      libc.work(12); // the loop itself: rand_num, the calls, the compare
    }
    libc.leave(prev);
    return i;
  }

  /** bsearch(3) with ebizzy's compare(): the found record's address, or 0. */
  bsearch(libc: Libc, key: number, base: number, n: number): number {
    let lo = 0;
    let hi = n;
    const prev = libc.enter(this.symCompare);
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const v = libc.mem.readU32(base + RECORD * mid);
      libc.work(8);
      if (key < v) hi = mid;
      else if (key > v) lo = mid + 1;
      else {
        libc.leave(prev);
        return base + RECORD * mid;
      }
    }
    libc.leave(prev);
    return 0;
  }

  linearSearch(libc: Libc, key: number, base: number, n: number): number {
    for (let i = 0; i < n; i++) {
      libc.work(4);
      if (libc.mem.readU32(base + RECORD * i) === key) return base + RECORD * i;
    }
    return 0;
  }
}

/**
 * rand_num: 0.3's (the state stays 0: `*state *= 1103515245 + 12345`), or,
 * with a seed, the LCG it meant (`state = state * 1103515245 + 12345`).
 */
function randNum(seed: number | null): (max: number) => number {
  let state = seed ?? 0;
  if (seed === null) {
    return (max) => {
      state = Math.imul(state, (1103515245 + 12345) | 0) >>> 0;
      return Math.floor(state / 65536) % max;
    };
  }
  return (max) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return Math.floor(state / 65536) % max;
  };
}

export default function ebizzy(argv: string[], _envp: string[], libc: Libc): number {
  const cpus = libc.syscall(242, 0, 128, libc.dataBase) > 0 ? popcount(libc.mem.readU32(libc.dataBase)) : 1;
  const o = readOptions(argv, cpus);
  if (typeof o === "string") {
    if (o) libc.eprintf("%s\n", o);
    libc.eprintf("%s", USAGE);
    return 1;
  }
  if (o.verbose) {
    libc.printf("ebizzy 0.2\n(C) 2006-7 Intel Corporation\n(C) 2007 Valerie Henson <val@nmt.edu>\n");
    libc.printf("always_mmap %u\nnever_mmap %u\nchunks %u\nprevent coalescing using permissions %u\n", +o.alwaysMmap, +o.neverMmap, o.chunks, +o.permissions);
    libc.printf("prevent coalescing using holes %u\nrandom_size %u\nchunk_size %u\nseconds %s\nthreads %u\nverbose %u\nlinear %u\ntouch_pages %u\nno_lib_memcpy %u\nnozero %u\n",
      +o.holes, +o.randomSize, o.chunkSize, String(o.seconds), o.threads, o.verbose, +o.linear, +o.touch, +o.noLibMemcpy, +o.nozero);
  }
  if (o.neverMmap) libc.mallopt(M_MMAP_MAX, 0);
  if (o.nozero && !o.alwaysMmap) libc.mallopt(M_NOZERO, 1);
  const e = new Ebizzy(libc, o);
  e.setup();

  if (o.verbose) libc.printf("Threads starting\n");
  // threads_go becomes 1 now and 0 `seconds` later: the threads run while main sleeps.
  let deadline = 0;
  const counts: number[] = [];
  const tids: number[] = [];
  for (let i = 0; i < o.threads; i++) {
    const tid = libc.pthreadCreate((t) => {
      if (o.verbose > 1) t.printf("Thread started\n");
      const start = t.simNow();
      const n = e.searchMem(t, deadline, i);
      counts[i] = n;
      if (o.verbose > 1) t.printf("Thread finished, %f seconds\n", t.simNow() - start);
      return 0;
    });
    if (tid < 0) {
      libc.eprintf("Thread create failed\n");
      return 1;
    }
    tids.push(tid);
  }
  const startRu = libc.getrusage(0);
  const startTime = libc.time();
  deadline = libc.simNow() + o.seconds;
  libc.sleep(o.seconds);
  const elapsed = libc.time() - startTime || o.seconds;
  const endRu = libc.getrusage(0);
  for (const tid of tids) libc.pthreadJoin(tid);
  if (o.verbose) libc.printf("Threads finished\n");
  const records = counts.reduce((a, b) => a + (b ?? 0), 0);
  libc.printf("%u records/s\n", Math.floor(records / elapsed));
  libc.printf("real %5.2f s\n", elapsed);
  libc.printf("user %5.2f s\n", endRu.utime - startRu.utime);
  libc.printf("sys  %5.2f s\n", endRu.stime - startRu.stime);
  return 0;
}

function popcount(x: number): number {
  let n = 0;
  for (; x; x &= x - 1) n++;
  return n || 1;
}
