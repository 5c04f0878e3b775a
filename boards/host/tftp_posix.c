/* POSIX UDP glue for tftpc: sendto/recvfrom/poll on one socket. */
#define _GNU_SOURCE
#include "tftp_posix.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static uint32_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

int tftp_posix_parse_server(const char *text, char *host_buf, size_t host_cap,
                            struct tftp_posix_server *out)
{
    const char *colon = strchr(text, ':');
    size_t hlen = colon ? (size_t)(colon - text) : strlen(text);
    struct in_addr probe;
    if (hlen == 0 || hlen >= host_cap)
        return -1;
    memcpy(host_buf, text, hlen);
    host_buf[hlen] = '\0';
    if (inet_pton(AF_INET, host_buf, &probe) != 1)
        return -1;
    out->host = host_buf;
    out->port = 69;
    if (colon) {
        char *end;
        long p = strtol(colon + 1, &end, 10);
        if (*end != '\0' || p <= 0 || p > 65535)
            return -1;
        out->port = (uint16_t)p;
    }
    return 0;
}

int tftp_posix_open(struct tftp_posix *s, const struct tftp_posix_server *servers, size_t n,
                    const struct tftpc_config *cfg)
{
    struct tftpc_config def;
    size_t i;
    int on = 1;

    if (n == 0 || n > TFTPC_MAX_SERVERS)
        return -1;
    memset(s->addr, 0, sizeof(s->addr));
    for (i = 0; i < n; i++) {
        s->addr[i].sin_family = AF_INET;
        s->addr[i].sin_port = htons(servers[i].port);
        if (inet_pton(AF_INET, servers[i].host, &s->addr[i].sin_addr) != 1)
            return -1;
    }
    s->n = n;
    s->on_request = NULL;
    s->ctx = NULL;
    s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s->fd < 0)
        return -1;
    /* Queue ICMP errors (port unreachable) on an unconnected socket too. */
    (void)setsockopt(s->fd, IPPROTO_IP, IP_RECVERR, &on, sizeof(on));
    if (cfg == NULL) {
        tftpc_config_default(&def, (uint8_t)n);
        cfg = &def;
    }
    def = *cfg;
    def.n_servers = (uint8_t)n;
    tftpc_init(&s->c, &def);
    return 0;
}

void tftp_posix_close(struct tftp_posix *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

/* Server index for a source address; the current server wins when several
 * entries share an address (tftpc then tells them apart by port). */
static int server_index(const struct tftp_posix *s, const struct sockaddr_in *from)
{
    int found = -1;
    size_t i;
    for (i = 0; i < s->n; i++) {
        if (s->addr[i].sin_addr.s_addr != from->sin_addr.s_addr)
            continue;
        if (i == s->c.server)
            return (int)i;
        if (found < 0)
            found = (int)i;
    }
    return found;
}

/* The port tftpc knows for a destination: 0 for the request port. */
static uint16_t tftpc_port(const struct tftp_posix *s, int idx, const struct sockaddr_in *a)
{
    uint16_t port = ntohs(a->sin_port);
    return port == ntohs(s->addr[idx].sin_port) ? (uint16_t)TFTPC_PORT_REQUEST : port;
}

static void send_packet(struct tftp_posix *s, const struct tftpc_output *out)
{
    struct sockaddr_in to = s->addr[out->server];
    if (out->port != TFTPC_PORT_REQUEST)
        to.sin_port = htons(out->port);
    int tries;
    for (tries = 0; tries < 2; tries++) {
        if (sendto(s->fd, out->data, out->len, 0, (const struct sockaddr *)&to, sizeof(to)) >= 0)
            return;
        /* ECONNREFUSED here is a stale ICMP error of an earlier datagram
         * (the error queue says whose): send again. */
        if (errno != ECONNREFUSED)
            break;
    }
    /* No route: this server cannot be reached. Other failures are left to
     * the retransmission timer. */
    if ((errno == ENETUNREACH || errno == EHOSTUNREACH) && out->kind != TFTPC_PKT_ERROR)
        tftpc_on_unreachable(&s->c, out->server, out->port, now_ms());
}

struct sink {
    uint8_t *buf;
    size_t cap;
    size_t len;
};

/* Carries out queued actions; returns 1 once the download is over. */
static int drain(struct tftp_posix *s, struct sink *k)
{
    struct tftpc_output out;
    enum tftpc_action a;
    while ((a = tftpc_poll(&s->c, &out)) != TFTPC_IDLE) {
        switch (a) {
        case TFTPC_ACT_SEND:
            if (out.kind == TFTPC_PKT_RRQ && !out.retransmit && s->on_request)
                s->on_request(s->ctx, s->c.request_no, out.server, s->c.file);
            send_packet(s, &out);
            break;
        case TFTPC_ACT_RESTART: k->len = 0; break;
        case TFTPC_ACT_DATA:
            /* tftpc's size limit is at most cap, so this always fits. */
            if (out.offset + out.len <= k->cap) {
                memcpy(k->buf + out.offset, out.data, out.len);
                k->len = out.offset + out.len;
            }
            break;
        case TFTPC_ACT_DONE:
        case TFTPC_ACT_FAILED: return 1;
        case TFTPC_IDLE: break;
        }
    }
    return 0;
}

/* Reads one queued ICMP error and reports it to tftpc. */
static void read_icmp_error(struct tftp_posix *s)
{
    struct sockaddr_in dst;
    char ctl[512];
    uint8_t dummy[64];
    struct iovec iov = {dummy, sizeof(dummy)};
    struct msghdr mh;
    struct cmsghdr *cm;
    int idx;

    memset(&mh, 0, sizeof(mh));
    mh.msg_name = &dst;
    mh.msg_namelen = sizeof(dst);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = ctl;
    mh.msg_controllen = sizeof(ctl);
    if (recvmsg(s->fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0 || mh.msg_namelen != sizeof(dst))
        return;
    for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
        struct sock_extended_err ee;
        if (cm->cmsg_level != IPPROTO_IP || cm->cmsg_type != IP_RECVERR)
            continue;
        memcpy(&ee, CMSG_DATA(cm), sizeof(ee));
        if (ee.ee_errno != ECONNREFUSED && ee.ee_errno != EHOSTUNREACH &&
            ee.ee_errno != ENETUNREACH)
            continue;
        idx = server_index(s, &dst);
        if (idx >= 0)
            tftpc_on_unreachable(&s->c, (uint8_t)idx, tftpc_port(s, idx, &dst), now_ms());
    }
}

/* Reads every datagram waiting on the socket and feeds it to tftpc. */
static int read_datagrams(struct tftp_posix *s, struct sink *k)
{
    for (;;) {
        struct sockaddr_in from = {0}; /* recvfrom may leave it short */
        socklen_t flen = sizeof(from);
        ssize_t n = recvfrom(s->fd, s->rx, sizeof(s->rx), MSG_DONTWAIT,
                             (struct sockaddr *)&from, &flen);
        int idx;
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            read_icmp_error(s); /* ECONNREFUSED and friends */
            return drain(s, k);
        }
        if (flen != sizeof(from))
            continue; /* not an IPv4 peer: from is not filled in */
        idx = server_index(s, &from);
        if (idx < 0)
            continue; /* not one of our servers */
        tftpc_on_datagram(&s->c, (uint8_t)idx, ntohs(from.sin_port), s->rx, (size_t)n,
                          now_ms());
        if (drain(s, k))
            return 1;
    }
}

