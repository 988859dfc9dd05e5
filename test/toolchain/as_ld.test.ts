// as, ld and nzx end to end: hand-written NZ32 programs assembled, linked and
// run in a booted machine; the assembler's diagnostics; ld's errors; the
// interpreter's traps; and the object format read back on the host.

import { describe, expect, it } from "vitest";
import { Machine, type RunResult } from "../../apps/machine.ts";
import { INSNS, INSN_BY_OP, OP, decode, disassemble, encode, word0 } from "../../apps/toolchain/isa.ts";
import {
  type ObjectFile, SEC_BSS, SEC_COMMON, SEC_DATA, SEC_TEXT, SEC_UNDEF, TEXT_BASE, readExecutable, readObject, writeObject,
} from "../../apps/toolchain/objfmt.ts";
import { credFor } from "../../kernel/task.ts";

function machine(): Machine {
  return new Machine({ memMiB: 32 });
}

function put(m: Machine, path: string, text: string | Uint8Array): void {
  m.k.vfs.writeFile(path, text, 0o644);
}

/** A file's bytes, or null if it does not exist. */
function get(m: Machine, path: string): Uint8Array | null {
  const ino = m.k.vfs.lookup(path, "/", credFor(0));
  return typeof ino === "number" ? null : ino.data.slice(0, ino.size);
}

function mode(m: Machine, path: string): number {
  const ino = m.k.vfs.lookup(path, "/", credFor(0));
  if (typeof ino === "number") throw new Error(`${path}: ${ino}`);
  return ino.mode & 0o7777;
}

/** Assemble each source (name -> text) in /tmp; the results by name. */
function assemble(m: Machine, sources: Record<string, string>): Record<string, RunResult> {
  const out: Record<string, RunResult> = {};
  for (const [name, text] of Object.entries(sources)) {
    put(m, `/tmp/${name}.s`, text);
    out[name] = m.run(["as", `/tmp/${name}.s`, "-o", `/tmp/${name}.o`]);
  }
  return out;
}

/** Assemble and link the sources into /tmp/prog, asserting both succeed. */
function build(m: Machine, sources: Record<string, string>, ldArgs: string[] = []): void {
  for (const [name, r] of Object.entries(assemble(m, sources))) {
    expect(r.stderr, `as ${name}`).toBe("");
    expect(r.exitCode, `as ${name}`).toBe(0);
  }
  const r = m.run(["ld", "-o", "/tmp/prog", ...ldArgs, ...Object.keys(sources).map((n) => `/tmp/${n}.o`)]);
  expect(r.stderr, "ld").toBe("");
  expect(r.exitCode, "ld").toBe(0);
}

function buildAndRun(sources: Record<string, string>, args: string[] = [], ldArgs: string[] = []): RunResult {
  const m = machine();
  build(m, sources, ldArgs);
  return m.run(["/tmp/prog", ...args]);
}

/** A small runtime in its own object: strlen, puts, print_int (calls across objects, .comm, local labels). */
const LIB = `
# lib.s: strlen(s), puts(s), print_int(n)
        .text
        .globl strlen
strlen:
        ld   r1, [sp+4]
        mov  r0, r1
.Lloop:
        ldbu r2, [r0]
        jz   r2, .Ldone
        addi r0, r0, 1
        jmp  .Lloop
.Ldone:
        sub  r0, r0, r1
        ret

        .globl puts
puts:
        enter 0
        ld   r1, [fp+8]
        push r1
        call strlen
        addi sp, sp, 4
        mov  r3, r0
        li   r0, 4              # write(1, s, len)
        li   r1, 1
        ld   r2, [fp+8]
        sys
        li   r0, 4              # write(1, "\\n", 1)
        li   r1, 1
        li   r2, newline
        li   r3, 1
        sys
        leave
        ret

        .globl print_int
print_int:                      # decimal and a newline
        enter 0
        ld   r1, [fp+8]
        li   r2, numbuf+15
        li   r3, 10
        stb  [r2], r3
        li   r4, 0
        slt  r5, r1, r4
        jz   r5, .Lpos
        li   r4, 1
        neg  r1, r1
.Lpos:
        addi r2, r2, -1
        remu r5, r1, r3
        addi r5, r5, '0'
        stb  [r2], r5
        divu r1, r1, r3
        jnz  r1, .Lpos
        jz   r4, .Lout
        addi r2, r2, -1
        li   r5, '-'
        stb  [r2], r5
.Lout:
        li   r0, 4
        li   r1, 1
        li   r3, numbuf+16
        sub  r3, r3, r2
        sys
        leave
        ret

        .data
newline: .byte 10
        .comm numbuf, 16
`;

