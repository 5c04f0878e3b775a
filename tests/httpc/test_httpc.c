/* Unit tests for the sans-I/O HTTP client: crafted byte streams split at
 * every position, a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "httpc/httpc.h"

#define BODY_CAP 600000u
#define HOST "10.48.46.4"
#define FILE_NAME "ITLSEPA45630BBFA40.tlv"

/* Everything the client asked the board to do. */
struct harness {
    struct httpc c;
    uint32_t now;
    int connects, sends, closes, done, failed, data_actions;
    int close_before_final;      /* CLOSE came before DONE/FAILED */
    int data_after_final;
    char request[HTTPC_MAX_REQUEST + 1];
    uint8_t body[BODY_CAP];
    size_t body_len;
    enum httpc_reason reason;
};

static struct harness H;

static void drain(struct harness *h)
{
    struct httpc_output out;
    enum httpc_action a;
    int guard = 0;
    while ((a = httpc_poll(&h->c, &out)) != HTTPC_IDLE) {
        assert_true(++guard < 100000);
        if (h->done || h->failed)
            h->data_after_final++;
        switch (a) {
        case HTTPC_ACT_CONNECT: h->connects++; break;
        case HTTPC_ACT_SEND:
            h->sends++;
            assert_true(out.len <= HTTPC_MAX_REQUEST);
            memcpy(h->request, out.data, out.len);
            h->request[out.len] = '\0';
            break;
        case HTTPC_ACT_DATA:
            /* In order, no gaps, never empty. */
            assert_int_equal(out.offset, h->body_len);
            assert_true(out.len > 0 && h->body_len + out.len <= BODY_CAP);
            memcpy(h->body + h->body_len, out.data, out.len);
            h->body_len += out.len;
            h->data_actions++;
            break;
        case HTTPC_ACT_CLOSE: h->closes++; break;
        case HTTPC_ACT_DONE:
            assert_int_equal(out.offset, h->body_len);
            h->close_before_final = h->closes == 1;
            h->done++;
            h->reason = HTTPC_OK;
            break;
        case HTTPC_ACT_FAILED:
            assert_int_not_equal(out.reason, HTTPC_OK);
            h->close_before_final = h->closes == 1;
            h->failed++;
            h->reason = out.reason;
            break;
        case HTTPC_IDLE: break;
        }
    }
}

/* A fresh client, connected, request sent. cfg NULL: defaults, linger 0. */
static void begin(struct harness *h, const struct httpc_config *cfg)
{
    struct httpc_config def;
    memset(h, 0, sizeof(*h));
    h->now = 1000;
    httpc_config_default(&def);
    def.linger_ms = 0;
    httpc_init(&h->c, cfg ? cfg : &def);
    assert_int_equal(httpc_start(&h->c, HOST, 6970, FILE_NAME, h->now), 0);
    drain(h);
    assert_int_equal(h->connects, 1);
    httpc_on_connected(&h->c, h->now);
    drain(h);
    assert_int_equal(h->sends, 1);
}

static void feed(struct harness *h, const void *p, size_t n)
{
    httpc_on_data(&h->c, p, n, h->now);
    drain(h);
}

static void feed_str(struct harness *h, const char *s)
{
    feed(h, s, strlen(s));
}

static void peer_close(struct harness *h)
{
    httpc_on_closed(&h->c, 0, h->now);
    drain(h);
}

static void tick(struct harness *h, uint32_t ms)
{
    h->now += ms;
    httpc_on_tick(&h->c, h->now);
    drain(h);
}

static void expect_done(struct harness *h, const void *body, size_t len)
{
    assert_int_equal(h->done, 1);
    assert_int_equal(h->failed, 0);
    assert_int_equal(h->closes, 1);
    assert_true(h->close_before_final);
    assert_int_equal(h->data_after_final, 0);
    assert_int_equal(h->body_len, len);
    if (len)
        assert_memory_equal(h->body, body, len);
    assert_true(httpc_finished(&h->c));
    assert_int_equal(httpc_wait_ms(&h->c, h->now), -1);
}

