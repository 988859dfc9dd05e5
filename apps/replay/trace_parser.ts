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
  /** Calls in the trace by kind (failed ones included). */
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

// [@ CALLER ]OP ARG [ARG]; the caller (a path may hold spaces) ends at the "[ADDR] " before the op.
const MTRACE_LINE = /^(?:@ .*?\[(?:0x[0-9a-fA-F]+|\(nil\))\] )?([-+<>!]) (0x[0-9a-fA-F]+|\(nil\))(?: (0x[0-9a-fA-F]+|0))?$/;
const HEX = /^0x[0-9a-fA-F]+$/;

const clip = (s: string): string => (s.length > 80 ? `${s.slice(0, 77)}...` : s);

export class TraceParser {
  readonly stats: TraceStats;
  private format: "mtrace" | "jsonl" | "" = "";
  private readonly live = new Map<string, number>(); // traced address -> slot
  private liveSize = new Float64Array(256);
  private allocLine = new Int32Array(256);
  private readonly freeSlots: number[] = [];
  private liveBytes = 0;
  private liveTouched = 0;
  private pending = { line: 0, slot: -1, addr: "" }; // a '<' waiting for its '>'

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

  /** One line of the trace (without its "\n"), numbered from 1. */
  line(s: string, n: number): void {
    this.stats.lines = n;
    if (s === "") return;
    if (this.format === "") {
      this.format = s.startsWith("{") ? "jsonl" : "mtrace";
      this.stats.format = this.format;
    }
    try {
      if (this.format === "mtrace") this.mtraceLine(s, n);
      else this.jsonLine(s, n);
    } catch (e) {
      if (!(e instanceof TraceError) || !this.lenient) throw e;
      if (this.stats.skipped++ === 0) this.stats.firstSkipped = e.message;
    }
  }

  /** The trace ended (after `lines` lines): a '<' still waiting is an error; the end-of-trace figures are filled in. */
  end(): TraceStats {
    if (this.pending.line !== 0) {
      const p = this.pending;
      this.pending = { line: 0, slot: -1, addr: "" };
      this.reject(p.line, "realloc '<' has no '>' line after it");
    }
    this.stats.liveAtEndBlocks = this.live.size;
    this.stats.liveAtEndBytes = this.liveBytes;
    return this.stats;
  }

  private reject(line: number, detail: string): void {
    const e = new TraceError(line, detail);
    if (!this.lenient) throw e;
    if (this.stats.skipped++ === 0) this.stats.firstSkipped = e.message;
  }

  // ---- glibc's mtrace form ----

  private mtraceLine(s: string, n: number): void {
    if (s.startsWith("= ")) {
      if (s !== "= Start" && s !== "= End") throw new TraceError(n, `unknown marker '${clip(s)}' (expected '= Start' or '= End')`);
      this.reallocMissing(n, "'= " + s.slice(2) + "'");
      return;
    }
    const m = MTRACE_LINE.exec(s);
    if (m === null) throw new TraceError(n, `not an mtrace line: '${clip(s)}'`);
    const op = m[1];
    const addr = m[2];
    const sizeText = m[3];
    if (op !== ">") this.reallocMissing(n, `'${op}'`);
    const needsSize = op === "+" || op === ">" || op === "!";
    if (needsSize !== (sizeText !== undefined)) throw new TraceError(n, needsSize ? `'${op}' needs an address and a size` : `'${op}' takes only an address`);
    // A size_t: a failed malloc(SIZE_MAX/2) prints 0x7fffffffffffffff, kept as the nearest double.
    if (sizeText !== undefined && sizeText.length > 18) throw new TraceError(n, `size ${sizeText} is too large for a size_t`);
    const size = sizeText === undefined ? 0 : Number.parseInt(sizeText, 16);
    switch (op) {
      case "+":
        this.count(OP_MALLOC);
        if (addr === "(nil)") this.stats.failedInTrace++;
        else this.allocate(OP_MALLOC, addr, size, 0, n);
        return;
      case "-":
        this.count(OP_FREE);
        this.free(OP_FREE, addr, n);
        return;
      case "<": {
        if (addr === "(nil)") throw new TraceError(n, "realloc '<' of (nil)");
        const slot = this.live.get(addr);
        this.pending = { line: n, slot: slot ?? -1, addr };
        return;
      }
      case ">": {
        const p = this.pending;
        if (p.line === 0) throw new TraceError(n, "realloc '>' without the '<' line before it");
        this.pending = { line: 0, slot: -1, addr: "" };
        if (addr === "(nil)") throw new TraceError(n, "realloc '>' of (nil)");
        this.count(OP_REALLOC);
        if (p.slot < 0) {
          // A realloc of a block from before the trace: lenient replays it as an allocation.
          this.reject(p.line, `realloc of ${p.addr}, which is not live (allocated before the trace started, or freed)`);
          this.allocate(OP_MALLOC, addr, size, 0, n);
        } else this.move(p.addr, p.slot, addr, size, n);
        return;
      }
      default: // "!": the old block stays as it was
        this.count(OP_REALLOC);
        this.stats.failedInTrace++;
    }
  }

