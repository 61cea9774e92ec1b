/* Static SVG pictures: built in memory, escaped for XML, published whole by rename. */
#ifndef MEMLENS_TOOLS_SVG_H
#define MEMLENS_TOOLS_SVG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct ml_svg {
	FILE *f;      /* write the picture here (a memory stream) */
	char *buf;
	size_t len;
} ml_svg;

/* Starts a picture of @w x @h pixels with @title (plain text). Returns 0 or -ENOMEM. */
int ml_svg_begin(ml_svg *s, double w, double h, const char *title);
/*
 * Writes @len bytes of a name as XML character data: valid UTF-8 and printable ASCII as
 * they are (markup characters as entities), any other byte as the text \xNN, so a name
 * from /proc (any bytes) never makes the document ill-formed.
 */
void ml_svg_text(FILE *f, const char *s, size_t len);
static inline void ml_svg_ctext(FILE *f, const char *s) { ml_svg_text(f, s, __builtin_strlen(s)); }
/*
 * Ends the picture and publishes it at @path: written to a temporary file in the same
 * directory, fsync'ed, then renamed over @path (with @force) or linked to it (a file that
 * appeared meanwhile is never replaced). Nothing is left behind on failure. Prints why on
 * failure, naming the file; returns 0 or ML_EXIT_ERROR.
 */
int ml_svg_finish(ml_svg *s, const char *path, bool force);
/* Frees a picture that is not published. */
void ml_svg_discard(ml_svg *s);

/* A size for an axis or a label, in binary units: "1.5 GiB", "512 KiB", "12 B". */
const char *ml_svg_fmt_bytes(char buf[32], double bytes);

#endif
