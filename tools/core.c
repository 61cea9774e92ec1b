/* memlens core: look into, check, expand and export snapshot files (info, verify, expand, export). */
#include <errno.h>
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "common/cli.h"
#include "common/progress.h"
#include "common/json.h"
#include "common/table.h"

int cmd_core(int argc, char **argv);

enum { OPT_JSON = 256, OPT_BYTES, OPT_NO_MAPPINGS, OPT_QUICK, OPT_NO_SPARSE, OPT_NO_VERIFY, OPT_LEVEL,
       OPT_MEMBER, OPT_FORCE, OPT_CODEC };

typedef struct args {
	bool json, bytes, no_mappings, quick, no_sparse, no_verify, force, human;
	const char *out;
	int level;
	ml_snapshot_codec codec;
	uint64_t member;
	const struct cli_cmd *cmd;
} args;

static const cli_opt info_opts[] = {
	{ "json", OPT_JSON, 0, NULL, "one JSON document (schema memlens.core.info/1), manifest included" },
	{ "bytes", OPT_BYTES, 0, NULL, "exact byte counts instead of human sizes" },
	{ "no-mappings", OPT_NO_MAPPINGS, 0, NULL, "leave out the per-mapping table" },
	CLI_OPT_HELP,
	CLI_OPT_END,
};

static const cli_opt verify_opts[] = {
	{ "quick", OPT_QUICK, 0, NULL, "check the index and every chunk's CRC, not the expanded core's SHA-256" },
	{ "json", OPT_JSON, 0, NULL, "one JSON document (schema memlens.core.verify/1)" },
	CLI_OPT_HELP,
	CLI_OPT_END,
};

static const cli_opt expand_opts[] = {
	{ "output", 'o', 1, "CORE", "the ELF core to write ('-' for stdout); required" },
	{ "force", 'f', 0, NULL, "replace an existing regular file (never a symlink, directory, device or FIFO)" },
	{ "no-sparse", OPT_NO_SPARSE, 0, NULL, "write zeros instead of leaving holes" },
	{ "no-verify", OPT_NO_VERIFY, 0, NULL, "do not check the result against the manifest's SHA-256" },
	CLI_OPT_HELP,
	CLI_OPT_END,
};

static const cli_opt export_opts[] = {
	{ "output", 'o', 1, "FILE.gz", "the gzip file to write ('-' for stdout); required" },
	{ "force", 'f', 0, NULL, "replace an existing regular file (never a symlink, directory, device or FIFO)" },
	{ "level", OPT_LEVEL, 1, "N", "gzip level 1-9 (default 6)" },
	{ "member-size", OPT_MEMBER, 1, "SIZE", "uncompressed bytes per gzip member (default 4M)" },
	{ "no-verify", OPT_NO_VERIFY, 0, NULL, "do not check the core against the manifest's SHA-256" },
	CLI_OPT_HELP,
	CLI_OPT_END,
};

static const cli_opt import_opts[] = {
	{ "output", 'o', 1, "FILE.mlcore", "the snapshot to write; required" },
	{ "force", 'f', 0, NULL, "replace an existing output file (never a symlink)" },
	{ "codec", OPT_CODEC, 1, "NAME", "chunk compression: zstd (default), lz4 or zlib" },
	{ "level", OPT_LEVEL, 1, "N", "compression level of the codec (default 3 for zstd, 1 otherwise)" },
	CLI_OPT_HELP,
	CLI_OPT_END,
};

static const cli_cmd import_cmd = {
	.name = "core import",
	.usage = "[options] CORE -o FILE.mlcore",
	.summary = "Makes a compressed, seekable snapshot of any ELF core: the kernel's, gdb's gcore, "
		   "'memlens core expand' or 'dump --format=elf' output, plain or compressed with zstd, "
		   "LZ4, xz or gzip (as systemd-coredump stores them). Every note is kept (threads, "
		   "registers, auxv, mapped files, signal); each segment's file bytes become data, the "
		   "holes of a sparse core zero ranges, the part past p_filesz excluded. 'core expand' "
		   "of the result gives the core's memory back byte for byte. A core cut short is "
		   "imported with what it has, the rest marked unreadable (exit 1).",
	.opts = import_opts, .min_args = 1, .max_args = 1,
};

static const cli_cmd info_cmd = {
	.name = "core info",
	.usage = "[options] SNAPSHOT",
	.summary = "Shows what a snapshot holds: the process and how it was captured (manifest), the "
		   "threads, the saved /proc files, how much memory of each kind it describes (data, "
		   "zero, unpopulated, excluded, unreadable), how well it compressed, and the mappings.",
	.opts = info_opts, .min_args = 1, .max_args = 1,
};

