/* The phone configuration file (SEP<MAC>.cnf.xml): the settings the
 * security module needs (secd-behaviour B4, B6, B8), read with expat's
 * streaming parser.
 *
 * A config is fed chunk by chunk (a decrypted config never sits whole in
 * RAM): config_parse_begin, config_parse_chunk..., config_parse_end.
 * Everything is bounded: fixed-size fields, a depth limit, an element count
 * limit, a length limit per value (an over-long value is an error, never
 * truncated) and an arena for expat's own memory in the firmware's work
 * area (scratch.h; no system heap). Documents with a DOCTYPE are refused,
 * so no entity can ever expand.
 *
 * One parse at a time: expat's allocator has no context pointer, so the
 * arena is shared; config_parse_begin fails with CONFIG_ERR_BUSY while
 * another parser is open or a CAPF session holds the work area (end or
 * abort every parse you begin; beginning the same parser again drops its
 * open parse). Single-threaded. */
#ifndef FIRMWARE_CONFIG_H
#define FIRMWARE_CONFIG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_SERVERS 3      /* TVS, call managers, CAPF: the phone uses 3 */
#define CONFIG_HOST_MAX 128       /* host name or address, NUL included */
#define CONFIG_LOAD_MAX 64        /* loadInformation, NUL included */
#define CONFIG_CERT_HASH_LEN 32   /* MD5 in hex */
#define CONFIG_MAX_DEPTH 24       /* element nesting */
#define CONFIG_MAX_ELEMENTS 16384 /* elements per document */
#define CONFIG_MAX_BYTES 550001u  /* the phone's per-download limit (B1) */
/* expat's whole heap, bytes (the work area, scratch.h, is this size). The
 * verified config is parsed from flash staging in 512-byte pieces, so the
 * arena holds expat's own state (element-name hash tables and pools, tag
 * stack, attribute arrays, a partial token), not the document; that state
 * is mostly pointers, hence the size in pointers. Measured peaks (the
 * BOARD line at exit on the Cortex-M3, tests/qemu figures; test_config on
 * the host):
 *   interop-like signed config, M3:                 12400 bytes
 *   ~5 KB and 550000-byte encrypted configs, M3:     12504 bytes (the same:
 *                                                    size does not matter)
 *   the interop full config, host (8-byte pointers): 16456 bytes
 *   300 distinct element names, host:                37768 bytes
 *   600 distinct element names, M3 (docs/config.md):  47632 bytes
 * 6144 pointers: 24 KiB on the M3 (about twice its measured peak; about 270
 * distinct element names by interpolation, the interop config has 96), 48
 * KiB on a 64-bit host (where the 300-name test runs). A config that needs
 * more is refused cleanly ("out of memory"), never parsed in part. */
#ifndef CONFIG_ARENA_SIZE
#define CONFIG_ARENA_SIZE ((unsigned)(sizeof(void *) * 6144u))
#endif

#define CONFIG_TVS_DEFAULT_PORT 2445
#define CONFIG_CAPF_DEFAULT_PORT 3804

/* Which settings the document carried (bits of phone_config.present). */
enum config_present {
    CONFIG_HAS_LOAD_INFORMATION = 1u << 0,
    CONFIG_HAS_FULL_CONFIG = 1u << 1,
    CONFIG_HAS_ENCR_CONFIG = 1u << 2,
    CONFIG_HAS_IP_ADDRESS_MODE = 1u << 3,
    CONFIG_HAS_CAPF_AUTH_MODE = 1u << 4,
    CONFIG_HAS_CERT_HASH = 1u << 5,
    CONFIG_HAS_CAPF_LIST = 1u << 6,
    CONFIG_HAS_TVS = 1u << 7,
    CONFIG_HAS_CALL_MANAGER_GROUP = 1u << 8,
};

#define CONFIG_NO_PRIORITY 0x10000u /* member without priority="": sorts last */

struct config_server {
    char host[CONFIG_HOST_MAX];
    uint16_t port;
    uint32_t priority; /* TVS members; CONFIG_NO_PRIORITY elsewhere */
};

/* <devicePool><callManagerGroup><members><member priority=..><callManager> */
struct config_call_manager {
    char host[CONFIG_HOST_MAX]; /* processNodeName */
    uint16_t sip_port;          /* 0 when absent */
    uint16_t secured_sip_port;
    uint16_t ethernet_phone_port; /* SCCP */
    uint32_t priority;            /* or CONFIG_NO_PRIORITY */
};

