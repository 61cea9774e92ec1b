/* Compressed cores (zstd, LZ4 frame, xz, gzip): told by magic bytes, decompressed once into an unnamed sparse temporary file. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot/decomp.h"
#define ML__DL_REDIRECT
#include "internal/dl.h"

#define IN_SZ (1u << 20)
#define OUT_SZ (4u << 20)
#define BLK 4096u

int decomp_detect(const uint8_t *h, size_t n)
{
	if (n >= 4 && h[0] == 0x28 && h[1] == 0xb5 && h[2] == 0x2f && h[3] == 0xfd)
		return DC_ZSTD;
	/* a zstd file may start with a skippable frame (0x184D2A50-5F), e.g. a seek table */
	if (n >= 4 && (h[0] & 0xf0) == 0x50 && h[1] == 0x2a && h[2] == 0x4d && h[3] == 0x18)
		return DC_ZSTD;
	if (n >= 4 && h[0] == 0x04 && h[1] == 0x22 && h[2] == 0x4d && h[3] == 0x18)
		return DC_LZ4;
	if (n >= 6 && !memcmp(h, "\xfd" "7zXZ\0", 6))
		return DC_XZ;
	if (n >= 3 && h[0] == 0x1f && h[1] == 0x8b && h[2] == 8)
		return DC_GZIP;
	return DC_NONE;
}

const char *decomp_name(int codec)
{
	switch (codec) {
	case DC_ZSTD: return "zstd";
	case DC_LZ4: return "LZ4";
	case DC_XZ: return "xz";
	case DC_GZIP: return "gzip";
	default: return "uncompressed";
	}
}

/* where decompressed bytes go: written sparsely (all-zero 4 KiB blocks are skipped) */
typedef struct sink {
	int fd;
	uint64_t pos, max;
	uint64_t good;  /* output up to the end of the last frame (member, stream) that ended whole */
	uint64_t limit; /* where the core's ELF headers say it ends, once they are in (else ~0) */
	bool sized;     /* the headers were looked at */
	bool past;      /* the stream went on past @limit: decoding stopped there */
	int err;
} sink;

/* Room after the last byte the headers describe (a tool may pad the file to a page or so). */
#define SLACK (64u << 10)

/* Once the ELF header and program headers are decoded: the end of the core they describe
 * (the furthest segment, section header table or program header table), plus SLACK. A
 * stream that goes on past it is not a core's, or a decompression bomb (zstd turns 1 MB
 * into 32 GB): decoding stops there instead of filling the temporary directory. */
static void sink_size(sink *k)
{
	Elf64_Ehdr e;
	if (k->pos < sizeof(e) || pread(k->fd, &e, sizeof(e), 0) != (ssize_t)sizeof(e))
		return;
	if (!snap_ehdr_is_core64(&e) || e.e_phentsize != sizeof(Elf64_Phdr) || e.e_phnum == PN_XNUM) {
		/* not a core (refused once opened), or its count is in a section header that
		 * may come last: no bound from the headers */
		k->sized = true;
		return;
	}
	uint64_t tab = (uint64_t)e.e_phnum * sizeof(Elf64_Phdr);
	if (e.e_phoff > UINT64_MAX - tab) {
		k->sized = true;
		return;
	}
	if (k->pos < e.e_phoff + tab)
		return; /* not all in yet */
	k->sized = true;
	Elf64_Phdr *ph = malloc(tab ? tab : 1);
	if (!ph || (tab && snap_pread_all(k->fd, ph, tab, e.e_phoff) < 0)) {
		free(ph);
		return;
	}
	uint64_t end = e.e_phoff + tab;
	if (e.e_shnum && e.e_shoff <= UINT64_MAX / 2 && (uint64_t)e.e_shnum * e.e_shentsize <= UINT64_MAX / 4)
		end = ML_MAX(end, e.e_shoff + (uint64_t)e.e_shnum * e.e_shentsize);
	for (unsigned i = 0; i < e.e_phnum; i++)
		if (ph[i].p_offset <= UINT64_MAX / 2 && ph[i].p_filesz <= UINT64_MAX / 4)
			end = ML_MAX(end, ph[i].p_offset + ph[i].p_filesz);
		else
			end = UINT64_MAX - SLACK; /* beyond any file: no bound */
	free(ph);
	k->limit = end + SLACK;
}

