/* libFuzzer target: drives tftpc with datagrams, ticks and ICMP errors taken
 * from the fuzz input, and checks its promises after every event:
 * file bytes come in order without gaps and never beyond the size limit,
 * datagrams fit 512 bytes (or are ACK/ERROR), go to a configured server,
 * and a download ends at most once. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tftpc/tftpc.h"

struct reader {
    const uint8_t *p;
    size_t n;
};

static uint8_t u8(struct reader *r)
{
    uint8_t v;
    if (r->n == 0)
        return 0;
    v = *r->p++;
    r->n--;
    return v;
}

static uint16_t u16(struct reader *r)
{
    uint16_t hi = u8(r);
    return (uint16_t)((hi << 8) | u8(r));
}

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            abort();                                                                               \
    } while (0)

struct watch {
    uint32_t next_off;
    int ended;
};

static void drain(struct tftpc *c, struct watch *w)
{
    struct tftpc_output out;
    enum tftpc_action a;
    int guard = 0;
    while ((a = tftpc_poll(c, &out)) != TFTPC_IDLE) {
        CHECK(++guard < 16);
        CHECK(!w->ended);
        switch (a) {
        case TFTPC_ACT_SEND:
            CHECK(out.server < c->cfg.n_servers);
            CHECK(out.len >= 4 && out.len <= TFTPC_MAX_REQUEST);
            CHECK(out.kind == TFTPC_PKT_RRQ || out.port != TFTPC_PORT_REQUEST ||
                  out.kind == TFTPC_PKT_ERROR);
            break;
        case TFTPC_ACT_RESTART: w->next_off = 0; break;
        case TFTPC_ACT_DATA:
            CHECK(out.offset == w->next_off);
            CHECK(out.len > 0 && out.len <= c->blksize);
            w->next_off += (uint32_t)out.len;
            CHECK(w->next_off <= c->cfg.max_file_size);
            break;
        case TFTPC_ACT_DONE:
            CHECK(out.offset == w->next_off);
            w->ended = 1;
            break;
        case TFTPC_ACT_FAILED:
            CHECK(out.reason != TFTPC_OK && tftpc_reason_str(out.reason) != NULL);
            w->ended = 1;
            break;
        case TFTPC_IDLE: break;
        }
    }
}

static uint16_t pick_port(struct tftpc *c, struct reader *r)
{
    uint8_t sel = u8(r);
    if (sel < 40)
        return TFTPC_PORT_REQUEST;
    if (sel < 160)
        return c->tid_locked ? c->tid : 40000;
    if (sel < 220)
        return 40000 + (sel & 3);
    return u16(r);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* DATA near the expected block, of a length near the block size. */
static size_t make_data(struct tftpc *c, struct reader *r, uint8_t *pkt)
{
    uint16_t blk = (uint16_t)(c->block + 1u + (uint32_t)(int8_t)(u8(r) % 5) - 2u);
    uint8_t lsel = u8(r);
    size_t len = lsel < 128 ? c->blksize : (size_t)(lsel % 40) + (lsel & 1 ? c->blksize - 20 : 0);
    if (len > 1500)
        len = 1500;
    put16(pkt, TFTP_DATA);
    put16(pkt + 2, blk);
    memset(pkt + 4, 0xA5, len);
    return 4 + len;
}

static const char *const opt_words[] = {
    "blksize", "tsize", "timeout", "BLKSIZE", "multicast", "", "8", "512", "1428", "1429",
    "0", "3", "550001", "550002", "99999999999999999999", "x1", "65464",
};

static size_t make_oack(struct reader *r, uint8_t *pkt, size_t cap)
{
    size_t at = 2, i, k = u8(r) % 7;
    put16(pkt, TFTP_OACK);
    for (i = 0; i < k; i++) {
        const char *w = opt_words[u8(r) % (sizeof(opt_words) / sizeof(opt_words[0]))];
        size_t n = strlen(w) + (u8(r) < 240 ? 1 : 0); /* sometimes no NUL */
        if (at + n > cap)
            break;
        /* NOLINTNEXTLINE(bugprone-not-null-terminated-result): a word without NUL is a fuzzed case */
        memcpy(pkt + at, w, n);
        at += n;
    }
    return at;
}

static size_t make_error(struct reader *r, uint8_t *pkt)
{
    size_t n = u8(r) % 8;
    put16(pkt, TFTP_ERROR);
    put16(pkt + 2, (uint16_t)(u8(r) % 10));
    memset(pkt + 4, 'e', n);
    pkt[4 + n] = 0;
    return 4 + n + (u8(r) & 1);
}

static size_t make_raw(struct reader *r, uint8_t *pkt, size_t cap)
{
    size_t n = u8(r), i;
    if (n > cap)
        n = cap;
    for (i = 0; i < n; i++)
        pkt[i] = u8(r);
    return n;
}

static void config_from(struct reader *r, struct tftpc_config *cfg)
{
    static const uint16_t sizes[] = {0, 8, 512, 1024, 1428, 65464, 3, 65535};
    tftpc_config_default(cfg, (uint8_t)(u8(r) % 6));
    cfg->blksize = sizes[u8(r) % 8];
    cfg->ask_tsize = u8(r) & 1;
    cfg->timeout_s = (uint8_t)(u8(r) % 4);
    cfg->max_retries = (uint8_t)(u8(r) % 4);
    cfg->initial_timeout_ms = u8(r);
    cfg->max_timeout_ms = (uint32_t)u8(r) * 16u;
    cfg->max_file_size = (uint32_t)u16(r) * 4u;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tftpc c;
    static uint8_t pkt[1600];
    struct reader r = {data, size};
    struct tftpc_config cfg;
    struct watch w = {0, 0};
    uint32_t now = (uint32_t)u16(&r) << 16;
    int steps = 0;

    config_from(&r, &cfg);
    tftpc_init(&c, &cfg);
    if (tftpc_start(&c, "SEP0011215A1AE3.cnf.xml", now) != 0)
        return 0;
    drain(&c, &w);
    while (r.n > 0 && steps++ < 4096) {
        uint8_t op = u8(&r) % 8;
        uint8_t server = (uint8_t)(u8(&r) % 5);
        size_t n = 0;
        switch (op) {
        case 0: n = make_raw(&r, pkt, sizeof(pkt)); break;
        case 1:
        case 2: n = make_data(&c, &r, pkt); break;
        case 3: n = make_oack(&r, pkt, sizeof(pkt)); break;
        case 4: n = make_error(&r, pkt); break;
        case 5: now += (uint32_t)u16(&r); tftpc_on_tick(&c, now); break;
        case 6: tftpc_on_unreachable(&c, server, pick_port(&c, &r), now); break;
        case 7:
            if (w.ended && tftpc_start(&c, "ITLFile.tlv", now) == 0)
                w.ended = 0, w.next_off = 0;
            break;
        }
        if (op <= 4)
            tftpc_on_datagram(&c, server, pick_port(&c, &r), pkt, n, now);
        drain(&c, &w);
        CHECK(w.ended == tftpc_finished(&c));
        /* an unfinished download always has a deadline: it cannot hang */
        CHECK(w.ended || tftpc_wait_ms(&c, now) >= 0);
        CHECK(tftpc_result(&c)->size <= c.cfg.max_file_size);
    }
    return 0;
}
