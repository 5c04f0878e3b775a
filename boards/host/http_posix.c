/* POSIX TCP glue for httpc: non-blocking connect, send, recv, poll. */
#define _GNU_SOURCE
#include "http_posix.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint32_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

int http_posix_open(struct http_posix *s, const char *host, uint16_t port,
                    const struct httpc_config *cfg)
{
    size_t n = strlen(host);
    memset(&s->addr, 0, sizeof(s->addr));
    if (port == 0 || n >= sizeof(s->host))
        return -1;
    s->addr.sin_family = AF_INET;
    s->addr.sin_port = htons(port);
    if (inet_pton(AF_INET, host, &s->addr.sin_addr) != 1)
        return -1;
    memcpy(s->host, host, n + 1);
    s->port = port;
    s->fd = -1;
    s->on_request = NULL;
    s->ctx = NULL;
    httpc_init(&s->c, cfg);
    return 0;
}

static void close_fd(struct http_posix *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

void http_posix_close(struct http_posix *s)
{
    close_fd(s);
}

/* One download's state besides httpc's. */
struct fetch {
    const char *file;
    uint8_t *buf;
    size_t cap;
    size_t len;
    int connecting;              /* waiting for a non-blocking connect */
    int sys_errno;
};

static void connect_failed(struct http_posix *s, struct fetch *f, int err)
{
    f->sys_errno = err;
    f->connecting = 0;
    httpc_on_connect_failed(&s->c, now_ms());
}

static void start_connect(struct http_posix *s, struct fetch *f)
{
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0) {
        connect_failed(s, f, errno);
        return;
    }
    if (connect(s->fd, (const struct sockaddr *)&s->addr, sizeof(s->addr)) == 0)
        httpc_on_connected(&s->c, now_ms());
    else if (errno == EINPROGRESS)
        f->connecting = 1; /* completion is seen as POLLOUT */
    else
        connect_failed(s, f, errno);
}

/* The request is small and goes into an empty send buffer, so it is
 * normally written at once; a full buffer is waited for within httpc's
 * deadline. A failure looks like a reset to httpc. */
static void send_request(struct http_posix *s, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(s->fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            struct pollfd pfd = {s->fd, POLLOUT, 0};
            int32_t wait = httpc_wait_ms(&s->c, now_ms());
            if (poll(&pfd, 1, wait) > 0)
                continue;
        }
        httpc_on_closed(&s->c, 1, now_ms());
        return;
    }
}

/* Carries out queued actions; returns 1 once the download is over. */
static int drain(struct http_posix *s, struct fetch *f)
{
    struct httpc_output out;
    enum httpc_action a;
    while ((a = httpc_poll(&s->c, &out)) != HTTPC_IDLE) {
        switch (a) {
        case HTTPC_ACT_CONNECT:
            if (s->on_request)
                s->on_request(s->ctx, s->c.request_no, f->file);
            start_connect(s, f);
            break;
        case HTTPC_ACT_SEND: send_request(s, out.data, out.len); break;
        case HTTPC_ACT_DATA:
            /* httpc's size limit is at most cap, so this always fits. */
            if (out.offset + out.len <= f->cap) {
                memcpy(f->buf + out.offset, out.data, out.len);
                f->len = out.offset + out.len;
            }
            break;
        case HTTPC_ACT_CLOSE: close_fd(s); break;
        case HTTPC_ACT_DONE:
        case HTTPC_ACT_FAILED: return 1;
        case HTTPC_IDLE: break;
        }
    }
    return 0;
}

/* The socket is ready: finish the connect, or read what arrived. */
static void on_ready(struct http_posix *s, struct fetch *f)
{
    if (f->connecting) {
        int err = 0;
        socklen_t el = sizeof(err);
        if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
            err = errno;
        if (err != 0) {
            connect_failed(s, f, err);
            return;
        }
        f->connecting = 0;
        httpc_on_connected(&s->c, now_ms());
        return;
    }
    ssize_t n = recv(s->fd, s->rx, sizeof(s->rx), MSG_DONTWAIT);
    if (n > 0)
        httpc_on_data(&s->c, s->rx, (size_t)n, now_ms());
    else if (n == 0)
        httpc_on_closed(&s->c, 0, now_ms());
    else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        httpc_on_closed(&s->c, 1, now_ms());
}

int http_posix_fetch(struct http_posix *s, const char *file, uint8_t *buf, size_t cap,
                     size_t *len, struct http_posix_result *res)
{
    struct fetch f = {file, buf, cap, 0, 0, 0};
    uint32_t t0 = now_ms();
    uint32_t saved = s->c.cfg.max_body;
    int local_error = 0;

    /* The caller's buffer is the hard limit. */
    if (cap < s->c.cfg.max_body)
        s->c.cfg.max_body = (uint32_t)cap;
    if (httpc_start(&s->c, s->host, s->port, file, t0) != 0) {
        s->c.cfg.max_body = saved;
        return -1;
    }
    while (!drain(s, &f)) {
        struct pollfd pfd = {s->fd, (short)(f.connecting ? POLLOUT : POLLIN), 0};
        int r = poll(&pfd, 1, httpc_wait_ms(&s->c, now_ms()));
        if (r < 0 && errno != EINTR) {
            local_error = 1;
            break;
        }
        if (r > 0) {
            on_ready(s, &f);
            if (drain(s, &f))
                break;
        }
        httpc_on_tick(&s->c, now_ms());
    }
    close_fd(s);
    s->c.cfg.max_body = saved;
    *len = f.len;
    if (res) {
        res->detail = *httpc_result(&s->c);
        res->reason = res->detail.reason;
        res->sys_errno = f.sys_errno;
        res->elapsed_ms = now_ms() - t0;
    }
    if (local_error || !httpc_finished(&s->c))
        return -1;
    return (int)httpc_result(&s->c)->reason;
}