static void fill_result(const struct tftp_posix *s, uint32_t t0, struct tftp_posix_result *res)
{
    if (res == NULL)
        return;
    res->detail = *tftpc_result(&s->c);
    res->reason = res->detail.reason;
    res->counters = *tftpc_counters(&s->c);
    res->elapsed_ms = now_ms() - t0;
}

int tftp_posix_fetch(struct tftp_posix *s, const char *file, uint8_t *buf, size_t cap,
                     size_t *len, struct tftp_posix_result *res)
{
    struct sink k = {buf, cap, 0};
    uint32_t t0 = now_ms();
    struct tftpc_config saved = s->c.cfg;

    /* The caller's buffer is the hard limit. */
    if (cap < s->c.cfg.max_file_size)
        s->c.cfg.max_file_size = (uint32_t)cap;
    if (tftpc_start(&s->c, file, t0) != 0) {
        s->c.cfg = saved;
        return -1;
    }
    while (!drain(s, &k)) {
        struct pollfd pfd = {s->fd, POLLIN, 0};
        int32_t wait = tftpc_wait_ms(&s->c, now_ms());
        int r = poll(&pfd, 1, wait);
        if (r < 0 && errno != EINTR)
            break;
        if (r > 0 && (pfd.revents & POLLERR))
            read_icmp_error(s);
        if (r > 0 && (pfd.revents & POLLIN) && read_datagrams(s, &k))
            break;
        tftpc_on_tick(&s->c, now_ms());
    }
    s->c.cfg = saved;
    *len = k.len;
    fill_result(s, t0, res);
    if (!tftpc_finished(&s->c))
        return -1;
    return (int)tftpc_result(&s->c)->reason;
}

int tftp_posix_get(const struct tftp_posix_server *servers, size_t n,
                   const struct tftpc_config *cfg, const char *file, uint8_t *buf, size_t cap,
                   size_t *len, struct tftp_posix_result *res)
{
    struct tftp_posix *s = malloc(sizeof(*s)); /* 64 KiB receive buffer: not on the stack */
    int r;
    if (s == NULL)
        return -1;
    if (tftp_posix_open(s, servers, n, cfg) != 0) {
        free(s);
        return -1;
    }
    r = tftp_posix_fetch(s, file, buf, cap, len, res);
    tftp_posix_close(s);
    free(s);
    return r;
}
