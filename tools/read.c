/* memlens read: hexdump (or raw bytes) of an address range of a process or snapshot, without faulting pages in. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "common/cli.h"
#include "common/json.h"

int cmd_read(int argc, char **argv);

#define CHUNK (1u << 20)

enum { OPT_RAW = 256, OPT_SWAPPED, OPT_JSON };

static const ml_opt opts[] = {
	{ "raw", OPT_RAW, 0, NULL, "write the bytes themselves to stdout" },
	{ "swapped", OPT_SWAPPED, 0, NULL, "read swapped-out pages (swaps them in; default: shown as zeros)" },
	{ "json", OPT_JSON, 0, NULL, "one JSON document: the range, the bytes read (hex) and why it stopped" },
	ML_OPT_HELP,
	ML_OPT_END,
};

static const ml_cmd cmd = {
	.name = "read",
	.usage = "[options] <PID | snapshot> <ADDR LEN | ADDR-END>",
	.summary = "Shows memory of a process or snapshot as a hexdump (like hexdump -C) or raw bytes. "
		   "Pages that were never touched, and zero pages, are shown as zeros without being "
		   "faulted in; the process is not disturbed. Reading stops at the first unmapped or "
		   "unreadable address, which is reported (exit 1). ADDR and END are hex; LEN takes "
		   "K/M/G suffixes.",
	.opts = opts,
	.min_args = 2,
	.max_args = 3,
};

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

/* hexdump -C layout; a run of identical lines collapses to one "*" line. */
typedef struct hexdump {
	unsigned char prev[16];
	bool have_prev, starred;
} hexdump;

static void hex_lines(hexdump *h, uint64_t addr, const unsigned char *p, size_t n)
{
	for (size_t off = 0; off < n; off += 16) {
		size_t k = n - off < 16 ? n - off : 16;
		const unsigned char *l = p + off;
		if (k == 16 && h->have_prev && !memcmp(l, h->prev, 16)) {
			if (!h->starred)
				fputs("*\n", stdout);
			h->starred = true;
			continue;
		}
		h->starred = false;
		printf("%016llx ", (unsigned long long)(addr + off));
		for (size_t i = 0; i < 16; i++) {
			if (i == 8)
				putchar(' ');
			if (i < k)
				printf(" %02x", l[i]);
			else
				fputs("   ", stdout);
		}
		fputs("  |", stdout);
		for (size_t i = 0; i < k; i++)
			putchar(l[i] >= 0x20 && l[i] < 0x7f ? l[i] : '.');
		fputs("|\n", stdout);
		if (k == 16) {
			memcpy(h->prev, l, 16);
			h->have_prev = true;
		} else {
			h->have_prev = false;
		}
	}
}

static bool write_all(int fd, const void *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		p = (const char *)p + w;
		n -= (size_t)w;
	}
	return true;
}

