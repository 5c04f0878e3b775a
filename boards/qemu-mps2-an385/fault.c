/* Fault reporting: registers to the UART without printf (the heap or the
 * stack may be what broke), then exit status BOARD_EXIT_FAULT. */
#include <stdint.h>
#include <string.h>

#include "board_qemu.h"
#include "cmsdk.h"
#include "hal/hal_board.h"
#include "hal/hal_console.h"

#define SCB_CFSR REG32(0xE000ED28u)
#define SCB_HFSR REG32(0xE000ED2Cu)
#define SCB_MMFAR REG32(0xE000ED34u)
#define SCB_BFAR REG32(0xE000ED38u)

static void put_hex(const char *label, uint32_t v)
{
    static const char digits[] = "0123456789abcdef";
    char buf[8];
    for (int i = 7; i >= 0; i--) {
        buf[i] = digits[v & 0xFu];
        v >>= 4;
    }
    hal_console_write(label, strlen(label));
    hal_console_write(buf, sizeof buf);
}

/* frame: r0-r3, r12, lr, pc, xpsr as stacked by the exception entry. */
void fault_report(const uint32_t *frame) __attribute__((noreturn, used));
void fault_report(const uint32_t *frame)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    put_hex("\nFAULT exception=", ipsr & 0x1FFu);
    put_hex(" pc=", frame[6]);
    put_hex(" lr=", frame[5]);
    put_hex(" cfsr=", SCB_CFSR);
    put_hex(" hfsr=", SCB_HFSR);
    put_hex(" mmfar=", SCB_MMFAR);
    put_hex(" bfar=", SCB_BFAR);
    hal_console_write("\n", 1);
    hal_board_exit(BOARD_EXIT_FAULT);
}

void Fault_Handler(void);

/* Picks the stack the faulting code used (EXC_RETURN bit 2). */
__attribute__((naked)) void Fault_Handler(void)
{
    __asm__ volatile("tst lr, #4\n"
                     "ite eq\n"
                     "mrseq r0, msp\n"
                     "mrsne r0, psp\n"
                     "b fault_report\n");
}
