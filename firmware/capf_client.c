/* CAPF client driver (see capf_client.h). */
#include "capf_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/types.h>

#include "hal/hal_clock.h"
#include "scratch.h"
#include "trace.h"

/* ---- pre-generated key blob: "KEY1", u8 type, u16 bits, u16 len, DER ---- */

static const uint8_t pregen_magic[4] = {'K', 'E', 'Y', '1'}; /* bytes, no NUL */

int capf_pregen_load(const struct storage *st, struct capf_keyspec *ks, uint8_t *key, size_t cap,
                     size_t *len)
{
    /* Header first, then the key straight into the caller's buffer: no
     * RAM copy of the whole blob. */
    uint8_t h[9];
    size_t n = 0;
    uint32_t off;
    if (storage_stat(st, CERT_AREA_NEXT_KEY, &n, &off) != STORAGE_OK || n < sizeof h ||
        storage_read_at(st, off, 0, h, sizeof h) != STORAGE_OK ||
        memcmp(h, pregen_magic, sizeof pregen_magic) != 0)
        return -1;
    size_t kl = (size_t)h[7] << 8 | h[8];
    if (kl + sizeof h != n || (key && kl > cap))
        return -1;
    if (key && storage_read_at(st, off, sizeof h, key, kl) != STORAGE_OK)
        return -1;
    ks->type = h[4];
    ks->bits = (uint16_t)(h[5] << 8 | h[6]);
    *len = kl;
    return 0;
}

int capf_pregen_store(const struct storage *st, const struct capf_keyspec *ks,
                      const uint8_t *key, size_t len)
{
    /* Header and key through the atomic streaming writer: no staging copy. */
    uint8_t h[9];
    struct storage_writer w;
    if (len > CAPF_KEY_DER_MAX)
        return -1;
    memcpy(h, pregen_magic, sizeof pregen_magic);
    h[4] = ks->type;
    h[5] = (uint8_t)(ks->bits >> 8);
    h[6] = (uint8_t)ks->bits;
    h[7] = (uint8_t)(len >> 8);
    h[8] = (uint8_t)len;
    return storage_write_begin(&w, st, CERT_AREA_NEXT_KEY) == STORAGE_OK &&
                   storage_write_chunk(&w, h, sizeof h) == STORAGE_OK &&
                   storage_write_chunk(&w, key, len) == STORAGE_OK &&
                   storage_write_commit(&w) == STORAGE_OK
               ? 0
               : -1;
}

void capf_client_init(struct capf_client *c, struct cert_store *cs, struct trust_store *ts,
                      const struct phone_config *cfg, const struct tvs_net *net,
                      const char *mac)
{
    memset(c, 0, sizeof *c);
    c->cs = cs;
    c->ts = ts;
    c->cfg = cfg;
    c->net = net;
    snprintf(c->device_name, sizeof c->device_name, "SEP%.12s", mac);
    c->pregen_enabled = 1;
    c->pregen_spec = (struct capf_keyspec){CAPF_KEY_RSA, 2048};
    c->pregen.stored = -1;
    c->status.reason = -1;
    c->status.auth_type = -1;
}

/* ---- server certificate -------------------------------------------------- */

static int record_names_cert(const struct secd_record *r, const uint8_t *der, size_t len)
{
    if (r->certificate.len)
        return r->certificate.len == len && memcmp(r->certificate.p, der, len) == 0;
    if (!r->cert_hash.len)
        return 0;
    enum wc_HashType ht = r->cert_hash_alg == SECD_HASH_SHA512   ? WC_HASH_TYPE_SHA512
                          : r->cert_hash_alg == SECD_HASH_SHA256 ? WC_HASH_TYPE_SHA256
                                                                 : WC_HASH_TYPE_SHA;
    uint8_t h[WC_MAX_DIGEST_SIZE];
    int hl = wc_HashGetDigestSize(ht);
    return hl > 0 && (size_t)hl == r->cert_hash.len && wc_Hash(ht, der, (word32)len, h, hl) == 0 &&
           memcmp(h, r->cert_hash.p, (size_t)hl) == 0;
}

/* Is der the certificate of a CAPF record of this trust list? */
static int list_has_capf(const struct secd_tl *tl, const uint8_t *der, size_t len)
{
    struct secd_tl_iter it;
    struct secd_record r;
    if (!tl)
        return 0;
    secd_tl_records_begin(&it, tl);
    while (secd_tl_records_next(&it, &r) == SECD_OK && r.length)
        if (r.has_role && r.role == SECD_ROLE_CAPF && record_names_cert(&r, der, len))
            return 1;
    return 0;
}

