// /bin/make: a small GNU make.
//
//   make [-f FILE] [-j N] [-C DIR] [-k] [-s] [-i] [-n] [-r] [-B] [VAR=value...] [target...]
//
// Variables (= := ::= ?= += , override, export; the environment imported;
// command-line assignments win over the makefile), $(VAR) ${VAR} $X, the
// automatic variables, substitution references and the common text
// functions; explicit and pattern rules (%.o: %.c), built-in rules for .c
// and .s, .PHONY, order-only prerequisites; timestamps from stat(2) (the
// kernel's simulated time, to the nanosecond); each recipe line run by
// `/bin/sh -c` in a child, echoed first; -j N jobs at once. Messages and
// exit codes follow GNU make 4: `make: *** [Makefile:LINE: target] Error N`
// and exit 2, `make: *** No rule to make target 'x', needed by 'y'.  Stop.`
//
// The makefile, variables, the dependency graph and the recipes live in
// malloc'd memory in this process (state.ts), as in a real make.

import type { Libc } from "../../../libc/libc.ts";
import { defineFromString, readMakefile } from "./read.ts";
import { updateGoals } from "./remake.ts";
import { FF_GOAL, Make, MakeFatal, type MakeOptions, O_CMDLINE, O_DEFAULT, O_ENV } from "./state.ts";
import { UVec, udupStr } from "./ustr.ts";

/** make's own variables and rules (GNU make's default.c, the parts that matter here). */
const DEFAULT_VARIABLES: [string, string][] = [
  ["SHELL", "/bin/sh"],
  ["CC", "cc"],
  ["AS", "as"],
  ["LD", "ld"],
  ["AR", "ar"],
  ["RM", "rm -f"],
  ["CPP", "$(CC) -E"],
  ["OUTPUT_OPTION", "-o $@"],
  ["COMPILE.c", "$(CC) $(CFLAGS) $(CPPFLAGS) $(TARGET_ARCH) -c"],
  ["COMPILE.s", "$(AS) $(ASFLAGS) $(TARGET_MACH)"],
  ["LINK.o", "$(CC) $(LDFLAGS) $(TARGET_ARCH)"],
  ["LINK.c", "$(CC) $(CFLAGS) $(CPPFLAGS) $(LDFLAGS) $(TARGET_ARCH)"],
];

const DEFAULT_RULES = `%.o: %.c
\t$(COMPILE.c) $(OUTPUT_OPTION) $<
%.o: %.s
\t$(COMPILE.s) -o $@ $<
`;

const USAGE = `Usage: make [options] [target] ...
Options:
  -B                Unconditionally make all targets.
  -C DIRECTORY      Change to DIRECTORY before doing anything.
  -f FILE           Read FILE as a makefile.
  -i                Ignore errors from recipes.
  -j [N]            Allow N jobs at once; infinite jobs with no arg.
  -k                Keep going when some targets can't be made.
  -n                Don't actually run any recipe; just print them.
  -r                Disable the built-in implicit rules.
  -s                Don't echo recipes.
`;

