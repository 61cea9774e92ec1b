/* Pagemap entry decoders, the scan emulation's categories and run builder, on synthetic entries. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <memlens/memlens.h>

#include "internal/page.h"
#include "mltest.h"

#define PG 4096u
#define PRESENT ML_PME_PRESENT
#define Z 0x1000u   /* a made-up zero-page PFN */
#define HZ 0x200000u /* a made-up huge zero PFN (512-aligned) */

START_TEST(decoders_cover_every_bit)
{
	uint64_t e = PRESENT | ML_PME_EXCLUSIVE | ML_PME_SOFT_DIRTY | 0x1234;
	ck_assert(ml_pme_present(e));
	ck_assert(ml_pme_exclusive(e));
	ck_assert(ml_pme_soft_dirty(e));
	ck_assert(!ml_pme_swapped(e) && !ml_pme_file(e) && !ml_pme_uffd_wp(e) && !ml_pme_guard(e));
	ck_assert_uint_eq(ml_pme_pfn(e), 0x1234);
	ck_assert_uint_eq(ml_pme_swap_type(e), 0);
	ck_assert_uint_eq(ml_pme_swap_offset(e), 0);
	/* the PFN field is 55 bits wide */
	ck_assert_uint_eq(ml_pme_pfn(PRESENT | ML_PME_PFN_MASK), (UINT64_C(1) << 55) - 1);
	/* swapped: type in bits 0-4, offset in 5-54 */
	uint64_t s = ML_PME_SWAPPED | ML_PME_FILE | ML_PME_UFFD_WP | (UINT64_C(0xabcde) << 5) | 3;
	ck_assert(ml_pme_swapped(s) && ml_pme_file(s) && ml_pme_uffd_wp(s) && !ml_pme_present(s));
	ck_assert_uint_eq(ml_pme_swap_type(s), 3);
	ck_assert_uint_eq(ml_pme_swap_offset(s), 0xabcde);
	ck_assert_uint_eq(ml_pme_pfn(s), 0);
	/* guard pages set bit 62 too, but are not swapped */
	uint64_t g = ML_PME_SWAPPED | ML_PME_GUARD | 0x9f;
	ck_assert(ml_pme_guard(g) && !ml_pme_swapped(g));
	ck_assert_uint_eq(ml_pme_swap_type(g), 0);
	ck_assert(!ml_pme_present(0) && ml_pme_pfn(0) == 0);
	/* bit positions are the kernel's */
	ck_assert_uint_eq(ML_PME_PRESENT, UINT64_C(1) << 63);
	ck_assert_uint_eq(ML_PME_SWAPPED, UINT64_C(1) << 62);
	ck_assert_uint_eq(ML_PME_FILE, UINT64_C(1) << 61);
	ck_assert_uint_eq(ML_PME_GUARD, UINT64_C(1) << 58);
	ck_assert_uint_eq(ML_PME_UFFD_WP, UINT64_C(1) << 57);
	ck_assert_uint_eq(ML_PME_EXCLUSIVE, UINT64_C(1) << 56);
	ck_assert_uint_eq(ML_PME_SOFT_DIRTY, UINT64_C(1) << 55);
	ck_assert_uint_eq(sizeof(ml_page_region), 24);
}
END_TEST

START_TEST(categories_per_page)
{
	uint64_t e[] = {
		PRESENT | 0x5555,                      /* anon */
		PRESENT | ML_PME_FILE | 0x6666,        /* file */
		PRESENT | Z,                           /* zero page */
		PRESENT | ML_PME_FILE | (HZ + 7),      /* huge zero page: pagemap says file */
		ML_PME_SWAPPED | 0x40,                 /* swap */
		ML_PME_SWAPPED | ML_PME_GUARD,         /* guard */
		0,                                     /* none */
		ML_PME_UFFD_WP,                        /* uffd-wp marker */
		PRESENT | ML_PME_SOFT_DIRTY | 0x7777,
		ML_PME_SWAPPED | ML_PME_FILE | ML_PME_SOFT_DIRTY,
	};
	size_t n = sizeof(e) / sizeof(e[0]);
	uint64_t c[sizeof(e) / sizeof(e[0])];
	ml_pagemap_categories(e, n, 0x10000, true, Z, HZ, c);
	ck_assert_uint_eq(c[0], ML_PAGE_PRESENT);
	ck_assert_uint_eq(c[1], ML_PAGE_PRESENT | ML_PAGE_FILE);
	ck_assert_uint_eq(c[2], ML_PAGE_PRESENT | ML_PAGE_PFNZERO);
	ck_assert_uint_eq(c[3], ML_PAGE_PRESENT | ML_PAGE_PFNZERO);
	ck_assert_uint_eq(c[4], ML_PAGE_SWAPPED);
	ck_assert_uint_eq(c[5], ML_PAGE_SWAPPED | ML_PAGE_GUARD);
	ck_assert_uint_eq(c[6], 0);
	ck_assert_uint_eq(c[7], 0);
	ck_assert_uint_eq(c[8], ML_PAGE_PRESENT | ML_PAGE_SOFT_DIRTY);
	ck_assert_uint_eq(c[9], ML_PAGE_SWAPPED | ML_PAGE_FILE | ML_PAGE_SOFT_DIRTY);
	/* without visible PFNs nothing is known about zero pages */
	ml_pagemap_categories(e, n, 0x10000, false, Z, HZ, c);
	ck_assert_uint_eq(c[2], ML_PAGE_PRESENT);
	ck_assert_uint_eq(c[3], ML_PAGE_PRESENT | ML_PAGE_FILE);
}
END_TEST

