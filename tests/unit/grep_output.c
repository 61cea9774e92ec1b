/* tools/grep/output.c: how a unit of memlens grep holds its hits' text until it is its turn to
 * print, when its output is spilled early (a pattern matching everywhere), and when the wait
 * for its turn ends without printing (the process exited, -m reached). Driven on one thread,
 * with the unit's neighbours' progress written by hand. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mltest.h"
#include "grep/command.h"

/* output.c reads the heap and names failure reasons through the workers; no test here gets
 * that far */
const char *const grep_err_reason[8] = { "unreadable", "vanished", "denied", "other", "damaged" };
long grep_heap_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	(void)ctx, (void)addr, (void)buf, (void)len;
	return -EIO;
}

typedef struct fixture {
	gopts o;
	src s;
	unit ring[3];
	uint64_t counts[1];
	int saved_stdout;
	char path[64];
} fixture;

/* A source with @n units handed out, none printed yet; standard output goes to a file. */
static void setup(fixture *x, size_t n)
{
	memset(x, 0, sizeof(*x));
	x->s.o = &x->o;
	x->s.ring = x->ring;
	x->s.nring = n;
	x->s.produced = n;
	x->s.counts = x->counts;
	x->s.label = "test";
	for (size_t i = 0; i < n; i++)
		x->ring[i].idx = i;
	pthread_mutex_init(&x->s.mu, NULL);
	pthread_cond_init(&x->s.cv, NULL);
	snprintf(x->path, sizeof(x->path), "/tmp/memlens-grep-output.XXXXXX");
	int fd = mkstemp(x->path);
	ck_assert_int_ge(fd, 0);
	fflush(stdout);
	x->saved_stdout = dup(STDOUT_FILENO);
	ck_assert_int_ge(dup2(fd, STDOUT_FILENO), 0);
	close(fd);
}

/* What was printed; standard output is restored. malloc'd. */
static char *printed(fixture *x)
{
	fflush(stdout);
	dup2(x->saved_stdout, STDOUT_FILENO);
	close(x->saved_stdout);
	FILE *f = fopen(x->path, "r");
	ck_assert_ptr_nonnull(f);
	char *b = calloc(1, 1 << 16);
	size_t n = fread(b, 1, (1 << 16) - 1, f);
	b[n] = '\0';
	fclose(f);
	unlink(x->path);
	pthread_mutex_destroy(&x->s.mu);
	pthread_cond_destroy(&x->s.cv);
	return b;
}

/* One hit of @u with @text, as the workers add it. */
static void hit(unit *u, const char *text)
{
	FILE *f = grep_unit_stream(u);
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(grep_unit_add_hit(u, 0), 0);
}

/* A unit's search is over: what worker_main() does with it. */
static void finish(fixture *x, unit *u)
{
	if (u->f) {
		fclose(u->f);
		u->f = NULL;
	}
	u->done = true;
	grep_flush_units(&x->s);
}

/* The process exited while unit 1, not the next to print, spilled: the wait ends without
 * printing, and the hits found before and after print in order when unit 1's turn comes
 * (the stream was once closed and reopened, leaking the text printed so far and
 * leaving the hits' ends pointing into a buffer that was no longer there). */
START_TEST(spill_that_cannot_print_keeps_the_hits)
{
	fixture x;
	setup(&x, 2);
	atomic_store(&x.s.gone, true);
	unit *u = &x.ring[1];
	hit(u, "first hit, found before the spill and long enough to matter\n");
	hit(u, "second\n");
	ck_assert_int_eq(grep_spill_unit(&x.s, u), 0);
	hit(u, "third, after it\n");
	hit(u, "4th\n");
	finish(&x, u);
	finish(&x, &x.ring[0]);
	char *out = printed(&x);
	ck_assert_str_eq(out, "first hit, found before the spill and long enough to matter\nsecond\n"
			      "third, after it\n4th\n");
	ck_assert_uint_eq(x.counts[0], 4);
	ck_assert_uint_eq(x.s.printed, 4);
	free(out);
}
END_TEST

/* The unit next to print spills: its text so far is printed at once, the rest at its end. */
START_TEST(spill_of_the_next_unit_prints_at_once)
{
	fixture x;
	setup(&x, 2);
	finish(&x, &x.ring[0]);
	unit *u = &x.ring[1];
	hit(u, "a\n");
	hit(u, "bb\n");
	ck_assert_int_eq(grep_spill_unit(&x.s, u), 0);
	ck_assert_ptr_null(u->f);
	ck_assert_uint_eq(u->nhits, 0);
	ck_assert_uint_eq(x.s.printed, 2);
	hit(u, "ccc\n");
	finish(&x, u);
	char *out = printed(&x);
	ck_assert_str_eq(out, "a\nbb\nccc\n");
	ck_assert_uint_eq(x.s.printed, 3);
	free(out);
}
END_TEST

/* Unit 0 printed the one match -m allows while unit 1 still runs: nothing of unit 2 will be
 * printed; its spill drops what it holds and says its search can stop. */
START_TEST(spill_after_max_count_drops_and_stops)
{
	fixture x;
	setup(&x, 3);
	x.o.max = 1;
	hit(&x.ring[0], "the one\n");
	hit(&x.ring[0], "one too many\n");
	finish(&x, &x.ring[0]);
	ck_assert(atomic_load(&x.s.stop));
	unit *u = &x.ring[2];
	hit(u, "too many\n");
	ck_assert_int_eq(grep_spill_unit(&x.s, u), 1);
	ck_assert_ptr_null(u->f);
	ck_assert_ptr_null(u->out);
	ck_assert_uint_eq(u->nhits, 0);
	finish(&x, &x.ring[1]);
	finish(&x, u);
	char *out = printed(&x);
	ck_assert_str_eq(out, "the one\n");
	ck_assert_uint_eq(x.s.printed, 1);
	free(out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("grep_output");
	TCase *tc = tcase_create("units");
	tcase_add_test(tc, spill_that_cannot_print_keeps_the_hits);
	tcase_add_test(tc, spill_of_the_next_unit_prints_at_once);
	tcase_add_test(tc, spill_after_max_count_drops_and_stops);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
