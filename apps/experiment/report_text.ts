// The experiment's report as text (what `npm start` prints) and as JSON.

import type { SizeClass } from "../replay/histogram.ts";
import type { Measurement } from "./measure.ts";
import type { Report } from "./experiment.ts";

const pct = (x: number, digits = 1) => `${x >= 0 ? "+" : ""}${x.toFixed(digits)}%`;
const share = (x: number) => `${(100 * x).toFixed(2)}%`;

function fmtValue(m: Measurement): string {
  if (m.unit === "s") return m.value.toFixed(4);
  return Math.round(m.value).toLocaleString("en-US");
}

/** A /usr/bin/time -v style block for one run (simulated time and rusage). */
export function timeBlock(m: Measurement): string {
  const cpu = m.simulatedSeconds > 0 ? Math.round((100 * (m.userSeconds + m.systemSeconds)) / m.simulatedSeconds) : 0;
  const el = m.simulatedSeconds;
  const mins = Math.floor(el / 60);
  const secs = (el - mins * 60).toFixed(2).padStart(5, "0");
  return [
    `\tCommand being timed: "${m.command}"  [${m.machine}, policy ${m.policy}]`,
    `\tUser time (seconds): ${m.userSeconds.toFixed(2)}`,
    `\tSystem time (seconds): ${m.systemSeconds.toFixed(2)}`,
    `\tPercent of CPU this job got: ${cpu}%`,
    `\tElapsed (wall clock) time (h:mm:ss or m:ss): ${mins}:${secs}`,
    `\tMaximum resident set size (kbytes): ${m.maxRssKiB}`,
    `\tMinor (reclaiming a frame) page faults: ${m.minflt}`,
    `\tProcesses: ${m.processes}`,
    `\tContext switches: ${m.contextSwitches}`,
    `\tExit status: ${m.exitCode}`,
  ].join("\n");
}

