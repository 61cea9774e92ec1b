/* Other tables of a process's network namespace: net/arp, route, dev, snmp, snmp6, netstat, sockstat(6). */
#include <string.h>

#include <memlens/net.h>

#include "internal/escape.h"
#include "internal/internal.h"
#include "internal/nettext.h"

/*
 * These tables hold short names (interfaces, masks) between blanks. Each table keeps a
 * copy of its input; after a line is split into words, the word ends are overwritten
 * with NULs in that copy, so names are borrowed from it.
 */

#define MAXW 40

/* These tables own their records and the copy of the input their names point into. */
#define TABLE_FREE(prefix, table_t)        \
	void prefix##_free(table_t *t)     \
	{                                  \
		if (!t)                    \
			return;            \
		free(t->v);                \
		free(t->store);            \
		free(t);                   \
	}

/*
 * The loop every table parser here shares: the input is copied (records point into the
 * copy, NUL-terminated in place), and each line [p, le) goes to @line with the next record
 * slot, zeroed; it returns 1 to keep the record, 0 to skip the line (a header, a blank
 * line), or -errno. On error the caller's free releases what was made.
 */
typedef int (*table_line_fn)(void *rec, char *p, char *le, size_t line_no);

static int table_lines(const char *buf, size_t len, size_t recsz, table_line_fn line,
		       void **v, size_t *n, size_t *cap, char **store)
{
	if (!(*store = ml__memdup0(buf, len)))
		return -ENOMEM;
	char *p = *store, *end = *store + len;
	for (size_t i = 0; p < end; i++) {
		char *le = (char *)ml__line_end(p, end);
		int r = ml__grow(v, cap, *n + 1, recsz);
		if (r < 0)
			return r;
		void *rec = (char *)*v + *n * recsz;
		memset(rec, 0, recsz);
		if ((r = line(rec, p, le, i)) < 0)
			return r;
		*n += (size_t)r;
		p = le + 1;
	}
	return 0;
}

/* A table's parse: its records from table_lines(), the table freed on error. */
#define TABLE_PARSE(prefix, table_t, line_fn)                                                  \
	int prefix##_parse(const char *buf, size_t len, table_t **ret)                         \
	{                                                                                      \
		if ((!buf && len) || !ret)                                                     \
			return -EINVAL;                                                        \
		table_t *t = calloc(1, sizeof(*t));                                            \
		if (!t)                                                                        \
			return -ENOMEM;                                                        \
		int r = table_lines(buf, len, sizeof(*t->v), line_fn, (void **)&t->v, &t->n,   \
				    &t->cap, &t->store);                                       \
		if (r < 0) {                                                                   \
			prefix##_free(t);                                                      \
			return r;                                                              \
		}                                                                              \
		*ret = t;                                                                      \
		return 0;                                                                      \
	}

/* ---- arp ---- */

struct ml_net_arps {
	ml_net_arp *v;
	size_t n, cap;
	char *store;
};

static int parse_ipv4_text(const char *s, const char *e, uint8_t out[4])
{
	const char *p = s;
	for (int i = 0; i < 4; i++) {
		uint64_t v;
		const char *q = p;
		if (ml__parse_dec(&q, e, &v) < 0 || v > 255 || q - p > 3)
			return -EBADMSG;
		out[i] = (uint8_t)v;
		p = q;
		if (i < 3) {
			if (p >= e || *p != '.')
				return -EBADMSG;
			p++;
		}
	}
	return p == e ? 0 : -EBADMSG;
}

static int parse_hw_addr(const char *s, const char *e, uint8_t out[32], size_t *len)
{
	size_t n = 0;
	const char *p = s;
	while (p < e) {
		if (n == 32 || e - p < 2)
			return -EBADMSG;
		uint64_t v;
		if (ml__tok_hex(p, p + 2, &v) < 0)
			return -EBADMSG;
		out[n++] = (uint8_t)v;
		p += 2;
		if (p < e) {
			if (*p != ':' || p + 1 == e)
				return -EBADMSG;
			p++;
		}
	}
	*len = n;
	return n ? 0 : -EBADMSG;
}

