/* pagemap and PAGEMAP_SCAN against a child whose pages are in known states; scan vs emulation. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "mltest.h"

#define PG 4096u

static mlt_child *pages_child(void) { return mlt_spawn("ml_pages", NULL); }

/* Plain pread of the child's pagemap, independent of the library. */
static void raw_entries(pid_t pid, uint64_t addr, uint64_t *e, size_t n)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	int fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, e, n * 8, (off_t)(addr / PG * 8)), (ssize_t)(n * 8));
	close(fd);
}

typedef struct fixture {
	mlt_child *c;
	ml_proc *p;
	ml_pagemap *pm;
} fixture;

static fixture open_child(void)
{
	fixture f = { .c = pages_child() };
	ck_assert_int_eq(ml_proc_open(f.c->pid, &f.p), 0);
	ck_assert_int_eq(ml_pagemap_open(f.p, &f.pm), 0);
	return f;
}

static void close_child(fixture *f)
{
	ml_pagemap_free(f->pm);
	ml_proc_free(f->p);
	mlt_child_free(f->c);
}

START_TEST(entries_match_known_page_states)
{
	fixture f = open_child();
	uint64_t an = mlt_cmd_u64(f.c, "addr", "anon 8");
	mlt_cmd_ok(f.c, "write 0x%llx 2", (unsigned long long)an);
	mlt_cmd_ok(f.c, "readf 0x%llx 2", (unsigned long long)(an + 2 * PG));
	uint64_t sh = mlt_cmd_u64(f.c, "addr", "shared 2");
	uint64_t pn = mlt_cmd_u64(f.c, "addr", "protnone 2");
	char path[] = "/tmp/ml_pages_file_XXXXXX";
	int tfd = mkstemp(path);
	ck_assert_int_ge(tfd, 0);
	close(tfd);
	uint64_t fl = mlt_cmd_u64(f.c, "addr", "file %s 64", path);
	unlink(path);

	uint64_t e[8];
	ck_assert_int_eq(ml_pagemap_read(f.pm, an, e, 8), 8);
	uint64_t raw[8];
	raw_entries(f.c->pid, an, raw, 8);
	for (int i = 0; i < 8; i++)
		ck_assert_uint_eq(e[i] & ~ML_PME_EXCLUSIVE, raw[i] & ~ML_PME_EXCLUSIVE);
	/* written: present, exclusive, anonymous */
	for (int i = 0; i < 2; i++) {
		ck_assert(ml_pme_present(e[i]));
		ck_assert(ml_pme_exclusive(e[i]));
		ck_assert(!ml_pme_file(e[i]));
		ck_assert(!ml_pme_swapped(e[i]));
		ck_assert(!ml_pme_guard(e[i]));
		ck_assert_uint_eq(ml_pme_swap_type(e[i]), 0);
	}
	/* read-faulted: present, not file pages (the zero page, or a private page) */
	for (int i = 2; i < 4; i++) {
		ck_assert(ml_pme_present(e[i]));
		ck_assert(!ml_pme_file(e[i]));
	}
	/* untouched */
	for (int i = 4; i < 8; i++) {
		ck_assert_uint_eq(e[i], 0);
		ck_assert(!ml_pme_present(e[i]));
		ck_assert_uint_eq(ml_pme_pfn(e[i]), 0);
	}
	uint64_t z = 0;
	int zr = ml_pagemap_zero_pfn(&z);
	if (!mlt_zero_page_mapped(f.c->pid, an + 2 * PG)) {
		/* a kernel without a shared zero page: each read fault mapped a private page */
		ck_assert_int_eq(zr, -EOPNOTSUPP);
		for (int i = 2; i < 4; i++) {
			ck_assert(ml_pme_exclusive(e[i]));
			ck_assert(!ml_pagemap_pfn_is_zero(ml_pme_pfn(e[i])));
		}
		if (ml_pagemap_pfn_visible(f.pm))
			ck_assert_uint_ne(ml_pme_pfn(e[2]), ml_pme_pfn(e[3]));
	} else if (ml_pagemap_pfn_visible(f.pm)) {
		ck_assert_int_eq(zr, 0);
		ck_assert_uint_ne(ml_pme_pfn(e[0]), 0);
		ck_assert_uint_ne(ml_pme_pfn(e[0]), z);
		ck_assert_uint_ne(ml_pme_pfn(e[0]), ml_pme_pfn(e[1]));
		ck_assert_uint_eq(ml_pme_pfn(e[2]), z);
		ck_assert_uint_eq(ml_pme_pfn(e[3]), z);
		ck_assert(!ml_pme_exclusive(e[2]) && !ml_pme_exclusive(e[3]));
		ck_assert(ml_pagemap_pfn_is_zero(z));
		ck_assert(!ml_pagemap_pfn_is_zero(ml_pme_pfn(e[0])));
	} else {
		ck_assert_int_eq(zr, -EPERM);
	}
	/* shared anonymous: present and "file" (shmem) */
	ck_assert_int_eq(ml_pagemap_read(f.pm, sh, e, 2), 2);
	ck_assert(ml_pme_present(e[0]) && ml_pme_file(e[0]));
	/* PROT_NONE after writing: still present */
	ck_assert_int_eq(ml_pagemap_read(f.pm, pn, e, 2), 2);
	ck_assert(ml_pme_present(e[0]) && ml_pme_present(e[1]));
	/* file: the first half was read (page cache, file bit); the last pages lie beyond
	 * the kernel's 16-page fault-around window and stay unmapped */
	ck_assert_int_eq(ml_pagemap_read(f.pm, fl, e, 2), 2);
	ck_assert(ml_pme_present(e[0]) && ml_pme_file(e[0]));
	ck_assert(ml_pme_present(e[1]) && ml_pme_file(e[1]));
	ck_assert_int_eq(ml_pagemap_read(f.pm, fl + 56 * PG, e, 8), 8);
	for (int i = 0; i < 8; i++)
		ck_assert(!ml_pme_present(e[i]));
	close_child(&f);
}
END_TEST

