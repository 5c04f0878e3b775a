/* DHCP options 150/66 for the TFTP server: see dhcp_tftp.h. */
#include "dhcp_tftp.h"

#include <string.h>

#include "lwip/pbuf.h"

#define DHCP_MSG_ACK 5u

/* Options of the last DHCP message parsed, tagged with it. */
static struct {
    uint32_t xid;
    uint8_t msg_type;
    uint8_t have_list, have_name;
    uint8_t list[4 * DHCP_TFTP_MAX_SERVERS];
    uint8_t list_len;
    char name[DHCP_TFTP_NAME_MAX];
    uint8_t name_len;
} rx;

void secd_dhcp_append_options(uint8_t *options, uint16_t *len, size_t cap)
{
    static const uint8_t want[] = {DHCP_OPT_TFTP_LIST, DHCP_OPT_TFTP_NAME};
    /* No room (an unusually long host name): the server may still send
     * them unasked, which slirp and most servers do for option 66. */
    (void)dhcp_tftp_extend_request_list(options, len, cap, want, sizeof want);
}

void secd_dhcp_parse_option(uint32_t xid, uint8_t msg_type, uint8_t option, uint8_t len,
                            struct pbuf *p, uint16_t offset)
{
    if (rx.xid != xid || rx.msg_type != msg_type) {
        memset(&rx, 0, sizeof rx);
        rx.xid = xid;
        rx.msg_type = msg_type;
    }
    if (option == DHCP_OPT_TFTP_LIST) {
        rx.list_len = len < sizeof rx.list ? len : (uint8_t)sizeof rx.list;
        if (len % 4u != 0)
            rx.list_len = 0; /* malformed: ignored as a whole */
        rx.have_list = pbuf_copy_partial(p, rx.list, rx.list_len, offset) == rx.list_len;
    } else if (option == DHCP_OPT_TFTP_NAME) {
        rx.name_len = len < sizeof rx.name - 1u ? len : (uint8_t)(sizeof rx.name - 1u);
        rx.have_name = pbuf_copy_partial(p, rx.name, rx.name_len, offset) == rx.name_len;
    }
}

/* Option 66 text for the trace: printable ASCII only. */
static void copy_printable(char *dst, const char *src, size_t len)
{
    for (size_t i = 0; i < len; i++)
        dst[i] = src[i] >= 0x20 && src[i] < 0x7F ? src[i] : '?';
    dst[len] = '\0';
}

void dhcp_tftp_servers(uint32_t xid, struct dhcp_tftp_servers *out)
{
    memset(out, 0, sizeof *out);
    if (rx.xid != xid || rx.msg_type != DHCP_MSG_ACK)
        return;
    if (rx.have_name)
        copy_printable(out->name66, rx.name, rx.name_len);
    if (rx.have_list) {
        out->n = dhcp_tftp_parse_list(rx.list, rx.list_len, out->addr, DHCP_TFTP_MAX_SERVERS);
        if (out->n) {
            out->source = DHCP_TFTP_OPTION_150;
            return;
        }
    }
    /* A name may carry a trailing NUL (some servers count it). */
    size_t nlen = rx.name_len;
    while (nlen > 0 && rx.name[nlen - 1u] == '\0')
        nlen--;
    if (rx.have_name && dhcp_tftp_parse_addr(rx.name, nlen, &out->addr[0]) == 0) {
        out->n = 1;
        out->source = DHCP_TFTP_OPTION_66;
    }
}
