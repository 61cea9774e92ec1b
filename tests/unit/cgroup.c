/* cgroup parser and directory resolution against captured fixtures and edge cases. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "mltest.h"

static char *slurp(const char *rel, size_t *len)
{
	return mlt_read_fixture(rel, len);
}

/* The first line of a fixture file, without its newline. */
static char *first_line(const char *rel)
{
	size_t len;
	char *s = slurp(rel, &len);
	s[strcspn(s, "\n")] = '\0';
	return s;
}

static ml_cgroups *parse(const char *text)
{
	ml_cgroups *cg = NULL;
	ck_assert_int_eq(ml_cgroups_parse(text, strlen(text), &cg), 0);
	return cg;
}

START_TEST(fixture_hybrid_hierarchy)
{
	size_t len;
	char *buf = slurp("net-child/cgroup", &len);
	ml_cgroups *cg;
	ck_assert_int_eq(ml_cgroups_parse(buf, len, &cg), 0);
	ck_assert_uint_eq(ml_cgroups_count(cg), 10);
	const ml_cgroup *v2 = ml_cgroups_v2(cg);
	ck_assert_ptr_nonnull(v2);
	ck_assert_uint_eq(v2->hierarchy, 0);
	ck_assert_uint_eq(v2->nnames, 0);
	ck_assert_str_eq(v2->controllers, "");
	char *want = first_line("net-child/cgroup-v2-path.txt");
	ck_assert_str_eq(v2->path, want); /* "/memlens capture PID": spaces kept */
	ck_assert_uint_eq(v2->path_len, strlen(want));
	ck_assert(!v2->deleted);
	free(want);

	const ml_cgroup *mem = ml_cgroups_v1(cg, "memory");
	ck_assert_ptr_nonnull(mem);
	ck_assert_uint_eq(mem->hierarchy, 4);
	ck_assert(!mem->v2);
	ck_assert_ptr_nonnull(strstr(mem->path, "/memlens-capture-"));
	const ml_cgroup *sd = ml_cgroups_v1(cg, "name=systemd");
	ck_assert_ptr_nonnull(sd);
	ck_assert_uint_eq(sd->hierarchy, 9);
	ck_assert_str_eq(sd->path, "/");
	ck_assert_ptr_null(ml_cgroups_v1(cg, "hugetlb"));
	/* order is the kernel's */
	ck_assert_uint_eq(ml_cgroups_get(cg, 0)->hierarchy, 9);
	ck_assert_ptr_null(ml_cgroups_get(cg, 10));
	ml_cgroups_free(cg);
	free(buf);
}
END_TEST

START_TEST(controller_lists_split)
{
	ml_cgroups *cg = parse("3:cpu,cpuacct:/a/b\n2:rdma:/\n1:name=systemd,:/user.slice\n");
	const ml_cgroup *c = ml_cgroups_get(cg, 0);
	ck_assert_uint_eq(c->nnames, 2);
	ck_assert_str_eq(c->names[0], "cpu");
	ck_assert_str_eq(c->names[1], "cpuacct");
	ck_assert_str_eq(c->controllers, "cpu,cpuacct");
	ck_assert_str_eq(c->path, "/a/b");
	ck_assert_ptr_eq(ml_cgroups_v1(cg, "cpuacct"), c);
	ck_assert_uint_eq(ml_cgroups_get(cg, 2)->nnames, 1); /* empty element dropped */
	ck_assert_ptr_null(ml_cgroups_v2(cg));
	ml_cgroups_free(cg);
}
END_TEST

START_TEST(paths_are_bytes)
{
	/* the kernel prints paths raw: ':' and high bytes are part of the path */
	const char text[] = "0::/a:b/\xff\xfe x\n";
	ml_cgroups *cg = parse(text);
	const ml_cgroup *c = ml_cgroups_v2(cg);
	ck_assert_uint_eq(c->path_len, 9);
	ck_assert(!memcmp(c->path, "/a:b/\xff\xfe x", 9));
	ml_cgroups_free(cg);
	/* no trailing newline, and a NUL inside the input is just a byte */
	const char nul[] = "0::/a\0b";
	ck_assert_int_eq(ml_cgroups_parse(nul, sizeof(nul) - 1, &cg), 0);
	ck_assert_uint_eq(ml_cgroups_v2(cg)->path_len, 4);
	ck_assert(!memcmp(ml_cgroups_v2(cg)->path, "/a\0b", 4));
	ml_cgroups_free(cg);
}
END_TEST

