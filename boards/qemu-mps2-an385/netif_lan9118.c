/* lwIP netif for the LAN9118: see netif_lan9118.h. */
#include "netif_lan9118.h"

#include <string.h>

#include "lwip/etharp.h"
#include "lwip/pbuf.h"

#define ETH_MTU 1500u

volatile int lan9118_irq_seen;
static struct lan9118_counters counters;
/* Frames move between the FIFO and lwIP's pbufs in place (no frame-sized
 * buffer): a chain of at most this many pbufs. */
#define MAX_PARTS 8u

static size_t parts_of(struct pbuf *p, struct lan9118_part *parts)
{
    size_t n = 0;
    for (struct pbuf *q = p; q; q = q->next) {
        if (n == MAX_PARTS)
            return 0;
        parts[n++] = (struct lan9118_part){q->payload, q->len};
    }
    return n;
}

void ETH_IRQHandler(void);
void ETH_IRQHandler(void)
{
    lan9118_irq_ack();
    lan9118_irq_seen = 1;
}

/* lwIP hands a pbuf chain: the FIFO takes its pieces in order. */
static err_t link_output(struct netif *netif, struct pbuf *p)
{
    (void)netif;
    struct lan9118_part parts[MAX_PARTS];
    size_t n = parts_of(p, parts);
    if (p->tot_len > LAN9118_MAX_FRAME || n == 0 || lan9118_send(parts, n) != 0) {
        counters.tx_errors++;
        return ERR_IF;
    }
    counters.tx_frames++;
    return ERR_OK;
}

err_t lan9118_netif_init(struct netif *netif)
{
    const struct lan9118_info *info = netif->state;
    netif->name[0] = 'e';
    netif->name[1] = 'n';
    netif->output = etharp_output;
    netif->linkoutput = link_output;
    netif->mtu = ETH_MTU;
    netif->hwaddr_len = ETH_HWADDR_LEN;
    memcpy(netif->hwaddr, info->mac, ETH_HWADDR_LEN);
    netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
    return ERR_OK;
}

static void receive_one(struct netif *netif, size_t len)
{
    struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
    struct lan9118_part parts[MAX_PARTS];
    size_t n = p ? parts_of(p, parts) : 0;
    lan9118_rx_read(parts, n, len); /* n = 0: the frame is dropped */
    if (n == 0) {
        if (p)
            pbuf_free(p);
        counters.rx_no_pbuf++;
        return;
    }
    counters.rx_frames++;
    if (netif->input(p, netif) != ERR_OK)
        pbuf_free(p);
}

int lan9118_netif_poll(struct netif *netif)
{
    int n = 0;
    size_t len;
    while ((len = lan9118_rx_peek()) != 0) {
        if (len == LAN9118_RX_DROPPED)
            counters.rx_dropped++;
        else
            receive_one(netif, len);
        n++;
    }
    return n;
}

const struct lan9118_counters *lan9118_netif_counters(void)
{
    return &counters;
}
