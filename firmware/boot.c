#include "boot.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

void boot_init(struct boot *b, const struct boot_params *p, struct trust_store *ts,
               struct phone_config *cfg)
{
    memset(b, 0, sizeof *b);
    b->p = *p;
    b->ts = ts;
    b->cfg = cfg;
    b->phase = BOOT_CTL_PER_PHONE;
    b->outcome = BOOT_RUNNING;
    memset(cfg, 0, sizeof *cfg);
}

__attribute__((format(printf, 2, 3))) static void fail(struct boot *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->failure, sizeof b->failure, fmt, ap);
    va_end(ap);
    ERR("SECD", "%s", b->failure);
    b->outcome = BOOT_FAILED;
    b->phase = BOOT_DONE;
}

static int holds_trust_list(const struct boot *b)
{
    return !secd_trust_is_blind(&b->ts->trust);
}

const char *boot_next(struct boot *b)
{
    const char *mac = b->p.mac;
    switch (b->phase) {
    case BOOT_CTL_PER_PHONE:
        snprintf(b->request, sizeof b->request, "CTLSEP%s.tlv", mac);
        break;
    case BOOT_CTL_GENERIC:
        snprintf(b->request, sizeof b->request, "CTLFile.tlv");
        break;
    case BOOT_ITL_PER_PHONE:
        snprintf(b->request, sizeof b->request, "ITLSEP%s.tlv", mac);
        break;
    case BOOT_ITL_GENERIC:
        snprintf(b->request, sizeof b->request, "ITLFile.tlv");
        break;
    case BOOT_CONFIG:
        if (holds_trust_list(b)) {
            snprintf(b->request, sizeof b->request, "SEP%s.cnf.xml.sgn", mac);
            NOT("tftpClient", "authenticated file approved - add .sgn -- %s", b->request);
        } else {
            snprintf(b->request, sizeof b->request, "SEP%s.cnf.xml", mac);
        }
        boot_data_restart(b);
        return b->request;
    case BOOT_ENC_CONFIG:
        snprintf(b->request, sizeof b->request, "SEP%s.cnf.xml.enc.sgn", mac);
        break;
    case BOOT_DONE:
        return NULL;
    }
    NOT("SECD", "tlRequestFile: Request %s", b->request);
    boot_data_restart(b);
    return b->request;
}

static int in_config_phase(const struct boot *b)
{
    return b->phase == BOOT_CONFIG || b->phase == BOOT_ENC_CONFIG;
}

void boot_data_restart(struct boot *b)
{
    b->received = 0;
    b->sink_failed = 0;
    secd_stream_begin(&b->stream);
    enum storage_status s = storage_write_begin(&b->stage, b->ts->st, BOOT_STAGING_AREA);
    if (s != STORAGE_OK) {
        ERR("SECD", "EROR:staging area for %s unusable: %s", b->request, storage_status_str(s));
        b->sink_failed = 1;
    }
}

int boot_data(struct boot *b, uint32_t offset, const uint8_t *p, size_t n)
{
    if (b->sink_failed || offset != b->received) {
        b->sink_failed = 1;
        return -1;
    }
    b->received += (uint32_t)n;
    if (!in_config_phase(b) && b->received > TRUST_LIST_MAX) {
        b->sink_failed = 1; /* over the trust store's size: refused at the end */
        return -1;
    }
    /* Every byte goes through the signature hash and on to flash; nothing
     * is parsed (a config) or installed (a trust list) before the signature
     * verified. */
    if (secd_stream_update(&b->stream, p, n) == SECD_ERR_TOO_LARGE ||
        storage_write_chunk(&b->stage, p, n) != STORAGE_OK) {
        b->sink_failed = 1;
        return -1;
    }
    return 0;
}

