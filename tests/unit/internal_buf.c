/* lib/internal/buf.c: growable buffers and arrays (contents kept across growth, always
 * NUL-terminated, sizes that would overflow refused) and reading a descriptor whole. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mltest.h"
#include "internal/internal.h"

START_TEST(buffer_appends_keep_bytes_and_terminate)
{
	ml_buf b = { 0 };
	ck_assert_int_eq(ml_buf_append(&b, "", 0), 0);
	ck_assert_ptr_nonnull(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(b.data[0], '\0');
	/* bytes of every value, NULs included, in pieces of growing size */
	uint8_t ref[70000];
	size_t n = 0;
	for (size_t piece = 1; n + piece <= sizeof(ref); piece = piece * 2 + 1) {
		uint8_t tmp[40000];
		for (size_t i = 0; i < piece; i++)
			tmp[i] = (uint8_t)(n + i * 7);
		memcpy(ref + n, tmp, piece);
		n += piece;
		ck_assert_int_eq(ml_buf_append(&b, tmp, piece), 0);
		ck_assert_uint_eq(b.len, n);
		ck_assert_uint_gt(b.cap, b.len); /* room for the terminator */
		ck_assert_int_eq(b.data[b.len], '\0');
		ck_assert(!memcmp(b.data, ref, n));
	}
	/* a reserve makes room without changing the contents */
	size_t len = b.len;
	ck_assert_int_eq(ml_buf_reserve(&b, 100000), 0);
	ck_assert_uint_ge(b.cap, len + 100000 + 1);
	ck_assert_uint_eq(b.len, len);
	ck_assert(!memcmp(b.data, ref, len));
	/* sizes that would wrap around are refused, and the buffer is left as it was */
	ck_assert_int_eq(ml_buf_reserve(&b, SIZE_MAX - 1), -ENOMEM);
	ck_assert_int_eq(ml_buf_append(&b, ref, SIZE_MAX - b.len), -ENOMEM);
	ck_assert_uint_eq(b.len, len);
	ml_buf_free(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len + b.cap, 0);
	ml_buf_free(&b); /* twice is harmless */
}
END_TEST

START_TEST(arrays_grow_by_doubling_and_refuse_overflow)
{
	uint64_t *a = NULL;
	size_t cap = 0;
	for (size_t i = 0; i < 5000; i++) {
		ck_assert_int_eq(ml__grow(&a, &cap, i + 1, sizeof(*a)), 0);
		ck_assert_uint_ge(cap, i + 1);
		a[i] = i * 3;
	}
	for (size_t i = 0; i < 5000; i++)
		ck_assert_uint_eq(a[i], i * 3);
	/* no reallocation when there is room */
	uint64_t *before = a;
	size_t c = cap;
	ck_assert_int_eq(ml__grow(&a, &cap, cap, sizeof(*a)), 0);
	ck_assert_ptr_eq(a, before);
	ck_assert_uint_eq(cap, c);
	/* element count times size beyond SIZE_MAX */
	ck_assert_int_eq(ml__grow(&a, &cap, SIZE_MAX / 4, sizeof(*a)), -ENOMEM);
	ck_assert_int_eq(ml__grow(&a, &cap, SIZE_MAX, 1), -ENOMEM);
	ck_assert_uint_eq(cap, c);
	ck_assert_uint_eq(a[4999], 4999 * 3);
	free(a);
}
END_TEST

START_TEST(read_fd_all_whatever_the_hint)
{
	char path[] = "/tmp/ml_bufXXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	unlink(path);
	static uint8_t data[300000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i ^ (i >> 8));
	ck_assert_int_eq(write(fd, data, sizeof(data)), (ssize_t)sizeof(data));
	static const size_t hints[] = { 0, 1, 4095, 4096, sizeof(data), sizeof(data) + 1, 1 << 20 };
	for (size_t h = 0; h < sizeof(hints) / sizeof(hints[0]); h++) {
		ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
		char *out;
		size_t len;
		ck_assert_int_eq(ml__read_fd_all(fd, hints[h], &out, &len), 0);
		ck_assert_uint_eq(len, sizeof(data));
		ck_assert(!memcmp(out, data, len));
		ck_assert_int_eq(out[len], '\0');
		free(out);
	}
	/* an empty file is an empty, terminated string */
	ck_assert_int_eq(ftruncate(fd, 0), 0);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	char *out;
	size_t len;
	ck_assert_int_eq(ml__read_fd_all(fd, 0, &out, &len), 0);
	ck_assert_uint_eq(len, 0);
	ck_assert_str_eq(out, "");
	free(out);
	close(fd);
	/* a read error is returned as -errno */
	out = NULL;
	ck_assert_int_eq(ml__read_fd_all(fd, 0, &out, &len), -EBADF);
	ck_assert_ptr_null(out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("internal_buf");
	TCase *tc = tcase_create("buf");
	tcase_add_test(tc, buffer_appends_keep_bytes_and_terminate);
	tcase_add_test(tc, arrays_grow_by_doubling_and_refuse_overflow);
	tcase_add_test(tc, read_fd_all_whatever_the_hint);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
