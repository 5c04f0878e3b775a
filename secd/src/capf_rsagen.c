/* RSA key generation in bounded slices (see capf_rsagen.h). */
#include "secd/capf_rsagen.h"

#include <string.h>

#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/wolfmath.h>

#define PRIME_BYTES_MAX 128 /* a 1024-bit prime of an RSA-2048 key */

static void wipe(void *p, size_t n)
{
    volatile uint8_t *v = p;
    while (n--)
        *v++ = 0;
}

static enum capf_rsagen_result fail(struct capf_rsagen *g, const char *why)
{
    g->phase = CAPF_RSAGEN_FAILED;
    g->why = why;
    return CAPF_RSAGEN_ERROR;
}

int capf_rsagen_init(struct capf_rsagen *g, int bits)
{
    memset(g, 0, sizeof *g);
    g->phase = CAPF_RSAGEN_FAILED;
    if (bits != 1024 && bits != 2048) {
        g->why = "unsupported size";
        return -1;
    }
    g->bits = bits;
    if (mp_init_multi(&g->p, &g->q, &g->t, &g->m, NULL, NULL) != MP_OKAY ||
        wc_InitRng(&g->rng) != 0) {
        g->why = "DRBG";
        return -1;
    }
    g->rng_ok = 1;
    g->phase = CAPF_RSAGEN_SEARCH_P;
    return 0;
}

/* A fresh candidate into c: nlen/2 random bits with the top two bits set
 * (so c >= 1.5 2^(k-1) > sqrt(2) 2^(k-1) and n has exactly nlen bits) and
 * the low bit set. */
static int draw(struct capf_rsagen *g, mp_int *c)
{
    uint8_t buf[PRIME_BYTES_MAX];
    size_t n = (size_t)g->bits / 16;
    int ok = wc_RNG_GenerateBlock(&g->rng, buf, (word32)n) == 0;
    buf[0] |= 0xC0;
    buf[n - 1] |= 0x01;
    ok = ok && mp_read_unsigned_bin(c, buf, (word32)n) == MP_OKAY;
    wipe(buf, sizeof buf);
    g->stats.candidates++;
    return ok ? 0 : -1;
}

/* The checks of a candidate that cost no modexp. 1 = worth Miller-Rabin,
 * 0 = refused, -1 = error. */
static int sieve(struct capf_rsagen *g, mp_int *c, int is_q)
{
    mp_digit r = 0;
    int prime = MP_NO;
    /* gcd(c-1, e) = 1: e is prime, so e must not divide c-1. */
    if (mp_mod_d(c, (mp_digit)CAPF_RSAGEN_E, &r) != MP_OKAY)
        return -1;
    if (r == 1)
        return 0;
    if (is_q) {
        /* FIPS 186-4 B.3.3 5.4: |p-q| > 2^(nlen/2-100). */
        int lt = mp_cmp(&g->p, c) == MP_LT;
        if (mp_sub(lt ? c : &g->p, lt ? &g->p : c, &g->t) != MP_OKAY)
            return -1;
        if (mp_count_bits(&g->t) <= g->bits / 2 - 100)
            return 0;
    }
    /* wolfSSL's trial division by its 256 small primes: 0 rounds. */
    if (mp_prime_is_prime_ex(c, 0, &prime, &g->rng) != MP_OKAY)
        return -1;
    return prime == MP_YES;
}

static enum capf_rsagen_result search(struct capf_rsagen *g, int is_q)
{
    mp_int *c = is_q ? &g->q : &g->p;
    for (int i = 0; i < CAPF_RSAGEN_CANDIDATES_PER_STEP; i++) {
        if (draw(g, c) != 0)
            return fail(g, "DRBG");
        int s = sieve(g, c, is_q);
        if (s < 0)
            return fail(g, "math");
        if (s == 1) {
            g->round = 0;
            g->phase = is_q ? CAPF_RSAGEN_TEST_Q : CAPF_RSAGEN_TEST_P;
            return CAPF_RSAGEN_MORE;
        }
        g->stats.sieved++;
    }
    return CAPF_RSAGEN_MORE;
}

/* One random-base Miller-Rabin round of the current candidate. */
static enum capf_rsagen_result test(struct capf_rsagen *g, int is_q, int *modexps)
{
    int prime = MP_NO;
    if (mp_prime_is_prime_ex(is_q ? &g->q : &g->p, 1, &prime, &g->rng) != MP_OKAY)
        return fail(g, "math");
    g->stats.mr_rounds++;
    (*modexps)++;
    if (prime != MP_YES) {
        g->phase = is_q ? CAPF_RSAGEN_SEARCH_Q : CAPF_RSAGEN_SEARCH_P;
        return CAPF_RSAGEN_MORE;
    }
    if (++g->round < CAPF_RSAGEN_MR_ROUNDS)
        return CAPF_RSAGEN_MORE;
    g->phase = is_q ? CAPF_RSAGEN_ASSEMBLE : CAPF_RSAGEN_SEARCH_Q;
    return CAPF_RSAGEN_MORE;
}

