/* Synthetic address spaces with known contents, written as snapshots through the public writer API (shared by the snapshot tests). */
#ifndef MEMLENS_TEST_SNAPSHOT_MODEL_H
#define MEMLENS_TEST_SNAPSHOT_MODEL_H

#include <elf.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memlens/memlens.h>

#define SM_PAGE 4096u

/* What a page holds in the model. */
enum { SMK_RANDOM, SMK_TEXT, SMK_ZEROFILL /* data that is all zero */, SMK_ZERO, SMK_UNPOP, SMK_UNREAD, SMK_EXCL };

typedef struct sm_vma {
	uint64_t start, end;
	uint32_t flags;       /* ML_SNAPSHOT_VMA_* */
	uint64_t dump;        /* dumped bytes */
	uint32_t perms;
	const char *name;
	uint8_t *bytes;       /* expected contents of [start, start+dump) (zeros for non-data) */
	uint8_t *kind;        /* SMK_* per page of the whole mapping */
} sm_vma;

typedef struct sm_model {
	sm_vma *v;
	size_t n;
	uint64_t seed;
} sm_model;

static inline uint64_t sm_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static const char sm_words[] = "the quick brown fox jumps over the lazy dog; memlens snapshot chunk index zlib ";

/* Builds a model: @nvma mappings of 1..@maxpages pages, gaps between them, every kind. */
static inline void sm_build(sm_model *m, uint64_t seed, size_t nvma, size_t maxpages)
{
	memset(m, 0, sizeof(*m));
	m->seed = seed ? seed : 1;
	uint64_t s = m->seed;
	m->v = calloc(nvma, sizeof(*m->v));
	m->n = nvma;
	uint64_t addr = 0x555500000000ull;
	for (size_t i = 0; i < nvma; i++) {
		sm_vma *v = &m->v[i];
		size_t pages = 1 + sm_rand(&s) % maxpages;
		addr += (sm_rand(&s) % 3) * SM_PAGE; /* sometimes adjacent, sometimes a gap */
		v->start = addr;
		v->end = addr + pages * SM_PAGE;
		addr = v->end;
		v->perms = ML_PERM_READ | ((sm_rand(&s) & 1) ? ML_PERM_WRITE : 0) | ((i % 5 == 0) ? ML_PERM_EXEC : 0);
		v->name = (i % 3 == 0) ? "/usr/lib/x86_64-linux-gnu/libfake.so.1" : (i % 3 == 1) ? "" : "[heap]";
		unsigned mode = (unsigned)(sm_rand(&s) % 10);
		if (mode == 0) {
			v->flags = ML_SNAPSHOT_VMA_EXCLUDED;
			v->dump = 0;
		} else if (mode == 1 && pages > 1) {
			v->flags = ML_SNAPSHOT_VMA_DUMP_SIZE;
			v->dump = SM_PAGE;
		} else {
			v->dump = pages * SM_PAGE;
		}
		v->bytes = calloc(1, v->dump ? v->dump : 1);
		v->kind = calloc(pages, 1);
		size_t dpages = v->dump / SM_PAGE;
		for (size_t p = 0; p < pages;) {
			size_t run = 1 + sm_rand(&s) % 70;
			uint8_t k;
			if (p >= dpages) {
				k = SMK_EXCL;
			} else {
				unsigned r = (unsigned)(sm_rand(&s) % 16);
				k = r < 5 ? SMK_RANDOM : r < 9 ? SMK_TEXT : r < 10 ? SMK_ZEROFILL : r < 12 ? SMK_ZERO :
				    r < 14 ? SMK_UNPOP : r < 15 ? SMK_UNREAD : SMK_EXCL;
				if (run > dpages - p)
					run = dpages - p;
			}
			for (size_t q = p; q < p + run && q < pages; q++) {
				v->kind[q] = k;
				uint8_t *b = v->bytes + q * SM_PAGE;
				if (k == SMK_RANDOM)
					for (size_t j = 0; j < SM_PAGE; j += 8) {
						uint64_t x = sm_rand(&s);
						memcpy(b + j, &x, 8);
					}
				else if (k == SMK_TEXT)
					for (size_t j = 0; j < SM_PAGE; j++)
						b[j] = (uint8_t)sm_words[(j + q * 7) % (sizeof(sm_words) - 1)];
			}
			p += run;
		}
	}
}

static inline void sm_free(sm_model *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].bytes);
		free(m->v[i].kind);
	}
	free(m->v);
	memset(m, 0, sizeof(*m));
}

