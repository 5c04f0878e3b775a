/* QEMU mps2-an385 board: identity, bring-up, exit, flash. */
#include "board_qemu.h"
#include "hal/hal_board.h"
#include "semihost.h"
#include "semihost_flash.h"

const char *const hal_board_name = "qemu-mps2-an385";

void hal_board_init(void)
{
    board_console_init();
    board_clock_init(); /* PRIMASK is clear after reset: SysTick runs now */
}

/* Set up on first call; no host I/O happens until the first access. */
const struct hal_flash *board_flash(void)
{
    static struct semihost_flash_file file;
    static struct hal_flash flash;
    if (flash.read == NULL)
        semihost_flash_init(&flash, &file, QEMU_FLASH_FILE, QEMU_FLASH_SIZE);
    return &flash;
}

/* QEMU's exit status becomes `status` (SYS_EXIT_EXTENDED). */
void hal_board_exit(int status)
{
    semihost_exit(status);
}
