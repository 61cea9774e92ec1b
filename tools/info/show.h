/* memlens info --show: any Process method by its procfs name, as text or JSON; and what the files behind it (tools/info/show*.c, emit.c) share. */
#ifndef MEMLENS_TOOLS_INFO_SHOW_H
#define MEMLENS_TOOLS_INFO_SHOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <memlens/memlens.h>

#include "common/json.h"

/** Checks @list ("status,net.tcp" or "all"): 0, or -1 after printing a usage line. */
int info_show_check(const char *list);

/** Prints the methods of @list for source @s (opened on @spec); returns an exit code. */
int info_show(const char *spec, ml_source *s, const char *list, bool json, bool human);

/** Writes the method names, one per line, to stdout (for --show=help). */
void info_show_names(void);

/* ---- shared by the show*.c files and emit.c ---- */

/* One writer, two formats: JSON, or an indented "key: value" outline (emit.c). */
#define EM_DEPTH 16

typedef struct em {
	bool json, human;
	json_writer j;
	int depth;                 /* text: open containers (0: the document) */
	bool arr[EM_DEPTH];        /* text: the container at each depth is an array */
	bool item[EM_DEPTH];       /* text: it is an item of an array */
	bool opened[EM_DEPTH];     /* text: its header line was printed */
	bool dash[EM_DEPTH];       /* text: an object item whose first line still owes "- " */
	char hkey[EM_DEPTH][256];   /* text: its key, printed with its first child */
	char key[256];             /* text: the key of the next value */
} em;

void em_key(em *e, const char *k);
void em_begin(em *e, bool array);
void em_end(em *e, bool array);
void em_u64(em *e, uint64_t v);
void em_i64(em *e, int64_t v);
void em_addr(em *e, uint64_t v);
void em_size(em *e, uint64_t v);
void em_bool(em *e, bool v);
void em_null(em *e);
void em_str(em *e, const char *s, size_t len);
void em_cstr(em *e, const char *s);
/* The names of the bits set in @mask from bit @from on (name() NULL: "bitN"), as strings. */
void em_bit_names(em *e, uint32_t mask, unsigned from, const char *(*name)(unsigned));
/* @k, then the bytes @s (@n long), or null when @s is NULL. */
void put_bytes_key(em *e, const char *k, const char *s, size_t n);
/* @k in lower case, for the JSON keys of kernel field names. */
void lower_key(char *out, size_t cap, const char *k);

#define K_U64(e, k, v) (em_key(e, k), em_u64(e, v))
#define K_I64(e, k, v) (em_key(e, k), em_i64(e, v))
#define K_ADDR(e, k, v) (em_key(e, k), em_addr(e, v))
#define K_SIZE(e, k, v) (em_key(e, k), em_size(e, v))
#define K_BOOL(e, k, v) (em_key(e, k), em_bool(e, v))
#define K_STR(e, k, s, n) (em_key(e, k), em_str(e, s, n))
#define K_CSTR(e, k, s) (em_key(e, k), em_cstr(e, s))
#define K_OBJ(e, k) (em_key(e, k), em_begin(e, false))
#define K_ARR(e, k) (em_key(e, k), em_begin(e, true))
#define END_OBJ(e) em_end(e, false)
#define END_ARR(e) em_end(e, true)

/* What a method is shown with: the source, the writer, the errors met so far. */
typedef struct show_ctx {
	const ml_source *s;
	const ml_proc *p;   /* NULL on a snapshot */
	bool live;
	bool zombie;        /* a live handle on a zombie: what left with the address space is ESRCH */
	em *e;
	const char *method; /* the one being shown: names its errors */
	/* errors: "method" or "method.part" -> reason */
	struct { char what[64]; int err; const char *why; } errs[256];
	size_t nerrs;
} show_ctx;

/* Methods return 0 after writing their value, or -errno (nothing written: the caller
 * writes null and names the error). */
typedef int (*show_fn)(show_ctx *c);

/* Reads @name (see show_text()) and parses it with @parse_call over b, n; returns on error. */
#define PARSE_TEXT(c, name, parse_call)                                                                      \
	do {                                                                                                 \
		char *buf_;                                                                                  \
		size_t len_;                                                                                 \
		int r_ = show_text(c, name, &buf_, &len_);                                                   \
		if (r_ < 0)                                                                                  \
			return r_;                                                                           \
		const char *b = buf_;                                                                        \
		size_t n = len_;                                                                             \
		r_ = (parse_call);                                                                           \
		free(buf_);                                                                                  \
		if (r_ < 0)                                                                                  \
			return r_;                                                                           \
	} while (0)

/* On a live process the library's reader (with its liveness and kernel-thread rules);
 * on a snapshot the saved text through the same parser. */
#define READ_OR_PARSE(c, live_call, name, parse_call)                                                        \
	do {                                                                                                 \
		if ((c)->live) {                                                                             \
			int lr_ = (live_call);                                                               \
			if (lr_ < 0)                                                                         \
				return lr_;                                                                  \
		} else {                                                                                     \
			PARSE_TEXT(c, name, parse_call);                                                     \
		}                                                                                            \
	} while (0)

/* show.c: an error of the method being shown, or of its @part. */
void show_err_note(show_ctx *c, const char *part, int err, const char *why);
/* -EOPNOTSUPP unless the source is a live process. */
int show_need_live(show_ctx *c);
/* A /proc file of the source: live, or the copy a snapshot saved (-ENOENT if none). */
int show_text(show_ctx *c, const char *name, char **buf, size_t *len);

/* The methods, one per procfs Process method. show_proc.c: */
int show_cmdline(show_ctx *c);
int show_environ(show_ctx *c);
int show_status(show_ctx *c);
int show_stat(show_ctx *c);
int show_statm(show_ctx *c);
int show_io(show_ctx *c);
int show_auxv(show_ctx *c);
int show_wchan(show_ctx *c);
int show_loginuid(show_ctx *c);
int show_autogroup(show_ctx *c);
int show_schedstat(show_ctx *c);
int show_limits(show_ctx *c);
int show_oom_score(show_ctx *c);
int show_oom_score_adj(show_ctx *c);
int show_coredump_filter(show_ctx *c);
int show_personality(show_ctx *c);
int show_uid(show_ctx *c);
int show_is_alive(show_ctx *c);
/* show_files.c: */
int show_cwd(show_ctx *c);
int show_exe(show_ctx *c);
int show_root(show_ctx *c);
int show_fd_count(show_ctx *c);
int show_fd(show_ctx *c);
int show_mountinfo(show_ctx *c);
int show_mountstats(show_ctx *c);
int show_namespaces(show_ctx *c);
int show_cgroups(show_ctx *c);
int show_tasks(show_ctx *c);
int show_smaps_rollup(show_ctx *c);
int show_maps(show_ctx *c);
/* show_net.c: */
int show_tcp(show_ctx *c);
int show_tcp6(show_ctx *c);
int show_udp(show_ctx *c);
int show_udp6(show_ctx *c);
int show_unix(show_ctx *c);
int show_arp(show_ctx *c);
int show_route(show_ctx *c);
int show_dev_status(show_ctx *c);
int show_snmp(show_ctx *c);
int show_snmp6(show_ctx *c);

#endif
