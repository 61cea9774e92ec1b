/* A test child that holds known sockets (TCP/UDP on 127.0.0.1 and ::1, unix stream and
 * datagram, pathname and abstract) and reports their ports and inodes.
 * Options: --netns  unshare into a new network namespace first (needs CAP_SYS_ADMIN) and
 *                   bring its loopback up, so its tables hold only this child's sockets.
 * Commands (one per line; one answer line each):
 *   pid                 -> ok pid=N
 *   sockets DIR         opens every socket (raw ICMP ones only with CAP_NET_RAW);
 *                       pathname unix sockets are bound in DIR
 *                       -> ok key=value ... (ports, inodes, unix paths' basenames)
 *   mount BASE          enters a private mount namespace and mounts a tmpfs with source
 *                       "src with space" (size=1m,mode=0700) on BASE/"a b<TAB>c<NL>d\e",
 *                       which it creates (needs CAP_SYS_ADMIN) -> ok
 *   exit N              exits with status N (no answer) */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static char out[4096];
static size_t outlen;

static void put(const char *key, unsigned long long v)
{
	outlen += (size_t)snprintf(out + outlen, sizeof(out) - outlen, " %s=%llu", key, v);
}

static unsigned long long ino(int fd)
{
	struct stat sb;
	return fstat(fd, &sb) == 0 ? (unsigned long long)sb.st_ino : 0;
}

