/* The zero-page probe's decision fed both kernels' evidence, and its consumers run with each answer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "internal/page.h"
#include "mltest.h"

#define PG 4096u

/*
 * Evidence as measured (pagemap entries, kpageflags, kpagecount of two read-faulted pages):
 * this machine's kernel maps the shared zero page (PFN 0x3928, KPF_ZERO_PAGE|RESERVED|
 * REFERENCED, count 0); one booted with pvm_no_zero_page=1 maps a private page each time
 * (present + exclusive, kpageflags 0x400005808, count 1, a new PFN each).
 */
#define PRESENT ML_PME_PRESENT
#define EXCL ML_PME_EXCLUSIVE
#define KF_ZERO INT64_C(0x101000004)
#define KF_PRIVATE INT64_C(0x400005808)
#define KF_HUGE_ZERO INT64_C(0x1408000)

static ml__zero_evidence with_zero_page(void)
{
	return (ml__zero_evidence){ .e = { PRESENT | 0x3928, PRESENT | 0x3928 },
				    .kflags = { KF_ZERO, KF_ZERO }, .kcount = { 0, 0 } };
}

static ml__zero_evidence without_zero_page(void)
{
	return (ml__zero_evidence){ .e = { PRESENT | EXCL | 0x171405, PRESENT | EXCL | 0x1616fa },
				    .kflags = { KF_PRIVATE, KF_PRIVATE }, .kcount = { 1, 1 } };
}

START_TEST(decide_zero_page_on)
{
	ml__zero_evidence ev = with_zero_page();
	uint64_t z = 0;
	ck_assert_int_eq(ml__zero_decide(&ev, false, &z), 0);
	ck_assert_uint_eq(z, 0x3928);
	/* without /proc/kpage*: two mappings sharing one frame neither owns is the proof */
	ev.kflags[0] = ev.kflags[1] = ev.kcount[0] = ev.kcount[1] = -1;
	z = 0;
	ck_assert_int_eq(ml__zero_decide(&ev, false, &z), 0);
	ck_assert_uint_eq(z, 0x3928);
	/* PFNs hidden: likely the zero page, never confirmed, and *ret untouched */
	ev.e[0] = ev.e[1] = PRESENT;
	z = 7;
	ck_assert_int_eq(ml__zero_decide(&ev, false, &z), -EPERM);
	ck_assert_uint_eq(z, 7);
}
END_TEST

START_TEST(decide_zero_page_off)
{
	ml__zero_evidence ev = without_zero_page();
	uint64_t z = 7;
	ck_assert_int_eq(ml__zero_decide(&ev, false, &z), -EOPNOTSUPP);
	ck_assert_int_eq(ml__zero_decide(&ev, true, &z), -ENOENT);
	/* told without PFNs or kpageflags too: the exclusive bit is shown to everyone */
	ev.e[0] = ev.e[1] = PRESENT | EXCL;
	ev.kflags[0] = ev.kflags[1] = ev.kcount[0] = ev.kcount[1] = -1;
	ck_assert_int_eq(ml__zero_decide(&ev, false, &z), -EOPNOTSUPP);
	ck_assert_uint_eq(z, 7);
}
END_TEST

START_TEST(decide_never_guesses)
{
	uint64_t z = 7;
	/* the old probe's mistake: one private page taken for the zero page */
	ml__zero_evidence ev = without_zero_page();
	ev.e[1] = ev.e[0];
	ck_assert_int_eq(ml__zero_decide(&ev, false, &z), -ENODATA);
	/* one frame shared, but kpageflags says it is not the zero page */
	ev = with_zero_page();
	ev.kflags[1] = KF_PRIVATE;
	ck_assert_int_eq(ml__zero_decide(&ev, false, &z), -ENODATA);
	/* ... or kpagecount says it is mapped once */
	ev = with_zero_page();
	ev.kcount[0] = 1;
	ck_assert_int_eq(ml__zero_decide(&ev, false, &z), -ENODATA);
	/* two frames neither owns */
	ev = with_zero_page();
	ev.e[1] = PRESENT | 0x3929;
	ck_assert_int_eq(ml__zero_decide(&ev, false, &z), -ENODATA);
	/* one private, one not */
	ev = with_zero_page();
	ev.e[1] |= EXCL;
	ck_assert_int_eq(ml__zero_decide(&ev, false, &z), -ENODATA);
	/* a private page whose frame claims to be the zero page */
	ev = without_zero_page();
	ev.kflags[0] = KF_ZERO;
	ck_assert_int_eq(ml__zero_decide(&ev, false, &z), -ENODATA);
	/* not present after the read fault */
	ev = with_zero_page();
	ev.e[0] = 0;
	ck_assert_int_eq(ml__zero_decide(&ev, false, &z), -ENODATA);
	ck_assert_uint_eq(z, 7);
}
END_TEST

