/* mountinfo and mountstats parsers against captured fixtures and hand-made edge cases. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memlens/memlens.h>

#include "mltest.h"

static char *slurp(const char *rel, size_t *len)
{
	return mlt_read_fixture(rel, len);
}

static size_t count_lines(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* The fixture's mount whose mount point ends with @suffix. */
static const ml_mount *by_suffix(const ml_mountinfo *mi, const char *suffix, size_t sl)
{
	for (size_t i = 0; i < ml_mountinfo_count(mi); i++) {
		const ml_mount *m = ml_mountinfo_get(mi, i);
		if (m->mount_point_len >= sl && !memcmp(m->mount_point + m->mount_point_len - sl, suffix, sl))
			return m;
	}
	return NULL;
}

START_TEST(fixture_escapes_and_tags)
{
	size_t len;
	char *buf = slurp("net-mounts/mountinfo", &len);
	ml_mountinfo *mi;
	ck_assert_int_eq(ml_mountinfo_parse(buf, len, &mi), 0);
	ck_assert_uint_eq(ml_mountinfo_count(mi), count_lines(buf));

	/* "a b<TAB>c<NL>d\e": every escaped byte decoded exactly */
	static const char odd[] = "/a b\tc\nd\\e";
	const ml_mount *m = by_suffix(mi, odd, sizeof(odd) - 1);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(strlen(m->mount_point), m->mount_point_len);
	ck_assert_str_eq(m->source, "src with space");
	ck_assert_str_eq(m->fs_type, "tmpfs");
	ck_assert_str_eq(m->root, "/");
	ck_assert_str_eq(m->options, "rw,relatime");
	ck_assert_uint_eq(m->nopts, 2);
	ck_assert_str_eq(m->opts[1].name, "relatime");
	ck_assert_ptr_null(m->opts[1].value);
	ck_assert(!m->read_only);
	ck_assert_str_eq(m->super_options, "rw,size=1024k,mode=700");
	const ml_mount_opt *o = ml_mount_find_opt(m, true, "mode");
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(o->value, "700");
	ck_assert_uint_eq(o->value_len, 3);
	ck_assert_str_eq(ml_mount_find_opt(m, true, "size")->value, "1024k");
	ck_assert_ptr_null(ml_mount_find_opt(m, false, "size"));
	ck_assert_uint_eq(m->ntags, 0);
	ck_assert_uint_eq(m->shared + m->master + m->propagate_from, 0);
	/* the raw option text keeps the kernel's spelling */
	ck_assert_ptr_nonnull(strstr(buf, m->super_options));

	const ml_mount *sh = by_suffix(mi, "/shared", 7);
	const ml_mount *sl = by_suffix(mi, "/slave", 6);
	const ml_mount *sb = by_suffix(mi, "/subbind", 8);
	const ml_mount *ub = by_suffix(mi, "/unbind", 7);
	const ml_mount *ro = by_suffix(mi, "/ro", 3);
	ck_assert(sh && sl && sb && ub && ro);
	ck_assert_uint_ne(sh->shared, 0);
	ck_assert_uint_eq(sh->ntags, 1);
	ck_assert_str_eq(sh->tags[0].tag, "shared");
	ck_assert_uint_eq(sl->master, sh->shared);
	ck_assert_uint_eq(sl->shared, 0);
	ck_assert_str_eq(sb->root, "/sub");
	ck_assert_uint_eq(sb->shared, sh->shared);
	ck_assert_uint_eq(sb->dev_major, sh->dev_major);
	ck_assert_uint_eq(sb->dev_minor, sh->dev_minor);
	ck_assert(ub->unbindable);
	ck_assert_ptr_null(ub->tags[0].value);
	ck_assert(ro->read_only);
	ck_assert_str_eq(ro->source, "comma,src");
	/* parents exist and the root mount is found for "/" */
	ck_assert_ptr_nonnull(ml_mountinfo_find_id(mi, sh->parent_id));
	const ml_mount *root = ml_mountinfo_find_path(mi, "/", 1);
	ck_assert_ptr_nonnull(root);
	ck_assert_str_eq(root->mount_point, "/");
	ck_assert_ptr_eq(ml_mountinfo_find_path(mi, sh->mount_point, sh->mount_point_len), sh);
	char deeper[4096];
	int n = snprintf(deeper, sizeof(deeper), "%s/sub/x", sh->mount_point);
	ck_assert_ptr_eq(ml_mountinfo_find_path(mi, deeper, (size_t)n), sh);
	ck_assert_ptr_eq(ml_mountinfo_find_path(mi, "/proc/self", 10), ml_mountinfo_find_path(mi, "/proc", 5));
	ck_assert_str_eq(ml_mountinfo_find_path(mi, "/proc/self", 10)->fs_type, "proc");
	ck_assert_str_eq(ml_mountinfo_find_path(mi, "/procfoo", 8)->mount_point, "/");
	ml_mountinfo_free(mi);
	free(buf);
}
END_TEST

