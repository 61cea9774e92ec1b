/* The live ml_source: page runs by kind and reads that never fault pages in. */
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

START_TEST(runs_by_kind)
{
	mlt_child *c = mlt_spawn("ml_pages", NULL);
	ml_source *s;
	ck_assert_int_eq(ml_source_open_pid(c->pid, &s), 0);
	ck_assert_int_eq(ml_source_get_type(s), ML_SOURCE_LIVE);
	ck_assert_int_eq(ml_source_pid(s), c->pid);
	uint64_t a = mlt_cmd_u64(c, "addr", "anon 16");
	mlt_cmd_ok(c, "write 0x%llx 4", (unsigned long long)a);
	mlt_cmd_ok(c, "readf 0x%llx 4", (unsigned long long)(a + 4 * PG));
	ml_run v[16];
	uint64_t next;
	ssize_t n = ml_source_runs(s, a, a + 16 * PG, ML_RUNS_SPLIT_ZERO, v, 16, &next);
	ck_assert_uint_eq(next, a + 16 * PG);
	ml_pagemap *pm;
	ck_assert_int_eq(ml_pagemap_open(ml_source_proc(s), &pm), 0);
	bool zero_known = ml_pagemap_scan_categories(pm, !ml_pagemap_has_scan(pm)) & ML_PAGE_PFNZERO;
	ml_pagemap_free(pm);
	if (!mlt_zero_page_mapped(c->pid, a + 4 * PG)) {
		/* no shared zero page in this kernel: the read faults mapped private pages, data */
		ck_assert_int_eq(n, 2);
		ck_assert(v[0].start == a && v[0].end == a + 8 * PG && v[0].kind == ML_RUN_DATA);
		ck_assert(v[1].start == a + 8 * PG && v[1].end == a + 16 * PG && v[1].kind == ML_RUN_UNPOPULATED);
	} else if (zero_known) {
		ck_assert_int_eq(n, 3);
		ck_assert(v[0].start == a && v[0].end == a + 4 * PG && v[0].kind == ML_RUN_DATA);
		ck_assert(v[1].start == a + 4 * PG && v[1].end == a + 8 * PG && v[1].kind == ML_RUN_ZERO);
		ck_assert(v[2].start == a + 8 * PG && v[2].end == a + 16 * PG && v[2].kind == ML_RUN_UNPOPULATED);
	} else {
		/* zero pages that cannot be told are data: present bytes, read as they are */
		ck_assert_int_eq(n, 2);
		ck_assert(v[0].start == a && v[0].end == a + 8 * PG && v[0].kind == ML_RUN_DATA);
	}
	/* an unaligned end is reported back exactly */
	n = ml_source_runs(s, a + 5, a + 16 * PG - 7, 0, v, 16, &next);
	ck_assert_uint_eq(next, a + 16 * PG - 7);
	ck_assert_uint_eq(v[0].start, a + 5);
	ck_assert_uint_eq(v[n - 1].end, a + 16 * PG - 7);
	/* without the flag zero pages are populated data */
	n = ml_source_runs(s, a, a + 16 * PG, 0, v, 16, &next);
	ck_assert_int_eq(n, 2);
	ck_assert(v[0].end == a + 8 * PG && v[0].kind == ML_RUN_DATA);
	/* one run per call: resumable */
	n = ml_source_runs(s, a, a + 16 * PG, 0, v, 1, &next);
	ck_assert_int_eq(n, 1);
	ck_assert_uint_eq(next, a + 8 * PG);
	n = ml_source_runs(s, next, a + 16 * PG, 0, v, 1, &next);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(v[0].kind, ML_RUN_UNPOPULATED);
	ck_assert_uint_eq(next, a + 16 * PG);
	/* [vvar] is mapped but unreadable; runs never cross mappings */
	uint64_t vs, ve;
	if (mlt_find_mapping(c->pid, "[vvar]", &vs, &ve)) {
		n = ml_source_runs(s, vs, ve + PG, 0, v, 16, &next);
		ck_assert_int_ge(n, 2);
		ck_assert(v[0].start == vs && v[0].end == ve && v[0].kind == ML_RUN_UNREADABLE);
		ck_assert_uint_eq(v[1].start, ve);
	}
	/* the whole 64-bit space: every mapping, ending with the [vsyscall] page if any */
	ml_run all[512];
	n = ml_source_runs(s, 0, UINT64_MAX, 0, all, 512, &next);
	ck_assert_int_gt(n, 3);
	for (ssize_t i = 1; i < n; i++)
		ck_assert_uint_ge(all[i].start, all[i - 1].end);
	/* two adjacent mappings of one kind stay two runs */
	uint64_t m = mlt_cmd_u64(c, "first", "many 4");
	n = ml_source_runs(s, m, m + 4 * PG, 0, v, 16, &next);
	ck_assert_int_eq(n, 4);
	ml_source_free(s);
	mlt_child_free(c);
}
END_TEST

