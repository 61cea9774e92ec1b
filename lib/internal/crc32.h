/* Private: the CRC-32 of zlib's crc32() (ISO-HDLC, reflected 0xEDB88320), by carry-less
 * multiplication where the CPU has it; the snapshot format's chunk and section checksums. */
#ifndef MEMLENS_INTERNAL_CRC32_H
#define MEMLENS_INTERNAL_CRC32_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* crc32(@crc, @buf, @len) exactly as zlib computes it (start with 0); zlib must be loaded
 * (ml__dl_need_zlib() or any snapshot entry point): the last bytes and the CPUs without
 * PCLMULQDQ use its table code. */
uint32_t ml__crc32(uint32_t crc, const void *buf, size_t len);

/* Whether ml__crc32() folds with PCLMULQDQ on this CPU (MEMLENS_NO_CLMUL set: never),
 * decided once per process by ml__crc32_choose(). */
int ml__crc32_clmul(void);
bool ml__crc32_choose(bool no_clmul_env, bool cpu_has_clmul);
/* The two ways, whatever was chosen: zlib's code alone; the folding where the CPU has
 * PCLMULQDQ (zlib's code elsewhere). For tests and measurements. */
uint32_t ml__crc32_zlib(uint32_t crc, const void *buf, size_t len);
uint32_t ml__crc32_fold(uint32_t crc, const void *buf, size_t len);

/* x^@n modulo the CRC-32 polynomial, as a plain (not reflected) 32-bit remainder. */
uint32_t ml__crc32_xpow(unsigned n);

#endif
