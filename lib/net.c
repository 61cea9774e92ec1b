/* Socket tables of a process's network namespace: net/tcp, tcp6, udp, udp6, raw, raw6, unix. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <memlens/net.h>

#include "internal/escape.h"
#include "internal/internal.h"
#include "internal/nettext.h"

/* ---- shared line splitting ---- */

size_t ml__split_ws(const char *p, const char *end, const char **ts, const char **te, size_t max)
{
	size_t n = 0;
	while (n < max) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end)
			break;
		ts[n] = p;
		while (p < end && *p != ' ' && *p != '\t')
			p++;
		te[n++] = p;
	}
	return n;
}

int ml__net_read(const ml_proc *p, const char *name, char **buf, size_t *len)
{
	if (!p)
		return -EINVAL;
	return ml__dead_is_gone(p, ml_proc_read_file(p, name, buf, len));
}

/* ---- inet sockets ---- */

struct ml_net_socks {
	ml_net_sock *v;
	size_t n, cap;
};

static const char *const table_names[ML_NET_TABLE_COUNT] = {
	"tcp", "tcp6", "udp", "udp6", "raw", "raw6",
};

const char *ml_net_table_name(ml_net_table which)
{
	return (unsigned)which < ML_NET_TABLE_COUNT ? table_names[which] : NULL;
}

const char *ml_tcp_state_name(unsigned state)
{
	static const char *const names[] = {
		NULL, "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
		"CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV", "BOUND_INACTIVE",
	};
	return state < ML_ARRAY_SIZE(names) && names[state] ? names[state] : "UNKNOWN";
}

/* "0100007F:D493": 8 or 32 hex digits, ':', 4 hex digits. Sets *family by width. */
static int parse_endpoint(const char *s, const char *e, int *family, uint8_t addr[16], uint16_t *port)
{
	const char *colon = memchr(s, ':', (size_t)(e - s));
	if (!colon)
		return -EBADMSG;
	size_t w = (size_t)(colon - s);
	if (w != 8 && w != 32)
		return -EBADMSG;
	memset(addr, 0, 16);
	for (size_t i = 0; i < w / 8; i++) {
		uint64_t v;
		if (ml__tok_hex(s + 8 * i, s + 8 * i + 8, &v) < 0)
			return -EBADMSG;
		uint32_t word = (uint32_t)v;
		memcpy(addr + 4 * i, &word, 4);
	}
	uint64_t pv;
	if ((size_t)(e - colon - 1) != 4 || ml__tok_hex(colon + 1, e, &pv) < 0)
		return -EBADMSG;
	*family = w == 8 ? AF_INET : AF_INET6;
	*port = (uint16_t)pv;
	return 0;
}

/* "A:B" of two hex numbers. */
static int parse_hex_pair(const char *s, const char *e, uint64_t *a, uint64_t *b)
{
	const char *colon = memchr(s, ':', (size_t)(e - s));
	if (!colon || ml__tok_hex(s, colon, a) < 0 || ml__tok_hex(colon + 1, e, b) < 0)
		return -EBADMSG;
	return 0;
}

static int parse_sock_line(const char *p, const char *end, ml_net_sock *k)
{
	const char *ts[24], *te[24];
	size_t n = ml__split_ws(p, end, ts, te, 24);
	uint64_t v, a, b;
	int fam2;
	memset(k, 0, sizeof(*k));
	if (n < 10 || te[0] - ts[0] < 2 || te[0][-1] != ':')
		return -EBADMSG;
	if (ml__tok_dec(ts[0], te[0] - 1, &v) < 0 || v > UINT32_MAX)
		return -EBADMSG;
	k->slot = (uint32_t)v;
	if (parse_endpoint(ts[1], te[1], &k->family, k->local_addr, &k->local_port) < 0 ||
	    parse_endpoint(ts[2], te[2], &fam2, k->remote_addr, &k->remote_port) < 0 || fam2 != k->family)
		return -EBADMSG;
	if (ml__tok_hex(ts[3], te[3], &v) < 0 || v > 0xff)
		return -EBADMSG;
	k->state = (uint8_t)v;
	if (parse_hex_pair(ts[4], te[4], &a, &b) < 0 || a > UINT32_MAX || b > UINT32_MAX)
		return -EBADMSG;
	k->tx_queue = (uint32_t)a;
	k->rx_queue = (uint32_t)b;
	if (parse_hex_pair(ts[5], te[5], &a, &b) < 0 || a > 0xff)
		return -EBADMSG;
	k->timer = (uint8_t)a;
	k->timer_expires = b;
	if (ml__tok_hex(ts[6], te[6], &k->retransmits) < 0)
		return -EBADMSG;
	if (ml__tok_dec(ts[7], te[7], &v) < 0 || v > UINT32_MAX)
		return -EBADMSG;
	k->uid = (uint32_t)v;
	int64_t sv;
	/* "timeout" is printed with %d: it is a small count, but signed */
	if (ml__tok_sdec(ts[8], te[8], &sv) < 0)
		return -EBADMSG;
	k->timeout = sv < 0 ? 0 : (uint64_t)sv;
	if (ml__tok_dec(ts[9], te[9], &k->inode) < 0)
		return -EBADMSG;
	if (n == 10)
		return 0;
	if (n < 12 || ml__tok_sdec(ts[10], te[10], &sv) < 0 || sv < 0 || sv > UINT32_MAX ||
	    ml__tok_hex(ts[11], te[11], &k->kaddr) < 0)
		return -EBADMSG;
	k->refcount = (uint32_t)sv;
	if (n == 12)
		return 0; /* TIME_WAIT and SYN_RECV minisockets end here */
	if (n == 13) { /* udp, raw: drops */
		if (ml__tok_dec(ts[12], te[12], &k->drops) < 0)
			return -EBADMSG;
		k->has_drops = true;
		return 0;
	}
	if (n != 17)
		return -EBADMSG;
	uint64_t q, cw;
	if (ml__tok_dec(ts[12], te[12], &k->rto) < 0 || ml__tok_dec(ts[13], te[13], &k->ato) < 0 ||
	    ml__tok_dec(ts[14], te[14], &q) < 0 || q > UINT32_MAX ||
	    ml__tok_dec(ts[15], te[15], &cw) < 0 || cw > UINT32_MAX ||
	    ml__tok_sdec(ts[16], te[16], &k->ssthresh) < 0)
		return -EBADMSG;
	k->quick_ack = (uint32_t)q;
	k->cwnd = (uint32_t)cw;
	k->has_tcp_info = true;
	return 0;
}

