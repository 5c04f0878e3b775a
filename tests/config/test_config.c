/* Phone config parser on the interop configs (SECD_INTEROP_DIR/cnf) and on
 * crafted documents: values, chunking, limits and refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "scratch.h"

#define CNF SECD_INTEROP_DIR "/cnf/"
#define FULL CNF "SEP001E7A4C11A1.cnf.xml"
#define MIC_HASH "f404a38a23030f6fc7eecca3617fb132"
#define LSC_HASH "69e30cd383c8b27b64cb41da745ddf30"

static const char *const enc_dirs[] = {"enc-lsc-sha1", "enc-lsc-sha512", "enc-mic-sha1",
                                       "enc-mic-sha512"};
#define N_ENC (sizeof enc_dirs / sizeof enc_dirs[0])

/* ---- helpers ------------------------------------------------------------- */

static uint8_t *load(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    uint8_t *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    b[n] = 0;
    *len = (size_t)n;
    return b;
}

static char *enc_path(char *buf, size_t cap, size_t i, const char *file)
{
    snprintf(buf, cap, CNF "%s/expected/%s", enc_dirs[i], file);
    return buf;
}

static int parse_str(struct phone_config *c, const char *xml, char *err, size_t errcap)
{
    return config_parse_buffer(c, (const uint8_t *)xml, strlen(xml), 0x1234567u, err, errcap);
}

static int parse_steps(struct phone_config *c, const uint8_t *d, size_t n, size_t step)
{
    struct config_parser p;
    int r = config_parse_begin(&p, c, 42);
    assert_int_equal(r, CONFIG_OK);
    for (size_t off = 0; off < n && r == CONFIG_OK; off += step)
        r = config_parse_chunk(&p, d + off, n - off < step ? n - off : step);
    return config_parse_end(&p, NULL, 0);
}

static void assert_zeroed(const struct phone_config *c)
{
    static const struct phone_config zero;
    assert_memory_equal(c, &zero, sizeof zero);
}

