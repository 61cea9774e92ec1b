/* Aligned text tables: rows are collected, column widths computed, then printed. */
#ifndef MEMLENS_TOOLS_TABLE_H
#define MEMLENS_TOOLS_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct ml_table ml_table;

/* @ncols columns; @right[i] right-aligns column i (numbers). The last column is never padded. */
ml_table *ml_table_new(size_t ncols, const char *const *headers, const bool *right);
/* Adds a row of @ncols cells (copied; NULL prints as empty). Returns 0 or -ENOMEM. */
int ml_table_add(ml_table *t, const char *const *cells);
/* Adds a separator line before the next row (e.g. before totals). */
void ml_table_rule(ml_table *t);
void ml_table_print(const ml_table *t, FILE *f);
void ml_table_free(ml_table *t);

#endif
