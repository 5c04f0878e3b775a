/* Unit tests for the sans-I/O TFTP client: crafted packets, a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tftpc/tftpc.h"

#define MAX_SENT 64
#define FILE_CAP 700000u
#define TID 40001u

struct sent {
    uint8_t server;
    uint16_t port;
    uint8_t kind;
    uint8_t retransmit;
    uint8_t bytes[TFTPC_MAX_REQUEST];
    size_t len;
};

/* Everything the client did, as a board would have seen it. */
struct harness {
    struct tftpc c;
    uint32_t now;
    struct sent sent[MAX_SENT];
    size_t n_sent;      /* since the last take_sent() */
    uint8_t file[FILE_CAP];
    size_t file_len;
    int data_actions;
    int restarts;
    int done;
    int failed;
    enum tftpc_reason reason;
};

static struct harness H;

static uint8_t pattern(size_t i) { return (uint8_t)(i * 7u + 3u); }

static void drain(struct harness *h)
{
    struct tftpc_output out;
    enum tftpc_action a;
    while ((a = tftpc_poll(&h->c, &out)) != TFTPC_IDLE) {
        switch (a) {
        case TFTPC_ACT_SEND:
            assert_true(h->n_sent < MAX_SENT);
            assert_true(out.len <= TFTPC_MAX_REQUEST);
            h->sent[h->n_sent].server = out.server;
            h->sent[h->n_sent].port = out.port;
            h->sent[h->n_sent].kind = out.kind;
            h->sent[h->n_sent].retransmit = out.retransmit;
            memcpy(h->sent[h->n_sent].bytes, out.data, out.len);
            h->sent[h->n_sent].len = out.len;
            h->n_sent++;
            break;
        case TFTPC_ACT_RESTART:
            h->restarts++;
            h->file_len = 0;
            break;
        case TFTPC_ACT_DATA:
            assert_int_equal(out.offset, h->file_len); /* in order, no gaps */
            assert_true(out.offset + out.len <= FILE_CAP);
            memcpy(h->file + out.offset, out.data, out.len);
            h->file_len += out.len;
            h->data_actions++;
            break;
        case TFTPC_ACT_DONE:
            assert_int_equal(out.offset, h->file_len);
            h->done++;
            break;
        case TFTPC_ACT_FAILED:
            h->failed++;
            h->reason = out.reason;
            break;
        case TFTPC_IDLE: break;
        }
    }
}

static void setup_cfg(struct tftpc_config *cfg, uint8_t n_servers)
{
    tftpc_config_default(cfg, n_servers);
}

static void begin(const struct tftpc_config *cfg, const char *name, uint32_t now)
{
    memset(&H, 0, sizeof(H));
    H.now = now;
    tftpc_init(&H.c, cfg);
    assert_int_equal(tftpc_start(&H.c, name, now), 0);
    drain(&H);
}

static void take_sent(void) { H.n_sent = 0; }

static void feed(uint8_t server, uint16_t port, const uint8_t *p, size_t n)
{
    tftpc_on_datagram(&H.c, server, port, p, n, H.now);
    drain(&H);
}

static void tick(uint32_t now)
{
    H.now = now;
    tftpc_on_tick(&H.c, now);
    drain(&H);
}

/* DATA block `blk` carrying file bytes [off, off+len). */
static void feed_data(uint8_t server, uint16_t port, uint16_t blk, size_t off, size_t len)
{
    static uint8_t pkt[4 + 65464];
    size_t i;
    pkt[0] = 0;
    pkt[1] = TFTP_DATA;
    pkt[2] = (uint8_t)(blk >> 8);
    pkt[3] = (uint8_t)blk;
    for (i = 0; i < len; i++)
        pkt[4 + i] = pattern(off + i);
    feed(server, port, pkt, 4 + len);
}

/* OACK from NUL-separated text, e.g. "blksize\0" "1428\0". */
static void feed_oack(uint16_t port, const char *opts, size_t n)
{
    uint8_t pkt[600];
    pkt[0] = 0;
    pkt[1] = TFTP_OACK;
    memcpy(pkt + 2, opts, n);
    feed(0, port, pkt, 2 + n);
}

static void feed_error(uint8_t server, uint16_t port, uint16_t code, const char *msg)
{
    uint8_t pkt[128];
    size_t n = strlen(msg) + 1;
    pkt[0] = 0;
    pkt[1] = TFTP_ERROR;
    pkt[2] = (uint8_t)(code >> 8);
    pkt[3] = (uint8_t)code;
    memcpy(pkt + 4, msg, n);
    feed(server, port, pkt, 4 + n);
}

static void assert_ack(const struct sent *s, uint16_t port, uint16_t blk)
{
    assert_int_equal(s->kind, TFTPC_PKT_ACK);
    assert_int_equal(s->port, port);
    assert_int_equal(s->len, 4);
    assert_int_equal(s->bytes[0], 0);
    assert_int_equal(s->bytes[1], TFTP_ACK);
    assert_int_equal((s->bytes[2] << 8) | s->bytes[3], blk);
}

static void assert_error(const struct sent *s, uint8_t server, uint16_t port, uint16_t code)
{
    assert_int_equal(s->kind, TFTPC_PKT_ERROR);
    assert_int_equal(s->server, server);
    assert_int_equal(s->port, port);
    assert_true(s->len >= 5);
    assert_int_equal((s->bytes[0] << 8) | s->bytes[1], TFTP_ERROR);
    assert_int_equal((s->bytes[2] << 8) | s->bytes[3], code);
    assert_int_equal(s->bytes[s->len - 1], 0);
}

