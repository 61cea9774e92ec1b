/* Working-set calibration child: maps regions, touches exactly K pages on command, acknowledges.
 * One command per stdin line, one answer per stdout line (numbers accept 0x hex):
 *   map NPAGES nothp|thp      anonymous private RW region of NPAGES 4 KiB pages (thp: 2 MiB
 *                             aligned, MADV_HUGEPAGE; nothp: MADV_NOHUGEPAGE), every page
 *                             written once -> ok id=I addr=A len=L
 *   mapfile PATH NPAGES       maps PATH shared read-only, reads every page -> ok id=I addr=A len=L
 *   touch ID K r|w STRIDE [FIRST]
 *                             touches K pages of region ID, STRIDE bytes apart, starting at
 *                             page FIRST (default 0); r reads one byte, w writes one -> ok n=K
 *   sweep ID K r|w [STRIDE]   starts a thread touching K pages of region ID, STRIDE bytes apart
 *                             (default 4096), in a loop, forever; answers once the first full
 *                             pass is done -> ok
 *   passes                    full passes the sweeping thread has made -> ok passes=N
 *   stop                      stops the sweeping thread -> ok passes=N
 *   readfile PATH             read(2)s the whole file (page-cache access, no mapping) -> ok bytes=N
 *   unmap ID                  -> ok
 *   pid                       -> ok pid=N
 *   exec PATH [ARG...]        execv
 *   exit N                    exits */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE 4096u
#define HUGE (2u << 20)
#define MAX_REGIONS 64

static struct region {
	volatile unsigned char *base;
	size_t len;
	void *map;     /* what munmap needs (thp regions are over-mapped for alignment) */
	size_t maplen;
} regions[MAX_REGIONS];
static int nregions;

static pthread_t sweeper;
static atomic_bool sweep_run;
static atomic_ulong sweep_passes;
static struct { int id; size_t k; int write; size_t stride; } sweep_arg;
static volatile unsigned long sink;

static unsigned long num(const char *s) { return s ? strtoul(s, NULL, 0) : 0; }

static struct region *region(const char *s)
{
	if (!s)
		return NULL;
	unsigned long id = num(s);
	return id < (unsigned long)nregions && regions[id].base ? &regions[id] : NULL;
}

static void touch(struct region *r, size_t k, int write, size_t stride, size_t first)
{
	size_t off = first * PAGE;
	for (size_t i = 0; i < k; i++, off += stride) {
		if (write)
			r->base[off] = (unsigned char)(r->base[off] + 1);
		else
			sink += r->base[off];
	}
}

static void *sweep_main(void *a)
{
	(void)a;
	struct region *r = &regions[sweep_arg.id];
	while (atomic_load(&sweep_run)) {
		touch(r, sweep_arg.k, sweep_arg.write, sweep_arg.stride, 0);
		atomic_fetch_add(&sweep_passes, 1);
	}
	return NULL;
}

static int add_region(void *map, size_t maplen, void *base, size_t len)
{
	if (nregions == MAX_REGIONS)
		return -1;
	regions[nregions] = (struct region){ base, len, map, maplen };
	return nregions++;
}

static void cmd_map(char **save)
{
	size_t npages = num(strtok_r(NULL, " ", save));
	const char *mode = strtok_r(NULL, " ", save);
	int thp = mode && !strcmp(mode, "thp");
	if (!npages || !mode || (!thp && strcmp(mode, "nothp"))) {
		printf("err usage: map NPAGES nothp|thp\n");
		return;
	}
	size_t len = npages * PAGE, maplen = thp ? len + HUGE : len;
	unsigned char *m = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		printf("err mmap %s\n", strerror(errno));
		return;
	}
	unsigned char *base = m;
	if (thp)
		base = (unsigned char *)(((uintptr_t)m + HUGE - 1) & ~(uintptr_t)(HUGE - 1));
	if (madvise(base, len, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE) < 0) {
		printf("err madvise %s\n", strerror(errno));
		munmap(m, maplen);
		return;
	}
	for (size_t o = 0; o < len; o += PAGE)
		base[o] = 1;
	int id = add_region(m, maplen, base, len);
	if (id < 0) {
		munmap(m, maplen);
		printf("err too many regions\n");
		return;
	}
	printf("ok id=%d addr=%p len=%zu\n", id, (void *)base, len);
}

