/* ml_procs on the real /proc, against children whose names, command lines and lives the test controls. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "mltest.h"

/* A tag no other process on the machine has in its command line. */
static char tag[64];

static void make_tag(void)
{
	snprintf(tag, sizeof(tag), "--mlprocs-%d-%ld", (int)getpid(), (long)random());
}

/* PIDs an iteration with @o returns; *n is their count. Also checks each entry's comm against
 * /proc/PID/comm, read independently of the library. */
static size_t collect(ml_procs_opts *o, pid_t *out, size_t cap)
{
	ml_procs *it;
	ck_assert_int_eq(ml_procs_open(o, &it), 0);
	const ml_procs_entry *e;
	size_t n = 0;
	int r;
	while ((r = ml_procs_next(it, &e)) == 1) {
		if (n < cap)
			out[n] = e->pid;
		n++;
	}
	ck_assert_int_eq(r, 0);
	ml_procs_free(it);
	return n;
}

static bool has(const pid_t *v, size_t n, pid_t p)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == p)
			return true;
	return false;
}

/* Clock ticks since boot now (the unit of a process's start time in /proc/PID/stat). */
static uint64_t ticks_now(void)
{
	double up = 0;
	FILE *fp = fopen("/proc/uptime", "re");
	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(fscanf(fp, "%lf", &up), 1);
	fclose(fp);
	return (uint64_t)(up * (double)sysconf(_SC_CLK_TCK));
}

/* Start time of @pid in clock ticks since boot; UINT64_MAX if it is gone. */
static uint64_t start_ticks(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *fp = fopen(path, "re");
	if (!fp)
		return UINT64_MAX;
	size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	const char *q = strrchr(buf, ')');
	unsigned long long st = 0;
	/* ") S" then fields 4-21, then 22: starttime */
	if (!q || sscanf(q + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu", &st) != 1)
		return UINT64_MAX;
	return st;
}

START_TEST(finds_children_by_command_line)
{
	make_tag();
	const char *args[] = { tag, NULL };
	mlt_child *a = mlt_spawn("ml_child", args), *b = mlt_spawn("ml_child", args);
	mlt_child *other = mlt_spawn("ml_child", NULL);
	pid_t got[4096];

	char pat[128];
	snprintf(pat, sizeof(pat), "ml_child %s$", tag);
	ML_OPTS(ml_procs_opts, f, .pattern = pat, .full = true, .want = ML_PROCS_CMDLINE);
	size_t n = collect(&f, got, 4096);
	ck_assert_uint_eq(n, 2);
	ck_assert(has(got, n, a->pid) && has(got, n, b->pid));

	/* exact comm: our three children among whatever else runs ml_child now */
	ML_OPTS(ml_procs_opts, c, .comm = "ml_child");
	uint64_t listed_at = ticks_now();
	n = collect(&c, got, 4096);
	ck_assert(has(got, n, a->pid) && has(got, n, b->pid) && has(got, n, other->pid));
	for (size_t i = 0; i < n && i < 4096; i++) {
		char path[64], comm[64] = "";
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)got[i]);
		FILE *fp = fopen(path, "re");
		if (!fp)
			continue; /* exited since */
		bool read = fgets(comm, sizeof(comm), fp) != NULL;
		fclose(fp);
		/* An ml_child of a test running beside this one may have exited since, its PID gone
		 * to a new process (a fork not yet exec'd has its parent's comm). The start time is
		 * read after the comm: a process that started after the listing is not the one
		 * listed, whichever the comm was read from. */
		if (read && strcmp(comm, "ml_child\n") && start_ticks(got[i]) < listed_at)
			ck_abort_msg("pid %d, listed by comm ml_child, has comm %s", (int)got[i], comm);
	}
	/* a regex over the comm (pgrep without -f) never sees the arguments */
	ML_OPTS(ml_procs_opts, r, .pattern = tag + 2);
	ck_assert_uint_eq(collect(&r, got, 4096), 0);

	/* by user and by cgroup: ours, and the children are in our cgroup */
	ML_OPTS(ml_procs_opts, u, .pattern = pat, .full = true, .match_uid = true, .uid = geteuid());
	ck_assert_uint_eq(collect(&u, got, 4096), 2);
	ML_OPTS(ml_procs_opts, u2, .pattern = pat, .full = true, .match_uid = true, .uid = geteuid() + 1);
	ck_assert_uint_eq(collect(&u2, got, 4096), 0);

	char *cg = mlt_run("sed -n 's/^0:://p' /proc/self/cgroup", NULL);
	if (cg && *cg) {
		cg[strcspn(cg, "\n")] = '\0';
		ML_OPTS(ml_procs_opts, g, .pattern = pat, .full = true, .cgroup = cg);
		ck_assert_uint_eq(collect(&g, got, 4096), 2);
		char other_cg[4200];
		snprintf(other_cg, sizeof(other_cg), "%s/mlprocs-none", strcmp(cg, "/") ? cg : "");
		ML_OPTS(ml_procs_opts, g2, .pattern = pat, .full = true, .cgroup = other_cg);
		ck_assert_uint_eq(collect(&g2, got, 4096), 0);
	}
	free(cg);

	/* the calling process is left out unless asked for */
	ML_OPTS(ml_procs_opts, s, .comm = NULL);
	n = collect(&s, got, 4096);
	ck_assert(!has(got, n, getpid()));
	ck_assert(has(got, n, a->pid));
	ML_OPTS(ml_procs_opts, s2, .self = true);
	n = collect(&s2, got, 4096);
	ck_assert(has(got, n, getpid()));

	mlt_child_free(a);
	mlt_child_free(b);
	mlt_child_free(other);
}
END_TEST

