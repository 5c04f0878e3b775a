/* Entropy source that seeds the DRBG. Returns 0 on success. */
#ifndef HAL_ENTROPY_H
#define HAL_ENTROPY_H
#include <stddef.h>
#include <stdint.h>

int hal_entropy(uint8_t *buf, size_t n);

#endif
