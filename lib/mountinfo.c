/* /proc/PID/mountinfo: every field, octal escapes decoded to exact bytes. */
#include <string.h>

#include <memlens/mountinfo.h>

#include "internal/escape.h"
#include "internal/internal.h"
#include "internal/nettext.h"

/*
 * Storage: the input is copied twice. In the raw plane fields keep their escapes and
 * get a NUL written over the separator that follows them; in the decoded plane each
 * field is decoded in place at its own offset. Decoding never lengthens a field, and
 * every field is followed by a separator byte (or the end, for which one spare byte is
 * allocated), so no field's NUL can land on another field.
 */
struct ml_mountinfo {
	ml_mount *v;
	size_t n, cap;
	ml_mount_opt *opts;
	size_t nopts, opts_cap;
	ml_mount_tag *tags;
	size_t ntags, tags_cap;
	char *raw, *dec;
};

/* Indices into the pools, kept while pools may still move. */
struct pending {
	size_t opt0, nopt, sopt0, nsopt, tag0, ntag;
};

static const char *put_raw(ml_mountinfo *mi, const char *buf, const char *s, const char *e)
{
	char *r = mi->raw + (s - buf);
	r[e - s] = '\0';
	return r;
}

static const char *put_dec(ml_mountinfo *mi, const char *buf, const char *s, const char *e, size_t *len)
{
	char *d = mi->dec + (s - buf);
	size_t n = ml__unescape_octal(d, s, (size_t)(e - s));
	d[n] = '\0';
	*len = n;
	return d;
}

/* Splits an option list [s, e) at ',' into the opts pool. */
static int split_opts(ml_mountinfo *mi, const char *buf, const char *s, const char *e, size_t *first, size_t *count)
{
	*first = mi->nopts;
	*count = 0;
	const char *p = s;
	while (p < e) {
		const char *q = p;
		while (q < e && *q != ',')
			q++;
		if (q > p) {
			int r = ml__grow(&mi->opts, &mi->opts_cap, mi->nopts + 1, sizeof(*mi->opts));
			if (r < 0)
				return r;
			ml_mount_opt *o = &mi->opts[mi->nopts++];
			const char *eq = memchr(p, '=', (size_t)(q - p));
			o->name = put_dec(mi, buf, p, eq ? eq : q, &o->name_len);
			o->value = NULL;
			o->value_len = 0;
			if (eq)
				o->value = put_dec(mi, buf, eq + 1, q, &o->value_len);
			(*count)++;
		}
		p = q + 1;
	}
	return 0;
}

static int parse_u32(const char *s, const char *e, uint32_t *ret)
{
	uint64_t v;
	if (ml__tok_dec(s, e, &v) < 0 || v > UINT32_MAX)
		return -EBADMSG;
	*ret = (uint32_t)v;
	return 0;
}

static int add_tag(ml_mountinfo *mi, ml_mount *m, const char *buf, const char *s, const char *e)
{
	int r = ml__grow(&mi->tags, &mi->tags_cap, mi->ntags + 1, sizeof(*mi->tags));
	if (r < 0)
		return r;
	ml_mount_tag *t = &mi->tags[mi->ntags++];
	const char *colon = memchr(s, ':', (size_t)(e - s));
	size_t l;
	t->tag = put_dec(mi, buf, s, colon ? colon : e, &l);
	t->value = colon ? put_dec(mi, buf, colon + 1, e, &l) : NULL;
	uint32_t id = 0;
	if (colon && parse_u32(colon + 1, e, &id) < 0)
		id = 0;
	if (!strcmp(t->tag, "shared"))
		m->shared = id;
	else if (!strcmp(t->tag, "master"))
		m->master = id;
	else if (!strcmp(t->tag, "propagate_from"))
		m->propagate_from = id;
	else if (!strcmp(t->tag, "unbindable"))
		m->unbindable = true;
	return 0;
}

static int parse_line(ml_mountinfo *mi, const char *buf, const char *p, const char *end,
		      ml_mount *m, struct pending *pd)
{
	const char *s, *e;
	int r;
	memset(m, 0, sizeof(*m));
	memset(pd, 0, sizeof(*pd));

	s = ml__next_token(&p, end, " ", &e);
	if ((r = parse_u32(s, e, &m->mount_id)) < 0)
		return r;
	s = ml__next_token(&p, end, " ", &e);
	if ((r = parse_u32(s, e, &m->parent_id)) < 0)
		return r;
	s = ml__next_token(&p, end, " ", &e);
	const char *colon = memchr(s, ':', (size_t)(e - s));
	if (!colon || parse_u32(s, colon, &m->dev_major) < 0 || parse_u32(colon + 1, e, &m->dev_minor) < 0)
		return -EBADMSG;
	s = ml__next_token(&p, end, " ", &e);
	if (s == e)
		return -EBADMSG;
	m->root = put_dec(mi, buf, s, e, &m->root_len);
	s = ml__next_token(&p, end, " ", &e);
	if (s == e)
		return -EBADMSG;
	m->mount_point = put_dec(mi, buf, s, e, &m->mount_point_len);
	s = ml__next_token(&p, end, " ", &e);
	if (s == e)
		return -EBADMSG;
	if ((r = split_opts(mi, buf, s, e, &pd->opt0, &pd->nopt)) < 0)
		return r;
	m->options = put_raw(mi, buf, s, e);
	for (size_t i = pd->opt0; i < pd->opt0 + pd->nopt; i++)
		if (!strcmp(mi->opts[i].name, "ro"))
			m->read_only = true;

	pd->tag0 = mi->ntags;
	for (;;) {
		s = ml__next_token(&p, end, " ", &e);
		if (s == e)
			return -EBADMSG; /* no " - " separator */
		if (e - s == 1 && *s == '-')
			break;
		if ((r = add_tag(mi, m, buf, s, e)) < 0)
			return r;
		pd->ntag++;
	}
	s = ml__next_token(&p, end, " ", &e);
	if (s == e)
		return -EBADMSG;
	m->fs_type = put_dec(mi, buf, s, e, &m->fs_type_len);
	s = ml__next_token(&p, end, " ", &e);
	if (s == e)
		return -EBADMSG;
	m->source = put_dec(mi, buf, s, e, &m->source_len);
	s = ml__next_token(&p, end, " ", &e);
	if (s == e)
		return -EBADMSG;
	if ((r = split_opts(mi, buf, s, e, &pd->sopt0, &pd->nsopt)) < 0)
		return r;
	m->super_options = put_raw(mi, buf, s, e);
	/* Nothing else may follow: a longer line is not mountinfo as we know it. */
	s = ml__next_token(&p, end, " ", &e);
	return s == e ? 0 : -EBADMSG;
}

