/* Phone config parser: expat in streaming mode, a fixed table of the
 * element paths we read, and an arena for expat's memory in the work area
 * (scratch.h). */
#include "config.h"
#include "asan_poison.h"
#include "scratch.h"

#include <expat.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>


/* ---- Arena: expat's heap --------------------------------------------------
 * expat's memory suite has no context pointer, hence one arena and one
 * parse at a time. The arena is the firmware's work area (scratch.h), held
 * from config_parse_begin to the parse's end (CONFIG_ERR_BUSY while a CAPF
 * session holds it). Blocks are laid end to end, each behind an 8-byte
 * header; first fit, free neighbours merged while searching. Under ASan the
 * headers and free space are poisoned so that overruns inside the arena are
 * still caught by the fuzzer. */

struct arena_hdr {
    uint32_t size; /* payload bytes, multiple of ARENA_ALIGN */
    uint32_t req;  /* bytes asked for; 0 = free block */
};
#define ARENA_ALIGN 8u
#define HDR ((uint32_t)sizeof(struct arena_hdr))

static uint8_t *arena; /* the work area while a parse is open */
static struct config_parser *arena_owner; /* the open parse, if any */
_Static_assert(CONFIG_ARENA_SIZE % ARENA_ALIGN == 0, "arena size must be a multiple of 8");
static uint32_t arena_high; /* highest block end used since reset */

static struct arena_hdr hdr_load(uint32_t off)
{
    struct arena_hdr h;
    UNPOISON(arena + off, HDR);
    memcpy(&h, arena + off, HDR);
    POISON(arena + off, HDR);
    return h;
}

static void hdr_store(uint32_t off, uint32_t size, uint32_t req)
{
    struct arena_hdr h = {size, req};
    UNPOISON(arena + off, HDR);
    memcpy(arena + off, &h, HDR);
    POISON(arena + off, HDR);
}

static void arena_reset(void)
{
    POISON(arena, CONFIG_ARENA_SIZE);
    hdr_store(0, CONFIG_ARENA_SIZE - HDR, 0);
    arena_high = 0;
}

/* Merges the free blocks following the free block at off into it. */
static void arena_merge_next(uint32_t off)
{
    struct arena_hdr h = hdr_load(off);
    for (;;) {
        uint32_t next = off + HDR + h.size;
        if (next >= CONFIG_ARENA_SIZE)
            break;
        struct arena_hdr n = hdr_load(next);
        if (n.req != 0)
            break;
        h.size += HDR + n.size;
    }
    hdr_store(off, h.size, h.req);
}

