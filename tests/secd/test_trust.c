/* Trust-list state machine (secd-behaviour B2, B3, B5): every state and
 * transition, filename binding, downgrade refusal, TVS hook, corruption.
 * Uses the interop vectors as the cluster's real files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vectors.h"

#define CTL_SHA1 "tlv/sha1/CTLFile.tlv"
#define ITL_SHA1 "tlv/sha1/ITLFile.tlv"
#define CNF_SGN "cnf/sha1/SEP001E7A4C11A1.cnf.xml.sgn"
#define CNF_NAME "SEP001E7A4C11A1.cnf.xml.sgn"

struct fixture {
    struct vec ctl_v, itl_v;
    struct secd_tl ctl, itl;
    struct secd_trust t;
};

static void install(struct fixture *f, const char *ctl, const char *itl)
{
    memset(f, 0, sizeof *f);
    if (ctl) {
        vec_load_tl(ctl, &f->ctl_v, &f->ctl);
        f->t.ctl = &f->ctl;
    }
    if (itl) {
        vec_load_tl(itl, &f->itl_v, &f->itl);
        f->t.itl = &f->itl;
    }
}

static void release(struct fixture *f)
{
    vec_free(&f->ctl_v);
    vec_free(&f->itl_v);
}

static enum secd_err check(const struct secd_trust *t, enum secd_kind kind, const char *rel,
                           const char *as, enum secd_anchor *anchor)
{
    struct vec v = vec_read(rel);
    struct secd_decision d;
    enum secd_err e = secd_check_file(t, kind, v.p, v.len, as, &d);
    if (anchor)
        *anchor = d.anchor;
    vec_free(&v);
    return e;
}

static void test_state_none_first_use(void **state)
{
    (void)state;
    struct fixture f;
    enum secd_anchor a;
    install(&f, NULL, NULL);
    assert_int_equal(secd_trust_state(&f.t), SECD_STATE_NONE);
    assert_int_equal(check(&f.t, SECD_KIND_CTL, CTL_SHA1, "CTLFile.tlv", &a), SECD_OK);
    assert_int_equal(a, SECD_ANCHOR_FIRST_USE);
    assert_int_equal(check(&f.t, SECD_KIND_ITL, ITL_SHA1, "ITLFile.tlv", &a), SECD_OK);
    assert_int_equal(a, SECD_ANCHOR_FIRST_USE);
    /* Blind trust really is blind: even the attacker's self-signed ITL. */
    assert_int_equal(check(&f.t, SECD_KIND_ITL, "tlv/attacker/ITLFile.tlv", "ITLFile.tlv", &a),
                     SECD_OK);
    /* ... but it must still verify against its own SAST record. */
    assert_int_equal(check(&f.t, SECD_KIND_ITL, "bad/itl-sig-byte-flip/ITLFile.tlv",
                           "ITLFile.tlv", NULL), SECD_ERR_SIGNATURE_INVALID);
    assert_int_equal(check(&f.t, SECD_KIND_ITL, "tlv/empty-crafted/ITLFile.tlv", "ITLFile.tlv",
                           NULL), SECD_ERR_NO_RECORDS);
    /* A signed config needs a trust list; an unsigned one is fine. */
    assert_int_equal(check(&f.t, SECD_KIND_SIGNED, CNF_SGN, CNF_NAME, NULL),
                     SECD_ERR_SIGNER_NOT_TRUSTED);
    assert_int_equal(secd_check_unsigned_config(&f.t), SECD_OK);
    release(&f);
}

