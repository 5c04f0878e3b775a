/* lwIP options for the phone: one Ethernet interface, IPv4, raw API from a
 * single main loop (NO_SYS=1, no RTOS). Sized for what the security module
 * does at boot: DHCP, a few TFTP downloads (lock-step 512-byte blocks), DNS,
 * and at most two TLS connections at once (TVS and CAPF, or HTTPS). Memory
 * is static (pools + lwIP's own heap), so the budget shows in the map file.
 * Anything not listed keeps lwIP's default (src/include/lwip/opt.h). */
#ifndef SECD_LWIPOPTS_H
#define SECD_LWIPOPTS_H

/* --- system -------------------------------------------------------- */
#define NO_SYS 1                 /* main loop, no threads */
#define SYS_LIGHTWEIGHT_PROT 0   /* lwIP is never entered from an interrupt */
#define LWIP_SOCKET 0            /* raw API only: no BSD sockets... */
#define LWIP_NETCONN 0           /* ...and no sequential API (need threads) */
#define LWIP_SINGLE_NETIF 1      /* the phone has one port */
#define LWIP_NETIF_HOSTNAME 1    /* DHCP option 12: SEP<MAC>, as the phone sends */
#define LWIP_NETIF_STATUS_CALLBACK 1 /* boot flow waits for the DHCP address */
#define LWIP_NETIF_LINK_CALLBACK 1

/* --- memory -------------------------------------------------------- */
#define MEM_ALIGNMENT 4          /* Cortex-M3 word */
/* Sized for this phone: one TFTP transfer (lock-step, one block in
 * flight) and at most two TCP connections (TVS + CAPF, or an HTTPS server +
 * TVS), all carrying small TLS messages. Measured with LWIP_STATS over the
 * QEMU scenarios (first boot, lossy network, 550 KB encrypted config, TVS,
 * HTTPS via TVS, CAPF enrolment), 2026-11-24: heap peak 1584 bytes, PBUF_POOL
 * peak 2, TCP_SEG peak 5, no allocation failure. Running short is not a
 * correctness problem (a frame without a pool pbuf is dropped and TCP or
 * TFTP retransmits; tcp_write's ERR_MEM makes tcp_lwip.c wait for ACKs),
 * only a slower exchange. The RAM target (96 KiB for the whole phone)
 * puts the limits between the measured peaks and the protocol bounds. */
/* lwIP heap: outgoing PBUF_RAM data (TCP segments not yet acknowledged,
 * DHCP/DNS/TFTP requests). 2.5 x the measured peak: one TLS record of at
 * most 1 KiB in flight per connection (the sessions' transport buffers)
 * and its retransmission fit; the protocol bound (2 x TCP_SND_BUF = 5.7 KB
 * unacknowledged) is reached only when the peer stops acknowledging, and
 * then tcp_write's ERR_MEM makes the sender wait. */
#define MEM_SIZE (4 * 1024)
/* Receive pool: the receive window of one TCP connection (2 segments;
 * received data stays in its pbufs until the TLS session takes it), a
 * TFTP block and one frame of LAN noise (ARP, DHCP): 2 x the measured
 * peak. Two connections both filling their windows at once (TVS asked
 * during the CAPF handshake is sequential, not that) would drop a frame
 * and wait for TCP's retransmission. */
#define PBUF_POOL_SIZE 4
#define MEMP_NUM_PBUF 8          /* PBUF_REF/ROM: few, we copy */
#define MEMP_NUM_UDP_PCB 4       /* DHCP, DNS, TFTP, one spare */
#define MEMP_NUM_TCP_PCB 3       /* TVS + CAPF/HTTPS + one closing in TIME_WAIT */
#define MEMP_NUM_TCP_PCB_LISTEN 1 /* the phone serves nothing at boot */
#define MEMP_NUM_TCP_SEG 8       /* >= TCP_SND_QUEUELEN (8 for TCP_SND_BUF, checked by lwIP) */
#define MEMP_NUM_ARP_QUEUE 4
#define ARP_TABLE_SIZE 4         /* gateway, TFTP server, call-manager nodes */

/* --- protocols ----------------------------------------------------- */
#define LWIP_IPV4 1
#define LWIP_IPV6 0              /* the phone's boot path is IPv4 */
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define LWIP_ICMP 1              /* answer pings: administrators use them */
#define LWIP_RAW 0
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_DHCP 1
#define LWIP_DNS 1               /* TVS/CAPF/call managers may be host names */
#define DNS_TABLE_SIZE 4
#define DNS_MAX_NAME_LENGTH 128  /* host names come from the config: CONFIG_HOST_MAX */
#define DNS_MAX_SERVERS 2
#define LWIP_AUTOIP 0
#define LWIP_IGMP 0
#define IP_REASSEMBLY 1          /* big DHCP offers/DNS answers may fragment */
#define IP_REASS_MAX_PBUFS 4     /* a datagram of up to ~5.8 KB, within the pool */
#define MEMP_NUM_REASSDATA 2     /* datagrams in reassembly at once (<= the above) */
#define IP_FRAG 0                /* we never send datagrams above the MTU */

/* TCP: full-size segments; a 2-segment window carries a TLS handshake
 * flight (the server's certificate message, ~1-2 KB) in one round trip and
 * bounds RAM (what the phone exchanges over TCP is TLS messages of a few
 * KB, not bulk data). */
#define TCP_MSS 1460
#define TCP_WND (2 * TCP_MSS)
#define TCP_SND_BUF (2 * TCP_MSS)
#define TCP_LISTEN_BACKLOG 0

/* --- debugging and statistics --------------------------------------- */
/* 1 (with MEM_STATS, MEMP_STATS) makes the QEMU phone trace lwIP's
 * high-water marks at exit ("lwIP peaks: ..."), for sizing the above. */
#ifndef LWIP_STATS /* -DLWIP_STATS=1 for a measuring build */
#define LWIP_STATS 0
#endif
#define LWIP_DEBUG 0

/* --- DHCP options 150/66: the phone's TFTP server ------------------- */
/* lwIP 2.1.3 neither requests nor keeps them; its hooks do (see
 * dhcp_tftp.h). The append hook extends option 55 in place. */
#define LWIP_HOOK_FILENAME "dhcp_tftp.h"
#define LWIP_HOOK_DHCP_APPEND_OPTIONS(netif, dhcp, state, msg, msg_type, options_len_ptr) \
    secd_dhcp_append_options((msg)->options, (options_len_ptr), DHCP_OPTIONS_LEN)
#define LWIP_HOOK_DHCP_PARSE_OPTION(netif, dhcp, state, msg, msg_type, option, len, pbuf, \
                                    offset)                                             \
    secd_dhcp_parse_option(lwip_ntohl((msg)->xid), (msg_type), (option), (len), (pbuf), \
                           (offset))

#endif
