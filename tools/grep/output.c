/* memlens grep: how a hit is printed (text, JSON, context, heap chunk), units printed in address order, a source's summary. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "grep/command.h"

static void region_label(FILE *f, const ml_vma *v)
{
	char *n = cli_vma_name(v->name, v->name_len, v->deleted);
	fputs(n ? n : "?", f);
	free(n);
}

static bool file_backed(const ml_vma *v)
{
	return v->kind == ML_VMA_FILE || v->kind == ML_VMA_MEMFD || v->kind == ML_VMA_SYSV ||
	       (v->kind == ML_VMA_SHMEM && v->inode);
}

static bool is_print(uint8_t c) { return (c >= 0x20 && c < 0x7f) || c == '\t'; }

/* The match text, UTF-16LE decoded where the match is UTF-16. malloc'd. */
static uint8_t *match_text(const gp_pat *p, const uint8_t *b, size_t n, size_t *ret_len)
{
	uint8_t *t = malloc(n * 6 + 1);
	if (!t)
		return NULL;
	size_t k = 0;
	if (p->enc == GP_ENC_UTF16LE) {
		for (size_t i = 0; i + 1 < n; i += 2) {
			unsigned u = b[i] | (unsigned)b[i + 1] << 8;
			if (u < 0x80)
				t[k++] = (uint8_t)u;
			else
				k += (size_t)sprintf((char *)t + k, "\\u%04x", u);
		}
	} else {
		memcpy(t, b, n);
		k = n;
	}
	*ret_len = k;
	return t;
}

static void put_hex_context(FILE *f, const uint8_t *buf, uint64_t base, size_t from, size_t to)
{
	/* lines start at 16-byte aligned addresses, like memlens read */
	uint64_t nl = gp_hex_lines(base + from, base + to), l = (base + from) & ~(uint64_t)15;
	for (uint64_t k = 0; k < nl; k++, l += 16) {
		fprintf(f, "  %016" PRIx64 ": ", l);
		for (uint64_t j = 0; j < 16; j++) {
			uint64_t i = l + j;
			if (i >= base + from && i < base + to)
				fprintf(f, "%02x ", buf[i - base]);
			else
				fputs("   ", f);
		}
		fputs(" |", f);
		for (uint64_t j = 0; j < 16; j++) {
			uint64_t i = l + j;
			uint8_t c = i >= base + from && i < base + to ? buf[i - base] : ' ';
			fputc(c >= 0x20 && c < 0x7f ? c : '.', f);
		}
		fputs("|\n", f);
	}
}

static bool heap_chunk(src *s, const region *r, uint64_t addr, gp_chunk *c)
{
	if (r->v.kind != ML_VMA_HEAP)
		return false;
	pthread_mutex_lock(&s->mu);
	gp_heap *h = NULL;
	size_t i;
	for (i = 0; i < s->nheaps; i++)
		if (s->heaps[i].start == r->v.start)
			break;
	if (i == s->nheaps && i < sizeof(s->heaps) / sizeof(s->heaps[0])) {
		s->heaps[i].start = r->v.start;
		s->heaps[i].h = gp_heap_walk(r->v.start, r->v.end, grep_heap_read, s);
		s->heaps[i].tried = true;
		s->nheaps++;
	}
	if (i < s->nheaps)
		h = s->heaps[i].h;
	bool ok = h && gp_heap_find(h, addr, grep_heap_read, s, c);
	pthread_mutex_unlock(&s->mu);
	return ok;
}

