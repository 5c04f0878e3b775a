/* CAPF client: codec round trips and malformed input, the session state
 * machine fed with server messages (install / fetch / delete, the four
 * auth modes, end session reasons, retry later, connection loss), the
 * signed-data format against a reference computation, certificate/key
 * mismatch refused, and power cuts at every byte of an LSC install. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/rsa.h>
#include <wolfssl/wolfcrypt/sha.h>
#include <wolfssl/wolfcrypt/sha512.h>

#include "capf_client.h"
#include "cert_store.h"
#include "hal/hal_clock.h"
#include "ram_flash.h"
#include "secd/capf.h"

#define SID 0x0A0B0C0Du
#define DEVICE "SEP001E7A4C11A1"

/* ---- fixtures: interop PKI ---------------------------------------------- */

struct pem_id {
    uint8_t cert[4096];
    size_t cert_len;
    uint8_t key[4096];
    size_t key_len;
};

static void load_id(const char *name, struct pem_id *id)
{
    char path[512];
    static uint8_t pem[16384];
    snprintf(path, sizeof path, "%s/keys/%s.pem", SECD_INTEROP_DIR, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(pem, 1, sizeof pem, f);
    fclose(f);
    int c = wc_CertPemToDer(pem, (int)n, id->cert, sizeof id->cert, CERT_TYPE);
    int k = wc_KeyPemToDer(pem, (int)n, id->key, sizeof id->key, NULL);
    assert_true(c > 0 && k > 0);
    id->cert_len = (size_t)c;
    id->key_len = (size_t)k;
}

static struct pem_id capf_id, mic_id, lsc_id;

static int setup_pki(void **state)
{
    (void)state;
    load_id("capf", &capf_id);
    load_id("mic", &mic_id);
    load_id("lsc", &lsc_id);
    return 0;
}

/* An LSC for the public key of `subject_key` (private key DER), issued and
 * signed by the interop CAPF key, like a CAPF server does. */
static size_t issue_lsc(const uint8_t *subject_key, size_t sk_len, uint8_t *out, size_t cap)
{
    static Cert lsc;
    RsaKey ca, rsa;
    ecc_key ecc;
    WC_RNG rng;
    word32 idx = 0;
    assert_int_equal(wc_InitRng(&rng), 0);
    assert_int_equal(wc_InitRsaKey(&ca, NULL), 0);
    assert_int_equal(wc_RsaPrivateKeyDecode(capf_id.key, &idx, &ca, (word32)capf_id.key_len), 0);
    assert_int_equal(wc_InitCert(&lsc), 0);
    snprintf(lsc.subject.commonName, CTC_NAME_SIZE, "%s", DEVICE);
    lsc.sigType = CTC_SHA256wRSA;
    lsc.isCA = 0;
    assert_int_equal(wc_SetIssuerBuffer(&lsc, capf_id.cert, (int)capf_id.cert_len), 0);
    int is_rsa;
    idx = 0;
    assert_int_equal(wc_InitRsaKey(&rsa, NULL), 0);
    assert_int_equal(wc_ecc_init(&ecc), 0);
    is_rsa = wc_RsaPrivateKeyDecode(subject_key, &idx, &rsa, (word32)sk_len) == 0;
    if (!is_rsa) {
        idx = 0;
        assert_int_equal(wc_EccPrivateKeyDecode(subject_key, &idx, &ecc, (word32)sk_len), 0);
    }
    int body = wc_MakeCert(&lsc, out, (word32)cap, is_rsa ? &rsa : NULL, is_rsa ? NULL : &ecc,
                           &rng);
    assert_true(body > 0);
    int n = wc_SignCert(body, lsc.sigType, out, (word32)cap, &ca, NULL, &rng);
    assert_true(n > 0);
    wc_FreeRsaKey(&ca);
    wc_FreeRsaKey(&rsa);
    wc_ecc_free(&ecc);
    wc_FreeRng(&rng);
    return (size_t)n;
}

/* ---- server message builders ------------------------------------------------ */

static uint8_t msg[CAPF_MAX_MSG];

static size_t server_msg(uint8_t cmd, uint32_t sid, int reason)
{
    struct capf_writer w;
    capf_writer_begin(&w, msg, sizeof msg, cmd, sid);
    if (reason >= 0)
        capf_put_u8(&w, CAPF_EL_REASON, (uint8_t)reason);
    return capf_writer_end(&w);
}

static size_t auth_request(uint8_t auth)
{
    struct capf_writer w;
    capf_writer_begin(&w, msg, sizeof msg, CAPF_AUTH_REQUEST, SID);
    capf_put_u8(&w, CAPF_EL_VERSION, CAPF_PROTOCOL_VERSION);
    capf_put_u8(&w, CAPF_EL_AUTH_TYPE, auth);
    return capf_writer_end(&w);
}

static size_t keygen_request(uint8_t type, uint16_t bits, int curve)
{
    struct capf_writer w;
    capf_writer_begin(&w, msg, sizeof msg, CAPF_KEYGEN_REQUEST, SID);
    capf_put_u8(&w, CAPF_EL_KEY_TYPE, type);
    capf_put_u16(&w, CAPF_EL_KEY_SIZE, bits);
    if (curve >= 0)
        capf_put_u8(&w, CAPF_EL_CURVE, (uint8_t)curve);
    return capf_writer_end(&w);
}

static size_t store_request(const uint8_t *cert, size_t len)
{
    struct capf_writer w;
    capf_writer_begin(&w, msg, sizeof msg, CAPF_STORE_CERT_REQUEST, SID);
    capf_put_u8(&w, CAPF_EL_CERT_TYPE, CAPF_CERT_LSC);
    capf_put_cert(&w, CAPF_CERT_LSC, cert, len);
    return capf_writer_end(&w);
}

/* ---- session helpers --------------------------------------------------- */

static struct capf_session sess;
static struct capf_msg sent;
static uint8_t sent_buf[CAPF_MAX_MSG];

static void start(const struct capf_identity *lsc, const struct capf_identity *mic,
                  const char *auth)
{
    struct capf_session_config cfg;
    memset(&cfg, 0, sizeof cfg);
    snprintf(cfg.device_name, sizeof cfg.device_name, "%s", DEVICE);
    if (lsc)
        cfg.lsc = *lsc;
    if (mic)
        cfg.mic = *mic;
    if (auth)
        snprintf(cfg.auth_string, sizeof cfg.auth_string, "%s", auth);
    capf_session_init(&sess, &cfg);
}

static void feed(size_t n)
{
    assert_int_equal(capf_session_on_bytes(&sess, msg, n), n);
}

/* The next action must be SEND of `cmd`; parses it into `sent`. */
static void expect_send(uint8_t cmd)
{
    struct capf_output out;
    assert_int_equal(capf_session_poll(&sess, &out), CAPF_ACT_SEND);
    assert_int_equal(out.command, cmd);
    memcpy(sent_buf, out.data, out.len);
    assert_int_equal(capf_parse_msg(sent_buf, out.len, &sent), CAPF_OK);
    assert_int_equal(sent.h.command, cmd);
    assert_int_equal(sent.h.session_id, SID);
}

static struct capf_output expect_action(enum capf_action a)
{
    struct capf_output out;
    assert_int_equal(capf_session_poll(&sess, &out), a);
    return out;
}

static void expect_done(enum capf_outcome o, int reason)
{
    struct capf_output out = expect_action(CAPF_ACT_DONE);
    assert_int_equal(out.outcome, o);
    assert_int_equal(out.reason, reason);
    assert_int_equal(expect_action(CAPF_ACT_WAIT).outcome, CAPF_OUT_NONE);
}

static const struct capf_identity *as_identity(const struct pem_id *p, struct capf_identity *id)
{
    *id = (struct capf_identity){p->cert, p->cert_len, p->key, p->key_len};
    return id;
}

/* ---- codec ------------------------------------------------------------------ */

static void test_codec_round_trip(void **state)
{
    (void)state;
    uint8_t buf[256];
    struct capf_writer w;
    capf_writer_begin(&w, buf, sizeof buf, CAPF_AUTH_RESPONSE, 0x01020304u);
    capf_put_u8(&w, CAPF_EL_REASON, 1);
    capf_put_u16(&w, CAPF_EL_KEY_SIZE, 2048);
    capf_put_cstr(&w, CAPF_EL_DEVICE_NAME, DEVICE);
    const uint8_t der[] = {0x30, 0x03, 0x02, 0x01, 0x05};
    capf_put_cert(&w, CAPF_CERT_MIC, der, sizeof der);
    size_t n = capf_writer_end(&w);
    assert_int_equal(n, 8 + 4 + 5 + 3 + 16 + 3 + 5 + sizeof der);
    /* header bytes exactly as wire-formats section 5 */
    const uint8_t hdr[8] = {85, 2, 1, 2, 3, 4, 0, (uint8_t)(n - 8)};
    assert_memory_equal(buf, hdr, 8);
    struct capf_msg m;
    assert_int_equal(capf_parse_msg(buf, n, &m), CAPF_OK);
    assert_int_equal(capf_msg_u8(&m, CAPF_EL_REASON), 1);
    assert_int_equal(capf_msg_u16(&m, CAPF_EL_KEY_SIZE), 2048);
    assert_int_equal(m.el[CAPF_EL_DEVICE_NAME].len, 16);
    assert_string_equal((const char *)m.el[CAPF_EL_DEVICE_NAME].p, DEVICE);
    /* inner TLV: 01, len+2, 00, type, DER */
    const uint8_t *cv = m.el[CAPF_EL_CERTIFICATE].p;
    assert_int_equal(cv[0], 1);
    assert_int_equal(cv[1] << 8 | cv[2], sizeof der + 2);
    assert_int_equal(cv[3], 0);
    assert_int_equal(cv[4], CAPF_CERT_MIC);
    uint8_t type;
    const uint8_t *d;
    size_t dl;
    assert_int_equal(capf_cert_element_parse(&m.el[CAPF_EL_CERTIFICATE], &type, &d, &dl), CAPF_OK);
    assert_int_equal(type, CAPF_CERT_MIC);
    assert_int_equal(dl, sizeof der);
    assert_memory_equal(d, der, dl);
    assert_int_equal(capf_msg_u8(&m, CAPF_EL_CURVE), -1);
}

static void test_codec_malformed(void **state)
{
    (void)state;
    uint8_t b[64];
    struct capf_msg m;
    struct capf_header h;
    const uint8_t ok[] = {85, 15, 0, 0, 0, 1, 0, 4, 1, 0, 1, 1};
    assert_int_equal(capf_parse_msg(ok, sizeof ok, &m), CAPF_OK);
    for (size_t cut = 0; cut < sizeof ok; cut++)
        assert_int_not_equal(capf_parse_msg(ok, cut, &m), CAPF_OK);
    memcpy(b, ok, sizeof ok);
    b[0] = 87; /* TVS, not CAPF */
    assert_int_equal(capf_parse_msg(b, sizeof ok, &m), CAPF_ERR_PROTOCOL_ID);
    const uint8_t big[8] = {85, 9, 0, 0, 0, 1, 0xFF, 0xFF};
    assert_int_equal(capf_parse_header(big, 8, &h), CAPF_ERR_TOO_LARGE);
    const uint8_t overrun[] = {85, 15, 0, 0, 0, 1, 0, 4, 2, 0, 2, 1};
    assert_int_equal(capf_parse_msg(overrun, sizeof overrun, &m), CAPF_ERR_ELEMENT_OVERRUN);
    const uint8_t partial_tl[] = {85, 15, 0, 0, 0, 1, 0, 2, 1, 0};
    assert_int_equal(capf_parse_msg(partial_tl, sizeof partial_tl, &m), CAPF_ERR_ELEMENT_OVERRUN);
    const uint8_t dup[] = {85, 15, 0, 0, 0, 1, 0, 8, 1, 0, 1, 1, 1, 0, 1, 7};
    assert_int_equal(capf_parse_msg(dup, sizeof dup, &m), CAPF_ERR_DUPLICATE);
    const uint8_t wide[] = {85, 15, 0, 0, 0, 1, 0, 5, 1, 0, 2, 0, 1};
    assert_int_equal(capf_parse_msg(wide, sizeof wide, &m), CAPF_ERR_BAD_VALUE);
    /* unknown tags are skipped, and counted */
    const uint8_t unk[] = {85, 15, 0, 0, 0, 1, 0, 9, 99, 0, 2, 0xAA, 0xBB, 1, 0, 1, 1, 5};
    assert_int_equal(capf_parse_msg(unk, sizeof unk - 1, &m), CAPF_OK);
    assert_int_equal(m.unknown, 1);
    assert_int_equal(capf_msg_u8(&m, CAPF_EL_REASON), 1);
    /* trailing bytes beyond the body length */
    assert_int_equal(capf_parse_msg(unk, sizeof unk, &m), CAPF_ERR_BAD_VALUE);
    /* certificate element with a lying inner length */
    struct capf_value v = {(const uint8_t *)"\x01\x00\x09\x00\x01\x30", 6, 1};
    uint8_t t;
    const uint8_t *d;
    size_t dl;
    assert_int_equal(capf_cert_element_parse(&v, &t, &d, &dl), CAPF_ERR_BAD_VALUE);
    /* writer overflow is reported, never written past */
    struct capf_writer w;
    capf_writer_begin(&w, b, 12, CAPF_END_SESSION, 1);
    capf_put_cstr(&w, CAPF_EL_DEVICE_NAME, DEVICE);
    assert_int_equal(capf_writer_end(&w), 0);
}

static void test_auth_string_rule(void **state)
{
    (void)state;
    assert_true(capf_auth_string_valid("1234"));
    assert_true(capf_auth_string_valid("1234567890123456"));
    assert_false(capf_auth_string_valid("123"));
    assert_false(capf_auth_string_valid("12345678901234567"));
    assert_false(capf_auth_string_valid("12a4"));
    assert_false(capf_auth_string_valid(""));
}

static void test_cert_spki(void **state)
{
    (void)state;
    const uint8_t *spki;
    size_t len;
    assert_int_equal(capf_cert_spki(lsc_id.cert, lsc_id.cert_len, &spki, &len), CAPF_OK);
    uint8_t mine[CAPF_SPKI_MAX];
    size_t ml;
    struct capf_keyspec ks;
    assert_int_equal(capf_key_public(lsc_id.key, lsc_id.key_len, mine, sizeof mine, &ml, &ks),
                     CAPF_OK);
    assert_int_equal(ks.type, CAPF_KEY_RSA);
    assert_int_equal(ks.bits, 2048);
    assert_int_equal(len, ml);
    assert_memory_equal(spki, mine, ml);
    for (size_t cut = 0; cut < 200; cut++)
        assert_int_not_equal(capf_cert_spki(lsc_id.cert, cut, &spki, &len), CAPF_OK);
}

/* ---- signed data: reference computation --------------------------------- */

/* RSA public operation on a signature must give exactly
 * 00 01 FF..FF 00 || H(auth) with no DigestInfo. */
static void check_rsa_signed_data(const struct pem_id *id, const uint8_t *sig, size_t n,
                                  int sha512)
{
    uint8_t blob[4200], h[64], block[512];
    size_t bl = capf_auth_blob(DEVICE, id->cert, id->cert_len, blob, sizeof blob);
    int hl = sha512 ? 64 : 20;
    if (sha512)
        wc_Sha512Hash(blob, (word32)bl, h);
    else
        wc_ShaHash(blob, (word32)bl, h);
    RsaKey pub;
    word32 idx = 0;
    const uint8_t *spki;
    size_t sl;
    assert_int_equal(capf_cert_spki(id->cert, id->cert_len, &spki, &sl), CAPF_OK);
    assert_int_equal(wc_InitRsaKey(&pub, NULL), 0);
    assert_int_equal(wc_RsaPublicKeyDecode(spki, &idx, &pub, (word32)sl), 0);
    word32 out = sizeof block;
    assert_int_equal(n, 256);
    assert_int_equal(wc_RsaFunction(sig, (word32)n, block, &out, RSA_PUBLIC_DECRYPT, &pub, NULL),
                     0);
    assert_int_equal(out, 256);
    assert_int_equal(block[0], 0x00);
    assert_int_equal(block[1], 0x01);
    size_t pad_end = 256 - (size_t)hl - 1;
    for (size_t i = 2; i < pad_end; i++)
        assert_int_equal(block[i], 0xFF);
    assert_int_equal(block[pad_end], 0x00);
    assert_memory_equal(block + pad_end + 1, h, (size_t)hl);
    wc_FreeRsaKey(&pub);
}

static void test_auth_by_mic_signed_data(void **state)
{
    (void)state;
    struct capf_identity mic;
    start(NULL, as_identity(&mic_id, &mic), NULL);
    feed(auth_request(CAPF_AUTH_MIC));
    expect_send(CAPF_AUTH_RESPONSE);
    assert_int_equal(capf_msg_u8(&sent, CAPF_EL_REASON), CAPF_REASON_OK);
    assert_int_equal(capf_msg_u8(&sent, CAPF_EL_VERSION), 3);
    assert_int_equal(sent.el[CAPF_EL_PASSWORD].len, 1); /* empty string */
    uint8_t type;
    const uint8_t *d;
    size_t dl;
    assert_int_equal(capf_cert_element_parse(&sent.el[CAPF_EL_CERTIFICATE], &type, &d, &dl),
                     CAPF_OK);
    assert_int_equal(type, CAPF_CERT_MIC);
    assert_int_equal(dl, mic_id.cert_len);
    check_rsa_signed_data(&mic_id, sent.el[CAPF_EL_SIGNED_DATA].p,
                          sent.el[CAPF_EL_SIGNED_DATA].len, 0);
    const struct capf_value *s2 = &sent.el[CAPF_EL_SHA2_SIGNED_DATA];
    assert_int_equal(s2->p[0], 3);
    assert_int_equal(s2->p[1] << 8 | s2->p[2], s2->len - 3);
    check_rsa_signed_data(&mic_id, s2->p + 3, s2->len - 3u, 1);
}

static void test_auth_lsc_first_then_mic(void **state)
{
    (void)state;
    struct capf_identity lsc, mic;
    uint8_t type;
    const uint8_t *d;
    size_t dl;
    start(as_identity(&lsc_id, &lsc), as_identity(&mic_id, &mic), NULL);
    feed(auth_request(CAPF_AUTH_LSC_THEN_MIC));
    expect_send(CAPF_AUTH_RESPONSE);
    capf_cert_element_parse(&sent.el[CAPF_EL_CERTIFICATE], &type, &d, &dl);
    assert_int_equal(type, CAPF_CERT_LSC);
    check_rsa_signed_data(&lsc_id, sent.el[CAPF_EL_SIGNED_DATA].p,
                          sent.el[CAPF_EL_SIGNED_DATA].len, 0);
    start(NULL, as_identity(&mic_id, &mic), NULL); /* no LSC: MIC */
    feed(auth_request(CAPF_AUTH_LSC_THEN_MIC));
    expect_send(CAPF_AUTH_RESPONSE);
    capf_cert_element_parse(&sent.el[CAPF_EL_CERTIFICATE], &type, &d, &dl);
    assert_int_equal(type, CAPF_CERT_MIC);
}

static void test_auth_needs_missing_cert(void **state)
{
    (void)state;
    struct capf_identity lsc;
    start(as_identity(&lsc_id, &lsc), NULL, NULL); /* LSC but no MIC */
    feed(auth_request(CAPF_AUTH_MIC));
    expect_send(CAPF_AUTH_RESPONSE);
    assert_int_equal(capf_msg_u8(&sent, CAPF_EL_REASON), CAPF_REASON_INVALID);
    assert_false(sent.el[CAPF_EL_CERTIFICATE].present);
    struct capf_output out = expect_action(CAPF_ACT_DONE);
    assert_int_equal(out.outcome, CAPF_OUT_FAILED);
    assert_non_null(strstr(out.why, "no MIC"));
    start(NULL, NULL, NULL);
    feed(auth_request(CAPF_AUTH_LSC_THEN_MIC));
    expect_send(CAPF_AUTH_RESPONSE);
    out = expect_action(CAPF_ACT_DONE);
    assert_non_null(strstr(out.why, "no LSC and no MIC"));
}

static void test_ec_signed_data(void **state)
{
    (void)state;
    static uint8_t key[CAPF_KEY_DER_MAX], spki[CAPF_SPKI_MAX], sig[CAPF_SIG_MAX];
    size_t kl, sl, n;
    struct capf_keyspec ks = {CAPF_KEY_EC, 256};
    assert_int_equal(capf_key_generate(&ks, key, sizeof key, &kl, spki, sizeof spki, &sl), CAPF_OK);
    const uint8_t m[] = "SEP001E7A4C11A1";
    for (int sha512 = 0; sha512 <= 1; sha512++) {
        assert_int_equal(capf_sign(key, kl, sha512, m, sizeof m, sig, sizeof sig, &n), CAPF_OK);
        uint8_t h[64];
        int hl = sha512 ? 64 : 20;
        if (sha512)
            wc_Sha512Hash(m, sizeof m, h);
        else
            wc_ShaHash(m, sizeof m, h);
        ecc_key pub;
        word32 idx = 0;
        int ok = 0;
        wc_ecc_init(&pub);
        assert_int_equal(wc_EccPublicKeyDecode(spki, &idx, &pub, (word32)sl), 0);
        assert_int_equal(wc_ecc_verify_hash(sig, (word32)n, h, (word32)hl, &ok, &pub), 0);
        assert_int_equal(ok, 1);
        assert_int_equal(sig[0], 0x30); /* DER SEQUENCE */
        wc_ecc_free(&pub);
    }
}

/* ---- install ----------------------------------------------------------------- */

static uint8_t gen_key[CAPF_KEY_DER_MAX], gen_spki[CAPF_SPKI_MAX], cert[4096];
static size_t gen_key_len, gen_spki_len;

/* Runs auth (null string) and key generation; leaves the session waiting
 * for the store certificate request. */
static void install_until_store(uint8_t type, uint16_t bits, int curve)
{
    start(NULL, NULL, NULL);
    feed(auth_request(CAPF_AUTH_NULL_STRING));
    expect_send(CAPF_AUTH_RESPONSE);
    assert_int_equal(sent.el[CAPF_EL_PASSWORD].len, 1);
    assert_string_equal((const char *)sent.el[CAPF_EL_DEVICE_NAME].p, DEVICE);
    assert_int_equal(expect_action(CAPF_ACT_WAIT).outcome, CAPF_OUT_NONE);
    feed(keygen_request(type, bits, curve));
    struct capf_output out = expect_action(CAPF_ACT_GENERATE_KEY);
    assert_int_equal(out.key.type, type);
    capf_session_generating(&sess);
    expect_send(CAPF_REQUEST_IN_PROGRESS);
    assert_int_equal(sent.h.body_len, 0);
    assert_int_equal(capf_key_generate(&out.key, gen_key, sizeof gen_key, &gen_key_len, gen_spki,
                                       sizeof gen_spki, &gen_spki_len),
                     CAPF_OK);
    capf_session_key_ready(&sess, gen_spki, gen_spki_len);
    expect_send(CAPF_KEYGEN_RESPONSE);
    assert_int_equal(sent.el[CAPF_EL_PUBLIC_KEY].len, gen_spki_len);
    assert_memory_equal(sent.el[CAPF_EL_PUBLIC_KEY].p, gen_spki, gen_spki_len);
}

static void install_ok(uint8_t type, uint16_t bits, int curve)
{
    install_until_store(type, bits, curve);
    size_t cl = issue_lsc(gen_key, gen_key_len, cert, sizeof cert);
    feed(store_request(cert, cl));
    struct capf_output out = expect_action(CAPF_ACT_STORE_CERT);
    assert_int_equal(out.len, cl);
    assert_memory_equal(out.data, cert, cl);
    capf_session_store_done(&sess, 1);
    expect_send(CAPF_STORE_CERT_RESPONSE);
    assert_int_equal(capf_msg_u8(&sent, CAPF_EL_REASON), CAPF_REASON_OK);
    feed(server_msg(CAPF_END_SESSION, SID, 1));
    expect_done(CAPF_OUT_INSTALLED, 1);
}

static void test_install_rsa(void **state)
{
    (void)state;
    install_ok(CAPF_KEY_RSA, 1024, -1);
}

static void test_install_ec(void **state)
{
    (void)state;
    install_ok(CAPF_KEY_EC, 256, CAPF_CURVE_P256);
    install_ok(CAPF_KEY_EC, 384, CAPF_CURVE_P384);
}

static void test_install_cert_for_other_key(void **state)
{
    (void)state;
    install_until_store(CAPF_KEY_EC, 256, CAPF_CURVE_P256);
    static uint8_t other[CAPF_KEY_DER_MAX], ospki[CAPF_SPKI_MAX];
    size_t ol, osl;
    struct capf_keyspec ks = {CAPF_KEY_EC, 256};
    assert_int_equal(capf_key_generate(&ks, other, sizeof other, &ol, ospki, sizeof ospki, &osl),
                     CAPF_OK);
    size_t cl = issue_lsc(other, ol, cert, sizeof cert);
    feed(store_request(cert, cl));
    expect_send(CAPF_STORE_CERT_RESPONSE); /* refusal, no STORE action */
    assert_int_equal(capf_msg_u8(&sent, CAPF_EL_REASON), CAPF_REASON_INVALID);
    struct capf_output out = expect_action(CAPF_ACT_DONE);
    assert_int_equal(out.outcome, CAPF_OUT_FAILED);
    assert_non_null(strstr(out.why, "not for the key"));
    /* and the MIC offered as an LSC is refused too */
    install_until_store(CAPF_KEY_EC, 256, CAPF_CURVE_P256);
    feed(store_request(mic_id.cert, mic_id.cert_len));
    expect_send(CAPF_STORE_CERT_RESPONSE);
    assert_int_equal(expect_action(CAPF_ACT_DONE).outcome, CAPF_OUT_FAILED);
}

static void test_unsupported_key(void **state)
{
    (void)state;
    const struct {
        uint8_t type;
        uint16_t bits;
        int curve;
    } bad[] = {{CAPF_KEY_RSA, 512, -1}, {CAPF_KEY_RSA, 3000, -1},
               {CAPF_KEY_EC, 521, CAPF_CURVE_P521}, {7, 2048, -1}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        start(NULL, NULL, NULL);
        feed(auth_request(CAPF_AUTH_NONE));
        expect_send(CAPF_AUTH_RESPONSE);
        feed(keygen_request(bad[i].type, bad[i].bits, bad[i].curve));
        expect_send(CAPF_KEYGEN_RESPONSE);
        assert_int_equal(capf_msg_u8(&sent, CAPF_EL_REASON), CAPF_REASON_INVALID);
        assert_int_equal(expect_action(CAPF_ACT_DONE).outcome, CAPF_OUT_FAILED);
    }
}

static void test_auth_string_wait(void **state)
{
    (void)state;
    start(NULL, NULL, NULL);
    feed(auth_request(CAPF_AUTH_PASSWORD));
    expect_action(CAPF_ACT_NEED_AUTH_STRING);
    expect_action(CAPF_ACT_WAIT);
    capf_session_set_auth_string(&sess, "12"); /* too short: still waiting */
    expect_action(CAPF_ACT_WAIT);
    capf_session_set_auth_string(&sess, "20260417");
    expect_send(CAPF_AUTH_RESPONSE);
    assert_string_equal((const char *)sent.el[CAPF_EL_PASSWORD].p, "20260417");
    /* wrong password: the server ends the session with reason 7 */
    feed(server_msg(CAPF_END_SESSION, SID, CAPF_REASON_INVALID));
    expect_done(CAPF_OUT_REFUSED, CAPF_REASON_INVALID);
    /* a string entered beforehand is used at once */
    start(NULL, NULL, "5555");
    feed(auth_request(CAPF_AUTH_PASSWORD));
    expect_send(CAPF_AUTH_RESPONSE);
    assert_string_equal((const char *)sent.el[CAPF_EL_PASSWORD].p, "5555");
}

static void test_fetch_and_delete(void **state)
{
    (void)state;
    struct capf_identity lsc;
    start(as_identity(&lsc_id, &lsc), NULL, NULL);
    feed(auth_request(CAPF_AUTH_NULL_STRING));
    expect_send(CAPF_AUTH_RESPONSE);
    feed(server_msg(CAPF_FETCH_CERT_REQUEST, SID, -1));
    expect_send(CAPF_FETCH_CERT_RESPONSE);
    uint8_t type;
    const uint8_t *d;
    size_t dl;
    assert_int_equal(capf_msg_u8(&sent, CAPF_EL_REASON), 1);
    assert_int_equal(capf_cert_element_parse(&sent.el[CAPF_EL_CERTIFICATE], &type, &d, &dl),
                     CAPF_OK);
    assert_int_equal(dl, lsc_id.cert_len);
    assert_memory_equal(d, lsc_id.cert, dl);
    feed(server_msg(CAPF_DELETE_CERT_REQUEST, SID, -1));
    expect_action(CAPF_ACT_DELETE_CERT);
    capf_session_delete_done(&sess, 1);
    expect_send(CAPF_DELETE_CERT_RESPONSE);
    assert_int_equal(capf_msg_u8(&sent, CAPF_EL_REASON), 1);
    feed(server_msg(CAPF_END_SESSION, SID, 1));
    expect_done(CAPF_OUT_DELETED, 1);
    /* without an LSC both answer reason 7 */
    start(NULL, NULL, NULL);
    feed(auth_request(CAPF_AUTH_NULL_STRING));
    expect_send(CAPF_AUTH_RESPONSE);
    feed(server_msg(CAPF_FETCH_CERT_REQUEST, SID, -1));
    expect_send(CAPF_FETCH_CERT_RESPONSE);
    assert_int_equal(capf_msg_u8(&sent, CAPF_EL_REASON), 7);
    feed(server_msg(CAPF_DELETE_CERT_REQUEST, SID, -1));
    expect_send(CAPF_DELETE_CERT_RESPONSE);
    assert_int_equal(capf_msg_u8(&sent, CAPF_EL_REASON), 7);
}

static void test_end_reasons_and_retry(void **state)
{
    (void)state;
    const int reasons[] = {0, 1, 7, 9};
    const enum capf_outcome want[] = {CAPF_OUT_NOTHING_TO_DO, CAPF_OUT_NOTHING_TO_DO,
                                      CAPF_OUT_REFUSED, CAPF_OUT_REFUSED};
    for (int i = 0; i < 4; i++) {
        start(NULL, NULL, NULL);
        feed(auth_request(CAPF_AUTH_NULL_STRING));
        expect_send(CAPF_AUTH_RESPONSE);
        feed(server_msg(CAPF_END_SESSION, SID, reasons[i]));
        expect_done(want[i], reasons[i]);
    }
    start(NULL, NULL, NULL);
    struct capf_writer w;
    capf_writer_begin(&w, msg, sizeof msg, CAPF_RETRY_LATER, SID);
    const uint8_t delay[4] = {0, 0, 0, 30};
    capf_put(&w, CAPF_EL_RETRY_DELAY, delay, 4);
    feed(capf_writer_end(&w));
    struct capf_output out = expect_action(CAPF_ACT_DONE);
    assert_int_equal(out.outcome, CAPF_OUT_RETRY_LATER);
    assert_int_equal(out.retry_delay, 30);
    /* status and abort */
    start(NULL, NULL, NULL);
    feed(server_msg(CAPF_STATUS_REQUEST, SID, -1));
    expect_send(CAPF_STATUS_RESPONSE);
    feed(server_msg(CAPF_ABORT_REQUEST, SID, -1));
    expect_send(CAPF_ABORT_RESPONSE);
    assert_int_equal(expect_action(CAPF_ACT_DONE).outcome, CAPF_OUT_ABORTED);
}

static void test_protocol_errors(void **state)
{
    (void)state;
    /* session id changes after the first message */
    start(NULL, NULL, NULL);
    feed(auth_request(CAPF_AUTH_NULL_STRING));
    expect_send(CAPF_AUTH_RESPONSE);
    feed(server_msg(CAPF_END_SESSION, SID + 1, 1));
    assert_int_equal(expect_action(CAPF_ACT_DONE).outcome, CAPF_OUT_FAILED);
    /* out-of-order command */
    start(NULL, NULL, NULL);
    feed(server_msg(CAPF_STORE_CERT_REQUEST, SID, -1));
    assert_int_equal(expect_action(CAPF_ACT_DONE).outcome, CAPF_OUT_FAILED);
    /* version 2 */
    start(NULL, NULL, NULL);
    struct capf_writer w;
    capf_writer_begin(&w, msg, sizeof msg, CAPF_AUTH_REQUEST, SID);
    capf_put_u8(&w, CAPF_EL_VERSION, 2);
    capf_put_u8(&w, CAPF_EL_AUTH_TYPE, 2);
    feed(capf_writer_end(&w));
    assert_int_equal(expect_action(CAPF_ACT_DONE).outcome, CAPF_OUT_FAILED);
    /* garbage and an oversized length are refused before the body arrives */
    start(NULL, NULL, NULL);
    msg[0] = 'G';
    feed(1);
    assert_int_equal(expect_action(CAPF_ACT_DONE).outcome, CAPF_OUT_FAILED);
    start(NULL, NULL, NULL);
    const uint8_t big[8] = {85, 1, 0, 0, 0, 1, 0xFF, 0xF0};
    capf_session_on_bytes(&sess, big, 8);
    struct capf_output out = expect_action(CAPF_ACT_DONE);
    assert_non_null(strstr(out.why, "too large"));
}

static void test_byte_by_byte_and_closed(void **state)
{
    (void)state;
    start(NULL, NULL, NULL);
    size_t n = auth_request(CAPF_AUTH_NULL_STRING);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(expect_action(CAPF_ACT_WAIT).outcome, CAPF_OUT_NONE);
        capf_session_on_bytes(&sess, msg + i, 1);
    }
    expect_send(CAPF_AUTH_RESPONSE);
    capf_session_on_closed(&sess);
    expect_done(CAPF_OUT_CONNECTION_LOST, -1);
    /* end session queued just before the close is still read */
    start(NULL, NULL, NULL);
    feed(auth_request(CAPF_AUTH_NULL_STRING));
    expect_send(CAPF_AUTH_RESPONSE);
    feed(server_msg(CAPF_END_SESSION, SID, 9));
    capf_session_on_closed(&sess);
    expect_done(CAPF_OUT_REFUSED, 9);
    /* closed while generating: no store ever asked */
    install_until_store(CAPF_KEY_EC, 256, 0);
    capf_session_on_closed(&sess);
    expect_done(CAPF_OUT_CONNECTION_LOST, -1);
}

