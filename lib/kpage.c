/* kpage: /proc/kpageflags, kpagecount and kpagecgroup, read in PFN runs. */
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include "internal/internal.h"
#include <memlens/kpage.h>

struct ml_kpage {
	int fd[3]; /* flags, count, cgroup; -1 when not open */
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

const char *ml_kpf_name(unsigned bit)
{
	return bit < ML_KPF_BITS ? kpf[bit].name : NULL;
}

char ml_kpf_letter(unsigned bit)
{
	return bit < ML_KPF_BITS ? kpf[bit].letter : 0;
}

static const char *const files[3] = { "/proc/kpageflags", "/proc/kpagecount", "/proc/kpagecgroup" };

int ml_kpage_open(unsigned what, ml_kpage **ret)
{
	if (!ret || !(what & (ML_KPAGE_FLAGS | ML_KPAGE_COUNT | ML_KPAGE_CGROUP)) ||
	    (what & ~(ML_KPAGE_FLAGS | ML_KPAGE_COUNT | ML_KPAGE_CGROUP)))
		return -EINVAL;
	ml_kpage *k = malloc(sizeof(*k));
	if (!k)
		return -ENOMEM;
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

int ml_kpage_lookup(ml_kpage *k, unsigned which, const uint64_t *pfns, size_t n, uint64_t *ret)
{
	int w = which == ML_KPAGE_FLAGS ? 0 : which == ML_KPAGE_COUNT ? 1 : which == ML_KPAGE_CGROUP ? 2 : -1;
	if (!k || w < 0 || (n && (!pfns || !ret)))
		return -EINVAL;
	if (k->fd[w] < 0)
		return -ENOENT;
	size_t i = 0;
	while (i < n) {
		if (!pfns[i]) {
			ret[i++] = 0;
			continue;
		}
		/* one pread per run of consecutive PFNs (THPs and fresh allocations give long runs) */
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
