/* RSA key generation in bounded slices (LSC key pre-generation).
 *
 * wc_MakeRsaKey runs to completion: on the Cortex-M3 an RSA-2048 key is
 * 1.4-5.8 G instructions in one call. This is the same generation as an
 * explicit state machine: every capf_rsagen_step() does a bounded amount
 * of work and returns, so the caller's main loop (network, timers,
 * console) runs between two steps. No I/O, no clock; the arithmetic is all
 * wolfSSL's (sp_int: DRBG candidates, trial division and random-base
 * Miller-Rabin by mp_prime_is_prime_ex, gcd, inverse, exptmod); the key is
 * serialised by wc_RsaKeyToDer.
 *
 * One step is at most ONE of:
 *  - up to CAPF_RSAGEN_CANDIDATES_PER_STEP candidates drawn from the DRBG
 *    (top two bits and the low bit set), each checked: gcd(c-1, e) = 1,
 *    for q |p-q| > 2^(nlen/2-100) (FIPS 186-4 B.3.3 5.4, also above
 *    wolfSSL's Fermat bound), trial division by wolfSSL's 256 small
 *    primes; the step ends early when a candidate passes (no modexp);
 *  - one Miller-Rabin round with a random base (one modexp, preceded by
 *    wolfSSL's trial division again): CAPF_RSAGEN_MR_ROUNDS rounds per
 *    prime, the 8 wc_MakeRsaKey uses (FIPS 186-4 table C.2 asks 5 for
 *    1024-bit primes of an RSA-2048 key);
 *  - assembling the key: n, d = e^-1 mod (p-1)(q-1) (blinded as wolfSSL
 *    does), dP, dQ, u = q^-1 mod p, the checks of wc_CheckRsaKey that cost
 *    no modexp (n = pq, |n| = nlen, e*dP = 1 mod p-1, e*dQ = 1 mod q-1,
 *    u*q = 1 mod p, d < n), and c = m^e mod n of a random m;
 *  - one half of the private-key round trip: c^dP mod p = m mod p, then
 *    c^dQ mod q = m mod q (one modexp each).
 *
 * Criteria (those of wc_MakeRsaKey): e = 65537, p and q of exactly nlen/2
 * bits and >= sqrt(2) 2^(nlen/2-1), gcd(p-1, e) = gcd(q-1, e) = 1, the |p-q|
 * bound above, 8 random-base Miller-Rabin rounds, p > q.
 *
 * All state (the DRBG, p, q, temporaries, the key being assembled) is in
 * the struct: nothing is allocated per step by this module (wolfSSL's own
 * primality test takes its temporaries from its heap, as always).
 * capf_rsagen_free() may be called at any point (abort): it wipes and
 * releases everything; capf_rsagen_init() starts over. */
#ifndef SECD_CAPF_RSAGEN_H
#define SECD_CAPF_RSAGEN_H
#include <stddef.h>
#include <stdint.h>

#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/rsa.h>

#define CAPF_RSAGEN_MR_ROUNDS 8
#define CAPF_RSAGEN_CANDIDATES_PER_STEP 8
#define CAPF_RSAGEN_E 65537u

enum capf_rsagen_result {
    CAPF_RSAGEN_MORE,  /* call capf_rsagen_step() again */
    CAPF_RSAGEN_DONE,  /* the key is ready: capf_rsagen_key() */
    CAPF_RSAGEN_ERROR, /* a wolfSSL failure or a failed check (state: error) */
};

enum capf_rsagen_phase {
    CAPF_RSAGEN_IDLE,
    CAPF_RSAGEN_SEARCH_P,
    CAPF_RSAGEN_TEST_P,
    CAPF_RSAGEN_SEARCH_Q,
    CAPF_RSAGEN_TEST_Q,
    CAPF_RSAGEN_ASSEMBLE,
    CAPF_RSAGEN_CHECK_P,
    CAPF_RSAGEN_CHECK_Q,
    CAPF_RSAGEN_READY,
    CAPF_RSAGEN_FAILED,
};

struct capf_rsagen_stats {
    uint32_t steps;          /* capf_rsagen_step() calls */
    uint32_t candidates;     /* drawn from the DRBG */
    uint32_t sieved;         /* refused without a modexp (gcd, |p-q|, trial division) */
    uint32_t mr_rounds;      /* Miller-Rabin rounds run (one modexp each) */
    uint32_t modexps;        /* all modexps (MR rounds + the two round-trip halves) */
    uint32_t max_step_modexps; /* the most modexps one step did (the bound: 1) */
};

struct capf_rsagen {
    enum capf_rsagen_phase phase;
    int bits;             /* modulus bits: 1024 or 2048 */
    int round;            /* Miller-Rabin rounds passed by the current candidate */
    int rng_ok;
    WC_RNG rng;
    mp_int p, q, t, m;    /* the primes, a temporary, the round-trip message */
    RsaKey key;           /* initialised in ASSEMBLE */
    int key_ok;
    struct capf_rsagen_stats stats;
    const char *why;      /* FAILED: what went wrong */
};

/* Starts a generation of an RSA key of `bits` (1024 or 2048) with e =
 * 65537. The DRBG is wolfSSL's Hash DRBG seeded from the board's entropy
 * (a fixed entropy source gives a fixed key). 0, or -1 (bad size, DRBG). */
int capf_rsagen_init(struct capf_rsagen *g, int bits);
/* One bounded step (see above). */
enum capf_rsagen_result capf_rsagen_step(struct capf_rsagen *g);
/* READY: the private key (PKCS#1 DER) and its SubjectPublicKeyInfo. */
int capf_rsagen_key(struct capf_rsagen *g, uint8_t *key_der, size_t key_cap, size_t *key_len,
                    uint8_t *spki, size_t spki_cap, size_t *spki_len);
/* Wipes and releases everything (any phase; also the abort). */
void capf_rsagen_free(struct capf_rsagen *g);
/* "searching p", "testing q (round 3 of 8)", ... for the console. */
const char *capf_rsagen_phase_name(enum capf_rsagen_phase p);

#endif
