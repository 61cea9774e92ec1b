/* memlens dump: capture a live process into a snapshot file (or a plain ELF core). */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <memlens/memlens.h>
#include <memlens/capture.h>

#include "common/cli.h"
#include "common/json.h"
#include "common/select.h"

enum {
	OPT_FREEZE = 256, OPT_FORMAT, OPT_FILTER, OPT_DONTDUMP, OPT_SWAPPED, OPT_FORCE, OPT_MAXBUF,
	OPT_CHUNK, OPT_CODEC, OPT_LEVEL, OPT_COMPRESS, OPT_NO_DIGEST, OPT_THREADS, OPT_TIMEOUT, OPT_JSON, OPT_BYTES, OPT_PROGRESS,
};

static const cli_opt opts[] = {
	{ "output", 'o', 1, "FILE", "write to FILE (default memlens-PID-TIME.mlcore, or .core with --format=elf)" },
	{ "freeze", OPT_FREEZE, 1, "MODE", "ptrace (the default: every thread held with PTRACE_SEIZE until its memory is read, no SIGSTOP), cow (held only to fork a copy that is read while it runs; see memlens-dump(1) for its hazards), auto (cow where it can fork, else ptrace) or none (read while it runs; marked smeared)" },
	{ "format", OPT_FORMAT, 1, "FMT", "mlcore (default: compressed, seekable) or elf (the plain core gdb loads)" },
	{ "filter", OPT_FILTER, 1, "HEX", "coredump_filter bits to apply instead of the process's own" },
	{ "include-dontdump", OPT_DONTDUMP, 0, NULL, "also capture mappings marked MADV_DONTDUMP" },
	{ "read-swapped", OPT_SWAPPED, 0, NULL, "read swapped-out pages (swaps them in); default: recorded as excluded" },
	{ "force", 'f', 0, NULL, "replace an existing regular file (never a symlink, directory, device or FIFO)" },
	{ "max-buffer", OPT_MAXBUF, 1, "SIZE", "memory for captured data waiting to be compressed (default 64M, whatever the target's size); with --freeze=ptrace the target is released once all is read or buffered, so more shortens its stop (never beyond half of MemAvailable or of memlens's cgroup headroom)" },
	{ "chunk-size", OPT_CHUNK, 1, "SIZE", "compression chunk size, 64K-4M (default 256K)" },
	{ "codec", OPT_CODEC, 1, "NAME", "chunk compression: lz4 (default, fastest), zstd (about 1.7x smaller, 2.5x the CPU) or zlib" },
	{ "level", OPT_LEVEL, 1, "N", "compression level (default 1): lz4 1-12, zstd 1-22, zlib 1-9" },
	{ "compress", OPT_COMPRESS, 1, "WHEN", "auto (the default unless --codec or --level is given: a chunk is stored raw while the compression threads hold the capture back and the output keeps up), always (every chunk that shrinks) or never (all raw)" },
	{ "no-digest", OPT_NO_DIGEST, 0, NULL, "do not compute the SHA-256 of the expanded core (by default computed when it is at most 1 GiB, in a pass over the data after the process is released: about 0.6 s per GB)" },
	{ "threads", OPT_THREADS, 1, "N", "compression threads (default: online CPUs)" },
	{ "timeout", OPT_TIMEOUT, 1, "DURATION", "how long to wait for every thread to stop (default 5s)" },
	{ "progress", OPT_PROGRESS, 0, NULL, "show progress on stderr even when it is not a terminal" },
	{ "json", OPT_JSON, 0, NULL, "print the summary as JSON (schema memlens.dump/1)" },
	{ "bytes", OPT_BYTES, 0, NULL, "exact byte counts in the summary (the default when not on a terminal)" },
	{ "quiet", 'q', 0, NULL, "no summary, no progress" },
	CLI_OPT_HELP,
	CLI_OPT_END,
};

static const cli_cmd cmd = {
	"dump", "[options] <PID | NAME>",
	"Captures the memory, registers and mappings of a running process into a snapshot file, "
	"like gcore but without SIGSTOP, reading only pages that exist (nothing is faulted in), "
	"honouring coredump_filter and MADV_DONTDUMP, and releasing the process as soon as its "
	"memory has been read. 'memlens core expand' turns the snapshot into the ELF core gdb loads.",
	opts, 1, 1,
};

typedef struct dump_args {
	const char *output;
	ml_capture_opts co;
	bool json, bytes, quiet, progress;
	bool codec_given, compress_given;
} dump_args;

