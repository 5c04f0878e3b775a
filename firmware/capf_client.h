/* CAPF client: drives a CAPF session (secd/capf.h) over TLS (secd/tls.h)
 * through the board's network, and owns the phone's side of it:
 * server certificate check, key generation (and pre-generation), storing
 * the LSC, console commands. Board independent.
 *
 * Server certificate: accepted only when it is the certificate of a CAPF
 * record of the installed CTL or ITL (or matches the record's certificate
 * hash), else when TVS vouches for it with the CAPF role (the trust
 * store's TVS hook); otherwise the session is refused (B8).
 *
 * Network: the board's `struct tvs_net` (firmware/tvs_client.h), shared
 * with the TVS client: TLS over TCP, blocking with timeouts, two
 * connections at once (TVS can be asked while the CAPF handshake waits).
 *
 * Console (registered with console_register):
 *   capf start [HOST[:PORT]]   run a session (server from <capfList>, port 3804)
 *   capf auth-string DIGITS    4-16 digits for auth mode "by authentication string"
 *   capf status                last operation, result, reason; key pre-generation
 *   show cert                  MIC and LSC (cert_store_describe)
 *   erase lsc                  delete the LSC locally */
#ifndef FIRMWARE_CAPF_CLIENT_H
#define FIRMWARE_CAPF_CLIENT_H
#include <stddef.h>
#include <stdint.h>

#include "boot.h"
#include "cert_store.h"
#include "config.h"
#include "console.h"
#include "secd/capf.h"
#include "secd/capf_rsagen.h"
#include "secd/tls.h"
#include "trust_store.h"
#include "tvs_client.h"

#define CAPF_READ_TIMEOUT_MS 15000u
#define CAPF_CONNECT_TIMEOUT_MS 5000u

struct capf_status {
    int ran;                    /* a session was started since boot */
    enum capf_outcome outcome;
    int reason;                 /* server reason, -1 when none */
    int auth_type;              /* -1 before the auth request */
    char why[128];
    char key[16];               /* key spec of the last enrolment */
    uint32_t keygen_ms;         /* 0 when a pre-generated key was used */
    int used_pregen;
    uint32_t retry_delay;       /* seconds, when the server said "retry later" */
};

/* Key pre-generation (idle work, one bounded step per capf_client_idle). */
struct capf_pregen {
    struct capf_rsagen *gen;    /* the RSA generation running, NULL when none */
    int stored;                 /* 1: a key is in the lsckey area, 0: none, -1: unknown */
    uint32_t slices;            /* idle calls of the current (or last) generation */
    uint32_t started_ms, took_ms;
    uint32_t done;              /* keys pre-generated since boot */
    struct capf_rsagen_stats last; /* of the last finished generation */
};

struct capf_client {
    struct cert_store *cs;
    struct trust_store *ts;
    const struct phone_config *cfg;
    const struct tvs_net *net;
    void *conn;                 /* the open connection, NULL when none */
    char device_name[CAPF_DEVICE_NAME_MAX];
    char auth_string[CAPF_AUTH_STRING_MAX + 1];
    int waiting_auth_string;    /* a session is open, waiting for the string */
    int connected;
    int peer_deferred;          /* the verify rule left it to TVS */
    int peer_refused;           /* the verify rule (or TVS) refused the server */
    int pregen_enabled;
    struct capf_keyspec pregen_spec;
    struct capf_pregen pregen;
    struct capf_status status;
    size_t new_key_len;         /* of live->key, the enrolment's key */
    size_t new_spki_len;
    int new_key_is_pregen;
    unsigned rx_seen;
    /* The session's message buffers and TLS session live in the work area
     * (scratch.h) from connect to disconnect; NULL when not connected. */
    struct capf_live *live;
};

struct capf_live {
    struct capf_session session;
    struct secd_tls tls;
    uint8_t key[CAPF_KEY_DER_MAX]; /* the key of the enrolment in progress */
    uint8_t spki[CAPF_SPKI_MAX];
    uint8_t lsc[CERT_READ_MAX];    /* the phone's LSC and MIC for this session */
    uint8_t mic[CERT_READ_MAX];
};

void capf_client_init(struct capf_client *c, struct cert_store *cs, struct trust_store *ts,
                      const struct phone_config *cfg, const struct tvs_net *net,
                      const char *mac);
/* Runs a session with host:port (host NULL: the first <capfList> entry).
 * Returns when the session ended, or when it waits for the authentication
 * string (capf_client_set_auth_string resumes it). 0 = an operation or "no
 * operation" completed; -1 otherwise (status tells why). */
int capf_client_start(struct capf_client *c, const char *host, uint16_t port);
/* B6 step 2, the boot flow's enrolment hook (boot_params.enroll, ctx = the
 * struct capf_client): a session with the first <capfList> entry; the LSC
 * it installs becomes the certificate in use of p's cert store. */
enum boot_enroll capf_client_enroll(void *ctx, struct boot_params *p,
                                    struct boot_enroll_report *r);
/* Stores the string (4-16 digits) and resumes a waiting session. */
int capf_client_set_auth_string(struct capf_client *c, const char *digits);
/* Idle work: when no key is stored (and no session runs), one bounded step
 * of the next key pair's generation (secd/capf_rsagen.h: at most one
 * modexp); the finished key is stored (lsckey area, atomic). Returns 1
 * while a generation is under way (call again when idle), 0 when there is
 * nothing to do. The generation state is allocated once when it starts
 * and released when it ends. */
int capf_client_idle(struct capf_client *c);
/* Stops a generation under way (its work is dropped). */
void capf_client_pregen_abort(struct capf_client *c);
/* Registers the console commands (ctx = c). */
int capf_client_register(struct capf_client *c, struct console *con);

/* Pre-generated key blob ("lsckey" area), exposed for tests. load with key
 * NULL reads only the key spec and length. */
int capf_pregen_load(const struct storage *st, struct capf_keyspec *ks, uint8_t *key, size_t cap,
                     size_t *len);
int capf_pregen_store(const struct storage *st, const struct capf_keyspec *ks,
                      const uint8_t *key, size_t len);

#endif
