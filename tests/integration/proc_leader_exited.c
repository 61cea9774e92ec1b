/* lib/proc_leader.c (with lib/proc.c): a process whose main thread has exited (pthread_exit)
 * while other threads run. /proc/PID then shows no address space, descriptors or links; the
 * handle reads them through a running thread's /proc/TID, moves to another thread when that
 * one exits, and still ends on exec. Exercises on the way what reads through it:
 * lib/maps.c, smaps.c, pagemap.c, mem.c, source.c, fd.c, links.c, cmdline.c. The child is
 * tests/helpers/ml_leaderless.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "mltest.h"

#define LL_LEN (16 * 4096)

typedef struct leaderless {
	mlt_child *c;
	uint64_t addr, needle;
	char needle_text[40];
} leaderless;

static leaderless start(const char *threads)
{
	const char *args[] = { threads, NULL };
	leaderless l = { .c = mlt_spawn("ml_leaderless", args) };
	/* mlt_spawn leaves the "ready ..." line in c->line */
	l.addr = mlt_kv(l.c->line, "addr");
	l.needle = mlt_kv(l.c->line, "needle");
	ck_assert_uint_eq(mlt_kv(l.c->line, "len"), LL_LEN);
	ck_assert_uint_ne(l.addr, 0);
	snprintf(l.needle_text, sizeof(l.needle_text), "mlleaderless%x", (unsigned)l.c->pid);
	return l;
}

static void main_exit(leaderless *l) { ck_assert_uint_ne(mlt_cmd_u64(l->c, "tid", "main_exit"), 0); }

/* The main thread's state letter, read without the library. */
static char leader_state(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	char *rp = strrchr(buf, ')');
	return rp ? rp[2] : 0;
}

/* What the library reads of the address space is the child's: its region, mapped and
 * filled as it says, and the needle in it. */
