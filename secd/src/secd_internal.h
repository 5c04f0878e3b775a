/* Internals shared by secd's translation units. */
#ifndef SECD_INTERNAL_H
#define SECD_INTERNAL_H
#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/hash.h>

#include "secd/secd.h"

struct secd_sig_ctx {
    wc_HashAlg hash;
    enum wc_HashType type;
    size_t skip_from, skip_to;
};

enum wc_HashType secd_wc_hash_type(uint8_t alg);
int secd_sig_begin(struct secd_sig_ctx *c, const struct secd_header *h);
int secd_sig_update(struct secd_sig_ctx *c, size_t pos, const uint8_t *p, size_t n);
int secd_sig_final(struct secd_sig_ctx *c, uint8_t *digest, size_t *dlen);
int secd_file_digest(const struct secd_header *h, const uint8_t *file, size_t len,
                     uint8_t *digest, size_t *dlen);
enum secd_err secd_cert_public_key(const uint8_t *cert, size_t len, uint8_t *out, size_t cap,
                                   size_t *out_len);
enum secd_err secd_rsa_verify_digest(uint8_t hash_alg, const uint8_t *digest, size_t dlen,
                                     const uint8_t *sig, size_t sig_len, const uint8_t *key_der,
                                     size_t key_len);
enum secd_err secd_verify_with_record(const struct secd_header *h, const uint8_t *digest,
                                      size_t dlen, const struct secd_record *r);

/* The signer decision for a .sgn/.enc.sgn whose header is in d->hdr and
 * whose digest (signature TLV left out) is known. */
enum secd_err secd_decide_signed(const struct secd_trust *t, const uint8_t *digest, size_t dlen,
                                 struct secd_decision *d);
/* The CTL/ITL decision for a streamed file: d->hdr is its header, digest
 * its signature digest, its records are read through `staged`. */
enum secd_err secd_check_streamed_tl(const struct secd_trust *t, enum secd_kind kind,
                                     const struct secd_tl_source *staged, size_t len,
                                     const char *requested, const uint8_t *digest, size_t dlen,
                                     struct secd_decision *d);
int secd_filename_ok(const struct secd_header *h, enum secd_kind kind, const char *requested);

#endif
