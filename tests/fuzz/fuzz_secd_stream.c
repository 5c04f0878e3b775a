/* libFuzzer, differential: the streaming signed-file check must give the
 * whole-file verdict for any input and any chunking. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secd/secd.h"

static struct secd_tl itl;
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
    free(buf);
    return 0;
}
