/* lib/snapshot/gzsource.c: the gzip export as a source: random reads, runs and maps against the snapshot it came from; corrupt and truncated exports. */
#include <errno.h>
#include <fcntl.h>
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

static char tmpdir[256];

static void mk_tmpdir(void) { mlt_mkdtemp(tmpdir, sizeof(tmpdir), "mlsnapgz"); }
static void rm_tmpdir(void) { mlt_rmtree(tmpdir); }
static char *tpath(const char *name) { return mlt_path_in(tmpdir, name); }

static uint8_t *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	struct stat st;
	ck_assert_int_eq(fstat(fd, &st), 0);
	uint8_t *b = malloc((size_t)st.st_size + 1);
	ck_assert_int_eq(snap_pread_all(fd, b, (size_t)st.st_size, 0), 0);
	close(fd);
	*len = (size_t)st.st_size;
	return b;
}

static void spill(const char *path, const uint8_t *b, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(snap_write_all(fd, b, len), 0);
	close(fd);
}

/* What a read of the expanded core gives: the model's bytes, zeros for everything not
 * stored (an unreadable page included: the core holds zeros there), stopping at a gap. */
static size_t model_read(const sm_model *m, uint64_t addr, uint8_t *out, size_t len)
{
	size_t done = 0;
	for (size_t i = 0; i < m->n && done < len; i++) {
		const sm_vma *v = &m->v[i];
		uint64_t cur = addr + done;
		if (cur < v->start || cur >= v->end) {
			if (done && cur < v->start)
				break;
			continue;
		}
		size_t t = (size_t)ML_MIN((uint64_t)(len - done), v->end - cur);
		for (size_t j = 0; j < t; j++) {
			uint64_t o = cur - v->start + j;
			out[done + j] = o < v->dump ? v->bytes[o] : 0;
		}
		done += t;
	}
	return done;
}

static void export_model(const sm_model *m, const char *mlcore, const char *gz, uint64_t member)
{
	ML_OPTS(ml_snapshot_writer_opts, o, .threads = 2, .max_buffer = 1 << 20);
	ck_assert_int_eq(sm_write(m, mlcore, &o, 2), 0);
	ml_snapshot *s;
	ck_assert_int_eq(ml_snapshot_open(mlcore, &s), 0);
	ML_OPTS(ml_snapshot_expand_opts, xo, .member_size = member, .level = 1, .gzip = true);
	ck_assert_int_eq(ml_snapshot_expand_path(s, gz, &xo, NULL), 0);
	ml_snapshot_free(s);
}

