/* lib/capture.c (ml_capture) against a real child: gdb round trip, byte equality with /proc/PID/mem, no perturbation, the kernel's own core as oracle, failures.
 * Also covers the rest of a capture, lib/capture_stage.c (the staging area) and
 * lib/capture_threads.c (the notes), and lib/capture_notes.c and lib/freeze.c as a capture
 * uses them. */
#include <elf.h>
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/rseq.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memlens/memlens.h>
#include <memlens/capture.h>
#include <memlens/snapshot.h>

#include "mltest.h"

#define ML_TEST_MIN(a, b) ((a) < (b) ? (a) : (b))
#define ML_TEST_MAX(a, b) ((a) > (b) ? (a) : (b))


static char tmpdir[256];

static void make_tmpdir(void) { mlt_mkdtemp(tmpdir, sizeof(tmpdir), "ml-dumpcap-"); }
static void rm_tmpdir(void) { mlt_rmtree(tmpdir); }

/* The child's test regions, from its "setup" answer. */
typedef struct regions {
	uint64_t magic, runtime_str, heap_str, sparse, sparse_size, dontdump, shared, memfd, thp, guard;
} regions;

static mlt_child *dumpee(regions *r, int threads)
{
	mlt_child *c = mlt_spawn("ml_dumpee", NULL);
	const char *s = mlt_cmd_ok(c, "setup");
	r->magic = mlt_kv(s, "magic");
	r->runtime_str = mlt_kv(s, "runtime_str");
	r->heap_str = mlt_kv(s, "heap_str");
	r->sparse = mlt_kv(s, "sparse");
	r->sparse_size = mlt_kv(s, "sparse_size");
	r->dontdump = mlt_kv(s, "dontdump");
	r->shared = mlt_kv(s, "shared");
	r->memfd = mlt_kv(s, "memfd");
	r->thp = mlt_kv(s, "thp");
	r->guard = mlt_kv(s, "guard");
	if (threads)
		mlt_cmd_ok(c, "threads %d", threads);
	return c;
}

static int capture_codec(pid_t pid, const char *path, bool elf, int codec, ml_capture_result *res)
{
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(pid, &p), 0);
	ML_OPTS(ml_capture_opts, o, .elf = elf, .codec = codec);
	int r = ml_capture(p, path, &o, res);
	ml_proc_free(p);
	return r;
}

static int capture(pid_t pid, const char *path, bool elf, ml_capture_result *res)
{
	return capture_codec(pid, path, elf, 0, res);
}

/* The codecs the byte-equality test runs with (the default first). */
static const int codecs[] = { 0, ML_SNAPSHOT_CODEC_ZSTD, ML_SNAPSHOT_CODEC_ZLIB };

/* Reads the whole of @path (fails the test if it cannot). */
static unsigned char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	struct stat st;
	ck_assert_int_eq(fstat(fd, &st), 0);
	unsigned char *b = malloc((size_t)st.st_size + 1);
	ck_assert_ptr_nonnull(b);
	size_t n = 0;
	while (n < (size_t)st.st_size) {
		ssize_t k = read(fd, b + n, (size_t)st.st_size - n);
		ck_assert_int_gt(k, 0);
		n += (size_t)k;
	}
	close(fd);
	*len = n;
	return b;
}

/* The PT_LOAD segments of an ELF core in memory, and its PT_NOTE. */
typedef struct load { uint64_t va, filesz, memsz, off; } load;

static size_t loads_of(const unsigned char *d, load *out, size_t max, const unsigned char **notes, size_t *nlen)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)d;
	size_t n = 0;
	for (int i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(d + eh->e_phoff + (size_t)i * eh->e_phentsize);
		if (ph->p_type == PT_LOAD && n < max)
			out[n++] = (load){ ph->p_vaddr, ph->p_filesz, ph->p_memsz, ph->p_offset };
		if (ph->p_type == PT_NOTE) {
			*notes = d + ph->p_offset;
			*nlen = ph->p_filesz;
		}
	}
	return n;
}

/* Zeroes the four CPU times of every NT_PRSTATUS note of an ELF core in memory: a thread
 * can be charged a clock tick between two captures (the freeze itself runs a little kernel
 * code in each thread), and nothing else in the core may differ. Returns how many notes. */
static size_t mask_prstatus_times(unsigned char *b, size_t len)
{
	const unsigned char *notes = NULL;
	size_t nlen = 0, n = 0;
	loads_of(b, NULL, 0, &notes, &nlen);
	ck_assert_ptr_nonnull(notes);
	size_t base = (size_t)(notes - b);
	ck_assert_uint_le(base + nlen, len);
	for (size_t o = base; o + 12 <= base + nlen;) {
		uint32_t h[3];
		memcpy(h, b + o, 12);
		size_t desc = o + 12 + ((h[0] + 3u) & ~3u);
		if (h[2] == NT_PRSTATUS && h[0] == 5 && !memcmp(b + o + 12, "CORE", 5) && h[1] >= 112) {
			memset(b + desc + 48, 0, 64); /* pr_utime, pr_stime, pr_cutime, pr_cstime */
			n++;
		}
		o = desc + ((h[1] + 3u) & ~3u);
	}
	return n;
}

