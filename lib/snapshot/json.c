/* The manifest's JSON: writing exact-byte strings, and the parser readers use (fuzzed alone: fuzz_manifest_json). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot/snap.h"

static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t need;
	unsigned min;
	if (c >= 0xc2 && c <= 0xdf) { need = 2; min = 0x80; }
	else if (c >= 0xe0 && c <= 0xef) { need = 3; min = 0x800; }
	else if (c >= 0xf0 && c <= 0xf4) { need = 4; min = 0x10000; }
	else return 0;
	if (n < need)
		return 0;
	unsigned cp = c & (0x3f >> (need - 1));
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}

bool snap_text_lossy(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		size_t n = u[i] < 0x80 ? 1 : utf8_seq(u + i, len - i);
		if (!n)
			return true;
		i += n;
	}
	return false;
}

int snap_text_of(ml_buf *b, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	int r = 0;
	for (size_t i = 0; i < len && r == 0;) {
		size_t n = u[i] < 0x80 ? 1 : utf8_seq(u + i, len - i);
		if (n) {
			r = ml_buf_append(b, &u[i], n);
			i += n;
		} else {
			char tmp[8];
			snprintf(tmp, sizeof(tmp), "\\x%02x", u[i]);
			r = ml_buf_append(b, tmp, 4);
			i++;
		}
	}
	return r;
}

int snap_json_str(ml_buf *b, const char *s, size_t len)
{
	int r = ml_buf_append(b, "\"", 1);
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < len && r == 0;) {
		unsigned c = u[i];
		char tmp[8];
		if (c == '"' || c == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)c;
			r = ml_buf_append(b, tmp, 2);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(tmp, sizeof(tmp), "\\u%04x", c);
			r = ml_buf_append(b, tmp, 6);
			i++;
		} else if (c < 0x80) {
			r = ml_buf_append(b, &u[i], 1);
			i++;
		} else {
			size_t n = utf8_seq(u + i, len - i);
			if (n) {
				r = ml_buf_append(b, &u[i], n);
				i += n;
			} else {
				snprintf(tmp, sizeof(tmp), "\\\\x%02x", c);
				r = ml_buf_append(b, tmp, 5);
				i++;
			}
		}
	}
	return r ? r : ml_buf_append(b, "\"", 1);
}

typedef struct jp {
	const char *p, *end;
	snap_kv *kv;
	size_t n, cap;
	int depth;
} jp;

static void jskip(jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int hex4(jp *j, unsigned *ret)
{
	if (j->end - j->p < 4)
		return -EBADMSG;
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		int h = ml__hexval(j->p[i]);
		if (h < 0)
			return -EBADMSG;
		v = v << 4 | (unsigned)h;
	}
	j->p += 4;
	*ret = v;
	return 0;
}

static int put_utf8(ml_buf *b, unsigned cp)
{
	char o[4];
	size_t n;
	if (cp < 0x80) { o[0] = (char)cp; n = 1; }
	else if (cp < 0x800) { o[0] = (char)(0xc0 | cp >> 6); o[1] = (char)(0x80 | (cp & 0x3f)); n = 2; }
	else if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12); o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f)); n = 3;
	} else {
		o[0] = (char)(0xf0 | cp >> 18); o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		o[2] = (char)(0x80 | ((cp >> 6) & 0x3f)); o[3] = (char)(0x80 | (cp & 0x3f)); n = 4;
	}
	return ml_buf_append(b, o, n);
}

/* Parses a string at j->p (on the opening quote) into @b. */
static int jstring(jp *j, ml_buf *b)
{
	if (j->p >= j->end || *j->p != '"')
		return -EBADMSG;
	j->p++;
	int r = ml_buf_reserve(b, 16);
	if (r == 0)
		b->data[b->len] = '\0'; /* "" too is a NUL-terminated text */
	while (r == 0) {
		if (j->p >= j->end)
			return -EBADMSG;
		unsigned char c = (unsigned char)*j->p++;
		if (c == '"')
			return 0;
		if (c < 0x20)
			return -EBADMSG;
		if (c != '\\') {
			r = ml_buf_append(b, &c, 1);
			continue;
		}
		if (j->p >= j->end)
			return -EBADMSG;
		char e = *j->p++;
		char o;
		switch (e) {
		case '"': o = '"'; break;
		case '\\': o = '\\'; break;
		case '/': o = '/'; break;
		case 'b': o = '\b'; break;
		case 'f': o = '\f'; break;
		case 'n': o = '\n'; break;
		case 'r': o = '\r'; break;
		case 't': o = '\t'; break;
		case 'u': {
			unsigned cp;
			if (hex4(j, &cp) < 0)
				return -EBADMSG;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				unsigned lo;
				if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
					return -EBADMSG;
				j->p += 2;
				if (hex4(j, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
					return -EBADMSG;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp <= 0xdfff) {
				return -EBADMSG;
			}
			r = put_utf8(b, cp);
			continue;
		}
		default:
			return -EBADMSG;
		}
		r = ml_buf_append(b, &o, 1);
	}
	return r;
}

static int jadd(jp *j, const char *key, size_t klen, char *val, size_t vlen, bool is_str)
{
	int r = ml__grow(&j->kv, &j->cap, j->n + 1, sizeof(*j->kv));
	if (r < 0)
		return r;
	char *k = malloc(klen + 1);
	if (!k)
		return -ENOMEM;
	memcpy(k, key, klen);
	k[klen] = '\0';
	j->kv[j->n++] = (snap_kv){ .key = k, .val = val, .val_len = vlen, .is_str = is_str };
	return 0;
}

static int jvalue(jp *j, const char *prefix, size_t plen);

/* After a member or element: 1 if a ',' follows (another comes), 0 at @close (the
 * container ends), -EBADMSG otherwise. */
static int jnext(jp *j, char close)
{
	jskip(j);
	if (j->p >= j->end)
		return -EBADMSG;
	if (*j->p == ',') {
		j->p++;
		return 1;
	}
	if (*j->p == close) {
		j->p++;
		j->depth--;
		return 0;
	}
	return -EBADMSG;
}

static int jobject(jp *j, const char *prefix, size_t plen)
{
	if (++j->depth > 16)
		return -EBADMSG;
	j->p++; /* '{' */
	jskip(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		j->depth--;
		return 0;
	}
	for (;;) {
		jskip(j);
		ml_buf key = {0};
		if (prefix && plen) {
			if (ml_buf_append(&key, prefix, plen) < 0 || ml_buf_append(&key, ".", 1) < 0) {
				ml_buf_free(&key);
				return -ENOMEM;
			}
		}
		int r = jstring(j, &key);
		if (r == 0 && key.len > 4096)
			r = -EBADMSG;
		if (r < 0) {
			ml_buf_free(&key);
			return r;
		}
		jskip(j);
		if (j->p >= j->end || *j->p != ':') {
			ml_buf_free(&key);
			return -EBADMSG;
		}
		j->p++;
		jskip(j);
		r = jvalue(j, prefix ? (key.data ? key.data : "") : NULL, key.len);
		ml_buf_free(&key);
		if (r < 0)
			return r;
		if ((r = jnext(j, '}')) <= 0)
			return r;
	}
}

static int jarray(jp *j)
{
	if (++j->depth > 16)
		return -EBADMSG;
	j->p++;
	jskip(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		j->depth--;
		return 0;
	}
	for (;;) {
		jskip(j);
		int r = jvalue(j, NULL, 0);
		if (r < 0)
			return r;
		if ((r = jnext(j, ']')) <= 0)
			return r;
	}
}

/* A value; recorded under @prefix when @prefix is not NULL (arrays' elements are not). */
static int jvalue(jp *j, const char *prefix, size_t plen)
{
	if (j->p >= j->end)
		return -EBADMSG;
	char c = *j->p;
	if (c == '{')
		return jobject(j, prefix, plen);
	if (c == '[')
		return jarray(j);
	if (c == '"') {
		ml_buf v = {0};
		int r = jstring(j, &v);
		if (r == 0 && prefix) {
			if (!v.data && (r = ml_buf_reserve(&v, 1)) < 0) {
				ml_buf_free(&v);
				return r;
			}
			r = jadd(j, prefix, plen, v.data, v.len, true);
			if (r == 0)
				return 0;
		}
		ml_buf_free(&v);
		return r;
	}
	const char *s = j->p;
	if (c == '-' || (c >= '0' && c <= '9')) {
		j->p++;
		while (j->p < j->end && ((*j->p >= '0' && *j->p <= '9') || *j->p == '.' || *j->p == 'e' ||
					 *j->p == 'E' || *j->p == '+' || *j->p == '-'))
			j->p++;
	} else if (j->end - j->p >= 4 && !memcmp(j->p, "true", 4)) {
		j->p += 4;
	} else if (j->end - j->p >= 5 && !memcmp(j->p, "false", 5)) {
		j->p += 5;
	} else if (j->end - j->p >= 4 && !memcmp(j->p, "null", 4)) {
		j->p += 4;
	} else {
		return -EBADMSG;
	}
	if (!prefix)
		return 0;
	size_t n = (size_t)(j->p - s);
	char *v = malloc(n + 1);
	if (!v)
		return -ENOMEM;
	memcpy(v, s, n);
	v[n] = '\0';
	int r = jadd(j, prefix, plen, v, n, false);
	if (r < 0)
		free(v);
	return r;
}

int snap_json_parse(const char *buf, size_t len, snap_kv **ret, size_t *ret_n)
{
	jp j = { .p = buf, .end = buf + len };
	jskip(&j);
	int r = (j.p < j.end && *j.p == '{') ? jobject(&j, "", 0) : -EBADMSG;
	/* jobject() records keys under a non-NULL prefix; "" is the top level */
	if (r == 0) {
		jskip(&j);
		if (j.p != j.end)
			r = -EBADMSG;
	}
	if (r < 0) {
		snap_kv_free(j.kv, j.n);
		return r;
	}
	*ret = j.kv;
	*ret_n = j.n;
	return 0;
}

void snap_kv_free(snap_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].val);
	}
	free(kv);
}

const snap_kv *snap_kv_get(const snap_kv *kv, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(kv[i].key, key))
			return &kv[i];
	return NULL;
}
