/* Power cut at every byte of every persistent write the firmware makes, on
 * the phone's real flash layout filled by the firmware itself
 * (phone_image): trust lists (install over a list, first install, erase),
 * LSC + key (install, delete), pre-generated key (store, erase after use),
 * TVS server list, boot counter (firmware_start).
 *
 * For each cut point: the write is replayed from the same flash with the
 * power failing after that many bytes, then a fresh "boot" loads the blob
 * with the firmware's own loader and must find exactly the old or exactly
 * the new content (never a torn blob), the trust store is never CORRUPT and
 * never NONE where a list was held, an LSC always comes with its own key,
 * the boot counter never stops the next boot, and no byte outside the
 * written area changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "boot.h"
#include "capf_client.h"
#include "config.h"
#include "firmware.h"
#include "phone_image.h"
#include "tvs_client.h"

static struct phone_image img;
static uint8_t *populated; /* the phone after its first boots */
static struct trust_store ts, boot_ts;
static struct cert_store certs, boot_certs;

static int setup(void **state)
{
    (void)state;
    phone_image_init(&img);
    if (phone_image_populate(&img, &ts, &certs) != 0)
        return -1;
    populated = phone_image_save(&img);
    return populated ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    free(populated);
    phone_image_free(&img);
    return 0;
}

/* ---- the sweep ---------------------------------------------------------- */

struct write_case {
    const char *area;        /* the first area the write may touch */
    const char *last_area;   /* the last one (NULL: area), adjacent in the layout */
    void (*prepare)(void);   /* loads the firmware's RAM state before the write */
    void (*write)(void);     /* the write under test */
    void (*check)(int done); /* after a reboot; done: the write returned */
    void *ram;               /* what prepare() loaded, restored before each cut */
    size_t ram_size;         /* (a copy: reloading costs more than the sweep) */
};

/* A line for toolchain/test.sh's summary table; printed only once every
 * cut point of the blob passed its checks (cmocka stops at the first
 * failed one). */
static void summary(const char *blob, long cuts)
{
    print_message("SUMMARY fault power-cut-%s injected=%ld outcome=old-or-new\n", blob, cuts);
}

/* Replays c->write from `before` with a cut after every possible byte.
 * Returns the number of cut points checked. */
static long sweep(const struct write_case *c, const uint8_t *before)
{
    uint32_t slot, base = phone_image_area(c->area, &slot);
    uint32_t last = phone_image_area(c->last_area ? c->last_area : c->area, &slot);
    assert_true(base != UINT32_MAX && last != UINT32_MAX);
    uint32_t end = last + 2u * slot;
    phone_image_restore(&img, before);
    c->prepare();
    img.rf.written = 0;
    c->write();
    long total = img.rf.written;
    assert_true(total > 0);
    phone_image_restore(&img, before);
    c->prepare();
    void *ram = malloc(c->ram_size ? c->ram_size : 1);
    if (c->ram_size)
        memcpy(ram, c->ram, c->ram_size);
    for (long cut = 0; cut <= total; cut++) {
        phone_image_restore(&img, before);
        if (c->ram_size) /* self-contained: its pointers stay inside */
            memcpy(c->ram, ram, c->ram_size);
        ram_flash_cut_after(&img.rf, cut);
        c->write();
        ram_flash_power_restore(&img.rf);
        c->check(cut == total);
        /* nothing outside the area moved (memcmp: cmocka's compare is slow) */
        assert_int_equal(memcmp(img.rf.mem, before, base), 0);
        assert_int_equal(memcmp(img.rf.mem + end, before + end, img.rf.size - end), 0);
    }
    free(ram);
    return total + 1;
}

/* ---- trust lists -------------------------------------------------------- */

struct list_ref {
    uint8_t *data;
    size_t len;
    uint8_t md5[16];
};

static struct list_ref ctl_old, ctl_new, itl_old, itl_new, itl_first;

static void list_ref(struct list_ref *r, const char *rel)
{
    r->data = phone_image_vector(rel, &r->len);
    assert_non_null(r->data);
    secd_md5(r->data, r->len, r->md5);
}

static void load_ts(void)
{
    assert_int_equal(trust_store_load(&ts, &img.st), 0);
}

static const struct trust_list_slot *boot_list(enum secd_kind kind)
{
    memset(&boot_ts, 0, sizeof boot_ts);
    assert_int_equal(trust_store_load(&boot_ts, &img.st), 0); /* never CORRUPT */
    assert_false(boot_ts.trust.corrupt);
    return kind == SECD_KIND_CTL ? &boot_ts.ctl : &boot_ts.itl;
}