static enum secd_tls_verdict verify_capf(void *ctx, const uint8_t *der, size_t len,
                                         int chain_error)
{
    struct capf_client *c = ctx;
    const struct secd_trust *t = &c->ts->trust;
    (void)chain_error; /* the CAPF record, not a CA, is the anchor */
    if (t->corrupt) {
        c->peer_refused = 1;
        return SECD_TLS_REJECT;
    }
    if (list_has_capf(t->ctl, der, len)) {
        NOT("CAPF", "server certificate is the CAPF record of the CTL");
        return SECD_TLS_ACCEPT;
    }
    if (list_has_capf(t->itl, der, len)) {
        NOT("CAPF", "server certificate is the CAPF record of the ITL");
        return SECD_TLS_ACCEPT;
    }
    if (t->tvs && t->tvs->vouch) {
        c->peer_deferred = 1;
        return SECD_TLS_DEFER;
    }
    c->peer_refused = 1;
    return SECD_TLS_REJECT;
}

/* After a deferred handshake: ask TVS whether the certificate has the
 * CAPF role. */
static int tvs_vouches(struct capf_client *c)
{
    const struct secd_tvs_hook *tvs = c->ts->trust.tvs;
    size_t len = 0;
    const uint8_t *der = secd_tls_peer_cert(&c->live->tls, &len);
    struct secd_header none;
    struct secd_bytes key = {0};
    memset(&none, 0, sizeof none);
    if (!der || !tvs || !tvs->vouch)
        return 0;
    NOT("CAPF", "server certificate not in CTL/ITL: asking TVS");
    return tvs->vouch(tvs->ctx, &none, der, len, SECD_ROLE_BIT(SECD_ROLE_CAPF), &key) == 1;
}

/* ---- connection ------------------------------------------------------- */

/* Bounded copy; src may be dst itself. */
static void copy_text(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memmove(dst, src, n);
    dst[n] = '\0';
}

static void fail(struct capf_client *c, enum capf_outcome o, const char *why)
{
    c->status.outcome = o;
    copy_text(c->status.why, sizeof c->status.why, why);
    ERR("CAPF", "%s", c->status.why);
}

/* The session's buffers and TLS session: the work area while connected
 * (a config parse cannot run meanwhile, nor a session during a parse). */
_Static_assert(sizeof(struct capf_live) <= SCRATCH_SIZE, "a CAPF session must fit the work area");

static int acquire_live(struct capf_client *c)
{
    c->live = scratch_acquire("CAPF session", sizeof *c->live);
    if (!c->live) {
        char msg[96];
        snprintf(msg, sizeof msg, "work area in use by %s: no CAPF session now",
                 scratch_owner() ? scratch_owner() : "?");
        fail(c, CAPF_OUT_FAILED, msg);
        return -1;
    }
    memset(c->live, 0, sizeof *c->live);
    return 0;
}

static void release_live(struct capf_client *c)
{
    if (c->live)
        memset(c->live, 0, sizeof *c->live); /* keys: the session's and the phone's */
    scratch_release(c->live);
    c->live = NULL;
}

static void disconnect(struct capf_client *c)
{
    if (!c->connected)
        return;
    c->net->close(c->conn, &c->live->tls);
    secd_tls_free(&c->live->tls);
    c->conn = NULL;
    c->connected = 0;
    c->waiting_auth_string = 0;
    release_live(c);
}

static const char *net_error(enum tvs_net_result r)
{
    switch (r) {
    case TVS_NET_OK: return "ok";
    case TVS_NET_UNREACHABLE: return "unreachable";
    case TVS_NET_TIMEOUT: return "timeout";
    case TVS_NET_RESET: return "connection reset";
    case TVS_NET_TLS: return "TLS failure";
    case TVS_NET_CLOSED: return "closed by the server";
    default: return "network error";
    }
}

static int net_write(struct capf_client *c, const uint8_t *p, size_t n)
{
    return c->net->write(c->conn, &c->live->tls, p, n, CAPF_READ_TIMEOUT_MS) == TVS_NET_OK ? 0 : -1;
}

