/* Expanding a snapshot: the plain ELF core (sparse file or stream) and the gzip export of it. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot/snap.h"
#include "internal/crc32.h"
#define ML__DL_REDIRECT
#include "internal/dl.h"

static const uint8_t zeros64k[65536];

/* ---- plain ELF to a file descriptor ---- */

typedef struct fd_sink {
	snap_sink k;
	int fd;
	bool sparse;
	uint64_t pos;
	uint64_t hole;   /* bytes skipped and not yet written */
} fd_sink;

static int fd_write(snap_sink *k, const void *p, size_t n)
{
	fd_sink *f = (fd_sink *)k;
	if (f->hole) {
		if (lseek(f->fd, (off_t)f->pos, SEEK_SET) < 0)
			return ml_neg_errno();
		f->hole = 0;
	}
	int r = snap_write_all(f->fd, p, n);
	f->pos += n;
	return r;
}

static int fd_zeros(snap_sink *k, uint64_t n)
{
	fd_sink *f = (fd_sink *)k;
	if (f->sparse) {
		f->pos += n;
		f->hole += n;
		return 0;
	}
	while (n) {
		size_t t = (size_t)ML_MIN(n, sizeof(zeros64k));
		int r = snap_write_all(f->fd, zeros64k, t);
		if (r < 0)
			return r;
		n -= t;
		f->pos += t;
	}
	return 0;
}

static int fd_finish(snap_sink *k)
{
	fd_sink *f = (fd_sink *)k;
	if (f->sparse && ftruncate(f->fd, (off_t)f->pos) < 0)
		return ml_neg_errno();
	return 0;
}

/* Finishes the digest: into @ret when asked, and against the manifest with opts.verify. */
static int digest_done(const ml_snapshot *s, ml__sha256 *h, bool verify, uint8_t *ret)
{
	uint8_t d[32], want[32];
	ml__sha256_final(h, d);
	if (ret)
		memcpy(ret, d, 32);
	if (verify && ml_snapshot_sha256(s, want) == 0 && memcmp(d, want, 32)) {
		char a[65], b[65];
		ml__sha256_hex(d, a);
		ml__sha256_hex(want, b);
		char msg[200];
		snprintf(msg, sizeof(msg), "the expanded core's SHA-256 %s differs from the manifest's %s", a, b);
		snap_reader_set_error(s, msg);
		return -EBADMSG;
	}
	return 0;
}

static int expand_err(const ml_snapshot *s, int r, const char *err)
{
	if (r == -EBADMSG && *err)
		snap_reader_set_error(s, err);
	else
		snap_reader_set_error(s, ml_strerror(r));
	return r;
}

int ml_snapshot_expand(const ml_snapshot *s, int fd, const ml_snapshot_expand_opts *opts, uint8_t ret_sha256[32])
{
	ml__error_clear();
	if (!s || fd < 0)
		return -EINVAL;
	ml_snapshot_expand_opts o = { .sz = sizeof(o) };
	if (ML_OPTS_LOAD(&o, opts) < 0)
		return -EINVAL;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return ml_neg_errno();
	fd_sink f = { .k = { .write = fd_write, .zeros = fd_zeros, .finish = fd_finish,
			     .progress = o.progress, .progress_ctx = o.progress_ctx }, .fd = fd };
	if (S_ISREG(st.st_mode) && !o.no_sparse) {
		off_t pos = lseek(fd, 0, SEEK_CUR);
		if (pos != 0)
			return pos < 0 ? ml_neg_errno() : -EINVAL;
		f.sparse = true;
	}
	ml__sha256 h;
	uint8_t want[32];
	bool hash = ret_sha256 || (o.verify && ml_snapshot_sha256(s, want) == 0);
	if (hash) {
		ml__sha256_init(&h);
		f.k.sha = &h;
	}
	char err[256] = "";
	int r = snap_expand(snap_reader_core(s), &f.k, err, sizeof(err));
	if (r < 0)
		return expand_err(s, r, err);
	return hash ? digest_done(s, &h, o.verify, ret_sha256) : 0;
}

