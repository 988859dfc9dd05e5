// Signals that end a task, and the unwinding objects that carry them out of
// user code. User code is ordinary TypeScript: a fault in the middle of a load
// cannot return, so the kernel throws one of these and the task runner (the
// only place that catches them) turns it into an exit status.

export const SIGHUP = 1;
export const SIGINT = 2;
export const SIGQUIT = 3;
export const SIGILL = 4;
export const SIGTRAP = 5;
export const SIGABRT = 6;
export const SIGBUS = 7;
export const SIGFPE = 8;
export const SIGKILL = 9;
export const SIGUSR1 = 10;
export const SIGSEGV = 11;
export const SIGUSR2 = 12;
export const SIGPIPE = 13;
export const SIGALRM = 14;
export const SIGTERM = 15;
export const SIGCHLD = 17;

/** What a shell prints when a child dies of the signal (bash's strsignal texts). */
const SHELL_MESSAGES: Record<number, string> = {
  [SIGHUP]: "Hangup",
  [SIGINT]: "",
  [SIGQUIT]: "Quit",
  [SIGILL]: "Illegal instruction",
  [SIGTRAP]: "Trace/breakpoint trap",
  [SIGABRT]: "Aborted",
  [SIGBUS]: "Bus error",
  [SIGFPE]: "Floating point exception",
  [SIGKILL]: "Killed",
  [SIGUSR1]: "User defined signal 1",
  [SIGSEGV]: "Segmentation fault",
  [SIGUSR2]: "User defined signal 2",
  [SIGPIPE]: "",
  [SIGALRM]: "Alarm clock",
  [SIGTERM]: "Terminated",
};

export function signalMessage(sig: number): string {
  return SHELL_MESSAGES[sig] ?? `Unknown signal ${sig}`;
}

const SIGNAL_NAMES: Record<number, string> = {
  [SIGHUP]: "SIGHUP", [SIGINT]: "SIGINT", [SIGQUIT]: "SIGQUIT", [SIGILL]: "SIGILL",
  [SIGTRAP]: "SIGTRAP", [SIGABRT]: "SIGABRT", [SIGBUS]: "SIGBUS", [SIGFPE]: "SIGFPE",
  [SIGKILL]: "SIGKILL", [SIGUSR1]: "SIGUSR1", [SIGSEGV]: "SIGSEGV", [SIGUSR2]: "SIGUSR2",
  [SIGPIPE]: "SIGPIPE", [SIGALRM]: "SIGALRM", [SIGTERM]: "SIGTERM", [SIGCHLD]: "SIGCHLD",
};

export function signalName(sig: number): string {
  return SIGNAL_NAMES[sig] ?? `SIG${sig}`;
}

/** si_code values for SIGSEGV. */
export const SEGV_MAPERR = 1; // address not mapped
export const SEGV_ACCERR = 2; // no permission for the access

/** A fatal signal unwinding the user code of the current task. */
export class FatalSignal {
  constructor(
    readonly signo: number,
    readonly addr = 0,
    readonly code = 0,
  ) {}
}

/** exit()/exit_group() unwinding the user code of the current task. */
export class TaskExit {
  constructor(readonly status: number) {}
}

/** A successful execve unwinding the old program's user code; the task runner starts the new one. */
export class ExecUnwind {}
