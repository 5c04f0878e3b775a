/* Sans-I/O TLS 1.2 client over wolfSSL (see secd/tls.h). */
#include "secd/tls.h"

#include <stdlib.h>
#include <string.h>

#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/sha256.h>

/* The leaf must be judged by our rule: wolfSSL must call the verify
 * callback for it even when its own chain check passed. */
#ifndef WOLFSSL_ALWAYS_VERIFY_CB
#error "secd/tls needs WOLFSSL_ALWAYS_VERIFY_CB (config/wolfssl/user_settings.h)"
#endif

enum peer_state { PEER_UNKNOWN, PEER_ACCEPTED, PEER_DEFERRED, PEER_REFUSED };
enum eof_state { EOF_NONE, EOF_FIN, EOF_RESET };

const char *secd_tls_status_str(enum secd_tls_status s)
{
    switch (s) {
    case SECD_TLS_OK: return "ok";
    case SECD_TLS_WANT_IO: return "want I/O";
    case SECD_TLS_CLOSED: return "closed";
    case SECD_TLS_ERR_HANDSHAKE: return "TLS handshake failed";
    case SECD_TLS_ERR_CERT: return "server certificate refused";
    case SECD_TLS_ERR_UNVERIFIED: return "server certificate not (yet) accepted";
    case SECD_TLS_ERR_EOF: return "connection closed by the peer";
    case SECD_TLS_ERR_IO: return "connection reset";
    case SECD_TLS_ERR_STATE: return "TLS session in the wrong state";
    case SECD_TLS_ERR_NO_MEMORY: return "out of memory";
    case SECD_TLS_ERR_CONFIG: return "bad TLS configuration";
    }
    return "?";
}

/* --- wolfSSL user I/O: the two buffers of the session ------------------- */

static int io_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
    struct secd_tls *t = ctx;
    (void)ssl;
    if (t->in_len == 0) {
        if (t->eof == EOF_RESET)
            return WOLFSSL_CBIO_ERR_CONN_RST;
        if (t->eof == EOF_FIN)
            return WOLFSSL_CBIO_ERR_CONN_CLOSE;
        return WOLFSSL_CBIO_ERR_WANT_READ;
    }
    size_t n = (size_t)sz < t->in_len ? (size_t)sz : t->in_len;
    memcpy(buf, t->in, n);
    memmove(t->in, t->in + n, t->in_len - n);
    t->in_len -= n;
    return (int)n;
}

static int io_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
    struct secd_tls *t = ctx;
    (void)ssl;
    if (t->eof == EOF_RESET)
        return WOLFSSL_CBIO_ERR_CONN_RST;
    size_t room = sizeof t->out - t->out_len;
    if (room == 0) {
        t->out_blocked = 1; /* flush before waiting for the peer */
        return WOLFSSL_CBIO_ERR_WANT_WRITE;
    }
    t->out_blocked = 0;
    size_t n = (size_t)sz < room ? (size_t)sz : room;
    memcpy(t->out + t->out_len, buf, n);
    t->out_len += n;
    return (int)n;
}

/* --- certificate check -------------------------------------------------- */

/* wolfSSL errors that only say "no CA vouches for this" (we have no CA
 * store: the caller's rule is the anchor) or that concern dates (a phone
 * without a real-time clock cannot judge them; the pin is what counts). */
static int overridable(int err)
{
    return err == 0 || err == ASN_NO_SIGNER_E || err == ASN_SELF_SIGNED_E ||
           err == ASN_BEFORE_DATE_E || err == ASN_AFTER_DATE_E;
}

static void drop_leaf(struct secd_tls *t)
{
    free(t->leaf);
    t->leaf = NULL;
    t->leaf_len = 0;
    t->leaf_sha256_ok = 0;
}

static int verify_cb(int preverify, WOLFSSL_X509_STORE_CTX *store)
{
    struct secd_tls *t = store->userCtx;
    int err = preverify ? 0 : store->error;
    if (store->error_depth > 0)
        return overridable(err); /* chain certificates are trusted for nothing */
    t->leaf_seen = 1;
    t->chain_error = err;
    if (!overridable(err) || store->certs == NULL || store->totalCerts < 1) {
        t->peer_state = PEER_REFUSED;
        return 0;
    }
    const uint8_t *der = store->certs[0].buffer;
    size_t len = store->certs[0].length;
    drop_leaf(t);
    enum secd_tls_verdict v = t->verify(t->verify_ctx, der, len, err);
    if (v == SECD_TLS_DEFER) {
        /* Kept for the later decision, on the heap and only then: most
         * sessions are judged here and need no copy. */
        t->leaf = len > 0 && len <= SECD_TLS_CERT_MAX ? malloc(len) : NULL;
        if (t->leaf) {
            memcpy(t->leaf, der, len);
            t->leaf_len = len;
            /* The later decision looks the leaf up by its SHA-256 (the TVS
             * cache key): hash it once here, while the handshake has it. */
            t->leaf_sha256_ok = wc_Sha256Hash(t->leaf, (word32)len, t->leaf_sha256) == 0;
        } else {
            v = SECD_TLS_REJECT; /* cannot keep it for the later decision */
        }
    }
    t->peer_state = v == SECD_TLS_ACCEPT   ? PEER_ACCEPTED
                    : v == SECD_TLS_DEFER ? PEER_DEFERRED
                                          : PEER_REFUSED;
    return t->peer_state != PEER_REFUSED;
}