static void check_address_space(const ml_proc *p, const leaderless *l)
{
	static const ml_maps_source how[] = { ML_MAPS_AUTO, ML_MAPS_TEXT, ML_MAPS_PROCMAP_QUERY };
	for (size_t k = 0; k < sizeof(how) / sizeof(how[0]); k++) {
		ml_maps *m;
		int r = ml_maps_read(p, how[k], &m);
		if (r == -EOPNOTSUPP && how[k] == ML_MAPS_PROCMAP_QUERY)
			continue; /* a kernel without PROCMAP_QUERY: the other two have been read */
		ck_assert_msg(r == 0, "maps (%d): %d", (int)how[k], r);
		ck_assert_uint_gt(ml_maps_count(m), 5);
		const ml_vma *v = ml_maps_find(m, l->addr);
		ck_assert_ptr_nonnull(v);
		ck_assert_uint_eq(v->start, l->addr);
		ck_assert_uint_eq(v->end, l->addr + LL_LEN);
		ck_assert_uint_eq(v->perms & (ML_PERM_READ | ML_PERM_WRITE | ML_PERM_SHARED), ML_PERM_READ | ML_PERM_WRITE);
		ml_maps_free(m);
	}

	ml_smaps *s;
	ck_assert_int_eq(ml_smaps_read(p, &s), 0);
	const ml_smaps_vma *sv = ml_smaps_find(s, l->addr);
	ck_assert_ptr_nonnull(sv);
	ck_assert_uint_eq(sv->vma.start, l->addr);
	ck_assert_uint_eq(sv->f.rss, LL_LEN); /* every page was written */
	ml_smaps_free(s);
	ml_smaps_rollup *ro;
	ck_assert_int_eq(ml_smaps_rollup_read(p, &ro), 0);
	ck_assert_uint_ge(ro->f.rss, LL_LEN);
	ml_smaps_rollup_free(ro);

	ml_pagemap *pm;
	ck_assert_int_eq(ml_pagemap_open(p, &pm), 0);
	uint64_t e[LL_LEN / 4096];
	ck_assert_int_eq(ml_pagemap_read(pm, l->addr, e, LL_LEN / 4096), LL_LEN / 4096);
	for (size_t i = 0; i < LL_LEN / 4096; i++)
		ck_assert_msg(ml_pme_present(e[i]), "page %zu of the region not present in pagemap", i);
	ML_OPTS(ml_scan_opts, so, .start = l->addr, .end = l->addr + LL_LEN, .category_anyof_mask = ML_PAGE_PRESENT,
		.return_mask = ML_PAGE_PRESENT);
	ml_page_region runs[4];
	uint64_t next;
	ck_assert_int_eq(ml_pagemap_scan(pm, &so, runs, 4, &next), 1);
	ck_assert_uint_eq(runs[0].start, l->addr);
	ck_assert_uint_eq(runs[0].end, l->addr + LL_LEN);
	ml_pagemap_free(pm);

	/* the bytes the child wrote: the pattern, and the needle over it */
	unsigned char *want = malloc(LL_LEN), *buf = malloc(LL_LEN);
	for (size_t i = 0; i < LL_LEN; i++)
		want[i] = mlt_page_pattern(l->addr + i);
	memcpy(want + (l->needle - l->addr), l->needle_text, strlen(l->needle_text));
	static const ml_mem_method mm[] = { ML_MEM_AUTO, ML_MEM_VM_READV, ML_MEM_PROCFS };
	for (size_t k = 0; k < sizeof(mm) / sizeof(mm[0]); k++) {
		memset(buf, 0, LL_LEN);
		ck_assert_int_eq(ml_mem_read_ex(p, l->addr, buf, LL_LEN, mm[k]), LL_LEN);
		ck_assert_msg(!memcmp(buf, want, LL_LEN), "method %d: not the bytes the child wrote", (int)mm[k]);
	}

	/* what memlens read and grep use: the source says the bytes are memory */
	ml_source *src;
	ck_assert_int_eq(ml_source_open_proc(p, &src), 0);
	ml_run rr[8];
	size_t nr;
	memset(buf, 0, LL_LEN);
	ck_assert_int_eq(ml_source_read_runs(src, l->addr, buf, LL_LEN, 0, rr, 8, &nr), LL_LEN);
	ck_assert_uint_eq(nr, 1);
	ck_assert_int_eq(rr[0].kind, ML_RUN_DATA);
	ck_assert(!memcmp(buf, want, LL_LEN));
	ml_source_free(src);
	free(want);
	free(buf);
}

/* What else the main thread gave up: command line, descriptors, links. */
static void check_the_rest(const ml_proc *p)
{
	ml_strv *cl;
	ck_assert_int_eq(ml_cmdline_read(p, &cl), 0);
	ck_assert_uint_ge(cl->n, 1);
	ck_assert_ptr_nonnull(strstr(cl->v[0].ptr, "ml_leaderless"));
	ml_strv_free(cl);
	ck_assert_int_ge(ml_fd_count(p), 3); /* stdin, stdout, stderr at least */
	ml_link *exe;
	ck_assert_int_eq(ml_exe_read(p, &exe), 0);
	ck_assert_ptr_nonnull(strstr(exe->path, "ml_leaderless"));
	ck_assert_int_gt(exe->via_tid, 0);
	ck_assert_int_ne(exe->via_tid, ml_proc_pid(p));
	ml_link_free(exe);
}

/* The TID the handle reads through now (the exe link says). */
static pid_t via_tid(const ml_proc *p)
{
	ml_link *exe;
	ck_assert_int_eq(ml_exe_read(p, &exe), 0);
	pid_t t = exe->via_tid;
	ml_link_free(exe);
	return t;
}

