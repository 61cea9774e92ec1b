/* snapshot.h, the reading side (lib/snapshot/reader.c, core.c, util.c) against damaged files: truncation, bit flips everywhere, crafted index/notes with valid checksums. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <memlens/memlens.h>

#include "mltest.h"
#include "snapshot/snap.h"
#include "snapshot_model.h"

static char dir[256];
static uint8_t *good;
static size_t good_len;
static sm_model model;

static char *path(const char *n)
{
	static char b[2][400];
	static int k;
	char *p = b[k++ & 1];
	snprintf(p, 400, "%s/%s", dir, n);
	return p;
}

static void setup(void)
{
	/* thousands of small files are written: tmpfs when there is one */
	snprintf(dir, sizeof(dir), "%s/mlsnapcXXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	sm_build(&model, 21, 12, 24);
	ML_OPTS(ml_snapshot_writer_opts, o, .chunk_size = 64 << 10, .threads = 1);
	ck_assert_int_eq(sm_write(&model, path("good.mlcore"), &o, 1), 0);
	int fd = open(path("good.mlcore"), O_RDONLY);
	struct stat st;
	fstat(fd, &st);
	good_len = (size_t)st.st_size;
	good = malloc(good_len);
	ck_assert_int_eq(read(fd, good, good_len), (ssize_t)good_len);
	close(fd);
}

static void teardown(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	int st;
	free(mlt_run(cmd, &st));
	free(good);
	sm_free(&model);
}

static void put_file(const char *name, const uint8_t *p, size_t n)
{
	int fd = open(path(name), O_CREAT | O_TRUNC | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, p, n), (ssize_t)n);
	close(fd);
}

/* Opens @p (n bytes) as a snapshot; 0 if it opened and verified, else the error; *msg the message. */
static int try_bytes(const uint8_t *p, size_t n, char **msg)
{
	put_file("t.mlcore", p, n);
	ml_snapshot *s;
	*msg = NULL;
	int r = ml_snapshot_open(path("t.mlcore"), &s);
	if (r < 0) {
		/* a malformed file is described; other errors say it with the errno */
		if (r == -EBADMSG)
			ck_assert_uint_gt(strlen(ml_error_detail()), 5);
		*msg = strdup(*ml_error_detail() ? ml_error_detail() : ml_strerror(r));
		return r;
	}
	r = ml_snapshot_verify(s, ML_SNAPSHOT_VERIFY_SHA256, NULL);
	if (r < 0)
		*msg = strdup(ml_error_detail());
	ml_snapshot_free(s);
	return r;
}

/* The segments of the good file. */
typedef struct segs {
	uint64_t note_off, note_len, data_off, data_len, idx_off, idx_len;
} segs;

static segs find_segs(const uint8_t *p)
{
	segs s = {0};
	Elf64_Ehdr eh;
	memcpy(&eh, p, sizeof(eh));
	for (int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, p + eh.e_phoff + (size_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_NOTE) { s.note_off = ph.p_offset; s.note_len = ph.p_filesz; }
		if (ph.p_type == SNAP_PT_DATA) { s.data_off = ph.p_offset; s.data_len = ph.p_filesz; }
		if (ph.p_type == SNAP_PT_INDEX) { s.idx_off = ph.p_offset; s.idx_len = ph.p_filesz; }
	}
	return s;
}

/* Recomputes the index and note checksums after a deliberate edit, so the structural
 * checks behind them are what is tested. */
static void fix_crcs(uint8_t *p, const segs *s)
{
	uint8_t *h = p + s->idx_off;
	put32(h + 48, (uint32_t)crc32(0L, h + SNAP_IDX_HDR_SIZE, (uInt)(s->idx_len - SNAP_IDX_HDR_SIZE)));
	put32(h + 52, (uint32_t)crc32(0L, p + s->note_off, (uInt)s->note_len));
	put32(h + 76, (uint32_t)crc32(0L, h, 76));
}

START_TEST(good_file_is_good)
{
	char *msg;
	ck_assert_int_eq(try_bytes(good, good_len, &msg), 0);
	free(msg);
}
END_TEST

START_TEST(truncated_anywhere)
{
	size_t step = good_len / 400 + 1;
	for (size_t n = 0; n < good_len; n += (n < 300 || good_len - n < 300) ? 1 : step) {
		char *msg;
		int r = try_bytes(good, n, &msg);
		ck_assert_msg(r == -EBADMSG, "truncated to %zu bytes: %d", n, r);
		free(msg);
	}
}
END_TEST

START_TEST(every_flipped_bit_is_caught)
{
	/* a flip anywhere: the header area is covered by a checksum in the index header,
	 * data by chunk CRCs, notes and index by their checksums, padding must be zero */
	uint8_t *p = malloc(good_len);
	uint64_t rs = 5;
	unsigned n = 0;
	for (size_t off = 0; off < good_len; off += 1 + (off > 5000 ? sm_rand(&rs) % 40 : 0)) {
		memcpy(p, good, good_len);
		p[off] ^= (uint8_t)(1u << (sm_rand(&rs) % 8));
		char *msg;
		int r = try_bytes(p, good_len, &msg);
		ck_assert_msg(r == -EBADMSG, "flip at offset %zu not caught (%d)", off, r);
		free(msg);
		n++;
	}
	ck_assert_uint_gt(n, 5000);
	/* trailing garbage */
	uint8_t *q = malloc(good_len + 3);
	memcpy(q, good, good_len);
	memcpy(q + good_len, "abc", 3);
	char *msg;
	ck_assert_int_eq(try_bytes(q, good_len + 3, &msg), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(msg, "trailing"));
	free(msg);
	free(q);
	free(p);
}
END_TEST

START_TEST(data_corruption_names_the_chunk)
{
	segs sg = find_segs(good);
	uint8_t *p = malloc(good_len);
	memcpy(p, good, good_len);
	/* the first stored chunk */
	const uint8_t *e = good + sg.idx_off + SNAP_IDX_HDR_SIZE;
	size_t n = (size_t)(sg.idx_len - SNAP_IDX_HDR_SIZE) / SNAP_IDX_ENT_SIZE, ci = SIZE_MAX;
	for (size_t i = 0; i < n; i++)
		if (e[i * SNAP_IDX_ENT_SIZE + 32] == SK_DATA) {
			ci = i;
			break;
		}
	ck_assert_uint_ne(ci, SIZE_MAX);
	const uint8_t *ce = e + ci * SNAP_IDX_ENT_SIZE;
	uint64_t addr = get64(ce), off = get64(ce + 16);
	uint32_t csize = get32(ce + 24);
	p[off + csize / 2] ^= 0x40;
	put_file("d.mlcore", p, good_len);
	ml_snapshot *s;
	ck_assert_int_eq(ml_snapshot_open(path("d.mlcore"), &s), 0); /* opens: data is checked on use */
	size_t bad;
	ck_assert_int_eq(ml_snapshot_verify(s, 0, &bad), -EBADMSG);
	ck_assert_uint_eq(bad, ci);
	char want[64];
	snprintf(want, sizeof(want), "chunk %zu (0x%llx", ci, (unsigned long long)addr);
	ck_assert_msg(strstr(ml_error_detail(), want), "%s", ml_error_detail());
	uint8_t buf[4096];
	ck_assert_int_eq(ml_snapshot_read(s, addr, buf, sizeof(buf)), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(ml_error_detail(), want));
	/* expand refuses and leaves nothing */
	ck_assert_int_eq(ml_snapshot_expand_path(s, path("d.core"), NULL, NULL), -EBADMSG);
	ck_assert_int_eq(access(path("d.core"), F_OK), -1);
	ml_snapshot_free(s);
	free(p);
}
END_TEST

