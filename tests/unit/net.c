/* Net table parsers against the tables captured from a child with known sockets. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <memlens/memlens.h>

#include "mltest.h"

static char *slurp(const char *rel, size_t *len)
{
	char path[512];
	snprintf(path, sizeof(path), "net-child/%s", rel);
	return mlt_read_fixture(path, len);
}

/* What the child reported about its sockets when the fixture was captured. */
static uint64_t truth(const char *key)
{
	size_t len;
	char *s = slurp("sockets.txt", &len);
	uint64_t v = mlt_kv(s, key);
	free(s);
	ck_assert_msg(v != 0, "sockets.txt lacks %s", key);
	return v;
}

static ml_net_socks *socks(const char *name)
{
	size_t len;
	char *buf = slurp(name, &len);
	ml_net_socks *t;
	ck_assert_int_eq(ml_net_socks_parse(buf, len, &t), 0);
	free(buf);
	return t;
}

static const uint8_t lo4[4] = { 127, 0, 0, 1 };
static const uint8_t any[16];

START_TEST(tcp_listen_and_established)
{
	ml_net_socks *t = socks("net/tcp");
	const ml_net_sock *l = ml_net_socks_find_inode(t, truth("tcp_listen_ino"));
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(l->family, AF_INET);
	ck_assert(!memcmp(l->local_addr, lo4, 4));
	ck_assert_uint_eq(l->local_port, truth("tcp_listen_port"));
	ck_assert(!memcmp(l->remote_addr, any, 16));
	ck_assert_uint_eq(l->remote_port, 0);
	ck_assert_uint_eq(l->state, ML_TCP_LISTEN);
	ck_assert_str_eq(ml_tcp_state_name(l->state), "LISTEN");
	ck_assert(l->has_tcp_info);
	ck_assert(!l->has_drops);

	const ml_net_sock *c = ml_net_socks_find_inode(t, truth("tcp_client_ino"));
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->state, ML_TCP_ESTABLISHED);
	ck_assert_uint_eq(c->local_port, truth("tcp_client_port"));
	ck_assert_uint_eq(c->remote_port, truth("tcp_listen_port"));
	ck_assert(!memcmp(c->remote_addr, lo4, 4));
	ck_assert_int_eq(c->ssthresh, -1); /* still in initial slow start */
	ck_assert_uint_gt(c->cwnd, 0);
	ck_assert_uint_gt(c->rto, 0);

	/* the accepted end holds the one byte the child wrote and nobody read */
	const ml_net_sock *a = ml_net_socks_find_inode(t, truth("tcp_accepted_ino"));
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(a->rx_queue, 1);
	ck_assert_uint_eq(a->local_port, truth("tcp_listen_port"));
	ck_assert_uint_eq(a->remote_port, truth("tcp_client_port"));
	ck_assert_uint_eq(a->uid, 0);
	ck_assert_ptr_null(ml_net_socks_find_inode(t, 0));
	ml_net_socks_free(t);
}
END_TEST

START_TEST(tcp6_addresses)
{
	ml_net_socks *t = socks("net/tcp6");
	const ml_net_sock *l = ml_net_socks_find_inode(t, truth("tcp6_listen_ino"));
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(l->family, AF_INET6);
	struct in6_addr lo6 = IN6ADDR_LOOPBACK_INIT;
	ck_assert(!memcmp(l->local_addr, &lo6, 16));
	ck_assert_uint_eq(l->local_port, truth("tcp6_listen_port"));
	ck_assert_uint_eq(l->state, ML_TCP_LISTEN);
	const ml_net_sock *c = ml_net_socks_find_inode(t, truth("tcp6_client_ino"));
	ck_assert_ptr_nonnull(c);
	ck_assert(!memcmp(c->remote_addr, &lo6, 16));
	ck_assert_uint_eq(c->remote_port, truth("tcp6_listen_port"));
	ck_assert_uint_eq(c->state, ML_TCP_ESTABLISHED);
	char txt[INET6_ADDRSTRLEN];
	ck_assert_str_eq(inet_ntop(AF_INET6, c->local_addr, txt, sizeof(txt)), "::1");
	ml_net_socks_free(t);
}
END_TEST