static void test_state_ctl_only(void **state)
{
    (void)state;
    struct fixture f;
    enum secd_anchor a;
    install(&f, CTL_SHA1, NULL);
    assert_int_equal(secd_trust_state(&f.t), SECD_STATE_CTL);
    /* New CTL: signed by a SAST of the installed CTL (same tokens, other
     * hash algorithm here). */
    assert_int_equal(check(&f.t, SECD_KIND_CTL, "tlv/sha512/CTLFile.tlv", "CTLFile.tlv", &a),
                     SECD_OK);
    assert_int_equal(a, SECD_ANCHOR_CTL);
    /* Signed by the CallManager: a CCM+TFTP of the CTL, not a SAST. */
    assert_int_equal(check(&f.t, SECD_KIND_CTL, ITL_SHA1, "ITLFile.tlv", NULL),
                     SECD_ERR_SIGNER_NOT_TRUSTED);
    assert_int_equal(check(&f.t, SECD_KIND_CTL, "bad/ctl-sig-byte-flip/CTLFile.tlv",
                           "CTLFile.tlv", NULL), SECD_ERR_SIGNATURE_INVALID);
    /* ITL: verified against the CTL's CCM+TFTP record. */
    assert_int_equal(check(&f.t, SECD_KIND_ITL, ITL_SHA1, "ITLFile.tlv", &a), SECD_OK);
    assert_int_equal(a, SECD_ANCHOR_CTL);
    assert_int_equal(check(&f.t, SECD_KIND_ITL, "tlv/attacker/ITLFile.tlv", "ITLFile.tlv", NULL),
                     SECD_ERR_SIGNER_NOT_TRUSTED);
    assert_int_equal(check(&f.t, SECD_KIND_SIGNED, CNF_SGN, CNF_NAME, &a), SECD_OK);
    assert_int_equal(a, SECD_ANCHOR_CTL);
    assert_int_equal(secd_check_unsigned_config(&f.t), SECD_ERR_UNSIGNED_REFUSED);
    release(&f);
}

static void test_state_itl_only(void **state)
{
    (void)state;
    struct fixture f;
    enum secd_anchor a;
    install(&f, NULL, ITL_SHA1);
    assert_int_equal(secd_trust_state(&f.t), SECD_STATE_ITL);
    assert_int_equal(check(&f.t, SECD_KIND_ITL, "tlv/regen-tvs/ITLFile.tlv", "ITLFile.tlv", &a),
                     SECD_OK);
    assert_int_equal(a, SECD_ANCHOR_ITL);
    assert_int_equal(check(&f.t, SECD_KIND_ITL, "tlv/regen-callmanager/ITLFile.tlv",
                           "ITLFile.tlv", NULL), SECD_ERR_SIGNER_NOT_TRUSTED);
    assert_int_equal(check(&f.t, SECD_KIND_ITL, "tlv/attacker-spoof/ITLFile.tlv", "ITLFile.tlv",
                           NULL), SECD_ERR_SIGNATURE_INVALID);
    /* A first CTL is installed blindly in ITL-only state. */
    assert_int_equal(check(&f.t, SECD_KIND_CTL, CTL_SHA1, "CTLFile.tlv", &a), SECD_OK);
    assert_int_equal(a, SECD_ANCHOR_FIRST_USE);
    assert_int_equal(check(&f.t, SECD_KIND_SIGNED, CNF_SGN, CNF_NAME, &a), SECD_OK);
    assert_int_equal(a, SECD_ANCHOR_ITL);
    assert_int_equal(check(&f.t, SECD_KIND_SIGNED, "cnf/regen-callmanager/" CNF_NAME, CNF_NAME,
                           NULL), SECD_ERR_SIGNER_NOT_TRUSTED);
    assert_int_equal(secd_check_unsigned_config(&f.t), SECD_ERR_UNSIGNED_REFUSED);
    release(&f);
}

static void test_state_ctl_and_itl(void **state)
{
    (void)state;
    struct fixture f;
    enum secd_anchor a;
    install(&f, CTL_SHA1, ITL_SHA1);
    assert_int_equal(secd_trust_state(&f.t), SECD_STATE_CTL_ITL);
    assert_int_equal(check(&f.t, SECD_KIND_CTL, CTL_SHA1, "CTLFile.tlv", &a), SECD_OK);
    assert_int_equal(a, SECD_ANCHOR_CTL);
    /* The CTL is consulted first for an ITL. */
    assert_int_equal(check(&f.t, SECD_KIND_ITL, ITL_SHA1, "ITLFile.tlv", &a), SECD_OK);
    assert_int_equal(a, SECD_ANCHOR_CTL);
    assert_int_equal(check(&f.t, SECD_KIND_ITL, "tlv/attacker/ITLFile.tlv", "ITLFile.tlv", NULL),
                     SECD_ERR_SIGNER_NOT_TRUSTED);
    assert_int_equal(secd_check_unsigned_config(&f.t), SECD_ERR_UNSIGNED_REFUSED);
    release(&f);
}