START_TEST(opened_after_the_main_thread_exited)
{
	leaderless l = start("3");
	main_exit(&l);
	ck_assert_int_eq(leader_state(l.c->pid), 'Z');
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(l.c->pid, &p), 0);
	ck_assert_int_eq(ml_proc_check(p), 0);
	ck_assert_int_eq(ml_proc_alive(p), 1);
	check_address_space(p, &l);
	check_the_rest(p);
	ml_proc_free(p);
	/* a lazy handle, and a handle on the directory, read the same way */
	ck_assert_int_eq(ml_proc_open_lazy(l.c->pid, &p), 0);
	check_address_space(p, &l);
	ml_proc_free(p);
	char path[32];
	snprintf(path, sizeof(path), "/proc/%d", (int)l.c->pid);
	ck_assert_int_eq(ml_proc_open_path(path, &p), 0);
	check_address_space(p, &l);
	ml_proc_free(p);
	mlt_child_free(l.c);
}
END_TEST

START_TEST(opened_before_the_main_thread_exited)
{
	leaderless l = start("2");
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(l.c->pid, &p), 0);
	check_address_space(p, &l); /* through its own directory */
	main_exit(&l);
	ck_assert_int_eq(ml_proc_check(p), 0);
	check_address_space(p, &l); /* now through a thread */
	check_the_rest(p);
	ml_proc_free(p);
	mlt_child_free(l.c);
}
END_TEST

/* The thread read through exits: the next reads go through another one. */
START_TEST(moves_on_when_its_thread_exits)
{
	leaderless l = start("3");
	main_exit(&l);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(l.c->pid, &p), 0);
	ml_pagemap *held;
	ck_assert_int_eq(ml_pagemap_open(p, &held), 0); /* opened through the first thread */
	for (int round = 0; round < 2; round++) {
		pid_t t = via_tid(p);
		ck_assert_int_gt(t, 0);
		mlt_cmd_ok(l.c, "end %d", (int)t);
		check_address_space(p, &l);
		pid_t t2 = via_tid(p);
		ck_assert_int_gt(t2, 0);
		ck_assert_int_ne(t2, t);
	}
	/* a pagemap opened through a thread that has exited still reads the address space */
	uint64_t e;
	ck_assert_int_eq(ml_pagemap_read(held, l.addr, &e, 1), 1);
	ck_assert(ml_pme_present(e));
	ml_pagemap_free(held);
	ml_proc_free(p);
	mlt_child_free(l.c);
}
END_TEST

/* Readers on several threads share one handle (the readers take it const) while the
 * threads it reads through exit one after another: every read is whole. */
struct reader_arg {
	const ml_proc *p;
	const leaderless *l;
	volatile int *stop;
	int bad, reads; /* reads: rounds done, read by the test thread while they run */
};

/* One round of reads that is not whole: counted, the first one said. */
static void bad_round(struct reader_arg *a, const char *what, long v)
{
	if (!a->bad++)
		fprintf(stderr, "%s: %ld\n", what, v);
}

