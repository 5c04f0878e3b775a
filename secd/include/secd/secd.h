/* secd: the phone's security module (sans-I/O).
 *
 * Bytes go in, verdicts come out. Nothing here opens a file or socket,
 * reads a clock or prints: the board's glue does I/O and tracing.
 * Parsers never trust a length, never allocate per element and use bounded
 * stack; results point into the caller's buffer. */
#ifndef SECD_SECD_H
#define SECD_SECD_H
#include <stddef.h>
#include <stdint.h>

/* The phone's per-download limit (the real phone logs max size = 550001). */
#define SECD_MAX_FILE_SIZE 550001u

/* Verdicts. The reason strings (secd_err_reason) are the vocabulary of the
 * interop MANIFEST.json and of `secd-tool`. */
enum secd_err {
    SECD_OK = 0,
    SECD_ERR_TRUNCATED,
    SECD_ERR_MALFORMED,
    SECD_ERR_HEADER_LENGTH_EXCEEDS_FILE,
    SECD_ERR_RECORD_LENGTH_OVERRUN,
    SECD_ERR_SIGNATURE_INVALID,
    SECD_ERR_SIGNER_NOT_TRUSTED,
    SECD_ERR_FILENAME_MISMATCH,
    SECD_ERR_NO_RECORDS,
    SECD_ERR_KEY_UNWRAP_FAILED,
    SECD_ERR_PADDING_LENGTH_INVALID,
    SECD_ERR_PLAINTEXT_DIGEST_MISMATCH,
    SECD_ERR_TOO_LARGE,           /* over SECD_MAX_FILE_SIZE */
    SECD_ERR_UNSIGNED_REFUSED,    /* unsigned config while a trust list is held */
    SECD_ERR_TRUST_STORE_CORRUPT, /* installed list damaged: refuse, never trust blindly */
    SECD_ERR_UNSUPPORTED,         /* algorithm or version we do not implement */
    SECD_ERR_NO_DEVICE_KEY,
    SECD_ERR_CRYPTO,              /* internal crypto failure (out of memory, ...) */
    SECD_ERR_OLDER_THAN_INSTALLED, /* CTL/ITL replay: header timestamp older than the
                                     * installed list's (docs/security.md) */
};
const char *secd_err_reason(enum secd_err e);

/* A view into the caller's buffer. */
struct secd_bytes {
    const uint8_t *p;
    size_t len;
};

enum secd_hash_alg { SECD_HASH_SHA1 = 1, SECD_HASH_SHA256 = 2, SECD_HASH_SHA512 = 3 };

/* Signed-file header (wire-formats section 1, 3). */
struct secd_header {
    uint8_t ver_major, ver_minor;
    uint16_t header_len;
    int has_signer_version;
    uint8_t signer_ver_major, signer_ver_minor;
    struct secd_bytes signer_name; /* NUL excluded */
    struct secd_bytes issuer_name; /* NUL excluded */
    struct secd_bytes serial;      /* minimal unsigned big-endian */
    uint8_t hash_alg;              /* enum secd_hash_alg */
    uint8_t sig_alg;               /* 0 = RSA */
    uint8_t sig_modulus_index;     /* 0..3 = 64..512-byte signature */
    uint32_t sig_tlv_offset;       /* offset of the signature TLV's tag byte */
    struct secd_bytes signature;
    struct secd_bytes filename;    /* NUL excluded */
    int has_timestamp;
    uint32_t timestamp;
    /* .enc.sgn only */
    int encrypted;
    struct secd_bytes iv;          /* 16 bytes */
    uint16_t pad_count;
    uint16_t wrapped_key_bits;
    uint8_t key_alg;               /* 1 = AES-128 */
    struct secd_bytes wrapped_key;
    uint8_t digest_alg;            /* 1 SHA-1, 3 SHA-512 */
    struct secd_bytes digest;
};

/* Parses and checks the header of a whole file in memory. */
enum secd_err secd_parse_header(const uint8_t *file, size_t len, struct secd_header *h);

