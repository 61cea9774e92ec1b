/* ml_mem_read and the populated-only reader against children with known memory. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "mltest.h"

#define PG 4096u

START_TEST(reads_written_memory_exactly)
{
	mlt_child *c = mlt_spawn("ml_pages", NULL);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	uint64_t a = mlt_cmd_u64(c, "addr", "anon 16");
	mlt_cmd_ok(c, "write 0x%llx 16", (unsigned long long)a);
	unsigned char *buf = malloc(16 * PG);
	for (int how = ML_MEM_AUTO; how <= ML_MEM_PROCFS; how++) {
		memset(buf, 0, 16 * PG);
		ck_assert_int_eq(ml_mem_read_ex(p, a + 100, buf, 16 * PG - 100, how), 16 * PG - 100);
		for (size_t i = 0; i < 16 * PG - 100; i++)
			if (buf[i] != mlt_page_pattern(a + 100 + i))
				ck_abort_msg("method %d: byte %zu differs", how, i);
	}
	ck_assert_int_eq(ml_mem_read(p, a, buf, 0), 0);
	ck_assert_int_eq(ml_mem_read(p, a, NULL, 1), -EINVAL);
	ck_assert_int_eq(ml_mem_read(NULL, a, buf, 1), -EINVAL);
	free(buf);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

START_TEST(short_reads_stop_at_the_first_unreadable_page)
{
	mlt_child *c = mlt_spawn("ml_pages", NULL);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	uint64_t a = mlt_cmd_u64(c, "addr", "anon 8");
	mlt_cmd_ok(c, "write 0x%llx 8", (unsigned long long)a);
	mlt_cmd_ok(c, "unmap 0x%llx 4", (unsigned long long)(a + 4 * PG));
	unsigned char buf[8 * PG];
	for (int how = ML_MEM_AUTO; how <= ML_MEM_PROCFS; how++) {
		/* runs into the hole: the readable prefix, ending exactly at the hole */
		ck_assert_int_eq(ml_mem_read_ex(p, a + 10, buf, sizeof(buf), how), 4 * PG - 10);
		ck_assert_uint_eq(buf[0], mlt_page_pattern(a + 10));
		/* starts in the hole */
		ck_assert_int_eq(ml_mem_read_ex(p, a + 4 * PG, buf, PG, how), -EFAULT);
	}
	uint64_t vs, ve;
	if (mlt_find_mapping(c->pid, "[vvar]", &vs, &ve)) {
		ck_assert_int_eq(ml_mem_read(p, vs, buf, 64), -EIO);
		ck_assert_int_eq(ml_mem_read_ex(p, vs, buf, 64, ML_MEM_VM_READV), -EIO);
	}
	if (mlt_find_mapping(c->pid, "[vsyscall]", &vs, &ve))
		ck_assert_int_eq(ml_mem_read(p, vs, buf, 64), -EIO);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

