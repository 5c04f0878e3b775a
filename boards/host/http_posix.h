/* POSIX TCP glue driving the sans-I/O HTTP client (httpc).
 *
 * One non-blocking TCP connection per download: connect with httpc's
 * connect timeout, send the request, read with poll() on httpc's deadline
 * (no busy wait). Nothing is traced here: the caller gets a result (and an
 * optional callback when a request goes out) and traces it itself. */
#ifndef BOARDS_HOST_HTTP_POSIX_H
#define BOARDS_HOST_HTTP_POSIX_H
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "httpc/httpc.h"

struct http_posix_result {
    enum httpc_reason reason;
    struct httpc_result detail;  /* status, reason phrase, location, what went wrong */
    int sys_errno;               /* errno of a failed connect, 0 otherwise */
    uint32_t elapsed_ms;
};

/* Called when a download starts (before connecting), so the caller can
 * trace "[3]:HTTP GET /ITLSEP....tlv". */
typedef void (*http_posix_request_fn)(void *ctx, uint32_t request_no, const char *file);

struct http_posix {
    struct sockaddr_in addr;
    char host[16];               /* numeric IPv4 address, for the Host header */
    uint16_t port;
    int fd;
    struct httpc c;
    http_posix_request_fn on_request;
    void *ctx;
    uint8_t rx[4096];
};

/* Prepares downloads from host:port. cfg NULL = httpc_config_default().
 * Returns 0, or -1 if host is not a numeric IPv4 address or port is 0. */
int http_posix_open(struct http_posix *s, const char *host, uint16_t port,
                    const struct httpc_config *cfg);
/* Downloads `file` into buf (at most cap bytes; a larger body is refused as
 * HTTPC_TOO_LARGE). Returns HTTPC_OK (0), another enum httpc_reason, or -1
 * on a local error. res may be NULL. */
int http_posix_fetch(struct http_posix *s, const char *file, uint8_t *buf, size_t cap,
                     size_t *len, struct http_posix_result *res);
void http_posix_close(struct http_posix *s);

#endif
