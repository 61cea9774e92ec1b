/* The capture's staging area: memory read while the target is held lands here, faulted in
 * before the freeze, and goes to the writer once the target runs again. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <memlens/cgroup.h>
#include "internal/capture_state.h"

/* The writer is done with staged bytes: count them against their blocks, unmap full ones. */
static void stage_done(void *ctx, uint64_t addr, const void *buf, size_t len)
{
	(void)addr;
	cap *c = ctx;
	size_t off = (size_t)((const unsigned char *)buf - c->stage);
	while (len) {
		size_t b = off / STAGE_BLOCK, n = ML_MIN(len, (b + 1) * (size_t)STAGE_BLOCK - off);
		/* MADV_DONTNEED frees the pages under the read side of our mmap lock (munmap
		 * would take the write side, against the reads into the rest of the area) and
		 * keeps the addresses reserved until the whole area is unmapped. */
		if (__atomic_add_fetch(&c->blk[b], (uint32_t)n, __ATOMIC_ACQ_REL) == STAGE_BLOCK)
			madvise(c->stage + b * STAGE_BLOCK, STAGE_BLOCK, MADV_DONTNEED);
		off += n;
		len -= n;
	}
}

/* Frees the blocks from @from (rounded up to a block) on, that no staged byte lies in. */
static void stage_trim(cap *c, size_t from)
{
	size_t b = from / STAGE_BLOCK + (from % STAGE_BLOCK != 0);
	if (b < c->nblk)
		madvise(c->stage + b * STAGE_BLOCK, (c->nblk - b) * STAGE_BLOCK, MADV_DONTNEED);
}



/* Records that stage bytes [off, off+len) hold the target's [addr, addr+len). */
int ml__cap_stage_note(cap *c, uint64_t addr, size_t off, size_t len)
{
	struct stage_seg *l = c->nseg ? &c->seg[c->nseg - 1] : NULL;
	if (l && l->vma == c->cur_vma && l->addr + l->len == addr && l->off + l->len == off) {
		l->len += len;
		return 0;
	}
	if (ml__grow(&c->seg, &c->capseg, c->nseg + 1, sizeof(*c->seg)) < 0)
		return ml__cap_fail(-ENOMEM, "out of memory");
	c->seg[c->nseg++] = (struct stage_seg){ addr, off, len, c->cur_vma };
	return 0;
}

#define STAGE_SLACK (16u << 20)

typedef struct populate_arg {
	unsigned char *p;
	size_t len;
	int r;
} populate_arg;

static void *populate(void *arg)
{
	populate_arg *a = arg;
	a->r = madvise(a->p, a->len, MADV_POPULATE_WRITE);
	return NULL;
}

/* MemAvailable of /proc/meminfo, in bytes (0 if unknown). */
uint64_t ml__cap_meminfo_available(void)
{
	uint64_t kb = 0;
	FILE *f = fopen("/proc/meminfo", "re");
	if (f) {
		char line[256];
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "MemAvailable: %" SCNu64 " kB", &kb) == 1)
				break;
		fclose(f);
	}
	return kb * 1024;
}

/* What our own memory may grow by without risk: half of MemAvailable and half of our own
 * cgroup's headroom (the staging area is charged to us, not to the target). */
static uint64_t own_headroom(void)
{
	uint64_t room = ml__cap_meminfo_available() / 2;
	ml_proc *self;
	if (ml_proc_self(&self) == 0) {
		ml_cgroup_memory *cm;
		if (ml_cgroup_memory_read(self, NULL, &cm) == 0) {
			if (cm->effective_max.err == 0 && cm->effective_max.value != ML_CGROUP_UNLIMITED) {
				uint64_t cur = cm->current.err == 0 ? cm->current.value : 0, lim = cm->effective_max.value;
				room = ML_MIN(room, lim > cur ? (lim - cur) / 2 : 0);
			}
			ml_cgroup_memory_free(cm);
		}
		ml_proc_free(self);
	}
	return room;
}

