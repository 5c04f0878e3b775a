/* A secd/tls session over a board's byte stream (TCP): the loops that
 * drive the sans-I/O session (secd/tls.h) through a handshake, a write, a
 * read or a close, each with a deadline, written once for every board.
 *
 * A board's connection starts with a struct tls_stream whose io says how
 * this transport moves bytes; tls_stream_handshake/_write/_read have
 * struct tvs_net's signatures (firmware/tvs_client.h), so a board plugs
 * them in as they are and keeps only what is really its own: connect,
 * the tls_stream_io functions, and close/release. See docs/porting.md.
 *
 * Nothing is traced here: results go back as enum tvs_net_result; the
 * status of a TLS step that failed is kept in tls_stream.tls_status. */
#ifndef FIRMWARE_TLS_STREAM_H
#define FIRMWARE_TLS_STREAM_H
#include <stddef.h>
#include <stdint.h>

#include "secd/tls.h"
#include "tvs_client.h"

struct tls_stream;

/* What tls_stream.io->wait waits for. */
enum tls_stream_wait { TLS_STREAM_WAIT_SEND, TLS_STREAM_WAIT_RECV };

/* The transport under a session. None of these waits but `wait`. */
struct tls_stream_io {
    /* Hands up to n bytes (n <= SECD_TLS_IO_BUF) to the transport.
     * Returns how many it took (0: no room now, wait for it), or -1 when
     * the connection is broken (the session is then told so). */
    int (*send_some)(struct tls_stream *s, const uint8_t *p, size_t n);
    /* Feeds what has arrived to the session: bytes, as far as its input
     * room allows (secd_tls_feed), or the end of the stream
     * (secd_tls_feed_eof, reset=1 for a broken connection). Returns 0 only
     * when nothing has arrived yet, so that waiting makes sense. */
    int (*feed)(struct tls_stream *s, struct secd_tls *t);
    /* Waits until sending or receiving (what) may go on, or the deadline
     * (hal_monotonic_ms) passes: TVS_NET_OK to try again, TVS_NET_TIMEOUT
     * once the deadline has passed, TVS_NET_RESET when the wait failed. */
    enum tvs_net_result (*wait)(struct tls_stream *s, enum tls_stream_wait what,
                                uint32_t deadline);
};

/* The first member of a board's connection (the functions below take the
 * connection as struct tvs_net passes it). */
struct tls_stream {
    const struct tls_stream_io *io;
    enum secd_tls_status tls_status; /* of the last TLS step that failed */
};

/* Runs the handshake, then sends what its last step queued (Finished, or
 * an alert). */
enum tvs_net_result tls_stream_handshake(void *conn, struct secd_tls *t, uint32_t timeout_ms);
/* Writes all n bytes through TLS and hands them to the transport. */
enum tvs_net_result tls_stream_write(void *conn, struct secd_tls *t, const uint8_t *p, size_t n,
                                     uint32_t timeout_ms);
/* Reads at least one byte, at most cap, through TLS. */
enum tvs_net_result tls_stream_read(void *conn, struct secd_tls *t, uint8_t *buf, size_t cap,
                                    size_t *got, uint32_t timeout_ms);
/* Reads exactly n bytes within timeout_ms. */
enum tvs_net_result tls_stream_read_exact(void *conn, struct secd_tls *t, uint8_t *buf, size_t n,
                                          uint32_t timeout_ms);
/* Queues close_notify and sends it for at most flush_ms (best effort); the
 * board then closes its connection. */
void tls_stream_close_notify(void *conn, struct secd_tls *t, uint32_t flush_ms);

#endif
