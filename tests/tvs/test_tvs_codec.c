/* secd/tvs: request encoding, response parsing (every refusal path) and
 * the cache (TTL expiry, default TTL, eviction rule). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "secd/tvs.h"

static const uint8_t cert[] = {0x30, 0x82, 0x00, 0x03, 0xAA, 0xBB, 0xCC};

static void request_bytes(void **state)
{
    (void)state;
    uint8_t out[128];
    size_t len = 0;
    assert_int_equal(secd_tvs_encode_request(out, sizeof out, 0xA1B2C3D4,
                                             "CP-8845-SEP001E7A4C11A1", cert, sizeof cert, &len),
                     SECD_TVS_OK);
    static const uint8_t head[] = {87, 1, 1, 0, 0xA1, 0xB2, 0xC3, 0xD4, 0, 37};
    assert_int_equal(len, 10 + 3 + 1 + 23 + 3 + sizeof cert);
    assert_memory_equal(out, head, sizeof head);
    assert_int_equal(out[10], 1); /* device name: 0x01 prefix, no NUL */
    assert_int_equal(out[11] << 8 | out[12], 24);
    assert_int_equal(out[13], 0x01);
    assert_memory_equal(out + 14, "CP-8845-SEP001E7A4C11A1", 23);
    assert_int_equal(out[37], 2);
    assert_int_equal(out[38] << 8 | out[39], sizeof cert);
    assert_memory_equal(out + 40, cert, sizeof cert);
    /* Too small a buffer, empty name, empty certificate. */
    assert_int_equal(secd_tvs_encode_request(out, len - 1, 1, "CP-8845-SEP001E7A4C11A1", cert,
                                             sizeof cert, &len),
                     SECD_TVS_ERR_ARGS);
    assert_int_equal(secd_tvs_encode_request(out, sizeof out, 1, "", cert, sizeof cert, &len),
                     SECD_TVS_ERR_ARGS);
    assert_int_equal(secd_tvs_encode_request(out, sizeof out, 1, "CP", cert, 0, &len),
                     SECD_TVS_ERR_ARGS);
}

/* The head alone (what the phone sends before the certificate's bytes)
 * is the whole request without the certificate. */
static void request_head_then_cert(void **state)
{
    (void)state;
    uint8_t whole[128], head[SECD_TVS_MAX_REQUEST_HEAD];
    size_t wl = 0, hl = 0;
    const char *name = "CP-8845-SEP001E7A4C11A1";
    assert_int_equal(secd_tvs_encode_request(whole, sizeof whole, 7, name, cert, sizeof cert, &wl),
                     SECD_TVS_OK);
    assert_int_equal(secd_tvs_encode_request_head(head, sizeof head, 7, name, sizeof cert, &hl),
                     SECD_TVS_OK);
    assert_int_equal(hl + sizeof cert, wl);
    assert_memory_equal(head, whole, hl);
    assert_int_equal(secd_tvs_encode_request_head(head, hl - 1, 7, name, sizeof cert, &hl),
                     SECD_TVS_ERR_ARGS);
    assert_int_equal(secd_tvs_encode_request_head(head, sizeof head, 7, name,
                                                  SECD_TVS_MAX_CERT + 1u, &hl),
                     SECD_TVS_ERR_ARGS);
}

/* Builds a response: header + raw body. */
static size_t response(uint8_t *out, uint32_t session, const uint8_t *body, size_t n)
{
    out[0] = 87;
    out[1] = 1;
    out[2] = 2;
    out[3] = 0;
    out[4] = (uint8_t)(session >> 24);
    out[5] = (uint8_t)(session >> 16);
    out[6] = (uint8_t)(session >> 8);
    out[7] = (uint8_t)session;
    out[8] = (uint8_t)(n >> 8);
    out[9] = (uint8_t)n;
    memcpy(out + 10, body, n);
    return 10 + n;
}

static void response_valid(void **state)
{
    (void)state;
    static const uint8_t body[] = {7, 0, 1, 0, 8, 0, 2, 2, 7, 9, 0, 4, 0, 0, 0x0e, 0x10,
                                   /* unknown element skipped */ 42, 0, 1, 9};
    uint8_t msg[64];
    size_t n = response(msg, 77, body, sizeof body), need = 0;
    /* Framing: the header says how much to read. */
    assert_int_equal(secd_tvs_message_len(msg, 3, &need), SECD_TVS_NEED_MORE);
    assert_int_equal(secd_tvs_message_len(msg, 10, &need), SECD_TVS_NEED_MORE);
    assert_int_equal(need, n);
    assert_int_equal(secd_tvs_message_len(msg, n, &need), SECD_TVS_OK);
    struct secd_tvs_response r;
    assert_int_equal(secd_tvs_parse_response(msg, n, 77, &r), SECD_TVS_OK);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.roles, (1ull << 2) | (1ull << 7));
    assert_int_equal(r.n_roles, 2);
    assert_true(r.has_ttl);
    assert_int_equal(r.ttl, 3600);
}

