/* lwIP UDP glue driving the sans-I/O TFTP client (tftpc), the board's
 * counterpart of boards/host/tftp_posix: one raw-API UDP pcb, event driven
 * (datagrams arrive through lwIP's receive callback while the main loop
 * polls the NIC; tftp_lwip_poll() feeds tftpc the time). Nothing is traced
 * here: the caller gets results and an optional hook per first request.
 *
 * lwIP's raw UDP API does not report ICMP errors to a pcb, so a dead
 * server is left by tftpc's timers (docs/tftp.md), not at once as on the
 * POSIX board. */
#ifndef QEMU_TFTP_LWIP_H
#define QEMU_TFTP_LWIP_H
#include <stddef.h>
#include <stdint.h>

#include "lwip/ip4_addr.h"
#include "lwip/udp.h"
#include "tftpc/tftpc.h"

/* Receive copy: the largest block we ask for (1428) + header, plus one
 * byte so that tftpc still sees an oversize DATA as oversize (ERROR 4)
 * even though the copy is cut there. */
#define TFTP_LWIP_RX_MAX (1428u + 4u + 1u)

struct tftp_lwip_server {
    ip4_addr_t addr;
    uint16_t port;               /* request port: 69 normally */
};

typedef void (*tftp_lwip_request_fn)(void *ctx, uint32_t request_no, uint8_t server,
                                     const char *file);

struct tftp_lwip {
    struct udp_pcb *pcb;
    size_t n;
    struct tftp_lwip_server servers[TFTPC_MAX_SERVERS];
    struct tftpc c;
    struct tftpc_config cfg;     /* as opened; a fetch may lower the size limit */
    tftp_lwip_request_fn on_request;
    void *ctx;
    size_t cap, len;
    /* The file's bytes stream to this sink, in file order (on_restart when
     * tftpc starts over with another server): RAM does not grow with the
     * file. Both are set before tftp_lwip_start. */
    int (*on_data)(void *ctx, uint32_t offset, const uint8_t *p, size_t n);
    void (*on_restart)(void *ctx);
    void *sink_ctx;
    int busy;                    /* a download is running */
    uint8_t rx[TFTP_LWIP_RX_MAX];
};

/* Binds a UDP pcb to an ephemeral port. cfg NULL = tftpc defaults.
 * Returns 0, or -1 (bad server count, no pcb). */
int tftp_lwip_open(struct tftp_lwip *s, const struct tftp_lwip_server *servers, size_t n,
                   const struct tftpc_config *cfg);
/* Starts downloading `file` into the on_data sink (at most cap bytes: a
 * larger file is refused as TFTPC_TOO_LARGE). Returns 0, or -1 for a bad
 * name. */
int tftp_lwip_start(struct tftp_lwip *s, const char *file, size_t cap);
/* Timers: call from the main loop. */
void tftp_lwip_poll(struct tftp_lwip *s);
/* 1 once the download ended; then the reason (TFTPC_OK = complete), the
 * size and tftpc's details. */
int tftp_lwip_finished(const struct tftp_lwip *s);
enum tftpc_reason tftp_lwip_reason(const struct tftp_lwip *s);
size_t tftp_lwip_len(const struct tftp_lwip *s);
const struct tftpc_result *tftp_lwip_result(const struct tftp_lwip *s);
void tftp_lwip_close(struct tftp_lwip *s);

#endif