/* Expects failure code e with err containing want. */
static void expect_refused(const char *xml, int e, const char *want)
{
    struct phone_config c;
    char err[160];
    assert_int_equal(parse_str(&c, xml, err, sizeof err), e);
    if (strstr(err, want) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", err, want);
    assert_zeroed(&c);
}

static char *repeat(const char *head, const char *unit, size_t times, const char *tail)
{
    size_t n = strlen(head) + strlen(unit) * times + strlen(tail) + 1;
    char *s = malloc(n), *w = s;
    assert_non_null(s);
    w += sprintf(w, "%s", head);
    for (size_t i = 0; i < times; i++)
        w += sprintf(w, "%s", unit);
    sprintf(w, "%s", tail);
    return s;
}

/* ---- the interop configs ------------------------------------------------- */

static void assert_call_managers(const struct phone_config *c)
{
    assert_true(c->present & CONFIG_HAS_CALL_MANAGER_GROUP);
    assert_int_equal(c->cm_count, 3);
    assert_int_equal(c->cm_ignored, 0);
    for (int i = 0; i < 3; i++) {
        char host[16];
        snprintf(host, sizeof host, "127.0.0.1%d", i + 1);
        assert_string_equal(c->cm[i].host, host);
        assert_int_equal(c->cm[i].priority, i);
        assert_int_equal(c->cm[i].sip_port, 5060);
        assert_int_equal(c->cm[i].secured_sip_port, 5061);
        assert_int_equal(c->cm[i].ethernet_phone_port, 0);
    }
}

static void assert_capf(const struct phone_config *c)
{
    assert_true(c->present & CONFIG_HAS_CAPF_LIST);
    assert_true(c->present & CONFIG_HAS_CAPF_AUTH_MODE);
    assert_int_equal(c->capf_auth_mode, 1);
    assert_int_equal(c->capf_count, 1);
    assert_string_equal(c->capf[0].host, "127.0.0.1");
    assert_int_equal(c->capf[0].port, 23804);
}

static void assert_full_body(const struct phone_config *c)
{
    assert_string_equal(c->load_information, "sip8845_65.14-1-1MN-366");
    assert_true(c->present & CONFIG_HAS_FULL_CONFIG);
    assert_true(c->full_config);
    assert_int_equal(c->ip_address_mode, 0);
    assert_true(c->present & CONFIG_HAS_IP_ADDRESS_MODE);
    assert_true(c->present & CONFIG_HAS_TVS);
    assert_int_equal(c->tvs_count, 1);
    assert_string_equal(c->tvs[0].host, "127.0.0.1");
    assert_int_equal(c->tvs[0].port, 22445);
    assert_int_equal(c->tvs[0].priority, 0);
    assert_call_managers(c);
    assert_capf(c);
    struct config_server s[CONFIG_MAX_SERVERS];
    assert_int_equal(config_tvs_servers(c, s), 1);
    assert_string_equal(s[0].host, "127.0.0.1");
    assert_int_equal(s[0].port, 22445);
}

static void test_full_interop_config(void **state)
{
    (void)state;
    size_t n;
    uint8_t *x = load(FULL, &n);
    struct phone_config c;
    char err[160] = "x";
    assert_int_equal(config_parse_buffer(&c, x, n, 7, err, sizeof err), CONFIG_OK);
    assert_string_equal(err, "");
    assert_full_body(&c);
    assert_true(c.present & CONFIG_HAS_CERT_HASH);
    assert_string_equal(c.cert_hash, "");
    assert_true(c.present & CONFIG_HAS_ENCR_CONFIG);
    assert_false(c.encr_config);
    uint8_t md5[16];
    assert_int_equal(config_cert_hash_bytes(&c, md5), -1);
    print_message("expat arena peak for the full config: %zu of %u bytes\n",
                  config_arena_peak(), CONFIG_ARENA_SIZE);
    free(x);
}

static const char *expected_hash(size_t i)
{
    return strstr(enc_dirs[i], "-mic-") ? MIC_HASH : LSC_HASH;
}

/* The partial config the TFTP server signs when encrypted config is on. */
static void test_partial_configs(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ENC; i++) {
        char path[512];
        size_t n, hn;
        uint8_t *x = load(enc_path(path, sizeof path, i, "partial.cnf.xml"), &n);
        uint8_t *h = load(enc_path(path, sizeof path, i, "certHash.txt"), &hn);
        struct phone_config c;
        assert_int_equal(config_parse_buffer(&c, x, n, 99, NULL, 0), CONFIG_OK);
        assert_memory_equal(h, expected_hash(i), 32); /* the file agrees with B6 */
        assert_string_equal(c.cert_hash, expected_hash(i));
        assert_true(c.present & CONFIG_HAS_FULL_CONFIG);
        assert_false(c.full_config);
        assert_true(c.present & CONFIG_HAS_ENCR_CONFIG);
        assert_true(c.encr_config);
        assert_string_equal(c.load_information, "sip8845_65.14-1-1MN-366");
        assert_int_equal(c.ip_address_mode, 0);
        assert_capf(&c);
        assert_int_equal(c.present & (CONFIG_HAS_TVS | CONFIG_HAS_CALL_MANAGER_GROUP), 0);
        assert_int_equal(c.tvs_count + c.cm_count, 0);
        struct config_server s[CONFIG_MAX_SERVERS];
        assert_int_equal(config_tvs_servers(&c, s), 0);
        uint8_t md5[16];
        assert_int_equal(config_cert_hash_bytes(&c, md5), 0);
        assert_int_equal(md5[0], strstr(enc_dirs[i], "-mic-") ? 0xf4 : 0x69);
        assert_int_equal(md5[15], strstr(enc_dirs[i], "-mic-") ? 0x32 : 0x30);
        free(x);
        free(h);
    }
}

/* The plaintext of the .enc.sgn: the full config, with the hash. */
static void test_decrypted_full_configs(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ENC; i++) {
        char path[512];
        size_t n;
        uint8_t *x = load(enc_path(path, sizeof path, i, "SEP001E7A4C11A1.cnf.xml"), &n);
        struct phone_config c;
        assert_int_equal(config_parse_buffer(&c, x, n, 5, NULL, 0), CONFIG_OK);
        assert_full_body(&c);
        assert_true(c.encr_config);
        assert_string_equal(c.cert_hash, expected_hash(i));
        free(x);
    }
}

/* 1-byte chunks, odd chunks and one chunk give identical settings. */
static void test_chunking_identical(void **state)
{
    (void)state;
    static const size_t steps[] = {1, 2, 3, 7, 64, 1000};
    for (size_t i = 0; i <= N_ENC * 2; i++) {
        char path[512];
        const char *file = i == N_ENC * 2 ? FULL
                           : enc_path(path, sizeof path, i / 2,
                                      i % 2 ? "partial.cnf.xml" : "SEP001E7A4C11A1.cnf.xml");
        size_t n;
        uint8_t *x = load(file, &n);
        struct phone_config whole, part;
        assert_int_equal(parse_steps(&whole, x, n, n), CONFIG_OK);
        for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
            assert_int_equal(parse_steps(&part, x, n, steps[s]), CONFIG_OK);
            assert_memory_equal(&whole, &part, sizeof whole);
        }
        free(x);
    }
}

