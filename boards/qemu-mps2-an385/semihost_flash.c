/* struct hal_flash over a semihosted host file. Every SYS_WRITE is a host
 * write(2) in QEMU, so data survives the emulator being killed; there is no
 * host fsync through semihosting, which only a power cut of the *host*
 * would need (not a case the emulated phone can see). */
#include "semihost_flash.h"

#include "semihost.h"

/* Grows a short file to `size`: writing its last byte makes the host fill
 * the gap with zeros (a sparse file), like the host board's ftruncate. */
static int extend_to(int32_t fd, uint32_t size)
{
    int32_t len = semihost_flen(fd);
    if (len < 0)
        return -1;
    if ((uint32_t)len >= size)
        return 0;
    static const uint8_t zero;
    if (semihost_seek(fd, size - 1u) != 0)
        return -1;
    return semihost_write(fd, &zero, 1);
}

/* The host handle, opening the file on first use; -1 on failure. */
static int32_t file_fd(struct semihost_flash_file *file)
{
    if (file->fd >= 0)
        return file->fd;
    int32_t fd = semihost_open(file->path, SEMIHOST_RB_PLUS);
    if (fd < 0)
        fd = semihost_open(file->path, SEMIHOST_WB_PLUS); /* first boot: create */
    if (fd < 0)
        return -1;
    if (extend_to(fd, file->size) != 0) {
        semihost_close(fd);
        return -1;
    }
    file->fd = fd;
    return fd;
}

static int in_bounds(const struct semihost_flash_file *file, uint32_t off, size_t n)
{
    return off <= file->size && n <= file->size - off;
}

static int sf_read(void *ctx, uint32_t off, void *buf, size_t n)
{
    struct semihost_flash_file *file = ctx;
    if (!in_bounds(file, off, n))
        return -1;
    int32_t fd = file_fd(file);
    if (fd < 0 || semihost_seek(fd, off) != 0)
        return -1;
    return semihost_read(fd, buf, n);
}

static int sf_write(void *ctx, uint32_t off, const void *buf, size_t n)
{
    struct semihost_flash_file *file = ctx;
    if (!in_bounds(file, off, n))
        return -1;
    int32_t fd = file_fd(file);
    if (fd < 0 || semihost_seek(fd, off) != 0)
        return -1;
    return semihost_write(fd, buf, n);
}

static int sf_sync(void *ctx)
{
    struct semihost_flash_file *file = ctx;
    return file_fd(file) < 0 ? -1 : 0;
}

void semihost_flash_init(struct hal_flash *f, struct semihost_flash_file *file, const char *path,
                         uint32_t size)
{
    file->path = path;
    file->size = size;
    file->fd = -1;
    f->ctx = file;
    f->size = size;
    f->read = sf_read;
    f->write = sf_write;
    f->sync = sf_sync;
}