/* present and old or new; or absent when allowed */
static int list_is(const struct trust_list_slot *s, const struct list_ref *old,
                   const struct list_ref *nw)
{
    if (!s->present) {
        assert_null(old); /* a held list never disappears */
        return 0;
    }
    if (nw && memcmp(s->md5, nw->md5, 16) == 0)
        return 1;
    assert_non_null(old);
    assert_memory_equal(s->md5, old->md5, 16);
    return 0;
}

/* CTL and ITL updates take the boot flow's path: the download is in the
 * staging area (firmware/boot.c) and is copied from there. */
static uint32_t staged_at(size_t want)
{
    size_t len;
    uint32_t off;
    assert_int_equal(storage_stat(&img.st, BOOT_STAGING_AREA, &len, &off), STORAGE_OK);
    assert_int_equal(len, want);
    return off;
}

static void install_ctl(void)
{
    (void)trust_store_install_staged(&ts, SECD_KIND_CTL, staged_at(ctl_new.len), ctl_new.len);
}

static void check_ctl(int done)
{
    int is_new = list_is(boot_list(SECD_KIND_CTL), &ctl_old, &ctl_new);
    list_is(&boot_ts.itl, &itl_old, NULL); /* the other list is untouched */
    assert_int_equal(secd_trust_state(&boot_ts.trust), SECD_STATE_CTL_ITL);
    if (done)
        assert_true(is_new);
}

static void install_itl(void)
{
    (void)trust_store_install_staged(&ts, SECD_KIND_ITL, staged_at(itl_new.len), itl_new.len);
}

static void check_itl(int done)
{
    int is_new = list_is(boot_list(SECD_KIND_ITL), &itl_old, &itl_new);
    list_is(&boot_ts.ctl, &ctl_old, NULL);
    if (done)
        assert_true(is_new);
}

/* First install on a phone that held none: a rollback ITL (small), from RAM
 * (trust_store_install, the path of tools and tests). */
static void install_first_itl(void)
{
    (void)trust_store_install(&ts, SECD_KIND_ITL, itl_first.data, itl_first.len);
}

static void check_first_itl(int done)
{
    int is_new = list_is(boot_list(SECD_KIND_ITL), NULL, &itl_first);
    assert_false(boot_ts.ctl.present);
    if (done)
        assert_true(is_new);
}

static void erase_all(void)
{
    (void)trust_store_erase(&ts, "all");
}

/* Each list is old or gone, whatever the order; at the end both are gone
 * (the administrator asked for blind trust). */
static void check_erase_all(int done)
{
    list_is(boot_list(SECD_KIND_ITL), NULL, &itl_old);
    list_is(&boot_ts.ctl, NULL, &ctl_old);
    if (done)
        assert_int_equal(secd_trust_state(&boot_ts.trust), SECD_STATE_NONE);
}

static void test_trust_lists(void **state)
{
    (void)state;
    list_ref(&ctl_old, "tlv/sha1/CTLFile.tlv");
    list_ref(&ctl_new, "tlv/sha512/CTLFile.tlv");
    list_ref(&itl_old, "tlv/sha1/ITLFile.tlv");
    list_ref(&itl_new, "tlv/regen-tvs/ITLFile.tlv");
    list_ref(&itl_first, "tlv/rollback/ITLFile.tlv");
    const struct write_case ctl = {TRUST_AREA_CTL, NULL, load_ts, install_ctl,
                                   check_ctl,      &ts,  sizeof ts};
    const struct write_case itl = {TRUST_AREA_ITL, NULL, load_ts, install_itl,
                                   check_itl,      &ts,  sizeof ts};
    const struct write_case erase = {TRUST_AREA_CTL, TRUST_AREA_ITL, load_ts, erase_all,
                                     check_erase_all, &ts, sizeof ts};
    /* the phone with the new list downloaded into staging */
    phone_image_restore(&img, populated);
    assert_int_equal(storage_replace(&img.st, BOOT_STAGING_AREA, ctl_new.data, ctl_new.len),
                     STORAGE_OK);
    uint8_t *staged = phone_image_save(&img);
    long n_ctl = sweep(&ctl, staged);
    free(staged);
    phone_image_restore(&img, populated);
    assert_int_equal(storage_replace(&img.st, BOOT_STAGING_AREA, itl_new.data, itl_new.len),
                     STORAGE_OK);
    staged = phone_image_save(&img);
    long n_itl = sweep(&itl, staged);
    free(staged);

    /* a phone whose CTL is erased and whose ITL was never installed */
    phone_image_restore(&img, populated);
    assert_int_equal(storage_erase(&img.st, TRUST_AREA_CTL), STORAGE_OK);
    assert_int_equal(storage_erase(&img.st, TRUST_AREA_ITL), STORAGE_OK);
    uint8_t *none = phone_image_save(&img);
    const struct write_case first = {TRUST_AREA_ITL,  NULL, load_ts, install_first_itl,
                                     check_first_itl, &ts,  sizeof ts};
    long n_first = sweep(&first, none);
    free(none);

    /* erase all writes both areas (CTL then ITL, adjacent in the layout) */
    long n_erase = sweep(&erase, populated);
    print_message("trust lists: CTL install %ld, ITL install %ld, first ITL %ld, erase all %ld "
                  "cut points\n",
                  n_ctl, n_itl, n_first, n_erase);
    summary("trust-list", n_ctl + n_itl + n_first + n_erase);
    free(ctl_old.data);
    free(ctl_new.data);
    free(itl_old.data);
    free(itl_new.data);
    free(itl_first.data);
}

