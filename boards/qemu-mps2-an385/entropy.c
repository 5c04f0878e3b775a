/* Entropy source. HONEST NOTE: QEMU's mps2-an385 has no TRNG, so this board
 * has no hardware entropy at all. What it uses instead:
 *   - the host's nanosecond counter (semihosting SYS_ELAPSED), read many
 *     times: the host-side cost of each BKPT trap varies by scheduling,
 *     caches and interrupts, so the low bits jitter;
 *   - the host's CPU time (SYS_CLOCK) and wall time (SYS_TIME), which differ
 *     between runs;
 *   - SysTick's current value, which jitters only WITHOUT -icount (with
 *     -icount the guest clock is deterministic and adds nothing).
 * Samples are condensed with SHA-256. This is good enough to exercise the
 * DRBG and key generation in an emulator; it is NOT a secure source. A real
 * board must seed from a hardware TRNG (with its own health tests).
 *
 * No counter is mixed in: if the host clock stopped moving, the output would
 * repeat and both our check below and wolfSSL's DRBG seed test would reject
 * it, instead of a counter hiding a dead source. */
#include <string.h>

#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "cmsdk.h"
#include "hal/hal_entropy.h"
#include "semihost.h"

#define SAMPLES_PER_BLOCK 16u

struct entropy_sample {
    uint64_t host_ns;
    uint32_t host_cpu_cs;
    uint32_t host_s;
    uint32_t systick;
};

static void take_sample(struct entropy_sample *s)
{
    memset(s, 0, sizeof *s);
    s->systick = SYST_CVR;
    s->host_ns = semihost_elapsed();
    s->host_cpu_cs = semihost_clock();
    s->host_s = semihost_time();
}

/* One 32-byte block from SAMPLES_PER_BLOCK samples. Fails when the host
 * nanosecond counter did not move between two samples (stuck source). */
static int entropy_block(uint8_t out[WC_SHA256_DIGEST_SIZE])
{
    wc_Sha256 sha;
    struct entropy_sample s;
    uint64_t last_ns = 0;
    if (wc_InitSha256(&sha) != 0)
        return -1;
    int rc = 0;
    for (unsigned i = 0; i < SAMPLES_PER_BLOCK && rc == 0; i++) {
        take_sample(&s);
        if (i > 0 && s.host_ns == last_ns)
            rc = -1;
        last_ns = s.host_ns;
        if (rc == 0)
            rc = wc_Sha256Update(&sha, (const byte *)&s, sizeof s);
    }
    if (rc == 0)
        rc = wc_Sha256Final(&sha, out);
    wc_Sha256Free(&sha);
    return rc == 0 ? 0 : -1;
}

int hal_entropy(uint8_t *buf, size_t n)
{
    uint8_t block[WC_SHA256_DIGEST_SIZE];
    while (n > 0) {
        if (entropy_block(block) != 0)
            return -1;
        size_t take = n < sizeof block ? n : sizeof block;
        memcpy(buf, block, take);
        buf += take;
        n -= take;
    }
    memset(block, 0, sizeof block);
    return 0;
}
