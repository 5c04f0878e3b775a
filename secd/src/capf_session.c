/* CAPF client session state machine (wire-formats section 5, see capf.h).
 *
 * Flow: auth request -> auth response -> one or more operations
 * (key generate -> [request in progress] -> key generate response ->
 * store certificate request -> store certificate response; fetch; delete)
 * -> end session. The server may also send retry later, status or abort at
 * any point where it has the turn. */
#include <string.h>

#include "secd/capf.h"

static void finish(struct capf_session *s, enum capf_outcome o, int reason, const char *why)
{
    s->result.outcome = o;
    s->result.reason = reason;
    s->result.why = why;
    s->state = CAPF_ST_DONE;
    s->action_pending = 0;
}

/* Ends the session once the queued message has been taken by poll. */
static void finish_after_send(struct capf_session *s, enum capf_outcome o, const char *why)
{
    s->result.outcome = o;
    s->result.reason = -1;
    s->result.why = why;
    s->after_send = CAPF_ST_DONE;
}

static struct capf_writer *begin(struct capf_session *s, struct capf_writer *w, uint8_t cmd)
{
    capf_writer_begin(w, s->tx, sizeof s->tx, cmd, s->session_id);
    s->tx_command = cmd;
    return w;
}

static void end(struct capf_session *s, struct capf_writer *w)
{
    s->tx_len = capf_writer_end(w);
    if (!s->tx_len)
        finish(s, CAPF_OUT_FAILED, -1, "message too large for the send buffer");
}

static void send_reason(struct capf_session *s, uint8_t cmd, uint8_t reason)
{
    struct capf_writer w;
    capf_put_u8(begin(s, &w, cmd), CAPF_EL_REASON, reason);
    end(s, &w);
}

void capf_session_init(struct capf_session *s, const struct capf_session_config *cfg)
{
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    s->cfg.device_name[CAPF_DEVICE_NAME_MAX - 1] = '\0';
    s->cfg.auth_string[CAPF_AUTH_STRING_MAX] = '\0';
    s->state = CAPF_ST_AUTH_REQUEST;
    s->after_send = CAPF_ST_DONE + 1; /* none */
    s->result.reason = -1;
}

size_t capf_session_on_bytes(struct capf_session *s, const uint8_t *p, size_t n)
{
    size_t room = sizeof s->rx - s->rx_len;
    size_t take = n < room ? n : room;
    memcpy(s->rx + s->rx_len, p, take);
    s->rx_len += take;
    return take;
}

void capf_session_on_closed(struct capf_session *s)
{
    s->closed = 1;
}

/* The connection is gone and no complete message is left: an operation
 * already completed still counts (the server just did not say goodbye). */
static void finish_closed(struct capf_session *s)
{
    if (s->op_done)
        finish(s, s->op_done, -1, s->result.why);
    else
        finish(s, CAPF_OUT_CONNECTION_LOST, -1, "connection closed before the session ended");
}

/* ---- auth ----------------------------------------------------------- */

static void auth_common(struct capf_session *s, struct capf_writer *w, uint8_t reason,
                        const char *password)
{
    begin(s, w, CAPF_AUTH_RESPONSE);
    capf_put_u8(w, CAPF_EL_REASON, reason);
    capf_put_u8(w, CAPF_EL_VERSION, CAPF_PROTOCOL_VERSION);
    capf_put_cstr(w, CAPF_EL_DEVICE_NAME, s->cfg.device_name);
    capf_put_cstr(w, CAPF_EL_PASSWORD, password);
}

static void send_auth_password(struct capf_session *s, const char *password)
{
    struct capf_writer w;
    auth_common(s, &w, CAPF_REASON_OK, password);
    end(s, &w);
    s->state = CAPF_ST_OPERATION;
}

/* Auth response by existing certificate: certificate, signed data (SHA-1)
 * and SHA-2 signed data (SHA-512) over device name || NUL || DER. */
