// /bin/cc: the compiler driver, as gcc is one (docs/toolchain.md).
//
//   cc [-Idir] [-Dname[=v]] [-Uname] [-O|-O0|-O1|-O2] [-c|-S] [-o out] [-e entry] [-v] FILE...
//
// Each .c is compiled by /bin/cc1 into a temporary /tmp/ccPID.s, which
// /bin/as assembles (into the object named by -o or x.o with -c, else a
// temporary /tmp/ccPID-N.o); .s files go to as directly; unless -c or -S, the
// objects are linked by /bin/ld (-o, default a.out). Every step is a child
// the driver forks, execs and waits for; the first failing step's exit status
// is the driver's, and the temporaries are removed either way. A step killed
// by a signal is reported as gcc reports an internal compiler error (exit 4).
// -v prints each command on stderr first. Warnings (-W...), -g, -f..., -m...,
// -std=, -pipe and -nostdlib are accepted and ignored.
//
// Argument vectors and file names are built in malloc'd memory and handed to
// execve as they are.

import { strerror } from "../../../kernel/errno.ts";
import { signalName } from "../../../kernel/signal.ts";
import { type Libc, WEXITSTATUS, WIFSIGNALED, WTERMSIG } from "../../../libc/libc.ts";
import { UBuf, UVec, execvUser, udupStr, ujs, ulen } from "../make/ustr.ts";

const ICE_EXIT_CODE = 4;

export const CC1_PATH = "/bin/cc1";
export const AS_PATH = "/bin/as";
export const LD_PATH = "/bin/ld";

/** What the driver knows of its command line: flags as scalars, words in user memory. */
interface Driver {
  libc: Libc;
  /** -I/-D/-U/-O words passed to cc1 (C strings). */
  cppArgs: UVec;
  /** Input files, in order (C strings). */
  inputs: UVec;
  output: number;
  entry: number;
  stop: "" | "c" | "S";
  verbose: boolean;
  /** Temporaries to remove at exit (C strings). */
  temps: UVec;
}

export default function cc(argv: string[], _envp: string[], libc: Libc): number {
  const sym = libc.symbol("cc", "do_spec");
  const prev = libc.enter(sym);
  try {
    return driver(argv, libc);
  } finally {
    libc.leave(prev);
  }
}

function driver(argv: string[], libc: Libc): number {
  const d: Driver = {
    libc,
    cppArgs: new UVec(libc, 16),
    inputs: new UVec(libc, 8),
    output: 0,
    entry: 0,
    stop: "",
    verbose: false,
    temps: new UVec(libc, 4),
  };
  let opt = "-O0";
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    libc.work(8 + a.length);
    if (a === "-c" || a === "-S") d.stop = a === "-c" ? "c" : "S";
    else if (a === "-o" || a === "-e") {
      if (i + 1 >= argv.length) return fatal(libc, `missing filename after '${a}'`);
      const v = udupStr(libc, argv[++i]);
      if (a === "-o") d.output = v;
      else d.entry = v;
    } else if (a.startsWith("-o")) d.output = udupStr(libc, a.slice(2));
    else if (a === "-I" || a === "-D" || a === "-U") {
      if (i + 1 >= argv.length) return fatal(libc, `${a === "-I" ? "missing path" : "macro name missing"} after '${a}'`);
      d.cppArgs.push(udupStr(libc, a + argv[++i]));
    } else if (a.startsWith("-I") || a.startsWith("-D") || a.startsWith("-U")) d.cppArgs.push(udupStr(libc, a));
    else if (/^-O[0-9s]?$/.test(a)) opt = a === "-O0" ? "-O0" : "-O1";
    else if (a === "-v") d.verbose = true;
    else if (/^-(W.*|w|g[0-9]?|f.+|m.+|std=.+|pipe|nostdlib|static|ansi|pedantic)$/.test(a)) continue;
    else if (a.startsWith("-") && a !== "-") {
      libc.eprintf("cc: error: unrecognized command-line option '%s'\n", a);
      return 1;
    } else d.inputs.push(udupStr(libc, a));
  }
  d.cppArgs.push(udupStr(libc, opt));
  if (d.inputs.len === 0) return fatal(libc, "no input files");
  if (d.output !== 0 && d.stop !== "" && d.inputs.len > 1) {
    return fatal(libc, "cannot specify '-o' with '-c', '-S' or '-E' with multiple files");
  }
  for (let i = 0; i < d.inputs.len; i++) {
    const name = cstr(libc, d.inputs.get(i));
    if (libc.stat(name) === null) {
      libc.eprintf("cc: error: %s: %s\n", name, strerror(libc.errno));
      return fatal(libc, "no input files", true);
    }
  }
  try {
    return compileAndLink(d);
  } finally {
    for (let i = 0; i < d.temps.len; i++) libc.unlink(cstr(libc, d.temps.get(i)));
  }
}

