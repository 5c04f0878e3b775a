#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "trace.h"

static void test_format_matches_phone_log(void **state)
{
    (void)state;
    char line[128];
    /* 09:13:17.561856 on some day */
    unsigned long long us = (1700000000ull / 86400ull * 86400ull + 9ull * 3600 + 13ull * 60 + 17) * 1000000ull + 561856ull;
    size_t n = trace_format(line, sizeof line, 837, TRACE_NOT, us, "SECD",
                            "tlRequestFile: Request CTLSEP0011215A1AE3.tlv");
    assert_string_equal(line, "837: NOT 09:13:17.561856 SECD: tlRequestFile: Request CTLSEP0011215A1AE3.tlv\n");
    assert_int_equal(n, strlen(line));
    trace_format(line, sizeof line, 1, TRACE_ERR, 0, "TVS", "x");
    assert_string_equal(line, "1: ERR 00:00:00.000000 TVS: x\n");
}

static void test_long_message_is_cut_and_terminated(void **state)
{
    (void)state;
    char line[40];
    char msg[200];
    memset(msg, 'a', sizeof msg - 1);
    msg[sizeof msg - 1] = 0;
    size_t n = trace_format(line, sizeof line, 5, TRACE_WRN, 0, "SECD", msg);
    assert_int_equal(n, sizeof line - 1);
    assert_int_equal(line[n - 1], '\n');
    assert_int_equal(strncmp(line, "5: WRN 00:00:00.000000 SECD: aaa", 32), 0);
}

/* trace_format() builds the line by hand (cheap on the Cortex-M3): it must
 * give the bytes of the printf format the phone's log format is written in,
 * cut the way snprintf cuts, for any sequence number, time and buffer. */
static size_t reference(char *buf, size_t cap, unsigned seq, const char *lvl,
                        unsigned long long us, const char *module, const char *msg)
{
    unsigned long long secs = us / 1000000u;
    unsigned day = (unsigned)(secs % 86400u);
    int n = snprintf(buf, cap, "%u: %s %02u:%02u:%02u.%06u %s: %s\n", seq, lvl, day / 3600u,
                     (day / 60u) % 60u, day % 60u, (unsigned)(us % 1000000u), module, msg);
    if ((size_t)n >= cap) {
        buf[cap - 2] = '\n';
        buf[cap - 1] = '\0';
        return cap - 1;
    }
    return (size_t)n;
}

static void test_format_same_bytes_as_printf(void **state)
{
    (void)state;
    static const unsigned long long times[] = {
        0, 999999, 1000000, 86399999999ull, 86400000000ull,
        1795000000ull * 1000000u + 123456u,  /* 2026 */
        4294967295ull * 1000000u + 999999u,  /* last second in 32 bits */
        4294967296ull * 1000000u + 1u,       /* 2106: 64-bit seconds */
        18446744073709551615ull};
    static const unsigned seqs[] = {0, 1, 9, 10, 837, 4294967295u};
    static const char *const names[] = {"NOT", "WRN", "ERR", "DBG"};
    for (size_t t = 0; t < sizeof times / sizeof times[0]; t++)
        for (size_t s = 0; s < sizeof seqs / sizeof seqs[0]; s++)
            for (size_t cap = 2; cap <= 80; cap++) {
                char want[80], got[80];
                enum trace_level lvl = (enum trace_level)((t + s) % 4);
                size_t wn = reference(want, cap, seqs[s], names[lvl], times[t], "TVS",
                                      "lookupAuthCertTvsCacheEntry: hit");
                size_t gn = trace_format(got, cap, seqs[s], lvl, times[t], "TVS",
                                         "lookupAuthCertTvsCacheEntry: hit");
                assert_int_equal(gn, wn);
                assert_string_equal(got, want);
            }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_matches_phone_log),
        cmocka_unit_test(test_long_message_is_cut_and_terminated),
        cmocka_unit_test(test_format_same_bytes_as_printf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
