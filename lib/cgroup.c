/* /proc/PID/cgroup (v1 and v2 lines) and the memory limits of the process's cgroup. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <memlens/cgroup.h>

#include "internal/escape.h"
#include "internal/internal.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

struct ml_cgroups {
	ml_cgroup *v;
	size_t n, cap;
	const char **names;          /* pool of controller names */
	size_t nnames, names_cap;
	char *store;                 /* a copy of the input, NUL-separated in place */
	char **paths;                /* paths rebuilt across continuation lines */
	size_t npaths;
};

struct pending { size_t name0, nname; };

static const char deleted_sfx[] = " (deleted)";

static bool is_record_start(const char *p, const char *end)
{
	const char *s = p;
	while (s < end && *s >= '0' && *s <= '9')
		s++;
	return s > p && s < end && *s == ':';
}

static int add_path_copy(ml_cgroups *cg, ml_cgroup *c, const char *more, size_t morelen)
{
	/* A continuation line: the path really held a '\n'. Rebuild it in its own buffer. */
	if (c->path_len > SIZE_MAX - morelen - 2)
		return -ENOMEM;
	char *np = malloc(c->path_len + 1 + morelen + 1);
	if (!np)
		return -ENOMEM;
	memcpy(np, c->path, c->path_len);
	np[c->path_len] = '\n';
	memcpy(np + c->path_len + 1, more, morelen);
	np[c->path_len + 1 + morelen] = '\0';
	char **nv = realloc(cg->paths, (cg->npaths + 1) * sizeof(*nv));
	if (!nv) {
		free(np);
		return -ENOMEM;
	}
	cg->paths = nv;
	cg->paths[cg->npaths++] = np;
	c->path = np;
	c->path_len += 1 + morelen;
	return 0;
}

static void strip_deleted(ml_cgroup *c)
{
	size_t sl = sizeof(deleted_sfx) - 1;
	if (c->v2 && c->path_len >= sl && !memcmp(c->path + c->path_len - sl, deleted_sfx, sl)) {
		c->path_len -= sl;
		((char *)c->path)[c->path_len] = '\0';
		c->deleted = true;
	}
}

int ml_cgroups_parse(const char *buf, size_t len, ml_cgroups **ret)
{
	if ((!buf && len) || !ret)
		return -EINVAL;
	ml_cgroups *cg = calloc(1, sizeof(*cg));
	struct pending *pend = NULL;
	size_t pend_cap = 0;
	int r = -ENOMEM;
	if (!cg)
		return -ENOMEM;
	/* two copies: one cut into lines and fields, one cut into controller names */
	if (len > SIZE_MAX / 2 - 1 || !(cg->store = malloc(2 * (len + 1))))
		goto fail;
	if (len) {
		memcpy(cg->store, buf, len);
		memcpy(cg->store + len + 1, buf, len);
	}
	cg->store[len] = '\0';
	cg->store[2 * len + 1] = '\0';
	char *names_plane = cg->store + len + 1;

	char *p = cg->store, *end = cg->store + len;
	while (p < end) {
		char *le = (char *)ml__line_end(p, end);
		if (le == p) { /* the kernel prints no empty lines; skip them */
			p = le + 1;
			continue;
		}
		if (!is_record_start(p, le)) {
			/* continuation of the previous path, or garbage before any record */
			if (cg->n == 0) {
				r = -EBADMSG;
				goto fail;
			}
			if ((r = add_path_copy(cg, &cg->v[cg->n - 1], p, (size_t)(le - p))) < 0)
				goto fail;
			p = le + 1;
			continue;
		}
		if ((r = ml__grow(&cg->v, &cg->cap, cg->n + 1, sizeof(*cg->v))) < 0 ||
		    (r = ml__grow(&pend, &pend_cap, cg->n + 1, sizeof(*pend))) < 0)
			goto fail;
		ml_cgroup *c = &cg->v[cg->n];
		memset(c, 0, sizeof(*c));
		char *c1 = memchr(p, ':', (size_t)(le - p));
		char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(le - c1 - 1)) : NULL;
		uint64_t h;
		if (!c1 || !c2 || ml__tok_dec(p, c1, &h) < 0 || h > UINT32_MAX) {
			r = -EBADMSG;
			goto fail;
		}
		c->hierarchy = (uint32_t)h;
		*c2 = '\0';
		c->controllers = c1 + 1;
		c->path = c2 + 1;
		c->path_len = (size_t)(le - c2 - 1);
		*le = '\0'; /* le may be end: store has a spare byte */
		c->v2 = h == 0 && c2 == c1 + 1;
		pend[cg->n].name0 = cg->nnames;
		pend[cg->n].nname = 0;
		char *n2 = names_plane + (c2 - cg->store);
		for (char *s = names_plane + (c1 + 1 - cg->store); s < n2;) {
			char *e = memchr(s, ',', (size_t)(n2 - s));
			if (!e)
				e = n2;
			if (e > s) {
				if ((r = ml__grow(&cg->names, &cg->names_cap, cg->nnames + 1, sizeof(*cg->names))) < 0)
					goto fail;
				*e = '\0';
				cg->names[cg->nnames++] = s;
				pend[cg->n].nname++;
			}
			s = e + 1;
		}
		cg->n++;
		p = le + 1;
	}
	for (size_t i = 0; i < cg->n; i++) {
		cg->v[i].names = pend[i].nname ? cg->names + pend[i].name0 : NULL;
		cg->v[i].nnames = pend[i].nname;
		strip_deleted(&cg->v[i]);
	}
	free(pend);
	*ret = cg;
	return 0;
