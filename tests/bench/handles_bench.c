/* Benchmark: what holding many process handles costs in descriptors and time.
 *   handles_bench N [PID]   (PID defaults to a child that sleeps)
 * Opens N handles on one process two ways (ml_proc_open; ml_proc_open_lazy, where each
 * read is followed by ml_proc_release), reads status twice through each, and prints the
 * descriptors held and microseconds per handle for opening and for each read pass (a
 * lazy handle reopens its directory and sentinel on every read). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <memlens/memlens.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	long n = 0;
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n - 3; /* ".", "..", and the directory itself */
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: handles_bench N [PID]\n");
		return 64;
	}
	int n = atoi(argv[1]);
	pid_t pid, child = 0;
	if (argc > 2) {
		pid = atoi(argv[2]);
	} else {
		if ((child = fork()) == 0) {
			pause();
			_exit(0);
		}
		pid = child;
	}
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max; /* as high as we may; raising the hard limit needs privilege */
	setrlimit(RLIMIT_NOFILE, &rl);
	ml_proc **h = calloc((size_t)n, sizeof(*h));
	static const char *const modes[] = { "open", "lazy" };
	getrlimit(RLIMIT_NOFILE, &rl);
	printf("%d handles on pid %d, RLIMIT_NOFILE %llu\n%-9s %10s %12s %19s %14s\n", n, (int)pid,
	       (unsigned long long)rl.rlim_cur, "mode", "fds held", "open us/h", "read us/h (1st, 2nd)", "fds after");
	for (int m = 0; m < 2; m++) {
		long base = open_fds();
		double t0 = now();
		int i, r = 0;
		for (i = 0; i < n; i++)
			if ((r = (m == 0 ? ml_proc_open(pid, &h[i]) : ml_proc_open_lazy(pid, &h[i]))) < 0)
				break;
		if (r < 0) {
			/* the point of the exercise: say where the descriptors ran out */
			printf("%-9s handle %d of %d failed: %s\n", modes[m], i + 1, n, ml_strerror(r));
			while (i > 0)
				ml_proc_free(h[--i]);
			continue;
		}
		double t1 = now();
		long held = open_fds() - base;
		double tr[2];
		for (int pass = 0; pass < 2; pass++) {
		double tp = now();
		for (i = 0; i < n; i++) {
			ml_status *s;
			if ((r = ml_status_read(h[i], &s)) < 0) {
				fprintf(stderr, "%s: read %d: %s\n", modes[m], i, ml_strerror(r));
				return 2;
			}
			ml_status_free(s);
			if (m == 1)
				ml_proc_release(h[i]); /* back to the pidfd alone */
		}
		tr[pass] = (now() - tp) * 1e6 / n;
		}
		long after = open_fds() - base;
		printf("%-9s %10ld %12.2f %6.2f %6.2f %14ld\n", modes[m], held, (t1 - t0) * 1e6 / n, tr[0], tr[1], after);
		for (i = 0; i < n; i++)
			ml_proc_free(h[i]);
	}
	free(h);
	if (child) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	return 0;
}
