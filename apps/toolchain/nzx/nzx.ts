// nzx PATH [ARGS...]: the NZ32 interpreter. The kernel execs NZX files
// through it (binfmt_misc style: /bin/nzx PATH ARGS...), so an NZ32 program
// runs inside the interpreter's process and address space.
//
// Loading (like a.out's loader, reading instead of mapping the file):
//   text   mmap(text_addr, MAP_FIXED_NOREPLACE|MAP_PRIVATE|MAP_ANONYMOUS),
//          read() the bytes in, then mprotect to PROT_READ|PROT_EXEC: a
//          store into text is a SIGSEGV
//   data   mmap(data_addr) covering data and bss, data bytes read in, bss
//          cleared explicitly (a loader must not trust the kernel to have
//          zeroed it: under the `uninitialized` policy it would not)
//   stack  1 MiB just below 0xB0000000 (anywhere free if that is taken),
//          laid out as the kernel does for a process: argc, argv[], NULL,
//          envp[], NULL, auxv (AT_PAGESZ, AT_NULL), strings at the top;
//          argv[0] is PATH and envp is the interpreter's environment
// MAP_FIXED_NOREPLACE makes a segment that would land on the interpreter's
// own mappings fail (EEXIST) instead of clobbering them.
//
// The break: the kernel's brk belongs to the interpreter process (its own
// malloc uses it), so nzx emulates the program's break. It starts at the
// page after bss; brk(addr) grows it with MAP_FIXED_NOREPLACE anonymous
// mappings page by page (the kernel merges them into one VMA) and shrinks it
// with munmap, with Linux's result convention (the new break, or the old one
// when it cannot move). brk2(addr, BRK_NOZERO), the 2007 patch's call, is
// emulated too: growth after it is mapped MAP_NOZERO (pages the heap
// already had keep their zeroing, where the kernel would mark the whole
// heap VM_NOZERO).
//
// Execution: registers in an Int32Array, pc in a local. Every step fetches
// the instruction's first word with mem.read32 (and the immediate word with
// a second read32 for the forms that have one), so instruction fetch is an
// emulated user access: it takes the TLB, counts as an access, and a pc in
// unmapped memory is the kernel's SIGSEGV. Nothing is cached per address.
// `sys` passes r0 (the number) and r1..r5 to the kernel's gate and puts the
// raw result (-errno on failure, as int 0x80 does) in r0; brk and brk2 are
// handled here. An illegal opcode or a register field above 9 is SIGILL, a
// zero divisor SIGFPE, both sent with kill(getpid(), sig). Instructions
// are counted as libc.work under the symbol nzx `execute`, flushed at every
// syscall and when the program ends.

import { strerror } from "../../../kernel/errno.ts";
import {
  BRK_NOZERO, MAP_ANONYMOUS, MAP_FAILED, MAP_FIXED_NOREPLACE, MAP_NOZERO, MAP_PRIVATE, MAP_STACK, PROT_EXEC, PROT_READ,
  PROT_WRITE,
} from "../../../kernel/mman.ts";
import { SIGFPE, SIGILL } from "../../../kernel/signal.ts";
import { NR } from "../../../kernel/unistd.ts";
import { type Libc, O_RDONLY } from "../../../libc/libc.ts";
import * as isa from "../isa.ts";
import { NZX_HEADER_BYTES, PAGE_SIZE, readNzxHeader } from "../objfmt.ts";

// The register file's shape, as local constants: an imported binding is a
// property load through the module namespace on every use in the hot loop.
const NREGS = 10;
const REG_SP = 8;
const REG_FP = 9;
if (NREGS !== isa.NREGS || REG_SP !== isa.REG_SP || REG_FP !== isa.REG_FP) throw new Error("nzx: isa.ts register file changed");

const STACK_BYTES = 1 << 20;
const STACK_TOP = 0xb0000000;
/** Nothing is mapped below this (vm.mmap_min_addr). */
const MIN_ADDR = 0x10000;
const AT_NULL = 0;
const AT_PAGESZ = 6;

function pageUp(x: number): number {
  return Math.ceil(x / PAGE_SIZE) * PAGE_SIZE;
}

/** The emulated program's break. */
export class Break {
  nozero = false;
  constructor(
    private readonly libc: Libc,
    readonly start: number,
    public cur: number,
  ) {}

