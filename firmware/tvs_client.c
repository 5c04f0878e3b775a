/* TVS client (see tvs_client.h). */
#include "tvs_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert_store.h"
#include "console.h"

#include "hal/hal_clock.h"
#include "hal/hal_entropy.h"
#include "trace.h"

#define MOD "SECD"

const char *tvs_net_result_str(enum tvs_net_result r)
{
    switch (r) {
    case TVS_NET_OK: return "ok";
    case TVS_NET_UNREACHABLE: return "server unreachable";
    case TVS_NET_TIMEOUT: return "timed out";
    case TVS_NET_RESET: return "connection reset";
    case TVS_NET_TLS: return "TLS failure";
    case TVS_NET_CLOSED: return "connection closed";
    }
    return "?";
}

const char *tvs_step_name(enum tvs_step s)
{
    switch (s) {
    case TVS_STEP_NONE: return "none";
    case TVS_STEP_CTL: return "CTL";
    case TVS_STEP_ITL: return "ITL";
    case TVS_STEP_CACHE: return "TVS cache";
    case TVS_STEP_TVS: return "TVS";
    }
    return "?";
}

uint64_t tvs_client_now_ms(struct tvs_client *tc)
{
    uint32_t now = hal_monotonic_ms();
    if (now < tc->mono_last)
        tc->mono_high += 1ull << 32;
    tc->mono_last = now;
    return tc->mono_high | now;
}

/* "CCM+TFTP,APP-SERVER" (short names; SAST for role 0). */
static void roles_text(uint64_t roles, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (int r = 0; r < 64 && n < cap; r++) {
        if (!(roles & SECD_ROLE_BIT(r)))
            continue;
        const char *name = r == SECD_ROLE_SAST ? "SAST" : secd_role_name(r);
        int w = snprintf(out + n, cap - n, "%s%s", n ? "," : "", name);
        n += w > 0 ? (size_t)w : 0;
    }
    if (!roles)
        snprintf(out, cap, "none");
}

/* --- server list (persisted: the ITL is judged before the new config) --- */

static void save_servers(struct tvs_client *tc)
{
    char buf[TVS_AREA_SIZE];
    size_t n = 0;
    for (size_t i = 0; i < tc->n_servers; i++) {
        int w = snprintf(buf + n, sizeof buf - n, "%s %u %d\n", tc->servers[i].host,
                         (unsigned)tc->servers[i].port, tc->servers_from_config);
        if (w < 0 || (size_t)w >= sizeof buf - n)
            return;
        n += (size_t)w;
    }
    if (tc->st && storage_replace(tc->st, TVS_AREA, (const uint8_t *)buf, n) != STORAGE_OK)
        WRN(MOD, "TVS server list not saved to flash");
}

/* Parses "host port from_config\n" lines. */
static void load_servers(struct tvs_client *tc)
{
    char buf[TVS_AREA_SIZE + 1];
    size_t len = 0;
    if (!tc->st || storage_read(tc->st, TVS_AREA, (uint8_t *)buf, TVS_AREA_SIZE, &len) != STORAGE_OK)
        return;
    buf[len] = '\0';
    char *line = buf;
    while (*line && tc->n_servers < CONFIG_MAX_SERVERS) {
        char *end = strchr(line, '\n');
        if (!end)
            break;
        *end = '\0';
        struct config_server *s = &tc->servers[tc->n_servers];
        unsigned port = 0;
        int from = 0;
        _Static_assert(CONFIG_HOST_MAX == 128, "the sscanf width below");
        if (sscanf(line, "%127s %u %d", s->host, &port, &from) == 3 && port > 0 && port < 65536) {
            s->port = (uint16_t)port;
            tc->servers_from_config = from;
            tc->n_servers++;
        }
        line = end + 1;
    }
}

