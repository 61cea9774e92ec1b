/* smaps and smaps_rollup: a hand-written single-pass parser (no sscanf) and the readers. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <memlens/smaps.h>
#include <memlens/stat.h>

#include "internal/internal.h"
#include "internal/vma_text.h"

/* Keys in the order the kernel prints them, so the next key is usually guessed right. */
enum { K_THP = ML_SMAPS_NFIELDS, K_PKEY, K_VMFLAGS, K_COUNT };

typedef struct keydef {
	const char *name;
	unsigned char len;
	unsigned char id;
} keydef;

#define KD(s, id) { s, sizeof(s) - 1, id }
static const keydef keys[] = {
	KD("Size", ML_SMAPS_SIZE),
	KD("KernelPageSize", ML_SMAPS_KERNEL_PAGE_SIZE),
	KD("MMUPageSize", ML_SMAPS_MMU_PAGE_SIZE),
	KD("Rss", ML_SMAPS_RSS),
	KD("Pss", ML_SMAPS_PSS),
	KD("Pss_Dirty", ML_SMAPS_PSS_DIRTY),
	KD("Pss_Anon", ML_SMAPS_PSS_ANON),
	KD("Pss_File", ML_SMAPS_PSS_FILE),
	KD("Pss_Shmem", ML_SMAPS_PSS_SHMEM),
	KD("Shared_Clean", ML_SMAPS_SHARED_CLEAN),
	KD("Shared_Dirty", ML_SMAPS_SHARED_DIRTY),
	KD("Private_Clean", ML_SMAPS_PRIVATE_CLEAN),
	KD("Private_Dirty", ML_SMAPS_PRIVATE_DIRTY),
	KD("Referenced", ML_SMAPS_REFERENCED),
	KD("Anonymous", ML_SMAPS_ANONYMOUS),
	KD("KSM", ML_SMAPS_KSM),
	KD("LazyFree", ML_SMAPS_LAZYFREE),
	KD("AnonHugePages", ML_SMAPS_ANON_HUGE_PAGES),
	KD("ShmemPmdMapped", ML_SMAPS_SHMEM_PMD_MAPPED),
	KD("FilePmdMapped", ML_SMAPS_FILE_PMD_MAPPED),
	KD("Shared_Hugetlb", ML_SMAPS_SHARED_HUGETLB),
	KD("Private_Hugetlb", ML_SMAPS_PRIVATE_HUGETLB),
	KD("Swap", ML_SMAPS_SWAP),
	KD("SwapPss", ML_SMAPS_SWAP_PSS),
	KD("Locked", ML_SMAPS_LOCKED),
	KD("THPeligible", K_THP),
	KD("ProtectionKey", K_PKEY),
	KD("VmFlags", K_VMFLAGS),
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

const char *ml_smaps_field_name(ml_smaps_field f)
{
	if ((unsigned)f >= ML_SMAPS_NFIELDS)
		return NULL;
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].id == (unsigned)f)
			return keys[i].name;
	return NULL;
}

uint64_t ml_smaps_uss(const ml_smaps_fields *f)
{
	return f ? f->private_clean + f->private_dirty + f->private_hugetlb : 0;
}

/* ---- VmFlags mnemonics ---- */

#define MN(a, b) (((a) - 'a') * 26 + ((b) - 'a'))
/* bit index + 1 per two-letter mnemonic; 0 = unknown */
static const unsigned char vmf_table[26 * 26] = {
	[MN('r', 'd')] = 1,  [MN('w', 'r')] = 2,  [MN('e', 'x')] = 3,  [MN('s', 'h')] = 4,
	[MN('m', 'r')] = 5,  [MN('m', 'w')] = 6,  [MN('m', 'e')] = 7,  [MN('m', 's')] = 8,
	[MN('g', 'd')] = 9,  [MN('p', 'f')] = 10, [MN('d', 'w')] = 11, [MN('l', 'o')] = 12,
	[MN('i', 'o')] = 13, [MN('s', 'r')] = 14, [MN('r', 'r')] = 15, [MN('d', 'c')] = 16,
	[MN('d', 'e')] = 17, [MN('a', 'c')] = 18, [MN('n', 'r')] = 19, [MN('h', 't')] = 20,
	[MN('s', 'f')] = 21, [MN('n', 'l')] = 22, [MN('a', 'r')] = 23, [MN('w', 'f')] = 24,
	[MN('d', 'd')] = 25, [MN('s', 'd')] = 26, [MN('m', 'm')] = 27, [MN('h', 'g')] = 28,
	[MN('n', 'h')] = 29, [MN('m', 'g')] = 30, [MN('u', 'm')] = 31, [MN('u', 'w')] = 32,
	[MN('u', 'i')] = 33, [MN('b', 't')] = 34, [MN('m', 't')] = 35, [MN('s', 's')] = 36,
	[MN('s', 'l')] = 37, [MN('l', 'f')] = 38, [MN('d', 'p')] = 39,
};

