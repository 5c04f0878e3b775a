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

static enum storage_status read_into(struct trust_store *ts, uint32_t base, uint32_t off,
                                     uint8_t *to, size_t n)
{
    if (to == ts->buf)
        ts->held = (struct trust_buf_mark){0, 0, 0}; /* unknown until the read succeeds */
    enum storage_status s = storage_read_at(ts->st, base, off, to, n);
    if (s == STORAGE_OK && to == ts->buf)
        ts->held = (struct trust_buf_mark){base, off, n};
    return s;
}

int trust_store_read_at(struct trust_store *ts, uint32_t base, uint32_t off, uint8_t *to,
                        size_t n)
{
    return read_into(ts, base, off, to, n) == STORAGE_OK ? 0 : -1;
}

int trust_store_buf_holds(const struct trust_store *ts, const uint8_t *p, size_t n)
{
    uintptr_t a = (uintptr_t)p, lo = (uintptr_t)ts->buf;
    return p != NULL && a >= lo && a - lo <= sizeof ts->buf && n <= sizeof ts->buf - (a - lo);
}

struct trust_buf_mark trust_store_buf_mark(const struct trust_store *ts)
{
    return ts->held;
}

int trust_store_buf_restore(struct trust_store *ts, const struct trust_buf_mark *m)
{
    if (m->n == 0 || (ts->held.n == m->n && ts->held.base == m->base && ts->held.off == m->off))
        return 0;
    return trust_store_read_at(ts, m->base, m->off, ts->buf, m->n);
}

/* secd's reader of an installed list: its bytes in flash. */
static int read_slot(void *ctx, uint32_t off, uint8_t *buf, size_t n)
{
    const struct trust_list_slot *s = ctx;
    if (off > s->len || n > s->len - off)
        return -1;
    return trust_store_read_at(s->owner, s->data_off, off, buf, n);
}

int trust_store_md5_at(struct trust_store *ts, uint32_t off, size_t len, uint8_t md5[16])
{
    struct secd_md5_ctx c;
    secd_md5_begin(&c);
    int rc = 0;
    for (size_t pos = 0; pos < len; pos += sizeof ts->buf) {
        size_t n = len - pos < sizeof ts->buf ? len - pos : sizeof ts->buf;
        if (trust_store_read_at(ts, off, (uint32_t)pos, ts->buf, n) != 0) {
            rc = -1;
            break;
        }
        secd_md5_update(&c, ts->buf, n);
    }
    secd_md5_final(&c, md5);
    return rc;
}

/* Looks at one list in flash (storage checks its checksums); returns 0 when
 * absent or good, -1 when damaged. */
static int load_slot(struct trust_store *ts, enum secd_kind kind)
{
    struct trust_list_slot *s = slot_of(ts, kind);
    memset(s, 0, sizeof *s);
    s->owner = ts;
    s->status = storage_stat(ts->st, area_of(kind), &s->len, &s->data_off);
    if (s->status == STORAGE_NOT_FOUND)
        return 0;
    if (s->status != STORAGE_OK)
        return -1;
    s->src = (struct secd_tl_source){s, read_slot, ts->buf, sizeof ts->buf};
    /* One buffer for the header and the records: secd reads the header
     * back into it after the walk. */
    if (s->len > TRUST_LIST_MAX ||
        secd_tl_load_source(&s->tl, &s->src, s->len, ts->buf, sizeof ts->buf) != SECD_OK) {
        s->status = STORAGE_CORRUPT; /* stored bytes no longer parse */
        return -1;
    }
    /* The header's byte views point into buf, which is reused: keep the
     * signer name, drop the views. */
    size_t n = s->tl.hdr.signer_name.len;
    if (n >= sizeof s->signer)
        n = sizeof s->signer - 1;
    memcpy(s->signer, s->tl.hdr.signer_name.p, n);
    s->signer[n] = '\0';
    static const struct secd_bytes none = {NULL, 0};
    struct secd_header *h = &s->tl.hdr;
    h->signer_name = h->issuer_name = h->serial = h->signature = h->filename = none;
    h->iv = h->wrapped_key = h->digest = none;
    if (trust_store_md5_at(ts, s->data_off, s->len, s->md5) != 0) {
        s->status = STORAGE_IO;
        return -1;
    }
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

/* After a replace (done or failed): reload whatever storage now holds, the
 * new list, or on failure the old one (atomic replace), so RAM never
 * disagrees with flash. */
static enum secd_err reload_after(struct trust_store *ts, enum secd_kind kind,
                                  enum storage_status s)
{
    load_slot(ts, kind);
    int bad = slot_damaged(&ts->ctl) || slot_damaged(&ts->itl);
    ts->trust.corrupt = bad;
    rewire(ts);
    if (s == STORAGE_TOO_BIG)
        return SECD_ERR_TOO_LARGE;
    return s == STORAGE_OK && !bad ? SECD_OK : SECD_ERR_CRYPTO;
}

enum secd_err trust_store_install(struct trust_store *ts, enum secd_kind kind,
                                  const uint8_t *data, size_t len)
{
    if (kind == SECD_KIND_SIGNED)
        return SECD_ERR_MALFORMED;
    if (len > TRUST_LIST_MAX)
        return SECD_ERR_TOO_LARGE;
    return reload_after(ts, kind, storage_replace(ts->st, area_of(kind), data, len));
}

/* Copies the staged copy into the list's area; nothing is visible before
 * the commit (storage_write_commit writes the header last). */
static enum storage_status copy_area(struct trust_store *ts, const char *to, uint32_t from_off,
                                     size_t len)
{
    struct storage_writer w;
    enum storage_status s = storage_write_begin(&w, ts->st, to);
    for (size_t pos = 0; s == STORAGE_OK && pos < len; pos += sizeof ts->buf) {
        size_t n = len - pos < sizeof ts->buf ? len - pos : sizeof ts->buf;
        s = read_into(ts, from_off, (uint32_t)pos, ts->buf, n);
        if (s == STORAGE_OK)
            s = storage_write_chunk(&w, ts->buf, n);
    }
    return s == STORAGE_OK ? storage_write_commit(&w) : s;
}

enum secd_err trust_store_install_staged(struct trust_store *ts, enum secd_kind kind,
                                         uint32_t from_off, size_t len)
{
    if (kind == SECD_KIND_SIGNED)
        return SECD_ERR_MALFORMED;
    if (len > TRUST_LIST_MAX)
        return SECD_ERR_TOO_LARGE;
    return reload_after(ts, kind, copy_area(ts, area_of(kind), from_off, len));
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
    snprintf(buf, sizeof buf, "  signer: %s", s->signer);
    line(ctx, buf);
    struct secd_tl_iter it;
    struct secd_record r;
    unsigned n = 0;
    secd_tl_records_begin(&it, &s->tl);
    while (secd_tl_records_next(&it, &r) == SECD_OK && r.length) {
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
