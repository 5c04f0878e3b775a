/* Atomic named blobs on a raw flash region: see hal/storage.h. */
#include "hal/storage.h"

#include <string.h>

#define SLOT_MAGIC 0x31434553u /* "SEC1" little-endian */
#define SLOT_VERSION 1u
#define FLAG_TOMBSTONE 1u
#define COPY_CHUNK 256u

enum slot_state { SLOT_EMPTY, SLOT_VALID, SLOT_DAMAGED, SLOT_IOERR };

struct slot_info {
    enum slot_state state;
    uint32_t seq;
    uint32_t len;
    uint16_t flags;
};

/* CRC-32 (IEEE, reflected), four bits per step from a 16-entry table: a
 * quarter of the bitwise loop's instructions for 64 bytes of table. Every
 * load and replace runs it over the slots' data (a trust list is checked
 * several times while it installs). */
static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
    static const uint32_t nibble[16] = {
        0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
        0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
        0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
    };
    crc = ~crc;
    while (n--) {
        crc ^= *p++;
        crc = (crc >> 4) ^ nibble[crc & 15u];
        crc = (crc >> 4) ^ nibble[crc & 15u];
    }
    return ~crc;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint32_t storage_layout_size(const struct storage_area *areas, size_t n)
{
    uint32_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += 2u * areas[i].slot_size;
    return total;
}

const char *storage_status_str(enum storage_status s)
{
    switch (s) {
    case STORAGE_OK: return "ok";
    case STORAGE_NOT_FOUND: return "not found";
    case STORAGE_CORRUPT: return "corrupt";
    case STORAGE_TOO_BIG: return "too big";
    case STORAGE_IO: return "I/O error";
    case STORAGE_NO_AREA: return "no such area";
    }
    return "?";
}

/* Finds the area of a name; sets the offset of its first slot. */
static const struct storage_area *find_area(const struct storage *st, const char *name,
                                            uint32_t *off)
{
    uint32_t o = 0;
    for (size_t i = 0; i < st->n_areas; i++) {
        if (strcmp(st->areas[i].name, name) == 0) {
            *off = o;
            return &st->areas[i];
        }
        o += 2u * st->areas[i].slot_size;
    }
    return NULL;
}

static uint32_t name_crc(const struct storage_area *a)
{
    return crc32_update(0, (const uint8_t *)a->name, strlen(a->name));
}

static int data_crc(const struct storage *st, uint32_t off, uint32_t len, uint32_t *crc)
{
    uint8_t buf[COPY_CHUNK];
    uint32_t c = 0;
    while (len) {
        size_t n = len < COPY_CHUNK ? len : COPY_CHUNK;
        if (st->flash->read(st->flash->ctx, off, buf, n) != 0)
            return -1;
        c = crc32_update(c, buf, n);
        off += (uint32_t)n;
        len -= (uint32_t)n;
    }
    *crc = c;
    return 0;
}

static struct slot_info inspect_slot(const struct storage *st, const struct storage_area *a,
                                     uint32_t off)
{
    struct slot_info si = {SLOT_EMPTY, 0, 0, 0};
    uint8_t h[STORAGE_HEADER_SIZE];
    if (st->flash->read(st->flash->ctx, off, h, sizeof h) != 0) {
        si.state = SLOT_IOERR;
        return si;
    }
    if (get32(h) != SLOT_MAGIC)
        return si; /* never completed: the magic word is written last */
    si.state = SLOT_DAMAGED;
    if (get32(h + 28) != crc32_update(0, h + 4, 24))
        return si;
    if ((h[4] | h[5] << 8) != SLOT_VERSION || get32(h + 20) != name_crc(a))
        return si;
    si.flags = (uint16_t)(h[6] | h[7] << 8);
    si.seq = get32(h + 8);
    si.len = get32(h + 12);
    if (si.len > a->slot_size - STORAGE_HEADER_SIZE)
        return si;
    uint32_t c;
    if (data_crc(st, off + STORAGE_HEADER_SIZE, si.len, &c) != 0) {
        si.state = SLOT_IOERR;
        return si;
    }
    if (c != get32(h + 16))
        return si;
    si.state = SLOT_VALID;
    return si;
}

/* Picks the newest valid slot (index in *newest, -1 if none) and reports
 * what the area holds. */
static enum storage_status locate(const struct storage *st, const char *name,
                                  const struct storage_area **area, uint32_t *base,
                                  struct slot_info si[2], int *newest)
{
    *area = find_area(st, name, base);
    if (!*area)
        return STORAGE_NO_AREA;
    *newest = -1;
    int damaged = 0;
    for (int i = 0; i < 2; i++) {
        si[i] = inspect_slot(st, *area, *base + (uint32_t)i * (*area)->slot_size);
        if (si[i].state == SLOT_IOERR)
            return STORAGE_IO;
        if (si[i].state == SLOT_DAMAGED)
            damaged = 1;
        if (si[i].state == SLOT_VALID && (*newest < 0 || si[i].seq > si[*newest].seq))
            *newest = i;
    }
    if (*newest < 0)
        return damaged ? STORAGE_CORRUPT : STORAGE_NOT_FOUND;
    return (si[*newest].flags & FLAG_TOMBSTONE) ? STORAGE_NOT_FOUND : STORAGE_OK;
}

