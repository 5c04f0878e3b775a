/* CAPF crypto helpers: key generation, public keys, the "signed data".
 * wolfSSL objects come from wolfSSL's heap (XMALLOC), like the rest of
 * secd; no I/O. */
#include <string.h>

#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/rsa.h>
#include <wolfssl/wolfcrypt/sha.h>
#include <wolfssl/wolfcrypt/sha512.h>

#include "secd/capf.h"

enum capf_err capf_keyspec_from_request(const struct capf_msg *m, struct capf_keyspec *ks)
{
    int type = capf_msg_u8(m, CAPF_EL_KEY_TYPE);
    long bits = capf_msg_u16(m, CAPF_EL_KEY_SIZE);
    int curve = capf_msg_u8(m, CAPF_EL_CURVE);
    memset(ks, 0, sizeof *ks);
    if (type < 0 || type == CAPF_KEY_RSA) {
        ks->type = CAPF_KEY_RSA;
        ks->bits = bits < 0 ? 0 : (uint16_t)bits;
        return bits == 1024 || bits == 2048 ? CAPF_OK : CAPF_ERR_UNSUPPORTED;
    }
    if (type != CAPF_KEY_EC)
        return CAPF_ERR_UNSUPPORTED;
    ks->type = CAPF_KEY_EC;
    if (curve == CAPF_CURVE_P256 || (curve < 0 && bits == 256))
        ks->bits = 256;
    else if (curve == CAPF_CURVE_P384 || (curve < 0 && bits == 384))
        ks->bits = 384;
    else
        return CAPF_ERR_UNSUPPORTED; /* P-521 is not built into the firmware */
    return CAPF_OK;
}

const char *capf_keyspec_str(const struct capf_keyspec *ks)
{
    if (ks->type == CAPF_KEY_EC)
        return ks->bits == 384 ? "EC P-384" : ks->bits == 256 ? "EC P-256" : "EC (unsupported)";
    switch (ks->bits) {
    case 1024: return "RSA-1024";
    case 2048: return "RSA-2048";
    case 4096: return "RSA-4096";
    }
    return "RSA (unsupported size)";
}

static int capf_curve_of_bits(uint16_t bits)
{
    return bits == 384 ? ECC_SECP384R1 : ECC_SECP256R1;
}

static enum capf_err rsa_generate(uint16_t bits, WC_RNG *rng, uint8_t *key_der, size_t key_cap,
                                  size_t *key_len, uint8_t *spki, size_t spki_cap,
                                  size_t *spki_len)
{
    RsaKey *key = XMALLOC(sizeof *key, NULL, DYNAMIC_TYPE_RSA);
    enum capf_err e = CAPF_ERR_CRYPTO;
    if (!key || wc_InitRsaKey(key, NULL) != 0) {
        XFREE(key, NULL, DYNAMIC_TYPE_RSA);
        return e;
    }
    if (wc_MakeRsaKey(key, bits, WC_RSA_EXPONENT, rng) == 0) {
        int k = wc_RsaKeyToDer(key, key_der, (word32)key_cap);
        int s = wc_RsaKeyToPublicDer(key, spki, (word32)spki_cap);
        if (k > 0 && s > 0) {
            *key_len = (size_t)k;
            *spki_len = (size_t)s;
            e = CAPF_OK;
        }
    }
    wc_FreeRsaKey(key);
    XFREE(key, NULL, DYNAMIC_TYPE_RSA);
    return e;
}

static enum capf_err ec_generate(uint16_t bits, WC_RNG *rng, uint8_t *key_der, size_t key_cap,
                                 size_t *key_len, uint8_t *spki, size_t spki_cap,
                                 size_t *spki_len)
{
    ecc_key *key = XMALLOC(sizeof *key, NULL, DYNAMIC_TYPE_ECC);
    enum capf_err e = CAPF_ERR_CRYPTO;
    if (!key || wc_ecc_init(key) != 0) {
        XFREE(key, NULL, DYNAMIC_TYPE_ECC);
        return e;
    }
    if (wc_ecc_make_key_ex(rng, bits / 8, key, capf_curve_of_bits(bits)) == 0) {
        int k = wc_EccKeyToDer(key, key_der, (word32)key_cap);
        int s = wc_EccPublicKeyToDer(key, spki, (word32)spki_cap, 1);
        if (k > 0 && s > 0) {
            *key_len = (size_t)k;
            *spki_len = (size_t)s;
            e = CAPF_OK;
        }
    }
    wc_ecc_free(key);
    XFREE(key, NULL, DYNAMIC_TYPE_ECC);
    return e;
}

enum capf_err capf_key_generate(const struct capf_keyspec *ks, uint8_t *key_der, size_t key_cap,
                                size_t *key_len, uint8_t *spki, size_t spki_cap,
                                size_t *spki_len)
{
    WC_RNG *rng = XMALLOC(sizeof *rng, NULL, DYNAMIC_TYPE_RNG);
    if (!rng || wc_InitRng(rng) != 0) {
        XFREE(rng, NULL, DYNAMIC_TYPE_RNG);
        return CAPF_ERR_CRYPTO;
    }
    enum capf_err e;
    if (ks->type == CAPF_KEY_RSA && (ks->bits == 1024 || ks->bits == 2048))
        e = rsa_generate(ks->bits, rng, key_der, key_cap, key_len, spki, spki_cap, spki_len);
    else if (ks->type == CAPF_KEY_EC && (ks->bits == 256 || ks->bits == 384))
        e = ec_generate(ks->bits, rng, key_der, key_cap, key_len, spki, spki_cap, spki_len);
    else
        e = CAPF_ERR_UNSUPPORTED;
    wc_FreeRng(rng);
    XFREE(rng, NULL, DYNAMIC_TYPE_RNG);
    return e;
}

