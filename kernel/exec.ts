// execve: find the program, check permission, build a fresh address space
// with the image and an initial stack laid out as i386 Linux does, apply
// setuid, and make the program's entry the task's next code.
//
// The initial stack, from the top down:
//
//   STACK_TOP  +---------------------------+
//              | argv and envp strings      |  NUL-terminated, argv first
//              | 16 random bytes (AT_RANDOM)|
//              +---------------------------+  16-byte aligned
//              | auxv: (type, value) pairs  |  ..., AT_NULL 0
//              | envp[0..n-1], NULL         |
//              | argv[0..argc-1], NULL      |
//   sp ->      | argc                       |
//              +---------------------------+
//
// Executables are files that start with a magic: "\x7fNZP" names a program
// in the kernel's program table; "#!" is a script run by its interpreter;
// "\x7fNZX" is an NZ32 executable, run by /bin/nzx (as binfmt_misc would).

import { Kev } from "./cost/events.ts";
import { E2BIG, EACCES, EFAULT, ELOOP, ENOEXEC, ENOMEM } from "./errno.ts";
import type { Kernel } from "./kernel.ts";
import { Mm } from "./mm.ts";
import { mmapRegion } from "./mmap.ts";
import { ELF_ET_BASE, PAGE_SHIFT, STACK_INITIAL, STACK_TOP, pageAlignUp } from "./param.ts";
import type { Task } from "./task.ts";
import type { UserEntry } from "./ucontext.ts";
import { S_ISGID, S_ISUID, type Inode } from "./vfs/inode.ts";
import { fileMapping } from "./vfs/filemap.ts";
import { MAY_EXEC } from "./vfs/vfs.ts";
import { VM_EXEC, VM_GROWSDOWN, VM_MAYEXEC, VM_MAYREAD, VM_MAYWRITE, VM_READ, VM_WRITE } from "./vma.ts";

/** A program the kernel can exec: its code and the sizes of its image. */
export interface ProgramImage {
  readonly entry: UserEntry;
  /** Bytes of text and of data+bss mapped at ELF_ET_BASE (defaults 64 KiB and 16 KiB). */
  readonly textBytes?: number;
  readonly dataBytes?: number;
}

export const PROGRAM_MAGIC = "\x7fNZP";
/** NZ32 executables (docs/toolchain.md) and the program that runs them. */
export const NZX_MAGIC = "\x7fNZX";
export const NZX_INTERPRETER = "/bin/nzx";
/** The file contents that make `name` an executable of the program table. */
export function programFile(name: string): string {
  return `${PROGRAM_MAGIC}${name}\n`;
}

const MAX_ARG_STRLEN = 131072;
const MAX_ARG_BYTES = STACK_INITIAL * 16;
const BINPRM_MAX_RECURSION = 4;

const AT_NULL = 0;
const AT_PAGESZ = 6;
const AT_UID = 11;
const AT_EUID = 12;
const AT_GID = 13;
const AT_EGID = 14;
const AT_SECURE = 23;
const AT_RANDOM = 25;

/** The NULL-terminated array of string pointers at ptr in the caller's memory; null on EFAULT. */
export function copyStrings(t: Task, ptr: number): string[] | number {
  if (ptr === 0) return [];
  const mem = t.mm!.mem;
  const out: string[] = [];
  let total = 0;
  for (let i = 0; ; i++) {
    const w = mem.copyFromUser(ptr + 4 * i, 4);
    if (w === null) return -EFAULT;
    const p = (w[0] | (w[1] << 8) | (w[2] << 16) | (w[3] << 24)) >>> 0;
    if (p === 0) return out;
    const s = mem.strncpyFromUser(p, MAX_ARG_STRLEN);
    if (s === null) return -EFAULT;
    total += s.length + 5;
    if (total > MAX_ARG_BYTES) return -E2BIG;
    out.push(s);
  }
}

/**
 * do_execve on task t (already validated strings). On success t has a new mm
 * and entry and the caller must unwind the old program; on failure nothing
 * changed and -errno is returned.
 */
export function doExecve(k: Kernel, t: Task, path: string, argv: string[], envp: string[], depth = 0): number {
  if (depth > BINPRM_MAX_RECURSION) return -ELOOP;
  const ino = k.vfs.lookup(path, t.cwd, t.cred);
  if (typeof ino === "number") return ino;
  if (!ino.isReg) return -EACCES;
  const perm = k.vfs.permission(ino, t.cred, MAY_EXEC);
  if (perm < 0) return perm;
  const head = new TextDecoder("latin1").decode(ino.data.subarray(0, Math.min(ino.size, 256)));
  if (head.startsWith("#!")) {
    const line = head.slice(2).split("\n")[0].trim();
    const [interp, ...rest] = line.split(/\s+/);
    if (!interp) return -ENOEXEC;
    const optArg = rest.length ? [rest.join(" ")] : [];
    return doExecve(k, t, interp, [interp, ...optArg, path, ...argv.slice(1)], envp, depth + 1);
  }
  if (head.startsWith(NZX_MAGIC)) {
    // binfmt_misc style: NZ32 executables run under the interpreter program.
    return doExecve(k, t, NZX_INTERPRETER, [NZX_INTERPRETER, path, ...argv.slice(1)], envp, depth + 1);
  }
  if (!head.startsWith(PROGRAM_MAGIC)) return -ENOEXEC;
  const image = k.programs.get(head.slice(PROGRAM_MAGIC.length).split("\n")[0]);
  if (image === undefined) return -ENOEXEC;
  return execImage(k, t, path, ino, image, argv, envp);
}

