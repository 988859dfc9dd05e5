// The programs every machine has, by name. Each is an ordinary module whose
// default export is a main(argv, envp, libc).

import type { Main } from "../libc/libc.ts";
import init from "./bin/init.ts";
import memhog from "./bin/memhog.ts";
import smiffy from "./bin/smiffy.ts";

export interface ProgramSpec {
  main: Main;
  /** Install path (default /bin/NAME). */
  path?: string;
  /** File mode bits (default 0755) and owner (default root); setuid adds S_ISUID. */
  mode?: number;
  owner?: number;
  setuid?: boolean;
  textBytes?: number;
  dataBytes?: number;
}

export const PROGRAMS: Record<string, ProgramSpec> = {
  init: { main: init, path: "/sbin/init" },
  memhog: { main: memhog },
  smiffy: { main: smiffy },
};
