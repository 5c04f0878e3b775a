/* The secure boot sequence (secd-behaviour B1-B3, B5, B6), board
 * independent and event driven: the board asks boot_next() which file to
 * fetch, fetches it (TFTP, later HTTP) and hands the result to
 * boot_on_file(). The boot flow decides, installs and traces; it never
 * touches the network itself. */
#ifndef FIRMWARE_BOOT_H
#define FIRMWARE_BOOT_H
#include <stddef.h>
#include <stdint.h>

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

/* The device identity and certificate the boot flow needs. */
struct boot_params {
    char mac[13];               /* 12 upper-case hex digits */
    char model[8];              /* e.g. "8845" */
    const uint8_t *cert_der;    /* certificate in use (LSC, else MIC); may be NULL */
    size_t cert_len;
    const uint8_t *key_der;     /* its private key (DER); may be NULL */
    size_t key_len;
    uint32_t hash_salt;         /* for the XML parser */
};

struct boot {
    struct boot_params p;
    struct trust_store *ts;
    struct phone_config *cfg;
    enum boot_phase phase;
    enum boot_outcome outcome;
    char request[48];           /* the file asked for */
    char failure[192];          /* why the boot failed */
    int trust_list_failed;      /* "Trust List verification failed" shown */
};

void boot_init(struct boot *b, const struct boot_params *p, struct trust_store *ts,
               struct phone_config *cfg);
/* The next file to fetch, or NULL when the boot is over. */
const char *boot_next(struct boot *b);
/* The result of fetching the file boot_next() named. `why` describes a
 * failure for the trace (may be NULL). */
void boot_on_file(struct boot *b, enum fetch_status st, const char *why, const uint8_t *data,
                  size_t len);

#endif