START_TEST(udp_bound_and_connected)
{
	ml_net_socks *t = socks("net/udp");
	const ml_net_sock *u = ml_net_socks_find_inode(t, truth("udp_ino"));
	ck_assert_ptr_nonnull(u);
	ck_assert_uint_eq(u->state, ML_TCP_CLOSE);
	ck_assert_uint_eq(u->local_port, truth("udp_port"));
	ck_assert(u->has_drops);
	ck_assert_uint_eq(u->drops, 0);
	ck_assert(!u->has_tcp_info);
	ck_assert_uint_eq(u->refcount, 2);
	const ml_net_sock *c = ml_net_socks_find_inode(t, truth("udp_conn_ino"));
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->state, ML_TCP_ESTABLISHED);
	ck_assert_uint_eq(c->local_port, truth("udp_conn_port"));
	ck_assert_uint_eq(c->remote_port, truth("udp_port"));
	ck_assert(!memcmp(c->remote_addr, lo4, 4));
	ml_net_socks_free(t);
	t = socks("net/udp6");
	u = ml_net_socks_find_inode(t, truth("udp6_ino"));
	ck_assert_ptr_nonnull(u);
	ck_assert_int_eq(u->family, AF_INET6);
	ck_assert_uint_eq(u->local_port, truth("udp6_port"));
	ml_net_socks_free(t);
}
END_TEST

START_TEST(raw_sockets)
{
	ml_net_socks *t = socks("net/raw");
	const ml_net_sock *k = ml_net_socks_find_inode(t, truth("raw_ino"));
	ck_assert_ptr_nonnull(k);
	ck_assert_int_eq(k->family, AF_INET);
	ck_assert_uint_eq(k->local_port, 1); /* the "port" of a raw socket is its protocol: ICMP */
	ck_assert_uint_eq(k->state, ML_TCP_CLOSE);
	ck_assert(k->has_drops);
	ml_net_socks_free(t);
	t = socks("net/raw6");
	k = ml_net_socks_find_inode(t, truth("raw6_ino"));
	ck_assert_ptr_nonnull(k);
	ck_assert_int_eq(k->family, AF_INET6);
	ck_assert_uint_eq(k->local_port, 58); /* ICMPv6 */
	ml_net_socks_free(t);
}
END_TEST

START_TEST(socket_lines_edge_cases)
{
	/* TIME_WAIT lines stop after the pointer; a line without refcount is accepted */
	static const char tw[] =
		"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
		"   5: 0100007F:1F90 0100007F:C350 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000\n"
		"   6: 0A000001:0016 0A000002:C000 01 00000010:00000000 01:0000002A 00000002  1000        1 4242\n";
	ml_net_socks *t;
	ck_assert_int_eq(ml_net_socks_parse(tw, sizeof(tw) - 1, &t), 0);
	ck_assert_uint_eq(ml_net_socks_count(t), 2);
	const ml_net_sock *k = ml_net_socks_get(t, 0);
	ck_assert_uint_eq(k->state, ML_TCP_TIME_WAIT);
	ck_assert_uint_eq(k->timer, 3);
	ck_assert_uint_eq(k->timer_expires, 0x1770);
	ck_assert_uint_eq(k->refcount, 3);
	ck_assert(!k->has_tcp_info);
	ck_assert_uint_eq(k->local_port, 8080);
	k = ml_net_socks_get(t, 1);
	ck_assert_uint_eq(k->tx_queue, 16);
	ck_assert_uint_eq(k->retransmits, 2);
	ck_assert_uint_eq(k->uid, 1000);
	ck_assert_uint_eq(k->timeout, 1);
	ck_assert_uint_eq(k->inode, 4242);
	ck_assert_uint_eq(k->slot, 6);
	ml_net_socks_free(t);
	static const char *const bad[] = {
		"0: 0100007F:1F90 0100007F:C350 06 00000000:00000000 03:00001770 00000000 0 0\n", /* short */
		"0 0100007F:1F90 0100007F:C350 06 00000000:00000000 03:00001770 00000000 0 0 1\n", /* no ':' */
		"0: 0100007F1F90 0100007F:C350 06 00000000:00000000 03:00001770 00000000 0 0 1\n",
		"0: 0100007F:1F90 00000000000000000000000001000000:0000 06 0:0 0:0 0 0 0 1\n", /* mixed */
		"0: 0100007:1F90 0100007F:C350 06 0:0 0:0 0 0 0 1\n",
		"0: 0100007F:1F90 0100007F:C350 106 0:0 0:0 0 0 0 1\n",
		"0: 0100007F:1F90 0100007F:C350 06 0:0 0:0 0 0 0 1 1\n", /* refcount, no pointer */
		"0: 0100007F:1F90 0100007F:C350 06 0:0 0:0 0 0 0 1 1 0 1 2\n",
		"0: 0100007F:1F90 0100007F:C350 06 0:0 0:0 0 x 0 1\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = (ml_net_socks *)0x1;
		ck_assert_msg(ml_net_socks_parse(bad[i], strlen(bad[i]), &t) == -EBADMSG, "accepted %s", bad[i]);
		ck_assert_ptr_eq(t, (ml_net_socks *)0x1);
	}
	ck_assert_int_eq(ml_net_socks_parse("", 0, &t), 0);
	ck_assert_uint_eq(ml_net_socks_count(t), 0);
	ml_net_socks_free(t);
	ck_assert_str_eq(ml_tcp_state_name(99), "UNKNOWN");
	ck_assert_str_eq(ml_net_table_name(ML_NET_UDP6), "udp6");
	ck_assert_ptr_null(ml_net_table_name(ML_NET_TABLE_COUNT));
}
END_TEST