static void *reader(void *arg)
{
	struct reader_arg *a = arg;
	unsigned char b[64];
	while (!*a->stop) {
		int before = a->bad;
		ml_maps *m;
		int r = ml_maps_read(a->p, ML_MAPS_AUTO, &m);
		if (r != 0 || !ml_maps_find(m, a->l->addr))
			bad_round(a, "maps (error, or mappings without the region)", r ? r : (long)ml_maps_count(m));
		if (r == 0)
			ml_maps_free(m);
		bool procfs = __atomic_load_n(&a->reads, __ATOMIC_RELAXED) % 2;
		ssize_t n = ml_mem_read_ex(a->p, a->l->needle, b, 12, procfs ? ML_MEM_PROCFS : ML_MEM_VM_READV);
		if (n != 12 || memcmp(b, a->l->needle_text, 12))
			bad_round(a, procfs ? "mem through /proc/PID/mem" : "mem through process_vm_readv", n);
		ssize_t f = ml_fd_count(a->p);
		if (f < 3)
			bad_round(a, "fd count", f);
		if (a->bad > before)
			a->bad = before + 1; /* rounds, not reads */
		__atomic_add_fetch(&a->reads, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

START_TEST(shared_by_reader_threads_while_threads_exit)
{
	leaderless l = start("8");
	main_exit(&l);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(l.c->pid, &p), 0);
	volatile int stop = 0;
	struct reader_arg ra[3];
	pthread_t t[3];
	for (int i = 0; i < 3; i++) {
		ra[i] = (struct reader_arg){ .p = p, .l = &l, .stop = &stop };
		ck_assert_int_eq(pthread_create(&t[i], NULL, reader, &ra[i]), 0);
	}
	/* end the threads but the one answering, the one read through first when known, each
	 * once every reader has done a round of reads since the last */
	for (int n = 0; n < 8; n++) {
		int seen[3];
		for (int i = 0; i < 3; i++)
			seen[i] = __atomic_load_n(&ra[i].reads, __ATOMIC_ACQUIRE);
		for (int i = 0; i < 3; i++)
			while (__atomic_load_n(&ra[i].reads, __ATOMIC_ACQUIRE) < seen[i] + 1)
				sched_yield();
		pid_t via = via_tid(p);
		const char *tids = strchr(mlt_cmd_ok(l.c, "tids"), ',');
		ck_assert_ptr_nonnull(tids);
		pid_t victim = (pid_t)atoi(tids + 1);
		for (const char *q = tids; q; q = strchr(q + 1, ','))
			if ((pid_t)atoi(q + 1) == via)
				victim = via;
		mlt_cmd_ok(l.c, "end %d", (int)victim);
	}
	stop = 1;
	int bad = 0, reads = 0;
	for (int i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		bad += ra[i].bad;
		reads += ra[i].reads;
	}
	ck_assert_msg(bad == 0, "%d of %d rounds of reads were not whole", bad, reads);
	ck_assert_int_gt(reads, 0);
	/* only the thread that answers is left: it is read through now */
	check_address_space(p, &l);
	ml_proc_free(p);
	mlt_child_free(l.c);
}
END_TEST

/* An exec by a thread gives it the main thread's PID and a new address space: that ends
 * the handle, whose threads are gone, like any exec. */
START_TEST(exec_by_a_thread_ends_the_handle)
{
	leaderless l = start("2");
	main_exit(&l);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(l.c->pid, &p), 0);
	check_address_space(p, &l);
	char *self = mlt_helper_path("ml_leaderless");
	const char *ans = mlt_cmd(l.c, "exec %s", self);
	free(self);
	ck_assert_ptr_nonnull(ans);
	ck_assert_msg(!strncmp(ans, "ready", 5), "exec: %s", ans);
	ck_assert_int_eq(ml_proc_check(p), -ESRCH);
	ml_maps *m;
	ck_assert_int_eq(ml_maps_read(p, ML_MAPS_AUTO, &m), -ESRCH);
	unsigned char b;
	ck_assert_int_eq(ml_mem_read(p, l.addr, &b, 1), -ESRCH);
	ml_proc_free(p);
	mlt_child_free(l.c);
}
END_TEST

/* Once every thread has gone the process is a zombie: nothing is read as empty. */
START_TEST(then_a_zombie_is_gone)
{
	leaderless l = start("1");
	main_exit(&l);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(l.c->pid, &p), 0);
	check_address_space(p, &l);
	mlt_cmd(l.c, "exit 0");
	/* until it has exited, left a zombie (WNOWAIT: not reaped) */
	siginfo_t si;
	ck_assert_int_eq(waitid(P_PID, (id_t)l.c->pid, &si, WEXITED | WNOWAIT), 0);
	ck_assert_int_eq(ml_proc_alive(p), 0);
	ml_maps *m;
	ck_assert_int_eq(ml_maps_read(p, ML_MAPS_AUTO, &m), -ESRCH);
	ml_pagemap *pm;
	ck_assert_int_eq(ml_pagemap_open(p, &pm), -ESRCH);
	ml_proc_free(p);
	mlt_wait(l.c);
	mlt_child_free(l.c);
}
END_TEST

