/* The snapshot reader's reads: by binary search over the index, decoded chunks cached per snapshot. */
#include <limits.h>
#include <stdlib.h>

#include "snapshot/reader.h"

static uint8_t *take_buf(ml_snapshot *m)
{
	uint8_t *b = NULL;
	pthread_mutex_lock(&m->mu);
	if (m->nspare)
		b = m->spare[--m->nspare];
	pthread_mutex_unlock(&m->mu);
	return b ? b : malloc(m->chunk_size);
}

/* under the mutex */
static void give_buf(ml_snapshot *m, uint8_t *b)
{
	if (b && m->nspare < 2 * NCACHE)
		m->spare[m->nspare++] = b;
	else
		free(b);
}

static int chunk_copy(const ml_snapshot *s, size_t i, uint64_t off, void *dst, size_t n)
{
	ml_snapshot *m = (ml_snapshot *)s;
	pthread_mutex_lock(&m->mu);
	for (int c = 0; c < NCACHE; c++)
		if (m->cache[c].buf && m->cache[c].idx == i) {
			memcpy(dst, m->cache[c].buf + off, n);
			m->cache[c].stamp = ++m->clock;
			pthread_mutex_unlock(&m->mu);
			return 0;
		}
	pthread_mutex_unlock(&m->mu);
	uint8_t *buf = take_buf(m), *scratch = take_buf(m);
	if (!buf || !scratch) {
		free(buf);
		free(scratch);
		return -ENOMEM;
	}
	char err[256];
	int r = snap_chunk_load(&s->core, i, buf, scratch, false, err, sizeof(err));
	if (r == 0)
		memcpy(dst, buf + off, n);
	pthread_mutex_lock(&m->mu);
	give_buf(m, scratch);
	if (r < 0) {
		give_buf(m, buf);
	} else {
		int victim = 0;
		for (int c = 1; c < NCACHE; c++)
			if (m->cache[c].stamp < m->cache[victim].stamp)
				victim = c;
		give_buf(m, m->cache[victim].buf);
		m->cache[victim].buf = buf;
		m->cache[victim].idx = i;
		m->cache[victim].stamp = ++m->clock;
	}
	pthread_mutex_unlock(&m->mu);
	if (r < 0)
		snap_reader_err(s, "%s", r == -EBADMSG ? err : ml_strerror(r));
	return r;
}

ssize_t ml_snapshot_read(const ml_snapshot *s, uint64_t addr, void *buf, size_t len)
{
	ml__error_clear();
	if (!s || (!buf && len))
		return -EINVAL;
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	size_t i = snap_reader_lower_entry(s, addr);
	if (i >= s->nent || s->ent[i].addr > addr) {
		snap_reader_err(s, "0x%llx is not in a captured mapping", (unsigned long long)addr);
		return -EFAULT;
	}
	size_t done = 0;
	uint64_t cur = addr;
	uint8_t *out = buf;
	while (done < len && i < s->nent && s->ent[i].addr <= cur) {
		const snap_entry *e = &s->ent[i];
		uint64_t off = cur - e->addr;
		size_t n = (size_t)ML_MIN((uint64_t)(len - done), e->len - off);
		if (e->kind == SK_UNREADABLE) {
			if (!done) {
				snap_reader_err(s, "0x%llx was unreadable at capture time", (unsigned long long)cur);
				return -EIO;
			}
			break;
		}
		if (e->kind == SK_DATA) {
			int r = chunk_copy(s, i, off, out + done, n);
			if (r < 0 && done && r == -EBADMSG)
				break; /* the good prefix; the next read names the chunk */
			if (r < 0)
				return r;
		} else {
			memset(out + done, 0, n);
		}
		done += n;
		cur += n;
		if (cur == e->addr + e->len)
			i++;
		if (cur == 0) /* wrapped at the top of the address space */
			break;
	}
	return (ssize_t)done;
}

int snap_reader_damage(const ml_snapshot *s, uint64_t addr, uint64_t *ret_lo, uint64_t *ret_hi)
{
	size_t i = snap_reader_lower_entry(s, addr);
	if (i >= s->nent || s->ent[i].addr > addr || s->ent[i].kind != SK_DATA)
		return -ENOENT;
	uint8_t *out = malloc(s->chunk_size), *scratch = malloc(s->chunk_size);
	if (!out || !scratch) {
		free(out);
		free(scratch);
		return -ENOMEM;
	}
	char err[256];
	int r = snap_chunk_load(&s->core, i, out, scratch, false, err, sizeof(err));
	free(out);
	free(scratch);
	if (r == 0)
		return -ENOENT;
	if (r != -EBADMSG)
		return r;
	snap_reader_err(s, "%s", err);
	*ret_lo = s->ent[i].addr;
	*ret_hi = s->ent[i].addr + s->ent[i].len;
	return 0;
}

ssize_t ml_snapshot_runs(const ml_snapshot *s, uint64_t start, uint64_t end, unsigned flags,
			 ml_run *vec, size_t n, uint64_t *next)
{
	ml__error_clear();
	if (!s || !vec || !next || end < start)
		return -EINVAL;
	size_t cnt = 0;
	uint32_t last_vma = 0;
	for (size_t i = snap_reader_lower_entry(s, start); i < s->nent && s->ent[i].addr < end; i++) {
		const snap_entry *e = &s->ent[i];
		uint64_t rs = ML_MAX(e->addr, start), re = ML_MIN(e->addr + e->len, end);
		ml_run_kind k = (ml_run_kind)snap_kind_to_run(e->kind);
		if (k == ML_RUN_ZERO && !(flags & ML_RUNS_SPLIT_ZERO))
			k = ML_RUN_DATA;
		if (cnt && vec[cnt - 1].kind == k && vec[cnt - 1].end == rs && last_vma == e->vma) {
			vec[cnt - 1].end = re;
			continue;
		}
		if (cnt == n) {
			*next = rs;
			return (ssize_t)cnt;
		}
		vec[cnt++] = (ml_run){ rs, re, k };
		last_vma = e->vma;
	}
	*next = end;
	return (ssize_t)cnt;
}