static void expect_failed(struct harness *h, enum httpc_reason r)
{
    assert_int_equal(h->failed, 1);
    assert_int_equal(h->done, 0);
    assert_int_equal(h->reason, r);
    assert_int_equal(httpc_result(&h->c)->reason, r);
    assert_int_equal(h->closes, 1);
    assert_true(h->close_before_final);
    assert_int_equal(h->data_after_final, 0);
    assert_true(httpc_finished(&h->c));
}

/* Runs a whole response (then the server's close) in one piece. */
static void run_response(struct harness *h, const struct httpc_config *cfg, const char *resp)
{
    begin(h, cfg);
    feed_str(h, resp);
    if (!httpc_finished(&h->c))
        peer_close(h);
}

/* Body bytes may have been delivered before the failure (never DONE). */
static void run_failing(const char *resp, enum httpc_reason r, const char *detail)
{
    run_response(&H, NULL, resp);
    expect_failed(&H, r);
    if (detail)
        assert_string_equal(httpc_result(&H.c)->detail, detail);
}

/* ---- request ---- */

static void test_request_bytes(void **state)
{
    (void)state;
    begin(&H, NULL);
    assert_string_equal(H.request, "GET /" FILE_NAME " HTTP/1.1\r\n"
                                   "Host: " HOST ":6970\r\n"
                                   "Connection: close\r\n\r\n");
    assert_int_equal(httpc_result(&H.c)->request_no, 1);
}

static void test_request_port_80_and_encoding(void **state)
{
    (void)state;
    httpc_init(&H.c, NULL);
    assert_int_equal(httpc_start(&H.c, "cucm.example", 80, "/dir/a b%.xml", 0), 0);
    drain(&H);
    httpc_on_connected(&H.c, 0);
    drain(&H);
    assert_string_equal(H.request, "GET /dir/a%20b%25.xml HTTP/1.1\r\nHost: cucm.example\r\n"
                                   "Connection: close\r\n\r\n");
    assert_int_equal(httpc_result(&H.c)->request_no, 1);
}

