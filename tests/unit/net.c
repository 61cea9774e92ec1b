/* lib/net.c: the socket tables (tcp, udp, raw, unix) against the tables captured from a child with known sockets,
 * and every net reader through a fixture handle (the other tables: tests/unit/net_tables.c). */
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
	tcase_add_test(tc, readers_through_a_fixture_handle);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
