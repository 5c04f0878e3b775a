/* POSIX UDP glue driving the sans-I/O TFTP client (tftpc).
 *
 * One UDP socket per session, poll() with tftpc's deadline (no busy wait),
 * ICMP "port unreachable" picked up through IP_RECVERR so that a dead server
 * is skipped at once. Nothing is traced here: the caller gets results (and
 * an optional callback when a request goes out) and traces them itself. */
#ifndef BOARDS_HOST_TFTP_POSIX_H
#define BOARDS_HOST_TFTP_POSIX_H
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "tftpc/tftpc.h"

struct tftp_posix_server {
    const char *host;            /* numeric IPv4 address */
    uint16_t port;               /* request port, 69 normally */
};

struct tftp_posix_result {
    enum tftpc_reason reason;
    struct tftpc_result detail;  /* server index, error code/message, blksize, tsize, ... */
    struct tftpc_counters counters;
    uint32_t elapsed_ms;
};

/* Called when a first (not retransmitted) request goes to a server, so the
 * caller can trace "[27]:Requesting X from 14.48.44.80". */
typedef void (*tftp_posix_request_fn)(void *ctx, uint32_t request_no, uint8_t server,
                                      const char *file);

struct tftp_posix {
    int fd;
    size_t n;
    struct sockaddr_in addr[TFTPC_MAX_SERVERS];
    struct tftpc c;
    tftp_posix_request_fn on_request;
    void *ctx;
    uint8_t rx[TFTPC_MAX_BLKSIZE + 4 + 1];
};

/* Opens the socket. cfg NULL = tftpc_config_default(). Returns 0 or -1. */
int tftp_posix_open(struct tftp_posix *s, const struct tftp_posix_server *servers, size_t n,
                    const struct tftpc_config *cfg);
/* Downloads `file` into buf (at most cap bytes; a larger file is refused as
 * TFTPC_TOO_LARGE). Returns TFTPC_OK (0), another enum tftpc_reason, or -1
 * on a local error (socket, clock). res may be NULL. */
int tftp_posix_fetch(struct tftp_posix *s, const char *file, uint8_t *buf, size_t cap,
                     size_t *len, struct tftp_posix_result *res);
void tftp_posix_close(struct tftp_posix *s);

/* One-shot: open, fetch, close (request numbers restart at 1). */
int tftp_posix_get(const struct tftp_posix_server *servers, size_t n,
                   const struct tftpc_config *cfg, const char *file, uint8_t *buf, size_t cap,
                   size_t *len, struct tftp_posix_result *res);

/* Parses "a.b.c.d[:port]" (port defaults to 69) into a server. host_buf
 * (at least 16 bytes) receives the address text. Returns 0 or -1. */
int tftp_posix_parse_server(const char *text, char *host_buf, size_t host_cap,
                            struct tftp_posix_server *out);

#endif
