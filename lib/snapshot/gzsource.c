/* The ml_source backend for a `memlens core export` file: seeks through the gzip members of an expanded ELF core. */
#include <elf.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal/source_impl.h"
#include "snapshot/snap.h"
#define ML__DL_REDIRECT
#include "internal/dl.h"
#include <memlens/coreinfo.h>

/* a member header as the exporter writes it: 10 fixed bytes, XLEN, one "ML" subfield of 32:
 * member size, uncompressed size, its offset in the core, the core's size, the export's id */
#define GZ_HDR 48u
#define GZ_TRAILER 8u
#define GZ_MIN_MEMBER (GZ_HDR + 2u + GZ_TRAILER) /* the empty deflate stream is 2 bytes */
#define GZ_MAX_USIZE (256u << 20)                 /* the exporter's largest member */
#define GZ_MAX_RATIO 1032u                        /* deflate cannot do better than ~1032:1 */
#define GZ_CACHE_MAX (64u << 20)                  /* members up to this size are kept inflated */
#define GZ_MAX_PHNUM (1u << 24)
#define GZ_PH_PIECE 4096u                         /* program headers read at a time */
#define GZ_IO 65536u

typedef struct gz_member {
	uint64_t off;     /* file offset of the member */
	uint64_t ustart;  /* offset in the expanded core of its first byte */
	uint32_t csize, usize;
} gz_member;

typedef struct gz_load {
	uint64_t vaddr, memsz, filesz, offset;
	uint32_t flags;
	uint64_t pgoff;        /* from NT_FILE */
	const char *name;      /* NUL-terminated, in the notes buffer, or a literal */
} gz_load;

typedef struct gz_src {
	int fd;
	gz_member *m;
	size_t nm;
	uint64_t usize;        /* size of the expanded core */
	uint64_t id;           /* the export's id, in every member */
	uint8_t *notes;
	size_t notes_len;
	gz_load *ld;
	size_t nld;
	pid_t pid;
	uint16_t machine;
	const uint8_t *auxv;
	size_t auxv_len;
	char *maps;            /* kernel-layout maps text built from PT_LOAD and NT_FILE */
	size_t maps_len;
	pthread_mutex_t mu;
	size_t cache_idx;
	uint8_t *cache;        /* the last inflated member, or NULL */
} gz_src;

static __thread const gz_src *tls_owner;
static __thread char tls_err[256];

static void gerr(const gz_src *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void gerr(const gz_src *g, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tls_err, sizeof(tls_err), fmt, ap);
	va_end(ap);
	tls_owner = g;
}

/*
 * Inflates member @k, checking its deflate data, CRC-32, length and that it ends exactly
 * at its recorded size. Uncompressed bytes [skip, skip+n) go to @out; the rest is
 * inflated (to check the CRC) and dropped.
 */
