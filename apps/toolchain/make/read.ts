// Reading a makefile (GNU make's read.c): logical lines with backslash
// continuations, comments, variable assignments (= := ::= ?= += with
// override/export), rules (explicit and pattern, `;` recipes, order-only
// prerequisites after `|`), recipe lines (a TAB after a rule line), the
// conditionals ifdef/ifndef/ifeq/ifneq/else/endif, and include. The file is
// read into user memory and every structure it produces is malloc'd there.

import {
  C_FILE, C_LINENO, C_LINES, C_NLINES, CMDLINE_SIZE, CMDS_SIZE, DEP_ORDER_ONLY, F_CMDS, F_LINENO, FF_MENTIONED,
  FF_PHONY, FF_TARGET, type Make, MakeFatal, O_FILE, O_OVERRIDE, R_CMDS, R_DEPS, R_FLAGS, R_NDEPS,
  R_NEXT, R_TARGET, R_TARGETLEN, RULE_SIZE, V_FLAGS, VAR_EXPORT, VAR_SIMPLE,
} from "./state.ts";
import { eachWord, expandNew, percentAt, varNonEmpty } from "./expand.ts";
import { UBuf, UVec, isSpace, readWhole, udup, udupStr, ueqStr, ujs } from "./ustr.ts";

const TAB = 0x09;
const NL = 0x0a;
const BACKSLASH = 0x5c;
const HASH = 0x23;
const SPACE = 0x20;

/** The rule whose recipe lines are being collected. */
interface Pending {
  targets: UBuf;
  prereqs: UBuf;
  lines: UVec; // struct cmdline * each
  lineno: number;
}

/** Conditional nesting, as bit masks (bit k: level k). */
interface Conds {
  depth: number;
  ignoring: number;
  taken: number;
}

/**
 * Read and evaluate the makefile at path. `builtin` marks make's own rules
 * (no default goal from them). Returns false if the file cannot be read.
 */
export function readMakefile(mk: Make, path: string, builtin = false, text?: string): boolean {
  const libc = mk.libc;
  let src: { ptr: number; len: number } | null;
  if (text !== undefined) {
    const p = udupStr(libc, text);
    src = { ptr: p, len: text.length };
  } else src = readWhole(libc, path);
  if (src === null) return false;
  const prev = libc.enter(mk.sym.read);
  const fileName = udupStr(libc, path);
  const m = mk.mem;
  const line = new UBuf(libc, 256);
  let pending: Pending | null = null;
  const conds: Conds = { depth: 0, ignoring: 0, taken: 0 };
  let pos = 0;
  let lineno = 1;
  const end = src.len;
  const base = src.ptr;
  try {
    while (pos < end) {
      const startLine = lineno;
      const recipe = pending !== null && m.read8(base + pos) === TAB;
      line.clear();
      // One logical line.
      for (;;) {
        let e = pos;
        while (e < end && m.read8(base + e) !== NL) e++;
        libc.work(2 * (e - pos) + 4);
        let nbs = 0;
        while (e - nbs - 1 >= pos && m.read8(base + e - nbs - 1) === BACKSLASH) nbs++;
        lineno++;
        if (nbs % 2 === 1 && e < end) {
          if (recipe) {
            line.put(base + pos, e - pos);
            line.putByte(NL);
            pos = e + 1;
            if (pos < end && m.read8(base + pos) === TAB) pos++;
          } else {
            line.put(base + pos, e - pos - 1);
            while (line.len > 0 && isSpace(line.byteAt(line.len - 1))) line.truncate(line.len - 1);
            line.putByte(SPACE);
            pos = e + 1;
            while (pos < end && (m.read8(base + pos) === SPACE || m.read8(base + pos) === TAB)) pos++;
          }
          continue;
        }
        line.put(base + pos, e - pos);
        pos = e + 1;
        break;
      }
      if (recipe) {
        if (conds.ignoring !== 0) continue;
        // The recipe text after its TAB, kept as written (the shell sees it).
        const cl = mk.malloc(CMDLINE_SIZE);
        m.write32(cl, udup(libc, line.ptr + 1, line.len - 1));
        m.write32(cl + 4, line.len - 1);
        m.write32(cl + 8, startLine);
        pending!.lines.push(cl);
        continue;
      }
      stripComment(mk, line);
      // Leading blanks; an empty line keeps the rule context.
      let s = 0;
      while (s < line.len && isSpace(line.byteAt(s))) s++;
      if (s === line.len) continue;
      const lp = line.ptr + s;
      const ln = line.len - s;
      if (conditional(mk, lp, ln, conds, path, startLine)) continue;
      if (conds.ignoring !== 0) continue;
      // Anything else ends the recipe being collected.
      if (pending !== null) {
        recordRule(mk, pending, fileName, path, builtin);
        pending = null;
      }
      pending = statement(mk, lp, ln, path, startLine);
    }
    if (pending !== null) recordRule(mk, pending, fileName, path, builtin);
    if (conds.depth > 0) throw new MakeFatal(`${path}:${lineno - 1}: *** missing 'endif'.  Stop.`);
  } finally {
    line.free();
    libc.free(src.ptr);
    libc.leave(prev);
  }
  return true;
}

