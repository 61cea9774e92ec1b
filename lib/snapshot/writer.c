/* The snapshot writer: chunks captured memory into bounded buffers, compresses on workers, publishes atomically. */
#include <fcntl.h>
#include <gelf.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <lz4.h>
#include <lz4hc.h>
#include <zlib.h>
#include <zstd.h>

#include "snapshot/snap.h"

#define NSLOT 64
#define WRITEBACK_STEP (32u << 20)

typedef struct chunk {
	uint8_t *buf;
	const uint8_t *ref;         /* caller-owned bytes (add_data_ref), else NULL */
	ml_snapshot_release_fn release;
	void *release_ctx;
	uint64_t addr;
	size_t len;
	size_t lease;       /* bytes lent by reserve(), 0 when not lent */
	uint32_t vma;
	bool leased;
	struct chunk *next;
} chunk;

typedef struct pfile {
	char *name;
	uint8_t *data;
	size_t len;
} pfile;

typedef struct xfield {
	char *key, *val;
} xfield;

struct ml_snapshot_writer {
	ml_snapshot_writer_opts o;
	snap_out out;

	pthread_mutex_t mu;
	pthread_cond_t cv_work, cv_free, cv_idle;
	pthread_t thr[64];
	unsigned nthr;
	bool stop;
	int err;
	char msg[512];              /* the message of the failing call (guarded by mu) */
	char sticky[512];           /* the message of the error that killed the writer (w->err) */

	chunk *freelist;
	size_t nbuf, maxbuf;
	chunk *q_head, *q_tail;
	size_t busy;                /* chunks queued or being processed */
	chunk *open[NSLOT];

	ml_buf notes;               /* canonical notes, serialised */
	size_t nnotes, nprstatus;
	pfile *files;
	size_t nfiles, capfiles;
	ml_snapshot_info info;
	char *s_comm, *s_exe, *s_freeze, *s_kernel, *s_tool, *s_machine;
	uint8_t build_id[32];
	bool have_info;
	xfield *extra;
	size_t nextra, capextra;

	ml_snapshot_vma *vmas;
	size_t nvma;
	bool have_maps;
	uint64_t *vma_off;          /* ELF format: file offset of each mapping's data */
	uint64_t elf_data_end;      /* ELF format: end of the data area */

	snap_entry *ent;
	size_t nent, capent;
	uint64_t data_end;          /* next free offset of the data segment (mlcore) */

	ml_snapshot_progress prog;
	uint64_t written, kicked;   /* bytes written to the file; when writeback was last started */
	uint64_t raw_chunks, data_chunks;
	bool finished;
};

static void set_err(ml_snapshot_writer *w, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(ml_snapshot_writer *w, int err, const char *fmt, ...)
{
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(w->msg, sizeof(w->msg), fmt, ap);
		va_end(ap);
	}
	if (!w->err && err < 0 && err != -EINVAL) {
		w->err = err; /* I/O failures kill the writer; misuse only fails the call */
		memcpy(w->sticky, w->msg, sizeof(w->sticky));
	}
}

/* ---- workers ---- */

typedef struct worker_ctx {
	z_stream z;
	bool zinit;
	ZSTD_CCtx *zc;
	void *lz4hc;        /* LZ4 HC state (levels 3-12) */
	uint8_t *obuf;
} worker_ctx;

static int worker_init(const ml_snapshot_writer *w, worker_ctx *x)
{
	memset(x, 0, sizeof(*x));
	if (w->o.format != ML_SNAPSHOT_FORMAT_MLCORE)
		return 0;
	if (!(x->obuf = malloc(w->o.chunk_size)))
		return -ENOMEM;
	switch ((int)w->o.codec) {
	case SC_ZLIB:
		x->zinit = deflateInit(&x->z, w->o.level) == Z_OK;
		return x->zinit ? 0 : -ENOMEM;
	case SC_ZSTD:
		if (!(x->zc = ZSTD_createCCtx()))
			return -ENOMEM;
		/* one frame per chunk: its size in the header, no checksum (the index has a CRC) */
		if (ZSTD_isError(ZSTD_CCtx_setParameter(x->zc, ZSTD_c_compressionLevel, w->o.level)) ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(x->zc, ZSTD_c_contentSizeFlag, 1)) ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(x->zc, ZSTD_c_checksumFlag, 0)))
			return -EINVAL;
		return 0;
	default:
		if (w->o.level >= 3 && !(x->lz4hc = malloc((size_t)LZ4_sizeofStateHC())))
			return -ENOMEM;
		return 0;
	}
}

static void worker_fini(worker_ctx *x)
{
	if (x->zinit)
		deflateEnd(&x->z);
	ZSTD_freeCCtx(x->zc);
	free(x->lz4hc);
	free(x->obuf);
}

/* Compresses @len bytes of @src into x->obuf; returns the stored size, or 0 when the
 * result would not be smaller than the input (the chunk is then stored raw). */
static size_t compress_chunk(const ml_snapshot_writer *w, worker_ctx *x, const uint8_t *src, size_t len)
{
	size_t cap = len - 1;
	switch ((int)w->o.codec) {
	case SC_ZLIB:
		if (deflateReset(&x->z) != Z_OK)
			return 0;
		x->z.next_in = (Bytef *)(uintptr_t)src;
		x->z.avail_in = (uInt)len;
		x->z.next_out = x->obuf;
		x->z.avail_out = (uInt)cap;
		return deflate(&x->z, Z_FINISH) == Z_STREAM_END ? x->z.total_out : 0;
	case SC_ZSTD: {
		size_t n = ZSTD_compress2(x->zc, x->obuf, cap, src, len);
		return ZSTD_isError(n) ? 0 : n;
	}
	default: {
		int n = x->lz4hc ? LZ4_compress_HC_extStateHC(x->lz4hc, (const char *)src, (char *)x->obuf, (int)len,
							       (int)cap, w->o.level)
				 : LZ4_compress_default((const char *)src, (char *)x->obuf, (int)len, (int)cap);
		return n > 0 ? (size_t)n : 0;
	}
	}
}

static int add_entry_locked(ml_snapshot_writer *w, const snap_entry *e)
{
	int r = ml__grow(&w->ent, &w->capent, w->nent + 1, sizeof(*w->ent));
	if (r < 0)
		return r;
	w->ent[w->nent++] = *e;
	return 0;
}

static int process(ml_snapshot_writer *w, worker_ctx *x, chunk *c, snap_entry *e)
{
	*e = (snap_entry){ .addr = c->addr, .len = c->len, .vma = c->vma };
	const uint8_t *data = c->ref ? c->ref : c->buf;
	if (snap_is_zero(data, c->len)) {
		e->kind = SK_ZERO;
		return 0;
	}
	e->kind = SK_DATA;
	if (w->o.format == ML_SNAPSHOT_FORMAT_ELF) {
		const ml_snapshot_vma *v = &w->vmas[c->vma];
		return snap_pwrite_all(w->out.fd, data, c->len, w->vma_off[c->vma] + (c->addr - v->vma.start));
	}
	e->crc = (uint32_t)crc32(0L, data, (uInt)c->len);
	const uint8_t *src = data;
	size_t n = c->len;
	e->codec = SC_RAW;
	size_t z = compress_chunk(w, x, data, c->len); /* stored raw unless it shrinks */
	if (z > 0 && z < c->len) {
		src = x->obuf;
		n = z;
		e->codec = (uint8_t)w->o.codec;
	}
	pthread_mutex_lock(&w->mu);
	uint64_t off = w->data_end;
	w->data_end += n;
	pthread_mutex_unlock(&w->mu);
	e->offset = off;
	e->csize = (uint32_t)n;
	return snap_pwrite_all(w->out.fd, src, n, off);
}