static void test_describe(void **state)
{
    (void)state;
    size_t n;
    uint8_t *x = load(FULL, &n);
    struct phone_config c;
    assert_int_equal(config_parse_buffer(&c, x, n, 1, NULL, 0), CONFIG_OK);
    free(x);
    static const char want[] =
        "loadInformation: sip8845_65.14-1-1MN-366\n"
        "fullConfig: true\n"
        "encrConfig: false\n"
        "ipAddressMode: 0\n"
        "capfAuthMode: 1\n"
        "certHash: (empty)\n"
        "capf 1: 127.0.0.1 port 23804\n"
        "callManager 1: 127.0.0.11 sipPort 5060 securedSipPort 5061\n"
        "callManager 2: 127.0.0.12 sipPort 5060 securedSipPort 5061\n"
        "callManager 3: 127.0.0.13 sipPort 5060 securedSipPort 5061\n"
        "tvs 1: 127.0.0.1 port 22445 (TVS members)\n";
    char buf[1024];
    assert_int_equal(config_describe(&c, buf, sizeof buf), strlen(want));
    assert_string_equal(buf, want);
    /* Cut output: NUL-terminated, and the return says how much was needed. */
    char small[20];
    assert_int_equal(config_describe(&c, small, sizeof small), strlen(want));
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_memory_equal(small, want, sizeof small - 1);
}

/* ---- defaults and derived settings -------------------------------------- */

static void test_missing_elements_defaults(void **state)
{
    (void)state;
    struct phone_config c;
    assert_int_equal(parse_str(&c, "<device/>", NULL, 0), CONFIG_OK);
    assert_int_equal(c.present, 0);
    assert_true(c.full_config); /* default when absent */
    assert_false(c.encr_config);
    assert_string_equal(c.load_information, "");
    assert_string_equal(c.cert_hash, "");
    assert_int_equal(c.tvs_count + c.cm_count + c.capf_count, 0);
    char buf[512];
    config_describe(&c, buf, sizeof buf);
    assert_non_null(strstr(buf, "fullConfig: true (absent, default)\n"));
    assert_non_null(strstr(buf, "certHash: (absent)\n"));
    assert_non_null(strstr(buf, "tvs: none\n"));

    /* Ports default: CAPF 3804, TVS 2445; empty values count as absent. */
    assert_int_equal(parse_str(&c,
                               "<device><capfList><capf><processNodeName>capf.example"
                               "</processNodeName><phonePort></phonePort></capf></capfList>"
                               "<TVS><members><member><address>tvs.example</address></member>"
                               "</members></TVS><encrConfig> </encrConfig></device>",
                               NULL, 0),
                     CONFIG_OK);
    assert_int_equal(c.capf_count, 1);
    assert_string_equal(c.capf[0].host, "capf.example");
    assert_int_equal(c.capf[0].port, CONFIG_CAPF_DEFAULT_PORT);
    assert_int_equal(c.tvs_count, 1);
    assert_int_equal(c.tvs[0].port, CONFIG_TVS_DEFAULT_PORT);
    assert_int_equal(c.tvs[0].priority, CONFIG_NO_PRIORITY);
    assert_false(c.present & CONFIG_HAS_ENCR_CONFIG);
}

/* Removes the <TVS>...</TVS> block from the real full config. */
static void test_tvs_falls_back_to_call_managers(void **state)
{
    (void)state;
    size_t n;
    char *x = (char *)load(FULL, &n);
    char *a = strstr(x, "<TVS>"), *b = strstr(x, "</TVS>");
    assert_non_null(a);
    assert_non_null(b);
    memmove(a, b + strlen("</TVS>"), strlen(b + strlen("</TVS>")) + 1);
    struct phone_config c;
    assert_int_equal(parse_str(&c, x, NULL, 0), CONFIG_OK);
    free(x);
    assert_false(c.present & CONFIG_HAS_TVS);
    assert_call_managers(&c);
    struct config_server s[CONFIG_MAX_SERVERS];
    assert_int_equal(config_tvs_servers(&c, s), 3);
    for (int i = 0; i < 3; i++) {
        char host[16];
        snprintf(host, sizeof host, "127.0.0.1%d", i + 1);
        assert_string_equal(s[i].host, host);
        assert_int_equal(s[i].port, 2445);
    }
    char buf[1024];
    config_describe(&c, buf, sizeof buf);
    assert_non_null(strstr(buf, "tvs 3: 127.0.0.13 port 2445 (call-manager group)\n"));
}

