/* kpage: /proc/kpageflags, kpagecount and kpagecgroup, read in PFN runs. */
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <limits.h>
#include <unistd.h>

#include "internal/internal.h"
#include "internal/page.h"
#include <memlens/kpage.h>

typedef struct kp_ent {
	uint64_t pfn;
	size_t idx;
} kp_ent;

struct ml_kpage {
	int fd[3]; /* flags, count, cgroup; -1 when not open */
	/* The last sorted lookup, kept: a caller asks for flags and counts of the same PFNs
	 * one after the other. sorted (np entries, pointing into scratch) is reused when the
	 * PFNs are the same, which is checked entry by entry; win is the read window. */
	kp_ent *scratch, *sorted;
	size_t scratch_cap, np, n;
	uint64_t *win;
	pthread_mutex_t mu; /* over the kept lookup: the handle stays usable from several threads */
};

static const struct {
	const char *name;
	char letter;
} kpf[ML_KPF_BITS] = {
	[ML_KPF_LOCKED] = { "locked", 'L' },
	[ML_KPF_ERROR] = { "error", 'E' },
	[ML_KPF_REFERENCED] = { "referenced", 'R' },
	[ML_KPF_UPTODATE] = { "uptodate", 'U' },
	[ML_KPF_DIRTY] = { "dirty", 'D' },
	[ML_KPF_LRU] = { "lru", 'l' },
	[ML_KPF_ACTIVE] = { "active", 'A' },
	[ML_KPF_SLAB] = { "slab", 'S' },
	[ML_KPF_WRITEBACK] = { "writeback", 'W' },
	[ML_KPF_RECLAIM] = { "reclaim", 'I' },
	[ML_KPF_BUDDY] = { "buddy", 'B' },
	[ML_KPF_MMAP] = { "mmap", 'M' },
	[ML_KPF_ANON] = { "anonymous", 'a' },
	[ML_KPF_SWAPCACHE] = { "swapcache", 's' },
	[ML_KPF_SWAPBACKED] = { "swapbacked", 'b' },
	[ML_KPF_COMPOUND_HEAD] = { "compound_head", 'H' },
	[ML_KPF_COMPOUND_TAIL] = { "compound_tail", 'T' },
	[ML_KPF_HUGE] = { "huge", 'G' },
	[ML_KPF_UNEVICTABLE] = { "unevictable", 'u' },
	[ML_KPF_HWPOISON] = { "hwpoison", 'X' },
	[ML_KPF_NOPAGE] = { "nopage", 'n' },
	[ML_KPF_KSM] = { "ksm", 'x' },
	[ML_KPF_THP] = { "thp", 't' },
	[ML_KPF_OFFLINE] = { "offline", 'o' },
	[ML_KPF_ZERO_PAGE] = { "zero_page", 'z' },
	[ML_KPF_IDLE] = { "idle_page", 'i' },
	[ML_KPF_PGTABLE] = { "pgtable", 'g' },
	[ML_KPF_RESERVED] = { "reserved", 'r' },
	[ML_KPF_MLOCKED] = { "mlocked", 'm' },
	[ML_KPF_MAPPEDTODISK] = { "mappedtodisk", 'd' },
	[ML_KPF_PRIVATE] = { "private", 'P' },
	[ML_KPF_PRIVATE_2] = { "private_2", 'p' },
	[ML_KPF_OWNER_PRIVATE] = { "owner_private", 'O' },
	[ML_KPF_ARCH] = { "arch", 'h' },
	[ML_KPF_UNCACHED] = { "uncached", 'c' },
	[ML_KPF_SOFTDIRTY] = { "softdirty", 'f' },
	[ML_KPF_ARCH_2] = { "arch_2", 'H' },
};

const char *ml_kpage_flag_name(unsigned bit)
{
	return bit < ML_KPF_BITS ? kpf[bit].name : NULL;
}

char ml_kpage_flag_letter(unsigned bit)
{
	return bit < ML_KPF_BITS ? kpf[bit].letter : 0;
}

static const char *const files[3] = { "/proc/kpageflags", "/proc/kpagecount", "/proc/kpagecgroup" };