/* Marks the block at off used for req bytes, splitting off the rest. */
static void *arena_take(uint32_t off, uint32_t req)
{
    struct arena_hdr h = hdr_load(off);
    uint32_t need = (req + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
    if (h.size >= need + HDR + ARENA_ALIGN) {
        hdr_store(off + HDR + need, h.size - need - HDR, 0);
        h.size = need;
    }
    hdr_store(off, h.size, req);
    if (off + HDR + h.size > arena_high)
        arena_high = off + HDR + h.size;
    UNPOISON(arena + off + HDR, req);
    return arena + off + HDR;
}

static void *arena_malloc(size_t n)
{
    if (n == 0)
        n = 1;
    if (n > CONFIG_ARENA_SIZE)
        return NULL;
    for (uint32_t off = 0; off < CONFIG_ARENA_SIZE;) {
        struct arena_hdr h = hdr_load(off);
        if (h.req == 0) {
            arena_merge_next(off);
            h = hdr_load(off);
            if (h.size >= n)
                return arena_take(off, (uint32_t)n);
        }
        off += HDR + h.size;
    }
    return NULL;
}

static void arena_free(void *ptr)
{
    if (ptr == NULL)
        return;
    uint32_t off = (uint32_t)((uint8_t *)ptr - arena) - HDR;
    struct arena_hdr h = hdr_load(off);
    POISON(arena + off + HDR, h.size);
    hdr_store(off, h.size, 0);
}

static void *arena_realloc(void *ptr, size_t n)
{
    if (ptr == NULL)
        return arena_malloc(n);
    if (n == 0)
        n = 1;
    if (n > CONFIG_ARENA_SIZE)
        return NULL;
    uint32_t off = (uint32_t)((uint8_t *)ptr - arena) - HDR;
    struct arena_hdr h = hdr_load(off);
    /* Grow in place when the following blocks are free. */
    hdr_store(off, h.size, 0);
    arena_merge_next(off);
    uint32_t merged = hdr_load(off).size;
    if (merged >= n) {
        POISON(arena + off + HDR, merged);
        return arena_take(off, (uint32_t)n);
    }
    hdr_store(off, merged, h.req);
    void *q = arena_malloc(n);
    if (q == NULL)
        return NULL;
    memcpy(q, ptr, h.req < n ? h.req : n);
    arena_free(ptr);
    return q;
}

static const XML_Memory_Handling_Suite arena_suite = {arena_malloc, arena_realloc, arena_free};

size_t config_arena_peak(void)
{
    return arena_high;
}

/* ---- The elements we read ------------------------------------------------ */

enum elem {
    E_TOP, /* above the root */
    E_OTHER,
    E_DEVICE,
    E_FULL_CONFIG,
    E_ENCR_CONFIG,
    E_IP_ADDRESS_MODE,
    E_LOAD_INFORMATION,
    E_CAPF_AUTH_MODE,
    E_CERT_HASH,
    E_CAPF_LIST,
    E_CAPF,
    E_CAPF_PORT,
    E_CAPF_HOST,
    E_TVS,
    E_TVS_MEMBERS,
    E_TVS_MEMBER,
    E_TVS_PORT,
    E_TVS_ADDRESS,
    E_DEVICE_POOL,
    E_CMG,
    E_CMG_MEMBERS,
    E_CMG_MEMBER,
    E_CM,
    E_CM_PORTS,
    E_CM_SIP_PORT,
    E_CM_SECURED_SIP_PORT,
    E_CM_ETHERNET_PORT,
    E_CM_HOST,
    E_COUNT
};
_Static_assert(E_COUNT <= 32, "leaf ids must fit the seen mask");

/* Children of an entry are recognised under its parent only; anything
 * else is E_OTHER, and so is everything below it. max_len > 0 marks a
 * leaf whose text we keep. */
static const struct {
    uint8_t parent, id;
    uint8_t max_len;
    const char *name;
} elems[] = {
    {E_TOP, E_DEVICE, 0, "device"},
    {E_DEVICE, E_FULL_CONFIG, 5, "fullConfig"},
    {E_DEVICE, E_ENCR_CONFIG, 5, "encrConfig"},
    {E_DEVICE, E_IP_ADDRESS_MODE, 5, "ipAddressMode"},
    {E_DEVICE, E_LOAD_INFORMATION, CONFIG_LOAD_MAX - 1, "loadInformation"},
    {E_DEVICE, E_CAPF_AUTH_MODE, 5, "capfAuthMode"},
    {E_DEVICE, E_CERT_HASH, CONFIG_CERT_HASH_LEN, "certHash"},
    {E_DEVICE, E_CAPF_LIST, 0, "capfList"},
    {E_CAPF_LIST, E_CAPF, 0, "capf"},
    {E_CAPF, E_CAPF_PORT, 5, "phonePort"},
    {E_CAPF, E_CAPF_HOST, CONFIG_HOST_MAX - 1, "processNodeName"},
    {E_DEVICE, E_TVS, 0, "TVS"},
    {E_TVS, E_TVS_MEMBERS, 0, "members"},
    {E_TVS_MEMBERS, E_TVS_MEMBER, 0, "member"},
    {E_TVS_MEMBER, E_TVS_PORT, 5, "port"},
    {E_TVS_MEMBER, E_TVS_ADDRESS, CONFIG_HOST_MAX - 1, "address"},
    {E_DEVICE, E_DEVICE_POOL, 0, "devicePool"},
    {E_DEVICE_POOL, E_CMG, 0, "callManagerGroup"},
    {E_CMG, E_CMG_MEMBERS, 0, "members"},
    {E_CMG_MEMBERS, E_CMG_MEMBER, 0, "member"},
    {E_CMG_MEMBER, E_CM, 0, "callManager"},
    {E_CM, E_CM_PORTS, 0, "ports"},
    {E_CM_PORTS, E_CM_SIP_PORT, 5, "sipPort"},
    {E_CM_PORTS, E_CM_SECURED_SIP_PORT, 5, "securedSipPort"},
    {E_CM_PORTS, E_CM_ETHERNET_PORT, 5, "ethernetPhonePort"},
    {E_CM, E_CM_HOST, CONFIG_HOST_MAX - 1, "processNodeName"},
};
#define N_ELEMS (sizeof elems / sizeof elems[0])

/* Leaves that belong to one list entry: seen again in the next entry. */
#define ENTRY_LEAVES                                                               \
    ((1u << E_CAPF_PORT) | (1u << E_CAPF_HOST) | (1u << E_TVS_PORT) |              \
     (1u << E_TVS_ADDRESS) | (1u << E_CM_SIP_PORT) | (1u << E_CM_SECURED_SIP_PORT) | \
     (1u << E_CM_ETHERNET_PORT) | (1u << E_CM_HOST))

static int elem_index(uint8_t id)
{
    for (size_t i = 0; i < N_ELEMS; i++)
        if (elems[i].id == id)
            return (int)i;
    return -1;
}

static uint8_t elem_lookup(uint8_t parent, const char *name)
{
    if (parent == E_OTHER)
        return E_OTHER;
    for (size_t i = 0; i < N_ELEMS; i++)
        if (elems[i].parent == parent && strcmp(elems[i].name, name) == 0)
            return elems[i].id;
    return E_OTHER;
}

static const char *elem_name(uint8_t id)
{
    int i = elem_index(id);
    return i < 0 ? "?" : elems[i].name;
}

static unsigned elem_max_len(uint8_t id)
{
    int i = elem_index(id);
    return i < 0 ? 0 : elems[i].max_len;
}

/* ---- Errors -------------------------------------------------------------- */

static const char *const reasons[] = {
    [CONFIG_OK] = "ok",
    [CONFIG_ERR_XML] = "malformed_xml",
    [CONFIG_ERR_NO_MEMORY] = "no_memory",
    [CONFIG_ERR_DOCTYPE] = "doctype_refused",
    [CONFIG_ERR_ROOT] = "bad_root",
    [CONFIG_ERR_TOO_DEEP] = "too_deep",
    [CONFIG_ERR_TOO_MANY_ELEMENTS] = "too_many_elements",
    [CONFIG_ERR_TOO_LARGE] = "too_large",
    [CONFIG_ERR_VALUE_TOO_LONG] = "value_too_long",
    [CONFIG_ERR_BAD_VALUE] = "bad_value",
    [CONFIG_ERR_DUPLICATE] = "duplicate",
    [CONFIG_ERR_BUSY] = "busy",
    [CONFIG_ERR_STATE] = "bad_state",
};

const char *config_err_reason(enum config_err e)
{
    if ((unsigned)e < sizeof reasons / sizeof reasons[0] && reasons[e] != NULL)
        return reasons[e];
    return "unknown";
}

static void fail(struct config_parser *p, enum config_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the first error with its line, and stops expat. */
static void fail(struct config_parser *p, enum config_err e, const char *fmt, ...)
{
    if (p->err != CONFIG_OK)
        return;
    p->err = e;
    unsigned long line = p->xml ? (unsigned long)XML_GetCurrentLineNumber(p->xml) : 0;
    int n = snprintf(p->err_text, sizeof p->err_text, "line %lu: ", line);
    if (n > 0 && (size_t)n < sizeof p->err_text) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err_text + n, sizeof p->err_text - (size_t)n, fmt, ap);
        va_end(ap);
    }
    if (p->xml)
        XML_StopParser(p->xml, XML_FALSE);
}

