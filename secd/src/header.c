/* Signed-file header parser (wire-formats sections 1 and 3).
 *
 * The header is a flat walk of TLVs; containers (3, 7, 9, 16, 17, 21) are
 * entered inline and their children must end exactly where the container
 * says. Tag 13 is a single padding byte. Every length is checked against
 * both the header length and the file length, so the verdict can tell a
 * cut file (truncated) from a lying length field (malformed,
 * header_length_exceeds_file). */
#include <string.h>

#include "secd/secd.h"

#define TAG_VERSION 1
#define TAG_HEADER_LEN 2
#define TAG_SIGNER_INFO 3
#define TAG_SIGNER_NAME 4
#define TAG_SERIAL 5
#define TAG_ISSUER 6
#define TAG_SIG_INFO 7
#define TAG_HASH_ALG 8
#define TAG_SIG_ALG_INFO 9
#define TAG_SIG_ALG 10
#define TAG_MODULUS 11
#define TAG_SIGNATURE 12
#define TAG_PADDING 13
#define TAG_FILENAME 14
#define TAG_TIMESTAMP 15
#define TAG_ENC_INFO 16
#define TAG_IV_INFO 17
#define TAG_IV_UNKNOWN 18
#define TAG_IV 19
#define TAG_PAD_COUNT 20
#define TAG_KEY_INFO 21
#define TAG_KEY_UNKNOWN 22
#define TAG_KEY_BITS 23
#define TAG_KEY_ALG 24
#define TAG_WRAPPED_KEY 25
#define TAG_DIGEST_ALG 26
#define TAG_DIGEST 27
#define TAG_SIGNER_VERSION 28
#define TAG_MAX 28
#define MAX_DEPTH 3

/* Which container each tag must sit in (0: top level). */
static const uint8_t parent_of[TAG_MAX + 1] = {
    [TAG_SIGNER_NAME] = TAG_SIGNER_INFO, [TAG_SERIAL] = TAG_SIGNER_INFO,
    [TAG_ISSUER] = TAG_SIGNER_INFO,      [TAG_HASH_ALG] = TAG_SIG_INFO,
    [TAG_SIG_ALG_INFO] = TAG_SIG_INFO,   [TAG_SIG_ALG] = TAG_SIG_ALG_INFO,
    [TAG_MODULUS] = TAG_SIG_ALG_INFO,    [TAG_IV_INFO] = TAG_ENC_INFO,
    [TAG_KEY_INFO] = TAG_ENC_INFO,       [TAG_IV_UNKNOWN] = TAG_IV_INFO,
    [TAG_IV] = TAG_IV_INFO,              [TAG_PAD_COUNT] = TAG_IV_INFO,
    [TAG_KEY_UNKNOWN] = TAG_KEY_INFO,    [TAG_KEY_BITS] = TAG_KEY_INFO,
    [TAG_KEY_ALG] = TAG_KEY_INFO,        [TAG_WRAPPED_KEY] = TAG_KEY_INFO,
};

static int is_container(unsigned tag)
{
    return tag == TAG_SIGNER_INFO || tag == TAG_SIG_INFO || tag == TAG_SIG_ALG_INFO ||
           tag == TAG_ENC_INFO || tag == TAG_IV_INFO || tag == TAG_KEY_INFO;
}

/* Tags every header must carry; the encryption set is added for 2.x. */
static const uint32_t required_plain = 1u << TAG_VERSION | 1u << TAG_HEADER_LEN |
    1u << TAG_SIGNER_INFO | 1u << TAG_SIGNER_NAME | 1u << TAG_SERIAL | 1u << TAG_ISSUER |
    1u << TAG_SIG_INFO | 1u << TAG_HASH_ALG | 1u << TAG_SIG_ALG_INFO | 1u << TAG_SIG_ALG |
    1u << TAG_MODULUS | 1u << TAG_SIGNATURE | 1u << TAG_FILENAME;
static const uint32_t required_enc = 1u << TAG_ENC_INFO | 1u << TAG_IV_INFO |
    1u << TAG_IV_UNKNOWN | 1u << TAG_IV | 1u << TAG_PAD_COUNT | 1u << TAG_KEY_INFO |
    1u << TAG_KEY_UNKNOWN | 1u << TAG_KEY_BITS | 1u << TAG_KEY_ALG | 1u << TAG_WRAPPED_KEY |
    1u << TAG_DIGEST_ALG | 1u << TAG_DIGEST;

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A NUL-terminated string value with no interior NUL; view excludes it. */
static int take_string(const uint8_t *v, size_t n, struct secd_bytes *out)
{
    if (n == 0 || v[n - 1] != 0 || memchr(v, 0, n - 1) != NULL)
        return -1;
    out->p = v;
    out->len = n - 1;
    return 0;
}

