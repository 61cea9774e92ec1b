/* maps: the process's mappings from the PROCMAP_QUERY ioctl or /proc/PID/maps text. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal/internal.h"
#include "internal/vma_text.h"

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define ML_MEM_DEFINED(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))
#endif
#endif
#ifndef ML_MEM_DEFINED
#define ML_MEM_DEFINED(p, n) ((void)(p), (void)(n))
#endif

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

/*
 * Records while they are collected. Names live in one arena that may move, so until
 * builder_finish() each record's name pointer holds the name's offset in the arena
 * (NOFF); name_uncertain doubles as "an \012 was decoded". The array becomes the
 * ml_maps array as is, without a copy.
 */
typedef struct builder {
	ml_vma *v;
	size_t n, cap;
	ml_buf names;
} builder;

#define NOFF(x) ((size_t)(uintptr_t)(x)->name)
#define SET_NOFF(x, off) ((x)->name = (const char *)(uintptr_t)(off))

static void builder_free(builder *b)
{
	free(b->v);
	ml_buf_free(&b->names);
}

static int builder_add(builder *b, const ml_vma *v, const char *raw, size_t len, bool unescape)
{
	if (ML_UNLIKELY(b->n == b->cap)) {
		int r = ml__grow(&b->v, &b->cap, b->n + 1, sizeof(*b->v));
		if (r < 0)
			return r;
	}
	ml_vma *x = &b->v[b->n];
	*x = *v;
	size_t off, nlen;
	bool escaped;
	int r = ml__vma_name_add(x, raw, len, unescape, &b->names, &off, &nlen, &escaped);
	if (r < 0)
		return r;
	SET_NOFF(x, off);
	x->name_uncertain = escaped;
	b->n++;
	return 0;
}

typedef struct ord {
	uint64_t start;
	size_t seq;
} ord;