static void *worker(void *arg)
{
	ml_snapshot_writer *w = arg;
	worker_ctx x;
	int ir = worker_init(w, &x);
	pthread_mutex_lock(&w->mu);
	if (ir < 0)
		set_err(w, -ENOMEM, "out of memory starting a compression worker");
	for (;;) {
		while (!w->q_head && !w->stop)
			pthread_cond_wait(&w->cv_work, &w->mu);
		if (!w->q_head)
			break;
		chunk *c = w->q_head;
		w->q_head = c->next;
		if (!w->q_head)
			w->q_tail = NULL;
		int r = w->err;
		snap_entry e;
		if (!r) {
			pthread_mutex_unlock(&w->mu);
			r = process(w, &x, c, &e);
			pthread_mutex_lock(&w->mu);
			if (r < 0)
				set_err(w, r, "writing the %s failed: %s", w->out.path, ml_strerror(r));
			else
				r = add_entry_locked(w, &e);
			if (r == -ENOMEM)
				set_err(w, r, "out of memory for the index");
			if (r == 0 && e.kind == SK_DATA) {
				/* Start writeback as the file grows, so that the fsync at the end
				 * finds most of it on disk already: the disk works while we compress. */
				w->written += w->o.format == ML_SNAPSHOT_FORMAT_ELF ? c->len : e.csize;
				if (w->written - w->kicked >= WRITEBACK_STEP) {
					w->kicked = w->written;
					pthread_mutex_unlock(&w->mu);
					sync_file_range(w->out.fd, 0, 0, SYNC_FILE_RANGE_WRITE);
					pthread_mutex_lock(&w->mu);
				}
			}
			if (r == 0) {
				w->prog.bytes_done += c->len;
				w->prog.buffered -= c->len;
				if (e.kind == SK_DATA) {
					w->data_chunks++;
					w->prog.bytes_stored += e.csize;
					if (e.codec == SC_RAW)
						w->raw_chunks++;
				}
			}
		}
		if (c->ref) {
			/* the caller's bytes: hand them back (outside the lock), drop the descriptor */
			pthread_mutex_unlock(&w->mu);
			c->release(c->release_ctx, c->addr, c->ref, c->len);
			free(c);
			pthread_mutex_lock(&w->mu);
		} else {
			c->next = w->freelist;
			w->freelist = c;
			pthread_cond_broadcast(&w->cv_free);
		}
		w->busy--;
		if (!w->busy)
			pthread_cond_broadcast(&w->cv_idle);
	}
	pthread_mutex_unlock(&w->mu);
	worker_fini(&x);
	return NULL;
}

/* ---- buffers (mutex held) ---- */

static void seal(ml_snapshot_writer *w, size_t slot)
{
	chunk *c = w->open[slot];
	w->open[slot] = NULL;
	if (!c->len) {
		c->next = w->freelist;
		w->freelist = c;
		pthread_cond_broadcast(&w->cv_free);
		return;
	}
	c->next = NULL;
	if (w->q_tail)
		w->q_tail->next = c;
	else
		w->q_head = c;
	w->q_tail = c;
	w->busy++;
	pthread_cond_signal(&w->cv_work);
}

static void seal_idle(ml_snapshot_writer *w)
{
	for (size_t i = 0; i < NSLOT; i++)
		if (w->open[i] && !w->open[i]->leased)
			seal(w, i);
}

static int get_buf(ml_snapshot_writer *w, chunk **ret)
{
	for (;;) {
		if (w->err)
			return w->err;
		if (w->freelist) {
			*ret = w->freelist;
			w->freelist = (*ret)->next;
			return 0;
		}
		if (w->nbuf < w->maxbuf) {
			chunk *c = calloc(1, sizeof(*c));
			if (c)
				c->buf = malloc(w->o.chunk_size);
			if (!c || !c->buf) {
				free(c);
				return -ENOMEM;
			}
			w->nbuf++;
			*ret = c;
			return 0;
		}
		/* budget used up: let the workers have what is waiting in open chunks */
		seal_idle(w);
		pthread_cond_wait(&w->cv_free, &w->mu);
	}
}

static ssize_t find_vma(const ml_snapshot_writer *w, uint64_t addr)
{
	size_t lo = 0, hi = w->nvma;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (w->vmas[mid].vma.end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < w->nvma && w->vmas[lo].vma.start <= addr)
		return (ssize_t)lo;
	return -1;
}

/* Checks [addr, addr+len) lies in the dumped part of one mapping; returns its index. */
static int data_range(ml_snapshot_writer *w, uint64_t addr, uint64_t len, uint32_t *vi)
{
	if (!w->have_maps) {
		snap_fmt(w->msg, sizeof(w->msg), "data before the mappings were set");
		return -EINVAL;
	}
	if (w->finished) {
		snap_fmt(w->msg, sizeof(w->msg), "data after finish");
		return -EINVAL;
	}
	ssize_t i = find_vma(w, addr);
	if (i < 0 || addr + len < addr ||
	    addr + len > w->vmas[i].vma.start + w->vmas[i].dump_size) {
		snap_fmt(w->msg, sizeof(w->msg), "data 0x%llx-0x%llx is not within the dumped part of one mapping",
			 (unsigned long long)addr, (unsigned long long)(addr + len));
		return -EINVAL;
	}
	*vi = (uint32_t)i;
	return 0;
}

/* The open chunk continuing at @addr in mapping @vi, or a new one (may wait). */
static int open_chunk(ml_snapshot_writer *w, uint64_t addr, uint32_t vi, size_t *slot)
{
	for (size_t i = 0; i < NSLOT; i++) {
		chunk *c = w->open[i];
		if (c && !c->leased && c->vma == vi && c->addr + c->len == addr && c->len < w->o.chunk_size) {
			*slot = i;
			return 0;
		}
	}
	chunk *c = NULL;
	int r = get_buf(w, &c);
	if (r < 0)
		return r;
	c->addr = addr;
	c->len = 0;
	c->vma = vi;
	c->leased = false;
	c->lease = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < NSLOT; i++)
			if (!w->open[i]) {
				w->open[i] = c;
				*slot = i;
				return 0;
			}
		/* no free slot: hand the oldest idle chunk to the workers */
		for (size_t i = 0; i < NSLOT; i++)
			if (w->open[i] && !w->open[i]->leased) {
				seal(w, i);
				break;
			}
	}
	c->next = w->freelist;
	w->freelist = c;
	snap_fmt(w->msg, sizeof(w->msg), "too many buffers lent at once");
	return -EBUSY;
}

static void maybe_seal(ml_snapshot_writer *w, size_t slot)
{
	chunk *c = w->open[slot];
	const ml_snapshot_vma *v = &w->vmas[c->vma];
	if (c->len == w->o.chunk_size || c->addr + c->len == v->vma.start + v->dump_size)
		seal(w, slot);
}