fail:
	free(pend);
	ml_cgroups_free(cg);
	return r;
}

int ml_cgroups_read(const ml_proc *p, ml_cgroups **ret)
{
	if (!p || !ret)
		return -EINVAL;
	char *buf;
	size_t len;
	int r = ml_proc_read_file(p, "cgroup", &buf, &len);
	if (r < 0)
		return r;
	r = ml_cgroups_parse(buf, len, ret);
	free(buf);
	return r;
}

size_t ml_cgroups_count(const ml_cgroups *cg) { return cg ? cg->n : 0; }

const ml_cgroup *ml_cgroups_get(const ml_cgroups *cg, size_t i)
{
	return cg && i < cg->n ? &cg->v[i] : NULL;
}

const ml_cgroup *ml_cgroups_v2(const ml_cgroups *cg)
{
	for (size_t i = 0; cg && i < cg->n; i++)
		if (cg->v[i].v2)
			return &cg->v[i];
	return NULL;
}

const ml_cgroup *ml_cgroups_v1(const ml_cgroups *cg, const char *controller)
{
	for (size_t i = 0; cg && controller && i < cg->n; i++)
		for (size_t j = 0; j < cg->v[i].nnames; j++)
			if (!strcmp(cg->v[i].names[j], controller))
				return &cg->v[i];
	return NULL;
}

void ml_cgroups_free(ml_cgroups *cg)
{
	if (!cg)
		return;
	for (size_t i = 0; i < cg->npaths; i++)
		free(cg->paths[i]);
	free(cg->paths);
	free(cg->v);
	free(cg->names);
	free(cg->store);
	free(cg);
}

/* ---- resolving and reading the cgroup directory ---- */

static bool mount_serves(const ml_mount *m, const ml_cgroup *cg)
{
	if (cg->v2)
		return m->fs_type_len == 7 && !memcmp(m->fs_type, "cgroup2", 7);
	if (m->fs_type_len != 6 || memcmp(m->fs_type, "cgroup", 6))
		return false;
	/* a v1 mount carries its controllers as super options ("rw,memory", "rw,cpu,cpuacct") */
	for (size_t i = 0; i < cg->nnames; i++) {
		const char *n = cg->names[i], *eq = strchr(n, '=');
		if (!eq) {
			if (!ml_mount_find_opt(m, true, n))
				return false;
			continue;
		}
		/* a named hierarchy "name=systemd" is the option name with that value */
		bool found = false;
		for (size_t j = 0; j < m->nsuper_opts && !found; j++) {
			const ml_mount_opt *o = &m->super_opts[j];
			found = o->value && o->name_len == (size_t)(eq - n) && !memcmp(o->name, n, o->name_len) &&
				o->value_len == strlen(eq + 1) && !memcmp(o->value, eq + 1, o->value_len);
		}
		if (!found)
			return false;
	}
	return cg->nnames > 0;
}

