/* The ml_source backend for ELF core files (the kernel's, gcore's, memlens's expanded ones), plain or compressed. */
#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal/source_impl.h"
#include "snapshot/decomp.h"
#include "snapshot/snap.h"
#define ML__DL_REDIRECT
#include "internal/dl.h"
#include <memlens/coreinfo.h>

#define EC_MAX_PHNUM (1u << 24)   /* the kernel's own limit is 65535 + PN_XNUM extension */
#define EC_MAX_NOTES (256u << 20)

typedef struct ec_load {
	uint64_t vaddr, memsz;
	uint64_t filesz;   /* p_filesz: captured bytes from vaddr */
	uint64_t avail;    /* of which present in the file (less when it is truncated) */
	uint64_t offset;
	uint32_t flags;
	uint64_t pgoff;
	const char *name;  /* NUL-terminated (in the notes copy, or a literal), or NULL */
	size_t name_len;
} ec_load;

typedef struct elfcore {
	int fd;
	uint64_t fsize;
	uint16_t machine;
	uint8_t *notes;
	size_t notes_len;
	ml_core_info *ci;
	ec_load *ld;
	size_t nld;
	char *maps;
	size_t maps_len;
	char *partial;     /* why it is incomplete, or NULL */
	char *notice;      /* the cost of reading it, or NULL */
	bool sparse_ok;    /* SEEK_DATA works on fd */
} elfcore;

static __thread const elfcore *tls_owner;
static __thread char tls_err[320];

static void eerr(const elfcore *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void eerr(const elfcore *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tls_err, sizeof(tls_err), fmt, ap);
	va_end(ap);
	tls_owner = c;
}

bool snap_is_mlcore(int fd)
{
	Elf64_Ehdr e;
	if (snap_pread_all(fd, &e, sizeof(e), 0) < 0 || !snap_ehdr_is_core64(&e) ||
	    e.e_phentsize != sizeof(Elf64_Phdr) || e.e_phnum == 0 || e.e_phnum > 16)
		return false;
	Elf64_Phdr ph[16];
	if (snap_pread_all(fd, ph, e.e_phnum * sizeof(Elf64_Phdr), e.e_phoff) < 0)
		return false;
	for (unsigned i = 0; i < e.e_phnum; i++)
		if (ph[i].p_type == SNAP_PT_INDEX || ph[i].p_type == SNAP_PT_DATA)
			return true;
	return false;
}

static void ec_free(void *impl)
{
	elfcore *c = impl;
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->notes);
	ml_core_info_free(c->ci);
	free(c->ld);
	free(c->maps);
	free(c->partial);
	free(c->notice);
	if (tls_owner == c)
		tls_owner = NULL;
	free(c);
}