static void send_auth_cert(struct capf_session *s, const struct capf_identity *id, uint8_t type)
{
    static const char *const fail = "cannot sign the auth response with the phone's key";
    uint8_t sig1[CAPF_SIG_MAX], sig2[3 + CAPF_SIG_MAX];
    size_t n1, n2;
    /* The blob to sign is built in tx, which is written only once both
     * signatures are made. */
    size_t room = sizeof s->tx;
    uint8_t *blob = s->tx;
    size_t bl = capf_auth_blob(s->cfg.device_name, id->cert, id->cert_len, blob, room);
    if (!bl || capf_sign(id->key, id->key_len, 0, blob, bl, sig1, sizeof sig1, &n1) != CAPF_OK ||
        capf_sign(id->key, id->key_len, 1, blob, bl, sig2 + 3, sizeof sig2 - 3, &n2) !=
            CAPF_OK) {
        finish(s, CAPF_OUT_FAILED, -1, fail);
        return;
    }
    sig2[0] = 3; /* SHA-512 */
    sig2[1] = (uint8_t)(n2 >> 8);
    sig2[2] = (uint8_t)n2;
    struct capf_writer w;
    auth_common(s, &w, CAPF_REASON_OK, "");
    capf_put_cert(&w, type, id->cert, id->cert_len);
    capf_put(&w, CAPF_EL_SIGNED_DATA, sig1, n1);
    capf_put(&w, CAPF_EL_SHA2_SIGNED_DATA, sig2, n2 + 3);
    end(s, &w);
    s->state = CAPF_ST_OPERATION;
}

/* The mode needs a certificate the phone lacks: tell the server, end. */
static void refuse_auth(struct capf_session *s, const char *why)
{
    struct capf_writer w;
    auth_common(s, &w, CAPF_REASON_INVALID, "");
    end(s, &w);
    finish_after_send(s, CAPF_OUT_FAILED, why);
}

static void on_auth_request(struct capf_session *s, const struct capf_msg *m)
{
    int version = capf_msg_u8(m, CAPF_EL_VERSION);
    int auth = capf_msg_u8(m, CAPF_EL_AUTH_TYPE);
    if (version != CAPF_PROTOCOL_VERSION) {
        finish(s, CAPF_OUT_FAILED, -1, "auth request: unsupported protocol version");
        return;
    }
    s->auth_type = (uint8_t)auth;
    const struct capf_identity *lsc = &s->cfg.lsc, *mic = &s->cfg.mic;
    switch (auth) {
    case CAPF_AUTH_NONE:
    case CAPF_AUTH_NULL_STRING:
        send_auth_password(s, "");
        return;
    case CAPF_AUTH_PASSWORD:
        if (capf_auth_string_valid(s->cfg.auth_string)) {
            send_auth_password(s, s->cfg.auth_string);
        } else {
            s->state = CAPF_ST_AUTH_STRING;
            s->action_pending = 1;
        }
        return;
    case CAPF_AUTH_LSC_THEN_MIC:
        if (lsc->cert_len)
            send_auth_cert(s, lsc, CAPF_CERT_LSC);
        else if (mic->cert_len)
            send_auth_cert(s, mic, CAPF_CERT_MIC);
        else
            refuse_auth(s, "auth by existing certificate: the phone has no LSC and no MIC");
        return;
    case CAPF_AUTH_MIC:
        if (mic->cert_len)
            send_auth_cert(s, mic, CAPF_CERT_MIC);
        else
            refuse_auth(s, "auth by existing certificate (MIC): the phone has no MIC");
        return;
    }
    finish(s, CAPF_OUT_FAILED, -1, "auth request: unknown or missing auth type");
}

void capf_session_set_auth_string(struct capf_session *s, const char *digits)
{
    if (!capf_auth_string_valid(digits))
        return;
    memcpy(s->cfg.auth_string, digits, strlen(digits) + 1);
    if (s->state == CAPF_ST_AUTH_STRING) {
        s->action_pending = 0;
        send_auth_password(s, s->cfg.auth_string);
    }
}

