/* lwIP raw-API TCP glue carrying secd/tls sessions: the QEMU board's
 * implementation of `struct tvs_net` (firmware/tvs_client.h), so that the
 * TVS and CAPF clients run unchanged on the board (counterpart of
 * boards/host/tcp_posix).
 *
 * The TLS steps are firmware/tls_stream's loops; this file is their
 * transport (struct tls_stream_io) and connects, closes and releases.
 * lwIP is event driven (NO_SYS=1): its callbacks queue what arrives
 * (received pbufs, connect/error events, freed send space) in the
 * connection; the blocking-style calls of tvs_net wait for those events
 * with a deadline. A wait never spins: each round calls the board's
 * service function, which polls the NIC, runs lwIP's timers
 * (sys_check_timeouts) and sleeps in WFI until the next interrupt (a frame
 * or the 1 ms SysTick). So ARP, retransmissions and the other connection
 * keep running while a client waits.
 *
 * Received data stays in lwIP's pbufs until the TLS session takes it; the
 * window is reopened (tcp_recved) only for what was taken, so a slow
 * reader throttles the peer instead of exhausting the pbuf pool.
 * Nothing is traced here: results go back as enum tvs_net_result. */
#ifndef QEMU_TCP_LWIP_H
#define QEMU_TCP_LWIP_H
#include <stddef.h>
#include <stdint.h>

#include "lwip/err.h"
#include "lwip/ip_addr.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "secd/tls.h"
#include "tls_stream.h"
#include "tvs_client.h"

/* Connections open at once: an HTTPS server (or CAPF) waiting for its
 * verdict while TVS is asked. lwipopts.h sizes MEMP_NUM_TCP_PCB for it. */
#define TCP_LWIP_CONNS 2
/* close_notify is flushed for at most this long before the FIN. */
#define TCP_LWIP_CLOSE_FLUSH_MS 200u

struct tcp_lwip_net;

struct tcp_lwip_conn {
    struct tls_stream stream;    /* first: the TLS loops (firmware/tls_stream) run on it */
    struct tcp_lwip_net *owner;
    struct tcp_pcb *pcb;         /* NULL once lwIP freed it (error) or we closed */
    int in_use;
    int connected;
    int peer_closed;             /* FIN received */
    struct pbuf *rx;             /* received, not yet fed to TLS */
    int dns_done;                /* name resolution answered (ok or not) */
    ip_addr_t dns_addr;
    int dns_found;
};

/* One round of the main loop's network work (NIC, lwIP timers); may_sleep:
 * first wait for an interrupt (WFI), as a wait round does. */
typedef void (*tcp_lwip_service_fn)(void *ctx, int may_sleep);

struct tcp_lwip_net {
    struct tcp_lwip_conn conn[TCP_LWIP_CONNS];
    tcp_lwip_service_fn service;
    void *service_ctx;
    uint32_t waits;              /* service rounds spent waiting (for the figures) */
    struct tvs_net net;
};

/* Sets up the interface; service() is called in every wait round (may
 * sleep) and by the interface's poll (may not). */
const struct tvs_net *tcp_lwip_net_init(struct tcp_lwip_net *n, tcp_lwip_service_fn service,
                                        void *service_ctx);

#endif