/* 512 entries of one PMD mapping starting at @pfn. */
static void pmd(uint64_t *e, uint64_t pfn, uint64_t flags)
{
	for (unsigned i = 0; i < 512; i++)
		e[i] = PRESENT | flags | (pfn + i);
}

START_TEST(huge_needs_an_aligned_contiguous_block)
{
	uint64_t *e = calloc(2048, 8), *c = calloc(2048, 8);
	uint64_t base = 0x40000000; /* 2 MiB aligned */
	pmd(e, 0x80000, ML_PME_EXCLUSIVE);           /* a THP */
	pmd(e + 512, HZ, ML_PME_FILE);                /* the huge zero page */
	pmd(e + 1024, 0x90001, 0);                    /* PFNs not 512-aligned */
	pmd(e + 1536, 0xa0000, 0);
	e[1536 + 100] = PRESENT | 0x12345;            /* a hole in the physical run */
	ml_pagemap_categories(e, 2048, base, true, Z, HZ, c);
	for (unsigned i = 0; i < 512; i++) {
		ck_assert_uint_eq(c[i], ML_PAGE_PRESENT | ML_PAGE_HUGE);
		ck_assert_uint_eq(c[512 + i], ML_PAGE_PRESENT | ML_PAGE_HUGE | ML_PAGE_PFNZERO);
		ck_assert_uint_eq(c[1024 + i], ML_PAGE_PRESENT);
		ck_assert_uint_eq(c[1536 + i], ML_PAGE_PRESENT);
	}
	/* the same THP seen from a base that is not 2 MiB aligned is not a PMD mapping */
	ml_pagemap_categories(e, 512, base + PG, true, Z, HZ, c);
	ck_assert_uint_eq(c[0], ML_PAGE_PRESENT);
	/* a block cut by the end of the array is not judged */
	ml_pagemap_categories(e, 511, base, true, Z, HZ, c);
	ck_assert_uint_eq(c[0], ML_PAGE_PRESENT);
	/* pages with different flag bits in one block */
	e[3] |= ML_PME_SOFT_DIRTY;
	ml_pagemap_categories(e, 512, base, true, Z, HZ, c);
	ck_assert_uint_eq(c[0], ML_PAGE_PRESENT);
	/* PFNs hidden: never huge */
	pmd(e, 0x80000, 0);
	ml_pagemap_categories(e, 512, base, false, 0, 0, c);
	ck_assert_uint_eq(c[0], ML_PAGE_PRESENT);
	free(e);
	free(c);
}
END_TEST

/* In a private anonymous mapping, a present page pagemap marks as a file page is the huge
 * zero page (PM_FILE on a PMD-mapped folio that is not anonymous): not FILE. */
START_TEST(huge_zero_page_in_anonymous_memory_is_not_file)
{
	uint64_t e[] = {
		PRESENT | ML_PME_FILE,                          /* huge zero page, PFN hidden */
		PRESENT | ML_PME_FILE | ML_PME_SOFT_DIRTY,      /* the same, soft-dirty PMD */
		PRESENT | ML_PME_EXCLUSIVE,                     /* an anonymous page */
		PRESENT,                                        /* the 4 KiB zero page: no PM_FILE */
		ML_PME_SWAPPED | ML_PME_FILE | 0x40,            /* not present: left alone */
		ML_PME_SWAPPED | ML_PME_GUARD,
		0,
	};
	size_t n = sizeof(e) / sizeof(e[0]);
	uint64_t c[sizeof(e) / sizeof(e[0])];
	/* PFNs hidden: the entries alone say FILE (the public contract of the pure function) */
	ml_pagemap_categories(e, n, 0x40000000, false, 0, 0, c);
	ck_assert_uint_eq(c[0], ML_PAGE_PRESENT | ML_PAGE_FILE);
	ml__pagemap_zerofill_cats(c, n);
	ck_assert_uint_eq(c[0], ML_PAGE_PRESENT | ML_PAGE_PFNZERO);
	ck_assert_uint_eq(c[1], ML_PAGE_PRESENT | ML_PAGE_PFNZERO | ML_PAGE_SOFT_DIRTY);
	ck_assert_uint_eq(c[2], ML_PAGE_PRESENT);
	ck_assert_uint_eq(c[3], ML_PAGE_PRESENT);
	ck_assert_uint_eq(c[4], ML_PAGE_SWAPPED | ML_PAGE_FILE);
	ck_assert_uint_eq(c[5], ML_PAGE_SWAPPED | ML_PAGE_GUARD);
	ck_assert_uint_eq(c[6], 0);
	/* PFNs visible and the huge zero page known: the same answer either way */
	e[0] |= HZ;
	ml_pagemap_categories(e, 1, 0x40000000, true, Z, HZ, c);
	ck_assert_uint_eq(c[0], ML_PAGE_PRESENT | ML_PAGE_PFNZERO);
	ml__pagemap_zerofill_cats(c, 1);
	ck_assert_uint_eq(c[0], ML_PAGE_PRESENT | ML_PAGE_PFNZERO);
}
END_TEST

