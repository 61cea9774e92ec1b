/* Private helpers shared by the net table parsers. */
#ifndef MEMLENS_INTERNAL_NETTEXT_H
#define MEMLENS_INTERNAL_NETTEXT_H

#include <stdbool.h>
#include <stddef.h>

#include <memlens/proc.h>

/* Splits [p, end) at runs of spaces/tabs into at most @max words; returns the count. */
size_t ml__split_ws(const char *p, const char *end, const char **ts, const char **te, size_t max);

/* Reads net/NAME through the handle (ml_proc_read_file with -EINVAL on NULL). */
int ml__net_read(const ml_proc *p, const char *name, char **buf, size_t *len);

/* True if [p, end) holds only spaces, tabs or '\r'. */
static inline bool ml__blank_line(const char *p, const char *end)
{
	for (; p < end; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r')
			return false;
	return true;
}

#endif
