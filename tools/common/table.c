/* Aligned text tables. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/table.h"

/*
 * Rows are appended to one arena as they come: per row a rule flag byte, then per cell its
 * length (4 bytes) and its text. Printing walks the arena in order, so no cell needs an
 * index: a table of a few thousand mappings has tens of thousands of cells, and offsets
 * and lengths per cell would take more memory (and page faults) than their text.
 */
struct table {
	size_t ncols, nrows;
	char *arena;
	size_t alen, acap;
	bool *right;
	size_t *width;
	bool pending_rule;
};

table *table_new(size_t ncols, const char *const *headers, const bool *right)
{
	if (ncols > TABLE_MAX_COLS)
		return NULL;
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
	/* each cell's length, measured once (tables have a few dozen columns at most) */
	size_t lens[TABLE_MAX_COLS], need = 1;
	for (size_t i = 0; i < t->ncols; i++) {
		lens[i] = cells[i] ? strlen(cells[i]) : 0;
		need += sizeof(uint32_t) + lens[i];
	}
	if (need > UINT32_MAX / 2) /* a cell's length is kept in 4 bytes */
		return -ENOMEM;
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
	char *o = t->arena + t->alen;
	*o++ = t->pending_rule;
	t->pending_rule = false;
	for (size_t i = 0; i < t->ncols; i++) {
		const char *c = cells[i] ? cells[i] : "";
		uint32_t w = (uint32_t)lens[i];
		memcpy(o, &w, sizeof(w));
		o += sizeof(w);
		memcpy(o, c, w);
		o += w;
		if (w > t->width[i])
			t->width[i] = w;
	}
	t->alen = (size_t)(o - t->arena);
	t->nrows++;
	return 0;
}

void table_rule(table *t)
{
	t->pending_rule = true;
}

/* Output is assembled in one buffer and written in large pieces: a table of a few thousand
 * rows would otherwise be tens of thousands of stdio calls. */
typedef struct {
	FILE *f;
	char buf[65536];
	size_t n;
} obuf;

static void ob_flush(obuf *o)
{
	if (o->n)
		fwrite(o->buf, 1, o->n, o->f);
	o->n = 0;
}

static void ob_put(obuf *o, const char *s, size_t n)
{
	while (n) {
		if (o->n == sizeof(o->buf))
			ob_flush(o);
		size_t k = sizeof(o->buf) - o->n < n ? sizeof(o->buf) - o->n : n;
		memcpy(o->buf + o->n, s, k);
		o->n += k;
		s += k;
		n -= k;
	}
}

static void ob_fill(obuf *o, char c, size_t n)
{
	while (n) {
		if (o->n == sizeof(o->buf))
			ob_flush(o);
		size_t k = sizeof(o->buf) - o->n < n ? sizeof(o->buf) - o->n : n;
		memset(o->buf + o->n, c, k);
		o->n += k;
		n -= k;
	}
}

void table_print(const table *t, FILE *f)
{
	bool bold = f == stdout && cli_color();
	obuf ob, *o = &ob;
	o->f = f;
	o->n = 0;
	const unsigned char *a = (const unsigned char *)t->arena;
	for (size_t r = 0; r < t->nrows; r++) {
		if (bold && r == 0)
			ob_put(o, SGR_BOLD, strlen(SGR_BOLD));
		if (*a++) {
			size_t total = 0;
			for (size_t i = 0; i < t->ncols; i++)
				total += t->width[i] + (i ? 1 : 0);
			ob_fill(o, '-', total < 160 ? total : 160);
			ob_put(o, "\n", 1);
		}
		for (size_t i = 0; i < t->ncols; i++) {
			uint32_t w;
			memcpy(&w, a, sizeof(w));
			const char *s = (const char *)a + sizeof(w);
			a += sizeof(w) + w;
			bool last = i + 1 == t->ncols;
			if (i)
				ob_put(o, " ", 1);
			if (t->right[i])
				ob_fill(o, ' ', t->width[i] - w);
			ob_put(o, s, w);
			if (!t->right[i] && !last)
				ob_fill(o, ' ', t->width[i] - w);
		}
		if (bold && r == 0)
			ob_put(o, SGR_RESET, strlen(SGR_RESET));
		ob_put(o, "\n", 1);
	}
	ob_flush(o);
}

void table_free(table *t)
{
	if (!t)
		return;
	free(t->arena);
	free(t->right);
	free(t->width);
	free(t);
}