static int arp_line(void *rec, char *p, char *le, size_t line)
{
	ml_net_arp *a = rec;
	const char *ts[MAXW], *te[MAXW];
	size_t nw = ml__split_ws(p, le, ts, te, MAXW);
	if (line == 0 && nw >= 2 && te[0] - ts[0] == 2 && !memcmp(ts[0], "IP", 2))
		return 0; /* "IP address  HW type  Flags  HW address  Mask  Device" */
	if (nw == 0)
		return 0;
	if (nw != 6)
		return -EBADMSG;
	uint64_t ht, fl;
	if (parse_ipv4_text(ts[0], te[0], a->addr) < 0 ||
	    te[1] - ts[1] < 3 || memcmp(ts[1], "0x", 2) || ml__tok_hex(ts[1] + 2, te[1], &ht) < 0 || ht > UINT32_MAX ||
	    te[2] - ts[2] < 3 || memcmp(ts[2], "0x", 2) || ml__tok_hex(ts[2] + 2, te[2], &fl) < 0 || fl > UINT32_MAX ||
	    parse_hw_addr(ts[3], te[3], a->hw_addr, &a->hw_addr_len) < 0)
		return -EBADMSG;
	a->hw_type = (uint32_t)ht;
	a->flags = (uint32_t)fl;
	*(char *)te[4] = '\0';
	*(char *)te[5] = '\0';
	a->mask = ts[4];
	a->device = ts[5];
	return 1;
}

TABLE_PARSE(ml_net_arps, ml_net_arps, arp_line)

ML__NET_TABLE_ACCESSORS(ml_net_arps, ml_net_arps, ml_net_arp, "net/arp")

TABLE_FREE(ml_net_arps, ml_net_arps)

/* ---- route ---- */

struct ml_net_routes {
	ml_net_route *v;
	size_t n, cap;
	char *store;
};

static int hex_addr4(const char *s, const char *e, uint8_t out[4])
{
	uint64_t v;
	if (e - s != 8 || ml__tok_hex(s, e, &v) < 0)
		return -EBADMSG;
	uint32_t w = (uint32_t)v;
	memcpy(out, &w, 4);
	return 0;
}

static int route_line(void *rec, char *p, char *le, size_t line)
{
	ml_net_route *rt = rec;
	const char *ts[MAXW], *te[MAXW];
	size_t nw = ml__split_ws(p, le, ts, te, MAXW);
	if ((line == 0 && nw && te[0] - ts[0] == 5 && !memcmp(ts[0], "Iface", 5)) || nw == 0)
		return 0;
	if (nw != 11)
		return -EBADMSG;
	uint64_t fl;
	if (hex_addr4(ts[1], te[1], rt->destination) < 0 || hex_addr4(ts[2], te[2], rt->gateway) < 0 ||
	    ml__tok_hex(ts[3], te[3], &fl) < 0 || fl > UINT32_MAX ||
	    ml__tok_s32(ts[4], te[4], &rt->refcnt) < 0 || ml__tok_u32(ts[5], te[5], &rt->use) < 0 ||
	    ml__tok_s32(ts[6], te[6], &rt->metric) < 0 || hex_addr4(ts[7], te[7], rt->mask) < 0 ||
	    ml__tok_u32(ts[8], te[8], &rt->mtu) < 0 || ml__tok_u32(ts[9], te[9], &rt->window) < 0 ||
	    ml__tok_u32(ts[10], te[10], &rt->irtt) < 0)
		return -EBADMSG;
	rt->flags = (uint32_t)fl;
	*(char *)te[0] = '\0';
	rt->iface = ts[0];
	return 1;
}

TABLE_PARSE(ml_net_routes, ml_net_routes, route_line)

ML__NET_TABLE_ACCESSORS(ml_net_routes, ml_net_routes, ml_net_route, "net/route")

TABLE_FREE(ml_net_routes, ml_net_routes)

/* ---- dev ---- */

struct ml_net_devs {
	ml_net_dev *v;
	size_t n, cap;
	char *store;
};

