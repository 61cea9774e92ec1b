/* The snapshot writer's finished file: entries settled, the mappings note, the manifest, the mlcore and ELF layouts. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "snapshot/writer.h"
#include "internal/crc32.h"
#define ML__DL_REDIRECT
#include "internal/dl.h"

static uint16_t host_machine(void)
{
#if defined(__x86_64__)
	return EM_X86_64;
#elif defined(__aarch64__)
	return EM_AARCH64;
#elif defined(__i386__)
	return EM_386;
#elif defined(__riscv)
	return EM_RISCV;
#elif defined(__powerpc64__)
	return EM_PPC64;
#elif defined(__s390x__)
	return EM_S390;
#else
	return EM_NONE;
#endif
}

/* uname -m for the memory's e_machine: this machine's own name when it is this machine's. */
static const char *manifest_machine(uint16_t em, const char *host)
{
	if (!em || em == host_machine())
		return host;
	switch (em) {
	case EM_X86_64: return "x86_64";
	case EM_AARCH64: return "aarch64";
	case EM_386: return "i686";
	case EM_RISCV: return "riscv64";
	case EM_PPC64: return "ppc64";
	case EM_S390: return "s390x";
	case EM_ARM: return "arm";
	default: return "unknown";
	}
}

static void core_model(const ml_snapshot_writer *w, snap_core *c)
{
	*c = (snap_core){
		.fd = w->out.fd,
		.notes = (const uint8_t *)w->notes.data,
		.notes_len = w->notes.len,
		.vmas = w->vmas,
		.nvma = w->nvma,
		.ent = w->ent,
		.nent = w->nent,
		.chunk_size = w->o.chunk_size,
		.machine = w->info.e_machine ? w->info.e_machine : host_machine(),
		.osabi = ELFOSABI_NONE,
	};
}

typedef struct fd_sink {
	snap_sink k;
	int fd;
	uint64_t off;
} fd_sink;

static int pw_write(snap_sink *k, const void *p, size_t n)
{
	fd_sink *f = (fd_sink *)k;
	int r = snap_pwrite_all(f->fd, p, n, f->off);
	f->off += n;
	return r;
}

static int pw_zeros(snap_sink *k, uint64_t n)
{
	((fd_sink *)k)->off += n;
	return 0;
}

int snap_writer_elf_head(const ml_snapshot_writer *w, uint64_t *ret_off)
{
	snap_core c;
	core_model(w, &c);
	fd_sink s = { .k = { .write = pw_write, .zeros = pw_zeros }, .fd = w->out.fd };
	return snap_core_head(&c, &s.k, ret_off);
}