/* A stream found corrupt: its codec's check (CRC-32, xxHash, CRC-64) may be what caught it,
 * after every byte of its frame was decoded, so nothing since the last whole frame is
 * trusted. A stream cut short keeps what it decoded: nothing says those bytes are wrong. */
static int corrupt(sink *k, char *why, size_t wl)
{
	if (k->pos > k->good) {
		size_t n = strlen(why);
		snap_fmt(why + n, wl - n, "; the %llu bytes decoded since the last whole frame are not used",
			 (unsigned long long)(k->pos - k->good));
		k->pos = k->good;
	}
	return 1;
}

static int sink_put(sink *k, const uint8_t *p, size_t n)
{
	if (n > k->max - k->pos) {
		k->err = -EFBIG;
		return -EFBIG;
	}
	bool past = n > k->limit - ML_MIN(k->pos, k->limit);
	if (past)
		n = (size_t)(k->limit - ML_MIN(k->pos, k->limit));
	size_t i = 0, w = 0; /* [w, i) is waiting to be written */
	while (i < n) {
		size_t t = ML_MIN((size_t)(BLK - (k->pos + i) % BLK), n - i);
		if (t == BLK && snap_is_zero(p + i, BLK)) {
			/* a whole zero block of the output becomes a hole */
			if (i > w) {
				int r = snap_pwrite_all(k->fd, p + w, i - w, k->pos + w);
				if (r < 0)
					return k->err = r;
			}
			w = i + t;
		}
		i += t;
	}
	if (n > w) {
		int r = snap_pwrite_all(k->fd, p + w, n - w, k->pos + w);
		if (r < 0)
			return k->err = r;
	}
	k->pos += n;
	if (!k->sized)
		sink_size(k);
	if (k->pos > k->limit) { /* the headers came in this piece */
		k->pos = k->limit;
		past = true;
	}
	if (past) {
		k->past = true;
		return k->err = -ECANCELED;
	}
	return 0;
}

static int make_tmp(void)
{
	const char *dirs[2] = { getenv("TMPDIR"), "/var/tmp" };
	int r = -ENOENT;
	for (int d = 0; d < 2; d++) {
		const char *dir = dirs[d];
		if (!dir || !*dir)
			continue;
		int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC | O_EXCL, 0600);
		if (fd >= 0)
			return fd;
		r = ml_neg_errno();
		char tmpl[4096];
		if ((size_t)snprintf(tmpl, sizeof(tmpl), "%s/.memlens-core.XXXXXX", dir) >= sizeof(tmpl))
			continue;
		fd = mkostemp(tmpl, O_CLOEXEC);
		if (fd >= 0) {
			unlink(tmpl);
			return fd;
		}
		r = ml_neg_errno();
	}
	return r;
}

/* reads the next piece of input; 0 at the end */
static ssize_t in_read(int fd, uint8_t *buf, uint64_t *off)
{
	ssize_t n;
	do
		n = pread(fd, buf, IN_SZ, (off_t)*off);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return ml_neg_errno();
	*off += (uint64_t)n;
	return n;
}

/* each returns 0 (the whole stream), 1 (stopped early: @why says where and why), or -errno */

static int run_zstd(int in, sink *k, uint8_t *ib, uint8_t *ob, char *why, size_t wl)
{
	ZSTD_DStream *z = ZSTD_createDStream();
	if (!z)
		return -ENOMEM;
	ZSTD_initDStream(z);
	uint64_t off = 0;
	size_t last = 0;
	int r = 0;
	for (;;) {
		ssize_t n = in_read(in, ib, &off);
		if (n < 0) {
			r = (int)n;
			break;
		}
		if (n == 0) {
			if (last != 0) {
				snap_fmt(why, wl, "the zstd stream is cut short at byte %llu (truncated)", (unsigned long long)off);
				r = 1;
			}
			break;
		}
		ZSTD_inBuffer zi = { ib, (size_t)n, 0 };
		while (zi.pos < zi.size || last > 0) {
			ZSTD_outBuffer zo = { ob, OUT_SZ, 0 };
			size_t before = zi.pos;
			last = ZSTD_decompressStream(z, &zo, &zi);
			if (ZSTD_isError(last)) {
				snap_fmt(why, wl, "the zstd stream is corrupt near byte %llu: %s",
					 (unsigned long long)(off - (uint64_t)n + zi.pos), ZSTD_getErrorName(last));
				r = corrupt(k, why, wl);
				goto out;
			}
			if (zo.pos && sink_put(k, ob, zo.pos) < 0) {
				r = k->err;
				goto out;
			}
			if (last == 0)
				k->good = k->pos; /* a frame ended, its checksum (if it has one) matched */
			if (zi.pos == before && zo.pos < OUT_SZ)
				break; /* needs more input */
		}
	}
out:
	ZSTD_freeDStream(z);
	return r;
}

