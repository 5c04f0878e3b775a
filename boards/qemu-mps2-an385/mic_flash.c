/* The factory-provisioned MIC region (see mic_flash.h). */
#include "mic_flash.h"

#include <string.h>

#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/sha256.h>

static int erased(const uint8_t *p, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (p[i] != p[0])
            return 0;
    return p[0] == 0x00 || p[0] == 0xFF;
}

enum mic_flash_status mic_flash_load(const struct hal_flash *f, uint8_t *buf,
                                     struct cert_pair *out)
{
    if (f->size < MIC_FLASH_OFFSET + MIC_FLASH_SIZE ||
        f->read(f->ctx, MIC_FLASH_OFFSET, buf, MIC_FLASH_HEADER) != 0)
        return MIC_FLASH_IO;
    if (memcmp(buf, "MIC1", 4) != 0)
        return erased(buf, MIC_FLASH_HEADER) ? MIC_FLASH_NONE : MIC_FLASH_DAMAGED;
    size_t cl = (size_t)buf[4] << 8 | buf[5];
    size_t kl = (size_t)buf[6] << 8 | buf[7];
    if (cl == 0 || kl == 0 || cl > CERT_DER_MAX || kl > CERT_KEY_MAX)
        return MIC_FLASH_DAMAGED;
    _Static_assert(MIC_FLASH_MAX <= MIC_FLASH_SIZE, "the region holds the largest MIC");
    if (f->read(f->ctx, MIC_FLASH_OFFSET + MIC_FLASH_HEADER, buf + MIC_FLASH_HEADER, cl + kl) != 0)
        return MIC_FLASH_IO;
    uint8_t digest[WC_SHA256_DIGEST_SIZE];
    const uint8_t *cert = buf + MIC_FLASH_HEADER;
    if (wc_Sha256Hash(cert, (word32)(cl + kl), digest) != 0 || memcmp(digest, buf + 8, 32) != 0)
        return MIC_FLASH_DAMAGED;
    *out = (struct cert_pair){cert, cl, cert + cl, kl};
    return MIC_FLASH_OK;
}