static int member_inflate(const gz_src *g, size_t k, uint64_t skip, uint8_t *out, size_t n)
{
	const gz_member *m = &g->m[k];
	uint8_t *in = malloc(GZ_IO), *drop = malloc(GZ_IO);
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (!in || !drop || inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		free(in);
		free(drop);
		return -ENOMEM;
	}
	uint64_t rd = 0, pos = 0, end = skip + n;
	int r = 0, zr = Z_OK;
	while (zr != Z_STREAM_END) {
		if (z.avail_in == 0 && rd < m->csize) {
			size_t t = (size_t)ML_MIN((uint64_t)GZ_IO, m->csize - rd);
			if ((r = snap_pread_all(g->fd, in, t, m->off + rd)) < 0) {
				gerr(g, "gzip member %zu at offset %llu: %s", k, (unsigned long long)m->off,
				     r == -EBADMSG ? "the file is truncated" : ml_strerror(r));
				break;
			}
			rd += t;
			z.next_in = in;
			z.avail_in = (uInt)t;
		}
		uint64_t avail;
		if (pos < skip) {
			z.next_out = drop;
			avail = ML_MIN((uint64_t)GZ_IO, skip - pos);
		} else if (pos < end) {
			z.next_out = out + (pos - skip);
			avail = ML_MIN(end - pos, (uint64_t)UINT32_MAX);
		} else {
			z.next_out = drop;
			avail = ML_MIN((uint64_t)GZ_IO, m->usize - pos);
			if (!avail)
				avail = 1; /* room to notice a member longer than recorded */
		}
		z.avail_out = (uInt)avail;
		zr = inflate(&z, Z_NO_FLUSH);
		pos += avail - z.avail_out;
		if (pos > m->usize) {
			r = -EBADMSG;
			gerr(g, "gzip member %zu at offset %llu inflates to more than its recorded %u bytes", k,
			     (unsigned long long)m->off, m->usize);
			break;
		}
		if (zr == Z_STREAM_END)
			break;
		if (zr == Z_BUF_ERROR && z.avail_in == 0 && rd == m->csize)
			zr = Z_DATA_ERROR; /* input ran out inside the stream */
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			r = zr == Z_MEM_ERROR ? -ENOMEM : -EBADMSG;
			gerr(g, "gzip member %zu at offset %llu is corrupt: %s", k, (unsigned long long)m->off,
			     zr == Z_MEM_ERROR ? "out of memory" : z.msg ? z.msg : "invalid deflate data");
			break;
		}
	}
	if (r == 0 && (pos != m->usize || z.avail_in != 0 || rd != m->csize)) {
		r = -EBADMSG;
		gerr(g, "gzip member %zu at offset %llu: %s", k, (unsigned long long)m->off,
		     pos != m->usize ? "inflates to fewer bytes than recorded"
				     : "its gzip stream ends before its recorded size");
	}
	inflateEnd(&z);
	free(in);
	free(drop);
	return r;
}

