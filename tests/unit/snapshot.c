/* snapshot.h: the manifest JSON, writer/reader round trips, expand, gzip export, refusals.
 * Covers the writer (lib/snapshot/writer.c, writer_layout.c; its chunk decisions also in
 * snapshot_writer_data.c), the reader (reader.c, reader_read.c, reader_verify.c), json.c
 * (also fuzzed alone: fuzz_manifest_json), core.c and util.c; lib/snapshot/publish.c and
 * expand.c also have tests of their own (snapshot_publish.c, snapshot_expand.c). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "mltest.h"
#include "snapshot/snap.h"
#include "snapshot_model.h"

static char tmpdir[256];

static void mk_tmpdir(void) { mlt_mkdtemp(tmpdir, sizeof(tmpdir), "mlsnap"); }
static void rm_tmpdir(void) { mlt_rmtree(tmpdir); }
static char *tpath(const char *name) { return mlt_path_in(tmpdir, name); }

/* Whether files in @dir keep holes: 1 MiB with one written page at its middle. */
static bool fs_keeps_holes(const char *dir)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/holeprobe", dir);
	int fd = open(path, O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	static const char page[4096] = { 1 };
	ck_assert_int_eq(pwrite(fd, page, sizeof(page), 512 << 10), (ssize_t)sizeof(page));
	ck_assert_int_eq(ftruncate(fd, 1 << 20), 0);
	ck_assert_int_eq(fsync(fd), 0);
	struct stat st;
	ck_assert_int_eq(fstat(fd, &st), 0);
	close(fd);
	unlink(path);
	return (long long)st.st_blocks * 512 < (long long)st.st_size;
}

