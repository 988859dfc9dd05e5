// The NZ32 instruction set (docs/toolchain.md): register names, opcodes,
// operand forms, encoding and decoding. Shared by as (encoding), nzx
// (decoding), ld (its built-in startup code) and cc1 (register and mnemonic
// names). Constant tables only: nothing here grows with a program's input.
//
// Every instruction is 8 bytes, little-endian:
//
//    byte 0   byte 1   byte 2   byte 3   bytes 4-7
//    opcode   rd       rs       rt       imm (int32)
//
// Fields an instruction does not use are zero. Semantics the table in
// docs/toolchain.md leaves open, fixed here:
//   - shifts use the low 5 bits of rt (as x86 masks its shift count);
//   - div/rem truncate toward zero; INT_MIN / -1 wraps to INT_MIN (rem 0);
//     only a zero divisor traps (SIGFPE);
//   - `call` pushes pc+8, `ret` pops into pc; `enter imm` is push fp;
//     fp = sp; sp -= imm; `leave` is sp = fp; pop fp.

export const INSN_BYTES = 8;

/** r0-r7 = 0-7, sp = 8, fp = 9. */
export const REG_NAMES = ["r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "sp", "fp"] as const;
export type RegName = (typeof REG_NAMES)[number];
export const NREGS = REG_NAMES.length;
export const REG_SP = 8;
export const REG_FP = 9;

/** The register's number, or -1 for a name that is not a register. */
export function regNumber(name: string): number {
  return (REG_NAMES as readonly string[]).indexOf(name);
}

export const OP = {
  LI: 0x01,
  MOV: 0x02,
  ADDI: 0x03,
  ADD: 0x10,
  SUB: 0x11,
  MUL: 0x12,
  DIV: 0x13,
  REM: 0x14,
  DIVU: 0x15,
  REMU: 0x16,
  AND: 0x17,
  OR: 0x18,
  XOR: 0x19,
  SHL: 0x1a,
  SHR: 0x1b,
  SAR: 0x1c,
  SEQ: 0x20,
  SNE: 0x21,
  SLT: 0x22,
  SLE: 0x23,
  SLTU: 0x24,
  SLEU: 0x25,
  NEG: 0x28,
  NOT: 0x29,
  LD: 0x30,
  LDH: 0x31,
  LDHU: 0x32,
  LDB: 0x33,
  LDBU: 0x34,
  ST: 0x38,
  STH: 0x39,
  STB: 0x3a,
  JMP: 0x40,
  JZ: 0x41,
  JNZ: 0x42,
  CALL: 0x43,
  CALLR: 0x44,
  RET: 0x45,
  PUSH: 0x48,
  POP: 0x49,
  ENTER: 0x4a,
  LEAVE: 0x4b,
  SYS: 0x50,
} as const;
export type Opcode = (typeof OP)[keyof typeof OP];

/**
 * Operand forms, as written in assembly (fields in brackets):
 *   "rd,imm" li | "rd,rs" mov neg not | "rd,rs,imm" addi | "rd,rs,rt" alu and set
 *   "rd,mem" loads: rd, [rs+imm] | "mem,rt" stores: [rs+imm], rt
 *   "imm" jmp call enter | "rs,imm" jz jnz | "rs" callr push | "rd" pop | "" ret leave sys
 */
export type Form = "rd,imm" | "rd,rs" | "rd,rs,imm" | "rd,rs,rt" | "rd,mem" | "mem,rt" | "imm" | "rs,imm" | "rs" | "rd" | "";

export interface InsnInfo {
  readonly name: string;
  readonly op: Opcode;
  readonly form: Form;
}

export const INSNS: readonly InsnInfo[] = [
  { name: "li", op: OP.LI, form: "rd,imm" },
  { name: "mov", op: OP.MOV, form: "rd,rs" },
  { name: "addi", op: OP.ADDI, form: "rd,rs,imm" },
  { name: "add", op: OP.ADD, form: "rd,rs,rt" },
  { name: "sub", op: OP.SUB, form: "rd,rs,rt" },
  { name: "mul", op: OP.MUL, form: "rd,rs,rt" },
  { name: "div", op: OP.DIV, form: "rd,rs,rt" },
  { name: "rem", op: OP.REM, form: "rd,rs,rt" },
  { name: "divu", op: OP.DIVU, form: "rd,rs,rt" },
  { name: "remu", op: OP.REMU, form: "rd,rs,rt" },
  { name: "and", op: OP.AND, form: "rd,rs,rt" },
  { name: "or", op: OP.OR, form: "rd,rs,rt" },
  { name: "xor", op: OP.XOR, form: "rd,rs,rt" },
  { name: "shl", op: OP.SHL, form: "rd,rs,rt" },
  { name: "shr", op: OP.SHR, form: "rd,rs,rt" },
  { name: "sar", op: OP.SAR, form: "rd,rs,rt" },
  { name: "seq", op: OP.SEQ, form: "rd,rs,rt" },
  { name: "sne", op: OP.SNE, form: "rd,rs,rt" },
  { name: "slt", op: OP.SLT, form: "rd,rs,rt" },
  { name: "sle", op: OP.SLE, form: "rd,rs,rt" },
  { name: "sltu", op: OP.SLTU, form: "rd,rs,rt" },
  { name: "sleu", op: OP.SLEU, form: "rd,rs,rt" },
  { name: "neg", op: OP.NEG, form: "rd,rs" },
  { name: "not", op: OP.NOT, form: "rd,rs" },
  { name: "ld", op: OP.LD, form: "rd,mem" },
  { name: "ldh", op: OP.LDH, form: "rd,mem" },
  { name: "ldhu", op: OP.LDHU, form: "rd,mem" },
  { name: "ldb", op: OP.LDB, form: "rd,mem" },
  { name: "ldbu", op: OP.LDBU, form: "rd,mem" },
  { name: "st", op: OP.ST, form: "mem,rt" },
  { name: "sth", op: OP.STH, form: "mem,rt" },
  { name: "stb", op: OP.STB, form: "mem,rt" },
  { name: "jmp", op: OP.JMP, form: "imm" },
  { name: "jz", op: OP.JZ, form: "rs,imm" },
  { name: "jnz", op: OP.JNZ, form: "rs,imm" },
  { name: "call", op: OP.CALL, form: "imm" },
  { name: "callr", op: OP.CALLR, form: "rs" },
  { name: "ret", op: OP.RET, form: "" },
  { name: "push", op: OP.PUSH, form: "rs" },
  { name: "pop", op: OP.POP, form: "rd" },
  { name: "enter", op: OP.ENTER, form: "imm" },
  { name: "leave", op: OP.LEAVE, form: "" },
  { name: "sys", op: OP.SYS, form: "" },
];

/** The mnemonic's entry, or undefined. */
export function insnByName(name: string): InsnInfo | undefined {
  return INSNS.find((i) => i.name === name);
}

/** Indexed by opcode byte: the instruction, or undefined for an illegal opcode. */
export const INSN_BY_OP: readonly (InsnInfo | undefined)[] = (() => {
  const t: (InsnInfo | undefined)[] = new Array(256).fill(undefined);
  for (const i of INSNS) t[i.op] = i;
  return t;
})();

/** Whether the form carries an immediate (an operand that may be a symbol: R_ABS32). */
export function formHasImm(form: Form): boolean {
  return form === "rd,imm" || form === "rd,rs,imm" || form === "rd,mem" || form === "mem,rt" || form === "imm" || form === "rs,imm";
}

/** The first word of an instruction: opcode | rd << 8 | rs << 16 | rt << 24 (as a signed int32). */
export function word0(op: number, rd = 0, rs = 0, rt = 0): number {
  return (op & 0xff) | ((rd & 0xff) << 8) | ((rs & 0xff) << 16) | ((rt & 0xff) << 24);
}

/** The 8 bytes of one instruction. */
export function encode(op: number, rd = 0, rs = 0, rt = 0, imm = 0): Uint8Array {
  const b = new Uint8Array(INSN_BYTES);
  const dv = new DataView(b.buffer);
  dv.setInt32(0, word0(op, rd, rs, rt), true);
  dv.setInt32(4, imm | 0, true);
  return b;
}

export interface Decoded {
  op: number;
  rd: number;
  rs: number;
  rt: number;
  imm: number;
}

export function decode(w0: number, imm: number): Decoded {
  return { op: w0 & 0xff, rd: (w0 >>> 8) & 0xff, rs: (w0 >>> 16) & 0xff, rt: w0 >>> 24, imm: imm | 0 };
}

function regName(n: number): string {
  return REG_NAMES[n] ?? `?${n}`;
}

/** One instruction as assembly text (for listings and tests); `.word` form for an illegal opcode. */
export function disassemble(w0: number, imm: number): string {
  const d = decode(w0, imm);
  const info = INSN_BY_OP[d.op];
  if (info === undefined) return `.word 0x${(w0 >>> 0).toString(16)}, 0x${(imm >>> 0).toString(16)}`;
  const mem = `[${regName(d.rs)}${d.imm < 0 ? `-${-d.imm}` : d.imm > 0 ? `+${d.imm}` : ""}]`;
  const hex = (v: number) => (v < 0 || v > 9 ? `0x${(v >>> 0).toString(16)}` : String(v));
  switch (info.form) {
    case "rd,imm":
      return `${info.name} ${regName(d.rd)}, ${d.imm}`;
    case "rd,rs":
      return `${info.name} ${regName(d.rd)}, ${regName(d.rs)}`;
    case "rd,rs,imm":
      return `${info.name} ${regName(d.rd)}, ${regName(d.rs)}, ${d.imm}`;
    case "rd,rs,rt":
      return `${info.name} ${regName(d.rd)}, ${regName(d.rs)}, ${regName(d.rt)}`;
    case "rd,mem":
      return `${info.name} ${regName(d.rd)}, ${mem}`;
    case "mem,rt":
      return `${info.name} ${mem}, ${regName(d.rt)}`;
    case "imm":
      return `${info.name} ${info.op === OP.ENTER ? d.imm : hex(d.imm)}`;
    case "rs,imm":
      return `${info.name} ${regName(d.rs)}, ${hex(d.imm)}`;
    case "rs":
      return `${info.name} ${regName(d.rs)}`;
    case "rd":
      return `${info.name} ${regName(d.rd)}`;
    case "":
      return info.name;
  }
}
