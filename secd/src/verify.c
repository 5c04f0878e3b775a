/* Signature checks: RSASSA-PKCS1-v1_5 (SHA-1/256/512) over the whole file
 * minus the signature TLV, streaming-capable. */
#include <stdlib.h>
#include <string.h>

#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/md5.h>
#include <wolfssl/wolfcrypt/rsa.h>

#include "secd_internal.h"

enum wc_HashType secd_wc_hash_type(uint8_t alg)
{
    switch (alg) {
    case SECD_HASH_SHA1: return WC_HASH_TYPE_SHA;
    case SECD_HASH_SHA256: return WC_HASH_TYPE_SHA256;
    case SECD_HASH_SHA512: return WC_HASH_TYPE_SHA512;
    }
    return WC_HASH_TYPE_NONE;
}

int secd_sig_begin(struct secd_sig_ctx *c, const struct secd_header *h)
{
    c->type = secd_wc_hash_type(h->hash_alg);
    c->skip_from = h->sig_tlv_offset;
    c->skip_to = h->sig_tlv_offset + 3 + h->signature.len;
    return wc_HashInit(&c->hash, c->type) == 0 ? 0 : -1;
}

/* Feeds file bytes [pos, pos+n); the signature TLV is left out. */
int secd_sig_update(struct secd_sig_ctx *c, size_t pos, const uint8_t *p, size_t n)
{
    size_t end = pos + n;
    if (pos < c->skip_from) {
        size_t take = (end < c->skip_from ? end : c->skip_from) - pos;
        if (wc_HashUpdate(&c->hash, c->type, p, (word32)take) != 0)
            return -1;
    }
    if (end > c->skip_to) {
        size_t from = pos > c->skip_to ? pos : c->skip_to;
        if (wc_HashUpdate(&c->hash, c->type, p + (from - pos), (word32)(end - from)) != 0)
            return -1;
    }
    return 0;
}

int secd_sig_final(struct secd_sig_ctx *c, uint8_t *digest, size_t *dlen)
{
    int n = wc_HashGetDigestSize(c->type);
    if (n <= 0 || wc_HashFinal(&c->hash, c->type, digest) != 0)
        return -1;
    wc_HashFree(&c->hash, c->type);
    *dlen = (size_t)n;
    return 0;
}

size_t secd_sig_ctx_size(void)
{
    return sizeof(struct secd_sig_ctx);
}

int secd_file_digest(const struct secd_header *h, const uint8_t *file, size_t len,
                     uint8_t *digest, size_t *dlen)
{
    struct secd_sig_ctx c;
    if (secd_sig_begin(&c, h) != 0 || secd_sig_update(&c, 0, file, len) != 0)
        return -1;
    return secd_sig_final(&c, digest, dlen);
}

/* Extracts the SubjectPublicKeyInfo of an X.509 certificate. */
enum secd_err secd_cert_public_key(const uint8_t *cert, size_t len, uint8_t *out, size_t cap,
                                   size_t *out_len)
{
    struct DecodedCert *dc = malloc(sizeof *dc);
    if (!dc)
        return SECD_ERR_CRYPTO;
    enum secd_err e = SECD_ERR_MALFORMED;
    word32 n = (word32)cap;
    wc_InitDecodedCert(dc, cert, (word32)len, NULL);
    if (wc_ParseCert(dc, CERT_TYPE, NO_VERIFY, NULL) == 0 &&
        wc_GetPubKeyDerFromCert(dc, out, &n) == 0) {
        *out_len = n;
        e = SECD_OK;
    }
    wc_FreeDecodedCert(dc);
    free(dc);
    return e;
}

/* RSASSA-PKCS1-v1_5: the recovered block must be exactly the DER
 * DigestInfo of our digest. */
static int digest_info_matches(uint8_t hash_alg, const uint8_t *digest, size_t dlen,
                               const uint8_t *sig, size_t sig_len, RsaKey *key)
{
    uint8_t expected[MAX_ENCODED_SIG_SZ];
    uint8_t recovered[512];
    int oid = wc_HashGetOID(secd_wc_hash_type(hash_alg));
    if (oid <= 0)
        return 0;
    word32 want = wc_EncodeSignature(expected, digest, (word32)dlen, oid);
    int got = wc_RsaSSL_Verify(sig, (word32)sig_len, recovered, sizeof recovered, key);
    return want > 0 && got == (int)want && memcmp(expected, recovered, want) == 0;
}

/* Verifies a PKCS#1 v1.5 signature over a digest with an RSA public key in
 * PKCS#1 RSAPublicKey or SubjectPublicKeyInfo DER. */
enum secd_err secd_rsa_verify_digest(uint8_t hash_alg, const uint8_t *digest, size_t dlen,
                                     const uint8_t *sig, size_t sig_len, const uint8_t *key_der,
                                     size_t key_len)
{
    RsaKey *key = malloc(sizeof *key);
    if (!key)
        return SECD_ERR_CRYPTO;
    enum secd_err e = SECD_ERR_SIGNATURE_INVALID;
    word32 idx = 0;
    if (wc_InitRsaKey(key, NULL) != 0) {
        free(key);
        return SECD_ERR_CRYPTO;
    }
    if (wc_RsaPublicKeyDecode(key_der, &idx, key, (word32)key_len) == 0 &&
        (size_t)wc_RsaEncryptSize(key) == sig_len && digest_info_matches(hash_alg, digest, dlen,
                                                                        sig, sig_len, key))
        e = SECD_OK;
    wc_FreeRsaKey(key);
    free(key);
    return e;
}

/* Verifies a file against one trust-list record's key. */
enum secd_err secd_verify_with_record(const struct secd_header *h, const uint8_t *digest,
                                      size_t dlen, const struct secd_record *r)
{
    if (r->public_key.len)
        return secd_rsa_verify_digest(h->hash_alg, digest, dlen, h->signature.p, h->signature.len,
                                      r->public_key.p, r->public_key.len);
    if (r->certificate.len) {
        uint8_t spki[1100];
        size_t n;
        enum secd_err e = secd_cert_public_key(r->certificate.p, r->certificate.len, spki,
                                               sizeof spki, &n);
        if (e != SECD_OK)
            return SECD_ERR_SIGNATURE_INVALID;
        return secd_rsa_verify_digest(h->hash_alg, digest, dlen, h->signature.p, h->signature.len,
                                      spki, n);
    }
    return SECD_ERR_SIGNATURE_INVALID; /* hash-only record: cannot verify with it */
}

void secd_md5(const uint8_t *p, size_t n, uint8_t out[16])
{
    wc_Md5 md5;
    wc_InitMd5(&md5);
    wc_Md5Update(&md5, p, (word32)n);
    wc_Md5Final(&md5, out);
    wc_Md5Free(&md5);
}

_Static_assert(sizeof(wc_Md5) <= sizeof(((struct secd_md5_ctx *)0)->opaque),
               "secd_md5_ctx too small");

void secd_md5_begin(struct secd_md5_ctx *c)
{
    wc_InitMd5((wc_Md5 *)(void *)c->opaque);
}

void secd_md5_update(struct secd_md5_ctx *c, const uint8_t *p, size_t n)
{
    wc_Md5Update((wc_Md5 *)(void *)c->opaque, p, (word32)n);
}

void secd_md5_final(struct secd_md5_ctx *c, uint8_t out[16])
{
    wc_Md5 *md5 = (wc_Md5 *)(void *)c->opaque;
    wc_Md5Final(md5, out);
    wc_Md5Free(md5);
}
