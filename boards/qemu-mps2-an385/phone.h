/* The phone on the QEMU board: network bring-up (LAN9118 + lwIP + DHCP),
 * the secure boot flow of firmware/boot.c over TFTP, then the console on
 * UART0, all in one cooperative main loop (phone.c). */
#ifndef QEMU_PHONE_H
#define QEMU_PHONE_H
#include <stdint.h>

/* Exit statuses beyond firmware_main()'s 0/1/2 (docs/boards.md). */
#define PHONE_EXIT_NOT_ACCEPTED 1 /* --once: the boot did not accept a config */
#define PHONE_EXIT_USAGE 3        /* bad semihosting command line */
#define PHONE_EXIT_NO_NIC 4       /* no LAN9118 answered */

/* Runs the phone; returns the exit status. */
int phone_main(void);
/* Virtual time spent asleep in the main loop's WFI, in SysTick ticks. */
uint64_t phone_asleep_ticks(void);

#endif
