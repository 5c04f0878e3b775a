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

static struct tcp_lwip_conn *conn_of(struct tls_stream *s)
{
    return (struct tcp_lwip_conn *)s; /* its first member */
}

/* Unless the deadline has passed (TVS_NET_TIMEOUT), one round of the main
 * loop's network work; the caller then re-checks what it waits for. All
 * of lwIP's events come in these rounds, so `what` does not matter (it is
 * the connection's tls_stream_io.wait; connect waits the same way). */
static enum tvs_net_result wait_round(struct tls_stream *s, enum tls_stream_wait what,
                                      uint32_t deadline)
{
    (void)what;
    if ((int32_t)(now_ms() - deadline) >= 0)
        return TVS_NET_TIMEOUT;
    struct tcp_lwip_net *n = conn_of(s)->owner;
    n->waits++;
    n->service(n->service_ctx, 1);
    return TVS_NET_OK;
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

/* lwIP has already freed the pcb (reset, abort, too many retransmissions):
 * whichever, the session is told of a reset (stream_feed). */
static void on_err(void *arg, err_t err)
{
    struct tcp_lwip_conn *c = arg;
    (void)err;
    c->pcb = NULL;
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

/* --- struct tls_stream_io: moving TLS bytes ---------------------------- */

/* Copies what fits into lwIP's send buffer and sends it; when nothing
 * fits, sends what is queued (ACKs then free the buffer). */
static int stream_send_some(struct tls_stream *s, const uint8_t *p, size_t len)
{
    struct tcp_lwip_conn *c = conn_of(s);
    if (c->pcb == NULL)
        return -1;
    u16_t k = tcp_sndbuf(c->pcb);
    if (len < k)
        k = (u16_t)len;
    if (k > 0) {
        err_t e = tcp_write(c->pcb, p, k, TCP_WRITE_FLAG_COPY);
        if (e == ERR_MEM)
            k = 0;
        else if (e != ERR_OK)
            return -1;
    }
    tcp_output(c->pcb);
    return k;
}

/* Feeds queued pbufs to the session as far as its input buffer allows,
 * reopening the receive window for what it took; with nothing queued, the
 * end of the stream: FIN (clean, as far as TCP goes) or the pcb gone
 * (reset, abort). 0 while neither has come. */
static int stream_feed(struct tls_stream *s, struct secd_tls *t)
{
    struct tcp_lwip_conn *c = conn_of(s);
    if (c->rx == NULL) {
        if (!c->peer_closed && c->pcb)
            return 0;
        secd_tls_feed_eof(t, c->peer_closed ? 0 : 1);
        return 1;
    }
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
            break;
        c->rx = pbuf_free_header(q, (u16_t)took);
        if (c->pcb)
            tcp_recved(c->pcb, (u16_t)took);
    }
    return 1;
}

static const struct tls_stream_io lwip_io = {stream_send_some, stream_feed, wait_round};

/* --- connection slots --------------------------------------------------- */

/* A free slot again (net_connect claims it anew). */
static void reset_slot(struct tcp_lwip_conn *c)
{
    memset(c, 0, sizeof *c);
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
static int resolve(struct tcp_lwip_conn *c, const char *host, ip_addr_t *addr, uint32_t deadline)
{
    if (ipaddr_aton(host, addr))
        return 0;
    c->dns_done = 0;
    err_t e = dns_gethostbyname(host, addr, on_dns, c);
    if (e == ERR_OK)
        return 0;
    if (e != ERR_INPROGRESS)
        return -1;
    while (!c->dns_done && wait_round(&c->stream, TLS_STREAM_WAIT_RECV, deadline) == TVS_NET_OK)
        ;
    int ok = c->dns_done && c->dns_found;
    c->dns_done = 1; /* ignore an answer that comes later */
    if (ok)
        *addr = c->dns_addr;
    return ok ? 0 : -1;
}

/* Opens the pcb and waits for the handshake. */
static enum tvs_net_result open_pcb(struct tcp_lwip_conn *c, const ip_addr_t *addr, uint16_t port,
                                    uint32_t deadline)
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
    while (!c->connected && c->pcb &&
           wait_round(&c->stream, TLS_STREAM_WAIT_RECV, deadline) == TVS_NET_OK)
        ;
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
    c->stream.io = &lwip_io;
    c->owner = n;
    c->in_use = 1;
    uint32_t deadline = now_ms() + timeout_ms;
    ip_addr_t addr;
    *r = resolve(c, host, &addr, deadline) == 0 ? open_pcb(c, &addr, port, deadline)
                                                   : TVS_NET_UNREACHABLE;
    if (*r == TVS_NET_OK)
        return c;
    release(c);
    return NULL;
}

static void net_close(void *conn, struct secd_tls *t)
{
    struct tcp_lwip_conn *c = conn;
    if (t && c->pcb)
        tls_stream_close_notify(c, t, TCP_LWIP_CLOSE_FLUSH_MS);
    release(c);
}

const struct tvs_net *tcp_lwip_net_init(struct tcp_lwip_net *n, tcp_lwip_service_fn service,
                                        void *service_ctx)
{
    memset(n, 0, sizeof *n);
    n->service = service;
    n->service_ctx = service_ctx;
    n->net = (struct tvs_net){n, net_connect, tls_stream_handshake, tls_stream_write,
                              tls_stream_read, net_close, net_poll};
    return &n->net;
}
