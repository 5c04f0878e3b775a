/* CAPF client protocol: codec and session state machine (see capf.h). */
#include "secd/capf.h"

#include <string.h>

/* ---- names ---------------------------------------------------------- */

const char *capf_err_str(enum capf_err e)
{
    switch (e) {
    case CAPF_OK: return "ok";
    case CAPF_ERR_TRUNCATED: return "truncated message";
    case CAPF_ERR_PROTOCOL_ID: return "not a CAPF message (protocol id)";
    case CAPF_ERR_TOO_LARGE: return "message body too large";
    case CAPF_ERR_ELEMENT_OVERRUN: return "element runs past the message body";
    case CAPF_ERR_DUPLICATE: return "element given twice";
    case CAPF_ERR_BAD_VALUE: return "element of the wrong size or value";
    case CAPF_ERR_NO_SPACE: return "buffer too small";
    case CAPF_ERR_CRYPTO: return "crypto failure";
    case CAPF_ERR_UNSUPPORTED: return "unsupported";
    }
    return "?";
}

const char *capf_command_name(int cmd)
{
    static const char *const names[] = {
        [CAPF_AUTH_REQUEST] = "auth request",
        [CAPF_AUTH_RESPONSE] = "auth response",
        [CAPF_KEYGEN_REQUEST] = "key generate request",
        [CAPF_KEYGEN_RESPONSE] = "key generate response",
        [CAPF_STORE_CERT_REQUEST] = "store certificate request",
        [CAPF_STORE_CERT_RESPONSE] = "store certificate response",
        [CAPF_FETCH_CERT_REQUEST] = "fetch certificate request",
        [CAPF_FETCH_CERT_RESPONSE] = "fetch certificate response",
        [CAPF_DELETE_CERT_REQUEST] = "delete certificate request",
        [CAPF_DELETE_CERT_RESPONSE] = "delete certificate response",
        [CAPF_END_SESSION] = "end session",
        [CAPF_RETRY_LATER] = "retry later",
        [CAPF_REQUEST_IN_PROGRESS] = "request in progress",
        [CAPF_STATUS_REQUEST] = "status request",
        [CAPF_STATUS_RESPONSE] = "status response",
        [CAPF_ABORT_REQUEST] = "abort request",
        [CAPF_ABORT_RESPONSE] = "abort response",
        [CAPF_SIGN_CERT_REQUEST] = "sign certificate request",
        [CAPF_SIGN_CERT_RESPONSE] = "sign certificate response",
    };
    if (cmd >= 0 && (size_t)cmd < sizeof names / sizeof names[0] && names[cmd])
        return names[cmd];
    return "unknown command";
}

const char *capf_auth_type_name(int auth)
{
    switch (auth) {
    case CAPF_AUTH_NONE: return "none";
    case CAPF_AUTH_PASSWORD: return "by authentication string";
    case CAPF_AUTH_NULL_STRING: return "by null string";
    case CAPF_AUTH_LSC_THEN_MIC: return "by existing certificate (precedence to LSC)";
    case CAPF_AUTH_MIC: return "by existing certificate (precedence to MIC)";
    }
    return "unknown";
}

const char *capf_reason_name(int reason)
{
    switch (reason) {
    case -1: return "no reason given";
    case CAPF_REASON_NO_ACTION: return "no action";
    case CAPF_REASON_OK: return "success";
    case CAPF_REASON_INVALID: return "invalid element / refused";
    case CAPF_REASON_UNKNOWN_DEVICE: return "unknown device";
    }
    return "unknown reason";
}

const char *capf_outcome_name(enum capf_outcome o)
{
    switch (o) {
    case CAPF_OUT_NONE: return "running";
    case CAPF_OUT_INSTALLED: return "LSC installed";
    case CAPF_OUT_FETCHED: return "LSC fetched";
    case CAPF_OUT_DELETED: return "LSC deleted";
    case CAPF_OUT_NOTHING_TO_DO: return "nothing to do";
    case CAPF_OUT_ABORTED: return "aborted by the server";
    case CAPF_OUT_RETRY_LATER: return "retry later";
    case CAPF_OUT_REFUSED: return "refused by the server";
    case CAPF_OUT_FAILED: return "failed";
    case CAPF_OUT_CONNECTION_LOST: return "connection lost";
    }
    return "?";
}

/* ---- codec ---------------------------------------------------------- */

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

enum capf_err capf_parse_header(const uint8_t *p, size_t n, struct capf_header *h)
{
    if (n < 1)
        return CAPF_ERR_TRUNCATED;
    if (p[0] != CAPF_PROTOCOL_ID)
        return CAPF_ERR_PROTOCOL_ID;
    if (n < CAPF_HEADER_LEN)
        return CAPF_ERR_TRUNCATED;
    h->command = p[1];
    h->session_id = get32(p + 2);
    h->body_len = get16(p + 6);
    return h->body_len > CAPF_MAX_BODY ? CAPF_ERR_TOO_LARGE : CAPF_OK;
}

