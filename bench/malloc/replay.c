/*
 * Native glibc anchor for the malloc bench: replay the trace file that
 * bench/malloc/trace.ts wrote (the same bytes every peer replays) through
 * this process's malloc/free/realloc, with the same tag checks as
 * bench/malloc/replay.ts.
 *
 *   replay TRACE time REPS   REPS timed replays (clock_gettime MONOTONIC
 *                            around each whole replay; also the process's
 *                            CPU time, for a machine shared with other work)
 *   replay TRACE footprint   one pass that samples mallinfo2() arena +
 *                            hblkhd after every op (its peak above the start)
 *
 * The harness's own memory (the trace, the slot tables) comes from mmap and
 * the trace is read with read(2), so nothing calls malloc before the replay:
 * the heap the footprint pass measures is the replay's alone.
 *
 * Output: "key value" lines (bench/malloc.bench.ts parses them).
 * Build: gcc -O2 -o replay replay.c   (bench time, into bench/native/bin/)
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAGIC 0x4352544du
#define VERSION 1u
#define HEADER_WORDS 16
enum { KIND_MALLOC = 0, KIND_FREE = 1, KIND_REALLOC = 2 };

static uint32_t *code, *sizes;
static uint32_t ops, slots;
static unsigned char **ptr_of;
static uint32_t *size_of;
static unsigned char *tag_of;

struct stats {
	long bad_tags, misaligned, nulls;
};

static size_t footprint(void) {
	struct mallinfo2 mi = mallinfo2();
	return mi.arena + mi.hblkhd;
}

/* One whole replay; with peak != NULL, the peak of arena+hblkhd after every op. */
static struct stats replay(size_t *peak) {
	struct stats st = {0, 0, 0};
	for (uint32_t i = 0; i < ops; i++) {
		uint32_t c = code[i], s = c >> 2, kind = c & 3;
		if (kind == KIND_MALLOC) {
			uint32_t n = sizes[i];
			unsigned char *p = malloc(n);
			unsigned char tag = (unsigned char)((i & 0xfe) | 1);
			ptr_of[s] = p;
			size_of[s] = n;
			tag_of[s] = tag;
			if (!p) {
				st.nulls++;
			} else {
				if ((uintptr_t)p & 7) st.misaligned++;
				p[0] = tag;
				p[n - 1] = tag;
			}
		} else if (kind == KIND_FREE) {
			unsigned char *p = ptr_of[s];
			if (p) {
				unsigned char tag = tag_of[s];
				if (p[0] != tag || p[size_of[s] - 1] != tag) st.bad_tags++;
				free(p);
				ptr_of[s] = NULL;
			}
		} else {
			unsigned char *p = ptr_of[s];
			uint32_t old = size_of[s], n = sizes[i];
			unsigned char old_tag = tag_of[s];
			if (p && (p[0] != old_tag || p[old - 1] != old_tag)) st.bad_tags++;
			unsigned char *q = realloc(p, n);
			unsigned char tag = (unsigned char)((i & 0xfe) | 1);
			if (!q) {
				st.nulls++;
			} else {
				if ((uintptr_t)q & 7) st.misaligned++;
				if (p && (q[0] != old_tag || (n >= old && q[old - 1] != old_tag))) st.bad_tags++;
				ptr_of[s] = q;
				size_of[s] = n;
				tag_of[s] = tag;
				q[0] = tag;
				q[n - 1] = tag;
			}
		}
		if (peak) {
			size_t f = footprint();
			if (f > *peak) *peak = f;
		}
	}
	return st;
}

static double clock_ns(clockid_t id) {
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Memory the harness needs, from mmap: nothing touches malloc before the replay. */
static void *harness_alloc(size_t n) {
	void *p = mmap(NULL, n ? n : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	return p;
}

static int read_all(int fd, void *buf, size_t n) {
	char *b = buf;
	while (n > 0) {
		ssize_t r = read(fd, b, n);
		if (r <= 0) return -1;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

int main(int argc, char **argv) {
	int footprint_mode = argc == 3 && strcmp(argv[2], "footprint") == 0;
	int reps = argc == 4 && strcmp(argv[2], "time") == 0 ? atoi(argv[3]) : 0;
	if (!footprint_mode && reps <= 0) {
		fprintf(stderr, "usage: %s TRACE time REPS | %s TRACE footprint\n", argv[0], argv[0]);
		return 2;
	}
	int fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	uint32_t h[HEADER_WORDS];
	if (read_all(fd, h, sizeof h) != 0 || h[0] != MAGIC || h[1] != VERSION) {
		fprintf(stderr, "%s: not a v%u malloc trace\n", argv[1], VERSION);
		return 1;
	}
	ops = h[2];
	slots = h[4];
	code = harness_alloc((size_t)ops * 4);
	sizes = harness_alloc((size_t)ops * 4);
	ptr_of = harness_alloc(slots * sizeof *ptr_of);
	size_of = harness_alloc(slots * sizeof *size_of);
	tag_of = harness_alloc(slots);
	if (read_all(fd, code, (size_t)ops * 4) != 0 || read_all(fd, sizes, (size_t)ops * 4) != 0) {
		fprintf(stderr, "%s: truncated\n", argv[1]);
		return 1;
	}
	close(fd);

	struct stats st = {0, 0, 0};
	if (footprint_mode) {
		/* Peak of arena + hblkhd above the start (0: nothing has called malloc yet). */
		size_t base = footprint();
		size_t peak = base;
		st = replay(&peak);
		size_t end = footprint();
		printf("ops %u\nfootprint_base %zu\nfootprint_peak %zu\nfootprint_end %zu\n", ops, base, peak, end);
	} else {
		static double ns[64], cpu[64];
		if (reps > 64) reps = 64;
		for (int r = 0; r < reps; r++) {
			double t0 = clock_ns(CLOCK_MONOTONIC), c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
			st = replay(NULL);
			cpu[r] = clock_ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
			ns[r] = clock_ns(CLOCK_MONOTONIC) - t0;
		}
		printf("ops %u\n", ops);
		for (int r = 0; r < reps; r++) printf("rep_ns %.0f\nrep_cpu_ns %.0f\n", ns[r], cpu[r]);
	}
	printf("bad_tags %ld\nmisaligned %ld\nnulls %ld\n", st.bad_tags, st.misaligned, st.nulls);
	return 0;
}