static void assert_bytes(const struct sent *s, const void *expect, size_t n)
{
    assert_int_equal(s->len, n);
    assert_memory_equal(s->bytes, expect, n);
}

static void assert_file_ok(size_t size)
{
    size_t i;
    assert_int_equal(H.done, 1);
    assert_int_equal(H.failed, 0);
    assert_int_equal(H.file_len, size);
    for (i = 0; i < size; i++)
        if (H.file[i] != pattern(i))
            fail_msg("byte %zu differs", i);
    assert_int_equal(tftpc_result(&H.c)->size, size);
    assert_int_equal(tftpc_result(&H.c)->reason, TFTPC_OK);
    assert_true(tftpc_finished(&H.c));
}

/* Negotiates blksize `bs` (and tsize) on server 0, port TID. */
static void begin_negotiated(struct tftpc_config *cfg, uint16_t bs)
{
    char opts[64];
    int n = snprintf(opts, sizeof(opts), "blksize%c%u%ctsize%c0%c", 0, (unsigned)bs, 0, 0, 0);
    begin(cfg, "f.bin", 0);
    take_sent();
    feed_oack(TID, opts, (size_t)n);
    assert_int_equal(H.n_sent, 1);
    assert_ack(&H.sent[0], TID, 0);
    take_sent();
}

/* ---- requests --------------------------------------------------------------- */

static void test_rrq_plain_bytes(void **state)
{
    struct tftpc_config cfg;
    static const uint8_t expect[] = "\0\001SEP0011215A1AE3.cnf.xml\0octet";
    (void)state;
    setup_cfg(&cfg, 1);
    cfg.blksize = 0;
    cfg.ask_tsize = 0;
    begin(&cfg, "SEP0011215A1AE3.cnf.xml", 0);
    assert_int_equal(H.n_sent, 1);
    assert_int_equal(H.sent[0].kind, TFTPC_PKT_RRQ);
    assert_int_equal(H.sent[0].server, 0);
    assert_int_equal(H.sent[0].port, TFTPC_PORT_REQUEST);
    assert_int_equal(H.sent[0].retransmit, 0);
    assert_bytes(&H.sent[0], expect, sizeof(expect));
}

static void test_rrq_option_bytes(void **state)
{
    struct tftpc_config cfg;
    static const uint8_t expect[] = "\0\001CTLFile.tlv\0octet\0blksize\0001428\0tsize\0000\0"
                                    "timeout\0003";
    (void)state;
    setup_cfg(&cfg, 1);
    cfg.timeout_s = 3;
    begin(&cfg, "CTLFile.tlv", 0);
    assert_int_equal(H.n_sent, 1);
    assert_bytes(&H.sent[0], expect, sizeof(expect));
}

static void test_start_rejects_bad_names(void **state)
{
    struct tftpc_config cfg;
    struct tftpc c;
    char name[TFTPC_MAX_FILENAME + 2];
    (void)state;
    setup_cfg(&cfg, 1);
    tftpc_init(&c, &cfg);
    assert_int_equal(tftpc_start(&c, "", 0), -1);
    memset(name, 'a', sizeof(name) - 1);
    name[sizeof(name) - 1] = 0;
    assert_int_equal(tftpc_start(&c, name, 0), -1);
    name[TFTPC_MAX_FILENAME] = 0; /* 255 chars and every option fit 512 */
    cfg.blksize = 65464;
    cfg.timeout_s = 255;
    tftpc_init(&c, &cfg);
    assert_int_equal(tftpc_start(&c, name, 0), 0);
}

static void test_request_numbers_count_up(void **state)
{
    struct tftpc_config cfg;
    struct tftpc_output out;
    (void)state;
    setup_cfg(&cfg, 1);
    begin(&cfg, "a", 0);
    assert_int_equal(tftpc_result(&H.c)->request_no, 1);
    assert_int_equal(tftpc_start(&H.c, "b", 10), 0);
    while (tftpc_poll(&H.c, &out) != TFTPC_IDLE) {
    }
    assert_int_equal(tftpc_result(&H.c)->request_no, 2);
    assert_int_equal(H.c.request_no, 2);
}

/* ---- transfers -------------------------------------------------------------- */

static void test_plain_transfer(void **state)
{
    struct tftpc_config cfg;
    (void)state;
    setup_cfg(&cfg, 1);
    cfg.blksize = 0;
    cfg.ask_tsize = 0;
    begin(&cfg, "f", 0);
    take_sent();
    feed_data(0, TID, 1, 0, 512);
    assert_int_equal(H.n_sent, 1);
    assert_ack(&H.sent[0], TID, 1);
    assert_int_equal(H.done, 0);
    take_sent();
    H.now = 50;
    feed_data(0, TID, 2, 512, 100);
    assert_int_equal(H.n_sent, 1);
    assert_ack(&H.sent[0], TID, 2);
    assert_file_ok(612);
    assert_int_equal(tftpc_result(&H.c)->blksize, 512);
    assert_int_equal(tftpc_result(&H.c)->options_used, 0);
    assert_int_equal(tftpc_counters(&H.c)->blocks, 2);
    assert_int_equal(tftpc_counters(&H.c)->bytes, 612);
    assert_int_equal(tftpc_next_deadline(&H.c, &H.now), 0);
    assert_int_equal(tftpc_wait_ms(&H.c, 0), -1);
}

