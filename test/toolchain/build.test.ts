// The build side of the toolchain: make (parsing, expansion, rules,
// timestamps, -j), the cc driver's process structure, the tree generator,
// and the kernel-build invariant (same objects, executable and output in
// every zeroing mode; -j 2 faster than -j 1 in simulated time).

import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { runBuild } from "../../apps/cmd/build.ts";
import { generateTree } from "../../apps/gentree/gentree.ts";
import { Machine, type RunResult } from "../../apps/machine.ts";
import { PROGRAMS } from "../../apps/registry.ts";
import { credFor } from "../../kernel/task.ts";
import { type Libc, type Main, O_APPEND, O_CREAT, O_TRUNC, O_WRONLY } from "../../libc/libc.ts";

const ALICE = 1000;
const DIR = "/home/alice/w";
const ENV = ["PATH=/bin", "HOME=/home/alice"];

/** write PATH TEXT...: (re)write a file (a recipe's way to make a target). */
const writeProg: Main = (argv, _envp, libc) => {
  const fd = libc.open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0o644);
  if (fd < 0) return 1;
  libc.writeString(fd, argv.slice(2).join(" ") + "\n");
  libc.close(fd);
  return 0;
};

/** spin NAME UNITS: burn simulated CPU, and append "NAME START END" (seconds) to /home/alice/w/spins. */
const spinProg: Main = (argv, _envp, libc) => {
  const start = libc.clockGettime(1);
  libc.work(Number(argv[2] ?? "1000000"));
  const end = libc.clockGettime(1);
  const fd = libc.open(`${DIR}/spins`, O_WRONLY | O_CREAT | O_APPEND, 0o644);
  libc.writeString(fd, `${argv[1]} ${start} ${end}\n`);
  libc.close(fd);
  return 0;
};

/** failing: exit with the status given. */
const failProg: Main = (argv) => Number(argv[1] ?? "1");

function machine(files: Record<string, string> = {}): Machine {
  const m = new Machine({ memMiB: 64 });
  m.install("write", writeProg);
  m.install("spin", spinProg);
  m.install("failing", failProg);
  m.k.vfs.mkdirs(DIR, 0o755, ALICE, ALICE);
  for (const [p, text] of Object.entries(files)) put(m, p, text);
  return m;
}

function put(m: Machine, path: string, text: string): void {
  const full = `${DIR}/${path}`;
  m.k.vfs.mkdirs(dirname(full), 0o755, ALICE, ALICE);
  m.k.vfs.writeFile(full, text, 0o644, ALICE, ALICE);
}

function read(m: Machine, path: string): string | null {
  const b = m.readFile(path.startsWith("/") ? path : `${DIR}/${path}`);
  return b === null ? null : new TextDecoder().decode(b);
}

function make(m: Machine, ...args: string[]): RunResult {
  return m.run(["sh", "-c", `cd ${DIR} && make ${args.join(" ")}`], { uid: ALICE, env: ENV });
}

/** make with a one-off Makefile; stdout lines without make's directory messages. */
function mk(makefile: string, args = "", files: Record<string, string> = {}): RunResult & { m: Machine } {
  const m = machine({ Makefile: makefile, ...files });
  return { ...make(m, args), m };
}

// ---- make: reading the makefile, variables, functions ------------------------------------------------

