/* lib/internal/opts.c: ml__opts_load(): options structs from older and newer callers, and the public entry
 * points that take one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <memlens/memlens.h>

#include "internal/internal.h"
#include "mltest.h"

/* The library's view, and what an older and a newer header would declare. */
typedef struct lib_opts {
	size_t sz;
	uint64_t a;
	uint32_t b;
	uint32_t c;
} lib_opts;
typedef struct old_opts {
	size_t sz;
	uint64_t a;
} old_opts;
typedef struct new_opts {
	size_t sz;
	uint64_t a;
	uint32_t b;
	uint32_t c;
	uint64_t d;
	uint64_t e;
} new_opts;

START_TEST(null_keeps_defaults)
{
	lib_opts o = { .sz = sizeof(o), .a = 7, .b = 8, .c = 9 };
	ck_assert_int_eq(ML_OPTS_LOAD(&o, (const void *)NULL), 0);
	ck_assert_uint_eq(o.a, 7);
	ck_assert_uint_eq(o.b, 8);
	ck_assert_uint_eq(o.c, 9);
}
END_TEST

START_TEST(same_size_copied)
{
	lib_opts in = { .sz = sizeof(in), .a = 1, .b = 2, .c = 3 };
	lib_opts o = { .sz = sizeof(o) };
	ck_assert_int_eq(ML_OPTS_LOAD(&o, &in), 0);
	ck_assert_uint_eq(o.sz, sizeof(o));
	ck_assert_uint_eq(o.a, 1);
	ck_assert_uint_eq(o.b, 2);
	ck_assert_uint_eq(o.c, 3);
}
END_TEST

START_TEST(older_caller_keeps_defaults_for_missing_fields)
{
	old_opts in = { .sz = sizeof(in), .a = 5 };
	lib_opts o = { .sz = sizeof(o), .b = 40, .c = 41 };
	ck_assert_int_eq(ML_OPTS_LOAD(&o, &in), 0);
	ck_assert_uint_eq(o.sz, sizeof(lib_opts));
	ck_assert_uint_eq(o.a, 5);
	ck_assert_uint_eq(o.b, 40);
	ck_assert_uint_eq(o.c, 41);
}
END_TEST

START_TEST(newer_caller_with_zero_tail_accepted)
{
	new_opts in;
	memset(&in, 0, sizeof(in));
	in.sz = sizeof(in);
	in.a = 11;
	in.c = 13;
	lib_opts o = { .sz = sizeof(o) };
	ck_assert_int_eq(ML_OPTS_LOAD(&o, &in), 0);
	ck_assert_uint_eq(o.sz, sizeof(lib_opts));
	ck_assert_uint_eq(o.a, 11);
	ck_assert_uint_eq(o.c, 13);
}
END_TEST

START_TEST(newer_caller_with_unknown_field_rejected)
{
	lib_opts o = { .sz = sizeof(o), .a = 99 };
	for (size_t at = sizeof(lib_opts); at < sizeof(new_opts); at++) {
		unsigned char raw[sizeof(new_opts)];
		memset(raw, 0, sizeof(raw));
		size_t sz = sizeof(raw);
		memcpy(raw, &sz, sizeof(sz));
		raw[at] = 1;
		ck_assert_int_eq(ML_OPTS_LOAD(&o, raw), -EINVAL);
		/* nothing was written on failure */
		ck_assert_uint_eq(o.a, 99);
	}
}
END_TEST

START_TEST(too_small_rejected)
{
	lib_opts o = { .sz = sizeof(o) };
	size_t zero = 0;
	ck_assert_int_eq(ML_OPTS_LOAD(&o, &zero), -EINVAL);
	old_opts in = { .sz = sizeof(in) };
	/* a minimum above what this caller's struct holds */
	ck_assert_int_eq(ml__opts_load(&o, sizeof(o), &in, offsetof(lib_opts, c)), -EINVAL);
	ck_assert_int_eq(ml__opts_load(&o, sizeof(o), &in, sizeof(old_opts)), 0);
}
END_TEST

/* A public entry point: a writer's options from a newer caller. */
START_TEST(writer_open_newer_caller)
{
	char dir[] = "/tmp/ml-opts-XXXXXX";
	if (!mkdtemp(dir))
		ck_abort_msg("mkdtemp failed");
	char path[64];
	snprintf(path, sizeof(path), "%s/s.mlcore", dir);
	struct {
		ml_snapshot_writer_opts o;
		uint64_t newer;
	} big;
	memset(&big, 0, sizeof(big));
	big.o.sz = sizeof(big);
	ml_snapshot_writer *w = NULL;
	ck_assert_int_eq(ml_snapshot_writer_open(path, &big.o, &w), 0);
	ml_snapshot_writer_free(w);
	w = NULL;
	big.newer = 1;
	ck_assert_int_eq(ml_snapshot_writer_open(path, &big.o, &w), -EINVAL);
	ck_assert_ptr_null(w);
	ck_assert_int_eq(access(path, F_OK), -1);
	rmdir(dir);
}
END_TEST

/* The populated reader and the pagemap scan on our own process. */
START_TEST(populated_and_scan_newer_caller)
{
	ml_proc *p = NULL;
	ck_assert_int_eq(ml_proc_self(&p), 0);
	struct {
		ml_populated_opts o;
		uint64_t newer;
	} po;
	memset(&po, 0, sizeof(po));
	po.o.sz = sizeof(po);
	ml_populated *it = NULL;
	ck_assert_int_eq(ml_populated_open(p, 0, 4096, &po.o, &it), 0);
	ml_populated_free(it);
	it = NULL;
	po.newer = 2;
	ck_assert_int_eq(ml_populated_open(p, 0, 4096, &po.o, &it), -EINVAL);
	ck_assert_ptr_null(it);

	ml_pagemap *pm = NULL;
	ck_assert_int_eq(ml_pagemap_open(p, &pm), 0);
	struct {
		ml_scan_opts o;
		uint64_t newer;
	} so;
	memset(&so, 0, sizeof(so));
	so.o.sz = sizeof(so);
	so.o.end = 4096;
	ml_page_region v[4];
	uint64_t next;
	ck_assert_int_ge(ml_pagemap_scan(pm, &so.o, v, 4, &next), 0);
	so.newer = 3;
	ck_assert_int_eq(ml_pagemap_scan(pm, &so.o, v, 4, &next), -EINVAL);
	ml_pagemap_free(pm);
	ml_proc_free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("internal_opts");
	TCase *tc = tcase_create("load");
	tcase_add_test(tc, null_keeps_defaults);
	tcase_add_test(tc, same_size_copied);
	tcase_add_test(tc, older_caller_keeps_defaults_for_missing_fields);
	tcase_add_test(tc, newer_caller_with_zero_tail_accepted);
	tcase_add_test(tc, newer_caller_with_unknown_field_rejected);
	tcase_add_test(tc, too_small_rejected);
	suite_add_tcase(s, tc);
	TCase *api = tcase_create("api");
	tcase_add_test(api, writer_open_newer_caller);
	tcase_add_test(api, populated_and_scan_newer_caller);
	suite_add_tcase(s, api);
	return mlt_run_suite(s);
}