/** Remove a comment (an unescaped '#'); "\#" becomes '#'. */
function stripComment(mk: Make, line: UBuf): void {
  const m = mk.mem;
  let w = 0;
  for (let r = 0; r < line.len; r++) {
    const c = m.read8(line.ptr + r);
    if (c === BACKSLASH && r + 1 < line.len && m.read8(line.ptr + r + 1) === HASH) {
      m.write8(line.ptr + w++, HASH);
      r++;
      continue;
    }
    if (c === HASH) break;
    if (w !== r) m.write8(line.ptr + w, c);
    w++;
  }
  line.truncate(w);
}

/** The first word of (p, n) equals kw and ends at a blank, '(' , a quote or the end. */
function keyword(mk: Make, p: number, n: number, kw: string): boolean {
  if (n < kw.length || !ueqStr(mk.libc, p, kw.length, kw)) return false;
  if (n === kw.length) return true;
  const c = mk.mem.read8(p + kw.length);
  return isSpace(c) || c === 0x28 || c === 0x22 || c === 0x27;
}

function skipBlanks(mk: Make, p: number, n: number, from: number): number {
  while (from < n && isSpace(mk.mem.read8(p + from))) from++;
  return from;
}

/** ifdef/ifndef/ifeq/ifneq/else/endif; true if the line was one. */
function conditional(mk: Make, p: number, n: number, c: Conds, path: string, lineno: number): boolean {
  const bit = (k: number) => 1 << k;
  if (keyword(mk, p, n, "endif")) {
    if (c.depth === 0) throw new MakeFatal(`${path}:${lineno}: *** extraneous 'endif'.  Stop.`);
    c.depth--;
    c.ignoring &= ~bit(c.depth);
    c.taken &= ~bit(c.depth);
    return true;
  }
  if (keyword(mk, p, n, "else")) {
    if (c.depth === 0) throw new MakeFatal(`${path}:${lineno}: *** extraneous 'else'.  Stop.`);
    const lvl = c.depth - 1;
    const rest = skipBlanks(mk, p, n, 4);
    const outer = c.ignoring & (bit(lvl) - 1);
    if (c.taken & bit(lvl) || outer) {
      c.ignoring |= bit(lvl);
      return true;
    }
    if (rest >= n) {
      c.ignoring &= ~bit(lvl);
      c.taken |= bit(lvl);
      return true;
    }
    const r = evalCondition(mk, p + rest, n - rest, path, lineno);
    if (r === null) throw new MakeFatal(`${path}:${lineno}: *** extraneous text after 'else' directive.  Stop.`);
    if (r) {
      c.ignoring &= ~bit(lvl);
      c.taken |= bit(lvl);
    } else c.ignoring |= bit(lvl);
    return true;
  }
  for (const kw of ["ifdef", "ifndef", "ifeq", "ifneq"]) {
    if (!keyword(mk, p, n, kw)) continue;
    if (c.depth >= 30) throw new MakeFatal(`${path}:${lineno}: *** conditionals nested too deeply.  Stop.`);
    const lvl = c.depth++;
    if (c.ignoring !== 0) {
      // Inside a false branch: only the nesting counts.
      c.ignoring |= bit(lvl);
      c.taken |= bit(lvl);
      return true;
    }
    const r = evalCondition(mk, p, n, path, lineno)!;
    if (r) {
      c.taken |= bit(lvl);
      c.ignoring &= ~bit(lvl);
    } else {
      c.taken &= ~bit(lvl);
      c.ignoring |= bit(lvl);
    }
    return true;
  }
  return false;
}

