/*
 * The compression and ELF libraries (zlib, LZ4, zstd, liblzma, libelf), loaded with dlopen
 * the first time a snapshot or core is opened or written, not at every start.
 *
 * Only snapshots and cores need them; a command that reads a live process (maps, pagemap,
 * info, wss, ps) would otherwise pay for mapping and relocating five libraries at every
 * start, which is a third of `memlens --version`'s run time (docs/benchmarks.md).
 *
 * Every public entry point that can reach one of these libraries calls ml__dl_load() first
 * and fails with -ELIBACC and the reason in ml_error_detail() if one cannot be loaded. A
 * file that includes this header with ML__DL_REDIRECT defined has its calls of the
 * libraries' functions go through the table, which ml__dl_fns() loads if nothing has yet.
 */
#ifndef MEMLENS_LIB_INTERNAL_DL_H
#define MEMLENS_LIB_INTERNAL_DL_H

#include <gelf.h>
#include <libelf.h>
#include <lz4.h>
#include <lz4frame.h>
#include <lz4hc.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

/* The functions used, by library, in the order of libs[] in dl.c: one list gives the
 * table's slots and the names looked up. */
#define ML__DL_ZLIB(X) X(crc32) X(deflate) X(deflateEnd) X(deflateInit2_) X(deflateInit_) \
	X(deflateReset) X(inflate) X(inflateEnd) X(inflateInit2_) X(inflateReset) X(uncompress2)
#define ML__DL_LZ4(X) X(LZ4F_createDecompressionContext) X(LZ4F_decompress) \
	X(LZ4F_freeDecompressionContext) X(LZ4F_getErrorName) X(LZ4F_isError) \
	X(LZ4_compress_HC_extStateHC) X(LZ4_compress_default) X(LZ4_decompress_safe) X(LZ4_sizeofStateHC)
#define ML__DL_ZSTD(X) X(ZSTD_CCtx_setParameter) X(ZSTD_compress2) X(ZSTD_createCCtx) \
	X(ZSTD_createDStream) X(ZSTD_decompress) X(ZSTD_decompressStream) X(ZSTD_findFrameCompressedSize) \
	X(ZSTD_freeCCtx) X(ZSTD_freeDStream) X(ZSTD_getErrorName) X(ZSTD_getFrameContentSize) \
	X(ZSTD_initDStream) X(ZSTD_isError) X(ZSTD_maxCLevel)
#define ML__DL_LZMA(X) X(lzma_code) X(lzma_end) X(lzma_stream_decoder)
#define ML__DL_ELF(X) X(elf64_xlatetof) X(elf_begin) X(elf_end) X(elf_errmsg) X(elf_getdata_rawchunk) \
	X(elf_getphdrnum) X(elf_kind) X(elf_version) X(gelf_getehdr) X(gelf_getnote) X(gelf_getphdr)

#define ML__DL_SLOT(f) __typeof__(f) *f;
typedef struct ml__dl_table {
	ML__DL_ZLIB(ML__DL_SLOT)
	ML__DL_LZ4(ML__DL_SLOT)
	ML__DL_ZSTD(ML__DL_SLOT)
	ML__DL_LZMA(ML__DL_SLOT)
	ML__DL_ELF(ML__DL_SLOT)
} ml__dl_table;
#undef ML__DL_SLOT

/* Loads the five libraries once (thread-safe). 0, or -ELIBACC with ml_error_detail() naming
 * the library and the loader's reason; every later call gives the same answer. */
int ml__dl_load(void);
/* The table, loaded if it was not. Only reached after ml__dl_load() succeeded: if a library
 * cannot be loaded here, it says which on stderr and aborts instead of calling NULL. */
const ml__dl_table *ml__dl_fns(void);
/* Tests: make loading fail as if library @soname_prefix ("libz", "liblz4", ...) were
 * missing. Takes effect only before the first load. */
void ml__dl_deny_for_tests(const char *soname_prefix);

