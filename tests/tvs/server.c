#define _POSIX_C_SOURCE 200809L
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/asn_public.h>

#ifndef TCM_DIR
#error "TCM_DIR must name tests/tcm"
#endif
#ifndef TVS_TEST_KEYS
#error "TVS_TEST_KEYS must name the cached test PKI directory"
#endif

static void run_python(const char *const *argv, int out_fd)
{
    if (chdir(TCM_DIR) != 0)
        _exit(127);
    setenv("PYTHONDONTWRITEBYTECODE", "1", 1);
    if (out_fd >= 0) {
        dup2(out_fd, STDOUT_FILENO);
        dup2(out_fd, STDERR_FILENO);
    }
    execv("/usr/bin/python3", (char *const *)argv);
    _exit(127);
}

const char *tvsd_keys(void)
{
    static int ready;
    char marker[1024];
    snprintf(marker, sizeof marker, "%s/pki.json", TVS_TEST_KEYS);
    struct stat st;
    if (!ready && stat(marker, &st) != 0) {
        pid_t pid = fork();
        if (pid == 0) {
            const char *argv[] = {"python3", "-m", "tcm", "pki", "--out", TVS_TEST_KEYS, NULL};
            int null = open("/dev/null", O_WRONLY);
            run_python(argv, null);
        }
        int status = 0;
        waitpid(pid, &status, 0);
    }
    ready = 1;
    return TVS_TEST_KEYS;
}

static int read_more(struct tvsd *s, int timeout_ms)
{
    struct pollfd p = {.fd = s->fd, .events = POLLIN};
    if (poll(&p, 1, timeout_ms) <= 0)
        return 0;
    size_t room = sizeof s->log - 1 - s->log_len;
    if (room == 0)
        return 0;
    ssize_t n = read(s->fd, s->log + s->log_len, room);
    if (n <= 0)
        return -1;
    s->log_len += (size_t)n;
    s->log[s->log_len] = '\0';
    return 1;
}

int tvsd_start(struct tvsd *s, const char *const *args)
{
    memset(s, 0, sizeof *s);
    const char *argv[32] = {"python3", "-m", "tcm.tvsd", "--keys", tvsd_keys(), "-v"};
    size_t n = 6;
    for (size_t i = 0; args && args[i] && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    int pipefd[2];
    if (pipe(pipefd) != 0)
        return -1;
    s->pid = fork();
    if (s->pid == 0) {
        close(pipefd[0]);
        run_python(argv, pipefd[1]);
    }
    close(pipefd[1]);
    s->fd = pipefd[0];
    for (int i = 0; i < 200; i++) {
        const char *m = strstr(s->log, "listening on 127.0.0.1:");
        if (m && strchr(m, '\n')) {
            s->port = (uint16_t)atoi(m + strlen("listening on 127.0.0.1:"));
            return 0;
        }
        if (read_more(s, 100) < 0)
            break;
    }
    fprintf(stderr, "tvsd did not start:\n%s\n", s->log);
    return -1;
}

long tvsd_stop(struct tvsd *s, const char *counter)
{
    kill(s->pid, SIGTERM);
    while (read_more(s, 5000) > 0)
        ;
    /* A server that does not end within 10 s is killed: the test then
     * fails on the missing counters instead of hanging until ctest's
     * timeout. */
    const struct timespec tick = {0, 100000000L}; /* 100 ms */
    for (int i = 0; i < 100 && waitpid(s->pid, NULL, WNOHANG) == 0; i++)
        nanosleep(&tick, NULL);
    if (waitpid(s->pid, NULL, WNOHANG) == 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
    }
    close(s->fd);
    char key[64];
    snprintf(key, sizeof key, "\"%s\": ", counter);
    const char *c = strstr(s->log, "counters: ");
    const char *v = c ? strstr(c, key) : NULL;
    return v ? strtol(v + strlen(key), NULL, 10) : -1;
}

size_t tvsd_cert(const char *name, uint8_t *der, size_t cap)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.crt", tvsd_keys(), name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    static uint8_t pem[16384];
    size_t n = fread(pem, 1, sizeof pem, f);
    fclose(f);
    int len = wc_CertPemToDer(pem, (int)n, der, (int)cap, CERT_TYPE);
    return len > 0 ? (size_t)len : 0;
}