/* PFN visibility is what the kernel shows in an entry of our own present page. */
START_TEST(pfn_visibility_decided_from_an_own_page)
{
	ck_assert_int_eq(ml__pfn_visible_decide(PRESENT | ML_PME_EXCLUSIVE | 0x12345), 1);
	ck_assert_int_eq(ml__pfn_visible_decide(PRESENT | ML_PME_EXCLUSIVE), 0);
	ck_assert_int_eq(ml__pfn_visible_decide(PRESENT | ML_PME_SOFT_DIRTY), 0);
	/* not present: the PFN field is empty or a swap entry, and says nothing */
	ck_assert_int_eq(ml__pfn_visible_decide(0), -ENODATA);
	ck_assert_int_eq(ml__pfn_visible_decide(ML_PME_SWAPPED | (UINT64_C(0x777) << 5) | 1), -ENODATA);
	ck_assert_int_eq(ml__pfn_visible_decide(ML_PME_SWAPPED | ML_PME_GUARD), -ENODATA);
}
END_TEST

START_TEST(runs_merge_filter_and_stop)
{
	/* P P . P S . P */
	uint64_t c[] = { ML_PAGE_PRESENT, ML_PAGE_PRESENT, 0, ML_PAGE_PRESENT | ML_PAGE_FILE, ML_PAGE_SWAPPED, 0,
			 ML_PAGE_PRESENT };
	ml_page_region v[8];
	size_t used = 0;
	uint64_t done = 0;
	ML_OPTS(ml_scan_opts, o, .return_mask = ML_PAGE_PRESENT | ML_PAGE_SWAPPED);
	/* all pages, FILE not returned: pages 3's run merges with nothing but its kind */
	ck_assert_uint_eq(ml_pagemap_build_runs(&o, 0x1000, c, 7, v, 8, &used, &done), 7);
	ck_assert_uint_eq(used, 6);
	ck_assert(v[0].start == 0x1000 && v[0].end == 0x3000 && v[0].categories == ML_PAGE_PRESENT);
	ck_assert(v[1].start == 0x3000 && v[1].end == 0x4000 && v[1].categories == 0);
	ck_assert(v[2].start == 0x4000 && v[2].end == 0x5000 && v[2].categories == ML_PAGE_PRESENT);
	ck_assert_uint_eq(done, 7);
	/* present only */
	o.category_mask = ML_PAGE_PRESENT;
	used = done = 0;
	ck_assert_uint_eq(ml_pagemap_build_runs(&o, 0x1000, c, 7, v, 8, &used, &done), 7);
	ck_assert_uint_eq(used, 3);
	ck_assert(v[0].end == 0x3000 && v[1].start == 0x4000 && v[1].end == 0x5000 && v[2].start == 0x7000);
	ck_assert_uint_eq(done, 4);
	/* anyof present|swapped, present and swapped adjacent with equal return mask merge */
	o.category_mask = 0;
	o.category_anyof_mask = ML_PAGE_PRESENT | ML_PAGE_SWAPPED;
	o.return_mask = 0;
	used = done = 0;
	ck_assert_uint_eq(ml_pagemap_build_runs(&o, 0x1000, c, 7, v, 8, &used, &done), 7);
	ck_assert_uint_eq(used, 3);
	ck_assert(v[1].start == 0x4000 && v[1].end == 0x6000);
	/* inverted: not present */
	o.category_anyof_mask = 0;
	o.category_inverted = o.category_mask = ML_PAGE_PRESENT;
	o.return_mask = ML_PAGE_SWAPPED;
	used = done = 0;
	ml_pagemap_build_runs(&o, 0x1000, c, 7, v, 8, &used, &done);
	ck_assert_uint_eq(used, 3);
	ck_assert(v[0].start == 0x3000 && v[1].start == 0x5000 && v[1].categories == ML_PAGE_SWAPPED);
	ck_assert(v[2].start == 0x6000 && v[2].categories == 0);
	/* a full vector stops where the next run would begin; the last run can still grow */
	ML_OPTS(ml_scan_opts, all, .return_mask = ML_PAGE_PRESENT);
	used = done = 0;
	ck_assert_uint_eq(ml_pagemap_build_runs(&all, 0, c, 7, v, 1, &used, &done), 2);
	ck_assert_uint_eq(used, 1);
	ck_assert_uint_eq(v[0].end, 0x2000);
	/* appending continues the previous call's last run, even with the vector full */
	uint64_t more[] = { ML_PAGE_PRESENT | ML_PAGE_FILE, 0 };
	ck_assert_uint_eq(ml_pagemap_build_runs(&all, 0x2000, more, 2, v, 1, &used, &done), 1);
	ck_assert_uint_eq(used, 1);
	ck_assert_uint_eq(v[0].end, 0x3000);
	ck_assert_uint_eq(ml_pagemap_build_runs(&all, 0x3000, more + 1, 1, v, 2, &used, &done), 1);
	ck_assert_uint_eq(used, 2);
	ck_assert(v[1].start == 0x3000 && v[1].categories == 0);
	/* max_pages */
	all.max_pages = 3;
	used = done = 0;
	ck_assert_uint_eq(ml_pagemap_build_runs(&all, 0, c, 7, v, 8, &used, &done), 3);
	ck_assert_uint_eq(done, 3);
}
END_TEST

