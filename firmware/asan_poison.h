/* POISON/UNPOISON: mark memory of our own arenas unusable/usable for
 * AddressSanitizer (the fuzz preset), so a use after release is caught
 * although the bytes stay in a static array. No-ops in other builds. */
#ifndef SECD_ASAN_POISON_H
#define SECD_ASAN_POISON_H

#if defined(__SANITIZE_ADDRESS__)
#define SECD_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SECD_ASAN 1
#endif
#endif
#ifdef SECD_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#endif
