// Variable expansion (GNU make's expand.c and function.c): $(VAR), ${VAR},
// $X, $$, substitution references $(VAR:a=b), the automatic variables
// $@ $< $^ $+ $? $* $| and their D/F forms, and the text functions. Input
// and output are bytes in user memory; the output goes into a UBuf.

import {
  D_FILE, D_FLAGS, D_NEXT, DEP_ORDER_ONLY, F_DEPS, F_MTIME, F_MTIMENS, F_STEM, F_STEMLEN, FF_EXISTS, FF_NEWEST, H_NAME,
  H_NAMELEN, type Make, MakeFatal, O_AUTOMATIC, V_FLAGS, V_VALUE, V_VALUELEN, VAR_EXPANDING, VAR_SIMPLE,
} from "./state.ts";
import { UBuf, UVec, isSpace, ucmp, ueq, ujs } from "./ustr.ts";

const DOLLAR = 0x24;
const LPAREN = 0x28;
const RPAREN = 0x29;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const COLON = 0x3a;
const EQUALS = 0x3d;
const COMMA = 0x2c;
const PERCENT = 0x25;
const SLASH = 0x2f;
const SPACE = 0x20;
const DOT = 0x2e;

/** Expand n bytes at p, appending to out. */
export function expand(mk: Make, p: number, n: number, out: UBuf): void {
  const m = mk.mem;
  const prev = mk.libc.enter(mk.sym.expand);
  let i = 0;
  while (i < n) {
    // Copy the run of plain bytes up to the next '$'.
    let j = i;
    while (j < n && m.read8(p + j) !== DOLLAR) j++;
    mk.libc.work(2 * (j - i) + 2);
    out.put(p + i, j - i);
    if (j >= n) break;
    if (j + 1 >= n) break; // a lone '$' at the end expands to nothing
    const c = m.read8(p + j + 1);
    if (c === DOLLAR) {
      out.putByte(DOLLAR);
      i = j + 2;
    } else if (c === LPAREN || c === LBRACE) {
      const close = c === LPAREN ? RPAREN : RBRACE;
      let depth = 1;
      let k = j + 2;
      for (; k < n; k++) {
        const d = m.read8(p + k);
        if (d === c) depth++;
        else if (d === close && --depth === 0) break;
      }
      if (k >= n) throw new MakeFatal(`*** unterminated variable reference.  Stop.`);
      reference(mk, p + j + 2, k - (j + 2), c, out);
      i = k + 1;
    } else {
      reference(mk, p + j + 1, 1, 0, out);
      i = j + 2;
    }
  }
  mk.libc.leave(prev);
}

/** A fresh buffer holding the expansion of (p, n). */
export function expandNew(mk: Make, p: number, n: number): UBuf {
  const b = new UBuf(mk.libc, n + 16);
  expand(mk, p, n, b);
  return b;
}

/** The body of $(...) (or the single character of $X): a function call, substitution reference or variable. */
function reference(mk: Make, p: number, n: number, paren: number, out: UBuf): void {
  const m = mk.mem;
  if (paren !== 0) {
    // A function: a name of letters and '-' followed by blanks.
    let k = 0;
    while (k < n) {
      const c = m.read8(p + k);
      if ((c >= 0x61 && c <= 0x7a) || c === 0x2d) k++;
      else break;
    }
    if (k > 0 && k < n && (m.read8(p + k) === SPACE || m.read8(p + k) === 0x09)) {
      const name = ujs(mk.libc, p, k);
      const fn = FUNCTIONS[name];
      if (fn !== undefined) {
        let a = k;
        while (a < n && (m.read8(p + a) === SPACE || m.read8(p + a) === 0x09)) a++;
        const args = splitArgs(mk, p + a, n - a, paren, fn.max);
        fn.run(mk, args, out);
        return;
      }
    }
    // A substitution reference: NAME:FROM=TO at nesting depth 0.
    const close = paren === LPAREN ? RPAREN : RBRACE;
    let depth = 0;
    let colon = -1;
    for (k = 0; k < n; k++) {
      const c = m.read8(p + k);
      if (c === paren) depth++;
      else if (c === close) depth--;
      else if (c === COLON && depth === 0) {
        colon = k;
        break;
      }
    }
    if (colon >= 0) {
      let eq = -1;
      depth = 0;
      for (k = colon + 1; k < n; k++) {
        const c = m.read8(p + k);
        if (c === paren) depth++;
        else if (c === close) depth--;
        else if (c === EQUALS && depth === 0) {
          eq = k;
          break;
        }
      }
      if (eq >= 0) {
        const value = new UBuf(mk.libc);
        expandVariable(mk, p, colon, value);
        const from = expandNew(mk, p + colon + 1, eq - colon - 1);
        const to = expandNew(mk, p + eq + 1, n - eq - 1);
        substRef(mk, value, from, to, out);
        value.free();
        from.free();
        to.free();
        return;
      }
    }
  }
  expandVariable(mk, p, n, out);
}

