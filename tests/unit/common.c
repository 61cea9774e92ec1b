/* lib/common.c: the version is the project's (CMakeLists.txt), every error code has words
 * (either sign, the library's own for the codes it documents, strerror's otherwise), and the
 * error detail belongs to the thread that set it, bounded in length. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memlens/memlens.h>

#include "mltest.h"
#include "internal/internal.h"

START_TEST(version_is_the_projects)
{
	/* the source tree: tests/fixtures is two levels below it */
	char path[4096];
	snprintf(path, sizeof(path), "%s/../../CMakeLists.txt", mlt_fixture_dir());
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	char line[512], want[64] = "";
	while (fgets(line, sizeof(line), f)) {
		const char *v = strstr(line, " VERSION ");
		if (!strncmp(line, "project(", 8) && v) {
			sscanf(v + 9, "%63[0-9.]", want);
			break;
		}
	}
	fclose(f);
	ck_assert_msg(*want, "no project(... VERSION x.y.z) in %s", path);
	ck_assert_str_eq(ml_version(), want);
}
END_TEST

START_TEST(every_code_has_words)
{
	/* the codes the library documents have its own words, the same for either sign */
	static const int own[] = { ESRCH, EACCES, EPERM, EBADMSG, EOPNOTSUPP, EIO, EFAULT, ENOSPC };
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		const char *a = ml_strerror(-own[i]), *b = ml_strerror(own[i]);
		ck_assert_ptr_nonnull(a);
		ck_assert_str_eq(a, b);
		ck_assert_uint_gt(strlen(a), 5);
		for (size_t k = 0; k < i; k++)
			ck_assert_msg(strcmp(a, ml_strerror(-own[k])), "%d and %d read the same", own[i], own[k]);
	}
	ck_assert_ptr_nonnull(strstr(ml_strerror(-ESRCH), "gone"));
	ck_assert_str_eq(ml_strerror(0), "success");
	/* the others are the C library's */
	static const int other[] = { ENOENT, EINVAL, ENOMEM, EEXIST, ELOOP, ECANCELED, EFBIG };
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		ck_assert_str_eq(ml_strerror(-other[i]), strerror(other[i]));
	ck_assert_ptr_nonnull(ml_strerror(-100000));
}
END_TEST

static void *other_thread(void *arg)
{
	/* a new thread starts with no detail, and its own does not reach the caller's */
	*(int *)arg = ml_error_detail()[0] == '\0';
	ml__error_set("thread %d", 2);
	return NULL;
}

START_TEST(detail_per_thread_and_bounded)
{
	ml__error_clear();
	ck_assert_str_eq(ml_error_detail(), "");
	ml__error_set("chunk %d of %s", 7, "x.mlcore");
	ck_assert_str_eq(ml_error_detail(), "chunk 7 of x.mlcore");
	int clean = 0;
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, other_thread, &clean), 0);
	pthread_join(t, NULL);
	ck_assert(clean);
	ck_assert_str_eq(ml_error_detail(), "chunk 7 of x.mlcore");
	/* a longer detail is cut, never overflows */
	char big[2000];
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ml__error_set("%s", big);
	size_t n = strlen(ml_error_detail());
	ck_assert_uint_gt(n, 100);
	ck_assert_uint_lt(n, sizeof(big) - 1);
	ml__error_clear();
	ck_assert_str_eq(ml_error_detail(), "");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("common");
	TCase *tc = tcase_create("common");
	tcase_add_test(tc, version_is_the_projects);
	tcase_add_test(tc, every_code_has_words);
	tcase_add_test(tc, detail_per_thread_and_bounded);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
