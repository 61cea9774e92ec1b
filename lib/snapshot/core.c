/* The kernel-layout ELF core a snapshot stands for: its headers, chunk loading, and streaming it out. */
#include <stdio.h>
#include <stdlib.h>

#include "snapshot/snap.h"
#include "internal/crc32.h"
#define ML__DL_REDIRECT
#include "internal/dl.h"

/* Elf headers go through libelf's translation to file representation (byte order). */
static int xlate_out(void *dst, const void *src, size_t n, Elf_Type t)
{
	Elf_Data s = { .d_buf = (void *)src, .d_type = t, .d_size = n, .d_version = EV_CURRENT };
	Elf_Data d = { .d_buf = dst, .d_type = t, .d_size = n, .d_version = EV_CURRENT };
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EIO;
	if (!elf64_xlatetof(&d, &s, ELFDATA2LSB))
		return -EIO;
	return 0;
}

typedef struct layout {
	uint64_t nph;        /* program headers (PT_NOTE + one PT_LOAD per mapping) */
	uint64_t notes_off;
	uint64_t data_off;
	uint64_t data_end;
	bool extnum;         /* e_phnum overflowed: a section header holds the count */
	uint64_t size;
} layout;

static void compute_layout(const snap_core *c, layout *l)
{
	l->nph = c->nvma + 1;
	l->notes_off = sizeof(Elf64_Ehdr) + l->nph * sizeof(Elf64_Phdr);
	l->data_off = align_up(l->notes_off + c->notes_len, SNAP_CORE_ALIGN);
	uint64_t off = l->data_off;
	bool wrapped = false;
	for (size_t i = 0; i < c->nvma; i++)
		wrapped |= __builtin_add_overflow(off, c->vmas[i].dump_size, &off);
	l->data_end = off;
	l->extnum = l->nph >= PN_XNUM; /* 0xffff itself means "in the section header", as the kernel writes it */
	wrapped |= __builtin_add_overflow(off, l->extnum ? sizeof(Elf64_Shdr) : 0, &l->size);
	if (wrapped)
		l->size = UINT64_MAX; /* past what any core can hold: readers refuse it */
}

uint64_t snap_core_size(const snap_core *c)
{
	layout l;
	compute_layout(c, &l);
	return l.size;
}

static int emit(snap_sink *k, const void *p, size_t n)
{
	if (!n)
		return 0;
	if (k->sha)
		ml__sha256_update(k->sha, p, n);
	int r = k->write(k, p, n);
	k->done += n;
	if (r == 0 && k->progress && k->progress(k->progress_ctx, k->done, k->total))
		r = -ECANCELED;
	return r;
}

static const uint8_t zero_block[65536];

static int emit_zeros(snap_sink *k, uint64_t n)
{
	if (!n)
		return 0;
	if (k->sha)
		for (uint64_t left = n; left;) {
			size_t t = (size_t)ML_MIN(left, sizeof(zero_block));
			ml__sha256_update(k->sha, zero_block, t);
			left -= t;
		}
	int r = k->zeros(k, n);
	k->done += n;
	if (r == 0 && k->progress && k->progress(k->progress_ctx, k->done, k->total))
		r = -ECANCELED;
	return r;
}

/* Decodes the @e->csize stored bytes at @in into exactly @e->len bytes at @out: every
 * codec must consume all of its input and produce all of the length, nothing more. */
static bool chunk_decode(const snap_entry *e, uint8_t *out, const uint8_t *in, bool strict)
{
	switch (e->codec) {
	case SC_ZLIB:
		if (strict) {
			uLongf dlen = (uLongf)e->len;
			uLong slen = e->csize;
			int z = uncompress2(out, &dlen, in, &slen);
			return z == Z_OK && dlen == e->len && slen == e->csize;
		} else {
			/* the CRC-32 checks the result: skip zlib's own Adler-32 pass */
			bool ok = e->csize > 6 && (in[0] & 0x0f) == 8 && (in[0] >> 4) <= 7 &&
				  ((in[0] << 8) | in[1]) % 31 == 0 && !(in[1] & 0x20);
			z_stream z;
			memset(&z, 0, sizeof(z));
			if (!ok || inflateInit2(&z, -15) != Z_OK)
				return false;
			z.next_in = (Bytef *)(uintptr_t)(in + 2);
			z.avail_in = e->csize - 6;
			z.next_out = out;
			z.avail_out = (uInt)e->len;
			int zr = inflate(&z, Z_FINISH);
			ok = zr == Z_STREAM_END && z.avail_out == 0 && z.avail_in == 0;
			inflateEnd(&z);
			return ok;
		}
	case SC_LZ4:
		/* a block decoder fails unless the input ends exactly with its last sequence */
		return LZ4_decompress_safe((const char *)in, (char *)out, (int)e->csize, (int)e->len) == (int)e->len;
	case SC_ZSTD: {
		/* exactly one frame (not a skippable one), declaring the chunk's length */
		if (e->csize < 4 || get32(in) != ZSTD_MAGICNUMBER ||
		    ZSTD_findFrameCompressedSize(in, e->csize) != e->csize ||
		    ZSTD_getFrameContentSize(in, e->csize) != e->len)
			return false;
		size_t n = ZSTD_decompress(out, e->len, in, e->csize);
		return !ZSTD_isError(n) && n == e->len;
	}
	default:
		return false;
	}
}

