// A malloc trace, line by line, turned into operations on slots. Two forms:
//
// glibc's mtrace log (MALLOC_TRACE=FILE plus mtrace(); since 2.34 with the
// libc_malloc_debug.so preload):
//   = Start / = End                      trace begins / muntrace()
//   [@ CALLER ]+ PTR SIZE                malloc, calloc, memalign, realloc(NULL, n); PTR may be (nil)
//   [@ CALLER ]- PTR                     free, and realloc(p, 0)
//   [@ CALLER ]< OLD  then  [@ CALLER ]> NEW SIZE    a realloc that returned a block
//   [@ CALLER ]! OLD SIZE                a realloc that failed (OLD unchanged)
// CALLER is "FILE:(SYM+OFF)[0xADDR]", "NAME:[0xADDR]" or "[0xADDR]"; SIZE is
// %#lx (hex with 0x, or a bare 0). free(NULL) is never written.
//
// JSON lines, which tell calloc and memalign apart:
//   {"op":"malloc"|"calloc"|"memalign"|"realloc"|"free", "ptr":"0x..", "size":N, "old":"0x..", "align":N}
// (realloc with old "0x0" is realloc(NULL, n); ptr "0x0" with size 0 is realloc(p, 0)).
//
// Each live traced address maps to a slot (a small integer, reused after its
// free), so a replayer needs tables as large as the live set, not the trace.
// A line that breaks the trace's own logic (a free of an address not live, a
// '>' without its '<') is an error naming its line; a lenient parser counts
// it and goes on.

import { AddrMap } from "./addr_map.ts";
import { SizeHistogram } from "./histogram.ts";

export const OP_MALLOC = 0;
export const OP_CALLOC = 1;
export const OP_MEMALIGN = 2;
export const OP_REALLOC = 3;
export const OP_FREE = 4;
export const OP_NAMES = ["malloc", "calloc", "memalign", "realloc", "free"] as const;
export type OpName = (typeof OP_NAMES)[number];

/** What the replayer is told: one operation on a slot (realloc to 0 frees it; align only for memalign). */
export type OpSink = (kind: number, slot: number, size: number, align: number, line: number) => void;

export class TraceError extends Error {
  constructor(
    readonly line: number,
    readonly detail: string,
  ) {
    super(`line ${line}: ${detail}`);
  }
}

export interface TraceStats {
  format: "mtrace" | "jsonl" | "empty";
  lines: number;
  /** Calls in the trace by kind (failed ones included), filled in by end(). */
  ops: Record<OpName, number>;
  opsTotal: number;
  /** Calls the traced program saw fail: (nil) results, '!' lines, ptr 0x0. */
  failedInTrace: number;
  /** Lines a lenient parse skipped, and the first of them. */
  skipped: number;
  firstSkipped: string;
  /** Requested bytes and blocks live at the peak, as the traced program held them. */
  peakLiveBytes: number;
  peakLiveBlocks: number;
  liveAtEndBlocks: number;
  liveAtEndBytes: number;
  /** The most bytes a replay writes and keeps live at once (by its touch limit), and the line where that is reached. */
  peakTouchedBytes: number;
  peakTouchedLine: number;
  /** Slots needed: the most blocks live at once. */
  slots: number;
  histogram: SizeHistogram;
}

const HEX_DIGIT = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX_DIGIT[48 + c] = c;
for (let c = 0; c < 6; c++) HEX_DIGIT[65 + c] = HEX_DIGIT[97 + c] = 10 + c;

const SPACE = 32;
const latin1 = (b: Uint8Array, start: number, end: number): string => Buffer.from(b.buffer, b.byteOffset + start, end - start).toString("latin1");
const clip = (s: string): string => (s.length > 80 ? `${s.slice(0, 77)}...` : s);
const hexOf = (hi: number, lo: number): string => `0x${hi !== 0 ? hi.toString(16) + lo.toString(16).padStart(8, "0") : lo.toString(16)}`;

