#include "console.h"

#include <stdio.h>
#include <string.h>

#include "hal/hal_console.h"
#include "trace.h"

static void out_line(void *ctx, const char *s)
{
    (void)ctx;
    hal_console_write(s, strlen(s));
    hal_console_write("\n", 1);
}

void console_init(struct console *c, struct trust_store *ts, const struct phone_config *cfg)
{
    memset(c, 0, sizeof *c);
    c->ts = ts;
    c->cfg = cfg;
}

/* Splits "a b c" into words in place; returns the count (at most max). */
static int split(char *s, char **words, int max)
{
    int n = 0;
    for (char *tok = strtok(s, " \t\r"); tok && n < max; tok = strtok(NULL, " \t\r"))
        words[n++] = tok;
    return n;
}

static void show_config(const struct console *c)
{
    char buf[2048];
    size_t need = config_describe(c->cfg, buf, sizeof buf);
    hal_console_write(buf, strlen(buf));
    if (need >= sizeof buf)
        out_line(NULL, "(cut)");
}

static void erase_trustlist(struct console *c, const char *which)
{
    if (trust_store_erase(c->ts, which) != 0) {
        ERR("SECD", "erase trustlist %s failed (use ctl, itl or all)", which);
        return;
    }
    WRN("SECD", "trust list erased by the administrator: %s; next download is trusted on first use",
        which);
}

enum console_result console_execute(struct console *c, const char *line)
{
    char copy[sizeof c->line];
    char *w[4];
    snprintf(copy, sizeof copy, "%s", line);
    int n = split(copy, w, 4);
    if (n == 0)
        return CONSOLE_CONTINUE;
    if (n == 2 && !strcmp(w[0], "show") && !strcmp(w[1], "trustlist"))
        trust_store_describe(c->ts, out_line, NULL);
    else if (n >= 2 && n <= 3 && !strcmp(w[0], "erase") && !strcmp(w[1], "trustlist"))
        erase_trustlist(c, n == 3 ? w[2] : "all");
    else if (n == 2 && !strcmp(w[0], "show") && !strcmp(w[1], "config"))
        show_config(c);
    else if (n == 1 && !strcmp(w[0], "reboot"))
        return CONSOLE_REBOOT;
    else if (n == 1 && (!strcmp(w[0], "quit") || !strcmp(w[0], "exit")))
        return CONSOLE_QUIT;
    else if (n == 1 && !strcmp(w[0], "help"))
        out_line(NULL, "commands: show trustlist | erase trustlist [ctl|itl|all] | show config | "
                       "reboot | quit");
    else
        out_line(NULL, "unknown command (try help)");
    return CONSOLE_CONTINUE;
}

enum console_result console_feed(struct console *c, const char *data, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char ch = data[i];
        if (ch != '\n') {
            if (c->len + 1 < sizeof c->line)
                c->line[c->len++] = ch;
            else
                c->overflow = 1;
            continue;
        }
        c->line[c->len] = '\0';
        int overflow = c->overflow;
        c->len = 0;
        c->overflow = 0;
        if (overflow) {
            out_line(NULL, "command too long");
            continue;
        }
        enum console_result r = console_execute(c, c->line);
        if (r != CONSOLE_CONTINUE)
            return r;
    }
    return CONSOLE_CONTINUE;
}