/* x * y mod m == 1 (t is the temporary). */
static int is_inverse(struct capf_rsagen *g, mp_int *x, mp_int *y, mp_int *m)
{
    return mp_mulmod(x, y, m, &g->t) == MP_OKAY && mp_isone(&g->t);
}

/* n, d, dP, dQ, u into g->key, the cheap checks, and c = m^e mod n in
 * g->t for the round trip. wc_MakeRsaKey's steps with wolfSSL's mp ops,
 * blinding of the inverse included. */
static enum capf_rsagen_result assemble(struct capf_rsagen *g)
{
    RsaKey *k = &g->key;
    mp_int *p1 = &k->dP, *q1 = &k->dQ, *phi = &k->u, *blind = &g->m, *tmp = &g->t;
    if (mp_cmp(&g->p, &g->q) == MP_LT) { /* p > q, as wolfSSL keeps them */
        if (mp_copy(&g->p, tmp) != MP_OKAY || mp_copy(&g->q, &g->p) != MP_OKAY ||
            mp_copy(tmp, &g->q) != MP_OKAY)
            return fail(g, "math");
    }
    if (wc_InitRsaKey(k, NULL) != 0)
        return fail(g, "RSA key");
    g->key_ok = 1;
    uint8_t rb[2 * PRIME_BYTES_MAX];
    size_t nb = (size_t)g->bits / 8;
    int e = MP_OKAY;
    e = e == MP_OKAY ? mp_sub_d(&g->p, 1, p1) : e;
    e = e == MP_OKAY ? mp_sub_d(&g->q, 1, q1) : e;
    e = e == MP_OKAY ? mp_mul(p1, q1, phi) : e;
    /* d = (e r)^-1 r mod phi with a random odd r prime to phi. */
    while (e == MP_OKAY) {
        if (wc_RNG_GenerateBlock(&g->rng, rb, (word32)nb) != 0) {
            e = MP_VAL;
            break;
        }
        rb[0] &= 0x7F;
        rb[nb - 1] |= 1;
        e = mp_read_unsigned_bin(blind, rb, (word32)nb);
        e = e == MP_OKAY ? mp_gcd(blind, phi, tmp) : e;
        if (e == MP_OKAY && mp_isone(tmp))
            break;
    }
    e = e == MP_OKAY ? mp_set_int(&k->e, CAPF_RSAGEN_E) : e;
    e = e == MP_OKAY ? mp_mul(blind, &k->e, tmp) : e;
    e = e == MP_OKAY ? mp_invmod(tmp, phi, &k->d) : e;
    e = e == MP_OKAY ? mp_mulmod(&k->d, blind, phi, &k->d) : e;
    e = e == MP_OKAY ? mp_mul(&g->p, &g->q, &k->n) : e;
    e = e == MP_OKAY ? mp_copy(&g->p, &k->p) : e;
    e = e == MP_OKAY ? mp_copy(&g->q, &k->q) : e;
    /* p1, q1 are dP, dQ: d mod (p-1), d mod (q-1), in place. */
    e = e == MP_OKAY ? mp_mod(&k->d, p1, tmp) : e;
    e = e == MP_OKAY ? mp_copy(tmp, p1) : e;
    e = e == MP_OKAY ? mp_mod(&k->d, q1, tmp) : e;
    e = e == MP_OKAY ? mp_copy(tmp, q1) : e;
    e = e == MP_OKAY ? mp_invmod(&g->q, &g->p, &k->u) : e;
    mp_forcezero(blind);
    if (e != MP_OKAY)
        return fail(g, "math");
    k->type = RSA_PRIVATE;
    /* wc_CheckRsaKey's checks that need no modexp. */
    if (mp_count_bits(&k->n) != g->bits || mp_cmp(&k->d, &k->n) != MP_LT)
        return fail(g, "n or d out of range");
    if (mp_sub_d(&k->p, 1, &g->m) != MP_OKAY || !is_inverse(g, &k->dP, &k->e, &g->m) ||
        mp_sub_d(&k->q, 1, &g->m) != MP_OKAY || !is_inverse(g, &k->dQ, &k->e, &g->m) ||
        mp_cmp(&k->u, &k->p) != MP_LT || !is_inverse(g, &k->u, &k->q, &k->p))
        return fail(g, "CRT parameters inconsistent");
    /* The round trip: a random m < n (top bit clear), c = m^e mod n. */
    if (wc_RNG_GenerateBlock(&g->rng, rb, (word32)nb) != 0)
        return fail(g, "DRBG");
    rb[0] &= 0x3F;
    e = mp_read_unsigned_bin(&g->m, rb, (word32)nb);
    wipe(rb, sizeof rb);
    e = e == MP_OKAY ? mp_exptmod(&g->m, &k->e, &k->n, &g->t) : e; /* public: 17 squarings */
    if (e != MP_OKAY)
        return fail(g, "math");
    g->phase = CAPF_RSAGEN_CHECK_P;
    return CAPF_RSAGEN_MORE;
}

