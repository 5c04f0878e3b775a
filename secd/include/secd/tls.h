/* secd/tls: a sans-I/O TLS 1.2 client session over wolfSSL.
 *
 * No socket, no clock, no printf: the board moves bytes. It pushes what it
 * received from TCP into the session (secd_tls_feed), takes what the
 * session wants sent (secd_tls_output / secd_tls_output_done) and calls the
 * step functions (handshake, read, write) until they stop asking for I/O.
 * wolfSSL's user I/O callbacks read and write two fixed buffers inside the
 * session; nothing else is buffered by us.
 *
 * Server authentication is NOT done against a CA store. The caller gives a
 * rule (secd_tls_verify_fn) that judges the server's leaf certificate DER:
 * e.g. "exactly the certificate of the TVS record", "its SHA-1 equals the
 * record's hash", "the CAPF record's certificate". Chain certificates the
 * server sends are not trusted for anything; only the leaf is judged.
 * A rule may also DEFER: the handshake completes, the leaf is kept in the
 * session, and application data is refused (SECD_TLS_ERR_UNVERIFIED) until
 * the caller calls secd_tls_peer_decide() — for decisions that need other
 * I/O first (HTTPS: ask TVS about the certificate). Nothing is sent to an
 * unverified server but the handshake itself.
 *
 * Protocol: TLS 1.2 only (wolfSSL is built with NO_OLD_TLS), suites in
 * SECD_TLS_CIPHERS (ECDHE first, then plain-RSA key exchange for older call
 * managers). A client certificate is optional (CAPF may want one).
 *
 * Memory: the wolfSSL context and session live on wolfSSL's heap for the
 * session's lifetime (about 20 KB peak during the handshake); everything of
 * ours is inside struct secd_tls (fixed size, no allocation).
 *
 * Typical board loop (blocking with timeouts):
 *   secd_tls_init(&t, &cfg);
 *   while ((st = secd_tls_handshake(&t)) == SECD_TLS_WANT_IO) {
 *       send everything secd_tls_output() returns, then secd_tls_output_done();
 *       if secd_tls_wants_input(): recv from TCP (with a deadline) and
 *       secd_tls_feed() it (secd_tls_feed_eof() on FIN / reset);
 *   }
 *   ... secd_tls_write / secd_tls_read the same way ...
 *   secd_tls_close(&t); flush output; secd_tls_free(&t);
 */
#ifndef SECD_TLS_H
#define SECD_TLS_H
#include <stddef.h>
#include <stdint.h>

/* Bytes buffered each way between the board and wolfSSL. wolfSSL keeps its
 * own record buffer; these only bound what one feed/output step moves: a
 * flight larger than `out` is sent in several steps (wolfSSL is told
 * WANT_WRITE, the board flushes, the step is repeated; the session does not
 * ask for input meanwhile), a record larger than `in` is read in several.
 * 1 KiB each: under a TCP segment, so a step still fills one; three
 * sessions can be open at once (TVS, CAPF, an HTTPS server). */
#ifndef SECD_TLS_IO_BUF
#define SECD_TLS_IO_BUF 1024u
#endif
/* Largest leaf certificate kept for a deferred decision (on the heap,
 * its own size, from the handshake to secd_tls_free; a leaf the rule
 * judges at once is not copied). */
#ifndef SECD_TLS_CERT_MAX
#define SECD_TLS_CERT_MAX 4096u
#endif

/* Offered cipher suites, in preference order (wolfSSL names). */
#define SECD_TLS_CIPHERS                                                     \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"             \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"             \
    "ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:"                     \
    "ECDHE-RSA-AES256-SHA:ECDHE-RSA-AES128-SHA:"                             \
    "AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA256:AES256-SHA256:"       \
    "AES256-SHA:AES128-SHA"

enum secd_tls_status {
    SECD_TLS_OK = 0,          /* step done */
    SECD_TLS_WANT_IO,         /* flush output and/or feed input, call again */
    SECD_TLS_CLOSED,          /* peer sent close_notify or the stream ended cleanly */
    SECD_TLS_ERR_HANDSHAKE,   /* protocol failure, alert, version/suite mismatch */
    SECD_TLS_ERR_CERT,        /* the rule refused the server certificate */
    SECD_TLS_ERR_UNVERIFIED,  /* deferred decision pending, or refused */
    SECD_TLS_ERR_EOF,         /* transport closed in the middle of a record/handshake */
    SECD_TLS_ERR_IO,          /* transport reset (secd_tls_feed_eof(t, 1)) */
    SECD_TLS_ERR_STATE,       /* call out of order / after an error */
    SECD_TLS_ERR_NO_MEMORY,
    SECD_TLS_ERR_CONFIG,      /* bad client certificate/key, cipher list */
};
const char *secd_tls_status_str(enum secd_tls_status s);