START_TEST(guard_pages_decode_as_guard_not_swap)
{
	fixture f = open_child();
	const char *r = mlt_cmd(f.c, "guard 4");
	if (strncmp(r, "ok", 2)) {
		close_child(&f);
		mlt_skip("MADV_GUARD_INSTALL unavailable: %s", r);
	}
	uint64_t g = mlt_kv(r, "addr"), e[4];
	ck_assert_int_eq(ml_pagemap_read(f.pm, g, e, 4), 4);
	for (int i = 0; i < 4; i++) {
		ck_assert(ml_pme_guard(e[i]));
		ck_assert(e[i] & ML_PME_SWAPPED);
		ck_assert(!ml_pme_swapped(e[i]));
		ck_assert(!ml_pme_present(e[i]));
		ck_assert_uint_eq(ml_pme_swap_offset(e[i]), 0);
	}
	if (ml_pagemap_has_scan(f.pm) && (ml_pagemap_scan_categories(f.pm, false) & ML_PAGE_GUARD)) {
		ML_OPTS(ml_scan_opts, o, .start = g, .end = g + 4 * PG);
		ml_page_region v[4];
		uint64_t next;
		ck_assert_int_eq(ml_pagemap_scan(f.pm, &o, v, 4, &next), 1);
		ck_assert_uint_eq(v[0].categories, ML_PAGE_GUARD | ML_PAGE_SWAPPED);
		o.force_emulation = true;
		ck_assert_int_eq(ml_pagemap_scan(f.pm, &o, v, 4, &next), 1);
		ck_assert_uint_eq(v[0].categories, ML_PAGE_GUARD | ML_PAGE_SWAPPED);
	}
	close_child(&f);
}
END_TEST

START_TEST(thp_and_huge_zero_page)
{
	fixture f = open_child();
	uint64_t t = mlt_cmd_u64(f.c, "addr", "thp");
	if (!ml_pagemap_has_scan(f.pm) || !ml_pagemap_pfn_visible(f.pm)) {
		close_child(&f);
		mlt_skip("needs PAGEMAP_SCAN and visible PFNs (root)");
	}
	ML_OPTS(ml_scan_opts, o, .start = t, .end = t + (4u << 20));
	ml_page_region v[8];
	uint64_t next;
	ssize_t n = ml_pagemap_scan(f.pm, &o, v, 8, &next);
	ck_assert_uint_eq(next, t + (4u << 20));
	const char *why;
	if (!mlt_thp_possible(&why)) {
		/* no huge pages here: the written half is 4 KiB pages and said to be */
		printf("THP impossible (%s): the region must be in 4 KiB pages\n", why);
		ck_assert_int_ge(n, 1);
		ck_assert_uint_eq(v[0].start, t);
		ck_assert_uint_ge(v[0].end, t + (2u << 20));
		for (ssize_t i = 0; i < n; i++)
			ck_assert(!(v[i].categories & ML_PAGE_HUGE));
		close_child(&f);
		return;
	}
	if (n < 1 || !(v[0].categories & ML_PAGE_HUGE)) {
		close_child(&f);
		mlt_skip("the kernel did not give this child a THP (%zd runs)", n);
	}
	ck_assert_uint_eq(v[0].start, t);
	ck_assert_uint_eq(v[0].categories, ML_PAGE_PRESENT | ML_PAGE_HUGE);
	ck_assert_uint_eq(v[n - 1].end, t + (4u << 20));
	/* The read-faulted half, as the kernel mapped it: the huge zero page (pagemap says
	 * "file", the scan and we say zero), a private THP (use_zero_page 0, or no shared
	 * zero pages in this kernel: one run with the written half), or 4 KiB pages. */
	uint64_t hz, e;
	int hr = ml_pagemap_huge_zero_pfn(&hz);
	ck_assert_int_eq(ml_pagemap_read(f.pm, t + (2u << 20), &e, 1), 1);
	ck_assert(ml_pme_present(e));
	bool huge_zero = !ml_pme_exclusive(e) && ml_pme_file(e);
	if (huge_zero) {
		ck_assert_int_eq(n, 2);
		ck_assert_uint_eq(v[0].end, t + (2u << 20));
		ck_assert_uint_eq(v[1].categories, ML_PAGE_PRESENT | ML_PAGE_HUGE | ML_PAGE_PFNZERO);
		ck_assert_int_eq(hr, 0);
		ck_assert_uint_eq(ml_pme_pfn(e), hz);
	} else if (ml_pme_exclusive(e)) {
		uint64_t e1;
		ck_assert_int_eq(ml_pagemap_read(f.pm, t + (2u << 20) + 4096, &e1, 1), 1);
		if (ml_pme_present(e1)) { /* a private THP, like the written half */
			ck_assert_int_eq(n, 1);
			ck_assert_uint_eq(v[0].end, t + (4u << 20));
		} else { /* one 4 KiB page */
			ck_assert_uint_eq(v[0].end, t + (2u << 20));
			ck_assert_uint_eq(v[1].categories, ML_PAGE_PRESENT);
		}
		ck_assert(!(v[n - 1].categories & ML_PAGE_PFNZERO));
		ck_assert_int_eq(hr, -ENOENT);
	} else {
		ck_assert_uint_eq(v[0].end, t + (2u << 20));
		ck_assert_uint_eq(v[n - 1].categories, ML_PAGE_PRESENT | ML_PAGE_PFNZERO);
	}
	o.force_emulation = true;
	ml_page_region w[8];
	ck_assert_int_eq(ml_pagemap_scan(f.pm, &o, w, 8, &next), n);
	ck_assert_mem_eq(v, w, (size_t)n * sizeof(v[0]));
	close_child(&f);
}
END_TEST

/* Collects every run of the child's address space with @o, coalescing across calls. */
static size_t collect(ml_pagemap *pm, ml_scan_opts *o, ml_page_region *out, size_t cap, size_t vec_n)
{
	ml_page_region *v = malloc(vec_n * sizeof(*v));
	size_t used = 0;
	uint64_t end = o->end;
	uint64_t start = o->start;
	for (;;) {
		uint64_t next;
		ssize_t n = ml_pagemap_scan(pm, o, v, vec_n, &next);
		ck_assert_int_ge(n, 0);
		for (ssize_t i = 0; i < n; i++) {
			if (used && out[used - 1].end == v[i].start && out[used - 1].categories == v[i].categories) {
				out[used - 1].end = v[i].end;
			} else {
				ck_assert_uint_lt(used, cap);
				ck_assert(!used || out[used - 1].end <= v[i].start);
				out[used++] = v[i];
			}
		}
		if (next >= (end ? end : 0x7ffffffff000ull))
			break;
		ck_assert_uint_gt(next, o->start);
		o->start = next;
	}
	o->start = start;
	free(v);
	return used;
}