static int ord_cmp(const void *a, const void *b)
{
	const ord *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sorts by address and resolves what a torn read leaves behind: exact duplicates and
 * stale records overlapping a newer one (the one read later wins). */
static int builder_normalize(builder *b)
{
	bool sorted = true;
	for (size_t i = 1; i < b->n && sorted; i++)
		if (b->v[i].start < b->v[i - 1].end)
			sorted = false;
	if (sorted)
		return 0;
	ord *o = malloc(b->n * sizeof(*o));
	ml_vma *nv = malloc(b->n * sizeof(*nv));
	if (!o || !nv) {
		free(o);
		free(nv);
		return -ENOMEM;
	}
	for (size_t i = 0; i < b->n; i++)
		o[i] = (ord){ b->v[i].start, i };
	qsort(o, b->n, sizeof(*o), ord_cmp);
	size_t out = 0;
	for (size_t i = 0; i < b->n; i++) {
		const ml_vma *x = &b->v[o[i].seq];
		bool keep = true;
		while (out > 0 && nv[out - 1].end > x->start) {
			if (o[out - 1].seq > o[i].seq) {
				keep = false;
				break;
			}
			out--;
		}
		if (keep) {
			o[out] = o[i]; /* o[0..out) now follows nv */
			nv[out++] = *x;
		}
	}
	free(o);
	free(b->v);
	b->v = nv;
	b->n = out;
	b->cap = b->n;
	return 0;
}

static int builder_finish(builder *b, ml_maps_source origin, ml_maps **ret)
{
	int r = builder_normalize(b);
	if (r < 0)
		return r;
	ml_maps *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	if (!b->names.data && ml_buf_append(&b->names, "", 0) < 0) {
		free(m);
		return -ENOMEM;
	}
	for (size_t i = 0; i < b->n; i++)
		b->v[i].name = b->names.data + NOFF(&b->v[i]);
	m->v = b->v;
	m->n = b->n;
	m->names = b->names.data;
	m->origin = origin;
	*b = (builder){ 0 };
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
	if (r == 0)
		r = builder_finish(&b, ML_MAPS_TEXT, ret);
	builder_free(&b); /* empty after a successful finish */
	return r;
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
		if (b->v[i].end > (1ull << 32) || b->v[i].start >= vsys_start)
			wide = true;
	for (size_t i = 0; i < b->n; i++)
		if (b->v[i].start < vsys_end && b->v[i].end > vsys_start)
			return 0;
	if (!wide)
		return 0;
	ml_vma v = { .start = vsys_start, .end = vsys_end, .perms = vsys_perms };
	return builder_add(b, &v, "[vsyscall]", 10, false);
}

/* ---- PROCMAP_QUERY ---- */

/* One PROCMAP_QUERY call. @bid NULL: no build ID wanted. @return 0 or -errno. */
static int query_one(int fd, uint64_t addr, uint64_t flags, char **name, size_t *ncap, uint8_t *bid,
		     struct ml__procmap_query *q)
{
	for (;;) {
		memset(q, 0, sizeof(*q));
		q->size = sizeof(*q);
		q->query_flags = flags;
		q->query_addr = addr;
		q->vma_name_addr = (uint64_t)(uintptr_t)*name;
		q->vma_name_size = (uint32_t)*ncap;
		/* the kernel wants build-ID address and size both zero or both set */
		q->build_id_addr = bid ? (uint64_t)(uintptr_t)bid : 0;
		q->build_id_size = bid ? 64 : 0;
		if (ioctl(fd, ML__PROCMAP_QUERY, q) == 0) {
			/* memcheck does not know this ioctl: what the kernel wrote is defined */
			ML_MEM_DEFINED(*name, q->vma_name_size);
			if (bid)
				ML_MEM_DEFINED(bid, q->build_id_size);
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno == ENAMETOOLONG && *ncap < (1u << 20)) {
			char *n2 = realloc(*name, *ncap * 4);
			if (!n2)
				return -ENOMEM;
			*name = n2;
			*ncap *= 4;
			continue;
		}
		return ml_neg_errno();
	}
}

/* Walks every VMA with PROCMAP_QUERY, one record per VMA. */
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
		r = query_one(fd, addr, ML__PMQ_COVERING_OR_NEXT_VMA, &name, &ncap, bid, &q);
		if (r == -ENOENT) {
			r = 0;
			break;
		}
		if (r < 0) {
			if ((r == -ENOTTY || r == -EINVAL) && b->n == 0)
				r = -EOPNOTSUPP;
			break;
		}
		if (q.vma_end <= addr || q.vma_end <= q.vma_start) {
			r = -EIO; /* the kernel went backwards: never loop */
			break;
		}
		addr = q.vma_end;
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
		if ((r = builder_add(b, &v, name, nlen, false)) < 0)
			break;
	}
	free(name);
	return r;
}

static int rename_rec(builder *b, ml_vma *x, const char *raw, size_t len);

/*
 * For each file-backed record of @b (read from the text a moment ago), asks PROCMAP_QUERY
 * about exactly that address: exact name bytes and the build ID. Looking addresses up
 * directly is much cheaper than letting the kernel walk past every anonymous VMA, and a
 * build ID is fetched once per run of segments of one file (the kernel reads it from the
 * ELF notes in the page cache each time).
 */
static int query_join(int fd, builder *b)
{
	size_t ncap = 4096 + 64;
	char *name = malloc(ncap);
	if (!name)
		return -ENOMEM;
	uint8_t bid[64];
	uint8_t last_bid[32];
	uint32_t last_len = 0, last_maj = 0, last_min = 0;
	uint64_t last_ino = 0;
	size_t got = 0;
	int r = 0;
	for (size_t i = 0; i < b->n; i++) {
		ml_vma *x = &b->v[i];
		if (x->inode == 0 || x->kind == ML_VMA_VSYSCALL)
			continue;
		bool same = x->inode == last_ino && x->dev_major == last_maj && x->dev_minor == last_min;
		struct ml__procmap_query q;
		r = query_one(fd, x->start, 0, &name, &ncap, same ? NULL : bid, &q);
		if (r == -ENOENT) {
			r = 0; /* unmapped since the text was read */
			continue;
		}
		if (r < 0) {
			if ((r == -ENOTTY || r == -EINVAL) && got == 0)
				r = -EOPNOTSUPP;
			break;
		}
		got++;
		if (q.vma_start != x->start || q.vma_end != x->end || q.inode != x->inode)
			continue; /* changed since the text was read: keep the text's record */
		if (!same) {
			last_ino = q.inode;
			last_maj = q.dev_major;
			last_min = q.dev_minor;
			last_len = q.build_id_size <= sizeof(last_bid) ? q.build_id_size : 0;
			memcpy(last_bid, bid, last_len);
		}
		memcpy(x->build_id, last_bid, last_len);
		x->build_id_len = (uint8_t)last_len;
		size_t nlen = q.vma_name_size ? strnlen(name, ML_MIN(q.vma_name_size, ncap)) : 0;
		if ((r = rename_rec(b, x, name, nlen)) < 0)
			break;
		x->name_uncertain = false;
	}
	free(name);
	return r;
}

