// The generated C, as a tree the generator can both print and run. Printing
// gives the source cc1 compiles; running (with C's 32-bit semantics) gives
// the checksum the compiled program must print. The tree only holds
// constructs whose meaning is the same on every conforming ILP32 or LP64
// compiler: arithmetic is done in unsigned 32-bit (int operands are cast),
// int values are small and never negative, shift counts are 0..31, divisors
// are never zero, array indices are masked to the array's size, every
// object is written before it is read, and calls with side effects only
// happen at statement level (no unspecified evaluation order).

// ---- types -------------------------------------------------------------------------------

/** The C type of an expression's value: unsigned 32-bit or (small, non-negative) int. */
export type Ty = "u32" | "int";

/** A scalar element type in memory. */
export type Elt = "u32" | "u16" | "u8";

export interface StructDef {
  name: string;
  fields: Field[];
}

export type Field =
  | { name: string; k: "scalar"; elt: Elt }
  | { name: string; k: "array"; elt: Elt; len: number }
  | { name: string; k: "struct"; def: StructDef };

/** A macro the headers define: its C text and its meaning. */
export interface MacroDef {
  name: string;
  params: string[];
  body: string;
  /** Arguments: "u32" values, or "shift" (an int literal 1..31), "bit" (0..31), "pow2" (u32 power of two). */
  argKinds: ("u32" | "shift" | "bit" | "pow2")[];
  eval: (args: number[]) => number;
}

export type Expr =
  | { k: "num"; v: number; hex: boolean } // unsigned literal: 123u / 0x7bu
  | { k: "int"; v: number } // small int literal
  | { k: "var"; name: string; ty: Ty } // local or parameter
  | { k: "glob"; name: string } // global u32
  | { k: "garr"; name: string; len: number; idx: Expr } // global u32 array element
  | { k: "larr"; name: string; len: number; elt: Elt; idx: Expr } // local or pointer-parameter array element
  | { k: "fld"; base: string; arrow: boolean; path: string[]; elt: Elt; len: number; idx: Expr | null } // s->a.b[i]
  | { k: "bin"; op: string; a: Expr; b: Expr }
  | { k: "un"; op: "-" | "~" | "!"; a: Expr }
  | { k: "cond"; c: Expr; a: Expr; b: Expr }
  | { k: "cast"; a: Expr } // (u32)a
  | { k: "mac"; def: MacroDef; args: Expr[] }
  | { k: "const"; name: string; v: number; ty: Ty }; // object-like macro or enumerator

export type Arg =
  | { k: "val"; e: Expr }
  | { k: "addr"; name: string } // &local_struct
  | { k: "ptr"; name: string } // a pointer variable or array name (decays)
  | { k: "str"; s: string }; // string literal

export type Stmt =
  | { k: "set"; lv: Expr; op: string; e: Expr }
  | { k: "inc"; lv: Expr; op: "++" | "--"; post: boolean }
  | { k: "if"; c: Expr; t: Stmt[]; f: Stmt[] | null }
  | { k: "for"; v: string; n: Expr; body: Stmt[] }
  | { k: "while"; v: string; n: Expr; body: Stmt[] }
  | { k: "do"; v: string; n: Expr; body: Stmt[] }
  | { k: "switch"; e: Expr; cases: { labels: Expr[]; body: Stmt[]; brk: boolean }[]; dflt: Stmt[] | null }
  | { k: "call"; lv: Expr | null; op: string; fn: string; args: Arg[] }
  | { k: "ret"; e: Expr | null }
  | { k: "break" }
  | { k: "continue" }
  | { k: "raw"; c: string; run: (f: Frame) => void }; // a fixed snippet with its own meaning

export type ParamTy = { k: "u32" } | { k: "int" } | { k: "sptr"; def: StructDef } | { k: "aptr"; elt: Elt; len: number } | { k: "cstr" };

