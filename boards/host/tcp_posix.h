/* POSIX TCP glue driving a sans-I/O TLS session (secd/tls.h).
 *
 * Blocking with timeouts: connect() on a non-blocking socket bounded by
 * poll(), then every TLS step is pumped (output flushed with send(),
 * input read with recv() as the session asks for it) until it completes or
 * its deadline passes. Nothing is traced here: the caller gets a result
 * code and traces it. SIGPIPE is never raised (MSG_NOSIGNAL). */
#ifndef BOARDS_HOST_TCP_POSIX_H
#define BOARDS_HOST_TCP_POSIX_H
#include <stddef.h>
#include <stdint.h>

#include "secd/tls.h"
#include "tvs_client.h"

enum tcp_posix_result {
    TCP_POSIX_OK = 0,
    TCP_POSIX_RESOLVE,     /* host name does not resolve */
    TCP_POSIX_REFUSED,     /* connection refused / unreachable */
    TCP_POSIX_TIMEOUT,     /* connect or a TLS step passed its deadline */
    TCP_POSIX_IO,          /* socket error, reset */
    TCP_POSIX_TLS,         /* the TLS session failed: see tcp_posix.tls_status */
    TCP_POSIX_CLOSED,      /* orderly end of the TLS stream (close_notify) */
};
const char *tcp_posix_result_str(enum tcp_posix_result r);

struct tcp_posix {
    int fd;
    int sys_errno;                     /* of the last socket failure */
    enum secd_tls_status tls_status;   /* of the last TLS step */
};

/* Connects to host:port (numeric address or name) within timeout_ms. */
enum tcp_posix_result tcp_posix_connect(struct tcp_posix *c, const char *host, uint16_t port,
                                        uint32_t timeout_ms);
/* Runs the TLS handshake over the connection. */
enum tcp_posix_result tcp_posix_handshake(struct tcp_posix *c, struct secd_tls *t,
                                          uint32_t timeout_ms);
/* Writes all n bytes through TLS (and flushes them to the socket). */
enum tcp_posix_result tcp_posix_write(struct tcp_posix *c, struct secd_tls *t, const uint8_t *p,
                                      size_t n, uint32_t timeout_ms);
/* Reads at least one byte (at most cap) through TLS. */
enum tcp_posix_result tcp_posix_read(struct tcp_posix *c, struct secd_tls *t, uint8_t *buf,
                                     size_t cap, size_t *got, uint32_t timeout_ms);
/* Reads exactly n bytes. */
enum tcp_posix_result tcp_posix_read_exact(struct tcp_posix *c, struct secd_tls *t, uint8_t *buf,
                                           size_t n, uint32_t timeout_ms);
/* Sends close_notify (best effort, short deadline) and closes the socket. */
void tcp_posix_close(struct tcp_posix *c, struct secd_tls *t);

/* The firmware's network interface (struct tvs_net, firmware/tvs_client.h)
 * over these functions: up to TCP_POSIX_NET_CONNS connections at once. */
#define TCP_POSIX_NET_CONNS 2
struct tcp_posix_net_conn {
    struct tcp_posix tcp;
    int *used;
};
struct tcp_posix_net {
    struct tcp_posix_net_conn conn[TCP_POSIX_NET_CONNS];
    int used[TCP_POSIX_NET_CONNS];
    struct tvs_net net;
};
const struct tvs_net *tcp_posix_net_init(struct tcp_posix_net *n);

#endif
