/* The phone on the QEMU board (see phone.h). The same boot flow and trace
 * as secd-phone on the POSIX board (boards/host/secd_phone.c), driven by
 * events instead of blocking calls:
 *
 *   loop: NIC frames -> lwIP; lwIP timers; TFTP deadlines; the boot flow
 *         (next file when a download ended); console input; one slice of
 *         idle work (key pre-generation, --pregen); then WFI until the NIC
 *         interrupt (IRQ 13) or the 1 ms SysTick (no WFI while idle work
 *         is pending).
 *
 * Nothing waits inside a step, so lwIP, TFTP and the console all stay
 * responsive. */
#include "phone.h"

#include <stdio.h>
#include <string.h>

#include "board_qemu.h"
#include "boot.h"
#include "boot_retry.h"
#include "cmsdk.h"
#include "console.h"
#include "dhcp_tftp.h"
#include "firmware.h"
#include "hal/hal_board.h"
#include "hal/hal_clock.h"
#include "hal/hal_console.h"
#include "hal/hal_entropy.h"
#include "layout.h"
#include "lwip/dhcp.h"
#include "lwip/init.h"
#include "lwip/memp.h"
#include "lwip/stats.h"
#include "lwip/netif.h"
#include "lwip/timeouts.h"
#include "netif_lan9118.h"
#include "phone_args.h"
#include "phone_secure.h"
#include "semihost.h"
#include "tftp_lwip.h"
#include "tftp_outcome.h"
#include "trace.h"

#define NVIC_ISER0 REG32(0xE000E100u)

enum phase { PHASE_DHCP, PHASE_BOOT, PHASE_CONSOLE, PHASE_EXIT };

struct phone {
    struct phone_args args;
    struct lan9118_info nic;
    struct netif netif;
    char mac[13];
    char hostname[16];
    struct tftp_lwip_server servers[TFTPC_MAX_SERVERS];
    size_t n_servers;
    char server_text[16];
    struct tftp_lwip tftp;
    struct storage st;
    struct trust_store ts;
    struct phone_config cfg;
    struct boot boot;
    struct boot_retry retry;     /* when a failed boot is tried again */
    struct console con;
    enum phase phase;
    uint32_t dhcp_start_ms;
    int status;
    int busy;                    /* idle work pending: do not sleep */
    int boot_waits_capf;         /* the boot stopped for the CAPF authentication string */
    char line[256];              /* interactive line editing */
    size_t line_len;
};

static struct phone phone;
/* Downloads stream into the boot flow (boot_data): trust lists to its
 * bounded RAM buffer, configs through the signature hash to the flash
 * staging area. No RAM buffer of the download limit's size. */
static int sink_data(void *ctx, uint32_t offset, const uint8_t *data, size_t n)
{
    return boot_data(ctx, offset, data, n);
}

static void sink_restart(void *ctx)
{
    boot_data_restart(ctx);
}

/* --- set-up -------------------------------------------------------- */

static int read_args(struct phone_args *a)
{
    char line[PHONE_ARGS_MAX], err[96];
    if (semihost_get_cmdline(line, sizeof line) != 0)
        line[0] = '\0'; /* none: defaults */
    if (phone_args_parse(a, line, err, sizeof err) != 0) {
        ERR("SECD", "command line: %s", err);
        return -1;
    }
    return 0;
}

static void load_trust(struct phone *p)
{
    if (trust_store_load(&p->ts, &p->st) != 0)
        ERR("SECD", "EROR:trust store damaged (CTL %s, ITL %s): every file will be refused until "
                    "'erase trustlist'", storage_status_str(p->ts.ctl.status),
            storage_status_str(p->ts.itl.status));
}