/* Each thread's rseq area (glibc registers one per thread, at the thread pointer plus
 * __rseq_offset): the kernel itself rewrites its CPU numbers whenever the thread returns to
 * user space, as it does when a freeze ends, so those 32 bytes may differ afterwards. */
static size_t rseq_areas(const ml_snapshot *s, uint64_t *out, size_t max)
{
	size_t k = 0;
	for (size_t i = 0; i < ml_snapshot_note_count(s) && k < max; i++) {
		ml_snapshot_note nt;
		ck_assert_int_eq(ml_snapshot_note_get(s, i, &nt), 0);
		if (nt.type != NT_PRSTATUS || strcmp(nt.name, "CORE") || nt.len < 336)
			continue;
		struct user_regs_struct r;
		memcpy(&r, (const char *)nt.desc + 112, sizeof(r));
		out[k++] = r.fs_base + (uint64_t)__rseq_offset;
	}
	return k;
}

/* Zeroes @n bytes at virtual address @va of an ELF core in memory, where a PT_LOAD holds
 * them in the file. */
static void mask_va(unsigned char *b, size_t len, uint64_t va, size_t n)
{
	static load l[4096];
	const unsigned char *notes;
	size_t nlen, k = loads_of(b, l, 4096, &notes, &nlen);
	ck_assert_uint_lt(k, 4096);
	for (size_t i = 0; i < k; i++)
		if (va >= l[i].va && va + n <= l[i].va + l[i].filesz && l[i].off + (va - l[i].va) + n <= len)
			memset(b + l[i].off + (va - l[i].va), 0, n);
}