static void cmd_mapfile(char **save)
{
	const char *path = strtok_r(NULL, " ", save);
	size_t npages = num(strtok_r(NULL, " ", save));
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0 || !npages) {
		printf("err open %s\n", strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	size_t len = npages * PAGE;
	unsigned char *m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED) {
		printf("err mmap %s\n", strerror(errno));
		return;
	}
	for (size_t o = 0; o < len; o += PAGE)
		sink += m[o];
	int id = add_region(m, len, m, len);
	printf("ok id=%d addr=%p len=%zu\n", id, (void *)m, len);
}

static void cmd_touch(char **save)
{
	struct region *r = region(strtok_r(NULL, " ", save));
	size_t k = num(strtok_r(NULL, " ", save));
	const char *mode = strtok_r(NULL, " ", save);
	size_t stride = num(strtok_r(NULL, " ", save));
	size_t first = num(strtok_r(NULL, " ", save));
	if (!r || !mode || !stride || stride % PAGE) {
		printf("err usage: touch ID K r|w STRIDE [FIRST]\n");
		return;
	}
	if (k && first * PAGE + (k - 1) * stride >= r->len) {
		printf("err out of range\n");
		return;
	}
	touch(r, k, mode[0] == 'w', stride, first);
	printf("ok n=%zu\n", k);
}

static void cmd_sweep(char **save)
{
	const char *ids = strtok_r(NULL, " ", save);
	struct region *r = region(ids);
	size_t k = num(strtok_r(NULL, " ", save));
	const char *mode = strtok_r(NULL, " ", save);
	const char *st = strtok_r(NULL, " ", save);
	size_t stride = st ? num(st) : PAGE;
	if (!r || !mode || !k || !stride || stride % PAGE || (k - 1) * stride >= r->len ||
	    atomic_load(&sweep_run)) {
		printf("err usage: sweep ID K r|w [STRIDE]\n");
		return;
	}
	sweep_arg.id = (int)num(ids);
	sweep_arg.k = k;
	sweep_arg.write = mode[0] == 'w';
	sweep_arg.stride = stride;
	atomic_store(&sweep_passes, 0);
	atomic_store(&sweep_run, true);
	if (pthread_create(&sweeper, NULL, sweep_main, NULL)) {
		atomic_store(&sweep_run, false);
		printf("err pthread_create\n");
		return;
	}
	while (atomic_load(&sweep_passes) == 0)
		sched_yield();
	printf("ok\n");
}

static void cmd_readfile(char **save)
{
	const char *path = strtok_r(NULL, " ", save);
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0) {
		printf("err open %s\n", strerror(errno));
		return;
	}
	static char buf[1 << 16];
	size_t total = 0;
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += (size_t)n;
	close(fd);
	printf("ok bytes=%zu\n", total);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready pid=%d\n", (int)getpid());
	char line[4096];
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		char *save, *cmd = strtok_r(line, " ", &save);
		if (!cmd)
			continue;
		if (!strcmp(cmd, "map")) {
			cmd_map(&save);
		} else if (!strcmp(cmd, "mapfile")) {
			cmd_mapfile(&save);
		} else if (!strcmp(cmd, "touch")) {
			cmd_touch(&save);
		} else if (!strcmp(cmd, "sweep")) {
			cmd_sweep(&save);
		} else if (!strcmp(cmd, "passes")) {
			printf("ok passes=%lu\n", atomic_load(&sweep_passes));
		} else if (!strcmp(cmd, "stop")) {
			if (atomic_load(&sweep_run)) {
				atomic_store(&sweep_run, false);
				pthread_join(sweeper, NULL);
			}
			printf("ok passes=%lu\n", atomic_load(&sweep_passes));
		} else if (!strcmp(cmd, "readfile")) {
			cmd_readfile(&save);
		} else if (!strcmp(cmd, "unmap")) {
			struct region *r = region(strtok_r(NULL, " ", &save));
			if (!r || atomic_load(&sweep_run)) {
				printf("err no such region\n");
				continue;
			}
			munmap(r->map, r->maplen);
			r->base = NULL;
			printf("ok\n");
		} else if (!strcmp(cmd, "pid")) {
			printf("ok pid=%d\n", (int)getpid());
		} else if (!strcmp(cmd, "exec")) {
			char *args[64];
			int n = 0;
			char *a;
			while (n < 63 && (a = strtok_r(NULL, " ", &save)))
				args[n++] = a;
			args[n] = NULL;
			if (n) {
				fflush(stdout);
				execv(args[0], args);
			}
			printf("err exec %s\n", n ? strerror(errno) : "no path");
		} else if (!strcmp(cmd, "exit")) {
			fflush(stdout);
			_exit((int)num(strtok_r(NULL, " ", &save)));
		} else {
			printf("err unknown command %s\n", cmd);
		}
	}
	return 0;
}
