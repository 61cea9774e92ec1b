/* Private helpers shared by the net table, mountinfo and mountstats readers. */
#ifndef MEMLENS_INTERNAL_NETTEXT_H
#define MEMLENS_INTERNAL_NETTEXT_H

#include <stdbool.h>
#include <errno.h>
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

/*
 * A zombie has given up its namespaces: opening its net/ files gives ENOENT, its
 * mountinfo EINVAL, and files that were owned by its user now belong to root (no mm left
 * to take the owner from), so other users get EACCES. There is nothing behind any of
 * them any more: that is "gone", like every other read of a dead process.
 */
static inline int ml__dead_is_gone(const ml_proc *p, int r)
{
	if ((r == -ENOENT || r == -EINVAL || r == -EACCES || r == -EPERM) && ml_proc_is_live(p) &&
	    ml_proc_alive(p) == 0)
		return -ESRCH;
	return r;
}


/*
 * The accessors every record table of the net readers shares, defined once: read (the file
 * through the handle, then the pure parser prefix##_parse), count and get. @table_t has
 * fields v (records) and n.
 */
#define ML__NET_TABLE_ACCESSORS(prefix, table_t, rec_t, file)                  \
	int prefix##_read(const ml_proc *p, table_t **ret)                     \
	{                                                                       \
		if (!p || !ret)                                                 \
			return -EINVAL;                                         \
		char *buf;                                                      \
		size_t len;                                                     \
		int r = ml__net_read(p, file, &buf, &len);                      \
		if (r < 0)                                                      \
			return r;                                               \
		r = prefix##_parse(buf, len, ret);                              \
		free(buf);                                                      \
		return r;                                                       \
	}                                                                       \
	size_t prefix##_count(const table_t *t) { return t ? t->n : 0; }        \
	const rec_t *prefix##_get(const table_t *t, size_t i)                   \
	{                                                                       \
		return t && i < t->n ? &t->v[i] : NULL;                         \
	}

#endif
