/* TVS client: asks the Trust Verification Service about certificates the
 * phone's CTL/ITL do not know (secd-behaviour B4), board independent.
 *
 *  - Servers: the config's <TVS><members> by priority, else the call-manager
 *    group's nodes on port 2445 (config_tvs_servers), at most 3, tried in
 *    order; a server that cannot be reached, whose TLS fails, whose
 *    certificate is not the TVS record of the installed CTL/ITL, or that
 *    answers something other than a well-formed verify response is skipped
 *    for the next one. A definitive answer ("invalid") is not retried
 *    elsewhere. The list of the last accepted config is kept in flash (area
 *    TVS_AREA): at boot, the ITL is judged before the new config is read.
 *  - The TVS server certificate is authenticated ONLY against the TVS-role
 *    records of the installed CTL, then ITL (certificate, or certificate
 *    hash with its algorithm). No CA store, no other role.
 *  - Positive answers are cached (secd/tvs.h; RAM only) for the server's
 *    TTL, else 86400 s.
 *  - Uses: the trust store's hook for unknown signers (tvs_client_hook) and
 *    the HTTPS decision for phone services (tvs_https_decide).
 *
 * I/O goes through struct tvs_net, which the board implements (blocking
 * with the timeouts given). Traces mirror the phone's log lines. */
#ifndef FIRMWARE_TVS_CLIENT_H
#define FIRMWARE_TVS_CLIENT_H
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "hal/storage.h"
#include "secd/secd.h"
#include "secd/tls.h"
#include "secd/tvs.h"
#include "trust_store.h"

#define TVS_AREA "tvs"            /* flash area: the last TVS server list */
#define TVS_AREA_SIZE 512u
#define TVS_CONNECT_TIMEOUT_MS 3000u
#define TVS_EXCHANGE_TIMEOUT_MS 5000u /* handshake, then request + response */

/* What the board's network returns. */
enum tvs_net_result {
    TVS_NET_OK = 0,
    TVS_NET_UNREACHABLE, /* refused, no route, name does not resolve */
    TVS_NET_TIMEOUT,
    TVS_NET_RESET,
    TVS_NET_TLS,         /* the TLS session failed: see its status */
    TVS_NET_CLOSED,      /* the peer ended the stream */
};
const char *tvs_net_result_str(enum tvs_net_result r);

/* The board's TCP, carrying secd/tls sessions (blocking, with the
 * timeouts given). A connection is an opaque handle; two may be open at
 * once (an HTTPS server waiting for its verdict while TVS is asked). */
struct tvs_net {
    void *ctx;
    /* NULL on failure, with *r telling why. */
    void *(*connect)(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms,
                     enum tvs_net_result *r);
    enum tvs_net_result (*handshake)(void *conn, struct secd_tls *t, uint32_t timeout_ms);
    enum tvs_net_result (*write)(void *conn, struct secd_tls *t, const uint8_t *p, size_t n,
                                 uint32_t timeout_ms);
    /* Reads at least one byte, at most cap. */
    enum tvs_net_result (*read)(void *conn, struct secd_tls *t, uint8_t *p, size_t cap,
                                size_t *got, uint32_t timeout_ms);
    /* Sends close_notify (best effort) and closes. */
    void (*close)(void *conn, struct secd_tls *t);
    /* Runs the board's network stack once without waiting (received
     * frames, timers), for long local work such as an RSA key generation
     * in a CAPF session; NULL where the OS does that (sockets). */
    void (*poll)(void *ctx);
};

/* Which step of CTL -> ITL -> cache -> TVS decided. */
enum tvs_step { TVS_STEP_NONE, TVS_STEP_CTL, TVS_STEP_ITL, TVS_STEP_CACHE, TVS_STEP_TVS };
const char *tvs_step_name(enum tvs_step s);

enum tvs_verdict {
    TVS_TRUSTED,
    TVS_REFUSED,     /* TVS (or its cached answer) said no, or the role does not fit */
    TVS_UNAVAILABLE, /* no TVS server could be asked securely */
};

struct tvs_decision {
    enum tvs_verdict verdict;
    enum tvs_step step;
    uint64_t roles;   /* what TVS vouched for (when asked or cached) */
    char reason[160]; /* why, when not trusted */
};

