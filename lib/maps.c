/* maps: the process's mappings from the PROCMAP_QUERY ioctl or /proc/PID/maps text. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal/internal.h"
#include "internal/vma_text.h"

/* The system headers predate PROCMAP_QUERY (Linux 6.11, include/uapi/linux/fs.h). */
struct ml__procmap_query {
	uint64_t size;
	uint64_t query_flags;
	uint64_t query_addr;
	uint64_t vma_start;
	uint64_t vma_end;
	uint64_t vma_flags;
	uint64_t vma_page_size;
	uint64_t vma_offset;
	uint64_t inode;
	uint32_t dev_major;
	uint32_t dev_minor;
	uint32_t vma_name_size;
	uint32_t build_id_size;
	uint64_t vma_name_addr;
	uint64_t build_id_addr;
};
_Static_assert(sizeof(struct ml__procmap_query) == 104, "struct procmap_query is 104 bytes");

#define ML__PROCMAP_QUERY _IOWR('f', 17, struct ml__procmap_query)
#define ML__PMQ_VMA_READABLE 0x01u
#define ML__PMQ_VMA_WRITABLE 0x02u
#define ML__PMQ_VMA_EXECUTABLE 0x04u
#define ML__PMQ_VMA_SHARED 0x08u
#define ML__PMQ_COVERING_OR_NEXT_VMA 0x10u

struct ml_maps {
	ml_vma *v;
	size_t n;
	char *names;
	ml_maps_source origin;
};

/* Records while they are collected: names live in one arena that may move, so they are
 * kept as offsets; @seq is the order of reading, which decides which of two
 * overlapping records (a torn read) is the newer. */
typedef struct rec {
	ml_vma v;
	size_t noff;
	size_t seq;
	bool escaped;
} rec;

typedef struct builder {
	rec *r;
	size_t n, cap;
	ml_buf names;
} builder;

static void builder_free(builder *b)
{
	free(b->r);
	ml_buf_free(&b->names);
}

static int builder_add(builder *b, const ml_vma *v, const char *raw, size_t len, bool unescape)
{
	int r = ml__grow(&b->r, &b->cap, b->n + 1, sizeof(*b->r));
	if (r < 0)
		return r;
	rec *x = &b->r[b->n];
	x->v = *v;
	size_t nlen;
	r = ml__vma_name_add(&x->v, raw, len, unescape, &b->names, &x->noff, &nlen, &x->escaped);
	if (r < 0)
		return r;
	x->v.name_uncertain = x->escaped;
	x->seq = b->n++;
	return 0;
}

static int rec_cmp(const void *a, const void *b)
{
	const rec *x = a, *y = b;
	if (x->v.start != y->v.start)
		return x->v.start < y->v.start ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return 0;
}

/* Sorts by address and resolves what a torn read leaves behind: exact duplicates and
 * stale records overlapping a newer one (the one read later wins). */
static void builder_normalize(builder *b)
{
	bool sorted = true;
	for (size_t i = 1; i < b->n && sorted; i++)
		if (b->r[i].v.start < b->r[i - 1].v.end)
			sorted = false;
	if (sorted)
		return;
	qsort(b->r, b->n, sizeof(*b->r), rec_cmp);
	size_t out = 0;
	for (size_t i = 0; i < b->n; i++) {
		rec *x = &b->r[i];
		bool keep = true;
		while (out > 0 && b->r[out - 1].v.end > x->v.start) {
			if (b->r[out - 1].seq > x->seq) {
				keep = false;
				break;
			}
			out--;
		}
		if (keep)
			b->r[out++] = *x;
	}
	b->n = out;
}

static int builder_finish(builder *b, ml_maps_source origin, ml_maps **ret)
{
	builder_normalize(b);
	ml_maps *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	if (!b->names.data && ml_buf_append(&b->names, "", 0) < 0) {
		free(m);
		return -ENOMEM;
	}
	m->v = malloc((b->n ? b->n : 1) * sizeof(*m->v));
	if (!m->v) {
		free(m);
		return -ENOMEM;
	}
	for (size_t i = 0; i < b->n; i++) {
		m->v[i] = b->r[i].v;
		m->v[i].name = b->names.data + b->r[i].noff;
	}
	m->n = b->n;
	m->names = b->names.data;
	b->names.data = NULL;
	b->names.len = b->names.cap = 0;
	m->origin = origin;
	builder_free(b);
	*ret = m;
	return 0;
}

