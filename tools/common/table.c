/* Aligned text tables. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/table.h"

/*
 * Cells are copied into one growing arena (offset and length per cell), not one
 * allocation each: a table of a few thousand mappings has tens of thousands of cells.
 */
struct table {
	size_t ncols, nrows, cap;
	size_t *off, *len; /* nrows * ncols; row 0 is the header */
	char *arena;
	size_t alen, acap;
	bool *rule;        /* rule before row i */
	bool *right;
	size_t *width;
	bool pending_rule;
};

table *table_new(size_t ncols, const char *const *headers, const bool *right)
{
	table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->ncols = ncols;
	t->right = calloc(ncols, sizeof(bool));
	t->width = calloc(ncols, sizeof(size_t));
	if (!t->right || !t->width || table_add(t, headers) < 0) {
		table_free(t);
		return NULL;
	}
	if (right)
		memcpy(t->right, right, ncols * sizeof(bool));
	return t;
}

int table_add(table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 64;
		size_t *o = realloc(t->off, nc * t->ncols * sizeof(size_t));
		if (!o)
			return -ENOMEM;
		t->off = o;
		size_t *l = realloc(t->len, nc * t->ncols * sizeof(size_t));
		if (!l)
			return -ENOMEM;
		t->len = l;
		bool *r = realloc(t->rule, nc * sizeof(bool));
		if (!r)
			return -ENOMEM;
		memset(r + t->cap, 0, (nc - t->cap) * sizeof(bool));
		t->rule = r;
		t->cap = nc;
	}
	size_t need = 0;
	for (size_t i = 0; i < t->ncols; i++)
		need += cells[i] ? strlen(cells[i]) : 0;
	if (t->alen + need > t->acap) {
		size_t nc = t->acap ? t->acap : 16384;
		while (nc < t->alen + need)
			nc *= 2;
		char *a = realloc(t->arena, nc);
		if (!a)
			return -ENOMEM;
		t->arena = a;
		t->acap = nc;
	}
	t->rule[t->nrows] = t->pending_rule;
	t->pending_rule = false;
	for (size_t i = 0; i < t->ncols; i++) {
		const char *s = cells[i] ? cells[i] : "";
		size_t w = strlen(s), k = t->nrows * t->ncols + i;
		memcpy(t->arena + t->alen, s, w);
		t->off[k] = t->alen;
		t->len[k] = w;
		t->alen += w;
		if (w > t->width[i])
			t->width[i] = w;
	}
	t->nrows++;
	return 0;
}

void table_rule(table *t)
{
	t->pending_rule = true;
}

static void pad(FILE *f, size_t n)
{
	static const char spaces[64] = "                                                                ";
	while (n) {
		size_t k = n < sizeof(spaces) ? n : sizeof(spaces);
		fwrite(spaces, 1, k, f);
		n -= k;
	}
}

void table_print(const table *t, FILE *f)
{
	bool bold = f == stdout && cli_color();
	for (size_t r = 0; r < t->nrows; r++) {
		if (bold && r == 0)
			fputs(SGR_BOLD, f);
		if (t->rule[r]) {
			size_t total = 0;
			for (size_t i = 0; i < t->ncols; i++)
				total += t->width[i] + (i ? 1 : 0);
			for (size_t i = 0; i < total && i < 160; i++)
				fputc('-', f);
			fputc('\n', f);
		}
		for (size_t i = 0; i < t->ncols; i++) {
			size_t k = r * t->ncols + i, w = t->len[k];
			const char *s = t->arena + t->off[k];
			bool last = i + 1 == t->ncols;
			if (i)
				fputc(' ', f);
			if (t->right[i])
				pad(f, t->width[i] - w);
			fwrite(s, 1, w, f);
			if (!t->right[i] && !last)
				pad(f, t->width[i] - w);
		}
		if (bold && r == 0)
			fputs(SGR_RESET, f);
		fputc('\n', f);
	}
}

void table_free(table *t)
{
	if (!t)
		return;
	free(t->off);
	free(t->len);
	free(t->arena);
	free(t->rule);
	free(t->right);
	free(t->width);
	free(t);
}