#define MEMBER(prio, host) \
    "<member priority=\"" prio "\"><port>2445</port><address>" host "</address></member>"

static void test_priority_order_and_cap(void **state)
{
    (void)state;
    struct phone_config c;
    assert_int_equal(parse_str(&c,
                               "<device><TVS><members>" MEMBER("7", "d") MEMBER("2", "b")
                                   MEMBER("9", "e") MEMBER("0", "a") MEMBER("2", "c")
                                       MEMBER("8", "f") MEMBER("1", "")
                                           "</members></TVS></device>",
                               NULL, 0),
                     CONFIG_OK);
    assert_int_equal(c.tvs_count, 3);
    assert_int_equal(c.tvs_ignored, 4); /* e, d pushed off; f past the end; no address */
    assert_string_equal(c.tvs[0].host, "a");
    assert_string_equal(c.tvs[1].host, "b"); /* tie: document order */
    assert_string_equal(c.tvs[2].host, "c");

    /* Call-manager members by priority, more than 3 dropped. */
    assert_int_equal(
        parse_str(&c,
                  "<device><devicePool><callManagerGroup><members>"
                  "<member priority=\"3\"><callManager><processNodeName>n3</processNodeName>"
                  "</callManager></member>"
                  "<member priority=\"1\"><callManager><ports><ethernetPhonePort>2000"
                  "</ethernetPhonePort></ports><processNodeName>n1</processNodeName>"
                  "</callManager></member>"
                  "<member priority=\"2\"><callManager><processNodeName>n2</processNodeName>"
                  "</callManager></member>"
                  "<member priority=\"0\"><callManager><processNodeName>n0</processNodeName>"
                  "</callManager></member>"
                  "<member priority=\"1\"><callManager/></member>"
                  "</members></callManagerGroup></devicePool></device>",
                  NULL, 0),
        CONFIG_OK);
    assert_int_equal(c.cm_count, 3);
    assert_int_equal(c.cm_ignored, 2); /* n3 pushed off, one without a host */
    assert_string_equal(c.cm[0].host, "n0");
    assert_string_equal(c.cm[1].host, "n1");
    assert_int_equal(c.cm[1].ethernet_phone_port, 2000);
    assert_string_equal(c.cm[2].host, "n2");

    /* CAPF entries in document order, the first 3 kept. */
    assert_int_equal(parse_str(&c,
                               "<device><capfList>"
                               "<capf><processNodeName>c1</processNodeName></capf>"
                               "<capf><phonePort>1</phonePort></capf>"
                               "<capf><processNodeName>c2</processNodeName></capf>"
                               "<capf><processNodeName>c3</processNodeName></capf>"
                               "<capf><processNodeName>c4</processNodeName></capf>"
                               "</capfList></device>",
                               NULL, 0),
                     CONFIG_OK);
    assert_int_equal(c.capf_count, 3);
    assert_int_equal(c.capf_ignored, 2);
    assert_string_equal(c.capf[2].host, "c3");
    char buf[512];
    config_describe(&c, buf, sizeof buf);
    assert_non_null(strstr(buf, "capf 3: c3 port 3804\n"));
    assert_non_null(strstr(buf, "ignored entries: 2 (over 3 per list or without host)\n"));
}

/* The seed's partial config (encrypted-config-feature) writes "False". */
static void test_seed_partial_config(void **state)
{
    (void)state;
    struct phone_config c;
    assert_int_equal(parse_str(&c,
                               "<device>\n<fullConfig>False</fullConfig>\n"
                               "<loadInformation>SIP75.9-3-1SR2-1S</loadInformation>\n"
                               "<ipAddressMode>0</ipAddressMode>\n"
                               "<capfAuthMode>0</capfAuthMode>\n<capfList>\n<capf>\n"
                               "<phonePort>3804</phonePort>\n"
                               "<processNodeName>10.48.46.4</processNodeName>\n"
                               "</capf>\n</capfList>\n"
                               "<certHash>6E566143C1C14566C9DA943D949A79C8</certHash>\n"
                               "<encrConfig>true</encrConfig>\n</device>\n",
                               NULL, 0),
                     CONFIG_OK);
    assert_false(c.full_config);
    assert_true(c.encr_config);
    assert_string_equal(c.load_information, "SIP75.9-3-1SR2-1S");
    assert_string_equal(c.cert_hash, "6e566143c1c14566c9da943d949a79c8");
    assert_string_equal(c.capf[0].host, "10.48.46.4");
    assert_int_equal(c.capf[0].port, 3804);
}