static void test_oack_negotiation(void **state)
{
    struct tftpc_config cfg;
    static const char opts[] = "BlkSize\0" "1428\0" "tsize\0" "3000\0";
    (void)state;
    setup_cfg(&cfg, 1);
    begin(&cfg, "f", 0);
    take_sent();
    feed_oack(TID, opts, sizeof(opts) - 1);
    assert_int_equal(H.n_sent, 1);
    assert_ack(&H.sent[0], TID, 0);
    assert_int_equal(tftpc_result(&H.c)->options_used, 1);
    assert_int_equal(tftpc_result(&H.c)->have_tsize, 1);
    assert_int_equal(tftpc_result(&H.c)->tsize, 3000);
    feed_data(0, TID, 1, 0, 1428);
    feed_data(0, TID, 2, 1428, 1428);
    assert_int_equal(H.done, 0);
    feed_data(0, TID, 3, 2856, 144);
    assert_file_ok(3000);
    assert_int_equal(tftpc_result(&H.c)->blksize, 1428);
}

static void test_oack_smaller_blksize_accepted(void **state)
{
    struct tftpc_config cfg;
    static const char opts[] = "blksize\0" "1024\0";
    (void)state;
    setup_cfg(&cfg, 1);
    begin(&cfg, "f", 0);
    take_sent();
    feed_oack(TID, opts, sizeof(opts) - 1);
    assert_ack(&H.sent[0], TID, 0);
    assert_int_equal(tftpc_result(&H.c)->have_tsize, 0);
    feed_data(0, TID, 1, 0, 1024);
    feed_data(0, TID, 2, 1024, 1);
    assert_file_ok(1025);
    assert_int_equal(tftpc_result(&H.c)->blksize, 1024);
}

static void test_oack_timeout_option(void **state)
{
    struct tftpc_config cfg;
    static const char opts[] = "timeout\0" "3\0";
    (void)state;
    setup_cfg(&cfg, 1);
    cfg.timeout_s = 3;
    begin(&cfg, "f", 0);
    take_sent();
    feed_oack(TID, opts, sizeof(opts) - 1);
    assert_ack(&H.sent[0], TID, 0);
    feed_data(0, TID, 1, 0, 10); /* no blksize granted: 512 */
    assert_file_ok(10);
    assert_int_equal(tftpc_result(&H.c)->blksize, 512);
}

static void test_server_ignores_options(void **state)
{
    struct tftpc_config cfg;
    (void)state;
    setup_cfg(&cfg, 1);
    begin(&cfg, "f", 0);
    take_sent();
    feed_data(0, TID, 1, 0, 512);
    assert_ack(&H.sent[0], TID, 1);
    feed_data(0, TID, 2, 512, 511);
    assert_file_ok(1023);
    assert_int_equal(tftpc_result(&H.c)->blksize, 512);
    assert_int_equal(tftpc_result(&H.c)->options_used, 0);
}

static void test_ignored_options_block_over_512_refused(void **state)
{
    struct tftpc_config cfg;
    (void)state;
    setup_cfg(&cfg, 1);
    begin(&cfg, "f", 0);
    take_sent();
    feed_data(0, TID, 1, 0, 1428); /* no OACK, so 512 is the limit */
    assert_int_equal(H.n_sent, 1);
    assert_error(&H.sent[0], 0, TID, TFTP_ERR_ILLEGAL_OP);
    assert_int_equal(H.failed, 1);
    assert_int_equal(H.reason, TFTPC_PROTOCOL);
    assert_int_equal(H.file_len, 0);
}

static void test_error8_falls_back_without_options(void **state)
{
    struct tftpc_config cfg;
    static const uint8_t plain[] = "\0\001f\0octet";
    (void)state;
    setup_cfg(&cfg, 2);
    begin(&cfg, "f", 0);
    take_sent();
    H.now = 20;
    feed_error(0, 50000, TFTP_ERR_OPTIONS, "Unsupported option(s) requested");
    assert_int_equal(H.n_sent, 1);
    assert_int_equal(H.sent[0].server, 0); /* same server */
    assert_int_equal(H.sent[0].port, TFTPC_PORT_REQUEST);
    assert_bytes(&H.sent[0], plain, sizeof(plain));
    assert_int_equal(H.failed, 0);
    /* the fallback request has its own timer */
    assert_int_equal(tftpc_wait_ms(&H.c, 20), 1000);
    take_sent();
    feed_data(0, TID, 1, 0, 7);
    assert_ack(&H.sent[0], TID, 1);
    assert_file_ok(7);
    /* A second error 8 (to a request without options) is a plain error. */
    begin(&cfg, "f", 0);
    feed_error(0, 50000, TFTP_ERR_OPTIONS, "x");
    take_sent();
    feed_error(0, 50001, TFTP_ERR_OPTIONS, "x");
    assert_int_equal(H.n_sent, 1);
    assert_int_equal(H.sent[0].server, 1);
    assert_int_equal(H.c.with_options, 1); /* next server: options again */
}

static void test_exact_multiple_of_blksize(void **state)
{
    struct tftpc_config cfg;
    (void)state;
    setup_cfg(&cfg, 1);
    begin_negotiated(&cfg, 1428);
    feed_data(0, TID, 1, 0, 1428);
    feed_data(0, TID, 2, 1428, 1428);
    assert_int_equal(H.done, 0);
    take_sent();
    feed_data(0, TID, 3, 2856, 0); /* final empty DATA */
    assert_int_equal(H.n_sent, 1);
    assert_ack(&H.sent[0], TID, 3);
    assert_file_ok(2856);
    assert_int_equal(H.data_actions, 2); /* no empty DATA action */
}

static void test_empty_file(void **state)
{
    struct tftpc_config cfg;
    (void)state;
    setup_cfg(&cfg, 1);
    begin_negotiated(&cfg, 1428);
    feed_data(0, TID, 1, 0, 0);
    assert_ack(&H.sent[0], TID, 1);
    assert_file_ok(0);
}