static size_t find_note(const uint8_t *p, const segs *sg, uint32_t type, uint32_t *len);

static size_t find_bytes(const uint8_t *p, size_t from, size_t len, const char *what)
{
	const uint8_t *q = memmem(p + from, len, what, strlen(what));
	ck_assert_msg(q, "'%s' not found", what);
	return (size_t)(q - p);
}

/* Edits whose checksums are recomputed (as a tool that rewrote the file would) open fine,
 * but verify fails: the seal covers every byte but the data segment, the data's CRCs are
 * in the sealed index, and header fields and padding must have their one allowed value. */
START_TEST(recomputed_checksums_fail_verify)
{
	segs sg = find_segs(good);
	uint32_t mlen, flen, tlen;
	size_t man = find_note(good, &sg, SNAP_NT_MANIFEST, &mlen), tab = find_note(good, &sg, SNAP_NT_MAPPINGS, &tlen);
	size_t fil = find_note(good, &sg, SNAP_NT_PROCFILE, &flen);
	ck_assert(man && tab && fil);
	ck_assert_uint_gt(find_note(good, &sg, SNAP_NT_SEAL, &flen), 0);
	/* the first mapping record with a name whose length is not a multiple of 8 */
	size_t rec = tab + SNAP_MAP_HDR_SIZE, padrec = 0, named = 0;
	for (uint64_t i = 0; i < get64(good + tab + 8); i++) {
		uint32_t nl = get32(good + rec + 60);
		if (nl && !named)
			named = rec;
		if (nl % 8 && !padrec)
			padrec = rec;
		rec += SNAP_MAP_REC_SIZE + ((nl + 7) & ~7u);
	}
	ck_assert(named && padrec);
	/* a raw data chunk, whose CRC is recomputed in its index entry */
	const uint8_t *e = good + sg.idx_off + SNAP_IDX_HDR_SIZE;
	size_t nent = (size_t)(sg.idx_len - SNAP_IDX_HDR_SIZE) / SNAP_IDX_ENT_SIZE, raw = SIZE_MAX;
	for (size_t i = 0; i < nent && raw == SIZE_MAX; i++)
		if (e[i * SNAP_IDX_ENT_SIZE + 32] == SK_DATA && e[i * SNAP_IDX_ENT_SIZE + 33] == SC_RAW)
			raw = i;
	ck_assert_uint_ne(raw, SIZE_MAX);
	size_t ent = (size_t)sg.idx_off + SNAP_IDX_HDR_SIZE + raw * SNAP_IDX_ENT_SIZE;
	struct { const char *what; size_t at; uint8_t val; const char *says; } cases[] = {
		{ "manifest", find_bytes(good, man, mlen, "synthetic"), 'S', "seal" },
		{ "saved /proc file", fil + strlen((const char *)good + fil) + 3, 0, "seal" },
		{ "mapping name", named + SNAP_MAP_REC_SIZE, 'X', "seal" },
		{ "mapping inode", named + 24, 0x77, "seal" },
		{ "ELF e_flags", 48, 1, "ELF header" },
		{ "ELF e_entry", 24, 1, "ELF header" },
		{ "ELF EI_ABIVERSION", EI_ABIVERSION, 1, "ELF header" },
		{ "p_align of the notes", 64 + 48, 8, "program header 0" },
		{ "p_vaddr of the index", 64 + 2 * 56 + 16, 1, "program header 2" },
		{ "header padding", 1000, 1, "padding after the program headers" },
		{ "mapping reserved byte", named + 70, 1, "reserved bytes" },
		{ "mapping build ID tail", named + 72 + 31, 1, "build ID" },
		{ "mapping name padding", padrec + SNAP_MAP_REC_SIZE + get32(good + padrec + 60), 1, "name padding" },
		{ "chunk data, CRC recomputed", (size_t)get64(good + ent + 16) + 7, 0, "seal" },
	};
	uint8_t *p = malloc(good_len);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		memcpy(p, good, good_len);
		p[cases[c].at] = cases[c].val ? cases[c].val : (uint8_t)(p[cases[c].at] ^ 0x20);
		if (c == sizeof(cases) / sizeof(cases[0]) - 1)
			put32(p + ent + 28, (uint32_t)crc32(0L, p + get64(p + ent + 16), get32(p + ent + 24)));
		fix_crcs(p, &sg);
		put32(p + sg.idx_off + 60, (uint32_t)crc32(0L, p, (uInt)sg.data_off));
		put32(p + sg.idx_off + 76, (uint32_t)crc32(0L, p + sg.idx_off, 76));
		put_file("x.mlcore", p, good_len);
		ml_snapshot *s;
		int r = ml_snapshot_open(path("x.mlcore"), &s);
		ck_assert_msg(r == 0, "%s: refused at open (%s): the edit must pass the checksums", cases[c].what,
			      ml_error_detail());
		ck_assert(ml_snapshot_sealed(s));
		ck_assert_msg(ml_snapshot_verify(s, 0, NULL) == -EBADMSG, "%s: verify accepted it", cases[c].what);
		ck_assert_msg(strstr(ml_error_detail(), cases[c].says), "%s: '%s'", cases[c].what, ml_error_detail());
		ml_snapshot_free(s);
	}
	/* the unchanged file, checksums recomputed all the same, verifies */
	memcpy(p, good, good_len);
	fix_crcs(p, &sg);
	put_file("x.mlcore", p, good_len);
	ml_snapshot *s;
	ck_assert_int_eq(ml_snapshot_open(path("x.mlcore"), &s), 0);
	ck_assert_int_eq(ml_snapshot_verify(s, ML_SNAPSHOT_VERIFY_SHA256, NULL), 0);
	ml_snapshot_free(s);
	free(p);
}
END_TEST

/* A corrupt chunk in the middle of a mapping: reads give the good prefix before it and
 * fail at it, and the source names exactly its range so that a scan can skip it. */
