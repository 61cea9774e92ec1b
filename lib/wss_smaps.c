/* wss: the pure side of a working-set sample: smaps parsing for the fields it needs, region and total arithmetic. */
/*
 * Why not ml_smaps_read(): a window reads smaps once per sample, of processes that can
 * hold 100k mappings (100+ MB of text). This reader streams the text in chunks and keeps
 * six numbers per mapping; header lines still go through the shared maps-line parser and
 * naming rules (lib/vma_text.c), so names and kinds match `memlens maps` exactly.
 */
#include <stdlib.h>
#include <string.h>

#include "internal/internal.h"
#include "internal/vma_text.h"
#include "internal/wss.h"

static bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool ml__wss_kind_file_backed(ml_vma_kind k)
{
	return k == ML_VMA_FILE || k == ML_VMA_SHMEM || k == ML_VMA_SYSV || k == ML_VMA_MEMFD;
}

bool ml__wss_scope_covers(ml_wss_scope s, bool file_backed)
{
	switch (s) {
	case ML_WSS_SCOPE_ANON: return !file_backed;
	case ML_WSS_SCOPE_FILE: return file_backed;
	default: return true;
	}
}

/* A header line, parsed and named by the same rules as ml_maps_parse(). */
static int parse_header(const char *p, const char *end, ml__wss_vmas *out)
{
	ml__vma_line l;
	int r = ml__vma_line_parse(p, end, &l);
	if (r < 0)
		return r;
	/* the kernel never prints a NUL: a name holding one is not /proc text */
	if (l.name_len && memchr(l.name, '\0', l.name_len))
		return -EBADMSG;
	ml__wss_vma v = { 0 };
	v.start = l.v.start;
	v.end = l.v.end;
	v.offset = l.v.offset;
	v.inode = l.v.inode;
	v.perms = l.v.perms;
	if ((r = ml__vma_name_add(&l.v, l.name, l.name_len, true, &out->names, &v.name_off, &v.name_len,
				  NULL)) < 0)
		return r;
	v.kind = l.v.kind;
	v.deleted = l.v.deleted;
	if ((r = ml__grow(&out->v, &out->cap, out->n + 1, sizeof(*out->v))) < 0)
		return r;
	out->v[out->n++] = v;
	return 0;
}

/* Which field of a vma a smaps key feeds (NULL: not needed). */
static uint64_t *field_of(ml__wss_vma *v, const char *k, size_t len)
{
#define K(lit) (len == sizeof(lit) - 1 && !memcmp(k, lit, len))
	switch (k[0]) {
	case 'R':
		if (K("Rss"))
			return &v->rss;
		if (K("Referenced"))
			return &v->referenced;
		break;
	case 'P':
		if (K("Pss"))
			return &v->pss;
		break;
	case 'A':
		if (K("Anonymous"))
			return &v->anonymous;
		if (K("AnonHugePages"))
			return &v->huge;
		break;
	case 'S':
		if (K("ShmemPmdMapped"))
			return &v->huge;
		break;
	case 'F':
		if (K("FilePmdMapped"))
			return &v->huge;
		break;
	}
	return NULL;
#undef K
}

int ml__wss_smaps_parse(const char *buf, size_t len, ml__wss_vmas *out)
{
	if ((!buf && len) || !out)
		return -EINVAL;
	const char *p = buf, *end = buf + len;
	while (p < end) {
		const char *le = ml__line_end(p, end);
		const char *q = p;
		while (q < le && is_hex(*q))
			q++;
		int r = 0;
		if (q > p && q < le && *q == '-') {
			r = parse_header(p, le, out);
		} else if (le > p) {
			const char *colon = memchr(p, ':', (size_t)(le - p));
			if (!colon || colon == p || out->n == 0)
				return -EBADMSG;
			uint64_t *f = field_of(&out->v[out->n - 1], p, (size_t)(colon - p));
			if (f) {
				const char *s = colon + 1;
				uint64_t kb;
				ml__skip_blank(&s, le);
				if (ml__parse_dec(&s, le, &kb) < 0 || kb > UINT64_MAX / 1024)
					return -EBADMSG;
				/* several keys add into "huge"; the others appear once */
				if (f == &out->v[out->n - 1].huge)
					*f += kb * 1024;
				else
					*f = kb * 1024;
			}
		}
		if (r < 0)
			return r;
		p = le < end ? le + 1 : end;
	}
	return 0;
}

