/* Clocks. Monotonic time drives timeouts; wall time stamps the trace and
 * checks certificate validity. */
#ifndef HAL_CLOCK_H
#define HAL_CLOCK_H
#include <stdint.h>

uint32_t hal_monotonic_ms(void);
/* Microseconds since 1970-01-01 UTC. A board without a real-time clock
 * returns its build time plus uptime (documented per board). */
uint64_t hal_wall_us(void);

#endif
