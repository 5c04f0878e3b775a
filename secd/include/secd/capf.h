/* CAPF client protocol (wire-formats section 5), sans-I/O.
 *
 * Bytes from the server go in (capf_session_on_bytes), actions come out
 * (capf_session_poll): send these bytes, generate a key, store this
 * certificate, delete the LSC, ask for the authentication string, done.
 * Nothing here opens a socket or file, reads a clock or prints; the
 * caller (firmware/capf_client.c) does the I/O, the storage and the trace.
 *
 * Parsing rules: a message is an 8-byte header (protocol id 85, command,
 * u32 session id, u16 body length) and TLV elements (u8 tag, u16 length).
 * No length is trusted: a body over CAPF_MAX_BODY or an element running
 * past the body is refused. Elements with an unknown tag are skipped
 * (servers add elements across versions, e.g. SUDI or digest type); a
 * known tag given twice, or with a value of the wrong size, is refused.
 * After the first server message, every message must carry the session id
 * that one carried (the phone adopts and echoes it). */
#ifndef SECD_CAPF_H
#define SECD_CAPF_H
#include <stddef.h>
#include <stdint.h>

#define CAPF_PROTOCOL_ID 85
#define CAPF_PROTOCOL_VERSION 3
#define CAPF_HEADER_LEN 8u
/* The largest message either side sends carries one certificate and two
 * signatures: the phone's auth response (certificate of at most 2048 bytes,
 * what the phone can store, + 2 x CAPF_SIG_MAX + names: about 3.2 KB) or
 * the server's store-certificate request. 4 KiB bounds the session's two
 * message buffers (they live in the work area, firmware/scratch.h). */
#define CAPF_MAX_BODY 4096u
#define CAPF_MAX_MSG (CAPF_HEADER_LEN + CAPF_MAX_BODY)
#define CAPF_DEVICE_NAME_MAX 32   /* "SEP" + 12 hex digits + NUL fits */
#define CAPF_AUTH_STRING_MAX 16
#define CAPF_SPKI_MAX 640         /* SubjectPublicKeyInfo of an RSA-4096 key */
#define CAPF_KEY_DER_MAX 2400     /* private key DER (RSA-4096 PKCS#1 fits) */
#define CAPF_SIG_MAX 520          /* RSA-4096 signature or an ECDSA DER */

enum capf_command {
    CAPF_AUTH_REQUEST = 1,
    CAPF_AUTH_RESPONSE = 2,
    CAPF_KEYGEN_REQUEST = 3,
    CAPF_KEYGEN_RESPONSE = 4,
    CAPF_STORE_CERT_REQUEST = 9,
    CAPF_STORE_CERT_RESPONSE = 10,
    CAPF_FETCH_CERT_REQUEST = 11,
    CAPF_FETCH_CERT_RESPONSE = 12,
    CAPF_DELETE_CERT_REQUEST = 13,
    CAPF_DELETE_CERT_RESPONSE = 14,
    CAPF_END_SESSION = 15,
    CAPF_RETRY_LATER = 16,
    CAPF_REQUEST_IN_PROGRESS = 17,
    CAPF_STATUS_REQUEST = 18,
    CAPF_STATUS_RESPONSE = 19,
    CAPF_ABORT_REQUEST = 20,
    CAPF_ABORT_RESPONSE = 21,
    CAPF_SIGN_CERT_REQUEST = 22,
    CAPF_SIGN_CERT_RESPONSE = 23,
};

enum capf_tag {
    CAPF_EL_REASON = 1,
    CAPF_EL_REASON_INFO = 2,
    CAPF_EL_CERT_TYPE = 3,
    CAPF_EL_CERTIFICATE = 4,
    CAPF_EL_SIGNED_DATA = 6,
    CAPF_EL_VERSION = 7,
    CAPF_EL_AUTH_TYPE = 8,
    CAPF_EL_PUBLIC_KEY = 9,
    CAPF_EL_KEY_SIZE = 10,
    CAPF_EL_PASSWORD = 11,
    CAPF_EL_RETRY_DELAY = 12,
    CAPF_EL_DEVICE_NAME = 13,
    CAPF_EL_SUDI_DATA = 16,
    CAPF_EL_KEY_TYPE = 17,
    CAPF_EL_CURVE = 18,
    CAPF_EL_DIGEST_TYPE = 19,
    CAPF_EL_SHA2_SIGNED_DATA = 20,
    CAPF_EL_MAX_KNOWN = 20,
};