START_TEST(handle_never_reads_a_successor)
{
	make_tag();
	const char *args[] = { tag, NULL };
	mlt_child *a = mlt_spawn("ml_child", args);
	char pat[128];
	snprintf(pat, sizeof(pat), "%s$", tag);
	ML_OPTS(ml_procs_opts, f, .pattern = pat, .full = true);
	ml_procs *it;
	ck_assert_int_eq(ml_procs_open(&f, &it), 0);
	const ml_procs_entry *e;
	ck_assert_int_eq(ml_procs_next(it, &e), 1);
	ck_assert_int_eq(e->pid, a->pid);
	ck_assert(!e->kthread);
	ml_proc *p, *q;
	ck_assert_int_eq(ml_procs_proc(it, &p), 0);
	ml_smaps_rollup *ru;
	ck_assert_int_eq(ml_smaps_rollup_read(p, &ru), 0);
	ck_assert_uint_gt(ru->f.rss, 0);
	ml_smaps_rollup_free(ru);
	/* a pidfd handle opened now is the entry's process */
	ck_assert_int_eq(ml_proc_open(a->pid, &q), 0);
	ck_assert_int_eq(ml_procs_same(it, q), 1);
	ml_proc_free(q);

	/* a zombie is still the entry's process ... */
	mlt_cmd(a, "exit 0");
	mlt_wait_zombie(a);
	ck_assert_int_eq(ml_procs_same(it, p), 1);
	/* ... a reaped one is not, and its handle reads ESRCH */
	mlt_wait(a);
	ck_assert_int_eq(ml_procs_same(it, p), 0);
	ml_stat st;
	ck_assert_int_eq(ml_stat_read(p, &st), -ESRCH);
	ml_proc_free(p);
	ck_assert_int_eq(ml_procs_next(it, &e), 0);
	ml_procs_free(it);
	mlt_child_free(a);
}
END_TEST

START_TEST(zombie_listed_with_its_state)
{
	make_tag();
	const char *args[] = { tag, NULL };
	mlt_child *a = mlt_spawn("ml_child", args);
	mlt_cmd(a, "exit 0");
	mlt_wait_zombie(a);
	/* a zombie's command line is empty: -f matches it by its comm */
	ML_OPTS(ml_procs_opts, o, .comm = "ml_child", .want = ML_PROCS_CMDLINE);
	ml_procs *it;
	ck_assert_int_eq(ml_procs_open(&o, &it), 0);
	const ml_procs_entry *e;
	bool seen = false;
	while (ml_procs_next(it, &e) == 1)
		if (e->pid == a->pid) {
			seen = true;
			ck_assert_int_eq(e->state, 'Z');
			ck_assert_uint_eq(e->cmdline.len, 0);
		}
	ck_assert(seen);
	ml_procs_free(it);
	mlt_child_free(a);
}
END_TEST

int main(void)
{
	srandom((unsigned)getpid());
	Suite *su = suite_create("procs");
	TCase *tc = tcase_create("procs");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, finds_children_by_command_line);
	tcase_add_test(tc, handle_never_reads_a_successor);
	tcase_add_test(tc, zombie_listed_with_its_state);
	suite_add_tcase(su, tc);
	return mlt_run_suite(su);
}