START_TEST(read_fills_unpopulated_with_zeros_without_faulting)
{
	mlt_child *c = mlt_spawn("ml_pages", NULL);
	ml_source *s;
	ck_assert_int_eq(ml_source_open_pid(c->pid, &s), 0);
	const size_t N = 262144; /* 1 GiB, every 16th page written */
	uint64_t a = mlt_cmd_u64(c, "addr", "anon %zu", N);
	mlt_cmd_ok(c, "write1 0x%llx %zu 16", (unsigned long long)a, N);
	mlt_cmd_ok(c, "readf 0x%llx 1", (unsigned long long)(a + PG)); /* one zero page too */
	size_t present0 = mlt_present_pages(c->pid, a, N);
	long pte0 = mlt_status_kb(c->pid, "VmPTE");
	ck_assert_uint_eq(present0, N / 16 + 1);
	size_t chunk = 8u << 20;
	unsigned char *buf = malloc(chunk);
	for (uint64_t off = 0; off < (uint64_t)N * PG; off += chunk) {
		memset(buf, 0xee, chunk);
		ck_assert_int_eq(ml_source_read(s, a + off, buf, chunk, 0), (ssize_t)chunk);
		for (size_t pg = 0; pg < chunk / PG; pg++) {
			uint64_t x = a + off + pg * PG;
			bool written = ((x - a) / PG) % 16 == 0;
			ck_assert_uint_eq(buf[pg * PG], written ? mlt_page_pattern(x) : 0);
			ck_assert_uint_eq(buf[pg * PG + 1], 0);
		}
	}
	ck_assert_uint_eq(mlt_present_pages(c->pid, a, N), present0);
	ck_assert_int_eq(mlt_status_kb(c->pid, "VmPTE"), pte0);
	free(buf);
	ml_source_free(s);
	mlt_child_free(c);
}
END_TEST

START_TEST(read_prefix_and_errors)
{
	mlt_child *c = mlt_spawn("ml_pages", NULL);
	ml_source *s;
	ck_assert_int_eq(ml_source_open_pid(c->pid, &s), 0);
	uint64_t a = mlt_cmd_u64(c, "addr", "anon 8");
	mlt_cmd_ok(c, "write 0x%llx 8", (unsigned long long)a);
	mlt_cmd_ok(c, "unmap 0x%llx 2", (unsigned long long)(a + 4 * PG));
	unsigned char buf[8 * PG];
	ck_assert_int_eq(ml_source_read(s, a + 3, buf, sizeof(buf), 0), 4 * PG - 3);
	ck_assert_uint_eq(buf[0], mlt_page_pattern(a + 3));
	ck_assert_int_eq(ml_source_read(s, a + 4 * PG, buf, 16, 0), -EFAULT);
	ck_assert_int_eq(ml_source_read(s, a + 6 * PG + 5, buf, 16, 0), 16);
	ck_assert_uint_eq(buf[0], mlt_page_pattern(a + 6 * PG + 5));
	uint64_t vs, ve;
	if (mlt_find_mapping(c->pid, "[vvar]", &vs, &ve))
		ck_assert_int_eq(ml_source_read(s, vs, buf, 16, 0), -EIO);
	/* PROT_NONE but present: read like a debugger would */
	uint64_t pn = mlt_cmd_u64(c, "addr", "protnone 2");
	ck_assert_int_eq(ml_source_read(s, pn, buf, 2 * PG, 0), 2 * PG);
	ck_assert_uint_eq(buf[PG + 9], mlt_page_pattern(pn + PG + 9));
	const char *r = mlt_cmd(c, "secret");
	if (!strncmp(r, "ok", 2))
		ck_assert_int_eq(ml_source_read(s, mlt_kv(r, "addr"), buf, 16, 0), -EIO);
	ml_source_free(s);
	mlt_child_free(c);
}
END_TEST