/* Reason codes (element 1). */
enum capf_reason {
    CAPF_REASON_NO_ACTION = 0,
    CAPF_REASON_OK = 1,          /* update certificate / success */
    CAPF_REASON_INVALID = 7,     /* invalid element, refused (e.g. wrong password) */
    CAPF_REASON_UNKNOWN_DEVICE = 9,
};

enum capf_cert_type { CAPF_CERT_LSC = 1, CAPF_CERT_MIC = 2 };

enum capf_auth_type {
    CAPF_AUTH_NONE = 0,
    CAPF_AUTH_PASSWORD = 1,      /* authentication string entered on the phone */
    CAPF_AUTH_NULL_STRING = 2,   /* "no password" */
    CAPF_AUTH_LSC_THEN_MIC = 3,  /* by existing certificate, precedence to LSC */
    CAPF_AUTH_MIC = 4,           /* by existing certificate, precedence to MIC */
};

enum capf_key_type { CAPF_KEY_RSA = 0, CAPF_KEY_EC = 1 };
enum capf_curve { CAPF_CURVE_P256 = 0, CAPF_CURVE_P384 = 1, CAPF_CURVE_P521 = 2 };

enum capf_err {
    CAPF_OK = 0,
    CAPF_ERR_TRUNCATED,        /* not enough bytes yet (header or body) */
    CAPF_ERR_PROTOCOL_ID,      /* first byte is not 85 */
    CAPF_ERR_TOO_LARGE,        /* body length over CAPF_MAX_BODY */
    CAPF_ERR_ELEMENT_OVERRUN,  /* an element runs past the body */
    CAPF_ERR_DUPLICATE,        /* a known element given twice */
    CAPF_ERR_BAD_VALUE,        /* a known element of the wrong size or value */
    CAPF_ERR_NO_SPACE,         /* output buffer too small */
    CAPF_ERR_CRYPTO,
    CAPF_ERR_UNSUPPORTED,
};
const char *capf_err_str(enum capf_err e);
const char *capf_command_name(int cmd);
const char *capf_auth_type_name(int auth);
const char *capf_reason_name(int reason);

/* ---- codec ---------------------------------------------------------- */

struct capf_header {
    uint8_t command;
    uint32_t session_id;
    uint16_t body_len;
};

/* A value view into the message buffer. */
struct capf_value {
    const uint8_t *p;
    uint16_t len;
    uint8_t present;
};

struct capf_msg {
    struct capf_header h;
    struct capf_value el[CAPF_EL_MAX_KNOWN + 1]; /* indexed by tag */
    uint16_t unknown;                             /* unknown elements skipped */
};

/* Parses the 8-byte header (n >= 8 needed, else TRUNCATED). */
enum capf_err capf_parse_header(const uint8_t *p, size_t n, struct capf_header *h);
/* Parses one whole message (header + body of exactly body_len bytes). */
enum capf_err capf_parse_msg(const uint8_t *p, size_t n, struct capf_msg *m);
/* Element accessors: -1 when absent (or of the wrong size, refused at parse). */
int capf_msg_u8(const struct capf_msg *m, enum capf_tag tag);
long capf_msg_u16(const struct capf_msg *m, enum capf_tag tag);
/* Certificate element: inner TLV `u8 1, u16 len+2, u8 0, u8 type` + DER. */
enum capf_err capf_cert_element_parse(const struct capf_value *v, uint8_t *cert_type,
                                      const uint8_t **der, size_t *der_len);

/* Message writer over a caller buffer; an overflow sticks and is reported
 * by capf_writer_end. */
struct capf_writer {
    uint8_t *buf;
    size_t cap, len;
    int overflow;
};
void capf_writer_begin(struct capf_writer *w, uint8_t *buf, size_t cap, uint8_t command,
                       uint32_t session_id);
