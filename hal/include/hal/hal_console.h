/* Console: the phone's serial port (UART0 on the board, stdio on host). */
#ifndef HAL_CONSOLE_H
#define HAL_CONSOLE_H
#include <stddef.h>

/* Writes all n bytes (blocking until the UART took them). */
void hal_console_write(const char *s, size_t n);
/* Non-blocking: copies up to cap pending input bytes, returns how many
 * (0 when none), or -1 when the input is closed for good (host EOF). */
int hal_console_read(char *buf, size_t cap);

#endif