void tvs_client_set_servers(struct tvs_client *tc, const struct phone_config *cfg)
{
    struct config_server list[CONFIG_MAX_SERVERS];
    size_t n = config_tvs_servers(cfg, list);
    int from = cfg->tvs_count > 0;
    if (n == tc->n_servers && from == tc->servers_from_config &&
        memcmp(list, tc->servers, n * sizeof list[0]) == 0)
        return;
    memset(tc->servers, 0, sizeof tc->servers);
    memcpy(tc->servers, list, n * sizeof list[0]);
    tc->n_servers = n;
    tc->servers_from_config = from;
    save_servers(tc);
    NOT(MOD, "getTvsServerInfo: %u TVS server(s) from the %s", (unsigned)n,
        from ? "config's TVS members" : "call-manager group");
}

/* --- authenticating the TVS server: its TVS record, nothing else ------- */

/* Finds a record with `role` naming this certificate in one list; returns
 * 1 by certificate, 2 by hash, 0 if none. */
static int find_in_tl(const struct secd_tl *tl, uint16_t role, const uint8_t *der, size_t len)
{
    struct secd_tl_iter it;
    struct secd_record r;
    if (!tl)
        return 0;
    secd_tl_records_begin(&it, tl);
    while (secd_tl_records_next(&it, &r) == SECD_OK && r.length) {
        if (!r.has_role || r.role != role)
            continue;
        int m = secd_tvs_record_matches(&r, der, len);
        if (m)
            return m;
    }
    return 0;
}

static enum secd_tls_verdict tvs_pin_rule(void *ctx, const uint8_t *der, size_t len,
                                          int chain_error)
{
    struct tvs_client *tc = ctx;
    const struct secd_trust *t = &tc->ts->trust;
    (void)chain_error;
    NOT(MOD, "srvr_cert_vfy: Server Certificate Validation needs to be done");
    NOT(MOD, "findByIssuerAndSerialAndRoleInTL: Searching TL from CTL file");
    int m = t->corrupt ? 0 : find_in_tl(t->ctl, SECD_ROLE_TVS, der, len);
    if (!m) {
        NOT(MOD, "findByIssuerAndSerialAndRoleInTL: Searching TL from ITL file");
        m = t->corrupt ? 0 : find_in_tl(t->itl, SECD_ROLE_TVS, der, len);
    }
    /* The walk borrowed the trust store's one record buffer: put back the
     * record whose certificate the request carries (hook_vouch). */
    if (tc->pin_keep && trust_store_buf_restore(tc->ts, &tc->pin_kept) != 0) {
        ERR(MOD, "EROR:tvs_cert_vfy: the certificate to ask about could not be read back from "
                 "flash, <%s>", tc->pin_host);
        return SECD_TLS_REJECT;
    }
    if (m == 2) {
        NOT(MOD, "verifyCertWithHashFromTL: cert hash and hash in TL MATCH");
        NOT(MOD, "tvs_cert_vfy: TVS cert verified with hash from TL, <%s>", tc->pin_host);
        return SECD_TLS_ACCEPT;
    }
    if (m == 1) {
        NOT(MOD, "tvs_cert_vfy: TVS cert verified with certificate from TL, <%s>", tc->pin_host);
        return SECD_TLS_ACCEPT;
    }
    tc->pin_refused = 1;
    tc->stats.pin_failures++;
    ERR(MOD, "EROR:tvs_cert_vfy: TVS cert not in CTL/ITL (no TVS record names it), <%s>",
        tc->pin_host);
    return SECD_TLS_REJECT;
}

/* --- one exchange with one server --------------------------------------- */

enum ask_result { ASK_ANSWER, ASK_FAILED };

static void tls_why(struct tvs_client *tc, enum tvs_net_result r, char *why, size_t cap)
{
    char text[96];
    if (r != TVS_NET_TLS) {
        snprintf(why, cap, "%s", tvs_net_result_str(r));
        return;
    }
    snprintf(why, cap, "%s%s%s", tc->pin_refused ? "TVS certificate not trusted" : "TLS failure",
             secd_tls_error_code(&tc->tls) ? ": " : "",
             secd_tls_error_text(&tc->tls, text, sizeof text));
}