/** $(NAME): the name itself may contain references. */
function expandVariable(mk: Make, p: number, n: number, out: UBuf): void {
  const m = mk.mem;
  let hasDollar = false;
  for (let k = 0; k < n; k++) if (m.read8(p + k) === DOLLAR) hasDollar = true;
  if (!hasDollar) {
    valueOf(mk, p, n, out);
    return;
  }
  const name = expandNew(mk, p, n);
  valueOf(mk, name.ptr, name.len, out);
  name.free();
}

/** Append the value of the variable named (p, n). */
function valueOf(mk: Make, p: number, n: number, out: UBuf): void {
  const m = mk.mem;
  if (n === 1 || (n === 2 && (m.read8(p + 1) === 0x44 || m.read8(p + 1) === 0x46))) {
    const c = m.read8(p);
    if (c === 0x40 || c === 0x3c || c === 0x5e || c === 0x2b || c === 0x3f || c === 0x2a || c === 0x7c) {
      automatic(mk, c, n === 2 ? m.read8(p + 1) : 0, out);
      return;
    }
  }
  const v = mk.lookupVar(p, n);
  if (v === 0) return;
  const flags = m.readU32(v + V_FLAGS);
  const val = m.readU32(v + V_VALUE);
  const vlen = m.readU32(v + V_VALUELEN);
  if (flags & VAR_SIMPLE) {
    out.put(val, vlen);
    return;
  }
  if (flags & VAR_EXPANDING) {
    throw new MakeFatal(`*** Recursive variable '${ujs(mk.libc, p, n)}' references itself (eventually).  Stop.`);
  }
  m.write32(v + V_FLAGS, flags | VAR_EXPANDING);
  try {
    expand(mk, val, vlen, out);
  } finally {
    m.write32(v + V_FLAGS, m.readU32(v + V_FLAGS) & ~VAR_EXPANDING);
  }
}

// ---- automatic variables --------------------------------------------------------------------

/** $@ $< $^ $+ $? $* $|, with `mod` 'D' (directory) or 'F' (file part) or 0. */
function automatic(mk: Make, c: number, mod: number, out: UBuf): void {
  const f = mk.autoFile;
  if (f === 0) return;
  const m = mk.mem;
  const tmp = mod !== 0 ? new UBuf(mk.libc) : out;
  const start = tmp.len;
  const putName = (file: number) => {
    if (tmp.len > start) tmp.putByte(SPACE);
    tmp.put(m.readU32(file + H_NAME), m.readU32(file + H_NAMELEN));
  };
  switch (c) {
    case 0x40: // @
      putName(f);
      break;
    case 0x2a: // *
      tmp.put(m.readU32(f + F_STEM), m.readU32(f + F_STEMLEN));
      break;
    case 0x3c: // <
      for (let d = m.readU32(f + F_DEPS); d !== 0; d = m.readU32(d + D_NEXT)) {
        if (m.readU32(d + D_FLAGS) & DEP_ORDER_ONLY) continue;
        putName(m.readU32(d + D_FILE));
        break;
      }
      break;
    case 0x5e: // ^ (no duplicates)
    case 0x2b: // + (with duplicates)
    case 0x3f: // ? (newer than the target)
    case 0x7c: // | (order-only)
      for (let d = m.readU32(f + F_DEPS); d !== 0; d = m.readU32(d + D_NEXT)) {
        const oo = (m.readU32(d + D_FLAGS) & DEP_ORDER_ONLY) !== 0;
        if (oo !== (c === 0x7c)) continue;
        const df = m.readU32(d + D_FILE);
        if (c === 0x5e || c === 0x3f || c === 0x7c) {
          let dup = false;
          for (let e = m.readU32(f + F_DEPS); e !== d; e = m.readU32(e + D_NEXT)) {
            if (m.readU32(e + D_FILE) === df && ((m.readU32(e + D_FLAGS) & DEP_ORDER_ONLY) !== 0) === oo) dup = true;
          }
          if (dup) continue;
        }
        if (c === 0x3f && !newerThan(mk, df, f)) continue;
        putName(df);
      }
      break;
  }
  if (mod === 0) return;
  // D and F apply to each word.
  let first = true;
  eachWord(mk, tmp.ptr + start, tmp.len - start, (w, wl) => {
    if (!first) out.putByte(SPACE);
    first = false;
    let slash = -1;
    for (let k = wl - 1; k >= 0; k--) {
      if (m.read8(w + k) === SLASH) {
        slash = k;
        break;
      }
    }
    if (mod === 0x44) {
      if (slash < 0) out.putByte(DOT);
      else if (slash === 0) out.putByte(SLASH);
      else out.put(w, slash);
    } else out.put(w + slash + 1, wl - slash - 1);
  });
  tmp.free();
}

