/* memlens info --show, the process's network namespace: sockets, ARP, routes, devices, SNMP counters. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include "common/cli.h"
#include "info/show.h"

static void put_addr(em *e, const char *k, int family, const uint8_t *a, uint16_t port)
{
	char ip[INET6_ADDRSTRLEN], out[INET6_ADDRSTRLEN + 16];
	inet_ntop(family, a, ip, sizeof(ip));
	snprintf(out, sizeof(out), family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
	K_CSTR(e, k, out);
}

static int show_socks(show_ctx *c, const char *file, ml_net_table which)
{
	ml_net_socks *t;
	char name[32];
	snprintf(name, sizeof(name), "net/%s", file);
	READ_OR_PARSE(c, ml_net_socks_read(c->p, which, &t), name, ml_net_socks_parse(b, n, &t));
	em *e = c->e;
	bool tcp = !strncmp(file, "tcp", 3);
	em_begin(e, true);
	for (size_t i = 0; i < ml_net_socks_count(t); i++) {
		const ml_net_sock *s = ml_net_socks_get(t, i);
		em_begin(e, false);
		put_addr(e, "local_address", s->family, s->local_addr, s->local_port);
		put_addr(e, "remote_address", s->family, s->remote_addr, s->remote_port);
		if (tcp)
			K_CSTR(e, "state", ml_tcp_state_name(s->state));
		else
			K_U64(e, "state", s->state);
		K_U64(e, "rx_queue", s->rx_queue);
		K_U64(e, "tx_queue", s->tx_queue);
		K_U64(e, "uid", s->uid);
		K_U64(e, "inode", s->inode);
		if (s->has_drops)
			K_U64(e, "drops", s->drops);
		END_OBJ(e);
	}
	END_ARR(e);
	ml_net_socks_free(t);
	return 0;
}

int show_tcp(show_ctx *c) { return show_socks(c, "tcp", ML_NET_TCP); }
int show_tcp6(show_ctx *c) { return show_socks(c, "tcp6", ML_NET_TCP6); }
int show_udp(show_ctx *c) { return show_socks(c, "udp", ML_NET_UDP); }
int show_udp6(show_ctx *c) { return show_socks(c, "udp6", ML_NET_UDP6); }

int show_unix(show_ctx *c)
{
	ml_net_unixes *t;
	READ_OR_PARSE(c, ml_net_unixes_read(c->p, &t), "net/unix", ml_net_unixes_parse(b, n, &t));
	em *e = c->e;
	em_begin(e, true);
	for (size_t i = 0; i < ml_net_unixes_count(t); i++) {
		const ml_net_unix *u = ml_net_unixes_get(t, i);
		em_begin(e, false);
		K_U64(e, "ref_count", u->refcount);
		K_U64(e, "socket_type", u->type);
		K_U64(e, "state", u->state);
		K_U64(e, "inode", u->inode);
		K_BOOL(e, "listening", (u->flags & ML_UNIX_ACCEPTCON) != 0);
		put_bytes_key(e, "path", u->path, u->path_len);
		END_OBJ(e);
	}
	END_ARR(e);
	ml_net_unixes_free(t);
	return 0;
}

int show_arp(show_ctx *c)
{
	ml_net_arps *t;
	READ_OR_PARSE(c, ml_net_arps_read(c->p, &t), "net/arp", ml_net_arps_parse(b, n, &t));
	em *e = c->e;
	em_begin(e, true);
	for (size_t i = 0; i < ml_net_arps_count(t); i++) {
		const ml_net_arp *a = ml_net_arps_get(t, i);
		char ip[INET_ADDRSTRLEN], hw[100] = "";
		inet_ntop(AF_INET, a->addr, ip, sizeof(ip));
		for (size_t k = 0; k < a->hw_addr_len && k < 32; k++)
			snprintf(hw + strlen(hw), sizeof(hw) - strlen(hw), "%s%02x", k ? ":" : "", a->hw_addr[k]);
		em_begin(e, false);
		K_CSTR(e, "ip_address", ip);
		K_U64(e, "hw_type", a->hw_type);
		K_U64(e, "flags", a->flags);
		K_CSTR(e, "hw_address", hw);
		K_CSTR(e, "mask", a->mask);
		K_CSTR(e, "device", a->device);
		END_OBJ(e);
	}
	END_ARR(e);
	ml_net_arps_free(t);
	return 0;
}

int show_route(show_ctx *c)
{
	ml_net_routes *t;
	READ_OR_PARSE(c, ml_net_routes_read(c->p, &t), "net/route", ml_net_routes_parse(b, n, &t));
	em *e = c->e;
	em_begin(e, true);
	for (size_t i = 0; i < ml_net_routes_count(t); i++) {
		const ml_net_route *r = ml_net_routes_get(t, i);
		char d[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN], m[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, r->destination, d, sizeof(d));
		inet_ntop(AF_INET, r->gateway, g, sizeof(g));
		inet_ntop(AF_INET, r->mask, m, sizeof(m));
		em_begin(e, false);
		K_CSTR(e, "iface", r->iface);
		K_CSTR(e, "destination", d);
		K_CSTR(e, "gateway", g);
		K_U64(e, "flags", r->flags);
		K_I64(e, "refcnt", r->refcnt);
		K_U64(e, "in_use", r->use);
		K_I64(e, "metrics", r->metric);
		K_CSTR(e, "mask", m);
		K_U64(e, "mtu", r->mtu);
		K_U64(e, "window", r->window);
		K_U64(e, "irtt", r->irtt);
		END_OBJ(e);
	}
	END_ARR(e);
	ml_net_routes_free(t);
	return 0;
}

int show_dev_status(show_ctx *c)
{
	ml_net_devs *t;
	READ_OR_PARSE(c, ml_net_devs_read(c->p, &t), "net/dev", ml_net_devs_parse(b, n, &t));
	em *e = c->e;
	em_begin(e, false);
	for (size_t i = 0; i < ml_net_devs_count(t); i++) {
		const ml_net_dev *d = ml_net_devs_get(t, i);
		K_OBJ(e, d->name);
		K_U64(e, "recv_bytes", d->rx_bytes);
		K_U64(e, "recv_packets", d->rx_packets);
		K_U64(e, "recv_errs", d->rx_errs);
		K_U64(e, "recv_drop", d->rx_drop);
		K_U64(e, "recv_fifo", d->rx_fifo);
		K_U64(e, "recv_frame", d->rx_frame);
		K_U64(e, "recv_compressed", d->rx_compressed);
		K_U64(e, "recv_multicast", d->rx_multicast);
		K_U64(e, "sent_bytes", d->tx_bytes);
		K_U64(e, "sent_packets", d->tx_packets);
		K_U64(e, "sent_errs", d->tx_errs);
		K_U64(e, "sent_drop", d->tx_drop);
		K_U64(e, "sent_fifo", d->tx_fifo);
		K_U64(e, "sent_colls", d->tx_colls);
		K_U64(e, "sent_carrier", d->tx_carrier);
		K_U64(e, "sent_compressed", d->tx_compressed);
		END_OBJ(e);
	}
	END_OBJ(e);
	ml_net_devs_free(t);
	return 0;
}

static int show_snmp_file(show_ctx *c, bool six)
{
	ml_net_snmp *s;
	READ_OR_PARSE(c, six ? ml_net_snmp6_read(c->p, &s) : ml_net_snmp_read(c->p, &s), six ? "net/snmp6" : "net/snmp", six ? ml_net_snmp6_parse(b, n, &s) : ml_net_snmp_parse(b, n, &s));
	em *e = c->e;
	em_begin(e, false);
	for (size_t i = 0; i < ml_net_snmp_count(s); i++) {
		const ml_snmp_proto *p = ml_net_snmp_get(s, i);
		K_OBJ(e, p->name);
		for (size_t k = 0; k < p->ncounters; k++) {
			K_I64(e, p->counters[k].name, p->counters[k].value);
			/* the enumerations procfs types, decoded alongside the number */
			const char *vn = ml_snmp_value_name(p->name, p->counters[k].name, p->counters[k].value);
			if (vn) {
				char key[96];
				snprintf(key, sizeof(key), "%s_name", p->counters[k].name);
				K_CSTR(e, key, vn);
			}
		}
		END_OBJ(e);
	}
	END_OBJ(e);
	ml_net_snmp_free(s);
	return 0;
}

int show_snmp(show_ctx *c) { return show_snmp_file(c, false); }
int show_snmp6(show_ctx *c) { return show_snmp_file(c, true); }