static void compare_paths(ml_pagemap *pm, ml_scan_opts *o, size_t vec_n)
{
	size_t cap = 1 << 16;
	ml_page_region *a = malloc(cap * sizeof(*a)), *b = malloc(cap * sizeof(*b));
	o->force_emulation = false;
	size_t na = collect(pm, o, a, cap, vec_n);
	o->force_emulation = true;
	size_t nb = collect(pm, o, b, cap, vec_n);
	o->force_emulation = false;
	for (size_t i = 0; i < na && i < nb; i++) {
		if (a[i].start != b[i].start || a[i].end != b[i].end || a[i].categories != b[i].categories)
			ck_abort_msg("run %zu differs: scan [%llx,%llx) %llx, emulation [%llx,%llx) %llx", i,
				     (unsigned long long)a[i].start, (unsigned long long)a[i].end,
				     (unsigned long long)a[i].categories, (unsigned long long)b[i].start,
				     (unsigned long long)b[i].end, (unsigned long long)b[i].categories);
	}
	ck_assert_uint_eq(na, nb);
	free(a);
	free(b);
}

START_TEST(scan_and_emulation_agree)
{
	fixture f = open_child();
	if (!ml_pagemap_has_scan(f.pm)) {
		close_child(&f);
		mlt_skip("no PAGEMAP_SCAN on this kernel: nothing to compare the emulation with");
	}
	uint64_t an = mlt_cmd_u64(f.c, "addr", "anon 64");
	mlt_cmd_ok(f.c, "write 0x%llx 8", (unsigned long long)an);
	mlt_cmd_ok(f.c, "readf 0x%llx 8", (unsigned long long)(an + 16 * PG));
	mlt_cmd_u64(f.c, "addr", "thp");
	mlt_cmd_u64(f.c, "addr", "shared 3");
	mlt_cmd_u64(f.c, "addr", "protnone 2");
	mlt_cmd_u64(f.c, "addr", "alt 300");
	mlt_cmd_u64(f.c, "first", "many 50");
	(void)mlt_cmd(f.c, "guard 2");
	char path[] = "/tmp/ml_pages_file_XXXXXX";
	int tfd = mkstemp(path);
	close(tfd);
	mlt_cmd_u64(f.c, "addr", "file %s 6", path);
	unlink(path);

	uint64_t emul = ml_pagemap_scan_categories(f.pm, true);
	/* The whole address space, in stretches of adjacent mappings; reservations of more
	 * than 4 GiB (a sanitizer's shadow memory) are left out: the emulation would read
	 * 8 bytes for each of their billions of pages. */
	uint64_t gs[256], ge[256];
	size_t ng = 0;
	char mp[64], line[1024];
	snprintf(mp, sizeof(mp), "/proc/%d/maps", (int)f.c->pid);
	FILE *mf = fopen(mp, "r");
	ck_assert_ptr_nonnull(mf);
	while (fgets(line, sizeof(line), mf)) {
		unsigned long long s0, e0;
		if (sscanf(line, "%llx-%llx", &s0, &e0) != 2 || e0 - s0 > (4ull << 30) || s0 >= 0x7ffffffff000ull)
			continue;
		if (ng && ge[ng - 1] == s0)
			ge[ng - 1] = e0;
		else if (ng < 256)
			gs[ng] = s0, ge[ng++] = e0;
	}
	fclose(mf);
	/* several separate stretches (how many depends on the layout): not a vacuous walk */
	ck_assert_uint_ge(ng, 3);
	for (size_t g = 0; g < ng; g++) {
		ML_OPTS(ml_scan_opts, o, .start = gs[g], .end = ge[g], .return_mask = ML_PAGE_STATE_MASK & emul);
		compare_paths(f.pm, &o, 4096); /* everything */
		compare_paths(f.pm, &o, 3);    /* the same through a tiny vector */
		o.category_mask = ML_PAGE_PRESENT;
		compare_paths(f.pm, &o, 100);
		o.category_mask = 0;
		o.category_anyof_mask = ML_PAGE_PRESENT | ML_PAGE_SWAPPED;
		o.return_mask = ML_PAGE_PRESENT;
		compare_paths(f.pm, &o, 7);
		if (emul & ML_PAGE_PFNZERO) {
			o.category_inverted = o.category_mask = ML_PAGE_PFNZERO;
			compare_paths(f.pm, &o, 50);
		}
	}
	/* emulation-unknowable categories are refused, not guessed */
	ML_OPTS(ml_scan_opts, w, .return_mask = ML_PAGE_WRITTEN, .force_emulation = true);
	ml_page_region v[4];
	uint64_t next;
	ck_assert_int_eq(ml_pagemap_scan(f.pm, &w, v, 4, &next), -EOPNOTSUPP);
	w.return_mask = UINT64_C(1) << 40;
	ck_assert_int_eq(ml_pagemap_scan(f.pm, &w, v, 4, &next), -EINVAL);
	close_child(&f);
}
END_TEST

/* The kernel's own struct, to show the stale walk_end happens on this kernel. */
struct raw_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages, inv, mask, anyof, ret;
};

