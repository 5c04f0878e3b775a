/* Boot self-test, signature part: the phone's own trust-list verifier
 * (secd) runs over an interop vector embedded at build time — an ITL
 * signed (RSASSA-PKCS1-v1_5, SHA-1) by an independent server-side
 * implementation — under first-use rules. It must verify, and the same
 * file with one signature bit flipped must be refused. */
#include <stdlib.h>
#include <string.h>

#include "firmware.h"
#include "secd/secd.h"
#include "trace.h"

extern const unsigned char selftest_itl[];
extern const size_t selftest_itl_len;

int firmware_selftest_signature(void)
{
    struct secd_trust none = {0};
    struct secd_decision d;
    enum secd_err e = secd_check_file(&none, SECD_KIND_ITL, selftest_itl, selftest_itl_len,
                                      "ITLFile.tlv", &d);
    if (e != SECD_OK) {
        ERR("SECD", "self-test: interop ITLFile.tlv refused: %s", secd_err_reason(e));
        return -1;
    }
    uint8_t *copy = malloc(selftest_itl_len);
    if (!copy) {
        ERR("SECD", "self-test: out of memory");
        return -1;
    }
    memcpy(copy, selftest_itl, selftest_itl_len);
    copy[d.hdr.sig_tlv_offset + 3 + d.hdr.signature.len / 2] ^= 0x01;
    e = secd_check_file(&none, SECD_KIND_ITL, copy, selftest_itl_len, "ITLFile.tlv", &d);
    free(copy);
    if (e != SECD_ERR_SIGNATURE_INVALID) {
        ERR("SECD", "self-test: tampered ITLFile.tlv not refused (%s)", secd_err_reason(e));
        return -1;
    }
    NOT("SECD", "self-test: RSA PKCS#1 v1.5 signature of interop ITLFile.tlv (%u bytes) OK",
        (unsigned)selftest_itl_len);
    return 0;
}
