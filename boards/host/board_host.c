/* POSIX board: console on stdin/stdout, clocks from the OS, entropy from
 * getrandom(2). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "hal/hal_board.h"
#include "hal/hal_clock.h"
#include "hal/hal_console.h"
#include "hal/hal_entropy.h"

const char *const hal_board_name = "host";

void hal_board_init(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
}

void hal_board_exit(int status)
{
    fflush(stdout);
    exit(status);
}

void hal_console_write(const char *s, size_t n)
{
    fwrite(s, 1, n, stdout);
    fflush(stdout);
}

int hal_console_read(char *buf, size_t cap)
{
    struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
    if (poll(&p, 1, 0) <= 0)
        return 0;
    ssize_t n = read(STDIN_FILENO, buf, cap);
    if (n == 0)
        return -1;
    return n < 0 ? (errno == EAGAIN || errno == EINTR ? 0 : -1) : (int)n;
}

uint32_t hal_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

uint64_t hal_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int hal_entropy(uint8_t *buf, size_t n)
{
    while (n) {
        ssize_t got = getrandom(buf, n, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += got;
        n -= (size_t)got;
    }
    return 0;
}
