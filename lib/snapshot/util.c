/* Small pieces of the snapshot code: I/O loops, zero test, kinds, notes. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "snapshot/snap.h"

int snap_kind_to_run(int sk)
{
	switch (sk) {
	case SK_DATA: return ML_RUN_DATA;
	case SK_ZERO: return ML_RUN_ZERO;
	case SK_UNPOPULATED: return ML_RUN_UNPOPULATED;
	case SK_EXCLUDED: return ML_RUN_EXCLUDED;
	default: return ML_RUN_UNREADABLE;
	}
}

int snap_run_to_kind(ml_run_kind k)
{
	switch (k) {
	case ML_RUN_DATA: return SK_DATA;
	case ML_RUN_ZERO: return SK_ZERO;
	case ML_RUN_UNPOPULATED: return SK_UNPOPULATED;
	case ML_RUN_EXCLUDED: return SK_EXCLUDED;
	case ML_RUN_UNREADABLE: return SK_UNREADABLE;
	default: return -1;
	}
}

const char *ml_snapshot_kind_name(ml_run_kind k)
{
	switch (k) {
	case ML_RUN_DATA: return "data";
	case ML_RUN_ZERO: return "zero";
	case ML_RUN_UNPOPULATED: return "unpopulated";
	case ML_RUN_SWAPPED: return "swapped";
	case ML_RUN_EXCLUDED: return "excluded";
	case ML_RUN_UNREADABLE: return "unreadable";
	case ML_RUN_FILE: return "file";
	default: return "?";
	}
}

const char *ml_snapshot_codec_name(ml_snapshot_codec c)
{
	switch (c) {
	case ML_SNAPSHOT_CODEC_NONE: return "none";
	case ML_SNAPSHOT_CODEC_ZLIB: return "zlib";
	case ML_SNAPSHOT_CODEC_RAW: return "raw";
	case ML_SNAPSHOT_CODEC_LZ4: return "lz4";
	case ML_SNAPSHOT_CODEC_ZSTD: return "zstd";
	default: return "?";
	}
}

const char *ml_snapshot_compress_name(ml_snapshot_compress c)
{
	switch (c) {
	case ML_SNAPSHOT_COMPRESS_ALWAYS: return "always";
	case ML_SNAPSHOT_COMPRESS_AUTO: return "auto";
	case ML_SNAPSHOT_COMPRESS_NEVER: return "never";
	default: return "?";
	}
}

void snap_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* pwrite(2) at *@off, or write(2) when @off is NULL (a pipe), until all @n bytes are out. */
static int write_loop(int fd, const void *p, size_t n, uint64_t *off)
{
	const char *c = p;
	while (n) {
		size_t t = ML_MIN(n, (size_t)1 << 30);
		ssize_t w = off ? pwrite(fd, c, t, (off_t)*off) : write(fd, c, t);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return ml_neg_errno();
		}
		if (w == 0)
			return -EIO;
		c += w;
		n -= (size_t)w;
		if (off)
			*off += (uint64_t)w;
	}
	return 0;
}

int snap_pwrite_all(int fd, const void *p, size_t n, uint64_t off) { return write_loop(fd, p, n, &off); }
int snap_write_all(int fd, const void *p, size_t n) { return write_loop(fd, p, n, NULL); }

int snap_pread_all(int fd, void *p, size_t n, uint64_t off)
{
	char *c = p;
	while (n) {
		ssize_t r = pread(fd, c, ML_MIN(n, (size_t)1 << 30), (off_t)off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return ml_neg_errno();
		}
		if (r == 0)
			return -EBADMSG; /* the file is shorter than its headers say */
		c += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

bool snap_is_zero(const void *p, size_t n)
{
	const uint8_t *c = p;
	while (n && ((uintptr_t)c & 7)) {
		if (*c++)
			return false;
		n--;
	}
	const uint64_t *w = (const uint64_t *)(const void *)c;
	while (n >= 64) {
		if (w[0] | w[1] | w[2] | w[3] | w[4] | w[5] | w[6] | w[7])
			return false;
		w += 8;
		n -= 64;
	}
	c = (const uint8_t *)w;
	while (n--)
		if (*c++)
			return false;
	return true;
}

int snap_note_append(ml_buf *b, const char *name, uint32_t type, const void *desc, size_t len)
{
	size_t nlen = strlen(name) + 1;
	if (nlen > 256 || len > SNAP_MAX_NOTE)
		return -EINVAL;
	size_t total = 12 + align_up(nlen, 4) + align_up(len, 4);
	int r = ml_buf_reserve(b, total);
	if (r < 0)
		return r;
	uint8_t *p = (uint8_t *)b->data + b->len;
	memset(p, 0, total);
	put32(p, (uint32_t)nlen);
	put32(p + 4, (uint32_t)len);
	put32(p + 8, type);
	memcpy(p + 12, name, nlen);
	if (len)
		memcpy(p + 12 + align_up(nlen, 4), desc, len);
	b->len += total;
	b->data[b->len] = '\0';
	return 0;
}

int snap_sink_discard(snap_sink *k, const void *p, size_t n)
{
	(void)k;
	(void)p;
	(void)n;
	return 0;
}

int snap_sink_discard_zeros(snap_sink *k, uint64_t n)
{
	(void)k;
	(void)n;
	return 0;
}

void snap_seal(const uint8_t *head, size_t head_len, const uint8_t *notes, size_t notes_len, const uint8_t *idx,
	       size_t idx_len, uint8_t out[32])
{
	ml__sha256 h;
	static const uint8_t z[4];
	ml__sha256_init(&h);
	ml__sha256_update(&h, head, head_len);
	ml__sha256_update(&h, notes, notes_len >= SNAP_SEAL_LEN ? notes_len - SNAP_SEAL_LEN : 0);
	if (idx_len >= 80) {
		ml__sha256_update(&h, idx, 52);
		ml__sha256_update(&h, z, 4);
		ml__sha256_update(&h, idx + 56, 20);
		ml__sha256_update(&h, z, 4);
		ml__sha256_update(&h, idx + 80, idx_len - 80);
	} else {
		ml__sha256_update(&h, idx, idx_len);
	}
	ml__sha256_final(&h, out);
}