/* The member holding core offset @off (< usize). */
static size_t member_at(const gz_src *g, uint64_t off)
{
	size_t lo = 0, hi = g->nm;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (g->m[mid].ustart <= off)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Reads [off, off+n) of the expanded core, inflating only the members covering it;
 * *@ret_done gets the bytes read before a failing member. */
static int core_read_part(const gz_src *g, uint64_t off, void *buf, size_t n, size_t *ret_done)
{
	gz_src *w = (gz_src *)g;
	if (off > g->usize || n > g->usize - off) {
		gerr(g, "expanded core offset %llu+%zu is past its end (%llu bytes)", (unsigned long long)off, n,
		     (unsigned long long)g->usize);
		return -EBADMSG;
	}
	size_t lo = member_at(g, off);
	uint8_t *out = buf;
	*ret_done = 0;
	for (size_t k = lo; n; k++) {
		const gz_member *m = &g->m[k];
		uint64_t in = off - m->ustart;
		size_t t = (size_t)ML_MIN((uint64_t)n, m->usize - in);
		int r = 0;
		if (m->usize > GZ_CACHE_MAX) {
			r = member_inflate(g, k, in, out, t);
		} else {
			bool hit = false;
			pthread_mutex_lock(&w->mu);
			if (w->cache && w->cache_idx == k) {
				memcpy(out, w->cache + in, t);
				hit = true;
			}
			pthread_mutex_unlock(&w->mu);
			if (!hit) {
				uint8_t *b = malloc(m->usize);
				if (!b)
					return -ENOMEM;
				r = member_inflate(g, k, 0, b, m->usize);
				if (r < 0) {
					free(b);
					return r;
				}
				memcpy(out, b + in, t);
				pthread_mutex_lock(&w->mu);
				free(w->cache);
				w->cache = b;
				w->cache_idx = k;
				pthread_mutex_unlock(&w->mu);
			}
		}
		if (r < 0)
			return r;
		out += t;
		off += t;
		n -= t;
		*ret_done += t;
	}
	return 0;
}

static int core_read(const gz_src *g, uint64_t off, void *buf, size_t n)
{
	size_t done;
	return core_read_part(g, off, buf, n, &done);
}

/* Steps through the member headers: every one must be the exporter's, sizes consistent. */
static int scan_members(gz_src *g, uint64_t fsize)
{
	size_t cap = 0;
	uint64_t pos = 0, us = 0;
	while (pos < fsize) {
		uint8_t h[GZ_HDR], tr[GZ_TRAILER];
		size_t k = g->nm;
		if (fsize - pos < GZ_MIN_MEMBER) {
			gerr(g, "truncated gzip member %zu at offset %llu", k, (unsigned long long)pos);
			return -EBADMSG;
		}
		int r = snap_pread_all(g->fd, h, sizeof(h), pos);
		if (r < 0) {
			if (r == -EBADMSG) /* the end of the file */
				gerr(g, "truncated gzip member %zu at offset %llu (the file shrank)", k, (unsigned long long)pos);
			return r;
		}
		if (h[0] != 0x1f || h[1] != 0x8b || h[2] != 8) {
			gerr(g, "no gzip member at offset %llu (member %zu)", (unsigned long long)pos, k);
			return -EBADMSG;
		}
		if (h[3] == 4 && get16(h + 10) == 12 && h[12] == 'M' && h[13] == 'L' && get16(h + 14) == 8) {
			gerr(g, "written by an older `memlens core export`, whose members do not say where they "
				"belong (reordered members would read as wrong memory): export the snapshot again, "
				"or expand this file with zcat");
			return -EBADMSG;
		}
		if (h[3] != 4 || get16(h + 10) != 36 || h[12] != 'M' || h[13] != 'L' || get16(h + 14) != 32) {
			gerr(g, "gzip member %zu at offset %llu has no memlens size field: not written by "
				"`memlens core export` (use zcat to expand it)", k, (unsigned long long)pos);
			return -EBADMSG;
		}
		uint64_t at = get64(h + 24), total = get64(h + 32), id = get64(h + 40);
		if (k == 0) {
			g->usize = total;
			g->id = id;
		}
		if (id != g->id || total != g->usize) {
			gerr(g, "gzip member %zu at offset %llu belongs to another export (its export id or core size differs from member 0's)",
			     k, (unsigned long long)pos);
			return -EBADMSG;
		}
		if (at != us) {
			gerr(g, "gzip member %zu at offset %llu holds core bytes from %llu, where bytes from %llu belong: "
				"members are missing or out of order", k, (unsigned long long)pos, (unsigned long long)at,
			     (unsigned long long)us);
			return -EBADMSG;
		}
		uint32_t cs = get32(h + 16), uz = get32(h + 20);
		if (cs < GZ_MIN_MEMBER || cs > fsize - pos) {
			gerr(g, "gzip member %zu at offset %llu records %u bytes, %s", k, (unsigned long long)pos, cs,
			     cs < GZ_MIN_MEMBER ? "too few for a member" : "past the end of the file (truncated?)");
			return -EBADMSG;
		}
		if (uz == 0 || uz > GZ_MAX_USIZE || (uint64_t)uz > (uint64_t)cs * GZ_MAX_RATIO) {
			gerr(g, "gzip member %zu at offset %llu records an impossible uncompressed size %u", k,
			     (unsigned long long)pos, uz);
			return -EBADMSG;
		}
		if ((r = snap_pread_all(g->fd, tr, sizeof(tr), pos + cs - GZ_TRAILER)) < 0) {
			if (r == -EBADMSG)
				gerr(g, "truncated gzip member %zu at offset %llu (the file shrank)", k, (unsigned long long)pos);
			return r;
		}
		if (get32(tr + 4) != uz) {
			gerr(g, "gzip member %zu at offset %llu: its trailer's length %u differs from its header's %u",
			     k, (unsigned long long)pos, get32(tr + 4), uz);
			return -EBADMSG;
		}
		if (g->nm == cap) {
			cap = cap ? cap * 2 : 64;
			gz_member *n = realloc(g->m, cap * sizeof(*n));
			if (!n)
				return -ENOMEM;
			g->m = n;
		}
		g->m[g->nm++] = (gz_member){ .off = pos, .ustart = us, .csize = cs, .usize = uz };
		pos += cs;
		us += uz;
	}
	if (!g->nm) {
		gerr(g, "empty file");
		return -EBADMSG;
	}
	if (us != g->usize) {
		gerr(g, "the members hold %llu bytes of a %llu-byte core: the file is cut short at a member's end",
		     (unsigned long long)us, (unsigned long long)g->usize);
		return -EBADMSG;
	}
	return 0;
}

/* the first load ending after @addr */
static size_t load_after(const gz_src *g, uint64_t addr)
{
	size_t lo = 0, hi = g->nld;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (g->ld[mid].vaddr + g->ld[mid].memsz <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The canonical notes: pid, auxv, and the file names of NT_FILE put on the loads. */
static int scan_notes(gz_src *g)
{
	const uint8_t *p = g->notes;
	size_t len = g->notes_len, off = 0;
	const uint8_t *nt_file = NULL;
	size_t nt_file_len = 0;
	bool have_pid = false;
	while (off < len) {
		if (len - off < 12) {
			gerr(g, "truncated note at note offset %zu", off);
			return -EBADMSG;
		}
		uint32_t nsz = get32(p + off), dsz = get32(p + off + 4), type = get32(p + off + 8);
		uint64_t na = align_up(nsz, 4), da = align_up(dsz, 4);
		if (na > len - off - 12 || da > len - off - 12 - na) {
			gerr(g, "note at note offset %zu runs past the note segment", off);
			return -EBADMSG;
		}
		const char *name = (const char *)p + off + 12;
		const uint8_t *desc = p + off + 12 + na;
		bool core = nsz == 5 && !memcmp(name, "CORE", 5);
		if (core && type == NT_PRSTATUS && !have_pid && dsz >= 36) {
			int32_t pid;
			memcpy(&pid, desc + 32, 4);
			g->pid = pid;
			have_pid = true;
		} else if (core && type == NT_AUXV && !g->auxv) {
			g->auxv = desc;
			g->auxv_len = dsz;
		} else if (core && type == NT_FILE && !nt_file) {
			nt_file = desc;
			nt_file_len = dsz;
		}
		off += 12 + na + da;
	}
	/* NT_FILE: count, page size, count × (start, end, page offset), count NUL-terminated names */
	if (nt_file) {
		if (nt_file_len < 16) {
			gerr(g, "NT_FILE note too short");
			return -EBADMSG;
		}
		uint64_t cnt = get64(nt_file), psz = get64(nt_file + 8);
		if (cnt > (nt_file_len - 16) / 24 || (cnt && (psz == 0 || (psz & (psz - 1)) || psz > (1u << 30)))) {
			gerr(g, "NT_FILE note has a bad count (%llu) or page size (%llu)", (unsigned long long)cnt,
			     (unsigned long long)psz);
			return -EBADMSG;
		}
		const char *nm = (const char *)nt_file + 16 + cnt * 24, *nend = (const char *)nt_file + nt_file_len;
		uint64_t used_end = 0;
		for (uint64_t i = 0; i < cnt; i++) {
			const char *z = memchr(nm, 0, (size_t)(nend - nm));
			if (!z) {
				gerr(g, "NT_FILE note: name %llu is not terminated", (unsigned long long)i);
				return -EBADMSG;
			}
			const uint8_t *e = nt_file + 16 + i * 24;
			uint64_t s = get64(e), en = get64(e + 8), pg = get64(e + 16);
			/* entries overlapping an earlier one are skipped, as elfcore.c's name_loads()
			 * explains: an export and the core it expands to use the same ones */
			bool use = s >= used_end && en > s;
			if (use)
				used_end = en;
			size_t j = use ? load_after(g, s) : g->nld;
			if (j < g->nld && g->ld[j].vaddr == s && g->ld[j].vaddr + g->ld[j].memsz == en) {
				g->ld[j].name = nm;
				g->ld[j].pgoff = pg <= UINT64_MAX / psz ? pg * psz : 0;
			}
			nm = z + 1;
		}
	}
	/* the vDSO is the mapping at AT_SYSINFO_EHDR */
	for (size_t i = 0; i + 16 <= g->auxv_len; i += 16)
		if (get64(g->auxv + i) == AT_SYSINFO_EHDR) {
			size_t j = load_after(g, get64(g->auxv + i + 8));
			if (j < g->nld && g->ld[j].vaddr == get64(g->auxv + i + 8) && !g->ld[j].name)
				g->ld[j].name = "[vdso]";
			break;
		}
	/* [stack] where the main thread's stack pointer is, as for the same core unpacked
	 * (elfcore.c); notes the register decoder cannot read just leave it unnamed */
	ml_core_info *ci = NULL;
	if (ml_core_info_parse(g->notes, g->notes_len, g->machine, &ci) == 0) {
		for (size_t t = 0; t < ci->nthreads; t++) {
			const ml_core_thread *th = &ci->threads[t];
			if (th->tid != ci->pid || !th->have_regs)
				continue;
			size_t j = load_after(g, th->sp);
			if (j < g->nld && g->ld[j].vaddr <= th->sp && !g->ld[j].name)
				g->ld[j].name = "[stack]";
			break;
		}
		ml_core_info_free(ci);
	}
	return 0;
}

static int build_maps(gz_src *g)
{
	ml_buf b = {0};
	int r = 0;
	for (size_t i = 0; i < g->nld && r == 0; i++) {
		const gz_load *l = &g->ld[i];
		r = snap_maps_line(&b, l->vaddr, l->memsz, l->flags, l->pgoff, l->name, l->name ? strlen(l->name) : 0);
	}
	if (r < 0) {
		ml_buf_free(&b);
		return r;
	}
	g->maps = b.data;
	g->maps_len = b.len;
	return 0;
}

/* Why PT_LOAD @p cannot be a mapping of the core, or NULL; @prev_end: where the load
 * before it ends (NULL for the first). */
static const char *load_fault(const gz_src *g, const Elf64_Phdr *p, const uint64_t *prev_end)
{
	if (p->p_memsz == 0 || (p->p_vaddr & (SNAP_CORE_ALIGN - 1)) || (p->p_memsz & (SNAP_CORE_ALIGN - 1)))
		return "is empty or not page-aligned";
	if (p->p_vaddr + p->p_memsz < p->p_vaddr)
		return "wraps around the address space";
	if (p->p_filesz > p->p_memsz)
		return "has more file bytes than memory";
	if (p->p_offset > g->usize || p->p_filesz > g->usize - p->p_offset)
		return "has data past the end of the core";
	if (prev_end && p->p_vaddr < *prev_end)
		return "is out of order or overlaps the previous one";
	return NULL;
}

/* The ELF core inside: header, program headers, notes; the loads become the mappings.
 * A core may have 2^24 program headers: they are read GZ_PH_PIECE at a time (a small
 * export must not make its reader allocate for every header it claims), once to hash them
 * for the export id and check and count the PT_LOADs, once to keep the loads. */
static int scan_core(gz_src *g)
{
	uint8_t eh[sizeof(Elf64_Ehdr)];
	if (g->usize < sizeof(eh)) {
		gerr(g, "the expanded core is too short for an ELF header");
		return -EBADMSG;
	}
	int r = core_read(g, 0, eh, sizeof(eh));
	if (r < 0)
		return r;
	Elf64_Ehdr e;
	memcpy(&e, eh, sizeof(e));
	if (!snap_ehdr_is_core64(&e)) {
		gerr(g, "the expanded core is not a 64-bit little-endian ELF core");
		return -EBADMSG;
	}
	g->machine = e.e_machine;
	if (e.e_phoff != sizeof(Elf64_Ehdr) || e.e_phentsize != sizeof(Elf64_Phdr) || e.e_phnum == 0) {
		gerr(g, "the expanded core's program header table is not where a core has it");
		return -EBADMSG;
	}
	uint64_t phnum = e.e_phnum;
	if (phnum == PN_XNUM) {
		Elf64_Shdr sh;
		if (e.e_shoff > g->usize || sizeof(sh) > g->usize - e.e_shoff || e.e_shentsize != sizeof(sh)) {
			gerr(g, "the expanded core's section header (holding its program header count) is out of bounds");
			return -EBADMSG;
		}
		if ((r = core_read(g, e.e_shoff, &sh, sizeof(sh))) < 0)
			return r;
		phnum = sh.sh_info;
	}
	if (phnum < 1 || phnum > GZ_MAX_PHNUM || phnum * sizeof(Elf64_Phdr) > g->usize - e.e_phoff) {
		gerr(g, "the expanded core has an impossible program header count %llu", (unsigned long long)phnum);
		return -EBADMSG;
	}
	/* the notes follow the program headers (the kernel's layout, which the export id's
	 * hash covers as one run of bytes) */
	uint64_t notes_off = e.e_phoff + phnum * sizeof(Elf64_Phdr);
	Elf64_Phdr nh;
	if ((r = core_read(g, e.e_phoff, &nh, sizeof(nh))) < 0)
		return r;
	if (nh.p_type != PT_NOTE || nh.p_offset > g->usize || nh.p_filesz > g->usize - nh.p_offset ||
	    nh.p_filesz > SNAP_MAX_NOTE) {
		gerr(g, "the expanded core's first program header is not an in-bounds PT_NOTE");
		return -EBADMSG;
	}
	if (nh.p_offset != notes_off) {
		gerr(g, "the expanded core's PT_NOTE is at offset %llu, not right after its %llu program headers "
			"(offset %llu) where a core has its notes",
		     (unsigned long long)nh.p_offset, (unsigned long long)phnum, (unsigned long long)notes_off);
		return -EBADMSG;
	}
	Elf64_Phdr *ph = malloc(GZ_PH_PIECE * sizeof(*ph));
	if (!ph)
		return -ENOMEM;
	/* the export's id is the start of the SHA-256 of everything before the core's data:
	 * ELF header, program headers, notes, padding */
	ml__sha256 hh;
	ml__sha256_init(&hh);
	ml__sha256_update(&hh, eh, sizeof(eh));
	/* Only valid loads are counted: identical PT_LOADs, which compress to almost
	 * nothing, must not size the array either. The first bad one is reported once the
	 * id says these members belong together. */
	uint64_t nload = 0, last_end = 0, bad_at = 0, bad_vaddr = 0;
	const char *bad_why = NULL;
	for (uint64_t i = 0; i < phnum; i += GZ_PH_PIECE) {
		size_t n = (size_t)ML_MIN((uint64_t)GZ_PH_PIECE, phnum - i);
		if ((r = core_read(g, e.e_phoff + i * sizeof(*ph), ph, n * sizeof(*ph))) < 0)
			goto out;
		ml__sha256_update(&hh, ph, n * sizeof(*ph));
		for (size_t k = i ? 0 : 1; k < n && !bad_why; k++) {
			if (ph[k].p_type != PT_LOAD)
				continue;
			if ((bad_why = load_fault(g, &ph[k], nload ? &last_end : NULL))) {
				bad_at = i + k;
				bad_vaddr = ph[k].p_vaddr;
			}
			nload++;
			last_end = ph[k].p_vaddr + ph[k].p_memsz;
		}
	}
	g->notes_len = nh.p_filesz;
	g->notes = malloc(g->notes_len ? g->notes_len : 1);
	if (!g->notes) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = core_read(g, notes_off, g->notes, g->notes_len)) < 0)
		goto out;
	ml__sha256_update(&hh, g->notes, g->notes_len);
	uint64_t notes_end = notes_off + g->notes_len, head = align_up(notes_end, SNAP_CORE_ALIGN);
	if (head > g->usize)
		head = g->usize;
	uint8_t pad[SNAP_CORE_ALIGN];
	if ((r = core_read(g, notes_end, pad, (size_t)(head - notes_end))) < 0)
		goto out;
	ml__sha256_update(&hh, pad, (size_t)(head - notes_end));
	uint8_t d[32];
	ml__sha256_final(&hh, d);
	if (get64(d) != g->id) {
		gerr(g, "the members' export id does not match the core's headers and notes: members of another export");
		r = -EBADMSG;
		goto out;
	}
	if (bad_why) {
		gerr(g, "PT_LOAD %llu at 0x%llx %s", (unsigned long long)bad_at, (unsigned long long)bad_vaddr, bad_why);
		r = -EBADMSG;
		goto out;
	}
	g->ld = calloc(nload ? nload : 1, sizeof(*g->ld));
	if (!g->ld) {
		r = -ENOMEM;
		goto out;
	}
	for (uint64_t i = 0; i < phnum; i += GZ_PH_PIECE) {
		size_t n = (size_t)ML_MIN((uint64_t)GZ_PH_PIECE, phnum - i);
		if ((r = core_read(g, e.e_phoff + i * sizeof(*ph), ph, n * sizeof(*ph))) < 0)
			goto out;
		for (size_t k = i ? 0 : 1; k < n; k++) {
			const Elf64_Phdr *p = &ph[k];
			if (p->p_type != PT_LOAD)
				continue;
			/* checked again: the members are read again, and must not have changed */
			uint64_t prev = g->nld ? g->ld[g->nld - 1].vaddr + g->ld[g->nld - 1].memsz : 0;
			const char *why = g->nld == nload ? "was not there when the program headers were counted"
							  : load_fault(g, p, g->nld ? &prev : NULL);
			if (why) {
				gerr(g, "PT_LOAD %llu at 0x%llx %s", (unsigned long long)(i + k),
				     (unsigned long long)p->p_vaddr, why);
				r = -EBADMSG;
				goto out;
			}
			g->ld[g->nld++] = (gz_load){ .vaddr = p->p_vaddr, .memsz = p->p_memsz, .filesz = p->p_filesz,
						     .offset = p->p_offset, .flags = p->p_flags };
		}
	}
	r = 0;
out:
	free(ph);
	if (r < 0)
		return r;
	if ((r = scan_notes(g)) < 0)
		return r;
	return build_maps(g);
}

static void gs_free(void *impl)
{
	gz_src *g = impl;
	if (!g)
		return;
	if (g->fd >= 0)
		close(g->fd);
	pthread_mutex_destroy(&g->mu);
	free(g->m);
	free(g->notes);
	free(g->ld);
	free(g->maps);
	free(g->cache);
	if (tls_owner == g)
		tls_owner = NULL;
	free(g);
}

static pid_t gs_pid(const void *impl) { return ((const gz_src *)impl)->pid; }

static int gs_maps(const void *impl, ml_maps **ret)
{
	const gz_src *g = impl;
	return ml_maps_parse(g->maps ? g->maps : "", g->maps_len, ret);
}

static int gs_read_file(const void *impl, const char *name, char **ret, size_t *ret_len)
{
	const gz_src *g = impl;
	/* the expanded core keeps the kernel's notes only: no saved /proc files but auxv */
	if (strcmp(name, "auxv") || !g->auxv)
		return -ENOENT;
	char *b = malloc(g->auxv_len + 1);
	if (!b)
		return -ENOMEM;
	memcpy(b, g->auxv, g->auxv_len);
	b[g->auxv_len] = 0;
	*ret = b;
	if (ret_len)
		*ret_len = g->auxv_len;
	return 0;
}

static ssize_t gs_runs(const void *impl, uint64_t start, uint64_t end, unsigned flags,
		       ml_run *vec, size_t n, uint64_t *next)
{
	(void)flags; /* an expanded core does not say which stored pages are zero */
	const gz_src *g = impl;
	size_t cnt = 0;
	for (size_t i = load_after(g, start); i < g->nld && g->ld[i].vaddr < end; i++) {
		const gz_load *l = &g->ld[i];
		uint64_t bounds[3] = { l->vaddr, l->vaddr + l->filesz, l->vaddr + l->memsz };
		for (int part = 0; part < 2; part++) {
			uint64_t rs = ML_MAX(bounds[part], start), re = ML_MIN(bounds[part + 1], end);
			if (rs >= re)
				continue;
			if (cnt == n) {
				*next = rs;
				return (ssize_t)cnt;
			}
			vec[cnt++] = (ml_run){ rs, re, part ? ML_RUN_EXCLUDED : ML_RUN_DATA };
		}
	}
	*next = end;
	return (ssize_t)cnt;
}

static ssize_t gs_read(const void *impl, uint64_t addr, void *buf, size_t len, unsigned flags)
{
	(void)flags;
	const gz_src *g = impl;
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	size_t i = load_after(g, addr);
	if (i >= g->nld || g->ld[i].vaddr > addr) {
		gerr(g, "0x%llx is not in a mapping of the core", (unsigned long long)addr);
		return -EFAULT;
	}
	uint8_t *out = buf;
	size_t done = 0;
	uint64_t cur = addr;
	while (done < len && i < g->nld && g->ld[i].vaddr <= cur) {
		const gz_load *l = &g->ld[i];
		uint64_t in = cur - l->vaddr;
		size_t t = (size_t)ML_MIN((uint64_t)(len - done), l->memsz - in);
		size_t d = in < l->filesz ? (size_t)ML_MIN((uint64_t)t, l->filesz - in) : 0;
		if (d) {
			size_t got;
			int r = core_read_part(g, l->offset + in, out + done, d, &got);
			if (r < 0 && r == -EBADMSG && done + got)
				return (ssize_t)(done + got); /* the good prefix; the next read names the member */
			if (r < 0)
				return r;
		}
		memset(out + done + d, 0, t - d);
		done += t;
		cur += t;
		if (cur == l->vaddr + l->memsz)
			i++;
		if (cur == 0)
			break;
	}
	return (ssize_t)done;
}

static int gs_damage(const void *impl, uint64_t addr, uint64_t *ret_lo, uint64_t *ret_hi)
{
	const gz_src *g = impl;
	size_t i = load_after(g, addr);
	if (i >= g->nld || g->ld[i].vaddr > addr || addr - g->ld[i].vaddr >= g->ld[i].filesz)
		return -ENOENT;
	const gz_load *l = &g->ld[i];
	size_t k = member_at(g, l->offset + (addr - l->vaddr));
	int r = member_inflate(g, k, 0, NULL, 0);
	if (r == 0)
		return -ENOENT;
	if (r != -EBADMSG)
		return r;
	/* the member's bytes of this load's data, as addresses */
	uint64_t ms = g->m[k].ustart, me = ms + g->m[k].usize;
	uint64_t ds = ML_MAX(ms, l->offset), de = ML_MIN(me, l->offset + l->filesz);
	*ret_lo = l->vaddr + (ds - l->offset);
	*ret_hi = l->vaddr + (de - l->offset);
	return 0;
}

static const char *gs_error(const void *impl) { return tls_owner == impl ? tls_err : ""; }

static int gs_notes(const void *impl, const uint8_t **ret, size_t *ret_len, uint16_t *machine)
{
	const gz_src *g = impl;
	*ret = g->notes;
	*ret_len = g->notes_len;
	*machine = g->machine;
	return 0;
}

static const ml_source_ops gz_ops = {
	.free = gs_free,
	.pid = gs_pid,
	.maps = gs_maps,
	.read_file = gs_read_file,
	.runs = gs_runs,
	.read = gs_read,
	.error = gs_error,
	.damage = gs_damage,
	.notes = gs_notes,
};

int snap_gz_source_open_fd(int fd, ml_source **ret, char **ret_msg)
{
	int lr = ml__dl_load();
	if (lr < 0) {
		if (ret_msg)
			*ret_msg = strdup(ml_error_detail());
		close(fd);
		return lr;
	}
	gz_src *g = calloc(1, sizeof(*g));
	if (!g) {
		close(fd);
		return -ENOMEM;
	}
	g->fd = fd;
	pthread_mutex_init(&g->mu, NULL);
	struct stat st;
	int r = fstat(fd, &st) < 0 ? ml_neg_errno() : 0;
	if (r == 0 && !S_ISREG(st.st_mode)) {
		gerr(g, "a gzip export must be a regular file to be seekable (use zcat for a stream)");
		r = -EINVAL;
	}
	if (r == 0)
		r = scan_members(g, (uint64_t)st.st_size);
	if (r == 0)
		r = scan_core(g);
	if (r < 0) {
		if (ret_msg)
			*ret_msg = strdup(tls_owner == g ? tls_err : ml_strerror(r));
		gs_free(g);
		return r;
	}
	return ml__source_new(ML_SOURCE_SNAPSHOT, &gz_ops, g, NULL, ret);
}