export type LocalTy =
  | { k: "u32" }
  | { k: "int" }
  | { k: "arr"; elt: Elt; len: number }
  | { k: "struct"; def: StructDef }
  | { k: "sptr"; def: StructDef }
  | { k: "cstr" };

export interface Fn {
  name: string;
  isStatic: boolean;
  ret: "u32" | "void";
  params: { name: string; ty: ParamTy }[];
  locals: { name: string; ty: LocalTy }[];
  body: Stmt[];
  /** A comment above the function. */
  comment?: string;
  /** Hand-written C for the body (templates), used instead of printing `body`. */
  cBody?: string;
  /** Its meaning, for templates. */
  native?: (args: Value[], prog: Program) => number;
}

// ---- values at run time ---------------------------------------------------------------

/** A struct object (fields by name: numbers, arrays or nested objects). */
export type Obj = { [field: string]: number | number[] | Obj };
export type Value = number | number[] | Obj | string;

export interface Frame {
  vars: Map<string, Value>;
  ret: number;
  prog: Program;
}

export class Program {
  readonly globals = new Map<string, number | number[]>();
  readonly fns = new Map<string, Fn>();
  /** Statements executed (a guard against runaway generated loops). */
  steps = 0;

  call(name: string, args: Value[]): number {
    const fn = this.fns.get(name);
    if (fn === undefined) throw new Error(`gentree: no function ${name}`);
    if (fn.native) return fn.native(args, this) >>> 0;
    const f: Frame = { vars: new Map(), ret: 0, prog: this };
    fn.params.forEach((p, i) => f.vars.set(p.name, args[i]));
    for (const l of fn.locals) {
      if (l.ty.k === "arr") f.vars.set(l.name, new Array<number>(l.ty.len).fill(NaN));
      else if (l.ty.k === "struct") f.vars.set(l.name, newObj(l.ty.def));
      else f.vars.set(l.name, NaN);
    }
    execBlock(fn.body, f);
    return f.ret >>> 0;
  }
}

/** A struct object whose fields are all unset (NaN: reading one is a generator bug). */
export function newObj(def: StructDef): Obj {
  const o: Obj = {};
  for (const f of def.fields) {
    if (f.k === "scalar") o[f.name] = NaN;
    else if (f.k === "array") o[f.name] = new Array<number>(f.len).fill(NaN);
    else o[f.name] = newObj(f.def);
  }
  return o;
}

// ---- C semantics ---------------------------------------------------------------------

export function typeOf(e: Expr): Ty {
  switch (e.k) {
    case "num":
    case "glob":
    case "garr":
    case "cast":
    case "mac":
      return "u32";
    case "int":
      return "int";
    case "var":
    case "const":
      return e.ty;
    case "larr":
    case "fld":
      return e.elt === "u32" ? "u32" : "int";
    case "bin":
      if (CMP_OPS.has(e.op) || e.op === "&&" || e.op === "||") return "int";
      if (e.op === "<<" || e.op === ">>") return typeOf(e.a);
      return typeOf(e.a) === "u32" || typeOf(e.b) === "u32" ? "u32" : "int";
    case "un":
      return e.op === "!" ? "int" : typeOf(e.a);
    case "cond":
      return typeOf(e.a) === "u32" || typeOf(e.b) === "u32" ? "u32" : "int";
  }
}

const CMP_OPS = new Set(["<", "<=", ">", ">=", "==", "!="]);

function trunc(elt: Elt, v: number): number {
  return elt === "u32" ? v >>> 0 : elt === "u16" ? v & 0xffff : v & 0xff;
}

function checkRead(v: number, what: string): number {
  if (Number.isNaN(v)) throw new Error(`gentree: read of unset ${what}`);
  return v;
}

