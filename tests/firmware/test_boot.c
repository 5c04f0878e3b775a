/* The boot flow (B1-B3, B5, B6) driven with the interop vectors as the
 * server's files, without a network: the order of requests, fallbacks,
 * installs, refusals and the encrypted-config path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/asn_public.h>

#include "boot.h"
#include "boot_retry.h"
#include "layout.h"
#include "ram_flash.h"
#include "vectors.h"

#define MAC "001E7A4C11A1"

/* A fake TFTP server: a name -> interop file table. */
struct served {
    const char *name;
    const char *rel; /* NULL: not found */
};

struct env {
    struct ram_flash rf;
    size_t chunk; /* 0: whole file at once; else streamed in pieces */
    struct storage st;
    struct trust_store *ts;
    struct cert_store certs; /* MIC in RAM, LSC in e->st */
    struct phone_config cfg;
    struct boot b;
    char log[16][48];
    int n_req;
};

static void env_init(struct env *e)
{
    memset(e, 0, sizeof *e);
    ram_flash_init(&e->rf, storage_layout_size(phone_storage_layout, phone_storage_layout_count));
    e->st = (struct storage){&e->rf.dev, phone_storage_layout, phone_storage_layout_count};
    e->ts = calloc(1, sizeof *e->ts);
    trust_store_load(e->ts, &e->st);
    cert_store_load(&e->certs, &e->st);
}

static void env_free(struct env *e)
{
    free(e->ts);
    ram_flash_free(&e->rf);
}

static const char *lookup(const struct served *tree, const char *name)
{
    for (; tree->name; tree++)
        if (!strcmp(tree->name, name))
            return tree->rel;
    return NULL;
}

/* Runs one boot against `tree`; returns the outcome. */
static enum boot_outcome run(struct env *e, const struct served *tree,
                             const struct boot_params *params)
{
    struct boot_params p = {.mac = MAC, .model = "8845", .hash_salt = 7};
    if (params)
        p = *params;
    boot_init(&e->b, &p, e->ts, &e->cfg);
    e->n_req = 0;
    const char *name;
    while ((name = boot_next(&e->b)) != NULL) {
        assert_true(e->n_req < 16);
        snprintf(e->log[e->n_req++], sizeof e->log[0], "%s", name);
        const char *rel = lookup(tree, name);
        if (!rel) {
            boot_on_file(&e->b, FETCH_NOT_FOUND, NULL, NULL, 0);
            continue;
        }
        struct vec v = vec_read(rel);
        if (!e->chunk) {
            boot_on_file(&e->b, FETCH_OK, NULL, v.p, v.len);
        } else {
            /* As a fetcher does: pieces in order, one false start first. */
            boot_data(&e->b, 0, v.p, v.len < 100 ? v.len : 100);
            boot_data_restart(&e->b);
            for (size_t off = 0; off < v.len; off += e->chunk)
                boot_data(&e->b, (uint32_t)off, v.p + off,
                          v.len - off < e->chunk ? v.len - off : e->chunk);
            boot_on_file(&e->b, FETCH_OK, NULL, NULL, v.len);
        }
        vec_free(&v);
    }
    return e->b.outcome;
}

static const struct served cluster[] = {
    {"CTLFile.tlv", "tlv/sha1/CTLFile.tlv"},
    {"ITLFile.tlv", "tlv/sha1/ITLFile.tlv"},
    {"SEP" MAC ".cnf.xml.sgn", "cnf/sha1/SEP001E7A4C11A1.cnf.xml.sgn"},
    {"SEP" MAC ".cnf.xml", "cnf/SEP001E7A4C11A1.cnf.xml"},
    {NULL, NULL},
};

static void first_boot(size_t chunk)
{
    struct env e;
    env_init(&e);
    e.chunk = chunk;
    assert_int_equal(run(&e, cluster, NULL), BOOT_CONFIG_ACCEPTED);
    const char *want[] = {"CTLSEP" MAC ".tlv", "CTLFile.tlv", "ITLSEP" MAC ".tlv", "ITLFile.tlv",
                          "SEP" MAC ".cnf.xml.sgn"};
    assert_int_equal(e.n_req, 5);
    for (int i = 0; i < 5; i++)
        assert_string_equal(e.log[i], want[i]);
    assert_int_equal(secd_trust_state(&e.ts->trust), SECD_STATE_CTL_ITL);
    assert_string_equal(e.cfg.load_information, "sip8845_65.14-1-1MN-366");
    env_free(&e);
}

