// The nozero command line, run as a user would run it (a child process).

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const tsx = resolve(root, "node_modules/.bin/tsx");

/** Run `nozero ARGS` with extra environment; exit code, stdout, stderr. */
function nozero(args: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(tsx, [resolve(root, "apps/cli.ts"), ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: "latin1",
    stdio: ["ignore", "pipe", "pipe"],
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const SCENE = "su alice -c 'memhog -p 256'; su bob -c 'smiffy -s 256 -n 4'";

describe("nozero run", () => {
  it("alice's memory never reaches bob under nozero (exit 0) and does under uninitialized (exit 1)", () => {
    const ok = nozero(["run", "--policy", "nozero", "--", "sh", "-c", SCENE]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe("");
    const leak = nozero(["run", "--policy", "uninitialized", "--", "sh", "-c", SCENE]);
    expect(leak.code).toBe(1);
    expect(leak.stdout).toMatch(/^mapping had \d+ non-zero pages$/m);
  });

  it("the host environment reaches the program through user memory", () => {
    const r = nozero(["run", "--", "env"], { FOO: "bar" });
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")).toContain("FOO=bar");
  });

  it("a bad flag prints usage and exits 2; an unknown program is 127", () => {
    const bad = nozero(["run", "--bogus", "env"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("usage: nozero run");
    const missing = nozero(["run", "nosuchprog"]);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toContain("nozero: nosuchprog: command not found");
    expect(nozero(["frobnicate"]).code).toBe(2);
  });

  it("--json prints one object with the documented fields", () => {
    const r = nozero(["run", "--json", "--profile", "--user", "bob", "--", "smiffy", "-s", "16"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    for (const key of ["exitCode", "signal", "stdout", "stderr", "cycles", "simulatedSeconds", "minflt", "profile"]) expect(j).toHaveProperty(key);
    expect(j.exitCode).toBe(0);
    expect(j.minflt).toBeGreaterThanOrEqual(16);
    expect(j.profile[0]).toHaveProperty("symbol");
  });

  it("runs the user's own TypeScript program and exits with its status", () => {
    const r = nozero(["run", "test/apps/fixtures/hello.ts", "3", "x"], { GREETING: "hi" });
    expect(r.code).toBe(3);
    expect(r.stdout).toBe("hello from test/apps/fixtures/hello.ts\nargs=3,x GREETING=hi\n");
  });

  it("crashes end with 128+signal and the shell's message; the next command still runs", () => {
    const segv = nozero(["run", "test/apps/fixtures/crash.ts", "segv"]);
    expect(segv.code).toBe(139);
    expect(segv.stderr).toContain("Segmentation fault");
    const abort = nozero(["run", "test/apps/fixtures/crash.ts", "abort"]);
    expect(abort.code).toBe(134);
    expect(abort.stderr).toContain("Aborted");
    const oom = nozero(["run", "--mem", "16", "test/apps/fixtures/crash.ts", "oom"]);
    expect(oom.code).toBe(137);
    expect(oom.stderr).toContain("Killed");
  });

  it("MALLOC_NOZERO=1 makes malloc use brk2(BRK_NOZERO) and MAP_NOZERO; without it, plain brk and mmap", () => {
    const on = nozero(["run", "--strace", "--", "nzmalloc-test"], { MALLOC_NOZERO: "1" });
    expect(on.code).toBe(0);
    expect(on.stderr).toMatch(/brk2\(0x[0-9a-f]+, BRK_NOZERO\) = 0x/);
    expect(on.stderr).toMatch(/mmap2\(NULL, \d+, PROT_READ\|PROT_WRITE, MAP_PRIVATE\|MAP_ANONYMOUS\|MAP_NOZERO, -1, 0\)/);
    expect(on.stdout).toContain("no-zero mode");
    const off = nozero(["run", "--strace", "--", "nzmalloc-test"], { MALLOC_NOZERO: "" });
    expect(off.code).toBe(0);
    expect(off.stderr).not.toMatch(/brk2|MAP_NOZERO/);
    expect(off.stderr).toMatch(/brk\(0x[0-9a-f]+\) = 0x/);
    expect(off.stdout).toContain("stock mode");
  });

  it("runs host files: an NZX executable that `nozero build --out` left, and a #! script", () => {
    const dir = mkdtempSync(join(tmpdir(), "nozero-out-"));
    const b = nozero(["build", "--files", "3", "--header-lines", "200", "--out", dir, "--json"]);
    expect(b.code).toBe(0);
    const expected = (JSON.parse(b.stdout) as { programOutput: string }).programOutput;
    expect(readFileSync(join(dir, "prog")).subarray(0, 4).toString("latin1")).toBe("\x7fNZX");
    expect(existsSync(join(dir, "init/main.o"))).toBe(true);
    const r = nozero(["run", join(dir, "prog")]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(expected);
    writeFileSync(join(dir, "s.sh"), "#!/bin/sh\necho hi from $0\nexit 4\n");
    const s = nozero(["run", join(dir, "s.sh")]);
    expect(s.code).toBe(4);
    expect(s.stdout).toBe(`hi from ${join(dir, "s.sh")}\n`);
  });

  it("lends host files named in the arguments read-only (a gzip trace for mtrace-replay), never shadowing the machine's own", () => {
    const r = nozero(["run", "--user", "alice", "--", "mtrace-replay", "-l", "traces/ls-l.trace.gz"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`replayed 778 operations (425 malloc, 0 calloc, 0 memalign, 1 realloc, 355 free) from 783 lines of ${resolve(root, "traces/ls-l.trace.gz")}`);
    const w = nozero(["run", "--", "sh", "-c", `echo x >> ${resolve(root, "traces/README.md")}`, "traces/README.md"]);
    expect(w.stderr).toContain("Read-only file system");
    expect(nozero(["run", "--", "cat", "/etc/passwd"]).stdout).toMatch(/^root:x:0:0:root:\/root:\/bin\/sh\nalice:x:1000:/);
  });
});