static void test_whitespace_entities_cdata(void **state)
{
    (void)state;
    struct phone_config c;
    assert_int_equal(parse_str(&c,
                               "<device><loadInformation>\n  a&amp;b&#x43;<![CDATA[ d ]]>e \n"
                               "</loadInformation><certHash>\n " MIC_HASH " \n</certHash>"
                               "<!-- comment --><?pi x?></device>",
                               NULL, 0),
                     CONFIG_OK);
    assert_string_equal(c.load_information, "a&bC d e");
    assert_string_equal(c.cert_hash, MIC_HASH);
}

/* ---- refusals ------------------------------------------------------------ */

static void test_malformed_xml(void **state)
{
    (void)state;
    expect_refused("<device>\n<certHash></certhash>\n</device>", CONFIG_ERR_XML,
                   "line 2, column 12: mismatched tag");
    expect_refused("<device><fullConfig>true</fullConfig>", CONFIG_ERR_XML, "no element found");
    expect_refused("", CONFIG_ERR_XML, "no element found");
    expect_refused("<device a='1' a='2'/>", CONFIG_ERR_XML, "duplicate attribute");
    expect_refused("<device>&undefined;</device>", CONFIG_ERR_XML, "undefined entity");
    expect_refused("<device></device><device/>", CONFIG_ERR_XML, "junk after document element");
    expect_refused("<device>\xff\xfe</device>", CONFIG_ERR_XML, "not well-formed");
    expect_refused("<config/>", CONFIG_ERR_ROOT, "root element <config> is not <device>");

    /* Malformed input in 1-byte chunks: same verdict, with the line. */
    const char *bad = "<device>\n<TVS>\n<members></TVS></device>";
    struct phone_config c;
    struct config_parser p;
    char err[160];
    assert_int_equal(config_parse_begin(&p, &c, 3), CONFIG_OK);
    int r = CONFIG_OK;
    for (size_t i = 0; bad[i] && r == CONFIG_OK; i++)
        r = config_parse_chunk(&p, (const uint8_t *)bad + i, 1);
    assert_int_equal(r, CONFIG_ERR_XML);
    assert_int_equal(config_parse_chunk(&p, (const uint8_t *)"x", 1), CONFIG_ERR_XML);
    assert_int_equal(config_parse_end(&p, err, sizeof err), CONFIG_ERR_XML);
    assert_non_null(strstr(err, "line 3"));
    assert_non_null(strstr(err, "mismatched tag"));
    assert_zeroed(&c);

    /* Two faults (too long, then "]]>" in text): which one is reported can
     * follow the chunking (found by the fuzzer); the document is refused
     * either way. */
    const char *two = "<device><capfAuthMode>123456]]></capfAuthMode></device>";
    assert_int_equal(parse_str(&c, two, NULL, 0), CONFIG_ERR_XML);
    assert_int_equal(parse_steps(&c, (const uint8_t *)two, strlen(two), 1),
                     CONFIG_ERR_VALUE_TOO_LONG);
    assert_zeroed(&c);
}

static void test_depth_limit(void **state)
{
    (void)state;
    struct phone_config c;
    /* device + 23 levels: at the limit. */
    char *ok = repeat("<device>", "<a>", CONFIG_MAX_DEPTH - 1, "");
    char *okx = repeat(ok, "</a>", CONFIG_MAX_DEPTH - 1, "</device>");
    assert_int_equal(parse_str(&c, okx, NULL, 0), CONFIG_OK);
    char *deep = repeat("<device>", "<a>", CONFIG_MAX_DEPTH, "");
    expect_refused(deep, CONFIG_ERR_TOO_DEEP, "<a> nested deeper than 24");
    /* 100000 levels: refused at level 25, memory never grows with depth. */
    char *deeper = repeat("<device>", "<a>", 100000, "");
    expect_refused(deeper, CONFIG_ERR_TOO_DEEP, "line 1: <a> nested");
    free(ok);
    free(okx);
    free(deep);
    free(deeper);
}

