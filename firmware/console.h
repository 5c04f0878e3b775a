/* Console commands (the administrator's view, B7), shared by every board:
 *   show trustlist | erase trustlist [ctl|itl|all] | show config | help |
 *   reboot | quit
 * Output goes to the board console as plain lines. */
#ifndef FIRMWARE_CONSOLE_H
#define FIRMWARE_CONSOLE_H
#include <stddef.h>

#include "config.h"
#include "trust_store.h"

enum console_result { CONSOLE_CONTINUE, CONSOLE_QUIT, CONSOLE_REBOOT };

struct console {
    struct trust_store *ts;
    const struct phone_config *cfg;
    char line[256];
    size_t len;
    int overflow;
};

void console_init(struct console *c, struct trust_store *ts, const struct phone_config *cfg);
/* Feeds raw input bytes; runs each complete line. Returns QUIT/REBOOT as
 * soon as a command asks for it (the rest of the input is kept). */
enum console_result console_feed(struct console *c, const char *data, size_t n);
enum console_result console_execute(struct console *c, const char *line);

#endif
