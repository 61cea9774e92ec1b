/* Unit tests of the smaps and smaps_rollup parsers: typed fields, extras, VmFlags, fixtures. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "mltest.h"

static const char one[] =
	"7f764f5cd000-7f764f5f3000 r--p 00000000 fe:01 332835                     /usr/lib/libc.so.6\n"
	"Size:                152 kB\n"
	"KernelPageSize:        4 kB\n"
	"MMUPageSize:           4 kB\n"
	"Rss:                 148 kB\n"
	"Pss:                   5 kB\n"
	"Pss_Dirty:             0 kB\n"
	"Shared_Clean:        148 kB\n"
	"Shared_Dirty:          0 kB\n"
	"Private_Clean:         0 kB\n"
	"Private_Dirty:         0 kB\n"
	"Referenced:          148 kB\n"
	"Anonymous:             0 kB\n"
	"KSM:                   0 kB\n"
	"LazyFree:              0 kB\n"
	"AnonHugePages:         0 kB\n"
	"ShmemPmdMapped:        0 kB\n"
	"FilePmdMapped:         0 kB\n"
	"Shared_Hugetlb:        0 kB\n"
	"Private_Hugetlb:       0 kB\n"
	"Swap:                  0 kB\n"
	"SwapPss:               0 kB\n"
	"Locked:                0 kB\n"
	"THPeligible:           0\n"
	"ProtectionKey:         0\n"
	"VmFlags: rd mr mw me sd zz \n"
	"55cdaf513000-55cdaf534000 rw-p 00000000 00:00 0                          [heap]\n"
	"Size:                132 kB\n"
	"Rss:                   8 kB\n"
	"Pss:                   8 kB\n"
	"Private_Dirty:         8 kB\n"
	"Anonymous:             8 kB\n"
	"Future_Field:         12 kB\n"
	"Odd_Field:     some text \n"
	"THPeligible:           1\n"
	"VmFlags: rd wr mr mw me ac\n";

START_TEST(typed_fields_in_bytes)
{
	ml_smaps *s;
	ck_assert_int_eq(ml_smaps_parse(one, sizeof(one) - 1, &s), 0);
	ck_assert_uint_eq(ml_smaps_count(s), 2);
	/* the text was out of address order: records come back sorted */
	const ml_smaps_vma *a = ml_smaps_get(s, 1);
	ck_assert_str_eq(a->vma.name, "/usr/lib/libc.so.6");
	ck_assert_int_eq(a->vma.kind, ML_VMA_FILE);
	ck_assert_uint_eq(a->f.size, 152 * 1024);
	ck_assert_uint_eq(a->f.v[ML_SMAPS_SIZE], 152 * 1024);
	ck_assert_uint_eq(a->f.rss, 148 * 1024);
	ck_assert_uint_eq(a->f.pss, 5 * 1024);
	ck_assert_uint_eq(a->f.shared_clean, 148 * 1024);
	ck_assert_uint_eq(a->f.referenced, 148 * 1024);
	ck_assert_uint_eq(a->f.kernel_page_size, 4096);
	ck_assert(a->f.present & (1ull << ML_SMAPS_LOCKED));
	ck_assert(!(a->f.present & (1ull << ML_SMAPS_PSS_ANON)));
	ck_assert_int_eq(a->thp_eligible, 0);
	ck_assert_int_eq(a->protection_key, 0);
	ck_assert(a->has_vm_flags);
	ck_assert_str_eq(a->vm_flags_raw, "rd mr mw me sd zz");
	ck_assert_uint_eq(a->vm_flags, ML_VMF_RD | ML_VMF_MR | ML_VMF_MW | ML_VMF_ME | ML_VMF_SD | ML_VMF_UNKNOWN);
	ck_assert_uint_eq(a->n_extra, 0);
	/* header lines where they are in the text, '\n' included */
	ck_assert_uint_eq(a->line_off, 0);
	ck_assert_uint_eq(a->line_len, strlen(one) - strlen(strchr(one, '\n')) + 1);
	const ml_smaps_vma *h = ml_smaps_get(s, 0);
	const char *hl = strstr(one, "55cdaf513000-");
	ck_assert_uint_eq(h->line_off, (size_t)(hl - one));
	ck_assert_uint_eq(h->line_len, (size_t)(strchr(hl, '\n') - hl) + 1);
	ck_assert_int_eq(h->vma.kind, ML_VMA_HEAP);
	ck_assert_uint_eq(h->f.anonymous, 8192);
	ck_assert_int_eq(h->thp_eligible, 1);
	ck_assert_int_eq(h->protection_key, -1);
	ck_assert_uint_eq(h->vm_flags, ML_VMF_RD | ML_VMF_WR | ML_VMF_MR | ML_VMF_MW | ML_VMF_ME | ML_VMF_AC);
	ck_assert_uint_eq(h->n_extra, 2);
	ck_assert_str_eq(h->extra[0].key, "Future_Field");
	ck_assert(h->extra[0].numeric);
	ck_assert_uint_eq(h->extra[0].bytes, 12 * 1024);
	ck_assert_str_eq(h->extra[1].key, "Odd_Field");
	ck_assert_str_eq(h->extra[1].value, "some text");
	ck_assert(!h->extra[1].numeric);
	ck_assert_ptr_eq(ml_smaps_find(s, 0x55cdaf513000 + 5), h);
	ck_assert_ptr_null(ml_smaps_find(s, 0x1000));
	ml_vma probe = h->vma;
	ck_assert_ptr_eq(ml_smaps_match(s, &probe), h);
	probe.end += 4096; /* a different range at the same start is not the same mapping */
	ck_assert_ptr_null(ml_smaps_match(s, &probe));
	ck_assert_ptr_null(ml_smaps_match(s, NULL));
	ml_smaps_fields t;
	ml_smaps_total(s, &t);
	ck_assert_uint_eq(t.rss, 156 * 1024);
	ck_assert_uint_eq(ml_smaps_uss(&h->f), 8192);
	ml_smaps_free(s);
}
END_TEST

