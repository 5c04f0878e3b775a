#include "trust_store.h"

#include <stdio.h>
#include <string.h>

static struct trust_list_slot *slot_of(struct trust_store *ts, enum secd_kind kind)
{
    return kind == SECD_KIND_CTL ? &ts->ctl : &ts->itl;
}

static const char *area_of(enum secd_kind kind)
{
    return kind == SECD_KIND_CTL ? TRUST_AREA_CTL : TRUST_AREA_ITL;
}

/* Reads one list; returns 0 when absent or good, -1 when damaged. */
static int load_slot(struct trust_store *ts, enum secd_kind kind)
{
    struct trust_list_slot *s = slot_of(ts, kind);
    s->present = 0;
    s->len = 0;
    s->status = storage_read(ts->st, area_of(kind), s->data, sizeof s->data, &s->len);
    if (s->status == STORAGE_NOT_FOUND)
        return 0;
    if (s->status != STORAGE_OK)
        return -1;
    if (secd_tl_load(&s->tl, s->data, s->len) != SECD_OK) {
        s->status = STORAGE_CORRUPT; /* stored bytes no longer parse */
        return -1;
    }
    secd_md5(s->data, s->len, s->md5);
    s->present = 1;
    return 0;
}

static int slot_damaged(const struct trust_list_slot *s)
{
    return s->status != STORAGE_OK && s->status != STORAGE_NOT_FOUND;
}

static void rewire(struct trust_store *ts)
{
    ts->trust.ctl = ts->ctl.present ? &ts->ctl.tl : NULL;
    ts->trust.itl = ts->itl.present ? &ts->itl.tl : NULL;
}

int trust_store_load(struct trust_store *ts, const struct storage *st)
{
    const struct secd_tvs_hook *tvs = ts->trust.tvs;
    memset(&ts->trust, 0, sizeof ts->trust);
    ts->trust.tvs = tvs;
    ts->st = st;
    int bad = load_slot(ts, SECD_KIND_CTL) | load_slot(ts, SECD_KIND_ITL);
    ts->trust.corrupt = bad != 0;
    rewire(ts);
    return bad ? -1 : 0;
}

enum secd_err trust_store_install(struct trust_store *ts, enum secd_kind kind,
                                  const uint8_t *data, size_t len)
{
    if (kind == SECD_KIND_SIGNED)
        return SECD_ERR_MALFORMED;
    if (len > TRUST_LIST_MAX)
        return SECD_ERR_TOO_LARGE;
    enum storage_status s = storage_replace(ts->st, area_of(kind), data, len);
    /* Reload whatever storage now holds: the new list, or on failure the
     * old one (atomic replace), so RAM never disagrees with flash. */
    load_slot(ts, kind);
    int bad = slot_damaged(&ts->ctl) || slot_damaged(&ts->itl);
    ts->trust.corrupt = bad;
    rewire(ts);
    if (s == STORAGE_TOO_BIG)
        return SECD_ERR_TOO_LARGE;
    return s == STORAGE_OK && !bad ? SECD_OK : SECD_ERR_CRYPTO;
}

int trust_store_erase(struct trust_store *ts, const char *which)
{
    int all = strcmp(which, "all") == 0;
    int rc = 0;
    if (all || strcmp(which, "ctl") == 0)
        rc |= storage_erase(ts->st, TRUST_AREA_CTL) == STORAGE_OK ? 0 : -1;
    if (all || strcmp(which, "itl") == 0)
        rc |= storage_erase(ts->st, TRUST_AREA_ITL) == STORAGE_OK ? 0 : -1;
    if (!all && strcmp(which, "ctl") != 0 && strcmp(which, "itl") != 0)
        return -1;
    trust_store_load(ts, ts->st);
    return rc;
}

void trust_store_set_tvs(struct trust_store *ts, const struct secd_tvs_hook *hook)
{
    ts->trust.tvs = hook;
}

static void describe_slot(const char *name, const struct trust_list_slot *s,
                          void (*line)(void *, const char *), void *ctx)
{
    char buf[256], hex[33];
    if (s->status != STORAGE_OK && s->status != STORAGE_NOT_FOUND) {
        snprintf(buf, sizeof buf, "%s: DAMAGED (%s) - erase trustlist to recover", name,
                 storage_status_str(s->status));
        line(ctx, buf);
        return;
    }
    if (!s->present) {
        snprintf(buf, sizeof buf, "%s: not installed", name);
        line(ctx, buf);
        return;
    }
    secd_hex(s->md5, 16, hex);
    snprintf(buf, sizeof buf, "%s: installed, %u bytes, MD5 %s%s", name, (unsigned)s->len, hex,
             s->tl.rollback ? " (rollback ITL)" : "");
    line(ctx, buf);
    snprintf(buf, sizeof buf, "  signer: %.*s", (int)s->tl.hdr.signer_name.len,
             (const char *)s->tl.hdr.signer_name.p);
    line(ctx, buf);
    struct secd_rec_iter it;
    struct secd_record r;
    unsigned n = 0;
    secd_records_begin(&it, s->tl.data, s->tl.len, &s->tl.hdr);
    while (secd_records_next(&it, &r) == SECD_OK && r.length) {
        snprintf(buf, sizeof buf, "  record %u: %s %.*s", ++n,
                 r.has_role ? secd_role_name(r.role) : "(no function)", (int)r.subject.len,
                 (const char *)r.subject.p);
        line(ctx, buf);
    }
}

void trust_store_describe(const struct trust_store *ts, void (*line)(void *, const char *),
                          void *ctx)
{
    char buf[96];
    snprintf(buf, sizeof buf, "trust state: %s%s%s", secd_state_name(secd_trust_state(&ts->trust)),
             ts->trust.itl && ts->trust.itl->rollback ? " (rollback ITL: signatures not required)"
                                                       : "",
             ts->trust.corrupt ? " CORRUPT: all files refused" : "");
    line(ctx, buf);
    describe_slot("CTL", &ts->ctl, line, ctx);
    describe_slot("ITL", &ts->itl, line, ctx);
}
