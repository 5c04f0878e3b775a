/* Command line parsing: see phone_args.h. */
#include "phone_args.h"

#include <stdio.h>
#include <string.h>

#include "boot_retry.h"
#include "dhcp_tftp.h"

#define MAX_WORDS 16

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Splits in place on blanks; -1 when there are more than max words. */
static int split(char *s, char **w, int max)
{
    int n = 0;
    for (;;) {
        while (is_space(*s))
            *s++ = '\0';
        if (*s == '\0')
            return n;
        if (n == max)
            return -1;
        w[n++] = s;
        while (*s && !is_space(*s))
            s++;
    }
}

/* Decimal in [min, max]; 0 or -1. */
static int parse_uint(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
    uint32_t v = 0;
    if (*s == '\0')
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (max - (uint32_t)(*s - '0')) / 10u)
            return -1;
        v = v * 10u + (uint32_t)(*s - '0');
    }
    if (v < min)
        return -1;
    *out = v;
    return 0;
}

static int parse_valued(struct phone_args *a, const char *opt, const char *val)
{
    uint32_t v;
    if (!strcmp(opt, "--tftp-port")) {
        if (parse_uint(val, 1, 65535, &v) != 0)
            return -1;
        a->tftp_port = (uint16_t)v;
    } else if (!strcmp(opt, "--tftp-server")) {
        if (dhcp_tftp_parse_addr(val, strlen(val), &a->tftp_server) != 0)
            return -1;
        a->have_tftp_server = 1;
    } else if (!strcmp(opt, "--model")) {
        if (strlen(val) == 0 || strlen(val) >= sizeof a->model)
            return -1;
        snprintf(a->model, sizeof a->model, "%s", val);
    } else if (!strcmp(opt, "--dhcp-timeout-ms")) {
        if (parse_uint(val, 1, 3600000u, &a->dhcp_timeout_ms) != 0)
            return -1;
    } else if (!strcmp(opt, "--boot-retry-s")) {
        if (parse_uint(val, 0, BOOT_RETRY_MAX_S, &a->boot_retry_s) != 0)
            return -1;
    } else {
        return -1;
    }
    return 0;
}

static int parse_flag(struct phone_args *a, const char *opt)
{
    if (!strcmp(opt, "--once"))
        a->once = 1;
    else if (!strcmp(opt, "--interactive"))
        a->interactive = 1;
    else if (!strcmp(opt, "--no-network"))
        a->no_network = 1;
    else if (!strcmp(opt, "--pregen"))
        a->pregen = 1;
    else
        return -1;
    return 0;
}

int phone_args_parse(struct phone_args *a, char *line, char *err, size_t err_cap)
{
    memset(a, 0, sizeof *a);
    a->tftp_port = 69;
    a->dhcp_timeout_ms = 15000;
    a->boot_retry_s = BOOT_RETRY_FIRST_S;
    snprintf(a->model, sizeof a->model, "8845");
    char *w[MAX_WORDS];
    int n = split(line, w, MAX_WORDS);
    if (n < 0) {
        snprintf(err, err_cap, "more than %d words", MAX_WORDS);
        return -1;
    }
    int i = 0;
    while (i < n && strncmp(w[i], "--", 2) != 0)
        i++; /* program name (kernel file) */
    for (; i < n; i++) {
        if (parse_flag(a, w[i]) == 0)
            continue;
        if (i + 1 < n && parse_valued(a, w[i], w[i + 1]) == 0) {
            i++;
            continue;
        }
        snprintf(err, err_cap, "bad option or value: %s", w[i]);
        return -1;
    }
    return 0;
}
