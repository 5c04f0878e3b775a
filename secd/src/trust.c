/* Trust-list state machine and file acceptance (secd-behaviour B2-B5). */
#include <string.h>

#include "secd_internal.h"

#define FILE_ROLES (SECD_ROLE_BIT(SECD_ROLE_CCM_TFTP) | SECD_ROLE_BIT(SECD_ROLE_TFTP))
#define SAST_ROLE SECD_ROLE_BIT(SECD_ROLE_SAST)

static int role_in(const struct secd_record *r, uint64_t roles)
{
    return r->has_role && r->role < 64 && (roles & SECD_ROLE_BIT(r->role)) != 0;
}

/* Is a record the list's signer's own entry? 1, 0, or -1 when the signer
 * could not be compared (a source's read failed). */
typedef int (*signer_match_fn)(const struct secd_record *r, const void *signer);

static int header_names(const struct secd_record *r, const void *h)
{
    return secd_record_matches_signer(r, h);
}

/* Rollback ITL (B5): every record is either without a function or the
 * signer's own SAST entry. Returns 1, 0, or -1 (is_signer failed). */
static int rollback_walk(const struct secd_tl *tl, signer_match_fn is_signer, const void *signer)
{
    struct secd_tl_iter it;
    struct secd_record r;
    size_t n = 0;
    secd_tl_records_begin(&it, tl);
    while (secd_tl_records_next(&it, &r) == SECD_OK && r.length) {
        n++;
        if (!r.has_role)
            continue;
        if (r.role == SECD_ROLE_SAST) {
            int m = is_signer(&r, signer);
            if (m < 0)
                return -1;
            if (m)
                continue;
        }
        return 0;
    }
    return n > 0;
}

/* For a list whose header views are valid while its records are walked
 * (in memory, or a streamed file's header kept by secd_stream). */
static int is_rollback(const struct secd_tl *tl)
{
    return rollback_walk(tl, header_names, &tl->hdr) == 1;
}

/* The signer of a source-backed list while its records are walked through
 * the buffer that held its header (one buffer for the whole list): the
 * serial copied (at most 64 bytes, header.c), the issuer name compared
 * where it lies in the list, a piece at a time. */
struct signer_ref {
    const struct secd_tl_source *src;
    uint32_t issuer_off;
    size_t issuer_len;
    uint8_t serial[64];
    size_t serial_len;
};

static int ref_names(const struct secd_record *r, const void *ref)
{
    const struct signer_ref *s = ref;
    /* secd_record_matches_signer() on everything but the issuer's bytes:
     * the record's own issuer stands in for them, compared below. */
    struct secd_header h;
    memset(&h, 0, sizeof h);
    h.serial.p = s->serial;
    h.serial.len = s->serial_len;
    h.issuer_name = r->issuer;
    if (r->issuer.len != s->issuer_len || !secd_record_matches_signer(r, &h))
        return 0;
    uint8_t piece[64];
    for (size_t pos = 0; pos < s->issuer_len; pos += sizeof piece) {
        size_t n = s->issuer_len - pos < sizeof piece ? s->issuer_len - pos : sizeof piece;
        if (s->src->read(s->src->ctx, (uint32_t)(s->issuer_off + pos), piece, n) != 0)
            return -1;
        if (memcmp(piece, r->issuer.p + pos, n) != 0)
            return 0;
    }
    return 1;
}

enum secd_err secd_tl_load(struct secd_tl *tl, const uint8_t *data, size_t len)
{
    size_t count;
    memset(tl, 0, sizeof *tl);
    enum secd_err e = secd_parse_header(data, len, &tl->hdr);
    if (e == SECD_OK)
        e = secd_records_check(data, len, &tl->hdr, &count);
    if (e != SECD_OK)
        return e;
    tl->data = data;
    tl->len = len;
    tl->rollback = is_rollback(tl);
    return SECD_OK;
}

/* Walks all records once through the list's own walk: structural check
 * and count. */