/* A handle on a process whose main thread runs reads straight through /proc/PID, and what
 * one reader does there does not hold up another sharing the handle: opening fd/N of a
 * FIFO waits for a writer (as a path through root/ on a hung mount, or map_files/ on
 * FUSE, may wait for ever), while another thread lists maps. Our own process is the target,
 * so the FIFO is in its table and the writer is ours to bring. */
struct fifo_open {
	const ml_proc *p;
	char name[32];
	int fd, done;
	pid_t tid;
};

static void *fifo_opener(void *arg)
{
	struct fifo_open *o = arg;
	__atomic_store_n(&o->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	o->fd = ml_proc_openat(o->p, o->name, O_RDONLY);
	__atomic_store_n(&o->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

struct maps_lister {
	const ml_proc *p;
	int r, done;
};

static void *maps_lister(void *arg)
{
	struct maps_lister *m = arg;
	ml_maps *maps;
	m->r = ml_maps_read(m->p, ML_MAPS_AUTO, &maps);
	if (m->r == 0)
		ml_maps_free(maps);
	__atomic_store_n(&m->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Polls @flag for up to @ms milliseconds. */
static bool wait_flag(const int *flag, int ms)
{
	for (int i = 0; i < ms; i++) {
		if (__atomic_load_n(flag, __ATOMIC_ACQUIRE))
			return true;
		usleep(1000);
	}
	return __atomic_load_n(flag, __ATOMIC_ACQUIRE) != 0;
}

/* Whether thread @tid of this process sleeps (state S), read without the library. */
static bool thread_sleeps(pid_t tid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	char *rp = strrchr(buf, ')');
	return rp && rp[1] && rp[2] == 'S';
}

START_TEST(a_blocked_open_does_not_hold_up_other_readers)
{
	char dir[] = "/tmp/ml_fifo_XXXXXX", path[64];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	int rd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC); /* no writer: fd/N will wait for one */
	ck_assert_int_ge(rd, 0);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_self(&p), 0);
	struct fifo_open o = { .p = p, .fd = -1 };
	snprintf(o.name, sizeof(o.name), "fd/%d", rd);
	pthread_t to, tm;
	ck_assert_int_eq(pthread_create(&to, NULL, fifo_opener, &o), 0);
	/* until the opener waits in the open (bounded) */
	pid_t tid = 0;
	for (int i = 0; i < 10000 && !(tid = __atomic_load_n(&o.tid, __ATOMIC_ACQUIRE)); i++)
		usleep(1000);
	ck_assert_int_ne(tid, 0);
	bool asleep = false;
	for (int i = 0; i < 10000 && !(asleep = thread_sleeps(tid) && !__atomic_load_n(&o.done, __ATOMIC_ACQUIRE)); i++)
		usleep(1000);
	ck_assert_msg(asleep, "the open of %s did not wait for a writer", o.name);

	struct maps_lister m = { .p = p };
	ck_assert_int_eq(pthread_create(&tm, NULL, maps_lister, &m), 0);
	bool listed = wait_flag(&m.done, 10000);
	/* the writer lets the open finish either way, so that both threads can be joined */
	int wr = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	ck_assert_int_ge(wr, 0);
	ck_assert_msg(wait_flag(&o.done, 10000), "the open of %s did not finish once a writer came", o.name);
	pthread_join(to, NULL);
	pthread_join(tm, NULL);
	ck_assert_msg(listed, "maps was not read while another reader of the handle waited in an open");
	ck_assert_int_eq(m.r, 0);
	ck_assert_int_ge(o.fd, 0);
	close(o.fd);
	close(wr);
	close(rd);
	ml_proc_free(p);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* Descriptors open in this process. */
static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	ck_assert_ptr_nonnull(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* opendir's own */
}

struct vm_reader {
	const ml_proc *p;
	const leaderless *l;
	int bad;
};

static void *vm_reader(void *arg)
{
	struct vm_reader *v = arg;
	unsigned char b[64];
	for (int i = 0; i < 200; i++) {
		ssize_t r = ml_mem_read_ex(v->p, v->l->addr, b, sizeof(b), ML_MEM_VM_READV);
		if (r != (ssize_t)sizeof(b) || b[0] != mlt_page_pattern(v->l->addr))
			v->bad++;
	}
	return NULL;
}

/* A lazy (or released) handle on a process whose main thread runs reads memory by its PID
 * and stays lazy: no descriptor is opened, so none is opened twice by two threads reading
 * at once (which would leak one and swap the directory under the other). (A source is not
 * tried: it opens pagemap, which opens the handle's directory as any file read does.) */
START_TEST(memory_reads_leave_a_lazy_handle_lazy)
{
	leaderless l = start("1"); /* main thread running: an ordinary process */
	for (int released = 0; released < 2; released++) {
		ml_proc *p;
		ck_assert_int_eq(ml_proc_open_lazy(l.c->pid, &p), 0);
		if (released) {
			ml_maps *m; /* read once, then released */
			ck_assert_int_eq(ml_maps_read(p, ML_MAPS_AUTO, &m), 0);
			ml_maps_free(m);
			ck_assert_int_eq(ml_proc_release(p), 0);
		}
		int before = open_fds();
		struct vm_reader v[2] = { { p, &l, 0 }, { p, &l, 0 } };
		pthread_t t[2];
		for (int i = 0; i < 2; i++)
			ck_assert_int_eq(pthread_create(&t[i], NULL, vm_reader, &v[i]), 0);
		for (int i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		ck_assert_int_eq(v[0].bad + v[1].bad, 0);
		ck_assert_msg(open_fds() == before, "%s handle: %d descriptors open after ml_mem_read from 2 threads, %d before",
			      released ? "released" : "lazy", open_fds(), before);
		ml_proc_free(p);
	}
	mlt_child_free(l.c);
}
END_TEST

/* Lists fd/ to the end: the entries given, and what ended it in *r (0, or -errno). */
static int list_fds(ml_fds *it, int *r)
{
	int n = 0;
	ml_fd f;
	while ((*r = ml_fds_next(it, &f)) == 1)
		n++;
	return n;
}

/* fd/ of a process whose main thread has exited is listed through another thread. If that
 * one exits once some entries have been given, the rest is lost with it (their links no
 * longer resolve): the listing is incomplete, not at its end. */
START_TEST(fds_listing_cut_short_by_its_thread_says_so)
{
	leaderless l = start("2");
	main_exit(&l);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(l.c->pid, &p), 0);
	ml_fds *it;
	ck_assert_int_eq(ml_fds_open(p, &it), 0);
	int r, all = list_fds(it, &r);
	ck_assert_int_eq(r, 0);
	ck_assert_int_gt(all, 3);
	ml_fds_free(it);

	pid_t via = via_tid(p);
	ck_assert_int_eq(ml_fds_open(p, &it), 0);
	ml_fd f;
	ck_assert_int_eq(ml_fds_next(it, &f), 1); /* the listing is read: one entry given */
	mlt_cmd_ok(l.c, "end %d", (int)via);
	int rest = list_fds(it, &r);
	ck_assert_msg(r == -EAGAIN, "after 1 + %d of %d descriptors the listing ended with %d, not -EAGAIN", rest, all, r);
	ml_fds_free(it);
	/* a new iterator lists them all through a thread that runs */
	ck_assert_int_eq(ml_fds_open(p, &it), 0);
	ck_assert_int_eq(list_fds(it, &r), all - 1); /* "end" closed the write end of that thread's pipe */
	ck_assert_int_eq(r, 0);
	ml_fds_free(it);
	ml_proc_free(p);
	mlt_child_free(l.c);
}
END_TEST

/* Ends thread @tid of @l's child while holding it as a zombie: traced by us (ptrace), it
 * is not released until we wait for it, so its /proc/TID stays while it has exited, as it
 * does for a moment while any thread exits. The helper answers "end" only once we have
 * (release_held()). Skips the test if we may not trace it. */
static void end_held(leaderless *l, ml_proc *p, pid_t tid)
{
	if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) < 0) {
		int e = errno;
		ml_proc_free(p);
		mlt_child_free(l->c);
		mlt_skip("cannot ptrace thread %d of our child: %s", (int)tid, strerror(e));
	}
	char cmd[32];
	int cl = snprintf(cmd, sizeof(cmd), "end %d\n", (int)tid);
	ck_assert_int_eq(write(l->c->to_child, cmd, (size_t)cl), cl);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)l->c->pid, (int)tid);
	bool zombie = false;
	for (int i = 0; i < 10000 && !zombie; i++) {
		char buf[512];
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
		if (fd >= 0)
			close(fd);
		buf[n > 0 ? n : 0] = '\0';
		char *rp = strrchr(buf, ')');
		if (!(zombie = rp && rp[1] && rp[2] == 'Z'))
			usleep(1000);
	}
	ck_assert_msg(zombie, "thread %d did not exit", (int)tid);
}