export function evalExpr(e: Expr, f: Frame): number {
  switch (e.k) {
    case "num":
    case "int":
    case "const":
      return e.v;
    case "var":
      return checkRead(f.vars.get(e.name) as number, e.name);
    case "glob":
      return checkRead(f.prog.globals.get(e.name) as number, e.name);
    case "garr": {
      const i = evalExpr(e.idx, f);
      return checkRead((f.prog.globals.get(e.name) as number[])[checkIndex(i, e.len)], e.name);
    }
    case "larr": {
      const i = evalExpr(e.idx, f);
      return checkRead((f.vars.get(e.name) as number[])[checkIndex(i, e.len)], e.name);
    }
    case "fld": {
      const [o, key] = fieldSlot(e, f);
      if (e.idx !== null) return checkRead((o[key] as number[])[checkIndex(evalExpr(e.idx, f), e.len)], key);
      return checkRead(o[key] as number, key);
    }
    case "bin":
      return binop(e.op, evalExpr(e.a, f), evalExpr(e.b, f));
    case "un": {
      const a = evalExpr(e.a, f);
      if (e.op === "!") return a === 0 ? 1 : 0;
      if (typeOf(e.a) !== "u32") throw new Error("gentree: unary op on int");
      return e.op === "-" ? -a >>> 0 : ~a >>> 0;
    }
    case "cond":
      return evalExpr(e.c, f) !== 0 ? evalExpr(e.a, f) : evalExpr(e.b, f);
    case "cast":
      return evalExpr(e.a, f) >>> 0;
    case "mac":
      return e.def.eval(e.args.map((a) => evalExpr(a, f))) >>> 0;
  }
}

function checkIndex(i: number, len: number): number {
  if (!(i >= 0 && i < len)) throw new Error(`gentree: index ${i} out of 0..${len - 1}`);
  return i;
}

/** The object holding a field and the field's key. */
function fieldSlot(e: Extract<Expr, { k: "fld" }>, f: Frame): [Obj, string] {
  let o = f.vars.get(e.base) as Obj;
  for (let i = 0; i < e.path.length - 1; i++) o = o[e.path[i]] as Obj;
  return [o, e.path[e.path.length - 1]];
}

export function binop(op: string, a: number, b: number): number {
  switch (op) {
    case "+":
      return (a + b) >>> 0;
    case "-":
      return (a - b) >>> 0;
    case "*":
      return Math.imul(a, b) >>> 0;
    case "/":
      if (b === 0) throw new Error("gentree: division by zero");
      return Math.floor(a / b) >>> 0;
    case "%":
      if (b === 0) throw new Error("gentree: division by zero");
      return a % b >>> 0;
    case "&":
      return (a & b) >>> 0;
    case "|":
      return (a | b) >>> 0;
    case "^":
      return (a ^ b) >>> 0;
    case "<<":
      if (b > 31) throw new Error("gentree: shift count");
      return (a << b) >>> 0;
    case ">>":
      if (b > 31) throw new Error("gentree: shift count");
      return a >>> b;
    case "<":
      return a < b ? 1 : 0;
    case "<=":
      return a <= b ? 1 : 0;
    case ">":
      return a > b ? 1 : 0;
    case ">=":
      return a >= b ? 1 : 0;
    case "==":
      return a === b ? 1 : 0;
    case "!=":
      return a !== b ? 1 : 0;
    case "&&":
      return a !== 0 && b !== 0 ? 1 : 0;
    case "||":
      return a !== 0 || b !== 0 ? 1 : 0;
  }
  throw new Error(`gentree: operator ${op}`);
}

/** Store v (already computed with the lvalue's promoted type) into an lvalue. */
function store(lv: Expr, v: number, f: Frame): void {
  switch (lv.k) {
    case "var":
      f.vars.set(lv.name, lv.ty === "u32" ? v >>> 0 : v);
      return;
    case "glob":
      f.prog.globals.set(lv.name, v >>> 0);
      return;
    case "garr":
      (f.prog.globals.get(lv.name) as number[])[checkIndex(evalExpr(lv.idx, f), lv.len)] = v >>> 0;
      return;
    case "larr":
      (f.vars.get(lv.name) as number[])[checkIndex(evalExpr(lv.idx, f), lv.len)] = trunc(lv.elt, v);
      return;
    case "fld": {
      const [o, key] = fieldSlot(lv, f);
      if (lv.idx !== null) (o[key] as number[])[checkIndex(evalExpr(lv.idx, f), lv.len)] = trunc(lv.elt, v);
      else o[key] = trunc(lv.elt, v);
      return;
    }
  }
  throw new Error(`gentree: not an lvalue: ${lv.k}`);
}