/* ---- gzip export: independent members, each saying its own size in an extra field ---- */

#define GZ_HDR 48u   /* 10 fixed + 2 XLEN + 36 extra ("ML", 32 bytes) */

typedef struct gz_sink {
	snap_sink k;
	int fd;
	z_stream z;
	bool zinit;
	uint64_t member_size, member_in, members;
	uint64_t core_off, core_size, id; /* where the member starts in the core; the core's size; export id */
	uint32_t crc;
	ml_buf m;            /* the member being built (header placeholder first) */
} gz_sink;

static int gz_pump(gz_sink *g, const void *p, size_t n, int flush)
{
	g->z.next_in = (Bytef *)(uintptr_t)p;
	g->z.avail_in = (uInt)n;
	for (;;) {
		int r = ml_buf_reserve(&g->m, 65536);
		if (r < 0)
			return r;
		g->z.next_out = (Bytef *)g->m.data + g->m.len;
		g->z.avail_out = (uInt)(g->m.cap - g->m.len - 1);
		size_t before = g->z.avail_out;
		int z = deflate(&g->z, flush);
		g->m.len += before - g->z.avail_out;
		if (z == Z_STREAM_ERROR)
			return -EIO;
		if (flush == Z_FINISH) {
			if (z == Z_STREAM_END)
				return 0;
		} else if (g->z.avail_in == 0 && g->z.avail_out != 0) {
			return 0;
		}
	}
}

static int gz_end_member(gz_sink *g)
{
	int r = gz_pump(g, NULL, 0, Z_FINISH);
	if (r < 0)
		return r;
	uint8_t tr[8];
	put32(tr, g->crc);
	put32(tr + 4, (uint32_t)g->member_in);
	r = ml_buf_append(&g->m, tr, 8);
	if (r < 0)
		return r;
	uint8_t *h = (uint8_t *)g->m.data;
	memset(h, 0, GZ_HDR);
	h[0] = 0x1f;
	h[1] = 0x8b;
	h[2] = 8;      /* deflate */
	h[3] = 4;      /* FEXTRA */
	h[9] = 3;      /* Unix; mtime 0 keeps the output deterministic */
	put16(h + 10, 36);
	h[12] = 'M';
	h[13] = 'L';
	put16(h + 14, 32);
	put32(h + 16, (uint32_t)g->m.len);
	put32(h + 20, (uint32_t)g->member_in);
	put64(h + 24, g->core_off);
	put64(h + 32, g->core_size);
	put64(h + 40, g->id);
	r = snap_write_all(g->fd, g->m.data, g->m.len);
	if (r < 0)
		return r;
	g->core_off += g->member_in;
	g->m.len = GZ_HDR;
	g->member_in = 0;
	g->crc = 0;
	g->members++;
	return deflateReset(&g->z) == Z_OK ? 0 : -EIO;
}

static int gz_feed(gz_sink *g, const uint8_t *p, size_t n, bool zero)
{
	while (n) {
		size_t t = (size_t)ML_MIN((uint64_t)n, g->member_size - g->member_in);
		if (zero)
			t = ML_MIN(t, sizeof(zeros64k));
		const uint8_t *src = zero ? zeros64k : p;
		int r = gz_pump(g, src, t, Z_NO_FLUSH);
		if (r < 0)
			return r;
		g->crc = ml__crc32(g->crc, src, t);
		g->member_in += t;
		if (!zero)
			p += t;
		n -= t;
		if (g->member_in == g->member_size && (r = gz_end_member(g)) < 0)
			return r;
	}
	return 0;
}

static int gz_write(snap_sink *k, const void *p, size_t n) { return gz_feed((gz_sink *)k, p, n, false); }