static void test_duplicate_data_reacked_once(void **state)
{
    struct tftpc_config cfg;
    (void)state;
    setup_cfg(&cfg, 1);
    begin_negotiated(&cfg, 512);
    H.now = 100;
    feed_data(0, TID, 1, 0, 512);
    assert_int_equal(H.n_sent, 1);
    take_sent();
    H.now = 300;
    feed_data(0, TID, 1, 0, 512); /* server retransmitted: our ACK 1 was lost */
    assert_int_equal(H.n_sent, 1);
    assert_ack(&H.sent[0], TID, 1);
    assert_int_equal(H.sent[0].retransmit, 0);
    take_sent();
    feed_data(0, TID, 1, 0, 512); /* more copies: left to the timer */
    feed_data(0, TID, 1, 0, 512);
    assert_int_equal(H.n_sent, 0);
    assert_int_equal(H.data_actions, 1);
    assert_int_equal(tftpc_counters(&H.c)->duplicates, 3);
    assert_int_equal(tftpc_counters(&H.c)->retransmits, 0);
    /* duplicates do not push the timer: armed at block 1 (t=100) */
    assert_int_equal(tftpc_wait_ms(&H.c, 300), 800);
    feed_data(0, TID, 2, 512, 3);
    assert_file_ok(515);
}

static void test_lost_ack0_duplicate_oack(void **state)
{
    struct tftpc_config cfg;
    static const char opts[] = "blksize\0" "512\0" "tsize\0" "5\0";
    (void)state;
    setup_cfg(&cfg, 1);
    cfg.blksize = 600;
    begin(&cfg, "f", 0);
    feed_oack(TID, opts, sizeof(opts) - 1);
    take_sent();
    feed_oack(TID, opts, sizeof(opts) - 1); /* server timed out on its OACK */
    assert_int_equal(H.n_sent, 1);
    assert_ack(&H.sent[0], TID, 0);
    take_sent();
    feed_oack(TID, opts, sizeof(opts) - 1);
    assert_int_equal(H.n_sent, 0);
    feed_data(0, TID, 1, 0, 5);
    assert_file_ok(5);
}

static void test_old_and_future_data_ignored(void **state)
{
    struct tftpc_config cfg;
    (void)state;
    setup_cfg(&cfg, 1);
    begin_negotiated(&cfg, 512);
    feed_data(0, TID, 1, 0, 512);
    feed_data(0, TID, 2, 512, 512);
    feed_data(0, TID, 3, 1024, 512);
    take_sent();
    feed_data(0, TID, 1, 0, 512);    /* old, not the last one */
    feed_data(0, TID, 5, 2048, 512); /* from the future */
    feed_data(0, TID, 0, 0, 512);    /* block 0 never carries data here */
    assert_int_equal(H.n_sent, 0);
    assert_int_equal(tftpc_counters(&H.c)->out_of_order, 3);
    assert_int_equal(H.file_len, 1536);
    feed_data(0, TID, 4, 1536, 512);
    feed_data(0, TID, 5, 2048, 20);
    assert_file_ok(2068);
}

static void test_data_before_oack_wrong_block_ignored(void **state)
{
    struct tftpc_config cfg;
    (void)state;
    setup_cfg(&cfg, 1);
    begin(&cfg, "f", 0);
    take_sent();
    feed_data(0, TID, 2, 0, 512);
    assert_int_equal(H.n_sent, 0);
    assert_int_equal(H.c.tid_locked, 0);
    feed_data(0, TID + 1, 1, 0, 30); /* the real transfer, any port */
    assert_ack(&H.sent[0], TID + 1, 1);
    assert_file_ok(30);
}

/* ---- timers ----------------------------------------------------------------- */

static void expect_retransmit_at(uint32_t t, uint8_t kind)
{
    uint32_t d;
    assert_int_equal(tftpc_next_deadline(&H.c, &d), 1);
    assert_int_equal(d, t);
    take_sent();
    tick(t - 1);
    assert_int_equal(H.n_sent, 0);
    tick(t);
    assert_int_equal(H.n_sent, 1);
    assert_int_equal(H.sent[0].kind, kind);
    assert_int_equal(H.sent[0].retransmit, 1);
}

static void test_backoff_timing(void **state)
{
    struct tftpc_config cfg;
    uint8_t rrq[TFTPC_MAX_REQUEST];
    size_t rrq_len;
    (void)state;
    setup_cfg(&cfg, 1); /* 1 s initial, doubling, 4 s cap, 4 retries */
    begin(&cfg, "f", 0);
    rrq_len = H.sent[0].len;
    memcpy(rrq, H.sent[0].bytes, rrq_len);
    expect_retransmit_at(1000, TFTPC_PKT_RRQ);
    assert_bytes(&H.sent[0], rrq, rrq_len);
    expect_retransmit_at(3000, TFTPC_PKT_RRQ);
    expect_retransmit_at(7000, TFTPC_PKT_RRQ);
    expect_retransmit_at(11000, TFTPC_PKT_RRQ);
    assert_int_equal(tftpc_wait_ms(&H.c, 11000), 4000);
    take_sent();
    tick(14999);
    assert_int_equal(H.failed, 0);
    tick(15000);
    assert_int_equal(H.n_sent, 0);
    assert_int_equal(H.failed, 1);
    assert_int_equal(H.reason, TFTPC_TIMEOUT);
    assert_int_equal(tftpc_counters(&H.c)->retransmits, 4);
    assert_int_equal(tftpc_counters(&H.c)->requests, 5);
    tick(100000); /* finished: nothing more */
    assert_int_equal(H.n_sent, 0);
    assert_int_equal(H.failed, 1);
}