static int open_tls(struct capf_client *c, const char *host, uint16_t port)
{
    char why[96] = "";
    enum tvs_net_result r = TVS_NET_OK;
    struct cert_pair id = {0}; /* read from flash for wolfSSL to copy, then wiped */
    struct secd_tls_config tc = {.verify = verify_capf, .verify_ctx = c};
    if (cert_store_take(c->cs, "CAPF", &id)) {
        tc.client_cert = id.cert;
        tc.client_cert_len = id.cert_len;
        tc.client_key = id.key;
        tc.client_key_len = id.key_len;
    }
    if (acquire_live(c) != 0) {
        cert_pair_free(&id);
        return -1;
    }
    NOT("CAPF", "connecting to CAPF %s:%u", host, (unsigned)port);
    c->conn = c->net->connect(c->net->ctx, host, port, CAPF_CONNECT_TIMEOUT_MS, &r);
    if (!c->conn) {
        cert_pair_free(&id);
        release_live(c);
        char msg[200];
        snprintf(msg, sizeof msg, "cannot connect to CAPF %.64s:%u: %s", host, (unsigned)port,
                 net_error(r));
        fail(c, CAPF_OUT_FAILED, msg);
        return -1;
    }
    enum secd_tls_status ts = secd_tls_init(&c->live->tls, &tc);
    cert_pair_free(&id);
    if (ts != SECD_TLS_OK) {
        c->net->close(c->conn, NULL);
        c->conn = NULL;
        release_live(c);
        fail(c, CAPF_OUT_FAILED, secd_tls_status_str(ts));
        return -1;
    }
    c->connected = 1;
    c->peer_deferred = c->peer_refused = 0;
    r = c->net->handshake(c->conn, &c->live->tls, CAPF_READ_TIMEOUT_MS);
    int hs = r == TVS_NET_OK ? 0 : -1;
    if (hs) {
        char wolf[64];
        snprintf(why, sizeof why, "%s (%s)", net_error(r),
                 secd_tls_error_text(&c->live->tls, wolf, sizeof wolf));
    }
    if (hs == 0 && c->peer_deferred) {
        int ok = tvs_vouches(c);
        secd_tls_peer_decide(&c->live->tls, ok);
        if (!ok) {
            hs = -1;
            c->peer_refused = 1;
            snprintf(why, sizeof why, "%s", "TVS does not vouch for it with the CAPF role");
        }
    }
    if (hs != 0) {
        char msg[320];
        snprintf(msg, sizeof msg, "TLS to CAPF %.64s:%u refused: %s%s", host, (unsigned)port, why,
                 c->peer_refused
                     ? " (CAPF certificate not in CTL/ITL and not vouched for by TVS)"
                     : "");
        fail(c, CAPF_OUT_FAILED, msg);
        disconnect(c);
        return -1;
    }
    NOT("CAPF", "TLS established with CAPF %s:%u (%s, %s)", host, (unsigned)port,
        secd_tls_version(&c->live->tls), secd_tls_cipher(&c->live->tls));
    return 0;
}

/* ---- key generation -------------------------------------------------- */

static int spec_equal(const struct capf_keyspec *a, const struct capf_keyspec *b)
{
    return a->type == b->type && a->bits == b->bits;
}

/* A stored pre-generated key of this spec, if any. */
static int take_pregen(struct capf_client *c, const struct capf_keyspec *ks)
{
    struct capf_keyspec have;
    if (capf_pregen_load(c->cs->st, &have, c->live->key, sizeof c->live->key,
                         &c->new_key_len) != 0 ||
        !spec_equal(&have, ks))
        return -1;
    struct capf_keyspec check;
    if (capf_key_public(c->live->key, c->new_key_len, c->live->spki, sizeof c->live->spki,
                        &c->new_spki_len, &check) != CAPF_OK)
        return -1;
    return 0;
}

/* An RSA key inside the session: the pre-generation's sliced generator
 * (the one under way when it makes this size, its work kept; else a new
 * one), stepped to the end here with the network polled between two
 * slices, so that lwIP's timers, ARP and TCP acknowledgements go on
 * during the seconds to a minute the prime search takes (one
 * wc_MakeRsaKey call would stop them all). *slices gets the count. */
static enum capf_err generate_rsa_sliced(struct capf_client *c, const struct capf_keyspec *ks,
                                         unsigned *slices, int *continued)
{
    struct capf_pregen *pg = &c->pregen;
    if (pg->gen && pg->gen->bits != ks->bits)
        capf_client_pregen_abort(c); /* another size: its work cannot serve */
    *continued = pg->gen != NULL;
    if (!pg->gen) {
        pg->gen = XMALLOC(sizeof *pg->gen, NULL, DYNAMIC_TYPE_RSA);
        if (!pg->gen || capf_rsagen_init(pg->gen, ks->bits) != 0) {
            capf_client_pregen_abort(c);
            return CAPF_ERR_CRYPTO;
        }
    }
    enum capf_rsagen_result r;
    for (*slices = 1; (r = capf_rsagen_step(pg->gen)) == CAPF_RSAGEN_MORE; ++*slices) {
        if (c->net->poll)
            c->net->poll(c->net->ctx);
    }
    int ok = r == CAPF_RSAGEN_DONE &&
             capf_rsagen_key(pg->gen, c->live->key, sizeof c->live->key, &c->new_key_len,
                             c->live->spki, sizeof c->live->spki, &c->new_spki_len) == 0;
    capf_client_pregen_abort(c); /* wipes the generator; idle work makes the next key */
    return ok ? CAPF_OK : CAPF_ERR_CRYPTO;
}