static void release_held(leaderless *l, pid_t tid)
{
	int st;
	ck_assert_int_eq(waitpid(tid, &st, __WALL), tid);
	ck_assert_ptr_nonnull(mlt_read_line(l->c)); /* "ok" to the end command */
}

/* The thread fd/ was opened through has exited before the first entry, and opening it again
 * fails (here: no descriptor is left, RLIMIT_NOFILE): that error ends the iterator, and
 * the next call says so instead of listing a directory it no longer has. The thread is
 * held as a zombie (ptrace: its tracer has not waited for it) so that its fd/ lists nothing
 * without an error, as while a thread exits. */
START_TEST(fds_iterator_whose_reopen_failed_has_ended)
{
	leaderless l = start("2");
	main_exit(&l);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(l.c->pid, &p), 0);
	pid_t via = via_tid(p);
	ml_fds *it;
	ck_assert_int_eq(ml_fds_open(p, &it), 0);
	end_held(&l, p, via);

	struct rlimit old, lim;
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	int lowest = dup(0); /* every descriptor below it is open */
	ck_assert_int_ge(lowest, 0);
	close(lowest);
	lim = old;
	lim.rlim_cur = (rlim_t)lowest;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &lim), 0);
	ml_fd f;
	int r1 = ml_fds_next(it, &f), r2 = ml_fds_next(it, &f);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	ck_assert_msg(r1 < 0, "listing again through another thread with no descriptor left: %d", r1);
	ck_assert_int_eq(r2, -ESRCH);
	ml_fds_free(it);

	release_held(&l, via);
	ml_proc_free(p);
	mlt_child_free(l.c);
}
END_TEST

