/* Fuzz target: the manifest's JSON parser (snap_json_parse) alone, and snap_json_str's output read back as snap_text_of() says. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot/snap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What snap_json_str() writes must parse, and give back exactly snap_text_of() of the bytes
 * (valid UTF-8 as it is, other bytes as "\xNN" text): the bytes themselves unless
 * snap_text_lossy() says otherwise. */
static void round_trip(const char *s, size_t n)
{
	ml_buf b = { 0 };
	if (ml_buf_append(&b, "{\"k\":", 5) < 0 || snap_json_str(&b, s, n) < 0 ||
	    ml_buf_append(&b, "}", 1) < 0) {
		ml_buf_free(&b);
		return;
	}
	snap_kv *kv;
	size_t nkv;
	int r = snap_json_parse(b.data, b.len, &kv, &nkv);
	if (r == -ENOMEM) {
		ml_buf_free(&b);
		return;
	}
	if (r < 0 || nkv != 1 || strcmp(kv[0].key, "k") || !kv[0].is_str)
		abort();
	ml_buf t = { 0 };
	if (snap_text_of(&t, s, n) < 0) {
		ml_buf_free(&t);
		snap_kv_free(kv, nkv);
		ml_buf_free(&b);
		return;
	}
	if (kv[0].val_len != t.len || (t.len && memcmp(kv[0].val, t.data, t.len)))
		abort();
	if (!snap_text_lossy(s, n) && (t.len != n || (n && memcmp(t.data, s, n))))
		abort();
	ml_buf_free(&t);
	snap_kv_free(kv, nkv);
	ml_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	snap_kv *kv;
	size_t n;
	if (snap_json_parse(buf, size, &kv, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			if (!kv[i].key || !kv[i].val || kv[i].val[kv[i].val_len] != '\0')
				abort();
			/* the first record of a key is the one looked up */
			const snap_kv *g = snap_kv_get(kv, n, kv[i].key);
			if (!g || g > &kv[i])
				abort();
			if (kv[i].is_str)
				round_trip(kv[i].val, kv[i].val_len);
		}
		snap_kv_free(kv, n);
	}
	round_trip(buf, size < 4096 ? size : 4096);
	return 0;
}
