/* Test image for the QEMU board's malloc (boards/qemu-mps2-an385/heap.c),
 * run on the Cortex-M3 under QEMU (ctest qemu.heap): the allocator is
 * linked exactly as in secd-firmware.elf, memory comes from the board's
 * _sbrk (256 KiB budget from the linker script).
 *
 * - a seeded randomized stress of malloc/free/realloc/calloc, sizes 0 to
 *   9 KiB shaped like a wolfSSL handshake (big short-lived blocks, small
 *   long-lived ones); every live block holds a pattern derived from its id,
 *   checked before free/realloc and at the end; every result is 8-byte
 *   aligned, inside the heap, and overlaps no other live block;
 * - realloc keeps the contents when growing and shrinking, realloc(NULL, n)
 *   allocates, realloc(p, 0) frees and returns NULL; calloc zeroes and
 *   refuses count * size overflow; requests near SIZE_MAX return NULL
 *   without touching the heap; free(NULL) is harmless;
 * - after everything is freed the free list has merged back into one block:
 *   a malloc of the whole used heap succeeds without growing it;
 * - exhaustion (_sbrk refuses) returns NULL and the heap stays usable.
 *
 * Prints one summary line; the exit status is the number of failed checks
 * (0: all passed), which QEMU's semihosting exit hands to ctest. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board_qemu.h"
#include "hal/hal_board.h"
#include "hal/hal_flash.h"

extern uint8_t __heap_start[], __heap_end[];

static size_t budget(void)
{
    return (size_t)((uintptr_t)__heap_end - (uintptr_t)__heap_start);
}

/* A block a broken malloc handed out for an impossible request: kept here,
 * not freed (freeing it would only spread the damage), the test has failed. */
static void *escaped;

/* The startup code hands the flash over; this image does not use it. */
void firmware_set_flash(const struct hal_flash *flash);
void firmware_set_flash(const struct hal_flash *flash)
{
    (void)flash;
}

static unsigned long failures;

#define CHECK(cond, ...)                                                                 \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            failures++;                                                                  \
            if (failures <= 20) {                                                        \
                printf("FAIL line %d: ", __LINE__);                                      \
                printf(__VA_ARGS__);                                                     \
                printf("\n");                                                            \
            }                                                                            \
        }                                                                                \
    } while (0)

/* xorshift32, fixed seed: the same sequence on every run. */
static uint32_t rng = 0x2545F491u;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static uint8_t pattern(uint32_t id, size_t off)
{
    uint32_t x = id * 2654435761u + (uint32_t)off * 40503u;
    return (uint8_t)(x ^ (x >> 8) ^ (x >> 16) ^ (x >> 24));
}

struct live {
    uint8_t *p;
    size_t n;
    uint32_t id;
};

#define SLOTS 96
static struct live slot[SLOTS];
static uint32_t next_id = 1;
static size_t live_bytes, peak_bytes;
static unsigned long ops;

static void fill(struct live *l)
{
    for (size_t i = 0; i < l->n; i++)
        l->p[i] = pattern(l->id, i);
}

static int intact(const struct live *l, size_t upto)
{
    for (size_t i = 0; i < upto; i++)
        if (l->p[i] != pattern(l->id, i))
            return 0;
    return 1;
}

/* A fresh result: aligned, inside the heap, disjoint from every other live
 * block (a zero-size block counts as one byte: its pointer is unique). */
static void check_new(int k, const uint8_t *p, size_t n)
{
    uintptr_t a = (uintptr_t)p, e = a + (n ? n : 1);
    CHECK((a & 7u) == 0, "block %p (size %lu) not 8-byte aligned", (const void *)p,
          (unsigned long)n);
    CHECK(a >= (uintptr_t)__heap_start && e <= (uintptr_t)__heap_end && e > a,
          "block %p (size %lu) outside the heap", (const void *)p, (unsigned long)n);
    for (int j = 0; j < SLOTS; j++) {
        if (j == k || !slot[j].p)
            continue;
        uintptr_t b = (uintptr_t)slot[j].p, f = b + (slot[j].n ? slot[j].n : 1);
        CHECK(e <= b || f <= a, "block %p+%lu overlaps live block %p+%lu", (const void *)p,
              (unsigned long)n, (const void *)slot[j].p, (unsigned long)slot[j].n);
    }
}

static void account(void)
{
    if (live_bytes > peak_bytes)
        peak_bytes = live_bytes;
}

static void drop(int k)
{
    struct live *l = &slot[k];
    CHECK(intact(l, l->n), "block id %lu (size %lu) damaged before free", (unsigned long)l->id,
          (unsigned long)l->n);
    free(l->p);
    live_bytes -= l->n;
    l->p = NULL;
    ops++;
}