/* ---- Value checks -------------------------------------------------------- */

static int parse_uint(const char *s, uint32_t max, uint32_t *out)
{
    uint32_t v = 0;
    if (*s == '\0')
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (uint32_t)(*s - '0');
        if (v > max)
            return -1;
    }
    *out = v;
    return 0;
}

static int ascii_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static int parse_bool(const char *s, bool *out)
{
    static const char *const words[2] = {"false", "true"};
    for (int b = 0; b < 2; b++) {
        size_t i = 0;
        while (s[i] && words[b][i] && ascii_lower((unsigned char)s[i]) == words[b][i])
            i++;
        if (s[i] == '\0' && words[b][i] == '\0') {
            *out = b;
            return 0;
        }
    }
    return -1;
}

static int is_hex(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Host names, IPv4 and IPv6 literals; nothing a log line or resolver
 * could misread. */
static int valid_host(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        int ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 c == '.' || c == '-' || c == '_' || c == ':' || c == '[' || c == ']' || c == '%';
        if (!ok)
            return 0;
    }
    return 1;
}

static int valid_printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return 0;
    return 1;
}

/* ---- Lists --------------------------------------------------------------- */

/* Counts an ignored list entry (saturating: a count, not an index). */
static void bump(uint8_t *n)
{
    if (*n < UINT8_MAX)
        (*n)++;
}

