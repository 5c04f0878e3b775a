#include "vectors.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/asn_public.h>

struct vec vec_read(const char *rel)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", SECD_INTEROP_DIR, rel);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("missing vector %s", path);
    struct vec v = {NULL, 0};
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    v.p = malloc(n > 0 ? (size_t)n : 1);
    assert_non_null(v.p);
    v.len = fread(v.p, 1, (size_t)n, f);
    fclose(f);
    assert_int_equal(v.len, (size_t)n);
    return v;
}

void vec_free(struct vec *v)
{
    free(v->p);
    v->p = NULL;
}

void vec_load_tl(const char *rel, struct vec *v, struct secd_tl *tl)
{
    *v = vec_read(rel);
    enum secd_err e = secd_tl_load(tl, v->p, v->len);
    if (e != SECD_OK)
        fail_msg("%s: %s", rel, secd_err_reason(e));
}

size_t vec_key_der(const char *rel, uint8_t *der, size_t cap)
{
    struct vec pem = vec_read(rel);
    int n = wc_KeyPemToDer(pem.p, (int)pem.len, der, (int)cap, NULL);
    vec_free(&pem);
    assert_true(n > 0);
    return (size_t)n;
}

const char *vec_base(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

enum secd_kind vec_kind(const char *name, int *is_unsigned)
{
    *is_unsigned = 0;
    if (ends_with(name, ".tlv"))
        return strncmp(name, "CTL", 3) == 0 ? SECD_KIND_CTL : SECD_KIND_ITL;
    if (!ends_with(name, ".sgn"))
        *is_unsigned = 1;
    return SECD_KIND_SIGNED;
}
