/*
 * An fsync() that fails with EIO on a directory, for LD_PRELOAD: what a file system does
 * when the new name of a file cannot be made durable. Every refusal appends a line to the
 * file named by ML_FSYNC_DIR_FAIL_LOG, so that a test can tell that the stand-in was used.
 * Anything else goes to the next fsync() (the C library's, or a sanitizer's).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

__attribute__((visibility("default"))) int fsync(int fd)
{
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		const char *log = getenv("ML_FSYNC_DIR_FAIL_LOG");
		int l = log ? open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600) : -1;
		if (l >= 0) {
			ssize_t w = write(l, "directory\n", 10);
			(void)w;
			close(l);
		}
		errno = EIO;
		return -1;
	}
	int (*next)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	if (!next) {
		errno = ENOSYS;
		return -1;
	}
	return next(fd);
}