static void hash_hex(const uint8_t *b, size_t n, char out[17])
{
	uint8_t d[32];
	ml_digest_sha256(b, n, d);
	for (int i = 0; i < 8; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

/* @from: where the matched bytes came from ("memory", "file", "memory+file"), or NULL. */
void grep_format_hit(src *s, FILE *f, const region *r, const gp_hit *h, const uint8_t *buf,
		     size_t len, uint64_t base, const char *from)
{
	const gopts *o = s->o;
	const gp_pat *p = gp_set_pat(s->set, h->pat);
	const gp_user *u = gp_set_user(s->set, p->user);
	uint64_t addr = base + h->start;
	size_t mlen = h->end - h->start;
	const ml_vma *v = &r->v;
	gp_chunk ch;
	bool have_chunk = (o->json || o->where) && heap_chunk(s, r, addr, &ch);
	char hash[17];
	if (o->redact)
		hash_hex(buf + h->start, mlen, hash);
	/* surrounding printable text, unless -o */
	size_t ts = h->start, te = h->end;
	if (!o->only && !o->redact) {
		size_t step = p->enc == GP_ENC_UTF16LE ? 2 : 1;
		for (int k = 0; k < 48 && ts >= step && is_print(buf[ts - step]) &&
				    (step == 1 || buf[ts - 1] == 0); k++)
			ts -= step;
		for (int k = 0; k < 48 && te + step <= len && is_print(buf[te]) &&
				    (step == 1 || buf[te + 1] == 0); k++)
			te += step;
	}
	size_t tl = 0;
	uint8_t *text = o->redact ? NULL : match_text(p, buf + ts, te - ts, &tl);
	if (o->json) {
		json_writer j;
		char perms[5];
		json_init(&j, f);
		json_obj_begin(&j);
		JSON_KSTR(&j, "schema", "memlens.grep/1");
		JSON_KSTR(&j, "type", "match");
		JSON_KSTR(&j, "source", s->label);
		if (s->pid)
			JSON_KI64(&j, "pid", s->pid);
		JSON_KADDR(&j, "address", addr);
		JSON_KU64(&j, "length", mlen);
		JSON_KU64(&j, "pattern_index", p->user);
		if (!o->redact) {
			json_key(&j, "pattern");
			json_str(&j, u->text, u->len);
		}
		JSON_KSTR(&j, "pattern_kind", u->kind == GP_LITERAL ? "literal" : u->kind == GP_HEX ? "hex" : "regex");
		JSON_KSTR(&j, "encoding", p->enc == GP_ENC_UTF16LE ? "utf16le" : "ascii");
		if (from)
			JSON_KSTR(&j, "from", from);
		json_key(&j, "region");
		json_obj_begin(&j);
		JSON_KADDR(&j, "start", v->start);
		JSON_KADDR(&j, "end", v->end);
		json_key(&j, "name");
		json_str(&j, v->name ? v->name : "", v->name ? v->name_len : 0);
		JSON_KSTR(&j, "kind", ml_vma_kind_name(v->kind));
		JSON_KSTR(&j, "perms", ml_vma_perms_str(v->perms, perms));
		JSON_KU64(&j, "offset", addr - v->start);
		if (file_backed(v))
			JSON_KU64(&j, "file_offset", v->offset + (addr - v->start));
		json_obj_end(&j);
		if (have_chunk) {
			json_key(&j, "chunk");
			json_obj_begin(&j);
			JSON_KADDR(&j, "start", ch.start);
			JSON_KU64(&j, "size", ch.size);
			JSON_KBOOL(&j, "in_use", ch.in_use);
			json_obj_end(&j);
		}
		if (o->redact) {
			JSON_KSTR(&j, "sha256_64", hash);
		} else {
			json_key(&j, "text");
			json_str(&j, (const char *)text, tl);
			if (o->ctx) {
				size_t cs = h->start > o->ctx ? h->start - o->ctx : 0;
				size_t ce = h->end + o->ctx < len ? h->end + o->ctx : len;
				JSON_KADDR(&j, "context_address", base + cs);
				json_key(&j, "context_hex");
				char *hx = malloc(2 * (ce - cs) + 1);
				if (hx) {
					for (size_t i = cs; i < ce; i++)
						sprintf(hx + 2 * (i - cs), "%02x", buf[i]);
					json_str(&j, hx, 2 * (ce - cs));
					free(hx);
				} else {
					json_null(&j);
				}
			}
		}
		json_obj_end(&j);
		json_line_end(&j);
		free(text);
		return;
	}
	bool color = cli_color();
	/* the label is a file name: escaped as a region's name is, so no name forges a line */
	fputs(color ? SGR_LABEL : "", f);
	cli_put_escaped(f, s->label, strlen(s->label));
	fprintf(f, "%s:0x%" PRIx64 ":", color ? SGR_RESET : "", addr);
	region_label(f, v);
	fprintf(f, "+0x%" PRIx64 ":", addr - v->start);
	if (o->redact) {
		fprintf(f, "#%zu: [redacted length=%zu sha256/64=%s]\n", p->user + 1, mlen, hash);
	} else {
		cli_put_escaped(f, u->text, u->len);
		if (p->enc == GP_ENC_UTF16LE)
			fputs("(utf16le)", f);
		fputs(": ", f);
		if (color) {
			/* the text around the match as it is, the match itself in colour */
			size_t cut[4] = { ts, h->start, h->end, te };
			for (int k = 0; k < 3; k++) {
				size_t pl = 0;
				uint8_t *piece = match_text(p, buf + cut[k], cut[k + 1] - cut[k], &pl);
				if (k == 1)
					fputs(SGR_MATCH, f);
				if (piece)
					cli_put_escaped(f, (const char *)piece, pl);
				if (k == 1)
					fputs(SGR_RESET, f);
				free(piece);
			}
		} else {
			cli_put_escaped(f, (const char *)text, tl);
		}
		fputc('\n', f);
	}
	if (o->where) {
		char perms[5];
		fprintf(f, "\tregion 0x%" PRIx64 "-0x%" PRIx64 " %s %s", v->start, v->end,
			ml_vma_perms_str(v->perms, perms), ml_vma_kind_name(v->kind));
		if (file_backed(v))
			fprintf(f, " file offset 0x%" PRIx64, v->offset + (addr - v->start));
		if (from && strcmp(from, "memory"))
			fprintf(f, "; read from the mapped file (%s)", strcmp(from, "file") ? "partly not resident" : "not resident");
		if (have_chunk)
			fprintf(f, "; malloc chunk 0x%" PRIx64 " size 0x%" PRIx64 " %s", ch.start, ch.size,
				ch.in_use ? "in use" : "free");
		fputc('\n', f);
	}
	if (o->ctx && !o->redact) {
		size_t cs = h->start > o->ctx ? h->start - o->ctx : 0;
		size_t ce = h->end + o->ctx < len ? h->end + o->ctx : len;
		put_hex_context(f, buf, base, cs, ce);
	}
	free(text);
}

/* The progress line (stderr a terminal only); sources are searched one at a time, and its
 * updates and the printing of hits are made under the source's mutex. */
progress_line grep_progress;

/* Prints (or just counts) the hits a unit holds and empties it; called with s->mu held,
 * when the unit is the next to print. */
static void print_unit_hits(src *s, unit *u)
{
	const gopts *o = s->o;
	size_t from = 0;
	for (size_t i = 0; i < u->nhits; i++) {
		if (o->max && s->printed >= o->max) {
			atomic_store(&s->stop, true);
			break;
		}
		s->printed++;
		s->counts[u->hits[i].user]++;
		if (u->out && !o->count && !o->list && !o->quiet) {
			progress_clear(&grep_progress); /* hits never share a line with it */
			fwrite(u->out + from, 1, u->hits[i].end - from, stdout);
		}
		from = u->hits[i].end;
	}
	if (s->printed && (o->quiet || o->list))
		atomic_store(&s->stop, true);
	if (u->nhits && u->out)
		fflush(stdout); /* hits appear as the scan goes, not at its end */
	free(u->out);
	free(u->hits);
	u->out = NULL;
	u->hits = NULL;
	u->outlen = u->nhits = u->caphits = 0;
}

/* Prints finished units in address order; called with s->mu held. */
void grep_flush_units(src *s)
{
	while (s->next_print < s->produced && s->ring[s->next_print % s->nring].done) {
		unit *u = &s->ring[s->next_print++ % s->nring];
		u->done = false;
		print_unit_hits(s, u);
	}
}

/*
 * A unit whose pending output grows large (a pattern matching everywhere) waits until it is
 * the next to print, then prints what it has and goes on: memory stays bounded whatever the
 * number of hits. The wait also ends when the process is gone (then the unit keeps its hits
 * and its open stream, and adds to them until it is printed in turn) and when nothing more is
 * to be printed (-m reached: what it holds is dropped). Returns 1 when its search may stop.
 */
int grep_spill_unit(src *s, unit *u)
{
	pthread_mutex_lock(&s->mu);
	while (s->next_print != u->idx && !atomic_load(&s->stop) && !atomic_load(&s->gone))
		pthread_cond_wait(&s->cv, &s->mu);
	if (s->next_print == u->idx || atomic_load(&s->stop)) {
		/* the stream's buffer and the hits' ends in it go together: both are emptied
		 * here, or neither is */
		if (u->f) {
			fclose(u->f);
			u->f = NULL;
		}
		if (s->next_print == u->idx) {
			print_unit_hits(s, u);
		} else {
			free(u->out);
			free(u->hits);
			u->out = NULL;
			u->hits = NULL;
			u->outlen = u->nhits = u->caphits = 0;
		}
	}
	int rc = atomic_load(&s->stop) ? 1 : 0;
	pthread_mutex_unlock(&s->mu);
	return rc;
}

FILE *grep_unit_stream(unit *u)
{
	/* without a stream the unit holds no text (grep_spill_unit() empties both at once),
	 * so the hits' ends start again from 0 in the new one */
	if (!u->f)
		u->f = open_memstream(&u->out, &u->outlen);
	return u->f;
}

int grep_unit_add_hit(unit *u, uint32_t user)
{
	if (u->nhits == u->caphits) {
		size_t cap = u->caphits ? 2 * u->caphits : 16;
		struct uhit *n = realloc(u->hits, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		u->hits = n;
		u->caphits = cap;
	}
	size_t end = 0;
	if (u->f) {
		fflush(u->f);
		end = u->outlen;
	}
	u->hits[u->nhits++] = (struct uhit){ user, end };
	return 0;
}

/* ---- the summary of a source ---- */

static const char *const run_kind_name[ML_RUN_KIND_COUNT] = {
	"data", "zero", "unpopulated", "swapped", "excluded", "unreadable", "file",
};

const char *grep_strerror(const src *s)
{
	return s->first_err == GREP_ERR_SCAN ? "the search engine failed" : ml_strerror(s->first_err);
}

bool grep_gone_unread(src *s)
{
	return atomic_load(&s->gone) && !s->st.scanned && !s->printed;
}

void grep_print_summary(src *s, double secs)
{
	const gopts *o = s->o;
	uint64_t err_total = 0;
	for (int k = 0; k < 8; k++)
		err_total += s->st.err_bytes[k];
	bool partial = err_total || atomic_load(&s->gone) || (s->s && ml_source_partial(s->s));
	/* gone before a byte was read: there are no counts to give, not even zeros */
	bool nothing = grep_gone_unread(s);
	if (o->json) {
		json_writer j;
		json_init(&j, stdout);
		json_obj_begin(&j);
		JSON_KSTR(&j, "schema", "memlens.grep/1");
		JSON_KSTR(&j, "type", "summary");
		JSON_KSTR(&j, "source", s->label);
		if (s->pid)
			JSON_KI64(&j, "pid", s->pid);
		JSON_KU64(&j, "matches", s->printed);
		json_key(&j, "counts");
		json_arr_begin(&j);
		for (size_t i = 0; i < gp_set_users(s->set); i++) {
			json_obj_begin(&j);
			JSON_KU64(&j, "pattern_index", i);
			if (!o->redact) {
				json_key(&j, "pattern");
				json_str(&j, gp_set_user(s->set, i)->text, gp_set_user(s->set, i)->len);
			}
			JSON_KU64(&j, "count", s->counts[i]);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		JSON_KU64(&j, "regions", s->nregions);
		JSON_KU64(&j, "bytes_scanned", s->st.scanned);
		json_key(&j, "bytes_skipped");
		json_obj_begin(&j);
		for (int k = 1; k < ML_RUN_KIND_COUNT; k++)
			JSON_KU64(&j, run_kind_name[k], s->st.skipped[k]);
		json_obj_end(&j);
		json_key(&j, "bytes_failed");
		json_obj_begin(&j);
		for (int k = 0; k < ERR_REASONS; k++)
			JSON_KU64(&j, grep_err_reason[k], s->st.err_bytes[k]);
		json_obj_end(&j);
		JSON_KBOOL(&j, "exited", atomic_load(&s->gone));
		JSON_KBOOL(&j, "partial", partial);
		JSON_KSTR(&j, "engine", gp_set_engine_name(s->set));
		json_key(&j, "seconds");
		json_double(&j, secs);
		json_obj_end(&j);
		json_line_end(&j);
	}
	if (o->count && !o->json && !nothing) { /* with --json the counts are in the summary */
		for (size_t i = 0; i < gp_set_users(s->set); i++) {
			const gp_user *u = gp_set_user(s->set, i);
			cli_put_escaped(stdout, s->label, strlen(s->label));
			putchar(':');
			if (o->redact)
				printf("#%zu", i + 1);
			else
				cli_put_escaped(stdout, u->text, u->len);
			printf(":%" PRIu64 "\n", s->counts[i]);
		}
	}
	if (o->list && s->printed && !o->json) {
		cli_put_escaped(stdout, s->label, strlen(s->label));
		putchar('\n');
	}
	if (nothing)
		fprintf(stderr, "memlens grep: %s: the process exited before any of its memory was read\n", s->label);
	else if (atomic_load(&s->gone))
		fprintf(stderr, "memlens grep: %s: the process exited during the scan: partial result\n", s->label);
	else if (err_total && !(o->quiet && s->printed)) {
		/* -q is silent about what it skipped only once a match has answered the question:
		 * "no match" over memory that was not all searched must say so */
		fprintf(stderr, "memlens grep: %s: partial scan: %" PRIu64 " bytes not searched (", s->label, err_total);
		const char *sep = "";
		for (int k = 0; k < ERR_REASONS; k++)
			if (s->st.err_bytes[k]) {
				fprintf(stderr, "%s%" PRIu64 " %s", sep, s->st.err_bytes[k], grep_err_reason[k]);
				sep = ", ";
			}
		if (s->first_err)
			fprintf(stderr, "; first error: %s", grep_strerror(s));
		fputs(")\n", stderr);
	}
	if (o->stats) {
		char b1[32];
		fprintf(stderr, "memlens grep: %s: %zu regions, %s scanned in %.3f s (%s engine)", s->label,
			s->nregions, cli_fmt_size(b1, s->st.scanned, true), secs, gp_set_engine_name(s->set));
		for (int k = 1; k < ML_RUN_KIND_COUNT; k++)
			if (s->st.skipped[k])
				fprintf(stderr, ", %s %s", cli_fmt_size(b1, s->st.skipped[k], true), run_kind_name[k]);
		for (int k = 0; k < ERR_REASONS; k++)
			if (s->st.err_bytes[k])
				fprintf(stderr, ", %s %s", cli_fmt_size(b1, s->st.err_bytes[k], true), grep_err_reason[k]);
		fputc('\n', stderr);
	}
}
