/* RSA key generation in bounded slices (secd/capf_rsagen.h): the keys are
 * valid by wolfSSL's own checks (wc_CheckProbablePrime_ex on p and q: the
 * sqrt(2) bound, gcd(p-1, e), |p-q|, 8 Miller-Rabin rounds; a sign/verify
 * round trip; wolfSSL decodes the DER), a fixed entropy source gives the
 * same key, no step does more than one modexp, and an abort at any step
 * followed by a restart gives a whole, valid key. The pre-generation of
 * capf_client (capf_client_idle, one step a call) stores a usable key.
 *
 * The DRBG's entropy (hal_entropy) is wrapped (-Wl,--wrap=hal_entropy):
 * the real getrandom() unless a test fixes the source. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/rsa.h>

#include "capf_client.h"
#include "cert_store.h"
#include "ram_flash.h"
#include "secd/capf_rsagen.h"

/* ---- entropy: real, or a fixed stream ------------------------------------ */

int __real_hal_entropy(uint8_t *buf, size_t n);
int __wrap_hal_entropy(uint8_t *buf, size_t n);

static int fixed_entropy;     /* 0: getrandom; else the seed of a fixed stream */
static uint32_t fixed_state;

int __wrap_hal_entropy(uint8_t *buf, size_t n)
{
    if (!fixed_entropy)
        return __real_hal_entropy(buf, n);
    for (size_t i = 0; i < n; i++) { /* xorshift32: fixed, not random */
        fixed_state ^= fixed_state << 13;
        fixed_state ^= fixed_state >> 17;
        fixed_state ^= fixed_state << 5;
        buf[i] = (uint8_t)fixed_state;
    }
    return 0;
}

static void entropy_fixed(uint32_t seed)
{
    fixed_entropy = 1;
    fixed_state = seed;
}

static void entropy_real(void)
{
    fixed_entropy = 0;
}

/* ---- helpers ------------------------------------------------------------- */

static uint8_t key_der[CAPF_KEY_DER_MAX], spki[CAPF_SPKI_MAX];
static size_t key_len, spki_len;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs a generation to its end; the key lands in key_der / spki. */
static void generate(struct capf_rsagen *g, int bits, double *longest_s)
{
    assert_int_equal(capf_rsagen_init(g, bits), 0);
    enum capf_rsagen_result r;
    double worst = 0;
    do {
        double t0 = now_s();
        r = capf_rsagen_step(g);
        double dt = now_s() - t0;
        worst = dt > worst ? dt : worst;
        assert_true(g->stats.steps < 100000);
    } while (r == CAPF_RSAGEN_MORE);
    assert_int_equal(r, CAPF_RSAGEN_DONE);
    assert_int_equal(capf_rsagen_key(g, key_der, sizeof key_der, &key_len, spki, sizeof spki,
                                     &spki_len),
                     0);
    if (longest_s)
        *longest_s = worst;
}