function execImage(k: Kernel, t: Task, path: string, ino: Inode, image: ProgramImage, argv: string[], envp: string[]): number {
  const old = t.mm!;
  const mm = new Mm(k);
  const textLen = pageAlignUp(image.textBytes ?? 64 << 10);
  const dataLen = pageAlignUp(image.dataBytes ?? 16 << 10);
  const text = fileMapping(k, ino, path, textLen);
  const rx = VM_READ | VM_EXEC | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
  const rw = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
  if (
    mmapRegion(mm, ELF_ET_BASE, textLen, rx, text, 0) < 0 ||
    mmapRegion(mm, ELF_ET_BASE + textLen, dataLen, rw, null, (ELF_ET_BASE + textLen) >>> PAGE_SHIFT) < 0 ||
    mmapRegion(mm, STACK_TOP - STACK_INITIAL, STACK_INITIAL, rw | VM_GROWSDOWN, null, (STACK_TOP - STACK_INITIAL) >>> PAGE_SHIFT) < 0
  ) {
    mm.release();
    return -ENOMEM;
  }
  mm.startBrk = mm.brk = ELF_ET_BASE + textLen + dataLen;

  // Credentials: setuid/setgid bits, unless a tracer without privilege would gain access.
  const cred = { ...t.cred };
  const unsafe = t.ptracer !== null && t.ptracer.cred.euid !== 0;
  if (!unsafe) {
    if (ino.mode & S_ISUID) cred.euid = ino.uid;
    if (ino.mode & S_ISGID) cred.egid = ino.gid;
  }
  cred.suid = cred.euid;
  cred.sgid = cred.egid;
  const secure = cred.euid !== cred.uid || cred.egid !== cred.gid;

  // The new image is built as the new credential: its pages belong to it.
  const oldCred = t.cred;
  t.cred = cred;
  t.mm = mm;
  k.bindUser(t);
  const sp = buildStack(mm, argv, envp, cred, secure, k.randomBytes(16));
  if (sp < 0) {
    t.cred = oldCred;
    t.mm = old;
    k.bindUser(t);
    mm.release();
    return sp;
  }
  k.killOtherThreads(t);
  if (--old.users === 0) old.release();
  t.files?.closeOnExec();
  t.dumpable = !secure;
  t.entry = image.entry;
  t.startSp = sp;
  t.exe = path;
  t.comm = path.slice(path.lastIndexOf("/") + 1).slice(0, 15);
  t.sym = 0;
  k.bindUser(t);
  t.counters.k[Kev.EXEC]++;
  return 0;
}

/** Lay out argc/argv/envp/auxv at the top of the new stack; the initial sp or -errno. */
function buildStack(mm: Mm, argv: string[], envp: string[], cred: Task["cred"], secure: boolean, random: Uint8Array): number {
  const mem = mm.mem;
  const enc = (s: string) => {
    const b = new Uint8Array(s.length + 1);
    for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
    return b;
  };
  let top = STACK_TOP;
  const argPtrs: number[] = [];
  const envPtrs: number[] = [];
  // Strings in order: argv then envp, packed downward from the top.
  const strings = [...argv, ...envp].map(enc);
  const total = strings.reduce((n, b) => n + b.length, 0);
  top -= total;
  let p = top;
  for (let i = 0; i < strings.length; i++) {
    if (!mem.copyToUser(p, strings[i])) return -ENOMEM;
    (i < argv.length ? argPtrs : envPtrs).push(p);
    p += strings[i].length;
  }
  top = (top - 16) & ~15;
  const randomAt = top >>> 0;
  if (!mem.copyToUser(randomAt, random)) return -ENOMEM;
  const auxv = [AT_PAGESZ, 4096, AT_UID, cred.uid, AT_GID, cred.gid, AT_EUID, cred.euid, AT_EGID, cred.egid,
    AT_SECURE, secure ? 1 : 0, AT_RANDOM, randomAt, AT_NULL, 0];
  const words = [argv.length, ...argPtrs, 0, ...envPtrs, 0, ...auxv];
  const sp = ((randomAt - 4 * words.length) & ~15) >>> 0;
  const block = new Uint8Array(4 * words.length);
  const dv = new DataView(block.buffer);
  words.forEach((w, i) => dv.setUint32(4 * i, w >>> 0, true));
  if (!mem.copyToUser(sp, block)) return -ENOMEM;
  return sp;
}
