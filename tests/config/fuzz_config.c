/* libFuzzer target for the phone config parser. Each input is parsed twice,
 * whole and in chunks whose sizes come from the input's first byte; both
 * must agree (both accept with the same settings, or both refuse), and the
 * description of an accepted config must fit a fixed buffer. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static int parse_chunked(struct phone_config *c, const uint8_t *d, size_t n, size_t step)
{
    struct config_parser p;
    config_parse_begin(&p, c, 0x1234u);
    for (size_t off = 0; off < n; off += step)
        config_parse_chunk(&p, d + off, n - off < step ? n - off : step);
    return config_parse_end(&p, NULL, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct phone_config whole, chunked;
    char err[160];
    int r1 = config_parse_buffer(&whole, data, size, 0xdeadbeefu, err, sizeof err);
    size_t step = size ? (size_t)(data[0] % 17) + 1 : 1;
    int r2 = parse_chunked(&chunked, data, size, step);
    /* Both accept with the same settings, or both refuse (settings zeroed).
     * With several faults, which is reported first may follow chunking
     * (expat reports text before a "]]>" only when a chunk ends in it), and
     * arena exhaustion may follow how expat's buffer grew. */
    bool oom = r1 == CONFIG_ERR_NO_MEMORY || r2 == CONFIG_ERR_NO_MEMORY;
    /* Byte equality on purpose: both are zeroed whole (config_defaults)
     * before the same code fills them, so padding matches too. */
    if (!oom && ((r1 == CONFIG_OK) != (r2 == CONFIG_OK) ||
                 /* NOLINTNEXTLINE(bugprone-suspicious-memory-comparison) */
                 memcmp(&whole, &chunked, sizeof whole) != 0))
        abort();
    if (r1 == CONFIG_OK) {
        char buf[2048];
        size_t need = config_describe(&whole, buf, sizeof buf);
        if (strlen(buf) != (need < sizeof buf ? need : sizeof buf - 1))
            abort();
        struct config_server tvs[CONFIG_MAX_SERVERS];
        if (config_tvs_servers(&whole, tvs) > CONFIG_MAX_SERVERS)
            abort();
    }
    return 0;
}
