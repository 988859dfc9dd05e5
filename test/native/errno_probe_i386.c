/* Ground truth for test/kernel/errno.test.ts: each invalid-argument class of
 * the mm syscalls, issued as a 32-bit (i386 int $0x80) process on the build
 * machine's Linux, printing "case result" (result: a value or -ERRNO).
 * Freestanding: the machine has no 32-bit libc.
 * Build: gcc -m32 -static -nostdlib -ffreestanding -fno-pic -O1 -o probe errno_probe_i386.c
 * Run as root: it drops to uid 65534 first, so mmap_min_addr applies. */

typedef unsigned long u32;

static long sc(long nr, long a, long b, long c, long d, long e, long f) {
  long r;
  __asm__ volatile("push %%ebp\n\tmov %7, %%ebp\n\tint $0x80\n\tpop %%ebp"
                   : "=a"(r)
                   : "0"(nr), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e), "m"(f)
                   : "memory");
  return r;
}
#define SYS_exit 1
#define SYS_write 4
#define SYS_brk 45
#define SYS_munmap 91
#define SYS_mprotect 125
#define SYS_mremap 163
#define SYS_mmap2 192
#define SYS_setresuid32 208
#define SYS_madvise 219

static void out(const char *s) {
  long n = 0;
  while (s[n]) n++;
  sc(SYS_write, 1, (long)s, n, 0, 0, 0);
}
static void num(long v) {
  char b[24];
  int i = 23, neg = v < 0;
  unsigned long u = neg ? -(unsigned long)v : (unsigned long)v;
  b[i] = 0;
  do { b[--i] = '0' + u % 10; u /= 10; } while (u);
  if (neg) b[--i] = '-';
  out(b + i);
}
/* Errors print as -N, successes as "ok" (addresses differ between kernels). */
static void report(const char *name, long r) {
  out(name);
  out(" ");
  if (r < 0 && r > -4096) num(r); else out("ok");
  out("\n");
}

#define PR 3        /* PROT_READ|PROT_WRITE */
#define PRIV 0x22   /* MAP_PRIVATE|MAP_ANONYMOUS */
#define SHAN 0x21   /* MAP_SHARED|MAP_ANONYMOUS */

static long mmap2(u32 a, u32 l, long p, long f, long fd, u32 off) { return sc(SYS_mmap2, a, l, p, f, fd, off); }

/* A fresh 4-page mapping with its third page unmapped (made just before use,
 * so no other mapping can land in the hole). */
static long holed(void) {
  long h = mmap2(0, 0x4000, PR, PRIV, -1, 0);
  sc(SYS_munmap, h + 0x2000, 0x1000, 0, 0, 0, 0);
  return h;
}

