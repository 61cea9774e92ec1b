/* Process-information readers against ml_infochild, which sets known values on command. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "mltest.h"

static mlt_child *child(void) { return mlt_spawn("ml_infochild", NULL); }

static ml_proc *open_child(mlt_child *c)
{
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	return p;
}

/* The n-th number of a "a,b,c" list in an answer's key=value. */
static long nth(const char *line, const char *key, int n)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "%s=", key);
	const char *s = strstr(line, pat);
	ck_assert_ptr_nonnull(s);
	s += strlen(pat);
	for (int i = 0; i < n; i++) {
		s = strchr(s, ',');
		ck_assert_ptr_nonnull(s);
		s++;
	}
	return strtol(s, NULL, 10);
}

START_TEST(status_stat_statm_of_child)
{
	mlt_child *c = child();
	const char *ans = mlt_cmd_ok(c, "threads 3");
	pid_t tid1 = (pid_t)nth(ans, "tids", 1);
	mlt_cmd_ok(c, "comm x6d6c29200a287829"); /* "ml) \n(x)" */
	mlt_cmd_ok(c, "nnp");
	mlt_cmd_ok(c, "thp_disable");
	mlt_cmd_ok(c, "map 4194304");
	ml_proc *p = open_child(c);
	ml_status *s;
	ck_assert_int_eq(ml_status_read(p, &s), 0);
	ck_assert_int_eq(s->pid, c->pid);
	ck_assert_int_eq(s->ppid, getpid());
	ck_assert_uint_eq(s->threads, 4);
	ck_assert_mem_eq(s->name, "ml) \n(x)", 9);
	ck_assert(s->no_new_privs);
	ck_assert(!s->thp_enabled);
	ck_assert_uint_eq(s->uid[1], geteuid());
	ck_assert_uint_ge(s->vm_rss, 4u << 20); /* the 4 MiB it touched */
	ck_assert_uint_ge(s->vm_hwm, s->vm_rss);
	ck_assert_int_eq((long)s->vm_rss, mlt_status_kb(c->pid, "VmRSS") * 1024);
	ck_assert_uint_eq(s->n_extra, 0); /* this kernel's keys are all known */

	ml_stat st;
	ck_assert_int_eq(ml_stat_read(p, &st), 0);
	ck_assert_int_eq(st.pid, c->pid);
	ck_assert_mem_eq(st.comm, "ml) \n(x)", 9);
	ck_assert_int_eq(st.num_threads, 4);
	ck_assert_int_eq(st.ppid, getpid());
	ck_assert_uint_eq(st.nfields, 52);
	ck_assert_uint_eq(st.vsize, s->vm_size);

	ml_statm m;
	ck_assert_int_eq(ml_statm_read(p, &m), 0);
	ck_assert_uint_eq(m.size * ml_statm_page_size(), s->vm_size);
	ml_status_free(s);

	/* a task handle reads the thread's own status and stat */
	ml_proc *t;
	ck_assert_int_eq(ml_proc_task(p, tid1, &t), 0);
	ck_assert_int_eq(ml_status_read(t, &s), 0);
	ck_assert_str_eq(s->name, "mlw-1");
	ck_assert_int_eq(s->pid, tid1);
	ck_assert_int_eq(s->tgid, c->pid);
	ml_status_free(s);
	ck_assert_int_eq(ml_stat_read(t, &st), 0);
	ck_assert_str_eq(st.comm, "mlw-1");
	ml_proc_free(t);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

START_TEST(cmdline_environ_of_child)
{
	mlt_child *c = child();
	ml_proc *p = open_child(c);
	ml_strv *v;
	ck_assert_int_eq(ml_cmdline_read(p, &v), 0);
	ck_assert_uint_eq(v->n, 5);
	ck_assert(ml_bstr_eq(v->v[1], "arg with space"));
	ck_assert_uint_eq(v->v[2].len, 0);
	ck_assert(ml_bstr_eq(v->v[3], "x) (y"));
	ck_assert(ml_bstr_eq(v->v[4], "\xff\xfe"));
	ml_strv_free(v);
	ck_assert_int_eq(ml_environ_read(p, &v), 0);
	ml_bstr val;
	ck_assert(ml_environ_get(v, "ML_INFO_VAR", &val));
	ck_assert(ml_bstr_eq(val, "hello world"));
	ck_assert(ml_environ_get(v, "ML_INFO_BYTES", &val));
	ck_assert(ml_bstr_eq(val, "\xff\xfe"));
	ml_strv_free(v);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

START_TEST(zombie_cmdline_is_esrch_status_reads)
{
	mlt_child *c = child();
	ml_proc *p = open_child(c);
	mlt_cmd(c, "exit 0");
	mlt_wait_zombie(c);
	ml_strv *v = (ml_strv *)0x1;
	ck_assert_int_eq(ml_cmdline_read(p, &v), -ESRCH);
	ck_assert_ptr_eq(v, (ml_strv *)0x1);
	ml_status *s;
	ck_assert_int_eq(ml_status_read(p, &s), 0);
	ck_assert_int_eq(s->state, 'Z');
	ml_status_free(s);
	ml_stat st;
	ck_assert_int_eq(ml_stat_read(p, &st), 0);
	ck_assert_int_eq(st.state, 'Z');
	mlt_wait(c);
	ck_assert_int_eq(ml_stat_read(p, &st), -ESRCH);
	ck_assert_int_eq(ml_status_read(p, &s), -ESRCH);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

START_TEST(kernel_thread)
{
	ml_proc *p;
	if (ml_proc_open(2, &p) < 0)
		mlt_skip("no kernel thread visible as PID 2 (PID namespace?)");
	ml_status *s;
	ck_assert_int_eq(ml_status_read(p, &s), 0);
	if (!s->kthread && ml_status_has(s, ML_STATUS_KTHREAD))
		mlt_skip("PID 2 is not a kernel thread here");
	ml_status_free(s);
	ml_strv *v;
	/* a kernel thread is alive with an empty command line: an empty list, not -ESRCH */
	ck_assert_int_eq(ml_cmdline_read(p, &v), 0);
	ck_assert_uint_eq(v->n, 0);
	ml_strv_free(v);
	ml_statm m;
	ck_assert_int_eq(ml_statm_read(p, &m), 0);
	ck_assert_uint_eq(m.size, 0);
	ml_proc_free(p);
}
END_TEST


START_TEST(values_the_child_set)
{
	mlt_child *c = child();
	/* RLIMIT_AS: large enough for sanitizer builds, which reserve terabytes of shadow */
	mlt_cmd_ok(c, "rlimit 9 70368744177664 140737488355328");
	mlt_cmd_ok(c, "rlimit 8 65536 131072");          /* RLIMIT_MEMLOCK */
	mlt_cmd_ok(c, "rlimit 4 0 inf");                 /* RLIMIT_CORE */
	mlt_cmd_ok(c, "oom_adj 321");
	mlt_cmd_ok(c, "coredump 0x1f");
	mlt_cmd_ok(c, "personality 0x0040000");
	mlt_cmd_ok(c, "cwd /usr/share");
	ml_proc *p = open_child(c);
	ml_limits l;
	ck_assert_int_eq(ml_limits_read(p, &l), 0);
	ck_assert_uint_eq(l.lim[9].soft, 64ull << 40);
	ck_assert_uint_eq(l.lim[9].hard, 128ull << 40);
	ck_assert_uint_eq(l.lim[8].soft, 65536);
	ck_assert_uint_eq(l.lim[8].hard, 131072);
	ck_assert_uint_eq(l.lim[4].soft, 0);
	ck_assert_uint_eq(l.lim[4].hard, ML_LIMIT_UNLIMITED);
	int v;
	ck_assert_int_eq(ml_oom_score_adj_read(p, &v), 0);
	ck_assert_int_eq(v, 321);
	ck_assert_int_eq(ml_oom_score_read(p, &v), 0);
	ck_assert_int_ge(v, 321); /* the adjustment is added to the badness */
	ml_coredump_filter cf;
	ck_assert_int_eq(ml_coredump_filter_read(p, &cf), 0);
	ck_assert(cf.set);
	ck_assert_uint_eq(cf.mask, 0x1f);
	uint32_t per;
	ck_assert_int_eq(ml_personality_read(p, &per), 0);
	ck_assert_uint_eq(per, 0x0040000);
	ml_link *lk;
	ck_assert_int_eq(ml_cwd_read(p, &lk), 0);
	ck_assert_str_eq(lk->path, "/usr/share");
	ck_assert(!lk->deleted);
	ml_link_free(lk);
	ck_assert_int_eq(ml_exe_read(p, &lk), 0);
	char *expect = mlt_helper_path("ml_infochild");
	char real[4096];
	ck_assert_ptr_nonnull(realpath(expect, real));
	ck_assert_str_eq(lk->path, real);
	free(expect);
	ml_link_free(lk);
	uid_t uid;
	ck_assert_int_eq(ml_uid_read(p, &uid, NULL), 0);
	ck_assert_uint_eq(uid, geteuid());
	ml_auxv *a;
	ck_assert_int_eq(ml_auxv_read(p, ML_AUXV_AUTO, &a), 0);
	uint64_t pg;
	ck_assert(ml_auxv_get(a, 6 /* AT_PAGESZ */, &pg));
	ck_assert_uint_eq(pg, (uint64_t)sysconf(_SC_PAGESIZE));
	ck_assert(ml_auxv_get(a, 11 /* AT_UID */, &pg));
	ck_assert_uint_eq(pg, getuid());
	ml_auxv_free(a);
	ml_io io;
	ck_assert_int_eq(ml_io_read(p, &io), 0);
	ck_assert_uint_gt(io.rchar, 0); /* it read its commands */
	ck_assert_uint_gt(io.syscr, 0);
	ml_schedstat ss;
	ck_assert_int_eq(ml_schedstat_read(p, &ss), 0);
	ck_assert_uint_gt(ss.run_ns, 0);
	ml_ksm_stat k;
	int kr = ml_ksm_stat_read(p, &k);
	if (kr == 0) { /* -ENOENT: a kernel without KSM */
		ck_assert(!k.mergeable);
		mlt_cmd_ok(c, "mergeable 1048576");
		ck_assert_int_eq(ml_ksm_stat_read(p, &k), 0);
		ck_assert(k.mergeable); /* MADV_MERGEABLE marks the address space */
	} else {
		ck_assert_int_eq(kr, -ENOENT);
	}
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

START_TEST(threads_named_and_exiting)
{
	mlt_child *c = child();
	const char *ans = mlt_cmd_ok(c, "threads 6");
	pid_t tids[6];
	for (int i = 0; i < 6; i++)
		tids[i] = (pid_t)nth(ans, "tids", i);
	ml_proc *p = open_child(c);
	ml_tasks *it;
	ck_assert_int_eq(ml_tasks_open(p, &it), 0);
	/* stop two threads after iteration began: they must be skipped or read, never fail */
	mlt_cmd_ok(c, "thread_stop 2");
	mlt_cmd_ok(c, "thread_stop 4");
	ml_proc *t;
	int r, n = 0;
	unsigned seen = 0;
	while ((r = ml_tasks_next(it, &t)) == 1) {
		ml_status *s;
		int sr = ml_status_read(t, &s);
		ck_assert(sr == 0 || sr == -ESRCH);
		if (sr == 0) {
			if (s->pid != c->pid) {
				int k = -1;
				for (int i = 0; i < 6; i++)
					if (tids[i] == s->pid)
						k = i;
				ck_assert_int_ge(k, 0);
				char name[16];
				snprintf(name, sizeof(name), "mlw-%d", k);
				ck_assert_str_eq(s->name, name);
				seen |= 1u << k;
			}
			ml_status_free(s);
		}
		ml_proc_free(t);
		n++;
	}
	ck_assert_int_eq(r, 0);
	ml_tasks_free(it);
	/* the four that kept running were all seen */
	ck_assert_uint_eq(seen & 0x2b, 0x2b);
	ck_assert_int_eq(ml_proc_task(p, tids[2], &t), -ESRCH);
	ck_assert_int_eq(ml_proc_task(p, tids[3], &t), 0);
	ml_proc_free(t);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

START_TEST(main_thread_exited)
{
	mlt_child *c = child();
	const char *ans = mlt_cmd_ok(c, "threads 2");
	pid_t tid0 = (pid_t)nth(ans, "tids", 0);
	mlt_cmd_ok(c, "cwd /usr");
	ml_proc *p = open_child(c);
	mlt_cmd_ok(c, "main_exit");
	/* wait until the leader shows as a zombie (its threads keep the process alive) */
	for (int i = 0; i < 10000; i++) {
		ml_stat st;
		if (ml_stat_read(p, &st) == 0 && st.state == 'Z')
			break;
		usleep(1000);
	}
	ml_link *l;
	ck_assert_int_eq(ml_cwd_read(p, &l), 0);
	ck_assert_str_eq(l->path, "/usr");
	ck_assert_int_gt(l->via_tid, 0);
	ml_link_free(l);
	ck_assert_int_eq(ml_exe_read(p, &l), 0);
	ck_assert_ptr_nonnull(strstr(l->path, "ml_infochild"));
	ml_link_free(l);
	ml_proc *t;
	ck_assert_int_eq(ml_proc_task(p, tid0, &t), 0);
	ml_status *s;
	ck_assert_int_eq(ml_status_read(t, &s), 0);
	ck_assert_str_eq(s->name, "mlw-0");
	ml_status_free(s);
	ml_proc_free(t);
	ck_assert_int_eq(ml_task_main_thread(p, &t), -ESRCH);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

START_TEST(descriptors)
{
	mlt_child *c = child();
	ml_proc *p = open_child(c);
	ssize_t before = ml_fd_count(p);
	ck_assert_int_eq(before, 3); /* the helper starts with stdin, stdout, stderr only */
	const char *ans = mlt_cmd_ok(c, "sockets");
	int sfd[4];
	unsigned long long ino[4];
	for (int i = 0; i < 4; i++) {
		sfd[i] = (int)nth(ans, "fds", i);
		ino[i] = (unsigned long long)nth(ans, "inos", i);
	}
	ans = mlt_cmd_ok(c, "pipe");
	int rfd = (int)mlt_kv(ans, "rfd");
	unsigned long long pino = mlt_kv(ans, "ino");
	int efd = (int)mlt_kv(mlt_cmd_ok(c, "eventfd"), "fd");
	int ffd = (int)mlt_kv(mlt_cmd_ok(c, "open /etc/passwd"), "fd");
	mlt_cmd_ok(c, "seek %d 5", ffd);
	ck_assert_int_eq(ml_fd_count(p), before + 4 + 2 + 1 + 1);
	ml_fds *it;
	ck_assert_int_eq(ml_fds_open(p, &it), 0);
	ml_fd f;
	int found = 0;
	while (ml_fds_next(it, &f) == 1) {
		for (int i = 0; i < 4; i++)
			if (f.fd == sfd[i]) {
				ck_assert_int_eq(f.type, ML_FD_SOCKET);
				ck_assert_uint_eq(f.inode, ino[i]);
				found++;
			}
		if (f.fd == rfd) {
			ck_assert_int_eq(f.type, ML_FD_PIPE);
			ck_assert_uint_eq(f.inode, pino);
			found++;
		}
		if (f.fd == efd) {
			ck_assert_int_eq(f.type, ML_FD_ANON);
			ck_assert(ml_bstr_eq(f.name, "eventfd"));
			found++;
		}
		if (f.fd == ffd) {
			ck_assert_int_eq(f.type, ML_FD_PATH);
			ck_assert(ml_bstr_eq(f.target, "/etc/passwd"));
			found++;
		}
	}
	ml_fds_free(it);
	ck_assert_int_eq(found, 7);
	ml_fdinfo *fi;
	ck_assert_int_eq(ml_fd_from_fd(p, ffd, &fi), 0);
	ck_assert_uint_eq(fi->pos, 5);
	ck_assert_uint_eq(fi->flags & O_ACCMODE, O_RDONLY);
	struct stat sb;
	ck_assert_int_eq(stat("/etc/passwd", &sb), 0);
	ck_assert(fi->has_ino);
	ck_assert_uint_eq(fi->ino, sb.st_ino);
	ml_fdinfo_free(fi);
	ck_assert_int_eq(ml_fd_from_fd(p, efd, &fi), 0);
	bool cnt = false;
	for (size_t i = 0; i < fi->n_extra; i++)
		cnt |= ml_bstr_eq(fi->extra[i].name, "eventfd-count") && ml_bstr_eq(fi->extra[i].value, "7");
	ck_assert(cnt);
	ml_fdinfo_free(fi);
	ck_assert_int_eq(ml_fd_from_fd(p, 999, &fi), -EBADF);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

START_TEST(deleted_cwd_and_literal_deleted_name)
{
	char tmpl[] = "/tmp/ml-info-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	char lit[4200], gone[4200];
	snprintf(lit, sizeof(lit), "%s/x (deleted)", tmpl);
	snprintf(gone, sizeof(gone), "%s/gone", tmpl);
	ck_assert_int_eq(mkdir(lit, 0700), 0);
	ck_assert_int_eq(mkdir(gone, 0700), 0);
	mlt_child *a = child(), *b = child();
	char hex[8400] = "x";
	for (size_t i = 0; lit[i]; i++)
		snprintf(hex + strlen(hex), 3, "%02x", (unsigned char)lit[i]);
	mlt_cmd_ok(a, "cwd %s", hex);
	mlt_cmd_ok(b, "cwd %s", gone);
	ck_assert_int_eq(rmdir(gone), 0);
	ml_proc *pa = open_child(a), *pb = open_child(b);
	ml_link *l;
	/* a directory really named "x (deleted)" that exists is not deleted */
	ck_assert_int_eq(ml_cwd_read(pa, &l), 0);
	ck_assert(!l->deleted);
	ck_assert_str_eq(l->path, lit);
	ml_link_free(l);
	/* a removed directory: the suffix is stripped and the flag set */
	ck_assert_int_eq(ml_cwd_read(pb, &l), 0);
	ck_assert(l->deleted);
	ck_assert_str_eq(l->path, gone);
	ml_link_free(l);
	ml_proc_free(pa);
	ml_proc_free(pb);
	mlt_child_free(a);
	mlt_child_free(b);
	rmdir(lit);
	rmdir(tmpl);
}
END_TEST

START_TEST(reaped_is_esrch_everywhere)
{
	mlt_child *c = child();
	ml_proc *p = open_child(c);
	mlt_cmd(c, "exit 0");
	mlt_wait(c);
	ml_limits l;
	ml_link *lk;
	ml_tasks *it;
	ml_fds *fds;
	int v;
	ck_assert_int_eq(ml_limits_read(p, &l), -ESRCH);
	ck_assert_int_eq(ml_oom_score_read(p, &v), -ESRCH);
	ck_assert_int_eq(ml_exe_read(p, &lk), -ESRCH);
	ck_assert_int_eq(ml_cwd_read(p, &lk), -ESRCH);
	ck_assert_int_eq(ml_fd_count(p), -ESRCH);
	ck_assert_int_eq(ml_fds_open(p, &fds), -ESRCH);
	ck_assert_int_eq(ml_tasks_open(p, &it), -ESRCH);
	ck_assert_int_eq(ml_uid_read(p, NULL, NULL), -ESRCH);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

START_TEST(zombie_links_and_fds)
{
	mlt_child *c = child();
	ml_proc *p = open_child(c);
	mlt_cmd(c, "exit 0");
	mlt_wait_zombie(c);
	ml_link *lk;
	ck_assert_int_eq(ml_exe_read(p, &lk), -ESRCH);
	ck_assert_int_eq(ml_cwd_read(p, &lk), -ESRCH);
	ck_assert_int_eq(ml_fd_count(p), -ESRCH);
	ml_fds *it;
	int r = ml_fds_open(p, &it);
	if (r == 0) {
		ml_fd f;
		ck_assert_int_eq(ml_fds_next(it, &f), -ESRCH);
		ml_fds_free(it);
	} else {
		ck_assert_int_eq(r, -ESRCH);
	}
	ml_strv *v;
	ck_assert_int_eq(ml_environ_read(p, &v), -ESRCH);
	ml_auxv *a;
	ck_assert_int_eq(ml_auxv_read(p, ML_AUXV_AUTO, &a), -ESRCH);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

/* Reads what an unprivileged user may and may not read of another user's process: run in
 * a forked child that dropped to nobody; results come back as one line of numbers. */
START_TEST(permission_gated_files)
{
	if (geteuid() != 0)
		mlt_skip("needs root to drop to another user (running as uid %d)", (int)geteuid());
	mlt_child *c = child();
	int pfd[2];
	ck_assert_int_eq(pipe(pfd), 0);
	pid_t k = fork();
	ck_assert_int_ge(k, 0);
	if (k == 0) {
		close(pfd[0]);
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(3);
		ml_proc *p;
		int r[12] = { 0 };
		r[0] = ml_proc_open(c->pid, &p);
		if (r[0] == 0) {
			ml_strv *v;
			ml_auxv *a;
			ml_io io;
			ml_link *l;
			ml_fds *f;
			ml_status *s;
			ml_limits lim;
			ml_stat st;
			uint32_t per;
			int oom;
			r[1] = ml_environ_read(p, &v);
			r[2] = ml_auxv_read(p, ML_AUXV_AUTO, &a);
			r[3] = ml_io_read(p, &io);
			r[4] = (int)ml_fd_count(p);
			r[5] = ml_fds_open(p, &f);
			r[6] = ml_exe_read(p, &l);
			r[7] = ml_personality_read(p, &per);
			r[8] = ml_status_read(p, &s);
			r[9] = ml_limits_read(p, &lim);
			r[10] = ml_stat_read(p, &st);
			r[11] = ml_oom_score_read(p, &oom);
		}
		dprintf(pfd[1], "%d %d %d %d %d %d %d %d %d %d %d %d\n", r[0], r[1], r[2], r[3], r[4],
			r[5], r[6], r[7], r[8], r[9], r[10], r[11]);
		_exit(0);
	}
	close(pfd[1]);
	char line[256] = "";
	ssize_t n = read(pfd[0], line, sizeof(line) - 1);
	close(pfd[0]);
	int st;
	waitpid(k, &st, 0);
	ck_assert_msg(n > 0, "the unprivileged reader wrote nothing (status %d)", st);
	int r[12];
	ck_assert_int_eq(sscanf(line, "%d %d %d %d %d %d %d %d %d %d %d %d", &r[0], &r[1], &r[2], &r[3],
				&r[4], &r[5], &r[6], &r[7], &r[8], &r[9], &r[10], &r[11]), 12);
	ck_assert_int_eq(r[0], 0);
	for (int i = 1; i <= 7; i++)
		ck_assert_msg(r[i] == -EACCES || r[i] == -EPERM, "gated reader %d gave %d", i, r[i]);
	for (int i = 8; i <= 11; i++)
		ck_assert_msg(r[i] == 0, "open reader %d gave %d", i, r[i]);
	mlt_child_free(c);
}
END_TEST

START_TEST(exec_ends_every_reader)
{
	mlt_child *c = mlt_spawn("ml_child", NULL);
	ml_proc *p = open_child(c);
	char *self = mlt_helper_path("ml_child");
	const char *l = mlt_cmd(c, "exec %s", self);
	ck_assert_ptr_nonnull(l);
	ck_assert(!strncmp(l, "ready", 5)); /* the new image runs */
	free(self);
	ml_proc *t;
	ml_link *lk;
	ml_status *s;
	ml_tasks *it;
	ck_assert_int_eq(ml_proc_task(p, c->pid, &t), -ESRCH);
	ck_assert_int_eq(ml_task_main_thread(p, &t), -ESRCH);
	ck_assert_int_eq(ml_cwd_read(p, &lk), -ESRCH);
	ck_assert_int_eq(ml_exe_read(p, &lk), -ESRCH);
	ck_assert_int_eq(ml_status_read(p, &s), -ESRCH);
	ck_assert_int_eq(ml_fd_count(p), -ESRCH);
	if (ml_tasks_open(p, &it) == 0) {
		ck_assert_int_eq(ml_tasks_next(it, &t), -ESRCH);
		ml_tasks_free(it);
	}
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("procinfo");
	TCase *tc = tcase_create("procinfo");
	tcase_add_test(tc, status_stat_statm_of_child);
	tcase_add_test(tc, cmdline_environ_of_child);
	tcase_add_test(tc, zombie_cmdline_is_esrch_status_reads);
	tcase_add_test(tc, kernel_thread);
	tcase_add_test(tc, values_the_child_set);
	tcase_add_test(tc, threads_named_and_exiting);
	tcase_add_test(tc, main_thread_exited);
	tcase_add_test(tc, descriptors);
	tcase_add_test(tc, deleted_cwd_and_literal_deleted_name);
	tcase_add_test(tc, reaped_is_esrch_everywhere);
	tcase_add_test(tc, zombie_links_and_fds);
	tcase_add_test(tc, permission_gated_files);
	tcase_add_test(tc, exec_ends_every_reader);
	suite_add_tcase(su, tc);
	return mlt_run_suite(su);
}