/* Sizes shaped like a TLS handshake on the phone: mostly small records,
 * some KB-sized buffers, a few 4-9 KB keys and tables; 0 now and then. */
static size_t pick_size(void)
{
    uint32_t r = rnd() % 100;
    if (r < 3)
        return 0;
    if (r < 65)
        return 1 + rnd() % 256;
    if (r < 88)
        return 257 + rnd() % 2048;
    return 4096 + rnd() % 5121; /* up to 9216 */
}

static void do_malloc(int k, int zeroed)
{
    size_t n = pick_size();
    uint8_t *p;
    if (zeroed) {
        size_t cnt = 1, sz = n;
        if (n >= 8 && rnd() % 2) {
            cnt = n / 8;
            sz = 8;
            n = cnt * sz;
        }
        /* NOLINTNEXTLINE(clang-analyzer-optin.portability.UnixAPI): size 0 on purpose */
        p = calloc(cnt, sz);
    } else {
        /* NOLINTNEXTLINE(clang-analyzer-optin.portability.UnixAPI): size 0 on purpose */
        p = malloc(n);
    }
    ops++;
    CHECK(p != NULL, "%s(%lu) failed with %lu bytes live", zeroed ? "calloc" : "malloc",
          (unsigned long)n, (unsigned long)live_bytes);
    if (!p)
        return;
    if (zeroed)
        for (size_t i = 0; i < n; i++)
            if (p[i] != 0) {
                CHECK(0, "calloc(%lu) byte %lu not zero", (unsigned long)n, (unsigned long)i);
                break;
            }
    check_new(k, p, n);
    slot[k] = (struct live){p, n, next_id++};
    fill(&slot[k]);
    live_bytes += n;
    account();
}

static void do_realloc(int k)
{
    struct live *l = &slot[k];
    size_t n;
    switch (rnd() % 4) {
    case 0: /* shrink */
        n = l->n ? rnd() % l->n : 0;
        break;
    case 1: /* small growth: may stay in place */
        n = l->n + rnd() % 64;
        break;
    default:
        n = pick_size();
    }
    if (n == 0)
        n = 1; /* realloc(p, 0) frees: tested on its own */
    CHECK(intact(l, l->n), "block id %lu damaged before realloc", (unsigned long)l->id);
    uint8_t *q = realloc(l->p, n);
    ops++;
    CHECK(q != NULL, "realloc(%lu -> %lu) failed with %lu bytes live", (unsigned long)l->n,
          (unsigned long)n, (unsigned long)live_bytes);
    if (!q)
        return; /* the old block is still live */
    size_t keep = l->n < n ? l->n : n;
    struct live moved = {q, keep, l->id};
    CHECK(intact(&moved, keep), "realloc(%lu -> %lu) lost the contents", (unsigned long)l->n,
          (unsigned long)n);
    l->p = NULL;
    check_new(k, q, n);
    live_bytes = live_bytes - l->n + n;
    *l = (struct live){q, n, next_id++};
    fill(l);
    account();
}

static void stress(unsigned long rounds)
{
    for (unsigned long r = 0; r < rounds; r++) {
        /* slots 0-23 are the long-lived ones: rarely touched */
        int k = (int)(rnd() % SLOTS);
        if (k < 24 && rnd() % 8)
            continue;
        if (!slot[k].p) {
            if (live_bytes > 120u * 1024u)
                continue; /* stay well inside the 256 KiB budget */
            do_malloc(k, rnd() % 5 == 0);
        } else if (rnd() % 3 == 0 && live_bytes < 120u * 1024u) {
            do_realloc(k);
        } else {
            drop(k);
        }
    }
}

static int all_intact(void)
{
    int ok = 1;
    for (int k = 0; k < SLOTS; k++)
        if (slot[k].p && !intact(&slot[k], slot[k].n)) {
            CHECK(0, "block id %lu (size %lu) damaged", (unsigned long)slot[k].id,
                  (unsigned long)slot[k].n);
            ok = 0;
        }
    return ok;
}

static void free_all(void)
{
    for (int k = 0; k < SLOTS; k++)
        if (slot[k].p)
            drop(k);
}

/* Requests no heap can hold: NULL, and neither the heap nor a live block
 * changed. Run with live blocks and with a free block at the top. */