/* --- setup -------------------------------------------------------------- */

static int wolf_ready(void)
{
    static int done;
    if (!done && wolfSSL_Init() == WOLFSSL_SUCCESS)
        done = 1;
    return done;
}

static enum secd_tls_status load_client_identity(WOLFSSL_CTX *ctx,
                                                 const struct secd_tls_config *cfg)
{
    if (!cfg->client_cert)
        return SECD_TLS_OK;
    if (wolfSSL_CTX_use_certificate_buffer(ctx, cfg->client_cert, (long)cfg->client_cert_len,
                                           WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS)
        return SECD_TLS_ERR_CONFIG;
    if (!cfg->client_key ||
        wolfSSL_CTX_use_PrivateKey_buffer(ctx, cfg->client_key, (long)cfg->client_key_len,
                                          WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS)
        return SECD_TLS_ERR_CONFIG;
    return SECD_TLS_OK;
}

static enum secd_tls_status make_ctx(struct secd_tls *t, const struct secd_tls_config *cfg)
{
    WOLFSSL_CTX *ctx = wolfSSL_CTX_new(wolfTLSv1_2_client_method());
    if (!ctx)
        return SECD_TLS_ERR_NO_MEMORY;
    t->ctx = ctx;
    if (wolfSSL_CTX_set_cipher_list(ctx, SECD_TLS_CIPHERS) != WOLFSSL_SUCCESS)
        return SECD_TLS_ERR_CONFIG;
    wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER, verify_cb);
    wolfSSL_CTX_SetIORecv(ctx, io_recv);
    wolfSSL_CTX_SetIOSend(ctx, io_send);
    return load_client_identity(ctx, cfg);
}

enum secd_tls_status secd_tls_init(struct secd_tls *t, const struct secd_tls_config *cfg)
{
    memset(t, 0, sizeof *t);
    if (!cfg || !cfg->verify)
        return SECD_TLS_ERR_CONFIG;
    if (!wolf_ready())
        return SECD_TLS_ERR_NO_MEMORY;
    t->verify = cfg->verify;
    t->verify_ctx = cfg->verify_ctx;
    enum secd_tls_status st = make_ctx(t, cfg);
    if (st == SECD_TLS_OK) {
        WOLFSSL *ssl = wolfSSL_new(t->ctx);
        t->ssl = ssl;
        if (!ssl)
            st = SECD_TLS_ERR_NO_MEMORY;
    }
    if (st == SECD_TLS_OK) {
        WOLFSSL *ssl = t->ssl;
        wolfSSL_SetIOReadCtx(ssl, t);
        wolfSSL_SetIOWriteCtx(ssl, t);
        wolfSSL_SetCertCbCtx(ssl, t);
        if (cfg->sni && wolfSSL_UseSNI(ssl, WOLFSSL_SNI_HOST_NAME, cfg->sni,
                                       (unsigned short)strlen(cfg->sni)) != WOLFSSL_SUCCESS)
            st = SECD_TLS_ERR_CONFIG;
    }
    if (st != SECD_TLS_OK)
        secd_tls_free(t);
    return st;
}

void secd_tls_free(struct secd_tls *t)
{
    drop_leaf(t);
    if (t->ssl)
        wolfSSL_free(t->ssl);
    if (t->ctx)
        wolfSSL_CTX_free(t->ctx);
    t->ssl = NULL;
    t->ctx = NULL;
}

/* --- the board's side of the buffers ------------------------------------ */

size_t secd_tls_feed(struct secd_tls *t, const uint8_t *p, size_t n)
{
    size_t room = sizeof t->in - t->in_len;
    if (n > room)
        n = room;
    memcpy(t->in + t->in_len, p, n);
    t->in_len += n;
    return n;
}

size_t secd_tls_input_room(const struct secd_tls *t)
{
    return sizeof t->in - t->in_len;
}

void secd_tls_feed_eof(struct secd_tls *t, int reset)
{
    t->eof = reset ? EOF_RESET : EOF_FIN;
}

int secd_tls_wants_input(const struct secd_tls *t)
{
    /* A flight larger than the output buffer: wolfSSL has more to send
     * once the output is flushed, the peer answers only after that. */
    return t->in_len == 0 && t->eof == EOF_NONE && !t->out_blocked;
}

size_t secd_tls_output(const struct secd_tls *t, const uint8_t **p)
{
    *p = t->out;
    return t->out_len;
}

void secd_tls_output_done(struct secd_tls *t, size_t n)
{
    if (n > t->out_len)
        n = t->out_len;
    memmove(t->out, t->out + n, t->out_len - n);
    t->out_len -= n;
}

/* --- steps -------------------------------------------------------------- */

/* Maps a failed wolfSSL call to our status (sticky for real errors). */
static enum secd_tls_status failure(struct secd_tls *t, int ret)
{
    int err = wolfSSL_get_error(t->ssl, ret);
    if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE)
        return SECD_TLS_WANT_IO;
    if (err == WOLFSSL_ERROR_ZERO_RETURN)
        return SECD_TLS_CLOSED;
    t->wolf_error = err;
    enum secd_tls_status st = SECD_TLS_ERR_HANDSHAKE;
    if (t->peer_state == PEER_REFUSED)
        st = SECD_TLS_ERR_CERT;
    else if (t->eof == EOF_RESET)
        st = SECD_TLS_ERR_IO;
    else if (t->eof == EOF_FIN && t->in_len == 0)
        st = SECD_TLS_ERR_EOF;
    t->failed = st;
    return st;
}

