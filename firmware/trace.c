#include "trace.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hal/hal_clock.h"
#include "hal/hal_console.h"

static unsigned trace_seq;
static int trace_debug;

static const char *const level_names[] = {"NOT", "WRN", "ERR", "DBG"};

void trace_enable_debug(int on)
{
    trace_debug = on;
}

/* The line is put together by hand, not with snprintf: a decision of the
 * TVS client prints eight lines, and newlib-nano's snprintf with 64-bit
 * divisions for the timestamp cost 5.4 k instructions a line on the
 * Cortex-M3 (docs/performance.md). Same bytes as
 * "%u: %s %02u:%02u:%02u.%06u %s: %s\n", cut like snprintf would. */
struct line_out {
    char *buf;
    size_t cap, n; /* n counts what the whole line would take */
};

static void put(struct line_out *o, const char *s, size_t len)
{
    if (o->n + 1 < o->cap) {
        size_t room = o->cap - 1 - o->n;
        memcpy(o->buf + o->n, s, len < room ? len : room);
    }
    o->n += len;
}

/* v in decimal, at least `width` digits (zero-padded). */
static void put_uint(struct line_out *o, unsigned v, unsigned width)
{
    char tmp[10];
    size_t n = sizeof tmp;
    do {
        tmp[--n] = (char)('0' + v % 10u);
        v /= 10u;
    } while ((v || sizeof tmp - n < width) && n > 0);
    put(o, tmp + n, sizeof tmp - n);
}

size_t trace_format(char *buf, size_t cap, unsigned seq, enum trace_level lvl,
                    unsigned long long wall_us, const char *module, const char *msg)
{
    struct line_out o = {buf, cap, 0};
    if (cap < 2) {
        if (cap)
            buf[0] = '\0';
        return 0;
    }
    /* One 64-bit division; the seconds of the day in 32 bits while the
     * seconds since 1970 fit (until 2106). */
    unsigned long long secs = wall_us / 1000000u;
    unsigned micros = (unsigned)(wall_us - secs * 1000000u);
    unsigned day_secs = secs >> 32 ? (unsigned)(secs % 86400u) : (unsigned)secs % 86400u;
    put_uint(&o, seq, 1);
    put(&o, ": ", 2);
    put(&o, level_names[(unsigned)lvl & 3u], 3);
    put(&o, " ", 1);
    put_uint(&o, day_secs / 3600u, 2);
    put(&o, ":", 1);
    put_uint(&o, (day_secs / 60u) % 60u, 2);
    put(&o, ":", 1);
    put_uint(&o, day_secs % 60u, 2);
    put(&o, ".", 1);
    put_uint(&o, micros, 6);
    put(&o, " ", 1);
    put(&o, module, strlen(module));
    put(&o, ": ", 2);
    put(&o, msg, strlen(msg));
    put(&o, "\n", 1);
    if (o.n >= cap) {
        /* Cut: keep the line terminated. */
        buf[cap - 2] = '\n';
        buf[cap - 1] = '\0';
        return cap - 1;
    }
    buf[o.n] = '\0';
    return o.n;
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