static char *run(int *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *run(int *st, const char *fmt, ...)
{
	char *cmd;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		abort();
	va_end(ap);
	char *out = mlt_run(cmd, st);
	free(cmd);
	return out;
}

/* Fails unless @out holds @want; the tool's whole output goes to stdout (a Check message is
 * limited to a few KiB). */
static void tool_says(const char *out, const char *want, const char *what)
{
	if (strstr(out, want))
		return;
	printf("---- %s: output without \"%s\":\n%s\n----\n", what, want, out);
	fflush(stdout);
	ck_abort_msg("%s: the output lacks \"%.200s\" (output printed above)", what, want);
}

START_TEST(gdb_round_trip)
{
	regions R;
	/* Without rseq the kernel writes nothing into the child's memory when it resumes, so
	 * two captures of it are byte-identical. */
	setenv("GLIBC_TUNABLES", "glibc.pthread.rseq=0", 1);
	mlt_child *c = dumpee(&R, 3);
	unsetenv("GLIBC_TUNABLES");
	/* A first freeze moves the sleeping thread into restart_syscall for good. */
	ml_proc *p0;
	ml_freeze *f0;
	ck_assert_int_eq(ml_proc_open(c->pid, &p0), 0);
	ck_assert_int_eq(ml_freeze_start(p0, NULL, &f0), 0);
	ml_freeze_free(f0);
	ml_proc_free(p0);
	mlt_wait_parked(c->pid);
	make_tmpdir();
	char core[400], snap[400], exp[400];
	snprintf(core, sizeof(core), "%s/direct.core", tmpdir);
	snprintf(snap, sizeof(snap), "%s/c.mlcore", tmpdir);
	snprintf(exp, sizeof(exp), "%s/expanded.core", tmpdir);
	ml_capture_result res;
	ck_assert_int_eq(capture(c->pid, core, true, &res), 0);
	ck_assert_uint_eq(res.threads, 4);
	mlt_wait_parked(c->pid);
	ck_assert_int_eq(capture(c->pid, snap, false, &res), 0);
	struct stat st;
	ck_assert_int_eq(stat(snap, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(stat(core, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);

	/* The compressed snapshot expands to exactly the bytes written directly. */
	ml_snapshot *s;
	ck_assert_int_eq(ml_snapshot_open(snap, &s), 0);
	ck_assert_uint_eq(ml_snapshot_thread_count(s), 4);
	ck_assert_int_eq(ml_snapshot_expand_path(s, exp, NULL, NULL), 0);
	/* (two captures: only the threads' CPU times, and the CPU numbers the kernel writes
	 * into their rseq areas when a freeze ends, may have moved between them) */
	size_t la, lb;
	unsigned char *da = slurp(core, &la), *db = slurp(exp, &lb);
	ck_assert_uint_eq(la, lb);
	ck_assert_uint_eq(mask_prstatus_times(da, la), 4);
	ck_assert_uint_eq(mask_prstatus_times(db, lb), 4);
	uint64_t rseq[8];
	size_t nrseq = rseq_areas(s, rseq, 8);
	ck_assert_uint_eq(nrseq, 4);
	for (size_t i = 0; i < nrseq; i++) {
		mask_va(da, la, rseq[i], 32);
		mask_va(db, lb, rseq[i], 32);
	}
	ml_snapshot_free(s);
	size_t d = 0;
	while (d < la && da[d] == db[d])
		d++;
	ck_assert_msg(d == la, "expanded snapshot differs from --format=elf output at offset %zu", d);
	free(da);
	free(db);
	int rc;

	char *exe = mlt_helper_path("ml_dumpee");
	char *out = run(&rc, "gdb -batch -nx -ex 'print/x dumpee_runtime_magic' -ex 'print dumpee_runtime_str' "
			"-ex 'print dumpee_heap_str' -ex 'thread apply all bt' '%s' '%s' 2>&1", exe, exp);
	char want[600];
	snprintf(want, sizeof(want), "= 0x%llx", (unsigned long long)R.magic);
	tool_says(out, want, "gdb: the run-time global");
	snprintf(want, sizeof(want), "\"runtime-string-%d\"", (int)c->pid);
	tool_says(out, want, "gdb: the run-time string");
	snprintf(want, sizeof(want), "\"heap-string-%d-ok\"", (int)c->pid);
	tool_says(out, want, "gdb: the heap string");
	tool_says(out, "dumpee_park_read", "gdb backtraces");
	tool_says(out, "dumpee_park_futex", "gdb backtraces");
	tool_says(out, "dumpee_park_sleep", "gdb backtraces");
	tool_says(out, "in main ()", "gdb backtraces");
	free(out);
	out = run(&rc, "eu-stack --core '%s' -e '%s' 2>&1", exp, exe);
	tool_says(out, rc == 0 ? "dumpee_park_futex" : "(eu-stack exit 0)", "eu-stack");
	tool_says(out, "dumpee_park_sleep", "eu-stack");
	free(out);
	/* readelf lists every note, of the snapshot itself too. */
	const char *files[] = { snap, exp };
	for (int f = 0; f < 2; f++) {
		out = run(&rc, "readelf -n '%s' 2>&1", files[f]);
		ck_assert_int_eq(rc, 0);
		int prs = 0;
		for (const char *q = out; (q = strstr(q, "CORE ")); q++)
			if (strstr(q, "NT_PRSTATUS") == strchr(q, 'N') && strchr(q, '\n') > strstr(q, "NT_PRSTATUS"))
				prs++;
		ck_assert_int_eq(prs, 4);
		static const char *const notes[] = { "NT_PRPSINFO", "NT_SIGINFO", "NT_AUXV", "NT_FILE",
						     "NT_FPREGSET", "NT_X86_XSTATE" };
		for (size_t i = 0; i < sizeof(notes) / sizeof(notes[0]); i++)
			tool_says(out, notes[i], "readelf -n");
		free(out);
	}
	free(exe);
	rm_tmpdir();
	mlt_child_free(c);
}
END_TEST

/* Present pages of the child in [a, b), counted from pagemap. */
static uint64_t present_pages(pid_t pid, uint64_t a, uint64_t b, uint64_t *first_present)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	int fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	uint64_t n = 0, e[512];
	*first_present = 0;
	for (uint64_t v = a; v < b;) {
		size_t k = (size_t)ML_TEST_MIN((b - v) / 4096, 512);
		ck_assert_int_eq(pread(fd, e, k * 8, (off_t)(v / 4096 * 8)), (ssize_t)(k * 8));
		for (size_t i = 0; i < k; i++)
			if (e[i] >> 63) {
				if (!n)
					*first_present = v + i * 4096;
				n++;
			}
		v += k * 4096;
	}
	close(fd);
	return n;
}

static long rollup_rss(pid_t pid)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	long rss = -1;
	while (fgets(buf, sizeof(buf), f))
		if (!strncmp(buf, "Rss:", 4))
			rss = strtol(buf + 4, NULL, 10);
	fclose(f);
	return rss;
}

static void status_line(pid_t pid, const char *key, char *out, size_t len)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	out[0] = '\0';
	while (fgets(buf, sizeof(buf), f))
		if (!strncmp(buf, key, strlen(key)) && buf[strlen(key)] == ':')
			memcpy(out, buf, strnlen(buf, len - 1) + 1), out[len - 1] = '\0';
	fclose(f);
}

static bool in_rseq(const uint64_t *areas, size_t n, uint64_t addr)
{
	for (size_t i = 0; i < n; i++)
		if (addr >= areas[i] && addr < areas[i] + 32)
			return true;
	return false;
}

START_TEST(bytes_equal_and_nothing_disturbed)
{
	regions R;
	mlt_child *c = dumpee(&R, 3);
	make_tmpdir();
	char snap[512];
	snprintf(snap, sizeof(snap), "%s/c.mlcore", tmpdir);
	/* The child's own view before: a checksum, Rss, page tables, signal state. */
	uint64_t sum0 = mlt_kv(mlt_cmd_ok(c, "sum"), "sum");
	long rss0 = rollup_rss(c->pid), pte0 = mlt_status_kb(c->pid, "VmPTE");
	char pnd0[128], shd0[128], blk0[128];
	status_line(c->pid, "SigPnd", pnd0, sizeof(pnd0));
	status_line(c->pid, "ShdPnd", shd0, sizeof(shd0));
	status_line(c->pid, "SigBlk", blk0, sizeof(blk0));
	uint64_t fp;
	uint64_t sparse0 = present_pages(c->pid, R.sparse, R.sparse + R.sparse_size, &fp);
	ck_assert_uint_eq(sparse0, 3);
	mlt_wait_idle(c->pid);

	ml_capture_result res;
	int codec = codecs[_i];
	ck_assert_int_eq(capture_codec(c->pid, snap, false, codec, &res), 0);

	ck_assert_uint_eq(present_pages(c->pid, R.sparse, R.sparse + R.sparse_size, &fp), 3);
	ck_assert_int_eq(rollup_rss(c->pid), rss0);
	ck_assert_int_eq(mlt_status_kb(c->pid, "VmPTE"), pte0);
	char now[128];
	status_line(c->pid, "SigPnd", now, sizeof(now));
	ck_assert_str_eq(now, pnd0);
	status_line(c->pid, "ShdPnd", now, sizeof(now));
	ck_assert_str_eq(now, shd0);
	status_line(c->pid, "SigBlk", now, sizeof(now));
	ck_assert_str_eq(now, blk0);

	/* Every stored byte equals the child's memory now (it is idle: threads parked). */
	ml_snapshot *s;
	ck_assert_int_eq(ml_snapshot_open(snap, &s), 0);
	ml_snapshot_codec want_codec = codec ? (ml_snapshot_codec)codec : ML_SNAPSHOT_CODEC_LZ4;
	ck_assert_str_eq(ml_snapshot_field(s, "codec"), ml_snapshot_codec_name(want_codec));
	size_t coded = 0;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)c->pid);
	int memfd = open(path, O_RDONLY);
	ck_assert_int_ge(memfd, 0);
	size_t ne = ml_snapshot_entry_count(s);
	uint64_t rseq[64];
	size_t nrseq = rseq_areas(s, rseq, 64);
	ck_assert_uint_eq(nrseq, 4);
	char *a = malloc(4u << 20), *b = malloc(4u << 20);
	uint64_t compared = 0;
	/* The canary as the child wrote it, byte by byte (it exists nowhere else). */
	unsigned char canary[32];
	ck_assert_int_eq(pread(memfd, canary, sizeof(canary), (off_t)R.dontdump), (ssize_t)sizeof(canary));
	for (size_t i = 0; i < sizeof(canary); i++)
		ck_assert_uint_eq(canary[i], (unsigned char)(0xa5 ^ (i * 13) ^ (unsigned)c->pid));
	bool dontdump_excluded = false, sparse_unpop = false;
	for (size_t i = 0; i < ne; i++) {
		ml_snapshot_entry e;
		ck_assert_int_eq(ml_snapshot_entry_get(s, i, &e), 0);
		if (e.addr >= R.dontdump && e.addr < R.dontdump + 4 * 4096) {
			ck_assert_int_eq(e.kind, ML_RUN_EXCLUDED);
			dontdump_excluded = true;
		}
		if (e.kind == ML_RUN_UNPOPULATED) {
			uint64_t f;
			ck_assert_msg(present_pages(c->pid, e.addr, e.addr + e.len, &f) == 0,
				      "page %#llx recorded unpopulated is present", (unsigned long long)f);
			if (e.addr >= R.sparse && e.addr < R.sparse + R.sparse_size)
				sparse_unpop = true;
		}
		if (e.kind != ML_RUN_DATA)
			continue;
		ck_assert_msg(e.codec == want_codec || e.codec == ML_SNAPSHOT_CODEC_RAW, "chunk %zu has codec %s",
			      i, ml_snapshot_codec_name(e.codec));
		coded += e.codec == want_codec;
		for (uint64_t off = 0; off < e.len; off += 4u << 20) {
			size_t n = (size_t)ML_TEST_MIN(e.len - off, (uint64_t)(4u << 20));
			ck_assert_int_eq(ml_snapshot_read(s, e.addr + off, a, n), (ssize_t)n);
			ck_assert_int_eq(pread(memfd, b, n, (off_t)(e.addr + off)), (ssize_t)n);
			if (memcmp(a, b, n)) {
				size_t d = 0;
				while (d < n && (a[d] == b[d] || in_rseq(rseq, nrseq, e.addr + off + d)))
					d++;
				if (d == n)
					continue;
				const ml_snapshot_vma *dv = ml_snapshot_vma_find(s, e.addr);
				ck_abort_msg("snapshot differs from memory at %#llx (mapping %#llx %s)",
					     (unsigned long long)(e.addr + off + d),
					     (unsigned long long)(dv ? dv->vma.start : 0), dv ? dv->vma.name : "?");
			}
			ck_assert_ptr_null(memmem(a, n, canary, sizeof(canary)));
			compared += n;
		}
	}
	ck_assert(dontdump_excluded);
	ck_assert(sparse_unpop);
	ck_assert_uint_gt(coded, 10);
	ck_assert_int_eq(ml_snapshot_verify(s, 0, NULL), 0);
	/* Data read but found all zero is stored as zero ranges: the rest is what was stored. */
	uint64_t zero = 0;
	for (size_t i = 0; i < ne; i++) {
		ml_snapshot_entry e;
		ck_assert_int_eq(ml_snapshot_entry_get(s, i, &e), 0);
		if (e.kind == ML_RUN_ZERO)
			zero += e.len;
	}
	ck_assert_uint_le(compared, res.bytes_data);
	ck_assert_uint_ge(compared + zero, res.bytes_data);
	ck_assert_uint_ge(compared, 4u << 20); /* the THP region at least */
	/* The test regions read back through the snapshot. */
	ck_assert_int_eq(ml_snapshot_read(s, R.heap_str, a, 32), 32);
	char want[64];
	snprintf(want, sizeof(want), "heap-string-%d-ok", (int)c->pid);
	ck_assert_str_eq(a, want);
	ck_assert_int_eq(ml_snapshot_read(s, R.sparse + R.sparse_size / 2, a, 16), 16);
	ck_assert_str_eq(a, "sparse-middle");
	ck_assert_int_eq(ml_snapshot_read(s, R.shared, a, 12), 12);
	ck_assert_int_eq(memcmp(a, "shared-anon-", 12), 0);
	ck_assert_int_eq(ml_snapshot_read(s, R.memfd, a, 13), 13);
	ck_assert_int_eq(memcmp(a, "memfd-mapped-", 13), 0);
	/* The sparse mapping costs 3 pages of data, the rest is recorded, not stored. */
	uint64_t kinds[ML_RUN_KIND_COUNT] = { 0 };
	for (size_t i = 0; i < ne; i++) {
		ml_snapshot_entry e;
		ck_assert_int_eq(ml_snapshot_entry_get(s, i, &e), 0);
		uint64_t lo = ML_TEST_MAX(e.addr, R.sparse), hi = ML_TEST_MIN(e.addr + e.len, R.sparse + R.sparse_size);
		if (lo < hi)
			kinds[e.kind] += hi - lo;
	}
	ck_assert_uint_eq(kinds[ML_RUN_DATA], 3 * 4096);
	ck_assert_uint_eq(kinds[ML_RUN_UNPOPULATED], R.sparse_size - 3 * 4096);
	/* The guard mapping is never touched: nothing dumped, like the kernel. */
	const ml_snapshot_vma *sv = ml_snapshot_vma_find(s, R.guard);
	ck_assert_ptr_nonnull(sv);
	ck_assert_uint_eq(sv->dump_size, 0);
	free(a);
	free(b);
	close(memfd);
	ml_snapshot_free(s);
	/* Only now talk to it again (its stdio buffers live in the heap that was compared). */
	ck_assert_uint_eq(mlt_kv(mlt_cmd_ok(c, "sum"), "sum"), sum0);
	const char *st = mlt_cmd_ok(c, "stats");
	ck_assert_uint_eq(mlt_kv(st, "eintr"), 0);
	ck_assert_uint_eq(mlt_kv(st, "cont"), 0);
	rm_tmpdir();
	mlt_child_free(c);
}
END_TEST