/* B5: a rollback ITL verifies like any ITL, then the phone behaves as NONE. */
static void test_rollback_itl(void **state)
{
    (void)state;
    struct fixture f;
    enum secd_anchor a;
    struct vec v = vec_read("tlv/rollback/ITLFile.tlv");
    struct secd_decision d;
    install(&f, NULL, ITL_SHA1);
    assert_int_equal(secd_check_file(&f.t, SECD_KIND_ITL, v.p, v.len, "ITLFile.tlv", &d), SECD_OK);
    assert_true(d.rollback);
    vec_free(&v);
    release(&f);

    install(&f, NULL, "tlv/rollback/ITLFile.tlv");
    assert_true(f.itl.rollback);
    assert_true(secd_trust_is_blind(&f.t));
    assert_int_equal(secd_check_unsigned_config(&f.t), SECD_OK);
    assert_int_equal(check(&f.t, SECD_KIND_SIGNED, CNF_SGN, CNF_NAME, NULL), SECD_OK);
    /* The next normal ITL is accepted blindly, as in NONE... */
    f.itl.hdr.timestamp = 1795356837; /* as old as the regen-callmanager ITL */
    assert_int_equal(check(&f.t, SECD_KIND_ITL, "tlv/regen-callmanager/ITLFile.tlv",
                           "ITLFile.tlv", &a), SECD_OK);
    assert_int_equal(a, SECD_ANCHOR_FIRST_USE);
    /* ...unless it is older than the rollback ITL (replay rule). */
    f.itl.hdr.timestamp = 1795356839;
    assert_int_equal(check(&f.t, SECD_KIND_ITL, "tlv/regen-callmanager/ITLFile.tlv",
                           "ITLFile.tlv", NULL), SECD_ERR_OLDER_THAN_INSTALLED);
    release(&f);

    install(&f, NULL, ITL_SHA1);
    assert_false(f.itl.rollback);
    release(&f);
}

/* Replay rule (docs/security.md): a validly signed CTL/ITL older than the
 * installed one is refused; equal passes; a missing timestamp on either
 * side: see secd_check_file(). Vectors: sha1 lists are signed at
 * 1795356832, sha512 CTL at ...834, sha512 ITL at ...835, same keys. */
static void test_replay_refused_by_timestamp(void **state)
{
    (void)state;
    struct fixture f;
    enum secd_anchor a;
    install(&f, "tlv/sha512/CTLFile.tlv", "tlv/sha512/ITLFile.tlv");
    assert_int_equal(check(&f.t, SECD_KIND_CTL, CTL_SHA1, "CTLFile.tlv", NULL),
                     SECD_ERR_OLDER_THAN_INSTALLED);
    assert_int_equal(check(&f.t, SECD_KIND_ITL, ITL_SHA1, "ITLFile.tlv", NULL),
                     SECD_ERR_OLDER_THAN_INSTALLED);
    assert_string_equal(secd_err_reason(SECD_ERR_OLDER_THAN_INSTALLED), "older_than_installed");
    /* The same lists again (equal timestamps) pass. */
    assert_int_equal(check(&f.t, SECD_KIND_CTL, "tlv/sha512/CTLFile.tlv", "CTLFile.tlv", &a),
                     SECD_OK);
    assert_int_equal(check(&f.t, SECD_KIND_ITL, "tlv/sha512/ITLFile.tlv", "ITLFile.tlv", &a),
                     SECD_OK);
    /* A signature problem is reported before the age. */
    assert_int_equal(check(&f.t, SECD_KIND_ITL, "bad/itl-sig-byte-flip/ITLFile.tlv",
                           "ITLFile.tlv", NULL), SECD_ERR_SIGNATURE_INVALID);
    /* An installed list without a timestamp compares nothing. */
    f.itl.hdr.has_timestamp = 0;
    f.ctl.hdr.has_timestamp = 0;
    assert_int_equal(check(&f.t, SECD_KIND_CTL, CTL_SHA1, "CTLFile.tlv", NULL), SECD_OK);
    assert_int_equal(check(&f.t, SECD_KIND_ITL, ITL_SHA1, "ITLFile.tlv", NULL), SECD_OK);
    release(&f);

    /* Newer over older passes. */
    install(&f, CTL_SHA1, ITL_SHA1);
    assert_int_equal(check(&f.t, SECD_KIND_CTL, "tlv/sha512/CTLFile.tlv", "CTLFile.tlv", NULL),
                     SECD_OK);
    assert_int_equal(check(&f.t, SECD_KIND_ITL, "tlv/sha512/ITLFile.tlv", "ITLFile.tlv", NULL),
                     SECD_OK);
    release(&f);

    /* A candidate without a timestamp never replaces a timestamped list. */
    struct secd_tl cur;
    struct secd_header h;
    memset(&cur, 0, sizeof cur);
    memset(&h, 0, sizeof h);
    cur.hdr.has_timestamp = 1;
    cur.hdr.timestamp = 100;
    assert_true(secd_tl_is_replay(&cur, &h));
    h.has_timestamp = 1;
    h.timestamp = 99;
    assert_true(secd_tl_is_replay(&cur, &h));
    h.timestamp = 100;
    assert_false(secd_tl_is_replay(&cur, &h));
    h.timestamp = 101;
    assert_false(secd_tl_is_replay(&cur, &h));
    assert_false(secd_tl_is_replay(NULL, &h)); /* nothing installed: first use */

    /* After `erase trustlist` (nothing installed) the old list is taken. */
    install(&f, NULL, NULL);
    assert_int_equal(check(&f.t, SECD_KIND_ITL, ITL_SHA1, "ITLFile.tlv", &a), SECD_OK);
    assert_int_equal(a, SECD_ANCHOR_FIRST_USE);
    release(&f);
}