void capf_put(struct capf_writer *w, uint8_t tag, const uint8_t *v, size_t n);
void capf_put_u8(struct capf_writer *w, uint8_t tag, uint8_t v);
void capf_put_u16(struct capf_writer *w, uint8_t tag, uint16_t v);
void capf_put_cstr(struct capf_writer *w, uint8_t tag, const char *s); /* NUL included */
void capf_put_cert(struct capf_writer *w, uint8_t cert_type, const uint8_t *der, size_t n);
/* Patches the body length; returns the message length or 0 on overflow. */
size_t capf_writer_end(struct capf_writer *w);

/* ---- crypto helpers (wolfSSL; no I/O) -------------------------------- */

struct capf_keyspec {
    uint8_t type;  /* enum capf_key_type */
    uint16_t bits; /* RSA modulus bits; EC: 256 / 384 */
};
/* From a key-generate request: key type (absent = RSA), key size, curve.
 * Supported: RSA 1024/2048, EC P-256/P-384. */
enum capf_err capf_keyspec_from_request(const struct capf_msg *m, struct capf_keyspec *ks);
const char *capf_keyspec_str(const struct capf_keyspec *ks); /* "RSA-2048", "EC P-256" */

/* Generates a key pair: private key DER (RSA PKCS#1 / EC SEC1 with the
 * public point) and its SubjectPublicKeyInfo DER. */
enum capf_err capf_key_generate(const struct capf_keyspec *ks, uint8_t *key_der, size_t key_cap,
                                size_t *key_len, uint8_t *spki, size_t spki_cap,
                                size_t *spki_len);
/* SubjectPublicKeyInfo and spec of a private key DER (RSA or EC). */
enum capf_err capf_key_public(const uint8_t *key_der, size_t key_len, uint8_t *spki,
                              size_t spki_cap, size_t *spki_len, struct capf_keyspec *ks);
/* The SubjectPublicKeyInfo of an X.509 certificate (bounded DER walk, a
 * view into cert). */
enum capf_err capf_cert_spki(const uint8_t *cert, size_t len, const uint8_t **spki,
                             size_t *spki_len);
/* The CAPF "signed data": RSA private-key operation on
 * 00 01 FF..FF 00 || H(msg) (no DigestInfo), or ECDSA (DER) over H(msg);
 * H = SHA-1 (sha512 = 0) or SHA-512 (sha512 = 1). */
enum capf_err capf_sign(const uint8_t *key_der, size_t key_len, int sha512, const uint8_t *msg,
                        size_t n, uint8_t *sig, size_t sig_cap, size_t *sig_len);

/* Is s 4 to 16 decimal digits? */
int capf_auth_string_valid(const char *s);

/* ---- session ------------------------------------------------------- */

/* A certificate the phone holds, with its private key (DER). */
struct capf_identity {
    const uint8_t *cert;
    size_t cert_len;
    const uint8_t *key;
    size_t key_len;
};

struct capf_session_config {
    char device_name[CAPF_DEVICE_NAME_MAX]; /* "SEP<MAC>" */
    struct capf_identity lsc;               /* cert_len 0: no LSC installed */
    struct capf_identity mic;               /* cert_len 0: no MIC */
    char auth_string[CAPF_AUTH_STRING_MAX + 1]; /* "" when none entered yet */
};

enum capf_action {
    CAPF_ACT_WAIT,            /* nothing to do until bytes or a *_done call */
    CAPF_ACT_SEND,            /* send out.data/out.len to the server */
    CAPF_ACT_NEED_AUTH_STRING,/* auth mode "password": ask for the string */
    CAPF_ACT_GENERATE_KEY,    /* out.key: call capf_session_key_ready() */
    CAPF_ACT_STORE_CERT,      /* out.data: the LSC (already matched to the
                                 key); store it with the key, then
                                 capf_session_store_done() */
    CAPF_ACT_DELETE_CERT,     /* delete the LSC, then capf_session_delete_done() */
    CAPF_ACT_DONE,            /* out.outcome / out.reason / out.why; close */
};