struct tvs_stats {
    uint32_t lookups, cache_hits, requests, answers, failovers, pin_failures;
    uint32_t last_exchange_ms; /* connect + handshake + request/response */
};

struct cert_store;

struct tvs_client {
    const struct tvs_net *net;
    const struct cert_store *certs; /* TLS client certificate: LSC, else MIC (NULL: none) */
    struct trust_store *ts; /* its record buffer may need reading back (pin rule) */
    const struct storage *st;
    char device_name[SECD_TVS_MAX_DEVICE_NAME + 1]; /* CP-<model>-SEP<MAC> */
    struct config_server servers[CONFIG_MAX_SERVERS];
    size_t n_servers;
    int servers_from_config; /* 1: TVS members, 0: call-manager group */
    struct secd_tvs_cache cache;
    struct secd_tls tls;
    struct secd_tvs_hook hook;
    /* the request's head, then the response (the certificate is sent
     * from where it is) */
    uint8_t msg[SECD_TVS_MAX_REQUEST_HEAD > SECD_TVS_MAX_RESPONSE ? SECD_TVS_MAX_REQUEST_HEAD
                                                                   : SECD_TVS_MAX_RESPONSE];
    uint8_t key[1100]; /* public key of the last certificate vouched for (hook) */
    struct tvs_stats stats;
    uint32_t mono_last; /* 64-bit monotonic time from the HAL's 32-bit ms */
    uint64_t mono_high;
    /* during a request: the server being authenticated */
    const char *pin_host;
    int pin_refused;
    /* the hook's certificate lies in the trust store's record buffer (a
     * downloaded list's own record): the pin rule reads it back after its
     * walk of the installed lists */
    int pin_keep;
    struct trust_buf_mark pin_kept;
};

/* mac: 12 hex digits; model e.g. "8845". st may be NULL (no persistence). */
void tvs_client_init(struct tvs_client *tc, const struct tvs_net *net, struct trust_store *ts,
                     const struct storage *st, const char *model, const char *mac);
/* Takes the server list of an accepted config (and persists it). */
void tvs_client_set_servers(struct tvs_client *tc, const struct phone_config *cfg);
/* The phone's certificates: the one in use (LSC, else MIC) is offered as
 * the TLS client certificate to TVS (sent when the server asks for one;
 * the reference server does not). */
void tvs_client_set_certs(struct tvs_client *tc, const struct cert_store *cs);
/* The session for an HTTPS server a console command talks to (`verify
 * https`, the QEMU board's `bench https`): on the heap for the command
 * only (no RAM held between commands); NULL when out of memory. Give it
 * back with tvs_console_https_session_free after secd_tls_free. */
struct secd_tls *tvs_console_https_session(void);
void tvs_console_https_session_free(struct secd_tls *t);
/* The hook for trust_store_set_tvs(). */
const struct secd_tvs_hook *tvs_client_hook(struct tvs_client *tc);

/* The chain for an HTTPS server certificate: CTL, ITL (APP-SERVER records,
 * exact certificate or hash), TVS cache, TVS (role APP-SERVER). */
/* `sha256`: the certificate's SHA-256 if the caller has it already
 * (secd_tls_peer_cert_sha256: hashed once in the handshake), else NULL. */
void tvs_https_decide(struct tvs_client *tc, const char *host, const uint8_t *cert,
                      size_t cert_len, const uint8_t *sha256, struct tvs_decision *d);
/* Asks the cache, then TVS, whether `cert` is trusted with one of `roles`
 * (SECD_ROLE_BIT mask). `what` names the certificate for the trace;
 * `sha256` as for tvs_https_decide. */
void tvs_client_check(struct tvs_client *tc, const uint8_t *cert, size_t cert_len,
                      const uint8_t *sha256, uint64_t roles, const char *what,
                      struct tvs_decision *d);

/* Monotonic milliseconds, 64 bits. */
uint64_t tvs_client_now_ms(struct tvs_client *tc);
/* `show tvs`: servers, cache entries with expiry; line() per line. */
void tvs_client_describe(struct tvs_client *tc, void (*line)(void *, const char *), void *ctx);

struct console;
/* Registers `verify https HOST[:PORT]` and `show tvs`. */
int tvs_console_register(struct console *c, struct tvs_client *tc);

#endif
