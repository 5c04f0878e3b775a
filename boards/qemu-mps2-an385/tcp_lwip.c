/* lwIP raw-API TCP glue for secd/tls sessions (see tcp_lwip.h). */
#include "tcp_lwip.h"

#include <string.h>

#include "hal/hal_clock.h"
#include "lwip/dns.h"
#include "lwip/ip4_addr.h"

/* --- time and waiting --------------------------------------------------- */

static uint32_t now_ms(void)
{
    return hal_monotonic_ms();
}

static int expired(uint32_t deadline)
{
    return (int32_t)(now_ms() - deadline) >= 0;
}

/* One round of the main loop's network work; the caller then re-checks
 * what it waits for. */
static void wait_round(struct tcp_lwip_net *n)
{
    n->waits++;
    n->service(n->service_ctx, 1);
}

static void net_poll(void *ctx)
{
    struct tcp_lwip_net *n = ctx;
    n->service(n->service_ctx, 0);
}

/* --- lwIP callbacks (run from the NIC poll / timers) -------------------- */

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    struct tcp_lwip_conn *c = arg;
    (void)pcb;
    (void)err; /* always ERR_OK in lwIP 2.1 */
    c->connected = 1;
    return ERR_OK;
}

/* Keeps the data for the TLS session; p == NULL is the peer's FIN. */
static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct tcp_lwip_conn *c = arg;
    (void)pcb;
    (void)err;
    if (p == NULL) {
        c->peer_closed = 1;
        return ERR_OK;
    }
    if (c->rx)
        pbuf_cat(c->rx, p);
    else
        c->rx = p;
    return ERR_OK;
}

/* lwIP has already freed the pcb (reset, abort, too many retransmissions). */
static void on_err(void *arg, err_t err)
{
    struct tcp_lwip_conn *c = arg;
    c->pcb = NULL;
    c->err = err;
    if (err == ERR_OK)
        c->err = ERR_ABRT;
}

static void on_dns(const char *name, const ip_addr_t *addr, void *arg)
{
    struct tcp_lwip_conn *c = arg;
    (void)name;
    if (c->dns_done)
        return; /* a late answer to a lookup we gave up on */
    c->dns_done = 1;
    c->dns_found = addr != NULL;
    if (addr)
        c->dns_addr = *addr;
}

/* --- connection slots --------------------------------------------------- */

/* A free slot again (its owner stays). */
static void reset_slot(struct tcp_lwip_conn *c)
{
    struct tcp_lwip_net *owner = c->owner;
    memset(c, 0, sizeof *c);
    c->owner = owner;
}

/* Drops the connection: unread data is acknowledged first (lwIP answers a
 * close with unread data by a reset), then FIN, or RST if lwIP has no
 * memory for the FIN. */
static void release(struct tcp_lwip_conn *c)
{
    struct tcp_pcb *pcb = c->pcb;
    if (c->rx) {
        if (pcb)
            tcp_recved(pcb, c->rx->tot_len);
        pbuf_free(c->rx);
    }
    if (pcb) {
        tcp_arg(pcb, NULL);
        tcp_recv(pcb, NULL); /* lwIP's default then discards late data */
        tcp_err(pcb, NULL);
        if (tcp_close(pcb) != ERR_OK)
            tcp_abort(pcb);
    }
    reset_slot(c);
}

static struct tcp_lwip_conn *free_slot(struct tcp_lwip_net *n)
{
    for (size_t i = 0; i < TCP_LWIP_CONNS; i++)
        if (!n->conn[i].in_use)
            return &n->conn[i];
    return NULL;
}

/* A dotted quad at once, else lwIP's DNS (servers from DHCP). 0 or -1. */
static int resolve(struct tcp_lwip_net *n, struct tcp_lwip_conn *c, const char *host,
                   ip_addr_t *addr, uint32_t deadline)
{
    if (ipaddr_aton(host, addr))
        return 0;
    c->dns_done = 0;
    err_t e = dns_gethostbyname(host, addr, on_dns, c);
    if (e == ERR_OK)
        return 0;
    if (e != ERR_INPROGRESS)
        return -1;
    while (!c->dns_done && !expired(deadline))
        wait_round(n);
    int ok = c->dns_done && c->dns_found;
    c->dns_done = 1; /* ignore an answer that comes later */
    if (ok)
        *addr = c->dns_addr;
    return ok ? 0 : -1;
}