  /** brk/brk2: the new break, or the old one if it cannot move. */
  move(addr: number, nozero: boolean): number {
    const libc = this.libc;
    if (nozero) this.nozero = true;
    addr >>>= 0;
    if (addr < this.start || addr >= STACK_TOP) return this.cur;
    const newEnd = pageUp(addr);
    const oldEnd = pageUp(this.cur);
    if (newEnd > oldEnd) {
      const flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | (this.nozero ? MAP_NOZERO : 0);
      if (libc.mmap(oldEnd, newEnd - oldEnd, PROT_READ | PROT_WRITE, flags) === MAP_FAILED) return this.cur;
    } else if (newEnd < oldEnd) {
      if (libc.munmap(newEnd, oldEnd - newEnd) < 0) return this.cur;
    }
    this.cur = addr;
    return addr;
  }
}

export default function nzx(argv: string[], envp: string[], libc: Libc): number {
  if (argv.length < 2) {
    libc.eprintf("usage: nzx PATH [ARGS...]\n");
    return 2;
  }
  const path = argv[1];
  const loaded = load(libc, path);
  if (typeof loaded === "string") {
    libc.eprintf("nzx: %s: %s\n", path, loaded);
    return 126;
  }
  const sp = setupStack(libc, argv.slice(1), envp);
  if (sp === null) {
    libc.eprintf("nzx: %s: cannot map the stack: %s\n", path, strerror(libc.errno));
    return 126;
  }
  const regs = new Int32Array(16);
  regs[REG_SP] = sp;
  regs[REG_FP] = 0;
  libc.enter(libc.symbol("nzx", "execute"));
  return execute(libc, regs, loaded.entry, loaded.brk);
}

/** Map the executable's segments; its entry and break, or why it cannot run. */
function load(libc: Libc, path: string): { entry: number; brk: Break } | string {
  const m = libc.mem;
  const fd = libc.open(path, O_RDONLY);
  if (fd < 0) return strerror(libc.errno);
  const hdr = libc.malloc(NZX_HEADER_BYTES);
  try {
    const n = libc.read(fd, hdr, NZX_HEADER_BYTES);
    if (n < 0) return strerror(libc.errno);
    const h = readNzxHeader(m, hdr, n);
    if (h === null) return "not an NZX executable";
    const textEnd = h.textAddr + h.textSize;
    const dataEnd = h.dataAddr + h.dataSize + h.bssSize;
    if (
      h.textAddr % PAGE_SIZE !== 0 || h.dataAddr % PAGE_SIZE !== 0 || h.textAddr < MIN_ADDR ||
      pageUp(textEnd) > h.dataAddr || dataEnd > STACK_TOP - STACK_BYTES ||
      h.entry < h.textAddr || h.entry >= textEnd
    ) return "bad NZX header";
    const rw = PROT_READ | PROT_WRITE;
    const fixed = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE;
    const textLen = pageUp(h.textSize);
    if (libc.mmap(h.textAddr, textLen, rw, fixed) === MAP_FAILED) return `cannot map text at 0x${h.textAddr.toString(16)}: ${strerror(libc.errno)}`;
    if (!readFully(libc, fd, h.textAddr, h.textSize)) return "truncated executable";
    libc.mprotect(h.textAddr, textLen, PROT_READ | PROT_EXEC);
    const dataLen = pageUp(h.dataSize + h.bssSize);
    if (dataLen > 0) {
      if (libc.mmap(h.dataAddr, dataLen, rw, fixed) === MAP_FAILED) return `cannot map data at 0x${h.dataAddr.toString(16)}: ${strerror(libc.errno)}`;
      if (!readFully(libc, fd, h.dataAddr, h.dataSize)) return "truncated executable";
      libc.memset(h.dataAddr + h.dataSize, 0, dataLen - h.dataSize);
    }
    const brk = pageUp(dataEnd);
    return { entry: h.entry, brk: new Break(libc, brk, brk) };
  } finally {
    libc.free(hdr);
    libc.close(fd);
  }
}

function readFully(libc: Libc, fd: number, at: number, n: number): boolean {
  for (let done = 0; done < n; ) {
    const r = libc.read(fd, at + done, n - done);
    if (r <= 0) return false;
    done += r;
  }
  return true;
}

