// PATH lookup, as execvp and shells do it.

import type { Libc } from "../../libc/libc.ts";

const DEFAULT_PATH = "/bin:/usr/bin";

/** The path of an executable for `name`: itself if it contains a slash, else the first PATH hit. */
export function findCommand(libc: Libc, name: string, envp: readonly string[]): string | null {
  if (name.includes("/")) return libc.stat(name) === null ? null : name;
  const pathVar = envp.find((e) => e.startsWith("PATH="))?.slice(5) ?? DEFAULT_PATH;
  for (const dir of pathVar.split(":")) {
    const p = `${dir || "."}/${name}`;
    const st = libc.stat(p);
    if (st !== null && (st.mode & 0o170000) === 0o100000) return p;
  }
  return null;
}