static void check_source(const sm_model *m, const char *mlcore, const char *gz, unsigned nreads)
{
	ml_source *z, *o;
	ck_assert_int_eq(ml_source_open(gz, &z), 0);
	ck_assert_int_eq(ml_source_open(mlcore, &o), 0);
	ck_assert_int_eq(ml_source_get_type(z), ML_SOURCE_SNAPSHOT);
	ck_assert_int_eq(ml_source_pid(z), 4242);

	/* maps: every mapping with its bounds and permissions */
	ml_maps *mp;
	ck_assert_int_eq(ml_source_maps(z, &mp), 0);
	ck_assert_uint_eq(ml_maps_count(mp), m->n);
	for (size_t i = 0; i < m->n; i++) {
		const ml_vma *x = ml_maps_get(mp, i);
		ck_assert_uint_eq(x->start, m->v[i].start);
		ck_assert_uint_eq(x->end, m->v[i].end);
		ck_assert_uint_eq(x->perms & ~ML_PERM_SHARED, m->v[i].perms);
	}
	ml_maps_free(mp);
	char *f;
	size_t fl;
	ck_assert_int_eq(ml_source_read_file(z, "status", &f, &fl), -ENOENT);
	ck_assert_int_eq(ml_source_read_file(z, "auxv", &f, &fl), 0);
	ck_assert_uint_eq(fl, 32);
	ck_assert_uint_eq(get64((uint8_t *)f), AT_PAGESZ);
	free(f);

	/* runs, a few at a time: stored part data, the rest excluded, as the snapshot's */
	uint64_t lo = m->v[0].start, hi = m->v[m->n - 1].end;
	size_t np = (size_t)((hi - lo) / SM_PAGE);
	int8_t *kz = malloc(np), *ko = malloc(np);
	memset(kz, -1, np);
	memset(ko, -1, np);
	ml_run vec[3];
	for (int pass = 0; pass < 2; pass++) {
		int8_t *k = pass ? ko : kz;
		uint64_t next = lo;
		ssize_t n;
		while ((n = ml_source_runs(pass ? o : z, next, hi, 0, vec, 3, &next)) > 0)
			for (ssize_t r = 0; r < n; r++)
				for (uint64_t a = vec[r].start; a < vec[r].end; a += SM_PAGE) {
					ml_run_kind kk = vec[r].kind;
					if (pass && kk != ML_RUN_EXCLUDED)
						kk = ML_RUN_DATA;
					k[(a - lo) / SM_PAGE] = (int8_t)kk;
				}
		ck_assert_int_eq(n, 0);
		ck_assert_uint_eq(next, hi);
	}
	for (size_t i = 0; i < m->n; i++)
		for (uint64_t a = m->v[i].start; a < m->v[i].end; a += SM_PAGE) {
			size_t p = (size_t)((a - lo) / SM_PAGE);
			bool stored = a - m->v[i].start < m->v[i].dump;
			ck_assert_int_eq(kz[p], stored ? ML_RUN_DATA : ML_RUN_EXCLUDED);
			/* the snapshot says excluded past the dumped size, too */
			if (!stored)
				ck_assert_int_eq(ko[p], ML_RUN_EXCLUDED);
		}
	free(kz);
	free(ko);

	/* random reads: the model's bytes; the snapshot's where it reads them */
	uint64_t s = 77;
	uint8_t *a = malloc(1 << 20), *b = malloc(1 << 20), *c = malloc(1 << 20);
	for (unsigned k = 0; k < nreads; k++) {
		const sm_vma *v = &m->v[sm_rand(&s) % m->n];
		uint64_t addr = v->start + sm_rand(&s) % (v->end - v->start);
		size_t len = (sm_rand(&s) & 3) ? 1 + sm_rand(&s) % 9000 : 1 + sm_rand(&s) % (1 << 20);
		ssize_t got = ml_source_read(z, addr, a, len, 0);
		size_t want = model_read(m, addr, b, len);
		ck_assert_msg(got == (ssize_t)want, "read 0x%llx+%zu: %zd, want %zu (%s)", (unsigned long long)addr,
			      len, got, want, ml_error_detail());
		ck_assert_msg(!memcmp(a, b, want), "read 0x%llx+%zu differs", (unsigned long long)addr, len);
		ssize_t orig = ml_source_read(o, addr, c, len, 0);
		if (orig > 0)
			ck_assert(!memcmp(a, c, (size_t)orig));
	}
	/* outside every mapping */
	ck_assert_int_eq(ml_source_read(z, 0x1000, a, 16, 0), -EFAULT);
	ck_assert_int_eq(ml_source_read(z, hi, a, 16, 0), -EFAULT);
	ck_assert_str_ne(ml_error_detail(), "");
	free(a);
	free(b);
	free(c);
	ml_source_free(z);
	ml_source_free(o);
}

START_TEST(gz_source_reads_like_the_snapshot)
{
	mk_tmpdir();
	sm_model m;
	sm_build(&m, 11, 40, 200);
	/* members that do not line up with pages or mappings, and the default size */
	export_model(&m, tpath("a.mlcore"), tpath("a.core.gz"), 100000);
	check_source(&m, tpath("a.mlcore"), tpath("a.core.gz"), 20000);
	ML_OPTS(ml_snapshot_expand_opts, xo, .level = 1, .gzip = true);
	ml_snapshot *s;
	ck_assert_int_eq(ml_snapshot_open(tpath("a.mlcore"), &s), 0);
	ck_assert_int_eq(ml_snapshot_expand_path(s, tpath("b.core.gz"), &xo, NULL), 0);
	ml_snapshot_free(s);
	check_source(&m, tpath("a.mlcore"), tpath("b.core.gz"), 2000);
	sm_free(&m);
	rm_tmpdir();
}
END_TEST

/* the file offsets of the members, from their headers */
static size_t members(const uint8_t *g, size_t len, size_t *off, size_t max)
{
	size_t n = 0;
	for (size_t p = 0; p + 24 <= len && n < max; p += get32(g + p + 16))
		off[n++] = p;
	return n;
}

/* The export id of @core: the start of the SHA-256 of its headers and notes. */
static uint64_t core_id(const uint8_t *core, size_t len)
{
	uint64_t noff = get64(core + 64 + 8), nsz = get64(core + 64 + 32);
	uint64_t head = noff < len && nsz < len ? (noff + nsz + 4095) & ~(uint64_t)4095 : len;
	if (head > len)
		head = len;
	ml__sha256 h;
	uint8_t d[32];
	ml__sha256_init(&h);
	ml__sha256_update(&h, core, head);
	ml__sha256_final(&h, d);
	return get64(d);
}

/* Writes @core as an export would: members of 50000 bytes, each with its size field, its
 * place, the core's size and the export id (@old: the older 8-byte field only). */
