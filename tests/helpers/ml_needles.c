/* A test child for memlens grep: pseudo-random memory with needles planted at known addresses.
 * Commands (one per stdin line, one answer line each):
 *   fill SIZE FILE   maps SIZE bytes of anonymous memory (two regions: the last 16 MiB are made
 *                    read-only), fills them with xorshift bytes, plants needles there and in the
 *                    heap, on the stack and in a file mapping; writes "KIND WHERE ADDR LEN" lines
 *                    to FILE -> ok n=COUNT heap_chunk=ADDR
 *   sparse SIZE POP FILE  maps SIZE bytes (NORESERVE), populates POP bytes spread over it with
 *                    needles on some pages; needles to FILE -> ok addr=A
 *   secret           a populated memfd_secret mapping (unreadable through /proc) -> ok addr=A | err
 *   exit N           exits
 * KIND: ascii (ZqXsecretNeedle), utf16 (the same, UTF-16LE), mixed (zQxSECRETneedle),
 * email (user.N@needle-mail.org, between NUL bytes). */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "page_grain.h"

#define MIB (1ul << 20)
/* The needles are kept XOR-ed with KEY and decoded only into their destinations, so no
 * other copy of them (in .rodata, or left over on the stack) is there to be found. The
 * key is read at run time: with a constant one an optimising build folds the decoded
 * bytes into the code as immediates, and grep finds the needle in the program's text. */
#define XKEY 0x5a
static volatile uint8_t run_key = XKEY;
#define KEY run_key
static const uint8_t NEEDLE_X[] = { 'Z' ^ XKEY, 'q' ^ XKEY, 'X' ^ XKEY, 's' ^ XKEY, 'e' ^ XKEY, 'c' ^ XKEY,
	'r' ^ XKEY, 'e' ^ XKEY, 't' ^ XKEY, 'N' ^ XKEY, 'e' ^ XKEY, 'e' ^ XKEY, 'd' ^ XKEY, 'l' ^ XKEY, 'e' ^ XKEY };
static const uint8_t MIXED_X[] = { 'z' ^ XKEY, 'Q' ^ XKEY, 'x' ^ XKEY, 'S' ^ XKEY, 'E' ^ XKEY, 'C' ^ XKEY,
	'R' ^ XKEY, 'E' ^ XKEY, 'T' ^ XKEY, 'n' ^ XKEY, 'e' ^ XKEY, 'e' ^ XKEY, 'd' ^ XKEY, 'l' ^ XKEY, 'e' ^ XKEY };
static const uint8_t DOMAIN_X[] = { '@' ^ XKEY, 'n' ^ XKEY, 'e' ^ XKEY, 'e' ^ XKEY, 'd' ^ XKEY, 'l' ^ XKEY,
	'e' ^ XKEY, '-' ^ XKEY, 'm' ^ XKEY, 'a' ^ XKEY, 'i' ^ XKEY, 'l' ^ XKEY, '.' ^ XKEY, 'o' ^ XKEY, 'r' ^ XKEY,
	'g' ^ XKEY };
#define NLEN sizeof(NEEDLE_X)

extern void *__libc_malloc(size_t size);

static FILE *out;
static uint8_t *stack_area; /* in main's frame */
static unsigned long count;
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next64(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void fill_random(uint8_t *p, size_t n)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t v = next64();
		memcpy(p + i, &v, 8);
	}
	for (; i < n; i++)
		p[i] = (uint8_t)next64();
}

static void record(const char *kind, const char *where, const uint8_t *at, size_t len)
{
	fprintf(out, "%s %s 0x%lx %zu\n", kind, where, (unsigned long)(uintptr_t)at, len);
	count++;
}

static void plant_x(const char *kind, const char *where, uint8_t *at, const uint8_t *x, size_t len, size_t step)
{
	for (size_t i = 0; i < len; i++) {
		at[i * step] = x[i] ^ KEY;
		if (step == 2)
			at[i * 2 + 1] = 0;
	}
	record(kind, where, at, len * step);
}

