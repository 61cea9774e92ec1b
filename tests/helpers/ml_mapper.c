/* A test child that makes the mappings maps/smaps tests need, driven one command per line.
 * Commands (numbers accept 0x hex) and answers:
 *   map SIZE PROT                anonymous private mapping, PROT one of r rw rx none -> ok addr=A
 *   touch ADDR LEN STRIDE        writes a byte every STRIDE bytes -> ok
 *   unmap ADDR LEN               -> ok
 *   mapfile DIR HEXNAME SIZE [unlink]
 *                                creates DIR/NAME (NAME hex-encoded bytes) of SIZE bytes, maps it
 *                                private read-only, reads every page; unlinks it if asked
 *                                -> ok addr=A ino=I
 *   shmanon SIZE                 shared anonymous (/dev/zero (deleted)), touched -> ok addr=A
 *   memfd NAME SIZE              memfd_create(NAME) mapped shared, touched -> ok addr=A
 *   sysv SIZE                    System V segment attached, touched -> ok addr=A
 *   thp SIZE                     2 MiB-aligned anonymous region with MADV_HUGEPAGE, touched
 *                                -> ok addr=A
 *   fill N                       N separate 1-page mappings (alternating r/rw, so none merge)
 *                                -> ok first=A last=B
 *   stable K                     K separate mappings kept for the whole run -> ok a0=.. a1=..
 *   churn                        starts a thread that maps, splits (mprotect) and unmaps in a
 *                                loop, and flips page protections inside the last fill region
 *                                -> ok
 *   stop                         stops it -> ok rounds=N
 *   name ADDR LEN HEXNAME        names the anonymous range (prctl PR_SET_VMA_ANON_NAME, Linux
 *                                5.17 with CONFIG_ANON_VMA_NAME) -> ok, or err errno=E
 *   exit N                       exits */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include "page_grain.h"

static volatile int churn_run;
static char *fill_base;
static long fill_n;
static pthread_t churn_thr;
static unsigned long churn_rounds;

static int prot_of(const char *s)
{
	if (!strcmp(s, "r"))
		return PROT_READ;
	if (!strcmp(s, "rw"))
		return PROT_READ | PROT_WRITE;
	if (!strcmp(s, "rx"))
		return PROT_READ | PROT_EXEC;
	return PROT_NONE;
}

/* An anonymous private mapping between two PROT_NONE guard pages of its own, so it never
 * merges with a neighbour (a sanitizer runtime's memory, say) and keeps its exact size. */