/* Makes room for an entry of priority prio in a list kept sorted by
 * priority (stable: document order on ties) of at most CONFIG_MAX_SERVERS
 * entries of sz bytes, whose priority sits at prio_off. Returns the slot, or
 * NULL when the new entry ranks past the end; an entry pushed off the end
 * or refused counts in *ignored. */
static void *make_room(void *base, size_t sz, size_t prio_off, uint8_t *count, uint32_t prio,
                       uint8_t *ignored)
{
    uint8_t *b = base;
    size_t at = *count;
    while (at > 0) {
        uint32_t before;
        memcpy(&before, b + (at - 1) * sz + prio_off, sizeof before);
        if (before <= prio)
            break;
        at--;
    }
    if (at >= CONFIG_MAX_SERVERS) {
        bump(ignored);
        return NULL;
    }
    size_t keep = *count;
    if (keep == CONFIG_MAX_SERVERS) {
        keep--;
        bump(ignored);
    } else {
        (*count)++;
    }
    memmove(b + (at + 1) * sz, b + at * sz, (keep - at) * sz);
    return b + at * sz;
}

static void commit_tvs_member(struct config_parser *p)
{
    struct phone_config *c = p->out;
    if (p->cur.host[0] == '\0') {
        bump(&c->tvs_ignored);
        return;
    }
    struct config_server *s = make_room(c->tvs, sizeof c->tvs[0],
                                        offsetof(struct config_server, priority),
                                        &c->tvs_count, p->cur.priority, &c->tvs_ignored);
    if (s == NULL)
        return;
    memcpy(s->host, p->cur.host, sizeof s->host);
    s->port = p->cur_port ? p->cur_port : CONFIG_TVS_DEFAULT_PORT;
    s->priority = p->cur.priority;
}

static void commit_cm_member(struct config_parser *p)
{
    struct phone_config *c = p->out;
    if (p->cur.host[0] == '\0') {
        bump(&c->cm_ignored);
        return;
    }
    struct config_call_manager *m = make_room(c->cm, sizeof c->cm[0],
                                              offsetof(struct config_call_manager, priority),
                                              &c->cm_count, p->cur.priority, &c->cm_ignored);
    if (m != NULL)
        *m = p->cur;
}

static void commit_capf(struct config_parser *p)
{
    struct phone_config *c = p->out;
    if (p->cur.host[0] == '\0' || c->capf_count == CONFIG_MAX_SERVERS) {
        bump(&c->capf_ignored);
        return;
    }
    struct config_server *s = &c->capf[c->capf_count++];
    memcpy(s->host, p->cur.host, sizeof s->host);
    s->port = p->cur_port ? p->cur_port : CONFIG_CAPF_DEFAULT_PORT;
    s->priority = CONFIG_NO_PRIORITY;
}

static void open_entry(struct config_parser *p, const XML_Char **attrs, bool has_priority)
{
    memset(&p->cur, 0, sizeof p->cur);
    p->cur.priority = CONFIG_NO_PRIORITY;
    p->cur_port = 0;
    p->seen &= ~ENTRY_LEAVES;
    if (!has_priority)
        return;
    for (size_t i = 0; attrs[i] != NULL; i += 2) {
        if (strcmp(attrs[i], "priority") != 0)
            continue;
        uint32_t v;
        if (parse_uint(attrs[i + 1], 0xffff, &v) != 0)
            fail(p, CONFIG_ERR_BAD_VALUE, "member priority \"%.32s\" is not a number 0..65535",
                 attrs[i + 1]);
        else
            p->cur.priority = v;
    }
}

/* ---- Leaf values --------------------------------------------------------- */

static void store_port(struct config_parser *p, uint8_t id, const char *v, uint16_t *dst)
{
    uint32_t port;
    if (parse_uint(v, 65535, &port) != 0 || port == 0)
        fail(p, CONFIG_ERR_BAD_VALUE, "<%s> is not a port 1..65535", elem_name(id));
    else
        *dst = (uint16_t)port;
}

static void store_small(struct config_parser *p, uint8_t id, const char *v, uint8_t *dst,
                        uint32_t bit)
{
    uint32_t n;
    if (parse_uint(v, 255, &n) != 0) {
        fail(p, CONFIG_ERR_BAD_VALUE, "<%s> is not a number 0..255", elem_name(id));
        return;
    }
    *dst = (uint8_t)n;
    p->out->present |= bit;
}

