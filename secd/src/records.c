/* Trust-list records (wire-formats section 2): a sequence of records after
 * the header, each a run of TLVs opened by tag 1 (record length). */
#include <string.h>

#include "secd/secd.h"

#define R_LENGTH 1
#define R_DNS 2
#define R_SUBJECT 3
#define R_ROLE 4
#define R_ISSUER 5
#define R_SERIAL 6
#define R_PUBKEY 7
#define R_SIGNATURE 8
#define R_CERT 9
#define R_IP 10
#define R_CERT_HASH 11
#define R_HASH_ALG 12

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

void secd_records_begin(struct secd_rec_iter *it, const uint8_t *file, size_t len,
                        const struct secd_header *h)
{
    it->file = file;
    it->len = len;
    it->pos = h->header_len;
}

/* Strings may be empty (no bytes) or NUL-terminated without interior NUL. */
static int take_string(const uint8_t *v, size_t n, struct secd_bytes *out)
{
    if (n > 0 && (v[n - 1] != 0 || memchr(v, 0, n - 1) != NULL))
        return -1;
    out->p = v;
    out->len = n ? n - 1 : 0;
    return 0;
}

static void take_bytes(const uint8_t *v, size_t n, struct secd_bytes *out)
{
    out->p = v;
    out->len = n;
}

static enum secd_err take_field(struct secd_record *r, unsigned tag, const uint8_t *v, size_t n)
{
    switch (tag) {
    case R_DNS: return take_string(v, n, &r->dns_name) ? SECD_ERR_MALFORMED : SECD_OK;
    case R_SUBJECT: return take_string(v, n, &r->subject) ? SECD_ERR_MALFORMED : SECD_OK;
    case R_ISSUER: return take_string(v, n, &r->issuer) ? SECD_ERR_MALFORMED : SECD_OK;
    case R_ROLE:
        if (n != 2)
            return SECD_ERR_MALFORMED;
        r->has_role = 1;
        r->role = be16(v);
        return SECD_OK;
    case R_SERIAL:
        if (n > 64)
            return SECD_ERR_MALFORMED;
        take_bytes(v, n, &r->serial);
        return SECD_OK;
    case R_PUBKEY: take_bytes(v, n, &r->public_key); return SECD_OK;
    case R_SIGNATURE: take_bytes(v, n, &r->cert_signature); return SECD_OK;
    case R_CERT: take_bytes(v, n, &r->certificate); return SECD_OK;
    case R_IP: take_bytes(v, n, &r->ip_address); return SECD_OK;
    case R_CERT_HASH:
        if (n == 0 || n > 64)
            return SECD_ERR_MALFORMED;
        take_bytes(v, n, &r->cert_hash);
        return SECD_OK;
    case R_HASH_ALG:
        if (n != 1)
            return SECD_ERR_MALFORMED;
        r->cert_hash_alg = v[0];
        return SECD_OK;
    }
    return SECD_ERR_MALFORMED;
}

/* Walks the TLVs of one record in [start+5, end). Returns how the walk ended:
 * SECD_OK when the TLVs tile the range exactly, SECD_ERR_TRUNCATED when a
 * TLV runs past `end`, SECD_ERR_MALFORMED for a bad field. */
static enum secd_err walk_fields(const uint8_t *file, size_t start, size_t end,
                                 struct secd_record *r)
{
    uint32_t seen = 1u << R_LENGTH;
    size_t pos = start + 5;
    while (pos < end) {
        if (pos + 3 > end)
            return SECD_ERR_TRUNCATED;
        unsigned tag = file[pos];
        size_t n = be16(file + pos + 1);
        if (pos + 3 + n > end)
            return SECD_ERR_TRUNCATED;
        if (tag > R_HASH_ALG || tag == 0 || (seen & (1u << tag)))
            return SECD_ERR_MALFORMED;
        seen |= 1u << tag;
        enum secd_err e = take_field(r, tag, file + pos + 3, n);
        if (e != SECD_OK)
            return e;
        pos += 3 + n;
    }
    return SECD_OK;
}