START_TEST(corrupt_chunk_prefix_and_range)
{
	sm_model m = { .seed = 3, .n = 1 };
	m.v = calloc(1, sizeof(*m.v));
	sm_vma *v = &m.v[0];
	size_t pages = 64;
	*v = (sm_vma){ .start = 0x7f0000000000ull, .end = 0x7f0000000000ull + pages * SM_PAGE, .dump = pages * SM_PAGE,
		       .perms = ML_PERM_READ | ML_PERM_WRITE, .name = "" };
	v->bytes = malloc(v->dump);
	v->kind = calloc(pages, 1); /* SMK_RANDOM */
	uint64_t rs = 77;
	for (size_t j = 0; j < v->dump; j += 8) {
		uint64_t x = sm_rand(&rs);
		memcpy(v->bytes + j, &x, 8);
	}
	ML_OPTS(ml_snapshot_writer_opts, o, .chunk_size = 64 << 10, .threads = 1);
	ck_assert_int_eq(sm_write(&m, path("p.mlcore"), &o, 1), 0);
	int fd = open(path("p.mlcore"), O_RDWR);
	struct stat st;
	fstat(fd, &st);
	uint8_t *p = malloc((size_t)st.st_size);
	ck_assert_int_eq(read(fd, p, (size_t)st.st_size), st.st_size);
	/* damage the stored bytes of the second of the four chunks */
	segs sg = find_segs(p);
	const uint8_t *e = p + sg.idx_off + SNAP_IDX_HDR_SIZE + 1 * SNAP_IDX_ENT_SIZE;
	uint64_t lo = get64(e), len = get64(e + 8);
	ck_assert_uint_eq(lo, v->start + (64 << 10));
	ck_assert_uint_eq(len, 64 << 10);
	p[get64(e + 16) + get32(e + 24) / 2] ^= 0x10;
	ck_assert_int_eq(pwrite(fd, p, (size_t)st.st_size, 0), st.st_size);
	close(fd);
	free(p);

	ml_snapshot *s;
	ck_assert_int_eq(ml_snapshot_open(path("p.mlcore"), &s), 0);
	uint8_t *buf = malloc(v->dump);
	ck_assert_int_eq(ml_snapshot_read(s, v->start + 100, buf, v->dump - 100), (ssize_t)(lo - v->start - 100));
	ck_assert_int_eq(memcmp(buf, v->bytes + 100, lo - v->start - 100), 0);
	ck_assert_int_eq(ml_snapshot_read(s, lo, buf, 16), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(ml_error_detail(), "chunk 1 (0x7f0000010000-0x7f0000020000"));
	ck_assert_int_eq(ml_snapshot_read(s, lo + len, buf, 4096), 4096);
	ck_assert_int_eq(memcmp(buf, v->bytes + (lo + len - v->start), 4096), 0);
	ml_snapshot_free(s);

	ml_source *src;
	ck_assert_int_eq(ml_source_open_file(path("p.mlcore"), &src), 0);
	uint64_t a = 0, b = 0;
	ck_assert_int_eq(ml_source_damage(src, lo + 5000, &a, &b), 0);
	ck_assert_uint_eq(a, lo);
	ck_assert_uint_eq(b, lo + len);
	ck_assert_ptr_nonnull(strstr(ml_error_detail(), "chunk 1"));
	ck_assert_int_eq(ml_source_damage(src, v->start, &a, &b), -ENOENT); /* a good chunk */
	ck_assert_int_eq(ml_source_damage(src, 0x1000, &a, &b), -ENOENT);   /* unmapped */
	ck_assert_int_eq(ml_source_read(src, v->start, buf, v->dump, 0), (ssize_t)(lo - v->start));
	ml_source_free(src);
	ml_source *self;
	ck_assert_int_eq(ml_source_open_pid(getpid(), &self), 0);
	ck_assert_int_eq(ml_source_damage(self, 0x1000, &a, &b), -EOPNOTSUPP);
	ml_source_free(self);
	free(buf);
	sm_free(&m);
}
END_TEST

/* Damage to the stored bytes of a compressed chunk of each codec (a flipped bit, a stream
 * cut short and padded with zeros, a broken header): the file opens (data is checked on
 * use), and verify, read and expand all report that chunk, never other bytes. */
static const ml_snapshot_codec dmg_codecs[] = { ML_SNAPSHOT_CODEC_ZLIB, ML_SNAPSHOT_CODEC_LZ4, ML_SNAPSHOT_CODEC_ZSTD };

START_TEST(codec_damage_names_the_chunk)
{
	ml_snapshot_codec codec = dmg_codecs[_i];
	ML_OPTS(ml_snapshot_writer_opts, o, .chunk_size = 64 << 10, .threads = 1, .codec = codec);
	ck_assert_int_eq(sm_write(&model, path("c.mlcore"), &o, 1), 0);
	int fd = open(path("c.mlcore"), O_RDONLY);
	struct stat st;
	ck_assert_int_eq(fstat(fd, &st), 0);
	size_t len = (size_t)st.st_size;
	uint8_t *orig = malloc(len), *p = malloc(len);
	ck_assert_int_eq(read(fd, orig, len), (ssize_t)len);
	close(fd);
	segs sg = find_segs(orig);
	const uint8_t *e = orig + sg.idx_off + SNAP_IDX_HDR_SIZE;
	size_t n = (size_t)(sg.idx_len - SNAP_IDX_HDR_SIZE) / SNAP_IDX_ENT_SIZE, ci = SIZE_MAX;
	for (size_t i = 0; i < n && ci == SIZE_MAX; i++)
		if (e[i * SNAP_IDX_ENT_SIZE + 32] == SK_DATA && e[i * SNAP_IDX_ENT_SIZE + 33] == (uint8_t)codec &&
		    get32(e + i * SNAP_IDX_ENT_SIZE + 24) >= 64)
			ci = i;
	ck_assert_uint_ne(ci, SIZE_MAX);
	const uint8_t *ce = e + ci * SNAP_IDX_ENT_SIZE;
	uint64_t addr = get64(ce), off = get64(ce + 16);
	uint32_t csize = get32(ce + 24);
	char want[64];
	snprintf(want, sizeof(want), "chunk %zu (0x%llx", ci, (unsigned long long)addr);
	for (int how = 0; how < 4; how++) {
		memcpy(p, orig, len);
		switch (how) {
		case 0: p[off + csize / 2] ^= 0x40; break;                 /* a flipped bit */
		case 1: memset(p + off + csize / 2, 0, csize - csize / 2); break; /* cut short */
		case 2: memset(p + off, 0xff, 4); break;                   /* header / first sequence */
		case 3: p[off + csize - 1] ^= 0x01; break;                 /* the very end */
		}
		put_file("d.mlcore", p, len);
		ml_snapshot *s;
		ck_assert_int_eq(ml_snapshot_open(path("d.mlcore"), &s), 0);
		size_t bad = SIZE_MAX;
		ck_assert_int_eq(ml_snapshot_verify(s, 0, &bad), -EBADMSG);
		ck_assert_uint_eq(bad, ci);
		const char *m = ml_error_detail();
		ck_assert_msg(strstr(m, want), "damage %d: %s", how, m);
		char cw[32];
		snprintf(cw, sizeof(cw), "corrupt %s data", ml_snapshot_codec_name(codec));
		ck_assert_msg(strstr(m, cw) || strstr(m, "CRC mismatch"), "damage %d: %s", how, m);
		uint8_t buf[4096];
		if (codec == ML_SNAPSHOT_CODEC_ZLIB && how == 3) {
			/* zlib's own Adler-32 trailer: only verify checks it; reads rely on the
			 * index's CRC-32 of the bytes, which still holds */
			ck_assert_int_eq(ml_snapshot_read(s, addr, buf, sizeof(buf)), (ssize_t)sizeof(buf));
			ml_snapshot_free(s);
			continue;
		}
		ck_assert_int_eq(ml_snapshot_read(s, addr, buf, sizeof(buf)), -EBADMSG);
		ck_assert_msg(strstr(ml_error_detail(), want), "%s", ml_error_detail());
		ck_assert_int_eq(ml_snapshot_expand_path(s, path("d.core"), NULL, NULL), -EBADMSG);
		ck_assert_int_eq(access(path("d.core"), F_OK), -1);
		/* the other chunks still read */
		for (size_t i = 0; i < n; i++)
			if (i != ci && e[i * SNAP_IDX_ENT_SIZE + 32] == SK_DATA) {
				ck_assert_int_eq(ml_snapshot_read(s, get64(e + i * SNAP_IDX_ENT_SIZE), buf, 1), 1);
				break;
			}
		ml_snapshot_free(s);
	}
	free(p);
	free(orig);
}
END_TEST