/* ML_READ_POPULATED: the same bytes as the walking read over data runs, the same prefix and
 * errors where the range stops being readable, and nothing faulted in over data. */
START_TEST(read_populated_flag)
{
	mlt_child *c = mlt_spawn("ml_pages", NULL);
	ml_source *s;
	ck_assert_int_eq(ml_source_open_pid(c->pid, &s), 0);
	uint64_t a = mlt_cmd_u64(c, "addr", "anon 64");
	mlt_cmd_ok(c, "write 0x%llx 48", (unsigned long long)a);
	size_t present0 = mlt_present_pages(c->pid, a, 64);
	ck_assert_uint_eq(present0, 48);
	ml_run v[4];
	uint64_t next;
	ck_assert_int_eq(ml_source_runs(s, a, a + 64 * PG, 0, v, 4, &next), 2);
	ck_assert(v[0].kind == ML_RUN_DATA && v[0].end == a + 48 * PG);
	static unsigned char b1[48 * PG], b2[48 * PG];
	memset(b2, 0xee, sizeof(b2));
	ck_assert_int_eq(ml_source_read(s, a + 7, b1, 48 * PG - 7, 0), 48 * PG - 7);
	ck_assert_int_eq(ml_source_read(s, a + 7, b2, 48 * PG - 7, ML_READ_POPULATED), 48 * PG - 7);
	ck_assert_int_eq(memcmp(b1, b2, 48 * PG - 7), 0);
	ck_assert_uint_eq(b2[0], mlt_page_pattern(a + 7));
	ck_assert_uint_eq(mlt_present_pages(c->pid, a, 64), present0);
	/* a hole since the runs were walked: the readable prefix, then -EFAULT at the hole */
	mlt_cmd_ok(c, "unmap 0x%llx 8", (unsigned long long)(a + 16 * PG));
	ck_assert_int_eq(ml_source_read(s, a + 8 * PG, b2, 16 * PG, ML_READ_POPULATED), 8 * PG);
	ck_assert_int_eq(ml_source_read(s, a + 16 * PG, b2, 16, ML_READ_POPULATED), -EFAULT);
	ck_assert_int_eq(ml_source_read(s, a + 16 * PG, b2, 16, 0), -EFAULT);
	/* unreadable mappings give -EIO, PROT_NONE memory is read */
	uint64_t vs, ve;
	if (mlt_find_mapping(c->pid, "[vvar]", &vs, &ve))
		ck_assert_int_eq(ml_source_read(s, vs, b2, 16, ML_READ_POPULATED), -EIO);
	uint64_t pn = mlt_cmd_u64(c, "addr", "protnone 2");
	ck_assert_int_eq(ml_source_read(s, pn, b2, 2 * PG, ML_READ_POPULATED), 2 * PG);
	ck_assert_uint_eq(b2[PG + 9], mlt_page_pattern(pn + PG + 9));
	ml_source_free(s);
	mlt_child_free(c);
}
END_TEST

/* The cached mapping list: a mapping made after it was read is found at a lower address
 * than the last query, and one unmapped since reads as unmapped. */
START_TEST(mapping_cache_follows_changes)
{
	mlt_child *c = mlt_spawn("ml_pages", NULL);
	ml_source *s;
	ck_assert_int_eq(ml_source_open_pid(c->pid, &s), 0);
	uint64_t a = mlt_cmd_u64(c, "addr", "anon 8");
	mlt_cmd_ok(c, "write 0x%llx 8", (unsigned long long)a);
	static unsigned char buf[3 * PG];
	ml_run all[512];
	uint64_t next;
	ck_assert_int_gt(ml_source_runs(s, 0, UINT64_MAX, 0, all, 512, &next), 0); /* caches the list */
	ck_assert_int_eq(ml_source_read(s, a + 7 * PG, buf, 16, 0), 16);
	/* back inside a known mapping, then into one made since */
	ck_assert_int_eq(ml_source_read(s, a, buf, 16, 0), 16);
	ck_assert_uint_eq(buf[0], mlt_page_pattern(a));
	uint64_t b = mlt_cmd_u64(c, "addr", "anon 4");
	mlt_cmd_ok(c, "write 0x%llx 4", (unsigned long long)b);
	ck_assert_int_eq(ml_source_read(s, b + PG, buf, 16, 0), 16);
	ck_assert_uint_eq(buf[3], mlt_page_pattern(b + PG + 3));
	ck_assert_int_eq(ml_source_read(s, a, buf, 16, 0), 16);
	mlt_cmd_ok(c, "unmap 0x%llx 2", (unsigned long long)(a + 2 * PG));
	ck_assert_int_eq(ml_source_read(s, a + 2 * PG, buf, 16, 0), -EFAULT);
	ck_assert_int_eq(ml_source_read(s, a, buf, 3 * PG, 0), 2 * PG);
	ml_source_free(s);
	mlt_child_free(c);
}
END_TEST