static enum secd_err tl_records_check(const struct secd_tl *tl, size_t *count)
{
    struct secd_tl_iter it;
    struct secd_record r;
    *count = 0;
    secd_tl_records_begin(&it, tl);
    for (;;) {
        enum secd_err e = secd_tl_records_next(&it, &r);
        if (e != SECD_OK)
            return e;
        if (r.length == 0)
            return SECD_OK;
        (*count)++;
    }
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

enum secd_err secd_tl_load_source(struct secd_tl *tl, const struct secd_tl_source *src,
                                  size_t len, uint8_t *hdr_buf, size_t hdr_cap)
{
    memset(tl, 0, sizeof *tl);
    if (len < 10 || hdr_cap < 10)
        return SECD_ERR_TRUNCATED;
    if (src->read(src->ctx, 0, hdr_buf, 10) != 0)
        return SECD_ERR_CRYPTO;
    size_t header_len = be16(hdr_buf + 8);
    if (header_len > hdr_cap)
        return SECD_ERR_TOO_LARGE;
    if (header_len > len)
        return SECD_ERR_HEADER_LENGTH_EXCEEDS_FILE;
    if (header_len > 10 && src->read(src->ctx, 10, hdr_buf + 10, header_len - 10) != 0)
        return SECD_ERR_CRYPTO;
    size_t hdr_read = header_len < 10 ? 10 : header_len;
    enum secd_err e = secd_parse_header(hdr_buf, hdr_read, &tl->hdr);
    if (e != SECD_OK)
        return e;
    tl->len = len;
    tl->src = src;
    /* hdr_buf may be src->buf: the records are compared with the signer
     * through signer_ref, never through the header's views. */
    struct signer_ref signer;
    memset(&signer, 0, sizeof signer);
    signer.src = src;
    if (tl->hdr.issuer_name.p) {
        signer.issuer_off = (uint32_t)(tl->hdr.issuer_name.p - hdr_buf);
        signer.issuer_len = tl->hdr.issuer_name.len;
    }
    if (tl->hdr.serial.len <= sizeof signer.serial && tl->hdr.serial.p) {
        memcpy(signer.serial, tl->hdr.serial.p, tl->hdr.serial.len);
        signer.serial_len = tl->hdr.serial.len;
    }
    size_t count;
    e = tl_records_check(tl, &count);
    if (e != SECD_OK)
        return e;
    int rollback = rollback_walk(tl, ref_names, &signer);
    if (rollback < 0)
        return SECD_ERR_CRYPTO;
    tl->rollback = rollback;
    /* The walk reused the header's buffer: read the header back, so that
     * its views hold again on return. */
    if (hdr_buf == src->buf && src->read(src->ctx, 0, hdr_buf, hdr_read) != 0)
        return SECD_ERR_CRYPTO;
    return SECD_OK;
}

enum secd_state secd_trust_state(const struct secd_trust *t)
{
    if (t->ctl && t->itl)
        return SECD_STATE_CTL_ITL;
    if (t->ctl)
        return SECD_STATE_CTL;
    if (t->itl)
        return SECD_STATE_ITL;
    return SECD_STATE_NONE;
}

int secd_trust_is_blind(const struct secd_trust *t)
{
    if (t->corrupt)
        return 0;
    return !t->ctl && (!t->itl || t->itl->rollback);
}

/* Tries every record of `tl` that names the signer with one of `roles`.
 * Returns SECD_OK when one verifies, SIGNATURE_INVALID when the signer was
 * found but no key verified, SIGNER_NOT_TRUSTED when not found. */
static enum secd_err verify_against(const struct secd_tl *tl, uint64_t roles,
                                    const struct secd_header *h, const uint8_t *digest,
                                    size_t dlen)
{
    struct secd_tl_iter it;
    struct secd_record r;
    enum secd_err result = SECD_ERR_SIGNER_NOT_TRUSTED;
    if (!tl)
        return result;
    secd_tl_records_begin(&it, tl);
    while (secd_tl_records_next(&it, &r) == SECD_OK && r.length) {
        if (!role_in(&r, roles) || !secd_record_matches_signer(&r, h))
            continue;
        if (secd_verify_with_record(h, digest, dlen, &r) == SECD_OK)
            return SECD_OK;
        result = SECD_ERR_SIGNATURE_INVALID;
    }
    return result;
}

/* Finds the signer's own SAST record in a trust list file (first use). */
static int own_sast_record(const struct secd_tl *file, const struct secd_header *h,
                           struct secd_record *out)
{
    struct secd_tl_iter it;
    secd_tl_records_begin(&it, file);
    while (secd_tl_records_next(&it, out) == SECD_OK && out->length)
        if (role_in(out, SAST_ROLE) && secd_record_matches_signer(out, h))
            return 1;
    return 0;
}

/* Asks TVS about a signer neither list knows (B4). */
static enum secd_err verify_via_tvs(const struct secd_trust *t, uint64_t roles,
                                    const struct secd_header *h, const struct secd_record *own,
                                    const uint8_t *digest, size_t dlen)
{
    if (!t->tvs || !t->tvs->vouch)
        return SECD_ERR_SIGNER_NOT_TRUSTED;
    struct secd_bytes key = {NULL, 0};
    const uint8_t *cert = own ? own->certificate.p : NULL;
    size_t cert_len = own ? own->certificate.len : 0;
    if (!t->tvs->vouch(t->tvs->ctx, h, cert, cert_len, roles, &key))
        return SECD_ERR_SIGNER_NOT_TRUSTED;
    if (key.len)
        return secd_rsa_verify_digest(h->hash_alg, digest, dlen, h->signature.p, h->signature.len,
                                      key.p, key.len);
    if (own)
        return secd_verify_with_record(h, digest, dlen, own);
    return SECD_ERR_SIGNER_NOT_TRUSTED;
}

static int bytes_equal_str(struct secd_bytes b, const char *s)
{
    size_t n = strlen(s);
    return b.len == n && memcmp(b.p, s, n) == 0;
}

/* The header name must be the requested one; a per-phone trust list
 * (CTLSEP<MAC>.tlv / ITLSEP<MAC>.tlv) may carry the generic name (B3). */
static int filename_ok(const struct secd_header *h, enum secd_kind kind, const char *requested)
{
    if (bytes_equal_str(h->filename, requested))
        return 1;
    if (kind == SECD_KIND_CTL && strncmp(requested, "CTLSEP", 6) == 0)
        return bytes_equal_str(h->filename, "CTLFile.tlv");
    if (kind == SECD_KIND_ITL && strncmp(requested, "ITLSEP", 6) == 0)
        return bytes_equal_str(h->filename, "ITLFile.tlv");
    return 0;
}

/* Who may sign a new trust list in the current state (B2). */
static enum secd_err check_trust_list_signer(const struct secd_trust *t, enum secd_kind kind,
                                             const struct secd_tl *file,
                                             const struct secd_header *h, const uint8_t *digest,
                                             size_t dlen, enum secd_anchor *anchor)
{
    /* `own` points into the file's buffer (its source's for a streamed
     * file). That may be the buffer the installed lists are walked through
     * (one record buffer on a board): it is looked up only when nothing
     * else is walked until it has been used. */
    struct secd_record own;
    int blind = kind == SECD_KIND_CTL ? t->ctl == NULL : secd_trust_is_blind(t);
    if (blind) {
        /* First use: the file authenticates itself through its signer's
         * SAST record; that signer becomes the anchor. */
        *anchor = SECD_ANCHOR_FIRST_USE;
        if (!own_sast_record(file, h, &own))
            return SECD_ERR_SIGNER_NOT_TRUSTED;
        return secd_verify_with_record(h, digest, dlen, &own);
    }
    if (kind == SECD_KIND_CTL) {
        *anchor = SECD_ANCHOR_CTL;
        return verify_against(t->ctl, SAST_ROLE, h, digest, dlen);
    }
    *anchor = SECD_ANCHOR_CTL;
    enum secd_err e = verify_against(t->ctl, FILE_ROLES, h, digest, dlen);
    if (e != SECD_ERR_SIGNER_NOT_TRUSTED)
        return e;
    *anchor = SECD_ANCHOR_ITL;
    if (t->itl && !t->itl->rollback)
        e = verify_against(t->itl, SAST_ROLE, h, digest, dlen);
    if (e != SECD_ERR_SIGNER_NOT_TRUSTED)
        return e;
    *anchor = SECD_ANCHOR_TVS;
    /* The installed lists have been walked: now the file's own record. The
     * hook gets its certificate in place (secd_tvs_hook). */
    int has_own = own_sast_record(file, h, &own);
    return verify_via_tvs(t, SAST_ROLE | FILE_ROLES, h, has_own ? &own : NULL, digest, dlen);
}

/* Who may sign a .sgn / .enc.sgn (B3). */
static enum secd_err check_file_signer(const struct secd_trust *t, const struct secd_header *h,
                                       const uint8_t *digest, size_t dlen,
                                       enum secd_anchor *anchor)
{
    *anchor = SECD_ANCHOR_CTL;
    enum secd_err e = verify_against(t->ctl, FILE_ROLES, h, digest, dlen);
    if (e != SECD_ERR_SIGNER_NOT_TRUSTED)
        return e;
    *anchor = SECD_ANCHOR_ITL;
    if (t->itl && !t->itl->rollback)
        e = verify_against(t->itl, FILE_ROLES, h, digest, dlen);
    if (e != SECD_ERR_SIGNER_NOT_TRUSTED)
        return e;
    *anchor = SECD_ANCHOR_TVS;
    return verify_via_tvs(t, FILE_ROLES, h, NULL, digest, dlen);
}

enum secd_err secd_decide_signed(const struct secd_trust *t, const uint8_t *digest, size_t dlen,
                                 struct secd_decision *d)
{
    if (t->corrupt)
        return SECD_ERR_TRUST_STORE_CORRUPT;
    if (secd_trust_is_blind(t)) {
        /* Nothing to verify against. With a rollback ITL any config is
         * accepted (B5); with no trust list a signed file cannot be. */
        if (t->itl && t->itl->rollback) {
            d->anchor = SECD_ANCHOR_NONE;
            return SECD_OK;
        }
        return SECD_ERR_SIGNER_NOT_TRUSTED;
    }
    return check_file_signer(t, &d->hdr, digest, dlen, &d->anchor);
}

/* Replay rule: a validly signed but older CTL/ITL must not replace a newer
 * one (an attacker on the provisioning network keeps every list the cluster
 * ever published, e.g. a rollback ITL). The header timestamp is the
 * signing time and is covered by the signature. */
int secd_tl_is_replay(const struct secd_tl *installed, const struct secd_header *h)
{
    if (!installed || !installed->hdr.has_timestamp)
        return 0;
    return !h->has_timestamp || h->timestamp < installed->hdr.timestamp;
}

int secd_filename_ok(const struct secd_header *h, enum secd_kind kind, const char *requested)
{
    return filename_ok(h, kind, requested);
}

/* The signer decision for a CTL/ITL whose header is in d->hdr, whose
 * records walked cleanly (`records` of them) and whose digest is known. */
static enum secd_err decide_trust_list(const struct secd_trust *t, enum secd_kind kind,
                                       const struct secd_tl *file, size_t records,
                                       const uint8_t *digest, size_t dlen,
                                       struct secd_decision *d)
{
    if (records == 0 && (kind == SECD_KIND_CTL ? t->ctl == NULL : secd_trust_is_blind(t)))
        return SECD_ERR_NO_RECORDS; /* cannot name its own signer */
    enum secd_err e = check_trust_list_signer(t, kind, file, &d->hdr, digest, dlen, &d->anchor);
    if (e != SECD_OK)
        return e;
    if (records == 0)
        return SECD_ERR_NO_RECORDS;
    if (secd_tl_is_replay(kind == SECD_KIND_CTL ? t->ctl : t->itl, &d->hdr))
        return SECD_ERR_OLDER_THAN_INSTALLED;
    if (kind == SECD_KIND_ITL)
        d->rollback = is_rollback(file);
    return SECD_OK;
}

enum secd_err secd_check_file(const struct secd_trust *t, enum secd_kind kind,
                              const uint8_t *file, size_t len, const char *requested,
                              struct secd_decision *d)
{
    memset(d, 0, sizeof *d);
    if (t->corrupt)
        return SECD_ERR_TRUST_STORE_CORRUPT;
    enum secd_err e = secd_parse_header(file, len, &d->hdr);
    if (e != SECD_OK)
        return e;
    size_t records = 0;
    struct secd_tl view = {file, len, d->hdr, 0, NULL};
    if (kind != SECD_KIND_SIGNED) {
        if (d->hdr.encrypted)
            return SECD_ERR_MALFORMED;
        e = tl_records_check(&view, &records);
        if (e != SECD_OK)
            return e;
    }
    if (!filename_ok(&d->hdr, kind, requested))
        return SECD_ERR_FILENAME_MISMATCH;

