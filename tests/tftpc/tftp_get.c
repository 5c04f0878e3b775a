/* tftp_get: downloads one file with tftpc over real UDP (interop tests).
 *
 *   tftp_get [-b blksize] [-n] [-t initial_ms] [-r retries] [-m max_bytes]
 *            [-c count] [-o out] server[:port][,server[:port]...] file
 *
 * -c downloads the file `count` times over one session (one socket, request
 * numbers counting up); each request is announced on stderr in the phone's
 * words: "[N]:Requesting <file> from <host>". The last download counts.
 * -b 0 (or 512) asks for no blksize, -n asks for no option at all.
 * Writes the file to `out` (nothing when it failed) and one summary line on
 * stdout: "result=<reason> size=N blksize=B options=0|1 server=I
 * error=<code> retransmits=R duplicates=D". The exit status is the
 * enum tftpc_reason (0 = ok), 64 for usage errors, 70 for local errors. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tftp_posix.h"

static void usage(void)
{
    fprintf(stderr, "usage: tftp_get [-b blksize] [-n] [-t initial_ms] [-r retries] "
                    "[-m max_bytes] [-c count] [-o out] host[:port][,host[:port]...] file\n");
    exit(64);
}

static unsigned long number(const char *s)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*s == '\0' || *end != '\0')
        usage();
    return v;
}

static size_t parse_servers(char *list, char hosts[][16], struct tftp_posix_server *out)
{
    size_t n = 0;
    char *save = NULL, *tok;
    for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (n == TFTPC_MAX_SERVERS || tftp_posix_parse_server(tok, hosts[n], 16, &out[n]) != 0)
            usage();
        n++;
    }
    if (n == 0)
        usage();
    return n;
}

/* "file not found" -> "file_not_found": one token for the summary line. */
static const char *reason_token(enum tftpc_reason r, char *buf, size_t cap)
{
    size_t i;
    const char *s = tftpc_reason_str(r);
    for (i = 0; s[i] != '\0' && i + 1 < cap; i++) {
        if (s[i] == ' ')
            buf[i] = '_';
        else
            buf[i] = s[i];
    }
    buf[i] = '\0';
    return buf;
}

static void on_request(void *ctx, uint32_t request_no, uint8_t server, const char *file)
{
    const struct tftp_posix_server *servers = ctx;
    fprintf(stderr, "[%u]:Requesting %s from %s\n", (unsigned)request_no, file,
            servers[server].host);
}

static void print_summary(const struct tftp_posix_result *res, size_t len)
{
    char token[32];
    printf("result=%s size=%zu blksize=%u options=%u server=%u error=%u retransmits=%u "
           "duplicates=%u switches=%u request=%u elapsed_ms=%u\n",
           reason_token(res->reason, token, sizeof(token)), len, (unsigned)res->detail.blksize,
           (unsigned)res->detail.options_used, (unsigned)res->detail.server,
           (unsigned)res->detail.error_code, (unsigned)res->counters.retransmits,
           (unsigned)res->counters.duplicates, (unsigned)res->counters.server_switches,
           (unsigned)res->detail.request_no, (unsigned)res->elapsed_ms);
}

static int write_file(const char *path, const uint8_t *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    if (len != 0 && fwrite(buf, 1, len, f) != len) {
        fclose(f);
        return -1;
    }
    return fclose(f);
}

int main(int argc, char **argv)
{
    struct tftpc_config cfg;
    struct tftp_posix_server servers[TFTPC_MAX_SERVERS];
    char hosts[TFTPC_MAX_SERVERS][16];
    struct tftp_posix_result res;
    const char *out_path = NULL;
    size_t n, len = 0, cap;
    struct tftp_posix *session;
    unsigned long count = 1, i;
    uint8_t *buf;
    int opt, r = -1;

    tftpc_config_default(&cfg, 1);
    while ((opt = getopt(argc, argv, "b:nt:r:m:c:o:")) != -1) {
        switch (opt) {
        case 'b': cfg.blksize = (uint16_t)number(optarg); break;
        case 'n': cfg.blksize = 0; cfg.ask_tsize = 0; cfg.timeout_s = 0; break;
        case 't': cfg.initial_timeout_ms = (uint32_t)number(optarg); break;
        case 'r': cfg.max_retries = (uint8_t)number(optarg); break;
        case 'm': cfg.max_file_size = (uint32_t)number(optarg); break;
        case 'c': count = number(optarg); break;
        case 'o': out_path = optarg; break;
        default: usage();
        }
    }
    if (argc - optind != 2 || count == 0)
        usage();
    n = parse_servers(argv[optind], hosts, servers);
    cfg.n_servers = (uint8_t)n;
    cap = cfg.max_file_size ? cfg.max_file_size : TFTPC_DEFAULT_MAX_FILE_SIZE;
    buf = malloc(cap ? cap : 1);
    session = malloc(sizeof(*session));
    if (buf == NULL || session == NULL || tftp_posix_open(session, servers, n, &cfg) != 0) {
        free(session);
        free(buf);
        return 70;
    }
    session->on_request = on_request;
    session->ctx = servers;
    for (i = 0; i < count; i++) {
        r = tftp_posix_fetch(session, argv[optind + 1], buf, cap, &len, &res);
        if (r < 0)
            break;
        print_summary(&res, len);
    }
    tftp_posix_close(session);
    free(session);
    if (r < 0) {
        fprintf(stderr, "tftp_get: local error\n");
        r = 70;
    } else if (r == TFTPC_OK && out_path && write_file(out_path, buf, len) != 0) {
        fprintf(stderr, "tftp_get: cannot write %s\n", out_path);
        r = 70;
    }
    free(buf);
    return r;
}