static int run_lz4(int in, sink *k, uint8_t *ib, uint8_t *ob, char *why, size_t wl)
{
	LZ4F_dctx *z;
	if (LZ4F_isError(LZ4F_createDecompressionContext(&z, LZ4F_VERSION)))
		return -ENOMEM;
	uint64_t off = 0;
	size_t hint = 1;
	int r = 0;
	for (;;) {
		ssize_t n = in_read(in, ib, &off);
		if (n < 0) {
			r = (int)n;
			break;
		}
		if (n == 0) {
			if (hint != 0) {
				snap_fmt(why, wl, "the LZ4 frame is cut short at byte %llu (truncated)", (unsigned long long)off);
				r = 1;
			}
			break;
		}
		size_t pos = 0;
		while (pos < (size_t)n) {
			size_t isz = (size_t)n - pos, osz = OUT_SZ;
			hint = LZ4F_decompress(z, ob, &osz, ib + pos, &isz, NULL);
			if (LZ4F_isError(hint)) {
				snap_fmt(why, wl, "the LZ4 frame is corrupt near byte %llu: %s",
					 (unsigned long long)(off - (uint64_t)n + pos), LZ4F_getErrorName(hint));
				r = corrupt(k, why, wl);
				goto out;
			}
			pos += isz;
			if (osz && sink_put(k, ob, osz) < 0) {
				r = k->err;
				goto out;
			}
			if (hint == 0)
				k->good = k->pos; /* the frame ended, its content checksum (if any) matched */
			if (!isz && !osz)
				break;
		}
		/* the frame's end: anything after it is another frame (lz4 concatenates them) */
	}
out:
	LZ4F_freeDecompressionContext(z);
	return r;
}

