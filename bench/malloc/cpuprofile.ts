// Summarise a V8 .cpuprofile (node --cpu-prof): functions by self time and
// by inclusive time (each sample counted once per function on its stack).
//
//   node --import tsx bench/malloc/cpuprofile.ts FILE.cpuprofile [TOP]

import { readFileSync } from "node:fs";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error("usage: cpuprofile.ts FILE.cpuprofile [TOP]");
  process.exit(2);
}
const top = Number(topArg ?? 30);
const p = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const key = (cf: CallFrame): string => {
  const f = cf.url.replace(/^.*\/work\/main\//, "").replace(/^file:\/\//, "");
  return `${cf.functionName || "(anonymous)"}  ${f}${f ? `:${cf.lineNumber + 1}` : ""}`;
};
const self = new Map<string, number>();
const total = new Map<string, number>();
let all = 0;
for (let i = 0; i < p.samples.length; i++) {
  const dt = p.timeDeltas[i] ?? 0;
  all += dt;
  let id: number | undefined = p.samples[i];
  const leaf = byId.get(id)!;
  self.set(key(leaf.callFrame), (self.get(key(leaf.callFrame)) ?? 0) + dt);
  const seen = new Set<string>();
  while (id !== undefined) {
    const k = key(byId.get(id)!.callFrame);
    if (!seen.has(k)) {
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + dt);
    }
    id = parent.get(id);
  }
}
const pct = (x: number): string => `${((100 * x) / all).toFixed(1).padStart(5)}%`;
console.log(`${file}: ${(all / 1e6).toFixed(2)} s sampled, ${p.samples.length} samples`);
console.log(`\nself time (top ${top}):`);
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(v)}  ${k}`);
console.log(`\ninclusive time (top ${top}):`);
for (const [k, v] of [...total].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(v)}  ${k}`);