static void response_without_ttl_or_roles(void **state)
{
    (void)state;
    static const uint8_t body[] = {7, 0, 1, 1};
    uint8_t msg[32];
    size_t n = response(msg, 5, body, sizeof body);
    struct secd_tvs_response r;
    assert_int_equal(secd_tvs_parse_response(msg, n, 5, &r), SECD_TVS_OK);
    assert_int_equal(r.status, 1);
    assert_false(r.has_ttl);
    assert_int_equal(r.roles, 0);
}

static void expect(const uint8_t *body, size_t len, enum secd_tvs_err want)
{
    uint8_t msg[64];
    size_t n = response(msg, 9, body, len);
    struct secd_tvs_response r;
    assert_int_equal(secd_tvs_parse_response(msg, n, 9, &r), want);
}

static void response_refusals(void **state)
{
    (void)state;
    static const uint8_t no_status[] = {8, 0, 1, 2};
    expect(no_status, sizeof no_status, SECD_TVS_ERR_NO_STATUS);
    static const uint8_t dup_status[] = {7, 0, 1, 0, 7, 0, 1, 0};
    expect(dup_status, sizeof dup_status, SECD_TVS_ERR_MALFORMED);
    static const uint8_t long_status[] = {7, 0, 2, 0, 0};
    expect(long_status, sizeof long_status, SECD_TVS_ERR_MALFORMED);
    static const uint8_t short_ttl[] = {7, 0, 1, 0, 9, 0, 3, 0, 0, 1};
    expect(short_ttl, sizeof short_ttl, SECD_TVS_ERR_MALFORMED);
    static const uint8_t overrun[] = {7, 0, 1, 0, 8, 0, 9, 2};
    expect(overrun, sizeof overrun, SECD_TVS_ERR_MALFORMED);
    static const uint8_t cut_header[] = {7, 0, 1, 0, 8, 0};
    expect(cut_header, sizeof cut_header, SECD_TVS_ERR_MALFORMED);
    static const uint8_t dup_roles[] = {7, 0, 1, 0, 8, 0, 1, 2, 8, 0, 1, 7};
    expect(dup_roles, sizeof dup_roles, SECD_TVS_ERR_MALFORMED);

    static const uint8_t ok[] = {7, 0, 1, 0};
    uint8_t msg[32];
    size_t n = response(msg, 9, ok, sizeof ok), need;
    struct secd_tvs_response r;
    assert_int_equal(secd_tvs_parse_response(msg, n, 10, &r), SECD_TVS_ERR_SESSION);
    assert_int_equal(secd_tvs_parse_response(msg, n - 1, 9, &r), SECD_TVS_NEED_MORE);
    msg[8] = 0xFF; /* body length 65280+: refused from the header alone */
    assert_int_equal(secd_tvs_message_len(msg, 10, &need), SECD_TVS_ERR_TOO_LONG);
    msg[8] = 0;
    msg[2] = 1;
    assert_int_equal(secd_tvs_parse_response(msg, n, 9, &r), SECD_TVS_ERR_COMMAND);
    msg[2] = 2;
    msg[1] = 2;
    assert_int_equal(secd_tvs_message_len(msg, 2, &need), SECD_TVS_ERR_VERSION);
    msg[0] = 'H'; /* e.g. an HTTP server on the TVS port */
    assert_int_equal(secd_tvs_message_len(msg, 1, &need), SECD_TVS_ERR_PROTOCOL_ID);
    /* Trailing bytes after the announced body. */
    msg[0] = 87;
    msg[1] = 1;
    assert_int_equal(secd_tvs_parse_response(msg, n + 1, 9, &r), SECD_TVS_ERR_MALFORMED);
}

static void key_of(uint8_t key[32], uint8_t tag)
{
    uint8_t c[4] = {0x30, 0x02, tag, tag};
    assert_int_equal(secd_tvs_cert_key(c, sizeof c, key), 0);
}

