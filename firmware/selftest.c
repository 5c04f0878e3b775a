/* Power-on self-test: known answers for the crypto the firmware trusts,
 * computed through the same wolfSSL build the verification code uses. */
#include <string.h>

#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/random.h>

#include "firmware.h"
#include "trace.h"

struct sha256_vector {
    const char *msg;
    uint8_t digest[32];
};

/* FIPS 180-2 appendix B.1 and B.2. */
static const struct sha256_vector sha256_vectors[] = {
    {"abc",
     {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
      0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad}},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     {0x24, 0x8d, 0x6a, 0x61, 0xd2, 0x06, 0x38, 0xb8, 0xe5, 0xc0, 0x26, 0x93, 0x0c, 0x3e, 0x60, 0x39,
      0xa3, 0x3c, 0xe4, 0x59, 0x64, 0xff, 0x21, 0x67, 0xf6, 0xec, 0xed, 0xd4, 0x19, 0xdb, 0x06, 0xc1}},
};

static int selftest_sha256(void)
{
    for (size_t i = 0; i < sizeof sha256_vectors / sizeof sha256_vectors[0]; i++) {
        const struct sha256_vector *v = &sha256_vectors[i];
        uint8_t out[32];
        if (wc_Sha256Hash((const byte *)v->msg, (word32)strlen(v->msg), out) != 0 ||
            memcmp(out, v->digest, sizeof out) != 0) {
            ERR("SECD", "self-test sha256: FAILED on vector %u", (unsigned)i);
            return -1;
        }
    }
    NOT("SECD", "self-test sha256: OK");
    return 0;
}

/* Instantiating the DRBG runs wolfSSL's seed health test on the board's
 * entropy source; two outputs must then differ. */
static int selftest_drbg(void)
{
    WC_RNG rng;
    uint8_t a[32], b[32];
    int rc = wc_InitRng(&rng);
    if (rc != 0) {
        ERR("SECD", "self-test drbg: FAILED: instantiate error %d", rc);
        return -1;
    }
    rc = wc_RNG_GenerateBlock(&rng, a, sizeof a);
    if (rc == 0)
        rc = wc_RNG_GenerateBlock(&rng, b, sizeof b);
    wc_FreeRng(&rng);
    if (rc != 0 || memcmp(a, b, sizeof a) == 0) {
        ERR("SECD", "self-test drbg: FAILED: generate error %d", rc);
        return -1;
    }
    NOT("SECD", "self-test drbg: OK");
    return 0;
}

int firmware_selftest(void)
{
    int failed = 0;
    failed |= selftest_sha256() != 0;
    failed |= selftest_drbg() != 0;
    failed |= firmware_selftest_signature() != 0;
    return failed ? -1 : 0;
}
