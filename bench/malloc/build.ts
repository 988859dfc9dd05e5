// Bench-time builds for the malloc suite, into bench/native/bin/ (git-ignored):
// the native replayer (gcc -O2 replay.c, every run: it takes a fraction of a
// second) and AssemblyScript's TLSF as wasm (asc, cached by compiler version
// and source hash, since asc takes a few seconds).

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BIN_DIR } from "./trace.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(HERE, "..", "..");

export type Built = { ok: true; path: string; cmd: string; cached: boolean } | { ok: false; reason: string };

/** An installed package's version (from its package.json), or null. */
export function packageVersion(name: string): string | null {
  try {
    return (JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return null;
  }
}

/** gcc -O2 bench/malloc/replay.c -> bench/native/bin/malloc-replay. */
/** bench/malloc/replay.c with gcc -O2; with m32, against the i386 glibc our port follows (needs gcc-multilib). */
export function buildNativeReplay(m32 = false): Built {
  const src = join(HERE, "replay.c");
  const out = join(BIN_DIR, m32 ? "malloc-replay-i386" : "malloc-replay");
  mkdirSync(BIN_DIR, { recursive: true });
  const args = ["-O2", ...(m32 ? ["-m32"] : []), "-o", out, src];
  const cc = spawnSync("gcc", args, { encoding: "utf8" });
  if (cc.error) return { ok: false, reason: `gcc not available (${(cc.error as NodeJS.ErrnoException).code ?? cc.error.message})` };
  if (cc.status !== 0) {
    const why = m32 ? "no i386 glibc to link against (apt-get install gcc-multilib)" : cc.stderr.trim();
    return { ok: false, reason: `gcc ${args.join(" ")} failed: ${why}` };
  }
  return { ok: true, path: out, cmd: `gcc ${args.join(" ")}`, cached: false };
}

/** The TLSF peer: tlsf_entry.as compiled by asc (--runtime minimal -O3 --noAssert), cached. */
export function buildTlsfWasm(): Built {
  const version = packageVersion("assemblyscript");
  if (version === null) return { ok: false, reason: "assemblyscript is not installed (npm install)" };
  const asc = join(ROOT, "node_modules", "assemblyscript", "bin", "asc.js");
  const entry = readFileSync(join(HERE, "tlsf_entry.as"), "utf8");
  const flags = ["--runtime", "minimal", "-O3", "--noAssert"];
  const key = createHash("sha256").update(`${version}\0${flags.join(" ")}\0${entry}`).digest("hex").slice(0, 12);
  const out = join(BIN_DIR, `tlsf-asc${version}-${key}.wasm`);
  const cmd = `asc tlsf_entry.ts ${flags.join(" ")} -o ${out}   (assemblyscript ${version})`;
  if (existsSync(out)) return { ok: true, path: out, cmd, cached: true };
  mkdirSync(BIN_DIR, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), "nozero-tlsf-"));
  try {
    const src = join(dir, "tlsf_entry.ts");
    writeFileSync(src, entry);
    const tmpOut = join(dir, "tlsf.wasm");
    const r = spawnSync(process.execPath, [asc, src, ...flags, "-o", tmpOut], { encoding: "utf8", cwd: dir });
    if (r.error) return { ok: false, reason: `asc failed to start: ${r.error.message}` };
    if (r.status !== 0) return { ok: false, reason: `asc failed: ${(r.stderr || r.stdout).trim()}` };
    // Copy next to the target, then rename: a concurrent reader never sees half a file.
    copyFileSync(tmpOut, `${out}.${process.pid}.tmp`);
    renameSync(`${out}.${process.pid}.tmp`, out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { ok: true, path: out, cmd, cached: false };
}