static void test_first_boot_falls_back_to_cluster_files(void **state)
{
    (void)state;
    first_boot(0);
    first_boot(512);
}

static void test_per_phone_files_win(void **state)
{
    (void)state;
    static const struct served tree[] = {
        {"CTLSEP" MAC ".tlv", "tlv/sha1/CTLSEP001E7A4C11A1.tlv"},
        {"ITLSEP" MAC ".tlv", "tlv/sha1/ITLSEP001E7A4C11A1.tlv"},
        {"SEP" MAC ".cnf.xml.sgn", "cnf/sha1/SEP001E7A4C11A1.cnf.xml.sgn"},
        {NULL, NULL},
    };
    struct env e;
    env_init(&e);
    assert_int_equal(run(&e, tree, NULL), BOOT_CONFIG_ACCEPTED);
    assert_int_equal(e.n_req, 3);
    env_free(&e);
}

static void test_no_trust_list_means_unsigned_config(void **state)
{
    (void)state;
    static const struct served tree[] = {
        {"SEP" MAC ".cnf.xml", "cnf/SEP001E7A4C11A1.cnf.xml"},
        {NULL, NULL},
    };
    struct env e;
    env_init(&e);
    assert_int_equal(run(&e, tree, NULL), BOOT_CONFIG_ACCEPTED);
    assert_string_equal(e.log[4], "SEP" MAC ".cnf.xml");
    env_free(&e);
}

static void test_no_downgrade_after_trust_list(void **state)
{
    (void)state;
    static const struct served unsigned_only[] = {
        {"SEP" MAC ".cnf.xml", "cnf/SEP001E7A4C11A1.cnf.xml"},
        {NULL, NULL},
    };
    struct env e;
    env_init(&e);
    assert_int_equal(run(&e, cluster, NULL), BOOT_CONFIG_ACCEPTED);
    /* The server now only offers the unsigned config: the phone asks for
     * the signed one, does not find it, and refuses to fall back. */
    assert_int_equal(run(&e, unsigned_only, NULL), BOOT_FAILED);
    assert_string_equal(e.log[4], "SEP" MAC ".cnf.xml.sgn");
    assert_int_equal(secd_trust_state(&e.ts->trust), SECD_STATE_CTL_ITL);
    env_free(&e);
}

static void test_attacker_itl_refused_old_kept(void **state)
{
    (void)state;
    static const struct served attack[] = {
        {"ITLFile.tlv", "tlv/attacker/ITLFile.tlv"},
        {"SEP" MAC ".cnf.xml.sgn", "cnf/sha1/SEP001E7A4C11A1.cnf.xml.sgn"},
        {NULL, NULL},
    };
    struct env e;
    env_init(&e);
    assert_int_equal(run(&e, cluster, NULL), BOOT_CONFIG_ACCEPTED);
    uint8_t md5[16];
    memcpy(md5, e.ts->itl.md5, 16);
    assert_int_equal(run(&e, attack, NULL), BOOT_CONFIG_ACCEPTED); /* config still verifies */
    assert_true(e.b.trust_list_failed);
    assert_memory_equal(e.ts->itl.md5, md5, 16);
    env_free(&e);
}

static void test_other_phones_config_refused(void **state)
{
    (void)state;
    static const struct served tree[] = {
        {"ITLFile.tlv", "tlv/sha1/ITLFile.tlv"},
        {"SEP" MAC ".cnf.xml.sgn", "bad/cnf-other-mac-renamed/SEP001E7A4C11A1.cnf.xml.sgn"},
        {NULL, NULL},
    };
    struct env e;
    env_init(&e);
    assert_int_equal(run(&e, tree, NULL), BOOT_FAILED);
    assert_non_null(strstr(e.b.failure, "filename_mismatch"));
    env_free(&e);
}