START_TEST(unix_paths_exact)
{
	size_t len;
	char *buf = slurp("net/unix", &len);
	ml_net_unixes *t;
	ck_assert_int_eq(ml_net_unixes_parse(buf, len, &t), 0);
	free(buf);
	char want[256];
	const ml_net_unix *s = ml_net_unixes_find_inode(t, truth("unix_stream_ino"));
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->type, SOCK_STREAM);
	ck_assert_uint_eq(s->flags & ML_UNIX_ACCEPTCON, ML_UNIX_ACCEPTCON);
	ck_assert_uint_eq(s->state, 1);
	ck_assert(!s->abstract);
	/* "DIR/ml sock PID": the space is part of the path; PID from the captured stat */
	buf = slurp("stat", &len);
	int pid = atoi(buf);
	free(buf);
	snprintf(want, sizeof(want), "/ml sock %d", pid);
	ck_assert_uint_ge(s->path_len, strlen(want));
	ck_assert_str_eq(s->path + s->path_len - strlen(want), want);
	ck_assert_uint_eq(strlen(s->path), s->path_len);

	const ml_net_unix *d = ml_net_unixes_find_inode(t, truth("unix_dgram_ino"));
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(d->type, SOCK_DGRAM);
	/* "DIR/ml<NL>nl PID": the newline split the kernel's line; the parser joined it */
	snprintf(want, sizeof(want), "/ml\nnl %d", pid);
	const char *nl = strstr(d->path, want);
	ck_assert_ptr_nonnull(nl);
	ck_assert_str_eq(nl, want);
	ck_assert_uint_eq(d->path_len, strlen(d->path));
	/* both live in the same directory */
	ck_assert_int_eq(strncmp(d->path, s->path, (size_t)(nl - d->path)), 0);

	const ml_net_unix *a = ml_net_unixes_find_inode(t, truth("unix_abstract_ino"));
	ck_assert_ptr_nonnull(a);
	ck_assert(a->abstract);
	snprintf(want, sizeof(want), "@memlens-abstract-%d", pid);
	ck_assert_str_eq(a->path, want);
	ck_assert_uint_eq(a->path_len, strlen(want));
	const ml_net_unix *p0 = ml_net_unixes_find_inode(t, truth("unix_pair0_ino"));
	const ml_net_unix *p1 = ml_net_unixes_find_inode(t, truth("unix_pair1_ino"));
	ck_assert(p0 && p1);
	ck_assert_ptr_null(p0->path);
	ck_assert_uint_eq(p0->path_len, 0);
	ck_assert_uint_eq(p0->state, 3);
	ck_assert_uint_eq(p1->state, 3);
	/* every record of the file was read: count lines that start a record */
	size_t recs = 0;
	buf = slurp("net/unix", &len);
	for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		recs += strncmp(l, "Num ", 4) && strchr(l, ':') && strchr(l, ':') - l == 16;
	free(buf);
	ck_assert_uint_eq(ml_net_unixes_count(t), recs);
	ml_net_unixes_free(t);
}
END_TEST