/* the first load ending after @addr */
static size_t load_after(const elfcore *c, uint64_t addr)
{
	size_t lo = 0, hi = c->nld;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->ld[mid].vaddr + c->ld[mid].memsz <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int cmp_load(const void *a, const void *b)
{
	const ec_load *x = a, *y = b;
	return x->vaddr < y->vaddr ? -1 : x->vaddr > y->vaddr;
}

/*
 * Names from NT_FILE (each load inside a listed mapping), [vdso] from AT_SYSINFO_EHDR,
 * [stack] where the main thread's stack pointer is.
 *
 * The kernel (and gdb's gcore) write NT_FILE in address order, one entry per file-backed
 * mapping, so entries never overlap. An entry that starts before the end of the last one
 * used is ignored (an empty or inverted one names nothing): crafted entries each covering
 * the whole address space would otherwise walk every load each (entries x loads). Each
 * entry used visits the loads inside it, which no other entry used contains, and at most
 * two it shares with a neighbour: O(entries log loads + loads) in all. gzsource.c skips
 * the same entries, so an export and the core it expands to use the same ones.
 */
static void name_loads(elfcore *c)
{
	const ml_core_info *ci = c->ci;
	uint64_t used_end = 0;
	for (size_t i = 0; i < ci->nfiles; i++) {
		const ml_core_file *f = &ci->files[i];
		if (f->start < used_end || f->end <= f->start)
			continue;
		used_end = f->end;
		for (size_t j = load_after(c, f->start); j < c->nld && c->ld[j].vaddr < f->end; j++) {
			ec_load *l = &c->ld[j];
			if (l->vaddr < f->start || l->vaddr + l->memsz > f->end)
				continue;
			l->name = f->name;
			l->name_len = f->name_len;
			l->pgoff = f->offset + (l->vaddr - f->start);
		}
	}
	for (size_t i = 0; ci->auxv && i + 16 <= ci->auxv_len; i += 16) {
		uint64_t t, v;
		memcpy(&t, ci->auxv + i, 8);
		memcpy(&v, ci->auxv + i + 8, 8);
		if (t == AT_NULL)
			break;
		if (t != AT_SYSINFO_EHDR)
			continue;
		size_t j = load_after(c, v);
		if (j < c->nld && c->ld[j].vaddr == v && !c->ld[j].name) {
			c->ld[j].name = "[vdso]";
			c->ld[j].name_len = 6;
		}
	}
	for (size_t t = 0; t < ci->nthreads; t++) {
		const ml_core_thread *th = &ci->threads[t];
		if (th->tid != ci->pid || !th->have_regs)
			continue;
		size_t j = load_after(c, th->sp);
		if (j < c->nld && c->ld[j].vaddr <= th->sp && !c->ld[j].name) {
			c->ld[j].name = "[stack]";
			c->ld[j].name_len = 7;
		}
		break;
	}
}

static int build_maps(elfcore *c)
{
	ml_buf b = {0};
	int r = 0;
	for (size_t i = 0; i < c->nld && r == 0; i++) {
		const ec_load *l = &c->ld[i];
		r = snap_maps_line(&b, l->vaddr, l->memsz, l->flags, l->pgoff, l->name, l->name_len);
	}
	if (r < 0) {
		ml_buf_free(&b);
		return r;
	}
	c->maps = b.data;
	c->maps_len = b.len;
	return 0;
}

static void fmt_size(char *b, size_t n, uint64_t v)
{
	if (v >= (1ull << 30))
		snprintf(b, n, "%.1f GiB", (double)v / (double)(1ull << 30));
	else if (v >= (1u << 20))
		snprintf(b, n, "%.1f MiB", (double)v / (double)(1u << 20));
	else if (v >= 1024)
		snprintf(b, n, "%.1f KiB", (double)v / 1024.0);
	else
		snprintf(b, n, "%llu bytes", (unsigned long long)v);
}

/* Whether the notes hold one owned by MEMLENS: only a snapshot has those (an expanded core
 * holds the canonical notes alone). */
static bool has_memlens_note(const uint8_t *n, size_t len)
{
	size_t off = 0;
	while (len - off >= 12) {
		uint32_t nsz, dsz;
		memcpy(&nsz, n + off, 4);
		memcpy(&dsz, n + off + 4, 4);
		size_t name = off + 12;
		if (nsz == 8 && len - name >= 8 && !memcmp(n + name, "MEMLENS", 8))
			return true;
		uint64_t step = 12 + (((uint64_t)nsz + 3) & ~3ull) + (((uint64_t)dsz + 3) & ~3ull);
		if (step > len - off)
			break;
		off += (size_t)step;
	}
	return false;
}

/* headers, segments and notes; @stream_why: why a decompressed stream stopped early, or "" */
static int scan(elfcore *c, const char *stream_why)
{
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EIO;
	/* The first bytes, as many as there are: a file shorter than an ELF header is told
	 * by what it starts with, never by bytes that were not read. */
	uint8_t id[EI_NIDENT] = { 0 };
	size_t head = c->fsize < sizeof(id) ? (size_t)c->fsize : sizeof(id);
	bool have = head && snap_pread_all(c->fd, id, head, 0) == 0;
	if (c->fsize < sizeof(Elf64_Ehdr) || !have || memcmp(id, ELFMAG, SELFMAG)) {
		if (*stream_why)
			eerr(c, "%s, before the ELF header", stream_why);
		else if (have && head >= SELFMAG && !memcmp(id, ELFMAG, SELFMAG))
			eerr(c, "too short for an ELF header (%llu bytes): truncated", (unsigned long long)c->fsize);
		else
			eerr(c, "not an ELF file, nor a compressed one: neither a memlens snapshot nor a core (plain, zstd, LZ4, xz or gzip)");
		return -EBADMSG;
	}
	if (id[EI_CLASS] != ELFCLASS64 || id[EI_DATA] != ELFDATA2LSB) {
		eerr(c, "a %s-bit %s-endian ELF file: only 64-bit little-endian cores are read", id[EI_CLASS] == ELFCLASS32 ? "32" : "?",
		     id[EI_DATA] == ELFDATA2MSB ? "big" : "little");
		return -EBADMSG;
	}
	Elf *e = elf_begin(c->fd, ELF_C_READ, NULL);
	int r = 0;
	Elf64_Phdr *ph = NULL;
	if (!e || elf_kind(e) != ELF_K_ELF) {
		eerr(c, "libelf cannot read it: %s", elf_errmsg(-1));
		r = -EBADMSG;
		goto out;
	}
	GElf_Ehdr eh;
	if (!gelf_getehdr(e, &eh)) {
		eerr(c, "bad ELF header: %s", elf_errmsg(-1));
		r = -EBADMSG;
		goto out;
	}
	if (eh.e_type != ET_CORE) {
		eerr(c, "an ELF file but not a core (ELF type %u)", eh.e_type);
		r = -EBADMSG;
		goto out;
	}
	c->machine = eh.e_machine;
	size_t phnum = 0;
	if (eh.e_phnum == PN_XNUM) {
		/* the real count is in section header 0: check it is in the file before libelf reads it */
		if (eh.e_shoff > c->fsize || c->fsize - eh.e_shoff < sizeof(Elf64_Shdr)) {
			eerr(c, "the section header holding the program header count (offset %llu) is past the end of the file",
			     (unsigned long long)eh.e_shoff);
			r = -EBADMSG;
			goto out;
		}
	}
	if (elf_getphdrnum(e, &phnum) < 0) {
		eerr(c, "no program header count: %s", elf_errmsg(-1));
		r = -EBADMSG;
		goto out;
	}
	if (phnum == 0 || phnum > EC_MAX_PHNUM || eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phoff > c->fsize ||
	    (c->fsize - eh.e_phoff) / sizeof(Elf64_Phdr) < phnum) {
		if (*stream_why)
			eerr(c, "%s, within its program headers", stream_why);
		else
			eerr(c, "its program header table (%zu entries of %u bytes at offset %llu) is %s", phnum,
			     eh.e_phentsize, (unsigned long long)eh.e_phoff,
			     phnum == 0 ? "empty" : phnum > EC_MAX_PHNUM ? "impossibly large" :
			     eh.e_phentsize != sizeof(Elf64_Phdr) ? "of the wrong entry size" :
			     "past the end of the file (truncated)");
		r = -EBADMSG;
		goto out;
	}
	ph = malloc(phnum * sizeof(*ph));
	c->ld = calloc(phnum, sizeof(*c->ld));
	if (!ph || !c->ld) {
		r = -ENOMEM;
		goto out;
	}
	uint64_t notes_total = 0;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr p;
		if (!gelf_getphdr(e, (int)i, &p)) {
			eerr(c, "program header %zu unreadable: %s", i, elf_errmsg(-1));
			r = -EBADMSG;
			goto out;
		}
		ph[i] = p;
		if (p.p_type == PT_NOTE) {
			if (p.p_offset > c->fsize || p.p_filesz > c->fsize - p.p_offset) {
				if (*stream_why)
					eerr(c, "%s, within its notes", stream_why);
				else
					eerr(c, "its notes (offset %llu, %llu bytes) run past the end of the file (%llu bytes): truncated",
					     (unsigned long long)p.p_offset, (unsigned long long)p.p_filesz,
					     (unsigned long long)c->fsize);
				r = -EBADMSG;
				goto out;
			}
			notes_total += p.p_filesz;
			if (notes_total > EC_MAX_NOTES) {
				eerr(c, "its notes are impossibly large (%llu bytes)", (unsigned long long)notes_total);
				r = -EBADMSG;
				goto out;
			}
		}
	}
	c->notes = malloc(notes_total ? notes_total : 1);
	if (!c->notes) {
		r = -ENOMEM;
		goto out;
	}
	uint64_t missing = 0;
	size_t cut = 0;
	for (size_t i = 0; i < phnum; i++) {
		const Elf64_Phdr *p = &ph[i];
		if (p->p_type == PT_NOTE) {
			if ((r = snap_pread_all(c->fd, c->notes + c->notes_len, p->p_filesz, p->p_offset)) < 0) {
				/* snap_pread_all() says -EBADMSG for the end of the file: it shrank */
				eerr(c, "reading its notes: %s", r == -EBADMSG ? "the file ends before them (it shrank)" : ml_strerror(r));
				goto out;
			}
			c->notes_len += p->p_filesz;
			continue;
		}
		if (p->p_type != PT_LOAD || p->p_memsz == 0)
			continue;
		const char *why = NULL;
		if (p->p_vaddr + p->p_memsz < p->p_vaddr)
			why = "wraps around the address space";
		else if (p->p_filesz > p->p_memsz)
			why = "has more file bytes than memory (p_filesz > p_memsz)";
		else if (p->p_offset + p->p_filesz < p->p_offset)
			why = "has a file range that wraps around";
		if (why) {
			eerr(c, "PT_LOAD %zu at 0x%llx %s", i, (unsigned long long)p->p_vaddr, why);
			r = -EBADMSG;
			goto out;
		}
		ec_load *l = &c->ld[c->nld++];
		*l = (ec_load){ .vaddr = p->p_vaddr, .memsz = p->p_memsz, .filesz = p->p_filesz, .avail = p->p_filesz,
				.offset = p->p_offset, .flags = p->p_flags };
		if (p->p_filesz && (p->p_offset >= c->fsize || p->p_filesz > c->fsize - p->p_offset)) {
			l->avail = p->p_offset >= c->fsize ? 0 : c->fsize - p->p_offset;
			missing += l->filesz - l->avail;
			cut++;
		}
	}
	/* A snapshot whose ELF or program headers are damaged no longer shows its data and index
	 * segments, so it comes here: read as a core it would be a process without memory
	 * (maps: 0 mappings, exit 0; grep: silently "no match"). Its own notes give it away; and
	 * no core of a process lacks memory segments. */
	if (has_memlens_note(c->notes, c->notes_len)) {
		eerr(c, "a memlens snapshot whose ELF header or program headers are damaged: its data and index "
			"segments are not where they must be");
		r = -EBADMSG;
		goto out;
	}
	if (c->nld == 0) {
		eerr(c, "no memory segment (PT_LOAD) in it: not the core of a process, or its program headers are damaged");
		r = -EBADMSG;
		goto out;
	}
	qsort(c->ld, c->nld, sizeof(*c->ld), cmp_load);
	for (size_t i = 1; i < c->nld; i++)
		if (c->ld[i].vaddr < c->ld[i - 1].vaddr + c->ld[i - 1].memsz) {
			eerr(c, "its segments overlap: PT_LOAD at 0x%llx-0x%llx and 0x%llx-0x%llx",
			     (unsigned long long)c->ld[i - 1].vaddr,
			     (unsigned long long)(c->ld[i - 1].vaddr + c->ld[i - 1].memsz),
			     (unsigned long long)c->ld[i].vaddr, (unsigned long long)(c->ld[i].vaddr + c->ld[i].memsz));
			r = -EBADMSG;
			goto out;
		}
	if ((r = ml_core_info_parse(c->notes, c->notes_len, c->machine, &c->ci)) < 0) {
		eerr(c, "its notes are malformed (a note runs past its segment, a CORE note is too short, or NT_FILE is bad)");
		goto out;
	}
	if (cut) {
		char sz[32], msg[512];
		fmt_size(sz, sizeof(sz), missing);
		if (*stream_why)
			snprintf(msg, sizeof(msg), "%s: %zu of its %zu segments (%s of memory) are missing and read as unreadable",
				 stream_why, cut, c->nld, sz);
		else
			snprintf(msg, sizeof(msg), "the file is truncated: it ends at %llu bytes, before %zu of its %zu segments "
				 "(%s of memory), which read as unreadable", (unsigned long long)c->fsize, cut, c->nld, sz);
		c->partial = strdup(msg);
		if (!c->partial) {
			r = -ENOMEM;
			goto out;
		}
	} else if (*stream_why) {
		/* the stream stopped after everything the segments need: the memory is whole */
		char msg[400];
		snprintf(msg, sizeof(msg), "%s, after the last segment's data", stream_why);
		c->partial = strdup(msg);
		if (!c->partial) {
			r = -ENOMEM;
			goto out;
		}
	}
	name_loads(c);
	r = build_maps(c);
out:
	free(ph);
	if (e)
		elf_end(e);
	return r;
}

