/* /proc/PID/mountstats: device lines and, for NFS, statistics kept generically as name/values. */
#include <string.h>

#include <memlens/mountinfo.h>

#include "internal/escape.h"
#include "internal/internal.h"
#include "internal/nettext.h"

struct pend_mount { size_t field0, nfield, op0, nop; };
struct pend_nums { size_t num0, nnum; };

struct ml_mountstats {
	ml_mountstats_mount *v;
	size_t n, cap;
	ml_mountstats_field *fields;
	size_t nfields, fields_cap;
	ml_mountstats_op *ops;
	size_t nops, ops_cap;
	uint64_t *nums;
	size_t nnums, nums_cap;
	char *store;
};

/* Working state of one parse: pools move while growing, so records hold indices until the end. */
struct parse {
	ml_mountstats *ms;
	struct pend_mount *pm;
	size_t pm_cap;
	struct pend_nums *pf, *po;     /* per field, per op */
	size_t pf_cap, po_cap;
	bool in_ops;
};

static char *decode(char *s, char *e, size_t *len)
{
	size_t n = ml__unescape_octal(s, s, (size_t)(e - s));
	s[n] = '\0';
	*len = n;
	return s;
}

static bool is_blank(char c) { return c == ' ' || c == '\t'; }

/* Parses every blank-separated word of [s, e) as a decimal number into the pool.
 * Returns 1 if all were numbers (and at least one), 0 if not (pool unchanged), or -ENOMEM. */
static int numbers(ml_mountstats *ms, const char *s, const char *e, struct pend_nums *out)
{
	size_t first = ms->nnums;
	const char *p = s;
	for (;;) {
		while (p < e && is_blank(*p))
			p++;
		if (p == e)
			break;
		const char *w = p;
		while (p < e && !is_blank(*p))
			p++;
		uint64_t v;
		if (ml__tok_dec(w, p, &v) < 0) {
			ms->nnums = first;
			return 0;
		}
		int r = ml__grow(&ms->nums, &ms->nums_cap, ms->nnums + 1, sizeof(*ms->nums));
		if (r < 0)
			return r;
		ms->nums[ms->nnums++] = v;
	}
	out->num0 = first;
	out->nnum = ms->nnums - first;
	return out->nnum > 0;
}

static int device_line(struct parse *ps, char *p, char *end)
{
	ml_mountstats *ms = ps->ms;
	int r;
	if ((r = ml__grow(&ms->v, &ms->cap, ms->n + 1, sizeof(*ms->v))) < 0 ||
	    (r = ml__grow(&ps->pm, &ps->pm_cap, ms->n + 1, sizeof(*ps->pm))) < 0)
		return r;
	ml_mountstats_mount *m = &ms->v[ms->n];
	memset(m, 0, sizeof(*m));
	/* split first, decode after: decoding writes NULs over the separators */
	enum { MAXTOK = 32 };
	char *ts[MAXTOK], *te[MAXTOK];
	size_t nt = 0;
	const char *q = p;
	while (nt < MAXTOK) {
		const char *e, *s = ml__next_token(&q, end, " ", &e);
		if (s == e)
			break;
		ts[nt] = (char *)s;
		te[nt++] = (char *)e;
	}
#define TOK_IS(i, lit) ((size_t)(te[i] - ts[i]) == sizeof(lit) - 1 && !memcmp(ts[i], lit, sizeof(lit) - 1))
	size_t i = 0;
	if (nt >= 2 && TOK_IS(0, "no") && TOK_IS(1, "device")) {
		i = 2;
	} else if (nt >= 2 && TOK_IS(0, "device")) {
		m->device = ts[1];
		i = 2;
	} else {
		return -EBADMSG;
	}
	if (nt < i + 6 || !TOK_IS(i, "mounted") || !TOK_IS(i + 1, "on") || !TOK_IS(i + 3, "with") ||
	    !TOK_IS(i + 4, "fstype"))
		return -EBADMSG;
#undef TOK_IS
	if (m->device)
		m->device = decode(ts[1], te[1], &m->device_len);
	m->mount_point = decode(ts[i + 2], te[i + 2], &m->mount_point_len);
	m->fs_type = decode(ts[i + 5], te[i + 5], &m->fs_type_len);
	/* anything more is the filesystem's; NFS says "statvers=1.1" */
	for (size_t k = i + 6; k < nt; k++) {
		if (te[k] - ts[k] > 9 && !memcmp(ts[k], "statvers=", 9)) {
			*te[k] = '\0';
			m->statvers = ts[k] + 9;
		}
	}
	ps->pm[ms->n] = (struct pend_mount){ .field0 = ms->nfields, .op0 = ms->nops };
	ms->n++;
	ps->in_ops = false;
	return 0;
}

