/* Encrypted config (.enc.sgn, wire-formats section 3), streaming:
 * RSA-unwrap the AES-128 key with the device key, AES-128-CBC decrypt
 * block by block holding back only the last block (it carries the 0x0D
 * padding), hash the unpadded plaintext on the way, compare the digest at
 * the end. RAM use is constant whatever the file size.
 *
 * Plaintext reaches the sink before the final digest check: the caller
 * must not act on it until secd_decrypt_final() returned SECD_OK (the
 * ciphertext itself was already authenticated by the file signature). */
#include <string.h>

#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/rsa.h>

#include "secd_internal.h"

#define BLOCK 16
#define PAD_BYTE 0x0D

struct decrypt_state {
    Aes aes;
    wc_HashAlg hash;
    enum wc_HashType hash_type;
    uint8_t pending[BLOCK];  /* ciphertext bytes short of a block */
    size_t pending_len;
    uint8_t held[BLOCK];     /* last plaintext block, not yet emitted */
    int have_held;
    uint16_t pad_count;
    uint8_t digest[64];
    size_t digest_len;
    int failed;
};

_Static_assert(sizeof(struct decrypt_state) <= sizeof(struct secd_decrypt),
               "struct secd_decrypt too small");

static struct decrypt_state *state_of(struct secd_decrypt *d)
{
    return (struct decrypt_state *)(void *)d->opaque;
}

/* RSAES-PKCS1-v1_5 unwrap of the 16-byte AES key. */
static enum secd_err unwrap_key(const struct secd_header *h, const uint8_t *key_der,
                                size_t key_len, uint8_t aes_key[16])
{
    RsaKey *key = XMALLOC(sizeof *key, NULL, DYNAMIC_TYPE_RSA);
    WC_RNG *rng = XMALLOC(sizeof *rng, NULL, DYNAMIC_TYPE_RNG);
    enum secd_err e = SECD_ERR_CRYPTO;
    if (!key || !rng)
        goto out_free;
    if (wc_InitRsaKey(key, NULL) != 0)
        goto out_free;
    if (wc_InitRng(rng) != 0)
        goto out_key;
    word32 idx = 0;
    if (wc_RsaPrivateKeyDecode(key_der, &idx, key, (word32)key_len) != 0) {
        e = SECD_ERR_NO_DEVICE_KEY;
        goto out_rng;
    }
    wc_RsaSetRNG(key, rng);
    uint8_t out[512];
    e = SECD_ERR_KEY_UNWRAP_FAILED;
    if ((size_t)wc_RsaEncryptSize(key) == h->wrapped_key.len) {
        int n = wc_RsaPrivateDecrypt(h->wrapped_key.p, (word32)h->wrapped_key.len, out,
                                     sizeof out, key);
        if (n == 16) {
            memcpy(aes_key, out, 16);
            e = SECD_OK;
        }
    }
    memset(out, 0, sizeof out);
out_rng:
    wc_FreeRng(rng);
out_key:
    wc_FreeRsaKey(key);
out_free:
    XFREE(rng, NULL, DYNAMIC_TYPE_RNG);
    XFREE(key, NULL, DYNAMIC_TYPE_RSA);
    return e;
}

enum secd_err secd_decrypt_begin(struct secd_decrypt *d, const struct secd_header *h,
                                 const uint8_t *private_key_der, size_t key_len)
{
    struct decrypt_state *s = state_of(d);
    memset(s, 0, sizeof *s);
    s->failed = 1;
    if (!h->encrypted)
        return SECD_ERR_MALFORMED;
    if (h->pad_count < 1 || h->pad_count > BLOCK)
        return SECD_ERR_PADDING_LENGTH_INVALID;
    if (!private_key_der || !key_len)
        return SECD_ERR_NO_DEVICE_KEY;
    uint8_t aes_key[16];
    enum secd_err e = unwrap_key(h, private_key_der, key_len, aes_key);
    if (e != SECD_OK)
        return e;
    s->hash_type = secd_wc_hash_type(h->digest_alg);
    if (wc_AesInit(&s->aes, NULL, INVALID_DEVID) != 0 ||
        wc_AesSetKey(&s->aes, aes_key, 16, h->iv.p, AES_DECRYPTION) != 0 ||
        wc_HashInit(&s->hash, s->hash_type) != 0) {
        memset(aes_key, 0, sizeof aes_key);
        return SECD_ERR_CRYPTO;
    }
    memset(aes_key, 0, sizeof aes_key);
    s->pad_count = h->pad_count;
    memcpy(s->digest, h->digest.p, h->digest.len);
    s->digest_len = h->digest.len;
    s->failed = 0;
    return SECD_OK;
}

