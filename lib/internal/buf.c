/* Growable buffers and arrays, overflow-checked; reading a file whole or in one read. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal/internal.h"

int ml__grow(void *arrp, size_t *cap, size_t need, size_t elem)
{
	void **arr = arrp;
	if (need <= *cap)
		return 0;
	size_t ncap = *cap ? *cap : 16;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return -ENOMEM;
		ncap *= 2;
	}
	if (elem && ncap > SIZE_MAX / elem)
		return -ENOMEM;
	void *n = realloc(*arr, ncap * elem);
	if (!n)
		return -ENOMEM;
	*arr = n;
	*cap = ncap;
	return 0;
}

int ml_buf_reserve(ml_buf *b, size_t extra)
{
	if (extra > SIZE_MAX - b->len - 1)
		return -ENOMEM;
	/* one spare byte so text buffers can always be NUL-terminated */
	return ml__grow(&b->data, &b->cap, b->len + extra + 1, 1);
}

int ml_buf_append(ml_buf *b, const void *p, size_t n)
{
	int r = ml_buf_reserve(b, n);
	if (r < 0)
		return r;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

void ml_buf_free(ml_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int ml__read_fd_all(int fd, size_t hint, char **ret, size_t *ret_len)
{
	ml_buf b = {0};
	int r = ml_buf_reserve(&b, hint ? hint : 4096);
	if (r < 0)
		return r;
	for (;;) {
		if (b.cap - b.len < 2) {
			r = ml_buf_reserve(&b, b.cap);
			if (r < 0)
				goto fail;
		}
		ssize_t n = read(fd, b.data + b.len, b.cap - b.len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = ml_neg_errno();
			goto fail;
		}
		if (n == 0)
			break;
		b.len += (size_t)n;
	}
	b.data[b.len] = '\0';
	*ret = b.data;
	*ret_len = b.len;
	return 0;
fail:
	ml_buf_free(&b);
	return r;
}

ssize_t ml__read_small(int dirfd, const char *name, char *buf, size_t cap)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ml_neg_errno();
	ssize_t n;
	do
		n = read(fd, buf, cap - 1);
	while (n < 0 && errno == EINTR);
	int r = n < 0 ? ml_neg_errno() : 0;
	close(fd);
	if (r < 0)
		return r;
	buf[n] = '\0';
	return n;
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