const char *ml_vmflag_name(uint64_t bit)
{
	static char names[40][3];
	static int ready;
	if (!bit || (bit & (bit - 1)))
		return NULL;
	unsigned idx = (unsigned)__builtin_ctzll(bit);
	if (idx >= 39)
		return NULL;
	if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
		char tmp[40][3];
		memset(tmp, 0, sizeof(tmp));
		for (unsigned i = 0; i < 26 * 26; i++)
			if (vmf_table[i]) {
				tmp[vmf_table[i] - 1][0] = (char)('a' + i / 26);
				tmp[vmf_table[i] - 1][1] = (char)('a' + i % 26);
			}
		/* every thread computes the same bytes, so a race only rewrites equal values */
		memcpy(names, tmp, sizeof(names));
		__atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
	}
	return names[idx];
}

static uint64_t parse_vmflags(const char *p, const char *end)
{
	uint64_t bits = 0;
	while (p < end) {
		while (p < end && *p == ' ')
			p++;
		const char *t = p;
		while (p < end && *p != ' ')
			p++;
		if (p == t)
			break;
		unsigned a = (unsigned char)t[0] - 'a', b = p - t == 2 ? (unsigned char)t[1] - 'a' : 99;
		unsigned char idx = a < 26 && b < 26 ? vmf_table[a * 26 + b] : 0;
		bits |= idx ? 1ull << (idx - 1) : ML_VMF_UNKNOWN;
	}
	return bits;
}

/* ---- the parser ---- */

typedef struct xrec {
	ml_smaps_extra e;
	size_t koff, voff;
} xrec;

/* What a record needs while it is parsed, beside the ml_smaps_vma handed out at the end
 * (kept apart so that the records become the result without a copy). */
typedef struct saux {
	size_t noff, floff;
	size_t x_first;
	size_t seq;
} saux;

typedef struct parser {
	ml_smaps_vma *r;
	saux *a;
	size_t n, cap, acap;
	xrec *x;
	size_t nx, xcap;
	ml_buf arena;
	bool rollup;     /* fields belong to the single rollup record */
	size_t base;     /* offset in the whole text of the buffer being parsed */
} parser;

static void parser_free(parser *ps)
{
	free(ps->r);
	free(ps->a);
	free(ps->x);
	ml_buf_free(&ps->arena);
}

static int arena_add(ml_buf *a, const char *s, size_t len, size_t *off)
{
	*off = a->len;
	int r = ml_buf_reserve(a, len);
	if (r < 0)
		return r;
	if (len)
		memcpy(a->data + a->len, s, len);
	a->data[a->len + len] = '\0';
	a->len += len + 1;
	return 0;
}

/* "  1234 kB" -> bytes. */
static bool parse_kb(const char *p, const char *end, uint64_t *ret, bool *kb)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	/* Up to 19 digits cannot overflow: the common case, without a call per line. */
	const char *d = p;
	uint64_t v = 0;
	while (p < end && p - d < 19 && (unsigned)(*p - '0') < 10)
		v = v * 10 + (uint64_t)(*p++ - '0');
	if (p == d)
		return false;
	if (p < end && (unsigned)(*p - '0') < 10) {
		p = d;
		if (ml__parse_dec(&p, end, &v) < 0)
			return false;
	}
	while (p < end && *p == ' ')
		p++;
	*kb = false;
	if (end - p == 2 && p[0] == 'k' && p[1] == 'B') {
		if (v > UINT64_MAX / 1024)
			return false;
		v *= 1024;
		*kb = true;
	} else if (p != end) {
		return false;
	}
	*ret = v;
	return true;
}