/* ml_proc_openat() of what the main thread gave up, through a thread that was chosen while
 * it ran and has exited since (held as a zombie: its directory still opens its files, on no
 * address space): the file is opened again through a thread that runs, not handed over
 * reading nothing. (The library's own readers check an empty read; this caller cannot.) */
START_TEST(openat_through_a_thread_that_has_exited_since)
{
	leaderless l = start("2");
	main_exit(&l);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(l.c->pid, &p), 0);
	pid_t via = via_tid(p); /* chosen now, and kept */
	end_held(&l, p, via);
	static const char *const names[] = { "maps", "mem", "pagemap", "auxv" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int fd = ml_proc_openat(p, names[i], O_RDONLY);
		ck_assert_msg(fd >= 0, "%s: %d", names[i], fd);
		unsigned char buf[64];
		off_t at = !strcmp(names[i], "mem") ? (off_t)l.addr
			   : !strcmp(names[i], "pagemap") ? (off_t)(l.addr / 4096 * 8) : 0;
		ssize_t n = pread(fd, buf, sizeof(buf), at);
		close(fd);
		ck_assert_msg(n == (ssize_t)sizeof(buf), "%s opened through exited thread %d: read %zd (%s)", names[i],
			      (int)via, n, n < 0 ? strerror(errno) : "EOF");
		if (!strcmp(names[i], "mem"))
			ck_assert_int_eq(buf[0], mlt_page_pattern(l.addr));
	}
	ck_assert_int_ne(via_tid(p), via);
	release_held(&l, via);
	ml_proc_free(p);
	mlt_child_free(l.c);
}
END_TEST

