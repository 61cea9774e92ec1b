/* /proc/PID/ns/: namespace type -> (inode, dev), read relative to the process handle. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memlens/ns.h>

#include "internal/internal.h"

static const char *const known[] = {
	"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children",
	"time", "time_for_children", "user", "uts",
};

struct ml_namespaces {
	ml_ns *v;
	size_t n, cap;
	char **strs;
	size_t nstrs, strs_cap;
};

int ml_ns_parse_link(const char *buf, size_t len, size_t *ret_type_len, uint64_t *ret_inode)
{
	if ((!buf && len) || !ret_type_len || !ret_inode)
		return -EINVAL;
	if (len == 0)
		return -EBADMSG;
	const char *colon = memchr(buf, ':', len);
	if (!colon || colon == buf || len - (size_t)(colon - buf) < 4)
		return -EBADMSG;
	const char *s = colon + 1, *end = buf + len;
	if (*s != '[' || end[-1] != ']')
		return -EBADMSG;
	s++;
	uint64_t ino;
	const char *q = s;
	if (ml__parse_dec(&q, end - 1, &ino) < 0 || q != end - 1)
		return -EBADMSG;
	*ret_type_len = (size_t)(colon - buf);
	*ret_inode = ino;
	return 0;
}

static char *keep(ml_namespaces *ns, const char *s, size_t n)
{
	if (ml__grow(&ns->strs, &ns->strs_cap, ns->nstrs + 1, sizeof(*ns->strs)) < 0)
		return NULL;
	char *c = malloc(n + 1);
	if (!c)
		return NULL;
	memcpy(c, s, n);
	c[n] = '\0';
	ns->strs[ns->nstrs++] = c;
	return c;
}

static int add(ml_namespaces *ns, const char *name, ml_ns **ret)
{
	int r = ml__grow(&ns->v, &ns->cap, ns->n + 1, sizeof(*ns->v));
	if (r < 0)
		return r;
	ml_ns *e = &ns->v[ns->n];
	memset(e, 0, sizeof(*e));
	if (!(e->name = keep(ns, name, strlen(name))))
		return -ENOMEM;
	ns->n++;
	*ret = e;
	return 0;
}

static int read_one(const ml_proc *p, ml_namespaces *ns, ml_ns *e)
{
	char rel[300];
	snprintf(rel, sizeof(rel), "ns/%s", e->name);
	char *link;
	size_t ll;
	int r = ml_proc_readlink(p, rel, &link, &ll);
	if (r == -ESRCH)
		return r;
	if (r < 0) {
		e->err = r;
		e->type = e->name;
		return 0;
	}
	size_t tl;
	uint64_t ino;
	if (ml_ns_parse_link(link, ll, &tl, &ino) < 0) {
		e->err = -EBADMSG;
		e->type = e->name;
		free(link);
		return 0;
	}
	e->type = keep(ns, link, tl);
	free(link);
	if (!e->type)
		return -ENOMEM;
	e->inode = ino;
	/* The link text carries the inode; the device needs the namespace file itself. A
	 * fixture tree holds plain symlinks with the same text, which do not resolve. */
	struct stat sb;
	if (ml__proc_fstatat(p, rel, &sb, 0) == 0 && (uint64_t)sb.st_ino == ino) {
		e->dev = (uint64_t)sb.st_dev;
		e->dev_known = true;
	}
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const ml_ns *)a)->name, ((const ml_ns *)b)->name);
}

int ml_namespaces_read(const ml_proc *p, ml_namespaces **ret)
{
	if (!p || !ret)
		return -EINVAL;
	ml_namespaces *ns = calloc(1, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	int r;
	int dfd = ml_proc_openat(p, "ns", O_RDONLY | O_DIRECTORY);
	ml_ns *e;
	if (dfd == -EACCES || dfd == -EPERM) {
		/* The directory is mode 0511: others may not list it but may still try each
		 * link (which the ptrace check then decides). Fall back to the known names. */
	} else if (dfd < 0) {
		r = dfd;
		goto fail;
	} else {
		DIR *d = fdopendir(dfd);
		if (!d) {
			r = ml_neg_errno();
			close(dfd);
			goto fail;
		}
		struct dirent *de;
		r = 0;
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			if ((r = add(ns, de->d_name, &e)) < 0)
				break;
		}
		closedir(d);
		if (r < 0)
			goto fail;
	}
	size_t listed = ns->n;
	for (size_t k = 0; k < ML_ARRAY_SIZE(known); k++) {
		bool have = false;
		for (size_t i = 0; i < ns->n && !have; i++)
			have = !strcmp(ns->v[i].name, known[k]);
		if (!have) {
			if ((r = add(ns, known[k], &e)) < 0)
				goto fail;
			if (listed || dfd >= 0) {
				e->err = -ENOENT;
				e->type = e->name;
			}
		}
	}
	/* The directory the handle holds, as the caller's /proc/self/fd names it. */
	char fdpath[64], base[4096];
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", ml_proc_dirfd(p));
	ssize_t bl = readlink(fdpath, base, sizeof(base) - 1);
	if (bl < 0)
		bl = 0;
	base[bl] = '\0';
	for (size_t i = 0; i < ns->n; i++) {
		char path[sizeof(base) + 300];
		/* relative to the handle when the caller cannot name its directory */
		int pl = snprintf(path, sizeof(path), "%s%sns/%s", base, bl > 0 ? "/" : "", ns->v[i].name);
		if (!(ns->v[i].path = keep(ns, path, (size_t)pl))) {
			r = -ENOMEM;
			goto fail;
		}
	}
	size_t nread = 0;
	for (size_t i = 0; i < ns->n; i++) {
		if (ns->v[i].err)
			continue;
		if ((r = read_one(p, ns, &ns->v[i])) < 0)
			goto fail;
		nread += ns->v[i].err == 0;
	}
	/* Nothing readable from a zombie is "gone", not "no namespaces". */
	r = ml__proc_after_read(p, 0, nread);
	if (r < 0)
		goto fail;
	if (ml_proc_is_live(p) && ml_proc_alive(p) == 0) {
		/* A zombie still shows its pid and user namespaces; the others left with its
		 * nsproxy. Those are gone with the process, not missing from the kernel. */
		for (size_t i = 0; i < ns->n; i++)
			if (ns->v[i].err == -ENOENT)
				ns->v[i].err = -ESRCH;
	}
	qsort(ns->v, ns->n, sizeof(*ns->v), by_name);
	*ret = ns;
	return 0;
fail:
	ml_namespaces_free(ns);
	return r;
}

size_t ml_namespaces_count(const ml_namespaces *ns) { return ns ? ns->n : 0; }

const ml_ns *ml_namespaces_get(const ml_namespaces *ns, size_t i)
{
	return ns && i < ns->n ? &ns->v[i] : NULL;
}

const ml_ns *ml_namespaces_find(const ml_namespaces *ns, const char *name)
{
	for (size_t i = 0; ns && name && i < ns->n; i++)
		if (!strcmp(ns->v[i].name, name))
			return &ns->v[i];
	return NULL;
}

bool ml_ns_same(const ml_ns *a, const ml_ns *b)
{
	return a && b && !a->err && !b->err && a->inode == b->inode &&
	       (!a->dev_known || !b->dev_known || a->dev == b->dev);
}

void ml_namespaces_free(ml_namespaces *ns)
{
	if (!ns)
		return;
	for (size_t i = 0; i < ns->nstrs; i++)
		free(ns->strs[i]);
	free(ns->strs);
	free(ns->v);
	free(ns);
}