static enum tvs_net_result read_exact(struct tvs_client *tc, void *conn, uint8_t *p, size_t n)
{
    while (n > 0) {
        size_t got = 0;
        enum tvs_net_result r =
            tc->net->read(conn, &tc->tls, p, n, &got, TVS_EXCHANGE_TIMEOUT_MS);
        if (r != TVS_NET_OK)
            return r;
        p += got;
        n -= got;
    }
    return TVS_NET_OK;
}

/* Sends the request and reads one response into tc->msg. */
static enum ask_result exchange(struct tvs_client *tc, void *conn, const uint8_t *cert,
                                size_t len, struct secd_tvs_response *resp, char *why,
                                size_t cap)
{
    uint32_t session;
    hal_entropy((uint8_t *)&session, sizeof session);
    size_t n = 0;
    if (secd_tvs_encode_request_head(tc->msg, sizeof tc->msg, session, tc->device_name, len,
                                     &n) != SECD_TVS_OK) {
        snprintf(why, cap, "certificate too large for a TVS request (%u bytes)", (unsigned)len);
        return ASK_FAILED;
    }
    tc->stats.requests++;
    /* The request's head, then the certificate from where it is: no copy. */
    enum tvs_net_result r = tc->net->write(conn, &tc->tls, tc->msg, n, TVS_EXCHANGE_TIMEOUT_MS);
    if (r == TVS_NET_OK)
        r = tc->net->write(conn, &tc->tls, cert, len, TVS_EXCHANGE_TIMEOUT_MS);
    if (r == TVS_NET_OK)
        r = read_exact(tc, conn, tc->msg, SECD_TVS_HEADER_LEN);
    size_t need = 0;
    enum secd_tvs_err e = SECD_TVS_OK;
    if (r == TVS_NET_OK) {
        e = secd_tvs_message_len(tc->msg, SECD_TVS_HEADER_LEN, &need);
        if (e == SECD_TVS_NEED_MORE || e == SECD_TVS_OK)
            r = read_exact(tc, conn, tc->msg + SECD_TVS_HEADER_LEN, need - SECD_TVS_HEADER_LEN);
    }
    if (r != TVS_NET_OK) {
        tls_why(tc, r, why, cap);
        return ASK_FAILED;
    }
    if (e == SECD_TVS_OK || e == SECD_TVS_NEED_MORE)
        e = secd_tvs_parse_response(tc->msg, need, session, resp);
    if (e != SECD_TVS_OK) {
        snprintf(why, cap, "bad TVS response: %s", secd_tvs_err_str(e));
        return ASK_FAILED;
    }
    return ASK_ANSWER;
}

static enum ask_result ask_server(struct tvs_client *tc, const struct config_server *s,
                                  const uint8_t *cert, size_t len,
                                  struct secd_tvs_response *resp, char *why, size_t cap)
{
    enum tvs_net_result r = TVS_NET_OK;
    uint64_t t0 = tvs_client_now_ms(tc);
    void *conn = tc->net->connect(tc->net->ctx, s->host, s->port, TVS_CONNECT_TIMEOUT_MS, &r);
    if (!conn) {
        snprintf(why, cap, "connect: %s", tvs_net_result_str(r));
        return ASK_FAILED;
    }
    NOT(MOD, "connectToTvsServer: Successfully started a TLS connection establishment to the TVS "
             "server: IP:%s, port:%u; Waiting for it to get connected.",
        s->host, (unsigned)s->port);
    struct secd_tls_config cfg = {.verify = tvs_pin_rule, .verify_ctx = tc};
    struct cert_pair id = {0}; /* read from flash for wolfSSL to copy, then wiped */
    if (tc->certs && cert_store_take(tc->certs, "TVS", &id)) {
        cfg.client_cert = id.cert;
        cfg.client_cert_len = id.cert_len;
        cfg.client_key = id.key;
        cfg.client_key_len = id.key_len;
    }
    tc->pin_host = s->host;
    tc->pin_refused = 0;
    enum ask_result a = ASK_FAILED;
    enum secd_tls_status ts = secd_tls_init(&tc->tls, &cfg);
    cert_pair_free(&id);
    if (ts != SECD_TLS_OK) {
        snprintf(why, cap, "TLS setup failed");
    } else {
        r = tc->net->handshake(conn, &tc->tls, TVS_EXCHANGE_TIMEOUT_MS);
        if (r != TVS_NET_OK)
            tls_why(tc, r, why, cap);
        else
            a = exchange(tc, conn, cert, len, resp, why, cap);
    }
    tc->net->close(conn, &tc->tls);
    secd_tls_free(&tc->tls);
    tc->stats.last_exchange_ms = (uint32_t)(tvs_client_now_ms(tc) - t0);
    return a;
}