/* The header lines of smaps are its maps text: also for a last line without '\n'. */
START_TEST(header_lines_are_the_maps_text)
{
	static const char t[] =
		"00400000-00401000 r-xp 00000000 fe:01 7 /bin/x\n"
		"Rss:                   4 kB\n"
		"7ffd1000-7ffd2000 rw-p 00000000 00:00 0 [stack]";
	ml_smaps *s;
	ck_assert_int_eq(ml_smaps_parse(t, sizeof(t) - 1, &s), 0);
	ck_assert_uint_eq(ml_smaps_count(s), 2);
	const ml_smaps_vma *a = ml_smaps_get(s, 0), *b = ml_smaps_get(s, 1);
	static const char l1[] = "00400000-00401000 r-xp 00000000 fe:01 7 /bin/x\n";
	ck_assert_uint_eq(a->line_off, 0);
	ck_assert_uint_eq(a->line_len, sizeof(l1) - 1);
	ck_assert_int_eq(memcmp(t, l1, sizeof(l1) - 1), 0);
	ck_assert_uint_eq(b->line_off, (size_t)(strstr(t, "7ffd1000") - t));
	ck_assert_uint_eq(b->line_off + b->line_len, sizeof(t) - 1); /* no '\n' to include */
	ml_smaps_free(s);
}
END_TEST

START_TEST(names_and_helpers)
{
	ck_assert_str_eq(ml_smaps_field_name(ML_SMAPS_PSS_DIRTY), "Pss_Dirty");
	ck_assert_str_eq(ml_smaps_field_name(ML_SMAPS_ANON_HUGE_PAGES), "AnonHugePages");
	ck_assert_ptr_null(ml_smaps_field_name(ML_SMAPS_NFIELDS));
	ck_assert_str_eq(ml_vmflag_name(ML_VMF_DD), "dd");
	ck_assert_str_eq(ml_vmflag_name(ML_VMF_DP), "dp");
	ck_assert_ptr_null(ml_vmflag_name(ML_VMF_RD | ML_VMF_WR));
	ck_assert_ptr_null(ml_vmflag_name(ML_VMF_UNKNOWN));
	for (unsigned i = 0; i < ML_SMAPS_NFIELDS; i++)
		ck_assert_ptr_nonnull(ml_smaps_field_name((ml_smaps_field)i));
}
END_TEST

