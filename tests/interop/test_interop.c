/* Every verdict-bearing file of the interop MANIFEST.json, judged by the
 * secd library directly (the table is generated from the manifest at build
 * time, so no file can be skipped). Encrypted configs are decrypted with
 * the device key and the plaintext's SHA-256 compared. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "vectors.h"

struct row {
    const char *path, *ctl, *itl, *key;
    const char *reasons[3];
    const char *plaintext_sha256;
};

static const struct row table[] = {
#include "interop_table.inc"
};

struct sha_sink {
    wc_Sha256 sha;
};

static int sha_sink(void *ctx, const uint8_t *p, size_t n)
{
    return wc_Sha256Update(&((struct sha_sink *)ctx)->sha, p, (word32)n);
}

/* Decrypts with the row's device key; returns the verdict. */
static enum secd_err decrypt_row(const struct row *r, const struct secd_header *h,
                                 const struct vec *file)
{
    uint8_t der[4096];
    size_t der_len = vec_key_der(r->key, der, sizeof der);
    static struct secd_decrypt dec;
    struct sha_sink s;
    wc_InitSha256(&s.sha);
    enum secd_err e = secd_decrypt_begin(&dec, h, der, der_len);
    /* Feed in odd-sized pieces to exercise block reassembly. */
    for (size_t off = h->header_len; e == SECD_OK && off < file->len; off += 37) {
        size_t n = file->len - off < 37 ? file->len - off : 37;
        e = secd_decrypt_update(&dec, file->p + off, n, sha_sink, &s);
    }
    if (e == SECD_OK)
        e = secd_decrypt_final(&dec, sha_sink, &s);
    if (e == SECD_OK && r->plaintext_sha256) {
        uint8_t d[32];
        char hex[65];
        wc_Sha256Final(&s.sha, d);
        secd_hex(d, sizeof d, hex);
        assert_string_equal(hex, r->plaintext_sha256);
    }
    wc_Sha256Free(&s.sha);
    return e;
}

static enum secd_err judge(const struct row *r)
{
    struct vec ctl_v = {0}, itl_v = {0};
    struct secd_tl ctl, itl;
    struct secd_trust t = {0};
    if (r->ctl) {
        vec_load_tl(r->ctl, &ctl_v, &ctl);
        t.ctl = &ctl;
    }
    if (r->itl) {
        vec_load_tl(r->itl, &itl_v, &itl);
        t.itl = &itl;
    }
    struct vec file = vec_read(r->path);
    int is_unsigned;
    const char *name = vec_base(r->path);
    enum secd_kind kind = vec_kind(name, &is_unsigned);
    struct secd_decision d;
    enum secd_err e = is_unsigned ? secd_check_unsigned_config(&t)
                                  : secd_check_file(&t, kind, file.p, file.len, name, &d);
    if (e == SECD_OK && r->key) {
        if (is_unsigned) /* d is only filled in by secd_check_file */
            fail_msg("%s: manifest gives a key for an unsigned config", r->path);
        else
            e = decrypt_row(r, &d.hdr, &file);
    }
    vec_free(&file);
    vec_free(&ctl_v);
    vec_free(&itl_v);
    return e;
}

static void test_every_manifest_verdict(void **state)
{
    (void)state;
    size_t n = sizeof table / sizeof table[0], agreed = 0;
    for (size_t i = 0; i < n; i++) {
        const struct row *r = &table[i];
        const char *got = secd_err_reason(judge(r));
        int ok = 0;
        for (int k = 0; k < 3 && r->reasons[k]; k++)
            ok |= strcmp(got, r->reasons[k]) == 0;
        if (!ok)
            print_error("MISMATCH %s: got %s, want %s\n", r->path, got, r->reasons[0]);
        agreed += (size_t)ok;
    }
    print_message("interop: %zu/%zu manifest verdicts agree (library)\n", agreed, n);
    assert_int_equal(agreed, n);
    assert_true(n >= 60);
}

/* The streaming checker (downloads verified in O(1) RAM) must give the
 * verdict the whole-file checker gives, whatever the chunking. */
static void test_stream_agrees_with_whole_file(void **state)
{
    (void)state;
    static const size_t chunks[] = {1, 7, 512, 1428, 600000};
    size_t n = sizeof table / sizeof table[0], compared = 0;
    for (size_t i = 0; i < n; i++) {
        const struct row *r = &table[i];
        int is_unsigned;
        const char *name = vec_base(r->path);
        if (vec_kind(name, &is_unsigned) != SECD_KIND_SIGNED || is_unsigned)
            continue;
        struct vec itl_v = {0};
        struct secd_tl itl;
        struct secd_trust t = {0};
        if (r->itl) {
            vec_load_tl(r->itl, &itl_v, &itl);
            t.itl = &itl;
        }
        struct vec file = vec_read(r->path);
        struct secd_decision whole, streamed;
        enum secd_err want = secd_check_file(&t, SECD_KIND_SIGNED, file.p, file.len, name, &whole);
        for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
            static struct secd_stream st;
            secd_stream_begin(&st);
            for (size_t off = 0; off < file.len; off += chunks[c]) {
                size_t k = file.len - off < chunks[c] ? file.len - off : chunks[c];
                secd_stream_update(&st, file.p + off, k);
            }
            enum secd_err got = secd_stream_finish(&st, &t, name, &streamed);
            if (got != want)
                fail_msg("%s in chunks of %zu: stream says %s, whole file %s", r->path, chunks[c],
                         secd_err_reason(got), secd_err_reason(want));
            if (got == SECD_OK)
                assert_int_equal(streamed.hdr.header_len, whole.hdr.header_len);
        }
        compared++;
        vec_free(&file);
        vec_free(&itl_v);
    }
    print_message("stream: %zu signed files agree with the whole-file verdict\n", compared);
    assert_true(compared >= 25);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_every_manifest_verdict),
                                       cmocka_unit_test(test_stream_agrees_with_whole_file)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