static int cmp_entry(const void *a, const void *b)
{
	const snap_entry *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Sorts, checks and completes the entries: no overlaps, no gaps in dumped parts, the
 * undumped rest excluded, adjacent non-data entries of one kind merged. */
int snap_writer_settle(ml_snapshot_writer *w)
{
	if (w->nent > 1)
		qsort(w->ent, w->nent, sizeof(*w->ent), cmp_entry);
	snap_entry *out = NULL;
	size_t n = 0, cap = 0, j = 0;
	int r = 0;
#define PUSH(E)                                                                                    \
	do {                                                                                       \
		snap_entry e_ = (E);                                                               \
		if (n && e_.kind != SK_DATA && out[n - 1].kind == e_.kind && out[n - 1].vma == e_.vma && \
		    out[n - 1].addr + out[n - 1].len == e_.addr) {                                 \
			out[n - 1].len += e_.len;                                                  \
		} else {                                                                           \
			if ((r = ml__grow(&out, &cap, n + 1, sizeof(*out))) < 0)                   \
				goto done;                                                         \
			out[n++] = e_;                                                             \
		}                                                                                  \
	} while (0)
	for (size_t i = 0; i < w->nvma; i++) {
		const ml_snapshot_vma *v = &w->vmas[i];
		uint64_t cur = v->vma.start, dump_end = v->vma.start + v->dump_size;
		while (j < w->nent && w->ent[j].addr < v->vma.end) {
			const snap_entry *e = &w->ent[j];
			if (e->addr < cur) {
				snap_fmt(w->msg, sizeof(w->msg), "ranges overlap at 0x%llx (mapping 0x%llx-0x%llx)",
					 (unsigned long long)e->addr, (unsigned long long)v->vma.start,
					 (unsigned long long)v->vma.end);
				r = -EINVAL;
				goto done;
			}
			if (e->addr > cur) {
				if (cur < dump_end) {
					snap_fmt(w->msg, sizeof(w->msg),
						 "nothing was given for 0x%llx-0x%llx (mapping 0x%llx-0x%llx)",
						 (unsigned long long)cur, (unsigned long long)ML_MIN(e->addr, dump_end),
						 (unsigned long long)v->vma.start, (unsigned long long)v->vma.end);
					r = -EINVAL;
					goto done;
				}
				PUSH(((snap_entry){ .addr = cur, .len = e->addr - cur, .kind = SK_EXCLUDED, .vma = (uint32_t)i }));
			}
			PUSH(*e);
			cur = e->addr + e->len;
			j++;
		}
		if (cur < v->vma.end) {
			if (cur < dump_end) {
				snap_fmt(w->msg, sizeof(w->msg),
					 "nothing was given for 0x%llx-0x%llx (mapping 0x%llx-0x%llx)",
					 (unsigned long long)cur, (unsigned long long)dump_end,
					 (unsigned long long)v->vma.start, (unsigned long long)v->vma.end);
				r = -EINVAL;
				goto done;
			}
			PUSH(((snap_entry){ .addr = cur, .len = v->vma.end - cur, .kind = SK_EXCLUDED, .vma = (uint32_t)i }));
		}
	}
#undef PUSH
done:
	if (r < 0) {
		free(out);
		return r;
	}
	free(w->ent);
	w->ent = out;
	w->nent = n;
	w->capent = cap;
	return 0;
}

static int build_mappings_note(const ml_snapshot_writer *w, ml_buf *b)
{
	uint8_t hdr[SNAP_MAP_HDR_SIZE] = {0};
	put32(hdr, 1);
	put32(hdr + 4, SNAP_MAP_REC_SIZE);
	put64(hdr + 8, w->nvma);
	int r = ml_buf_append(b, hdr, sizeof(hdr));
	for (size_t i = 0; i < w->nvma && r == 0; i++) {
		const ml_snapshot_vma *v = &w->vmas[i];
		uint8_t rec[SNAP_MAP_REC_SIZE] = {0};
		put64(rec + 0, v->vma.start);
		put64(rec + 8, v->vma.end);
		put64(rec + 16, v->vma.offset);
		put64(rec + 24, v->vma.inode);
		put64(rec + 32, v->dump_size);
		put32(rec + 40, v->vma.dev_major);
		put32(rec + 44, v->vma.dev_minor);
		put32(rec + 48, v->vma.perms);
		put32(rec + 52, v->flags & (ML_SNAPSHOT_VMA_EXCLUDED | ML_SNAPSHOT_VMA_DUMP_SIZE));
		put32(rec + 56, (uint32_t)v->vma.kind);
		put32(rec + 60, (uint32_t)v->vma.name_len);
		rec[64] = v->vma.build_id_len;
		rec[65] = v->vma.deleted ? 1 : 0;
		memcpy(rec + 72, v->vma.build_id, ML_MIN(v->vma.build_id_len, 32));
		static const uint8_t pad[8];
		r = ml_buf_append(b, rec, sizeof(rec));
		if (r == 0)
			r = ml_buf_append(b, v->vma.name, v->vma.name_len);
		if (r == 0)
			r = ml_buf_append(b, pad, align_up(v->vma.name_len, 8) - v->vma.name_len);
	}
	return r;
}

static int jkey(ml_buf *b, bool *first, const char *k)
{
	int r = ml_buf_append(b, *first ? "" : ",", *first ? 0 : 1);
	*first = false;
	if (r == 0)
		r = snap_json_str(b, k, strlen(k));
	return r ? r : ml_buf_append(b, ":", 1);
}

static int jnum(ml_buf *b, bool *first, const char *k, int64_t v, bool is_signed)
{
	char t[32];
	if (is_signed)
		snprintf(t, sizeof(t), "%lld", (long long)v);
	else
		snprintf(t, sizeof(t), "%llu", (unsigned long long)(uint64_t)v);
	int r = jkey(b, first, k);
	return r ? r : ml_buf_append(b, t, strlen(t));
}

static int jstr(ml_buf *b, bool *first, const char *k, const char *v)
{
	int r = jkey(b, first, k);
	return r ? r : snap_json_str(b, v, strlen(v));
}

/* Member @k of the manifest's "exact" object, if string @v's text is lossy: its bytes in
 * hex. The object is opened (*opened) with its first member. */
static int jexact(ml_buf *b, bool *first, bool *opened, const char *k, const char *v)
{
	if (!v || !snap_text_lossy(v, strlen(v)))
		return 0;
	int r = 0;
	if (!*opened) {
		r = ml_buf_append(b, ",\"exact\":{", 10);
		*opened = true;
	}
	if (r == 0)
		r = jkey(b, first, k);
	if (r == 0)
		r = ml_buf_append(b, "\"", 1);
	for (const unsigned char *u = (const unsigned char *)v; *u && r == 0; u++) {
		char h[3];
		snprintf(h, sizeof(h), "%02x", *u);
		r = ml_buf_append(b, h, 2);
	}
	return r ? r : ml_buf_append(b, "\"", 1);
}

static int build_manifest(const ml_snapshot_writer *w, const uint8_t *sha, uint64_t expanded, ml_buf *b)
{
	const ml_snapshot_info *in = &w->info;
	struct utsname u;
	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	long ps = sysconf(_SC_PAGESIZE);
	char t[160];
	bool f = true;
	int r = ml_buf_append(b, "{", 1);
#define J(x) do { if (r == 0) r = (x); } while (0)
	J(jstr(b, &f, "schema", "memlens.snapshot/1"));
	J(jnum(b, &f, "format_version", ML_SNAPSHOT_FORMAT_VERSION, false));
	char own[64];
	snprintf(own, sizeof(own), "memlens %s", ml_version());
	const char *tool = w->s_tool ? w->s_tool : own, *kernel = w->s_kernel ? w->s_kernel : u.release;
	const char *machine = w->s_machine ? w->s_machine : manifest_machine(in->e_machine, u.machine);
	J(jstr(b, &f, "tool", tool));
	J(jstr(b, &f, "kernel", kernel));
	J(jstr(b, &f, "machine", machine));
	J(jnum(b, &f, "page_size", in->page_size ? in->page_size : (ps > 0 ? ps : 4096), false));
	if (w->have_info) {
		J(jnum(b, &f, "pid", in->pid, true));
		if (w->s_comm)
			J(jstr(b, &f, "comm", w->s_comm));
		if (w->s_exe)
			J(jstr(b, &f, "exe", w->s_exe));
		if (in->exe_build_id_len) {
			char hex[65];
			for (size_t i = 0; i < in->exe_build_id_len; i++)
				snprintf(hex + 2 * i, 3, "%02x", w->build_id[i]);
			J(jstr(b, &f, "exe_build_id", hex));
		}
		if (in->capture_time_ns) {
			J(jnum(b, &f, "capture_time_ns", in->capture_time_ns, true));
			time_t sec = (time_t)(in->capture_time_ns / 1000000000);
			struct tm tm;
			if (gmtime_r(&sec, &tm)) {
				char iso[64];
				snprintf(iso, sizeof(iso), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
					 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
					 (int)((in->capture_time_ns % 1000000000) / 1000000));
				J(jstr(b, &f, "capture_time", iso));
			}
		}
		if (w->s_freeze)
			J(jstr(b, &f, "freeze", w->s_freeze));
		/* 0 is measured only where nothing was stopped; elsewhere (an imported core) it is
		 * not known, and left out rather than claimed */
		if (in->stop_ns || (w->s_freeze && !strcmp(w->s_freeze, "none")))
			J(jnum(b, &f, "stop_ns", (int64_t)in->stop_ns, false));
		J(jkey(b, &f, "smeared"));
		J(ml_buf_append(b, in->smeared ? "true" : "false", in->smeared ? 4 : 5));
		if (in->has_coredump_filter) {
			snprintf(t, sizeof(t), "0x%llx", (unsigned long long)in->coredump_filter);
			J(jstr(b, &f, "coredump_filter", t));
		}
	}
	J(jnum(b, &f, "threads", (int64_t)w->nprstatus, false));
	J(jnum(b, &f, "mappings", (int64_t)w->nvma, false));
	J(jstr(b, &f, "codec", ml_snapshot_codec_name(w->o.codec)));
	J(jnum(b, &f, "level", w->o.level, false));
	J(jnum(b, &f, "chunk_size", w->o.chunk_size, false));
	uint64_t by[SK_COUNT] = {0};
	for (size_t i = 0; i < w->nent; i++)
		by[w->ent[i].kind] += w->ent[i].len;
	J(jkey(b, &f, "bytes"));
	J(ml_buf_append(b, "{", 1));
	bool f2 = true;
	static const char *names[SK_COUNT] = { "data", "zero", "unpopulated", "excluded", "unreadable" };
	for (int k = 0; k < SK_COUNT; k++)
		J(jnum(b, &f2, names[k], (int64_t)by[k], false));
	J(ml_buf_append(b, "}", 1));
	J(jnum(b, &f, "stored_bytes", (int64_t)(w->data_end - SNAP_DATA_START), false));
	J(jnum(b, &f, "chunks", (int64_t)w->data_chunks, false));
	J(jnum(b, &f, "raw_chunks", (int64_t)w->raw_chunks, false));
	J(jstr(b, &f, "compress", ml_snapshot_compress_name(w->o.compress)));
	J(jnum(b, &f, "raw_to_keep_up", (int64_t)w->raw_keep_up, false));
	J(jnum(b, &f, "expanded_size", (int64_t)expanded, false));
	if (sha) {
		char hex[65];
		ml__sha256_hex(sha, hex);
		J(jstr(b, &f, "expanded_sha256", hex));
	}
	if (w->nextra) {
		J(jkey(b, &f, "extra"));
		J(ml_buf_append(b, "{", 1));
		f2 = true;
		for (size_t i = 0; i < w->nextra; i++)
			J(jstr(b, &f2, w->extra[i].key, w->extra[i].val));
		J(ml_buf_append(b, "}", 1));
	}
	/* The strings whose text above is lossy, exactly (section 3.2 of the format). */
	bool opened = false;
	f2 = true;
	const char *const sk[] = { "tool", "kernel", "machine", "comm", "exe", "freeze" };
	const char *const sv[] = { tool, kernel, machine, w->s_comm, w->s_exe, w->s_freeze };
	for (size_t i = 0; i < sizeof(sk) / sizeof(sk[0]); i++)
		if (w->have_info || i < 3)
			J(jexact(b, &f2, &opened, sk[i], sv[i]));
	for (size_t i = 0; i < w->nextra; i++) {
		snprintf(t, sizeof(t), "extra.%s", w->extra[i].key);
		J(jexact(b, &f2, &opened, t, w->extra[i].val));
	}
	if (opened)
		J(ml_buf_append(b, "}", 1));
	J(ml_buf_append(b, "}", 1));
#undef J
	return r;
}


typedef struct data_sync {
	int fd;
	uint64_t len;
	int r;
} data_sync;

/* Writes the data segment to disk and waits for it: the fsync at publish then has only the
 * notes, the index and the headers left. Errors are this call's to report (waiting here
 * consumes them: the fsync would not see them again). */
static void *data_sync_thread(void *arg)
{
	data_sync *d = arg;
	if (sync_file_range(d->fd, SNAP_DATA_START, (off64_t)d->len,
			    SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) < 0)
		d->r = errno == ESPIPE || errno == EINVAL ? 0 : -errno; /* not a file that writes back */
	return NULL;
}

int snap_writer_finish_mlcore(ml_snapshot_writer *w)
{
	snap_core c;
	core_model(w, &c);
	uint64_t expanded = snap_core_size(&c);
	uint8_t sha[32];
	int r = 0;
	bool do_sha = !w->o.no_sha256 && expanded <= (w->o.sha256_max ? w->o.sha256_max : (uint64_t)1 << 30);
	if (do_sha) {
		/* the digest is a pass over the data on the CPU; the disk writes it meanwhile */
		data_sync ds = { .fd = w->out.fd, .len = w->data_end - SNAP_DATA_START };
		pthread_t th;
		bool syncing = pthread_create(&th, NULL, data_sync_thread, &ds) == 0;
		ml__sha256 h;
		ml__sha256_init(&h);
		snap_sink k = { .write = snap_sink_discard, .zeros = snap_sink_discard_zeros, .sha = &h };
		char err[256] = "";
		r = snap_expand(&c, &k, err, sizeof(err));
		if (syncing)
			pthread_join(th, NULL);
		if (r < 0) {
			snap_fmt(w->msg, sizeof(w->msg), "re-reading the data for its digest failed: %s",
				 *err ? err : ml_strerror(r));
			return r == -EBADMSG ? -EIO : r;
		}
		if (ds.r < 0) {
			snap_fmt(w->msg, sizeof(w->msg), "writing the data to disk failed: %s", ml_strerror(ds.r));
			return ds.r;
		}
		ml__sha256_final(&h, sha);
	}

	/* notes: canonical, then memlens: mappings, /proc files, manifest */
	ml_buf notes = {0}, tmp = {0};
	r = ml_buf_append(&notes, w->notes.data, w->notes.len);
	if (r == 0)
		r = build_mappings_note(w, &tmp);
	if (r == 0)
		r = snap_note_append(&notes, ML_SNAPSHOT_NOTE_OWNER, SNAP_NT_MAPPINGS, tmp.data, tmp.len);
	for (size_t i = 0; i < w->nfiles && r == 0; i++) {
		tmp.len = 0;
		r = ml_buf_append(&tmp, w->files[i].name, strlen(w->files[i].name) + 1);
		if (r == 0)
			r = ml_buf_append(&tmp, w->files[i].data, w->files[i].len);
		if (r == 0)
			r = snap_note_append(&notes, ML_SNAPSHOT_NOTE_OWNER, SNAP_NT_PROCFILE, tmp.data, tmp.len);
	}
	if (r == 0) {
		tmp.len = 0;
		r = build_manifest(w, do_sha ? sha : NULL, expanded, &tmp);
	}
	if (r == 0)
		r = snap_note_append(&notes, ML_SNAPSHOT_NOTE_OWNER, SNAP_NT_MANIFEST, tmp.data, tmp.len);
	ml_buf_free(&tmp);
	/* the seal, last: filled in once everything it covers is known */
	static const uint8_t no_seal[SNAP_SEAL_LEN];
	if (r == 0)
		r = snap_note_append(&notes, ML_SNAPSHOT_NOTE_OWNER, SNAP_NT_SEAL, no_seal, sizeof(no_seal));

	/* index */
	ml_buf idx = {0};
	if (r == 0)
		r = ml_buf_reserve(&idx, SNAP_IDX_HDR_SIZE + w->nent * (size_t)SNAP_IDX_ENT_SIZE);
	uint64_t notes_off = align_up(w->data_end, 8);
	uint64_t idx_off = align_up(notes_off + notes.len, 8);
	if (r == 0) {
		uint8_t *h = (uint8_t *)idx.data;
		memset(h, 0, SNAP_IDX_HDR_SIZE);
		uint8_t *e = h + SNAP_IDX_HDR_SIZE;
		for (size_t i = 0; i < w->nent; i++, e += SNAP_IDX_ENT_SIZE) {
			const snap_entry *s = &w->ent[i];
			memset(e, 0, SNAP_IDX_ENT_SIZE);
			put64(e, s->addr);
			put64(e + 8, s->len);
			put64(e + 16, s->kind == SK_DATA ? s->offset : 0);
			put32(e + 24, s->kind == SK_DATA ? s->csize : 0);
			put32(e + 28, s->kind == SK_DATA ? s->crc : 0);
			e[32] = s->kind;
			e[33] = s->kind == SK_DATA ? s->codec : SC_NONE;
		}
		idx.len = SNAP_IDX_HDR_SIZE + w->nent * (size_t)SNAP_IDX_ENT_SIZE;
		memcpy(h, SNAP_IDX_MAGIC, 8);
		put32(h + 8, ML_SNAPSHOT_FORMAT_VERSION);
		put32(h + 12, SNAP_IDX_HDR_SIZE);
		put32(h + 16, SNAP_IDX_ENT_SIZE);
		put32(h + 20, w->o.chunk_size);
		put64(h + 24, w->nent);
		put64(h + 32, SNAP_DATA_START);
		put64(h + 40, w->data_end - SNAP_DATA_START);
		put32(h + 48, ml__crc32(0, h + SNAP_IDX_HDR_SIZE, idx.len - SNAP_IDX_HDR_SIZE));
		long ps = sysconf(_SC_PAGESIZE);
		put32(h + 56, w->info.page_size ? w->info.page_size : (uint32_t)(ps > 0 ? ps : 4096));
	}

	/* ELF header and program headers: written last (until then the file has no ELF
	 * magic), but their checksum goes into the index header */
	uint8_t head[SNAP_DATA_START];
	memset(head, 0, sizeof(head));
	if (r == 0) {
		Elf64_Ehdr eh;
		Elf64_Phdr ph[3];
		memset(&eh, 0, sizeof(eh));
		memset(ph, 0, sizeof(ph));
		memcpy(eh.e_ident, ELFMAG, SELFMAG);
		eh.e_ident[EI_CLASS] = ELFCLASS64;
		eh.e_ident[EI_DATA] = ELFDATA2LSB;
		eh.e_ident[EI_VERSION] = EV_CURRENT;
		eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
		eh.e_type = ET_CORE;
		eh.e_machine = c.machine;
		eh.e_version = EV_CURRENT;
		eh.e_phoff = sizeof(eh);
		eh.e_ehsize = sizeof(eh);
		eh.e_phentsize = sizeof(Elf64_Phdr);
		eh.e_phnum = 3;
		ph[0].p_type = PT_NOTE;
		ph[0].p_offset = notes_off;
		ph[0].p_filesz = notes.len;
		ph[0].p_align = 4;
		ph[1].p_type = SNAP_PT_DATA;
		ph[1].p_offset = SNAP_DATA_START;
		ph[1].p_filesz = w->data_end - SNAP_DATA_START;
		ph[1].p_flags = PF_R;
		ph[1].p_align = 8;
		ph[2].p_type = SNAP_PT_INDEX;
		ph[2].p_offset = idx_off;
		ph[2].p_filesz = idx.len;
		ph[2].p_flags = PF_R;
		ph[2].p_align = 8;
		r = snap_xlate_out(head, &eh, sizeof(eh), ELF_T_EHDR);
		if (r == 0)
			r = snap_xlate_out(head + sizeof(eh), ph, sizeof(ph), ELF_T_PHDR);
	}
	if (r == 0) {
		uint8_t *h = (uint8_t *)idx.data;
		put32(h + 60, ml__crc32(0, head, sizeof(head)));
		snap_seal(head, sizeof(head), (const uint8_t *)notes.data, notes.len, h, idx.len,
			  (uint8_t *)notes.data + notes.len - SNAP_SEAL_LEN);
		put32(h + 52, ml__crc32(0, notes.data, notes.len));
		put32(h + 76, ml__crc32(0, h, 76));
	}
	if (r == 0)
		r = snap_pwrite_all(w->out.fd, notes.data, notes.len, notes_off);
	if (r == 0)
		r = snap_pwrite_all(w->out.fd, idx.data, idx.len, idx_off);
	if (r == 0)
		r = snap_pwrite_all(w->out.fd, head, sizeof(head), 0);
	ml_buf_free(&notes);
	ml_buf_free(&idx);
	if (r < 0)
		snap_fmt(w->msg, sizeof(w->msg), "writing %s failed: %s", w->out.path, ml_strerror(r));
	return r;
}

int snap_writer_finish_elf(ml_snapshot_writer *w)
{
	snap_core c;
	core_model(w, &c);
	uint64_t size = snap_core_size(&c);
	fd_sink s = { .k = { .write = pw_write, .zeros = pw_zeros }, .fd = w->out.fd };
	s.off = w->elf_data_end;
	int r = snap_core_tail(&c, &s.k);
	if (r == 0 && ftruncate(w->out.fd, (off_t)size) < 0)
		r = ml_neg_errno();
	if (r < 0)
		snap_fmt(w->msg, sizeof(w->msg), "writing %s failed: %s", w->out.path, ml_strerror(r));
	return r;
}
