/* exe, cwd and root: readlink, deletion decided on the file itself. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memlens/links.h>

#include "internal/pinfo.h"

#define DELETED " (deleted)"
#define DELETED_LEN (sizeof(DELETED) - 1)

/* Is the file at @path (as the target sees it) the one @sb describes? */
static bool path_is(const ml_proc *p, const char *path, const struct stat *sb)
{
	if (path[0] != '/')
		return false;
	int root = ml_proc_openat(p, "root", O_PATH | O_DIRECTORY);
	if (root < 0)
		return false;
	struct stat at;
	bool same = ml__stat_cached(root, path + 1, path[1] ? 0 : AT_EMPTY_PATH, &at) == 0 &&
		    at.st_dev == sb->st_dev && at.st_ino == sb->st_ino;
	close(root);
	return same;
}

static int read_one(const ml_proc *p, const char *name, ml_link **ret)
{
	char *buf;
	size_t len;
	pid_t via; /* after the main thread has exited, a running thread's link (proc_leader.c) */
	int r = ml__proc_readlink_via(p, name, &buf, &len, &via);
	if (r < 0)
		return r;
	bool suffix = len >= DELETED_LEN && !memcmp(buf + len - DELETED_LEN, DELETED, DELETED_LEN);
	bool deleted = suffix;
	if (ml_proc_is_live(p)) {
		int fd = ml_proc_openat(p, name, O_PATH);
		struct stat sb;
		if (fd >= 0 && ml__stat_cached(fd, "", AT_EMPTY_PATH, &sb) == 0) {
			if (sb.st_nlink == 0)
				deleted = true;
			else if (suffix) {
				/* Unlinked while other hard links remain, or literally named so: the
				 * latter still resolves to this very file. */
				buf[len - DELETED_LEN] = '\0';
				bool stripped_is = path_is(p, buf, &sb);
				buf[len - DELETED_LEN] = ' ';
				deleted = !stripped_is && !path_is(p, buf, &sb);
			} else {
				deleted = false;
			}
		}
		if (fd >= 0)
			close(fd);
	}
	if (deleted && suffix) {
		len -= DELETED_LEN;
		buf[len] = '\0';
	}
	ml_link *l = malloc(sizeof(*l));
	if (!l) {
		free(buf);
		return -ENOMEM;
	}
	*l = (ml_link){ .path = buf, .len = len, .deleted = deleted, .via_tid = via };
	*ret = l;
	return 0;
}

int ml_link_read(const ml_proc *p, const char *name, ml_link **ret)
{
	if (!p || !name || !ret)
		return -EINVAL;
	int r = read_one(p, name, ret);
	/* ENOENT on a live handle: a kernel thread (no exe), or a zombie */
	if (r == -ENOENT && ml_proc_is_live(p) && ml_proc_alive(p) == 0)
		r = -ESRCH;
	return r;
}

int ml_exe_read(const ml_proc *p, ml_link **ret) { return ml_link_read(p, "exe", ret); }
int ml_cwd_read(const ml_proc *p, ml_link **ret) { return ml_link_read(p, "cwd", ret); }
int ml_root_read(const ml_proc *p, ml_link **ret) { return ml_link_read(p, "root", ret); }

void ml_link_free(ml_link *l)
{
	if (!l)
		return;
	free((char *)l->path);
	free(l);
}
