/* DHCP option 150/66 parsing and the option 55 extension (config/lwip/
 * dhcp_tftp_parse.c), on the host: the pure half of the lwIP hooks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dhcp_tftp.h"

static uint32_t be(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    const uint8_t v[4] = {a, b, c, d};
    uint32_t x;
    memcpy(&x, v, 4);
    return x;
}

static int addr(const char *s, uint32_t *out)
{
    return dhcp_tftp_parse_addr(s, strlen(s), out);
}

static void test_addr_accepts_dotted_quads(void **state)
{
    (void)state;
    uint32_t a = 0;
    assert_int_equal(addr("10.0.2.2", &a), 0);
    assert_int_equal(a, be(10, 0, 2, 2));
    assert_int_equal(addr("255.255.255.0", &a), 0);
    assert_int_equal(a, be(255, 255, 255, 0));
    assert_int_equal(addr("0.0.0.0", &a), 0);
}

static void test_addr_refuses_everything_else(void **state)
{
    (void)state;
    static const char *const bad[] = {"", "10.0.2", "10.0.2.2.", "10.0.2.2.1", "256.0.0.1",
                                      "1..2.3", " 10.0.2.2", "10.0.2.2 ", "+1.2.3.4",
                                      "tftp.example", "1.2.3.4x", "1234.1.1.1", "10.0.2.-1"};
    uint32_t a = 0xdeadbeef;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(addr(bad[i], &a), -1);
    assert_int_equal(a, 0xdeadbeef);
    /* The length bounds the text: no read past it. */
    assert_int_equal(dhcp_tftp_parse_addr("10.0.2.25", 8, &a), 0);
    assert_int_equal(a, be(10, 0, 2, 2));
}

static void test_list_of_servers(void **state)
{
    (void)state;
    const uint8_t v[] = {10, 0, 0, 1, 10, 0, 0, 2, 10, 0, 0, 3, 10, 0, 0, 4, 10, 0, 0, 5};
    uint32_t out[DHCP_TFTP_MAX_SERVERS];
    assert_int_equal(dhcp_tftp_parse_list(v, 8, out, DHCP_TFTP_MAX_SERVERS), 2);
    assert_int_equal(out[1], be(10, 0, 0, 2));
    /* More than we keep: the first four, in order. */
    assert_int_equal(dhcp_tftp_parse_list(v, sizeof v, out, DHCP_TFTP_MAX_SERVERS), 4);
    assert_int_equal(out[3], be(10, 0, 0, 4));
    /* Not a multiple of 4, or empty: refused as a whole. */
    assert_int_equal(dhcp_tftp_parse_list(v, 7, out, DHCP_TFTP_MAX_SERVERS), 0);
    assert_int_equal(dhcp_tftp_parse_list(v, 0, out, DHCP_TFTP_MAX_SERVERS), 0);
}

static void test_request_list_extended_in_place(void **state)
{
    (void)state;
    /* What lwIP writes into a DISCOVER: type, max size, option 55, host name. */
    uint8_t opt[68] = {53, 1, 1, 57, 2, 0x05, 0xDC, 55, 3, 1, 3, 28, 12, 3, 'S', 'E', 'P'};
    uint16_t len = 17;
    const uint8_t extra[] = {150, 66};
    assert_int_equal(dhcp_tftp_extend_request_list(opt, &len, sizeof opt, extra, 2), 0);
    const uint8_t want[] = {53, 1, 1, 57, 2, 0x05, 0xDC, 55, 5, 1, 3, 28, 150, 66,
                            12, 3, 'S', 'E', 'P'};
    assert_int_equal(len, sizeof want);
    assert_memory_equal(opt, want, sizeof want);
}

static void test_request_list_not_extended_without_room_or_option(void **state)
{
    (void)state;
    const uint8_t extra[] = {150, 66};
    uint8_t no55[16] = {53, 1, 1, 12, 3, 'S', 'E', 'P'};
    uint16_t len = 8;
    assert_int_equal(dhcp_tftp_extend_request_list(no55, &len, sizeof no55, extra, 2), -1);
    assert_int_equal(len, 8);
    /* Room for the codes but not for the END byte lwIP adds. */
    uint8_t tight[8] = {55, 3, 1, 3, 28};
    len = 5;
    assert_int_equal(dhcp_tftp_extend_request_list(tight, &len, 7, extra, 2), -1);
    assert_int_equal(dhcp_tftp_extend_request_list(tight, &len, 8, extra, 2), 0);
    assert_int_equal(len, 7);
    /* A length byte pointing past the filled area is not trusted. */
    uint8_t broken[16] = {53, 9, 1};
    len = 3;
    assert_int_equal(dhcp_tftp_extend_request_list(broken, &len, sizeof broken, extra, 2), -1);
    uint8_t broken55[16] = {55, 9, 1, 3};
    len = 4;
    assert_int_equal(dhcp_tftp_extend_request_list(broken55, &len, sizeof broken55, extra, 2),
                     -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr_accepts_dotted_quads),
        cmocka_unit_test(test_addr_refuses_everything_else),
        cmocka_unit_test(test_list_of_servers),
        cmocka_unit_test(test_request_list_extended_in_place),
        cmocka_unit_test(test_request_list_not_extended_without_room_or_option),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