START_TEST(deleted_and_continuations)
{
	ml_cgroups *cg = parse("0::/gone (deleted)\n");
	ck_assert(ml_cgroups_v2(cg)->deleted);
	ck_assert_str_eq(ml_cgroups_v2(cg)->path, "/gone");
	ml_cgroups_free(cg);
	/* " (deleted)" is only the kernel's on the v2 line */
	cg = parse("4:memory:/x (deleted)\n");
	ck_assert(!ml_cgroups_get(cg, 0)->deleted);
	ck_assert_str_eq(ml_cgroups_get(cg, 0)->path, "/x (deleted)");
	ml_cgroups_free(cg);
	/* a line that is not "N:..." continues the previous path (which held a newline) */
	cg = parse("1:cpu:/a\nb c\n0::/z\n");
	ck_assert_uint_eq(ml_cgroups_count(cg), 2);
	ck_assert_uint_eq(ml_cgroups_get(cg, 0)->path_len, 6);
	ck_assert(!memcmp(ml_cgroups_get(cg, 0)->path, "/a\nb c", 7));
	ck_assert_str_eq(ml_cgroups_get(cg, 1)->path, "/z");
	ml_cgroups_free(cg);
}
END_TEST

START_TEST(malformed_input)
{
	ml_cgroups *cg = (ml_cgroups *)0x1;
	ck_assert_int_eq(ml_cgroups_parse("junk\n", 5, &cg), -EBADMSG);
	ck_assert_int_eq(ml_cgroups_parse("1:cpu\n", 6, &cg), -EBADMSG);
	ck_assert_int_eq(ml_cgroups_parse("x1::/\n", 6, &cg), -EBADMSG);
	ck_assert_int_eq(ml_cgroups_parse("99999999999::/\n", 15, &cg), -EBADMSG);
	ck_assert_ptr_eq(cg, (ml_cgroups *)0x1);
	ck_assert_int_eq(ml_cgroups_parse(NULL, 3, &cg), -EINVAL);
	ck_assert_int_eq(ml_cgroups_parse("", 0, NULL), -EINVAL);
	/* empty input: no cgroups, not an error */
	ck_assert_int_eq(ml_cgroups_parse("", 0, &cg), 0);
	ck_assert_uint_eq(ml_cgroups_count(cg), 0);
	ck_assert_ptr_null(ml_cgroups_v2(cg));
	ml_cgroups_free(cg);
	ml_cgroups_free(NULL);
}
END_TEST

static ml_mountinfo *fixture_mounts(void)
{
	size_t len;
	char *buf = slurp("net-child/mountinfo", &len);
	ml_mountinfo *mi;
	ck_assert_int_eq(ml_mountinfo_parse(buf, len, &mi), 0);
	free(buf);
	return mi;
}

START_TEST(dir_from_fixture_mounts)
{
	size_t len;
	char *buf = slurp("net-child/cgroup", &len);
	ml_cgroups *cg;
	ck_assert_int_eq(ml_cgroups_parse(buf, len, &cg), 0);
	ml_mountinfo *mi = fixture_mounts();
	char *dir;
	size_t dl;
	ck_assert_int_eq(ml_cgroup_dir(ml_cgroups_v2(cg), mi, &dir, &dl), 0);
	char *want = first_line("net-child/cgroup-v2-path.txt");
	char full[4096];
	snprintf(full, sizeof(full), "/sys/fs/cgroup/unified%s", want);
	ck_assert_str_eq(dir, full);
	ck_assert_uint_eq(dl, strlen(full));
	free(dir);
	ck_assert_int_eq(ml_cgroup_dir(ml_cgroups_v1(cg, "memory"), mi, &dir, &dl), 0);
	snprintf(full, sizeof(full), "/sys/fs/cgroup/memory%s", ml_cgroups_v1(cg, "memory")->path);
	ck_assert_str_eq(dir, full);
	free(dir);
	/* "cpu" must not resolve to the "cpuacct" mount */
	ck_assert_int_eq(ml_cgroup_dir(ml_cgroups_v1(cg, "cpu"), mi, &dir, &dl), 0);
	ck_assert_str_eq(dir, "/sys/fs/cgroup/cpu");
	free(dir);
	ck_assert_int_eq(ml_cgroup_dir(ml_cgroups_v1(cg, "name=systemd"), mi, &dir, &dl), 0);
	ck_assert_str_eq(dir, "/sys/fs/cgroup/systemd");
	free(dir);
	free(want);
	ml_mountinfo_free(mi);
	ml_cgroups_free(cg);
	free(buf);
}
END_TEST

