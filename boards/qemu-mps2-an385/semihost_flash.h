/* The phone's flash, stood in for by a host file through semihosting, so
 * that what one boot writes is there on the next (emulator reboot). */
#ifndef QEMU_SEMIHOST_FLASH_H
#define QEMU_SEMIHOST_FLASH_H
#include <stdint.h>

#include "hal/hal_flash.h"

/* Size of the flash region the firmware may use. */
#define QEMU_FLASH_SIZE (2u * 1024u * 1024u)
/* Host file, relative to QEMU's current directory. */
#define QEMU_FLASH_FILE "flash.bin"

struct semihost_flash_file {
    const char *path;
    uint32_t size;
    int32_t fd; /* -1 until first use */
};

/* Sets up `f` over the host file `path`. The file is opened (created
 * zero-filled, `size` bytes, if missing) on first access, so that a missing
 * or unwritable file shows up as an I/O error of the storage layer, which
 * the firmware traces. */
void semihost_flash_init(struct hal_flash *f, struct semihost_flash_file *file, const char *path,
                         uint32_t size);

#endif
