#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_matches_phone_log),
        cmocka_unit_test(test_long_message_is_cut_and_terminated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