START_TEST(malformed)
{
	ml_smaps *s = NULL;
	const char *t = "Rss: 4 kB\n";
	ck_assert_int_eq(ml_smaps_parse(t, strlen(t), &s), -EBADMSG);
	t = "1000-2000 r--p 00000000 00:00 0\nRss: 99999999999999999999 kB\nxyz\n";
	ck_assert_int_eq(ml_smaps_parse(t, strlen(t), &s), -EBADMSG);
	ck_assert_ptr_null(s);
	/* an overflowing value is kept as text, not wrapped */
	t = "1000-2000 r--p 00000000 00:00 0\nRss: 99999999999999999999 kB\n";
	ck_assert_int_eq(ml_smaps_parse(t, strlen(t), &s), 0);
	ck_assert_uint_eq(ml_smaps_get(s, 0)->f.rss, 0);
	ck_assert(!(ml_smaps_get(s, 0)->f.present & (1ull << ML_SMAPS_RSS)));
	ck_assert_uint_eq(ml_smaps_get(s, 0)->n_extra, 1);
	ml_smaps_free(s);
	ck_assert_int_eq(ml_smaps_parse("", 0, &s), 0);
	ck_assert_uint_eq(ml_smaps_count(s), 0);
	ml_smaps_free(s);
	ml_smaps_free(NULL);
}
END_TEST

START_TEST(rollup)
{
	const char *t = "55cd9d1f0000-7ffec5027000 ---p 00000000 00:00 0                          [rollup]\n"
			"Rss:                1516 kB\n"
			"Pss:                 278 kB\n"
			"Pss_Dirty:            80 kB\n"
			"Pss_Anon:             76 kB\n"
			"Pss_File:            202 kB\n"
			"Pss_Shmem:             0 kB\n"
			"Private_Clean:         8 kB\n"
			"Private_Dirty:        80 kB\n"
			"Swap:                  4 kB\n"
			"NewThing:              1 kB\n";
	ml_smaps_rollup *r;
	ck_assert_int_eq(ml_smaps_rollup_parse(t, strlen(t), &r), 0);
	ck_assert_uint_eq(r->start, 0x55cd9d1f0000);
	ck_assert_uint_eq(r->end, 0x7ffec5027000);
	ck_assert_uint_eq(r->f.rss, 1516 * 1024);
	ck_assert_uint_eq(r->f.pss_file, 202 * 1024);
	ck_assert_uint_eq(r->f.swap, 4096);
	ck_assert_uint_eq(ml_smaps_uss(&r->f), 88 * 1024);
	ck_assert_uint_eq(r->n_extra, 1);
	ck_assert_str_eq(r->extra[0].key, "NewThing");
	ml_smaps_rollup_free(r);
	/* two headers is not a rollup */
	t = "1000-2000 ---p 00000000 00:00 0 [rollup]\n1000-2000 ---p 00000000 00:00 0 [rollup]\n";
	ck_assert_int_eq(ml_smaps_rollup_parse(t, strlen(t), &r), -EBADMSG);
	ck_assert_int_eq(ml_smaps_rollup_parse("", 0, &r), 0);
	ck_assert_uint_eq(r->f.present, 0);
	ml_smaps_rollup_free(r);
	ml_smaps_rollup_free(NULL);
}
END_TEST

static ml_proc *fixture(const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/proc/%s", mlt_fixture_dir(), name);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open_path(path, &p), 0);
	return p;
}

/* A torn read (records repeated or replaced between two reads) normalises as maps does:
 * sorted, and of overlapping records the later one kept, with its own fields, flags,
 * extras and name. */