START_TEST(unix_edge_cases)
{
	static const char text[] =
		"Num       RefCount Protocol Flags    Type St Inode Path\n"
		"0000000000000000: 00000002 00000000 00000000 0002 01 12345  leading space\n"
		"0000000000000000: 00000002 00000000 00000000 0005 01 12346 @a@b\n"
		"0000000000000000: 00000002 00000000 00000000 0001 01 12347 /x\n"
		"\n"
		"y\n";
	ml_net_unixes *t;
	ck_assert_int_eq(ml_net_unixes_parse(text, sizeof(text) - 1, &t), 0);
	ck_assert_uint_eq(ml_net_unixes_count(t), 3);
	ck_assert_str_eq(ml_net_unixes_get(t, 0)->path, " leading space");
	ck_assert_uint_eq(ml_net_unixes_get(t, 1)->type, 5);
	ck_assert(ml_net_unixes_get(t, 1)->abstract);
	/* "/x\n\ny": a path with two newlines */
	ck_assert_uint_eq(ml_net_unixes_get(t, 2)->path_len, 5);
	ck_assert(!memcmp(ml_net_unixes_get(t, 2)->path, "/x\n\ny", 6));
	ml_net_unixes_free(t);
	static const char *const bad[] = {
		"0000000000000000: 00000002 00000000 00000000 0001 01\n",
		"0000000000000000: 0000002 00000000 00000000 0001 01 1\n",
		"0000000000000000: 00000002 00000000 00000000 0001 01 1 \n",
		"garbage\n",
		"0000000000000000: 00000002 00000000 00000000 0001 01 1\nrest without a path before\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(ml_net_unixes_parse(bad[i], strlen(bad[i]), &t) == -EBADMSG, "accepted %s", bad[i]);
}
END_TEST

START_TEST(arp_and_route)
{
	size_t len;
	char *buf = slurp("net/arp", &len);
	ml_net_arps *a;
	ck_assert_int_eq(ml_net_arps_parse(buf, len, &a), 0);
	free(buf);
	ck_assert_uint_eq(ml_net_arps_count(a), 1);
	const ml_net_arp *e = ml_net_arps_get(a, 0);
	const uint8_t ip[4] = { 192, 0, 2, 1 }, mac[6] = { 0x02, 0xfc, 0, 0, 0, 0x05 };
	ck_assert(!memcmp(e->addr, ip, 4));
	ck_assert_uint_eq(e->hw_type, 1);
	ck_assert_uint_eq(e->flags, 2);
	ck_assert_uint_eq(e->hw_addr_len, 6);
	ck_assert(!memcmp(e->hw_addr, mac, 6));
	ck_assert_str_eq(e->mask, "*");
	ck_assert_str_eq(e->device, "eth0");
	ml_net_arps_free(a);

	buf = slurp("net/route", &len);
	ml_net_routes *r;
	ck_assert_int_eq(ml_net_routes_parse(buf, len, &r), 0);
	free(buf);
	ck_assert_uint_eq(ml_net_routes_count(r), 2);
	const ml_net_route *d = ml_net_routes_get(r, 0);
	ck_assert_str_eq(d->iface, "eth0");
	ck_assert(!memcmp(d->destination, any, 4));
	ck_assert(!memcmp(d->gateway, ip, 4));
	ck_assert_uint_eq(d->flags, 0x3); /* up, gateway */
	const ml_net_route *n = ml_net_routes_get(r, 1);
	const uint8_t net[4] = { 192, 0, 2, 0 }, mask[4] = { 255, 255, 255, 0 };
	ck_assert(!memcmp(n->destination, net, 4));
	ck_assert(!memcmp(n->mask, mask, 4));
	ck_assert_uint_eq(n->flags, 0x1);
	ml_net_routes_free(r);

	ck_assert_int_eq(ml_net_arps_parse("1.2.3 0x1 0x2 00:11 * eth0\n", 27, &a), -EBADMSG);
	ck_assert_int_eq(ml_net_arps_parse("1.2.3.4 0x1 0x2 00:1 * eth0\n", 28, &a), -EBADMSG);
	ck_assert_int_eq(ml_net_arps_parse("1.2.3.4 1 0x2 00:11 * eth0\n", 27, &a), -EBADMSG);
	ck_assert_int_eq(ml_net_routes_parse("eth0 0 0 3 0 0 0 0 0 0 0\n", 25, &r), -EBADMSG);
}
END_TEST

START_TEST(dev_counters)
{
	size_t len;
	char *buf = slurp("net/dev", &len);
	ml_net_devs *t;
	ck_assert_int_eq(ml_net_devs_parse(buf, len, &t), 0);
	/* every interface line: compare all 16 counters with an independent scan */
	size_t n = 0;
	for (char *l = strchr(buf, '\n') + 1; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		char name[32];
		unsigned long long v[16];
		if (sscanf(l, " %31[^:]: %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
			   name, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10],
			   &v[11], &v[12], &v[13], &v[14], &v[15]) != 17)
			continue;
		const ml_net_dev *d = ml_net_devs_find(t, name);
		ck_assert_msg(d != NULL, "%s missing", name);
		ck_assert_uint_eq(d->rx_bytes, v[0]);
		ck_assert_uint_eq(d->rx_packets, v[1]);
		ck_assert_uint_eq(d->rx_multicast, v[7]);
		ck_assert_uint_eq(d->tx_bytes, v[8]);
		ck_assert_uint_eq(d->tx_packets, v[9]);
		ck_assert_uint_eq(d->tx_colls, v[13]);
		ck_assert_uint_eq(d->tx_compressed, v[15]);
		n++;
	}
	ck_assert_uint_eq(ml_net_devs_count(t), n);
	ck_assert_ptr_nonnull(ml_net_devs_find(t, "lo"));
	ck_assert_uint_gt(ml_net_devs_find(t, "lo")->rx_packets, 0);
	ml_net_devs_free(t);
	free(buf);
	/* '|' is allowed in interface names: only the two header lines are skipped for it */
	static const char bar[] = "Inter-|\n face |bytes\n  a|b: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n";
	ck_assert_int_eq(ml_net_devs_parse(bar, sizeof(bar) - 1, &t), 0);
	ck_assert_uint_eq(ml_net_devs_count(t), 1);
	ck_assert_str_eq(ml_net_devs_get(t, 0)->name, "a|b");
	ck_assert_uint_eq(ml_net_devs_get(t, 0)->tx_compressed, 16);
	ml_net_devs_free(t);
	ck_assert_int_eq(ml_net_devs_parse("  lo: 1 2 3\n", 12, &t), -EBADMSG);
	ck_assert_int_eq(ml_net_devs_parse(" : 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", 43, &t), -EBADMSG);
}
END_TEST

