/* The phone's certificates: read-only MIC, atomic LSC + key (cert_store.h). */
#include "cert_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/md5.h>
#include <wolfssl/wolfcrypt/sha.h>

#include "secd/capf.h"
#include "secd/secd.h"
#include "trace.h"

/* Blob: "LSC1", u16 certificate length, u16 key length, DER, DER. */
static const uint8_t blob_magic[4] = {'L', 'S', 'C', '1'};
#define BLOB_HEADER 8u

/* The blob's header; returns 0 when the sizes cannot be stored. */
static int cert_store_encode_header(uint8_t out[BLOB_HEADER], size_t cert_len, size_t key_len)
{
    if (!cert_len || !key_len || cert_len > CERT_DER_MAX || key_len > CERT_KEY_MAX ||
        BLOB_HEADER + cert_len + key_len > CERT_LSC_BLOB_MAX)
        return 0;
    memcpy(out, blob_magic, 4);
    out[4] = (uint8_t)(cert_len >> 8);
    out[5] = (uint8_t)cert_len;
    out[6] = (uint8_t)(key_len >> 8);
    out[7] = (uint8_t)key_len;
    return 1;
}

size_t cert_store_encode(uint8_t *out, size_t cap, const uint8_t *cert, size_t cert_len,
                         const uint8_t *key, size_t key_len)
{
    if (BLOB_HEADER + cert_len + key_len > cap || !cert_store_encode_header(out, cert_len, key_len))
        return 0;
    memcpy(out + BLOB_HEADER, cert, cert_len);
    memcpy(out + BLOB_HEADER + cert_len, key, key_len);
    return BLOB_HEADER + cert_len + key_len;
}

int cert_store_decode(const uint8_t *blob, size_t len, struct cert_pair *out)
{
    if (len < BLOB_HEADER || memcmp(blob, blob_magic, 4) != 0)
        return -1;
    size_t cl = (size_t)blob[4] << 8 | blob[5];
    size_t kl = (size_t)blob[6] << 8 | blob[7];
    if (!cl || !kl || BLOB_HEADER + cl + kl != len)
        return -1;
    *out = (struct cert_pair){blob + BLOB_HEADER, cl, blob + BLOB_HEADER + cl, kl, NULL};
    return 0;
}

/* Reads and decodes the stored LSC blob into buf. */
static enum storage_status read_lsc_blob(const struct storage *st, uint8_t *buf, size_t cap,
                                         struct cert_pair *out)
{
    size_t len = 0;
    enum storage_status s = storage_read(st, CERT_AREA_LSC, buf, cap, &len);
    if (s == STORAGE_OK && cert_store_decode(buf, len, out) != 0)
        s = STORAGE_CORRUPT;
    return s;
}

int cert_store_load(struct cert_store *cs, const struct storage *st)
{
    cs->st = st;
    cs->lsc_cert_len = cs->lsc_key_len = 0;
    uint8_t *buf = malloc(CERT_LSC_BLOB_MAX);
    struct cert_pair p = {0};
    cs->lsc_status = buf ? read_lsc_blob(st, buf, CERT_LSC_BLOB_MAX, &p) : STORAGE_IO;
    if (buf) {
        memset(buf, 0, CERT_LSC_BLOB_MAX); /* key material */
        free(buf);
    }
    if (cs->lsc_status == STORAGE_NOT_FOUND)
        return 0;
    if (cs->lsc_status == STORAGE_OK) {
        cs->lsc_cert_len = p.cert_len;
        cs->lsc_key_len = p.key_len;
        return 0;
    }
    ERR("SECD", "EROR:LSC storage damaged (%s): the LSC is not used",
        buf ? storage_status_str(cs->lsc_status) : "out of memory");
    return -1;
}

void cert_store_set_mic(struct cert_store *cs, const uint8_t *cert, size_t cert_len,
                        const uint8_t *key, size_t key_len)
{
    cs->mic_ram = (struct cert_pair){cert, cert_len, key, key_len, NULL};
    cs->mic_read = NULL;
    cs->mic_cert_len = cert_len;
    cs->mic_key_len = key_len;
}

int cert_store_set_mic_reader(struct cert_store *cs, cert_mic_reader read, void *ctx)
{
    cs->mic_ram = (struct cert_pair){0};
    cs->mic_read = read;
    cs->mic_ctx = ctx;
    cs->mic_cert_len = cs->mic_key_len = 0;
    uint8_t *buf = malloc(CERT_READ_MAX);
    struct cert_pair p = {0};
    int rc = buf ? read(ctx, buf, CERT_READ_MAX, &p) : -1;
    if (buf) {
        memset(buf, 0, CERT_READ_MAX);
        free(buf);
    }
    if (rc != 0 || !p.cert_len || !p.key_len) {
        cs->mic_read = NULL;
        return -1;
    }
    cs->mic_cert_len = p.cert_len;
    cs->mic_key_len = p.key_len;
    return 0;
}

