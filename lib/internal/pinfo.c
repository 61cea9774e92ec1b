/* Small text helpers shared by the process-information readers. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <memlens/stat.h>

#include "internal/pinfo.h"

bool ml_bstr_eq(ml_bstr b, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return b.len == n && (n == 0 || memcmp(b.ptr, s, n) == 0);
}

void ml__trim(const char **p, const char **e)
{
	while (*p < *e && (**p == ' ' || **p == '\t'))
		(*p)++;
	while (*e > *p && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
}

int ml__parse_oct(const char **p, const char *end, uint64_t *ret)
{
	const char *s = *p;
	uint64_t v = 0;
	if (s >= end || *s < '0' || *s > '7')
		return -EBADMSG;
	while (s < end && *s >= '0' && *s <= '7') {
		if (v >> 61)
			return -EBADMSG;
		v = (v << 3) | (uint64_t)(*s - '0');
		s++;
	}
	*p = s;
	*ret = v;
	return 0;
}

static int whole(const char *p, const char *e, int (*fn)(const char **, const char *, void *), void *ret)
{
	ml__trim(&p, &e);
	int r = fn(&p, e, ret);
	if (r < 0)
		return r;
	return p == e ? 0 : -EBADMSG;
}

static int dec_cb(const char **p, const char *e, void *r) { return ml__parse_dec(p, e, r); }
static int sdec_cb(const char **p, const char *e, void *r) { return ml__parse_sdec(p, e, r); }
static int hex_cb(const char **p, const char *e, void *r)
{
	if (e - *p > 2 && (*p)[0] == '0' && ((*p)[1] == 'x' || (*p)[1] == 'X'))
		*p += 2;
	return ml__parse_hex(p, e, r);
}

int ml__field_dec(const char *p, const char *e, uint64_t *ret) { return whole(p, e, dec_cb, ret); }
int ml__field_sdec(const char *p, const char *e, int64_t *ret) { return whole(p, e, sdec_cb, ret); }
int ml__field_hex(const char *p, const char *e, uint64_t *ret) { return whole(p, e, hex_cb, ret); }

int ml__read_parse(const ml_proc *p, const char *name,
		   int (*parse)(const char *buf, size_t len, void *ret), void *ret)
{
	if (!p || !ret)
		return -EINVAL;
	char *buf;
	size_t len;
	int r = ml_proc_read_file(p, name, &buf, &len);
	if (r < 0)
		return r;
	r = parse(buf, len, ret);
	free(buf);
	return r;
}

char *ml__memdup0(const char *buf, size_t len)
{
	char *c = malloc(len + 1);
	if (!c)
		return NULL;
	if (len)
		memcpy(c, buf, len);
	c[len] = '\0';
	return c;
}

int ml__task_open(const ml_proc *p, pid_t tid, ml_proc **ret)
{
	int r = ml_proc_task(p, tid, ret);
	if (r != -ESRCH || !ml_proc_is_live(p))
		return r;
	/* ml_proc_task() refuses for an exec'd process too, and then task/TID belongs to the
	 * new image: fall back only when the leader's own stat still reads (no exec, not
	 * reaped) and says it is a zombie while the thread group lives on. */
	ml_stat st;
	if (ml_stat_read(p, &st) < 0 || st.state != 'Z' || st.num_threads < 1)
		return -ESRCH;
	char name[32];
	snprintf(name, sizeof(name), "task/%d", (int)tid);
	int fd = ml_proc_openat(p, name, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return fd == -ENOENT ? -ESRCH : fd;
	ml_proc *t;
	r = ml_proc_open_at(fd, &t);
	close(fd);
	if (r < 0)
		return r;
	/* Only a live thread is worth a handle: its own stat must not say zombie or dead. */
	if (ml_proc_alive(t) != 1) {
		ml_proc_free(t);
		return -ESRCH;
	}
	*ret = t;
	return 0;
}