static void test_backoff_on_ack_and_reset_on_progress(void **state)
{
    struct tftpc_config cfg;
    (void)state;
    setup_cfg(&cfg, 1);
    cfg.initial_timeout_ms = 200;
    cfg.max_timeout_ms = 10000;
    cfg.max_retries = 6;
    begin_negotiated(&cfg, 512);
    feed_data(0, TID, 1, 0, 512); /* t = 0: timer 200 */
    expect_retransmit_at(200, TFTPC_PKT_ACK);
    assert_ack(&H.sent[0], TID, 1);
    expect_retransmit_at(600, TFTPC_PKT_ACK);
    expect_retransmit_at(1400, TFTPC_PKT_ACK);
    H.now = 1500;
    feed_data(0, TID, 2, 512, 512); /* progress: back to 200 ms */
    assert_int_equal(tftpc_wait_ms(&H.c, 1500), 200);
    expect_retransmit_at(1700, TFTPC_PKT_ACK);
    assert_ack(&H.sent[0], TID, 2);
}

static void test_clock_wraps(void **state)
{
    struct tftpc_config cfg;
    (void)state;
    setup_cfg(&cfg, 1);
    begin(&cfg, "f", 0xFFFFFF00u);
    expect_retransmit_at(0xFFFFFF00u + 1000u, TFTPC_PKT_RRQ); /* = 0x2E8 */
    expect_retransmit_at(0xFFFFFF00u + 3000u, TFTPC_PKT_RRQ);
}

static void test_max_retries_next_server(void **state)
{
    struct tftpc_config cfg;
    (void)state;
    setup_cfg(&cfg, 3);
    begin(&cfg, "f", 0);
    take_sent();
    tick(1000);
    tick(3000);
    tick(7000);
    tick(11000);
    take_sent();
    tick(15000);
    assert_int_equal(H.n_sent, 1);
    assert_int_equal(H.sent[0].server, 1);
    assert_int_equal(H.sent[0].kind, TFTPC_PKT_RRQ);
    assert_int_equal(H.sent[0].retransmit, 0);
    assert_int_equal(H.sent[0].port, TFTPC_PORT_REQUEST);
    assert_int_equal(tftpc_wait_ms(&H.c, 15000), 1000); /* fresh backoff */
    take_sent();
    /* A late answer from server 0 is now a stranger. */
    feed_data(0, TID, 1, 0, 512);
    assert_int_equal(H.n_sent, 1);
    assert_error(&H.sent[0], 0, TID, TFTP_ERR_UNKNOWN_TID);
    take_sent();
    feed_data(1, TID, 1, 0, 100);
    assert_ack(&H.sent[0], TID, 1);
    assert_file_ok(100);
    assert_int_equal(tftpc_result(&H.c)->server, 1);
    assert_int_equal(tftpc_counters(&H.c)->server_switches, 1);
}

static void test_stall_mid_transfer_restarts_on_next_server(void **state)
{
    struct tftpc_config cfg;
    (void)state;
    setup_cfg(&cfg, 2);
    cfg.max_retries = 1;
    begin_negotiated(&cfg, 512);
    feed_data(0, TID, 1, 0, 512);
    feed_data(0, TID, 2, 512, 512);
    assert_int_equal(H.file_len, 1024);
    tick(1000);
    take_sent();
    tick(3000); /* gives up on server 0 */
    assert_int_equal(H.restarts, 1);
    assert_int_equal(H.file_len, 0);
    assert_int_equal(H.n_sent, 1);
    assert_int_equal(H.sent[0].server, 1);
    assert_int_equal(H.sent[0].kind, TFTPC_PKT_RRQ);
    feed_data(1, TID, 1, 0, 512);
    feed_data(1, TID, 2, 512, 300);
    assert_file_ok(812);
}

static void test_all_servers_time_out(void **state)
{
    struct tftpc_config cfg;
    uint32_t t = 0;
    int i;
    (void)state;
    setup_cfg(&cfg, 4);
    cfg.max_retries = 0;
    begin(&cfg, "f", 0);
    for (i = 0; i < 4; i++) {
        assert_int_equal(H.c.server, i);
        t += 1000;
        tick(t);
    }
    assert_int_equal(H.failed, 1);
    assert_int_equal(H.reason, TFTPC_TIMEOUT);
    assert_int_equal(tftpc_counters(&H.c)->server_switches, 3);
}

static void test_unreachable_next_server(void **state)
{
    struct tftpc_config cfg;
    (void)state;
    setup_cfg(&cfg, 2);
    begin(&cfg, "f", 0);
    take_sent();
    tftpc_on_unreachable(&H.c, 1, 0, 5); /* not the current server */
    tftpc_on_unreachable(&H.c, 0, 999, 5); /* not where we send */
    drain(&H);
    assert_int_equal(H.n_sent, 0);
    tftpc_on_unreachable(&H.c, 0, TFTPC_PORT_REQUEST, 5);
    drain(&H);
    assert_int_equal(H.n_sent, 1);
    assert_int_equal(H.sent[0].server, 1);
    tftpc_on_unreachable(&H.c, 1, TFTPC_PORT_REQUEST, 6);
    drain(&H);
    assert_int_equal(H.failed, 1);
    assert_int_equal(H.reason, TFTPC_UNREACHABLE);
}

/* ---- errors ----------------------------------------------------------------- */

