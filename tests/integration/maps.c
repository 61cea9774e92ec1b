/* maps and smaps against real children: both readers agree, odd names survive, torn reads, accounting. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "mltest.h"

static mlt_child *mapper(void) { return mlt_spawn("ml_mapper", NULL); }

static ml_proc *open_child(mlt_child *c)
{
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	return p;
}

static bool have_query(ml_proc *p)
{
	ml_maps *m;
	int r = ml_maps_read(p, ML_MAPS_PROCMAP_QUERY, &m);
	if (r == -EOPNOTSUPP)
		return false;
	ck_assert_int_eq(r, 0);
	ml_maps_free(m);
	return true;
}

static void check_sorted(const ml_maps *m)
{
	uint64_t prev = 0;
	for (size_t i = 0; i < ml_maps_count(m); i++) {
		const ml_vma *v = ml_maps_get(m, i);
		ck_assert_msg(v->start >= prev && v->end > v->start, "record %zu out of order", i);
		prev = v->end;
	}
}

/* The records of both paths must be the same, field by field (build IDs aside). */
static void assert_same(const ml_maps *a, const ml_maps *b)
{
	ck_assert_uint_eq(ml_maps_count(a), ml_maps_count(b));
	for (size_t i = 0; i < ml_maps_count(a); i++) {
		const ml_vma *x = ml_maps_get(a, i), *y = ml_maps_get(b, i);
		ck_assert_msg(x->start == y->start && x->end == y->end, "range %zu: %llx-%llx vs %llx-%llx", i,
			      (unsigned long long)x->start, (unsigned long long)x->end,
			      (unsigned long long)y->start, (unsigned long long)y->end);
		ck_assert_uint_eq(x->offset, y->offset);
		ck_assert_uint_eq(x->inode, y->inode);
		ck_assert_uint_eq(x->dev_major, y->dev_major);
		ck_assert_uint_eq(x->dev_minor, y->dev_minor);
		ck_assert_uint_eq(x->perms, y->perms);
		ck_assert_int_eq(x->kind, y->kind);
		ck_assert_int_eq(x->deleted, y->deleted);
		ck_assert_int_eq(x->name_uncertain, y->name_uncertain);
		ck_assert_uint_eq(x->name_len, y->name_len);
		ck_assert_msg(memcmp(x->name, y->name, x->name_len) == 0, "name %zu: '%s' vs '%s'", i, x->name,
			      y->name);
	}
}

static char *hex(const char *s, size_t n)
{
	char *h = malloc(2 * n + 1);
	for (size_t i = 0; i < n; i++)
		sprintf(h + 2 * i, "%02x", (unsigned char)s[i]);
	h[2 * n] = '\0';
	return h;
}

typedef struct oddfile {
	const char *name;
	size_t len;
	bool unlink;
	uint64_t addr, ino;
} oddfile;

#define ODD(lit, ul) { lit, sizeof(lit) - 1, ul, 0, 0 }

static char tmpdir[256];

static void rm_tmpdir(void) { mlt_rmtree(tmpdir); }

