/* Benchmark: counting present pages and reading populated memory, memlens against plain /proc loops.
 * Workload child: ~2000 mappings, a 1 GiB written heap, a 1 GiB mapping with every 16th page written.
 * Build and run with tests/bench/pagemap_bench.sh. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <memlens/memlens.h>

#define PG 4096UL
#define GIB (1UL << 30)

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return v[n / 2];
}

/* The workload: reports the two big regions over the pipe, then waits to be killed. */
static void workload(int wfd, size_t nmaps, bool thp)
{
	for (size_t i = 0; i < nmaps; i++) {
		/* alternating protections keep neighbours from merging into one VMA */
		char *p = mmap(NULL, 4 * PG, i % 2 ? PROT_READ | PROT_WRITE : PROT_READ | PROT_WRITE | PROT_EXEC,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			_exit(1);
		if (i % 2 == 0)
			p[0] = 1;
		else
			mprotect(p, 4 * PG, PROT_READ);
	}
	char *heap = mmap(NULL, GIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *sparse = mmap(NULL, GIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (heap == MAP_FAILED || sparse == MAP_FAILED)
		_exit(1);
	/* 4 KiB pages by default: the harder case for page walks; "thp" asks for huge pages */
	madvise(heap, GIB, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	madvise(sparse, GIB, MADV_NOHUGEPAGE);
	for (size_t o = 0; o < GIB; o += PG)
		heap[o] = (char)(o >> 12 | 1);
	for (size_t o = 0; o < GIB; o += 16 * PG)
		sparse[o] = 1;
	uint64_t a[2] = { (uintptr_t)heap, (uintptr_t)sparse };
	if (write(wfd, a, sizeof(a)) != sizeof(a))
		_exit(1);
	pause();
	_exit(0);
}

typedef struct range {
	uint64_t s, e;
} range;

/* The mappings, from maps text (what a script would parse). */
static size_t read_ranges(pid_t pid, range *r, size_t cap)
{
	char path[64], line[1024];
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "r");
	size_t n = 0;
	while (f && fgets(line, sizeof(line), f) && n < cap) {
		unsigned long long a, b;
		if (sscanf(line, "%llx-%llx", &a, &b) == 2 && !strstr(line, "[vsyscall]"))
			r[n++] = (range){ a, b };
	}
	if (f)
		fclose(f);
	return n;
}

static uint64_t count_scan(ml_pagemap *pm, bool emulate)
{
	static ml_page_region v[32768];
	ML_OPTS(ml_scan_opts, o, .category_mask = ML_PAGE_PRESENT, .return_mask = ML_PAGE_PRESENT,
		.force_emulation = emulate);
	uint64_t pages = 0, next;
	for (;;) {
		ssize_t n = ml_pagemap_scan(pm, &o, v, 32768, &next);
		if (n < 0) {
			fprintf(stderr, "scan: %s\n", strerror((int)-n));
			exit(1);
		}
		for (ssize_t i = 0; i < n; i++)
			pages += (v[i].end - v[i].start) / PG;
		if (next >= 0x7ffffffff000ULL)
			break;
		o.start = next;
	}
	return pages;
}

/* The plain loop: maps text, then pread of each mapping's entries with @bufsz-byte reads. */
static uint64_t count_pread(pid_t pid, size_t bufsz)
{
	static range r[1 << 16];
	size_t n = read_ranges(pid, r, 1 << 16);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	int fd = open(path, O_RDONLY);
	uint64_t *buf = malloc(bufsz), pages = 0;
	for (size_t i = 0; i < n; i++) {
		for (uint64_t a = r[i].s; a < r[i].e;) {
			size_t want = (size_t)((r[i].e - a) / PG * 8);
			if (want > bufsz)
				want = bufsz;
			ssize_t got = pread(fd, buf, want, (off_t)(a / PG * 8));
			if (got <= 0)
				break;
			for (ssize_t k = 0; k < got / 8; k++)
				pages += buf[k] >> 63;
			a += (uint64_t)got / 8 * PG;
		}
	}
	free(buf);
	close(fd);
	return pages;
}

/* Bytes of populated memory in [s, e) read through the library's populated reader. */
static uint64_t read_populated(const ml_proc *p, uint64_t s, uint64_t e, unsigned char *buf, size_t cap)
{
	ml_populated *it;
	if (ml_populated_open(p, s, e, NULL, &it) < 0)
		exit(1);
	ml_mem_span sp[256];
	size_t ns;
	uint64_t total = 0, sum = 0;
	ssize_t n;
	while ((n = ml_populated_next(it, buf, cap, sp, 256, &ns)) > 0) {
		total += (uint64_t)n;
		sum += buf[0];
	}
	ml_populated_free(it);
	(void)sum;
	return total;
}

/* The same through ml_source_read (what grep and dump use), 1 MiB at a time. */
static uint64_t read_source(const ml_source *src, uint64_t s, uint64_t e, unsigned char *buf)
{
	uint64_t total = 0;
	for (uint64_t a = s; a < e;) {
		size_t want = e - a < (1u << 20) ? (size_t)(e - a) : (1u << 20);
		ssize_t got = ml_source_read(src, a, buf, want, 0);
		if (got <= 0)
			break;
		total += (uint64_t)got;
		a += (uint64_t)got;
	}
	return total;
}

/* The plain loop over /proc/PID/mem with 1 MiB preads (faults in unpopulated pages!). */
static uint64_t read_mem_loop(pid_t pid, uint64_t s, uint64_t e, unsigned char *buf)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	int fd = open(path, O_RDONLY);
	uint64_t total = 0;
	for (uint64_t a = s; a < e;) {
		size_t want = e - a < (1u << 20) ? (size_t)(e - a) : (1u << 20);
		ssize_t got = pread(fd, buf, want, (off_t)a);
		if (got <= 0)
			break;
		total += (uint64_t)got;
		a += (uint64_t)got;
	}
	close(fd);
	return total;
}

/* The raw syscall with 1 MiB reads, as a ceiling for the library's reader. */
static uint64_t read_vm_loop(pid_t pid, uint64_t s, uint64_t e, unsigned char *buf)
{
	uint64_t total = 0;
	for (uint64_t a = s; a < e;) {
		size_t want = e - a < (1u << 20) ? (size_t)(e - a) : (1u << 20);
		struct iovec l = { buf, want }, r = { (void *)(uintptr_t)a, want };
		ssize_t got = process_vm_readv(pid, &l, 1, &r, 1, 0);
		if (got <= 0)
			break;
		total += (uint64_t)got;
		a += (uint64_t)got;
	}
	return total;
}

static uint64_t present_in(ml_pagemap *pm, uint64_t s, uint64_t e)
{
	static ml_page_region v[4096];
	ML_OPTS(ml_scan_opts, o, .start = s, .end = e, .category_mask = ML_PAGE_PRESENT, .return_mask = ML_PAGE_PRESENT);
	uint64_t pages = 0, next;
	while (o.start < e) {
		ssize_t n = ml_pagemap_scan(pm, &o, v, 4096, &next);
		if (n < 0)
			exit(1);
		for (ssize_t i = 0; i < n; i++)
			pages += (v[i].end - v[i].start) / PG;
		o.start = next;
	}
	return pages;
}

#define REPS 11

int main(int argc, char **argv)
{
	size_t nmaps = argc > 1 ? strtoul(argv[1], NULL, 0) : 2000;
	bool thp = argc > 2 && !strcmp(argv[2], "thp");
	int pfd[2];
	if (pipe(pfd) < 0)
		return 1;
	pid_t pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		workload(pfd[1], nmaps, thp);
	}
	close(pfd[1]);
	uint64_t reg[2];
	if (read(pfd[0], reg, sizeof(reg)) != sizeof(reg)) {
		fprintf(stderr, "workload failed\n");
		return 1;
	}
	ml_proc *p;
	ml_pagemap *pm;
	if (ml_proc_open(pid, &p) < 0 || ml_pagemap_open(p, &pm) < 0)
		return 1;
	static range r[1 << 16];
	printf("workload: pid %d, %zu mappings, 1 GiB written heap (%s), 1 GiB sparse (every 16th page)\n", (int)pid,
	       read_ranges(pid, r, 1 << 16), thp ? "MADV_HUGEPAGE" : "4 KiB pages");

	/* --- counting present pages --- */
	/* methods are interleaved round by round so that load from elsewhere hits all alike */
	double t[REPS], ts[REPS], te[REPS], tp[REPS], tc[REPS];
	uint64_t c_scan = 0, c_emul = 0, c_pread = 0, c_cat = 0;
	for (int i = 0; i < REPS; i++) {
		double a = now();
		c_scan = count_scan(pm, false);
		ts[i] = now() - a;
		a = now();
		c_emul = count_scan(pm, true);
		te[i] = now() - a;
		a = now();
		c_pread = count_pread(pid, 512 << 10);
		tp[i] = now() - a;
		a = now();
		c_cat = count_pread(pid, 128 << 10);
		tc[i] = now() - a;
	}
	double m_scan = median(ts, REPS), m_emul = median(te, REPS), m_pread = median(tp, REPS), m_cat = median(tc, REPS);
	printf("\ncount present pages (median of %d)\n", REPS);
	printf("  memlens PAGEMAP_SCAN          %8.2f ms  %llu pages\n", m_scan * 1e3, (unsigned long long)c_scan);
	printf("  memlens plain-read emulation  %8.2f ms  %llu pages\n", m_emul * 1e3, (unsigned long long)c_emul);
	printf("  pread loop, 512 KiB reads     %8.2f ms  %llu pages\n", m_pread * 1e3, (unsigned long long)c_pread);
	printf("  cat-style loop, 128 KiB reads %8.2f ms  %llu pages\n", m_cat * 1e3, (unsigned long long)c_cat);
	printf("  ratio pread/PAGEMAP_SCAN %.1fx, cat/PAGEMAP_SCAN %.1fx, pread/emulation %.2fx\n",
	       m_pread / m_scan, m_cat / m_scan, m_pread / m_emul);
	if (c_scan != c_emul || c_scan != c_pread || c_scan != c_cat)
		printf("  WARNING: counts differ\n");

	/* --- reading populated memory --- */
	size_t cap = 1u << 20;
	unsigned char *buf = malloc(cap);
	uint64_t heap = reg[0], sparse = reg[1];
	uint64_t b_lib = 0, b_loop = 0, b_sparse = 0, b_vm = 0, b_src = 0;
	double tl[REPS], to[REPS], tv[REPS], tsr[REPS];
	ml_source *src;
	if (ml_source_open_proc(p, &src) < 0)
		return 1;
	for (int i = 0; i < REPS; i++) {
		double a = now();
		b_lib = read_populated(p, heap, heap + GIB, buf, cap);
		tl[i] = now() - a;
		a = now();
		b_loop = read_mem_loop(pid, heap, heap + GIB, buf);
		to[i] = now() - a;
		a = now();
		b_vm = read_vm_loop(pid, heap, heap + GIB, buf);
		tv[i] = now() - a;
		a = now();
		b_src = read_source(src, heap, heap + GIB, buf);
		tsr[i] = now() - a;
	}
	double m_lib = median(tl, REPS), m_loop = median(to, REPS), m_vm = median(tv, REPS), m_sparse;
	uint64_t before = present_in(pm, sparse, sparse + GIB);
	for (int i = 0; i < REPS; i++) { double a = now(); b_sparse = read_populated(p, sparse, sparse + GIB, buf, cap); t[i] = now() - a; }
	m_sparse = median(t, REPS);
	uint64_t after_lib = present_in(pm, sparse, sparse + GIB);
	printf("\nread populated memory (median of %d, 1 MiB buffers)\n", REPS);
	printf("  dense 1 GiB, memlens populated reader  %8.1f ms  %6.2f GB/s\n", m_lib * 1e3, b_lib / m_lib / 1e9);
	printf("  dense 1 GiB, pread loop on mem         %8.1f ms  %6.2f GB/s\n", m_loop * 1e3, b_loop / m_loop / 1e9);
	printf("  dense 1 GiB, raw process_vm_readv loop %8.1f ms  %6.2f GB/s (no checks: the ceiling)\n", m_vm * 1e3,
	       b_vm / m_vm / 1e9);
	printf("  dense 1 GiB, memlens ml_source_read    %8.1f ms  %6.2f GB/s\n", median(tsr, REPS) * 1e3,
	       b_src / median(tsr, REPS) / 1e9);
	printf("  ratio memlens/pread bandwidth %.2fx (raw syscall/pread %.2fx)\n", (b_lib / m_lib) / (b_loop / m_loop),
	       (b_vm / m_vm) / (b_loop / m_loop));
	printf("  sparse 1 GiB (64 MiB populated), memlens %8.1f ms (%.3f of the dense time; populated share 0.0625)\n",
	       m_sparse * 1e3, m_sparse / m_lib);
	printf("  sparse present pages before/after memlens: %llu/%llu\n", (unsigned long long)before,
	       (unsigned long long)after_lib);
	double a = now();
	uint64_t b_sl = read_mem_loop(pid, sparse, sparse + GIB, buf);
	double m_sl = now() - a;
	printf("  sparse 1 GiB, pread loop on mem (once) %8.1f ms, %llu bytes; present pages after: %llu (faulted in)\n",
	       m_sl * 1e3, (unsigned long long)b_sl, (unsigned long long)present_in(pm, sparse, sparse + GIB));
	ml_source_free(src);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	ml_pagemap_free(pm);
	ml_proc_free(p);
	free(buf);
	return 0;
}