static void store_bool(struct config_parser *p, uint8_t id, const char *v, bool *dst,
                       uint32_t bit)
{
    if (parse_bool(v, dst) != 0) {
        fail(p, CONFIG_ERR_BAD_VALUE, "<%s> is neither true nor false", elem_name(id));
        return;
    }
    p->out->present |= bit;
}

static void store_cert_hash(struct config_parser *p, const char *v)
{
    size_t n = strlen(v);
    for (size_t i = 0; i < n; i++)
        if (!is_hex((unsigned char)v[i]))
            n = 1; /* not hex: refused below */
    if (n != 0 && n != CONFIG_CERT_HASH_LEN) {
        fail(p, CONFIG_ERR_BAD_VALUE, "<certHash> is not empty nor %d hex digits",
             CONFIG_CERT_HASH_LEN);
        return;
    }
    for (size_t i = 0; i < n; i++)
        p->out->cert_hash[i] = (char)ascii_lower((unsigned char)v[i]);
    p->out->cert_hash[n] = '\0';
    p->out->present |= CONFIG_HAS_CERT_HASH;
}

static void store_host(struct config_parser *p, uint8_t id, const char *v)
{
    if (!valid_host(v)) {
        fail(p, CONFIG_ERR_BAD_VALUE, "<%s> is not a host name or address", elem_name(id));
        return;
    }
    memcpy(p->cur.host, v, strlen(v) + 1);
}

static void store_load(struct config_parser *p, const char *v)
{
    if (!valid_printable(v)) {
        fail(p, CONFIG_ERR_BAD_VALUE, "<loadInformation> has non-printable characters");
        return;
    }
    memcpy(p->out->load_information, v, strlen(v) + 1);
    p->out->present |= CONFIG_HAS_LOAD_INFORMATION;
}

/* Empty text means "not given" everywhere but certHash (empty is a value
 * there: B6 starts CAPF on an empty hash). */
static void store_leaf(struct config_parser *p, uint8_t id, const char *v)
{
    struct phone_config *c = p->out;
    if (v[0] == '\0' && id != E_CERT_HASH)
        return;
    switch (id) {
    case E_FULL_CONFIG: store_bool(p, id, v, &c->full_config, CONFIG_HAS_FULL_CONFIG); break;
    case E_ENCR_CONFIG: store_bool(p, id, v, &c->encr_config, CONFIG_HAS_ENCR_CONFIG); break;
    case E_IP_ADDRESS_MODE:
        store_small(p, id, v, &c->ip_address_mode, CONFIG_HAS_IP_ADDRESS_MODE);
        break;
    case E_CAPF_AUTH_MODE:
        store_small(p, id, v, &c->capf_auth_mode, CONFIG_HAS_CAPF_AUTH_MODE);
        break;
    case E_LOAD_INFORMATION: store_load(p, v); break;
    case E_CERT_HASH: store_cert_hash(p, v); break;
    case E_CAPF_PORT:
    case E_TVS_PORT: store_port(p, id, v, &p->cur_port); break;
    case E_CM_SIP_PORT: store_port(p, id, v, &p->cur.sip_port); break;
    case E_CM_SECURED_SIP_PORT: store_port(p, id, v, &p->cur.secured_sip_port); break;
    case E_CM_ETHERNET_PORT: store_port(p, id, v, &p->cur.ethernet_phone_port); break;
    case E_CAPF_HOST:
    case E_TVS_ADDRESS:
    case E_CM_HOST: store_host(p, id, v); break;
    default: break;
    }
}

/* ---- expat callbacks ----------------------------------------------------- */