/* ---- operations ------------------------------------------------------ */

static void on_keygen_request(struct capf_session *s, const struct capf_msg *m)
{
    if (capf_keyspec_from_request(m, &s->key) != CAPF_OK) {
        send_reason(s, CAPF_KEYGEN_RESPONSE, CAPF_REASON_INVALID);
        finish_after_send(s, CAPF_OUT_FAILED, "key generate request: unsupported key type or size");
        return;
    }
    s->state = CAPF_ST_GENERATING;
    s->action_pending = 1;
}

void capf_session_generating(struct capf_session *s)
{
    if (s->state != CAPF_ST_GENERATING)
        return;
    struct capf_writer w;
    begin(s, &w, CAPF_REQUEST_IN_PROGRESS);
    end(s, &w);
}

void capf_session_key_ready(struct capf_session *s, const uint8_t *spki, size_t spki_len)
{
    if (s->state != CAPF_ST_GENERATING)
        return;
    if (!spki || !spki_len || spki_len > sizeof s->spki) {
        send_reason(s, CAPF_KEYGEN_RESPONSE, CAPF_REASON_INVALID);
        finish_after_send(s, CAPF_OUT_FAILED, "key generation failed");
        return;
    }
    memcpy(s->spki, spki, spki_len);
    s->spki_len = spki_len;
    struct capf_writer w;
    capf_put(begin(s, &w, CAPF_KEYGEN_RESPONSE), CAPF_EL_PUBLIC_KEY, spki, spki_len);
    end(s, &w);
    s->state = CAPF_ST_STORE_REQUEST;
}

static void on_store_request(struct capf_session *s, const struct capf_msg *m)
{
    uint8_t type;
    const uint8_t *der, *spki;
    size_t len, spki_len;
    int declared = capf_msg_u8(m, CAPF_EL_CERT_TYPE);
    const char *why = NULL;
    if (capf_cert_element_parse(&m->el[CAPF_EL_CERTIFICATE], &type, &der, &len) != CAPF_OK)
        why = "store certificate request: missing or malformed certificate";
    else if (type != CAPF_CERT_LSC || (declared >= 0 && declared != CAPF_CERT_LSC))
        why = "store certificate request: not an LSC";
    else if (capf_cert_spki(der, len, &spki, &spki_len) != CAPF_OK)
        why = "store certificate request: certificate does not parse";
    else if (spki_len != s->spki_len || memcmp(spki, s->spki, spki_len) != 0)
        why = "store certificate request: certificate is not for the key the phone generated";
    if (why) {
        send_reason(s, CAPF_STORE_CERT_RESPONSE, CAPF_REASON_INVALID);
        finish_after_send(s, CAPF_OUT_FAILED, why);
        return;
    }
    s->store_cert = der;
    s->store_cert_len = len;
    s->state = CAPF_ST_STORING;
    s->action_pending = 1;
}

void capf_session_store_done(struct capf_session *s, int ok)
{
    if (s->state != CAPF_ST_STORING)
        return;
    s->action_pending = 0;
    if (!ok) {
        send_reason(s, CAPF_STORE_CERT_RESPONSE, CAPF_REASON_INVALID);
        finish_after_send(s, CAPF_OUT_FAILED, "storing the LSC failed");
        return;
    }
    send_reason(s, CAPF_STORE_CERT_RESPONSE, CAPF_REASON_OK);
    s->op_done = CAPF_OUT_INSTALLED;
    s->state = CAPF_ST_OPERATION;
}

static void on_fetch_request(struct capf_session *s)
{
    struct capf_writer w;
    if (!s->cfg.lsc.cert_len) {
        send_reason(s, CAPF_FETCH_CERT_RESPONSE, CAPF_REASON_INVALID);
        s->op_done = CAPF_OUT_FAILED;
        s->result.why = "fetch certificate request: no LSC installed";
        return;
    }
    begin(s, &w, CAPF_FETCH_CERT_RESPONSE);
    capf_put_u8(&w, CAPF_EL_REASON, CAPF_REASON_OK);
    capf_put_cert(&w, CAPF_CERT_LSC, s->cfg.lsc.cert, s->cfg.lsc.cert_len);
    end(s, &w);
    s->op_done = CAPF_OUT_FETCHED;
}

