/* Semihosting calls: see semihost.h. */
#include "semihost.h"

#include <string.h>

/* ADP_Stopped_ApplicationExit: "the program ended normally". */
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

int32_t semihost_call(enum semihost_op op, const void *arg)
{
    register int32_t r0 __asm__("r0") = (int32_t)op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

int32_t semihost_open(const char *path, enum semihost_mode mode)
{
    uint32_t block[3] = {(uint32_t)(uintptr_t)path, (uint32_t)mode, (uint32_t)strlen(path)};
    return semihost_call(SYS_OPEN, block);
}

int semihost_close(int32_t fd)
{
    uint32_t block[1] = {(uint32_t)fd};
    return semihost_call(SYS_CLOSE, block) == 0 ? 0 : -1;
}

int semihost_seek(int32_t fd, uint32_t pos)
{
    uint32_t block[2] = {(uint32_t)fd, pos};
    return semihost_call(SYS_SEEK, block) == 0 ? 0 : -1;
}

int32_t semihost_flen(int32_t fd)
{
    uint32_t block[1] = {(uint32_t)fd};
    return semihost_call(SYS_FLEN, block);
}

/* READ and WRITE return the number of bytes NOT transferred. */
int semihost_read(int32_t fd, void *buf, size_t n)
{
    uint32_t block[3] = {(uint32_t)fd, (uint32_t)(uintptr_t)buf, (uint32_t)n};
    return semihost_call(SYS_READ, block) == 0 ? 0 : -1;
}

int semihost_write(int32_t fd, const void *buf, size_t n)
{
    uint32_t block[3] = {(uint32_t)fd, (uint32_t)(uintptr_t)buf, (uint32_t)n};
    return semihost_call(SYS_WRITE, block) == 0 ? 0 : -1;
}

uint32_t semihost_time(void)
{
    return (uint32_t)semihost_call(SYS_TIME, NULL);
}

uint32_t semihost_clock(void)
{
    return (uint32_t)semihost_call(SYS_CLOCK, NULL);
}

uint64_t semihost_elapsed(void)
{
    uint32_t ticks[2] = {0, 0};
    if (semihost_call(SYS_ELAPSED, ticks) != 0)
        return 0;
    return (uint64_t)ticks[1] << 32 | ticks[0];
}

int semihost_get_cmdline(char *buf, size_t cap)
{
    if (cap == 0)
        return -1;
    uint32_t block[2] = {(uint32_t)(uintptr_t)buf, (uint32_t)cap};
    if (semihost_call(SYS_GET_CMDLINE, block) != 0 || block[1] >= cap)
        return -1;
    buf[block[1]] = '\0';
    return 0;
}

void semihost_exit(int code)
{
    uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)code};
    semihost_call(SYS_EXIT_EXTENDED, block);
    for (;;)
        __asm__ volatile("wfi");
}