int ml_mountinfo_parse(const char *buf, size_t len, ml_mountinfo **ret)
{
	if ((!buf && len) || !ret)
		return -EINVAL;
	ml_mountinfo *mi = calloc(1, sizeof(*mi));
	struct pending *pend = NULL;
	size_t pend_cap = 0;
	int r = -ENOMEM;
	if (!mi)
		return -ENOMEM;
	mi->raw = malloc(len + 1);
	mi->dec = malloc(len + 1);
	if (!mi->raw || !mi->dec)
		goto fail;
	if (len)
		memcpy(mi->raw, buf, len);
	mi->raw[len] = '\0';

	const char *p = buf, *end = buf + len;
	while (p < end) {
		const char *le = ml__line_end(p, end);
		if (le > p) {
			if ((r = ml__grow(&mi->v, &mi->cap, mi->n + 1, sizeof(*mi->v))) < 0 ||
			    (r = ml__grow(&pend, &pend_cap, mi->n + 1, sizeof(*pend))) < 0)
				goto fail;
			if ((r = parse_line(mi, buf, p, le, &mi->v[mi->n], &pend[mi->n])) < 0)
				goto fail;
			mi->n++;
		}
		p = le + 1;
	}
	for (size_t i = 0; i < mi->n; i++) {
		ml_mount *m = &mi->v[i];
		m->opts = pend[i].nopt ? mi->opts + pend[i].opt0 : NULL;
		m->nopts = pend[i].nopt;
		m->super_opts = pend[i].nsopt ? mi->opts + pend[i].sopt0 : NULL;
		m->nsuper_opts = pend[i].nsopt;
		m->tags = pend[i].ntag ? mi->tags + pend[i].tag0 : NULL;
		m->ntags = pend[i].ntag;
	}
	free(pend);
	*ret = mi;
	return 0;
fail:
	free(pend);
	ml_mountinfo_free(mi);
	return r;
}

int ml_mountinfo_read(const ml_proc *p, ml_mountinfo **ret)
{
	if (!p || !ret)
		return -EINVAL;
	char *buf;
	size_t len;
	int r = ml__dead_is_gone(p, ml_proc_read_file(p, "mountinfo", &buf, &len));
	if (r < 0)
		return r;
	r = ml_mountinfo_parse(buf, len, ret);
	free(buf);
	return r;
}

size_t ml_mountinfo_count(const ml_mountinfo *mi) { return mi ? mi->n : 0; }

const ml_mount *ml_mountinfo_get(const ml_mountinfo *mi, size_t i)
{
	return mi && i < mi->n ? &mi->v[i] : NULL;
}

const ml_mount *ml_mountinfo_find_id(const ml_mountinfo *mi, uint32_t mount_id)
{
	for (size_t i = 0; mi && i < mi->n; i++)
		if (mi->v[i].mount_id == mount_id)
			return &mi->v[i];
	return NULL;
}

const ml_mount *ml_mountinfo_find_path(const ml_mountinfo *mi, const char *path, size_t len)
{
	const ml_mount *best = NULL;
	if (!mi || !path)
		return NULL;
	for (size_t i = 0; i < mi->n; i++) {
		const ml_mount *m = &mi->v[i];
		size_t ml = m->mount_point_len;
		/* "/" is a prefix of everything; "/a" only of "/a" and "/a/..." */
		if (ml == 1 && m->mount_point[0] == '/') {
			if (!len || path[0] != '/')
				continue;
		} else if (ml > len || memcmp(m->mount_point, path, ml) != 0 || (ml < len && path[ml] != '/')) {
			continue;
		}
		if (!best || ml >= best->mount_point_len)
			best = m;
	}
	return best;
}

const ml_mount_opt *ml_mount_find_opt(const ml_mount *m, bool super, const char *name)
{
	if (!m || !name)
		return NULL;
	const ml_mount_opt *o = super ? m->super_opts : m->opts;
	size_t n = super ? m->nsuper_opts : m->nopts;
	size_t nl = strlen(name);
	for (size_t i = 0; i < n; i++)
		if (o[i].name_len == nl && !memcmp(o[i].name, name, nl))
			return &o[i];
	return NULL;
}

void ml_mountinfo_free(ml_mountinfo *mi)
{
	if (!mi)
		return;
	free(mi->v);
	free(mi->opts);
	free(mi->tags);
	free(mi->raw);
	free(mi->dec);
	free(mi);
}
