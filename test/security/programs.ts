// Small emulated programs the security tests install: a setuid secret
// writer, a probe that reports which identities' markers it can see, and a
// ptrace scene driver.

import { MAP_ANONYMOUS, MAP_FAILED, MAP_NOZERO, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../../kernel/mman.ts";
import type { Libc, Main } from "../../libc/libc.ts";

const RW = PROT_READ | PROT_WRITE;

/** The word an identity writes everywhere: 0x5EC0 in the top half, its euid below. */
export function marker(euid: number): number {
  return (0x5ec00000 | (euid & 0xffff)) >>> 0;
}

/** fill PAGES [plain]: fill pages (MAP_NOZERO unless "plain") with this euid's marker, then exit. */
export const fill: Main = (argv, _envp, libc) => {
  const pages = Number(argv[1] ?? 64);
  const flags = MAP_PRIVATE | MAP_ANONYMOUS | (argv[2] === "plain" ? 0 : MAP_NOZERO);
  const p = libc.mmap(0, pages * 4096, RW, flags);
  if (p === MAP_FAILED) return 1;
  const m = marker(libc.geteuid());
  for (let a = p; a < p + pages * 4096; a += 4) libc.mem.write32(a, m);
  return 0;
};

/**
 * probe PAGES: MAP_NOZERO pages, write-fault word 0, then report every
 * identity whose marker appears in words 1.. as "euid:pages" lines.
 */
export const probe: Main = (argv, _envp, libc) => {
  const pages = Number(argv[1] ?? 64);
  const p = libc.mmap(0, pages * 4096, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NOZERO);
  if (p === MAP_FAILED) return 1;
  const seen = new Map<number, number>();
  for (let pg = 0; pg < pages; pg++) {
    const base = p + pg * 4096;
    libc.mem.write32(base, 0);
    const found = new Set<number>();
    for (let a = base + 4; a < base + 4096; a += 4) {
      const w = libc.mem.readU32(a);
      if (w >>> 16 === 0x5ec0) found.add(w & 0xffff);
    }
    for (const e of found) seen.set(e, (seen.get(e) ?? 0) + 1);
  }
  for (const [e, n] of [...seen].sort((a, b) => a[0] - b[0])) libc.printf("%d:%d\n", e, n);
  return 0;
};

/** Parse probe output into euid -> pages. */
export function seenBy(stdout: string): Map<number, number> {
  const m = new Map<number, number>();
  for (const line of stdout.trim().split("\n").filter(Boolean)) {
    const [e, n] = line.split(":").map(Number);
    m.set(e, n);
  }
  return m;
}

/** sleeper SECONDS: stays alive (blocked) for a while. */
export const sleeper: Main = (argv, _envp, libc) => {
  libc.sleep(Number(argv[1] ?? 1));
  return 0;
};

/** whoami-euid: exit status is the effective uid (mod 256) — small and signal-free. */
export const euidStatus: Main = (_argv, _envp, libc) => libc.geteuid() & 0xff;

export const PTRACE_ATTACH = 16;

/** Attach to pid as the calling identity: prints "ok" or the errno number. */
export function attach(libc: Libc, pid: number): string {
  return libc.syscall(26, PTRACE_ATTACH, pid, 0, 0) === 0 ? "ok" : String(libc.errno);
}

/**
 * fillwait PAGES: fill MAP_NOZERO pages with this euid's marker, publish
 * their address in /tmp/victim, sleep (so a tracer can act), then exit.
 */
export const fillwait: Main = (argv, _envp, libc) => {
  const pages = Number(argv[1] ?? 16);
  const p = libc.mmap(0, pages * 4096, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NOZERO);
  if (p === MAP_FAILED) return 1;
  const m = marker(libc.geteuid());
  for (let a = p; a < p + pages * 4096; a += 4) libc.mem.write32(a, m);
  const fd = libc.open("/tmp/victim", 0o1101, 0o644);
  libc.writeString(fd, `${libc.getpid()} ${p}\n`);
  libc.close(fd);
  libc.sleep(5);
  return 0;
};

export const PTRACE_POKEDATA = 5;