/* An edit of index entry @i (with checksums fixed) must fail open with @want in the message. */
typedef void (*edit_fn)(uint8_t *ent, size_t n, uint8_t *idxhdr);

static void expect_index_edit(edit_fn fn, const char *want)
{
	segs sg = find_segs(good);
	uint8_t *p = malloc(good_len);
	memcpy(p, good, good_len);
	uint8_t *h = p + sg.idx_off;
	size_t n = (size_t)(sg.idx_len - SNAP_IDX_HDR_SIZE) / SNAP_IDX_ENT_SIZE;
	fn(h + SNAP_IDX_HDR_SIZE, n, h);
	fix_crcs(p, &sg);
	char *msg;
	int r = try_bytes(p, good_len, &msg);
	ck_assert_int_eq(r, -EBADMSG);
	ck_assert_msg(strstr(msg, want), "wanted \"%s\" in \"%s\"", want, msg);
	free(msg);
	free(p);
}

static size_t first_kind(uint8_t *e, size_t n, int kind)
{
	for (size_t i = 0; i < n; i++)
		if (e[i * SNAP_IDX_ENT_SIZE + 32] == kind)
			return i;
	ck_abort_msg("no entry of kind %d", kind);
	return 0;
}

/* The first entry storing no bytes, at least 8 KiB long. */
static size_t first_nodata(uint8_t *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (e[i * SNAP_IDX_ENT_SIZE + 32] != SK_DATA && get64(e + i * SNAP_IDX_ENT_SIZE + 8) >= 8192)
			return i;
	ck_abort_msg("no entry without data");
	return 0;
}

static void ed_swap(uint8_t *e, size_t n, uint8_t *h)
{
	(void)h;
	uint8_t t[SNAP_IDX_ENT_SIZE];
	size_t i = n / 2;
	memcpy(t, e + i * SNAP_IDX_ENT_SIZE, SNAP_IDX_ENT_SIZE);
	memcpy(e + i * SNAP_IDX_ENT_SIZE, e + (i + 1) * SNAP_IDX_ENT_SIZE, SNAP_IDX_ENT_SIZE);
	memcpy(e + (i + 1) * SNAP_IDX_ENT_SIZE, t, SNAP_IDX_ENT_SIZE);
}
static void ed_overlap(uint8_t *e, size_t n, uint8_t *h)
{
	(void)h;
	size_t i = n / 2;
	put64(e + (i + 1) * SNAP_IDX_ENT_SIZE, get64(e + (i + 1) * SNAP_IDX_ENT_SIZE) - 4096);
}
static void ed_gap(uint8_t *e, size_t n, uint8_t *h)
{
	(void)h;
	size_t i = first_nodata(e, n);
	put64(e + i * SNAP_IDX_ENT_SIZE + 8, get64(e + i * SNAP_IDX_ENT_SIZE + 8) - 4096);
}
static void ed_absurd_len(uint8_t *e, size_t n, uint8_t *h)
{
	(void)h;
	put64(e + (n - 1) * SNAP_IDX_ENT_SIZE + 8, 1ull << 62);
}
static void ed_data_offset(uint8_t *e, size_t n, uint8_t *h)
{
	(void)h;
	put64(e + first_kind(e, n, SK_DATA) * SNAP_IDX_ENT_SIZE + 16, 1ull << 40);
}
static void ed_csize(uint8_t *e, size_t n, uint8_t *h)
{
	(void)h;
	put32(e + first_kind(e, n, SK_DATA) * SNAP_IDX_ENT_SIZE + 24, 0xfffffff0u);
}
static void ed_kind(uint8_t *e, size_t n, uint8_t *h)
{
	(void)h;
	e[(n / 3) * SNAP_IDX_ENT_SIZE + 32] = 9;
}
static void ed_nodata_offset(uint8_t *e, size_t n, uint8_t *h)
{
	(void)h;
	put64(e + first_nodata(e, n) * SNAP_IDX_ENT_SIZE + 16, 4096);
}
static void ed_count(uint8_t *e, size_t n, uint8_t *h)
{
	(void)e;
	(void)n;
	put64(h + 24, 0x7fffffffffffffffull);
}
static void ed_chunk(uint8_t *e, size_t n, uint8_t *h)
{
	(void)e;
	(void)n;
	put32(h + 20, 3);
}
static void ed_version(uint8_t *e, size_t n, uint8_t *h)
{
	(void)e;
	(void)n;
	put32(h + 8, 99);
}

START_TEST(crafted_index_entries)
{
	expect_index_edit(ed_swap, "index entry");
	expect_index_edit(ed_overlap, "overlaps or precedes");
	expect_index_edit(ed_gap, "undescribed");
	expect_index_edit(ed_absurd_len, "crosses its mapping's end");
	expect_index_edit(ed_data_offset, "bad chunk");
	expect_index_edit(ed_csize, "bad chunk");
	expect_index_edit(ed_kind, "unknown kind");
	expect_index_edit(ed_nodata_offset, "with stored bytes");
	expect_index_edit(ed_count, "claims");
	expect_index_edit(ed_chunk, "absurd chunk size");
	expect_index_edit(ed_version, "version 99 is not supported");
}
END_TEST

/* Finds the first note of owner MEMLENS and @type; returns the offset of its descriptor. */
static size_t find_note(const uint8_t *p, const segs *sg, uint32_t type, uint32_t *len)
{
	size_t off = sg->note_off, end = sg->note_off + sg->note_len;
	while (off + 12 <= end) {
		uint32_t nn = get32(p + off), dn = get32(p + off + 4), t = get32(p + off + 8);
		size_t desc = off + 12 + align_up(nn, 4);
		if (t == type && !strcmp((const char *)p + off + 12, "MEMLENS")) {
			*len = dn;
			return desc;
		}
		off = desc + align_up(dn, 4);
	}
	ck_abort_msg("note %x not found", type);
	return 0;
}