static pid_t ec_pid(const void *impl) { return ((const elfcore *)impl)->ci->pid; }

static int ec_maps(const void *impl, ml_maps **ret)
{
	const elfcore *c = impl;
	return ml_maps_parse(c->maps ? c->maps : "", c->maps_len, ret);
}

static int ec_read_file(const void *impl, const char *name, char **ret, size_t *ret_len)
{
	const elfcore *c = impl;
	/* the core holds no /proc files; auxv is a note, and maps is what the segments describe */
	const void *src = NULL;
	size_t n = 0;
	if (!strcmp(name, "auxv") && c->ci->auxv) {
		src = c->ci->auxv;
		n = c->ci->auxv_len;
	} else if (!strcmp(name, "maps")) {
		src = c->maps ? c->maps : "";
		n = c->maps_len;
	} else {
		return -ENOENT;
	}
	char *b = malloc(n + 1);
	if (!b)
		return -ENOMEM;
	memcpy(b, src, n);
	b[n] = 0;
	*ret = b;
	*ret_len = n;
	return 0;
}

/* Appends a run, merging with the previous one of the same kind when contiguous and @merge. */
static bool push(ml_run *vec, size_t n, size_t *cnt, bool merge, uint64_t s, uint64_t e, ml_run_kind k)
{
	if (merge && *cnt && vec[*cnt - 1].end == s && vec[*cnt - 1].kind == k) {
		vec[*cnt - 1].end = e;
		return true;
	}
	if (*cnt == n)
		return false;
	vec[(*cnt)++] = (ml_run){ s, e, k };
	return true;
}