function compileAndLink(d: Driver): number {
  const libc = d.libc;
  const pid = libc.getpid();
  const objects = new UVec(libc, d.inputs.len + 1);
  let nthTemp = 0;
  for (let i = 0; i < d.inputs.len; i++) {
    const input = d.inputs.get(i);
    const kind = suffix(libc, input);
    if (kind === "c") {
      // cc1 x.c -o /tmp/ccPID.s (or the .s itself with -S)
      const asm = d.stop === "S" ? (d.output || outName(libc, input, "s")) : udupStr(libc, `/tmp/cc${pid}.s`);
      if (d.stop !== "S") d.temps.push(asm);
      const args = new UVec(libc, d.cppArgs.len + 6);
      args.push(udupStr(libc, "cc1"));
      for (let k = 0; k < d.cppArgs.len; k++) args.push(d.cppArgs.get(k));
      args.push(input);
      args.push(udupStr(libc, "-o"));
      args.push(asm);
      const st = step(d, CC1_PATH, "cc1", args);
      args.free();
      if (st !== 0) return st;
      if (d.stop === "S") continue;
      const obj = objectFor(d, input, pid, nthTemp++);
      const r = assemble(d, asm, obj);
      libc.unlink(cstr(libc, asm));
      if (r !== 0) return r;
      objects.push(obj);
    } else if (kind === "s") {
      if (d.stop === "S") continue;
      const obj = objectFor(d, input, pid, nthTemp++);
      const r = assemble(d, input, obj);
      if (r !== 0) return r;
      objects.push(obj);
    } else objects.push(input);
  }
  if (d.stop !== "") return 0;
  // ld -o OUT [-e ENTRY] objects...
  const args = new UVec(libc, objects.len + 6);
  args.push(udupStr(libc, "ld"));
  args.push(udupStr(libc, "-o"));
  args.push(d.output || udupStr(libc, "a.out"));
  if (d.entry !== 0) {
    args.push(udupStr(libc, "-e"));
    args.push(d.entry);
  }
  for (let k = 0; k < objects.len; k++) args.push(objects.get(k));
  const st = step(d, LD_PATH, "ld", args);
  args.free();
  objects.free();
  return st;
}

/** The object for an input: -o or x.o (in the current directory) with -c; a temporary when linking. */
function objectFor(d: Driver, input: number, pid: number, n: number): number {
  if (d.stop === "c") return d.output || outName(d.libc, input, "o");
  const t = udupStr(d.libc, `/tmp/cc${pid}-${n}.o`);
  d.temps.push(t);
  return t;
}

function assemble(d: Driver, src: number, obj: number): number {
  const libc = d.libc;
  const args = new UVec(libc, 6);
  args.push(udupStr(libc, "as"));
  args.push(src);
  args.push(udupStr(libc, "-o"));
  args.push(obj);
  const st = step(d, AS_PATH, "as", args);
  args.free();
  return st;
}

/** Fork, exec path with args (a char *argv[] in user memory), wait: 0 or the step's failure status. */
function step(d: Driver, path: string, name: string, args: UVec): number {
  const libc = d.libc;
  const p = udupStr(libc, path);
  if (d.verbose) {
    const line = new UBuf(libc, 128);
    line.putStr(` ${path}`);
    for (let k = 1; k < args.len; k++) {
      line.putByte(0x20);
      const s = args.get(k);
      line.put(s, ulen(libc, s));
    }
    line.putByte(0x0a);
    libc.fflush();
    libc.write(2, line.ptr, line.len);
    line.free();
  }
  libc.fflush();
  // The child runs on its copy of this memory: it gets plain pointers.
  const argvPtr = args.ptr;
  const pid = libc.fork((c) => {
    execvUser(c, p, argvPtr, c.environPtr);
    c.eprintf("cc: fatal error: cannot execute '%s': execve: %s\ncompilation terminated.\n", path, strerror(c.errno));
    return 1;
  });
  if (pid < 0) {
    libc.eprintf("cc: fatal error: cannot fork: %s\ncompilation terminated.\n", strerror(libc.errno));
    return 1;
  }
  const w = libc.waitpid(pid);
  libc.free(p);
  if (w === null) return 1;
  if (WIFSIGNALED(w.status)) {
    libc.eprintf("cc: internal compiler error: %s signal terminated program %s\n", signalText(WTERMSIG(w.status)), name);
    return ICE_EXIT_CODE;
  }
  return WEXITSTATUS(w.status);
}

function signalText(sig: number): string {
  const names: Record<number, string> = { 4: "Illegal instruction", 6: "Aborted", 8: "Floating point exception", 9: "Killed", 11: "Segmentation fault" };
  return names[sig] ?? signalName(sig);
}

/** "c", "s", or "" (anything else goes to the linker) from the file name's suffix. */
function suffix(libc: Libc, p: number): string {
  const n = ulen(libc, p);
  if (n >= 2 && libc.mem.read8(p + n - 2) === 0x2e) {
    const c = libc.mem.read8(p + n - 1);
    if (c === 0x63) return "c";
    if (c === 0x73) return "s";
  }
  return "";
}

/** basename(input) with its suffix replaced by ext, as gcc names -c/-S outputs. */
function outName(libc: Libc, input: number, ext: string): number {
  const n = ulen(libc, input);
  let start = 0;
  let dot = n;
  for (let i = 0; i < n; i++) {
    const c = libc.mem.read8(input + i);
    if (c === 0x2f) {
      start = i + 1;
      dot = n;
    } else if (c === 0x2e) dot = i;
  }
  const b = new UBuf(libc, n + 4);
  b.put(input + start, dot - start);
  b.putByte(0x2e);
  b.putStr(ext);
  const r = b.dup();
  b.free();
  return r;
}

function cstr(libc: Libc, p: number): string {
  return ujs(libc, p, ulen(libc, p));
}

function fatal(libc: Libc, msg: string, quiet = false): number {
  if (!quiet || msg) libc.eprintf("cc: fatal error: %s\ncompilation terminated.\n", msg);
  return 1;
}
