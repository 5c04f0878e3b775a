/* The phone's installed trust lists, persisted on the board's storage.
 *
 * CTL and ITL each live in their own atomic A/B area (hal/storage.h): an
 * install is one storage_replace, so a power cut leaves the old or the new
 * list. A list that storage reports damaged, or that no longer parses,
 * marks the store CORRUPT: the phone then refuses every file and every
 * unsigned config until an administrator erases the trust lists (B7) —
 * it never silently falls back to NONE, which would mean blind trust. */
#ifndef FIRMWARE_TRUST_STORE_H
#define FIRMWARE_TRUST_STORE_H
#include <stddef.h>
#include <stdint.h>

#include "hal/storage.h"
#include "secd/secd.h"

#ifndef TRUST_LIST_MAX
#define TRUST_LIST_MAX 32768u /* bytes per installed list (RAM copy) */
#endif

#define TRUST_AREA_CTL "ctl"
#define TRUST_AREA_ITL "itl"

struct trust_list_slot {
    uint8_t data[TRUST_LIST_MAX];
    size_t len;
    struct secd_tl tl;
    uint8_t md5[16];
    int present;
    enum storage_status status; /* of the last load */
};

struct trust_store {
    const struct storage *st;
    struct trust_list_slot ctl, itl;
    struct secd_trust trust; /* what secd decides with */
};

/* Loads both lists from storage (at boot). Returns 0, or -1 when the store
 * is corrupt (trust.corrupt set; each slot's status tells why). */
int trust_store_load(struct trust_store *ts, const struct storage *st);
/* Installs a list that secd accepted. Returns SECD_OK or an error (too large,
 * storage failure: the previous list stays installed). */
enum secd_err trust_store_install(struct trust_store *ts, enum secd_kind kind,
                                  const uint8_t *data, size_t len);
/* Manual erase (B7): which = "ctl", "itl" or "all". Returns 0 or -1. */
int trust_store_erase(struct trust_store *ts, const char *which);
/* Wires the TVS hook used for unknown signers (B4). */
void trust_store_set_tvs(struct trust_store *ts, const struct secd_tvs_hook *hook);
/* Describes the store (state, MD5, signer, records) for `show trustlist`;
 * calls line() once per line. */
void trust_store_describe(const struct trust_store *ts, void (*line)(void *, const char *),
                          void *ctx);

#endif
