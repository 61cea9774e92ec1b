/* lib/snapshot/writer_data.c: what each chunk is stored as. A chunk that does not shrink is
 * stored raw; one that shrinks anywhere is compressed, whatever its first and middle 8 KiB
 * (the samples looked at before the whole chunk is tried) hold; every byte reads back. For
 * every codec. The compression policies: NEVER stores every chunk raw; AUTO's decision on
 * each of its inputs, and when the disk counts as behind; the unwritten pages of a file as
 * the writer's probe counts them; AUTO compresses everything on a file system that keeps its files in
 * memory; its counts in the manifest agree with the index. */
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <sys/vfs.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mltest.h"
#include "snapshot_model.h"
#include "snapshot/writer.h"

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

/* One mapping of @nchunks 64 KiB chunks of text (all of them shrink), written to @dirpath
 * with @o; returns the opened snapshot and counts its data entries stored raw. */
static ml_snapshot *write_text(const char *dirpath, size_t nchunks, const ml_snapshot_writer_opts *o,
			       int feeders, size_t *nraw, size_t *ndata, sm_model *m)
{
	*m = (sm_model){ .n = 1, .seed = 5 };
	m->v = calloc(1, sizeof(*m->v));
	sm_vma *v = &m->v[0];
	v->start = 0x7f0000000000ull;
	v->dump = nchunks * CHUNK;
	v->end = v->start + v->dump;
	v->perms = ML_PERM_READ | ML_PERM_WRITE;
	v->name = "";
	v->bytes = malloc(v->dump);
	v->kind = malloc(v->dump / SM_PAGE);
	uint64_t s = 1;
	fill(v->bytes, v->dump, false, &s);
	memset(v->kind, SMK_TEXT, v->dump / SM_PAGE);
	char path[300];
	snprintf(path, sizeof(path), "%s/p.mlcore", dirpath);
	ck_assert_int_eq(sm_write(m, path, o, feeders), 0);
	ml_snapshot *snap;
	ck_assert_int_eq(ml_snapshot_open(path, &snap), 0);
	unlink(path);
	*nraw = *ndata = 0;
	for (size_t i = 0; i < ml_snapshot_entry_count(snap); i++) {
		ml_snapshot_entry en;
		ck_assert_int_eq(ml_snapshot_entry_get(snap, i, &en), 0);
		if (en.kind != ML_RUN_DATA)
			continue;
		(*ndata)++;
		*nraw += en.codec == ML_SNAPSHOT_CODEC_RAW;
	}
	ck_assert_uint_eq(*ndata, nchunks);
	uint8_t *back = malloc(v->dump);
	ck_assert_int_eq(ml_snapshot_read(snap, v->start, back, v->dump), (ssize_t)v->dump);
	ck_assert(memcmp(back, v->bytes, v->dump) == 0);
	free(back);
	return snap;
}

/* AUTO with one worker, a budget of four chunks and four feeding threads: the worker is
 * behind nearly all the time. */
static ml_snapshot *write_auto_behind(const char *dirpath, size_t nchunks, size_t *nraw, size_t *ndata,
				      sm_model *m)
{
	ML_OPTS(ml_snapshot_writer_opts, o, .chunk_size = CHUNK, .threads = 1, .max_buffer = 4 * CHUNK,
		.compress = ML_SNAPSHOT_COMPRESS_AUTO);
	return write_text(dirpath, nchunks, &o, 4, nraw, ndata, m);
}

static uint64_t field_u64(const ml_snapshot *snap, const char *key)
{
	const char *f = ml_snapshot_field(snap, key);
	ck_assert_msg(f != NULL, "manifest has no %s", key);
	return strtoull(f, NULL, 10);
}