/** Is dep newer than target (or the target missing)? */
export function newerThan(mk: Make, dep: number, target: number): boolean {
  const m = mk.mem;
  const tf = mk.flags(target);
  if (!(tf & FF_EXISTS)) return true;
  const df = mk.flags(dep);
  if (df & FF_NEWEST) return true;
  if (!(df & FF_EXISTS)) return false;
  const ds = m.readU32(dep + F_MTIME);
  const ts = m.readU32(target + F_MTIME);
  if (ds !== ts) return ds > ts;
  return m.readU32(dep + F_MTIMENS) > m.readU32(target + F_MTIMENS);
}

// ---- words and patterns -------------------------------------------------------------------

/** Call fn for each blank-separated word of (p, n). */
export function eachWord(mk: Make, p: number, n: number, fn: (w: number, wl: number) => void): void {
  const m = mk.mem;
  let i = 0;
  while (i < n) {
    while (i < n && isSpace(m.read8(p + i))) i++;
    if (i >= n) break;
    const s = i;
    while (i < n && !isSpace(m.read8(p + i))) i++;
    mk.libc.work(i - s + 2);
    fn(p + s, i - s);
  }
}

/** Offset of the first '%' in (p, n), or -1. */
export function percentAt(mk: Make, p: number, n: number): number {
  const m = mk.mem;
  for (let i = 0; i < n; i++) if (m.read8(p + i) === PERCENT) return i;
  return -1;
}

/**
 * Match word (w, wl) against pattern (pat, pl) with its '%' at pc: the stem's
 * offset in the word and its length, or -1 (no '%': an exact match is a stem of 0).
 */
export function patMatch(mk: Make, pat: number, pl: number, pc: number, w: number, wl: number): number {
  if (pc < 0) return ueq(mk.libc, pat, pl, w, wl) ? 0 : -1;
  const m = mk.mem;
  const sl = pl - pc - 1;
  if (wl < pc + sl) return -1;
  for (let i = 0; i < pc; i++) if (m.read8(pat + i) !== m.read8(w + i)) return -1;
  for (let i = 0; i < sl; i++) if (m.read8(pat + pc + 1 + i) !== m.read8(w + wl - sl + i)) return -1;
  return wl - pc - sl;
}

/** Append pattern (pat, pl) with its first '%' replaced by (stem, sl). */
export function patSubst(mk: Make, pat: number, pl: number, stem: number, sl: number, out: UBuf): void {
  const pc = percentAt(mk, pat, pl);
  if (pc < 0) {
    out.put(pat, pl);
    return;
  }
  out.put(pat, pc);
  out.put(stem, sl);
  out.put(pat + pc + 1, pl - pc - 1);
}

/** $(VAR:from=to): patsubst with a bare suffix meaning %suffix. */
function substRef(mk: Make, value: UBuf, from: UBuf, to: UBuf, out: UBuf): void {
  if (percentAt(mk, from.ptr, from.len) >= 0) {
    patsubstWords(mk, from, to, value, out);
    return;
  }
  const f = new UBuf(mk.libc, from.len + 2);
  f.putByte(PERCENT);
  f.put(from.ptr, from.len);
  const t = new UBuf(mk.libc, to.len + 2);
  t.putByte(PERCENT);
  t.put(to.ptr, to.len);
  patsubstWords(mk, f, t, value, out);
  f.free();
  t.free();
}

