/* Board identity and lifecycle. */
#ifndef HAL_BOARD_H
#define HAL_BOARD_H

extern const char *const hal_board_name;
/* Called once before anything else (clocks, UART, ...). */
void hal_board_init(void);
/* Ends the program/emulator with a status (host: exit; QEMU: semihosting). */
void hal_board_exit(int status) __attribute__((noreturn));

#endif