static int parse_into(builder *b, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		if (eol > p) {
			ml__vma_line l;
			int r = ml__vma_line_parse(p, eol, &l);
			if (r < 0)
				return r;
			r = builder_add(b, &l.v, l.name, l.name_len, true);
			if (r < 0)
				return r;
		}
		p = eol + 1;
	}
	return 0;
}

int ml_maps_parse(const char *buf, size_t len, ml_maps **ret)
{
	if ((!buf && len) || !ret)
		return -EINVAL;
	builder b = {0};
	int r = parse_into(&b, buf, len);
	if (r < 0) {
		builder_free(&b);
		return r;
	}
	return builder_finish(&b, ML_MAPS_TEXT, ret);
}

/* ---- [vsyscall] ---- */

/* The gate mapping is the same for every 64-bit process of this kernel; it is learnt
 * once from our own maps text (0 = not yet, 1 = present, 2 = absent). */
static int vsys_state;
static uint64_t vsys_start, vsys_end;
static uint32_t vsys_perms;

static void vsys_probe(void)
{
	if (__atomic_load_n(&vsys_state, __ATOMIC_ACQUIRE))
		return;
	int state = 2;
	uint64_t s = 0, e = 0;
	uint32_t perms = 0;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		char *buf;
		size_t len;
		if (ml__read_fd_all(fd, 16384, &buf, &len) == 0) {
			static const char tag[] = "[vsyscall]";
			const char *hit = NULL;
			for (const char *q = buf; (q = memmem(q, len - (size_t)(q - buf), tag, sizeof(tag) - 1));
			     q++)
				hit = q;
			if (hit) {
				const char *bol = hit;
				while (bol > buf && bol[-1] != '\n')
					bol--;
				ml__vma_line l;
				if (ml__vma_line_parse(bol, hit + sizeof(tag) - 1, &l) == 0) {
					s = l.v.start;
					e = l.v.end;
					perms = l.v.perms;
					state = 1;
				}
			}
			free(buf);
		}
		close(fd);
	}
	vsys_start = s;
	vsys_end = e;
	vsys_perms = perms;
	__atomic_store_n(&vsys_state, state, __ATOMIC_RELEASE);
}

static int add_vsyscall(builder *b)
{
	vsys_probe();
	if (__atomic_load_n(&vsys_state, __ATOMIC_ACQUIRE) != 1)
		return 0;
	/* A 32-bit (compat) process has no gate mapping, and nothing above 4 GiB. */
	bool wide = false;
	for (size_t i = 0; i < b->n; i++)
		if (b->r[i].v.end > (1ull << 32) || b->r[i].v.start >= vsys_start)
			wide = true;
	for (size_t i = 0; i < b->n; i++)
		if (b->r[i].v.start < vsys_end && b->r[i].v.end > vsys_start)
			return 0;
	if (!wide)
		return 0;
	ml_vma v = { .start = vsys_start, .end = vsys_end, .perms = vsys_perms };
	return builder_add(b, &v, "[vsyscall]", 10, false);
}

/* ---- PROCMAP_QUERY ---- */

static int query_walk(int fd, builder *b)
{
	size_t ncap = 4096 + 64;
	char *name = malloc(ncap);
	if (!name)
		return -ENOMEM;
	uint8_t bid[64];
	uint64_t addr = 0;
	int r = 0;
	for (;;) {
		struct ml__procmap_query q;
		memset(&q, 0, sizeof(q));
		q.size = sizeof(q);
		q.query_flags = ML__PMQ_COVERING_OR_NEXT_VMA;
		q.query_addr = addr;
		q.vma_name_addr = (uint64_t)(uintptr_t)name;
		q.vma_name_size = (uint32_t)ncap;
		q.build_id_addr = (uint64_t)(uintptr_t)bid;
		q.build_id_size = sizeof(bid);
		if (ioctl(fd, ML__PROCMAP_QUERY, &q) < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOENT)
				break;
			if (errno == ENAMETOOLONG && ncap < (1u << 20)) {
				char *n2 = realloc(name, ncap * 4);
				if (!n2) {
					r = -ENOMEM;
					break;
				}
				name = n2;
				ncap *= 4;
				continue;
			}
			r = (errno == ENOTTY || errno == EINVAL) && b->n == 0 ? -EOPNOTSUPP : ml_neg_errno();
			break;
		}
		if (q.vma_end <= addr || q.vma_end <= q.vma_start) {
			r = -EIO; /* the kernel went backwards: never loop */
			break;
		}
		ml_vma v;
		memset(&v, 0, sizeof(v));
		v.start = q.vma_start;
		v.end = q.vma_end;
		v.offset = q.vma_offset;
		v.inode = q.inode;
		v.dev_major = q.dev_major;
		v.dev_minor = q.dev_minor;
		v.perms = (q.vma_flags & ML__PMQ_VMA_READABLE ? ML_PERM_READ : 0) |
			  (q.vma_flags & ML__PMQ_VMA_WRITABLE ? ML_PERM_WRITE : 0) |
			  (q.vma_flags & ML__PMQ_VMA_EXECUTABLE ? ML_PERM_EXEC : 0) |
			  (q.vma_flags & ML__PMQ_VMA_SHARED ? ML_PERM_SHARED : 0);
		if (q.build_id_size && q.build_id_size <= sizeof(v.build_id)) {
			memcpy(v.build_id, bid, q.build_id_size);
			v.build_id_len = (uint8_t)q.build_id_size;
		}
		size_t nlen = q.vma_name_size ? strnlen(name, ML_MIN(q.vma_name_size, ncap)) : 0;
		r = builder_add(b, &v, name, nlen, false);
		if (r < 0)
			break;
		addr = q.vma_end;
	}
	free(name);
	return r;
}