describe("make: variables and expansion", () => {
  it("expands recursive variables late and simple ones at once", () => {
    const r = mk("A = $(B) x\nB = one\nC := $(B) y\nB = two\nall:\n\t@echo \"$(A)|$(C)|${B}|$$HOME\"\n");
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("two x|one y|two|/home/alice\n");
    expect(r.exitCode).toBe(0);
  });

  it("?= only when undefined, += appends (expanding for := variables)", () => {
    const r = mk("A ?= first\nA ?= second\nB := b\nB += $(A)\nA += more\nC = c\nC += $(D)\nD = d\nall:\n\t@echo $(A)/$(B)/$(C)\n");
    expect(r.stdout).toBe("first more/b first/c d\n");
  });

  it("substitution references and text functions", () => {
    const r = mk(
      [
        "OBJS = kernel/a.o mm/b.o lib/c.o",
        "all:",
        "\t@echo $(OBJS:.o=.c)",
        "\t@echo $(OBJS:%.o=%.s)",
        "\t@echo $(patsubst %.o,%.d,$(OBJS))",
        "\t@echo $(subst /,:,$(OBJS))",
        "\t@echo $(words $(OBJS)) $(word 2,$(OBJS)) $(firstword $(OBJS)) $(lastword $(OBJS))",
        "\t@echo $(notdir $(OBJS)) $(dir $(OBJS))",
        "\t@echo $(basename $(OBJS)) $(suffix $(OBJS))",
        "\t@echo $(addprefix out/,a b) $(addsuffix .h,a b)",
        "\t@echo $(sort c a b a) $(filter %.o,a.o b.c c.o) $(filter-out %.o,a.o b.c c.o)",
        "\t@echo [$(strip   a   b  )] $(findstring ker,$(OBJS)) $(if $(OBJS),yes,no) $(if ,yes,no)",
        "\t@echo '$(foreach d,x y,<$(d)>)'",
        "",
      ].join("\n"),
    );
    expect(r.stderr).toBe("");
    expect(r.stdout.split("\n")).toEqual([
      "kernel/a.c mm/b.c lib/c.c",
      "kernel/a.s mm/b.s lib/c.s",
      "kernel/a.d mm/b.d lib/c.d",
      "kernel:a.o mm:b.o lib:c.o",
      "3 mm/b.o kernel/a.o lib/c.o",
      "a.o b.o c.o kernel/ mm/ lib/",
      "kernel/a mm/b lib/c .o .o .o",
      "out/a out/b a.h b.h",
      "a b c a.o c.o b.c",
      "[a b] ker yes no",
      "<x> <y>",
      "",
    ]);
  });

  it("$(wildcard) lists existing files, sorted", () => {
    const r = mk("all:\n\t@echo $(wildcard src/*.c) $(wildcard nothing*)\n", "", { "src/b.c": "", "src/a.c": "", "src/x.h": "" });
    expect(r.stdout).toBe("src/a.c src/b.c\n");
  });

  it("comments, escaped #, and backslash continuations", () => {
    const r = mk("# a comment\nA = one \\\n      two \\\n   three # trailing\nH = a\\#b\nall: ; @echo [$(A)] $(H)\n");
    expect(r.stdout).toBe("[one two three ] a#b\n");
  });

  it("command-line variables override the makefile; the makefile overrides the environment", () => {
    const m = machine({ Makefile: "A = file\nHOME = makefile-home\nall:\n\t@echo $(A) $(HOME) $(PATH)\n\t@sh -c 'echo $$HOME'\n" });
    const r = make(m, "A=cmdline");
    expect(r.stdout).toBe("cmdline makefile-home /bin\nmakefile-home\n");
    const o = make(m, "'A=x y'", "-f", "Makefile");
    expect(o.stdout.split("\n")[0]).toBe("x y makefile-home /bin");
  });

  it("override and export", () => {
    const m = machine({ Makefile: "override A = mine\nexport B = exported\nall:\n\t@echo $(A)\n\t@sh -c 'echo $$B'\n" });
    expect(make(m, "A=cmd").stdout).toBe("mine\nexported\n");
  });

  it("conditionals", () => {
    const r = mk(
      [
        "X = yes",
        "ifeq ($(X),yes)",
        "A = eq",
        "else",
        "A = ne",
        "endif",
        "ifneq '$(X)' 'no'",
        "B = ne",
        "endif",
        "ifdef X",
        "ifndef UNDEFINED",
        "C = nested",
        "else",
        "C = wrong",
        "endif",
        "else ifeq (1,1)",
        "C = wrong2",
        "endif",
        "ifdef UNDEFINED",
        "D = wrong",
        "else ifeq (a,a)",
        "D = elseif",
        "else",
        "D = wrong",
        "endif",
        "all:",
        "\t@echo $(A) $(B) $(C) $(D)",
        "",
      ].join("\n"),
    );
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("eq ne nested elseif\n");
  });

  it("include reads another makefile; -include and sinclude skip a missing one", () => {
    const r = mk("include defs.mk\n-include nosuch.mk\nsinclude nosuch2.mk\nall:\n\t@echo $(FROM_DEFS)\n", "", { "defs.mk": "FROM_DEFS = included\n" });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("included\n");
    const bad = mk("include nosuch.mk\nall:\n");
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("nosuch.mk: No such file or directory");
  });

  it("recursive self-reference and syntax errors stop make with exit 2", () => {
    const a = mk("A = $(A) x\nall:\n\t@echo $(A)\n");
    expect(a.exitCode).toBe(2);
    expect(a.stderr).toContain("make: *** Recursive variable 'A' references itself (eventually).  Stop.");
    const b = mk("all:\n\techo x\nthis is not a rule\n");
    expect(b.exitCode).toBe(2);
    expect(b.stderr).toBe("make: Makefile:3: *** missing separator.  Stop.\n");
    const c = mk("ifdef X\nall:\n");
    expect(c.stderr).toContain("missing 'endif'");
  });
});

