/* Cross-check: the library's reading of a child against ps(1) and psutil on the same child. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "mltest.h"

/* "key=value" lines of @out: the value of @key (static buffer) or NULL. */
static const char *field(const char *out, const char *key)
{
	static char val[4096];
	size_t kl = strlen(key);
	for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (!strncmp(l, key, kl) && l[kl] == '=') {
			size_t n = strcspn(l + kl + 1, "\n");
			snprintf(val, sizeof(val), "%.*s", (int)n, l + kl + 1);
			return val;
		}
	}
	return NULL;
}

static unsigned long long num(const char *out, const char *key)
{
	const char *v = field(out, key);
	ck_assert_msg(v != NULL, "no %s in:\n%s", key, out);
	return strtoull(v, NULL, 10);
}

static mlt_child *busy_child(void)
{
	mlt_child *c = mlt_spawn("ml_infochild", NULL);
	mlt_cmd_ok(c, "threads 5");
	mlt_cmd_ok(c, "sockets");
	mlt_cmd_ok(c, "map 8388608");
	mlt_cmd_ok(c, "rlimit 7 512 1024"); /* RLIMIT_NOFILE */
	mlt_cmd_ok(c, "cwd /usr/lib");
	mlt_cmd_ok(c, "oom_adj 250");
	/* its answer reaches us before it is back in read(): until then ps may see it running
	 * (state R, where the library then reads S) */
	mlt_wait_idle(c->pid);
	return c;
}