/* What a rule answers. */
enum secd_tls_verdict {
    SECD_TLS_REJECT = 0,
    SECD_TLS_ACCEPT = 1,
    SECD_TLS_DEFER = 2, /* finish the handshake; secd_tls_peer_decide() later */
};

/* Judges the server's leaf certificate (X.509 DER). chain_error is
 * wolfSSL's own verdict on it (0, or e.g. no signer / date error: the pin,
 * not a CA, is the trust anchor, so the rule may ignore it). */
typedef enum secd_tls_verdict (*secd_tls_verify_fn)(void *ctx, const uint8_t *der, size_t len,
                                                    int chain_error);

struct secd_tls_config {
    secd_tls_verify_fn verify; /* required */
    void *verify_ctx;
    const char *sni;           /* server name indication, or NULL */
    /* Optional client certificate and its private key (DER). */
    const uint8_t *client_cert;
    size_t client_cert_len;
    const uint8_t *client_key;
    size_t client_key_len;
};

/* The session. Fields are private; sized for static allocation. */
struct secd_tls {
    void *ctx; /* WOLFSSL_CTX */
    void *ssl; /* WOLFSSL */
    secd_tls_verify_fn verify;
    void *verify_ctx;
    uint8_t in[SECD_TLS_IO_BUF];
    size_t in_len;
    uint8_t out[SECD_TLS_IO_BUF];
    size_t out_len;
    int eof;        /* 0, 1 = peer closed (FIN), 2 = reset */
    int leaf_seen;  /* the rule was asked about the leaf */
    int peer_state; /* 0 unknown, 1 accepted, 2 deferred, 3 refused */
    int failed;     /* sticky error (enum secd_tls_status) */
    int wolf_error; /* last wolfSSL error code, for the trace */
    int chain_error;
    int out_blocked; /* wolfSSL was told WANT_WRITE: output full */
    uint8_t *leaf;   /* heap copy of the leaf while its decision is deferred */
    size_t leaf_len; /* 0 when none is kept */
    uint8_t leaf_sha256[32];
    int leaf_sha256_ok; /* leaf_sha256 holds the leaf's SHA-256 (deferred leaves) */
};

/* Creates the session (client side, TLS 1.2). Returns SECD_TLS_OK or an
 * error; on error nothing needs freeing. */
enum secd_tls_status secd_tls_init(struct secd_tls *t, const struct secd_tls_config *cfg);
/* Releases wolfSSL memory and the kept leaf; safe to call twice. */
void secd_tls_free(struct secd_tls *t);

/* Bytes received from the transport. Returns how many were taken (the
 * rest must be fed again after the next step). */
size_t secd_tls_feed(struct secd_tls *t, const uint8_t *p, size_t n);
/* Free space in the input buffer (feed at most this much). */
size_t secd_tls_input_room(const struct secd_tls *t);
/* The transport ended: reset = 0 for an orderly FIN, 1 for a reset. */
void secd_tls_feed_eof(struct secd_tls *t, int reset);
/* Is the session waiting for input (the input buffer is empty, and it is
 * not held back by a full output buffer)? */
int secd_tls_wants_input(const struct secd_tls *t);
/* Bytes waiting to be sent; returns their count (0 = nothing). */
size_t secd_tls_output(const struct secd_tls *t, const uint8_t **p);
/* n bytes of the output were sent. */
void secd_tls_output_done(struct secd_tls *t, size_t n);

/* Advances the handshake. SECD_TLS_OK once it is complete (and the peer
 * accepted or deferred by the rule). */
enum secd_tls_status secd_tls_handshake(struct secd_tls *t);
/* Encrypts up to n bytes; *done gets how many were taken. */
enum secd_tls_status secd_tls_write(struct secd_tls *t, const uint8_t *p, size_t n,
                                    size_t *done);
/* Decrypts into buf; *got gets the count (OK with *got > 0), or
 * WANT_IO / CLOSED. */
enum secd_tls_status secd_tls_read(struct secd_tls *t, uint8_t *buf, size_t cap, size_t *got);
/* Queues a close_notify alert (flush the output afterwards). */
void secd_tls_close(struct secd_tls *t);

/* After SECD_TLS_DEFER: the leaf certificate and the decision. */
const uint8_t *secd_tls_peer_cert(const struct secd_tls *t, size_t *len);
/* After SECD_TLS_DEFER: SHA-256 of that leaf (32 bytes, computed once in
 * the handshake; the TVS cache key), or NULL. */
const uint8_t *secd_tls_peer_cert_sha256(const struct secd_tls *t);
void secd_tls_peer_decide(struct secd_tls *t, int accepted);

/* For the trace: wolfSSL's last error code and its text, the negotiated
 * protocol version and cipher suite ("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256"). */
int secd_tls_error_code(const struct secd_tls *t);
const char *secd_tls_error_text(const struct secd_tls *t, char *buf, size_t cap);
const char *secd_tls_version(const struct secd_tls *t);
const char *secd_tls_cipher(const struct secd_tls *t);

#endif
