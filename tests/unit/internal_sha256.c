/* lib/internal/sha256.c: the FIPS 180-4 / NIST example vectors (empty, "abc", the 448- and
 * 896-bit messages, one million 'a' in uneven pieces) and random lengths against sha256sum,
 * with SHA-NI where the CPU has it and with the portable rounds. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mltest.h"
#include "internal/sha256.h"

static char tmpdir[256];

static void mk_tmpdir(void) { mlt_mkdtemp(tmpdir, sizeof(tmpdir), "mlsha"); }
static void rm_tmpdir(void) { mlt_rmtree(tmpdir); }
static char *tpath(const char *name) { return mlt_path_in(tmpdir, name); }

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void hex(const uint8_t *d, char *out)
{
	ml__sha256_hex(d, out);
}

static void sha_vectors(void)
{
	static const struct { const char *msg; const char *hex; } v[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
		{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ml__sha256 c;
		uint8_t d[32];
		char h[65];
		ml__sha256_init(&c);
		ml__sha256_update(&c, v[i].msg, strlen(v[i].msg));
		ml__sha256_final(&c, d);
		hex(d, h);
		ck_assert_str_eq(h, v[i].hex);
	}
	/* one million 'a', fed in uneven pieces */
	char *a = malloc(1000000);
	memset(a, 'a', 1000000);
	ml__sha256 c;
	uint8_t d[32];
	char h[65];
	ml__sha256_init(&c);
	size_t off = 0, step = 1;
	while (off < 1000000) {
		size_t n = step < 1000000 - off ? step : 1000000 - off;
		ml__sha256_update(&c, a + off, n);
		off += n;
		step = step * 3 + 1;
		if (step > 70000)
			step = 7;
	}
	ml__sha256_final(&c, d);
	hex(d, h);
	ck_assert_str_eq(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(a);

	/* random lengths against sha256sum */
	uint64_t s = 99;
	uint8_t *buf = malloc(70000);
	for (size_t i = 0; i < 70000; i++)
		buf[i] = (uint8_t)rnd(&s);
	const size_t lens[] = { 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 65537, 70000 };
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		int fd = open(tpath("sha.bin"), O_CREAT | O_TRUNC | O_WRONLY, 0600);
		ck_assert_int_eq(write(fd, buf, lens[i]), (ssize_t)lens[i]);
		close(fd);
		ml__sha256_init(&c);
		ml__sha256_update(&c, buf, lens[i]);
		ml__sha256_final(&c, d);
		hex(d, h);
		char cmd[512];
		snprintf(cmd, sizeof(cmd), "sha256sum '%s'", tpath("sha.bin"));
		int st;
		char *out = mlt_run(cmd, &st);
		ck_assert_int_eq(st, 0);
		ck_assert_msg(!strncmp(out, h, 64), "length %zu: %s vs %.64s", lens[i], h, out);
		free(out);
	}
	free(buf);
}

START_TEST(sha256_known_vectors)
{
	mk_tmpdir();
	sha_vectors();
	rm_tmpdir();
}
END_TEST

START_TEST(sha256_portable_rounds)
{
	/* each test runs in its own process: the choice is made at first use */
	setenv("MEMLENS_NO_SHANI", "1", 1);
	mk_tmpdir();
	sha_vectors();
	rm_tmpdir();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("internal_sha256");
	TCase *tc = tcase_create("vectors");
	tcase_add_test(tc, sha256_known_vectors);
	tcase_add_test(tc, sha256_portable_rounds);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