static int writer_add_data(ml_snapshot_writer *w, uint64_t addr, const void *buf, size_t len)
{
	if (!w || (!buf && len))
		return -EINVAL;
	if (!len)
		return 0;
	pthread_mutex_lock(&w->mu);
	uint32_t vi;
	int r = w->err ? w->err : data_range(w, addr, len, &vi);
	const uint8_t *p = buf;
	while (r == 0 && len) {
		size_t slot;
		r = open_chunk(w, addr, vi, &slot);
		if (r < 0)
			break;
		chunk *c = w->open[slot];
		size_t n = ML_MIN(len, w->o.chunk_size - c->len);
		c->leased = true;
		pthread_mutex_unlock(&w->mu);
		memcpy(c->buf + c->len, p, n);
		pthread_mutex_lock(&w->mu);
		c->leased = false;
		c->len += n;
		w->prog.bytes_in += n;
		w->prog.buffered += n;
		/* the slot may have moved while unlocked? no: leased chunks are never sealed */
		maybe_seal(w, slot);
		addr += n;
		p += n;
		len -= n;
	}
	pthread_mutex_unlock(&w->mu);
	return r;
}

static int writer_reserve(ml_snapshot_writer *w, uint64_t addr, size_t want, void **ret, size_t *ret_len)
{
	if (!w || !ret || !ret_len || !want)
		return -EINVAL;
	pthread_mutex_lock(&w->mu);
	uint32_t vi;
	int r = w->err ? w->err : data_range(w, addr, 1, &vi);
	size_t slot;
	if (r == 0)
		r = open_chunk(w, addr, vi, &slot);
	if (r == 0) {
		chunk *c = w->open[slot];
		const ml_snapshot_vma *v = &w->vmas[vi];
		size_t n = ML_MIN(want, w->o.chunk_size - c->len);
		n = (size_t)ML_MIN((uint64_t)n, v->vma.start + v->dump_size - addr);
		c->leased = true;
		c->lease = n;
		*ret = c->buf + c->len;
		*ret_len = n;
	}
	pthread_mutex_unlock(&w->mu);
	return r;
}

static int writer_commit(ml_snapshot_writer *w, uint64_t addr, size_t len)
{
	if (!w)
		return -EINVAL;
	pthread_mutex_lock(&w->mu);
	int r = -EINVAL;
	for (size_t i = 0; i < NSLOT; i++) {
		chunk *c = w->open[i];
		if (!c || !c->leased || c->addr + c->len != addr)
			continue;
		if (len > c->lease)
			break;
		c->leased = false;
		c->lease = 0;
		c->len += len;
		w->prog.bytes_in += len;
		w->prog.buffered += len;
		if (c->len == 0)
			seal(w, i); /* returns the empty buffer */
		else
			maybe_seal(w, i);
		r = w->err;
		break;
	}
	if (r == -EINVAL)
		snap_fmt(w->msg, sizeof(w->msg), "commit at 0x%llx of %zu bytes does not match a lent buffer",
			 (unsigned long long)addr, len);
	pthread_mutex_unlock(&w->mu);
	return r;
}

static int writer_add_data_ref(ml_snapshot_writer *w, uint64_t addr, const void *buf, size_t len,
				    ml_snapshot_release_fn release, void *ctx)
{
	if (!w || !buf || !len || !release)
		return -EINVAL;
	pthread_mutex_lock(&w->mu);
	uint32_t vi;
	int r = w->err ? w->err : data_range(w, addr, len, &vi);
	if (r < 0) {
		pthread_mutex_unlock(&w->mu);
		return r;
	}
	/* every descriptor first: once one is queued, the call cannot fail */
	size_t n = (len + w->o.chunk_size - 1) / w->o.chunk_size;
	chunk *head = NULL, *last = NULL;
	for (size_t i = 0; i < n; i++) {
		chunk *c = calloc(1, sizeof(*c));
		if (!c) {
			while (head) {
				chunk *x = head;
				head = x->next;
				free(x);
			}
			pthread_mutex_unlock(&w->mu);
			return -ENOMEM;
		}
		size_t off = i * (size_t)w->o.chunk_size;
		c->ref = (const uint8_t *)buf + off;
		c->addr = addr + off;
		c->len = ML_MIN(len - off, (size_t)w->o.chunk_size);
		c->vma = vi;
		c->release = release;
		c->release_ctx = ctx;
		if (last)
			last->next = c;
		else
			head = c;
		last = c;
	}
	if (w->q_tail)
		w->q_tail->next = head;
	else
		w->q_head = head;
	w->q_tail = last;
	w->busy += n;
	w->prog.bytes_in += len;
	w->prog.buffered += len;
	pthread_cond_broadcast(&w->cv_work);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

static int writer_add_run(ml_snapshot_writer *w, uint64_t addr, uint64_t len, ml_run_kind kind)
{
	if (!w)
		return -EINVAL;
	int sk = snap_run_to_kind(kind);
	if (sk < 0 || sk == SK_DATA || !len)
		return -EINVAL;
	pthread_mutex_lock(&w->mu);
	int r = w->err;
	ssize_t vi = -1;
	if (!r && (!w->have_maps || w->finished))
		r = -EINVAL;
	if (!r) {
		vi = find_vma(w, addr);
		if (vi < 0 || addr + len < addr || addr + len > w->vmas[vi].vma.end ||
		    (sk != SK_EXCLUDED && addr + len > w->vmas[vi].vma.start + w->vmas[vi].dump_size)) {
			snap_fmt(w->msg, sizeof(w->msg), "%s run 0x%llx-0x%llx is not within one mapping's dumped part",
				 ml_snapshot_kind_name(kind), (unsigned long long)addr, (unsigned long long)(addr + len));
			r = -EINVAL;
		}
	}
	if (!r) {
		snap_entry e = { .addr = addr, .len = len, .kind = (uint8_t)sk, .vma = (uint32_t)vi };
		r = add_entry_locked(w, &e);
		if (r == 0)
			w->prog.bytes_nodata += len;
	}
	pthread_mutex_unlock(&w->mu);
	return r;
}

int ml_snapshot_writer_progress(const ml_snapshot_writer *w, ml_snapshot_progress *ret)
{
	if (!w || !ret)
		return -EINVAL;
	ml_snapshot_writer *m = (ml_snapshot_writer *)w;
	pthread_mutex_lock(&m->mu);
	*ret = w->prog;
	pthread_mutex_unlock(&m->mu);
	return 0;
}


/* ---- setup ---- */

int ml_snapshot_writer_open(const char *path, const ml_snapshot_writer_opts *opts, ml_snapshot_writer **ret)
{
	ml__error_clear();
	if (!path || !*path || !ret)
		return -EINVAL;
	ml_snapshot_writer_opts o = { .sz = sizeof(o) };
	if (ML_OPTS_LOAD(&o, opts) < 0)
		return -EINVAL;
	if (!o.chunk_size)
		o.chunk_size = ML_SNAPSHOT_CHUNK_DEFAULT;
	if (o.chunk_size < ML_SNAPSHOT_CHUNK_MIN || o.chunk_size > ML_SNAPSHOT_CHUNK_MAX || o.chunk_size % 4096)
		return -EINVAL;
	if (!o.codec)
		o.codec = ML_SNAPSHOT_CODEC_LZ4;
	if (!o.level)
		o.level = 1;
	int maxlevel = o.codec == ML_SNAPSHOT_CODEC_ZLIB ? 9 : o.codec == ML_SNAPSHOT_CODEC_LZ4 ? LZ4HC_CLEVEL_MAX
		     : o.codec == ML_SNAPSHOT_CODEC_ZSTD ? ZSTD_maxCLevel() : 0;
	if (o.level < 1 || o.level > maxlevel)
		return -EINVAL;
	if (o.format != ML_SNAPSHOT_FORMAT_MLCORE && o.format != ML_SNAPSHOT_FORMAT_ELF)
		return -EINVAL;
	if (!o.threads) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		o.threads = n > 0 ? (unsigned)n : 1;
	}
	if (o.threads > 64)
		o.threads = 64;
	if (!o.max_buffer)
		o.max_buffer = 64u << 20;

	ml_snapshot_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->o = o;
	w->out.fd = w->out.dirfd = -1;
	w->maxbuf = (size_t)ML_MAX(o.max_buffer / o.chunk_size, 2 * (uint64_t)o.threads + 2);
	w->data_end = SNAP_DATA_START;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv_work, NULL);
	pthread_cond_init(&w->cv_free, NULL);
	pthread_cond_init(&w->cv_idle, NULL);
	int r = snap_out_open(&w->out, path, o.overwrite);
	if (r < 0) {
		ml_snapshot_writer_free(w);
		return r;
	}
	for (unsigned i = 0; i < o.threads; i++) {
		if (pthread_create(&w->thr[i], NULL, worker, w) != 0) {
			ml_snapshot_writer_free(w);
			return -EAGAIN;
		}
		w->nthr++;
	}
	*ret = w;
	return 0;
}