START_TEST(torn_reads_are_normalised)
{
	static const char t[] =
		"1000-2000 r--p 00000000 00:00 0\nRss: 4 kB\n"
		"5000-7000 r--p 00000000 00:00 0 old\nRss: 8 kB\nOld_Extra: 1 kB\nVmFlags: rd\n"
		"3000-4000 r--p 00000000 00:00 0\nRss: 4 kB\n"
		"5000-6000 rw-p 00000000 00:00 0 new\nRss: 4 kB\nNew_Extra: 2 kB\nVmFlags: rd wr\n"
		"2000-3000 r--p 00000000 00:00 0\nRss: 0 kB\n";
	ml_smaps *s;
	ck_assert_int_eq(ml_smaps_parse(t, sizeof(t) - 1, &s), 0);
	ck_assert_uint_eq(ml_smaps_count(s), 4);
	static const uint64_t starts[] = { 0x1000, 0x2000, 0x3000, 0x5000 };
	for (size_t i = 0; i < 4; i++)
		ck_assert_uint_eq(ml_smaps_get(s, i)->vma.start, starts[i]);
	const ml_smaps_vma *v = ml_smaps_get(s, 3);
	ck_assert_str_eq(v->vma.name, "new");
	ck_assert_uint_eq(v->vma.end, 0x6000);
	ck_assert_uint_eq(v->f.v[ML_SMAPS_RSS], 4096);
	ck_assert_str_eq(v->vm_flags_raw, "rd wr");
	ck_assert_uint_eq(v->n_extra, 1);
	ck_assert_str_eq(v->extra[0].key, "New_Extra");
	ck_assert_uint_eq(v->extra[0].bytes, 2048);
	ck_assert_uint_eq(ml_smaps_get(s, 0)->n_extra, 0);
	ck_assert_ptr_null(ml_smaps_get(s, 0)->extra);
	ck_assert_str_eq(ml_smaps_get(s, 0)->vm_flags_raw, "");
	ml_smaps_free(s);
	/* nothing at all: an empty list, not an error */
	ck_assert_int_eq(ml_smaps_parse("", 0, &s), 0);
	ck_assert_uint_eq(ml_smaps_count(s), 0);
	ml_smaps_free(s);
}
END_TEST

START_TEST(fixture_thp_heap)
{
	ml_proc *p = fixture("maps-thp");
	ml_smaps *s;
	ck_assert_int_eq(ml_smaps_read(p, &s), 0);
	/* the 32 MiB MADV_HUGEPAGE region, every page written: all of it in huge pages */
	const ml_smaps_vma *v = ml_smaps_find(s, 0x7f45ee600000);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(v->f.size, 32u << 20);
	ck_assert_uint_eq(v->f.rss, 32u << 20);
	ck_assert_uint_eq(v->f.anon_huge_pages, 32u << 20);
	ck_assert_uint_eq(v->f.anonymous, 32u << 20);
	ck_assert_int_eq(v->thp_eligible, 1);
	ck_assert(v->vm_flags & ML_VMF_HG);
	/* the 4 MiB region with its first 2 MiB written */
	v = ml_smaps_find(s, 0x7f45ee200000);
	ck_assert_uint_eq(v->f.size, 4u << 20);
	ck_assert_uint_eq(v->f.rss, 2u << 20);
	ck_assert_uint_eq(v->f.private_dirty, 2u << 20);
	ck_assert(!(v->vm_flags & ML_VMF_HG));
	/* every record has every documented per-mapping field, and nothing unknown */
	uint64_t rollup_only = 1ull << ML_SMAPS_PSS_ANON | 1ull << ML_SMAPS_PSS_FILE | 1ull << ML_SMAPS_PSS_SHMEM;
	for (size_t i = 0; i < ml_smaps_count(s); i++) {
		const ml_smaps_vma *x = ml_smaps_get(s, i);
		ck_assert_uint_eq(x->f.present, ((1ull << ML_SMAPS_NFIELDS) - 1) & ~rollup_only);
		ck_assert_uint_eq(x->n_extra, 0);
		ck_assert(x->has_vm_flags);
		ck_assert(!(x->vm_flags & ML_VMF_UNKNOWN));
		ck_assert_int_ge(x->thp_eligible, 0);
	}
	/* the sum of per-mapping Rss is the rollup's (captured from an idle process) */
	ml_smaps_rollup *r;
	ck_assert_int_eq(ml_smaps_rollup_read(p, &r), 0);
	ml_smaps_fields t;
	ml_smaps_total(s, &t);
	ck_assert_uint_eq(t.rss, r->f.rss);
	ck_assert_uint_eq(t.anon_huge_pages, r->f.anon_huge_pages);
	ck_assert_uint_eq(t.anonymous, r->f.anonymous);
	ck_assert_uint_eq(r->f.anon_huge_pages, 32u << 20);
	ck_assert_uint_eq(r->f.present, (1ull << ML_SMAPS_NFIELDS) - 1 - (1ull << ML_SMAPS_SIZE) -
					    (1ull << ML_SMAPS_KERNEL_PAGE_SIZE) - (1ull << ML_SMAPS_MMU_PAGE_SIZE));
	ck_assert_uint_eq(r->start, ml_smaps_get(s, 0)->vma.start);
	ml_smaps_rollup_free(r);
	/* smaps and maps of the same capture describe the same mappings */
	ml_maps *m;
	ck_assert_int_eq(ml_maps_read(p, ML_MAPS_AUTO, &m), 0);
	ck_assert_uint_eq(ml_maps_count(m), ml_smaps_count(s));
	for (size_t i = 0; i < ml_maps_count(m); i++) {
		ck_assert_uint_eq(ml_maps_get(m, i)->start, ml_smaps_get(s, i)->vma.start);
		ck_assert_uint_eq(ml_maps_get(m, i)->end, ml_smaps_get(s, i)->vma.end);
		ck_assert_str_eq(ml_maps_get(m, i)->name, ml_smaps_get(s, i)->vma.name);
	}
	ml_maps_free(m);
	ml_smaps_free(s);
	ml_proc_free(p);
}
END_TEST

