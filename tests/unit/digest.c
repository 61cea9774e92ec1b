/* ml_digest_sha256 against the FIPS 180-4 / NIST example vectors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memlens/digest.h>

#include "mltest.h"

static void hex(const uint8_t d[32], char out[65])
{
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

START_TEST(known_vectors)
{
	uint8_t d[32];
	char h[65];
	ml_digest_sha256("", 0, d);
	hex(d, h);
	ck_assert_str_eq(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	ml_digest_sha256("abc", 3, d);
	hex(d, h);
	ck_assert_str_eq(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	ml_digest_sha256(two, strlen(two), d);
	hex(d, h);
	ck_assert_str_eq(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	/* a million 'a': many blocks through the bulk path */
	size_t n = 1000000;
	char *a = malloc(n);
	memset(a, 'a', n);
	ml_digest_sha256(a, n, d);
	free(a);
	hex(d, h);
	ck_assert_str_eq(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("digest");
	TCase *tc = tcase_create("sha256");
	tcase_add_test(tc, known_vectors);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
