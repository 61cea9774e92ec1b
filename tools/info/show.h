/* memlens info --show: any Process method by its procfs name, as text or JSON. */
#ifndef MEMLENS_TOOLS_INFO_SHOW_H
#define MEMLENS_TOOLS_INFO_SHOW_H

#include <stdbool.h>

struct ml_source;

/** Checks @list ("status,net.tcp" or "all"): 0, or -1 after printing a usage line. */
int ml_info_show_check(const char *list);

/** Prints the methods of @list for source @s (opened on @spec); returns an exit code. */
int ml_info_show(const char *spec, struct ml_source *s, const char *list, bool json, bool human);

/** Writes the method names, one per line, to stdout (for --show=help). */
void ml_info_show_names(void);

#endif