/* ---- names the text cannot tell apart ---- */

/* Replaces a record's name by exact bytes (not unescaped, no suffix stripped). */
static int set_exact_name(builder *b, ml_vma *x, const char *s, size_t len)
{
	int r = ml_buf_reserve(&b->names, len);
	if (r < 0)
		return r;
	SET_NOFF(x, b->names.len);
	memcpy(b->names.data + b->names.len, s, len);
	b->names.data[b->names.len + len] = '\0';
	b->names.len += len + 1;
	x->name_len = len;
	x->kind = ml__vma_classify(s, len, x->deleted, x->inode);
	return 0;
}

/* Replaces a record's name by the kernel's d_path bytes (suffix stripped into deleted). */
static int rename_rec(builder *b, ml_vma *x, const char *raw, size_t len)
{
	size_t off, nlen;
	int r = ml__vma_name_add(x, raw, len, false, &b->names, &off, &nlen, NULL);
	if (r == 0)
		SET_NOFF(x, off);
	return r;
}

static int grow_tmp(char **tmp, size_t *tcap, size_t want)
{
	if (*tcap >= want)
		return 0;
	char *t = realloc(*tmp, want);
	if (!t)
		return -ENOMEM;
	*tmp = t;
	*tcap = want;
	return 0;
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
	char path[64];
	char *tmp = NULL;
	size_t tcap = 0;
	int r = 0;
	for (size_t i = 0; i < b->n && r == 0; i++) {
		ml_vma *x = &b->v[i];
		if (x->kind != ML_VMA_FILE || x->inode == 0)
			continue;
		if (text && x->name_uncertain) {
			snprintf(path, sizeof(path), "map_files/%llx-%llx", (unsigned long long)x->start,
				 (unsigned long long)x->end);
			char *link;
			size_t ll;
			/* no privilege (or the mapping is gone): keep the decoded name, still uncertain */
			if (ml_proc_readlink(p, path, &link, &ll) == 0) {
				r = rename_rec(b, x, link, ll);
				free(link);
				x->name_uncertain = false;
			}
			if (r < 0)
				break;
		}
		if (x->deleted) {
			/* "root" + name + suffix, NUL-terminated */
			if ((r = grow_tmp(&tmp, &tcap, 4 + x->name_len + ML__DELETED_SUFFIX_LEN + 1)) < 0)
				break;
			const char *name = b->names.data + NOFF(x);
			if (name[0] != '/')
				continue;
			memcpy(tmp, "root", 4);
			memcpy(tmp + 4, name, x->name_len);
			memcpy(tmp + 4 + x->name_len, ML__DELETED_SUFFIX, ML__DELETED_SUFFIX_LEN + 1);
			struct stat st;
			int sr = ml__proc_fstatat(p, tmp, &st, 0);
			if (sr == 0) {
				if (st.st_ino == x->inode) {
					/* copy out first: the arena may move while the name is re-added */
					size_t l = x->name_len + ML__DELETED_SUFFIX_LEN;
					memmove(tmp, tmp + 4, l);
					x->deleted = false;
					r = set_exact_name(b, x, tmp, l);
				}
			} else if (sr == -EACCES || sr == -EPERM) {
				x->name_uncertain = true;
			}
		}
	}
	free(tmp);
	return r;
}

/* ---- reading ---- */

static int read_text_raw(const ml_proc *p, builder *b)
{
	char *buf = NULL;
	size_t len = 0;
	/* a line is ~75 bytes: start big enough for a few thousand mappings */
	int r = ml__proc_read_all(p, "maps", 256 << 10, &buf, &len);
	if (r < 0)
		return r;
	r = parse_into(b, buf, len);
	free(buf);
	return r;
}

