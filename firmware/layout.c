#include "layout.h"

#include "trust_store.h"

const struct storage_area phone_storage_layout[] = {
    {TRUST_AREA_CTL, TRUST_LIST_MAX + STORAGE_HEADER_SIZE},
    {TRUST_AREA_ITL, TRUST_LIST_MAX + STORAGE_HEADER_SIZE},
    {"lsc", 4096},      /* LSC certificate + private key (CAPF issue) */
    {"bootcount", 64},
};
const size_t phone_storage_layout_count =
    sizeof phone_storage_layout / sizeof phone_storage_layout[0];