static int writer_add_note(ml_snapshot_writer *w, const char *name, uint32_t type, const void *desc, size_t len)
{
	if (!w || !name || !*name || strlen(name) > 255 || !strcmp(name, ML_SNAPSHOT_NOTE_OWNER) ||
	    (!desc && len) || len > SNAP_MAX_NOTE || w->have_maps)
		return -EINVAL;
	if (w->err)
		return w->err;
	int r = snap_note_append(&w->notes, name, type, desc, len);
	if (r < 0)
		return r;
	w->nnotes++;
	if (type == NT_PRSTATUS && !strcmp(name, "CORE"))
		w->nprstatus++;
	return 0;
}

static int writer_add_file(ml_snapshot_writer *w, const char *name, const void *buf, size_t len)
{
	if (!w || !name || !*name || strlen(name) > 255 || (!buf && len) || len > SNAP_MAX_NOTE)
		return -EINVAL;
	for (size_t i = 0; i < w->nfiles; i++)
		if (!strcmp(w->files[i].name, name))
			return -EEXIST;
	int r = ml__grow(&w->files, &w->capfiles, w->nfiles + 1, sizeof(*w->files));
	if (r < 0)
		return r;
	pfile f = { .name = strdup(name), .data = malloc(len ? len : 1), .len = len };
	if (!f.name || !f.data) {
		free(f.name);
		free(f.data);
		return -ENOMEM;
	}
	if (len)
		memcpy(f.data, buf, len);
	w->files[w->nfiles++] = f;
	return 0;
}

static int dupstr(char **dst, const char *src)
{
	char *n = NULL;
	if (src && !(n = strdup(src)))
		return -ENOMEM;
	free(*dst);
	*dst = n;
	return 0;
}

static int writer_set_info(ml_snapshot_writer *w, const ml_snapshot_info *info)
{
	ml_snapshot_info i = { .sz = sizeof(i) };
	if (!w || !info || ML_OPTS_LOAD(&i, info) < 0 || i.exe_build_id_len > 32)
		return -EINVAL;
	if (dupstr(&w->s_comm, i.comm) < 0 || dupstr(&w->s_exe, i.exe) < 0 ||
	    dupstr(&w->s_freeze, i.freeze) < 0 || dupstr(&w->s_kernel, i.kernel) < 0 ||
	    dupstr(&w->s_tool, i.tool) < 0 || dupstr(&w->s_machine, i.machine) < 0)
		return -ENOMEM;
	if (i.exe_build_id_len)
		memcpy(w->build_id, i.exe_build_id, i.exe_build_id_len);
	w->info = i;
	w->have_info = true;
	return 0;
}

static int writer_set_field(ml_snapshot_writer *w, const char *key, const char *value)
{
	if (!w || !key || !value)
		return -EINVAL;
	size_t kl = strlen(key);
	if (!kl || kl > 64)
		return -EINVAL;
	for (size_t i = 0; i < kl; i++)
		if (!((key[i] >= 'a' && key[i] <= 'z') || (key[i] >= '0' && key[i] <= '9') || key[i] == '_'))
			return -EINVAL;
	char *v = strdup(value);
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < w->nextra; i++)
		if (!strcmp(w->extra[i].key, key)) {
			free(w->extra[i].val);
			w->extra[i].val = v;
			return 0;
		}
	char *k = strdup(key);
	if (!k || ml__grow(&w->extra, &w->capextra, w->nextra + 1, sizeof(*w->extra)) < 0) {
		free(k);
		free(v);
		return -ENOMEM;
	}
	w->extra[w->nextra++] = (xfield){ k, v };
	return 0;
}

static uint16_t host_machine(void)
{
#if defined(__x86_64__)
	return EM_X86_64;
#elif defined(__aarch64__)
	return EM_AARCH64;
#elif defined(__i386__)
	return EM_386;
#elif defined(__riscv)
	return EM_RISCV;
#elif defined(__powerpc64__)
	return EM_PPC64;
#elif defined(__s390x__)
	return EM_S390;
#else
	return EM_NONE;
#endif
}

/* uname -m for the memory's e_machine: this machine's own name when it is this machine's. */
static const char *manifest_machine(uint16_t em, const char *host)
{
	if (!em || em == host_machine())
		return host;
	switch (em) {
	case EM_X86_64: return "x86_64";
	case EM_AARCH64: return "aarch64";
	case EM_386: return "i686";
	case EM_RISCV: return "riscv64";
	case EM_PPC64: return "ppc64";
	case EM_S390: return "s390x";
	case EM_ARM: return "arm";
	default: return "unknown";
	}
}

static void core_model(const ml_snapshot_writer *w, snap_core *c)
{
	*c = (snap_core){
		.fd = w->out.fd,
		.notes = (const uint8_t *)w->notes.data,
		.notes_len = w->notes.len,
		.vmas = w->vmas,
		.nvma = w->nvma,
		.ent = w->ent,
		.nent = w->nent,
		.chunk_size = w->o.chunk_size,
		.machine = w->info.e_machine ? w->info.e_machine : host_machine(),
		.osabi = ELFOSABI_NONE,
	};
}

typedef struct fd_sink {
	snap_sink k;
	int fd;
	uint64_t off;
} fd_sink;

static int pw_write(snap_sink *k, const void *p, size_t n)
{
	fd_sink *f = (fd_sink *)k;
	int r = snap_pwrite_all(f->fd, p, n, f->off);
	f->off += n;
	return r;
}

static int pw_zeros(snap_sink *k, uint64_t n)
{
	((fd_sink *)k)->off += n;
	return 0;
}