/* ---- the kernel's core of the same child as an independent oracle ---- */



/* The general registers of every NT_PRSTATUS, in order. */
static size_t prstatus_regs(const unsigned char *n, size_t len, struct user_regs_struct *out, pid_t *tids, size_t max)
{
	size_t o = 0, k = 0;
	while (o + 12 <= len) {
		uint32_t nsz, dsz, t;
		memcpy(&nsz, n + o, 4);
		memcpy(&dsz, n + o + 4, 4);
		memcpy(&t, n + o + 8, 4);
		size_t d = o + 12 + ((nsz + 3) & ~3u);
		if (t == NT_PRSTATUS && k < max) {
			memcpy(&out[k], n + d + 112, sizeof(out[k]));
			memcpy(&tids[k], n + d + 32, 4);
			k++;
		}
		o = d + ((dsz + 3) & ~3u);
	}
	return k;
}

START_TEST(kernel_core_agrees)
{
	char pat[256] = "";
	FILE *f = fopen("/proc/sys/kernel/core_pattern", "r");
	if (f) {
		if (!fgets(pat, sizeof(pat), f))
			pat[0] = '\0';
		fclose(f);
	}
	pat[strcspn(pat, "\n")] = '\0';
	/* A plain relative pattern puts the core in the child's cwd: no global change needed. */
	if (pat[0] == '|' || pat[0] == '/' || strchr(pat, '%'))
		mlt_skip("core_pattern is '%s': the kernel's core cannot be put in a directory of ours "
			 "without changing a global setting", pat);
	regions R;
	mlt_child *c = dumpee(&R, 3);
	make_tmpdir();
	char ours[512], theirs[512];
	snprintf(ours, sizeof(ours), "%s/ours.core", tmpdir);
	snprintf(theirs, sizeof(theirs), "%s/%s", tmpdir, pat);
	ml_capture_result res;
	ck_assert_int_eq(capture(c->pid, ours, true, &res), 0);
	ck_assert_int_eq(write(c->to_child, "crash ", 6), 6);
	ck_assert_int_eq(write(c->to_child, tmpdir, strlen(tmpdir)), (ssize_t)strlen(tmpdir));
	ck_assert_int_eq(write(c->to_child, "\n", 1), 1);
	int ws = mlt_wait(c);
	ck_assert(WIFSIGNALED(ws) && WCOREDUMP(ws));
	if (access(theirs, R_OK) != 0)
		mlt_skip("the kernel wrote no core at %s (core_pattern '%s')", theirs, pat);

	size_t la, lb, na = 0, nb = 0;
	unsigned char *a = slurp(ours, &la), *b = slurp(theirs, &lb);
	load A[256], B[256];
	const unsigned char *notes_a = NULL, *notes_b = NULL;
	size_t nla = 0, nlb = 0;
	na = loads_of(a, A, 256, &notes_a, &nla);
	nb = loads_of(b, B, 256, &notes_b, &nlb);
	ck_assert_uint_eq(na, nb);
	for (size_t i = 0; i < na; i++) {
		ck_assert_uint_eq(A[i].va, B[i].va);
		ck_assert_uint_eq(A[i].memsz, B[i].memsz);
		ck_assert_msg(A[i].filesz == B[i].filesz, "segment %#llx: filesz %llu, kernel %llu",
			      (unsigned long long)A[i].va, (unsigned long long)A[i].filesz,
			      (unsigned long long)B[i].filesz);
	}
	/* The test regions hold the same bytes in both cores; abort() only touched stacks and libc. */
	uint64_t keep[][2] = { { R.sparse, R.sparse_size }, { R.thp, 4u << 20 }, { R.shared, 16 * 4096 },
			       { R.memfd, 16 * 4096 }, { R.heap_str, 64 }, { R.runtime_str, 64 } };
	int found = 0;
	for (size_t k = 0; k < sizeof(keep) / sizeof(keep[0]); k++) {
		for (size_t i = 0; i < na; i++) {
			if (keep[k][0] < A[i].va || keep[k][0] >= A[i].va + A[i].filesz)
				continue;
			found++;
			uint64_t off = keep[k][0] - A[i].va;
			ck_assert_msg(!memcmp(a + A[i].off + off, b + B[i].off + off, keep[k][1]),
				      "region %#llx differs from the kernel's core", (unsigned long long)keep[k][0]);
		}
	}
	ck_assert_int_eq(found, 6);
	/* Same threads; the parked ones have the same registers (the main thread ran on to abort). */
	struct user_regs_struct ra[16], rb[16];
	pid_t ta[16], tb[16];
	size_t ka = prstatus_regs(notes_a, nla, ra, ta, 16), kb = prstatus_regs(notes_b, nlb, rb, tb, 16);
	ck_assert_uint_eq(ka, 4);
	ck_assert_uint_eq(kb, 4);
	for (size_t i = 0; i < ka; i++) {
		size_t j = 0;
		while (j < kb && tb[j] != ta[i])
			j++;
		ck_assert_msg(j < kb, "thread %d missing from the kernel's core", (int)ta[i]);
		if (ta[i] == c->pid)
			continue;
		ck_assert_uint_eq(ra[i].rip, rb[j].rip);
		ck_assert_uint_eq(ra[i].rsp, rb[j].rsp);
		ck_assert_uint_eq(ra[i].rbp, rb[j].rbp);
		ck_assert_uint_eq(ra[i].rbx, rb[j].rbx);
		ck_assert_uint_eq(ra[i].fs_base, rb[j].fs_base);
	}
	/* The same notes in the same order and sizes (so PT_NOTE is as long as the kernel's),
	 * and the XSAVE layout byte for byte. */
	size_t oa = 0, ob = 0, nn = 0;
	while (oa + 12 <= nla && ob + 12 <= nlb) {
		uint32_t ha[3], hb[3];
		memcpy(ha, notes_a + oa, 12);
		memcpy(hb, notes_b + ob, 12);
		ck_assert_msg(ha[2] == hb[2] && ha[0] == hb[0] && ha[1] == hb[1],
			      "note %zu: type %#x size %u, kernel type %#x size %u", nn, ha[2], ha[1], hb[2], hb[1]);
		size_t da = oa + 12 + ((ha[0] + 3) & ~3u), db = ob + 12 + ((hb[0] + 3) & ~3u);
		ck_assert_int_eq(memcmp(notes_a + oa + 12, notes_b + ob + 12, ha[0]), 0);
		if (ha[2] == 0x205)
			ck_assert_msg(!memcmp(notes_a + da, notes_b + db, ha[1]), "NT_X86_XSAVE_LAYOUT differs");
		oa = da + ((ha[1] + 3) & ~3u);
		ob = db + ((hb[1] + 3) & ~3u);
		nn++;
	}
	ck_assert_uint_eq(nla, nlb);
	free(a);
	free(b);
	rm_tmpdir();
	mlt_child_free(c);
}
END_TEST