static int add_extra(parser *ps, const char *key, size_t klen, const char *val, const char *eol)
{
	int r = ml__grow(&ps->x, &ps->xcap, ps->nx + 1, sizeof(*ps->x));
	if (r < 0)
		return r;
	while (val < eol && (*val == ' ' || *val == '\t'))
		val++;
	const char *vend = eol;
	while (vend > val && (vend[-1] == ' ' || vend[-1] == '\t'))
		vend--;
	xrec *x = &ps->x[ps->nx];
	memset(x, 0, sizeof(*x));
	bool kb;
	x->e.numeric = parse_kb(val, vend, &x->e.bytes, &kb);
	if (!x->e.numeric)
		x->e.bytes = 0;
	x->e.key_len = klen;
	x->e.value_len = (size_t)(vend - val);
	if ((r = arena_add(&ps->arena, key, klen, &x->koff)) < 0 ||
	    (r = arena_add(&ps->arena, val, (size_t)(vend - val), &x->voff)) < 0)
		return r;
	ps->nx++;
	ps->r[ps->n - 1].n_extra++;
	return 0;
}

static int start_record(parser *ps, const ml__vma_line *l)
{
	int r = ml__grow(&ps->r, &ps->cap, ps->n + 1, sizeof(*ps->r));
	if (r == 0)
		r = ml__grow(&ps->a, &ps->acap, ps->n + 1, sizeof(*ps->a));
	if (r < 0)
		return r;
	ml_smaps_vma *x = &ps->r[ps->n];
	saux *a = &ps->a[ps->n];
	memset(x, 0, sizeof(*x));
	x->vma = l->v;
	x->thp_eligible = -1;
	x->protection_key = -1;
	size_t nlen;
	bool escaped;
	r = ml__vma_name_add(&x->vma, l->name, l->name_len, true, &ps->arena, &a->noff, &nlen, &escaped);
	if (r < 0)
		return r;
	x->vma.name_uncertain = escaped;
	a->floff = SIZE_MAX;
	a->x_first = ps->nx;
	a->seq = ps->n;
	ps->n++;
	return 0;
}

static bool is_key_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* [s, e) holds only blanks: eight at a time where it can. */
static bool all_blank(const char *s, const char *e)
{
	for (; e - s >= 8; s += 8) {
		uint64_t w;
		memcpy(&w, s, 8);
		if (w != 0x2020202020202020ull)
			break;
	}
	for (; s < e; s++)
		if (*s != ' ' && *s != '\t')
			return false;
	return true;
}

/*
 * The kernel prints the size lines as "%-16s%8lu kB\n": the key and its colon padded to 16
 * columns, the number to 8, 28 bytes in all. A line of that shape whose key is the one
 * expected next is read here, without looking for its end or the number's start; anything
 * else (and any doubt) is left to the general path, which reads the same line the same way.
 * Returns whether the line at @p was taken.
 */
static bool size_line(parser *ps, const char *p, const char *end, size_t guess)
{
	if (end - p < 28 || p[27] != '\n' || p[24] != ' ' || p[25] != 'k' || p[26] != 'B' || guess >= NKEYS ||
	    !ps->n)
		return false;
	const keydef *g = &keys[guess];
	if (g->id >= ML_SMAPS_NFIELDS || p[g->len] != ':' || memcmp(p, g->name, g->len) != 0)
		return false;
	const char *s = p + g->len + 1, *q = p + 24;
	while (q > s && (unsigned)(q[-1] - '0') < 10)
		q--;
	/* 1 to 8 digits (a longer number, which the kernel never prints here, is the general
	 * path's: it may not fit in bytes) */
	if (q == p + 24 || q < p + 16 || !all_blank(s, q))
		return false;
	uint64_t v = 0;
	for (; q < p + 24; q++)
		v = v * 10 + (uint64_t)(*q - '0');
	ml_smaps_vma *cur = &ps->r[ps->n - 1];
	cur->f.v[g->id] = v * 1024;
	cur->f.present |= 1ull << g->id;
	return true;
}