enum secd_err secd_records_next(struct secd_rec_iter *it, struct secd_record *r)
{
    memset(r, 0, sizeof *r);
    size_t start = it->pos;
    size_t remain = it->len - start;
    if (remain == 0)
        return SECD_OK; /* end: r->length == 0 */
    if (remain < 5)
        return SECD_ERR_TRUNCATED;
    if (it->file[start] != R_LENGTH || be16(it->file + start + 1) != 2)
        return SECD_ERR_MALFORMED;
    size_t rec_len = be16(it->file + start + 3);
    if (rec_len < 5)
        return SECD_ERR_MALFORMED;
    if (rec_len > remain) {
        /* Either the file was cut inside this record (a field is cut too),
         * or the length field lies (every field is whole, the file ends
         * exactly after the last one). */
        enum secd_err e = walk_fields(it->file, start, it->len, r);
        return e == SECD_OK ? SECD_ERR_RECORD_LENGTH_OVERRUN
               : e == SECD_ERR_TRUNCATED ? SECD_ERR_TRUNCATED : e;
    }
    enum secd_err e = walk_fields(it->file, start, start + rec_len, r);
    if (e != SECD_OK)
        return SECD_ERR_MALFORMED; /* a field crosses the record's own end */
    r->offset = (uint32_t)start;
    r->length = (uint16_t)rec_len;
    it->pos = start + rec_len;
    return SECD_OK;
}

enum secd_err secd_records_check(const uint8_t *file, size_t len, const struct secd_header *h,
                                 size_t *count)
{
    struct secd_rec_iter it;
    struct secd_record r;
    *count = 0;
    secd_records_begin(&it, file, len, h);
    for (;;) {
        enum secd_err e = secd_records_next(&it, &r);
        if (e != SECD_OK)
            return e;
        if (r.length == 0)
            return SECD_OK;
        (*count)++;
    }
}

/* Serial numbers compare as unsigned integers (leading zeros ignored). */
static int same_serial(struct secd_bytes a, struct secd_bytes b)
{
    while (a.len > 1 && a.p[0] == 0) {
        a.p++;
        a.len--;
    }
    while (b.len > 1 && b.p[0] == 0) {
        b.p++;
        b.len--;
    }
    return a.len == b.len && a.len > 0 && memcmp(a.p, b.p, a.len) == 0;
}

int secd_record_matches_signer(const struct secd_record *r, const struct secd_header *h)
{
    return r->issuer.len > 0 && r->issuer.len == h->issuer_name.len &&
           memcmp(r->issuer.p, h->issuer_name.p, r->issuer.len) == 0 &&
           same_serial(r->serial, h->serial);
}

void secd_tl_records_begin(struct secd_tl_iter *it, const struct secd_tl *tl)
{
    it->tl = tl;
    it->pos = tl->hdr.header_len;
    if (!tl->src)
        secd_records_begin(&it->mem, tl->data, tl->len, &tl->hdr);
}

/* A source-backed list: the record at it->pos is read whole into src->buf
 * (or, when it claims to run past the end, what is left of the list) and
 * judged by secd_records_next() exactly as in memory. */
enum secd_err secd_tl_records_next(struct secd_tl_iter *it, struct secd_record *r)
{
    const struct secd_tl *tl = it->tl;
    if (!tl->src)
        return secd_records_next(&it->mem, r);
    const struct secd_tl_source *src = tl->src;
    memset(r, 0, sizeof *r);
    if (it->pos >= tl->len)
        return SECD_OK; /* end */
    size_t remain = tl->len - it->pos;
    size_t want = remain < 5 ? remain : 5;
    if (src->cap < 5)
        return SECD_ERR_TOO_LARGE; /* not even a record's length field */
    if (src->read(src->ctx, (uint32_t)it->pos, src->buf, want) != 0)
        return SECD_ERR_CRYPTO;
    if (want == 5 && src->buf[0] == R_LENGTH && be16(src->buf + 1) == 2) {
        size_t rec_len = be16(src->buf + 3);
        if (rec_len > 5)
            want = rec_len < remain ? rec_len : remain;
    }
    if (want > src->cap)
        return SECD_ERR_TOO_LARGE;
    if (want > 5 && src->read(src->ctx, (uint32_t)it->pos, src->buf, want) != 0)
        return SECD_ERR_CRYPTO;
    struct secd_rec_iter one = {src->buf, want, 0};
    enum secd_err e = secd_records_next(&one, r);
    if (e != SECD_OK || r->length == 0)
        return e;
    r->offset = (uint32_t)it->pos;
    it->pos += r->length;
    return SECD_OK;
}
