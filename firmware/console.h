/* Console commands (the administrator's view, B7), shared by every board.
 * Modules register their own commands (console_register); the base set is
 *   show trustlist | erase trustlist [ctl|itl|all] | show config | help |
 *   reboot | quit
 * Output goes to the board console as plain lines (console_print). */
#ifndef FIRMWARE_CONSOLE_H
#define FIRMWARE_CONSOLE_H
#include <stddef.h>

#include "config.h"
#include "trust_store.h"

enum console_result { CONSOLE_CONTINUE, CONSOLE_QUIT, CONSOLE_REBOOT };

struct console;

/* One command: matched when the first `nwords` words equal `words` and the
 * total word count is within [min_args, max_args] after them. */
struct console_command {
    const char *words;   /* e.g. "show trustlist" */
    int min_args, max_args;
    enum console_result (*run)(struct console *c, int argc, char **argv);
    const char *help;    /* e.g. "erase trustlist [ctl|itl|all]" */
};

#define CONSOLE_MAX_SETS 8

struct console {
    struct trust_store *ts;
    const struct phone_config *cfg;
    void *ctx[CONSOLE_MAX_SETS]; /* per registered set, for its commands */
    const struct console_command *sets[CONSOLE_MAX_SETS];
    size_t set_len[CONSOLE_MAX_SETS];
    size_t n_sets;
    char line[256];
    size_t len;
    int overflow;
    char pending[512]; /* input left unread after a reboot/quit command */
    size_t pending_len;
};

void console_init(struct console *c, struct trust_store *ts, const struct phone_config *cfg);
/* Adds a set of commands; ctx is handed back through console_ctx(). */
int console_register(struct console *c, const struct console_command *cmds, size_t n, void *ctx);
/* The ctx registered with the set that holds `cmd`. */
void *console_ctx(const struct console *c, const struct console_command *cmd);
/* Feeds raw input bytes; runs each complete line. Returns QUIT/REBOOT as
 * soon as a command asks for it; the rest of the input is kept and runs
 * first on the next call (console_feed(c, NULL, 0) just drains it). */
enum console_result console_feed(struct console *c, const char *data, size_t n);
enum console_result console_execute(struct console *c, const char *line);
/* Prints one plain line on the console. */
void console_print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
