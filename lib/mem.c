/* mem: reading another process's memory, and reading only its populated pages. */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal/internal.h"
#include "internal/page.h"
#include <memlens/mem.h>
#include <memlens/pagemap.h>

/* At most this many iovecs per process_vm_readv (the kernel's UIO_MAXIOV). */
#define ML_IOV_MAX 1024

/* 1 if @addr lies in a mapping of @p, 0 if not, -errno if the mappings are unreadable. */
static int addr_mapped(const ml_proc *p, uint64_t addr)
{
	ml_vrange *v;
	size_t n;
	int r = ml__vranges_read(p, &v, &n);
	if (r < 0)
		return r;
	size_t i = ml__vranges_find(v, n, addr);
	r = i < n && v[i].start <= addr;
	free(v);
	return r;
}

/* The error of a read whose first byte failed: unmapped is -EFAULT, mapped is -EIO. */
static int first_byte_error(const ml_proc *p, uint64_t addr, int err)
{
	int r = ml__proc_after_read(p, 0, 1);
	if (r < 0)
		return r;
	if (err == -EACCES || err == -EPERM || err == -ESRCH || err == -ENOMEM)
		return err;
	int m = addr_mapped(p, addr);
	if (m == 0)
		return -EFAULT;
	return -EIO;
}