/** The value of "ifdef X", "ifeq (a,b)" ...; null if (p, n) is not a conditional. */
function evalCondition(mk: Make, p: number, n: number, path: string, lineno: number): boolean | null {
  const m = mk.mem;
  let kw = "";
  for (const k of ["ifdef", "ifndef", "ifeq", "ifneq"]) if (keyword(mk, p, n, k)) kw = k;
  if (kw === "") return null;
  let a = skipBlanks(mk, p, n, kw.length);
  if (kw === "ifdef" || kw === "ifndef") {
    let e = n;
    while (e > a && isSpace(m.read8(p + e - 1))) e--;
    const name = expandNew(mk, p + a, e - a);
    let s = 0;
    while (s < name.len && isSpace(name.byteAt(s))) s++;
    let t = name.len;
    while (t > s && isSpace(name.byteAt(t - 1))) t--;
    const def = varNonEmpty(mk, name.ptr + s, t - s);
    name.free();
    return kw === "ifdef" ? def : !def;
  }
  // ifeq (A,B) | ifeq "A" "B" | ifeq 'A' 'B'
  let a1: number, n1: number, a2: number, n2: number;
  const open = m.read8(p + a);
  if (open === 0x28) {
    let depth = 0;
    let comma = -1;
    let close = -1;
    for (let k = a + 1; k < n; k++) {
      const c = m.read8(p + k);
      if (c === 0x28) depth++;
      else if (c === 0x29) {
        if (depth === 0) {
          close = k;
          break;
        }
        depth--;
      } else if (c === 0x2c && depth === 0 && comma < 0) comma = k;
    }
    if (comma < 0 || close < 0) throw new MakeFatal(`${path}:${lineno}: *** invalid syntax in conditional.  Stop.`);
    a1 = a + 1;
    n1 = comma - a1;
    a2 = comma + 1;
    n2 = close - a2;
  } else if (open === 0x22 || open === 0x27) {
    const e1 = findByte(mk, p, n, a + 1, open);
    const b = skipBlanks(mk, p, n, e1 + 1);
    const q2 = m.read8(p + b);
    const e2 = q2 === 0x22 || q2 === 0x27 ? findByte(mk, p, n, b + 1, q2) : -1;
    if (e1 < 0 || e2 < 0) throw new MakeFatal(`${path}:${lineno}: *** invalid syntax in conditional.  Stop.`);
    a1 = a + 1;
    n1 = e1 - a1;
    a2 = b + 1;
    n2 = e2 - a2;
  } else throw new MakeFatal(`${path}:${lineno}: *** invalid syntax in conditional.  Stop.`);
  const x = expandNew(mk, p + a1, n1);
  const y = expandNew(mk, p + a2, n2);
  const trim = (b: UBuf): [number, number] => {
    let s = 0;
    while (s < b.len && isSpace(b.byteAt(s))) s++;
    let t = b.len;
    while (t > s && isSpace(b.byteAt(t - 1))) t--;
    return [b.ptr + s, t - s];
  };
  const [xp, xn] = open === 0x28 ? trim(x) : [x.ptr, x.len];
  const [yp, yn] = open === 0x28 ? trim(y) : [y.ptr, y.len];
  let eq = xn === yn;
  for (let k = 0; eq && k < xn; k++) if (m.read8(xp + k) !== m.read8(yp + k)) eq = false;
  x.free();
  y.free();
  return kw === "ifeq" ? eq : !eq;
}

