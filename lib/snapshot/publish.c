/* Output files that appear complete or not at all: O_TMPFILE (or a hidden temporary), fsync, link/rename. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "snapshot/snap.h"

static int split_path(const char *path, char **dir, char **base)
{
	const char *slash = strrchr(path, '/');
	const char *b = slash ? slash + 1 : path;
	if (!*b || !strcmp(b, ".") || !strcmp(b, ".."))
		return -EISDIR;
	*base = strdup(b);
	if (slash == path)
		*dir = strdup("/");
	else if (slash)
		*dir = strndup(path, (size_t)(slash - path));
	else
		*dir = strdup(".");
	if (!*base || !*dir) {
		free(*base);
		free(*dir);
		return -ENOMEM;
	}
	return 0;
}

/* Refuses what must not be replaced: a symlink always, a regular file unless @overwrite,
 * and anything else (a directory, device node, FIFO, socket) always: rename() would put a
 * regular file in place of /dev/null or of a pipe someone reads. */
static int check_target(int dirfd, const char *base, bool overwrite)
{
	struct stat st;
	if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : ml_neg_errno();
	if (S_ISLNK(st.st_mode))
		return -ELOOP;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!overwrite || !S_ISREG(st.st_mode))
		return -EEXIST;
	return 0;
}

static char *temp_name(const char *base)
{
	static const char al[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ ((uint64_t)getpid() << 40) ^
		     (uint64_t)(uintptr_t)&ts;
	size_t bl = strlen(base);
	if (bl > 200)
		bl = 200;
	char *t = malloc(bl + 16);
	if (!t)
		return NULL;
	t[0] = '.';
	memcpy(t + 1, base, bl);
	t[bl + 1] = '.';
	for (int i = 0; i < 8; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		t[bl + 2 + i] = al[(x >> 33) % (sizeof(al) - 1)];
	}
	memcpy(t + bl + 10, ".tmp", 5);
	return t;
}

/* True for ".BASE.XXXXXXXX.tmp", the name temp_name() gives. */
static bool is_temp_of(const char *name, const char *base)
{
	size_t bl = strlen(base), nl = strlen(name);
	if (bl > 200)
		bl = 200;
	if (nl != bl + 14 || name[0] != '.' || strncmp(name + 1, base, bl) || name[bl + 1] != '.' ||
	    strcmp(name + bl + 10, ".tmp"))
		return false;
	for (size_t i = bl + 2; i < bl + 10; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9')))
			return false;
	return true;
}

/*
 * Removes what a killed writer of the same output left: its hidden temporary name. A
 * writer holds an exclusive flock on its file for as long as it lives, so a temporary that
 * can be locked has no writer any more; one that cannot is another run's, in progress.
 * Only regular files of the caller's own are touched.
 */
static void remove_stale_temps(int dirfd, const char *base)
{
	int dfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return;
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!is_temp_of(de->d_name, base))
			continue;
		/* for writing: NFS locks no file opened only to read */
		int fd = openat(dirfd, de->d_name, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (fd < 0)
			continue;
		struct stat st;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
		    flock(fd, LOCK_EX | LOCK_NB) == 0)
			unlinkat(dirfd, de->d_name, 0);
		close(fd);
	}
	closedir(d);
}

/*
 * Locks the named temporary just made (o->fd, o->tmpname) and says whether it is still ours:
 * another writer's remove_stale_temps() may have locked and removed it in the instant before
 * (it is then made again under another name).
 */