START_TEST(gone_process)
{
	mlt_child *c = mlt_spawn("ml_pages", NULL);
	ml_source *s;
	ck_assert_int_eq(ml_source_open_pid(c->pid, &s), 0);
	uint64_t a = mlt_cmd_u64(c, "addr", "anon 1");
	kill(c->pid, SIGKILL);
	mlt_wait(c);
	unsigned char buf[16];
	ml_run v[2];
	uint64_t next;
	ck_assert_int_eq(ml_source_read(s, a, buf, 16, 0), -ESRCH);
	ck_assert_int_eq(ml_source_runs(s, a, a + PG, 0, v, 2, &next), -ESRCH);
	ml_source_free(s);
	mlt_child_free(c);
}
END_TEST


static const char secret[] = "FILEPAGE-SECRET-4242";

/* Writes a file of @size bytes (a byte pattern, @secret at @off when @off < size) and drops
 * its page cache, so nothing of it is resident anywhere. Path in @path. */
static void make_file(char *path, size_t pathlen, size_t size, uint64_t off)
{
	snprintf(path, pathlen, "/tmp/ml_filepage.%d.XXXXXX", (int)getpid());
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	unsigned char *b = malloc(size);
	for (size_t i = 0; i < size; i++)
		b[i] = (unsigned char)(i * 7 + 3);
	if (off < size)
		memcpy(b + off, secret, sizeof(secret) - 1);
	ck_assert_int_eq(write(fd, b, size), (ssize_t)size);
	free(b);
	fsync(fd);
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
}

/* The file's bytes [off, off+len) (the oracle: a plain pread). */
static unsigned char *file_bytes(const char *path, uint64_t off, size_t len)
{
	unsigned char *b = calloc(1, len);
	int fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(pread(fd, b, len, (off_t)off), 0);
	close(fd);
	return b;
}

/* The FILEPAGE case: a shared mapping of a 1 MiB file the child never touched reads as the
 * file, page runs say so, and the child's page tables and Rss do not change. */
START_TEST(file_pages_come_from_the_file)
{
	char path[96];
	const size_t size = 1 << 20;
	const uint64_t off = 0x7b123;
	make_file(path, sizeof(path), size, off);
	mlt_child *c = mlt_spawn("ml_pages", NULL);
	ml_source *s;
	ck_assert_int_eq(ml_source_open_pid(c->pid, &s), 0);
	uint64_t a = mlt_cmd_u64(c, "addr", "mapfile %s shared %zu", path, size / PG);
	uint64_t z = mlt_cmd_u64(c, "addr", "anon 4");
	ck_assert_uint_eq(mlt_present_pages(c->pid, a, size / PG), 0);
	long rss0 = mlt_smaps_kb(c->pid, a, "Rss"), pte0 = mlt_status_kb(c->pid, "VmPTE");
	ck_assert_int_eq(rss0, 0);
	ml_run v[8];
	uint64_t next;
	/* without the flag the pages are unpopulated, as before; with it, the file's */
	ck_assert_int_eq(ml_source_runs(s, a, a + size, 0, v, 8, &next), 1);
	ck_assert_int_eq(v[0].kind, ML_RUN_UNPOPULATED);
	ck_assert_int_eq(ml_source_runs(s, a, a + size, ML_RUNS_FILE, v, 8, &next), 1);
	ck_assert(v[0].start == a && v[0].end == a + size && v[0].kind == ML_RUN_FILE);
	/* anonymous memory never written: zero-fill */
	ck_assert_int_eq(ml_source_runs(s, z, z + 4 * PG, ML_RUNS_FILE, v, 8, &next), 1);
	ck_assert_int_eq(v[0].kind, ML_RUN_UNPOPULATED);
	/* the secret, marked as from the file */
	unsigned char buf[0x2000];
	size_t nr;
	ck_assert_int_eq(ml_source_read_runs(s, a + 0x7b000, buf, sizeof(buf), 0, v, 8, &nr), (ssize_t)sizeof(buf));
	ck_assert_uint_eq(nr, 1);
	ck_assert(v[0].start == a + 0x7b000 && v[0].end == a + 0x7d000 && v[0].kind == ML_RUN_FILE);
	ck_assert_int_eq(memcmp(buf + 0x123, secret, sizeof(secret) - 1), 0);
	/* the whole mapping, byte for byte */
	unsigned char *all = malloc(size), *want = file_bytes(path, 0, size);
	ck_assert_int_eq(ml_source_read(s, a, all, size, 0), (ssize_t)size);
	ck_assert_int_eq(memcmp(all, want, size), 0);
	/* a read across file pages and anonymous zero-fill reports both */
	ck_assert_int_eq(ml_source_read_runs(s, z, buf, 16, 0, v, 8, &nr), 16);
	ck_assert(nr == 1 && v[0].kind == ML_RUN_UNPOPULATED && buf[0] == 0);
	/* nothing faulted in: no present page, no Rss, no page table */
	ck_assert_uint_eq(mlt_present_pages(c->pid, a, size / PG), 0);
	ck_assert_int_eq(mlt_smaps_kb(c->pid, a, "Rss"), rss0);
	ck_assert_int_eq(mlt_status_kb(c->pid, "VmPTE"), pte0);
	free(all);
	free(want);
	ml_source_free(s);
	mlt_child_free(c);
	unlink(path);
}
END_TEST