static size_t dir_entries(void)
{
	DIR *d = opendir(tmpdir);
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* ---------------------------------------------------------------- JSON */

START_TEST(manifest_json_parser)
{
	const char *j = "{\"a\":\"x\\u00e9\\n\\\"\",\"n\":-12,\"o\":{\"p\":1,\"q\":[1,{\"r\":2}],\"s\":true},"
			"\"t\":null, \"u\" : \"\\ud83d\\ude00\"}";
	snap_kv *kv;
	size_t n;
	ck_assert_int_eq(snap_json_parse(j, strlen(j), &kv, &n), 0);
	ck_assert_str_eq(snap_kv_get(kv, n, "a")->val, "x\xc3\xa9\n\"");
	ck_assert_str_eq(snap_kv_get(kv, n, "n")->val, "-12");
	ck_assert_str_eq(snap_kv_get(kv, n, "o.p")->val, "1");
	ck_assert_str_eq(snap_kv_get(kv, n, "o.s")->val, "true");
	ck_assert_ptr_null(snap_kv_get(kv, n, "r"));
	ck_assert_ptr_null(snap_kv_get(kv, n, "o.q.r"));
	ck_assert_str_eq(snap_kv_get(kv, n, "t")->val, "null");
	ck_assert_str_eq(snap_kv_get(kv, n, "u")->val, "\xf0\x9f\x98\x80");
	snap_kv_free(kv, n);
	const char *badj[] = { "", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "[1]", "{\"a\":\"\\ud800\"}",
			       "{\"a\":1} x", "{\"a\":\"\x01\"}", "{\"a\":tru}" };
	for (size_t i = 0; i < sizeof(badj) / sizeof(badj[0]); i++)
		ck_assert_int_eq(snap_json_parse(badj[i], strlen(badj[i]), &kv, &n), -EBADMSG);
	/* strings with invalid UTF-8 round-trip through the writer's escaping as text */
	ml_buf b = {0};
	ck_assert_int_eq(snap_json_str(&b, "a\xff\"\n", 4), 0);
	ck_assert_str_eq(b.data, "\"a\\\\xff\\\"\\u000a\"");
	ml_buf_free(&b);
	/* what such a string reads back as, and whether it lost bytes */
	ck_assert_int_eq(snap_text_of(&b, "a\xff\xc3\xa9\\", 5), 0);
	ck_assert_uint_eq(b.len, 8);
	ck_assert_int_eq(memcmp(b.data, "a\\xff\xc3\xa9\\", 8), 0);
	ml_buf_free(&b);
	ck_assert(snap_text_lossy("a\xff", 2));
	ck_assert(snap_text_lossy("\xc3", 1)); /* a sequence cut short */
	ck_assert(snap_text_lossy("\xed\xa0\x80", 3)); /* a surrogate */
	ck_assert(!snap_text_lossy("caf\xc3\xa9 \\xff", 10));
}
END_TEST

/* An empty string is an empty C string, whatever the memory it was given held before (found
 * by fuzz_manifest_json: {"/s":""} gave a value of length 0 without its NUL). */
START_TEST(manifest_json_empty_strings)
{
	mallopt(M_PERTURB, 0x5a); /* fresh memory is not zero */
	const char *j = "{\"comm\":\"\",\"o\":{\"e\":\"\"},\"x\":\"y\"}";
	snap_kv *kv;
	size_t n;
	ck_assert_int_eq(snap_json_parse(j, strlen(j), &kv, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(snap_kv_get(kv, n, "comm")->val, "");
	ck_assert_str_eq(snap_kv_get(kv, n, "o.e")->val, "");
	ck_assert_str_eq(snap_kv_get(kv, n, "x")->val, "y");
	snap_kv_free(kv, n);
	mallopt(M_PERTURB, 0);
}
END_TEST

/* ---------------------------------------------------------------- round trip */

/* The model's byte at @addr: -1 unmapped, -2 unreadable, else the value. */
static int model_byte(const sm_model *m, uint64_t addr)
{
	for (size_t i = 0; i < m->n; i++) {
		const sm_vma *v = &m->v[i];
		if (addr < v->start || addr >= v->end)
			continue;
		uint8_t k = v->kind[(addr - v->start) / SM_PAGE];
		if (k == SMK_UNREAD)
			return -2;
		if (addr >= v->start + v->dump)
			return 0;
		return v->bytes[addr - v->start];
	}
	return -1;
}

static void check_reads(const ml_snapshot *s, const sm_model *m)
{
	uint8_t *buf = malloc(70 * SM_PAGE * 4);
	for (size_t i = 0; i < m->n; i++) {
		const sm_vma *v = &m->v[i];
		for (uint64_t a = v->start; a < v->end; a += SM_PAGE) {
			uint8_t k = v->kind[(a - v->start) / SM_PAGE];
			ssize_t r = ml_snapshot_read(s, a, buf, SM_PAGE);
			if (k == SMK_UNREAD) {
				ck_assert_int_eq(r, -EIO);
				continue;
			}
			ck_assert_int_eq(r, SM_PAGE);
			if (a < v->start + v->dump)
				ck_assert(!memcmp(buf, v->bytes + (a - v->start), SM_PAGE));
			else
				ck_assert(snap_is_zero(buf, SM_PAGE));
		}
		/* a read of the whole mapping stops at the first unreadable page or at the end */
		size_t len = (size_t)(v->end - v->start);
		uint8_t *all = malloc(len + SM_PAGE);
		ssize_t r = ml_snapshot_read(s, v->start, all, len + SM_PAGE);
		size_t expect = 0;
		while (expect < len && v->kind[expect / SM_PAGE] != SMK_UNREAD)
			expect += SM_PAGE;
		if (expect == 0)
			ck_assert_int_eq(r, -EIO);
		else if (expect < len)
			ck_assert_int_eq(r, (ssize_t)expect);
		else /* runs on into the next mapping only when adjacent */
			ck_assert_int_ge(r, (ssize_t)len);
		free(all);
	}
	/* unmapped */
	ck_assert_int_eq(ml_snapshot_read(s, 0x1000, buf, 1), -EFAULT);
	free(buf);
}

static void check_runs(const ml_snapshot *s, const sm_model *m)
{
	ml_run vec[7];
	uint64_t start = m->v[0].start, end = m->v[m->n - 1].end, next = start;
	uint64_t covered = 0, total = 0;
	ml_run prev = {0, 0, 0};
	for (size_t i = 0; i < m->n; i++)
		total += m->v[i].end - m->v[i].start;
	for (;;) {
		ssize_t n = ml_snapshot_runs(s, next, end, ML_RUNS_SPLIT_ZERO, vec, 7, &next);
		ck_assert_int_ge(n, 0);
		if (n == 0)
			break;
		for (ssize_t k = 0; k < n; k++) {
			ck_assert(vec[k].start < vec[k].end);
			ck_assert(vec[k].start >= prev.end);
			covered += vec[k].end - vec[k].start;
			for (uint64_t a = vec[k].start; a < vec[k].end; a += SM_PAGE) {
				int b = model_byte(m, a);
				ck_assert_int_ne(b, -1);
				const sm_vma *v = NULL;
				for (size_t i = 0; i < m->n; i++)
					if (a >= m->v[i].start && a < m->v[i].end)
						v = &m->v[i];
				uint8_t mk = v->kind[(a - v->start) / SM_PAGE];
				ml_run_kind want = sm_run_kind(mk);
				if (want == ML_RUN_DATA || want == ML_RUN_ZERO) {
					ck_assert(vec[k].kind == ML_RUN_DATA || vec[k].kind == ML_RUN_ZERO);
					if (vec[k].kind == ML_RUN_ZERO && a < v->start + v->dump)
						ck_assert(snap_is_zero(v->bytes + (a - v->start), SM_PAGE));
				} else {
					ck_assert_int_eq(vec[k].kind, want);
				}
			}
			prev = vec[k];
		}
		if (next == end)
			break;
	}
	ck_assert_uint_eq(covered, total);
	/* without the flag zero ranges count as data */
	next = start;
	ssize_t n;
	while ((n = ml_snapshot_runs(s, next, end, 0, vec, 7, &next)) > 0)
		for (ssize_t k = 0; k < n; k++)
			ck_assert_int_ne(vec[k].kind, ML_RUN_ZERO);
}

static uint8_t *map_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	struct stat st;
	fstat(fd, &st);
	*len = (size_t)st.st_size;
	uint8_t *p = mmap(NULL, *len ? *len : 1, PROT_READ, MAP_PRIVATE, fd, 0);
	ck_assert(p != MAP_FAILED);
	close(fd);
	return p;
}

/* Checks the expanded core against the model through libelf: PT_NOTE first, then one
 * PT_LOAD per mapping with the model's bytes at p_offset + (addr - p_vaddr). */
static void check_core(const char *core, const sm_model *m, const ml_snapshot *s)
{
	int fd = open(core, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	elf_version(EV_CURRENT);
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	ck_assert_ptr_nonnull(e);
	GElf_Ehdr eh;
	ck_assert_ptr_nonnull(gelf_getehdr(e, &eh));
	ck_assert_int_eq(eh.e_type, ET_CORE);
	size_t phnum;
	ck_assert_int_eq(elf_getphdrnum(e, &phnum), 0);
	ck_assert_uint_eq(phnum, m->n + 1);
	GElf_Phdr ph;
	gelf_getphdr(e, 0, &ph);
	ck_assert_int_eq(ph.p_type, PT_NOTE);
	/* the notes are the canonical ones, in order */
	Elf_Data *nd = elf_getdata_rawchunk(e, (int64_t)ph.p_offset, ph.p_filesz, ELF_T_NHDR);
	ck_assert_ptr_nonnull(nd);
	size_t off = 0, idx = 0, no, dof;
	GElf_Nhdr nh;
	while ((off = gelf_getnote(nd, off, &nh, &no, &dof)) > 0) {
		ml_snapshot_note sn;
		ck_assert_int_eq(ml_snapshot_note_get(s, idx++, &sn), 0);
		ck_assert_uint_eq(sn.type, nh.n_type);
		ck_assert_str_eq(sn.name, (const char *)nd->d_buf + no);
		ck_assert_uint_eq(sn.len, nh.n_descsz);
	}
	ck_assert_uint_eq(idx, ml_snapshot_note_count(s));
	ck_assert_uint_eq(idx, 2 * 3 + 4);
	size_t clen;
	uint8_t *c = map_file(core, &clen);
	uint64_t prev_end = 0;
	for (size_t i = 0; i < m->n; i++) {
		const sm_vma *v = &m->v[i];
		gelf_getphdr(e, (int)i + 1, &ph);
		ck_assert_int_eq(ph.p_type, PT_LOAD);
		ck_assert_uint_eq(ph.p_vaddr, v->start);
		ck_assert_uint_eq(ph.p_memsz, v->end - v->start);
		ck_assert_uint_eq(ph.p_filesz, v->dump);
		ck_assert_uint_eq(ph.p_offset % 4096, 0);
		ck_assert_uint_ge(ph.p_offset, prev_end);
		ck_assert_uint_eq(ph.p_flags & PF_W, (v->perms & ML_PERM_WRITE) ? PF_W : 0);
		prev_end = ph.p_offset + ph.p_filesz;
		ck_assert_uint_le(prev_end, clen);
		for (uint64_t p = 0; p < v->dump; p += SM_PAGE) {
			const uint8_t *got = c + ph.p_offset + p;
			if (v->kind[p / SM_PAGE] == SMK_UNREAD)
				ck_assert(snap_is_zero(got, SM_PAGE));
			else
				ck_assert_msg(!memcmp(got, v->bytes + p, SM_PAGE), "mapping %zu page %llu", i,
					      (unsigned long long)(p / SM_PAGE));
		}
	}
	ck_assert_uint_eq(clen, ml_snapshot_expanded_size(s));
	munmap(c, clen ? clen : 1);
	elf_end(e);
	close(fd);
}

/* The mapping holding @addr (binary search), or NULL. */
static const sm_vma *model_find(const sm_model *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (m->v[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo < m->n && m->v[lo].start <= addr) ? &m->v[lo] : NULL;
}

/* 10^5 random (addr, len) reads agree with the expanded core: each byte read is compared
 * with the core file at p_offset + (addr - p_vaddr) of its mapping (zeros past p_filesz),
 * and a short read must stop at an unreadable or unmapped byte. */
static void random_reads(const ml_snapshot *s, const sm_model *m, const char *core, unsigned nreads)
{
	size_t clen;
	uint8_t *c = map_file(core, &clen);
	uint8_t *buf = malloc(1 << 20);
	uint64_t rs = 12345;
	uint64_t *off = calloc(m->n, sizeof(*off));
	int fd = open(core, O_RDONLY);
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	for (size_t i = 0; i < m->n; i++) {
		GElf_Phdr ph;
		gelf_getphdr(e, (int)i + 1, &ph);
		off[i] = ph.p_offset;
	}
	unsigned short_reads = 0;
	for (unsigned t = 0; t < nreads; t++) {
		const sm_vma *v = &m->v[sm_rand(&rs) % m->n];
		uint64_t a = v->start + sm_rand(&rs) % (v->end - v->start);
		size_t len = (sm_rand(&rs) & 63) == 0 ? (size_t)(sm_rand(&rs) % (1 << 20)) : (size_t)(sm_rand(&rs) % 9000);
		ssize_t r = ml_snapshot_read(s, a, buf, len);
		if (r < 0) {
			ck_assert_int_eq(r, -EIO);
			ck_assert_int_eq(model_byte(m, a), -2);
			continue;
		}
		ck_assert_uint_le((size_t)r, len);
		for (ssize_t k = 0; k < r;) {
			uint64_t x = a + (uint64_t)k;
			const sm_vma *w = model_find(m, x);
			ck_assert_ptr_nonnull(w);
			size_t n = (size_t)ML_MIN((uint64_t)(r - k), w->end - x);
			uint64_t in_dump = x < w->start + w->dump ? ML_MIN((uint64_t)n, w->start + w->dump - x) : 0;
			if (in_dump)
				ck_assert(!memcmp(buf + k, c + off[w - m->v] + (x - w->start), in_dump));
			ck_assert(snap_is_zero(buf + k + in_dump, n - in_dump));
			k += (ssize_t)n;
		}
		if ((size_t)r < len) {
			int b = model_byte(m, a + (uint64_t)r);
			ck_assert(b == -1 || b == -2);
			short_reads++;
		}
	}
	ck_assert_uint_gt(short_reads, 0);
	elf_end(e);
	close(fd);
	free(off);
	free(buf);
	munmap(c, clen ? clen : 1);
}

static bool files_equal(const char *a, const char *b)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "cmp -s '%s' '%s'", a, b);
	int st;
	free(mlt_run(cmd, &st));
	return st == 0;
}

START_TEST(round_trip_synthetic)
{
	mk_tmpdir();
	sm_model m;
	sm_build(&m, 1, 40, 200);
	ML_OPTS(ml_snapshot_writer_opts, o, .threads = 2, .max_buffer = 1 << 20);
	ck_assert_int_eq(sm_write(&m, tpath("a.mlcore"), &o, 2), 0);
	struct stat st;
	ck_assert_int_eq(lstat(tpath("a.mlcore"), &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_uint_eq(dir_entries(), 1); /* no temporary left beside it */

	ml_snapshot *s;
	ck_assert_int_eq(ml_snapshot_open(tpath("a.mlcore"), &s), 0);
	ck_assert_uint_eq(ml_snapshot_vma_count(s), m.n);
	ck_assert_int_eq(ml_snapshot_pid(s), 4242);
	ck_assert_uint_eq(ml_snapshot_thread_count(s), 2);
	ck_assert_uint_eq(ml_snapshot_chunk_size(s), ML_SNAPSHOT_CHUNK_DEFAULT);
	ck_assert_str_eq(ml_snapshot_field(s, "comm"), "synthetic");
	ck_assert_str_eq(ml_snapshot_field(s, "freeze"), "ptrace");
	ck_assert_str_eq(ml_snapshot_field(s, "capture_time"), "2025-11-28T14:26:40.123Z");
	char *f;
	size_t fl;
	ck_assert_int_eq(ml_snapshot_read_file(s, "status", &f, &fl), 0);
	ck_assert_str_eq(f, "Name:\tsynthetic\nPid:\t4242\n");
	free(f);
	ck_assert_int_eq(ml_snapshot_read_file(s, "limits", &f, &fl), -ENOENT);

	/* per-kind totals agree with the model */
	ml_snapshot_stats t;
	ck_assert_int_eq(ml_snapshot_stats_get(s, SIZE_MAX, &t), 0);
	uint64_t want[ML_RUN_KIND_COUNT] = {0};
	for (size_t i = 0; i < m.n; i++)
		for (uint64_t p = 0; p < (m.v[i].end - m.v[i].start) / SM_PAGE; p++) {
			ml_run_kind k = sm_run_kind(m.v[i].kind[p]);
			want[k == ML_RUN_ZERO ? ML_RUN_DATA : k] += SM_PAGE;
		}
	ck_assert_uint_eq(t.bytes[ML_RUN_DATA] + t.bytes[ML_RUN_ZERO], want[ML_RUN_DATA]);
	ck_assert_uint_eq(t.bytes[ML_RUN_UNPOPULATED], want[ML_RUN_UNPOPULATED]);
	ck_assert_uint_eq(t.bytes[ML_RUN_UNREADABLE], want[ML_RUN_UNREADABLE]);
	ck_assert_uint_eq(t.bytes[ML_RUN_EXCLUDED], want[ML_RUN_EXCLUDED]);
	ck_assert_uint_gt(t.chunks, 0);
	ck_assert_uint_gt(t.raw_chunks, 0); /* random pages do not compress */
	ck_assert_uint_lt(t.raw_chunks, t.chunks);
	char num[32];
	snprintf(num, sizeof(num), "%llu", (unsigned long long)t.bytes[ML_RUN_UNPOPULATED]);
	ck_assert_str_eq(ml_snapshot_field(s, "bytes.unpopulated"), num);

	check_reads(s, &m);
	check_runs(s, &m);
	ck_assert_int_eq(ml_snapshot_verify(s, ML_SNAPSHOT_VERIFY_SHA256, NULL), 0);

	/* expand: twice, identical; matches the model; SHA-256 as recorded */
	uint8_t d1[32], d2[32], rec[32];
	ck_assert_int_eq(ml_snapshot_expand_path(s, tpath("a.core"), NULL, d1), 0);
	ck_assert_int_eq(ml_snapshot_expand_path(s, tpath("b.core"), NULL, d2), 0);
	/* The expanded file is sparse where the snapshot has no data, where the filesystem
	 * keeps holes (ext4, tmpfs, ...). Checked before anything maps it: a read fault on a
	 * tmpfs hole allocates the page. */
	bool holes = fs_keeps_holes(tmpdir);
	if (holes) {
		ck_assert_int_eq(stat(tpath("a.core"), &st), 0);
		ck_assert_int_lt((long long)st.st_blocks * 512, (long long)st.st_size);
	}
	ck_assert(files_equal(tpath("a.core"), tpath("b.core")));
	ck_assert_int_eq(ml_snapshot_sha256(s, rec), 0);
	ck_assert(!memcmp(d1, rec, 32));
	char h[65], cmd[600];
	ml__sha256_hex(rec, h);
	snprintf(cmd, sizeof(cmd), "sha256sum '%s'", tpath("a.core"));
	int stt;
	char *out = mlt_run(cmd, &stt);
	ck_assert(!strncmp(out, h, 64));
	free(out);
	check_core(tpath("a.core"), &m, s);
	random_reads(s, &m, tpath("a.core"), 100000);


	/* gzip export: zcat gives the expanded core */
	ML_OPTS(ml_snapshot_expand_opts, xo, .member_size = 100000, .gzip = true);
	ck_assert_int_eq(ml_snapshot_expand_path(s, tpath("a.core.gz"), &xo, NULL), 0);
	snprintf(cmd, sizeof(cmd), "gzip -t '%s' && zcat '%s' | cmp -s - '%s'", tpath("a.core.gz"),
		 tpath("a.core.gz"), tpath("a.core"));
	free(mlt_run(cmd, &stt));
	ck_assert_int_eq(stt, 0);

	/* to a pipe: real zeros, same bytes */
	int pfd[2];
	ck_assert_int_eq(pipe(pfd), 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		_exit(ml_snapshot_expand(s, pfd[1], NULL, NULL) == 0 ? 0 : 1);
	}
	close(pfd[1]);
	size_t clen;
	uint8_t *c = map_file(tpath("a.core"), &clen);
	size_t got = 0;
	uint8_t buf[65536];
	ssize_t n;
	bool same = true;
	while ((n = read(pfd[0], buf, sizeof(buf))) > 0) {
		if (got + (size_t)n > clen || memcmp(buf, c + got, (size_t)n))
			same = false;
		got += (size_t)n;
	}
	close(pfd[0]);
	int ws;
	waitpid(pid, &ws, 0);
	ck_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	ck_assert(same);
	ck_assert_uint_eq(got, clen);
	munmap(c, clen);

	ml_snapshot_free(s);
	sm_free(&m);
	rm_tmpdir();
	if (!holes)
		mlt_skip("files in TMPDIR keep no holes (probed with a 1 MiB file of one page): the "
			 "expanded core's sparseness was not checked; everything else was");
}
END_TEST

/* Every codec at a low and a high level: the same expanded core, chunk by chunk. */
static const struct { ml_snapshot_codec codec; int level; const char *name, *level_text; } codec_cases[] = {
	{ ML_SNAPSHOT_CODEC_ZLIB, 6, "zlib", "6" },
	{ ML_SNAPSHOT_CODEC_NONE, 0, "lz4", "1" },
	{ ML_SNAPSHOT_CODEC_LZ4, 9, "lz4", "9" },
	{ ML_SNAPSHOT_CODEC_ZSTD, 1, "zstd", "1" },
	{ ML_SNAPSHOT_CODEC_ZSTD, 19, "zstd", "19" },
};

START_TEST(elf_format_is_the_expanded_core)
{
	mk_tmpdir();
	sm_model m;
	sm_build(&m, 7, 25, 150);
	ML_OPTS(ml_snapshot_writer_opts, o, .chunk_size = 64 << 10, .level = codec_cases[_i].level, .threads = 1,
		.codec = codec_cases[_i].codec);
	ck_assert_int_eq(sm_write(&m, tpath("x.mlcore"), &o, 3), 0);
	ML_OPTS(ml_snapshot_writer_opts, e, .format = ML_SNAPSHOT_FORMAT_ELF, .threads = 2);
	ck_assert_int_eq(sm_write(&m, tpath("direct.core"), &e, 2), 0);
	ml_snapshot *s;
	ck_assert_int_eq(ml_snapshot_open(tpath("x.mlcore"), &s), 0);
	ck_assert_uint_eq(ml_snapshot_chunk_size(s), 64 << 10);
	ck_assert_str_eq(ml_snapshot_field(s, "codec"), codec_cases[_i].name);
	ck_assert_str_eq(ml_snapshot_field(s, "level"), codec_cases[_i].level_text);
	/* text pages compress with the codec asked for, random pages are stored raw */
	size_t coded = 0, raw = 0;
	for (size_t i = 0; i < ml_snapshot_entry_count(s); i++) {
		ml_snapshot_entry en;
		ck_assert_int_eq(ml_snapshot_entry_get(s, i, &en), 0);
		if (en.kind != ML_RUN_DATA)
			continue;
		ck_assert_str_eq(ml_snapshot_codec_name(en.codec) ,
				 en.codec == ML_SNAPSHOT_CODEC_RAW ? "raw" : codec_cases[_i].name);
		coded += en.codec != ML_SNAPSHOT_CODEC_RAW;
		raw += en.codec == ML_SNAPSHOT_CODEC_RAW;
	}
	ck_assert_uint_gt(coded, 0);
	ck_assert_uint_gt(raw, 0);
	ck_assert_int_eq(ml_snapshot_verify(s, ML_SNAPSHOT_VERIFY_SHA256, NULL), 0);
	check_reads(s, &m);
	ck_assert_int_eq(ml_snapshot_expand_path(s, tpath("x.core"), NULL, NULL), 0);
	ck_assert(files_equal(tpath("x.core"), tpath("direct.core")));
	check_core(tpath("direct.core"), &m, s);
	ml_snapshot_free(s);
	sm_free(&m);
	rm_tmpdir();
}
END_TEST

START_TEST(big_chunks_and_threads)
{
	mk_tmpdir();
	sm_model m;
	sm_build(&m, 3, 12, 2000);
	ML_OPTS(ml_snapshot_writer_opts, o, .chunk_size = 4 << 20, .level = 9, .threads = 3, .no_sha256 = true);
	ck_assert_int_eq(sm_write(&m, tpath("b.mlcore"), &o, 4), 0);
	ml_snapshot *s;
	ck_assert_int_eq(ml_snapshot_open(tpath("b.mlcore"), &s), 0);
	uint8_t d[32];
	ck_assert_int_eq(ml_snapshot_sha256(s, d), -ENOENT);
	ck_assert_ptr_null(ml_snapshot_field(s, "expanded_sha256"));
	check_reads(s, &m);
	for (size_t i = 0; i < ml_snapshot_entry_count(s); i++) {
		ml_snapshot_entry e;
		ck_assert_int_eq(ml_snapshot_entry_get(s, i, &e), 0);
		if (e.kind == ML_RUN_DATA)
			ck_assert_uint_le(e.len, 4 << 20);
	}
	ck_assert_int_eq(ml_snapshot_verify(s, ML_SNAPSHOT_VERIFY_SHA256, NULL), 0);
	ml_snapshot_free(s);
	sm_free(&m);
	rm_tmpdir();
}
END_TEST

/* ---------------------------------------------------------------- concurrency */

typedef struct rd_ctx {
	const ml_snapshot *s;
	const sm_model *m;
	uint64_t seed;
	int bad;
} rd_ctx;

static void *reader_thread(void *arg)
{
	rd_ctx *c = arg;
	uint8_t *buf = malloc(300000);
	for (int t = 0; t < 3000; t++) {
		const sm_vma *v = &c->m->v[sm_rand(&c->seed) % c->m->n];
		uint64_t a = v->start + sm_rand(&c->seed) % (v->end - v->start);
		size_t len = (size_t)(sm_rand(&c->seed) % 300000);
		ssize_t r = ml_snapshot_read(c->s, a, buf, len);
		if (r < 0) {
			if (model_byte(c->m, a) != -2)
				c->bad++;
			continue;
		}
		for (ssize_t k = 0; k < r; k += 97) {
			int b = model_byte(c->m, a + (uint64_t)k);
			if (b < 0 || buf[k] != b)
				c->bad++;
		}
	}
	free(buf);
	return NULL;
}

START_TEST(reads_from_several_threads)
{
	mk_tmpdir();
	sm_model m;
	sm_build(&m, 11, 20, 300);
	ck_assert_int_eq(sm_write(&m, tpath("t.mlcore"), NULL, 1), 0);
	ml_snapshot *s;
	ck_assert_int_eq(ml_snapshot_open(tpath("t.mlcore"), &s), 0);
	pthread_t th[4];
	rd_ctx c[4];
	for (int i = 0; i < 4; i++) {
		c[i] = (rd_ctx){ s, &m, 100 + (uint64_t)i, 0 };
		pthread_create(&th[i], NULL, reader_thread, &c[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(c[i].bad, 0);
	}
	ml_snapshot_free(s);
	sm_free(&m);
	rm_tmpdir();
}
END_TEST

/* ---------------------------------------------------------------- writer refusals */

static ml_snapshot_writer *small_writer(const char *path, int *err)
{
	ml_snapshot_writer *w = NULL;
	*err = ml_snapshot_writer_open(path, NULL, &w);
	if (*err < 0)
		return NULL;
	ml_snapshot_vma v[2];
	memset(v, 0, sizeof(v));
	v[0].vma.start = 0x10000;
	v[0].vma.end = 0x30000;
	v[0].vma.perms = ML_PERM_READ | ML_PERM_WRITE;
	v[1].vma.start = 0x30000;
	v[1].vma.end = 0x32000;
	v[1].flags = ML_SNAPSHOT_VMA_EXCLUDED;
	*err = ml_snapshot_writer_set_mappings(w, v, 2);
	return w;
}

typedef struct ref_count {
	pthread_mutex_t mu;
	size_t calls, bytes;
	const uint8_t *base;
	size_t len;
	bool outside;
} ref_count;

static void ref_release(void *ctx, uint64_t addr, const void *buf, size_t len)
{
	ref_count *k = ctx;
	pthread_mutex_lock(&k->mu);
	k->calls++;
	k->bytes += len;
	const uint8_t *b = buf;
	if (b < k->base || b + len > k->base + k->len || addr != 0x700000000000ull + (uint64_t)(b - k->base))
		k->outside = true;
	pthread_mutex_unlock(&k->mu);
}

/* Data lent by reference: compressed (or written) from the caller's memory, every piece
 * handed back exactly once, also when the writer is dropped without finishing. */
START_TEST(data_by_reference)
{
	mk_tmpdir();
	size_t len = (1u << 20) + 4096;
	uint8_t *mem = malloc(len);
	for (size_t i = 0; i < len; i++)
		mem[i] = (uint8_t)(i % 251 < 40 ? 0 : "memlens lends bytes "[i % 20]);
	memset(mem + (512u << 10), 0, 256u << 10); /* one all-zero piece */
	ml_snapshot_vma v = { .vma = { .start = 0x700000000000ull, .end = 0x700000000000ull + len, .perms = 3 } };
	for (int fmt = 0; fmt < 2; fmt++) {
		ref_count k = { .mu = PTHREAD_MUTEX_INITIALIZER, .base = mem, .len = len };
		ML_OPTS(ml_snapshot_writer_opts, o, .threads = 2, .format = fmt ? ML_SNAPSHOT_FORMAT_ELF : ML_SNAPSHOT_FORMAT_MLCORE);
		ml_snapshot_writer *w;
		const char *out = tpath(fmt ? "r.core" : "r.mlcore");
		ck_assert_int_eq(ml_snapshot_writer_open(out, &o, &w), 0);
		ck_assert_int_eq(ml_snapshot_writer_set_mappings(w, &v, 1), 0);
		ck_assert_int_eq(ml_snapshot_writer_add_data_ref(w, v.vma.start, mem, len, NULL, &k), -EINVAL);
		ck_assert_int_eq(ml_snapshot_writer_add_data_ref(w, v.vma.start + 4096, mem, len, ref_release, &k), -EINVAL);
		ck_assert_int_eq(ml_snapshot_writer_add_data_ref(w, v.vma.start, mem, len, ref_release, &k), 0);
		ck_assert_int_eq(ml_snapshot_writer_finish(w), 0);
		ml_snapshot_writer_free(w);
		ck_assert_uint_eq(k.calls, 5); /* four chunks of 256 KiB and one page */
		ck_assert_uint_eq(k.bytes, len);
		ck_assert(!k.outside);
		if (!fmt) {
			ml_snapshot *s;
			ck_assert_int_eq(ml_snapshot_open(out, &s), 0);
			uint8_t *back = malloc(len);
			ck_assert_int_eq(ml_snapshot_read(s, v.vma.start, back, len), (ssize_t)len);
			ck_assert_int_eq(memcmp(back, mem, len), 0);
			ml_snapshot_stats t;
			ck_assert_int_eq(ml_snapshot_stats_get(s, SIZE_MAX, &t), 0);
			ck_assert_uint_eq(t.bytes[ML_RUN_ZERO], 256u << 10);
			ck_assert_int_eq(ml_snapshot_verify(s, ML_SNAPSHOT_VERIFY_SHA256, NULL), 0);
			free(back);
			ml_snapshot_free(s);
		}
	}
	/* dropped: every piece still comes back, nothing is published */
	ref_count k = { .mu = PTHREAD_MUTEX_INITIALIZER, .base = mem, .len = len };
	ml_snapshot_writer *w;
	ck_assert_int_eq(ml_snapshot_writer_open(tpath("drop.mlcore"), NULL, &w), 0);
	ck_assert_int_eq(ml_snapshot_writer_set_mappings(w, &v, 1), 0);
	ck_assert_int_eq(ml_snapshot_writer_add_data_ref(w, v.vma.start, mem, len, ref_release, &k), 0);
	ml_snapshot_writer_free(w);
	ck_assert_uint_eq(k.bytes, len);
	ck_assert_uint_eq(k.calls, 5);
	ck_assert_int_eq(access(tpath("drop.mlcore"), F_OK), -1);
	free(mem);
	rm_tmpdir();
}
END_TEST

START_TEST(writer_refuses_and_leaves_nothing)
{
	mk_tmpdir();
	int err;
	uint8_t page[4096];
	memset(page, 0xab, sizeof(page));

	/* gap: finish fails, names the range, nothing left */
	ml_snapshot_writer *w = small_writer(tpath("gap.mlcore"), &err);
	ck_assert_int_eq(err, 0);
	ck_assert_int_eq(ml_snapshot_writer_add_data(w, 0x10000, page, sizeof(page)), 0);
	ck_assert_int_eq(ml_snapshot_writer_finish(w), -EINVAL);
	ck_assert_ptr_nonnull(strstr(ml_error_detail(), "0x11000-0x30000"));
	ml_snapshot_writer_free(w);
	ck_assert_uint_eq(dir_entries(), 0);

	/* overlap */
	w = small_writer(tpath("ov.mlcore"), &err);
	ck_assert_int_eq(ml_snapshot_writer_add_run(w, 0x10000, 0x20000, ML_RUN_UNPOPULATED), 0);
	ck_assert_int_eq(ml_snapshot_writer_add_data(w, 0x12000, page, sizeof(page)), 0);
	ck_assert_int_eq(ml_snapshot_writer_finish(w), -EINVAL);
	ck_assert_ptr_nonnull(strstr(ml_error_detail(), "overlap"));
	ml_snapshot_writer_free(w);
	ck_assert_uint_eq(dir_entries(), 0);

	/* misuse is refused call by call */
	w = small_writer(tpath("mis.mlcore"), &err);
	ck_assert_int_eq(ml_snapshot_writer_add_data(w, 0x30000, page, 16), -EINVAL);   /* excluded mapping */
	ck_assert_int_eq(ml_snapshot_writer_add_data(w, 0x2f000, page, 8192), -EINVAL); /* crosses the end */
	ck_assert_int_eq(ml_snapshot_writer_add_run(w, 0x10000, 4096, ML_RUN_SWAPPED), -EINVAL);
	ck_assert_int_eq(ml_snapshot_writer_add_run(w, 0x10000, 4096, ML_RUN_DATA), -EINVAL);
	ck_assert_int_eq(ml_snapshot_writer_add_note(w, "CORE", 1, page, 4), -EINVAL); /* after mappings */
	ck_assert_int_eq(ml_snapshot_writer_add_file(w, "maps", "x", 1), 0);
	ck_assert_int_eq(ml_snapshot_writer_add_file(w, "maps", "x", 1), -EEXIST);
	ck_assert_int_eq(ml_snapshot_writer_commit(w, 0x10000, 1), -EINVAL); /* nothing lent */
	/* abandoned: nothing left */
	ck_assert_int_eq(ml_snapshot_writer_add_data(w, 0x10000, page, sizeof(page)), 0);
	ml_snapshot_writer_free(w);
	ck_assert_uint_eq(dir_entries(), 0);

	/* a complete one */
	w = small_writer(tpath("ok.mlcore"), &err);
	ck_assert_int_eq(ml_snapshot_writer_add_data(w, 0x10000, page, sizeof(page)), 0);
	ck_assert_int_eq(ml_snapshot_writer_add_run(w, 0x11000, 0x1f000, ML_RUN_ZERO), 0);
	ck_assert_int_eq(ml_snapshot_writer_finish(w), 0);
	ml_snapshot_writer_free(w);
	ck_assert_uint_eq(dir_entries(), 1);

	/* existing output refused without overwrite, replaced with it */
	ck_assert_ptr_null(small_writer(tpath("ok.mlcore"), &err));
	ck_assert_int_eq(err, -EEXIST);
	ML_OPTS(ml_snapshot_writer_opts, ow, .overwrite = true);
	ck_assert_int_eq(ml_snapshot_writer_open(tpath("ok.mlcore"), &ow, &w), 0);
	ml_snapshot_vma v = { .vma = { .start = 0x1000, .end = 0x2000 } };
	ck_assert_int_eq(ml_snapshot_writer_set_mappings(w, &v, 1), 0);
	ck_assert_int_eq(ml_snapshot_writer_add_run(w, 0x1000, 0x1000, ML_RUN_UNPOPULATED), 0);
	ck_assert_int_eq(ml_snapshot_writer_finish(w), 0);
	ml_snapshot_writer_free(w);
	ml_snapshot *s;
	ck_assert_int_eq(ml_snapshot_open(tpath("ok.mlcore"), &s), 0);
	ck_assert_uint_eq(ml_snapshot_vma_count(s), 1);
	ml_snapshot_free(s);

	/* a symlink is refused even with overwrite, and its target untouched */
	ck_assert_int_eq(symlink(tpath("victim"), tpath("link.mlcore")), 0);
	ck_assert_int_eq(ml_snapshot_writer_open(tpath("link.mlcore"), NULL, &w), -ELOOP);
	ck_assert_int_eq(ml_snapshot_writer_open(tpath("link.mlcore"), &ow, &w), -ELOOP);
	ck_assert_int_eq(access(tpath("victim"), F_OK), -1);
	/* a missing directory */
	ck_assert_int_eq(ml_snapshot_writer_open(tpath("nodir/x.mlcore"), NULL, &w), -ENOENT);
	/* bad options */
	ML_OPTS(ml_snapshot_writer_opts, bo, .chunk_size = 1000);
	ck_assert_int_eq(ml_snapshot_writer_open(tpath("y.mlcore"), &bo, &w), -EINVAL);
	bo.chunk_size = 8 << 20;
	ck_assert_int_eq(ml_snapshot_writer_open(tpath("y.mlcore"), &bo, &w), -EINVAL);
	/* levels beyond each codec's range, and codecs a writer does not make */
	static const struct { ml_snapshot_codec c; int level; } badc[] = {
		{ ML_SNAPSHOT_CODEC_ZLIB, 10 }, { ML_SNAPSHOT_CODEC_LZ4, 13 }, { ML_SNAPSHOT_CODEC_ZSTD, 23 },
		{ ML_SNAPSHOT_CODEC_ZSTD, -1 }, { ML_SNAPSHOT_CODEC_RAW, 1 }, { (ml_snapshot_codec)5, 1 },
	};
	for (size_t i = 0; i < sizeof(badc) / sizeof(badc[0]); i++) {
		ML_OPTS(ml_snapshot_writer_opts, co, .codec = badc[i].c, .level = badc[i].level);
		ck_assert_int_eq(ml_snapshot_writer_open(tpath("y.mlcore"), &co, &w), -EINVAL);
	}
	ck_assert_int_eq(access(tpath("y.mlcore"), F_OK), -1);
	/* mappings out of order */
	ck_assert_int_eq(ml_snapshot_writer_open(tpath("z.mlcore"), NULL, &w), 0);
	ml_snapshot_vma vv[2] = { { .vma = { .start = 0x5000, .end = 0x6000 } }, { .vma = { .start = 0x1000, .end = 0x2000 } } };
	ck_assert_int_eq(ml_snapshot_writer_set_mappings(w, vv, 2), -EINVAL);
	ml_snapshot_writer_free(w);
	rm_tmpdir();
}
END_TEST

/* The page size a file records is one its reader takes, and the mappings are aligned to it
 * (core import records the core's AT_PAGESZ: 8192 with 4 KiB mappings, or 3, made files
 * the reader refused as "bad range" or "absurd page size"). */
START_TEST(writer_page_size_is_one_readers_take)
{
	mk_tmpdir();
	ml_snapshot_writer *w;
	ml_snapshot_vma v4 = { .vma = { .start = 0x1000, .end = 0x3000 } };
	ml_snapshot_vma v16 = { .vma = { .start = 0x10000, .end = 0x18000 } };
	static const uint32_t bad[] = { 3, 2048, 4097, 3 << 12, 2u << 20 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(ml_snapshot_writer_open(tpath("p.mlcore"), NULL, &w), 0);
		ML_OPTS(ml_snapshot_info, info, .pid = 1, .page_size = bad[i]);
		ck_assert_int_eq(ml_snapshot_writer_set_info(w, &info), -EINVAL);
		ck_assert_msg(strstr(ml_error_detail(), "power of two"), "%u: %s", bad[i], ml_error_detail());
		ml_snapshot_writer_free(w);
	}
	/* 16 KiB pages: 4 KiB-aligned mappings are refused, 16 KiB-aligned ones round-trip */
	ck_assert_int_eq(ml_snapshot_writer_open(tpath("p.mlcore"), NULL, &w), 0);
	ML_OPTS(ml_snapshot_info, i16, .pid = 1, .page_size = 16384);
	ck_assert_int_eq(ml_snapshot_writer_set_info(w, &i16), 0);
	ck_assert_int_eq(ml_snapshot_writer_set_mappings(w, &v4, 1), -EINVAL);
	ck_assert_int_eq(ml_snapshot_writer_set_mappings(w, &v16, 1), 0);
	/* and cannot change under mappings already set */
	ML_OPTS(ml_snapshot_info, i4, .pid = 1, .page_size = 4096);
	ck_assert_int_eq(ml_snapshot_writer_set_info(w, &i4), -EINVAL);
	ck_assert_int_eq(ml_snapshot_writer_add_run(w, 0x10000, 0x8000, ML_RUN_ZERO), 0);
	ck_assert_int_eq(ml_snapshot_writer_finish(w), 0);
	ml_snapshot_writer_free(w);
	ml_snapshot *s;
	ck_assert_int_eq(ml_snapshot_open(tpath("p.mlcore"), &s), 0);
	ck_assert_uint_eq(ml_snapshot_page_size(s), 16384);
	ml_snapshot_free(s);
	ck_assert_int_eq(unlink(tpath("p.mlcore")), 0);
	rm_tmpdir();
}
END_TEST

/* More mappings than e_phnum can count: PN_XNUM and a section header, as the kernel writes. */
/* 70,000 mappings, and exactly 65,534: with the notes 65,535 program headers, which e_phnum
 * cannot hold either (0xffff is PN_XNUM: the kernel then writes the section header). */
static const size_t pn_xnum_counts[] = { 70000, 65534 };

/* Names that are not UTF-8 come back byte for byte: the manifest's text of a byte 0xff is
 * "\xff", which a name may hold as it is, so the bytes are also written exactly. */
START_TEST(manifest_names_round_trip_exactly)
{
	mk_tmpdir();
	ml_snapshot_writer *w;
	ck_assert_int_eq(ml_snapshot_writer_open(tpath("n.mlcore"), NULL, &w), 0);
	ML_OPTS(ml_snapshot_info, info, .pid = 7, .comm = "a\xff" "b", .exe = "/opt/x\\xffy\xc3\xa9",
		.kernel = "6.1-\xfe", .freeze = "none");
	ck_assert_int_eq(ml_snapshot_writer_set_info(w, &info), 0);
	ck_assert_int_eq(ml_snapshot_writer_set_field(w, "note", "\x80\\x80"), 0);
	ck_assert_int_eq(ml_snapshot_writer_set_field(w, "plain", "caf\xc3\xa9"), 0);
	ml_snapshot_vma v = { .vma = { .start = 0x1000, .end = 0x2000 } };
	ck_assert_int_eq(ml_snapshot_writer_set_mappings(w, &v, 1), 0);
	ck_assert_int_eq(ml_snapshot_writer_add_run(w, 0x1000, 0x1000, ML_RUN_ZERO), 0);
	ck_assert_int_eq(ml_snapshot_writer_finish(w), 0);
	ml_snapshot_writer_free(w);
	ml_snapshot *s;
	ck_assert_int_eq(ml_snapshot_open(tpath("n.mlcore"), &s), 0);
	ck_assert_str_eq(ml_snapshot_field(s, "comm"), "a\xff" "b");
	ck_assert_str_eq(ml_snapshot_field(s, "exe"), "/opt/x\\xffy\xc3\xa9"); /* a backslash as it is */
	ck_assert_str_eq(ml_snapshot_field(s, "kernel"), "6.1-\xfe");
	ck_assert_str_eq(ml_snapshot_field(s, "extra.note"), "\x80\\x80");
	ck_assert_str_eq(ml_snapshot_field(s, "extra.plain"), "caf\xc3\xa9");
	/* exact forms only where the text loses bytes */
	ck_assert_str_eq(ml_snapshot_field(s, "exact.comm"), "61ff62");
	ck_assert_str_eq(ml_snapshot_field(s, "exact.extra.note"), "805c783830");
	ck_assert_ptr_nonnull(ml_snapshot_field(s, "exact.kernel"));
	ck_assert_ptr_null(ml_snapshot_field(s, "exact.exe"));
	ck_assert_ptr_null(ml_snapshot_field(s, "exact.extra.plain"));
	ck_assert_ptr_null(ml_snapshot_field(s, "exact.tool"));
	/* a reader of the text alone (an earlier version) still reads the text */
	const char *m = ml_snapshot_manifest(s, NULL);
	ck_assert_ptr_nonnull(strstr(m, "\"comm\":\"a\\\\xffb\""));
	ml_snapshot_free(s);
	rm_tmpdir();
}
END_TEST

START_TEST(many_mappings_use_pn_xnum)
{
	mk_tmpdir();
	size_t n = pn_xnum_counts[_i];
	ml_snapshot_vma *v = calloc(n, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		v[i].vma.start = 0x10000000ull + i * 0x2000;
		v[i].vma.end = v[i].vma.start + 0x1000;
		v[i].vma.perms = ML_PERM_READ;
		v[i].flags = (i % 3) ? ML_SNAPSHOT_VMA_EXCLUDED : 0;
	}
	uint8_t page[4096];
	memset(page, 0x5a, sizeof(page));
	for (int fmt = 0; fmt < 2; fmt++) {
		ML_OPTS(ml_snapshot_writer_opts, o, .format = fmt ? ML_SNAPSHOT_FORMAT_ELF : ML_SNAPSHOT_FORMAT_MLCORE);
		ml_snapshot_writer *w;
		page[0] = 0x5a;
		ck_assert_int_eq(ml_snapshot_writer_open(tpath(fmt ? "direct.core" : "many.mlcore"), &o, &w), 0);
		ck_assert_int_eq(ml_snapshot_writer_add_note(w, "CORE", NT_PRSTATUS, page, 336), 0);
		ck_assert_int_eq(ml_snapshot_writer_set_mappings(w, v, n), 0);
		for (size_t i = 0; i < n; i += 3) {
			page[0] = (uint8_t)i;
			ck_assert_int_eq(ml_snapshot_writer_add_data(w, v[i].vma.start, page, sizeof(page)), 0);
		}
		ck_assert_int_eq(ml_snapshot_writer_finish(w), 0);
		ml_snapshot_writer_free(w);
	}
	ml_snapshot *s;
	ck_assert_int_eq(ml_snapshot_open(tpath("many.mlcore"), &s), 0);
	ck_assert_uint_eq(ml_snapshot_vma_count(s), n);
	ck_assert_int_eq(ml_snapshot_expand_path(s, tpath("many.core"), NULL, NULL), 0);
	ck_assert(files_equal(tpath("many.core"), tpath("direct.core")));
	int fd = open(tpath("many.core"), O_RDONLY);
	elf_version(EV_CURRENT);
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	GElf_Ehdr eh;
	gelf_getehdr(e, &eh);
	ck_assert_uint_eq(eh.e_phnum, PN_XNUM);
	ck_assert_uint_eq(eh.e_shnum, 1);
	size_t phnum;
	ck_assert_int_eq(elf_getphdrnum(e, &phnum), 0);
	ck_assert_uint_eq(phnum, n + 1);
	GElf_Phdr ph;
	gelf_getphdr(e, (int)n, &ph); /* the last mapping: excluded */
	ck_assert_uint_eq(ph.p_vaddr, v[n - 1].vma.start);
	ck_assert_uint_eq(ph.p_filesz, (n - 1) % 3 ? 0 : 4096);
	gelf_getphdr(e, (int)(1 + (n - 1) / 3 * 3), &ph);
	uint8_t b[2];
	ck_assert_int_eq(pread(fd, b, 2, (off_t)ph.p_offset), 2);
	ck_assert_uint_eq(b[0], (uint8_t)((n - 1) / 3 * 3));
	ck_assert_uint_eq(b[1], 0x5a);
	elf_end(e);
	close(fd);
	ml_snapshot_free(s);
	free(v);
	rm_tmpdir();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("snapshot");
	TCase *tc = tcase_create("pieces");
	tcase_add_test(tc, manifest_json_parser);
	tcase_add_test(tc, manifest_json_empty_strings);
	suite_add_tcase(s, tc);
	TCase *rt = tcase_create("round-trip");
	tcase_set_timeout(rt, 300);
	tcase_add_test(rt, round_trip_synthetic);
	tcase_add_loop_test(rt, elf_format_is_the_expanded_core, 0, (int)(sizeof(codec_cases) / sizeof(codec_cases[0])));
	tcase_add_test(rt, big_chunks_and_threads);
	tcase_add_test(rt, data_by_reference);
	tcase_add_test(rt, reads_from_several_threads);
	tcase_add_test(rt, writer_refuses_and_leaves_nothing);
	tcase_add_test(rt, writer_page_size_is_one_readers_take);
	tcase_add_test(rt, manifest_names_round_trip_exactly);
	suite_add_tcase(s, rt);
	/* 70,000 mappings: left out under valgrind (scripts/valgrind.sh) */
	TCase *tq = tcase_create("scale");
	tcase_set_tags(tq, "scale");
	tcase_set_timeout(tq, 300);
	tcase_add_loop_test(tq, many_mappings_use_pn_xnum, 0, 2);
	suite_add_tcase(s, tq);
	return mlt_run_suite(s);
}
