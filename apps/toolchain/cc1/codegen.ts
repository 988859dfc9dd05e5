// Code generation for NZ32: expand (trees to an insn chain in GC memory, the
// RTL of this compiler: a stack machine on r0/r1 with push/pop), a -O1
// peephole pass over the chain, final (the chain as assembly text), and the
// data (variables, string literals) at the end of the unit. The output
// accumulates in a realloc-grown buffer in user memory (OutBuf).
//
// Insn (ggc, 24 B): +0 u8 op, +1 u8 rd, +2 u8 rs, +3 u8 rt, +4 imm,
//   +8 u8 symbol kind, +12 symbol (identifier node or label number), +16 next, +20 prev
//
// Frame: arguments at [fp+8], [fp+12], ...; locals below fp. Calls push the
// arguments right to left and pop them after; the result is in r0.

import type { Libc } from "../../../libc/libc.ts";
import type { UserMemory } from "../../../kernel/uaccess.ts";
import { OutOfMemory } from "./ggc.ts";
import type { Ggc } from "./ggc.ts";
import type { Sema } from "./sema.ts";
import { D_NAME, DF_GLOBAL, DF_INITIALIZED, DF_LOCAL_STATIC, DK, N, NF_UNSIGNED, SC, type Trees } from "./tree.ts";
import { K, type Types } from "./types.ts";

/** The assembly output: a realloc-grown buffer in user memory. */
export class OutBuf {
  base = 0;
  len = 0;
  private cap = 0;
  private readonly m: UserMemory;

  constructor(private readonly libc: Libc) {
    this.m = libc.mem;
  }

  write(s: string): void {
    const n = s.length;
    if (this.len + n > this.cap) {
      let cap = this.cap === 0 ? 4096 : this.cap;
      while (cap < this.len + n) cap *= 2;
      const p = this.libc.realloc(this.base, cap);
      if (p === 0) throw new OutOfMemory();
      this.base = p;
      this.cap = cap;
    }
    const m = this.m;
    const b = this.base + this.len;
    for (let i = 0; i < n; i++) m.write8(b + i, s.charCodeAt(i));
    this.len += n;
  }
}

enum Op {
  LI = 1, MOV, ADDI, ADD, SUB, MUL, DIV, REM, DIVU, REMU, AND, OR, XOR, SHL, SHR, SAR,
  SEQ, SNE, SLT, SLE, SLTU, SLEU, NEG, NOT, LD, LDH, LDHU, LDB, LDBU, ST, STH, STB,
  JMP, JZ, JNZ, CALL, CALLR, RET, PUSH, POP, ENTER, LEAVE, SYS, LABEL, DELETED,
}

const MNEMONIC: string[] = [];
{
  const names = "li mov addi add sub mul div rem divu remu and or xor shl shr sar seq sne slt sle sltu sleu neg not ld ldh ldhu ldb ldbu st sth stb jmp jz jnz call callr ret push pop enter leave sys".split(" ");
  names.forEach((n, i) => (MNEMONIC[i + 1] = n));
}