static int parse_lines(parser *ps, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	size_t guess = 0;
	while (p < end) {
		if (size_line(ps, p, end, guess)) {
			guess++;
			p += 28;
			continue;
		}
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		if (eol == p) {
			p = eol + 1;
			continue;
		}
		/* The common case: the key that follows the previous one in the kernel's order. */
		const keydef *kd = NULL;
		const char *k = p;
		if (guess < NKEYS) {
			const keydef *g = &keys[guess];
			if ((size_t)(eol - p) > g->len && p[g->len] == ':' && memcmp(p, g->name, g->len) == 0) {
				kd = g;
				k = p + g->len;
			}
		}
		/* Keys start with a capital; headers with a hex digit. */
		if (!kd && *k >= 'A' && *k <= 'Z') {
			while (k < eol && is_key_char((unsigned char)*k))
				k++;
		}
		if (!kd && (k == p || k >= eol || *k != ':')) {
			ml__vma_line l;
			int r = ml__vma_line_parse(p, eol, &l);
			if (r < 0)
				return r;
			if (ps->rollup && ps->n > 0)
				return -EBADMSG;
			if ((r = start_record(ps, &l)) < 0)
				return r;
			ps->r[ps->n - 1].line_off = ps->base + (size_t)(p - buf);
			ps->r[ps->n - 1].line_len = (size_t)(eol - p) + (eol < end);
			guess = 0;
			p = eol + 1;
			continue;
		}
		if (ps->n == 0)
			return -EBADMSG;
		size_t klen = (size_t)(k - p);
		const char *val = k + 1;
		if (!kd) {
			for (size_t i = 0; i < NKEYS; i++)
				if (keys[i].len == klen && memcmp(keys[i].name, p, klen) == 0) {
					kd = &keys[i];
					guess = i;
					break;
				}
		}
		ml_smaps_vma *cur = &ps->r[ps->n - 1];
		int r = 0;
		if (!kd) {
			r = add_extra(ps, p, klen, val, eol);
		} else if (kd->id == K_VMFLAGS) {
			while (val < eol && (*val == ' ' || *val == '\t'))
				val++;
			const char *vend = eol;
			while (vend > val && vend[-1] == ' ')
				vend--;
			cur->vm_flags = parse_vmflags(val, vend);
			cur->vm_flags_raw_len = (size_t)(vend - val);
			cur->has_vm_flags = true;
			r = arena_add(&ps->arena, val, (size_t)(vend - val), &ps->a[ps->n - 1].floff);
		} else {
			uint64_t v;
			bool kb;
			if (!parse_kb(val, eol, &v, &kb)) {
				r = add_extra(ps, p, klen, val, eol);
			} else if (kd->id == K_THP || kd->id == K_PKEY) {
				int iv = kb || v > 0x7fffffff ? -1 : (int)v;
				if (iv < 0)
					r = add_extra(ps, p, klen, val, eol);
				else if (kd->id == K_THP)
					cur->thp_eligible = iv;
				else
					cur->protection_key = iv;
			} else {
				cur->f.v[kd->id] = v;
				cur->f.present |= 1ull << kd->id;
			}
		}
		if (r < 0)
			return r;
		if (kd)
			guess = (size_t)(kd - keys) + 1;
		p = eol + 1;
	}
	return 0;
}

struct ml_smaps {
	ml_smaps_vma *v;
	size_t n;
	ml_smaps_extra *x;
	char *arena;
};

typedef struct srec {
	ml_smaps_vma s;
	saux a;
} srec;

static int srec_cmp(const void *a, const void *b)
{
	const srec *x = a, *y = b;
	if (x->s.vma.start != y->s.vma.start)
		return x->s.vma.start < y->s.vma.start ? -1 : 1;
	return x->a.seq < y->a.seq ? -1 : x->a.seq > y->a.seq;
}

/* Same torn-read rule as maps: sort, and of overlapping records keep the later one. Text
 * read in one go is in order; only a torn read takes the copy below. */