static void test_rollback_itl_then_unsigned(void **state)
{
    (void)state;
    static const struct served rollback[] = {
        {"ITLFile.tlv", "tlv/rollback/ITLFile.tlv"},
        {"SEP" MAC ".cnf.xml", "cnf/SEP001E7A4C11A1.cnf.xml"},
        {NULL, NULL},
    };
    static const struct served itl_only[] = {
        {"ITLFile.tlv", "tlv/sha1/ITLFile.tlv"},
        {"SEP" MAC ".cnf.xml.sgn", "cnf/sha1/SEP001E7A4C11A1.cnf.xml.sgn"},
        {NULL, NULL},
    };
    struct env e;
    env_init(&e);
    assert_int_equal(run(&e, itl_only, NULL), BOOT_CONFIG_ACCEPTED);
    assert_int_equal(run(&e, rollback, NULL), BOOT_CONFIG_ACCEPTED);
    assert_true(e.ts->itl.tl.rollback);
    assert_string_equal(e.log[4], "SEP" MAC ".cnf.xml");
    env_free(&e);
}

/* B6: partial config, certHash of the MIC, then the .enc.sgn decrypted
 * with the MIC key straight into the XML parser. */
/* Does the flash hold these bytes anywhere? */
static int flash_contains(const struct env *e, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= e->rf.size; i++)
        if (e->rf.mem[i] == (uint8_t)needle[0] && memcmp(e->rf.mem + i, needle, n) == 0)
            return 1;
    return 0;
}

static void encrypted_config_with_mic(size_t chunk)
{
    static const struct served tree[] = {
        {"ITLFile.tlv", "tlv/sha1/ITLFile.tlv"},
        {"SEP" MAC ".cnf.xml.sgn", "cnf/enc-mic-sha1/SEP001E7A4C11A1.cnf.xml.sgn"},
        {"SEP" MAC ".cnf.xml.enc.sgn", "cnf/enc-mic-sha1/SEP001E7A4C11A1.cnf.xml.enc.sgn"},
        {NULL, NULL},
    };
    static uint8_t cert[4096], key[4096];
    struct vec pem = vec_read("keys/mic.crt");
    int cert_len = wc_CertPemToDer(pem.p, (int)pem.len, cert, sizeof cert, CERT_TYPE);
    vec_free(&pem);
    assert_true(cert_len > 0);
    size_t key_len = vec_key_der("keys/mic.key", key, sizeof key);
    struct env e;
    env_init(&e);
    cert_store_set_mic(&e.certs, cert, (size_t)cert_len, key, key_len);
    struct boot_params p = {.mac = MAC, .model = "8845", .certs = &e.certs};
    e.chunk = chunk;
    assert_int_equal(run(&e, tree, &p), BOOT_CONFIG_ACCEPTED);
    assert_string_equal(e.log[e.n_req - 1], "SEP" MAC ".cnf.xml.enc.sgn");
    /* The ciphertext was staged in flash, the plaintext never. */
    assert_int_equal(e.cfg.cm_count, 3);
    assert_false(flash_contains(&e, "callManagerGroup"));
    assert_true(flash_contains(&e, "<capfAuthMode>")); /* the signed partial config is staged */
    assert_true(e.cfg.full_config);
    assert_string_equal(e.cfg.load_information, "sip8845_65.14-1-1MN-366");
    assert_int_equal(e.cfg.tvs_count, 1);

    /* The LSC's config is not for this certificate: CAPF would be needed. */
    static const struct served lsc_tree[] = {
        {"ITLFile.tlv", "tlv/sha1/ITLFile.tlv"},
        {"SEP" MAC ".cnf.xml.sgn", "cnf/enc-lsc-sha1/SEP001E7A4C11A1.cnf.xml.sgn"},
        {NULL, NULL},
    };
    assert_int_equal(run(&e, lsc_tree, &p), BOOT_FAILED);
    assert_non_null(strstr(e.b.failure, "certHash"));

    /* A tampered encrypted config leaves no settings behind. */
    static const struct served bad[] = {
        {"ITLFile.tlv", "tlv/sha1/ITLFile.tlv"},
        {"SEP" MAC ".cnf.xml.sgn", "cnf/enc-mic-sha1/SEP001E7A4C11A1.cnf.xml.sgn"},
        {"SEP" MAC ".cnf.xml.enc.sgn",
         "bad/enc-digest-byte-flip-resigned/SEP001E7A4C11A1.cnf.xml.enc.sgn"},
        {NULL, NULL},
    };
    assert_int_equal(run(&e, bad, &p), BOOT_FAILED);
    assert_non_null(strstr(e.b.failure, "plaintext_digest_mismatch"));
    assert_string_equal(e.cfg.load_information, "");
    env_free(&e);
}

