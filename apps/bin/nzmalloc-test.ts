// nzmalloc-test: the 2007 patch's own malloc checks, in whatever mode the
// environment selects (MALLOC_NOZERO=1 or GLIBC_TUNABLES=glibc.malloc.nozero=1,
// or neither). Each check prints PASS or FAIL; the exit status is 0 only if
// all pass.
//
//   reuse     fresh malloc memory holds only zeros or bytes its own user wrote
//             (as root: one child per user leaves marked heap memory behind,
//             then each user's child inspects what it gets)
//   calloc    calloc is zero even over freed, dirtied memory
//   realloc   realloc keeps contents while growing and shrinking
//   vmflags   the heap (and an mmapped chunk's mapping) show `nz` in
//             /proc/self/smaps exactly when no-zero mode is on

import type { Libc } from "../../libc/libc.ts";
import { WEXITSTATUS } from "../../libc/libc.ts";

const PAGE = 4096;
/** Marker words: 0x4E5A in the top half ("NZ"), the writer's uid below. */
const marker = (uid: number) => (0x4e5a0000 | (uid & 0xffff)) >>> 0;

function nozeroRequested(envp: readonly string[]): boolean {
  const v = (name: string) => envp.find((e) => e.startsWith(name + "="))?.slice(name.length + 1);
  if (v("MALLOC_NOZERO") !== undefined && Number(v("MALLOC_NOZERO")) !== 0) return true;
  return /(^|:)glibc\.malloc\.nozero=0*[1-9]/.test(v("GLIBC_TUNABLES") ?? "");
}

/** Allocate `n` blocks of `size`, fill them with this uid's marker, free them all. */
function dirtyHeap(libc: Libc, n: number, size: number): void {
  const m = marker(libc.getuid());
  const ptrs: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = libc.malloc(size);
    for (let a = p; a < p + size; a += 4) libc.mem.write32(a, m);
    ptrs.push(p);
  }
  for (const p of ptrs) libc.free(p);
}

/**
 * Another user's markers in fresh malloc memory. (Other non-zero bytes may
 * be this user's own malloc metadata or data: allowed in no-zero mode.)
 */
function foreignWords(libc: Libc, n: number, size: number): number {
  const own = marker(libc.getuid());
  let foreign = 0;
  for (let i = 0; i < n; i++) {
    const p = libc.malloc(size);
    for (let a = p; a < p + size; a += 4) {
      const w = libc.mem.readU32(a);
      if (w >>> 16 === own >>> 16 && w !== own) foreign++;
    }
  }
  return foreign;
}

function checkReuse(libc: Libc, envp: string[]): boolean {
  const blocks = 64;
  const size = 2048;
  if (libc.geteuid() !== 0) {
    // One user: a child leaves its heap behind; the parent may see only its own user's marker.
    const pid = libc.fork((c) => {
      dirtyHeap(c, blocks, size);
      return 0;
    });
    libc.waitpid(pid);
    return foreignWords(libc, blocks, size) === 0;
  }
  // As root: alice leaves memory behind, then bob and alice inspect theirs.
  let ok = true;
  const asUser = (uid: number, fn: (c: Libc) => number) => {
    const pid = libc.fork((c) => {
      c.setgid(uid);
      c.setuid(uid);
      c.execve("/bin/nzmalloc-test", ["nzmalloc-test", fn === leave ? "--leave" : "--inspect"], envp);
      return 127;
    });
    const w = libc.waitpid(pid);
    return w === null ? 1 : WEXITSTATUS(w.status);
  };
  const leave = (c: Libc) => (dirtyHeap(c, blocks, size), 0);
  const inspect = (c: Libc) => foreignWords(c, blocks, size);
  ok = asUser(1000, leave) === 0 && ok;
  ok = asUser(1001, inspect) === 0 && ok;
  ok = asUser(1000, inspect) === 0 && ok;
  return ok;
}

function checkCalloc(libc: Libc): boolean {
  // Dirty freed memory of many sizes, then every calloc must still be zero.
  const sizes = [15, 5, 17, 6, 31, 96, 200, 1000, 5000, 140000];
  for (const s of sizes) {
    const p = libc.malloc(s);
    libc.memset(p, 0xff, s);
    libc.free(p);
  }
  for (let round = 0; round < 200; round++) {
    const n = sizes[round % sizes.length];
    const p = libc.calloc(1, n);
    for (let i = 0; i < n; i++) if (libc.mem.read8(p + i) !== 0) return false;
    libc.memset(p, 0xee, n);
    libc.free(p);
  }
  return true;
}

function checkRealloc(libc: Libc): boolean {
  let p = libc.malloc(8);
  let len = 8;
  for (let i = 0; i < len; i++) libc.mem.write8(p + i, i & 0xff);
  for (const next of [24, 100, 5000, 200000, 64, 300000, 16]) {
    p = libc.realloc(p, next);
    if (p === 0) return false;
    const keep = Math.min(len, next);
    for (let i = 0; i < keep; i++) if (libc.mem.read8(p + i) !== (i & 0xff)) return false;
    for (let i = keep; i < next; i++) libc.mem.write8(p + i, i & 0xff);
    len = next;
  }
  libc.free(p);
  return true;
}

/** The VmFlags of the smaps block whose range contains addr. */
function vmflagsAt(libc: Libc, addr: number): string[] | null {
  const smaps = libc.readFile("/proc/self/smaps");
  if (smaps === null) return null;
  let inside = false;
  for (const line of smaps.split("\n")) {
    const range = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
    if (range) inside = parseInt(range[1], 16) <= addr && addr < parseInt(range[2], 16);
    else if (inside && line.startsWith("VmFlags:")) return line.slice(8).trim().split(/\s+/);
  }
  return null;
}

function checkVmflags(libc: Libc, nozero: boolean): boolean {
  const small = libc.malloc(100); // the brk heap
  const big = libc.malloc(64 * PAGE); // above the mmap threshold: its own mapping
  const heap = vmflagsAt(libc, small);
  const mapping = vmflagsAt(libc, big);
  libc.free(small);
  libc.free(big);
  if (heap === null || mapping === null) return false;
  return heap.includes("nz") === nozero && mapping.includes("nz") === nozero;
}

export default function nzmallocTest(argv: string[], envp: string[], libc: Libc): number {
  if (argv[1] === "--leave") {
    dirtyHeap(libc, 64, 2048);
    return 0;
  }
  if (argv[1] === "--inspect") return foreignWords(libc, 64, 2048) === 0 ? 0 : 1;
  const nozero = nozeroRequested(envp);
  libc.printf("nzmalloc-test: %s mode, uid %d\n", nozero ? "no-zero" : "stock", libc.getuid());
  const checks: [string, () => boolean][] = [
    ["reuse: fresh malloc memory holds only this user's bytes", () => checkReuse(libc, envp)],
    ["calloc: zero over dirtied memory", () => checkCalloc(libc)],
    ["realloc: contents kept", () => checkRealloc(libc)],
    [`vmflags: heap and mmapped chunks ${nozero ? "have" : "lack"} nz`, () => checkVmflags(libc, nozero)],
  ];
  let failed = 0;
  for (const [name, run] of checks) {
    const ok = run();
    if (!ok) failed++;
    libc.printf("%s %s\n", ok ? "PASS" : "FAIL", name);
  }
  return failed === 0 ? 0 : 1;
}
