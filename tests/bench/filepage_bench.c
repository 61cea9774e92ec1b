/* Benchmark: reading pages of a file mapping that the target never touched, through the live
 * source (from the mapped file, in the page cache), against a plain pread of the file and a
 * process_vm_readv of the same pages once resident. Build and run with filepage_bench.sh. */
#define _GNU_SOURCE
#include <fcntl.h>
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

#define MIB (1UL << 20)

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

/* Present pages of [a, a+len) of @pid (plain pagemap reads). */
static size_t present(pid_t pid, uint64_t a, size_t len)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/pagemap", (int)pid);
	int fd = open(p, O_RDONLY);
	size_t n = len / 4096, c = 0;
	uint64_t *e = malloc(n * 8);
	if (fd < 0 || !e || pread(fd, e, n * 8, (off_t)(a / 4096 * 8)) != (ssize_t)(n * 8))
		exit(2);
	for (size_t i = 0; i < n; i++)
		c += e[i] >> 63;
	close(fd);
	free(e);
	return c;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 512, chunk = (argc > 2 ? strtoul(argv[2], NULL, 10) : 1024) << 10;
	int reps = argc > 3 ? atoi(argv[3]) : 7;
	size_t len = mib * MIB;
	char path[] = "/tmp/ml_filepage_bench.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return 2;
	unlink(path);
	char *b = malloc(MIB);
	for (size_t i = 0; i < MIB; i++)
		b[i] = (char)(i * 7 + 3);
	for (size_t i = 0; i < mib; i++)
		if (write(fd, b, MIB) != (ssize_t)MIB)
			return 2;
	int pfd[2], qfd[2];
	if (pipe(pfd) || pipe(qfd))
		return 2;
	pid_t pid = fork();
	if (pid == 0) { /* maps the file shared, never touches it, waits for the pipe to close */
		close(qfd[1]);
		void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED)
			_exit(1);
		uint64_t a = (uintptr_t)m;
		if (write(pfd[1], &a, 8) != 8)
			_exit(1);
		char c;
		while (read(qfd[0], &c, 1) < 0)
			;
		_exit(0);
	}
	close(qfd[0]);
	uint64_t a;
	if (read(pfd[0], &a, 8) != 8)
		return 2;
	char *buf = malloc(chunk);
	/* the file in the page cache: a first pass reads it */
	for (size_t off = 0; off < len; off += chunk)
		if (pread(fd, buf, chunk, (off_t)off) < 0)
			return 2;
	ml_source *s;
	if (ml_source_open_pid(pid, &s) < 0)
		return 2;
	double t_src[64], t_pread[64], t_vm[64];
	if (reps > 64)
		reps = 64;
	for (int r = 0; r < reps; r++) {
		double t0 = now();
		for (size_t off = 0; off < len; off += chunk)
			if (ml_source_read(s, a + off, buf, chunk, 0) != (ssize_t)chunk)
				return 3;
		t_src[r] = now() - t0;
		t0 = now();
		for (size_t off = 0; off < len; off += chunk)
			if (pread(fd, buf, chunk, (off_t)off) != (ssize_t)chunk)
				return 3;
		t_pread[r] = now() - t0;
	}
	size_t pres = present(pid, a, len);
	/* for comparison: the same pages once resident (faulted in by /proc/PID/mem), read as memory */
	char mp[64];
	snprintf(mp, sizeof(mp), "/proc/%d/mem", (int)pid);
	int mfd = open(mp, O_RDONLY);
	for (size_t off = 0; mfd >= 0 && off < len; off += chunk)
		if (pread(mfd, buf, chunk, (off_t)(a + off)) < 0)
			return 3;
	size_t pres_after = present(pid, a, len);
	for (int r = 0; r < reps; r++) {
		double t0 = now();
		for (size_t off = 0; off < len; off += chunk)
			if (ml_source_read(s, a + off, buf, chunk, 0) != (ssize_t)chunk)
				return 3;
		t_vm[r] = now() - t0;
	}
	double ms = median(t_src, reps), mp_ = median(t_pread, reps), mv = median(t_vm, reps);
	printf("%zu MiB shared file mapping never touched, %zu KiB reads, median of %d\n", mib, chunk >> 10, reps);
	printf("  ml_source_read, pages not resident (from the file): %7.1f ms  %5.2f GB/s  (present pages after: %zu)\n",
	       ms * 1e3, len / ms / 1e9, pres);
	printf("  pread of the cached file (ceiling):                  %7.1f ms  %5.2f GB/s\n", mp_ * 1e3, len / mp_ / 1e9);
	printf("  ml_source_read, the same pages resident (memory):    %7.1f ms  %5.2f GB/s  (present pages: %zu)\n",
	       mv * 1e3, len / mv / 1e9, pres_after);
	ml_source_free(s);
	close(qfd[1]);
	waitpid(pid, NULL, 0);
	return pres == 0 ? 0 : 1;
}
