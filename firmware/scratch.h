/* The work area: one statically allocated block of RAM for the large
 * buffers that are never needed at the same time, so that their sizes do
 * not add up in the image.
 *
 * Owners (each takes the whole area, or the front of it):
 *   - the config parser: expat's arena (firmware/config.c) for one parse;
 *   - a CAPF session: its message buffers, TLS session and the key being
 *     enrolled (firmware/capf_client.c) from connect to disconnect;
 *   - key pre-generation: the finished key on its way to flash, for the
 *     moment it takes (only while no session is connected).
 * A config is parsed before enrolment starts and after it ended, never
 * during a session, and a parse never spans two main-loop turns.
 *
 * Rule: one owner at a time. scratch_acquire hands the area to a named
 * owner or returns NULL when another owner holds it (the caller refuses
 * what it was asked to do and traces why at ERR, naming scratch_owner());
 * the owner gives it back with scratch_release. Nothing may keep a pointer
 * into the area after releasing it. Single-threaded, like the rest of the
 * firmware. No tracing here: config.c is also built alone (host tests,
 * fuzzer). */
#ifndef FIRMWARE_SCRATCH_H
#define FIRMWARE_SCRATCH_H
#include <stddef.h>

#include "config.h"

/* The area holds expat's arena (its size is measured and explained in
 * config.h); a CAPF session must fit in it (static assertion in
 * capf_client.c). */
#define SCRATCH_SIZE CONFIG_ARENA_SIZE

/* The area (8-byte aligned, at least n bytes) for owner, or NULL when it
 * is held by another owner or n is larger than SCRATCH_SIZE. owner is a
 * string literal naming the user (kept for scratch_owner). */
void *scratch_acquire(const char *owner, size_t n);

/* Gives the area back; p is what scratch_acquire returned (NULL: no-op). */
void scratch_release(const void *p);

/* Who holds the area, or NULL when it is free. */
const char *scratch_owner(void);

#endif
