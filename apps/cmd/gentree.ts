// nozero gen-tree: write a generated kernel-like source tree to a host
// directory (to inspect it, or build it with a real compiler: `make CC=gcc`).

import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { generateTree } from "../gentree/gentree.ts";
import { type FlagSpec, UsageError, parseFlags } from "./flags.ts";

export const GENTREE_USAGE = `usage: nozero gen-tree [--files N] [--seed S] [--header-lines N] [--json] DIR
  Write a deterministic kernel-like C tree (N .c files, default 60; seed
  default 1) with its Makefile into the host directory DIR, and print the
  checksum its program prints. --header-lines: about how long each file is
  once its headers are included (default 10000).
`;

const SPEC: FlagSpec = {
  files: { kind: "int" },
  seed: { kind: "int" },
  "header-lines": { kind: "int" },
  json: { kind: "bool" },
};

export async function cmdGenTree(args: string[]): Promise<number> {
  const { flags, rest } = parseFlags(args, SPEC, false);
  if (rest.length !== 1) throw new UsageError(rest.length === 0 ? "missing DIR" : "one DIR only");
  const files = (flags.files as number | undefined) ?? 60;
  if (files < 3) throw new UsageError("--files must be at least 3 (init/main.c and lib/print.c are two of them)");
  const seed = (flags.seed as number | undefined) ?? 1;
  const tree = generateTree({ files, seed, headerLines: flags["header-lines"] as number | undefined });
  const dir = rest[0];
  let bytes = 0;
  for (const f of tree.files) {
    const p = join(dir, f.path);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, f.text);
    bytes += f.text.length;
  }
  const cfiles = tree.files.filter((f) => f.path.endsWith(".c")).length;
  if (flags.json) {
    process.stdout.write(JSON.stringify({ dir, files: tree.files.length, cFiles: cfiles, bytes, objects: tree.objects.length, expectedChecksum: tree.expectedChecksum, expectedOutput: tree.expectedOutput }, null, 2) + "\n");
  } else {
    process.stdout.write(`${dir}: ${tree.files.length} files (${cfiles} .c, ${bytes} bytes); \`make\` builds ./${tree.program}, which prints ${tree.expectedChecksum}\n`);
  }
  return 0;
}
