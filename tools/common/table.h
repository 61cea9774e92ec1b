/* Aligned text tables: rows are collected, column widths computed, then printed. */
#ifndef MEMLENS_TOOLS_TABLE_H
#define MEMLENS_TOOLS_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct table table;

#define TABLE_MAX_COLS 64

/* @ncols columns (at most TABLE_MAX_COLS; NULL beyond); @right[i] right-aligns column i (numbers). The last column is never padded. */
table *table_new(size_t ncols, const char *const *headers, const bool *right);
/* Adds a row of @ncols cells (copied; NULL prints as empty). Returns 0 or -ENOMEM. */
int table_add(table *t, const char *const *cells);
/* Adds a separator line before the next row (e.g. before totals). */
void table_rule(table *t);
void table_print(const table *t, FILE *f);
void table_free(table *t);

#endif