static int add_field(struct parse *ps, char *name, char *name_end, char *value, char *end)
{
	ml_mountstats *ms = ps->ms;
	int r;
	if ((r = ml__grow(&ms->fields, &ms->fields_cap, ms->nfields + 1, sizeof(*ms->fields))) < 0 ||
	    (r = ml__grow(&ps->pf, &ps->pf_cap, ms->nfields + 1, sizeof(*ps->pf))) < 0)
		return r;
	struct pend_nums *pn = &ps->pf[ms->nfields];
	*pn = (struct pend_nums){ 0 };
	if ((r = numbers(ms, value, end, pn)) < 0)
		return r;
	if (r == 0)
		*pn = (struct pend_nums){ 0 };
	ml_mountstats_field *f = &ms->fields[ms->nfields++];
	*name_end = '\0';
	*end = '\0';
	f->name = name;
	f->value = value;
	f->value_len = (size_t)(end - value);
	ps->pm[ms->n - 1].nfield++;
	return 0;
}

static int add_op(struct parse *ps, char *name, char *colon, char *end)
{
	ml_mountstats *ms = ps->ms;
	int r;
	if ((r = ml__grow(&ms->ops, &ms->ops_cap, ms->nops + 1, sizeof(*ms->ops))) < 0 ||
	    (r = ml__grow(&ps->po, &ps->po_cap, ms->nops + 1, sizeof(*ps->po))) < 0)
		return r;
	struct pend_nums pn = { 0 };
	if ((r = numbers(ms, colon + 1, end, &pn)) <= 0)
		return r; /* 0: not an op line, the caller keeps it as a field */
	ps->po[ms->nops] = pn;
	ml_mountstats_op *o = &ms->ops[ms->nops++];
	*colon = '\0';
	o->name = name;
	ps->pm[ms->n - 1].nop++;
	return 1;
}

static int stat_line(struct parse *ps, char *p, char *end)
{
	if (ps->ms->n == 0)
		return -EBADMSG;
	while (p < end && is_blank(*p))
		p++;
	while (end > p && is_blank(end[-1]))
		end--;
	if (p == end)
		return 0;
	if (end - p == 17 && !memcmp(p, "per-op statistics", 17)) {
		ps->in_ops = true;
		return add_field(ps, p, end, end, end);
	}
	char *colon = memchr(p, ':', (size_t)(end - p));
	if (colon && colon > p && ps->in_ops) {
		int r = add_op(ps, p, colon, end);
		if (r != 0)
			return r < 0 ? r : 0;
	}
	if (!colon || colon == p)
		return add_field(ps, p, end, end, end);
	char *v = colon + 1;
	while (v < end && is_blank(*v))
		v++;
	return add_field(ps, p, colon, v, end);
}