static void test_filename_binding(void **state)
{
    (void)state;
    struct fixture f;
    install(&f, NULL, ITL_SHA1);
    /* Per-phone trust lists may carry the generic name. */
    assert_int_equal(check(&f.t, SECD_KIND_ITL, "tlv/sha1/ITLSEP001E7A4C11A1.tlv",
                           "ITLSEP001E7A4C11A1.tlv", NULL), SECD_OK);
    assert_int_equal(check(&f.t, SECD_KIND_CTL, "tlv/sha1/CTLSEP001E7A4C11A1.tlv",
                           "CTLSEP001E7A4C11A1.tlv", NULL), SECD_OK);
    /* ...but a trust list never passes for another kind or a config. */
    assert_int_equal(check(&f.t, SECD_KIND_CTL, ITL_SHA1, "CTLFile.tlv", NULL),
                     SECD_ERR_FILENAME_MISMATCH);
    /* A config signed for another phone is refused. */
    assert_int_equal(check(&f.t, SECD_KIND_SIGNED, CNF_SGN, "SEP001E7A4C11A2.cnf.xml.sgn", NULL),
                     SECD_ERR_FILENAME_MISMATCH);
    assert_int_equal(check(&f.t, SECD_KIND_SIGNED, "bad/cnf-other-mac-renamed/" CNF_NAME,
                           CNF_NAME, NULL), SECD_ERR_FILENAME_MISMATCH);
    /* The encrypted config's name is bound too. */
    assert_int_equal(check(&f.t, SECD_KIND_SIGNED,
                           "cnf/enc-mic-sha1/SEP001E7A4C11A1.cnf.xml.enc.sgn", CNF_NAME, NULL),
                     SECD_ERR_FILENAME_MISMATCH);
    release(&f);
}

struct tvs_stub {
    int answer;
    int calls;
    uint64_t roles;
    size_t cert_len;
};

static int tvs_vouch(void *ctx, const struct secd_header *h, const uint8_t *cert, size_t len,
                     uint64_t roles, struct secd_bytes *key)
{
    (void)h;
    (void)cert;
    (void)key;
    struct tvs_stub *s = ctx;
    s->calls++;
    s->roles = roles;
    s->cert_len = len;
    return s->answer;
}