START_TEST(stale_walk_end_is_handled)
{
	fixture f = open_child();
	if (!ml_pagemap_has_scan(f.pm)) {
		close_child(&f);
		mlt_skip("no PAGEMAP_SCAN on this kernel");
	}
	const size_t N = 8192;
	uint64_t a = mlt_cmd_u64(f.c, "addr", "alt %zu", N);
	size_t truth = mlt_present_pages(f.c->pid, a, N);
	ck_assert_uint_eq(truth, N / 2);

	/* the raw ioctl: more regions than the kernel buffers, fewer than the vector holds */
	size_t cap = 3 * N;
	ml_page_region *v = malloc(cap * sizeof(*v));
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)f.c->pid);
	int fd = open(path, O_RDONLY);
	struct raw_scan_arg ra = { .size = sizeof(ra), .start = a, .end = a + N * PG, .vec = (uintptr_t)v,
				   .vec_len = cap, .ret = ML_PAGE_PRESENT };
	int r = ioctl(fd, _IOWR('f', 16, struct raw_scan_arg), &ra);
	close(fd);
	ck_assert_int_eq(r, (int)N);
	ck_assert_uint_eq(v[r - 1].end, a + N * PG);
	int stale = ra.walk_end < v[r - 1].end;

	/* through the library, with vectors of many sizes: always the plain-read count */
	size_t sizes[] = { 1, 2, 7, 511, 512, 513, 4095, N, cap };
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (int em = 0; em < 2; em++) {
			ML_OPTS(ml_scan_opts, o, .start = a, .end = a + N * PG, .return_mask = ML_PAGE_PRESENT,
				.force_emulation = em);
			size_t present = 0, pages = 0;
			uint64_t pos = a;
			while (pos < o.end) {
				uint64_t next;
				o.start = pos;
				ssize_t n = ml_pagemap_scan(f.pm, &o, v, sizes[s], &next);
				ck_assert_int_ge(n, 0);
				for (ssize_t i = 0; i < n; i++) {
					ck_assert_uint_ge(v[i].start, pos);
					uint64_t np = (v[i].end - v[i].start) / PG;
					pages += np;
					if (v[i].categories & ML_PAGE_PRESENT)
						present += np;
				}
				ck_assert_uint_gt(next, pos);
				pos = next;
			}
			ck_assert_uint_eq(present, truth);
			ck_assert_uint_eq(pages, N);
		}
	}
	/* present-only filter, large vector */
	ML_OPTS(ml_scan_opts, o, .start = a, .end = a + N * PG, .category_mask = ML_PAGE_PRESENT,
		.return_mask = ML_PAGE_PRESENT);
	uint64_t next;
	ck_assert_int_eq(ml_pagemap_scan(f.pm, &o, v, cap, &next), (ssize_t)(N / 2));
	ck_assert_uint_eq(next, a + N * PG);
	free(v);
	close_child(&f);
	if (!stale)
		fprintf(stderr, "note: this kernel reported an exact walk_end this time\n");
}
END_TEST

START_TEST(max_pages_stops_and_resumes)
{
	fixture f = open_child();
	uint64_t a = mlt_cmd_u64(f.c, "addr", "anon 100");
	mlt_cmd_ok(f.c, "write 0x%llx 100", (unsigned long long)a);
	for (int em = 0; em < 2; em++) {
		if (!em && !ml_pagemap_has_scan(f.pm))
			continue;
		ML_OPTS(ml_scan_opts, o, .start = a, .end = a + 100 * PG, .max_pages = 30,
			.return_mask = ML_PAGE_PRESENT, .force_emulation = em);
		ml_page_region v[8];
		uint64_t next, total = 0;
		int calls = 0;
		while (o.start < o.end) {
			ssize_t n = ml_pagemap_scan(f.pm, &o, v, 8, &next);
			ck_assert_int_ge(n, 0);
			uint64_t got = 0;
			for (ssize_t i = 0; i < n; i++)
				got += (v[i].end - v[i].start) / PG;
			ck_assert_uint_le(got, 30);
			total += got;
			o.start = next;
			calls++;
		}
		ck_assert_uint_eq(total, 100);
		ck_assert_int_ge(calls, 4);
	}
	close_child(&f);
}
END_TEST

START_TEST(pfns_visible_as_root_and_bad_args)
{
	fixture f = open_child();
	ck_assert_int_eq(ml_pagemap_pfn_visible(f.pm), geteuid() == 0);
	ck_assert_ptr_eq(ml_pagemap_proc(f.pm), f.p);
	uint64_t e;
	ck_assert_int_eq(ml_pagemap_read(NULL, 0, &e, 1), -EINVAL);
	ck_assert_int_eq(ml_pagemap_read(f.pm, 0, NULL, 1), -EINVAL);
	ml_page_region v[1];
	uint64_t next;
	ML_OPTS(ml_scan_opts, o, .start = 0x2000, .end = 0x1000);
	ck_assert_int_eq(ml_pagemap_scan(f.pm, &o, v, 1, &next), -EINVAL);
	o.end = 0x3000;
	ck_assert_int_eq(ml_pagemap_scan(f.pm, &o, v, 0, &next), -EINVAL);
	ck_assert_int_eq(ml_pagemap_scan(f.pm, &o, v, 1, &next), 0);
	ck_assert_uint_eq(next, 0x3000);
	close_child(&f);
}
END_TEST

START_TEST(gone_process_gives_esrch)
{
	fixture f = open_child();
	uint64_t a = mlt_cmd_u64(f.c, "addr", "anon 4");
	mlt_cmd_ok(f.c, "write 0x%llx 4", (unsigned long long)a);
	kill(f.c->pid, SIGKILL);
	mlt_wait(f.c);
	uint64_t e[4];
	ck_assert_int_eq(ml_pagemap_read(f.pm, a, e, 4), -ESRCH);
	ML_OPTS(ml_scan_opts, o, .start = a, .end = a + 4 * PG);
	ml_page_region v[4];
	uint64_t next;
	ck_assert_int_eq(ml_pagemap_scan(f.pm, &o, v, 4, &next), -ESRCH);
	o.force_emulation = true;
	ck_assert_int_eq(ml_pagemap_scan(f.pm, &o, v, 4, &next), -ESRCH);
	close_child(&f);
}
END_TEST