/* Reads the staged file back from `from` on, in pieces, into consume(). */
static int read_staged(struct boot *b, uint32_t from, int (*consume)(void *, const uint8_t *, size_t),
                       void *ctx)
{
    size_t len;
    uint32_t off;
    uint8_t chunk[512];
    if (storage_stat(b->ts->st, BOOT_STAGING_AREA, &len, &off) != STORAGE_OK || len != b->received)
        return -1;
    for (uint32_t pos = from; pos < len; pos += sizeof chunk) {
        size_t n = len - pos < sizeof chunk ? len - pos : sizeof chunk;
        if (storage_read_at(b->ts->st, off, pos, chunk, n) != STORAGE_OK)
            return -1;
        if (consume(ctx, chunk, n) != 0)
            return -2;
    }
    return 0;
}

/* Closes the staged download; returns 0 when it is complete in flash. */
static int commit_staged(struct boot *b)
{
    if (b->sink_failed) {
        fail(b, "%s could not be staged in flash", b->request);
        return -1;
    }
    enum storage_status s = storage_write_commit(&b->stage);
    if (s != STORAGE_OK) {
        fail(b, "staging %s failed: %s", b->request, storage_status_str(s));
        return -1;
    }
    return 0;
}

/* secd's reader of the staged download (a trust list being checked). */
static int read_staged_tl(void *ctx, uint32_t off, uint8_t *buf, size_t n)
{
    const struct boot *b = ctx;
    if (off > b->received || n > b->received - off)
        return -1;
    return trust_store_read_at(b->ts, b->staged_off, off, buf, n);
}

/* Installs a downloaded CTL or ITL if the trust state allows it (B2). It
 * streamed through the signature hash into the staging area; secd walks
 * its records from there, one at a time, through the trust store's one
 * record buffer (the installed lists are walked through it too: secd never
 * needs a record of each at once), and an accepted list is copied from
 * staging into its own area (atomic replace). */
static void take_trust_list(struct boot *b, enum secd_kind kind)
{
    size_t len = b->received;
    const char *what = kind == SECD_KIND_CTL ? "CTL" : "ITL";
    size_t staged_len = 0;
    if (b->sink_failed || storage_write_commit(&b->stage) != STORAGE_OK ||
        storage_stat(b->ts->st, BOOT_STAGING_AREA, &staged_len, &b->staged_off) != STORAGE_OK ||
        staged_len != len) {
        ERR("SECD", "EROR:verifyFile: %s %s refused: %s - Trust List verification failed",
            what, b->request,
            len > TRUST_LIST_MAX ? secd_err_reason(SECD_ERR_TOO_LARGE)
                                 : "could not be staged in flash");
        b->trust_list_failed = 1;
        return;
    }
    struct secd_tl_source src = {b, read_staged_tl, b->ts->buf, sizeof b->ts->buf};
    struct secd_decision d;
    enum secd_err e =
        secd_stream_finish_tl(&b->stream, &b->ts->trust, kind, &src, b->request, &d);
    if (e != SECD_OK) {
        ERR("SECD", "EROR:verifyFile: %s %s refused: %s - Trust List verification failed",
            what, b->request, secd_err_reason(e));
        if (e == SECD_ERR_OLDER_THAN_INSTALLED) {
            const struct secd_tl *cur = kind == SECD_KIND_CTL ? b->ts->trust.ctl
                                                              : b->ts->trust.itl;
            ERR("SECD", "EROR:%s %s is a replay: header timestamp %s%lu older than the installed "
                "%s's %lu (docs/security.md)", what, b->request,
                d.hdr.has_timestamp ? "" : "missing, counts as ",
                d.hdr.has_timestamp ? (unsigned long)d.hdr.timestamp : 0ul, what,
                cur ? (unsigned long)cur->hdr.timestamp : 0ul);
        }
        b->trust_list_failed = 1;
        return;
    }
    const struct trust_list_slot *slot = kind == SECD_KIND_CTL ? &b->ts->ctl : &b->ts->itl;
    uint8_t md5[16];
    char hex[33];
    if (trust_store_md5_at(b->ts, b->staged_off, len, md5) != 0) {
        ERR("SECD", "EROR:%s %s not installed: %s (previous list kept)", what, b->request,
            "staged copy unreadable");
        b->trust_list_failed = 1;
        return;
    }
    secd_hex(md5, sizeof md5, hex);
    if (slot->present && slot->len == len && memcmp(slot->md5, md5, 16) == 0) {
        NOT("SECD", "verifyFile: verify SUCCESS <%s> (%s unchanged, MD5 %s)", b->request, what,
            hex);
        return;
    }
    e = trust_store_install_staged(b->ts, kind, b->staged_off, len);
    if (e != SECD_OK) {
        ERR("SECD", "EROR:%s %s not installed: %s (previous list kept)", what, b->request,
            secd_err_reason(e));
        b->trust_list_failed = 1;
        return;
    }
    NOT("SECD", "verifyFile: verify SUCCESS <%s>", b->request);
    NOT("SECD", "%s installed (anchor: %s%s), MD5 %s", what, secd_anchor_name(d.anchor),
        d.rollback ? ", rollback ITL: signatures no longer required" : "", hex);
}