static void pack_as(const uint8_t *core, size_t len, const char *path, bool old)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	uint8_t *out = malloc(200000);
	size_t H = old ? 24 : 48;
	uint64_t id = core_id(core, len);
	for (size_t pos = 0; pos < len; pos += 50000) {
		size_t n = ML_MIN((size_t)50000, len - pos);
		z_stream z;
		memset(&z, 0, sizeof(z));
		ck_assert_int_eq(deflateInit2(&z, 1, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
		z.next_in = (Bytef *)(uintptr_t)(core + pos);
		z.avail_in = (uInt)n;
		z.next_out = out + H;
		z.avail_out = (uInt)(200000 - H - 8);
		ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
		size_t csz = H + z.total_out + 8;
		deflateEnd(&z);
		memset(out, 0, H);
		out[0] = 0x1f, out[1] = 0x8b, out[2] = 8, out[3] = 4, out[9] = 3;
		put16(out + 10, (uint16_t)(H - 12));
		out[12] = 'M', out[13] = 'L';
		put16(out + 14, (uint16_t)(H - 16));
		put32(out + 16, (uint32_t)csz);
		put32(out + 20, (uint32_t)n);
		if (!old) {
			put64(out + 24, pos);
			put64(out + 32, len);
			put64(out + 40, id);
		}
		put32(out + csz - 8, (uint32_t)crc32(0L, core + pos, (uInt)n));
		put32(out + csz - 4, (uint32_t)n);
		ck_assert_int_eq(snap_write_all(fd, out, csz), 0);
	}
	free(out);
	close(fd);
}

static void pack(const uint8_t *core, size_t len, const char *path) { pack_as(core, len, path, false); }

static int open_msg(const char *path, ml_source **ret, char **msg)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	*msg = NULL;
	return snap_gz_source_open_fd(fd, ret, msg);
}