static void test_overlong_values(void **state)
{
    (void)state;
    char host127[128], host128[129], xml[512];
    memset(host127, 'h', 127);
    host127[127] = 0;
    memset(host128, 'h', 128);
    host128[128] = 0;
    struct phone_config c;

    snprintf(xml, sizeof xml, "<device><TVS><members><member><address>%s</address>"
             "</member></members></TVS></device>", host127);
    assert_int_equal(parse_str(&c, xml, NULL, 0), CONFIG_OK);
    assert_string_equal(c.tvs[0].host, host127);
    snprintf(xml, sizeof xml, "<device><TVS><members><member><address>%s</address>"
             "</member></members></TVS></device>", host128);
    expect_refused(xml, CONFIG_ERR_VALUE_TOO_LONG, "<address> longer than 127 characters");
    snprintf(xml, sizeof xml, "<device><capfList><capf><processNodeName>%s"
             "</processNodeName></capf></capfList></device>", host128);
    expect_refused(xml, CONFIG_ERR_VALUE_TOO_LONG, "<processNodeName> longer than 127");
    expect_refused("<device><certHash>" MIC_HASH "0</certHash></device>",
                   CONFIG_ERR_VALUE_TOO_LONG, "<certHash> longer than 32 characters");
    char *load_info = repeat("<device><loadInformation>", "x", CONFIG_LOAD_MAX, "</loadInformation></device>");
    expect_refused(load_info, CONFIG_ERR_VALUE_TOO_LONG, "<loadInformation> longer than 63");
    free(load_info);
    expect_refused("<device><TVS><members><member><port>022445</port></member></members></TVS>"
                   "</device>", CONFIG_ERR_VALUE_TOO_LONG, "<port> longer than 5");

    /* Long text in elements we do not read is fine (streamed, not kept). */
    char *label = repeat("<device><phoneLabel>", "Reception Desk ", 20000,
                         "</phoneLabel><encrConfig>true</encrConfig></device>");
    assert_int_equal(parse_str(&c, label, NULL, 0), CONFIG_OK);
    assert_true(c.encr_config);
    free(label);
}

static void test_bad_values(void **state)
{
    (void)state;
    expect_refused("<device><certHash>f404a38a23030f6fc7eecca3617fb13g</certHash></device>",
                   CONFIG_ERR_BAD_VALUE, "<certHash> is not empty nor 32 hex digits");
    expect_refused("<device><certHash>f404</certHash></device>", CONFIG_ERR_BAD_VALUE,
                   "certHash");
    expect_refused("<device><encrConfig>yes</encrConfig></device>", CONFIG_ERR_BAD_VALUE,
                   "<encrConfig> is neither true nor false");
    expect_refused("<device><capfAuthMode>256</capfAuthMode></device>", CONFIG_ERR_BAD_VALUE,
                   "<capfAuthMode> is not a number 0..255");
    expect_refused("<device><ipAddressMode>-1</ipAddressMode></device>", CONFIG_ERR_BAD_VALUE,
                   "ipAddressMode");
    expect_refused("<device><capfList><capf><phonePort>0</phonePort></capf></capfList></device>",
                   CONFIG_ERR_BAD_VALUE, "<phonePort> is not a port 1..65535");
    expect_refused("<device><capfList><capf><phonePort>65536</phonePort></capf></capfList>"
                   "</device>", CONFIG_ERR_BAD_VALUE, "phonePort");
    expect_refused("<device><TVS><members><member priority=\"x\"/></members></TVS></device>",
                   CONFIG_ERR_BAD_VALUE, "member priority \"x\"");
    expect_refused("<device><TVS><members><member><address>a b</address></member></members>"
                   "</TVS></device>", CONFIG_ERR_BAD_VALUE, "<address> is not a host name");
    expect_refused("<device><TVS><members><member><address>a\xc3\xa9</address></member>"
                   "</members></TVS></device>", CONFIG_ERR_BAD_VALUE, "host name");
    expect_refused("<device><loadInformation>a&#x7;b</loadInformation></device>",
                   CONFIG_ERR_XML, "reference to invalid character number");
    expect_refused("<device><loadInformation>a\xc3\xa9</loadInformation></device>",
                   CONFIG_ERR_BAD_VALUE, "non-printable");
    expect_refused("<device><certHash><b/></certHash></device>", CONFIG_ERR_BAD_VALUE,
                   "<certHash> holds element <b>, not text");
    expect_refused("<device><certHash/><certHash>" MIC_HASH "</certHash></device>",
                   CONFIG_ERR_DUPLICATE, "<certHash> given twice");
    expect_refused("<device><TVS><members><member><port>1</port><port>2</port></member>"
                   "</members></TVS></device>", CONFIG_ERR_DUPLICATE, "<port> given twice");
}

