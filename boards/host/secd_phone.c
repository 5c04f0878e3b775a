/* secd-phone: the firmware on the POSIX board (contract in docs/secd-phone.md)
 *   secd-phone --mac HEX12 --tftp HOST[:PORT] --flash DIR [--model NNNN]
 *              [--mic CERTKEY.pem] [--http-port N] [--boot-retry-s N] [--once]
 * Files are asked for over HTTP on the TFTP server's address, port N
 * (default 6970, 0 = TFTP only) first, then over TFTP (docs/http.md).
 * At the console a failed boot is tried again after N s (default 30,
 * doubling per failure up to 600 s; 0 = never; firmware/boot_retry.h).
 * Trace on stdout, console commands on stdin. --once: run the boot
 * sequence and exit 0 when a config was accepted, 1 when not, 2 on a
 * usage or local error. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/asn_public.h>

#include "boot.h"
#include "boot_retry.h"
#include "capf_client.h"
#include "console.h"
#include "firmware.h"
#include "flash_file.h"
#include "hal/hal_board.h"
#include "hal/hal_clock.h"
#include "hal/hal_entropy.h"
#include "http_posix.h"
#include "layout.h"
#include "tcp_posix.h"
#include "tftp_outcome.h"
#include "tftp_posix.h"
#include "trace.h"

#define EXIT_USAGE 2

struct phone_args {
    char mac[13];
    const char *model;
    const char *tftp;
    const char *flash_dir;
    const char *mic;
    long http_port;              /* 0: TFTP only */
    long boot_retry_s;           /* first retry delay of a failed boot; 0: never */
    int once;
};

static int usage(void)
{
    fputs("usage: secd-phone --mac HEX12 --tftp HOST[:PORT] --flash DIR [--model NNNN]\n"
          "                  [--mic CERTKEY.pem] [--http-port N] [--boot-retry-s N] [--once]\n",
          stderr);
    return EXIT_USAGE;
}

static int parse_mac(const char *s, char out[13])
{
    if (strlen(s) != 12)
        return -1;
    for (int i = 0; i < 12; i++) {
        if (!isxdigit((unsigned char)s[i]))
            return -1;
        out[i] = (char)toupper((unsigned char)s[i]);
    }
    out[12] = '\0';
    return 0;
}

static int parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end != '\0' || end == s || errno != 0 || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, struct phone_args *a)
{
    memset(a, 0, sizeof *a);
    a->model = "8845";
    a->http_port = 6970;
    a->boot_retry_s = BOOT_RETRY_FIRST_S;
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (!strcmp(opt, "--once")) {
            a->once = 1;
            continue;
        }
        if (i + 1 >= argc)
            return -1;
        const char *val = argv[++i];
        if (!strcmp(opt, "--mac")) {
            if (parse_mac(val, a->mac) != 0)
                return -1;
        } else if (!strcmp(opt, "--tftp"))
            a->tftp = val;
        else if (!strcmp(opt, "--flash"))
            a->flash_dir = val;
        else if (!strcmp(opt, "--model"))
            a->model = val;
        else if (!strcmp(opt, "--mic"))
            a->mic = val;
        else if (!strcmp(opt, "--http-port")) {
            if (parse_long(val, 0, 65535, &a->http_port) != 0)
                return -1;
        } else if (!strcmp(opt, "--boot-retry-s")) {
            if (parse_long(val, 0, BOOT_RETRY_MAX_S, &a->boot_retry_s) != 0)
                return -1;
        } else
            return -1;
    }
    return a->mac[0] && a->tftp && a->flash_dir && strlen(a->model) < 8 ? 0 : -1;
}

/* The manufacturer certificate and key (PEM cert + key in one file). */
struct device_identity {
    uint8_t cert[4096];
    size_t cert_len;
    uint8_t key[4096];
    size_t key_len;
};

static int load_mic(const char *path, struct device_identity *id)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    static uint8_t pem[16384];
    size_t n = fread(pem, 1, sizeof pem, f);
    fclose(f);
    int c = wc_CertPemToDer(pem, (int)n, id->cert, sizeof id->cert, CERT_TYPE);
    int k = wc_KeyPemToDer(pem, (int)n, id->key, sizeof id->key, NULL);
    if (c <= 0 || k <= 0)
        return -1;
    id->cert_len = (size_t)c;
    id->key_len = (size_t)k;
    return 0;
}

struct fetch_glue {
    char host[16];
};