/* ---- LSC and its key ------------------------------------------------------ */

static struct phone_id lsc_old, lsc_new;

static void load_certs(void)
{
    assert_int_equal(cert_store_load(&certs, &img.st), 0);
}

static int pair_is(const struct cert_pair *p, const struct phone_id *id)
{
    return p->cert_len == id->cert_len && !memcmp(p->cert, id->cert, id->cert_len) &&
           p->key_len == id->key_len && !memcmp(p->key, id->key, id->key_len);
}

/* The LSC after a boot: 1 new pair, 0 old pair, -1 none (if allowed). */
static int boot_lsc(int none_ok)
{
    memset(&boot_certs, 0, sizeof boot_certs);
    assert_int_equal(cert_store_load(&boot_certs, &img.st), 0); /* never damaged */
    if (!cert_store_has_lsc(&boot_certs)) {
        assert_true(none_ok);
        return -1;
    }
    static uint8_t buf[CERT_READ_MAX];
    struct cert_pair lsc;
    assert_int_equal(cert_store_read(&boot_certs, CERT_LSC, buf, sizeof buf, &lsc), 0);
    int is_new = pair_is(&lsc, &lsc_new), is_old = pair_is(&lsc, &lsc_old);
    assert_true(is_new != is_old); /* a whole pair, never a certificate with another key */
    return is_new;
}

static void install_lsc(void)
{
    (void)cert_store_install_lsc(&certs, lsc_new.cert, lsc_new.cert_len, lsc_new.key,
                                 lsc_new.key_len);
}

static void check_install_lsc(int done)
{
    int r = boot_lsc(0);
    if (done)
        assert_int_equal(r, 1);
}

static void delete_lsc(void)
{
    (void)cert_store_delete_lsc(&certs);
}

static void check_delete_lsc(int done)
{
    int r = boot_lsc(1);
    assert_int_not_equal(r, 1);
    if (done)
        assert_int_equal(r, -1);
}

static void test_lsc(void **state)
{
    (void)state;
    assert_int_equal(phone_image_id("lsc", &lsc_old), 0);
    assert_int_equal(phone_image_id("mic", &lsc_new), 0); /* any other whole pair */
    const struct write_case install = {CERT_AREA_LSC, NULL, load_certs, install_lsc,
                                       check_install_lsc, &certs, sizeof certs};
    const struct write_case del = {CERT_AREA_LSC, NULL, load_certs, delete_lsc,
                                   check_delete_lsc, &certs, sizeof certs};
    long n_install = sweep(&install, populated);
    long n_delete = sweep(&del, populated);
    print_message("LSC + key: install %ld, delete %ld cut points\n", n_install, n_delete);
    summary("lsc+key", n_install + n_delete);
}

/* ---- pre-generated key ---------------------------------------------------- */

static uint8_t key_old[CAPF_KEY_DER_MAX], key_new[CAPF_KEY_DER_MAX];
static size_t key_old_len, key_new_len;
static const struct capf_keyspec spec_new = {CAPF_KEY_EC, 384};

static void nothing(void)
{
}

static void store_key(void)
{
    (void)capf_pregen_store(&img.st, &spec_new, key_new, key_new_len);
}

static void erase_key(void)
{
    (void)storage_erase(&img.st, CERT_AREA_NEXT_KEY); /* what a used key gets */
}

/* 1 new key, 0 old key, -1 none. */
static int boot_key(void)
{
    static uint8_t k[CAPF_KEY_DER_MAX];
    size_t kl = 0;
    struct capf_keyspec ks;
    if (capf_pregen_load(&img.st, &ks, k, sizeof k, &kl) != 0)
        return -1;
    if (ks.type == spec_new.type && ks.bits == spec_new.bits && kl == key_new_len &&
        !memcmp(k, key_new, kl))
        return 1;
    assert_int_equal(ks.type, CAPF_KEY_EC);
    assert_int_equal(ks.bits, 256);
    assert_int_equal(kl, key_old_len);
    assert_memory_equal(k, key_old, kl);
    return 0;
}

