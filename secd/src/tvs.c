/* TVS protocol codec and cache (see secd/tvs.h). */
#include "secd/tvs.h"

#include <string.h>

#include "secd_internal.h"

#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/hash.h>

const char *secd_tvs_err_str(enum secd_tvs_err e)
{
    switch (e) {
    case SECD_TVS_OK: return "ok";
    case SECD_TVS_NEED_MORE: return "incomplete message";
    case SECD_TVS_ERR_PROTOCOL_ID: return "not a TVS message (protocol id)";
    case SECD_TVS_ERR_VERSION: return "unsupported TVS protocol version";
    case SECD_TVS_ERR_COMMAND: return "not a verify response";
    case SECD_TVS_ERR_SESSION: return "session id does not match the request";
    case SECD_TVS_ERR_TOO_LONG: return "response longer than the limit";
    case SECD_TVS_ERR_MALFORMED: return "malformed response";
    case SECD_TVS_ERR_NO_STATUS: return "response without status";
    case SECD_TVS_ERR_ARGS: return "request too large";
    }
    return "?";
}

static void put_u16(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint16_t get_u16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get_u32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void put_header(uint8_t *out, uint8_t command, uint32_t session_id, size_t body_len)
{
    out[0] = SECD_TVS_PROTOCOL_ID;
    out[1] = SECD_TVS_VERSION;
    out[2] = command;
    out[3] = 0;
    put_u32(out + 4, session_id);
    put_u16(out + 8, body_len);
}

enum secd_tvs_err secd_tvs_encode_request_head(uint8_t *out, size_t cap, uint32_t session_id,
                                               const char *device_name, size_t cert_len,
                                               size_t *len)
{
    *len = 0;
    size_t name_len = device_name ? strlen(device_name) : 0;
    if (name_len == 0 || name_len > SECD_TVS_MAX_DEVICE_NAME || cert_len == 0 ||
        cert_len > SECD_TVS_MAX_CERT)
        return SECD_TVS_ERR_ARGS;
    size_t body = 3 + 1 + name_len + 3 + cert_len;
    size_t head = SECD_TVS_HEADER_LEN + 3 + 1 + name_len + 3;
    if (head > cap)
        return SECD_TVS_ERR_ARGS;
    put_header(out, SECD_TVS_VERIFY_REQUEST, session_id, body);
    uint8_t *p = out + SECD_TVS_HEADER_LEN;
    p[0] = SECD_TVS_TAG_DEVICE_NAME;
    put_u16(p + 1, 1 + name_len);
    p[3] = 0x01; /* the name's prefix byte, as the phone sends it */
    /* Length-prefixed wire field: the NUL is deliberately not sent. */
    memcpy(p + 4, device_name, name_len); /* NOLINT(bugprone-not-null-terminated-result) */
    p += 4 + name_len;
    p[0] = SECD_TVS_TAG_CERTIFICATE;
    put_u16(p + 1, cert_len);
    *len = head;
    return SECD_TVS_OK;
}

enum secd_tvs_err secd_tvs_encode_request(uint8_t *out, size_t cap, uint32_t session_id,
                                          const char *device_name, const uint8_t *cert,
                                          size_t cert_len, size_t *len)
{
    size_t head = 0;
    *len = 0;
    enum secd_tvs_err e =
        secd_tvs_encode_request_head(out, cap, session_id, device_name, cert_len, &head);
    if (e != SECD_TVS_OK)
        return e;
    if (cert_len > cap - head)
        return SECD_TVS_ERR_ARGS;
    memcpy(out + head, cert, cert_len);
    *len = head + cert_len;
    return SECD_TVS_OK;
}

enum secd_tvs_err secd_tvs_message_len(const uint8_t *buf, size_t n, size_t *need)
{
    *need = SECD_TVS_HEADER_LEN;
    if (n >= 1 && buf[0] != SECD_TVS_PROTOCOL_ID)
        return SECD_TVS_ERR_PROTOCOL_ID;
    if (n >= 2 && buf[1] != SECD_TVS_VERSION)
        return SECD_TVS_ERR_VERSION;
    if (n < SECD_TVS_HEADER_LEN)
        return SECD_TVS_NEED_MORE;
    size_t body = get_u16(buf + 8);
    if (body > SECD_TVS_MAX_RESPONSE - SECD_TVS_HEADER_LEN)
        return SECD_TVS_ERR_TOO_LONG;
    *need = SECD_TVS_HEADER_LEN + body;
    return n >= *need ? SECD_TVS_OK : SECD_TVS_NEED_MORE;
}

/* One response element into r; `seen` flags duplicates. */
static enum secd_tvs_err take_element(uint8_t tag, const uint8_t *v, size_t len, unsigned *seen,
                                      struct secd_tvs_response *r)
{
    if (tag != SECD_TVS_TAG_STATUS && tag != SECD_TVS_TAG_ROLES && tag != SECD_TVS_TAG_TTL)
        return SECD_TVS_OK; /* unknown elements are skipped */
    unsigned bit = 1u << tag;
    if (*seen & bit)
        return SECD_TVS_ERR_MALFORMED;
    *seen |= bit;
    switch (tag) {
    case SECD_TVS_TAG_STATUS:
        if (len != 1)
            return SECD_TVS_ERR_MALFORMED;
        r->status = v[0];
        return SECD_TVS_OK;
    case SECD_TVS_TAG_TTL:
        if (len != 4)
            return SECD_TVS_ERR_MALFORMED;
        r->has_ttl = 1;
        r->ttl = get_u32(v);
        return SECD_TVS_OK;
    default: /* roles */
        if (len > 255)
            return SECD_TVS_ERR_MALFORMED;
        r->n_roles = (uint8_t)len;
        for (size_t i = 0; i < len; i++)
            if (v[i] < 64)
                r->roles |= 1ull << v[i];
        return SECD_TVS_OK;
    }
}

enum secd_tvs_err secd_tvs_parse_response(const uint8_t *buf, size_t n, uint32_t session_id,
                                          struct secd_tvs_response *r)
{
    memset(r, 0, sizeof *r);
    size_t need;
    enum secd_tvs_err e = secd_tvs_message_len(buf, n, &need);
    if (e != SECD_TVS_OK)
        return e;
    if (n != need)
        return SECD_TVS_ERR_MALFORMED;
    if (buf[2] != SECD_TVS_VERIFY_RESPONSE)
        return SECD_TVS_ERR_COMMAND;
    r->session_id = get_u32(buf + 4);
    if (r->session_id != session_id)
        return SECD_TVS_ERR_SESSION;
    unsigned seen = 0;
    size_t pos = SECD_TVS_HEADER_LEN;
    while (pos < n) {
        if (n - pos < 3)
            return SECD_TVS_ERR_MALFORMED;
        uint8_t tag = buf[pos];
        size_t len = get_u16(buf + pos + 1);
        pos += 3;
        if (len > n - pos)
            return SECD_TVS_ERR_MALFORMED;
        e = take_element(tag, buf + pos, len, &seen, r);
        if (e != SECD_TVS_OK)
            return e;
        pos += len;
    }
    if (!(seen & (1u << SECD_TVS_TAG_STATUS)))
        return SECD_TVS_ERR_NO_STATUS;
    return SECD_TVS_OK;
}

/* --- certificates and records ------------------------------------------ */

int secd_tvs_record_matches(const struct secd_record *r, const uint8_t *der, size_t len)
{
    if (r->certificate.len)
        return r->certificate.len == len && memcmp(r->certificate.p, der, len) == 0;
    if (!r->cert_hash.len)
        return 0;
    uint8_t digest[64];
    size_t dlen;
    enum wc_HashType type = secd_wc_hash_type(r->cert_hash_alg);
    int n = wc_HashGetDigestSize(type);
    if (n <= 0 || (size_t)n != r->cert_hash.len || wc_Hash(type, der, (word32)len, digest,
                                                           sizeof digest) != 0)
        return 0;
    dlen = (size_t)n;
    return memcmp(digest, r->cert_hash.p, dlen) == 0 ? 2 : 0;
}

int secd_tvs_cert_public_key(const uint8_t *der, size_t len, uint8_t *out, size_t cap,
                             size_t *out_len)
{
    return secd_cert_public_key(der, len, out, cap, out_len) == SECD_OK ? 0 : -1;
}

/* --- cache -------------------------------------------------------------- */

void secd_tvs_cache_init(struct secd_tvs_cache *c)
{
    memset(c, 0, sizeof *c);
}

void secd_tvs_cache_clear(struct secd_tvs_cache *c)
{
    memset(c, 0, sizeof *c);
}

int secd_tvs_cert_key(const uint8_t *cert, size_t len, uint8_t key[32])
{
    return wc_Sha256Hash(cert, (word32)len, key) == 0 ? 0 : -1;
}

static int live(const struct secd_tvs_cache_entry *e, uint64_t now_ms)
{
    return e->expires_ms != 0 && now_ms < e->expires_ms;
}

const struct secd_tvs_cache_entry *secd_tvs_cache_lookup(struct secd_tvs_cache *c,
                                                        const uint8_t key[32], uint64_t now_ms)
{
    for (size_t i = 0; i < SECD_TVS_CACHE_SIZE; i++) {
        struct secd_tvs_cache_entry *e = &c->e[i];
        if (e->expires_ms == 0 || memcmp(e->key, key, 32) != 0)
            continue;
        if (live(e, now_ms))
            return e;
        memset(e, 0, sizeof *e); /* expired: gone */
    }
    return NULL;
}

/* The slot a new entry goes to: the same key, else a free or expired slot,
 * else the one that expires soonest (oldest stored on ties). */
static struct secd_tvs_cache_entry *victim(struct secd_tvs_cache *c, const uint8_t key[32],
                                           uint64_t now_ms)
{
    struct secd_tvs_cache_entry *best = NULL;
    for (size_t i = 0; i < SECD_TVS_CACHE_SIZE; i++) {
        struct secd_tvs_cache_entry *e = &c->e[i];
        if (e->expires_ms != 0 && memcmp(e->key, key, 32) == 0)
            return e;
    }
    for (size_t i = 0; i < SECD_TVS_CACHE_SIZE; i++) {
        struct secd_tvs_cache_entry *e = &c->e[i];
        if (!live(e, now_ms))
            return e;
        if (!best || e->expires_ms < best->expires_ms ||
            (e->expires_ms == best->expires_ms && e->stored_ms < best->stored_ms))
            best = e;
    }
    return best;
}

const struct secd_tvs_cache_entry *secd_tvs_cache_store(struct secd_tvs_cache *c,
                                                       const uint8_t key[32], uint64_t roles,
                                                       uint32_t ttl_s, uint64_t now_ms)
{
    if (ttl_s == 0)
        return NULL;
    struct secd_tvs_cache_entry *e = victim(c, key, now_ms);
    memcpy(e->key, key, 32);
    e->roles = roles;
    e->ttl = ttl_s;
    e->stored_ms = now_ms;
    e->expires_ms = now_ms + (uint64_t)ttl_s * 1000u;
    return e;
}

size_t secd_tvs_cache_count(const struct secd_tvs_cache *c, uint64_t now_ms)
{
    size_t n = 0;
    for (size_t i = 0; i < SECD_TVS_CACHE_SIZE; i++)
        n += live(&c->e[i], now_ms);
    return n;
}