static void plant_ascii(const char *where, uint8_t *at) { plant_x("ascii", where, at, NEEDLE_X, NLEN, 1); }
static void plant_mixed(const char *where, uint8_t *at) { plant_x("mixed", where, at, MIXED_X, NLEN, 1); }
static void plant_utf16(const char *where, uint8_t *at) { plant_x("utf16", where, at, NEEDLE_X, NLEN, 2); }

static void plant_email(const char *where, uint8_t *at)
{
	/* "user.N" then the domain, written in place */
	size_t n = 0;
	const uint8_t user[] = { 'u' ^ XKEY, 's' ^ XKEY, 'e' ^ XKEY, 'r' ^ XKEY, '.' ^ XKEY };
	for (size_t i = 0; i < sizeof(user); i++)
		at[n++] = user[i] ^ KEY;
	unsigned long v = count, div = 1;
	while (v / div >= 10)
		div *= 10;
	for (; div; div /= 10)
		at[n++] = (uint8_t)('0' + v / div % 10);
	for (size_t i = 0; i < sizeof(DOMAIN_X); i++)
		at[n++] = DOMAIN_X[i] ^ KEY;
	at[-1] = 0; /* delimiters, so random neighbours cannot extend the match */
	at[n] = 0;
	record("email", where, at, n);
}

/* Plants the four kinds in a buffer of @n bytes at spread offsets (n >= 4 KiB). */
static void plant_all(const char *where, uint8_t *p, size_t n)
{
	plant_ascii(where, p + n / 8);
	plant_utf16(where, p + n / 4 + 3);
	plant_mixed(where, p + n / 2 + 5);
	plant_email(where, p + 3 * n / 4 + 7);
}

