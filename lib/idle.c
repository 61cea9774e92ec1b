/* idle: reads and sets the kernel's idle-page bitmap by PFN, in batched 64-bit words. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal/internal.h"
#include <memlens/idle.h>

struct ml_idle {
	int fd;
	bool writable;
	bool kernel; /* the kernel's file: a write sets the 1 bits and ignores the 0 bits */
};

/* Words per pread/pwrite: 512 words cover 32768 frames (128 MiB of memory). */
#define IDLE_BATCH 512

static int idle_open(const char *path, bool kernel, ml_idle **ret)
{
	if (!path || !ret)
		return -EINVAL;
	bool writable = true;
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 && !kernel && (errno == EACCES || errno == EROFS || errno == EPERM)) {
		writable = false;
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0) {
		int r = ml_neg_errno();
		if (kernel && r == -ENOENT)
			r = -EOPNOTSUPP;
		return r;
	}
	ml_idle *b = calloc(1, sizeof(*b));
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	b->fd = fd;
	b->writable = writable;
	b->kernel = kernel;
	*ret = b;
	return 0;
}

int ml_idle_open(ml_idle **ret)
{
	return idle_open(ML_IDLE_BITMAP_PATH, true, ret);
}

int ml_idle_open_path(const char *path, ml_idle **ret)
{
	return idle_open(path, false, ret);
}

int ml_idle_probe(ml_idle_probe_info *ret)
{
	if (!ret)
		return -EINVAL;
	struct stat st;
	ml_idle_probe_info r = { 0, "available" };
	if (stat("/sys/kernel/mm/page_idle", &st) < 0) {
		r.status = -EOPNOTSUPP;
		r.reason = "kernel built without idle page tracking (CONFIG_IDLE_PAGE_TRACKING): "
			   "no /sys/kernel/mm/page_idle";
	} else if (access(ML_IDLE_BITMAP_PATH, R_OK | W_OK) < 0) {
		r.status = errno == ENOENT ? -EOPNOTSUPP : -EACCES;
		r.reason = errno == ENOENT ? "no " ML_IDLE_BITMAP_PATH
					   : "needs root: " ML_IDLE_BITMAP_PATH " is mode 0600";
	}
	*ret = r;
	return 0;
}

ssize_t ml_idle_read(const ml_idle *b, uint64_t pfn, uint64_t *words, size_t nwords)
{
	if (!b || (!words && nwords) || pfn / 64 > (uint64_t)INT64_MAX / 8)
		return -EINVAL;
	size_t done = 0;
	off_t off = (off_t)(pfn / 64 * 8);
	while (done < nwords) {
		size_t want = (nwords - done) * 8;
		ssize_t n = pread(b->fd, words + done, want, off + (off_t)(done * 8));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* the kernel answers past the last frame with EINVAL/ENXIO: treat as the end */
			if ((errno == EINVAL || errno == ENXIO) && done > 0)
				break;
			return errno == ENXIO ? 0 : ml_neg_errno();
		}
		if (n == 0)
			break;
		done += (size_t)n / 8;
		if ((size_t)n % 8)
			return -EIO;
	}
	return (ssize_t)done;
}

/* A plain file gets the kernel's semantics: 1 bits are ORed in, 0 bits change nothing. */
static ssize_t file_mark(ml_idle *b, off_t off, const uint64_t *words, size_t nwords)
{
	uint64_t buf[IDLE_BATCH];
	for (size_t done = 0; done < nwords;) {
		size_t k = ML_MIN(nwords - done, (size_t)IDLE_BATCH);
		off_t o = off + (off_t)(done * 8);
		ssize_t n = pread(b->fd, buf, k * 8, o);
		if (n < 0)
			return ml_neg_errno();
		if ((size_t)n < k * 8)
			memset((char *)buf + n, 0, k * 8 - (size_t)n);
		for (size_t i = 0; i < k; i++)
			buf[i] |= words[done + i];
		if (pwrite(b->fd, buf, k * 8, o) != (ssize_t)(k * 8))
			return -EIO;
		done += k;
	}
	return (ssize_t)nwords;
}

ssize_t ml_idle_mark(ml_idle *b, uint64_t pfn, const uint64_t *words, size_t nwords)
{
	if (!b || (!words && nwords) || pfn / 64 > (uint64_t)INT64_MAX / 8)
		return -EINVAL;
	if (!b->writable)
		return -EBADF;
	size_t done = 0;
	off_t off = (off_t)(pfn / 64 * 8);
	if (!b->kernel)
		return file_mark(b, off, words, nwords);
	while (done < nwords) {
		ssize_t n = pwrite(b->fd, words + done, (nwords - done) * 8, off + (off_t)(done * 8));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return ml_neg_errno();
		}
		if (n == 0 || (size_t)n % 8)
			return -EIO;
		done += (size_t)n / 8;
	}
	return (ssize_t)done;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

ssize_t ml_idle_mark_pfns(ml_idle *b, uint64_t *pfns, size_t n)
{
	if (!b || (!pfns && n))
		return -EINVAL;
	if (!b->writable)
		return -EBADF;
	qsort(pfns, n, sizeof(*pfns), cmp_u64);
	uint64_t buf[IDLE_BATCH];
	ssize_t writes = 0;
	size_t i = 0;
	while (i < n && pfns[i] == 0)
		i++;
	while (i < n) {
		/* one batch: consecutive words starting at the first pending frame's word */
		uint64_t w0 = pfns[i] / 64;
		memset(buf, 0, sizeof(buf));
		size_t used = 0;
		while (i < n && pfns[i] / 64 - w0 < IDLE_BATCH) {
			size_t w = (size_t)(pfns[i] / 64 - w0);
			buf[w] |= 1ull << (pfns[i] % 64);
			used = w + 1;
			i++;
		}
		/* split at runs of empty words so untouched words are never rewritten */
		size_t s = 0;
		while (s < used) {
			while (s < used && !buf[s])
				s++;
			size_t e = s;
			while (e < used && buf[e])
				e++;
			if (e > s) {
				ssize_t r = ml_idle_mark(b, (w0 + s) * 64, buf + s, e - s);
				if (r < 0)
					return r;
				writes++;
			}
			s = e;
		}
	}
	return writes;
}

int ml_idle_test_pfns(const ml_idle *b, const uint64_t *pfns, size_t n, uint8_t *ret_idle)
{
	if (!b || (n && (!pfns || !ret_idle)))
		return -EINVAL;
	for (size_t i = 1; i < n; i++)
		if (pfns[i] < pfns[i - 1])
			return -EINVAL;
	uint64_t buf[IDLE_BATCH];
	uint64_t w0 = 0;
	size_t have = 0; /* words valid in buf, starting at word w0 */
	for (size_t i = 0; i < n; i++) {
		if (pfns[i] == 0) {
			ret_idle[i] = 0;
			continue;
		}
		uint64_t w = pfns[i] / 64;
		if (!have || w < w0 || w >= w0 + have) {
			ssize_t r = ml_idle_read(b, w * 64, buf, IDLE_BATCH);
			if (r < 0)
				return (int)r;
			w0 = w;
			have = (size_t)r;
			if (!have) {
				ret_idle[i] = 0; /* past the end of memory: not a tracked frame */
				continue;
			}
		}
		ret_idle[i] = (uint8_t)((buf[w - w0] >> (pfns[i] % 64)) & 1);
	}
	return 0;
}

void ml_idle_free(ml_idle *b)
{
	if (!b)
		return;
	close(b->fd);
	free(b);
}
