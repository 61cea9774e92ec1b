/* ml_source: one interface over a live process and a snapshot file; dispatches to a backend. */
#include <string.h>

#include "internal/internal.h"
#include "internal/source_impl.h"

struct ml_source {
	ml_source_type type;
	const ml_source_ops *ops;
	void *impl;
	const ml_proc *proc; /* live only (borrowed or owned by impl) */
};

int ml__source_new(ml_source_type type, const ml_source_ops *ops, void *impl,
		   const ml_proc *proc, ml_source **ret)
{
	ml_source *s = calloc(1, sizeof(*s));
	if (!s) {
		ops->free(impl);
		return -ENOMEM;
	}
	s->type = type;
	s->ops = ops;
	s->impl = impl;
	s->proc = proc;
	*ret = s;
	return 0;
}

void *ml__source_impl(const ml_source *s) { return s->impl; }

ml_source_type ml_source_get_type(const ml_source *s) { return s ? s->type : 0; }
pid_t ml_source_pid(const ml_source *s) { return s ? s->ops->pid(s->impl) : 0; }
const ml_proc *ml_source_proc(const ml_source *s) { return s ? s->proc : NULL; }

int ml_source_maps(const ml_source *s, ml_maps **ret)
{
	if (!s || !ret)
		return -EINVAL;
	return s->ops->maps(s->impl, ret);
}

int ml_source_read_file(const ml_source *s, const char *name, char **ret, size_t *ret_len)
{
	if (!s || !name || !ret || !ret_len)
		return -EINVAL;
	return s->ops->read_file(s->impl, name, ret, ret_len);
}

ssize_t ml_source_runs(const ml_source *s, uint64_t start, uint64_t end, unsigned flags,
		       ml_run *vec, size_t n, uint64_t *next)
{
	if (!s || !vec || !next || end < start)
		return -EINVAL;
	return s->ops->runs(s->impl, start, end, flags, vec, n, next);
}

ssize_t ml_source_read(const ml_source *s, uint64_t addr, void *buf, size_t len, unsigned flags)
{
	if (!s || (!buf && len))
		return -EINVAL;
	return s->ops->read(s->impl, addr, buf, len, flags);
}

const char *ml_source_error(const ml_source *s)
{
	if (!s || !s->ops->error)
		return "";
	const char *e = s->ops->error(s->impl);
	return e ? e : "";
}

void ml_source_free(ml_source *s)
{
	if (!s)
		return;
	s->ops->free(s->impl);
	free(s);
}

/* ---- the live backend ---- */

typedef struct live {
	const ml_proc *proc;
	ml_proc *owned;
} live;

static void live_free(void *impl)
{
	live *l = impl;
	ml_proc_free(l->owned);
	free(l);
}

static pid_t live_pid(const void *impl) { return ml_proc_pid(((const live *)impl)->proc); }

static int live_maps(const void *impl, ml_maps **ret)
{
	return ml_maps_read(((const live *)impl)->proc, ML_MAPS_AUTO, ret);
}

static int live_read_file(const void *impl, const char *name, char **ret, size_t *ret_len)
{
	return ml_proc_read_file(((const live *)impl)->proc, name, ret, ret_len);
}

static ssize_t live_runs(const void *impl, uint64_t start, uint64_t end, unsigned flags,
			 ml_run *vec, size_t n, uint64_t *next)
{
	(void)impl; (void)start; (void)end; (void)flags; (void)vec; (void)n; (void)next;
	return -EOPNOTSUPP; /* filled in with the pagemap readers */
}

static ssize_t live_read(const void *impl, uint64_t addr, void *buf, size_t len, unsigned flags)
{
	(void)impl; (void)addr; (void)buf; (void)len; (void)flags;
	return -EOPNOTSUPP; /* filled in with the populated-only memory reader */
}

static const ml_source_ops live_ops = {
	.free = live_free,
	.pid = live_pid,
	.maps = live_maps,
	.read_file = live_read_file,
	.runs = live_runs,
	.read = live_read,
};

int ml_source_open_proc(const ml_proc *p, ml_source **ret)
{
	if (!p || !ret)
		return -EINVAL;
	live *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->proc = p;
	return ml__source_new(ML_SOURCE_LIVE, &live_ops, l, p, ret);
}

int ml_source_open_pid(pid_t pid, ml_source **ret)
{
	if (!ret)
		return -EINVAL;
	ml_proc *p;
	int r = ml_proc_open(pid, &p);
	if (r < 0)
		return r;
	live *l = calloc(1, sizeof(*l));
	if (!l) {
		ml_proc_free(p);
		return -ENOMEM;
	}
	l->proc = l->owned = p;
	return ml__source_new(ML_SOURCE_LIVE, &live_ops, l, p, ret);
}

int ml_source_open_file(const char *path, ml_source **ret)
{
	if (!path || !ret)
		return -EINVAL;
	return ml__snapshot_source_open(path, ret);
}

int ml_source_open(const char *spec, ml_source **ret)
{
	if (!spec || !*spec || !ret)
		return -EINVAL;
	bool digits = true;
	for (const char *c = spec; *c; c++)
		if (*c < '0' || *c > '9')
			digits = false;
	if (digits) {
		long pid = strtol(spec, NULL, 10);
		if (pid <= 0 || pid > 0x3fffffff)
			return -ESRCH;
		return ml_source_open_pid((pid_t)pid, ret);
	}
	return ml_source_open_file(spec, ret);
}
