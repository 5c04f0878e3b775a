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
#define TRUST_LIST_MAX 32768u /* bytes per installed list (its flash area) */
#endif

#define TRUST_AREA_CTL "ctl"
#define TRUST_AREA_ITL "itl"

/* An installed list stays in flash: RAM holds where it is, what the
 * decisions need (header length, rollback flag), its MD5 and the signer
 * name `show trustlist` prints. secd reads a record at a time through
 * `src` into the store's record buffer when it walks the list. */
#define TRUST_SIGNER_MAX 246u /* `show trustlist` prints at most 245 characters of it */
struct trust_store;
/* The bytes last read into the store's record buffer (n == 0: none). */
struct trust_buf_mark {
    uint32_t base; /* flash data offset of the area */
    uint32_t off;  /* offset inside it */
    size_t n;
};

struct trust_list_slot {
    size_t len;
    uint32_t data_off; /* flash offset of the newest copy's bytes */
    struct secd_tl tl;
    struct secd_tl_source src;
    struct trust_store *owner;
    uint8_t md5[16];
    char signer[TRUST_SIGNER_MAX];
    int present;
    enum storage_status status; /* of the last load */
};

struct trust_store {
    const struct storage *st;
    struct trust_list_slot ctl, itl;
    struct secd_trust trust; /* what secd decides with */
    /* The one trust-list buffer of the image: one record of an installed
     * list (CTL and ITL are never walked at once) or of a downloaded list
     * being checked (boot.c's staged download: secd looks up its own
     * record only after the installed lists were walked), a header while a
     * list loads (read back after its records were walked), copy chunks
     * while a list installs, MD5 chunks. */
    uint8_t buf[SECD_TL_BUF_SIZE];
    struct trust_buf_mark held; /* what buf holds: the last read into it */
};

/* Reads n bytes at offset `off` of the bytes at flash data offset `base`
 * into `to`. Every read of list bytes into ts->buf goes through here, so
 * that the store knows what buf holds. Returns 0, or -1 on a read error. */
int trust_store_read_at(struct trust_store *ts, uint32_t base, uint32_t off, uint8_t *to,
                        size_t n);
/* Does [p, p + n) lie in the record buffer? */
int trust_store_buf_holds(const struct trust_store *ts, const uint8_t *p, size_t n);
/* What the record buffer holds now, and reading it back after something
 * else borrowed the buffer (the TVS pin rule's walk while a downloaded
 * list's own record is in it): 0, or -1 on a read error. */
struct trust_buf_mark trust_store_buf_mark(const struct trust_store *ts);
int trust_store_buf_restore(struct trust_store *ts, const struct trust_buf_mark *m);

/* Loads both lists from storage (at boot). Returns 0, or -1 when the store
 * is corrupt (trust.corrupt set; each slot's status tells why). */
int trust_store_load(struct trust_store *ts, const struct storage *st);
/* Installs a list that secd accepted. Returns SECD_OK or an error (too large,
 * storage failure: the previous list stays installed). */
enum secd_err trust_store_install(struct trust_store *ts, enum secd_kind kind,
                                  const uint8_t *data, size_t len);
/* Installs a list that secd accepted from its staged copy: len bytes at
 * flash data offset from_off (the committed copy storage_stat found in the
 * staging area, whose checksums it checked) are copied into the list's
 * area with the atomic writer. Same results as trust_store_install. */
enum secd_err trust_store_install_staged(struct trust_store *ts, enum secd_kind kind,
                                         uint32_t from_off, size_t len);
/* MD5 of len bytes at flash data offset `off` (read through ts->buf).
 * Returns 0, or -1 on a read error. */
int trust_store_md5_at(struct trust_store *ts, uint32_t off, size_t len, uint8_t md5[16]);
/* Manual erase (B7): which = "ctl", "itl" or "all". Returns 0 or -1. */
int trust_store_erase(struct trust_store *ts, const char *which);
/* Wires the TVS hook used for unknown signers (B4). */
void trust_store_set_tvs(struct trust_store *ts, const struct secd_tvs_hook *hook);
/* Describes the store (state, MD5, signer, records) for `show trustlist`;
 * calls line() once per line. */
void trust_store_describe(const struct trust_store *ts, void (*line)(void *, const char *),
                          void *ctx);

#endif