static int rsagen_makes(const struct capf_keyspec *ks)
{
    return ks->type == CAPF_KEY_RSA && (ks->bits == 1024 || ks->bits == 2048);
}

static void on_generate(struct capf_client *c, const struct capf_keyspec *ks)
{
    snprintf(c->status.key, sizeof c->status.key, "%s", capf_keyspec_str(ks));
    c->new_key_is_pregen = take_pregen(c, ks) == 0;
    c->status.used_pregen = c->new_key_is_pregen;
    c->status.keygen_ms = 0;
    if (c->new_key_is_pregen) {
        NOT("CAPF", "key generate request %s: using the pre-generated key", capf_keyspec_str(ks));
        capf_session_key_ready(&c->live->session, c->live->spki, c->new_spki_len);
        return;
    }
    /* Slow: tell the server first (request in progress). */
    capf_session_generating(&c->live->session);
    struct capf_output out;
    if (capf_session_poll(&c->live->session, &out) == CAPF_ACT_SEND)
        net_write(c, out.data, out.len);
    NOT("CAPF", "key generate request %s: generating (request in progress sent)",
        capf_keyspec_str(ks));
    uint32_t t0 = hal_monotonic_ms();
    unsigned slices = 0;
    int continued = 0;
    enum capf_err e =
        rsagen_makes(ks)
            ? generate_rsa_sliced(c, ks, &slices, &continued)
            : capf_key_generate(ks, c->live->key, sizeof c->live->key, &c->new_key_len,
                                c->live->spki, sizeof c->live->spki, &c->new_spki_len);
    c->status.keygen_ms = hal_monotonic_ms() - t0;
    if (e != CAPF_OK) {
        ERR("CAPF", "key generation %s failed: %s", capf_keyspec_str(ks), capf_err_str(e));
        capf_session_key_ready(&c->live->session, NULL, 0);
        return;
    }
    if (slices)
        NOT("CAPF", "generated %s key in %u ms, %u slices with the network polled between them%s",
            capf_keyspec_str(ks), (unsigned)c->status.keygen_ms, slices,
            continued ? " (continuing the pre-generation under way)" : "");
    else
        NOT("CAPF", "generated %s key in %u ms", capf_keyspec_str(ks),
            (unsigned)c->status.keygen_ms);
    capf_session_key_ready(&c->live->session, c->live->spki, c->new_spki_len);
}

static void on_store(struct capf_client *c, const struct capf_output *out)
{
    int ok =
        cert_store_install_lsc(c->cs, out->data, out->len, c->live->key, c->new_key_len) == 0;
    if (ok) {
        NOT("CAPF", "LSC stored with its private key (%u + %u bytes)", (unsigned)out->len,
            (unsigned)c->new_key_len);
        if (c->new_key_is_pregen) {
            storage_erase(c->cs->st, CERT_AREA_NEXT_KEY); /* used: make the next one */
            c->pregen.stored = 0;
        }
    } else {
        ERR("CAPF", "storing the LSC failed: the previous certificate is kept");
    }
    memset(c->live->key, 0, sizeof c->live->key);
    c->new_key_len = 0;
    capf_session_store_done(&c->live->session, ok);
}

static void on_delete(struct capf_client *c)
{
    int ok = cert_store_delete_lsc(c->cs) == 0;
    if (ok)
        NOT("CAPF", "LSC deleted at the server's request");
    else
        ERR("CAPF", "deleting the LSC failed");
    capf_session_delete_done(&c->live->session, ok);
}

/* ---- session pump ----------------------------------------------------- */

static void trace_received(struct capf_client *c)
{
    if (c->live->session.rx_count == c->rx_seen)
        return;
    c->rx_seen = c->live->session.rx_count;
    uint8_t cmd = c->live->session.last_rx_command;
    if (cmd == CAPF_AUTH_REQUEST) {
        c->status.auth_type = c->live->session.auth_type;
        NOT("CAPF", "received %s (session %08x, auth mode %s)", capf_command_name(cmd),
            (unsigned)c->live->session.session_id, capf_auth_type_name(c->live->session.auth_type));
    } else {
        NOT("CAPF", "received %s", capf_command_name(cmd));
    }
}