/* The column header of a socket table: its first word is "sl". */
static bool is_sock_header(const char *p, const char *end)
{
	const char *ts[1], *te[1];
	return ml__split_ws(p, end, ts, te, 1) == 1 && te[0] - ts[0] == 2 && !memcmp(ts[0], "sl", 2);
}

int ml_net_socks_parse(const char *buf, size_t len, ml_net_socks **ret)
{
	if ((!buf && len) || !ret)
		return -EINVAL;
	ml_net_socks *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	int r = 0;
	const char *p = buf, *end = buf + len;
	while (p < end) {
		const char *le = ml__line_end(p, end);
		if (!ml__blank_line(p, le) && !is_sock_header(p, le)) {
			if ((r = ml__grow(&t->v, &t->cap, t->n + 1, sizeof(*t->v))) < 0)
				break;
			if ((r = parse_sock_line(p, le, &t->v[t->n])) < 0)
				break;
			t->n++;
		}
		p = le + 1;
	}
	if (r < 0) {
		ml_net_socks_free(t);
		return r;
	}
	*ret = t;
	return 0;
}

int ml_net_socks_read(const ml_proc *p, ml_net_table which, ml_net_socks **ret)
{
	if (!p || !ret || (unsigned)which >= ML_NET_TABLE_COUNT)
		return -EINVAL;
	char name[16], *buf;
	size_t len;
	snprintf(name, sizeof(name), "net/%s", table_names[which]);
	int r = ml__net_read(p, name, &buf, &len);
	if (r < 0)
		return r;
	r = ml_net_socks_parse(buf, len, ret);
	free(buf);
	return r;
}

size_t ml_net_socks_count(const ml_net_socks *t) { return t ? t->n : 0; }

const ml_net_sock *ml_net_socks_get(const ml_net_socks *t, size_t i)
{
	return t && i < t->n ? &t->v[i] : NULL;
}

const ml_net_sock *ml_net_socks_find_inode(const ml_net_socks *t, uint64_t inode)
{
	for (size_t i = 0; t && inode && i < t->n; i++)
		if (t->v[i].inode == inode)
			return &t->v[i];
	return NULL;
}

void ml_net_socks_free(ml_net_socks *t)
{
	if (!t)
		return;
	free(t->v);
	free(t);
}

/* ---- unix sockets ---- */

struct ml_net_unixes {
	ml_net_unix *v;
	size_t n, cap;
	ml_buf paths;               /* all path bytes, each followed by a NUL */
};

/*
 * "%pK: %08X %08X %08X %04X %02X %5lu[ PATH]". The fixed columns are checked strictly,
 * so that a continuation of a path holding '\n' is not mistaken for a record.
 * Returns 0 with *path_at set to the first byte of the path (or NULL), or -EBADMSG.
 */
