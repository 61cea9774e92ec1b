/* memlens read: hexdump (or raw bytes) of an address range of a process or snapshot, without faulting pages in. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "common/cli.h"
#include "common/json.h"
#include "common/select.h"

int cmd_read(int argc, char **argv);

#define CHUNK (1u << 20)

enum { OPT_RAW = 256, OPT_SWAPPED, OPT_JSON };

static const cli_opt opts[] = {
	{ "raw", OPT_RAW, 0, NULL, "write the bytes themselves to stdout (stops before bytes that are not available)" },
	{ "swapped", OPT_SWAPPED, 0, NULL, "read swapped-out pages (swaps them in; default: not available)" },
	{ "json", OPT_JSON, 0, NULL, "one JSON document: the range, the bytes read (hex), where they came from, why it stopped" },
	CLI_OPT_HELP,
	CLI_OPT_END,
};

static const cli_cmd cmd = {
	.name = "read",
	.usage = "[options] <PID | NAME | snapshot> <ADDR LEN | ADDR-END>",
	.summary = "Shows memory of a process or snapshot as a hexdump (like hexdump -C) or raw bytes, "
		   "without disturbing the process: nothing is faulted in. Pages of file mappings that "
		   "are not resident are read from the mapped file; anonymous memory never written and "
		   "zero pages are zeros; swapped-out pages, and what a snapshot left out, are not "
		   "available (shown as --). A mark after a hexdump line says where bytes that are not "
		   "the process's resident memory came from (F file, Z zero-fill, U not available), "
		   "with a legend at the end. Reading stops at the first unmapped or unreadable "
		   "address, which is reported (exit 1). ADDR and END are hex; LEN takes K/M/G suffixes.",
	.opts = opts,
	.min_args = 2,
	.max_args = 3,
};

/* Where bytes came from, as shown: memory (no mark), the file, zero-fill, not available. */
enum { SRC_MEMORY, SRC_FILE, SRC_ZERO, SRC_NA, SRC_COUNT };
static const char src_mark[SRC_COUNT] = { 0, 'F', 'Z', 'U' };
static const char *const src_name[SRC_COUNT] = { "memory", "file", "zero", "unavailable" };
static const char *const src_legend[SRC_COUNT] = {
	NULL, "F = read from the mapped file (the page is not resident)",
	"Z = zero-fill (never written, or the zero page)",
	"U = not available (swapped out, not captured, or not readable without faulting it in), shown as --",
};

static int src_of(ml_run_kind k)
{
	switch (k) {
	case ML_RUN_DATA: return SRC_MEMORY;
	case ML_RUN_FILE: return SRC_FILE;
	case ML_RUN_ZERO:
	case ML_RUN_UNPOPULATED: return SRC_ZERO;
	default: return SRC_NA;
	}
}

typedef struct args {
	bool raw, swapped, json;
} args;

static int on_opt(int key, const char *arg, void *ctx)
{
	(void)arg;
	args *a = ctx;
	switch (key) {
	case OPT_RAW: a->raw = true; break;
	case OPT_SWAPPED: a->swapped = true; break;
	case OPT_JSON: a->json = true; break;
	default: return -1;
	}
	return 0;
}

/* hexdump -C layout; a run of identical lines collapses to one "*" line. Lines holding
 * bytes that are not resident memory end with their marks. */
typedef struct hexdump {
	unsigned char line[16], src[16];   /* the line being filled */
	size_t have;
	uint64_t addr;                     /* of line[0] */
	unsigned char prev[16], prev_src[16];
	bool have_prev, starred;
	bool used[SRC_COUNT];
} hexdump;

static void hex_flush(hexdump *h)
{
	size_t k = h->have;
	const unsigned char *l = h->line, *sr = h->src;
	h->have = 0;
	if (!k)
		return;
	if (k == 16 && h->have_prev && !memcmp(l, h->prev, 16) && !memcmp(sr, h->prev_src, 16)) {
		if (!h->starred)
			fputs("*\n", stdout);
		h->starred = true;
		h->addr += 16;
		return;
	}
	h->starred = false;
	printf("%016llx ", (unsigned long long)h->addr);
	bool marks[SRC_COUNT] = { false };
	for (size_t i = 0; i < 16; i++) {
		if (i == 8)
			putchar(' ');
		if (i >= k)
			fputs("   ", stdout);
		else if (sr[i] == SRC_NA)
			fputs(" --", stdout);
		else
			printf(" %02x", l[i]);
		if (i < k)
			marks[sr[i]] = true;
	}
	fputs("  |", stdout);
	for (size_t i = 0; i < k; i++)
		putchar(sr[i] == SRC_NA ? ' ' : l[i] >= 0x20 && l[i] < 0x7f ? l[i] : '.');
	putchar('|');
	bool first = true;
	for (int m = SRC_FILE; m < SRC_COUNT; m++) {
		if (!marks[m])
			continue;
		fputs(first ? "  " : "", stdout);
		putchar(src_mark[m]);
		h->used[m] = true;
		first = false;
	}
	putchar('\n');
	if (k == 16) {
		memcpy(h->prev, l, 16);
		memcpy(h->prev_src, sr, 16);
		h->have_prev = true;
	} else {
		h->have_prev = false;
	}
	h->addr += k;
}

