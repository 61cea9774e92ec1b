/* The snapshot backend of ml_source: mappings, saved /proc files, page runs and memory from an mlcore file. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal/dl.h"
#include "internal/internal.h"
#include "internal/source_impl.h"
#include "snapshot/snap.h"

typedef struct snap_src {
	ml_snapshot *s;
} snap_src;

static void ss_free(void *impl)
{
	snap_src *x = impl;
	ml_snapshot_free(x->s);
	free(x);
}

static pid_t ss_pid(const void *impl) { return ml_snapshot_pid(((const snap_src *)impl)->s); }

/* maps text in the kernel's layout, for snapshots saved without a copy of the maps file */
static int synth_maps(const ml_snapshot *s, ml_buf *b)
{
	for (size_t i = 0; i < ml_snapshot_vma_count(s); i++) {
		const ml_vma *v = &ml_snapshot_vma_get(s, i)->vma;
		char perms[5] = { (v->perms & ML_PERM_READ) ? 'r' : '-', (v->perms & ML_PERM_WRITE) ? 'w' : '-',
				  (v->perms & ML_PERM_EXEC) ? 'x' : '-', (v->perms & ML_PERM_SHARED) ? 's' : 'p', 0 };
		char line[160];
		int n = snprintf(line, sizeof(line), "%08llx-%08llx %s %08llx %02x:%02x %llu",
				 (unsigned long long)v->start, (unsigned long long)v->end, perms,
				 (unsigned long long)v->offset, v->dev_major, v->dev_minor,
				 (unsigned long long)v->inode);
		int r = ml_buf_append(b, line, (size_t)n);
		if (r == 0 && v->name_len) {
			static const char pad[80] = "                                                                               ";
			r = ml_buf_append(b, pad, n < 73 ? (size_t)(73 - n) : 1);
			for (size_t k = 0; k < v->name_len && r == 0; k++)
				r = v->name[k] == '\n' ? ml_buf_append(b, "\\012", 4) : ml_buf_append(b, &v->name[k], 1);
			if (r == 0 && v->deleted)
				r = ml_buf_append(b, " (deleted)", 10);
		}
		if (r == 0)
			r = ml_buf_append(b, "\n", 1);
		if (r < 0)
			return r;
	}
	return 0;
}

typedef struct exact_range {
	uint64_t start, end;
} exact_range;

static int cmp_range(const void *a, const void *b)
{
	const exact_range *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (x->end > y->end) - (x->end < y->end);
}

/* A number as "%" PRIx64 prints it (lowercase, no leading zeros) ending at @stop; else NULL. */
static const char *hex_exact(const char *p, const char *end, char stop, uint64_t *ret)
{
	uint64_t v = 0;
	const char *q = p;
	for (; q < end && *q != stop; q++) {
		int d = *q >= '0' && *q <= '9' ? *q - '0' : *q >= 'a' && *q <= 'f' ? *q - 'a' + 10 : -1;
		if (d < 0 || q - p == 16 || (q > p && v == 0))
			return NULL;
		v = v << 4 | (uint64_t)d;
	}
	if (q == p || q == end)
		return NULL;
	*ret = v;
	return q;
}

/*
 * The START-END lines of names_exact, sorted, for a binary search per mapping (a text
 * search of the whole file per mapping cost mappings x file size, minutes for a crafted
 * snapshot). Only a line exactly as the capture writes it ("%" PRIx64 "-%" PRIx64 "\n")
 * counts, as only such a line matched the text search; other lines are ignored.
 */
static size_t exact_ranges(const char *t, size_t len, exact_range **ret)
{
	exact_range *v = NULL;
	size_t n = 0, cap = 0;
	const char *end = t + len;
	for (const char *p = t; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;
		uint64_t a, b;
		const char *q = hex_exact(p, nl, '-', &a);
		if (q && hex_exact(q + 1, nl + 1, '\n', &b) == nl) {
			if (ml__grow(&v, &cap, n + 1, sizeof(*v)) < 0) {
				n = 0; /* as without the file: no name counts as resolved */
				break;
			}
			v[n++] = (exact_range){ a, b };
		}
		p = nl + 1;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_range);
	*ret = v;
	return n;
}

/*
 * The saved maps text cannot tell a newline from the four bytes "\012" in a name; the
 * mapping table holds the name the capture resolved exactly (PROCMAP_QUERY, map_files/).
 * Where the two differ the table's bytes are the exact ones; where they agree the name
 * stays marked uncertain (a snapshot from before names were resolved looks the same).
 */
