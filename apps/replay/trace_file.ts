// A trace file read in pieces, plain or gzip-compressed (told by its magic
// bytes, not its name), so a trace of tens of millions of lines never sits
// in host memory whole. Reads are synchronous: the emulated kernel serves a
// process's read(2) from here in the middle of its run. Lines come out of a
// LineSplitter fed with the pieces; a line is latin1 text without its "\n".

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

export interface ByteSource {
  /** Fill dst from the current position; the bytes filled, 0 at the end. */
  read(dst: Uint8Array): number;
  /** Bytes of the file itself consumed so far (compressed bytes for gzip), for progress. */
  readonly consumed: number;
  /** The file's size on disk. */
  readonly fileSize: number;
  close(): void;
}

const PIECE = 1 << 16;

class PlainSource implements ByteSource {
  consumed = 0;

  constructor(
    private readonly fd: number,
    readonly fileSize: number,
  ) {}

  read(dst: Uint8Array): number {
    const n = readSync(this.fd, dst, 0, dst.length, this.consumed);
    this.consumed += n;
    return n;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/**
 * gzip through fflate's streaming inflater (zlib has no synchronous stream).
 * fflate does not check a member's trailer, so the last member's CRC-32 and
 * length are checked here: a file cut inside its trailer is caught too.
 */
class GzipSource implements ByteSource {
  consumed = 0;
  private readonly pending: Uint8Array[] = [];
  private head = 0;
  private ended = false;
  private failure: string | null = null;
  private crc = 0;
  private isize = 0;
  private readonly inflater: Gunzip;
  private readonly piece = new Uint8Array(PIECE);

  constructor(
    private readonly fd: number,
    readonly fileSize: number,
  ) {
    this.inflater = new Gunzip((data) => {
      this.crc = crc32(data, this.crc);
      this.isize = (this.isize + data.length) >>> 0;
      this.pending.push(data);
    });
    this.inflater.onmember = (offset) => {
      if (offset > 0) this.crc = this.isize = 0;
    };
  }

  read(dst: Uint8Array): number {
    while (this.pending.length === 0 && !this.ended) this.inflateMore();
    // What inflated before a failure is handed out first, so the error names the line it cut.
    if (this.pending.length === 0 && this.failure !== null) {
      const f = this.failure;
      this.failure = null;
      throw new TraceFileError(f);
    }
    let n = 0;
    while (n < dst.length && this.pending.length > 0) {
      const c = this.pending[0];
      const take = Math.min(dst.length - n, c.length - this.head);
      dst.set(c.subarray(this.head, this.head + take), n);
      n += take;
      this.head += take;
      if (this.head === c.length) {
        this.pending.shift();
        this.head = 0;
      }
    }
    return n;
  }

  private inflateMore(): void {
    const got = readSync(this.fd, this.piece, 0, PIECE, this.consumed);
    this.consumed += got;
    const last = this.consumed >= this.fileSize;
    try {
      this.inflater.push(this.piece.subarray(0, got), last);
    } catch (e) {
      this.ended = true;
      this.failure = `gzip data is damaged or cut short (${(e as Error).message})`;
      return;
    }
    if (!last) return;
    this.ended = true;
    this.failure = this.trailerProblem();
  }

  /** The last member's CRC-32 and length against its trailer: null when they agree. */
  private trailerProblem(): string | null {
    const t = new Uint8Array(8);
    if (this.fileSize < 18 || readSync(this.fd, t, 0, 8, this.fileSize - 8) !== 8) return "gzip data is cut short";
    const v = new DataView(t.buffer);
    if (v.getUint32(0, true) === this.crc >>> 0 && v.getUint32(4, true) === this.isize) return null;
    return "gzip data is cut short or damaged (its CRC-32 or length does not match)";
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Open a trace file, plain or gzip; a TraceFileError says why it cannot be. */
export function openTrace(path: string): ByteSource {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw new TraceFileError((e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message);
  }
  try {
    const size = fstatSync(fd).size;
    const magic = new Uint8Array(2);
    const m = readSync(fd, magic, 0, 2, 0);
    return m === 2 && magic[0] === 0x1f && magic[1] === 0x8b ? new GzipSource(fd, size) : new PlainSource(fd, size);
  } catch (e) {
    closeSync(fd);
    throw new TraceFileError((e as Error).message);
  }
}

/**
 * A trace as a host-backed file of the emulated machine: its decompressed
 * bytes, read forward on demand. A read behind the position (a reader that
 * seeks back) opens the file again.
 */
export class TraceHostFile implements HostSource {
  private src: ByteSource;
  private pos = 0;
  private readonly skip = new Uint8Array(PIECE);

  /** size: the decompressed length (a scan of the file tells it). onRead: after each read, for progress. */
  constructor(
    private readonly path: string,
    readonly size: number,
    private readonly onRead?: (src: ByteSource) => void,
  ) {
    this.src = openTrace(path);
  }

  readAt(pos: number, dst: Uint8Array): number {
    if (pos < this.pos) {
      this.src.close();
      this.src = openTrace(this.path);
      this.pos = 0;
    }
    while (this.pos < pos) {
      const n = this.src.read(this.skip.subarray(0, Math.min(PIECE, pos - this.pos)));
      if (n === 0) return 0;
      this.pos += n;
    }
    let done = 0;
    while (done < dst.length) {
      const n = this.src.read(dst.subarray(done));
      if (n === 0) break;
      done += n;
    }
    this.pos += done;
    this.onRead?.(this.src);
    return done;
  }

  close(): void {
    this.src.close();
  }
}

/**
 * Cuts a byte stream into lines, whatever the piece boundaries. Lines are
 * numbered from 1; a last line without "\n" still counts; "\r\n" ends a line
 * as "\n" does.
 */
export class LineSplitter {
  /** Lines handed out so far. */
  lines = 0;
  private carry = "";

  push(bytes: Uint8Array, onLine: (text: string, line: number) => void): void {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl < 0) break;
      let text = buf.toString("latin1", start, nl);
      if (this.carry !== "") {
        text = this.carry + text;
        this.carry = "";
      }
      start = nl + 1;
      onLine(text.endsWith("\r") ? text.slice(0, -1) : text, ++this.lines);
    }
    if (start < buf.length) this.carry += buf.toString("latin1", start);
  }

  /** The stream ended: hand out a last line that had no "\n". */
  end(onLine: (text: string, line: number) => void): void {
    if (this.carry === "") return;
    const text = this.carry;
    this.carry = "";
    onLine(text.endsWith("\r") ? text.slice(0, -1) : text, ++this.lines);
  }
}

/** Every line of a trace file, in order, read piece by piece; the file's decompressed length. */
export function forEachTraceLine(path: string, onLine: (text: string, line: number) => void, onProgress?: (src: ByteSource) => void): number {
  let bytes = 0;
  const src = openTrace(path);
  const split = new LineSplitter();
  const piece = new Uint8Array(PIECE);
  try {
    for (;;) {
      let n: number;
      try {
        n = src.read(piece);
      } catch (e) {
        if (e instanceof TraceFileError) throw new TraceFileError(e.detail, split.lines + 1);
        throw e;
      }
      if (n === 0) break;
      bytes += n;
      split.push(piece.subarray(0, n), onLine);
      onProgress?.(src);
    }
    split.end(onLine);
  } finally {
    src.close();
  }
  return bytes;
}