/* Opens the pcb and waits for the handshake. */
static enum tvs_net_result open_pcb(struct tcp_lwip_net *n, struct tcp_lwip_conn *c,
                                    const ip_addr_t *addr, uint16_t port, uint32_t deadline)
{
    c->pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
    if (c->pcb == NULL)
        return TVS_NET_UNREACHABLE; /* no pcb left: as good as unreachable */
    tcp_arg(c->pcb, c);
    tcp_recv(c->pcb, on_recv);
    tcp_err(c->pcb, on_err);
    tcp_nagle_disable(c->pcb); /* TLS records go out whole, at once */
    if (tcp_connect(c->pcb, addr, port, on_connected) != ERR_OK)
        return TVS_NET_UNREACHABLE;
    while (!c->connected && c->pcb && !expired(deadline))
        wait_round(n);
    if (c->connected && c->pcb)
        return TVS_NET_OK;
    /* RST to our SYN (QEMU's user network answers so for a closed port),
     * or lwIP gave up retransmitting it. */
    return c->pcb ? TVS_NET_TIMEOUT : TVS_NET_UNREACHABLE;
}

static void *net_connect(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms,
                         enum tvs_net_result *r)
{
    struct tcp_lwip_net *n = ctx;
    struct tcp_lwip_conn *c = free_slot(n);
    if (c == NULL) {
        *r = TVS_NET_UNREACHABLE; /* both connections busy */
        return NULL;
    }
    reset_slot(c);
    c->in_use = 1;
    uint32_t deadline = now_ms() + timeout_ms;
    ip_addr_t addr;
    *r = resolve(n, c, host, &addr, deadline) == 0 ? open_pcb(n, c, &addr, port, deadline)
                                                   : TVS_NET_UNREACHABLE;
    if (*r == TVS_NET_OK)
        return c;
    release(c);
    return NULL;
}

/* --- moving TLS bytes --------------------------------------------------- */

/* Hands everything the session queued to lwIP (copied into its send
 * buffer), waiting while the buffer is full. */
static enum tvs_net_result flush_output(struct tcp_lwip_conn *c, struct secd_tls *t,
                                        uint32_t deadline)
{
    const uint8_t *p;
    size_t len;
    while ((len = secd_tls_output(t, &p)) > 0) {
        if (c->pcb == NULL) {
            secd_tls_feed_eof(t, 1);
            return TVS_NET_RESET;
        }
        size_t room = tcp_sndbuf(c->pcb);
        size_t k = len < room ? len : room;
        if (k > 0) {
            err_t e = tcp_write(c->pcb, p, (u16_t)k, TCP_WRITE_FLAG_COPY);
            if (e == ERR_OK) {
                secd_tls_output_done(t, k);
                tcp_output(c->pcb);
                continue;
            }
            if (e != ERR_MEM) {
                secd_tls_feed_eof(t, 1);
                return TVS_NET_RESET;
            }
        }
        tcp_output(c->pcb); /* send what is queued; ACKs free the buffer */
        if (expired(deadline))
            return TVS_NET_TIMEOUT;
        wait_round(c->owner);
    }
    return TVS_NET_OK;
}

/* Feeds queued pbufs to the session as far as its input buffer allows,
 * reopening the receive window for what it took. */
static void feed_rx(struct tcp_lwip_conn *c, struct secd_tls *t)
{
    size_t room;
    while (c->rx && (room = secd_tls_input_room(t)) > 0) {
        struct pbuf *q = c->rx;
        if (q->len == 0) { /* an empty pbuf in the chain: unlink it */
            c->rx = q->next;
            q->next = NULL;
            pbuf_free(q);
            continue;
        }
        size_t took = secd_tls_feed(t, q->payload, q->len < room ? q->len : room);
        if (took == 0)
            return;
        c->rx = pbuf_free_header(q, (u16_t)took);
        if (c->pcb)
            tcp_recved(c->pcb, (u16_t)took);
    }
}