int cert_store_install_lsc(struct cert_store *cs, const uint8_t *cert, size_t cert_len,
                           const uint8_t *key, size_t key_len)
{
    /* The blob (cert_store_encode's format) goes to flash in its three
     * pieces through the atomic writer: no RAM copy of it. */
    uint8_t head[BLOB_HEADER];
    if (!cert_store_encode_header(head, cert_len, key_len))
        return -1;
    struct storage_writer w;
    enum storage_status s = storage_write_begin(&w, cs->st, CERT_AREA_LSC);
    if (s == STORAGE_OK)
        s = storage_write_chunk(&w, head, sizeof head);
    if (s == STORAGE_OK)
        s = storage_write_chunk(&w, cert, cert_len);
    if (s == STORAGE_OK)
        s = storage_write_chunk(&w, key, key_len);
    if (s == STORAGE_OK)
        s = storage_write_commit(&w);
    cert_store_load(cs, cs->st); /* what is stored now, whatever happened */
    return s == STORAGE_OK && cs->lsc_cert_len == cert_len && cs->lsc_key_len == key_len ? 0
                                                                                         : -1;
}

int cert_store_delete_lsc(struct cert_store *cs)
{
    enum storage_status s = storage_erase(cs->st, CERT_AREA_LSC);
    cert_store_load(cs, cs->st);
    return (s == STORAGE_OK || s == STORAGE_NOT_FOUND) && !cs->lsc_cert_len ? 0 : -1;
}

int cert_store_has_lsc(const struct cert_store *cs)
{
    return cs->lsc_cert_len != 0;
}

int cert_store_has_mic(const struct cert_store *cs)
{
    return cs->mic_cert_len != 0;
}

/* Bytes cert_store_read needs for `which` (0: not installed). */
static size_t read_size(const struct cert_store *cs, enum cert_which which)
{
    if (which == CERT_LSC)
        return cs->lsc_cert_len ? BLOB_HEADER + cs->lsc_cert_len + cs->lsc_key_len : 0;
    if (!cs->mic_cert_len)
        return 0;
    return cs->mic_read ? cs->mic_cert_len + cs->mic_key_len : 1;
}

int cert_store_read(const struct cert_store *cs, enum cert_which which, uint8_t *buf, size_t cap,
                    struct cert_pair *out)
{
    *out = (struct cert_pair){0};
    size_t need = read_size(cs, which);
    if (!need || cap < need)
        return -1;
    struct cert_pair p = {0};
    if (which == CERT_LSC) {
        if (read_lsc_blob(cs->st, buf, cap, &p) != STORAGE_OK)
            return -1;
    } else if (cs->mic_read) {
        if (cs->mic_read(cs->mic_ctx, buf, cap, &p) != 0)
            return -1;
    } else {
        p = cs->mic_ram;
    }
    /* What was checked at load must still be what is there. */
    int lsc = which == CERT_LSC;
    if (p.cert_len != (lsc ? cs->lsc_cert_len : cs->mic_cert_len) ||
        p.key_len != (lsc ? cs->lsc_key_len : cs->mic_key_len))
        return -1;
    *out = p;
    return 0;
}

/* B8: the LSC if installed, else the MIC; NULL when the phone has none. */
static const char *in_use_name(const struct cert_store *cs)
{
    return cs->lsc_cert_len ? "LSC" : cs->mic_cert_len ? "MIC" : NULL;
}

const char *cert_store_in_use(const struct cert_store *cs, const char *purpose)
{
    const char *name = in_use_name(cs);
    if (!name)
        NOT("SECD", "-PXY_NO_CERT: No LSC and no MIC for [%s]", purpose);
    else if (cs->lsc_cert_len)
        NOT("SECD", "-PXY_CERT: [%s], cert [LSC]", purpose);
    else
        WRN("SECD", "-PXY_NO_LSC: No LSC for [%s], will try MIC", purpose);
    return name;
}

/* One pair into a heap block of its own size (out->mem). */
static int take_pair(const struct cert_store *cs, enum cert_which which, struct cert_pair *out)
{
    *out = (struct cert_pair){0};
    if (which == CERT_MIC && cs->mic_cert_len && !cs->mic_read) {
        *out = cs->mic_ram; /* already in RAM: no copy (mem stays NULL) */
        return 0;
    }
    size_t need = read_size(cs, which);
    uint8_t *mem = need ? malloc(need) : NULL;
    if (!mem)
        return -1;
    if (cert_store_read(cs, which, mem, need, out) != 0) {
        memset(mem, 0, need);
        free(mem);
        return -1;
    }
    out->mem = mem;
    return 0;
}