/* ---- cert store: power cut at every byte --------------------------------- */

static const struct storage_area layout[] = {{CERT_AREA_LSC, 4096}, {CERT_AREA_NEXT_KEY, 2560}};

static void test_lsc_power_cut(void **state)
{
    (void)state;
    struct ram_flash rf;
    ram_flash_init(&rf, storage_layout_size(layout, 2));
    struct storage st = {&rf.dev, layout, 2};
    static struct cert_store cs;
    memset(&cs, 0, sizeof cs);
    assert_int_equal(cert_store_load(&cs, &st), 0);
    assert_false(cert_store_has_lsc(&cs));
    /* old pair: the interop LSC; new pair: a generated key and its LSC */
    assert_int_equal(cert_store_install_lsc(&cs, lsc_id.cert, lsc_id.cert_len, lsc_id.key,
                                            lsc_id.key_len),
                     0);
    struct capf_keyspec ks = {CAPF_KEY_EC, 256};
    assert_int_equal(capf_key_generate(&ks, gen_key, sizeof gen_key, &gen_key_len, gen_spki,
                                       sizeof gen_spki, &gen_spki_len),
                     CAPF_OK);
    size_t cl = issue_lsc(gen_key, gen_key_len, cert, sizeof cert);
    uint8_t *saved = malloc(rf.size);
    memcpy(saved, rf.mem, rf.size);
    long total = -1, checked = 0, olds = 0, news = 0;
    for (long cut = 0;; cut++) {
        memcpy(rf.mem, saved, rf.size);
        ram_flash_power_restore(&rf);
        ram_flash_cut_after(&rf, cut);
        rf.written = 0;
        int rc = cert_store_install_lsc(&cs, cert, cl, gen_key, gen_key_len);
        ram_flash_power_restore(&rf);
        static struct cert_store after;
        memset(&after, 0, sizeof after);
        assert_int_equal(cert_store_load(&after, &st), 0); /* never damaged */
        assert_true(cert_store_has_lsc(&after));            /* never none */
        static uint8_t buf[CERT_READ_MAX];
        struct cert_pair got;
        assert_int_equal(cert_store_read(&after, CERT_LSC, buf, sizeof buf, &got), 0);
        int is_new = got.cert_len == cl && !memcmp(got.cert, cert, cl) &&
                     got.key_len == gen_key_len && !memcmp(got.key, gen_key, gen_key_len);
        int is_old = got.cert_len == lsc_id.cert_len &&
                     !memcmp(got.cert, lsc_id.cert, lsc_id.cert_len) &&
                     got.key_len == lsc_id.key_len && !memcmp(got.key, lsc_id.key, lsc_id.key_len);
        assert_true(is_new != is_old); /* the old pair or the new pair, whole */
        olds += is_old;
        news += is_new;
        checked++;
        if (rc == 0) {
            total = cut;
            assert_true(is_new);
            break;
        }
        assert_true(cut < 20000);
    }
    print_message("LSC install: %ld power-cut points checked (%ld old, %ld new)\n", checked, olds,
                  news);
    assert_true(total > 0 && olds > 0);
    /* delete, then a cut during a fresh install leaves none or the new one */
    assert_int_equal(cert_store_delete_lsc(&cs), 0);
    assert_false(cert_store_has_lsc(&cs));
    free(saved);
    ram_flash_free(&rf);
}