/*
 * Runs of the stored part [s, e) of load @l: data, and with @split the holes of a sparse
 * file as zero (a hole is what the kernel leaves for a page it did not find present, and
 * what decompression leaves for a zero block: it reads as zeros, known).
 */
static bool data_runs(const elfcore *c, const ec_load *l, uint64_t s, uint64_t e, bool split, ml_run *vec,
		      size_t n, size_t *cnt, bool *merge, uint64_t *stop)
{
	if (!split || !c->sparse_ok) {
		if (!push(vec, n, cnt, *merge, s, e, ML_RUN_DATA)) {
			*stop = s;
			return false;
		}
		*merge = true;
		return true;
	}
	uint64_t pos = s;
	while (pos < e) {
		uint64_t fo = l->offset + (pos - l->vaddr), fe = l->offset + (e - l->vaddr);
		off_t d = lseek(c->fd, (off_t)fo, SEEK_DATA);
		uint64_t ds = d < 0 ? fe : ML_MIN((uint64_t)d, fe);
		uint64_t de = fe;
		if (ds < fe) {
			off_t h = lseek(c->fd, (off_t)ds, SEEK_HOLE);
			de = h < 0 ? fe : ML_MIN((uint64_t)h, fe);
		}
		if (ds > fo) {
			uint64_t a = pos, b = l->vaddr + (ds - l->offset);
			if (!push(vec, n, cnt, *merge, a, b, ML_RUN_ZERO)) {
				*stop = a;
				return false;
			}
			*merge = true;
			pos = b;
		}
		if (ds < de) {
			uint64_t a = l->vaddr + (ds - l->offset), b = l->vaddr + (de - l->offset);
			if (!push(vec, n, cnt, *merge, a, b, ML_RUN_DATA)) {
				*stop = a;
				return false;
			}
			*merge = true;
			pos = b;
		}
		if (ds >= fe)
			break;
	}
	return true;
}