/* ---- failures ---- */

typedef struct killer { pid_t pid; int calls; } killer;

static int kill_on_progress(void *ctx, const ml_capture_progress *p)
{
	killer *k = ctx;
	if (!p->released && k->calls++ == 0)
		kill(k->pid, SIGKILL);
	return 0;
}

static size_t dir_entries(const char *d)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", d);
	int st;
	char *o = mlt_run(cmd, &st);
	size_t n = (size_t)strtoul(o, NULL, 10);
	free(o);
	return n;
}

START_TEST(target_exits_mid_dump)
{
	regions R;
	mlt_child *c = dumpee(&R, 1);
	mlt_cmd_ok(c, "map_touch 0x8000000 4096"); /* 128 MiB, so the capture is still reading at 32 MiB */
	make_tmpdir();
	char snap[512];
	/* both formats: the raw core is written by the same workers, without compression */
	snprintf(snap, sizeof(snap), "%s/c.%s", tmpdir, _i ? "core" : "mlcore");
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	killer k = { c->pid, 0 };
	ML_OPTS(ml_capture_opts, o, .progress = kill_on_progress, .progress_ctx = &k, .elf = _i == 1);
	ml_capture_result res;
	ck_assert_int_eq(ml_capture(p, snap, &o, &res), -ESRCH);
	ck_assert_int_ge(k.calls, 1);
	ck_assert_int_eq(access(snap, F_OK), -1);
	ck_assert_uint_eq(dir_entries(tmpdir), 0);
	ml_proc_free(p);
	rm_tmpdir();
	mlt_child_free(c);
}
END_TEST

