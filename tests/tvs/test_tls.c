/* secd/tls driven by firmware/tls_stream over boards/host/tcp_posix
 * against a real TLS server
 * (Python's ssl module, tests/tcm/tcm/tvsd.py): pinned leaf accepted or
 * refused, TLS 1.0 refused, plain-RSA suite, deferred decisions, and the
 * TVS message exchange over the session. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "secd/tls.h"
#include "secd/tvs.h"
#include "server.h"
#include "tcp_posix.h"
#include "tls_stream.h"

#define TIMEOUT_MS 5000

struct pin {
    uint8_t der[4096];
    size_t len;
    int calls;
    enum secd_tls_verdict on_match;
};

static enum secd_tls_verdict pin_rule(void *ctx, const uint8_t *der, size_t len, int chain_error)
{
    struct pin *p = ctx;
    (void)chain_error;
    p->calls++;
    if (len == p->len && memcmp(der, p->der, len) == 0)
        return p->on_match;
    return SECD_TLS_REJECT;
}

static void load_pin(struct pin *p, const char *name, enum secd_tls_verdict on_match)
{
    memset(p, 0, sizeof *p);
    p->len = tvsd_cert(name, p->der, sizeof p->der);
    assert_true(p->len > 0);
    p->on_match = on_match;
}

static double ms_since(const struct timespec *a)
{
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (double)(b.tv_sec - a->tv_sec) * 1e3 + (double)(b.tv_nsec - a->tv_nsec) / 1e6;
}

/* Connects, puts io (when given) in place of the socket's own transport
 * functions (returned in *socket_io), and runs the handshake; returns the
 * handshake result. */
static enum tvs_net_result open_session_over(struct tcp_posix *c, struct secd_tls *t,
                                             const struct tvsd *s, struct pin *p,
                                             const struct tls_stream_io *io,
                                             const struct tls_stream_io **socket_io)
{
    assert_int_equal(tcp_posix_connect(c, "127.0.0.1", s->port, TIMEOUT_MS), TCP_POSIX_OK);
    if (io) {
        *socket_io = c->stream.io;
        c->stream.io = io;
    }
    struct secd_tls_config cfg = {.verify = pin_rule, .verify_ctx = p, .sni = "ucm-a1.tcm.test"};
    assert_int_equal(secd_tls_init(t, &cfg), SECD_TLS_OK);
    return tls_stream_handshake(c, t, TIMEOUT_MS);
}

static enum tvs_net_result open_session(struct tcp_posix *c, struct secd_tls *t,
                                        const struct tvsd *s, struct pin *p)
{
    return open_session_over(c, t, s, p, NULL, NULL);
}

/* One TVS verify exchange over an open session. */
static enum tvs_net_result ask(struct tcp_posix *c, struct secd_tls *t, const char *cert_name,
                               uint32_t session, struct secd_tvs_response *r,
                               enum secd_tvs_err *perr, uint32_t timeout_ms)
{
    static uint8_t der[4096], req[SECD_TVS_MAX_REQUEST], resp[SECD_TVS_MAX_RESPONSE];
    size_t der_len = tvsd_cert(cert_name, der, sizeof der), len = 0;
    assert_int_equal(secd_tvs_encode_request(req, sizeof req, session, "CP-8845-SEP001E7A4C11A1",
                                             der, der_len, &len),
                     SECD_TVS_OK);
    enum tvs_net_result res = tls_stream_write(c, t, req, len, timeout_ms);
    if (res != TVS_NET_OK)
        return res;
    res = tls_stream_read_exact(c, t, resp, SECD_TVS_HEADER_LEN, timeout_ms);
    if (res != TVS_NET_OK)
        return res;
    size_t need = 0;
    *perr = secd_tvs_message_len(resp, SECD_TVS_HEADER_LEN, &need);
    if (*perr != SECD_TVS_NEED_MORE && *perr != SECD_TVS_OK)
        return TVS_NET_OK;
    res = tls_stream_read_exact(c, t, resp + SECD_TVS_HEADER_LEN, need - SECD_TVS_HEADER_LEN,
                                timeout_ms);
    if (res != TVS_NET_OK)
        return res;
    *perr = secd_tvs_parse_response(resp, need, session, r);
    return TVS_NET_OK;
}