/* Trust-list roles ("functions"). */
enum secd_role {
    SECD_ROLE_SAST = 0,
    SECD_ROLE_CCM = 1,
    SECD_ROLE_CCM_TFTP = 2,
    SECD_ROLE_TFTP = 3,
    SECD_ROLE_CAPF = 4,
    SECD_ROLE_APP_SERVER = 7,
    SECD_ROLE_TVS = 21,
};
#define SECD_ROLE_BIT(r) (1ull << ((r) & 63))
const char *secd_role_name(int role);

/* One trust-list record (wire-formats section 2). */
struct secd_record {
    uint32_t offset;
    uint16_t length;
    int has_role;
    uint16_t role;
    struct secd_bytes dns_name, subject, issuer, serial; /* strings: NUL excluded */
    struct secd_bytes public_key; /* PKCS#1 RSAPublicKey DER or EC point */
    struct secd_bytes cert_signature;
    struct secd_bytes certificate; /* X.509 DER */
    struct secd_bytes ip_address;
    struct secd_bytes cert_hash;
    uint8_t cert_hash_alg;
};

/* Record iterator over a parsed .tlv file. */
struct secd_rec_iter {
    const uint8_t *file;
    size_t len;
    size_t pos;
};
void secd_records_begin(struct secd_rec_iter *it, const uint8_t *file, size_t len,
                        const struct secd_header *h);
/* Returns SECD_OK with *r filled, or SECD_OK with r->length == 0 at the end,
 * or an error (truncated, malformed, record_length_overrun). */
enum secd_err secd_records_next(struct secd_rec_iter *it, struct secd_record *r);
/* Walks all records once: structural check and count. */
enum secd_err secd_records_check(const uint8_t *file, size_t len, const struct secd_header *h,
                                 size_t *count);

/* Does a record name the certificate (issuer + serial) a header names? */
int secd_record_matches_signer(const struct secd_record *r, const struct secd_header *h);

/* Streaming signature check: feed every byte of the file at its offset,
 * in order; the signature TLV is skipped. */
struct secd_sig_ctx;
size_t secd_sig_ctx_size(void);

/* A trust list whose bytes are not in memory (flash on a board): secd asks
 * for them one record at a time, so RAM holds one record, never the list.
 * read() copies n bytes from offset `off` of the list into `buf` and
 * returns 0 (-1: storage error). `buf` holds the one record (or header)
 * being looked at; views in a returned struct secd_record point into it and
 * stay valid until the next record is read through the same source.
 * Records and headers larger than `cap` are refused (SECD_ERR_TOO_LARGE).
 * Several sources may share one buffer (a board's installed CTL and ITL and
 * a downloaded list being checked): secd never needs two records, or a
 * header and a record, in it at once. read() may also be asked for a few
 * bytes into a buffer of secd's own (a signer's issuer name compared piece
 * by piece). */
#define SECD_TL_BUF_SIZE 4096u /* one record or header; real ones are under 2 KiB */
struct secd_tl_source {
    void *ctx;
    int (*read)(void *ctx, uint32_t off, uint8_t *buf, size_t n);
    uint8_t *buf;
    size_t cap;
};

/* A parsed, installed (or candidate) trust list: the caller owns `data`,
 * or, when `src` is set, the storage src reads from (then `data` is NULL;
 * see secd_tl_load_source for `hdr`). */
struct secd_tl {
    const uint8_t *data;
    size_t len;
    struct secd_header hdr;
    int rollback; /* grants nothing beyond its signer's SAST entry (B5) */
    const struct secd_tl_source *src;
};
/* Parses a trust list (header + records); does not check the signature. */
enum secd_err secd_tl_load(struct secd_tl *tl, const uint8_t *data, size_t len);
/* The same for a list of `len` bytes read through `src`. The header is
 * read into hdr_buf (hdr_cap bytes; it may be src->buf: the records are
 * compared with the header's signer through a copy of its serial and its
 * issuer name read back, and the header is read back into hdr_buf after
 * the walk); on SECD_OK `tl->hdr`'s views point into hdr_buf until the
 * caller reuses it (a walk through src does when hdr_buf is src->buf). */