START_TEST(fixture_names_and_kthread)
{
	ml_proc *p = fixture("maps-names");
	ml_smaps *s;
	ck_assert_int_eq(ml_smaps_read(p, &s), 0);
	ck_assert_uint_eq(ml_smaps_count(s), 34);
	const ml_smaps_vma *v = ml_smaps_find(s, 0x7fbb5a99d000);
	ck_assert_int_eq(v->vma.kind, ML_VMA_SHMEM);
	ck_assert_uint_eq(v->f.rss, 0x10000);
	ck_assert(v->vm_flags & ML_VMF_SH && v->vm_flags & ML_VMF_MS);
	ml_smaps_free(s);
	ml_proc_free(p);

	p = fixture("maps-kthread");
	ck_assert_int_eq(ml_smaps_read(p, &s), 0);
	ck_assert_uint_eq(ml_smaps_count(s), 0);
	ml_smaps_free(s);
	ml_smaps_rollup *r = NULL;
	/* the kernel gave ESRCH for a kernel thread's smaps_rollup: the tree has no copy */
	ck_assert_int_eq(ml_smaps_rollup_read(p, &r), -EOPNOTSUPP);
	ck_assert_ptr_null(r);
	ml_proc_free(p);
}
END_TEST

/* Reading smaps parses it a buffer at a time: the records equal ml_smaps_parse() of the
 * whole text, with chunk boundaries anywhere, a line longer than the buffer, no final
 * newline, and line_off counted from the start of the text. */