static ssize_t ec_runs(const void *impl, uint64_t start, uint64_t end, unsigned flags, ml_run *vec, size_t n,
		       uint64_t *next)
{
	const elfcore *c = impl;
	size_t cnt = 0;
	if (!n)
		return -EINVAL;
	for (size_t i = load_after(c, start); i < c->nld && c->ld[i].vaddr < end; i++) {
		const ec_load *l = &c->ld[i];
		uint64_t b[4] = { l->vaddr, l->vaddr + l->avail, l->vaddr + l->filesz, l->vaddr + l->memsz };
		static const ml_run_kind kinds[3] = { ML_RUN_DATA, ML_RUN_UNREADABLE, ML_RUN_EXCLUDED };
		bool merge = false; /* runs never cross a mapping boundary */
		for (int part = 0; part < 3; part++) {
			uint64_t rs = ML_MAX(b[part], start), re = ML_MIN(b[part + 1], end);
			if (rs >= re)
				continue;
			uint64_t stop;
			if (part == 0) {
				if (!data_runs(c, l, rs, re, flags & ML_RUNS_SPLIT_ZERO, vec, n, &cnt, &merge, &stop)) {
					*next = stop;
					return (ssize_t)cnt;
				}
				continue;
			}
			if (!push(vec, n, &cnt, merge, rs, re, kinds[part])) {
				*next = rs;
				return (ssize_t)cnt;
			}
			merge = true;
		}
	}
	*next = end;
	return (ssize_t)cnt;
}