/* pread of /proc/PID/mem until done or the first failure; bytes, or -errno if none. */
static ssize_t procfs_read(int fd, uint64_t addr, void *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		if (addr + got > (uint64_t)INT64_MAX)
			return got ? (ssize_t)got : -EFAULT;
		ssize_t r = pread(fd, (char *)buf + got, len - got, (off_t)(addr + got));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (got)
				break;
			/* a huge offset (the [vsyscall] page) is EINVAL to pread */
			return errno == EINVAL ? -EFAULT : ml_neg_errno();
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

ssize_t ml_mem_read_ex(const ml_proc *p, uint64_t addr, void *buf, size_t len, ml_mem_method how)
{
	if (!p || (!buf && len) || how > ML_MEM_PROCFS || len > SSIZE_MAX || addr + len < addr)
		return -EINVAL;
	if (!len)
		return 0;
	bool live = ml_proc_is_live(p);
	size_t done = 0;
	int err = 0;
	if (how != ML_MEM_PROCFS && live) {
		struct iovec l = { buf, len }, rm = { (void *)(uintptr_t)addr, len };
		ssize_t r = ml__proc_vm_readv(p, &l, &rm, 1);
		if (r >= 0) {
			done = (size_t)r;
		} else {
			err = (int)r;
			if (err == -ESRCH)
				return -ESRCH;
			if (how == ML_MEM_VM_READV)
				return first_byte_error(p, addr, err);
		}
		if (done == len || how == ML_MEM_VM_READV) {
			int c = ml_proc_check(p);
			if (c < 0)
				return c;
			return done ? (ssize_t)done : first_byte_error(p, addr, -EFAULT);
		}
	}
	/* /proc/PID/mem reads what process_vm_readv cannot: PROT_NONE memory, or all of it
	 * where the syscall is refused. Its fd is bound to the address space, not the PID. */
	ssize_t r;
	for (int tries = 0;; tries++) {
		pid_t via;
		int fd = ml__proc_openat_via(p, "mem", O_RDONLY, &via);
		if (fd < 0) {
			if (done) {
				int c = ml_proc_check(p);
				return c < 0 ? c : (ssize_t)done;
			}
			return fd == -ENOENT || fd == -ESRCH ? ml__proc_after_read(p, fd, 0) : fd;
		}
		r = procfs_read(fd, addr + done, (char *)buf + done, len - done);
		close(fd);
		/* EOF (an address that is not there is EIO): opened without an address space, where
		 * the kernel opens mem so (before 6.x): a leader that has exited, or a thread that
		 * has begun to exit */
		if (r == 0 && tries < 8 && ml__proc_reread(p, "mem", via))
			continue;
		break;
	}
	if (r > 0)
		done += (size_t)r;
	if (live) {
		int c = ml_proc_check(p);
		if (c < 0)
			return c;
	}
	if (done)
		return (ssize_t)done;
	return first_byte_error(p, addr, r < 0 ? (int)r : -EIO);
}

ssize_t ml_mem_read(const ml_proc *p, uint64_t addr, void *buf, size_t len)
{
	return ml_mem_read_ex(p, addr, buf, len, ML_MEM_AUTO);
}

/* ---- populated-only reading ---- */

#define POP_RUNS 512

struct ml_populated {
	const ml_proc *proc;
	ml_pagemap *pm;
	ml_scan_opts so;
	uint64_t scan_pos;   /* where the next scan starts */
	bool scan_done;
	ml_page_region runs[POP_RUNS];
	size_t nruns, ri;
	uint64_t rpos;       /* next address to read within runs[ri] */
	uint64_t floor;      /* nothing below this was left to read (set when going back) */
	uint64_t skipped;
	struct iovec liov[ML_IOV_MAX], riov[ML_IOV_MAX];
};

int ml_populated_open(const ml_proc *p, uint64_t start, uint64_t end, const ml_populated_opts *o,
		      ml_populated **ret)
{
	ml_populated_opts opt;
	memset(&opt, 0, sizeof(opt));
	if (!p || !ret || start > end || ML_OPTS_LOAD(&opt, o) < 0)
		return -EINVAL;
	unsigned flags = opt.flags;
	bool emul = opt.force_emulation;
	ml_populated *it = calloc(1, sizeof(*it));
	if (!it)
		return -ENOMEM;
	int r = ml_pagemap_open(p, &it->pm);
	if (r < 0) {
		free(it);
		return r;
	}
	it->proc = p;
	uint64_t avail = ml_pagemap_scan_categories(it->pm, emul || !ml_pagemap_has_scan(it->pm));
	it->so.sz = sizeof(it->so);
	it->so.start = ML_PAGE_DOWN(start);
	it->so.end = end ? ML_PAGE_UP(end) : 0;
	it->so.force_emulation = emul;
	it->so.return_mask = ML_PAGE_PRESENT;
	it->so.category_anyof_mask = ML_PAGE_PRESENT | (flags & ML_POP_SWAPPED ? ML_PAGE_SWAPPED : 0);
	/* zero pages and guard pages hold nothing to read */
	uint64_t skip = ((flags & ML_POP_ZERO) ? 0 : ML_PAGE_PFNZERO) | ML_PAGE_GUARD;
	skip &= avail;
	it->so.category_inverted = skip;
	it->so.category_mask = skip;
	it->scan_pos = it->so.start;
	if (it->so.end && it->so.start >= it->so.end)
		it->scan_done = true;
	*ret = it;
	return 0;
}

uint64_t ml_populated_skipped(const ml_populated *it) { return it ? it->skipped : 0; }

void ml_populated_free(ml_populated *it)
{
	if (!it)
		return;
	ml_pagemap_free(it->pm);
	free(it);
}

/* Makes runs[ri] available; 0 when there is none left, -errno. */
static int pop_refill(ml_populated *it)
{
	while (it->ri >= it->nruns) {
		if (it->scan_done)
			return 0;
		ml_scan_opts so = it->so;
		so.start = it->scan_pos;
		uint64_t next;
		ssize_t r = ml_pagemap_scan(it->pm, &so, it->runs, POP_RUNS, &next);
		if (r < 0)
			return (int)r;
		it->nruns = (size_t)r;
		it->ri = 0;
		it->rpos = r ? ML_MAX(it->runs[0].start, it->floor) : 0;
		uint64_t end = so.end ? so.end : ml__pagemap_va_end(it->pm);
		if (next >= end || (r == 0 && next <= it->scan_pos))
			it->scan_done = true;
		it->scan_pos = next;
	}
	return 1;
}

/* Appends [a, a+n) to spans[0..*out), merged with the last span when they touch; false
 * when a new span is needed and all @nspans are taken. */
static bool span_push(ml_mem_span *spans, size_t nspans, size_t *out, uint64_t a, uint64_t n)
{
	if (*out && spans[*out - 1].addr + spans[*out - 1].len == a) {
		spans[*out - 1].len += n;
		return true;
	}
	if (*out == nspans)
		return false;
	spans[(*out)++] = (ml_mem_span){ a, n };
	return true;
}

/* The next read starts again at @pos, which this call did not return: the page runs are
 * found afresh from its page on (what lies before @pos was returned). */
static void pop_rewind(ml_populated *it, uint64_t pos)
{
	it->scan_pos = ML_PAGE_DOWN(pos);
	it->floor = pos;
	it->nruns = it->ri = 0;
	it->scan_done = false;
}

ssize_t ml_populated_next(ml_populated *it, void *buf, size_t cap, ml_mem_span *spans, size_t nspans,
			  size_t *ret_nspans)
{
	if (!it || !buf || cap < ML_PAGE_SZ || !spans || !nspans || !ret_nspans)
		return -EINVAL;
	if (cap > SSIZE_MAX)
		cap = SSIZE_MAX;
	if (nspans > ML_IOV_MAX)
		nspans = ML_IOV_MAX;
	int r;
	for (;;) {
		size_t ns = 0, bytes = 0;
		while (ns < nspans && bytes < cap) {
			r = pop_refill(it);
			if (r < 0)
				return r;
			if (r == 0)
				break;
			ml_page_region *run = &it->runs[it->ri];
			uint64_t a = ML_MAX(it->rpos, run->start);
			uint64_t take = ML_MIN(run->end - a, (uint64_t)(cap - bytes));
			if (ns && spans[ns - 1].addr + spans[ns - 1].len == a)
				spans[ns - 1].len += take;
			else
				spans[ns++] = (ml_mem_span){ a, take };
			bytes += (size_t)take;
			if (a + take >= run->end) {
				it->ri++;
				if (it->ri < it->nruns)
					it->rpos = it->runs[it->ri].start;
			} else {
				it->rpos = a + take;
			}
		}
		if (!ns)
			return 0;
		size_t off = 0;
		for (size_t i = 0; i < ns; i++) {
			it->liov[i] = (struct iovec){ (char *)buf + off, (size_t)spans[i].len };
			it->riov[i] = (struct iovec){ (void *)(uintptr_t)spans[i].addr, (size_t)spans[i].len };
			off += (size_t)spans[i].len;
		}
		ssize_t got = ml_proc_is_live(it->proc) ? ml__proc_vm_readv(it->proc, it->liov, it->riov, ns) : 0;
		if (got == -ESRCH)
			return -ESRCH;
		if (got < 0)
			got = 0;
		if ((size_t)got < bytes) {
			/* Some page failed: keep what was read, read the rest piecewise (through
			 * /proc/PID/mem where needed), drop pages that stay unreadable. A span split
			 * by such a page gives several: the batch's spans are read from riov (spans[]
			 * is written over as they are), and when @nspans are full the iterator goes
			 * back to where the rest starts. */
			size_t w = 0, out = 0;
			uint64_t resume = 0;
			bool full = false;
			off = 0;
			for (size_t i = 0; i < ns && !full; i++) {
				uint64_t a = (uint64_t)(uintptr_t)it->riov[i].iov_base, l = it->riov[i].iov_len;
				size_t have = (size_t)got > off ? ML_MIN((size_t)got - off, (size_t)l) : 0;
				off += (size_t)l;
				if (have) {
					if (!span_push(spans, nspans, &out, a, have)) {
						resume = a;
						full = true;
						break;
					}
					if (w != off - l)
						memmove((char *)buf + w, (char *)buf + off - l, have);
					w += have;
				}
				uint64_t pos = a + have, e = a + l;
				while (pos < e) {
					ssize_t rr = ml_mem_read(it->proc, pos, (char *)buf + w, (size_t)(e - pos));
					if (rr == -ESRCH)
						return rr;
					size_t g = rr > 0 ? (size_t)rr : 0;
					if (g) {
						if (!span_push(spans, nspans, &out, pos, g)) {
							resume = pos;
							full = true;
							break;
						}
						w += g;
						pos += g;
					}
					if (pos < e) {
						uint64_t skip = ML_PAGE_DOWN(pos) + ML_PAGE_SZ - pos;
						it->skipped += skip;
						pos += skip;
					}
				}
			}
			if (full)
				pop_rewind(it, resume);
			ns = out;
			bytes = w;
			if (!ns)
				continue; /* everything in this batch was unreadable: go on */
		} else if ((r = ml__pagemap_same_mm(it->pm, spans[0].addr)) < 0) {
			return r;
		}
		*ret_nspans = ns;
		return (ssize_t)bytes;
	}
}

/* ---- pages of a file mapping, from the file ---- */

/*
 * Whether @fd (fstat in @st) is the file mapping @v names. maps shows the superblock's
 * device; stat(2) on btrfs shows the subvolume's and on overlayfs its own, so there, for an
 * fd from map_files (which is the mapped file unless the range was remapped meanwhile), the
 * inode has to do.
 */
static bool same_file(int fd, const struct stat *st, const ml_vma *v, bool from_map_files)
{
	if (!S_ISREG(st->st_mode) || st->st_ino != v->inode)
		return false;
	if (major(st->st_dev) == v->dev_major && minor(st->st_dev) == v->dev_minor)
		return true;
	struct statfs sf;
	return from_map_files && fstatfs(fd, &sf) == 0 &&
	       (sf.f_type == BTRFS_SUPER_MAGIC || sf.f_type == OVERLAYFS_SUPER_MAGIC);
}

/* O_NOATIME where allowed (the file's owner, or CAP_FOWNER): a forensic read leaves no trace.
 * Through the handle (@p) or by path; -errno. */
static int open_noatime(const ml_proc *p, const char *name)
{
	for (int pass = 0; pass < 2; pass++) {
		int extra = pass ? 0 : O_NOATIME, fd;
		if (p) {
			fd = ml_proc_openat(p, name, O_RDONLY | extra);
		} else {
			fd = open(name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | extra);
			if (fd < 0)
				fd = ml_neg_errno();
		}
		if (fd != -EPERM || pass)
			return fd;
	}
	return -EPERM;
}

int ml__vma_file_open(const ml_proc *p, const ml_vma *v, struct stat *st)
{
	if (!p || !v || !st || !v->inode)
		return -EINVAL;
	char name[64];
	snprintf(name, sizeof(name), "map_files/%" PRIx64 "-%" PRIx64, v->start, v->end);
	int fd = open_noatime(p, name);
	bool mf = fd >= 0;
	if (fd < 0 && (v->deleted || !v->name_len || v->name[0] != '/'))
		return fd == -ESRCH ? fd : -ENOENT;
	if (fd < 0 && fd != -ESRCH) /* map_files is refused without privilege: the path, if it is the file */
		fd = open_noatime(NULL, v->name);
	if (fd < 0)
		return fd == -ESRCH ? fd : -ENOENT;
	if (fstat(fd, st) < 0 || !same_file(fd, st, v, mf)) {
		close(fd);
		return -ENOENT;
	}
	return fd;
}

uint64_t ml__vma_file_end(const ml_vma *v, uint64_t fsize)
{
	uint64_t fpages = fsize > UINT64_MAX - ML_PAGE_SZ ? ML_PAGE_DOWN(fsize) : ML_PAGE_UP(fsize);
	if (fpages <= v->offset)
		return v->start;
	uint64_t in = fpages - v->offset;
	return in >= v->end - v->start ? v->end : v->start + in;
}

ssize_t ml__vma_file_read(int fd, const ml_vma *v, uint64_t addr, void *buf, size_t len)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return ml_neg_errno();
	uint64_t fend = ml__vma_file_end(v, (uint64_t)st.st_size);
	if (addr < v->start || addr >= fend)
		return -EIO;
	if (len > fend - addr)
		len = (size_t)(fend - addr);
	size_t got = 0;
	while (got < len) {
		ssize_t r = pread(fd, (char *)buf + got, len - got, (off_t)(v->offset + (addr + got - v->start)));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			if (!got)
				return ml_neg_errno();
			break;
		}
		if (r == 0) {
			/* the end of the file: its last page reads as zeros after it, as mapped */
			uint64_t eof = v->start + ((uint64_t)st.st_size - v->offset);
			if (addr + got >= eof) {
				size_t z = (size_t)ML_MIN((uint64_t)(len - got), ML_PAGE_UP(eof) - (addr + got));
				memset((char *)buf + got, 0, z);
				got += z;
			}
			break;
		}
		got += (size_t)r;
	}
	return got ? (ssize_t)got : -EIO;
}