/* Waits for bytes (or the end of the stream) and feeds them. */
static enum tvs_net_result fill_input(struct tcp_lwip_conn *c, struct secd_tls *t,
                                      uint32_t deadline)
{
    for (;;) {
        if (c->rx) {
            feed_rx(c, t);
            return TVS_NET_OK;
        }
        if (c->peer_closed || c->pcb == NULL) {
            /* The session reports what the end means (clean close or not). */
            secd_tls_feed_eof(t, c->peer_closed ? 0 : 1);
            return TVS_NET_OK;
        }
        if (expired(deadline))
            return TVS_NET_TIMEOUT;
        wait_round(c->owner);
    }
}

static enum tvs_net_result pump(struct tcp_lwip_conn *c, struct secd_tls *t, uint32_t deadline)
{
    enum tvs_net_result r = flush_output(c, t, deadline);
    if (r != TVS_NET_OK)
        return r;
    if (secd_tls_wants_input(t))
        return fill_input(c, t, deadline);
    return TVS_NET_OK;
}

static enum tvs_net_result tls_result(enum secd_tls_status st)
{
    switch (st) {
    case SECD_TLS_OK: return TVS_NET_OK;
    case SECD_TLS_CLOSED: return TVS_NET_CLOSED;
    case SECD_TLS_ERR_IO: return TVS_NET_RESET;
    default: return TVS_NET_TLS;
    }
}

static enum tvs_net_result net_handshake(void *conn, struct secd_tls *t, uint32_t timeout_ms)
{
    struct tcp_lwip_conn *c = conn;
    uint32_t deadline = now_ms() + timeout_ms;
    enum secd_tls_status st;
    while ((st = secd_tls_handshake(t)) == SECD_TLS_WANT_IO) {
        enum tvs_net_result r = pump(c, t, deadline);
        if (r != TVS_NET_OK)
            return r;
    }
    /* Send what the last step queued (Finished, or an alert). */
    enum tvs_net_result r = flush_output(c, t, deadline);
    return st != SECD_TLS_OK ? tls_result(st) : r;
}

static enum tvs_net_result net_write(void *conn, struct secd_tls *t, const uint8_t *p, size_t n,
                                     uint32_t timeout_ms)
{
    struct tcp_lwip_conn *c = conn;
    uint32_t deadline = now_ms() + timeout_ms;
    while (n > 0) {
        size_t done = 0;
        enum secd_tls_status st = secd_tls_write(t, p, n, &done);
        if (st != SECD_TLS_OK && st != SECD_TLS_WANT_IO)
            return tls_result(st);
        p += done;
        n -= done;
        enum tvs_net_result r = st == SECD_TLS_WANT_IO ? pump(c, t, deadline)
                                                       : flush_output(c, t, deadline);
        if (r != TVS_NET_OK)
            return r;
    }
    return TVS_NET_OK;
}

static enum tvs_net_result net_read(void *conn, struct secd_tls *t, uint8_t *buf, size_t cap,
                                    size_t *got, uint32_t timeout_ms)
{
    struct tcp_lwip_conn *c = conn;
    uint32_t deadline = now_ms() + timeout_ms;
    *got = 0;
    for (;;) {
        enum secd_tls_status st = secd_tls_read(t, buf, cap, got);
        if (st == SECD_TLS_OK && *got > 0)
            return flush_output(c, t, deadline);
        if (st != SECD_TLS_WANT_IO && st != SECD_TLS_OK)
            return tls_result(st);
        enum tvs_net_result r = pump(c, t, deadline);
        if (r != TVS_NET_OK)
            return r;
    }
}

static void net_close(void *conn, struct secd_tls *t)
{
    struct tcp_lwip_conn *c = conn;
    if (t && c->pcb) {
        secd_tls_close(t);
        flush_output(c, t, now_ms() + TCP_LWIP_CLOSE_FLUSH_MS);
    }
    release(c);
}

const struct tvs_net *tcp_lwip_net_init(struct tcp_lwip_net *n, tcp_lwip_service_fn service,
                                        void *service_ctx)
{
    memset(n, 0, sizeof *n);
    for (size_t i = 0; i < TCP_LWIP_CONNS; i++)
        n->conn[i].owner = n;
    n->service = service;
    n->service_ctx = service_ctx;
    n->net = (struct tvs_net){n,        net_connect, net_handshake, net_write,
                              net_read, net_close,   net_poll};
    return &n->net;
}
