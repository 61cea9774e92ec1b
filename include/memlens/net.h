/* net: the network tables of a process's network namespace (/proc/PID/net/...). */
#ifndef MEMLENS_NET_H
#define MEMLENS_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <memlens/common.h>
#include <memlens/proc.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Every reader opens its file relative to the process handle (/proc/PID/net/...), so it
 * shows the network namespace of that process (of its main thread), not the caller's.
 * All readers return 0 or: -ESRCH process gone; -EACCES/-EPERM denied; -ENOENT the
 * kernel has no such table (e.g. tcp6 with IPv6 disabled); -EBADMSG malformed text;
 * -ENOMEM; -EINVAL misuse. Every parser takes a buffer of @len bytes (need not be
 * NUL-terminated) and fails with -EBADMSG on a line it cannot read entirely, so a
 * torn or foreign file is never half-read silently. Records are borrowed from their table.
 */

/** Which socket table to read with ml_net_socks_read(). */
typedef enum ml_net_table {
	ML_NET_TCP = 0,   /**< net/tcp */
	ML_NET_TCP6,      /**< net/tcp6 */
	ML_NET_UDP,       /**< net/udp */
	ML_NET_UDP6,      /**< net/udp6 */
	ML_NET_RAW,       /**< net/raw */
	ML_NET_RAW6,      /**< net/raw6 */
	ML_NET_TABLE_COUNT
} ml_net_table;

/** The kernel's TCP states (include/net/tcp_states.h); UDP sockets show 1 when connected, 7 when not. */
enum {
	ML_TCP_ESTABLISHED = 1, ML_TCP_SYN_SENT, ML_TCP_SYN_RECV, ML_TCP_FIN_WAIT1, ML_TCP_FIN_WAIT2,
	ML_TCP_TIME_WAIT, ML_TCP_CLOSE, ML_TCP_CLOSE_WAIT, ML_TCP_LAST_ACK, ML_TCP_LISTEN,
	ML_TCP_CLOSING, ML_TCP_NEW_SYN_RECV, ML_TCP_BOUND_INACTIVE,
};

/**
 * One line of tcp, tcp6, udp, udp6, raw or raw6. Addresses are kept as the bytes of the
 * address in network order (the kernel prints each 32-bit word of the address as a host-
 * order number; the parser stores that word back in host order, which gives the original
 * bytes on the machine that produced the text).
 */
typedef struct ml_net_sock {
	uint32_t slot;              /**< "sl": hash bucket / line number */
	int family;                 /**< AF_INET (4-byte addresses) or AF_INET6 (16-byte) */
	uint8_t local_addr[16];     /**< network byte order; AF_INET uses the first 4 bytes */
	uint16_t local_port;        /**< host order (raw: the protocol number) */
	uint8_t remote_addr[16];
	uint16_t remote_port;
	uint8_t state;              /**< ML_TCP_* */
	uint32_t tx_queue;          /**< bytes (TCP: unacknowledged; listener: 0) */
	uint32_t rx_queue;          /**< bytes (TCP: unread; listener: accept backlog length) */
	uint8_t timer;              /**< "tr": 0 none, 1 retransmit, 2 keepalive, 3 TIME_WAIT, 4 zero-window probe */
	uint64_t timer_expires;     /**< "tm->when": clock ticks (USER_HZ) until the timer fires */
	uint64_t retransmits;       /**< "retrnsmt" */
	uint32_t uid;               /**< owner, in the reading process's user namespace */
	uint64_t timeout;           /**< "timeout": unanswered probes (TCP), 0 otherwise */
	uint64_t inode;             /**< socket inode: matches "socket:[N]" fd links; 0 for TIME_WAIT/SYN_RECV */
	uint32_t refcount;          /**< 0 when the line has no such column */
	uint64_t kaddr;             /**< kernel address of the socket as printed (hashed, or 0 when hidden) */
	bool has_tcp_info;          /**< a full TCP socket: the five fields below are valid */
	uint64_t rto;               /**< retransmission timeout, clock ticks */
	uint64_t ato;               /**< delayed-ACK timeout, clock ticks */
	uint32_t quick_ack;         /**< (quick ACK count << 1) | ping-pong mode */
	uint32_t cwnd;              /**< congestion window, segments */
	int64_t ssthresh;           /**< slow-start threshold (-1 in initial slow start); for a
	                                 listener the TCP Fast Open queue limit */
	bool has_drops;             /**< UDP and raw: @drops is valid */
	uint64_t drops;             /**< datagrams dropped */
} ml_net_sock;

typedef struct ml_net_socks ml_net_socks;