static int normalize(parser *ps)
{
	bool sorted = true;
	for (size_t i = 1; i < ps->n && sorted; i++)
		if (ps->r[i].vma.start < ps->r[i - 1].vma.end)
			sorted = false;
	if (sorted)
		return 0;
	srec *t = malloc(ps->n * sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < ps->n; i++)
		t[i] = (srec){ ps->r[i], ps->a[i] };
	qsort(t, ps->n, sizeof(*t), srec_cmp);
	size_t out = 0;
	for (size_t i = 0; i < ps->n; i++) {
		srec *x = &t[i];
		bool keep = true;
		while (out > 0 && t[out - 1].s.vma.end > x->s.vma.start) {
			if (t[out - 1].a.seq > x->a.seq) {
				keep = false;
				break;
			}
			out--;
		}
		if (keep)
			t[out++] = *x;
	}
	for (size_t i = 0; i < out; i++) {
		ps->r[i] = t[i].s;
		ps->a[i] = t[i].a;
	}
	ps->n = out;
	free(t);
	return 0;
}

static ml_smaps_extra *finish_extras(parser *ps)
{
	ml_smaps_extra *x = malloc((ps->nx ? ps->nx : 1) * sizeof(*x));
	if (!x)
		return NULL;
	for (size_t i = 0; i < ps->nx; i++) {
		x[i] = ps->x[i].e;
		x[i].key = ps->arena.data + ps->x[i].koff;
		x[i].value = ps->arena.data + ps->x[i].voff;
	}
	return x;
}

static int ensure_arena(parser *ps)
{
	return ps->arena.data ? 0 : ml_buf_append(&ps->arena, "", 0);
}

/* Turns the parsed records into an ml_smaps (the parser's state is consumed). */
static int finish(parser *ps, ml_smaps **ret)
{
	int r = ensure_arena(ps);
	if (r == 0 && !ps->r)
		r = ml__grow(&ps->r, &ps->cap, 1, sizeof(*ps->r));
	if (r == 0)
		r = normalize(ps);
	if (r < 0) {
		parser_free(ps);
		return r;
	}
	ml_smaps *s = calloc(1, sizeof(*s));
	ml_smaps_extra *x = finish_extras(ps);
	if (!s || !x) {
		free(s);
		free(x);
		parser_free(ps);
		return -ENOMEM;
	}
	/* the records become the result in place: only their pointers are set */
	static const char empty[] = "";
	ml_smaps_vma *v = ps->r;
	for (size_t i = 0; i < ps->n; i++) {
		const saux *a = &ps->a[i];
		v[i].vma.name = ps->arena.data + a->noff;
		v[i].vm_flags_raw = a->floff == SIZE_MAX ? empty : ps->arena.data + a->floff;
		v[i].extra = v[i].n_extra ? x + a->x_first : NULL;
	}
	s->v = v;
	s->n = ps->n;
	s->x = x;
	s->arena = ps->arena.data;
	free(ps->a);
	free(ps->x);
	*ret = s;
	return 0;
}

int ml_smaps_parse(const char *buf, size_t len, ml_smaps **ret)
{
	if ((!buf && len) || !ret)
		return -EINVAL;
	parser ps = {0};
	int r = parse_lines(&ps, buf, len);
	if (r < 0) {
		parser_free(&ps);
		return r;
	}
	return finish(&ps, ret);
}

/*
 * smaps is parsed as it is read, a whole number of lines at a time, from one 256 KiB
 * buffer: the text of a few thousand mappings is megabytes, and a buffer grown to hold
 * it all costs a page fault per 4 KiB and copies as it doubles. The records equal
 * ml_smaps_parse() of the whole text (line_off counts from the start of the text read).
 */
static int smaps_lines(void *ctx, const char *buf, size_t len, size_t off)
{
	parser *ps = ctx;
	ps->base = off;
	return parse_lines(ps, buf, len);
}

/* The thread smaps was read through exited midway: start again (ml__proc_read_lines()). */
static void smaps_reset(void *ctx)
{
	parser *ps = ctx;
	parser_free(ps);
	*ps = (parser){ 0 };
}

int ml_smaps_read(const ml_proc *p, ml_smaps **ret)
{
	if (!p || !ret)
		return -EINVAL;
	parser ps = { 0 };
	int r = ml__proc_read_lines(p, "smaps", smaps_lines, smaps_reset, &ps);
	if (r < 0) {
		parser_free(&ps);
		return r;
	}
	return finish(&ps, ret);
}