static void test_encrypted_config_with_mic(void **state)
{
    (void)state;
    encrypted_config_with_mic(0);
    encrypted_config_with_mic(1428);
}

struct fake_capf {
    enum boot_enroll answer;
    int calls;
    int install_lsc; /* on BOOT_ENROLLED, install the LSC in the phone's store */
    uint32_t retry_after_s; /* on BOOT_ENROLL_FAILED: the server's "retry later" delay */
    struct cert_store *certs;
    uint8_t cert[4096], key[4096];
    size_t cert_len, key_len;
};

static enum boot_enroll fake_enroll(void *ctx, struct boot_params *p, struct boot_enroll_report *r)
{
    struct fake_capf *f = ctx;
    f->calls++;
    if (f->answer == BOOT_ENROLL_FAILED) {
        snprintf(r->why, sizeof r->why, "%s", f->retry_after_s ? "retry later" : "end session reason 7");
        r->retry_after_s = f->retry_after_s;
    }
    (void)p;
    if (f->answer == BOOT_ENROLLED && f->install_lsc)
        assert_int_equal(cert_store_install_lsc(f->certs, f->cert, f->cert_len, f->key,
                                                f->key_len),
                         0);
    return f->answer;
}

static size_t cert_der(const char *rel, uint8_t *out, size_t cap)
{
    struct vec pem = vec_read(rel);
    int n = wc_CertPemToDer(pem.p, (int)pem.len, out, (int)cap, CERT_TYPE);
    vec_free(&pem);
    assert_true(n > 0);
    return (size_t)n;
}

/* B6: certHash names the LSC the phone does not have yet: CAPF enrols it,
 * the phone asks for the config again, then decrypts with the new key. */
static void test_cert_hash_mismatch_enrols_then_decrypts(void **state)
{
    (void)state;
    static const struct served tree[] = {
        {"ITLFile.tlv", "tlv/sha1/ITLFile.tlv"},
        {"SEP" MAC ".cnf.xml.sgn", "cnf/enc-lsc-sha1/SEP001E7A4C11A1.cnf.xml.sgn"},
        {"SEP" MAC ".cnf.xml.enc.sgn", "cnf/enc-lsc-sha1/SEP001E7A4C11A1.cnf.xml.enc.sgn"},
        {NULL, NULL},
    };
    static struct fake_capf capf;
    static uint8_t mic[4096], mic_key[4096];
    memset(&capf, 0, sizeof capf);
    capf.cert_len = cert_der("keys/lsc.crt", capf.cert, sizeof capf.cert);
    capf.key_len = vec_key_der("keys/lsc.key", capf.key, sizeof capf.key);
    struct env e;
    env_init(&e);
    size_t mic_len = cert_der("keys/mic.crt", mic, sizeof mic);
    cert_store_set_mic(&e.certs, mic, mic_len, mic_key,
                       vec_key_der("keys/mic.key", mic_key, sizeof mic_key));
    capf.certs = &e.certs;
    struct boot_params p = {.mac = MAC, .model = "8845", .enroll = fake_enroll,
                            .enroll_ctx = &capf, .certs = &e.certs};

    capf.answer = BOOT_ENROLLED;
    capf.install_lsc = 1;
    assert_int_equal(run(&e, tree, &p), BOOT_CONFIG_ACCEPTED);
    assert_int_equal(capf.calls, 1);
    const char *want[] = {"SEP" MAC ".cnf.xml.sgn", "SEP" MAC ".cnf.xml.sgn",
                          "SEP" MAC ".cnf.xml.enc.sgn"};
    for (int i = 0; i < 3; i++)
        assert_string_equal(e.log[e.n_req - 3 + i], want[i]);
    assert_int_equal(e.cfg.cm_count, 3);
    assert_true(cert_store_has_lsc(&e.certs));

    /* A CAPF that "succeeds" without giving the right certificate: bounded. */
    assert_int_equal(cert_store_delete_lsc(&e.certs), 0); /* back to the MIC */
    capf.calls = 0;
    capf.install_lsc = 0;
    assert_int_equal(run(&e, tree, &p), BOOT_FAILED);
    assert_int_equal(capf.calls, BOOT_MAX_ENROLL_ROUNDS);
    assert_non_null(strstr(e.b.failure, "still does not match"));

    capf.calls = 0;
    capf.answer = BOOT_ENROLL_WAITING;
    assert_int_equal(run(&e, tree, &p), BOOT_FAILED);
    assert_true(e.b.waiting_auth_string);
    assert_non_null(strstr(e.b.failure, "capf auth-string"));

    capf.answer = BOOT_ENROLL_FAILED;
    assert_int_equal(run(&e, tree, &p), BOOT_FAILED);
    assert_non_null(strstr(e.b.failure, "reason 7"));
    assert_int_equal(e.b.server_retry_s, 0);

    /* "retry later {45}": the boot fails and keeps the server's delay,
     * which the retry timer then honours exactly (no jitter). */
    capf.retry_after_s = 45;
    assert_int_equal(run(&e, tree, &p), BOOT_FAILED);
    assert_non_null(strstr(e.b.failure, "retry later"));
    assert_int_equal(e.b.server_retry_s, 45);
    struct boot_retry r;
    boot_retry_init(&r, BOOT_RETRY_FIRST_S);
    assert_int_equal(boot_retry_after_boot(&r, 0, &e.b, 1000, 0xffffffffu), 45);
    assert_int_equal(boot_retry_wait_ms(&r, 1000), 45000);
    env_free(&e);
}

