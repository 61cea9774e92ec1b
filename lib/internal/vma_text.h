/* Private: the maps/smaps header-line parser and the naming rules shared by lib/maps.c and lib/smaps.c. */
#ifndef MEMLENS_INTERNAL_VMA_TEXT_H
#define MEMLENS_INTERNAL_VMA_TEXT_H

#include <memlens/maps.h>

#include "internal/internal.h"

/* One maps-format line as parsed: the numeric fields plus the name as it appears in the text. */
typedef struct ml__vma_line {
	ml_vma v;             /* name/name_len/deleted/kind unset */
	const char *name;     /* raw text of the name field (still escaped), within the line */
	size_t name_len;
} ml__vma_line;

/*
 * Parses one line [p, eol) of the maps format ("start-end perms offset maj:min inode   name").
 * @return 0, or -EBADMSG.
 */
int ml__vma_line_parse(const char *p, const char *eol, ml__vma_line *ret);

/*
 * Appends the decoded name of @raw (text form: "\012" -> '\n' when @unescape) to @names,
 * strips one trailing " (deleted)" into v->deleted and classifies v->kind. v->name is
 * left NULL; ret_off and ret_len give the name's place in @names (NUL-terminated there).
 * Sets *ret_escaped when an "\012" was decoded.
 */
int ml__vma_name_add(ml_vma *v, const char *raw, size_t len, bool unescape, ml_buf *names,
		     size_t *ret_off, size_t *ret_len, bool *ret_escaped);

/* Decides v->kind from its (decoded, suffix-stripped) name, inode and perms. */
ml_vma_kind ml__vma_classify(const char *name, size_t len, bool deleted, uint64_t inode);

#define ML__DELETED_SUFFIX " (deleted)"
#define ML__DELETED_SUFFIX_LEN 10

#endif
