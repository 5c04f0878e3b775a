#define _GNU_SOURCE
#include "flash_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static int ff_read(void *ctx, uint32_t off, void *buf, size_t n)
{
    int fd = (int)(intptr_t)ctx;
    return pread(fd, buf, n, off) == (ssize_t)n ? 0 : -1;
}

static int ff_write(void *ctx, uint32_t off, const void *buf, size_t n)
{
    int fd = (int)(intptr_t)ctx;
    return pwrite(fd, buf, n, off) == (ssize_t)n ? 0 : -1;
}

static int ff_sync(void *ctx)
{
    return fdatasync((int)(intptr_t)ctx);
}

int flash_file_open(struct hal_flash *f, const char *path, uint32_t size)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || (sb.st_size < (off_t)size && ftruncate(fd, size) != 0)) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    f->ctx = (void *)(intptr_t)fd;
    f->size = size;
    f->read = ff_read;
    f->write = ff_write;
    f->sync = ff_sync;
    return 0;
}

void flash_file_close(struct hal_flash *f)
{
    close((int)(intptr_t)f->ctx);
}