START_TEST(crafted_notes)
{
	segs sg = find_segs(good);
	uint8_t *p = malloc(good_len);
	char *msg;
	uint32_t len;
	/* absurd mapping count */
	memcpy(p, good, good_len);
	size_t d = find_note(p, &sg, SNAP_NT_MAPPINGS, &len);
	put64(p + d + 8, 1ull << 40);
	fix_crcs(p, &sg);
	ck_assert_int_eq(try_bytes(p, good_len, &msg), -EBADMSG);
	ck_assert_msg(strstr(msg, "claims"), "%s", msg);
	free(msg);
	/* mappings out of order */
	memcpy(p, good, good_len);
	d = find_note(p, &sg, SNAP_NT_MAPPINGS, &len);
	uint64_t size0 = get64(p + d + SNAP_MAP_HDR_SIZE + 8) - get64(p + d + SNAP_MAP_HDR_SIZE);
	put64(p + d + SNAP_MAP_HDR_SIZE, 0x7fff00000000ull);
	put64(p + d + SNAP_MAP_HDR_SIZE + 8, 0x7fff00000000ull + size0);
	fix_crcs(p, &sg);
	ck_assert_int_eq(try_bytes(p, good_len, &msg), -EBADMSG);
	ck_assert_msg(strstr(msg, "mapping 1"), "%s", msg);
	free(msg);
	/* name length past the note */
	memcpy(p, good, good_len);
	d = find_note(p, &sg, SNAP_NT_MAPPINGS, &len);
	put32(p + d + SNAP_MAP_HDR_SIZE + 60, 0xffffff00u);
	fix_crcs(p, &sg);
	ck_assert_int_eq(try_bytes(p, good_len, &msg), -EBADMSG);
	ck_assert_msg(strstr(msg, "name past the end"), "%s", msg);
	free(msg);
	/* manifest that is not JSON */
	memcpy(p, good, good_len);
	d = find_note(p, &sg, SNAP_NT_MANIFEST, &len);
	p[d] = '[';
	fix_crcs(p, &sg);
	ck_assert_int_eq(try_bytes(p, good_len, &msg), -EBADMSG);
	ck_assert_msg(strstr(msg, "manifest"), "%s", msg);
	free(msg);
	/* a note size running past the segment */
	memcpy(p, good, good_len);
	put32(p + sg.note_off + 4, 0x7ffffff0u);
	fix_crcs(p, &sg);
	ck_assert_int_eq(try_bytes(p, good_len, &msg), -EBADMSG);
	ck_assert_msg(strstr(msg, "malformed"), "%s", msg);
	free(msg);
	free(p);
}
END_TEST

