/* Sans-I/O TFTP read client. See include/tftpc/tftpc.h and docs/tftp.md. */
#include "tftpc/tftpc.h"

#include <string.h>

#define OPT_BLKSIZE 1u
#define OPT_TSIZE 2u
#define OPT_TIMEOUT 4u

/* ---- small helpers ------------------------------------------------------ */

static uint16_t get_u16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Wrapping "a is at or after b" for millisecond clocks. */
static int time_reached(uint32_t now, uint32_t deadline) { return (int32_t)(now - deadline) >= 0; }

static char ascii_lower(char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return (char)(ch - 'A' + 'a');
    return ch;
}

static int name_is(const char *s, size_t n, const char *lit)
{
    size_t i;
    if (n != strlen(lit))
        return 0;
    for (i = 0; i < n; i++)
        if (ascii_lower(s[i]) != lit[i])
            return 0;
    return 1;
}

/* Decimal digits only, 1..20 of them; saturates at UINT64_MAX. */
static int parse_decimal(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;
    if (n == 0 || n > 20)
        return -1;
    for (i = 0; i < n; i++) {
        unsigned d;
        if (s[i] < '0' || s[i] > '9')
            return -1;
        d = (unsigned)(s[i] - '0');
        v = (v > (UINT64_MAX - d) / 10u) ? UINT64_MAX : v * 10u + d;
    }
    *out = v;
    return 0;
}

/* Appends a NUL-terminated string; returns the new length or 0 on overflow. */
static size_t put_str(uint8_t *buf, size_t at, size_t cap, const char *s)
{
    size_t n = strlen(s) + 1;
    if (at + n > cap)
        return 0;
    memcpy(buf + at, s, n);
    return at + n;
}