static void on_delete_request(struct capf_session *s)
{
    if (!s->cfg.lsc.cert_len) {
        send_reason(s, CAPF_DELETE_CERT_RESPONSE, CAPF_REASON_INVALID);
        s->op_done = CAPF_OUT_FAILED;
        s->result.why = "delete certificate request: no LSC installed";
        return;
    }
    s->state = CAPF_ST_DELETING;
    s->action_pending = 1;
}

void capf_session_delete_done(struct capf_session *s, int ok)
{
    if (s->state != CAPF_ST_DELETING)
        return;
    s->action_pending = 0;
    send_reason(s, CAPF_DELETE_CERT_RESPONSE, ok ? CAPF_REASON_OK : CAPF_REASON_INVALID);
    if (ok) {
        s->op_done = CAPF_OUT_DELETED;
        s->cfg.lsc = (struct capf_identity){0};
    } else {
        s->op_done = CAPF_OUT_FAILED;
        s->result.why = "deleting the LSC failed";
    }
    s->state = CAPF_ST_OPERATION;
}

/* ---- session-level commands -------------------------------------------- */

static void on_end_session(struct capf_session *s, const struct capf_msg *m)
{
    int reason = capf_msg_u8(m, CAPF_EL_REASON);
    if (s->op_done)
        finish(s, s->op_done, reason, s->result.why);
    else if (reason < 0 || reason == CAPF_REASON_NO_ACTION || reason == CAPF_REASON_OK)
        finish(s, CAPF_OUT_NOTHING_TO_DO, reason, "no operation scheduled");
    else
        finish(s, CAPF_OUT_REFUSED, reason, capf_reason_name(reason));
}

static uint32_t retry_delay(const struct capf_value *v)
{
    uint32_t d = 0;
    if (!v->present || v->len > 4)
        return 0;
    for (size_t i = 0; i < v->len; i++)
        d = d << 8 | v->p[i];
    return d;
}

/* Commands the server may send whenever it has the turn. Returns 1 when
 * handled. */
static int on_any_time(struct capf_session *s, const struct capf_msg *m)
{
    switch (m->h.command) {
    case CAPF_END_SESSION:
        on_end_session(s, m);
        return 1;
    case CAPF_RETRY_LATER:
        finish(s, CAPF_OUT_RETRY_LATER, capf_msg_u8(m, CAPF_EL_REASON), "server asked to retry later");
        s->result.retry_delay = retry_delay(&m->el[CAPF_EL_RETRY_DELAY]);
        return 1;
    case CAPF_STATUS_REQUEST:
        send_reason(s, CAPF_STATUS_RESPONSE, CAPF_REASON_OK);
        return 1;
    case CAPF_ABORT_REQUEST:
        send_reason(s, CAPF_ABORT_RESPONSE, CAPF_REASON_OK);
        finish_after_send(s, CAPF_OUT_ABORTED, "server aborted the session");
        return 1;
    }
    return 0;
}

static void on_message(struct capf_session *s, const struct capf_msg *m)
{
    if (on_any_time(s, m))
        return;
    uint8_t cmd = m->h.command;
    if (s->state == CAPF_ST_AUTH_REQUEST && cmd == CAPF_AUTH_REQUEST)
        on_auth_request(s, m);
    else if (s->state == CAPF_ST_OPERATION && cmd == CAPF_KEYGEN_REQUEST)
        on_keygen_request(s, m);
    else if (s->state == CAPF_ST_OPERATION && cmd == CAPF_FETCH_CERT_REQUEST)
        on_fetch_request(s);
    else if (s->state == CAPF_ST_OPERATION && cmd == CAPF_DELETE_CERT_REQUEST)
        on_delete_request(s);
    else if (s->state == CAPF_ST_STORE_REQUEST && cmd == CAPF_STORE_CERT_REQUEST)
        on_store_request(s, m);
    else
        finish(s, CAPF_OUT_FAILED, -1, "unexpected command from the server");
}

