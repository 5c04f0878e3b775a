/* Internals shared by the files of the QEMU mps2-an385 board. */
#ifndef QEMU_BOARD_QEMU_H
#define QEMU_BOARD_QEMU_H
#include <stddef.h>
#include <stdint.h>

#include "hal/hal_flash.h"

/* Exit status when the CPU takes a fault (HardFault and friends). */
#define BOARD_EXIT_FAULT 70

void board_console_init(void);
void board_clock_init(void);

/* SysTick ticks since reset (CORE_CLOCK_HZ, 40 ns): virtual time under
 * -icount, with interrupts enabled. */
uint64_t board_uptime_ticks(void);

/* The semihosted flash (opened lazily on first access). */
const struct hal_flash *board_flash(void);

/* Deepest stack use since reset, in bytes (painted-stack scan). */
size_t board_stack_peak(void);
/* Bytes handed out by _sbrk so far (newlib malloc's high-water mark). */
size_t board_heap_used(void);

#endif