START_TEST(gz_source_corruption)
{
	mk_tmpdir();
	sm_model m;
	sm_build(&m, 5, 20, 100);
	export_model(&m, tpath("a.mlcore"), tpath("a.core.gz"), 65536);
	size_t len;
	uint8_t *g = slurp(tpath("a.core.gz"), &len), *x = malloc(len);
	size_t off[4096];
	size_t nm = members(g, len, off, 4096);
	ck_assert_uint_gt(nm, 8);
	ml_source *src;
	char *msg;

	/* truncated anywhere: refused at open, saying so */
	size_t cuts[] = { 0, 1, 10, 23, 30, off[1], off[nm / 2] + 7, len - 8, len - 1 };
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		spill(tpath("t.gz"), g, cuts[i]);
		int r = open_msg(tpath("t.gz"), &src, &msg);
		ck_assert_msg(r == -EBADMSG, "cut at %zu: %d", cuts[i], r);
		ck_assert_ptr_nonnull(msg);
		ck_assert_msg(strlen(msg) > 5, "cut at %zu: message '%s'", cuts[i], msg);
		free(msg);
		ck_assert_int_eq(ml_source_open(tpath("t.gz"), &src), -EBADMSG);
	}

	/* a member's size field, uncompressed size, trailer length: refused at open */
	const size_t fields[] = { 16, 17, 19, 20, 22, 23, 3, 10, 12 };
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		memcpy(x, g, len);
		x[off[3] + fields[i]] ^= 0x40;
		spill(tpath("h.gz"), x, len);
		ck_assert_int_eq(open_msg(tpath("h.gz"), &src, &msg), -EBADMSG);
		ck_assert_msg(strstr(msg, "member 3"), "field %zu: '%s'", fields[i], msg);
		free(msg);
	}

	/* flipped bits: in a member's CRC, in the middle of its data (a bit of a stored,
	 * incompressible member always changes the output; in Huffman codes it may not), at
	 * its end. The reads touching that member fail, naming it; every other read is
	 * still right; nothing wrong is ever returned. */
	size_t big = 1;
	for (size_t k = 1; k < nm; k++)
		if (get32(g + off[k] + 16) > get32(g + off[big] + 16))
			big = k;
	for (size_t k = 1; k < nm; k += nm / 5 + 1)
		for (int where = 0; where < 3; where++) {
			size_t kk = where == 1 ? big : k;
			size_t csz = get32(g + off[kk] + 16);
			size_t at = where == 0 ? csz - 6 : where == 1 ? 48 + (csz - 56) / 2 : csz - 9;
			memcpy(x, g, len);
			x[off[kk] + at] ^= 0x10;
			spill(tpath("d.gz"), x, len);
			ck_assert_int_eq(open_msg(tpath("d.gz"), &src, &msg), 0);
			free(msg);
			unsigned bad = 0;
			uint8_t a[SM_PAGE], b[SM_PAGE];
			char want[64];
			snprintf(want, sizeof(want), "gzip member %zu at offset %zu", kk, off[kk]);
			for (size_t i = 0; i < m.n; i++)
				for (uint64_t p = m.v[i].start; p < m.v[i].end; p += SM_PAGE) {
					ssize_t r = ml_source_read(src, p, a, SM_PAGE, 0);
					if (r == -EBADMSG) {
						ck_assert_msg(strstr(ml_error_detail(), want), "'%s'", ml_error_detail());
						bad++;
						continue;
					}
					ck_assert_int_eq(r, SM_PAGE);
					model_read(&m, p, b, SM_PAGE);
					ck_assert(!memcmp(a, b, SM_PAGE));
				}
			if (where != 2)
				ck_assert_msg(bad > 0, "member %zu (offset %zu) corrupt at %zu, no read failed", kk, off[kk], at);
			ml_source_free(src);
		}

	/* the core inside made invalid (repacked as a well-formed export): refused at open */
	char cmd[1200];
	int st;
	snprintf(cmd, sizeof(cmd), "zcat '%s' > '%s'", tpath("a.core.gz"), tpath("a.core"));
	free(mlt_run(cmd, &st));
	ck_assert_int_eq(st, 0);
	size_t clen;
	uint8_t *core = slurp(tpath("a.core"), &clen);
	pack(core, clen, tpath("re.gz"));
	ck_assert_int_eq(open_msg(tpath("re.gz"), &src, &msg), 0); /* the repacking itself is faithful */
	free(msg);
	uint8_t q[16];
	ck_assert_int_eq(ml_source_read(src, m.v[0].start, q, 16, 0), 16);
	ml_source_free(src);
	struct { size_t at; uint64_t val; int width; const char *says; } bad[] = {
		{ 16, ET_EXEC, 2, "not a 64-bit little-endian ELF core" },
		{ 32, 65, 8, "program header table" },                          /* e_phoff */
		{ 56, 0, 2, "program header table" },                           /* e_phnum */
		{ 64, PT_LOAD, 4, "PT_NOTE" },                                   /* first phdr type */
		{ 64 + 56 + 16, 0x555500000001ull, 8, "PT_LOAD 1" },            /* unaligned vaddr */
		{ 64 + 112 + 16, 0x1000, 8, "PT_LOAD 2" },                       /* out of order */
		{ 64 + 56 + 8, 1ull << 62, 8, "PT_LOAD 1" },                     /* data past the end */
		{ 64 + 56 + 32, 1ull << 40, 8, "PT_LOAD 1" },                    /* filesz > memsz */
		{ 64 + 32, 1ull << 40, 8, "PT_NOTE" },                           /* notes past the end */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t *c2 = malloc(clen);
		memcpy(c2, core, clen);
		memcpy(c2 + bad[i].at, &bad[i].val, (size_t)bad[i].width);
		pack(c2, clen, tpath("re.gz"));
		free(c2);
		ck_assert_int_eq(open_msg(tpath("re.gz"), &src, &msg), -EBADMSG);
		ck_assert_msg(strstr(msg, bad[i].says), "case %zu: '%s'", i, msg);
		free(msg);
	}

	/* members that do not say where they belong (an older export): refused, not guessed */
	pack_as(core, clen, tpath("old.gz"), true);
	ck_assert_int_eq(open_msg(tpath("old.gz"), &src, &msg), -EBADMSG);
	ck_assert_msg(strstr(msg, "older `memlens core export`") && strstr(msg, "zcat"), "'%s'", msg);
	free(msg);
	free(core);

	/* members reordered, dropped, cut at a member's end, or taken from another export */
	size_t goff[64], gn = members(g, len, goff, 64);
	ck_assert_uint_ge(gn, 4);
	{
		/* two members swapped: their size fields still tile the file */
		size_t a = goff[1], b = goff[2], c = goff[3];
		memcpy(x, g, len);
		memcpy(x + a, g + b, c - b);
		memcpy(x + a + (c - b), g + a, b - a);
		spill(tpath("swap.gz"), x, len);
		ck_assert_int_eq(open_msg(tpath("swap.gz"), &src, &msg), -EBADMSG);
		ck_assert_msg(strstr(msg, "out of order"), "'%s'", msg);
		free(msg);
	}
	memcpy(x, g, goff[1]);
	memcpy(x + goff[1], g + goff[2], len - goff[2]);
	spill(tpath("drop.gz"), x, goff[1] + len - goff[2]);
	ck_assert_int_eq(open_msg(tpath("drop.gz"), &src, &msg), -EBADMSG);
	ck_assert_msg(strstr(msg, "out of order"), "'%s'", msg);
	free(msg);
	spill(tpath("cut.gz"), g, goff[gn - 1]);
	ck_assert_int_eq(open_msg(tpath("cut.gz"), &src, &msg), -EBADMSG);
	ck_assert_msg(strstr(msg, "cut short"), "'%s'", msg);
	free(msg);
	memcpy(x, g, len);
	put64(x + goff[2] + 40, get64(g + goff[2] + 40) ^ 1);
	spill(tpath("other.gz"), x, len);
	ck_assert_int_eq(open_msg(tpath("other.gz"), &src, &msg), -EBADMSG);
	ck_assert_msg(strstr(msg, "another export"), "'%s'", msg);
	free(msg);
	memcpy(x, g, len);
	for (size_t k = 0; k < gn; k++) /* the same id in every member, not this core's */
		put64(x + goff[k] + 40, get64(g + goff[k] + 40) ^ 1);
	spill(tpath("id.gz"), x, len);
	ck_assert_int_eq(open_msg(tpath("id.gz"), &src, &msg), -EBADMSG);
	ck_assert_msg(strstr(msg, "export id does not match"), "'%s'", msg);
	free(msg);

	/* a plain gzip of the core (no size fields): refused with a hint */
	snprintf(cmd, sizeof(cmd), "gzip -c '%s' > '%s'", tpath("a.core"), tpath("plain.gz"));
	free(mlt_run(cmd, &st));
	ck_assert_int_eq(st, 0);
	ck_assert_int_eq(open_msg(tpath("plain.gz"), &src, &msg), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(msg, "memlens core export"));
	free(msg);

	/* an empty file after the magic check: not a gzip export */
	spill(tpath("e.gz"), (const uint8_t *)"\x1f\x8b", 2);
	ck_assert_int_eq(ml_source_open(tpath("e.gz"), &src), -EBADMSG);
	free(g);
	free(x);
	sm_free(&m);
	rm_tmpdir();
}
END_TEST