/* ---- names the text cannot tell apart ---- */

/* Replaces a record's name by exact bytes (not unescaped, no suffix stripped). */
static int set_exact_name(builder *b, rec *x, const char *s, size_t len)
{
	int r = ml_buf_reserve(&b->names, len);
	if (r < 0)
		return r;
	x->noff = b->names.len;
	memcpy(b->names.data + b->names.len, s, len);
	b->names.data[b->names.len + len] = '\0';
	b->names.len += len + 1;
	x->v.name_len = len;
	x->v.kind = ml__vma_classify(s, len, x->v.deleted, x->v.inode);
	return 0;
}

/* Replaces a record's name by the kernel's d_path bytes (suffix stripped into deleted). */
static int rename_rec(builder *b, rec *x, const char *raw, size_t len)
{
	size_t nlen;
	return ml__vma_name_add(&x->v, raw, len, false, &b->names, &x->noff, &nlen, NULL);
}

/*
 * The text shows '\n' as "\012" but leaves backslashes alone, so "\012" in a name is
 * ambiguous there; map_files/START-END gives the exact bytes (it needs CAP_SYS_ADMIN or
 * CAP_CHECKPOINT_RESTORE). A " (deleted)" suffix is ambiguous on both paths: a file can
 * be named "x (deleted)". If the target's root still has that exact path with the
 * mapping's inode, the suffix is part of the name and the file is not deleted.
 */
static int refine_names(const ml_proc *p, builder *b, bool text)
{
	int dirfd = ml_proc_dirfd(p);
	char path[64];
	char *tmp = NULL;
	size_t tcap = 0;
	int r = 0;
	for (size_t i = 0; i < b->n && r == 0; i++) {
		rec *x = &b->r[i];
		if (x->v.kind != ML_VMA_FILE || x->v.inode == 0)
			continue;
		if (text && x->escaped) {
			snprintf(path, sizeof(path), "map_files/%llx-%llx", (unsigned long long)x->v.start,
				 (unsigned long long)x->v.end);
			size_t want = x->v.name_len + 64;
			for (;;) {
				if (tcap < want) {
					char *t = realloc(tmp, want);
					if (!t) {
						r = -ENOMEM;
						break;
					}
					tmp = t;
					tcap = want;
				}
				ssize_t n = readlinkat(dirfd, path, tmp, tcap);
				if (n < 0)
					break;
				if ((size_t)n < tcap) {
					r = rename_rec(b, x, tmp, (size_t)n);
					x->escaped = false;
					break;
				}
				want = tcap * 2;
			}
			if (r < 0)
				break;
			x->v.name_uncertain = x->escaped;
		}
		if (x->v.deleted) {
			/* "root" + name + suffix, NUL-terminated */
			size_t need = 4 + x->v.name_len + ML__DELETED_SUFFIX_LEN + 1;
			if (tcap < need) {
				char *t = realloc(tmp, need);
				if (!t) {
					r = -ENOMEM;
					break;
				}
				tmp = t;
				tcap = need;
			}
			const char *name = b->names.data + x->noff;
			if (name[0] != '/' || memchr(name, '\0', x->v.name_len))
				continue;
			memcpy(tmp, "root", 4);
			memcpy(tmp + 4, name, x->v.name_len);
			memcpy(tmp + 4 + x->v.name_len, ML__DELETED_SUFFIX, ML__DELETED_SUFFIX_LEN + 1);
			struct stat st;
			if (fstatat(dirfd, tmp, &st, 0) == 0) {
				if (st.st_ino == x->v.inode) {
					/* copy out first: the arena may move while the name is re-added */
					size_t l = x->v.name_len + ML__DELETED_SUFFIX_LEN;
					memmove(tmp, tmp + 4, l);
					x->v.deleted = false;
					r = set_exact_name(b, x, tmp, l);
					if (r < 0)
						break;
				}
			} else if (errno == EACCES || errno == EPERM) {
				x->v.name_uncertain = true;
			}
		}
	}
	free(tmp);
	return r;
}

