/* The manufacturer certificate (MIC) of the QEMU phone, provisioned in its
 * flash image at the factory: a read-only region at the END of the
 * semihosted flash (flash.bin), outside the storage layout the firmware
 * writes. A real board keeps it in OTP or a write-protected sector; here
 * the factory step is `tests/qemu/phone_qemu.py` (provision_mic) writing
 * it into flash.bin before the first boot.
 *
 * Region (MIC_FLASH_SIZE bytes at MIC_FLASH_OFFSET), big-endian fields:
 *   "MIC1" | u16 certificate length | u16 key length |
 *   SHA-256 of (certificate || key) | certificate DER | private key DER
 * The key DER is the PEM body of the phone's key file, as
 * `secd-phone --mic` reads it (PKCS#1, SEC1 or PKCS#8). Erased flash
 * (zeros or 0xFF) is "no MIC"; anything else that does not check out is
 * reported as damaged and not used. */
#ifndef QEMU_MIC_FLASH_H
#define QEMU_MIC_FLASH_H
#include <stddef.h>
#include <stdint.h>

#include "cert_store.h"
#include "hal/hal_flash.h"
#include "semihost_flash.h"

#define MIC_FLASH_SIZE 8192u
#define MIC_FLASH_OFFSET (QEMU_FLASH_SIZE - MIC_FLASH_SIZE)
#define MIC_FLASH_HEADER (4u + 2u + 2u + 32u)

enum mic_flash_status { MIC_FLASH_OK, MIC_FLASH_NONE, MIC_FLASH_DAMAGED, MIC_FLASH_IO };

/* Reads the certificate and key into buf (cap bytes; CERT_READ_MAX always
 * suffices) and checks them against the region's SHA-256; on MIC_FLASH_OK,
 * out points into buf. The phone keeps no RAM copy: cert_store calls this
 * (through phone_secure.c's reader) each time the MIC is used. */
enum mic_flash_status mic_flash_read(const struct hal_flash *f, uint8_t *buf, size_t cap,
                                     struct cert_pair *out);

#endif
