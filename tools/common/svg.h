/* Static SVG pictures: built in memory, escaped for XML, published whole (cli_publish()). */
#ifndef MEMLENS_TOOLS_SVG_H
#define MEMLENS_TOOLS_SVG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct svg_doc {
	FILE *f;      /* write the picture here (a memory stream) */
	char *buf;
	size_t len;
} svg_doc;

/* Starts a picture of @w x @h pixels with @title (plain text). Returns 0 or -ENOMEM. */
int svg_begin(svg_doc *s, double w, double h, const char *title);
/*
 * Writes @len bytes of a name as XML character data: valid UTF-8 and printable ASCII as
 * they are (markup characters as entities), any other byte as the text \xNN, so a name
 * from /proc (any bytes) never makes the document ill-formed.
 */
void svg_text(FILE *f, const char *s, size_t len);
static inline void svg_ctext(FILE *f, const char *s) { svg_text(f, s, __builtin_strlen(s)); }
/*
 * Ends the picture and publishes it at @path: written to a temporary file in the same
 * directory, fsync'ed, then put in place by cli_publish(): over a regular file only with
 * @force, never over anything else, nor over a file that appeared meanwhile without @force.
 * Nothing is left behind on failure. Prints why on failure, naming the file; returns 0,
 * CLI_EXIT_PARTIAL (in place, but its directory could not be synced: a warning says so) or
 * CLI_EXIT_ERROR.
 */
int svg_finish(svg_doc *s, const char *path, bool force);
/* Frees a picture that is not published. */
void svg_discard(svg_doc *s);

/* A size for an axis or a label, in binary units: "1.5 GiB", "512 KiB", "12 B". */
const char *svg_fmt_bytes(char buf[32], double bytes);

#endif
