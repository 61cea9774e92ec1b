/* lib/snapshot/decomp.c through ml_source_open_file(): an ELF core compressed by the zstd,
 * lz4, xz and gzip commands (whole, and as two concatenated frames or members) reads back
 * exactly like the plain core; a cut-short or damaged stream is partial, with the reason,
 * never silently complete. The plain core comes from a synthetic snapshot
 * (snapshot_model.h) expanded by ml_snapshot_expand_path(). */
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "mltest.h"
#include "snapshot_model.h"

static char tmpdir[256];
static char core[400];
static sm_model model;

static const struct { const char *name, *cmd, *ext, *word; } codecs[] = {
	{ "zstd", "zstd -q -c", "zst", "zstd" },
	{ "lz4", "lz4 -q -c", "lz4", "LZ4" },
	{ "xz", "xz -c", "xz", "xz" },
	{ "gzip", "gzip -c", "gz", "gzip" },
};

static char *tpath(const char *name)
{
	static char buf[4][400];
	static int k;
	char *b = buf[k++ & 3];
	snprintf(b, 400, "%s/%s", tmpdir, name);
	return b;
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int st;
	char *out = mlt_run(cmd, &st);
	ck_assert_msg(st == 0, "%s: %s", cmd, out ? out : "");
	free(out);
}

static void setup(void)
{
	const char *t = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/mldecompXXXXXX", t && *t ? t : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++) {
		char cmd[64];
		snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null", codecs[i].name);
		int st;
		free(mlt_run(cmd, &st));
		if (st)
			mlt_skip("the %s command is missing (the independent compressor of this test)", codecs[i].name);
	}
	sm_build(&model, 31, 14, 48);
	ML_OPTS(ml_snapshot_writer_opts, o, .threads = 2);
	ck_assert_int_eq(sm_write(&model, tpath("a.mlcore"), &o, 1), 0);
	ml_snapshot *s;
	ck_assert_int_eq(ml_snapshot_open(tpath("a.mlcore"), &s), 0);
	snprintf(core, sizeof(core), "%s", tpath("a.core"));
	ck_assert_int_eq(ml_snapshot_expand_path(s, core, NULL, NULL), 0);
	ml_snapshot_free(s);
}

static void teardown(void)
{
	char cmd[320];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	int st;
	free(mlt_run(cmd, &st));
	sm_free(&model);
}

/* Every mapping of @want reads the same bytes, with the same results, from @got. */
static void same_reads(const ml_source *want, const ml_source *got)
{
	ml_maps *wm, *gm;
	ck_assert_int_eq(ml_source_maps(want, &wm), 0);
	ck_assert_int_eq(ml_source_maps(got, &gm), 0);
	ck_assert_uint_eq(ml_maps_count(gm), ml_maps_count(wm));
	ck_assert_uint_gt(ml_maps_count(wm), 0);
	size_t compared = 0;
	for (size_t i = 0; i < ml_maps_count(wm); i++) {
		const ml_vma *v = ml_maps_get(wm, i), *u = ml_maps_get(gm, i);
		ck_assert_uint_eq(u->start, v->start);
		ck_assert_uint_eq(u->end, v->end);
		size_t len = (size_t)(v->end - v->start);
		uint8_t *a = malloc(len), *b = malloc(len);
		ssize_t ra = ml_source_read(want, v->start, a, len, 0);
		ssize_t rb = ml_source_read(got, v->start, b, len, 0);
		ck_assert_int_eq(rb, ra);
		if (ra > 0) {
			ck_assert_msg(!memcmp(a, b, (size_t)ra), "mapping 0x%llx differs",
				      (unsigned long long)v->start);
			compared += (size_t)ra;
		}
		free(a);
		free(b);
	}
	ck_assert_uint_gt(compared, 0);
	ml_maps_free(wm);
	ml_maps_free(gm);
}

