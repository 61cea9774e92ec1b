/* Standard output through one stream that remembers its first write error, so that every
 * command's output is checked in one place (at exit) instead of after each printf; and the
 * rules of every output file, checked before any work and again as it is put in place. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "common/cli.h"

static int out_errno;

static ssize_t out_write(void *cookie, const char *buf, size_t len)
{
	(void)cookie;
	if (out_errno) {
		errno = out_errno;
		return -1; /* everything after the first loss is lost too; say so once, at exit */
	}
	size_t done = 0;
	while (done < len) {
		ssize_t w = write(STDOUT_FILENO, buf + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			out_errno = w < 0 ? errno : EIO;
			errno = out_errno;
			return -1;
		}
		done += (size_t)w;
	}
	return (ssize_t)len;
}

void cli_stdout_begin(void)
{
	cookie_io_functions_t io = { .write = out_write };
	FILE *f = fopencookie(NULL, "w", io);
	if (!f)
		return; /* keep the plain stream: its errors are still seen by ferror() at exit */
	if (isatty(STDOUT_FILENO))
		setvbuf(f, NULL, _IOLBF, 0);
	else
		setvbuf(f, NULL, _IOFBF, 64 << 10);
	stdout = f;
}

bool cli_stdout_failed(void)
{
	return out_errno != 0 || ferror(stdout);
}

int cli_stdout_finish(int rc)
{
	int fl = fflush(stdout);
	int e = out_errno ? out_errno : fl ? errno : 0;
	if (fl == 0 && !ferror(stdout))
		return rc;
	if (e)
		fprintf(stderr, "memlens: standard output: cannot write: %s; the output is incomplete\n",
			e == EIO ? "input/output error" : ml_strerror(-e)); /* not "memory not readable" */
	else
		fprintf(stderr, "memlens: standard output: cannot write; the output is incomplete\n");
	return CLI_EXIT_ERROR;
}

static const char *file_kind(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISLNK(m))
		return "a symbolic link";
	return "not a regular file";
}

int cli_output_check(const char *path, bool force)
{
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (S_ISLNK(st.st_mode)) {
			fprintf(stderr, "memlens: %s: is a symbolic link; refusing to write through it\n", path);
			return CLI_EXIT_ERROR;
		}
		if (!S_ISREG(st.st_mode)) {
			fprintf(stderr, "memlens: %s: is %s; only a regular file is ever replaced, name a new file\n",
				path, file_kind(st.st_mode));
			return CLI_EXIT_ERROR;
		}
		if (!force) {
			fprintf(stderr, "memlens: %s: already exists (use --force to replace it)\n", path);
			return CLI_EXIT_ERROR;
		}
	} else if (errno != ENOENT) {
		fprintf(stderr, "memlens: %s: cannot write: %s\n", path, strerror(errno));
		return CLI_EXIT_ERROR;
	}
	/* the directory the file goes into: say what is wrong with it, before any work */
	const char *slash = strrchr(path, '/');
	char *dir = slash == path ? strdup("/") : slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
	if (!dir) {
		fprintf(stderr, "memlens: out of memory\n");
		return CLI_EXIT_ERROR;
	}
	int rc = 0;
	if (slash && !slash[1]) {
		fprintf(stderr, "memlens: %s: names a directory; name the file to write\n", path);
		rc = CLI_EXIT_ERROR;
	} else if (stat(dir, &st) < 0) {
		fprintf(stderr, "memlens: %s: cannot create it: directory %s: %s\n", path, dir,
			errno == ENOENT ? "does not exist" : strerror(errno));
		rc = CLI_EXIT_ERROR;
	} else if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "memlens: %s: cannot create it: %s is not a directory\n", path, dir);
		rc = CLI_EXIT_ERROR;
	} else if (access(dir, W_OK | X_OK) < 0) {
		fprintf(stderr, "memlens: %s: cannot create a file in %s: %s\n", path, dir,
			errno == EACCES ? "permission denied" : strerror(errno));
		rc = CLI_EXIT_ERROR;
	}
	free(dir);
	return rc;
}