int ml_cgroup_dir(const ml_cgroup *cg, const ml_mountinfo *mounts, char **ret, size_t *ret_len)
{
	if (!cg || !mounts || !ret || !ret_len)
		return -EINVAL;
	const char *path = cg->path;
	size_t plen = cg->path_len;
	if (plen < 1 || path[0] != '/' || (plen >= 3 && !memcmp(path, "/..", 3) && (plen == 3 || path[3] == '/')))
		return -ENOENT;
	for (size_t i = 0; i < ml_mountinfo_count(mounts); i++) {
		const ml_mount *m = ml_mountinfo_get(mounts, i);
		if (!mount_serves(m, cg))
			continue;
		/* the mount shows the subtree at m->root; the cgroup must lie inside it */
		size_t rl = m->root_len;
		if (rl == 1 && m->root[0] == '/')
			rl = 0;
		if (rl > plen || memcmp(m->root, path, rl) != 0 || (rl < plen && path[rl] != '/'))
			continue;
		const char *rest = path + rl;
		size_t restl = plen - rl;
		if (restl == 1) /* just "/" */
			restl = 0;
		size_t mpl = m->mount_point_len;
		if (mpl == 1 && m->mount_point[0] == '/' && restl)
			mpl = 0; /* a cgroup fs mounted on "/" itself: avoid "//x" */
		char *d = malloc(mpl + restl + 1);
		if (!d)
			return -ENOMEM;
		memcpy(d, m->mount_point, mpl);
		memcpy(d + mpl, rest, restl);
		d[mpl + restl] = '\0';
		*ret = d;
		*ret_len = mpl + restl;
		return 0;
	}
	return -ENOENT;
}

int ml_cgroup_value_parse(const char *buf, size_t len, uint64_t *ret)
{
	if ((!buf && len) || !ret)
		return -EINVAL;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		len--;
	if (len == 3 && !memcmp(buf, "max", 3)) {
		*ret = ML_CGROUP_UNLIMITED;
		return 0;
	}
	return ml__tok_dec(buf, buf + len, ret);
}

int ml_cgroup_keyed_parse(const char *buf, size_t len, const char *key, uint64_t *ret)
{
	if ((!buf && len) || !key || !ret)
		return -EINVAL;
	size_t kl = strlen(key);
	const char *p = buf, *end = buf + len;
	while (p < end) {
		const char *le = ml__line_end(p, end);
		if ((size_t)(le - p) > kl && !memcmp(p, key, kl) && p[kl] == ' ') {
			const char *v = p + kl;
			while (v < le && *v == ' ')
				v++;
			return ml__tok_dec(v, le, ret);
		}
		p = le + 1;
	}
	return -ENOENT;
}

struct ml_cgroup_memory_priv {
	ml_cgroup_memory pub;
	char *dir, *path, *effective_dir;
};

static uint64_t v1_unlimited_floor(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	if (ps <= 0)
		ps = 4096;
	return (uint64_t)INT64_MAX - (uint64_t)(ps - 1);
}

/* Reads "KEY VALUE" from the keyed file @name ("memory.events:oom_kill" style spec). */
static ml_cgroup_value read_keyed(int dfd, const char *spec)
{
	ml_cgroup_value v = { .err = -ENOENT };
	const char *colon = strchr(spec, ':');
	char name[64];
	snprintf(name, sizeof(name), "%.*s", (int)(colon - spec), spec);
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		v.err = ml_neg_errno();
		return v;
	}
	char *buf;
	size_t len;
	v.err = ml__read_fd_all(fd, 1024, &buf, &len);
	close(fd);
	if (v.err == 0) {
		v.err = ml_cgroup_keyed_parse(buf, len, colon + 1, &v.value);
		free(buf);
	}
	return v;
}

