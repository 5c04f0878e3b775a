/* Benchmark image for the Cortex-M3 board (QEMU mps2-an385): verifies the
 * interop CTL, ITL and signed config exactly as the phone does at boot and
 * prints guest instruction counts beside the cost of the underlying
 * wolfSSL primitives measured in the same run.
 *
 * Run under `-icount shift=0,sleep=off`: one guest instruction is one
 * nanosecond of virtual time, so the board's microsecond clock counts
 * thousands of instructions, deterministically. */
#include <stdint.h>
#include <string.h>

#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/rsa.h>
#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/random.h>

#include "hal/hal_board.h"
#include "hal/hal_clock.h"
#include "hal/hal_flash.h"
#include "secd/secd.h"
#include "trace.h"

extern const unsigned char bench_ctl[], bench_itl[], bench_cnf[], bench_enc[], bench_mic_key[];
extern const size_t bench_ctl_len, bench_itl_len, bench_cnf_len, bench_enc_len,
    bench_mic_key_len;

/* The startup code hands the flash over; the benchmark does not use it. */
void firmware_set_flash(const struct hal_flash *flash);
void firmware_set_flash(const struct hal_flash *flash)
{
    (void)flash;
}

/* Thousands of guest instructions (kinsn) between two clock reads. */
static unsigned long kinsn_since(uint64_t t0)
{
    return (unsigned long)(hal_wall_us() - t0);
}

static int judge(const struct secd_trust *t, enum secd_kind kind, const unsigned char *p, size_t n,
                 const char *name, struct secd_decision *d, unsigned long *k)
{
    uint64_t t0 = hal_wall_us();
    enum secd_err e = secd_check_file(t, kind, p, n, name, d);
    *k = kinsn_since(t0);
    if (e != SECD_OK) {
        ERR("BENCH", "%s refused: %s", name, secd_err_reason(e));
        return -1;
    }
    return 0;
}

/* SHA of a whole file, the hash part of one verification. */
static unsigned long hash_cost(const unsigned char *p, size_t n, uint8_t alg)
{
    enum wc_HashType type = alg == SECD_HASH_SHA1 ? WC_HASH_TYPE_SHA
                          : alg == SECD_HASH_SHA256 ? WC_HASH_TYPE_SHA256 : WC_HASH_TYPE_SHA512;
    uint8_t out[64];
    uint64_t t0 = hal_wall_us();
    wc_Hash(type, p, (word32)n, out, sizeof out);
    return kinsn_since(t0);
}

/* One RSA public-key operation with the ITL's CallManager key (2048 bits),
 * the signature part of one verification. */
static unsigned long rsa_cost(const struct secd_tl *itl, const struct secd_header *h)
{
    struct secd_rec_iter it;
    struct secd_record r;
    secd_records_begin(&it, itl->data, itl->len, &itl->hdr);
    while (secd_records_next(&it, &r) == SECD_OK && r.length) {
        if (!secd_record_matches_signer(&r, h) || !r.public_key.len)
            continue;
        static RsaKey key;
        static uint8_t out[512];
        word32 idx = 0;
        wc_InitRsaKey(&key, NULL);
        if (wc_RsaPublicKeyDecode(r.public_key.p, &idx, &key, (word32)r.public_key.len) != 0)
            return 0;
        uint64_t t0 = hal_wall_us();
        wc_RsaSSL_Verify(h->signature.p, (word32)h->signature.len, out, sizeof out, &key);
        unsigned long k = kinsn_since(t0);
        wc_FreeRsaKey(&key);
        return k;
    }
    return 0;
}

static void row(const char *what, size_t bytes, unsigned long k, unsigned long floor_k)
{
    NOT("BENCH", "%-34s %6u B %7lu kinsn  crypto floor %7lu kinsn  ratio %lu.%02lu", what,
        (unsigned)bytes, k, floor_k, floor_k ? k / floor_k : 0,
        floor_k ? (k * 100 / floor_k) % 100 : 0);
}

static int count_sink(void *ctx, const uint8_t *p, size_t n)
{
    (void)p;
    *(size_t *)ctx += n;
    return 0;
}

/* .enc.sgn as the phone handles it: streamed through the signature check,
 * then the key unwrapped and the body decrypted (digest and padding checked). */
