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
/* lwIP heap: outgoing PBUF_RAM data, mostly TCP send buffers of two TLS
 * connections (2 x TCP_SND_BUF = 11.4 KB) plus DHCP/DNS/TFTP requests. */
#define MEM_SIZE (16 * 1024)
/* Receive pool: a full receive window of one TCP connection (4 segments)
 * plus room for a second connection and broadcast noise on the LAN. */
/* The boot path needs far less: TFTP is lock-step (one 1.5 KB block in
 * flight) and netif_lan9118.c copies each frame into one pool pbuf. */
#define PBUF_POOL_SIZE 12
#define MEMP_NUM_PBUF 8          /* PBUF_REF/ROM: few, we copy */
#define MEMP_NUM_UDP_PCB 4       /* DHCP, DNS, TFTP, one spare */
#define MEMP_NUM_TCP_PCB 3       /* TVS + CAPF/HTTPS + one closing in TIME_WAIT */
#define MEMP_NUM_TCP_PCB_LISTEN 1 /* the phone serves nothing at boot */
#define MEMP_NUM_TCP_SEG 16      /* >= TCP_SND_QUEUELEN (checked by lwIP) */
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
#define DNS_MAX_SERVERS 2
#define LWIP_AUTOIP 0
#define LWIP_IGMP 0
#define IP_REASSEMBLY 1          /* big DHCP offers/DNS answers may fragment */
#define IP_REASS_MAX_PBUFS 8
#define IP_FRAG 0                /* we never send datagrams above the MTU */

/* TCP: full-size segments; a 4-segment window is enough for a TLS
 * handshake and a config download at LAN speed, and bounds RAM. */
#define TCP_MSS 1460
#define TCP_WND (4 * TCP_MSS)
#define TCP_SND_BUF (4 * TCP_MSS)
#define TCP_LISTEN_BACKLOG 0

/* --- debugging and statistics --------------------------------------- */
#define LWIP_STATS 0             /* saves RAM; trace shows what matters */
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
