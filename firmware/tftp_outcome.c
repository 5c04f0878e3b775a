#include "tftp_outcome.h"

#include <stdio.h>

#include "trace.h"

enum fetch_status tftp_outcome(int reason, const struct tftpc_result *r, const char *name,
                               size_t len, char *why, size_t why_cap)
{
    unsigned req = (unsigned)r->request_no;
    switch (reason) {
    case TFTPC_OK:
        NOT("TFTP", "[%u]:Finished --> rcvd %lu bytes", req, (unsigned long)len);
        return FETCH_OK;
    case TFTPC_NOT_FOUND:
        NOT("TFTP", "[%u]:File not found: %s", req, name);
        return FETCH_NOT_FOUND;
    case TFTPC_TOO_LARGE:
        ERR("TFTP", "[%u]:%s exceeds max size = %u", req, name, TFTPC_DEFAULT_MAX_FILE_SIZE);
        return FETCH_TOO_LARGE;
    default:
        snprintf(why, why_cap, "TFTP download of %s failed: %s%s%s", name,
                 reason < 0 ? "local error" : tftpc_reason_str((enum tftpc_reason)reason),
                 r->error_msg[0] ? " - " : "", r->error_msg);
        ERR("TFTP", "[%u]:%s", req, why);
        return FETCH_FAILED;
    }
}