static size_t digest_len(uint8_t alg)
{
    switch (alg) {
    case SECD_HASH_SHA1: return 20;
    case SECD_HASH_SHA256: return 32;
    case SECD_HASH_SHA512: return 64;
    }
    return 0;
}

/* Stores one leaf value; returns an error for a value of the wrong shape. */
static enum secd_err take_leaf(struct secd_header *h, unsigned tag, const uint8_t *v, size_t n,
                               uint32_t tlv_off)
{
    switch (tag) {
    case TAG_SIGNER_VERSION:
        if (n != 2)
            return SECD_ERR_MALFORMED;
        h->has_signer_version = 1;
        h->signer_ver_major = v[0];
        h->signer_ver_minor = v[1];
        return SECD_OK;
    case TAG_SIGNER_NAME:
        return take_string(v, n, &h->signer_name) ? SECD_ERR_MALFORMED : SECD_OK;
    case TAG_ISSUER:
        return take_string(v, n, &h->issuer_name) ? SECD_ERR_MALFORMED : SECD_OK;
    case TAG_FILENAME:
        return take_string(v, n, &h->filename) ? SECD_ERR_MALFORMED : SECD_OK;
    case TAG_SERIAL:
        if (n == 0 || n > 64)
            return SECD_ERR_MALFORMED;
        h->serial.p = v;
        h->serial.len = n;
        return SECD_OK;
    case TAG_HASH_ALG:
        if (n != 1)
            return SECD_ERR_MALFORMED;
        h->hash_alg = v[0];
        return digest_len(v[0]) ? SECD_OK : SECD_ERR_UNSUPPORTED;
    case TAG_SIG_ALG:
        if (n != 1)
            return SECD_ERR_MALFORMED;
        h->sig_alg = v[0];
        return v[0] == 0 ? SECD_OK : SECD_ERR_UNSUPPORTED;
    case TAG_MODULUS:
        if (n != 1 || v[0] > 3)
            return SECD_ERR_MALFORMED;
        h->sig_modulus_index = v[0];
        return SECD_OK;
    case TAG_SIGNATURE:
        if (n == 0 || n > 512)
            return SECD_ERR_MALFORMED;
        h->signature.p = v;
        h->signature.len = n;
        h->sig_tlv_offset = tlv_off;
        return SECD_OK;
    case TAG_TIMESTAMP:
        if (n != 4)
            return SECD_ERR_MALFORMED;
        h->has_timestamp = 1;
        h->timestamp = be32(v);
        return SECD_OK;
    case TAG_IV_UNKNOWN:
    case TAG_KEY_UNKNOWN:
        return n == 1 ? SECD_OK : SECD_ERR_MALFORMED;
    case TAG_IV:
        if (n != 16)
            return SECD_ERR_MALFORMED;
        h->iv.p = v;
        h->iv.len = n;
        return SECD_OK;
    case TAG_PAD_COUNT:
        if (n != 2)
            return SECD_ERR_MALFORMED;
        h->pad_count = be16(v);
        return SECD_OK;
    case TAG_KEY_BITS:
        if (n != 2)
            return SECD_ERR_MALFORMED;
        h->wrapped_key_bits = be16(v);
        return SECD_OK;
    case TAG_KEY_ALG:
        if (n != 1)
            return SECD_ERR_MALFORMED;
        h->key_alg = v[0];
        return v[0] == 1 ? SECD_OK : SECD_ERR_UNSUPPORTED;
    case TAG_WRAPPED_KEY:
        if (n == 0 || n > 512)
            return SECD_ERR_MALFORMED;
        h->wrapped_key.p = v;
        h->wrapped_key.len = n;
        return SECD_OK;
    case TAG_DIGEST_ALG:
        if (n != 1)
            return SECD_ERR_MALFORMED;
        h->digest_alg = v[0];
        return digest_len(v[0]) ? SECD_OK : SECD_ERR_UNSUPPORTED;
    case TAG_DIGEST:
        if (n == 0 || n > 64)
            return SECD_ERR_MALFORMED;
        h->digest.p = v;
        h->digest.len = n;
        return SECD_OK;
    }
    return SECD_ERR_MALFORMED; /* version/header length repeated, or unknown */
}

struct walk {
    const uint8_t *file;
    size_t len;       /* file length */
    size_t limit;     /* min(header length, file length) */
    size_t hdr_len;
    uint32_t seen;    /* bit per tag */
    size_t ends[MAX_DEPTH];
    uint8_t tags[MAX_DEPTH];
    int depth;
};

enum walk_stop { WALK_DONE, WALK_EOF, WALK_BAD };

