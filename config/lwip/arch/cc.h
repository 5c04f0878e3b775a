/* lwIP compiler/platform port for the secd boards (GCC, newlib or glibc).
 * lwIP's own defaults (lwip/arch.h) cover the integer types via <stdint.h>
 * and <inttypes.h>; only what differs is set here. */
#ifndef SECD_LWIP_ARCH_CC_H
#define SECD_LWIP_ARCH_CC_H

#include <stdint.h>
#include <stdlib.h>

/* Protocol headers are packed structs; GCC packs with an attribute. */
#define PACK_STRUCT_STRUCT __attribute__((packed))

/* Diagnostics and assertions go to the trace (config/lwip/port.c). An
 * assertion in the network stack ends the firmware: a phone reboots rather
 * than run on with a corrupt stack. */
void secd_lwip_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void secd_lwip_assert(const char *msg, const char *file, int line) __attribute__((noreturn));
#define LWIP_PLATFORM_DIAG(x) \
    do {                      \
        secd_lwip_diag x;     \
    } while (0)
#define LWIP_PLATFORM_ASSERT(x) secd_lwip_assert((x), __FILE__, __LINE__)

/* DNS transaction ids and source ports, DHCP xids: from the board's
 * entropy source (not predictable to an off-path attacker). */
uint32_t secd_lwip_rand(void);
#define LWIP_RAND() secd_lwip_rand()

#endif