static inline bool sm_is_data(uint8_t k) { return k == SMK_RANDOM || k == SMK_TEXT || k == SMK_ZEROFILL; }

static inline ml_run_kind sm_run_kind(uint8_t k)
{
	switch (k) {
	case SMK_ZERO: return ML_RUN_ZERO;
	case SMK_UNPOP: return ML_RUN_UNPOPULATED;
	case SMK_UNREAD: return ML_RUN_UNREADABLE;
	case SMK_EXCL: return ML_RUN_EXCLUDED;
	default: return ML_RUN_DATA;
	}
}

typedef struct sm_feed {
	ml_snapshot_writer *w;
	const sm_model *m;
	size_t first, step;     /* this thread feeds mappings first, first+step, ... */
	uint64_t seed;
	int err;
} sm_feed;

/* Feeds the mappings of one thread: data in random pieces (copies and lent buffers),
 * other kinds as runs, excluded tails left for the writer to fill in. */
static inline void *sm_feed_thread(void *arg)
{
	sm_feed *f = arg;
	uint64_t s = f->seed;
	for (size_t i = f->first; i < f->m->n && !f->err; i += f->step) {
		const sm_vma *v = &f->m->v[i];
		size_t dpages = v->dump / SM_PAGE;
		for (size_t p = 0; p < dpages && !f->err;) {
			uint8_t k = v->kind[p];
			size_t q = p;
			while (q < dpages && (v->kind[q] == k || (sm_is_data(k) && sm_is_data(v->kind[q]))))
				q++;
			uint64_t a = v->start + p * SM_PAGE, len = (q - p) * (uint64_t)SM_PAGE;
			if (!sm_is_data(k)) {
				f->err = ml_snapshot_writer_add_run(f->w, a, len, sm_run_kind(k));
			} else {
				const uint8_t *src = v->bytes + p * SM_PAGE;
				uint64_t off = 0;
				while (off < len && !f->err) {
					size_t piece = 1 + (size_t)(sm_rand(&s) % (300u << 10));
					if (piece > len - off)
						piece = (size_t)(len - off);
					if (sm_rand(&s) & 1) {
						f->err = ml_snapshot_writer_add_data(f->w, a + off, src + off, piece);
						off += piece;
					} else {
						void *buf;
						size_t got;
						f->err = ml_snapshot_writer_reserve(f->w, a + off, piece, &buf, &got);
						if (!f->err) {
							memcpy(buf, src + off, got);
							f->err = ml_snapshot_writer_commit(f->w, a + off, got);
							off += got;
						}
					}
				}
			}
			p = q;
		}
	}
	return NULL;
}

/* Fake canonical notes in the kernel's order for @nthreads threads. */
static inline void sm_add_notes(ml_snapshot_writer *w, int nthreads, pid_t pid)
{
	uint8_t prstatus[336], fp[512], xstate[2688], prpsinfo[136], siginfo[128], auxv[32], file[64 + 16];
	for (int t = 0; t < nthreads; t++) {
		memset(prstatus, 0, sizeof(prstatus));
		int32_t tid = pid + t;
		memcpy(prstatus + 32, &tid, 4); /* pr_pid */
		memset(fp, 0x11 * (t + 1), sizeof(fp));
		memset(xstate, 0, sizeof(xstate));
		ml_snapshot_writer_add_note(w, "CORE", NT_PRSTATUS, prstatus, sizeof(prstatus));
		if (t == 0) {
			memset(prpsinfo, 0, sizeof(prpsinfo));
			memcpy(prpsinfo + 40, "synthetic", 9);
			memset(siginfo, 0, sizeof(siginfo));
			uint64_t av[4] = { AT_PAGESZ, 4096, AT_NULL, 0 };
			memcpy(auxv, av, sizeof(av));
			/* NT_FILE: count, page size, (start, end, file page) per file, then the names */
			uint64_t fh[5] = { 1, 4096, 0x555500000000ull, 0x555500001000ull, 0 };
			memset(file, 0, sizeof(file));
			memcpy(file, fh, sizeof(fh));
			memcpy(file + sizeof(fh), "/usr/bin/synthetic", 19);
			ml_snapshot_writer_add_note(w, "CORE", NT_PRPSINFO, prpsinfo, sizeof(prpsinfo));
			ml_snapshot_writer_add_note(w, "CORE", NT_SIGINFO, siginfo, sizeof(siginfo));
			ml_snapshot_writer_add_note(w, "CORE", NT_AUXV, auxv, sizeof(auxv));
			ml_snapshot_writer_add_note(w, "CORE", NT_FILE, file, sizeof(fh) + 19);
		}
		ml_snapshot_writer_add_note(w, "CORE", NT_FPREGSET, fp, sizeof(fp));
		ml_snapshot_writer_add_note(w, "LINUX", NT_X86_XSTATE, xstate, sizeof(xstate));
	}
}

