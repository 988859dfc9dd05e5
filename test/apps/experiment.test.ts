// The experiment (`nozero compare`): deterministic figures, the report's JSON
// and HTML agree, the invariants hold, and the HTML renders in Chromium.

import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { type Report, runExperiment } from "../../apps/experiment/experiment.ts";
import { reportHtml } from "../../apps/experiment/report_html.ts";
import { formatReport, reportJson } from "../../apps/experiment/report_text.ts";
import { chromeTrace, speedscope } from "../../apps/experiment/trace.ts";

/** The report's JSON with every wall-clock figure removed. */
function withoutWall(x: unknown): unknown {
  return JSON.parse(JSON.stringify(x, (k, v) => (/wall/i.test(k) ? undefined : v)));
}

function at(obj: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], obj);
}

let report: Report;
let json: Record<string, unknown>;

beforeAll(() => {
  report = runExperiment(true);
  json = reportJson(report) as Record<string, unknown>;
}, 120_000);

describe("nozero compare --quick", () => {
  it("is deterministic: a second run gives the same figures (only wall times differ)", () => {
    const again = reportJson(runExperiment(true));
    expect(withoutWall(again)).toEqual(withoutWall(json));
  }, 120_000);

  it("has the documented JSON shape", () => {
    expect(json).toMatchObject({ quick: true, buildOutputsIdentical: true });
    expect(typeof json.wallSeconds).toBe("number");
    // Request sizes: ours from MALLOC_TRACE logs of a compile, real from the recorded traces.
    const sizes = json.allocationSizes as { program: string; ours: { count: number }[]; real: { count: number }[] }[];
    expect(sizes.map((a) => a.program)).toEqual(["cc1", "as"]);
    const calls = (h: { count: number }[]) => h.reduce((n, c) => n + c.count, 0);
    expect(sizes.map((a) => calls(a.real))).toEqual([25872, 840]);
    for (const a of sizes) expect(calls(a.ours)).toBeGreaterThan(10);
    const machines = json.machines as Record<string, unknown>[];
    expect(machines.map((m) => m.machine)).toEqual(["opteron-2007", "host"]);
    for (const m of machines) {
      const table = m.table as Record<string, unknown>[];
      expect(table.map((t) => t.workload)).toEqual(["ebizzy", "mallocbench", "build"]);
      for (const t of table) {
        for (const side of ["stock", "patched"]) {
          const x = t[side] as Record<string, unknown>;
          for (const k of ["value", "unit", "simulatedSeconds", "cycles", "userSeconds", "systemSeconds", "minflt", "maxRssKiB", "clearCritical", "clearIdle", "clearRank", "clearShare", "profile", "wallSeconds", "exitCode"]) {
            expect(x, `${m.machine} ${t.workload} ${side} ${k}`).toHaveProperty(k);
          }
          expect(x.exitCode).toBe(0);
          expect(x).not.toHaveProperty("counters");
        }
        expect(typeof t.changePercent).toBe("number");
        expect(typeof t.inBand).toBe("boolean");
      }
      expect((m.strategies as unknown[]).length).toBe(5);
      expect(m.fidelity).toHaveLength(3);
      expect(m.sensitivity).toHaveProperty("clearScale");
    }
  });

  it("the patch removes most clear_page work and never slows a workload down", () => {
    for (const m of report.machines) {
      for (const t of m.table) {
        expect(t.patched.clearCritical).toBeLessThan(t.stock.clearCritical / 2);
        const better = t.stock.higherIsBetter ? t.patched.value >= t.stock.value : t.patched.value <= t.stock.value;
        expect(better, `${m.machine} ${t.workload}`).toBe(true);
      }
    }
  });

  it("every strategy but uninitialized leaks nothing; uninitialized leaks (the control)", () => {
    for (const m of report.machines) {
      for (const s of m.strategies) {
        if (s.policy === "uninitialized") expect(s.leak.value).toBeGreaterThan(0);
        else expect(s.leak.value, `${m.machine} ${s.policy}`).toBe(0);
        expect(s.build.checksumOk, `${m.machine} ${s.policy}`).toBe(true);
      }
    }
    expect(report.buildOutputsIdentical).toBe(true);
  });

  it("prezero clears off the critical path, and only prezero does", () => {
    for (const m of report.machines) {
      for (const s of m.strategies) {
        const idle = s.build.clearIdle + s.ebizzy.clearIdle;
        if (s.policy === "prezero") expect(idle).toBeGreaterThan(0);
        else expect(idle).toBe(0);
      }
    }
  });

  it("the text report shows the table beside the 2007 figures", () => {
    const text = formatReport(report);
    expect(text).toContain("The 2007 table");
    expect(text).toContain("+10% to +15%");
    expect(text).toContain("-2.5% to -3%");
    expect(text).toMatch(/Command being timed: "ebizzy -m/);
  });

  it("the HTML page's numbers equal the JSON, and it embeds the JSON", () => {
    const html = reportHtml(report);
    const cells = [...html.matchAll(/data-key="([^"]+)" data-value="([^"]+)"/g)];
    expect(cells.length).toBeGreaterThan(40);
    for (const [, key, value] of cells) expect(Number(value), key).toBe(at(json, key));
    const embedded = /<script type="application\/json" id="nozero-data">([\s\S]*?)<\/script>/.exec(html)![1];
    expect(JSON.parse(embedded)).toEqual(json);
  });

  it("trace files open in standard viewers' formats", () => {
    const t = report.machines[1].table[2].stock;
    const chrome = JSON.parse(chromeTrace(t));
    expect(chrome.traceEvents.some((e: { ph: string; name: string }) => e.ph === "X" && e.name.startsWith("cc1"))).toBe(true);
    const ss = JSON.parse(speedscope(t));
    expect(ss.$schema).toBe("https://www.speedscope.app/file-format-schema.json");
    expect(ss.profiles[0].samples.length).toBe(ss.profiles[0].weights.length);
  });
});

const CHROMIUM = "/usr/bin/chromium";

describe("the HTML report in headless Chromium", () => {
  it.skipIf(!existsSync(CHROMIUM))("renders the tables and charts, with the numbers from the JSON", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nozero-html-"));
    const file = join(dir, "report.html");
    writeFileSync(file, reportHtml(report));
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      await page.goto(`file://${file}`);
      const cell = await page.locator('[data-key="machines.1.table.0.changePercent"]').innerText();
      expect(cell).toBe(`${report.machines[1].table[0].changePercent >= 0 ? "+" : ""}${report.machines[1].table[0].changePercent.toFixed(1)}%`);
      expect(await page.locator("svg.chart").count()).toBeGreaterThanOrEqual(8);
      const box = await page.locator("#table2007").boundingBox();
      expect(box!.width).toBeGreaterThan(300);
      mkdirSync("out", { recursive: true });
      await page.screenshot({ path: "out/report.png", fullPage: true });
    } finally {
      await browser.close();
    }
  }, 60_000);
});