static int cmp_start_then_order(const void *a, const void *b)
{
	const ml__wss_vma *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

void ml__wss_vmas_normalize(ml__wss_vmas *m)
{
	bool ok = true;
	for (size_t i = 1; i < m->n && ok; i++)
		ok = m->v[i].start >= m->v[i - 1].end;
	if (ok)
		return;
	for (size_t i = 0; i < m->n; i++)
		m->v[i].order = i;
	qsort(m->v, m->n, sizeof(*m->v), cmp_start_then_order);
	/* a torn read lists some mappings twice, or a mapping and the pieces it became: of
	 * overlapping records keep the one read last, which is the most recent */
	size_t k = 0;
	for (size_t i = 0; i < m->n; i++) {
		if (k && m->v[i].start < m->v[k - 1].end) {
			if (m->v[i].order > m->v[k - 1].order)
				m->v[k - 1] = m->v[i];
			continue;
		}
		m->v[k++] = m->v[i];
	}
	m->n = k;
}

void ml__wss_vmas_free(ml__wss_vmas *v)
{
	if (!v)
		return;
	free(v->v);
	ml_buf_free(&v->names);
	*v = (ml__wss_vmas){ 0 };
}

/* Index of the first mapping of sorted @m that ends after @addr. */
static size_t first_ending_after(const ml__wss_vmas *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->v[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Bytes of [start, end) that no mapping of sorted @m covers. */
static uint64_t uncovered(const ml__wss_vmas *m, uint64_t start, uint64_t end)
{
	uint64_t covered = 0;
	for (size_t i = first_ending_after(m, start); i < m->n && m->v[i].start < end; i++)
		covered += ML_MIN(end, m->v[i].end) - ML_MAX(start, m->v[i].start);
	return end - start - covered;
}

static bool sorted(const ml__wss_vmas *m)
{
	for (size_t i = 1; i < m->n; i++)
		if (m->v[i].start < m->v[i - 1].end)
			return false;
	return true;
}

int ml__wss_build(ml_wss_sample *s, const ml__wss_vmas *before, const ml__wss_vmas *after)
{
	if (!s || !after)
		return -EINVAL;
	/* the kernel lists mappings in order; anything else (a torn read) makes the diff unsound */
	bool diff = before && before->n && sorted(before) && sorted(after);
	size_t n = after->n;
	ml_wss_region *rg = n ? calloc(n, sizeof(*rg)) : NULL;
	char *names = after->names.len ? malloc(after->names.len) : NULL;
	if ((n && !rg) || (after->names.len && !names)) {
		free(rg);
		free(names);
		return -ENOMEM;
	}
	if (names)
		memcpy(names, after->names.data, after->names.len);
	ml_wss_totals t = { 0 };
	for (size_t i = 0; i < n; i++) {
		const ml__wss_vma *v = &after->v[i];
		ml_wss_region *r = &rg[i];
		r->start = v->start;
		r->end = v->end;
		r->perms = v->perms;
		r->kind = v->kind;
		r->name = names ? names + v->name_off : "";
		r->name_len = v->name_len;
		r->deleted = v->deleted;
		r->file_backed = ml__wss_kind_file_backed(v->kind);
		r->measured = ml__wss_scope_covers(s->scope, r->file_backed) && !v->untracked;
		r->appeared = diff && uncovered(before, v->start, v->end) > 0;
		r->rss = v->rss;
		r->pss = v->pss;
		r->anonymous = v->anonymous;
		r->huge = v->huge;
		r->wss = r->measured ? v->referenced : 0;
		if (r->wss) {
			uint64_t small = v->rss > v->huge ? v->rss - v->huge : 0;
			r->wss_huge_max = ML_MIN(r->wss, v->huge);
			r->wss_huge_min = r->wss > small ? ML_MIN(r->wss - small, r->wss_huge_max) : 0;
		}
		t.rss += r->rss;
		t.pss += r->pss;
		t.wss += r->wss;
		if (r->file_backed)
			t.wss_file += r->wss;
		else
			t.wss_anon += r->wss;
		if (r->kind == ML_VMA_SHMEM || r->kind == ML_VMA_SYSV || r->kind == ML_VMA_MEMFD)
			t.wss_shmem += r->wss;
		t.wss_huge_min += r->wss_huge_min;
		t.wss_huge_max += r->wss_huge_max;
		if (r->appeared) {
			t.appeared++;
			t.wss_appeared += r->wss;
		}
	}
	if (diff)
		for (size_t i = 0; i < before->n; i++)
{
				uint64_t gone = uncovered(after, before->v[i].start, before->v[i].end);
				if (gone) {
					t.disappeared++;
					t.lost_bytes += gone;
				}
			}
	struct ml__wss_sample_priv *sp = (struct ml__wss_sample_priv *)s;
	free(s->regions);
	free(sp->names);
	sp->names = names;
	s->regions = rg;
	s->nregions = n;
	s->tot = t;
	return 0;
}

ml_wss_sample *ml__wss_sample_new(void)
{
	struct ml__wss_sample_priv *sp = calloc(1, sizeof(*sp));
	return sp ? &sp->pub : NULL;
}

void ml_wss_sample_free(ml_wss_sample *s)
{
	if (!s)
		return;
	struct ml__wss_sample_priv *sp = (struct ml__wss_sample_priv *)s;
	free(s->regions);
	free(sp->names);
	free(sp);
}
