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
 * The private keys leave flash only into memory held for the step that uses
 * them (wolfSSL's TLS context, a key unwrap, a CAPF session's part of the
 * work area), which wipes them when it ends. */
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
/* A buffer this large holds any pair cert_store_read returns (the LSC's
 * blob with its 8-byte header, or a MIC's certificate and key). */
#define CERT_READ_MAX (8u + CERT_DER_MAX + CERT_KEY_MAX)

/* A certificate and its private key (DER). `mem` is the heap block they
 * live in when cert_store_take made a copy (cert_pair_free frees it). */
struct cert_pair {
    const uint8_t *cert;
    size_t cert_len;
    const uint8_t *key;
    size_t key_len;
    uint8_t *mem;
};

/* Where a board keeps its MIC when it is not in RAM (the QEMU board's
 * factory flash region): reads certificate and key into buf (cap bytes,
 * CERT_READ_MAX at most needed), checks them, points out into buf.
 * Returns 0, or -1 (damaged or unreadable: the MIC is not used). */
typedef int (*cert_mic_reader)(void *ctx, uint8_t *buf, size_t cap, struct cert_pair *out);

enum cert_which { CERT_MIC, CERT_LSC };

/* Neither certificate nor key is kept in RAM: the store remembers what is
 * installed (lengths), and each use reads the pair from flash into memory
 * the user holds for as long as it needs it (a TLS handshake's setup, a
 * key unwrap, a CAPF session), so that the phone's RAM peak does not carry
 * two certificates and two private keys all the time. */
struct cert_store {
    const struct storage *st;
    struct cert_pair mic_ram;      /* cert_store_set_mic: the caller's memory */
    cert_mic_reader mic_read;      /* cert_store_set_mic_reader; NULL: mic_ram */
    void *mic_ctx;
    size_t mic_cert_len, mic_key_len; /* 0 when the phone has no MIC */
    size_t lsc_cert_len, lsc_key_len; /* of the stored LSC; 0 when none */
    enum storage_status lsc_status;   /* of the last load */
};

/* Checks the stored LSC (at boot, after an install or delete) and
 * remembers its lengths. Returns 0, or -1 when the stored blob is damaged
 * (then no LSC is used; lsc_status tells why). Reads through a temporary
 * heap block. */
int cert_store_load(struct cert_store *cs, const struct storage *st);
/* The manufacturer certificate and key in RAM (the caller keeps the memory). */
void cert_store_set_mic(struct cert_store *cs, const uint8_t *cert, size_t cert_len,
                        const uint8_t *key, size_t key_len);
/* The manufacturer certificate and key behind a reader: read once now to
 * check it and learn its lengths. Returns 0, or -1 (no MIC is used). */
int cert_store_set_mic_reader(struct cert_store *cs, cert_mic_reader read, void *ctx);
/* Installs (or replaces) the LSC and its key atomically. 0 on success; on
 * failure the previous LSC stays installed. */
int cert_store_install_lsc(struct cert_store *cs, const uint8_t *cert, size_t cert_len,
                           const uint8_t *key, size_t key_len);
/* Deletes the LSC (atomic). 0 on success or when there was none. */
int cert_store_delete_lsc(struct cert_store *cs);
int cert_store_has_lsc(const struct cert_store *cs);
int cert_store_has_mic(const struct cert_store *cs);

/* Reads one pair into buf (cap >= CERT_READ_MAX always suffices): out
 * points into buf, or at the caller's memory for a RAM MIC. Returns 0, or
 * -1 when that certificate is not installed or no longer reads back. */
int cert_store_read(const struct cert_store *cs, enum cert_which which, uint8_t *buf, size_t cap,
                    struct cert_pair *out);

/* The certificate in use for `purpose` ("SCCP", "TVS", "CAPF", ...):
 * LSC, else MIC (traced), else none. Returns "LSC", "MIC" or NULL. */
const char *cert_store_in_use(const struct cert_store *cs, const char *purpose);
/* The certificate in use (cert_store_in_use, traced; purpose NULL: not
 * traced again) read into a heap block of its own size: out->mem; give it
 * back with cert_pair_free.
 * Returns "LSC", "MIC", or NULL (none, unreadable or out of memory: out
 * zeroed). */
const char *cert_store_take(const struct cert_store *cs, const char *purpose,
                            struct cert_pair *out);
/* Wipes (the key) and frees what cert_store_take allocated; zeroes p. */
void cert_pair_free(struct cert_pair *p);

/* Blob format, exposed for the power-cut tests. */
size_t cert_store_encode(uint8_t *out, size_t cap, const uint8_t *cert, size_t cert_len,
                         const uint8_t *key, size_t key_len);
int cert_store_decode(const uint8_t *blob, size_t len, struct cert_pair *out);

/* `show cert`: subject, issuer, serial, validity, MD5 and SHA-1 of the DER
 * of the MIC and the LSC, one call of line() per line. */
void cert_store_describe(const struct cert_store *cs, void (*line)(void *, const char *),
                         void *ctx);

#endif
