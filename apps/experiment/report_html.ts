// The experiment's report as one self-contained HTML page: the tables, SVG
// charts (time per strategy, clear_page and the profile before and after),
// and the report's JSON embedded for anyone (and the tests) to check the
// numbers against.

import type { Report } from "./experiment.ts";
import type { Measurement } from "./measure.ts";
import { reportJson } from "./report_text.ts";

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
const pct = (x: number, d = 1) => `${x >= 0 ? "+" : ""}${x.toFixed(d)}%`;

/** A table cell carrying its exact value, so the page can be checked against the JSON. */
function cell(value: number, text: string, key: string): string {
  return `<td class="num" data-key="${esc(key)}" data-value="${value}">${esc(text)}</td>`;
}

function barChart(title: string, bars: { label: string; value: number; text: string }[], width = 720): string {
  const max = Math.max(...bars.map((b) => b.value), 1e-12);
  const rowH = 22;
  const labelW = 230;
  const h = bars.length * rowH + 30;
  const items = bars
    .map((b, i) => {
      const w = Math.max(1, ((width - labelW - 90) * b.value) / max);
      const y = 24 + i * rowH;
      return `<text x="${labelW - 6}" y="${y + 14}" text-anchor="end">${esc(b.label)}</text><rect x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" class="bar"/><text x="${(labelW + w + 4).toFixed(1)}" y="${y + 14}">${esc(b.text)}</text>`;
    })
    .join("");
  return `<svg class="chart" viewBox="0 0 ${width} ${h}" width="${width}" height="${h}" role="img" aria-label="${esc(title)}"><text x="0" y="14" class="title">${esc(title)}</text>${items}</svg>`;
}

/** The profile's top symbols before and after the patch, as paired bars of their share. */
function profileChart(title: string, before: Measurement, after: Measurement): string {
  // clear_page may be below the profile's top rows: its share is kept on the measurement.
  const share = (m: Measurement, sym: string) => (sym === "clear_page" ? 100 * m.clearShare : (m.profile.find((p) => p.symbol === sym)?.percent ?? 0));
  const syms = [...new Set([...before.profile.slice(0, 8).map((p) => p.symbol), "clear_page"])];
  const width = 720;
  const rowH = 30;
  const labelW = 230;
  const h = syms.length * rowH + 40;
  const max = Math.max(...syms.flatMap((s) => [share(before, s), share(after, s)]), 1);
  const scale = (v: number) => ((width - labelW - 110) * v) / max;
  const items = syms
    .map((s, i) => {
      const y = 34 + i * rowH;
      const a = share(before, s);
      const b = share(after, s);
      return `<text x="${labelW - 6}" y="${y + 14}" text-anchor="end">${esc(s)}</text><rect x="${labelW}" y="${y}" width="${Math.max(1, scale(a)).toFixed(1)}" height="11" class="bar before"/><rect x="${labelW}" y="${y + 12}" width="${Math.max(1, scale(b)).toFixed(1)}" height="11" class="bar after"/><text x="${(labelW + Math.max(scale(a), scale(b)) + 4).toFixed(1)}" y="${y + 16}">${a.toFixed(1)}% / ${b.toFixed(1)}%</text>`;
    })
    .join("");
  return `<svg class="chart" viewBox="0 0 ${width} ${h}" width="${width}" height="${h}" role="img" aria-label="${esc(title)}"><text x="0" y="14" class="title">${esc(title)}</text><rect x="0" y="20" width="10" height="10" class="bar before"/><text x="14" y="29">stock</text><rect x="70" y="20" width="10" height="10" class="bar after"/><text x="84" y="29">patched</text>${items}</svg>`;
}