const notMtrace = (b: Uint8Array, start: number, end: number, n: number): TraceError => new TraceError(n, `not an mtrace line: '${clip(latin1(b, start, end))}'`);

/** Bytes [start, end) equal the ASCII text t. */
function bytesAre(b: Uint8Array, start: number, end: number, t: string): boolean {
  if (end - start !== t.length) return false;
  for (let i = 0; i < t.length; i++) if (b[start + i] !== t.charCodeAt(i)) return false;
  return true;
}

export class TraceParser {
  readonly stats: TraceStats;
  private format: "mtrace" | "jsonl" | "" = "";
  private readonly live = new AddrMap(); // traced address -> slot
  private liveSize = new Float64Array(256);
  private allocLine = new Int32Array(256);
  private readonly freeSlots: number[] = [];
  /** Calls by kind (OP_*), for stats.ops at the end. */
  private readonly opCounts = new Float64Array(OP_NAMES.length);
  private liveBytes = 0;
  private liveTouched = 0;
  // A '<' waiting for its '>': its line (0: none), the block's slot (-1: not live) and address.
  private pendLine = 0;
  private pendSlot = -1;
  private pendHi = 0;
  private pendLo = 0;
  // The last hex number parsed, as 32-bit halves.
  private hhi = 0;
  private hlo = 0;

  /**
   * touchLimit: how many bytes of a block the replay writes (Infinity: all),
   * for peakTouchedBytes. sink: told each operation, in trace order.
   */
  constructor(
    private readonly lenient: boolean,
    private readonly touchLimit: number,
    private readonly sink: OpSink | null = null,
  ) {
    this.stats = {
      format: "empty",
      lines: 0,
      ops: { malloc: 0, calloc: 0, memalign: 0, realloc: 0, free: 0 },
      opsTotal: 0,
      failedInTrace: 0,
      skipped: 0,
      firstSkipped: "",
      peakLiveBytes: 0,
      peakLiveBlocks: 0,
      liveAtEndBlocks: 0,
      liveAtEndBytes: 0,
      peakTouchedBytes: 0,
      peakTouchedLine: 0,
      slots: 0,
      histogram: new SizeHistogram(),
    };
  }

  /** One line of the trace, bytes [start, end) of b without its "\n", numbered from 1. */
  line(b: Uint8Array, start: number, end: number, n: number): void {
    this.stats.lines = n;
    if (end > start && b[end - 1] === 13) end--; // "\r\n"
    if (end === start) return;
    if (this.format === "") {
      this.format = b[start] === 0x7b ? "jsonl" : "mtrace";
      this.stats.format = this.format;
    }
    try {
      if (this.format === "mtrace") this.mtraceLine(b, start, end, n);
      else this.jsonLine(latin1(b, start, end), n);
    } catch (e) {
      if (!(e instanceof TraceError) || !this.lenient) throw e;
      if (this.stats.skipped++ === 0) this.stats.firstSkipped = e.message;
    }
  }

  /** The trace ended (after `lines` lines): a '<' still waiting is an error; the end-of-trace figures are filled in. */
  end(): TraceStats {
    if (this.pendLine !== 0) {
      const line = this.pendLine;
      this.pendLine = 0;
      this.reject(line, "realloc '<' has no '>' line after it");
    }
    const st = this.stats;
    OP_NAMES.forEach((name, kind) => (st.ops[name] = this.opCounts[kind]));
    st.opsTotal = this.opCounts.reduce((a, c) => a + c, 0);
    st.liveAtEndBlocks = this.live.size;
    st.liveAtEndBytes = this.liveBytes;
    return st;
  }

  private reject(line: number, detail: string): void {
    const e = new TraceError(line, detail);
    if (!this.lenient) throw e;
    if (this.stats.skipped++ === 0) this.stats.firstSkipped = e.message;
  }

  // ---- glibc's mtrace form: [@ CALLER ]OP ADDR [SIZE] ----