static void on_done(struct capf_client *c, const struct capf_output *out)
{
    c->status.outcome = out->outcome;
    c->status.reason = out->reason;
    c->status.retry_delay = out->outcome == CAPF_OUT_RETRY_LATER ? out->retry_delay : 0;
    copy_text(c->status.why, sizeof c->status.why, out->why ? out->why : "");
    switch (out->outcome) {
    case CAPF_OUT_INSTALLED:
    case CAPF_OUT_FETCHED:
    case CAPF_OUT_DELETED:
    case CAPF_OUT_NOTHING_TO_DO:
        NOT("CAPF", "session ended: %s", capf_outcome_name(out->outcome));
        break;
    case CAPF_OUT_RETRY_LATER:
        WRN("CAPF", "session ended: retry later (%u s)", (unsigned)out->retry_delay);
        break;
    case CAPF_OUT_REFUSED:
        ERR("CAPF", "session ended by the server: reason %d (%s); certificates unchanged",
            out->reason, capf_reason_name(out->reason));
        break;
    case CAPF_OUT_CONNECTION_LOST:
        ERR("CAPF", "connection lost mid-session: previous LSC and key kept");
        break;
    default:
        ERR("CAPF", "session failed: %s", out->why ? out->why : capf_outcome_name(out->outcome));
        break;
    }
    disconnect(c);
}

static void receive(struct capf_client *c)
{
    uint8_t buf[1024];
    size_t n = 0;
    enum tvs_net_result r = c->net->read(c->conn, &c->live->tls, buf, sizeof buf, &n, CAPF_READ_TIMEOUT_MS);
    if (r != TVS_NET_OK || n == 0) {
        if (r != TVS_NET_OK)
            NOT("CAPF", "connection: %s", net_error(r));
        capf_session_on_closed(&c->live->session);
        return;
    }
    size_t taken = capf_session_on_bytes(&c->live->session, buf, n);
    if (taken < n) /* more than a whole message of garbage */
        capf_session_on_closed(&c->live->session);
}

/* Runs the session until it ends or waits for the user. */
static int pump(struct capf_client *c)
{
    struct capf_output out;
    for (;;) {
        enum capf_action a = capf_session_poll(&c->live->session, &out);
        trace_received(c);
        switch (a) {
        case CAPF_ACT_SEND:
            NOT("CAPF", "sending %s", capf_command_name(out.command));
            if (net_write(c, out.data, out.len) != 0)
                capf_session_on_closed(&c->live->session);
            break;
        case CAPF_ACT_WAIT:
            receive(c);
            break;
        case CAPF_ACT_NEED_AUTH_STRING:
            if (capf_auth_string_valid(c->auth_string)) {
                capf_session_set_auth_string(&c->live->session, c->auth_string);
                break;
            }
            c->waiting_auth_string = 1;
            WRN("CAPF", "auth mode by authentication string: waiting for the string "
                        "(console: capf auth-string DIGITS)");
            return 1;
        case CAPF_ACT_GENERATE_KEY:
            on_generate(c, &out.key);
            break;
        case CAPF_ACT_STORE_CERT:
            on_store(c, &out);
            break;
        case CAPF_ACT_DELETE_CERT:
            on_delete(c);
            break;
        case CAPF_ACT_DONE:
            on_done(c, &out);
            return out.outcome == CAPF_OUT_INSTALLED || out.outcome == CAPF_OUT_FETCHED ||
                           out.outcome == CAPF_OUT_DELETED || out.outcome == CAPF_OUT_NOTHING_TO_DO
                       ? 0
                       : -1;
        }
    }
}

static void read_identity(struct capf_client *c, enum cert_which which, uint8_t *buf, size_t cap,
                          struct cert_pair *out)
{
    int have = which == CERT_LSC ? cert_store_has_lsc(c->cs) : cert_store_has_mic(c->cs);
    if (have && cert_store_read(c->cs, which, buf, cap, out) != 0)
        ERR("CAPF", "EROR:the %s cannot be read from flash: the session goes on without it",
            which == CERT_LSC ? "LSC" : "MIC");
}