static int on_opt(int key, const char *arg, void *ctx)
{
	dump_args *a = ctx;
	uint64_t v;
	switch (key) {
	case 'o':
		a->output = arg;
		break;
	case OPT_FREEZE:
		a->co.cow_fallback = false;
		if (!strcmp(arg, "ptrace"))
			a->co.freeze = ML_CAPTURE_FREEZE_PTRACE;
		else if (!strcmp(arg, "none"))
			a->co.freeze = ML_CAPTURE_FREEZE_NONE;
		else if (!strcmp(arg, "cow"))
			a->co.freeze = ML_CAPTURE_FREEZE_COW;
		else if (!strcmp(arg, "auto"))
			a->co.freeze = ML_CAPTURE_FREEZE_COW, a->co.cow_fallback = true;
		else
			return cli_usage_error(&cmd, "--freeze must be auto, cow, ptrace or none, not '%s'", arg), -1;
		break;
	case OPT_FORMAT:
		if (!strcmp(arg, "mlcore"))
			a->co.elf = false;
		else if (!strcmp(arg, "elf"))
			a->co.elf = true;
		else
			return cli_usage_error(&cmd, "--format must be mlcore or elf, not '%s'", arg), -1;
		break;
	case OPT_FILTER: {
		char *e;
		errno = 0;
		v = strtoull(arg, &e, 16);
		if (!*arg || *e || errno || v > 0x1ff)
			return cli_usage_error(&cmd, "--filter takes hex coredump_filter bits (0-1ff), not '%s'", arg), -1;
		a->co.has_filter = true;
		a->co.filter = v;
		break;
	}
	case OPT_DONTDUMP:
		a->co.include_dontdump = true;
		break;
	case OPT_SWAPPED:
		a->co.read_swapped = true;
		break;
	case 'f':
		a->co.overwrite = true;
		break;
	case OPT_MAXBUF:
		if (!cli_parse_size(arg, &v) || v == 0)
			return cli_usage_error(&cmd, "bad --max-buffer '%s'", arg), -1;
		a->co.max_buffer = v;
		break;
	case OPT_CHUNK:
		if (!cli_parse_size(arg, &v) || v < (64u << 10) || v > (4u << 20) || v % 4096)
			return cli_usage_error(&cmd, "--chunk-size must be a multiple of 4K in 64K-4M, not '%s'", arg), -1;
		a->co.chunk_size = (uint32_t)v;
		break;
	case OPT_CODEC:
		if (!strcmp(arg, "lz4"))
			a->co.codec = ML_SNAPSHOT_CODEC_LZ4;
		else if (!strcmp(arg, "zstd"))
			a->co.codec = ML_SNAPSHOT_CODEC_ZSTD;
		else if (!strcmp(arg, "zlib"))
			a->co.codec = ML_SNAPSHOT_CODEC_ZLIB;
		else
			return cli_usage_error(&cmd, "--codec must be lz4, zstd or zlib, not '%s'", arg), -1;
		a->codec_given = true;
		break;
	case OPT_LEVEL:
		if (!cli_parse_size(arg, &v) || v < 1 || v > 22)
			return cli_usage_error(&cmd, "--level must be 1-12 with lz4, 1-22 with zstd, 1-9 with zlib, not '%s'", arg), -1;
		a->co.level = (int)v;
		a->codec_given = true;
		break;
	case OPT_COMPRESS:
		if (!strcmp(arg, "auto"))
			a->co.compress = ML_SNAPSHOT_COMPRESS_AUTO;
		else if (!strcmp(arg, "always"))
			a->co.compress = ML_SNAPSHOT_COMPRESS_ALWAYS;
		else if (!strcmp(arg, "never"))
			a->co.compress = ML_SNAPSHOT_COMPRESS_NEVER;
		else
			return cli_usage_error(&cmd, "--compress must be auto, always or never, not '%s'", arg), -1;
		a->compress_given = true;
		break;
	case OPT_THREADS:
		if (!cli_parse_size(arg, &v) || v < 1 || v > 64)
			return cli_usage_error(&cmd, "--threads must be 1-64, not '%s'", arg), -1;
		a->co.threads = (unsigned)v;
		break;
	case OPT_TIMEOUT:
		if (!cli_parse_duration(arg, &v) || v == 0)
			return cli_usage_error(&cmd, "bad --timeout '%s'", arg), -1;
		a->co.freeze_timeout_ns = v;
		break;
	case OPT_NO_DIGEST:
		a->co.no_sha256 = true;
		break;
	case OPT_JSON:
		a->json = true;
		break;
	case OPT_BYTES:
		a->bytes = true;
		break;
	case OPT_PROGRESS:
		a->progress = true;
		break;
	case 'q':
		a->quiet = true;
		break;
	}
	return 0;
}