static int xml_sink(void *ctx, const uint8_t *p, size_t n)
{
    return config_parse_chunk(ctx, p, n) == CONFIG_OK ? 0 : -1;
}

/* The streaming parser's state (one parse at a time: config.h). */
static struct config_parser cp;

/* Parses the staged config body (from `from`) with the streaming parser. */
static void parse_staged_config(struct boot *b, uint32_t from)
{
    char err[96] = "";
    if (config_parse_begin(&cp, b->cfg, b->p.hash_salt) != CONFIG_OK) {
        fail(b, "config refused: %s", "XML parser busy");
        return;
    }
    int rd = read_staged(b, from, xml_sink, &cp);
    int xml = config_parse_end(&cp, err, sizeof err);
    if (rd == -1) {
        fail(b, "config refused: %s", "staged copy unreadable");
        return;
    }
    if (xml != CONFIG_OK) {
        fail(b, "config refused: malformed XML (%s)", err);
        return;
    }
    NOT("SECD", "config parsed: load %s, %u TVS, %u CAPF", b->cfg->load_information,
        b->cfg->tvs_count, b->cfg->capf_count);
}

/* certHash (B6): the MD5 of the certificate in use, lower-case hex. */
static int cert_hash_matches(const struct boot *b)
{
    uint8_t want[16], have[16];
    struct cert_pair in_use = {0};
    /* The config's certHash first: without one, nothing is read from flash. */
    if (!b->p.certs || config_cert_hash_bytes(b->cfg, want) != 0 ||
        !cert_store_take(b->p.certs, NULL, &in_use))
        return 0;
    secd_md5(in_use.cert, in_use.cert_len, have);
    cert_pair_free(&in_use);
    return memcmp(want, have, 16) == 0;
}

static int has_certificate(const struct boot *b)
{
    return b->p.certs && (cert_store_has_lsc(b->p.certs) || cert_store_has_mic(b->p.certs));
}

/* B6 step 2: the config was encrypted for another certificate (or none):
 * enrol through CAPF, then ask for the config again — a bounded number of
 * times. */