static int dev_line(void *rec, char *p, char *le, size_t line)
{
	ml_net_dev *d = rec;
	char *colon = memchr(p, ':', (size_t)(le - p));
	/* the two header lines have '|' before any ':' ("Inter-|", " face |bytes");
	 * later lines are interfaces, whose names may hold '|' themselves */
	char *bar = line < 2 ? memchr(p, '|', (size_t)(le - p)) : NULL;
	if (ml__blank_line(p, le) || (bar && (!colon || bar < colon)))
		return 0;
	if (!colon)
		return -EBADMSG;
	const char *ns = p;
	while (ns < colon && (*ns == ' ' || *ns == '\t'))
		ns++;
	const char *ts[MAXW], *te[MAXW];
	size_t nw = ml__split_ws(colon + 1, le, ts, te, MAXW);
	if (ns == colon || nw != 16)
		return -EBADMSG;
	uint64_t *f[16] = {
		&d->rx_bytes, &d->rx_packets, &d->rx_errs, &d->rx_drop, &d->rx_fifo, &d->rx_frame,
		&d->rx_compressed, &d->rx_multicast, &d->tx_bytes, &d->tx_packets, &d->tx_errs,
		&d->tx_drop, &d->tx_fifo, &d->tx_colls, &d->tx_carrier, &d->tx_compressed,
	};
	for (size_t i = 0; i < 16; i++)
		if (ml__tok_dec(ts[i], te[i], f[i]) < 0)
			return -EBADMSG;
	*colon = '\0';
	d->name = ns;
	return 1;
}

TABLE_PARSE(ml_net_devs, ml_net_devs, dev_line)

ML__NET_TABLE_ACCESSORS(ml_net_devs, ml_net_devs, ml_net_dev, "net/dev")

const ml_net_dev *ml_net_devs_find(const ml_net_devs *t, const char *name)
{
	for (size_t i = 0; t && name && i < t->n; i++)
		if (!strcmp(t->v[i].name, name))
			return &t->v[i];
	return NULL;
}

TABLE_FREE(ml_net_devs, ml_net_devs)

/* ---- snmp, snmp6 ---- */

struct ml_net_snmp {
	ml_snmp_proto *v;
	size_t n, cap;
	ml_snmp_counter *c;
	size_t nc, ccap;
	size_t *first;              /* index of each protocol's first counter, until c stops moving */
	size_t first_cap;
	char *store;
};

static void snmp_fixup(ml_net_snmp *s)
{
	for (size_t i = 0; i < s->n; i++)
		s->v[i].counters = s->v[i].ncounters ? s->c + s->first[i] : NULL;
	free(s->first);
	s->first = NULL;
}

/* Starts a new protocol or, for snmp6 where lines come one by one, continues the last one. */
static int snmp_proto(ml_net_snmp *s, const char *name, bool reuse_last)
{
	if (reuse_last && s->n && !strcmp(s->v[s->n - 1].name, name))
		return 0;
	int r;
	if ((r = ml__grow(&s->v, &s->cap, s->n + 1, sizeof(*s->v))) < 0 ||
	    (r = ml__grow(&s->first, &s->first_cap, s->n + 1, sizeof(*s->first))) < 0)
		return r;
	s->v[s->n] = (ml_snmp_proto){ .name = name };
	s->first[s->n++] = s->nc;
	return 0;
}

static int snmp_counter(ml_net_snmp *s, const char *name, int64_t value)
{
	int r = ml__grow(&s->c, &s->ccap, s->nc + 1, sizeof(*s->c));
	if (r < 0)
		return r;
	s->c[s->nc++] = (ml_snmp_counter){ .name = name, .value = value };
	s->v[s->n - 1].ncounters++;
	return 0;
}