export function reportHtml(r: Report): string {
  const names = { ebizzy: "ebizzy -m", mallocbench: "mallocbench -f", build: "kernel-like build" };
  let body = `<h1>nozero: the 2007 MAP_NOZERO experiment, re-run</h1>
<p>Simulated figures from the cost model and the programs' real work; patched = ebizzy -N / MALLOC_NOZERO=1 on the nozero kernel, baseline = stock kernel.${r.quick ? " (quick run)" : ""}</p>
<h2>The 2007 table</h2><table id="table2007"><tr><th>workload</th><th>metric</th>${r.machines.map((m) => `<th>${esc(m.machine)} stock</th><th>patched</th><th>change</th>`).join("")}<th>2007</th></tr>`;
  for (let i = 0; i < r.machines[0].table.length; i++) {
    const t0 = r.machines[0].table[i];
    body += `<tr><td>${names[t0.workload]}</td><td>${esc(t0.metric)}</td>`;
    r.machines.forEach((m, mi) => {
      const t = m.table[i];
      const fmt = (x: Measurement) => (x.unit === "s" ? x.value.toFixed(4) : Math.round(x.value).toLocaleString("en-US"));
      body += cell(t.stock.value, fmt(t.stock), `machines.${mi}.table.${i}.stock.value`);
      body += cell(t.patched.value, fmt(t.patched), `machines.${mi}.table.${i}.patched.value`);
      body += `<td class="num${t.inBand ? "" : " out"}" data-key="machines.${mi}.table.${i}.changePercent" data-value="${t.changePercent}">${pct(t.changePercent)}</td>`;
    });
    body += `<td>${esc(t0.figure2007)}</td></tr>`;
  }
  body += `</table><p class="note">Changes outside the 2007 band are marked; the README explains why each lands where it does.</p>`;

  for (const [mi, m] of r.machines.entries()) {
    body += `<h2>Zeroing strategies (${esc(m.machine)})</h2><table id="strategies-${esc(m.machine)}"><tr><th>policy</th><th>build (s)</th><th>ebizzy records/s</th><th>clear_page on path (cycles)</th><th>off path</th><th>leaked pages</th></tr>`;
    m.strategies.forEach((s, si) => {
      body += `<tr><td>${esc(s.policy)}${s.policy === "nozero" ? " (+patch)" : ""}</td>`;
      body += cell(s.build.value, s.build.value.toFixed(4), `machines.${mi}.strategies.${si}.build.value`);
      body += cell(s.ebizzy.value, Math.round(s.ebizzy.value).toLocaleString("en-US"), `machines.${mi}.strategies.${si}.ebizzy.value`);
      const on = s.build.clearCritical + s.ebizzy.clearCritical;
      const off = s.build.clearIdle + s.ebizzy.clearIdle;
      body += `<td class="num">${on.toExponential(2)}</td><td class="num">${off.toExponential(2)}</td>`;
      body += cell(s.leak.value, String(s.leak.value), `machines.${mi}.strategies.${si}.leak.value`);
      body += "</tr>";
    });
    body += "</table>";
    body += barChart(`Build time per strategy, ${m.machine} (simulated s)`, m.strategies.map((s) => ({ label: s.policy, value: s.build.value, text: s.build.value.toFixed(4) })));
    body += barChart(`ebizzy -m per strategy, ${m.machine} (records/s)`, m.strategies.map((s) => ({ label: s.policy, value: s.ebizzy.value, text: Math.round(s.ebizzy.value).toLocaleString("en-US") })));
    const bt = m.table.find((t) => t.workload === "build")!;
    const et = m.table.find((t) => t.workload === "ebizzy")!;
    body += profileChart(`Profile share per symbol, build, ${m.machine}`, bt.stock, bt.patched);
    body += profileChart(`Profile share per symbol, ebizzy -m, ${m.machine}`, et.stock, et.patched);
  }

  body += `<h2>The host profile next to this machine's real programs</h2><table id="fidelity"><tr><th>machine</th><th>program</th><th>clear_page share (emulated)</th><th>real</th></tr>`;
  r.machines.forEach((m, mi) =>
    m.fidelity.forEach((f, fi) => {
      body += `<tr><td>${esc(m.machine)}</td><td>${f.program}</td>${cell(f.emulatedPercent, `${f.emulatedPercent.toFixed(2)}%`, `machines.${mi}.fidelity.${fi}.emulatedPercent`)}<td>${esc(f.real)}</td></tr>`;
    }),
  );
  body += `</table><h2>Request sizes: our cc1 and as beside real gcc's and gas's</h2><table id="sizes"><tr><th>size</th>`;
  const sizes = r.allocationSizes;
  for (const a of sizes) body += `<th>${a.program} ours (calls)</th><th>${a.program} real (calls)</th>`;
  body += "</tr>";
  sizes[0].ours.forEach((c, ci) => {
    body += `<tr><td>${esc(c.label)}</td>`;
    sizes.forEach((a, ai) => {
      for (const side of ["ours", "real"] as const) body += cell(a[side][ci].count, String(a[side][ci].count), `allocationSizes.${ai}.${side}.${ci}.count`);
    });
    body += "</tr>";
  });
  body += `</table><p class="note">Real: ${esc(sizes.map((a) => a.realTrace).join("; "))}.</p>`;
  body += `<h2>Sensitivity of the build's gain</h2><table id="sensitivity"><tr><th>machine</th><th>clear_page cost</th><th>cc1 work per page</th></tr>`;
  for (const m of r.machines) {
    body += `<tr><td>${esc(m.machine)}</td><td>${m.sensitivity.clearScale.map((c) => `x${c.scale}: ${pct(c.changePercent, 2)}`).join(", ")}</td><td>${m.sensitivity.cc1Scale.map((c) => `x${c.scale}: ${pct(c.changePercent, 2)}`).join(", ")}</td></tr>`;
  }
  body += `</table><p>Build outputs identical under every strategy: <b id="identical">${r.buildOutputsIdentical ? "yes" : "NO"}</b></p>`;
  const data = JSON.stringify(reportJson(r)).replace(/</g, "\\u003c");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>nozero compare</title><style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1em}th,td{border:1px solid #ccc;padding:3px 8px}th{background:#f3f3f3}
td.num{text-align:right;font-variant-numeric:tabular-nums}td.out{background:#fff3cd}
.chart{display:block;margin:0.5em 0 1.5em;font-size:12px}.chart .title{font-weight:600}.bar{fill:#4a7fb5}.bar.before{fill:#c0504d}.bar.after{fill:#4a7fb5}
.note{color:#555}</style></head><body>${body}<script type="application/json" id="nozero-data">${data}</script></body></html>\n`;
}
