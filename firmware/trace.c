#include "trace.h"

#include <stdarg.h>
#include <stdio.h>

#include "hal/hal_clock.h"
#include "hal/hal_console.h"

static unsigned trace_seq;
static int trace_debug;

static const char *const level_names[] = {"NOT", "WRN", "ERR", "DBG"};

void trace_enable_debug(int on)
{
    trace_debug = on;
}

size_t trace_format(char *buf, size_t cap, unsigned seq, enum trace_level lvl,
                    unsigned long long wall_us, const char *module, const char *msg)
{
    unsigned long long secs = wall_us / 1000000u;
    unsigned micros = (unsigned)(wall_us % 1000000u);
    unsigned day_secs = (unsigned)(secs % 86400u);
    int n = snprintf(buf, cap, "%u: %s %02u:%02u:%02u.%06u %s: %s\n", seq,
                     level_names[(unsigned)lvl & 3u], day_secs / 3600u, (day_secs / 60u) % 60u,
                     day_secs % 60u, micros, module, msg);
    if (n < 0)
        return 0;
    if ((size_t)n >= cap) {
        /* Cut: keep the line terminated. */
        buf[cap - 2] = '\n';
        buf[cap - 1] = '\0';
        return cap - 1;
    }
    return (size_t)n;
}

void trace(enum trace_level lvl, const char *module, const char *fmt, ...)
{
    if (lvl == TRACE_DBG && !trace_debug)
        return;
    char msg[TRACE_LINE_MAX];
    char line[TRACE_LINE_MAX + 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t n = trace_format(line, sizeof line, ++trace_seq, lvl, hal_wall_us(), module, msg);
    hal_console_write(line, n);
}
