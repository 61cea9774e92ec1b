/* The pure side of capture: the kernel's choice of what to dump, core notes in its byte layouts. */
#include <string.h>

#include "internal/internal.h"
#include "internal/capture_impl.h"

/* ---- what the kernel dumps ---- */

bool ml__vma_has_file(const ml_vma *v)
{
	return v->name_len > 0 && v->name[0] == '/' && (v->inode || v->dev_major || v->dev_minor);
}

bool ml__vma_unreadable(const ml_smaps_vma *v)
{
	/* [vsyscall] is not a VMA to process_vm_readv or mem; the kernel's core has zeros there. */
	return v->vma.kind == ML_VMA_VVAR || v->vma.kind == ML_VMA_VSYSCALL ||
	       (v->vm_flags & (ML_VMF_IO | ML_VMF_PF));
}

uint64_t ml__dump_size(const ml_smaps_vma *v, uint64_t filter, unsigned flags, const ml__file_facts *ff)
{
	uint64_t whole = v->vma.end - v->vma.start;
	ml_vma_kind k = v->vma.kind;
	/* The kernel always dumps special mappings that have a name of their own. */
	if (k == ML_VMA_VDSO || k == ML_VMA_VVAR || k == ML_VMA_VSYSCALL || k == ML_VMA_OTHER)
		return whole;
	if ((v->vm_flags & ML_VMF_DD) && !(flags & ML__SEL_INCLUDE_DONTDUMP))
		return 0;
	bool shared = v->has_vm_flags ? (v->vm_flags & ML_VMF_SH) != 0 : (v->vma.perms & ML_PERM_SHARED) != 0;
	if (v->vm_flags & ML_VMF_HT)
		return (filter & (shared ? ML__CDF_HUGETLB_SHARED : ML__CDF_HUGETLB_PRIVATE)) ? whole : 0;
	if (v->vm_flags & ML_VMF_IO)
		return 0;
	if (shared) {
		/* An unlinked file (shmem, memfd, SysV, deleted) counts as anonymous shared memory. */
		bool nlink0 = v->vma.deleted || k == ML_VMA_SHMEM || k == ML_VMA_MEMFD || k == ML_VMA_SYSV;
		return (filter & (nlink0 ? ML__CDF_ANON_SHARED : ML__CDF_MAPPED_SHARED)) ? whole : 0;
	}
	if ((v->f.anonymous || v->f.swap) && (filter & ML__CDF_ANON_PRIVATE))
		return whole;
	if (!ml__vma_has_file(&v->vma))
		return 0;
	if (filter & ML__CDF_MAPPED_PRIVATE)
		return whole;
	if ((filter & ML__CDF_ELF_HEADERS) && v->vma.offset == 0 && (v->vma.perms & ML_PERM_READ) &&
	    ff && ff->known && (ff->exec || ff->elf_magic))
		return ML_MIN(whole, 4096);
	return 0;
}

/* ---- notes ---- */

static void put32(unsigned char *o, uint32_t v) { memcpy(o, &v, 4); }
static void put64(unsigned char *o, uint64_t v) { memcpy(o, &v, 8); }

static void put_timeval(unsigned char *o, uint64_t us)
{
	put64(o, us / 1000000);
	put64(o + 8, us % 1000000);
}

void ml__note_prstatus(const ml__thread_info *ti, const void *regs, size_t regs_len, bool fpvalid,
		       unsigned char out[ML__PRSTATUS_SIZE])
{
	memset(out, 0, ML__PRSTATUS_SIZE);
	put32(out + 0, (uint32_t)ti->cursig);  /* pr_info.si_signo */
	int16_t cs = (int16_t)ti->cursig;
	memcpy(out + 12, &cs, 2);               /* pr_cursig */
	put64(out + 16, ti->sigpend);
	put64(out + 24, ti->sighold);
	put32(out + 32, (uint32_t)ti->tid);
	put32(out + 36, (uint32_t)ti->ppid);
	put32(out + 40, (uint32_t)ti->pgrp);
	put32(out + 44, (uint32_t)ti->sid);
	put_timeval(out + 48, ti->utime_us);
	put_timeval(out + 64, ti->stime_us);
	put_timeval(out + 80, ti->cutime_us);
	put_timeval(out + 96, ti->cstime_us);
	if (regs)
		memcpy(out + 112, regs, ML_MIN(regs_len, (size_t)216));
	put32(out + 328, fpvalid ? 1 : 0);
}

void ml__note_prpsinfo(const ml__proc_info *pi, unsigned char out[ML__PRPSINFO_SIZE])
{
	memset(out, 0, ML__PRPSINFO_SIZE);
	/* The kernel's state index: bit number + 1 of the task state, named by "RSDTZW". */
	static const char names[] = "RSDTZW";
	int idx;
	switch (pi->state) {
	case 'R': idx = 0; break;
	case 'S': idx = 1; break;
	case 'D': idx = 2; break;
	case 'T': case 't': idx = 3; break;
	case 'Z': idx = 4; break;
	default: idx = 1; break;
	}
	out[0] = (unsigned char)idx;
	out[1] = (unsigned char)names[idx];
	out[2] = names[idx] == 'Z';
	out[3] = (unsigned char)(signed char)pi->nice;
	put64(out + 8, pi->flags);
	put32(out + 16, pi->uid);
	put32(out + 20, pi->gid);
	put32(out + 24, (uint32_t)pi->pid);
	put32(out + 28, (uint32_t)pi->ppid);
	put32(out + 32, (uint32_t)pi->pgrp);
	put32(out + 36, (uint32_t)pi->sid);
	size_t cl = ML_MIN(pi->comm_len, (size_t)15);
	memcpy(out + 40, pi->comm, cl);
	/* psargs: at most 79 bytes of the argument area, NULs as spaces. */
	size_t al = ML_MIN(pi->cmdline_len, (size_t)79);
	for (size_t i = 0; i < al; i++)
		out[56 + i] = pi->cmdline[i] ? (unsigned char)pi->cmdline[i] : ' ';
}