static void exact_names(const ml_snapshot *s, ml_maps *m)
{
	char *resolved = NULL;
	size_t rl = 0;
	exact_range *ex = NULL;
	size_t nex = 0;
	if (ml_snapshot_read_file(s, "names_exact", &resolved, &rl) == 0) {
		nex = exact_ranges(resolved, rl, &ex);
		free(resolved);
	}
	ml__vma_name *set = NULL;
	size_t nset = 0, cap = 0;
	for (size_t i = 0; i < ml_maps_count(m); i++) {
		const ml_vma *v = ml_maps_get(m, i);
		if (!v->name_uncertain)
			continue;
		const ml_snapshot_vma *t = ml_snapshot_vma_find(s, v->start);
		if (!t || t->vma.start != v->start || t->vma.end != v->end)
			continue;
		/* listed in names_exact: the capture resolved this name (the table has it) */
		exact_range key = { v->start, v->end };
		bool listed = nex && bsearch(&key, ex, nex, sizeof(*ex), cmp_range);
		if (!listed && t->vma.name_len == v->name_len && !memcmp(t->vma.name, v->name, v->name_len))
			continue;
		if (ml__grow(&set, &cap, nset + 1, sizeof(*set)) < 0)
			break; /* the names then stay as the text has them, uncertain */
		set[nset++] = (ml__vma_name){ i, t->vma.name, t->vma.name_len, t->vma.deleted };
	}
	ml__maps_set_names(m, set, nset);
	free(set);
	free(ex);
}

static int ss_maps(const void *impl, ml_maps **ret)
{
	const ml_snapshot *s = ((const snap_src *)impl)->s;
	char *buf;
	size_t len;
	int r = ml_snapshot_read_file(s, "maps", &buf, &len);
	if (r == -ENOENT) {
		ml_buf b = {0};
		r = synth_maps(s, &b);
		if (r < 0) {
			ml_buf_free(&b);
			return r;
		}
		r = ml_maps_parse(b.data ? b.data : "", b.len, ret);
		ml_buf_free(&b);
		return r;
	}
	if (r < 0)
		return r;
	r = ml_maps_parse(buf, len, ret);
	free(buf);
	if (r == 0)
		exact_names(s, *ret);
	return r;
}

static int ss_read_file(const void *impl, const char *name, char **ret, size_t *ret_len)
{
	return ml_snapshot_read_file(((const snap_src *)impl)->s, name, ret, ret_len);
}

static ssize_t ss_runs(const void *impl, uint64_t start, uint64_t end, unsigned flags,
		       ml_run *vec, size_t n, uint64_t *next)
{
	return ml_snapshot_runs(((const snap_src *)impl)->s, start, end, flags, vec, n, next);
}

static ssize_t ss_read(const void *impl, uint64_t addr, void *buf, size_t len, unsigned flags)
{
	(void)flags; /* nothing is swapped in a snapshot */
	return ml_snapshot_read(((const snap_src *)impl)->s, addr, buf, len);
}

static int ss_damage(const void *impl, uint64_t addr, uint64_t *ret_lo, uint64_t *ret_hi)
{
	return snap_reader_damage(((const snap_src *)impl)->s, addr, ret_lo, ret_hi);
}

static int ss_notes(const void *impl, const uint8_t **ret, size_t *ret_len, uint16_t *machine)
{
	const snap_core *c = snap_reader_core(((const snap_src *)impl)->s);
	*ret = c->notes;
	*ret_len = c->notes_len;
	*machine = c->machine;
	return 0;
}

static const ml_source_ops snapshot_ops = {
	.free = ss_free,
	.pid = ss_pid,
	.maps = ss_maps,
	.read_file = ss_read_file,
	.runs = ss_runs,
	.read = ss_read,
	.damage = ss_damage,
	.notes = ss_notes,
};

int ml__snapshot_source_open(const char *path, ml_source **ret, char **err_msg)
{
	/* the format is told by the first bytes: memlens's own gzip export (a gzip member
	 * with memlens's size field), an mlcore, or any other core, plain or compressed */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ml_neg_errno();
	int lr = ml__dl_load(); /* after the open: a mistyped path is ENOENT first */
	if (lr < 0) {
		if (err_msg)
			*err_msg = strdup(ml_error_detail());
		close(fd);
		return lr;
	}
	uint8_t h[16];
	ssize_t got = pread(fd, h, sizeof(h), 0);
	if (got >= 16 && h[0] == 0x1f && h[1] == 0x8b && h[2] == 8 && h[3] == 4 && h[12] == 'M' && h[13] == 'L')
		return snap_gz_source_open_fd(fd, ret, err_msg);
	if (!snap_is_mlcore(fd))
		return ml__core_source_open_fd(fd, path, ret, err_msg);
	close(fd);
	snap_src *x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	int r = ml_snapshot_open(path, &x->s); /* sets the thread's error detail */
	if (r < 0) {
		free(x);
		return r;
	}
	return ml__source_new(ML_SOURCE_SNAPSHOT, &snapshot_ops, x, NULL, ret);
}