static int parse_unix_line(const char *p, const char *end, ml_net_unix *u, const char **path_at)
{
	static const size_t widths[] = { 8, 8, 8, 4, 2 };
	const char *s = p;
	uint64_t v;
	memset(u, 0, sizeof(*u));
	const char *colon = memchr(s, ':', (size_t)(end - s));
	if (!colon || colon == s || colon - s > 16 || ml__tok_hex(s, colon, &u->kaddr) < 0)
		return -EBADMSG;
	s = colon + 1;
	uint64_t f[5];
	for (size_t i = 0; i < 5; i++) {
		if (s >= end || *s != ' ' || (size_t)(end - s - 1) < widths[i])
			return -EBADMSG;
		s++;
		if (ml__tok_hex(s, s + widths[i], &f[i]) < 0)
			return -EBADMSG;
		s += widths[i];
	}
	u->refcount = (uint32_t)f[0];
	u->protocol = (uint32_t)f[1];
	u->flags = (uint32_t)f[2];
	u->type = (uint16_t)f[3];
	u->state = (uint8_t)f[4];
	/* " %5lu": at least one space, then the inode right-aligned in five columns */
	if (s >= end || *s != ' ')
		return -EBADMSG;
	while (s < end && *s == ' ')
		s++;
	if (ml__parse_dec(&s, end, &v) < 0)
		return -EBADMSG;
	u->inode = v;
	*path_at = NULL;
	if (s == end)
		return 0;
	if (*s != ' ' || s + 1 == end)
		return -EBADMSG;
	*path_at = s + 1;
	return 0;
}

static bool is_unix_header(const char *p, const char *end)
{
	return end - p >= 4 && !memcmp(p, "Num ", 4);
}

int ml_net_unixes_parse(const char *buf, size_t len, ml_net_unixes **ret)
{
	if ((!buf && len) || !ret)
		return -EINVAL;
	ml_net_unixes *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	/* paths are kept as offsets into t->paths until it stops moving */
	size_t *off = NULL, off_cap = 0;
	int r = 0;
	const char *p = buf, *end = buf + len;
	bool first = true;
	while (p < end && r == 0) {
		const char *le = ml__line_end(p, end);
		bool header = first && is_unix_header(p, le);
		first = false;
		if (header) {
			p = le + 1;
			continue;
		}
		ml_net_unix u;
		const char *path;
		if (le > p && parse_unix_line(p, le, &u, &path) == 0) {
			if ((r = ml__grow(&t->v, &t->cap, t->n + 1, sizeof(*t->v))) < 0 ||
			    (r = ml__grow(&off, &off_cap, t->n + 1, sizeof(*off))) < 0)
				break;
			if (path) {
				off[t->n] = t->paths.len;
				u.path_len = (size_t)(le - path);
				u.abstract = *path == '@';
				if ((r = ml_buf_append(&t->paths, path, u.path_len)) < 0 ||
				    (r = ml_buf_append(&t->paths, "", 1)) < 0)
					break;
			}
			u.path = path ? (const char *)1 : NULL; /* fixed up below */
			t->v[t->n++] = u;
		} else if (t->n && t->v[t->n - 1].path) {
			/* the previous path held a '\n': this line is the rest of it */
			ml_net_unix *last = &t->v[t->n - 1];
			t->paths.len--; /* drop its NUL */
			if ((r = ml_buf_append(&t->paths, "\n", 1)) < 0 ||
			    (r = ml_buf_append(&t->paths, p, (size_t)(le - p))) < 0 ||
			    (r = ml_buf_append(&t->paths, "", 1)) < 0)
				break;
			last->path_len += 1 + (size_t)(le - p);
		} else if (!ml__blank_line(p, le)) {
			r = -EBADMSG;
		}
		p = le + 1;
	}
	if (r < 0) {
		free(off);
		ml_net_unixes_free(t);
		return r;
	}
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].path)
			t->v[i].path = t->paths.data + off[i];
	free(off);
	*ret = t;
	return 0;
}

ML__NET_TABLE_ACCESSORS(ml_net_unixes, ml_net_unixes, ml_net_unix, "net/unix")

const ml_net_unix *ml_net_unixes_find_inode(const ml_net_unixes *t, uint64_t inode)
{
	for (size_t i = 0; t && inode && i < t->n; i++)
		if (t->v[i].inode == inode)
			return &t->v[i];
	return NULL;
}

void ml_net_unixes_free(ml_net_unixes *t)
{
	if (!t)
		return;
	free(t->v);
	ml_buf_free(&t->paths);
	free(t);
}

const char *ml_snmp_value_name(const char *proto, const char *name, int64_t value)
{
	if (!proto || !name)
		return NULL;
	if (!strcmp(proto, "Ip") && !strcmp(name, "Forwarding"))
		return value == ML_SNMP_IP_FORWARDING ? "forwarding" : value == ML_SNMP_IP_NOT_FORWARDING ? "not-forwarding" : NULL;
	if (!strcmp(proto, "Tcp") && !strcmp(name, "RtoAlgorithm")) {
		static const char *const n[] = { NULL, "other", "constant", "rsre", "vanj" };
		return value >= 1 && value <= 4 ? n[value] : NULL;
	}
	if (!strcmp(proto, "Tcp") && !strcmp(name, "MaxConn"))
		return value == -1 ? "dynamic" : NULL;
	return NULL;
}
