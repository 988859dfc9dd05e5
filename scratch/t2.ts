import { Machine } from "../apps/machine.ts";
const m = new Machine({ memMiB: 32 });
for (const sz of ["0x100000000", "0x100000010", "0x7fffffffffffffff", "0xfffffff0"]) {
  m.k.vfs.writeFile("/tmp/t.trace", `= Start\n+ 0x10 ${sz}\n- 0x10\n`);
  for (const t of ["none"]) { const r = m.run(["mtrace-replay", "-t", t, "/tmp/t.trace"]); console.log(sz, r.exitCode, r.stderr.trim()); }
  m.k.vfs.writeFile("/tmp/t.jsonl", `{"op":"calloc","ptr":"0x10","size":${Number(sz)}}\n{"op":"memalign","ptr":"0x20","size":${Number(sz)},"align":64}\n`);
  const r = m.run(["mtrace-replay", "-t", "none", "/tmp/t.jsonl"]); console.log(" json", r.exitCode, r.stderr.trim());
}