/* The part the three snmp-like parsers share: the private copy, the free on error, the fixup. */
static int snmp_parse(const char *buf, size_t len, int (*body)(ml_net_snmp *s, char *p, char *end),
		      ml_net_snmp **ret)
{
	if ((!buf && len) || !ret)
		return -EINVAL;
	ml_net_snmp *s = calloc(1, sizeof(*s));
	if (!s || !(s->store = ml__memdup0(buf, len))) {
		ml_net_snmp_free(s);
		return -ENOMEM;
	}
	int r = body(s, s->store, s->store + len);
	if (r < 0) {
		ml_net_snmp_free(s);
		return r;
	}
	snmp_fixup(s);
	*ret = s;
	return 0;
}

static int snmp_body(ml_net_snmp *s, char *p, char *end)
{
	enum { MAXN = 512 };
	const char **ns = malloc(2 * MAXN * sizeof(*ns)), **ne = ns ? ns + MAXN : NULL;
	int r = ns ? 0 : -ENOMEM;
	while (r == 0 && p < end) {
		char *l1 = (char *)ml__line_end(p, end);
		if (ml__blank_line(p, l1)) {
			p = l1 + 1;
			continue;
		}
		char *q = l1 < end ? l1 + 1 : end;
		char *l2 = (char *)ml__line_end(q, end);
		size_t n1 = ml__split_ws(p, l1, ns, ne, MAXN);
		const char *vs[MAXN], *ve[MAXN];
		size_t n2 = ml__split_ws(q, l2, vs, ve, MAXN);
		/* "Tcp: names..." then "Tcp: values...": same prefix, same count */
		if (n1 < 1 || n1 != n2 || n1 == MAXN || ne[0] - ns[0] < 2 || ne[0][-1] != ':' ||
		    ne[0] - ns[0] != ve[0] - vs[0] || memcmp(ns[0], vs[0], (size_t)(ne[0] - ns[0]))) {
			r = -EBADMSG;
			break;
		}
		int64_t vals[MAXN];
		for (size_t i = 1; i < n2 && r == 0; i++)
			if (ml__tok_sdec(vs[i], ve[i], &vals[i]) < 0)
				r = -EBADMSG;
		if (r < 0)
			break;
		*(char *)(ne[0] - 1) = '\0';
		if ((r = snmp_proto(s, ns[0], false)) < 0)
			break;
		for (size_t i = 1; i < n1 && r == 0; i++) {
			*(char *)ne[i] = '\0';
			r = snmp_counter(s, ns[i], vals[i]);
		}
		p = l2 + 1;
	}
	free(ns);
	return r;
}

int ml_net_snmp_parse(const char *buf, size_t len, ml_net_snmp **ret)
{
	return snmp_parse(buf, len, snmp_body, ret);
}

static int snmp6_body(ml_net_snmp *s, char *p, char *end)
{
	/* one name per line; the protocol is the name's prefix through its first '6' */
	int r = 0;
	while (p < end) {
		char *le = (char *)ml__line_end(p, end);
		const char *ts[3], *te[3];
		size_t nw = ml__split_ws(p, le, ts, te, 3);
		if (nw == 0) {
			p = le + 1;
			continue;
		}
		int64_t v;
		if (nw != 2 || ml__tok_sdec(ts[1], te[1], &v) < 0) {
			r = -EBADMSG;
			break;
		}
		char *name = (char *)ts[0], *nend = (char *)te[0];
		char *six = memchr(name, '6', (size_t)(nend - name));
		/*
		 * Two strings from one word "Ip6InReceives": shift the word one byte right,
		 * over the blank that follows it (the value was already parsed), then copy
		 * the prefix back to the front and end it with a NUL where its '6' was.
		 */
		char *proto, *cname;
		size_t nl = (size_t)(nend - name);
		if (six && six + 1 < nend) {
			size_t pl = (size_t)(six + 1 - name);
			memmove(name + 1, name, nl);
			memmove(name, name + 1, pl);
			name[pl] = '\0';
			name[1 + nl] = '\0';
			proto = name;
			cname = name + 1 + pl;
		} else {
			*nend = '\0';
			proto = nend; /* "": no protocol prefix */
			cname = name;
		}
		if ((r = snmp_proto(s, proto, true)) < 0 || (r = snmp_counter(s, cname, v)) < 0)
			break;
		p = le + 1;
	}
	return r;
}

