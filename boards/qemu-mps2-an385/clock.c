/* Clocks from SysTick: a 1 kHz interrupt counts milliseconds; the counter's
 * current value adds sub-millisecond resolution.
 *
 * The board has no real-time clock. Wall time is SECD_BUILD_EPOCH (seconds
 * since 1970 UTC, fixed when the build is configured; SOURCE_DATE_EPOCH
 * overrides it for reproducible builds) plus uptime. That keeps certificate
 * validity checks working with a sane year; a phone sets its clock from the
 * network later. Under `-icount` the timestamps are deterministic. */
#include "board_qemu.h"
#include "cmsdk.h"
#include "hal/hal_clock.h"

#ifndef SECD_BUILD_EPOCH
#error "SECD_BUILD_EPOCH must be defined by the build (seconds since 1970)"
#endif

#define TICKS_PER_MS (CORE_CLOCK_HZ / 1000u)
#define TICKS_PER_US (CORE_CLOCK_HZ / 1000000u)

/* 64 bits: wall time must not wrap after 49 days. */
static volatile uint64_t uptime_ms;

void SysTick_Handler(void)
{
    uptime_ms++;
}

void board_clock_init(void)
{
    SYST_RVR = TICKS_PER_MS - 1u;
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
}

uint32_t hal_monotonic_ms(void)
{
    return (uint32_t)uptime_ms;
}

/* Milliseconds since reset, and the SysTick ticks (CORE_CLOCK_HZ) into the
 * current one. Reads ms, the down-counter, ms again and retries if a tick
 * interrupt ran in between, so the two parts agree (this also catches a
 * torn read of the 64-bit counter). */
static uint64_t read_uptime(uint32_t *ticks_into_ms)
{
    uint64_t ms;
    uint32_t ticks;
    do {
        ms = uptime_ms;
        ticks = SYST_CVR;
    } while (ms != uptime_ms);
    *ticks_into_ms = (TICKS_PER_MS - 1u) - ticks;
    return ms;
}

/* SysTick ticks since reset. */
uint64_t board_uptime_ticks(void)
{
    uint32_t ticks;
    uint64_t ms = read_uptime(&ticks);
    return ms * TICKS_PER_MS + ticks;
}

/* Same value as board_uptime_ticks() / TICKS_PER_US, without a 64-bit
 * division (a library call on the M3; every trace line reads the clock). */
static uint64_t uptime_us(void)
{
    uint32_t ticks;
    uint64_t ms = read_uptime(&ticks);
    return ms * 1000u + ticks / TICKS_PER_US;
}

uint64_t hal_wall_us(void)
{
    return (uint64_t)SECD_BUILD_EPOCH * 1000000u + uptime_us();
}