// ---- make: rules, recipes, timestamps --------------------------------------------------------------

describe("make: rules and recipes", () => {
  it("runs each recipe line through sh -c, echoing it first (not with @ or -s)", () => {
    const r = mk("all:\n\techo one; echo two\n\t@echo three\n");
    expect(r.stdout).toBe("echo one; echo two\none\ntwo\nthree\n");
    expect(mk("all:\n\techo one\n", "-s").stdout).toBe("one\n");
    expect(mk("all:\n\techo one\n\t@echo two\n", "-n").stdout).toBe("echo one\necho two\n");
  });

  it("automatic variables and pattern rules with directories", () => {
    const r = mk(
      "prog: kernel/a.o lib/b.o\n\t@echo link $@ from $^ first $< newer $?\n%.o: %.c\n\t@echo cc $< '->' $@ stem $* dir $(@D) file $(@F)\n\t@write $@ obj\n",
      "",
      { "kernel/a.c": "a", "lib/b.c": "b" },
    );
    expect(r.stderr).toBe("");
    expect(r.stdout.split("\n")).toEqual([
      "cc kernel/a.c -> kernel/a.o stem kernel/a dir kernel file a.o",
      "cc lib/b.c -> lib/b.o stem lib/b dir lib file b.o",
      "link prog from kernel/a.o lib/b.o first kernel/a.o newer kernel/a.o lib/b.o",
      "",
    ]);
  });

  it("an explicit prerequisite line adds to a pattern rule; $< is the pattern's", () => {
    const r = mk("a.o: a.h\n%.o: %.c\n\t@echo $< / $^\n", "a.o", { "a.c": "", "a.h": "" });
    expect(r.stdout).toBe("a.c / a.c a.h\n");
  });

  it("the built-in %.o: %.c rule, unless -r", () => {
    const m = machine({ Makefile: "CC = echo CC\nCFLAGS = -O1\n", "x.c": "" });
    expect(make(m, "x.o").stdout).toBe("echo CC -O1   -c -o x.o x.c\nCC -O1 -c -o x.o x.c\n");
    const r = make(m, "-r", "x.o");
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe("make: *** No rule to make target 'x.o'.  Stop.\n");
  });

  it("timestamps: up to date after a build; a newer source rebuilds only its object", () => {
    const m = machine({
      Makefile: "prog: a.o b.o\n\t@write $@ linked $^\n\t@echo linked\n%.o: %.c\n\t@write $@ compiled $<\n\t@echo compiled $<\n",
      "a.c": "a",
      "b.c": "b",
    });
    expect(make(m).stdout).toBe("compiled a.c\ncompiled b.c\nlinked\n");
    expect(make(m).stdout).toBe("make: 'prog' is up to date.\n");
    // Rewrite b.c from inside the machine: its mtime is later than b.o's.
    m.run(["write", `${DIR}/b.c`, "b2"], { uid: ALICE, env: ENV });
    expect(make(m).stdout).toBe("compiled b.c\nlinked\n");
    expect(make(m, "-B").stdout).toBe("compiled a.c\ncompiled b.c\nlinked\n");
  });

  it("file times advance with the simulated clock, to the nanosecond", () => {
    const m = machine({ Makefile: "x:\n\t@write x 1\ny: x\n\t@write y 2\n" });
    make(m, "y");
    const st = (p: string) => {
      const ino = m.k.vfs.lookup(`${DIR}/${p}`, "/", credFor(0));
      if (typeof ino === "number") throw new Error(p);
      return ino.mtime * 1e9 + ino.mtimeNsec;
    };
    expect(st("y")).toBeGreaterThan(st("x"));
    expect(st("x")).toBeGreaterThan(1182988800 * 1e9);
  });

  it(".PHONY targets always run; Nothing to be done for a target without a recipe", () => {
    const m = machine({ Makefile: "all: f\nf:\n\t@write f x\nclean:\n\t@echo cleaning\n.PHONY: all clean\n" });
    expect(make(m).stdout).toBe("");
    expect(make(m).stdout).toBe("make: Nothing to be done for 'all'.\n");
    expect(make(m, "clean").stdout).toBe("cleaning\n");
    expect(make(m, "clean").stdout).toBe("cleaning\n");
  });

  it("order-only prerequisites are made first but do not force a rebuild", () => {
    const m = machine({ Makefile: "t: s | dir\n\t@write t x\n\t@echo made t\ndir:\n\t@echo made dir\n\t@write dir d\n", s: "" });
    expect(make(m).stdout).toBe("made dir\nmade t\n");
    m.run(["write", `${DIR}/dir`, "newer"], { uid: ALICE, env: ENV });
    expect(make(m).stdout).toBe("make: 't' is up to date.\n");
  });

  it("a failing command: make: *** [Makefile:LINE: target] Error N, exit 2", () => {
    const r = mk("all: t\n\t@echo never\nt:\n\t@echo before\n\tfailing 3\n\techo after\n");
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe("before\nfailing 3\n");
    expect(r.stderr).toBe("make: *** [Makefile:5: t] Error 3\n");
    const ig = mk("t:\n\t-failing 4\n\t@echo after\n");
    expect(ig.exitCode).toBe(0);
    expect(ig.stderr).toBe("make: [Makefile:2: t] Error 4 (ignored)\n");
    expect(ig.stdout).toBe("failing 4\nafter\n");
  });

  it("a missing prerequisite: No rule to make target 'x', needed by 'y'", () => {
    const r = mk("prog: a.o\n\t@echo link\na.o: a.c missing.h\n\t@echo cc\n", "", { "a.c": "" });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe("make: *** No rule to make target 'missing.h', needed by 'a.o'.  Stop.\n");
    expect(r.stdout).toBe("");
    const g = mk("all:\n", "nosuch");
    expect(g.stderr).toBe("make: *** No rule to make target 'nosuch'.  Stop.\n");
  });

  it("-k keeps going past a failure and reports the goal not remade", () => {
    const r = mk("all: a b\na:\n\tfailing\nb:\n\t@echo b ran\n", "-k");
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe("failing\nb ran\n");
    expect(r.stderr).toBe("make: *** [Makefile:3: a] Error 1\nmake: Target 'all' not remade because of errors.\n");
  });

  it("-C and -f, with the directory messages", () => {
    const m = machine({ "sub/build.mk": "all:\n\t@echo in $(CURDIR)\n" });
    const r = m.run(["make", "-C", `${DIR}/sub`, "-f", "build.mk"], { uid: ALICE, env: ENV });
    expect(r.stdout).toBe(`make: Entering directory '${DIR}/sub'\nin ${DIR}/sub\nmake: Leaving directory '${DIR}/sub'\n`);
    const bad = m.run(["make", "-C", `${DIR}/nope`], { uid: ALICE, env: ENV });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("nope: No such file or directory");
    const opt = m.run(["make", "-Q"], { uid: ALICE, env: ENV });
    expect(opt.exitCode).toBe(2);
    expect(opt.stderr).toContain("make: invalid option -- 'Q'");
  });

  it("recursive make: $(MAKE) -C, with MAKELEVEL in messages", () => {
    const m = machine({ Makefile: "all:\n\t@$(MAKE) -C sub\n", "sub/Makefile": "all:\n\t@echo level $(MAKELEVEL)\n\tfailing 1\n" });
    const r = make(m);
    expect(r.stdout).toContain("level 1\n");
    expect(r.stderr).toContain("make[1]: *** [Makefile:3: all] Error 1");
    expect(r.stderr).toContain("make: *** [Makefile:2: all] Error 2");
  });
});

