/* The demo child: a heap with a known string, a touched anonymous region, a file mapping,
 * a sparse region and a second thread; it prints "ready pid=N" and waits for EOF on stdin. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "page_grain.h"

static void *idle_thread(void *arg)
{
	(void)arg;
	pause();
	return NULL;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	char *secret = malloc(256);
	snprintf(secret, 256, "memlens-demo-secret: token=%08x", (unsigned)getpid() * 2654435761u);
	size_t heap_sz = 32 << 20;
	char *heap = malloc(heap_sz);
	memset(heap, 'h', heap_sz);
	size_t sparse_sz = 256 << 20;
	char *sparse = mmap_pages(sparse_sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (size_t o = 0; sparse != MAP_FAILED && o < sparse_sz; o += 1 << 20)
		sparse[o] = 1;
	pthread_t t;
	pthread_create(&t, NULL, idle_thread, NULL);
	printf("ready pid=%d\n", (int)getpid());
	char buf[256];
	while (fgets(buf, sizeof(buf), stdin))
		;
	free(heap);
	free(secret);
	return 0;
}
