/* memlens grep: the option table, option parsing and pattern files. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grep/command.h"
enum {
	O_ENCODING = 256, O_ALL, O_RAW, O_BASE, O_HEAP, O_STACK, O_ANON, O_FILE, O_KIND, O_PERM,
	O_NAME, O_ADDR, O_SWAPPED, O_JSON, O_REDACT, O_WHERE, O_STATS, O_ENGINE, O_MAXLEN, O_RESIDENT,
};

static const cli_opt grep_opts[] = {
	{ "regexp", 'e', 1, "PATTERN", "search for PATTERN (repeatable; literal unless -E)" },
	{ "pattern-file", 'f', 1, "FILE", "read patterns from FILE, one per line" },
	{ "hex", 'x', 1, "HEX", "search for a hex byte pattern: '4d 45 ?? 4c ?5 [0-8] 2d' (repeatable)" },
	{ "fixed-strings", 'F', 0, NULL, "patterns are literal strings (the default)" },
	{ "extended-regexp", 'E', 0, NULL, "patterns are PCRE2 regular expressions" },
	{ "ignore-case", 'i', 0, NULL, "ASCII case-insensitive literals and regexes" },
	{ "encoding", O_ENCODING, 1, "ENC", "literals as ascii (default), utf16le, or both" },
	{ "pid", 'p', 1, "PID,...", "search these processes (repeatable)" },
	{ "all", O_ALL, 0, NULL, "search every process (kernel threads skipped)" },
	{ "raw", O_RAW, 0, NULL, "the files are raw memory images (one region each)" },
	{ "base", O_BASE, 1, "ADDR", "address of the first byte of a --raw image (default 0)" },
	{ "heap", O_HEAP, 0, NULL, "only [heap]" },
	{ "stack", O_STACK, 0, NULL, "only [stack]" },
	{ "anon", O_ANON, 0, NULL, "only anonymous mappings" },
	{ "file", O_FILE, 0, NULL, "only file-backed mappings" },
	{ "kind", O_KIND, 1, "KIND,...", "only mappings of these kinds (anon, file, heap, stack, shmem, ...)" },
	{ "perm", O_PERM, 1, "PERMS", "only mappings whose permissions match, e.g. rw? or r-x" },
	{ "name", O_NAME, 1, "GLOB", "only mappings whose name, or its last path component, matches GLOB ('[heap]' and '[anon]' literally)" },
	{ "addr", O_ADDR, 1, "A-B", "only the address range [A, B) (hex)" },
	{ "swapped", O_SWAPPED, 0, NULL, "also read swapped-out pages (swaps them in)" },
	{ "resident-only", O_RESIDENT, 0, NULL, "only resident memory: not the pages of file mappings that are not resident (read from the file by default)" },
	{ "jobs", 'j', 1, "N", "search with N threads (default: number of CPUs)" },
	{ "only-matching", 'o', 0, NULL, "print only the matched bytes, without surrounding text" },
	{ "count", 'c', 0, NULL, "print the number of matches per pattern" },
	{ "files-with-matches", 'l', 0, NULL, "print only the PIDs/files that match" },
	{ "quiet", 'q', 0, NULL, "print nothing; exit 0 at the first match" },
	{ "max-count", 'm', 1, "NUM", "stop after NUM matches per PID/file" },
	{ "context", 'C', 1, "N", "hexdump N bytes around each match" },
	{ "json", O_JSON, 0, NULL, "JSON Lines: one object per match, one summary per source" },
	{ "redact", O_REDACT, 0, NULL, "print where matches are (address, region, length, hash), never their bytes" },
	{ "where", O_WHERE, 0, NULL, "print each match's region details and heap chunk" },
	{ "stats", O_STATS, 0, NULL, "print a summary of what was read and skipped on stderr" },
	{ "engine", O_ENGINE, 1, "E", "auto (default), portable, or vectorscan" },
	{ "max-len", O_MAXLEN, 1, "N", "longest regex match, in bytes (default 4096)" },
	CLI_OPT_HELP,
	CLI_OPT_END,
};

const cli_cmd grep_cmd = {
	.name = "grep",
	.usage = "[options] PATTERN <PID | snapshot>...\n"
		 "       memlens grep [options] -e PATTERN... [-x HEX...] <PID | snapshot>...\n"
		 "       memlens grep [options] PATTERN -p PID,PID | --all",
	.summary = "Searches the memory of processes or snapshots for literal strings, hex byte patterns\n"
		   "and PCRE2 regular expressions. Resident pages are read, and pages of file mappings that\n"
		   "are not resident are read from the mapped file; nothing is faulted in, and the process\n"
		   "is never stopped, written or attached. Prints PID:ADDRESS:REGION+OFFSET:PATTERN: TEXT.\n"
		   "Exit status: 0 a match, 1 no match, 2 error.",
	.opts = grep_opts,
	.min_args = 0,
	.max_args = -1,
};

int grep_add_pattern(gopts *o, gp_kind k, const char *s, size_t len)
{
	upat *n = realloc(o->pats, (o->npats + 1) * sizeof(*n));
	if (!n)
		return -1;
	o->pats = n;
	char *c = malloc(len + 1);
	if (!c)
		return -1;
	memcpy(c, s, len);
	c[len] = '\0';
	o->pats[o->npats++] = (upat){ k, c, len };
	return 0;
}

static int kind_from_name(const char *s, size_t n)
{
	for (int k = 0; k < ML_VMA_KIND_COUNT; k++) {
		const char *kn = ml_vma_kind_name((ml_vma_kind)k);
		if (kn && strlen(kn) == n && !strncmp(kn, s, n))
			return k;
	}
	return -1;
}

int grep_on_opt(int key, const char *arg, void *ctx)
{
	gopts *o = ctx;
	uint64_t v;
	switch (key) {
	case 'e':
		/* the kind (literal or regex) is decided once all options are known */
		return grep_add_pattern(o, GP_LITERAL, arg, strlen(arg));
	case 'x':
		return grep_add_pattern(o, GP_HEX, arg, strlen(arg));
	case 'f': {
		const char **n = realloc(o->pattern_files, (o->nfiles + 1) * sizeof(*n));
		if (!n)
			return -1;
		o->pattern_files = n;
		n[o->nfiles++] = arg;
		return 0;
	}
	case 'F': o->regex = false; return 0;
	case 'E': o->regex = true; return 0;
	case 'i': o->so.icase = true; return 0;
	case O_ENCODING:
		if (!strcmp(arg, "ascii"))
			o->so.enc = GP_ENC_ASCII;
		else if (!strcmp(arg, "utf16le") || !strcmp(arg, "utf16"))
			o->so.enc = GP_ENC_UTF16LE;
		else if (!strcmp(arg, "both"))
			o->so.enc = GP_ENC_BOTH;
		else
			return cli_usage_error(&grep_cmd, "unknown encoding '%s' (ascii, utf16le, both)", arg), -1;
		return 0;
	case 'p': {
		char *dup = strdup(arg), *save = NULL;
		if (!dup)
			return -1;
		for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			pid_t pid;
			if (!cli_parse_pid(t, &pid)) {
				cli_usage_error(&grep_cmd, "not a PID: '%s'", t);
				free(dup);
				return -1;
			}
			pid_t *n = realloc(o->pids, (o->npids + 1) * sizeof(*n));
			if (!n) {
				free(dup);
				return -1;
			}
			o->pids = n;
			n[o->npids++] = pid;
		}
		free(dup);
		return 0;
	}
	case O_ALL: o->all = true; return 0;
	case O_RAW: o->raw = true; return 0;
	case O_BASE:
		if (!cli_parse_addr(arg, &o->base))
			return cli_usage_error(&grep_cmd, "bad address '%s'", arg), -1;
		return 0;
	case O_HEAP: o->kinds |= 1u << ML_VMA_HEAP; return 0;
	case O_STACK: o->kinds |= 1u << ML_VMA_STACK; return 0;
	case O_ANON: o->kinds |= 1u << ML_VMA_ANON | 1u << ML_VMA_ANON_NAMED; return 0;
	case O_FILE: o->kinds |= 1u << ML_VMA_FILE; return 0;
	case O_KIND: {
		const char *s = arg;
		while (*s) {
			size_t n = strcspn(s, ",");
			int k = kind_from_name(s, n);
			if (k < 0)
				return cli_usage_error(&grep_cmd, "unknown mapping kind '%.*s'", (int)n, s), -1;
			o->kinds |= 1u << k;
			s += n;
			if (*s == ',')
				s++;
		}
		return 0;
	}
	case O_PERM: {
		size_t n = strlen(arg);
		if (n < 1 || n > 4 || strspn(arg, "rwxps-?") != n)
			return cli_usage_error(&grep_cmd, "bad permissions '%s' (like rw? or r-xp)", arg), -1;
		o->perm = arg;
		return 0;
	}
	case O_NAME: o->name = arg; return 0;
	case O_ADDR:
		if (!cli_parse_range(arg, &o->alo, &o->ahi))
			return cli_usage_error(&grep_cmd, "bad address range '%s' (A-B, hex)", arg), -1;
		o->have_addr = true;
		return 0;
	case O_SWAPPED: o->swapped = true; return 0;
	case O_RESIDENT: o->resident = true; return 0;
	case 'j':
		if (!cli_parse_size(arg, &v) || v < 1 || v > 256)
			return cli_usage_error(&grep_cmd, "bad thread count '%s' (1-256)", arg), -1;
		o->jobs = (unsigned)v;
		return 0;
	case 'o': o->only = true; return 0;
	case 'c': o->count = true; return 0;
	case 'l': o->list = true; return 0;
	case 'q': o->quiet = true; return 0;
	case 'm':
		if (!cli_parse_size(arg, &o->max) || o->max < 1)
			return cli_usage_error(&grep_cmd, "bad count '%s'", arg), -1;
		return 0;
	case 'C':
		if (!cli_parse_size(arg, &v) || v > 4096)
			return cli_usage_error(&grep_cmd, "bad context '%s' (0-4096 bytes)", arg), -1;
		o->ctx = (unsigned)v;
		return 0;
	case O_JSON: o->json = true; return 0;
	case O_REDACT: o->redact = true; return 0;
	case O_WHERE: o->where = true; return 0;
	case O_STATS: o->stats = true; return 0;
	case O_ENGINE:
		if (!strcmp(arg, "auto"))
			o->so.engine = GP_ENGINE_AUTO;
		else if (!strcmp(arg, "portable"))
			o->so.engine = GP_ENGINE_PORTABLE;
		else if (!strcmp(arg, "vectorscan"))
			o->so.engine = GP_ENGINE_VECTORSCAN;
		else
			return cli_usage_error(&grep_cmd, "unknown engine '%s' (auto, portable, vectorscan)", arg), -1;
		return 0;
	case O_MAXLEN:
		if (!cli_parse_size(arg, &v) || v < 16 || v > (1u << 20))
			return cli_usage_error(&grep_cmd, "bad length '%s' (16 to 1M)", arg), -1;
		o->so.max_regex_len = (size_t)v;
		return 0;
	}
	return -1;
}

int grep_read_pattern_file(gopts *o, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!f) {
		cli_file_error(path, "cannot open", -errno);
		return -1;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;
	errno = 0;
	while ((n = getline(&line, &cap, f)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		if (n == 0)
			continue; /* an empty pattern would match everywhere */
		if (grep_add_pattern(o, GP_LITERAL, line, (size_t)n) < 0) {
			rc = -1;
			break;
		}
	}
	/* getline() ends the same way at the end of the file and on an error (a directory,
	 * an I/O error): a pattern file that was not read whole is not searched for in part */
	if (rc == 0 && ferror(f)) {
		int e = errno ? errno : EIO;
		fprintf(stderr, "memlens: %s: cannot read patterns: %s\n", strcmp(path, "-") ? path : "standard input",
			strerror(e));
		rc = -1;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return rc;
}