/* A private file mapping: pages never written are the file's, a written page is memory,
 * and once MADV_DONTNEED drops it the file's bytes are back (as for the process). Past the
 * end of the file nothing is readable (the process would get SIGBUS). */
START_TEST(private_file_pages_and_the_end_of_the_file)
{
	char path[96];
	const size_t size = 6000; /* one page and a half */
	make_file(path, sizeof(path), size, 100);
	mlt_child *c = mlt_spawn("ml_pages", NULL);
	ml_source *s;
	ck_assert_int_eq(ml_source_open_pid(c->pid, &s), 0);
	uint64_t a = mlt_cmd_u64(c, "addr", "mapfile %s private 3", path);
	mlt_cmd_ok(c, "write 0x%llx 1", (unsigned long long)a); /* copy-on-write of page 0 */
	ml_run v[8];
	uint64_t next;
	ck_assert_int_eq(ml_source_runs(s, a, a + 3 * PG, ML_RUNS_FILE, v, 8, &next), 3);
	ck_assert(v[0].end == a + PG && v[0].kind == ML_RUN_DATA);
	ck_assert(v[1].end == a + 2 * PG && v[1].kind == ML_RUN_FILE);
	ck_assert(v[2].end == a + 3 * PG && v[2].kind == ML_RUN_UNREADABLE);
	static unsigned char buf[3 * PG];
	unsigned char *want = file_bytes(path, 0, 2 * PG);
	size_t nr;
	memset(buf, 0xee, sizeof(buf));
	ck_assert_int_eq(ml_source_read_runs(s, a, buf, 3 * PG, 0, v, 8, &nr), 2 * PG);
	ck_assert_uint_eq(nr, 2);
	ck_assert(v[0].kind == ML_RUN_DATA && v[1].kind == ML_RUN_FILE && v[1].end == a + 2 * PG);
	ck_assert_uint_eq(buf[5], mlt_page_pattern(a + 5));
	/* the file's bytes up to its end, then zeros to the end of its last page */
	ck_assert_int_eq(memcmp(buf + PG, want + PG, size - PG), 0);
	for (size_t i = size; i < 2 * PG; i++)
		ck_assert_uint_eq(buf[i], 0);
	ck_assert_int_eq(ml_source_read(s, a + 2 * PG, buf, 16, 0), -EIO);
	/* the written page dropped: the process sees the file again, and so do we */
	mlt_cmd_ok(c, "dontneed 0x%llx 1", (unsigned long long)a);
	ck_assert_int_eq(ml_source_read_runs(s, a, buf, PG, 0, v, 8, &nr), PG);
	ck_assert(nr == 1 && v[0].kind == ML_RUN_FILE);
	ck_assert_int_eq(memcmp(buf, want, PG), 0);
	ck_assert_uint_eq(mlt_present_pages(c->pid, a, 3), 0);
	/* too few runs for the range: a short read, and the next call goes on */
	uint64_t b = mlt_cmd_u64(c, "addr", "anon 4");
	mlt_cmd_ok(c, "write 0x%llx 2", (unsigned long long)b);
	ck_assert_int_eq(ml_source_read_runs(s, b, buf, 4 * PG, 0, v, 1, &nr), 2 * PG);
	ck_assert(nr == 1 && v[0].kind == ML_RUN_DATA);
	ck_assert_int_eq(ml_source_read_runs(s, b + 2 * PG, buf, 2 * PG, 0, v, 1, &nr), 2 * PG);
	ck_assert(nr == 1 && v[0].kind == ML_RUN_UNPOPULATED);
	free(want);
	ml_source_free(s);
	mlt_child_free(c);
	unlink(path);
}
END_TEST

