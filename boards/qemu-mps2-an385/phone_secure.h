/* TVS, CAPF and the phone's certificates on the QEMU board, wired as
 * boards/host/secd_phone.c wires them, over lwIP TCP (tcp_lwip.h):
 *
 *  - TVS client (firmware/tvs_client.h): the trust store's hook for
 *    unknown signers (certificate-regeneration recovery), the server list
 *    of the last accepted config (kept in flash), console `verify https
 *    HOST[:PORT]` and `show tvs`;
 *  - certificate store: the MIC from the factory region of the flash
 *    image (mic_flash.h), the LSC in the storage layout; the certificate
 *    in use goes to the boot flow (encrypted configs);
 *  - CAPF client: `capf start [HOST[:PORT]]`, `capf auth-string DIGITS`,
 *    `capf status`, `show cert`, `erase lsc`;
 *  - `bench https HOST[:PORT]`: one HTTPS decision (CTL, ITL, TVS cache,
 *    TVS) measured in busy virtual time, for the figures.
 *
 * One instance (static state): the phone has one of each. */
#ifndef QEMU_PHONE_SECURE_H
#define QEMU_PHONE_SECURE_H

#include "boot.h"
#include "config.h"
#include "console.h"
#include "hal/storage.h"
#include "tcp_lwip.h"
#include "trust_store.h"

/* Before the trust lists are loaded: sets the TVS hook, reads the MIC and
 * the LSC. service() is one round of network work for the blocking TLS
 * calls (see tcp_lwip.h). */
void phone_secure_init(struct trust_store *ts, const struct storage *st,
                       const struct phone_config *cfg, const char *model, const char *mac,
                       tcp_lwip_service_fn service, void *service_ctx);
/* The certificate in use (LSC, else MIC) for the boot flow. */
void phone_secure_boot_params(struct boot_params *bp);
/* A boot that stopped for the CAPF authentication string: 1 once the
 * string let the session install the LSC (ask for the config again), -1
 * while the session still waits for it, 0 when it ended otherwise. */
int phone_secure_enrolment_resumed(void);
/* After a boot: TVS takes the accepted config's servers. */
void phone_secure_boot_done(const struct phone_config *cfg, int accepted);
/* Reloads the LSC (console reboot). */
void phone_secure_reload(const struct storage *st);
/* Registers the TVS, CAPF and bench console commands. */
void phone_secure_console(struct console *con);
/* Idle work: one bounded slice of the next LSC key pair's pre-generation
 * (at most one modexp, capf_client_idle). 1 while a generation is under
 * way (the loop then does not sleep), 0 when there is nothing to do. */
int phone_secure_pregen(void);

#endif