// ---- make -j ---------------------------------------------------------------------------------------

/** The intervals spin wrote, and the most that overlapped. */
function spins(m: Machine): { names: string[]; maxOverlap: number } {
  const lines = (read(m, "spins") ?? "").trim().split("\n").filter(Boolean);
  const iv = lines.map((l) => {
    const [name, s, e] = l.split(" ");
    return { name, s: Number(s), e: Number(e) };
  });
  let maxOverlap = 0;
  for (const a of iv) {
    const at = a.s + 1e-9;
    maxOverlap = Math.max(maxOverlap, iv.filter((b) => b.s <= at && at < b.e).length);
  }
  return { names: iv.map((x) => x.name), maxOverlap };
}

const JOBS_MAKEFILE = "all: t1 t2 t3 t4 t5 t6\n\t@echo all done\nt%:\n\t@spin $@ 20000000\n.PHONY: all\n";

describe("make -j", () => {
  it("runs up to N recipes at once, and -j 2 takes less simulated time than -j 1", () => {
    const one = mk(JOBS_MAKEFILE, "-j 1");
    const two = mk(JOBS_MAKEFILE, "-j2");
    const four = mk(JOBS_MAKEFILE, "--jobs=4");
    for (const r of [one, two, four]) {
      expect(r.exitCode).toBe(0);
      expect(r.stdout.trim().split("\n").pop()).toBe("all done");
      expect(spins(r.m).names.sort()).toEqual(["t1", "t2", "t3", "t4", "t5", "t6"]);
    }
    expect(spins(one.m).maxOverlap).toBe(1);
    expect(spins(two.m).maxOverlap).toBe(2);
    // The machine has 2 CPUs: 4 jobs are started, but only 2 run at a time.
    expect(spins(four.m).maxOverlap).toBe(2);
    // Six equal jobs on two CPUs: half the time, bar make's own work.
    expect(two.simulatedSeconds).toBeLessThan(one.simulatedSeconds * 0.55);
    expect(four.simulatedSeconds).toBeLessThanOrEqual(two.simulatedSeconds * 1.05);
  });

  it("respects dependencies: the link waits for every object", () => {
    const r = mk("prog: a b c\n\t@spin link 1000\na b c:\n\t@spin $@ 5000000\n", "-j 3");
    const m = r.m;
    const lines = (read(m, "spins") ?? "").trim().split("\n").map((l) => l.split(" "));
    const link = lines.find((l) => l[0] === "link")!;
    for (const l of lines.filter((x) => x[0] !== "link")) expect(Number(l[2])).toBeLessThanOrEqual(Number(link[1]));
  });

  it("a failure waits for the running jobs, starts no new ones, and exits 2", () => {
    const r = mk("all: a b c d e f\n\t@echo never\na:\n\t@spin a 100000\n\tfailing 7\nb c d e f:\n\t@spin $@ 9000000\n", "-j 2");
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe("make: *** [Makefile:5: a] Error 7\nmake: *** Waiting for unfinished jobs....\n");
    expect(r.stdout).toBe("failing 7\n");
    // b ran alongside a and was waited for; nothing started after a failed.
    expect(spins(r.m).names.sort()).toEqual(["a", "b"]);
  });
});

