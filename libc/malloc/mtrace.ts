// mtrace: the malloc trace glibc writes to MALLOC_TRACE (mtrace-impl.c), line
// for line, so `nozero replay` and glibc's mtrace script read ours as they
// read a real program's. glibc starts tracing when the program calls mtrace();
// our libc starts it at start-up when MALLOC_TRACE is set, as the preload in
// tools/mtrace/record.sh does for real programs. No caller ("@ ...") part:
// an emulated program has no return addresses to print.

/** %p: 0x and lowercase hex, or (nil). */
function ptr(p: number): string {
  return p === 0 ? "(nil)" : `0x${(p >>> 0).toString(16)}`;
}

/** %#lx: 0x and lowercase hex, but a bare 0. */
function size(n: number): string {
  return n === 0 ? "0" : `0x${n.toString(16)}`;
}

export const MTRACE_START = "= Start\n";

/** malloc, calloc and the memalign family: "+ PTR SIZE" (PTR (nil) when it failed). */
export function mtraceAlloc(p: number, n: number): string {
  return `+ ${ptr(p)} ${size(n)}\n`;
}

/** free: "- PTR"; free(NULL) writes nothing. */
export function mtraceFree(p: number): string {
  return p === 0 ? "" : `- ${ptr(p)}\n`;
}

/** realloc(old, n) that returned p, as glibc's realloc hook reports each case. */
export function mtraceRealloc(old: number, p: number, n: number): string {
  if (p === 0) return n === 0 ? mtraceFree(old) : `! ${ptr(old)} ${size(n)}\n`;
  if (old === 0) return mtraceAlloc(p, n);
  return `< ${ptr(old)}\n> ${ptr(p)} ${size(n)}\n`;
}