/* --- the cache, then the servers ---------------------------------------- */

static int from_cache(struct tvs_client *tc, const uint8_t key[32], uint64_t roles,
                      struct tvs_decision *d)
{
    uint64_t now = tvs_client_now_ms(tc);
    const struct secd_tvs_cache_entry *e = secd_tvs_cache_lookup(&tc->cache, key, now);
    if (!e) {
        NOT(MOD, "lookupAuthCertTvsCacheEntry: No matching entry found at cache");
        return 0;
    }
    tc->stats.cache_hits++;
    NOT(MOD, "lookupAuthCertTvsCacheEntry: Matching entry found at cache (expires in %u s)",
        (unsigned)((e->expires_ms - now + 999) / 1000));
    d->step = TVS_STEP_CACHE;
    d->roles = e->roles;
    d->verdict = (e->roles & roles) ? TVS_TRUSTED : TVS_REFUSED;
    return 1;
}

static void take_answer(struct tvs_client *tc, const uint8_t key[32],
                        const struct secd_tvs_response *resp, uint64_t roles,
                        struct tvs_decision *d)
{
    tc->stats.answers++;
    d->step = TVS_STEP_TVS;
    d->roles = resp->roles;
    if (resp->status != SECD_TVS_STATUS_VALID) {
        d->verdict = TVS_REFUSED;
        snprintf(d->reason, sizeof d->reason, "TVS says the certificate is not valid (status %u)",
                 resp->status);
        return;
    }
    uint32_t ttl = resp->has_ttl ? resp->ttl : SECD_TVS_DEFAULT_TTL;
    if (secd_tvs_cache_store(&tc->cache, key, resp->roles, ttl, tvs_client_now_ms(tc))) {
        if (resp->has_ttl)
            NOT(MOD, "saveCertToTvsCache: Saving certificate in TVS cache with time-to-live "
                     "value: %u seconds", (unsigned)ttl);
        else
            NOT(MOD, "saveCertToTvsCache: Saving certificate in TVS cache with default "
                     "time-to-live value: %u seconds", (unsigned)ttl);
    }
    d->verdict = (resp->roles & roles) ? TVS_TRUSTED : TVS_REFUSED;
}

static void ask_servers(struct tvs_client *tc, const uint8_t key[32], const uint8_t *cert,
                        size_t len, uint64_t roles, struct tvs_decision *d)
{
    char why[128] = "no TVS server configured";
    int pin_failed = 0;
    d->verdict = TVS_UNAVAILABLE;
    for (size_t i = 0; i < tc->n_servers; i++) {
        const struct config_server *s = &tc->servers[i];
        struct secd_tvs_response resp;
        if (ask_server(tc, s, cert, len, &resp, why, sizeof why) == ASK_ANSWER) {
            take_answer(tc, key, &resp, roles, d);
            return;
        }
        pin_failed |= tc->pin_refused;
        ERR(MOD, "EROR:connectToTvsServer: TVS server %s:%u failed: %s%s", s->host,
            (unsigned)s->port, why, i + 1 < tc->n_servers ? "; trying the next one" : "");
        if (i + 1 < tc->n_servers)
            tc->stats.failovers++;
    }
    d->step = TVS_STEP_TVS;
    snprintf(d->reason, sizeof d->reason, "no TVS server could be asked securely (%u tried%s%.100s)",
             (unsigned)tc->n_servers, tc->n_servers ? ", last: " : "", tc->n_servers ? why : "");
    if (pin_failed)
        ERR(MOD, "EROR:processTvsClntReq: the TVS certificate is not in the installed CTL/ITL: "
                 "if the CallManager and TVS certificates were both regenerated, only a manual "
                 "trust list erase (erase trustlist) recovers");
}

