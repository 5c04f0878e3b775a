/* TVS, CAPF and certificates on the QEMU phone (see phone_secure.h). */
#include "phone_secure.h"

#include <stdlib.h>
#include <string.h>

#include "board_qemu.h"
#include "capf_client.h"
#include "cmsdk.h"
#include "cert_store.h"
#include "mic_flash.h"
#include "phone.h"
#include "trace.h"
#include "tvs_client.h"

#define NS_PER_TICK (1000000000u / CORE_CLOCK_HZ)
#define NS_PER_INSN_SHIFT3 8u /* -icount shift=3: one instruction = 8 ns */

static struct {
    struct tcp_lwip_net net;
    struct tvs_client tvs;
    struct cert_store certs;
    struct capf_client capf;
    const struct hal_flash *flash; /* the MIC's factory region (no RAM copy) */
    enum mic_flash_status mic_status; /* of its last read */
    uint64_t pregen_max[CAPF_RSAGEN_FAILED + 1]; /* longest slice by phase (ticks) */
    uint64_t pregen_total;                       /* all slices of the generation */
} sec;

/* cert_store's MIC reader: the factory region, checked on every read. */
static int read_mic(void *ctx, uint8_t *buf, size_t cap, struct cert_pair *out)
{
    (void)ctx;
    sec.mic_status = mic_flash_read(sec.flash, buf, cap, out);
    return sec.mic_status == MIC_FLASH_OK ? 0 : -1;
}

static void load_mic(const struct hal_flash *f)
{
    sec.flash = f;
    sec.mic_status = MIC_FLASH_IO; /* if not even read (no memory) */
    (void)cert_store_set_mic_reader(&sec.certs, read_mic, NULL);
    switch (sec.mic_status) {
    case MIC_FLASH_OK:
        NOT("SECD", "MIC from the factory region: %u-byte certificate",
            (unsigned)sec.certs.mic_cert_len);
        return;
    case MIC_FLASH_NONE:
        WRN("SECD", "no MIC provisioned in the flash image (factory region empty)");
        return;
    case MIC_FLASH_DAMAGED:
        ERR("SECD", "EROR:MIC factory region damaged (format or SHA-256): MIC not used");
        return;
    case MIC_FLASH_IO:
        ERR("SECD", "EROR:MIC factory region unreadable");
        return;
    }
}

void phone_secure_init(struct trust_store *ts, const struct storage *st,
                       const struct phone_config *cfg, const char *model, const char *mac,
                       tcp_lwip_service_fn service, void *service_ctx)
{
    const struct tvs_net *net = tcp_lwip_net_init(&sec.net, service, service_ctx);
    tvs_client_init(&sec.tvs, net, ts, st, model, mac);
    trust_store_set_tvs(ts, tvs_client_hook(&sec.tvs));
    if (storage_layout_size(st->areas, st->n_areas) > MIC_FLASH_OFFSET)
        ERR("SECD", "EROR:storage layout overlaps the MIC factory region");
    else
        load_mic(st->flash);
    cert_store_load(&sec.certs, st);
    tvs_client_set_certs(&sec.tvs, &sec.certs);
    capf_client_init(&sec.capf, &sec.certs, ts, cfg, net, mac);
}

void phone_secure_boot_params(struct boot_params *bp)
{
    /* certHash names no certificate the phone has: enrol through CAPF
     * (B6). An authentication-string wait ends the boot; once `capf
     * auth-string DIGITS` lets the session install the LSC, the phone asks
     * for the config again by itself (phone.c). */
    bp->enroll = capf_client_enroll;
    bp->enroll_ctx = &sec.capf;
    bp->certs = &sec.certs; /* B8: the LSC if installed, else the MIC */
    (void)cert_store_in_use(&sec.certs, "CONFIG");
}

int phone_secure_enrolment_resumed(void)
{
    if (sec.capf.waiting_auth_string)
        return -1;
    return sec.capf.status.outcome == CAPF_OUT_INSTALLED;
}

