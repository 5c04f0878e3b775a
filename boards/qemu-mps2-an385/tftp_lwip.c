/* tftpc over lwIP raw UDP: see tftp_lwip.h. */
#include "tftp_lwip.h"

#include <string.h>

#include "hal/hal_clock.h"
#include "lwip/pbuf.h"

/* Index of the server a datagram came from; the current server wins when
 * several entries share an address (tftpc tells them apart by port). */
static int server_index(const struct tftp_lwip *s, const ip_addr_t *from)
{
    int found = -1;
    for (size_t i = 0; i < s->n; i++) {
        if (!ip4_addr_cmp(&s->servers[i].addr, ip_2_ip4(from)))
            continue;
        if (i == s->c.server)
            return (int)i;
        if (found < 0)
            found = (int)i;
    }
    return found;
}

static void send_packet(struct tftp_lwip *s, const struct tftpc_output *out)
{
    const struct tftp_lwip_server *srv = &s->servers[out->server];
    uint16_t port = out->port == TFTPC_PORT_REQUEST ? srv->port : out->port;
    struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)out->len, PBUF_RAM);
    if (p == NULL)
        return; /* out of memory: tftpc's timer retransmits */
    pbuf_take(p, out->data, (u16_t)out->len);
    ip_addr_t to;
    ip_addr_copy_from_ip4(to, srv->addr);
    (void)udp_sendto(s->pcb, p, &to, port); /* a failure is left to the timer too */
    pbuf_free(p);
}

/* Carries out tftpc's queued actions. */
static void drain(struct tftp_lwip *s)
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
        case TFTPC_ACT_RESTART:
            s->len = 0;
            s->on_restart(s->sink_ctx);
            break;
        case TFTPC_ACT_DATA:
            /* tftpc's size limit is at most cap: never more than cap. */
            if (out.offset + out.len > s->cap)
                break;
            s->on_data(s->sink_ctx, out.offset, out.data, out.len);
            s->len = out.offset + out.len;
            break;
        case TFTPC_ACT_DONE:
        case TFTPC_ACT_FAILED:
            s->busy = 0;
            break;
        case TFTPC_IDLE:
            break;
        }
    }
}

static void on_udp(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
                   u16_t port)
{
    struct tftp_lwip *s = arg;
    (void)pcb;
    int idx = server_index(s, addr);
    if (s->busy && idx >= 0) {
        u16_t n = p->tot_len < sizeof s->rx ? p->tot_len : (u16_t)sizeof s->rx;
        pbuf_copy_partial(p, s->rx, n, 0);
        tftpc_on_datagram(&s->c, (uint8_t)idx, port, s->rx, n, hal_monotonic_ms());
        drain(s);
    }
    pbuf_free(p);
}

int tftp_lwip_open(struct tftp_lwip *s, const struct tftp_lwip_server *servers, size_t n,
                   const struct tftpc_config *cfg)
{
    memset(s, 0, sizeof *s);
    if (n == 0 || n > TFTPC_MAX_SERVERS)
        return -1;
    memcpy(s->servers, servers, n * sizeof servers[0]);
    s->n = n;
    if (cfg)
        s->cfg = *cfg;
    else
        tftpc_config_default(&s->cfg, (uint8_t)n);
    s->cfg.n_servers = (uint8_t)n;
    tftpc_init(&s->c, &s->cfg);
    s->pcb = udp_new();
    if (s->pcb == NULL)
        return -1;
    if (udp_bind(s->pcb, IP_ADDR_ANY, 0) != ERR_OK) {
        udp_remove(s->pcb);
        s->pcb = NULL;
        return -1;
    }
    udp_recv(s->pcb, on_udp, s);
    return 0;
}

int tftp_lwip_start(struct tftp_lwip *s, const char *file, size_t cap)
{
    s->c.cfg = s->cfg;
    if (cap < s->c.cfg.max_file_size || s->c.cfg.max_file_size == 0)
        s->c.cfg.max_file_size = (uint32_t)cap; /* the caller's cap is the hard limit */
    s->cap = cap;
    s->len = 0;
    if (tftpc_start(&s->c, file, hal_monotonic_ms()) != 0)
        return -1;
    s->busy = 1;
    drain(s);
    return 0;
}

void tftp_lwip_poll(struct tftp_lwip *s)
{
    if (!s->busy)
        return;
    tftpc_on_tick(&s->c, hal_monotonic_ms());
    drain(s);
}

int tftp_lwip_finished(const struct tftp_lwip *s)
{
    return !s->busy && tftpc_finished(&s->c);
}

enum tftpc_reason tftp_lwip_reason(const struct tftp_lwip *s)
{
    return tftpc_result(&s->c)->reason;
}

size_t tftp_lwip_len(const struct tftp_lwip *s)
{
    return s->len;
}

const struct tftpc_result *tftp_lwip_result(const struct tftp_lwip *s)
{
    return tftpc_result(&s->c);
}

void tftp_lwip_close(struct tftp_lwip *s)
{
    if (s->pcb)
        udp_remove(s->pcb);
    s->pcb = NULL;
    s->busy = 0;
}