static void test_file_not_found_is_final(void **state)
{
    struct tftpc_config cfg;
    (void)state;
    setup_cfg(&cfg, 3);
    begin(&cfg, "CTLSEP0011215A1AE3.tlv", 0);
    take_sent();
    feed_error(0, TID, TFTP_ERR_NOT_FOUND, "File not found");
    assert_int_equal(H.n_sent, 0); /* no other server asked, no reply to ERROR */
    assert_int_equal(H.failed, 1);
    assert_int_equal(H.reason, TFTPC_NOT_FOUND);
    assert_int_equal(tftpc_result(&H.c)->error_code, 1);
    assert_string_equal(tftpc_result(&H.c)->error_msg, "File not found");
    assert_int_equal(tftpc_counters(&H.c)->server_switches, 0);
}

static void test_other_errors_try_next_server(void **state)
{
    struct tftpc_config cfg;
    (void)state;
    setup_cfg(&cfg, 2);
    begin(&cfg, "f", 0);
    take_sent();
    feed_error(0, TID, TFTP_ERR_ACCESS, "Permission denied");
    assert_int_equal(H.n_sent, 1);
    assert_int_equal(H.sent[0].server, 1);
    feed_error(1, TID, TFTP_ERR_UNDEFINED, "Some \x01 weird\xff message");
    assert_int_equal(H.failed, 1);
    assert_int_equal(H.reason, TFTPC_SERVER_ERROR);
    assert_int_equal(tftpc_result(&H.c)->error_code, 0);
    assert_string_equal(tftpc_result(&H.c)->error_msg, "Some ? weird? message");
}

static void test_error_mid_transfer(void **state)
{
    struct tftpc_config cfg;
    (void)state;
    setup_cfg(&cfg, 1);
    begin_negotiated(&cfg, 512);
    feed_data(0, TID, 1, 0, 512);
    take_sent();
    feed_error(0, TID, TFTP_ERR_DISK_FULL, "boom");
    assert_int_equal(H.n_sent, 0);
    assert_int_equal(H.failed, 1);
    assert_int_equal(H.reason, TFTPC_SERVER_ERROR);
    assert_int_equal(tftpc_result(&H.c)->error_code, 3);
}

static void test_server_error_outranks_timeout(void **state)
{
    struct tftpc_config cfg;
    (void)state;
    setup_cfg(&cfg, 2);
    cfg.max_retries = 0;
    begin(&cfg, "f", 0);
    feed_error(0, TID, TFTP_ERR_ACCESS, "denied");
    tick(1000); /* server 1 silent */
    assert_int_equal(H.failed, 1);
    assert_int_equal(H.reason, TFTPC_SERVER_ERROR);
    assert_string_equal(tftpc_result(&H.c)->error_msg, "denied");
}

static void test_foreign_tid(void **state)
{
    struct tftpc_config cfg;
    uint8_t err[] = {0, TFTP_ERROR, 0, 1, 'x', 0};
    (void)state;
    setup_cfg(&cfg, 2);
    begin_negotiated(&cfg, 512);
    feed_data(0, TID, 1, 0, 512);
    take_sent();
    feed_data(0, TID + 7, 2, 512, 512); /* another port of our server */
    assert_int_equal(H.n_sent, 1);
    assert_error(&H.sent[0], 0, TID + 7, TFTP_ERR_UNKNOWN_TID);
    assert_memory_equal(H.sent[0].bytes + 4, "Unknown transfer ID", 20);
    take_sent();
    feed_data(1, TID, 2, 512, 512); /* another server, same port number */
    assert_int_equal(H.n_sent, 1);
    assert_error(&H.sent[0], 1, TID, TFTP_ERR_UNKNOWN_TID);
    take_sent();
    feed(0, TID + 7, err, sizeof(err)); /* never answer an ERROR */
    assert_int_equal(H.n_sent, 0);
    assert_int_equal(H.failed, 0);
    feed(7, TID, err, sizeof(err)); /* index out of range: dropped */
    assert_int_equal(H.n_sent, 0);
    assert_int_equal(tftpc_counters(&H.c)->foreign_tid, 3);
    assert_int_equal(H.file_len, 512);
    feed_data(0, TID, 2, 512, 1);
    assert_file_ok(513);
}

static void test_duplicate_request_two_tids(void **state)
{
    struct tftpc_config cfg;
    static const char opts[] = "blksize\0" "1428\0";
    (void)state;
    setup_cfg(&cfg, 1);
    begin(&cfg, "f", 0);
    tick(1000); /* RRQ retransmitted: the server may start two transfers */
    take_sent();
    feed_oack(TID, opts, sizeof(opts) - 1);
    assert_ack(&H.sent[0], TID, 0);
    take_sent();
    feed_oack(TID + 1, opts, sizeof(opts) - 1);
    assert_int_equal(H.n_sent, 1);
    assert_error(&H.sent[0], 0, TID + 1, TFTP_ERR_UNKNOWN_TID);
    feed_data(0, TID, 1, 0, 10);
    assert_file_ok(10);
}

/* ---- size limit ------------------------------------------------------------- */

