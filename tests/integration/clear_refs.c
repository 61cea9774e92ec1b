/* clear_refs values against a child, and the soft-dirty probe against the kernel's config. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "mltest.h"

#define PG 4096u

/* Sum of "Referenced:" over smaps of the mapping starting at @a, in kB. */
static long referenced_kb(pid_t pid, uint64_t a)
{
	char path[64], line[512];
	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	long kb = -1;
	bool in = false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long s, e;
		if (sscanf(line, "%llx-%llx ", &s, &e) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = s == a;
			continue;
		}
		if (in && !strncmp(line, "Referenced:", 11))
			kb = strtol(line + 11, NULL, 10);
	}
	fclose(f);
	return kb;
}

/*
 * Whether this kernel was built with CONFIG_MEM_SOFT_DIRTY, from its config
 * (/boot/config-RELEASE, else /proc/config.gz); -1 when neither can be read.
 */
static int config_soft_dirty(void)
{
	struct utsname u;
	uname(&u);
	char path[300], line[256];
	snprintf(path, sizeof(path), "/boot/config-%s", u.release);
	FILE *f = fopen(path, "r");
	bool piped = false;
	if (!f && access("/proc/config.gz", R_OK) == 0) {
		f = popen("gzip -dc /proc/config.gz 2>/dev/null", "r");
		piped = f != NULL;
	}
	if (!f)
		return -1;
	int r = 0, lines = 0;
	while (fgets(line, sizeof(line), f)) {
		lines++;
		if (!strncmp(line, "CONFIG_MEM_SOFT_DIRTY=y", 23))
			r = 1;
	}
	if (piped ? pclose(f) != 0 : fclose(f) != 0)
		return -1;
	return lines ? r : -1;
}

START_TEST(values_and_their_effects)
{
	mlt_child *c = mlt_spawn("ml_pages", NULL);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	uint64_t a = mlt_kv(mlt_cmd_ok(c, "anon 64"), "addr");
	mlt_cmd_ok(c, "write 0x%llx 64", (unsigned long long)a);
	ck_assert_int_ge(referenced_kb(c->pid, a), 256);
	ck_assert_int_eq(ml_clear_refs_write(p, ML_CLEAR_REFS_ALL), 0);
	ck_assert_int_eq(referenced_kb(c->pid, a), 0);
	/* Clearing does not flush the TLB: writes through entries cached while the bits were
	 * set would not set them again. Writing 4 flushes it (and clears soft-dirty, if any). */
	ck_assert_int_eq(ml_clear_refs_write(p, ML_CLEAR_REFS_SOFT_DIRTY), 0);
	mlt_cmd_ok(c, "write 0x%llx 8", (unsigned long long)a);
	ck_assert_int_ge(referenced_kb(c->pid, a), 8 * 4);
	/* "file" only: anonymous pages keep their bits */
	ck_assert_int_eq(ml_clear_refs_write(p, ML_CLEAR_REFS_FILE), 0);
	ck_assert_int_ge(referenced_kb(c->pid, a), 8 * 4);
	ck_assert_int_eq(ml_clear_refs_write(p, ML_CLEAR_REFS_ANON), 0);
	ck_assert_int_eq(referenced_kb(c->pid, a), 0);
	ck_assert_int_eq(ml_clear_refs_write(p, ML_CLEAR_REFS_SOFT_DIRTY), 0);
	/* 5 resets VmHWM to the current RSS */
	uint64_t big = mlt_kv(mlt_cmd_ok(c, "anon 16384"), "addr");
	mlt_cmd_ok(c, "write 0x%llx 16384", (unsigned long long)big);
	mlt_cmd_ok(c, "unmap 0x%llx 16384", (unsigned long long)big);
	long hwm = mlt_status_kb(c->pid, "VmHWM"), rss = mlt_status_kb(c->pid, "VmRSS");
	ck_assert_int_gt(hwm, rss + 60000);
	ck_assert_int_eq(ml_clear_refs_write(p, ML_CLEAR_REFS_PEAK_RSS), 0);
	ck_assert_int_lt(mlt_status_kb(c->pid, "VmHWM"), rss + 1024);
	/* misuse */
	ck_assert_int_eq(ml_clear_refs_write(p, (ml_clear_refs_what)0), -EINVAL);
	ck_assert_int_eq(ml_clear_refs_write(p, (ml_clear_refs_what)6), -EINVAL);
	ck_assert_int_eq(ml_clear_refs_write(NULL, ML_CLEAR_REFS_ALL), -EINVAL);
	/* a zombie accepts the write silently: we say it is gone */
	kill(c->pid, SIGKILL);
	mlt_wait_zombie(c);
	ck_assert_int_eq(ml_clear_refs_write(p, ML_CLEAR_REFS_ALL), -ESRCH);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

START_TEST(soft_dirty_probe_matches_the_kernel)
{
	ml_soft_dirty_state st;
	ck_assert_int_eq(ml_clear_refs_probe(&st), 0);
	ml_soft_dirty_state again;
	ck_assert_int_eq(ml_clear_refs_probe(&again), 0);
	ck_assert_int_eq(st, again);
	ck_assert_int_ne(st, ML_SOFT_DIRTY_UNKNOWN);
	ck_assert_str_eq(ml_soft_dirty_state_name(st), st == ML_SOFT_DIRTY_WORKS ? "works" : "absent");
	ck_assert_int_eq(ml_clear_refs_probe(NULL), -EINVAL);
	/* a page of ours written after clear_refs 4 carries bit 55 exactly where it works */
	ml_proc *self;
	ck_assert_int_eq(ml_proc_self(&self), 0);
	ck_assert_int_eq(ml_clear_refs_write(self, ML_CLEAR_REFS_SOFT_DIRTY), 0);
	ml_pagemap *pm;
	ck_assert_int_eq(ml_pagemap_open(self, &pm), 0);
	static char page[PG] __attribute__((aligned(PG)));
	page[0]++;
	uint64_t e;
	ck_assert_int_eq(ml_pagemap_read(pm, (uintptr_t)page, &e, 1), 1);
	ck_assert_int_eq(ml_pme_soft_dirty(e), st == ML_SOFT_DIRTY_WORKS);
	ml_pagemap_free(pm);
	ml_proc_free(self);
	/* the kernel's own word, where its config can be read */
	int cfg = config_soft_dirty();
	if (cfg < 0)
		mlt_skip("no kernel config (/boot/config-RELEASE, /proc/config.gz): the probe's answer "
			 "\"%s\" was not compared with CONFIG_MEM_SOFT_DIRTY", ml_soft_dirty_state_name(st));
	ck_assert_int_eq(st, cfg ? ML_SOFT_DIRTY_WORKS : ML_SOFT_DIRTY_ABSENT);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("clear_refs");
	TCase *tc = tcase_create("clear_refs");
	tcase_add_test(tc, values_and_their_effects);
	tcase_add_test(tc, soft_dirty_probe_matches_the_kernel);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