static int waits_for_server(enum capf_state st)
{
    return st == CAPF_ST_AUTH_REQUEST || st == CAPF_ST_OPERATION ||
           st == CAPF_ST_STORE_REQUEST || st == CAPF_ST_AUTH_STRING;
}

/* Handles one complete message from rx if there is one. Returns 1 when a
 * message was handled (or the stream was refused), 0 when more bytes are
 * needed. */
static int next_message(struct capf_session *s)
{
    if (s->consumed) {
        memmove(s->rx, s->rx + s->consumed, s->rx_len - s->consumed);
        s->rx_len -= s->consumed;
        s->consumed = 0;
    }
    struct capf_header h;
    enum capf_err e = capf_parse_header(s->rx, s->rx_len, &h);
    if (e == CAPF_ERR_TRUNCATED)
        return 0;
    if (e == CAPF_OK && s->rx_len < CAPF_HEADER_LEN + (size_t)h.body_len)
        return 0;
    struct capf_msg m;
    if (e == CAPF_OK)
        e = capf_parse_msg(s->rx, CAPF_HEADER_LEN + h.body_len, &m);
    if (e != CAPF_OK) {
        finish(s, CAPF_OUT_FAILED, -1,
               e == CAPF_ERR_TOO_LARGE ? "server message too large" : "malformed message from the server");
        return 1;
    }
    s->consumed = CAPF_HEADER_LEN + h.body_len;
    if (s->have_session_id && h.session_id != s->session_id) {
        finish(s, CAPF_OUT_FAILED, -1, "server changed the session id");
        return 1;
    }
    s->session_id = h.session_id;
    s->have_session_id = 1;
    s->rx_count++;
    s->last_rx_command = h.command;
    on_message(s, &m);
    return 1;
}

static enum capf_action pending_action(struct capf_session *s, struct capf_output *out)
{
    s->action_pending = 0;
    switch (s->state) {
    case CAPF_ST_AUTH_STRING:
        return CAPF_ACT_NEED_AUTH_STRING;
    case CAPF_ST_GENERATING:
        out->key = s->key;
        return CAPF_ACT_GENERATE_KEY;
    case CAPF_ST_STORING:
        out->data = s->store_cert;
        out->len = s->store_cert_len;
        out->key = s->key;
        return CAPF_ACT_STORE_CERT;
    case CAPF_ST_DELETING:
        return CAPF_ACT_DELETE_CERT;
    default:
        return CAPF_ACT_WAIT;
    }
}

enum capf_action capf_session_poll(struct capf_session *s, struct capf_output *out)
{
    memset(out, 0, sizeof *out);
    out->reason = -1;
    for (;;) {
        if (s->tx_len) {
            out->data = s->tx;
            out->len = s->tx_len;
            out->command = s->tx_command;
            s->tx_len = 0;
            if (s->after_send == CAPF_ST_DONE)
                s->state = CAPF_ST_DONE;
            if (!s->closed)
                return CAPF_ACT_SEND;
        }
        if (s->state == CAPF_ST_DONE) {
            if (s->done_reported)
                return CAPF_ACT_WAIT;
            s->done_reported = 1;
            *out = s->result;
            return CAPF_ACT_DONE;
        }
        if (s->action_pending) {
            if (!s->closed)
                return pending_action(s, out);
            finish_closed(s);
            continue;
        }
        if (!waits_for_server(s->state))
            return CAPF_ACT_WAIT;
        if (!next_message(s)) {
            if (!s->closed)
                return CAPF_ACT_WAIT;
            finish_closed(s);
        }
    }
}
