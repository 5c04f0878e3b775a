#include "console.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hal/hal_console.h"
#include "trace.h"

#define MAX_WORDS 8

void console_print(const char *fmt, ...)
{
    char buf[320];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof buf - 1 ? (size_t)n : sizeof buf - 2;
    buf[len++] = '\n';
    hal_console_write(buf, len);
}

static void print_line(void *ctx, const char *s)
{
    (void)ctx;
    console_print("%s", s);
}

static enum console_result cmd_show_trustlist(struct console *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    trust_store_describe(c->ts, print_line, NULL);
    return CONSOLE_CONTINUE;
}

static enum console_result cmd_erase_trustlist(struct console *c, int argc, char **argv)
{
    const char *which = argc ? argv[0] : "all";
    if (trust_store_erase(c->ts, which) != 0) {
        ERR("SECD", "erase trustlist %s failed (use ctl, itl or all)", which);
        return CONSOLE_CONTINUE;
    }
    WRN("SECD", "trust list erased by the administrator: %s; next download is trusted on first use",
        which);
    return CONSOLE_CONTINUE;
}

static enum console_result cmd_show_config(struct console *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    char buf[2048];
    size_t need = config_describe(c->cfg, buf, sizeof buf);
    hal_console_write(buf, strlen(buf));
    if (need >= sizeof buf)
        console_print("(cut)");
    return CONSOLE_CONTINUE;
}

static enum console_result cmd_reboot(struct console *c, int argc, char **argv)
{
    (void)c;
    (void)argc;
    (void)argv;
    return CONSOLE_REBOOT;
}

static enum console_result cmd_quit(struct console *c, int argc, char **argv)
{
    (void)c;
    (void)argc;
    (void)argv;
    return CONSOLE_QUIT;
}

static enum console_result cmd_help(struct console *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    console_print("commands:");
    for (size_t s = 0; s < c->n_sets; s++)
        for (size_t i = 0; i < c->set_len[s]; i++)
            console_print("  %s", c->sets[s][i].help);
    return CONSOLE_CONTINUE;
}

static const struct console_command base_commands[] = {
    {"show trustlist", 0, 0, cmd_show_trustlist, "show trustlist"},
    {"erase trustlist", 0, 1, cmd_erase_trustlist, "erase trustlist [ctl|itl|all]"},
    {"show config", 0, 0, cmd_show_config, "show config"},
    {"reboot", 0, 0, cmd_reboot, "reboot"},
    {"quit", 0, 0, cmd_quit, "quit"},
    {"exit", 0, 0, cmd_quit, "exit"},
    {"help", 0, 0, cmd_help, "help"},
};

void console_init(struct console *c, struct trust_store *ts, const struct phone_config *cfg)
{
    memset(c, 0, sizeof *c);
    c->ts = ts;
    c->cfg = cfg;
    console_register(c, base_commands, sizeof base_commands / sizeof base_commands[0], NULL);
}

int console_register(struct console *c, const struct console_command *cmds, size_t n, void *ctx)
{
    if (c->n_sets == CONSOLE_MAX_SETS)
        return -1;
    c->sets[c->n_sets] = cmds;
    c->set_len[c->n_sets] = n;
    c->ctx[c->n_sets] = ctx;
    c->n_sets++;
    return 0;
}

void *console_ctx(const struct console *c, const struct console_command *cmd)
{
    for (size_t s = 0; s < c->n_sets; s++)
        if (cmd >= c->sets[s] && cmd < c->sets[s] + c->set_len[s])
            return c->ctx[s];
    return NULL;
}

static int is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r';
}

/* Splits "a b c" into words in place; returns the count (at most max). */
static int split(char *s, char **words, int max)
{
    int n = 0;
    while (*s && n < max) {
        while (is_blank(*s))
            *s++ = '\0';
        if (!*s)
            break;
        words[n++] = s;
        while (*s && !is_blank(*s))
            s++;
    }
    if (*s)
        *s = '\0';
    return n;
}

/* How many leading words of `w` spell `words`; 0 when they do not. */
static int match_words(const char *words, char **w, int n)
{
    char copy[64];
    char *pw[MAX_WORDS];
    snprintf(copy, sizeof copy, "%s", words);
    int k = split(copy, pw, MAX_WORDS);
    if (k > n)
        return 0;
    for (int i = 0; i < k; i++)
        if (strcmp(pw[i], w[i]) != 0)
            return 0;
    return k;
}

enum console_result console_execute(struct console *c, const char *line)
{
    char copy[sizeof c->line];
    char *w[MAX_WORDS];
    snprintf(copy, sizeof copy, "%s", line);
    int n = split(copy, w, MAX_WORDS);
    if (n == 0)
        return CONSOLE_CONTINUE;
    for (size_t s = 0; s < c->n_sets; s++) {
        for (size_t i = 0; i < c->set_len[s]; i++) {
            const struct console_command *cmd = &c->sets[s][i];
            int k = match_words(cmd->words, w, n);
            if (k == 0)
                continue;
            int argc = n - k;
            if (argc < cmd->min_args || argc > cmd->max_args) {
                console_print("usage: %s", cmd->help);
                return CONSOLE_CONTINUE;
            }
            return cmd->run(c, argc, w + k);
        }
    }
    console_print("unknown command (try help)");
    return CONSOLE_CONTINUE;
}

/* Runs the complete lines of data; *used tells how far it got when a
 * command returned something else than CONTINUE. */
static enum console_result feed_bytes(struct console *c, const char *data, size_t n, size_t *used)
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
            console_print("command too long");
            continue;
        }
        enum console_result r = console_execute(c, c->line);
        if (r != CONSOLE_CONTINUE) {
            *used = i + 1;
            return r;
        }
    }
    *used = n;
    return CONSOLE_CONTINUE;
}

static void keep(struct console *c, const char *data, size_t n)
{
    size_t room = sizeof c->pending - c->pending_len;
    if (n > room) {
        console_print("console input too long while busy: %u bytes dropped", (unsigned)(n - room));
        n = room;
    }
    memcpy(c->pending + c->pending_len, data, n);
    c->pending_len += n;
}

enum console_result console_feed(struct console *c, const char *data, size_t n)
{
    size_t used;
    if (c->pending_len) {
        char earlier[sizeof c->pending];
        size_t len = c->pending_len;
        memcpy(earlier, c->pending, len);
        c->pending_len = 0;
        enum console_result r = feed_bytes(c, earlier, len, &used);
        if (r != CONSOLE_CONTINUE) {
            keep(c, earlier + used, len - used);
            if (n)
                keep(c, data, n);
            return r;
        }
    }
    if (!n)
        return CONSOLE_CONTINUE;
    enum console_result r = feed_bytes(c, data, n, &used);
    if (r != CONSOLE_CONTINUE)
        keep(c, data + used, n - used);
    return r;
}