/* Required value size of a known element; 0 = variable. */
static size_t fixed_size(uint8_t tag)
{
    switch (tag) {
    case CAPF_EL_REASON:
    case CAPF_EL_CERT_TYPE:
    case CAPF_EL_VERSION:
    case CAPF_EL_AUTH_TYPE:
    case CAPF_EL_KEY_TYPE:
    case CAPF_EL_CURVE:
    case CAPF_EL_DIGEST_TYPE:
        return 1;
    case CAPF_EL_KEY_SIZE:
        return 2;
    }
    return 0;
}

static int is_known(uint8_t tag)
{
    switch (tag) {
    case CAPF_EL_REASON: case CAPF_EL_REASON_INFO: case CAPF_EL_CERT_TYPE:
    case CAPF_EL_CERTIFICATE: case CAPF_EL_SIGNED_DATA: case CAPF_EL_VERSION:
    case CAPF_EL_AUTH_TYPE: case CAPF_EL_PUBLIC_KEY: case CAPF_EL_KEY_SIZE:
    case CAPF_EL_PASSWORD: case CAPF_EL_RETRY_DELAY: case CAPF_EL_DEVICE_NAME:
    case CAPF_EL_SUDI_DATA: case CAPF_EL_KEY_TYPE: case CAPF_EL_CURVE:
    case CAPF_EL_DIGEST_TYPE: case CAPF_EL_SHA2_SIGNED_DATA:
        return 1;
    }
    return 0;
}

enum capf_err capf_parse_msg(const uint8_t *p, size_t n, struct capf_msg *m)
{
    memset(m, 0, sizeof *m);
    enum capf_err e = capf_parse_header(p, n, &m->h);
    if (e != CAPF_OK)
        return e;
    if (n != CAPF_HEADER_LEN + (size_t)m->h.body_len)
        return n < CAPF_HEADER_LEN + (size_t)m->h.body_len ? CAPF_ERR_TRUNCATED
                                                            : CAPF_ERR_BAD_VALUE;
    const uint8_t *b = p + CAPF_HEADER_LEN;
    size_t len = m->h.body_len, pos = 0;
    while (pos < len) {
        if (len - pos < 3)
            return CAPF_ERR_ELEMENT_OVERRUN;
        uint8_t tag = b[pos];
        uint16_t vlen = get16(b + pos + 1);
        pos += 3;
        if (vlen > len - pos)
            return CAPF_ERR_ELEMENT_OVERRUN;
        if (!is_known(tag)) {
            m->unknown++;
        } else {
            if (m->el[tag].present)
                return CAPF_ERR_DUPLICATE;
            if (fixed_size(tag) && vlen != fixed_size(tag))
                return CAPF_ERR_BAD_VALUE;
            m->el[tag] = (struct capf_value){b + pos, vlen, 1};
        }
        pos += vlen;
    }
    return CAPF_OK;
}

int capf_msg_u8(const struct capf_msg *m, enum capf_tag tag)
{
    const struct capf_value *v = &m->el[tag];
    return v->present && v->len == 1 ? v->p[0] : -1;
}

long capf_msg_u16(const struct capf_msg *m, enum capf_tag tag)
{
    const struct capf_value *v = &m->el[tag];
    return v->present && v->len == 2 ? (long)get16(v->p) : -1;
}

enum capf_err capf_cert_element_parse(const struct capf_value *v, uint8_t *cert_type,
                                      const uint8_t **der, size_t *der_len)
{
    if (!v->present || v->len < 5 || v->p[0] != 1)
        return CAPF_ERR_BAD_VALUE;
    size_t inner = get16(v->p + 1);
    if (inner < 2 || inner != (size_t)v->len - 3 || v->p[3] != 0)
        return CAPF_ERR_BAD_VALUE;
    *cert_type = v->p[4];
    *der = v->p + 5;
    *der_len = inner - 2;
    return *der_len ? CAPF_OK : CAPF_ERR_BAD_VALUE;
}

void capf_writer_begin(struct capf_writer *w, uint8_t *buf, size_t cap, uint8_t command,
                       uint32_t session_id)
{
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->overflow = cap < CAPF_HEADER_LEN;
    if (w->overflow)
        return;
    buf[0] = CAPF_PROTOCOL_ID;
    buf[1] = command;
    buf[2] = (uint8_t)(session_id >> 24);
    buf[3] = (uint8_t)(session_id >> 16);
    buf[4] = (uint8_t)(session_id >> 8);
    buf[5] = (uint8_t)session_id;
    buf[6] = buf[7] = 0;
    w->len = CAPF_HEADER_LEN;
}

