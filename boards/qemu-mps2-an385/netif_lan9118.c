/* lwIP netif for the LAN9118: see netif_lan9118.h. */
#include "netif_lan9118.h"

#include <string.h>

#include "lwip/etharp.h"
#include "lwip/pbuf.h"

#define ETH_MTU 1500u

volatile int lan9118_irq_seen;
static struct lan9118_counters counters;
/* One frame, word-rounded: the FIFO is read in 32-bit words. */
static uint8_t frame_buf[(LAN9118_MAX_FRAME + 3u) & ~3u];

void ETH_IRQHandler(void);
void ETH_IRQHandler(void)
{
    lan9118_irq_ack();
    lan9118_irq_seen = 1;
}

/* lwIP hands a pbuf chain: gather it into one frame for the FIFO. */
static err_t link_output(struct netif *netif, struct pbuf *p)
{
    (void)netif;
    if (p->tot_len > LAN9118_MAX_FRAME ||
        pbuf_copy_partial(p, frame_buf, p->tot_len, 0) != p->tot_len ||
        lan9118_send(frame_buf, p->tot_len) != 0) {
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
    lan9118_rx_read(frame_buf, len);
    struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
    if (p == NULL) {
        counters.rx_no_pbuf++;
        return;
    }
    pbuf_take(p, frame_buf, (u16_t)len);
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
