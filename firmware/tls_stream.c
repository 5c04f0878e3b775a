/* A secd/tls session over a board's byte stream (see tls_stream.h). */
#include "tls_stream.h"

#include "hal/hal_clock.h"

static uint32_t now_ms(void)
{
    return hal_monotonic_ms();
}

/* Sends everything the session has queued, then, with want_input, feeds
 * it what arrives if it waits for input (the session reports what an end
 * of the stream means). Waits while the transport has no room, or nothing
 * has arrived. */
static enum tvs_net_result pump(struct tls_stream *s, struct secd_tls *t, int want_input,
                                uint32_t deadline)
{
    for (;;) {
        const uint8_t *p;
        size_t n = secd_tls_output(t, &p);
        enum tls_stream_wait what = TLS_STREAM_WAIT_SEND;
        if (n > 0) {
            int taken = s->io->send_some(s, p, n);
            if (taken < 0) {
                secd_tls_feed_eof(t, 1);
                return TVS_NET_RESET;
            }
            if (taken > 0) {
                secd_tls_output_done(t, (size_t)taken);
                continue;
            }
        } else if (!want_input || !secd_tls_wants_input(t) || s->io->feed(s, t)) {
            return TVS_NET_OK;
        } else {
            what = TLS_STREAM_WAIT_RECV;
        }
        enum tvs_net_result r = s->io->wait(s, what, deadline);
        if (r != TVS_NET_OK)
            return r;
    }
}

/* The result of a TLS step that failed (or ended the stream). */
static enum tvs_net_result tls_failure(struct tls_stream *s, enum secd_tls_status st)
{
    s->tls_status = st;
    if (st == SECD_TLS_CLOSED)
        return TVS_NET_CLOSED;
    return st == SECD_TLS_ERR_IO ? TVS_NET_RESET : TVS_NET_TLS;
}

enum tvs_net_result tls_stream_handshake(void *conn, struct secd_tls *t, uint32_t timeout_ms)
{
    struct tls_stream *s = conn;
    uint32_t deadline = now_ms() + timeout_ms;
    for (;;) {
        enum secd_tls_status st = secd_tls_handshake(t);
        /* The last step too may have queued something (Finished, or an
         * alert): it is sent before the result is reported. */
        enum tvs_net_result r = pump(s, t, st == SECD_TLS_WANT_IO, deadline);
        if (st != SECD_TLS_WANT_IO)
            return st != SECD_TLS_OK ? tls_failure(s, st) : r;
        if (r != TVS_NET_OK)
            return r;
    }
}

enum tvs_net_result tls_stream_write(void *conn, struct secd_tls *t, const uint8_t *p, size_t n,
                                     uint32_t timeout_ms)
{
    struct tls_stream *s = conn;
    uint32_t deadline = now_ms() + timeout_ms;
    while (n > 0) {
        size_t done; /* set by secd_tls_write, whatever it returns */
        enum secd_tls_status st = secd_tls_write(t, p, n, &done);
        if (st != SECD_TLS_OK && st != SECD_TLS_WANT_IO)
            return tls_failure(s, st);
        p += done;
        n -= done;
        enum tvs_net_result r = pump(s, t, st == SECD_TLS_WANT_IO, deadline);
        if (r != TVS_NET_OK)
            return r;
    }
    return TVS_NET_OK;
}

enum tvs_net_result tls_stream_read(void *conn, struct secd_tls *t, uint8_t *buf, size_t cap,
                                    size_t *got, uint32_t timeout_ms)
{
    struct tls_stream *s = conn;
    uint32_t deadline = now_ms() + timeout_ms;
    for (;;) {
        enum secd_tls_status st = secd_tls_read(t, buf, cap, got); /* sets *got */
        if (st == SECD_TLS_OK && *got > 0)
            return pump(s, t, 0, deadline);
        if (st != SECD_TLS_WANT_IO && st != SECD_TLS_OK)
            return tls_failure(s, st);
        enum tvs_net_result r = pump(s, t, 1, deadline);
        if (r != TVS_NET_OK)
            return r;
    }
}

enum tvs_net_result tls_stream_read_exact(void *conn, struct secd_tls *t, uint8_t *buf, size_t n,
                                          uint32_t timeout_ms)
{
    uint32_t deadline = now_ms() + timeout_ms;
    while (n > 0) {
        size_t got = 0;
        int32_t left = (int32_t)(deadline - now_ms());
        if (left <= 0)
            return TVS_NET_TIMEOUT;
        enum tvs_net_result r = tls_stream_read(conn, t, buf, n, &got, (uint32_t)left);
        if (r != TVS_NET_OK)
            return r;
        buf += got;
        n -= got;
    }
    return TVS_NET_OK;
}

void tls_stream_close_notify(void *conn, struct secd_tls *t, uint32_t flush_ms)
{
    secd_tls_close(t);
    pump(conn, t, 0, now_ms() + flush_ms);
}
