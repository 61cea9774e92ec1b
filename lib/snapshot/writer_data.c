/* The snapshot writer's chunks: bounded buffers filled by the caller, compressed and written by worker threads. */
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <stdlib.h>
#include <unistd.h>

#include "snapshot/writer.h"
#include "internal/crc32.h"
#define ML__DL_REDIRECT
#include "internal/dl.h"

#define ML__SAMPLE (8 << 10)       /* bytes of each sample of a chunk */
#define ML__SAMPLE_MIN (64u << 10) /* chunks this large are sampled first */

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

/* Whether LZ4 shrinks @len bytes at @src by at least 1/32 (x->obuf is the scratch). */
static bool sample_shrinks(worker_ctx *x, const uint8_t *src, int len)
{
	int n = LZ4_compress_default((const char *)src, (char *)x->obuf, len, len - len / 32);
	return n > 0;
}

/* Compresses @len bytes of @src into x->obuf; returns the stored size, or 0 when the
 * result would not be smaller than the input (the chunk is then stored raw). A large chunk
 * whose first and middle 8 KiB do not shrink under LZ4 (random, encrypted or already
 * compressed data) is stored raw without trying the whole of it: compressing it would
 * cost CPU time (zlib: about 40 MB/s) for nothing. Any codec, any level. */
static size_t compress_chunk(const ml_snapshot_writer *w, worker_ctx *x, const uint8_t *src, size_t len)
{
	if (len >= ML__SAMPLE_MIN && !sample_shrinks(x, src, ML__SAMPLE) &&
	    !sample_shrinks(x, src + len / 2, ML__SAMPLE))
		return 0;
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

bool snap_adapt_compress(const snap_adapt *a)
{
	if (a->out_in_memory || a->disk_behind || a->no_room_raw)
		return true;
	return a->waiting <= a->budget / 2;
}

int snap_out_space(int fd, bool *in_memory, uint64_t *avail)
{
	struct statfs st;
	if (fstatfs(fd, &st) < 0)
		return -errno;
	*in_memory = st.f_type == TMPFS_MAGIC || st.f_type == RAMFS_MAGIC;
	*avail = (uint64_t)st.f_bavail * (uint64_t)st.f_bsize;
	return 0;
}

bool snap_disk_behind(const snap_disk_probe *p)
{
	switch (p->source) {
	case SNAP_DISK_CACHESTAT:
		return p->unwritten_pages * 2 > p->step_pages;
	case SNAP_DISK_MEMINFO:
		return p->backlog_growth > 4 * (int64_t)WRITEBACK_STEP;
	default:
		return true; /* not known: do as if it were, and compress */
	}
}

#ifndef __NR_cachestat
#define __NR_cachestat 451 /* the common system call table's number (Linux 6.5) */
#endif

struct ml_cachestat_range { uint64_t off, len; };
struct ml_cachestat { uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted; };

int64_t snap_unwritten_pages(int fd, uint64_t off, uint64_t len)
{
	static int missing = -1;
	int m = __atomic_load_n(&missing, __ATOMIC_RELAXED);
	if (m < 0) {
		m = getenv("MEMLENS_NO_CACHESTAT") != NULL;
		__atomic_store_n(&missing, m, __ATOMIC_RELAXED);
	}
	if (m)
		return -1;
	struct ml_cachestat_range r = { off, len };
	struct ml_cachestat cs;
	if (syscall(__NR_cachestat, fd, &r, &cs, 0) != 0) {
		if (errno == ENOSYS || errno == EPERM)
			__atomic_store_n(&missing, 1, __ATOMIC_RELAXED);
		return -1;
	}
	return (int64_t)(cs.nr_dirty + cs.nr_writeback);
}

bool snap_cachestat_works(int fd)
{
	return snap_unwritten_pages(fd, 0, 4096) >= 0;
}

int64_t snap_meminfo_backlog(void)
{
	int fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	int64_t total = 0;
	int seen = 0;
	for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		unsigned long long kb;
		if (sscanf(l, "Dirty: %llu kB", &kb) == 1 || sscanf(l, "Writeback: %llu kB", &kb) == 1) {
			total += (int64_t)kb * 1024;
			seen++;
		}
	}
	return seen == 2 ? total : -1;
}

/* Every WRITEBACK_STEP bytes stored (mutex held on entry and return): starts writeback of
 * what is dirty, so that the disk works while we compress and the fsync at the end finds
 * most of the file written, and tells AUTO whether the disk keeps up (snap_disk_behind()):
 * from the pages of the step before the last one still dirty or under writeback where
 * the kernel counts them for a file (cachestat(), Linux 6.5), else from how much the
 * machine's dirty and writeback memory grew since the writer began. Nothing here waits
 * for the disk: with the ptrace freeze the target is held until all is read or buffered,
 * and the page cache is what lets that end before the disk is done. The file system's
 * room is checked at the same time. */
