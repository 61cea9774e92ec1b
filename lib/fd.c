/* Open descriptors: fd/ counted with getdents, links decoded by type, fdinfo parsed. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <memlens/fd.h>

#include "internal/pinfo.h"

const char *ml_fd_type_name(ml_fd_type t)
{
	static const char *const names[] = { "path", "socket", "pipe", "anon", "memfd", "ns", "other" };
	return (unsigned)t < ML_ARRAY_SIZE(names) ? names[t] : "?";
}

static bool has_prefix(const char *b, size_t len, const char *pre, size_t *plen)
{
	size_t n = strlen(pre);
	*plen = n;
	return len >= n && !memcmp(b, pre, n);
}

/* "[digits]" exactly at [p, e) */
static bool bracket_inode(const char *p, const char *e, uint64_t *ino)
{
	if (e - p < 3 || *p != '[' || e[-1] != ']')
		return false;
	p++;
	return ml__parse_dec(&p, e - 1, ino) == 0 && p == e - 1;
}

int ml_fd_parse_target(const char *buf, size_t len, ml_fd *ret)
{
	if ((!buf && len) || !ret)
		return -EINVAL;
	static const char del[] = " (deleted)";
	ml_fd f = { .fd = ret->fd, .type = ML_FD_OTHER, .target = { buf, len } };
	const char *e = buf + len;
	size_t pl;
	if (len && buf[0] == '/') {
		f.type = ML_FD_PATH;
		if (len >= sizeof(del) - 1 && !memcmp(e - (sizeof(del) - 1), del, sizeof(del) - 1)) {
			f.deleted = true;
			f.target.len -= sizeof(del) - 1;
		}
		if (has_prefix(buf, f.target.len, "/memfd:", &pl)) {
			f.type = ML_FD_MEMFD;
			f.name = (ml_bstr){ buf + pl, f.target.len - pl };
		}
	} else if (has_prefix(buf, len, "socket:", &pl) && bracket_inode(buf + pl, e, &f.inode)) {
		f.type = ML_FD_SOCKET;
	} else if (has_prefix(buf, len, "pipe:", &pl) && bracket_inode(buf + pl, e, &f.inode)) {
		f.type = ML_FD_PIPE;
	} else if (has_prefix(buf, len, "anon_inode:", &pl)) {
		f.type = ML_FD_ANON;
		const char *n = buf + pl, *ne = e;
		if (ne - n >= 2 && *n == '[' && ne[-1] == ']') {
			n++;
			ne--;
		}
		f.name = (ml_bstr){ n, (size_t)(ne - n) };
	} else {
		const char *colon = memchr(buf, ':', len);
		if (colon && bracket_inode(colon + 1, e, &f.inode)) {
			static const char *const ns[] = { "net", "mnt", "uts", "ipc", "pid", "user",
				"cgroup", "time" };
			f.name = (ml_bstr){ buf, (size_t)(colon - buf) };
			for (size_t i = 0; i < ML_ARRAY_SIZE(ns); i++)
				if (ml_bstr_eq(f.name, ns[i]))
					f.type = ML_FD_NS;
		}
	}
	*ret = f;
	return 0;
}

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

ssize_t ml_fd_count(const ml_proc *p)
{
	if (!p)
		return -EINVAL;
	char buf[32768] __attribute__((aligned(8)));
	ssize_t count;
	int r;
	for (int tries = 0;; tries++) {
		pid_t via;
		int fd = ml__proc_openat_via(p, "fd", O_RDONLY | O_DIRECTORY, &via);
		if (fd < 0)
			return fd;
		ssize_t n;
		count = 0;
		r = 0;
		while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
			for (ssize_t off = 0; off < n;) {
				struct linux_dirent64 *d = (struct linux_dirent64 *)(void *)(buf + off);
				if (d->d_name[0] >= '0' && d->d_name[0] <= '9')
					count++;
				off += d->d_reclen;
			}
		}
		if (n < 0)
			r = ml_neg_errno();
		close(fd);
		/* listed through a thread that has begun to exit, or through a leader that has
		 * exited meanwhile (fd/ is listed as the call goes, and stops short) */
		if ((via || count == 0 || r < 0) && tries < 8 && ml__proc_reread(p, "fd", via))
			continue;
		break;
	}
	/* a zombie's fd/ lists nothing: that is gone, not "no descriptors" */
	r = ml__proc_after_read(p, r, (size_t)count);
	return r < 0 ? r : count;
}

struct ml_fds {
	const ml_proc *p;
	DIR *dir;
	pid_t via;  /* the thread fd/ was listed through (ml__proc_openat_via()) */
	int tries;  /* listings that came back empty through what lost the descriptors since */
	size_t seen;
	char *link;
	size_t cap;
};