static void pinned_server_vouches(void **state)
{
    (void)state;
    struct tvsd s;
    const char *args[] = {"--vouch", "tomcat=7:60", "--vouch", "callmanager_regen=0,2", NULL};
    assert_int_equal(tvsd_start(&s, args), 0);
    struct pin p;
    load_pin(&p, "tvs", SECD_TLS_ACCEPT);
    struct tcp_posix c;
    static struct secd_tls t;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(open_session(&c, &t, &s, &p), TVS_NET_OK);
    double hs = ms_since(&t0);
    assert_int_equal(p.calls, 1);
    assert_string_equal(secd_tls_version(&t), "TLSv1.2");
    printf("# handshake %.1f ms, %s %s\n", hs, secd_tls_version(&t), secd_tls_cipher(&t));
    assert_non_null(strstr(secd_tls_cipher(&t), "ECDHE"));

    struct secd_tvs_response r;
    enum secd_tvs_err e = SECD_TVS_OK;
    assert_int_equal(ask(&c, &t, "tomcat", 0x11223344, &r, &e, TIMEOUT_MS), TVS_NET_OK);
    assert_int_equal(e, SECD_TVS_OK);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.roles, 1ull << 7);
    assert_true(r.has_ttl);
    assert_int_equal(r.ttl, 60);
    /* Same session, second request: roles without TTL. */
    assert_int_equal(ask(&c, &t, "callmanager_regen", 7, &r, &e, TIMEOUT_MS), TVS_NET_OK);
    assert_int_equal(e, SECD_TVS_OK);
    assert_int_equal(r.roles, (1ull << 0) | (1ull << 2));
    assert_false(r.has_ttl);
    /* Unknown certificate: status invalid. */
    assert_int_equal(ask(&c, &t, "attacker", 8, &r, &e, TIMEOUT_MS), TVS_NET_OK);
    assert_int_equal(e, SECD_TVS_OK);
    assert_int_equal(r.status, 1);
    tcp_posix_close(&c, &t);
    secd_tls_free(&t);
    assert_int_equal(tvsd_stop(&s, "requests"), 3);
    assert_non_null(strstr(s.log, "device=CP-8845-SEP001E7A4C11A1"));
}

/* A transport that gives as little as it may (tls_stream.h's contract):
 * send_some takes 1..7 bytes and every third call none ("no room"), feed
 * says "nothing yet" every other call, each before the socket's own
 * functions run; with break_after > 0 it reports a broken connection on
 * that send. The pump must still move every record, in order, through
 * every wait path. */
struct stingy {
    const struct tls_stream_io *real;
    unsigned sends, feeds, no_room, nothing_yet, break_after;
};
static struct stingy stingy;

static int stingy_send(struct tls_stream *s, const uint8_t *p, size_t n)
{
    stingy.sends++;
    if (stingy.break_after && stingy.sends == stingy.break_after)
        return -1;
    if (stingy.sends % 3 == 0) {
        stingy.no_room++;
        return 0;
    }
    size_t k = 1 + stingy.sends % 7;
    return stingy.real->send_some(s, p, n < k ? n : k);
}

static int stingy_feed(struct tls_stream *s, struct secd_tls *t)
{
    if (++stingy.feeds % 2 == 0) {
        stingy.nothing_yet++;
        return 0;
    }
    return stingy.real->feed(s, t);
}

static enum tvs_net_result stingy_wait(struct tls_stream *s, enum tls_stream_wait what,
                                       uint32_t deadline)
{
    return stingy.real->wait(s, what, deadline);
}

static const struct tls_stream_io stingy_io = {stingy_send, stingy_feed, stingy_wait};

static enum tvs_net_result open_stingy(struct tcp_posix *c, struct secd_tls *t,
                                       const struct tvsd *s, struct pin *p, unsigned break_after)
{
    memset(&stingy, 0, sizeof stingy);
    stingy.break_after = break_after;
    return open_session_over(c, t, s, p, &stingy_io, &stingy.real);
}