enum secd_tls_status secd_tls_handshake(struct secd_tls *t)
{
    if (!t->ssl)
        return SECD_TLS_ERR_STATE;
    if (t->failed)
        return (enum secd_tls_status)t->failed;
    int ret = wolfSSL_connect(t->ssl);
    if (ret != WOLFSSL_SUCCESS)
        return failure(t, ret);
    /* Defence in depth: never complete without the rule having judged
     * the leaf. */
    if (!t->leaf_seen || t->peer_state == PEER_UNKNOWN || t->peer_state == PEER_REFUSED) {
        t->failed = SECD_TLS_ERR_CERT;
        return SECD_TLS_ERR_CERT;
    }
    return SECD_TLS_OK;
}

static enum secd_tls_status data_allowed(const struct secd_tls *t)
{
    if (!t->ssl)
        return SECD_TLS_ERR_STATE;
    if (t->failed)
        return (enum secd_tls_status)t->failed;
    if (!wolfSSL_is_init_finished(t->ssl))
        return SECD_TLS_ERR_STATE;
    if (t->peer_state != PEER_ACCEPTED)
        return SECD_TLS_ERR_UNVERIFIED;
    return SECD_TLS_OK;
}

enum secd_tls_status secd_tls_write(struct secd_tls *t, const uint8_t *p, size_t n,
                                    size_t *done)
{
    *done = 0;
    enum secd_tls_status st = data_allowed(t);
    if (st != SECD_TLS_OK)
        return st;
    if (n == 0)
        return SECD_TLS_OK;
    int ret = wolfSSL_write(t->ssl, p, n > 0x7fffffff ? 0x7fffffff : (int)n);
    if (ret > 0) {
        *done = (size_t)ret;
        return SECD_TLS_OK;
    }
    return failure(t, ret);
}

enum secd_tls_status secd_tls_read(struct secd_tls *t, uint8_t *buf, size_t cap, size_t *got)
{
    *got = 0;
    enum secd_tls_status st = data_allowed(t);
    if (st != SECD_TLS_OK)
        return st;
    if (cap == 0)
        return SECD_TLS_OK;
    int ret = wolfSSL_read(t->ssl, buf, cap > 0x7fffffff ? 0x7fffffff : (int)cap);
    if (ret > 0) {
        *got = (size_t)ret;
        return SECD_TLS_OK;
    }
    return failure(t, ret);
}

void secd_tls_close(struct secd_tls *t)
{
    if (t->ssl && !t->failed && wolfSSL_is_init_finished(t->ssl))
        wolfSSL_shutdown(t->ssl);
}

const uint8_t *secd_tls_peer_cert(const struct secd_tls *t, size_t *len)
{
    *len = t->leaf_len;
    return t->leaf_len ? t->leaf : NULL;
}

const uint8_t *secd_tls_peer_cert_sha256(const struct secd_tls *t)
{
    return t->leaf_len && t->leaf_sha256_ok ? t->leaf_sha256 : NULL;
}

void secd_tls_peer_decide(struct secd_tls *t, int accepted)
{
    if (t->peer_state == PEER_DEFERRED)
        t->peer_state = accepted ? PEER_ACCEPTED : PEER_REFUSED;
}

int secd_tls_error_code(const struct secd_tls *t)
{
    return t->wolf_error;
}

const char *secd_tls_error_text(const struct secd_tls *t, char *buf, size_t cap)
{
    if (cap == 0)
        return buf;
    buf[0] = '\0';
    if (t->wolf_error)
        wolfSSL_ERR_error_string_n((unsigned long)t->wolf_error, buf, cap);
    return buf;
}

const char *secd_tls_version(const struct secd_tls *t)
{
    return t->ssl ? wolfSSL_get_version(t->ssl) : "";
}

const char *secd_tls_cipher(const struct secd_tls *t)
{
    const char *c = t->ssl ? wolfSSL_get_cipher_name(t->ssl) : NULL;
    return c ? c : "";
}
