/* Sans-I/O HTTP/1.1 GET client (see httpc.h and docs/http.md). */
#include "httpc/httpc.h"

#include <string.h>

void httpc_config_default(struct httpc_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->max_body = HTTPC_DEFAULT_MAX_BODY;
    cfg->connect_timeout_ms = 2000;
    cfg->idle_timeout_ms = 5000;
    cfg->total_timeout_ms = 30000;
    cfg->linger_ms = 250;
}

void httpc_init(struct httpc *c, const struct httpc_config *cfg)
{
    memset(c, 0, sizeof(*c));
    if (cfg)
        c->cfg = *cfg;
    else
        httpc_config_default(&c->cfg);
    if (c->cfg.max_body == 0)
        c->cfg.max_body = HTTPC_DEFAULT_MAX_BODY;
}

/* ---- small helpers ---- */

static int is_parsing(enum httpc_state s)
{
    return s >= HTTPC_ST_STATUS && s <= HTTPC_ST_TRAILERS;
}

static int is_final(enum httpc_state s)
{
    return s == HTTPC_ST_DONE || s == HTTPC_ST_FAILED;
}

static unsigned char lower(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') ? (unsigned char)(ch | 0x20u) : ch;
}

/* Case-insensitive comparison of s[0..n) with a lower-case literal. */
static int equals_ci(const char *s, size_t n, const char *lit)
{
    size_t i;
    if (strlen(lit) != n)
        return 0;
    for (i = 0; i < n; i++)
        if (lower((unsigned char)s[i]) != (unsigned char)lit[i])
            return 0;
    return 1;
}

/* RFC 9110 5.6.2 token characters. */
static int is_tchar(unsigned char ch)
{
    if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
        return 1;
    return ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

/* Field-value / reason-phrase characters: HTAB, SP, VCHAR, obs-text. */
static int is_text(unsigned char ch)
{
    return ch == '\t' || ch >= 0x20u ? ch != 0x7fu : 0;
}

static int hex_value(unsigned char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Copies text for traces: printable ASCII only, cut to the buffer. */
static void copy_printable(char *dst, size_t cap, const char *src, size_t n)
{
    size_t i, k = 0;
    for (i = 0; i < n && k + 1 < cap; i++) {
        unsigned char ch = (unsigned char)src[i];
        if (ch >= 0x20u && ch < 0x7fu)
            dst[k++] = src[i];
        else
            dst[k++] = '?';
    }
    dst[k] = '\0';
}

static int due(uint32_t now, uint32_t deadline)
{
    return (int32_t)(now - deadline) >= 0;
}

/* ---- outcomes ---- */

static void finish(struct httpc *c, enum httpc_reason reason, const char *detail)
{
    c->state = reason == HTTPC_OK ? HTTPC_ST_DONE : HTTPC_ST_FAILED;
    c->result.reason = reason;
    if (detail)
        c->result.detail = detail;
    c->in = NULL;
    c->in_len = 0;
    c->pend_close = c->conn_open;
    c->conn_open = 0;
    c->pend_final = 1;
}

static void fail(struct httpc *c, enum httpc_reason reason, const char *detail)
{
    finish(c, reason, detail);
}

/* The body is complete: wait briefly for the server's close so that bytes
 * beyond the announced length are caught, then DONE. */
static void body_complete(struct httpc *c)
{
    if (c->cfg.linger_ms == 0) {
        finish(c, HTTPC_OK, NULL);
        return;
    }
    c->state = HTTPC_ST_LINGER;
    c->t_linger = c->t_last + c->cfg.linger_ms;
}

/* ---- request ---- */

static int put(struct httpc *c, const char *s, size_t n)
{
    if ((size_t)c->req_len + n > sizeof(c->req))
        return -1;
    memcpy(c->req + c->req_len, s, n);
    c->req_len = (uint16_t)(c->req_len + n);
    return 0;
}

static int put_str(struct httpc *c, const char *s)
{
    return put(c, s, strlen(s));
}

/* The file name as a path: unreserved characters and '/' as they are,
 * everything else percent-encoded. */
static int put_path(struct httpc *c, const char *file)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *file; file++) {
        unsigned char ch = (unsigned char)*file;
        char enc[3] = {'%', hex[ch >> 4], hex[ch & 15]};
        int plain = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
                    (ch >= 'A' && ch <= 'Z') || strchr("-._~/", ch) != NULL;
        if (plain ? put(c, (const char *)&ch, 1) : put(c, enc, 3))
            return -1;
    }
    return 0;
}