/* Walks TLVs from offset 10 up to the limit. Sets *err for WALK_BAD. */
static enum walk_stop walk_header(struct walk *w, struct secd_header *h, enum secd_err *err)
{
    size_t pos = 10;
    while (pos < w->limit) {
        while (w->depth > 0 && pos == w->ends[w->depth - 1])
            w->depth--;
        unsigned tag = w->file[pos];
        if (tag == TAG_PADDING) {
            if (w->depth != 0)
                goto bad;
            pos++;
            continue;
        }
        /* Crossing the declared header end is malformed whenever the file
         * holds the whole header; only a header cut by the end of the file
         * is "truncated". */
        if (pos + 3 > w->hdr_len && w->hdr_len <= w->len)
            goto bad;
        if (pos + 3 > w->len)
            return WALK_EOF;
        if (pos + 3 > w->hdr_len)
            goto bad;
        size_t n = be16(w->file + pos + 1);
        size_t end = pos + 3 + n;
        if (tag == 0 || tag > TAG_MAX || tag == TAG_VERSION || tag == TAG_HEADER_LEN ||
            (w->seen & (1u << tag)))
            goto bad;
        unsigned parent = w->depth ? w->tags[w->depth - 1] : 0;
        if (parent_of[tag] != parent)
            goto bad;
        if (end > w->hdr_len && w->hdr_len <= w->len)
            goto bad;
        if (end > w->len)
            return WALK_EOF;
        if (end > w->hdr_len || (w->depth && end > w->ends[w->depth - 1]))
            goto bad;
        w->seen |= 1u << tag;
        if (is_container(tag)) {
            if (w->depth == MAX_DEPTH)
                goto bad;
            w->ends[w->depth] = end;
            w->tags[w->depth] = (uint8_t)tag;
            w->depth++;
            pos += 3;
            continue;
        }
        *err = take_leaf(h, tag, w->file + pos + 3, n, (uint32_t)pos);
        if (*err != SECD_OK)
            return WALK_BAD;
        pos = end;
    }
    while (w->depth > 0 && pos == w->ends[w->depth - 1])
        w->depth--;
    if (w->depth != 0) {
        *err = SECD_ERR_MALFORMED;
        return WALK_BAD;
    }
    return WALK_DONE;
bad:
    *err = SECD_ERR_MALFORMED;
    return WALK_BAD;
}

static uint32_t required_tags(const struct secd_header *h)
{
    return h->ver_major >= 2 ? (required_plain | required_enc) : required_plain;
}

/* Cross-field checks once all tags are in. */
static enum secd_err check_consistency(struct secd_header *h, uint32_t seen)
{
    if ((seen & required_tags(h)) != required_tags(h))
        return SECD_ERR_MALFORMED;
    if (h->signature.len != (size_t)64 << h->sig_modulus_index)
        return SECD_ERR_MALFORMED;
    h->encrypted = (seen & (1u << TAG_ENC_INFO)) != 0;
    if (h->encrypted != (h->ver_major >= 2))
        return SECD_ERR_MALFORMED;
    if (h->encrypted) {
        if (h->digest.len != digest_len(h->digest_alg))
            return SECD_ERR_MALFORMED;
        if (h->wrapped_key_bits != h->wrapped_key.len * 8)
            return SECD_ERR_MALFORMED;
    }
    return SECD_OK;
}

enum secd_err secd_parse_header(const uint8_t *file, size_t len, struct secd_header *h)
{
    memset(h, 0, sizeof *h);
    if (len > SECD_MAX_FILE_SIZE)
        return SECD_ERR_TOO_LARGE;
    /* Version (5 bytes) then header length (5 bytes) always open a file. */
    if (len < 10)
        return (len > 0 && file[0] != TAG_VERSION) ? SECD_ERR_MALFORMED : SECD_ERR_TRUNCATED;
    if (file[0] != TAG_VERSION || be16(file + 1) != 2 || file[5] != TAG_HEADER_LEN ||
        be16(file + 6) != 2)
        return SECD_ERR_MALFORMED;
    h->ver_major = file[3];
    h->ver_minor = file[4];
    if (h->ver_major != 1 && h->ver_major != 2)
        return SECD_ERR_UNSUPPORTED;
    h->header_len = be16(file + 8);
    if (h->header_len < 10)
        return SECD_ERR_MALFORMED;

    struct walk w = {.file = file, .len = len, .hdr_len = h->header_len,
                     .limit = h->header_len < len ? h->header_len : len,
                     .seen = 1u << TAG_VERSION | 1u << TAG_HEADER_LEN};
    enum secd_err err = SECD_OK;
    enum walk_stop stop = walk_header(&w, h, &err);
    int complete = (w.seen & required_tags(h)) == required_tags(h);

    if (h->header_len > len) {
        /* The header claims more than the file has. A complete header
         * means the length field lies; an incomplete one means the file
         * was cut. */
        if (complete)
            return SECD_ERR_HEADER_LENGTH_EXCEEDS_FILE;
        return stop == WALK_BAD ? err : SECD_ERR_TRUNCATED;
    }
    if (stop == WALK_BAD)
        return err;
    if (stop == WALK_EOF)
        return SECD_ERR_TRUNCATED; /* cannot happen: limit is the header */
    return check_consistency(h, w.seen);
}
