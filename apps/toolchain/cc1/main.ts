// cc1 [-Idir]... [-Dname[=val]]... [-Uname]... [-O0|-O1] [-E] [-fmem-report] FILE.c -o FILE.s
// The compiler proper (toplev.c): options, the phases in order (preprocess
// and lex the unit into the token vector, parse with semantic analysis and
// expand each function, emit the data), and the assembly written with
// write(2) from its buffer in user memory. Exit 0 on success, 1 after errors,
// 4 on an internal compiler error.

import type { Libc } from "../../../libc/libc.ts";
import { O_CREAT, O_TRUNC, O_WRONLY } from "../../../libc/libc.ts";
import { TokenVec } from "./clex.ts";
import { Codegen, OutBuf } from "./codegen.ts";
import { Cpp } from "./cpp.ts";
import { Diag, Stop } from "./diag.ts";
import { Ggc, OutOfMemory } from "./ggc.ts";
import { IdentTable } from "./ident.ts";
import { Lexer } from "./lex.ts";
import { Parser } from "./parse.ts";
import { Sema } from "./sema.ts";
import { Types } from "./types.ts";

const USAGE = "usage: cc1 [-Idir]... [-Dname[=val]]... [-Uname]... [-O0|-O1] FILE.c -o FILE.s\n";

interface Options {
  input: string;
  output: string;
  includes: string[];
  defines: string[];
  opt: number;
  memReport: boolean;
  preprocessOnly: boolean;
}

function parseArgs(argv: string[], libc: Libc): Options | null {
  const o: Options = { input: "", output: "", includes: [], defines: [], opt: 0, memReport: false, preprocessOnly: false };
  const bad = (msg: string): null => {
    libc.eprintf("cc1: error: %s\n", msg);
    return null;
  };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    const value = (flag: string): string | null => {
      if (a.length > flag.length) return a.slice(flag.length);
      if (i + 1 >= argv.length) return null;
      return argv[++i];
    };
    if (a === "-o" || (a.startsWith("-o") && a.length > 2)) {
      const v = value("-o");
      if (v === null) return bad("missing filename after '-o'");
      o.output = v;
    } else if (a.startsWith("-I")) {
      const v = value("-I");
      if (v === null) return bad("missing path after '-I'");
      o.includes.push(v);
    } else if (a.startsWith("-D")) {
      const v = value("-D");
      if (v === null) return bad("macro name missing after '-D'");
      const eq = v.indexOf("=");
      o.defines.push(eq < 0 ? `#define ${v} 1\n` : `#define ${v.slice(0, eq)} ${v.slice(eq + 1)}\n`);
    } else if (a.startsWith("-U")) {
      const v = value("-U");
      if (v === null) return bad("macro name missing after '-U'");
      o.defines.push(`#undef ${v}\n`);
    } else if (a === "-O0") o.opt = 0;
    else if (a === "-O" || /^-O[1-3s]$/.test(a)) o.opt = 1;
    else if (a === "-fmem-report") o.memReport = true;
    else if (a === "-E") o.preprocessOnly = true;
    else if (a === "-quiet" || a === "-w" || a === "-g" || a === "-pedantic" || a.startsWith("-W") || a.startsWith("-std=") || a.startsWith("-f") || a.startsWith("-m")) {
      // accepted, no effect
    } else if (a.startsWith("-") && a !== "-") return bad(`unrecognized command-line option '${a}'`);
    else if (o.input === "") o.input = a;
    else return bad(`too many input files: '${a}'`);
  }
  if (o.input === "") {
    libc.eprintf("cc1: fatal error: no input files\ncompilation terminated.\n");
    return null;
  }
  if (o.output === "") {
    const base = o.input.slice(o.input.lastIndexOf("/") + 1);
    o.output = o.preprocessOnly ? "-" : (base.endsWith(".c") ? base.slice(0, -2) : base) + ".s";
  }
  return o;
}