describe("programs: as, ld and nzx", () => {
  it("hello: string output with write; main's result is the exit status", () => {
    const r = buildAndRun({
      hello: `
        .text
        .globl main
main:   enter 0
        li   r0, 4          # write
        li   r1, 1
        li   r2, msg
        li   r3, 14
        sys
        li   r0, 42
        leave
        ret
        .data
msg:    .asciz "hello, world!\\n"
`,
    });
    expect(r.stdout).toBe("hello, world!\n");
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(42);
  });

  it("factorial: recursion, mul, and a decimal printer in another object", () => {
    const r = buildAndRun({
      fact: `
        .text
        .globl main
main:   enter 0
        li   r1, 10
        push r1
        call fact
        addi sp, sp, 4
        push r0
        call print_int
        addi sp, sp, 4
        li   r1, 5
        push r1
        call fact
        addi sp, sp, 4
        leave
        ret

fact:   enter 0              # fact(n) = n <= 1 ? 1 : n * fact(n - 1)
        ld   r1, [fp+8]
        li   r2, 1
        sle  r3, r1, r2
        jz   r3, .Lrec
        li   r0, 1
        leave
        ret
.Lrec:  addi r1, r1, -1
        push r1
        call fact
        addi sp, sp, 4
        ld   r1, [fp+8]
        mul  r0, r0, r1
        leave
        ret
`,
      lib: LIB,
    });
    expect(r.stdout).toBe("3628800\n");
    expect(r.exitCode).toBe(120);
  });

  it("a loop summing an array in .data", () => {
    const r = buildAndRun({
      sum: `
        .data
        .align 4
array:  .word 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, -5, 0x100
count:  .word 12
        .text
        .globl main
main:   enter 0
        li   r1, array
        li   r2, count
        ld   r2, [r2]
        li   r6, 0
.Lloop: jz   r2, .Ldone
        ld   r3, [r1]
        add  r6, r6, r3
        addi r1, r1, 4
        addi r2, r2, -1
        jmp  .Lloop
.Ldone: push r6
        call print_int
        addi sp, sp, 4
        li   r0, 50
        leave
        ret
`,
      lib: LIB,
    });
    expect(r.stdout).toBe("306\n");
    expect(r.exitCode).toBe(50);
  });

  it(".bss and .comm: zero-filled, writable, several pages", () => {
    const r = buildAndRun({
      bss: `
        .bss
        .align 4
counter: .zero 4
buf:    .zero 64
        .comm big, 100000
        .text
        .globl main
main:   li   r1, big
        ld   r0, [r1+99996]
        jnz  r0, .Lbad
        ld   r0, [r1+50000]
        jnz  r0, .Lbad
        li   r2, 0x55aa
        st   [r1+99996], r2
        ld   r3, [r1+99996]
        jz   r3, .Lbad
        li   r1, counter
        ld   r0, [r1]
        jnz  r0, .Lbad
        li   r2, 7
        st   [r1], r2
        li   r3, buf
        li   r4, 'o'
        stb  [r3], r4
        li   r4, 'k'
        stb  [r3+1], r4
        li   r4, '\\n'
        stb  [r3+2], r4
        li   r0, 4
        li   r1, 1
        li   r2, buf
        li   r3, 3
        sys
        li   r1, counter
        ld   r0, [r1]
        ret
.Lbad:  li   r0, 99
        ret
`,
    });
    expect(r.stdout).toBe("ok\n");
    expect(r.exitCode).toBe(7);
  });

  it("calls across two objects, with global data going both ways", () => {
    const r = buildAndRun({
      main: `
        .globl main, factor
        .data
factor: .word 3
        .text
main:   enter 0
        li   r1, 14
        push r1
        call triple
        addi sp, sp, 4
        li   r1, result
        ld   r0, [r1]
        leave
        ret
`,
      util: `
        .text
        .globl triple
triple: ld   r1, [sp+4]
        li   r2, factor
        ld   r2, [r2]
        mul  r0, r1, r2
        li   r3, result
        st   [r3], r0
        ret
        .comm result, 4
`,
    });
    expect(r.exitCode).toBe(42);
  });

  it("relocations in .data: a table of string pointers and a table of function pointers", () => {
    const r = buildAndRun({
      table: `
        .data
names:  .word s0, s1, s2, 0
funcs:  .word f_one, f_two, f_three
third:  .word names+8          # &names[2]
s0:     .asciz "zero"
s1:     .asciz "one"
s2:     .ascii "tw", "o\\0"
        .text
        .globl main
main:   enter 4
        li   r1, names
        st   [fp-4], r1
.Lnext: ld   r1, [fp-4]
        ld   r2, [r1]
        jz   r2, .Lend
        push r2
        call puts
        addi sp, sp, 4
        ld   r1, [fp-4]
        addi r1, r1, 4
        st   [fp-4], r1
        jmp  .Lnext
.Lend:  li   r1, third
        ld   r1, [r1]
        ld   r1, [r1]
        push r1
        call puts
        addi sp, sp, 4
        li   r1, funcs
        ld   r2, [r1+4]
        callr r2
        mov  r6, r0
        li   r1, funcs
        ld   r2, [r1+8]
        callr r2
        add  r0, r0, r6
        leave
        ret
f_one:  li r0, 1
        ret
f_two:  li r0, 20
        ret
f_three: li r0, 300
        ret
`,
      lib: LIB,
    });
    expect(r.stdout).toBe("zero\none\ntwo\ntwo\n");
    expect(r.exitCode).toBe(320 & 0xff);
  });

  it("argc, argv and envp reach main from the stack nzx builds", () => {
    const r = buildAndRun({
      args: `
        .text
        .globl main
main:   enter 0
        ld   r1, [fp+8]         # argc
        push r1
        call print_int
        addi sp, sp, 4
        ld   r6, [fp+12]        # argv
.Lnext: ld   r1, [r6]
        jz   r1, .Lenv
        push r1
        call puts
        addi sp, sp, 4
        addi r6, r6, 4
        jmp  .Lnext
.Lenv:  ld   r6, [fp+16]        # envp[0]
        ld   r1, [r6]
        push r1
        call puts
        addi sp, sp, 4
        li   r0, 0
        leave
        ret
`,
      lib: LIB,
    }, ["hello", "big world"]);
    expect(r.stdout).toBe("3\n/tmp/prog\nhello\nbig world\nPATH=/bin\n");
    expect(r.exitCode).toBe(0);
  });

  it("brk: the break starts after bss, grows, is usable, and shrinks", () => {
    const r = buildAndRun({
      brk: `
        .text
        .globl main
main:   li   r0, 45
        li   r1, 0
        sys                     # r0 = current break
        mov  r6, r0
        li   r1, end_of_bss
        sltu r2, r6, r1         # break below bss: wrong
        jnz  r2, .Lbad
        li   r0, 45
        addi r1, r6, 10000
        sys
        sub  r2, r0, r6
        li   r3, 10000
        sne  r2, r2, r3
        jnz  r2, .Lbad
        li   r2, 1234
        st   [r6], r2
        st   [r6+9996], r2
        ld   r3, [r6+9996]
        sne  r3, r3, r2
        jnz  r3, .Lbad
        li   r0, 45             # below the start: refused (the old break comes back)
        li   r1, 0x1000
        sys
        addi r1, r6, 10000
        sne  r2, r0, r1
        jnz  r2, .Lbad
        li   r0, 45             # shrink back
        mov  r1, r6
        sys
        sne  r2, r0, r6
        jnz  r2, .Lbad
        li   r0, 1000           # brk2(break + 4096, BRK_NOZERO)
        addi r1, r6, 4096
        li   r2, 1
        sys
        sub  r0, r0, r6
        li   r1, 4096
        sne  r0, r0, r1
        jnz  r0, .Lbad
        st   [r6+4092], r1
        li   r0, 0
        ret
.Lbad:  li   r0, 1
        ret
        .bss
        .zero 5000
end_of_bss: .zero 4
`,
    });
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
  });

  it("ALU semantics: 32-bit wrap, truncating division, unsigned ops, shifts, compares", () => {
    const cases: [string, number, number, (a: number, b: number) => number][] = [
      ["add", 0x7fffffff, 1, (a, b) => (a + b) | 0],
      ["sub", 5, 7, (a, b) => (a - b) | 0],
      ["mul", 123456789, 987654321, (a, b) => Math.imul(a, b)],
      ["div", -7, 2, (a, b) => (a / b) | 0],
      ["rem", -7, 2, (a, b) => a % b | 0],
      ["div", -0x80000000, -1, () => -0x80000000],
      ["rem", -0x80000000, -1, () => 0],
      ["divu", -7, 2, (a, b) => ((a >>> 0) / (b >>> 0)) | 0],
      ["remu", -7, 3, (a, b) => ((a >>> 0) % (b >>> 0)) | 0],
      ["and", 0xf0f0, 0x0ff0, (a, b) => a & b],
      ["or", 0xf000, 0x000f, (a, b) => a | b],
      ["xor", -1, 0x1234, (a, b) => a ^ b],
      ["shl", 1, 33, (a, b) => a << b],
      ["shr", -16, 2, (a, b) => a >>> b | 0],
      ["sar", -16, 2, (a, b) => a >> b],
      ["seq", 3, 3, (a, b) => Number(a === b)],
      ["sne", 3, 3, (a, b) => Number(a !== b)],
      ["slt", -1, 1, (a, b) => Number(a < b)],
      ["sle", 2, 2, (a, b) => Number(a <= b)],
      ["sltu", -1, 1, (a, b) => Number(a >>> 0 < b >>> 0)],
      ["sleu", 1, -1, (a, b) => Number(a >>> 0 <= b >>> 0)],
    ];
    let body = "";
    for (const [op, a, b] of cases) {
      body += `        li r1, ${a}\n        li r2, ${b}\n        ${op} r3, r1, r2\n        push r3\n        call print_int\n        addi sp, sp, 4\n`;
    }
    body += "        li r1, 5\n        neg r3, r1\n        push r3\n        call print_int\n        addi sp, sp, 4\n";
    body += "        li r1, 5\n        not r3, r1\n        push r3\n        call print_int\n        addi sp, sp, 4\n";
    body += "        li r1, bytes\n        ldb r3, [r1]\n        push r3\n        call print_int\n        addi sp, sp, 4\n";
    body += "        li r1, bytes\n        ldbu r3, [r1]\n        push r3\n        call print_int\n        addi sp, sp, 4\n";
    body += "        li r1, bytes\n        ldh r3, [r1+2]\n        push r3\n        call print_int\n        addi sp, sp, 4\n";
    body += "        li r1, bytes\n        ldhu r3, [r1+2]\n        push r3\n        call print_int\n        addi sp, sp, 4\n";
    body += "        li r1, bytes\n        li r2, 0x12345678\n        sth [r1+4], r2\n        stb [r1+6], r2\n        ld r3, [r1+4]\n        push r3\n        call print_int\n        addi sp, sp, 4\n";
    const r = buildAndRun({
      alu: `        .text\n        .globl main\nmain:   enter 0\n${body}        li r0, 0\n        leave\n        ret\n        .data\nbytes:  .byte 0xf0, 0\n        .half -2\n        .word -1\n`,
      lib: LIB,
    });
    const expected = [
      ...cases.map(([, a, b, f]) => f(a, b)),
      -5, ~5, -16, 0xf0, -2, 0xfffe, (0xff780000 | 0x5678) | 0,
    ];
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(expected.map((v) => `${v}\n`).join(""));
  });

  it("a large source: frags span many obstack chunks, a long string, many symbols", () => {
    let src = "        .text\n        .globl main\nmain:   li r1, 0\n";
    for (let i = 0; i < 3000; i++) src += `f${i}:    addi r1, r1, ${i % 7}\n`;
    src += "        li r2, total\n        st [r2], r1\n        li r0, 4\n        li r1, 1\n        li r2, long\n        li r3, 5000\n        sys\n";
    src += "        li r2, total\n        ld r0, [r2]\n        li r3, 255\n        and r0, r0, r3\n        ret\n";
    src += `        .data\nlong:   .ascii "${"x".repeat(4999)}\\n"\n        .comm total, 4\n`;
    const m = machine();
    build(m, { big: src });
    const obj = readObject(get(m, "/tmp/big.o")!);
    expect(obj.textSize).toBe(8 * (3000 + 1 + 12));
    expect(obj.symbols.filter((s) => /^f\d+$/.test(s.name))).toHaveLength(3000);
    const r = m.run(["/tmp/prog"]);
    let sum = 0;
    for (let i = 0; i < 3000; i++) sum += i % 7;
    expect(r.stdout).toBe(`${"x".repeat(4999)}\n`);
    expect(r.exitCode).toBe(sum & 255);
  });

  it("ld -e: a program with its own entry point and no crt0", () => {
    const r = buildAndRun({
      start: `
        .text
        .globl go
go:     li r0, 252          # exit_group(9)
        li r1, 9
        sys
`,
    }, [], ["-e", "go"]);
    expect(r.exitCode).toBe(9);
  });

  it("the executable: mode 0755, text at 0x00400000, data page aligned, bss after data, entry _start", () => {
    const m = machine();
    build(m, {
      p: "        .text\n        .globl main\nmain:   li r0, 0\n        ret\n        .data\nd:      .word 1, 2, 3\n        .bss\n        .zero 100\n",
    });
    expect(mode(m, "/tmp/prog")).toBe(0o755);
    const x = readExecutable(get(m, "/tmp/prog")!);
    expect(x.textAddr).toBe(TEXT_BASE);
    expect(x.entry).toBe(TEXT_BASE);
    expect(x.dataAddr % 4096).toBe(0);
    expect(x.dataAddr).toBeGreaterThanOrEqual(x.textAddr + x.textSize);
    expect([...x.data.subarray(0, 12)]).toEqual([1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0]);
    expect(x.bssSize).toBeGreaterThanOrEqual(100);
    expect(disassemble(new DataView(x.text.buffer).getInt32(0, true), 0)).toBe("li fp, 0");
  });

  it("the tools' work is charged to their own symbols", () => {
    const m = machine();
    put(m, "/tmp/w.s", LIB);
    const r = m.run(["as", "/tmp/w.s", "-o", "/tmp/w.o"]);
    const syms = r.profile.symbols.filter((s) => s.image === "as").map((s) => s.symbol);
    expect(syms).toEqual(expect.arrayContaining(["read_a_source_file", "md_assemble", "write_object_file", "htab_find_with_hash"]));
    build(m, { main: "        .text\n        .globl main\nmain:   li r1, 300000\n.L:     addi r1, r1, -1\n        jnz r1, .L\n        ret\n" });
    const run = m.run(["/tmp/prog"]);
    const exec = run.profile.symbols.find((s) => s.image === "nzx" && s.symbol === "execute");
    expect(exec).toBeDefined();
    const total = run.profile.symbols.filter((s) => s.image === "nzx").reduce((n, s) => n + s.cycles, 0);
    expect(exec!.cycles / total).toBeGreaterThan(0.9);
  });
});