/* B4: certificate regeneration is recovered through TVS, and only then. */
static void test_tvs_hook_regeneration(void **state)
{
    (void)state;
    struct fixture f;
    enum secd_anchor a;
    struct tvs_stub stub = {0, 0, 0, 0};
    struct secd_tvs_hook hook = {&stub, tvs_vouch};
    install(&f, NULL, ITL_SHA1);
    f.t.tvs = &hook;
    assert_int_equal(check(&f.t, SECD_KIND_ITL, "tlv/regen-callmanager/ITLFile.tlv",
                           "ITLFile.tlv", NULL), SECD_ERR_SIGNER_NOT_TRUSTED);
    assert_int_equal(stub.calls, 1);
    assert_true(stub.cert_len > 0); /* the ITL's own SAST certificate was offered */
    assert_true(stub.roles & SECD_ROLE_BIT(SECD_ROLE_SAST));
    stub.answer = 1;
    assert_int_equal(check(&f.t, SECD_KIND_ITL, "tlv/regen-callmanager/ITLFile.tlv",
                           "ITLFile.tlv", &a), SECD_OK);
    assert_int_equal(a, SECD_ANCHOR_TVS);
    /* Known signers never reach TVS. */
    stub.calls = 0;
    assert_int_equal(check(&f.t, SECD_KIND_SIGNED, CNF_SGN, CNF_NAME, NULL), SECD_OK);
    assert_int_equal(stub.calls, 0);
    /* A vouched-for signer whose signature fails is still refused. */
    assert_int_equal(check(&f.t, SECD_KIND_ITL, "tlv/attacker/ITLFile.tlv", "ITLFile.tlv", NULL),
                     SECD_OK); /* attacker's ITL is self-consistent: TVS said yes */
    release(&f);
}

static void test_corrupt_store_refuses_everything(void **state)
{
    (void)state;
    struct secd_trust t = {.corrupt = 1};
    assert_int_equal(check(&t, SECD_KIND_ITL, ITL_SHA1, "ITLFile.tlv", NULL),
                     SECD_ERR_TRUST_STORE_CORRUPT);
    assert_int_equal(check(&t, SECD_KIND_CTL, CTL_SHA1, "CTLFile.tlv", NULL),
                     SECD_ERR_TRUST_STORE_CORRUPT);
    assert_int_equal(secd_check_unsigned_config(&t), SECD_ERR_TRUST_STORE_CORRUPT);
    assert_false(secd_trust_is_blind(&t));
}

static void test_oversize_refused(void **state)
{
    (void)state;
    struct fixture f;
    install(&f, NULL, ITL_SHA1);
    struct vec v = vec_read(CNF_SGN);
    uint8_t *big = calloc(1, SECD_MAX_FILE_SIZE + 1);
    assert_non_null(big);
    memcpy(big, v.p, v.len);
    struct secd_decision d;
    assert_int_equal(secd_check_file(&f.t, SECD_KIND_SIGNED, big, SECD_MAX_FILE_SIZE + 1,
                                     CNF_NAME, &d), SECD_ERR_TOO_LARGE);
    free(big);
    vec_free(&v);
    release(&f);
}

/* Every prefix of a valid file is refused, never accepted or crashed on. */
static void test_every_truncation_refused(void **state)
{
    (void)state;
    struct fixture f;
    install(&f, NULL, ITL_SHA1);
    const char *files[] = {ITL_SHA1, CNF_SGN};
    for (size_t k = 0; k < 2; k++) {
        struct vec v = vec_read(files[k]);
        enum secd_kind kind = k == 0 ? SECD_KIND_ITL : SECD_KIND_SIGNED;
        const char *name = k == 0 ? "ITLFile.tlv" : CNF_NAME;
        for (size_t n = 0; n < v.len; n += (n < 600 ? 1 : 97)) {
            uint8_t *cut = malloc(n ? n : 1);
            memcpy(cut, v.p, n);
            struct secd_decision d;
            assert_int_not_equal(secd_check_file(&f.t, kind, cut, n, name, &d), SECD_OK);
            free(cut);
        }
        vec_free(&v);
    }
    release(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_none_first_use),
        cmocka_unit_test(test_state_ctl_only),
        cmocka_unit_test(test_state_itl_only),
        cmocka_unit_test(test_state_ctl_and_itl),
        cmocka_unit_test(test_rollback_itl),
        cmocka_unit_test(test_replay_refused_by_timestamp),
        cmocka_unit_test(test_filename_binding),
        cmocka_unit_test(test_tvs_hook_regeneration),
        cmocka_unit_test(test_corrupt_store_refuses_everything),
        cmocka_unit_test(test_oversize_refused),
        cmocka_unit_test(test_every_truncation_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