static void session_config(struct capf_client *c, struct capf_session_config *sc)
{
    memset(sc, 0, sizeof *sc);
    snprintf(sc->device_name, sizeof sc->device_name, "%s", c->device_name);
    /* The session may sign with either (auth by existing certificate) and
     * send the LSC (fetch): both are read from flash into its part of the
     * work area, wiped when it ends. */
    struct cert_pair l = {0}, m = {0};
    read_identity(c, CERT_LSC, c->live->lsc, sizeof c->live->lsc, &l);
    read_identity(c, CERT_MIC, c->live->mic, sizeof c->live->mic, &m);
    sc->lsc = (struct capf_identity){l.cert, l.cert_len, l.key, l.key_len};
    sc->mic = (struct capf_identity){m.cert, m.cert_len, m.key, m.key_len};
    if (capf_auth_string_valid(c->auth_string))
        memcpy(sc->auth_string, c->auth_string, sizeof sc->auth_string);
}

int capf_client_start(struct capf_client *c, const char *host, uint16_t port)
{
    disconnect(c);
    memset(&c->status, 0, sizeof c->status);
    c->status.ran = 1;
    c->status.reason = -1;
    c->status.auth_type = -1;
    if (!host) {
        if (!c->cfg || !c->cfg->capf_count) {
            fail(c, CAPF_OUT_FAILED, "no CAPF server in the config (capfList)");
            return -1;
        }
        host = c->cfg->capf[0].host;
        port = c->cfg->capf[0].port;
    }
    if (!port)
        port = CONFIG_CAPF_DEFAULT_PORT;
    if (open_tls(c, host, port) != 0)
        return -1;
    static struct capf_session_config sc;
    session_config(c, &sc);
    capf_session_init(&c->live->session, &sc);
    c->rx_seen = 0;
    return pump(c);
}

int capf_client_set_auth_string(struct capf_client *c, const char *digits)
{
    if (!capf_auth_string_valid(digits))
        return -1;
    snprintf(c->auth_string, sizeof c->auth_string, "%s", digits);
    if (!c->waiting_auth_string)
        return 0;
    c->waiting_auth_string = 0;
    NOT("CAPF", "authentication string entered: resuming the session");
    capf_session_set_auth_string(&c->live->session, c->auth_string);
    return pump(c);
}

void capf_client_pregen_abort(struct capf_client *c)
{
    struct capf_pregen *pg = &c->pregen;
    if (!pg->gen)
        return;
    capf_rsagen_free(pg->gen);
    XFREE(pg->gen, NULL, DYNAMIC_TYPE_RSA);
    pg->gen = NULL;
}

static int pregen_store(struct capf_client *c, const uint8_t *key, size_t kl)
{
    struct capf_pregen *pg = &c->pregen;
    if (capf_pregen_store(c->cs->st, &c->pregen_spec, key, kl) != 0) {
        ERR("CAPF", "storing the pre-generated %s key failed", capf_keyspec_str(&c->pregen_spec));
        c->pregen_enabled = 0;
        return -1;
    }
    pg->stored = 1;
    pg->done++;
    pg->took_ms = hal_monotonic_ms() - pg->started_ms;
    NOT("CAPF", "pre-generated the next %s key in %u ms", capf_keyspec_str(&c->pregen_spec),
        (unsigned)pg->took_ms);
    return 0;
}

static void pregen_failed(struct capf_client *c, const char *why)
{
    ERR("CAPF", "pre-generating the next %s key failed: %s", capf_keyspec_str(&c->pregen_spec),
        why);
    c->pregen_enabled = 0;
    capf_client_pregen_abort(c);
}

/* The finished key on its way to the lsckey area: in the work area
 * (scratch.h) for the moment it takes. Pre-generation runs only while no
 * session is connected and a config parse never spans two main-loop turns,
 * so the area is free then. */
struct pregen_out {
    uint8_t key[CAPF_KEY_DER_MAX];
    uint8_t spki[CAPF_SPKI_MAX];
};

static struct pregen_out *pregen_out_take(void)
{
    return scratch_acquire("key pre-generation", sizeof(struct pregen_out));
}

static void pregen_out_give(struct pregen_out *o)
{
    memset(o, 0, sizeof *o); /* key material */
    scratch_release(o);
}

