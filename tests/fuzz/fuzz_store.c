/* libFuzzer target: the persistent store at boot, from a corrupted flash.
 *
 * The image starts as a real phone's flash (firmware layout, every area
 * written by the firmware: boot counter, CTL, ITL, LSC + key, pre-generated
 * key, TVS list). The input is a list of edits: raw byte patches anywhere in
 * a slot, slot copies (within and across areas), and blobs of fuzzed
 * content written with storage_replace (valid slots holding garbage, so
 * the loaders above storage see it). Then everything the firmware loads at
 * boot reads it: storage_stat/storage_read of every area,
 * trust_store_load + trust_store_describe, cert_store_load +
 * cert_store_describe (the stored LSC is parsed as DER), capf_pregen_load,
 * the TVS list (tvs_client_init + describe).
 *
 * Invariants:
 *  - storage_stat agrees with a reference reading of the slot format
 *    (hal/storage.h): the newest slot whose header and data checksums
 *    verify wins; when a slot carries the magic word but fails a check and
 *    no slot is valid, the status is CORRUPT, never NOT_FOUND;
 *  - a trust list area that is CORRUPT marks the trust store corrupt (never
 *    "no trust list", which would mean blind trust), and a store that is
 *    not corrupt only holds lists that storage returned OK;
 *  - a damaged LSC area yields no LSC (never a certificate without its key);
 *  - recovery always works: erase trustlist all leaves NONE, not corrupt;
 *    a replace of an area (the last input byte picks it) reads back. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capf_client.h"
#include "layout.h"
#include "phone_image.h"
#include "tvs_client.h"

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            abort();                                                                               \
    } while (0)

#define SLOT_MAGIC 0x31434553u /* "SEC1", the first word of a committed slot */

struct reader {
    const uint8_t *p;
    size_t n;
};

static uint8_t u8(struct reader *r)
{
    if (!r->n)
        return 0;
    r->n--;
    return *r->p++;
}

static uint16_t u16(struct reader *r)
{
    uint16_t hi = u8(r);
    return (uint16_t)(hi << 8 | u8(r));
}

/* ---- reference reading of one area (the format of hal/storage.h) ---- */

/* Table-driven (the product's is bitwise: an independent implementation). */
static uint32_t crc_table[256];

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1u ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    while (n--)
        c = crc_table[(c ^ *p++) & 0xFFu] ^ (c >> 8);
    return ~c;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

enum ref_slot { REF_EMPTY, REF_VALID, REF_DAMAGED };

static enum ref_slot ref_slot(const uint8_t *s, const struct storage_area *a, uint32_t *seq,
                              uint32_t *len, int *tomb)
{
    if (le32(s) != SLOT_MAGIC)
        return REF_EMPTY;
    uint32_t ncrc = crc32((const uint8_t *)a->name, strlen(a->name));
    *seq = le32(s + 8);
    *len = le32(s + 12);
    *tomb = s[6] & 1;
    if (le32(s + 28) != crc32(s + 4, 24) || (s[4] | s[5] << 8) != 1 || le32(s + 20) != ncrc ||
        *len > a->slot_size - STORAGE_HEADER_SIZE ||
        crc32(s + STORAGE_HEADER_SIZE, *len) != le32(s + 16))
        return REF_DAMAGED;
    return REF_VALID;
}

/* Expected status, length and data offset of an area. */
static enum storage_status ref_area(const uint8_t *mem, uint32_t base,
                                    const struct storage_area *a, size_t *len, uint32_t *off)
{
    int newest = -1, damaged = 0, tomb[2] = {0, 0};
    uint32_t seq[2] = {0, 0}, l[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
        enum ref_slot r = ref_slot(mem + base + (size_t)i * a->slot_size, a, &seq[i], &l[i],
                                   &tomb[i]);
        damaged |= r == REF_DAMAGED;
        if (r == REF_VALID && (newest < 0 || seq[i] > seq[newest]))
            newest = i;
    }
    if (newest < 0)
        return damaged ? STORAGE_CORRUPT : STORAGE_NOT_FOUND;
    if (tomb[newest])
        return STORAGE_NOT_FOUND;
    *len = l[newest];
    *off = base + (uint32_t)newest * a->slot_size + STORAGE_HEADER_SIZE;
    return STORAGE_OK;
}

/* ---- the image and the edits ---------------------------------------- */

static struct phone_image img;
static uint8_t *pristine;
static uint8_t buf[TRUST_LIST_MAX + STORAGE_HEADER_SIZE];
static struct trust_store ts;
static struct cert_store certs;
static struct tvs_client tvs;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    crc_init();
    phone_image_init(&img);
    CHECK(phone_image_populate(&img, &ts, &certs) == 0);
    pristine = phone_image_save(&img);
    CHECK(pristine);
    return 0;
}

static uint32_t area_base(size_t i)
{
    uint32_t slot;
    return phone_image_area(phone_storage_layout[i].name, &slot);
}

