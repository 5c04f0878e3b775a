/* ARM semihosting (BKPT 0xAB) as QEMU implements it under
 * `-semihosting-config enable=on,target=native`. Without that option a BKPT
 * faults: the image requires semihosting to run. */
#ifndef QEMU_SEMIHOST_H
#define QEMU_SEMIHOST_H
#include <stddef.h>
#include <stdint.h>

enum semihost_op {
    SYS_OPEN = 0x01,
    SYS_CLOSE = 0x02,
    SYS_WRITE = 0x05,
    SYS_READ = 0x06,
    SYS_SEEK = 0x0A,
    SYS_FLEN = 0x0C,
    SYS_CLOCK = 0x10,
    SYS_TIME = 0x11,
    SYS_GET_CMDLINE = 0x15,
    SYS_EXIT_EXTENDED = 0x20,
    SYS_ELAPSED = 0x30,
};

/* SYS_OPEN modes (fopen equivalents). */
enum semihost_mode { SEMIHOST_RB_PLUS = 3, SEMIHOST_WB_PLUS = 7 };

/* One semihosting call: op in r0, pointer to the argument block in r1. */
int32_t semihost_call(enum semihost_op op, const void *arg);

/* Host file access. open returns a handle or -1; read/write return 0 when
 * all n bytes moved, -1 otherwise; seek/close return 0 or -1. */
int32_t semihost_open(const char *path, enum semihost_mode mode);
int semihost_close(int32_t fd);
int semihost_seek(int32_t fd, uint32_t pos);
int32_t semihost_flen(int32_t fd);
int semihost_read(int32_t fd, void *buf, size_t n);
int semihost_write(int32_t fd, const void *buf, size_t n);

/* Host clocks (used as entropy only: see entropy.c). */
uint32_t semihost_time(void);     /* seconds since 1970 */
uint32_t semihost_clock(void);    /* centiseconds of host CPU time */
uint64_t semihost_elapsed(void);  /* host nanosecond counter, 0 if absent */

/* The command line QEMU hands the program (-semihosting-config arg=...,
 * else "<kernel file> <-append text>") into buf, NUL-terminated. Returns
 * 0, or -1 (none, or longer than cap - 1). */
int semihost_get_cmdline(char *buf, size_t cap);

/* Ends the emulator with `code` as QEMU's exit status. */
void semihost_exit(int code) __attribute__((noreturn));

#endif