  private mtraceLine(b: Uint8Array, start: number, end: number, n: number): void {
    if (b[start] === 0x3d) {
      // "= Start" / "= End"
      if (!bytesAre(b, start, end, "= Start") && !bytesAre(b, start, end, "= End")) {
        if (b[start + 1] !== SPACE) throw notMtrace(b, start, end, n);
        throw new TraceError(n, `unknown marker '${clip(latin1(b, start, end))}' (expected '= Start' or '= End')`);
      }
      this.reallocMissing(n, `'${latin1(b, start, end)}'`);
      return;
    }
    let i = start;
    if (b[start] === 0x40 && b[start + 1] === SPACE) i = this.callerEnd(b, start, end, n);
    const op = b[i];
    if (op !== 0x2b && op !== 0x2d && op !== 0x3c && op !== 0x3e && op !== 0x21) throw notMtrace(b, start, end, n); // + - < > !
    if (b[i + 1] !== SPACE || i + 2 >= end) throw notMtrace(b, start, end, n);
    // ADDR: "(nil)" or hex; then an optional SIZE: "0" or hex.
    let sp = i + 2;
    while (sp < end && b[sp] !== SPACE) sp++;
    const nil = bytesAre(b, i + 2, sp, "(nil)");
    if (!nil && !this.hexAt(b, i + 2, sp)) throw notMtrace(b, start, end, n);
    const hi = this.hhi;
    const lo = this.hlo;
    const hasSize = sp < end;
    let size = 0;
    if (hasSize) {
      // A size_t: a failed malloc(SIZE_MAX/2) prints 0x7fffffffffffffff, kept as the nearest double.
      if (end - sp - 1 > 18 && b[sp + 1] === 0x30 && (b[sp + 2] | 0x20) === 0x78 && b.subarray(sp + 3, end).every((c) => HEX_DIGIT[c] >= 0)) throw new TraceError(n, `size ${latin1(b, sp + 1, end)} is too large for a size_t`);
      if (sp + 1 === end || (!bytesAre(b, sp + 1, end, "0") && !this.hexAt(b, sp + 1, end))) throw notMtrace(b, start, end, n);
      size = bytesAre(b, sp + 1, end, "0") ? 0 : this.hhi * 4294967296 + this.hlo;
    }
    if (op !== 0x3e) this.reallocMissing(n, `'${String.fromCharCode(op)}'`);
    const needsSize = op === 0x2b || op === 0x3e || op === 0x21;
    if (needsSize !== hasSize) throw new TraceError(n, needsSize ? `'${String.fromCharCode(op)}' needs an address and a size` : `'${String.fromCharCode(op)}' takes only an address`);
    switch (op) {
      case 0x2b: // "+"
        this.count(OP_MALLOC);
        if (nil) this.stats.failedInTrace++;
        else this.allocate(OP_MALLOC, hi, lo, size, 0, n);
        return;
      case 0x2d: // "-"
        this.count(OP_FREE);
        if (nil) throw notMtrace(b, start, end, n);
        this.free(OP_FREE, hi, lo, n);
        return;
      case 0x3c: // "<"
        if (nil) throw new TraceError(n, "realloc '<' of (nil)");
        this.pendLine = n;
        this.pendSlot = this.live.get(hi, lo);
        this.pendHi = hi;
        this.pendLo = lo;
        return;
      case 0x3e: {
        // ">"
        const from = this.pendLine;
        if (from === 0) throw new TraceError(n, "realloc '>' without the '<' line before it");
        this.pendLine = 0;
        if (nil) throw new TraceError(n, "realloc '>' of (nil)");
        this.count(OP_REALLOC);
        if (this.pendSlot < 0) {
          // A realloc of a block from before the trace: lenient replays it as an allocation.
          this.reject(from, `realloc of ${hexOf(this.pendHi, this.pendLo)}, which is not live (allocated before the trace started, or freed)`);
          this.allocate(OP_MALLOC, hi, lo, size, 0, n);
        } else this.move(this.pendHi, this.pendLo, this.pendSlot, hi, lo, size, n);
        return;
      }
      default: // "!": the old block stays as it was
        this.count(OP_REALLOC);
        this.stats.failedInTrace++;
    }
  }