struct phone_config {
    uint32_t present; /* enum config_present bits */
    char load_information[CONFIG_LOAD_MAX];
    bool full_config;   /* true when absent */
    bool encr_config;
    uint8_t ip_address_mode;
    uint8_t capf_auth_mode;
    char cert_hash[CONFIG_CERT_HASH_LEN + 1]; /* lower-case hex, or "" */

    /* <TVS><members>, sorted by priority (document order on ties). */
    struct config_server tvs[CONFIG_MAX_SERVERS];
    uint8_t tvs_count;
    uint8_t tvs_ignored; /* members beyond CONFIG_MAX_SERVERS or without address */

    struct config_call_manager cm[CONFIG_MAX_SERVERS]; /* by priority */
    uint8_t cm_count;
    uint8_t cm_ignored;

    struct config_server capf[CONFIG_MAX_SERVERS]; /* document order */
    uint8_t capf_count;
    uint8_t capf_ignored;
};

enum config_err {
    CONFIG_OK = 0,
    CONFIG_ERR_XML,          /* malformed XML (expat's message) */
    CONFIG_ERR_NO_MEMORY,    /* expat's arena exhausted */
    CONFIG_ERR_DOCTYPE,      /* DTDs (and so entities) are refused */
    CONFIG_ERR_ROOT,         /* root element is not <device> */
    CONFIG_ERR_TOO_DEEP,
    CONFIG_ERR_TOO_MANY_ELEMENTS,
    CONFIG_ERR_TOO_LARGE,    /* more than CONFIG_MAX_BYTES */
    CONFIG_ERR_VALUE_TOO_LONG,
    CONFIG_ERR_BAD_VALUE,    /* not a number, boolean, hash or host name */
    CONFIG_ERR_DUPLICATE,    /* a single-valued setting given twice */
    CONFIG_ERR_BUSY,         /* another parse holds the arena */
    CONFIG_ERR_STATE,        /* call out of order */
};
const char *config_err_reason(enum config_err e);

/* Parser state; sized for static allocation (expat's own state lives in
 * the arena). Fields are private. */
struct config_parser {
    void *xml; /* XML_Parser */
    struct phone_config *out;
    enum config_err err;
    char err_text[128];
    uint32_t bytes;
    uint32_t elements;
    uint8_t depth;
    uint8_t stack[CONFIG_MAX_DEPTH]; /* element ids, see config.c */
    struct config_call_manager cur; /* the open TVS / CM member or CAPF */
    uint16_t cur_port;              /* TVS port / CAPF phonePort, 0 = absent */
    uint32_t seen;                  /* leaf elements seen, for duplicates */
    uint16_t pending_ws;            /* whitespace held back (trimmed at end) */
    uint16_t text_len;
    bool text_overflow;
    char text[CONFIG_HOST_MAX];
};

/* Starts a parse into *out (reset to defaults). hash_salt seeds expat's
 * hash tables (from the board's entropy source; 0 is replaced by a fixed
 * non-zero value so that expat never gathers entropy itself). */
int config_parse_begin(struct config_parser *p, struct phone_config *out, uint32_t hash_salt);
/* Feeds n bytes. After an error, returns it again without parsing. */
int config_parse_chunk(struct config_parser *p, const uint8_t *data, size_t n);
/* Finishes the document and releases the parser. On failure *out is zeroed
 * (nothing half-parsed is left to act on) and err gets a line such as
 * "line 3: mismatched tag". err may be NULL. */
int config_parse_end(struct config_parser *p, char *err, size_t errcap);
/* Abandons an open parse (e.g. the download failed); *out is zeroed. */
void config_parse_abort(struct config_parser *p);
/* begin + one chunk + end. */
int config_parse_buffer(struct phone_config *out, const uint8_t *data, size_t n,
                        uint32_t hash_salt, char *err, size_t errcap);

/* The TVS servers to try, in order (B4): <TVS><members> by priority, else
 * the call-manager group's processNodeNames on port 2445. Returns the count
 * (0..CONFIG_MAX_SERVERS). */
size_t config_tvs_servers(const struct phone_config *c,
                          struct config_server out[CONFIG_MAX_SERVERS]);
/* certHash as 16 bytes; -1 when empty or absent. */
int config_cert_hash_bytes(const struct phone_config *c, uint8_t md5[16]);

/* Human-readable lines for the console `show config`. Always NUL-terminates
 * (when cap > 0); returns the length the full text needs, like snprintf, so
 * a result >= cap means it was cut. */
size_t config_describe(const struct phone_config *c, char *buf, size_t cap);

/* Peak bytes expat took from the arena during the last parse (footprint). */
size_t config_arena_peak(void);

#endif