static void on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    struct config_parser *p = ud;
    if (p->err != CONFIG_OK)
        return;
    if (++p->elements > CONFIG_MAX_ELEMENTS) {
        fail(p, CONFIG_ERR_TOO_MANY_ELEMENTS, "more than %d elements", CONFIG_MAX_ELEMENTS);
        return;
    }
    if (p->depth >= CONFIG_MAX_DEPTH) {
        fail(p, CONFIG_ERR_TOO_DEEP, "<%.40s> nested deeper than %d", name, CONFIG_MAX_DEPTH);
        return;
    }
    uint8_t parent = p->depth ? p->stack[p->depth - 1] : E_TOP;
    if (elem_max_len(parent) > 0) {
        fail(p, CONFIG_ERR_BAD_VALUE, "<%s> holds element <%.40s>, not text", elem_name(parent),
             name);
        return;
    }
    uint8_t id = elem_lookup(parent, name);
    if (parent == E_TOP && id != E_DEVICE) {
        fail(p, CONFIG_ERR_ROOT, "root element <%.40s> is not <device>", name);
        return;
    }
    p->stack[p->depth++] = id;
    if (elem_max_len(id) > 0) {
        if (p->seen & (1u << id)) {
            fail(p, CONFIG_ERR_DUPLICATE, "<%s> given twice", elem_name(id));
            return;
        }
        p->seen |= 1u << id;
        p->text_len = 0;
        p->pending_ws = 0;
    }
    switch (id) {
    case E_TVS: p->out->present |= CONFIG_HAS_TVS; break;
    case E_CMG: p->out->present |= CONFIG_HAS_CALL_MANAGER_GROUP; break;
    case E_CAPF_LIST: p->out->present |= CONFIG_HAS_CAPF_LIST; break;
    case E_TVS_MEMBER:
    case E_CMG_MEMBER: open_entry(p, attrs, true); break;
    case E_CAPF: open_entry(p, attrs, false); break;
    default: break;
    }
}

static void on_end(void *ud, const XML_Char *name)
{
    struct config_parser *p = ud;
    (void)name;
    if (p->err != CONFIG_OK || p->depth == 0)
        return;
    uint8_t id = p->stack[--p->depth];
    if (elem_max_len(id) > 0) {
        p->text[p->text_len] = '\0';
        store_leaf(p, id, p->text);
        return;
    }
    switch (id) {
    case E_TVS_MEMBER: commit_tvs_member(p); break;
    case E_CMG_MEMBER: commit_cm_member(p); break;
    case E_CAPF: commit_capf(p); break;
    default: break;
    }
}

static int is_xml_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Collects a leaf's text, trimmed: leading blanks dropped, inner/trailing
 * ones held back until more text follows. */
static void on_text(void *ud, const XML_Char *s, int len)
{
    struct config_parser *p = ud;
    if (p->err != CONFIG_OK || p->depth == 0)
        return;
    uint8_t id = p->stack[p->depth - 1];
    unsigned max = elem_max_len(id);
    if (max == 0)
        return;
    for (int i = 0; i < len; i++) {
        if (is_xml_space(s[i])) {
            if (p->text_len > 0 && p->pending_ws < max)
                p->pending_ws++;
            continue;
        }
        if ((unsigned)p->text_len + p->pending_ws + 1 > max) {
            fail(p, CONFIG_ERR_VALUE_TOO_LONG, "<%s> longer than %u characters", elem_name(id),
                 max);
            return;
        }
        for (; p->pending_ws > 0; p->pending_ws--)
            p->text[p->text_len++] = ' ';
        p->text[p->text_len++] = s[i];
    }
}

static void on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                       const XML_Char *pubid, int has_internal_subset)
{
    (void)sysid, (void)pubid, (void)has_internal_subset;
    fail(ud, CONFIG_ERR_DOCTYPE, "DOCTYPE <%.40s> refused (no DTDs, no entities)", name);
}

static void on_entity_decl(void *ud, const XML_Char *name, int is_param, const XML_Char *value,
                           int value_len, const XML_Char *base, const XML_Char *sysid,
                           const XML_Char *pubid, const XML_Char *notation)
{
    (void)is_param, (void)value, (void)value_len, (void)base, (void)sysid, (void)pubid,
        (void)notation;
    fail(ud, CONFIG_ERR_DOCTYPE, "entity %.40s refused", name);
}

/* ---- Streaming API ------------------------------------------------------- */

#define CONFIG_FEED_MAX 512u /* bytes handed to expat at once */

static void config_defaults(struct phone_config *c)
{
    memset(c, 0, sizeof *c);
    c->full_config = true;
}

static void release(struct config_parser *p)
{
    if (p->xml != NULL) {
        XML_ParserFree(p->xml);
        p->xml = NULL;
    }
    if (arena_owner == p) {
        arena_owner = NULL; /* never left pointing at a finished parser */
        scratch_release(arena);
        arena = NULL;
    }
}

