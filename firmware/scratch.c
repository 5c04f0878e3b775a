/* The work area (see scratch.h). */
#include "scratch.h"

#include "asan_poison.h"

#include <stdint.h>

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
