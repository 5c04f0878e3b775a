/* libFuzzer target: the console command line (firmware/console.c) with
 * arbitrary bytes, through console_feed() as secd-phone feeds stdin, with
 * the command sets the phone registers (base, TVS, CAPF) over a populated
 * phone flash in RAM (CTL, ITL, LSC, pre-generated key, TVS list).
 *
 * Input: byte 0 sets the size of the pieces the rest is fed in (as reads
 * from a terminal split it). The network answers "unreachable" (the board's
 * TCP is not under test; `verify https` and `capf start` take their error
 * paths). Run with -close_fd_mask=1: the console writes to stdout.
 *
 * Invariants after every input: the line and pending buffers stay within
 * bounds, the trust store is never CORRUPT (no command can damage it), and
 * what RAM holds (trust lists, LSC) is what a fresh boot reads from flash. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capf_client.h"
#include "config.h"
#include "console.h"
#include "phone_image.h"
#include "tvs_client.h"

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            abort();                                                                               \
    } while (0)

static void *net_connect(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms,
                         enum tvs_net_result *r)
{
    (void)ctx, (void)host, (void)port, (void)timeout_ms;
    *r = TVS_NET_UNREACHABLE;
    return NULL;
}

/* Never reached: connect always fails. */
static enum tvs_net_result net_handshake(void *conn, struct secd_tls *t, uint32_t timeout_ms)
{
    (void)conn, (void)t, (void)timeout_ms;
    abort();
}

static enum tvs_net_result net_write(void *conn, struct secd_tls *t, const uint8_t *p, size_t n,
                                     uint32_t timeout_ms)
{
    (void)conn, (void)t, (void)p, (void)n, (void)timeout_ms;
    abort();
}

static enum tvs_net_result net_read(void *conn, struct secd_tls *t, uint8_t *p, size_t cap,
                                    size_t *got, uint32_t timeout_ms)
{
    (void)conn, (void)t, (void)p, (void)cap, (void)got, (void)timeout_ms;
    abort();
}

static void net_close(void *conn, struct secd_tls *t)
{
    (void)conn, (void)t;
    abort();
}

static const struct tvs_net unreachable_net = {NULL,      net_connect, net_handshake,
                                               net_write, net_read,    net_close,     NULL};

static struct phone_image img;
static uint8_t *pristine; /* the populated flash, restored before every input */
static struct phone_config cfg;
static struct phone_id mic;
static struct trust_store ts, check_ts, boot_ts;
static struct cert_store certs, check_certs, boot_certs;
static struct tvs_client tvs;
static struct capf_client capf;
static struct console con;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    size_t n;
    uint8_t *xml = phone_image_vector("cnf/SEP001E7A4C11A1.cnf.xml", &n);
    CHECK(xml && config_parse_buffer(&cfg, xml, n, 1, NULL, 0) == CONFIG_OK);
    free(xml);
    CHECK(phone_image_id("mic", &mic) == 0);
    phone_image_init(&img);
    CHECK(phone_image_populate(&img, &ts, &certs) == 0);
    pristine = phone_image_save(&img);
    CHECK(pristine);
    /* What secd-phone loads at boot, kept to be copied back per input
     * (loading the lists again costs more than the commands). */
    tvs_client_init(&tvs, &unreachable_net, &ts, &img.st, "8845", "001E7A4C11A1");
    trust_store_set_tvs(&ts, tvs_client_hook(&tvs));
    CHECK(trust_store_load(&ts, &img.st) == 0);
    cert_store_set_mic(&certs, mic.cert, mic.cert_len, mic.key, mic.key_len);
    CHECK(cert_store_load(&certs, &img.st) == 0);
    memcpy(&boot_ts, &ts, sizeof ts);
    memcpy(&boot_certs, &certs, sizeof certs);
    return 0;
}

/* What secd-phone does at boot, minus the downloads. */
static void boot(void)
{
    phone_image_restore(&img, pristine);
    memcpy(&ts, &boot_ts, sizeof ts); /* self-contained: its pointers stay inside */
    memcpy(&certs, &boot_certs, sizeof certs);
    tvs_client_init(&tvs, &unreachable_net, &ts, &img.st, "8845", "001E7A4C11A1");
    trust_store_set_tvs(&ts, tvs_client_hook(&tvs));
    img.rf.written = 0;
    console_init(&con, &ts, &cfg);
    tvs_console_register(&con, &tvs);
    capf_client_init(&capf, &certs, &ts, &cfg, &unreachable_net, "001E7A4C11A1");
    capf_client_register(&capf, &con);
}

/* RAM agrees with what the next boot reads (once something was written). */
static void check_state(void)
{
    CHECK(con.len < sizeof con.line);
    CHECK(con.pending_len <= sizeof con.pending);
    CHECK(!ts.trust.corrupt);
    if (!img.rf.written)
        return;
    CHECK(trust_store_load(&check_ts, &img.st) == 0);
    CHECK(check_ts.ctl.present == ts.ctl.present && check_ts.itl.present == ts.itl.present);
    CHECK(!ts.ctl.present || memcmp(check_ts.ctl.md5, ts.ctl.md5, 16) == 0);
    CHECK(!ts.itl.present || memcmp(check_ts.itl.md5, ts.itl.md5, 16) == 0);
    CHECK(cert_store_load(&check_certs, &img.st) == 0);
    CHECK(cert_store_has_lsc(&check_certs) == cert_store_has_lsc(&certs));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t piece = 1u + data[0] % 64u;
    const char *text = (const char *)data + 1;
    size_t left = size - 1;
    boot();
    while (left) {
        size_t n = left < piece ? left : piece;
        enum console_result r = console_feed(&con, text, n);
        text += n;
        left -= n;
        while (r == CONSOLE_REBOOT) {
            CHECK(trust_store_load(&ts, &img.st) == 0);
            CHECK(cert_store_load(&certs, &img.st) == 0);
            r = console_feed(&con, NULL, 0);
        }
        if (r == CONSOLE_QUIT)
            break;
    }
    check_state();
    return 0;
}