static void stingy_transport_moves_every_byte(void **state)
{
    (void)state;
    struct tvsd s;
    const char *args[] = {"--vouch", "tomcat=7:60", NULL};
    assert_int_equal(tvsd_start(&s, args), 0);
    struct pin p;
    load_pin(&p, "tvs", SECD_TLS_ACCEPT);
    struct tcp_posix c;
    static struct secd_tls t;
    assert_int_equal(open_stingy(&c, &t, &s, &p, 0), TVS_NET_OK);
    struct secd_tvs_response r;
    enum secd_tvs_err e = SECD_TVS_OK;
    assert_int_equal(ask(&c, &t, "tomcat", 0x5eed, &r, &e, TIMEOUT_MS), TVS_NET_OK);
    assert_int_equal(e, SECD_TVS_OK);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.ttl, 60);
    printf("# stingy transport: %u sends (%u without room), %u feeds (%u with nothing)\n",
           stingy.sends, stingy.no_room, stingy.feeds, stingy.nothing_yet);
    /* The ClientHello alone is hundreds of bytes: many short sends. */
    assert_true(stingy.sends > 100 && stingy.no_room > 30 && stingy.nothing_yet > 2);
    tcp_posix_close(&c, &t);
    secd_tls_free(&t);
    assert_int_equal(tvsd_stop(&s, "requests"), 1);
}

/* The connection breaks in the middle of the handshake: a reset, and the
 * session knows its stream ended (no further step succeeds). */
static void transport_broken_mid_handshake(void **state)
{
    (void)state;
    struct tvsd s;
    const char *args[] = {"--vouch", "tomcat=7:60", NULL};
    assert_int_equal(tvsd_start(&s, args), 0);
    struct pin p;
    load_pin(&p, "tvs", SECD_TLS_ACCEPT);
    struct tcp_posix c;
    static struct secd_tls t;
    assert_int_equal(open_stingy(&c, &t, &s, &p, 20), TVS_NET_RESET);
    uint8_t byte = 0;
    assert_int_not_equal(tls_stream_write(&c, &t, &byte, 1, 200), TVS_NET_OK);
    tcp_posix_close(&c, NULL);
    secd_tls_free(&t);
    tvsd_stop(&s, "requests");
}

static void wrong_pin_refused(void **state)
{
    (void)state;
    struct tvsd s;
    assert_int_equal(tvsd_start(&s, NULL), 0);
    struct pin p;
    load_pin(&p, "tvs_regen", SECD_TLS_ACCEPT); /* the server presents "tvs" */
    struct tcp_posix c;
    static struct secd_tls t;
    assert_int_equal(open_session(&c, &t, &s, &p), TVS_NET_TLS);
    assert_int_equal(c.stream.tls_status, SECD_TLS_ERR_CERT);
    assert_int_equal(p.calls, 1);
    size_t done;
    assert_int_equal(secd_tls_write(&t, (const uint8_t *)"x", 1, &done), SECD_TLS_ERR_CERT);
    tcp_posix_close(&c, &t);
    secd_tls_free(&t);
    tvsd_stop(&s, "requests");
    assert_non_null(strstr(s.log, "handshake failed"));
}

static void tls10_refused(void **state)
{
    (void)state;
    struct tvsd s;
    const char *args[] = {"--tls", "1.0", NULL};
    assert_int_equal(tvsd_start(&s, args), 0);
    struct pin p;
    load_pin(&p, "tvs", SECD_TLS_ACCEPT);
    struct tcp_posix c;
    static struct secd_tls t;
    assert_int_equal(open_session(&c, &t, &s, &p), TVS_NET_TLS);
    assert_int_equal(c.stream.tls_status, SECD_TLS_ERR_HANDSHAKE);
    assert_int_equal(p.calls, 0); /* refused before any certificate */
    char buf[96];
    printf("# TLS 1.0 server: %s (%d)\n", secd_tls_error_text(&t, buf, sizeof buf),
           secd_tls_error_code(&t));
    tcp_posix_close(&c, &t);
    secd_tls_free(&t);
    assert_int_equal(tvsd_stop(&s, "handshakes"), 0);
}