/* Names from NT_FILE (with file offsets) and the vDSO from the auxiliary vector; a
 * partly dumped mapping's tail is excluded. */
START_TEST(gz_source_names_from_core_notes)
{
	mk_tmpdir();
	ml_snapshot_writer *w;
	ck_assert_int_eq(ml_snapshot_writer_open(tpath("n.mlcore"), NULL, &w), 0);
	uint8_t prstatus[336] = {0};
	int32_t pid = 31337;
	memcpy(prstatus + 32, &pid, 4);
	uint64_t auxv[6] = { AT_PAGESZ, 4096, AT_SYSINFO_EHDR, 0x7fff0000, AT_NULL, 0 };
	uint8_t file[16 + 2 * 24 + 64] = {0};
	uint64_t fh[8] = { 2, 4096, 0x400000, 0x402000, 2, 0x600000, 0x601000, 0 };
	memcpy(file, fh, sizeof(fh));
	memcpy(file + sizeof(fh), "/usr/bin/app\0/lib/libc.so.6", 28);
	ck_assert_int_eq(ml_snapshot_writer_add_note(w, "CORE", NT_PRSTATUS, prstatus, sizeof(prstatus)), 0);
	ck_assert_int_eq(ml_snapshot_writer_add_note(w, "CORE", NT_AUXV, auxv, sizeof(auxv)), 0);
	ck_assert_int_eq(ml_snapshot_writer_add_note(w, "CORE", NT_FILE, file, sizeof(fh) + 28), 0);
	ml_snapshot_vma v[4];
	memset(v, 0, sizeof(v));
	const uint64_t b[4][2] = { { 0x400000, 0x402000 }, { 0x600000, 0x601000 }, { 0x601000, 0x604000 },
				   { 0x7fff0000, 0x7fff1000 } };
	for (int i = 0; i < 4; i++) {
		v[i].vma.start = b[i][0];
		v[i].vma.end = b[i][1];
		v[i].vma.perms = ML_PERM_READ | (i == 0 || i == 3 ? ML_PERM_EXEC : ML_PERM_WRITE);
	}
	v[2].flags = ML_SNAPSHOT_VMA_DUMP_SIZE;
	v[2].dump_size = 0x1000;
	ck_assert_int_eq(ml_snapshot_writer_set_mappings(w, v, 4), 0);
	uint8_t page[0x2000];
	for (int i = 0; i < 4; i++) {
		uint64_t n = i == 2 ? 0x1000 : b[i][1] - b[i][0];
		memset(page, 'a' + i, sizeof(page));
		ck_assert_int_eq(ml_snapshot_writer_add_data(w, b[i][0], page, n), 0);
	}
	ck_assert_int_eq(ml_snapshot_writer_finish(w), 0);
	ml_snapshot_writer_free(w);
	ml_snapshot *sn;
	ck_assert_int_eq(ml_snapshot_open(tpath("n.mlcore"), &sn), 0);
	ML_OPTS(ml_snapshot_expand_opts, gzo, .gzip = true);
	ck_assert_int_eq(ml_snapshot_expand_path(sn, tpath("n.gz"), &gzo, NULL), 0);
	ml_snapshot_free(sn);

	ml_source *z;
	char *msg = NULL;
	int fd = open(tpath("n.gz"), O_RDONLY | O_CLOEXEC);
	ck_assert_msg(snap_gz_source_open_fd(fd, &z, &msg) == 0, "%s", msg ? msg : "");
	free(msg);
	ck_assert_int_eq(ml_source_pid(z), 31337);
	ml_maps *m;
	ck_assert_int_eq(ml_source_maps(z, &m), 0);
	ck_assert_uint_eq(ml_maps_count(m), 4);
	const char *names[4] = { "/usr/bin/app", "/lib/libc.so.6", "", "[vdso]" };
	const uint64_t offs[4] = { 0x2000, 0, 0, 0 };
	for (size_t i = 0; i < 4; i++) {
		const ml_vma *x = ml_maps_get(m, i);
		ck_assert_uint_eq(x->start, b[i][0]);
		ck_assert_uint_eq(x->offset, offs[i]);
		ck_assert_uint_eq(x->name_len, strlen(names[i]));
		ck_assert(!memcmp(x->name, names[i], x->name_len));
	}
	ck_assert_int_eq(ml_maps_get(m, 3)->kind, ML_VMA_VDSO);
	ml_maps_free(m);
	ml_run r[8];
	uint64_t next;
	ck_assert_int_eq(ml_source_runs(z, 0x600800, 0x604000, 0, r, 8, &next), 3);
	ck_assert_uint_eq(next, 0x604000);
	ck_assert(r[0].start == 0x600800 && r[0].end == 0x601000 && r[0].kind == ML_RUN_DATA);
	ck_assert(r[1].start == 0x601000 && r[1].end == 0x602000 && r[1].kind == ML_RUN_DATA);
	ck_assert(r[2].start == 0x602000 && r[2].end == 0x604000 && r[2].kind == ML_RUN_EXCLUDED);
	/* one read across three adjacent mappings: data, data, then the excluded zeros */
	uint8_t got[0x3000];
	ck_assert_int_eq(ml_source_read(z, 0x600ff0, got, sizeof(got), 0), 0x3000);
	ck_assert_uint_eq(got[0], 'b');
	ck_assert_uint_eq(got[0x10], 'c');
	ck_assert_uint_eq(got[0x100f], 'c');
	ck_assert_uint_eq(got[0x1010], 0);
	ck_assert_uint_eq(got[0x2fef], 0);
	ck_assert_int_eq(ml_source_read(z, 0x603ff0, got, 64, 0), 16); /* stops at the gap */
	ml_source_free(z);
	rm_tmpdir();
}
END_TEST

