/* Raw persistent memory ("flash") of a board: a byte-addressable region.
 * Boards provide one; hal/storage.c builds atomic named blobs on top. */
#ifndef HAL_FLASH_H
#define HAL_FLASH_H
#include <stddef.h>
#include <stdint.h>

struct hal_flash {
    void *ctx;
    uint32_t size;
    /* Return 0 on success, -1 on failure. A write may stop part-way (power
     * cut): storage.c orders its writes so that this is always safe. */
    int (*read)(void *ctx, uint32_t off, void *buf, size_t n);
    int (*write)(void *ctx, uint32_t off, const void *buf, size_t n);
    int (*sync)(void *ctx);
};

#endif