void phone_secure_boot_done(const struct phone_config *cfg, int accepted)
{
    if (accepted)
        tvs_client_set_servers(&sec.tvs, cfg);
}

void phone_secure_reload(const struct storage *st)
{
    cert_store_load(&sec.certs, st);
}

static unsigned long ticks_to_insns(uint64_t ticks);

/* One slice, timed: nothing in a slice sleeps, so under -icount its ticks
 * are executed instructions (interrupt handlers included). */
int phone_secure_pregen(void)
{
    const struct capf_pregen *pg = &sec.capf.pregen;
    uint32_t done = pg->done;
    int phase = pg->gen ? (int)pg->gen->phase : CAPF_RSAGEN_IDLE;
    uint64_t t0 = board_uptime_ticks();
    int more = capf_client_idle(&sec.capf);
    uint64_t dt = board_uptime_ticks() - t0;
    sec.pregen_total += dt;
    if (dt > sec.pregen_max[phase])
        sec.pregen_max[phase] = dt;
    if (pg->done != done) {
        uint64_t *m = sec.pregen_max, top = 0;
        for (int i = 0; i <= CAPF_RSAGEN_FAILED; i++)
            top = m[i] > top ? m[i] : top;
        NOT("CAPF", "pre-generation busy time: longest slice %lu instructions, all %u slices "
                    "%lu k instructions (-icount shift=3)", ticks_to_insns(top),
            (unsigned)pg->slices,
            (unsigned long)(sec.pregen_total * NS_PER_TICK / NS_PER_INSN_SHIFT3 / 1000u));
        NOT("CAPF", "pre-generation longest slice by kind: candidates %lu, Miller-Rabin %lu, "
                    "assembly %lu, round trip %lu instructions",
            ticks_to_insns(m[CAPF_RSAGEN_SEARCH_P] > m[CAPF_RSAGEN_SEARCH_Q]
                               ? m[CAPF_RSAGEN_SEARCH_P] : m[CAPF_RSAGEN_SEARCH_Q]),
            ticks_to_insns(m[CAPF_RSAGEN_TEST_P] > m[CAPF_RSAGEN_TEST_Q] ? m[CAPF_RSAGEN_TEST_P]
                                                                         : m[CAPF_RSAGEN_TEST_Q]),
            ticks_to_insns(m[CAPF_RSAGEN_ASSEMBLE]),
            ticks_to_insns(m[CAPF_RSAGEN_CHECK_P] > m[CAPF_RSAGEN_CHECK_Q]
                               ? m[CAPF_RSAGEN_CHECK_P] : m[CAPF_RSAGEN_CHECK_Q]));
        memset(sec.pregen_max, 0, sizeof sec.pregen_max);
        sec.pregen_total = 0;
    }
    return more;
}

/* --- bench https HOST[:PORT] ---------------------------------------------- */

static enum secd_tls_verdict defer_rule(void *ctx, const uint8_t *der, size_t len, int err)
{
    (void)ctx;
    (void)der;
    (void)len;
    (void)err;
    return SECD_TLS_DEFER; /* judged after the handshake, like verify https */
}

static int split_host_port(char *arg, uint16_t *port)
{
    char *colon = strrchr(arg, ':');
    *port = 443;
    if (!colon)
        return arg[0] ? 0 : -1;
    char *end;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (*end || p == 0 || p > 65535 || colon == arg)
        return -1;
    *colon = '\0';
    *port = (uint16_t)p;
    return 0;
}

static unsigned long ticks_to_insns(uint64_t ticks)
{
    return (unsigned long)(ticks * NS_PER_TICK / NS_PER_INSN_SHIFT3);
}

/* What a decision is made of: one trace line (a decision prints 5 to 12);
 * and the SHA-256 of the certificate (the cache key), which the TLS layer
 * computes once in the handshake, outside the decision. */