/* Independent checks of the key with wolfSSL's own functions. */
static void check_key(int bits)
{
    RsaKey k;
    word32 idx = 0;
    assert_int_equal(wc_InitRsaKey(&k, NULL), 0);
    assert_int_equal(wc_RsaPrivateKeyDecode(key_der, &idx, &k, (word32)key_len), 0);
    assert_int_equal(idx, key_len);
    assert_int_equal(wc_RsaEncryptSize(&k), bits / 8);
    uint8_t e[8], n[256], d[256], p[128], q[128];
    word32 el = sizeof e, nl = sizeof n, dl = sizeof d, pl = sizeof p, ql = sizeof q;
    assert_int_equal(wc_RsaExportKey(&k, e, &el, n, &nl, d, &dl, p, &pl, q, &ql), 0);
    assert_int_equal(el, 3);
    assert_memory_equal(e, "\x01\x00\x01", 3); /* e = 65537 */
    assert_int_equal(nl, (word32)bits / 8);
    assert_true(n[0] & 0x80);                   /* exactly `bits` bits */
    assert_int_equal(pl, (word32)bits / 16);     /* primes of exactly nlen/2 bits */
    assert_int_equal(ql, (word32)bits / 16);
    assert_true((p[0] & 0x80) && (q[0] & 0x80));
    assert_true(memcmp(p, q, pl) > 0);           /* p > q, as wolfSSL keeps them */
    /* wolfSSL's FIPS 186-4 check of p, then of q against p (|p-q|):
     * sqrt(2) bound, gcd(x-1, e), 8 Miller-Rabin rounds with random bases. */
    WC_RNG rng;
    assert_int_equal(wc_InitRng(&rng), 0);
    int prime = 0;
    assert_int_equal(wc_CheckProbablePrime_ex(p, pl, NULL, 0, e, el, bits, &prime, &rng), 0);
    assert_int_equal(prime, 1);
    prime = 0;
    assert_int_equal(wc_CheckProbablePrime_ex(p, pl, q, ql, e, el, bits, &prime, &rng), 0);
    assert_int_equal(prime, 1);
    /* sign with the private key (CRT), verify with the public one */
    static const uint8_t msg[] = "LSC key pre-generation";
    uint8_t sig[256], out[256];
    int sl = wc_RsaSSL_Sign(msg, sizeof msg, sig, sizeof sig, &k, &rng);
    assert_int_equal(sl, bits / 8);
    int ol = wc_RsaSSL_Verify(sig, (word32)sl, out, sizeof out, &k);
    assert_int_equal(ol, sizeof msg);
    assert_memory_equal(out, msg, sizeof msg);
    /* the SPKI is the key's */
    struct capf_keyspec ks;
    uint8_t spki2[CAPF_SPKI_MAX];
    size_t spki2_len;
    assert_int_equal(capf_key_public(key_der, key_len, spki2, sizeof spki2, &spki2_len, &ks),
                     CAPF_OK);
    assert_int_equal(ks.type, CAPF_KEY_RSA);
    assert_int_equal(ks.bits, bits);
    assert_int_equal(spki2_len, spki_len);
    assert_memory_equal(spki2, spki, spki_len);
    wc_FreeRng(&rng);
    wc_FreeRsaKey(&k);
}

static struct capf_rsagen gen; /* 12 KB or more (SP_INT_BITS 4096): not on the stack */

/* ---- tests ----------------------------------------------------------------- */

static void test_keys_valid_and_steps_bounded(void **state)
{
    (void)state;
    entropy_real();
    const int sizes[] = {1024, 2048, 2048, 2048};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        double longest = 0, t0 = now_s();
        generate(&gen, sizes[i], &longest);
        double total = now_s() - t0;
        const struct capf_rsagen_stats *s = &gen.stats;
        print_message("RSA-%d in %u steps: %u candidates (%u refused without a modexp), %u "
                      "Miller-Rabin rounds, %u modexps, at most %u modexp per step; host %.0f ms, "
                      "longest step %.2f ms\n",
                      sizes[i], (unsigned)s->steps, (unsigned)s->candidates, (unsigned)s->sieved,
                      (unsigned)s->mr_rounds, (unsigned)s->modexps,
                      (unsigned)s->max_step_modexps, total * 1e3, longest * 1e3);
        assert_int_equal(s->max_step_modexps, 1); /* the bound: one modexp per step */
        assert_int_equal(s->modexps, s->mr_rounds + 2);
        assert_true(s->mr_rounds >= 2 * CAPF_RSAGEN_MR_ROUNDS); /* 8 rounds for p and for q */
        /* every candidate was sieved, MR-tested or is one of the two primes */
        assert_true(s->sieved + s->mr_rounds >= s->candidates - 2);
        check_key(sizes[i]);
        capf_rsagen_free(&gen);
    }
}

static void test_deterministic_with_fixed_entropy(void **state)
{
    (void)state;
    static uint8_t first[CAPF_KEY_DER_MAX];
    size_t first_len;
    entropy_fixed(0x5EC0DE01u);
    generate(&gen, 2048, NULL);
    struct capf_rsagen_stats s1 = gen.stats;
    memcpy(first, key_der, key_len);
    first_len = key_len;
    capf_rsagen_free(&gen);
    entropy_fixed(0x5EC0DE01u);
    generate(&gen, 2048, NULL);
    assert_int_equal(key_len, first_len);
    assert_memory_equal(key_der, first, key_len); /* same entropy, same key */
    assert_memory_equal(&gen.stats, &s1, sizeof s1); /* and the same path */
    check_key(2048);
    capf_rsagen_free(&gen);
    entropy_fixed(0x5EC0DE02u);
    generate(&gen, 2048, NULL);
    assert_false(key_len == first_len && !memcmp(key_der, first, key_len));
    capf_rsagen_free(&gen);
    entropy_real();
}