static void u32_to_dec(char *out, uint32_t v)
{
    char tmp[11];
    size_t n = 0, i;
    do {
        tmp[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0);
    for (i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
}

/* ---- configuration -------------------------------------------------------- */

void tftpc_config_default(struct tftpc_config *cfg, uint8_t n_servers)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->n_servers = n_servers;
    cfg->blksize = 1428;
    cfg->timeout_s = 0;
    cfg->ask_tsize = 1;
    cfg->max_file_size = TFTPC_DEFAULT_MAX_FILE_SIZE;
    cfg->initial_timeout_ms = 1000;
    cfg->max_timeout_ms = 4000;
    cfg->max_retries = 4;
}

static void sanitize_config(struct tftpc_config *cfg)
{
    if (cfg->n_servers == 0)
        cfg->n_servers = 1;
    if (cfg->n_servers > TFTPC_MAX_SERVERS)
        cfg->n_servers = TFTPC_MAX_SERVERS;
    if (cfg->blksize == TFTPC_DEFAULT_BLKSIZE)
        cfg->blksize = 0; /* asking for the default is pointless */
    if (cfg->blksize != 0 && cfg->blksize < TFTPC_MIN_BLKSIZE)
        cfg->blksize = TFTPC_MIN_BLKSIZE;
    if (cfg->blksize > TFTPC_MAX_BLKSIZE)
        cfg->blksize = TFTPC_MAX_BLKSIZE;
    if (cfg->max_file_size == 0)
        cfg->max_file_size = TFTPC_DEFAULT_MAX_FILE_SIZE;
    if (cfg->initial_timeout_ms == 0)
        cfg->initial_timeout_ms = 1000;
    if (cfg->max_timeout_ms < cfg->initial_timeout_ms)
        cfg->max_timeout_ms = cfg->initial_timeout_ms;
}

static int config_has_options(const struct tftpc_config *cfg)
{
    return cfg->blksize != 0 || cfg->ask_tsize || cfg->timeout_s != 0;
}

void tftpc_init(struct tftpc *c, const struct tftpc_config *cfg)
{
    memset(c, 0, sizeof(*c));
    c->cfg = *cfg;
    sanitize_config(&c->cfg);
}

/* ---- outputs -------------------------------------------------------------- */

static void arm_timer(struct tftpc *c, uint32_t now)
{
    c->retries = 0;
    c->timeout_ms = c->cfg.initial_timeout_ms;
    c->deadline = now + c->timeout_ms;
}

static void queue_send(struct tftpc *c, int retransmit)
{
    c->pend_send = 1;
    c->send_retransmit = (uint8_t)retransmit;
}

/* A one-shot ERROR packet (never retransmitted, RFC 1350). */
static void queue_error(struct tftpc *c, uint8_t server, uint16_t port, uint16_t code,
                        const char *msg)
{
    size_t n = strlen(msg);
    if (n > TFTPC_ERRMSG_MAX - 1)
        n = TFTPC_ERRMSG_MAX - 1;
    put_u16(c->err_pkt, TFTP_ERROR);
    put_u16(c->err_pkt + 2, code);
    memcpy(c->err_pkt + 4, msg, n);
    c->err_pkt[4 + n] = 0;
    c->err_len = (uint16_t)(4 + n + 1);
    c->err_server = server;
    c->err_port = port;
    c->pend_error = 1;
}

static void finish(struct tftpc *c, enum tftpc_state st, enum tftpc_reason r)
{
    c->state = st;
    c->result.reason = r;
    c->result.size = c->received;
    c->pend_final = 1;
}

/* ---- requests and the server list ----------------------------------------- */

static size_t build_options(const struct tftpc *c, uint8_t *buf, size_t at)
{
    char num[11];
    if (at != 0 && c->cfg.blksize != 0) {
        u32_to_dec(num, c->cfg.blksize);
        at = put_str(buf, at, TFTPC_MAX_REQUEST, "blksize");
        at = at ? put_str(buf, at, TFTPC_MAX_REQUEST, num) : 0;
    }
    if (at != 0 && c->cfg.ask_tsize) {
        at = put_str(buf, at, TFTPC_MAX_REQUEST, "tsize");
        at = at ? put_str(buf, at, TFTPC_MAX_REQUEST, "0") : 0;
    }
    if (at != 0 && c->cfg.timeout_s != 0) {
        u32_to_dec(num, c->cfg.timeout_s);
        at = put_str(buf, at, TFTPC_MAX_REQUEST, "timeout");
        at = at ? put_str(buf, at, TFTPC_MAX_REQUEST, num) : 0;
    }
    return at;
}

/* Builds the RRQ into buf; returns its length, 0 if it does not fit. */
static size_t build_rrq(const struct tftpc *c, uint8_t *buf, int with_options)
{
    size_t at;
    put_u16(buf, TFTP_RRQ);
    at = put_str(buf, 2, TFTPC_MAX_REQUEST, c->file);
    at = at ? put_str(buf, at, TFTPC_MAX_REQUEST, "octet") : 0;
    if (with_options)
        at = build_options(c, buf, at);
    return at;
}

/* (Re)starts the request on the current server. */
static void start_attempt(struct tftpc *c, int with_options, uint32_t now)
{
    if (c->received != 0)
        c->pend_restart = 1;
    c->pend_data = 0;
    c->state = TFTPC_ST_REQUEST;
    c->with_options = (uint8_t)with_options;
    c->tid_locked = 0;
    c->tid = 0;
    c->blksize = TFTPC_DEFAULT_BLKSIZE;
    c->block = 0;
    c->reacked = 0;
    c->received = 0;
    c->result.server = c->server;
    c->result.blksize = TFTPC_DEFAULT_BLKSIZE;
    c->result.options_used = 0;
    c->result.have_tsize = 0;
    c->result.tsize = 0;
    c->pkt_len = (uint16_t)build_rrq(c, c->pkt, with_options);
    c->pkt_kind = TFTPC_PKT_RRQ;
    c->counters.requests++;
    queue_send(c, 0);
    arm_timer(c, now);
}

/* How telling a per-server failure is, to pick the one reported at the end. */
static int reason_rank(enum tftpc_reason r)
{
    switch (r) {
    case TFTPC_SERVER_ERROR:
    case TFTPC_PROTOCOL: return 3;
    case TFTPC_TIMEOUT: return 2;
    case TFTPC_UNREACHABLE: return 1;
    default: return 0;
    }
}

/* Gives up on the current server for reason r and tries the next one. */
static void next_server(struct tftpc *c, enum tftpc_reason why, uint32_t now)
{
    if (reason_rank(why) >= reason_rank(c->result.reason))
        c->result.reason = why;
    if ((unsigned)c->server + 1u >= c->cfg.n_servers) {
        finish(c, TFTPC_ST_FAILED, c->result.reason);
        return;
    }
    c->server++;
    c->counters.server_switches++;
    start_attempt(c, config_has_options(&c->cfg), now);
}

int tftpc_start(struct tftpc *c, const char *file, uint32_t now_ms)
{
    size_t n = strlen(file);
    uint8_t probe[TFTPC_MAX_REQUEST];
    uint32_t request_no = c->request_no;
    struct tftpc_config cfg = c->cfg;

    if (n == 0 || n > TFTPC_MAX_FILENAME)
        return -1;
    tftpc_init(c, &cfg);
    memcpy(c->file, file, n + 1);
    if (build_rrq(c, probe, config_has_options(&c->cfg)) == 0)
        return -1;
    c->request_no = request_no + 1;
    c->result.request_no = c->request_no;
    c->result.reason = TFTPC_OK;
    c->server = 0;
    start_attempt(c, config_has_options(&c->cfg), now_ms);
    return 0;
}

/* ---- incoming packets ----------------------------------------------------- */

static void accept_block(struct tftpc *c, const uint8_t *payload, size_t len, uint32_t now)
{
    if (len > c->blksize) {
        queue_error(c, c->server, c->tid, TFTP_ERR_ILLEGAL_OP, "Block larger than blksize");
        next_server(c, TFTPC_PROTOCOL, now);
        return;
    }
    if ((uint64_t)c->received + len > c->cfg.max_file_size) {
        queue_error(c, c->server, c->tid, TFTP_ERR_DISK_FULL, "File too large");
        finish(c, TFTPC_ST_FAILED, TFTPC_TOO_LARGE);
        return;
    }
    c->block++;
    c->reacked = 0;
    c->counters.blocks++;
    if (len != 0) {
        c->pend_data = 1;
        c->data = payload;
        c->data_len = len;
        c->data_off = c->received;
    }
    c->received += (uint32_t)len;
    c->counters.bytes += (uint32_t)len;
    put_u16(c->pkt, TFTP_ACK);
    put_u16(c->pkt + 2, (uint16_t)c->block);
    c->pkt_len = 4;
    c->pkt_kind = TFTPC_PKT_ACK;
    queue_send(c, 0);
    if (len < c->blksize)
        finish(c, TFTPC_ST_DONE, TFTPC_OK);
    else
        arm_timer(c, now);
}

/* A duplicate of the last block (or of the OACK, block 0): our ACK was
 * probably lost. Re-ACK it once; further copies are left to our timer, so a
 * duplicated packet never doubles the traffic (sorcerer's apprentice). */
static void on_duplicate(struct tftpc *c)
{
    c->counters.duplicates++;
    if (c->reacked)
        return;
    c->reacked = 1;
    queue_send(c, 0);
}

static void on_data(struct tftpc *c, uint16_t port, const uint8_t *p, size_t n, uint32_t now)
{
    uint16_t blk = get_u16(p + 2);
    if (c->state == TFTPC_ST_REQUEST) {
        if (blk != 1) {
            c->counters.out_of_order++;
            return;
        }
        /* The server ignored our options (RFC 2347): plain RFC 1350. */
        c->state = TFTPC_ST_TRANSFER;
        c->tid_locked = 1;
        c->tid = port;
        c->blksize = TFTPC_DEFAULT_BLKSIZE;
        c->result.blksize = c->blksize;
    }
    if (blk == (uint16_t)(c->block + 1u))
        accept_block(c, p + 4, n - 4, now);
    else if (blk == (uint16_t)c->block && c->block != 0)
        on_duplicate(c);
    else
        c->counters.out_of_order++;
}

static void refuse_oack(struct tftpc *c, uint16_t port, uint32_t now)
{
    queue_error(c, c->server, port, TFTP_ERR_OPTIONS, "Option negotiation refused");
    next_server(c, TFTPC_PROTOCOL, now);
}

/* Applies one option of an OACK; returns -1 if it is not acceptable. */
static int apply_option(struct tftpc *c, const char *name, size_t nlen, const char *val,
                        size_t vlen, unsigned *seen)
{
    uint64_t v;
    unsigned bit;
    if (parse_decimal(val, vlen, &v) != 0)
        return -1;
    if (name_is(name, nlen, "blksize") && c->cfg.blksize != 0) {
        bit = OPT_BLKSIZE;
        if (v < TFTPC_MIN_BLKSIZE || v > c->cfg.blksize)
            return -1;
        c->blksize = (uint16_t)v;
    } else if (name_is(name, nlen, "tsize") && c->cfg.ask_tsize) {
        bit = OPT_TSIZE;
        c->result.have_tsize = 1;
        c->result.tsize = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
    } else if (name_is(name, nlen, "timeout") && c->cfg.timeout_s != 0) {
        bit = OPT_TIMEOUT;
        if (v != c->cfg.timeout_s) /* RFC 2349: must match what we asked */
            return -1;
    } else {
        return -1; /* not asked for */
    }
    if (*seen & bit)
        return -1;
    *seen |= bit;
    return 0;
}

/* Parses name\0value\0 pairs; every byte must belong to a complete pair. */
static int parse_oack(struct tftpc *c, const uint8_t *p, size_t n)
{
    size_t at = 2;
    unsigned seen = 0;
    while (at < n) {
        const char *name = (const char *)p + at, *val;
        const uint8_t *z = memchr(p + at, 0, n - at);
        size_t nlen, vlen;
        if (z == NULL)
            return -1;
        nlen = (size_t)(z - (p + at));
        at += nlen + 1;
        if (at >= n)
            return -1;
        val = (const char *)p + at;
        z = memchr(p + at, 0, n - at);
        if (z == NULL)
            return -1;
        vlen = (size_t)(z - (p + at));
        at += vlen + 1;
        if (apply_option(c, name, nlen, val, vlen, &seen) != 0)
            return -1;
    }
    return 0;
}

static void on_oack(struct tftpc *c, uint16_t port, const uint8_t *p, size_t n, uint32_t now)
{
    if (c->state == TFTPC_ST_TRANSFER) {
        if (c->block == 0 && c->result.options_used)
            on_duplicate(c); /* our ACK 0 was lost */
        else
            c->counters.out_of_order++;
        return;
    }
    if (!c->with_options || parse_oack(c, p, n) != 0) {
        c->blksize = TFTPC_DEFAULT_BLKSIZE;
        refuse_oack(c, port, now);
        return;
    }
    c->state = TFTPC_ST_TRANSFER;
    c->tid_locked = 1;
    c->tid = port;
    c->result.options_used = 1;
    c->result.blksize = c->blksize;
    if (c->result.have_tsize && c->result.tsize > c->cfg.max_file_size) {
        queue_error(c, c->server, port, TFTP_ERR_DISK_FULL, "File too large");
        finish(c, TFTPC_ST_FAILED, TFTPC_TOO_LARGE);
        return;
    }
    put_u16(c->pkt, TFTP_ACK);
    put_u16(c->pkt + 2, 0);
    c->pkt_len = 4;
    c->pkt_kind = TFTPC_PKT_ACK;
    queue_send(c, 0);
    arm_timer(c, now);
}

static void save_error(struct tftpc *c, const uint8_t *p, size_t n)
{
    size_t i, out = 0;
    c->result.error_code = get_u16(p + 2);
    for (i = 4; i < n && p[i] != 0 && out < TFTPC_ERRMSG_MAX - 1; i++)
        c->result.error_msg[out++] = (char)((p[i] >= 0x20 && p[i] < 0x7f) ? p[i] : '?');
    c->result.error_msg[out] = '\0';
}

static void on_error(struct tftpc *c, const uint8_t *p, size_t n, uint32_t now)
{
    save_error(c, p, n);
    if (c->result.error_code == TFTP_ERR_OPTIONS && c->state == TFTPC_ST_REQUEST &&
        c->with_options) {
        start_attempt(c, 0, now); /* RFC 2347: retry without options */
        return;
    }
    if (c->result.error_code == TFTP_ERR_NOT_FOUND) {
        finish(c, TFTPC_ST_FAILED, TFTPC_NOT_FOUND);
        return;
    }
    next_server(c, TFTPC_SERVER_ERROR, now);
}

static int from_peer(const struct tftpc *c, uint8_t server, uint16_t port)
{
    return server == c->server && (!c->tid_locked || port == c->tid);
}

void tftpc_on_datagram(struct tftpc *c, uint8_t server, uint16_t port, const uint8_t *p,
                       size_t n, uint32_t now_ms)
{
    uint16_t op;
    if (c->state != TFTPC_ST_REQUEST && c->state != TFTPC_ST_TRANSFER)
        return;
    if (server >= c->cfg.n_servers)
        return;
    /* Port 0 is no transfer ID (and is our "request port" marker). */
    if (n < 4 || port == TFTPC_PORT_REQUEST) {
        c->counters.malformed++;
        return;
    }
    op = get_u16(p);
    if (!from_peer(c, server, port)) {
        /* RFC 1350: answer a stranger with error 5, never an ERROR. */
        c->counters.foreign_tid++;
        if (op != TFTP_ERROR)
            queue_error(c, server, port, TFTP_ERR_UNKNOWN_TID, "Unknown transfer ID");
        return;
    }
    switch (op) {
    case TFTP_DATA: on_data(c, port, p, n, now_ms); break;
    case TFTP_OACK: on_oack(c, port, p, n, now_ms); break;
    case TFTP_ERROR: on_error(c, p, n, now_ms); break;
    default: c->counters.malformed++; break;
    }
}

void tftpc_on_unreachable(struct tftpc *c, uint8_t server, uint16_t port, uint32_t now_ms)
{
    uint16_t current = c->tid_locked ? c->tid : (uint16_t)TFTPC_PORT_REQUEST;
    if (c->state != TFTPC_ST_REQUEST && c->state != TFTPC_ST_TRANSFER)
        return;
    if (server != c->server || port != current)
        return;
    next_server(c, TFTPC_UNREACHABLE, now_ms);
}

void tftpc_on_tick(struct tftpc *c, uint32_t now_ms)
{
    if (c->state != TFTPC_ST_REQUEST && c->state != TFTPC_ST_TRANSFER)
        return;
    if (!time_reached(now_ms, c->deadline))
        return;
    if (c->retries >= c->cfg.max_retries) {
        next_server(c, TFTPC_TIMEOUT, now_ms);
        return;
    }
    c->retries++;
    c->timeout_ms = c->timeout_ms > c->cfg.max_timeout_ms / 2 ? c->cfg.max_timeout_ms
                                                                : c->timeout_ms * 2;
    c->deadline = now_ms + c->timeout_ms;
    c->counters.retransmits++;
    if (c->pkt_kind == TFTPC_PKT_RRQ)
        c->counters.requests++;
    queue_send(c, 1);
}

int tftpc_next_deadline(const struct tftpc *c, uint32_t *deadline_ms)
{
    if (c->state != TFTPC_ST_REQUEST && c->state != TFTPC_ST_TRANSFER)
        return 0;
    *deadline_ms = c->deadline;
    return 1;
}

int32_t tftpc_wait_ms(const struct tftpc *c, uint32_t now_ms)
{
    uint32_t d;
    if (!tftpc_next_deadline(c, &d))
        return -1;
    if (time_reached(now_ms, d))
        return 0;
    return (int32_t)(d - now_ms);
}

/* ---- draining actions ----------------------------------------------------- */

static void output_send(const struct tftpc *c, struct tftpc_output *out)
{
    out->server = c->server;
    out->port = c->pkt_kind == TFTPC_PKT_RRQ ? (uint16_t)TFTPC_PORT_REQUEST : c->tid;
    out->kind = c->pkt_kind;
    out->retransmit = c->send_retransmit;
    out->data = c->pkt;
    out->len = c->pkt_len;
}

enum tftpc_action tftpc_poll(struct tftpc *c, struct tftpc_output *out)
{
    memset(out, 0, sizeof(*out));
    if (c->pend_restart) {
        c->pend_restart = 0;
        return TFTPC_ACT_RESTART;
    }
    if (c->pend_data) {
        c->pend_data = 0;
        out->data = c->data;
        out->len = c->data_len;
        out->offset = c->data_off;
        return TFTPC_ACT_DATA;
    }
    if (c->pend_error) {
        c->pend_error = 0;
        out->server = c->err_server;
        out->port = c->err_port;
        out->kind = TFTPC_PKT_ERROR;
        out->data = c->err_pkt;
        out->len = c->err_len;
        return TFTPC_ACT_SEND;
    }
    if (c->pend_send) {
        c->pend_send = 0;
        output_send(c, out);
        return TFTPC_ACT_SEND;
    }
    if (c->pend_final) {
        c->pend_final = 0;
        out->offset = c->received;
        out->reason = c->result.reason;
        return c->state == TFTPC_ST_DONE ? TFTPC_ACT_DONE : TFTPC_ACT_FAILED;
    }
    return TFTPC_IDLE;
}

/* ---- queries -------------------------------------------------------------- */

int tftpc_finished(const struct tftpc *c)
{
    return (c->state == TFTPC_ST_DONE || c->state == TFTPC_ST_FAILED) && !c->pend_final;
}

const struct tftpc_result *tftpc_result(const struct tftpc *c) { return &c->result; }

const struct tftpc_counters *tftpc_counters(const struct tftpc *c) { return &c->counters; }

const char *tftpc_reason_str(enum tftpc_reason r)
{
    switch (r) {
    case TFTPC_OK: return "ok";
    case TFTPC_NOT_FOUND: return "file not found";
    case TFTPC_TOO_LARGE: return "file too large";
    case TFTPC_TIMEOUT: return "timeout";
    case TFTPC_SERVER_ERROR: return "server error";
    case TFTPC_PROTOCOL: return "protocol error";
    case TFTPC_UNREACHABLE: return "server unreachable";
    }
    return "unknown";
}