/*
 * An expanded core with @nph program headers: the PT_NOTE (one NT_PRSTATUS, pid 777), a
 * one-page PT_LOAD at each of the @nload places @at (in increasing order; the page at
 * 0x400000 + k * 0x10000 holds 'A' + k), PT_NULL everywhere else; from 65535 on, the count
 * is in a section header at the end (PN_XNUM), as the kernel writes it. @gap: zero bytes put
 * between the program headers and the notes (the loads' data moves with them); @note: a
 * whole note (@note_len bytes, a multiple of 4) after the NT_PRSTATUS.
 */
static uint8_t *build_core_with(size_t nph, const size_t *at, size_t nload, size_t gap, const uint8_t *note,
			       size_t note_len, size_t *len)
{
	size_t notes_off = sizeof(Elf64_Ehdr) + nph * sizeof(Elf64_Phdr) + gap, notes_len = 12 + 8 + 336 + note_len;
	size_t data_off = (size_t)align_up(notes_off + notes_len, 4096), data_end = data_off + nload * 4096;
	bool xnum = nph >= PN_XNUM;
	*len = data_end + (xnum ? sizeof(Elf64_Shdr) : 0);
	uint8_t *b = calloc(1, *len);
	ck_assert_ptr_nonnull(b);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)b;
	Elf64_Phdr *ph = sm_core_head(b, nph);
	ph[0] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = notes_off, .p_filesz = notes_len, .p_align = 4 };
	for (size_t k = 0; k < nload; k++) {
		ck_assert(at[k] > 0 && at[k] < nph && (k == 0 || at[k] > at[k - 1]));
		ph[at[k]] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_W, .p_offset = data_off + k * 4096,
					  .p_vaddr = 0x400000 + k * 0x10000, .p_filesz = 4096, .p_memsz = 4096,
					  .p_align = 4096 };
		memset(b + data_off + k * 4096, 'A' + (int)k, 4096);
	}
	uint8_t *n = b + notes_off;
	put32(n, 5);
	put32(n + 4, 336);
	put32(n + 8, NT_PRSTATUS);
	memcpy(n + 12, "CORE", 5);
	put32(n + 20 + 32, 777); /* pr_pid */
	if (note_len)
		memcpy(n + 12 + 8 + 336, note, note_len);
	if (xnum) {
		eh->e_shoff = data_end;
		eh->e_shentsize = sizeof(Elf64_Shdr);
		eh->e_shnum = 1;
		Elf64_Shdr sh = { .sh_type = SHT_NULL, .sh_size = 1, .sh_info = (Elf64_Word)nph };
		memcpy(b + data_end, &sh, sizeof(sh));
	}
	return b;
}

static uint8_t *build_core(size_t nph, const size_t *at, size_t nload, size_t gap, size_t *len)
{
	return build_core_with(nph, at, nload, gap, NULL, 0, len);
}

/*
 * The notes must follow the program headers, as in every core: the id check hashes the
 * bytes before the data, and a PT_NOTE placed far into a small export's core made its
 * reader allocate a buffer for all of them. Notes anywhere else are refused, saying so.
 */