static int read_text(const ml_proc *p, builder *b)
{
	int r = read_text_raw(p, b);
	if (r == 0 && ml_proc_is_live(p))
		r = refine_names(p, b, true);
	return r;
}

/*
 * The default on a live process: the text gives the layout (one read() per ~4 KiB, far
 * cheaper than one ioctl per VMA), then PROCMAP_QUERY walks only the file-backed VMAs for
 * their exact names and build IDs. The records equal a full ioctl walk's.
 */
static int read_hybrid(const ml_proc *p, builder *b, bool *used_query)
{
	int r = read_text_raw(p, b);
	if (r == 0)
		r = builder_normalize(b);
	if (r < 0)
		return r;
	/* read_text_raw() has asked whether the leader exited: a maps without an address space
	 * fails the ioctl (ESRCH), and the text's names are kept */
	pid_t via;
	int fd = ml__proc_openat_via(p, "maps", O_RDONLY, &via);
	if (fd >= 0) {
		int jr = query_join(fd, b);
		close(fd);
		if (jr == -ENOMEM)
			return jr;
		*used_query = jr == 0;
	}
	return refine_names(p, b, true);
}

static int read_query(const ml_proc *p, builder *b)
{
	int r;
	for (int tries = 0;; tries++) {
		pid_t via;
		int fd = ml__proc_openat_via(p, "maps", O_RDONLY, &via);
		if (fd < 0)
			return fd;
		r = query_walk(fd, b);
		close(fd);
		/* opened without an address space (ESRCH before the first record): through a
		 * leader that has exited, or a thread that has begun to exit */
		if (r == -ESRCH && b->n == 0 && tries < 8 && ml__proc_reread(p, "maps", via))
			continue;
		break;
	}
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
	if (how == ML_MAPS_AUTO && ml_proc_is_live(p)) {
		bool used = false;
		r = read_hybrid(p, &b, &used);
		if (used)
			origin = ML_MAPS_PROCMAP_QUERY;
	} else if (how == ML_MAPS_PROCMAP_QUERY && ml_proc_is_live(p)) {
		r = read_query(p, &b);
		if (r == 0)
			origin = ML_MAPS_PROCMAP_QUERY;
		/* A kernel thread has no mm: the ioctl says ESRCH where the text is simply
		 * empty; the text read tells that apart from a zombie. */
		if (r == -ESRCH && b.n == 0) {
			builder_free(&b);
			memset(&b, 0, sizeof(b));
			r = read_text(p, &b);
		}
	} else if (how == ML_MAPS_PROCMAP_QUERY) {
		r = -EOPNOTSUPP;
	} else {
		r = read_text(p, &b);
	}
	if (r == 0)
		r = builder_finish(&b, origin, ret);
	builder_free(&b); /* empty after a successful finish */
	return r;
}

int ml__maps_set_names(ml_maps *m, const ml__vma_name *set, size_t n)
{
	if (!m)
		return -EINVAL;
	for (size_t j = 0; j < n; j++)
		if (set[j].i >= m->n || (j && set[j].i <= set[j - 1].i))
			return -EINVAL;
	if (!n)
		return 0;
	size_t total = 1;
	for (size_t k = 0, j = 0; k < m->n; k++) {
		bool mine = j < n && set[j].i == k;
		total += (mine ? set[j++].len : m->v[k].name_len) + 1;
	}
	char *a = malloc(total);
	if (!a)
		return -ENOMEM;
	size_t off = 0;
	for (size_t k = 0, j = 0; k < m->n; k++) {
		ml_vma *x = &m->v[k];
		const ml__vma_name *s = j < n && set[j].i == k ? &set[j++] : NULL;
		const char *src = s ? s->name : x->name;
		size_t l = s ? s->len : x->name_len;
		memcpy(a + off, src, l);
		a[off + l] = '\0';
		x->name = a + off;
		x->name_len = l;
		off += l + 1;
		if (s) {
			x->deleted = s->deleted;
			x->name_uncertain = false;
			x->kind = ml__vma_classify(x->name, x->name_len, x->deleted, x->inode);
		}
	}
	a[off] = '\0';
	free(m->names);
	m->names = a;
	return 0;
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
