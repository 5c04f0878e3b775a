/* secd/tvs: the Trust Verification Service protocol and the TVS cache
 * (secd-behaviour B4, wire-formats section 4). Sans-I/O: bytes and the
 * current monotonic time go in; nothing here connects or reads a clock.
 *
 * Message: u8 protocol id 87, u8 version 1, u8 command, u8 reserved 0,
 * u32 session id, u16 body length, then TLV elements (u8 tag, u16 length).
 * Request (command 1): 1 device name (0x01 then "CP-<model>-SEP<MAC>", no
 * NUL), 2 certificate (X.509 DER). Response (command 2): 7 status (u8, 0 =
 * valid), 8 roles (one u8 per role), 9 TTL (u32 seconds).
 *
 * The cache keeps POSITIVE answers only, keyed by the SHA-256 of the
 * certificate DER, for the server's TTL (SECD_TVS_DEFAULT_TTL when the
 * answer carries none). It lives in RAM only and is deliberately not
 * persisted: an answer is as good as the TVS that gave it, and after a
 * reboot the trust lists (and so the TVS record that authenticated that
 * server) may have changed; a reboot also is the administrator's simplest
 * way to make the phone ask again. */
#ifndef SECD_TVS_H
#define SECD_TVS_H
#include <stddef.h>
#include <stdint.h>

#define SECD_TVS_PROTOCOL_ID 87
#define SECD_TVS_VERSION 1
#define SECD_TVS_HEADER_LEN 10
enum secd_tvs_command {
    SECD_TVS_VERIFY_REQUEST = 1,
    SECD_TVS_VERIFY_RESPONSE = 2,
    SECD_TVS_QUERY_REQUEST = 3,
    SECD_TVS_QUERY_RESPONSE = 4,
};
enum secd_tvs_tag {
    SECD_TVS_TAG_DEVICE_NAME = 1,
    SECD_TVS_TAG_CERTIFICATE = 2,
    SECD_TVS_TAG_STATUS = 7,
    SECD_TVS_TAG_ROLES = 8,
    SECD_TVS_TAG_TTL = 9,
};

/* A response is a few bytes; anything longer than this is refused before
 * it is read (a hostile or broken server cannot make the phone buffer). */
#define SECD_TVS_MAX_RESPONSE 1024u
/* Largest certificate the phone asks about. */
#define SECD_TVS_MAX_CERT 8192u
#define SECD_TVS_MAX_DEVICE_NAME 64u
#define SECD_TVS_MAX_REQUEST_HEAD (SECD_TVS_HEADER_LEN + 3 + 1 + SECD_TVS_MAX_DEVICE_NAME + 3)
#define SECD_TVS_MAX_REQUEST (SECD_TVS_MAX_REQUEST_HEAD + SECD_TVS_MAX_CERT)

#define SECD_TVS_DEFAULT_TTL 86400u /* seconds (saveCertToTvsCache ... 86400) */
#define SECD_TVS_STATUS_VALID 0

enum secd_tvs_err {
    SECD_TVS_OK = 0,
    SECD_TVS_NEED_MORE,        /* incomplete message: read more bytes */
    SECD_TVS_ERR_PROTOCOL_ID,  /* not 87 */
    SECD_TVS_ERR_VERSION,
    SECD_TVS_ERR_COMMAND,      /* not a verify response */
    SECD_TVS_ERR_SESSION,      /* session id not the request's */
    SECD_TVS_ERR_TOO_LONG,     /* body length over SECD_TVS_MAX_RESPONSE */
    SECD_TVS_ERR_MALFORMED,    /* element overruns the body, bad lengths, duplicates */
    SECD_TVS_ERR_NO_STATUS,
    SECD_TVS_ERR_ARGS,         /* request: name/certificate too long, buffer too small */
};
const char *secd_tvs_err_str(enum secd_tvs_err e);

/* Encodes a verify request for the certificate. device_name is
 * "CP-<model>-SEP<MAC>". *len gets the message length. */