static void static_rsa_suite(void **state)
{
    (void)state;
    struct tvsd s;
    const char *args[] = {"--ciphers", "AES256-SHA", NULL};
    assert_int_equal(tvsd_start(&s, args), 0);
    struct pin p;
    load_pin(&p, "tvs", SECD_TLS_ACCEPT);
    struct tcp_posix c;
    static struct secd_tls t;
    enum tvs_net_result r = open_session(&c, &t, &s, &p);
    char buf[96];
    printf("# AES256-SHA server: %s %s %s\n", tvs_net_result_str(r),
           secd_tls_status_str(c.stream.tls_status), secd_tls_error_text(&t, buf, sizeof buf));
    assert_int_equal(r, TVS_NET_OK);
    assert_string_equal(secd_tls_cipher(&t), "AES256-SHA");
    tcp_posix_close(&c, &t);
    secd_tls_free(&t);
    assert_int_equal(tvsd_stop(&s, "handshakes"), 1);
}

static void deferred_decision(void **state)
{
    (void)state;
    struct tvsd s;
    const char *args[] = {"--https", "tomcat", NULL};
    assert_int_equal(tvsd_start(&s, args), 0);
    struct pin p;
    load_pin(&p, "tomcat", SECD_TLS_DEFER);
    for (int accept = 0; accept <= 1; accept++) {
        struct tcp_posix c;
        static struct secd_tls t;
        assert_int_equal(open_session(&c, &t, &s, &p), TVS_NET_OK);
        size_t len = 0, done = 1;
        const uint8_t *leaf = secd_tls_peer_cert(&t, &len);
        assert_int_equal(len, p.len);
        assert_memory_equal(leaf, p.der, len);
        /* Nothing goes to an unverified server. */
        assert_int_equal(secd_tls_write(&t, (const uint8_t *)"GET", 3, &done),
                         SECD_TLS_ERR_UNVERIFIED);
        assert_int_equal(done, 0);
        secd_tls_peer_decide(&t, accept);
        static const char req[] = "GET / HTTP/1.0\r\nHost: x\r\n\r\n";
        enum tvs_net_result w =
            tls_stream_write(&c, &t, (const uint8_t *)req, sizeof req - 1, TIMEOUT_MS);
        if (!accept) {
            assert_int_equal(w, TVS_NET_TLS);
            assert_int_equal(c.stream.tls_status, SECD_TLS_ERR_UNVERIFIED);
        } else {
            assert_int_equal(w, TVS_NET_OK);
            uint8_t buf[256];
            size_t got = 0;
            assert_int_equal(tls_stream_read(&c, &t, buf, sizeof buf, &got, TIMEOUT_MS),
                             TVS_NET_OK);
            assert_true(got >= 15);
            assert_memory_equal(buf, "HTTP/1.1 200 OK", 15);
        }
        tcp_posix_close(&c, &t);
        secd_tls_free(&t);
    }
    assert_int_equal(tvsd_stop(&s, "https_requests"), 1);
}

/* Server faults surface as errors or timeouts, never as answers. */
static void fault(const char *name, enum tvs_net_result want_hs, enum tvs_net_result want,
                  enum secd_tvs_err want_err)
{
    struct tvsd s;
    const char *args[] = {"--fault", name, "--vouch", "tomcat=7", NULL};
    assert_int_equal(tvsd_start(&s, args), 0);
    struct pin p;
    load_pin(&p, "tvs", SECD_TLS_ACCEPT);
    struct tcp_posix c;
    static struct secd_tls t;
    enum tvs_net_result hs = open_session(&c, &t, &s, &p);
    assert_int_equal(hs, want_hs);
    if (hs == TVS_NET_OK) {
        struct secd_tvs_response r;
        enum secd_tvs_err e = SECD_TVS_OK;
        enum tvs_net_result got = ask(&c, &t, "tomcat", 42, &r, &e, 400);
        printf("# fault %s: %s / %s / %s\n", name, tvs_net_result_str(got),
               secd_tls_status_str(c.stream.tls_status), secd_tvs_err_str(e));
        assert_int_equal(got, want);
        if (got == TVS_NET_OK)
            assert_int_equal(e, want_err);
    }
    tcp_posix_close(&c, &t);
    secd_tls_free(&t);
    tvsd_stop(&s, "faults");
}