enum capf_outcome {
    CAPF_OUT_NONE = 0,        /* session still running */
    CAPF_OUT_INSTALLED,       /* LSC installed / upgraded */
    CAPF_OUT_FETCHED,         /* server fetched the LSC (troubleshoot) */
    CAPF_OUT_DELETED,         /* LSC deleted */
    CAPF_OUT_NOTHING_TO_DO,   /* end session 0/1 with no operation */
    CAPF_OUT_ABORTED,         /* server aborted */
    CAPF_OUT_RETRY_LATER,     /* out.retry_delay seconds */
    CAPF_OUT_REFUSED,         /* server ended the session with reason 7/9/... */
    CAPF_OUT_FAILED,          /* local refusal or protocol error (out.why) */
    CAPF_OUT_CONNECTION_LOST, /* closed before the session ended */
};
const char *capf_outcome_name(enum capf_outcome o);

struct capf_output {
    const uint8_t *data;
    size_t len;
    uint8_t command;          /* CAPF_ACT_SEND: the command being sent */
    struct capf_keyspec key;
    enum capf_outcome outcome;
    int reason;               /* server reason code, -1 when none */
    uint32_t retry_delay;
    const char *why;          /* static text for failures */
};

enum capf_state {
    CAPF_ST_AUTH_REQUEST,     /* waiting for the server's auth request */
    CAPF_ST_AUTH_STRING,      /* waiting for the user's string */
    CAPF_ST_OPERATION,        /* waiting for an operation or end session */
    CAPF_ST_GENERATING,       /* waiting for capf_session_key_ready */
    CAPF_ST_STORE_REQUEST,    /* waiting for the certificate */
    CAPF_ST_STORING,          /* waiting for capf_session_store_done */
    CAPF_ST_DELETING,         /* waiting for capf_session_delete_done */
    CAPF_ST_DONE,
};

/* The whole session; static allocation, no heap (the crypto helpers use
 * wolfSSL's). Fields are private. */
struct capf_session {
    struct capf_session_config cfg;
    enum capf_state state;
    uint32_t session_id;
    int have_session_id;
    uint8_t auth_type;
    enum capf_outcome op_done;   /* operation completed in this session */
    enum capf_state after_send;  /* state once tx is taken (DONE for refusals) */
    struct capf_output result;
    int done_reported;
    struct capf_keyspec key;
    uint8_t spki[CAPF_SPKI_MAX];
    size_t spki_len;
    const uint8_t *store_cert;   /* into rx while storing */
    size_t store_cert_len;
    size_t consumed;             /* bytes of rx the current message uses */
    uint8_t rx[CAPF_MAX_MSG];
    size_t rx_len;
    uint8_t tx[CAPF_MAX_MSG];
    size_t tx_len;
    uint8_t tx_command;
    int action_pending;          /* GENERATE / STORE / DELETE / AUTH not yet reported */
    int closed;                  /* capf_session_on_closed was called */
    unsigned rx_count;           /* server messages handled (for the trace) */
    uint8_t last_rx_command;
};

void capf_session_init(struct capf_session *s, const struct capf_session_config *cfg);
/* Bytes received from the server (any split). Returns how many were taken
 * (fewer when the buffer is full: feed the rest after polling). */
size_t capf_session_on_bytes(struct capf_session *s, const uint8_t *p, size_t n);
/* The connection closed (or failed). */
void capf_session_on_closed(struct capf_session *s);
/* Next action; out's pointers stay valid until the next call on s. */
enum capf_action capf_session_poll(struct capf_session *s, struct capf_output *out);
/* Answers to the actions. */
void capf_session_set_auth_string(struct capf_session *s, const char *digits);
/* Before a slow generation: queues `request in progress` (poll sends it). */
void capf_session_generating(struct capf_session *s);
/* spki NULL: generation failed. */
void capf_session_key_ready(struct capf_session *s, const uint8_t *spki, size_t spki_len);
void capf_session_store_done(struct capf_session *s, int ok);
void capf_session_delete_done(struct capf_session *s, int ok);
/* The auth-to-sign for "by existing certificate": device name || NUL || DER. */
size_t capf_auth_blob(const char *device_name, const uint8_t *cert, size_t cert_len,
                      uint8_t *out, size_t cap);

#endif
