/* Snapshot benchmarks and generators: synthetic files, capture of a live process, read latency, expand speed.
 *
 * Build (from the source tree, after the normal build):
 *   cc -O2 -D_GNU_SOURCE -Iinclude -Ilib -Itests/unit tests/bench/snapshot_bench.c \
 *      build/lib/libmemlens.a -lelf -lz -llz4 -lzstd -lpthread -o build/snapshot_bench
 * Commands:
 *   gen OUT [SEED [NVMA [MAXPAGES [CHUNK]]]]  synthetic snapshot with every kind of range
 *   gen-sparse OUT GIB                        one GIB GiB mapping, 1 MiB of it data (SHA-256 forced)
 *   capture PID OUT [LEVEL [CHUNK [THREADS]]] snapshot of a live process (all readable memory;
 *                                             the process keeps running), with timing
 *   reads SNAPSHOT [N [SIZE]]                 random reads inside data ranges: p50/p99/max latency
 *   expand SNAPSHOT OUT                       expand to a sparse ELF core, with timing
 *   source-reads SNAPSHOT SOURCE [N [SIZE]]   the same random reads (addresses from SNAPSHOT's
 *                                             data ranges) through ml_source_open(SOURCE): the
 *                                             snapshot itself or its gzip export
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "snapshot_model.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int die(const char *what, int r)
{
	fprintf(stderr, "%s: %s\n", what, ml_strerror(r));
	return 1;
}

static int cmd_gen(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	uint64_t seed = argc > 3 ? strtoull(argv[3], NULL, 0) : 1;
	size_t nvma = argc > 4 ? strtoul(argv[4], NULL, 0) : 8;
	size_t maxp = argc > 5 ? strtoul(argv[5], NULL, 0) : 16;
	uint32_t chunk = argc > 6 ? (uint32_t)strtoul(argv[6], NULL, 0) : 0;
	sm_model m;
	sm_build(&m, seed, nvma, maxp);
	ML_OPTS(ml_snapshot_writer_opts, o, .chunk_size = chunk, .threads = 1);
	int r = sm_write(&m, argv[2], &o, 1);
	sm_free(&m);
	return r < 0 ? die("gen", r) : 0;
}

/* one mapping of GIB GiB, never touched but for its first MiB */
static int cmd_gen_sparse(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	uint64_t size = strtoull(argv[3], NULL, 0) << 30;
	ML_OPTS(ml_snapshot_writer_opts, o, .overwrite = true, .sha256_max = UINT64_MAX);
	ml_snapshot_writer *w;
	int r = ml_snapshot_writer_open(argv[2], &o, &w);
	if (r < 0)
		return die("open", r);
	ml_snapshot_vma v = { .vma = { .start = 0x7f0000000000ull, .end = 0x7f0000000000ull + size,
				       .perms = ML_PERM_READ | ML_PERM_WRITE } };
	ml_snapshot_writer_set_mappings(w, &v, 1);
	uint8_t *mb = malloc(1 << 20);
	for (size_t i = 0; i < (1u << 20); i++)
		mb[i] = (uint8_t)sm_words[i % (sizeof(sm_words) - 1)];
	ml_snapshot_writer_add_data(w, v.vma.start, mb, 1 << 20);
	ml_snapshot_writer_add_run(w, v.vma.start + (1 << 20), size - (1 << 20), ML_RUN_UNPOPULATED);
	double t0 = now();
	r = ml_snapshot_writer_finish(w);
	printf("finish (with the SHA-256 of the %llu GiB expanded core): %.3f s\n",
	       (unsigned long long)(size >> 30), now() - t0);
	ml_snapshot_writer_free(w);
	free(mb);
	return r < 0 ? die("finish", r) : 0;
}

/* ---- capture of a live process: maps text, then every readable mapping ---- */