  /** Where the op starts after "@ CALLER": CALLER (a path may hold spaces) ends with "[0xADDR] " or "[(nil)] ". */
  private callerEnd(b: Uint8Array, start: number, end: number, n: number): number {
    const from = start + 2;
    let close = end - 2;
    while (close >= from && !(b[close] === 0x5d && b[close + 1] === SPACE)) close--;
    let open = close - 1;
    while (open >= from && b[open] !== 0x5b) open--;
    if (open < from || !(bytesAre(b, open + 1, close, "(nil)") || this.hexAt(b, open + 1, close))) throw notMtrace(b, start, end, n);
    return close + 2;
  }

  /** Bytes [start, end) are "0x" and 1-16 significant hex digits: into hhi/hlo. */
  private hexAt(b: Uint8Array, start: number, end: number): boolean {
    if (end - start < 3 || b[start] !== 0x30 || (b[start + 1] | 0x20) !== 0x78) return false;
    let i = start + 2;
    while (i < end - 1 && b[i] === 0x30) i++;
    if (end - i > 16) return false;
    let hi = 0;
    let lo = 0;
    for (; i < end; i++) {
      const d = HEX_DIGIT[b[i]];
      if (d < 0) return false;
      hi = ((hi << 4) | (lo >>> 28)) >>> 0;
      lo = ((lo << 4) | d) >>> 0;
    }
    this.hhi = hi;
    this.hlo = lo;
    return true;
  }

  /** A line other than '>' while a '<' waits for it. */
  private reallocMissing(n: number, got: string): void {
    const from = this.pendLine;
    if (from === 0) return;
    this.pendLine = 0;
    this.reject(n, `expected '>' after the realloc '<' on line ${from}, got ${got}`);
  }

  // ---- JSON lines ----

  private jsonLine(s: string, n: number): void {
    let o: unknown;
    try {
      o = JSON.parse(s);
    } catch {
      throw new TraceError(n, `not a JSON object: '${clip(s)}'`);
    }
    if (typeof o !== "object" || o === null || Array.isArray(o)) throw new TraceError(n, `not a JSON object: '${clip(s)}'`);
    const r = o as Record<string, unknown>;
    const kind = OP_NAMES.indexOf(r.op as OpName);
    if (kind < 0) throw new TraceError(n, `"op" must be one of ${OP_NAMES.join(", ")}, not ${JSON.stringify(r.op)}`);
    this.jsonPtr(r, "ptr", n);
    const hi = this.hhi;
    const lo = this.hlo;
    const isNull = (hi | lo) === 0;
    if (kind === OP_FREE) {
      this.count(OP_FREE);
      if (!isNull) this.free(OP_FREE, hi, lo, n);
      else this.sink?.(OP_FREE, -1, 0, 0, n); // free(NULL)
      return;
    }
    const size = this.jsonNumber(r, "size", n);
    const align = kind === OP_MEMALIGN ? this.jsonNumber(r, "align", n) : 0;
    if (kind === OP_MEMALIGN && (align === 0 || (align & (align - 1)) !== 0)) throw new TraceError(n, `"align" must be a power of two, not ${align}`);
    this.count(kind);
    if (kind !== OP_REALLOC) {
      if (isNull) this.stats.failedInTrace++;
      else this.allocate(kind, hi, lo, size, align, n);
      return;
    }
    this.jsonPtr(r, "old", n);
    const ohi = this.hhi;
    const olo = this.hlo;
    if ((ohi | olo) === 0) {
      if (isNull) this.stats.failedInTrace++;
      else this.allocate(OP_REALLOC, hi, lo, size, 0, n); // realloc(NULL, n)
      return;
    }
    if (isNull) {
      if (size === 0) this.free(OP_REALLOC, ohi, olo, n); // realloc(p, 0) frees p
      else this.stats.failedInTrace++;
      return;
    }
    const slot = this.live.get(ohi, olo);
    if (slot < 0) {
      this.reject(n, `realloc of ${hexOf(ohi, olo)}, which is not live (allocated before the trace started, or freed)`);
      this.allocate(OP_MALLOC, hi, lo, size, 0, n);
      return;
    }
    this.move(ohi, olo, slot, hi, lo, size, n);
  }