/* A decoded private key of either type. */
struct any_key {
    int type; /* enum capf_key_type, -1 when none */
    RsaKey *rsa;
    ecc_key *ecc;
};

static void any_key_free(struct any_key *k)
{
    if (k->rsa) {
        wc_FreeRsaKey(k->rsa);
        XFREE(k->rsa, NULL, DYNAMIC_TYPE_RSA);
    }
    if (k->ecc) {
        wc_ecc_free(k->ecc);
        XFREE(k->ecc, NULL, DYNAMIC_TYPE_ECC);
    }
    k->rsa = NULL;
    k->ecc = NULL;
}

/* Decodes an RSA (PKCS#1 / PKCS#8) or EC (SEC1 / PKCS#8) private key. */
static enum capf_err any_key_decode(struct any_key *k, const uint8_t *der, size_t len)
{
    memset(k, 0, sizeof *k);
    k->type = -1;
    word32 idx = 0;
    k->rsa = XMALLOC(sizeof *k->rsa, NULL, DYNAMIC_TYPE_RSA);
    if (!k->rsa || wc_InitRsaKey(k->rsa, NULL) != 0) {
        XFREE(k->rsa, NULL, DYNAMIC_TYPE_RSA);
        k->rsa = NULL;
        return CAPF_ERR_CRYPTO;
    }
    if (wc_RsaPrivateKeyDecode(der, &idx, k->rsa, (word32)len) == 0) {
        k->type = CAPF_KEY_RSA;
        return CAPF_OK;
    }
    any_key_free(k);
    k->ecc = XMALLOC(sizeof *k->ecc, NULL, DYNAMIC_TYPE_ECC);
    if (!k->ecc || wc_ecc_init(k->ecc) != 0) {
        XFREE(k->ecc, NULL, DYNAMIC_TYPE_ECC);
        k->ecc = NULL;
        return CAPF_ERR_CRYPTO;
    }
    idx = 0;
    if (wc_EccPrivateKeyDecode(der, &idx, k->ecc, (word32)len) == 0) {
        k->type = CAPF_KEY_EC;
        return CAPF_OK;
    }
    any_key_free(k);
    return CAPF_ERR_BAD_VALUE;
}

enum capf_err capf_key_public(const uint8_t *key_der, size_t key_len, uint8_t *spki,
                              size_t spki_cap, size_t *spki_len, struct capf_keyspec *ks)
{
    struct any_key k;
    enum capf_err e = any_key_decode(&k, key_der, key_len);
    if (e != CAPF_OK)
        return e;
    int n;
    if (k.type == CAPF_KEY_RSA) {
        n = wc_RsaKeyToPublicDer(k.rsa, spki, (word32)spki_cap);
        ks->type = CAPF_KEY_RSA;
        ks->bits = (uint16_t)(wc_RsaEncryptSize(k.rsa) * 8);
    } else {
        n = wc_EccPublicKeyToDer(k.ecc, spki, (word32)spki_cap, 1);
        ks->type = CAPF_KEY_EC;
        ks->bits = (uint16_t)(wc_ecc_size(k.ecc) * 8);
    }
    any_key_free(&k);
    if (n <= 0)
        return CAPF_ERR_CRYPTO;
    *spki_len = (size_t)n;
    return CAPF_OK;
}

static int digest(int sha512, const uint8_t *msg, size_t n, uint8_t out[WC_SHA512_DIGEST_SIZE])
{
    if (sha512)
        return wc_Sha512Hash(msg, (word32)n, out) == 0 ? WC_SHA512_DIGEST_SIZE : -1;
    return wc_ShaHash(msg, (word32)n, out) == 0 ? WC_SHA_DIGEST_SIZE : -1;
}

enum capf_err capf_sign(const uint8_t *key_der, size_t key_len, int sha512, const uint8_t *msg,
                        size_t n, uint8_t *sig, size_t sig_cap, size_t *sig_len)
{
    uint8_t h[WC_SHA512_DIGEST_SIZE];
    int hl = digest(sha512, msg, n, h);
    if (hl < 0)
        return CAPF_ERR_CRYPTO;
    struct any_key k;
    enum capf_err e = any_key_decode(&k, key_der, key_len);
    if (e != CAPF_OK)
        return e;
    WC_RNG *rng = XMALLOC(sizeof *rng, NULL, DYNAMIC_TYPE_RNG);
    e = CAPF_ERR_CRYPTO;
    if (rng && wc_InitRng(rng) == 0) {
        if (k.type == CAPF_KEY_RSA) {
            /* 00 01 FF..FF 00 || H: PKCS#1 type-1 padding of the raw digest. */
            int r = wc_RsaSSL_Sign(h, (word32)hl, sig, (word32)sig_cap, k.rsa, rng);
            if (r > 0) {
                *sig_len = (size_t)r;
                e = CAPF_OK;
            }
        } else {
            word32 out = (word32)sig_cap;
            if (wc_ecc_sign_hash(h, (word32)hl, sig, &out, rng, k.ecc) == 0) {
                *sig_len = out;
                e = CAPF_OK;
            }
        }
        wc_FreeRng(rng);
    }
    XFREE(rng, NULL, DYNAMIC_TYPE_RNG);
    any_key_free(&k);
    return e;
}