    uint8_t digest[64];
    size_t dlen;
    if (secd_file_digest(&d->hdr, file, len, digest, &dlen) != 0)
        return SECD_ERR_CRYPTO;

    if (kind == SECD_KIND_SIGNED)
        return secd_decide_signed(t, digest, dlen, d);
    return decide_trust_list(t, kind, &view, records, digest, dlen, d);
}

enum secd_err secd_check_streamed_tl(const struct secd_trust *t, enum secd_kind kind,
                                     const struct secd_tl_source *staged, size_t len,
                                     const char *requested, const uint8_t *digest, size_t dlen,
                                     struct secd_decision *d)
{
    if (kind == SECD_KIND_SIGNED || d->hdr.encrypted)
        return SECD_ERR_MALFORMED;
    if (d->hdr.header_len > staged->cap)
        return SECD_ERR_TOO_LARGE;
    struct secd_tl view = {NULL, len, d->hdr, 0, staged};
    size_t records = 0;
    enum secd_err e = tl_records_check(&view, &records);
    if (e != SECD_OK)
        return e;
    if (!filename_ok(&d->hdr, kind, requested))
        return SECD_ERR_FILENAME_MISMATCH;
    return decide_trust_list(t, kind, &view, records, digest, dlen, d);
}

enum secd_err secd_check_unsigned_config(const struct secd_trust *t)
{
    if (t->corrupt)
        return SECD_ERR_TRUST_STORE_CORRUPT;
    return secd_trust_is_blind(t) ? SECD_OK : SECD_ERR_UNSIGNED_REFUSED;
}