/* Emits plaintext: into the digest and to the sink. */
static enum secd_err emit(struct decrypt_state *s, const uint8_t *p, size_t n,
                          secd_plain_sink sink, void *ctx)
{
    if (n == 0)
        return SECD_OK;
    if (wc_HashUpdate(&s->hash, s->hash_type, p, (word32)n) != 0)
        return SECD_ERR_CRYPTO;
    if (sink && sink(ctx, p, n) != 0)
        return SECD_ERR_MALFORMED; /* the consumer refused the plaintext */
    return SECD_OK;
}

static enum secd_err take_block(struct decrypt_state *s, const uint8_t *ct, secd_plain_sink sink,
                                void *ctx)
{
    uint8_t pt[BLOCK];
    if (wc_AesCbcDecrypt(&s->aes, pt, ct, BLOCK) != 0)
        return SECD_ERR_CRYPTO;
    enum secd_err e = SECD_OK;
    if (s->have_held)
        e = emit(s, s->held, BLOCK, sink, ctx);
    memcpy(s->held, pt, BLOCK);
    s->have_held = 1;
    return e;
}

enum secd_err secd_decrypt_update(struct secd_decrypt *d, const uint8_t *ct, size_t n,
                                  secd_plain_sink sink, void *sink_ctx)
{
    struct decrypt_state *s = state_of(d);
    if (s->failed)
        return SECD_ERR_CRYPTO;
    while (n > 0) {
        size_t take = BLOCK - s->pending_len;
        if (take > n)
            take = n;
        memcpy(s->pending + s->pending_len, ct, take);
        s->pending_len += take;
        ct += take;
        n -= take;
        if (s->pending_len == BLOCK) {
            enum secd_err e = take_block(s, s->pending, sink, sink_ctx);
            if (e != SECD_OK) {
                s->failed = 1;
                return e;
            }
            s->pending_len = 0;
        }
    }
    return SECD_OK;
}

enum secd_err secd_decrypt_final(struct secd_decrypt *d, secd_plain_sink sink, void *sink_ctx)
{
    struct decrypt_state *s = state_of(d);
    enum secd_err e = SECD_ERR_MALFORMED; /* empty, or not whole blocks */
    uint8_t got[64];
    if (s->failed)
        return SECD_ERR_CRYPTO;
    s->failed = 1;
    if (s->pending_len != 0 || !s->have_held)
        goto out;
    for (size_t i = BLOCK - s->pad_count; i < BLOCK; i++) {
        if (s->held[i] != PAD_BYTE) {
            e = SECD_ERR_PADDING_LENGTH_INVALID;
            goto out;
        }
    }
    e = emit(s, s->held, BLOCK - s->pad_count, sink, sink_ctx);
    if (e != SECD_OK)
        goto out;
    if (wc_HashFinal(&s->hash, s->hash_type, got) != 0) {
        e = SECD_ERR_CRYPTO;
        goto out;
    }
    e = memcmp(got, s->digest, s->digest_len) == 0 ? SECD_OK : SECD_ERR_PLAINTEXT_DIGEST_MISMATCH;
out:
    wc_HashFree(&s->hash, s->hash_type);
    wc_AesFree(&s->aes);
    memset(s, 0, sizeof *s);
    s->failed = 1;
    return e;
}