static void hex_bytes(hexdump *h, const unsigned char *p, const unsigned char *src, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h->line[h->have] = p[i];
		h->src[h->have] = src[i];
		if (++h->have == 16)
			hex_flush(h);
	}
}

/* Where the bytes of a JSON read came from: runs, adjacent ones of a kind merged. */
typedef struct jruns {
	struct jrun { uint64_t addr, len; int src; } *v;
	size_t n, cap;
} jruns;

static bool jruns_add(jruns *j, uint64_t addr, uint64_t len, int src)
{
	if (j->n && j->v[j->n - 1].src == src && j->v[j->n - 1].addr + j->v[j->n - 1].len == addr) {
		j->v[j->n - 1].len += len;
		return true;
	}
	if (j->n == j->cap) {
		size_t cap = j->cap ? 2 * j->cap : 16;
		struct jrun *v = realloc(j->v, cap * sizeof(*v));
		if (!v)
			return false;
		j->v = v;
		j->cap = cap;
	}
	j->v[j->n++] = (struct jrun){ addr, len, src };
	return true;
}


int cmd_read(int argc, char **argv)
{
	args a = { 0 };
	int first;
	int r = cli_parse(&cmd, argc, argv, on_opt, &a, &first);
	if (r)
		return r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	const char *spec = argv[first];
	uint64_t addr, end, len;
	if (argc - first == 2) {
		if (!cli_parse_range(argv[first + 1], &addr, &end) || end <= addr)
			return cli_usage_error(&cmd, "bad range '%s' (want ADDR-END, hex, ADDR < END)", argv[first + 1]);
		len = end - addr;
	} else {
		if (!cli_parse_addr(argv[first + 1], &addr))
			return cli_usage_error(&cmd, "bad address '%s'", argv[first + 1]);
		if (!cli_parse_size(argv[first + 2], &len) || !len)
			return cli_usage_error(&cmd, "bad length '%s'", argv[first + 2]);
		if (addr + len < addr)
			return cli_usage_error(&cmd, "0x%llx + %llu bytes runs past the end of the address space (the last byte is 0xffffffffffffffff)",
					       (unsigned long long)addr, (unsigned long long)len);
	}
	if (a.raw && a.json)
		return cli_usage_error(&cmd, "--raw and --json exclude each other");
	char pidbuf[16];
	spec = sel_one(&cmd, spec, pidbuf, &r); /* a NAME must name one process */
	if (!spec)
		return r;
	pid_t pid = 0;
	bool is_pid = cli_parse_pid(spec, &pid);
	ml_source *s;
	r = cli_source_open(spec, &s);
	if (r)
		return r;
	unsigned char *buf = malloc(CHUNK), *src = malloc(CHUNK);
	if (!buf || !src) {
		pid_t spid = ml_source_pid(s);
		free(buf);
		free(src);
		ml_source_free(s);
		return cli_pid_error(spid, "read", -ENOMEM);
	}
	json_writer j;
	if (a.json) {
		json_init(&j, stdout);
		json_obj_begin(&j);
		JSON_KSTR(&j, "schema", "memlens.read/1");
		JSON_KI64(&j, "pid", ml_source_pid(s));
		JSON_KADDR(&j, "addr", addr);
		JSON_KU64(&j, "length", len);
		json_key(&j, "hex");
		fputc('"', stdout); /* streamed as one JSON string: two hex digits a byte, "--" not available */
	}
	hexdump h = { .addr = addr };
	jruns jr = { 0 };
	ml_run runs[CHUNK / 4096 + 8];
	uint64_t pos = addr;
	int rc = CLI_EXIT_OK, err = 0;
	ml_run_kind na_kind = ML_RUN_DATA; /* --raw: why it stopped before bytes not available */
	bool oom = false;
	while (pos < addr + len) {
		size_t want = addr + len - pos < CHUNK ? (size_t)(addr + len - pos) : CHUNK, nr = 0;
		ssize_t n = ml_source_read_runs(s, pos, buf, want, a.swapped ? ML_READ_SWAPPED : 0, runs,
						(sizeof(runs) / sizeof(runs[0])), &nr);
		if (n < 0) {
			err = (int)n;
			break;
		}
		for (size_t i = 0; i < nr; i++) {
			int sk = src_of(runs[i].kind);
			if (a.raw && sk == SRC_NA) { /* raw bytes cannot say "not available": stop there */
				n = (ssize_t)(runs[i].start - pos);
				na_kind = runs[i].kind;
				break;
			}
			memset(src + (runs[i].start - pos), sk, (size_t)(runs[i].end - runs[i].start));
			if (a.json && !jruns_add(&jr, runs[i].start, runs[i].end - runs[i].start, sk))
				oom = true;
		}
		if (oom) {
			err = -ENOMEM;
			break;
		}
		if (a.raw) {
			if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
				break; /* a write error, not a read error: reported at exit */
		} else if (a.json) {
			for (ssize_t i = 0; i < n; i++)
				src[i] == SRC_NA ? (void)fputs("--", stdout) : (void)printf("%02x", buf[i]);
		} else {
			hex_bytes(&h, buf, src, (size_t)n);
		}
		pos += (uint64_t)n;
		if (na_kind != ML_RUN_DATA)
			break;
		if ((size_t)n < want && nr < (sizeof(runs) / sizeof(runs[0]))) {
			/* a short read: why the next byte cannot be read (unmapped, unreadable, damaged) */
			ssize_t why = ml_source_read(s, pos, buf, 1, 0);
			err = why == -EFAULT || why == -EBADMSG || why == -ESRCH ? (int)why : -EIO;
			break;
		}
	}
	if (a.json) {
		fputc('"', stdout);
		j.after_key = false; /* the value was written by hand */
		JSON_KU64(&j, "read", pos - addr);
		json_key(&j, "runs");
		json_arr_begin(&j);
		for (size_t i = 0; i < jr.n; i++) {
			json_obj_begin(&j);
			JSON_KADDR(&j, "addr", jr.v[i].addr);
			JSON_KU64(&j, "length", jr.v[i].len);
			JSON_KSTR(&j, "kind", src_name[jr.v[i].src]);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		if (err) {
			JSON_KADDR(&j, "stopped_at", pos);
			JSON_KSTR(&j, "error", ml_strerror(err));
		}
		json_obj_end(&j);
		fputc('\n', stdout);
	} else if (!a.raw && pos > addr) {
		hex_flush(&h);
		printf("%016llx\n", (unsigned long long)pos);
		bool any = false;
		for (int m = SRC_FILE; m < SRC_COUNT; m++)
			if (h.used[m]) {
				printf("%s%s", any ? ", " : "marks: ", src_legend[m]);
				any = true;
			}
		if (any)
			putchar('\n');
	}
	fflush(stdout);
	/* a file source says which part and why (corrupt, not captured, truncated) */
	const char *detail = err == -EBADMSG || (!is_pid && err == -EIO) ? ml_error_detail() : "";
	if (err && pos == addr) {
		char what[96];
		snprintf(what, sizeof(what), "cannot read memory at 0x%llx", (unsigned long long)pos);
		if (*detail)
			cli_warn("%s: %s: %s", spec, what, detail);
		rc = *detail ? CLI_EXIT_ERROR
		     : is_pid ? cli_pid_error(pid, what, err) : cli_file_error(spec, what, err);
	} else if (err == -ESRCH) {
		cli_warn("pid %d: the process exited after %llu bytes, at 0x%llx: partial result", (int)pid,
			 (unsigned long long)(pos - addr), (unsigned long long)pos);
		rc = CLI_EXIT_PARTIAL;
	} else if (err == -EBADMSG) {
		cli_warn("%s: stopped at 0x%llx after %llu bytes: corrupt data: %s", spec, (unsigned long long)pos,
			 (unsigned long long)(pos - addr), *detail ? detail : ml_strerror(err));
		rc = CLI_EXIT_PARTIAL;
	} else if (err) {
		cli_warn("%s: stopped at 0x%llx after %llu bytes: %s", spec, (unsigned long long)pos,
			 (unsigned long long)(pos - addr), ml_strerror(err));
		rc = CLI_EXIT_PARTIAL;
	} else if (na_kind != ML_RUN_DATA) {
		cli_warn("%s: stopped at 0x%llx after %llu bytes: the bytes there are not available (%s)", spec,
			 (unsigned long long)pos, (unsigned long long)(pos - addr),
			 na_kind == ML_RUN_SWAPPED ? "swapped out; --swapped reads them, swapping them in"
			 : is_pid ? "not resident, and not readable without faulting them in"
				     : "not captured");
		rc = CLI_EXIT_PARTIAL;
	}
	free(jr.v);
	free(src);
	free(buf);
	if (rc == CLI_EXIT_OK && ml_source_partial(s))
		rc = CLI_EXIT_PARTIAL; /* an incomplete core: said when opened */
	ml_source_free(s);
	return rc;
}