int cmd_read(int argc, char **argv)
{
	args a = { 0 };
	int first;
	int r = ml_cli_parse(&cmd, argc, argv, on_opt, &a, &first);
	if (r)
		return r > 0 ? ML_EXIT_OK : ML_EXIT_USAGE;
	const char *spec = argv[first];
	uint64_t addr, end, len;
	if (argc - first == 2) {
		if (!ml_cli_parse_range(argv[first + 1], &addr, &end) || end <= addr)
			return ml_cli_usage_error(&cmd, "bad range '%s' (want ADDR-END, hex, ADDR < END)", argv[first + 1]);
		len = end - addr;
	} else {
		if (!ml_cli_parse_addr(argv[first + 1], &addr))
			return ml_cli_usage_error(&cmd, "bad address '%s'", argv[first + 1]);
		if (!ml_cli_parse_size(argv[first + 2], &len) || !len || addr + len < addr)
			return ml_cli_usage_error(&cmd, "bad length '%s'", argv[first + 2]);
	}
	if (a.raw && a.json)
		return ml_cli_usage_error(&cmd, "--raw and --json exclude each other");
	pid_t pid = 0;
	bool is_pid = ml_cli_parse_pid(spec, &pid);
	ml_source *s;
	r = ml_cli_source_open(spec, &s);
	if (r)
		return r;
	unsigned char *buf = malloc(CHUNK);
	if (!buf) {
		ml_source_free(s);
		return ml_cli_pid_error(ml_source_pid(s), "read", -ENOMEM);
	}
	ml_json j;
	if (a.json) {
		ml_json_init(&j, stdout);
		ml_json_obj_begin(&j);
		ML_JSON_KSTR(&j, "schema", "memlens.read/1");
		ML_JSON_KI64(&j, "pid", ml_source_pid(s));
		ML_JSON_KADDR(&j, "addr", addr);
		ML_JSON_KU64(&j, "length", len);
		ml_json_key(&j, "hex");
		fputc('"', stdout); /* streamed as one JSON string of hex digits */
	}
	hexdump h = { 0 };
	uint64_t pos = addr;
	int rc = ML_EXIT_OK, err = 0;
	while (pos < addr + len) {
		size_t want = addr + len - pos < CHUNK ? (size_t)(addr + len - pos) : CHUNK;
		ssize_t n = ml_source_read(s, pos, buf, want, a.swapped ? ML_READ_SWAPPED : 0);
		if (n < 0) {
			err = (int)n;
			break;
		}
		if (a.raw) {
			if (!write_all(STDOUT_FILENO, buf, (size_t)n)) {
				err = -errno;
				break;
			}
		} else if (a.json) {
			for (ssize_t i = 0; i < n; i++)
				printf("%02x", buf[i]);
		} else {
			hex_lines(&h, pos, buf, (size_t)n);
		}
		pos += (uint64_t)n;
		if ((size_t)n < want) {
			/* a short read: why the next byte cannot be read (unmapped, unreadable, damaged) */
			ssize_t why = ml_source_read(s, pos, buf, 1, 0);
			err = why == -EFAULT || why == -EBADMSG || why == -ESRCH ? (int)why : -EIO;
			break;
		}
	}
	if (a.json) {
		fputc('"', stdout);
		j.after_key = false; /* the value was written by hand */
		ML_JSON_KU64(&j, "read", pos - addr);
		if (err) {
			ML_JSON_KADDR(&j, "stopped_at", pos);
			ML_JSON_KSTR(&j, "error", ml_strerror(err));
		}
		ml_json_obj_end(&j);
		fputc('\n', stdout);
	} else if (!a.raw && pos > addr) {
		printf("%016llx\n", (unsigned long long)pos);
	}
	fflush(stdout);
	const char *detail = err == -EBADMSG ? ml_source_error(s) : "";
	if (err && pos == addr) {
		char what[96];
		snprintf(what, sizeof(what), "cannot read memory at 0x%llx", (unsigned long long)pos);
		if (*detail)
			ml_cli_warn("%s: %s: %s", spec, what, detail);
		rc = *detail ? ML_EXIT_ERROR
		     : is_pid ? ml_cli_pid_error(pid, what, err) : ml_cli_file_error(spec, what, err);
	} else if (err == -ESRCH) {
		ml_cli_warn("pid %d: the process exited after %llu bytes, at 0x%llx: partial result", (int)pid,
			    (unsigned long long)(pos - addr), (unsigned long long)pos);
		rc = ML_EXIT_PARTIAL;
	} else if (err == -EBADMSG) {
		ml_cli_warn("%s: stopped at 0x%llx after %llu bytes: corrupt data: %s", spec, (unsigned long long)pos,
			    (unsigned long long)(pos - addr), *detail ? detail : ml_strerror(err));
		rc = ML_EXIT_PARTIAL;
	} else if (err) {
		ml_cli_warn("%s: stopped at 0x%llx after %llu bytes: %s", spec, (unsigned long long)pos,
			    (unsigned long long)(pos - addr), ml_strerror(err));
		rc = ML_EXIT_PARTIAL;
	}
	free(buf);
	ml_source_free(s);
	return rc;
}