/** Map the stack and lay out argc, argv, envp and auxv; the initial sp, or null. */
function setupStack(libc: Libc, args: string[], envp: string[]): number | null {
  const m = libc.mem;
  const flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK;
  let base = libc.mmap(STACK_TOP - STACK_BYTES, STACK_BYTES, PROT_READ | PROT_WRITE, flags | MAP_FIXED_NOREPLACE);
  if (base === MAP_FAILED) base = libc.mmap(0, STACK_BYTES, PROT_READ | PROT_WRITE, flags);
  if (base === MAP_FAILED) return null;
  let top = base + STACK_BYTES;
  const strings = [...args, ...envp];
  const total = strings.reduce((n, s) => n + s.length + 1, 0);
  if (total + 4 * (strings.length + 8) > STACK_BYTES / 2) {
    libc.errno = 7; // E2BIG
    return null;
  }
  top -= total;
  const ptrs: number[] = [];
  let p = top;
  for (const s of strings) {
    m.writeCString(p, s);
    ptrs.push(p);
    p += s.length + 1;
  }
  const words = [args.length, ...ptrs.slice(0, args.length), 0, ...ptrs.slice(args.length), 0, AT_PAGESZ, PAGE_SIZE, AT_NULL, 0];
  const sp = ((top - 4 * words.length) & ~15) >>> 0;
  for (let i = 0; i < words.length; i++) m.write32(sp + 4 * i, words[i]);
  return sp;
}

/** A trap: the signal, sent to ourselves (the kernel unwinds the process). */
function trap(libc: Libc, sig: number): never {
  libc.kill(libc.getpid(), sig);
  libc._exit(128 + sig);
}

/** `sys`: brk and brk2 are the interpreter's; everything else goes to the kernel, raw. */
function sys(libc: Libc, regs: Int32Array, brk: Break): number {
  const nr = regs[0] >>> 0;
  if (nr === NR.brk) return brk.move(regs[1], false);
  if (nr === NR.brk2) {
    const flags = regs[2] >>> 0;
    if (flags & ~BRK_NOZERO) return -22;
    return brk.move(regs[1], (flags & BRK_NOZERO) !== 0);
  }
  return libc.ctx.syscall(nr, regs[1], regs[2], regs[3], regs[4], regs[5]);
}