/* @tmp where nothing is. A rename, which file systems without hard links (vfat, exfat, many
 * FUSE and SMB mounts) allow; link() where the file system refuses the flag. -EEXIST when
 * the name is taken: what is there is left alone. */
static int put_new(const char *tmp, const char *path)
{
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	if (link(tmp, path) < 0)
		return -errno;
	unlink(tmp);
	return 0;
}

/*
 * @tmp in place of a regular file, or of nothing. The two names are swapped in one step,
 * then what came out is looked at: anything else goes back, so that a FIFO, device node or
 * symlink put at @path after the early check is never replaced. Where the file system
 * cannot swap names, a check and a rename are all it allows.
 * 0: in place. Else -errno, and *found is 0 (nothing changed), or the mode of what is at
 * @path: -EEXIST when it was put back, another error when it could not be (it is under
 * @tmp's name then, and the new file at @path).
 */
static int put_over(const char *tmp, const char *path, mode_t *found)
{
	struct stat st;
	*found = 0;
	for (int tries = 0;; tries++) {
		if (tries == 16)
			return -EEXIST; /* each time there was nothing, then something */
		if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_EXCHANGE) == 0) {
			if (lstat(tmp, &st) < 0)
				return 0; /* what was there is gone already */
			if (S_ISREG(st.st_mode)) {
				unlink(tmp);
				return 0;
			}
			*found = st.st_mode;
			if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_EXCHANGE) < 0)
				return -errno;
			return -EEXIST;
		}
		if (errno == EINVAL || errno == ENOSYS)
			break;
		if (errno != ENOENT)
			return -errno;
		/* nothing to replace: a new file, unless something takes the name first */
		int r = put_new(tmp, path);
		if (r != -EEXIST)
			return r;
	}
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		*found = st.st_mode;
		return -EEXIST;
	}
	return rename(tmp, path) < 0 ? -errno : 0;
}

/* The directory @path goes in (malloc'd), and where its last component starts. */
static char *dir_of(const char *path, const char **base)
{
	const char *slash = strrchr(path, '/');
	*base = slash ? slash + 1 : path;
	return slash == path ? strdup("/") : slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
}

#define TEMP_MARK ".memlens-"

/* True for ".BASE.memlens-XXXXXX", the name mkostemp() gives cli_tmp_beside()'s temporaries
 * (marked as memlens's: ".NAME.XXXXXX" alone is what rsync and others name theirs). */
static bool is_temp_of(const char *name, const char *base)
{
	size_t bl = strlen(base), ml = strlen(TEMP_MARK);
	if (strlen(name) != bl + ml + 7 || name[0] != '.' || strncmp(name + 1, base, bl) ||
	    strncmp(name + bl + 1, TEMP_MARK, ml))
		return false;
	for (size_t i = bl + 1 + ml; i < bl + ml + 7; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9')))
			return false;
	return true;
}

/*
 * Removes the temporaries of @base that a killed run left in @dir. Every run holds an
 * exclusive flock on its temporary from before the name counts as its own until it is
 * published or removed (cli_tmp_beside()), so one that can be locked has no writer left;
 * one that cannot is another run's, in progress, and stays. Only regular files of the
 * caller's own are touched (opened for writing: NFS locks no file opened only to read).
 */
static void remove_stale_temps(const char *dir, const char *base)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return;
	int lfd = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
	DIR *d = lfd >= 0 ? fdopendir(lfd) : NULL;
	if (!d) {
		if (lfd >= 0)
			close(lfd);
		close(dfd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!is_temp_of(de->d_name, base))
			continue;
		int fd = openat(dfd, de->d_name, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (fd < 0)
			continue;
		struct stat st;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
		    flock(fd, LOCK_EX | LOCK_NB) == 0)
			unlinkat(dfd, de->d_name, 0);
		close(fd);
	}
	closedir(d);
	close(dfd);
}