export default function make(argv: string[], envp: string[], libc: Libc): number {
  const prog0 = argv[0] ?? "make";
  let prog = "make";
  const level = Number(envp.find((e) => e.startsWith("MAKELEVEL="))?.slice(10) ?? "0") || 0;
  if (level > 0) prog = `make[${level}]`;
  const opts: MakeOptions = { jobs: 1, keepGoing: false, silent: false, ignoreErrors: false, dryRun: false, noBuiltinRules: false, alwaysMake: false };
  const makefiles: string[] = [];
  const dirs: string[] = [];
  const assigns: string[] = [];
  const goals: string[] = [];
  const bad = (msg: string): number => {
    libc.eprintf("%s: %s\n%s", prog, msg, USAGE);
    return 2;
  };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    const takeArg = (rest: string): string | null => {
      if (rest !== "") return rest;
      if (i + 1 < argv.length) return argv[++i];
      return null;
    };
    if (a.startsWith("--")) {
      const [name, val] = a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
      const need = (): string | null => val ?? (i + 1 < argv.length ? argv[++i] : null);
      switch (name) {
        case "--file":
        case "--makefile": {
          const v = need();
          if (v === null) return bad(`option '${name}' requires an argument`);
          makefiles.push(v);
          break;
        }
        case "--directory": {
          const v = need();
          if (v === null) return bad(`option '${name}' requires an argument`);
          dirs.push(v);
          break;
        }
        case "--jobs":
          opts.jobs = val !== undefined ? Number(val) : 64;
          if (!(opts.jobs >= 1)) return bad(`the '-j' option requires a positive integer argument`);
          break;
        case "--keep-going":
          opts.keepGoing = true;
          break;
        case "--silent":
        case "--quiet":
          opts.silent = true;
          break;
        case "--ignore-errors":
          opts.ignoreErrors = true;
          break;
        case "--just-print":
        case "--dry-run":
        case "--recon":
          opts.dryRun = true;
          break;
        case "--no-builtin-rules":
          opts.noBuiltinRules = true;
          break;
        case "--always-make":
          opts.alwaysMake = true;
          break;
        case "--no-print-directory":
        case "--print-directory":
          break;
        case "--help":
          libc.printf("%s", USAGE);
          return 0;
        case "--version":
          libc.printf("GNU Make 4.3 (nozero toy make)\n");
          return 0;
        default:
          return bad(`unrecognized option '${a}'`);
      }
      continue;
    }
    if (a.startsWith("-") && a.length > 1) {
      for (let k = 1; k < a.length; k++) {
        const c = a[k];
        const rest = a.slice(k + 1);
        if (c === "f" || c === "C") {
          const v = takeArg(rest);
          if (v === null) return bad(`option requires an argument -- '${c}'`);
          (c === "f" ? makefiles : dirs).push(v);
          break;
        }
        if (c === "j") {
          if (rest !== "") {
            if (!/^[0-9]+$/.test(rest) || Number(rest) < 1) return bad(`the '-j' option requires a positive integer argument`);
            opts.jobs = Number(rest);
          } else if (i + 1 < argv.length && /^[0-9]+$/.test(argv[i + 1])) {
            opts.jobs = Number(argv[++i]);
            if (opts.jobs < 1) return bad(`the '-j' option requires a positive integer argument`);
          } else opts.jobs = 64;
          break;
        }
        if (c === "k") opts.keepGoing = true;
        else if (c === "s") opts.silent = true;
        else if (c === "i") opts.ignoreErrors = true;
        else if (c === "n") opts.dryRun = true;
        else if (c === "r") opts.noBuiltinRules = true;
        else if (c === "B") opts.alwaysMake = true;
        else if (c === "w") continue;
        else if (c === "h") {
          libc.printf("%s", USAGE);
          return 0;
        } else return bad(`invalid option -- '${c}'`);
      }
      continue;
    }
    if (/^[A-Za-z_.][A-Za-z0-9_.-]*:{0,2}=/.test(a)) assigns.push(a);
    else goals.push(a);
  }

  const mk = new Make(libc, opts);
  mk.prog = prog;
  mk.makelevel = level;
  let entered = "";
  try {
    for (const d of dirs) {
      if (libc.chdir(d) < 0) throw new MakeFatal(`*** ${d}: No such file or directory.  Stop.`);
    }
    if (dirs.length > 0) {
      entered = libc.getcwd() ?? dirs[dirs.length - 1];
      mk.message(`Entering directory '${entered}'`);
    }
    const status = run(mk, prog0, makefiles, assigns, goals, envp);
    if (entered) mk.message(`Leaving directory '${entered}'`);
    return status;
  } catch (e) {
    if (!(e instanceof MakeFatal)) throw e;
    mk.error(e.message);
    if (entered) mk.message(`Leaving directory '${entered}'`);
    return 2;
  }
}

function run(mk: Make, prog0: string, makefiles: string[], assigns: string[], goalNames: string[], envp: string[]): number {
  const libc = mk.libc;
  // Variables: make's defaults, then the environment, then the command line.
  for (const [name, value] of DEFAULT_VARIABLES) defineFromString(mk, `${name}=${value}`, O_DEFAULT);
  defineFromString(mk, `MAKE=${prog0}`, O_DEFAULT);
  defineFromString(mk, `CURDIR:=${libc.getcwd() ?? "/"}`, O_DEFAULT);
  defineFromString(mk, `MAKELEVEL:=${mk.makelevel}`, O_DEFAULT);
  for (const e of envp) {
    if (e.startsWith("SHELL=") || e.startsWith("MAKELEVEL=") || e.startsWith("MAKEFLAGS=") || e.startsWith("MFLAGS=")) continue;
    defineFromString(mk, e, O_ENV);
  }
  for (const a of assigns) defineFromString(mk, a, O_CMDLINE);

  // The makefile.
  if (makefiles.length === 0) {
    for (const name of ["GNUmakefile", "makefile", "Makefile"]) {
      if (libc.stat(name) !== null) {
        makefiles.push(name);
        break;
      }
    }
    if (makefiles.length === 0 && goalNames.length === 0) throw new MakeFatal("*** No targets specified and no makefile found.  Stop.");
  }
  for (const f of makefiles) {
    mk.makefileName = f;
    if (!readMakefile(mk, f)) {
      mk.error(`${f}: No such file or directory`);
      throw new MakeFatal(`*** No rule to make target '${f}'.  Stop.`);
    }
  }
  if (!mk.opts.noBuiltinRules) readMakefile(mk, "<builtin>", true, DEFAULT_RULES);

  // The goals.
  const goals = new UVec(libc, 8);
  for (const g of goalNames) {
    const p = udupStr(libc, g);
    const f = mk.enterFile(p, g.length);
    libc.free(p);
    mk.setFlags(f, FF_GOAL);
    goals.push(f);
  }
  if (goals.len === 0) {
    if (mk.defaultGoal === 0) throw new MakeFatal("*** No targets.  Stop.");
    goals.push(mk.defaultGoal);
  }
  const status = updateGoals(mk, goals);
  goals.free();
  return status;
}
