/* The phone's command line on the QEMU board, read through semihosting
 * (SYS_GET_CMDLINE): QEMU's `-append "..."` text (or -semihosting-config
 * arg=... words). Words up to the first "--option" are the program name
 * and skipped.
 *
 *   --once              run the boot, then exit: 0 config accepted, 1 not
 *   --tftp-port N       the TFTP server's request port (default 69); QEMU's
 *                       user network forwards 10.0.2.2:N to the host's
 *                       127.0.0.1:N, so a test server runs unprivileged
 *   --tftp-server A.B.C.D  used only when DHCP offers neither option 150
 *                       nor option 66
 *   --model NNNN        phone model (default 8845)
 *   --dhcp-timeout-ms N give up on DHCP after N ms (default 15000)
 *   --boot-retry-s N    a failed boot is tried again after N s, doubling
 *                       per failure up to 600 s (firmware/boot_retry.h);
 *                       default 30, 0: never
 *   --interactive       echo and line editing on UART0, a prompt (for a
 *                       person at a terminal; tests leave it off)
 *   --no-network        banner, self-test and boot counter only
 *   --pregen            when the console starts, pre-generate the next LSC
 *                       key pair (RSA-2048) if none is stored, one bounded
 *                       slice per main-loop round */
#ifndef QEMU_PHONE_ARGS_H
#define QEMU_PHONE_ARGS_H
#include <stddef.h>
#include <stdint.h>

#define PHONE_ARGS_MAX 256u

struct phone_args {
    int once, interactive, no_network;
    int pregen;                  /* pre-generate the next LSC key at the console */
    uint16_t tftp_port;
    int have_tftp_server;
    uint32_t tftp_server;        /* network byte order */
    char model[8];
    uint32_t dhcp_timeout_ms;
    uint32_t boot_retry_s;       /* first delay before a failed boot is retried; 0: never */
};

/* Parses `line` (modified in place). Returns 0, or -1 with a reason in err. */
int phone_args_parse(struct phone_args *a, char *line, char *err, size_t err_cap);

#endif