static bool own_temp(snap_out *o)
{
	if (flock(o->fd, LOCK_EX | LOCK_NB) < 0 && errno != EOPNOTSUPP && errno != ENOLCK)
		return false;
	struct stat a, b;
	return fstat(o->fd, &a) == 0 && fstatat(o->dirfd, o->tmpname, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int snap_out_open(snap_out *o, const char *path, bool overwrite)
{
	memset(o, 0, sizeof(*o));
	o->fd = o->dirfd = -1;
	o->overwrite = overwrite;
	char *dir = NULL;
	int r = split_path(path, &dir, &o->base);
	if (r < 0)
		return r;
	o->path = strdup(path);
	if (!o->path) {
		r = -ENOMEM;
		goto fail;
	}
	o->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (o->dirfd < 0) {
		r = ml_neg_errno();
		goto fail;
	}
	r = check_target(o->dirfd, o->base, overwrite);
	if (r < 0)
		goto fail;
	o->fd = openat(o->dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (o->fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL || errno == ENOENT)) {
		for (int tries = 0; tries < 100 && o->fd < 0; tries++) {
			free(o->tmpname);
			o->tmpname = temp_name(o->base);
			if (!o->tmpname) {
				r = -ENOMEM;
				goto fail;
			}
			o->fd = openat(o->dirfd, o->tmpname,
				       O_CREAT | O_EXCL | O_NOFOLLOW | O_RDWR | O_CLOEXEC, 0600);
			if (o->fd < 0 && errno != EEXIST)
				break;
			if (o->fd >= 0 && !own_temp(o)) {
				/* another writer took it for a dead one's before it was locked */
				close(o->fd);
				o->fd = -1;
			}
		}
		if (o->fd < 0) {
			ML_FREE(o->tmpname);
		}
	}
	if (o->fd < 0) {
		r = ml_neg_errno();
		goto fail;
	}
	if (fchmod(o->fd, 0600) < 0) {
		r = ml_neg_errno();
		goto fail;
	}
	/* held until the fd closes (or the process dies): marks the temporary as in use (a
	 * named one is locked as it is made, by own_temp()) */
	if (!o->tmpname && flock(o->fd, LOCK_EX | LOCK_NB) < 0 && errno != EOPNOTSUPP && errno != ENOLCK) {
		r = ml_neg_errno();
		goto fail;
	}
	remove_stale_temps(o->dirfd, o->base);
	free(dir);
	return 0;
fail:
	free(dir);
	snap_out_discard(o);
	return r;
}

static int link_tmpfile(snap_out *o, const char *name)
{
	if (linkat(o->fd, "", o->dirfd, name, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno != EPERM && errno != ENOENT && errno != EINVAL)
		return ml_neg_errno();
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", o->fd);
	if (linkat(AT_FDCWD, proc, o->dirfd, name, AT_SYMLINK_FOLLOW) == 0)
		return 0;
	return ml_neg_errno();
}

int (*snap_out_fsync_dir)(int fd) = fsync;

/* Puts the hidden temporary in place where nothing is: a name taken meanwhile is -EEXIST.
 * A rename, as file systems without hard links (vfat, exfat, many FUSE and SMB mounts)
 * allow; link() where the file system refuses the flag. */
static int place_new(snap_out *o)
{
	if (renameat2(o->dirfd, o->tmpname, o->dirfd, o->base, RENAME_NOREPLACE) < 0) {
		if (errno != EINVAL && errno != ENOSYS)
			return ml_neg_errno();
		if (linkat(o->dirfd, o->tmpname, o->dirfd, o->base, 0) < 0)
			return ml_neg_errno();
		unlinkat(o->dirfd, o->tmpname, 0);
	}
	ML_FREE(o->tmpname);
	return 0;
}

/*
 * Puts the hidden temporary in place of a regular file (or of nothing). The two names are
 * exchanged atomically and what came out is looked at: anything but a regular file is put
 * back and refused, so a FIFO, device or symlink that appears after the check is never
 * replaced. Where the file system cannot exchange, a check then a rename.
 */
static int place_over(snap_out *o)
{
	for (int tries = 0; tries < 100; tries++) {
		if (renameat2(o->dirfd, o->tmpname, o->dirfd, o->base, RENAME_EXCHANGE) < 0) {
			if (errno == ENOENT) { /* nothing to replace */
				int r = place_new(o);
				if (r == -EEXIST)
					continue; /* it appeared meanwhile */
				return r;
			}
			if (errno == EINVAL || errno == ENOSYS)
				break;
			return ml_neg_errno();
		}
		/* the temporary's name now holds what was at the path */
		int r = check_target(o->dirfd, o->tmpname, true);
		if (r == 0) {
			unlinkat(o->dirfd, o->tmpname, 0);
			ML_FREE(o->tmpname);
			return 0;
		}
		if (renameat2(o->dirfd, o->tmpname, o->dirfd, o->base, RENAME_EXCHANGE) < 0) {
			/* ours stays at the path; what is under the hidden name is not ours to remove */
			r = ml_neg_errno();
			ML_FREE(o->tmpname);
			o->published = true;
		}
		return r;
	}
	int r = check_target(o->dirfd, o->base, true);
	if (r < 0)
		return r;
	if (renameat(o->dirfd, o->tmpname, o->dirfd, o->base) < 0)
		return ml_neg_errno();
	ML_FREE(o->tmpname);
	return 0;
}

int snap_out_publish(snap_out *o)
{
	if (fsync(o->fd) < 0)
		return ml_neg_errno();
	int r = check_target(o->dirfd, o->base, o->overwrite);
	if (r < 0)
		return r;
	if (!o->tmpname && !o->overwrite) {
		r = link_tmpfile(o, o->base);
	} else {
		/* without a name yet (O_TMPFILE): link under a hidden one first */
		for (int tries = 0; !o->tmpname && tries < 100; tries++) {
			o->tmpname = temp_name(o->base);
			if (!o->tmpname)
				return -ENOMEM;
			r = link_tmpfile(o, o->tmpname);
			if (r == 0)
				break;
			ML_FREE(o->tmpname);
			if (r != -EEXIST)
				return r;
		}
		if (!o->tmpname)
			return r < 0 ? r : -EEXIST;
		r = o->overwrite ? place_over(o) : place_new(o);
	}
	if (r < 0)
		return r;
	o->published = true;
	/* In place and complete (its data was synced above); what can still fail is whether
	 * the directory entry survives a crash. */
	if (snap_out_fsync_dir(o->dirfd) < 0 && errno != EINVAL && errno != EOPNOTSUPP) {
		/* (EINVAL, EOPNOTSUPP: a file system that syncs no directory; nothing more to do) */
		o->unsynced = ml_neg_errno();
		o->unsynced_what = "syncing its directory";
	}
	int fd = o->fd;
	o->fd = -1;
	if (close(fd) < 0 && errno != EINTR && !o->unsynced) {
		o->unsynced = ml_neg_errno();
		o->unsynced_what = "closing it";
	}
	return o->unsynced ? 1 : 0;
}

void snap_out_discard(snap_out *o)
{
	if (o->fd >= 0)
		close(o->fd);
	if (o->tmpname && o->dirfd >= 0)
		unlinkat(o->dirfd, o->tmpname, 0);
	if (o->dirfd >= 0)
		close(o->dirfd);
	free(o->tmpname);
	free(o->path);
	free(o->base);
	memset(o, 0, sizeof(*o));
	o->fd = o->dirfd = -1;
}