function patsubstWords(mk: Make, pat: UBuf, repl: UBuf, text: UBuf, out: UBuf): void {
  const pc = percentAt(mk, pat.ptr, pat.len);
  const rc = percentAt(mk, repl.ptr, repl.len);
  let first = true;
  eachWord(mk, text.ptr, text.len, (w, wl) => {
    if (!first) out.putByte(SPACE);
    first = false;
    const s = patMatch(mk, pat.ptr, pat.len, pc, w, wl);
    if (s < 0) out.put(w, wl);
    else if (rc < 0) out.put(repl.ptr, repl.len);
    else {
      out.put(repl.ptr, rc);
      out.put(w + pc, s);
      out.put(repl.ptr + rc + 1, repl.len - rc - 1);
    }
  });
}

// ---- functions --------------------------------------------------------------------------------

/** Function arguments: unexpanded (pointer, length) ranges. */
interface Args {
  p: number[];
  n: number[];
}

/** Split at top-level commas into at most max arguments (the last takes the rest). */
function splitArgs(mk: Make, p: number, n: number, paren: number, max: number): Args {
  const m = mk.mem;
  const close = paren === LPAREN ? RPAREN : RBRACE;
  const args: Args = { p: [], n: [] };
  let depth = 0;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const c = m.read8(p + i);
    if (c === paren) depth++;
    else if (c === close) depth--;
    else if (c === COMMA && depth === 0 && args.p.length < max - 1) {
      args.p.push(p + s);
      args.n.push(i - s);
      s = i + 1;
    }
  }
  args.p.push(p + s);
  args.n.push(n - s);
  return args;
}

function arg(mk: Make, a: Args, i: number): UBuf {
  if (i >= a.p.length) return new UBuf(mk.libc);
  return expandNew(mk, a.p[i], a.n[i]);
}

/** Append words separated by single spaces. */
function wordOut(out: UBuf, start: number): (w: number, wl: number) => void {
  return (w, wl) => {
    if (out.len > start) out.putByte(SPACE);
    out.put(w, wl);
  };
}

interface Fn {
  max: number;
  run(mk: Make, a: Args, out: UBuf): void;
}