static void test_too_large_by_tsize(void **state)
{
    struct tftpc_config cfg;
    static const char opts[] = "blksize\0" "1428\0" "tsize\0" "550002\0";
    static const char ok[] = "blksize\0" "1428\0" "tsize\0" "550001\0";
    (void)state;
    setup_cfg(&cfg, 2);
    begin(&cfg, "f", 0);
    take_sent();
    feed_oack(TID, opts, sizeof(opts) - 1);
    assert_int_equal(H.n_sent, 1); /* the ERROR, no ACK 0 */
    assert_error(&H.sent[0], 0, TID, TFTP_ERR_DISK_FULL);
    assert_int_equal(H.failed, 1);
    assert_int_equal(H.reason, TFTPC_TOO_LARGE);
    assert_int_equal(tftpc_result(&H.c)->tsize, 550002);
    assert_int_equal(tftpc_counters(&H.c)->server_switches, 0);
    /* exactly the limit is fine */
    begin(&cfg, "f", 0);
    take_sent();
    feed_oack(TID, ok, sizeof(ok) - 1);
    assert_ack(&H.sent[0], TID, 0);
    /* a tsize beyond 32 bits too */
    begin(&cfg, "f", 0);
    take_sent();
    feed_oack(TID, "tsize\0" "99999999999999999999\0", 27);
    assert_int_equal(H.reason, TFTPC_TOO_LARGE);
}

static void test_too_large_by_data(void **state)
{
    struct tftpc_config cfg;
    (void)state;
    setup_cfg(&cfg, 1);
    cfg.max_file_size = 1000;
    begin_negotiated(&cfg, 512);
    feed_data(0, TID, 1, 0, 512);
    take_sent();
    feed_data(0, TID, 2, 512, 512); /* 1024 > 1000 */
    assert_int_equal(H.n_sent, 1);
    assert_error(&H.sent[0], 0, TID, TFTP_ERR_DISK_FULL);
    assert_int_equal(H.failed, 1);
    assert_int_equal(H.reason, TFTPC_TOO_LARGE);
    assert_int_equal(H.file_len, 512); /* the block over the limit is not delivered */
    /* a file of exactly the limit passes */
    begin_negotiated(&cfg, 512);
    feed_data(0, TID, 1, 0, 512);
    feed_data(0, TID, 2, 512, 488);
    assert_file_ok(1000);
}

static void test_default_limit_is_550001(void **state)
{
    struct tftpc_config cfg;
    (void)state;
    tftpc_config_default(&cfg, 1);
    assert_int_equal(cfg.max_file_size, 550001);
    cfg.max_file_size = 0;
    tftpc_init(&H.c, &cfg);
    assert_int_equal(H.c.cfg.max_file_size, 550001);
}

/* ---- block numbers ---------------------------------------------------------- */

static void test_block_wrap(void **state)
{
    struct tftpc_config cfg;
    const uint32_t blocks = 65536u + 300u; /* wraps once */
    uint32_t b;
    (void)state;
    setup_cfg(&cfg, 1);
    cfg.blksize = 8;
    cfg.max_file_size = 600000;
    begin_negotiated(&cfg, 8);
    for (b = 1; b <= blocks; b++) {
        take_sent();
        feed_data(0, TID, (uint16_t)b, (size_t)(b - 1) * 8, 8);
        assert_int_equal(H.n_sent, 1);
        assert_ack(&H.sent[0], TID, (uint16_t)b);
        if (b == 65536u) {
            /* a duplicate right after the wrap is recognised as such */
            take_sent();
            feed_data(0, TID, 0, (size_t)(b - 1) * 8, 8);
            assert_ack(&H.sent[0], TID, 0);
            feed_data(0, TID, 65535, 0, 8); /* old: ignored */
            assert_int_equal(H.n_sent, 1);
        }
    }
    feed_data(0, TID, (uint16_t)(blocks + 1), (size_t)blocks * 8, 3);
    assert_file_ok((size_t)blocks * 8 + 3);
    assert_int_equal(tftpc_counters(&H.c)->blocks, blocks + 1);
}

/* ---- hostile input ---------------------------------------------------------- */

static void test_oack_rejections(void **state)
{
#define OPT(lit) {lit, sizeof(lit) - 1}
    static const struct {
        const char *opts;
        size_t n;
    } bad[] = {
        OPT("blksize\0" "1429\0"),            /* larger than asked */
        OPT("blksize\0" "7\0"),               /* below the minimum */
        OPT("blksize\0" "1428"),               /* value without NUL */
        OPT("blksize"),                        /* name without NUL */
        OPT("blksize\0"),                      /* no value */
        OPT("blksize\0" "\0"),                 /* empty value */
        OPT("blksize\0" "+512\0"),            /* not digits */
        OPT("blksize\0" "512\0" "blksize\0" "512\0"), /* twice */
        OPT("multicast\0" "1\0"),             /* not asked for */
        OPT("timeout\0" "3\0"),               /* not asked for */
        OPT("\0" "\0"),                        /* empty name */
        OPT("tsize\0" "12a\0"),
    };
#undef OPT
    struct tftpc_config cfg;
    size_t i;
    (void)state;
    setup_cfg(&cfg, 1);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        begin(&cfg, "f", 0);
        take_sent();
        feed_oack(TID, bad[i].opts, bad[i].n);
        assert_int_equal(H.n_sent, 1);
        assert_error(&H.sent[0], 0, TID, TFTP_ERR_OPTIONS);
        assert_int_equal(H.failed, 1);
        assert_int_equal(H.reason, TFTPC_PROTOCOL);
    }
}

static void test_oack_timeout_must_match(void **state)
{
    struct tftpc_config cfg;
    (void)state;
    setup_cfg(&cfg, 1);
    cfg.timeout_s = 5;
    begin(&cfg, "f", 0);
    take_sent();
    feed_oack(TID, "timeout\0" "4\0", 10);
    assert_error(&H.sent[0], 0, TID, TFTP_ERR_OPTIONS);
    assert_int_equal(H.reason, TFTPC_PROTOCOL);
}