/* Reads one value file @name in directory fd @dfd; "file:key" names a keyed file's entry. */
static ml_cgroup_value read_value(int dfd, const char *name, int version)
{
	ml_cgroup_value v = { .err = -ENOENT };
	if (!name)
		return v;
	if (strchr(name, ':'))
		return read_keyed(dfd, name);
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		v.err = ml_neg_errno();
		return v;
	}
	char buf[64];
	ssize_t n;
	do
		n = read(fd, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	v.err = n < 0 ? ml_neg_errno() : 0;
	close(fd);
	if (v.err < 0)
		return v;
	if ((size_t)n == sizeof(buf)) {
		v.err = -EBADMSG;
		return v;
	}
	v.err = ml_cgroup_value_parse(buf, (size_t)n, &v.value);
	if (v.err == 0 && version == 1 && v.value != ML_CGROUP_UNLIMITED && v.value >= v1_unlimited_floor())
		v.value = ML_CGROUP_UNLIMITED;
	return v;
}

struct field_map {
	size_t off;
	const char *v2, *v1;
};

#define FIELD(f, a, b) { offsetof(ml_cgroup_memory, f), a, b }
static const struct field_map fields[] = {
	FIELD(max, "memory.max", "memory.limit_in_bytes"),
	FIELD(high, "memory.high", NULL),
	FIELD(low, "memory.low", NULL),
	FIELD(min, "memory.min", NULL),
	FIELD(current, "memory.current", "memory.usage_in_bytes"),
	FIELD(peak, "memory.peak", "memory.max_usage_in_bytes"),
	FIELD(swap_max, "memory.swap.max", NULL),
	FIELD(swap_current, "memory.swap.current", NULL),
	FIELD(soft_limit, NULL, "memory.soft_limit_in_bytes"),
	FIELD(memsw_max, NULL, "memory.memsw.limit_in_bytes"),
	FIELD(events_max, "memory.events:max", "memory.failcnt"),
	FIELD(events_oom, "memory.events:oom", NULL),
	FIELD(events_oom_kill, "memory.events:oom_kill", "memory.oom_control:oom_kill"),
};

static bool v2_has_memory(const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return false;
	bool yes = faccessat(dfd, "memory.current", F_OK, 0) == 0 || faccessat(dfd, "memory.max", F_OK, 0) == 0;
	close(dfd);
	return yes;
}

/* Walks from the cgroup directory up to the mount point (@mount_len bytes of it),
 * keeping the smallest limit: a child can never use more than any ancestor allows. */
static int effective_limit(struct ml_cgroup_memory_priv *m, size_t mount_len, const char *maxname)
{
	char *d = strdup(m->dir);
	if (!d)
		return -ENOMEM;
	size_t l = strlen(d);
	ml_cgroup_value best = { .err = -ENOENT };
	size_t best_len = 0;
	for (;;) {
		d[l] = '\0';
		int dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			ml_cgroup_value v = read_value(dfd, maxname, m->pub.version);
			close(dfd);
			if (v.err == 0 && (best.err < 0 || v.value < best.value)) {
				best = v;
				best_len = l;
			}
		}
		if (l <= mount_len)
			break;
		size_t k = l;
		while (k > mount_len && d[k - 1] != '/')
			k--;
		l = k > mount_len ? k - 1 : mount_len;
		if (l == 0)
			l = 1; /* the filesystem root "/" */
	}
	m->pub.effective_max = best;
	if (best.err == 0) {
		memcpy(d, m->dir, best_len);
		d[best_len] = '\0';
		m->effective_dir = d;
		m->pub.effective_dir = d;
	} else {
		free(d);
	}
	return 0;
}

static int fill_from(struct ml_cgroup_memory_priv *m, const ml_cgroup *cg, const ml_mountinfo *mounts,
		     char *dir, size_t dir_len, int version)
{
	m->pub.version = version;
	m->dir = dir;
	m->pub.dir = dir;
	m->pub.dir_len = dir_len;
	if (!(m->path = malloc(cg->path_len + 1)))
		return -ENOMEM;
	memcpy(m->path, cg->path, cg->path_len);
	m->path[cg->path_len] = '\0';
	m->pub.path = m->path;
	m->pub.path_len = cg->path_len;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int derr = dfd < 0 ? ml_neg_errno() : 0;
	for (size_t i = 0; i < ML_ARRAY_SIZE(fields); i++) {
		ml_cgroup_value *v = (ml_cgroup_value *)((char *)&m->pub + fields[i].off);
		const char *name = version == 2 ? fields[i].v2 : fields[i].v1;
		if (dfd < 0)
			*v = (ml_cgroup_value){ .err = name ? derr : -ENOENT };
		else
			*v = read_value(dfd, name, version);
	}
	if (dfd >= 0)
		close(dfd);
	/* the mount point of the hierarchy bounds the walk up */
	const ml_mount *mt = ml_mountinfo_find_path(mounts, dir, dir_len);
	size_t mount_len = mt ? mt->mount_point_len : dir_len;
	if (mount_len > dir_len)
		mount_len = dir_len;
	return effective_limit(m, mount_len, version == 2 ? "memory.max" : "memory.limit_in_bytes");
}

