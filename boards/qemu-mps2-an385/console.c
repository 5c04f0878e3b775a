/* Console on CMSDK UART0 (QEMU: -serial stdio). TX polls TXFULL, RX is
 * polled and never blocks. */
#include "board_qemu.h"
#include "cmsdk.h"
#include "hal/hal_console.h"

#define UART_BAUD 115200u

void board_console_init(void)
{
    UART_BAUDDIV = CORE_CLOCK_HZ / UART_BAUD;
    /* TXEN before the first write to DATA, otherwise TXFULL sticks in QEMU
     * and the polling loop below never ends. */
    UART_CTRL = UART_CTRL_TXEN | UART_CTRL_RXEN;
}

static void uart_putc(char c)
{
    while (UART_STATE & UART_STATE_TXFULL) {
    }
    UART_DATA = (uint8_t)c;
}

void hal_console_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            uart_putc('\r'); /* serial terminals want CR LF */
        uart_putc(s[i]);
    }
}

int hal_console_read(char *buf, size_t cap)
{
    size_t n = 0;
    while (n < cap && (UART_STATE & UART_STATE_RXFULL))
        buf[n++] = (char)UART_DATA;
    return (int)n;
}
