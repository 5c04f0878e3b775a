/* Pure parsers of dhcp_tftp.h: no lwIP, so the host unit tests build them
 * as they are. */
#include <string.h>

#include "dhcp_tftp.h"

#define DHCP_OPT_PAD 0u
#define DHCP_OPT_END 255u
#define DHCP_OPT_REQUEST_LIST 55u

size_t dhcp_tftp_parse_list(const uint8_t *v, size_t len, uint32_t *out, size_t max)
{
    if (len == 0 || len % 4u != 0)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i + 4u <= len && n < max; i += 4u)
        memcpy(&out[n++], v + i, 4); /* stays in network order */
    return n;
}

int dhcp_tftp_parse_addr(const char *s, size_t len, uint32_t *out)
{
    uint8_t b[4];
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        unsigned v = 0, digits = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9' && digits < 3) {
            v = v * 10u + (unsigned)(s[i++] - '0');
            digits++;
        }
        if (digits == 0 || v > 255u)
            return -1;
        b[part] = (uint8_t)v;
        if (part < 3 && (i >= len || s[i++] != '.'))
            return -1;
    }
    if (i != len)
        return -1;
    memcpy(out, b, 4);
    return 0;
}

int dhcp_tftp_extend_request_list(uint8_t *options, uint16_t *len, size_t cap,
                                  const uint8_t *extra, size_t n_extra)
{
    size_t i = 0;
    while (i < *len && options[i] != DHCP_OPT_REQUEST_LIST) {
        if (options[i] == DHCP_OPT_PAD) {
            i++;
            continue;
        }
        if (options[i] == DHCP_OPT_END || i + 1u >= *len)
            return -1;
        i += 2u + options[i + 1u];
    }
    if (i + 1u >= *len || (size_t)*len + n_extra + 1u > cap ||
        (size_t)options[i + 1u] + n_extra > 255u)
        return -1;
    size_t at = i + 2u + options[i + 1u]; /* end of option 55's list */
    if (at > *len)
        return -1;
    memmove(options + at + n_extra, options + at, *len - at);
    memcpy(options + at, extra, n_extra);
    options[i + 1u] = (uint8_t)(options[i + 1u] + n_extra);
    *len = (uint16_t)(*len + n_extra);
    return 0;
}
