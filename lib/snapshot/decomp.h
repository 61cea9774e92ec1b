/* Compressed cores: which codec a file's first bytes name, and decompressing one into a temporary file. */
#ifndef MEMLENS_SNAPSHOT_DECOMP_H
#define MEMLENS_SNAPSHOT_DECOMP_H

#include <stdint.h>
#include <stddef.h>

#include "snapshot/snap.h"

enum { DC_NONE = 0, DC_ZSTD, DC_LZ4, DC_XZ, DC_GZIP };

/* The codec whose magic bytes start @h (@n bytes of the file's start), or DC_NONE. */
int decomp_detect(const uint8_t *h, size_t n);
const char *decomp_name(int codec);

/*
 * Decompresses all of @in (read with pread from offset 0) into an unnamed temporary file
 * in $TMPDIR, else /var/tmp (O_TMPFILE, or a file unlinked at once), written sparsely:
 * every all-zero 4 KiB block is a hole. Concatenated frames or members are followed.
 * At most @max_out bytes (0: no limit), and no more than 64 KiB past the end of the core
 * that its ELF headers describe, once they are decoded.
 * @return 0 the whole stream; 1 the stream stops early (cut short or corrupt, or going on
 *         past the core: @why says where), *ret_fd then holds what came before (for a
 *         corrupt one, up to the end of its last whole frame); -errno (@why says what
 *         failed), -EFBIG more than @max_out.
 */
int decomp_to_tmp(int in, int codec, uint64_t max_out, int *ret_fd, uint64_t *ret_size, char *why, size_t wl);

#endif
