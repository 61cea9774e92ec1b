/* lib/vma_text.c: the maps-format line parser on random lines printed here as the kernel
 * prints them (every field read back), lines damaged one byte at a time, and the naming
 * rules (\012, one " (deleted)" suffix, the kind of each special name). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memlens/memlens.h>

#include "mltest.h"
#include "internal/vma_text.h"

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int parse(const char *line, ml__vma_line *l)
{
	return ml__vma_line_parse(line, line + strlen(line), l);
}

START_TEST(random_lines_read_back)
{
	uint64_t s = 0xfeedfacecafebeefull;
	for (int i = 0; i < 4000; i++) {
		uint64_t a = rnd(&s) >> (rnd(&s) % 64), len = rnd(&s) >> (rnd(&s) % 64);
		uint64_t b = a + (len > UINT64_MAX - a ? 0 : len);
		uint64_t off = rnd(&s) >> (rnd(&s) % 64), ino = rnd(&s) >> (rnd(&s) % 64);
		uint32_t maj = (uint32_t)(rnd(&s) >> (rnd(&s) % 64)), min = (uint32_t)(rnd(&s) % 1048576);
		unsigned pm = (unsigned)(rnd(&s) % 16);
		char perms[5] = { pm & 1 ? 'r' : '-', pm & 2 ? 'w' : '-', pm & 4 ? 'x' : '-', pm & 8 ? 's' : 'p', 0 };
		static const char *const names[] = { "", "/usr/lib/libc.so.6", "[heap]", "x y  z ", "/a\\012b" };
		const char *name = names[rnd(&s) % 5];
		char line[512];
		/* the kernel's format: %08lx-%08lx %s %08llx %02x:%02x %lu, padding, then the name */
		int n = snprintf(line, sizeof(line), "%08" PRIx64 "-%08" PRIx64 " %s %08" PRIx64 " %02x:%02x %" PRIu64, a, b,
				 perms, off, maj, min, ino);
		if (*name)
			snprintf(line + n, sizeof(line) - (size_t)n, "%*s%s", 73 - n > 1 ? 73 - n : 1, "", name);
		ml__vma_line l;
		ck_assert_msg(parse(line, &l) == 0, "%s", line);
		ck_assert_uint_eq(l.v.start, a);
		ck_assert_uint_eq(l.v.end, b);
		ck_assert_uint_eq(l.v.offset, off);
		ck_assert_uint_eq(l.v.dev_major, maj);
		ck_assert_uint_eq(l.v.dev_minor, min);
		ck_assert_uint_eq(l.v.inode, ino);
		uint32_t want = (pm & 1 ? ML_PERM_READ : 0) | (pm & 2 ? ML_PERM_WRITE : 0) | (pm & 4 ? ML_PERM_EXEC : 0) |
				(pm & 8 ? ML_PERM_SHARED : 0);
		ck_assert_uint_eq(l.v.perms, want);
		ck_assert_uint_eq(l.name_len, strlen(name));
		ck_assert(!memcmp(l.name, name, l.name_len));
	}
}
END_TEST

START_TEST(damaged_lines_refused)
{
	static const char *const bad[] = {
		"",
		"00400000 r-xp 00000000 08:01 1 /x",            /* no end */
		"00400000-00300000 r-xp 00000000 08:01 1 /x",   /* end before start */
		"00400000-00500000 rwxq 00000000 08:01 1 /x",   /* neither p nor s */
		"00400000-00500000 r-x 00000000 08:01 1 /x",    /* short perms */
		"00400000-00500000 r-xp 0000000g 08:01 1 /x",   /* not hex */
		"00400000-00500000 r-xp 00000000 0801 1 /x",    /* no colon */
		"00400000-00500000 r-xp 00000000 08:01 /x",     /* no inode */
		"00400000-00500000 r-xp 00000000 08:01 12x /x", /* inode not decimal */
		"00400000-00500000 r-xp 00000000 100000000:01 1", /* major beyond 32 bits */
		"10000000000000000-10000000000000001 r-xp 00000000 08:01 1", /* beyond 64 bits */
		"00400000-00500000 r-xp 00000000 08:01 99999999999999999999", /* inode beyond 64 bits */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ml__vma_line l;
		ck_assert_msg(parse(bad[i], &l) == -EBADMSG, "accepted: %s", bad[i]);
	}
	/* the end pointer is obeyed: a line cut before its inode is refused, one cut inside
	 * the inode has the digits before the cut */
	const char *good = "7f0000000000-7f0000001000 rw-s 00001000 fd:00 123456 /memfd:x (deleted)";
	const char *ino = strstr(good, "123456"), *ino_end = ino + 6;
	for (const char *e = good; e < ino_end; e++) {
		ml__vma_line l;
		int r = ml__vma_line_parse(good, e, &l);
		if (e <= ino) {
			ck_assert_msg(r == -EBADMSG, "cut at %td", e - good);
		} else {
			ck_assert_int_eq(r, 0);
			char digits[8] = { 0 };
			memcpy(digits, ino, (size_t)(e - ino));
			ck_assert_uint_eq(l.v.inode, strtoull(digits, NULL, 10));
		}
	}
	ml__vma_line l;
	ck_assert_int_eq(ml__vma_line_parse(good, ino_end, &l), 0);
	ck_assert_uint_eq(l.v.inode, 123456);
	ck_assert_uint_eq(l.name_len, 0);
}
END_TEST

