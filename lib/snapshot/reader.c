/* The snapshot reader: validates every header, note and index entry at open; the accessors (reading: reader_read.c; verify: reader_verify.c). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot/reader.h"
#include "internal/crc32.h"
#define ML__DL_REDIRECT
#include "internal/dl.h"

void snap_reader_err(const ml_snapshot *s, const char *fmt, ...)
{
	(void)s;
	char m[320];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	ml__error_set("%s", m);
}

/* ---- open-time validation ---- */

typedef struct vctx {
	ml_snapshot *s;
	char msg[320];
} vctx;

static int bad(vctx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(vctx *v, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->msg, sizeof(v->msg), fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

static bool range_ok(uint64_t off, uint64_t len, uint64_t limit)
{
	return off <= limit && len <= limit - off;
}

static int parse_mappings(vctx *v, const uint8_t *d, size_t len)
{
	ml_snapshot *s = v->s;
	if (len < SNAP_MAP_HDR_SIZE)
		return bad(v, "mapping table note too short");
	if (get32(d) != 1 || get32(d + 4) != SNAP_MAP_REC_SIZE)
		return bad(v, "mapping table of unknown version %u", get32(d));
	uint64_t n = get64(d + 8);
	if (n > SNAP_MAX_VMAS || n > (len - SNAP_MAP_HDR_SIZE) / SNAP_MAP_REC_SIZE)
		return bad(v, "mapping table claims %llu mappings, more than it holds", (unsigned long long)n);
	s->vmas = calloc(n ? n : 1, sizeof(*s->vmas));
	if (!s->vmas)
		return -ENOMEM;
	size_t off = SNAP_MAP_HDR_SIZE;
	for (uint64_t i = 0; i < n; i++) {
		if (len - off < SNAP_MAP_REC_SIZE)
			return bad(v, "mapping %llu: record past the end of its note", (unsigned long long)i);
		const uint8_t *r = d + off;
		ml_snapshot_vma *m = &s->vmas[i];
		m->vma.start = get64(r);
		m->vma.end = get64(r + 8);
		m->vma.offset = get64(r + 16);
		m->vma.inode = get64(r + 24);
		m->dump_size = get64(r + 32);
		m->vma.dev_major = get32(r + 40);
		m->vma.dev_minor = get32(r + 44);
		m->vma.perms = get32(r + 48);
		m->flags = get32(r + 52);
		uint32_t kind = get32(r + 56);
		uint32_t nlen = get32(r + 60);
		m->vma.build_id_len = r[64];
		m->vma.deleted = r[65] == 1;
		memcpy(m->vma.build_id, r + 72, 32);
		off += SNAP_MAP_REC_SIZE;
		uint64_t size = m->vma.end - m->vma.start;
		if (m->vma.start >= m->vma.end || m->vma.start % s->page_size || m->vma.end % s->page_size)
			return bad(v, "mapping %llu: bad range 0x%llx-0x%llx", (unsigned long long)i,
				   (unsigned long long)m->vma.start, (unsigned long long)m->vma.end);
		if (i && m->vma.start < s->vmas[i - 1].vma.end)
			return bad(v, "mapping %llu (0x%llx): overlaps or precedes the previous one", (unsigned long long)i,
				   (unsigned long long)m->vma.start);
		if (m->dump_size > size || m->dump_size % s->page_size)
			return bad(v, "mapping %llu: bad dumped size %llu", (unsigned long long)i,
				   (unsigned long long)m->dump_size);
		if (kind >= ML_VMA_KIND_COUNT || m->vma.build_id_len > 32 || r[65] > 1 || r[66] || r[67] ||
		    (m->flags & ~(ML_SNAPSHOT_VMA_EXCLUDED | ML_SNAPSHOT_VMA_DUMP_SIZE)) ||
		    (m->vma.perms & ~(ML_PERM_READ | ML_PERM_WRITE | ML_PERM_EXEC | ML_PERM_SHARED)) ||
		    ((m->flags & ML_SNAPSHOT_VMA_EXCLUDED) && m->dump_size))
			return bad(v, "mapping %llu: bad kind, flags or build ID", (unsigned long long)i);
		m->vma.kind = (ml_vma_kind)kind;
		if (nlen > len - off || align_up(nlen, 8) > len - off)
			return bad(v, "mapping %llu: name past the end of its note", (unsigned long long)i);
		if (memchr(d + off, 0, nlen))
			return bad(v, "mapping %llu: name contains a NUL byte", (unsigned long long)i);
		char *name = malloc(nlen + 1);
		if (!name)
			return -ENOMEM;
		memcpy(name, d + off, nlen);
		name[nlen] = '\0';
		m->vma.name = name;
		m->vma.name_len = nlen;
		s->nvma = i + 1;
		off += align_up(nlen, 8);
	}
	return 0;
}

typedef struct file_key {
	const char *name;
	size_t i;
} file_key;

static int cmp_file_key(const void *a, const void *b)
{
	const file_key *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : (x->i > y->i) - (x->i < y->i);
}

/*
 * Saved files must have unique names. Comparing each with every earlier one let a crafted
 * file of a million tiny notes hold ml_snapshot_open() for hours; sorted by name, then by
 * position, a repeat lies next to its first occurrence. Of the repeats, the one named is
 * the earliest in the notes, the one a note-by-note check stops at. s->files keeps the
 * file's order (ml_snapshot_file_name() shows it).
 */
static int check_file_names(vctx *v)
{
	ml_snapshot *s = v->s;
	if (s->nfiles < 2)
		return 0;
	file_key *k = malloc(s->nfiles * sizeof(*k));
	if (!k)
		return -ENOMEM;
	for (size_t i = 0; i < s->nfiles; i++)
		k[i] = (file_key){ s->files[i].name, i };
	qsort(k, s->nfiles, sizeof(*k), cmp_file_key);
	size_t dup = SIZE_MAX;
	for (size_t i = 1; i < s->nfiles; i++)
		if (k[i].i < dup && !strcmp(k[i].name, k[i - 1].name))
			dup = k[i].i;
	free(k);
	if (dup != SIZE_MAX)
		return bad(v, "saved /proc file \"%s\" appears twice", s->files[dup].name);
	return 0;
}

static int parse_notes(vctx *v, Elf_Data *data, uint64_t seg_off)
{
	ml_snapshot *s = v->s;
	size_t cap = 0, fcap = 0;
	bool have_maps = false;
	size_t off = 0;
	(void)seg_off;
	while (off < data->d_size) {
		GElf_Nhdr nh;
		size_t name_off, desc_off;
		size_t next = gelf_getnote(data, off, &nh, &name_off, &desc_off);
		if (next == 0 || next <= off || next > data->d_size)
			return bad(v, "note at offset %zu of the note segment is malformed", off);
		const uint8_t *base = data->d_buf;
		if (nh.n_namesz == 0 || base[name_off + nh.n_namesz - 1] != '\0' ||
		    strlen((const char *)base + name_off) != nh.n_namesz - 1)
			return bad(v, "note at offset %zu has a malformed owner name", off);
		const char *name = (const char *)base + name_off;
		const uint8_t *desc = base + desc_off;
		size_t dlen = nh.n_descsz;
		if (strcmp(name, ML_SNAPSHOT_NOTE_OWNER)) {
			int r = ml__grow(&s->notes, &cap, s->nnotes + 1, sizeof(*s->notes));
			if (r < 0)
				return r;
			s->notes[s->nnotes++] = (note_ref){ name, nh.n_type, desc, dlen };
			if (nh.n_type == NT_PRSTATUS && !strcmp(name, "CORE"))
				s->nthreads++;
			r = snap_note_append(&s->canon, name, nh.n_type, desc, dlen);
			if (r == -EINVAL)
				return bad(v, "note at offset %zu is too large", off);
			if (r < 0)
				return r;
		} else if (nh.n_type == SNAP_NT_MAPPINGS) {
			if (have_maps)
				return bad(v, "two mapping tables");
			have_maps = true;
			int r = parse_mappings(v, desc, dlen);
			if (r < 0)
				return r;
		} else if (nh.n_type == SNAP_NT_PROCFILE) {
			const uint8_t *z = memchr(desc, 0, ML_MIN(dlen, (size_t)256));
			if (!z || z == desc)
				return bad(v, "saved /proc file note at offset %zu has no name", off);
			int r = ml__grow(&s->files, &fcap, s->nfiles + 1, sizeof(*s->files));
			if (r < 0)
				return r;
			char *fname = strdup((const char *)desc);
			if (!fname)
				return -ENOMEM;
			size_t nl = (size_t)(z - desc) + 1;
			s->files[s->nfiles++] = (file_ref){ fname, desc + nl, dlen - nl };
		} else if (nh.n_type == SNAP_NT_SEAL) {
			if (s->seal || dlen != SNAP_SEAL_LEN || next != data->d_size)
				return bad(v, "the seal note must be the last note and hold %u bytes", SNAP_SEAL_LEN);
			s->seal = desc;
		} else if (nh.n_type == SNAP_NT_MANIFEST) {
			if (s->manifest)
				return bad(v, "two manifests");
			s->manifest = malloc(dlen + 1);
			if (!s->manifest)
				return -ENOMEM;
			memcpy(s->manifest, desc, dlen);
			s->manifest[dlen] = '\0';
			s->manifest_len = dlen;
		}
		/* other memlens note types are from a later minor version: skipped */
		off = next;
	}
	int r = check_file_names(v);
	if (r < 0)
		return r;
	if (!have_maps)
		return bad(v, "no mapping table note");
	if (!s->manifest)
		return bad(v, "no manifest note");
	return 0;
}

static int parse_index(vctx *v, const uint8_t *d, size_t len, uint64_t data_off, uint64_t data_size,
		       uint32_t notes_crc_actual, uint32_t head_crc_actual)
{
	ml_snapshot *s = v->s;
	if (len < SNAP_IDX_HDR_SIZE || memcmp(d, SNAP_IDX_MAGIC, 8))
		return bad(v, "index segment has no index header");
	if (get32(d + 76) != ml__crc32(0, d, 76))
		return bad(v, "index header checksum mismatch");
	if (get32(d + 60) != head_crc_actual)
		return bad(v, "ELF header area checksum mismatch");
	if (get64(d + 64) || get32(d + 72))
		return bad(v, "index header: reserved bytes are not zero");
	s->version = get32(d + 8);
	if (s->version != ML_SNAPSHOT_FORMAT_VERSION)
		return bad(v, "format version %u is not supported (this reader knows %u)", s->version,
			   ML_SNAPSHOT_FORMAT_VERSION);
	if (get32(d + 12) != SNAP_IDX_HDR_SIZE || get32(d + 16) != SNAP_IDX_ENT_SIZE)
		return bad(v, "index header has unknown header or entry sizes");
	s->chunk_size = get32(d + 20);
	if (s->chunk_size < ML_SNAPSHOT_CHUNK_MIN || s->chunk_size > ML_SNAPSHOT_CHUNK_MAX || s->chunk_size % 4096)
		return bad(v, "index header: absurd chunk size %u", s->chunk_size);
	uint64_t n = get64(d + 24);
	if (n > (len - SNAP_IDX_HDR_SIZE) / SNAP_IDX_ENT_SIZE || n * SNAP_IDX_ENT_SIZE != len - SNAP_IDX_HDR_SIZE)
		return bad(v, "index claims %llu entries but its segment holds %zu bytes", (unsigned long long)n, len);
	if (get64(d + 32) != data_off || get64(d + 40) != data_size)
		return bad(v, "index header disagrees with the data segment's program header");
	if (get32(d + 48) != ml__crc32(0, d + SNAP_IDX_HDR_SIZE, len - SNAP_IDX_HDR_SIZE))
		return bad(v, "index entries checksum mismatch");
	if (get32(d + 52) != notes_crc_actual)
		return bad(v, "note segment checksum mismatch");
	s->page_size = get32(d + 56);
	if (s->page_size < 4096 || s->page_size > (1u << 20) || (s->page_size & (s->page_size - 1)))
		return bad(v, "index header: absurd page size %u", s->page_size);
	s->nent = (size_t)n;
	s->ent = calloc(n ? n : 1, sizeof(*s->ent));
	if (!s->ent)
		return -ENOMEM;
	const uint8_t *e = d + SNAP_IDX_HDR_SIZE;
	for (size_t i = 0; i < n; i++, e += SNAP_IDX_ENT_SIZE) {
		snap_entry *x = &s->ent[i];
		x->addr = get64(e);
		x->len = get64(e + 8);
		x->offset = get64(e + 16);
		x->csize = get32(e + 24);
		x->crc = get32(e + 28);
		x->kind = e[32];
		x->codec = e[33];
		if (get16(e + 34) || get32(e + 36))
			return bad(v, "index entry %zu: reserved bytes are not zero", i);
	}
	return 0;
}

/* Entries must tile every mapping exactly, in order; data entries must point inside the
 * data segment and have sane sizes. */
static int check_entries(vctx *v, uint64_t data_off, uint64_t data_size)
{
	ml_snapshot *s = v->s;
	s->vma_first = calloc(s->nvma + 1, sizeof(*s->vma_first));
	if (!s->vma_first)
		return -ENOMEM;
	size_t vi = 0;
	uint64_t cur = s->nvma ? s->vmas[0].vma.start : 0;
	for (size_t i = 0; i < s->nent; i++) {
		snap_entry *e = &s->ent[i];
		if (vi >= s->nvma)
			return bad(v, "index entry %zu (0x%llx): beyond the last mapping", i, (unsigned long long)e->addr);
		const ml_snapshot_vma *m = &s->vmas[vi];
		if (cur == m->vma.start)
			s->vma_first[vi] = i;
		if (e->kind >= SK_COUNT)
			return bad(v, "index entry %zu (0x%llx): unknown kind %u", i, (unsigned long long)e->addr, e->kind);
		if (e->addr < cur)
			return bad(v, "index entry %zu (0x%llx): overlaps or precedes the previous entry", i,
				   (unsigned long long)e->addr);
		if (e->addr > cur)
			return bad(v, "index entry %zu (0x%llx): leaves 0x%llx-0x%llx of mapping 0x%llx-0x%llx undescribed",
				   i, (unsigned long long)e->addr, (unsigned long long)cur, (unsigned long long)e->addr,
				   (unsigned long long)m->vma.start, (unsigned long long)m->vma.end);
		if (!e->len || e->len > m->vma.end - e->addr)
			return bad(v, "index entry %zu (0x%llx): length %llu crosses its mapping's end", i,
				   (unsigned long long)e->addr, (unsigned long long)e->len);
		uint64_t dump_end = m->vma.start + m->dump_size;
		if (e->kind != SK_EXCLUDED && e->addr + e->len > dump_end)
			return bad(v, "index entry %zu (0x%llx): %s range outside the dumped part of its mapping", i,
				   (unsigned long long)e->addr, ml_snapshot_kind_name(snap_kind_to_run(e->kind)));
		if (e->kind == SK_DATA) {
			bool ok = e->len <= s->chunk_size &&
				  ((e->codec == SC_RAW && e->csize == e->len) ||
				   ((e->codec == SC_ZLIB || e->codec == SC_LZ4 || e->codec == SC_ZSTD) &&
				    e->csize > 0 && e->csize < e->len)) &&
				  e->offset >= data_off && range_ok(e->offset - data_off, e->csize, data_size);
			if (!ok)
				return bad(v, "index entry %zu (0x%llx): bad chunk (length %llu, codec %u, stored %u bytes at offset %llu)",
					   i, (unsigned long long)e->addr, (unsigned long long)e->len, e->codec, e->csize,
					   (unsigned long long)e->offset);
			s->total.chunks++;
			s->total.stored += e->csize;
			if (e->codec == SC_RAW)
				s->total.raw_chunks++;
		} else if (e->codec || e->offset || e->csize || e->crc) {
			return bad(v, "index entry %zu (0x%llx): a %s range with stored bytes", i,
				   (unsigned long long)e->addr, ml_snapshot_kind_name(snap_kind_to_run(e->kind)));
		}
		e->vma = (uint32_t)vi;
		s->total.bytes[snap_kind_to_run(e->kind)] += e->len;
		cur = e->addr + e->len;
		if (cur == m->vma.end) {
			vi++;
			if (vi < s->nvma)
				cur = s->vmas[vi].vma.start;
		}
	}
	if (vi < s->nvma)
		return bad(v, "mapping %zu (0x%llx-0x%llx) is not fully described by the index", vi,
			   (unsigned long long)s->vmas[vi].vma.start, (unsigned long long)s->vmas[vi].vma.end);
	s->vma_first[s->nvma] = s->nent;
	s->total.entries = s->nent;
	return 0;
}

static int hexbytes(const char *h, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++) {
		int x = ml__hexval(h[2 * i]), y = ml__hexval(h[2 * i + 1]);
		if (x < 0 || y < 0)
			return -1;
		out[i] = (uint8_t)(x << 4 | y);
	}
	return 0;
}

/*
 * Member "exact.K" of the manifest: the bytes of string K in hex, where K's text is lossy
 * (section 3.2). K takes them, once they are shown to be what its text says: hex of bytes
 * other than NUL whose text is K's.
 */
static int apply_exact(vctx *v, const snap_kv *x)
{
	ml_snapshot *s = v->s;
	const char *name = x->key + 6;
	snap_kv *k = NULL;
	for (size_t i = 0; i < s->nkv && !k; i++)
		if (!strcmp(s->kv[i].key, name))
			k = &s->kv[i];
	if (!x->is_str || !k || !k->is_str || !strncmp(name, "exact.", 6))
		return bad(v, "manifest's exact form of \"%.64s\" is not of a string", name);
	size_t n = x->val_len / 2;
	char *bytes = malloc(n + 1);
	if (!bytes)
		return -ENOMEM;
	ml_buf text = { 0 };
	int r = x->val_len % 2 || hexbytes(x->val, n, (uint8_t *)bytes) < 0 || memchr(bytes, 0, n) ? -EBADMSG : 0;
	if (r == 0)
		r = snap_text_of(&text, bytes, n);
	if (r == 0 && (text.len != k->val_len || memcmp(text.data, k->val, text.len)))
		r = -EBADMSG;
	ml_buf_free(&text);
	if (r < 0) {
		free(bytes);
		return r == -EBADMSG ? bad(v, "manifest's exact form of \"%.64s\" disagrees with its text", name) : r;
	}
	bytes[n] = '\0';
	free(k->val);
	k->val = bytes;
	k->val_len = n;
	return 0;
}

static int check_manifest(vctx *v)
{
	ml_snapshot *s = v->s;
	if (snap_json_parse(s->manifest, s->manifest_len, &s->kv, &s->nkv) < 0)
		return bad(v, "manifest is not valid JSON");
	for (size_t i = 0; i < s->nkv; i++)
		if (!strncmp(s->kv[i].key, "exact.", 6)) {
			int r = apply_exact(v, &s->kv[i]);
			if (r < 0)
				return r;
		}
	uint64_t u;
	int64_t sv;
	const snap_kv *k = snap_kv_get(s->kv, s->nkv, "format_version");
	if (k && (k->is_str || ml__tok_dec(k->val, k->val + k->val_len, &u) < 0 || u != s->version))
		return bad(v, "manifest format version disagrees with the index");
	k = snap_kv_get(s->kv, s->nkv, "pid");
	if (k && !k->is_str && ml__tok_sdec(k->val, k->val + k->val_len, &sv) == 0 && sv > 0 && sv <= 0x3fffffff)
		s->pid = (pid_t)sv;
	k = snap_kv_get(s->kv, s->nkv, "expanded_sha256");
	if (k) {
		if (!k->is_str || k->val_len != 64 || hexbytes(k->val, 32, s->sha) < 0)
			return bad(v, "manifest has a malformed expanded_sha256");
		s->have_sha = true;
	}
	k = snap_kv_get(s->kv, s->nkv, "expanded_size");
	if (k && (k->is_str || ml__tok_dec(k->val, k->val + k->val_len, &u) < 0 || u != snap_core_size(&s->core)))
		return bad(v, "manifest's expanded size disagrees with the mappings");
	return 0;
}

static int do_open(vctx *v, const char *path)
{
	ml_snapshot *s = v->s;
	s->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0) {
		int r = ml_neg_errno();
		snap_fmt(v->msg, sizeof(v->msg), "%s", ml_strerror(r));
		return r;
	}
	int lr = ml__dl_load(); /* after the open: a mistyped path is ENOENT first */
	if (lr < 0) {
		snap_fmt(v->msg, sizeof(v->msg), "%s", ml_error_detail());
		return lr;
	}
	struct stat st;
	if (fstat(s->fd, &st) < 0)
		return ml_neg_errno();
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return bad(v, "not a regular file");
	s->fsize = (uint64_t)st.st_size;
	uint8_t id[EI_NIDENT];
	if (s->fsize < sizeof(Elf64_Ehdr) || snap_pread_all(s->fd, id, sizeof(id), 0) < 0 ||
	    memcmp(id, ELFMAG, SELFMAG))
		return bad(v, "not an ELF file (a snapshot starts with the ELF magic; an incomplete one has none)");
	if (id[EI_CLASS] != ELFCLASS64 || id[EI_DATA] != ELFDATA2LSB)
		return bad(v, "not a 64-bit little-endian ELF file");
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EIO;
	s->elf = elf_begin(s->fd, ELF_C_READ, NULL);
	if (!s->elf || elf_kind(s->elf) != ELF_K_ELF)
		return bad(v, "libelf cannot read it: %s", elf_errmsg(-1));
	GElf_Ehdr eh;
	if (!gelf_getehdr(s->elf, &eh))
		return bad(v, "bad ELF header: %s", elf_errmsg(-1));
	if (eh.e_type != ET_CORE)
		return bad(v, "not a core file (ELF type %u)", eh.e_type);
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum < 3 || eh.e_phnum > 16 || eh.e_shnum || eh.e_shoff ||
	    !range_ok(eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr), s->fsize))
		return bad(v, "program header table is absent, oversized or outside the file");
	s->machine = eh.e_machine;
	s->osabi = eh.e_ident[EI_OSABI];
	GElf_Phdr pn = {0}, pd = {0}, pi = {0};
	int nn = 0, nd = 0, ni = 0;
	for (size_t i = 0; i < eh.e_phnum; i++) {
		GElf_Phdr p;
		if (!gelf_getphdr(s->elf, (int)i, &p))
			return bad(v, "program header %zu unreadable: %s", i, elf_errmsg(-1));
		if (!range_ok(p.p_offset, p.p_filesz, s->fsize))
			return bad(v, "program header %zu: segment (offset %llu, %llu bytes) runs past the end of the file (%llu bytes): truncated?",
				   i, (unsigned long long)p.p_offset, (unsigned long long)p.p_filesz,
				   (unsigned long long)s->fsize);
		if (p.p_type == PT_NOTE) { pn = p; nn++; }
		else if (p.p_type == SNAP_PT_DATA) { pd = p; nd++; }
		else if (p.p_type == SNAP_PT_INDEX) { pi = p; ni++; }
		else if (p.p_type == PT_LOAD)
			return bad(v, "an ELF core with PT_LOAD segments, not a memlens snapshot (memlens core expand makes those)");
	}
	if (nd == 0 && ni == 0)
		return bad(v, "an ELF core without a memlens index: not a memlens snapshot");
	if (nn != 1 || nd != 1 || ni != 1)
		return bad(v, "expected one note, one data and one index segment");
	uint64_t hdr_end = eh.e_phoff + (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr);
	GElf_Phdr segs[3] = { pn, pd, pi };
	for (int a = 0; a < 3; a++) {
		/* an empty segment too: its offset places the ones after it (and ends the header area) */
		if (segs[a].p_offset < hdr_end)
			return bad(v, "a segment overlaps the ELF headers");
		for (int b = a + 1; b < 3; b++)
			if (segs[a].p_filesz && segs[b].p_filesz && segs[a].p_offset < segs[b].p_offset + segs[b].p_filesz &&
			    segs[b].p_offset < segs[a].p_offset + segs[a].p_filesz)
				return bad(v, "segments overlap");
	}
	if (pn.p_filesz > SNAP_MAX_NOTE * 4ull || pi.p_filesz > (uint64_t)SIZE_MAX / 2)
		return bad(v, "absurd segment size");
	/* v1 layout: header area, data, notes, index, end of file; gaps are alignment only */
	if (pd.p_offset > SNAP_MAX_HEAD || pn.p_offset != align_up(pd.p_offset + pd.p_filesz, 8) ||
	    pi.p_offset != align_up(pn.p_offset + pn.p_filesz, 8) || pi.p_offset + pi.p_filesz != s->fsize)
		return bad(v, "segments are not laid out as data, notes, index up to the end of the file%s",
			   pi.p_offset + pi.p_filesz < s->fsize ? " (trailing bytes)" : "");
	uint8_t *head = malloc(pd.p_offset ? pd.p_offset : 1);
	if (!head)
		return -ENOMEM;
	int hr = snap_pread_all(s->fd, head, pd.p_offset, 0);
	uint32_t head_crc = ml__crc32(0, head, pd.p_offset);
	free(head);
	if (hr < 0)
		return hr == -EBADMSG ? bad(v, "file truncated") : hr;
	uint8_t gap[16];
	uint64_t g1 = pn.p_offset - (pd.p_offset + pd.p_filesz), g2 = pi.p_offset - (pn.p_offset + pn.p_filesz);
	if ((g1 && (snap_pread_all(s->fd, gap, g1, pd.p_offset + pd.p_filesz) < 0 || !snap_is_zero(gap, g1))) ||
	    (g2 && (snap_pread_all(s->fd, gap, g2, pn.p_offset + pn.p_filesz) < 0 || !snap_is_zero(gap, g2))))
		return bad(v, "padding between segments is not zero");

	Elf_Data *nd_data = elf_getdata_rawchunk(s->elf, (int64_t)pn.p_offset, pn.p_filesz, ELF_T_NHDR);
	if (!nd_data && pn.p_filesz)
		return bad(v, "cannot read the note segment: %s", elf_errmsg(-1));
	Elf_Data *id_data = elf_getdata_rawchunk(s->elf, (int64_t)pi.p_offset, pi.p_filesz, ELF_T_BYTE);
	if (!id_data)
		return bad(v, "cannot read the index segment: %s", elf_errmsg(-1));
	uint32_t ncrc = nd_data ? ml__crc32(0, nd_data->d_buf, nd_data->d_size) : 0;
	s->raw_idx = id_data->d_buf;
	s->raw_idx_len = id_data->d_size;
	if (nd_data) {
		s->raw_notes = nd_data->d_buf;
		s->raw_notes_len = nd_data->d_size;
	}
	int r = parse_index(v, id_data->d_buf, id_data->d_size, pd.p_offset, pd.p_filesz, ncrc, head_crc);
	if (r < 0)
		return r;
	if (nd_data) {
		r = parse_notes(v, nd_data, pn.p_offset);
		if (r < 0)
			return r;
	} else {
		return bad(v, "empty note segment");
	}
	s->data_off = pd.p_offset;
	s->data_size = pd.p_filesz;
	r = check_entries(v, pd.p_offset, pd.p_filesz);
	if (r < 0)
		return r;
	s->core = (snap_core){
		.fd = s->fd, .notes = (const uint8_t *)s->canon.data, .notes_len = s->canon.len,
		.vmas = s->vmas, .nvma = s->nvma, .ent = s->ent, .nent = s->nent,
		.chunk_size = s->chunk_size, .machine = s->machine, .osabi = s->osabi,
	};
	/* no process's mappings come near it: a larger sum is made up (or wraps past 2^64, which
	 * would make the expanded core look empty) */
	if (snap_core_size(&s->core) > (uint64_t)INT64_MAX)
		return bad(v, "the mappings' dumped sizes add up to more than an ELF core can hold (2^63 bytes)");
	return check_manifest(v);
}