static void writeback_step(ml_snapshot_writer *w)
{
	uint64_t step_lo = w->o.format == ML_SNAPSHOT_FORMAT_MLCORE ? SNAP_DATA_START + w->kicked_prev : 0;
	uint64_t step_len = w->kicked - w->kicked_prev;
	w->kicked_prev = w->kicked;
	w->kicked = w->written;
	/* what is still to come, as raw bytes (the ranges already known to hold no data
	 * are not) */
	uint64_t done = w->prog.bytes_in + w->prog.bytes_nodata;
	uint64_t left = w->dump_total > done ? w->dump_total - done : 0;
	left += w->prog.buffered;
	int64_t base = w->backlog0;
	pthread_mutex_unlock(&w->mu);
	sync_file_range(w->out.fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	snap_disk_probe p = { .source = SNAP_DISK_UNKNOWN };
	int64_t u = step_lo && step_len ? snap_unwritten_pages(w->out.fd, step_lo, step_len) : -1;
	if (u >= 0) {
		p.source = SNAP_DISK_CACHESTAT;
		p.unwritten_pages = (uint64_t)u;
		p.step_pages = step_len / (uint64_t)sysconf(_SC_PAGESIZE); /* cachestat counts pages */
	} else {
		int64_t now = snap_meminfo_backlog();
		if (now >= 0 && base >= 0) {
			p.source = SNAP_DISK_MEMINFO;
			p.backlog_growth = now - base;
		}
	}
	bool mem = false;
	uint64_t avail = 0;
	int sr = snap_out_space(w->out.fd, &mem, &avail);
	pthread_mutex_lock(&w->mu);
	w->disk_behind = snap_disk_behind(&p);
	/* unknown room: do not count on it */
	w->no_room_raw = sr < 0 || avail < left + (64u << 20);
}

static int process(ml_snapshot_writer *w, worker_ctx *x, chunk *c, bool try_compress, snap_entry *e)
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
	e->crc = ml__crc32(0, data, c->len);
	const uint8_t *src = data;
	size_t n = c->len;
	e->codec = SC_RAW;
	size_t z = try_compress ? compress_chunk(w, x, data, c->len) : 0; /* stored raw unless it shrinks */
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

void *snap_writer_worker(void *arg)
{
	ml_snapshot_writer *w = arg;
	worker_ctx x;
	int ir = worker_init(w, &x);
	pthread_mutex_lock(&w->mu);
	if (ir < 0)
		snap_writer_err(w, -ENOMEM, "out of memory starting a compression worker");
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
			bool try_compress = w->o.compress != ML_SNAPSHOT_COMPRESS_NEVER;
			if (w->o.compress == ML_SNAPSHOT_COMPRESS_AUTO) {
				snap_adapt a = { .waiting = w->busy, .budget = w->maxbuf,
						 .out_in_memory = w->out_in_memory, .disk_behind = w->disk_behind,
						 .no_room_raw = w->no_room_raw };
				try_compress = snap_adapt_compress(&a);
			}
			pthread_mutex_unlock(&w->mu);
			r = process(w, &x, c, try_compress, &e);
			pthread_mutex_lock(&w->mu);
			if (r < 0)
				snap_writer_err(w, r, "writing the %s failed: %s", w->out.path, ml_strerror(r));
			else
				r = add_entry_locked(w, &e);
			if (r == -ENOMEM)
				snap_writer_err(w, r, "out of memory for the index");
			if (r == 0 && e.kind == SK_DATA) {
				/* Start writeback as the file grows, so that the fsync at the end
				 * finds most of it on disk already: the disk works while we compress. */
				w->written += w->o.format == ML_SNAPSHOT_FORMAT_ELF ? c->len : e.csize;
				if (w->written - w->kicked >= WRITEBACK_STEP)
					writeback_step(w);
			}
			if (r == 0) {
				w->prog.bytes_done += c->len;
				w->prog.buffered -= c->len;
				if (e.kind == SK_DATA) {
					w->data_chunks++;
					w->prog.bytes_stored += e.csize;
					if (e.codec == SC_RAW)
						w->raw_chunks++;
					if (!try_compress && w->o.compress == ML_SNAPSHOT_COMPRESS_AUTO)
						w->raw_keep_up++;
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

void snap_writer_seal_idle(ml_snapshot_writer *w)
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
		snap_writer_seal_idle(w);
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

int snap_writer_add_data(ml_snapshot_writer *w, uint64_t addr, const void *buf, size_t len)
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

int snap_writer_reserve(ml_snapshot_writer *w, uint64_t addr, size_t want, void **ret, size_t *ret_len)
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

int snap_writer_commit(ml_snapshot_writer *w, uint64_t addr, size_t len)
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

int snap_writer_add_data_ref(ml_snapshot_writer *w, uint64_t addr, const void *buf, size_t len,
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

int snap_writer_add_run(ml_snapshot_writer *w, uint64_t addr, uint64_t len, ml_run_kind kind)
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
	ret->chunks = w->data_chunks;
	ret->raw_chunks = w->raw_chunks;
	ret->raw_to_keep_up = w->raw_keep_up;
	pthread_mutex_unlock(&m->mu);
	return 0;
}
