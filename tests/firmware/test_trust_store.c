/* Persistent trust store: install/reload/erase, and power cuts at every
 * byte of an install: the next boot holds the old or the new list, never
 * a torn one, never "none" when a list was installed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ram_flash.h"
#include "trust_store.h"
#include "vectors.h"

static const struct storage_area layout[] = {{TRUST_AREA_CTL, TRUST_LIST_MAX + 64},
                                             {TRUST_AREA_ITL, TRUST_LIST_MAX + 64}};

struct env {
    struct ram_flash rf;
    struct storage st;
    struct trust_store *ts;
};

static void env_init(struct env *e)
{
    ram_flash_init(&e->rf, storage_layout_size(layout, 2));
    e->st = (struct storage){&e->rf.dev, layout, 2};
    e->ts = calloc(1, sizeof *e->ts);
    assert_int_equal(trust_store_load(e->ts, &e->st), 0);
}

static void env_free(struct env *e)
{
    free(e->ts);
    ram_flash_free(&e->rf);
}

/* A fresh boot on the same flash. */
static struct trust_store *reboot(struct env *e)
{
    ram_flash_power_restore(&e->rf);
    memset(e->ts, 0, sizeof *e->ts);
    trust_store_load(e->ts, &e->st);
    return e->ts;
}

static void md5_of(const struct vec *v, uint8_t out[16])
{
    secd_md5(v->p, v->len, out);
}

static void test_install_survives_reboot(void **state)
{
    (void)state;
    struct env e;
    env_init(&e);
    assert_int_equal(secd_trust_state(&e.ts->trust), SECD_STATE_NONE);
    struct vec itl = vec_read("tlv/sha1/ITLFile.tlv"), ctl = vec_read("tlv/sha1/CTLFile.tlv");
    assert_int_equal(trust_store_install(e.ts, SECD_KIND_ITL, itl.p, itl.len), SECD_OK);
    assert_int_equal(trust_store_install(e.ts, SECD_KIND_CTL, ctl.p, ctl.len), SECD_OK);
    struct trust_store *ts = reboot(&e);
    assert_int_equal(secd_trust_state(&ts->trust), SECD_STATE_CTL_ITL);
    uint8_t md5[16];
    md5_of(&itl, md5);
    assert_memory_equal(ts->itl.md5, md5, 16);
    md5_of(&ctl, md5);
    assert_memory_equal(ts->ctl.md5, md5, 16);
    assert_int_equal(trust_store_erase(ts, "itl"), 0);
    assert_int_equal(secd_trust_state(&reboot(&e)->trust), SECD_STATE_CTL);
    assert_int_equal(trust_store_erase(e.ts, "all"), 0);
    assert_int_equal(secd_trust_state(&reboot(&e)->trust), SECD_STATE_NONE);
    assert_int_equal(trust_store_erase(e.ts, "bogus"), -1);
    vec_free(&itl);
    vec_free(&ctl);
    env_free(&e);
}

/* Installing `next` over `prev` (NULL: nothing installed), cut at every
 * byte written. */