enum secd_err secd_tl_load_source(struct secd_tl *tl, const struct secd_tl_source *src,
                                  size_t len, uint8_t *hdr_buf, size_t hdr_cap);
/* Record walk over either kind of list (the one walk secd itself uses). */
struct secd_tl_iter {
    const struct secd_tl *tl;
    struct secd_rec_iter mem; /* in-memory lists */
    size_t pos;               /* source-backed lists: next record's offset */
};
void secd_tl_records_begin(struct secd_tl_iter *it, const struct secd_tl *tl);
/* As secd_records_next(); also SECD_ERR_TOO_LARGE (record over src->cap)
 * and SECD_ERR_CRYPTO (src->read failed). */
enum secd_err secd_tl_records_next(struct secd_tl_iter *it, struct secd_record *r);

enum secd_state { SECD_STATE_NONE, SECD_STATE_CTL, SECD_STATE_ITL, SECD_STATE_CTL_ITL };
const char *secd_state_name(enum secd_state s);

/* Where a signer was found. */
enum secd_anchor {
    SECD_ANCHOR_NONE,
    SECD_ANCHOR_FIRST_USE, /* trusted blindly, B2 state NONE */
    SECD_ANCHOR_CTL,
    SECD_ANCHOR_ITL,
    SECD_ANCHOR_TVS,
};
const char *secd_anchor_name(enum secd_anchor a);

/* TVS hook (filled by the TVS issue): asked when neither CTL nor ITL knows
 * a signer. `cert` is the signer's certificate when the file itself carries
 * it (a new trust list's SAST record), else NULL. Returns 1 when TVS vouches
 * for the certificate with one of `roles` (SECD_ROLE_BIT mask), 0 otherwise.
 * On 1 it may return the public key (PKCS#1 or SPKI DER) to verify with.
 * For a streamed trust list `cert` lies in its source's buffer: a hook that
 * reads records through a source sharing that buffer (e.g. walks the
 * installed lists to authenticate TVS) must read it back before it uses
 * `cert` again. */
struct secd_tvs_hook {
    void *ctx;
    int (*vouch)(void *ctx, const struct secd_header *signer, const uint8_t *cert, size_t cert_len,
                 uint64_t roles, struct secd_bytes *public_key);
};

/* The trust lists the phone holds. */
struct secd_trust {
    const struct secd_tl *ctl; /* NULL when none */
    const struct secd_tl *itl; /* NULL when none */
    int corrupt;               /* storage found a damaged list: refuse all */
    const struct secd_tvs_hook *tvs;
};
enum secd_state secd_trust_state(const struct secd_trust *t);
/* Holding a rollback ITL only counts as NONE (B5). */
int secd_trust_is_blind(const struct secd_trust *t);

enum secd_kind { SECD_KIND_CTL, SECD_KIND_ITL, SECD_KIND_SIGNED };

struct secd_decision {
    enum secd_anchor anchor;
    struct secd_header hdr;
    int rollback; /* the accepted ITL is a rollback ITL */
};

/* Decides whether a downloaded CTL/ITL may be installed (B2, B5), or whether
 * a signed file (.sgn/.enc.sgn) is authentic (B3). `requested` is the name
 * the phone asked for; the header's filename must match it (per-phone trust
 * lists may carry the generic CTLFile.tlv / ITLFile.tlv name).
 * Replay rule (CTL/ITL, after the signature check): while a list of the
 * same kind is installed and carries a header timestamp, a candidate whose
 * timestamp is strictly older, or which has none, is refused with
 * SECD_ERR_OLDER_THAN_INSTALLED; an equal timestamp is the same generation
 * and passes. With no installed list of that kind (first boot, after
 * `erase trustlist`) or an installed one without a timestamp, nothing is
 * compared. */
/* Does the replay rule refuse a candidate with header `h` over `installed`? */
int secd_tl_is_replay(const struct secd_tl *installed, const struct secd_header *h);
enum secd_err secd_check_file(const struct secd_trust *t, enum secd_kind kind,
                              const uint8_t *file, size_t len, const char *requested,
                              struct secd_decision *d);