/* Once released, the target's exit no longer decides what a failure is: here it is killed
 * (and seen dead) after the release and the output path is taken before publishing, so
 * the capture fails with -EEXIST, not as if the process had exited during the capture. */
typedef struct late_killer { pid_t pid; const char *path; int calls; } late_killer;

static int kill_after_release(void *ctx, const ml_capture_progress *p)
{
	late_killer *k = ctx;
	if (p->released && k->calls++ == 0) {
		kill(k->pid, SIGKILL);
		siginfo_t si;
		waitid(P_PID, (id_t)k->pid, &si, WEXITED | WNOWAIT);
		int fd = open(k->path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
		ck_assert_int_ge(fd, 0);
		close(fd);
	}
	return 0;
}

START_TEST(failure_after_release_is_its_own)
{
	regions R;
	mlt_child *c = dumpee(&R, 0);
	make_tmpdir();
	char snap[512];
	snprintf(snap, sizeof(snap), "%s/c.mlcore", tmpdir);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	late_killer k = { c->pid, snap, 0 };
	ML_OPTS(ml_capture_opts, o, .progress = kill_after_release, .progress_ctx = &k);
	ml_capture_result res;
	int r = ml_capture(p, snap, &o, &res);
	ck_assert_msg(r == -EEXIST, "capture: %s (%s)", ml_strerror(r), ml_error_detail());
	ck_assert_int_eq(k.calls >= 1, 1);
	struct stat st;
	ck_assert_int_eq(stat(snap, &st), 0);
	ck_assert_int_eq(st.st_size, 0); /* the file made meanwhile, untouched */
	ck_assert_uint_eq(dir_entries(tmpdir), 1);
	ml_proc_free(p);
	rm_tmpdir();
	mlt_child_free(c);
}
END_TEST

START_TEST(threads_created_during_capture)
{
	regions R;
	mlt_child *c = dumpee(&R, 0);
	mlt_cmd_ok(c, "spawn_start");
	make_tmpdir();
	char snap[512];
	snprintf(snap, sizeof(snap), "%s/c.mlcore", tmpdir);
	ml_capture_result res;
	int r = capture(c->pid, snap, false, &res);
	ck_assert_msg(r == 0, "capture: %s (%s)", ml_strerror(r), ml_error_detail());
	ml_snapshot *s;
	ck_assert_int_eq(ml_snapshot_open(snap, &s), 0);
	ck_assert_uint_eq(ml_snapshot_thread_count(s), res.threads);
	ck_assert_uint_ge(res.threads, 3);
	ml_snapshot_free(s);
	ck_assert_uint_gt(mlt_kv(mlt_cmd_ok(c, "spawn_stop"), "made"), 0);
	ck_assert_uint_eq(mlt_kv(mlt_cmd_ok(c, "stats"), "eintr"), 0);
	rm_tmpdir();
	mlt_child_free(c);
}
END_TEST

/* Without a freeze, threads that exit between the listing of task/ and the reading of
 * their state are left out; the process is alive, so each capture succeeds. The churn
 * keeps several threads about to vanish in every listing. */
START_TEST(threads_exiting_during_unfrozen_capture)
{
	regions R;
	mlt_child *c = dumpee(&R, 0);
	mlt_cmd_ok(c, "churn_start 16");
	make_tmpdir();
	char snap[512];
	snprintf(snap, sizeof(snap), "%s/c.mlcore", tmpdir);
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	ML_OPTS(ml_capture_opts, o, .freeze = ML_CAPTURE_FREEZE_NONE, .overwrite = true, .threads = 1,
		.no_sha256 = true);
	/* before the fix a capture failed at the first or second try: 12 (ASan makes each slow) */
	for (int i = 0; i < 12; i++) {
		ml_capture_result res;
		int r = ml_capture(p, snap, &o, &res);
		ck_assert_msg(r == 0, "capture %d: %s (%s)", i, ml_strerror(r), ml_error_detail());
		ml_snapshot *s;
		ck_assert_int_eq(ml_snapshot_open(snap, &s), 0);
		ck_assert_uint_eq(ml_snapshot_thread_count(s), res.threads);
		ck_assert_uint_ge(res.threads, 1);
		ml_snapshot_free(s);
	}
	ml_proc_free(p);
	ck_assert_uint_gt(mlt_kv(mlt_cmd_ok(c, "churn_stop"), "made"), 0);
	rm_tmpdir();
	mlt_child_free(c);
}
END_TEST

START_TEST(output_rules)
{
	regions R;
	mlt_child *c = dumpee(&R, 0);
	make_tmpdir();
	char snap[512], link[512], victim[512];
	snprintf(snap, sizeof(snap), "%s/c.mlcore", tmpdir);
	snprintf(link, sizeof(link), "%s/link.mlcore", tmpdir);
	snprintf(victim, sizeof(victim), "%s/victim", tmpdir);
	ml_capture_result res;
	ck_assert_int_eq(capture(c->pid, snap, false, &res), 0);
	ck_assert_int_eq(capture(c->pid, snap, false, &res), -EEXIST);
	ck_assert_int_eq(symlink(victim, link), 0);
	ck_assert_int_eq(capture(c->pid, link, false, &res), -ELOOP);
	ck_assert_int_eq(access(victim, F_OK), -1);
	/* --freeze=none: the manifest says smeared. */
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open(c->pid, &p), 0);
	ML_OPTS(ml_capture_opts, o, .freeze = ML_CAPTURE_FREEZE_NONE, .overwrite = true);
	ck_assert_int_eq(ml_capture(p, snap, &o, &res), 0);
	ck_assert(res.smeared);
	ck_assert_uint_eq(res.stop_ns, 0);
	ml_proc_free(p);
	ml_snapshot *s;
	ck_assert_int_eq(ml_snapshot_open(snap, &s), 0);
	const char *m = ml_snapshot_manifest(s, NULL);
	ck_assert_ptr_nonnull(strstr(m, "\"smeared\":true"));
	ml_snapshot_free(s);
	rm_tmpdir();
	mlt_child_free(c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("capture");
	TCase *tc = tcase_create("capture");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, gdb_round_trip);
	tcase_add_loop_test(tc, bytes_equal_and_nothing_disturbed, 0, (int)(sizeof(codecs) / sizeof(codecs[0])));
	tcase_add_test(tc, kernel_core_agrees);
	tcase_add_loop_test(tc, target_exits_mid_dump, 0, 2);
	tcase_add_test(tc, failure_after_release_is_its_own);
	tcase_add_test(tc, threads_created_during_capture);
	tcase_add_test(tc, threads_exiting_during_unfrozen_capture);
	tcase_add_test(tc, output_rules);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
