/* newlib system calls for bare metal: the heap grows inside the linker
 * script's budget, stdout/stderr go to the UART, there are no files. */
#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "board_qemu.h"
#include "hal/hal_board.h"
#include "hal/hal_clock.h"
#include "hal/hal_console.h"

extern uint8_t __heap_start[], __heap_end[];
static uint8_t *heap_top = __heap_start;

/* Bounded: malloc gets NULL (errno ENOMEM) past __heap_end instead of
 * growing into the stack. */
void *_sbrk(ptrdiff_t incr)
{
    if (incr < 0 ? (size_t)-incr > (size_t)(heap_top - __heap_start)
                 : (size_t)incr > (size_t)(__heap_end - heap_top)) {
        errno = ENOMEM;
        return (void *)-1;
    }
    uint8_t *old = heap_top;
    heap_top += incr;
    return old;
}

size_t board_heap_used(void)
{
    return (size_t)(heap_top - __heap_start);
}

int _write(int fd, const char *buf, int len)
{
    if (fd != 1 && fd != 2) {
        errno = EBADF;
        return -1;
    }
    hal_console_write(buf, (size_t)len);
    return len;
}

int _read(int fd, char *buf, int len)
{
    (void)fd;
    (void)buf;
    (void)len;
    errno = ENOSYS;
    return -1;
}

int _close(int fd)
{
    (void)fd;
    errno = EBADF;
    return -1;
}

int _fstat(int fd, struct stat *st)
{
    (void)fd;
    st->st_mode = S_IFCHR;
    return 0;
}

int _isatty(int fd)
{
    return fd <= 2;
}

int _lseek(int fd, int off, int whence)
{
    (void)fd;
    (void)off;
    (void)whence;
    errno = ESPIPE;
    return -1;
}

int _getpid(void)
{
    return 1;
}

int _kill(int pid, int sig)
{
    (void)pid;
    (void)sig;
    errno = EINVAL;
    return -1;
}

/* time() and gettimeofday(): the board's wall clock (build epoch + uptime,
 * clock.c). expat asks for it when no hash salt is set. */
int _gettimeofday(struct timeval *tv, void *tz);
int _gettimeofday(struct timeval *tv, void *tz)
{
    (void)tz;
    if (tv) {
        uint64_t us = hal_wall_us();
        tv->tv_sec = (time_t)(us / 1000000u);
        tv->tv_usec = (suseconds_t)(us % 1000000u);
    }
    return 0;
}

/* abort() and exit() end up here. */
void _exit(int status)
{
    hal_board_exit(status);
}
