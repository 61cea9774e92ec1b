/* What a script does instead of `memlens pagemap`: the anchors of the commands benchmark.
 * Usage: pm_anchor pread PID        parse maps, pread each mapping's pagemap entries 512 KiB at a
 *                                   time, count present pages
 *        pm_anchor pread-kpage PID  the same, and for present pages kpageflags and kpagecount, one
 *                                   pread per run of consecutive PFNs (as page-types does)
 *        pm_anchor scan PID         count present pages with one PAGEMAP_SCAN walk
 * Prints the count (and the flag sums) so the work cannot be skipped. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
struct page_region {
	uint64_t start, end, categories;
};
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#define PAGE_IS_PRESENT (1 << 3)

#define CHUNK (64 << 10) /* entries: 512 KiB */

static uint64_t ent[CHUNK], pfn[CHUNK], kv[CHUNK];
static int kf_fd = -1, kc_fd = -1;
static uint64_t sum_flags, shared;

static void kpage_runs(size_t n)
{
	for (size_t i = 0; i < n;) {
		if (!pfn[i]) {
			i++;
			continue;
		}
		size_t j = i + 1;
		while (j < n && pfn[j] == pfn[j - 1] + 1)
			j++;
		ssize_t r = pread(kf_fd, kv, (j - i) * 8, (off_t)(pfn[i] * 8));
		for (ssize_t k = 0; k < r / 8; k++)
			sum_flags += kv[k] & 0xffff;
		r = pread(kc_fd, kv, (j - i) * 8, (off_t)(pfn[i] * 8));
		for (ssize_t k = 0; k < r / 8; k++)
			shared += kv[k] > 1;
		i = j;
	}
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: pm_anchor pread|pread-kpage|scan PID\n");
		return 64;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/%s/pagemap", argv[2]);
	int pm = open(path, O_RDONLY);
	if (pm < 0) {
		perror(path);
		return 1;
	}
	uint64_t present = 0;
	if (!strcmp(argv[1], "scan")) {
		static struct page_region v[4096];
		struct pm_scan_arg a = { .size = sizeof(a), .start = 0, .end = 0x7ffffffff000ull,
					 .vec = (uintptr_t)v, .vec_len = 4096, .category_mask = PAGE_IS_PRESENT,
					 .return_mask = PAGE_IS_PRESENT };
		for (;;) {
			int n = ioctl(pm, PAGEMAP_SCAN, &a);
			if (n < 0) {
				perror("PAGEMAP_SCAN");
				return 1;
			}
			for (int i = 0; i < n; i++)
				present += (v[i].end - v[i].start) / 4096;
			if ((uint64_t)n < a.vec_len)
				break; /* complete (walk_end may be stale otherwise) */
			a.start = a.walk_end > v[n - 1].end ? a.walk_end : v[n - 1].end;
		}
		printf("%" PRIu64 "\n", present);
		return 0;
	}
	bool kpage = !strcmp(argv[1], "pread-kpage");
	if (kpage) {
		kf_fd = open("/proc/kpageflags", O_RDONLY);
		kc_fd = open("/proc/kpagecount", O_RDONLY);
		if (kf_fd < 0 || kc_fd < 0) {
			perror("/proc/kpage*");
			return 1;
		}
	}
	snprintf(path, sizeof(path), "/proc/%s/maps", argv[2]);
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		return 1;
	}
	char line[4096];
	while (fgets(line, sizeof(line), f)) {
		unsigned long long s, e;
		if (sscanf(line, "%llx-%llx", &s, &e) != 2 || s >= 0x7ffffffff000ull)
			continue;
		for (uint64_t a = s; a < e;) {
			size_t n = (size_t)((e - a) / 4096 < CHUNK ? (e - a) / 4096 : CHUNK);
			ssize_t r = pread(pm, ent, n * 8, (off_t)(a / 4096 * 8));
			if (r <= 0)
				break;
			n = (size_t)r / 8;
			for (size_t i = 0; i < n; i++) {
				present += ent[i] >> 63;
				pfn[i] = ent[i] >> 63 ? ent[i] & ((1ull << 55) - 1) : 0;
			}
			if (kpage)
				kpage_runs(n);
			a += n * 4096;
		}
	}
	fclose(f);
	printf("%" PRIu64 " %" PRIu64 " %" PRIu64 "\n", present, sum_flags, shared);
	return 0;
}
