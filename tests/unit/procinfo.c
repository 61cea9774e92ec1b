/* One-value files (owner, loginuid, OOM scores, autogroup, wchan, coredump_filter,
 * personality, ksm_stat) and the exe/cwd/root links, against fixtures. */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "info_fixture.h"

START_TEST(threads_fixture_values)
{
	ml_proc *p = fx_open("info-threads");
	int v;
	ck_assert_int_eq(ml_oom_score_adj_read(p, &v), 0);
	ck_assert_int_eq(v, 500); /* what the capture set */
	ck_assert_int_eq(ml_oom_score_read(p, &v), 0);
	ck_assert_int_ge(v, 500);
	uint32_t u;
	ck_assert_int_eq(ml_loginuid_read(p, &u), 0);
	ck_assert_uint_eq(u, ML_LOGINUID_UNSET);
	ck_assert_int_eq(ml_personality_read(p, &u), 0);
	ck_assert_uint_eq(u, 0x0040000); /* ADDR_NO_RANDOMIZE */
	ck_assert_str_eq(ml_personality_flag_name(18), "ADDR_NO_RANDOMIZE");
	ml_coredump_filter cf;
	ck_assert_int_eq(ml_coredump_filter_read(p, &cf), 0);
	ck_assert(cf.set);
	ck_assert_uint_eq(cf.mask, 0x3f);
	ck_assert_str_eq(ml_coredump_filter_bit_name(5), "hugetlb-private");
	ck_assert_ptr_null(ml_coredump_filter_bit_name(9));
	ml_autogroup ag;
	ck_assert_int_eq(ml_autogroup_read(p, &ag), 0);
	ck_assert_uint_gt(ag.id, 0);
	ck_assert_int_eq(ag.nice, 0);
	char w[64];
	ck_assert_int_gt(ml_wchan_read(p, w, sizeof(w)), 0); /* blocked reading its stdin pipe */
	ck_assert_ptr_nonnull(strstr(w, "pipe"));
	ml_ksm_stat k;
	ck_assert_int_eq(ml_ksm_stat_read(p, &k), 0);
	ck_assert_uint_eq(k.present, 0x3f);
	ck_assert(!k.merge_any && !k.mergeable);

	/* the owner of a fixture is the owner of its directory, whoever checked it out */
	uid_t uid;
	gid_t gid;
	struct stat sb;
	char path[4096];
	snprintf(path, sizeof(path), "%s/proc/info-threads", mlt_fixture_dir());
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(ml_uid_read(p, &uid, &gid), 0);
	ck_assert_uint_eq(uid, sb.st_uid);
	ck_assert_uint_eq(gid, sb.st_gid);
	ml_proc_free(p);
}
END_TEST

START_TEST(kthread_and_zombie)
{
	ml_proc *p = fx_open("info-kthread");
	ml_coredump_filter cf = { .set = true, .mask = 7 };
	/* the file is there but empty: no address space, no filter */
	ck_assert_int_eq(ml_coredump_filter_read(p, &cf), 0);
	ck_assert(!cf.set);
	int v;
	ck_assert_int_eq(ml_oom_score_read(p, &v), 0);
	ck_assert_int_eq(v, 0);
	/* a kernel thread is in no autogroup: the file is empty */
	ml_autogroup ag;
	ck_assert_int_eq(ml_autogroup_read(p, &ag), -ENODATA);
	ck_assert_int_eq(ml_autogroup_parse("\n", 1, &ag), -ENODATA);
	ml_link *l;
	ck_assert_int_eq(ml_exe_read(p, &l), -ENOENT); /* a kernel thread has no executable */
	ck_assert_int_eq(ml_cwd_read(p, &l), 0);
	ck_assert_str_eq(l->path, "/");
	ml_link_free(l);
	ml_proc_free(p);
	/* a fixture without the file: absent is -ENOENT, distinct from "not set" */
	p = fx_open("info-zombie");
	ck_assert_int_eq(ml_auxv_read(p, ML_AUXV_AUTO, &(ml_auxv *){ NULL }), -ENOENT);
	ml_proc_free(p);
}
END_TEST