START_TEST(decide_huge_zero_page)
{
	ml__zero_evidence ev = {
		.e = { PRESENT | ML_PME_FILE | 0x166000, PRESENT | ML_PME_FILE | 0x166000 },
		.e_next = { PRESENT | ML_PME_FILE | 0x166001, PRESENT | ML_PME_FILE | 0x166001 },
		.kflags = { KF_HUGE_ZERO, KF_HUGE_ZERO }, .kcount = { 0, 0 } };
	uint64_t z = 0;
	ck_assert_int_eq(ml__zero_decide(&ev, true, &z), 0);
	ck_assert_uint_eq(z, 0x166000);
	/* THP never: the 4 KiB zero page, not PMD-mapped */
	ml__zero_evidence four = with_zero_page();
	ck_assert_int_eq(ml__zero_decide(&four, true, &z), -ENOENT);
	/* use_zero_page 0 or no zero pages: a private THP each */
	ev.e[0] = PRESENT | EXCL | 0x200000;
	ev.e_next[0] = PRESENT | EXCL | 0x200001;
	ev.e[1] = PRESENT | EXCL | 0x400000;
	ev.e_next[1] = PRESENT | EXCL | 0x400001;
	ev.kflags[0] = ev.kflags[1] = INT64_C(0x400408068);
	ev.kcount[0] = ev.kcount[1] = 1;
	ck_assert_int_eq(ml__zero_decide(&ev, true, &z), -ENOENT);
	ck_assert_uint_eq(z, 0x166000);
}
END_TEST

/*
 * The consumers, given each probe answer, on a live child whose page A was written and
 * page A+1 read-faulted. The answer "on" names the frame the read fault mapped (the zero
 * page here; on a kernel without one, a private page standing in for it), so both sides
 * run on any machine. Emulation is forced: with PAGEMAP_SCAN the kernel tells the zero page.
 */
typedef struct world {
	mlt_child *c;
	ml_proc *p;
	ml_pagemap *pm;
	uint64_t a, readf_pfn;
} world;

static world open_world(void)
{
	world w = { .c = mlt_spawn("ml_pages", NULL) };
	ck_assert_int_eq(ml_proc_open(w.c->pid, &w.p), 0);
	ck_assert_int_eq(ml_pagemap_open(w.p, &w.pm), 0);
	w.a = mlt_cmd_u64(w.c, "addr", "anon 4");
	mlt_cmd_ok(w.c, "write 0x%llx 1", (unsigned long long)w.a);
	mlt_cmd_ok(w.c, "readf 0x%llx 1", (unsigned long long)(w.a + PG));
	uint64_t e[2];
	ck_assert_int_eq(ml_pagemap_read(w.pm, w.a, e, 2), 2);
	ck_assert(ml_pme_present(e[0]) && ml_pme_present(e[1]));
	w.readf_pfn = ml_pme_pfn(e[1]);
	return w;
}

static void close_world(world *w)
{
	ml_pagemap_free(w->pm);
	ml_proc_free(w->p);
	mlt_child_free(w->c);
}

/* Emulated categories of the two pages. */
static void emulated(world *w, uint64_t cats[2])
{
	ML_OPTS(ml_scan_opts, o, .start = w->a, .end = w->a + 2 * PG, .force_emulation = true,
		.return_mask = ML_PAGE_PRESENT | ML_PAGE_PFNZERO);
	ml_page_region v[2];
	uint64_t next;
	ssize_t n = ml_pagemap_scan(w->pm, &o, v, 2, &next);
	ck_assert_int_ge(n, 1);
	for (int i = 0; i < 2; i++) {
		uint64_t addr = w->a + (uint64_t)i * PG;
		cats[i] = 0;
		for (ssize_t j = 0; j < n; j++)
			if (v[j].start <= addr && addr < v[j].end)
				cats[i] = v[j].categories;
	}
}

/* Bytes the populated-only reader hands back (zero pages skipped by default). */
static ssize_t populated_bytes(world *w)
{
	ML_OPTS(ml_populated_opts, o, .force_emulation = true);
	ml_populated *it;
	ck_assert_int_eq(ml_populated_open(w->p, w->a, w->a + 4 * PG, &o, &it), 0);
	unsigned char buf[4 * PG];
	ml_mem_span sp[4];
	size_t ns;
	ssize_t n = ml_populated_next(it, buf, sizeof(buf), sp, 4, &ns);
	ml_populated_free(it);
	return n;
}