static void test_request_refused_arguments(void **state)
{
    char name[HTTPC_MAX_FILENAME + 2];
    (void)state;
    httpc_init(&H.c, NULL);
    memset(name, 'a', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    assert_int_equal(httpc_start(&H.c, HOST, 6970, "", 0), -1);
    assert_int_equal(httpc_start(&H.c, HOST, 6970, "/", 0), -1);
    assert_int_equal(httpc_start(&H.c, HOST, 6970, name, 0), -1);
    assert_int_equal(httpc_start(&H.c, "", 6970, "a", 0), -1);
    assert_int_equal(httpc_start(&H.c, "evil\r\nX: y", 6970, "a", 0), -1);
    assert_int_equal(httpc_start(&H.c, HOST, 0, "a", 0), -1);
    /* The longest name fits, every byte percent-encoded. */
    memset(name, '\x01', HTTPC_MAX_FILENAME);
    name[HTTPC_MAX_FILENAME] = '\0';
    assert_int_equal(httpc_start(&H.c, HOST, 6970, name, 0), 0);
}

/* ---- bodies, split at every position ---- */

static const char CL_RESPONSE[] = "HTTP/1.1 200 OK\r\n"
                                  "Content-length: 26\r\n"
                                  "Cache-Control: no-store\r\n"
                                  "Content-type: */*\r\n"
                                  "\r\n"
                                  "abcdefghijklmnopqrstuvwxyz";

static const char CHUNKED_RESPONSE[] = "HTTP/1.1 200 OK\r\n"
                                       "Transfer-Encoding: chunked\r\n"
                                       "\r\n"
                                       "a;name=value\r\n"
                                       "0123456789\r\n"
                                       "00000000000000010\r\n"
                                       "ABCDEFGHIJKLMNOP\r\n"
                                       "1\n"
                                       "!\n"
                                       "0\r\n"
                                       "X-Trailer: yes\r\n"
                                       "\r\n";
static const char CHUNKED_BODY[] = "0123456789ABCDEFGHIJKLMNOP!";

/* Two pieces split at every position, then three pieces at every pair. */
static void check_splits(const char *resp, const char *body, int linger)
{
    size_t n = strlen(resp), i, j;
    struct httpc_config cfg;
    httpc_config_default(&cfg);
    cfg.linger_ms = linger ? 250u : 0u;
    for (i = 0; i <= n; i++) {
        begin(&H, &cfg);
        feed(&H, resp, i);
        assert_int_equal(H.failed, 0);
        assert_int_equal(H.done, i == n && !linger);
        feed(&H, resp + i, n - i);
        if (linger) {
            assert_int_equal(H.done, 0); /* waits for the close */
            peer_close(&H);
        }
        expect_done(&H, body, strlen(body));
    }
    for (i = 0; i <= n; i++)
        for (j = i; j <= n; j++) {
            begin(&H, NULL);
            feed(&H, resp, i);
            feed(&H, resp + i, j - i);
            feed(&H, resp + j, n - j);
            expect_done(&H, body, strlen(body));
        }
    begin(&H, NULL); /* byte by byte */
    for (i = 0; i < n; i++)
        feed(&H, resp + i, 1);
    expect_done(&H, body, strlen(body));
}

static void test_content_length_every_split(void **state)
{
    (void)state;
    check_splits(CL_RESPONSE, "abcdefghijklmnopqrstuvwxyz", 0);
    check_splits(CL_RESPONSE, "abcdefghijklmnopqrstuvwxyz", 1);
    assert_int_equal(httpc_result(&H.c)->status, 200);
    assert_string_equal(httpc_result(&H.c)->reason_phrase, "OK");
    assert_int_equal(httpc_result(&H.c)->content_length, 26);
}

static void test_chunked_every_split(void **state)
{
    (void)state;
    check_splits(CHUNKED_RESPONSE, CHUNKED_BODY, 0);
    check_splits(CHUNKED_RESPONSE, CHUNKED_BODY, 1);
    assert_true(httpc_result(&H.c)->chunked);
}

static void test_empty_body_and_http10(void **state)
{
    (void)state;
    run_response(&H, NULL, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    expect_done(&H, "", 0);
    run_response(&H, NULL, "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nxyz");
    expect_done(&H, "xyz", 3);
    assert_int_equal(httpc_result(&H.c)->version_minor, 0);
    run_response(&H, NULL, "HTTP/1.1 200\r\nContent-Length: 1\r\n\r\nq"); /* no reason phrase */
    expect_done(&H, "q", 1);
    run_response(&H, NULL, "HTTP/1.1 200 \r\ncontent-length:1\r\n\r\nq");
    expect_done(&H, "q", 1);
    run_response(&H, NULL, "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n");
    expect_done(&H, "", 0);
    /* Identical duplicate Content-Length headers are one length. */
    run_response(&H, NULL, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 02\r\n\r\nhi");
    expect_done(&H, "hi", 2);
}

/* ---- the end of the body ---- */

static void test_linger_catches_bytes_after_body(void **state)
{
    struct httpc_config cfg;
    (void)state;
    httpc_config_default(&cfg);
    /* Content-Length too short: the rest of the file follows. */
    begin(&H, &cfg);
    feed_str(&H, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef");
    expect_failed(&H, HTTPC_PROTOCOL);
    assert_string_equal(httpc_result(&H.c)->detail, "bytes after the end of the body");
    assert_int_equal(H.body_len, 3); /* delivered, but never DONE */
    /* ... or in the next segment. */
    begin(&H, &cfg);
    feed_str(&H, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc");
    tick(&H, 100);
    assert_int_equal(H.done + H.failed, 0);
    feed_str(&H, "d");
    expect_failed(&H, HTTPC_PROTOCOL);
    /* A server that keeps the connection: DONE when the linger ends. */
    begin(&H, &cfg);
    feed_str(&H, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc");
    assert_int_equal(httpc_wait_ms(&H.c, H.now), 250);
    tick(&H, 249);
    assert_int_equal(H.done, 0);
    tick(&H, 1);
    expect_done(&H, "abc", 3);
    /* A reset after the complete body is a close. */
    begin(&H, &cfg);
    feed_str(&H, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc");
    httpc_on_closed(&H.c, 1, H.now);
    drain(&H);
    expect_done(&H, "abc", 3);
    /* Bytes after the last chunk. */
    begin(&H, &cfg);
    feed_str(&H, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\nX");
    expect_failed(&H, HTTPC_PROTOCOL);
}

static void test_truncated(void **state)
{
    (void)state;
    run_failing("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this", HTTPC_TRUNCATED,
                NULL);
    assert_int_equal(H.body_len, 9);
    assert_int_equal(httpc_result(&H.c)->size, 9);
    assert_string_equal(httpc_result(&H.c)->detail, "closed before Content-Length bytes arrived");
    run_failing("", HTTPC_TRUNCATED, "closed before the status line was complete");
    run_failing("HTTP/1.1 200 OK\r\nContent-Len", HTTPC_TRUNCATED, "closed in the header");
    run_failing("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc",
                HTTPC_TRUNCATED, "closed before the last chunk");
    run_failing("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
                HTTPC_TRUNCATED, NULL);
    run_failing("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n",
                HTTPC_TRUNCATED, NULL);
    /* A reset in the body. */
    begin(&H, NULL);
    feed_str(&H, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    httpc_on_closed(&H.c, 1, H.now);
    drain(&H);
    expect_failed(&H, HTTPC_TRUNCATED);
}

/* ---- statuses ---- */

static void test_statuses(void **state)
{
    (void)state;
    run_failing("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found", HTTPC_NOT_FOUND,
                NULL);
    assert_int_equal(httpc_result(&H.c)->status, 404);
    assert_int_equal(H.body_len, 0); /* an error page is never delivered */
    run_failing("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n", HTTPC_STATUS,
                "only 200 is accepted");
    assert_int_equal(httpc_result(&H.c)->status, 500);
    assert_string_equal(httpc_result(&H.c)->reason_phrase, "Internal Server Error");
    run_failing("HTTP/1.1 206 Partial Content\r\nContent-Length: 1\r\n\r\nx", HTTPC_STATUS, NULL);
    run_failing("HTTP/1.1 301 Moved Permanently\r\nLocation: http://evil.example/ITL\x01.tlv\r\n"
                "\r\n", HTTPC_PROTOCOL, NULL); /* control character in a value */
    run_failing("HTTP/1.1 302 Found\r\nLocation: http://other.example/ITLFile.tlv\r\n"
                "Content-Length: 0\r\n\r\n", HTTPC_REDIRECT, "Location not followed");
    assert_string_equal(httpc_result(&H.c)->location, "http://other.example/ITLFile.tlv");
    /* The reason phrase is kept printable for traces (obs-text -> '?'). */
    run_failing("HTTP/1.1 503 Busy \xff\r\n\r\n", HTTPC_STATUS, NULL);
    assert_string_equal(httpc_result(&H.c)->reason_phrase, "Busy ?");
}

static void test_interim_responses(void **state)
{
    (void)state;
    run_response(&H, NULL, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX: 1\r\n\r\n"
                           "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    expect_done(&H, "ok", 2);
    run_failing("HTTP/1.1 100 A\r\n\r\nHTTP/1.1 100 A\r\n\r\nHTTP/1.1 100 A\r\n\r\n"
                "HTTP/1.1 100 A\r\n\r\nHTTP/1.1 100 A\r\n\r\n", HTTPC_PROTOCOL,
                "too many 1xx responses");
    run_failing("HTTP/1.1 101 Switching Protocols\r\n\r\n", HTTPC_PROTOCOL,
                "101 Switching Protocols");
    /* A Content-Length on an interim response does not carry over. */
    run_failing("HTTP/1.1 100 A\r\nContent-Length: 1\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
                HTTPC_PROTOCOL, NULL);
}

/* ---- hostile or broken headers ---- */

static void test_garbage_status_lines(void **state)
{
    static const char *const bad[] = {
        "SSH-2.0-OpenSSH_9.2\r\n", "\x16\x03\x01\x02\x00", "HTTP/2 200\r\n\r\n",
        "HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.2 200 OK\r\n\r\n",
        "HTTP/1.1  200 OK\r\n\r\n", "HTTP/1.1 200OK\r\n\r\n", "HTTP/1.1 099 X\r\n\r\n",
        "HTTP/1.1 600 X\r\n\r\n", "http/1.1 200 OK\r\n\r\n", "\r\nHTTP/1.1 200 OK\r\n\r\n",
        "HTTP/1.1 200 O\x01K\r\n\r\n", "HTTP/1.1 200 OK\rX\r\n\r\n",
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        run_failing(bad[i], HTTPC_PROTOCOL, NULL);
        assert_int_equal(httpc_result(&H.c)->status, 0);
    }
    /* Garbage is refused on its first wrong byte, before any line end. */
    begin(&H, NULL);
    feed_str(&H, "HTTX");
    expect_failed(&H, HTTPC_PROTOCOL);
    assert_string_equal(httpc_result(&H.c)->detail, "not an HTTP status line");
}

static void test_bad_header_fields(void **state)
{
    static const char with_nul[] = "HTTP/1.1 200 OK\r\nContent-Length: 1\0\r\n\r\nx";
    static const char *const bad[] = {
        "HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\nx",   /* space before colon */
        "HTTP/1.1 200 OK\r\nX: a\r\n folded\r\nContent-Length: 1\r\n\r\nx",
        "HTTP/1.1 200 OK\r\n: empty\r\n\r\n",
        "HTTP/1.1 200 OK\r\nNo colon\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\nx",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nx",
        "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\nx",
        "HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n\r\nx",
        "HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\nx",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxy",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nServer: x\r\n\r\nbody ended by close",
        "HTTP/1.1 200 OK\r\nX: a\x7f\r\nContent-Length: 1\r\n\r\nx",
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        run_failing(bad[i], HTTPC_PROTOCOL, NULL);
        assert_int_equal(H.body_len, 0);
    }
    begin(&H, NULL);
    feed(&H, with_nul, sizeof(with_nul) - 1);
    expect_failed(&H, HTTPC_PROTOCOL);
    assert_string_equal(httpc_result(&H.c)->detail, "NUL in the header");
}

/* Appends to a response being built (bounded, unlike strcat). */
static void append(char *buf, size_t cap, const char *text)
{
    size_t have = strlen(buf), n = strlen(text);
    assert_true(have + n < cap);
    memcpy(buf + have, text, n + 1);
}

static void test_header_limits(void **state)
{
    static char resp[HTTPC_MAX_HEADER_BYTES * 2];
    char line[HTTPC_MAX_LINE + 8];
    size_t i;
    (void)state;
    /* A header line of exactly 1024 bytes with CRLF passes, 1025 does not. */
    memset(line, 'v', sizeof(line));
    memcpy(line, "X-Long: ", 8);
    line[HTTPC_MAX_LINE - 2] = '\0';
    snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\n%s\r\nContent-Length: 1\r\n\r\nx", line);
    run_response(&H, NULL, resp);
    expect_done(&H, "x", 1);
    line[HTTPC_MAX_LINE - 2] = 'v';
    line[HTTPC_MAX_LINE - 1] = '\0';
    snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\n%s\r\nContent-Length: 1\r\n\r\nx", line);
    run_failing(resp, HTTPC_PROTOCOL, "header line over 1024 bytes");
    /* 32 fields pass, 33 do not. */
    resp[0] = 0;
    append(resp, sizeof(resp), "HTTP/1.1 200 OK\r\n");
    for (i = 0; i < HTTPC_MAX_HEADERS - 1; i++)
        append(resp, sizeof(resp), "X-F: 1\r\n");
    append(resp, sizeof(resp), "Content-Length: 1\r\n\r\nx");
    run_response(&H, NULL, resp);
    expect_done(&H, "x", 1);
    resp[0] = 0;
    append(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nX-F: 1\r\n");
    for (i = 0; i < HTTPC_MAX_HEADERS - 1; i++)
        append(resp, sizeof(resp), "X-F: 1\r\n");
    append(resp, sizeof(resp), "Content-Length: 1\r\n\r\nx");
    run_failing(resp, HTTPC_PROTOCOL, "more than 32 header fields");
    /* 9 long lines: each within the line limit, together over 8192. */
    line[1000] = '\0';
    resp[0] = 0;
    append(resp, sizeof(resp), "HTTP/1.1 200 OK\r\n");
    for (i = 0; i < 9; i++) {
        append(resp, sizeof(resp), line);
        append(resp, sizeof(resp), "\r\n");
    }
    append(resp, sizeof(resp), "Content-Length: 1\r\n\r\nx");
    run_failing(resp, HTTPC_PROTOCOL, "header over 8192 bytes");
    /* A status line without end is cut at the line limit. */
    memset(resp, 'x', 3000);
    memcpy(resp, "HTTP/1.1 200 ", 13);
    resp[3000] = '\0';
    run_failing(resp, HTTPC_PROTOCOL, "status line over 1024 bytes");
    /* Trailers count in the same limits. */
    resp[0] = 0;
    append(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n");
    for (i = 0; i < HTTPC_MAX_HEADERS; i++)
        append(resp, sizeof(resp), "T: 1\r\n");
    append(resp, sizeof(resp), "\r\n");
    run_failing(resp, HTTPC_PROTOCOL, "more than 32 header fields");
}

static void test_chunk_errors(void **state)
{
    char resp[512], ext[200];
    (void)state;
    run_failing("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n",
                HTTPC_PROTOCOL, "chunk data longer than its size");
    assert_int_equal(H.body_len, 3);
    run_failing("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n", HTTPC_PROTOCOL,
                "bad chunk size line");
    run_failing("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", HTTPC_PROTOCOL,
                "bad chunk size line");
    run_failing("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3 x\r\n", HTTPC_PROTOCOL,
                "bad chunk size line");
    run_failing("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-3\r\n", HTTPC_PROTOCOL,
                NULL);
    run_failing("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n100000000\r\n",
                HTTPC_TOO_LARGE, "chunk size over the size limit");
    run_failing("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFF\r\n",
                HTTPC_TOO_LARGE, "chunked body over the size limit");
    memset(ext, 'e', sizeof(ext));
    ext[sizeof(ext) - 1] = '\0';
    snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;%s\r\n",
             ext);
    run_failing(resp, HTTPC_PROTOCOL, "chunk size line over 128 bytes");
    /* Extensions are fine within the limit, with whitespace before ';'. */
    run_response(&H, NULL, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "2 \t;a=\"b c\"\r\nhi\r\n0\r\n\r\n");
    expect_done(&H, "hi", 2);
}

/* ---- size limit ---- */

static void feed_body_in_segments(struct harness *h, size_t size)
{
    static uint8_t seg[1460];
    size_t off = 0, i;
    while (off < size && !httpc_finished(&h->c)) {
        size_t n = size - off;
        if (n > sizeof(seg))
            n = sizeof(seg);
        for (i = 0; i < n; i++)
            seg[i] = (uint8_t)((off + i) * 13u + 1u);
        feed(h, seg, n);
        off += n;
    }
}

static void test_size_limit_default(void **state)
{
    char head[128];
    size_t i;
    (void)state;
    /* Exactly 550001 bytes: accepted. */
    begin(&H, NULL);
    snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %u\r\n\r\n",
             HTTPC_DEFAULT_MAX_BODY);
    feed_str(&H, head);
    feed_body_in_segments(&H, HTTPC_DEFAULT_MAX_BODY);
    assert_int_equal(H.done, 1);
    assert_int_equal(H.body_len, HTTPC_DEFAULT_MAX_BODY);
    for (i = 0; i < H.body_len; i += 4099)
        assert_int_equal(H.body[i], (uint8_t)(i * 13u + 1u));
    /* 550002 announced: refused before any byte. */
    snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %u\r\n\r\nabc",
             HTTPC_DEFAULT_MAX_BODY + 1);
    run_failing(head, HTTPC_TOO_LARGE, "Content-Length over the size limit");
    assert_int_equal(H.body_len, 0);
    run_failing("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                HTTPC_TOO_LARGE, NULL);
    /* A 404 with a huge length is still a 404. */
    run_failing("HTTP/1.1 404 Not Found\r\nContent-Length: 99999999999999\r\n\r\n",
                HTTPC_NOT_FOUND, NULL);
}

static void test_size_limit_chunked(void **state)
{
    struct httpc_config cfg;
    (void)state;
    httpc_config_default(&cfg);
    cfg.max_body = 10;
    cfg.linger_ms = 0;
    run_response(&H, &cfg, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "6\r\n012345\r\n4\r\n6789\r\n0\r\n\r\n");
    expect_done(&H, "0123456789", 10);
    begin(&H, &cfg);
    feed_str(&H, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "6\r\n012345\r\n5\r\n6789X\r\n0\r\n\r\n");
    expect_failed(&H, HTTPC_TOO_LARGE);
    assert_int_equal(H.body_len, 6); /* nothing beyond the limit was delivered */
    run_response(&H, &cfg, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n01234567890");
    expect_failed(&H, HTTPC_TOO_LARGE);
    assert_int_equal(H.body_len, 0);
}

/* ---- connection and timers ---- */

static void test_connect_refused_and_timeout(void **state)
{
    (void)state;
    memset(&H, 0, sizeof(H));
    httpc_init(&H.c, NULL);
    assert_int_equal(httpc_start(&H.c, HOST, 6970, FILE_NAME, 500), 0);
    drain(&H);
    httpc_on_connect_failed(&H.c, 501);
    drain(&H);
    expect_failed(&H, HTTPC_REFUSED);

    memset(&H, 0, sizeof(H));
    H.now = 500;
    httpc_init(&H.c, NULL);
    assert_int_equal(httpc_start(&H.c, HOST, 6970, FILE_NAME, H.now), 0);
    drain(&H);
    assert_int_equal(httpc_wait_ms(&H.c, H.now), 2000);
    tick(&H, 1999);
    assert_int_equal(H.failed, 0);
    tick(&H, 1);
    expect_failed(&H, HTTPC_TIMEOUT);
    assert_string_equal(httpc_result(&H.c)->detail, "connect timeout");
    assert_int_equal(httpc_result(&H.c)->request_no, 1);
}

static void test_idle_and_total_timeouts(void **state)
{
    int i;
    (void)state;
    /* No answer after the request: idle timeout. */
    begin(&H, NULL);
    assert_int_equal(httpc_wait_ms(&H.c, H.now), 5000);
    tick(&H, 4999);
    assert_int_equal(H.failed, 0);
    tick(&H, 1);
    expect_failed(&H, HTTPC_TIMEOUT);
    assert_string_equal(httpc_result(&H.c)->detail, "idle timeout");
    /* A slow body that keeps coming within the idle time finishes ... */
    begin(&H, NULL);
    feed_str(&H, "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n");
    for (i = 0; i < 20; i++) {
        tick(&H, 1000);
        feed_str(&H, "s");
    }
    assert_int_equal(H.done, 1);
    /* ... but the whole response must arrive within the total time. */
    begin(&H, NULL);
    feed_str(&H, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
    for (i = 0; i < 40 && !httpc_finished(&H.c); i++) {
        tick(&H, 1000);
        feed_str(&H, "s");
    }
    expect_failed(&H, HTTPC_TIMEOUT);
    assert_string_equal(httpc_result(&H.c)->detail, "total timeout");
    assert_int_equal(H.now - 1000, 30000);
    /* Bytes arriving past the total time (no tick in between): the
     * deadline is already due, not one idle period later. */
    begin(&H, NULL);
    feed_str(&H, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
    H.now += 29000;
    feed_str(&H, "s");
    assert_int_equal(httpc_wait_ms(&H.c, H.now), 1000);
    H.now += 2000;
    feed_str(&H, "s");
    assert_int_equal(httpc_wait_ms(&H.c, H.now), 0);
    tick(&H, 0);
    expect_failed(&H, HTTPC_TIMEOUT);
    assert_string_equal(httpc_result(&H.c)->detail, "total timeout");
}

static void test_clock_wrap(void **state)
{
    struct httpc_config cfg;
    (void)state;
    httpc_config_default(&cfg);
    cfg.linger_ms = 0;
    memset(&H, 0, sizeof(H));
    H.now = 0xFFFFFF00u;
    httpc_init(&H.c, &cfg);
    assert_int_equal(httpc_start(&H.c, HOST, 6970, FILE_NAME, H.now), 0);
    drain(&H);
    httpc_on_connected(&H.c, H.now);
    drain(&H);
    tick(&H, 4000); /* across the wrap */
    assert_int_equal(H.failed, 0);
    assert_int_equal(httpc_wait_ms(&H.c, H.now), 1000);
    tick(&H, 1000);
    expect_failed(&H, HTTPC_TIMEOUT);
}

static void test_restart_and_late_events(void **state)
{
    (void)state;
    run_response(&H, NULL, CL_RESPONSE);
    expect_done(&H, "abcdefghijklmnopqrstuvwxyz", 26);
    /* Events after the end change nothing. */
    feed_str(&H, "HTTP/1.1 500 X\r\n\r\n");
    httpc_on_closed(&H.c, 0, H.now);
    httpc_on_connect_failed(&H.c, H.now);
    tick(&H, 100000);
    assert_int_equal(H.done, 1);
    assert_int_equal(H.failed, 0);
    assert_int_equal(H.data_after_final, 0);
    /* The same client downloads again; request numbers count up. */
    assert_int_equal(httpc_start(&H.c, HOST, 6970, "SEPA45630BBFA40.cnf.xml.sgn", H.now), 0);
    assert_int_equal(httpc_result(&H.c)->request_no, 2);
    assert_int_equal(httpc_result(&H.c)->size, 0);
    assert_false(httpc_finished(&H.c));
    /* Bytes before the connection exists are ignored. */
    httpc_on_data(&H.c, (const uint8_t *)"HTTP/1.1 200 OK\r\n", 17, H.now);
    assert_int_equal(httpc_result(&H.c)->status, 0);
}

static void test_reason_strings(void **state)
{
    int r;
    (void)state;
    for (r = HTTPC_OK; r <= HTTPC_TRUNCATED; r++)
        assert_string_not_equal(httpc_reason_str((enum httpc_reason)r), "?");
    assert_string_equal(httpc_reason_str(HTTPC_NOT_FOUND), "not found");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_bytes),
        cmocka_unit_test(test_request_port_80_and_encoding),
        cmocka_unit_test(test_request_refused_arguments),
        cmocka_unit_test(test_content_length_every_split),
        cmocka_unit_test(test_chunked_every_split),
        cmocka_unit_test(test_empty_body_and_http10),
        cmocka_unit_test(test_linger_catches_bytes_after_body),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_statuses),
        cmocka_unit_test(test_interim_responses),
        cmocka_unit_test(test_garbage_status_lines),
        cmocka_unit_test(test_bad_header_fields),
        cmocka_unit_test(test_header_limits),
        cmocka_unit_test(test_chunk_errors),
        cmocka_unit_test(test_size_limit_default),
        cmocka_unit_test(test_size_limit_chunked),
        cmocka_unit_test(test_connect_refused_and_timeout),
        cmocka_unit_test(test_idle_and_total_timeouts),
        cmocka_unit_test(test_clock_wrap),
        cmocka_unit_test(test_restart_and_late_events),
        cmocka_unit_test(test_reason_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
