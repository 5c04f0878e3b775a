/* Named persistent blobs with atomic replace.
 *
 * Each name owns two slots (A/B) in the board's flash. A replace writes the
 * slot NOT holding the newest copy: data first, then the header, whose magic
 * word is written last. The newest slot whose header and data checksums
 * verify wins. A power cut at any byte therefore leaves the old or the new
 * content. A slot whose magic is intact but whose checksums fail cannot come
 * from a power cut: it is reported as STORAGE_CORRUPT, never as "absent", so
 * that a damaged trust list is not mistaken for "no trust list". */
#ifndef HAL_STORAGE_H
#define HAL_STORAGE_H
#include <stddef.h>
#include <stdint.h>
#include "hal/hal_flash.h"

enum storage_status {
    STORAGE_OK = 0,
    STORAGE_NOT_FOUND = 1,
    STORAGE_CORRUPT = 2,   /* present but damaged (not a power cut) */
    STORAGE_TOO_BIG = 3,   /* does not fit the caller's buffer / the slot */
    STORAGE_IO = 4,        /* device error */
    STORAGE_NO_AREA = 5,   /* name not in the layout */
};

struct storage_area {
    const char *name;
    uint32_t slot_size;    /* bytes per slot, header included */
};

struct storage {
    const struct hal_flash *flash;
    const struct storage_area *areas;
    size_t n_areas;
};

#define STORAGE_HEADER_SIZE 32u

/* Total flash bytes a layout needs. */
uint32_t storage_layout_size(const struct storage_area *areas, size_t n);
const char *storage_status_str(enum storage_status s);

enum storage_status storage_read(const struct storage *st, const char *name,
                                 uint8_t *buf, size_t cap, size_t *len);
enum storage_status storage_replace(const struct storage *st, const char *name,
                                    const uint8_t *data, size_t len);
enum storage_status storage_erase(const struct storage *st, const char *name);

/* Streaming replace for content too large for RAM (staging area):
 * begin, write in order, commit. Nothing is visible before commit. */
struct storage_writer {
    const struct storage *st;
    uint32_t slot_off;
    uint32_t slot_size;
    uint32_t seq;
    uint32_t len;
    uint32_t crc;
    int failed;
};
enum storage_status storage_write_begin(struct storage_writer *w, const struct storage *st,
                                        const char *name);
enum storage_status storage_write_chunk(struct storage_writer *w, const uint8_t *p, size_t n);
enum storage_status storage_write_commit(struct storage_writer *w);
/* Streaming read of the newest valid copy. */
enum storage_status storage_stat(const struct storage *st, const char *name, size_t *len,
                                 uint32_t *data_off);
enum storage_status storage_read_at(const struct storage *st, uint32_t data_off, uint32_t pos,
                                    uint8_t *buf, size_t n);

#endif
