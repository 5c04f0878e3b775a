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
    case TCP_POSIX_IO: return "connection reset";
    case TCP_POSIX_TLS: return "TLS failure";
    case TCP_POSIX_CLOSED: return "connection closed";
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

/* Sends everything the session has queued. */
static enum tcp_posix_result flush_output(struct tcp_posix *c, struct secd_tls *t,
                                          uint32_t deadline)
{
    const uint8_t *p;
    size_t n;
    while ((n = secd_tls_output(t, &p)) > 0) {
        ssize_t sent = send(c->fd, p, n, MSG_NOSIGNAL);
        if (sent > 0) {
            secd_tls_output_done(t, (size_t)sent);
            continue;
        }
        if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            c->sys_errno = errno;
            secd_tls_feed_eof(t, 1);
            return TCP_POSIX_IO;
        }
        int w = wait_for(c, POLLOUT, deadline);
        if (w <= 0)
            return w == 0 ? TCP_POSIX_TIMEOUT : TCP_POSIX_IO;
    }
    return TCP_POSIX_OK;
}

/* Waits for bytes and feeds them to the session (or the end of stream). */
static enum tcp_posix_result fill_input(struct tcp_posix *c, struct secd_tls *t,
                                        uint32_t deadline)
{
    uint8_t buf[SECD_TLS_IO_BUF];
    for (;;) {
        size_t room = secd_tls_input_room(t);
        ssize_t got = recv(c->fd, buf, room < sizeof buf ? room : sizeof buf, 0);
        if (got > 0) {
            secd_tls_feed(t, buf, (size_t)got);
            return TCP_POSIX_OK;
        }
        if (got == 0) {
            secd_tls_feed_eof(t, 0);
            return TCP_POSIX_OK; /* the session reports what the end means */
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            c->sys_errno = errno;
            secd_tls_feed_eof(t, 1);
            return TCP_POSIX_OK;
        }
        int w = wait_for(c, POLLIN, deadline);
        if (w <= 0)
            return w == 0 ? TCP_POSIX_TIMEOUT : TCP_POSIX_IO;
    }
}

/* After a step: flush, and read when the session waits for input. */
static enum tcp_posix_result pump(struct tcp_posix *c, struct secd_tls *t, uint32_t deadline)
{
    enum tcp_posix_result r = flush_output(c, t, deadline);
    if (r != TCP_POSIX_OK)
        return r;
    if (secd_tls_wants_input(t))
        return fill_input(c, t, deadline);
    return TCP_POSIX_OK;
}

static enum tcp_posix_result tls_result(struct tcp_posix *c, enum secd_tls_status st)
{
    c->tls_status = st;
    if (st == SECD_TLS_OK)
        return TCP_POSIX_OK;
    if (st == SECD_TLS_CLOSED)
        return TCP_POSIX_CLOSED;
    if (st == SECD_TLS_ERR_IO)
        return TCP_POSIX_IO;
    return TCP_POSIX_TLS;
}

enum tcp_posix_result tcp_posix_handshake(struct tcp_posix *c, struct secd_tls *t,
                                          uint32_t timeout_ms)
{
    uint32_t deadline = now_ms() + timeout_ms;
    enum secd_tls_status st;
    while ((st = secd_tls_handshake(t)) == SECD_TLS_WANT_IO) {
        enum tcp_posix_result r = pump(c, t, deadline);
        if (r != TCP_POSIX_OK)
            return r;
    }
    /* Send what the last step queued (Finished, or an alert). */
    enum tcp_posix_result r = flush_output(c, t, deadline);
    if (st != SECD_TLS_OK)
        return tls_result(c, st);
    return r;
}

enum tcp_posix_result tcp_posix_write(struct tcp_posix *c, struct secd_tls *t, const uint8_t *p,
                                      size_t n, uint32_t timeout_ms)
{
    uint32_t deadline = now_ms() + timeout_ms;
    while (n > 0) {
        size_t done = 0;
        enum secd_tls_status st = secd_tls_write(t, p, n, &done);
        if (st != SECD_TLS_OK && st != SECD_TLS_WANT_IO)
            return tls_result(c, st);
        p += done;
        n -= done;
        enum tcp_posix_result r = st == SECD_TLS_WANT_IO ? pump(c, t, deadline)
                                                         : flush_output(c, t, deadline);
        if (r != TCP_POSIX_OK)
            return r;
    }
    return TCP_POSIX_OK;
}

enum tcp_posix_result tcp_posix_read(struct tcp_posix *c, struct secd_tls *t, uint8_t *buf,
                                     size_t cap, size_t *got, uint32_t timeout_ms)
{
    uint32_t deadline = now_ms() + timeout_ms;
    *got = 0;
    for (;;) {
        enum secd_tls_status st = secd_tls_read(t, buf, cap, got);
        if (st == SECD_TLS_OK && *got > 0)
            return flush_output(c, t, deadline);
        if (st != SECD_TLS_WANT_IO && st != SECD_TLS_OK)
            return tls_result(c, st);
        enum tcp_posix_result r = pump(c, t, deadline);
        if (r != TCP_POSIX_OK)
            return r;
    }
}

enum tcp_posix_result tcp_posix_read_exact(struct tcp_posix *c, struct secd_tls *t, uint8_t *buf,
                                           size_t n, uint32_t timeout_ms)
{
    uint32_t deadline = now_ms() + timeout_ms;
    while (n > 0) {
        size_t got = 0;
        int left = remaining(deadline);
        if (left == 0)
            return TCP_POSIX_TIMEOUT;
        enum tcp_posix_result r = tcp_posix_read(c, t, buf, n, &got, (uint32_t)left);
        if (r != TCP_POSIX_OK)
            return r;
        buf += got;
        n -= got;
    }
    return TCP_POSIX_OK;
}

void tcp_posix_close(struct tcp_posix *c, struct secd_tls *t)
{
    if (c->fd < 0)
        return;
    if (t) {
        secd_tls_close(t);
        flush_output(c, t, now_ms() + 200);
    }
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
    case TCP_POSIX_TLS: return TVS_NET_TLS;
    case TCP_POSIX_CLOSED: return TVS_NET_CLOSED;
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

static struct tcp_posix *tcp_of(void *conn)
{
    return &((struct tcp_posix_net_conn *)conn)->tcp;
}

static enum tvs_net_result net_handshake(void *conn, struct secd_tls *t, uint32_t timeout_ms)
{
    return net_result(tcp_posix_handshake(tcp_of(conn), t, timeout_ms));
}

static enum tvs_net_result net_write(void *conn, struct secd_tls *t, const uint8_t *p, size_t n,
                                     uint32_t timeout_ms)
{
    return net_result(tcp_posix_write(tcp_of(conn), t, p, n, timeout_ms));
}

static enum tvs_net_result net_read(void *conn, struct secd_tls *t, uint8_t *p, size_t cap,
                                    size_t *got, uint32_t timeout_ms)
{
    return net_result(tcp_posix_read(tcp_of(conn), t, p, cap, got, timeout_ms));
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
    n->net = (struct tvs_net){n, net_connect, net_handshake, net_write, net_read, net_close,
                              NULL /* the kernel runs TCP/IP */};
    return &n->net;
}