START_TEST(read_in_chunks_equals_parse)
{
	char dir[] = "/tmp/ml_smaps_chunks_XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof(path), "%s/smaps", dir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	size_t nrec = 0;
	for (unsigned i = 0; i < 3000; i++, nrec++) {
		fprintf(f, "%llx-%llx rw-p 00000000 00:00 0 %s\n", 0x10000000ull + i * 0x2000ull,
			0x10001000ull + i * 0x2000ull, i % 3 ? "" : "[anon:x]");
		fprintf(f, "Size:                  4 kB\nRss:  %u kB\nPss:  %u kB\nFuture_Field: %u kB\nVmFlags: rd wr mr mw me ac\n",
			i % 5 * 4, i % 7 * 4, i);
		if (i == 1500) {
			/* a file name longer than the read buffer */
			fprintf(f, "%llx-%llx r--p 00000000 fe:01 42 /", 0x90000000ull, 0x90001000ull);
			for (int k = 0; k < 300000; k++)
				fputc('a' + k % 26, f);
			fputs("\nSize: 4 kB\nRss: 4 kB\n", f);
			nrec++;
		}
	}
	fputs("a0000000-a0001000 r--p 00000000 00:00 0\nSize: 4 kB\nRss: 4 kB", f); /* no final newline */
	nrec++;
	ck_assert_int_eq(fclose(f), 0);
	char *text;
	size_t len;
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open_path(dir, &p), 0);
	ck_assert_int_eq(ml_proc_read_file(p, "smaps", &text, &len), 0);
	ck_assert_uint_gt(len, 600u << 10); /* several buffers */
	ml_smaps *a, *b;
	ck_assert_int_eq(ml_smaps_parse(text, len, &a), 0);
	ck_assert_int_eq(ml_smaps_read(p, &b), 0);
	ck_assert_uint_eq(ml_smaps_count(a), nrec);
	ck_assert_uint_eq(ml_smaps_count(b), nrec);
	for (size_t i = 0; i < nrec; i++) {
		const ml_smaps_vma *x = ml_smaps_get(a, i), *y = ml_smaps_get(b, i);
		ck_assert_uint_eq(x->vma.start, y->vma.start);
		ck_assert_uint_eq(x->vma.name_len, y->vma.name_len);
		ck_assert_mem_eq(x->vma.name, y->vma.name, x->vma.name_len);
		ck_assert_mem_eq(&x->f, &y->f, sizeof(x->f));
		ck_assert_uint_eq(x->line_off, y->line_off);
		ck_assert_uint_eq(x->line_len, y->line_len);
		ck_assert_mem_eq(text + y->line_off, text + x->line_off, x->line_len);
		ck_assert_uint_eq(x->n_extra, y->n_extra);
		ck_assert_str_eq(x->vm_flags_raw, y->vm_flags_raw);
	}
	size_t longest = 0;
	for (size_t i = 0; i < nrec; i++)
		if (ml_smaps_get(b, i)->vma.name_len > longest)
			longest = ml_smaps_get(b, i)->vma.name_len;
	ck_assert_uint_eq(longest, 300001);
	ml_smaps_free(a);
	ml_smaps_free(b);
	free(text);
	ml_proc_free(p);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* Widens every "Key: N kB" line by one blank after the colon (a tab where @tab): the shape
 * the kernel prints (28 bytes) is read by a shortcut, any other by the general path. */
static char *widen(const char *t, size_t len, bool tab, size_t *ret_len)
{
	char *w = malloc(len * 2 + 1);
	ck_assert_ptr_nonnull(w);
	size_t n = 0;
	for (const char *p = t, *end = t + len; p < end;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		eol = eol ? eol + 1 : end;
		const char *colon = memchr(p, ':', (size_t)(eol - p));
		bool size = colon && *p >= 'A' && *p <= 'Z' && eol - p > 4 && !memcmp(eol - 4, " kB\n", 4);
		size_t k = size ? (size_t)(colon + 1 - p) : (size_t)(eol - p);
		memcpy(w + n, p, k);
		n += k;
		if (size) {
			w[n++] = tab ? '\t' : ' ';
			memcpy(w + n, colon + 1, (size_t)(eol - colon - 1));
			n += (size_t)(eol - colon - 1);
		}
		p = eol;
	}
	*ret_len = n;
	return w;
}

static void same_records(const ml_smaps *a, const ml_smaps *b)
{
	ck_assert_uint_eq(ml_smaps_count(a), ml_smaps_count(b));
	for (size_t i = 0; i < ml_smaps_count(a); i++) {
		const ml_smaps_vma *x = ml_smaps_get(a, i), *y = ml_smaps_get(b, i);
		ck_assert_uint_eq(x->vma.start, y->vma.start);
		ck_assert_uint_eq(x->vma.end, y->vma.end);
		ck_assert_mem_eq(&x->f, &y->f, sizeof(x->f));
		ck_assert_int_eq(x->thp_eligible, y->thp_eligible);
		ck_assert_int_eq(x->protection_key, y->protection_key);
		ck_assert_uint_eq(x->vm_flags, y->vm_flags);
		ck_assert_uint_eq(x->n_extra, y->n_extra);
		for (size_t e = 0; e < x->n_extra; e++)
			ck_assert_str_eq(x->extra[e].key, y->extra[e].key);
	}
}

