/* lib/snapshot/writer_data.c: what each chunk is stored as. A chunk that does not shrink is
 * stored raw; one that shrinks anywhere is compressed, whatever its first and middle 8 KiB
 * (the samples looked at before the whole chunk is tried) hold; every byte reads back. For
 * every codec. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mltest.h"
#include "snapshot_model.h"

#define CHUNK (64u << 10)

/* What each 64 KiB chunk of the one mapping holds. */
enum { C_RANDOM, C_TEXT, C_RANDOM_HEAD /* first 8 KiB random, the rest text */,
       C_RANDOM_MIDDLE /* 8 KiB random at the middle, the rest text */,
       C_RANDOM_SAMPLES /* random where both samples are, text elsewhere */, C_N };

static const struct { ml_snapshot_codec codec; int level; } codecs[] = {
	{ ML_SNAPSHOT_CODEC_LZ4, 1 }, { ML_SNAPSHOT_CODEC_LZ4, 9 }, { ML_SNAPSHOT_CODEC_ZSTD, 3 },
	{ ML_SNAPSHOT_CODEC_ZLIB, 6 },
};

static char dir[256];

static void fill(uint8_t *p, size_t len, bool random, uint64_t *s)
{
	for (size_t i = 0; i < len; i++)
		p[i] = random ? (uint8_t)sm_rand(s) : (uint8_t)sm_words[(i * 7 + i / 64) % (sizeof(sm_words) - 1)];
}

START_TEST(chunks_stored_as_they_compress)
{
	snprintf(dir, sizeof(dir), "/tmp/ml-wdata-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	sm_model m = { .n = 1, .seed = 99 };
	m.v = calloc(1, sizeof(*m.v));
	sm_vma *v = &m.v[0];
	v->start = 0x7f0000000000ull;
	v->dump = C_N * CHUNK;
	v->end = v->start + v->dump;
	v->perms = ML_PERM_READ | ML_PERM_WRITE;
	v->name = "";
	v->bytes = malloc(C_N * CHUNK);
	v->kind = calloc(C_N * CHUNK / SM_PAGE, 1);
	uint64_t s = 12345;
	for (int c = 0; c < C_N; c++) {
		uint8_t *p = v->bytes + (size_t)c * CHUNK;
		fill(p, CHUNK, c == C_RANDOM, &s);
		if (c == C_RANDOM_HEAD || c == C_RANDOM_SAMPLES)
			fill(p, 8 << 10, true, &s);
		if (c == C_RANDOM_MIDDLE || c == C_RANDOM_SAMPLES)
			fill(p + CHUNK / 2, 8 << 10, true, &s);
		memset(v->kind + (size_t)c * CHUNK / SM_PAGE, c == C_RANDOM ? SMK_RANDOM : SMK_TEXT, CHUNK / SM_PAGE);
	}
	char path[300];
	snprintf(path, sizeof(path), "%s/w.mlcore", dir);
	ML_OPTS(ml_snapshot_writer_opts, o, .chunk_size = CHUNK, .threads = 2, .codec = codecs[_i].codec,
		.level = codecs[_i].level);
	ck_assert_int_eq(sm_write(&m, path, &o, 1), 0);

	ml_snapshot *snap;
	ck_assert_int_eq(ml_snapshot_open(path, &snap), 0);
	bool seen[C_N] = { false };
	for (size_t i = 0; i < ml_snapshot_entry_count(snap); i++) {
		ml_snapshot_entry en;
		ck_assert_int_eq(ml_snapshot_entry_get(snap, i, &en), 0);
		if (en.kind != ML_RUN_DATA)
			continue;
		ck_assert_uint_eq(en.len, CHUNK);
		int c = (int)((en.addr - v->start) / CHUNK);
		seen[c] = true;
		if (c == C_RANDOM)
			ck_assert_msg(en.codec == ML_SNAPSHOT_CODEC_RAW, "random chunk stored as %s",
				      ml_snapshot_codec_name(en.codec));
		else if (c != C_RANDOM_SAMPLES)
			/* shrinks (by 7/8 or more of it being text): compressed, samples or not */
			ck_assert_msg(en.codec != ML_SNAPSHOT_CODEC_RAW, "chunk %d (mostly text) stored raw", c);
		/* C_RANDOM_SAMPLES may be stored either way: both samples say random */
	}
	for (int c = 0; c < C_N; c++)
		ck_assert_msg(seen[c], "chunk %d missing", c);
	uint8_t *back = malloc(C_N * CHUNK);
	ck_assert_int_eq(ml_snapshot_read(snap, v->start, back, C_N * CHUNK), (ssize_t)(C_N * CHUNK));
	ck_assert(memcmp(back, v->bytes, C_N * CHUNK) == 0);
	free(back);
	ml_snapshot_free(snap);
	sm_free(&m);
	unlink(path);
	rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("snapshot_writer_data");
	TCase *tc = tcase_create("chunks");
	tcase_add_loop_test(tc, chunks_stored_as_they_compress, 0, (int)(sizeof(codecs) / sizeof(codecs[0])));
	suite_add_tcase(su, tc);
	return mlt_run_suite(su);
}
