/* Benchmark: maps/smaps/rollup readers against cat, pmap -X, psutil and memlens maps on one PID,
 * and the everyday commands (maps, pagemap, info, --version) against their anchors.
 * Usage: maps_bench PID RUNS MEMLENS_BIN PM_ANCHOR_BIN [BASE_MEMLENS_BIN]
 * (with BASE_MEMLENS_BIN, another build's maps, pagemap and --version run in the same rounds)
 * Prints one line per measurement: name, median wall time and median CPU time in microseconds. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <memlens/memlens.h>

extern char **environ;

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* CPU time (user + system) of this process plus that of waited-for children: on a shared,
 * loaded machine wall time mostly measures the run queue; CPU time is the work done. */
static double cpu_us(void)
{
	struct rusage a, b;
	getrusage(RUSAGE_SELF, &a);
	getrusage(RUSAGE_CHILDREN, &b);
	return (a.ru_utime.tv_sec + a.ru_stime.tv_sec + b.ru_utime.tv_sec + b.ru_stime.tv_sec) * 1e6 +
	       a.ru_utime.tv_usec + a.ru_stime.tv_usec + b.ru_utime.tv_usec + b.ru_stime.tv_usec;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* What `cat` costs the kernel: read the file with cat's 128 KiB buffer, discard it. */
static size_t slurp(const char *path)
{
	static char buf[128 << 10];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(path);
		exit(1);
	}
	size_t total = 0;
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += (size_t)n;
	close(fd);
	return total;
}

static void run(char *const argv[])
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	pid_t pid;
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
		perror(argv[0]);
		exit(1);
	}
	int st;
	waitpid(pid, &st, 0);
	posix_spawn_file_actions_destroy(&fa);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "%s failed\n", argv[0]);
		exit(1);
	}
}

/* The measurements, run round-robin (one of each per round) so that all of them see the
 * same machine: on a shared, loaded machine conditions drift between blocks of runs. */
enum task {
	T_READ_MAPS, T_MAPS_AUTO, T_MAPS_QUERY, T_MAPS_TEXT, T_READ_SMAPS, T_SMAPS_READ, T_SMAPS_PARSE,
	T_READ_ROLLUP, T_ROLLUP_READ, T_CMD_CAT_MAPS, T_CMD_CAT_SMAPS, T_CMD_MEMLENS, T_CMD_MEMLENS_ROLLUP,
	T_CMD_PMAP, T_CMD_PAGEMAP, T_CMD_PAGEMAP_NOKPAGE, T_ANCHOR_PREAD_KPAGE, T_ANCHOR_PREAD, T_ANCHOR_SCAN,
	T_CMD_VERSION, T_CMD_CAT_STAT, T_CMD_TRUE, T_CMD_INFO, T_CMD_PS,
	T_BASE_MAPS, T_BASE_PAGEMAP, T_BASE_PAGEMAP_NOKPAGE, T_BASE_VERSION, T_COUNT
};
static const char *const task_names[T_COUNT] = {
	"read_maps_text", "ml_maps_read_auto", "ml_maps_read_procmap_query", "ml_maps_read_text",
	"read_smaps_text", "ml_smaps_read", "ml_smaps_parse_only", "read_smaps_rollup_text",
	"ml_smaps_rollup_read", "cmd_cat_maps", "cmd_cat_smaps", "cmd_memlens_maps",
	"cmd_memlens_maps_rollup", "cmd_pmap_X", "cmd_memlens_pagemap", "cmd_memlens_pagemap_nokpage",
	"anchor_pread_kpage", "anchor_pread", "anchor_pagemap_scan", "cmd_memlens_version",
	"cmd_cat_proc_self_stat", "cmd_true", "cmd_memlens_info", "cmd_ps",
	"base_memlens_maps", "base_memlens_pagemap", "base_memlens_pagemap_nokpage", "base_memlens_version",
};

static ml_proc *g_p;
static char g_maps[64], g_smaps[64], g_rollup[64], g_pid[16];
static const char *g_memlens, *g_anchor, *g_base; /* g_base: another memlens to compare, or NULL */
static char *g_text;
static size_t g_len;

