/* POSIX TCP glue for secd/tls sessions (see tcp_posix.h). */
#define _POSIX_C_SOURCE 200809L
#include "tcp_posix.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hal/hal_clock.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

const char *tcp_posix_result_str(enum tcp_posix_result r)
{
    switch (r) {
    case TCP_POSIX_OK: return "ok";
    case TCP_POSIX_RESOLVE: return "host name does not resolve";
    case TCP_POSIX_REFUSED: return "connection refused";
    case TCP_POSIX_TIMEOUT: return "timed out";
    case TCP_POSIX_IO: return "socket error";
    }
    return "?";
}

static uint32_t now_ms(void)
{
    return hal_monotonic_ms();
}

/* Milliseconds left before the deadline (0 when passed). */
static int remaining(uint32_t deadline)
{
    int32_t left = (int32_t)(deadline - now_ms());
    return left > 0 ? left : 0;
}

/* Waits for `events` on the socket until the deadline. 1 ready, 0 timeout,
 * -1 error. */
static int wait_for(struct tcp_posix *c, short events, uint32_t deadline)
{
    for (;;) {
        struct pollfd p = {.fd = c->fd, .events = events};
        int left = remaining(deadline);
        int rc = poll(&p, 1, left);
        if (rc > 0)
            return 1;
        if (rc == 0)
            return 0;
        if (errno != EINTR) {
            c->sys_errno = errno;
            return -1;
        }
    }
}

/* --- struct tls_stream_io: moving TLS bytes ---------------------------- */

static struct tcp_posix *tcp_of(struct tls_stream *s)
{
    return (struct tcp_posix *)s; /* its first member */
}

static int stream_send_some(struct tls_stream *s, const uint8_t *p, size_t n)
{
    struct tcp_posix *c = tcp_of(s);
    ssize_t sent = send(c->fd, p, n, MSG_NOSIGNAL);
    if (sent >= 0)
        return (int)sent; /* n <= SECD_TLS_IO_BUF */
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return 0;
    c->sys_errno = errno;
    return -1;
}

/* Reads what is there (through a bounce buffer: recv() cannot write into
 * the session) and feeds it, or the end of the stream. */
static int stream_feed(struct tls_stream *s, struct secd_tls *t)
{
    struct tcp_posix *c = tcp_of(s);
    uint8_t buf[SECD_TLS_IO_BUF];
    size_t room = secd_tls_input_room(t);
    ssize_t got = recv(c->fd, buf, room < sizeof buf ? room : sizeof buf, 0);
    if (got > 0) {
        secd_tls_feed(t, buf, (size_t)got);
        return 1;
    }
    if (got == 0) {
        secd_tls_feed_eof(t, 0);
        return 1;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return 0;
    c->sys_errno = errno;
    secd_tls_feed_eof(t, 1);
    return 1;
}

static enum tvs_net_result stream_wait(struct tls_stream *s, enum tls_stream_wait what,
                                       uint32_t deadline)
{
    int w = wait_for(tcp_of(s), what == TLS_STREAM_WAIT_SEND ? POLLOUT : POLLIN, deadline);
    return w > 0 ? TVS_NET_OK : w == 0 ? TVS_NET_TIMEOUT : TVS_NET_RESET;
}

static const struct tls_stream_io posix_io = {stream_send_some, stream_feed, stream_wait};

/* --- connecting --------------------------------------------------------- */

static enum tcp_posix_result connect_addr(struct tcp_posix *c, const struct addrinfo *ai,
                                          uint32_t deadline)
{
    c->fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (c->fd < 0) {
        c->sys_errno = errno;
        return TCP_POSIX_IO;
    }
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0)
        return TCP_POSIX_OK;
    if (errno != EINPROGRESS) {
        c->sys_errno = errno;
        return TCP_POSIX_REFUSED;
    }
    int w = wait_for(c, POLLOUT, deadline);
    if (w <= 0)
        return w == 0 ? TCP_POSIX_TIMEOUT : TCP_POSIX_IO;
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
        c->sys_errno = err;
        return TCP_POSIX_REFUSED;
    }
    return TCP_POSIX_OK;
}

enum tcp_posix_result tcp_posix_connect(struct tcp_posix *c, const char *host, uint16_t port,
                                        uint32_t timeout_ms)
{
    memset(c, 0, sizeof *c);
    c->stream.io = &posix_io;
    c->fd = -1;
    uint32_t deadline = now_ms() + timeout_ms;
    char service[8];
    snprintf(service, sizeof service, "%u", (unsigned)port);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET; /* the phone runs IPv4 only (seed: "IPv4 only mode") */
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, service, &hints, &res) != 0 || !res)
        return TCP_POSIX_RESOLVE;
    enum tcp_posix_result r = connect_addr(c, res, deadline);
    freeaddrinfo(res);
    if (r != TCP_POSIX_OK && c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    return r;
}

void tcp_posix_close(struct tcp_posix *c, struct secd_tls *t)
{
    if (c->fd < 0)
        return;
    if (t)
        tls_stream_close_notify(c, t, TCP_POSIX_CLOSE_FLUSH_MS);
    close(c->fd);
    c->fd = -1;
}

/* --- struct tvs_net ----------------------------------------------------- */

static enum tvs_net_result net_result(enum tcp_posix_result r)
{
    switch (r) {
    case TCP_POSIX_OK: return TVS_NET_OK;
    case TCP_POSIX_RESOLVE:
    case TCP_POSIX_REFUSED: return TVS_NET_UNREACHABLE;
    case TCP_POSIX_TIMEOUT: return TVS_NET_TIMEOUT;
    case TCP_POSIX_IO: return TVS_NET_RESET;
    }
    return TVS_NET_RESET;
}

static void *net_connect(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms,
                         enum tvs_net_result *r)
{
    struct tcp_posix_net *n = ctx;
    for (size_t i = 0; i < TCP_POSIX_NET_CONNS; i++) {
        if (n->used[i])
            continue;
        *r = net_result(tcp_posix_connect(&n->conn[i].tcp, host, port, timeout_ms));
        if (*r != TVS_NET_OK)
            return NULL;
        n->used[i] = 1;
        n->conn[i].used = &n->used[i];
        return &n->conn[i];
    }
    *r = TVS_NET_UNREACHABLE; /* no free connection */
    return NULL;
}

static void net_close(void *conn, struct secd_tls *t)
{
    struct tcp_posix_net_conn *c = conn;
    tcp_posix_close(&c->tcp, t);
    *c->used = 0;
}

const struct tvs_net *tcp_posix_net_init(struct tcp_posix_net *n)
{
    memset(n, 0, sizeof *n);
    for (size_t i = 0; i < TCP_POSIX_NET_CONNS; i++)
        n->conn[i].tcp.fd = -1;
    /* A connection (struct tcp_posix_net_conn) starts with its struct
     * tcp_posix, which starts with its struct tls_stream. */
    n->net = (struct tvs_net){n, net_connect, tls_stream_handshake, tls_stream_write,
                              tls_stream_read, net_close, NULL /* the kernel runs TCP/IP */};
    return &n->net;
}