static int host_ok(const char *host)
{
    size_t n = strlen(host), i;
    if (n == 0 || n > HTTPC_MAX_HOST)
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)host[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              strchr(".-:[]", ch) != NULL)) /* ch != 0: i < strlen */
            return 0;
    }
    return 1;
}

static int put_port(struct httpc *c, uint16_t port)
{
    char digits[6];
    int n = 0;
    do {
        digits[5 - n++] = (char)('0' + port % 10u);
        port = (uint16_t)(port / 10u);
    } while (port);
    return put(c, digits + 6 - n, (size_t)n);
}

static int build_request(struct httpc *c, const char *host, uint16_t port, const char *file)
{
    c->req_len = 0;
    if (put_str(c, "GET /") || put_path(c, file) || put_str(c, " HTTP/1.1\r\nHost: ") ||
        put_str(c, host))
        return -1;
    if (port != 80 && (put_str(c, ":") || put_port(c, port)))
        return -1;
    return put_str(c, "\r\nConnection: close\r\n\r\n");
}

int httpc_start(struct httpc *c, const char *host, uint16_t port, const char *file,
                uint32_t now_ms)
{
    uint32_t request_no = c->request_no;
    struct httpc_config cfg = c->cfg;
    while (*file == '/')
        file++;
    if (*file == '\0' || strlen(file) > HTTPC_MAX_FILENAME || !host_ok(host) || port == 0)
        return -1;
    httpc_init(c, &cfg);
    c->request_no = request_no;
    if (build_request(c, host, port, file) != 0)
        return -1;
    c->request_no++;
    c->result.request_no = c->request_no;
    c->state = HTTPC_ST_CONNECTING;
    c->t_start = c->t_last = now_ms;
    c->pend_connect = 1;
    c->conn_open = 1; /* the board holds a socket from CONNECT to CLOSE */
    return 0;
}

/* ---- events ---- */

void httpc_on_connected(struct httpc *c, uint32_t now_ms)
{
    if (c->state != HTTPC_ST_CONNECTING)
        return;
    c->state = HTTPC_ST_STATUS;
    c->t_last = now_ms;
    c->pend_send = 1;
}

void httpc_on_connect_failed(struct httpc *c, uint32_t now_ms)
{
    (void)now_ms;
    if (c->state == HTTPC_ST_CONNECTING)
        fail(c, HTTPC_REFUSED, "connection refused or unreachable");
}

void httpc_on_data(struct httpc *c, const uint8_t *p, size_t n, uint32_t now_ms)
{
    if (!is_parsing(c->state) && c->state != HTTPC_ST_LINGER)
        return;
    c->t_last = now_ms;
    c->in = p;
    c->in_len = n;
}

static const char *closed_detail(enum httpc_state s)
{
    switch (s) {
    case HTTPC_ST_STATUS: return "closed before the status line was complete";
    case HTTPC_ST_HEADERS: return "closed in the header";
    case HTTPC_ST_BODY: return "closed before Content-Length bytes arrived";
    default: return "closed before the last chunk";
    }
}

void httpc_on_closed(struct httpc *c, int reset, uint32_t now_ms)
{
    (void)now_ms;
    if (c->state == HTTPC_ST_CONNECTING) {
        fail(c, HTTPC_REFUSED, "connection refused or unreachable");
    } else if (c->state == HTTPC_ST_LINGER) {
        finish(c, HTTPC_OK, NULL);
    } else if (is_parsing(c->state)) {
        /* Bytes given before the close are parsed first (see httpc_poll). */
        c->peer_closed = (uint8_t)(reset ? 2 : 1);
    }
}

