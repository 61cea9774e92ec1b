/* ml_status against fixtures from this kernel and hand-made edge cases. */
#include <errno.h>

#include "info_fixture.h"

START_TEST(threads_fixture_every_field)
{
	size_t len;
	char *raw = fx_bytes("info-threads", "status", &len);
	ml_proc *p = fx_open("info-threads");
	ml_status *s;
	ck_assert_int_eq(ml_status_read(p, &s), 0);
	/* the capture set the comm to "ml) \n(x)": the kernel escapes the newline */
	ck_assert_uint_eq(s->name_len, 8);
	ck_assert_mem_eq(s->name, "ml) \n(x)", 9);
	ck_assert_int_eq(s->state, 'S');
	ck_assert(ml_bstr_eq(s->state_desc, "sleeping"));
	ck_assert_uint_eq(s->umask, 022);
	ck_assert_int_eq(s->pid, (int)fx_kv(raw, "Pid"));
	ck_assert_int_eq(s->tgid, s->pid);
	ck_assert_int_eq(s->ppid, (int)fx_kv(raw, "PPid"));
	ck_assert_int_eq(s->tracer_pid, 0);
	for (int i = 0; i < 4; i++) {
		ck_assert_uint_eq(s->uid[i], 0);
		ck_assert_uint_eq(s->gid[i], 0);
	}
	ck_assert_uint_eq(s->n_groups, 0);
	ck_assert_uint_eq(s->n_ns, 1);
	ck_assert_int_eq(s->ns_tgid[0], s->pid);
	ck_assert_int_eq(s->ns_pid[0], s->pid);
	ck_assert_int_eq(s->ns_sid[0], (int)fx_kv(raw, "NSsid"));
	ck_assert(!s->kthread);
	ck_assert(ml_status_has(s, ML_STATUS_KTHREAD));
	ck_assert_uint_eq(s->vm_hwm, fx_kv(raw, "VmHWM") * 1024);
	ck_assert_uint_eq(s->vm_rss, fx_kv(raw, "VmRSS") * 1024);
	ck_assert_uint_eq(s->vm_peak, fx_kv(raw, "VmPeak") * 1024);
	ck_assert_uint_eq(s->rss_anon + s->rss_file + s->rss_shmem, s->vm_rss);
	ck_assert_uint_eq(s->vm_data, fx_kv(raw, "VmData") * 1024);
	ck_assert_uint_eq(s->vm_pte, fx_kv(raw, "VmPTE") * 1024);
	ck_assert_uint_eq(s->vm_swap, 0);
	ck_assert(!s->thp_enabled);   /* prctl(PR_SET_THP_DISABLE) */
	ck_assert(s->no_new_privs);   /* prctl(PR_SET_NO_NEW_PRIVS) */
	ck_assert_uint_eq(s->untag_mask, UINT64_MAX);
	ck_assert_uint_eq(s->threads, 9);
	ck_assert_uint_eq(s->sigq_limit, strtoull(strchr(strstr(raw, "SigQ:"), '/') + 1, NULL, 10));
	ck_assert_uint_eq(s->cap_eff, 0x000001fffeffffffull);
	ck_assert_uint_eq(s->cap_bnd, 0x000001fffeffffffull);
	ck_assert_uint_eq(s->cap_amb, 0);
	ck_assert_int_eq(s->seccomp, 0);
	ck_assert(ml_status_has(s, ML_STATUS_SECCOMP_FILTERS));
	ck_assert(ml_bstr_eq(s->spec_indirect_branch, "always enabled"));
	ck_assert(ml_bstr_eq(s->cpus_allowed_list, "0-1"));
	ck_assert(ml_bstr_eq(s->cpus_allowed, "3"));
	ck_assert_uint_eq(s->n_cpus_allowed, 2);
	ck_assert(ml_bstr_eq(s->mems_allowed_list, "0"));
	ck_assert_uint_eq(s->voluntary_ctxt_switches, fx_kv(raw, "voluntary_ctxt_switches"));
	ck_assert_uint_eq(s->n_extra, 0);
	/* every line of the file was recognised: count the lines */
	size_t lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += raw[i] == '\n';
	size_t have = 0;
	for (int k = 0; k < ML_STATUS_KEY_COUNT; k++)
		have += ml_status_has(s, (ml_status_key)k);
	ck_assert_uint_eq(have, lines);
	ml_status_free(s);
	ml_proc_free(p);
	free(raw);
}
END_TEST

START_TEST(zombie_and_kthread)
{
	ml_proc *p = fx_open("info-zombie");
	ml_status *s;
	ck_assert_int_eq(ml_status_read(p, &s), 0);
	ck_assert_int_eq(s->state, 'Z');
	ck_assert(ml_bstr_eq(s->state_desc, "zombie"));
	ck_assert(!ml_status_has(s, ML_STATUS_VMRSS)); /* a zombie has no mm */
	ck_assert_uint_eq(s->vm_rss, 0);
	ck_assert(ml_status_has(s, ML_STATUS_THREADS));
	ml_status_free(s);
	ml_proc_free(p);

	p = fx_open("info-kthread");
	ck_assert_int_eq(ml_status_read(p, &s), 0);
	ck_assert(s->kthread);
	ck_assert_int_eq(s->pid, 2);
	ck_assert_int_eq(s->ppid, 0);
	ck_assert_str_eq(s->name, "kthreadd");
	ck_assert(!ml_status_has(s, ML_STATUS_VMSIZE));
	ml_status_free(s);
	ml_proc_free(p);
}
END_TEST

