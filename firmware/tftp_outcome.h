/* A finished TFTP download in the boot flow's terms, traced the same way
 * on every board (the TFTP glue differs per board, the meaning does not). */
#ifndef FIRMWARE_TFTP_OUTCOME_H
#define FIRMWARE_TFTP_OUTCOME_H
#include <stddef.h>

#include "boot.h"
#include "tftpc/tftpc.h"

/* reason: the tftpc reason, or a negative value for a local error (socket,
 * clock). Traces "[n]:Finished --> rcvd N bytes" and the other outcomes;
 * fills `why` for a failure. */
enum fetch_status tftp_outcome(int reason, const struct tftpc_result *r, const char *name,
                               size_t len, char *why, size_t why_cap);

#endif
