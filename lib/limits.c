/* /proc/PID/limits: fixed resource names, then soft, hard ("unlimited" or a number), units. */
#include <string.h>

#include <memlens/limits.h>

#include "internal/pinfo.h"

static const struct {
	const char *name, *key;
} res[ML_LIMIT_COUNT] = {
	{ "Max cpu time", "cpu" }, { "Max file size", "fsize" }, { "Max data size", "data" },
	{ "Max stack size", "stack" }, { "Max core file size", "core" },
	{ "Max resident set", "rss" }, { "Max processes", "nproc" },
	{ "Max open files", "nofile" }, { "Max locked memory", "memlock" },
	{ "Max address space", "as" }, { "Max file locks", "locks" },
	{ "Max pending signals", "sigpending" }, { "Max msgqueue size", "msgqueue" },
	{ "Max nice priority", "nice" }, { "Max realtime priority", "rtprio" },
	{ "Max realtime timeout", "rttime" },
};

const char *ml_limit_name(int r) { return r >= 0 && r < ML_LIMIT_COUNT ? res[r].name : NULL; }
const char *ml_limit_key(int r) { return r >= 0 && r < ML_LIMIT_COUNT ? res[r].key : NULL; }

static int token(const char **p, const char *e, const char **ts, const char **te)
{
	ml__skip_blank(p, e);
	*ts = *p;
	while (*p < e && **p != ' ' && **p != '\t')
		(*p)++;
	*te = *p;
	return *te > *ts ? 0 : -EBADMSG;
}

static int value(const char *s, const char *e, uint64_t *ret)
{
	if (e - s == 9 && !memcmp(s, "unlimited", 9)) {
		*ret = ML_LIMIT_UNLIMITED;
		return 0;
	}
	ml__trim(&s, &e);
	return ml__tok_dec(s, e, ret);
}

int ml_limits_parse(const char *buf, size_t len, ml_limits *ret)
{
	if ((!buf && len) || !ret)
		return -EINVAL;
	ml_limits l;
	memset(&l, 0, sizeof(l));
	const char *p = buf, *end = buf + len;
	bool header = false;
	while (p < end) {
		const char *le = ml__line_end(p, end), *q = p;
		const char *next = le < end ? le + 1 : le;
		if (!header) {
			if ((size_t)(le - p) < 5 || memcmp(p, "Limit", 5))
				return -EBADMSG;
			header = true;
			p = next;
			continue;
		}
		int r = -1;
		for (int i = 0; i < ML_LIMIT_COUNT; i++) {
			size_t n = strlen(res[i].name);
			if ((size_t)(le - p) > n && !memcmp(p, res[i].name, n) && p[n] == ' ') {
				r = i;
				q = p + n;
				break;
			}
		}
		if (r < 0) {
			if (le > p)
				l.n_unknown++;
			p = next;
			continue;
		}
		const char *s, *e;
		ml_limit *x = &l.lim[r];
		if (token(&q, le, &s, &e) < 0 || value(s, e, &x->soft) < 0 ||
		    token(&q, le, &s, &e) < 0 || value(s, e, &x->hard) < 0)
			return -EBADMSG;
		if (token(&q, le, &s, &e) == 0) {
			size_t n = ML_MIN((size_t)(e - s), sizeof(x->units) - 1);
			memcpy(x->units, s, n);
		}
		ml__skip_blank(&q, le);
		if (q != le)
			return -EBADMSG;
		x->present = true;
		p = next;
	}
	if (!header)
		return -EBADMSG;
	*ret = l;
	return 0;
}

static int parse_cb(const char *b, size_t l, void *r) { return ml_limits_parse(b, l, r); }
int ml_limits_read(const ml_proc *p, ml_limits *ret) { return ml__read_parse(p, "limits", parse_cb, ret); }