START_TEST(snmp_pairs)
{
	size_t len;
	char *buf = slurp("net/snmp", &len);
	ml_net_snmp *s;
	ck_assert_int_eq(ml_net_snmp_parse(buf, len, &s), 0);
	size_t lines = 0;
	for (char *c = buf; *c; c++)
		lines += *c == '\n';
	ck_assert_uint_eq(ml_net_snmp_count(s), lines / 2);
	free(buf);
	int64_t v = 0;
	ck_assert_int_eq(ml_net_snmp_find(s, "Tcp", "MaxConn", &v), 0);
	ck_assert_int_eq(v, -1);
	ck_assert_int_eq(ml_net_snmp_find(s, "Tcp", "RtoMin", &v), 0);
	ck_assert_int_eq(v, 200);
	ck_assert_int_eq(ml_net_snmp_find(s, "Ip", "DefaultTTL", &v), 0);
	ck_assert_int_eq(v, 64);
	/* the child had established TCP connections while this was captured */
	ck_assert_int_eq(ml_net_snmp_find(s, "Tcp", "CurrEstab", &v), 0);
	ck_assert_int_ge(v, 4);
	ck_assert_int_eq(ml_net_snmp_find(s, "Tcp", "NoSuch", &v), -ENOENT);
	ck_assert_int_eq(ml_net_snmp_find(s, "Nope", "MaxConn", &v), -ENOENT);
	ck_assert_str_eq(ml_net_snmp_get(s, 0)->name, "Ip");
	ml_net_snmp_free(s);
	static const char *const bad[] = {
		"Ip: a b\nIp: 1\n", "Ip: a\nTcp: 1\n", "Ip: a\n", "Ip: a\nIp: x\n", "Ip a\nIp 1\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(ml_net_snmp_parse(bad[i], strlen(bad[i]), &s) == -EBADMSG, "accepted %s", bad[i]);
}
END_TEST

START_TEST(snmp6_lines)
{
	size_t len;
	char *buf = slurp("net/snmp6", &len);
	ml_net_snmp *s;
	ck_assert_int_eq(ml_net_snmp6_parse(buf, len, &s), 0);
	size_t lines = 0, total = 0;
	for (char *c = buf; *c; c++)
		lines += *c == '\n';
	for (size_t i = 0; i < ml_net_snmp_count(s); i++)
		total += ml_net_snmp_get(s, i)->ncounters;
	ck_assert_uint_eq(total, lines);
	int64_t v = -5;
	ck_assert_int_eq(ml_net_snmp_find(s, "Ip6", "InReceives", &v), 0);
	unsigned long long want;
	char *at = strstr(buf, "Ip6InReceives");
	ck_assert_int_eq(sscanf(at, "Ip6InReceives %llu", &want), 1);
	ck_assert_int_eq(v, (int64_t)want);
	ck_assert_int_eq(ml_net_snmp_find(s, "UdpLite6", "MemErrors", &v), 0);
	ck_assert_int_eq(ml_net_snmp_find(s, "Icmp6", "InMsgs", &v), 0);
	ck_assert_str_eq(ml_net_snmp_get(s, 0)->name, "Ip6");
	ml_net_snmp_free(s);
	free(buf);
	/* one space between name and value, and a name without a '6' */
	static const char odd[] = "Ip6X 1\nWeird 2\nIp6Y\t-3\n";
	ck_assert_int_eq(ml_net_snmp6_parse(odd, sizeof(odd) - 1, &s), 0);
	ck_assert_uint_eq(ml_net_snmp_count(s), 3);
	ck_assert_int_eq(ml_net_snmp_find(s, "Ip6", "X", &v), 0);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(ml_net_snmp_find(s, "", "Weird", &v), 0);
	ck_assert_int_eq(v, 2);
	ck_assert_int_eq(ml_net_snmp_find(s, "Ip6", "Y", &v), 0);
	ck_assert_int_eq(v, -3);
	ml_net_snmp_free(s);
	ck_assert_int_eq(ml_net_snmp6_parse("Ip6X\n", 5, &s), -EBADMSG);
	ck_assert_int_eq(ml_net_snmp6_parse("Ip6X 1 2\n", 9, &s), -EBADMSG);
}
END_TEST

START_TEST(netstat_and_sockstat)
{
	size_t len;
	char *buf = slurp("net/netstat", &len);
	ml_net_snmp *s;
	ck_assert_int_eq(ml_net_snmp_parse(buf, len, &s), 0);
	int64_t v = -5;
	ck_assert_int_eq(ml_net_snmp_find(s, "TcpExt", "ListenOverflows", &v), 0);
	ck_assert_int_ge(v, 0);
	ck_assert_int_eq(ml_net_snmp_find(s, "IpExt", "InOctets", &v), 0);
	ck_assert_int_gt(v, 0);
	/* cross-check every TcpExt counter with an independent reading of its two lines */
	char *names = strstr(buf, "TcpExt:"), *vals = strstr(names + 1, "TcpExt:");
	ck_assert(names && vals);
	char *nl = strchr(names, '\n');
	*nl = '\0';
	char *q = vals + 7, *save, nonzero = 0;
	for (char *w = strtok_r(names + 7, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		long long want = strtoll(q, &q, 10);
		ck_assert_int_eq(ml_net_snmp_find(s, "TcpExt", w, &v), 0);
		ck_assert_msg(v == want, "TcpExt %s: %lld, want %lld", w, (long long)v, want);
		nonzero |= want != 0;
	}
	ck_assert(nonzero);
	ml_net_snmp_free(s);
	free(buf);

	buf = slurp("net/sockstat", &len);
	ck_assert_int_eq(ml_net_sockstat_parse(buf, len, &s), 0);
	size_t lines = 0;
	for (char *c = buf; *c; c++)
		lines += *c == '\n';
	ck_assert_uint_eq(ml_net_snmp_count(s), lines);
	free(buf);
	ck_assert_int_eq(ml_net_snmp_find(s, "sockets", "used", &v), 0);
	ck_assert_int_gt(v, 0);
	/* the child's own sockets were in use while this was captured */
	ck_assert_int_eq(ml_net_snmp_find(s, "TCP", "inuse", &v), 0);
	ck_assert_int_ge(v, 3);
	ck_assert_int_eq(ml_net_snmp_find(s, "UDP", "inuse", &v), 0);
	ck_assert_int_ge(v, 2);
	ck_assert_int_eq(ml_net_snmp_find(s, "TCP", "mem", &v), 0);
	ck_assert_int_eq(ml_net_snmp_find(s, "FRAG", "memory", &v), 0);
	ck_assert_uint_eq(ml_net_snmp_get(s, 1)->ncounters, 5); /* TCP: inuse orphan tw alloc mem */
	ml_net_snmp_free(s);
	buf = slurp("net/sockstat6", &len);
	ck_assert_int_eq(ml_net_sockstat_parse(buf, len, &s), 0);
	free(buf);
	ck_assert_int_eq(ml_net_snmp_find(s, "TCP6", "inuse", &v), 0);
	ck_assert_int_ge(v, 3);
	ml_net_snmp_free(s);
	static const char *const bad[] = { "TCP inuse 1\n", "TCP: inuse\n", "TCP: inuse x\n", "TCP: inuse 1 2\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(ml_net_sockstat_parse(bad[i], strlen(bad[i]), &s) == -EBADMSG, "accepted %s", bad[i]);
}
END_TEST

START_TEST(readers_through_a_fixture_handle)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/proc/net-child", mlt_fixture_dir());
	ml_proc *p;
	ck_assert_int_eq(ml_proc_open_path(path, &p), 0);
	for (int w = 0; w < ML_NET_TABLE_COUNT; w++) {
		ml_net_socks *t;
		ck_assert_int_eq(ml_net_socks_read(p, (ml_net_table)w, &t), 0);
		ck_assert_uint_gt(ml_net_socks_count(t), 0);
		ml_net_socks_free(t);
	}
	ml_net_socks *t;
	ck_assert_int_eq(ml_net_socks_read(p, ML_NET_TABLE_COUNT, &t), -EINVAL);
	ml_net_unixes *u;
	ck_assert_int_eq(ml_net_unixes_read(p, &u), 0);
	ml_net_unixes_free(u);
	ml_net_arps *a;
	ck_assert_int_eq(ml_net_arps_read(p, &a), 0);
	ml_net_arps_free(a);
	ml_net_routes *r;
	ck_assert_int_eq(ml_net_routes_read(p, &r), 0);
	ml_net_routes_free(r);
	ml_net_devs *d;
	ck_assert_int_eq(ml_net_devs_read(p, &d), 0);
	ml_net_devs_free(d);
	ml_net_snmp *s;
	ck_assert_int_eq(ml_net_snmp_read(p, &s), 0);
	ml_net_snmp_free(s);
	ck_assert_int_eq(ml_net_snmp6_read(p, &s), 0);
	ml_net_snmp_free(s);
	ck_assert_int_eq(ml_net_netstat_read(p, &s), 0);
	ml_net_snmp_free(s);
	ck_assert_int_eq(ml_net_sockstat_read(p, &s), 0);
	ml_net_snmp_free(s);
	ck_assert_int_eq(ml_net_sockstat6_read(p, &s), 0);
	ml_net_snmp_free(s);
	ck_assert_int_eq(ml_net_snmp_read(NULL, &s), -EINVAL);
	ml_proc_free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("net");
	TCase *tc = tcase_create("net");
	tcase_add_test(tc, tcp_listen_and_established);
	tcase_add_test(tc, tcp6_addresses);
	tcase_add_test(tc, udp_bound_and_connected);
	tcase_add_test(tc, raw_sockets);
	tcase_add_test(tc, socket_lines_edge_cases);
	tcase_add_test(tc, unix_paths_exact);
	tcase_add_test(tc, unix_edge_cases);
	tcase_add_test(tc, arp_and_route);
	tcase_add_test(tc, dev_counters);
	tcase_add_test(tc, snmp_pairs);
	tcase_add_test(tc, snmp6_lines);
	tcase_add_test(tc, netstat_and_sockstat);
	tcase_add_test(tc, readers_through_a_fixture_handle);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