START_TEST(kpageflags_of_known_pages)
{
	if (geteuid() != 0)
		mlt_skip("kpageflags needs root");
	fixture f = open_child();
	uint64_t a = mlt_cmd_u64(f.c, "addr", "anon 8");
	mlt_cmd_ok(f.c, "write 0x%llx 4", (unsigned long long)a);
	mlt_cmd_ok(f.c, "readf 0x%llx 4", (unsigned long long)(a + 4 * PG));
	uint64_t t = mlt_cmd_u64(f.c, "addr", "thp");
	ml_kpage *k;
	ck_assert_int_eq(ml_kpage_open(ML_KPAGE_FLAGS | ML_KPAGE_COUNT | ML_KPAGE_CGROUP, &k), 0);
	uint64_t e[8], pfn[8], fl[8], cnt[8];
	ck_assert_int_eq(ml_pagemap_read(f.pm, a, e, 8), 8);
	for (int i = 0; i < 8; i++)
		pfn[i] = ml_pme_pfn(e[i]);
	ck_assert_int_eq(ml_kpage_lookup(k, ML_KPAGE_FLAGS, pfn, 8, fl), 0);
	ck_assert_int_eq(ml_kpage_lookup(k, ML_KPAGE_COUNT, pfn, 8, cnt), 0);
	for (int i = 0; i < 4; i++) {
		ck_assert(fl[i] & ML_KPF(ML_KPF_ANON));
		ck_assert(!(fl[i] & ML_KPF(ML_KPF_ZERO_PAGE)));
		ck_assert_uint_eq(cnt[i], 1);
		/* the batched lookup equals a single read */
		uint64_t one;
		ck_assert_int_eq(ml_kpage_flags(k, pfn[i], &one, 1), 1);
		ck_assert_uint_eq(one & ~(ML_KPF(ML_KPF_REFERENCED) | ML_KPF(ML_KPF_ACTIVE) | ML_KPF(ML_KPF_LRU)),
				  fl[i] & ~(ML_KPF(ML_KPF_REFERENCED) | ML_KPF(ML_KPF_ACTIVE) | ML_KPF(ML_KPF_LRU)));
	}
	/* read-faulted: the zero page, or where the kernel has none a private anonymous page */
	bool zero_on = mlt_zero_page_mapped(f.c->pid, a + 4 * PG);
	for (int i = 4; i < 8; i++) {
		ck_assert(ml_pme_present(e[i]));
		if (zero_on) {
			ck_assert(fl[i] & ML_KPF(ML_KPF_ZERO_PAGE));
			ck_assert(!(fl[i] & ML_KPF(ML_KPF_ANON)));
		} else {
			ck_assert(fl[i] & ML_KPF(ML_KPF_ANON));
			ck_assert(!(fl[i] & ML_KPF(ML_KPF_ZERO_PAGE)));
			ck_assert_uint_eq(cnt[i], 1);
		}
	}
	uint64_t cg;
	ssize_t r = ml_kpage_cgroup(k, pfn[0], &cg, 1);
	ck_assert(r == 1 || r == -ENOENT);
	/* the THP: head and tail frames */
	ck_assert_int_eq(ml_pagemap_read(f.pm, t, e, 2), 2);
	if (ml_pme_present(e[0]) && ml_pme_pfn(e[1]) == ml_pme_pfn(e[0]) + 1) {
		uint64_t p2[2] = { ml_pme_pfn(e[0]), ml_pme_pfn(e[1]) };
		ck_assert_int_eq(ml_kpage_lookup(k, ML_KPAGE_FLAGS, p2, 2, fl), 0);
		ck_assert(fl[0] & ML_KPF(ML_KPF_THP));
		ck_assert(fl[0] & ML_KPF(ML_KPF_COMPOUND_HEAD));
		ck_assert(fl[1] & ML_KPF(ML_KPF_COMPOUND_TAIL));
	}
	/* past the end of physical memory: nothing */
	ck_assert_int_eq(ml_kpage_flags(k, UINT64_C(1) << 50, fl, 1), 0);
	ck_assert_int_eq(ml_kpage_lookup(k, 0x8, pfn, 1, fl), -EINVAL);
	ml_kpage_free(k);
	close_child(&f);

	/* an unprivileged user is told so */
	pid_t pid = fork();
	if (pid == 0) {
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(100);
		ml_kpage *k2;
		int rr = ml_kpage_open(ML_KPAGE_FLAGS, &k2);
		_exit(rr == -EACCES ? 0 : rr == -EPERM ? 1 : 2);
	}
	int st;
	waitpid(pid, &st, 0);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) <= 1);
}
END_TEST

START_TEST(pfns_hidden_without_cap_sys_admin)
{
	if (geteuid() != 0)
		mlt_skip("needs root to drop to another user");
	mlt_child *c = pages_child();
	uint64_t a = mlt_cmd_u64(c, "addr", "anon 2");
	mlt_cmd_ok(c, "write 0x%llx 2", (unsigned long long)a);
	/* the child's pagemap, opened by a process without privileges of the same uid would be
	 * denied; we keep uid 0 but drop CAP_SYS_ADMIN from every set */
	pid_t pid = fork();
	if (pid == 0) {
		struct { uint32_t version; int pid; } h = { 0x20080522, 0 };
		struct { uint32_t eff, perm, inh; } d[2];
		if (syscall(SYS_capget, &h, d))
			_exit(100);
		for (int i = 0; i < 2; i++)
			d[i].eff &= ~(i == 0 ? (1u << 21) : 0), d[i].perm &= ~(i == 0 ? (1u << 21) : 0);
		if (syscall(SYS_capset, &h, d))
			_exit(101);
		ml_proc *p;
		ml_pagemap *pm;
		if (ml_proc_open(c->pid, &p) || ml_pagemap_open(p, &pm))
			_exit(102);
		uint64_t e[2];
		if (ml_pagemap_read(pm, a, e, 2) != 2)
			_exit(103);
		int ok = !ml_pagemap_pfn_visible(pm) && ml_pme_present(e[0]) && ml_pme_pfn(e[0]) == 0;
		/* the emulation then cannot tell zero pages or PMD mappings */
		uint64_t cats = ml_pagemap_scan_categories(pm, true);
		ok = ok && !(cats & (ML_PAGE_PFNZERO | ML_PAGE_HUGE));
		_exit(ok ? 0 : 104);
	}
	int st;
	waitpid(pid, &st, 0);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d", WEXITSTATUS(st));
	mlt_child_free(c);
}
END_TEST

/* Keeps only the capabilities in @keep (bit numbers < 64) in the effective and permitted sets. */
static bool caps_keep_only(uint64_t keep)
{
	struct { uint32_t version; int pid; } h = { 0x20080522, 0 };
	struct { uint32_t eff, perm, inh; } d[2];
	if (syscall(SYS_capget, &h, d))
		return false;
	for (int i = 0; i < 2; i++) {
		uint32_t k = (uint32_t)(keep >> (32 * i));
		d[i].eff = d[i].perm & k;
		d[i].perm &= k;
		d[i].inh = 0;
	}
	return syscall(SYS_capset, &h, d) == 0;
}

