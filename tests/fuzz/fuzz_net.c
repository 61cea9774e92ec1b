/* Fuzz target: the net table parsers; the first byte picks the table (mod 8). */
#include <stdint.h>
#include <string.h>

#include <memlens/memlens.h>

static volatile uint64_t sink;

static void str(const char *s)
{
	sink += strlen(s);
}

static void socks(const char *b, size_t n)
{
	ml_net_socks *t;
	if (ml_net_socks_parse(b, n, &t) != 0)
		return;
	for (size_t i = 0; i < ml_net_socks_count(t); i++) {
		const ml_net_sock *k = ml_net_socks_get(t, i);
		sink += k->inode + k->local_port + k->local_addr[15] + (uint64_t)k->ssthresh + k->drops;
		if (k->inode && !ml_net_socks_find_inode(t, k->inode))
			__builtin_trap();
	}
	ml_net_socks_free(t);
}

static void unixes(const char *b, size_t n)
{
	ml_net_unixes *t;
	if (ml_net_unixes_parse(b, n, &t) != 0)
		return;
	for (size_t i = 0; i < ml_net_unixes_count(t); i++) {
		const ml_net_unix *u = ml_net_unixes_get(t, i);
		for (size_t j = 0; u->path && j < u->path_len; j++)
			sink += (unsigned char)u->path[j];
		if (u->path && u->path[u->path_len] != '\0')
			__builtin_trap();
	}
	ml_net_unixes_free(t);
}

static void arps(const char *b, size_t n)
{
	ml_net_arps *t;
	if (ml_net_arps_parse(b, n, &t) != 0)
		return;
	for (size_t i = 0; i < ml_net_arps_count(t); i++) {
		const ml_net_arp *a = ml_net_arps_get(t, i);
		str(a->mask);
		str(a->device);
		if (a->hw_addr_len > sizeof(a->hw_addr))
			__builtin_trap();
	}
	ml_net_arps_free(t);
}

static void routes(const char *b, size_t n)
{
	ml_net_routes *t;
	if (ml_net_routes_parse(b, n, &t) != 0)
		return;
	for (size_t i = 0; i < ml_net_routes_count(t); i++)
		str(ml_net_routes_get(t, i)->iface);
	ml_net_routes_free(t);
}

static void devs(const char *b, size_t n)
{
	ml_net_devs *t;
	if (ml_net_devs_parse(b, n, &t) != 0)
		return;
	for (size_t i = 0; i < ml_net_devs_count(t); i++) {
		const ml_net_dev *d = ml_net_devs_get(t, i);
		str(d->name);
		sink += d->rx_bytes + d->tx_compressed;
		if (ml_net_devs_find(t, d->name) == NULL)
			__builtin_trap();
	}
	ml_net_devs_free(t);
}

static void snmp(const char *b, size_t n, int fmt)
{
	ml_net_snmp *s;
	int r = fmt == 0 ? ml_net_snmp_parse(b, n, &s) : fmt == 1 ? ml_net_snmp6_parse(b, n, &s)
	      : ml_net_sockstat_parse(b, n, &s);
	if (r != 0)
		return;
	for (size_t i = 0; i < ml_net_snmp_count(s); i++) {
		const ml_snmp_proto *p = ml_net_snmp_get(s, i);
		str(p->name);
		for (size_t j = 0; j < p->ncounters; j++) {
			str(p->counters[j].name);
			int64_t v;
			if (ml_net_snmp_find(s, p->name, p->counters[j].name, &v) != 0)
				__builtin_trap();
			sink += (uint64_t)v;
		}
	}
	ml_net_snmp_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	const char *b = (const char *)data + 1;
	size_t n = size - 1;
	switch (data[0] % 8) {
	case 0: socks(b, n); break;
	case 1: unixes(b, n); break;
	case 2: arps(b, n); break;
	case 3: routes(b, n); break;
	case 4: devs(b, n); break;
	case 5: snmp(b, n, 0); break;
	case 6: snmp(b, n, 1); break;
	default: snmp(b, n, 2); break;
	}
	return 0;
}