int ml_mountstats_parse(const char *buf, size_t len, ml_mountstats **ret)
{
	if ((!buf && len) || !ret)
		return -EINVAL;
	struct parse ps = { 0 };
	int r = -ENOMEM;
	ml_mountstats *ms = ps.ms = calloc(1, sizeof(*ms));
	if (!ms)
		return -ENOMEM;
	if (!(ms->store = malloc(len + 1)))
		goto fail;
	if (len)
		memcpy(ms->store, buf, len);
	ms->store[len] = '\0';
	char *p = ms->store, *end = ms->store + len;
	while (p < end) {
		char *le = (char *)ml__line_end(p, end);
		if (le == p)
			r = 0;
		else if (is_blank(*p))
			r = stat_line(&ps, p, le);
		else
			r = device_line(&ps, p, le);
		if (r < 0)
			goto fail;
		p = le + 1;
	}
	for (size_t i = 0; i < ms->nfields; i++) {
		ms->fields[i].numbers = ps.pf[i].nnum ? ms->nums + ps.pf[i].num0 : NULL;
		ms->fields[i].nnumbers = ps.pf[i].nnum;
	}
	for (size_t i = 0; i < ms->nops; i++) {
		ms->ops[i].values = ms->nums + ps.po[i].num0;
		ms->ops[i].nvalues = ps.po[i].nnum;
	}
	for (size_t i = 0; i < ms->n; i++) {
		ms->v[i].fields = ps.pm[i].nfield ? ms->fields + ps.pm[i].field0 : NULL;
		ms->v[i].nfields = ps.pm[i].nfield;
		ms->v[i].ops = ps.pm[i].nop ? ms->ops + ps.pm[i].op0 : NULL;
		ms->v[i].nops = ps.pm[i].nop;
	}
	free(ps.pm);
	free(ps.pf);
	free(ps.po);
	*ret = ms;
	return 0;
fail:
	free(ps.pm);
	free(ps.pf);
	free(ps.po);
	ml_mountstats_free(ms);
	return r;
}

int ml_mountstats_read(const ml_proc *p, ml_mountstats **ret)
{
	if (!p || !ret)
		return -EINVAL;
	char *buf;
	size_t len;
	int r = ml__dead_is_gone(p, ml_proc_read_file(p, "mountstats", &buf, &len));
	if (r < 0)
		return r;
	r = ml_mountstats_parse(buf, len, ret);
	free(buf);
	return r;
}

size_t ml_mountstats_count(const ml_mountstats *ms) { return ms ? ms->n : 0; }

const ml_mountstats_mount *ml_mountstats_get(const ml_mountstats *ms, size_t i)
{
	return ms && i < ms->n ? &ms->v[i] : NULL;
}

const ml_mountstats_field *ml_mountstats_find_field(const ml_mountstats_mount *m, const char *name)
{
	for (size_t i = 0; m && name && i < m->nfields; i++)
		if (!strcmp(m->fields[i].name, name))
			return &m->fields[i];
	return NULL;
}

const ml_mountstats_op *ml_mountstats_find_op(const ml_mountstats_mount *m, const char *name)
{
	for (size_t i = 0; m && name && i < m->nops; i++)
		if (!strcmp(m->ops[i].name, name))
			return &m->ops[i];
	return NULL;
}

void ml_mountstats_free(ml_mountstats *ms)
{
	if (!ms)
		return;
	free(ms->v);
	free(ms->fields);
	free(ms->ops);
	free(ms->nums);
	free(ms->store);
	free(ms);
}

/* ---- NFS statistics, typed ---- */

const char *ml_nfs_cap_name(unsigned bit)
{
	static const char *const names[32] = {
		"READDIRPLUS", "HARDLINKS", "SYMLINKS", "ACLS", "ATOMIC_OPEN",
		[14] = "POSIX_LOCK", "UIDGID_NOMAP", "STATEID_NFSV41", "ATOMIC_OPEN_V1", "SECURITY_LABEL",
		"SEEK", "ALLOCATE", "DEALLOCATE", "LAYOUTSTATS", "CLONE", "COPY", "OFFLOAD_CANCEL",
		"LAYOUTERROR", "COPY_NOTIFY", "XATTR", "READ_PLUS", "FS_LOCATIONS", "MOVEABLE",
	};
	return bit < 32 ? names[bit] : NULL;
}

