// A trace read in pieces, plain or gzip-compressed (told by its magic bytes,
// not its name), so a trace of tens of millions of lines never sits in
// memory whole. The same pieces-in, lines-out path serves the host's scan
// (pieces from the host file) and the emulated replayer (pieces from
// read(2)); a line is latin1 text without its "\n".

import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { crc32 } from "node:zlib";
import { Gunzip } from "fflate";
import type { HostSource } from "../../kernel/vfs/inode.ts";

/** The file cannot be opened or read, or its gzip data is damaged; `line` is the line it broke in, or 0. */
export class TraceFileError extends Error {
  constructor(
    readonly detail: string,
    readonly line = 0,
  ) {
    super(detail);
  }
}

/**
 * Raw pieces of a trace in, its bytes out: plain input passes through, gzip
 * (one member or several) is inflated with fflate's streaming inflater (zlib
 * has no synchronous stream). fflate does not check a member's trailer, so the
 * last member's CRC-32 and length are checked here: a file cut inside its
 * trailer is caught too. Damage throws TraceFileError after the bytes
 * inflated before it were handed out.
 */
export class TraceDecoder {
  private mode: "" | "plain" | "gzip" = "";
  private inflater: Gunzip | null = null;
  private crc = 0;
  private isize = 0;
  private readonly tail = new Uint8Array(8); // the last 8 raw bytes: the trailer, at the end
  private raw = 0;
  private consumerError: { e: unknown } | null = null;

  constructor(private readonly onData: (bytes: Uint8Array) => void) {}

  push(piece: Uint8Array): void {
    if (piece.length === 0) return;
    if (this.mode === "") this.start(piece);
    if (this.mode === "plain") return this.onData(piece);
    this.keepTail(piece);
    this.inflate(piece, false);
  }

  /** The input ended. */
  end(): void {
    if (this.mode !== "gzip") return;
    this.inflate(new Uint8Array(0), true);
    const v = new DataView(this.tail.buffer);
    if (this.raw < 18) throw new TraceFileError("gzip data is cut short");
    if (v.getUint32(0, true) !== this.crc >>> 0 || v.getUint32(4, true) !== this.isize) {
      throw new TraceFileError("gzip data is cut short or damaged (its CRC-32 or length does not match)");
    }
  }

  private start(piece: Uint8Array): void {
    // A first piece of one byte cannot tell; gzip's magic is 2 bytes, and a trace never starts with 0x1f.
    this.mode = piece[0] === 0x1f && (piece.length < 2 || piece[1] === 0x8b) ? "gzip" : "plain";
    if (this.mode === "plain") return;
    this.inflater = new Gunzip((data) => {
      this.crc = crc32(data, this.crc);
      this.isize = (this.isize + data.length) >>> 0;
      try {
        this.onData(data);
      } catch (e) {
        this.consumerError = { e };
        throw e;
      }
    });
    this.inflater.onmember = (offset) => {
      if (offset > 0) this.crc = this.isize = 0;
    };
  }

  private inflate(piece: Uint8Array, last: boolean): void {
    try {
      this.inflater!.push(piece, last);
    } catch (e) {
      // What the consumer threw (a bad line) passes through; the rest is fflate's.
      const c = this.consumerError;
      this.consumerError = null;
      if (c !== null) throw c.e;
      throw new TraceFileError(`gzip data is damaged or cut short (${(e as Error).message})`);
    }
  }

  private keepTail(piece: Uint8Array): void {
    this.raw += piece.length;
    if (piece.length >= 8) {
      this.tail.set(piece.subarray(piece.length - 8));
      return;
    }
    this.tail.copyWithin(0, piece.length);
    this.tail.set(piece, 8 - piece.length);
  }
}

/** A line: bytes [start, end) of buf, without its "\n" (a "\r" before it stays), numbered from 1. */
export type OnLine = (buf: Uint8Array, start: number, end: number, line: number) => void;

/**
 * Cuts a byte stream into lines, whatever the piece boundaries, without
 * copying a line unless it spans pieces. A last line without "\n" still counts.
 */
export class LineSplitter {
  /** Lines handed out so far. */
  lines = 0;
  private carry = new Uint8Array(256);
  private carried = 0;

  push(bytes: Uint8Array, onLine: OnLine): void {
    let start = 0;
    for (;;) {
      const nl = bytes.indexOf(10, start);
      if (nl < 0) break;
      if (this.carried > 0) {
        this.keep(bytes, start, nl);
        const n = this.carried;
        this.carried = 0;
        onLine(this.carry, 0, n, ++this.lines);
      } else onLine(bytes, start, nl, ++this.lines);
      start = nl + 1;
    }
    if (start < bytes.length) this.keep(bytes, start, bytes.length);
  }

