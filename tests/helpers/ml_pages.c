/* Test child with memory in known page states, driven one command per line (see tests/support/mltest.h).
 * Every command answers one line: "ok ..." or "err ...". Numbers accept 0x hex. Pages are 4 KiB.
 *   anon N              private anonymous RW mapping of N pages, untouched -> ok addr=A
 *   write A N           writes every byte of N pages at A (byte = pattern(addr)) -> ok
 *   write1 A N STRIDE   writes one byte every STRIDE pages of [A, A+N pages) -> ok
 *   readf A N           read-faults N pages at A (maps the zero page) -> ok sum=S
 *   thp                 4 MiB at a 2 MiB boundary, MADV_HUGEPAGE; first 2 MiB written, second
 *                       read-faulted (huge zero page) -> ok addr=A
 *   file PATH N         creates PATH with N pages of pattern, maps it shared read-only and reads
 *                       the first N/2 pages -> ok addr=A
 *   shared N            shared anonymous mapping, all N pages written -> ok addr=A
 *   protnone N          N pages written, then PROT_NONE -> ok addr=A
 *   guard N             N pages with MADV_GUARD_INSTALL -> ok addr=A, or err
 *   secret              one written page of memfd_secret memory -> ok addr=A, or err
 *   secretat A          the same, mapped over the page at A (MAP_FIXED) -> ok addr=A, or err
 *   alt N               N pages, every other one written (many small runs) -> ok addr=A
 *   many N              N one-page mappings with alternating protections, each written -> ok first=A
 *   unmap A N           unmaps N pages -> ok
 *   mapfile PATH MODE N maps N pages of the existing file PATH, MODE shared (read-only) or
 *                       private (read-write), never touching them -> ok addr=A
 *   dontneed A N        madvise(MADV_DONTNEED) on N pages -> ok
 *   pageout A N         madvise(MADV_PAGEOUT, Linux 5.4) on N pages: written-out to swap where
 *                       there is swap space -> ok, or err errno=E
 *   dlopen NAME         dlopen(NAME, RTLD_NOW), calling nothing in it -> ok
 *   pid                 -> ok pid=P
 * The pattern byte of address x is (x >> 12) * 31 + (x & 0xfff) truncated to 8 bits, never 0. */
#include <dlfcn.h>
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

#define PG 4096UL

static unsigned char pattern(uintptr_t x)
{
	unsigned char b = (unsigned char)((x >> 12) * 31 + (x & 0xfff));
	return b ? b : 1;
}

static void fill(unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = pattern((uintptr_t)(p + i));
}

static uint64_t num(char **save)
{
	char *t = strtok_r(NULL, " ", save);
	return t ? strtoull(t, NULL, 0) : 0;
}