static int writer_set_mappings(ml_snapshot_writer *w, const ml_snapshot_vma *v, size_t n)
{
	if (!w || (!v && n) || w->have_maps || n > SNAP_MAX_VMAS)
		return -EINVAL;
	if (w->err)
		return w->err;
	long ps = sysconf(_SC_PAGESIZE);
	uint64_t page = ps > 0 ? (uint64_t)ps : 4096;
	for (size_t i = 0; i < n; i++) {
		const ml_vma *m = &v[i].vma;
		uint64_t size = m->end - m->start;
		bool bad = m->start >= m->end || m->start % page || m->end % page ||
			   (i && m->start < v[i - 1].vma.end) || (m->name_len && !m->name) ||
			   m->build_id_len > 32 || (unsigned)m->kind >= ML_VMA_KIND_COUNT ||
			   (v[i].flags & ~(ML_SNAPSHOT_VMA_EXCLUDED | ML_SNAPSHOT_VMA_DUMP_SIZE)) ||
			   ((v[i].flags & ML_SNAPSHOT_VMA_DUMP_SIZE) && !(v[i].flags & ML_SNAPSHOT_VMA_EXCLUDED) &&
			    (v[i].dump_size > size || v[i].dump_size % page));
		if (bad) {
			snap_fmt(w->msg, sizeof(w->msg), "mapping %zu (0x%llx-0x%llx) is invalid or out of order", i,
				 (unsigned long long)m->start, (unsigned long long)m->end);
			return -EINVAL;
		}
	}
	w->vmas = calloc(n ? n : 1, sizeof(*w->vmas));
	if (!w->vmas)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		ml_snapshot_vma *d = &w->vmas[i];
		*d = v[i];
		uint64_t size = d->vma.end - d->vma.start;
		if (d->flags & ML_SNAPSHOT_VMA_EXCLUDED)
			d->dump_size = 0;
		else if (!(d->flags & ML_SNAPSHOT_VMA_DUMP_SIZE))
			d->dump_size = size;
		char *name = malloc(d->vma.name_len + 1);
		if (!name) {
			w->nvma = i;
			return -ENOMEM;
		}
		if (d->vma.name_len)
			memcpy(name, v[i].vma.name, d->vma.name_len);
		name[d->vma.name_len] = '\0';
		d->vma.name = name;
		w->nvma = i + 1;
	}
	if (w->o.format == ML_SNAPSHOT_FORMAT_ELF) {
		w->vma_off = malloc((n ? n : 1) * sizeof(*w->vma_off));
		if (!w->vma_off)
			return -ENOMEM;
		snap_core c;
		core_model(w, &c);
		fd_sink s = { .k = { .write = pw_write, .zeros = pw_zeros }, .fd = w->out.fd };
		uint64_t off;
		int r = snap_core_head(&c, &s.k, &off);
		if (r < 0) {
			set_err(w, r, "writing the core headers failed: %s", ml_strerror(r));
			return r;
		}
		for (size_t i = 0; i < n; i++) {
			w->vma_off[i] = off;
			off += w->vmas[i].dump_size;
		}
		w->elf_data_end = off;
	}
	w->have_maps = true;
	return 0;
}

/* ---- finish ---- */