// ---- the cc driver -----------------------------------------------------------------------------------

/** A stand-in for cc1/as/ld: logs its argv to /home/alice/w/log, writes its -o output, or fails on request. */
function fakeTool(name: string): Main {
  return (argv, _envp, libc: Libc) => {
    const fd = libc.open(`${DIR}/log`, O_WRONLY | O_CREAT | O_APPEND, 0o644);
    libc.writeString(fd, `${name} ${argv.slice(1).join(" ")}\n`);
    libc.close(fd);
    const o = argv.indexOf("-o");
    const input = argv.filter((a, i) => i > 0 && !a.startsWith("-") && argv[i - 1] !== "-o").join(",");
    if (input.includes("bad")) {
      libc.eprintf("%s: error in %s\n", name, input);
      return 1;
    }
    if (input.includes("crash")) libc.mem.write32(0, 0);
    if (o > 0) {
      const out = libc.open(argv[o + 1], O_WRONLY | O_CREAT | O_TRUNC, 0o644);
      libc.writeString(out, `${name}(${input})`);
      libc.close(out);
    }
    return 0;
  };
}

function ccMachine(): Machine {
  const m = machine({ "a.c": "int a;", "b.c": "int b;", "bad.c": "x", "crash.c": "x", "s.s": "nop", "dir/d.c": "int d;" });
  for (const t of ["cc1", "as", "ld"]) m.install(t, fakeTool(t));
  return m;
}

function cc(m: Machine, args: string): RunResult & { log: string[]; tmp: string[] } {
  const r = m.run(["sh", "-c", `cd ${DIR} && cc ${args}`], { uid: ALICE, env: ENV });
  const log = (read(m, "log") ?? "").trim().split("\n").filter(Boolean);
  put(m, "log", "");
  const tmp = [...((m.k.vfs.lookup("/tmp", "/", credFor(0)) as { children: Map<string, unknown> }).children.keys())];
  return { ...r, log, tmp };
}