enum storage_status storage_stat(const struct storage *st, const char *name, size_t *len,
                                 uint32_t *data_off)
{
    const struct storage_area *a;
    uint32_t base;
    struct slot_info si[2];
    int newest;
    enum storage_status s = locate(st, name, &a, &base, si, &newest);
    if (s != STORAGE_OK)
        return s;
    *len = si[newest].len;
    *data_off = base + (uint32_t)newest * a->slot_size + STORAGE_HEADER_SIZE;
    return STORAGE_OK;
}

enum storage_status storage_read_at(const struct storage *st, uint32_t data_off, uint32_t pos,
                                    uint8_t *buf, size_t n)
{
    return st->flash->read(st->flash->ctx, data_off + pos, buf, n) == 0 ? STORAGE_OK : STORAGE_IO;
}

enum storage_status storage_read(const struct storage *st, const char *name, uint8_t *buf,
                                 size_t cap, size_t *len)
{
    uint32_t off;
    enum storage_status s = storage_stat(st, name, len, &off);
    if (s != STORAGE_OK)
        return s;
    if (*len > cap)
        return STORAGE_TOO_BIG;
    return storage_read_at(st, off, 0, buf, *len);
}

static enum storage_status write_header(struct storage_writer *w, uint16_t flags,
                                        const struct storage_area *a)
{
    const struct hal_flash *f = w->st->flash;
    uint8_t h[STORAGE_HEADER_SIZE];
    memset(h, 0, sizeof h);
    h[4] = (uint8_t)SLOT_VERSION;
    h[6] = (uint8_t)flags;
    h[7] = (uint8_t)(flags >> 8);
    put32(h + 8, w->seq);
    put32(h + 12, w->len);
    put32(h + 16, w->crc);
    put32(h + 20, name_crc(a));
    put32(h + 28, crc32_update(0, h + 4, 24));
    put32(h, SLOT_MAGIC);
    /* Everything but the magic first; the magic word commits the slot. */
    if (f->sync(f->ctx) != 0 ||
        f->write(f->ctx, w->slot_off + 4, h + 4, sizeof h - 4) != 0 ||
        f->sync(f->ctx) != 0 ||
        f->write(f->ctx, w->slot_off, h, 4) != 0 ||
        f->sync(f->ctx) != 0)
        return STORAGE_IO;
    return STORAGE_OK;
}

enum storage_status storage_write_begin(struct storage_writer *w, const struct storage *st,
                                        const char *name)
{
    const struct storage_area *a;
    uint32_t base;
    struct slot_info si[2];
    int newest;
    memset(w, 0, sizeof *w);
    w->st = st;
    enum storage_status s = locate(st, name, &a, &base, si, &newest);
    if (s == STORAGE_NO_AREA || s == STORAGE_IO)
        return s;
    int target = newest < 0 ? 0 : 1 - newest;
    w->slot_off = base + (uint32_t)target * a->slot_size;
    w->slot_size = a->slot_size;
    w->seq = newest < 0 ? 1 : si[newest].seq + 1;
    if (newest < 0) {
        /* Continue numbering above any damaged copy. */
        for (int i = 0; i < 2; i++)
            if (si[i].state == SLOT_DAMAGED && si[i].seq >= w->seq)
                w->seq = si[i].seq + 1;
    }
    return STORAGE_OK;
}

enum storage_status storage_write_chunk(struct storage_writer *w, const uint8_t *p, size_t n)
{
    if (w->failed)
        return STORAGE_IO;
    if (n > w->slot_size - STORAGE_HEADER_SIZE - w->len) {
        w->failed = 1;
        return STORAGE_TOO_BIG;
    }
    const struct hal_flash *f = w->st->flash;
    if (n && f->write(f->ctx, w->slot_off + STORAGE_HEADER_SIZE + w->len, p, n) != 0) {
        w->failed = 1;
        return STORAGE_IO;
    }
    w->crc = crc32_update(w->crc, p, n);
    w->len += (uint32_t)n;
    return STORAGE_OK;
}

static const struct storage_area *area_of_writer(const struct storage_writer *w)
{
    uint32_t o = 0;
    for (size_t i = 0; i < w->st->n_areas; i++) {
        uint32_t next = o + 2u * w->st->areas[i].slot_size;
        if (w->slot_off >= o && w->slot_off < next)
            return &w->st->areas[i];
        o = next;
    }
    return NULL;
}

enum storage_status storage_write_commit(struct storage_writer *w)
{
    if (w->failed)
        return STORAGE_IO;
    return write_header(w, 0, area_of_writer(w));
}

enum storage_status storage_replace(const struct storage *st, const char *name,
                                    const uint8_t *data, size_t len)
{
    struct storage_writer w;
    enum storage_status s = storage_write_begin(&w, st, name);
    if (s == STORAGE_OK)
        s = storage_write_chunk(&w, data, len);
    if (s == STORAGE_OK)
        s = storage_write_commit(&w);
    return s;
}

enum storage_status storage_erase(const struct storage *st, const char *name)
{
    struct storage_writer w;
    enum storage_status s = storage_write_begin(&w, st, name);
    if (s != STORAGE_OK)
        return s;
    return write_header(&w, FLAG_TOMBSTONE, area_of_writer(&w));
}