static int cmp_entry(const void *a, const void *b)
{
	const snap_entry *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Sorts, checks and completes the entries: no overlaps, no gaps in dumped parts, the
 * undumped rest excluded, adjacent non-data entries of one kind merged. */
static int settle_entries(ml_snapshot_writer *w)
{
	if (w->nent > 1)
		qsort(w->ent, w->nent, sizeof(*w->ent), cmp_entry);
	snap_entry *out = NULL;
	size_t n = 0, cap = 0, j = 0;
	int r = 0;
#define PUSH(E)                                                                                    \
	do {                                                                                       \
		snap_entry e_ = (E);                                                               \
		if (n && e_.kind != SK_DATA && out[n - 1].kind == e_.kind && out[n - 1].vma == e_.vma && \
		    out[n - 1].addr + out[n - 1].len == e_.addr) {                                 \
			out[n - 1].len += e_.len;                                                  \
		} else {                                                                           \
			if ((r = ml__grow(&out, &cap, n + 1, sizeof(*out))) < 0)                   \
				goto done;                                                         \
			out[n++] = e_;                                                             \
		}                                                                                  \
	} while (0)
	for (size_t i = 0; i < w->nvma; i++) {
		const ml_snapshot_vma *v = &w->vmas[i];
		uint64_t cur = v->vma.start, dump_end = v->vma.start + v->dump_size;
		while (j < w->nent && w->ent[j].addr < v->vma.end) {
			const snap_entry *e = &w->ent[j];
			if (e->addr < cur) {
				snap_fmt(w->msg, sizeof(w->msg), "ranges overlap at 0x%llx (mapping 0x%llx-0x%llx)",
					 (unsigned long long)e->addr, (unsigned long long)v->vma.start,
					 (unsigned long long)v->vma.end);
				r = -EINVAL;
				goto done;
			}
			if (e->addr > cur) {
				if (cur < dump_end) {
					snap_fmt(w->msg, sizeof(w->msg),
						 "nothing was given for 0x%llx-0x%llx (mapping 0x%llx-0x%llx)",
						 (unsigned long long)cur, (unsigned long long)ML_MIN(e->addr, dump_end),
						 (unsigned long long)v->vma.start, (unsigned long long)v->vma.end);
					r = -EINVAL;
					goto done;
				}
				PUSH(((snap_entry){ .addr = cur, .len = e->addr - cur, .kind = SK_EXCLUDED, .vma = (uint32_t)i }));
			}
			PUSH(*e);
			cur = e->addr + e->len;
			j++;
		}
		if (cur < v->vma.end) {
			if (cur < dump_end) {
				snap_fmt(w->msg, sizeof(w->msg),
					 "nothing was given for 0x%llx-0x%llx (mapping 0x%llx-0x%llx)",
					 (unsigned long long)cur, (unsigned long long)dump_end,
					 (unsigned long long)v->vma.start, (unsigned long long)v->vma.end);
				r = -EINVAL;
				goto done;
			}
			PUSH(((snap_entry){ .addr = cur, .len = v->vma.end - cur, .kind = SK_EXCLUDED, .vma = (uint32_t)i }));
		}
	}
#undef PUSH
done:
	if (r < 0) {
		free(out);
		return r;
	}
	free(w->ent);
	w->ent = out;
	w->nent = n;
	w->capent = cap;
	return 0;
}

static int build_mappings_note(const ml_snapshot_writer *w, ml_buf *b)
{
	uint8_t hdr[SNAP_MAP_HDR_SIZE] = {0};
	put32(hdr, 1);
	put32(hdr + 4, SNAP_MAP_REC_SIZE);
	put64(hdr + 8, w->nvma);
	int r = ml_buf_append(b, hdr, sizeof(hdr));
	for (size_t i = 0; i < w->nvma && r == 0; i++) {
		const ml_snapshot_vma *v = &w->vmas[i];
		uint8_t rec[SNAP_MAP_REC_SIZE] = {0};
		put64(rec + 0, v->vma.start);
		put64(rec + 8, v->vma.end);
		put64(rec + 16, v->vma.offset);
		put64(rec + 24, v->vma.inode);
		put64(rec + 32, v->dump_size);
		put32(rec + 40, v->vma.dev_major);
		put32(rec + 44, v->vma.dev_minor);
		put32(rec + 48, v->vma.perms);
		put32(rec + 52, v->flags & (ML_SNAPSHOT_VMA_EXCLUDED | ML_SNAPSHOT_VMA_DUMP_SIZE));
		put32(rec + 56, (uint32_t)v->vma.kind);
		put32(rec + 60, (uint32_t)v->vma.name_len);
		rec[64] = v->vma.build_id_len;
		rec[65] = v->vma.deleted ? 1 : 0;
		memcpy(rec + 72, v->vma.build_id, ML_MIN(v->vma.build_id_len, 32));
		static const uint8_t pad[8];
		r = ml_buf_append(b, rec, sizeof(rec));
		if (r == 0)
			r = ml_buf_append(b, v->vma.name, v->vma.name_len);
		if (r == 0)
			r = ml_buf_append(b, pad, align_up(v->vma.name_len, 8) - v->vma.name_len);
	}
	return r;
}

static int jkey(ml_buf *b, bool *first, const char *k)
{
	int r = ml_buf_append(b, *first ? "" : ",", *first ? 0 : 1);
	*first = false;
	if (r == 0)
		r = snap_json_str(b, k, strlen(k));
	return r ? r : ml_buf_append(b, ":", 1);
}

static int jnum(ml_buf *b, bool *first, const char *k, int64_t v, bool is_signed)
{
	char t[32];
	if (is_signed)
		snprintf(t, sizeof(t), "%lld", (long long)v);
	else
		snprintf(t, sizeof(t), "%llu", (unsigned long long)(uint64_t)v);
	int r = jkey(b, first, k);
	return r ? r : ml_buf_append(b, t, strlen(t));
}

static int jstr(ml_buf *b, bool *first, const char *k, const char *v)
{
	int r = jkey(b, first, k);
	return r ? r : snap_json_str(b, v, strlen(v));
}

static int build_manifest(const ml_snapshot_writer *w, const uint8_t *sha, uint64_t expanded, ml_buf *b)
{
	const ml_snapshot_info *in = &w->info;
	struct utsname u;
	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	long ps = sysconf(_SC_PAGESIZE);
	char t[160];
	bool f = true;
	int r = ml_buf_append(b, "{", 1);
#define J(x) do { if (r == 0) r = (x); } while (0)
	J(jstr(b, &f, "schema", "memlens.snapshot/1"));
	J(jnum(b, &f, "format_version", ML_SNAPSHOT_FORMAT_VERSION, false));
	snprintf(t, sizeof(t), "memlens %s", ml_version());
	J(jstr(b, &f, "tool", w->s_tool ? w->s_tool : t));
	J(jstr(b, &f, "kernel", w->s_kernel ? w->s_kernel : u.release));
	J(jstr(b, &f, "machine", w->s_machine ? w->s_machine : manifest_machine(in->e_machine, u.machine)));
	J(jnum(b, &f, "page_size", in->page_size ? in->page_size : (ps > 0 ? ps : 4096), false));
	if (w->have_info) {
		J(jnum(b, &f, "pid", in->pid, true));
		if (w->s_comm)
			J(jstr(b, &f, "comm", w->s_comm));
		if (w->s_exe)
			J(jstr(b, &f, "exe", w->s_exe));
		if (in->exe_build_id_len) {
			char hex[65];
			for (size_t i = 0; i < in->exe_build_id_len; i++)
				snprintf(hex + 2 * i, 3, "%02x", w->build_id[i]);
			J(jstr(b, &f, "exe_build_id", hex));
		}
		if (in->capture_time_ns) {
			J(jnum(b, &f, "capture_time_ns", in->capture_time_ns, true));
			time_t sec = (time_t)(in->capture_time_ns / 1000000000);
			struct tm tm;
			if (gmtime_r(&sec, &tm)) {
				char iso[64];
				snprintf(iso, sizeof(iso), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
					 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
					 (int)((in->capture_time_ns % 1000000000) / 1000000));
				J(jstr(b, &f, "capture_time", iso));
			}
		}
		if (w->s_freeze)
			J(jstr(b, &f, "freeze", w->s_freeze));
		J(jnum(b, &f, "stop_ns", (int64_t)in->stop_ns, false));
		J(jkey(b, &f, "smeared"));
		J(ml_buf_append(b, in->smeared ? "true" : "false", in->smeared ? 4 : 5));
		if (in->has_coredump_filter) {
			snprintf(t, sizeof(t), "0x%llx", (unsigned long long)in->coredump_filter);
			J(jstr(b, &f, "coredump_filter", t));
		}
	}
	J(jnum(b, &f, "threads", (int64_t)w->nprstatus, false));
	J(jnum(b, &f, "mappings", (int64_t)w->nvma, false));
	J(jstr(b, &f, "codec", ml_snapshot_codec_name(w->o.codec)));
	J(jnum(b, &f, "level", w->o.level, false));
	J(jnum(b, &f, "chunk_size", w->o.chunk_size, false));
	uint64_t by[SK_COUNT] = {0};
	for (size_t i = 0; i < w->nent; i++)
		by[w->ent[i].kind] += w->ent[i].len;
	J(jkey(b, &f, "bytes"));
	J(ml_buf_append(b, "{", 1));
	bool f2 = true;
	static const char *names[SK_COUNT] = { "data", "zero", "unpopulated", "excluded", "unreadable" };
	for (int k = 0; k < SK_COUNT; k++)
		J(jnum(b, &f2, names[k], (int64_t)by[k], false));
	J(ml_buf_append(b, "}", 1));
	J(jnum(b, &f, "stored_bytes", (int64_t)(w->data_end - SNAP_DATA_START), false));
	J(jnum(b, &f, "chunks", (int64_t)w->data_chunks, false));
	J(jnum(b, &f, "raw_chunks", (int64_t)w->raw_chunks, false));
	J(jnum(b, &f, "expanded_size", (int64_t)expanded, false));
	if (sha) {
		char hex[65];
		snap_sha256_hex(sha, hex);
		J(jstr(b, &f, "expanded_sha256", hex));
	}
	if (w->nextra) {
		J(jkey(b, &f, "extra"));
		J(ml_buf_append(b, "{", 1));
		f2 = true;
		for (size_t i = 0; i < w->nextra; i++)
			J(jstr(b, &f2, w->extra[i].key, w->extra[i].val));
		J(ml_buf_append(b, "}", 1));
	}
	J(ml_buf_append(b, "}", 1));
#undef J
	return r;
}

static int hash_sink_write(snap_sink *k, const void *p, size_t n) { (void)k; (void)p; (void)n; return 0; }
static int hash_sink_zeros(snap_sink *k, uint64_t n) { (void)k; (void)n; return 0; }

static int finish_mlcore(ml_snapshot_writer *w)
{
	snap_core c;
	core_model(w, &c);
	uint64_t expanded = snap_core_size(&c);
	uint8_t sha[32];
	int r = 0;
	bool do_sha = !w->o.no_sha256 && expanded <= (w->o.sha256_max ? w->o.sha256_max : (uint64_t)1 << 30);
	if (do_sha) {
		snap_sha256 h;
		snap_sha256_init(&h);
		snap_sink k = { .write = hash_sink_write, .zeros = hash_sink_zeros, .sha = &h };
		char err[256] = "";
		r = snap_expand(&c, &k, err, sizeof(err));
		if (r < 0) {
			snap_fmt(w->msg, sizeof(w->msg), "re-reading the data for its digest failed: %s",
				 *err ? err : ml_strerror(r));
			return r == -EBADMSG ? -EIO : r;
		}
		snap_sha256_final(&h, sha);
	}

	/* notes: canonical, then memlens: mappings, /proc files, manifest */
	ml_buf notes = {0}, tmp = {0};
	r = ml_buf_append(&notes, w->notes.data, w->notes.len);
	if (r == 0)
		r = build_mappings_note(w, &tmp);
	if (r == 0)
		r = snap_note_append(&notes, ML_SNAPSHOT_NOTE_OWNER, SNAP_NT_MAPPINGS, tmp.data, tmp.len);
	for (size_t i = 0; i < w->nfiles && r == 0; i++) {
		tmp.len = 0;
		r = ml_buf_append(&tmp, w->files[i].name, strlen(w->files[i].name) + 1);
		if (r == 0)
			r = ml_buf_append(&tmp, w->files[i].data, w->files[i].len);
		if (r == 0)
			r = snap_note_append(&notes, ML_SNAPSHOT_NOTE_OWNER, SNAP_NT_PROCFILE, tmp.data, tmp.len);
	}
	if (r == 0) {
		tmp.len = 0;
		r = build_manifest(w, do_sha ? sha : NULL, expanded, &tmp);
	}
	if (r == 0)
		r = snap_note_append(&notes, ML_SNAPSHOT_NOTE_OWNER, SNAP_NT_MANIFEST, tmp.data, tmp.len);
	ml_buf_free(&tmp);
	/* the seal, last: filled in once everything it covers is known */
	static const uint8_t no_seal[SNAP_SEAL_LEN];
	if (r == 0)
		r = snap_note_append(&notes, ML_SNAPSHOT_NOTE_OWNER, SNAP_NT_SEAL, no_seal, sizeof(no_seal));

	/* index */
	ml_buf idx = {0};
	if (r == 0)
		r = ml_buf_reserve(&idx, SNAP_IDX_HDR_SIZE + w->nent * (size_t)SNAP_IDX_ENT_SIZE);
	uint64_t notes_off = align_up(w->data_end, 8);
	uint64_t idx_off = align_up(notes_off + notes.len, 8);
	if (r == 0) {
		uint8_t *h = (uint8_t *)idx.data;
		memset(h, 0, SNAP_IDX_HDR_SIZE);
		uint8_t *e = h + SNAP_IDX_HDR_SIZE;
		for (size_t i = 0; i < w->nent; i++, e += SNAP_IDX_ENT_SIZE) {
			const snap_entry *s = &w->ent[i];
			memset(e, 0, SNAP_IDX_ENT_SIZE);
			put64(e, s->addr);
			put64(e + 8, s->len);
			put64(e + 16, s->kind == SK_DATA ? s->offset : 0);
			put32(e + 24, s->kind == SK_DATA ? s->csize : 0);
			put32(e + 28, s->kind == SK_DATA ? s->crc : 0);
			e[32] = s->kind;
			e[33] = s->kind == SK_DATA ? s->codec : SC_NONE;
		}
		idx.len = SNAP_IDX_HDR_SIZE + w->nent * (size_t)SNAP_IDX_ENT_SIZE;
		memcpy(h, SNAP_IDX_MAGIC, 8);
		put32(h + 8, ML_SNAPSHOT_FORMAT_VERSION);
		put32(h + 12, SNAP_IDX_HDR_SIZE);
		put32(h + 16, SNAP_IDX_ENT_SIZE);
		put32(h + 20, w->o.chunk_size);
		put64(h + 24, w->nent);
		put64(h + 32, SNAP_DATA_START);
		put64(h + 40, w->data_end - SNAP_DATA_START);
		put32(h + 48, (uint32_t)crc32(0L, h + SNAP_IDX_HDR_SIZE, (uInt)(idx.len - SNAP_IDX_HDR_SIZE)));
		long ps = sysconf(_SC_PAGESIZE);
		put32(h + 56, w->info.page_size ? w->info.page_size : (uint32_t)(ps > 0 ? ps : 4096));
	}

	/* ELF header and program headers: written last (until then the file has no ELF
	 * magic), but their checksum goes into the index header */
	uint8_t head[SNAP_DATA_START];
	memset(head, 0, sizeof(head));
	if (r == 0) {
		Elf64_Ehdr eh;
		Elf64_Phdr ph[3];
		memset(&eh, 0, sizeof(eh));
		memset(ph, 0, sizeof(ph));
		memcpy(eh.e_ident, ELFMAG, SELFMAG);
		eh.e_ident[EI_CLASS] = ELFCLASS64;
		eh.e_ident[EI_DATA] = ELFDATA2LSB;
		eh.e_ident[EI_VERSION] = EV_CURRENT;
		eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
		eh.e_type = ET_CORE;
		eh.e_machine = c.machine;
		eh.e_version = EV_CURRENT;
		eh.e_phoff = sizeof(eh);
		eh.e_ehsize = sizeof(eh);
		eh.e_phentsize = sizeof(Elf64_Phdr);
		eh.e_phnum = 3;
		ph[0].p_type = PT_NOTE;
		ph[0].p_offset = notes_off;
		ph[0].p_filesz = notes.len;
		ph[0].p_align = 4;
		ph[1].p_type = SNAP_PT_DATA;
		ph[1].p_offset = SNAP_DATA_START;
		ph[1].p_filesz = w->data_end - SNAP_DATA_START;
		ph[1].p_flags = PF_R;
		ph[1].p_align = 8;
		ph[2].p_type = SNAP_PT_INDEX;
		ph[2].p_offset = idx_off;
		ph[2].p_filesz = idx.len;
		ph[2].p_flags = PF_R;
		ph[2].p_align = 8;
		r = snap_xlate_out(head, &eh, sizeof(eh), ELF_T_EHDR);
		if (r == 0)
			r = snap_xlate_out(head + sizeof(eh), ph, sizeof(ph), ELF_T_PHDR);
	}
	if (r == 0) {
		uint8_t *h = (uint8_t *)idx.data;
		put32(h + 60, (uint32_t)crc32(0L, head, sizeof(head)));
		snap_seal(head, sizeof(head), (const uint8_t *)notes.data, notes.len, h, idx.len,
			  (uint8_t *)notes.data + notes.len - SNAP_SEAL_LEN);
		put32(h + 52, (uint32_t)crc32(0L, (const Bytef *)notes.data, (uInt)notes.len));
		put32(h + 76, (uint32_t)crc32(0L, h, 76));
	}
	if (r == 0)
		r = snap_pwrite_all(w->out.fd, notes.data, notes.len, notes_off);
	if (r == 0)
		r = snap_pwrite_all(w->out.fd, idx.data, idx.len, idx_off);
	if (r == 0)
		r = snap_pwrite_all(w->out.fd, head, sizeof(head), 0);
	ml_buf_free(&notes);
	ml_buf_free(&idx);
	if (r < 0)
		snap_fmt(w->msg, sizeof(w->msg), "writing %s failed: %s", w->out.path, ml_strerror(r));
	return r;
}

static int finish_elf(ml_snapshot_writer *w)
{
	snap_core c;
	core_model(w, &c);
	uint64_t size = snap_core_size(&c);
	fd_sink s = { .k = { .write = pw_write, .zeros = pw_zeros }, .fd = w->out.fd };
	s.off = w->elf_data_end;
	int r = snap_core_tail(&c, &s.k);
	if (r == 0 && ftruncate(w->out.fd, (off_t)size) < 0)
		r = ml_neg_errno();
	if (r < 0)
		snap_fmt(w->msg, sizeof(w->msg), "writing %s failed: %s", w->out.path, ml_strerror(r));
	return r;
}

static int writer_finish(ml_snapshot_writer *w)
{
	if (!w || w->finished)
		return -EINVAL;
	pthread_mutex_lock(&w->mu);
	int r = 0;
	for (size_t i = 0; i < NSLOT; i++)
		if (w->open[i] && w->open[i]->leased) {
			snap_fmt(w->msg, sizeof(w->msg), "a buffer lent at 0x%llx was never committed",
				 (unsigned long long)(w->open[i]->addr + w->open[i]->len));
			r = -EINVAL;
		}
	if (r == 0 && !w->have_maps) {
		snap_fmt(w->msg, sizeof(w->msg), "no mappings were set");
		r = -EINVAL;
	}
	if (r < 0) {
		pthread_mutex_unlock(&w->mu);
		return r;
	}
	w->finished = true;
	seal_idle(w);
	while (w->busy)
		pthread_cond_wait(&w->cv_idle, &w->mu);
	w->stop = true;
	pthread_cond_broadcast(&w->cv_work);
	r = w->err;
	pthread_mutex_unlock(&w->mu);
	for (unsigned i = 0; i < w->nthr; i++)
		pthread_join(w->thr[i], NULL);
	w->nthr = 0;
	if (r < 0)
		return r;
	r = settle_entries(w);
	if (r == 0)
		r = w->o.format == ML_SNAPSHOT_FORMAT_ELF ? finish_elf(w) : finish_mlcore(w);
	if (r == 0) {
		r = snap_out_publish(&w->out);
		if (r < 0)
			snap_fmt(w->msg, sizeof(w->msg), "publishing %s failed: %s", w->out.path, ml_strerror(r));
	}
	if (r < 0 && !w->err)
		w->err = r;
	return r;
}

void ml_snapshot_writer_free(ml_snapshot_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	if (!w->err)
		w->err = -ECANCELED; /* workers drop what is queued */
	pthread_cond_broadcast(&w->cv_work);
	pthread_cond_broadcast(&w->cv_free);
	pthread_mutex_unlock(&w->mu);
	for (unsigned i = 0; i < w->nthr; i++)
		pthread_join(w->thr[i], NULL);
	snap_out_discard(&w->out); /* removes the temporary unless it was published */
	for (size_t i = 0; i < NSLOT; i++)
		if (w->open[i]) {
			w->open[i]->next = w->freelist;
			w->freelist = w->open[i];
		}
	for (chunk *c = w->q_head; c;) {
		chunk *n = c->next;
		if (c->ref) {
			c->release(c->release_ctx, c->addr, c->ref, c->len);
			free(c);
		} else {
			c->next = w->freelist;
			w->freelist = c;
		}
		c = n;
	}
	while (w->freelist) {
		chunk *c = w->freelist;
		w->freelist = c->next;
		free(c->buf);
		free(c);
	}
	ml_buf_free(&w->notes);
	for (size_t i = 0; i < w->nfiles; i++) {
		free(w->files[i].name);
		free(w->files[i].data);
	}
	free(w->files);
	for (size_t i = 0; i < w->nextra; i++) {
		free(w->extra[i].key);
		free(w->extra[i].val);
	}
	free(w->extra);
	free(w->s_comm);
	free(w->s_exe);
	free(w->s_freeze);
	free(w->s_kernel);
	free(w->s_machine);
	free(w->s_tool);
	for (size_t i = 0; i < w->nvma; i++)
		free((char *)w->vmas[i].vma.name);
	free(w->vmas);
	free(w->vma_off);
	free(w->ent);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv_work);
	pthread_cond_destroy(&w->cv_free);
	pthread_cond_destroy(&w->cv_idle);
	free(w);
}