/** Reads one socket table of @p's network namespace. @return as described at the top. */
ML_API int ml_net_socks_read(const ml_proc *p, ml_net_table which, ml_net_socks **ret);
/** Parses tcp/tcp6/udp/udp6/raw/raw6 text; the family of each line follows from its address width. */
ML_API int ml_net_socks_parse(const char *buf, size_t len, ml_net_socks **ret);
ML_API size_t ml_net_socks_count(const ml_net_socks *t);
ML_API const ml_net_sock *ml_net_socks_get(const ml_net_socks *t, size_t i);
/** The socket with @inode (inode 0 never matches), or NULL. */
ML_API const ml_net_sock *ml_net_socks_find_inode(const ml_net_socks *t, uint64_t inode);
ML_API void ml_net_socks_free(ml_net_socks *t);
/** "ESTABLISHED", "LISTEN", ... or "UNKNOWN". */
ML_API const char *ml_tcp_state_name(unsigned state);
/** The file name of a table ("tcp6") relative to net/, or NULL. */
ML_API const char *ml_net_table_name(ml_net_table which);

/** Unix socket flag: the socket listens (__SO_ACCEPTCON). */
#define ML_UNIX_ACCEPTCON 0x10000u

/** One line of net/unix. */
typedef struct ml_net_unix {
	uint64_t kaddr;             /**< "Num": kernel address as printed (hashed, or 0 when hidden) */
	uint32_t refcount;
	uint32_t protocol;          /**< always 0 */
	uint32_t flags;             /**< ML_UNIX_ACCEPTCON for a listener */
	uint16_t type;              /**< SOCK_STREAM 1, SOCK_DGRAM 2, SOCK_SEQPACKET 5 */
	uint8_t state;              /**< SS_UNCONNECTED 1, SS_CONNECTING 2, SS_CONNECTED 3, SS_DISCONNECTING 4 */
	uint64_t inode;
	/**
	 * The bound address as the kernel printed it, exact bytes, NUL-terminated (NULL and 0
	 * for an unbound socket). Abstract names start with '@', and every NUL byte inside
	 * one is also printed as '@' (so those are not recoverable). Paths are printed raw:
	 * a path holding '\n' continues on the next line, which the parser joins back; a
	 * path whose continuation itself looks like a record cannot be told apart.
	 */
	const char *path;
	size_t path_len;
	bool abstract;              /**< abstract namespace (path starts with '@') */
} ml_net_unix;

typedef struct ml_net_unixes ml_net_unixes;

ML_API int ml_net_unixes_read(const ml_proc *p, ml_net_unixes **ret);
ML_API int ml_net_unixes_parse(const char *buf, size_t len, ml_net_unixes **ret);
ML_API size_t ml_net_unixes_count(const ml_net_unixes *t);
ML_API const ml_net_unix *ml_net_unixes_get(const ml_net_unixes *t, size_t i);
ML_API const ml_net_unix *ml_net_unixes_find_inode(const ml_net_unixes *t, uint64_t inode);
ML_API void ml_net_unixes_free(ml_net_unixes *t);

/** One line of net/arp (the IPv4 neighbour table). */
typedef struct ml_net_arp {
	uint8_t addr[4];            /**< IPv4 address, network order */
	uint32_t hw_type;           /**< ARPHRD_* (1 Ethernet) */
	uint32_t flags;             /**< ATF_*: 0x2 complete, 0x4 permanent, 0x8 published */
	uint8_t hw_addr[32];        /**< link-layer address */
	size_t hw_addr_len;
	const char *mask;           /**< as printed ("*") */
	const char *device;         /**< interface name */
} ml_net_arp;

typedef struct ml_net_arps ml_net_arps;

ML_API int ml_net_arps_read(const ml_proc *p, ml_net_arps **ret);
ML_API int ml_net_arps_parse(const char *buf, size_t len, ml_net_arps **ret);
ML_API size_t ml_net_arps_count(const ml_net_arps *t);
ML_API const ml_net_arp *ml_net_arps_get(const ml_net_arps *t, size_t i);
ML_API void ml_net_arps_free(ml_net_arps *t);

/** One line of net/route (the IPv4 main routing table). */
typedef struct ml_net_route {
	const char *iface;
	uint8_t destination[4];     /**< network order */
	uint8_t gateway[4];
	uint8_t mask[4];
	uint32_t flags;             /**< RTF_*: 0x1 up, 0x2 gateway, 0x4 host, ... */
	int32_t refcnt;
	uint32_t use;
	int32_t metric;
	uint32_t mtu, window, irtt;
} ml_net_route;

typedef struct ml_net_routes ml_net_routes;

ML_API int ml_net_routes_read(const ml_proc *p, ml_net_routes **ret);
ML_API int ml_net_routes_parse(const char *buf, size_t len, ml_net_routes **ret);
ML_API size_t ml_net_routes_count(const ml_net_routes *t);
ML_API const ml_net_route *ml_net_routes_get(const ml_net_routes *t, size_t i);
ML_API void ml_net_routes_free(ml_net_routes *t);

/** One interface of net/dev (procfs' dev_status). Counters since the interface appeared. */
typedef struct ml_net_dev {
	const char *name;
	uint64_t rx_bytes, rx_packets, rx_errs, rx_drop, rx_fifo, rx_frame, rx_compressed, rx_multicast;
	uint64_t tx_bytes, tx_packets, tx_errs, tx_drop, tx_fifo, tx_colls, tx_carrier, tx_compressed;
} ml_net_dev;

