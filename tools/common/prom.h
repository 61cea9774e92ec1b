/* The Prometheus text exposition format, and atomic files for node_exporter's textfile collector. */
#ifndef MEMLENS_TOOLS_PROM_H
#define MEMLENS_TOOLS_PROM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct prom_label {
	const char *name;
	const char *value; /* exact bytes */
	size_t len;
} prom_label;

/* "# HELP NAME HELP" and "# TYPE NAME TYPE" (@help escaped as the format asks). */
void prom_family(FILE *f, const char *name, const char *help, const char *type);
/*
 * One sample: NAME{l="v",...} VALUE. A label value is written as the text the table shows
 * (valid UTF-8 as it is, a backslash as \\, other bytes as \xNN: every value is UTF-8 and
 * nothing is ambiguous), then escaped for the format (\\, \", \n).
 */
void prom_sample(FILE *f, const char *name, const prom_label *labels, size_t n, uint64_t value);
void prom_sample_double(FILE *f, const char *name, const prom_label *labels, size_t n, double value);

/* Before any work: can @path be replaced by a new file? Prints why not; 0 or CLI_EXIT_ERROR. */
int prom_textfile_check(const char *path);
/*
 * Writes what @fn writes into @path atomically: a temporary file in the same directory
 * (a name starting with '.', which the textfile collector ignores), fsync, then
 * cli_publish() in place of @path (a regular file or nothing: what else appeared there
 * since prom_textfile_check() is left alone and refused), fsync of the directory. A failure
 * leaves @path as it was. Prints why on failure; 0, CLI_EXIT_PARTIAL (in place, but its
 * directory could not be synced: a warning says so) or CLI_EXIT_ERROR.
 */
int prom_textfile_write(const char *path, void (*fn)(FILE *, void *), void *ctx);

#endif