START_TEST(links)
{
	ml_proc *p = fx_open("info-threads");
	ml_link *l;
	ck_assert_int_eq(ml_exe_read(p, &l), 0);
	ck_assert_uint_eq(l->len, strlen(l->path));
	ck_assert_ptr_nonnull(strstr(l->path, "/ml_infochild"));
	ck_assert(!l->deleted);
	ck_assert_int_eq(l->via_tid, 0);
	ml_link_free(l);
	ck_assert_int_eq(ml_cwd_read(p, &l), 0);
	ck_assert_str_eq(l->path, "/tmp");
	ml_link_free(l);
	ck_assert_int_eq(ml_root_read(p, &l), 0);
	ck_assert_str_eq(l->path, "/");
	ml_link_free(l);
	ml_link_free(NULL);
	ml_proc_free(p);
}
END_TEST

START_TEST(parsers)
{
	int64_t i;
	ck_assert_int_eq(ml_procinfo_int_parse("-1000\n", 6, &i), 0);
	ck_assert_int_eq(i, -1000);
	ck_assert_int_eq(ml_procinfo_int_parse("12", 2, &i), 0);
	ck_assert_int_eq(ml_procinfo_int_parse("", 0, &i), -EBADMSG);
	ck_assert_int_eq(ml_procinfo_int_parse("1 2\n", 4, &i), -EBADMSG);
	ck_assert_int_eq(ml_procinfo_int_parse("12\n\n", 4, &i), -EBADMSG);

	ml_autogroup ag;
	ck_assert_int_eq(ml_autogroup_parse("/autogroup-7 nice -5\n", 21, &ag), 0);
	ck_assert_uint_eq(ag.id, 7);
	ck_assert_int_eq(ag.nice, -5);
	ck_assert_int_eq(ml_autogroup_parse("/autogroup-7 nice 50\n", 21, &ag), -EBADMSG);
	ck_assert_int_eq(ml_autogroup_parse("/autogroup- nice 5", 18, &ag), -EBADMSG);
	ck_assert_int_eq(ml_autogroup_parse("/autogroup-1", 12, &ag), -EBADMSG);

	ml_coredump_filter cf;
	ck_assert_int_eq(ml_coredump_filter_parse("00000033\n", 9, &cf), 0);
	ck_assert(cf.set);
	ck_assert_uint_eq(cf.mask, 0x33);
	ck_assert_int_eq(ml_coredump_filter_parse("\n", 1, &cf), 0);
	ck_assert(!cf.set);
	ck_assert_int_eq(ml_coredump_filter_parse("zz\n", 3, &cf), -EBADMSG);
	ck_assert_int_eq(ml_coredump_filter_parse("1ffffffff\n", 10, &cf), -EBADMSG);

	uint32_t per;
	ck_assert_int_eq(ml_personality_parse("00c00000\n", 9, &per), 0);
	ck_assert_uint_eq(per, 0xc00000);
	ck_assert_int_eq(ml_personality_parse("", 0, &per), -EBADMSG);

	ml_ksm_stat k;
	const char *t = "ksm_rmap_items 5\nksm_process_profit -4096\nksm_merge_any: yes\nfuture_key 9\n";
	ck_assert_int_eq(ml_ksm_stat_parse(t, strlen(t), &k), 0);
	ck_assert_uint_eq(k.rmap_items, 5);
	ck_assert_int_eq(k.process_profit, -4096);
	ck_assert(k.merge_any);
	ck_assert_uint_eq(k.present, 1u | 8u | 16u);
	ck_assert_int_eq(ml_ksm_stat_parse("ksm_mergeable: maybe\n", 21, &k), -EBADMSG);
	ck_assert_int_eq(ml_ksm_stat_parse("ksm_rmap_items x\n", 17, &k), -EBADMSG);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("procinfo");
	TCase *tc = tcase_create("procinfo");
	tcase_add_test(tc, threads_fixture_values);
	tcase_add_test(tc, kthread_and_zombie);
	tcase_add_test(tc, links);
	tcase_add_test(tc, parsers);
	suite_add_tcase(su, tc);
	return mlt_run_suite(su);
}
