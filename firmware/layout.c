#include "layout.h"

#include "boot.h"
#include "trust_store.h"
#include "tvs_client.h"

/* The boot counter comes first: tests/qemu/boot.py damages it at known
 * offsets (0 and 64). Adding an area at the end keeps existing ones. */
const struct storage_area phone_storage_layout[] = {
    {"bootcount", STORAGE_HEADER_SIZE + 32u},
    {TRUST_AREA_CTL, TRUST_LIST_MAX + STORAGE_HEADER_SIZE},
    {TRUST_AREA_ITL, TRUST_LIST_MAX + STORAGE_HEADER_SIZE},
    {"lsc", 4096},      /* LSC certificate + private key (CAPF issue) */
    {"lsckey", 2560},   /* pre-generated next LSC key pair (capf_client.c) */
    {TVS_AREA, STORAGE_HEADER_SIZE + TVS_AREA_SIZE}, /* last TVS server list (tvs_client.c) */
    {BOOT_STAGING_AREA, BOOT_STAGING_SIZE}, /* config being downloaded (boot.c) */
};
const size_t phone_storage_layout_count =
    sizeof phone_storage_layout / sizeof phone_storage_layout[0];
