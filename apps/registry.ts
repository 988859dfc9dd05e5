// The programs every machine has, by name. Each is an ordinary module whose
// default export is a main(argv, envp, libc).

import type { Main } from "../libc/libc.ts";
import ebizzy from "./bin/ebizzy.ts";
import init from "./bin/init.ts";
import cat from "./bin/cat.ts";
import echo from "./bin/echo.ts";
import env from "./bin/env.ts";
import falseMain from "./bin/false.ts";
import id from "./bin/id.ts";
import kill from "./bin/kill.ts";
import ls from "./bin/ls.ts";
import rm from "./bin/rm.ts";
import sh from "./bin/sh.ts";
import sleep from "./bin/sleep.ts";
import su from "./bin/su.ts";
import trueMain from "./bin/true.ts";
import mallocbench from "./bin/mallocbench.ts";
import memhog from "./bin/memhog.ts";
import mtraceReplay from "./bin/mtrace-replay.ts";
import nzmallocTest from "./bin/nzmalloc-test.ts";
import smiffy from "./bin/smiffy.ts";
import as from "./toolchain/as/as.ts";
import ld from "./toolchain/ld/ld.ts";
import nzx from "./toolchain/nzx/nzx.ts";
import make from "./toolchain/make/make.ts";
import cc from "./toolchain/cc/cc.ts";
import cc1 from "./toolchain/cc1/main.ts";

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
  ebizzy: { main: ebizzy },
  mallocbench: { main: mallocbench },
  memhog: { main: memhog },
  "mtrace-replay": { main: mtraceReplay },
  "nzmalloc-test": { main: nzmallocTest },
  smiffy: { main: smiffy },
  sh: { main: sh },
  su: { main: su },
  cat: { main: cat },
  env: { main: env },
  echo: { main: echo },
  true: { main: trueMain },
  false: { main: falseMain },
  id: { main: id },
  ls: { main: ls },
  rm: { main: rm },
  sleep: { main: sleep },
  kill: { main: kill },
  as: { main: as },
  ld: { main: ld },
  nzx: { main: nzx },
  make: { main: make },
  cc: { main: cc },
  cc1: { main: cc1 },
};