void httpc_on_tick(struct httpc *c, uint32_t now_ms)
{
    if (c->state == HTTPC_ST_CONNECTING) {
        if (due(now_ms, c->t_start + c->cfg.connect_timeout_ms))
            fail(c, HTTPC_TIMEOUT, "connect timeout");
        else if (due(now_ms, c->t_start + c->cfg.total_timeout_ms))
            fail(c, HTTPC_TIMEOUT, "total timeout");
    } else if (c->state == HTTPC_ST_LINGER) {
        /* Unparsed bytes are bytes after the body: they decide, not the timer. */
        if (c->in_len == 0 && due(now_ms, c->t_linger))
            finish(c, HTTPC_OK, NULL);
    } else if (is_parsing(c->state) && c->in_len == 0) {
        if (due(now_ms, c->t_start + c->cfg.total_timeout_ms))
            fail(c, HTTPC_TIMEOUT, "total timeout");
        else if (due(now_ms, c->t_last + c->cfg.idle_timeout_ms))
            fail(c, HTTPC_TIMEOUT, "idle timeout");
    }
}

int httpc_next_deadline(const struct httpc *c, uint32_t *deadline_ms)
{
    uint32_t a, b;
    if (c->state == HTTPC_ST_LINGER) {
        *deadline_ms = c->t_linger;
        return 1;
    }
    if (c->state == HTTPC_ST_CONNECTING)
        a = c->t_start + c->cfg.connect_timeout_ms;
    else if (is_parsing(c->state))
        a = c->t_last + c->cfg.idle_timeout_ms;
    else
        return 0;
    b = c->t_start + c->cfg.total_timeout_ms;
    /* The earlier of the two, both measured from the start (wrap-safe). */
    *deadline_ms = (b - c->t_start) < (a - c->t_start) ? b : a;
    return 1;
}

int32_t httpc_wait_ms(const struct httpc *c, uint32_t now_ms)
{
    uint32_t d;
    int32_t left;
    if (!httpc_next_deadline(c, &d))
        return -1;
    left = (int32_t)(d - now_ms);
    return left < 0 ? 0 : left;
}

/* ---- response parsing ---- */

/* Collects one line into c->line (CR LF or LF stripped). Returns 1 with a
 * complete line, 0 when more input is needed, -1 after failing. */
static int read_line(struct httpc *c, size_t max_content, int counts, const char *too_long)
{
    while (c->in_len) {
        unsigned char b = *c->in++;
        c->in_len--;
        if (counts && c->result.header_bytes >= HTTPC_MAX_HEADER_BYTES) {
            fail(c, HTTPC_PROTOCOL, "header over 8192 bytes");
            return -1;
        }
        c->result.header_bytes += (uint32_t)counts;
        if (b == '\n') {
            c->line_cr = 0;
            return 1;
        }
        if (c->line_cr || b == 0) {
            fail(c, HTTPC_PROTOCOL, b ? "CR inside a line" : "NUL in the header");
            return -1;
        }
        if (b == '\r') {
            c->line_cr = 1;
            continue;
        }
        if (c->line_len >= max_content) {
            fail(c, HTTPC_PROTOCOL, too_long);
            return -1;
        }
        /* A status line must start with "HTTP/": refuse garbage at once. */
        if (c->state == HTTPC_ST_STATUS && c->line_len < 5 &&
            b != (unsigned char)"HTTP/"[c->line_len]) {
            fail(c, HTTPC_PROTOCOL, "not an HTTP status line");
            return -1;
        }
        c->line[c->line_len++] = (char)b;
    }
    return 0;
}