START_TEST(policy_never_stores_every_chunk_raw)
{
	snprintf(dir, sizeof(dir), "/tmp/ml-wdata-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ML_OPTS(ml_snapshot_writer_opts, o, .chunk_size = CHUNK, .threads = 2,
		.compress = ML_SNAPSHOT_COMPRESS_NEVER);
	size_t nraw, ndata;
	sm_model m;
	ml_snapshot *snap = write_text(dir, 64, &o, 2, &nraw, &ndata, &m);
	ck_assert_uint_eq(nraw, ndata);
	ck_assert_str_eq(ml_snapshot_field(snap, "compress"), "never");
	ck_assert_uint_eq(field_u64(snap, "raw_chunks"), 64);
	ck_assert_uint_eq(field_u64(snap, "raw_to_keep_up"), 0); /* NEVER did not choose per chunk */
	ml_snapshot_free(snap);
	sm_free(&m);
	/* and ALWAYS, on the same text, compresses every one */
	ML_OPTS(ml_snapshot_writer_opts, a, .chunk_size = CHUNK, .threads = 2);
	snap = write_text(dir, 64, &a, 2, &nraw, &ndata, &m);
	ck_assert_uint_eq(nraw, 0);
	ck_assert_str_eq(ml_snapshot_field(snap, "compress"), "always");
	ml_snapshot_free(snap);
	sm_free(&m);
	rmdir(dir);
}
END_TEST