static void enroll(struct boot *b)
{
    const char *have = has_certificate(b) ? "does not match the certificate in use"
                                     : "cannot match: the phone has no certificate";
    if (!b->p.enroll) {
        fail(b, "certHash %s and this board has no CAPF client", have);
        return;
    }
    if (b->enroll_rounds >= BOOT_MAX_ENROLL_ROUNDS) {
        fail(b, "certHash still does not match after %d CAPF enrolments", b->enroll_rounds);
        return;
    }
    b->enroll_rounds++;
    NOT("SECD", "certHash %s: starting CAPF (round %d of %d)", have, b->enroll_rounds,
        BOOT_MAX_ENROLL_ROUNDS);
    struct boot_enroll_report r = {"", 0};
    const char *why = r.why;
    switch (b->p.enroll(b->p.enroll_ctx, &b->p, &r)) {
    case BOOT_ENROLLED:
        NOT("SECD", "CAPF enrolment done: requesting the config again");
        b->phase = BOOT_CONFIG;
        return;
    case BOOT_ENROLL_WAITING:
        b->waiting_auth_string = 1;
        fail(b, "CAPF waits for the authentication string: type 'capf auth-string DIGITS'%s",
             why[0] ? why : "");
        return;
    case BOOT_ENROLL_FAILED:
        b->server_retry_s = r.retry_after_s;
        fail(b, "CAPF enrolment failed: %s", why[0] ? why : "no reason given");
        return;
    }
}

static void take_config(struct boot *b)
{
    if (commit_staged(b) != 0)
        return;
    if (!holds_trust_list(b)) {
        enum secd_err e = secd_check_unsigned_config(&b->ts->trust);
        if (e != SECD_OK) {
            fail(b, "unsigned config refused: %s", secd_err_reason(e));
            return;
        }
        parse_staged_config(b, 0);
    } else {
        struct secd_decision d;
        enum secd_err e = secd_stream_finish(&b->stream, &b->ts->trust, b->request, &d);
        if (e != SECD_OK) {
            ERR("SECD", "EROR:verifyFile: %s refused: %s", b->request, secd_err_reason(e));
            fail(b, "signed config refused: %s", secd_err_reason(e));
            return;
        }
        NOT("SECD", "verifyFile: verify SUCCESS </usr/ram/SEP%s.cnf.xml> (signer anchor: %s)",
            b->p.mac, secd_anchor_name(d.anchor));
        parse_staged_config(b, d.hdr.header_len);
    }
    if (b->outcome == BOOT_FAILED)
        return;
    if (b->cfg->encr_config && !b->cfg->full_config) {
        NOT("SECD", "partial config: encrConfig true, certHash %s",
            b->cfg->cert_hash[0] ? b->cfg->cert_hash : "(empty)");
        if (!cert_hash_matches(b)) {
            enroll(b);
            return;
        }
        b->phase = BOOT_ENC_CONFIG;
        return;
    }
    b->outcome = BOOT_CONFIG_ACCEPTED;
    b->phase = BOOT_DONE;
}

struct decrypt_pipe {
    struct secd_decrypt *dec;
    struct config_parser *cp;
    enum secd_err err;
};

static int decrypt_piece(void *ctx, const uint8_t *p, size_t n)
{
    struct decrypt_pipe *pipe = ctx;
    pipe->err = secd_decrypt_update(pipe->dec, p, n, xml_sink, pipe->cp);
    return pipe->err == SECD_OK ? 0 : -1;
}

/* .enc.sgn (B6): verified as it downloaded, then read back from flash,
 * decrypted block by block straight into the streaming XML parser; the
 * settings count only if every check passed. */