static ssize_t ec_read(const void *impl, uint64_t addr, void *buf, size_t len, unsigned flags)
{
	(void)flags; /* nothing in a core is swapped */
	const elfcore *c = impl;
	if (!len)
		return 0;
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	size_t i = load_after(c, addr);
	if (i >= c->nld || c->ld[i].vaddr > addr) {
		eerr(c, "0x%llx is not in a mapping of the core", (unsigned long long)addr);
		return -EFAULT;
	}
	uint8_t *out = buf;
	size_t done = 0;
	uint64_t cur = addr;
	while (done < len && i < c->nld) {
		const ec_load *l = &c->ld[i];
		uint64_t in = cur - l->vaddr;
		size_t t;
		if (in >= l->filesz) {
			/* Not captured (p_filesz < p_memsz): as ml_source_read() documents for what is
			 * not available, zeros that ml_source_read_runs() marks ML_RUN_EXCLUDED. */
			t = (size_t)ML_MIN((uint64_t)(len - done), l->memsz - in);
			memset(out + done, 0, t);
			goto advance;
		}
		if (in >= l->avail) {
			/* the file ends before what its header promises: never zeros for that */
			eerr(c, "0x%llx: the core file is truncated before this part of the mapping",
			     (unsigned long long)cur);
			break;
		}
		t = (size_t)ML_MIN((uint64_t)(len - done), l->avail - in);
		int r = snap_pread_all(c->fd, out + done, t, l->offset + in);
		if (r == -EBADMSG) {
			/* the end of the file: it shrank under us; what it still holds is read */
			struct stat st;
			uint64_t at = l->offset + in;
			size_t have = fstat(c->fd, &st) == 0 && (uint64_t)st.st_size > at ?
				      (size_t)ML_MIN((uint64_t)t, (uint64_t)st.st_size - at) : 0;
			if (have && snap_pread_all(c->fd, out + done, have, at) == 0) {
				done += have;
				cur += have;
			}
			eerr(c, "0x%llx: the core file ends before this part of the mapping (it shrank while open)",
			     (unsigned long long)cur);
			break;
		}
		if (r < 0) {
			eerr(c, "0x%llx: reading the core file: %s", (unsigned long long)cur, ml_strerror(r));
			return done ? (ssize_t)done : r;
		}
	advance:
		done += t;
		cur += t;
		if (cur != l->vaddr + l->memsz)
			continue; /* the rest of this load is not stored: the loop stops on it */
		if (cur == 0)
			break;
		i++;
		if (i < c->nld && c->ld[i].vaddr != cur)
			break; /* an unmapped gap ends the readable prefix */
	}
	if (done)
		return (ssize_t)done;
	return -EIO;
}