const FUNCTIONS: Record<string, Fn> = {
  subst: {
    max: 3,
    run(mk, a, out) {
      const from = arg(mk, a, 0);
      const to = arg(mk, a, 1);
      const text = arg(mk, a, 2);
      const m = mk.mem;
      let i = 0;
      while (i < text.len) {
        if (from.len > 0 && i + from.len <= text.len && ueq(mk.libc, text.ptr + i, from.len, from.ptr, from.len)) {
          out.put(to.ptr, to.len);
          i += from.len;
        } else {
          out.putByte(m.read8(text.ptr + i));
          i++;
        }
      }
      from.free();
      to.free();
      text.free();
    },
  },
  patsubst: {
    max: 3,
    run(mk, a, out) {
      const pat = arg(mk, a, 0);
      const repl = arg(mk, a, 1);
      const text = arg(mk, a, 2);
      patsubstWords(mk, pat, repl, text, out);
      pat.free();
      repl.free();
      text.free();
    },
  },
  strip: {
    max: 1,
    run(mk, a, out) {
      const t = arg(mk, a, 0);
      eachWord(mk, t.ptr, t.len, wordOut(out, out.len));
      t.free();
    },
  },
  findstring: {
    max: 2,
    run(mk, a, out) {
      const find = arg(mk, a, 0);
      const text = arg(mk, a, 1);
      for (let i = 0; i + find.len <= text.len; i++) {
        if (ueq(mk.libc, text.ptr + i, find.len, find.ptr, find.len)) {
          out.put(find.ptr, find.len);
          break;
        }
      }
      find.free();
      text.free();
    },
  },
  filter: { max: 2, run: (mk, a, out) => filter(mk, a, out, true) },
  "filter-out": { max: 2, run: (mk, a, out) => filter(mk, a, out, false) },
  sort: {
    max: 1,
    run(mk, a, out) {
      const t = arg(mk, a, 0);
      const ws = new UVec(mk.libc);
      const wl = new UVec(mk.libc);
      eachWord(mk, t.ptr, t.len, (w, l) => {
        // Insertion sort on (pointer, length) pairs kept in user memory.
        let i = ws.len;
        ws.push(0);
        wl.push(0);
        while (i > 0 && ucmp(mk.libc, ws.get(i - 1), wl.get(i - 1), w, l) > 0) {
          ws.set(i, ws.get(i - 1));
          wl.set(i, wl.get(i - 1));
          i--;
        }
        ws.set(i, w);
        wl.set(i, l);
      });
      const start = out.len;
      for (let i = 0; i < ws.len; i++) {
        if (i > 0 && ueq(mk.libc, ws.get(i - 1), wl.get(i - 1), ws.get(i), wl.get(i))) continue;
        if (out.len > start) out.putByte(SPACE);
        out.put(ws.get(i), wl.get(i));
      }
      ws.free();
      wl.free();
      t.free();
    },
  },
  words: {
    max: 1,
    run(mk, a, out) {
      const t = arg(mk, a, 0);
      let n = 0;
      eachWord(mk, t.ptr, t.len, () => n++);
      out.putNum(n);
      t.free();
    },
  },
  word: {
    max: 2,
    run(mk, a, out) {
      const nb = arg(mk, a, 0);
      const want = Number(nb.toString().trim());
      if (!(want >= 1)) throw new MakeFatal(`*** first argument to 'word' function must be greater than 0.  Stop.`);
      const t = arg(mk, a, 1);
      let n = 0;
      eachWord(mk, t.ptr, t.len, (w, l) => {
        if (++n === want) out.put(w, l);
      });
      nb.free();
      t.free();
    },
  },
  firstword: {
    max: 1,
    run(mk, a, out) {
      const t = arg(mk, a, 0);
      let done = false;
      eachWord(mk, t.ptr, t.len, (w, l) => {
        if (!done) out.put(w, l);
        done = true;
      });
      t.free();
    },
  },
  lastword: {
    max: 1,
    run(mk, a, out) {
      const t = arg(mk, a, 0);
      let lw = 0;
      let ll = 0;
      eachWord(mk, t.ptr, t.len, (w, l) => {
        lw = w;
        ll = l;
      });
      out.put(lw, ll);
      t.free();
    },
  },
  dir: { max: 1, run: (mk, a, out) => pathPart(mk, a, out, "dir") },
  notdir: { max: 1, run: (mk, a, out) => pathPart(mk, a, out, "notdir") },
  suffix: { max: 1, run: (mk, a, out) => pathPart(mk, a, out, "suffix") },
  basename: { max: 1, run: (mk, a, out) => pathPart(mk, a, out, "basename") },
  addprefix: { max: 2, run: (mk, a, out) => affix(mk, a, out, true) },
  addsuffix: { max: 2, run: (mk, a, out) => affix(mk, a, out, false) },
  wildcard: {
    max: 1,
    run(mk, a, out) {
      const t = arg(mk, a, 0);
      const start = out.len;
      eachWord(mk, t.ptr, t.len, (w, l) => wildcard(mk, w, l, out, start));
      t.free();
    },
  },
  if: {
    max: 3,
    run(mk, a, out) {
      const c = arg(mk, a, 0);
      let nonblank = false;
      eachWord(mk, c.ptr, c.len, () => (nonblank = true));
      c.free();
      const pick = nonblank ? 1 : 2;
      if (pick < a.p.length) expand(mk, a.p[pick], a.n[pick], out);
    },
  },
  foreach: {
    max: 3,
    run(mk, a, out) {
      const name = arg(mk, a, 0);
      const list = arg(mk, a, 1);
      const start = out.len;
      const m = mk.mem;
      const old = mk.lookupVar(name.ptr, name.len);
      let saved = 0;
      let savedLen = 0;
      let savedFlags = 0;
      if (old !== 0) {
        savedLen = m.readU32(old + V_VALUELEN);
        saved = mk.malloc(savedLen + 1);
        m.memcpy(saved, m.readU32(old + V_VALUE), savedLen);
        savedFlags = m.readU32(old + V_FLAGS);
      }
      eachWord(mk, list.ptr, list.len, (w, l) => {
        mk.defineVar(name.ptr, name.len, w, l, O_AUTOMATIC, true);
        if (out.len > start) out.putByte(SPACE);
        const mark = out.len;
        expand(mk, a.p[2] ?? 0, a.n[2] ?? 0, out);
        if (out.len === mark && mark > start) out.truncate(mark - 1);
      });
      if (old !== 0) {
        const v = mk.defineVar(name.ptr, name.len, saved, savedLen, O_AUTOMATIC, true);
        m.write32(v + V_FLAGS, savedFlags);
        mk.libc.free(saved);
      }
      name.free();
      list.free();
    },
  },
  info: { max: 1, run: (mk, a) => report(mk, a, "info") },
  warning: { max: 1, run: (mk, a) => report(mk, a, "warning") },
  error: { max: 1, run: (mk, a) => report(mk, a, "error") },
};