static long cut_everywhere(const char *prev, const char *next)
{
    struct env e;
    env_init(&e);
    struct vec pv = {0}, nv = vec_read(next);
    uint8_t pmd5[16] = {0}, nmd5[16];
    md5_of(&nv, nmd5);
    if (prev) {
        pv = vec_read(prev);
        md5_of(&pv, pmd5);
        assert_int_equal(trust_store_install(e.ts, SECD_KIND_ITL, pv.p, pv.len), SECD_OK);
    }
    uint8_t *before = malloc(e.rf.size);
    memcpy(before, e.rf.mem, e.rf.size);
    e.rf.written = 0;
    assert_int_equal(trust_store_install(e.ts, SECD_KIND_ITL, nv.p, nv.len), SECD_OK);
    long total = e.rf.written;
    long points = 0;
    for (long cut = 0; cut <= total; cut += (cut < 64 || total - cut < 64) ? 1 : 7) {
        memcpy(e.rf.mem, before, e.rf.size);
        memset(e.ts, 0, sizeof *e.ts);
        trust_store_load(e.ts, &e.st);
        ram_flash_cut_after(&e.rf, cut);
        (void)trust_store_install(e.ts, SECD_KIND_ITL, nv.p, nv.len);
        struct trust_store *ts = reboot(&e);
        assert_false(ts->trust.corrupt);
        if (prev) {
            assert_true(ts->itl.present); /* never back to blind trust */
            assert_true(memcmp(ts->itl.md5, pmd5, 16) == 0 || memcmp(ts->itl.md5, nmd5, 16) == 0);
        } else if (ts->itl.present) {
            assert_memory_equal(ts->itl.md5, nmd5, 16);
        }
        if (cut == total)
            assert_memory_equal(ts->itl.md5, nmd5, 16);
        points++;
    }
    free(before);
    vec_free(&pv);
    vec_free(&nv);
    env_free(&e);
    return points;
}

static void test_power_cut_during_install(void **state)
{
    (void)state;
    long n = cut_everywhere(NULL, "tlv/sha1/ITLFile.tlv");
    n += cut_everywhere("tlv/sha1/ITLFile.tlv", "tlv/regen-tvs/ITLFile.tlv");
    n += cut_everywhere("tlv/regen-tvs/ITLFile.tlv", "tlv/rollback/ITLFile.tlv");
    print_message("trust store: %ld power-cut points checked\n", n);
}

static void test_damaged_list_is_corrupt_not_none(void **state)
{
    (void)state;
    struct env e;
    env_init(&e);
    struct vec itl = vec_read("tlv/sha1/ITLFile.tlv");
    assert_int_equal(trust_store_install(e.ts, SECD_KIND_ITL, itl.p, itl.len), SECD_OK);
    /* Flip a byte in the stored ITL (area "itl" starts after both CTL slots). */
    e.rf.mem[2 * layout[0].slot_size + STORAGE_HEADER_SIZE + 600] ^= 0x40;
    struct trust_store *ts = reboot(&e);
    assert_true(ts->trust.corrupt);
    assert_int_equal(secd_check_unsigned_config(&ts->trust), SECD_ERR_TRUST_STORE_CORRUPT);
    struct secd_decision d;
    assert_int_equal(secd_check_file(&ts->trust, SECD_KIND_ITL, itl.p, itl.len, "ITLFile.tlv", &d),
                     SECD_ERR_TRUST_STORE_CORRUPT);
    /* The administrator's erase is the way out. */
    assert_int_equal(trust_store_erase(ts, "all"), 0);
    assert_false(ts->trust.corrupt);
    assert_int_equal(secd_trust_state(&ts->trust), SECD_STATE_NONE);
    vec_free(&itl);
    env_free(&e);
}

static void test_too_large_keeps_old(void **state)
{
    (void)state;
    struct env e;
    env_init(&e);
    struct vec itl = vec_read("tlv/sha1/ITLFile.tlv");
    assert_int_equal(trust_store_install(e.ts, SECD_KIND_ITL, itl.p, itl.len), SECD_OK);
    uint8_t *big = calloc(1, TRUST_LIST_MAX + 1);
    assert_int_equal(trust_store_install(e.ts, SECD_KIND_ITL, big, TRUST_LIST_MAX + 1),
                     SECD_ERR_TOO_LARGE);
    assert_true(reboot(&e)->itl.present);
    free(big);
    vec_free(&itl);
    env_free(&e);
}

/* One record buffer for a list's header and records: every interop list
 * loads from flash with the header facts, rollback flag and signer it has
 * in memory (the rollback ITL's records are compared with a 99-byte
 * issuer name read back in pieces). */
