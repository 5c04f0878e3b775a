/* libFuzzer, differential: the streaming signed-file check must give the
 * whole-file verdict for any input and any chunking; so must the streaming
 * trust-list check (records read back one at a time through a source, as
 * the boot flow reads them from flash staging, against an installed ITL
 * read through a source too, both through ONE record buffer as on the
 * board). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secd/secd.h"

struct staged {
    const uint8_t *p;
    size_t len;
};

static int read_staged(void *ctx, uint32_t off, uint8_t *out, size_t n)
{
    const struct staged *s = ctx;
    if (off > s->len || n > s->len - off)
        return -1;
    memcpy(out, s->p + off, n);
    return 0;
}

/* The one record buffer every source below shares (the trust store's). */
static uint8_t rec[SECD_TL_BUF_SIZE];
static struct secd_tl itl;     /* in memory: the whole-file check's */
static struct secd_tl itl_src; /* the same bytes read through a source */
static struct staged itl_staged;
static struct secd_tl_source itl_source = {&itl_staged, read_staged, rec, sizeof rec};
static uint8_t *itl_buf;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char path[1024];
    snprintf(path, sizeof path, "%s/tlv/sha1/ITLFile.tlv", SECD_INTEROP_DIR);
    FILE *f = fopen(path, "rb");
    if (!f)
        abort();
    itl_buf = malloc(65536);
    size_t n = fread(itl_buf, 1, 65536, f);
    fclose(f);
    if (secd_tl_load(&itl, itl_buf, n) != SECD_OK)
        abort();
    itl_staged = (struct staged){itl_buf, n};
    /* Header and records through one buffer: same list, same rollback flag,
     * the header read back (its name still in `rec`). */
    if (secd_tl_load_source(&itl_src, &itl_source, n, rec, sizeof rec) != SECD_OK ||
        itl_src.rollback != itl.rollback || itl_src.hdr.header_len != itl.hdr.header_len ||
        itl_src.hdr.signer_name.len != itl.hdr.signer_name.len ||
        memcmp(itl_src.hdr.signer_name.p, itl.hdr.signer_name.p, itl.hdr.signer_name.len) != 0)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t chunk = 1 + data[0] % 97; /* first byte picks the chunking */
    data++;
    size--;
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    struct secd_trust t = {.itl = &itl};
    struct secd_decision whole, streamed;
    const char *name = "SEP001E7A4C11A1.cnf.xml.sgn";
    enum secd_err want = secd_check_file(&t, SECD_KIND_SIGNED, buf, size, name, &whole);
    static struct secd_stream st;
    secd_stream_begin(&st);
    for (size_t off = 0; off < size; off += chunk)
        secd_stream_update(&st, buf + off, size - off < chunk ? size - off : chunk);
    enum secd_err got = secd_stream_finish(&st, &t, name, &streamed);
    /* A header over SECD_STREAM_HEADER_MAX is refused by the stream alone. */
    if (got != want && got != SECD_ERR_UNSUPPORTED) {
        fprintf(stderr, "stream %s != whole %s\n", secd_err_reason(got), secd_err_reason(want));
        abort();
    }
    /* The same bytes as a downloaded ITL (per-phone name: either header
     * name is allowed) and CTL, checked against the installed ITL: whole
     * file against the list in memory, streamed against the list read
     * through the record buffer the download is read through too. */
    static const enum secd_kind kinds[] = {SECD_KIND_ITL, SECD_KIND_CTL};
    static const char *const names[] = {"ITLSEP001E7A4C11A1.tlv", "CTLSEP001E7A4C11A1.tlv"};
    struct staged st_src = {buf, size};
    struct secd_tl_source src = {&st_src, read_staged, rec, sizeof rec};
    struct secd_trust t_src = {.itl = &itl_src};
    for (int k = 0; k < 2; k++) {
        want = secd_check_file(&t, kinds[k], buf, size, names[k], &whole);
        secd_stream_begin(&st);
        for (size_t off = 0; off < size; off += chunk)
            secd_stream_update(&st, buf + off, size - off < chunk ? size - off : chunk);
        got = secd_stream_finish_tl(&st, &t_src, kinds[k], &src, names[k], &streamed);
        /* Only the stream refuses a header over SECD_STREAM_HEADER_MAX or a
         * record over the source's buffer. */
        if (got != want && got != SECD_ERR_UNSUPPORTED && got != SECD_ERR_TOO_LARGE) {
            fprintf(stderr, "%s stream %s != whole %s\n", names[k], secd_err_reason(got),
                    secd_err_reason(want));
            abort();
        }
        if (got == SECD_OK && streamed.rollback != whole.rollback)
            abort();
    }
    free(buf);
    return 0;
}
