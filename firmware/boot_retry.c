#include "boot_retry.h"

#include "trace.h"

void boot_retry_init(struct boot_retry *r, uint32_t first_s)
{
    r->first_s = first_s < BOOT_RETRY_MAX_S ? first_s : BOOT_RETRY_MAX_S;
    r->failures = 0;
    r->armed = 0;
    r->due_ms = 0;
}

/* first_s doubled per earlier failure, capped, then cut by up to 1/4. */
static uint32_t backoff_s(const struct boot_retry *r, uint32_t random)
{
    uint32_t d = r->first_s;
    for (uint32_t i = 1; i < r->failures && d < BOOT_RETRY_MAX_S; i++)
        d *= 2;
    if (d > BOOT_RETRY_MAX_S)
        d = BOOT_RETRY_MAX_S;
    uint32_t cut = d / 4;
    return d - (cut ? random % (cut + 1) : 0);
}

uint32_t boot_retry_after_boot(struct boot_retry *r, int accepted, const struct boot *b,
                               uint32_t now_ms, uint32_t random)
{
    r->armed = 0;
    if (accepted) {
        if (r->failures > 0)
            NOT("SECD", "config accepted after %lu failed boot%s", (unsigned long)r->failures,
                r->failures == 1 ? "" : "s");
        r->failures = 0;
        return 0;
    }
    r->failures++;
    if (r->first_s == 0 || (b && b->waiting_auth_string))
        return 0; /* off, or the user's turn */
    uint32_t asked = b ? b->server_retry_s : 0;
    uint32_t delay;
    if (asked > 0) {
        delay = asked < BOOT_RETRY_SERVER_MAX_S ? asked : BOOT_RETRY_SERVER_MAX_S;
        NOT("SECD", "boot retry in %lu s, as the CAPF server asked (failed boots: %lu)",
            (unsigned long)delay, (unsigned long)r->failures);
    } else {
        delay = backoff_s(r, random);
        NOT("SECD", "boot retry in %lu s (failed boots: %lu)", (unsigned long)delay,
            (unsigned long)r->failures);
    }
    r->armed = 1;
    r->due_ms = now_ms + delay * 1000u;
    return delay;
}

int boot_retry_due(struct boot_retry *r, uint32_t now_ms)
{
    if (!r->armed || (int32_t)(now_ms - r->due_ms) < 0)
        return 0;
    r->armed = 0;
    NOT("SECD", "retrying the boot (failed boots: %lu)", (unsigned long)r->failures);
    return 1;
}

uint32_t boot_retry_wait_ms(const struct boot_retry *r, uint32_t now_ms)
{
    if (!r->armed)
        return UINT32_MAX;
    int32_t left = (int32_t)(r->due_ms - now_ms);
    return left > 0 ? (uint32_t)left : 0;
}

void boot_retry_cancel(struct boot_retry *r)
{
    r->armed = 0;
}
