// Character devices: the console (the host's stdout and stderr, and a stdin
// buffer), /dev/null and /dev/zero.

import type { FileOps, OpenFile } from "./file.ts";

/** Where console output goes on the host. */
export interface ConsoleSink {
  write(stream: "stdout" | "stderr", data: Uint8Array): void;
}

/** A console that keeps everything written to it (tests, --json). */
export class CapturedConsole implements ConsoleSink {
  private readonly chunks: { stream: "stdout" | "stderr"; data: Uint8Array }[] = [];

  write(stream: "stdout" | "stderr", data: Uint8Array): void {
    this.chunks.push({ stream, data: data.slice() });
  }

  /** Everything written to `stream` since chunk number `from` (see `mark`). */
  text(stream: "stdout" | "stderr", from = 0): string {
    const parts = this.chunks.slice(from).filter((c) => c.stream === stream).map((c) => Buffer.from(c.data).toString("latin1"));
    return parts.join("");
  }

  /** A position to read new output from later. */
  mark(): number {
    return this.chunks.length;
  }
}

export function consoleOps(sink: ConsoleSink, stream: "stdout" | "stderr", stdin: { data: Uint8Array; pos: number }): FileOps {
  return {
    read(_f: OpenFile, buf: Uint8Array): number {
      const n = Math.min(buf.length, stdin.data.length - stdin.pos);
      buf.set(stdin.data.subarray(stdin.pos, stdin.pos + n));
      stdin.pos += n;
      return n;
    },
    write(_f: OpenFile, data: Uint8Array): number {
      sink.write(stream, data);
      return data.length;
    },
  };
}

export const nullOps: FileOps = {
  read: () => 0,
  write: (_f, data) => data.length,
};

export const zeroOps: FileOps = {
  read(_f, buf) {
    buf.fill(0);
    return buf.length;
  },
  write: (_f, data) => data.length,
};