int ml__note_file(const ml_smaps *sm, uint64_t page_size, unsigned char **ret, size_t *ret_len)
{
	static const char del[] = " (deleted)";
	size_t count = 0, names = 0, n = ml_smaps_count(sm);
	for (size_t i = 0; i < n; i++) {
		const ml_vma *m = &ml_smaps_get(sm, i)->vma;
		if (ml__vma_has_file(m)) {
			count++;
			names += m->name_len + 1 + (m->deleted ? sizeof(del) - 1 : 0);
		}
	}
	size_t len = 16 + count * 24 + names;
	unsigned char *b = calloc(1, len ? len : 1);
	if (!b)
		return -ENOMEM;
	put64(b, count);
	put64(b + 8, page_size);
	unsigned char *t = b + 16, *s = b + 16 + count * 24;
	for (size_t i = 0; i < n; i++) {
		const ml_vma *m = &ml_smaps_get(sm, i)->vma;
		if (!ml__vma_has_file(m))
			continue;
		put64(t, m->start);
		put64(t + 8, m->end);
		put64(t + 16, m->offset / page_size);
		t += 24;
		memcpy(s, m->name, m->name_len);
		s += m->name_len;
		if (m->deleted) {
			memcpy(s, del, sizeof(del) - 1);
			s += sizeof(del) - 1;
		}
		*s++ = '\0';
	}
	*ret = b;
	*ret_len = len;
	return 0;
}

/* ---- stat and status fields ---- */

int ml__stat_field(const char *buf, size_t len, int n, int64_t *ret)
{
	const char *end = buf + len, *rp = NULL;
	for (const char *q = buf; q < end; q++)
		if (*q == ')')
			rp = q;
	if (n < 1)
		return -EINVAL;
	const char *p;
	if (n == 1) {
		p = buf;
	} else if (n == 2 || !rp) {
		return -EBADMSG;
	} else {
		/* field 3 is the state letter right after ") " */
		p = rp + 1;
		for (int f = 3; f <= n; f++) {
			ml__skip_blank(&p, end);
			if (f == n)
				break;
			while (p < end && *p != ' ')
				p++;
		}
	}
	if (p >= end)
		return -EBADMSG;
	if (n == 3) {
		*ret = (unsigned char)*p;
		return 0;
	}
	return ml__parse_sdec(&p, end, ret) < 0 ? -EBADMSG : 0;
}

int ml__status_num(const char *buf, size_t len, const char *name, bool hex, uint64_t *ret)
{
	size_t nl = strlen(name);
	const char *p = buf, *end = buf + len;
	while (p < end) {
		const char *le = ml__line_end(p, end);
		if ((size_t)(le - p) > nl && !memcmp(p, name, nl) && p[nl] == ':') {
			const char *q = p + nl + 1;
			ml__skip_blank(&q, le);
			return (hex ? ml__parse_hex(&q, le, ret) : ml__parse_dec(&q, le, ret)) < 0 ? -EBADMSG : 0;
		}
		p = le < end ? le + 1 : end;
	}
	return -ENOENT;
}

size_t ml__note_xsave_layout(uint64_t features, const uint32_t size[64], const uint32_t offset[64],
			     unsigned char out[64 * 16])
{
	size_t n = 0;
	/* x87 and SSE (bits 0, 1) live in the legacy area and are not described. */
	for (unsigned i = 2; i < 64; i++) {
		if (!((features >> i) & 1))
			continue;
		put32(out + n, i);
		put32(out + n + 4, size[i]);
		put32(out + n + 8, offset[i]);
		put32(out + n + 12, 0);
		n += 16;
	}
	return n;
}

#if defined(__x86_64__)
#include <cpuid.h>

int ml__xsave_cpu_layout(uint64_t *features, uint32_t size[64], uint32_t offset[64])
{
	unsigned a, b, c, d;
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE))
		return -EOPNOTSUPP;
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	uint64_t xcr0 = ((uint64_t)hi << 32) | lo;
	memset(size, 0, 64 * sizeof(*size));
	memset(offset, 0, 64 * sizeof(*offset));
	for (unsigned i = 2; i < 64; i++) {
		if (!((xcr0 >> i) & 1))
			continue;
		__cpuid_count(0xd, i, a, b, c, d);
		size[i] = a;
		offset[i] = b;
	}
	*features = xcr0;
	return 0;
}
#else
int ml__xsave_cpu_layout(uint64_t *features, uint32_t size[64], uint32_t offset[64])
{
	(void)features;
	(void)size;
	(void)offset;
	return -EOPNOTSUPP;
}
#endif
