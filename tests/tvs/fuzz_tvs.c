/* libFuzzer target: the TVS response framing and parser (secd/tvs.h).
 * Input: the first 4 bytes are the session id the phone expects, the rest
 * is what the server sent. Invariants: framing and parsing agree, a parsed
 * response echoes the session id, and never reads past the message. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "secd/tvs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    uint32_t session = ((uint32_t)data[0] << 24) | ((uint32_t)data[1] << 16) |
                       ((uint32_t)data[2] << 8) | data[3];
    data += 4;
    size -= 4;
    /* An exact-size heap copy so ASan catches any over-read. */
    uint8_t *msg = malloc(size ? size : 1);
    if (!msg)
        return 0;
    memcpy(msg, data, size);
    size_t need = 0;
    enum secd_tvs_err framing = secd_tvs_message_len(msg, size, &need);
    struct secd_tvs_response r;
    enum secd_tvs_err e = secd_tvs_parse_response(msg, size, session, &r);
    if (e == SECD_TVS_OK) {
        if (framing != SECD_TVS_OK || need != size || r.session_id != session ||
            need > SECD_TVS_MAX_RESPONSE)
            abort();
        if (r.n_roles == 0 && r.roles != 0)
            abort();
    }
    if (framing == SECD_TVS_NEED_MORE && e == SECD_TVS_OK)
        abort();
    free(msg);
    return 0;
}