size_t ml_smaps_count(const ml_smaps *s) { return s ? s->n : 0; }

const ml_smaps_vma *ml_smaps_get(const ml_smaps *s, size_t i)
{
	return s && i < s->n ? &s->v[i] : NULL;
}

const ml_smaps_vma *ml_smaps_find(const ml_smaps *s, uint64_t addr)
{
	if (!s)
		return NULL;
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->v[mid].vma.end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->n && s->v[lo].vma.start <= addr && addr < s->v[lo].vma.end)
		return &s->v[lo];
	return NULL;
}

const ml_smaps_vma *ml_smaps_match(const ml_smaps *s, const ml_vma *v)
{
	if (!v)
		return NULL;
	const ml_smaps_vma *x = ml_smaps_find(s, v->start);
	return x && x->vma.start == v->start && x->vma.end == v->end ? x : NULL;
}

void ml_smaps_total(const ml_smaps *s, ml_smaps_fields *ret)
{
	if (!ret)
		return;
	memset(ret, 0, sizeof(*ret));
	for (size_t i = 0; s && i < s->n; i++) {
		for (unsigned k = 0; k < ML_SMAPS_NFIELDS; k++)
			ret->v[k] += s->v[i].f.v[k];
		ret->present |= s->v[i].f.present;
	}
}

void ml_smaps_free(ml_smaps *s)
{
	if (!s)
		return;
	free(s->v);
	free(s->x);
	free(s->arena);
	free(s);
}

/* ---- smaps_rollup ---- */

typedef struct rollup_impl {
	ml_smaps_rollup pub; /* first: the public pointer is this struct */
	ml_smaps_extra *x;
	char *arena;
} rollup_impl;

int ml_smaps_rollup_parse(const char *buf, size_t len, ml_smaps_rollup **ret)
{
	if ((!buf && len) || !ret)
		return -EINVAL;
	parser ps = { .rollup = true };
	int r = parse_lines(&ps, buf, len);
	if (r == 0)
		r = ensure_arena(&ps);
	if (r < 0) {
		parser_free(&ps);
		return r;
	}
	rollup_impl *ri = calloc(1, sizeof(*ri));
	ml_smaps_extra *x = finish_extras(&ps);
	if (!ri || !x) {
		free(ri);
		free(x);
		parser_free(&ps);
		return -ENOMEM;
	}
	if (ps.n) {
		ri->pub.start = ps.r[0].vma.start;
		ri->pub.end = ps.r[0].vma.end;
		ri->pub.f = ps.r[0].f;
	}
	ri->x = x;
	ri->pub.extra = ps.nx ? x : NULL;
	ri->pub.n_extra = ps.nx;
	ri->arena = ps.arena.data;
	free(ps.r);
	free(ps.a);
	free(ps.x);
	*ret = &ri->pub;
	return 0;
}

/* A kernel thread has no address space: its smaps_rollup says ESRCH while it runs. */
static bool is_kernel_thread(const ml_proc *p)
{
	ml_stat st;
	return ml_stat_read(p, &st) == 0 && (st.flags & ML_PF_KTHREAD);
}

int ml_smaps_rollup_read(const ml_proc *p, ml_smaps_rollup **ret)
{
	if (!p || !ret)
		return -EINVAL;
	char *buf;
	size_t len;
	int r = ml_proc_read_file(p, "smaps_rollup", &buf, &len);
	if (r == -ENOENT)
		return ml_proc_alive(p) == 1 || !ml_proc_is_live(p) ? -EOPNOTSUPP : -ESRCH;
	if (r == -ESRCH && ml_proc_alive(p) == 1 && is_kernel_thread(p))
		return ml_smaps_rollup_parse("", 0, ret);
	if (r < 0)
		return r;
	r = ml_smaps_rollup_parse(buf, len, ret);
	free(buf);
	return r;
}

void ml_smaps_rollup_free(ml_smaps_rollup *r)
{
	if (!r)
		return;
	rollup_impl *ri = (rollup_impl *)r;
	free(ri->x);
	free(ri->arena);
	free(ri);
}
