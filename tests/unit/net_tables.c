/* lib/net_tables.c: net/arp, route, dev, snmp, snmp6, netstat and sockstat(6) parsers against the
 * tables captured from a child with known sockets (tests/fixtures/proc/net-child). */
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
static const uint8_t any[16];

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

int main(void)
{
	Suite *s = suite_create("net_tables");
	TCase *tc = tcase_create("net_tables");
	tcase_add_test(tc, arp_and_route);
	tcase_add_test(tc, dev_counters);
	tcase_add_test(tc, snmp_pairs);
	tcase_add_test(tc, snmp6_lines);
	tcase_add_test(tc, netstat_and_sockstat);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