/* Starts a generation; EC keys (under 2 M instructions) are made at once. */
static int pregen_start(struct capf_client *c)
{
    struct capf_pregen *pg = &c->pregen;
    pg->slices = 0;
    pg->started_ms = hal_monotonic_ms();
    if (c->pregen_spec.type != CAPF_KEY_RSA) {
        size_t kl, sl;
        struct pregen_out *o = pregen_out_take();
        if (!o) {
            pregen_failed(c, "work area busy");
            return 0;
        }
        int ok = capf_key_generate(&c->pregen_spec, o->key, sizeof o->key, &kl, o->spki,
                                   sizeof o->spki, &sl) == CAPF_OK;
        if (ok)
            pregen_store(c, o->key, kl);
        else
            pregen_failed(c, "key generation");
        pregen_out_give(o);
        return 0;
    }
    pg->gen = XMALLOC(sizeof *pg->gen, NULL, DYNAMIC_TYPE_RSA);
    if (!pg->gen) {
        pregen_failed(c, "out of memory");
        return 0;
    }
    if (capf_rsagen_init(pg->gen, c->pregen_spec.bits) != 0) {
        pregen_failed(c, pg->gen->why ? pg->gen->why : "init");
        return 0;
    }
    NOT("CAPF", "pre-generating the next %s key in slices (at most one modexp each)",
        capf_keyspec_str(&c->pregen_spec));
    return 1;
}

int capf_client_idle(struct capf_client *c)
{
    struct capf_pregen *pg = &c->pregen;
    size_t kl = 0, sl = 0;
    if (!c->pregen_enabled || c->connected)
        return 0;
    if (!pg->gen) {
        if (pg->stored < 0) { /* once: is a key stored? */
            struct capf_keyspec have;
            pg->stored = capf_pregen_load(c->cs->st, &have, NULL, 0, &kl) == 0;
        }
        if (pg->stored)
            return 0;
        return pregen_start(c);
    }
    pg->slices++;
    switch (capf_rsagen_step(pg->gen)) {
    case CAPF_RSAGEN_MORE:
        return 1;
    case CAPF_RSAGEN_DONE: {
        pg->last = pg->gen->stats;
        struct pregen_out *o = pregen_out_take();
        if (!o) {
            pregen_failed(c, "work area busy");
            return 0;
        }
        if (capf_rsagen_key(pg->gen, o->key, sizeof o->key, &kl, o->spki, sizeof o->spki,
                            &sl) != 0) {
            pregen_out_give(o);
            pregen_failed(c, "encoding the key");
            return 0;
        }
        capf_client_pregen_abort(c); /* wipes the generator */
        if (pregen_store(c, o->key, kl) == 0)
            NOT("CAPF", "pre-generation: %u slices, %u candidates (%u refused by trial "
                        "division/gcd/|p-q|), %u Miller-Rabin rounds, at most %u modexp a slice",
                (unsigned)pg->slices, (unsigned)pg->last.candidates, (unsigned)pg->last.sieved,
                (unsigned)pg->last.mr_rounds, (unsigned)pg->last.max_step_modexps);
        pregen_out_give(o);
        return 0;
    }
    default:
        pregen_failed(c, pg->gen->why ? pg->gen->why : "error");
        return 0;
    }
}

/* ---- console ---------------------------------------------------------- */

static void print_line(void *ctx, const char *s)
{
    (void)ctx;
    console_print("%s", s);
}

static struct capf_client *client_of(struct console *con, const char *words);

static enum console_result cmd_show_cert(struct console *con, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    struct capf_client *c = client_of(con, "show cert");
    cert_store_describe(c->cs, print_line, NULL);
    return CONSOLE_CONTINUE;
}

static int parse_host_port(char *arg, const char **host, uint16_t *port)
{
    char *colon = strrchr(arg, ':');
    *host = arg;
    *port = 0;
    if (colon) {
        char *end;
        long p = strtol(colon + 1, &end, 10);
        if (*end || p <= 0 || p > 65535)
            return -1;
        *colon = '\0';
        *port = (uint16_t)p;
    }
    return 0;
}

static enum console_result cmd_capf_start(struct console *con, int argc, char **argv)
{
    struct capf_client *c = client_of(con, "capf start");
    const char *host = NULL;
    uint16_t port = 0;
    if (argc && parse_host_port(argv[0], &host, &port) != 0) {
        ERR("CAPF", "capf start: bad HOST[:PORT] %s", argv[0]);
        return CONSOLE_CONTINUE;
    }
    capf_client_start(c, host, port);
    return CONSOLE_CONTINUE;
}

static enum console_result cmd_capf_auth(struct console *con, int argc, char **argv)
{
    struct capf_client *c = client_of(con, "capf auth-string");
    (void)argc;
    if (!capf_auth_string_valid(argv[0])) {
        ERR("CAPF", "authentication string must be 4 to 16 digits");
        return CONSOLE_CONTINUE;
    }
    NOT("CAPF", "authentication string set (%u digits)", (unsigned)strlen(argv[0]));
    capf_client_set_auth_string(c, argv[0]);
    return CONSOLE_CONTINUE;
}