describe("nzx traps", () => {
  const trap = (body: string) => buildAndRun({ t: `        .text\n        .globl main\nmain:\n${body}` });

  it("an illegal opcode is SIGILL: 132, Illegal instruction", () => {
    const r = trap("        li r0, 1\n        .word 0, 0\n        ret\n");
    expect(r.exitCode).toBe(132);
    expect(r.stderr).toBe("Illegal instruction\n");
  });

  it("a register field above fp is SIGILL too", () => {
    const r = trap(`        .word 0x${word0(OP.LI, 10).toString(16)}, 5\n        ret\n`);
    expect(r.exitCode).toBe(132);
  });

  it("division by zero is SIGFPE: 136, Floating point exception", () => {
    const r = trap("        li r1, 1\n        li r2, 0\n        div r0, r1, r2\n        ret\n");
    expect(r.exitCode).toBe(136);
    expect(r.stderr).toBe("Floating point exception\n");
  });

  it("remu by zero traps as well", () => {
    expect(trap("        li r1, 1\n        li r2, 0\n        remu r0, r1, r2\n        ret\n").exitCode).toBe(136);
  });

  it("a wild load is the kernel's SIGSEGV: 139, Segmentation fault", () => {
    const r = trap("        li r1, 0x10\n        ld r0, [r1]\n        ret\n");
    expect(r.exitCode).toBe(139);
    expect(r.stderr).toBe("Segmentation fault\n");
  });

  it("a store into text faults: text is mapped read-only", () => {
    expect(trap("        li r1, main\n        st [r1], r0\n        ret\n").exitCode).toBe(139);
  });

  it("a jump to an unmapped address faults on the instruction fetch", () => {
    expect(trap("        li r1, 0x20000000\n        callr r1\n        ret\n").exitCode).toBe(139);
  });

  it("runaway recursion overflows the 1 MiB stack into SIGSEGV", () => {
    expect(trap("        call main\n").exitCode).toBe(139);
  });

  it("exit through the program's own syscall, and unknown syscalls answer -ENOSYS", () => {
    const r = trap("        li r0, 9999\n        sys\n        mov r1, r0\n        neg r1, r1\n        li r0, 1\n        sys\n");
    expect(r.exitCode).toBe(38);
  });

  it("nzx refuses what is not an NZX executable", () => {
    const m = machine();
    put(m, "/tmp/junk", "#!/bin/nzx\nnot really\n");
    const r = m.run(["nzx", "/tmp/junk"]);
    expect(r.stderr).toBe("nzx: /tmp/junk: not an NZX executable\n");
    expect(r.exitCode).toBe(126);
    expect(m.run(["nzx", "/tmp/none"]).stderr).toBe("nzx: /tmp/none: No such file or directory\n");
  });
});