function findByte(mk: Make, p: number, n: number, from: number, c: number): number {
  for (let k = from; k < n; k++) if (mk.mem.read8(p + k) === c) return k;
  return -1;
}

/** An assignment, include, export, or a rule line (which starts collecting a recipe). */
function statement(mk: Make, p: number, n: number, path: string, lineno: number): Pending | null {
  const m = mk.mem;
  if (keyword(mk, p, n, "include") || keyword(mk, p, n, "-include") || keyword(mk, p, n, "sinclude")) {
    // include, -include and sinclude (the last two: missing files are fine).
    const quiet = m.read8(p) !== 0x69;
    const kwlen = quiet ? 8 : 7;
    const names = expandNew(mk, p + kwlen, n - kwlen);
    eachWord(mk, names.ptr, names.len, (w, l) => {
      const file = ujs(mk.libc, w, l);
      if (!readMakefile(mk, file) && !quiet) {
        throw new MakeFatal(`${path}:${lineno}: ${file}: No such file or directory`);
      }
    });
    names.free();
    return null;
  }
  if (keyword(mk, p, n, "define") || keyword(mk, p, n, "endef")) {
    throw new MakeFatal(`${path}:${lineno}: *** 'define' is not supported by this make.  Stop.`);
  }
  if (keyword(mk, p, n, "vpath")) return null;
  let origin = O_FILE;
  let exported = false;
  for (;;) {
    if (keyword(mk, p, n, "override")) {
      origin = O_OVERRIDE;
      const s = skipBlanks(mk, p, n, 8);
      p += s;
      n -= s;
    } else if (keyword(mk, p, n, "export")) {
      exported = true;
      const s = skipBlanks(mk, p, n, 6);
      p += s;
      n -= s;
    } else if (keyword(mk, p, n, "unexport")) return null;
    else break;
  }
  // Assignment or rule: the first '=' or ':' outside references decides.
  let depth = 0;
  for (let i = 0; i < n; i++) {
    const c = m.read8(p + i);
    if (c === 0x28 || c === 0x7b) depth++;
    else if (c === 0x29 || c === 0x7d) depth--;
    else if (depth > 0) continue;
    else if (c === 0x3d) {
      const b = i > 0 ? m.read8(p + i - 1) : 0;
      const op = b === 0x2b ? "+=" : b === 0x3f ? "?=" : b === 0x21 ? "!=" : "=";
      assign(mk, p, p + (op === "=" ? i : i - 1), p + i + 1, n - i - 1, op, origin, exported, path, lineno);
      return null;
    } else if (c === 0x3a) {
      if (i + 1 < n && m.read8(p + i + 1) === 0x3d) {
        assign(mk, p, p + i, p + i + 2, n - i - 2, ":=", origin, exported, path, lineno);
        return null;
      }
      if (i + 2 < n && m.read8(p + i + 1) === 0x3a && m.read8(p + i + 2) === 0x3d) {
        assign(mk, p, p + i, p + i + 3, n - i - 3, ":=", origin, exported, path, lineno);
        return null;
      }
      return ruleLine(mk, p, n, i, path, lineno);
    }
  }
  if (exported) {
    // export NAME...: mark them for the recipes' environment.
    const names = expandNew(mk, p, n);
    eachWord(mk, names.ptr, names.len, (w, l) => {
      let v = mk.lookupVar(w, l);
      if (v === 0) v = mk.defineVar(w, l, w, 0, O_FILE, false);
      m.write32(v + V_FLAGS, m.readU32(v + V_FLAGS) | VAR_EXPORT);
    });
    names.free();
    return null;
  }
  throw new MakeFatal(`${path}:${lineno}: *** missing separator.  Stop.`);
}

