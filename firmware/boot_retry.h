/* When a failed boot is tried again. A phone that could not get a config
 * it accepts does not stay down until someone power-cycles it: the server
 * may be restarting, busy (CAPF "retry later"), or about to be fixed by the
 * administrator. The board asks this module when to boot again and does
 * it; nothing is installed by a retry that a first boot would not install.
 *
 * Delays: the one the CAPF server asked for (honoured up to
 * BOOT_RETRY_SERVER_MAX_S), else exponential backoff from the board's
 * first delay (default BOOT_RETRY_FIRST_S), doubling up to
 * BOOT_RETRY_MAX_S, each cut by up to a quarter at random so that the
 * phones of a site that lost its server do not all come back in the same
 * second. A boot that waits for the user (CAPF authentication string) is
 * not retried: typing the string resumes it. Pure logic: time and the
 * random value come from the board. */
#ifndef FIRMWARE_BOOT_RETRY_H
#define FIRMWARE_BOOT_RETRY_H
#include <stdint.h>

#include "boot.h"

#define BOOT_RETRY_FIRST_S 30
#define BOOT_RETRY_MAX_S 600
#define BOOT_RETRY_SERVER_MAX_S 3600

struct boot_retry {
    uint32_t first_s;   /* the first backoff delay; 0: failed boots are not retried */
    uint32_t failures;  /* failed boots in a row */
    int armed;
    uint32_t due_ms;    /* when armed: the board's monotonic time to boot again */
};

void boot_retry_init(struct boot_retry *r, uint32_t first_s);
/* After a boot ended: an accepted config clears the count; a failure arms
 * the timer (traced with the delay) unless the boot waits for the user.
 * `b` is the boot flow's state, NULL when the boot failed before the flow
 * ran (no network, no TFTP server). Returns the delay in seconds, 0 when
 * not armed. */
uint32_t boot_retry_after_boot(struct boot_retry *r, int accepted, const struct boot *b,
                               uint32_t now_ms, uint32_t random);
/* 1 when the armed delay has passed: the timer is disarmed, the retry is
 * traced, and the board boots again. */
int boot_retry_due(struct boot_retry *r, uint32_t now_ms);
/* Milliseconds until the retry is due (0: due now), UINT32_MAX when none
 * is armed: how long a board may sleep waiting for console input. */
uint32_t boot_retry_wait_ms(const struct boot_retry *r, uint32_t now_ms);
/* A boot started for another reason (console `reboot`, the authentication
 * string typed): the pending retry is dropped, the failure count kept. */
void boot_retry_cancel(struct boot_retry *r);
#endif
