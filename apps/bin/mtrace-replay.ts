// mtrace-replay: run a malloc trace (glibc's mtrace log, or JSON lines; see
// apps/replay/trace_parser.ts; plain or gzip) against this process's malloc. Each traced
// address maps to the block our malloc returned for it. The trace is read
// through read(2) in 64 KiB pieces into a buffer of its own mapping, so the
// replay's memory follows the live set, not the trace, and the heap holds
// only the replayed blocks.
//
//   mtrace-replay [-t full|head|none] [-l] [-v] FILE
//
// -t says what a block's owner writes: every byte (full, the default), its
// first page (head), or nothing. Written blocks are checked on free and
// realloc: their first and last written bytes must still hold what was
// written, so a malloc that hands out overlapping memory or loses realloc
// contents fails the replay. -l skips lines that break the trace's logic
// (a free of an address not live) instead of stopping at them. -v prints
// malloc_stats at the end. Exit 1 on a bad trace, a changed block, or a
// request this machine cannot satisfy, each naming its line.
//
// The trace holds allocations only, not the traced program's other work, so
// the replay's clear_page share is that of the allocation pattern alone.

import { MAP_ANONYMOUS, MAP_FAILED, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../../kernel/mman.ts";
import { strerror } from "../../kernel/errno.ts";
import type { Libc } from "../../libc/libc.ts";
import { TraceFileError, TraceLines } from "../replay/trace_file.ts";
import { OP_CALLOC, OP_FREE, OP_MALLOC, OP_MEMALIGN, OP_NAMES, OP_REALLOC, TraceError, TraceParser } from "../replay/trace_parser.ts";
import { parseOptions } from "./options.ts";

const USAGE = "usage: mtrace-replay [-t full|head|none] [-l] [-v] FILE\n";
/** Bytes of a block each touch mode writes. */
export const TOUCH_LIMITS = { full: Infinity, head: 4096, none: 0 } as const;
export type TouchMode = keyof typeof TOUCH_LIMITS;
const READ_BYTES = 1 << 16;

/** The replay stops: a changed block or a request that failed here. */
class ReplayStop extends Error {
  constructor(
    readonly line: number,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/** Our blocks, by the parser's slots: address, requested size, the tag byte written. */
class Blocks {
  ptr = new Uint32Array(256);
  size = new Float64Array(256);
  tag = new Uint8Array(256);

  ensure(slot: number): void {
    if (slot < this.ptr.length) return;
    const n = Math.max(slot + 1, this.ptr.length * 2);
    const ptr = new Uint32Array(n);
    ptr.set(this.ptr);
    const size = new Float64Array(n);
    size.set(this.size);
    const tag = new Uint8Array(n);
    tag.set(this.tag);
    this.ptr = ptr;
    this.size = size;
    this.tag = tag;
  }
}

function replayer(libc: Libc, limit: number): { sink: (kind: number, slot: number, size: number, align: number, line: number) => void; ops: () => number } {
  const mem = libc.mem;
  const b = new Blocks();
  let ops = 0;

  const written = (n: number): number => Math.min(n, limit);
  // Write bytes [from, to) of the block's written part with its tag (a grown realloc writes only its new part).
  const fill = (p: number, from: number, n: number, t: number): void => {
    const to = written(n);
    if (to > from) libc.memset(p + from, t, to - from);
  };
  const check = (slot: number, line: number): void => {
    const n = written(b.size[slot]);
    if (n === 0) return;
    const p = b.ptr[slot];
    const first = mem.read8(p);
    const last = mem.read8(p + n - 1);
    if (first !== b.tag[slot] || last !== b.tag[slot]) {
      throw new ReplayStop(line, `block of ${b.size[slot]} bytes changed under the program (first byte ${first}, last ${last}, wrote ${b.tag[slot]})`);
    }
  };
  const outOfMemory = (kind: number, size: number, line: number): never => {
    throw new ReplayStop(line, `out of memory: ${OP_NAMES[kind]} of ${size} bytes failed here, where the traced program got its block`);
  };

  const sink = (kind: number, slot: number, size: number, align: number, line: number): void => {
    ops++;
    if (kind === OP_FREE) {
      if (slot < 0) return libc.free(0);
      check(slot, line);
      libc.free(b.ptr[slot]);
      b.ptr[slot] = 0;
      return;
    }
    b.ensure(slot);
    const tag = (ops % 255) + 1;
    if (kind === OP_REALLOC && b.ptr[slot] !== 0) {
      const old = b.ptr[slot];
      check(slot, line);
      const p = libc.realloc(old, size);
      if (size === 0) {
        b.ptr[slot] = 0; // realloc(p, 0) freed it
        return;
      }
      if (p === 0) outOfMemory(kind, size, line);
      const kept = written(Math.min(b.size[slot], size));
      b.ptr[slot] = p;
      b.size[slot] = size;
      fill(p, kept, size, b.tag[slot]);
      // A shrink keeps the old bytes; the new last written byte must carry the tag too.
      if (written(size) > 0 && kept === written(size)) mem.write8(p + kept - 1, b.tag[slot]);
      return;
    }
    const p =
      kind === OP_MALLOC ? libc.malloc(size) : kind === OP_CALLOC ? libc.calloc(1, size) : kind === OP_MEMALIGN ? libc.memalign(align, size) : libc.realloc(0, size);
    if (p === 0) outOfMemory(kind, size, line);
    b.ptr[slot] = p;
    b.size[slot] = size;
    b.tag[slot] = tag;
    fill(p, 0, size, tag);
  };
  return { sink, ops: () => ops };
}

export default function mtraceReplay(argv: string[], _envp: string[], libc: Libc): number {
  const o = parseOptions(argv, "t:lv");
  if (typeof o === "string" || o.args.length !== 1) {
    libc.eprintf("%s%s", typeof o === "string" ? `mtrace-replay: ${o}\n` : "", USAGE);
    return 2;
  }
  const touch = (o.opts.t ?? "full") as TouchMode;
  if (!Object.hasOwn(TOUCH_LIMITS, touch)) {
    libc.eprintf("mtrace-replay: -t must be full, head or none\n%s", USAGE);
    return 2;
  }
  const file = o.args[0];
  const fd = libc.open(file);
  if (fd < 0) {
    libc.eprintf("mtrace-replay: %s: %s\n", file, strerror(libc.errno));
    return 1;
  }
  const buf = libc.mmap(0, READ_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  if (buf === MAP_FAILED) {
    libc.eprintf("mtrace-replay: cannot map a read buffer: %s\n", strerror(libc.errno));
    return 1;
  }
  const r = replayer(libc, TOUCH_LIMITS[touch]);
  const parser = new TraceParser(o.opts.l === true, TOUCH_LIMITS[touch], r.sink);
  const lines = new TraceLines((b, start, end, line) => parser.line(b, start, end, line));
  const t0 = libc.clockGettime(1);
  try {
    for (;;) {
      const n = libc.read(fd, buf, READ_BYTES);
      if (n < 0) {
        libc.eprintf("mtrace-replay: %s: read: %s\n", file, strerror(libc.errno));
        return 1;
      }
      if (n === 0) break;
      lines.push(libc.mem.readBytes(buf, n));
    }
    lines.end();
    parser.end();
  } catch (e) {
    if (!(e instanceof TraceError || e instanceof ReplayStop || e instanceof TraceFileError)) throw e;
    libc.eprintf("mtrace-replay: %s:%d: %s\n", file, e.line, e.detail);
    return 1;
  }
  const t1 = libc.clockGettime(1);
  libc.close(fd);
  const st = parser.stats;
  const peaks = libc.mallocPeaks();
  libc.printf("replayed %d operations (%s) from %d lines of %s\n", r.ops(), OP_NAMES.map((k) => `${st.ops[k]} ${k}`).join(", "), st.lines, file);
  libc.printf("peak live %d bytes in %d blocks; %d blocks (%d bytes) live at the end\n", st.peakLiveBytes, st.peakLiveBlocks, st.liveAtEndBlocks, st.liveAtEndBytes);
  if (st.skipped > 0) libc.printf("skipped %d lines (first: %s)\n", st.skipped, st.firstSkipped);
  libc.printf("from the kernel at most: heap %d bytes, mmap %d bytes\n", peaks.maxSystemMem, peaks.maxMmappedMem);
  if (o.opts.v === true) libc.mallocStats();
  libc.printf("%.6f s simulated in the replay loop\n", t1 - t0);
  return 0;
}
