/* libFuzzer target: the DHCP option parsers of the QEMU phone
 * (config/lwip/dhcp_tftp_parse.c): option 150 (server list) and option 66
 * (server name, dotted quad only) as a DHCP server may send them, and the
 * in-place extension of option 55 over an options area of lwIP's size.
 *
 * Input: byte 0 picks the option-55 edit's room; the rest is the option
 * value (and the options area). Invariants: option 150 keeps len/4 servers
 * (at most 4), byte for byte, only when len is a non-zero multiple of 4,
 * and never writes past `max`; an accepted dotted quad is at most 15
 * characters and its canonical text reparses to the same address; the
 * option-55 extension either grows the area by exactly the extra codes
 * within cap (option 55 still there) or leaves it untouched. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dhcp_tftp.h"

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            abort();                                                                               \
    } while (0)

#define OPTIONS_CAP 312u /* lwIP 2.1.3 DHCP_OPTIONS_LEN */

static void check_list(const uint8_t *v, size_t len)
{
    uint32_t out[DHCP_TFTP_MAX_SERVERS + 1];
    out[DHCP_TFTP_MAX_SERVERS] = 0xDEADBEEFu;
    size_t n = dhcp_tftp_parse_list(v, len, out, DHCP_TFTP_MAX_SERVERS);
    size_t want = len && len % 4u == 0 ? len / 4u : 0;
    CHECK(n == (want < DHCP_TFTP_MAX_SERVERS ? want : DHCP_TFTP_MAX_SERVERS));
    CHECK(out[DHCP_TFTP_MAX_SERVERS] == 0xDEADBEEFu);
    for (size_t i = 0; i < n; i++)
        CHECK(memcmp(&out[i], v + 4u * i, 4) == 0);
}

static void check_addr(const uint8_t *v, size_t len)
{
    uint32_t a, b;
    char *s = malloc(len ? len : 1); /* exact size: ASan sees any over-read */
    memcpy(s, v, len);
    if (dhcp_tftp_parse_addr(s, len, &a) == 0) {
        const uint8_t *q = (const uint8_t *)&a;
        char text[16];
        int n = snprintf(text, sizeof text, "%u.%u.%u.%u", q[0], q[1], q[2], q[3]);
        CHECK(n > 0 && (size_t)n <= len && len <= 15);
        CHECK(dhcp_tftp_parse_addr(text, (size_t)n, &b) == 0 && a == b);
    }
    free(s);
}

static void check_extend(uint8_t room, const uint8_t *v, size_t len)
{
    static const uint8_t extra[2] = {DHCP_OPT_TFTP_LIST, DHCP_OPT_TFTP_NAME};
    size_t cap = len + room % 8u;
    if (cap > OPTIONS_CAP || len > UINT16_MAX)
        return;
    uint8_t *opt = malloc(cap ? cap : 1);
    memcpy(opt, v, len);
    uint16_t n = (uint16_t)len;
    if (dhcp_tftp_extend_request_list(opt, &n, cap, extra, sizeof extra) == 0) {
        CHECK(n == len + sizeof extra && n <= cap);
        /* option 55 grew by the extra codes, at the end of its list */
        const uint8_t *o55 = memchr(opt, 55, n);
        CHECK(o55 != NULL);
    } else {
        CHECK(n == len && memcmp(opt, v, len) == 0);
    }
    free(opt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    check_list(data + 1, size - 1);
    check_addr(data + 1, size - 1);
    check_extend(data[0], data + 1, size - 1);
    return 0;
}
