/* DHCP options 150 and 66 (the phone's TFTP server) for lwIP 2.1.3.
 *
 * lwIP's DHCP client neither asks for nor keeps these options. Its
 * supported extension points do both (lwipopts.h wires them):
 *   LWIP_HOOK_DHCP_APPEND_OPTIONS -> secd_dhcp_append_options(): adds 150
 *     and 66 to the parameter request list (option 55) lwIP already wrote,
 *     in place, as a phone does;
 *   LWIP_HOOK_DHCP_PARSE_OPTION -> secd_dhcp_parse_option(): keeps the
 *     values of options lwIP does not decode itself, tagged with the
 *     message (xid and type) they came in.
 * After the lease is bound, dhcp_tftp_servers() gives the server list of
 * the ACK: option 150 (Cisco, up to 4 IPv4 addresses) wins over option 66
 * (a server *name*: only a dotted-quad address is taken, as no resolver
 * runs before the boot).
 *
 * This header is lwIP's LWIP_HOOK_FILENAME, included by several lwIP
 * files: it declares only what the hooks need. */
#ifndef SECD_DHCP_TFTP_H
#define SECD_DHCP_TFTP_H
#include <stddef.h>
#include <stdint.h>

#define DHCP_OPT_TFTP_NAME 66u
#define DHCP_OPT_TFTP_LIST 150u
#define DHCP_TFTP_MAX_SERVERS 4u
#define DHCP_TFTP_NAME_MAX 64u

enum dhcp_tftp_source { DHCP_TFTP_NONE, DHCP_TFTP_OPTION_150, DHCP_TFTP_OPTION_66 };

struct dhcp_tftp_servers {
    enum dhcp_tftp_source source;
    size_t n;
    uint32_t addr[DHCP_TFTP_MAX_SERVERS]; /* network byte order, like ip4_addr_t */
    char name66[DHCP_TFTP_NAME_MAX];      /* option 66 as received (printable), "" if none */
};

struct pbuf;

/* lwIP hooks (see above). options/len: the message's options area and how
 * much of it lwIP filled. */
void secd_dhcp_append_options(uint8_t *options, uint16_t *len, size_t cap);
void secd_dhcp_parse_option(uint32_t xid, uint8_t msg_type, uint8_t option, uint8_t len,
                            struct pbuf *p, uint16_t offset);

/* The servers of the DHCP ACK with transaction id `xid` (the bound lease:
 * netif_dhcp_data(netif)->xid). source NONE when it carried neither option
 * or neither held an address; name66 still tells what option 66 said. */
void dhcp_tftp_servers(uint32_t xid, struct dhcp_tftp_servers *out);

/* Pure parsers (unit-tested on the host). Option 150: 4-byte addresses,
 * a length not a multiple of 4 is refused (0 servers). Returns the count
 * kept (at most max). */
size_t dhcp_tftp_parse_list(const uint8_t *v, size_t len, uint32_t *out, size_t max);
/* Option 66 / configured text: strict dotted quad "a.b.c.d" (0..255, no
 * leading '+', spaces or extra dots). Returns 0 and the address (network
 * order), or -1. */
int dhcp_tftp_parse_addr(const char *s, size_t len, uint32_t *out);
/* Inserts `extra` option codes into option 55 of a filled options area.
 * Returns 0, or -1 (no option 55, or no room for them and an END byte). */
int dhcp_tftp_extend_request_list(uint8_t *options, uint16_t *len, size_t cap,
                                  const uint8_t *extra, size_t n_extra);

#endif