static const cli_cmd verify_cmd = {
	.name = "core verify",
	.usage = "[options] SNAPSHOT",
	.summary = "Checks a snapshot: headers and index (checksums, order, bounds), every chunk's "
		   "compressed data (zlib, LZ4 or zstd) and CRC, and the SHA-256 of the expanded core against the manifest. "
		   "Exit 0 when intact, 2 when not (the first bad chunk is named).",
	.opts = verify_opts, .min_args = 1, .max_args = 1,
};

static const cli_cmd expand_cmd = {
	.name = "core expand",
	.usage = "[options] SNAPSHOT -o CORE",
	.summary = "Writes the plain ELF core the snapshot stands for, in the kernel's layout (notes, "
		   "one PT_LOAD per mapping, excluded mappings with no file bytes), for gdb and "
		   "elfutils. Ranges without data are holes in a sparse file, or zeros on a pipe. "
		   "The same snapshot always expands to the same bytes; the file is created mode 0600 "
		   "and appears only once complete and checked.",
	.opts = expand_opts, .min_args = 1, .max_args = 1,
};

static const cli_cmd export_cmd = {
	.name = "core export",
	.usage = "[options] SNAPSHOT -o FILE.gz",
	.summary = "Writes the expanded ELF core as a standard gzip file (zcat FILE.gz > core gives the "
		   "same bytes as 'memlens core expand'), for people without memlens. It is made of "
		   "independent gzip members, each naming its own size in an extra field, so it stays "
		   "seekable.",
	.opts = export_opts, .min_args = 1, .max_args = 1,
};

static int on_opt(int key, const char *arg, void *ctx)
{
	args *a = ctx;
	switch (key) {
	case OPT_JSON: a->json = true; break;
	case OPT_BYTES: a->bytes = true; break;
	case OPT_NO_MAPPINGS: a->no_mappings = true; break;
	case OPT_QUICK: a->quick = true; break;
	case OPT_NO_SPARSE: a->no_sparse = true; break;
	case OPT_NO_VERIFY: a->no_verify = true; break;
	case 'f': a->force = true; break;
	case 'o': a->out = arg; break;
	case OPT_CODEC:
		if (!strcmp(arg, "zstd"))
			a->codec = ML_SNAPSHOT_CODEC_ZSTD;
		else if (!strcmp(arg, "lz4"))
			a->codec = ML_SNAPSHOT_CODEC_LZ4;
		else if (!strcmp(arg, "zlib"))
			a->codec = ML_SNAPSHOT_CODEC_ZLIB;
		else {
			cli_usage_error(a->cmd, "--codec must be zstd, lz4 or zlib, not '%s'", arg);
			return -1;
		}
		break;
	case OPT_LEVEL: {
		char *end;
		long l = strtol(arg, &end, 10);
		int max = a->cmd == &import_cmd ? 22 : 9;
		if (*end || l < 1 || l > max) {
			cli_usage_error(a->cmd, "bad level '%s' (1-%d)", arg, max);
			return -1;
		}
		a->level = (int)l;
		break;
	}
	case OPT_MEMBER:
		if (!cli_parse_size(arg, &a->member) || a->member < 4096 || a->member > (256u << 20)) {
			cli_usage_error(a->cmd, "bad member size '%s' (4K to 256M)", arg);
			return -1;
		}
		break;
	default:
		return -1;
	}
	return 0;
}

static int open_snapshot(const char *path, ml_snapshot **ret)
{
	int r = ml_snapshot_open(path, ret);
	if (r < 0) {
		if (r == -EBADMSG)
			fprintf(stderr, "memlens: %s: not a valid snapshot: %s\n", path,
				*ml_error_detail() ? ml_error_detail() : ml_strerror(r));
		else
			cli_file_error(path, "cannot open snapshot", r);
		return CLI_EXIT_ERROR;
	}
	return 0;
}

static const char *sz(char buf[32], uint64_t v, const args *a)
{
	return cli_fmt_size(buf, v, a->human);
}

static const char *field(const ml_snapshot *s, const char *k)
{
	const char *v = ml_snapshot_field(s, k);
	return v ? v : "";
}

static void ratio_str(char *buf, size_t n, uint64_t num, uint64_t den)
{
	if (!den)
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, "%.2f:1", (double)num / (double)den);
}

/* ---- info ---- */