enum secd_tvs_err secd_tvs_encode_request(uint8_t *out, size_t cap, uint32_t session_id,
                                          const char *device_name, const uint8_t *cert,
                                          size_t cert_len, size_t *len);
/* The same request without the certificate's bytes: header, device name
 * and the certificate element's tag and length (at most
 * SECD_TVS_MAX_REQUEST_HEAD bytes). Sending these, then the certificate
 * itself, sends the request without a buffer of its size. */
enum secd_tvs_err secd_tvs_encode_request_head(uint8_t *out, size_t cap, uint32_t session_id,
                                               const char *device_name, size_t cert_len,
                                               size_t *len);

/* How many bytes the whole message needs once its header is in buf
 * (SECD_TVS_HEADER_LEN before that). Checks the header: an error means the
 * stream is not TVS (or announces a body longer than the limit). */
enum secd_tvs_err secd_tvs_message_len(const uint8_t *buf, size_t n, size_t *need);

struct secd_tvs_response {
    uint32_t session_id;
    uint8_t status;    /* 0 valid, else invalid */
    uint64_t roles;    /* SECD_ROLE_BIT mask of the roles (0..63) */
    uint8_t n_roles;   /* role bytes received (roles >= 64 are counted, not kept) */
    int has_ttl;
    uint32_t ttl;      /* seconds, when has_ttl */
};

/* Parses one complete verify response (exactly n bytes). */
enum secd_tvs_err secd_tvs_parse_response(const uint8_t *buf, size_t n, uint32_t session_id,
                                          struct secd_tvs_response *r);

/* --- certificates and trust-list records -------------------------------- */

struct secd_record;
/* Does a trust-list record name exactly this certificate: its certificate
 * (tag 9) byte for byte, or its certificate hash (tag 11) computed with the
 * record's algorithm (tag 12)? Returns 1 (2 when by hash), 0 if not. */
int secd_tvs_record_matches(const struct secd_record *r, const uint8_t *der, size_t len);
/* The SubjectPublicKeyInfo DER of a certificate (to verify a file with the
 * key of the certificate TVS vouched for, never a key a file supplies). */
int secd_tvs_cert_public_key(const uint8_t *der, size_t len, uint8_t *out, size_t cap,
                             size_t *out_len);

/* --- the cache ---------------------------------------------------------- */

#ifndef SECD_TVS_CACHE_SIZE
#define SECD_TVS_CACHE_SIZE 16
#endif

struct secd_tvs_cache_entry {
    uint8_t key[32];     /* SHA-256 of the certificate DER */
    uint64_t roles;      /* what TVS vouched for */
    uint64_t expires_ms; /* monotonic; 0 = free slot */
    uint32_t ttl;        /* seconds, as granted */
    uint64_t stored_ms;
};

/* Fixed-size table. Eviction when full: an expired entry if any, else the
 * entry that expires soonest (ties: the oldest stored). Time is the
 * caller's monotonic milliseconds, widened to 64 bits by the caller. */
struct secd_tvs_cache {
    struct secd_tvs_cache_entry e[SECD_TVS_CACHE_SIZE];
};

void secd_tvs_cache_init(struct secd_tvs_cache *c);
/* SHA-256 of the certificate: the cache key. Returns 0 or -1. */
int secd_tvs_cert_key(const uint8_t *cert, size_t len, uint8_t key[32]);
/* The live entry for the key, or NULL (an expired one is dropped). */
const struct secd_tvs_cache_entry *secd_tvs_cache_lookup(struct secd_tvs_cache *c,
                                                        const uint8_t key[32], uint64_t now_ms);
/* Stores a positive answer for ttl_s seconds (0: not stored). Returns the
 * entry, or NULL when not stored. */
const struct secd_tvs_cache_entry *secd_tvs_cache_store(struct secd_tvs_cache *c,
                                                       const uint8_t key[32], uint64_t roles,
                                                       uint32_t ttl_s, uint64_t now_ms);
/* Live entries. */
size_t secd_tvs_cache_count(const struct secd_tvs_cache *c, uint64_t now_ms);
void secd_tvs_cache_clear(struct secd_tvs_cache *c);

#endif
