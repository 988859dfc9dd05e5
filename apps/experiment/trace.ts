// Trace export for standard viewers: per run of the 2007 table, the tasks on
// the simulated CPUs as Chrome trace events (chrome://tracing, Perfetto) and
// the priced profile as a speedscope file (speedscope.app).

import type { Report } from "./experiment.ts";
import type { Measurement } from "./measure.ts";

function slug(m: Measurement): string {
  return `${m.machine}-${m.workload}-${m.patched ? "patched" : "stock"}`;
}

/** Chrome trace event format: one complete ("X") event per run segment, a thread per CPU. */
export function chromeTrace(m: Measurement): string {
  const us = (cycles: number) => (cycles / m.hz) * 1e6;
  const t0 = m.segments.length ? Math.min(...m.segments.map((s) => s.start)) : 0;
  const cpus = new Set(m.segments.map((s) => s.cpu));
  const events: object[] = [...cpus].map((cpu) => ({ name: "thread_name", ph: "M", pid: 1, tid: cpu, args: { name: `CPU ${cpu}` } }));
  events.push({ name: "process_name", ph: "M", pid: 1, tid: 0, args: { name: `${m.command} [${m.machine}, ${m.policy}]` } });
  for (const s of m.segments) {
    events.push({ name: `${s.comm} [${s.pid}]`, cat: s.comm, ph: "X", pid: 1, tid: s.cpu, ts: us(s.start - t0), dur: us(s.stop - s.start), args: { pid: s.pid } });
  }
  return JSON.stringify({ traceEvents: events, displayTimeUnit: "ms" });
}

/** speedscope's sampled profile: one sample per symbol, weighted by its simulated nanoseconds. */
export function speedscope(m: Measurement): string {
  const frames = m.profile.map((p) => ({ name: p.symbol, file: p.image }));
  const weights = m.profile.map((p) => Math.round((p.cycles / m.hz) * 1e9));
  return JSON.stringify({
    $schema: "https://www.speedscope.app/file-format-schema.json",
    name: `${m.command} [${m.machine}, ${m.policy}]`,
    exporter: "nozero compare",
    shared: { frames },
    profiles: [
      {
        type: "sampled",
        name: `${m.command} [${m.machine}]`,
        unit: "nanoseconds",
        startValue: 0,
        endValue: weights.reduce((a, b) => a + b, 0),
        samples: frames.map((_, i) => [i]),
        weights,
      },
    ],
  });
}

/** Every file --trace-out writes: name -> contents. */
export function traceFiles(r: Report): [string, string][] {
  const out: [string, string][] = [];
  for (const mr of r.machines) {
    for (const row of mr.table) {
      for (const m of [row.stock, row.patched]) {
        out.push([`${slug(m)}.trace.json`, chromeTrace(m)]);
        out.push([`${slug(m)}.speedscope.json`, speedscope(m)]);
      }
    }
  }
  return out;
}