static struct boot ended(enum boot_outcome outcome)
{
    struct boot b;
    memset(&b, 0, sizeof b);
    b.outcome = outcome;
    b.phase = BOOT_DONE;
    return b;
}

/* Backoff: 30 s doubling to 600, each cut by at most a quarter. */
static void test_retry_backoff_doubles_to_the_cap(void **state)
{
    (void)state;
    struct boot_retry r;
    boot_retry_init(&r, BOOT_RETRY_FIRST_S);
    struct boot failed = ended(BOOT_FAILED);
    static const uint32_t full[] = {30, 60, 120, 240, 480, 600, 600};
    for (size_t i = 0; i < sizeof full / sizeof full[0]; i++) {
        struct boot_retry same = r;
        assert_int_equal(boot_retry_after_boot(&same, 0, &failed, 0, 0), full[i]);
        /* the largest cut: a quarter of the delay */
        assert_int_equal(boot_retry_after_boot(&r, 0, &failed, 0, full[i] / 4), full[i] - full[i] / 4);
        assert_int_equal(r.failures, i + 1);
    }
    /* any random value stays within [3/4 d, d] */
    for (uint32_t rnd = 0; rnd < 2000; rnd += 7) {
        struct boot_retry same = r;
        uint32_t d = boot_retry_after_boot(&same, 0, &failed, 0, rnd * 2654435761u);
        assert_true(d >= 450 && d <= 600);
    }
    /* an accepted config clears the count: the next failure starts at 30 s */
    struct boot ok = ended(BOOT_CONFIG_ACCEPTED);
    assert_int_equal(boot_retry_after_boot(&r, 1, &ok, 0, 0), 0);
    assert_false(r.armed);
    assert_int_equal(r.failures, 0);
    assert_int_equal(boot_retry_after_boot(&r, 0, &failed, 0, 0), 30);
}

/* The timer fires once, at its time, across the 32-bit wrap of the clock. */
static void test_retry_due_once_across_the_clock_wrap(void **state)
{
    (void)state;
    struct boot_retry r;
    boot_retry_init(&r, 10);
    struct boot failed = ended(BOOT_FAILED);
    uint32_t now = UINT32_MAX - 4000u;
    assert_int_equal(boot_retry_after_boot(&r, 0, &failed, now, 0), 10);
    assert_int_equal(boot_retry_wait_ms(&r, now), 10000);
    assert_false(boot_retry_due(&r, now + 9999u)); /* wraps past 0 */
    assert_int_equal(boot_retry_wait_ms(&r, now + 9999u), 1);
    assert_true(boot_retry_due(&r, now + 10000u));
    assert_false(boot_retry_due(&r, now + 10001u)); /* fired: disarmed */
    assert_int_equal(boot_retry_wait_ms(&r, now + 10001u), UINT32_MAX);
    /* cancel (console reboot) drops the pending retry, keeps the count */
    assert_int_equal(boot_retry_after_boot(&r, 0, &failed, 0, 0), 20);
    boot_retry_cancel(&r);
    assert_false(boot_retry_due(&r, 30000));
    assert_int_equal(r.failures, 2);
}

