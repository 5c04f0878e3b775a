/* The phone's own certificates (secd-behaviour B8).
 *
 * MIC: installed at manufacture, read-only (the board hands it over:
 * secd-phone --mic, the QEMU board from its flash image).
 * LSC: issued by CAPF. The certificate and its private key are ONE blob in
 * the "lsc" storage area, written with one atomic storage_replace: a power
 * cut leaves the old pair or the new pair, never a certificate without its
 * key (or the key of another certificate). Delete is one atomic erase.
 *
 * The certificate in use (TLS client authentication, encrypted config) is
 * the LSC when installed, else the MIC, with the phone's console trace
 * `-PXY_NO_LSC: No LSC for [<purpose>], will try MIC`.
 *
 * The private keys never leave the store except into wolfSSL (signing, TLS,
 * key unwrap): callers get pointers into the store, not copies. */
#ifndef FIRMWARE_CERT_STORE_H
#define FIRMWARE_CERT_STORE_H
#include <stddef.h>
#include <stdint.h>

#include "hal/storage.h"

#define CERT_AREA_LSC "lsc"
#define CERT_AREA_NEXT_KEY "lsckey" /* pre-generated key pair (capf_client) */
#define CERT_LSC_BLOB_MAX (4096u - STORAGE_HEADER_SIZE)
#define CERT_DER_MAX 2048u
#define CERT_KEY_MAX 2400u

struct cert_pair {
    const uint8_t *cert;
    size_t cert_len;
    const uint8_t *key;
    size_t key_len;
};

struct cert_store {
    const struct storage *st;
    struct cert_pair mic;          /* cert_len 0 when the phone has none */
    struct cert_pair lsc;          /* points into blob; cert_len 0 when none */
    uint8_t blob[CERT_LSC_BLOB_MAX];
    enum storage_status lsc_status; /* of the last load */
};

/* Loads the LSC from storage. Returns 0, or -1 when the stored blob is
 * damaged (then no LSC is used; lsc_status tells why). */
int cert_store_load(struct cert_store *cs, const struct storage *st);
/* The manufacturer certificate and key (the caller keeps the memory). */
void cert_store_set_mic(struct cert_store *cs, const uint8_t *cert, size_t cert_len,
                        const uint8_t *key, size_t key_len);
/* Installs (or replaces) the LSC and its key atomically. 0 on success; on
 * failure the previous LSC stays installed. */
int cert_store_install_lsc(struct cert_store *cs, const uint8_t *cert, size_t cert_len,
                           const uint8_t *key, size_t key_len);
/* Deletes the LSC (atomic). 0 on success or when there was none. */
int cert_store_delete_lsc(struct cert_store *cs);
int cert_store_has_lsc(const struct cert_store *cs);

/* The certificate in use for `purpose` ("SCCP", "TVS", "CAPF", ...):
 * LSC, else MIC (traced), else none. Returns "LSC", "MIC" or NULL. */
const char *cert_store_in_use(const struct cert_store *cs, const char *purpose,
                              struct cert_pair *out);

/* Blob format, exposed for the power-cut tests. */
size_t cert_store_encode(uint8_t *out, size_t cap, const uint8_t *cert, size_t cert_len,
                         const uint8_t *key, size_t key_len);
int cert_store_decode(const uint8_t *blob, size_t len, struct cert_pair *out);

/* `show cert`: subject, issuer, serial, validity, MD5 and SHA-1 of the DER
 * of the MIC and the LSC, one call of line() per line. */
void cert_store_describe(const struct cert_store *cs, void (*line)(void *, const char *),
                         void *ctx);

#endif