#define CAP_SYS_ADMIN_BIT 21

/* Whether this process's own pagemap shows PFNs right now, read by hand: the kernel's answer. */
static int own_pfns_shown(void)
{
	static char page[2 * 4096];
	volatile char *pg = (char *)(((uintptr_t)page + PG - 1) & ~(uintptr_t)(PG - 1));
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	pg[0] = 1;
	uint64_t e = 0;
	ssize_t n = pread(fd, &e, 8, (off_t)((uintptr_t)pg / PG * 8));
	close(fd);
	if (n != 8 || !ml_pme_present(e))
		return -1;
	return ml_pme_pfn(e) != 0;
}

/* In a forked child: whether ml_pagemap_pfn_visible() on its own pagemap agrees with the
 * kernel, which must hide PFNs there. Exit 0 agrees and hidden, 1 the library says visible,
 * 2 the kernel shows them (the setup did not hide them), 3 open failed. */
_Noreturn static void pfn_view_exit(void)
{
	int truth = own_pfns_shown();
	ml_proc *p;
	ml_pagemap *pm;
	if (ml_proc_open(getpid(), &p) || ml_pagemap_open(p, &pm))
		_exit(3);
	bool vis = ml_pagemap_pfn_visible(pm);
	/* without PFNs the emulation offers no zero-page or PMD categories */
	uint64_t cats = ml_pagemap_scan_categories(pm, true);
	if (truth != 0)
		_exit(2);
	_exit(vis || (cats & (ML_PAGE_PFNZERO | ML_PAGE_HUGE)) ? 1 : 0);
}

static int wait_exit(pid_t pid)
{
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st), "child killed by signal %d", WTERMSIG(st));
	return WEXITSTATUS(st);
}

/*
 * The kernel shows PFNs only to an opener with CAP_SYS_ADMIN in the initial user namespace.
 * Root there sees them; a child that dropped CAP_SYS_ADMIN does not, and neither does a
 * child in a new user namespace, although it holds every capability in that namespace.
 * Each child is asked after the parent opened pagemaps of its own: no answer is inherited.
 */
START_TEST(pfns_visible_as_the_kernel_shows_them)
{
	if (geteuid() != 0)
		mlt_skip("needs root: the case is root's PFNs against a child's without them");
	ml_proc *p;
	ml_pagemap *pm;
	ck_assert_int_eq(ml_proc_open(getpid(), &p), 0);
	ck_assert_int_eq(ml_pagemap_open(p, &pm), 0);
	ck_assert_int_eq(own_pfns_shown(), 1);
	ck_assert(ml_pagemap_pfn_visible(pm));
	(void)ml_pagemap_scan_categories(pm, true);
	ml_pagemap_free(pm);
	ml_proc_free(p);

	pid_t pid = fork();
	if (pid == 0) {
		if (!caps_keep_only(~(UINT64_C(1) << CAP_SYS_ADMIN_BIT)))
			_exit(100);
		pfn_view_exit();
	}
	int rc = wait_exit(pid);
	ck_assert_msg(rc == 0, "without CAP_SYS_ADMIN: child exit %d", rc);

	int pfd[2];
	ck_assert_int_eq(pipe(pfd), 0);
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		int e = unshare(CLONE_NEWUSER) == 0 ? 0 : errno;
		ck_assert_int_eq(write(pfd[1], &e, sizeof(e)), (ssize_t)sizeof(e));
		if (e)
			_exit(0);
		pfn_view_exit();
	}
	close(pfd[1]);
	int e = -1;
	ck_assert_int_eq(read(pfd[0], &e, sizeof(e)), (ssize_t)sizeof(e));
	close(pfd[0]);
	rc = wait_exit(pid);
	if (e)
		mlt_skip("no user namespace for the second case: unshare(CLONE_NEWUSER): %s", strerror(e));
	ck_assert_msg(rc == 0, "in a new user namespace: child exit %d", rc);
}
END_TEST

/*
 * /proc/kpageflags is readable by its mode (0400 root) alone: a child that keeps
 * CAP_SYS_ADMIN (PFNs shown) but runs as another user without CAP_DAC_* cannot read it,
 * so the emulation must not offer HUGE there, even after its parent found it readable.
 */
START_TEST(kpageflags_readability_is_asked_per_open)
{
	if (geteuid() != 0)
		mlt_skip("needs root: the case is root's kpageflags against a child's without them");
	ml_proc *p;
	ml_pagemap *pm;
	ck_assert_int_eq(ml_proc_open(getpid(), &p), 0);
	ck_assert_int_eq(ml_pagemap_open(p, &pm), 0);
	uint64_t cats = ml_pagemap_scan_categories(pm, true);
	ml_pagemap_free(pm);
	ml_proc_free(p);
	if (!(cats & ML_PAGE_HUGE))
		mlt_skip("the emulation offers no HUGE even to root here (no huge zero page known)");
	pid_t pid = fork();
	if (pid == 0) {
		if (prctl(PR_SET_KEEPCAPS, 1) || setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534) ||
		    !caps_keep_only(UINT64_C(1) << CAP_SYS_ADMIN_BIT))
			_exit(100);
		/* the uid change made us non-dumpable: /proc/self would be root's, unreadable */
		if (prctl(PR_SET_DUMPABLE, 1))
			_exit(105);
		int fd = open("/proc/kpageflags", O_RDONLY);
		if (fd >= 0)
			_exit(101); /* readable after all: the case cannot be made */
		if (own_pfns_shown() != 1)
			_exit(102);
		ml_proc *cp;
		ml_pagemap *cpm;
		if (ml_proc_open(getpid(), &cp) || ml_pagemap_open(cp, &cpm))
			_exit(103);
		if (!ml_pagemap_pfn_visible(cpm))
			_exit(104);
		_exit(ml_pagemap_scan_categories(cpm, true) & ML_PAGE_HUGE ? 1 : 0);
	}
	int rc = wait_exit(pid);
	ck_assert_msg(rc == 0, "child exit %d", rc);
}
END_TEST