/* Not retried: the user's turn (auth string), or retries switched off.
 * A server's delay is honoured up to an hour. */
static void test_retry_not_armed_and_server_delay_capped(void **state)
{
    (void)state;
    struct boot_retry r;
    boot_retry_init(&r, BOOT_RETRY_FIRST_S);
    struct boot waiting = ended(BOOT_FAILED);
    waiting.waiting_auth_string = 1;
    assert_int_equal(boot_retry_after_boot(&r, 0, &waiting, 0, 0), 0);
    assert_false(r.armed);
    struct boot busy = ended(BOOT_FAILED);
    busy.server_retry_s = 86400;
    assert_int_equal(boot_retry_after_boot(&r, 0, &busy, 0, 12345), BOOT_RETRY_SERVER_MAX_S);
    /* failed before the boot flow ran (no DHCP lease): backoff, third failure */
    assert_int_equal(boot_retry_after_boot(&r, 0, NULL, 0, 0), 120);
    boot_retry_init(&r, 0);
    assert_int_equal(boot_retry_after_boot(&r, 0, &busy, 0, 0), 0);
    assert_false(boot_retry_due(&r, UINT32_MAX / 2));
}

/* A trust list over the store's size is refused and nothing changes. */
static void test_oversize_trust_list_refused(void **state)
{
    (void)state;
    struct env e;
    env_init(&e);
    assert_int_equal(run(&e, cluster, NULL), BOOT_CONFIG_ACCEPTED);
    uint8_t md5[16];
    memcpy(md5, e.ts->itl.md5, 16);
    struct boot_params p = {.mac = MAC, .model = "8845"};
    boot_init(&e.b, &p, e.ts, &e.cfg);
    static uint8_t big[TRUST_LIST_MAX + 1];
    assert_non_null(boot_next(&e.b)); /* CTLSEP */
    boot_on_file(&e.b, FETCH_NOT_FOUND, NULL, NULL, 0);
    assert_non_null(boot_next(&e.b)); /* CTLFile */
    boot_on_file(&e.b, FETCH_NOT_FOUND, NULL, NULL, 0);
    assert_non_null(boot_next(&e.b)); /* ITLSEP */
    assert_int_equal(boot_data(&e.b, 0, big, sizeof big), -1);
    boot_on_file(&e.b, FETCH_OK, NULL, NULL, sizeof big);
    assert_true(e.b.trust_list_failed);
    assert_memory_equal(e.ts->itl.md5, md5, 16);
    env_free(&e);
}

static void test_fetch_failure_stops_the_boot(void **state)
{
    (void)state;
    struct env e;
    env_init(&e);
    struct boot_params p = {.mac = MAC, .model = "8845"};
    boot_init(&e.b, &p, e.ts, &e.cfg);
    assert_non_null(boot_next(&e.b));
    boot_on_file(&e.b, FETCH_FAILED, "server unreachable", NULL, 0);
    assert_null(boot_next(&e.b));
    assert_int_equal(e.b.outcome, BOOT_FAILED);
    assert_non_null(strstr(e.b.failure, "unreachable"));
    env_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_boot_falls_back_to_cluster_files),
        cmocka_unit_test(test_per_phone_files_win),
        cmocka_unit_test(test_no_trust_list_means_unsigned_config),
        cmocka_unit_test(test_no_downgrade_after_trust_list),
        cmocka_unit_test(test_attacker_itl_refused_old_kept),
        cmocka_unit_test(test_other_phones_config_refused),
        cmocka_unit_test(test_rollback_itl_then_unsigned),
        cmocka_unit_test(test_encrypted_config_with_mic),
        cmocka_unit_test(test_fetch_failure_stops_the_boot),
        cmocka_unit_test(test_oversize_trust_list_refused),
        cmocka_unit_test(test_cert_hash_mismatch_enrols_then_decrypts),
        cmocka_unit_test(test_retry_backoff_doubles_to_the_cap),
        cmocka_unit_test(test_retry_due_once_across_the_clock_wrap),
        cmocka_unit_test(test_retry_not_armed_and_server_delay_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