START_TEST(each_codec_reads_like_the_plain_core)
{
	const char *c = codecs[_i].cmd, *ext = codecs[_i].ext;
	char z[420];
	snprintf(z, sizeof(z), "%s.%s", core, ext);
	sh("%s '%s' >'%s'", c, core, z);
	ml_source *plain, *comp;
	ck_assert_int_eq(ml_source_open_file(core, &plain), 0);
	ck_assert_int_eq(ml_source_open_file(z, &comp), 0);
	ck_assert_int_eq(ml_source_get_type(comp), ML_SOURCE_CORE);
	ck_assert_ptr_null(ml_source_partial(comp));
	/* the notice says what was done, naming the codec */
	const char *n = ml_source_notice(comp);
	ck_assert_msg(n && strstr(n, codecs[_i].word), "notice: %s", n ? n : "(none)");
	same_reads(plain, comp);
	ml_source_free(comp);

	/* two frames (members, streams) one after the other are one core */
	struct stat st;
	ck_assert_int_eq(stat(core, &st), 0);
	long half = (long)(st.st_size / 2) + 1234;
	char z2[440];
	snprintf(z2, sizeof(z2), "%s.two.%s", core, ext);
	sh("head -c %ld '%s' | %s >'%s' && tail -c +%ld '%s' | %s >>'%s'", half, core, c, z2, half + 1, core, c, z2);
	ck_assert_int_eq(ml_source_open_file(z2, &comp), 0);
	ck_assert_ptr_null(ml_source_partial(comp));
	same_reads(plain, comp);
	ml_source_free(comp);
	ml_source_free(plain);
}
END_TEST

START_TEST(each_codec_cut_short_is_partial)
{
	const char *c = codecs[_i].cmd, *ext = codecs[_i].ext;
	char z[420], cut[440];
	snprintf(z, sizeof(z), "%s.%s", core, ext);
	snprintf(cut, sizeof(cut), "%s.cut.%s", core, ext);
	sh("%s '%s' >'%s'", c, core, z);
	struct stat st;
	ck_assert_int_eq(stat(z, &st), 0);
	sh("head -c %lld '%s' >'%s'", (long long)st.st_size * 2 / 3, z, cut);
	ml_source *s = NULL;
	int r = ml_source_open_file(cut, &s);
	if (r == 0) {
		const char *p = ml_source_partial(s);
		ck_assert_msg(p && strstr(p, "cut short") && strstr(p, codecs[_i].word), "partial: %s",
			      p ? p : "(complete!)");
		ml_source_free(s);
	} else {
		/* too little was left for even the headers: an error with the reason */
		ck_assert_int_eq(r, -EBADMSG);
		ck_assert_ptr_nonnull(strstr(ml_error_detail(), "cut short"));
	}
}
END_TEST