static void put_raw(struct capf_writer *w, const uint8_t *p, size_t n)
{
    if (w->overflow || n > w->cap - w->len) {
        w->overflow = 1;
        return;
    }
    if (n)
        memcpy(w->buf + w->len, p, n);
    w->len += n;
}

static void put_tl(struct capf_writer *w, uint8_t tag, size_t n)
{
    if (n > 0xFFFF) {
        w->overflow = 1;
        return;
    }
    uint8_t tl[3] = {tag, (uint8_t)(n >> 8), (uint8_t)n};
    put_raw(w, tl, 3);
}

void capf_put(struct capf_writer *w, uint8_t tag, const uint8_t *v, size_t n)
{
    put_tl(w, tag, n);
    put_raw(w, v, n);
}

void capf_put_u8(struct capf_writer *w, uint8_t tag, uint8_t v)
{
    capf_put(w, tag, &v, 1);
}

void capf_put_u16(struct capf_writer *w, uint8_t tag, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    capf_put(w, tag, b, 2);
}

void capf_put_cstr(struct capf_writer *w, uint8_t tag, const char *s)
{
    capf_put(w, tag, (const uint8_t *)s, strlen(s) + 1);
}

void capf_put_cert(struct capf_writer *w, uint8_t cert_type, const uint8_t *der, size_t n)
{
    size_t inner = n + 2;
    if (inner > 0xFFFF - 3) {
        w->overflow = 1;
        return;
    }
    put_tl(w, CAPF_EL_CERTIFICATE, inner + 3);
    uint8_t h[5] = {1, (uint8_t)(inner >> 8), (uint8_t)inner, 0, cert_type};
    put_raw(w, h, sizeof h);
    put_raw(w, der, n);
}

size_t capf_writer_end(struct capf_writer *w)
{
    if (w->overflow || w->len - CAPF_HEADER_LEN > CAPF_MAX_BODY)
        return 0;
    size_t body = w->len - CAPF_HEADER_LEN;
    w->buf[6] = (uint8_t)(body >> 8);
    w->buf[7] = (uint8_t)body;
    return w->len;
}

int capf_auth_string_valid(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (s[n] < '0' || s[n] > '9' || n >= CAPF_AUTH_STRING_MAX)
            return 0;
    return n >= 4;
}

size_t capf_auth_blob(const char *device_name, const uint8_t *cert, size_t cert_len,
                      uint8_t *out, size_t cap)
{
    size_t nl = strlen(device_name) + 1;
    if (nl + cert_len > cap)
        return 0;
    memcpy(out, device_name, nl);
    memcpy(out + nl, cert, cert_len);
    return nl + cert_len;
}

/* ---- certificate SubjectPublicKeyInfo (bounded DER walk) -------------- */

/* Reads one DER TLV at p[0..n): single-byte tag, length up to 3 bytes. */
static int der_tlv(const uint8_t *p, size_t n, uint8_t *tag, size_t *hdr, size_t *len)
{
    if (n < 2)
        return -1;
    *tag = p[0];
    size_t l = p[1], h = 2;
    if (l & 0x80) {
        size_t k = l & 0x7F;
        if (k == 0 || k > 3 || n < 2 + k)
            return -1;
        l = 0;
        for (size_t i = 0; i < k; i++)
            l = l << 8 | p[2 + i];
        h += k;
    }
    if (l > n - h)
        return -1;
    *hdr = h;
    *len = l;
    return 0;
}

enum capf_err capf_cert_spki(const uint8_t *cert, size_t len, const uint8_t **spki,
                             size_t *spki_len)
{
    uint8_t tag;
    size_t hdr, l;
    if (der_tlv(cert, len, &tag, &hdr, &l) != 0 || tag != 0x30)
        return CAPF_ERR_BAD_VALUE;
    const uint8_t *p = cert + hdr; /* Certificate content */
    if (der_tlv(p, l, &tag, &hdr, &l) != 0 || tag != 0x30)
        return CAPF_ERR_BAD_VALUE;
    p += hdr;                      /* TBSCertificate content */
    size_t n = l;
    /* [0] version (optional), serial, signature, issuer, validity, subject. */
    for (int field = 0; field < 7; field++) {
        if (der_tlv(p, n, &tag, &hdr, &l) != 0)
            return CAPF_ERR_BAD_VALUE;
        if (field == 0 && tag != 0xA0)
            field++; /* v1 certificate: no version */
        if (field == 6) {
            if (tag != 0x30)
                return CAPF_ERR_BAD_VALUE;
            *spki = p;
            *spki_len = hdr + l;
            return CAPF_OK;
        }
        p += hdr + l;
        n -= hdr + l;
    }
    return CAPF_ERR_BAD_VALUE;
}
