/* Aligned text tables. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/table.h"

struct ml_table {
	size_t ncols, nrows, cap;
	char **cells;   /* nrows * ncols; row 0 is the header */
	bool *rule;     /* rule before row i */
	bool *right;
	size_t *width;
	bool pending_rule;
};

ml_table *ml_table_new(size_t ncols, const char *const *headers, const bool *right)
{
	ml_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->ncols = ncols;
	t->right = calloc(ncols, sizeof(bool));
	t->width = calloc(ncols, sizeof(size_t));
	if (!t->right || !t->width || ml_table_add(t, headers) < 0) {
		ml_table_free(t);
		return NULL;
	}
	if (right)
		memcpy(t->right, right, ncols * sizeof(bool));
	return t;
}

int ml_table_add(ml_table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 64;
		char **c = realloc(t->cells, nc * t->ncols * sizeof(char *));
		if (!c)
			return -ENOMEM;
		t->cells = c;
		bool *r = realloc(t->rule, nc * sizeof(bool));
		if (!r)
			return -ENOMEM;
		memset(r + t->cap, 0, (nc - t->cap) * sizeof(bool));
		t->rule = r;
		t->cap = nc;
	}
	t->rule[t->nrows] = t->pending_rule;
	t->pending_rule = false;
	for (size_t i = 0; i < t->ncols; i++) {
		const char *s = cells[i] ? cells[i] : "";
		char *d = strdup(s);
		if (!d) {
			while (i--)
				free(t->cells[t->nrows * t->ncols + i]);
			return -ENOMEM;
		}
		t->cells[t->nrows * t->ncols + i] = d;
		size_t w = strlen(s);
		if (w > t->width[i])
			t->width[i] = w;
	}
	t->nrows++;
	return 0;
}

void ml_table_rule(ml_table *t)
{
	t->pending_rule = true;
}

void ml_table_print(const ml_table *t, FILE *f)
{
	for (size_t r = 0; r < t->nrows; r++) {
		if (t->rule[r]) {
			size_t total = 0;
			for (size_t i = 0; i < t->ncols; i++)
				total += t->width[i] + (i ? 1 : 0);
			for (size_t i = 0; i < total && i < 160; i++)
				fputc('-', f);
			fputc('\n', f);
		}
		for (size_t i = 0; i < t->ncols; i++) {
			const char *s = t->cells[r * t->ncols + i];
			int w = (int)t->width[i];
			bool last = i + 1 == t->ncols;
			if (i)
				fputc(' ', f);
			if (t->right[i])
				fprintf(f, "%*s", w, s);
			else if (last)
				fputs(s, f);
			else
				fprintf(f, "%-*s", w, s);
		}
		fputc('\n', f);
	}
}

void ml_table_free(ml_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->rule);
	free(t->right);
	free(t->width);
	free(t);
}