void ml_cgroup_memory_free(ml_cgroup_memory *pub)
{
	if (!pub)
		return;
	struct ml_cgroup_memory_priv *m = (struct ml_cgroup_memory_priv *)pub;
	free(m->dir);
	free(m->path);
	free(m->effective_dir);
	free(m);
}

/* A mount table with one synthetic cgroup2 mount at /sys/fs/cgroup, for callers whose
 * own mountinfo could not be read. */
static int fallback_mounts(ml_mountinfo **ret)
{
	struct statfs fs;
	if (statfs("/sys/fs/cgroup", &fs) < 0 || (unsigned long)fs.f_type != CGROUP2_SUPER_MAGIC)
		return -ENOENT;
	static const char line[] = "0 0 0:0 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
	return ml_mountinfo_parse(line, sizeof(line) - 1, ret);
}

static int read_self_mounts(ml_mountinfo **ret)
{
	int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ml_neg_errno();
	char *buf;
	size_t len;
	int r = ml__read_fd_all(fd, 16384, &buf, &len);
	close(fd);
	if (r < 0)
		return r;
	r = ml_mountinfo_parse(buf, len, ret);
	free(buf);
	return r;
}

int ml_cgroup_memory_read(const ml_proc *p, const ml_cgroup_memory_opts *opts, ml_cgroup_memory **ret)
{
	ML_OPTS(ml_cgroup_memory_opts, o);
	if (!p || !ret || ml__opts_load(&o, sizeof(o), opts, offsetof(ml_cgroup_memory_opts, mounts)) < 0)
		return -EINVAL;
	ml_cgroups *own_cg = NULL;
	ml_mountinfo *own_mi = NULL, *fb_mi = NULL;
	const ml_cgroups *cgs = o.cgroups;
	const ml_mountinfo *mis = o.mounts;
	struct ml_cgroup_memory_priv *m = NULL;
	char *v2dir = NULL, *v1dir = NULL;
	size_t v2len = 0, v1len = 0;
	int r;

	if (!cgs) {
		if ((r = ml_cgroups_read(p, &own_cg)) < 0)
			goto out;
		cgs = own_cg;
	}
	if (!mis) {
		if (read_self_mounts(&own_mi) == 0)
			mis = own_mi;
	}
	const ml_cgroup *c2 = ml_cgroups_v2(cgs), *c1 = ml_cgroups_v1(cgs, "memory");
	const ml_mountinfo *v2src = mis;
	if (c2 && mis)
		ml_cgroup_dir(c2, mis, &v2dir, &v2len);
	if (c2 && !v2dir && fallback_mounts(&fb_mi) == 0) {
		ml_cgroup_dir(c2, fb_mi, &v2dir, &v2len);
		v2src = fb_mi;
	}
	if (c1 && mis)
		ml_cgroup_dir(c1, mis, &v1dir, &v1len);

	if (!(m = calloc(1, sizeof(*m)))) {
		r = -ENOMEM;
		goto out;
	}
	bool v2mem = v2dir && v2_has_memory(v2dir);
	if (v2dir && (v2mem || !v1dir) && !(o.prefer_v1 && v1dir)) {
		r = fill_from(m, c2, v2src, v2dir, v2len, 2);
		v2dir = NULL;
	} else if (v1dir) {
		r = fill_from(m, c1, mis, v1dir, v1len, 1);
		v1dir = NULL;
	} else {
		r = -ENOENT;
	}
	if (r == 0) {
		*ret = &m->pub;
		m = NULL;
	}
out:
	if (m)
		ml_cgroup_memory_free(&m->pub);
	free(v2dir);
	free(v1dir);
	ml_cgroups_free(own_cg);
	ml_mountinfo_free(own_mi);
	ml_mountinfo_free(fb_mi);
	return r;
}