static void *map_guarded(size_t size, int prot, size_t align)
{
	size_t total = size + 2 * 4096 + align;
	char *raw = mmap_pages(total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return MAP_FAILED;
	char *p = raw + 4096;
	if (align)
		p = (char *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
	if (prot != PROT_NONE && mprotect(p, size, prot) < 0)
		return MAP_FAILED;
	return p;
}

static void touch(char *p, size_t len, size_t stride)
{
	for (size_t o = 0; o < len; o += stride ? stride : 4096)
		p[o] = (char)(o | 1);
}

static void *churn_main(void *arg)
{
	(void)arg;
	unsigned seed = 12345;
	void *slots[64] = { 0 };
	size_t lens[64] = { 0 };
	while (__atomic_load_n(&churn_run, __ATOMIC_RELAXED)) {
		unsigned i = (seed = seed * 1103515245u + 12345u) >> 16 & 63;
		if (slots[i]) {
			munmap(slots[i], lens[i]);
			slots[i] = NULL;
		} else {
			lens[i] = (size_t)(1 + (seed >> 8) % 8) * 4096;
			void *p = mmap(NULL, lens[i], PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p != MAP_FAILED) {
				slots[i] = p;
				/* split it so the VMA tree keeps changing shape */
				if (lens[i] > 4096)
					mprotect(p, 4096, PROT_READ);
			}
		}
		/* flip the protection of one page of the fill region: its neighbours merge
		 * into one VMA or split again, anywhere in the address range, so a reader's
		 * page-sized reads of maps see VMAs change under them */
		if (fill_n > 2) {
			long k = 1 + (long)((seed >> 4) % (unsigned long)(fill_n - 2));
			static unsigned char flipped[1 << 16];
			int base = k % 2 ? PROT_READ | PROT_WRITE : PROT_READ;
			int other = k % 2 ? PROT_READ : PROT_READ | PROT_WRITE;
			if (k < (long)sizeof(flipped)) {
				mprotect(fill_base + k * 4096, 4096, flipped[k] ? base : other);
				flipped[k] ^= 1;
			}
		}
		churn_rounds++;
	}
	for (int i = 0; i < 64; i++)
		if (slots[i])
			munmap(slots[i], lens[i]);
	return NULL;
}

static int unhex(const char *h, char *out, size_t cap)
{
	size_t n = strlen(h);
	if (n % 2 || n / 2 >= cap)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(h + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (char)v;
	}
	out[n / 2] = '\0';
	return (int)(n / 2);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready pid=%d\n", (int)getpid());
	char line[8192];
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		char *save, *cmd = strtok_r(line, " ", &save);
		char *a1 = cmd ? strtok_r(NULL, " ", &save) : NULL;
		char *a2 = a1 ? strtok_r(NULL, " ", &save) : NULL;
		char *a3 = a2 ? strtok_r(NULL, " ", &save) : NULL;
		char *a4 = a3 ? strtok_r(NULL, " ", &save) : NULL;
		if (!cmd)
			continue;
		if (!strcmp(cmd, "exit")) {
			_exit(a1 ? atoi(a1) : 0);
		} else if (!strcmp(cmd, "map") && a2) {
			void *p = map_guarded(strtoull(a1, NULL, 0), prot_of(a2), 0);
			if (p == MAP_FAILED)
				printf("err mmap %s\n", strerror(errno));
			else
				printf("ok addr=%p\n", p);
		} else if (!strcmp(cmd, "touch") && a3) {
			touch((char *)(uintptr_t)strtoull(a1, NULL, 0), strtoull(a2, NULL, 0), strtoull(a3, NULL, 0));
			printf("ok\n");
		} else if (!strcmp(cmd, "unmap") && a2) {
			printf(munmap((void *)(uintptr_t)strtoull(a1, NULL, 0), strtoull(a2, NULL, 0)) ? "err munmap\n"
													: "ok\n");
		} else if (!strcmp(cmd, "name") && a3) {
			char name[256];
			if (unhex(a3, name, sizeof(name)) < 0) {
				printf("err bad name\n");
				continue;
			}
			if (prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, strtoull(a1, NULL, 0), strtoull(a2, NULL, 0),
				  (unsigned long)name) < 0)
				printf("err errno=%d\n", errno);
			else
				printf("ok\n");
		} else if (!strcmp(cmd, "mapfile") && a3) {
			char name[1024], path[4096];
			if (unhex(a2, name, sizeof(name)) < 0) {
				printf("err bad name\n");
				continue;
			}
			snprintf(path, sizeof(path), "%s/%s", a1, name);
			size_t sz = strtoull(a3, NULL, 0);
			int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
			if (fd < 0 || ftruncate(fd, (off_t)sz) < 0) {
				printf("err open %s\n", strerror(errno));
				continue;
			}
			struct stat st;
			fstat(fd, &st);
			char *p = mmap(NULL, sz, PROT_READ, MAP_PRIVATE, fd, 0);
			close(fd);
			if (p == MAP_FAILED) {
				printf("err mmap %s\n", strerror(errno));
				continue;
			}
			volatile char sink = 0;
			for (size_t o = 0; o < sz; o += 4096)
				sink ^= p[o];
			(void)sink;
			if (a4 && !strcmp(a4, "unlink"))
				unlink(path);
			printf("ok addr=%p ino=%llu\n", (void *)p, (unsigned long long)st.st_ino);
		} else if (!strcmp(cmd, "shmanon") && a1) {
			size_t sz = strtoull(a1, NULL, 0);
			char *p = mmap_pages(sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED) {
				printf("err mmap %s\n", strerror(errno));
				continue;
			}
			touch(p, sz, 4096);
			printf("ok addr=%p\n", (void *)p);
		} else if (!strcmp(cmd, "memfd") && a2) {
			size_t sz = strtoull(a2, NULL, 0);
			int fd = memfd_create(a1, MFD_CLOEXEC);
			if (fd < 0 || ftruncate(fd, (off_t)sz) < 0) {
				printf("err memfd %s\n", strerror(errno));
				continue;
			}
			char *p = mmap_pages(sz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			close(fd);
			if (p == MAP_FAILED) {
				printf("err mmap %s\n", strerror(errno));
				continue;
			}
			touch(p, sz, 4096);
			printf("ok addr=%p\n", (void *)p);
		} else if (!strcmp(cmd, "sysv") && a1) {
			size_t sz = strtoull(a1, NULL, 0);
			int id = shmget(IPC_PRIVATE, sz, IPC_CREAT | 0600);
			char *p = id < 0 ? (void *)-1 : shmat(id, NULL, 0);
			if (p == (void *)-1) {
				printf("err shm %s\n", strerror(errno));
				continue;
			}
			shmctl(id, IPC_RMID, NULL); /* gone when we detach or exit */
			page_grain(p, sz);
			touch(p, sz, 4096);
			printf("ok addr=%p\n", (void *)p);
		} else if (!strcmp(cmd, "thp") && a1) {
			size_t sz = strtoull(a1, NULL, 0), align = 2u << 20;
			char *p = map_guarded(sz, PROT_READ | PROT_WRITE, align);
			if (p == MAP_FAILED) {
				printf("err mmap %s\n", strerror(errno));
				continue;
			}
			madvise(p, sz, MADV_HUGEPAGE);
			touch(p, sz, 4096);
			printf("ok addr=%p\n", (void *)p);
		} else if (!strcmp(cmd, "fill") && a1) {
			long n = strtol(a1, NULL, 0);
			void *first = NULL, *last = NULL;
			/* one reservation, then alternate protections so neighbours never merge */
			char *base = mmap(NULL, (size_t)n * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (base == MAP_FAILED) {
				printf("err mmap %s\n", strerror(errno));
				continue;
			}
			for (long i = 1; i < n; i += 2)
				mprotect(base + i * 4096, 4096, PROT_READ | PROT_WRITE);
			first = base;
			last = base + (n - 1) * 4096;
			fill_base = base;
			fill_n = n;
			printf("ok first=%p last=%p\n", first, last);
		} else if (!strcmp(cmd, "stable") && a1) {
			long k = strtol(a1, NULL, 0);
			char out[4096];
			size_t o = (size_t)snprintf(out, sizeof(out), "ok");
			for (long i = 0; i < k && o < sizeof(out) - 64; i++) {
				/* distinct protections and a guard gap keep them from merging */
				char *p = mmap(NULL, 3 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
				mprotect(p + 4096, 4096, i % 2 ? PROT_READ : PROT_READ | PROT_WRITE);
				o += (size_t)snprintf(out + o, sizeof(out) - o, " a%ld=%p", i, (void *)(p + 4096));
			}
			printf("%s\n", out);
		} else if (!strcmp(cmd, "churn")) {
			__atomic_store_n(&churn_run, 1, __ATOMIC_RELAXED);
			pthread_create(&churn_thr, NULL, churn_main, NULL);
			printf("ok\n");
		} else if (!strcmp(cmd, "stop")) {
			__atomic_store_n(&churn_run, 0, __ATOMIC_RELAXED);
			pthread_join(churn_thr, NULL);
			printf("ok rounds=%lu\n", churn_rounds);
		} else {
			printf("err unknown command %s\n", cmd);
		}
	}
	return 0;
}