int config_parse_begin(struct config_parser *p, struct phone_config *out, uint32_t hash_salt)
{
    if (arena_owner == p)
        release(p); /* begun again without an end: drop the old parse */
    memset(p, 0, sizeof *p);
    if (out == NULL)
        return p->err = CONFIG_ERR_STATE;
    config_defaults(out);
    p->out = out;
    if (arena_owner != NULL) {
        snprintf(p->err_text, sizeof p->err_text, "another config parse is open");
        return p->err = CONFIG_ERR_BUSY;
    }
    arena = scratch_acquire("config parse", CONFIG_ARENA_SIZE);
    if (arena == NULL) {
        snprintf(p->err_text, sizeof p->err_text, "work area in use by %s", scratch_owner());
        return p->err = CONFIG_ERR_BUSY;
    }
    arena_owner = p;
    arena_reset();
    XML_Parser x = XML_ParserCreate_MM(NULL, &arena_suite, NULL);
    if (x == NULL) {
        release(p);
        snprintf(p->err_text, sizeof p->err_text, "no memory for the XML parser");
        return p->err = CONFIG_ERR_NO_MEMORY;
    }
    p->xml = x;
    /* 0 would make expat gather entropy itself (time, pid): never. */
    XML_SetHashSalt(x, hash_salt ? hash_salt : 0x5ec0c0f1u);
    XML_SetUserData(x, p);
    XML_SetElementHandler(x, on_start, on_end);
    XML_SetCharacterDataHandler(x, on_text);
    XML_SetStartDoctypeDeclHandler(x, on_doctype);
    XML_SetEntityDeclHandler(x, on_entity_decl);
    return CONFIG_OK;
}

/* Turns a failed XML_Parse into our error (ours wins if a handler set it). */
static void take_expat_error(struct config_parser *p)
{
    enum XML_Error code = XML_GetErrorCode(p->xml);
    enum config_err e = code == XML_ERROR_NO_MEMORY ? CONFIG_ERR_NO_MEMORY : CONFIG_ERR_XML;
    if (p->err != CONFIG_OK)
        return;
    p->err = e;
    snprintf(p->err_text, sizeof p->err_text, "line %lu, column %lu: %s",
             (unsigned long)XML_GetCurrentLineNumber(p->xml),
             (unsigned long)XML_GetCurrentColumnNumber(p->xml), XML_ErrorString(code));
}

int config_parse_chunk(struct config_parser *p, const uint8_t *data, size_t n)
{
    if (p->err != CONFIG_OK)
        return p->err;
    if (p->xml == NULL)
        return p->err = CONFIG_ERR_STATE;
    if (n > CONFIG_MAX_BYTES - p->bytes) {
        snprintf(p->err_text, sizeof p->err_text, "config larger than %u bytes",
                 CONFIG_MAX_BYTES);
        return p->err = CONFIG_ERR_TOO_LARGE;
    }
    p->bytes += (uint32_t)n;
    /* expat copies what it is given into its own buffer (XML_CONTEXT_BYTES),
     * so it gets small slices: its buffer then only holds an unfinished
     * token, and a big chunk cannot blow the arena. */
    while (n > 0 && p->err == CONFIG_OK) {
        size_t k = n < CONFIG_FEED_MAX ? n : CONFIG_FEED_MAX;
        if (XML_Parse(p->xml, (const char *)data, (int)k, XML_FALSE) != XML_STATUS_OK)
            take_expat_error(p);
        data += k;
        n -= k;
    }
    return p->err;
}

/* Detaches from *out: once a parse is over, the parser never touches it. */
static void finish(struct config_parser *p, bool wipe)
{
    release(p);
    if (wipe && p->out != NULL)
        memset(p->out, 0, sizeof *p->out);
    p->out = NULL;
}

int config_parse_end(struct config_parser *p, char *err, size_t errcap)
{
    if (p->err == CONFIG_OK && p->xml == NULL) {
        snprintf(p->err_text, sizeof p->err_text, "no config parse open");
        p->err = CONFIG_ERR_STATE;
    }
    if (p->err == CONFIG_OK && XML_Parse(p->xml, NULL, 0, XML_TRUE) != XML_STATUS_OK)
        take_expat_error(p);
    finish(p, p->err != CONFIG_OK);
    if (err != NULL && errcap > 0)
        snprintf(err, errcap, "%s", p->err == CONFIG_OK ? "" : p->err_text);
    int r = p->err;
    if (r == CONFIG_OK)
        p->err = CONFIG_ERR_STATE; /* a second end or chunk is out of order */
    return r;
}

void config_parse_abort(struct config_parser *p)
{
    finish(p, true);
    snprintf(p->err_text, sizeof p->err_text, "config parse aborted");
    p->err = CONFIG_ERR_STATE;
}