static void huge_requests(const char *when)
{
    static const size_t huge[] = {SIZE_MAX,      SIZE_MAX - 1,        SIZE_MAX - 7,
                                  SIZE_MAX - 8,  SIZE_MAX - 15,       SIZE_MAX - 16,
                                  SIZE_MAX - 64, SIZE_MAX - 4096,     SIZE_MAX / 2 + 1,
                                  SIZE_MAX / 2,  SIZE_MAX / 2 - 4096, 16u * 1024u * 1024u,
                                  300u * 1024u};
    size_t before = board_heap_used();
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        void *p = malloc(huge[i]);
        ops++;
        CHECK(p == NULL, "malloc(%lu) %s returned %p", (unsigned long)huge[i], when, p);
        if (p)
            escaped = p;
        CHECK(board_heap_used() == before, "malloc(%lu) %s moved the heap end %lu -> %lu",
              (unsigned long)huge[i], when, (unsigned long)before,
              (unsigned long)board_heap_used());
        before = board_heap_used();
        p = calloc(1, huge[i]);
        ops++;
        CHECK(p == NULL, "calloc(1, %lu) %s returned %p", (unsigned long)huge[i], when, p);
        if (p)
            escaped = p;
        CHECK(board_heap_used() == before, "calloc(1, %lu) %s moved the heap end",
              (unsigned long)huge[i], when);
        before = board_heap_used();
        for (int k = 0; k < SLOTS; k++) {
            if (!slot[k].p)
                continue;
            uint8_t *q = realloc(slot[k].p, huge[i]);
            ops++;
            CHECK(q == NULL, "realloc(p, %lu) %s returned %p", (unsigned long)huge[i], when,
                  (void *)q);
            if (q)
                escaped = q;
            CHECK(board_heap_used() == before, "realloc(p, %lu) %s moved the heap end",
                  (unsigned long)huge[i], when);
            before = board_heap_used();
            break;
        }
    }
    /* count * size overflows size_t */
    static const size_t ov[][2] = {{SIZE_MAX, 2},           {2, SIZE_MAX},
                                   {SIZE_MAX / 2 + 1, 2},   {65536, 65537},
                                   {0x10000001u, 16},       {SIZE_MAX, SIZE_MAX}};
    for (size_t i = 0; i < sizeof ov / sizeof ov[0]; i++) {
        void *p = calloc(ov[i][0], ov[i][1]);
        ops++;
        CHECK(p == NULL, "calloc(%lu, %lu) %s (overflow) returned %p", (unsigned long)ov[i][0],
              (unsigned long)ov[i][1], when, p);
        if (p)
            escaped = p;
        CHECK(board_heap_used() == before, "calloc overflow %s moved the heap end", when);
    }
    all_intact();
}

/* After everything is freed: one free block from `base` to the heap end, so
 * a malloc of all of it fits without asking _sbrk for more. */
static void check_merged(size_t base, const char *when)
{
    size_t used = board_heap_used();
    size_t n = used - base - 8u; /* 8: the block header */
    void *p = malloc(n);
    ops++;
    CHECK(p != NULL, "%s: malloc(%lu) of the whole freed heap failed", when, (unsigned long)n);
    CHECK(board_heap_used() == used, "%s: malloc(%lu) grew the heap %lu -> %lu (not merged)",
          when, (unsigned long)n, (unsigned long)used, (unsigned long)board_heap_used());
    if (p) {
        memset(p, 0xA5, n);
        free(p);
    }
}

static void semantics(void)
{
    /* free(NULL), malloc(0), calloc(0, n) */
    free(NULL);
    /* NOLINTNEXTLINE(clang-analyzer-optin.portability.UnixAPI): size 0 on purpose */
    uint8_t *z = malloc(0), *z2 = calloc(0, 16), *z3 = calloc(16, 0);
    CHECK(z && z2 && z3 && z != z2 && z2 != z3 && z != z3,
          "malloc(0)/calloc(0, n) not unique pointers (%p %p %p)", (void *)z, (void *)z2,
          (void *)z3);
    free(z);
    free(z2);
    free(z3);
    /* realloc(NULL, n) allocates; realloc(p, 0) frees and returns NULL */
    uint8_t *p = realloc(NULL, 100);
    CHECK(p != NULL && ((uintptr_t)p & 7u) == 0, "realloc(NULL, 100) = %p", (void *)p);
    if (p) {
        memset(p, 0x5A, 100);
        uintptr_t was = (uintptr_t)p; /* compared as a number only */
        uint8_t *q = realloc(p, 0);
        CHECK(q == NULL, "realloc(p, 0) returned %p (frees: NULL expected)", (void *)q);
        uint8_t *r = malloc(100);
        CHECK((uintptr_t)r == was, "the block realloc(p, 0) freed was not reused (%p, %lx)",
              (void *)r, (unsigned long)was);
        free(r);
    }
    /* grow then shrink keep the contents, step by step up to 9 KB */
    struct live l = {malloc(1), 1, next_id++};
    if (!l.p) {
        CHECK(0, "malloc(1) failed");
        return;
    }
    fill(&l);
    for (size_t n = 3; n <= 9216; n = n * 3 / 2 + 5) {
        uint8_t *q = realloc(l.p, n);
        CHECK(q != NULL, "realloc grow to %lu failed", (unsigned long)n);
        if (!q)
            break;
        l.p = q;
        CHECK(intact(&l, l.n), "realloc grow to %lu lost the contents", (unsigned long)n);
        for (size_t i = l.n; i < n; i++)
            l.p[i] = pattern(l.id, i);
        l.n = n;
    }
    while (l.n > 1) {
        size_t n = l.n / 2;
        uint8_t *q = realloc(l.p, n);
        CHECK(q != NULL, "realloc shrink to %lu failed", (unsigned long)n);
        if (!q)
            break;
        l.p = q;
        l.n = n;
        CHECK(intact(&l, l.n), "realloc shrink to %lu lost the contents", (unsigned long)n);
    }
    free(l.p);
    /* calloc over a dirty freed block still zeroes */
    uint8_t *d = malloc(4000);
    if (d) {
        memset(d, 0xFF, 4000);
        free(d);
    }
    uint8_t *c = calloc(500, 8);
    CHECK(c != NULL, "calloc(500, 8) failed");
    if (c) {
        for (size_t i = 0; i < 4000; i++)
            if (c[i]) {
                CHECK(0, "calloc(500, 8) byte %lu not zero", (unsigned long)i);
                break;
            }
        free(c);
    }
}