function elementOf(lv: Expr): Elt {
  return lv.k === "larr" || lv.k === "fld" ? lv.elt : "u32";
}

const BREAK = 1;
const CONTINUE = 2;
const RETURN = 3;

export function execBlock(body: Stmt[], f: Frame): number {
  for (const s of body) {
    const r = exec(s, f);
    if (r !== 0) return r;
  }
  return 0;
}

function exec(s: Stmt, f: Frame): number {
  if (++f.prog.steps > 50_000_000) throw new Error("gentree: the generated program runs too long");
  switch (s.k) {
    case "set": {
      // Index expressions are pure, so the lvalue may be evaluated twice.
      const rhs = evalExpr(s.e, f);
      if (s.op === "=") store(s.lv, rhs, f);
      else {
        const old = evalExpr(s.lv, f);
        const op = s.op.slice(0, -1);
        if (elementOf(s.lv) !== "u32" && (op === "<<" || op === ">>")) throw new Error("gentree: shift of a narrow lvalue");
        store(s.lv, binop(op, old, rhs), f);
      }
      return 0;
    }
    case "inc": {
      const old = evalExpr(s.lv, f);
      store(s.lv, s.op === "++" ? old + 1 : old - 1, f);
      return 0;
    }
    case "if":
      if (evalExpr(s.c, f) !== 0) return execBlock(s.t, f);
      return s.f ? execBlock(s.f, f) : 0;
    case "for":
      for (f.vars.set(s.v, 0); (f.vars.get(s.v) as number) < evalExpr(s.n, f); f.vars.set(s.v, (f.vars.get(s.v) as number) + 1)) {
        const r = execBlock(s.body, f);
        if (r === BREAK) break;
        if (r === RETURN) return r;
      }
      return 0;
    case "while":
      f.vars.set(s.v, 0);
      while ((f.vars.get(s.v) as number) < evalExpr(s.n, f)) {
        const r = execBlock(s.body, f);
        if (r === BREAK) break;
        if (r === RETURN) return r;
        if (r === CONTINUE) throw new Error("gentree: continue in a while loop");
        f.vars.set(s.v, (f.vars.get(s.v) as number) + 1);
      }
      return 0;
    case "do":
      f.vars.set(s.v, 0);
      do {
        const r = execBlock(s.body, f);
        if (r === BREAK) break;
        if (r === RETURN) return r;
        if (r === CONTINUE) throw new Error("gentree: continue in a do loop");
        f.vars.set(s.v, (f.vars.get(s.v) as number) + 1);
      } while ((f.vars.get(s.v) as number) < evalExpr(s.n, f));
      return 0;
    case "switch": {
      // The cases in order, then default (printed last): run from the match until a break.
      const v = evalExpr(s.e, f);
      const bodies: { body: Stmt[]; brk: boolean }[] = s.dflt === null ? s.cases : [...s.cases, { body: s.dflt, brk: true }];
      let start = s.cases.findIndex((c) => c.labels.some((l) => evalExpr(l, f) === v));
      if (start < 0) {
        if (s.dflt === null) return 0;
        start = s.cases.length;
      }
      for (let i = start; i < bodies.length; i++) {
        const r = execBlock(bodies[i].body, f);
        if (r === BREAK) return 0;
        if (r !== 0) return r;
        if (bodies[i].brk) return 0;
      }
      return 0;
    }
    case "call": {
      const args: Value[] = s.args.map((a) => {
        switch (a.k) {
          case "val":
            return evalExpr(a.e, f);
          case "addr":
          case "ptr":
            return f.vars.get(a.name) as Value;
          case "str":
            return a.s;
        }
      });
      const r = f.prog.call(s.fn, args);
      if (s.lv !== null) {
        if (s.op === "=") store(s.lv, r, f);
        else store(s.lv, binop(s.op.slice(0, -1), evalExpr(s.lv, f), r), f);
      }
      return 0;
    }
    case "ret":
      f.ret = s.e === null ? 0 : evalExpr(s.e, f);
      return RETURN;
    case "break":
      return BREAK;
    case "continue":
      return CONTINUE;
    case "raw":
      s.run(f);
      return 0;
  }
}