static void on_request(void *ctx, uint32_t request_no, uint8_t server, const char *file)
{
    struct fetch_glue *g = ctx;
    (void)server;
    NOT("TFTP", "[%u]:Requesting %s from %s", (unsigned)request_no, file, g->host);
}

static enum fetch_status fetch_file(struct tftp_posix *tp, const char *name, uint8_t *buf,
                                    size_t cap, size_t *len, char *why, size_t why_cap)
{
    struct tftp_posix_result res;
    memset(&res, 0, sizeof res);
    int rc = tftp_posix_fetch(tp, name, buf, cap, len, &res);
    return tftp_outcome(rc, &res.detail, name, *len, why, why_cap);
}

/* HTTP first (docs/http.md): only a complete 200 is an answer; anything
 * else falls back to TFTP for the same file, whose outcome is final. A
 * failed connection turns HTTP off for the rest of this boot. */
struct http_source {
    struct http_posix hp;
    int enabled;
};

static void on_http_request(void *ctx, uint32_t request_no, const char *file)
{
    const struct http_posix *hp = ctx;
    NOT("HTTP", "[%u]:HTTP GET /%s from %s:%u", (unsigned)request_no, file, hp->host,
        (unsigned)hp->port);
}

static int http_source_open(struct http_source *hs, const char *host, long port)
{
    struct httpc_config hcfg;
    hs->enabled = 0;
    if (port == 0)
        return 0;
    httpc_config_default(&hcfg);
    hcfg.max_body = TFTPC_DEFAULT_MAX_FILE_SIZE; /* one limit for both transports */
    if (http_posix_open(&hs->hp, host, (uint16_t)port, &hcfg) != 0)
        return -1;
    hs->hp.on_request = on_http_request;
    hs->hp.ctx = &hs->hp;
    hs->enabled = 1;
    return 0;
}

/* Returns 1 when HTTP delivered the whole file, 0 to ask TFTP. */
static int fetch_http(struct http_source *hs, const char *name, uint8_t *buf, size_t cap,
                      size_t *len)
{
    struct http_posix_result res;
    memset(&res, 0, sizeof res);
    int rc = http_posix_fetch(&hs->hp, name, buf, cap, len, &res);
    unsigned req = (unsigned)res.detail.request_no;
    if (res.detail.status)
        NOT("HTTP", "[%u]:HTTP/1.%u %u %s", req, (unsigned)res.detail.version_minor,
            (unsigned)res.detail.status, res.detail.reason_phrase);
    switch (rc) {
    case HTTPC_OK:
        NOT("HTTP", "[%u]:Finished --> rcvd %lu bytes", req, (unsigned long)*len);
        return 1;
    case HTTPC_NOT_FOUND:
        NOT("HTTP", "[%u]:File not found on HTTP: %s, asking TFTP", req, name);
        return 0;
    case HTTPC_REFUSED:
    case HTTPC_TIMEOUT:
        if (rc == HTTPC_REFUSED || !res.detail.status) {
            NOT("HTTP", "[%u]:HTTP server %s:%u: %s, TFTP only for this boot",
                req, hs->hp.host, (unsigned)hs->hp.port,
                rc == HTTPC_REFUSED && res.sys_errno ? strerror(res.sys_errno) : res.detail.detail);
            hs->enabled = 0;
            return 0;
        }
        break;
    case HTTPC_TOO_LARGE:
        WRN("HTTP", "[%u]:%s exceeds max size = %u on HTTP, asking TFTP", req, name,
            TFTPC_DEFAULT_MAX_FILE_SIZE);
        return 0;
    default:
        break;
    }
    WRN("HTTP", "[%u]:HTTP GET /%s refused: %s%s%s%s, asking TFTP", req, name,
        rc < 0 ? "local error" : httpc_reason_str((enum httpc_reason)rc),
        res.detail.detail ? " (" : "", res.detail.detail ? res.detail.detail : "",
        res.detail.detail ? ")" : "");
    return 0;
}

/* The boot sequence; a failure arms the retry timer (off with --once).
 * 0 config accepted, 1 not, 2 waiting for the CAPF
 * authentication string, -1 local error. */
