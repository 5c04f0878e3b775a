/* libFuzzer: signed-file header + trust-list records + the trust decision,
 * in every trust state (none, ITL installed, CTL + ITL installed, the
 * fuzz input itself installed as the trust list). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secd/secd.h"

static uint8_t *ctl_buf, *itl_buf;
static struct secd_tl ctl, itl;

static uint8_t *slurp(const char *rel, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", SECD_INTEROP_DIR, rel);
    FILE *f = fopen(path, "rb");
    if (!f)
        abort();
    uint8_t *p = malloc(65536);
    *len = fread(p, 1, 65536, f);
    fclose(f);
    return p;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    size_t n;
    ctl_buf = slurp("tlv/sha1/CTLFile.tlv", &n);
    if (secd_tl_load(&ctl, ctl_buf, n) != SECD_OK)
        abort();
    itl_buf = slurp("tlv/sha1/ITLFile.tlv", &n);
    if (secd_tl_load(&itl, itl_buf, n) != SECD_OK)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Exact-size heap copy so ASan sees any read past the end. */
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    struct secd_header h;
    if (secd_parse_header(buf, size, &h) == SECD_OK) {
        struct secd_rec_iter it;
        struct secd_record r;
        secd_records_begin(&it, buf, size, &h);
        while (secd_records_next(&it, &r) == SECD_OK && r.length)
            (void)secd_record_matches_signer(&r, &h);
    }
    struct secd_trust none = {0}, with_itl = {.itl = &itl}, both = {.ctl = &ctl, .itl = &itl};
    struct secd_decision d;
    (void)secd_check_file(&none, SECD_KIND_ITL, buf, size, "ITLFile.tlv", &d);
    (void)secd_check_file(&with_itl, SECD_KIND_ITL, buf, size, "ITLSEP001E7A4C11A1.tlv", &d);
    (void)secd_check_file(&both, SECD_KIND_CTL, buf, size, "CTLFile.tlv", &d);
    (void)secd_check_file(&both, SECD_KIND_SIGNED, buf, size, "SEP001E7A4C11A1.cnf.xml.sgn", &d);
    /* The input as an installed trust list deciding about a real file. */
    struct secd_tl mine;
    if (secd_tl_load(&mine, buf, size) == SECD_OK) {
        struct secd_trust t = {.itl = &mine};
        (void)secd_check_file(&t, SECD_KIND_ITL, itl_buf, itl.len, "ITLFile.tlv", &d);
    }
    free(buf);
    return 0;
}
