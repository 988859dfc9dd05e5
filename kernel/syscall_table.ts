// The syscall table: every system call's number, name, handler and how
// strace prints it. Imported once by the kernel; the gate is in syscall.ts.

import { MREMAP_FIXED, MREMAP_MAYMOVE } from "./mman.ts";
import * as mm from "./sys_mm.ts";
import * as file from "./sys_file.ts";
import * as proc from "./sys_proc.ts";
import { type Handler, defineSyscall } from "./syscall.ts";
import { NR } from "./unistd.ts";

defineSyscall(NR.brk, "brk", mm.sys_brk as Handler, ["ptr"], "hex");
defineSyscall(NR.brk2, "brk2", mm.sys_brk2 as Handler, ["ptr", "brkflags"], "hex");
defineSyscall(NR.mmap2, "mmap2", mm.sys_mmap2 as Handler, ["ptr", "uint", "prot", "mapflags", "int", "pgoff"], "hex");
defineSyscall(NR.munmap, "munmap", mm.sys_munmap as Handler, ["ptr", "uint"]);
defineSyscall(NR.mprotect, "mprotect", mm.sys_mprotect as Handler, ["ptr", "uint", "prot"]);
defineSyscall(
  NR.mremap, "mremap", mm.sys_mremap as Handler, ["ptr", "uint", "uint", "mremapflags", "ptr"], "hex",
  (argv) => ((argv[3] & (MREMAP_MAYMOVE | MREMAP_FIXED)) === (MREMAP_MAYMOVE | MREMAP_FIXED) ? 5 : 4),
);
defineSyscall(NR.madvise, "madvise", mm.sys_madvise as Handler, ["ptr", "uint", "madvise"]);

defineSyscall(NR.exit, "exit", proc.sys_exit as Handler, ["int"]);
defineSyscall(NR.exit_group, "exit_group", proc.sys_exit_group as Handler, ["int"]);
defineSyscall(NR.fork, "fork", proc.sys_fork as Handler, []);
defineSyscall(NR.clone, "clone", proc.sys_clone as Handler, ["hex", "ptr", "ptr", "ptr", "ptr"]);
defineSyscall(NR.execve, "execve", proc.sys_execve as Handler, ["str", "ptr", "ptr"]);
defineSyscall(NR.wait4, "wait4", proc.sys_wait4 as Handler, ["int", "ptr", "int", "ptr"]);
defineSyscall(NR.waitpid, "waitpid", proc.sys_waitpid as Handler, ["int", "ptr", "int"]);
defineSyscall(NR.getpid, "getpid", proc.sys_getpid as Handler, []);
defineSyscall(NR.gettid, "gettid", proc.sys_gettid as Handler, []);
defineSyscall(NR.getppid, "getppid", proc.sys_getppid as Handler, []);
defineSyscall(NR.getuid32, "getuid32", proc.sys_getuid as Handler, []);
defineSyscall(NR.geteuid32, "geteuid32", proc.sys_geteuid as Handler, []);
defineSyscall(NR.getgid32, "getgid32", proc.sys_getgid as Handler, []);
defineSyscall(NR.getegid32, "getegid32", proc.sys_getegid as Handler, []);
defineSyscall(NR.setuid32, "setuid32", proc.sys_setuid as Handler, ["int"]);
defineSyscall(NR.setgid32, "setgid32", proc.sys_setgid as Handler, ["int"]);
defineSyscall(NR.setresuid32, "setresuid32", proc.sys_setresuid as Handler, ["int", "int", "int"]);
defineSyscall(NR.kill, "kill", proc.sys_kill as Handler, ["int", "int"]);
defineSyscall(NR.ptrace, "ptrace", proc.sys_ptrace as Handler, ["int", "int", "ptr", "hex"]);
defineSyscall(NR.nanosleep, "nanosleep", proc.sys_nanosleep as Handler, ["ptr", "ptr"]);
defineSyscall(NR.clock_gettime, "clock_gettime", proc.sys_clock_gettime as Handler, ["int", "ptr"]);
defineSyscall(NR.getrusage, "getrusage", proc.sys_getrusage as Handler, ["int", "ptr"]);
defineSyscall(NR.futex, "futex", proc.sys_futex as Handler, ["ptr", "int", "int"]);
defineSyscall(NR.set_tid_address, "set_tid_address", proc.sys_set_tid_address as Handler, ["ptr"]);
defineSyscall(NR.uname, "uname", proc.sys_uname as Handler, ["ptr"]);
defineSyscall(NR.sched_getaffinity, "sched_getaffinity", proc.sys_sched_getaffinity as Handler, ["int", "uint", "ptr"]);
defineSyscall(NR.getrandom, "getrandom", proc.sys_getrandom as Handler, ["ptr", "uint", "hex"]);

defineSyscall(NR.open, "open", file.sys_open as Handler, ["str", "hex", "hex"]);
defineSyscall(NR.close, "close", file.sys_close as Handler, ["int"]);
defineSyscall(NR.read, "read", file.sys_read as Handler, ["int", "ptr", "uint"]);
defineSyscall(NR.write, "write", file.sys_write as Handler, ["int", "ptr", "uint"]);
defineSyscall(NR.lseek, "lseek", file.sys_lseek as Handler, ["int", "int", "int"]);
defineSyscall(NR.unlink, "unlink", file.sys_unlink as Handler, ["str"]);
defineSyscall(NR.mkdir, "mkdir", file.sys_mkdir as Handler, ["str", "hex"]);
defineSyscall(NR.rmdir, "rmdir", file.sys_rmdir as Handler, ["str"]);
defineSyscall(NR.dup, "dup", file.sys_dup as Handler, ["int"]);
defineSyscall(NR.dup2, "dup2", file.sys_dup2 as Handler, ["int", "int"]);
defineSyscall(NR.chdir, "chdir", file.sys_chdir as Handler, ["str"]);
defineSyscall(NR.getcwd, "getcwd", file.sys_getcwd as Handler, ["ptr", "uint"]);
defineSyscall(NR.stat64, "stat64", file.sys_stat64 as Handler, ["str", "ptr"]);
defineSyscall(NR.lstat64, "lstat64", file.sys_lstat64 as Handler, ["str", "ptr"]);
defineSyscall(NR.fstat64, "fstat64", file.sys_fstat64 as Handler, ["int", "ptr"]);
defineSyscall(NR.getdents64, "getdents64", file.sys_getdents64 as Handler, ["int", "ptr", "uint"]);