int ml_kpage_open(unsigned what, ml_kpage **ret)
{
	if (!ret || !(what & (ML_KPAGE_FLAGS | ML_KPAGE_COUNT | ML_KPAGE_CGROUP)) ||
	    (what & ~(ML_KPAGE_FLAGS | ML_KPAGE_COUNT | ML_KPAGE_CGROUP)))
		return -EINVAL;
	ml_kpage *k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	pthread_mutex_init(&k->mu, NULL);
	for (int i = 0; i < 3; i++)
		k->fd[i] = -1;
	for (int i = 0; i < 3; i++) {
		if (!(what & (1u << i)))
			continue;
		k->fd[i] = open(files[i], O_RDONLY | O_CLOEXEC);
		if (k->fd[i] < 0) {
			int r = ml_neg_errno();
			/* kpagecgroup exists only with CONFIG_MEMCG: optional */
			if (i == 2 && r == -ENOENT)
				continue;
			ml_kpage_free(k);
			return r;
		}
	}
	*ret = k;
	return 0;
}

void ml_kpage_free(ml_kpage *k)
{
	if (!k)
		return;
	for (int i = 0; i < 3; i++)
		if (k->fd[i] >= 0)
			close(k->fd[i]);
	free(k->scratch);
	free(k->win);
	pthread_mutex_destroy(&k->mu);
	free(k);
}

static ssize_t kread(ml_kpage *k, int which, uint64_t pfn, uint64_t *ret, size_t n)
{
	if (!k || (!ret && n) || n > SSIZE_MAX / 8)
		return -EINVAL;
	if (k->fd[which] < 0)
		return -ENOENT;
	if (pfn > (uint64_t)INT64_MAX / 8)
		return 0;
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(k->fd[which], (char *)ret + got * 8, (n - got) * 8, (off_t)((pfn + got) * 8));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return ml_neg_errno();
		}
		if (r == 0)
			break;
		if (r % 8)
			return -EIO;
		got += (size_t)r / 8;
	}
	return (ssize_t)got;
}

ssize_t ml_kpage_flags(ml_kpage *k, uint64_t pfn, uint64_t *ret, size_t n) { return kread(k, 0, pfn, ret, n); }
ssize_t ml_kpage_count(ml_kpage *k, uint64_t pfn, uint64_t *ret, size_t n) { return kread(k, 1, pfn, ret, n); }
ssize_t ml_kpage_cgroup(ml_kpage *k, uint64_t pfn, uint64_t *ret, size_t n) { return kread(k, 2, pfn, ret, n); }

/*
 * Reading by PFN. The frames of consecutive virtual pages are rarely consecutive (a
 * 256 MiB heap of 4 KiB pages gave 42,000 runs of 65,536 pages), but sorted they cluster
 * (24,000 runs, and 1,600 windows when gaps up to KP_GAP entries are read through). So a
 * lookup sorts the PFNs and reads each window with one pread: a pread costs about as much
 * as the kernel's work for a few dozen entries.
 */
#define KP_GAP 32u          /* entries read through between two wanted PFNs */
#define KP_WIN (64u << 10)  /* entries per pread at most (512 KiB) */