static int bench_encrypted(const struct secd_trust *t)
{
    static uint8_t key[2048];
    int key_len = wc_KeyPemToDer(bench_mic_key, (int)bench_mic_key_len, key, sizeof key, NULL);
    if (key_len <= 0)
        return -1;
    static struct secd_stream st;
    static struct secd_decrypt dec;
    struct secd_decision d;
    size_t plain = 0;
    uint64_t t0 = hal_wall_us();
    secd_stream_begin(&st);
    for (size_t off = 0; off < bench_enc_len; off += 512)
        secd_stream_update(&st, bench_enc + off, bench_enc_len - off < 512 ? bench_enc_len - off : 512);
    enum secd_err e = secd_stream_finish(&st, t, "SEP001E7A4C11A1.cnf.xml.enc.sgn", &d);
    unsigned long k_verify = kinsn_since(t0);
    uint64_t t1 = hal_wall_us();
    if (e == SECD_OK)
        e = secd_decrypt_begin(&dec, &d.hdr, key, (size_t)key_len);
    unsigned long k_unwrap = kinsn_since(t1);
    uint64_t t2 = hal_wall_us();
    if (e == SECD_OK)
        e = secd_decrypt_update(&dec, bench_enc + d.hdr.header_len,
                                bench_enc_len - d.hdr.header_len, count_sink, &plain);
    if (e == SECD_OK)
        e = secd_decrypt_final(&dec, count_sink, &plain);
    unsigned long k_aes = kinsn_since(t2);
    if (e != SECD_OK) {
        ERR("BENCH", ".enc.sgn refused: %s", secd_err_reason(e));
        return -1;
    }
    /* Floor: one RSA-2048 private-key operation alone. */
    static RsaKey rsa;
    static WC_RNG rng;
    static uint8_t out[256];
    word32 idx = 0;
    wc_InitRng(&rng);
    wc_InitRsaKey(&rsa, NULL);
    wc_RsaPrivateKeyDecode(key, &idx, &rsa, (word32)key_len);
    wc_RsaSetRNG(&rsa, &rng);
    uint64_t t3 = hal_wall_us();
    wc_RsaPrivateDecrypt(d.hdr.wrapped_key.p, (word32)d.hdr.wrapped_key.len, out, sizeof out, &rsa);
    unsigned long k_rsa = kinsn_since(t3);
    wc_FreeRsaKey(&rsa);
    wc_FreeRng(&rng);
    unsigned long total = k_verify + k_unwrap + k_aes;
    row("verify .enc.sgn (streamed, 512 B)", bench_enc_len, k_verify, 0);
    row("unwrap AES key (RSA-2048 private)", 256, k_unwrap, k_rsa);
    row("AES-128-CBC + SHA-1 + padding", plain, k_aes, 0);
    NOT("BENCH", "verify + decrypt interop enc-mic-sha1: %lu kinsn (target <= 45000 kinsn)", total);
    return 0;
}

int firmware_main(void);
int firmware_main(void)
{
    hal_board_init();
    NOT("BENCH", "secd verify benchmark on %s (kinsn = 1000 guest instructions at -icount shift=0)",
        hal_board_name);
    struct secd_trust none = {0};
    struct secd_decision d;
    static struct secd_tl ctl, itl;
    unsigned long k_ctl, k_itl, k_cnf;

    if (judge(&none, SECD_KIND_CTL, bench_ctl, bench_ctl_len, "CTLFile.tlv", &d, &k_ctl) != 0 ||
        secd_tl_load(&ctl, bench_ctl, bench_ctl_len) != SECD_OK)
        return 1;
    struct secd_trust with_ctl = {.ctl = &ctl};
    if (judge(&with_ctl, SECD_KIND_ITL, bench_itl, bench_itl_len, "ITLFile.tlv", &d, &k_itl) != 0 ||
        secd_tl_load(&itl, bench_itl, bench_itl_len) != SECD_OK)
        return 1;
    struct secd_trust both = {.ctl = &ctl, .itl = &itl};
    if (judge(&both, SECD_KIND_SIGNED, bench_cnf, bench_cnf_len, "SEP001E7A4C11A1.cnf.xml.sgn", &d,
              &k_cnf) != 0)
        return 1;

    unsigned long rsa = rsa_cost(&itl, &d.hdr);
    row("verify CTLFile.tlv (first use)", bench_ctl_len, k_ctl,
        rsa + hash_cost(bench_ctl, bench_ctl_len, ctl.hdr.hash_alg));
    row("verify ITLFile.tlv (against CTL)", bench_itl_len, k_itl,
        rsa + hash_cost(bench_itl, bench_itl_len, itl.hdr.hash_alg));
    row("verify SEP...cnf.xml.sgn (CTL+ITL)", bench_cnf_len, k_cnf,
        rsa + hash_cost(bench_cnf, bench_cnf_len, d.hdr.hash_alg));
    NOT("BENCH", "verify all three: %lu kinsn (target <= 6000 kinsn)", k_ctl + k_itl + k_cnf);
    NOT("BENCH", "RSA-2048 public operation: %lu kinsn", rsa);
    struct secd_trust itl_only = {.itl = &itl};
    return bench_encrypted(&itl_only) == 0 ? 0 : 1;
}
