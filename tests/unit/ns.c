/* Namespace links: parsing the link text, and reading a fixture tree and the caller itself. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "mltest.h"

START_TEST(parse_link_text)
{
	size_t tl = 99;
	uint64_t ino = 99;
	ck_assert_int_eq(ml_ns_parse_link("net:[4026531833]", 16, &tl, &ino), 0);
	ck_assert_uint_eq(tl, 3);
	ck_assert_uint_eq(ino, 4026531833u);
	ck_assert_int_eq(ml_ns_parse_link("pid_for_children:[1]", 20, &tl, &ino), 0);
	ck_assert_uint_eq(tl, 16);
	ck_assert_uint_eq(ino, 1);
	tl = ino = 99;
	static const char *const bad[] = {
		"", "net", "net:", "net:[", "net:[]", ":[1]", "net:[1", "net:1]", "net:[1]x",
		"net:[x]", "net:[-1]", "net:[ 1]", "net:[99999999999999999999]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(ml_ns_parse_link(bad[i], strlen(bad[i]), &tl, &ino) == -EBADMSG, "%s", bad[i]);
	ck_assert_uint_eq(tl, 99);
	ck_assert_uint_eq(ino, 99);
	/* the length bounds the parse: a valid prefix is not enough */
	ck_assert_int_eq(ml_ns_parse_link("net:[12]", 7, &tl, &ino), -EBADMSG);
	ck_assert_int_eq(ml_ns_parse_link(NULL, 0, &tl, &ino), -EBADMSG);
	ck_assert_int_eq(ml_ns_parse_link(NULL, 3, &tl, &ino), -EINVAL);
	ck_assert_int_eq(ml_ns_parse_link("a:[1]", 5, NULL, &ino), -EINVAL);
}
END_TEST

START_TEST(fixture_tree)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/proc/net-child", mlt_fixture_dir());
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open_path(path, &p), 0);
	ml_namespaces *ns;
	ck_assert_int_eq(ml_namespaces_read(p, &ns), 0);
	ck_assert_uint_eq(ml_namespaces_count(ns), 10);
	/* ns.stat: "ns/NAME DEV INODE" from stat -L on the live child */
	snprintf(path, sizeof(path), "%s/proc/net-child/ns.stat", mlt_fixture_dir());
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	char name[64];
	unsigned long long dev, ino;
	int n = 0;
	while (fscanf(f, "ns/%63s %llu %llu\n", name, &dev, &ino) == 3) {
		const ml_ns *e = ml_namespaces_find(ns, name);
		ck_assert_msg(e != NULL, "%s missing", name);
		ck_assert_int_eq(e->err, 0);
		ck_assert_uint_eq(e->inode, ino);
		/* fixture links are plain symlinks: the device is unknown, not invented */
		ck_assert(!e->dev_known);
		n++;
	}
	fclose(f);
	ck_assert_int_eq(n, 10);
	ck_assert_str_eq(ml_namespaces_find(ns, "pid_for_children")->type, "pid");
	ck_assert_str_eq(ml_namespaces_find(ns, "time_for_children")->type, "time");
	ck_assert(ml_ns_same(ml_namespaces_find(ns, "pid"), ml_namespaces_find(ns, "pid_for_children")));
	ck_assert(!ml_ns_same(ml_namespaces_find(ns, "pid"), ml_namespaces_find(ns, "net")));
	/* sorted by name */
	for (size_t i = 1; i < ml_namespaces_count(ns); i++)
		ck_assert_int_lt(strcmp(ml_namespaces_get(ns, i - 1)->name, ml_namespaces_get(ns, i)->name), 0);
	ck_assert_ptr_null(ml_namespaces_find(ns, "nosuch"));
	ck_assert_ptr_null(ml_namespaces_get(ns, 10));
	ml_namespaces_free(ns);
	ml_proc_free(p);
}
END_TEST

START_TEST(missing_and_broken_links)
{
	char dir[] = "/tmp/memlens-ns-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof(path), "%s/ns", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/ns/net", dir);
	ck_assert_int_eq(symlink("net:[77]", path), 0);
	snprintf(path, sizeof(path), "%s/ns/uts", dir);
	ck_assert_int_eq(symlink("garbage", path), 0);
	snprintf(path, sizeof(path), "%s/ns/future_ns", dir);
	ck_assert_int_eq(symlink("future_ns:[5]", path), 0);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open_path(dir, &p), 0);
	ml_namespaces *ns;
	ck_assert_int_eq(ml_namespaces_read(p, &ns), 0);
	/* 10 known names (8 of them missing) plus the unknown one the directory had */
	ck_assert_uint_eq(ml_namespaces_count(ns), 11);
	ck_assert_uint_eq(ml_namespaces_find(ns, "net")->inode, 77);
	ck_assert_int_eq(ml_namespaces_find(ns, "uts")->err, -EBADMSG);
	ck_assert_int_eq(ml_namespaces_find(ns, "time")->err, -ENOENT);
	ck_assert_int_eq(ml_namespaces_find(ns, "cgroup")->err, -ENOENT);
	ck_assert_uint_eq(ml_namespaces_find(ns, "future_ns")->inode, 5);
	ck_assert(!ml_ns_same(ml_namespaces_find(ns, "time"), ml_namespaces_find(ns, "cgroup")));
	ml_namespaces_free(ns);
	ml_proc_free(p);
	const char *names[] = { "net", "uts", "future_ns" };
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/ns/%s", dir, names[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/ns", dir);
	rmdir(path);
	rmdir(dir);
	/* no ns directory at all */
	ck_assert_ptr_nonnull(mkdtemp(strcpy(dir, "/tmp/memlens-ns-XXXXXX")));
	ck_assert_int_eq(ml_proc_open_path(dir, &p), 0);
	ck_assert_int_eq(ml_namespaces_read(p, &ns), -ENOENT);
	ml_proc_free(p);
	rmdir(dir);
}
END_TEST

START_TEST(self_matches_stat)
{
	ml_proc *p;
	ck_assert_int_eq(ml_proc_self(&p), 0);
	ml_namespaces *ns;
	ck_assert_int_eq(ml_namespaces_read(p, &ns), 0);
	const char *names[] = { "cgroup", "ipc", "mnt", "net", "pid", "user", "uts" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/ns/%s", names[i]);
		struct stat sb;
		if (stat(path, &sb) < 0)
			continue; /* the kernel lacks it: then the library must say so */
		const ml_ns *e = ml_namespaces_find(ns, names[i]);
		ck_assert_int_eq(e->err, 0);
		ck_assert(e->dev_known);
		ck_assert_uint_eq(e->inode, (uint64_t)sb.st_ino);
		ck_assert_uint_eq(e->dev, (uint64_t)sb.st_dev);
	}
	ml_namespaces_free(ns);
	ml_proc_free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ns");
	TCase *tc = tcase_create("ns");
	tcase_add_test(tc, parse_link_text);
	tcase_add_test(tc, fixture_tree);
	tcase_add_test(tc, missing_and_broken_links);
	tcase_add_test(tc, self_matches_stat);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