static void take_enc_config(struct boot *b)
{
    if (commit_staged(b) != 0)
        return;
    struct secd_decision d;
    enum secd_err e = secd_stream_finish(&b->stream, &b->ts->trust, b->request, &d);
    if (e != SECD_OK) {
        fail(b, "encrypted config refused: %s", secd_err_reason(e));
        return;
    }
    NOT("SECD", "verifyFile: verify SUCCESS <%s>", b->request);
    if (config_parse_begin(&cp, b->cfg, b->p.hash_salt) != CONFIG_OK) {
        fail(b, "encrypted config refused: %s", "XML parser busy");
        return;
    }
    char err[96] = "";
    /* The decryption state only for this step (heap, not a static). */
    struct secd_decrypt *dec = malloc(sizeof *dec);
    if (!dec) {
        config_parse_end(&cp, err, sizeof err);
        fail(b, "encrypted config refused: %s", "out of memory");
        return;
    }
    struct decrypt_pipe pipe = {dec, &cp, SECD_OK};
    /* The key, read from flash for the unwrap only (certHash matched it). */
    struct cert_pair in_use = {0};
    if (!b->p.certs || !cert_store_take(b->p.certs, NULL, &in_use))
        e = SECD_ERR_CRYPTO;
    else
        e = secd_decrypt_begin(dec, &d.hdr, in_use.key, in_use.key_len);
    cert_pair_free(&in_use);
    if (e == SECD_OK) {
        int rd = read_staged(b, d.hdr.header_len, decrypt_piece, &pipe);
        e = rd == -1 ? SECD_ERR_CRYPTO : pipe.err;
    }
    if (e == SECD_OK)
        e = secd_decrypt_final(dec, xml_sink, &cp);
    memset(dec, 0, sizeof *dec); /* key material */
    free(dec);
    int xml = config_parse_end(&cp, err, sizeof err);
    if (e != SECD_OK) {
        memset(b->cfg, 0, sizeof *b->cfg);
        fail(b, "encrypted config refused: %s", secd_err_reason(e));
        return;
    }
    if (xml != CONFIG_OK) {
        fail(b, "decrypted config refused: malformed XML (%s)", err);
        return;
    }
    NOT("SECD", "encrypted config decrypted and verified (%u bytes)",
        (unsigned)(b->received - d.hdr.header_len));
    b->outcome = BOOT_CONFIG_ACCEPTED;
    b->phase = BOOT_DONE;
}

static void next_trust_phase(struct boot *b)
{
    b->phase = b->phase < BOOT_ITL_PER_PHONE ? BOOT_ITL_PER_PHONE : BOOT_CONFIG;
}

void boot_on_file(struct boot *b, enum fetch_status st, const char *why, const uint8_t *data,
                  size_t len)
{
    if (b->phase == BOOT_DONE)
        return;
    if (st == FETCH_OK && data != NULL) {
        boot_data_restart(b);
        boot_data(b, 0, data, len);
    }
    if (st == FETCH_FAILED) {
        fail(b, "%s", why ? why : "download failed");
        return;
    }
    if (st == FETCH_TOO_LARGE) {
        ERR("SECD", "EROR:%s refused: larger than the download limit", b->request);
        if (b->phase >= BOOT_CONFIG) {
            fail(b, "config %s", "too large");
            return;
        }
        b->trust_list_failed = 1;
        next_trust_phase(b);
        return;
    }
    switch (b->phase) {
    case BOOT_CTL_PER_PHONE:
    case BOOT_ITL_PER_PHONE:
        if (st == FETCH_NOT_FOUND) {
            NOT("SECD", "tlRequestFile: %s not found, trying the cluster file", b->request);
            b->phase++;
            return;
        }
        take_trust_list(b, b->phase == BOOT_CTL_PER_PHONE ? SECD_KIND_CTL : SECD_KIND_ITL);
        next_trust_phase(b);
        return;
    case BOOT_CTL_GENERIC:
    case BOOT_ITL_GENERIC:
        if (st == FETCH_NOT_FOUND)
            NOT("SECD", "tlRequestFile: no %s on the server", b->phase == BOOT_CTL_GENERIC ? "CTL"
                                                                                          : "ITL");
        else
            take_trust_list(b, b->phase == BOOT_CTL_GENERIC ? SECD_KIND_CTL : SECD_KIND_ITL);
        next_trust_phase(b);
        return;
    case BOOT_CONFIG:
        if (st == FETCH_NOT_FOUND) {
            fail(b, "config %s not found on the server", b->request);
            return;
        }
        take_config(b);
        return;
    case BOOT_ENC_CONFIG:
        if (st == FETCH_NOT_FOUND) {
            fail(b, "encrypted config %s not found on the server", b->request);
            return;
        }
        take_enc_config(b);
        return;
    case BOOT_DONE:
        return;
    }
}