void tvs_client_check(struct tvs_client *tc, const uint8_t *cert, size_t cert_len,
                      const uint8_t *sha256, uint64_t roles, const char *what,
                      struct tvs_decision *d)
{
    char want[96], got[96];
    memset(d, 0, sizeof *d);
    tc->stats.lookups++;
    NOT(MOD, "processTvsClntReq: TVS Certificate Authentication request (%s)", what);
    uint8_t key[32];
    if (sha256)
        memcpy(key, sha256, sizeof key);
    else if (secd_tvs_cert_key(cert, cert_len, key) != 0) {
        d->verdict = TVS_REFUSED;
        snprintf(d->reason, sizeof d->reason, "cannot hash the certificate");
        return;
    }
    if (!from_cache(tc, key, roles, d))
        ask_servers(tc, key, cert, cert_len, roles, d);
    roles_text(roles, want, sizeof want);
    roles_text(d->roles, got, sizeof got);
    if (d->verdict == TVS_REFUSED && !d->reason[0])
        snprintf(d->reason, sizeof d->reason, "%s vouches for roles %.60s, not %.60s",
                 tvs_step_name(d->step), got, want);
    if (d->verdict == TVS_TRUSTED)
        NOT(MOD, "processTvsClntReq: %s trusted by %s (roles %s)", what, tvs_step_name(d->step),
            got);
    else
        ERR(MOD, "EROR:processTvsClntReq: %s not trusted: %s", what, d->reason);
}

/* --- the trust store's hook: unknown signers ---------------------------- */

static int hook_vouch(void *ctx, const struct secd_header *signer, const uint8_t *cert,
                      size_t cert_len, uint64_t roles, struct secd_bytes *public_key)
{
    struct tvs_client *tc = ctx;
    char what[160];
    snprintf(what, sizeof what, "signer %.*s", (int)(signer->signer_name.len < 120
                                                          ? signer->signer_name.len
                                                          : 120),
             (const char *)signer->signer_name.p);
    if (!cert || !cert_len) {
        ERR(MOD, "EROR:%s is in neither CTL nor ITL and the file carries no certificate to "
                 "ask TVS about", what);
        return 0;
    }
    struct tvs_decision d;
    /* A downloaded list's own record, read into the trust store's record
     * buffer: the TVS server's authentication walks the installed lists
     * through that buffer (tvs_pin_rule), then the certificate is sent. */
    tc->pin_keep = trust_store_buf_holds(tc->ts, cert, cert_len);
    tc->pin_kept = trust_store_buf_mark(tc->ts);
    tvs_client_check(tc, cert, cert_len, NULL, roles, what, &d);
    tc->pin_keep = 0;
    if (d.verdict != TVS_TRUSTED)
        return 0;
    /* Verify with the key of the certificate TVS vouched for, never with a
     * key the file supplies next to it. */
    size_t n = 0;
    if (secd_tvs_cert_public_key(cert, cert_len, tc->key, sizeof tc->key, &n) != 0) {
        ERR(MOD, "EROR:%s: no usable public key in the certificate", what);
        return 0;
    }
    public_key->p = tc->key;
    public_key->len = n;
    return 1;
}