START_TEST(escapes_everywhere)
{
	/* an escaped '=' and ',' inside an option value, '\\' in a root, bad escapes kept */
	static const char line[] =
		"7 1 8:1 /r\\134oot /m\\040p rw,x=a\\054b\\075c shared:12 master:3 propagate_from:4 - "
		"fuse.my\\040fs s\\\\rc\\07 rw,ctx=\\042q\\042\n";
	ml_mountinfo *mi;
	ck_assert_int_eq(ml_mountinfo_parse(line, sizeof(line) - 1, &mi), 0);
	const ml_mount *m = ml_mountinfo_get(mi, 0);
	ck_assert_str_eq(m->root, "/r\\oot");
	ck_assert_str_eq(m->mount_point, "/m p");
	ck_assert_str_eq(m->opts[1].name, "x");
	ck_assert_str_eq(m->opts[1].value, "a,b=c");
	ck_assert_uint_eq(m->shared, 12);
	ck_assert_uint_eq(m->master, 3);
	ck_assert_uint_eq(m->propagate_from, 4);
	ck_assert_uint_eq(m->ntags, 3);
	ck_assert_str_eq(m->tags[2].value, "4");
	ck_assert_str_eq(m->fs_type, "fuse.my fs");
	ck_assert_str_eq(m->source, "s\\\\rc\\07"); /* not an escape: kept verbatim */
	ck_assert_str_eq(ml_mount_find_opt(m, true, "ctx")->value, "\"q\"");
	ck_assert_uint_eq(m->dev_major, 8);
	ck_assert_uint_eq(m->dev_minor, 1);
	ml_mountinfo_free(mi);
	/* \000 decodes to a NUL byte inside the field: lengths tell */
	static const char nul[] = "1 1 0:1 / /a\\000b rw - t s rw";
	ck_assert_int_eq(ml_mountinfo_parse(nul, sizeof(nul) - 1, &mi), 0);
	ck_assert_uint_eq(ml_mountinfo_get(mi, 0)->mount_point_len, 4);
	ck_assert(!memcmp(ml_mountinfo_get(mi, 0)->mount_point, "/a\0b", 4));
	ml_mountinfo_free(mi);
}
END_TEST

START_TEST(malformed_lines)
{
	static const char *const bad[] = {
		"x 1 0:1 / / rw - t s rw\n",            /* id not a number */
		"1 1 01 / / rw - t s rw\n",             /* no ':' in dev */
		"1 1 0:1 / / rw t s rw\n",              /* no separator */
		"1 1 0:1 / / rw - t s\n",               /* no super options */
		"1 1 0:1 / / rw - t\n",
		"1 1 0:1 /\n",
		"1 1 0:1 / / rw - t s rw extra\n",
		"4294967296 1 0:1 / / rw - t s rw\n",
		"1 1 0:1 / / rw - t s rw\ngarbage\n",   /* one bad line fails the parse */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ml_mountinfo *mi = (ml_mountinfo *)0x1;
		ck_assert_msg(ml_mountinfo_parse(bad[i], strlen(bad[i]), &mi) == -EBADMSG, "accepted: %s", bad[i]);
		ck_assert_ptr_eq(mi, (ml_mountinfo *)0x1);
	}
	ml_mountinfo *mi;
	ck_assert_int_eq(ml_mountinfo_parse("\n\n", 2, &mi), 0);
	ck_assert_uint_eq(ml_mountinfo_count(mi), 0);
	ck_assert_ptr_null(ml_mountinfo_find_path(mi, "/", 1));
	ml_mountinfo_free(mi);
	ck_assert_int_eq(ml_mountinfo_parse(NULL, 1, &mi), -EINVAL);
	ml_mountinfo_free(NULL);
}
END_TEST

START_TEST(find_path_prefers_later_mounts)
{
	static const char text[] =
		"1 0 0:1 / / rw - a a rw\n"
		"2 1 0:2 / /x rw - b b rw\n"
		"3 1 0:3 / /x rw - c c rw\n"
		"4 3 0:4 / /x/y rw - d d rw\n";
	ml_mountinfo *mi;
	ck_assert_int_eq(ml_mountinfo_parse(text, sizeof(text) - 1, &mi), 0);
	ck_assert_uint_eq(ml_mountinfo_find_path(mi, "/x", 2)->mount_id, 3);
	ck_assert_uint_eq(ml_mountinfo_find_path(mi, "/x/z", 4)->mount_id, 3);
	ck_assert_uint_eq(ml_mountinfo_find_path(mi, "/x/y/z", 6)->mount_id, 4);
	ck_assert_uint_eq(ml_mountinfo_find_path(mi, "/xy", 3)->mount_id, 1);
	ck_assert_ptr_null(ml_mountinfo_find_path(mi, "rel", 3));
	ck_assert_uint_eq(ml_mountinfo_find_id(mi, 4)->parent_id, 3);
	ck_assert_ptr_null(ml_mountinfo_find_id(mi, 9));
	ml_mountinfo_free(mi);
}
END_TEST

START_TEST(reads_through_a_fixture_handle)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/proc/net-child", mlt_fixture_dir());
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open_path(path, &p), 0);
	ml_mountinfo *mi;
	ck_assert_int_eq(ml_mountinfo_read(p, &mi), 0);
	ck_assert_uint_gt(ml_mountinfo_count(mi), 5);
	const ml_mount *cg2 = ml_mountinfo_find_path(mi, "/sys/fs/cgroup/unified/x", 24);
	ck_assert_ptr_nonnull(cg2);
	ck_assert_str_eq(cg2->fs_type, "cgroup2");
	ml_mountinfo_free(mi);
	ml_proc_free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mountinfo");
	TCase *tc = tcase_create("mountinfo");
	tcase_add_test(tc, fixture_escapes_and_tags);
	tcase_add_test(tc, escapes_everywhere);
	tcase_add_test(tc, malformed_lines);
	tcase_add_test(tc, find_path_prefers_later_mounts);
	tcase_add_test(tc, reads_through_a_fixture_handle);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