START_TEST(dir_with_mount_roots)
{
	/* a container's view: the cgroup2 fs is mounted from the subtree /kubepods/pod1 */
	const char mounts[] =
		"30 20 0:26 /kubepods/pod1 /sys/fs/cgroup ro,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
		"31 20 0:27 / /mnt/cg rw - cgroup2 cgroup2 rw\n";
	ml_mountinfo *mi;
	ck_assert_int_eq(ml_mountinfo_parse(mounts, sizeof(mounts) - 1, &mi), 0);
	char *dir;
	size_t dl;
	ml_cgroups *cg = parse("0::/kubepods/pod1/ctr\n");
	ck_assert_int_eq(ml_cgroup_dir(ml_cgroups_v2(cg), mi, &dir, &dl), 0);
	ck_assert_str_eq(dir, "/sys/fs/cgroup/ctr");
	free(dir);
	ml_cgroups_free(cg);
	/* exactly the mount's root */
	cg = parse("0::/kubepods/pod1\n");
	ck_assert_int_eq(ml_cgroup_dir(ml_cgroups_v2(cg), mi, &dir, &dl), 0);
	ck_assert_str_eq(dir, "/sys/fs/cgroup");
	free(dir);
	ml_cgroups_free(cg);
	/* a sibling whose name merely starts like the root goes to the second mount */
	cg = parse("0::/kubepods/pod10/x\n");
	ck_assert_int_eq(ml_cgroup_dir(ml_cgroups_v2(cg), mi, &dir, &dl), 0);
	ck_assert_str_eq(dir, "/mnt/cg/kubepods/pod10/x");
	free(dir);
	ml_cgroups_free(cg);
	/* outside the caller's cgroup namespace: unreachable */
	cg = parse("0::/../../other\n");
	ck_assert_int_eq(ml_cgroup_dir(ml_cgroups_v2(cg), mi, &dir, &dl), -ENOENT);
	ml_cgroups_free(cg);
	/* no v1 mount for the controller */
	cg = parse("4:memory:/a\n");
	ck_assert_int_eq(ml_cgroup_dir(ml_cgroups_get(cg, 0), mi, &dir, &dl), -ENOENT);
	ml_cgroups_free(cg);
	ml_mountinfo_free(mi);
}
END_TEST

START_TEST(value_files)
{
	uint64_t v = 7;
	ck_assert_int_eq(ml_cgroup_value_parse("max\n", 4, &v), 0);
	ck_assert_uint_eq(v, ML_CGROUP_UNLIMITED);
	ck_assert_int_eq(ml_cgroup_value_parse("268435456\n", 10, &v), 0);
	ck_assert_uint_eq(v, 268435456);
	ck_assert_int_eq(ml_cgroup_value_parse("0", 1, &v), 0);
	ck_assert_uint_eq(v, 0);
	v = 7;
	ck_assert_int_eq(ml_cgroup_value_parse("", 0, &v), -EBADMSG);
	ck_assert_int_eq(ml_cgroup_value_parse("12k\n", 4, &v), -EBADMSG);
	ck_assert_int_eq(ml_cgroup_value_parse("-1\n", 3, &v), -EBADMSG);
	ck_assert_int_eq(ml_cgroup_value_parse("maxx", 4, &v), -EBADMSG);
	ck_assert_int_eq(ml_cgroup_value_parse("99999999999999999999", 20, &v), -EBADMSG);
	ck_assert_uint_eq(v, 7);
	/* the v1 limit captured with the fixture */
	size_t len;
	char *buf = slurp("net-child/memory.limit_in_bytes", &len);
	ck_assert_int_eq(ml_cgroup_value_parse(buf, len, &v), 0);
	ck_assert_uint_eq(v, 256u << 20);
	free(buf);
}
END_TEST