int ml_snapshot_open(const char *path, ml_snapshot **ret)
{
	ml__error_clear();
	if (!path || !ret)
		return -EINVAL;
	ml_snapshot *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fd = -1;
	pthread_mutex_init(&s->mu, NULL);
	vctx v = { .s = s };
	int r = do_open(&v, path);
	if (r < 0) {
		if (v.msg[0])
			ml__error_set("%s", v.msg);
		ml_snapshot_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void ml_snapshot_free(ml_snapshot *s)
{
	if (!s)
		return;
	for (int i = 0; i < NCACHE; i++)
		free(s->cache[i].buf);
	for (size_t i = 0; i < s->nspare; i++)
		free(s->spare[i]);
	if (s->elf)
		elf_end(s->elf);
	if (s->fd >= 0)
		close(s->fd);
	ml_buf_free(&s->canon);
	free(s->notes);
	for (size_t i = 0; i < s->nfiles; i++)
		free(s->files[i].name);
	free(s->files);
	free(s->manifest);
	snap_kv_free(s->kv, s->nkv);
	for (size_t i = 0; i < s->nvma; i++)
		free((char *)s->vmas[i].vma.name);
	free(s->vmas);
	free(s->vma_first);
	free(s->ent);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

/* ---- accessors ---- */

unsigned ml_snapshot_version(const ml_snapshot *s) { return s ? s->version : 0; }
uint32_t ml_snapshot_chunk_size(const ml_snapshot *s) { return s ? s->chunk_size : 0; }
uint32_t ml_snapshot_page_size(const ml_snapshot *s) { return s ? s->page_size : 0; }
pid_t ml_snapshot_pid(const ml_snapshot *s) { return s ? s->pid : 0; }
uint64_t ml_snapshot_file_size(const ml_snapshot *s) { return s ? s->fsize : 0; }
uint64_t ml_snapshot_expanded_size(const ml_snapshot *s) { return s ? snap_core_size(&s->core) : 0; }

const char *ml_snapshot_manifest(const ml_snapshot *s, size_t *len)
{
	if (!s)
		return NULL;
	if (len)
		*len = s->manifest_len;
	return s->manifest;
}

const char *ml_snapshot_field(const ml_snapshot *s, const char *key)
{
	if (!s || !key)
		return NULL;
	const snap_kv *k = snap_kv_get(s->kv, s->nkv, key);
	return k ? k->val : NULL;
}

int ml_snapshot_sha256(const ml_snapshot *s, uint8_t ret[32])
{
	if (!s || !ret)
		return -EINVAL;
	if (!s->have_sha)
		return -ENOENT;
	memcpy(ret, s->sha, 32);
	return 0;
}

size_t ml_snapshot_note_count(const ml_snapshot *s) { return s ? s->nnotes : 0; }
size_t ml_snapshot_thread_count(const ml_snapshot *s) { return s ? s->nthreads : 0; }

int ml_snapshot_note_get(const ml_snapshot *s, size_t i, ml_snapshot_note *ret)
{
	if (!s || !ret)
		return -EINVAL;
	if (i >= s->nnotes)
		return -ERANGE;
	*ret = (ml_snapshot_note){ s->notes[i].name, s->notes[i].type, s->notes[i].desc, s->notes[i].len };
	return 0;
}

size_t ml_snapshot_file_count(const ml_snapshot *s) { return s ? s->nfiles : 0; }

const char *ml_snapshot_file_name(const ml_snapshot *s, size_t i)
{
	return (s && i < s->nfiles) ? s->files[i].name : NULL;
}

int ml_snapshot_read_file(const ml_snapshot *s, const char *name, char **ret, size_t *ret_len)
{
	if (!s || !name || !ret || !ret_len)
		return -EINVAL;
	for (size_t i = 0; i < s->nfiles; i++) {
		if (strcmp(s->files[i].name, name))
			continue;
		char *b = malloc(s->files[i].len + 1);
		if (!b)
			return -ENOMEM;
		memcpy(b, s->files[i].data, s->files[i].len);
		b[s->files[i].len] = '\0';
		*ret = b;
		*ret_len = s->files[i].len;
		return 0;
	}
	return -ENOENT;
}

size_t ml_snapshot_vma_count(const ml_snapshot *s) { return s ? s->nvma : 0; }

const ml_snapshot_vma *ml_snapshot_vma_get(const ml_snapshot *s, size_t i)
{
	return (s && i < s->nvma) ? &s->vmas[i] : NULL;
}

const ml_snapshot_vma *ml_snapshot_vma_find(const ml_snapshot *s, uint64_t addr)
{
	if (!s)
		return NULL;
	size_t lo = 0, hi = s->nvma;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->vmas[mid].vma.end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo < s->nvma && s->vmas[lo].vma.start <= addr) ? &s->vmas[lo] : NULL;
}

size_t ml_snapshot_entry_count(const ml_snapshot *s) { return s ? s->nent : 0; }

int ml_snapshot_entry_get(const ml_snapshot *s, size_t i, ml_snapshot_entry *ret)
{
	if (!s || !ret)
		return -EINVAL;
	if (i >= s->nent)
		return -ERANGE;
	const snap_entry *e = &s->ent[i];
	*ret = (ml_snapshot_entry){ .addr = e->addr, .len = e->len, .kind = (ml_run_kind)snap_kind_to_run(e->kind),
				    .codec = (ml_snapshot_codec)e->codec, .offset = e->offset,
				    .stored_size = e->csize, .crc = e->crc };
	return 0;
}

size_t snap_reader_lower_entry(const ml_snapshot *s, uint64_t addr)
{
	size_t lo = 0, hi = s->nent;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->ent[mid].addr + s->ent[mid].len <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int ml_snapshot_entry_find(const ml_snapshot *s, uint64_t addr, size_t *ret)
{
	if (!s || !ret)
		return -EINVAL;
	size_t i = snap_reader_lower_entry(s, addr);
	if (i >= s->nent || s->ent[i].addr > addr)
		return -EFAULT;
	*ret = i;
	return 0;
}

int ml_snapshot_stats_get(const ml_snapshot *s, size_t vma_index, ml_snapshot_stats *ret)
{
	if (!s || !ret)
		return -EINVAL;
	if (vma_index == SIZE_MAX) {
		*ret = s->total;
		return 0;
	}
	if (vma_index >= s->nvma)
		return -ERANGE;
	ml_snapshot_stats t;
	memset(&t, 0, sizeof(t));
	for (size_t i = s->vma_first[vma_index]; i < s->vma_first[vma_index + 1]; i++) {
		const snap_entry *e = &s->ent[i];
		t.bytes[snap_kind_to_run(e->kind)] += e->len;
		t.entries++;
		if (e->kind == SK_DATA) {
			t.chunks++;
			t.stored += e->csize;
			if (e->codec == SC_RAW)
				t.raw_chunks++;
		}
	}
	*ret = t;
	return 0;
}

const snap_core *snap_reader_core(const ml_snapshot *s)
{
	return &s->core;
}

void snap_reader_set_error(const ml_snapshot *s, const char *msg)
{
	snap_reader_err(s, "%s", msg);
}