static int run_xz(int in, sink *k, uint8_t *ib, uint8_t *ob, char *why, size_t wl)
{
	lzma_stream z = LZMA_STREAM_INIT;
	if (lzma_stream_decoder(&z, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
		return -ENOMEM;
	uint64_t off = 0;
	int r = 0;
	bool eof = false;
	for (;;) {
		if (z.avail_in == 0 && !eof) {
			ssize_t n = in_read(in, ib, &off);
			if (n < 0) {
				r = (int)n;
				break;
			}
			eof = n == 0;
			z.next_in = ib;
			z.avail_in = (size_t)n;
		}
		z.next_out = ob;
		z.avail_out = OUT_SZ;
		lzma_ret lr = lzma_code(&z, eof ? LZMA_FINISH : LZMA_RUN);
		size_t got = OUT_SZ - z.avail_out;
		if (got && sink_put(k, ob, got) < 0) {
			r = k->err;
			break;
		}
		if (lr == LZMA_STREAM_END) {
			k->good = k->pos; /* concatenated streams end together: the only boundary seen */
			break;
		}
		if (lr == LZMA_OK)
			continue;
		if (lr == LZMA_BUF_ERROR && eof) {
			snap_fmt(why, wl, "the xz stream is cut short at byte %llu (truncated)", (unsigned long long)off);
			r = 1;
		} else if (lr == LZMA_MEM_ERROR) {
			r = -ENOMEM;
		} else {
			snap_fmt(why, wl, "the xz stream is corrupt near byte %llu (liblzma error %d)",
				 (unsigned long long)z.total_in, (int)lr);
			r = corrupt(k, why, wl);
		}
		break;
	}
	lzma_end(&z);
	return r;
}

static int run_gzip(int in, sink *k, uint8_t *ib, uint8_t *ob, char *why, size_t wl)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return -ENOMEM;
	uint64_t off = 0;
	int r = 0;
	bool in_member = true, eof = false;
	for (;;) {
		if (z.avail_in == 0) {
			ssize_t n = in_read(in, ib, &off);
			if (n < 0) {
				r = (int)n;
				break;
			}
			if (n == 0) {
				eof = true;
				break;
			}
			z.next_in = ib;
			z.avail_in = (uInt)n;
		}
		if (!in_member) {
			/* members are concatenated; anything else after the last one is ignored, as gzip does */
			if (z.next_in[0] != 0x1f)
				break;
			inflateReset(&z);
			in_member = true;
		}
		z.next_out = ob;
		z.avail_out = OUT_SZ;
		int zr = inflate(&z, Z_NO_FLUSH);
		size_t got = OUT_SZ - z.avail_out;
		if (got && sink_put(k, ob, got) < 0) {
			r = k->err;
			break;
		}
		if (zr == Z_STREAM_END) {
			k->good = k->pos; /* the member's CRC-32 and length matched */
			in_member = false;
			continue;
		}
		if (zr == Z_OK || zr == Z_BUF_ERROR)
			continue;
		if (zr == Z_MEM_ERROR) {
			r = -ENOMEM;
			break;
		}
		snap_fmt(why, wl, "the gzip stream is corrupt near byte %llu: %s", (unsigned long long)z.total_in,
			 z.msg ? z.msg : "invalid deflate data");
		r = corrupt(k, why, wl);
		break;
	}
	if (r == 0 && eof && in_member) {
		snap_fmt(why, wl, "the gzip stream is cut short at byte %llu (truncated)", (unsigned long long)off);
		r = 1;
	}
	inflateEnd(&z);
	return r;
}

int decomp_to_tmp(int in, int codec, uint64_t max_out, int *ret_fd, uint64_t *ret_size, char *why, size_t wl)
{
	uint8_t *ib = malloc(IN_SZ), *ob = malloc(OUT_SZ);
	int fd = -1, r;
	if (!ib || !ob) {
		r = -ENOMEM;
		goto out;
	}
	fd = make_tmp();
	if (fd < 0) {
		r = fd;
		snap_fmt(why, wl, "cannot create a temporary file for the decompressed core in %s: %s",
			 getenv("TMPDIR") && *getenv("TMPDIR") ? "$TMPDIR" : "/var/tmp", ml_strerror(r));
		goto out;
	}
	sink k = { .fd = fd, .max = max_out ? max_out : UINT64_MAX, .limit = UINT64_MAX };
	why[0] = 0;
	switch (codec) {
	case DC_ZSTD: r = run_zstd(in, &k, ib, ob, why, wl); break;
	case DC_LZ4: r = run_lz4(in, &k, ib, ob, why, wl); break;
	case DC_XZ: r = run_xz(in, &k, ib, ob, why, wl); break;
	case DC_GZIP: r = run_gzip(in, &k, ib, ob, why, wl); break;
	default: r = -EINVAL; break;
	}
	if (r == -ECANCELED && k.past) {
		/* what the core needs is all in: the rest is not decoded (nor its check read) */
		snap_fmt(why, wl, "the stream goes on past the %llu bytes its ELF headers describe; the rest is not decoded",
			 (unsigned long long)(k.limit - SLACK));
		r = 1;
	} else if (r == -EFBIG)
		snap_fmt(why, wl, "it decompresses to more than %llu bytes", (unsigned long long)k.max);
	else if (r == -ENOSPC)
		snap_fmt(why, wl, "no space left for the decompressed core (%llu bytes so far) in %s",
			 (unsigned long long)k.pos, getenv("TMPDIR") && *getenv("TMPDIR") ? "$TMPDIR" : "/var/tmp");
	else if (r < 0 && !why[0])
		snap_fmt(why, wl, "decompressing it: %s", ml_strerror(r));
	if (r >= 0 && ftruncate(fd, (off_t)k.pos) < 0) {
		r = ml_neg_errno();
		snap_fmt(why, wl, "sizing the temporary file: %s", ml_strerror(r));
	}
	if (r >= 0) {
		*ret_fd = fd;
		*ret_size = k.pos;
		fd = -1;
	}
out:
	if (fd >= 0)
		close(fd);
	free(ib);
	free(ob);
	return r;
}
