/* Test helper: runs `python3 -m tcm.tvsd ...` (tests/tcm/tcm/tvsd.py) as a
 * child process on a free loopback port, and loads certificates of the
 * test PKI it serves. */
#ifndef TESTS_TVS_SERVER_H
#define TESTS_TVS_SERVER_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct tvsd {
    pid_t pid;
    int fd; /* its stdout */
    uint16_t port;
    char log[8192];
    size_t log_len;
};

/* The test PKI directory (generated once, cached in the build tree). */
const char *tvsd_keys(void);
/* Starts the server with extra arguments (NULL-terminated list).
 * Returns 0 once it listens. */
int tvsd_start(struct tvsd *s, const char *const *args);
/* Stops it; its output (with the counters line) is in s->log. Returns the
 * value of counter `name` (or -1). */
long tvsd_stop(struct tvsd *s, const char *counter);
/* Reads KEYS/<name>.crt as DER; returns its length or 0. */
size_t tvsd_cert(const char *name, uint8_t *der, size_t cap);

#endif