function assign(
  mk: Make, name: number, nameEnd: number, value: number, vlen: number, op: string, origin: number, exported: boolean,
  path: string, lineno: number,
): void {
  const m = mk.mem;
  // The name: trimmed and expanded.
  let e = nameEnd - name;
  while (e > 0 && isSpace(m.read8(name + e - 1))) e--;
  const nm = expandNew(mk, name, e);
  let s = 0;
  while (s < nm.len && isSpace(nm.byteAt(s))) s++;
  let t = nm.len;
  while (t > s && isSpace(nm.byteAt(t - 1))) t--;
  if (t === s) {
    nm.free();
    throw new MakeFatal(`${path}:${lineno}: *** empty variable name.  Stop.`);
  }
  const np = nm.ptr + s;
  const nl = t - s;
  // The value: leading blanks dropped (trailing ones kept, as GNU make does).
  while (vlen > 0 && isSpace(m.read8(value))) {
    value++;
    vlen--;
  }
  let v = 0;
  switch (op) {
    case "=":
      v = mk.defineVar(np, nl, value, vlen, origin, false);
      break;
    case ":=": {
      const x = expandNew(mk, value, vlen);
      v = mk.defineVar(np, nl, x.ptr, x.len, origin, true);
      x.free();
      break;
    }
    case "?=":
      v = mk.lookupVar(np, nl);
      if (v === 0) v = mk.defineVar(np, nl, value, vlen, origin, false);
      break;
    case "+=": {
      v = mk.lookupVar(np, nl);
      if (v === 0) v = mk.defineVar(np, nl, value, vlen, origin, false);
      else {
        const o = m.readU32(v + V_FLAGS) >>> 8;
        if (o === 3 /* command line */ && origin !== O_OVERRIDE) break;
        if (m.readU32(v + V_FLAGS) & VAR_SIMPLE) {
          const x = expandNew(mk, value, vlen);
          mk.appendVar(v, x.ptr, x.len);
          x.free();
        } else mk.appendVar(v, value, vlen);
        if (o === 1 /* environment */) m.write32(v + V_FLAGS, (m.readU32(v + V_FLAGS) & 0xff) | (O_FILE << 8));
      }
      break;
    }
    default:
      nm.free();
      throw new MakeFatal(`${path}:${lineno}: *** '!=' (shell assignment) is not supported by this make.  Stop.`);
  }
  if (exported && v !== 0) m.write32(v + V_FLAGS, m.readU32(v + V_FLAGS) | VAR_EXPORT);
  nm.free();
}

/** targets : prerequisites [; recipe] — expanded now; the recipe is collected until the rule ends. */
function ruleLine(mk: Make, p: number, n: number, colon: number, _path: string, lineno: number): Pending {
  const m = mk.mem;
  const targets = expandNew(mk, p, colon);
  let r = colon + 1;
  if (r < n && m.read8(p + r) === 0x3a) r++; // double-colon rules are read as ordinary ones
  let semi = -1;
  let depth = 0;
  for (let k = r; k < n; k++) {
    const c = m.read8(p + k);
    if (c === 0x28 || c === 0x7b) depth++;
    else if (c === 0x29 || c === 0x7d) depth--;
    else if (c === 0x3b && depth === 0) {
      semi = k;
      break;
    }
  }
  const prereqs = expandNew(mk, p + r, (semi < 0 ? n : semi) - r);
  const pending: Pending = { targets, prereqs, lines: new UVec(mk.libc), lineno };
  if (semi >= 0) {
    let s = semi + 1;
    while (s < n && isSpace(m.read8(p + s))) s++;
    const cl = mk.malloc(CMDLINE_SIZE);
    m.write32(cl, udup(mk.libc, p + s, n - s));
    m.write32(cl + 4, n - s);
    m.write32(cl + 8, lineno);
    pending.lines.push(cl);
  }
  return pending;
}

const SPECIAL = [".PHONY", ".SUFFIXES", ".DEFAULT", ".PRECIOUS", ".INTERMEDIATE", ".SECONDARY", ".DELETE_ON_ERROR",
  ".SILENT", ".IGNORE", ".NOTPARALLEL", ".ONESHELL", ".POSIX", ".EXPORT_ALL_VARIABLES", ".LOW_RESOLUTION_TIME",
  ".SECONDEXPANSION", ".NOTINTERMEDIATE", ".KEEP_STATE"];

