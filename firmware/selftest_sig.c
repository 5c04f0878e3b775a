/* RSA self-test: a PKCS#1 v1.5 SHA-256 signature by an RSA-2048 key, both
 * made with openssl when the firmware is built (firmware/selftest_sig.cmake
 * generates selftest_sig_vector.h in the build tree; the private key never
 * leaves the build directory). The good signature must verify and the same
 * signature over a message with one bit flipped must be refused. */
#include <stdlib.h>
#include <string.h>

#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/rsa.h>
#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/hash.h>

#include "firmware.h"
#include "selftest_sig_vector.h"
#include "trace.h"

/* PKCS#1 v1.5: the RSA public operation must give back exactly the
 * DER DigestInfo of the message's SHA-256. Returns 0 (valid), 1 (invalid
 * signature), or a negative wolfSSL error. */
static int verify(RsaKey *key, const uint8_t *msg, size_t len)
{
    uint8_t digest[WC_SHA256_DIGEST_SIZE];
    uint8_t expected[MAX_ENCODED_SIG_SZ];
    uint8_t recovered[sizeof selftest_sig_signature];
    int rc = wc_Sha256Hash(msg, (word32)len, digest);
    if (rc != 0)
        return rc;
    word32 expected_len = wc_EncodeSignature(expected, digest, sizeof digest, SHA256h);
    if (expected_len == 0)
        return BAD_FUNC_ARG;
    rc = wc_RsaSSL_Verify(selftest_sig_signature, (word32)sizeof selftest_sig_signature, recovered,
                          (word32)sizeof recovered, key);
    if (rc < 0)
        return rc;
    return (word32)rc == expected_len && memcmp(recovered, expected, expected_len) == 0 ? 0 : 1;
}

/* Good signature accepted, tampered message refused: 0, else -1. */
static int check_vector(RsaKey *key)
{
    word32 idx = 0;
    int rc = wc_RsaPublicKeyDecode(selftest_sig_pubkey, &idx, key,
                                   (word32)sizeof selftest_sig_pubkey);
    if (rc != 0) {
        ERR("SECD", "self-test rsa: FAILED: public key decode error %d", rc);
        return -1;
    }
    rc = verify(key, selftest_sig_message, sizeof selftest_sig_message);
    if (rc != 0) {
        ERR("SECD", "self-test rsa: FAILED: good signature refused (%d)", rc);
        return -1;
    }
    uint8_t tampered[sizeof selftest_sig_message];
    memcpy(tampered, selftest_sig_message, sizeof tampered);
    tampered[0] ^= 0x01u;
    rc = verify(key, tampered, sizeof tampered);
    if (rc != 1) {
        ERR("SECD", "self-test rsa: FAILED: tampered message not refused (%d)", rc);
        return -1;
    }
    return 0;
}

int firmware_selftest_signature(void)
{
    RsaKey *key = malloc(sizeof *key); /* 8 KB with SP_INT_BITS 4096: not on the stack */
    if (key == NULL || wc_InitRsaKey(key, NULL) != 0) {
        ERR("SECD", "self-test rsa: FAILED: no memory for the key");
        free(key);
        return -1;
    }
    int rc = check_vector(key);
    wc_FreeRsaKey(key);
    free(key);
    if (rc == 0)
        NOT("SECD", "self-test rsa-%u pkcs1v15 sha256: OK (good accepted, tampered refused)",
            (unsigned)(8u * sizeof selftest_sig_signature));
    return rc;
}