void tvs_client_set_certs(struct tvs_client *tc, const struct cert_store *cs)
{
    tc->certs = cs;
}

const struct secd_tvs_hook *tvs_client_hook(struct tvs_client *tc)
{
    tc->hook.ctx = tc;
    tc->hook.vouch = hook_vouch;
    return &tc->hook;
}

/* --- HTTPS: CTL -> ITL -> cache -> TVS ---------------------------------- */

void tvs_https_decide(struct tvs_client *tc, const char *host, const uint8_t *cert,
                      size_t cert_len, const uint8_t *sha256, struct tvs_decision *d)
{
    const struct secd_trust *t = &tc->ts->trust;
    memset(d, 0, sizeof *d);
    NOT(MOD, "srvr_cert_vfy: Server Certificate Validation needs to be done");
    if (t->corrupt) {
        d->verdict = TVS_REFUSED;
        snprintf(d->reason, sizeof d->reason, "trust store damaged");
        ERR(MOD, "EROR:https_cert_vfy: trust store damaged, <%s>", host);
        return;
    }
    NOT(MOD, "findByCertAndRoleInTL: Searching TL from CTL file");
    if (find_in_tl(t->ctl, SECD_ROLE_APP_SERVER, cert, cert_len)) {
        d->step = TVS_STEP_CTL;
    } else {
        NOT(MOD, "findByCertAndRoleInTL: Searching TL from ITL file");
        if (find_in_tl(t->itl, SECD_ROLE_APP_SERVER, cert, cert_len))
            d->step = TVS_STEP_ITL;
    }
    if (d->step != TVS_STEP_NONE) {
        d->verdict = TVS_TRUSTED;
        d->roles = SECD_ROLE_BIT(SECD_ROLE_APP_SERVER);
        NOT(MOD, "https_cert_vfy: HTTPS cert found in %s, <%s>", tvs_step_name(d->step), host);
        return;
    }
    ERR(MOD, "EROR:https_cert_vfy: HTTPS cert not in CTL, <%s>", host);
    char what[160];
    snprintf(what, sizeof what, "HTTPS server certificate of %s", host);
    tvs_client_check(tc, cert, cert_len, sha256, SECD_ROLE_BIT(SECD_ROLE_APP_SERVER), what, d);
    if (d->verdict == TVS_TRUSTED)
        NOT(MOD, "Authenticated the HTTPS conn via %s", tvs_step_name(d->step));
}

/* --- setup and description ---------------------------------------------- */

void tvs_client_init(struct tvs_client *tc, const struct tvs_net *net, struct trust_store *ts,
                     const struct storage *st, const char *model, const char *mac)
{
    memset(tc, 0, sizeof *tc);
    tc->net = net;
    tc->ts = ts;
    tc->st = st;
    snprintf(tc->device_name, sizeof tc->device_name, "CP-%s-SEP%s", model, mac);
    secd_tvs_cache_init(&tc->cache);
    load_servers(tc);
}

static void describe_entry(struct tvs_client *tc, const struct secd_tvs_cache_entry *e,
                           uint64_t now, void (*line)(void *, const char *), void *ctx)
{
    char hex[65], roles[96], buf[256];
    secd_hex(e->key, 32, hex);
    roles_text(e->roles, roles, sizeof roles);
    snprintf(buf, sizeof buf, "  cache: sha256 %.16s... roles %s, ttl %u s, expires in %u s", hex,
             roles, (unsigned)e->ttl, (unsigned)((e->expires_ms - now + 999) / 1000));
    (void)tc;
    line(ctx, buf);
}