  /** The stream ended: hand out a last line that had no "\n". */
  end(onLine: OnLine): void {
    if (this.carried === 0) return;
    const n = this.carried;
    this.carried = 0;
    onLine(this.carry, 0, n, ++this.lines);
  }

  /** Append bytes [from, to) to the carried part of a line. */
  private keep(bytes: Uint8Array, from: number, to: number): void {
    const need = this.carried + to - from;
    if (need > this.carry.length) {
      const grown = new Uint8Array(Math.max(need, this.carry.length * 2));
      grown.set(this.carry.subarray(0, this.carried));
      this.carry = grown;
    }
    this.carry.set(bytes.subarray(from, to), this.carried);
    this.carried = need;
  }
}

/**
 * The lines of a trace given in raw pieces (push, then end): decoded, split,
 * and handed to onLine; a decoding failure names the line it broke in.
 */
export class TraceLines {
  private readonly split = new LineSplitter();
  private readonly decoder: TraceDecoder;
  /** Decoded bytes so far. */
  bytes = 0;

  constructor(private readonly onLine: OnLine) {
    this.decoder = new TraceDecoder((b) => {
      this.bytes += b.length;
      this.split.push(b, onLine);
    });
  }

  push(piece: Uint8Array): void {
    this.guard(() => this.decoder.push(piece));
  }

  end(): void {
    this.guard(() => this.decoder.end());
    this.split.end(this.onLine);
  }

  private guard(f: () => void): void {
    try {
      f();
    } catch (e) {
      if (e instanceof TraceFileError && e.line === 0) throw new TraceFileError(e.detail, this.split.lines + 1);
      throw e;
    }
  }
}

const PIECE = 1 << 16;

/**
 * A trace as a read-only file of the emulated machine, its decoded bytes
 * served on demand: the machine reads the same text whether the trace is
 * gzip or not, and none of it is copied in. A read behind the position (a
 * reader that seeks back) starts the decoding again.
 */
export class DecodedTraceFile implements HostSource {
  private fd: number;
  private raw = 0;
  private rawSize: number;
  private pos = 0;
  private decoder!: TraceDecoder;
  private readonly pending: Uint8Array[] = [];
  private head = 0;
  private readonly piece = new Uint8Array(PIECE);

  /** size: the decoded length (a scan of the file tells it). onRead: raw bytes consumed so far and the file's size, for progress. */
  constructor(
    path: string,
    readonly size: number,
    private readonly onRead?: (done: number, size: number) => void,
  ) {
    this.fd = openHost(path);
    this.rawSize = fstatSync(this.fd).size;
    this.restart();
  }

  readAt(pos: number, dst: Uint8Array): number {
    if (pos < this.pos) this.restart();
    while (this.pos < pos && this.take(null, pos - this.pos) > 0);
    let done = 0;
    while (done < dst.length) {
      const n = this.take(dst.subarray(done), dst.length - done);
      if (n === 0) break;
      done += n;
    }
    this.onRead?.(this.raw, this.rawSize);
    return done;
  }

  close(): void {
    closeSync(this.fd);
  }

  private restart(): void {
    this.raw = this.pos = this.head = 0;
    this.pending.length = 0;
    this.decoder = new TraceDecoder((b) => this.pending.push(b));
  }

  /** Up to `max` decoded bytes into dst (or dropped when dst is null); 0 at the end. */
  private take(dst: Uint8Array | null, max: number): number {
    while (this.pending.length === 0) {
      if (this.raw >= this.rawSize) return 0;
      const n = readSync(this.fd, this.piece, 0, PIECE, this.raw);
      this.raw += n;
      if (n === 0) this.rawSize = this.raw; // the file shrank since it was opened: it ends here
      this.decoder.push(this.piece.subarray(0, n));
      if (this.raw >= this.rawSize) this.decoder.end();
    }
    const c = this.pending[0];
    const n = Math.min(max, c.length - this.head);
    dst?.set(c.subarray(this.head, this.head + n));
    this.head += n;
    this.pos += n;
    if (this.head === c.length) {
      this.pending.shift();
      this.head = 0;
    }
    return n;
  }
}

function openHost(path: string): number {
  try {
    return openSync(path, "r");
  } catch (e) {
    throw new TraceFileError((e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message);
  }
}

/** Every line of a trace file, in order, read piece by piece; the file's decoded length. */
export function forEachTraceLine(path: string, onLine: OnLine, onProgress?: (done: number, size: number) => void): number {
  const fd = openHost(path);
  const lines = new TraceLines(onLine);
  const piece = new Uint8Array(PIECE);
  try {
    const size = fstatSync(fd).size;
    for (let pos = 0; ; ) {
      const n = readSync(fd, piece, 0, PIECE, pos);
      if (n === 0) break;
      pos += n;
      lines.push(piece.subarray(0, n));
      onProgress?.(pos, size);
    }
    lines.end();
  } finally {
    closeSync(fd);
  }
  return lines.bytes;
}