START_TEST(category_names)
{
	ck_assert_str_eq(ml_page_category_name(ML_PAGE_PRESENT), "present");
	ck_assert_str_eq(ml_page_category_name(ML_PAGE_PFNZERO), "pfn-zero");
	ck_assert_str_eq(ml_page_category_name(ML_PAGE_GUARD), "guard");
	ck_assert_ptr_null(ml_page_category_name(ML_PAGE_PRESENT | ML_PAGE_FILE));
	ck_assert_ptr_null(ml_page_category_name(UINT64_C(1) << 9));
	for (unsigned b = 0; b < 9; b++)
		ck_assert_ptr_nonnull(ml_page_category_name(UINT64_C(1) << b));
}
END_TEST

START_TEST(kpf_names_include_internal_bits)
{
	ck_assert_str_eq(ml_kpage_flag_name(ML_KPF_LOCKED), "locked");
	ck_assert_str_eq(ml_kpage_flag_name(ML_KPF_THP), "thp");
	ck_assert_str_eq(ml_kpage_flag_name(ML_KPF_ZERO_PAGE), "zero_page");
	ck_assert_str_eq(ml_kpage_flag_name(ML_KPF_PGTABLE), "pgtable");
	for (unsigned b = 0; b <= 26; b++)
		ck_assert_ptr_nonnull(ml_kpage_flag_name(b));
	for (unsigned b = 27; b < 32; b++)
		ck_assert_ptr_null(ml_kpage_flag_name(b));
	for (unsigned b = 32; b <= 41; b++) {
		ck_assert_ptr_nonnull(ml_kpage_flag_name(b));
		ck_assert_int_ne(ml_kpage_flag_letter(b), 0);
	}
	ck_assert_str_eq(ml_kpage_flag_name(ML_KPF_RESERVED), "reserved");
	ck_assert_str_eq(ml_kpage_flag_name(ML_KPF_SOFTDIRTY), "softdirty");
	ck_assert_str_eq(ml_kpage_flag_name(ML_KPF_ARCH_2), "arch_2");
	ck_assert_ptr_null(ml_kpage_flag_name(42));
	ck_assert_ptr_null(ml_kpage_flag_name(64));
	ck_assert_ptr_null(ml_kpage_flag_name(1000));
	ck_assert_int_eq(ml_kpage_flag_letter(ML_KPF_REFERENCED), 'R');
	ck_assert_int_eq(ml_kpage_open(0, NULL), -EINVAL);
	ml_kpage *k;
	ck_assert_int_eq(ml_kpage_open(0, &k), -EINVAL);
	ck_assert_int_eq(ml_kpage_open(0x8, &k), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pagemap");
	TCase *tc = tcase_create("pure");
	tcase_add_test(tc, decoders_cover_every_bit);
	tcase_add_test(tc, categories_per_page);
	tcase_add_test(tc, huge_needs_an_aligned_contiguous_block);
	tcase_add_test(tc, huge_zero_page_in_anonymous_memory_is_not_file);
	tcase_add_test(tc, pfn_visibility_decided_from_an_own_page);
	tcase_add_test(tc, runs_merge_filter_and_stop);
	tcase_add_test(tc, category_names);
	tcase_add_test(tc, kpf_names_include_internal_bits);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