const REG = ["r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "sp", "fp"];
const SP = 8, FP = 9;

// Symbol kinds of an operand.
const SYM_NONE = 0, SYM_GLOBAL = 1, SYM_LABEL = 2, SYM_STRING = 3, SYM_STATIC = 4;

const I_OP = 0, I_RD = 1, I_RS = 2, I_RT = 3, I_IMM = 4, I_SK = 8, I_SYM = 12, I_NEXT = 16, I_PREV = 20, I_BYTES = 24;
// String list entry (ggc): +0 bytes, +4 length, +8 label, +12 next, +16 NUL-terminated
const S_BYTES = 20;

export class Codegen {
  private readonly m: UserMemory;
  private readonly tr: Trees;
  private readonly ty: Types;
  private first = 0;
  private last = 0;
  private retLabel = 0;
  private breakLabel = 0;
  private contLabel = 0;
  private strHead = 0;
  private strTail = 0;
  private strCount = 0;
  private isMain = false;
  insns = 0;
  functions = 0;
  private readonly symExpand: number;
  private readonly symStmt: number;
  private readonly symPeep: number;
  private readonly symDf: number;
  private readonly symCfg: number;
  private readonly symCse: number;
  private readonly symIra: number;
  private readonly symReload: number;
  private readonly symGimplify: number;
  private readonly symFinal: number;
  private readonly symVar: number;

  constructor(
    private readonly libc: Libc,
    private readonly ggc: Ggc,
    private readonly s: Sema,
    private readonly out: OutBuf,
    private readonly opt: number,
  ) {
    this.m = libc.mem;
    this.tr = s.tr;
    this.ty = s.ty;
    this.symExpand = libc.symbol("cc1", "expand_expr_real_1");
    this.symStmt = libc.symbol("cc1", "expand_gimple_stmt");
    this.symPeep = libc.symbol("cc1", "peephole2_optimize");
    this.symDf = libc.symbol("cc1", "df_analyze");
    this.symCfg = libc.symbol("cc1", "find_basic_blocks");
    this.symCse = libc.symbol("cc1", "cse_main");
    this.symIra = libc.symbol("cc1", "ira");
    this.symReload = libc.symbol("cc1", "reload");
    this.symGimplify = libc.symbol("cc1", "gimplify_expr");
    this.symFinal = libc.symbol("cc1", "final_scan_insn");
    this.symVar = libc.symbol("cc1", "assemble_variable");
    out.write("\t.text\n");
  }

  // ---- the insn chain -----------------------------------------------------------------------

  private emit(op: Op, rd = 0, rs = 0, rt = 0, imm = 0, sk = SYM_NONE, sym = 0): number {
    const m = this.m;
    const i = this.ggc.alloc(I_BYTES);
    m.write32(i + I_OP, op | (rd << 8) | (rs << 16) | (rt << 24));
    m.write32(i + I_IMM, imm);
    m.write32(i + I_SK, sk);
    m.write32(i + I_SYM, sym);
    m.write32(i + I_NEXT, 0);
    m.write32(i + I_PREV, this.last);
    if (this.last === 0) this.first = i;
    else m.write32(this.last + I_NEXT, i);
    this.last = i;
    this.insns++;
    this.libc.work(60);
    return i;
  }

  private label(n: number): void {
    this.emit(Op.LABEL, 0, 0, 0, 0, SYM_LABEL, n);
  }
  private jump(op: Op, rs: number, n: number): void {
    this.emit(op, 0, rs, 0, 0, SYM_LABEL, n);
  }
  private li(rd: number, v: number): void {
    this.emit(Op.LI, rd, 0, 0, v | 0);
  }
  private newLabel(): number {
    return this.s.newLabel();
  }

  // ---- functions ----------------------------------------------------------------------------

  expandFunction(d: number, body: number, frame: number): void {
    const tr = this.tr;
    const name = this.s.idents.name(tr.dName(d));
    this.first = this.last = 0;
    this.retLabel = this.newLabel();
    this.breakLabel = this.contLabel = 0;
    this.isMain = name === "main";
    this.gimplify(body);
    const prev = this.libc.enter(this.symStmt);
    this.emit(Op.ENTER, 0, 0, 0, (frame + 3) & ~3);
    this.stmt(body);
    if (this.isMain) this.li(0, 0);
    this.label(this.retLabel);
    this.emit(Op.LEAVE);
    this.emit(Op.RET);
    this.libc.leave(prev);
    this.pass(this.symCfg, 60); // find_basic_blocks
    if (this.opt > 0) {
      this.peephole();
      this.deadCode();
      this.pass(this.symCse, 300); // cse_main
    }
    this.pass(this.symIra, 250); // ira: register pressure and allocation
    this.pass(this.symReload, 200); // reload: operand constraints
    // final
    const fp = this.libc.enter(this.symFinal);
    const out = this.out;
    if (tr.dStorage(d) !== SC.STATIC) out.write(`\t.globl ${name}\n`);
    out.write(`${name}:\n`);
    for (let i = this.first; i !== 0; i = this.m.readU32(i + I_NEXT)) this.final(i);
    this.libc.leave(fp);
    this.functions++;
  }

  private symName(sk: number, sym: number): string {
    switch (sk) {
      case SYM_GLOBAL:
        return this.s.idents.name(sym);
      case SYM_LABEL:
        return `.L${sym}`;
      case SYM_STRING:
        return `.LC${sym}`;
      case SYM_STATIC:
        return `.LS${sym}`;
      default:
        return "";
    }
  }

  /** output_asm_insn: one insn as text. */
  private final(i: number): void {
    const m = this.m;
    const w = m.read32(i + I_OP);
    const op = w & 0xff;
    const rd = REG[(w >>> 8) & 0xff], rs = REG[(w >>> 16) & 0xff], rt = REG[(w >>> 24) & 0xff];
    const imm = m.read32(i + I_IMM);
    const sk = m.read32(i + I_SK);
    const sym = this.symName(sk, m.read32(i + I_SYM));
    const mem = (base: string) => (imm === 0 ? `[${base}]` : imm > 0 ? `[${base}+${imm}]` : `[${base}${imm}]`);
    const symImm = sym !== "" ? (imm === 0 ? sym : imm > 0 ? `${sym}+${imm}` : `${sym}${imm}`) : String(imm);
    let s: string;
    switch (op) {
      case Op.DELETED:
        return;
      case Op.LABEL:
        s = `${sym}:\n`;
        break;
      case Op.LI:
        s = `\tli ${rd}, ${symImm}\n`;
        break;
      case Op.MOV:
      case Op.NEG:
      case Op.NOT:
        s = `\t${MNEMONIC[op]} ${rd}, ${rs}\n`;
        break;
      case Op.ADDI:
        s = `\taddi ${rd}, ${rs}, ${imm}\n`;
        break;
      case Op.LD: case Op.LDH: case Op.LDHU: case Op.LDB: case Op.LDBU:
        s = `\t${MNEMONIC[op]} ${rd}, ${mem(rs)}\n`;
        break;
      case Op.ST: case Op.STH: case Op.STB:
        s = `\t${MNEMONIC[op]} ${mem(rs)}, ${rt}\n`;
        break;
      case Op.JMP:
      case Op.CALL:
        s = `\t${MNEMONIC[op]} ${sym}\n`;
        break;
      case Op.JZ:
      case Op.JNZ:
        s = `\t${MNEMONIC[op]} ${rs}, ${sym}\n`;
        break;
      case Op.CALLR:
      case Op.PUSH:
        s = `\t${MNEMONIC[op]} ${rs}\n`;
        break;
      case Op.POP:
        s = `\tpop ${rd}\n`;
        break;
      case Op.ENTER:
        s = `\tenter ${imm}\n`;
        break;
      case Op.RET:
      case Op.LEAVE:
      case Op.SYS:
        s = `\t${MNEMONIC[op]}\n`;
        break;
      default:
        s = `\t${MNEMONIC[op]} ${rd}, ${rs}, ${rt}\n`;
    }
    this.out.write(s);
    this.libc.work(70);
  }

  // ---- -O1: peephole2 ---------------------------------------------------------------------------

  private peephole(): void {
    const prev = this.libc.enter(this.symPeep);
    const m = this.m;
    const op = (i: number) => (i === 0 ? 0 : m.read8(i + I_OP));
    const f = (i: number, o: number) => m.read8(i + o);
    const next = (i: number): number => {
      let n = m.readU32(i + I_NEXT);
      while (n !== 0 && op(n) === Op.DELETED) n = m.readU32(n + I_NEXT);
      return n;
    };
    const del = (i: number) => m.write8(i + I_OP, Op.DELETED);
    let changed = true;
    for (let pass = 0; changed && pass < 4; pass++) {
      changed = false;
      for (let i = this.first; i !== 0; i = m.readU32(i + I_NEXT)) {
        const o = op(i);
        if (o === Op.DELETED) continue;
        this.libc.work(12);
        const n1 = next(i);
        // push r0; X r0 <- (const or frame); mov r1, r0; pop r0  =>  X r1 <- ...
        if (o === Op.PUSH && f(i, I_RS) === 0 && n1 !== 0) {
          const o1 = op(n1);
          const simple = (o1 === Op.LI && f(n1, I_RD) === 0) || ((o1 === Op.LD || o1 === Op.LDB || o1 === Op.LDBU || o1 === Op.LDH || o1 === Op.LDHU || o1 === Op.ADDI) && f(n1, I_RD) === 0 && f(n1, I_RS) === FP);
          const n2 = simple ? next(n1) : 0;
          const n3 = n2 !== 0 ? next(n2) : 0;
          if (n2 !== 0 && op(n2) === Op.MOV && f(n2, I_RD) === 1 && f(n2, I_RS) === 0 && n3 !== 0 && op(n3) === Op.POP && f(n3, I_RD) === 0) {
            m.write8(n1 + I_RD, 1);
            del(i);
            del(n2);
            del(n3);
            changed = true;
            continue;
          }
          if (op(n1) === Op.POP) {
            // push r0; pop rX  =>  mov rX, r0
            const rd = f(n1, I_RD);
            del(i);
            if (rd === 0) del(n1);
            else m.write32(n1 + I_OP, Op.MOV | (rd << 8) | (0 << 16));
            changed = true;
            continue;
          }
        }
        // li r1, K; add/sub r0, r0, r1  =>  addi r0, r0, (+/-)K
        if (o === Op.LI && f(i, I_RD) === 1 && m.read32(i + I_SK) === SYM_NONE && n1 !== 0) {
          const o1 = op(n1);
          if ((o1 === Op.ADD || o1 === Op.SUB) && f(n1, I_RT) === 1 && f(n1, I_RS) !== 1) {
            const k = m.read32(i + I_IMM);
            m.write32(n1 + I_OP, Op.ADDI | (f(n1, I_RD) << 8) | (f(n1, I_RS) << 16));
            m.write32(n1 + I_IMM, o1 === Op.ADD ? k : -k | 0);
            del(i);
            changed = true;
            continue;
          }
        }
        // addi rX, rX, 0  =>  nothing; mov rX, rX  =>  nothing
        if ((o === Op.ADDI && m.read32(i + I_IMM) === 0 && f(i, I_RD) === f(i, I_RS)) || (o === Op.MOV && f(i, I_RD) === f(i, I_RS))) {
          del(i);
          changed = true;
          continue;
        }
        // li r0, K; jz/jnz r0, L  =>  jmp L or nothing
        if (o === Op.LI && f(i, I_RD) === 0 && m.read32(i + I_SK) === SYM_NONE && n1 !== 0 && (op(n1) === Op.JZ || op(n1) === Op.JNZ) && f(n1, I_RS) === 0) {
          const k = m.read32(i + I_IMM);
          const taken = op(n1) === Op.JZ ? k === 0 : k !== 0;
          del(i);
          if (taken) m.write32(n1 + I_OP, Op.JMP);
          else del(n1);
          changed = true;
          continue;
        }
        // jmp L; L:  =>  L:
        if (o === Op.JMP && n1 !== 0 && op(n1) === Op.LABEL && m.read32(n1 + I_SYM) === m.read32(i + I_SYM)) {
          del(i);
          changed = true;
          continue;
        }
        // code after an unconditional jump or ret, up to the next label, is dead
        if ((o === Op.JMP || o === Op.RET) && n1 !== 0 && op(n1) !== Op.LABEL) {
          del(n1);
          changed = true;
        }
      }
    }
    this.libc.leave(prev);
  }

  /**
   * A pass over the insn chain that reads every insn and is charged `work`
   * instructions per insn: the RTL passes gcc runs at every level (CFG,
   * IRA, reload) and at -O1 (CSE), whose cost this compiler's simple
   * allocation does not otherwise have.
   */
  private pass(sym: number, work: number): void {
    const prev = this.libc.enter(sym);
    const m = this.m;
    let n = 0;
    let regs = 0;
    for (let i = this.first; i !== 0; i = m.readU32(i + I_NEXT)) {
      const w = m.read32(i + I_OP);
      if ((w & 0xff) === Op.DELETED) continue;
      regs |= 1 << ((w >>> 8) & 0xf);
      n++;
    }
    this.libc.work(work * n + (regs & 1));
    this.libc.leave(prev);
  }

  /**
   * gimplify: a walk of the function's tree (statements and expressions),
   * reading every node, before expansion.
   */
  private gimplify(body: number): void {
    const prev = this.libc.enter(this.symGimplify);
    this.libc.work(200 * this.walk(body));
    this.libc.leave(prev);
  }

  /** The number of tree nodes in a chain of statements (and their expressions). */
  private walk(n: number): number {
    const tr = this.tr;
    let count = 0;
    for (; n !== 0; n = tr.next(n)) {
      count++;
      switch (tr.code(n)) {
        case N.BLOCK:
          count += this.walk(tr.op0(n));
          break;
        case N.EXPR_STMT:
        case N.RETURN:
          count += this.walkExpr(tr.op0(n));
          break;
        case N.IF:
          count += this.walkExpr(tr.op0(n)) + this.walk1(tr.op1(n)) + this.walk1(tr.op2(n));
          break;
        case N.WHILE:
        case N.SWITCH:
          count += this.walkExpr(tr.op0(n)) + this.walk1(tr.op1(n));
          break;
        case N.DO:
          count += this.walk1(tr.op0(n)) + this.walkExpr(tr.op1(n));
          break;
        case N.FOR:
          count += this.walk1(tr.op0(n)) + this.walkExpr(tr.op1(n)) + this.walkExpr(tr.op2(n)) + this.walk1(tr.op3(n));
          break;
        case N.CASE:
        case N.DEFAULT:
          count += this.walk1(tr.op3(n));
          break;
        case N.LOCAL_INIT:
          for (let e = tr.op1(n); e !== 0; e = tr.next(e)) count += 1 + (tr.code(e) === N.INIT_ELT ? this.walkExpr(tr.op0(e)) : 0);
          break;
        default:
          break;
      }
    }
    return count;
  }

  /** One statement (not its successors). */
  private walk1(n: number): number {
    if (n === 0) return 0;
    const next = this.tr.next(n);
    if (next === 0) return this.walk(n);
    // count n alone: walk a chain of one
    let c = 0;
    const tr = this.tr;
    tr.setNext(n, 0);
    c = this.walk(n);
    tr.setNext(n, next);
    return c;
  }

  /** The number of nodes of an expression. */
  private walkExpr(e: number): number {
    const tr = this.tr;
    if (e === 0) return 0;
    switch (tr.code(e)) {
      case N.INT_CST: case N.STRING_CST: case N.DECL_REF: case N.ERROR:
        return 1;
      case N.ADDR: case N.DEREF: case N.NEG: case N.BITNOT: case N.LOGNOT: case N.CONVERT: case N.MEMBER:
      case N.PREINC: case N.PREDEC: case N.POSTINC: case N.POSTDEC:
        return 1 + this.walkExpr(tr.op0(e));
      case N.COND:
        return 1 + this.walkExpr(tr.op0(e)) + this.walkExpr(tr.op1(e)) + this.walkExpr(tr.op2(e));
      case N.CALL: {
        let c = 1 + this.walkExpr(tr.op0(e));
        for (let a = tr.op1(e); a !== 0; a = tr.next(a)) c += this.walkExpr(a);
        return c;
      }
      case N.SYSCALL: {
        let c = 1;
        for (let a = tr.op0(e); a !== 0; a = tr.next(a)) c += this.walkExpr(a);
        return c;
      }
      default:
        return 1 + this.walkExpr(tr.op0(e)) + this.walkExpr(tr.op1(e));
    }
  }

  /**
   * df_analyze + dead-code elimination: a backward liveness scan over the
   * chain (labels, jumps, calls and syscalls make every register live);
   * a register definition with no use before the next definition goes.
   */
  private deadCode(): void {
    const prev = this.libc.enter(this.symDf);
    const m = this.m;
    const ALL = 0x3ff;
    let live = ALL;
    for (let i = this.last; i !== 0; i = m.readU32(i + I_PREV)) {
      const w = m.read32(i + I_OP);
      const op = w & 0xff;
      if (op === Op.DELETED) continue;
      this.libc.work(40);
      const rd = 1 << ((w >>> 8) & 0xff), rs = 1 << ((w >>> 16) & 0xff), rt = 1 << ((w >>> 24) & 0xff);
      let def = 0, use = 0;
      switch (op) {
        case Op.LI:
          def = rd;
          break;
        case Op.MOV: case Op.NEG: case Op.NOT: case Op.ADDI:
        case Op.LD: case Op.LDH: case Op.LDHU: case Op.LDB: case Op.LDBU:
          def = rd;
          use = rs;
          break;
        case Op.ADD: case Op.SUB: case Op.MUL: case Op.AND: case Op.OR: case Op.XOR: case Op.SHL: case Op.SHR: case Op.SAR:
        case Op.SEQ: case Op.SNE: case Op.SLT: case Op.SLE: case Op.SLTU: case Op.SLEU:
          def = rd;
          use = rs | rt;
          break;
        case Op.DIV: case Op.REM: case Op.DIVU: case Op.REMU:
          use = rs | rt; // kept: division by zero traps
          live |= rd;
          break;
        case Op.ST: case Op.STH: case Op.STB:
          use = rs | rt;
          break;
        case Op.PUSH:
          use = rs | (1 << SP);
          break;
        case Op.POP:
          def = rd;
          use = 1 << SP;
          live |= rd;
          break;
        case Op.RET:
          live = 1 | (1 << SP) | (1 << FP);
          continue;
        default:
          live = ALL;
          continue;
      }
      const sideEffects = op === Op.POP || (def & ((1 << SP) | (1 << FP))) !== 0;
      if (def !== 0 && (live & def) === 0 && !sideEffects) {
        m.write8(i + I_OP, Op.DELETED);
        continue;
      }
      live = (live & ~def) | use;
    }
    this.libc.leave(prev);
  }

  // ---- statements ---------------------------------------------------------------------------------

  private stmt(n: number): void {
    const tr = this.tr;
    if (n === 0) return;
    this.libc.work(60);
    switch (tr.code(n)) {
      case N.BLOCK:
        for (let s = tr.op0(n); s !== 0; s = tr.next(s)) this.stmt(s);
        break;
      case N.EMPTY:
        break;
      case N.EXPR_STMT:
        this.exprTop(tr.op0(n));
        break;
      case N.LOCAL_INIT:
        this.localInit(tr.op0(n), tr.op1(n));
        break;
      case N.IF: {
        const lelse = this.newLabel();
        this.expr(tr.op0(n));
        this.jump(Op.JZ, 0, lelse);
        this.stmt(tr.op1(n));
        if (tr.op2(n) !== 0) {
          const lend = this.newLabel();
          this.jump(Op.JMP, 0, lend);
          this.label(lelse);
          this.stmt(tr.op2(n));
          this.label(lend);
        } else this.label(lelse);
        break;
      }
      case N.WHILE: {
        const [b, c] = [this.breakLabel, this.contLabel];
        this.contLabel = this.newLabel();
        this.breakLabel = this.newLabel();
        this.label(this.contLabel);
        this.expr(tr.op0(n));
        this.jump(Op.JZ, 0, this.breakLabel);
        this.stmt(tr.op1(n));
        this.jump(Op.JMP, 0, this.contLabel);
        this.label(this.breakLabel);
        [this.breakLabel, this.contLabel] = [b, c];
        break;
      }
      case N.DO: {
        const [b, c] = [this.breakLabel, this.contLabel];
        const top = this.newLabel();
        this.contLabel = this.newLabel();
        this.breakLabel = this.newLabel();
        this.label(top);
        this.stmt(tr.op0(n));
        this.label(this.contLabel);
        this.expr(tr.op1(n));
        this.jump(Op.JNZ, 0, top);
        this.label(this.breakLabel);
        [this.breakLabel, this.contLabel] = [b, c];
        break;
      }
      case N.FOR: {
        const [b, c] = [this.breakLabel, this.contLabel];
        this.stmt(tr.op0(n));
        const top = this.newLabel();
        this.contLabel = this.newLabel();
        this.breakLabel = this.newLabel();
        this.label(top);
        if (tr.op1(n) !== 0) {
          this.expr(tr.op1(n));
          this.jump(Op.JZ, 0, this.breakLabel);
        }
        this.stmt(tr.op3(n));
        this.label(this.contLabel);
        if (tr.op2(n) !== 0) this.exprTop(tr.op2(n));
        this.jump(Op.JMP, 0, top);
        this.label(this.breakLabel);
        [this.breakLabel, this.contLabel] = [b, c];
        break;
      }
      case N.SWITCH: {
        const b = this.breakLabel;
        this.breakLabel = this.newLabel();
        this.expr(tr.op0(n));
        for (let c = tr.op2(n); c !== 0; c = tr.op2(c)) {
          this.li(1, tr.value(c));
          this.emit(Op.SEQ, 2, 0, 1);
          this.jump(Op.JNZ, 2, tr.op1(c));
        }
        this.jump(Op.JMP, 0, tr.op3(n) !== 0 ? tr.op3(n) : this.breakLabel);
        this.stmt(tr.op1(n));
        this.label(this.breakLabel);
        this.breakLabel = b;
        break;
      }
      case N.CASE:
      case N.DEFAULT:
        this.label(tr.op1(n));
        this.stmt(tr.op3(n));
        break;
      case N.BREAK:
        this.jump(Op.JMP, 0, this.breakLabel);
        break;
      case N.CONTINUE:
        this.jump(Op.JMP, 0, this.contLabel);
        break;
      case N.RETURN:
        if (tr.op0(n) !== 0) this.expr(tr.op0(n));
        this.jump(Op.JMP, 0, this.retLabel);
        break;
      default:
        this.exprTop(n);
    }
  }

  /** An expression statement (value unused). */
  private exprTop(e: number): void {
    this.expr(e);
  }

  /** The initializer of a local variable. */
  private localInit(d: number, init: number): void {
    const tr = this.tr;
    const ty = this.ty;
    const t = tr.dType(d);
    const off = tr.dOffset(d);
    if (ty.isAggregate(t)) {
      // Aggregates: zero, then the elements given.
      const only = init !== 0 && tr.next(init) === 0 && tr.code(init) === N.INIT_ELT && ty.isRecord(tr.type(init));
      if (!only) this.zeroFrame(off, ty.size(t));
    }
    for (let e = init; e !== 0; e = tr.next(e)) {
      const at = off + tr.op1(e);
      if (tr.code(e) === N.INIT_STR) {
        this.copyString(tr.op0(e), tr.op2(e), at);
        continue;
      }
      const et = tr.type(e);
      if (ty.isRecord(et)) {
        // struct from a struct value
        this.addr(tr.op0(e));
        this.emit(Op.MOV, 1, 0);
        this.emit(Op.ADDI, 0, FP, 0, at);
        this.copyBlock(ty.size(et));
        continue;
      }
      this.expr(tr.op0(e));
      this.emit(this.storeOp(et), 0, FP, 0, at);
    }
  }

  private zeroFrame(off: number, size: number): void {
    const words = (size + 3) >> 2;
    this.li(0, 0);
    if (words <= 16) {
      for (let i = 0; i < words; i++) this.emit(Op.ST, 0, FP, 0, off + 4 * i);
      return;
    }
    const top = this.newLabel();
    this.emit(Op.ADDI, 1, FP, 0, off);
    this.li(2, words);
    this.label(top);
    this.emit(Op.ST, 0, 1, 0, 0);
    this.emit(Op.ADDI, 1, 1, 0, 4);
    this.emit(Op.ADDI, 2, 2, 0, -1);
    this.jump(Op.JNZ, 2, top);
  }

  /** Copy `count` bytes of a string literal to [fp+at]. */
  private copyString(bytes: number, count: number, at: number): void {
    const label = this.addString(bytes, count, false);
    this.emit(Op.LI, 1, 0, 0, 0, SYM_STRING, label);
    this.emit(Op.ADDI, 0, FP, 0, at);
    this.copyBlock(count, (at & 3) === 0);
  }

  /** Copy size bytes from [r1] to [r0] (r0 keeps the destination); word moves when both are aligned. */
  private copyBlock(size: number, aligned = true): void {
    const words = aligned ? size >> 2 : 0;
    if (words > 16) {
      const top = this.newLabel();
      this.emit(Op.PUSH, 0, 0);
      this.li(3, words);
      this.label(top);
      this.emit(Op.LD, 2, 1, 0, 0);
      this.emit(Op.ST, 0, 0, 2, 0);
      this.emit(Op.ADDI, 0, 0, 0, 4);
      this.emit(Op.ADDI, 1, 1, 0, 4);
      this.emit(Op.ADDI, 3, 3, 0, -1);
      this.jump(Op.JNZ, 3, top);
      for (let b = words * 4; b < size; b++) {
        this.emit(Op.LDBU, 2, 1, 0, b - words * 4);
        this.emit(Op.STB, 0, 0, 2, b - words * 4);
      }
      this.emit(Op.POP, 0);
      return;
    }
    for (let w = 0; w < words; w++) {
      this.emit(Op.LD, 2, 1, 0, 4 * w);
      this.emit(Op.ST, 0, 0, 2, 4 * w);
    }
    for (let b = words * 4; b < size; b++) {
      this.emit(Op.LDBU, 2, 1, 0, b);
      this.emit(Op.STB, 0, 0, 2, b);
    }
  }

  private addString(bytes: number, len: number, nul: boolean): number {
    const m = this.m;
    const e = this.ggc.alloc(S_BYTES);
    const label = this.strCount++;
    m.write32(e, bytes);
    m.write32(e + 4, len);
    m.write32(e + 8, label);
    m.write32(e + 12, 0);
    m.write32(e + 16, nul ? 1 : 0);
    if (this.strTail === 0) this.strHead = e;
    else m.write32(this.strTail + 12, e);
    this.strTail = e;
    return label;
  }

  /** The label of a STRING_CST (assigned when first needed). */
  private stringLabel(n: number): number {
    const tr = this.tr;
    const l = tr.op2(n);
    if (l !== 0) return l - 1;
    const label = this.addString(tr.op0(n), tr.op1(n), true);
    tr.set(n, 24, label + 1);
    return label;
  }

  // ---- expressions ----------------------------------------------------------------------------------

  private loadOp(t: number): Op {
    const ty = this.ty;
    switch (ty.kind(t)) {
      case K.CHAR:
      case K.SCHAR:
        return Op.LDB;
      case K.UCHAR:
        return Op.LDBU;
      case K.SHORT:
        return Op.LDH;
      case K.USHORT:
        return Op.LDHU;
      default:
        return Op.LD;
    }
  }

  private storeOp(t: number): Op {
    const size = this.ty.size(t);
    return size === 1 ? Op.STB : size === 2 ? Op.STH : Op.ST;
  }

  /** Is a value of this type held by address (arrays, structs, functions)? */
  private byAddress(t: number): boolean {
    const k = this.ty.kind(t);
    return k === K.ARRAY || k === K.STRUCT || k === K.UNION || k === K.FUNC;
  }

  /** A decl's symbol operand: [kind, symbol]. */
  private declSym(d: number): [number, number] {
    const tr = this.tr;
    if (tr.dFlags(d) & DF_LOCAL_STATIC) return [SYM_STATIC, this.s.declLabel(d)];
    return [SYM_GLOBAL, this.m.readU32(d + D_NAME)];
  }

  private isFrameDecl(d: number): boolean {
    const tr = this.tr;
    const k = tr.dKind(d);
    return (k === DK.PARM || k === DK.VAR) && !(tr.dFlags(d) & (DF_GLOBAL | DF_LOCAL_STATIC));
  }

  /** The address of an lvalue (or of an aggregate value) into r0. */
  private addr(e: number): void {
    const tr = this.tr;
    switch (tr.code(e)) {
      case N.DECL_REF: {
        const d = tr.op0(e);
        if (this.isFrameDecl(d)) this.emit(Op.ADDI, 0, FP, 0, tr.dOffset(d));
        else {
          const [sk, sym] = this.declSym(d);
          this.emit(Op.LI, 0, 0, 0, 0, sk, sym);
        }
        return;
      }
      case N.DEREF:
        this.expr(tr.op0(e));
        return;
      case N.MEMBER:
        this.addr(tr.op0(e));
        if (tr.op1(e) !== 0) this.emit(Op.ADDI, 0, 0, 0, tr.op1(e));
        return;
      case N.STRING_CST:
        this.emit(Op.LI, 0, 0, 0, 0, SYM_STRING, this.stringLabel(e));
        return;
      default:
        // an aggregate rvalue (assignment, conditional, comma): its value is its address
        this.expr(e);
    }
  }

  /** A simple operand (constant, frame scalar) straight into register r: true if done. */
  private simple(e: number, r: number): boolean {
    if (this.opt === 0) return false;
    const tr = this.tr;
    const c = tr.code(e);
    if (c === N.INT_CST) {
      this.li(r, tr.value(e));
      return true;
    }
    if (c === N.DECL_REF) {
      const d = tr.op0(e);
      if (this.isFrameDecl(d) && !this.byAddress(tr.type(e))) {
        this.emit(this.loadOp(tr.type(e)), r, FP, 0, tr.dOffset(d));
        return true;
      }
    }
    return false;
  }

  /** Operands a and b into r0 and r1. */
  private operands(a: number, b: number): void {
    this.expr(a);
    if (this.simple(b, 1)) return;
    this.emit(Op.PUSH, 0, 0);
    this.expr(b);
    this.emit(Op.MOV, 1, 0);
    this.emit(Op.POP, 0);
  }

  /** Narrow r0 from type `from` to integer type `to` (sign- or zero-extending), using r1. */
  private narrow(from: number, to: number): void {
    const ty = this.ty;
    const kt = ty.kind(to);
    if (ty.kind(from) === kt) return;
    switch (kt) {
      case K.CHAR:
      case K.SCHAR:
        this.li(1, 24);
        this.emit(Op.SHL, 0, 0, 1);
        this.emit(Op.SAR, 0, 0, 1);
        break;
      case K.UCHAR:
        this.li(1, 0xff);
        this.emit(Op.AND, 0, 0, 1);
        break;
      case K.SHORT:
        this.li(1, 16);
        this.emit(Op.SHL, 0, 0, 1);
        this.emit(Op.SAR, 0, 0, 1);
        break;
      case K.USHORT:
        this.li(1, 0xffff);
        this.emit(Op.AND, 0, 0, 1);
        break;
      default:
        break;
    }
  }

  /** expand_expr: the value of e into r0 (aggregates: their address). */
  private expr(e: number): void {
    const prev = this.libc.enter(this.symExpand);
    this.expr1(e);
    this.libc.work(200);
    this.libc.leave(prev);
  }

  private expr1(e: number): void {
    const tr = this.tr;
    const ty = this.ty;
    const code = tr.code(e);
    const t = tr.type(e);
    switch (code) {
      case N.INT_CST:
        this.li(0, tr.value(e));
        return;
      case N.STRING_CST:
        this.addr(e);
        return;
      case N.DECL_REF: {
        const d = tr.op0(e);
        if (this.byAddress(t)) return this.addr(e);
        if (this.isFrameDecl(d)) {
          this.emit(this.loadOp(t), 0, FP, 0, tr.dOffset(d));
          return;
        }
        this.addr(e);
        this.emit(this.loadOp(t), 0, 0, 0, 0);
        return;
      }
      case N.ADDR:
        this.addr(tr.op0(e));
        return;
      case N.DEREF:
        this.expr(tr.op0(e));
        if (!this.byAddress(t) && !ty.isVoid(t)) this.emit(this.loadOp(t), 0, 0, 0, 0);
        return;
      case N.MEMBER:
        this.addr(tr.op0(e));
        if (this.byAddress(t)) {
          if (tr.op1(e) !== 0) this.emit(Op.ADDI, 0, 0, 0, tr.op1(e));
        } else this.emit(this.loadOp(t), 0, 0, 0, tr.op1(e));
        return;
      case N.ADD: case N.SUB: case N.MUL: case N.DIV: case N.MOD: case N.SHL: case N.SHR:
      case N.BAND: case N.BOR: case N.BXOR: {
        this.operands(tr.op0(e), tr.op1(e));
        this.emit(this.arithOp(code, (tr.flags(e) & NF_UNSIGNED) !== 0), 0, 0, 1);
        return;
      }
      case N.EQ: case N.NE: case N.LT: case N.LE: case N.GT: case N.GE: {
        this.operands(tr.op0(e), tr.op1(e));
        this.compare(code, (tr.flags(e) & NF_UNSIGNED) !== 0);
        return;
      }
      case N.LOGAND:
      case N.LOGOR: {
        const lshort = this.newLabel(), lend = this.newLabel();
        const j = code === N.LOGAND ? Op.JZ : Op.JNZ;
        this.expr(tr.op0(e));
        this.jump(j, 0, lshort);
        this.expr(tr.op1(e));
        this.jump(j, 0, lshort);
        this.li(0, code === N.LOGAND ? 1 : 0);
        this.jump(Op.JMP, 0, lend);
        this.label(lshort);
        this.li(0, code === N.LOGAND ? 0 : 1);
        this.label(lend);
        return;
      }
      case N.LOGNOT:
        this.expr(tr.op0(e));
        this.li(1, 0);
        this.emit(Op.SEQ, 0, 0, 1);
        return;
      case N.NEG:
        this.expr(tr.op0(e));
        this.emit(Op.NEG, 0, 0);
        return;
      case N.BITNOT:
        this.expr(tr.op0(e));
        this.emit(Op.NOT, 0, 0);
        return;
      case N.CONVERT: {
        const a = tr.op0(e);
        this.expr(a);
        if (ty.isInteger(t)) this.narrow(tr.type(a), t);
        return;
      }
      case N.ASSIGN:
        this.assign(e);
        return;
      case N.COMPOUND:
        this.compound(e);
        return;
      case N.PREINC: case N.PREDEC: case N.POSTINC: case N.POSTDEC:
        this.incdec(e, code === N.POSTINC || code === N.POSTDEC);
        return;
      case N.COND: {
        const lelse = this.newLabel(), lend = this.newLabel();
        this.expr(tr.op0(e));
        this.jump(Op.JZ, 0, lelse);
        this.expr(tr.op1(e));
        this.jump(Op.JMP, 0, lend);
        this.label(lelse);
        this.expr(tr.op2(e));
        this.label(lend);
        return;
      }
      case N.COMMA:
        this.expr(tr.op0(e));
        this.expr(tr.op1(e));
        return;
      case N.CALL:
        this.call(e);
        return;
      case N.SYSCALL: {
        const n = tr.op1(e);
        this.pushArgs(tr.op0(e));
        for (let r = 0; r < n; r++) this.emit(Op.POP, r);
        this.emit(Op.SYS);
        return;
      }
      default:
        this.li(0, 0);
    }
  }

  private arithOp(code: N, unsigned: boolean): Op {
    switch (code) {
      case N.ADD: return Op.ADD;
      case N.SUB: return Op.SUB;
      case N.MUL: return Op.MUL;
      case N.DIV: return unsigned ? Op.DIVU : Op.DIV;
      case N.MOD: return unsigned ? Op.REMU : Op.REM;
      case N.SHL: return Op.SHL;
      case N.SHR: return unsigned ? Op.SHR : Op.SAR;
      case N.BAND: return Op.AND;
      case N.BOR: return Op.OR;
      default: return Op.XOR;
    }
  }

  /** r0 = r0 cmp r1 */
  private compare(code: N, u: boolean): void {
    switch (code) {
      case N.EQ: this.emit(Op.SEQ, 0, 0, 1); break;
      case N.NE: this.emit(Op.SNE, 0, 0, 1); break;
      case N.LT: this.emit(u ? Op.SLTU : Op.SLT, 0, 0, 1); break;
      case N.LE: this.emit(u ? Op.SLEU : Op.SLE, 0, 0, 1); break;
      case N.GT: this.emit(u ? Op.SLTU : Op.SLT, 0, 1, 0); break;
      default: this.emit(u ? Op.SLEU : Op.SLE, 0, 1, 0); break;
    }
  }

  private assign(e: number): void {
    const tr = this.tr;
    const ty = this.ty;
    const lhs = tr.op0(e), rhs = tr.op1(e);
    const t = tr.type(e);
    if (ty.isRecord(t)) {
      this.addr(lhs);
      this.emit(Op.PUSH, 0, 0);
      this.addr(rhs);
      this.emit(Op.MOV, 1, 0);
      this.emit(Op.POP, 0);
      this.copyBlock(ty.size(t));
      return;
    }
    if (this.opt > 0 && tr.code(lhs) === N.DECL_REF && this.isFrameDecl(tr.op0(lhs))) {
      this.expr(rhs);
      this.emit(this.storeOp(t), 0, FP, 0, tr.dOffset(tr.op0(lhs)));
      return;
    }
    this.addr(lhs);
    this.emit(Op.PUSH, 0, 0);
    this.expr(rhs);
    this.emit(Op.POP, 1);
    this.emit(this.storeOp(t), 0, 1, 0, 0);
  }

  private compound(e: number): void {
    const tr = this.tr;
    const lhs = tr.op0(e);
    const t = tr.type(e);
    const op = tr.op2(e) as N;
    this.addr(lhs);
    this.emit(Op.PUSH, 0, 0);
    this.expr(tr.op1(e));
    this.emit(Op.MOV, 1, 0);
    this.emit(Op.LD, 2, SP, 0, 0);
    this.emit(this.loadOp(t), 0, 2, 0, 0);
    this.emit(this.arithOp(op, (tr.flags(e) & NF_UNSIGNED) !== 0), 0, 0, 1);
    if (this.ty.isInteger(t)) this.narrow(this.ty.int, t);
    this.emit(Op.POP, 2);
    this.emit(this.storeOp(t), 0, 2, 0, 0);
  }

  private incdec(e: number, post: boolean): void {
    const tr = this.tr;
    const t = tr.type(e);
    this.addr(tr.op0(e));
    this.emit(Op.MOV, 2, 0);
    this.emit(this.loadOp(t), 0, 2, 0, 0);
    if (post) this.emit(Op.MOV, 3, 0);
    this.emit(Op.ADDI, 0, 0, 0, tr.op1(e));
    if (this.ty.isInteger(t)) this.narrow(this.ty.int, t);
    this.emit(this.storeOp(t), 0, 2, 0, 0);
    if (post) this.emit(Op.MOV, 0, 3);
  }

  /** Push a chain of arguments, last first. */
  private pushArgs(a: number): void {
    if (a === 0) return;
    this.pushArgs(this.tr.next(a));
    this.expr(a);
    this.emit(Op.PUSH, 0, 0);
  }

  private call(e: number): void {
    const tr = this.tr;
    const f = tr.op0(e);
    const nargs = tr.op2(e);
    this.pushArgs(tr.op1(e));
    const target = tr.code(f) === N.ADDR ? tr.op0(f) : 0;
    if (target !== 0 && tr.code(target) === N.DECL_REF && tr.dKind(tr.op0(target)) === DK.FUNC) {
      this.emit(Op.CALL, 0, 0, 0, 0, SYM_GLOBAL, this.m.readU32(tr.op0(target) + D_NAME));
    } else {
      this.expr(f);
      this.emit(Op.CALLR, 0, 0);
    }
    if (nargs > 0) this.emit(Op.ADDI, SP, SP, 0, 4 * nargs);
  }

  // ---- data ----------------------------------------------------------------------------------------

  /** The variables and string literals, after the last function. */
  finish(): void {
    const prev = this.libc.enter(this.symVar);
    const tr = this.tr;
    const out = this.out;
    let section = "";
    const sectionTo = (s: string) => {
      if (s !== section) out.write(`\t${s}\n`);
      section = s;
    };
    for (let d = this.s.varHead; d !== 0; d = this.m.readU32(d + 24)) {
      const flags = tr.dFlags(d);
      const sc = tr.dStorage(d);
      if (sc === SC.EXTERN && !(flags & DF_INITIALIZED)) continue;
      const t = tr.dType(d);
      const isLocalStatic = (flags & DF_LOCAL_STATIC) !== 0;
      const name = isLocalStatic ? `.LS${this.s.declLabel(d)}` : this.s.idents.name(tr.dName(d));
      let size = this.ty.size(t);
      if (this.ty.isArray(t) && this.ty.count(t) < 0) size = this.ty.size(this.ty.target(t));
      size = Math.max(size, 1);
      const align = Math.max(this.ty.align(t), 1);
      const local = sc === SC.STATIC || isLocalStatic;
      this.libc.work(200);
      if (flags & DF_INITIALIZED) {
        sectionTo(".data");
        if (!local) out.write(`\t.globl ${name}\n`);
        if (align > 1) out.write(`\t.align ${align}\n`);
        out.write(`${name}:\n`);
        this.initData(this.s.declInit(d), size);
      } else if (local) {
        sectionTo(".bss");
        if (align > 1) out.write(`\t.align ${align}\n`);
        out.write(`${name}:\n\t.zero ${size}\n`);
      } else {
        out.write(`\t.comm ${name}, ${size}\n`);
      }
    }
    if (this.strHead !== 0) {
      sectionTo(".data");
      for (let e = this.strHead; e !== 0; e = this.m.readU32(e + 12)) {
        out.write(`\t.align 4\n.LC${this.m.read32(e + 8)}:\n`);
        this.bytes(this.m.readU32(e), this.m.read32(e + 4), this.m.read32(e + 16) !== 0);
      }
    }
    this.libc.leave(prev);
  }

  /** Emit the bytes of a static initializer chain for an object of `size` bytes. */
  private initData(init: number, size: number): void {
    const tr = this.tr;
    const out = this.out;
    let pos = 0;
    for (let e = init; e !== 0; e = tr.next(e)) {
      const off = tr.op1(e);
      if (off < pos) continue;
      if (off > pos) out.write(`\t.zero ${off - pos}\n`);
      pos = off;
      if (tr.code(e) === N.INIT_STR) {
        const n = tr.op2(e);
        this.bytes(tr.op0(e), n, false);
        pos += n;
        continue;
      }
      const et = tr.type(e);
      const esize = this.ty.size(et);
      const a = this.s.staticAddress(tr.op0(e)) ?? [0, 0, 0];
      let sym = "";
      if (a[0] === 2) sym = `.LC${this.stringLabel(a[1])}`;
      else if (a[0] === 1) {
        const [sk, s] = this.declSym(a[1]);
        sym = this.symName(sk, s);
      }
      const v = a[2];
      if (esize === 1) out.write(`\t.byte ${v & 0xff}\n`);
      else if (esize === 2) out.write(`\t.half ${v & 0xffff}\n`);
      else if (sym !== "") out.write(`\t.word ${v === 0 ? sym : v > 0 ? `${sym}+${v}` : `${sym}${v}`}\n`);
      else out.write(`\t.word ${v}\n`);
      pos += esize;
    }
    if (size > pos) out.write(`\t.zero ${size - pos}\n`);
  }

  /** n bytes at p as .ascii/.asciz (with a NUL after them when `nul`). */
  private bytes(p: number, n: number, nul: boolean): void {
    const m = this.m;
    let s = "";
    for (let i = 0; i < n; i++) {
      const c = m.read8(p + i);
      if (c === 34) s += '\\"';
      else if (c === 92) s += "\\\\";
      else if (c === 10) s += "\\n";
      else if (c === 9) s += "\\t";
      else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
      else s += `\\${c.toString(8).padStart(3, "0")}`;
    }
    this.out.write(`\t${nul ? ".asciz" : ".ascii"} "${s}"\n`);
    this.libc.work(4 * n);
  }
}
