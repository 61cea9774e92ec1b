/* Mapping bounds and readability for the page-level readers, from ml_maps_read(). */
#include <string.h>

#include "internal/internal.h"
#include "internal/page.h"
#include <memlens/maps.h>

static unsigned name_flags(const char *name, size_t len)
{
	static const char secret[] = "/secretmem";
	if ((len == 6 && !memcmp(name, "[vvar]", 6)) || (len == 13 && !memcmp(name, "[vvar_vclock]", 13)) ||
	    (len == 10 && !memcmp(name, "[vsyscall]", 10)))
		return ML_VR_NOSCAN | ML_VR_UNREADABLE;
	if (len >= sizeof(secret) - 1 && !memcmp(name, secret, sizeof(secret) - 1))
		return ML_VR_UNREADABLE;
	return 0;
}

/* The maps text, parsed for bounds and names only. */
static int vranges_text(const ml_proc *p, ml_vrange **ret, size_t *ret_n)
{
	char *buf;
	size_t len;
	int r = ml_proc_read_file(p, "maps", &buf, &len);
	if (r < 0)
		return r;
	ml_vrange *v = NULL;
	size_t n = 0, cap = 0;
	const char *s = buf, *end = buf + len;
	while (s < end) {
		const char *le = ml__line_end(s, end);
		uint64_t a, b;
		const char *q = s;
		if (ml__parse_hex(&q, le, &a) < 0 || q >= le || *q++ != '-' || ml__parse_hex(&q, le, &b) < 0) {
			r = -EBADMSG;
			goto fail;
		}
		/* the name starts after five fields: perms offset dev inode */
		for (int f = 0; f < 4 && q < le; f++) {
			ml__skip_blank(&q, le);
			while (q < le && *q != ' ' && *q != '\t')
				q++;
		}
		ml__skip_blank(&q, le);
		/* a torn read can repeat a mapping: keep addresses strictly increasing */
		if (n && a < v[n - 1].end) {
			s = le < end ? le + 1 : le;
			continue;
		}
		if ((r = ml__grow(&v, &cap, n + 1, sizeof(*v))) < 0)
			goto fail;
		v[n].start = a;
		v[n].end = b;
		v[n].flags = name_flags(q, (size_t)(le - q));
		size_t nl = (size_t)(le - q);
		if (!nl || (nl >= 6 && (!memcmp(q, "[heap]", 6) || !memcmp(q, "[stack", 6) || !memcmp(q, "[anon:", 6))))
			v[n].flags |= ML_VR_ZEROFILL;
		v[n].vma = NULL;
		n++;
		s = le < end ? le + 1 : le;
	}
	free(buf);
	*ret = v;
	*ret_n = n;
	return 0;
fail:
	free(buf);
	free(v);
	return r;
}

/* What the pages a process has no page for hold in mapping @v (ML_VR_FILEBACKED/ZEROFILL). */
static unsigned fill_flags(const ml_vma *v)
{
	switch (v->kind) {
	case ML_VMA_ANON:
	case ML_VMA_ANON_NAMED:
	case ML_VMA_HEAP:
	case ML_VMA_STACK:
		return ML_VR_ZEROFILL;
	case ML_VMA_FILE:
		/* a private mapping of /dev/zero is anonymous memory that keeps the device's name */
		if (!(v->perms & ML_PERM_SHARED) && v->name_len == 9 && !memcmp(v->name, "/dev/zero", 9))
			return ML_VR_ZEROFILL;
		return v->inode ? ML_VR_FILEBACKED : 0;
	case ML_VMA_SHMEM:
	case ML_VMA_SYSV:
	case ML_VMA_MEMFD:
		return v->inode ? ML_VR_FILEBACKED : 0;
	default: /* [vdso] and other special mappings: the kernel fills them on first use */
		return 0;
	}
}

int ml__vranges_read_maps(const ml_proc *p, ml_vrange **ret, size_t *ret_n, ml_maps **ret_maps)
{
	ml_maps *m;
	if (ret_maps)
		*ret_maps = NULL;
	int r = ml_maps_read(p, ML_MAPS_AUTO, &m);
	if (r == -EOPNOTSUPP || r == -EBADMSG)
		return vranges_text(p, ret, ret_n); /* a reader that cannot classify: bounds suffice */
	if (r < 0)
		return r;
	size_t n = ml_maps_count(m);
	ml_vrange *v = calloc(n ? n : 1, sizeof(*v));
	if (!v) {
		ml_maps_free(m);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const ml_vma *vma = ml_maps_get(m, i);
		v[i].start = vma->start;
		v[i].end = vma->end;
		v[i].flags = name_flags(vma->name ? vma->name : "", vma->name ? vma->name_len : 0);
		if (vma->kind == ML_VMA_VVAR || vma->kind == ML_VMA_VSYSCALL)
			v[i].flags |= ML_VR_NOSCAN | ML_VR_UNREADABLE;
		v[i].flags |= fill_flags(vma);
		v[i].vma = ret_maps ? vma : NULL;
		if (!ret_maps)
			v[i].flags &= ~(unsigned)ML_VR_FILEBACKED;
	}
	if (ret_maps)
		*ret_maps = m;
	else
		ml_maps_free(m);
	*ret = v;
	*ret_n = n;
	return 0;
}

int ml__vranges_read(const ml_proc *p, ml_vrange **ret, size_t *ret_n)
{
	return ml__vranges_read_maps(p, ret, ret_n, NULL);
}

size_t ml__vranges_find(const ml_vrange *v, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}
