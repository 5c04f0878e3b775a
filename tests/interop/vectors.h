/* Test helpers: read interop vectors (SECD_INTEROP_DIR) into memory. */
#ifndef TESTS_VECTORS_H
#define TESTS_VECTORS_H
#include <stddef.h>
#include <stdint.h>

#include "secd/secd.h"

struct vec {
    uint8_t *p;
    size_t len;
};

/* Reads SECD_INTEROP_DIR/rel; fails the test when missing. */
struct vec vec_read(const char *rel);
void vec_free(struct vec *v);
/* Loads a trust list vector; fails the test when it does not parse. */
void vec_load_tl(const char *rel, struct vec *v, struct secd_tl *tl);
/* Private key (PEM file in the interop tree) as DER. */
size_t vec_key_der(const char *rel, uint8_t *der, size_t cap);
/* Kind of a file from the name the phone requested; *is_unsigned for
 * plain configs. */
enum secd_kind vec_kind(const char *name, int *is_unsigned);
const char *vec_base(const char *path);

#endif