int snap_chunk_load(const snap_core *c, size_t i, uint8_t *out, uint8_t *scratch, bool strict,
		    char *err, size_t errlen)
{
	const snap_entry *e = &c->ent[i];
	if (e->len > c->chunk_size || e->csize > e->len) {
		snap_fmt(err, errlen, "chunk %zu at 0x%llx: bad sizes", i, (unsigned long long)e->addr);
		return -EBADMSG;
	}
	int r;
	if (e->codec == SC_RAW) {
		r = snap_pread_all(c->fd, out, e->len, e->offset);
	} else {
		r = snap_pread_all(c->fd, scratch, e->csize, e->offset);
		if (r == 0 && !chunk_decode(e, out, scratch, strict)) {
			snap_fmt(err, errlen, "chunk %zu (0x%llx-0x%llx, file offset %llu): corrupt %s data",
				 i, (unsigned long long)e->addr, (unsigned long long)(e->addr + e->len),
				 (unsigned long long)e->offset, ml_snapshot_codec_name((ml_snapshot_codec)e->codec));
			return -EBADMSG;
		}
	}
	if (r == -EBADMSG) {
		snap_fmt(err, errlen, "chunk %zu (0x%llx-0x%llx): file truncated at offset %llu",
			 i, (unsigned long long)e->addr, (unsigned long long)(e->addr + e->len),
			 (unsigned long long)e->offset);
		return r;
	}
	if (r < 0) {
		snap_fmt(err, errlen, "chunk %zu: read error at offset %llu", i, (unsigned long long)e->offset);
		return r;
	}
	uint32_t crc = ml__crc32(0, out, e->len);
	if (crc != e->crc) {
		snap_fmt(err, errlen,
			 "chunk %zu (0x%llx-0x%llx, file offset %llu): CRC mismatch (stored %08x, computed %08x)",
			 i, (unsigned long long)e->addr, (unsigned long long)(e->addr + e->len),
			 (unsigned long long)e->offset, e->crc, crc);
		return -EBADMSG;
	}
	return 0;
}

static void fill_phdr_load(Elf64_Phdr *ph, const ml_snapshot_vma *v, uint64_t off)
{
	memset(ph, 0, sizeof(*ph));
	ph->p_type = PT_LOAD;
	ph->p_offset = off;
	ph->p_vaddr = v->vma.start;
	ph->p_filesz = v->dump_size;
	ph->p_memsz = v->vma.end - v->vma.start;
	ph->p_flags = ((v->vma.perms & ML_PERM_READ) ? PF_R : 0) | ((v->vma.perms & ML_PERM_WRITE) ? PF_W : 0) |
		      ((v->vma.perms & ML_PERM_EXEC) ? PF_X : 0);
	ph->p_align = SNAP_CORE_ALIGN;
}

static int emit_headers(const snap_core *c, const layout *l, snap_sink *k)
{
	Elf64_Ehdr eh;
	memset(&eh, 0, sizeof(eh));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_ident[EI_OSABI] = c->osabi;
	eh.e_type = ET_CORE;
	eh.e_machine = c->machine;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof(Elf64_Ehdr);
	eh.e_ehsize = sizeof(Elf64_Ehdr);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = l->extnum ? PN_XNUM : (Elf64_Half)l->nph;
	if (l->extnum) {
		eh.e_shoff = l->data_end;
		eh.e_shentsize = sizeof(Elf64_Shdr);
		eh.e_shnum = 1;
		eh.e_shstrndx = SHN_UNDEF;
	}
	uint8_t out[sizeof(Elf64_Ehdr)];
	int r = xlate_out(out, &eh, sizeof(eh), ELF_T_EHDR);
	if (r == 0)
		r = emit(k, out, sizeof(out));
	if (r < 0)
		return r;

	/* program headers in batches: a core can have many mappings */
	enum { BATCH = 1024 };
	Elf64_Phdr *ph = malloc(BATCH * sizeof(*ph));
	uint8_t *raw = malloc(BATCH * sizeof(*ph));
	if (!ph || !raw) {
		free(ph);
		free(raw);
		return -ENOMEM;
	}
	memset(&ph[0], 0, sizeof(ph[0]));
	ph[0].p_type = PT_NOTE;
	ph[0].p_offset = l->notes_off;
	ph[0].p_filesz = c->notes_len;
	ph[0].p_align = 4;
	size_t n = 1;
	uint64_t off = l->data_off;
	for (size_t i = 0; i <= c->nvma && r == 0; i++) {
		if (n == BATCH || i == c->nvma) {
			r = xlate_out(raw, ph, n * sizeof(*ph), ELF_T_PHDR);
			if (r == 0)
				r = emit(k, raw, n * sizeof(*ph));
			n = 0;
		}
		if (i < c->nvma) {
			fill_phdr_load(&ph[n++], &c->vmas[i], off);
			off += c->vmas[i].dump_size;
		}
	}
	free(ph);
	free(raw);
	return r;
}

