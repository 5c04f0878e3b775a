/* Console trace in the phone's format (secd-behaviour B9):
 *   <seq>: <LVL> <HH:MM:SS.micros> <MODULE>: <message>
 * Lines are formatted into a fixed buffer (no heap) and handed to the
 * board's console. Over-long messages are cut, never overflowed. */
#ifndef FIRMWARE_TRACE_H
#define FIRMWARE_TRACE_H
#include <stddef.h>

enum trace_level { TRACE_NOT, TRACE_WRN, TRACE_ERR, TRACE_DBG };

#define TRACE_LINE_MAX 256

void trace(enum trace_level lvl, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Formats one line into buf (for tests); returns its length. */
size_t trace_format(char *buf, size_t cap, unsigned seq, enum trace_level lvl,
                    unsigned long long wall_us, const char *module, const char *msg);
/* Debug lines are dropped unless enabled. */
void trace_enable_debug(int on);

#define NOT(mod, ...) trace(TRACE_NOT, mod, __VA_ARGS__)
#define WRN(mod, ...) trace(TRACE_WRN, mod, __VA_ARGS__)
#define ERR(mod, ...) trace(TRACE_ERR, mod, __VA_ARGS__)
#define DBG(mod, ...) trace(TRACE_DBG, mod, __VA_ARGS__)

#endif