typedef struct ml_net_devs ml_net_devs;

ML_API int ml_net_devs_read(const ml_proc *p, ml_net_devs **ret);
/** Parses net/dev text: two header lines, then "NAME: 16 numbers" per interface. */
ML_API int ml_net_devs_parse(const char *buf, size_t len, ml_net_devs **ret);
ML_API size_t ml_net_devs_count(const ml_net_devs *t);
ML_API const ml_net_dev *ml_net_devs_get(const ml_net_devs *t, size_t i);
ML_API const ml_net_dev *ml_net_devs_find(const ml_net_devs *t, const char *name);
ML_API void ml_net_devs_free(ml_net_devs *t);

/** One SNMP counter. */
typedef struct ml_snmp_counter {
	const char *name;           /**< "InSegs", "CurrEstab", ... (for snmp6: without the protocol prefix) */
	int64_t value;              /**< can be negative (Tcp MaxConn is -1) */
} ml_snmp_counter;

/** The counters of one protocol ("Ip", "Tcp", "Udp", "Ip6", "Icmp6", "TcpExt", "TCP", ...). */
typedef struct ml_snmp_proto {
	const char *name;
	const ml_snmp_counter *counters;
	size_t ncounters;
} ml_snmp_proto;

typedef struct ml_net_snmp ml_net_snmp;

/** Reads net/snmp (IPv4 and TCP/UDP: "Proto: names" / "Proto: values" line pairs). */
ML_API int ml_net_snmp_read(const ml_proc *p, ml_net_snmp **ret);
/** Reads net/snmp6 ("Ip6InReceives  4" lines), grouped by the prefix before the name
 *  (everything up to and including the first '6': "Ip6", "Icmp6", "Udp6", "UdpLite6"). */
ML_API int ml_net_snmp6_read(const ml_proc *p, ml_net_snmp **ret);
/** Parses net/snmp text. The names and values lines of a pair must have the same count. */
ML_API int ml_net_snmp_parse(const char *buf, size_t len, ml_net_snmp **ret);
/** Parses net/snmp6 text. */
ML_API int ml_net_snmp6_parse(const char *buf, size_t len, ml_net_snmp **ret);
ML_API size_t ml_net_snmp_count(const ml_net_snmp *s);
ML_API const ml_snmp_proto *ml_net_snmp_get(const ml_net_snmp *s, size_t i);
/** Reads net/netstat (the TcpExt and IpExt counters, same layout as net/snmp). */
ML_API int ml_net_netstat_read(const ml_proc *p, ml_net_snmp **ret);
/**
 * Reads net/sockstat: socket counts per protocol ("TCP" inuse/orphan/tw/alloc/mem, "UDP",
 * "RAW", "FRAG", and "sockets" used). "mem" counts pages (the protocol's memory
 * accounting), "FRAG memory" bytes. "sockets used", "inuse" and "tw" count the network
 * namespace's sockets; "orphan", "alloc" and "mem" are system-wide.
 */
ML_API int ml_net_sockstat_read(const ml_proc *p, ml_net_snmp **ret);
/** Reads net/sockstat6 ("TCP6: inuse N", ...). */
ML_API int ml_net_sockstat6_read(const ml_proc *p, ml_net_snmp **ret);
/** Parses sockstat text: "PROTO: name value name value ..." per line. */
ML_API int ml_net_sockstat_parse(const char *buf, size_t len, ml_net_snmp **ret);
/**
 * Looks up counter @name of protocol @proto ("Tcp", "CurrEstab").
 * @return 0 and *ret; -ENOENT no such counter; -EINVAL.
 */
ML_API int ml_net_snmp_find(const ml_net_snmp *s, const char *proto, const char *name, int64_t *ret);
ML_API void ml_net_snmp_free(ml_net_snmp *s);

/** Values of "Ip Forwarding" (RFC 1213 ipForwarding; procfs's IpForwarding). */
#define ML_SNMP_IP_FORWARDING 1
#define ML_SNMP_IP_NOT_FORWARDING 2
/** Values of "Tcp RtoAlgorithm" (RFC 1213 tcpRtoAlgorithm; procfs's TcpRtoAlgorithm). */
#define ML_SNMP_RTO_OTHER 1
#define ML_SNMP_RTO_CONSTANT 2
#define ML_SNMP_RTO_RSRE 3
#define ML_SNMP_RTO_VANJ 4

/**
 * Names the enumerated value @value of counter @name of protocol @proto, for the snmp
 * counters that are enumerations rather than counts: Ip Forwarding ("forwarding",
 * "not-forwarding"), Tcp RtoAlgorithm ("other", "constant", "rsre", "vanj"; Linux always
 * says 1) and Tcp MaxConn (-1: "dynamic"). NULL for any other counter or value.
 */
ML_API const char *ml_snmp_value_name(const char *proto, const char *name, int64_t value);

#ifdef __cplusplus
}
#endif
#endif