/* An abort (free) after k steps, for k over every phase, then a restart:
 * the restart always ends in a whole valid key, and with the same fixed
 * entropy it is the key of an uninterrupted run (nothing leaks from the
 * aborted one). */
static void test_abort_restart(void **state)
{
    (void)state;
    static uint8_t ref[CAPF_KEY_DER_MAX];
    size_t ref_len;
    entropy_fixed(0xC0FFEE11u);
    generate(&gen, 1024, NULL);
    uint32_t steps = gen.stats.steps;
    memcpy(ref, key_der, key_len);
    ref_len = key_len;
    capf_rsagen_free(&gen);
    capf_rsagen_free(&gen); /* twice: harmless */
    int phases_seen = 0;
    enum capf_rsagen_phase last = CAPF_RSAGEN_IDLE;
    for (uint32_t k = 0; k <= steps; k += 1 + steps / 40) {
        entropy_fixed(0x0BADCAFEu + k);
        assert_int_equal(capf_rsagen_init(&gen, 1024), 0);
        for (uint32_t i = 0; i < k && capf_rsagen_step(&gen) == CAPF_RSAGEN_MORE; i++)
            ;
        if (gen.phase != last) {
            phases_seen++;
            last = gen.phase;
        }
        capf_rsagen_free(&gen); /* abort wherever it is */
        entropy_fixed(0xC0FFEE11u);
        generate(&gen, 1024, NULL);
        assert_int_equal(key_len, ref_len);
        assert_memory_equal(key_der, ref, ref_len);
        capf_rsagen_free(&gen);
    }
    /* the last phases (assemble, round trip) too */
    for (uint32_t k = steps - 3; k <= steps; k++) {
        entropy_fixed(0xC0FFEE11u);
        assert_int_equal(capf_rsagen_init(&gen, 1024), 0);
        for (uint32_t i = 0; i < k; i++)
            capf_rsagen_step(&gen);
        capf_rsagen_free(&gen);
        phases_seen++;
    }
    print_message("abort/restart: %d abort points over %u steps\n", phases_seen, steps);
    entropy_real();
    generate(&gen, 1024, NULL);
    check_key(1024);
    capf_rsagen_free(&gen);
    assert_int_equal(capf_rsagen_init(&gen, 4096), -1); /* sizes the phone does not do */
    capf_rsagen_free(&gen);
}

/* capf_client's idle work: one step per call until the key is stored in
 * the "lsckey" area; the stored key is valid and a second idle does
 * nothing. */
static const struct storage_area layout[] = {{CERT_AREA_LSC, 4096}, {CERT_AREA_NEXT_KEY, 2560}};

static void test_client_pregen_in_slices(void **state)
{
    (void)state;
    entropy_real();
    struct ram_flash rf;
    ram_flash_init(&rf, storage_layout_size(layout, 2));
    struct storage st = {&rf.dev, layout, 2};
    static struct cert_store cs;
    static struct capf_client c;
    memset(&cs, 0, sizeof cs);
    assert_int_equal(cert_store_load(&cs, &st), 0);
    capf_client_init(&c, &cs, NULL, NULL, NULL, "001E7A4C11A1");
    unsigned calls = 0;
    while (capf_client_idle(&c)) {
        calls++;
        assert_true(calls < 100000);
        struct capf_keyspec ks;
        if (calls == 5) /* not stored before it is whole */
            assert_int_equal(capf_pregen_load(&st, &ks, key_der, sizeof key_der, &key_len), -1);
    }
    struct capf_keyspec ks;
    assert_int_equal(capf_pregen_load(&st, &ks, key_der, sizeof key_der, &key_len), 0);
    assert_int_equal(ks.type, CAPF_KEY_RSA);
    assert_int_equal(ks.bits, 2048);
    assert_int_equal(capf_key_public(key_der, key_len, spki, sizeof spki, &spki_len, &ks),
                     CAPF_OK);
    check_key(2048);
    assert_true(c.pregen.slices > 10);
    print_message("capf_client_idle: RSA-2048 pre-generated in %u calls\n", calls + 1);
    assert_int_equal(capf_client_idle(&c), 0); /* a key is stored: nothing to do */
    ram_flash_free(&rf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_valid_and_steps_bounded),
        cmocka_unit_test(test_deterministic_with_fixed_entropy),
        cmocka_unit_test(test_abort_restart),
        cmocka_unit_test(test_client_pregen_in_slices),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