void _start(void) {
  sc(SYS_setresuid32, 65534, 65534, 65534, 0, 0, 0);
  long m = mmap2(0, 0x4000, PR, PRIV, -1, 0); /* a 4-page anchor mapping */
  long sh = mmap2(0, 0x2000, PR, SHAN, -1, 0);

  report("mmap.len0", mmap2(0, 0, PR, PRIV, -1, 0));
  report("mmap.notype", mmap2(0, 0x1000, PR, 0x20, -1, 0));
  report("mmap.shared_validate_anon", mmap2(0, 0x1000, PR, 0x23, -1, 0));
  report("mmap.fixed_unaligned", mmap2(0x10000001, 0x1000, PR, PRIV | 0x10, -1, 0));
  report("mmap.fixed_past_top", mmap2(0xfffff000, 0x2000, PR, PRIV | 0x10, -1, 0));
  report("mmap.len_wraps", mmap2(0, 0xfffff001, PR, PRIV, -1, 0));
  report("mmap.len_too_big", mmap2(0, 0xfffff000, PR, PRIV, -1, 0));
  report("mmap.badfd", mmap2(0, 0x1000, PR, 0x02, -1, 0));
  report("mmap.badfd_nozero", mmap2(0, 0x1000, PR, 0x02 | 0x04000000, -1, 0));
  report("mmap.noreplace_over", mmap2(m, 0x1000, PR, PRIV | 0x100000, -1, 0));
  report("mmap.fixed_below_min", mmap2(0, 0x1000, PR, PRIV | 0x10, -1, 0));
  report("mmap.hugetlb", mmap2(0, 0x200000, PR, PRIV | 0x40000, -1, 0));
  report("mmap.hugetlb_bit26", mmap2(0, 0x200000, PR, PRIV | 0x40000 | 0x04000000, -1, 0));
  report("mmap.priv_bit26", mmap2(0, 0x1000, PR, PRIV | 0x04000000, -1, 0));
  report("mmap.shared_growsdown", mmap2(0, 0x1000, PR, SHAN | 0x100, -1, 0));
  report("mmap.unknown_prot", mmap2(0, 0x1000, 0x10 | PR, PRIV, -1, 0));

  report("munmap.unaligned", sc(SYS_munmap, m + 1, 0x1000, 0, 0, 0, 0));
  report("munmap.len0", sc(SYS_munmap, m, 0, 0, 0, 0, 0));
  report("munmap.past_top", sc(SYS_munmap, 0xfffff000, 0x1000, 0, 0, 0, 0));
  report("munmap.wraps", sc(SYS_munmap, 0x10000000, 0xf8000000, 0, 0, 0, 0));
  report("munmap.unmapped", sc(SYS_munmap, 0x20000000, 0x1000, 0, 0, 0, 0));

  report("mprotect.unaligned", sc(SYS_mprotect, m + 1, 0x1000, 1, 0, 0, 0));
  report("mprotect.len0", sc(SYS_mprotect, m, 0, 1, 0, 0, 0));
  report("mprotect.unmapped", sc(SYS_mprotect, 0x20000000, 0x1000, 1, 0, 0, 0));
  report("mprotect.hole", sc(SYS_mprotect, holed(), 0x4000, 1, 0, 0, 0));
  report("mprotect.badprot", sc(SYS_mprotect, m, 0x1000, 0x10, 0, 0, 0));
  report("mprotect.growsdown_and_up", sc(SYS_mprotect, m, 0x1000, 0x03000001, 0, 0, 0));
  report("mprotect.growsdown_plain", sc(SYS_mprotect, m, 0x1000, 0x01000001, 0, 0, 0));
  report("mprotect.len_wraps", sc(SYS_mprotect, m, 0xffffffff, 1, 0, 0, 0));

  report("mremap.badflags", sc(SYS_mremap, m, 0x1000, 0x1000, 8, 0, 0));
  report("mremap.fixed_no_maymove", sc(SYS_mremap, m, 0x1000, 0x1000, 2, 0x30000000, 0));
  report("mremap.dontunmap_sizes", sc(SYS_mremap, m, 0x1000, 0x2000, 5, 0, 0));
  report("mremap.unaligned", sc(SYS_mremap, m + 1, 0x1000, 0x2000, 1, 0, 0));
  report("mremap.newlen0", sc(SYS_mremap, m, 0x1000, 0, 1, 0, 0));
  report("mremap.unmapped", sc(SYS_mremap, 0x20000000, 0x1000, 0x2000, 1, 0, 0));
  report("mremap.oldlen_past_vma", sc(SYS_mremap, m, 0x5000, 0x6000, 1, 0, 0));
  report("mremap.grow_blocked", sc(SYS_mremap, m, 0x1000, 0x2000, 0, 0, 0));
  report("mremap.fixed_overlap", sc(SYS_mremap, m, 0x2000, 0x2000, 3, m + 0x1000, 0));
  report("mremap.fixed_unaligned", sc(SYS_mremap, m, 0x1000, 0x1000, 3, 0x30000001, 0));
  report("mremap.oldlen0_private", sc(SYS_mremap, m, 0, 0x1000, 1, 0, 0));
  report("mremap.shrink_unmapped", sc(SYS_mremap, 0x20000000, 0x2000, 0x1000, 0, 0, 0));

  report("madvise.badadvice", sc(SYS_madvise, m, 0x1000, 999, 0, 0, 0));
  report("madvise.unaligned", sc(SYS_madvise, m + 1, 0x1000, 4, 0, 0, 0));
  report("madvise.len0", sc(SYS_madvise, m, 0, 4, 0, 0, 0));
  report("madvise.unmapped", sc(SYS_madvise, 0x20000000, 0x1000, 4, 0, 0, 0));
  report("madvise.hole", sc(SYS_madvise, holed(), 0x4000, 4, 0, 0, 0));
  report("madvise.free_shared", sc(SYS_madvise, sh, 0x1000, 8, 0, 0, 0));
  report("madvise.len_wraps", sc(SYS_madvise, m, 0xffffffff, 4, 0, 0, 0));
  report("madvise.wipeonfork_shared", sc(SYS_madvise, sh, 0x1000, 18, 0, 0, 0));
  report("madvise.cold", sc(SYS_madvise, m, 0x4000, 20, 0, 0, 0));
  report("madvise.pageout", sc(SYS_madvise, m, 0x4000, 21, 0, 0, 0));
  report("madvise.populate_read", sc(SYS_madvise, m, 0x4000, 22, 0, 0, 0));
  /* Not on m: on a 64-bit kernel mprotect.len_wraps did not wrap (compat len
     is 64-bit), so it made m read-only before failing with ENOMEM. */
  report("madvise.populate_write_fresh", sc(SYS_madvise, mmap2(0, 0x4000, PR, PRIV, -1, 0), 0x4000, 23, 0, 0, 0));
  report("madvise.populate_write_ro", sc(SYS_madvise, mmap2(0, 0x1000, 1, PRIV, -1, 0), 0x1000, 23, 0, 0, 0));
  report("madvise.populate_read_none", sc(SYS_madvise, mmap2(0, 0x1000, 0, PRIV, -1, 0), 0x1000, 22, 0, 0, 0));
  report("madvise.populate_hole", sc(SYS_madvise, holed(), 0x4000, 22, 0, 0, 0));
  report("madvise.dontneed_locked", sc(SYS_madvise, m, 0x1000, 24, 0, 0, 0));
  report("madvise.collapse", sc(SYS_madvise, m, 0x1000, 25, 0, 0, 0));

  long b0 = sc(SYS_brk, 0, 0, 0, 0, 0, 0);
  out("brk.below_start "); out(sc(SYS_brk, b0 - 0x100000, 0, 0, 0, 0, 0) == b0 ? "unchanged" : "moved"); out("\n");
  out("brk.into_stack "); out(sc(SYS_brk, 0xfff00000, 0, 0, 0, 0, 0) == b0 ? "unchanged" : "moved"); out("\n");
  sc(SYS_exit, 0, 0, 0, 0, 0, 0);
}
