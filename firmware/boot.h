/* The secure boot sequence (secd-behaviour B1-B3, B5, B6), board
 * independent and event driven: the board asks boot_next() which file to
 * fetch, fetches it (TFTP, later HTTP) and hands the result to
 * boot_on_file(). The boot flow decides, installs and traces; it never
 * touches the network itself. */
#ifndef FIRMWARE_BOOT_H
#define FIRMWARE_BOOT_H
#include <stddef.h>
#include <stdint.h>

#include "cert_store.h"
#include "config.h"
#include "trust_store.h"

enum fetch_status {
    FETCH_OK,
    FETCH_NOT_FOUND,  /* the server has no such file: a normal outcome */
    FETCH_TOO_LARGE,  /* over the per-download limit */
    FETCH_FAILED,     /* server unreachable, timeout, protocol error */
};

enum boot_outcome {
    BOOT_RUNNING,
    BOOT_CONFIG_ACCEPTED,
    BOOT_FAILED,
};

enum boot_phase {
    BOOT_CTL_PER_PHONE,
    BOOT_CTL_GENERIC,
    BOOT_ITL_PER_PHONE,
    BOOT_ITL_GENERIC,
    BOOT_CONFIG,
    BOOT_ENC_CONFIG,
    BOOT_DONE,
};

/* What an enrolment (CAPF, B6 step 2) came to. */
enum boot_enroll {
    BOOT_ENROLLED,         /* a new certificate is in use: ask for the config again */
    BOOT_ENROLL_WAITING,   /* the authentication string must be typed first */
    BOOT_ENROLL_FAILED,
};

/* Rounds of "enrol, then ask for the config again" before giving up. */
#define BOOT_MAX_ENROLL_ROUNDS 2

struct boot_params;
/* What the enrolment hook tells the boot besides its answer. */
struct boot_enroll_report {
    char why[160];           /* the reason of a failure */
    uint32_t retry_after_s;  /* the server asked to be asked again after this; 0: no */
};
/* Called when the partial config's certHash does not match the certificate
 * in use. On BOOT_ENROLLED p->certs holds the new certificate and key. */
typedef enum boot_enroll (*boot_enroll_fn)(void *ctx, struct boot_params *p,
                                           struct boot_enroll_report *r);

/* The device identity and certificate the boot flow needs. */
struct boot_params {
    char mac[13];               /* 12 upper-case hex digits */
    char model[8];              /* e.g. "8845" */
    /* The phone's certificates: the one in use (LSC, else MIC) and its key
     * are read from flash only for the certHash check and the key unwrap
     * (untraced: the board traces which one is in use when it starts the
     * boot, cert_store_in_use). NULL: the phone has none. */
    const struct cert_store *certs;
    uint32_t hash_salt;         /* for the XML parser */
    boot_enroll_fn enroll;      /* NULL: no CAPF client on this board */
    void *enroll_ctx;
};

/* Every download is staged in this storage area: the signed bytes go to
 * flash through the signature hash. A config is read back (parsed, or
 * decrypted and parsed) only once the signature verified; a trust list is
 * checked record by record from there and, accepted, copied into its own
 * area. RAM use does not grow with the file size; the plaintext of an
 * encrypted config is never stored. */
#define BOOT_STAGING_AREA "staging"
#define BOOT_STAGING_SIZE (SECD_MAX_FILE_SIZE + STORAGE_HEADER_SIZE)

struct boot {
    struct boot_params p;
    struct trust_store *ts;
    struct phone_config *cfg;
    enum boot_phase phase;
    enum boot_outcome outcome;
    char request[48];           /* the file asked for */
    char failure[192];          /* why the boot failed */
    int trust_list_failed;      /* "Trust List verification failed" shown */
    int enroll_rounds;
    int waiting_auth_string;    /* stopped: CAPF waits for the string */
    uint32_t server_retry_s;    /* failed: the CAPF server said when to retry (boot_retry.h) */
    /* the download in progress */
    uint32_t received;
    int sink_failed;            /* too large for its buffer, or staging failed */
    uint32_t staged_off;        /* flash offset of the committed staged copy */
    struct storage_writer stage;
    struct secd_stream stream;
};

void boot_init(struct boot *b, const struct boot_params *p, struct trust_store *ts,
               struct phone_config *cfg);
/* The next file to fetch, or NULL when the boot is over. */
const char *boot_next(struct boot *b);
/* Streaming delivery of the file boot_next() named: boot_data() for each
 * piece in file order (returns -1 when the phone will refuse the file, so
 * the fetcher may abort), boot_data_restart() when the fetcher starts over
 * (another server), then boot_on_file(b, st, why, NULL, total). */
int boot_data(struct boot *b, uint32_t offset, const uint8_t *p, size_t n);
void boot_data_restart(struct boot *b);
/* The result of fetching the file boot_next() named. `why` describes a
 * failure for the trace (may be NULL). With data != NULL the whole file is
 * given at once (it is then streamed exactly as boot_data() would). */
void boot_on_file(struct boot *b, enum fetch_status st, const char *why, const uint8_t *data,
                  size_t len);

#endif