describe("cc: the driver", () => {
  it("cc -c x.c -o x.o runs cc1 to /tmp/ccPID.s, then as, and removes the temporary", () => {
    const m = ccMachine();
    const r = cc(m, "-O1 -Iinclude -DX=1 -c a.c -o out.o");
    expect(r.exitCode).toBe(0);
    expect(r.log).toHaveLength(2);
    const tmp = /^cc1 -Iinclude -DX=1 -O1 a\.c -o (\/tmp\/cc\d+\.s)$/.exec(r.log[0]);
    expect(tmp).not.toBeNull();
    expect(r.log[1]).toBe(`as ${tmp![1]} -o out.o`);
    expect(read(m, "out.o")).toBe(`as(${tmp![1]})`);
    expect(r.tmp).toEqual([]);
  });

  it("-c without -o names the object after the source's basename; -O0 by default", () => {
    const m = ccMachine();
    const r = cc(m, "-c dir/d.c");
    expect(r.log[0]).toMatch(/^cc1 -O0 dir\/d\.c -o \/tmp\/cc\d+\.s$/);
    expect(r.log[1]).toMatch(/ -o d\.o$/);
    expect(read(m, "d.o")).not.toBeNull();
  });

  it("cc a.o b.o -o prog runs ld; cc x.c y.s -o prog compiles, assembles and links, removing temporaries", () => {
    const m = ccMachine();
    put(m, "a.o", "A");
    put(m, "b.o", "B");
    expect(cc(m, "a.o b.o -o prog").log).toEqual(["ld -o prog a.o b.o"]);
    const r = cc(m, "a.c s.s -o prog2");
    expect(r.exitCode).toBe(0);
    expect(r.log.map((l) => l.split(" ")[0])).toEqual(["cc1", "as", "as", "ld"]);
    expect(r.log[3]).toMatch(/^ld -o prog2 \/tmp\/cc\d+-0\.o \/tmp\/cc\d+-1\.o$/);
    expect(r.tmp).toEqual([]);
    expect(cc(m, "a.o").log).toEqual(["ld -o a.out a.o"]);
  });

  it("-S stops after cc1", () => {
    const m = ccMachine();
    const r = cc(m, "-S a.c");
    expect(r.log).toEqual(["cc1 -O0 a.c -o a.s"]);
    expect(read(m, "a.s")).toBe("cc1(a.c)");
  });

  it("a failing step's exit status is the driver's; later steps do not run; temporaries go", () => {
    const m = ccMachine();
    const r = cc(m, "-c bad.c -o bad.o");
    expect(r.exitCode).toBe(1);
    expect(r.log).toHaveLength(1);
    expect(r.stderr).toBe("cc1: error in bad.c\n");
    expect(r.tmp).toEqual([]);
    const c = cc(m, "-c crash.c");
    expect(c.exitCode).toBe(4);
    expect(c.stderr).toBe("cc: internal compiler error: Segmentation fault signal terminated program cc1\n");
    expect(c.tmp).toEqual([]);
  });

  it("usage errors: no input files, a missing file, an unknown option, -o with -c and two files", () => {
    const m = ccMachine();
    expect(cc(m, "").stderr).toBe("cc: fatal error: no input files\ncompilation terminated.\n");
    const nf = cc(m, "-c nosuch.c");
    expect(nf.exitCode).toBe(1);
    expect(nf.stderr).toContain("cc: error: nosuch.c: No such file or directory");
    expect(cc(m, "--frobnicate a.c").stderr).toBe("cc: error: unrecognized command-line option '--frobnicate'\n");
    expect(cc(m, "-c a.c b.c -o x.o").stderr).toContain("cannot specify '-o' with '-c'");
    expect(cc(m, "-Wall -g -c a.c").exitCode).toBe(0);
  });

  it("make drives cc as a kernel build does: cc, cc1 and as per file, then ld", () => {
    const m = ccMachine();
    put(m, "Makefile", "OBJS = a.o dir/d.o\nprog: $(OBJS)\n\t$(CC) $(OBJS) -o $@\n%.o: %.c\n\t$(CC) -O1 -c $< -o $@\n");
    const r = make(m, "-j", "2");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe("cc -O1 -c a.c -o a.o\ncc -O1 -c dir/d.c -o dir/d.o\ncc a.o dir/d.o -o prog\n");
    const log = (read(m, "log") ?? "").trim().split("\n").map((l) => l.split(" ")[0]);
    expect([...log].sort()).toEqual(["as", "as", "cc1", "cc1", "ld"]);
    expect(log[4]).toBe("ld");
  });
});