static int run_boot(const struct phone_args *a, struct trust_store *ts, struct phone_config *cfg,
                    const struct cert_store *certs, struct capf_client *enroll,
                    struct boot_retry *retry)
{
    struct tftp_posix_server server;
    static struct fetch_glue glue;
    if (tftp_posix_parse_server(a->tftp, glue.host, sizeof glue.host, &server) != 0) {
        ERR("SECD", "bad TFTP server address %s", a->tftp);
        return -1;
    }
    static struct tftp_posix tp;
    struct tftpc_config tcfg;
    tftpc_config_default(&tcfg, 1);
    if (tftp_posix_open(&tp, &server, 1, &tcfg) != 0) {
        ERR("SECD", "cannot open a UDP socket: %s", strerror(errno));
        return -1;
    }
    tp.on_request = on_request;
    tp.ctx = &glue;
    static struct http_source hs;
    if (http_source_open(&hs, glue.host, a->http_port) != 0) {
        ERR("SECD", "bad HTTP server address %s", glue.host);
        return -1;
    }

    struct boot_params p;
    memset(&p, 0, sizeof p);
    memcpy(p.mac, a->mac, sizeof p.mac);
    snprintf(p.model, sizeof p.model, "%s", a->model);
    p.certs = certs; /* B8: the LSC if installed, else the MIC */
    (void)cert_store_in_use(certs, "CONFIG");
    hal_entropy((uint8_t *)&p.hash_salt, sizeof p.hash_salt);
    p.enroll = capf_client_enroll;
    p.enroll_ctx = enroll;

    static struct boot b;
    static uint8_t file[TFTPC_DEFAULT_MAX_FILE_SIZE];
    boot_init(&b, &p, ts, cfg);
    NOT("SECD", "boot: trust state %s, TFTP server %s", secd_state_name(secd_trust_state(&ts->trust)),
        glue.host);
    const char *name;
    while ((name = boot_next(&b)) != NULL) {
        size_t len = 0;
        char why[160] = "";
        enum fetch_status st = FETCH_OK;
        if (!hs.enabled || !fetch_http(&hs, name, file, sizeof file, &len))
            st = fetch_file(&tp, name, file, sizeof file, &len, why, sizeof why);
        boot_on_file(&b, st, why, file, len);
    }
    tftp_posix_close(&tp);
    if (b.outcome == BOOT_CONFIG_ACCEPTED)
        NOT("SECD", "boot complete: config accepted (load %s)", cfg->load_information);
    else
        ERR("SECD", "boot failed: %s", b.failure);
    uint32_t random;
    hal_entropy((uint8_t *)&random, sizeof random);
    boot_retry_after_boot(retry, b.outcome == BOOT_CONFIG_ACCEPTED, &b, hal_monotonic_ms(), random);
    if (b.outcome == BOOT_CONFIG_ACCEPTED)
        return 0;
    return b.waiting_auth_string ? 2 : 1;
}

static int open_storage(const char *dir, struct hal_flash *flash, struct storage *st)
{
    char path[4096];
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return -1;
    snprintf(path, sizeof path, "%s/flash.bin", dir);
    uint32_t size = storage_layout_size(phone_storage_layout, phone_storage_layout_count);
    if (flash_file_open(flash, path, size) != 0)
        return -1;
    *st = (struct storage){flash, phone_storage_layout, phone_storage_layout_count};
    return 0;
}

static void load_trust(struct trust_store *ts, const struct storage *st)
{
    if (trust_store_load(ts, st) != 0)
        ERR("SECD", "EROR:trust store damaged (CTL %s, ITL %s): every file will be refused until "
                    "'erase trustlist'", storage_status_str(ts->ctl.status),
            storage_status_str(ts->itl.status));
}

/* What lives from power-up to exit. */
struct host_phone {
    struct phone_args a;
    struct hal_flash flash;
    struct storage st;
    struct trust_store ts;
    struct phone_config cfg;
    struct tcp_posix_net net;
    struct tvs_client tvs;
    struct cert_store certs;     /* MIC (read-only) + LSC from flash */
    struct capf_client capf;
    struct boot_retry retry;
    struct console con;
    int waiting_capf;            /* the boot stopped for the auth string */
};

/* A boot as after power-up: trust lists and LSC read from flash again. */
static int boot_again(struct host_phone *h)
{
    load_trust(&h->ts, &h->st);
    cert_store_load(&h->certs, &h->st);
    int rc = run_boot(&h->a, &h->ts, &h->cfg, &h->certs, &h->capf, &h->retry);
    if (rc == 0)
        tvs_client_set_servers(&h->tvs, &h->cfg);
    h->waiting_capf = rc == 2;
    return rc;
}