/* ---- reading ---- */

static int read_text(const ml_proc *p, builder *b)
{
	char *buf;
	size_t len;
	int r = ml_proc_read_file(p, "maps", &buf, &len);
	if (r < 0)
		return r;
	r = parse_into(b, buf, len);
	free(buf);
	if (r == 0 && ml_proc_is_live(p))
		r = refine_names(p, b, true);
	return r;
}

static int read_query(const ml_proc *p, builder *b)
{
	int fd = ml_proc_openat(p, "maps", O_RDONLY);
	if (fd < 0)
		return fd;
	int r = query_walk(fd, b);
	close(fd);
	if (r == -EOPNOTSUPP)
		return r;
	r = ml__proc_after_read(p, r, b->n);
	if (r < 0)
		return r;
	r = refine_names(p, b, false);
	if (r < 0)
		return r;
	return add_vsyscall(b);
}

int ml_maps_read(const ml_proc *p, ml_maps_source how, ml_maps **ret)
{
	if (!p || !ret || how > ML_MAPS_PROCMAP_QUERY)
		return -EINVAL;
	builder b = {0};
	int r;
	ml_maps_source origin = ML_MAPS_TEXT;
	if (how != ML_MAPS_TEXT && ml_proc_is_live(p)) {
		r = read_query(p, &b);
		if (r == 0)
			origin = ML_MAPS_PROCMAP_QUERY;
		/* A kernel thread has no mm: the ioctl says ESRCH where the text is simply
		 * empty; the text read tells that apart from a zombie. */
		if ((r == -EOPNOTSUPP && how == ML_MAPS_AUTO) || (r == -ESRCH && b.n == 0)) {
			builder_free(&b);
			memset(&b, 0, sizeof(b));
			r = read_text(p, &b);
		}
	} else if (how == ML_MAPS_PROCMAP_QUERY) {
		r = -EOPNOTSUPP;
	} else {
		r = read_text(p, &b);
	}
	if (r < 0) {
		builder_free(&b);
		return r;
	}
	return builder_finish(&b, origin, ret);
}

size_t ml_maps_count(const ml_maps *m) { return m ? m->n : 0; }

const ml_vma *ml_maps_get(const ml_maps *m, size_t i)
{
	return m && i < m->n ? &m->v[i] : NULL;
}

const ml_vma *ml_maps_find(const ml_maps *m, uint64_t addr)
{
	if (!m)
		return NULL;
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->v[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < m->n && m->v[lo].start <= addr && addr < m->v[lo].end)
		return &m->v[lo];
	return NULL;
}

ml_maps_source ml_maps_origin(const ml_maps *m) { return m ? m->origin : ML_MAPS_AUTO; }

const char *ml_vma_kind_name(ml_vma_kind k)
{
	static const char *const names[ML_VMA_KIND_COUNT] = {
		[ML_VMA_ANON] = "anon",         [ML_VMA_FILE] = "file",
		[ML_VMA_HEAP] = "heap",         [ML_VMA_STACK] = "stack",
		[ML_VMA_VDSO] = "vdso",         [ML_VMA_VVAR] = "vvar",
		[ML_VMA_VSYSCALL] = "vsyscall", [ML_VMA_ANON_NAMED] = "anon-named",
		[ML_VMA_SHMEM] = "shmem",       [ML_VMA_SYSV] = "sysv",
		[ML_VMA_MEMFD] = "memfd",       [ML_VMA_OTHER] = "other",
	};
	return (unsigned)k < ML_VMA_KIND_COUNT ? names[k] : "?";
}

const char *ml_vma_perms_str(uint32_t perms, char buf[5])
{
	buf[0] = perms & ML_PERM_READ ? 'r' : '-';
	buf[1] = perms & ML_PERM_WRITE ? 'w' : '-';
	buf[2] = perms & ML_PERM_EXEC ? 'x' : '-';
	buf[3] = perms & ML_PERM_SHARED ? 's' : 'p';
	buf[4] = '\0';
	return buf;
}

void ml_maps_free(ml_maps *m)
{
	if (!m)
		return;
	free(m->v);
	free(m->names);
	free(m);
}
