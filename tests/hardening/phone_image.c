#include "phone_image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/asn_public.h>

#include "capf_client.h"
#include "config.h"
#include "layout.h"
#include "tvs_client.h"

void phone_image_init(struct phone_image *pi)
{
    ram_flash_init(&pi->rf, storage_layout_size(phone_storage_layout, phone_storage_layout_count));
    pi->st = (struct storage){&pi->rf.dev, phone_storage_layout, phone_storage_layout_count};
}

void phone_image_free(struct phone_image *pi)
{
    ram_flash_free(&pi->rf);
}

uint8_t *phone_image_vector(const char *rel, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", SECD_INTEROP_DIR, rel);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *p = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0)
        p = malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *len = p ? (size_t)n : 0;
    return p;
}

int phone_image_id(const char *name, struct phone_id *id)
{
    char rel[128];
    size_t n;
    snprintf(rel, sizeof rel, "keys/%s.pem", name);
    uint8_t *pem = phone_image_vector(rel, &n);
    if (!pem)
        return -1;
    int c = wc_CertPemToDer(pem, (int)n, id->cert, sizeof id->cert, CERT_TYPE);
    int k = wc_KeyPemToDer(pem, (int)n, id->key, sizeof id->key, NULL);
    free(pem);
    if (c <= 0 || k <= 0)
        return -1;
    id->cert_len = (size_t)c;
    id->key_len = (size_t)k;
    return 0;
}

static int install_list(struct trust_store *ts, enum secd_kind kind, const char *rel)
{
    size_t n;
    uint8_t *p = phone_image_vector(rel, &n);
    int rc = p && trust_store_install(ts, kind, p, n) == SECD_OK ? 0 : -1;
    free(p);
    return rc;
}

/* The TVS members of the interop config, saved by the TVS client. */
static int install_tvs_list(const struct storage *st, struct trust_store *ts)
{
    static struct phone_config cfg;
    static struct tvs_client tc;
    size_t n;
    uint8_t *xml = phone_image_vector("cnf/SEP001E7A4C11A1.cnf.xml", &n);
    int rc = xml && config_parse_buffer(&cfg, xml, n, 1, NULL, 0) == CONFIG_OK ? 0 : -1;
    free(xml);
    if (rc == 0) {
        tvs_client_init(&tc, NULL, ts, st, "8845", "001E7A4C11A1");
        tvs_client_set_servers(&tc, &cfg);
    }
    return rc == 0 && cfg.tvs_count > 0 ? 0 : -1;
}

static int install_pregen(const struct storage *st)
{
    static uint8_t key[CAPF_KEY_DER_MAX], spki[CAPF_SPKI_MAX];
    size_t kl, sl;
    const struct capf_keyspec ks = {CAPF_KEY_EC, 256};
    if (capf_key_generate(&ks, key, sizeof key, &kl, spki, sizeof spki, &sl) != CAPF_OK)
        return -1;
    return capf_pregen_store(st, &ks, key, kl);
}

int phone_image_populate(struct phone_image *pi, struct trust_store *ts, struct cert_store *cs)
{
    static struct phone_id lsc;
    const uint8_t one[4] = {1, 0, 0, 0};
    if (trust_store_load(ts, &pi->st) != 0 || cert_store_load(cs, &pi->st) != 0 ||
        phone_image_id("lsc", &lsc) != 0)
        return -1;
    int rc = storage_replace(&pi->st, "bootcount", one, sizeof one) == STORAGE_OK ? 0 : -1;
    rc |= install_list(ts, SECD_KIND_CTL, "tlv/sha1/CTLFile.tlv");
    rc |= install_list(ts, SECD_KIND_ITL, "tlv/sha1/ITLFile.tlv");
    rc |= cert_store_install_lsc(cs, lsc.cert, lsc.cert_len, lsc.key, lsc.key_len);
    rc |= install_pregen(&pi->st);
    rc |= install_tvs_list(&pi->st, ts);
    return rc;
}

uint8_t *phone_image_save(const struct phone_image *pi)
{
    uint8_t *p = malloc(pi->rf.size);
    if (p)
        memcpy(p, pi->rf.mem, pi->rf.size);
    return p;
}

void phone_image_restore(struct phone_image *pi, const uint8_t *saved)
{
    memcpy(pi->rf.mem, saved, pi->rf.size);
}

uint32_t phone_image_area(const char *name, uint32_t *slot_size)
{
    uint32_t off = 0;
    for (size_t i = 0; i < phone_storage_layout_count; i++) {
        if (strcmp(phone_storage_layout[i].name, name) == 0) {
            *slot_size = phone_storage_layout[i].slot_size;
            return off;
        }
        off += 2u * phone_storage_layout[i].slot_size;
    }
    *slot_size = 0;
    return UINT32_MAX;
}