/* A minimal snapshot whose comm "a\xffb" is not UTF-8 (so its manifest has "exact"). */
static uint8_t *lossy_comm_file(size_t *len)
{
	ml_snapshot_writer *w;
	ck_assert_int_eq(ml_snapshot_writer_open(path("x.mlcore"), NULL, &w), 0);
	ML_OPTS(ml_snapshot_info, info, .pid = 7, .comm = "a\xff" "b", .exe = "/bin/x");
	ck_assert_int_eq(ml_snapshot_writer_set_info(w, &info), 0);
	ml_snapshot_vma v = { .vma = { .start = 0x1000, .end = 0x2000 } };
	ck_assert_int_eq(ml_snapshot_writer_set_mappings(w, &v, 1), 0);
	ck_assert_int_eq(ml_snapshot_writer_add_run(w, 0x1000, 0x1000, ML_RUN_ZERO), 0);
	ck_assert_int_eq(ml_snapshot_writer_finish(w), 0);
	ml_snapshot_writer_free(w);
	int fd = open(path("x.mlcore"), O_RDONLY);
	struct stat st;
	ck_assert_int_eq(fstat(fd, &st), 0);
	uint8_t *p = malloc((size_t)st.st_size);
	ck_assert_int_eq(read(fd, p, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return p;
}

/* The manifest's exact bytes of a name must be what its text says, and be bytes a C string
 * holds: an edit there (checksums recomputed) is refused at open, never taken as the name. */
START_TEST(exact_names_agree_with_their_text)
{
	size_t n;
	uint8_t *orig = lossy_comm_file(&n), *p = malloc(n);
	segs sg = find_segs(orig);
	char *msg;
	ck_assert_int_eq(try_bytes(orig, n, &msg), 0);
	free(msg);
	static const struct { const char *from, *to, *why; } edits[] = {
		{ "\"comm\":\"61ff62\"", "\"comm\":\"61fe62\"", "disagrees" },  /* another byte */
		{ "\"comm\":\"61ff62\"", "\"comm\":\"610062\"", "disagrees" },  /* a NUL */
		{ "\"comm\":\"61ff62\"", "\"comm\":\"61fg62\"", "disagrees" },  /* not hex */
		{ "\"comm\":\"61ff62\"", "\"comm\":\"61ff6\" ", "disagrees" },  /* odd length */
		{ "\"comm\":\"61ff62\"", "\"pid\" :\"61ff62\"", "not of a string" }, /* of a number */
		{ "\"comm\":\"61ff62\"", "\"mm\":  \"61ff62\"", "not of a string" }, /* of nothing */
	};
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		memcpy(p, orig, n);
		size_t at = find_bytes(p, (size_t)sg.note_off, (size_t)sg.note_len, edits[i].from);
		ck_assert_uint_eq(strlen(edits[i].to), strlen(edits[i].from));
		memcpy(p + at, edits[i].to, strlen(edits[i].to));
		fix_crcs(p, &sg);
		ck_assert_msg(try_bytes(p, n, &msg) == -EBADMSG, "%s opened", edits[i].to);
		ck_assert_msg(strstr(msg, edits[i].why) && strstr(msg, "exact"), "%s: %s", edits[i].to, msg);
		free(msg);
	}
	free(p);
	free(orig);
}
END_TEST

START_TEST(crafted_headers)
{
	segs sg = find_segs(good);
	uint8_t *p = malloc(good_len);
	char *msg;
	/* a segment past the end of the file: reported as truncation, whatever the checksums */
	memcpy(p, good, good_len);
	Elf64_Ehdr eh;
	memcpy(&eh, p, sizeof(eh));
	Elf64_Phdr ph;
	memcpy(&ph, p + eh.e_phoff + sizeof(ph), sizeof(ph));
	ph.p_filesz = 1ull << 50;
	memcpy(p + eh.e_phoff + sizeof(ph), &ph, sizeof(ph));
	ck_assert_int_eq(try_bytes(p, good_len, &msg), -EBADMSG);
	ck_assert_msg(strstr(msg, "past the end of the file"), "%s", msg);
	free(msg);
	/* thousands of program headers */
	memcpy(p, good, good_len);
	put16(p + offsetof(Elf64_Ehdr, e_phnum), 0xffff);
	ck_assert_int_eq(try_bytes(p, good_len, &msg), -EBADMSG);
	free(msg);
	/* not a core */
	memcpy(p, good, good_len);
	put16(p + offsetof(Elf64_Ehdr, e_type), ET_EXEC);
	ck_assert_int_eq(try_bytes(p, good_len, &msg), -EBADMSG);
	ck_assert_msg(strstr(msg, "not a core"), "%s", msg);
	free(msg);
	/* the machine changed with checksums intact except the header area's */
	memcpy(p, good, good_len);
	put16(p + offsetof(Elf64_Ehdr, e_machine), EM_AARCH64);
	fix_crcs(p, &sg);
	ck_assert_int_eq(try_bytes(p, good_len, &msg), -EBADMSG);
	ck_assert_msg(strstr(msg, "header area checksum"), "%s", msg);
	free(msg);
	/* a plain core, and other files */
	ck_assert_int_eq(try_bytes((const uint8_t *)"hello", 5, &msg), -EBADMSG);
	free(msg);
	ck_assert_int_eq(try_bytes(good, 64, &msg), -EBADMSG);
	free(msg);
	free(p);
}
END_TEST

/* A source opened from a damaged file says why, through ml_error_detail(). */
START_TEST(source_open_says_why)
{
	ml_source *src = NULL;
	put_file("short.mlcore", good, good_len / 2);
	ck_assert_int_eq(ml_source_open(path("short.mlcore"), &src), -EBADMSG);
	ck_assert_ptr_null(src);
	const char *msg = ml_error_detail();
	ck_assert_msg(strstr(msg, "past the end") || strstr(msg, "truncated"), "message: %s", msg);
	put_file("text.mlcore", (const uint8_t *)"hello\n", 6);
	ck_assert_int_eq(ml_source_open(path("text.mlcore"), &src), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(ml_error_detail(), "not an ELF file"));
	ck_assert_int_eq(ml_source_open(path("none.mlcore"), &src), -ENOENT);
	ck_assert_str_eq(ml_error_detail(), ""); /* the errno says it all; nothing stale either */
	ck_assert_int_eq(ml_source_open(path("text.mlcore"), &src), -EBADMSG);
	ck_assert_int_eq(ml_source_open(path("good.mlcore"), &src), 0);
	ck_assert_str_eq(ml_error_detail(), "");
	ck_assert_int_eq(ml_source_get_type(src), ML_SOURCE_SNAPSHOT);
	ml_source_free(src);
}
END_TEST

/* The detail is per thread: another thread's failure does not show here. */
static void *fail_open(void *arg)
{
	ml_source *src = NULL;
	int r = ml_source_open((const char *)arg, &src);
	return (void *)(intptr_t)(r == -EBADMSG && strstr(ml_error_detail(), "not an ELF file"));
}

START_TEST(detail_is_per_thread)
{
	ml_source *src = NULL;
	put_file("text.mlcore", (const uint8_t *)"hello\n", 6);
	ck_assert_int_eq(ml_source_open(path("none.mlcore"), &src), -ENOENT);
	pthread_t t;
	void *ok = NULL;
	ck_assert_int_eq(pthread_create(&t, NULL, fail_open, path("text.mlcore")), 0);
	ck_assert_int_eq(pthread_join(t, &ok), 0);
	ck_assert_msg(ok, "the other thread did not see its own detail");
	ck_assert_str_eq(ml_error_detail(), "");
}
END_TEST

/* A snapshot whose program headers no longer show its segments is not an ELF core without
 * memory (the mutation campaign found maps printing 0 mappings with exit 0 for it). */
START_TEST(damaged_headers_are_not_an_empty_core)
{
	uint8_t *p = malloc(good_len);
	ml_source *src = NULL;
	/* e_phnum 3 -> 1: only the note segment is left */
	memcpy(p, good, good_len);
	put16(p + offsetof(Elf64_Ehdr, e_phnum), 1);
	put_file("phnum.mlcore", p, good_len);
	ck_assert_int_eq(ml_source_open(path("phnum.mlcore"), &src), -EBADMSG);
	ck_assert_ptr_null(src);
	ck_assert_msg(strstr(ml_error_detail(), "memlens snapshot whose ELF header or program headers are damaged"),
		      "%s", ml_error_detail());
	/* e_phoff into the data segment: no note segment, no memory segment */
	memcpy(p, good, good_len);
	segs sg = find_segs(good);
	Elf64_Ehdr eh;
	memcpy(&eh, p, sizeof(eh));
	eh.e_phoff = sg.data_off;
	memcpy(p, &eh, sizeof(eh));
	put_file("phoff.mlcore", p, good_len);
	int r = ml_source_open(path("phoff.mlcore"), &src);
	ck_assert_msg(r == -EBADMSG, "opened (%d): %s", r, ml_error_detail());
	ck_assert_ptr_null(src);
	free(p);
}
END_TEST

/* Overwrites the number after "key": in the manifest note with @val, padded with spaces (JSON
 * whitespace) to the same length, so that no offset moves. */
static void set_manifest_number(uint8_t *p, const segs *sg, const char *key, const char *val)
{
	uint32_t len;
	size_t m = find_note(p, sg, SNAP_NT_MANIFEST, &len);
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	uint8_t *at = memmem(p + m, len, pat, strlen(pat));
	ck_assert_msg(at, "no %s in the manifest", key);
	at += strlen(pat);
	size_t n = 0;
	while (at[n] >= '0' && at[n] <= '9')
		n++;
	ck_assert_uint_ge(n, strlen(val));
	memset(at, ' ', n);
	memcpy(at, val, strlen(val));
}

/* One mapping of @size bytes at @start, all of it one zero run, written by the writer. */
static size_t write_zero_mapping(uint64_t start, uint64_t size, uint8_t **ret)
{
	ML_OPTS(ml_snapshot_writer_opts, o, .chunk_size = 64 << 10, .threads = 1);
	ml_snapshot_writer *w;
	ck_assert_int_eq(ml_snapshot_writer_open(path("zero.mlcore"), &o, &w), 0);
	ml_snapshot_vma v = { .vma = { .start = start, .end = start + size, .perms = ML_PERM_READ | ML_PERM_WRITE } };
	ck_assert_int_eq(ml_snapshot_writer_set_mappings(w, &v, 1), 0);
	ck_assert_int_eq(ml_snapshot_writer_add_run(w, start, size, ML_RUN_ZERO), 0);
	ck_assert_int_eq(ml_snapshot_writer_finish(w), 0);
	ml_snapshot_writer_free(w);
	int fd = open(path("zero.mlcore"), O_RDONLY);
	struct stat st;
	ck_assert_int_eq(fstat(fd, &st), 0);
	*ret = malloc((size_t)st.st_size);
	ck_assert_int_eq(read(fd, *ret, (size_t)st.st_size), st.st_size);
	close(fd);
	return (size_t)st.st_size;
}

/* Dumped sizes that add up past 2^64 made the expanded core's size wrap to 0: the file
 * opened as an empty core (core expand wrote a 0-byte "complete" core, exit 0). No
 * process's mappings come near 2^63 bytes: the reader refuses such a sum, and the writer
 * never writes one. */
START_TEST(made_up_sizes_are_refused)
{
	uint8_t *p;
	size_t n = write_zero_mapping(0x1000, 1ull << 40, &p);
	segs sg = find_segs(p);
	uint32_t len;
	size_t t = find_note(p, &sg, SNAP_NT_MAPPINGS, &len), rec = t + SNAP_MAP_HDR_SIZE;
	ck_assert_uint_eq(get64(p + t + 8), 1);
	ck_assert_uint_eq(get64(p + sg.idx_off + 24), 1); /* one index entry: the zero run */
	const uint64_t top = 0xfffffffffffff000ull; /* with the 4096-byte head: exactly 2^64 */
	put64(p + rec, 0);
	put64(p + rec + 8, top);
	put64(p + rec + 32, top);
	size_t ent = (size_t)sg.idx_off + SNAP_IDX_HDR_SIZE;
	put64(p + ent, 0);
	put64(p + ent + 8, top);
	set_manifest_number(p, &sg, "expanded_size", "0");
	fix_crcs(p, &sg);
	put_file("wrap.mlcore", p, n);
	ml_snapshot *s = NULL;
	int r = ml_snapshot_open(path("wrap.mlcore"), &s);
	ck_assert_msg(r == -EBADMSG, "opened (%d), expanded size %llu", r,
		      (unsigned long long)(s ? ml_snapshot_expanded_size(s) : 0));
	ck_assert_msg(strstr(ml_error_detail(), "more than an ELF core can hold"), "%s", ml_error_detail());
	ml_snapshot_free(s);
	free(p);
	/* the writer refuses such mappings before it writes anything */
	ML_OPTS(ml_snapshot_writer_opts, o, .chunk_size = 64 << 10, .threads = 1);
	ml_snapshot_writer *w;
	ck_assert_int_eq(ml_snapshot_writer_open(path("wrap2.mlcore"), &o, &w), 0);
	ml_snapshot_vma v[2] = {
		{ .vma = { .start = 0x1000, .end = 1ull << 63, .perms = ML_PERM_READ } },
		{ .vma = { .start = 1ull << 63, .end = top, .perms = ML_PERM_READ } },
	};
	ck_assert_int_eq(ml_snapshot_writer_set_mappings(w, v, 2), -EINVAL);
	ck_assert_msg(strstr(ml_error_detail(), "2^62"), "%s", ml_error_detail());
	ml_snapshot_writer_free(w);
	ck_assert_int_ne(access(path("wrap2.mlcore"), F_OK), 0);
}
END_TEST

/* An empty data segment placed inside the program header table (its offset was checked only
 * for a non-empty segment): verify copied the headers out of a shorter buffer. */
START_TEST(empty_data_segment_inside_the_headers)
{
	uint8_t *p;
	write_zero_mapping(0x10000, 1 << 20, &p);
	segs sg = find_segs(p);
	ck_assert_uint_eq(sg.data_len, 0); /* nothing stored: the mapping is one zero run */
	/* the notes moved up to the end of the program headers, the index after them */
	const size_t hdr = 64 + 3 * 56, idx = (hdr + sg.note_len + 7) & ~(size_t)7;
	size_t m = idx + sg.idx_len;
	for (uint64_t off = hdr - 7; off < hdr; off++) {
		uint8_t *q = calloc(1, m);
		memcpy(q, p, hdr);
		memcpy(q + hdr, p + sg.note_off, sg.note_len);
		memcpy(q + idx, p + sg.idx_off, sg.idx_len);
		put64(q + 64 + 8, hdr);       /* the notes' p_offset */
		put64(q + 64 + 56 + 8, off);  /* the empty data segment's, 1-7 bytes inside the headers */
		put64(q + 64 + 112 + 8, idx); /* the index's */
		segs q_sg = { hdr, sg.note_len, off, 0, idx, sg.idx_len };
		put64(q + idx + 32, off);
		fix_crcs(q, &q_sg);
		put32(q + idx + 60, (uint32_t)crc32(0L, q, (uInt)off));
		put32(q + idx + 76, (uint32_t)crc32(0L, q + idx, 76));
		char *msg = NULL;
		int r = try_bytes(q, m, &msg);
		ck_assert_msg(r == -EBADMSG, "data at %llu: %d (%s)", (unsigned long long)off, r, msg ? msg : "");
		ck_assert_msg(strstr(msg, "overlaps the ELF headers"), "data at %llu: %s", (unsigned long long)off, msg);
		free(msg);
		free(q);
	}
	free(p);
}
END_TEST

/* The mapping record's "deleted" byte is 0 or 1: any other value is not a file the writer
 * wrote, so a file that differs there must not verify (nor be read as "deleted"). */
START_TEST(deleted_flag_is_0_or_1)
{
	segs sg = find_segs(good);
	uint32_t len;
	uint8_t *p = malloc(good_len);
	memcpy(p, good, good_len);
	size_t t = find_note(p, &sg, SNAP_NT_MAPPINGS, &len);
	ck_assert_uint_eq(p[t + SNAP_MAP_HDR_SIZE + 65], 0);
	p[t + SNAP_MAP_HDR_SIZE + 65] = 2;
	fix_crcs(p, &sg);
	char *msg = NULL;
	ck_assert_int_eq(try_bytes(p, good_len, &msg), -EBADMSG);
	ck_assert_msg(strstr(msg, "mapping 0"), "%s", msg);
	free(msg);
	p[t + SNAP_MAP_HDR_SIZE + 65] = 1;
	fix_crcs(p, &sg);
	ml_snapshot *s;
	put_file("del.mlcore", p, good_len);
	ck_assert_int_eq(ml_snapshot_open(path("del.mlcore"), &s), 0);
	ck_assert(ml_snapshot_vma_get(s, 0)->vma.deleted);
	ml_snapshot_free(s);
	free(p);
}
END_TEST

/*
 * @good with its seal dropped and @n saved /proc file notes appended, named as @name_of
 * says, each 12 bytes of name, NUL and zeros: laid out and checksummed as a writer would,
 * so open gets to the notes. Returns the file's size.
 */
static size_t with_saved_files(size_t n, void (*name_of)(size_t i, char out[16]), uint8_t **ret)
{
	segs sg = find_segs(good);
	uint32_t slen;
	size_t seal = find_note(good, &sg, SNAP_NT_SEAL, &slen) - 12 - 8; /* its note header */
	size_t keep = seal - (size_t)sg.note_off, notes = keep + n * 32;
	uint64_t idx_off = align_up(sg.note_off + notes, 8);
	size_t len = (size_t)(idx_off + sg.idx_len);
	uint8_t *p = calloc(1, len);
	ck_assert_ptr_nonnull(p);
	memcpy(p, good, seal);
	uint8_t *q = p + seal;
	for (size_t i = 0; i < n; i++, q += 32) {
		char name[16];
		name_of(i, name);
		ck_assert_uint_le(strlen(name), 11);
		put32(q, 8);
		put32(q + 4, 12); /* the name, its NUL, the file's bytes: zeros */
		put32(q + 8, SNAP_NT_PROCFILE);
		memcpy(q + 12, "MEMLENS", 8);
		memcpy(q + 20, name, strlen(name));
	}
	memcpy(p + idx_off, good + sg.idx_off, sg.idx_len);
	Elf64_Ehdr eh;
	memcpy(&eh, p, sizeof(eh));
	for (int i = 0; i < eh.e_phnum; i++) {
		uint8_t *ph = p + eh.e_phoff + (size_t)i * sizeof(Elf64_Phdr);
		if (get32(ph) == PT_NOTE)
			put64(ph + offsetof(Elf64_Phdr, p_filesz), notes);
		if (get32(ph) == SNAP_PT_INDEX)
			put64(ph + offsetof(Elf64_Phdr, p_offset), idx_off);
	}
	segs ns = find_segs(p);
	ck_assert_uint_eq(ns.note_len, notes);
	fix_crcs(p, &ns);
	put32(p + idx_off + 60, (uint32_t)crc32(0L, p, (uInt)ns.data_off));
	put32(p + idx_off + 76, (uint32_t)crc32(0L, p + idx_off, 76));
	*ret = p;
	return len;
}

static void distinct_name(size_t i, char out[16]) { snprintf(out, 16, "f%07zx", i); }

/* two repeats: of name 9 at the second last note, of name 2 at the last */
static void repeated_name(size_t i, char out[16]) { distinct_name(i == 998 ? 9 : i == 999 ? 2 : i, out); }

/* a repeat of a file the writer saved */
static void repeated_status(size_t i, char out[16])
{
	if (i == 500)
		snprintf(out, 16, "status");
	else
		distinct_name(i, out);
}

/*
 * Half a million saved files, each a 32-byte note (16 MB): each name was checked for a
 * repeat against all earlier ones, 1.25e11 string comparisons. Before the fix, 100,000
 * such notes took 17.5 s of CPU to open here, so these would take about 7 minutes (the
 * test's timeout stops it); now the open takes a fraction of a second, the files in their
 * order.
 */
START_TEST(many_saved_files_open)
{
	const size_t n = 500000;
	uint8_t *p;
	size_t len = with_saved_files(n, distinct_name, &p);
	put_file("many.mlcore", p, len);
	free(p);
	ml_snapshot *s;
	int r = ml_snapshot_open(path("many.mlcore"), &s);
	ck_assert_msg(r == 0, "%d: %s", r, ml_error_detail());
	size_t base = ml_snapshot_file_count(s) - n;
	ck_assert_str_eq(ml_snapshot_file_name(s, 0), "maps");
	for (size_t i = 0; i < n; i += 49999) {
		char want[16];
		distinct_name(i, want);
		ck_assert_str_eq(ml_snapshot_file_name(s, base + i), want);
	}
	char *b;
	size_t bl;
	ck_assert_int_eq(ml_snapshot_read_file(s, "f007a11f", &b, &bl), 0); /* the last */
	ck_assert_uint_eq(bl, 3);
	free(b);
	ml_snapshot_free(s);
}
END_TEST

/* A repeated name is refused, naming the repeat that comes first in the notes. */
START_TEST(repeated_saved_file_is_refused)
{
	uint8_t *p;
	size_t len = with_saved_files(1000, repeated_name, &p);
	char *msg;
	ck_assert_int_eq(try_bytes(p, len, &msg), -EBADMSG);
	ck_assert_str_eq(msg, "saved /proc file \"f0000009\" appears twice");
	free(msg);
	free(p);
	len = with_saved_files(1000, repeated_status, &p);
	ck_assert_int_eq(try_bytes(p, len, &msg), -EBADMSG);
	ck_assert_str_eq(msg, "saved /proc file \"status\" appears twice");
	free(msg);
	free(p);
	/* distinct names open */
	len = with_saved_files(1000, distinct_name, &p);
	ml_snapshot *s;
	put_file("d.mlcore", p, len);
	ck_assert_int_eq(ml_snapshot_open(path("d.mlcore"), &s), 0);
	ml_snapshot_free(s);
	free(p);
}
END_TEST

/* A snapshot cut short after it was opened: verify says so (it gave a bare "Bad message"). */
START_TEST(verify_after_the_file_shrank)
{
	put_file("shrink.mlcore", good, good_len);
	ml_snapshot *s;
	ck_assert_int_eq(ml_snapshot_open(path("shrink.mlcore"), &s), 0);
	ck_assert_int_eq(truncate(path("shrink.mlcore"), 100), 0);
	ck_assert_int_eq(ml_snapshot_verify(s, 0, NULL), -EBADMSG);
	ck_assert_msg(strstr(ml_error_detail(), "shorter than when it was opened"), "'%s'", ml_error_detail());
	ml_snapshot_free(s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("snapshot_corrupt");
	TCase *tc = tcase_create("corrupt");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, good_file_is_good);
	tcase_add_test(tc, truncated_anywhere);
	tcase_add_test(tc, every_flipped_bit_is_caught);
	tcase_add_test(tc, data_corruption_names_the_chunk);
	tcase_add_test(tc, corrupt_chunk_prefix_and_range);
	tcase_add_test(tc, recomputed_checksums_fail_verify);
	tcase_add_loop_test(tc, codec_damage_names_the_chunk, 0, (int)(sizeof(dmg_codecs) / sizeof(dmg_codecs[0])));
	tcase_add_test(tc, crafted_index_entries);
	tcase_add_test(tc, crafted_notes);
	tcase_add_test(tc, crafted_headers);
	tcase_add_test(tc, exact_names_agree_with_their_text);
	tcase_add_test(tc, source_open_says_why);
	tcase_add_test(tc, detail_is_per_thread);
	tcase_add_test(tc, damaged_headers_are_not_an_empty_core);
	tcase_add_test(tc, made_up_sizes_are_refused);
	tcase_add_test(tc, empty_data_segment_inside_the_headers);
	tcase_add_test(tc, deleted_flag_is_0_or_1);
	tcase_add_test(tc, verify_after_the_file_shrank);
	suite_add_tcase(s, tc);
	/* crafted files whose cost would grow as the square of their size */
	TCase *tq = tcase_create("scale");
	tcase_set_tags(tq, "scale"); /* left out under valgrind (scripts/valgrind.sh) */
	tcase_set_timeout(tq, 300);
	tcase_add_checked_fixture(tq, setup, teardown);
	tcase_add_test(tq, many_saved_files_open);
	tcase_add_test(tq, repeated_saved_file_is_refused);
	suite_add_tcase(s, tq);
	return mlt_run_suite(s);
}
