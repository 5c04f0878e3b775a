/* Streaming signed-file check (see secd_stream_* in secd.h). */
#include <string.h>

#include "secd_internal.h"

_Static_assert(sizeof(struct secd_sig_ctx) <= sizeof(((struct secd_stream *)0)->sig_state),
               "secd_stream.sig_state too small");

static struct secd_sig_ctx *sig_of(struct secd_stream *s)
{
    return (struct secd_sig_ctx *)(void *)s->sig_state;
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

void secd_stream_begin(struct secd_stream *s)
{
    memset(s, 0, sizeof *s);
}

const struct secd_header *secd_stream_header(const struct secd_stream *s)
{
    return s->header_done ? &s->hdr : NULL;
}

/* Parses the buffered header once it is complete and starts the hash. */
static enum secd_err start_hash(struct secd_stream *s, size_t header_len)
{
    enum secd_err e = secd_parse_header(s->head, header_len, &s->hdr);
    if (e != SECD_OK)
        return e;
    if (secd_sig_begin(sig_of(s), &s->hdr) != 0 ||
        secd_sig_update(sig_of(s), 0, s->head, header_len) != 0)
        return SECD_ERR_CRYPTO;
    s->header_done = 1;
    return SECD_OK;
}

/* Buffers header bytes; returns how many of p it took. */
static size_t take_header(struct secd_stream *s, const uint8_t *p, size_t n)
{
    size_t want = 10 - s->head_len; /* first learn the header length */
    if (s->head_len >= 10) {
        size_t header_len = be16(s->head + 8);
        size_t keep = header_len;
        if (keep > sizeof s->head)
            keep = sizeof s->head;
        want = keep > s->head_len ? keep - s->head_len : 0;
    }
    size_t take = n < want ? n : want;
    memcpy(s->head + s->head_len, p, take);
    s->head_len += take;
    return take;
}

enum secd_err secd_stream_update(struct secd_stream *s, const uint8_t *p, size_t n)
{
    if (s->err != SECD_OK)
        return s->err;
    if (n > SECD_MAX_FILE_SIZE - s->total) {
        s->err = SECD_ERR_TOO_LARGE;
        return s->err;
    }
    size_t pos = s->total;
    s->total += n;
    while (!s->header_done && n > 0) {
        size_t took = take_header(s, p, n);
        p += took;
        n -= took;
        pos += took;
        if (s->head_len < 10)
            continue;
        size_t header_len = be16(s->head + 8);
        if (header_len > sizeof s->head) {
            if (took == 0)
                break; /* kept what fits; judged at the end (secd_stream_finish) */
            continue;
        }
        if (s->head_len == header_len || (header_len < 10 && s->head_len == 10)) {
            s->err = start_hash(s, s->head_len);
            if (s->err != SECD_OK)
                return s->err;
        }
    }
    if (s->header_done && n > 0 && secd_sig_update(sig_of(s), pos, p, n) != 0)
        s->err = SECD_ERR_CRYPTO;
    return s->err;
}

/* What both finishes share: the file's header in d->hdr, or the verdict. */
static enum secd_err finish_header(struct secd_stream *s, const struct secd_trust *t,
                                   struct secd_decision *d)
{
    memset(d, 0, sizeof *d);
    if (t->corrupt)
        return SECD_ERR_TRUST_STORE_CORRUPT;
    if (s->err != SECD_OK)
        return s->err;
    if (!s->header_done) {
        /* The file ended inside its header, or the header is larger than a
         * phone keeps (real ones are under 1 KiB): the walk over what was
         * kept tells a cut file from a lying header length. */
        if (s->head_len >= 10 && s->total >= be16(s->head + 8))
            return SECD_ERR_UNSUPPORTED;
        enum secd_err e = secd_parse_header(s->head, s->head_len, &d->hdr);
        return e == SECD_OK ? SECD_ERR_TRUNCATED : e;
    }
    d->hdr = s->hdr;
    return SECD_OK;
}

static enum secd_err finish_digest(struct secd_stream *s, uint8_t *digest, size_t *dlen)
{
    if (secd_sig_final(sig_of(s), digest, dlen) != 0)
        return SECD_ERR_CRYPTO;
    s->err = SECD_ERR_CRYPTO; /* the hash is spent: finish once */
    return SECD_OK;
}

enum secd_err secd_stream_finish(struct secd_stream *s, const struct secd_trust *t,
                                 const char *requested, struct secd_decision *d)
{
    enum secd_err e = finish_header(s, t, d);
    if (e != SECD_OK)
        return e;
    if (!secd_filename_ok(&d->hdr, SECD_KIND_SIGNED, requested))
        return SECD_ERR_FILENAME_MISMATCH;
    uint8_t digest[64];
    size_t dlen;
    if (finish_digest(s, digest, &dlen) != SECD_OK)
        return SECD_ERR_CRYPTO;
    return secd_decide_signed(t, digest, dlen, d);
}

enum secd_err secd_stream_finish_tl(struct secd_stream *s, const struct secd_trust *t,
                                    enum secd_kind kind, const struct secd_tl_source *staged,
                                    const char *requested, struct secd_decision *d)
{
    enum secd_err e = finish_header(s, t, d);
    if (e != SECD_OK)
        return e;
    uint8_t digest[64];
    size_t dlen;
    if (finish_digest(s, digest, &dlen) != SECD_OK)
        return SECD_ERR_CRYPTO;
    return secd_check_streamed_tl(t, kind, staged, s->total, requested, digest, dlen, d);
}
