/* memlens info --show: the one writer behind every method, as JSON or as an indented "key: value" outline. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "info/show.h"

static void indent(int n)
{
	for (int i = 0; i < n; i++)
		fputs("  ", stdout);
}

/* The start of a line at @level: an object item's first line carries its dash. */
static void t_lead(em *e, int level)
{
	if (level >= 1 && e->dash[level]) {
		e->dash[level] = false;
		indent(level - 1);
		fputs("- ", stdout);
		return;
	}
	indent(level);
}

/* Prints the headers of the open containers that have none yet (a header waits for the
 * first child, so that an empty container prints as "key: []" on one line). */
static void t_open(em *e, int upto)
{
	for (int d = 1; d <= upto; d++) {
		if (e->opened[d])
			continue;
		e->opened[d] = true;
		if (e->item[d] && !e->arr[d]) {
			e->dash[d] = true;
			continue;
		}
		t_lead(e, d - 1);
		if (e->item[d])
			fputs("-\n", stdout);
		else
			printf("%s:\n", e->hkey[d]);
	}
}

static void t_prefix(em *e)
{
	t_open(e, e->depth);
	t_lead(e, e->depth);
	if (e->depth >= 1 && e->arr[e->depth])
		fputs("- ", stdout);
	else
		printf("%s: ", e->key);
}

void em_key(em *e, const char *k)
{
	if (e->json)
		json_key(&e->j, k);
	else
		snprintf(e->key, sizeof(e->key), "%s", k);
}

void em_begin(em *e, bool array)
{
	if (e->json) {
		array ? json_arr_begin(&e->j) : json_obj_begin(&e->j);
		return;
	}
	if (e->depth + 1 >= EM_DEPTH)
		return;
	bool item = e->depth >= 1 && e->arr[e->depth];
	int d = ++e->depth;
	e->arr[d] = array;
	e->item[d] = item;
	e->opened[d] = false;
	e->dash[d] = false;
	snprintf(e->hkey[d], sizeof(e->hkey[d]), "%s", e->key);
}

void em_end(em *e, bool array)
{
	if (e->json) {
		array ? json_arr_end(&e->j) : json_obj_end(&e->j);
		return;
	}
	int d = e->depth;
	if (d < 1)
		return;
	if (!e->opened[d]) {
		t_open(e, d - 1);
		t_lead(e, d - 1);
		if (e->item[d])
			printf("- %s\n", array ? "[]" : "{}");
		else
			printf("%s: %s\n", e->hkey[d], array ? "[]" : "{}");
	}
	e->depth--;
}

void em_u64(em *e, uint64_t v)
{
	if (e->json)
		return json_u64(&e->j, v);
	t_prefix(e);
	printf("%" PRIu64 "\n", v);
}

void em_i64(em *e, int64_t v)
{
	if (e->json)
		return json_i64(&e->j, v);
	t_prefix(e);
	printf("%" PRId64 "\n", v);
}

void em_addr(em *e, uint64_t v)
{
	if (e->json)
		return json_addr(&e->j, v);
	t_prefix(e);
	printf("0x%" PRIx64 "\n", v);
}

void em_size(em *e, uint64_t v)
{
	if (e->json)
		return json_u64(&e->j, v);
	char b[32];
	t_prefix(e);
	printf("%s\n", cli_fmt_size(b, v, e->human));
}

void em_bool(em *e, bool v)
{
	if (e->json)
		return json_bool(&e->j, v);
	t_prefix(e);
	puts(v ? "true" : "false");
}

void em_null(em *e)
{
	if (e->json)
		return json_null(&e->j);
	t_prefix(e);
	puts("-");
}

void em_str(em *e, const char *s, size_t len)
{
	if (e->json)
		return json_str(&e->j, s ? s : "", s ? len : 0);
	t_prefix(e);
	cli_put_escaped(stdout, s ? s : "", s ? len : 0);
	putchar('\n');
}

void em_cstr(em *e, const char *s) { em_str(e, s, s ? strlen(s) : 0); }

void em_bit_names(em *e, uint32_t mask, unsigned from, const char *(*name)(unsigned))
{
	for (unsigned bit = from; bit < 32; bit++)
		if (mask & (1u << bit)) {
			const char *nm = name(bit);
			char other[16];
			snprintf(other, sizeof(other), "bit%u", bit);
			em_cstr(e, nm ? nm : other);
		}
}

void lower_key(char *out, size_t cap, const char *k)
{
	size_t i = 0;
	for (; k[i] && i + 1 < cap; i++)
		out[i] = (char)(k[i] >= 'A' && k[i] <= 'Z' ? k[i] + 32 : k[i]);
	out[i] = '\0';
}

void put_bytes_key(em *e, const char *k, const char *s, size_t n)
{
	em_key(e, k);
	s ? em_str(e, s, n) : em_null(e);
}