/* May the phone use an UNSIGNED config in this trust state? */
enum secd_err secd_check_unsigned_config(const struct secd_trust *t);

/* Encrypted config (.enc.sgn) decryption, streaming, O(1) RAM.
 * The file must have passed secd_check_file first. */
struct secd_decrypt {
    uint8_t opaque[1024];
};
typedef int (*secd_plain_sink)(void *ctx, const uint8_t *p, size_t n);
/* private_key_der: the device RSA private key (PKCS#1 or PKCS#8 DER). */
enum secd_err secd_decrypt_begin(struct secd_decrypt *d, const struct secd_header *h,
                                 const uint8_t *private_key_der, size_t key_len);
enum secd_err secd_decrypt_update(struct secd_decrypt *d, const uint8_t *ct, size_t n,
                                  secd_plain_sink sink, void *sink_ctx);
enum secd_err secd_decrypt_final(struct secd_decrypt *d, secd_plain_sink sink, void *sink_ctx);

/* Streaming check of a signed file (.sgn/.enc.sgn) as it downloads, in
 * O(1) RAM: the header (at most SECD_STREAM_HEADER_MAX bytes) is kept, every
 * byte goes through the signature hash, and the verdict comes at the end —
 * the same verdict secd_check_file() gives for the whole file. The caller
 * stores the bytes elsewhere (flash staging) and acts on them only after
 * secd_stream_finish() returned SECD_OK. */
/* 2 KiB: an RSA-4096 signature plus an RSA-4096 wrapped key and the names
 * fit; the largest valid header of the interop vectors is 940 bytes. */
#ifndef SECD_STREAM_HEADER_MAX
#define SECD_STREAM_HEADER_MAX 2048u
#endif
struct secd_stream {
    uint8_t head[SECD_STREAM_HEADER_MAX];
    size_t head_len;     /* header bytes buffered */
    size_t total;        /* bytes fed */
    int header_done;
    enum secd_err err;   /* first error, sticky */
    struct secd_header hdr;
    uint64_t sig_state[64]; /* hash state (opaque) */
};
void secd_stream_begin(struct secd_stream *s);
/* Feeds the next n bytes (in file order). Returns the sticky error, if any. */
enum secd_err secd_stream_update(struct secd_stream *s, const uint8_t *p, size_t n);
/* The header, once parsed (NULL before). */
const struct secd_header *secd_stream_header(const struct secd_stream *s);
/* End of file: structural checks, file name, signer, signature. */
enum secd_err secd_stream_finish(struct secd_stream *s, const struct secd_trust *t,
                                 const char *requested, struct secd_decision *d);

/* A downloaded CTL/ITL checked as it streamed through secd_stream_update()
 * (its bytes were stored elsewhere, e.g. flash staging, and are read back
 * through `staged`, one record at a time): the same verdict as
 * secd_check_file() on the whole file, without holding it in RAM. The
 * header must have fit the stream (SECD_STREAM_HEADER_MAX) and staged->cap.
 * `staged` may share its buffer with the installed lists' sources. */
enum secd_err secd_stream_finish_tl(struct secd_stream *s, const struct secd_trust *t,
                                    enum secd_kind kind, const struct secd_tl_source *staged,
                                    const char *requested, struct secd_decision *d);

/* Helpers. */
void secd_md5(const uint8_t *p, size_t n, uint8_t out[16]);
/* MD5 over pieces (the `show trustlist` / "unchanged" fingerprint of a list
 * read from storage). */
struct secd_md5_ctx {
    uint64_t opaque[24];
};
void secd_md5_begin(struct secd_md5_ctx *c);
void secd_md5_update(struct secd_md5_ctx *c, const uint8_t *p, size_t n);
void secd_md5_final(struct secd_md5_ctx *c, uint8_t out[16]);
void secd_hex(const uint8_t *p, size_t n, char *out); /* out: 2n+1 */

#endif