/* ---- the public calls: each failure leaves its message as the thread's error detail ---- */

static void call_begin(ml_snapshot_writer *w)
{
	ml__error_clear();
	if (w) {
		pthread_mutex_lock(&w->mu);
		w->msg[0] = '\0';
		pthread_mutex_unlock(&w->mu);
	}
}

static int call_end(ml_snapshot_writer *w, int r)
{
	if (r < 0 && w) {
		pthread_mutex_lock(&w->mu);
		/* a call refused because the writer died earlier says what killed it */
		ml__error_set("%s", w->msg[0] ? w->msg : r == w->err ? w->sticky : "");
		pthread_mutex_unlock(&w->mu);
	}
	return r;
}

#define WRITER_CALL(w, call) \
	do { \
		call_begin(w); \
		return call_end(w, call); \
	} while (0)

int ml_snapshot_writer_add_data(ml_snapshot_writer *w, uint64_t addr, const void *buf, size_t len)
{
	WRITER_CALL(w, writer_add_data(w, addr, buf, len));
}

int ml_snapshot_writer_reserve(ml_snapshot_writer *w, uint64_t addr, size_t want, void **ret, size_t *ret_len)
{
	WRITER_CALL(w, writer_reserve(w, addr, want, ret, ret_len));
}

int ml_snapshot_writer_commit(ml_snapshot_writer *w, uint64_t addr, size_t len)
{
	WRITER_CALL(w, writer_commit(w, addr, len));
}

