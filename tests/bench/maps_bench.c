/* Benchmark: maps/smaps/rollup readers against cat, pmap -X, psutil and memlens maps on one PID.
 * Usage: maps_bench PID RUNS MEMLENS_BIN
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

#define MEASURE(label, runs, body)                                                  \
	do {                                                                        \
		double *t_ = calloc((size_t)(runs), sizeof(double));                \
		double *c_ = calloc((size_t)(runs), sizeof(double));                \
		for (int i_ = 0; i_ < (runs); i_++) {                               \
			double t0_ = now_us(), c0_ = cpu_us();                      \
			body;                                                       \
			t_[i_] = now_us() - t0_;                                    \
			c_[i_] = cpu_us() - c0_;                                    \
		}                                                                   \
		printf("%-28s %10.1f %10.1f\n", label, median(t_, runs), median(c_, runs)); \
		free(t_);                                                           \
		free(c_);                                                           \
	} while (0)

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: maps_bench PID RUNS MEMLENS_BIN\n");
		return 64;
	}
	pid_t pid = atoi(argv[1]);
	int runs = atoi(argv[2]);
	const char *memlens = argv[3];
	char path[64], spid[16];
	snprintf(spid, sizeof(spid), "%d", (int)pid);
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

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	MEASURE("read_maps_text", runs, slurp(path));
	MEASURE("ml_maps_read_auto", runs, { ml_maps_read(p, ML_MAPS_AUTO, &m); ml_maps_free(m); });
	MEASURE("ml_maps_read_procmap_query", runs, { ml_maps_read(p, ML_MAPS_PROCMAP_QUERY, &m); ml_maps_free(m); });
	MEASURE("ml_maps_read_text", runs, { ml_maps_read(p, ML_MAPS_TEXT, &m); ml_maps_free(m); });
	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	MEASURE("read_smaps_text", runs, slurp(path));
	MEASURE("ml_smaps_read", runs, {
		ml_smaps *s;
		ml_smaps_read(p, &s);
		ml_smaps_free(s);
	});
	/* the parser alone, over one copy of the text */
	char *buf;
	size_t len;
	ml_proc_read_file(p, "smaps", &buf, &len);
	MEASURE("ml_smaps_parse_only", runs, {
		ml_smaps *s;
		ml_smaps_parse(buf, len, &s);
		ml_smaps_free(s);
	});
	free(buf);
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	MEASURE("read_smaps_rollup_text", runs, slurp(path));
	MEASURE("ml_smaps_rollup_read", runs, {
		ml_smaps_rollup *r;
		ml_smaps_rollup_read(p, &r);
		ml_smaps_rollup_free(r);
	});

	char mpath[64], spath[64];
	snprintf(mpath, sizeof(mpath), "/proc/%d/maps", (int)pid);
	snprintf(spath, sizeof(spath), "/proc/%d/smaps", (int)pid);
	MEASURE("cmd_cat_maps", runs, run((char *const[]){ "cat", mpath, NULL }));
	MEASURE("cmd_cat_smaps", runs, run((char *const[]){ "cat", spath, NULL }));
	MEASURE("cmd_memlens_maps", runs, run((char *const[]){ (char *)memlens, "maps", spid, NULL }));
	MEASURE("cmd_memlens_maps_rollup", runs, run((char *const[]){ (char *)memlens, "maps", "--rollup", spid, NULL }));
	MEASURE("cmd_pmap_X", runs, run((char *const[]){ "pmap", "-X", spid, NULL }));
	ml_proc_free(p);
	return 0;
}
