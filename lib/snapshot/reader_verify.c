/* ml_snapshot_verify(): the layout, the seal, every chunk, and the expanded core's SHA-256. */
#include <stdlib.h>

#include "snapshot/reader.h"
#define ML__DL_REDIRECT
#include "internal/dl.h"

static int cmp_off(const void *a, const void *b)
{
	const snap_entry *x = *(const snap_entry *const *)a, *y = *(const snap_entry *const *)b;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}


bool ml_snapshot_sealed(const ml_snapshot *s)
{
	return s && s->seal;
}

/* Every header field has the one value the format allows, and every padding byte is zero:
 * nothing the checksums cover can differ without meaning something. */
static int verify_layout(const ml_snapshot *s, const uint8_t *head)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph[3];
	if (s->data_off < sizeof(eh) + sizeof(ph)) { /* readers take any header table the segments follow */
		snap_reader_err(s, "the data segment starts at byte %llu, inside the ELF headers",
				(unsigned long long)s->data_off);
		return -EBADMSG;
	}
	memcpy(&eh, head, sizeof(eh));
	memcpy(ph, head + sizeof(eh), sizeof(ph));
	if (eh.e_ident[EI_VERSION] != EV_CURRENT || eh.e_ident[EI_OSABI] != ELFOSABI_NONE ||
	    !snap_is_zero(eh.e_ident + EI_ABIVERSION, EI_NIDENT - EI_ABIVERSION) || eh.e_version != EV_CURRENT ||
	    eh.e_entry || eh.e_phoff != sizeof(eh) || eh.e_shoff || eh.e_flags || eh.e_ehsize != sizeof(eh) ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum != 3 || eh.e_shentsize || eh.e_shnum || eh.e_shstrndx) {
		snap_reader_err(s, "ELF header: a field differs from the one value the format allows");
		return -EBADMSG;
	}
	static const uint32_t ptype[3] = { PT_NOTE, SNAP_PT_DATA, SNAP_PT_INDEX }, fl[3] = { 0, PF_R, PF_R };
	static const uint64_t al[3] = { 4, 8, 8 };
	for (int i = 0; i < 3; i++)
		if (ph[i].p_type != ptype[i] || ph[i].p_flags != fl[i] || ph[i].p_align != al[i] || ph[i].p_vaddr ||
		    ph[i].p_paddr || ph[i].p_memsz || (i == 1 && ph[i].p_offset != SNAP_DATA_START)) {
			snap_reader_err(s, "program header %d: a field differs from the one value the format allows", i);
			return -EBADMSG;
		}
	if (!snap_is_zero(head + sizeof(eh) + sizeof(ph), s->data_off - sizeof(eh) - sizeof(ph))) {
		snap_reader_err(s, "the padding after the program headers is not zero");
		return -EBADMSG;
	}
	/* note padding, and the mapping table's reserved bytes, build ID tails and name padding */
	const uint8_t *n = s->raw_notes;
	size_t len = s->raw_notes_len, off = 0;
	while (off + 12 <= len) {
		uint32_t nsz = get32(n + off), dsz = get32(n + off + 4), type = get32(n + off + 8);
		size_t na = (size_t)align_up(nsz, 4), da = (size_t)align_up(dsz, 4);
		const uint8_t *name = n + off + 12, *desc = name + na;
		if (!snap_is_zero(name + nsz, na - nsz) || !snap_is_zero(desc + dsz, da - dsz)) {
			snap_reader_err(s, "note at offset %zu of the note segment: padding is not zero", off);
			return -EBADMSG;
		}
		if (nsz == sizeof(ML_SNAPSHOT_NOTE_OWNER) && !memcmp(name, ML_SNAPSHOT_NOTE_OWNER, nsz) &&
		    type == SNAP_NT_MAPPINGS) {
			size_t p = SNAP_MAP_HDR_SIZE;
			for (size_t i = 0; i < s->nvma; i++) {
				const uint8_t *rec = desc + p;
				uint32_t nl = get32(rec + 60);
				if (!snap_is_zero(rec + 66, 6) || !snap_is_zero(rec + 72 + rec[64], 32 - rec[64]) ||
				    !snap_is_zero(rec + SNAP_MAP_REC_SIZE + nl, (size_t)align_up(nl, 8) - nl)) {
					snap_reader_err(s, "mapping %zu (0x%llx): reserved bytes, build ID tail or name padding not zero",
					     i, (unsigned long long)s->vmas[i].vma.start);
					return -EBADMSG;
				}
				p += SNAP_MAP_REC_SIZE + (size_t)align_up(nl, 8);
			}
			if (p != dsz) {
				snap_reader_err(s, "mapping table: %zu bytes after its last record", (size_t)(dsz - p));
				return -EBADMSG;
			}
		}
		off += 12 + na + da;
	}
	return 0;
}