int ml_net_snmp6_parse(const char *buf, size_t len, ml_net_snmp **ret)
{
	return snmp_parse(buf, len, snmp6_body, ret);
}

static int sockstat_body(ml_net_snmp *s, char *p, char *end)
{
	int r = 0;
	while (p < end && r == 0) {
		char *le = (char *)ml__line_end(p, end);
		const char *ts[MAXW], *te[MAXW];
		size_t nw = ml__split_ws(p, le, ts, te, MAXW);
		if (nw == 0) {
			p = le + 1;
			continue;
		}
		/* "TCP: inuse 1 orphan 0 ...": a protocol, then name/value pairs */
		if (nw == MAXW || nw % 2 == 0 || te[0] - ts[0] < 2 || te[0][-1] != ':') {
			r = -EBADMSG;
			break;
		}
		int64_t vals[MAXW];
		for (size_t i = 2; i < nw && r == 0; i += 2)
			if (ml__tok_sdec(ts[i], te[i], &vals[i]) < 0)
				r = -EBADMSG;
		if (r < 0)
			break;
		*(char *)(te[0] - 1) = '\0';
		if ((r = snmp_proto(s, ts[0], false)) < 0)
			break;
		for (size_t i = 1; i < nw && r == 0; i += 2) {
			*(char *)te[i] = '\0';
			r = snmp_counter(s, ts[i], vals[i + 1]);
		}
		p = le + 1;
	}
	return r;
}

int ml_net_sockstat_parse(const char *buf, size_t len, ml_net_snmp **ret)
{
	return snmp_parse(buf, len, sockstat_body, ret);
}

enum snmp_fmt { FMT_PAIRS, FMT_LINES, FMT_SOCKSTAT };

static int snmp_read(const ml_proc *p, const char *name, enum snmp_fmt fmt, ml_net_snmp **ret)
{
	if (!p || !ret)
		return -EINVAL;
	char *buf;
	size_t len;
	int r = ml__net_read(p, name, &buf, &len);
	if (r < 0)
		return r;
	r = fmt == FMT_LINES ? ml_net_snmp6_parse(buf, len, ret)
	    : fmt == FMT_SOCKSTAT ? ml_net_sockstat_parse(buf, len, ret)
	    : ml_net_snmp_parse(buf, len, ret);
	free(buf);
	return r;
}

int ml_net_snmp_read(const ml_proc *p, ml_net_snmp **ret) { return snmp_read(p, "net/snmp", FMT_PAIRS, ret); }
int ml_net_snmp6_read(const ml_proc *p, ml_net_snmp **ret) { return snmp_read(p, "net/snmp6", FMT_LINES, ret); }
int ml_net_netstat_read(const ml_proc *p, ml_net_snmp **ret) { return snmp_read(p, "net/netstat", FMT_PAIRS, ret); }
int ml_net_sockstat_read(const ml_proc *p, ml_net_snmp **ret) { return snmp_read(p, "net/sockstat", FMT_SOCKSTAT, ret); }
int ml_net_sockstat6_read(const ml_proc *p, ml_net_snmp **ret) { return snmp_read(p, "net/sockstat6", FMT_SOCKSTAT, ret); }

size_t ml_net_snmp_count(const ml_net_snmp *s) { return s ? s->n : 0; }
const ml_snmp_proto *ml_net_snmp_get(const ml_net_snmp *s, size_t i) { return s && i < s->n ? &s->v[i] : NULL; }

int ml_net_snmp_find(const ml_net_snmp *s, const char *proto, const char *name, int64_t *ret)
{
	if (!s || !proto || !name || !ret)
		return -EINVAL;
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->v[i].name, proto))
			continue;
		for (size_t j = 0; j < s->v[i].ncounters; j++)
			if (!strcmp(s->v[i].counters[j].name, name)) {
				*ret = s->v[i].counters[j].value;
				return 0;
			}
	}
	return -ENOENT;
}

void ml_net_snmp_free(ml_net_snmp *s)
{
	if (!s)
		return;
	free(s->v);
	free(s->c);
	free(s->first);
	free(s->store);
	free(s);
}