/** The fetch-decode-execute loop; returns only through exit (or a signal). */
export function execute(libc: Libc, regs: Int32Array, entry: number, brk: Break): number {
  const mem = libc.mem;
  let pc = entry | 0;
  let n = 0;
  try {
    for (;;) {
      const w = mem.read32(pc);
      n++;
      const rd = (w >>> 8) & 0xff;
      const rs = (w >>> 16) & 0xff;
      const rt = w >>> 24;
      switch (w & 0xff) {
        case 0x01: // li
          if (rd >= NREGS) break;
          regs[rd] = mem.read32(pc + 4);
          pc = (pc + 8) | 0;
          continue;
        case 0x02: // mov
          if (rd >= NREGS || rs >= NREGS) break;
          regs[rd] = regs[rs];
          pc = (pc + 8) | 0;
          continue;
        case 0x03: // addi
          if (rd >= NREGS || rs >= NREGS) break;
          regs[rd] = (regs[rs] + mem.read32(pc + 4)) | 0;
          pc = (pc + 8) | 0;
          continue;
        case 0x10: // add
          if (rd >= NREGS || rs >= NREGS || rt >= NREGS) break;
          regs[rd] = (regs[rs] + regs[rt]) | 0;
          pc = (pc + 8) | 0;
          continue;
        case 0x11: // sub
          if (rd >= NREGS || rs >= NREGS || rt >= NREGS) break;
          regs[rd] = (regs[rs] - regs[rt]) | 0;
          pc = (pc + 8) | 0;
          continue;
        case 0x12: // mul
          if (rd >= NREGS || rs >= NREGS || rt >= NREGS) break;
          regs[rd] = Math.imul(regs[rs], regs[rt]);
          pc = (pc + 8) | 0;
          continue;
        case 0x13: // div
        case 0x14: // rem
        case 0x15: // divu
        case 0x16: {
          // remu
          if (rd >= NREGS || rs >= NREGS || rt >= NREGS) break;
          const b = regs[rt];
          if (b === 0) {
            libc.work(n);
            n = 0;
            trap(libc, SIGFPE);
          }
          const a = regs[rs];
          const op = w & 0xff;
          regs[rd] = op === 0x13 ? (a / b) | 0 : op === 0x14 ? a % b | 0 : op === 0x15 ? ((a >>> 0) / (b >>> 0)) | 0 : ((a >>> 0) % (b >>> 0)) | 0;
          pc = (pc + 8) | 0;
          continue;
        }
        case 0x17: // and
          if (rd >= NREGS || rs >= NREGS || rt >= NREGS) break;
          regs[rd] = regs[rs] & regs[rt];
          pc = (pc + 8) | 0;
          continue;
        case 0x18: // or
          if (rd >= NREGS || rs >= NREGS || rt >= NREGS) break;
          regs[rd] = regs[rs] | regs[rt];
          pc = (pc + 8) | 0;
          continue;
        case 0x19: // xor
          if (rd >= NREGS || rs >= NREGS || rt >= NREGS) break;
          regs[rd] = regs[rs] ^ regs[rt];
          pc = (pc + 8) | 0;
          continue;
        case 0x1a: // shl
          if (rd >= NREGS || rs >= NREGS || rt >= NREGS) break;
          regs[rd] = regs[rs] << regs[rt];
          pc = (pc + 8) | 0;
          continue;
        case 0x1b: // shr
          if (rd >= NREGS || rs >= NREGS || rt >= NREGS) break;
          regs[rd] = regs[rs] >>> regs[rt];
          pc = (pc + 8) | 0;
          continue;
        case 0x1c: // sar
          if (rd >= NREGS || rs >= NREGS || rt >= NREGS) break;
          regs[rd] = regs[rs] >> regs[rt];
          pc = (pc + 8) | 0;
          continue;
        case 0x20: // seq
          if (rd >= NREGS || rs >= NREGS || rt >= NREGS) break;
          regs[rd] = regs[rs] === regs[rt] ? 1 : 0;
          pc = (pc + 8) | 0;
          continue;
        case 0x21: // sne
          if (rd >= NREGS || rs >= NREGS || rt >= NREGS) break;
          regs[rd] = regs[rs] !== regs[rt] ? 1 : 0;
          pc = (pc + 8) | 0;
          continue;
        case 0x22: // slt
          if (rd >= NREGS || rs >= NREGS || rt >= NREGS) break;
          regs[rd] = regs[rs] < regs[rt] ? 1 : 0;
          pc = (pc + 8) | 0;
          continue;
        case 0x23: // sle
          if (rd >= NREGS || rs >= NREGS || rt >= NREGS) break;
          regs[rd] = regs[rs] <= regs[rt] ? 1 : 0;
          pc = (pc + 8) | 0;
          continue;
        case 0x24: // sltu
          if (rd >= NREGS || rs >= NREGS || rt >= NREGS) break;
          regs[rd] = regs[rs] >>> 0 < regs[rt] >>> 0 ? 1 : 0;
          pc = (pc + 8) | 0;
          continue;
        case 0x25: // sleu
          if (rd >= NREGS || rs >= NREGS || rt >= NREGS) break;
          regs[rd] = regs[rs] >>> 0 <= regs[rt] >>> 0 ? 1 : 0;
          pc = (pc + 8) | 0;
          continue;
        case 0x28: // neg
          if (rd >= NREGS || rs >= NREGS) break;
          regs[rd] = -regs[rs] | 0;
          pc = (pc + 8) | 0;
          continue;
        case 0x29: // not
          if (rd >= NREGS || rs >= NREGS) break;
          regs[rd] = ~regs[rs];
          pc = (pc + 8) | 0;
          continue;
        case 0x30: // ld
          if (rd >= NREGS || rs >= NREGS) break;
          regs[rd] = mem.read32((regs[rs] + mem.read32(pc + 4)) | 0);
          pc = (pc + 8) | 0;
          continue;
        case 0x31: // ldh
          if (rd >= NREGS || rs >= NREGS) break;
          regs[rd] = (mem.read16((regs[rs] + mem.read32(pc + 4)) | 0) << 16) >> 16;
          pc = (pc + 8) | 0;
          continue;
        case 0x32: // ldhu
          if (rd >= NREGS || rs >= NREGS) break;
          regs[rd] = mem.read16((regs[rs] + mem.read32(pc + 4)) | 0);
          pc = (pc + 8) | 0;
          continue;
        case 0x33: // ldb
          if (rd >= NREGS || rs >= NREGS) break;
          regs[rd] = (mem.read8((regs[rs] + mem.read32(pc + 4)) | 0) << 24) >> 24;
          pc = (pc + 8) | 0;
          continue;
        case 0x34: // ldbu
          if (rd >= NREGS || rs >= NREGS) break;
          regs[rd] = mem.read8((regs[rs] + mem.read32(pc + 4)) | 0);
          pc = (pc + 8) | 0;
          continue;
        case 0x38: // st
          if (rs >= NREGS || rt >= NREGS) break;
          mem.write32((regs[rs] + mem.read32(pc + 4)) | 0, regs[rt]);
          pc = (pc + 8) | 0;
          continue;
        case 0x39: // sth
          if (rs >= NREGS || rt >= NREGS) break;
          mem.write16((regs[rs] + mem.read32(pc + 4)) | 0, regs[rt] & 0xffff);
          pc = (pc + 8) | 0;
          continue;
        case 0x3a: // stb
          if (rs >= NREGS || rt >= NREGS) break;
          mem.write8((regs[rs] + mem.read32(pc + 4)) | 0, regs[rt] & 0xff);
          pc = (pc + 8) | 0;
          continue;
        case 0x40: // jmp
          pc = mem.read32(pc + 4);
          continue;
        case 0x41: // jz
          if (rs >= NREGS) break;
          pc = regs[rs] === 0 ? mem.read32(pc + 4) : (pc + 8) | 0;
          continue;
        case 0x42: // jnz
          if (rs >= NREGS) break;
          pc = regs[rs] !== 0 ? mem.read32(pc + 4) : (pc + 8) | 0;
          continue;
        case 0x43: {
          // call
          const target = mem.read32(pc + 4);
          const sp = (regs[REG_SP] - 4) | 0;
          mem.write32(sp, (pc + 8) | 0);
          regs[REG_SP] = sp;
          pc = target;
          continue;
        }
        case 0x44: {
          // callr
          if (rs >= NREGS) break;
          const target = regs[rs];
          const sp = (regs[REG_SP] - 4) | 0;
          mem.write32(sp, (pc + 8) | 0);
          regs[REG_SP] = sp;
          pc = target;
          continue;
        }
        case 0x45: {
          // ret
          const sp = regs[REG_SP];
          pc = mem.read32(sp);
          regs[REG_SP] = (sp + 4) | 0;
          continue;
        }
        case 0x48: {
          // push
          if (rs >= NREGS) break;
          const v = regs[rs];
          const sp = (regs[REG_SP] - 4) | 0;
          mem.write32(sp, v);
          regs[REG_SP] = sp;
          pc = (pc + 8) | 0;
          continue;
        }
        case 0x49: {
          // pop
          if (rd >= NREGS) break;
          const sp = regs[REG_SP];
          const v = mem.read32(sp);
          regs[REG_SP] = (sp + 4) | 0;
          regs[rd] = v;
          pc = (pc + 8) | 0;
          continue;
        }
        case 0x4a: {
          // enter
          const size = mem.read32(pc + 4);
          const sp = (regs[REG_SP] - 4) | 0;
          mem.write32(sp, regs[REG_FP]);
          regs[REG_FP] = sp;
          regs[REG_SP] = (sp - size) | 0;
          pc = (pc + 8) | 0;
          continue;
        }
        case 0x4b: {
          // leave
          const fp = regs[REG_FP];
          regs[REG_FP] = mem.read32(fp);
          regs[REG_SP] = (fp + 4) | 0;
          pc = (pc + 8) | 0;
          continue;
        }
        case 0x50: // sys
          libc.work(n);
          n = 0;
          regs[0] = sys(libc, regs, brk);
          pc = (pc + 8) | 0;
          continue;
      }
      // Only an illegal instruction gets here.
      libc.work(n);
      n = 0;
      trap(libc, SIGILL);
    }
  } finally {
    libc.work(n);
  }
}
