/* What the phone keeps in flash: one atomic A/B area per item. */
#ifndef FIRMWARE_LAYOUT_H
#define FIRMWARE_LAYOUT_H
#include <stddef.h>

#include "hal/storage.h"

extern const struct storage_area phone_storage_layout[];
extern const size_t phone_storage_layout_count;

#endif
