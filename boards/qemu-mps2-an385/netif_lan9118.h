/* lwIP network interface over the LAN9118 (NO_SYS=1, polled from the main
 * loop; the NIC's interrupt only wakes the CPU from WFI). */
#ifndef QEMU_NETIF_LAN9118_H
#define QEMU_NETIF_LAN9118_H
#include "lan9118.h"
#include "lwip/netif.h"

struct lan9118_counters {
    uint32_t rx_frames, rx_dropped, rx_no_pbuf, tx_frames, tx_errors;
};

/* netif_add() init callback: hardware address from the NIC, MTU 1500,
 * broadcast + ARP. state must point to a struct lan9118_info that
 * lan9118_init() filled. */
err_t lan9118_netif_init(struct netif *netif);
/* Moves every received frame into lwIP; returns how many. */
int lan9118_netif_poll(struct netif *netif);
const struct lan9118_counters *lan9118_netif_counters(void);
/* Set by the NIC interrupt, cleared by the main loop before polling. */
extern volatile int lan9118_irq_seen;

#endif