/* "caps=0x3ffbffff,wtmult=512,dtsize=1048576,bsize=0,namlen=255" */
static int nfs_caps(const char *v, ml_nfs_stats *ret)
{
	const char *p = v;
	bool caps = false;
	while (*p) {
		const char *e = strchr(p, ',');
		if (!e)
			e = p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(e - p));
		if (!eq)
			return -EBADMSG;
		const char *q = eq + 1;
		uint64_t n;
		size_t kl = (size_t)(eq - p);
		if (kl == 4 && !memcmp(p, "caps", 4)) {
			if (e - q < 3 || q[0] != '0' || (q[1] != 'x' && q[1] != 'X'))
				return -EBADMSG;
			q += 2;
			if (ml__parse_hex(&q, e, &n) < 0 || q != e || n > UINT32_MAX)
				return -EBADMSG;
			ret->caps = (uint32_t)n;
			caps = true;
		} else if (ml__parse_dec(&q, e, &n) == 0 && q == e && n <= UINT32_MAX) {
			if (kl == 6 && !memcmp(p, "wtmult", 6))
				ret->wtmult = (uint32_t)n;
			else if (kl == 6 && !memcmp(p, "dtsize", 6))
				ret->dtsize = (uint32_t)n;
			else if (kl == 5 && !memcmp(p, "bsize", 5))
				ret->bsize = (uint32_t)n;
			else if (kl == 6 && !memcmp(p, "namlen", 6))
				ret->namlen = (uint32_t)n;
		}
		p = *e ? e + 1 : e;
	}
	if (!caps)
		return -EBADMSG;
	ret->has_caps = true;
	return 0;
}

int ml_mountstats_nfs(const ml_mountstats_mount *m, ml_nfs_stats *ret)
{
	if (!m || !ret)
		return -EINVAL;
	if (!m->nfields && !m->nops)
		return -ENOENT;
	ml_nfs_stats s;
	memset(&s, 0, sizeof(s));
	s.statvers = m->statvers;
	const ml_mountstats_field *f;
	if ((f = ml_mountstats_find_field(m, "age"))) {
		if (f->nnumbers != 1)
			return -EBADMSG;
		s.age_s = f->numbers[0];
		s.has_age = true;
	}
	if ((f = ml_mountstats_find_field(m, "caps")) && nfs_caps(f->value, &s) < 0)
		return -EBADMSG;
	if ((f = ml_mountstats_find_field(m, "events"))) {
		/* older kernels print fewer counters; more than known is a layout we do not know */
		if (!f->nnumbers || f->nnumbers > ML_NFS_EVENTS)
			return -EBADMSG;
		uint64_t v[ML_NFS_EVENTS] = { 0 };
		memcpy(v, f->numbers, f->nnumbers * sizeof(uint64_t));
		_Static_assert(sizeof(ml_nfs_events) == sizeof(v), "ml_nfs_events is 27 counters");
		memcpy(&s.events, v, sizeof(v));
		s.nevents = f->nnumbers;
		s.has_events = true;
	}
	if ((f = ml_mountstats_find_field(m, "bytes"))) {
		if (f->nnumbers != ML_NFS_BYTES)
			return -EBADMSG;
		_Static_assert(sizeof(ml_nfs_bytes) == ML_NFS_BYTES * sizeof(uint64_t), "ml_nfs_bytes is 8 counters");
		memcpy(&s.bytes, f->numbers, sizeof(s.bytes));
		s.has_bytes = true;
	}
	if ((f = ml_mountstats_find_field(m, "opts")))
		s.opts = f->value;
	if ((f = ml_mountstats_find_field(m, "sec")))
		s.sec = f->value;
	*ret = s;
	return 0;
}

int ml_mountstats_nfs_op(const ml_mountstats_op *op, ml_nfs_op *ret)
{
	if (!op || !ret)
		return -EINVAL;
	if (op->nvalues < 8)
		return -EBADMSG;
	const uint64_t *v = op->values;
	ml_nfs_op o = {
		.name = op->name, .operations = v[0], .transmissions = v[1], .major_timeouts = v[2],
		.bytes_sent = v[3], .bytes_recv = v[4], .cum_queue_ms = v[5], .cum_resp_ms = v[6],
		.cum_total_req_ms = v[7], .has_errors = op->nvalues > 8, .errors = op->nvalues > 8 ? v[8] : 0,
	};
	*ret = o;
	return 0;
}
