#include "boot.h"

#include <stdarg.h>
#include <stdio.h>
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
        return b->request;
    case BOOT_ENC_CONFIG:
        snprintf(b->request, sizeof b->request, "SEP%s.cnf.xml.enc.sgn", mac);
        break;
    case BOOT_DONE:
        return NULL;
    }
    NOT("SECD", "tlRequestFile: Request %s", b->request);
    return b->request;
}

/* Installs a downloaded CTL or ITL if the trust state allows it (B2). */
static void take_trust_list(struct boot *b, enum secd_kind kind, const uint8_t *data, size_t len)
{
    const char *what = kind == SECD_KIND_CTL ? "CTL" : "ITL";
    struct secd_decision d;
    enum secd_err e = secd_check_file(&b->ts->trust, kind, data, len, b->request, &d);
    if (e != SECD_OK) {
        ERR("SECD", "EROR:verifyFile: %s %s refused: %s - Trust List verification failed",
            what, b->request, secd_err_reason(e));
        b->trust_list_failed = 1;
        return;
    }
    const struct trust_list_slot *slot = kind == SECD_KIND_CTL ? &b->ts->ctl : &b->ts->itl;
    uint8_t md5[16];
    char hex[33];
    secd_md5(data, len, md5);
    secd_hex(md5, sizeof md5, hex);
    if (slot->present && slot->len == len && memcmp(slot->md5, md5, 16) == 0) {
        NOT("SECD", "verifyFile: verify SUCCESS <%s> (%s unchanged, MD5 %s)", b->request, what,
            hex);
        return;
    }
    e = trust_store_install(b->ts, kind, data, len);
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

static void parse_config(struct boot *b, const uint8_t *xml, size_t len)
{
    char err[96];
    if (config_parse_buffer(b->cfg, xml, len, b->p.hash_salt, err, sizeof err) != CONFIG_OK) {
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
    if (!b->p.cert_der || config_cert_hash_bytes(b->cfg, want) != 0)
        return 0;
    secd_md5(b->p.cert_der, b->p.cert_len, have);
    return memcmp(want, have, 16) == 0;
}

static void take_config(struct boot *b, const uint8_t *data, size_t len)
{
    int is_signed = holds_trust_list(b);
    if (!is_signed) {
        enum secd_err e = secd_check_unsigned_config(&b->ts->trust);
        if (e != SECD_OK) {
            fail(b, "unsigned config refused: %s", secd_err_reason(e));
            return;
        }
        parse_config(b, data, len);
    } else {
        struct secd_decision d;
        enum secd_err e = secd_check_file(&b->ts->trust, SECD_KIND_SIGNED, data, len, b->request,
                                          &d);
        if (e != SECD_OK) {
            ERR("SECD", "EROR:verifyFile: %s refused: %s", b->request, secd_err_reason(e));
            fail(b, "signed config refused: %s", secd_err_reason(e));
            return;
        }
        NOT("SECD", "verifyFile: verify SUCCESS </usr/ram/SEP%s.cnf.xml> (signer anchor: %s)",
            b->p.mac, secd_anchor_name(d.anchor));
        parse_config(b, data + d.hdr.header_len, len - d.hdr.header_len);
    }
    if (b->outcome == BOOT_FAILED)
        return;
    if (b->cfg->encr_config && !b->cfg->full_config) {
        NOT("SECD", "partial config: encrConfig true, certHash %s",
            b->cfg->cert_hash[0] ? b->cfg->cert_hash : "(empty)");
        if (!cert_hash_matches(b)) {
            fail(b, "%s", b->p.cert_der ? "certHash does not match the certificate in use: "
                                          "CAPF enrollment needed (no CAPF client in this build)"
                                        : "no device certificate for the encrypted config");
            return;
        }
        b->phase = BOOT_ENC_CONFIG;
        return;
    }
    b->outcome = BOOT_CONFIG_ACCEPTED;
    b->phase = BOOT_DONE;
}

static int plain_sink(void *ctx, const uint8_t *p, size_t n)
{
    struct config_parser *cp = ctx;
    return config_parse_chunk(cp, p, n) == CONFIG_OK ? 0 : -1;
}

/* .enc.sgn (B6): verify like any signed file, then decrypt straight into
 * the streaming XML parser; the settings count only if every check passed. */
static void take_enc_config(struct boot *b, const uint8_t *data, size_t len)
{
    struct secd_decision d;
    enum secd_err e = secd_check_file(&b->ts->trust, SECD_KIND_SIGNED, data, len, b->request, &d);
    if (e != SECD_OK) {
        fail(b, "encrypted config refused: %s", secd_err_reason(e));
        return;
    }
    NOT("SECD", "verifyFile: verify SUCCESS <%s>", b->request);
    static struct secd_decrypt dec;
    static struct config_parser cp;
    if (config_parse_begin(&cp, b->cfg, b->p.hash_salt) != CONFIG_OK) {
        fail(b, "encrypted config refused: %s", "XML parser busy");
        return;
    }
    e = secd_decrypt_begin(&dec, &d.hdr, b->p.key_der, b->p.key_len);
    if (e == SECD_OK)
        e = secd_decrypt_update(&dec, data + d.hdr.header_len, len - d.hdr.header_len,
                                plain_sink, &cp);
    if (e == SECD_OK)
        e = secd_decrypt_final(&dec, plain_sink, &cp);
    char err[96] = "";
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
        (unsigned)(len - d.hdr.header_len));
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
        take_trust_list(b, b->phase == BOOT_CTL_PER_PHONE ? SECD_KIND_CTL : SECD_KIND_ITL, data,
                        len);
        next_trust_phase(b);
        return;
    case BOOT_CTL_GENERIC:
    case BOOT_ITL_GENERIC:
        if (st == FETCH_NOT_FOUND)
            NOT("SECD", "tlRequestFile: no %s on the server", b->phase == BOOT_CTL_GENERIC ? "CTL"
                                                                                          : "ITL");
        else
            take_trust_list(b, b->phase == BOOT_CTL_GENERIC ? SECD_KIND_CTL : SECD_KIND_ITL,
                            data, len);
        next_trust_phase(b);
        return;
    case BOOT_CONFIG:
        if (st == FETCH_NOT_FOUND) {
            fail(b, "config %s not found on the server", b->request);
            return;
        }
        take_config(b, data, len);
        return;
    case BOOT_ENC_CONFIG:
        if (st == FETCH_NOT_FOUND) {
            fail(b, "encrypted config %s not found on the server", b->request);
            return;
        }
        take_enc_config(b, data, len);
        return;
    case BOOT_DONE:
        return;
    }
}