static void test_oack_without_options_requested(void **state)
{
    struct tftpc_config cfg;
    (void)state;
    setup_cfg(&cfg, 2);
    begin(&cfg, "f", 0);
    feed_error(0, TID, TFTP_ERR_OPTIONS, "no"); /* now without options */
    take_sent();
    feed_oack(TID, "blksize\0" "512\0", 12);
    assert_int_equal(H.n_sent, 2);
    assert_error(&H.sent[0], 0, TID, TFTP_ERR_OPTIONS);
    assert_int_equal(H.sent[1].server, 1); /* next server */
    assert_int_equal(H.sent[1].kind, TFTPC_PKT_RRQ);
}

static void test_malformed_packets_ignored(void **state)
{
    static const uint8_t junk[][6] = {
        {0, 0, 0, 0, 0, 0}, {0, TFTP_RRQ, 'a', 0, 'b', 0}, {0, TFTP_WRQ, 'a', 0, 'b', 0},
        {0, TFTP_ACK, 0, 1, 0, 0}, {0, 7, 0, 1, 0, 0}, {0xff, 0xff, 1, 2, 3, 4},
    };
    struct tftpc_config cfg;
    uint8_t tiny[3] = {0, TFTP_DATA, 0};
    uint8_t err_nonul[6] = {0, TFTP_ERROR, 0, 2, 'a', 'b'};
    size_t i, n;
    (void)state;
    setup_cfg(&cfg, 2);
    begin_negotiated(&cfg, 512);
    feed_data(0, TID, 1, 0, 512);
    take_sent();
    for (n = 0; n <= sizeof(tiny); n++)
        feed(0, TID, tiny, n);
    for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
        feed(0, TID, junk[i], sizeof(junk[i]));
    feed_data(0, 0, 2, 512, 512); /* source port 0: no TID */
    assert_int_equal(H.n_sent, 0);
    assert_int_equal(H.failed + H.done, 0);
    assert_int_equal(tftpc_counters(&H.c)->malformed, 4 + 6 + 1);
    feed(0, TID, err_nonul, sizeof(err_nonul)); /* ERROR without NUL: message cut */
    assert_string_equal(tftpc_result(&H.c)->error_msg, "ab");
    assert_int_equal(H.sent[0].server, 1);
}

static void test_events_after_finish_ignored(void **state)
{
    struct tftpc_config cfg;
    (void)state;
    setup_cfg(&cfg, 1);
    begin_negotiated(&cfg, 512);
    feed_data(0, TID, 1, 0, 3);
    assert_file_ok(3);
    take_sent();
    feed_data(0, TID, 1, 0, 3);
    feed_data(0, TID + 1, 1, 0, 3);
    tftpc_on_unreachable(&H.c, 0, TID, 10);
    tick(1000000);
    drain(&H);
    assert_int_equal(H.n_sent, 0);
    assert_int_equal(H.done, 1);
}

static void test_reason_strings(void **state)
{
    int r;
    (void)state;
    for (r = TFTPC_OK; r <= TFTPC_UNREACHABLE; r++) {
        const char *s = tftpc_reason_str((enum tftpc_reason)r);
        assert_non_null(s);
        assert_string_not_equal(s, "unknown");
    }
    assert_string_equal(tftpc_reason_str(TFTPC_NOT_FOUND), "file not found");
    assert_string_equal(tftpc_reason_str((enum tftpc_reason)99), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rrq_plain_bytes),
        cmocka_unit_test(test_rrq_option_bytes),
        cmocka_unit_test(test_start_rejects_bad_names),
        cmocka_unit_test(test_request_numbers_count_up),
        cmocka_unit_test(test_plain_transfer),
        cmocka_unit_test(test_oack_negotiation),
        cmocka_unit_test(test_oack_smaller_blksize_accepted),
        cmocka_unit_test(test_oack_timeout_option),
        cmocka_unit_test(test_server_ignores_options),
        cmocka_unit_test(test_ignored_options_block_over_512_refused),
        cmocka_unit_test(test_error8_falls_back_without_options),
        cmocka_unit_test(test_exact_multiple_of_blksize),
        cmocka_unit_test(test_empty_file),
        cmocka_unit_test(test_duplicate_data_reacked_once),
        cmocka_unit_test(test_lost_ack0_duplicate_oack),
        cmocka_unit_test(test_old_and_future_data_ignored),
        cmocka_unit_test(test_data_before_oack_wrong_block_ignored),
        cmocka_unit_test(test_backoff_timing),
        cmocka_unit_test(test_backoff_on_ack_and_reset_on_progress),
        cmocka_unit_test(test_clock_wraps),
        cmocka_unit_test(test_max_retries_next_server),
        cmocka_unit_test(test_stall_mid_transfer_restarts_on_next_server),
        cmocka_unit_test(test_all_servers_time_out),
        cmocka_unit_test(test_unreachable_next_server),
        cmocka_unit_test(test_file_not_found_is_final),
        cmocka_unit_test(test_other_errors_try_next_server),
        cmocka_unit_test(test_error_mid_transfer),
        cmocka_unit_test(test_server_error_outranks_timeout),
        cmocka_unit_test(test_foreign_tid),
        cmocka_unit_test(test_duplicate_request_two_tids),
        cmocka_unit_test(test_too_large_by_tsize),
        cmocka_unit_test(test_too_large_by_data),
        cmocka_unit_test(test_default_limit_is_550001),
        cmocka_unit_test(test_block_wrap),
        cmocka_unit_test(test_oack_rejections),
        cmocka_unit_test(test_oack_timeout_must_match),
        cmocka_unit_test(test_oack_without_options_requested),
        cmocka_unit_test(test_malformed_packets_ignored),
        cmocka_unit_test(test_events_after_finish_ignored),
        cmocka_unit_test(test_reason_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