// ---- gen-tree ------------------------------------------------------------------------------------------

describe("gen-tree", () => {
  it("is deterministic: the same seed gives the same files and checksum", () => {
    const a = generateTree({ files: 12, seed: 7 });
    const b = generateTree({ files: 12, seed: 7 });
    expect(b.files).toEqual(a.files);
    expect(b.expectedChecksum).toBe(a.expectedChecksum);
    expect(a.expectedOutput).toBe(`${a.expectedChecksum}\n`);
  });

  it("a different seed gives a different tree and checksum", () => {
    const a = generateTree({ files: 12, seed: 7 });
    const b = generateTree({ files: 12, seed: 8 });
    expect(b.expectedChecksum).not.toBe(a.expectedChecksum);
    expect(b.files.map((f) => f.text).join("")).not.toBe(a.files.map((f) => f.text).join(""));
  });

  it("has the kernel's shape: N .c files in subsystem directories, shared guarded headers, a Makefile listing every object", () => {
    const t = generateTree({ files: 40, seed: 3 });
    const cfiles = t.files.filter((f) => f.path.endsWith(".c"));
    expect(cfiles).toHaveLength(40);
    expect(cfiles.map((f) => f.path)).toContain("init/main.c");
    expect(cfiles.map((f) => f.path)).toContain("lib/print.c");
    const dirs = new Set(cfiles.map((f) => f.path.slice(0, f.path.lastIndexOf("/"))));
    expect(dirs.size).toBeGreaterThanOrEqual(5);
    const headers = t.files.filter((f) => f.path.startsWith("include/linux/"));
    expect(headers.length).toBeGreaterThanOrEqual(10);
    for (const h of headers) expect(h.text).toMatch(/#ifndef _LINUX_\w+_H\n#define _LINUX_\w+_H/);
    const mkf = t.files.find((f) => f.path === "Makefile")!.text;
    expect(mkf).toContain("CC = cc\nCFLAGS = -O1 -Iinclude\n");
    expect(mkf).toContain("%.o: %.c\n\t$(CC) $(CFLAGS) -c $< -o $@\n");
    for (const o of t.objects) expect(mkf).toContain(`\t${o}`);
    expect(t.objects).toHaveLength(40);
    // Every header is included by several files.
    const types = cfiles.filter((f) => f.text.includes("#include <linux/types.h>"));
    expect(types.length).toBe(40);
    expect(t.files.find((f) => f.path === "lib/print.c")!.text).toContain("__syscall(4, (fd), (buf), (len))");
  });

  it("a file's contents depend on the seed and its name, not on the number of files", () => {
    const a = generateTree({ files: 10, seed: 5 });
    const b = generateTree({ files: 20, seed: 5 });
    const shared = a.files.filter((f) => f.path.endsWith(".c") && f.path !== "init/main.c" && b.files.some((g) => g.path === f.path));
    expect(shared.length).toBeGreaterThan(3);
    for (const f of shared) expect(b.files.find((g) => g.path === f.path)!.text).toBe(f.text);
  });

  it("make -n in a machine lists every compile and the link", () => {
    const t = generateTree({ files: 8, seed: 2 });
    const m = machine(Object.fromEntries(t.files.map((f) => [f.path, f.text])));
    const r = make(m, "-n");
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(9);
    expect(lines[0]).toBe("cc -O1 -Iinclude -c init/main.c -o init/main.o");
    expect(lines[8]).toBe(`cc ${t.objects.join(" ")} -o prog`);
  });

  const gcc = (() => {
    try {
      execFileSync("gcc", ["--version"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  })();

  it.skipIf(!gcc)("a real compiler agrees with the generator's checksum (host gcc, -O2, UBSan)", () => {
    const t = generateTree({ files: 25, seed: 11 });
    const dir = mkdtempSync(join(tmpdir(), "nozero-gentree-"));
    try {
      for (const f of t.files) {
        mkdirSync(dirname(join(dir, f.path)), { recursive: true });
        writeFileSync(join(dir, f.path), f.text);
      }
      execFileSync("make", ["-s", "-j4", "-C", dir, "CC=gcc -fsanitize=undefined -fno-sanitize-recover=all", "CFLAGS=-O2 -Iinclude -w"], { stdio: "ignore" });
      expect(execFileSync(join(dir, "prog")).toString()).toBe(t.expectedOutput);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---- the kernel build, end to end ---------------------------------------------------------------------------

const toolchain = ["cc1", "as", "ld", "nzx"].every((p) => p in PROGRAMS);

describe.skipIf(!toolchain)("nozero build: the toolchain end to end", () => {
  const FILES = 6;
  // Small files keep the tests quick (the default is about 10 000 lines a file).
  const small = { files: FILES, seed: 4, headerLines: 1500 };

  it("builds, and the program prints the generator's checksum", () => {
    const r = runBuild({ ...small, jobs: 2, policy: "stock" });
    expect(r.makeStderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(r.programOutput).toBe(`${r.expectedChecksum}\n`);
    expect(r.checksumOk).toBe(true);
    expect(Object.values(r.objectHashes)).not.toContain("missing");
    expect(r.processesByProgram.cc1).toBe(FILES);
    expect(r.processesByProgram.as).toBe(FILES);
  });

  it("objects, executable and output are byte-identical with and without MALLOC_NOZERO=1, under stock, nozero and init_on_free", () => {
    const base = runBuild({ ...small, jobs: 2, policy: "stock" });
    expect(base.checksumOk).toBe(true);
    const runs = [
      runBuild({ ...small, jobs: 2, policy: "nozero", nozero: true }),
      runBuild({ ...small, jobs: 2, policy: "nozero", nozero: true, poison: true }),
      runBuild({ ...small, jobs: 2, policy: "init_on_free", nozero: true }),
      runBuild({ ...small, jobs: 1, policy: "nozero" }),
    ];
    for (const r of runs) {
      expect(r.exitCode).toBe(0);
      expect(r.objectHashes).toEqual(base.objectHashes);
      expect(r.executableHash).toBe(base.executableHash);
      expect(r.programOutput).toBe(base.programOutput);
      expect(r.outputHash).toBe(base.outputHash);
    }
    // The patched build clears fewer pages, and only cycles differ.
    expect(runs[0].clearPageCycles).toBeLessThan(base.clearPageCycles * 0.7);
    expect(runs[0].cycles).not.toBe(base.cycles);
  });

  it("under the uninitialized policy too, make, cc, cc1, as and ld produce the same objects and executable", () => {
    const base = runBuild({ ...small, jobs: 2, policy: "stock" });
    const r = runBuild({ ...small, jobs: 2, policy: "uninitialized", nozero: true });
    expect(r.exitCode).toBe(0);
    expect(r.objectHashes).toEqual(base.objectHashes);
    expect(r.executableHash).toBe(base.executableHash);
  });

  // The program's statics are zero only because nzx clears bss itself
  // (docs/toolchain.md): the uninitialized policy withholds the zero-fill.
  it("and the same program output under the uninitialized policy (the loader clears bss: docs/toolchain.md)", () => {
    const r = runBuild({ ...small, jobs: 2, policy: "uninitialized", nozero: true });
    expect(r.exitCode).toBe(0);
    expect(r.programOutput).toBe(`${r.expectedChecksum}\n`);
  });

  it("is deterministic: the same build twice gives the same cycles, faults, time and outputs", () => {
    const a = runBuild({ ...small, jobs: 2, nozero: true });
    const b = runBuild({ ...small, jobs: 2, nozero: true });
    expect(b.cycles).toBe(a.cycles);
    expect(b.minflt).toBe(a.minflt);
    expect(b.simulatedSeconds).toBe(a.simulatedSeconds);
    expect(b.clearPageCycles).toBe(a.clearPageCycles);
    expect(b.outputHash).toBe(a.outputHash);
    expect(b.processesByProgram).toEqual(a.processesByProgram);
  });

  it("make -j 2 gives a shorter simulated build than -j 1", () => {
    const one = runBuild({ ...small, jobs: 1 });
    const two = runBuild({ ...small, jobs: 2 });
    expect(two.outputHash).toBe(one.outputHash);
    expect(two.simulatedSeconds).toBeLessThan(one.simulatedSeconds * 0.7);
  });
});
