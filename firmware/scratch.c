/* The work area (see scratch.h). */
#include "scratch.h"

#include <stdint.h>

#if defined(__SANITIZE_ADDRESS__)
#define SCRATCH_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SCRATCH_ASAN 1
#endif
#endif
#ifdef SCRATCH_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

static _Alignas(8) uint8_t area[SCRATCH_SIZE];
static const char *owner_name; /* NULL: free */

void *scratch_acquire(const char *owner, size_t n)
{
    if (owner_name != NULL || n > sizeof area)
        return NULL;
    owner_name = owner ? owner : "?";
    UNPOISON(area, n);
    return area;
}

void scratch_release(const void *p)
{
    if (p != area || owner_name == NULL)
        return;
    owner_name = NULL;
    POISON(area, sizeof area); /* under ASan: a stale pointer into it is caught */
}

const char *scratch_owner(void)
{
    return owner_name;
}