  /** r[key] is a hex address string: into hhi/hlo. */
  private jsonPtr(r: Record<string, unknown>, key: string, n: number): void {
    const v = r[key];
    if (typeof v !== "string" || !this.hexAt(Buffer.from(v, "latin1"), 0, v.length)) {
      throw new TraceError(n, `"${key}" must be a hex address string like "0x1f00", not ${JSON.stringify(v)}`);
    }
  }

  private jsonNumber(r: Record<string, unknown>, key: string, n: number): number {
    const v = r[key];
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v >= 2 ** 64) throw new TraceError(n, `"${key}" must be a byte count (a whole number >= 0), not ${JSON.stringify(v)}`);
    return v;
  }

  // ---- the live set ----

  private count(kind: number): void {
    this.opCounts[kind]++;
  }

  private allocate(kind: number, hi: number, lo: number, size: number, align: number, n: number): void {
    const was = this.live.get(hi, lo);
    if (was >= 0) throw new TraceError(n, `${hexOf(hi, lo)} is handed out again while live (allocated on line ${this.allocLine[was]}): a free the trace does not show`);
    const slot = this.freeSlots.length > 0 ? this.freeSlots.pop()! : this.newSlot();
    this.live.set(hi, lo, slot);
    this.liveSize[slot] = size;
    this.allocLine[slot] = n;
    this.stats.histogram.add(size);
    this.account(size, 0, n);
    this.sink?.(kind, slot, size, align, n);
  }

  private free(kind: number, hi: number, lo: number, n: number): void {
    const slot = this.live.get(hi, lo);
    if (slot < 0) throw new TraceError(n, `free of ${hexOf(hi, lo)}, which is not live (allocated before the trace started, or freed already)`);
    this.live.delete(hi, lo);
    this.freeSlots.push(slot);
    this.account(0, this.liveSize[slot], n);
    this.sink?.(kind, slot, 0, 0, n);
  }

  /** A realloc that returned hi:lo for the block at ohi:olo (the same slot). */
  private move(ohi: number, olo: number, slot: number, hi: number, lo: number, size: number, n: number): void {
    if (hi !== ohi || lo !== olo) {
      const was = this.live.get(hi, lo);
      if (was >= 0) throw new TraceError(n, `realloc returned ${hexOf(hi, lo)}, which is live (allocated on line ${this.allocLine[was]}): a free the trace does not show`);
      this.live.delete(ohi, olo);
      this.live.set(hi, lo, slot);
    }
    this.stats.histogram.add(size);
    this.account(size, this.liveSize[slot], n);
    this.liveSize[slot] = size;
    this.sink?.(OP_REALLOC, slot, size, 0, n);
  }

  private newSlot(): number {
    const slot = this.stats.slots++;
    if (slot === this.liveSize.length) {
      const size = new Float64Array(slot * 2);
      size.set(this.liveSize);
      this.liveSize = size;
      const line = new Int32Array(slot * 2);
      line.set(this.allocLine);
      this.allocLine = line;
    }
    return slot;
  }

  private account(added: number, removed: number, n: number): void {
    const st = this.stats;
    this.liveBytes += added - removed;
    this.liveTouched += Math.min(added, this.touchLimit) - Math.min(removed, this.touchLimit);
    if (this.liveBytes > st.peakLiveBytes) st.peakLiveBytes = this.liveBytes;
    if (this.live.size > st.peakLiveBlocks) st.peakLiveBlocks = this.live.size;
    if (this.liveTouched > st.peakTouchedBytes) {
      st.peakTouchedBytes = this.liveTouched;
      st.peakTouchedLine = n;
    }
  }
}
