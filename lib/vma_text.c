/* The maps-format line parser and naming rules shared by the maps and smaps readers. */
#include <string.h>

#include "internal/vma_text.h"

static inline bool expect(const char **pp, const char *end, char c)
{
	if (*pp >= end || **pp != c)
		return false;
	(*pp)++;
	return true;
}

int ml__vma_line_parse(const char *p, const char *eol, ml__vma_line *ret)
{
	ml__vma_line l;
	memset(&l.v, 0, sizeof(l.v));
	uint64_t maj, min;
	if (ml__parse_hex(&p, eol, &l.v.start) < 0 || !expect(&p, eol, '-') ||
	    ml__parse_hex(&p, eol, &l.v.end) < 0 || !expect(&p, eol, ' '))
		return -EBADMSG;
	if (l.v.end < l.v.start || eol - p < 5)
		return -EBADMSG;
	uint32_t perms = 0;
	if (p[0] == 'r')
		perms |= ML_PERM_READ;
	else if (p[0] != '-')
		return -EBADMSG;
	if (p[1] == 'w')
		perms |= ML_PERM_WRITE;
	else if (p[1] != '-')
		return -EBADMSG;
	if (p[2] == 'x')
		perms |= ML_PERM_EXEC;
	else if (p[2] != '-')
		return -EBADMSG;
	if (p[3] == 's')
		perms |= ML_PERM_SHARED;
	else if (p[3] != 'p')
		return -EBADMSG;
	if (p[4] != ' ')
		return -EBADMSG;
	p += 5;
	l.v.perms = perms;
	if (ml__parse_hex(&p, eol, &l.v.offset) < 0 || !expect(&p, eol, ' ') ||
	    ml__parse_hex(&p, eol, &maj) < 0 || !expect(&p, eol, ':') ||
	    ml__parse_hex(&p, eol, &min) < 0 ||
	    !expect(&p, eol, ' ') || ml__parse_dec(&p, eol, &l.v.inode) < 0)
		return -EBADMSG;
	if (maj > UINT32_MAX || min > UINT32_MAX)
		return -EBADMSG;
	l.v.dev_major = (uint32_t)maj;
	l.v.dev_minor = (uint32_t)min;
	l.name = p;
	l.name_len = 0;
	if (p < eol) {
		if (*p != ' ')
			return -EBADMSG;
		/* The kernel pads to a column, then one more space; a name never starts with a
		 * space (paths start with '/', special names with '['), so all leading blanks go. */
		while (p < eol && *p == ' ')
			p++;
		l.name = p;
		l.name_len = (size_t)(eol - p);
	}
	*ret = l;
	return 0;
}

static bool has_prefix(const char *s, size_t len, const char *pre, size_t plen)
{
	return len >= plen && memcmp(s, pre, plen) == 0;
}

#define PREFIX(s, len, lit) has_prefix(s, len, lit, sizeof(lit) - 1)
#define EQUALS(s, len, lit) ((len) == sizeof(lit) - 1 && memcmp(s, lit, sizeof(lit) - 1) == 0)

ml_vma_kind ml__vma_classify(const char *name, size_t len, bool deleted, uint64_t inode)
{
	(void)inode; /* bracketed names can carry an inode ([anon_shmem:x]) */
	if (len == 0)
		return ML_VMA_ANON;
	if (name[0] == '[' && name[len - 1] == ']') {
		if (EQUALS(name, len, "[heap]"))
			return ML_VMA_HEAP;
		if (EQUALS(name, len, "[stack]") || PREFIX(name, len, "[stack:"))
			return ML_VMA_STACK;
		if (EQUALS(name, len, "[vdso]"))
			return ML_VMA_VDSO;
		if (EQUALS(name, len, "[vvar]") || EQUALS(name, len, "[vvar_vclock]"))
			return ML_VMA_VVAR;
		if (EQUALS(name, len, "[vsyscall]"))
			return ML_VMA_VSYSCALL;
		if (PREFIX(name, len, "[anon_shmem:"))
			return ML_VMA_SHMEM;
		if (PREFIX(name, len, "[anon:"))
			return ML_VMA_ANON_NAMED;
		return ML_VMA_OTHER;
	}
	/* These kernel-internal files are always unlinked; a real file that happens to be
	 * called /memfd:x or /SYSV... and is not deleted stays a plain file. */
	if (deleted) {
		if (EQUALS(name, len, "/dev/zero"))
			return ML_VMA_SHMEM;
		if (PREFIX(name, len, "/SYSV"))
			return ML_VMA_SYSV;
		if (PREFIX(name, len, "/memfd:"))
			return ML_VMA_MEMFD;
	}
	return ML_VMA_FILE;
}

int ml__vma_name_add(ml_vma *v, const char *raw, size_t len, bool unescape, ml_buf *names,
		     size_t *ret_off, size_t *ret_len, bool *ret_escaped)
{
	int r = ml_buf_reserve(names, len);
	if (r < 0)
		return r;
	size_t off = names->len;
	char *out = names->data + off;
	size_t n = 0;
	bool escaped = false;
	if (unescape && memchr(raw, '\\', len)) {
		/* Only '\n' is escaped by the kernel (as \012); backslashes are not. */
		for (size_t i = 0; i < len; i++) {
			if (raw[i] == '\\' && len - i >= 4 && raw[i + 1] == '0' && raw[i + 2] == '1' &&
			    raw[i + 3] == '2') {
				out[n++] = '\n';
				i += 3;
				escaped = true;
			} else {
				out[n++] = raw[i];
			}
		}
	} else {
		if (len)
			memcpy(out, raw, len);
		n = len;
	}
	bool deleted = false;
	if (n >= ML__DELETED_SUFFIX_LEN &&
	    memcmp(out + n - ML__DELETED_SUFFIX_LEN, ML__DELETED_SUFFIX, ML__DELETED_SUFFIX_LEN) == 0) {
		n -= ML__DELETED_SUFFIX_LEN;
		deleted = true;
	}
	out[n] = '\0';
	names->len = off + n + 1;
	v->deleted = deleted;
	v->kind = ml__vma_classify(out, n, deleted, v->inode);
	v->name = NULL;
	v->name_len = n;
	*ret_off = off;
	*ret_len = n;
	if (ret_escaped)
		*ret_escaped = escaped;
	return 0;
}