typedef struct prog_ctx {
	bool human;
	bool shown;
	struct timespec start;
} prog_ctx;

static double since(const struct timespec *t)
{
	struct timespec n;
	clock_gettime(CLOCK_MONOTONIC, &n);
	return (double)(n.tv_sec - t->tv_sec) + (double)(n.tv_nsec - t->tv_nsec) / 1e9;
}

static int on_progress(void *ctx, const ml_capture_progress *p)
{
	prog_ctx *pc = ctx;
	/* While the target is held, a line is written only if stderr takes it now: a paused
	 * terminal (^S) or an unread pipe must never keep the target stopped. */
	struct pollfd pf = { .fd = STDERR_FILENO, .events = POLLOUT };
	if (!p->released && (poll(&pf, 1, 0) != 1 || !(pf.revents & POLLOUT)))
		return 0;
	char a[32], b[32], d[32], e[32];
	double el = since(&pc->start), frac = p->bytes_total ? (double)p->bytes_scanned / (double)p->bytes_total : 1;
	double ratio = p->bytes_stored ? (double)p->bytes_done / (double)p->bytes_stored : 0;
	fprintf(stderr, "\rmemlens dump: scanned %s/%s, read %s, written %s, ratio %.1fx, %s ",
		cli_fmt_size(a, p->bytes_scanned, true), cli_fmt_size(b, p->bytes_total, true),
		cli_fmt_size(d, p->bytes_read, true), cli_fmt_size(e, p->bytes_stored, true), ratio,
		p->released ? "released" : "holding");
	if (frac > 0.01 && frac < 1)
		fprintf(stderr, "ETA %.1fs ", el / frac - el);
	fflush(stderr);
	pc->shown = true;
	return 0;
}

static void default_name(char *buf, size_t len, pid_t pid, bool elf)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	char ts[32];
	strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(buf, len, "memlens-%d-%s.%s", (int)pid, ts, elf ? "core" : "mlcore");
}

static double ms(uint64_t ns) { return (double)ns / 1e6; }

/* memlens's own memory stays within a fixed budget whatever the target's size: a 16 GiB
 * target must not push the host or a cgroup into the OOM killer. With copy-on-write (the
 * default) the target runs while the budget drains, so a small one costs no stop time. */
#define DEFAULT_MAX_BUFFER (64ull << 20)

