/* Benchmark image for the Cortex-M3 board (QEMU mps2-an385): verifies the
 * interop CTL, ITL and signed config exactly as the phone does at boot and
 * prints guest instruction counts beside the cost of the underlying
 * wolfSSL primitives measured in the same run; then the cost of the TFTP
 * client receiving 64 KiB (no network: datagrams built in memory) beside a
 * memcpy of the same bytes; then the wolfSSL primitives the TLS figures of
 * the phone are made of (toolchain/bench.py puts them beside those).
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
#include <wolfssl/wolfcrypt/ecc.h>

#include "hal/hal_board.h"
#include "hal/hal_clock.h"
#include "hal/hal_flash.h"
#include "secd/secd.h"
#include "tftpc/tftpc.h"
#include "trace.h"
#include "board_qemu.h"
#include "cmsdk.h"

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

/* ---- TFTP receive: tftpc alone, the server's datagrams built in memory ---- */

#define TFTP_FILE_LEN (64u * 1024u)
#define TFTP_MAX_GRAMS (TFTP_FILE_LEN / 512u + 2u) /* OACK + blocks + empty last */
#define TFTP_SERVER_TID 50000u

static uint8_t tftp_file[TFTP_FILE_LEN];
static uint8_t tftp_copy[TFTP_FILE_LEN];
/* The server's side of one transfer: (OACK,) DATA 1..n, back to back. */
static uint8_t tftp_wire[TFTP_FILE_LEN + 4u * TFTP_MAX_GRAMS + 32u];
static size_t tftp_gram_len[TFTP_MAX_GRAMS];

/* Guest instructions since `t0` (SysTick ticks: 40 instructions each at
 * -icount shift=0), finer than the clock's microseconds for short runs. */
#define INSN_PER_TICK (1000000000u / CORE_CLOCK_HZ)
static unsigned long insn_since(uint64_t t0)
{
    return (unsigned long)(board_uptime_ticks() - t0) * INSN_PER_TICK;
}

/* Instructions per KiB of the 64 KiB file. */
static unsigned long per_kib(unsigned long insn)
{
    return insn / (TFTP_FILE_LEN / 1024u);
}

/* "1.234" kinsn from instructions. */
#define KINSN3(insn) (insn) / 1000u, (insn) % 1000u

/* What the board would do with the client's actions: send nothing, count
 * the file bytes (checking they come in order) and remember the last ACK. */
struct tftp_sink {
    uint32_t bytes, sends, misordered, done_size;
    uint16_t last_ack;
    int done, failed;
};

static void tftp_drain(struct tftpc *c, struct tftp_sink *s)
{
    struct tftpc_output out;
    enum tftpc_action a;
    while ((a = tftpc_poll(c, &out)) != TFTPC_IDLE) {
        if (a == TFTPC_ACT_SEND) {
            s->sends++;
            if (out.kind == TFTPC_PKT_ACK)
                s->last_ack = (uint16_t)((out.data[2] << 8) | out.data[3]);
        } else if (a == TFTPC_ACT_DATA) {
            s->misordered += out.offset != s->bytes;
            s->bytes += (uint32_t)out.len;
        } else if (a == TFTPC_ACT_DONE) {
            s->done = 1;
            s->done_size = out.offset;
        } else {
            s->failed = 1;
        }
    }
}

static size_t put_gram_header(uint8_t *p, uint16_t op, uint16_t block)
{
    p[0] = (uint8_t)(op >> 8);
    p[1] = (uint8_t)op;
    p[2] = (uint8_t)(block >> 8);
    p[3] = (uint8_t)block;
    return 4;
}

/* Lays out the server's datagrams for blksize `blksize`; returns how many.
 * 1428 is negotiated (OACK first), 512 is RFC 1350's default (no options).
 * A file that is a multiple of the block size ends with an empty block. */
static size_t tftp_build(uint16_t blksize)
{
    static const char oack[] = "\0\6blksize\0" "1428";
    size_t n = 0, at = 0;
    if (blksize != TFTPC_DEFAULT_BLKSIZE) {
        memcpy(tftp_wire, oack, sizeof oack); /* with the option value's NUL */
        tftp_gram_len[n++] = sizeof oack;
        at = sizeof oack;
    }
    for (uint32_t off = 0, block = 1;; block++) {
        size_t len = TFTP_FILE_LEN - off < blksize ? TFTP_FILE_LEN - off : blksize;
        size_t h = put_gram_header(tftp_wire + at, TFTP_DATA, (uint16_t)block);
        memcpy(tftp_wire + at + h, tftp_file + off, len);
        tftp_gram_len[n++] = h + len;
        at += h + len;
        off += (uint32_t)len;
        if (len < blksize)
            return n;
    }
}

/* One 64 KiB download through the sans-I/O client: start (RRQ), every
 * server datagram in turn, every action drained. */
