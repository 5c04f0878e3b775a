/* libFuzzer target for the HTTP response parser (httpc).
 *
 * Input: a flag byte (size limit, linger), a split byte, then the bytes the
 * server sends. The same response is fed twice: in one piece and in pieces
 * of the split size, 1 ms apart; both end with a close or a reset (flag
 * byte) unless finished before. Checked after every event:
 *   - body bytes come in order, without gaps, never beyond the size limit;
 *   - nothing follows DONE/FAILED, CLOSE comes first and exactly once;
 *   - DONE only for a 200 whose framing was complete (Content-Length met);
 *   - the header stays within its byte limit;
 *   - an unfinished download always has a deadline;
 *   - the outcome and the body do not depend on how the bytes were split. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "httpc/httpc.h"

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            abort();                                                                               \
    } while (0)

struct run {
    struct httpc c;
    uint32_t now;
    uint8_t body[HTTPC_DEFAULT_MAX_BODY];
    uint32_t len;
    int closes, ended;
    enum httpc_reason reason;
};

static struct run A, B;

static void drain(struct run *r)
{
    struct httpc_output out;
    enum httpc_action a;
    int guard = 0;
    while ((a = httpc_poll(&r->c, &out)) != HTTPC_IDLE) {
        CHECK(++guard < 1 << 20);
        CHECK(!r->ended);
        switch (a) {
        case HTTPC_ACT_CONNECT:
        case HTTPC_ACT_SEND: break;
        case HTTPC_ACT_DATA:
            CHECK(out.offset == r->len && out.len > 0);
            CHECK(r->len + out.len <= r->c.cfg.max_body);
            memcpy(r->body + r->len, out.data, out.len);
            r->len += (uint32_t)out.len;
            break;
        case HTTPC_ACT_CLOSE: CHECK(++r->closes == 1); break;
        case HTTPC_ACT_DONE:
        case HTTPC_ACT_FAILED:
            CHECK(r->closes == 1);
            CHECK((a == HTTPC_ACT_DONE) == (out.reason == HTTPC_OK));
            CHECK(out.reason == HTTPC_OK || httpc_reason_str(out.reason)[0] != '?');
            r->ended = 1;
            r->reason = out.reason;
            break;
        case HTTPC_IDLE: break;
        }
    }
    CHECK(httpc_result(&r->c)->header_bytes <= HTTPC_MAX_HEADER_BYTES);
    CHECK(r->ended == httpc_finished(&r->c));
    CHECK(r->ended || httpc_wait_ms(&r->c, r->now) >= 0);
}

static void begin(struct run *r, const struct httpc_config *cfg)
{
    r->now = 0xFFFFF000u; /* the clock wraps during long runs */
    r->len = 0;
    r->closes = r->ended = 0;
    httpc_init(&r->c, cfg);
    CHECK(httpc_start(&r->c, "10.48.46.4", 6970, "ITLSEPA45630BBFA40.tlv", r->now) == 0);
    drain(r);
    httpc_on_connected(&r->c, r->now);
    drain(r);
}

static void check_done(const struct run *r)
{
    const struct httpc_result *res = httpc_result(&r->c);
    if (r->reason != HTTPC_OK)
        return;
    CHECK(res->status == 200);
    CHECK(res->size == r->len);
    CHECK(!res->have_length || res->content_length == r->len);
    CHECK(res->have_length != res->chunked);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct httpc_config cfg;
    size_t split, off;
    int reset;
    if (size < 2)
        return 0;
    httpc_config_default(&cfg);
    cfg.max_body = (data[0] & 1) ? 64 : HTTPC_DEFAULT_MAX_BODY;
    cfg.linger_ms = (data[0] & 2) ? 0 : 100;
    reset = (data[0] & 4) != 0;
    split = (size_t)data[1] % 61u + 1u;
    data += 2;
    size -= 2;

    begin(&A, &cfg);
    httpc_on_data(&A.c, data, size, A.now);
    drain(&A);
    if (!A.ended) {
        httpc_on_closed(&A.c, reset, A.now);
        drain(&A);
    }
    CHECK(A.ended);
    check_done(&A);

    begin(&B, &cfg);
    for (off = 0; off < size && !B.ended; off += split) {
        size_t n = size - off < split ? size - off : split;
        B.now += 1;
        httpc_on_tick(&B.c, B.now);
        drain(&B);
        httpc_on_data(&B.c, data + off, n, B.now);
        drain(&B);
    }
    if (!B.ended) {
        httpc_on_closed(&B.c, reset, B.now);
        drain(&B);
    }
    CHECK(B.ended);
    check_done(&B);

    /* Same bytes, same answer, however they were cut. */
    CHECK(A.reason == B.reason);
    CHECK(httpc_result(&A.c)->status == httpc_result(&B.c)->status);
    if (A.reason == HTTPC_OK)
        CHECK(A.len == B.len && memcmp(A.body, B.body, A.len) == 0);
    return 0;
}