static void format_ip(char *buf, size_t cap, uint32_t addr_be)
{
    const uint8_t *b = (const uint8_t *)&addr_be;
    snprintf(buf, cap, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
}

static int net_up(struct phone *p)
{
    if (lan9118_init(&p->nic) != 0) {
        ERR("NET", "no LAN9118 at 0x%08lx", (unsigned long)LAN9118_BASE);
        return -1;
    }
    const uint8_t *m = p->nic.mac;
    snprintf(p->mac, sizeof p->mac, "%02X%02X%02X%02X%02X%02X", m[0], m[1], m[2], m[3], m[4],
             m[5]);
    snprintf(p->hostname, sizeof p->hostname, "SEP%s", p->mac);
    NOT("NET", "LAN9118 id %08lx, MAC %s, link %s", (unsigned long)p->nic.id_rev, p->mac,
        p->nic.link_up ? "up" : "DOWN");
    lwip_init();
    netif_add(&p->netif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4, &p->nic,
              lan9118_netif_init, netif_input);
    netif_set_hostname(&p->netif, p->hostname);
    netif_set_default(&p->netif);
    netif_set_up(&p->netif);
    if (p->nic.link_up)
        netif_set_link_up(&p->netif);
    NVIC_ISER0 = 1u << LAN9118_IRQ;
    if (dhcp_start(&p->netif) != ERR_OK) {
        ERR("NET", "DHCP could not start");
        return -1;
    }
    p->dhcp_start_ms = hal_monotonic_ms();
    return 0;
}

/* --- the boot ------------------------------------------------------- */

static void end_boot(struct phone *p, int accepted, const char *why)
{
    /* The boot flow's state tells a retry what it needs (the CAPF
     * server's delay, a wait for the user); it has none before it ran. */
    const struct boot *flow = p->phase == PHASE_BOOT ? &p->boot : NULL;
    tftp_lwip_close(&p->tftp);
    phone_secure_boot_done(&p->cfg, accepted);
    if (accepted)
        NOT("SECD", "boot complete: config accepted (load %s)", p->cfg.load_information);
    else
        ERR("SECD", "boot failed: %s", why);
    p->status = accepted ? 0 : PHONE_EXIT_NOT_ACCEPTED;
    p->boot_waits_capf = !accepted && flow && flow->waiting_auth_string;
    p->phase = p->args.once ? PHASE_EXIT : PHASE_CONSOLE;
    if (p->phase == PHASE_CONSOLE) {
        uint32_t random;
        hal_entropy((uint8_t *)&random, sizeof random);
        boot_retry_after_boot(&p->retry, accepted, flow, hal_monotonic_ms(), random);
    }
    if (p->phase == PHASE_CONSOLE && p->args.interactive)
        console_print("console ready (help lists the commands, quit ends QEMU)");
}

static void on_request(void *ctx, uint32_t request_no, uint8_t server, const char *file)
{
    const struct phone *p = ctx;
    char host[16];
    format_ip(host, sizeof host, p->servers[server].addr.addr);
    NOT("TFTP", "[%u]:Requesting %s from %s", (unsigned)request_no, file, host);
}

/* The next file of the boot flow, or its end. */
static void fetch_next(struct phone *p)
{
    const char *name = boot_next(&p->boot);
    if (name == NULL) {
        end_boot(p, p->boot.outcome == BOOT_CONFIG_ACCEPTED, p->boot.failure);
        return;
    }
    p->tftp.on_data = sink_data;
    p->tftp.on_restart = sink_restart;
    p->tftp.sink_ctx = &p->boot;
    if (tftp_lwip_start(&p->tftp, name, TFTPC_DEFAULT_MAX_FILE_SIZE) != 0)
        boot_on_file(&p->boot, FETCH_FAILED, "bad file name", NULL, 0);
}

/* Maps a finished download to the boot flow's terms, with the trace lines
 * of secd-phone. */
static enum fetch_status fetch_result(struct phone *p, char *why, size_t why_cap)
{
    return tftp_outcome(tftp_lwip_reason(&p->tftp), tftp_lwip_result(&p->tftp), p->boot.request,
                        tftp_lwip_len(&p->tftp), why, why_cap);
}

static void start_boot(struct phone *p)
{
    struct boot_params bp;
    memset(&bp, 0, sizeof bp);
    memcpy(bp.mac, p->mac, sizeof bp.mac);
    snprintf(bp.model, sizeof bp.model, "%s", p->args.model);
    hal_entropy((uint8_t *)&bp.hash_salt, sizeof bp.hash_salt);
    phone_secure_boot_params(&bp);
    boot_init(&p->boot, &bp, &p->ts, &p->cfg);
    NOT("SECD", "boot: trust state %s, TFTP server %s",
        secd_state_name(secd_trust_state(&p->ts.trust)), p->server_text);
    if (tftp_lwip_open(&p->tftp, p->servers, p->n_servers, NULL) != 0) {
        end_boot(p, 0, "no UDP pcb for TFTP");
        return;
    }
    p->tftp.on_request = on_request;
    p->tftp.ctx = p;
    p->phase = PHASE_BOOT;
    fetch_next(p);
}

static void step_boot(struct phone *p)
{
    tftp_lwip_poll(&p->tftp);
    if (!tftp_lwip_finished(&p->tftp))
        return;
    char why[160] = "";
    enum fetch_status st = fetch_result(p, why, sizeof why);
    boot_on_file(&p->boot, st, why, NULL, tftp_lwip_len(&p->tftp));
    fetch_next(p);
}

/* Option 150, else 66, else --tftp-server. Returns 0 or -1 (none). */
static int pick_servers(struct phone *p)
{
    struct dhcp_tftp_servers d;
    dhcp_tftp_servers(netif_dhcp_data(&p->netif)->xid, &d);
    const char *from = d.source == DHCP_TFTP_OPTION_150 ? "DHCP option 150" : "DHCP option 66";
    if (d.source == DHCP_TFTP_NONE) {
        if (d.name66[0])
            WRN("NET", "DHCP option 66 \"%s\" is not an IPv4 address (no resolver at boot)",
                d.name66);
        if (!p->args.have_tftp_server)
            return -1;
        d.n = 1;
        d.addr[0] = p->args.tftp_server;
        from = "configured (--tftp-server)";
    }
    p->n_servers = d.n;
    for (size_t i = 0; i < d.n; i++) {
        p->servers[i].addr.addr = d.addr[i];
        p->servers[i].port = p->args.tftp_port;
    }
    format_ip(p->server_text, sizeof p->server_text, d.addr[0]);
    NOT("NET", "TFTP server %s port %u (%s%s)", p->server_text, (unsigned)p->args.tftp_port,
        from, d.n > 1 ? ", alternates follow" : "");
    return 0;
}

static void step_dhcp(struct phone *p)
{
    if (dhcp_supplied_address(&p->netif)) {
        char ip[16], gw[16];
        format_ip(ip, sizeof ip, netif_ip4_addr(&p->netif)->addr);
        format_ip(gw, sizeof gw, netif_ip4_gw(&p->netif)->addr);
        NOT("NET", "DHCP: address %s, gateway %s", ip, gw);
        if (pick_servers(p) != 0) {
            end_boot(p, 0, "no TFTP server: DHCP offered neither option 150 nor option 66 "
                           "and none is configured (--tftp-server)");
            return;
        }
        start_boot(p);
        return;
    }
    if (hal_monotonic_ms() - p->dhcp_start_ms >= p->args.dhcp_timeout_ms) {
        char why[64];
        snprintf(why, sizeof why, "no DHCP lease within %lu ms",
                 (unsigned long)p->args.dhcp_timeout_ms);
        end_boot(p, 0, why);
    }
}

/* --- console -------------------------------------------------------- */

static void prompt(const struct phone *p)
{
    if (!p->args.interactive)
        return;
    hal_console_write(p->hostname, strlen(p->hostname));
    hal_console_write("> ", 2);
}

/* A person at a terminal: echo, backspace, CR or LF ends the line. */
static enum console_result edit_char(struct phone *p, char ch)
{
    if (ch == '\r' || ch == '\n') {
        hal_console_write("\n", 1);
        p->line[p->line_len++] = '\n';
        enum console_result r = console_feed(&p->con, p->line, p->line_len);
        p->line_len = 0;
        if (r == CONSOLE_CONTINUE)
            prompt(p);
        return r;
    }
    if (ch == 0x7F || ch == '\b') {
        if (p->line_len > 0) {
            p->line_len--;
            hal_console_write("\b \b", 3);
        }
        return CONSOLE_CONTINUE;
    }
    if ((unsigned char)ch >= 0x20 && p->line_len + 2 < sizeof p->line) {
        p->line[p->line_len++] = ch;
        hal_console_write(&ch, 1);
    }
    return CONSOLE_CONTINUE;
}

/* The whole boot again from DHCP (a lease lost meanwhile is waited for,
 * the TFTP servers are picked again): a retry does what a power-up does. */
static void retry_boot(struct phone *p)
{
    load_trust(p);
    phone_secure_reload(&p->st);
    p->dhcp_start_ms = hal_monotonic_ms();
    p->phase = PHASE_DHCP;
}

/* One byte at a time: after `reboot` the rest of the input stays in the
 * UART for the console of the next boot, as on the POSIX board. */
static void step_console(struct phone *p)
{
    char ch;
    int resumed;
    if (boot_retry_due(&p->retry, hal_monotonic_ms())) {
        retry_boot(p);
        return;
    }
    while (p->phase == PHASE_CONSOLE && hal_console_read(&ch, 1) == 1) {
        enum console_result r = p->args.interactive ? edit_char(p, ch)
                                                    : console_feed(&p->con, &ch, 1);
        if (r == CONSOLE_QUIT) {
            p->phase = PHASE_EXIT;
            p->status = 0;
        } else if (r == CONSOLE_REBOOT) {
            NOT("SECD", "reboot requested from the console");
            boot_retry_cancel(&p->retry);
            load_trust(p);
            phone_secure_reload(&p->st);
            start_boot(p);
        } else if (p->boot_waits_capf && (resumed = phone_secure_enrolment_resumed()) >= 0) {
            /* The typed string let the CAPF session finish (B6): ask for
             * the config again, as the user expects (as the POSIX board). */
            p->boot_waits_capf = 0;
            if (resumed == 1) {
                NOT("SECD", "CAPF enrolment done: requesting the config again");
                start_boot(p);
            }
        }
    }
}

/* --- main loop ------------------------------------------------------ */

/* Virtual time spent in idle() (the figures subtract it: under -icount
 * only the rest is executed instructions). */
static uint64_t asleep_ticks;

uint64_t phone_asleep_ticks(void)
{
    return asleep_ticks;
}

/* Sleeps until an interrupt unless the NIC already raised one. PRIMASK
 * closes the race between the check and WFI (a pending interrupt still
 * wakes WFI with interrupts masked). */
static void idle(void)
{
    uint64_t t0 = board_uptime_ticks();
    __asm__ volatile("cpsid i" ::: "memory");
    if (!lan9118_irq_seen)
        __asm__ volatile("wfi");
    __asm__ volatile("cpsie i" ::: "memory");
    asleep_ticks += board_uptime_ticks() - t0;
}

static void service_network(struct phone *p)
{
    lan9118_irq_seen = 0;
    lan9118_netif_poll(&p->netif);
    sys_check_timeouts();
}

/* One wait round of a blocking TLS call (tcp_lwip.h): sleep until an
 * interrupt, then let lwIP handle frames and timers. */
static void service_wait(void *ctx, int may_sleep)
{
    if (may_sleep)
        idle();
    service_network(ctx);
}

static void run(struct phone *p)
{
    if (p->args.interactive)
        prompt(p);
    while (p->phase != PHASE_EXIT) {
        service_network(p);
        switch (p->phase) {
        case PHASE_DHCP: step_dhcp(p); break;
        case PHASE_BOOT: step_boot(p); break;
        case PHASE_CONSOLE: step_console(p); break;
        case PHASE_EXIT: break;
        }
        /* Idle work (--pregen): one slice of the next LSC key, after the
         * network and the console had their turn. */
        p->busy = p->phase == PHASE_CONSOLE && p->args.pregen && phone_secure_pregen();
        if (p->phase != PHASE_EXIT && !p->busy)
            idle();
    }
}

static void trace_counters(void)
{
    const struct lan9118_counters *c = lan9118_netif_counters();
    NOT("NET", "frames rx %lu (dropped %lu, no pbuf %lu), tx %lu (errors %lu)",
        (unsigned long)c->rx_frames, (unsigned long)c->rx_dropped, (unsigned long)c->rx_no_pbuf,
        (unsigned long)c->tx_frames, (unsigned long)c->tx_errors);
#if LWIP_STATS && MEM_STATS && MEMP_STATS
    /* lwIP's high-water marks, for sizing config/lwip/lwipopts.h (built
     * with LWIP_STATS 1 when measuring; off in the shipped image). */
    NOT("NET", "lwIP peaks: heap %lu of %lu bytes, PBUF_POOL %u of %u, TCP_SEG %u of %u, "
        "PBUF %u of %u, errors heap %u pool %u seg %u",
        (unsigned long)lwip_stats.mem.max, (unsigned long)MEM_SIZE,
        (unsigned)lwip_stats.memp[MEMP_PBUF_POOL]->max, (unsigned)PBUF_POOL_SIZE,
        (unsigned)lwip_stats.memp[MEMP_TCP_SEG]->max, (unsigned)MEMP_NUM_TCP_SEG,
        (unsigned)lwip_stats.memp[MEMP_PBUF]->max, (unsigned)MEMP_NUM_PBUF,
        (unsigned)lwip_stats.mem.err, (unsigned)lwip_stats.memp[MEMP_PBUF_POOL]->err,
        (unsigned)lwip_stats.memp[MEMP_TCP_SEG]->err);
#endif
    /* What expat's arena (firmware/config.c, in the work area) really needed. */
    NOT("BOARD", "config parser arena peak %lu of %lu bytes", (unsigned long)config_arena_peak(),
        (unsigned long)CONFIG_ARENA_SIZE);
}

int phone_main(void)
{
    struct phone *p = &phone;
    hal_board_init();
    if (read_args(&p->args) != 0)
        return PHONE_EXIT_USAGE;
    firmware_set_flash(board_flash());
    int status = firmware_start();
    if (status != FIRMWARE_OK || p->args.no_network)
        return status;
    p->st = (struct storage){board_flash(), phone_storage_layout, phone_storage_layout_count};
    load_trust(p);
    if (net_up(p) != 0)
        return PHONE_EXIT_NO_NIC;
    NOT("SECD", "secd-phone SEP%s model %s", p->mac, p->args.model);
    phone_secure_init(&p->ts, &p->st, &p->cfg, p->args.model, p->mac, service_wait, p);
    console_init(&p->con, &p->ts, &p->cfg);
    phone_secure_console(&p->con);
    boot_retry_init(&p->retry, p->args.boot_retry_s);
    p->phase = PHASE_DHCP;
    run(p);
    trace_counters();
    return p->status;
}