START_TEST(gz_source_notes_where_a_core_has_them)
{
	mk_tmpdir();
	const size_t at[] = { 1, 2 };
	size_t len;
	uint8_t *core = build_core(3, at, 2, 0, &len);
	pack(core, len, tpath("ok.gz"));
	free(core);
	ml_source *src;
	char *msg;
	ck_assert_msg(open_msg(tpath("ok.gz"), &src, &msg) == 0, "%s", msg ? msg : "");
	free(msg);
	ck_assert_int_eq(ml_source_pid(src), 777);
	uint8_t b[16];
	ck_assert_int_eq(ml_source_read(src, 0x410000, b, sizeof(b), 0), 16);
	ck_assert_uint_eq(b[0], 'B');
	ml_source_free(src);
	/* a page of zeros between the program headers and the notes, every offset after
	 * them moved to match: a consistent core, but not laid out as a core */
	core = build_core(3, at, 2, 4096, &len);
	pack(core, len, tpath("gap.gz"));
	free(core);
	ck_assert_int_eq(open_msg(tpath("gap.gz"), &src, &msg), -EBADMSG);
	ck_assert_str_eq(msg, "the expanded core's PT_NOTE is at offset 4328, not right after its 3 program headers "
			      "(offset 232) where a core has its notes");
	free(msg);
	rm_tmpdir();
}
END_TEST

/*
 * NT_FILE entries overlapping an earlier one are skipped, by the export's reader as by the
 * core's (elfcore.c, where crafted overlapping entries made the naming quadratic): an
 * export and the core it expands to take their names from the same entries.
 */
START_TEST(gz_source_skips_overlapping_nt_file_entries)
{
	mk_tmpdir();
	/* loads at 0x400000, 0x410000, 0x420000; entries: the first load, the first load
	 * again, a range from the second load over the third, the third load */
	static const char names[] = "/a\0/again\0/wide\0/c";
	const uint64_t ent[4][3] = { { 0x400000, 0x401000, 0 }, { 0x400000, 0x401000, 5 },
				     { 0x410000, 0x421000, 0 }, { 0x420000, 0x421000, 1 } };
	uint8_t note[12 + 8 + 16 + 4 * 24 + 20] = {0};
	put32(note, 5);
	put32(note + 4, 16 + 4 * 24 + sizeof(names));
	put32(note + 8, NT_FILE);
	memcpy(note + 12, "CORE", 5);
	put64(note + 20, 4);
	put64(note + 28, 4096);
	for (int i = 0; i < 4; i++)
		for (int f = 0; f < 3; f++)
			put64(note + 36 + i * 24 + f * 8, ent[i][f]);
	memcpy(note + 36 + 4 * 24, names, sizeof(names));
	const size_t at[] = { 1, 2, 3 };
	size_t len;
	uint8_t *core = build_core_with(4, at, 3, 0, note, sizeof(note), &len);
	pack(core, len, tpath("f.gz"));
	spill(tpath("f.core"), core, len);
	free(core);
	ml_source *z, *c;
	char *msg;
	ck_assert_msg(open_msg(tpath("f.gz"), &z, &msg) == 0, "%s", msg ? msg : "");
	free(msg);
	ck_assert_int_eq(ml_source_open(tpath("f.core"), &c), 0);
	ck_assert_int_eq(ml_source_get_type(c), ML_SOURCE_CORE);
	ml_maps *mz, *mc;
	ck_assert_int_eq(ml_source_maps(z, &mz), 0);
	ck_assert_int_eq(ml_source_maps(c, &mc), 0);
	ck_assert_uint_eq(ml_maps_count(mz), 3);
	ck_assert_uint_eq(ml_maps_count(mc), 3);
	/* the second load lies in "/wide" but is not all of it: only the core's reader, which
	 * names a load inside an entry, names it; the third is in "/wide" too, so its own
	 * entry, overlapping, is skipped by both */
	const char *wz[3] = { "/a", "", "" }, *wc[3] = { "/a", "/wide", "/wide" };
	for (size_t i = 0; i < 3; i++) {
		const ml_vma *x = ml_maps_get(mz, i), *y = ml_maps_get(mc, i);
		ck_assert_msg(x->name_len == strlen(wz[i]) && !memcmp(x->name, wz[i], x->name_len),
			      "export, load %zu: '%.*s'", i, (int)x->name_len, x->name);
		ck_assert_msg(y->name_len == strlen(wc[i]) && !memcmp(y->name, wc[i], y->name_len),
			      "core, load %zu: '%.*s'", i, (int)y->name_len, y->name);
	}
	ck_assert_uint_eq(ml_maps_get(mz, 0)->offset, 0);
	ck_assert_uint_eq(ml_maps_get(mc, 0)->offset, 0);
	ml_maps_free(mz);
	ml_maps_free(mc);
	ml_source_free(z);
	ml_source_free(c);
	rm_tmpdir();
}
END_TEST