static void info_text(const ml_snapshot *s, const char *path, const args *a)
{
	char b1[32], b2[32], b3[32], b4[32], b5[32];
	ml_snapshot_stats t;
	ml_snapshot_stats_get(s, SIZE_MAX, &t);
	printf("snapshot   %s (format %u, %s on disk)\n", path, ml_snapshot_version(s),
	       sz(b1, ml_snapshot_file_size(s), a));
	printf("process    pid %d", (int)ml_snapshot_pid(s));
	if (*field(s, "comm")) {
		fputs(" (", stdout);
		cli_put_escaped(stdout, field(s, "comm"), strlen(field(s, "comm")));
		fputc(')', stdout);
	}
	if (*field(s, "exe")) {
		fputc(' ', stdout);
		cli_put_escaped(stdout, field(s, "exe"), strlen(field(s, "exe")));
	}
	putchar('\n');
	if (*field(s, "exe_build_id"))
		printf("build id   %s\n", field(s, "exe_build_id"));
	printf("captured   %s by %s, kernel %s %s\n", *field(s, "capture_time") ? field(s, "capture_time") : "(time unknown)",
	       field(s, "tool"), field(s, "kernel"), field(s, "machine"));
	/* an imported core's stop was never measured (older files say 0 for it) */
	if (*field(s, "freeze") && *field(s, "stop_ns") && strcmp(field(s, "freeze"), "core")) {
		double ms = strtod(field(s, "stop_ns"), NULL) / 1e6;
		printf("freeze     %s, target stopped %.3f ms%s\n", field(s, "freeze"), ms,
		       !strcmp(field(s, "smeared"), "true") ? " (smeared: memory read while it ran)" : "");
	}
	if (*field(s, "coredump_filter"))
		printf("filter     coredump_filter %s\n", field(s, "coredump_filter"));
	printf("threads    %zu\n", ml_snapshot_thread_count(s));
	printf("memory     data %s, zero %s, unpopulated %s, excluded %s, unreadable %s\n",
	       sz(b1, t.bytes[ML_RUN_DATA], a), sz(b2, t.bytes[ML_RUN_ZERO], a),
	       sz(b3, t.bytes[ML_RUN_UNPOPULATED], a), sz(b4, t.bytes[ML_RUN_EXCLUDED], a),
	       sz(b5, t.bytes[ML_RUN_UNREADABLE], a));
	char r1[32], r2[32];
	ratio_str(r1, sizeof(r1), t.bytes[ML_RUN_DATA], t.stored);
	ratio_str(r2, sizeof(r2), ml_snapshot_expanded_size(s), ml_snapshot_file_size(s));
	printf("stored     %s in %llu chunks (%llu raw), %s level %s, %s chunks\n", sz(b1, t.stored, a),
	       (unsigned long long)t.chunks, (unsigned long long)t.raw_chunks, field(s, "codec"), field(s, "level"),
	       sz(b2, ml_snapshot_chunk_size(s), a));
	printf("ratio      %s of data, %s of the expanded core\n", r1, r2);
	uint8_t d[32];
	char hex[65] = "not recorded";
	if (ml_snapshot_sha256(s, d) == 0)
		for (int i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", d[i]);
	printf("expanded   %s ELF core, SHA-256 %s\n", sz(b1, ml_snapshot_expanded_size(s), a), hex);
	printf("notes      %zu core notes;", ml_snapshot_note_count(s));
	size_t nf = ml_snapshot_file_count(s);
	printf(" saved /proc files:%s", nf ? "" : " none");
	for (size_t i = 0; i < nf; i++)
		printf(" %s", ml_snapshot_file_name(s, i));
	putchar('\n');
	if (a->no_mappings)
		return;
	putchar('\n');
	static const char *const hdr[] = { "START", "END", "PERM", "SIZE", "DATA", "ZERO", "UNPOP", "EXCL",
					   "UNREAD", "STORED", "NAME" };
	static const bool right[] = { false, false, false, true, true, true, true, true, true, true, false };
	table *tb = table_new(11, hdr, right);
	for (size_t i = 0; i < ml_snapshot_vma_count(s); i++) {
		const ml_snapshot_vma *v = ml_snapshot_vma_get(s, i);
		ml_snapshot_stats vs;
		ml_snapshot_stats_get(s, i, &vs);
		char c[11][48];
		snprintf(c[0], sizeof(c[0]), "%012llx", (unsigned long long)v->vma.start);
		snprintf(c[1], sizeof(c[1]), "%012llx", (unsigned long long)v->vma.end);
		snprintf(c[2], sizeof(c[2]), "%c%c%c%c", (v->vma.perms & ML_PERM_READ) ? 'r' : '-',
			 (v->vma.perms & ML_PERM_WRITE) ? 'w' : '-', (v->vma.perms & ML_PERM_EXEC) ? 'x' : '-',
			 (v->vma.perms & ML_PERM_SHARED) ? 's' : 'p');
		sz(c[3], v->vma.end - v->vma.start, a);
		sz(c[4], vs.bytes[ML_RUN_DATA], a);
		sz(c[5], vs.bytes[ML_RUN_ZERO], a);
		sz(c[6], vs.bytes[ML_RUN_UNPOPULATED], a);
		sz(c[7], vs.bytes[ML_RUN_EXCLUDED], a);
		sz(c[8], vs.bytes[ML_RUN_UNREADABLE], a);
		sz(c[9], vs.stored, a);
		/* names can hold any byte: escape them for the terminal */
		char *name = cli_vma_name(v->vma.name, v->vma.name_len, v->vma.deleted);
		const char *cells[11] = { c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], name ? name : "" };
		table_add(tb, cells);
		free(name);
	}
	table_print(tb, stdout);
	table_free(tb);
}