/* c^dX mod x == m mod x, with c in g->t: one modexp. */
static enum capf_rsagen_result check_half(struct capf_rsagen *g, int is_q, int *modexps)
{
    RsaKey *k = &g->key;
    mp_int *x = is_q ? &k->q : &k->p, *dx = is_q ? &k->dQ : &k->dP;
    /* g->p and g->q are free now (the key holds the primes). */
    mp_int *got = &g->p, *want = &g->q;
    /* c mod x first: a base already below the modulus takes wolfSSL's
     * fixed-size exponentiation for x (33 M instructions on the M3 instead
     * of 51 M for the 2048-bit c). */
    int e = mp_mod(&g->t, x, want);
    e = e == MP_OKAY ? mp_exptmod(want, dx, x, got) : e;
    (*modexps)++;
    e = e == MP_OKAY ? mp_mod(&g->m, x, want) : e;
    if (e != MP_OKAY)
        return fail(g, "math");
    if (mp_cmp(got, want) != MP_EQ)
        return fail(g, "private-key round trip failed");
    g->phase = is_q ? CAPF_RSAGEN_READY : CAPF_RSAGEN_CHECK_Q;
    return is_q ? CAPF_RSAGEN_DONE : CAPF_RSAGEN_MORE;
}

enum capf_rsagen_result capf_rsagen_step(struct capf_rsagen *g)
{
    int modexps = 0;
    enum capf_rsagen_result r;
    g->stats.steps++;
    switch (g->phase) {
    case CAPF_RSAGEN_SEARCH_P: r = search(g, 0); break;
    case CAPF_RSAGEN_TEST_P: r = test(g, 0, &modexps); break;
    case CAPF_RSAGEN_SEARCH_Q: r = search(g, 1); break;
    case CAPF_RSAGEN_TEST_Q: r = test(g, 1, &modexps); break;
    case CAPF_RSAGEN_ASSEMBLE: r = assemble(g); break;
    case CAPF_RSAGEN_CHECK_P: r = check_half(g, 0, &modexps); break;
    case CAPF_RSAGEN_CHECK_Q: r = check_half(g, 1, &modexps); break;
    case CAPF_RSAGEN_READY: r = CAPF_RSAGEN_DONE; break;
    default: r = CAPF_RSAGEN_ERROR; break;
    }
    g->stats.modexps += (uint32_t)modexps;
    if ((uint32_t)modexps > g->stats.max_step_modexps)
        g->stats.max_step_modexps = (uint32_t)modexps;
    return r;
}

int capf_rsagen_key(struct capf_rsagen *g, uint8_t *key_der, size_t key_cap, size_t *key_len,
                    uint8_t *spki, size_t spki_cap, size_t *spki_len)
{
    if (g->phase != CAPF_RSAGEN_READY)
        return -1;
    int k = wc_RsaKeyToDer(&g->key, key_der, (word32)key_cap);
    int s = wc_RsaKeyToPublicDer(&g->key, spki, (word32)spki_cap);
    if (k <= 0 || s <= 0)
        return -1;
    *key_len = (size_t)k;
    *spki_len = (size_t)s;
    return 0;
}

void capf_rsagen_free(struct capf_rsagen *g)
{
    if (g->key_ok)
        wc_FreeRsaKey(&g->key); /* zeroes the private parts */
    mp_forcezero(&g->p);
    mp_forcezero(&g->q);
    mp_forcezero(&g->t);
    mp_forcezero(&g->m);
    if (g->rng_ok)
        wc_FreeRng(&g->rng);
    g->key_ok = g->rng_ok = 0;
    g->phase = CAPF_RSAGEN_IDLE;
}

const char *capf_rsagen_phase_name(enum capf_rsagen_phase p)
{
    switch (p) {
    case CAPF_RSAGEN_IDLE: return "idle";
    case CAPF_RSAGEN_SEARCH_P: return "searching p";
    case CAPF_RSAGEN_TEST_P: return "Miller-Rabin on a p candidate";
    case CAPF_RSAGEN_SEARCH_Q: return "searching q";
    case CAPF_RSAGEN_TEST_Q: return "Miller-Rabin on a q candidate";
    case CAPF_RSAGEN_ASSEMBLE: return "assembling the key";
    case CAPF_RSAGEN_CHECK_P: return "round trip mod p";
    case CAPF_RSAGEN_CHECK_Q: return "round trip mod q";
    case CAPF_RSAGEN_READY: return "ready";
    case CAPF_RSAGEN_FAILED: return "failed";
    }
    return "?";
}