/* Waits for console input; meanwhile the next LSC key is pre-generated one
 * bounded step at a time (at most one modexp, so a typed line waits for
 * one step at most) and a failed boot is retried when its time comes.
 * 1 when input is ready. */
static int wait_for_input(struct host_phone *h)
{
    struct pollfd in = {STDIN_FILENO, POLLIN, 0};
    while (poll(&in, 1, 0) == 0 && boot_retry_wait_ms(&h->retry, hal_monotonic_ms()) > 0 &&
           capf_client_idle(&h->capf))
        ;
    uint32_t wait = boot_retry_wait_ms(&h->retry, hal_monotonic_ms());
    int ready = poll(&in, 1, wait > INT_MAX ? -1 : (int)wait);
    if (boot_retry_due(&h->retry, hal_monotonic_ms()))
        boot_again(h);
    return ready > 0;
}

static void console_loop(struct host_phone *h)
{
    console_init(&h->con, &h->ts, &h->cfg);
    tvs_console_register(&h->con, &h->tvs);
    capf_client_register(&h->capf, &h->con);
    char buf[512];
    for (;;) {
        if (!wait_for_input(h))
            continue;
        ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
        if (n <= 0)
            return;
        enum console_result r = console_feed(&h->con, buf, (size_t)n);
        while (r == CONSOLE_REBOOT) {
            NOT("SECD", "reboot requested from the console");
            boot_retry_cancel(&h->retry);
            boot_again(h);
            r = console_feed(&h->con, NULL, 0); /* commands typed after "reboot" */
        }
        if (r == CONSOLE_QUIT)
            return;
        if (h->waiting_capf && !h->capf.waiting_auth_string) {
            /* The typed string let the CAPF session finish (B6): ask for
             * the config again, as the user expects. */
            h->waiting_capf = 0;
            if (h->capf.status.outcome == CAPF_OUT_INSTALLED) {
                NOT("SECD", "CAPF enrolment done: requesting the config again");
                boot_again(h);
            }
        }
    }
}

int main(int argc, char **argv)
{
    static struct host_phone h;
    if (parse_args(argc, argv, &h.a) != 0)
        return usage();
    hal_board_init();
    static struct device_identity id;
    if (h.a.mic && load_mic(h.a.mic, &id) != 0) {
        fprintf(stderr, "secd-phone: no certificate and private key in %s\n", h.a.mic);
        return EXIT_USAGE;
    }
    if (open_storage(h.a.flash_dir, &h.flash, &h.st) != 0) {
        fprintf(stderr, "secd-phone: cannot open flash in %s: %s\n", h.a.flash_dir,
                strerror(errno));
        return EXIT_USAGE;
    }
    firmware_set_flash(&h.flash);
    int status = firmware_start();
    if (status != FIRMWARE_OK)
        return status == FIRMWARE_SELFTEST_FAILED ? 1 : EXIT_USAGE;
    NOT("SECD", "secd-phone SEP%s model %s", h.a.mac, h.a.model);
    /* TVS (B4): asked for signers and HTTPS servers CTL/ITL do not know. */
    tvs_client_init(&h.tvs, tcp_posix_net_init(&h.net), &h.ts, &h.st, h.a.model, h.a.mac);
    trust_store_set_tvs(&h.ts, tvs_client_hook(&h.tvs));
    load_trust(&h.ts, &h.st);
    cert_store_set_mic(&h.certs, id.cert, id.cert_len, id.key, id.key_len);
    cert_store_load(&h.certs, &h.st);
    tvs_client_set_certs(&h.tvs, &h.certs); /* LSC, else MIC, if TVS asks for one */
    capf_client_init(&h.capf, &h.certs, &h.ts, &h.cfg, &h.net.net, h.a.mac);
    /* --once: one boot, its outcome is the exit status; no retry. */
    boot_retry_init(&h.retry, h.a.once ? 0 : (uint32_t)h.a.boot_retry_s);
    int rc = run_boot(&h.a, &h.ts, &h.cfg, &h.certs, &h.capf, &h.retry);
    if (rc == 0)
        tvs_client_set_servers(&h.tvs, &h.cfg);
    if (h.a.once)
        return rc < 0 ? EXIT_USAGE : rc ? 1 : 0;
    h.waiting_capf = rc == 2;
    console_loop(&h);
    flash_file_close(&h.flash);
    return 0;
}
