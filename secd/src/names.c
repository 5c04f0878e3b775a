/* Human-readable names for verdicts, roles, states. */
#include "secd/secd.h"

const char *secd_err_reason(enum secd_err e)
{
    switch (e) {
    case SECD_OK: return "ok";
    case SECD_ERR_TRUNCATED: return "truncated";
    case SECD_ERR_MALFORMED: return "malformed";
    case SECD_ERR_HEADER_LENGTH_EXCEEDS_FILE: return "header_length_exceeds_file";
    case SECD_ERR_RECORD_LENGTH_OVERRUN: return "record_length_overrun";
    case SECD_ERR_SIGNATURE_INVALID: return "signature_invalid";
    case SECD_ERR_SIGNER_NOT_TRUSTED: return "signer_not_trusted";
    case SECD_ERR_FILENAME_MISMATCH: return "filename_mismatch";
    case SECD_ERR_NO_RECORDS: return "no_records";
    case SECD_ERR_KEY_UNWRAP_FAILED: return "key_unwrap_failed";
    case SECD_ERR_PADDING_LENGTH_INVALID: return "padding_length_invalid";
    case SECD_ERR_PLAINTEXT_DIGEST_MISMATCH: return "plaintext_digest_mismatch";
    case SECD_ERR_TOO_LARGE: return "too_large";
    case SECD_ERR_UNSIGNED_REFUSED: return "unsigned_refused";
    case SECD_ERR_TRUST_STORE_CORRUPT: return "trust_store_corrupt";
    case SECD_ERR_UNSUPPORTED: return "unsupported";
    case SECD_ERR_NO_DEVICE_KEY: return "no_device_key";
    case SECD_ERR_CRYPTO: return "crypto_error";
    case SECD_ERR_OLDER_THAN_INSTALLED: return "older_than_installed";
    }
    return "unknown";
}

const char *secd_role_name(int role)
{
    switch (role) {
    case SECD_ROLE_SAST: return "System Administrator Security Token";
    case SECD_ROLE_CCM: return "CCM";
    case SECD_ROLE_CCM_TFTP: return "CCM+TFTP";
    case SECD_ROLE_TFTP: return "TFTP";
    case SECD_ROLE_CAPF: return "CAPF";
    case SECD_ROLE_APP_SERVER: return "APP-SERVER";
    case SECD_ROLE_TVS: return "TVS";
    }
    return "unknown role";
}

const char *secd_state_name(enum secd_state s)
{
    switch (s) {
    case SECD_STATE_NONE: return "NONE";
    case SECD_STATE_CTL: return "CTL only";
    case SECD_STATE_ITL: return "ITL only";
    case SECD_STATE_CTL_ITL: return "CTL + ITL";
    }
    return "?";
}

const char *secd_anchor_name(enum secd_anchor a)
{
    switch (a) {
    case SECD_ANCHOR_NONE: return "none";
    case SECD_ANCHOR_FIRST_USE: return "first use";
    case SECD_ANCHOR_CTL: return "CTL";
    case SECD_ANCHOR_ITL: return "ITL";
    case SECD_ANCHOR_TVS: return "TVS";
    }
    return "?";
}

void secd_hex(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}