static int gz_zeros(snap_sink *k, uint64_t n)
{
	while (n) {
		size_t t = (size_t)ML_MIN(n, (uint64_t)1 << 30);
		int r = gz_feed((gz_sink *)k, NULL, t, true);
		if (r < 0)
			return r;
		n -= t;
	}
	return 0;
}

static int gz_finish(snap_sink *k)
{
	gz_sink *g = (gz_sink *)k;
	if (g->member_in || !g->members)
		return gz_end_member(g);
	return 0;
}

int ml_snapshot_export_gzip(const ml_snapshot *s, int fd, const ml_snapshot_expand_opts *opts, uint8_t ret_sha256[32])
{
	ml__error_clear();
	if (!s || fd < 0)
		return -EINVAL;
	ml_snapshot_expand_opts o = { .sz = sizeof(o) };
	if (ML_OPTS_LOAD(&o, opts) < 0)
		return -EINVAL;
	if (!o.level)
		o.level = 6;
	if (!o.member_size)
		o.member_size = 4u << 20;
	if (o.level < 1 || o.level > 9 || o.member_size > (256u << 20))
		return -EINVAL;
	gz_sink g = { .k = { .write = gz_write, .zeros = gz_zeros, .finish = gz_finish,
			     .progress = o.progress, .progress_ctx = o.progress_ctx },
		      .fd = fd, .member_size = o.member_size };
	/* every member names the export it belongs to: the start of the SHA-256 of the core's
	 * headers and notes (all before its data), which differ between any two captures */
	const snap_core *c = snap_reader_core(s);
	g.core_size = snap_core_size(c);
	{
		ml__sha256 hh;
		uint8_t d[32];
		uint64_t data_off;
		ml__sha256_init(&hh);
		snap_sink hk = { .write = snap_sink_discard, .zeros = snap_sink_discard_zeros, .sha = &hh };
		int hr = snap_core_head(c, &hk, &data_off);
		if (hr < 0)
			return hr;
		ml__sha256_final(&hh, d);
		g.id = get64(d);
	}
	g.crc = 0;
	if (deflateInit2(&g.z, o.level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	g.zinit = true;
	int r = ml_buf_reserve(&g.m, GZ_HDR + 65536);
	g.m.len = GZ_HDR;
	ml__sha256 h;
	uint8_t want[32];
	bool hash = ret_sha256 || (o.verify && ml_snapshot_sha256(s, want) == 0);
	if (hash) {
		ml__sha256_init(&h);
		g.k.sha = &h;
	}
	char err[256] = "";
	if (r == 0)
		r = snap_expand(snap_reader_core(s), &g.k, err, sizeof(err));
	deflateEnd(&g.z);
	ml_buf_free(&g.m);
	if (r < 0)
		return expand_err(s, r, err);
	return hash ? digest_done(s, &h, o.verify, ret_sha256) : 0;
}

int ml_snapshot_expand_path(const ml_snapshot *s, const char *path, const ml_snapshot_expand_opts *opts,
			    uint8_t ret_sha256[32])
{
	ml__error_clear();
	ml_snapshot_expand_opts x = { .sz = sizeof(x) };
	if (!s || !path || !*path || ML_OPTS_LOAD(&x, opts) < 0)
		return -EINVAL;
	snap_out o;
	int r = snap_out_open(&o, path, x.overwrite);
	if (r < 0)
		return r;
	r = x.gzip ? ml_snapshot_export_gzip(s, o.fd, &x, ret_sha256) : ml_snapshot_expand(s, o.fd, &x, ret_sha256);
	if (r == 0) {
		r = snap_out_publish(&o);
		if (r < 0)
			snap_reader_set_error(s, ml_strerror(r));
		else if (r > 0)
			ml__error_set("%s is complete and in place, but %s failed: %s", path, o.unsynced_what,
				      ml_strerror(o.unsynced));
	}
	snap_out_discard(&o);
	return r;
}
