/* A phone's flash in RAM with the firmware's real layout (firmware/layout.c),
 * filled the way the firmware fills it: CTL and ITL installed by the trust
 * store, an LSC with its key by the certificate store, a pre-generated key,
 * a TVS server list and a boot counter. Shared by the power-cut tests and
 * the console / flash-image fuzz targets. Content comes from the interop
 * vectors (SECD_INTEROP_DIR). */
#ifndef TESTS_PHONE_IMAGE_H
#define TESTS_PHONE_IMAGE_H
#include <stddef.h>
#include <stdint.h>

#include "cert_store.h"
#include "hal/storage.h"
#include "ram_flash.h"
#include "trust_store.h"

struct phone_image {
    struct ram_flash rf;
    struct storage st;
};

/* A certificate and its private key, DER. */
struct phone_id {
    uint8_t cert[CERT_DER_MAX];
    size_t cert_len;
    uint8_t key[CERT_KEY_MAX];
    size_t key_len;
};

/* Erased flash of the phone's layout size. */
void phone_image_init(struct phone_image *pi);
void phone_image_free(struct phone_image *pi);

/* Reads SECD_INTEROP_DIR/rel into a malloc'd buffer; NULL when missing. */
uint8_t *phone_image_vector(const char *rel, size_t *len);
/* keys/<name>.pem of the interop tree; 0 or -1. */
int phone_image_id(const char *name, struct phone_id *id);

/* Installs everything through the firmware's own functions; 0 or -1.
 * ts and cs are left loaded from the image. */
int phone_image_populate(struct phone_image *pi, struct trust_store *ts, struct cert_store *cs);

/* A malloc'd copy of the whole flash, and putting one back. */
uint8_t *phone_image_save(const struct phone_image *pi);
void phone_image_restore(struct phone_image *pi, const uint8_t *saved);

/* Offset of the first slot of a layout area, and its slot size. */
uint32_t phone_image_area(const char *name, uint32_t *slot_size);

#endif