/* "HTTP/1.x SP 3DIGIT [SP reason-phrase]" */
static int parse_status_line(struct httpc *c)
{
    const char *l = c->line;
    size_t n = c->line_len, i;
    if (n < 12 || memcmp(l, "HTTP/1.", 7) != 0 || (l[7] != '0' && l[7] != '1') || l[8] != ' ' ||
        l[9] < '1' || l[9] > '5' || l[10] < '0' || l[10] > '9' || l[11] < '0' || l[11] > '9' ||
        (n > 12 && l[12] != ' '))
        return -1;
    for (i = 13; i < n; i++)
        if (!is_text((unsigned char)l[i]))
            return -1;
    c->result.version_minor = (uint8_t)(l[7] - '0');
    c->result.status = (uint16_t)((l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0'));
    if (n > 13)
        copy_printable(c->result.reason_phrase, sizeof(c->result.reason_phrase), l + 13, n - 13);
    else
        c->result.reason_phrase[0] = '\0';
    return 0;
}

/* 1*DIGIT; values over max_body are only remembered as "too large". */
static int parse_content_length(struct httpc *c, const char *v, size_t n)
{
    uint64_t value = 0;
    uint8_t over = 0;
    size_t i;
    if (n == 0)
        return -1;
    for (i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        value = value * 10u + (uint64_t)(v[i] - '0');
        if (value > c->cfg.max_body) {
            over = 1;
            value = (uint64_t)c->cfg.max_body + 1u; /* saturate: no overflow */
        }
    }
    if (c->result.have_length &&
        (over != c->cl_over || (!over && value != c->result.content_length)))
        return -1; /* conflicting duplicates */
    c->result.have_length = 1;
    c->result.content_length = (uint32_t)value;
    c->cl_over = over;
    return 0;
}

static void header_field(struct httpc *c, const char *name, size_t nlen, const char *v,
                         size_t vlen)
{
    if (equals_ci(name, nlen, "content-length")) {
        if (parse_content_length(c, v, vlen) != 0)
            fail(c, HTTPC_PROTOCOL, "bad or conflicting Content-Length");
    } else if (equals_ci(name, nlen, "transfer-encoding")) {
        /* Only a single "chunked" coding is supported. */
        c->te_chunked = !c->have_te && equals_ci(v, vlen, "chunked");
        c->have_te = 1;
    } else if (equals_ci(name, nlen, "location")) {
        copy_printable(c->result.location, sizeof(c->result.location), v, vlen);
    }
}

/* One "name: value" line (headers or trailers). Returns 0 or -1 (failed). */
static int parse_field_line(struct httpc *c, int trailer)
{
    const char *l = c->line;
    size_t n = c->line_len, colon = 0, start, end, i;
    if (++c->n_headers > HTTPC_MAX_HEADERS) {
        fail(c, HTTPC_PROTOCOL, "more than 32 header fields");
        return -1;
    }
    if (l[0] == ' ' || l[0] == '\t') {
        fail(c, HTTPC_PROTOCOL, "obsolete header line folding");
        return -1;
    }
    while (colon < n && is_tchar((unsigned char)l[colon]))
        colon++;
    if (colon == 0 || colon == n || l[colon] != ':') {
        fail(c, HTTPC_PROTOCOL, "bad header field name");
        return -1;
    }
    for (start = colon + 1; start < n && (l[start] == ' ' || l[start] == '\t'); start++)
        ;
    for (end = n; end > start && (l[end - 1] == ' ' || l[end - 1] == '\t'); end--)
        ;
    for (i = start; i < end; i++)
        if (!is_text((unsigned char)l[i])) {
            fail(c, HTTPC_PROTOCOL, "control character in a header value");
            return -1;
        }
    if (!trailer)
        header_field(c, l, colon, l + start, end - start);
    return is_final(c->state) ? -1 : 0;
}

/* The header is complete: decide what the response means. */
static void end_of_header(struct httpc *c)
{
    uint16_t st = c->result.status;
    if (st >= 100 && st <= 199) {
        if (st == 101 || ++c->n_interim > HTTPC_MAX_INTERIM) {
            fail(c, HTTPC_PROTOCOL,
                 st == 101 ? "101 Switching Protocols" : "too many 1xx responses");
            return;
        }
        c->state = HTTPC_ST_STATUS; /* an interim response: the real one follows */
        c->result.have_length = 0;
        c->cl_over = 0;
        c->have_te = c->te_chunked = 0;
        return;
    }
    if (st >= 300 && st <= 399)
        fail(c, HTTPC_REDIRECT, "Location not followed");
    else if (st == 404)
        fail(c, HTTPC_NOT_FOUND, "404");
    else if (st != 200)
        fail(c, HTTPC_STATUS, "only 200 is accepted");
    else if (c->have_te && c->result.version_minor == 0)
        fail(c, HTTPC_PROTOCOL, "Transfer-Encoding in an HTTP/1.0 response");
    else if (c->have_te && c->result.have_length)
        fail(c, HTTPC_PROTOCOL, "both Transfer-Encoding and Content-Length");
    else if (c->have_te && !c->te_chunked)
        fail(c, HTTPC_PROTOCOL, "unsupported Transfer-Encoding");
    else if (c->have_te) {
        c->result.chunked = 1;
        c->state = HTTPC_ST_CHUNK_SIZE;
    } else if (!c->result.have_length)
        fail(c, HTTPC_PROTOCOL, "no Content-Length (a body ended by close could be truncated)");
    else if (c->cl_over)
        fail(c, HTTPC_TOO_LARGE, "Content-Length over the size limit");
    else if (c->result.content_length == 0)
        body_complete(c);
    else {
        c->remaining = c->result.content_length;
        c->state = HTTPC_ST_BODY;
    }
}

/* chunk-size [ BWS ";" chunk-ext ] */
static void parse_chunk_size(struct httpc *c)
{
    const char *l = c->line;
    size_t n = c->line_len, i = 0, sig = 0;
    uint32_t value = 0;
    int h;
    for (; i < n && (h = hex_value((unsigned char)l[i])) >= 0; i++) {
        if (sig || h)
            sig++;
        if (sig > 8) { /* over 32 bits: certainly over the limit */
            fail(c, HTTPC_TOO_LARGE, "chunk size over the size limit");
            return;
        }
        value = (value << 4) | (uint32_t)h;
    }
    if (i == 0) {
        fail(c, HTTPC_PROTOCOL, "bad chunk size line");
        return;
    }
    while (i < n && (l[i] == ' ' || l[i] == '\t'))
        i++;
    if (i < n && l[i] != ';') {
        fail(c, HTTPC_PROTOCOL, "bad chunk size line");
        return;
    }
    for (; i < n; i++)
        if (!is_text((unsigned char)l[i])) {
            fail(c, HTTPC_PROTOCOL, "bad chunk extension");
            return;
        }
    if (value == 0) {
        c->state = HTTPC_ST_TRAILERS;
    } else if (value > c->cfg.max_body - c->result.size) {
        fail(c, HTTPC_TOO_LARGE, "chunked body over the size limit");
    } else {
        c->remaining = value;
        c->state = HTTPC_ST_CHUNK_DATA;
    }
}

/* Hands the next run of body bytes to the caller (one DATA action). */
static void take_body(struct httpc *c)
{
    size_t take = c->in_len < c->remaining ? c->in_len : c->remaining;
    c->data = c->in;
    c->data_len = take;
    c->data_off = c->result.size;
    c->result.size += (uint32_t)take;
    c->remaining -= (uint32_t)take;
    c->in += take;
    c->in_len -= take;
}

static void step_line_state(struct httpc *c)
{
    int r;
    switch (c->state) {
    case HTTPC_ST_STATUS:
        r = read_line(c, HTTPC_MAX_LINE - 2, 1, "status line over 1024 bytes");
        if (r == 1 && parse_status_line(c) != 0)
            fail(c, HTTPC_PROTOCOL, "bad status line");
        else if (r == 1)
            c->state = HTTPC_ST_HEADERS;
        break;
    case HTTPC_ST_HEADERS:
    case HTTPC_ST_TRAILERS:
        r = read_line(c, HTTPC_MAX_LINE - 2, 1, "header line over 1024 bytes");
        if (r == 1 && c->line_len == 0) {
            if (c->state == HTTPC_ST_HEADERS)
                end_of_header(c);
            else
                body_complete(c);
        } else if (r == 1) {
            (void)parse_field_line(c, c->state == HTTPC_ST_TRAILERS);
        }
        break;
    case HTTPC_ST_CHUNK_SIZE:
        r = read_line(c, HTTPC_MAX_CHUNK_LINE - 2, 0, "chunk size line over 128 bytes");
        if (r == 1)
            parse_chunk_size(c);
        break;
    case HTTPC_ST_CHUNK_END:
        r = read_line(c, 0, 0, "chunk data longer than its size");
        if (r == 1)
            c->state = HTTPC_ST_CHUNK_SIZE;
        break;
    default:
        r = 0;
        break;
    }
    if (r == 1)
        c->line_len = 0;
}

/* Parses buffered input until it is used up, a body run is ready for the
 * caller, or the download is over. */
static void parse_input(struct httpc *c)
{
    while (c->in_len && c->data_len == 0 && !is_final(c->state)) {
        if (c->state == HTTPC_ST_LINGER)
            fail(c, HTTPC_PROTOCOL, "bytes after the end of the body");
        else if (c->state == HTTPC_ST_BODY || c->state == HTTPC_ST_CHUNK_DATA) {
            take_body(c);
            if (c->remaining == 0 && c->state == HTTPC_ST_BODY)
                body_complete(c);
            else if (c->remaining == 0)
                c->state = HTTPC_ST_CHUNK_END;
        } else
            step_line_state(c);
    }
    /* The server's close counts once every byte before it was parsed. */
    if (c->in_len == 0 && c->data_len == 0 && c->peer_closed) {
        if (c->state == HTTPC_ST_LINGER)
            finish(c, HTTPC_OK, NULL);
        else if (is_parsing(c->state))
            fail(c, HTTPC_TRUNCATED, closed_detail(c->state));
        c->peer_closed = 0;
    }
}

enum httpc_action httpc_poll(struct httpc *c, struct httpc_output *out)
{
    memset(out, 0, sizeof(*out));
    if (c->pend_connect) {
        c->pend_connect = 0;
        return HTTPC_ACT_CONNECT;
    }
    if (c->pend_send) {
        c->pend_send = 0;
        out->data = c->req;
        out->len = c->req_len;
        return HTTPC_ACT_SEND;
    }
    parse_input(c);
    if (c->data_len) {
        out->data = c->data;
        out->len = c->data_len;
        out->offset = c->data_off;
        c->data_len = 0;
        return HTTPC_ACT_DATA;
    }
    if (c->pend_close) {
        c->pend_close = 0;
        return HTTPC_ACT_CLOSE;
    }
    if (c->pend_final) {
        c->pend_final = 0;
        out->reason = c->result.reason;
        out->offset = c->result.size;
        return c->result.reason == HTTPC_OK ? HTTPC_ACT_DONE : HTTPC_ACT_FAILED;
    }
    return HTTPC_IDLE;
}

int httpc_finished(const struct httpc *c)
{
    return is_final(c->state);
}

const struct httpc_result *httpc_result(const struct httpc *c)
{
    return &c->result;
}

const char *httpc_reason_str(enum httpc_reason r)
{
    switch (r) {
    case HTTPC_OK: return "ok";
    case HTTPC_NOT_FOUND: return "not found";
    case HTTPC_TOO_LARGE: return "too large";
    case HTTPC_REFUSED: return "connection refused";
    case HTTPC_TIMEOUT: return "timeout";
    case HTTPC_STATUS: return "unexpected status";
    case HTTPC_REDIRECT: return "redirect refused";
    case HTTPC_PROTOCOL: return "protocol error";
    case HTTPC_TRUNCATED: return "truncated";
    }
    return "?";
}