static int cmd_capture(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	pid_t pid = (pid_t)atoi(argv[2]);
	ML_OPTS(ml_snapshot_writer_opts, o, .level = argc > 4 ? atoi(argv[4]) : 1,
		.chunk_size = argc > 5 ? (uint32_t)strtoul(argv[5], NULL, 0) : 0,
		.threads = argc > 6 ? (unsigned)atoi(argv[6]) : 0, .overwrite = true);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return die(path, -errno);
	char *maps = NULL;
	size_t mlen = 0;
	FILE *mf = open_memstream(&maps, &mlen);
	char line[4096];
	size_t n = 0, cap = 64;
	ml_snapshot_vma *v = calloc(cap, sizeof(*v));
	while (fgets(line, sizeof(line), f)) {
		fputs(line, mf);
		unsigned long long s, e;
		char perms[8];
		if (sscanf(line, "%llx-%llx %7s", &s, &e, perms) != 3)
			continue;
		if (strstr(line, "[vsyscall]"))
			continue;
		if (n == cap)
			v = realloc(v, (cap *= 2) * sizeof(*v));
		memset(&v[n], 0, sizeof(v[n]));
		v[n].vma.start = s;
		v[n].vma.end = e;
		v[n].vma.perms = (perms[0] == 'r' ? ML_PERM_READ : 0) | (perms[1] == 'w' ? ML_PERM_WRITE : 0) |
				 (perms[2] == 'x' ? ML_PERM_EXEC : 0) | (perms[3] == 's' ? ML_PERM_SHARED : 0);
		/* like the kernel's default filter: file-backed read-only text is not dumped */
		if (strchr(line, '/') && perms[1] != 'w')
			v[n].flags = ML_SNAPSHOT_VMA_EXCLUDED;
		n++;
	}
	fclose(f);
	fclose(mf);
	double t0 = now();
	ml_snapshot_writer *w;
	int r = ml_snapshot_writer_open(argv[3], &o, &w);
	if (r < 0)
		return die("open", r);
	ml_snapshot_writer_set_mappings(w, v, n);
	ml_snapshot_writer_add_file(w, "maps", maps, mlen);
	ML_OPTS(ml_snapshot_info, info, .pid = pid, .freeze = "none", .smeared = true,
		.capture_time_ns = (int64_t)time(NULL) * 1000000000LL);
	ml_snapshot_writer_set_info(w, &info);
	uint64_t data = 0;
	for (size_t i = 0; i < n && r == 0; i++) {
		if (v[i].flags & ML_SNAPSHOT_VMA_EXCLUDED)
			continue;
		for (uint64_t a = v[i].vma.start; a < v[i].vma.end && r == 0;) {
			void *buf;
			size_t got;
			r = ml_snapshot_writer_reserve(w, a, v[i].vma.end - a, &buf, &got);
			if (r < 0)
				break;
			struct iovec l = { buf, got }, rm = { (void *)(uintptr_t)a, got };
			ssize_t k = process_vm_readv(pid, &l, 1, &rm, 1, 0);
			if (k <= 0) {
				ml_snapshot_writer_commit(w, a, 0);
				r = ml_snapshot_writer_add_run(w, a, 4096, ML_RUN_UNREADABLE);
				a += 4096;
				continue;
			}
			k &= ~(ssize_t)4095;
			if (!k) {
				ml_snapshot_writer_commit(w, a, 0);
				r = ml_snapshot_writer_add_run(w, a, 4096, ML_RUN_UNREADABLE);
				a += 4096;
				continue;
			}
			r = ml_snapshot_writer_commit(w, a, (size_t)k);
			a += (uint64_t)k;
			data += (uint64_t)k;
		}
	}
	double t1 = now();
	if (r == 0)
		r = ml_snapshot_writer_finish(w);
	double t2 = now();
	if (r < 0) {
		fprintf(stderr, "capture: %s: %s\n", ml_strerror(r), ml_error_detail());
		return 1;
	}
	ml_snapshot_writer_free(w);
	struct stat st;
	stat(argv[3], &st);
	printf("captured %.1f MiB in %.3f s (read+copy %.3f s, finish %.3f s): %.0f MB/s; file %.1f MiB, ratio %.2f:1\n",
	       (double)data / 1048576, t2 - t0, t1 - t0, t2 - t1, (double)data / 1e6 / (t2 - t0),
	       (double)st.st_size / 1048576, (double)data / (double)st.st_size);
	free(v);
	free(maps);
	return 0;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int cmd_reads(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	unsigned nreads = argc > 3 ? (unsigned)atoi(argv[3]) : 10000;
	size_t size = argc > 4 ? strtoul(argv[4], NULL, 0) : 4096;
	ml_snapshot *s;
	int r = ml_snapshot_open(argv[2], &s);
	if (r < 0)
		return die("open", r);
	size_t ne = ml_snapshot_entry_count(s);
	size_t *data = malloc(ne * sizeof(*data)), nd = 0;
	for (size_t i = 0; i < ne; i++) {
		ml_snapshot_entry e;
		ml_snapshot_entry_get(s, i, &e);
		if (e.kind == ML_RUN_DATA && e.len >= size)
			data[nd++] = i;
	}
	if (!nd)
		return die("no data chunks", -ENOENT);
	double *lat = malloc(nreads * sizeof(*lat)), *cpu = malloc(nreads * sizeof(*cpu));
	uint8_t *buf = malloc(size);
	uint64_t x = 88172645463325252ull;
	for (unsigned i = 0; i < nreads; i++) {
		ml_snapshot_entry e;
		ml_snapshot_entry_get(s, data[sm_rand(&x) % nd], &e);
		uint64_t a = e.addr + (sm_rand(&x) % (e.len - size + 1)) / 4096 * 4096;
		double t0 = now(), c0 = cpu_now();
		ssize_t k = ml_snapshot_read(s, a, buf, size);
		lat[i] = now() - t0;
		cpu[i] = cpu_now() - c0;
		if (k != (ssize_t)size)
			return die("read", (int)k);
	}
	qsort(lat, nreads, sizeof(*lat), cmp_d);
	qsort(cpu, nreads, sizeof(*cpu), cmp_d);
	printf("%u random %zu-byte reads over %zu data chunks of %u KiB: wall p50 %.3f ms, p99 %.3f ms, max %.3f ms; "
	       "CPU p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
	       nreads, size, nd, ml_snapshot_chunk_size(s) >> 10, lat[nreads / 2] * 1e3,
	       lat[(size_t)(nreads * 0.99)] * 1e3, lat[nreads - 1] * 1e3, cpu[nreads / 2] * 1e3,
	       cpu[(size_t)(nreads * 0.99)] * 1e3, cpu[nreads - 1] * 1e3);
	ml_snapshot_free(s);
	return 0;
}

static int cmd_expand(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	ml_snapshot *s;
	int r = ml_snapshot_open(argv[2], &s);
	if (r < 0)
		return die("open", r);
	ml_snapshot_stats t;
	ml_snapshot_stats_get(s, SIZE_MAX, &t);
	unlink(argv[3]);
	double t0 = now();
	ML_OPTS(ml_snapshot_expand_opts, xo, .overwrite = true);
	r = ml_snapshot_expand_path(s, argv[3], &xo, NULL);
	double t1 = now();
	if (r < 0)
		return die("expand", r);
	printf("expanded %.1f MiB (%.1f MiB of data) in %.3f s: %.0f MB/s of data, %.0f MB/s of core\n",
	       (double)ml_snapshot_expanded_size(s) / 1048576, (double)t.bytes[ML_RUN_DATA] / 1048576, t1 - t0,
	       (double)t.bytes[ML_RUN_DATA] / 1e6 / (t1 - t0), (double)ml_snapshot_expanded_size(s) / 1e6 / (t1 - t0));
	ml_snapshot_free(s);
	return 0;
}

static int cmd_source_reads(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	unsigned nreads = argc > 4 ? (unsigned)atoi(argv[4]) : 2000;
	size_t size = argc > 5 ? strtoul(argv[5], NULL, 0) : 4096;
	ml_snapshot *s;
	int r = ml_snapshot_open(argv[2], &s);
	if (r < 0)
		return die("open", r);
	ml_source *src;
	if ((r = ml_source_open(argv[3], &src)) < 0)
		return die("open source", r);
	size_t ne = ml_snapshot_entry_count(s);
	size_t *data = malloc(ne * sizeof(*data)), nd = 0;
	for (size_t i = 0; i < ne; i++) {
		ml_snapshot_entry e;
		ml_snapshot_entry_get(s, i, &e);
		if (e.kind == ML_RUN_DATA && e.len >= size)
			data[nd++] = i;
	}
	if (!nd)
		return die("no data chunks", -ENOENT);
	double *lat = malloc(nreads * sizeof(*lat)), t00 = now();
	uint8_t *buf = malloc(size);
	uint64_t x = 88172645463325252ull;
	for (unsigned i = 0; i < nreads; i++) {
		ml_snapshot_entry e;
		ml_snapshot_entry_get(s, data[sm_rand(&x) % nd], &e);
		uint64_t a = e.addr + (sm_rand(&x) % (e.len - size + 1)) / 4096 * 4096;
		double t0 = now();
		ssize_t k = ml_source_read(src, a, buf, size, 0);
		lat[i] = now() - t0;
		if (k != (ssize_t)size)
			return die("read", (int)k);
	}
	double total = now() - t00;
	qsort(lat, nreads, sizeof(*lat), cmp_d);
	printf("%s: %u random %zu-byte reads: p50 %.3f ms, p99 %.3f ms, max %.3f ms, %.0f reads/s\n", argv[3],
	       nreads, size, lat[nreads / 2] * 1e3, lat[(size_t)(nreads * 0.99)] * 1e3, lat[nreads - 1] * 1e3,
	       nreads / total);
	ml_source_free(src);
	ml_snapshot_free(s);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	if (!strcmp(argv[1], "gen"))
		return cmd_gen(argc, argv);
	if (!strcmp(argv[1], "gen-sparse"))
		return cmd_gen_sparse(argc, argv);
	if (!strcmp(argv[1], "capture"))
		return cmd_capture(argc, argv);
	if (!strcmp(argv[1], "reads"))
		return cmd_reads(argc, argv);
	if (!strcmp(argv[1], "expand"))
		return cmd_expand(argc, argv);
	if (!strcmp(argv[1], "source-reads"))
		return cmd_source_reads(argc, argv);
	fprintf(stderr, "unknown command %s\n", argv[1]);
	return 2;
}