function report(mk: Make, a: Args, kind: string): void {
  const t = arg(mk, a, 0);
  const text = t.toString();
  t.free();
  if (kind === "info") mk.libc.printf("%s\n", text);
  else if (kind === "warning") {
    mk.libc.fflush();
    mk.libc.eprintf("%s: %s\n", mk.makefileName, text);
  } else throw new MakeFatal(`*** ${text}.  Stop.`);
}

function filter(mk: Make, a: Args, out: UBuf, keep: boolean): void {
  const pats = arg(mk, a, 0);
  const text = arg(mk, a, 1);
  const start = out.len;
  eachWord(mk, text.ptr, text.len, (w, l) => {
    let hit = false;
    eachWord(mk, pats.ptr, pats.len, (pw, pl) => {
      if (!hit && patMatch(mk, pw, pl, percentAt(mk, pw, pl), w, l) >= 0) hit = true;
    });
    if (hit === keep) wordOut(out, start)(w, l);
  });
  pats.free();
  text.free();
}

function pathPart(mk: Make, a: Args, out: UBuf, what: "dir" | "notdir" | "suffix" | "basename"): void {
  const t = arg(mk, a, 0);
  const m = mk.mem;
  const start = out.len;
  eachWord(mk, t.ptr, t.len, (w, l) => {
    let slash = -1;
    let dot = -1;
    for (let k = l - 1; k >= 0; k--) {
      const c = m.read8(w + k);
      if (c === SLASH) {
        slash = k;
        break;
      }
      if (c === DOT && dot < 0) dot = k;
    }
    if (what === "suffix" && dot < 0) return;
    if (out.len > start) out.putByte(SPACE);
    if (what === "dir") {
      if (slash < 0) out.putStr("./");
      else out.put(w, slash + 1);
    } else if (what === "notdir") out.put(w + slash + 1, l - slash - 1);
    else if (what === "suffix") out.put(w + dot, l - dot);
    else out.put(w, dot < 0 ? l : dot);
  });
  t.free();
}

function affix(mk: Make, a: Args, out: UBuf, prefix: boolean): void {
  const fix = arg(mk, a, 0);
  const t = arg(mk, a, 1);
  const start = out.len;
  eachWord(mk, t.ptr, t.len, (w, l) => {
    if (out.len > start) out.putByte(SPACE);
    if (prefix) out.put(fix.ptr, fix.len);
    out.put(w, l);
    if (!prefix) out.put(fix.ptr, fix.len);
  });
  fix.free();
  t.free();
}

/** Glob one word: '*' and '?' in its last component; sorted names of existing files. */
function wildcard(mk: Make, w: number, l: number, out: UBuf, start: number): void {
  const m = mk.mem;
  let slash = -1;
  let magic = false;
  for (let k = 0; k < l; k++) {
    const c = m.read8(w + k);
    if (c === SLASH) slash = k;
    if (c === 0x2a || c === 0x3f) magic = true;
  }
  const word = ujs(mk.libc, w, l);
  if (!magic) {
    if (mk.libc.stat(word) !== null) wordOut(out, start)(w, l);
    return;
  }
  const dir = slash < 0 ? "." : slash === 0 ? "/" : word.slice(0, slash);
  const names = mk.libc.readdir(dir);
  if (names === null) return;
  names.sort();
  const pat = word.slice(slash + 1);
  for (const name of names) {
    if (name.startsWith(".") && !pat.startsWith(".")) continue;
    if (!globMatch(pat, 0, name, 0)) continue;
    if (out.len > start) out.putByte(SPACE);
    out.putStr(slash < 0 ? name : word.slice(0, slash + 1) + name);
  }
}

function globMatch(p: string, pi: number, s: string, si: number): boolean {
  while (pi < p.length) {
    const c = p[pi];
    if (c === "*") {
      for (let k = si; k <= s.length; k++) if (globMatch(p, pi + 1, s, k)) return true;
      return false;
    }
    if (si >= s.length || (c !== "?" && c !== s[si])) return false;
    pi++;
    si++;
  }
  return si === s.length;
}

/** Is a variable defined (for ifdef: defined with a non-empty value)? */
export function varNonEmpty(mk: Make, p: number, n: number): boolean {
  const v = mk.lookupVar(p, n);
  return v !== 0 && mk.mem.readU32(v + V_VALUELEN) > 0;
}
