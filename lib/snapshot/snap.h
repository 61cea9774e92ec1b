/* Private side of the snapshot format: on-disk constants, the shared core model, SHA-256, publishing. */
#ifndef MEMLENS_SNAPSHOT_SNAP_H
#define MEMLENS_SNAPSHOT_SNAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include <memlens/snapshot.h>

#include "internal/internal.h"
#include "internal/sha256.h"

/* ---- on-disk constants (docs/snapshot-format.md) ---- */

#define SNAP_PT_DATA  0x6d6c0001u /* PT_LOOS range: "ml" + 1 */
#define SNAP_PT_INDEX 0x6d6c0002u

#define SNAP_DATA_START 4096u     /* the writer's data segment starts here */
#define SNAP_MAX_HEAD (1u << 20)  /* readers refuse a larger header area */

/* owner "MEMLENS"; numbers away from the core note types readers decode by number */
#define SNAP_NT_MANIFEST 0x4d4c0001u /* JSON manifest */
#define SNAP_NT_MAPPINGS 0x4d4c0002u /* binary mapping table */
#define SNAP_NT_PROCFILE 0x4d4c0003u /* NUL-terminated file name, then the bytes */
#define SNAP_NT_SEAL     0x4d4c0004u /* SHA-256 of every byte but the data segment: the last note */
#define SNAP_SEAL_LEN    32u

/* The seal: SHA-256 of the header area @head (@head_len bytes), the note segment @notes
 * (its last SNAP_SEAL_LEN bytes, the seal itself, left out) and the index segment @idx
 * with its note checksum (bytes 52-55) and header checksum (76-79) taken as zero. */
void snap_seal(const uint8_t *head, size_t head_len, const uint8_t *notes, size_t notes_len, const uint8_t *idx,
	       size_t idx_len, uint8_t out[32]);

#define SNAP_IDX_MAGIC "MLCINDEX"
#define SNAP_IDX_HDR_SIZE 80u
#define SNAP_IDX_ENT_SIZE 40u

#define SNAP_MAP_HDR_SIZE 16u     /* u32 version, u32 record size, u64 count */
#define SNAP_MAP_REC_SIZE 104u    /* fixed part of a mapping record */

/* kind codes stored in index entries */
enum { SK_DATA = 0, SK_ZERO = 1, SK_UNPOPULATED = 2, SK_EXCLUDED = 3, SK_UNREADABLE = 4, SK_COUNT };
enum { SC_NONE = 0, SC_ZLIB = 1, SC_RAW = 2, SC_LZ4 = 3, SC_ZSTD = 4, SC_COUNT };

#define SNAP_CORE_ALIGN 4096u     /* ELF_EXEC_PAGESIZE: data alignment of the expanded core */
#define SNAP_MAX_NOTE   (1u << 30)
#define SNAP_MAX_VMAS   (1u << 28)

static inline void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static inline void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static inline uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static inline uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

int snap_kind_to_run(int sk);           /* SK_* -> ml_run_kind */
int snap_run_to_kind(ml_run_kind k);    /* ml_run_kind -> SK_*, or -1 */

/* ---- the core model shared by writer (for its digest) and reader ---- */

typedef struct snap_entry {
	uint64_t addr, len;
	uint64_t offset;
	uint32_t csize, crc;
	uint8_t kind, codec;
	uint32_t vma;        /* index of the mapping (in memory only) */
} snap_entry;

typedef struct snap_core {
	int fd;                          /* file holding the chunks */
	const uint8_t *notes;            /* canonical notes, serialised as in the core */
	size_t notes_len;
	const ml_snapshot_vma *vmas;
	size_t nvma;
	const snap_entry *ent;
	size_t nent;
	uint32_t chunk_size;
	uint16_t machine;                /* e_machine */
	uint8_t osabi;
} snap_core;

/* Serialises one note (4-byte aligned, as the kernel does) onto @b. */
int snap_note_append(ml_buf *b, const char *name, uint32_t type, const void *desc, size_t len);

/* Size of the expanded core, and the offset of its data area. */
uint64_t snap_core_size(const snap_core *c);

/* Reads and inflates data entry @i into @out (entry len bytes), checking sizes and CRC.
 * @scratch holds at least chunk_size bytes (for compressed input). @strict also checks
 * the zlib stream's own Adler-32 (verify does; reads rely on the CRC-32).
 * -EBADMSG with @err filled when the chunk is corrupt; -EIO on a read error. */
int snap_chunk_load(const snap_core *c, size_t i, uint8_t *out, uint8_t *scratch, bool strict,
		    char *err, size_t errlen);

/* Where expanded bytes go. */
typedef struct snap_sink {
	int (*write)(struct snap_sink *k, const void *p, size_t n);
	int (*zeros)(struct snap_sink *k, uint64_t n);
	int (*finish)(struct snap_sink *k);
	ml__sha256 *sha;                    /* hashed on the way, or NULL */
	ml_snapshot_progress_fn progress;
	void *progress_ctx;
	uint64_t done, total;
} snap_sink;

/* A sink's write and zeros that keep nothing: for a sink that only hashes (.sha). */
int snap_sink_discard(snap_sink *k, const void *p, size_t n);
int snap_sink_discard_zeros(snap_sink *k, uint64_t n);