/* maps text of the model, as the kernel prints it */
static inline char *sm_maps_text(const sm_model *m, size_t *len)
{
	size_t cap = m->n * 160 + 1, n = 0;
	char *b = malloc(cap);
	for (size_t i = 0; i < m->n; i++) {
		const sm_vma *v = &m->v[i];
		n += (size_t)snprintf(b + n, cap - n, "%08llx-%08llx %c%c%cp 00000000 00:00 0%s%s\n",
				      (unsigned long long)v->start, (unsigned long long)v->end,
				      (v->perms & ML_PERM_READ) ? 'r' : '-', (v->perms & ML_PERM_WRITE) ? 'w' : '-',
				      (v->perms & ML_PERM_EXEC) ? 'x' : '-', *v->name ? "                          " : "",
				      v->name);
	}
	*len = n;
	return b;
}

/* Writes model @m to @path with @threads feeding threads. Returns the finish result. */
static inline int sm_write(const sm_model *m, const char *path, const ml_snapshot_writer_opts *o, int feeders)
{
	ml_snapshot_writer *w;
	int r = ml_snapshot_writer_open(path, o, &w);
	if (r < 0)
		return r;
	sm_add_notes(w, 2, 4242);
	ml_snapshot_vma *sv = calloc(m->n ? m->n : 1, sizeof(*sv));
	for (size_t i = 0; i < m->n; i++) {
		sv[i].vma.start = m->v[i].start;
		sv[i].vma.end = m->v[i].end;
		sv[i].vma.perms = m->v[i].perms;
		sv[i].vma.name = m->v[i].name;
		sv[i].vma.name_len = strlen(m->v[i].name);
		sv[i].vma.kind = *m->v[i].name == '/' ? ML_VMA_FILE : *m->v[i].name ? ML_VMA_HEAP : ML_VMA_ANON;
		sv[i].flags = m->v[i].flags;
		sv[i].dump_size = m->v[i].dump;
	}
	r = ml_snapshot_writer_set_mappings(w, sv, m->n);
	free(sv);
	if (r == 0) {
		size_t ml;
		char *maps = sm_maps_text(m, &ml);
		r = ml_snapshot_writer_add_file(w, "maps", maps, ml);
		free(maps);
	}
	if (r == 0)
		r = ml_snapshot_writer_add_file(w, "status", "Name:\tsynthetic\nPid:\t4242\n", 26);
	ML_OPTS(ml_snapshot_info, info, .pid = 4242, .comm = "synthetic", .exe = "/usr/bin/synthetic",
		.capture_time_ns = 1764340000123456789LL, .freeze = "ptrace", .stop_ns = 1234567);
	if (r == 0)
		r = ml_snapshot_writer_set_info(w, &info);
	if (r == 0) {
		pthread_t th[8];
		sm_feed f[8];
		if (feeders < 1)
			feeders = 1;
		if (feeders > 8)
			feeders = 8;
		for (int t = 0; t < feeders; t++) {
			f[t] = (sm_feed){ .w = w, .m = m, .first = (size_t)t, .step = (size_t)feeders,
					  .seed = m->seed * 31 + (uint64_t)t + 7 };
			pthread_create(&th[t], NULL, sm_feed_thread, &f[t]);
		}
		for (int t = 0; t < feeders; t++) {
			pthread_join(th[t], NULL);
			if (f[t].err && !r)
				r = f[t].err;
		}
	}
	if (r == 0)
		r = ml_snapshot_writer_finish(w);
	if (r < 0)
		fprintf(stderr, "sm_write: %s: %s\n", ml_strerror(r), ml_error_detail());
	ml_snapshot_writer_free(w);
	return r;
}

/* Fills in the ELF header of an x86-64 core at @b for @nph program headers (PN_XNUM from
 * 65535 on: the caller writes the section header), the table right after it; returns the
 * table. */
static inline Elf64_Phdr *sm_core_head(uint8_t *b, size_t nph)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)b;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_CORE;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_phoff = sizeof(Elf64_Ehdr);
	eh->e_ehsize = sizeof(Elf64_Ehdr);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = nph >= PN_XNUM ? PN_XNUM : (Elf64_Half)nph;
	return (Elf64_Phdr *)(b + sizeof(Elf64_Ehdr));
}

#endif