int cli_tmp_beside(const char *path, char **tmp)
{
	const char *base;
	char *dir = dir_of(path, &base);
	size_t len = strlen(path) + strlen(TEMP_MARK) + 9;
	*tmp = dir ? malloc(len) : NULL;
	if (!*tmp) {
		free(dir);
		fprintf(stderr, "memlens: %s: out of memory\n", path);
		return -1;
	}
	int fd = -1;
	for (int tries = 0; fd < 0 && tries < 16; tries++) {
		snprintf(*tmp, len, "%.*s.%s" TEMP_MARK "XXXXXX", (int)(base - path), path, base);
		fd = mkostemp(*tmp, O_CLOEXEC);
		if (fd < 0)
			break;
		/* Held until published or removed. Another run may have taken the name for a
		 * killed one's in the instant before the lock: it is ours only if it is still there. */
		struct stat a, b;
		if (flock(fd, LOCK_EX | LOCK_NB) < 0 && errno != EOPNOTSUPP && errno != ENOLCK) {
			close(fd);
			fd = -1;
			errno = EAGAIN;
			continue;
		}
		if (fstat(fd, &a) < 0 || lstat(*tmp, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
			close(fd);
			fd = -1;
			errno = EAGAIN;
		}
	}
	if (fd < 0) {
		fprintf(stderr, "memlens: %s: cannot create a temporary file beside it: %s\n", path, strerror(errno));
		free(*tmp);
		*tmp = NULL;
	} else {
		remove_stale_temps(dir, base);
	}
	free(dir);
	return fd;
}

int (*cli_fsync_dir)(int fd) = fsync;

int cli_publish(int fd, const char *tmp, const char *path, bool replace)
{
	mode_t found = 0;
	int err = replace ? put_over(tmp, path, &found) : put_new(tmp, path);
	if (err == 0) {
		/* In place and whole (the caller synced it); what can still fail is whether the
		 * new name survives a crash. */
		const char *base, *what = NULL;
		char *dir = dir_of(path, &base);
		int dfd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
		int serr = dfd < 0 ? (dir ? errno : ENOMEM) : cli_fsync_dir(dfd) < 0 ? errno : 0;
		/* Where a directory cannot be synced at all, there is nothing more to do: one that
		 * may be written but not read (EACCES) or a file system that syncs no directory
		 * (EINVAL, EOPNOTSUPP) */
		if (serr == EACCES || serr == EINVAL || serr == EOPNOTSUPP)
			serr = 0;
		if (serr)
			what = "syncing its directory";
		if (dfd >= 0)
			close(dfd);
		free(dir);
		if (close(fd) < 0 && errno != EINTR && !serr) {
			serr = errno;
			what = "closing it";
		}
		if (!serr)
			return 0;
		fprintf(stderr, "memlens: %s: warning: complete and in place, but %s failed: %s\n", path, what,
			strerror(serr));
		return CLI_EXIT_PARTIAL;
	}
	if (found && err != -EEXIST) {
		close(fd);
		fprintf(stderr, "memlens: %s: %s appeared there, was swapped out and could not be put back: %s; "
				"it is now %s\n", path, file_kind(found), strerror(-err), tmp);
		return CLI_EXIT_ERROR;
	}
	unlink(tmp);
	close(fd);
	if (found)
		fprintf(stderr, "memlens: %s: is %s; only a regular file is ever replaced, name a new file\n", path,
			file_kind(found));
	else if (err == -EEXIST)
		fprintf(stderr, "memlens: %s: cannot create it: it appeared meanwhile (not replaced)\n", path);
	else if (replace)
		fprintf(stderr, "memlens: %s: cannot replace it: %s; the previous file, if any, is unchanged\n",
			path, strerror(-err));
	else
		fprintf(stderr, "memlens: %s: cannot create it: %s\n", path, strerror(-err));
	return CLI_EXIT_ERROR;
}

bool cli_is_gzip(const char *path)
{
	unsigned char m[2];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool gz = read(fd, m, 2) == 2 && m[0] == 0x1f && m[1] == 0x8b;
	close(fd);
	return gz;
}
