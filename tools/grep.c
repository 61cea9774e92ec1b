/* memlens grep: search the memory of processes and snapshots for literals, hex patterns and regexes. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
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
#include "grep/grep.h"

#define WINDOW (512u << 10)      /* bytes read and searched per window: fewer, larger reads */
#define SUBWINDOW (256u << 10) /* bytes searched per engine call within a window */
#define SLICE (64ull << 20)    /* work unit: regions are split at multiples of this address */
#define RUNS_BATCH 256

enum {
	O_ENCODING = 256, O_ALL, O_RAW, O_BASE, O_HEAP, O_STACK, O_ANON, O_FILE, O_KIND, O_PERM,
	O_NAME, O_ADDR, O_SWAPPED, O_JSON, O_REDACT, O_WHERE, O_STATS, O_ENGINE, O_MAXLEN, O_RESIDENT,
};

static const ml_opt grep_opts[] = {
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
	ML_OPT_HELP,
	ML_OPT_END,
};

static const ml_cmd grep_cmd = {
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

typedef struct upat { gp_kind kind; char *text; size_t len; } upat;

typedef struct gopts {
	gp_set_opts so;
	bool regex;
	upat *pats;
	size_t npats;
	const char **pattern_files;
	size_t nfiles;
	uint32_t kinds;         /* bit per ml_vma_kind; 0 = default selection */
	const char *perm;
	const char *name;
	uint64_t alo, ahi;
	bool have_addr, swapped, all, raw, only, count, list, quiet, json, redact, where, stats, resident;
	uint64_t base, max;
	unsigned ctx;
	unsigned jobs;
	pid_t *pids;
	size_t npids;
	bool error;
} gopts;

static int add_upat(gopts *o, gp_kind k, const char *s, size_t len)
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

static int on_opt(int key, const char *arg, void *ctx)
{
	gopts *o = ctx;
	uint64_t v;
	switch (key) {
	case 'e':
		/* the kind (literal or regex) is decided once all options are known */
		return add_upat(o, GP_LITERAL, arg, strlen(arg));
	case 'x':
		return add_upat(o, GP_HEX, arg, strlen(arg));
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
			return ml_cli_usage_error(&grep_cmd, "unknown encoding '%s' (ascii, utf16le, both)", arg), -1;
		return 0;
	case 'p': {
		char *dup = strdup(arg), *save = NULL;
		if (!dup)
			return -1;
		for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			pid_t pid;
			if (!ml_cli_parse_pid(t, &pid)) {
				ml_cli_usage_error(&grep_cmd, "not a PID: '%s'", t);
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
		if (!ml_cli_parse_addr(arg, &o->base))
			return ml_cli_usage_error(&grep_cmd, "bad address '%s'", arg), -1;
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
				return ml_cli_usage_error(&grep_cmd, "unknown mapping kind '%.*s'", (int)n, s), -1;
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
			return ml_cli_usage_error(&grep_cmd, "bad permissions '%s' (like rw? or r-xp)", arg), -1;
		o->perm = arg;
		return 0;
	}
	case O_NAME: o->name = arg; return 0;
	case O_ADDR:
		if (!ml_cli_parse_range(arg, &o->alo, &o->ahi))
			return ml_cli_usage_error(&grep_cmd, "bad address range '%s' (A-B, hex)", arg), -1;
		o->have_addr = true;
		return 0;
	case O_SWAPPED: o->swapped = true; return 0;
	case O_RESIDENT: o->resident = true; return 0;
	case 'j':
		if (!ml_cli_parse_size(arg, &v) || v < 1 || v > 256)
			return ml_cli_usage_error(&grep_cmd, "bad thread count '%s' (1-256)", arg), -1;
		o->jobs = (unsigned)v;
		return 0;
	case 'o': o->only = true; return 0;
	case 'c': o->count = true; return 0;
	case 'l': o->list = true; return 0;
	case 'q': o->quiet = true; return 0;
	case 'm':
		if (!ml_cli_parse_size(arg, &o->max) || o->max < 1)
			return ml_cli_usage_error(&grep_cmd, "bad count '%s'", arg), -1;
		return 0;
	case 'C':
		if (!ml_cli_parse_size(arg, &v) || v > 4096)
			return ml_cli_usage_error(&grep_cmd, "bad context '%s' (0-4096 bytes)", arg), -1;
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
			return ml_cli_usage_error(&grep_cmd, "unknown engine '%s' (auto, portable, vectorscan)", arg), -1;
		return 0;
	case O_MAXLEN:
		if (!ml_cli_parse_size(arg, &v) || v < 16 || v > (1u << 20))
			return ml_cli_usage_error(&grep_cmd, "bad length '%s' (16 to 1M)", arg), -1;
		o->so.max_regex_len = (size_t)v;
		return 0;
	}
	return -1;
}

/* ---- sources ---- */

typedef struct region {
	ml_vma v;
	uint64_t lo, hi;        /* the part searched (clipped by --addr) */
} region;

typedef struct stats {
	uint64_t scanned;                 /* bytes searched */
	uint64_t skipped[ML_RUN_KIND_COUNT];
	uint64_t err_bytes[8];            /* bytes not read because of an error, by reason */
	uint64_t regions;
} stats;

#define ERR_REASONS 5
#define ERR_DAMAGED 4
static const char *const err_reason[8] = { "unreadable", "vanished", "denied", "other", "damaged" };
static int err_slot(int err)
{
	switch (-err) {
	case EIO: return 0;
	case EFAULT: case ESRCH: case ENOENT: return 1;
	case EACCES: case EPERM: return 2;
	case EBADMSG: return ERR_DAMAGED;
	default: return 3;
	}
}

typedef struct unit {
	size_t idx;             /* order of the unit among all units of the source */
	size_t region;
	uint64_t a, b;
	/* output, filled by a worker, printed in order */
	char *out;
	size_t outlen;
	FILE *f;
	struct uhit { uint32_t user; size_t end; } *hits;
	size_t nhits, caphits;
	bool done;
} unit;

typedef struct src {
	const gopts *o;
	const gp_set *set;
	ml_source *s;           /* NULL for --raw */
	int raw_fd;
	const char *label;      /* "1234" or the file name */
	pid_t pid;
	region *regions;
	size_t nregions;
	ml_maps *maps;
	/* Units are made as they are claimed, walking the regions' page runs in address order,
	 * so a huge sparse reservation costs one page-table walk and no memory; only units
	 * waiting to be printed hold a slot in the ring. */
	unit *ring;
	size_t nring;
	size_t produced;        /* units handed out so far */
	size_t prod_region;
	uint64_t prod_pos;
	pthread_cond_t cv;      /* a ring slot was freed */
	/* Each worker and the unit maker read a live process through their own ml_source on
	 * the shared handle: each then walks addresses forward only, which keeps the source's
	 * cached view of the mappings valid instead of making it re-read them at every call. */
	const ml_source *prod_via;
	ml_source *prod_own;
	atomic_bool stop;
	atomic_bool gone;
	pthread_mutex_t mu;     /* printing, stats, heap walks */
	size_t next_print;
	uint64_t printed;
	uint64_t *counts;       /* per user pattern */
	stats st;
	uint64_t total, done;   /* bytes of the regions to search, of the units finished */
	int first_err;
	/* heap walks, one per [heap] region, made when first needed */
	struct { uint64_t start; gp_heap *h; bool tried; } heaps[4];
	size_t nheaps;
} src;

/* Reads through @via (a worker's own view of the source) or the raw image. @populated: the
 * range was just seen as data runs, so the source need not walk its pages again. */
static ssize_t src_read(const src *s, const ml_source *via, uint64_t addr, void *buf, size_t len,
			bool populated)
{
	if (!s->s) {
		if (addr < s->o->base)
			return -EFAULT;
		ssize_t r = pread(s->raw_fd, buf, len, (off_t)(addr - s->o->base));
		return r < 0 ? -errno : r;
	}
	return ml_source_read(via, addr, buf, len, (s->o->swapped ? ML_READ_SWAPPED : 0) |
						   (populated ? ML_READ_POPULATED : 0));
}

static long heap_rd(void *ctx, uint64_t addr, void *buf, size_t len)
{
	const src *s = ctx;
	return (long)src_read(s, s->s, addr, buf, len, false);
}

static bool region_selected(const gopts *o, const ml_vma *v)
{
	if (o->kinds) {
		if (!(o->kinds >> v->kind & 1))
			return false;
	} else if (v->kind == ML_VMA_VVAR || v->kind == ML_VMA_VSYSCALL) {
		return false; /* not readable as memory; only when asked for by --kind */
	}
	if (o->perm) {
		char p[5];
		ml_vma_perms_str(v->perms, p);
		for (size_t i = 0; o->perm[i]; i++)
			if (o->perm[i] != '?' && o->perm[i] != p[i])
				return false;
	}
	if (o->name && !ml_cli_name_match(o->name, v->name ? v->name : "", v->name ? v->name_len : 0))
		return false;
	if (o->have_addr && (v->end <= o->alo || v->start >= o->ahi))
		return false;
	return true;
}

static int build_units(src *s)
{
	const gopts *o = s->o;
	size_t nm = s->maps ? ml_maps_count(s->maps) : 1;
	s->regions = calloc(nm ? nm : 1, sizeof(region));
	if (!s->regions)
		return -ENOMEM;
	if (!s->maps) {
		struct stat stt;
		if (fstat(s->raw_fd, &stt) < 0)
			return -errno;
		uint64_t end;
		if (!gp_image_end(o->base, (uint64_t)stt.st_size, &end))
			return -ERANGE;
		ml_vma v = { .start = o->base, .end = end,
			     .perms = ML_PERM_READ, .kind = ML_VMA_ANON, .name = s->label,
			     .name_len = strlen(s->label) };
		if (stt.st_size > 0 && region_selected(o, &v))
			s->regions[s->nregions++] = (region){ v, v.start, v.end };
		nm = s->nregions;
	} else {
		for (size_t i = 0; i < nm; i++) {
			const ml_vma *v = ml_maps_get(s->maps, i);
			if (!region_selected(o, v))
				continue;
			s->regions[s->nregions++] = (region){ *v, v->start, v->end };
		}
	}
	for (size_t i = 0; o->have_addr && i < s->nregions; i++) {
		region *r = &s->regions[i];
		if (r->lo < o->alo)
			r->lo = o->alo;
		if (r->hi > o->ahi)
			r->hi = o->ahi;
	}
	return 0;
}

/* ---- output ---- */

static void region_label(FILE *f, const ml_vma *v)
{
	char *n = ml_cli_vma_name(v->name, v->name_len, v->deleted);
	fputs(n ? n : "?", f);
	free(n);
}

static bool file_backed(const ml_vma *v)
{
	return v->kind == ML_VMA_FILE || v->kind == ML_VMA_MEMFD || v->kind == ML_VMA_SYSV ||
	       (v->kind == ML_VMA_SHMEM && v->inode);
}

static bool is_print(uint8_t c) { return (c >= 0x20 && c < 0x7f) || c == '\t'; }

/* The match text, UTF-16LE decoded where the match is UTF-16. malloc'd. */
static uint8_t *match_text(const gp_pat *p, const uint8_t *b, size_t n, size_t *ret_len)
{
	uint8_t *t = malloc(n * 6 + 1);
	if (!t)
		return NULL;
	size_t k = 0;
	if (p->enc == GP_ENC_UTF16LE) {
		for (size_t i = 0; i + 1 < n; i += 2) {
			unsigned u = b[i] | (unsigned)b[i + 1] << 8;
			if (u < 0x80)
				t[k++] = (uint8_t)u;
			else
				k += (size_t)sprintf((char *)t + k, "\\u%04x", u);
		}
	} else {
		memcpy(t, b, n);
		k = n;
	}
	*ret_len = k;
	return t;
}

static void put_hex_context(FILE *f, const uint8_t *buf, uint64_t base, size_t from, size_t to)
{
	/* lines start at 16-byte aligned addresses, like memlens read */
	uint64_t nl = gp_hex_lines(base + from, base + to), l = (base + from) & ~(uint64_t)15;
	for (uint64_t k = 0; k < nl; k++, l += 16) {
		fprintf(f, "  %016" PRIx64 ": ", l);
		for (uint64_t j = 0; j < 16; j++) {
			uint64_t i = l + j;
			if (i >= base + from && i < base + to)
				fprintf(f, "%02x ", buf[i - base]);
			else
				fputs("   ", f);
		}
		fputs(" |", f);
		for (uint64_t j = 0; j < 16; j++) {
			uint64_t i = l + j;
			uint8_t c = i >= base + from && i < base + to ? buf[i - base] : ' ';
			fputc(c >= 0x20 && c < 0x7f ? c : '.', f);
		}
		fputs("|\n", f);
	}
}

static bool heap_chunk(src *s, const region *r, uint64_t addr, gp_chunk *c)
{
	if (r->v.kind != ML_VMA_HEAP)
		return false;
	pthread_mutex_lock(&s->mu);
	gp_heap *h = NULL;
	size_t i;
	for (i = 0; i < s->nheaps; i++)
		if (s->heaps[i].start == r->v.start)
			break;
	if (i == s->nheaps && i < sizeof(s->heaps) / sizeof(s->heaps[0])) {
		s->heaps[i].start = r->v.start;
		s->heaps[i].h = gp_heap_walk(r->v.start, r->v.end, heap_rd, s);
		s->heaps[i].tried = true;
		s->nheaps++;
	}
	if (i < s->nheaps)
		h = s->heaps[i].h;
	bool ok = h && gp_heap_find(h, addr, heap_rd, s, c);
	pthread_mutex_unlock(&s->mu);
	return ok;
}

static void hash_hex(const uint8_t *b, size_t n, char out[17])
{
	uint8_t d[32];
	ml_digest_sha256(b, n, d);
	for (int i = 0; i < 8; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

/* @from: where the matched bytes came from ("memory", "file", "memory+file"), or NULL. */
static void format_hit(src *s, FILE *f, const region *r, const gp_hit *h, const uint8_t *buf,
		       size_t len, uint64_t base, const char *from)
{
	const gopts *o = s->o;
	const gp_pat *p = gp_set_pat(s->set, h->pat);
	const gp_user *u = gp_set_user(s->set, p->user);
	uint64_t addr = base + h->start;
	size_t mlen = h->end - h->start;
	const ml_vma *v = &r->v;
	gp_chunk ch;
	bool have_chunk = (o->json || o->where) && heap_chunk(s, r, addr, &ch);
	char hash[17];
	if (o->redact)
		hash_hex(buf + h->start, mlen, hash);
	/* surrounding printable text, unless -o */
	size_t ts = h->start, te = h->end;
	if (!o->only && !o->redact) {
		size_t step = p->enc == GP_ENC_UTF16LE ? 2 : 1;
		for (int k = 0; k < 48 && ts >= step && is_print(buf[ts - step]) &&
				    (step == 1 || buf[ts - 1] == 0); k++)
			ts -= step;
		for (int k = 0; k < 48 && te + step <= len && is_print(buf[te]) &&
				    (step == 1 || buf[te + 1] == 0); k++)
			te += step;
	}
	size_t tl = 0;
	uint8_t *text = o->redact ? NULL : match_text(p, buf + ts, te - ts, &tl);
	if (o->json) {
		ml_json j;
		char perms[5];
		ml_json_init(&j, f);
		ml_json_obj_begin(&j);
		ML_JSON_KSTR(&j, "schema", "memlens.grep/1");
		ML_JSON_KSTR(&j, "type", "match");
		ML_JSON_KSTR(&j, "source", s->label);
		if (s->pid)
			ML_JSON_KI64(&j, "pid", s->pid);
		ML_JSON_KADDR(&j, "address", addr);
		ML_JSON_KU64(&j, "length", mlen);
		ML_JSON_KU64(&j, "pattern_index", p->user);
		if (!o->redact) {
			ml_json_key(&j, "pattern");
			ml_json_str(&j, u->text, u->len);
		}
		ML_JSON_KSTR(&j, "pattern_kind", u->kind == GP_LITERAL ? "literal" : u->kind == GP_HEX ? "hex" : "regex");
		ML_JSON_KSTR(&j, "encoding", p->enc == GP_ENC_UTF16LE ? "utf16le" : "ascii");
		if (from)
			ML_JSON_KSTR(&j, "from", from);
		ml_json_key(&j, "region");
		ml_json_obj_begin(&j);
		ML_JSON_KADDR(&j, "start", v->start);
		ML_JSON_KADDR(&j, "end", v->end);
		ml_json_key(&j, "name");
		ml_json_str(&j, v->name ? v->name : "", v->name ? v->name_len : 0);
		ML_JSON_KSTR(&j, "kind", ml_vma_kind_name(v->kind));
		ML_JSON_KSTR(&j, "perms", ml_vma_perms_str(v->perms, perms));
		ML_JSON_KU64(&j, "offset", addr - v->start);
		if (file_backed(v))
			ML_JSON_KU64(&j, "file_offset", v->offset + (addr - v->start));
		ml_json_obj_end(&j);
		if (have_chunk) {
			ml_json_key(&j, "chunk");
			ml_json_obj_begin(&j);
			ML_JSON_KADDR(&j, "start", ch.start);
			ML_JSON_KU64(&j, "size", ch.size);
			ML_JSON_KBOOL(&j, "in_use", ch.in_use);
			ml_json_obj_end(&j);
		}
		if (o->redact) {
			ML_JSON_KSTR(&j, "sha256_64", hash);
		} else {
			ml_json_key(&j, "text");
			ml_json_str(&j, (const char *)text, tl);
			if (o->ctx) {
				size_t cs = h->start > o->ctx ? h->start - o->ctx : 0;
				size_t ce = h->end + o->ctx < len ? h->end + o->ctx : len;
				ML_JSON_KADDR(&j, "context_address", base + cs);
				ml_json_key(&j, "context_hex");
				char *hx = malloc(2 * (ce - cs) + 1);
				if (hx) {
					for (size_t i = cs; i < ce; i++)
						sprintf(hx + 2 * (i - cs), "%02x", buf[i]);
					ml_json_str(&j, hx, 2 * (ce - cs));
					free(hx);
				} else {
					ml_json_null(&j);
				}
			}
		}
		ml_json_obj_end(&j);
		ml_json_line_end(&j);
		free(text);
		return;
	}
	bool color = ml_cli_color();
	fprintf(f, "%s%s%s:0x%" PRIx64 ":", color ? ML_SGR_LABEL : "", s->label, color ? ML_SGR_RESET : "", addr);
	region_label(f, v);
	fprintf(f, "+0x%" PRIx64 ":", addr - v->start);
	if (o->redact) {
		fprintf(f, "#%zu: [redacted length=%zu sha256/64=%s]\n", p->user + 1, mlen, hash);
	} else {
		ml_cli_put_escaped(f, u->text, u->len);
		if (p->enc == GP_ENC_UTF16LE)
			fputs("(utf16le)", f);
		fputs(": ", f);
		if (color) {
			/* the text around the match as it is, the match itself in colour */
			size_t cut[4] = { ts, h->start, h->end, te };
			for (int k = 0; k < 3; k++) {
				size_t pl = 0;
				uint8_t *piece = match_text(p, buf + cut[k], cut[k + 1] - cut[k], &pl);
				if (k == 1)
					fputs(ML_SGR_MATCH, f);
				if (piece)
					ml_cli_put_escaped(f, (const char *)piece, pl);
				if (k == 1)
					fputs(ML_SGR_RESET, f);
				free(piece);
			}
		} else {
			ml_cli_put_escaped(f, (const char *)text, tl);
		}
		fputc('\n', f);
	}
	if (o->where) {
		char perms[5];
		fprintf(f, "\tregion 0x%" PRIx64 "-0x%" PRIx64 " %s %s", v->start, v->end,
			ml_vma_perms_str(v->perms, perms), ml_vma_kind_name(v->kind));
		if (file_backed(v))
			fprintf(f, " file offset 0x%" PRIx64, v->offset + (addr - v->start));
		if (from && strcmp(from, "memory"))
			fprintf(f, "; read from the mapped file (%s)", strcmp(from, "file") ? "partly not resident" : "not resident");
		if (have_chunk)
			fprintf(f, "; malloc chunk 0x%" PRIx64 " size 0x%" PRIx64 " %s", ch.start, ch.size,
				ch.in_use ? "in use" : "free");
		fputc('\n', f);
	}
	if (o->ctx && !o->redact) {
		size_t cs = h->start > o->ctx ? h->start - o->ctx : 0;
		size_t ce = h->end + o->ctx < len ? h->end + o->ctx : len;
		put_hex_context(f, buf, base, cs, ce);
	}
	free(text);
}

/* The progress line (stderr a terminal only); sources are searched one at a time, and its
 * updates and the printing of hits are made under the source's mutex. */
static ml_progress g_prog;

/* Prints (or just counts) the hits a unit holds and empties it; called with s->mu held,
 * when the unit is the next to print. */
static void print_unit_hits(src *s, unit *u)
{
	const gopts *o = s->o;
	size_t from = 0;
	for (size_t i = 0; i < u->nhits; i++) {
		if (o->max && s->printed >= o->max) {
			atomic_store(&s->stop, true);
			break;
		}
		s->printed++;
		s->counts[u->hits[i].user]++;
		if (u->out && !o->count && !o->list && !o->quiet) {
			ml_progress_clear(&g_prog); /* hits never share a line with it */
			fwrite(u->out + from, 1, u->hits[i].end - from, stdout);
		}
		from = u->hits[i].end;
	}
	if (s->printed && (o->quiet || o->list))
		atomic_store(&s->stop, true);
	if (u->nhits && u->out)
		fflush(stdout); /* hits appear as the scan goes, not at its end */
	free(u->out);
	free(u->hits);
	u->out = NULL;
	u->hits = NULL;
	u->outlen = u->nhits = u->caphits = 0;
}

/* Prints finished units in address order; called with s->mu held. */
static void flush_units(src *s)
{
	while (s->next_print < s->produced && s->ring[s->next_print % s->nring].done) {
		unit *u = &s->ring[s->next_print++ % s->nring];
		u->done = false;
		print_unit_hits(s, u);
	}
}

/*
 * A unit whose pending output grows large (a pattern matching everywhere) waits until it is
 * the next to print, then prints what it has and goes on: memory stays bounded whatever the
 * number of hits.
 */
#define SPILL_BYTES (8u << 20)
#define SPILL_HITS (256u << 10)
static void spill_unit(src *s, unit *u)
{
	if (u->f) {
		fclose(u->f);
		u->f = NULL;
	}
	pthread_mutex_lock(&s->mu);
	while (s->next_print != u->idx && !atomic_load(&s->stop) && !atomic_load(&s->gone))
		pthread_cond_wait(&s->cv, &s->mu);
	if (s->next_print == u->idx)
		print_unit_hits(s, u);
	pthread_mutex_unlock(&s->mu);
}

static int unit_add_hit(unit *u, uint32_t user)
{
	if (u->nhits == u->caphits) {
		size_t cap = u->caphits ? 2 * u->caphits : 16;
		struct uhit *n = realloc(u->hits, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		u->hits = n;
		u->caphits = cap;
	}
	size_t end = 0;
	if (u->f) {
		fflush(u->f);
		end = u->outlen;
	}
	u->hits[u->nhits++] = (struct uhit){ user, end };
	return 0;
}

/* ---- the workers ---- */

typedef struct worker {
	src *s;
	const ml_source *via;   /* the source as this worker reads it */
	ml_source *own;
	gp_scratch *sc;
	uint8_t *buf;
	size_t cap;
	ml_run *runs;
	size_t nruns, capruns;
	stats st;
	int err;
	uint64_t fail_addr;     /* where the last failed read of fill() started */
} worker;

static void note_err(worker *w, int err, uint64_t bytes)
{
	w->st.err_bytes[err_slot(err)] += bytes;
	if (!w->err)
		w->err = err;
	if (err == -ESRCH)
		atomic_store(&w->s->gone, true);
}

static int collect_runs(worker *w, uint64_t a, uint64_t b)
{
	src *s = w->s;
	w->nruns = 0;
	if (!s->s) { /* a raw image is all data */
		w->runs[0] = (ml_run){ a, b, ML_RUN_DATA };
		w->nruns = 1;
		return 0;
	}
	uint64_t at = a;
	while (at < b) {
		if (w->capruns - w->nruns < RUNS_BATCH) {
			size_t cap = w->capruns * 2;
			ml_run *n = realloc(w->runs, cap * sizeof(*n));
			if (!n)
				return -ENOMEM;
			w->runs = n;
			w->capruns = cap;
		}
		uint64_t next = b;
		ssize_t n = ml_source_runs(w->via, at, b, ML_RUNS_FILE, w->runs + w->nruns, RUNS_BATCH, &next);
		if (n < 0)
			return (int)n;
		if (n == 0 || next <= at)
			break;
		w->nruns += (size_t)n;
		at = next;
	}
	return 0;
}

/* Searched: resident memory (zero pages included), pages of file mappings that are not
 * resident (read from the file) unless --resident-only, swapped pages with --swapped. */
static bool readable(const src *s, ml_run_kind k)
{
	return k == ML_RUN_DATA || k == ML_RUN_ZERO || (k == ML_RUN_FILE && !s->o->resident) ||
	       (k == ML_RUN_SWAPPED && s->o->swapped);
}

/* Fills buf with [x, y) of the segment whose runs are runs[r0..r1). */
static int fill(worker *w, size_t r0, size_t r1, uint64_t x, uint64_t y, uint8_t *dst)
{
	for (size_t i = r0; i < r1 && x < y; i++) {
		const ml_run *r = &w->runs[i];
		if (r->end <= x)
			continue;
		uint64_t e = r->end < y ? r->end : y;
		if (r->kind == ML_RUN_ZERO) {
			memset(dst, 0, (size_t)(e - x));
		} else {
			size_t want = (size_t)(e - x), got = 0;
			while (got < want) {
				ssize_t n = src_read(w->s, w->via, x + got, dst + got, want - got,
						     r->kind == ML_RUN_DATA);
				if (n <= 0) {
					w->fail_addr = x + got;
					return n < 0 ? (int)n : -EIO;
				}
				got += (size_t)n;
			}
		}
		dst += e - x;
		x = e;
	}
	return 0;
}

/* Where the bytes [a, b) of the segment of runs r0..r1 came from (NULL for a raw image). */
static const char *hit_from(const worker *w, size_t r0, size_t r1, uint64_t a, uint64_t b)
{
	if (!w->s->s)
		return NULL;
	bool mem = false, file = false;
	for (size_t i = r0; i < r1; i++) {
		const ml_run *rn = &w->runs[i];
		if (rn->end <= a || rn->start >= b)
			continue;
		if (rn->kind == ML_RUN_FILE)
			file = true;
		else
			mem = true;
	}
	return file ? (mem ? "memory+file" : "file") : "memory";
}

static int emit_hits(worker *w, unit *u, const region *r, const gp_hit *hits, size_t n,
		     const uint8_t *buf, size_t len, uint64_t base, size_t r0, size_t r1)
{
	src *s = w->s;
	const gopts *o = s->o;
	bool text = !o->count && !o->list && !o->quiet;
	for (size_t i = 0; i < n; i++) {
		if (text && !u->f) {
			u->f = open_memstream(&u->out, &u->outlen);
			if (!u->f)
				return -ENOMEM;
		}
		if (text)
			format_hit(s, u->f, r, &hits[i], buf, len, base,
				   hit_from(w, r0, r1, base + hits[i].start, base + hits[i].end));
		if (unit_add_hit(u, (uint32_t)gp_set_pat(s->set, hits[i].pat)->user) < 0)
			return -ENOMEM;
		if (u->outlen > SPILL_BYTES || u->nhits > SPILL_HITS)
			spill_unit(s, u);
		if (o->max && u->nhits >= o->max)
			return 1; /* no unit prints more than -m hits */
		if (o->quiet || o->list)
			return 1;
	}
	return 0;
}

/* Searches [ss, se) of one segment (readable runs r0..r1, contiguous) of unit u, reporting
 * hits from @from on. *@resume gets the first address whose hits were not reported yet. */
static int scan_segment(worker *w, unit *u, const region *r, size_t r0, size_t r1, uint64_t ss, uint64_t se,
			uint64_t from, uint64_t *resume)
{
	src *s = w->s;
	size_t O = gp_set_overlap(s->set), M = gp_set_margin(s->set);
	uint64_t rlo = ss > u->a ? ss : u->a, rend = se < u->b ? se : u->b;
	if (rlo < from)
		rlo = from;
	*resume = rlo;
	if (rlo >= rend)
		return 0;
	gp_scratch_reset(w->sc, ss);
	/* a regex match may begin before the unit: start scanning (not reporting) earlier */
	uint64_t scan_lo = rlo - ss > O ? rlo - O : ss;
	uint64_t bs = scan_lo - ss > O ? scan_lo - O : ss;
	uint64_t have_lo = 0, have_hi = 0; /* bytes in w->buf now */
	while (rlo < rend && !atomic_load(&s->stop)) {
		*resume = rlo;
		uint64_t hi = rend - rlo > WINDOW ? rlo + WINDOW : rend;
		uint64_t be = se - hi > O + M ? hi + O + M : se;
		/* keep what overlaps, read the rest */
		if (have_hi > bs && have_lo <= bs) {
			memmove(w->buf, w->buf + (bs - have_lo), (size_t)(have_hi - bs));
			int e = fill(w, r0, r1, have_hi, be, w->buf + (have_hi - bs));
			if (e < 0)
				return e;
		} else {
			int e = fill(w, r0, r1, bs, be, w->buf);
			if (e < 0)
				return e;
		}
		have_lo = bs;
		have_hi = be;
		/* searched in sub-windows, so that the hits held at once stay few even when a
		 * pattern matches at every byte */
		for (uint64_t slo = rlo, sscan = scan_lo; slo < hi;) {
			uint64_t shi = hi - slo > SUBWINDOW ? slo + SUBWINDOW : hi;
			uint64_t send = se - shi > O ? shi + O : se;
			uint64_t savail = be - shi > O + M ? shi + O + M : be;
			const gp_hit *hits;
			size_t nh;
			int e = gp_scan(s->set, w->sc, w->buf, (size_t)(send - bs), (size_t)(savail - bs), bs,
					(size_t)(sscan - bs), (size_t)(slo - bs), (size_t)(shi - bs), savail == se,
					&hits, &nh);
			if (e < 0)
				return e;
			w->st.scanned += shi - slo;
			if (nh && emit_hits(w, u, r, hits, nh, w->buf, (size_t)(send - bs), bs, r0, r1) > 0)
				return 1;
			slo = sscan = shi;
		}
		rlo = scan_lo = hi;
		bs = rlo - ss > O ? rlo - O : ss;
	}
	return 0;
}

/* Damaged stored data [bl, bh) (a snapshot chunk, an export's member) met by unit u: the
 * part inside the unit is counted as not searched, and the unit holding its start names it. */
static void note_damage(worker *w, unit *u, const region *r, uint64_t bl, uint64_t bh)
{
	src *s = w->s;
	uint64_t a = bl > u->a ? bl : u->a, b = bh < u->b ? bh : u->b;
	if (a < b)
		w->st.err_bytes[ERR_DAMAGED] += b - a;
	if (!w->err)
		w->err = -EBADMSG;
	uint64_t first = bl > r->lo ? bl : r->lo;
	if (first >= u->a && first < u->b) {
		const char *why = ml_error_detail(); /* of the failed read */
		pthread_mutex_lock(&s->mu);
		fprintf(stderr, "memlens grep: %s: 0x%" PRIx64 "-0x%" PRIx64 " not searched: damaged data%s%s\n",
			s->label, bl, bh, *why ? ": " : "", why);
		pthread_mutex_unlock(&s->mu);
	}
}

/*
 * Searches [ss, se) of a segment, reporting hits from @from on. A read that meets damaged
 * stored data skips exactly the damaged range (the source says which): what lies before it
 * is searched up to it, what lies after it from its end, as if it were a hole.
 */
static int scan_range(worker *w, unit *u, const region *r, size_t r0, size_t r1, uint64_t ss, uint64_t se,
		      uint64_t from)
{
	while (ss < se) {
		uint64_t resume = from, bl, bh, at;
		int e = scan_segment(w, u, r, r0, r1, ss, se, from, &resume);
		if (e != -EBADMSG || !w->s->s)
			return e;
		at = w->fail_addr;
		if (at < ss || at >= se || ml_source_damage(w->via, at, &bl, &bh) < 0 || bl > at || bh <= at)
			return e; /* no known extent: the rest of the segment is lost */
		note_damage(w, u, r, bl, bh);
		if (bl > ss && resume < bl) {
			e = scan_range(w, u, r, r0, r1, ss, bl, resume);
			if (e)
				return e;
		}
		if (bh <= ss)
			return e;
		ss = from = bh;
	}
	return 0;
}

static void scan_unit(worker *w, unit *u)
{
	src *s = w->s;
	const region *r = &s->regions[u->region];
	size_t O = gp_set_overlap(s->set), M = gp_set_margin(s->set);
	/* page-aligned (mappings are), so the pagemap walk takes the range as it is */
	uint64_t cs, ce;
	gp_unit_span(u->a, u->b, r->v.start, r->v.end, 2 * O, O + M, &cs, &ce);
	int e = collect_runs(w, cs, ce);
	if (e < 0) {
		note_err(w, e, u->b - u->a);
		return;
	}
	/* account for what is not read, inside the unit only (units overlap through context) */
	for (size_t i = 0; i < w->nruns; i++) {
		const ml_run *rn = &w->runs[i];
		uint64_t a = rn->start > u->a ? rn->start : u->a, b = rn->end < u->b ? rn->end : u->b;
		if (a < b && !readable(s, rn->kind))
			w->st.skipped[rn->kind] += b - a;
	}
	size_t i = 0;
	while (i < w->nruns && !atomic_load(&s->stop)) {
		if (!readable(s, w->runs[i].kind)) {
			i++;
			continue;
		}
		size_t j = i + 1;
		while (j < w->nruns && readable(s, w->runs[j].kind) && w->runs[j].start == w->runs[j - 1].end)
			j++;
		e = scan_range(w, u, r, i, j, w->runs[i].start, w->runs[j - 1].end, 0);
		if (e > 0)
			break;
		if (e < 0) {
			uint64_t a = w->runs[i].start > u->a ? w->runs[i].start : u->a;
			uint64_t b = w->runs[j - 1].end < u->b ? w->runs[j - 1].end : u->b;
			note_err(w, e, b > a ? b - a : 0);
			if (e == -ESRCH)
				break;
		}
		i = j;
	}
}

static bool readable(const src *s, ml_run_kind k);

/* The next unit: the next 64 MiB slice (at absolute multiples) holding a readable run. Called
 * with s->mu held. False when there is none left. */
static bool next_unit_locked(src *s, unit *u)
{
	while (s->prod_region < s->nregions) {
		const region *r = &s->regions[s->prod_region];
		if (s->prod_pos < r->lo)
			s->prod_pos = r->lo;
		if (s->prod_pos >= r->hi) {
			s->prod_region++;
			continue;
		}
		uint64_t first = s->prod_pos; /* where readable memory may start */
		if (s->s) {
			ml_run runs[RUNS_BATCH];
			uint64_t from = s->prod_pos & ~(uint64_t)4095;
			if (from < r->v.start)
				from = r->v.start;
			/* up to the end of this slice only: walking on to the region's end for every
			 * unit would walk a large populated region over and over */
			uint64_t qend = gp_slice_end(s->prod_pos, r->hi, SLICE);
			uint64_t next = qend;
			ssize_t n = ml_source_runs(s->prod_via, from, qend, ML_RUNS_FILE, runs, RUNS_BATCH, &next);
			if (n < 0 && n == -ESRCH) {
				atomic_store(&s->gone, true);
				return false;
			}
			if (n == 0) {
				s->prod_pos = qend;
				continue;
			}
			if (n > 0) {
				ssize_t i = 0;
				while (i < n && (!readable(s, runs[i].kind) || runs[i].end <= s->prod_pos))
					i++;
				uint64_t upto = i == n ? (next > s->prod_pos ? next : qend) : runs[i].start;
				if (i < n && runs[i].start > first)
					first = runs[i].start;
				/* what is skipped before the unit is accounted here; the worker does the rest */
				uint64_t ustart = i == n ? upto : (first / SLICE * SLICE > r->lo ? first / SLICE * SLICE : r->lo);
				if (ustart > upto)
					ustart = upto;
				for (ssize_t k = 0; k < i; k++) {
					uint64_t x = runs[k].start > s->prod_pos ? runs[k].start : s->prod_pos;
					uint64_t y = runs[k].end < ustart ? runs[k].end : ustart;
					if (x < y && !readable(s, runs[k].kind))
						s->st.skipped[runs[k].kind] += y - x;
				}
				if (i == n) { /* nothing readable in this batch: go on after it */
					s->prod_pos = upto;
					continue;
				}
			}
			/* an error: hand the slice out anyway; the worker meets it and accounts for it */
		}
		uint64_t a = first - first % SLICE > r->lo ? first - first % SLICE : r->lo;
		uint64_t b = gp_slice_end(first, r->hi, SLICE);
		if (a < s->prod_pos)
			a = s->prod_pos;
		*u = (unit){ .region = s->prod_region, .a = a, .b = b };
		s->prod_pos = b;
		return true;
	}
	return false;
}

/* Claims the next unit (its ring slot), waiting while the ring is full of unprinted units. */
static unit *claim_unit(src *s)
{
	unit *u = NULL;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		if (atomic_load(&s->stop) || atomic_load(&s->gone))
			break;
		if (s->produced - s->next_print >= s->nring) {
			pthread_cond_wait(&s->cv, &s->mu);
			continue;
		}
		unit nu;
		if (!next_unit_locked(s, &nu))
			break;
		nu.idx = s->produced;
		u = &s->ring[s->produced++ % s->nring];
		*u = nu;
		break;
	}
	pthread_mutex_unlock(&s->mu);
	return u;
}

static void *worker_main(void *arg)
{
	worker *w = arg;
	src *s = w->s;
	unit *u;
	while ((u = claim_unit(s))) {
		if (!atomic_load(&s->stop) && !atomic_load(&s->gone))
			scan_unit(w, u);
		if (u->f) {
			fclose(u->f);
			u->f = NULL;
		}
		pthread_mutex_lock(&s->mu);
		u->done = true;
		s->done += u->b - u->a;
		ml_progress_update(&g_prog, s->label, s->done, s->total);
		flush_units(s);
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
	}
	pthread_mutex_lock(&s->mu);
	pthread_cond_broadcast(&s->cv); /* others may wait for slots that will never come */
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static int run_workers(src *s, unsigned jobs)
{
	size_t O = gp_set_overlap(s->set);
	s->prod_via = s->s;
	if (s->s && ml_source_get_type(s->s) == ML_SOURCE_LIVE &&
	    ml_source_open_proc(ml_source_proc(s->s), &s->prod_own) == 0)
		s->prod_via = s->prod_own;
	s->nring = 4 * (size_t)jobs + 4;
	s->ring = calloc(s->nring, sizeof(unit));
	if (!s->ring)
		return -ENOMEM;
	worker *ws = calloc(jobs, sizeof(*ws));
	pthread_t *th = calloc(jobs, sizeof(*th));
	int rc = 0;
	if (!ws || !th) {
		free(ws);
		free(th);
		return -ENOMEM;
	}
	unsigned started = 0;
	for (unsigned i = 0; i < jobs; i++) {
		worker *w = &ws[i];
		w->s = s;
		w->cap = WINDOW + 4 * O + gp_set_margin(s->set) + 64;
		w->buf = malloc(w->cap);
		w->capruns = 4 * RUNS_BATCH;
		w->runs = malloc(w->capruns * sizeof(ml_run));
		w->sc = gp_scratch_new(s->set);
		w->via = s->s;
		if (s->s && ml_source_get_type(s->s) == ML_SOURCE_LIVE &&
		    ml_source_open_proc(ml_source_proc(s->s), &w->own) == 0)
			w->via = w->own;
		if (!w->buf || !w->runs || !w->sc) {
			rc = -ENOMEM;
			break;
		}
	}
	if (!rc) {
		for (unsigned i = 1; i < jobs; i++) {
			if (pthread_create(&th[i], NULL, worker_main, &ws[i]))
				break;
			started++;
		}
		worker_main(&ws[0]);
		for (unsigned i = 1; i <= started; i++)
			pthread_join(th[i], NULL);
	}
	for (unsigned i = 0; i < jobs; i++) {
		worker *w = &ws[i];
		s->st.scanned += w->st.scanned;
		for (int k = 0; k < ML_RUN_KIND_COUNT; k++)
			s->st.skipped[k] += w->st.skipped[k];
		for (int k = 0; k < 8; k++)
			s->st.err_bytes[k] += w->st.err_bytes[k];
		if (w->err && !s->first_err)
			s->first_err = w->err;
		free(w->buf);
		free(w->runs);
		gp_scratch_free(w->sc);
		ml_source_free(w->own);
	}
	free(ws);
	free(th);
	return rc;
}

/* ---- per source ---- */

static const char *const run_kind_name[ML_RUN_KIND_COUNT] = {
	"data", "zero", "unpopulated", "swapped", "excluded", "unreadable", "file",
};

static void print_summary(src *s, double secs)
{
	const gopts *o = s->o;
	uint64_t err_total = 0;
	for (int k = 0; k < 8; k++)
		err_total += s->st.err_bytes[k];
	bool partial = err_total || atomic_load(&s->gone);
	if (o->json) {
		ml_json j;
		ml_json_init(&j, stdout);
		ml_json_obj_begin(&j);
		ML_JSON_KSTR(&j, "schema", "memlens.grep/1");
		ML_JSON_KSTR(&j, "type", "summary");
		ML_JSON_KSTR(&j, "source", s->label);
		if (s->pid)
			ML_JSON_KI64(&j, "pid", s->pid);
		ML_JSON_KU64(&j, "matches", s->printed);
		ml_json_key(&j, "counts");
		ml_json_arr_begin(&j);
		for (size_t i = 0; i < gp_set_users(s->set); i++) {
			ml_json_obj_begin(&j);
			ML_JSON_KU64(&j, "pattern_index", i);
			if (!o->redact) {
				ml_json_key(&j, "pattern");
				ml_json_str(&j, gp_set_user(s->set, i)->text, gp_set_user(s->set, i)->len);
			}
			ML_JSON_KU64(&j, "count", s->counts[i]);
			ml_json_obj_end(&j);
		}
		ml_json_arr_end(&j);
		ML_JSON_KU64(&j, "regions", s->nregions);
		ML_JSON_KU64(&j, "bytes_scanned", s->st.scanned);
		ml_json_key(&j, "bytes_skipped");
		ml_json_obj_begin(&j);
		for (int k = 1; k < ML_RUN_KIND_COUNT; k++)
			ML_JSON_KU64(&j, run_kind_name[k], s->st.skipped[k]);
		ml_json_obj_end(&j);
		ml_json_key(&j, "bytes_failed");
		ml_json_obj_begin(&j);
		for (int k = 0; k < ERR_REASONS; k++)
			ML_JSON_KU64(&j, err_reason[k], s->st.err_bytes[k]);
		ml_json_obj_end(&j);
		ML_JSON_KBOOL(&j, "exited", atomic_load(&s->gone));
		ML_JSON_KBOOL(&j, "partial", partial);
		ML_JSON_KSTR(&j, "engine", gp_set_engine_name(s->set));
		ml_json_key(&j, "seconds");
		ml_json_double(&j, secs);
		ml_json_obj_end(&j);
		ml_json_line_end(&j);
	}
	if (o->count && !o->json) { /* with --json the counts are in the summary */
		for (size_t i = 0; i < gp_set_users(s->set); i++) {
			const gp_user *u = gp_set_user(s->set, i);
			printf("%s:", s->label);
			if (o->redact)
				printf("#%zu", i + 1);
			else
				ml_cli_put_escaped(stdout, u->text, u->len);
			printf(":%" PRIu64 "\n", s->counts[i]);
		}
	}
	if (o->list && s->printed && !o->json)
		printf("%s\n", s->label);
	if (atomic_load(&s->gone))
		fprintf(stderr, "memlens grep: %s: the process exited during the scan: partial result\n", s->label);
	else if (err_total && !(o->quiet && s->printed)) {
		/* -q is silent about what it skipped only once a match has answered the question:
		 * "no match" over memory that was not all searched must say so */
		fprintf(stderr, "memlens grep: %s: partial scan: %" PRIu64 " bytes not searched (", s->label, err_total);
		const char *sep = "";
		for (int k = 0; k < ERR_REASONS; k++)
			if (s->st.err_bytes[k]) {
				fprintf(stderr, "%s%" PRIu64 " %s", sep, s->st.err_bytes[k], err_reason[k]);
				sep = ", ";
			}
		fprintf(stderr, "; first error: %s)\n", ml_strerror(s->first_err));
	}
	if (o->stats) {
		char b1[32];
		fprintf(stderr, "memlens grep: %s: %zu regions, %s scanned in %.3f s (%s engine)", s->label,
			s->nregions, ml_cli_fmt_size(b1, s->st.scanned, true), secs, gp_set_engine_name(s->set));
		for (int k = 1; k < ML_RUN_KIND_COUNT; k++)
			if (s->st.skipped[k])
				fprintf(stderr, ", %s %s", ml_cli_fmt_size(b1, s->st.skipped[k], true), run_kind_name[k]);
		for (int k = 0; k < ERR_REASONS; k++)
			if (s->st.err_bytes[k])
				fprintf(stderr, ", %s %s", ml_cli_fmt_size(b1, s->st.err_bytes[k], true), err_reason[k]);
		fputc('\n', stderr);
	}
}

/* Searches one source; returns 0 matched, 1 no match, 2 error, GREP_DAMAGED damaged stored
 * data was skipped (a partial result: exit 1 whether or not something matched). */
#define GREP_DAMAGED 3
static int grep_source(const gopts *o, const gp_set *set, const char *spec, pid_t pid, bool quiet_errors,
		       atomic_bool *global_stop)
{
	src *s = calloc(1, sizeof(*s));
	if (!s)
		return ML_EXIT_ERROR;
	s->o = o;
	s->set = set;
	s->raw_fd = -1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	char pidbuf[24];
	int rc = ML_EXIT_ERROR, r;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (o->raw) {
		s->label = spec;
		s->raw_fd = open(spec, O_RDONLY | O_CLOEXEC);
		if (s->raw_fd < 0) {
			ml_cli_file_error(spec, "cannot open", -errno);
			goto out;
		}
		struct stat st;
		uint64_t end;
		if (fstat(s->raw_fd, &st) == 0 && !gp_image_end(o->base, (uint64_t)st.st_size, &end)) {
			rc = ml_cli_usage_error(&grep_cmd, "%s: %llu bytes at --base 0x%llx would pass the top of the address space",
						spec, (unsigned long long)st.st_size, (unsigned long long)o->base);
			goto out;
		}
	} else {
		if (pid) {
			snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
			spec = pidbuf;
		}
		r = ml_source_open(spec, &s->s);
		if (r < 0) {
			const char *why = ml_error_detail();
			if (!quiet_errors) {
				if (pid || ml_cli_parse_pid(spec, &pid))
					ml_cli_pid_error(pid, "cannot open", r);
				else if (*why)
					ml_cli_warn("%s: not a valid snapshot or core: %s", spec, why);
				else
					ml_cli_file_error(spec, "cannot open snapshot", r);
			}
			rc = r == -ESRCH && quiet_errors ? ML_EXIT_PARTIAL : ML_EXIT_ERROR;
			goto out;
		}
		if (!quiet_errors && ml_source_notice(s->s))
			ml_cli_warn("%s: %s", spec, ml_source_notice(s->s));
		if (ml_source_partial(s->s))
			ml_cli_warn("%s: partial: %s", spec, ml_source_partial(s->s));
		s->pid = ml_source_pid(s->s);
		s->label = ml_source_get_type(s->s) == ML_SOURCE_LIVE ? (snprintf(pidbuf, sizeof(pidbuf), "%d", (int)s->pid), pidbuf) : spec;
		r = ml_source_maps(s->s, &s->maps);
		if (r < 0) {
			if (!quiet_errors)
				ml_cli_pid_error(s->pid, "cannot read the mappings", r);
			rc = r == -ESRCH && quiet_errors ? ML_EXIT_PARTIAL : ML_EXIT_ERROR;
			goto out;
		}
	}
	s->counts = calloc(gp_set_users(set) ? gp_set_users(set) : 1, sizeof(uint64_t));
	if (!s->counts || build_units(s) < 0) {
		fprintf(stderr, "memlens grep: out of memory\n");
		goto out;
	}
	for (size_t i = 0; i < s->nregions; i++)
		s->total += s->regions[i].hi - s->regions[i].lo;
	r = run_workers(s, o->jobs);
	ml_progress_clear(&g_prog);
	if (r < 0) {
		fprintf(stderr, "memlens grep: %s: %s\n", s->label, ml_strerror(r));
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_summary(s, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (s->printed && o->quiet)
		atomic_store(global_stop, true);
	/* a scan that read nothing because of an error is an error, not "no match"; damaged
	 * stored data makes the result partial even where something matched */
	if (s->st.err_bytes[ERR_DAMAGED] && !(s->printed && o->quiet))
		rc = GREP_DAMAGED;
	else if (s->printed)
		rc = ML_EXIT_OK;
	else if (s->first_err && !s->st.scanned && s->first_err != -ESRCH)
		rc = ML_EXIT_ERROR;
	else
		rc = ML_EXIT_PARTIAL;
	if (rc == ML_EXIT_ERROR)
		fprintf(stderr, "memlens grep: %s: nothing could be read: %s\n", s->label, ml_strerror(s->first_err));
out:
	fflush(stdout);
	for (size_t i = 0; i < s->nheaps; i++)
		gp_heap_free(s->heaps[i].h);
	for (size_t i = 0; s->ring && i < s->nring; i++) {
		free(s->ring[i].out);
		free(s->ring[i].hits);
	}
	free(s->ring);
	free(s->regions);
	free(s->counts);
	ml_maps_free(s->maps);
	ml_source_free(s->prod_own);
	ml_source_free(s->s);
	if (s->raw_fd >= 0)
		close(s->raw_fd);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
	return rc;
}

/* Kernel threads have no memory: flag PF_KTHREAD in /proc/PID/stat. */
static int read_pattern_file(gopts *o, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!f) {
		ml_cli_file_error(path, "cannot open", -errno);
		return -1;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;
	while ((n = getline(&line, &cap, f)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		if (n == 0)
			continue; /* an empty pattern would match everywhere */
		if (add_upat(o, GP_LITERAL, line, (size_t)n) < 0) {
			rc = -1;
			break;
		}
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return rc;
}

int cmd_grep(int argc, char **argv);
int cmd_grep(int argc, char **argv)
{
	gopts o = { 0 };
	int first, rc = ML_EXIT_ERROR;
	gp_set *set = NULL;
	int r = ml_cli_parse(&grep_cmd, argc, argv, on_opt, &o, &first);
	if (r)
		return r > 0 ? ML_EXIT_OK : ML_EXIT_USAGE;
	ml_progress_init(&g_prog, "grep", false);
	for (size_t i = 0; i < o.nfiles; i++)
		if (read_pattern_file(&o, o.pattern_files[i]) < 0)
			goto out;
	int ai = first;
	if (!o.npats && o.nfiles == 0) {
		if (ai >= argc) {
			rc = ml_cli_usage_error(&grep_cmd, "no pattern given");
			goto out;
		}
		if (add_upat(&o, GP_LITERAL, argv[ai], strlen(argv[ai])) < 0)
			goto out;
		ai++;
	}
	if (!o.npats) {
		rc = ml_cli_usage_error(&grep_cmd, "no pattern given (the pattern files are empty)");
		goto out;
	}
	size_t nsrc = (size_t)(argc - ai);
	if (!nsrc && !o.npids && !o.all) {
		rc = ml_cli_usage_error(&grep_cmd, "no PID or snapshot given");
		goto out;
	}
	if (o.raw && (o.npids || o.all)) {
		rc = ml_cli_usage_error(&grep_cmd, "--raw takes files, not PIDs");
		goto out;
	}
	if (o.redact && o.ctx) {
		rc = ml_cli_usage_error(&grep_cmd, "--redact and -C cannot be combined (context shows bytes)");
		goto out;
	}
	if (o.regex && o.so.enc & GP_ENC_UTF16LE) {
		rc = ml_cli_usage_error(&grep_cmd, "--encoding applies to literals, not to regexes (-E)");
		goto out;
	}
	if (!o.jobs) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		o.jobs = n > 0 ? (unsigned)(n > 64 ? 64 : n) : 1;
	}
	set = gp_set_new(&o.so);
	if (!set)
		goto out;
	for (size_t i = 0; i < o.npats; i++) {
		char *err = NULL;
		gp_kind k = o.pats[i].kind == GP_HEX ? GP_HEX : o.regex ? GP_REGEX : GP_LITERAL;
		r = gp_set_add(set, k, o.pats[i].text, o.pats[i].len, &err);
		if (r < 0) {
			if (r == -ENOMEM)
				fprintf(stderr, "memlens grep: out of memory\n");
			else if (r == -ENOENT) /* a search library could not be loaded */
				fprintf(stderr, "memlens grep: %s\n", err ? err : ml_strerror(r));
			else
				rc = ml_cli_usage_error(&grep_cmd, "%s", err ? err : "bad pattern");
			free(err);
			goto out;
		}
	}
	{
		char *err = NULL;
		r = gp_set_compile(set, &err);
		if (r < 0) {
			fprintf(stderr, "memlens grep: %s\n", err ? err : ml_strerror(r));
			free(err);
			goto out;
		}
	}
	bool matched = false, error = false, usage = false, damaged = false;
	atomic_bool stop = false;
	for (int i = ai; i < argc && !atomic_load(&stop); i++) {
		int x = grep_source(&o, set, argv[i], 0, false, &stop);
		matched |= x == ML_EXIT_OK;
		error |= x == ML_EXIT_ERROR;
		usage |= x == ML_EXIT_USAGE;
		damaged |= x == GREP_DAMAGED;
	}
	for (size_t i = 0; i < o.npids && !atomic_load(&stop); i++) {
		int x = grep_source(&o, set, NULL, o.pids[i], false, &stop);
		matched |= x == ML_EXIT_OK;
		error |= x == ML_EXIT_ERROR;
		damaged |= x == GREP_DAMAGED;
	}
	if (o.all) {
		ML_OPTS(ml_procs_opts, po);
		ml_procs *it = NULL;
		size_t denied = 0, searched = 0, gone = 0;
		r = ml_procs_open(&po, &it);
		if (r < 0)
			fprintf(stderr, "memlens grep: --all: cannot list /proc: %s\n", ml_strerror(r));
		const ml_procs_entry *e;
		while (it && !atomic_load(&stop) && (r = ml_procs_next(it, &e)) == 1) {
			pid_t pid = e->pid;
			ml_source *probe;
			r = ml_source_open_pid(pid, &probe);
			if (r == 0) {
				ml_maps *m = NULL;
				r = ml_source_maps(probe, &m);
				ml_maps_free(m);
				ml_source_free(probe);
			}
			if (r == -EACCES || r == -EPERM) {
				denied++;
				fprintf(stderr, "memlens grep: pid %d: skipped: %s\n", (int)pid, ml_strerror(r));
				continue;
			}
			if (r < 0) {
				gone++;
				continue;
			}
			int x = grep_source(&o, set, NULL, pid, true, &stop);
			matched |= x == ML_EXIT_OK;
			searched += x != ML_EXIT_ERROR;
		}
		if (r < 0 && it)
			fprintf(stderr, "memlens grep: --all: cannot list /proc: %s\n", ml_strerror(r));
		ml_procs_stats ps = ml_procs_get_stats(it);
		ml_procs_free(it);
		size_t kthreads = ps.kthreads;
		gone += ps.gone;
		if (o.stats || denied)
			fprintf(stderr, "memlens grep: --all: %zu kernel threads skipped, %zu processes denied, %zu exited before the scan\n",
				kthreads, denied, gone);
		if (!searched && !atomic_load(&stop)) {
			/* nothing was read: that is not "no match" */
			fprintf(stderr, "memlens grep: --all: no process could be searched\n");
			error = true;
		}
	}
	if (usage)
		rc = ML_EXIT_USAGE;
	else if (error && !(o.quiet && matched))
		rc = ML_EXIT_ERROR;
	else if (damaged)
		rc = ML_EXIT_PARTIAL;
	else
		rc = matched ? ML_EXIT_OK : ML_EXIT_PARTIAL;
out:
	gp_set_free(set);
	for (size_t i = 0; i < o.npats; i++)
		free(o.pats[i].text);
	free(o.pats);
	free(o.pattern_files);
	free(o.pids);
	return rc;
}
