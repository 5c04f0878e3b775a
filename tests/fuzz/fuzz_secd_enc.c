/* libFuzzer: the .enc.sgn path after the header: key unwrap with the
 * device key, streaming AES-CBC, padding and digest checks. The signature
 * check is bypassed on purpose so the fuzzer reaches the decryption code
 * with arbitrary headers and bodies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/asn_public.h>

#include "secd/secd.h"

static uint8_t key_der[4096];
static size_t key_len;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char path[1024];
    uint8_t pem[8192];
    snprintf(path, sizeof path, "%s/keys/mic.key", SECD_INTEROP_DIR);
    FILE *f = fopen(path, "rb");
    if (!f)
        abort();
    size_t n = fread(pem, 1, sizeof pem, f);
    fclose(f);
    int k = wc_KeyPemToDer(pem, (int)n, key_der, sizeof key_der, NULL);
    if (k <= 0)
        abort();
    key_len = (size_t)k;
    return 0;
}

static int sink(void *ctx, const uint8_t *p, size_t n)
{
    size_t *total = ctx;
    *total += n;
    return p[0] == 0xFF && n == 1; /* a consumer may refuse */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    struct secd_header h;
    static struct secd_decrypt dec;
    if (secd_parse_header(buf, size, &h) == SECD_OK && h.encrypted &&
        secd_decrypt_begin(&dec, &h, key_der, key_len) == SECD_OK) {
        size_t total = 0, off = h.header_len, step = 1 + (size % 61);
        enum secd_err e = SECD_OK;
        while (e == SECD_OK && off < size) {
            size_t n = size - off < step ? size - off : step;
            e = secd_decrypt_update(&dec, buf + off, n, sink, &total);
            off += n;
        }
        (void)secd_decrypt_final(&dec, sink, &total);
    }
    free(buf);
    return 0;
}
