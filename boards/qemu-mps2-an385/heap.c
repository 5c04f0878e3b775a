/* The board's malloc: first fit over an address-ordered free list, free
 * neighbours merged at once, and a free block at the top of the heap
 * grown in place when nothing fits.
 *
 * Why not newlib-nano's malloc: measured on the CAPF TLS session (every
 * wolfSSL allocation traced), its heap reached 39.5 KB for 24.7 KB in use
 * at most — when no free chunk fits it takes the whole request from sbrk
 * even if the free chunk at the top of the heap could have been grown, and
 * the big short-lived blocks of a handshake (8.3 KB RSA keys, the 8 KB
 * modular exponentiation table, 4.2 KB ECC keys) leave holes that small
 * long-lived blocks then split. The same trace replayed through this
 * policy needs 27.3 KB (docs/performance.md, RAM).
 *
 * Memory still comes from _sbrk (syscalls.c), so board_heap_used() is the
 * high-water mark; it never shrinks. Single-threaded (no interrupt handler
 * allocates). Replaces newlib's malloc, free, realloc, calloc and their
 * reentrant _r forms (newlib's stdio calls those). */
#include <errno.h>
#include <reent.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

void *_sbrk(ptrdiff_t incr);

struct blk {
    size_t size;      /* whole block, header included; multiple of 8 */
    struct blk *next; /* free blocks only: the next free block by address */
};
#define HDR 8u        /* payloads 8-byte aligned: the header takes 8 bytes */
#define MIN_BLK 16u   /* header + next pointer, rounded */

static struct blk *free_list; /* ordered by address */
static uint8_t *heap_end;     /* end of what _sbrk handed out */

static size_t block_size(size_t n)
{
    if (n > SIZE_MAX - HDR - 7u)
        return 0;
    size_t s = (n + HDR + 7u) & ~(size_t)7u;
    return s < MIN_BLK ? MIN_BLK : s;
}

static void *payload(struct blk *b)
{
    return (uint8_t *)b + HDR;
}

static struct blk *header(void *p)
{
    return (struct blk *)(void *)((uint8_t *)p - HDR);
}

static uint8_t *end_of(struct blk *b)
{
    return (uint8_t *)b + b->size;
}

/* More memory at the top of the heap: n bytes starting at the returned
 * address, which is heap_end before the call. */
static struct blk *grow(size_t n)
{
    /* Bug found by tests/heap (qemu.heap): a request near SIZE_MAX (e.g.
     * malloc(SIZE_MAX - 15)) gave n >= 2^31, which became a negative
     * increment, so _sbrk shrank the heap and malloc returned a block
     * overlapping live ones. No such request can be met: refuse it. */
    if (n > (size_t)PTRDIFF_MAX)
        return NULL;
    void *p = _sbrk((ptrdiff_t)n);
    if (p == (void *)-1)
        return NULL;
    if (((uintptr_t)p & 7u) != 0) /* first call only: align the start */
        return NULL;
    heap_end = (uint8_t *)p + n;
    return p;
}

void *malloc(size_t n)
{
    size_t need = block_size(n);
    if (need == 0) {
        errno = ENOMEM;
        return NULL;
    }
    struct blk **link = &free_list, *b, *last = NULL, **last_link = NULL;
    for (b = free_list; b; link = &b->next, b = b->next) {
        if (b->size >= need)
            break;
        last = b;
        last_link = link;
    }
    if (b) {
        if (b->size - need >= MIN_BLK) { /* split: the rest stays free */
            struct blk *rest = (struct blk *)(void *)((uint8_t *)b + need);
            rest->size = b->size - need;
            rest->next = b->next;
            *link = rest;
            b->size = need;
        } else {
            *link = b->next;
        }
        return payload(b);
    }
    if (last && end_of(last) == heap_end) { /* grow the top free block */
        if (!grow(need - last->size)) {
            errno = ENOMEM;
            return NULL;
        }
        *last_link = NULL; /* it was the last free block */
        last->size = need;
        return payload(last);
    }
    if (heap_end == NULL) { /* first call: the heap starts 8-byte aligned */
        uint8_t *start = _sbrk(0);
        size_t pad = (size_t)((8u - ((uintptr_t)start & 7u)) & 7u);
        if (pad && _sbrk((ptrdiff_t)pad) == (void *)-1) {
            errno = ENOMEM;
            return NULL;
        }
        heap_end = start + pad;
    }
    b = grow(need);
    if (!b) {
        errno = ENOMEM;
        return NULL;
    }
    b->size = need;
    return payload(b);
}

void free(void *p)
{
    if (!p)
        return;
    struct blk *b = header(p), *prev = NULL, *next = free_list;
    while (next && next < b) {
        prev = next;
        next = next->next;
    }
    if (next && end_of(b) == (uint8_t *)next) { /* merge with the next */
        b->size += next->size;
        b->next = next->next;
    } else {
        b->next = next;
    }
    if (prev && end_of(prev) == (uint8_t *)b) { /* and with the previous */
        prev->size += b->size;
        prev->next = b->next;
    } else if (prev) {
        prev->next = b;
    } else {
        free_list = b;
    }
}

void *realloc(void *p, size_t n)
{
    if (!p)
        return malloc(n);
    if (n == 0) {
        free(p);
        return NULL;
    }
    struct blk *b = header(p);
    size_t need = block_size(n);
    if (need != 0 && need <= b->size)
        return p; /* shrinking keeps the block */
    void *q = malloc(n);
    if (!q)
        return NULL;
    memcpy(q, p, b->size - HDR);
    free(p);
    return q;
}

void *calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = malloc(count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

void *_malloc_r(struct _reent *r, size_t n)
{
    (void)r;
    return malloc(n);
}

void _free_r(struct _reent *r, void *p)
{
    (void)r;
    free(p);
}

void *_realloc_r(struct _reent *r, void *p, size_t n)
{
    (void)r;
    return realloc(p, n);
}

void *_calloc_r(struct _reent *r, size_t count, size_t size)
{
    (void)r;
    return calloc(count, size);
}