int ml_snapshot_writer_add_data_ref(ml_snapshot_writer *w, uint64_t addr, const void *buf, size_t len,
				    ml_snapshot_release_fn release, void *ctx)
{
	WRITER_CALL(w, writer_add_data_ref(w, addr, buf, len, release, ctx));
}

int ml_snapshot_writer_add_run(ml_snapshot_writer *w, uint64_t addr, uint64_t len, ml_run_kind kind)
{
	WRITER_CALL(w, writer_add_run(w, addr, len, kind));
}

int ml_snapshot_writer_add_note(ml_snapshot_writer *w, const char *name, uint32_t type, const void *desc, size_t len)
{
	WRITER_CALL(w, writer_add_note(w, name, type, desc, len));
}

int ml_snapshot_writer_add_file(ml_snapshot_writer *w, const char *name, const void *buf, size_t len)
{
	WRITER_CALL(w, writer_add_file(w, name, buf, len));
}

int ml_snapshot_writer_set_info(ml_snapshot_writer *w, const ml_snapshot_info *info)
{
	WRITER_CALL(w, writer_set_info(w, info));
}

int ml_snapshot_writer_set_field(ml_snapshot_writer *w, const char *key, const char *value)
{
	WRITER_CALL(w, writer_set_field(w, key, value));
}

int ml_snapshot_writer_set_mappings(ml_snapshot_writer *w, const ml_snapshot_vma *v, size_t n)
{
	WRITER_CALL(w, writer_set_mappings(w, v, n));
}

int ml_snapshot_writer_finish(ml_snapshot_writer *w)
{
	WRITER_CALL(w, writer_finish(w));
}
