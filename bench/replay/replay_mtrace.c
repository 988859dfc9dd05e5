/*
 * Native anchor for the replay bench: what `nozero replay` does per machine,
 * in C against glibc's malloc. Reads a glibc mtrace log with getline, parses
 * each line, maps every traced address to its own block (an open-addressing
 * hash table), calls malloc/free/realloc, writes every byte of each block
 * (as mtrace-replay -t full does) and checks a block's first and last bytes
 * on free and realloc. A changed block or a line that breaks the trace stops
 * it (exit 1, naming the line).
 *
 *   replay_mtrace TRACE
 *
 * Output: "key value" lines: ops, seconds (CLOCK_MONOTONIC around the whole
 * read + parse + replay), cpu_seconds (CLOCK_PROCESS_CPUTIME_ID, the same
 * span), maxrss_kib (getrusage), hwm_kib (VmHWM of /proc/self/status:
 * this image's own peak; ru_maxrss also counts the spawning process's
 * pre-exec fork, which for a node parent is tens of MiB), live_at_end.
 * Build: gcc -O2 -o replay-mtrace replay_mtrace.c   (bench time, into bench/native/bin/)
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* One live traced block: key is the traced address (0: empty entry). */
struct entry {
	uint64_t key;
	unsigned char *p;
	size_t n;
	unsigned char tag;
};

static struct entry *tab;
static size_t cap = 1 << 14, used;
static int shift = 64 - 14; /* 64 - log2(cap): the hash's top bits pick the slot */
static long lineno;

static void die(const char *what) {
	fprintf(stderr, "replay_mtrace: line %ld: %s\n", lineno, what);
	exit(1);
}

static size_t slot_of(uint64_t key) {
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> shift);
}

static struct entry *find(uint64_t key) {
	for (size_t i = slot_of(key);; i = (i + 1) & (cap - 1)) {
		if (tab[i].key == key) return &tab[i];
		if (tab[i].key == 0) return NULL;
	}
}

static void insert(struct entry e);

static void grow(void) {
	struct entry *old = tab;
	size_t n = cap;
	cap *= 2;
	shift--;
	tab = calloc(cap, sizeof *tab);
	used = 0;
	for (size_t i = 0; i < n; i++)
		if (old[i].key) insert(old[i]);
	free(old);
}

static void insert(struct entry e) {
	if (2 * (used + 1) > cap) grow();
	size_t i = slot_of(e.key);
	while (tab[i].key) {
		if (tab[i].key == e.key) die("address handed out again while live");
		i = (i + 1) & (cap - 1);
	}
	tab[i] = e;
	used++;
}

/* Linear probing's backward-shift delete: no tombstones, so lookups stay short however many frees. */
static void erase(struct entry *e) {
	size_t i = (size_t)(e - tab), j = i;
	for (;;) {
		j = (j + 1) & (cap - 1);
		if (tab[j].key == 0) break;
		size_t h = slot_of(tab[j].key);
		/* tab[j] may move to the hole at i unless its home lies cyclically in (i, j]. */
		if (i <= j ? (i < h && h <= j) : (i < h || h <= j)) continue;
		tab[i] = tab[j];
		i = j;
	}
	tab[i].key = 0;
	used--;
}

static void check(const struct entry *e) {
	if (e->n && (e->p[0] != e->tag || e->p[e->n - 1] != e->tag)) die("block changed under the program");
}

/* "0x1f00" or "(nil)" (0); *s is left after it. */
static uint64_t hex(char **s) {
	char *end;
	if (strncmp(*s, "(nil)", 5) == 0) {
		*s += 5;
		return 0;
	}
	uint64_t v = strtoull(*s, &end, 16);
	if (end == *s) die("bad number");
	*s = end;
	return v;
}

/* VmHWM, KiB, or -1. */
static long hwm_kib(void) {
	FILE *f = fopen("/proc/self/status", "r");
	char buf[256];
	long v = -1;
	while (f && fgets(buf, sizeof buf, f))
		if (sscanf(buf, "VmHWM: %ld kB", &v) == 1) break;
	if (f) fclose(f);
	return v;
}

static double now(clockid_t id) {
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
	if (argc != 2) {
		fprintf(stderr, "usage: %s TRACE\n", argv[0]);
		return 2;
	}
	double t0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
	FILE *f = fopen(argv[1], "r");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	tab = calloc(cap, sizeof *tab);
	char *line = NULL;
	size_t linecap = 0;
	ssize_t len;
	long ops = 0;
	uint64_t pending = 0; /* a '<' address waiting for its '>' */
	while ((len = getline(&line, &linecap, f)) >= 0) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n') line[--len] = 0;
		if (len == 0 || line[0] == '=') continue;
		char *s = line;
		if (s[0] == '@') {
			s = strstr(s, "] ");
			if (!s) die("caller without ']'");
			s += 2;
		}
		char op = s[0];
		if (s[1] != ' ') die("not an mtrace line");
		s += 2;
		uint64_t addr = hex(&s);
		size_t n = 0;
		if (op == '+' || op == '>' || op == '!') {
			if (*s++ != ' ') die("missing size");
			n = (size_t)hex(&s);
		}
		if (op != '>' && pending) die("'<' without its '>'");
		if (op == '+') {
			ops++;
			if (!addr) continue; /* failed in the trace */
			unsigned char tag = (unsigned char)(ops % 255 + 1);
			unsigned char *p = malloc(n);
			if (!p && n) die("malloc failed");
			memset(p, tag, n);
			insert((struct entry){addr, p, n, tag});
		} else if (op == '-') {
			ops++;
			struct entry *e = find(addr);
			if (!e) die("free of an address not live");
			check(e);
			free(e->p);
			erase(e);
		} else if (op == '<') {
			pending = addr;
		} else if (op == '>') {
			ops++;
			struct entry *e = pending ? find(pending) : NULL;
			if (!e) die("realloc of an address not live");
			pending = 0;
			check(e);
			struct entry moved = *e;
			erase(e);
			unsigned char *q = realloc(moved.p, n);
			if (!q && n) die("realloc failed");
			/* The old bytes are kept: write only the grown part (a shrink's last byte is the tag already). */
			if (n > moved.n) memset(q + moved.n, moved.tag, n - moved.n);
			moved.key = addr;
			moved.p = q;
			moved.n = n;
			insert(moved);
		} else if (op == '!') {
			ops++; /* a failed realloc: the old block stays */
		} else {
			die("unknown op");
		}
	}
	if (pending) die("'<' without its '>' at the end");
	fclose(f);
	double cpu = now(CLOCK_PROCESS_CPUTIME_ID) - c0, wall = now(CLOCK_MONOTONIC) - t0;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("ops %ld\nseconds %.6f\ncpu_seconds %.6f\nmaxrss_kib %ld\nhwm_kib %ld\nlive_at_end %zu\n", ops, wall, cpu, ru.ru_maxrss, hwm_kib(), used);
	return 0;
}