START_TEST(names_decoded_and_classified)
{
	static const struct {
		const char *raw;
		uint64_t inode;
		const char *name;
		bool deleted;
		ml_vma_kind kind;
	} c[] = {
		{ "", 0, "", false, ML_VMA_ANON },
		{ "[heap]", 0, "[heap]", false, ML_VMA_HEAP },
		{ "[stack]", 0, "[stack]", false, ML_VMA_STACK },
		{ "[stack:1234]", 0, "[stack:1234]", false, ML_VMA_STACK },
		{ "[vdso]", 0, "[vdso]", false, ML_VMA_VDSO },
		{ "[vvar]", 0, "[vvar]", false, ML_VMA_VVAR },
		{ "[vvar_vclock]", 0, "[vvar_vclock]", false, ML_VMA_VVAR },
		{ "[vsyscall]", 0, "[vsyscall]", false, ML_VMA_VSYSCALL },
		{ "[anon:my buf]", 0, "[anon:my buf]", false, ML_VMA_ANON_NAMED },
		{ "[anon_shmem:x]", 9, "[anon_shmem:x]", false, ML_VMA_SHMEM },
		{ "[uprobes]", 0, "[uprobes]", false, ML_VMA_OTHER },
		{ "/dev/zero (deleted)", 6, "/dev/zero", true, ML_VMA_SHMEM },
		{ "/dev/zero", 6, "/dev/zero", false, ML_VMA_FILE },
		{ "/SYSV00000000 (deleted)", 7, "/SYSV00000000", true, ML_VMA_SYSV },
		{ "/memfd:buf (deleted)", 8, "/memfd:buf", true, ML_VMA_MEMFD },
		{ "/memfd:buf", 8, "/memfd:buf", false, ML_VMA_FILE }, /* a real file so named */
		{ "/tmp/a\\012b (deleted)", 5, "/tmp/a\nb", true, ML_VMA_FILE },
		{ "/tmp/x (deleted) (deleted)", 5, "/tmp/x (deleted)", true, ML_VMA_FILE }, /* one suffix only */
		{ "/tmp/back\\slash\\01", 5, "/tmp/back\\slash\\01", false, ML_VMA_FILE },
		{ "/tmp/trailing  ", 5, "/tmp/trailing  ", false, ML_VMA_FILE },
	};
	ml_buf names = { 0 };
	size_t offs[sizeof(c) / sizeof(c[0])];
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		ml_vma v = { .inode = c[i].inode };
		size_t off, len;
		bool esc;
		ck_assert_int_eq(ml__vma_name_add(&v, c[i].raw, strlen(c[i].raw), true, &names, &off, &len, &esc), 0);
		offs[i] = off;
		ck_assert_uint_eq(len, strlen(c[i].name));
		ck_assert_msg(!memcmp(names.data + off, c[i].name, len) && names.data[off + len] == '\0', "%s", c[i].raw);
		ck_assert_uint_eq(v.name_len, len);
		ck_assert_msg(v.deleted == c[i].deleted, "%s", c[i].raw);
		ck_assert_msg(v.kind == c[i].kind, "%s: kind %d, expected %d", c[i].raw, v.kind, c[i].kind);
		ck_assert(esc == (strstr(c[i].raw, "\\012") != NULL));
	}
	/* earlier names stay where they were put (offsets, not pointers, survive growth) */
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		ck_assert_str_eq(names.data + offs[i], c[i].name);
	/* without unescaping (binary names from PROCMAP_QUERY) the bytes are kept */
	ml_vma v = { 0 };
	size_t off, len;
	ck_assert_int_eq(ml__vma_name_add(&v, "/a\\012b", 7, false, &names, &off, &len, NULL), 0);
	ck_assert_str_eq(names.data + off, "/a\\012b");
	ml_buf_free(&names);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vma_text");
	TCase *tc = tcase_create("vma_text");
	tcase_add_test(tc, random_lines_read_back);
	tcase_add_test(tc, damaged_lines_refused);
	tcase_add_test(tc, names_decoded_and_classified);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