static void json_kinds(json_writer *j, const ml_snapshot_stats *t)
{
	json_obj_begin(j);
	JSON_KU64(j, "data", t->bytes[ML_RUN_DATA]);
	JSON_KU64(j, "zero", t->bytes[ML_RUN_ZERO]);
	JSON_KU64(j, "unpopulated", t->bytes[ML_RUN_UNPOPULATED]);
	JSON_KU64(j, "excluded", t->bytes[ML_RUN_EXCLUDED]);
	JSON_KU64(j, "unreadable", t->bytes[ML_RUN_UNREADABLE]);
	JSON_KU64(j, "stored", t->stored);
	JSON_KU64(j, "chunks", t->chunks);
	JSON_KU64(j, "raw_chunks", t->raw_chunks);
	json_obj_end(j);
}

static void info_json(const ml_snapshot *s, const char *path, const args *a)
{
	json_writer j;
	json_init(&j, stdout);
	json_obj_begin(&j);
	JSON_KSTR(&j, "schema", "memlens.core.info/1");
	JSON_KSTR(&j, "file", path);
	JSON_KU64(&j, "format_version", ml_snapshot_version(s));
	JSON_KU64(&j, "file_size", ml_snapshot_file_size(s));
	JSON_KU64(&j, "expanded_size", ml_snapshot_expanded_size(s));
	JSON_KU64(&j, "chunk_size", ml_snapshot_chunk_size(s));
	JSON_KI64(&j, "pid", ml_snapshot_pid(s));
	JSON_KU64(&j, "threads", ml_snapshot_thread_count(s));
	ml_snapshot_stats t;
	ml_snapshot_stats_get(s, SIZE_MAX, &t);
	json_key(&j, "bytes");
	json_kinds(&j, &t);
	json_key(&j, "ratio");
	json_double(&j, t.stored ? (double)t.bytes[ML_RUN_DATA] / (double)t.stored : 0);
	json_key(&j, "files");
	json_arr_begin(&j);
	for (size_t i = 0; i < ml_snapshot_file_count(s); i++)
		json_cstr(&j, ml_snapshot_file_name(s, i));
	json_arr_end(&j);
	json_key(&j, "notes");
	json_arr_begin(&j);
	for (size_t i = 0; i < ml_snapshot_note_count(s); i++) {
		ml_snapshot_note n;
		ml_snapshot_note_get(s, i, &n);
		json_obj_begin(&j);
		JSON_KSTR(&j, "owner", n.name);
		JSON_KU64(&j, "type", n.type);
		JSON_KU64(&j, "size", n.len);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	/* the manifest as the file holds it (the reader checked it is JSON) */
	size_t ml;
	const char *man = ml_snapshot_manifest(s, &ml);
	json_key(&j, "manifest");
	fwrite(man, 1, ml, stdout);
	j.after_key = false;
	if (!a->no_mappings) {
		json_key(&j, "mappings");
		json_arr_begin(&j);
		for (size_t i = 0; i < ml_snapshot_vma_count(s); i++) {
			const ml_snapshot_vma *v = ml_snapshot_vma_get(s, i);
			ml_snapshot_stats vs;
			ml_snapshot_stats_get(s, i, &vs);
			char perms[5] = { (v->vma.perms & ML_PERM_READ) ? 'r' : '-', (v->vma.perms & ML_PERM_WRITE) ? 'w' : '-',
					  (v->vma.perms & ML_PERM_EXEC) ? 'x' : '-', (v->vma.perms & ML_PERM_SHARED) ? 's' : 'p', 0 };
			json_obj_begin(&j);
			JSON_KADDR(&j, "start", v->vma.start);
			JSON_KADDR(&j, "end", v->vma.end);
			JSON_KSTR(&j, "perms", perms);
			JSON_KU64(&j, "dump_size", v->dump_size);
			JSON_KBOOL(&j, "excluded", (v->flags & ML_SNAPSHOT_VMA_EXCLUDED) != 0);
			JSON_KSTR(&j, "kind", ml_vma_kind_name(v->vma.kind));
			json_key(&j, "name");
			json_str(&j, v->vma.name, v->vma.name_len);
			JSON_KBOOL(&j, "deleted", v->vma.deleted);
			json_key(&j, "bytes");
			json_kinds(&j, &vs);
			json_obj_end(&j);
		}
		json_arr_end(&j);
	}
	json_obj_end(&j);
	putchar('\n');
}

static int core_info(int argc, char **argv)
{
	args a = { .cmd = &info_cmd };
	int first;
	int r = cli_parse(&info_cmd, argc, argv, on_opt, &a, &first);
	if (r)
		return r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	a.human = !a.bytes && cli_stdout_tty();
	ml_snapshot *s;
	if ((r = open_snapshot(argv[first], &s)))
		return r;
	if (a.json)
		info_json(s, argv[first], &a);
	else
		info_text(s, argv[first], &a);
	ml_snapshot_free(s);
	return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
}

/* ---- verify ---- */

static int core_verify(int argc, char **argv)
{
	args a = { .cmd = &verify_cmd };
	int first;
	int r = cli_parse(&verify_cmd, argc, argv, on_opt, &a, &first);
	if (r)
		return r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	const char *path = argv[first];
	char *msg = NULL;
	ml_snapshot *s = NULL;
	r = ml_snapshot_open(path, &s);
	if (r < 0)
		msg = strdup(*ml_error_detail() ? ml_error_detail() : ml_strerror(r));
	size_t bad = SIZE_MAX;
	bool sha = false, opened = r == 0;
	if (r == 0) {
		uint8_t d[32];
		sha = !a.quick && ml_snapshot_sha256(s, d) == 0;
		r = ml_snapshot_verify(s, a.quick ? 0 : ML_SNAPSHOT_VERIFY_SHA256, &bad);
		if (r < 0)
			msg = strdup(*ml_error_detail() ? ml_error_detail() : ml_strerror(r));
	}
	if (a.json) {
		json_writer j;
		json_init(&j, stdout);
		json_obj_begin(&j);
		JSON_KSTR(&j, "schema", "memlens.core.verify/1");
		JSON_KSTR(&j, "file", path);
		JSON_KBOOL(&j, "ok", r == 0);
		if (r == 0) {
			JSON_KU64(&j, "entries", ml_snapshot_entry_count(s));
			JSON_KBOOL(&j, "sha256_checked", sha);
			JSON_KBOOL(&j, "sealed", ml_snapshot_sealed(s));
		} else {
			JSON_KSTR(&j, "error", msg ? msg : ml_strerror(r));
			if (bad != SIZE_MAX)
				JSON_KU64(&j, "bad_entry", bad);
		}
		json_obj_end(&j);
		putchar('\n');
	} else if (r == 0) {
		ml_snapshot_stats t;
		ml_snapshot_stats_get(s, SIZE_MAX, &t);
		printf("%s: ok: index of %zu entries, %llu chunks checked%s\n", path, ml_snapshot_entry_count(s),
		       (unsigned long long)t.chunks,
		       sha ? ", expanded core matches the manifest's SHA-256" :
		       a.quick ? "" : " (no SHA-256 recorded)");
	}
	bool sealed = r == 0 && ml_snapshot_sealed(s);
	if (r == 0 && !sealed)
		fprintf(stderr, "memlens: %s: not sealed (written by an older memlens): the memory is checked, but "
			"the headers, notes and index only by their CRC-32s, which an edit can recompute\n", path);
	if (r == 0) {
	} else {
		fprintf(stderr, "memlens: %s: %s: %s\n", path,
			r != -EBADMSG ? "cannot verify" : opened ? "corrupt" : "not a valid snapshot",
			msg ? msg : ml_strerror(r));
	}
	free(msg);
	ml_snapshot_free(s);
	return r < 0 ? CLI_EXIT_ERROR : sealed ? CLI_EXIT_OK : CLI_EXIT_PARTIAL;
}

/* ---- expand / export ---- */

static int progress(void *ctx, uint64_t done, uint64_t total)
{
	progress_update(ctx, NULL, done, total);
	return 0;
}

static int core_write(int argc, char **argv, bool gzip)
{
	const cli_cmd *cmd = gzip ? &export_cmd : &expand_cmd;
	args a = { .cmd = cmd };
	int first;
	int r = cli_parse(cmd, argc, argv, on_opt, &a, &first);
	if (r)
		return r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if (!a.out)
		return cli_usage_error(cmd, "no output given (-o FILE, or -o - for stdout)");
	bool to_stdout = !strcmp(a.out, "-");
	if (to_stdout && isatty(STDOUT_FILENO))
		return cli_usage_error(cmd, "refusing to write a core to a terminal");
	if (!*a.out)
		return cli_usage_error(cmd, "-o needs a file name, not an empty string");
	if (!to_stdout && (r = cli_output_check(a.out, a.force)))
		return r;
	const char *path = argv[first];
	ml_snapshot *s;
	if ((r = open_snapshot(path, &s)))
		return r;
	progress_line p;
	progress_init(&p, gzip ? "core export" : "core expand", false);
	ML_OPTS(ml_snapshot_expand_opts, o, .no_sparse = a.no_sparse, .progress = progress, .progress_ctx = &p,
		.level = a.level, .member_size = a.member, .verify = !a.no_verify, .gzip = gzip,
		.overwrite = a.force);
	/* the digest is computed only where the manifest has one to check it against: hashing
	 * costs a pass over the whole expanded size, which can be terabytes of holes */
	uint8_t d[32];
	bool have_sha = !a.no_verify && ml_snapshot_sha256(s, d) == 0;
	if (to_stdout)
		r = gzip ? ml_snapshot_export_gzip(s, STDOUT_FILENO, &o, NULL) : ml_snapshot_expand(s, STDOUT_FILENO, &o, NULL);
	else
		r = ml_snapshot_expand_path(s, a.out, &o, NULL);
	progress_clear(&p);
	int rc = CLI_EXIT_OK;
	if (r < 0) {
		const char *e = ml_error_detail();
		if (r == -EEXIST)
			fprintf(stderr, "memlens: %s: %s\n", a.out, a.force ?
				"appeared as something other than a regular file; not replaced" :
				"exists (use --force to replace it)");
		else if (r == -ELOOP)
			fprintf(stderr, "memlens: %s: is a symbolic link: refusing to write through it\n", a.out);
		else if (r == -EBADMSG)
			fprintf(stderr, "memlens: %s: corrupt snapshot: %s%s\n", path, *e ? e : ml_strerror(r),
				to_stdout ? " (the output written so far is not valid)" : "; nothing was written");
		else
			fprintf(stderr, "memlens: %s: cannot write: %s\n", to_stdout ? "stdout" : a.out, ml_strerror(r));
		rc = CLI_EXIT_ERROR;
	} else if (r > 0) {
		fprintf(stderr, "memlens: warning: %s; it may not survive a system crash\n", ml_error_detail());
		rc = CLI_EXIT_PARTIAL;
	} else if (!to_stdout && isatty(STDERR_FILENO)) {
		fprintf(stderr, "memlens: wrote %s%s\n", a.out,
			have_sha ? " (its SHA-256 matches the manifest)" : "");
	}
	ml_snapshot_free(s);
	return rc;
}

/* ---- import ---- */

#define IMPORT_BUF (1u << 20)

/* The memory of one mapping: data copied, holes as zero ranges, what the core lacks
 * (cut short) as unreadable; the part past p_filesz is left out, so it becomes excluded. */
static int import_mapping(const ml_source *src, ml_snapshot_writer *w, const ml_snapshot_vma *v, uint8_t *buf)
{
	uint64_t pos = v->vma.start, end = v->vma.start + v->dump_size;
	ml_run runs[256];
	while (pos < end) {
		uint64_t next;
		ssize_t n = ml_source_runs(src, pos, end, ML_RUNS_SPLIT_ZERO, runs, 256, &next);
		if (n < 0)
			return (int)n;
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			const ml_run *r = &runs[i];
			int e = 0;
			if (r->kind == ML_RUN_DATA) {
				for (uint64_t a = r->start; a < r->end && e == 0;) {
					size_t want = (size_t)(r->end - a < IMPORT_BUF ? r->end - a : IMPORT_BUF);
					ssize_t got = ml_source_read(src, a, buf, want, ML_READ_POPULATED);
					if (got <= 0)
						return got < 0 ? (int)got : -EIO;
					e = ml_snapshot_writer_add_data(w, a, buf, (size_t)got);
					a += (uint64_t)got;
				}
			} else if (r->kind == ML_RUN_ZERO || r->kind == ML_RUN_UNREADABLE) {
				e = ml_snapshot_writer_add_run(w, r->start, r->end - r->start, r->kind);
			}
			if (e < 0)
				return e;
		}
		pos = next;
	}
	return 0;
}