static void test_pregen_blob(void **state)
{
    (void)state;
    struct ram_flash rf;
    ram_flash_init(&rf, storage_layout_size(layout, 2));
    struct storage st = {&rf.dev, layout, 2};
    struct capf_keyspec ks = {CAPF_KEY_EC, 384}, got;
    static uint8_t k[CAPF_KEY_DER_MAX];
    size_t kl;
    assert_int_equal(capf_pregen_load(&st, &got, k, sizeof k, &kl), -1);
    assert_int_equal(capf_key_generate(&ks, gen_key, sizeof gen_key, &gen_key_len, gen_spki,
                                       sizeof gen_spki, &gen_spki_len),
                     CAPF_OK);
    assert_int_equal(capf_pregen_store(&st, &ks, gen_key, gen_key_len), 0);
    assert_int_equal(capf_pregen_load(&st, &got, k, sizeof k, &kl), 0);
    assert_int_equal(got.type, CAPF_KEY_EC);
    assert_int_equal(got.bits, 384);
    assert_int_equal(kl, gen_key_len);
    assert_memory_equal(k, gen_key, kl);
    ram_flash_free(&rf);
}

/* ---- figures ---------------------------------------------------------------- */

static void test_keygen_times(void **state)
{
    (void)state;
    const struct capf_keyspec specs[] = {{CAPF_KEY_RSA, 2048}, {CAPF_KEY_EC, 256},
                                         {CAPF_KEY_RSA, 1024}, {CAPF_KEY_EC, 384}};
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        uint32_t best = UINT32_MAX, worst = 0, sum = 0;
        const int runs = specs[i].type == CAPF_KEY_EC ? 20 : 5;
        for (int r = 0; r < runs; r++) {
            uint32_t t0 = hal_monotonic_ms();
            assert_int_equal(capf_key_generate(&specs[i], gen_key, sizeof gen_key, &gen_key_len,
                                               gen_spki, sizeof gen_spki, &gen_spki_len),
                             CAPF_OK);
            uint32_t dt = hal_monotonic_ms() - t0;
            best = dt < best ? dt : best;
            worst = dt > worst ? dt : worst;
            sum += dt;
        }
        print_message("keygen %s on host: min %u ms, mean %.1f ms, max %u ms (%d runs)\n",
                      capf_keyspec_str(&specs[i]), (unsigned)best, (double)sum / runs,
                      (unsigned)worst, runs);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codec_round_trip),
        cmocka_unit_test(test_codec_malformed),
        cmocka_unit_test(test_auth_string_rule),
        cmocka_unit_test(test_cert_spki),
        cmocka_unit_test(test_auth_by_mic_signed_data),
        cmocka_unit_test(test_auth_lsc_first_then_mic),
        cmocka_unit_test(test_auth_needs_missing_cert),
        cmocka_unit_test(test_ec_signed_data),
        cmocka_unit_test(test_install_rsa),
        cmocka_unit_test(test_install_ec),
        cmocka_unit_test(test_install_cert_for_other_key),
        cmocka_unit_test(test_unsupported_key),
        cmocka_unit_test(test_auth_string_wait),
        cmocka_unit_test(test_fetch_and_delete),
        cmocka_unit_test(test_end_reasons_and_retry),
        cmocka_unit_test(test_protocol_errors),
        cmocka_unit_test(test_byte_by_byte_and_closed),
        cmocka_unit_test(test_lsc_power_cut),
        cmocka_unit_test(test_pregen_blob),
        cmocka_unit_test(test_keygen_times),
    };
    return cmocka_run_group_tests(tests, setup_pki, NULL);
}