/* Entity expansion cannot happen: any DOCTYPE is refused before its
 * internal subset is read. */
static void test_billion_laughs_refused(void **state)
{
    (void)state;
    static const char lol[] =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE device [\n"
        " <!ENTITY lol \"lol\">\n"
        " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
        " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
        " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
        " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
        " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
        " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
        " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
        " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
        " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
        "]>\n"
        "<device><loadInformation>&lol9;</loadInformation><phoneLabel>&lol9;</phoneLabel>"
        "</device>\n";
    expect_refused(lol, CONFIG_ERR_DOCTYPE, "line 2: DOCTYPE <device> refused");
    expect_refused("<!DOCTYPE device SYSTEM \"file:///etc/passwd\"><device>&x;</device>",
                   CONFIG_ERR_DOCTYPE, "DOCTYPE");
    expect_refused("<!DOCTYPE device><device/>", CONFIG_ERR_DOCTYPE, "DOCTYPE");
}

static void test_element_and_size_limits(void **state)
{
    (void)state;
    char *many = repeat("<device>", "<a/>", CONFIG_MAX_ELEMENTS - 1, "</device>");
    struct phone_config c;
    assert_int_equal(parse_str(&c, many, NULL, 0), CONFIG_OK);
    free(many);
    many = repeat("<device>", "<a/>", CONFIG_MAX_ELEMENTS, "</device>");
    expect_refused(many, CONFIG_ERR_TOO_MANY_ELEMENTS, "more than 16384 elements");
    free(many);

    /* Over the per-download limit, whatever the chunking. */
    struct config_parser p;
    char err[160];
    static uint8_t spaces[100000];
    memset(spaces, ' ', sizeof spaces);
    assert_int_equal(config_parse_begin(&p, &c, 1), CONFIG_OK);
    assert_int_equal(config_parse_chunk(&p, (const uint8_t *)"<device>", 8), CONFIG_OK);
    int r = CONFIG_OK;
    size_t total = 8;
    while (r == CONFIG_OK) {
        r = config_parse_chunk(&p, spaces, sizeof spaces);
        total += sizeof spaces;
    }
    assert_int_equal(r, CONFIG_ERR_TOO_LARGE);
    assert_true(total > CONFIG_MAX_BYTES);
    assert_int_equal(config_parse_end(&p, err, sizeof err), CONFIG_ERR_TOO_LARGE);
    assert_string_equal(err, "config larger than 550001 bytes");
    assert_zeroed(&c);
}

/* expat keeps one entry per distinct element name: a config far richer
 * than the interop one (300 names, 3x) still fits the arena (at a 64-bit
 * host's pointer size; see CONFIG_ARENA_SIZE). */
static void test_many_distinct_names_fit(void **state)
{
    (void)state;
    static char xml[40000];
    size_t n = (size_t)sprintf(xml, "<device>");
    for (int i = 0; i < 300; i++)
        n += (size_t)sprintf(xml + n, "<vendorSettingNumber%03d enabled=\"1\">%d</vendorSettingNumber%03d>",
                             i, i, i);
    sprintf(xml + n, "<encrConfig>true</encrConfig></device>");
    struct phone_config c;
    char err[160];
    assert_int_equal(parse_str(&c, xml, err, sizeof err), CONFIG_OK);
    assert_true(c.encr_config);
    print_message("expat arena peak for 300 distinct names: %zu of %u bytes\n",
                  config_arena_peak(), CONFIG_ARENA_SIZE);
}

/* A huge start tag exhausts the arena: clean refusal, and the next parse
 * starts from a fresh arena. */
static void test_arena_exhaustion_recovers(void **state)
{
    (void)state;
    char *big = repeat("<device a=\"", "x", CONFIG_ARENA_SIZE, "\"/>");
    expect_refused(big, CONFIG_ERR_NO_MEMORY, "out of memory");
    free(big);
    size_t n;
    uint8_t *x = load(FULL, &n);
    struct phone_config c;
    assert_int_equal(config_parse_buffer(&c, x, n, 3, NULL, 0), CONFIG_OK);
    assert_full_body(&c);
    free(x);
}

static void test_one_parse_at_a_time(void **state)
{
    (void)state;
    struct config_parser a, b;
    struct phone_config ca, cb;
    char err[160];
    assert_int_equal(config_parse_begin(&a, &ca, 1), CONFIG_OK);
    assert_int_equal(config_parse_begin(&b, &cb, 1), CONFIG_ERR_BUSY);
    assert_int_equal(config_parse_end(&b, err, sizeof err), CONFIG_ERR_BUSY);
    assert_string_equal(err, "another config parse is open");
    assert_int_equal(config_parse_chunk(&a, (const uint8_t *)"<device><encrConfig>", 20),
                     CONFIG_OK);
    config_parse_abort(&a);
    assert_zeroed(&ca);
    assert_int_equal(config_parse_chunk(&a, (const uint8_t *)"x", 1), CONFIG_ERR_STATE);
    /* Beginning the same parser again drops its open parse. */
    assert_int_equal(config_parse_begin(&a, &ca, 1), CONFIG_OK);
    assert_int_equal(config_parse_chunk(&a, (const uint8_t *)"<device><certHash>", 18),
                     CONFIG_OK);
    assert_int_equal(config_parse_begin(&a, &ca, 1), CONFIG_OK);
    assert_int_equal(config_parse_chunk(&a, (const uint8_t *)"<device/>", 9), CONFIG_OK);
    assert_int_equal(config_parse_end(&a, NULL, 0), CONFIG_OK);
    assert_false(ca.present & CONFIG_HAS_CERT_HASH);
    /* The arena is free again; salt 0 and another salt give the same result. */
    assert_int_equal(config_parse_begin(&b, &cb, 0), CONFIG_OK);
    assert_int_equal(config_parse_chunk(&b, (const uint8_t *)"<device/>", 9), CONFIG_OK);
    assert_int_equal(config_parse_end(&b, NULL, 0), CONFIG_OK);
    assert_true(cb.full_config);
    assert_int_equal(config_parse_end(&b, err, sizeof err), CONFIG_ERR_STATE);
}

/* The arena is the work area (scratch.h): while another owner (a CAPF
 * session) holds it no parse begins, and a parse holds it until it ends. */
static void test_work_area_one_owner(void **state)
{
    (void)state;
    struct config_parser p;
    struct phone_config c;
    char err[160];
    void *area = scratch_acquire("CAPF session", 1000);
    assert_non_null(area);
    assert_string_equal(scratch_owner(), "CAPF session");
    assert_null(scratch_acquire("other", 16)); /* one owner at a time */
    assert_int_equal(config_parse_begin(&p, &c, 1), CONFIG_ERR_BUSY);
    assert_int_equal(config_parse_end(&p, err, sizeof err), CONFIG_ERR_BUSY);
    assert_string_equal(err, "work area in use by CAPF session");
    scratch_release(area);
    assert_null(scratch_owner());
    assert_null(scratch_acquire("too big", SCRATCH_SIZE + 1u));
    /* Free again: a parse takes it and keeps it until its end. */
    assert_int_equal(config_parse_begin(&p, &c, 1), CONFIG_OK);
    assert_string_equal(scratch_owner(), "config parse");
    assert_null(scratch_acquire("CAPF session", 1000));
    assert_int_equal(config_parse_chunk(&p, (const uint8_t *)"<device/>", 9), CONFIG_OK);
    assert_int_equal(config_parse_end(&p, NULL, 0), CONFIG_OK);
    assert_null(scratch_owner());
    area = scratch_acquire("CAPF session", SCRATCH_SIZE);
    assert_non_null(area);
    scratch_release(area);
}

static void test_err_reasons(void **state)
{
    (void)state;
    assert_string_equal(config_err_reason(CONFIG_OK), "ok");
    assert_string_equal(config_err_reason(CONFIG_ERR_DOCTYPE), "doctype_refused");
    assert_string_equal(config_err_reason(CONFIG_ERR_STATE), "bad_state");
    assert_string_equal(config_err_reason((enum config_err)99), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_interop_config),
        cmocka_unit_test(test_partial_configs),
        cmocka_unit_test(test_decrypted_full_configs),
        cmocka_unit_test(test_chunking_identical),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_missing_elements_defaults),
        cmocka_unit_test(test_tvs_falls_back_to_call_managers),
        cmocka_unit_test(test_priority_order_and_cap),
        cmocka_unit_test(test_seed_partial_config),
        cmocka_unit_test(test_whitespace_entities_cdata),
        cmocka_unit_test(test_malformed_xml),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_overlong_values),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_billion_laughs_refused),
        cmocka_unit_test(test_element_and_size_limits),
        cmocka_unit_test(test_many_distinct_names_fit),
        cmocka_unit_test(test_arena_exhaustion_recovers),
        cmocka_unit_test(test_one_parse_at_a_time),
        cmocka_unit_test(test_work_area_one_owner),
        cmocka_unit_test(test_err_reasons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