/* The headers, notes and padding of the expanded core (everything before the data), and
 * what follows the data (the section header holding the count when e_phnum overflows). */
int snap_core_head(const snap_core *c, snap_sink *k, uint64_t *ret_data_off);
int snap_core_tail(const snap_core *c, snap_sink *k);

/* What every reader of a core (elfcore.c, gzsource.c) takes from its ELF header: true for
 * a 64-bit little-endian ET_CORE header (@eh is an Elf64_Ehdr, read raw from the file). */
bool snap_ehdr_is_core64(const void *eh);
/* Appends one line of kernel-layout maps text for a PT_LOAD (its p_flags, file offset of
 * its mapping, name of @name_len bytes with '\n' written as "\012" as the kernel does). */
int snap_maps_line(ml_buf *b, uint64_t vaddr, uint64_t memsz, uint32_t flags, uint64_t pgoff,
		   const char *name, size_t name_len);
/* libelf's translation of @n bytes of Elf64 structures of libelf type @type to file form. */
int snap_xlate_out(void *dst, const void *src, size_t n, int type);

/* Streams the expanded core into @k (including finish). @err gets a description of a
 * corrupt chunk. */
int snap_expand(const snap_core *c, snap_sink *k, char *err, size_t errlen);

/* The reader's core model, and setting its (per-thread) error message. */
const snap_core *snap_reader_core(const ml_snapshot *s);
void snap_reader_set_error(const ml_snapshot *s, const char *msg);
/* The corrupt chunk holding @addr (its whole range), checked by decoding it. -ENOENT when
 * the entry there is not a data chunk or decodes fine. */
int snap_reader_damage(const ml_snapshot *s, uint64_t addr, uint64_t *ret_lo, uint64_t *ret_hi);

/* ---- JSON manifest ---- */

typedef struct snap_kv {
	char *key;   /* "pid", "bytes.data", "extra.foo" */
	char *val;   /* string value (unescaped) or the number/literal text */
	size_t val_len;
	bool is_str;
} snap_kv;

/* Parses a JSON object (nested objects flattened to "a.b"; arrays skipped). -EBADMSG. */
int snap_json_parse(const char *buf, size_t len, snap_kv **ret, size_t *ret_n);
void snap_kv_free(snap_kv *kv, size_t n);
const snap_kv *snap_kv_get(const snap_kv *kv, size_t n, const char *key);

/* Appends @s as a JSON string of exact bytes (invalid UTF-8 as "\\xNN" text). */
int snap_json_str(ml_buf *b, const char *s, size_t len);
/* Whether a manifest string of @s loses bytes: a byte that is not part of valid UTF-8 is
 * kept only as the text "\\xNN", which a name may also hold as it is (the manifest's
 * "exact" object then has its bytes). */
bool snap_text_lossy(const char *s, size_t len);
/* Appends the text a manifest string of @s reads back as (valid UTF-8 as it is, other bytes
 * as "\\xNN"). */
int snap_text_of(ml_buf *b, const char *s, size_t len);

/* ---- creating output files ---- */

typedef struct snap_out {
	int fd;
	int dirfd;
	char *path;       /* final path */
	char *base;       /* final name within dirfd */
	char *tmpname;    /* named temporary (fallback), or NULL with O_TMPFILE */
	bool overwrite;
	bool published;     /* in place at @path: never removed from here on */
	int unsynced;       /* published, but this -errno came after (see snap_out_publish) */
	const char *unsynced_what; /* what failed then: "syncing its directory", "closing it" */
} snap_out;

/* Creates the unnamed (or hidden temporary) file for @path. -EEXIST, -ELOOP, open errors. */
int snap_out_open(snap_out *o, const char *path, bool overwrite);
/*
 * fsyncs, links or renames into place (never over anything but a regular file, and over
 * that only with overwrite), fsyncs the directory. 0; 1 when the file is in place and
 * complete but syncing the directory (or closing the file) failed afterwards: o->unsynced
 * and o->unsynced_what say how; -errno when nothing was published.
 */
int snap_out_publish(snap_out *o);
/* The directory fsync of snap_out_publish(); tests replace it to make it fail. */
extern int (*snap_out_fsync_dir)(int fd);
/* Closes and removes whatever is not published. */
void snap_out_discard(snap_out *o);

/* Writes all of @n bytes at @off (EINTR and short writes retried; ENOSPC reported). */
int snap_pwrite_all(int fd, const void *p, size_t n, uint64_t off);
int snap_write_all(int fd, const void *p, size_t n);
/* Reads all of @n bytes at @off: 0, -errno, or -EBADMSG where the file ends first. */
int snap_pread_all(int fd, void *p, size_t n, uint64_t off);

/* True when all @n bytes are zero. */
bool snap_is_zero(const void *p, size_t n);

/* ---- gzip export as a source (gzsource.c) ---- */

/* Opens a `memlens core export` file on @fd (taken over, closed on failure) as a source.
 * -EBADMSG with *ret_msg (malloc'd, may be NULL) saying what is wrong. */
int snap_gz_source_open_fd(int fd, ml_source **ret, char **ret_msg);

/* True when @fd holds an ELF core with memlens's index segment (an mlcore, perhaps a
 * damaged one), as opposed to any other file (elfcore.c). */
bool snap_is_mlcore(int fd);

void snap_fmt(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