START_TEST(against_ps)
{
	if (access("/usr/bin/ps", X_OK) != 0 && access("/bin/ps", X_OK) != 0)
		mlt_skip("ps (procps) is not installed");
	mlt_child *c = busy_child();
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	char cmd[256];
	snprintf(cmd, sizeof(cmd),
		 "ps -o pid=,ppid=,pgid=,sid=,nlwp=,rss=,vsz=,ni=,uid=,stat= -p %d", (int)c->pid);
	int status;
	char *out = mlt_run(cmd, &status);
	ck_assert_int_eq(status, 0);
	long pid, ppid, pgid, sid, nlwp, rss, vsz, ni, uid;
	char stat[16];
	ck_assert_int_eq(sscanf(out, "%ld %ld %ld %ld %ld %ld %ld %ld %ld %15s", &pid, &ppid, &pgid,
				&sid, &nlwp, &rss, &vsz, &ni, &uid, stat), 10);
	ml_status *s;
	ml_stat st;
	ck_assert_int_eq(ml_status_read(p, &s), 0);
	ck_assert_int_eq(ml_stat_read(p, &st), 0);
	ck_assert_int_eq(pid, s->pid);
	ck_assert_int_eq(ppid, s->ppid);
	ck_assert_int_eq(pgid, st.pgrp);
	ck_assert_int_eq(sid, st.session);
	ck_assert_int_eq(nlwp, (long)s->threads);
	ck_assert_int_eq(nlwp, st.num_threads);
	ck_assert_int_eq(rss * 1024, (long)s->vm_rss); /* the child is idle: RSS holds still */
	ck_assert_int_eq(vsz * 1024, (long)s->vm_size);
	ck_assert_int_eq(ni, st.nice);
	ck_assert_int_eq(uid, (long)s->uid[1]);
	ck_assert_int_eq(stat[0], s->state);
	ml_status_free(s);
	free(out);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

static const char psutil_script[] =
	"import psutil,sys\n"
	"p=psutil.Process(int(sys.argv[1]))\n"
	"print('name='+p.name())\n"
	"print('exe='+p.exe())\n"
	"print('cwd='+p.cwd())\n"
	"print('argc=%d'%len(p.cmdline()))\n"
	"print('arg1='+p.cmdline()[1])\n"
	"print('env=' + p.environ().get('ML_INFO_VAR',''))\n"
	"print('threads=%d'%p.num_threads())\n"
	"print('tids='+','.join(str(t.id) for t in p.threads()))\n"
	"print('fds=%d'%p.num_fds())\n"
	"print('rss=%d'%p.memory_info().rss)\n"
	"print('vms=%d'%p.memory_info().vms)\n"
	"s,h=p.rlimit(psutil.RLIMIT_NOFILE)\n"
	"print('nofile_soft=%d'%s)\n"
	"print('nofile_hard=%d'%h)\n"
	"print('euid=%d'%p.uids().effective)\n"
	"print('vol=%d'%p.num_ctx_switches().voluntary)\n"
	"print('rchar=%d'%p.io_counters().read_chars)\n"
	"print('ppid=%d'%p.ppid())\n"
	"print('status='+p.status())\n";

START_TEST(against_psutil)
{
	if (access("/usr/bin/python3", X_OK) != 0)
		mlt_skip("/usr/bin/python3 is not installed");
	int status;
	free(mlt_run("/usr/bin/python3 -c 'import psutil' 2>/dev/null", &status));
	if (status != 0)
		mlt_skip("psutil is not installed for /usr/bin/python3 (Debian: python3-psutil)");
	mlt_child *c = busy_child();
	char path[] = "/tmp/ml-xcheck-XXXXXX.py";
	int fd = mkstemps(path, 3);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, psutil_script, sizeof(psutil_script) - 1), (ssize_t)sizeof(psutil_script) - 1);
	close(fd);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s %d", path, (int)c->pid);
	char *out = mlt_run(cmd, &status);
	unlink(path);
	ck_assert_msg(status == 0, "psutil failed:\n%s", out);

	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	ml_status *s;
	ck_assert_int_eq(ml_status_read(p, &s), 0);
	ck_assert_str_eq(field(out, "name"), s->name);
	ml_link *l;
	ck_assert_int_eq(ml_exe_read(p, &l), 0);
	ck_assert_str_eq(field(out, "exe"), l->path);
	ml_link_free(l);
	ck_assert_int_eq(ml_cwd_read(p, &l), 0);
	ck_assert_str_eq(field(out, "cwd"), l->path);
	ml_link_free(l);
	ml_strv *v;
	ck_assert_int_eq(ml_cmdline_read(p, &v), 0);
	ck_assert_uint_eq(num(out, "argc"), v->n);
	ck_assert_str_eq(field(out, "arg1"), v->v[1].ptr);
	ml_strv_free(v);
	ck_assert_int_eq(ml_environ_read(p, &v), 0);
	ml_bstr val;
	ck_assert(ml_environ_get(v, "ML_INFO_VAR", &val));
	ck_assert_str_eq(field(out, "env"), val.ptr);
	ml_strv_free(v);
	ck_assert_uint_eq(num(out, "threads"), s->threads);
	/* the same TIDs, in the same order as task/ lists them */
	ml_tasks *it;
	ck_assert_int_eq(ml_tasks_open(p, &it), 0);
	char tids[1024] = "";
	pid_t tid;
	while (ml_tasks_next_tid(it, &tid) == 1)
		snprintf(tids + strlen(tids), sizeof(tids) - strlen(tids), "%s%d", tids[0] ? "," : "", (int)tid);
	ml_tasks_free(it);
	ck_assert_str_eq(field(out, "tids"), tids);
	ck_assert_int_eq((long long)num(out, "fds"), ml_fd_count(p));
	ck_assert_uint_eq(num(out, "rss"), s->vm_rss);
	ck_assert_uint_eq(num(out, "vms"), s->vm_size);
	ml_limits lim;
	ck_assert_int_eq(ml_limits_read(p, &lim), 0);
	ck_assert_uint_eq(num(out, "nofile_soft"), lim.lim[RLIMIT_NOFILE].soft);
	ck_assert_uint_eq(num(out, "nofile_hard"), lim.lim[RLIMIT_NOFILE].hard);
	ck_assert_uint_eq(num(out, "euid"), s->uid[1]);
	ck_assert_uint_eq(num(out, "ppid"), (unsigned long long)s->ppid);
	ck_assert_str_eq(field(out, "status"), s->state == 'S' ? "sleeping" : "?");
	/* counters only grow: psutil read first */
	ck_assert_uint_le(num(out, "vol"), s->voluntary_ctxt_switches);
	ml_io io;
	ck_assert_int_eq(ml_io_read(p, &io), 0);
	ck_assert_uint_le(num(out, "rchar"), io.rchar);
	ml_status_free(s);
	free(out);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("procinfo_xcheck");
	TCase *tc = tcase_create("xcheck");
	tcase_add_test(tc, against_ps);
	tcase_add_test(tc, against_psutil);
	suite_add_tcase(su, tc);
	return mlt_run_suite(su);
}