/* A library the process loaded but does not run: its text and read-only data, dropped from
 * its page tables with MADV_DONTNEED, read as the library file holds them. */
START_TEST(library_pages_not_resident_come_from_the_file)
{
	mlt_child *c = mlt_spawn("ml_pages", NULL);
	const char *r = mlt_cmd(c, "dlopen libm.so.6");
	if (!r || strncmp(r, "ok", 2))
		mlt_skip("the child cannot load libm.so.6: %s", r ? r : "EOF");
	char mpath[64], line[1024];
	snprintf(mpath, sizeof(mpath), "/proc/%d/maps", (int)c->pid);
	FILE *f = fopen(mpath, "re");
	ck_assert_ptr_nonnull(f);
	struct { uint64_t start, end, off; char path[512]; } m[16];
	size_t nm = 0;
	while (fgets(line, sizeof(line), f) && nm < 16) {
		unsigned long long s0, e0, o0;
		char perms[8], p[512];
		if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %511s", &s0, &e0, perms, &o0, p) == 5 &&
		    strstr(p, "/libm.so") && perms[1] == '-') { /* text and read-only data */
			m[nm].start = s0;
			m[nm].end = e0;
			m[nm].off = o0;
			snprintf(m[nm].path, sizeof(m[nm].path), "%s", p);
			nm++;
		}
	}
	fclose(f);
	ck_assert_uint_ge(nm, 2);
	ml_source *s;
	ck_assert_int_eq(ml_source_open_pid(c->pid, &s), 0);
	size_t checked = 0;
	for (size_t i = 0; i < nm; i++) {
		size_t len = (size_t)(m[i].end - m[i].start);
		mlt_cmd_ok(c, "dontneed 0x%llx %zu", (unsigned long long)m[i].start, len / PG);
		ck_assert_uint_eq(mlt_present_pages(c->pid, m[i].start, len / PG), 0);
		long rss0 = mlt_smaps_kb(c->pid, m[i].start, "Rss");
		ck_assert_int_eq(rss0, 0);
		ml_run v[4];
		uint64_t next;
		ck_assert_int_eq(ml_source_runs(s, m[i].start, m[i].end, ML_RUNS_FILE, v, 4, &next), 1);
		ck_assert_int_eq(v[0].kind, ML_RUN_FILE);
		unsigned char *got = malloc(len), *want = file_bytes(m[i].path, m[i].off, len);
		size_t nr;
		ck_assert_int_eq(ml_source_read_runs(s, m[i].start, got, len, 0, v, 4, &nr), (ssize_t)len);
		ck_assert(nr == 1 && v[0].kind == ML_RUN_FILE);
		ck_assert_msg(!memcmp(got, want, len), "%s at 0x%llx differs from the file", m[i].path,
			      (unsigned long long)m[i].off);
		ck_assert_uint_eq(mlt_present_pages(c->pid, m[i].start, len / PG), 0);
		ck_assert_int_eq(mlt_smaps_kb(c->pid, m[i].start, "Rss"), rss0);
		free(got);
		free(want);
		checked++;
	}
	ck_assert_uint_ge(checked, 2);
	ml_source_free(s);
	mlt_child_free(c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("source_live");
	TCase *tc = tcase_create("live");
	tcase_add_test(tc, runs_by_kind);
	tcase_add_test(tc, read_fills_unpopulated_with_zeros_without_faulting);
	tcase_add_test(tc, read_prefix_and_errors);
	tcase_add_test(tc, read_populated_flag);
	tcase_add_test(tc, mapping_cache_follows_changes);
	tcase_add_test(tc, gone_process);
	tcase_add_test(tc, file_pages_come_from_the_file);
	tcase_add_test(tc, private_file_pages_and_the_end_of_the_file);
	tcase_add_test(tc, library_pages_not_resident_come_from_the_file);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