const char *cert_store_take(const struct cert_store *cs, const char *purpose,
                            struct cert_pair *out)
{
    const char *name = purpose ? cert_store_in_use(cs, purpose) : in_use_name(cs);
    *out = (struct cert_pair){0};
    if (!name)
        return NULL;
    if (take_pair(cs, cs->lsc_cert_len ? CERT_LSC : CERT_MIC, out) != 0) {
        ERR("SECD", "EROR:the %s for [%s] cannot be read from flash (or no memory)", name,
            purpose ? purpose : "CONFIG");
        return NULL;
    }
    return name;
}

void cert_pair_free(struct cert_pair *p)
{
    if (p->mem) {
        /* The block ends with the key: wipe from the start to its end. */
        memset(p->mem, 0, (size_t)(p->key + p->key_len - p->mem));
        free(p->mem);
    }
    *p = (struct cert_pair){0};
}

/* ---- show cert ------------------------------------------------------ */

static void print_date(char *buf, size_t cap, const char *label, const byte *date, int len)
{
    const byte *d;
    byte format;
    int dlen;
    if (!date || wc_GetDateInfo(date, len, &d, &format, &dlen) != 0 || dlen > 20)
        snprintf(buf, cap, "  %s: ?", label);
    else
        snprintf(buf, cap, "  %s: %.*s", label, dlen, (const char *)d);
}

static void describe_pair(const struct cert_pair *p, void (*line)(void *, const char *),
                          void *ctx)
{
    char buf[320], hex[2 * 20 + 1];
    DecodedCert *dc = malloc(sizeof *dc); /* large: on the heap while printing */
    if (!dc) {
        line(ctx, "  (out of memory)");
        return;
    }
    wc_InitDecodedCert(dc, p->cert, (word32)p->cert_len, NULL);
    if (wc_ParseCert(dc, CERT_TYPE, NO_VERIFY, NULL) == 0) {
        snprintf(buf, sizeof buf, "  subject: %.280s", dc->subject);
        line(ctx, buf);
        snprintf(buf, sizeof buf, "  issuer: %.280s", dc->issuer);
        line(ctx, buf);
        int sl = dc->serialSz > 0 && dc->serialSz <= 20 ? dc->serialSz : 0;
        secd_hex(dc->serial, (size_t)sl, hex);
        snprintf(buf, sizeof buf, "  serial: %s", hex);
        line(ctx, buf);
        print_date(buf, sizeof buf, "not before", dc->beforeDate, dc->beforeDateLen);
        line(ctx, buf);
        print_date(buf, sizeof buf, "not after", dc->afterDate, dc->afterDateLen);
        line(ctx, buf);
    } else {
        line(ctx, "  (certificate does not parse)");
    }
    wc_FreeDecodedCert(dc);
    free(dc);
    uint8_t md[20];
    secd_md5(p->cert, p->cert_len, md);
    secd_hex(md, 16, hex);
    snprintf(buf, sizeof buf, "  MD5: %s", hex);
    line(ctx, buf);
    wc_ShaHash(p->cert, (word32)p->cert_len, md);
    secd_hex(md, 20, hex);
    snprintf(buf, sizeof buf, "  SHA-1: %s", hex);
    line(ctx, buf);
}

static void describe_one(const char *kind, const struct cert_store *cs, enum cert_which which,
                         void (*line)(void *, const char *), void *ctx)
{
    char buf[64];
    size_t len = which == CERT_LSC ? cs->lsc_cert_len : cs->mic_cert_len;
    if (!len) {
        snprintf(buf, sizeof buf, "%s: not installed", kind);
        line(ctx, buf);
        return;
    }
    snprintf(buf, sizeof buf, "%s: installed, %u bytes", kind, (unsigned)len);
    line(ctx, buf);
    struct cert_pair p;
    if (take_pair(cs, which, &p) != 0) {
        line(ctx, "  (cannot be read from flash, or out of memory)");
        return;
    }
    describe_pair(&p, line, ctx);
    cert_pair_free(&p);
}

void cert_store_describe(const struct cert_store *cs, void (*line)(void *, const char *),
                         void *ctx)
{
    char buf[96];
    const char *name = in_use_name(cs);
    snprintf(buf, sizeof buf, "certificate in use: %s", name ? name : "none");
    line(ctx, buf);
    describe_one("MIC", cs, CERT_MIC, line, ctx);
    describe_one("LSC", cs, CERT_LSC, line, ctx);
    if (cs->lsc_status != STORAGE_OK && cs->lsc_status != STORAGE_NOT_FOUND) {
        snprintf(buf, sizeof buf, "LSC storage: %s", storage_status_str(cs->lsc_status));
        line(ctx, buf);
    }
}