/** No-zero mode, as malloc reads it: MALLOC_NOZERO=N (N != 0), or glibc.malloc.nozero=N in GLIBC_TUNABLES. */
export function nozeroMode(libc: Libc): boolean {
  const num = (s: string) => {
    const t = s.trim();
    return /^0x[0-9a-f]+$/i.test(t) ? parseInt(t, 16) : /^[0-9]+$/.test(t) ? Number(t) : NaN;
  };
  let on = false;
  const legacy = libc.getenv("MALLOC_NOZERO");
  if (legacy !== null && !Number.isNaN(num(legacy))) on = num(legacy) !== 0;
  const tunables = libc.getenv("GLIBC_TUNABLES");
  if (tunables !== null) {
    for (const item of tunables.split(":")) {
      const eq = item.indexOf("=");
      if (eq > 0 && item.slice(0, eq) === "glibc.malloc.nozero" && !Number.isNaN(num(item.slice(eq + 1)))) on = num(item.slice(eq + 1)) !== 0;
    }
  }
  return on;
}

export default function cc1(argv: string[], _envp: string[], libc: Libc): number {
  const o = parseArgs(argv, libc);
  if (o === null) {
    libc.eprintf("%s", USAGE);
    return 1;
  }
  const top = libc.enter(libc.symbol("cc1", "toplev_main"));
  try {
    return compile(o, libc);
  } catch (e) {
    if (e instanceof Stop) return 1;
    if (e instanceof OutOfMemory) {
      libc.eprintf("cc1: out of memory: virtual memory exhausted\n");
      return 1;
    }
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      libc.eprintf("cc1: internal compiler error: stack overflow\n");
      return 4;
    }
    throw e;
  } finally {
    libc.leave(top);
  }
}

function compile(o: Options, libc: Libc): number {
  const ggc = new Ggc(libc, nozeroMode(libc));
  const diag = new Diag(libc);
  const idents = new IdentTable(libc, ggc);
  const lx = new Lexer(libc, diag, idents, ggc);
  const cpp = new Cpp(libc, diag, idents, ggc, lx, o.includes);
  cpp.runPredefines("#define __NOZERO__ 1\n#define __i386__ 1\n#define __STDC__ 1\n" + o.defines.join(""));
  if (!cpp.enterFile(o.input)) diag.fatalNoLoc(`${o.input}: No such file or directory`);

  if (o.preprocessOnly) {
    const out = new OutBuf(libc);
    cpp.preprocessTo((s) => out.write(s));
    if (diag.errors > 0) return 1;
    return writeOutput(o.output, out, libc, diag);
  }

  // Preprocess and lex the whole unit.
  const vec = new TokenVec(libc, diag, ggc, cpp, lx);
  vec.lexAll();
  if (diag.errors > 0) return 1;

  // Parse, check and expand.
  const types = new Types(libc.mem, ggc, idents);
  const sema = new Sema(libc, diag, ggc, idents, types, o.opt);
  const out = new OutBuf(libc);
  const cg = new Codegen(libc, ggc, sema, out, o.opt);
  const parser = new Parser(libc, diag, ggc, sema, vec, cg);
  parser.parseTranslationUnit();
  if (diag.errors > 0) return 1;
  cg.finish();

  if (writeOutput(o.output, out, libc, diag) !== 0) return 1;

  if (o.memReport) {
    const ru = libc.getrusage(0);
    libc.eprintf("%s", ggc.report());
    libc.eprintf("Tokens: %d; insns: %d; functions: %d\n", vec.count, cg.insns, cg.functions);
    libc.eprintf("Peak RSS: %d KiB; minor faults: %d\n", ru.maxrss, ru.minflt);
  }
  return 0;
}

/** Write the output buffer to a file (or stdout for "-"). */
function writeOutput(path: string, out: OutBuf, libc: Libc, diag: Diag): number {
  const fd = path === "-" ? 1 : libc.open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o666);
  if (fd < 0) diag.fatalNoLoc(`opening output file ${path}: ${strerror(libc.errno)}`);
  for (let done = 0; done < out.len; ) {
    const n = libc.write(fd, out.base + done, Math.min(out.len - done, 65536));
    if (n <= 0) {
      libc.eprintf("cc1: error: writing %s: %s\n", path, strerror(libc.errno));
      return 1;
    }
    done += n;
  }
  if (fd !== 1) libc.close(fd);
  return 0;
}

function strerror(e: number): string {
  switch (e) {
    case 2: return "No such file or directory";
    case 13: return "Permission denied";
    case 21: return "Is a directory";
    case 28: return "No space left on device";
    default: return `error ${e}`;
  }
}