static void run_task(int t)
{
	ml_maps *m;
	ml_smaps *s;
	ml_smaps_rollup *r;
	switch (t) {
	case T_READ_MAPS: slurp(g_maps); break;
	case T_MAPS_AUTO: ml_maps_read(g_p, ML_MAPS_AUTO, &m); ml_maps_free(m); break;
	case T_MAPS_QUERY: ml_maps_read(g_p, ML_MAPS_PROCMAP_QUERY, &m); ml_maps_free(m); break;
	case T_MAPS_TEXT: ml_maps_read(g_p, ML_MAPS_TEXT, &m); ml_maps_free(m); break;
	case T_READ_SMAPS: slurp(g_smaps); break;
	case T_SMAPS_READ: ml_smaps_read(g_p, &s); ml_smaps_free(s); break;
	case T_SMAPS_PARSE: ml_smaps_parse(g_text, g_len, &s); ml_smaps_free(s); break;
	case T_READ_ROLLUP: slurp(g_rollup); break;
	case T_ROLLUP_READ: ml_smaps_rollup_read(g_p, &r); ml_smaps_rollup_free(r); break;
	case T_CMD_CAT_MAPS: run((char *const[]){ "cat", g_maps, NULL }); break;
	case T_CMD_CAT_SMAPS: run((char *const[]){ "cat", g_smaps, NULL }); break;
	case T_CMD_MEMLENS: run((char *const[]){ (char *)g_memlens, "maps", g_pid, NULL }); break;
	case T_CMD_MEMLENS_ROLLUP: run((char *const[]){ (char *)g_memlens, "maps", "--rollup", g_pid, NULL }); break;
	case T_CMD_PMAP: run((char *const[]){ "pmap", "-X", g_pid, NULL }); break;
	case T_CMD_PAGEMAP: run((char *const[]){ (char *)g_memlens, "pagemap", g_pid, NULL }); break;
	case T_CMD_PAGEMAP_NOKPAGE: run((char *const[]){ (char *)g_memlens, "pagemap", "--no-kpage", g_pid, NULL }); break;
	case T_ANCHOR_PREAD_KPAGE: run((char *const[]){ (char *)g_anchor, "pread-kpage", g_pid, NULL }); break;
	case T_ANCHOR_PREAD: run((char *const[]){ (char *)g_anchor, "pread", g_pid, NULL }); break;
	case T_ANCHOR_SCAN: run((char *const[]){ (char *)g_anchor, "scan", g_pid, NULL }); break;
	case T_CMD_VERSION: run((char *const[]){ (char *)g_memlens, "--version", NULL }); break;
	case T_CMD_CAT_STAT: run((char *const[]){ "cat", "/proc/self/stat", NULL }); break;
	case T_CMD_TRUE: run((char *const[]){ "/bin/true", NULL }); break;
	case T_CMD_INFO: run((char *const[]){ (char *)g_memlens, "info", g_pid, NULL }); break;
	case T_BASE_MAPS: run((char *const[]){ (char *)g_base, "maps", g_pid, NULL }); break;
	case T_BASE_PAGEMAP: run((char *const[]){ (char *)g_base, "pagemap", g_pid, NULL }); break;
	case T_BASE_PAGEMAP_NOKPAGE: run((char *const[]){ (char *)g_base, "pagemap", "--no-kpage", g_pid, NULL }); break;
	case T_BASE_VERSION: run((char *const[]){ (char *)g_base, "--version", NULL }); break;
	case T_CMD_PS: run((char *const[]){ "ps", "-o", "pid,ppid,user,stat,nlwp,rss,vsz,lstart,time,args", "-p", g_pid, NULL }); break;
	}
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: maps_bench PID RUNS MEMLENS_BIN PM_ANCHOR_BIN\n");
		return 64;
	}
	g_anchor = argv[4];
	g_base = argc > 5 && *argv[5] ? argv[5] : NULL;
	int ntasks = g_base ? T_COUNT : T_BASE_MAPS;
	pid_t pid = atoi(argv[1]);
	int runs = atoi(argv[2]);
	const char *memlens = argv[3];
	char path[64];
	ml_proc *p;
	if (ml_proc_open(pid, &p) < 0) {
		fprintf(stderr, "cannot open %d\n", (int)pid);
		return 1;
	}
	ml_maps *m;
	ml_maps_read(p, ML_MAPS_AUTO, &m);
	printf("%-28s %10zu\n", "mappings", ml_maps_count(m));
	ml_maps_free(m);
	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	printf("%-28s %10zu\n", "smaps_bytes", slurp(path));

	snprintf(g_maps, sizeof(g_maps), "/proc/%d/maps", (int)pid);
	snprintf(g_smaps, sizeof(g_smaps), "/proc/%d/smaps", (int)pid);
	snprintf(g_rollup, sizeof(g_rollup), "/proc/%d/smaps_rollup", (int)pid);
	snprintf(g_pid, sizeof(g_pid), "%d", (int)pid);
	g_p = p;
	g_memlens = memlens;
	ml_proc_read_file(p, "smaps", &g_text, &g_len);
	double *wall = calloc((size_t)runs * T_COUNT, sizeof(double));
	double *cpu = calloc((size_t)runs * T_COUNT, sizeof(double));
	for (int i = 0; i < runs; i++)
		for (int t = 0; t < ntasks; t++) {
			double t0 = now_us(), c0 = cpu_us();
			run_task(t);
			wall[t * runs + i] = now_us() - t0;
			cpu[t * runs + i] = cpu_us() - c0;
		}
	for (int t = 0; t < ntasks; t++)
		printf("%-28s %10.1f %10.1f\n", task_names[t], median(wall + t * runs, runs),
		       median(cpu + t * runs, runs));
	free(wall);
	free(cpu);
	free(g_text);
	ml_proc_free(p);
	return 0;
}