/** The rule is complete: enter its targets, prerequisites and recipe. */
function recordRule(mk: Make, r: Pending, fileName: number, path: string, builtin: boolean): void {
  const m = mk.mem;
  const libc = mk.libc;
  let cmds = 0;
  if (r.lines.len > 0) {
    cmds = mk.malloc(CMDS_SIZE);
    const lines = mk.malloc(r.lines.len * CMDLINE_SIZE);
    for (let i = 0; i < r.lines.len; i++) {
      m.memcpy(lines + i * CMDLINE_SIZE, r.lines.get(i), CMDLINE_SIZE);
      libc.free(r.lines.get(i));
    }
    m.write32(cmds + C_NLINES, r.lines.len);
    m.write32(cmds + C_LINES, lines);
    m.write32(cmds + C_LINENO, r.lineno);
    m.write32(cmds + C_FILE, fileName);
  }
  let pattern = 0;
  let normal = 0;
  eachWord(mk, r.targets.ptr, r.targets.len, (w, l) => {
    if (percentAt(mk, w, l) >= 0) pattern++;
    else normal++;
  });
  if (pattern > 0 && normal > 0) throw new MakeFatal(`${path}:${r.lineno}: *** mixed implicit and normal rules.  Stop.`);
  if (pattern > 0) {
    eachWord(mk, r.targets.ptr, r.targets.len, (w, l) => addPatternRule(mk, w, l, r.prereqs, cmds, builtin));
  } else {
    eachWord(mk, r.targets.ptr, r.targets.len, (w, l) => {
      const f = mk.enterFile(w, l);
      const name = ujs(libc, w, l);
      if (SPECIAL.includes(name)) {
        if (name === ".PHONY") {
          eachWord(mk, r.prereqs.ptr, r.prereqs.len, (pw, pl) => mk.setFlags(mk.enterFile(pw, pl), FF_PHONY | FF_MENTIONED));
        } else if (name === ".SILENT" && r.prereqs.len === 0) mk.opts.silent = true;
        return;
      }
      mk.setFlags(f, FF_TARGET | FF_MENTIONED);
      let orderOnly = false;
      eachWord(mk, r.prereqs.ptr, r.prereqs.len, (pw, pl) => {
        if (pl === 1 && m.read8(pw) === 0x7c) {
          orderOnly = true;
          return;
        }
        const d = mk.enterFile(pw, pl);
        mk.setFlags(d, FF_MENTIONED);
        mk.addDep(f, d, orderOnly ? DEP_ORDER_ONLY : 0);
      });
      if (cmds !== 0) {
        const old = m.readU32(f + F_CMDS);
        if (old !== 0 && old !== cmds) {
          libc.fflush();
          libc.eprintf("%s:%d: warning: overriding recipe for target '%s'\n", path, r.lineno, name);
          libc.eprintf("%s:%d: warning: ignoring old recipe for target '%s'\n", ujs(libc, m.readU32(old + C_FILE), ulenOf(mk, m.readU32(old + C_FILE))), m.readU32(old + C_LINENO), name);
        }
        m.write32(f + F_CMDS, cmds);
        m.write32(f + F_LINENO, r.lineno);
      }
      if (mk.defaultGoal === 0 && !builtin && (m.read8(w) !== 0x2e || findByte(mk, w, l, 0, 0x2f) >= 0)) mk.defaultGoal = f;
    });
  }
  r.targets.free();
  r.prereqs.free();
  r.lines.free();
}

function ulenOf(mk: Make, p: number): number {
  let n = 0;
  while (mk.mem.read8(p + n) !== 0) n++;
  return n;
}