START_TEST(both_paths_agree_on_odd_names)
{
	oddfile files[] = {
		ODD("sp ace  ", false),        ODD("new\nline", false),
		ODD("bad\xff\xfe utf8", false), ODD("real (deleted)", false),
		ODD("gone", true),             ODD("gone too (deleted)", true),
		ODD("back\\012slash", false),  ODD("both\\012and\nnl", false),
	};
	mlt_mkdtemp(tmpdir, sizeof(tmpdir), "ml_maps_");
	mlt_child *c = mapper();
	size_t nfiles = sizeof(files) / sizeof(files[0]);
	for (size_t i = 0; i < nfiles; i++) {
		char *h = hex(files[i].name, files[i].len);
		const char *a = mlt_cmd_ok(c, "mapfile %s %s 8192 %s", tmpdir, h, files[i].unlink ? "unlink" : "");
		files[i].addr = mlt_kv(a, "addr");
		files[i].ino = mlt_kv(a, "ino");
		free(h);
	}
	uint64_t shm = mlt_kv(mlt_cmd_ok(c, "shmanon 65536"), "addr");
	uint64_t mfd = mlt_kv(mlt_cmd_ok(c, "memfd my_buf 65536"), "addr");
	uint64_t sysv = mlt_kv(mlt_cmd_ok(c, "sysv 65536"), "addr");
	ml_proc *p = open_child(c);
	if (!have_query(p))
		mlt_skip("PROCMAP_QUERY is not available on this kernel (Linux 6.11+)");
	ml_maps *t, *q, *a;
	ck_assert_int_eq(ml_maps_read(p, ML_MAPS_TEXT, &t), 0);
	ck_assert_int_eq(ml_maps_read(p, ML_MAPS_PROCMAP_QUERY, &q), 0);
	ck_assert_int_eq(ml_maps_read(p, ML_MAPS_AUTO, &a), 0);
	ck_assert_int_eq(ml_maps_origin(t), ML_MAPS_TEXT);
	ck_assert_int_eq(ml_maps_origin(q), ML_MAPS_PROCMAP_QUERY);
	ck_assert_int_eq(ml_maps_origin(a), ML_MAPS_PROCMAP_QUERY);
	check_sorted(t);
	check_sorted(q);
	assert_same(t, q);
	assert_same(a, q);
	/* the default reader gets the same build IDs as a full ioctl walk */
	for (size_t i = 0; i < ml_maps_count(q); i++) {
		const ml_vma *x = ml_maps_get(a, i), *y = ml_maps_get(q, i);
		ck_assert_uint_eq(x->build_id_len, y->build_id_len);
		ck_assert(memcmp(x->build_id, y->build_id, x->build_id_len) == 0);
	}

	for (size_t i = 0; i < nfiles; i++) {
		for (int path = 0; path < 2; path++) {
			const ml_vma *v = ml_maps_find(path ? q : t, files[i].addr);
			ck_assert_ptr_nonnull(v);
			char want[512];
			size_t wl = (size_t)snprintf(want, sizeof(want), "%s/", tmpdir);
			memcpy(want + wl, files[i].name, files[i].len);
			wl += files[i].len;
			ck_assert_msg(v->name_len == wl && memcmp(v->name, want, wl) == 0, "file %zu: got '%s'", i,
				      v->name);
			ck_assert_int_eq(v->deleted, files[i].unlink);
			ck_assert_int_eq(v->kind, ML_VMA_FILE);
			ck_assert_uint_eq(v->inode, files[i].ino);
			ck_assert(!v->name_uncertain);
		}
	}
	const ml_vma *v = ml_maps_find(q, shm);
	ck_assert_str_eq(v->name, "/dev/zero");
	ck_assert(v->deleted);
	ck_assert_int_eq(v->kind, ML_VMA_SHMEM);
	ck_assert_uint_eq(v->perms, ML_PERM_READ | ML_PERM_WRITE | ML_PERM_SHARED);
	v = ml_maps_find(q, mfd);
	ck_assert_str_eq(v->name, "/memfd:my_buf");
	ck_assert_int_eq(v->kind, ML_VMA_MEMFD);
	v = ml_maps_find(q, sysv);
	ck_assert_int_eq(v->kind, ML_VMA_SYSV);
	ck_assert(strncmp(v->name, "/SYSV", 5) == 0);

	/* the special mappings, the build ID of the executable, and [vsyscall] on both paths */
	bool exe_bid = false, vclock = false, vsys_t = false, vsys_q = false, heap = false, stack = false;
	for (size_t i = 0; i < ml_maps_count(q); i++) {
		const ml_vma *x = ml_maps_get(q, i);
		if (x->kind == ML_VMA_FILE && strstr(x->name, "/ml_mapper") && x->build_id_len == 20)
			exe_bid = true;
		vclock |= x->kind == ML_VMA_VVAR && !strcmp(x->name, "[vvar_vclock]");
		vsys_q |= x->kind == ML_VMA_VSYSCALL;
		vsys_t |= ml_maps_get(t, i)->kind == ML_VMA_VSYSCALL;
		heap |= x->kind == ML_VMA_HEAP;
		stack |= x->kind == ML_VMA_STACK;
		ck_assert_uint_eq(ml_maps_get(t, i)->build_id_len, 0);
	}
	ck_assert(exe_bid);
	ck_assert(stack);
	(void)heap; /* a child that never called malloc past its first brk may have none */
	char *self;
	size_t len;
	ck_assert_int_eq(ml_proc_read_file(p, "maps", &self, &len), 0);
	ck_assert_int_eq(vsys_t, strstr(self, "[vsyscall]") != NULL);
	ck_assert_int_eq(vsys_q, vsys_t);
	ck_assert_int_eq(vclock, strstr(self, "[vvar_vclock]") != NULL);
	free(self);
	ml_maps_free(t);
	ml_maps_free(q);
	ml_maps_free(a);
	ml_proc_free(p);
	mlt_child_free(c);
	rm_tmpdir();
}
END_TEST