  /** A line other than '>' while a '<' waits for it. */
  private reallocMissing(n: number, got: string): void {
    const p = this.pending;
    if (p.line === 0) return;
    this.pending = { line: 0, slot: -1, addr: "" };
    this.reject(n, `expected '>' after the realloc '<' on line ${p.line}, got ${got}`);
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
    const ptr = this.jsonPtr(r, "ptr", n);
    if (kind === OP_FREE) {
      this.count(OP_FREE);
      if (ptr !== "0x0") this.free(OP_FREE, ptr, n);
      else this.sink?.(OP_FREE, -1, 0, 0, n); // free(NULL)
      return;
    }
    const size = this.jsonNumber(r, "size", n);
    const align = kind === OP_MEMALIGN ? this.jsonNumber(r, "align", n) : 0;
    if (kind === OP_MEMALIGN && (align === 0 || (align & (align - 1)) !== 0)) throw new TraceError(n, `"align" must be a power of two, not ${align}`);
    this.count(kind);
    if (kind !== OP_REALLOC) {
      if (ptr === "0x0") this.stats.failedInTrace++;
      else this.allocate(kind, ptr, size, align, n);
      return;
    }
    const old = this.jsonPtr(r, "old", n);
    if (old === "0x0") {
      if (ptr === "0x0") this.stats.failedInTrace++;
      else this.allocate(OP_REALLOC, ptr, size, 0, n); // realloc(NULL, n)
      return;
    }
    const slot = this.live.get(old);
    if (ptr === "0x0") {
      if (size === 0) this.free(OP_REALLOC, old, n); // realloc(p, 0) frees p
      else this.stats.failedInTrace++;
      return;
    }
    if (slot === undefined) {
      this.reject(n, `realloc of ${old}, which is not live (allocated before the trace started, or freed)`);
      this.allocate(OP_MALLOC, ptr, size, 0, n);
      return;
    }
    this.move(old, slot, ptr, size, n);
  }

  private jsonPtr(r: Record<string, unknown>, key: string, n: number): string {
    const v = r[key];
    if (typeof v !== "string" || !HEX.test(v)) throw new TraceError(n, `"${key}" must be a hex address string like "0x1f00", not ${JSON.stringify(v)}`);
    const digits = v.slice(2).toLowerCase().replace(/^0+/, "");
    return `0x${digits === "" ? "0" : digits}`;
  }

  private jsonNumber(r: Record<string, unknown>, key: string, n: number): number {
    const v = r[key];
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v >= 2 ** 64) throw new TraceError(n, `"${key}" must be a byte count (a whole number >= 0), not ${JSON.stringify(v)}`);
    return v;
  }

  // ---- the live set ----

  private count(kind: number): void {
    this.stats.ops[OP_NAMES[kind]]++;
    this.stats.opsTotal++;
  }

  private allocate(kind: number, addr: string, size: number, align: number, n: number): void {
    const was = this.live.get(addr);
    if (was !== undefined) throw new TraceError(n, `${addr} is handed out again while live (allocated on line ${this.allocLine[was]}): a free the trace does not show`);
    const slot = this.freeSlots.length > 0 ? this.freeSlots.pop()! : this.newSlot();
    this.live.set(addr, slot);
    this.liveSize[slot] = size;
    this.allocLine[slot] = n;
    this.stats.histogram.add(size);
    this.account(size, 0, n);
    this.sink?.(kind, slot, size, align, n);
  }

  private free(kind: number, addr: string, n: number): void {
    const slot = this.live.get(addr);
    if (slot === undefined) throw new TraceError(n, `free of ${addr}, which is not live (allocated before the trace started, or freed already)`);
    this.live.delete(addr);
    this.freeSlots.push(slot);
    this.account(0, this.liveSize[slot], n);
    this.sink?.(kind, slot, 0, 0, n);
  }

  /** A realloc that returned `addr` for the block at `old` (the same slot). */
  private move(old: string, slot: number, addr: string, size: number, n: number): void {
    this.live.delete(old);
    const was = this.live.get(addr);
    if (was !== undefined) {
      this.live.set(old, slot);
      throw new TraceError(n, `realloc returned ${addr}, which is live (allocated on line ${this.allocLine[was]}): a free the trace does not show`);
    }
    this.live.set(addr, slot);
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