static void edit(struct reader *r)
{
    uint8_t op = u8(r);
    size_t ai = u8(r) % phone_storage_layout_count;
    const struct storage_area *a = &phone_storage_layout[ai];
    uint32_t slot = area_base(ai) + (u8(r) & 1u) * a->slot_size;
    switch (op % 4) {
    case 0: { /* patch bytes, biased towards the header */
        uint32_t at = u8(r) < 128 ? u8(r) % 48u : u16(r) % a->slot_size;
        size_t n = 1u + u8(r) % 16u;
        for (size_t k = 0; k < n && at + k < a->slot_size; k++)
            img.rf.mem[slot + at + k] = u8(r);
        break;
    }
    case 1: { /* a valid slot holding fuzzed content */
        size_t n = u16(r) % (a->slot_size + 8u);
        size_t have = n < r->n ? n : r->n;
        memset(buf, 0, n < sizeof buf ? n : sizeof buf);
        memcpy(buf, r->p, have < sizeof buf ? have : sizeof buf);
        r->p += have;
        r->n -= have;
        if (n <= sizeof buf)
            (void)storage_replace(&img.st, a->name, buf, n);
        break;
    }
    case 2: { /* copy a slot over another, maybe of another area */
        size_t bi = u8(r) % phone_storage_layout_count;
        const struct storage_area *b = &phone_storage_layout[bi];
        uint32_t from = area_base(bi) + (u8(r) & 1u) * b->slot_size;
        uint32_t n = a->slot_size < b->slot_size ? a->slot_size : b->slot_size;
        memmove(img.rf.mem + slot, img.rf.mem + from, n);
        break;
    }
    case 3: (void)storage_erase(&img.st, a->name); break;
    }
}

/* ---- what the firmware reads at boot ---------------------------------- */

static void ignore_line(void *ctx, const char *s)
{
    CHECK(strlen(s) < 1024);
    (void)ctx;
}

static enum storage_status area_status[16]; /* of this input, by layout index */

static void check_storage_area(size_t i)
{
    const struct storage_area *a = &phone_storage_layout[i];
    size_t want_len = 0, len = 0;
    uint32_t want_off = 0, off = 0;
    enum storage_status want = ref_area(img.rf.mem, area_base(i), a, &want_len, &want_off);
    enum storage_status s = storage_stat(&img.st, a->name, &len, &off);
    CHECK(s == want);
    area_status[i] = s;
    if (s != STORAGE_OK)
        return;
    CHECK(len == want_len && off == want_off);
    if (a->slot_size > 8192u)
        return; /* the trust lists: trust_store_load reads them */
    CHECK(storage_read(&img.st, a->name, buf, sizeof buf, &len) == STORAGE_OK);
    CHECK(len == want_len && memcmp(buf, img.rf.mem + off, len) == 0);
    if (len)
        CHECK(storage_read(&img.st, a->name, buf, len - 1, &len) == STORAGE_TOO_BIG);
}

static enum storage_status status_of(const char *name)
{
    for (size_t i = 0; i < phone_storage_layout_count; i++)
        if (strcmp(phone_storage_layout[i].name, name) == 0)
            return area_status[i];
    abort();
}

static void check_trust_store(void)
{
    enum storage_status c = status_of(TRUST_AREA_CTL), i = status_of(TRUST_AREA_ITL);
    int bad = trust_store_load(&ts, &img.st) != 0;
    CHECK(bad == ts.trust.corrupt);
    if (c == STORAGE_CORRUPT || i == STORAGE_CORRUPT)
        CHECK(ts.trust.corrupt); /* damaged is never "no list" */
    if (!ts.trust.corrupt) {
        CHECK(ts.ctl.present ? c == STORAGE_OK : c == STORAGE_NOT_FOUND);
        CHECK(ts.itl.present ? i == STORAGE_OK : i == STORAGE_NOT_FOUND);
    }
    trust_store_describe(&ts, ignore_line, NULL);
}

static void check_certs(void)
{
    enum storage_status s = status_of(CERT_AREA_LSC);
    int rc = cert_store_load(&certs, &img.st);
    if (s == STORAGE_CORRUPT)
        CHECK(rc != 0 && !cert_store_has_lsc(&certs));
    if (cert_store_has_lsc(&certs))
        CHECK(s == STORAGE_OK && certs.lsc_key_len > 0);
    cert_store_describe(&certs, ignore_line, NULL);
    struct capf_keyspec ks;
    static uint8_t key[CAPF_KEY_DER_MAX];
    size_t kl;
    if (capf_pregen_load(&img.st, &ks, key, sizeof key, &kl) == 0)
        CHECK(status_of(CERT_AREA_NEXT_KEY) == STORAGE_OK && kl <= sizeof key);
}

static void check_tvs(void)
{
    tvs_client_init(&tvs, NULL, &ts, &img.st, "8845", "001E7A4C11A1");
    CHECK(tvs.n_servers <= CONFIG_MAX_SERVERS);
    if (tvs.n_servers)
        CHECK(status_of(TVS_AREA) == STORAGE_OK);
    tvs_client_describe(&tvs, ignore_line, NULL);
}

/* The administrator's way out works whatever the flash holds; and any
 * area (picked by the input) takes a new blob. */
static void check_recovery(size_t pick)
{
    CHECK(trust_store_erase(&ts, "all") == 0);
    CHECK(!ts.trust.corrupt && secd_trust_state(&ts.trust) == SECD_STATE_NONE);
    static const uint8_t fresh[5] = {'f', 'r', 'e', 's', 'h'};
    const char *name = phone_storage_layout[pick % phone_storage_layout_count].name;
    size_t len;
    CHECK(storage_replace(&img.st, name, fresh, sizeof fresh) == STORAGE_OK);
    CHECK(storage_read(&img.st, name, buf, sizeof buf, &len) == STORAGE_OK);
    CHECK(len == sizeof fresh && memcmp(buf, fresh, len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct reader r = {data, size};
    CHECK(phone_storage_layout_count <= sizeof area_status / sizeof area_status[0]);
    phone_image_restore(&img, pristine);
    for (int k = 0; k < 16 && r.n; k++)
        edit(&r);
    for (size_t i = 0; i < phone_storage_layout_count; i++)
        check_storage_area(i);
    uint8_t count[4];
    size_t len;
    CHECK(storage_read(&img.st, "bootcount", count, sizeof count, &len) != STORAGE_IO);
    check_trust_store();
    check_certs();
    check_tvs();
    check_recovery(size ? data[size - 1] : 0);
    return 0;
}
