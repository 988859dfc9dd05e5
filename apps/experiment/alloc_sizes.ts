// Fidelity of the toolchain's allocation pattern: the request sizes our cc1
// and as ask malloc for, compiling one file of the generated tree (recorded
// with MALLOC_TRACE), beside the sizes real cc1 and gas asked for on this
// machine (the recorded mtrace logs in traces/).

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateTree } from "../gentree/gentree.ts";
import { Machine } from "../machine.ts";
import type { SizeClass } from "../replay/histogram.ts";
import { scanTraceFile, scanTraceText } from "../replay/scan.ts";

const TRACES = join(dirname(fileURLToPath(import.meta.url)), "../../traces");

export interface AllocationSizes {
  program: "cc1" | "as";
  ours: SizeClass[];
  real: SizeClass[];
  /** What the real log records (traces/README.md). */
  realTrace: string;
}

const REAL = {
  cc1: { file: "cc1-tree.trace.gz", text: "cc1 of gcc 12.2 compiling traces/tree.c" },
  as: { file: "as-calibrate.trace.gz", text: "as of binutils 2.40 on gcc's output for calibrate.c" },
} as const;


/** Compile the tree's largest file with cc1 and as, each with its own MALLOC_TRACE, and histogram both logs. */
export function allocationSizes(files: number, seed: number): AllocationSizes[] {
  const tree = generateTree({ files, seed });
  const m = new Machine({ memMiB: 128 });
  m.writeFiles("/src", tree.files);
  const largest = tree.files.filter((f) => f.path.endsWith(".c")).reduce((a, b) => (b.text.length > a.text.length ? b : a));
  const r = m.run([
    "sh",
    "-c",
    `cd /src && MALLOC_TRACE=/tmp/cc1.trace cc1 -O1 -Iinclude ${largest.path} -o /tmp/x.s && MALLOC_TRACE=/tmp/as.trace as /tmp/x.s -o /tmp/x.o`,
  ]);
  if (r.exitCode !== 0) throw new Error(`allocation sizes: compiling ${largest.path} failed: ${r.stderr}`);
  const ours = (path: string): SizeClass[] => {
    const log = m.readFile(path);
    if (log === null) throw new Error(`allocation sizes: no ${path}`);
    return scanTraceText(Buffer.from(log).toString("latin1")).histogram.classes();
  };
  return (["cc1", "as"] as const).map((program) => ({
    program,
    ours: ours(`/tmp/${program}.trace`),
    // The real logs begin at mtrace(), after the loader's first allocations: a few frees are of blocks they never saw.
    real: scanTraceFile(join(TRACES, REAL[program].file), { lenient: true }).histogram.classes(),
    realTrace: REAL[program].text,
  }));
}