START_TEST(kernel_line_shape_reads_as_any_other)
{
	/* the kernel's own text (fixtures), and lines the shortcut must refuse: 9 digits,
	 * a tab, keys out of the kernel's order, an unknown key of the same shape */
	static const char odd[] =
		"10000-11000 rw-p 00000000 00:00 0\n"
		"Rss:                   4 kB\n"
		"Size:                  4 kB\n"
		"Pss:\t                 4 kB\n"
		"Pss_Dirty:   junk      4 kB\n"
		"Private_Dirty: 123456789 kB\n"
		"Xyz_Unknown_Key:       8 kB\n"
		"Swap:                  0 kB\n"
		"Swap:                 12 kB\n";
	/* 28 bytes, but numbers that do not fit in bytes (17 digits) or at all (20): the
	 * general path makes them extras, and so must the shortcut */
	static const char huge[] =
		"10000-11000 rw-p 00000000 00:00 0\n"
		"Size:  18014398509481984 kB\n"
		"KernelPageSize:        4 kB\n"
		"MMUPageSize:           4 kB\n"
		"Rss:99999999999999999999 kB\n"
		"Pss:                   8 kB\n";
	const char *const fixtures[] = { "maps-thp/smaps", "maps-names/smaps", "dumpee/smaps" };
	for (size_t f = 0; f <= sizeof(fixtures) / sizeof(fixtures[0]) + 1; f++) {
		size_t len;
		char *t = f < 3 ? mlt_read_fixture(fixtures[f], &len) : strdup(f == 3 ? odd : huge);
		ck_assert_ptr_nonnull(t);
		if (f >= 3)
			len = strlen(t);
		for (int tab = 0; tab < 2; tab++) {
			size_t wl;
			char *w = widen(t, len, tab, &wl);
			ck_assert_uint_gt(wl, len); /* there were size lines to widen */
			ml_smaps *a, *b;
			ck_assert_int_eq(ml_smaps_parse(t, len, &a), 0);
			ck_assert_int_eq(ml_smaps_parse(w, wl, &b), 0);
			same_records(a, b);
			if (f == 3) {
				const ml_smaps_vma *v = ml_smaps_get(a, 0);
				ck_assert_uint_eq(v->f.rss, 4096);
				ck_assert_uint_eq(v->f.size, 4096);
				ck_assert_uint_eq(v->f.pss, 4096);
				ck_assert_uint_eq(v->f.private_dirty, 123456789ull * 1024);
				ck_assert_uint_eq(v->f.swap, 12 * 1024); /* the last one counts, as before */
				ck_assert_uint_eq(v->n_extra, 2); /* the unknown key, and the junk */
				ck_assert(!(v->f.present & (1ull << ML_SMAPS_PSS_DIRTY)));
			}
			if (f == 4) {
				const ml_smaps_vma *v = ml_smaps_get(a, 0);
				ck_assert(!(v->f.present & (1ull << ML_SMAPS_SIZE)));
				ck_assert(!(v->f.present & (1ull << ML_SMAPS_RSS)));
				ck_assert_uint_eq(v->f.pss, 8192);
				ck_assert_uint_eq(v->n_extra, 2);
			}
			ml_smaps_free(a);
			ml_smaps_free(b);
			free(w);
		}
		free(t);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("smaps");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, typed_fields_in_bytes);
	tcase_add_test(tc, header_lines_are_the_maps_text);
	tcase_add_test(tc, names_and_helpers);
	tcase_add_test(tc, malformed);
	tcase_add_test(tc, rollup);
	tcase_add_test(tc, torn_reads_are_normalised);
	tcase_add_test(tc, fixture_thp_heap);
	tcase_add_test(tc, fixture_names_and_kthread);
	tcase_add_test(tc, read_in_chunks_equals_parse);
	tcase_add_test(tc, kernel_line_shape_reads_as_any_other);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
