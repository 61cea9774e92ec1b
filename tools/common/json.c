/* Streaming JSON output. */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "common/cli.h"
#include "common/json.h"

void json_init(json_writer *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->first[0] = true;
	j->after_key = false;
}

static void sep(json_writer *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
}

static void open_(json_writer *j, char c)
{
	sep(j);
	fputc(c, j->f);
	if (j->depth < JSON_MAX_DEPTH - 1)
		j->depth++;
	j->first[j->depth] = true;
}

static void close_(json_writer *j, char c)
{
	fputc(c, j->f);
	if (j->depth > 0)
		j->depth--;
}

void json_obj_begin(json_writer *j) { open_(j, '{'); }
void json_obj_end(json_writer *j) { close_(j, '}'); }
void json_arr_begin(json_writer *j) { open_(j, '['); }
void json_arr_end(json_writer *j) { close_(j, ']'); }

/*
 * A string of bytes as a JSON string, losslessly: valid UTF-8 as it is (control characters
 * as JSON escapes), a byte that is not part of valid UTF-8 as the text \xNN, and so a
 * backslash as the text \\ (as the tables show it). Decoded, the string reads back as the
 * bytes by replacing \\ with a backslash and \xNN with its byte; without the doubled
 * backslash the text \x80 in memory would decode like the byte 0x80.
 */
static void put_str(FILE *f, const char *s, size_t len)
{
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t u;
		switch (c) {
		case '"': fputs("\\\"", f); continue;
		case '\\': fputs("\\\\\\\\", f); continue;
		case '\n': fputs("\\n", f); continue;
		case '\t': fputs("\\t", f); continue;
		case '\r': fputs("\\r", f); continue;
		default: break;
		}
		if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else if (c < 0x80)
			fputc(c, f);
		else if ((u = cli_utf8_seq(s + i, len - i))) {
			fwrite(s + i, 1, u, f);
			i += u - 1;
		} else
			fprintf(f, "\\\\x%02x", c);
	}
	fputc('"', f);
}

void json_key(json_writer *j, const char *key)
{
	sep(j);
	put_str(j->f, key, strlen(key));
	fputc(':', j->f);
	j->after_key = true;
}

void json_str(json_writer *j, const char *s, size_t len)
{
	sep(j);
	put_str(j->f, s, len);
}

void json_cstr(json_writer *j, const char *s)
{
	if (!s) {
		json_null(j);
		return;
	}
	json_str(j, s, strlen(s));
}

void json_u64(json_writer *j, uint64_t v)
{
	sep(j);
	fprintf(j->f, "%" PRIu64, v);
}

void json_i64(json_writer *j, int64_t v)
{
	sep(j);
	fprintf(j->f, "%" PRId64, v);
}

void json_double(json_writer *j, double v)
{
	sep(j);
	if (isfinite(v))
		fprintf(j->f, "%.6g", v);
	else
		fputs("null", j->f);
}

void json_bool(json_writer *j, bool v)
{
	sep(j);
	fputs(v ? "true" : "false", j->f);
}

void json_null(json_writer *j)
{
	sep(j);
	fputs("null", j->f);
}

void json_addr(json_writer *j, uint64_t v)
{
	sep(j);
	fprintf(j->f, "\"0x%" PRIx64 "\"", v);
}

void json_line_end(json_writer *j)
{
	fputc('\n', j->f);
	j->first[0] = true;
}