START_TEST(policy_auto_counts_agree_with_the_index)
{
	/* whatever AUTO chose on this machine, every chunk it did not try is raw and counted */
	snprintf(dir, sizeof(dir), "/tmp/ml-wdata-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	size_t nraw, ndata;
	sm_model m;
	/* 69 MiB: past two writeback steps, so that the disk is judged along the way */
	ml_snapshot *snap = write_auto_behind(dir, 1100, &nraw, &ndata, &m);
	ck_assert_str_eq(ml_snapshot_field(snap, "compress"), "auto");
	ck_assert_uint_eq(field_u64(snap, "raw_chunks"), nraw);
	/* text always shrinks: every raw chunk is one AUTO did not try */
	ck_assert_uint_eq(field_u64(snap, "raw_to_keep_up"), nraw);
	printf("auto, 1 worker, 4 feeders, %s: %zu of %zu chunks stored raw to keep up\n", dir, nraw, ndata);
	ml_snapshot_free(snap);
	sm_free(&m);
	rmdir(dir);
}
END_TEST

START_TEST(policy_auto_compresses_everything_in_memory)
{
	/* a file on tmpfs is memory: AUTO compresses every chunk there, however far behind */
	const char *base = "/dev/shm";
	struct statfs st;
	if (statfs(base, &st) != 0 || st.f_type != TMPFS_MAGIC || access(base, W_OK) != 0) {
		printf("SKIP policy_auto_compresses_everything_in_memory: %s is not a writable tmpfs here\n", base);
		return;
	}
	snprintf(dir, sizeof(dir), "%s/ml-wdata-XXXXXX", base);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	size_t nraw, ndata;
	sm_model m;
	ml_snapshot *snap = write_auto_behind(dir, 256, &nraw, &ndata, &m);
	ck_assert_uint_eq(nraw, 0);
	ck_assert_uint_eq(field_u64(snap, "raw_to_keep_up"), 0);
	ml_snapshot_free(snap);
	sm_free(&m);
	rmdir(dir);
}
END_TEST

START_TEST(disk_probe_counts_unwritten_pages)
{
	/* a file's dirty pages as cachestat() counts them: some right after writing, none once
	 * fsync returned */
	char d[256], path[300];
	mlt_mkdtemp(d, sizeof(d), "mlprobe");
	snprintf(path, sizeof(path), "%s/f", d);
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	struct statfs st;
	ck_assert_int_eq(fstatfs(fd, &st), 0);
	if (!snap_cachestat_works(fd) || st.f_type == TMPFS_MAGIC || st.f_type == RAMFS_MAGIC) {
		printf("SKIP disk_probe_counts_unwritten_pages: %s\n", snap_cachestat_works(fd)
		       ? "the temporary directory keeps its files in memory (nothing to write back)"
		       : "no cachestat() here (Linux 6.5): the writer judges the disk by /proc/meminfo");
		close(fd);
		mlt_rmtree(d);
		return;
	}
	size_t n = 4u << 20;
	uint8_t *b = malloc(n);
	memset(b, 0x5a, n);
	ck_assert_int_eq(write(fd, b, n), (ssize_t)n);
	int64_t dirty = snap_unwritten_pages(fd, 0, n);
	ck_assert_int_eq(fsync(fd), 0);
	int64_t after = snap_unwritten_pages(fd, 0, n);
	ck_assert_msg(dirty > 0 && dirty <= (int64_t)(n / 4096), "unwritten after write(): %lld pages", (long long)dirty);
	ck_assert_int_eq(after, 0);
	free(b);
	close(fd);
	mlt_rmtree(d);
}
END_TEST

START_TEST(adapt_decision_on_each_input)
{
	/* the workers keep up (half the budget or less waits): compress */
	snap_adapt a = { .waiting = 2, .budget = 256 };
	ck_assert(snap_adapt_compress(&a));
	a.waiting = 128;
	ck_assert(snap_adapt_compress(&a));
	/* more than half waits and the output keeps up: store raw */
	a.waiting = 129;
	ck_assert(!snap_adapt_compress(&a));
	/* ... unless the output is memory, its writeback is behind, or raw would not fit */
	snap_adapt m = a;
	m.out_in_memory = true;
	ck_assert(snap_adapt_compress(&m));
	snap_adapt d = a;
	d.disk_behind = true;
	ck_assert(snap_adapt_compress(&d));
	snap_adapt r = a;
	r.no_room_raw = true;
	ck_assert(snap_adapt_compress(&r));
	/* the disk: behind when the step before the last is more than half unwritten (where
	 * the kernel has cachestat), when the machine's unwritten memory grew by more than
	 * four steps since the writer began (without it), and when neither is known */
	snap_disk_probe p = { .source = SNAP_DISK_CACHESTAT, .unwritten_pages = 4096, .step_pages = 8192 };
	ck_assert(!snap_disk_behind(&p));
	p.unwritten_pages = 4097;
	ck_assert(snap_disk_behind(&p));
	p = (snap_disk_probe){ .source = SNAP_DISK_CACHESTAT }; /* an empty step */
	ck_assert(!snap_disk_behind(&p));
	p = (snap_disk_probe){ .source = SNAP_DISK_MEMINFO, .backlog_growth = 4 * (int64_t)WRITEBACK_STEP };
	ck_assert(!snap_disk_behind(&p));
	p.backlog_growth++;
	ck_assert(snap_disk_behind(&p));
	p.backlog_growth = -(int64_t)WRITEBACK_STEP * 10; /* others' dirty memory was written meanwhile */
	ck_assert(!snap_disk_behind(&p));
	p = (snap_disk_probe){ .source = SNAP_DISK_UNKNOWN };
	ck_assert(snap_disk_behind(&p));
	/* the machine's backlog as the writer reads it: a number of bytes, whole kB */
	int64_t b = snap_meminfo_backlog();
	ck_assert_msg(b >= 0 && b % 1024 == 0, "Dirty + Writeback from /proc/meminfo: %lld", (long long)b);
	/* the smallest budget (two chunks per worker and two more) */
	snap_adapt small = { .waiting = 4, .budget = 4 };
	ck_assert(!snap_adapt_compress(&small));
	small.waiting = 2;
	ck_assert(snap_adapt_compress(&small));
}
END_TEST

int main(void)
{
	Suite *su = suite_create("snapshot_writer_data");
	TCase *tc = tcase_create("chunks");
	tcase_add_loop_test(tc, chunks_stored_as_they_compress, 0, (int)(sizeof(codecs) / sizeof(codecs[0])));
	suite_add_tcase(su, tc);
	TCase *tp = tcase_create("policy");
	tcase_set_timeout(tp, 60);
	tcase_add_test(tp, adapt_decision_on_each_input);
	tcase_add_test(tp, disk_probe_counts_unwritten_pages);
	tcase_add_test(tp, policy_never_stores_every_chunk_raw);
	tcase_add_test(tp, policy_auto_counts_agree_with_the_index);
	tcase_add_test(tp, policy_auto_compresses_everything_in_memory);
	suite_add_tcase(su, tp);
	return mlt_run_suite(su);
}