void tvs_client_describe(struct tvs_client *tc, void (*line)(void *, const char *), void *ctx)
{
    char buf[256];
    uint64_t now = tvs_client_now_ms(tc);
    snprintf(buf, sizeof buf, "TVS servers: %u (%s)", (unsigned)tc->n_servers,
             tc->n_servers == 0           ? "none known"
             : tc->servers_from_config ? "config TVS members"
                                       : "call-manager group, port 2445");
    line(ctx, buf);
    for (size_t i = 0; i < tc->n_servers; i++) {
        snprintf(buf, sizeof buf, "  server %u: %s:%u", (unsigned)i + 1, tc->servers[i].host,
                 (unsigned)tc->servers[i].port);
        line(ctx, buf);
    }
    snprintf(buf, sizeof buf, "TVS cache: %u of %u entries (RAM only)",
             (unsigned)secd_tvs_cache_count(&tc->cache, now), (unsigned)SECD_TVS_CACHE_SIZE);
    line(ctx, buf);
    for (size_t i = 0; i < SECD_TVS_CACHE_SIZE; i++)
        if (tc->cache.e[i].expires_ms > now)
            describe_entry(tc, &tc->cache.e[i], now, line, ctx);
    snprintf(buf, sizeof buf,
             "TVS stats: %u lookups, %u cache hits, %u requests, %u answers, %u failovers, "
             "%u untrusted TVS certificates, last exchange %u ms",
             (unsigned)tc->stats.lookups, (unsigned)tc->stats.cache_hits,
             (unsigned)tc->stats.requests, (unsigned)tc->stats.answers,
             (unsigned)tc->stats.failovers, (unsigned)tc->stats.pin_failures,
             (unsigned)tc->stats.last_exchange_ms);
    line(ctx, buf);
}

/* --- console: verify https HOST[:PORT], show tvs ------------------------- */

static enum secd_tls_verdict defer_rule(void *ctx, const uint8_t *der, size_t len, int err)
{
    (void)ctx;
    (void)der;
    (void)len;
    (void)err;
    return SECD_TLS_DEFER; /* judged after the handshake: CTL, ITL, cache, TVS */
}

static int parse_host_port(const char *arg, char *host, size_t cap, uint16_t *port)
{
    const char *colon = strrchr(arg, ':');
    size_t n = colon ? (size_t)(colon - arg) : strlen(arg);
    unsigned long p = 443;
    if (colon) {
        char *end;
        p = strtoul(colon + 1, &end, 10);
        if (*end || p == 0 || p > 65535)
            return -1;
    }
    if (n == 0 || n >= cap)
        return -1;
    memcpy(host, arg, n);
    host[n] = '\0';
    *port = (uint16_t)p;
    return 0;
}

/* After a positive verdict: one GET, to show the connection carries data. */
static void https_probe(struct tvs_client *tc, void *conn, struct secd_tls *t, const char *host)
{
    char req[192], buf[128];
    size_t got = 0;
    int n = snprintf(req, sizeof req, "GET / HTTP/1.0\r\nHost: %s\r\n\r\n", host);
    enum tvs_net_result r = tc->net->write(conn, t, (const uint8_t *)req, (size_t)n,
                                           TVS_EXCHANGE_TIMEOUT_MS);
    if (r == TVS_NET_OK)
        r = tc->net->read(conn, t, (uint8_t *)buf, sizeof buf - 1, &got, TVS_EXCHANGE_TIMEOUT_MS);
    if (r != TVS_NET_OK) {
        console_print("  GET /: %s", tvs_net_result_str(r));
        return;
    }
    buf[got] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    console_print("  GET /: %s", buf);
}

static const struct console_command tvs_commands[];

/* The HTTPS server's session of a console command, apart from the TVS
 * client's own session that the decision opens while this one waits. */
struct secd_tls *tvs_console_https_session(void)
{
    return calloc(1, sizeof(struct secd_tls));
}

void tvs_console_https_session_free(struct secd_tls *t)
{
    free(t);
}