START_TEST(each_codec_damaged_is_never_complete)
{
	const char *c = codecs[_i].cmd, *ext = codecs[_i].ext;
	char z[420];
	snprintf(z, sizeof(z), "%s.bad.%s", core, ext);
	sh("%s '%s' >'%s'", c, core, z);
	struct stat st;
	ck_assert_int_eq(stat(z, &st), 0);
	int fd = open(z, O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	/* a run of bytes in the middle of the stream, past every header */
	uint8_t junk[64];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(0x5a ^ (i * 37));
	ck_assert_int_eq(pwrite(fd, junk, sizeof(junk), st.st_size / 2), (ssize_t)sizeof(junk));
	close(fd);
	ml_source *s = NULL;
	int r = ml_source_open_file(z, &s);
	if (r == 0) {
		const char *p = ml_source_partial(s);
		ck_assert_msg(p && strstr(p, codecs[_i].word), "damaged %s stream read as complete", ext);
		ml_source_free(s);
	} else {
		ck_assert_int_eq(r, -EBADMSG);
	}
}
END_TEST

/* The vaddr the plain core's byte at file offset @off is the memory of, or 0. */
static uint64_t vaddr_of(const uint8_t *c, uint64_t off)
{
	Elf64_Ehdr eh;
	memcpy(&eh, c, sizeof(eh));
	for (int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, c + eh.e_phoff + (size_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_LOAD && off >= ph.p_offset && off - ph.p_offset < ph.p_filesz)
			return ph.p_vaddr + (off - ph.p_offset);
	}
	return 0;
}

/* A byte changed where only the frame's own check can see it (stored, raw or uncompressed
 * blocks hold the core's random pages verbatim; the CRC-32, xxHash or CRC-64 at the frame's
 * end catches it after every byte was decoded): those bytes are never read as the core's.
 * The first frame (the headers, and the first half) ended whole before it and still reads. */
START_TEST(each_codec_checksum_failure_is_never_data)
{
	const char *c = codecs[_i].cmd, *ext = codecs[_i].ext;
	size_t clen, zlen;
	char *plain = NULL;
	{
		struct stat sb;
		ck_assert_int_eq(stat(core, &sb), 0);
		clen = (size_t)sb.st_size;
		plain = malloc(clen);
		int fd = open(core, O_RDONLY);
		ck_assert_int_eq(read(fd, plain, clen), (ssize_t)clen);
		close(fd);
	}
	long half = (long)(clen / 2);
	char z[440];
	snprintf(z, sizeof(z), "%s.check.%s", core, ext);
	sh("head -c %ld '%s' | %s >'%s' && tail -c +%ld '%s' | %s >>'%s'", half, core, c, z, half + 1, core, c, z);
	struct stat zs;
	ck_assert_int_eq(stat(z, &zs), 0);
	zlen = (size_t)zs.st_size;
	uint8_t *zd = malloc(zlen);
	int fd = open(z, O_RDWR);
	ck_assert_int_eq(read(fd, zd, zlen), (ssize_t)zlen);
	/* 32 bytes of the core's second half that the stream holds verbatim, once */
	uint64_t at = 0, zat = 0;
	for (uint64_t o = (uint64_t)half + 4096; o + 32 < clen && !at; o += 32) {
		const uint8_t *hit = memmem(zd, zlen, plain + o, 32);
		if (hit && !memmem(hit + 1, zlen - (size_t)(hit - zd) - 1, plain + o, 32) && vaddr_of((uint8_t *)plain, o + 16)) {
			at = o + 16;
			zat = (uint64_t)(hit - zd) + 16;
		}
	}
	/* xz codes even random pages: a byte in its second stream's middle, whose CRC-64 or
	 * decoding fails; it reports the end of concatenated streams only at the last one */
	bool xz = !strcmp(ext, "xz");
	ck_assert_msg(at || xz, "%s: no stretch of the core is stored verbatim", ext);
	if (!at)
		zat = zlen * 3 / 4;
	uint8_t flipped = (uint8_t)(zd[zat] ^ 0x40);
	ck_assert_int_eq(pwrite(fd, &flipped, 1, (off_t)zat), 1);
	close(fd);
	uint64_t va = vaddr_of((uint8_t *)plain, at);
	ml_source *s = NULL;
	int r = ml_source_open_file(z, &s);
	if (xz) {
		ck_assert_msg(r == -EBADMSG, "xz: %d, %s", r, s ? ml_source_partial(s) : "");
		ck_assert_msg(strstr(ml_error_detail(), "not used"), "%s", ml_error_detail());
	} else if (r == 0) {
		const char *p = ml_source_partial(s);
		ck_assert_msg(p && strstr(p, codecs[_i].word), "%s: read as complete", ext);
		uint8_t b[64];
		ssize_t n = ml_source_read(s, va - 32, b, sizeof(b), 0);
		ck_assert_msg(n <= 32, "%s: read %zd bytes across the changed byte (at 0x%llx: 0x%02x, the core has 0x%02x): %s",
			      ext, n, (unsigned long long)va, n > 32 ? b[32] : 0, (uint8_t)plain[at], p);
		/* the first frame's memory still reads */
		uint64_t va0 = 0, o0 = 4096;
		for (; o0 < (uint64_t)half && !(va0 = vaddr_of((uint8_t *)plain, o0)); o0 += 4096)
			;
		ck_assert_uint_ne(va0, 0);
		ck_assert_int_eq(ml_source_read(s, va0, b, 16, 0), 16);
		ck_assert(!memcmp(b, plain + o0, 16));
		ml_source_free(s);
	} else {
		ck_abort_msg("%s: %d (%s)", ext, r, ml_error_detail());
	}
	free(zd);
	free(plain);
}
END_TEST

/* Bytes allocated to this process's open temporary files (O_TMPFILE or unlinked). */
static uint64_t tmp_bytes_held(void)
{
	uint64_t sum = 0;
	for (int fd = 3; fd < 1024; fd++) {
		char l[64], t[512];
		snprintf(l, sizeof(l), "/proc/self/fd/%d", fd);
		ssize_t n = readlink(l, t, sizeof(t) - 1);
		if (n <= 0)
			continue;
		t[n] = 0;
		struct stat sb;
		if (strstr(t, "(deleted)") && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode))
			sum += (uint64_t)sb.st_blocks * 512;
	}
	return sum;
}