static void check_store_key(int done)
{
    int r = boot_key();
    assert_int_not_equal(r, -1);
    if (done)
        assert_int_equal(r, 1);
}

static void check_erase_key(int done)
{
    int r = boot_key();
    assert_int_not_equal(r, 1);
    if (done)
        assert_int_equal(r, -1);
}

static void test_pregen_key(void **state)
{
    (void)state;
    struct capf_keyspec ks;
    uint8_t spki[CAPF_SPKI_MAX];
    size_t sl;
    phone_image_restore(&img, populated);
    assert_int_equal(capf_pregen_load(&img.st, &ks, key_old, sizeof key_old, &key_old_len), 0);
    assert_int_equal(capf_key_generate(&spec_new, key_new, sizeof key_new, &key_new_len, spki,
                                       sizeof spki, &sl),
                     CAPF_OK);
    const struct write_case store = {CERT_AREA_NEXT_KEY, NULL, nothing, store_key,
                                     check_store_key, NULL, 0};
    const struct write_case erase = {CERT_AREA_NEXT_KEY, NULL, nothing, erase_key,
                                     check_erase_key, NULL, 0};
    long n_store = sweep(&store, populated);
    long n_erase = sweep(&erase, populated);
    print_message("pre-generated key: store %ld, erase %ld cut points\n", n_store, n_erase);
    summary("pregen-key", n_store + n_erase);
}

/* ---- TVS server list ----------------------------------------------------- */

static struct tvs_client tvs;
static struct config_server tvs_old[CONFIG_MAX_SERVERS];
static size_t tvs_old_n;
static struct phone_config cfg_new;

static void load_tvs(void)
{
    tvs_client_init(&tvs, NULL, &ts, &img.st, "8845", "001E7A4C11A1");
}

static void set_tvs(void)
{
    tvs_client_set_servers(&tvs, &cfg_new);
}

static int same_servers(const struct config_server *a, size_t n)
{
    if (tvs.n_servers != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(tvs.servers[i].host, a[i].host) != 0 || tvs.servers[i].port != a[i].port)
            return 0;
    return 1;
}

static void check_tvs(int done)
{
    load_tvs();
    int is_new = same_servers(cfg_new.tvs, cfg_new.tvs_count);
    assert_true(is_new || same_servers(tvs_old, tvs_old_n));
    if (done)
        assert_true(is_new);
}

static void test_tvs_list(void **state)
{
    (void)state;
    phone_image_restore(&img, populated);
    load_tvs();
    assert_true(tvs.n_servers > 0);
    tvs_old_n = tvs.n_servers;
    memcpy(tvs_old, tvs.servers, sizeof tvs_old);
    memset(&cfg_new, 0, sizeof cfg_new);
    static const char *const hosts[] = {"10.9.8.7", "tvs-b.example.com", "10.9.8.9"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(cfg_new.tvs[i].host, sizeof cfg_new.tvs[i].host, "%s", hosts[i]);
        cfg_new.tvs[i].port = (uint16_t)(2445 + i);
        cfg_new.tvs[i].priority = (uint32_t)i;
    }
    cfg_new.tvs_count = 3;
    const struct write_case c = {TVS_AREA, NULL, load_tvs, set_tvs, check_tvs, &tvs, sizeof tvs};
    long n_tvs = sweep(&c, populated);
    print_message("TVS server list: %ld cut points\n", n_tvs);
    summary("tvs-list", n_tvs);
}

/* ---- boot counter ---------------------------------------------------------- */

static uint32_t boot_count(void)
{
    uint8_t b[4];
    size_t len = 0;
    assert_int_equal(storage_read(&img.st, "bootcount", b, sizeof b, &len), STORAGE_OK);
    assert_int_equal(len, 4);
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void count_boot(void)
{
    (void)firmware_start();
}

/* 1 (before) or 2; and the next boot always starts. */
static void check_count(int done)
{
    uint32_t n = boot_count();
    assert_true(n == 1 || n == 2);
    if (done)
        assert_int_equal(n, 2);
    assert_int_equal(firmware_start(), FIRMWARE_OK);
    assert_int_equal(boot_count(), n + 1);
}

static void test_boot_counter(void **state)
{
    (void)state;
    firmware_set_flash(&img.rf.dev);
    const struct write_case c = {"bootcount", NULL, nothing, count_boot, check_count, NULL, 0};
    long n_boot = sweep(&c, populated);
    print_message("boot counter: %ld cut points\n", n_boot);
    summary("bootcount", n_boot);
    firmware_set_flash(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trust_lists),
        cmocka_unit_test(test_lsc),
        cmocka_unit_test(test_pregen_key),
        cmocka_unit_test(test_tvs_list),
        cmocka_unit_test(test_boot_counter),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
