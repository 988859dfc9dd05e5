/* Native calibration probe: what the emulator's cost model prices, measured
 * on this machine. Prints one "name value" line per figure (ns, median of
 * reps). Used by `nozero calibrate` and by the benchmarks.
 * Build: gcc -O2 -o calibrate calibrate.c */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096
static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}
static int cmpd(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}
static double median(double *v, int n) {
  qsort(v, n, sizeof *v, cmpd);
  return v[n / 2];
}
#define REPS 9

/* Null syscall: getppid, not cached by glibc. */
static double syscall_ns(void) {
  double r[REPS];
  for (int k = 0; k < REPS; k++) {
    double t = now_ns();
    for (int i = 0; i < 200000; i++) syscall(SYS_getppid);
    r[k] = (now_ns() - t) / 200000;
  }
  return median(r, REPS);
}

/* mmap + munmap of one untouched page: two syscalls plus VMA create/remove. */
static double mmap_pair_ns(void) {
  double r[REPS];
  for (int k = 0; k < REPS; k++) {
    double t = now_ns();
    for (int i = 0; i < 20000; i++) {
      void *p = mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      munmap(p, PAGE);
    }
    r[k] = (now_ns() - t) / 20000;
  }
  return median(r, REPS);
}

/* Per-page cost of touching a fresh mapping of mib MiB (read or write), and of its munmap. */
static void fault_ns(size_t mib, int write, double *touch, double *unmap) {
  size_t len = mib << 20, pages = len / PAGE;
  double rt[REPS], ru[REPS];
  volatile char sink = 0;
  for (int k = 0; k < REPS; k++) {
    char *p = mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    madvise(p, len, MADV_NOHUGEPAGE);
    double t = now_ns();
    if (write) for (size_t i = 0; i < len; i += PAGE) p[i] = 1;
    else for (size_t i = 0; i < len; i += PAGE) sink += p[i];
    double t2 = now_ns();
    munmap(p, len);
    rt[k] = (t2 - t) / pages;
    ru[k] = (now_ns() - t2) / pages;
  }
  *touch = median(rt, REPS);
  *unmap = median(ru, REPS);
}

/* memset of a 4 KiB page: hot (same page again and again) and cold (a 256 MiB sweep). */
static double memset_ns(int cold) {
  size_t len = cold ? (size_t)256 << 20 : PAGE;
  char *buf = aligned_alloc(PAGE, len);
  memset(buf, 1, len);
  size_t pages = len / PAGE, n = cold ? pages : 200000;
  double r[REPS];
  for (int k = 0; k < REPS; k++) {
    double t = now_ns();
    for (size_t i = 0; i < n; i++) {
      memset(buf + (i % pages) * PAGE, 0, PAGE);
      __asm__ volatile("" ::: "memory");
    }
    r[k] = (now_ns() - t) / n;
  }
  free(buf);
  return median(r, REPS);
}

/* memcpy of 512 KiB between warm buffers, per byte (ebizzy's copy). */
static double memcpy_ns_per_byte(void) {
  size_t len = 512 << 10;
  char *a = malloc(len), *b = malloc(len);
  memset(a, 1, len);
  memset(b, 2, len);
  double r[REPS];
  for (int k = 0; k < REPS; k++) {
    double t = now_ns();
    for (int i = 0; i < 200; i++) {
      memcpy(b, a, len);
      __asm__ volatile("" ::: "memory");
    }
    r[k] = (now_ns() - t) / (200.0 * len);
  }
  free(a);
  free(b);
  return median(r, REPS);
}

/* workloads.md 5.4's loop: 10,000 live blocks; free a random one, malloc 16-512 B. ns per pair. */
static double malloc_pair_ns(void) {
  enum { LIVE = 10000, OPS = 2000000 };
  static void *slots[LIVE];
  static unsigned rnd[2 * OPS];
  unsigned x = 12345;
  for (int i = 0; i < 2 * OPS; i++) {
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    rnd[i] = x;
  }
  for (int i = 0; i < LIVE; i++) slots[i] = malloc(16 + rnd[i] % 497);
  double r[REPS];
  for (int k = 0; k < REPS; k++) {
    double t = now_ns();
    for (int i = 0; i < OPS; i++) {
      unsigned s = rnd[2 * i] % LIVE;
      free(slots[s]);
      slots[s] = malloc(16 + rnd[2 * i + 1] % 497);
    }
    r[k] = (now_ns() - t) / OPS;
  }
  for (int i = 0; i < LIVE; i++) free(slots[i]);
  return median(r, REPS);
}

int main(int argc, char **argv) {
  const char *only = argc > 1 ? argv[1] : "";
  if (!*only || !strcmp(only, "memset")) {
    printf("memset_4k_hot_ns %.2f\n", memset_ns(0));
    printf("memset_4k_cold_ns %.2f\n", memset_ns(1));
  }
  if (!strcmp(only, "memset")) return 0;
  double touch, unmap;
  printf("syscall_ns %.2f\n", syscall_ns());
  printf("mmap_munmap_pair_ns %.2f\n", mmap_pair_ns());
  fault_ns(1, 0, &touch, &unmap);
  printf("fault_read_ns %.2f\n", touch);
  fault_ns(1, 1, &touch, &unmap);
  printf("fault_write_hot_ns %.2f\nmunmap_page_ns %.2f\n", touch, unmap);
  fault_ns(256, 1, &touch, &unmap);
  printf("fault_write_cold_ns %.2f\n", touch);
  printf("memcpy_ns_per_byte %.4f\n", memcpy_ns_per_byte());
  printf("malloc_pair_ns %.2f\n", malloc_pair_ns());
  return 0;
}