static int fds_opendir(ml_fds *it)
{
	int fd = ml__proc_openat_via(it->p, "fd", O_RDONLY | O_DIRECTORY, &it->via);
	if (fd < 0)
		return fd;
	if (!(it->dir = fdopendir(fd))) {
		int r = ml_neg_errno();
		close(fd);
		return r;
	}
	return 0;
}

int ml_fds_open(const ml_proc *p, ml_fds **ret)
{
	if (!p || !ret)
		return -EINVAL;
	ml_fds *it = calloc(1, sizeof(*it));
	if (!it)
		return -ENOMEM;
	it->p = p;
	int r = fds_opendir(it);
	if (r < 0) {
		free(it);
		return r;
	}
	*ret = it;
	return 0;
}

/* readlinkat into a growing buffer. */
/* The permission bits of a live fd/N link say how the file was opened; a fixture's
 * symlinks have no such meaning. 0 when unknown or the descriptor was closed. */
static uint16_t link_mode(const ml_proc *p, int dfd, const char *name)
{
	struct stat sb;
	if (!ml_proc_is_live(p) || fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(sb.st_mode))
		return 0;
	return (uint16_t)(sb.st_mode & 0700);
}

static ssize_t read_link(int dirfd, const char *name, char **buf, size_t *cap)
{
	for (;;) {
		if (*cap < 256 || !*buf) {
			char *nb = realloc(*buf, 256);
			if (!nb)
				return -ENOMEM;
			*buf = nb;
			*cap = 256;
		}
		ssize_t n = readlinkat(dirfd, name, *buf, *cap);
		if (n < 0)
			return ml_neg_errno();
		if ((size_t)n < *cap) {
			(*buf)[n] = '\0';
			return n;
		}
		if (*cap > (1u << 20))
			return -ENAMETOOLONG;
		char *nb = realloc(*buf, *cap * 4);
		if (!nb)
			return -ENOMEM;
		*buf = nb;
		*cap *= 4;
	}
}

int ml_fds_next(ml_fds *it, ml_fd *ret)
{
	if (!it || !ret)
		return -EINVAL;
	for (;;) {
		/* the listing could not be opened again (below): the iterator has ended */
		if (!it->dir)
			return -ESRCH;
		errno = 0;
		struct dirent *e = readdir(it->dir);
		if (!e) {
			int r = errno ? -errno : 0;
			/* listed through a leader (or thread) that has just exited (a thread that is
			 * exiting lists nothing; one that is gone, ENOENT): list again */
			bool lost = r == 0 || r == -ENOENT || r == -ESRCH;
			if (lost && !it->seen && it->tries < 8 && ml__proc_reread(it->p, "fd", it->via)) {
				it->tries++;
				closedir(it->dir);
				it->dir = NULL;
				if ((r = fds_opendir(it)) < 0)
					return r;
				continue;
			}
			/* The thread listed through exited after some entries were given: the rest
			 * stopped short (their links no longer resolve) without an error. Those
			 * given cannot be taken back, so the caller is told to list again. */
			if (lost && it->seen && it->via && ml__proc_reread(it->p, "fd", it->via))
				return ml_proc_check(it->p) == -ESRCH ? -ESRCH : -EAGAIN;
			/* a zombie's fd/ lists nothing: gone, not "no descriptors" */
			int c = ml__proc_after_read(it->p, r, it->seen);
			return c == -ESRCH ? -ESRCH : r;
		}
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		if (e->d_name[0] < '0' || e->d_name[0] > '9' || *end || fd > INT32_MAX)
			continue;
		ssize_t n = read_link(dirfd(it->dir), e->d_name, &it->link, &it->cap);
		if (n == -ENOENT)
			continue; /* closed since the directory was read */
		if (n < 0)
			return ml__proc_after_read(it->p, (int)n, 0);
		it->seen++;
		ml_fd f = { .fd = (int)fd };
		ml_fd_parse_target(it->link, (size_t)n, &f);
		f.mode = link_mode(it->p, dirfd(it->dir), e->d_name);
		*ret = f;
		return 1;
	}
}

void ml_fds_free(ml_fds *it)
{
	if (!it)
		return;
	if (it->dir)
		closedir(it->dir);
	free(it->link);
	free(it);
}

typedef struct fdinfo_impl {
	ml_fdinfo pub;
	char *text;
	char *link;
	ml_kv *extra;
	size_t extra_cap;
} fdinfo_impl;

void ml_fdinfo_free(ml_fdinfo *fi)
{
	if (!fi)
		return;
	fdinfo_impl *im = (fdinfo_impl *)fi;
	free(im->text);
	free(im->link);
	free(im->extra);
	free(im);
}

