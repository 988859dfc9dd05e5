// A whole trace through the parser on the host: the check `nozero replay`
// makes before anything runs (so a bad line is reported by number at once),
// and the counts its report and the fidelity tables use.

import { LineSplitter, forEachTraceLine } from "./trace_file.ts";
import { type OpSink, TraceParser, type TraceStats } from "./trace_parser.ts";

export interface ScanOptions {
  lenient?: boolean;
  /** Bytes of each block a replay writes (Infinity: all), for peakTouchedBytes. */
  touchLimit?: number;
  sink?: OpSink;
}

/** A trace file's figures plus its decompressed length. Throws TraceError or TraceFileError. */
export function scanTraceFile(path: string, opts: ScanOptions = {}, onProgress?: (done: number, size: number) => void): TraceStats & { bytes: number } {
  const p = new TraceParser(opts.lenient ?? false, opts.touchLimit ?? Infinity, opts.sink ?? null);
  const bytes = forEachTraceLine(path, (b, start, end, line) => p.line(b, start, end, line), onProgress);
  return { ...p.end(), bytes };
}

/** A trace held as text (tests, our own programs' MALLOC_TRACE logs). Throws TraceError. */
export function scanTraceText(text: string, opts: ScanOptions = {}): TraceStats {
  const p = new TraceParser(opts.lenient ?? false, opts.touchLimit ?? Infinity, opts.sink ?? null);
  const split = new LineSplitter();
  const onLine = (b: Uint8Array, start: number, end: number, line: number): void => p.line(b, start, end, line);
  split.push(Buffer.from(text, "latin1"), onLine);
  split.end(onLine);
  return p.end();
}