// ---- printing --------------------------------------------------------------------------

const PREC: Record<string, number> = {
  "*": 13, "/": 13, "%": 13,
  "+": 12, "-": 12,
  "<<": 11, ">>": 11,
  "<": 10, "<=": 10, ">": 10, ">=": 10,
  "==": 9, "!=": 9,
  "&": 8, "^": 7, "|": 6, "&&": 5, "||": 4,
};

function precOf(e: Expr): number {
  switch (e.k) {
    case "bin":
      return PREC[e.op];
    case "un":
    case "cast":
      return 14;
    case "cond":
      return 3;
    default:
      return 16;
  }
}

export function cExpr(e: Expr, ctx = 0): string {
  const s = cExprRaw(e);
  return precOf(e) < ctx ? `(${s})` : s;
}

function cExprRaw(e: Expr): string {
  switch (e.k) {
    case "num":
      return e.hex ? `0x${e.v.toString(16)}u` : `${e.v}u`;
    case "int":
      return String(e.v);
    case "var":
    case "glob":
    case "const":
      return e.name;
    case "garr":
    case "larr":
      return `${e.name}[${cExpr(e.idx)}]`;
    case "fld": {
      const path = e.path.join(".");
      const idx = e.idx !== null ? `[${cExpr(e.idx)}]` : "";
      return `${e.base}${e.arrow ? "->" : "."}${path}${idx}`;
    }
    case "bin": {
      const p = PREC[e.op];
      return `${cExpr(e.a, p)} ${e.op} ${cExpr(e.b, p + 1)}`;
    }
    case "un": {
      const a = cExpr(e.a, 14);
      return a.startsWith(e.op === "-" ? "-" : "\0") ? `${e.op}(${a})` : `${e.op}${a}`;
    }
    case "cond":
      return `${cExpr(e.c, 4)} ? ${cExpr(e.a, 0)} : ${cExpr(e.b, 3)}`;
    case "cast":
      return `(u32)${cExpr(e.a, 14)}`;
    case "mac":
      return `${e.def.name}(${e.args.map((a) => cExpr(a, 0)).join(", ")})`;
  }
}

function cArg(a: Arg): string {
  switch (a.k) {
    case "val":
      return cExpr(a.e, 0);
    case "addr":
      return `&${a.name}`;
    case "ptr":
      return a.name;
    case "str":
      return JSON.stringify(a.s);
  }
}

export function cStmts(body: Stmt[], ind: string, out: string[]): void {
  for (const s of body) cStmt(s, ind, out);
}

