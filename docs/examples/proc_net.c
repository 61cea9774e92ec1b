/* Example: the calling process's memory cgroup, namespaces and listening TCP sockets. Build:
 *     cc proc_net.c $(pkg-config --cflags --libs memlens) -o proc_net */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <stdio.h>
#include <sys/socket.h>

#include <memlens/memlens.h>

static void show_value(const char *what, ml_cgroup_value v)
{
	if (v.err)
		printf("  %-14s (%s)\n", what, ml_strerror(v.err));
	else if (v.value == ML_CGROUP_UNLIMITED)
		printf("  %-14s unlimited\n", what);
	else
		printf("  %-14s %llu\n", what, (unsigned long long)v.value);
}

int main(void)
{
	ml_proc *p;
	int r = ml_proc_self(&p);
	if (r < 0) {
		fprintf(stderr, "proc_net: %s\n", ml_strerror(r));
		return 2;
	}

	ml_cgroup_memory *mem;
	r = ml_cgroup_memory_read(p, NULL, &mem);
	if (r == 0) {
		printf("memory cgroup (v%d) %s\n", mem->version, mem->path);
		show_value("limit", mem->max);
		show_value("usage", mem->current);
		show_value("binding limit", mem->effective_max);
		show_value("oom kills", mem->events_oom_kill);
		ml_cgroup_memory_free(mem);
	} else {
		printf("memory cgroup: %s\n", ml_strerror(r));
	}

	ml_namespaces *ns;
	if (ml_namespaces_read(p, &ns) == 0) {
		for (size_t i = 0; i < ml_namespaces_count(ns); i++) {
			const ml_ns *e = ml_namespaces_get(ns, i);
			if (e->err == 0)
				printf("ns %-18s %llu\n", e->name, (unsigned long long)e->inode);
		}
		ml_namespaces_free(ns);
	}

	static const ml_net_table tables[] = { ML_NET_TCP, ML_NET_TCP6 };
	for (size_t t = 0; t < 2; t++) {
		ml_net_socks *s;
		if (ml_net_socks_read(p, tables[t], &s) < 0)
			continue; /* e.g. no IPv6 */
		for (size_t i = 0; i < ml_net_socks_count(s); i++) {
			const ml_net_sock *k = ml_net_socks_get(s, i);
			char addr[INET6_ADDRSTRLEN];
			if (k->state != ML_TCP_LISTEN)
				continue;
			inet_ntop(k->family, k->local_addr, addr, sizeof(addr));
			printf("%s listen %s port %u inode %llu\n", ml_net_table_name(tables[t]), addr,
			       (unsigned)k->local_port, (unsigned long long)k->inode);
		}
		ml_net_socks_free(s);
	}
	ml_proc_free(p);
	return 0;
}