/* LSD radix sort of @a by pfn, 11 bits a pass over the bits that @max needs; @tmp as big as @a. */
static kp_ent *kp_sort(kp_ent *a, kp_ent *tmp, size_t n, uint64_t max)
{
	unsigned bits = 0;
	while (bits < 64 && (max >> bits))
		bits++;
	for (unsigned sh = 0; sh < bits; sh += 11) {
		size_t cnt[2048] = { 0 };
		for (size_t i = 0; i < n; i++)
			cnt[(a[i].pfn >> sh) & 2047]++;
		size_t sum = 0;
		for (size_t d = 0; d < 2048; d++) {
			size_t c = cnt[d];
			cnt[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			tmp[cnt[(a[i].pfn >> sh) & 2047]++] = a[i];
		kp_ent *t = a;
		a = tmp;
		tmp = t;
	}
	return a;
}

/* The page-at-a-time definition, kept for small lookups (and as the tests' reference). */
static int lookup_runs(ml_kpage *k, int w, const uint64_t *pfns, size_t n, uint64_t *ret)
{
	size_t i = 0;
	while (i < n) {
		if (!pfns[i]) {
			ret[i++] = 0;
			continue;
		}
		size_t j = i + 1;
		while (j < n && pfns[j] == pfns[j - 1] + 1)
			j++;
		ssize_t r = kread(k, w, pfns[i], ret + i, j - i);
		if (r < 0)
			return (int)r;
		for (size_t m = i + (size_t)r; m < j; m++)
			ret[m] = 0; /* beyond the end of physical memory */
		i = j;
	}
	return 0;
}

/* Whether k->sorted is the sorted order of these PFNs: same count, and every entry still
 * names its PFN (np distinct indexes of non-zero PFNs, np of them in all). */
static bool same_sorted(const ml_kpage *k, const uint64_t *pfns, size_t n, size_t np)
{
	if (!k->sorted || k->n != n || k->np != np)
		return false;
	for (size_t x = 0; x < np; x++)
		if (k->sorted[x].idx >= n || pfns[k->sorted[x].idx] != k->sorted[x].pfn)
			return false;
	return true;
}

static int lookup_sorted(ml_kpage *k, int w, const uint64_t *pfns, size_t n, uint64_t *ret)
{
	size_t np = 0;
	uint64_t max = 0;
	for (size_t i = 0; i < n; i++) {
		if (pfns[i]) {
			np++;
			if (pfns[i] > max)
				max = pfns[i];
		} else {
			ret[i] = 0;
		}
	}
	if (!np)
		return 0;
	if (!k->win && !(k->win = malloc(KP_WIN * sizeof(*k->win))))
		return lookup_runs(k, w, pfns, n, ret);
	if (!same_sorted(k, pfns, n, np)) {
		k->sorted = NULL;
		if (k->scratch_cap < 2 * np) {
			free(k->scratch);
			k->scratch_cap = 0;
			if (!(k->scratch = malloc(2 * np * sizeof(*k->scratch))))
				return lookup_runs(k, w, pfns, n, ret);
			k->scratch_cap = 2 * np;
		}
		size_t m = 0;
		for (size_t i = 0; i < n; i++)
			if (pfns[i])
				k->scratch[m++] = (kp_ent){ pfns[i], i };
		k->sorted = kp_sort(k->scratch, k->scratch + np, np, max);
		k->np = np;
		k->n = n;
	}
	const kp_ent *s = k->sorted;
	uint64_t *win = k->win;
	for (size_t i = 0; i < np;) {
		uint64_t lo = s[i].pfn;
		size_t j = i + 1;
		while (j < np && s[j].pfn - s[j - 1].pfn <= KP_GAP && s[j].pfn - lo < KP_WIN)
			j++;
		uint64_t span = s[j - 1].pfn - lo + 1;
		ssize_t r = kread(k, w, lo, win, (size_t)span);
		if (r < 0)
			return (int)r;
		for (size_t x = i; x < j; x++) {
			uint64_t off = s[x].pfn - lo;
			ret[s[x].idx] = off < (uint64_t)r ? win[off] : 0; /* beyond the end of physical memory */
		}
		i = j;
	}
	return 0;
}

int ml_kpage_lookup(ml_kpage *k, unsigned which, const uint64_t *pfns, size_t n, uint64_t *ret)
{
	int w = which == ML_KPAGE_FLAGS ? 0 : which == ML_KPAGE_COUNT ? 1 : which == ML_KPAGE_CGROUP ? 2 : -1;
	if (!k || w < 0 || (n && (!pfns || !ret)))
		return -EINVAL;
	if (k->fd[w] < 0)
		return -ENOENT;
	/* runs in virtual order: decide by how many preads that would take */
	size_t runs = 0;
	for (size_t i = 0; i < n; i++)
		if (pfns[i] && (i == 0 || pfns[i] != pfns[i - 1] + 1))
			runs++;
	if (runs <= 8)
		return lookup_runs(k, w, pfns, n, ret);
	pthread_mutex_lock(&k->mu);
	int r = lookup_sorted(k, w, pfns, n, ret);
	pthread_mutex_unlock(&k->mu);
	return r;
}

int ml__kpage_lookup_runs(ml_kpage *k, unsigned which, const uint64_t *pfns, size_t n, uint64_t *ret)
{
	int w = which == ML_KPAGE_FLAGS ? 0 : which == ML_KPAGE_COUNT ? 1 : which == ML_KPAGE_CGROUP ? 2 : -1;
	if (!k || w < 0 || (n && (!pfns || !ret)))
		return -EINVAL;
	if (k->fd[w] < 0)
		return -ENOENT;
	return lookup_runs(k, w, pfns, n, ret);
}

int ml__kpage_open_files(const char *flags, const char *count, ml_kpage **ret)
{
	ml_kpage *k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	pthread_mutex_init(&k->mu, NULL);
	const char *paths[3] = { flags, count, NULL };
	for (int i = 0; i < 3; i++)
		k->fd[i] = -1;
	for (int i = 0; i < 3; i++) {
		if (paths[i] && (k->fd[i] = open(paths[i], O_RDONLY | O_CLOEXEC)) < 0) {
			int r = ml_neg_errno();
			ml_kpage_free(k);
			return r;
		}
	}
	*ret = k;
	return 0;
}