START_TEST(keyed_files)
{
	static const char ev[] = "low 0\nhigh 3\nmax 7\noom 2\noom_kill 1\n";
	uint64_t v = 99;
	ck_assert_int_eq(ml_cgroup_keyed_parse(ev, sizeof(ev) - 1, "oom", &v), 0);
	ck_assert_uint_eq(v, 2); /* not oom_kill's */
	ck_assert_int_eq(ml_cgroup_keyed_parse(ev, sizeof(ev) - 1, "oom_kill", &v), 0);
	ck_assert_uint_eq(v, 1);
	ck_assert_int_eq(ml_cgroup_keyed_parse(ev, sizeof(ev) - 1, "max", &v), 0);
	ck_assert_uint_eq(v, 7);
	v = 99;
	ck_assert_int_eq(ml_cgroup_keyed_parse(ev, sizeof(ev) - 1, "oom_group_kill", &v), -ENOENT);
	ck_assert_int_eq(ml_cgroup_keyed_parse(ev, sizeof(ev) - 1, "lo", &v), -ENOENT);
	ck_assert_int_eq(ml_cgroup_keyed_parse("a x\n", 4, "a", &v), -EBADMSG);
	ck_assert_int_eq(ml_cgroup_keyed_parse("a \n", 3, "a", &v), -EBADMSG);
	ck_assert_uint_eq(v, 99);
	/* the last line need not end with a newline; the length bounds the search */
	ck_assert_int_eq(ml_cgroup_keyed_parse("a 1\nb 22", 7, "b", &v), 0);
	ck_assert_uint_eq(v, 2);
	ck_assert_int_eq(ml_cgroup_keyed_parse(NULL, 0, "a", &v), -ENOENT);
	ck_assert_int_eq(ml_cgroup_keyed_parse("a 1", 3, NULL, &v), -EINVAL);
}
END_TEST

START_TEST(reads_through_a_fixture_handle)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/proc/net-child", mlt_fixture_dir());
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open_path(path, &p), 0);
	ml_cgroups *cg;
	ck_assert_int_eq(ml_cgroups_read(p, &cg), 0);
	ck_assert_uint_eq(ml_cgroups_count(cg), 10);
	ml_cgroups_free(cg);
	ck_assert_int_eq(ml_cgroups_read(NULL, &cg), -EINVAL);
	ml_proc_free(p);
}
END_TEST