/* /sys/kernel/mm/transparent_hugepage/use_zero_page: 1, 0, or -1 when there is none. */
static int thp_use_zero_page(void)
{
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/use_zero_page", "r");
	int v = -1;
	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* Pages of [s, e) whose runs carry @cat, and those present, over as many calls as needed. */
static void count_cat(ml_pagemap *pm, uint64_t s, uint64_t e, bool emul, uint64_t cat, uint64_t *with,
		      uint64_t *present)
{
	ML_OPTS(ml_scan_opts, o, .start = s, .end = e, .force_emulation = emul,
		.category_anyof_mask = ML_PAGE_PRESENT, .return_mask = ML_PAGE_PRESENT | cat);
	ml_page_region v[16];
	*with = *present = 0;
	while (o.start < e) {
		uint64_t next;
		ssize_t n = ml_pagemap_scan(pm, &o, v, 16, &next);
		ck_assert_int_ge(n, 0);
		for (ssize_t i = 0; i < n; i++) {
			uint64_t np = (v[i].end - v[i].start) / PG;
			*present += np;
			if (v[i].categories & cat)
				*with += np;
		}
		ck_assert_uint_gt(next, o.start);
		o.start = next;
	}
}

/*
 * The huge zero page read-faulted into private anonymous memory: pagemap marks it as a file
 * page, and a reader that sees no PFNs cannot tell it by its frame. The plain-read path must
 * still not count it as FILE, as the ioctl does not.
 */
START_TEST(huge_zero_page_is_not_file_without_pfns)
{
	const char *why;
	if (!mlt_thp_possible(&why))
		mlt_skip("no huge zero page without THP: %s", why);
	if (thp_use_zero_page() != 1)
		mlt_skip("transparent_hugepage/use_zero_page is not 1: read faults map no huge zero page");
	mlt_child *c = pages_child();
	uint64_t t = mlt_cmd_u64(c, "addr", "thp");
	uint64_t e;
	raw_entries(c->pid, t + (2u << 20), &e, 1);
	if (!ml_pme_present(e) || ml_pme_exclusive(e) || !ml_pme_file(e)) {
		mlt_child_free(c);
		mlt_skip("the kernel did not map the huge zero page on this child's read fault (entry 0x%llx)",
			 (unsigned long long)e);
	}
	/* root reads as a child without CAP_SYS_ADMIN; anyone else reads as itself */
	pid_t pid = geteuid() == 0 ? fork() : 0;
	if (pid == 0) {
		if (geteuid() == 0 && !caps_keep_only(~(UINT64_C(1) << CAP_SYS_ADMIN_BIT)))
			_exit(100);
		ml_proc *p;
		ml_pagemap *pm;
		ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
		ck_assert_int_eq(ml_pagemap_open(p, &pm), 0);
		ck_assert(!ml_pagemap_pfn_visible(pm));
		uint64_t file, present;
		count_cat(pm, t, t + (4u << 20), true, ML_PAGE_FILE, &file, &present);
		/* 2 MiB written, 2 MiB on the huge zero page: all present, none a file page */
		ck_assert_uint_eq(present, 1024);
		ck_assert_uint_eq(file, 0);
		if (ml_pagemap_has_scan(pm)) {
			count_cat(pm, t, t + (4u << 20), false, ML_PAGE_FILE, &file, &present);
			ck_assert_uint_eq(present, 1024);
			ck_assert_uint_eq(file, 0);
		}
		ml_pagemap_free(pm);
		ml_proc_free(p);
		if (geteuid() == 0)
			_exit(0);
	} else {
		int rc = wait_exit(pid);
		ck_assert_msg(rc == 0, "reader child exit %d", rc);
	}
	mlt_child_free(c);
}
END_TEST

/*
 * Splits the THPs of [a, a + len) of @pid into ordinary pages that keep their frames
 * (debugfs split_huge_pages, mounted in a private mount namespace of a forked child).
 * 0 done; otherwise why not.
 */
static const char *split_thp(pid_t pid, uint64_t a, uint64_t len)
{
	int pfd[2];
	ck_assert_int_eq(pipe(pfd), 0);
	pid_t k = fork();
	if (k == 0) {
		const char *why = "ok";
		char dir[] = "/tmp/ml_dbgfs_XXXXXX", path[128], cmd[96];
		if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
			why = "no private mount namespace";
		else if (!mkdtemp(dir))
			why = "no temporary directory";
		else if (mount("none", dir, "debugfs", 0, NULL))
			why = "cannot mount debugfs";
		if (!strcmp(why, "ok")) {
			snprintf(path, sizeof(path), "%s/split_huge_pages", dir);
			int fd = open(path, O_WRONLY | O_CLOEXEC);
			int n = snprintf(cmd, sizeof(cmd), "%d,0x%llx,0x%llx", (int)pid, (unsigned long long)a,
					 (unsigned long long)(a + len));
			if (fd < 0 || write(fd, cmd, (size_t)n) != n)
				why = "no debugfs split_huge_pages";
			if (fd >= 0)
				close(fd);
			umount(dir);
		}
		rmdir(dir);
		ssize_t w = write(pfd[1], why, strlen(why) + 1);
		(void)w;
		_exit(0);
	}
	close(pfd[1]);
	static char why[64];
	ssize_t n = read(pfd[0], why, sizeof(why) - 1);
	why[n > 0 ? n : 0] = '\0';
	close(pfd[0]);
	waitpid(k, NULL, 0);
	return strcmp(why, "ok") ? why : NULL;
}

START_TEST(emulation_needs_a_compound_page_for_huge)
{
	if (geteuid() != 0)
		mlt_skip("needs root (PFNs, kpageflags, debugfs)");
	fixture f = open_child();
	uint64_t t = mlt_cmd_u64(f.c, "addr", "thp");
	ML_OPTS(ml_scan_opts, o, .start = t, .end = t + (2u << 20), .force_emulation = true,
		.return_mask = ML_PAGE_PRESENT | ML_PAGE_HUGE);
	ck_assert(ml_pagemap_scan_categories(f.pm, true) & ML_PAGE_HUGE);
	ml_page_region v[8];
	uint64_t next;
	ssize_t n = ml_pagemap_scan(f.pm, &o, v, 8, &next);
	const char *why;
	if (!mlt_thp_possible(&why)) {
		/* ordinary pages, by the kernel's choice: the emulation must not call them huge */
		printf("THP impossible (%s): the emulation must see 4 KiB pages\n", why);
		ck_assert_int_eq(n, 1);
		ck_assert_uint_eq(v[0].categories, ML_PAGE_PRESENT);
		close_child(&f);
		return;
	}
	if (n != 1 || v[0].categories != (ML_PAGE_PRESENT | ML_PAGE_HUGE)) {
		close_child(&f);
		mlt_skip("the kernel did not give this child a THP (%zd runs)", n);
	}
	/* the same frames as ordinary pages: 512 contiguous, aligned PFNs without a compound page */
	why = split_thp(f.c->pid, t, 2u << 20);
	if (why) {
		close_child(&f);
		mlt_skip("cannot split a THP here: %s", why);
	}
	uint64_t e[512], fl[512];
	raw_entries(f.c->pid, t, e, 512);
	bool contiguous = ml_pme_present(e[0]) && ml_pme_pfn(e[0]) % 512 == 0;
	for (int i = 1; contiguous && i < 512; i++)
		contiguous = ml_pme_present(e[i]) && ml_pme_pfn(e[i]) == ml_pme_pfn(e[0]) + (uint64_t)i;
	if (!contiguous) {
		close_child(&f);
		mlt_skip("the split moved the frames");
	}
	ml_kpage *k;
	ck_assert_int_eq(ml_kpage_open(ML_KPAGE_FLAGS, &k), 0);
	ck_assert_int_eq(ml_kpage_flags(k, ml_pme_pfn(e[0]), fl, 512), 512);
	ml_kpage_free(k);
	for (int i = 0; i < 512; i++)
		ck_assert(!(fl[i] & (ML_KPF(ML_KPF_THP) | ML_KPF(ML_KPF_COMPOUND_HEAD) | ML_KPF(ML_KPF_COMPOUND_TAIL))));
	/* neither path calls them huge */
	n = ml_pagemap_scan(f.pm, &o, v, 8, &next);
	ck_assert_int_eq(n, 1);
	ck_assert_uint_eq(v[0].start, t);
	ck_assert_uint_eq(v[0].end, t + (2u << 20));
	ck_assert_uint_eq(v[0].categories, ML_PAGE_PRESENT);
	if (ml_pagemap_has_scan(f.pm)) {
		o.force_emulation = false;
		ck_assert_int_eq(ml_pagemap_scan(f.pm, &o, v, 8, &next), 1);
		ck_assert_uint_eq(v[0].categories, ML_PAGE_PRESENT);
	}
	close_child(&f);
}
END_TEST

/*
 * A scan to the end (end 0) goes up to the end of the process's address space, where its
 * pagemap ends (TASK_SIZE: 2^47 - 4 KiB with 4-level paging, 2^56 - 4 KiB with 5-level),
 * not to an assumed 2^47: with 5-level paging a mapping placed above 2^47 is found.
 */
START_TEST(scan_reaches_the_end_of_the_address_space)
{
	/* with 5-level paging the kernel honours a hint above 2^47; with 4-level it cannot */
	char *high = mmap((void *)(UINT64_C(1) << 50), PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert(high != MAP_FAILED);
	high[0] = 1;
	ml_proc *self;
	ml_pagemap *pm;
	ck_assert_int_eq(ml_proc_self(&self), 0);
	ck_assert_int_eq(ml_pagemap_open(self, &pm), 0);
	ML_OPTS(ml_scan_opts, o, .category_mask = ML_PAGE_PRESENT, .return_mask = ML_PAGE_PRESENT);
	for (int emul = 0; emul < 2; emul++) {
		o.force_emulation = emul;
		if (!emul && !ml_pagemap_has_scan(pm))
			continue;
		ml_page_region v[64];
		uint64_t next = 0, start = 0;
		bool found_high = false;
		for (;;) {
			o.start = start;
			ssize_t n = ml_pagemap_scan(pm, &o, v, 64, &next);
			ck_assert_int_ge(n, 0);
			for (ssize_t i = 0; i < n; i++)
				found_high |= v[i].start <= (uint64_t)(uintptr_t)high && (uint64_t)(uintptr_t)high < v[i].end;
			if (n < 64)
				break;
			ck_assert_uint_gt(next, start);
			start = next;
		}
		/* next is the end of the address space: the last page has an entry, past it none */
		int fd = open("/proc/self/pagemap", O_RDONLY);
		uint64_t e;
		ck_assert_int_eq(pread(fd, &e, 8, (off_t)(next / PG * 8 - 8)), 8);
		ck_assert_int_eq(pread(fd, &e, 8, (off_t)(next / PG * 8)), 0);
		close(fd);
		ck_assert_msg(found_high, "the page at %p was not found by a scan to %#llx", (void *)high,
			      (unsigned long long)next);
		if ((uintptr_t)high < (UINT64_C(1) << 47))
			ck_assert_uint_eq(next, UINT64_C(0x7ffffffff000)); /* 4-level paging */
	}
	ml_pagemap_free(pm);
	ml_proc_free(self);
	munmap(high, PG);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pagemap");
	TCase *tc = tcase_create("pagemap");
	tcase_add_test(tc, entries_match_known_page_states);
	tcase_add_test(tc, guard_pages_decode_as_guard_not_swap);
	tcase_add_test(tc, thp_and_huge_zero_page);
	tcase_add_test(tc, scan_and_emulation_agree);
	tcase_add_test(tc, stale_walk_end_is_handled);
	tcase_add_test(tc, max_pages_stops_and_resumes);
	tcase_add_test(tc, pfns_visible_as_root_and_bad_args);
	tcase_add_test(tc, gone_process_gives_esrch);
	tcase_add_test(tc, kpageflags_of_known_pages);
	tcase_add_test(tc, pfns_hidden_without_cap_sys_admin);
	tcase_add_test(tc, pfns_visible_as_the_kernel_shows_them);
	tcase_add_test(tc, kpageflags_readability_is_asked_per_open);
	tcase_add_test(tc, huge_zero_page_is_not_file_without_pfns);
	tcase_add_test(tc, emulation_needs_a_compound_page_for_huge);
	tcase_add_test(tc, scan_reaches_the_end_of_the_address_space);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