int cmd_dump(int argc, char **argv);
int cmd_dump(int argc, char **argv)
{
	dump_args a;
	memset(&a, 0, sizeof(a));
	a.co.sz = sizeof(a.co);
	a.co.max_buffer = DEFAULT_MAX_BUFFER;
	a.co.freeze = ML_CAPTURE_FREEZE_PTRACE;
	int first;
	int r = cli_parse(&cmd, argc, argv, on_opt, &a, &first);
	if (r)
		return r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	pid_t pid;
	if (!a.co.codec)
		a.co.codec = ML_SNAPSHOT_CODEC_LZ4;
	/* a codec or level asked for is a size asked for: compress every chunk then */
	if (!a.compress_given)
		a.co.compress = a.codec_given || a.co.elf ? ML_SNAPSHOT_COMPRESS_ALWAYS : ML_SNAPSHOT_COMPRESS_AUTO;
	if (a.co.elf && a.compress_given)
		return cli_usage_error(&cmd, "--compress applies to --format=mlcore (an ELF core is never compressed)");
	int maxlevel = a.co.codec == ML_SNAPSHOT_CODEC_ZLIB ? 9 : a.co.codec == ML_SNAPSHOT_CODEC_LZ4 ? 12 : 22;
	if (a.co.level > maxlevel)
		return cli_usage_error(&cmd, "--level must be 1-%d with --codec=%s, not %d", maxlevel,
				       ml_snapshot_codec_name(a.co.codec), a.co.level);
	if (!cli_parse_pid(argv[first], &pid)) {
		/* a NAME must name exactly one process; a path is no process */
		char pidbuf[16];
		const char *spec = sel_one(&cmd, argv[first], pidbuf, &r);
		if (!spec)
			return r;
		if (!cli_parse_pid(spec, &pid))
			return cli_usage_error(&cmd, "'%s' is not a PID (dump captures a running process)", argv[first]);
	}

	char namebuf[128];
	const char *out = a.output;
	if (out && !*out)
		return cli_usage_error(&cmd, "-o needs a file name, not an empty string");
	if (out && !strcmp(out, "-"))
		return cli_usage_error(&cmd, "-o - is not supported: a snapshot is written in place and "
				       "published whole, never streamed; write a file, then 'memlens core "
				       "expand -o - FILE' streams the ELF core");
	if (!out) {
		default_name(namebuf, sizeof(namebuf), pid, a.co.elf);
		out = namebuf;
	}
	/* Refuse early, before the process is touched. */
	if ((r = cli_output_check(out, a.co.overwrite)))
		return r;

	ml_proc *p;
	r = ml_proc_open(pid, &p);
	if (r < 0)
		return cli_pid_error(pid, "cannot open the process", r);

	prog_ctx pc = { .human = true };
	clock_gettime(CLOCK_MONOTONIC, &pc.start);
	if (!a.quiet && !a.json && (a.progress || isatty(STDERR_FILENO))) {
		a.co.progress = on_progress;
		a.co.progress_ctx = &pc;
	}
	ml_capture_result res;
	r = ml_capture(p, out, &a.co, &res);
	if (pc.shown)
		fputc('\n', stderr);
	ml_proc_free(p);
	if (r < 0) {
		const char *step = ml_error_detail();
		switch (-r) {
		case ESRCH: {
			const char *why = cli_gone_reason(pid);
			if (why)
				fprintf(stderr, "memlens: pid %d: cannot dump: %s; no file written\n", (int)pid, why);
			else
				fprintf(stderr, "memlens: pid %d: %s: no such process, or it exited during the dump; no file written\n",
					(int)pid, *step ? step : "capture");
			break;
		}
		case EPERM:
		case EACCES:
		case EROFS:
		case ENOENT:
		case ENOTDIR:
		case EISDIR:
			if (!strncmp(step, "creating the output", 19))
				fprintf(stderr, "memlens: %s: cannot create it: %s\n", out, strerror(-r));
			else if (!strncmp(step, "finishing the output", 20))
				fprintf(stderr, "memlens: %s: %s; no file written\n", out, step);
			else
				return cli_pid_error(pid, *step ? step : "cannot capture", r);
			break;
		case EBUSY:
			fprintf(stderr, "memlens: pid %d: already traced by another process (a debugger?); detach it first\n", (int)pid);
			break;
		case EEXIST:
			fprintf(stderr, "memlens: %s: %s\n", out, a.co.overwrite ?
				"appeared as something other than a regular file; not replaced" :
				"already exists (use --force to replace it)");
			break;
		case ELOOP:
			fprintf(stderr, "memlens: %s: is a symbolic link; refusing to write through it\n", out);
			break;
		case EOPNOTSUPP:
			fprintf(stderr, "memlens: pid %d: %s; --freeze=ptrace holds it for the whole read instead\n",
				(int)pid, step);
			break;
		case ELIBACC: /* the step names the library and the loader's reason */
			fprintf(stderr, "memlens: pid %d: %s; no file written\n", (int)pid, step);
			break;
		case ETIMEDOUT:
			fprintf(stderr, "memlens: pid %d: a thread did not stop in time (uninterruptible sleep?); try --timeout or --freeze=none\n", (int)pid);
			break;
		case ENOSPC:
		case EDQUOT:
			fprintf(stderr, "memlens: %s: %s: no space left on the device; nothing was written\n", out, step);
			break;
		default:
			if (!strncmp(step, "finishing the output", 20))
				fprintf(stderr, "memlens: %s: %s; no file written\n", out, step);
			else
				fprintf(stderr, "memlens: pid %d: %s: %s\n", (int)pid, *step ? step : "capture", ml_strerror(r));
			break;
		}
		return CLI_EXIT_ERROR;
	}
	/* Published, but it may not survive a crash: said before the summary, which stands. */
	int rc = CLI_EXIT_OK;
	if (r > 0) {
		fprintf(stderr, "memlens: warning: %s; it may not survive a system crash\n", ml_error_detail());
		rc = CLI_EXIT_PARTIAL;
	}

	uint64_t dumped = res.bytes_data + res.bytes_zero + res.bytes_unpopulated + res.bytes_unreadable;
	double ratio = res.file_size ? (double)(res.bytes_mapped - res.bytes_excluded) / (double)res.file_size : 0;
	if (a.json) {
		json_writer j;
		json_init(&j, stdout);
		json_obj_begin(&j);
		JSON_KSTR(&j, "schema", "memlens.dump/1");
		JSON_KI64(&j, "pid", pid);
		json_key(&j, "file");
		json_str(&j, out, strlen(out));
		JSON_KSTR(&j, "format", a.co.elf ? "elf" : "mlcore");
		if (!a.co.elf) {
			JSON_KSTR(&j, "codec", ml_snapshot_codec_name(a.co.codec));
			JSON_KSTR(&j, "compress", ml_snapshot_compress_name((ml_snapshot_compress)a.co.compress));
		}
		JSON_KSTR(&j, "freeze", res.freeze == ML_CAPTURE_FREEZE_NONE ? "none" :
					   res.freeze == ML_CAPTURE_FREEZE_COW ? "cow" : "ptrace");
		if (res.why_not_cow[0]) {
			json_key(&j, "why_not_cow");
			json_str(&j, res.why_not_cow, strlen(res.why_not_cow));
		}
		if (res.freeze == ML_CAPTURE_FREEZE_COW) {
			JSON_KU64(&j, "bytes_held", res.bytes_held);
			JSON_KU64(&j, "bytes_copied", res.bytes_copied);
			JSON_KU64(&j, "cow_headroom", res.cow_headroom);
		}
		JSON_KBOOL(&j, "smeared", res.smeared);
		JSON_KU64(&j, "stop_ns", res.stop_ns);
		JSON_KU64(&j, "read_ns", res.read_ns);
		JSON_KU64(&j, "total_ns", res.total_ns);
		JSON_KU64(&j, "threads", res.threads);
		JSON_KU64(&j, "mappings", res.mappings);
		JSON_KU64(&j, "coredump_filter", res.filter);
		JSON_KU64(&j, "bytes_mapped", res.bytes_mapped);
		JSON_KU64(&j, "bytes_dumped", dumped);
		JSON_KU64(&j, "bytes_data", res.bytes_data);
		JSON_KU64(&j, "bytes_zero", res.bytes_zero);
		JSON_KU64(&j, "bytes_unpopulated", res.bytes_unpopulated);
		JSON_KU64(&j, "bytes_excluded", res.bytes_excluded);
		JSON_KU64(&j, "bytes_unreadable", res.bytes_unreadable);
		if (!a.co.elf) {
			JSON_KU64(&j, "chunks", res.chunks);
			JSON_KU64(&j, "raw_chunks", res.raw_chunks);
			JSON_KU64(&j, "raw_to_keep_up", res.raw_to_keep_up);
		}
		JSON_KU64(&j, "file_size", res.file_size);
		JSON_KU64(&j, "disk_bytes", res.disk_bytes);
		json_key(&j, "ratio");
		json_double(&j, ratio);
		json_obj_end(&j);
		fputc('\n', stdout);
	} else if (!a.quiet) {
		bool human = !a.bytes && cli_stdout_tty();
		char s1[32], s2[32], s3[32], s4[32];
		char s5[32], unreadable[48] = "";
		if (res.bytes_unreadable)
			snprintf(unreadable, sizeof(unreadable), ", %s unreadable",
				 cli_fmt_size(s5, res.bytes_unreadable, human));
		printf("%s: pid %d, %zu threads, %zu mappings; %s captured (%s data, %s zero/unpopulated%s), "
		       "%s on disk (%.1fx); target stopped %.1f ms%s, total %.1f ms\n",
		       out, (int)pid, res.threads, res.mappings, cli_fmt_size(s1, dumped, human),
		       cli_fmt_size(s2, res.bytes_data, human),
		       cli_fmt_size(s3, res.bytes_zero + res.bytes_unpopulated, human), unreadable,
		       cli_fmt_size(s4, res.file_size, human), ratio, ms(res.stop_ns),
		       res.smeared ? " (not stopped: smeared)" : res.freeze == ML_CAPTURE_FREEZE_COW ? " to fork a copy" : "",
		       ms(res.total_ns));
		if (res.freeze == ML_CAPTURE_FREEZE_COW)
			printf("copy-on-write: %s copied while the copy was read (%s read from the target while held)\n",
			       cli_fmt_size(s1, res.bytes_copied, human), cli_fmt_size(s2, res.bytes_held, human));
		else if (res.why_not_cow[0])
			printf("held for the whole read (no copy-on-write copy: %s)\n", res.why_not_cow);
		if (res.raw_to_keep_up)
			printf("stored raw to keep up (--compress=auto): %llu of %llu data chunks; --compress=always compresses every one\n",
			       (unsigned long long)res.raw_to_keep_up, (unsigned long long)res.chunks);
	}
	return rc;
}
