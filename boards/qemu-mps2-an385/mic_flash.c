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

enum mic_flash_status mic_flash_read(const struct hal_flash *f, uint8_t *buf, size_t cap,
                                     struct cert_pair *out)
{
    uint8_t head[MIC_FLASH_HEADER];
    if (f->size < MIC_FLASH_OFFSET + MIC_FLASH_SIZE ||
        f->read(f->ctx, MIC_FLASH_OFFSET, head, sizeof head) != 0)
        return MIC_FLASH_IO;
    if (memcmp(head, "MIC1", 4) != 0)
        return erased(head, sizeof head) ? MIC_FLASH_NONE : MIC_FLASH_DAMAGED;
    size_t cl = (size_t)head[4] << 8 | head[5];
    size_t kl = (size_t)head[6] << 8 | head[7];
    if (cl == 0 || kl == 0 || cl > CERT_DER_MAX || kl > CERT_KEY_MAX)
        return MIC_FLASH_DAMAGED;
    _Static_assert(MIC_FLASH_HEADER + CERT_DER_MAX + CERT_KEY_MAX <= MIC_FLASH_SIZE,
                   "the region holds the largest MIC");
    if (cl + kl > cap)
        return MIC_FLASH_IO; /* the caller's buffer: cert_store passes CERT_READ_MAX */
    if (f->read(f->ctx, MIC_FLASH_OFFSET + MIC_FLASH_HEADER, buf, cl + kl) != 0)
        return MIC_FLASH_IO;
    uint8_t digest[WC_SHA256_DIGEST_SIZE];
    if (wc_Sha256Hash(buf, (word32)(cl + kl), digest) != 0 || memcmp(digest, head + 8, 32) != 0)
        return MIC_FLASH_DAMAGED;
    *out = (struct cert_pair){buf, cl, buf + cl, kl, NULL};
    return MIC_FLASH_OK;
}
