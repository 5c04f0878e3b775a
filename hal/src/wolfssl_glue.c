/* Hooks wolfSSL calls (declared in config/wolfssl/user_settings.h):
 * DRBG seed from the board's entropy source, time from its wall clock. */
#define _POSIX_C_SOURCE 200809L
#include <time.h>

#include "hal/hal_clock.h"
#include "hal/hal_entropy.h"

int secd_wolfssl_seed(unsigned char *output, unsigned int sz)
{
    return hal_entropy(output, sz) == 0 ? 0 : -1;
}

time_t secd_wolfssl_time(time_t *t)
{
    time_t now = (time_t)(hal_wall_us() / 1000000u);
    if (t)
        *t = now;
    return now;
}

struct tm *secd_wolfssl_gmtime(const time_t *t, struct tm *out)
{
    return gmtime_r(t, out);
}
