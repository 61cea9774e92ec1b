/* Benchmark: reading the process-information records of one PID, N times.
 *   info_bench PID N MODE   MODE: all | status | stat | fdcount | fds | tasks
 * MODE rawstatus / rawstat: open+read+parse without the handle's liveness check, to show
 * what that check costs.
 * Prints the mean microseconds per iteration. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <memlens/memlens.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: info_bench PID N MODE\n");
		return 64;
	}
	pid_t pid = atoi(argv[1]);
	int n = atoi(argv[2]);
	const char *mode = argv[3];
	ml_proc *p;
	if (ml_proc_open(pid, &p) < 0)
		return 2;
	long sink = 0;
	double t0 = now();
	for (int i = 0; i < n; i++) {
		if (!strcmp(mode, "all") || !strcmp(mode, "status")) {
			ml_status *s;
			if (ml_status_read(p, &s) == 0) {
				sink += (long)s->vm_rss;
				ml_status_free(s);
			}
		}
		if (!strcmp(mode, "all") || !strcmp(mode, "stat")) {
			ml_stat st;
			if (ml_stat_read(p, &st) == 0)
				sink += st.num_threads;
		}
		if (!strcmp(mode, "all")) {
			ml_statm m;
			ml_strv *v;
			ml_limits l;
			ml_link *lk;
			int o;
			if (ml_statm_read(p, &m) == 0)
				sink += (long)m.resident;
			if (ml_cmdline_read(p, &v) == 0) {
				sink += (long)v->n;
				ml_strv_free(v);
			}
			if (ml_limits_read(p, &l) == 0)
				sink += (long)l.lim[7].soft;
			if (ml_exe_read(p, &lk) == 0) {
				sink += (long)lk->len;
				ml_link_free(lk);
			}
			if (ml_cwd_read(p, &lk) == 0) {
				sink += (long)lk->len;
				ml_link_free(lk);
			}
			if (ml_oom_score_read(p, &o) == 0)
				sink += o;
			sink += ml_fd_count(p);
		}
		if (!strncmp(mode, "raw", 3)) {
			char buf[8192];
			const char *name = mode + 3;
			int fd = openat(ml_proc_dirfd(p), name, O_RDONLY | O_CLOEXEC);
			ssize_t got = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
			if (fd >= 0)
				close(fd);
			if (got > 0 && !strcmp(name, "status")) {
				ml_status *s;
				if (ml_status_parse(buf, (size_t)got, &s) == 0) {
					sink += (long)s->vm_rss;
					ml_status_free(s);
				}
			} else if (got > 0) {
				ml_stat st;
				if (ml_stat_parse(buf, (size_t)got, &st) == 0)
					sink += st.num_threads;
			}
		}
		if (!strcmp(mode, "parse")) {
			static char buf[8192];
			static ssize_t got;
			if (!got) {
				int fd = openat(ml_proc_dirfd(p), "status", O_RDONLY | O_CLOEXEC);
				got = read(fd, buf, sizeof(buf));
				close(fd);
			}
			ml_status *s;
			if (ml_status_parse(buf, (size_t)got, &s) == 0) {
				sink += (long)s->vm_rss;
				ml_status_free(s);
			}
		}
		if (!strcmp(mode, "fdcount"))
			sink += ml_fd_count(p);
		if (!strcmp(mode, "fds")) {
			ml_fds *it;
			ml_fd f;
			if (ml_fds_open(p, &it) == 0) {
				while (ml_fds_next(it, &f) == 1)
					sink += f.type;
				ml_fds_free(it);
			}
		}
		if (!strcmp(mode, "tasks")) {
			ml_tasks *it;
			ml_proc *t;
			if (ml_tasks_open(p, &it) == 0) {
				while (ml_tasks_next(it, &t) == 1) {
					ml_stat st;
					if (ml_stat_read(t, &st) == 0)
						sink += st.processor;
					ml_proc_free(t);
				}
				ml_tasks_free(it);
			}
		}
	}
	double dt = now() - t0;
	printf("%.1f us/iter (sink %ld)\n", dt / n * 1e6, sink % 7);
	ml_proc_free(p);
	return 0;
}