START_TEST(consumers_with_zero_page_on)
{
	world w = open_world();
	ml__zero_set(0, w.readf_pfn, -ENOENT, 0);
	if (!ml_pagemap_pfn_visible(w.pm)) {
		/* a zero page that PFNs cannot show is not classified */
		ck_assert(!(ml_pagemap_scan_categories(w.pm, true) & ML_PAGE_PFNZERO));
		ck_assert_int_eq(populated_bytes(&w), 2 * PG);
		close_world(&w);
		return;
	}
	ck_assert(ml_pagemap_scan_categories(w.pm, true) & ML_PAGE_PFNZERO);
	ck_assert(ml_pagemap_scan_categories(w.pm, true) & ML_PAGE_HUGE);
	uint64_t c[2];
	emulated(&w, c);
	ck_assert_uint_eq(c[0], ML_PAGE_PRESENT);
	ck_assert_uint_eq(c[1], ML_PAGE_PRESENT | ML_PAGE_PFNZERO);
	ck_assert(ml_pagemap_pfn_is_zero(w.readf_pfn));
	/* the populated-only reader skips it */
	ck_assert_int_eq(populated_bytes(&w), PG);
	close_world(&w);
}
END_TEST

START_TEST(consumers_with_zero_page_off)
{
	world w = open_world();
	ml__zero_set(-EOPNOTSUPP, 0, -ENOENT, 0);
	uint64_t z;
	ck_assert_int_eq(ml_pagemap_zero_pfn(&z), -EOPNOTSUPP);
	/* known absent: plain entries can be classified (no page is the zero page), PFNs or not */
	ck_assert(ml_pagemap_scan_categories(w.pm, true) & ML_PAGE_PFNZERO);
	uint64_t c[2];
	emulated(&w, c);
	ck_assert_uint_eq(c[0], ML_PAGE_PRESENT);
	ck_assert_uint_eq(c[1], ML_PAGE_PRESENT);
	ck_assert(!ml_pagemap_pfn_is_zero(w.readf_pfn));
	/* the read-faulted page is data, and is read */
	ck_assert_int_eq(populated_bytes(&w), 2 * PG);
	close_world(&w);
}
END_TEST

START_TEST(consumers_with_zero_page_unknown)
{
	world w = open_world();
	ml__zero_set(-ENODATA, 0, -ENODATA, 0);
	uint64_t z;
	ck_assert_int_eq(ml_pagemap_zero_pfn(&z), -ENODATA);
	ck_assert_int_eq(ml_pagemap_huge_zero_pfn(&z), -ENODATA);
	/* the emulation refuses what it cannot tell, rather than say "not zero" */
	ck_assert(!(ml_pagemap_scan_categories(w.pm, true) & (ML_PAGE_PFNZERO | ML_PAGE_HUGE)));
	ML_OPTS(ml_scan_opts, o, .start = w.a, .end = w.a + 2 * PG, .force_emulation = true,
		.return_mask = ML_PAGE_PRESENT | ML_PAGE_PFNZERO);
	ml_page_region v[2];
	uint64_t next;
	ck_assert_int_eq(ml_pagemap_scan(w.pm, &o, v, 2, &next), -EOPNOTSUPP);
	ck_assert(!ml_pagemap_pfn_is_zero(w.readf_pfn));
	/* the populated-only reader reads what it cannot tell apart: both pages */
	ck_assert_int_eq(populated_bytes(&w), 2 * PG);
	close_world(&w);
}
END_TEST

/* The real probe agrees with what a read fault of a child's shows. */
START_TEST(probe_matches_this_kernel)
{
	world w = open_world();
	uint64_t z = 0;
	int r = ml_pagemap_zero_pfn(&z);
	if (mlt_zero_page_mapped(w.c->pid, w.a + PG)) {
		if (ml_pagemap_pfn_visible(w.pm)) {
			ck_assert_int_eq(r, 0);
			ck_assert_uint_eq(z, w.readf_pfn);
		} else {
			ck_assert_int_eq(r, -EPERM);
		}
	} else {
		ck_assert_int_eq(r, -EOPNOTSUPP);
	}
	close_world(&w);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("zero_page");
	TCase *tc = tcase_create("decide");
	tcase_add_test(tc, decide_zero_page_on);
	tcase_add_test(tc, decide_zero_page_off);
	tcase_add_test(tc, decide_never_guesses);
	tcase_add_test(tc, decide_huge_zero_page);
	suite_add_tcase(s, tc);
	/* first: the others replace the probe's answer (for good, when not forked). Tagged: under
	 * an emulating CPU (valgrind) the probe's read faults are not the kernel's evidence alone */
	tc = tcase_create("probe");
	tcase_set_tags(tc, "kernel-probe");
	tcase_add_test(tc, probe_matches_this_kernel);
	suite_add_tcase(s, tc);
	tc = tcase_create("consumers");
	tcase_add_test(tc, consumers_with_zero_page_on);
	tcase_add_test(tc, consumers_with_zero_page_off);
	tcase_add_test(tc, consumers_with_zero_page_unknown);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
