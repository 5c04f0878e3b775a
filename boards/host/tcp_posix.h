/* POSIX TCP glue carrying sans-I/O TLS sessions (secd/tls.h).
 *
 * connect() on a non-blocking socket bounded by poll(); then the socket is
 * a tls_stream transport (firmware/tls_stream.h): the session's loops
 * (tls_stream_handshake/_write/_read/_read_exact, with deadlines) send with
 * send() and read with recv() as the session asks, waiting in poll().
 * Nothing is traced here: the caller gets a result code and traces it.
 * SIGPIPE is never raised (MSG_NOSIGNAL). */
#ifndef BOARDS_HOST_TCP_POSIX_H
#define BOARDS_HOST_TCP_POSIX_H
#include <stddef.h>
#include <stdint.h>

#include "secd/tls.h"
#include "tls_stream.h"
#include "tvs_client.h"

/* close_notify is flushed for at most this long before the socket closes. */
#define TCP_POSIX_CLOSE_FLUSH_MS 200u

/* What connecting gives (the TLS steps return enum tvs_net_result). */
enum tcp_posix_result {
    TCP_POSIX_OK = 0,
    TCP_POSIX_RESOLVE,     /* host name does not resolve */
    TCP_POSIX_REFUSED,     /* connection refused / unreachable */
    TCP_POSIX_TIMEOUT,     /* no answer before the deadline */
    TCP_POSIX_IO,          /* socket error */
};
const char *tcp_posix_result_str(enum tcp_posix_result r);

struct tcp_posix {
    struct tls_stream stream; /* first: pass the connection to tls_stream_* */
    int fd;
    int sys_errno;            /* of the last socket failure */
};

/* Connects to host:port (numeric address or name) within timeout_ms. Then
 * tls_stream_handshake(c, t, ms) and the other tls_stream_* calls run the
 * session over it (the status of a failed TLS step: c->stream.tls_status). */
enum tcp_posix_result tcp_posix_connect(struct tcp_posix *c, const char *host, uint16_t port,
                                        uint32_t timeout_ms);
/* Sends close_notify (best effort, TCP_POSIX_CLOSE_FLUSH_MS) when t is
 * given, and closes the socket. */
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