static void *anon(size_t len, int prot, int flags)
{
	void *p = mmap_pages(len, prot, flags | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready pid=%d\n", (int)getpid());
	char line[4096];
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		char *save, *cmd = strtok_r(line, " ", &save);
		if (!cmd)
			continue;
		if (!strcmp(cmd, "pid")) {
			printf("ok pid=%d\n", (int)getpid());
		} else if (!strcmp(cmd, "anon")) {
			size_t n = num(&save);
			void *p = anon(n * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);
			p ? printf("ok addr=%p\n", p) : printf("err mmap %s\n", strerror(errno));
		} else if (!strcmp(cmd, "write")) {
			unsigned char *a = (unsigned char *)(uintptr_t)num(&save);
			size_t n = num(&save);
			fill(a, n * PG);
			printf("ok\n");
		} else if (!strcmp(cmd, "write1")) {
			unsigned char *a = (unsigned char *)(uintptr_t)num(&save);
			size_t n = num(&save), stride = num(&save);
			for (size_t i = 0; i < n; i += stride ? stride : 1)
				a[i * PG] = pattern((uintptr_t)(a + i * PG));
			printf("ok\n");
		} else if (!strcmp(cmd, "readf")) {
			volatile unsigned char *a = (volatile unsigned char *)(uintptr_t)num(&save);
			size_t n = num(&save);
			unsigned sum = 0;
			for (size_t i = 0; i < n; i++)
				sum += a[i * PG];
			printf("ok sum=%u\n", sum);
		} else if (!strcmp(cmd, "thp")) {
			size_t h = 2UL << 20;
			char *raw = anon(3 * h, PROT_READ | PROT_WRITE, MAP_PRIVATE);
			if (!raw) {
				printf("err mmap\n");
				continue;
			}
			char *a = (char *)(((uintptr_t)raw + h - 1) & ~(uintptr_t)(h - 1));
			if (madvise(a, 2 * h, MADV_HUGEPAGE) < 0) {
				printf("err madvise %s\n", strerror(errno));
				continue;
			}
			fill((unsigned char *)a, h);
			volatile char *z = a + h;
			(void)z[0];
			printf("ok addr=%p\n", (void *)a);
		} else if (!strcmp(cmd, "file")) {
			char *path = strtok_r(NULL, " ", &save);
			size_t n = num(&save);
			int fd = path ? open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
			if (fd < 0) {
				printf("err open %s\n", strerror(errno));
				continue;
			}
			unsigned char *buf = malloc(PG);
			for (size_t i = 0; i < n; i++) {
				for (size_t j = 0; j < PG; j++)
					buf[j] = (unsigned char)(i + j + 1);
				if (write(fd, buf, PG) != (ssize_t)PG)
					break;
			}
			free(buf);
			volatile unsigned char *m = mmap(NULL, n * PG, PROT_READ, MAP_SHARED, fd, 0);
			close(fd);
			if (m == MAP_FAILED) {
				printf("err mmap %s\n", strerror(errno));
				continue;
			}
			for (size_t i = 0; i < n / 2; i++)
				(void)m[i * PG];
			printf("ok addr=%p\n", (void *)m);
		} else if (!strcmp(cmd, "shared")) {
			size_t n = num(&save);
			unsigned char *p = anon(n * PG, PROT_READ | PROT_WRITE, MAP_SHARED);
			if (!p) {
				printf("err mmap\n");
				continue;
			}
			fill(p, n * PG);
			printf("ok addr=%p\n", (void *)p);
		} else if (!strcmp(cmd, "protnone")) {
			size_t n = num(&save);
			unsigned char *p = anon(n * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);
			if (!p) {
				printf("err mmap\n");
				continue;
			}
			fill(p, n * PG);
			mprotect(p, n * PG, PROT_NONE);
			printf("ok addr=%p\n", (void *)p);
		} else if (!strcmp(cmd, "guard")) {
			size_t n = num(&save);
			void *p = anon(n * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);
			if (!p || madvise(p, n * PG, 102 /* MADV_GUARD_INSTALL */) < 0)
				printf("err guard %s\n", strerror(errno));
			else
				printf("ok addr=%p\n", p);
		} else if (!strcmp(cmd, "secret") || !strcmp(cmd, "secretat")) {
			void *at = !strcmp(cmd, "secretat") ? (void *)(uintptr_t)num(&save) : NULL;
			int fd = (int)syscall(447 /* memfd_secret */, 0);
			unsigned char *p = MAP_FAILED;
			if (fd >= 0 && ftruncate(fd, PG) == 0)
				p = mmap(at, PG, PROT_READ | PROT_WRITE, MAP_SHARED | (at ? MAP_FIXED : 0), fd, 0);
			if (p == MAP_FAILED) {
				printf("err secret %s\n", strerror(errno));
			} else {
				fill(p, PG);
				printf("ok addr=%p\n", (void *)p);
			}
			if (fd >= 0)
				close(fd);
		} else if (!strcmp(cmd, "alt")) {
			size_t n = num(&save);
			unsigned char *p = anon(n * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);
			if (!p) {
				printf("err mmap\n");
				continue;
			}
			for (size_t i = 0; i < n; i += 2)
				p[i * PG] = pattern((uintptr_t)(p + i * PG));
			printf("ok addr=%p\n", (void *)p);
		} else if (!strcmp(cmd, "many")) {
			size_t n = num(&save);
			/* one reservation, then alternate protections so no two neighbours merge */
			unsigned char *p = anon(n * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);
			if (!p) {
				printf("err mmap\n");
				continue;
			}
			for (size_t i = 0; i < n; i++)
				p[i * PG] = pattern((uintptr_t)(p + i * PG));
			for (size_t i = 1; i < n; i += 2)
				mprotect(p + i * PG, PG, PROT_READ);
			printf("ok first=%p\n", (void *)p);
		} else if (!strcmp(cmd, "mapfile")) {
			char *path = strtok_r(NULL, " ", &save), *mode = strtok_r(NULL, " ", &save);
			size_t n = num(&save);
			bool priv = mode && !strcmp(mode, "private");
			int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
			void *m = fd < 0 ? MAP_FAILED
					 : mmap(NULL, n * PG, priv ? PROT_READ | PROT_WRITE : PROT_READ,
						priv ? MAP_PRIVATE : MAP_SHARED, fd, 0);
			if (m == MAP_FAILED)
				printf("err mapfile %s\n", strerror(errno));
			else
				printf("ok addr=%p\n", m);
			if (fd >= 0)
				close(fd);
		} else if (!strcmp(cmd, "pageout")) {
			void *a = (void *)(uintptr_t)num(&save);
			size_t n = num(&save);
			if (madvise(a, n * PG, MADV_PAGEOUT) < 0)
				printf("err errno=%d\n", errno);
			else
				printf("ok\n");
		} else if (!strcmp(cmd, "dontneed")) {
			void *a = (void *)(uintptr_t)num(&save);
			size_t n = num(&save);
			printf(madvise(a, n * PG, MADV_DONTNEED) ? "err madvise %s\n" : "ok\n", strerror(errno));
		} else if (!strcmp(cmd, "dlopen")) {
			char *name = strtok_r(NULL, " ", &save);
			void *h = name ? dlopen(name, RTLD_NOW | RTLD_LOCAL) : NULL;
			h ? printf("ok\n") : printf("err dlopen %s\n", dlerror());
		} else if (!strcmp(cmd, "unmap")) {
			void *a = (void *)(uintptr_t)num(&save);
			size_t n = num(&save);
			printf(munmap(a, n * PG) ? "err munmap\n" : "ok\n");
		} else {
			printf("err unknown command %s\n", cmd);
		}
	}
	return 0;
}