int ml_fdinfo_parse(const char *buf, size_t len, ml_fdinfo **ret)
{
	if ((!buf && len) || !ret)
		return -EINVAL;
	fdinfo_impl *im = calloc(1, sizeof(*im));
	if (!im || !(im->text = ml__memdup0(buf, len))) {
		free(im);
		return -ENOMEM;
	}
	im->pub.mnt_id = -1;
	im->pub.fd.fd = -1;
	unsigned seen = 0;
	int r = 0;
	const char *p = im->text, *end = im->text + len;
	while (p < end) {
		const char *le = ml__line_end(p, end);
		const char *colon = memchr(p, ':', (size_t)(le - p));
		if (!colon) {
			/* Some kinds write lines without a colon (epoll "tfd:" lines have one; lock
			 * lines may be continuation text): keep them whole. */
			if (le > p) {
				if ((r = ml__grow(&im->extra, &im->extra_cap, im->pub.n_extra + 1, sizeof(ml_kv))) < 0)
					goto fail;
				im->extra[im->pub.n_extra++] = (ml_kv){ { p, (size_t)(le - p) }, { le, 0 } };
			}
			p = le < end ? le + 1 : le;
			continue;
		}
		ml_bstr k = { p, (size_t)(colon - p) };
		const char *v = colon + 1, *ve = le;
		uint64_t u;
		ml__trim(&v, &ve);
		if (ml_bstr_eq(k, "pos") && !(seen & 1)) {
			if ((r = ml__tok_dec(v, ve, &u)) < 0)
				goto fail;
			im->pub.pos = u;
			seen |= 1;
		} else if (ml_bstr_eq(k, "flags") && !(seen & 2)) {
			if (ml__tok_oct(v, ve, &u) < 0 || u > UINT32_MAX) {
				r = -EBADMSG;
				goto fail;
			}
			im->pub.flags = (uint32_t)u;
			seen |= 2;
		} else if (ml_bstr_eq(k, "mnt_id") && !(seen & 4)) {
			if (ml__tok_dec(v, ve, &u) < 0 || u > INT32_MAX) {
				r = -EBADMSG;
				goto fail;
			}
			im->pub.mnt_id = (int)u;
			seen |= 4;
		} else if (ml_bstr_eq(k, "ino") && !(seen & 8)) {
			if ((r = ml__tok_dec(v, ve, &u)) < 0)
				goto fail;
			im->pub.ino = u;
			im->pub.has_ino = true;
			seen |= 8;
		} else {
			if ((r = ml__grow(&im->extra, &im->extra_cap, im->pub.n_extra + 1, sizeof(ml_kv))) < 0)
				goto fail;
			im->extra[im->pub.n_extra++] = (ml_kv){ k, { v, (size_t)(ve - v) } };
		}
		p = le < end ? le + 1 : le;
	}
	if ((seen & 7) != 7) {
		r = -EBADMSG;
		goto fail;
	}
	im->pub.extra = im->extra;
	*ret = &im->pub;
	return 0;
fail:
	ml_fdinfo_free(&im->pub);
	return r;
}

int ml_fd_from_fd(const ml_proc *p, int fd, ml_fdinfo **ret)
{
	if (!p || fd < 0 || !ret)
		return -EINVAL;
	char name[32];
	snprintf(name, sizeof(name), "fdinfo/%d", fd);
	char *text;
	size_t len;
	int r = ml_proc_read_file(p, name, &text, &len);
	if (r == -ENOENT)
		return ml_proc_check(p) == -ESRCH && ml_proc_is_live(p) ? -ESRCH : -EBADF;
	if (r < 0)
		return r;
	ml_fdinfo *fi;
	r = ml_fdinfo_parse(text, len, &fi);
	free(text);
	if (r < 0)
		return r;
	fdinfo_impl *im = (fdinfo_impl *)fi;
	snprintf(name, sizeof(name), "fd/%d", fd);
	size_t llen;
	r = ml_proc_readlink(p, name, &im->link, &llen);
	if (r < 0) {
		ml_fdinfo_free(fi);
		return r == -ENOENT ? -EBADF : r;
	}
	fi->fd.fd = fd;
	ml_fd_parse_target(im->link, llen, &fi->fd);
	struct stat lsb; /* as link_mode(), through the directory the handle reads fd/ through */
	if (ml_proc_is_live(p) && ml__proc_fstatat(p, name, &lsb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(lsb.st_mode))
		fi->fd.mode = (uint16_t)(lsb.st_mode & 0700);
	if (fi->fd.type == ML_FD_PATH && fi->fd.deleted && ml_proc_is_live(p)) {
		/* The suffix is only a hint; a link count of 0 is proof. */
		int f = ml_proc_openat(p, name, O_PATH);
		struct stat sb;
		if (f >= 0 && ml__stat_cached(f, "", AT_EMPTY_PATH, &sb) == 0 && sb.st_nlink > 0) {
			fi->fd.deleted = false;
			fi->fd.target.len = llen;
		}
		if (f >= 0)
			close(f);
	}
	*ret = fi;
	return 0;
}