/*
 * 300,000 program headers, 3 of them PT_LOADs: the loads are kept (the headers are read
 * a piece at a time, the loads allocated for what there are) and read back. Also an
 * export of more mappings than e_phnum counts (PN_XNUM) opens: its notes are where the
 * check wants them.
 */
START_TEST(gz_source_many_program_headers)
{
	mk_tmpdir();
	const size_t nph = 300000, at[] = { 1, 150000, nph - 1 };
	size_t len;
	uint8_t *core = build_core(nph, at, 3, 0, &len);
	pack(core, len, tpath("many.gz"));
	free(core);
	ml_source *src;
	char *msg;
	ck_assert_msg(open_msg(tpath("many.gz"), &src, &msg) == 0, "%s", msg ? msg : "");
	free(msg);
	ml_maps *m;
	ck_assert_int_eq(ml_source_maps(src, &m), 0);
	ck_assert_uint_eq(ml_maps_count(m), 3);
	for (size_t k = 0; k < 3; k++) {
		const ml_vma *v = ml_maps_get(m, k);
		ck_assert_uint_eq(v->start, 0x400000 + k * 0x10000);
		ck_assert_uint_eq(v->end, 0x401000 + k * 0x10000);
		uint8_t b[4096];
		ck_assert_int_eq(ml_source_read(src, v->start, b, sizeof(b), 0), 4096);
		ck_assert_uint_eq(b[0], 'A' + k);
		ck_assert_uint_eq(b[4095], 'A' + k);
	}
	ml_maps_free(m);
	ml_source_free(src);

	/* the same PT_LOAD 299,999 times: refused at the second (counting only valid loads,
	 * the reader allocates nothing for the rest) */
	const size_t two[] = { 1, 2 };
	core = build_core(nph, two, 2, 0, &len);
	Elf64_Phdr *ph = (Elf64_Phdr *)(core + sizeof(Elf64_Ehdr));
	for (size_t i = 2; i < nph; i++)
		ph[i] = ph[1];
	pack(core, len, tpath("same.gz"));
	free(core);
	ck_assert_int_eq(open_msg(tpath("same.gz"), &src, &msg), -EBADMSG);
	ck_assert_str_eq(msg, "PT_LOAD 2 at 0x400000 is out of order or overlaps the previous one");
	free(msg);

	/* exported by memlens: 70,000 mappings (nothing dumped) */
	const size_t nv = 70000;
	ml_snapshot_writer *w;
	ck_assert_int_eq(ml_snapshot_writer_open(tpath("x.mlcore"), NULL, &w), 0);
	ml_snapshot_vma *v = calloc(nv, sizeof(*v));
	for (size_t i = 0; i < nv; i++) {
		v[i].vma.start = 0x10000000ull + i * 0x2000;
		v[i].vma.end = v[i].vma.start + 0x1000;
		v[i].vma.perms = ML_PERM_READ;
		v[i].flags = ML_SNAPSHOT_VMA_EXCLUDED;
	}
	ck_assert_int_eq(ml_snapshot_writer_set_mappings(w, v, nv), 0);
	free(v);
	ck_assert_int_eq(ml_snapshot_writer_finish(w), 0);
	ml_snapshot_writer_free(w);
	ml_snapshot *sn;
	ck_assert_int_eq(ml_snapshot_open(tpath("x.mlcore"), &sn), 0);
	ML_OPTS(ml_snapshot_expand_opts, gzo, .gzip = true, .level = 1);
	ck_assert_int_eq(ml_snapshot_expand_path(sn, tpath("x.gz"), &gzo, NULL), 0);
	ml_snapshot_free(sn);
	ck_assert_msg(open_msg(tpath("x.gz"), &src, &msg) == 0, "%s", msg ? msg : "");
	free(msg);
	ck_assert_int_eq(ml_source_maps(src, &m), 0);
	ck_assert_uint_eq(ml_maps_count(m), nv);
	ck_assert_uint_eq(ml_maps_get(m, nv - 1)->start, 0x10000000ull + (nv - 1) * 0x2000);
	ml_maps_free(m);
	ml_source_free(src);
	rm_tmpdir();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("snapshot_gzsource");
	TCase *tc = tcase_create("gz");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, gz_source_reads_like_the_snapshot);
	tcase_add_test(tc, gz_source_corruption);
	tcase_add_test(tc, gz_source_names_from_core_notes);
	tcase_add_test(tc, gz_source_notes_where_a_core_has_them);
	tcase_add_test(tc, gz_source_skips_overlapping_nt_file_entries);
	suite_add_tcase(s, tc);
	/* sizes whose cost grew as their square: left out under valgrind (scripts/valgrind.sh) */
	TCase *tq = tcase_create("scale");
	tcase_set_tags(tq, "scale");
	tcase_set_timeout(tq, 300);
	tcase_add_test(tq, gz_source_many_program_headers);
	suite_add_tcase(s, tq);
	return mlt_run_suite(s);
}
