/* Host flash: a file (DIR/flash.bin) standing in for the phone's flash. */
#ifndef BOARDS_HOST_FLASH_FILE_H
#define BOARDS_HOST_FLASH_FILE_H
#include "hal/hal_flash.h"

/* Opens (creating, zero-filled, if needed) a flash image of `size` bytes.
 * Returns 0, or -1 with errno set. */
int flash_file_open(struct hal_flash *f, const char *path, uint32_t size);
void flash_file_close(struct hal_flash *f);

#endif