static const char *ec_error(const void *impl) { return tls_owner == impl ? tls_err : ""; }

static int ec_notes(const void *impl, const uint8_t **ret, size_t *ret_len, uint16_t *machine)
{
	const elfcore *c = impl;
	*ret = c->notes;
	*ret_len = c->notes_len;
	*machine = c->machine;
	return 0;
}

static const char *ec_partial(const void *impl) { return ((const elfcore *)impl)->partial; }
static const char *ec_notice(const void *impl) { return ((const elfcore *)impl)->notice; }

static const ml_source_ops core_ops = {
	.free = ec_free,
	.pid = ec_pid,
	.maps = ec_maps,
	.read_file = ec_read_file,
	.runs = ec_runs,
	.read = ec_read,
	.error = ec_error,
	.notes = ec_notes,
	.partial = ec_partial,
	.notice = ec_notice,
};

/* @max_out: the most a compressed core may decompress to (0: no limit; the fuzzer sets one) */
int ml__core_source_open_limit(int fd, uint64_t max_out, ml_source **ret, char **err_msg)
{
	int lr = ml__dl_load();
	if (lr < 0) {
		if (err_msg)
			*err_msg = strdup(ml_error_detail());
		close(fd);
		return lr;
	}
	elfcore *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->fd = fd;
	char why[256] = "";
	struct stat st;
	int r = fstat(fd, &st) < 0 ? ml_neg_errno() : 0;
	if (r == 0 && !S_ISREG(st.st_mode)) {
		eerr(c, "not a regular file (a core must be seekable: save a stream to a file first)");
		r = -EBADMSG;
	}
	if (r == 0) {
		c->fsize = (uint64_t)st.st_size;
		uint8_t h[8] = {0};
		ssize_t got = pread(fd, h, sizeof(h), 0);
		int codec = decomp_detect(h, got > 0 ? (size_t)got : 0);
		if (codec != DC_NONE) {
			int tfd;
			uint64_t tsz;
			r = decomp_to_tmp(fd, codec, max_out, &tfd, &tsz, why, sizeof(why));
			if (r < 0) {
				eerr(c, "%s-compressed: %s", decomp_name(codec), why);
				if (r == -EFBIG)
					r = -EBADMSG;
			} else {
				char sz[32], msg[400];
				fmt_size(sz, sizeof(sz), tsz);
				snprintf(msg, sizeof(msg), "%s-compressed: decompressed once into a temporary file "
					 "(%s, sparse) in %s, since it cannot be read at random; "
					 "`memlens core import` makes a seekable snapshot of it", decomp_name(codec), sz,
					 getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/var/tmp");
				c->notice = strdup(msg);
				close(fd);
				c->fd = tfd;
				c->fsize = tsz;
				if (r == 1) {
					char w2[sizeof(why)];
					/* a reason too long for the buffer is cut, never overrun */
					if (snprintf(w2, sizeof(w2), "%s-compressed: %s", decomp_name(codec), why) >= 0)
						memcpy(why, w2, sizeof(why));
				}
				r = c->notice ? 0 : -ENOMEM;
			}
		}
	}
	if (r == 0) {
		off_t d = lseek(c->fd, 0, SEEK_DATA);
		c->sparse_ok = d >= 0 || errno == ENXIO;
		r = scan(c, why);
	}
	if (r < 0) {
		if (err_msg)
			*err_msg = strdup(tls_owner == c ? tls_err : ml_strerror(r));
		ec_free(c);
		return r;
	}
	return ml__source_new(ML_SOURCE_CORE, &core_ops, c, NULL, ret);
}

int ml__core_source_open_fd(int fd, const char *path, ml_source **ret, char **err_msg)
{
	(void)path;
	return ml__core_source_open_limit(fd, 0, ret, err_msg);
}