int snap_core_head(const snap_core *c, snap_sink *k, uint64_t *ret_data_off)
{
	layout l;
	compute_layout(c, &l);
	int r = emit_headers(c, &l, k);
	if (r == 0)
		r = emit(k, c->notes, c->notes_len);
	if (r == 0)
		r = emit_zeros(k, l.data_off - l.notes_off - c->notes_len);
	if (r == 0 && ret_data_off)
		*ret_data_off = l.data_off;
	return r;
}

int snap_core_tail(const snap_core *c, snap_sink *k)
{
	layout l;
	compute_layout(c, &l);
	if (!l.extnum)
		return 0;
	Elf64_Shdr sh;
	memset(&sh, 0, sizeof(sh));
	sh.sh_type = SHT_NULL;
	sh.sh_size = 1;
	sh.sh_link = SHN_UNDEF;
	sh.sh_info = (Elf64_Word)ML_MIN(l.nph, UINT32_MAX);
	uint8_t raw[sizeof(sh)];
	int r = xlate_out(raw, &sh, sizeof(sh), ELF_T_SHDR);
	return r ? r : emit(k, raw, sizeof(raw));
}

int snap_xlate_out(void *dst, const void *src, size_t n, int type)
{
	return xlate_out(dst, src, n, (Elf_Type)type);
}

int snap_expand(const snap_core *c, snap_sink *k, char *err, size_t errlen)
{
	k->total = snap_core_size(c);
	k->done = 0;
	int r = snap_core_head(c, k, NULL);
	uint8_t *out = NULL, *scratch = NULL;
	if (r == 0 && c->nent) {
		out = malloc(c->chunk_size);
		scratch = malloc(c->chunk_size);
		if (!out || !scratch)
			r = -ENOMEM;
	}
	for (size_t i = 0; i < c->nent && r == 0; i++) {
		const snap_entry *e = &c->ent[i];
		const ml_snapshot_vma *v = &c->vmas[e->vma];
		uint64_t dump_end = v->vma.start + v->dump_size;
		if (e->addr >= dump_end)
			continue;
		uint64_t len = ML_MIN(e->len, dump_end - e->addr);
		if (e->kind == SK_DATA) {
			r = snap_chunk_load(c, i, out, scratch, false, err, errlen);
			if (r == 0)
				r = emit(k, out, (size_t)len);
		} else {
			r = emit_zeros(k, len);
		}
	}
	free(out);
	free(scratch);
	if (r == 0)
		r = snap_core_tail(c, k);
	if (r == 0 && k->finish)
		r = k->finish(k);
	return r;
}

bool snap_ehdr_is_core64(const void *eh)
{
	Elf64_Ehdr e;
	memcpy(&e, eh, sizeof(e));
	return !memcmp(e.e_ident, ELFMAG, SELFMAG) && e.e_ident[EI_CLASS] == ELFCLASS64 &&
	       e.e_ident[EI_DATA] == ELFDATA2LSB && e.e_type == ET_CORE;
}

int snap_maps_line(ml_buf *b, uint64_t vaddr, uint64_t memsz, uint32_t flags, uint64_t pgoff,
		   const char *name, size_t name_len)
{
	char line[160];
	int n = snprintf(line, sizeof(line), "%08llx-%08llx %c%c%cp %08llx 00:00 0",
			 (unsigned long long)vaddr, (unsigned long long)(vaddr + memsz),
			 (flags & PF_R) ? 'r' : '-', (flags & PF_W) ? 'w' : '-',
			 (flags & PF_X) ? 'x' : '-', (unsigned long long)pgoff);
	int r = ml_buf_append(b, line, (size_t)n);
	if (r == 0 && name_len) {
		/* the kernel pads the name to column 73 */
		static const char pad[80] = "                                                                               ";
		r = ml_buf_append(b, pad, n < 73 ? (size_t)(73 - n) : 1);
		for (size_t k = 0; k < name_len && r == 0; k++)
			r = name[k] == '\n' ? ml_buf_append(b, "\\012", 4) : ml_buf_append(b, &name[k], 1);
	}
	return r ? r : ml_buf_append(b, "\n", 1);
}
