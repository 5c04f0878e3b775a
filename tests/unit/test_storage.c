/* Storage: round trips, A/B alternation, and power-cut injection at every
 * byte of every write (SQLite-style crash testing): after any cut the next
 * boot reads the old or the new content, never something else. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hal/storage.h"

#include "ram_flash.h"

#define FLASH_SIZE 8192u

static const struct storage_area layout[] = {{"ctl", 1024}, {"itl", 1024}, {"lsc", 512}};

static struct ram_flash rf;
static struct storage st = {NULL, layout, 3};

static void reset_flash(void)
{
    if (!rf.mem)
        ram_flash_init(&rf, FLASH_SIZE);
    memset(rf.mem, 0xFF, FLASH_SIZE);
    rf.budget = -1;
    rf.written = 0;
    st.flash = &rf.dev;
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed + i * 7u);
}

static void test_roundtrip_and_alternation(void **state)
{
    (void)state;
    reset_flash();
    uint8_t buf[1024], want[600];
    size_t len;
    assert_int_equal(storage_read(&st, "ctl", buf, sizeof buf, &len), STORAGE_NOT_FOUND);
    for (int gen = 0; gen < 5; gen++) {
        fill(want, sizeof want - (size_t)gen, (uint8_t)gen);
        assert_int_equal(storage_replace(&st, "ctl", want, sizeof want - (size_t)gen), STORAGE_OK);
        assert_int_equal(storage_read(&st, "ctl", buf, sizeof buf, &len), STORAGE_OK);
        assert_int_equal(len, sizeof want - (size_t)gen);
        assert_memory_equal(buf, want, len);
    }
    assert_int_equal(storage_read(&st, "itl", buf, sizeof buf, &len), STORAGE_NOT_FOUND);
    assert_int_equal(storage_read(&st, "ctl", buf, 10, &len), STORAGE_TOO_BIG);
    assert_int_equal(storage_read(&st, "nope", buf, sizeof buf, &len), STORAGE_NO_AREA);
    assert_int_equal(storage_erase(&st, "ctl"), STORAGE_OK);
    assert_int_equal(storage_read(&st, "ctl", buf, sizeof buf, &len), STORAGE_NOT_FOUND);
    assert_int_equal(storage_replace(&st, "ctl", want, 1000), STORAGE_TOO_BIG);
}

static void test_zero_length_blob(void **state)
{
    (void)state;
    reset_flash();
    uint8_t buf[16] = {0};
    size_t len = 99;
    assert_int_equal(storage_replace(&st, "lsc", buf, 0), STORAGE_OK);
    assert_int_equal(storage_read(&st, "lsc", buf, sizeof buf, &len), STORAGE_OK);
    assert_int_equal(len, 0);
}

/* Reads "itl" after a cut and checks it is exactly old (or absent when
 * old_len < 0) or exactly new. Returns 1 when it is the new content. */
static int check_old_or_new(const uint8_t *old, long old_len, const uint8_t *nw, size_t new_len)
{
    uint8_t buf[1024];
    size_t len = 0;
    rf.budget = -1; /* reboot: power is back */
    enum storage_status s = storage_read(&st, "itl", buf, sizeof buf, &len);
    if (s == STORAGE_NOT_FOUND) {
        assert_true(old_len < 0);
        return 0;
    }
    assert_int_equal(s, STORAGE_OK);
    if (len == new_len && memcmp(buf, nw, len) == 0)
        return 1;
    assert_true(old_len >= 0);
    assert_int_equal(len, (size_t)old_len);
    assert_memory_equal(buf, old, len);
    return 0;
}

/* Cuts power after every possible number of written bytes, for several
 * generations, so both slot directions and the first-ever write are hit. */
