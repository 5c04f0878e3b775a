/* httpc: a sans-I/O HTTP/1.1 GET client for provisioning files.
 *
 * No sockets, clocks, heap or printf in here: the caller reports the
 * connection's events (connected, bytes, closed) and the current time, and
 * drains actions with httpc_poll() until it says HTTPC_IDLE. The caller owns
 * all memory (struct httpc is sized for static allocation).
 *
 * One request per connection: GET with a Host header and
 * "Connection: close". The server is the caller's business (one address and
 * port per download); httpc only asks it to connect, send and close.
 *
 * Loop, on every board:
 *   httpc_start(c, host, port, file, now); drain httpc_poll();
 *   until DONE/FAILED: wait for a connection event or httpc_wait_ms();
 *     connected -> httpc_on_connected(); connect error -> httpc_on_connect_failed();
 *     bytes -> httpc_on_data(); EOF/reset -> httpc_on_closed();
 *     time -> httpc_on_tick(); drain httpc_poll() after each.
 * Drain httpc_poll() after EVERY call that feeds it: HTTPC_ACT_DATA points
 * into the bytes given to the last httpc_on_data() call, and those bytes are
 * parsed lazily while poll is drained.
 *
 * Limits, framing rules and timeouts are described in docs/http.md. */
#ifndef HTTPC_HTTPC_H
#define HTTPC_HTTPC_H
#include <stddef.h>
#include <stdint.h>

/* Shared with TFTP: the phone logs "max size = 550001". */
#define HTTPC_DEFAULT_MAX_BODY 550001u
#define HTTPC_MAX_FILENAME 255u
#define HTTPC_MAX_HOST 63u
/* Fits the longest name percent-encoded (3 x 255) with the longest host. */
#define HTTPC_MAX_REQUEST 1024u
/* Hard limits on what the server sends before (and after) the body. */
#define HTTPC_MAX_LINE 1024u         /* status or header line, CRLF included */
#define HTTPC_MAX_CHUNK_LINE 128u    /* chunk-size line, extensions included */
#define HTTPC_MAX_HEADERS 32u        /* header fields per response, trailers included */
#define HTTPC_MAX_HEADER_BYTES 8192u /* status line + headers (+ trailers) */
#define HTTPC_MAX_INTERIM 4u         /* 1xx responses skipped before the final one */
#define HTTPC_TEXT_MAX 48u           /* reason phrase / Location kept for traces */

struct httpc_config {
    uint32_t max_body;           /* bytes; 0 = HTTPC_DEFAULT_MAX_BODY */
    uint32_t connect_timeout_ms; /* start -> connected */
    uint32_t idle_timeout_ms;    /* longest silence once connected */
    uint32_t total_timeout_ms;   /* start -> complete response */
    uint32_t linger_ms;          /* after the body: wait this long for the server's close */
};

/* Defaults: 550001 bytes, connect 2 s, idle 5 s, total 30 s, linger 250 ms. */
void httpc_config_default(struct httpc_config *cfg);

enum httpc_action {
    HTTPC_IDLE = 0,      /* nothing more to do until the next event */
    HTTPC_ACT_CONNECT,   /* open a TCP connection to the server */
    HTTPC_ACT_SEND,      /* write all of out.data/out.len on the connection */
    HTTPC_ACT_DATA,      /* body bytes out.data/out.len at out.offset */
    HTTPC_ACT_CLOSE,     /* close the connection (comes before DONE/FAILED) */
    HTTPC_ACT_DONE,      /* body complete: out.offset = size */
    HTTPC_ACT_FAILED,    /* out.reason; see httpc_result() for details */
};

enum httpc_reason {
    HTTPC_OK = 0,
    HTTPC_NOT_FOUND,     /* 404 */
    HTTPC_TOO_LARGE,     /* Content-Length or body over max_body */
    HTTPC_REFUSED,       /* the connection could not be made (refused, unreachable) */
    HTTPC_TIMEOUT,       /* connect, idle or total timeout (result.detail says which) */
    HTTPC_STATUS,        /* a final status other than 200/404/3xx (result.status) */
    HTTPC_REDIRECT,      /* 3xx: redirects are refused (result.location) */
    HTTPC_PROTOCOL,      /* malformed response or a limit exceeded (result.detail) */
    HTTPC_TRUNCATED,     /* closed/reset before the response was complete */
};

struct httpc_output {
    const uint8_t *data;         /* SEND: request bytes; DATA: body bytes */
    size_t len;
    uint32_t offset;             /* DATA: body offset of data[0]; DONE: size */
    enum httpc_reason reason;    /* FAILED */
};

