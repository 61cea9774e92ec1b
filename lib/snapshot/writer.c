/* The snapshot writer: set-up, what the caller adds besides memory, finishing, the public calls (chunks: writer_data.c; layout: writer_layout.c). */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "snapshot/writer.h"
#define ML__DL_REDIRECT
#include "internal/dl.h"

void snap_writer_err(ml_snapshot_writer *w, int err, const char *fmt, ...)
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

/* ---- setup ---- */

int ml_snapshot_writer_open(const char *path, const ml_snapshot_writer_opts *opts, ml_snapshot_writer **ret)
{
	ml__error_clear();
	if (!path || !*path || !ret)
		return -EINVAL;
	int lr = ml__dl_load();
	if (lr < 0)
		return lr;
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
	if ((unsigned)o.compress > ML_SNAPSHOT_COMPRESS_NEVER || o.reserved0)
		return -EINVAL;
	if (o.format == ML_SNAPSHOT_FORMAT_ELF)
		o.compress = ML_SNAPSHOT_COMPRESS_ALWAYS; /* nothing is compressed, nothing chosen */
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
		if (pthread_create(&w->thr[i], NULL, snap_writer_worker, w) != 0) {
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
	/* the page size the file records: readers take a power of two from 4 KiB to 1 MiB, and
	 * the mappings must be aligned to it */
	if (i.page_size && (i.page_size < 4096 || i.page_size > (1u << 20) || (i.page_size & (i.page_size - 1)))) {
		snap_fmt(w->msg, sizeof(w->msg), "page size %u is not a power of two from 4 KiB to 1 MiB", i.page_size);
		return -EINVAL;
	}
	if (w->have_maps && i.page_size != w->info.page_size) {
		snap_fmt(w->msg, sizeof(w->msg), "the page size must be set before the mappings");
		return -EINVAL;
	}
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


static int writer_set_mappings(ml_snapshot_writer *w, const ml_snapshot_vma *v, size_t n)
{
	if (!w || (!v && n) || w->have_maps || n > SNAP_MAX_VMAS)
		return -EINVAL;
	if (w->err)
		return w->err;
	long ps = sysconf(_SC_PAGESIZE);
	/* the page size the file will record (set_info's, else this machine's) */
	uint64_t page = w->info.page_size ? w->info.page_size : ps > 0 ? (uint64_t)ps : 4096;
	uint64_t dumped = 0;
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
		/* no process has that much (its address space is below 2^57): a made-up table,
		 * whose expanded core could not be written */
		uint64_t d = (v[i].flags & ML_SNAPSHOT_VMA_EXCLUDED) ? 0 :
			     (v[i].flags & ML_SNAPSHOT_VMA_DUMP_SIZE) ? v[i].dump_size : size;
		if (__builtin_add_overflow(dumped, d, &dumped) || dumped > (1ull << 62)) {
			snap_fmt(w->msg, sizeof(w->msg), "the mappings dump more than 2^62 bytes (mapping %zu at 0x%llx)", i,
				 (unsigned long long)m->start);
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
		uint64_t off;
		int r = snap_writer_elf_head(w, &off);
		if (r < 0) {
			snap_writer_err(w, r, "writing the core headers failed: %s", ml_strerror(r));
			return r;
		}
		for (size_t i = 0; i < n; i++) {
			w->vma_off[i] = off;
			off += w->vmas[i].dump_size;
		}
		w->elf_data_end = off;
	}
	/* what AUTO starts from: the room for all of it raw, and the machine's unwritten memory */
	uint64_t total = 0, avail = 0;
	for (size_t i = 0; i < w->nvma; i++)
		total += w->vmas[i].dump_size;
	bool mem = false;
	int sr = snap_out_space(w->out.fd, &mem, &avail);
	int64_t backlog = snap_meminfo_backlog();
	bool cs = snap_cachestat_works(w->out.fd);
	pthread_mutex_lock(&w->mu);
	/* neither way to judge the disk: it counts as behind from the start */
	w->disk_behind = !cs && backlog < 0;
	w->dump_total = total;
	w->out_in_memory = sr == 0 && mem;
	w->no_room_raw = sr < 0 || avail < total + (64u << 20);
	w->backlog0 = backlog;
	pthread_mutex_unlock(&w->mu);
	w->have_maps = true;
	return 0;
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
	snap_writer_seal_idle(w);
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
	r = snap_writer_settle(w);
	if (r == 0)
		r = w->o.format == ML_SNAPSHOT_FORMAT_ELF ? snap_writer_finish_elf(w) : snap_writer_finish_mlcore(w);
	if (r == 0) {
		r = snap_out_publish(&w->out);
		if (r < 0)
			snap_fmt(w->msg, sizeof(w->msg), "publishing %s failed: %s", w->out.path, ml_strerror(r));
		else if (r > 0)
			snap_fmt(w->msg, sizeof(w->msg), "%s is complete and in place, but %s failed: %s",
				 w->out.path, w->out.unsynced_what, ml_strerror(w->out.unsynced));
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
	if (r != 0 && w) { /* > 0: finish() published, with a warning */
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
	WRITER_CALL(w, snap_writer_add_data(w, addr, buf, len));
}

int ml_snapshot_writer_reserve(ml_snapshot_writer *w, uint64_t addr, size_t want, void **ret, size_t *ret_len)
{
	WRITER_CALL(w, snap_writer_reserve(w, addr, want, ret, ret_len));
}

int ml_snapshot_writer_commit(ml_snapshot_writer *w, uint64_t addr, size_t len)
{
	WRITER_CALL(w, snap_writer_commit(w, addr, len));
}

int ml_snapshot_writer_add_data_ref(ml_snapshot_writer *w, uint64_t addr, const void *buf, size_t len,
				    ml_snapshot_release_fn release, void *ctx)
{
	WRITER_CALL(w, snap_writer_add_data_ref(w, addr, buf, len, release, ctx));
}

int ml_snapshot_writer_add_run(ml_snapshot_writer *w, uint64_t addr, uint64_t len, ml_run_kind kind)
{
	WRITER_CALL(w, snap_writer_add_run(w, addr, len, kind));
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