static int port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static int bind_lo(int type, int family)
{
	int fd = socket(family, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int r;
	if (family == AF_INET) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		r = bind(fd, (struct sockaddr *)&a, sizeof(a));
	} else {
		struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
		r = bind(fd, (struct sockaddr *)&a, sizeof(a));
	}
	if (r < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int connect_lo(int fd, int family, int port)
{
	if (family == AF_INET) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		return connect(fd, (struct sockaddr *)&a, sizeof(a));
	}
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
				  .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	return connect(fd, (struct sockaddr *)&a, sizeof(a));
}

static int unix_bound(int type, const char *path, size_t len)
{
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (fd < 0 || len > sizeof(a.sun_path))
		return -1;
	memcpy(a.sun_path, path, len);
	if (bind(fd, (struct sockaddr *)&a, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

#define CHECK(x, what) do { if ((x) < 0) { printf("err %s: %s\n", what, strerror(errno)); return; } } while (0)

static void open_sockets(const char *dir)
{
	outlen = 0;
	/* TCP over IPv4: a listener, a client connected to it and the accepted end */
	int l4 = bind_lo(SOCK_STREAM, AF_INET);
	CHECK(l4, "tcp4 bind");
	CHECK(listen(l4, 7), "listen");
	int c4 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(c4, "socket");
	CHECK(connect_lo(c4, AF_INET, port_of(l4)), "tcp4 connect");
	int a4 = accept4(l4, NULL, NULL, SOCK_CLOEXEC);
	CHECK(a4, "accept");
	/* a byte the server does not read yet: the accepted socket's rx queue is 1 */
	CHECK((int)write(c4, "x", 1), "write");
	put("tcp_listen_port", (unsigned)port_of(l4));
	put("tcp_listen_ino", ino(l4));
	put("tcp_client_port", (unsigned)port_of(c4));
	put("tcp_client_ino", ino(c4));
	put("tcp_accepted_ino", ino(a4));
	/* TCP over IPv6: a listener and an established pair */
	int l6 = bind_lo(SOCK_STREAM, AF_INET6);
	CHECK(l6, "tcp6 bind");
	CHECK(listen(l6, 3), "listen6");
	int c6 = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(c6, "socket6");
	CHECK(connect_lo(c6, AF_INET6, port_of(l6)), "tcp6 connect");
	int a6 = accept4(l6, NULL, NULL, SOCK_CLOEXEC);
	CHECK(a6, "accept6");
	put("tcp6_listen_port", (unsigned)port_of(l6));
	put("tcp6_listen_ino", ino(l6));
	put("tcp6_client_port", (unsigned)port_of(c6));
	put("tcp6_client_ino", ino(c6));
	/* UDP: a bound socket (state 07, close) and one connected to it (01, established) */
	int u4 = bind_lo(SOCK_DGRAM, AF_INET);
	CHECK(u4, "udp4 bind");
	int u4c = bind_lo(SOCK_DGRAM, AF_INET);
	CHECK(u4c, "udp4c bind");
	CHECK(connect_lo(u4c, AF_INET, port_of(u4)), "udp4 connect");
	put("udp_port", (unsigned)port_of(u4));
	put("udp_ino", ino(u4));
	put("udp_conn_port", (unsigned)port_of(u4c));
	put("udp_conn_ino", ino(u4c));
	int u6 = bind_lo(SOCK_DGRAM, AF_INET6);
	CHECK(u6, "udp6 bind");
	put("udp6_port", (unsigned)port_of(u6));
	put("udp6_ino", ino(u6));
	/* raw ICMP sockets need CAP_NET_RAW: reported as 0 where they cannot be made */
	int r4 = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	int r6 = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6);
	put("raw_ino", r4 >= 0 ? ino(r4) : 0);
	put("raw6_ino", r6 >= 0 ? ino(r6) : 0);
	/* unix: a listening stream socket with a space in its path, a datagram socket whose
	 * path holds a newline, an abstract datagram socket, and an unnamed pair */
	char path[108];
	int n = snprintf(path, sizeof(path), "%s/ml sock %d", dir, (int)getpid());
	CHECK(n < (int)sizeof(path) ? 0 : -1, "path too long");
	int us = unix_bound(SOCK_STREAM, path, (size_t)n + 1);
	CHECK(us, "unix stream bind");
	CHECK(listen(us, 5), "unix listen");
	put("unix_stream_ino", ino(us));
	n = snprintf(path, sizeof(path), "%s/ml\nnl %d", dir, (int)getpid());
	CHECK(n < (int)sizeof(path) ? 0 : -1, "path too long");
	int ud = unix_bound(SOCK_DGRAM, path, (size_t)n + 1);
	CHECK(ud, "unix dgram bind");
	put("unix_dgram_ino", ino(ud));
	char abs[64];
	n = snprintf(abs, sizeof(abs), "%cmemlens-abstract-%d", '\0', (int)getpid());
	int ua = unix_bound(SOCK_DGRAM, abs, (size_t)n);
	CHECK(ua, "unix abstract bind");
	put("unix_abstract_ino", ino(ua));
	int sp[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), "socketpair");
	put("unix_pair0_ino", ino(sp[0]));
	put("unix_pair1_ino", ino(sp[1]));
	printf("ok%s\n", out);
}

/* Brings "lo" up in a fresh network namespace (it starts down). */
static int lo_up(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	int r = ioctl(fd, SIOCGIFFLAGS, &ifr);
	if (r == 0) {
		ifr.ifr_flags |= IFF_UP;
		r = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return r;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "--netns")) {
		if (unshare(CLONE_NEWNET) < 0 || lo_up() < 0) {
			printf("ready err netns %s\n", strerror(errno));
			return 1;
		}
	}
	printf("ready pid=%d\n", (int)getpid());
	char line[4096];
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		char *save, *cmd = strtok_r(line, " ", &save);
		if (!cmd)
			continue;
		if (!strcmp(cmd, "pid")) {
			printf("ok pid=%d\n", (int)getpid());
		} else if (!strcmp(cmd, "sockets")) {
			char *dir = strtok_r(NULL, "", &save);
			open_sockets(dir ? dir : "/tmp");
		} else if (!strcmp(cmd, "mount")) {
			char *base = strtok_r(NULL, "", &save), dir[512];
			snprintf(dir, sizeof(dir), "%s/a b\tc\nd\\e", base ? base : "/tmp");
			if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
			    mkdir(dir, 0755) < 0 || mount("src with space", dir, "tmpfs", 0, "size=1m,mode=0700") < 0)
				printf("err mount %s\n", strerror(errno));
			else
				printf("ok\n");
		} else if (!strcmp(cmd, "exit")) {
			char *a = strtok_r(NULL, " ", &save);
			fflush(stdout);
			_exit(a ? atoi(a) : 0);
		} else {
			printf("err unknown command %s\n", cmd);
		}
	}
	return 0;
}