START_TEST(prot_none_and_secret_memory)
{
	mlt_child *c = mlt_spawn("ml_pages", NULL);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	uint64_t a = mlt_cmd_u64(c, "addr", "protnone 2");
	unsigned char buf[2 * PG];
	/* process_vm_readv refuses PROT_NONE; the fallback reads it like a debugger */
	ck_assert_int_lt(ml_mem_read_ex(p, a, buf, sizeof(buf), ML_MEM_VM_READV), 0);
	ck_assert_int_eq(ml_mem_read(p, a, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	ck_assert_uint_eq(buf[5], mlt_page_pattern(a + 5));
	const char *r = mlt_cmd(c, "secret");
	char why[256] = "";
	if (r && !strncmp(r, "ok", 2)) {
		uint64_t s = mlt_kv(r, "addr");
		ck_assert_int_eq(ml_mem_read(p, s, buf, 16), -EIO);
	} else {
		snprintf(why, sizeof(why), "%s", r ? r : "EOF");
	}
	ml_proc_free(p);
	mlt_child_free(c);
	if (*why)
		mlt_skip("memfd_secret is not available here (%s): PROT_NONE checked, secret memory not", why);
}
END_TEST

START_TEST(gone_process)
{
	mlt_child *c = mlt_spawn("ml_pages", NULL);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	uint64_t a = mlt_cmd_u64(c, "addr", "anon 1");
	kill(c->pid, SIGKILL);
	mlt_wait(c);
	unsigned char buf[16];
	ck_assert_int_eq(ml_mem_read(p, a, buf, 16), -ESRCH);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

/* Reads [a, a+len) through the populated reader; checks bytes, returns bytes read. */
static uint64_t read_populated(const ml_proc *p, uint64_t a, uint64_t len, unsigned flags, bool emul,
			       uint64_t *npages_checked)
{
	ML_OPTS(ml_populated_opts, o, .flags = flags, .force_emulation = emul);
	ml_populated *it;
	ck_assert_int_eq(ml_populated_open(p, a, a + len, &o, &it), 0);
	size_t cap = 1 << 20;
	unsigned char *buf = malloc(cap);
	ml_mem_span sp[64];
	size_t ns;
	uint64_t total = 0, last = 0;
	ssize_t n;
	while ((n = ml_populated_next(it, buf, cap, sp, 64, &ns)) > 0) {
		size_t off = 0;
		for (size_t i = 0; i < ns; i++) {
			ck_assert_uint_ge(sp[i].addr, last);
			ck_assert_uint_ge(sp[i].addr, a);
			ck_assert_uint_le(sp[i].addr + sp[i].len, a + len);
			ck_assert_uint_eq(sp[i].addr % PG, 0);
			for (uint64_t x = 0; x < sp[i].len; x += PG) {
				ck_assert_uint_eq(buf[off + x], mlt_page_pattern(sp[i].addr + x));
				(*npages_checked)++;
			}
			last = sp[i].addr + sp[i].len;
			off += sp[i].len;
		}
		ck_assert_uint_eq(off, (size_t)n);
		total += (uint64_t)n;
	}
	ck_assert_int_eq(n, 0);
	ck_assert_uint_eq(ml_populated_skipped(it), 0);
	free(buf);
	ml_populated_free(it);
	return total;
}

START_TEST(populated_reader_never_faults_pages_in)
{
	mlt_child *c = mlt_spawn("ml_pages", NULL);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	const size_t N = 262144; /* 1 GiB */
	uint64_t a = mlt_cmd_u64(c, "addr", "anon %zu", N);
	mlt_cmd_ok(c, "write1 0x%llx %zu 16", (unsigned long long)a, N);
	size_t present0 = mlt_present_pages(c->pid, a, N);
	long pte0 = mlt_status_kb(c->pid, "VmPTE"), rss0 = mlt_status_kb(c->pid, "VmRSS");
	ck_assert_uint_eq(present0, N / 16);
	for (int em = 0; em < 2; em++) {
		uint64_t pages = 0;
		uint64_t bytes = read_populated(p, a, (uint64_t)N * PG, 0, em, &pages);
		ck_assert_uint_eq(bytes, (uint64_t)N / 16 * PG);
		ck_assert_uint_eq(pages, N / 16);
		ck_assert_uint_eq(mlt_present_pages(c->pid, a, N), present0);
		ck_assert_int_eq(mlt_status_kb(c->pid, "VmPTE"), pte0);
		ck_assert_int_eq(mlt_status_kb(c->pid, "VmRSS"), rss0);
	}
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

START_TEST(populated_reader_zero_pages_and_prot_none)
{
	mlt_child *c = mlt_spawn("ml_pages", NULL);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	uint64_t a = mlt_cmd_u64(c, "addr", "anon 32");
	mlt_cmd_ok(c, "write 0x%llx 4", (unsigned long long)a);
	mlt_cmd_ok(c, "readf 0x%llx 4", (unsigned long long)(a + 8 * PG));
	ml_pagemap *pm;
	ck_assert_int_eq(ml_pagemap_open(p, &pm), 0);
	/* zero pages are told where the scan can (PAGEMAP_SCAN, or PFNs and a probed zero
	 * page); a kernel without a shared zero page maps private pages, which are data */
	bool zero_on = mlt_zero_page_mapped(c->pid, a + 8 * PG);
	bool zero_known = ml_pagemap_scan_categories(pm, !ml_pagemap_has_scan(pm)) & ML_PAGE_PFNZERO;
	if (!zero_on) {
		uint64_t z;
		ck_assert_int_eq(ml_pagemap_zero_pfn(&z), -EOPNOTSUPP);
		ck_assert(zero_known); /* known absent: nothing is skipped as zero */
	}
	ml_pagemap_free(pm);
	ml_populated *it;
	ML_OPTS(ml_populated_opts, o, .flags = 0);
	unsigned char buf[64 * PG];
	ml_mem_span sp[8];
	size_t ns;
	ck_assert_int_eq(ml_populated_open(p, a, a + 32 * PG, &o, &it), 0);
	ssize_t n = ml_populated_next(it, buf, sizeof(buf), sp, 8, &ns);
	/* zero pages are skipped by default (when the scan can tell them) */
	ck_assert_int_eq(n, (zero_on && zero_known ? 4 : 8) * PG);
	ck_assert_uint_eq(sp[0].addr, a);
	ml_populated_free(it);
	o.flags = ML_POP_ZERO;
	ck_assert_int_eq(ml_populated_open(p, a, a + 32 * PG, &o, &it), 0);
	n = ml_populated_next(it, buf, sizeof(buf), sp, 8, &ns);
	ck_assert_int_eq(n, 8 * PG);
	ck_assert_uint_eq(ns, 2);
	ck_assert_uint_eq(sp[1].addr, a + 8 * PG);
	ck_assert_uint_eq(buf[4 * PG + 7], 0);
	ck_assert_int_eq(ml_populated_next(it, buf, sizeof(buf), sp, 8, &ns), 0);
	ml_populated_free(it);
	/* present PROT_NONE pages: read through the fallback */
	uint64_t pn = mlt_cmd_u64(c, "addr", "protnone 3");
	ck_assert_int_eq(ml_populated_open(p, pn, pn + 3 * PG, NULL, &it), 0);
	ck_assert_int_eq(ml_populated_next(it, buf, sizeof(buf), sp, 8, &ns), 3 * PG);
	ck_assert_uint_eq(buf[PG + 1], mlt_page_pattern(pn + PG + 1));
	ck_assert_int_eq(ml_populated_next(it, buf, 100, sp, 8, &ns), -EINVAL);
	ml_populated_free(it);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST


START_TEST(exec_in_the_target_ends_reading)
{
	mlt_child *c = mlt_spawn("ml_child", NULL);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	uint64_t a = mlt_kv(mlt_cmd_ok(c, "map 0x100000"), "addr");
	mlt_cmd_ok(c, "touch 0x%llx 0x100000 4096", (unsigned long long)a);
	ml_populated *it;
	ck_assert_int_eq(ml_populated_open(p, a, a + 0x100000, NULL, &it), 0);
	ml_source *s;
	ck_assert_int_eq(ml_source_open_proc(p, &s), 0);
	unsigned char buf[8192];
	ck_assert_int_eq(ml_source_read(s, a, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	/* the new image maps memory at other addresses; whatever it has, it is not ours */
	char *path = mlt_helper_path("ml_child");
	const char *r = mlt_cmd(c, "exec %s", path);
	free(path);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(strncmp(r, "ready", 5), 0);
	ml_mem_span sp[4];
	size_t ns;
	ck_assert_int_eq(ml_populated_next(it, buf, sizeof(buf), sp, 4, &ns), -ESRCH);
	ck_assert_int_eq(ml_source_read(s, a, buf, sizeof(buf), 0), -ESRCH);
	ck_assert_int_eq(ml_mem_read(p, a, buf, 16), -ESRCH);
	ml_source_free(s);
	ml_populated_free(it);
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

/*
 * A page neither process_vm_readv nor /proc/PID/mem can read (memfd_secret) in the middle of
 * a run of present pages: [A][secret][B], a hole, [C]. The batch's first span (A, secret, B)
 * splits into two around the dropped page, with as many spans as the caller has (two, so C
 * comes next). The split was written over the batch's next span before it was read (C
 * read at B's address: B twice, C lost) and could write past the caller's array.
 */
START_TEST(populated_reader_splits_a_span_at_an_unreadable_page)
{
	mlt_child *c = mlt_spawn("ml_pages", NULL);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	uint64_t a = mlt_cmd_u64(c, "addr", "anon 5");
	mlt_cmd_ok(c, "write 0x%llx 5", (unsigned long long)a);
	const char *r = mlt_cmd(c, "secretat 0x%llx", (unsigned long long)(a + PG));
	if (!r || strncmp(r, "ok", 2)) {
		ml_proc_free(p);
		mlt_child_free(c);
		mlt_skip("memfd_secret is not available here (%s)", r ? r : "EOF");
	}
	mlt_cmd_ok(c, "dontneed 0x%llx 1", (unsigned long long)(a + 3 * PG));
	for (int emul = 0; emul < 2; emul++) {
		ML_OPTS(ml_populated_opts, o, .force_emulation = emul);
		ml_populated *it;
		ck_assert_int_eq(ml_populated_open(p, a, a + 5 * PG, &o, &it), 0);
		unsigned char *buf = malloc(16 * PG);
		ml_mem_span *sp = malloc(2 * sizeof(*sp)); /* exactly two: a write past them is caught */
		uint64_t want[] = { a, a + 2 * PG, a + 4 * PG }, seen = 0;
		size_t ns;
		ssize_t n;
		while ((n = ml_populated_next(it, buf, 16 * PG, sp, 2, &ns)) > 0) {
			ck_assert_uint_le(ns, 2);
			size_t off = 0;
			for (size_t i = 0; i < ns; i++) {
				ck_assert_uint_lt(seen, 3);
				ck_assert_uint_eq(sp[i].addr, want[seen]);
				ck_assert_uint_eq(sp[i].len, PG);
				for (uint64_t x = 0; x < PG; x += 512)
					ck_assert_uint_eq(buf[off + x], mlt_page_pattern(sp[i].addr + x));
				off += sp[i].len;
				seen++;
			}
			ck_assert_uint_eq(off, (size_t)n);
		}
		ck_assert_int_eq(n, 0);
		ck_assert_uint_eq(seen, 3);
		ck_assert_uint_eq(ml_populated_skipped(it), PG);
		free(sp);
		free(buf);
		ml_populated_free(it);
	}
	ml_proc_free(p);
	mlt_child_free(c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mem");
	TCase *tc = tcase_create("mem");
	tcase_add_test(tc, reads_written_memory_exactly);
	tcase_add_test(tc, short_reads_stop_at_the_first_unreadable_page);
	tcase_add_test(tc, prot_none_and_secret_memory);
	tcase_add_test(tc, gone_process);
	tcase_add_test(tc, exec_in_the_target_ends_reading);
	tcase_add_test(tc, populated_reader_never_faults_pages_in);
	tcase_add_test(tc, populated_reader_zero_pages_and_prot_none);
	tcase_add_test(tc, populated_reader_splits_a_span_at_an_unreadable_page);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