/* Sets up the staging area before the target is stopped: as large as its resident set
 * (every page that can be read from it) within @budget, aligned to 2 MiB blocks and
 * faulted in now, so that reading while it is held is a copy at memory speed, not a page
 * fault per page. Zeroing fresh pages is most of that cost: it runs on every core. */
void ml__cap_stage_alloc(cap *c, const char *status, size_t status_len, uint64_t budget)
{
	uint64_t rss_kb;
	ml_smaps_rollup *ro;
	if (ml__status_num(status, status_len, "VmRSS", false, &rss_kb) < 0) {
		/* an exited leader's status has no memory lines: the address space's own count */
		if (ml_smaps_rollup_read(c->p, &ro) < 0)
			return;
		rss_kb = ro->f.rss / 1024;
		ml_smaps_rollup_free(ro);
	}
	budget = ML_MIN(budget, own_headroom());
	/* A little more than the resident set, for what it touches while being stopped. */
	uint64_t rss = rss_kb * 1024, want = ML_MIN(rss + ML_MIN(rss / 8, (uint64_t)STAGE_SLACK) + STAGE_BLOCK, budget);
	want &= ~(uint64_t)(STAGE_BLOCK - 1);
	if (want > SIZE_MAX / 2 || want == 0)
		return;
	size_t len = (size_t)want;
	unsigned char *m = mmap(NULL, len + STAGE_BLOCK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return;
	size_t head = (STAGE_BLOCK - (uintptr_t)m % STAGE_BLOCK) % STAGE_BLOCK;
	if (head)
		munmap(m, head);
	munmap(m + head + len, STAGE_BLOCK - head);
	m += head;
	c->nblk = len / STAGE_BLOCK;
	if (!(c->blk = calloc(c->nblk, sizeof(*c->blk)))) {
		munmap(m, len);
		return;
	}
	/* Huge pages where the system allows them: 512 times fewer faults to populate. */
	madvise(m, len, MADV_HUGEPAGE);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nt = (size_t)ML_MAX(1, ML_MIN(ncpu, 8L)), per = (c->nblk + nt - 1) / nt * STAGE_BLOCK;
	populate_arg pa[8];
	pthread_t th[8];
	bool started[8] = { false };
	for (size_t i = 0; i < nt; i++) {
		size_t o = ML_MIN(i * per, len);
		pa[i] = (populate_arg){ m + o, ML_MIN(per, len - o), 0 };
		started[i] = i > 0 && pa[i].len && pthread_create(&th[i], NULL, populate, &pa[i]) == 0;
	}
	for (size_t i = 0; i < nt; i++) {
		if (!started[i] && pa[i].len)
			populate(&pa[i]);
		else if (started[i])
			pthread_join(th[i], NULL);
		if (pa[i].r < 0) /* before Linux 5.14 */
			for (size_t o = 0; o < pa[i].len; o += c->page)
				((volatile unsigned char *)pa[i].p)[o] = 0;
	}
	c->stage = m;
	c->stage_cap = len;
}

/* Hands stage bytes [off, off+len), the target's [addr, addr+len), to the writer. */
static int stage_hand(cap *c, uint64_t addr, size_t off, size_t len)
{
	int r = ml_snapshot_writer_add_data_ref(c->w, addr, c->stage + off, len, stage_done, c);
	return r < 0 ? ml__cap_fail(r, "writing %#" PRIx64 ": %s", addr, ml_error_detail()) : 0;
}

/* After the release: hands what was staged and not yet handed on to the writer. */
int ml__cap_stage_feed(cap *c)
{
	stage_trim(c, c->stage_used); /* what was never read into */
	for (size_t i = 0; i < c->nseg; i++) {
		const struct stage_seg *g = &c->seg[i];
		int r = stage_hand(c, g->addr, g->off, g->len);
		if (r < 0)
			return r;
	}
	return 0;
}