static int core_import(int argc, char **argv)
{
	args a = { .cmd = &import_cmd };
	int first;
	int r = cli_parse(&import_cmd, argc, argv, on_opt, &a, &first);
	if (r)
		return r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if (!a.out)
		return cli_usage_error(&import_cmd, "no output given (-o FILE.mlcore)");
	if (!*a.out)
		return cli_usage_error(&import_cmd, "-o needs a file name, not an empty string");
	/* refused before the core is read, as dump and expand do */
	if ((r = cli_output_check(a.out, a.force)))
		return r;
	const char *path = argv[first];
	ml_snapshot *already;
	if (ml_snapshot_open(path, &already) == 0) {
		ml_snapshot_free(already);
		fprintf(stderr, "memlens: %s: already a memlens snapshot (nothing to import)\n", path);
		return CLI_EXIT_ERROR;
	}
	ml_source *src;
	if ((r = cli_source_open(path, &src)))
		return r;
	ml_core_info *ci = NULL;
	ml_maps *m = NULL;
	ml_snapshot_vma *v = NULL;
	ml_snapshot_writer *w = NULL;
	uint8_t *buf = NULL;
	char *maps_text = NULL, *auxv = NULL;
	size_t maps_len = 0, auxv_len = 0;
	const char *stage = "reading it";
	int rc = CLI_EXIT_ERROR;
	if (ml_source_get_type(src) == ML_SOURCE_LIVE) {
		fprintf(stderr, "memlens: %s: a live process: use 'memlens dump'\n", path);
		goto out;
	}
	if ((r = ml_source_core_info(src, &ci)) < 0 || (r = ml_source_maps(src, &m)) < 0) {
		stage = "reading its notes and segments";
		goto fail;
	}
	size_t n = ml_maps_count(m);
	v = calloc(n ? n : 1, sizeof(*v));
	buf = malloc(IMPORT_BUF);
	if (!v || !buf) {
		r = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		const ml_vma *mv = ml_maps_get(m, i);
		v[i].vma = *mv;
		/* the captured part: up to where the core's excluded part (past p_filesz) starts */
		uint64_t dumped = mv->end - mv->start, next;
		ml_run runs[64];
		for (uint64_t pos = mv->start; pos < mv->end;) {
			ssize_t k = ml_source_runs(src, pos, mv->end, 0, runs, 64, &next);
			if (k <= 0)
				break;
			for (ssize_t j = 0; j < k; j++)
				if (runs[j].kind == ML_RUN_EXCLUDED && runs[j].start - mv->start < dumped)
					dumped = runs[j].start - mv->start;
			pos = next;
		}
		v[i].dump_size = dumped;
		v[i].flags = dumped == 0 ? ML_SNAPSHOT_VMA_EXCLUDED :
			     dumped < mv->end - mv->start ? ML_SNAPSHOT_VMA_DUMP_SIZE : 0;
	}
	ML_OPTS(ml_snapshot_writer_opts, wo, .overwrite = a.force,
		.codec = a.codec ? a.codec : ML_SNAPSHOT_CODEC_ZSTD,
		.level = a.level ? a.level : (a.codec && a.codec != ML_SNAPSHOT_CODEC_ZSTD) ? 1 : 3);
	stage = "creating the snapshot";
	if ((r = ml_snapshot_writer_open(a.out, &wo, &w)) < 0) {
		if (r == -EEXIST)
			fprintf(stderr, "memlens: %s: %s\n", a.out, a.force ?
				"appeared as something other than a regular file; not replaced" :
				"exists (use --force to replace it)");
		else if (r == -ELOOP)
			fprintf(stderr, "memlens: %s: is a symbolic link: refusing to write through it\n", a.out);
		else
			cli_file_error(a.out, "cannot create", r);
		goto out;
	}
	stage = "writing the snapshot";
	for (size_t i = 0; i < ci->nnotes && r >= 0; i++)
		if (strcmp(ci->notes[i].name, ML_SNAPSHOT_NOTE_OWNER) != 0)
			r = ml_snapshot_writer_add_note(w, ci->notes[i].name, ci->notes[i].type, ci->notes[i].desc,
							ci->notes[i].len);
	/* the mappings as the core names them (NT_FILE), and auxv, as saved files */
	if (r >= 0 && ml_source_read_file(src, "maps", &maps_text, &maps_len) == 0)
		r = ml_snapshot_writer_add_file(w, "maps", maps_text, maps_len);
	if (r >= 0 && ml_source_read_file(src, "auxv", &auxv, &auxv_len) == 0)
		r = ml_snapshot_writer_add_file(w, "auxv", auxv, auxv_len);
	if (r >= 0) {
		/* The core says what machine its memory is of and, in its auxv, the page size; it
		 * does not say which kernel wrote it. */
		uint64_t pgsz = 0;
		ml_auxv *av = NULL;
		if (auxv && ml_auxv_parse(auxv, auxv_len, ML_AUXV_AUTO, &av) == 0) {
			if (!ml_auxv_get(av, AT_PAGESZ, &pgsz) || pgsz > UINT32_MAX)
				pgsz = 0;
			ml_auxv_free(av);
		}
		ML_OPTS(ml_snapshot_info, info, .pid = ci->pid, .comm = ci->have_prpsinfo ? ci->comm : NULL,
			.freeze = "core", .smeared = false, .kernel = "unknown", .e_machine = ci->machine,
			.page_size = (uint32_t)pgsz);
		r = ml_snapshot_writer_set_info(w, &info);
	}
	if (r >= 0)
		r = ml_snapshot_writer_set_field(w, "imported_from", path);
	if (r >= 0)
		r = ml_snapshot_writer_set_mappings(w, v, n);
	for (size_t i = 0; i < n && r >= 0; i++)
		if (v[i].dump_size)
			r = import_mapping(src, w, &v[i], buf);
	if (r >= 0)
		r = ml_snapshot_writer_finish(w);
	if (r < 0) {
		const char *e = ml_error_detail();
		fprintf(stderr, "memlens: %s: %s: %s\n", a.out, stage, *e ? e : ml_strerror(r));
		goto out;
	}
	if (r > 0)
		fprintf(stderr, "memlens: warning: %s; it may not survive a system crash\n", ml_error_detail());
	rc = ml_source_partial(src) || r > 0 ? CLI_EXIT_PARTIAL : CLI_EXIT_OK;
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "memlens: wrote %s: %zu mappings, %zu notes%s\n", a.out, n, ci->nnotes,
			ml_source_partial(src) ? " (the core is incomplete: what it lacks is marked unreadable)" : "");
	goto out;