/* Fill the 256 KiB budget until _sbrk refuses: NULL, nothing damaged, and
 * the heap is still usable; then everything merges again. */
static void exhaustion(size_t base)
{
    unsigned long big = 0, small = 0;
    int k = 0;
    /* big blocks first, then smaller ones into what is left */
    static const size_t sizes[] = {9000, 1024, 64, 8};
    static uint8_t *chain; /* every block's first word links the previous one */
    chain = NULL;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        for (;;) {
            uint8_t *p = malloc(sizes[s]);
            ops++;
            if (!p)
                break;
            if (k < 40) { /* the first ones also go to the table */
                slot[k] = (struct live){p, sizes[s], next_id++};
                check_new(k, p, sizes[s]);
                fill(&slot[k]);
                k++;
                continue;
            }
            CHECK(((uintptr_t)p & 7u) == 0 && (uintptr_t)p >= (uintptr_t)__heap_start &&
                      (uintptr_t)p + sizes[s] <= (uintptr_t)__heap_end,
                  "block %p under exhaustion misplaced", (void *)p);
            memcpy(p, &chain, sizeof chain);
            chain = p;
            if (sizes[s] >= 1024)
                big++;
            else
                small++;
        }
    }
    size_t full = board_heap_used();
    CHECK(full <= budget(), "heap used %lu beyond the budget",
          (unsigned long)full);
    CHECK(full + 64u > budget(), "exhausted with %lu of %lu bytes used", (unsigned long)full,
          (unsigned long)budget());
    huge_requests("when exhausted");
    all_intact();
    /* still usable: a freed block is handed out again */
    if (slot[3].p) {
        uint8_t *old = slot[3].p;
        drop(3);
        uint8_t *p = malloc(9000);
        ops++;
        CHECK(p == old, "freed 9000-byte block not reused when exhausted (%p, %p)", (void *)p,
              (void *)old);
        if (p) {
            slot[3] = (struct live){p, 9000, next_id++};
            fill(&slot[3]);
        }
    }
    all_intact();
    while (chain) {
        uint8_t *prev;
        memcpy(&prev, chain, sizeof prev);
        free(chain);
        chain = prev;
    }
    free_all();
    printf("heap test: exhausted at %lu bytes (%lu big + %lu small untracked blocks)\n",
           (unsigned long)full, big, small);
    check_merged(base, "after exhaustion");
}

int firmware_main(void);
int firmware_main(void)
{
    hal_board_init(); /* the UART */
    /* stdio takes its buffer from the heap on first use: before the base */
    printf("heap test: seed 0x%08lx, heap budget %lu bytes\n", (unsigned long)rng,
           (unsigned long)budget());
    fflush(stdout);
    size_t base = board_heap_used();

    semantics();
    check_merged(base, "after semantics");

    stress(30000);
    huge_requests("with live blocks");
    /* leave a free block at the top of the heap: the grow-in-place path */
    int top = -1;
    for (int k = 0; k < SLOTS; k++)
        if (slot[k].p && (top < 0 || slot[k].p > slot[top].p))
            top = k;
    if (top >= 0)
        drop(top);
    huge_requests("with a free top block");
    stress(30000);
    all_intact();
    free_all();
    check_merged(base, "after stress");

    stress(20000);
    free_all();
    check_merged(base, "after second stress");
    size_t high_water = board_heap_used();

    exhaustion(base);

    printf("heap test: %lu operations, peak live %lu bytes, heap high-water %lu bytes before "
           "exhaustion, %lu failed checks\n",
           ops, (unsigned long)peak_bytes, (unsigned long)high_water, failures);
    fflush(stdout);
    return failures > 125 ? 125 : (int)failures;
}