static int tftp_receive(uint16_t blksize, size_t grams, unsigned long *insn)
{
    static struct tftpc c;
    struct tftpc_config cfg;
    struct tftp_sink s = {0};
    const uint8_t *p = tftp_wire;
    tftpc_config_default(&cfg, 1);
    cfg.blksize = blksize;
    cfg.ask_tsize = 0;
    tftpc_init(&c, &cfg);
    uint64_t t0 = board_uptime_ticks();
    if (tftpc_start(&c, "bench.bin", 0) != 0)
        return -1;
    tftp_drain(&c, &s);
    for (size_t i = 0; i < grams; i++) {
        tftpc_on_datagram(&c, 0, TFTP_SERVER_TID, p, tftp_gram_len[i], 0);
        tftp_drain(&c, &s);
        p += tftp_gram_len[i];
    }
    *insn = insn_since(t0);
    size_t blocks = blksize == TFTPC_DEFAULT_BLKSIZE ? grams : grams - 1;
    if (!s.done || s.failed || s.misordered || s.bytes != TFTP_FILE_LEN ||
        s.done_size != TFTP_FILE_LEN || s.last_ack != (uint16_t)blocks ||
        s.sends != grams + 1) {
        ERR("BENCH", "TFTP blksize %u: transfer not as expected (%lu bytes, %lu sends)",
            (unsigned)blksize, (unsigned long)s.bytes, (unsigned long)s.sends);
        return -1;
    }
    return 0;
}

static int bench_tftp(void)
{
    static const uint16_t sizes[] = {512, 1428};
    for (size_t i = 0; i < TFTP_FILE_LEN; i++)
        tftp_file[i] = (uint8_t)(i * 131u + 7u);
    uint64_t t0 = board_uptime_ticks();
    memcpy(tftp_copy, tftp_file, TFTP_FILE_LEN);
    unsigned long copy = insn_since(t0);
    /* Reading the copy back also keeps the compiler from dropping it. */
    if (memcmp(tftp_copy, tftp_file, TFTP_FILE_LEN) != 0)
        return -1;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned long insn;
        size_t grams = tftp_build(sizes[i]);
        if (tftp_receive(sizes[i], grams, &insn) != 0 || copy == 0)
            return -1;
        NOT("BENCH", "TFTP receive 64 KiB, blksize %4u: %3lu datagrams %3lu.%03lu kinsn = "
            "%lu.%03lu kinsn/KiB  memcpy floor %lu.%03lu kinsn/KiB  ratio %lu.%02lu",
            (unsigned)sizes[i], (unsigned long)grams, KINSN3(insn), KINSN3(per_kib(insn)),
            KINSN3(per_kib(copy)), insn / copy, insn * 100u / copy % 100u);
    }
    NOT("BENCH", "memcpy of 64 KiB: %lu.%03lu kinsn", KINSN3(copy));
    return 0;
}

/* ---- primitives under the TLS figures (TVS handshake, CAPF key types) ---- */

static unsigned long ecc_keygen_cost(WC_RNG *rng, ecc_key *k, int curve, int size)
{
    wc_ecc_init(k);
    uint64_t t0 = hal_wall_us();
    int rc = wc_ecc_make_key_ex(rng, size, k, curve);
    unsigned long c = kinsn_since(t0);
    return rc == 0 ? c : 0;
}

static int bench_primitives(void)
{
    static WC_RNG rng;
    static ecc_key mine, peer;
    uint8_t secret[48], digest[32], sig[80];
    word32 secret_len = sizeof secret, sig_len = sizeof sig;
    if (wc_InitRng(&rng) != 0)
        return -1;
    /* SHA-256 of 969 bytes: the size of the HTTPS certificate of the
     * QEMU TLS figures (the TVS cache key). */
    uint64_t t0 = hal_wall_us();
    wc_Sha256Hash(bench_ctl, 969, digest);
    unsigned long k_sha = kinsn_since(t0);
    unsigned long k_gen = ecc_keygen_cost(&rng, &mine, ECC_SECP256R1, 32);
    unsigned long k_peer = ecc_keygen_cost(&rng, &peer, ECC_SECP256R1, 32);
    wc_ecc_set_rng(&mine, &rng);
    t0 = hal_wall_us();
    int rc = wc_ecc_shared_secret(&mine, &peer, secret, &secret_len);
    unsigned long k_dh = kinsn_since(t0);
    t0 = hal_wall_us();
    rc |= wc_ecc_sign_hash(digest, sizeof digest, sig, &sig_len, &rng, &mine);
    unsigned long k_sign = kinsn_since(t0);
    wc_ecc_free(&mine);
    wc_ecc_free(&peer);
    unsigned long k_gen384 = ecc_keygen_cost(&rng, &mine, ECC_SECP384R1, 48);
    wc_ecc_free(&mine);
    wc_FreeRng(&rng);
    if (rc != 0 || !k_gen || !k_peer || !k_gen384) {
        ERR("BENCH", "ECC primitives failed (%d)", rc);
        return -1;
    }
    NOT("BENCH", "primitive SHA-256 of 969 bytes: %lu kinsn", k_sha);
    NOT("BENCH", "primitive P-256 key generation: %lu kinsn", k_gen);
    NOT("BENCH", "primitive P-256 key generation, second key: %lu kinsn", k_peer);
    NOT("BENCH", "primitive P-256 ECDH shared secret: %lu kinsn", k_dh);
    NOT("BENCH", "primitive P-256 ECDSA sign: %lu kinsn", k_sign);
    NOT("BENCH", "primitive P-384 key generation (generic math): %lu kinsn", k_gen384);
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
    if (bench_encrypted(&itl_only) != 0)
        return 1;
    if (bench_tftp() != 0)
        return 1;
    return bench_primitives() == 0 ? 0 : 1;
}