describe("as diagnostics", () => {
  const cases: [string, string][] = [
    ["foo r1", "no such instruction: `foo'"],
    ["add r1, r2, r9", "bad register name `r9'"],
    ["add r1, r2, 5", "bad register name `5'"],
    ["add r1, r2", "number of operands mismatch for `add'"],
    ["add r1, r2, r3, r4", "number of operands mismatch for `add'"],
    ["ret r1", "number of operands mismatch for `ret'"],
    ["li r1", "number of operands mismatch for `li'"],
    ["ld r1, r2", "bad operand `r2'"],
    ["ld r1, [r2+]", "bad operand `[r2+]'"],
    ["ld r1, [r2+4", "bad operand `[r2+4'"],
    ["ld r1, [x+4]", "bad register name `x'"],
    ["li r1, a+b", "bad operand `a+b'"],
    ["li r1, -sym", "bad operand `-sym'"],
    ["li r1, 0x", "bad operand `0x'"],
    ["li r1, 12abc", "bad operand `12abc'"],
    ["li r1, 99999999999", "value out of range: `99999999999'"],
    ["li r1, 5 6", "junk at end of line, first unrecognized character is `6'"],
    ["@", "junk at end of line, first unrecognized character is `@'"],
    ["jmp .Lnowhere", "local label `.Lnowhere' is not defined"],
    [".foo 1", "unknown pseudo-op: `.foo'"],
    [".align 3", "alignment not a power of 2"],
    [".align 0", "alignment not a power of 2"],
    [".byte sym", "bad operand `sym'"],
    [".ascii \"abc", "missing end-quote"],
    [".text junk", "junk at end of line, first unrecognized character is `j'"],
    [".bss\n        add r1, r1, r1", "attempt to store non-zero value in section `.bss'"],
    [".bss\n        .word 1", "attempt to store non-zero value in section `.bss'"],
    ["x:\nx:", "symbol `x' is already defined"],
    [".comm c, 4\nc:", "symbol `c' is already defined"],
    ["y: .word 1\n        .comm y, 4", "symbol `y' is already defined"],
    [".zero", "missing operand"],
  ];
  for (const [src, msg] of cases) {
    it(`${JSON.stringify(src)} -> ${msg}`, () => {
      const m = machine();
      put(m, "/tmp/t.s", `${src}\n`);
      const r = m.run(["as", "/tmp/t.s", "-o", "/tmp/t.o"]);
      const line = src.split("\n").length;
      expect(r.stderr).toBe(`/tmp/t.s:${line}: Error: ${msg}\n`);
      expect(r.exitCode).toBe(1);
      expect(get(m, "/tmp/t.o")).toBeNull();
    });
  }

  it("reports every error in a file, in order, then exits 1 without output", () => {
    const m = machine();
    put(m, "/tmp/t.s", "        .text\nmain:   li r0, 1\n        bogus\n        add r1, r2\n        jmp .Lx\n        .align 6\n        ret\n");
    const r = m.run(["as", "/tmp/t.s", "-o", "/tmp/t.o"]);
    expect(r.stderr).toBe(
      "/tmp/t.s:3: Error: no such instruction: `bogus'\n" +
      "/tmp/t.s:4: Error: number of operands mismatch for `add'\n" +
      "/tmp/t.s:6: Error: alignment not a power of 2\n" +
      "/tmp/t.s:5: Error: local label `.Lx' is not defined\n",
    );
    expect(r.exitCode).toBe(1);
    expect(get(m, "/tmp/t.o")).toBeNull();
  });

  it("a missing source file and a bad option", () => {
    const m = machine();
    expect(m.run(["as", "/tmp/nope.s", "-o", "/tmp/n.o"]).stderr).toBe("as: can't open /tmp/nope.s for reading: No such file or directory\n");
    const r = m.run(["as", "-z", "/tmp/nope.s"]);
    expect(r.stderr).toBe("as: unrecognized option '-z'\n");
    expect(r.exitCode).toBe(1);
  });

  it("comments, blank lines, several labels on a line, tabs and escapes are accepted", () => {
    const m = machine();
    put(m, "/tmp/ok.s", "# a comment\n\n\ta: b:\tc: li r1, '\\''  # trailing\n\t.ascii \"\\t\\x41\\101\\\"\\\\\\q\"\n");
    const r = m.run(["as", "/tmp/ok.s", "-o", "/tmp/ok.o"]);
    expect(r.stderr).toBe("");
    const o = readObject(get(m, "/tmp/ok.o")!);
    expect(decode(new DataView(o.text.buffer).getInt32(0, true), new DataView(o.text.buffer).getInt32(4, true)).imm).toBe(39);
    expect([...o.text.subarray(8)]).toEqual([9, 0x41, 0x41, 0x22, 0x5c, 0x71]);
    expect(o.symbols.filter((s) => ["a", "b", "c"].includes(s.name)).map((s) => s.value)).toEqual([0, 0, 0]);
  });
});