static enum console_result cmd_verify_https(struct console *c, int argc, char **argv)
{
    struct tvs_client *tc = console_ctx(c, &tvs_commands[0]);
    char host[CONFIG_HOST_MAX];
    uint16_t port;
    (void)argc;
    if (parse_host_port(argv[0], host, sizeof host, &port) != 0) {
        console_print("usage: verify https HOST[:PORT]");
        return CONSOLE_CONTINUE;
    }
    NOT(MOD, "clpSetupSsl: Trying to connect to IPV4, IP: %s, Port : %u", host, (unsigned)port);
    struct secd_tls *const t = tvs_console_https_session();
    if (!t) {
        ERR(MOD, "EROR:clpSetupSsl: no memory for a TLS session to %s:%u", host, (unsigned)port);
        console_print("verify https %s:%u: out of memory", host, (unsigned)port);
        return CONSOLE_CONTINUE;
    }
    enum tvs_net_result r = TVS_NET_OK;
    void *conn = tc->net->connect(tc->net->ctx, host, port, TVS_CONNECT_TIMEOUT_MS, &r);
    if (!conn) {
        tvs_console_https_session_free(t);
        ERR(MOD, "EROR:clpSetupSsl: TCP connect to %s:%u failed: %s", host, (unsigned)port,
            tvs_net_result_str(r));
        console_print("verify https %s:%u: connection failed: %s", host, (unsigned)port,
                      tvs_net_result_str(r));
        return CONSOLE_CONTINUE;
    }
    struct secd_tls_config cfg = {.verify = defer_rule, .sni = host};
    if (secd_tls_init(t, &cfg) == SECD_TLS_OK) {
        NOT(MOD, "clpSetupSsl: start SSL/TLS handshake, <%s>", host);
        r = tc->net->handshake(conn, t, TVS_EXCHANGE_TIMEOUT_MS);
    } else {
        r = TVS_NET_TLS;
    }
    size_t len = 0;
    const uint8_t *leaf = r == TVS_NET_OK ? secd_tls_peer_cert(t, &len) : NULL;
    if (!leaf) {
        char text[96];
        secd_tls_error_text(t, text, sizeof text);
        ERR(MOD, "EROR:clpSetupSsl: TLS handshake with %s:%u failed: %s %s", host,
            (unsigned)port, tvs_net_result_str(r), text);
        console_print("verify https %s:%u: TLS handshake failed: %s %s", host, (unsigned)port,
                      tvs_net_result_str(r), text);
    } else {
        uint64_t t0 = hal_wall_us(); /* a figure for the console, not a timeout */
        struct tvs_decision d;
        tvs_https_decide(tc, host, leaf, len, secd_tls_peer_cert_sha256(t), &d);
        unsigned us = (unsigned)(hal_wall_us() - t0);
        secd_tls_peer_decide(t, d.verdict == TVS_TRUSTED);
        if (d.verdict == TVS_TRUSTED) {
            console_print("verify https %s:%u: TRUSTED, decided by %s (%s %s, decision %u us)",
                          host, (unsigned)port, tvs_step_name(d.step), secd_tls_version(t),
                          secd_tls_cipher(t), us);
            https_probe(tc, conn, t, host);
        } else {
            console_print("verify https %s:%u: NOT TRUSTED, decided by %s: %s (decision %u us)",
                          host, (unsigned)port, tvs_step_name(d.step), d.reason, us);
        }
    }
    tc->net->close(conn, t);
    secd_tls_free(t);
    tvs_console_https_session_free(t);
    return CONSOLE_CONTINUE;
}

static void print_line(void *ctx, const char *s)
{
    (void)ctx;
    console_print("%s", s);
}

static enum console_result cmd_show_tvs(struct console *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    tvs_client_describe(console_ctx(c, &tvs_commands[1]), print_line, NULL);
    return CONSOLE_CONTINUE;
}

static const struct console_command tvs_commands[] = {
    {"verify https", 1, 1, cmd_verify_https, "verify https HOST[:PORT]"},
    {"show tvs", 0, 0, cmd_show_tvs, "show tvs"},
};

int tvs_console_register(struct console *c, struct tvs_client *tc)
{
    return console_register(c, tvs_commands, sizeof tvs_commands / sizeof tvs_commands[0], tc);
}
