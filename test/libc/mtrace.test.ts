// MALLOC_TRACE: our libc writes glibc's mtrace lines, and the log replays.

import { describe, expect, it } from "vitest";
import { Machine } from "../../apps/machine.ts";
import { scanTraceText } from "../../apps/replay/scan.ts";
import { OP_FREE } from "../../apps/replay/trace_parser.ts";
import type { Main } from "../../libc/libc.ts";
import { mtraceAlloc, mtraceFree, mtraceRealloc } from "../../libc/malloc/mtrace.ts";

function fileText(m: Machine, path: string): string | null {
  const b = m.readFile(path);
  return b === null ? null : Buffer.from(b).toString("latin1");
}

describe("mtrace lines", () => {
  it("use glibc's %p and %#lx forms", () => {
    expect(mtraceAlloc(0x805c1a0, 0x3ef)).toBe("+ 0x805c1a0 0x3ef\n");
    expect(mtraceAlloc(0x805c1a0, 0)).toBe("+ 0x805c1a0 0\n");
    expect(mtraceAlloc(0, 0x7fffffff)).toBe("+ (nil) 0x7fffffff\n");
    expect(mtraceFree(0x805c1a0)).toBe("- 0x805c1a0\n");
    expect(mtraceFree(0)).toBe("");
  });

  it("report each realloc case as glibc's hook does", () => {
    expect(mtraceRealloc(0x1000, 0x2000, 0x40)).toBe("< 0x1000\n> 0x2000 0x40\n");
    expect(mtraceRealloc(0x1000, 0x1000, 0x8)).toBe("< 0x1000\n> 0x1000 0x8\n");
    expect(mtraceRealloc(0, 0x2000, 0x40)).toBe("+ 0x2000 0x40\n");
    expect(mtraceRealloc(0x1000, 0, 0)).toBe("- 0x1000\n");
    expect(mtraceRealloc(0x1000, 0, 0xfffffff0)).toBe("! 0x1000 0xfffffff0\n");
  });
});

describe("MALLOC_TRACE", () => {
  const prog: Main = (_argv, _envp, libc) => {
    const a = libc.malloc(10);
    const b = libc.calloc(4, 6);
    const c = libc.realloc(a, 5000);
    const d = libc.memalign(64, 100);
    libc.posixMemalign(libc.malloc(4), 256, 32);
    libc.free(0);
    libc.free(b);
    libc.free(c);
    libc.free(d);
    return libc.realloc(0, 0) === 0 ? 1 : 0;
  };

  it("logs every allocation call, in order, in a file the replay reads", () => {
    const m = new Machine({ memMiB: 32 });
    m.install("prog", prog);
    // Only prog traces: every process that starts with MALLOC_TRACE truncates the file, as in glibc.
    const r = m.run(["sh", "-c", "MALLOC_TRACE=/tmp/t.trace prog"]);
    expect(r.exitCode).toBe(0);
    const text = fileText(m, "/tmp/t.trace")!;
    const lines = text.trimEnd().split("\n");
    expect(lines.map((l) => l.replace(/0x[0-9a-f]+/g, "P"))).toEqual([
      "= Start",
      "+ P P", // malloc(10)
      "+ P P", // calloc(4, 6): 24 bytes
      "< P", // realloc(a, 5000)
      "> P P",
      "+ P P", // memalign(64, 100)
      "+ P P", // malloc(4)
      "+ P P", // posix_memalign
      "- P",
      "- P",
      "- P",
      "+ P 0", // realloc(NULL, 0) is malloc(0)
    ]);
    const sizes: number[] = [];
    const st = scanTraceText(text, { sink: (kind, _slot, size) => kind !== OP_FREE && sizes.push(size) });
    expect([st.ops.malloc, st.ops.free, st.ops.realloc, st.skipped]).toEqual([6, 3, 1, 0]);
    expect(sizes).toEqual([10, 24, 5000, 100, 4, 32, 0]);
  });

  it("a traced program's log replays through mtrace-replay", () => {
    const m = new Machine({ memMiB: 64 });
    const r = m.run(["sh", "-c", "MALLOC_TRACE=/tmp/mb.trace mallocbench -r 2 -n 300 -w 256 >/dev/null && mtrace-replay /tmp/mb.trace"]);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    const st = scanTraceText(fileText(m, "/tmp/mb.trace")!);
    expect(r.stdout).toContain(`replayed ${st.opsTotal} operations (${st.ops.malloc} malloc, 0 calloc, 0 memalign, 0 realloc, ${st.ops.free} free)`);
    expect(st.ops.malloc).toBe(st.ops.free);
  });

  it("without MALLOC_TRACE nothing is written", () => {
    const m = new Machine({ memMiB: 32 });
    m.install("prog", prog);
    m.run(["prog"], { env: ["PATH=/bin"] });
    expect(fileText(m, "/tmp/t.trace")).toBeNull();
  });
});