describe("ld errors", () => {
  it("an undefined reference: reported once, no output, exit 1", () => {
    const m = machine();
    assemble(m, { u: "        .text\n        .globl main\nmain:   call missing\n        call missing\n        ret\n" });
    const r = m.run(["ld", "-o", "/tmp/prog", "/tmp/u.o"]);
    expect(r.stderr).toBe("ld: undefined reference to 'missing'\n");
    expect(r.exitCode).toBe(1);
    expect(get(m, "/tmp/prog")).toBeNull();
  });

  it("no main: crt0's reference is undefined", () => {
    const m = machine();
    assemble(m, { n: "        .text\nf:      ret\n" });
    expect(m.run(["ld", "/tmp/n.o"]).stderr).toBe("ld: undefined reference to 'main'\n");
  });

  it("a global defined twice is a multiple definition; locals of the same name are not", () => {
    const m = machine();
    assemble(m, {
      a: "        .text\n        .globl main, dup\nmain:   ret\ndup:    ret\nloc:    ret\n",
      b: "        .data\n        .globl dup\ndup:    .word 1\nloc:    .word 2\n",
    });
    const r = m.run(["ld", "-o", "/tmp/prog", "/tmp/a.o", "/tmp/b.o"]);
    expect(r.stderr).toBe("ld: multiple definition of 'dup'\n");
    expect(r.exitCode).toBe(1);
  });

  it("defining _start clashes with ld's own crt0", () => {
    const m = machine();
    assemble(m, { s: "        .text\n        .globl _start, main\n_start: ret\nmain:   ret\n" });
    expect(m.run(["ld", "/tmp/s.o"]).stderr).toBe("ld: multiple definition of '_start'\n");
  });

  it("a missing input, a file that is not an object, no inputs, an unknown entry", () => {
    const m = machine();
    put(m, "/tmp/x.s", "hello\n");
    expect(m.run(["ld", "/tmp/nope.o"]).stderr).toBe("ld: cannot find /tmp/nope.o: No such file or directory\n");
    const bad = m.run(["ld", "/tmp/x.s"]);
    expect(bad.stderr).toBe("ld: /tmp/x.s: file format not recognized\n");
    expect(bad.exitCode).toBe(1);
    expect(m.run(["ld"]).stderr).toBe("ld: no input files\n");
    assemble(m, { e: "        .text\n        .globl main\nmain:   ret\n" });
    expect(m.run(["ld", "-e", "nope", "/tmp/e.o"]).stderr).toBe("ld: cannot find entry symbol 'nope'\n");
  });

  it("a truncated object and a relocation out of its section", () => {
    const m = machine();
    const good = writeObject({ text: encode(OP.RET), symbols: [{ name: "main", section: SEC_TEXT, value: 0, global: true }] });
    put(m, "/tmp/trunc.o", good.subarray(0, good.length - 2));
    expect(m.run(["ld", "/tmp/trunc.o"]).stderr).toBe("ld: /tmp/trunc.o: file truncated\n");
    put(m, "/tmp/rel.o", writeObject({
      text: encode(OP.RET),
      symbols: [{ name: "main", section: SEC_TEXT, value: 0, global: true }],
      relocs: [{ section: SEC_TEXT, offset: 6, symbol: 0, addend: 0 }],
    }));
    expect(m.run(["ld", "/tmp/rel.o"]).stderr).toBe("ld: /tmp/rel.o: bad relocation 0\n");
  });

  it("commons merge to the largest size and yield to a definition", () => {
    const m = machine();
    build(m, {
      a: "        .text\n        .globl main\nmain:   li r1, buf\n        li r2, 1\n        st [r1+60], r2\n        li r1, cnt\n        ld r0, [r1]\n        ret\n        .comm buf, 8\n        .comm cnt, 4\n",
      b: "        .comm buf, 64\n        .data\n        .globl cnt\ncnt:    .word 33\n",
    });
    const x = readExecutable(get(m, "/tmp/prog")!);
    expect(x.bssSize).toBeGreaterThanOrEqual(64);
    expect(m.run(["/tmp/prog"]).exitCode).toBe(33);
  });
});