static void measure_parts(const uint8_t *leaf, size_t len)
{
    uint8_t key[32];
    uint64_t t0 = board_uptime_ticks();
    secd_tvs_cert_key(leaf, len, key);
    uint64_t t1 = board_uptime_ticks();
    NOT("SECD", "bench: one trace line");
    uint64_t t2 = board_uptime_ticks();
    console_print("bench parts: SHA-256 of the %u-byte certificate %lu instructions, one trace "
                  "line %lu instructions", (unsigned)len, ticks_to_insns(t1 - t0),
                  ticks_to_insns(t2 - t1));
}

/* Busy virtual time of one decision: elapsed minus time asleep in WFI
 * (waiting for TVS's packets). Under -icount shift=3 it is 8 ns per
 * executed instruction. */
static void measure_decision(const char *host, const uint8_t *leaf, size_t len,
                             const uint8_t *sha256)
{
    uint32_t waits0 = sec.net.waits;
    uint64_t t0 = board_uptime_ticks(), s0 = phone_asleep_ticks();
    struct tvs_decision d;
    tvs_https_decide(&sec.tvs, host, leaf, len, sha256, &d);
    uint64_t elapsed = board_uptime_ticks() - t0, asleep = phone_asleep_ticks() - s0;
    unsigned long busy_ns = (unsigned long)((elapsed - asleep) * NS_PER_TICK);
    console_print("bench https %s: %s by %s, busy %lu ns = %lu instructions at -icount shift=3 "
                  "(elapsed %lu us, asleep %lu us, %lu network waits)",
                  host, d.verdict == TVS_TRUSTED ? "TRUSTED" : "NOT TRUSTED",
                  tvs_step_name(d.step), busy_ns, busy_ns / NS_PER_INSN_SHIFT3,
                  (unsigned long)(elapsed * NS_PER_TICK / 1000u),
                  (unsigned long)(asleep * NS_PER_TICK / 1000u),
                  (unsigned long)(sec.net.waits - waits0));
}

static enum console_result cmd_bench_https(struct console *c, int argc, char **argv)
{
    uint16_t port;
    (void)c;
    (void)argc;
    if (split_host_port(argv[0], &port) != 0) {
        console_print("usage: bench https HOST[:PORT]");
        return CONSOLE_CONTINUE;
    }
    struct secd_tls *const t = tvs_console_https_session(); /* as `verify https` */
    if (!t) {
        console_print("bench https %s: out of memory", argv[0]);
        return CONSOLE_CONTINUE;
    }
    const struct tvs_net *net = &sec.net.net;
    enum tvs_net_result r = TVS_NET_OK;
    void *conn = net->connect(net->ctx, argv[0], port, TVS_CONNECT_TIMEOUT_MS, &r);
    if (!conn) {
        console_print("bench https %s: %s", argv[0], tvs_net_result_str(r));
        tvs_console_https_session_free(t);
        return CONSOLE_CONTINUE;
    }
    struct secd_tls_config cfg = {.verify = defer_rule, .sni = argv[0]};
    size_t len = 0;
    const uint8_t *leaf = NULL;
    if (secd_tls_init(t, &cfg) == SECD_TLS_OK &&
        (r = net->handshake(conn, t, TVS_EXCHANGE_TIMEOUT_MS)) == TVS_NET_OK)
        leaf = secd_tls_peer_cert(t, &len);
    if (leaf) {
        measure_decision(argv[0], leaf, len, secd_tls_peer_cert_sha256(t));
        measure_parts(leaf, len);
        secd_tls_peer_decide(t, 0); /* nothing is sent to the server either way */
    } else {
        console_print("bench https %s: TLS handshake failed: %s", argv[0], tvs_net_result_str(r));
    }
    net->close(conn, t);
    secd_tls_free(t);
    tvs_console_https_session_free(t);
    return CONSOLE_CONTINUE;
}

static const struct console_command bench_commands[] = {
    {"bench https", 1, 1, cmd_bench_https, "bench https HOST[:PORT]"},
};

void phone_secure_console(struct console *con)
{
    tvs_console_register(con, &sec.tvs);
    capf_client_register(&sec.capf, con);
    console_register(con, bench_commands, 1, NULL);
}