START_TEST(task_status_names)
{
	ml_proc *p = fx_open("info-threads");
	ml_status *s;
	ck_assert_int_eq(ml_status_read(p, &s), 0);
	pid_t pid = s->pid;
	ml_status_free(s);
	/* the first worker: the smallest TID after the main thread's */
	pid_t first = fx_first_worker("info-threads", pid);
	ml_proc *t;
	ck_assert_int_eq(ml_proc_task(p, first, &t), 0);
	ck_assert_int_eq(ml_status_read(t, &s), 0);
	ck_assert_str_eq(s->name, "mlw-0");
	ck_assert_int_eq(s->pid, first);
	ck_assert_int_eq(s->tgid, pid);
	ml_status_free(s);
	ml_proc_free(t);
	ml_proc_free(p);
}
END_TEST

static int parse(const char *text, ml_status **s) { return ml_status_parse(text, strlen(text), s); }

START_TEST(edge_cases)
{
	ml_status *s;
	/* unknown keys are kept; groups and nested PID namespaces are lists */
	const char *t = "Name:\t a\\\\b \nGroups:\t4 24 27 \nNewKey:\t  some value \n"
			"NStgid:\t10\t1\nNSpid:\t11\t2\nNSpgid:\t10\t1\nNSsid:\t5\t1\n"
			"VmRSS:\t  5 kB\nSigQ:\t3/100\nCpus_allowed:\tff,00000001\nBare:\n";
	ck_assert_int_eq(parse(t, &s), 0);
	ck_assert_uint_eq(s->name_len, 5);
	ck_assert_mem_eq(s->name, " a\\b ", 6); /* leading/trailing blanks of a comm are real */
	ck_assert_uint_eq(s->n_groups, 3);
	ck_assert_uint_eq(s->groups[2], 27);
	ck_assert_uint_eq(s->n_ns, 2);
	ck_assert_int_eq(s->ns_pid[1], 2);
	ck_assert_int_eq(s->ns_sid[0], 5);
	ck_assert_uint_eq(s->vm_rss, 5120);
	ck_assert_uint_eq(s->sigq_queued, 3);
	ck_assert_uint_eq(s->sigq_limit, 100);
	ck_assert_uint_eq(s->n_cpus_allowed, 9);
	ck_assert_uint_eq(s->n_extra, 2);
	ck_assert(ml_bstr_eq(s->extra[0].name, "NewKey"));
	ck_assert(ml_bstr_eq(s->extra[0].value, "some value"));
	ck_assert(ml_bstr_eq(s->extra[1].name, "Bare"));
	ck_assert_uint_eq(s->extra[1].value.len, 0);
	ck_assert(!ml_status_has(s, ML_STATUS_PID));
	ml_status_free(s);

	/* no trailing newline; an empty input is an empty record */
	ck_assert_int_eq(ml_status_parse("Pid:\t7", 6, &s), 0);
	ck_assert_int_eq(s->pid, 7);
	ml_status_free(s);
	ck_assert_int_eq(ml_status_parse("", 0, &s), 0);
	ml_status_free(s);

	/* malformed known values, lines without a colon, NS* lists of different depths */
	ml_status *keep = (ml_status *)0x1;
	ck_assert_int_eq(parse("Pid:\tx\n", &keep), -EBADMSG);
	ck_assert_int_eq(parse("VmRSS:\t12 MB\n", &keep), -EBADMSG);
	ck_assert_int_eq(parse("Uid:\t1 2 3\n", &keep), -EBADMSG);
	ck_assert_int_eq(parse("no colon here\n", &keep), -EBADMSG);
	ck_assert_int_eq(parse("NStgid:\t1\t2\nNSpid:\t1\n", &keep), -EBADMSG);
	ck_assert_int_eq(parse("VmRSS:\t99999999999999999999 kB\n", &keep), -EBADMSG);
	ck_assert_int_eq(parse("SigQ:\t5\n", &keep), -EBADMSG);
	ck_assert_ptr_eq(keep, (ml_status *)0x1); /* untouched on failure */
	ck_assert_int_eq(ml_status_parse(NULL, 3, &keep), -EINVAL);
	ck_assert_str_eq(ml_status_key_name(ML_STATUS_VMHWM), "VmHWM");
	ck_assert_ptr_null(ml_status_key_name(ML_STATUS_KEY_COUNT));
	ml_status_free(NULL);
}
END_TEST

START_TEST(not_nul_terminated)
{
	/* a buffer ending exactly at a digit, with garbage after len that must not be read */
	char buf[] = "Threads:\t42XXXX";
	ml_status *s;
	ck_assert_int_eq(ml_status_parse(buf, 11, &s), 0);
	ck_assert_uint_eq(s->threads, 42);
	ml_status_free(s);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("status");
	TCase *tc = tcase_create("status");
	tcase_add_test(tc, threads_fixture_every_field);
	tcase_add_test(tc, zombie_and_kthread);
	tcase_add_test(tc, task_status_names);
	tcase_add_test(tc, edge_cases);
	tcase_add_test(tc, not_nul_terminated);
	suite_add_tcase(su, tc);
	return mlt_run_suite(su);
}
