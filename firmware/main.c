/* Boot sequence common to all boards. */
#include <stdint.h>

#include "firmware.h"
#include "hal/hal_board.h"
#include "hal/storage.h"
#include "layout.h"
#include "trace.h"

#ifndef SECD_VERSION
#error "SECD_VERSION must be defined by the build"
#endif
#ifndef SECD_DEPS_LOCK
#error "SECD_DEPS_LOCK must be defined by the build"
#endif

/* The boot counter (first area of the phone's layout) shows that storage
 * persists across reboots (tests/qemu boots twice and compares). */

static const struct hal_flash *board_flash;

void firmware_set_flash(const struct hal_flash *flash)
{
    board_flash = flash;
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Reads, increments and stores the boot counter. A blob that is present
 * but damaged is an error, never silently restarted from zero. */
static int count_boot(const struct storage *st)
{
    uint8_t blob[4];
    size_t len = 0;
    uint32_t count = 0;
    enum storage_status s = storage_read(st, "bootcount", blob, sizeof blob, &len);
    if (s == STORAGE_OK && len == sizeof blob) {
        count = get_le32(blob);
    } else if (s != STORAGE_NOT_FOUND) {
        ERR("SECD", "boot counter: read failed: %s (len %u)", storage_status_str(s),
            (unsigned)len);
        return -1;
    }
    count++;
    const uint8_t out[4] = {(uint8_t)count, (uint8_t)(count >> 8), (uint8_t)(count >> 16),
                            (uint8_t)(count >> 24)};
    s = storage_replace(st, "bootcount", out, sizeof out);
    if (s != STORAGE_OK) {
        ERR("SECD", "boot counter: write failed: %s", storage_status_str(s));
        return -1;
    }
    NOT("SECD", "boot count %lu", (unsigned long)count);
    return 0;
}

static int check_storage(void)
{
    if (board_flash == NULL) {
        NOT("SECD", "no persistent flash on this board");
        return 0;
    }
    const struct storage st = {board_flash, phone_storage_layout, phone_storage_layout_count};
    uint32_t need = storage_layout_size(st.areas, st.n_areas);
    if (need > board_flash->size) {
        ERR("SECD", "flash too small: layout needs %lu bytes, flash has %lu",
            (unsigned long)need, (unsigned long)board_flash->size);
        return -1;
    }
    return count_boot(&st);
}

int firmware_main(void)
{
    hal_board_init();
    return firmware_start();
}

int firmware_start(void)
{
    NOT("SECD", "secd %s on %s, deps: %s", SECD_VERSION, hal_board_name, SECD_DEPS_LOCK);
    if (firmware_selftest() != 0) {
        ERR("SECD", "self-test FAILED");
        return FIRMWARE_SELFTEST_FAILED;
    }
    NOT("SECD", "self-test OK");
    if (check_storage() != 0)
        return FIRMWARE_STORAGE_FAILED;
    return FIRMWARE_OK;
}