#ifdef ML__DL_REDIRECT
#define crc32(...) (ml__dl_fns()->crc32(__VA_ARGS__))
#define deflate(...) (ml__dl_fns()->deflate(__VA_ARGS__))
#define deflateEnd(...) (ml__dl_fns()->deflateEnd(__VA_ARGS__))
#define deflateInit2_(...) (ml__dl_fns()->deflateInit2_(__VA_ARGS__))
#define deflateInit_(...) (ml__dl_fns()->deflateInit_(__VA_ARGS__))
#define deflateReset(...) (ml__dl_fns()->deflateReset(__VA_ARGS__))
#define inflate(...) (ml__dl_fns()->inflate(__VA_ARGS__))
#define inflateEnd(...) (ml__dl_fns()->inflateEnd(__VA_ARGS__))
#define inflateInit2_(...) (ml__dl_fns()->inflateInit2_(__VA_ARGS__))
#define inflateReset(...) (ml__dl_fns()->inflateReset(__VA_ARGS__))
#define uncompress2(...) (ml__dl_fns()->uncompress2(__VA_ARGS__))
#define LZ4F_createDecompressionContext(...) (ml__dl_fns()->LZ4F_createDecompressionContext(__VA_ARGS__))
#define LZ4F_decompress(...) (ml__dl_fns()->LZ4F_decompress(__VA_ARGS__))
#define LZ4F_freeDecompressionContext(...) (ml__dl_fns()->LZ4F_freeDecompressionContext(__VA_ARGS__))
#define LZ4F_getErrorName(...) (ml__dl_fns()->LZ4F_getErrorName(__VA_ARGS__))
#define LZ4F_isError(...) (ml__dl_fns()->LZ4F_isError(__VA_ARGS__))
#define LZ4_compress_HC_extStateHC(...) (ml__dl_fns()->LZ4_compress_HC_extStateHC(__VA_ARGS__))
#define LZ4_compress_default(...) (ml__dl_fns()->LZ4_compress_default(__VA_ARGS__))
#define LZ4_decompress_safe(...) (ml__dl_fns()->LZ4_decompress_safe(__VA_ARGS__))
#define LZ4_sizeofStateHC(...) (ml__dl_fns()->LZ4_sizeofStateHC(__VA_ARGS__))
#define ZSTD_CCtx_setParameter(...) (ml__dl_fns()->ZSTD_CCtx_setParameter(__VA_ARGS__))
#define ZSTD_compress2(...) (ml__dl_fns()->ZSTD_compress2(__VA_ARGS__))
#define ZSTD_createCCtx(...) (ml__dl_fns()->ZSTD_createCCtx(__VA_ARGS__))
#define ZSTD_createDStream(...) (ml__dl_fns()->ZSTD_createDStream(__VA_ARGS__))
#define ZSTD_decompress(...) (ml__dl_fns()->ZSTD_decompress(__VA_ARGS__))
#define ZSTD_decompressStream(...) (ml__dl_fns()->ZSTD_decompressStream(__VA_ARGS__))
#define ZSTD_findFrameCompressedSize(...) (ml__dl_fns()->ZSTD_findFrameCompressedSize(__VA_ARGS__))
#define ZSTD_freeCCtx(...) (ml__dl_fns()->ZSTD_freeCCtx(__VA_ARGS__))
#define ZSTD_freeDStream(...) (ml__dl_fns()->ZSTD_freeDStream(__VA_ARGS__))
#define ZSTD_getErrorName(...) (ml__dl_fns()->ZSTD_getErrorName(__VA_ARGS__))
#define ZSTD_getFrameContentSize(...) (ml__dl_fns()->ZSTD_getFrameContentSize(__VA_ARGS__))
#define ZSTD_initDStream(...) (ml__dl_fns()->ZSTD_initDStream(__VA_ARGS__))
#define ZSTD_isError(...) (ml__dl_fns()->ZSTD_isError(__VA_ARGS__))
#define ZSTD_maxCLevel(...) (ml__dl_fns()->ZSTD_maxCLevel(__VA_ARGS__))
#define lzma_code(...) (ml__dl_fns()->lzma_code(__VA_ARGS__))
#define lzma_end(...) (ml__dl_fns()->lzma_end(__VA_ARGS__))
#define lzma_stream_decoder(...) (ml__dl_fns()->lzma_stream_decoder(__VA_ARGS__))
#define elf64_xlatetof(...) (ml__dl_fns()->elf64_xlatetof(__VA_ARGS__))
#define elf_begin(...) (ml__dl_fns()->elf_begin(__VA_ARGS__))
#define elf_end(...) (ml__dl_fns()->elf_end(__VA_ARGS__))
#define elf_errmsg(...) (ml__dl_fns()->elf_errmsg(__VA_ARGS__))
#define elf_getdata_rawchunk(...) (ml__dl_fns()->elf_getdata_rawchunk(__VA_ARGS__))
#define elf_getphdrnum(...) (ml__dl_fns()->elf_getphdrnum(__VA_ARGS__))
#define elf_kind(...) (ml__dl_fns()->elf_kind(__VA_ARGS__))
#define elf_version(...) (ml__dl_fns()->elf_version(__VA_ARGS__))
#define gelf_getehdr(...) (ml__dl_fns()->gelf_getehdr(__VA_ARGS__))
#define gelf_getnote(...) (ml__dl_fns()->gelf_getnote(__VA_ARGS__))
#define gelf_getphdr(...) (ml__dl_fns()->gelf_getphdr(__VA_ARGS__))
#endif

#endif
