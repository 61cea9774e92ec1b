/* /proc/PID/io: "key: value" counters. */
#include <string.h>

#include <memlens/io.h>

#include "internal/pinfo.h"

int ml_io_parse(const char *buf, size_t len, ml_io *ret)
{
	if ((!buf && len) || !ret)
		return -EINVAL;
	static const struct {
		const char *k;
		size_t off;
	} keys[] = {
		{ "rchar", offsetof(ml_io, rchar) }, { "wchar", offsetof(ml_io, wchar) },
		{ "syscr", offsetof(ml_io, syscr) }, { "syscw", offsetof(ml_io, syscw) },
		{ "read_bytes", offsetof(ml_io, read_bytes) },
		{ "write_bytes", offsetof(ml_io, write_bytes) },
		{ "cancelled_write_bytes", offsetof(ml_io, cancelled_write_bytes) },
	};
	ml_io io;
	memset(&io, 0, sizeof(io));
	const char *p = buf, *end = buf + len;
	while (p < end) {
		const char *le = ml__line_end(p, end);
		const char *colon = memchr(p, ':', (size_t)(le - p));
		if (!colon) {
			if (le > p)
				return -EBADMSG;
		} else {
			ml_bstr k = { p, (size_t)(colon - p) };
			for (unsigned i = 0; i < ML_ARRAY_SIZE(keys); i++) {
				if (!ml_bstr_eq(k, keys[i].k))
					continue;
				const char *vs = colon + 1, *ve = le;
				uint64_t v;
				ml__trim(&vs, &ve);
				if (ml__tok_dec(vs, ve, &v) < 0)
					return -EBADMSG;
				memcpy((char *)&io + keys[i].off, &v, sizeof(v));
				io.present |= 1u << i;
			}
		}
		p = le < end ? le + 1 : le;
	}
	*ret = io;
	return 0;
}

static int io_cb(const char *b, size_t l, void *r) { return ml_io_parse(b, l, r); }
int ml_io_read(const ml_proc *p, ml_io *ret) { return ml__read_parse(p, "io", io_cb, ret); }