static int cmd_fill(size_t size, const char *file)
{
	out = fopen(file, "w");
	if (!out || size < 64 * MIB)
		return -1;
	size_t ro = 16 * MIB, rw = size - ro;
	uint8_t *a = mmap_pages(size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		return -1;
	fill_random(a, size);
	/* region starts and ends */
	plant_ascii("anon", a);
	plant_ascii("anon", a + rw - (NLEN));
	plant_ascii("ro", a + rw);
	plant_ascii("ro", a + size - (NLEN));
	/* across every 1 MiB boundary from the mapping start (where windows split) ... */
	for (size_t k = 1; k * MIB < size; k++) {
		if (k * MIB == rw)
			continue; /* a region boundary: a needle there would span two regions */
		uint8_t *b = a + k * MIB;
		plant_ascii(k * MIB < rw ? "anon" : "ro", b - 7);
		/* ... and across absolute 1 MiB boundaries (where work units split) */
		uint8_t *abs = (uint8_t *)(((uintptr_t)b + MIB - 1) & ~(MIB - 1));
		if (abs == b)
			abs = b + 256 * 1024; /* the mapping is MiB-aligned: cross a page boundary instead */
		if (k != 5 && abs - 64 > b && abs + 64 < a + size && (abs < a + rw - 64 || abs > a + rw + 64)) {
			const char *w = abs < a + rw ? "anon" : "ro";
			if (k % 3 == 0)
				plant_utf16(w, abs - 9);
			else if (k % 3 == 1)
				plant_mixed(w, abs - 5);
			else
				plant_email(w, abs - 11);
		}
	}
	plant_all("anon", a + 5 * MIB + 100, 64 * 1024);
	/* the heap: a small allocation comes from glibc's main arena (__libc_malloc, so that a
	 * sanitizer's allocator, which intercepts malloc, does not take it elsewhere) */
	uint8_t *h = __libc_malloc(8192);
	fill_random(h, 8192);
	plant_all("heap", h, 8192);
	/* a file mapping, populated by reading it */
	char path[] = "/tmp/ml_needles.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	uint8_t *fb = malloc(2 * MIB);
	fill_random(fb, 2 * MIB);
	for (size_t i = 0; i < NLEN; i++)
		fb[MIB + 100 + i] = NEEDLE_X[i] ^ KEY;
	if (write(fd, fb, 2 * MIB) != (ssize_t)(2 * MIB))
		return -1;
	uint8_t *fm = mmap(NULL, 2 * MIB, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	unlink(path);
	if (fm == MAP_FAILED)
		return -1;
	volatile uint8_t sink = 0;
	for (size_t i = 0; i < 2 * MIB; i += 4096)
		sink ^= fm[i];
	(void)sink;
	fprintf(out, "ascii file 0x%lx %zu\n", (unsigned long)(uintptr_t)(fm + MIB + 100), NLEN);
	count++;
	explicit_bzero(fb, 2 * MIB); /* a freed copy would stay in a sanitizer's quarantine */
	free(fb);
	if (mprotect(a + rw, ro, PROT_READ) < 0)
		return -1;
	plant_all("stack", stack_area, 4096);
	fclose(out);
	printf("ok n=%lu heap_chunk=0x%lx file=0x%lx\n", count, (unsigned long)(uintptr_t)(h - 16),
	       (unsigned long)(uintptr_t)fm);
	return 0;
}

static int cmd_sparse(size_t size, size_t pop, const char *file)
{
	out = fopen(file, "w");
	if (!out)
		return -1;
	uint8_t *a = mmap_pages(size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (a == MAP_FAILED)
		return -1;
	/* POP MiB populated, 1 MiB every size/POP bytes */
	size_t stride = size / pop;
	for (size_t off = 0; off + MIB <= size; off += stride) {
		fill_random(a + off, MIB);
		plant_ascii("sparse", a + off + MIB / 2);
	}
	fclose(out);
	printf("ok addr=0x%lx\n", (unsigned long)(uintptr_t)a);
	return 0;
}

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* on the stack: stays live as long as main runs */
	uint8_t stack_buf[4096];
	fill_random(stack_buf, sizeof(stack_buf));
	stack_area = stack_buf;
	char line[4096];
	printf("ready pid=%d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		char *save, *cmd = strtok_r(line, " ", &save);
		if (!cmd)
			continue;
		if (!strcmp(cmd, "fill")) {
			size_t size = strtoull(strtok_r(NULL, " ", &save), NULL, 0);
			const char *f = strtok_r(NULL, " ", &save);
			count = 0;
			if (!f || cmd_fill(size, f) < 0)
				printf("err fill %s\n", strerror(errno));
		} else if (!strcmp(cmd, "sparse")) {
			size_t size = strtoull(strtok_r(NULL, " ", &save), NULL, 0);
			size_t pop = strtoull(strtok_r(NULL, " ", &save), NULL, 0);
			const char *f = strtok_r(NULL, " ", &save);
			if (!f || !pop || cmd_sparse(size, pop, f) < 0)
				printf("err sparse %s\n", strerror(errno));
		} else if (!strcmp(cmd, "secret")) {
#ifdef SYS_memfd_secret
			int fd = (int)syscall(SYS_memfd_secret, 0);
#else
			int fd = (int)syscall(447, 0);
#endif
			if (fd < 0 || ftruncate(fd, 1 << 16) < 0) {
				printf("err memfd_secret %s\n", strerror(errno));
				continue;
			}
			uint8_t *p = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			if (p == MAP_FAILED) {
				printf("err mmap %s\n", strerror(errno));
				continue;
			}
			memset(p, 'A', 1 << 16);
			for (size_t i = 0; i < NLEN; i++)
				p[100 + i] = NEEDLE_X[i] ^ KEY;
			printf("ok addr=0x%lx\n", (unsigned long)(uintptr_t)p);
		} else if (!strcmp(cmd, "exit")) {
			char *a = strtok_r(NULL, " ", &save);
			fflush(stdout);
			_exit(a ? atoi(a) : 0);
		} else {
			printf("err unknown command %s\n", cmd);
		}
	}
	/* keep the stack buffer alive and observable */
	return stack_buf[0] == 0x5a;
}