function table(rows: string[][], align: ("l" | "r")[]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (align[i] === "l" ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ").trimEnd()).join("\n");
}

export function formatReport(r: Report): string {
  const out: string[] = [];
  out.push("nozero compare: the 2007 MAP_NOZERO experiment, re-run in emulation" + (r.quick ? " (--quick)" : ""));
  out.push(`workloads: ebizzy ${r.params.ebizzy.join(" ")}; mallocbench ${r.params.mallocbench.join(" ")}; build of ${r.params.buildFiles} generated files with make -j ${r.params.buildJobs}`);
  out.push("simulated figures (deterministic); 'patched' = ebizzy -N / MALLOC_NOZERO=1 on the nozero kernel, baseline = stock kernel\n");

  const rows = [["workload", "metric", ...r.machines.flatMap((m) => [`${m.machine} stock`, "patched", "change"]), "2007"]];
  const names = { ebizzy: "ebizzy -m", mallocbench: "mallocbench -f", build: "kernel-like build" };
  for (let i = 0; i < r.machines[0].table.length; i++) {
    const line = [names[r.machines[0].table[i].workload], r.machines[0].table[i].metric];
    for (const m of r.machines) {
      const t = m.table[i];
      line.push(fmtValue(t.stock), fmtValue(t.patched), `${pct(t.changePercent)}${t.inBand ? "" : " *"}`);
    }
    line.push(r.machines[0].table[i].figure2007);
    rows.push(line);
  }
  out.push("The 2007 table");
  out.push(table(rows, ["l", "l", ...r.machines.flatMap(() => ["r", "r", "r"] as const), "l"]));
  out.push("  * outside the 2007 band (see the README's 'Why the numbers are what they are')\n");

  out.push("clear_page in the profile (rank, share of all cycles), stock -> patched");
  for (const m of r.machines) {
    for (const t of m.table) {
      out.push(`  ${m.machine.padEnd(13)} ${names[t.workload].padEnd(18)} #${t.stock.clearRank} ${share(t.stock.clearShare)} -> ${t.patched.clearRank ? `#${t.patched.clearRank}` : "gone"} ${share(t.patched.clearShare)}`);
    }
  }
  out.push("");

  for (const m of r.machines) {
    out.push(`Zeroing strategies on equal terms (${m.machine})`);
    const srows = [["policy", "build (s)", "ebizzy rec/s", "clear on path", "clear off path", "leaked pages"]];
    for (const s of m.strategies) {
      const clearOn = s.build.clearCritical + s.ebizzy.clearCritical;
      const clearOff = s.build.clearIdle + s.ebizzy.clearIdle;
      srows.push([
        `${s.policy}${s.policy === "nozero" ? " (+patch)" : ""}`,
        s.build.value.toFixed(4),
        Math.round(s.ebizzy.value).toLocaleString("en-US"),
        clearOn.toExponential(2),
        clearOff.toExponential(2),
        `${s.leak.value}${s.leak.value > 0 ? "  <- another user's bytes: not an option" : ""}`,
      ]);
    }
    out.push(table(srows, ["l", "r", "r", "r", "r", "l"]));
    out.push("  (clear_page cycles summed over the build and ebizzy runs; off-path clears run on idle CPUs)\n");
  }

  out.push("The host profile next to this machine's real programs (clear_page share of each program)");
  for (const m of r.machines) {
    for (const f of m.fidelity) {
      out.push(`  ${m.machine.padEnd(13)} ${f.program.padEnd(7)} emulated ${f.emulatedPercent.toFixed(2)}%  real ${f.real}${m.machine === "host" ? (f.inRange ? "" : "  (outside)") : ""}  faults/s ${Math.round(f.faultsPerSecond).toLocaleString("en-US")}`);
    }
  }
  out.push("");

  out.push("Request sizes (share of malloc and realloc calls): our cc1 and as on the tree's largest file, real ones on this machine");
  const a = r.allocationSizes;
  const arows = [["size", ...a.flatMap((x) => [`${x.program} ours`, `${x.program} real`])]];
  const callShare = (h: SizeClass[], i: number) => `${((100 * h[i].count) / (h.reduce((n, c) => n + c.count, 0) || 1)).toFixed(1)}%`;
  a[0].ours.forEach((c, i) => {
    if (a.some((x) => x.ours[i].count + x.real[i].count > 0)) arows.push([c.label, ...a.flatMap((x) => [callShare(x.ours, i), callShare(x.real, i)])]);
  });
  arows.push(["calls", ...a.flatMap((x) => [x.ours, x.real].map((h) => String(h.reduce((n, c) => n + c.count, 0))))]);
  out.push(table(arows, ["l", ...arows[0].slice(1).map(() => "r" as const)]).replace(/^/gm, "  "));
  out.push(`  (real: ${a.map((x) => x.realTrace).join("; ")})\n`);

  out.push("Sensitivity of the build's gain (change in total CPU cycles, patched vs stock)");
  for (const m of r.machines) {
    const s = m.sensitivity;
    out.push(`  ${m.machine.padEnd(13)} clear_page cost x${s.clearScale.map((c) => `${c.scale}: ${pct(c.changePercent, 2)}`).join(", x")}`);
    out.push(`  ${"".padEnd(13)} cc1 work per page x${s.cc1Scale.map((c) => `${c.scale}: ${pct(c.changePercent, 2)}`).join(", x")}`);
  }
  out.push("");
  out.push(`build outputs identical under every strategy and with the patch: ${r.buildOutputsIdentical ? "yes" : "NO"}`);
  out.push("");
  out.push("/usr/bin/time -v, per run of the 2007 table (simulated)");
  for (const m of r.machines) for (const t of m.table) out.push(timeBlock(t.stock), timeBlock(t.patched));
  out.push(`\nwall time: ${r.wallSeconds.toFixed(1)} s`);
  return out.join("\n") + "\n";
}

/** Fields of a measurement kept for re-pricing and traces, not for the report. */
const HOST_ONLY = new Set(["counters", "byProgram", "segments", "hz"]);

/** The report as plain data: measurements without their counters. */
export function reportJson(r: Report): unknown {
  return JSON.parse(
    JSON.stringify(r, (key, value) => (HOST_ONLY.has(key) ? undefined : value)),
  );
}