/* A handle opened once the main thread had exited has its sentinel on that thread's empty
 * maps. A thread then execs (the main thread's PID runs again), and the new image's main
 * thread exits in turn (state Z again, other threads running): the handle must still end,
 * not read the new image as the old. */
START_TEST(exec_then_main_exit_again_ends_a_handle_opened_after_the_exit)
{
	leaderless l = start("2");
	main_exit(&l);
	/* one opened, one lazy and then released and read again: both after the exit */
	ml_proc *p[2];
	ck_assert_int_eq(ml_proc_open(l.c->pid, &p[0]), 0);
	ck_assert_int_eq(ml_proc_open_lazy(l.c->pid, &p[1]), 0);
	for (int i = 0; i < 2; i++) {
		check_address_space(p[i], &l);
		ck_assert_int_eq(ml_proc_check(p[i]), 0);
	}
	ck_assert_int_eq(ml_proc_release(p[1]), 0);
	ml_maps *m;
	ck_assert_int_eq(ml_maps_read(p[1], ML_MAPS_AUTO, &m), 0); /* materialised again */
	ml_maps_free(m);

	char *self = mlt_helper_path("ml_leaderless");
	const char *ans = mlt_cmd(l.c, "exec %s", self);
	free(self);
	ck_assert_ptr_nonnull(ans);
	ck_assert_msg(!strncmp(ans, "ready", 5), "exec: %s", ans);
	uint64_t new_addr = mlt_kv(ans, "addr");
	ck_assert_uint_ne(mlt_cmd_u64(l.c, "tid", "main_exit"), 0);
	ck_assert_int_eq(leader_state(l.c->pid), 'Z');
	for (int i = 0; i < 2; i++) {
		ck_assert_msg(ml_proc_check(p[i]) == -ESRCH, "%s handle: the new image's leader exited and it reads on",
			      i ? "released" : "open");
		ck_assert_int_eq(ml_maps_read(p[i], ML_MAPS_AUTO, &m), -ESRCH);
		unsigned char b;
		ck_assert_int_eq(ml_mem_read(p[i], new_addr, &b, 1), -ESRCH);
		ml_proc_free(p[i]);
	}
	mlt_child_free(l.c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("proc_leader_exited");
	TCase *tc = tcase_create("leader-exited");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, opened_after_the_main_thread_exited);
	tcase_add_test(tc, opened_before_the_main_thread_exited);
	tcase_add_test(tc, moves_on_when_its_thread_exits);
	tcase_add_test(tc, shared_by_reader_threads_while_threads_exit);
	tcase_add_test(tc, exec_by_a_thread_ends_the_handle);
	tcase_add_test(tc, then_a_zombie_is_gone);
	tcase_add_test(tc, a_blocked_open_does_not_hold_up_other_readers);
	tcase_add_test(tc, memory_reads_leave_a_lazy_handle_lazy);
	tcase_add_test(tc, fds_listing_cut_short_by_its_thread_says_so);
	tcase_add_test(tc, fds_iterator_whose_reopen_failed_has_ended);
	tcase_add_test(tc, openat_through_a_thread_that_has_exited_since);
	tcase_add_test(tc, exec_then_main_exit_again_ends_a_handle_opened_after_the_exit);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
