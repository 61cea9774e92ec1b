/* Benchmark target for memlens wss: a touched heap of N GiB (4 KiB pages) and a thread writing it page by page, reporting its rate (or no thread: "idle"). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static unsigned char *heap;
static size_t len;
static atomic_ulong pages;
static atomic_ullong max_gap; /* longest time between two 1 MiB progress ticks, ns */
static atomic_bool run = true;

static unsigned long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

static unsigned long long clock_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

static void *sweep(void *a)
{
	(void)a;
	unsigned long long last = now_ns();
	while (atomic_load_explicit(&run, memory_order_relaxed)) {
		for (size_t o = 0; o < len; o += 4096) {
			heap[o]++;
			if ((o & ((1u << 20) - 1)) == 0) {
				atomic_fetch_add_explicit(&pages, 256, memory_order_relaxed);
				unsigned long long t = now_ns();
				if (t - last > atomic_load_explicit(&max_gap, memory_order_relaxed))
					atomic_store_explicit(&max_gap, t - last, memory_order_relaxed);
				last = t;
			}
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	double gib = argc > 1 ? atof(argv[1]) : 1;
	/* "idle": no writing thread, to time the measurement alone */
	bool idle = argc > 2 && !strcmp(argv[2], "idle");
	len = (size_t)(gib * (1ull << 30)) & ~(size_t)4095;
	heap = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (heap == MAP_FAILED || madvise(heap, len, MADV_NOHUGEPAGE)) {
		perror("mmap");
		return 1;
	}
	for (size_t o = 0; o < len; o += 4096)
		heap[o] = 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	pthread_t t = pthread_self();
	if (!idle)
		pthread_create(&t, NULL, sweep, NULL);
	clockid_t cpu;
	pthread_getcpuclockid(t, &cpu);
	printf("ready pid=%d\n", (int)getpid());
	char line[128];
	unsigned long long t0 = now_ns(), c0 = clock_ns(cpu);
	unsigned long p0 = atomic_load(&pages);
	while (fgets(line, sizeof(line), stdin)) {
		if (!strncmp(line, "rate", 4)) {
			/* pages written since the previous "rate", over how long, and the longest stall */
			unsigned long long t1 = now_ns(), c1 = clock_ns(cpu);
			unsigned long p1 = atomic_load(&pages);
			printf("ok pages=%lu ns=%llu cpu_ns=%llu max_stall_ns=%llu\n", p1 - p0, t1 - t0, c1 - c0,
			       atomic_exchange(&max_gap, 0));
			t0 = t1;
			c0 = c1;
			p0 = p1;
		} else {
			break;
		}
	}
	atomic_store(&run, false);
	if (!idle)
		pthread_join(t, NULL);
	munmap(heap, len);
	return 0;
}
