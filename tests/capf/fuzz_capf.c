/* libFuzzer target: the CAPF session fed with arbitrary server bytes in
 * arbitrary splits, every action answered (no key generation: a fixed
 * SubjectPublicKeyInfo stands in for the generated key).
 * Invariants: no crash / sanitizer report; everything the phone sends
 * parses back as one CAPF message carrying the server's session id; DONE
 * is reported exactly once and nothing is sent after it; STORE is only
 * asked for a certificate whose public key is the one the phone sent. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "secd/capf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Any SubjectPublicKeyInfo-shaped bytes: the session only compares them. */
static const uint8_t fake_spki[] = {0x30, 0x0b, 0x30, 0x06, 0x06, 0x04, 0x2a, 0x03,
                                    0x04, 0x05, 0x03, 0x01, 0x00};

static void check_sent(const struct capf_session *s, const struct capf_output *out)
{
    struct capf_msg m;
    if (capf_parse_msg(out->data, out->len, &m) != CAPF_OK || m.h.command != out->command ||
        m.h.session_id != s->session_id)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct capf_session s;
    struct capf_session_config cfg;
    memset(&cfg, 0, sizeof cfg);
    strcpy(cfg.device_name, "SEP001E7A4C11A1");
    capf_session_init(&s, &cfg);
    size_t pos = 0;
    int done = 0;
    for (int steps = 0; steps < 10000; steps++) {
        struct capf_output out;
        enum capf_action a = capf_session_poll(&s, &out);
        if (done && a != CAPF_ACT_WAIT)
            abort();
        switch (a) {
        case CAPF_ACT_SEND:
            check_sent(&s, &out);
            continue;
        case CAPF_ACT_NEED_AUTH_STRING:
            capf_session_set_auth_string(&s, "123456");
            continue;
        case CAPF_ACT_GENERATE_KEY:
            if (out.key.bits & 1)
                capf_session_generating(&s);
            capf_session_key_ready(&s, fake_spki, sizeof fake_spki);
            continue;
        case CAPF_ACT_STORE_CERT: {
            const uint8_t *spki;
            size_t n;
            if (capf_cert_spki(out.data, out.len, &spki, &n) != CAPF_OK || n != sizeof fake_spki ||
                memcmp(spki, fake_spki, n) != 0)
                abort();
            capf_session_store_done(&s, 1);
            continue;
        }
        case CAPF_ACT_DELETE_CERT:
            capf_session_delete_done(&s, (int)(size & 1));
            continue;
        case CAPF_ACT_DONE:
            done = 1;
            continue;
        case CAPF_ACT_WAIT:
            break;
        }
        if (pos >= size) {
            if (done)
                return 0;
            capf_session_on_closed(&s);
            continue;
        }
        /* the first byte of each chunk says how long the chunk is */
        size_t n = 1 + data[pos++] % 64;
        if (n > size - pos)
            n = size - pos;
        pos += capf_session_on_bytes(&s, data + pos, n);
    }
    return 0;
}
