/* Firmware entry shared by every board. A board's entry point (QEMU: the
 * reset handler; host: main) hands over its persistent flash, if it has
 * one, then calls firmware_main() and ends with its status. */
#ifndef FIRMWARE_FIRMWARE_H
#define FIRMWARE_FIRMWARE_H
#include "hal/hal_flash.h"

/* Exit statuses of firmware_main(). */
enum firmware_status {
    FIRMWARE_OK = 0,
    FIRMWARE_SELFTEST_FAILED = 1,
    FIRMWARE_STORAGE_FAILED = 2,
};

/* The board's flash (NULL: none). Call before firmware_main(). */
void firmware_set_flash(const struct hal_flash *flash);

/* Boots: board init, then firmware_start(). */
int firmware_main(void);
/* Banner, self-test, boot counter (for boards that initialised themselves). */
int firmware_start(void);

/* Known-answer tests of the crypto the firmware relies on; 0 when all pass.
 * Each test traces its own result. */
int firmware_selftest(void);
/* RSA signature check (PKCS#1 v1.5, SHA-256) of a known vector; 0 = pass. */
int firmware_selftest_signature(void);

#endif
