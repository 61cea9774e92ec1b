/* Baseline for the grep benchmark: reads the populated memory of a PID with process_vm_readv
 * (1 MiB buffers, N threads, 64 MiB pieces) and searches nothing: the read-bandwidth ceiling.
 * Build: cc -O2 -pthread tests/bench/grep_rawread.c -o grep_rawread
 * Usage: grep_rawread PID [THREADS] */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

typedef struct piece { uint64_t a, b; } piece;
static piece *pieces;
static size_t npieces;
static atomic_size_t next;
static atomic_uint_fast64_t total;
static pid_t pid;

static void *run(void *arg)
{
	(void)arg;
	char *buf = malloc(1 << 20);
	uint64_t sum = 0;
	for (;;) {
		size_t k = atomic_fetch_add(&next, 1);
		if (k >= npieces)
			break;
		for (uint64_t at = pieces[k].a; at < pieces[k].b;) {
			size_t n = pieces[k].b - at < (1 << 20) ? (size_t)(pieces[k].b - at) : 1 << 20;
			struct iovec l = { buf, n }, r = { (void *)(uintptr_t)at, n };
			ssize_t got = process_vm_readv(pid, &l, 1, &r, 1, 0);
			if (got <= 0)
				break;
			sum += (uint64_t)got;
			at += (uint64_t)got;
		}
	}
	atomic_fetch_add(&total, sum);
	free(buf);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 64;
	pid = atoi(argv[1]);
	int nth = argc > 2 ? atoi(argv[2]) : 1;
	char path[64], line[4096];
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 2;
	size_t cap = 1024;
	pieces = malloc(cap * sizeof(*pieces));
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a, b;
		char perm[8];
		if (sscanf(line, "%llx-%llx %7s", &a, &b, perm) != 3 || perm[0] != 'r' || strstr(line, "[vvar") ||
		    strstr(line, "[vsyscall]"))
			continue;
		for (uint64_t x = a; x < b; x += 64 << 20) {
			if (npieces == cap)
				pieces = realloc(pieces, (cap *= 2) * sizeof(*pieces));
			pieces[npieces++] = (piece){ x, b - x > (64u << 20) ? x + (64u << 20) : b };
		}
	}
	fclose(f);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_t th[64];
	for (int i = 0; i < nth && i < 64; i++)
		pthread_create(&th[i], NULL, run, NULL);
	for (int i = 0; i < nth && i < 64; i++)
		pthread_join(th[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%llu bytes in %.3f s: %.2f GB/s\n", (unsigned long long)total, s, (double)total / s / 1e9);
	return 0;
}