/* A stream that decodes to far more than the core its headers describe (a decompression
 * bomb: zstd makes 32 GB of 1 MB): decoding stops a little past the core's end instead of
 * filling the temporary directory, and the core reads whole, flagged partial. */
START_TEST(each_codec_stops_past_the_core)
{
	const char *c = codecs[_i].cmd, *ext = codecs[_i].ext;
	char z[440];
	snprintf(z, sizeof(z), "%s.bomb.%s", core, ext);
	/* 64 MiB of 'A' after the core: compresses to almost nothing, and is not a hole */
	sh("{ cat '%s'; head -c 67108864 /dev/zero | tr '\\0' A; } | %s >'%s'", core, c, z);
	struct stat sb;
	ck_assert_int_eq(stat(core, &sb), 0);
	uint64_t before = tmp_bytes_held();
	ml_source *plain, *s;
	ck_assert_int_eq(ml_source_open_file(core, &plain), 0);
	ck_assert_int_eq(ml_source_open_file(z, &s), 0);
	uint64_t held = tmp_bytes_held() - before;
	ck_assert_msg(held <= (uint64_t)sb.st_size + (1u << 20), "%s: %llu bytes of temporary file for a %lld-byte core",
		      ext, (unsigned long long)held, (long long)sb.st_size);
	const char *p = ml_source_partial(s);
	ck_assert_msg(p && strstr(p, "goes on past"), "%s: partial: %s", ext, p ? p : "(none)");
	same_reads(plain, s);
	ml_source_free(s);
	ml_source_free(plain);
}
END_TEST

START_TEST(junk_inside_a_valid_stream_is_not_a_core)
{
	const char *c = codecs[_i].cmd, *ext = codecs[_i].ext;
	char z[420];
	snprintf(z, sizeof(z), "%s/junk.%s", tmpdir, ext);
	sh("printf 'not a core at all, only text' | %s >'%s'", c, z);
	ml_source *s = NULL;
	ck_assert_int_eq(ml_source_open_file(z, &s), -EBADMSG);
	ck_assert_ptr_null(s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("snapshot_decomp");
	TCase *tc = tcase_create("codecs");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	int n = (int)(sizeof(codecs) / sizeof(codecs[0]));
	tcase_add_loop_test(tc, each_codec_reads_like_the_plain_core, 0, n);
	tcase_add_loop_test(tc, each_codec_cut_short_is_partial, 0, n);
	tcase_add_loop_test(tc, each_codec_damaged_is_never_complete, 0, n);
	tcase_add_loop_test(tc, junk_inside_a_valid_stream_is_not_a_core, 0, n);
	tcase_add_loop_test(tc, each_codec_checksum_failure_is_never_data, 0, n);
	suite_add_tcase(s, tc);
	/* 64 MiB decoded per codec: left out under valgrind (scripts/valgrind.sh) */
	TCase *tq = tcase_create("scale");
	tcase_set_tags(tq, "scale");
	tcase_add_checked_fixture(tq, setup, teardown);
	tcase_set_timeout(tq, 300);
	tcase_add_loop_test(tq, each_codec_stops_past_the_core, 0, n);
	suite_add_tcase(s, tq);
	return mlt_run_suite(s);
}
