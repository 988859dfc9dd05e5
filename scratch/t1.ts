import { writeFileSync } from "node:fs";
import { runReplay } from "../apps/cmd/replay.ts";
import { Machine } from "../apps/machine.ts";
import mtraceReplay from "../apps/bin/mtrace-replay.ts";
for (const sz of [0x1600000]) {
  writeFileSync("/tmp/oom.trace", `= Start\n+ 0x10 0x${sz.toString(16)}\n+ 0x20 0x1000\n- 0x10\n`);
  try { const r = runReplay("/tmp/oom.trace", { memMiB: 22, runs: 1 }); console.log(sz, r.stock.exitCode, r.stock.maxRssKiB); } catch (e) { console.log(sz, (e as Error).message); }
}
const m = new Machine();
m.install("lossy-replay", (argv, envp, libc) => { libc.realloc = (_p: number, n: number) => libc.malloc(n); return mtraceReplay(argv, envp, libc); });
m.k.vfs.writeFile("/tmp/t.trace", "+ 0x10 0x20\n< 0x10\n> 0x20 0x40\n- 0x20\n");
console.log(JSON.stringify(m.run(["lossy-replay", "/tmp/t.trace"]).stderr));
