#include "ram_flash.h"

#include <stdlib.h>
#include <string.h>

static int rf_read(void *ctx, uint32_t off, void *buf, size_t n)
{
    struct ram_flash *rf = ctx;
    if (off > rf->size || n > rf->size - off)
        return -1;
    memcpy(buf, rf->mem + off, n);
    return 0;
}

static int rf_write(void *ctx, uint32_t off, const void *buf, size_t n)
{
    struct ram_flash *rf = ctx;
    if (off > rf->size || n > rf->size - off)
        return -1;
    size_t can = n;
    if (rf->budget >= 0 && (long)n > rf->budget)
        can = (size_t)rf->budget; /* power fails part-way through this write */
    memcpy(rf->mem + off, buf, can);
    rf->written += (long)can;
    if (rf->budget >= 0)
        rf->budget -= (long)can;
    return can == n ? 0 : -1;
}

static int rf_sync(void *ctx)
{
    struct ram_flash *rf = ctx;
    return rf->budget == 0 ? -1 : 0;
}

void ram_flash_init(struct ram_flash *rf, uint32_t size)
{
    rf->mem = malloc(size);
    memset(rf->mem, 0xFF, size);
    rf->size = size;
    rf->budget = -1;
    rf->written = 0;
    rf->dev = (struct hal_flash){rf, size, rf_read, rf_write, rf_sync};
}

void ram_flash_free(struct ram_flash *rf)
{
    free(rf->mem);
    rf->mem = NULL;
}

void ram_flash_cut_after(struct ram_flash *rf, long bytes)
{
    rf->budget = bytes;
}

void ram_flash_power_restore(struct ram_flash *rf)
{
    rf->budget = -1;
}