static void test_one_buffer_loads_like_memory(void **state)
{
    (void)state;
    static const char *const lists[] = {
        "tlv/attacker-spoof/ITLFile.tlv", "tlv/attacker/ITLFile.tlv",
        "tlv/empty-crafted/ITLFile.tlv",  "tlv/regen-callmanager/ITLFile.tlv",
        "tlv/regen-tvs/ITLFile.tlv",      "tlv/rollback/ITLFile.tlv",
        "tlv/sha1/CTLFile.tlv",           "tlv/sha1/ITLSEP001E7A4C11A1.tlv",
        "tlv/sha512/ITLFile.tlv",         "tlv/sha512/CTLSEP001E7A4C11A1.tlv",
    };
    int rollbacks = 0;
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        struct env e;
        env_init(&e);
        struct vec v = vec_read(lists[i]);
        struct secd_tl mem;
        if (secd_tl_load(&mem, v.p, v.len) != SECD_OK) { /* not a list the store keeps */
            vec_free(&v);
            env_free(&e);
            continue;
        }
        assert_int_equal(trust_store_install(e.ts, SECD_KIND_ITL, v.p, v.len), SECD_OK);
        struct trust_store *ts = reboot(&e);
        assert_true(ts->itl.present);
        const struct secd_header *h = &ts->itl.tl.hdr;
        assert_int_equal(ts->itl.tl.rollback, mem.rollback);
        assert_int_equal(h->header_len, mem.hdr.header_len);
        assert_int_equal(h->has_timestamp, mem.hdr.has_timestamp);
        assert_int_equal(h->timestamp, mem.hdr.timestamp);
        assert_int_equal(strlen(ts->itl.signer), mem.hdr.signer_name.len);
        assert_memory_equal(ts->itl.signer, mem.hdr.signer_name.p, mem.hdr.signer_name.len);
        rollbacks += mem.rollback;
        vec_free(&v);
        env_free(&e);
    }
    assert_int_equal(rollbacks, 1);
}

/* What the record buffer held is read back after a walk borrowed it (the
 * TVS pin rule while a downloaded list's own record is in it). */
static void test_buffer_read_back_after_walk(void **state)
{
    (void)state;
    struct env e;
    env_init(&e);
    struct vec itl = vec_read("tlv/sha1/ITLFile.tlv"), ctl = vec_read("tlv/sha1/CTLFile.tlv");
    assert_int_equal(trust_store_install(e.ts, SECD_KIND_ITL, itl.p, itl.len), SECD_OK);
    assert_int_equal(trust_store_install(e.ts, SECD_KIND_CTL, ctl.p, ctl.len), SECD_OK);
    struct trust_store *ts = e.ts;
    size_t n = itl.len - 300 < 1000 ? itl.len - 300 : 1000;
    assert_int_equal(trust_store_read_at(ts, ts->itl.data_off, 300, ts->buf, n), 0);
    assert_true(trust_store_buf_holds(ts, ts->buf + 10, n - 10));
    assert_false(trust_store_buf_holds(ts, ts->buf + 10, sizeof ts->buf));
    assert_false(trust_store_buf_holds(ts, itl.p, 16));
    struct trust_buf_mark m = trust_store_buf_mark(ts);
    struct secd_tl_iter it;
    struct secd_record r;
    size_t records = 0;
    secd_tl_records_begin(&it, ts->trust.ctl);
    while (secd_tl_records_next(&it, &r) == SECD_OK && r.length)
        records++;
    assert_true(records > 0);
    assert_true(memcmp(ts->buf, itl.p + 300, n) != 0); /* the walk overwrote it */
    assert_int_equal(trust_store_buf_restore(ts, &m), 0);
    assert_memory_equal(ts->buf, itl.p + 300, n);
    vec_free(&itl);
    vec_free(&ctl);
    env_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_install_survives_reboot),
        cmocka_unit_test(test_power_cut_during_install),
        cmocka_unit_test(test_damaged_list_is_corrupt_not_none),
        cmocka_unit_test(test_too_large_keeps_old),
        cmocka_unit_test(test_one_buffer_loads_like_memory),
        cmocka_unit_test(test_buffer_read_back_after_walk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