describe("the object format", () => {
  const SRC = `
        .globl main, shared
        .text
main:   li   r1, .Lmsg + 2
        call helper
        jmp  .Lout
local:  li   r2, shared
.Lout:  ld   r0, [r1+table]
        ret
        .data
        .word 7
table:  .word local, .Lmsg, ext+4, counter
.Lmsg:  .asciz "hi"
shared: .half 0x1234
        .bss
        .zero 3
        .align 4
counter: .zero 4
        .comm pool, 256
`;

  function obj(): ObjectFile {
    const m = machine();
    put(m, "/tmp/f.s", SRC);
    const r = m.run(["as", "/tmp/f.s", "-o", "/tmp/f.o"]);
    expect(r.stderr).toBe("");
    return readObject(get(m, "/tmp/f.o")!);
  }

  it("sizes, section symbols first, then named symbols in order; .L labels never written", () => {
    const o = obj();
    expect([o.textSize, o.dataSize, o.bssSize]).toEqual([48, 4 + 16 + 3 + 2, 8]);
    expect(o.symbols).toEqual([
      { name: ".text", section: SEC_TEXT, value: 0, global: false },
      { name: ".data", section: SEC_DATA, value: 0, global: false },
      { name: ".bss", section: SEC_BSS, value: 0, global: false },
      { name: "main", section: SEC_TEXT, value: 0, global: true },
      { name: "shared", section: SEC_DATA, value: 23, global: true },
      { name: "helper", section: SEC_UNDEF, value: 0, global: true },
      { name: "local", section: SEC_TEXT, value: 24, global: false },
      { name: "table", section: SEC_DATA, value: 4, global: false },
      { name: "ext", section: SEC_UNDEF, value: 0, global: true },
      { name: "counter", section: SEC_BSS, value: 4, global: false },
      { name: "pool", section: SEC_COMMON, value: 256, global: true },
    ]);
  });

  it("relocations: locals against their section symbol plus offset, globals and undefined against themselves", () => {
    const o = obj();
    expect(o.relocs).toEqual([
      { section: SEC_TEXT, offset: 4, symbol: 1, addend: 20 + 2 }, // .Lmsg+2 = .data+22
      { section: SEC_TEXT, offset: 12, symbol: 5, addend: 0 }, // helper
      { section: SEC_TEXT, offset: 20, symbol: 0, addend: 32 }, // .Lout = .text+32
      { section: SEC_TEXT, offset: 28, symbol: 4, addend: 0 }, // shared (global)
      { section: SEC_TEXT, offset: 36, symbol: 1, addend: 4 }, // table = .data+4
      { section: SEC_DATA, offset: 4, symbol: 0, addend: 24 }, // local = .text+24
      { section: SEC_DATA, offset: 8, symbol: 1, addend: 20 }, // .Lmsg
      { section: SEC_DATA, offset: 12, symbol: 8, addend: 4 }, // ext+4
      { section: SEC_DATA, offset: 16, symbol: 2, addend: 4 }, // counter = .bss+4
    ]);
  });

  it("the encoded text and data", () => {
    const o = obj();
    const dv = new DataView(o.text.buffer);
    const listing: string[] = [];
    for (let i = 0; i < o.text.length; i += 8) listing.push(disassemble(dv.getInt32(i, true), dv.getInt32(i + 4, true)));
    expect(listing).toEqual(["li r1, 0", "call 0", "jmp 0", "li r2, 0", "ld r0, [r1]", "ret"]);
    expect([...o.data]).toEqual([7, 0, 0, 0, ...new Array(16).fill(0), 0x68, 0x69, 0, 0x34, 0x12]);
  });

  it("writeObject and readObject agree", () => {
    const o = obj();
    const again = readObject(writeObject(o));
    expect(again).toEqual(o);
  });

  it("the ISA table: every mnemonic encodes and disassembles to itself", () => {
    for (const insn of INSNS) {
      expect(INSN_BY_OP[insn.op]).toBe(insn);
      const d = decode(word0(insn.op, 1, 2, 3), 8);
      expect(d).toEqual({ op: insn.op, rd: 1, rs: 2, rt: 3, imm: 8 });
      expect(disassemble(word0(insn.op, 1, 2, 3), 8).split(" ")[0]).toBe(insn.name);
    }
  });
});
