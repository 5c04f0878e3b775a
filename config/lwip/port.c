/* lwIP's hooks into the board (NO_SYS=1): time, randomness, diagnostics. */
#include <stdarg.h>
#include <stdio.h>

#include "lwip/sys.h"

#include "hal/hal_board.h"
#include "hal/hal_clock.h"
#include "hal/hal_entropy.h"
#include "trace.h"

/* Exit status when the network stack's own consistency check fails. */
#define LWIP_ASSERT_EXIT 71

u32_t sys_now(void)
{
    return hal_monotonic_ms();
}

uint32_t secd_lwip_rand(void)
{
    uint8_t b[4] = {0, 0, 0, 0};
    if (hal_entropy(b, sizeof b) != 0)
        ERR("LWIP", "entropy source failed: DNS/DHCP ids are predictable");
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

void secd_lwip_diag(const char *fmt, ...)
{
    char msg[TRACE_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    DBG("LWIP", "%s", msg);
}

void secd_lwip_assert(const char *msg, const char *file, int line)
{
    ERR("LWIP", "assertion failed: %s (%s:%d)", msg, file, line);
    hal_board_exit(LWIP_ASSERT_EXIT);
}