static void put(const char *dir, const char *name, const char *text)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void rm_tree(const char *root)
{
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(memory_values_from_a_tree)
{
	/* a directory laid out like a cgroup2 mount: /a has a 1 GiB limit, /a/b "max" */
	char root[] = "/tmp/memlens-cg-XXXXXX", dir[256], a[256], mounts[512];
	ck_assert_ptr_nonnull(mkdtemp(root));
	snprintf(a, sizeof(a), "%s/a", root);
	snprintf(dir, sizeof(dir), "%s/a/b c", root);
	ck_assert_int_eq(mkdir(a, 0755), 0);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	put(root, "memory.stat", "");
	put(a, "memory.max", "1073741824\n");
	put(dir, "memory.max", "max\n");
	put(dir, "memory.high", "805306368\n");
	put(dir, "memory.current", "12345678\n");
	put(dir, "memory.swap.max", "0\n");
	put(dir, "memory.peak", "garbage\n");
	put(dir, "memory.events", "low 0\nhigh 3\nmax 7\noom 2\noom_kill 1\noom_group_kill 0\n");
	int n = snprintf(mounts, sizeof(mounts), "9 1 0:99 / %s rw - cgroup2 cgroup2 rw\n", root);
	ml_mountinfo *mi;
	ck_assert_int_eq(ml_mountinfo_parse(mounts, (size_t)n, &mi), 0);
	ml_cgroups *cg = parse("0::/a/b c\n");
	ml_proc *self;
	ck_assert_int_eq(ml_proc_self(&self), 0);
	ML_OPTS(ml_cgroup_memory_opts, o, .mounts = mi, .cgroups = cg);
	ml_cgroup_memory *m;
	ck_assert_int_eq(ml_cgroup_memory_read(self, &o, &m), 0);
	ck_assert_int_eq(m->version, 2);
	ck_assert_str_eq(m->dir, dir);
	ck_assert_str_eq(m->path, "/a/b c");
	ck_assert_int_eq(m->max.err, 0);
	ck_assert_uint_eq(m->max.value, ML_CGROUP_UNLIMITED);
	ck_assert_uint_eq(m->high.value, 805306368);
	ck_assert_uint_eq(m->current.value, 12345678);
	ck_assert_int_eq(m->swap_max.err, 0);
	ck_assert_uint_eq(m->swap_max.value, 0);
	ck_assert_int_eq(m->peak.err, -EBADMSG);
	ck_assert_int_eq(m->low.err, -ENOENT);
	ck_assert_int_eq(m->soft_limit.err, -ENOENT); /* a v1-only file */
	ck_assert_int_eq(m->events_max.err, 0);
	ck_assert_uint_eq(m->events_max.value, 7);
	ck_assert_uint_eq(m->events_oom.value, 2);
	ck_assert_uint_eq(m->events_oom_kill.value, 1);
	/* the parent's limit binds */
	ck_assert_int_eq(m->effective_max.err, 0);
	ck_assert_uint_eq(m->effective_max.value, 1073741824);
	ck_assert_str_eq(m->effective_dir, a);
	ml_cgroup_memory_free(m);
	ml_cgroups_free(cg);
	ml_mountinfo_free(mi);

	/* the same tree as a v1 memory hierarchy: v1 names, v1's "unlimited" */
	put(dir, "memory.limit_in_bytes", "9223372036854771712\n");
	put(dir, "memory.usage_in_bytes", "4096\n");
	put(dir, "memory.memsw.limit_in_bytes", "2147483648\n");
	put(a, "memory.limit_in_bytes", "536870912\n");
	put(dir, "memory.failcnt", "9\n");
	put(dir, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 4\n");
	n = snprintf(mounts, sizeof(mounts), "9 1 0:99 / %s rw - cgroup cgroup rw,memory\n", root);
	ck_assert_int_eq(ml_mountinfo_parse(mounts, (size_t)n, &mi), 0);
	cg = parse("5:memory:/a/b c\n0::/\n");
	o.mounts = mi;
	o.cgroups = cg;
	o.prefer_v1 = true; /* the v2 line could resolve through the /sys/fs/cgroup fallback */
	ck_assert_int_eq(ml_cgroup_memory_read(self, &o, &m), 0);
	ck_assert_int_eq(m->version, 1);
	ck_assert_uint_eq(m->max.value, ML_CGROUP_UNLIMITED);
	ck_assert_uint_eq(m->current.value, 4096);
	ck_assert_uint_eq(m->memsw_max.value, 2147483648u);
	ck_assert_int_eq(m->high.err, -ENOENT);
	ck_assert_uint_eq(m->events_max.value, 9);
	ck_assert_uint_eq(m->events_oom_kill.value, 4);
	ck_assert_int_eq(m->events_oom.err, -ENOENT);
	ck_assert_uint_eq(m->effective_max.value, 536870912);
	ck_assert_str_eq(m->effective_dir, a);
	ml_cgroup_memory_free(m);
	ml_cgroups_free(cg);
	ml_mountinfo_free(mi);

	/* no mount serves the cgroup: -ENOENT, nothing returned */
	cg = parse("0::/a\n");
	ck_assert_int_eq(ml_mountinfo_parse("", 0, &mi), 0);
	o.mounts = mi;
	o.cgroups = cg;
	m = (ml_cgroup_memory *)0x1;
	int r = ml_cgroup_memory_read(self, &o, &m);
	/* the fallback to /sys/fs/cgroup applies only where that is cgroup2 */
	if (r == 0)
		ml_cgroup_memory_free(m);
	else
		ck_assert_int_eq(r, -ENOENT);
	ml_cgroups_free(cg);
	ml_mountinfo_free(mi);
	ck_assert_int_eq(ml_cgroup_memory_read(NULL, NULL, &m), -EINVAL);
	ml_proc_free(self);
	rm_tree(root);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cgroup");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, fixture_hybrid_hierarchy);
	tcase_add_test(tc, controller_lists_split);
	tcase_add_test(tc, paths_are_bytes);
	tcase_add_test(tc, deleted_and_continuations);
	tcase_add_test(tc, malformed_input);
	tcase_add_test(tc, dir_from_fixture_mounts);
	tcase_add_test(tc, dir_with_mount_roots);
	tcase_add_test(tc, value_files);
	tcase_add_test(tc, keyed_files);
	tcase_add_test(tc, reads_through_a_fixture_handle);
	tcase_add_test(tc, memory_values_from_a_tree);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