static void fault_stall(void **state)
{
    (void)state;
    fault("stall", TVS_NET_OK, TVS_NET_TIMEOUT, SECD_TVS_OK);
}

static void fault_stall_accept(void **state)
{
    (void)state;
    struct tvsd s;
    const char *args[] = {"--fault", "stall-accept", NULL};
    assert_int_equal(tvsd_start(&s, args), 0);
    struct pin p;
    load_pin(&p, "tvs", SECD_TLS_ACCEPT);
    struct tcp_posix c;
    static struct secd_tls t;
    assert_int_equal(tcp_posix_connect(&c, "127.0.0.1", s.port, TIMEOUT_MS), TCP_POSIX_OK);
    struct secd_tls_config cfg = {.verify = pin_rule, .verify_ctx = &p};
    assert_int_equal(secd_tls_init(&t, &cfg), SECD_TLS_OK);
    assert_int_equal(tls_stream_handshake(&c, &t, 300), TVS_NET_TIMEOUT);
    tcp_posix_close(&c, &t);
    secd_tls_free(&t);
    tvsd_stop(&s, "faults");
}

static void fault_others(void **state)
{
    (void)state;
    fault("reset", TVS_NET_OK, TVS_NET_RESET, SECD_TVS_OK);
    fault("garbage", TVS_NET_OK, TVS_NET_OK, SECD_TVS_ERR_PROTOCOL_ID);
    fault("oversized", TVS_NET_OK, TVS_NET_OK, SECD_TVS_ERR_TOO_LONG);
    fault("close-mid", TVS_NET_OK, TVS_NET_TLS, SECD_TVS_OK); /* no close_notify */
    fault("wrong-session", TVS_NET_OK, TVS_NET_OK, SECD_TVS_ERR_SESSION);
}

static void fault_no_tls(void **state)
{
    (void)state;
    struct tvsd s;
    const char *args[] = {"--fault", "no-tls", NULL};
    assert_int_equal(tvsd_start(&s, args), 0);
    struct pin p;
    load_pin(&p, "tvs", SECD_TLS_ACCEPT);
    struct tcp_posix c;
    static struct secd_tls t;
    enum tvs_net_result r = open_session(&c, &t, &s, &p);
    assert_true(r == TVS_NET_TLS || r == TVS_NET_RESET);
    assert_true(c.stream.tls_status == SECD_TLS_ERR_EOF || c.stream.tls_status == SECD_TLS_ERR_IO);
    tcp_posix_close(&c, &t);
    secd_tls_free(&t);
    tvsd_stop(&s, "faults");
}

static void refused_port(void **state)
{
    (void)state;
    struct tvsd s;
    assert_int_equal(tvsd_start(&s, NULL), 0);
    uint16_t port = s.port;
    tvsd_stop(&s, "connections"); /* now nobody listens there */
    struct tcp_posix c;
    assert_int_equal(tcp_posix_connect(&c, "127.0.0.1", port, 1000), TCP_POSIX_REFUSED);
    assert_int_equal(tcp_posix_connect(&c, "no-such-host.invalid", 2445, 1000),
                     TCP_POSIX_RESOLVE);
}

int main(void)
{
    tvsd_keys();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pinned_server_vouches), cmocka_unit_test(wrong_pin_refused),
        cmocka_unit_test(tls10_refused),         cmocka_unit_test(static_rsa_suite),
        cmocka_unit_test(deferred_decision),     cmocka_unit_test(fault_stall),
        cmocka_unit_test(fault_stall_accept),
        cmocka_unit_test(fault_others),          cmocka_unit_test(fault_no_tls),
        cmocka_unit_test(refused_port),
        cmocka_unit_test(stingy_transport_moves_every_byte),
        cmocka_unit_test(transport_broken_mid_handshake),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
