/* Reset and exception entry of the QEMU mps2-an385 image: vector table,
 * C runtime set-up, then the phone (phone_main(), the firmware image) or
 * firmware_main() (other images); the status ends the emulator. */
#include <stdint.h>
#include <string.h>

#include "board_qemu.h"
#include "hal/hal_board.h"
#include "lan9118.h"
#ifdef SECD_PHONE_IMAGE
#include "phone.h"
#else
#include "firmware.h"
#endif
#include "trace.h"

#define STACK_PAINT 0xA5A5A5A5u
#define STACK_PAINT_MARGIN 128u /* bytes kept clear below the live frame */
#define NUM_IRQS 32u            /* external interrupts of the AN385 image */

/* Linker script symbols (mps2_an385.ld). */
extern uint32_t __data_start[], __data_end[], __data_load[];
extern uint32_t __bss_start[], __bss_end[];
extern uint32_t __stack_limit[], __stack_top[];
extern void (*__init_array_start[])(void);
extern void (*__init_array_end[])(void);

void Reset_Handler(void) __attribute__((noreturn));
void Fault_Handler(void); /* fault.c */
void SysTick_Handler(void); /* clock.c */
#ifdef SECD_PHONE_IMAGE
void ETH_IRQHandler(void); /* netif_lan9118.c */
#define ETH_IRQ_ENTRY ETH_IRQHandler
#else
#define ETH_IRQ_ENTRY Fault_Handler /* no network in other images */
#endif

/* Eight unused interrupt entries (plain C: no range designators). */
#define UNUSED_IRQ_X4 Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler
#define UNUSED_IRQ_X8 UNUSED_IRQ_X4, UNUSED_IRQ_X4

typedef void (*vector_fn)(void);
/* Read by the core, never by C code (hence the cppcheck suppressions). */
struct vector_table {
    uint32_t *initial_sp;    /* cppcheck-suppress unusedStructMember */
    vector_fn system[15];    /* cppcheck-suppress unusedStructMember ; exceptions 1..15 */
    vector_fn irq[NUM_IRQS]; /* cppcheck-suppress unusedStructMember */
};
_Static_assert(NUM_IRQS == 4 * 8, "vector table initialiser covers 4 x 8 interrupts");
_Static_assert(LAN9118_IRQ == 8 + 4 + 1, "the Ethernet entry sits at IRQ 13 below");

__attribute__((section(".vectors"), used)) static const struct vector_table vectors = {
    .initial_sp = __stack_top,
    .system = {
        Reset_Handler,   /* 1 Reset */
        Fault_Handler,   /* 2 NMI */
        Fault_Handler,   /* 3 HardFault */
        Fault_Handler,   /* 4 MemManage */
        Fault_Handler,   /* 5 BusFault */
        Fault_Handler,   /* 6 UsageFault */
        0, 0, 0, 0,      /* 7..10 reserved */
        Fault_Handler,   /* 11 SVCall (unused) */
        Fault_Handler,   /* 12 DebugMonitor (unused) */
        0,               /* 13 reserved */
        Fault_Handler,   /* 14 PendSV (unused) */
        SysTick_Handler, /* 15 SysTick */
    },
    /* Only the Ethernet interrupt is used; any other one firing is
     * reported as a fault. */
    .irq = {UNUSED_IRQ_X8,
            UNUSED_IRQ_X4, Fault_Handler, ETH_IRQ_ENTRY, Fault_Handler, Fault_Handler, /* 13 */
            UNUSED_IRQ_X8, UNUSED_IRQ_X8},
};

/* Fills the unused stack below the current frame with a pattern; the
 * high-water mark is where the pattern stops (board_stack_peak). */
static void paint_stack(void)
{
    uintptr_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    volatile uint32_t *p = __stack_limit;
    while ((uintptr_t)p < sp - STACK_PAINT_MARGIN)
        *p++ = STACK_PAINT;
}

size_t board_stack_peak(void)
{
    const volatile uint32_t *p = __stack_limit;
    while ((uintptr_t)p < (uintptr_t)__stack_top && *p == STACK_PAINT)
        p++;
    return (size_t)((uintptr_t)__stack_top - (uintptr_t)p);
}

static void init_c_runtime(void)
{
    memcpy(__data_start, __data_load, (size_t)((uintptr_t)__data_end - (uintptr_t)__data_start));
    memset(__bss_start, 0, (size_t)((uintptr_t)__bss_end - (uintptr_t)__bss_start));
    for (void (**f)(void) = __init_array_start; f < __init_array_end; f++)
        (*f)();
}

void Reset_Handler(void)
{
    init_c_runtime();
    paint_stack();
#ifdef SECD_PHONE_IMAGE
    int status = phone_main();
#else
    firmware_set_flash(board_flash());
    int status = firmware_main();
#endif
    NOT("BOARD", "exit %d: stack peak %u bytes, heap %u bytes", status,
        (unsigned)board_stack_peak(), (unsigned)board_heap_used());
    hal_board_exit(status);
}