struct httpc_result {
    enum httpc_reason reason;
    uint16_t status;             /* final status code, 0 if none was read */
    uint8_t version_minor;       /* HTTP/1.x of the response */
    uint8_t chunked;             /* body was chunked */
    uint8_t have_length;
    uint32_t content_length;     /* if have_length */
    uint32_t size;               /* body bytes delivered */
    uint32_t header_bytes;       /* status line + headers + trailers */
    uint32_t request_no;         /* httpc_start() count since httpc_init() */
    const char *detail;          /* static text: which limit, which timeout, ... */
    char reason_phrase[HTTPC_TEXT_MAX]; /* printable ASCII only, cut */
    char location[HTTPC_TEXT_MAX];      /* of a 3xx, printable ASCII only, cut */
};

/* Internal state; fields are private to httpc.c. */
enum httpc_state {
    HTTPC_ST_IDLE = 0, HTTPC_ST_CONNECTING, HTTPC_ST_STATUS, HTTPC_ST_HEADERS,
    HTTPC_ST_BODY, HTTPC_ST_CHUNK_SIZE, HTTPC_ST_CHUNK_DATA, HTTPC_ST_CHUNK_END,
    HTTPC_ST_TRAILERS, HTTPC_ST_LINGER, HTTPC_ST_DONE, HTTPC_ST_FAILED,
};

struct httpc {
    struct httpc_config cfg;
    enum httpc_state state;
    uint32_t request_no;

    /* timers (absolute ms, wrapping) */
    uint32_t t_start;
    uint32_t t_last;             /* last connection event (for idle) */
    uint32_t t_linger;           /* end of the linger period */

    /* input given to the last httpc_on_data(), parsed while polling */
    const uint8_t *in;
    size_t in_len;

    /* line assembly (status, headers, chunk sizes, trailers) */
    uint16_t line_len;
    uint8_t line_cr;             /* the previous byte was CR */
    uint8_t n_headers;
    uint8_t n_interim;
    uint8_t have_te;
    uint8_t te_chunked;
    uint8_t cl_over;             /* Content-Length over max_body */
    uint8_t peer_closed;         /* 1 closed, 2 reset: handled once input is parsed */
    uint32_t remaining;          /* body or chunk bytes still to come */

    /* outputs waiting for httpc_poll(), in this order */
    uint8_t pend_connect;
    uint8_t pend_send;
    uint8_t pend_close;
    uint8_t pend_final;
    uint8_t conn_open;
    const uint8_t *data;
    size_t data_len;
    uint32_t data_off;

    uint16_t req_len;
    uint8_t req[HTTPC_MAX_REQUEST];
    char line[HTTPC_MAX_LINE];
    struct httpc_result result;
};

void httpc_init(struct httpc *c, const struct httpc_config *cfg);
/* Starts a download of "/<file>" from host:port (host as written in the
 * Host header: an address or name). Any previous download is forgotten.
 * Returns 0, or -1 if the name or host is empty, too long or unusable. */
int httpc_start(struct httpc *c, const char *host, uint16_t port, const char *file,
                uint32_t now_ms);
/* The connection asked for by HTTPC_ACT_CONNECT is established. */
void httpc_on_connected(struct httpc *c, uint32_t now_ms);
/* It could not be established (refused, unreachable, local error). */
void httpc_on_connect_failed(struct httpc *c, uint32_t now_ms);
/* Bytes received on the connection (parsed while httpc_poll() is drained). */
void httpc_on_data(struct httpc *c, const uint8_t *p, size_t n, uint32_t now_ms);
/* The server closed the connection (reset = 1 for an abortive close). */
void httpc_on_closed(struct httpc *c, int reset, uint32_t now_ms);
/* Time passed; fails the download when a timeout is reached. */
void httpc_on_tick(struct httpc *c, uint32_t now_ms);
/* Returns 1 and the absolute deadline when one is armed, else 0. */
int httpc_next_deadline(const struct httpc *c, uint32_t *deadline_ms);
/* Milliseconds until the deadline (0 if due), or -1 when none is armed. */
int32_t httpc_wait_ms(const struct httpc *c, uint32_t now_ms);
enum httpc_action httpc_poll(struct httpc *c, struct httpc_output *out);

/* 1 once the download finished (DONE or FAILED). */
int httpc_finished(const struct httpc *c);
const struct httpc_result *httpc_result(const struct httpc *c);
const char *httpc_reason_str(enum httpc_reason r);

#endif