static enum console_result cmd_capf_status(struct console *con, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    struct capf_client *c = client_of(con, "capf status");
    const struct capf_status *s = &c->status;
    struct capf_keyspec ks;
    size_t kl;
    if (!s->ran)
        console_print("CAPF: no session since boot");
    else if (c->waiting_auth_string)
        console_print("CAPF: waiting for the authentication string");
    else
        console_print("CAPF: last session %s, reason %d (%s)%s%s", capf_outcome_name(s->outcome),
                      s->reason, capf_reason_name(s->reason), s->why[0] ? ": " : "", s->why);
    if (s->auth_type >= 0)
        console_print("auth mode: %s", capf_auth_type_name(s->auth_type));
    if (s->key[0])
        console_print("last key: %s, %s", s->key,
                      s->used_pregen ? "pre-generated" : "generated during the session");
    int have = capf_pregen_load(c->cs->st, &ks, NULL, 0, &kl) == 0; /* the spec only */
    console_print("pre-generated key: %s", have ? capf_keyspec_str(&ks) : "none");
    const struct capf_pregen *pg = &c->pregen;
    if (pg->gen)
        console_print("pre-generation: %s running (%s), %u slices, %u candidates, %u "
                      "Miller-Rabin rounds so far", capf_keyspec_str(&c->pregen_spec),
                      capf_rsagen_phase_name(pg->gen->phase), (unsigned)pg->slices,
                      (unsigned)pg->gen->stats.candidates, (unsigned)pg->gen->stats.mr_rounds);
    else if (pg->done)
        console_print("pre-generation: last %s in %u ms, %u slices, %u Miller-Rabin rounds",
                      capf_keyspec_str(&c->pregen_spec), (unsigned)pg->took_ms,
                      (unsigned)pg->slices, (unsigned)pg->last.mr_rounds);
    else
        console_print("pre-generation: %s", c->pregen_enabled ? "not started" : "off");
    console_print("LSC: %s", cert_store_has_lsc(c->cs) ? "installed" : "not installed");
    return CONSOLE_CONTINUE;
}

static enum console_result cmd_erase_lsc(struct console *con, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    struct capf_client *c = client_of(con, "erase lsc");
    if (cert_store_delete_lsc(c->cs) == 0)
        WRN("SECD", "LSC erased by the administrator: the MIC is used");
    else
        ERR("SECD", "erase lsc failed");
    return CONSOLE_CONTINUE;
}

static const struct console_command capf_commands[] = {
    {"show cert", 0, 0, cmd_show_cert, "show cert"},
    {"capf start", 0, 1, cmd_capf_start, "capf start [HOST[:PORT]]"},
    {"capf auth-string", 1, 1, cmd_capf_auth, "capf auth-string DIGITS"},
    {"capf status", 0, 0, cmd_capf_status, "capf status"},
    {"show capf", 0, 0, cmd_capf_status, "show capf"},
    {"erase lsc", 0, 0, cmd_erase_lsc, "erase lsc"},
};

static struct capf_client *client_of(struct console *con, const char *words)
{
    for (size_t i = 0; i < sizeof capf_commands / sizeof capf_commands[0]; i++)
        if (!strcmp(capf_commands[i].words, words))
            return console_ctx(con, &capf_commands[i]);
    return NULL;
}

int capf_client_register(struct capf_client *c, struct console *con)
{
    return console_register(con, capf_commands, sizeof capf_commands / sizeof capf_commands[0], c);
}

enum boot_enroll capf_client_enroll(void *ctx, struct boot_params *p,
                                    struct boot_enroll_report *r)
{
    struct capf_client *c = ctx;
    int rc = capf_client_start(c, NULL, 0);
    if (c->waiting_auth_string)
        return BOOT_ENROLL_WAITING;
    if (rc != 0 || c->status.outcome != CAPF_OUT_INSTALLED) {
        snprintf(r->why, sizeof r->why, "%s%s%.120s", capf_outcome_name(c->status.outcome),
                 c->status.why[0] ? ": " : "", c->status.why);
        if (c->status.outcome == CAPF_OUT_RETRY_LATER)
            r->retry_after_s = c->status.retry_delay;
        return BOOT_ENROLL_FAILED;
    }
    (void)p; /* the boot reads the new certificate from the store */
    if (!cert_store_in_use(c->cs, "CONFIG")) {
        snprintf(r->why, sizeof r->why, "no certificate in use after the enrolment");
        return BOOT_ENROLL_FAILED;
    }
    return BOOT_ENROLLED;
}