int ml_snapshot_verify(const ml_snapshot *s, unsigned flags, size_t *bad_ret)
{
	ml__error_clear();
	if (!s)
		return -EINVAL;
	if (bad_ret)
		*bad_ret = SIZE_MAX;
	/* the metadata: layout, padding, and the seal over every byte but the data segment */
	{
		uint8_t *head = malloc(s->data_off);
		if (!head)
			return -ENOMEM;
		int r = snap_pread_all(s->fd, head, s->data_off, 0);
		if (r < 0) {
			free(head);
			if (r == -EBADMSG) /* the end of the file */
				snap_reader_err(s, "the file is shorter than when it was opened: it ends inside its headers");
			return r;
		}
		r = verify_layout(s, head);
		if (r == 0 && s->seal) {
			uint8_t d[32];
			snap_seal(head, s->data_off, s->raw_notes, s->raw_notes_len, s->raw_idx, s->raw_idx_len, d);
			if (memcmp(d, s->seal, 32)) {
				snap_reader_err(s, "the seal does not match: the headers, notes (manifest, saved files, mappings) or "
					"index were changed after the snapshot was written");
				r = -EBADMSG;
			}
		}
		free(head);
		if (r < 0)
			return r;
	}
	/* stored chunks must not share bytes */
	const snap_entry **by_off = malloc((s->total.chunks ? s->total.chunks : 1) * sizeof(*by_off));
	if (!by_off)
		return -ENOMEM;
	size_t nd = 0;
	for (size_t i = 0; i < s->nent; i++)
		if (s->ent[i].kind == SK_DATA)
			by_off[nd++] = &s->ent[i];
	qsort(by_off, nd, sizeof(*by_off), cmp_off);
	/* the chunks must tile the data segment: every stored byte belongs to one chunk */
	uint64_t pos = s->data_off;
	for (size_t i = 0; i <= nd; i++) {
		uint64_t at = i < nd ? by_off[i]->offset : s->data_off + s->data_size;
		if (at != pos) {
			size_t idx = i < nd ? (size_t)(by_off[i] - s->ent) : SIZE_MAX;
			if (at < pos)
				snap_reader_err(s, "chunk %zu (0x%llx) shares file bytes with chunk %zu", idx,
				     (unsigned long long)by_off[i]->addr, (size_t)(by_off[i - 1] - s->ent));
			else
				snap_reader_err(s, "data segment bytes %llu-%llu belong to no chunk", (unsigned long long)pos,
				     (unsigned long long)at);
			if (bad_ret)
				*bad_ret = idx;
			free(by_off);
			return -EBADMSG;
		}
		if (i < nd)
			pos += by_off[i]->csize;
	}
	free(by_off);
	uint8_t *out = malloc(s->chunk_size), *scratch = malloc(s->chunk_size);
	if (!out || !scratch) {
		free(out);
		free(scratch);
		return -ENOMEM;
	}
	int r = 0;
	char err[256];
	for (size_t i = 0; i < s->nent && r == 0; i++) {
		if (s->ent[i].kind != SK_DATA)
			continue;
		r = snap_chunk_load(&s->core, i, out, scratch, true, err, sizeof(err));
		if (r < 0) {
			snap_reader_err(s, "%s", r == -EBADMSG ? err : ml_strerror(r));
			if (bad_ret)
				*bad_ret = i;
		}
	}
	free(out);
	free(scratch);
	if (r == 0 && (flags & ML_SNAPSHOT_VERIFY_SHA256) && s->have_sha) {
		ml__sha256 h;
		ml__sha256_init(&h);
		snap_sink k = { .write = snap_sink_discard, .zeros = snap_sink_discard_zeros, .sha = &h };
		r = snap_expand(&s->core, &k, err, sizeof(err));
		if (r == 0) {
			uint8_t d[32];
			ml__sha256_final(&h, d);
			if (memcmp(d, s->sha, 32)) {
				char a[65], b[65];
				ml__sha256_hex(d, a);
				ml__sha256_hex(s->sha, b);
				snap_reader_err(s, "expanded core SHA-256 %s differs from the manifest's %s", a, b);
				r = -EBADMSG;
			}
		} else {
			snap_reader_err(s, "%s", r == -EBADMSG ? err : ml_strerror(r));
		}
	}
	return r;
}