/** A pattern rule: its target pattern, prerequisite patterns and recipe (none cancels the rule). */
function addPatternRule(mk: Make, w: number, l: number, prereqs: UBuf, cmds: number, builtin: boolean): void {
  const m = mk.mem;
  const libc = mk.libc;
  const deps = new UVec(libc);
  eachWord(mk, prereqs.ptr, prereqs.len, (pw, pl) => {
    if (pl === 1 && m.read8(pw) === 0x7c) return; // order-only patterns: not kept
    deps.push(udup(libc, pw, pl));
    deps.push(pl);
  });
  if (cmds === 0) {
    // Cancel rules with this target and these prerequisites.
    let prev = 0;
    for (let x = mk.rules; x !== 0; x = m.readU32(x + R_NEXT)) {
      if (sameRule(mk, x, w, l, deps)) {
        const next = m.readU32(x + R_NEXT);
        if (prev === 0) mk.rules = next;
        else m.write32(prev + R_NEXT, next);
        if (mk.rulesTail === x) mk.rulesTail = prev;
      } else prev = x;
    }
    deps.free();
    return;
  }
  const r = mk.calloc(RULE_SIZE);
  m.write32(r + R_TARGET, udup(libc, w, l));
  m.write32(r + R_TARGETLEN, l);
  const nd = deps.len / 2;
  const arr = mk.malloc(Math.max(1, nd) * 8);
  for (let i = 0; i < deps.len; i++) m.write32(arr + 4 * i, deps.get(i));
  m.write32(r + R_DEPS, arr);
  m.write32(r + R_NDEPS, nd);
  m.write32(r + R_CMDS, cmds);
  m.write32(r + R_FLAGS, builtin ? 1 : 0);
  deps.free();
  // A rule with the same target and prerequisites replaces the old one in
  // place; make's built-in rules (read last) never replace the makefile's.
  for (let x = mk.rules; x !== 0; x = m.readU32(x + R_NEXT)) {
    if (sameRule(mk, x, m.readU32(r + R_TARGET), l, null, r)) {
      if (!builtin) {
        m.write32(x + R_CMDS, cmds);
        m.write32(x + R_FLAGS, 0);
      }
      return;
    }
  }
  if (mk.rulesTail === 0) mk.rules = r;
  else m.write32(mk.rulesTail + R_NEXT, r);
  mk.rulesTail = r;
}

function sameRule(mk: Make, x: number, w: number, l: number, deps: UVec | null, other = 0): boolean {
  const m = mk.mem;
  const tl = m.readU32(x + R_TARGETLEN);
  if (tl !== l) return false;
  const tp = m.readU32(x + R_TARGET);
  for (let i = 0; i < l; i++) if (m.read8(tp + i) !== m.read8(w + i)) return false;
  const nd = m.readU32(x + R_NDEPS);
  const arr = m.readU32(x + R_DEPS);
  const ond = deps !== null ? deps.len / 2 : m.readU32(other + R_NDEPS);
  if (nd !== ond) return false;
  for (let i = 0; i < nd; i++) {
    const ap = m.readU32(arr + 8 * i);
    const al = m.readU32(arr + 8 * i + 4);
    const bp = deps !== null ? deps.get(2 * i) : m.readU32(m.readU32(other + R_DEPS) + 8 * i);
    const bl = deps !== null ? deps.get(2 * i + 1) : m.readU32(m.readU32(other + R_DEPS) + 8 * i + 4);
    if (al !== bl) return false;
    for (let k = 0; k < al; k++) if (m.read8(ap + k) !== m.read8(bp + k)) return false;
  }
  return true;
}

/** A command-line or environment assignment NAME=VALUE (recursive, as GNU make imports them). */
export function defineFromString(mk: Make, s: string, origin: number): boolean {
  const eq = s.indexOf("=");
  if (eq <= 0) return false;
  let name = s.slice(0, eq);
  let simple = false;
  if (name.endsWith(":")) {
    name = name.slice(0, -1);
    simple = true;
    if (name.endsWith(":")) name = name.slice(0, -1);
  }
  if (!/^[A-Za-z_.][A-Za-z0-9_.-]*$/.test(name)) return false;
  const np = udupStr(mk.libc, name);
  const vp = udupStr(mk.libc, s.slice(eq + 1));
  if (simple) {
    const x = expandNew(mk, vp, s.length - eq - 1);
    mk.defineVar(np, name.length, x.ptr, x.len, origin, true);
    x.free();
  } else mk.defineVar(np, name.length, vp, s.length - eq - 1, origin, false);
  mk.libc.free(np);
  mk.libc.free(vp);
  return true;
}