function cStmt(s: Stmt, ind: string, out: string[]): void {
  const inner = ind + "\t";
  switch (s.k) {
    case "set":
      out.push(`${ind}${cExpr(s.lv)} ${s.op} ${cExpr(s.e)};`);
      return;
    case "inc":
      out.push(s.post ? `${ind}${cExpr(s.lv)}${s.op};` : `${ind}${s.op}${cExpr(s.lv)};`);
      return;
    case "if":
      out.push(`${ind}if (${cExpr(s.c)}) {`);
      cStmts(s.t, inner, out);
      if (s.f !== null) {
        out.push(`${ind}} else {`);
        cStmts(s.f, inner, out);
      }
      out.push(`${ind}}`);
      return;
    case "for":
      out.push(`${ind}for (${s.v} = 0; ${s.v} < ${cExpr(s.n, 11)}; ${s.v}++) {`);
      cStmts(s.body, inner, out);
      out.push(`${ind}}`);
      return;
    case "while":
      out.push(`${ind}${s.v} = 0;`);
      out.push(`${ind}while (${s.v} < ${cExpr(s.n, 11)}) {`);
      cStmts(s.body, inner, out);
      out.push(`${inner}${s.v}++;`);
      out.push(`${ind}}`);
      return;
    case "do":
      out.push(`${ind}${s.v} = 0;`);
      out.push(`${ind}do {`);
      cStmts(s.body, inner, out);
      out.push(`${inner}${s.v}++;`);
      out.push(`${ind}} while (${s.v} < ${cExpr(s.n, 11)});`);
      return;
    case "switch":
      out.push(`${ind}switch (${cExpr(s.e)}) {`);
      for (const c of s.cases) {
        for (const l of c.labels) out.push(`${ind}case ${cExpr(l)}:`);
        cStmts(c.body, inner, out);
        if (c.brk) out.push(`${inner}break;`);
        else out.push(`${inner}/* fall through */`);
      }
      if (s.dflt !== null) {
        out.push(`${ind}default:`);
        cStmts(s.dflt, inner, out);
        out.push(`${inner}break;`);
      }
      out.push(`${ind}}`);
      return;
    case "call": {
      const call = `${s.fn}(${s.args.map(cArg).join(", ")})`;
      out.push(s.lv === null ? `${ind}${call};` : `${ind}${cExpr(s.lv)} ${s.op} ${call};`);
      return;
    }
    case "ret":
      out.push(s.e === null ? `${ind}return;` : `${ind}return ${cExpr(s.e)};`);
      return;
    case "break":
      out.push(`${ind}break;`);
      return;
    case "continue":
      out.push(`${ind}continue;`);
      return;
    case "raw":
      for (const l of s.c.split("\n")) out.push(ind + l);
      return;
  }
}

export function cType(t: ParamTy | LocalTy): string {
  switch (t.k) {
    case "u32":
      return "u32 ";
    case "int":
      return "int ";
    case "sptr":
      return `struct ${t.def.name} *`;
    case "aptr":
      return `${t.elt} *`;
    case "cstr":
      return "char *";
    case "arr":
      return `${t.elt} `;
    case "struct":
      return `struct ${t.def.name} `;
  }
}

export function cPrototype(fn: Fn): string {
  const params = fn.params.length === 0 ? "void" : fn.params.map((p) => `${cType(p.ty)}${p.name}`).join(", ");
  return `${fn.isStatic ? "static " : ""}${fn.ret} ${fn.name}(${params})`;
}

export function cFunction(fn: Fn): string {
  const out: string[] = [];
  if (fn.comment) out.push(`/*\n * ${fn.comment}\n */`);
  out.push(cPrototype(fn));
  out.push("{");
  if (fn.cBody !== undefined) out.push(fn.cBody);
  else {
    for (const l of fn.locals) {
      const suffix = l.ty.k === "arr" ? `[${l.ty.len}]` : "";
      out.push(`\t${cType(l.ty)}${l.name}${suffix};`);
    }
    if (fn.locals.length > 0) out.push("");
    cStmts(fn.body, "\t", out);
  }
  out.push("}");
  return out.join("\n");
}

export function cStruct(def: StructDef): string {
  const lines = [`struct ${def.name} {`];
  for (const f of def.fields) {
    if (f.k === "scalar") lines.push(`\t${f.elt} ${f.name};`);
    else if (f.k === "array") lines.push(`\t${f.elt} ${f.name}[${f.len}];`);
    else lines.push(`\tstruct ${f.def.name} ${f.name};`);
  }
  lines.push("};");
  return lines.join("\n");
}
