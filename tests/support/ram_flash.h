/* A RAM "flash" for tests that can lose power after any number of written
 * bytes (SQLite-style crash injection): the write in progress stops
 * part-way and every later write and sync fails, until power_restore(). */
#ifndef TESTS_RAM_FLASH_H
#define TESTS_RAM_FLASH_H
#include <stddef.h>
#include <stdint.h>

#include "hal/hal_flash.h"

struct ram_flash {
    uint8_t *mem;
    uint32_t size;
    long budget;  /* bytes that may still be written; <0: unlimited */
    long written; /* bytes written since the last reset of the counter */
    struct hal_flash dev;
};

void ram_flash_init(struct ram_flash *rf, uint32_t size); /* erased (0xFF) */
void ram_flash_free(struct ram_flash *rf);
/* Power fails after `bytes` more bytes are written. */
void ram_flash_cut_after(struct ram_flash *rf, long bytes);
void ram_flash_power_restore(struct ram_flash *rf);

#endif