static void cache_ttl(void **state)
{
    (void)state;
    static struct secd_tvs_cache c;
    secd_tvs_cache_init(&c);
    uint8_t k[32], other[32];
    key_of(k, 1);
    key_of(other, 2);
    assert_memory_not_equal(k, other, 32);
    uint64_t t0 = 5000;
    assert_null(secd_tvs_cache_lookup(&c, k, t0));
    assert_non_null(secd_tvs_cache_store(&c, k, 1ull << 7, SECD_TVS_DEFAULT_TTL, t0));
    const struct secd_tvs_cache_entry *e = secd_tvs_cache_lookup(&c, k, t0 + 1);
    assert_non_null(e);
    assert_int_equal(e->roles, 1ull << 7);
    assert_int_equal(e->ttl, 86400);
    assert_null(secd_tvs_cache_lookup(&c, other, t0 + 1));
    /* Live until the last millisecond of the TTL, gone at its end. */
    assert_non_null(secd_tvs_cache_lookup(&c, k, t0 + 86400000ull - 1));
    assert_null(secd_tvs_cache_lookup(&c, k, t0 + 86400000ull));
    assert_int_equal(secd_tvs_cache_count(&c, t0), 0);
    /* TTL 0: not cached. */
    assert_null(secd_tvs_cache_store(&c, k, 1, 0, t0));
    assert_null(secd_tvs_cache_lookup(&c, k, t0));
    /* Storing the same key again replaces the entry. */
    secd_tvs_cache_store(&c, k, 1, 10, t0);
    secd_tvs_cache_store(&c, k, 4, 20, t0 + 1);
    assert_int_equal(secd_tvs_cache_count(&c, t0 + 2), 1);
    assert_int_equal(secd_tvs_cache_lookup(&c, k, t0 + 15000)->roles, 4);
}

static void cache_eviction(void **state)
{
    (void)state;
    static struct secd_tvs_cache c;
    secd_tvs_cache_init(&c);
    uint8_t keys[SECD_TVS_CACHE_SIZE + 2][32];
    for (int i = 0; i < SECD_TVS_CACHE_SIZE + 2; i++)
        key_of(keys[i], (uint8_t)(i + 10));
    /* Fill: entry i expires at 1000 + 100 * (i + 1) s, except entry 5 which
     * expires first. */
    for (int i = 0; i < SECD_TVS_CACHE_SIZE; i++)
        secd_tvs_cache_store(&c, keys[i], 1, i == 5 ? 50 : 100u * (unsigned)(i + 1), 1000);
    assert_int_equal(secd_tvs_cache_count(&c, 1000), SECD_TVS_CACHE_SIZE);
    /* Full: the entry that expires soonest (5) goes. */
    secd_tvs_cache_store(&c, keys[SECD_TVS_CACHE_SIZE], 1, 86400, 2000);
    assert_null(secd_tvs_cache_lookup(&c, keys[5], 2000));
    assert_non_null(secd_tvs_cache_lookup(&c, keys[0], 2000));
    assert_non_null(secd_tvs_cache_lookup(&c, keys[SECD_TVS_CACHE_SIZE], 2000));
    /* Next: entry 0 (100 s) is now the soonest. */
    secd_tvs_cache_store(&c, keys[SECD_TVS_CACHE_SIZE + 1], 1, 86400, 3000);
    assert_null(secd_tvs_cache_lookup(&c, keys[0], 3000));
    assert_non_null(secd_tvs_cache_lookup(&c, keys[1], 3000));
    assert_int_equal(secd_tvs_cache_count(&c, 3000), SECD_TVS_CACHE_SIZE);
    /* An expired entry is reused before any live one is evicted. */
    uint64_t later = 1000 + 250 * 1000; /* entries 1 (200 s) expired */
    uint8_t fresh[32];
    key_of(fresh, 200);
    size_t before = secd_tvs_cache_count(&c, later);
    secd_tvs_cache_store(&c, fresh, 1, 60, later);
    assert_int_equal(secd_tvs_cache_count(&c, later), before + 1);
    assert_non_null(secd_tvs_cache_lookup(&c, keys[2], later)); /* 300 s: still live */
    secd_tvs_cache_clear(&c);
    assert_int_equal(secd_tvs_cache_count(&c, later), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(request_bytes),      cmocka_unit_test(request_head_then_cert),
        cmocka_unit_test(response_valid),
        cmocka_unit_test(response_without_ttl_or_roles), cmocka_unit_test(response_refusals),
        cmocka_unit_test(cache_ttl),          cmocka_unit_test(cache_eviction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