static void test_power_cut_every_byte(void **state)
{
    (void)state;
    uint8_t gens[4][700];
    size_t lens[4] = {700, 300, 650, 1};
    for (int g = 0; g < 4; g++)
        fill(gens[g], sizeof gens[g], (uint8_t)(0x40 + g));

    long cuts = 0;
    for (int g = 0; g < 4; g++) {
        /* Measure the bytes a full replace writes, from the state before. */
        reset_flash();
        for (int k = 0; k < g; k++)
            assert_int_equal(storage_replace(&st, "itl", gens[k], lens[k]), STORAGE_OK);
        uint8_t before[FLASH_SIZE];
        memcpy(before, rf.mem, FLASH_SIZE);
        rf.written = 0;
        assert_int_equal(storage_replace(&st, "itl", gens[g], lens[g]), STORAGE_OK);
        long total = rf.written;
        assert_true(total > (long)lens[g]);

        int saw_new = 0;
        for (long cut = 0; cut <= total; cut++) {
            memcpy(rf.mem, before, FLASH_SIZE);
            rf.budget = cut;
            enum storage_status s = storage_replace(&st, "itl", gens[g], lens[g]);
            if (cut < total)
                assert_int_not_equal(s, STORAGE_OK);
            int is_new = check_old_or_new(g ? gens[g - 1] : NULL, g ? (long)lens[g - 1] : -1,
                                          gens[g], lens[g]);
            /* Once the new copy is visible, it stays visible for later cuts. */
            if (saw_new)
                assert_true(is_new);
            saw_new |= is_new;
            cuts++;
        }
        assert_true(saw_new);
    }
    print_message("power-cut points checked: %ld\n", cuts);
}

static void test_power_cut_during_erase(void **state)
{
    (void)state;
    uint8_t v[200];
    fill(v, sizeof v, 3);
    reset_flash();
    assert_int_equal(storage_replace(&st, "itl", v, sizeof v), STORAGE_OK);
    uint8_t before[FLASH_SIZE];
    memcpy(before, rf.mem, FLASH_SIZE);
    rf.written = 0;
    assert_int_equal(storage_erase(&st, "itl"), STORAGE_OK);
    long total = rf.written;
    for (long cut = 0; cut <= total; cut++) {
        memcpy(rf.mem, before, FLASH_SIZE);
        rf.budget = cut;
        (void)storage_erase(&st, "itl");
        rf.budget = -1;
        uint8_t buf[1024];
        size_t len;
        enum storage_status s = storage_read(&st, "itl", buf, sizeof buf, &len);
        if (cut == total)
            assert_int_equal(s, STORAGE_NOT_FOUND);
        else if (s == STORAGE_OK)
            assert_memory_equal(buf, v, sizeof v);
        else
            assert_int_equal(s, STORAGE_NOT_FOUND);
    }
}

/* Damage that no power cut can produce is reported, not hidden as absent. */
static void test_bit_rot_is_corrupt_not_absent(void **state)
{
    (void)state;
    uint8_t v[100], buf[1024];
    size_t len;
    fill(v, sizeof v, 9);
    reset_flash();
    assert_int_equal(storage_replace(&st, "itl", v, sizeof v), STORAGE_OK);
    rf.mem[1024 * 2 + STORAGE_HEADER_SIZE + 50] ^= 0x10; /* "itl" slot A data */
    assert_int_equal(storage_read(&st, "itl", buf, sizeof buf, &len), STORAGE_CORRUPT);
    /* A new install still works and wins. */
    assert_int_equal(storage_replace(&st, "itl", v, 10), STORAGE_OK);
    assert_int_equal(storage_read(&st, "itl", buf, sizeof buf, &len), STORAGE_OK);
    assert_int_equal(len, 10);
}

static void test_streaming_writer(void **state)
{
    (void)state;
    reset_flash();
    struct storage_writer w;
    uint8_t v[900], buf[1024];
    size_t len;
    fill(v, sizeof v, 1);
    assert_int_equal(storage_write_begin(&w, &st, "ctl"), STORAGE_OK);
    for (size_t off = 0; off < sizeof v; off += 100)
        assert_int_equal(storage_write_chunk(&w, v + off, 100), STORAGE_OK);
    /* Not visible before commit. */
    assert_int_equal(storage_read(&st, "ctl", buf, sizeof buf, &len), STORAGE_NOT_FOUND);
    assert_int_equal(storage_write_commit(&w), STORAGE_OK);
    assert_int_equal(storage_read(&st, "ctl", buf, sizeof buf, &len), STORAGE_OK);
    assert_memory_equal(buf, v, sizeof v);
    assert_int_equal(storage_write_begin(&w, &st, "ctl"), STORAGE_OK);
    assert_int_equal(storage_write_chunk(&w, v, sizeof v), STORAGE_OK);
    assert_int_equal(storage_write_chunk(&w, v, sizeof v), STORAGE_TOO_BIG);
    assert_int_equal(storage_write_commit(&w), STORAGE_IO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_and_alternation),
        cmocka_unit_test(test_zero_length_blob),
        cmocka_unit_test(test_power_cut_every_byte),
        cmocka_unit_test(test_power_cut_during_erase),
        cmocka_unit_test(test_bit_rot_is_corrupt_not_absent),
        cmocka_unit_test(test_streaming_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