int config_parse_buffer(struct phone_config *out, const uint8_t *data, size_t n,
                        uint32_t hash_salt, char *err, size_t errcap)
{
    struct config_parser p;
    config_parse_begin(&p, out, hash_salt);
    config_parse_chunk(&p, data, n);
    return config_parse_end(&p, err, errcap);
}

/* ---- Derived settings and description ----------------------------------- */

size_t config_tvs_servers(const struct phone_config *c,
                          struct config_server out[CONFIG_MAX_SERVERS])
{
    if (c->tvs_count > 0) {
        memcpy(out, c->tvs, c->tvs_count * sizeof out[0]);
        return c->tvs_count;
    }
    for (size_t i = 0; i < c->cm_count; i++) {
        memcpy(out[i].host, c->cm[i].host, sizeof out[i].host);
        out[i].port = CONFIG_TVS_DEFAULT_PORT;
        out[i].priority = c->cm[i].priority;
    }
    return c->cm_count;
}

static int hex_value(int c)
{
    return c <= '9' ? c - '0' : ascii_lower(c) - 'a' + 10;
}

int config_cert_hash_bytes(const struct phone_config *c, uint8_t md5[16])
{
    if (strlen(c->cert_hash) != CONFIG_CERT_HASH_LEN)
        return -1;
    for (size_t i = 0; i < 16; i++)
        md5[i] = (uint8_t)(hex_value(c->cert_hash[2 * i]) << 4 | hex_value(c->cert_hash[2 * i + 1]));
    return 0;
}

/* snprintf-style appender: counts what would be written past cap. */
struct out {
    char *buf;
    size_t cap, len;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = o->len < o->cap ? o->cap - o->len : 0;
    int n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len += (size_t)n;
}

static const char *yes_no(bool b)
{
    return b ? "true" : "false";
}

static const char *given(const struct phone_config *c, uint32_t bit)
{
    return (c->present & bit) ? "" : " (absent, default)";
}

static void describe_scalars(const struct phone_config *c, struct out *o)
{
    put(o, "loadInformation: %s\n",
        (c->present & CONFIG_HAS_LOAD_INFORMATION) ? c->load_information : "(absent)");
    put(o, "fullConfig: %s%s\n", yes_no(c->full_config), given(c, CONFIG_HAS_FULL_CONFIG));
    put(o, "encrConfig: %s%s\n", yes_no(c->encr_config), given(c, CONFIG_HAS_ENCR_CONFIG));
    put(o, "ipAddressMode: %u%s\n", c->ip_address_mode, given(c, CONFIG_HAS_IP_ADDRESS_MODE));
    put(o, "capfAuthMode: %u%s\n", c->capf_auth_mode, given(c, CONFIG_HAS_CAPF_AUTH_MODE));
    if (!(c->present & CONFIG_HAS_CERT_HASH))
        put(o, "certHash: (absent)\n");
    else
        put(o, "certHash: %s\n", c->cert_hash[0] ? c->cert_hash : "(empty)");
}

/* newlib-nano's printf has no %zu: indexes are unsigned. */
static void describe_lists(const struct phone_config *c, struct out *o)
{
    for (unsigned i = 0; i < c->capf_count; i++)
        put(o, "capf %u: %s port %u\n", i + 1, c->capf[i].host, c->capf[i].port);
    for (unsigned i = 0; i < c->cm_count; i++)
        put(o, "callManager %u: %s sipPort %u securedSipPort %u\n", i + 1, c->cm[i].host,
            c->cm[i].sip_port, c->cm[i].secured_sip_port);
    struct config_server tvs[CONFIG_MAX_SERVERS];
    unsigned n = (unsigned)config_tvs_servers(c, tvs);
    const char *from = c->tvs_count ? "TVS members" : "call-manager group";
    for (unsigned i = 0; i < n; i++)
        put(o, "tvs %u: %s port %u (%s)\n", i + 1, tvs[i].host, tvs[i].port, from);
    if (n == 0)
        put(o, "tvs: none\n");
    unsigned ignored = (unsigned)c->tvs_ignored + c->cm_ignored + c->capf_ignored;
    if (ignored)
        put(o, "ignored entries: %u (over %u per list or without host)\n", ignored,
            CONFIG_MAX_SERVERS);
}

size_t config_describe(const struct phone_config *c, char *buf, size_t cap)
{
    struct out o = {buf, cap, 0};
    if (cap > 0)
        buf[0] = '\0';
    describe_scalars(c, &o);
    describe_lists(c, &o);
    return o.len;
}