START_TEST(torn_reads_keep_invariants)
{
	mlt_child *c = mapper();
	/* enough mappings that the text takes many read() calls, so churn tears it */
	mlt_cmd_ok(c, "fill 3000");
	const char *st = mlt_cmd_ok(c, "stable 16");
	uint64_t stable[16];
	for (int i = 0; i < 16; i++) {
		char key[8];
		snprintf(key, sizeof(key), "a%d", i);
		stable[i] = mlt_kv(st, key);
		ck_assert_uint_ne(stable[i], 0);
	}
	mlt_cmd_ok(c, "churn");
	ml_proc *p = open_child(c);
	for (int round = 0; round < 150; round++) {
		ml_maps *m;
		ml_maps_source how = round % 2 ? ML_MAPS_TEXT : ML_MAPS_AUTO;
		ck_assert_int_eq(ml_maps_read(p, how, &m), 0);
		check_sorted(m);
		ck_assert_uint_ge(ml_maps_count(m), 16 + 100); /* fill pages merge while flipped */
		for (int i = 0; i < 16; i++) {
			const ml_vma *v = ml_maps_find(m, stable[i]);
			ck_assert_ptr_nonnull(v);
			ck_assert_uint_eq(v->start, stable[i]);
			ck_assert_uint_eq(v->end, stable[i] + 4096);
			ck_assert_uint_eq(v->perms, i % 2 ? ML_PERM_READ : ML_PERM_READ | ML_PERM_WRITE);
		}
		ml_maps_free(m);
		if (round % 10 == 0) {
			ml_smaps *s;
			ck_assert_int_eq(ml_smaps_read(p, &s), 0);
			uint64_t prev = 0;
			for (size_t i = 0; i < ml_smaps_count(s); i++) {
				ck_assert_uint_ge(ml_smaps_get(s, i)->vma.start, prev);
				prev = ml_smaps_get(s, i)->vma.end;
			}
			for (int i = 0; i < 16; i++)
				ck_assert_ptr_nonnull(ml_smaps_find(s, stable[i]));
			ml_smaps_free(s);
		}
	}
	/* how often did the raw text come back torn (out of order or overlapping)? The
	 * kernel decides; the count is printed, the invariants above are the test */
	int torn = 0;
	for (int round = 0; round < 50; round++) {
		char *txt;
		size_t len;
		ck_assert_int_eq(ml_proc_read_file(p, "maps", &txt, &len), 0);
		uint64_t prev = 0;
		bool bad = false;
		for (const char *l = txt; l && l < txt + len; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
			unsigned long long s0, e0;
			if (sscanf(l, "%llx-%llx", &s0, &e0) == 2) {
				bad |= s0 < prev;
				prev = e0;
			}
		}
		torn += bad;
		free(txt);
	}
	printf("torn raw reads while churning: %d of 50\n", torn);
	const char *rounds = mlt_cmd_ok(c, "stop");
	ck_assert_uint_gt(mlt_kv(rounds, "rounds"), 0);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

/* Checks one listing's view of the named (or unnamed) range at @a. */
static void check_named(const ml_vma *v, const ml_vma *rest, uint64_t a, bool named)
{
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(v->start, a);
	if (named) {
		ck_assert_uint_eq(v->end, a + 0x8000);
		ck_assert_str_eq(v->name, "[anon:ml arena 1]");
		ck_assert_int_eq(v->kind, ML_VMA_ANON_NAMED);
		/* the unnamed rest of the mapping is a mapping of its own, without a name */
		ck_assert_ptr_nonnull(rest);
		ck_assert_uint_eq(rest->start, a + 0x8000);
		ck_assert_uint_eq(rest->end, a + 0x10000);
		ck_assert_uint_eq(rest->name_len, 0);
		ck_assert_int_eq(rest->kind, ML_VMA_ANON);
	} else {
		ck_assert_uint_eq(v->end, a + 0x10000);
		ck_assert_uint_eq(v->name_len, 0);
		ck_assert_int_eq(v->kind, ML_VMA_ANON);
	}
}

/* A named anonymous range (prctl PR_SET_VMA_ANON_NAME, CONFIG_ANON_VMA_NAME, Linux 5.17):
 * "[anon:NAME]" in maps, smaps and PROCMAP_QUERY alike, of kind anon-named. Where the kernel
 * refuses the name (EINVAL) the range stays one plain anonymous mapping, and nothing makes
 * a name up. */
START_TEST(anon_vma_names_as_the_kernel_has_them)
{
	mlt_child *c = mapper();
	uint64_t a = mlt_kv(mlt_cmd_ok(c, "map 0x10000 rw"), "addr");
	char *h = hex("ml arena 1", 10);
	const char *ans = mlt_cmd(c, "name 0x%llx 0x8000 %s", (unsigned long long)a, h);
	free(h);
	bool named = !strncmp(ans, "ok", 2);
	ck_assert_msg(named || !strcmp(ans, "err errno=22"), "PR_SET_VMA_ANON_NAME: %s", ans);
	printf("anonymous mapping names: %s\n",
	       named ? "the kernel keeps them" : "refused (EINVAL: kernel without CONFIG_ANON_VMA_NAME)");
	ml_proc *p = open_child(c);
	ml_maps *t;
	ck_assert_int_eq(ml_maps_read(p, ML_MAPS_TEXT, &t), 0);
	check_named(ml_maps_find(t, a), ml_maps_find(t, a + 0x8000), a, named);
	ml_smaps *s;
	ck_assert_int_eq(ml_smaps_read(p, &s), 0);
	const ml_smaps_vma *sv = ml_smaps_find(s, a), *sr = ml_smaps_find(s, a + 0x8000);
	check_named(&sv->vma, sr ? &sr->vma : NULL, a, named);
	if (have_query(p)) {
		ml_maps *q;
		ck_assert_int_eq(ml_maps_read(p, ML_MAPS_PROCMAP_QUERY, &q), 0);
		check_named(ml_maps_find(q, a), ml_maps_find(q, a + 0x8000), a, named);
		ml_maps_free(q);
	}
	ml_smaps_free(s);
	ml_maps_free(t);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

START_TEST(smaps_accounts_what_the_child_did)
{
	mlt_child *c = mapper();
	uint64_t a = mlt_kv(mlt_cmd_ok(c, "map 0x800000 rw"), "addr");
	mlt_cmd_ok(c, "touch 0x%llx 0x300000 4096", (unsigned long long)a);
	uint64_t shm = mlt_kv(mlt_cmd_ok(c, "shmanon 0x100000"), "addr");
	uint64_t thp = mlt_kv(mlt_cmd_ok(c, "thp 0x800000"), "addr");
	ml_proc *p = open_child(c);
	ml_smaps *s;
	ck_assert_int_eq(ml_smaps_read(p, &s), 0);
	const ml_smaps_vma *v = ml_smaps_find(s, a);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(v->vma.start, a);
	ck_assert_uint_eq(v->f.size, 0x800000);
	ck_assert_uint_eq(v->vma.end - v->vma.start, 0x800000);
	ck_assert_uint_eq(v->f.rss, 0x300000);
	ck_assert_uint_eq(v->f.anonymous, 0x300000);
	ck_assert_uint_eq(v->f.private_dirty, 0x300000);
	ck_assert_uint_eq(v->f.pss, 0x300000);
	ck_assert_uint_eq(v->f.swap, 0);
	ck_assert(v->vm_flags & ML_VMF_RD && v->vm_flags & ML_VMF_WR);
	ck_assert(!(v->vm_flags & ML_VMF_UNKNOWN));
	ck_assert_uint_eq(ml_smaps_uss(&v->f), 0x300000);

	v = ml_smaps_find(s, shm);
	ck_assert_int_eq(v->vma.kind, ML_VMA_SHMEM);
	ck_assert_uint_eq(v->f.rss, 0x100000);
	ck_assert(v->vm_flags & ML_VMF_SH);

	v = ml_smaps_find(s, thp);
	ck_assert_uint_eq(v->f.rss, 0x800000);
	ck_assert(v->vm_flags & ML_VMF_HG);
	/* asked for huge pages: eligible where the system allows them at all */
	bool thp_on = mlt_thp_possible(NULL);
	ck_assert_int_eq(v->thp_eligible, thp_on ? 1 : 0);
	ck_assert_uint_le(v->f.anon_huge_pages, thp_on ? v->f.rss : 0);
	ck_assert_uint_eq(v->f.anon_huge_pages % (2u << 20), 0);

	/* every mapping of maps is in smaps with the same range and name */
	ml_maps *m;
	ck_assert_int_eq(ml_maps_read(p, ML_MAPS_TEXT, &m), 0);
	ck_assert_uint_eq(ml_maps_count(m), ml_smaps_count(s));
	for (size_t i = 0; i < ml_maps_count(m); i++) {
		const ml_vma *x = ml_maps_get(m, i);
		const ml_smaps_vma *y = ml_smaps_match(s, x);
		ck_assert_ptr_nonnull(y);
		ck_assert_ptr_eq(y, ml_smaps_find(s, x->start));
		ck_assert_uint_eq(y->vma.end, x->end);
		ck_assert_uint_eq(y->f.size, x->end - x->start);
		ck_assert_int_eq(y->vma.kind, x->kind);
	}
	ml_maps_free(m);

	/* the child is idle: the sum of smaps Rss is the rollup's (retry if a shared file
	 * page moved between the two reads) */
	bool equal = false;
	for (int tries = 0; tries < 5 && !equal; tries++) {
		ml_smaps *s2;
		ml_smaps_rollup *r;
		ck_assert_int_eq(ml_smaps_read(p, &s2), 0);
		ck_assert_int_eq(ml_smaps_rollup_read(p, &r), 0);
		ml_smaps_fields t;
		ml_smaps_total(s2, &t);
		equal = t.rss == r->f.rss && t.anonymous == r->f.anonymous && t.swap == r->f.swap &&
			t.private_dirty == r->f.private_dirty;
		ck_assert(r->f.present & (1ull << ML_SMAPS_PSS_ANON));
		ck_assert_uint_eq(r->start, ml_smaps_get(s2, 0)->vma.start);
		ml_smaps_rollup_free(r);
		ml_smaps_free(s2);
	}
	ck_assert(equal);
	ml_smaps_free(s);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

START_TEST(gone_processes_give_esrch)
{
	mlt_child *c = mapper();
	ml_proc *p = open_child(c);
	mlt_cmd(c, "exit 0");
	mlt_wait_zombie(c);
	ml_maps *m = NULL;
	ml_smaps *s = NULL;
	ml_smaps_rollup *r = NULL;
	ck_assert_int_eq(ml_maps_read(p, ML_MAPS_AUTO, &m), -ESRCH);
	ck_assert_int_eq(ml_maps_read(p, ML_MAPS_TEXT, &m), -ESRCH);
	ck_assert_int_eq(ml_maps_read(p, ML_MAPS_PROCMAP_QUERY, &m), -ESRCH);
	ck_assert_int_eq(ml_smaps_read(p, &s), -ESRCH);
	ck_assert_int_eq(ml_smaps_rollup_read(p, &r), -ESRCH);
	mlt_wait(c);
	ck_assert_int_eq(ml_maps_read(p, ML_MAPS_AUTO, &m), -ESRCH);
	ck_assert_int_eq(ml_maps_read(p, ML_MAPS_TEXT, &m), -ESRCH);
	ck_assert_int_eq(ml_smaps_read(p, &s), -ESRCH);
	ck_assert_int_eq(ml_smaps_rollup_read(p, &r), -ESRCH);
	ck_assert_ptr_null(m);
	ck_assert_ptr_null(s);
	ck_assert_ptr_null(r);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

START_TEST(kernel_thread_has_empty_maps)
{
	char comm[64] = "";
	FILE *f = fopen("/proc/2/comm", "r");
	if (!f || !fgets(comm, sizeof(comm), f) || strncmp(comm, "kthreadd", 8) != 0)
		mlt_skip("no kthreadd at PID 2 in this PID namespace");
	fclose(f);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(2, &p), 0);
	for (int how = ML_MAPS_AUTO; how <= ML_MAPS_PROCMAP_QUERY; how++) {
		ml_maps *m;
		ck_assert_int_eq(ml_maps_read(p, (ml_maps_source)how, &m), 0);
		ck_assert_uint_eq(ml_maps_count(m), 0);
		ml_maps_free(m);
	}
	ml_smaps *s;
	ck_assert_int_eq(ml_smaps_read(p, &s), 0);
	ck_assert_uint_eq(ml_smaps_count(s), 0);
	ml_smaps_free(s);
	ml_smaps_rollup *r;
	ck_assert_int_eq(ml_smaps_rollup_read(p, &r), 0);
	ck_assert_uint_eq(r->f.present, 0);
	ck_assert_uint_eq(r->f.rss, 0);
	ml_smaps_rollup_free(r);
	ml_proc_free(p);
}
END_TEST

START_TEST(source_gives_the_same_maps)
{
	mlt_child *c = mapper();
	ml_proc *p = open_child(c);
	ml_source *src;
	char spec[32];
	snprintf(spec, sizeof(spec), "%d", (int)c->pid);
	ck_assert_int_eq(ml_source_open(spec, &src), 0);
	ml_maps *a, *b;
	ck_assert_int_eq(ml_source_maps(src, &a), 0);
	ck_assert_int_eq(ml_maps_read(p, ML_MAPS_AUTO, &b), 0);
	assert_same(a, b);
	ml_maps_free(a);
	ml_maps_free(b);
	ml_source_free(src);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

/* An unprivileged owner gets exact names from both live readers; parsed text alone is
 * marked uncertain. */
START_TEST(unprivileged_names)
{
	if (getuid() != 0)
		mlt_skip("needs root to switch to an unprivileged user");
	char dir[] = "/tmp/ml_mapsunpriv_XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	chmod(dir, 0777);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(10);
		char path[128];
		snprintf(path, sizeof(path), "%s/a\\012b", dir); /* a literal backslash */
		int fd = open(path, O_RDWR | O_CREAT, 0600);
		if (fd < 0 || ftruncate(fd, 4096) < 0)
			_exit(11);
		void *m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m == MAP_FAILED)
			_exit(12);
		ml_proc *p;
		ml_maps *t, *a;
		if (ml_proc_self(&p) || ml_maps_read(p, ML_MAPS_TEXT, &t) || ml_maps_read(p, ML_MAPS_AUTO, &a))
			_exit(13);
		const ml_vma *vt = ml_maps_find(t, (uintptr_t)m), *va = ml_maps_find(a, (uintptr_t)m);
		size_t dl = strlen(dir);
		/* both exact: the text path reads map_files/ (allowed to the owner on this
		 * kernel), the default one asks PROCMAP_QUERY */
		if (!vt || vt->name_uncertain || vt->name_len != dl + 7 || memcmp(vt->name + dl, "/a\\012b", 7))
			_exit(14);
		bool query = ml_maps_origin(a) == ML_MAPS_PROCMAP_QUERY;
		if (query && (!va || va->name_uncertain || va->name_len != dl + 7 || memcmp(va->name + dl, "/a\\012b", 7)))
			_exit(15);
		/* and pure text, with nothing to check against, can only guess and says so */
		char *txt;
		size_t tl;
		ml_maps *pt;
		if (ml_proc_read_file(p, "maps", &txt, &tl) || ml_maps_parse(txt, tl, &pt))
			_exit(17);
		const ml_vma *vp = ml_maps_find(pt, (uintptr_t)m);
		if (!vp || !vp->name_uncertain || vp->name_len != dl + 4 || memcmp(vp->name + dl, "/a\nb", 4))
			_exit(18);
		unlink(path);
		_exit(query ? 0 : 16);
	}
	int st;
	waitpid(pid, &st, 0);
	rmdir(dir);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 16)
		mlt_skip("PROCMAP_QUERY is not available on this kernel");
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "unprivileged child failed: status 0x%x", st);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("maps");
	TCase *tc = tcase_create("live");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, both_paths_agree_on_odd_names);
	tcase_add_test(tc, torn_reads_keep_invariants);
	tcase_add_test(tc, smaps_accounts_what_the_child_did);
	tcase_add_test(tc, anon_vma_names_as_the_kernel_has_them);
	tcase_add_test(tc, gone_processes_give_esrch);
	tcase_add_test(tc, kernel_thread_has_empty_maps);
	tcase_add_test(tc, source_gives_the_same_maps);
	tcase_add_test(tc, unprivileged_names);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
