// glibc's mtrace log (MALLOC_TRACE=FILE plus mtrace(), or the
// libc_malloc_debug.so preload since 2.34), parsed into a compact operation
// stream that the replayer runs against our malloc. The lines glibc writes:
//
//   = Start / = End                      trace begins / muntrace()
//   [@ CALLER ]+ PTR SIZE                malloc, calloc, memalign; PTR may be (nil)
//   [@ CALLER ]- PTR                     free, and realloc(p, 0)
//   [@ CALLER ]< OLD  then  [@ CALLER ]> NEW SIZE    a realloc that moved or not
//   [@ CALLER ]! OLD SIZE                a realloc that failed (OLD unchanged)
//
// CALLER is "FILE:(SYM+OFF)[0xADDR]", "FILE:[0xADDR]" or "[0xADDR]". SIZE is
// %#lx: hex with 0x, or a bare 0. Addresses are the traced process's; the
// replayer maps each live one to a slot, so only their identity matters.

export const OP_MALLOC = 0;
export const OP_FREE = 1;
export const OP_REALLOC = 2;

export class MtraceError extends Error {
  constructor(
    readonly line: number,
    readonly detail: string,
  ) {
    super(`line ${line}: ${detail}`);
  }
}

export interface MtraceOps {
  /** Operations, in trace order: kind (OP_*), slot, request size, source line. */
  count: number;
  kind: Uint8Array;
  slot: Int32Array;
  size: Float64Array;
  line: Int32Array;
  /** Slots needed: the most blocks live at once. */
  slots: number;
  lines: number;
  mallocs: number;
  frees: number;
  reallocs: number;
  /** Frees and reallocs of blocks the trace never allocated (made before it started). */
  unmatched: number;
  /** Allocations the traced program saw fail: (nil) results and "!" lines. */
  failed: number;
  /** Requested bytes live at the peak, as the traced program held them. */
  peakLiveBytes: number;
  /** Blocks still allocated at the end of the trace. */
  leaked: number;
}

// [@ CALLER ]OP ARG [ARG]; the caller ends at the first "] " before an op.
const LINE = /^(?:@ \S*?\[(?:0x[0-9a-fA-F]+|\(nil\))\] )?([-+<>!]) (0x[0-9a-fA-F]+|\(nil\))(?: (0x[0-9a-fA-F]+|0))?$/;

class OpBuffer {
  count = 0;
  kind = new Uint8Array(1024);
  slot = new Int32Array(1024);
  size = new Float64Array(1024);
  line = new Int32Array(1024);

  push(kind: number, slot: number, size: number, line: number): void {
    if (this.count === this.kind.length) this.grow();
    const i = this.count++;
    this.kind[i] = kind;
    this.slot[i] = slot;
    this.size[i] = size;
    this.line[i] = line;
  }

  private grow(): void {
    const n = this.kind.length * 2;
    const kind = new Uint8Array(n);
    kind.set(this.kind);
    const slot = new Int32Array(n);
    slot.set(this.slot);
    const size = new Float64Array(n);
    size.set(this.size);
    const line = new Int32Array(n);
    line.set(this.line);
    Object.assign(this, { kind, slot, size, line });
  }
}

/** Parse a whole mtrace log; a line that is not glibc's format throws MtraceError. */
export function parseMtrace(text: string): MtraceOps {
  const ops = new OpBuffer();
  const live = new Map<string, number>(); // traced address -> slot
  const liveSize: number[] = [];
  const freeSlots: number[] = [];
  let slots = 0;
  let liveBytes = 0;
  let peakLiveBytes = 0;
  let mallocs = 0;
  let frees = 0;
  let reallocs = 0;
  let unmatched = 0;
  let failed = 0;
  let pendingRealloc: { line: number; slot: number } | null = null;

  const newSlot = (): number => (freeSlots.length > 0 ? freeSlots.pop()! : slots++);
  const account = (delta: number): void => {
    liveBytes += delta;
    if (liveBytes > peakLiveBytes) peakLiveBytes = liveBytes;
  };

  let n = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    const raw = text.slice(start, end);
    start = end + 1;
    n++;
    const s = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (s === "") continue;
    if (s.startsWith("= ")) {
      if (s !== "= Start" && s !== "= End") throw new MtraceError(n, `unknown marker '${s}' (expected '= Start' or '= End')`);
      if (pendingRealloc) throw new MtraceError(n, `realloc '<' on line ${pendingRealloc.line} has no '>' line after it`);
      continue;
    }
    const m = LINE.exec(s);
    if (m === null) throw new MtraceError(n, `not an mtrace line: '${s.length > 80 ? `${s.slice(0, 77)}...` : s}'`);
    const [, op, addr, sizeText] = m;
    if (pendingRealloc && op !== ">") throw new MtraceError(n, `expected '>' after the realloc '<' on line ${pendingRealloc.line}, got '${op}'`);
    const needsSize = op === "+" || op === ">" || op === "!";
    if (needsSize !== (sizeText !== undefined)) throw new MtraceError(n, needsSize ? `'${op}' needs an address and a size` : `'${op}' takes only an address`);
    const size = sizeText === undefined ? 0 : Number.parseInt(sizeText, 16);
    if (!Number.isSafeInteger(size)) throw new MtraceError(n, `size ${sizeText} is too large`);

    switch (op) {
      case "+": {
        if (addr === "(nil)") {
          failed++;
          break;
        }
        // An address already live was freed by a path the trace did not see;
        // its block stays allocated (a leak, as far as the replay knows).
        const slot = newSlot();
        live.set(addr, slot);
        liveSize[slot] = size;
        account(size);
        ops.push(OP_MALLOC, slot, size, n);
        mallocs++;
        break;
      }
      case "-": {
        const slot = live.get(addr);
        if (slot === undefined) {
          unmatched++;
          break;
        }
        live.delete(addr);
        account(-liveSize[slot]);
        freeSlots.push(slot);
        ops.push(OP_FREE, slot, 0, n);
        frees++;
        break;
      }
      case "<": {
        if (addr === "(nil)") throw new MtraceError(n, "realloc '<' of (nil)");
        let slot = live.get(addr);
        if (slot === undefined) {
          unmatched++;
          slot = -1;
        } else live.delete(addr);
        pendingRealloc = { line: n, slot };
        break;
      }
      case ">": {
        if (!pendingRealloc) throw new MtraceError(n, "realloc '>' without the '<' line before it");
        if (addr === "(nil)") throw new MtraceError(n, "realloc '>' of (nil)");
        let slot = pendingRealloc.slot;
        pendingRealloc = null;
        if (slot < 0) {
          // The old block predates the trace: replay it as a fresh allocation.
          slot = newSlot();
          liveSize[slot] = 0;
          ops.push(OP_MALLOC, slot, size, n);
          mallocs++;
        } else {
          ops.push(OP_REALLOC, slot, size, n);
          reallocs++;
        }
        account(size - liveSize[slot]);
        liveSize[slot] = size;
        live.set(addr, slot);
        break;
      }
      case "!":
        failed++;
        break;
    }
  }
  if (pendingRealloc) throw new MtraceError(pendingRealloc.line, "realloc '<' has no '>' line after it");
  return {
    count: ops.count,
    kind: ops.kind.subarray(0, ops.count),
    slot: ops.slot.subarray(0, ops.count),
    size: ops.size.subarray(0, ops.count),
    line: ops.line.subarray(0, ops.count),
    slots,
    lines: n,
    mallocs,
    frees,
    reallocs,
    unmatched,
    failed,
    peakLiveBytes,
    leaked: live.size,
  };
}