fail:
	if (*ml_error_detail())
		fprintf(stderr, "memlens: %s: %s: %s\n", path, stage, ml_error_detail());
	else
		cli_file_error(path, stage, r);
out:
	ml_snapshot_writer_free(w);
	free(maps_text);
	free(auxv);
	free(buf);
	free(v);
	ml_maps_free(m);
	ml_core_info_free(ci);
	ml_source_free(src);
	return rc;
}

/* ---- dispatch ---- */

static void core_usage(FILE *f)
{
	fprintf(f, "usage: memlens core <info|verify|expand|export> [options] SNAPSHOT\n"
		   "       memlens core import [options] CORE -o FILE.mlcore\n\n"
		   "Snapshot files (.mlcore, written by 'memlens dump'):\n"
		   "  info     what the snapshot holds: manifest, threads, memory by kind, mappings\n"
		   "  verify   check every checksum and the index (exit 0 intact, 2 corrupt)\n"
		   "  expand   write the plain ELF core for gdb (-o CORE, or -o - for stdout)\n"
		   "  export   write the ELF core as gzip (-o FILE.gz), readable with zcat\n"
		   "  import   make a snapshot of any ELF core (kernel, gcore; plain, zstd, LZ4, xz, gzip)\n\n"
		   "'memlens core <command> --help' describes a command.\n");
}

int cmd_core(int argc, char **argv)
{
	if (argc < 2) {
		core_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	const char *sub = argv[1];
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
		core_usage(stdout);
		return CLI_EXIT_OK;
	}
	if (!strcmp(sub, "info"))
		return core_info(argc - 1, argv + 1);
	if (!strcmp(sub, "verify"))
		return core_verify(argc - 1, argv + 1);
	if (!strcmp(sub, "expand"))
		return core_write(argc - 1, argv + 1, false);
	if (!strcmp(sub, "export"))
		return core_write(argc - 1, argv + 1, true);
	if (!strcmp(sub, "import"))
		return core_import(argc - 1, argv + 1);
	fprintf(stderr, "memlens core: unknown command '%s' (see 'memlens core --help')\n", sub);
	return CLI_EXIT_USAGE;
}
