/* Streaming JSON output. */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "common/cli.h"
#include "common/json.h"

void ml_json_init(ml_json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->first[0] = true;
	j->after_key = false;
}

static void sep(ml_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
}

static void open_(ml_json *j, char c)
{
	sep(j);
	fputc(c, j->f);
	if (j->depth < ML_JSON_MAX_DEPTH - 1)
		j->depth++;
	j->first[j->depth] = true;
}

static void close_(ml_json *j, char c)
{
	fputc(c, j->f);
	if (j->depth > 0)
		j->depth--;
}

void ml_json_obj_begin(ml_json *j) { open_(j, '{'); }
void ml_json_obj_end(ml_json *j) { close_(j, '}'); }
void ml_json_arr_begin(ml_json *j) { open_(j, '['); }
void ml_json_arr_end(ml_json *j) { close_(j, ']'); }

static void put_str(FILE *f, const char *s, size_t len)
{
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t u;
		switch (c) {
		case '"': fputs("\\\"", f); continue;
		case '\\': fputs("\\\\", f); continue;
		case '\n': fputs("\\n", f); continue;
		case '\t': fputs("\\t", f); continue;
		case '\r': fputs("\\r", f); continue;
		default: break;
		}
		if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else if (c < 0x80)
			fputc(c, f);
		else if ((u = ml_cli_utf8_seq(s + i, len - i))) {
			fwrite(s + i, 1, u, f);
			i += u - 1;
		} else
			fprintf(f, "\\\\x%02x", c);
	}
	fputc('"', f);
}

void ml_json_key(ml_json *j, const char *key)
{
	sep(j);
	put_str(j->f, key, strlen(key));
	fputc(':', j->f);
	j->after_key = true;
}

void ml_json_str(ml_json *j, const char *s, size_t len)
{
	sep(j);
	put_str(j->f, s, len);
}

void ml_json_cstr(ml_json *j, const char *s)
{
	if (!s) {
		ml_json_null(j);
		return;
	}
	ml_json_str(j, s, strlen(s));
}

void ml_json_u64(ml_json *j, uint64_t v)
{
	sep(j);
	fprintf(j->f, "%" PRIu64, v);
}

void ml_json_i64(ml_json *j, int64_t v)
{
	sep(j);
	fprintf(j->f, "%" PRId64, v);
}

void ml_json_double(ml_json *j, double v)
{
	sep(j);
	if (isfinite(v))
		fprintf(j->f, "%.6g", v);
	else
		fputs("null", j->f);
}

void ml_json_bool(ml_json *j, bool v)
{
	sep(j);
	fputs(v ? "true" : "false", j->f);
}

void ml_json_null(ml_json *j)
{
	sep(j);
	fputs("null", j->f);
}

void ml_json_addr(ml_json *j, uint64_t v)
{
	sep(j);
	fprintf(j->f, "\"0x%" PRIx64 "\"", v);
}

void ml_json_line_end(ml_json *j)
{
	fputc('\n', j->f);
	j->first[0] = true;
}
