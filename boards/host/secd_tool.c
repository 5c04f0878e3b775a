#define _POSIX_C_SOURCE 200809L
/* secd-tool: inspect and judge CTL/ITL/.sgn/.enc.sgn files as the phone
 * would (host program; the contract is in docs/secd-tool.md).
 *   secd-tool show FILE
 *   secd-tool verify [--ctl CTL] [--itl ITL] [--as NAME] FILE
 *   secd-tool decrypt --key KEY.pem [--ctl CTL] [--itl ITL] [--as NAME] FILE [-o OUT]
 * Last line of verify/decrypt: "verdict: ok" or "verdict: reject:<reason>".
 * Exit 0 ok, 1 rejected, 2 usage or I/O error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/sha.h>

#include "secd/secd.h"

#define EXIT_REJECT 1
#define EXIT_USAGE 2

struct blob {
    uint8_t *p;
    size_t len;
};

static int usage(void)
{
    fputs("usage: secd-tool show FILE\n"
          "       secd-tool verify [--ctl CTL] [--itl ITL] [--as NAME] FILE\n"
          "       secd-tool decrypt --key KEY.pem [--ctl CTL] [--itl ITL] [--as NAME] FILE [-o OUT]\n",
          stderr);
    return EXIT_USAGE;
}

/* Reads a whole file; one byte over the phone's limit is enough to refuse. */
static int read_file(const char *path, struct blob *b)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "secd-tool: cannot open %s\n", path);
        return -1;
    }
    size_t cap = SECD_MAX_FILE_SIZE + 1;
    b->p = malloc(cap);
    b->len = b->p ? fread(b->p, 1, cap, f) : 0;
    int bad = !b->p || ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "secd-tool: cannot read %s\n", path);
        free(b->p);
        b->p = NULL;
        return -1;
    }
    return 0;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void print_bytes_str(const char *label, struct secd_bytes b)
{
    printf("%-18s %.*s\n", label, (int)b.len, (const char *)b.p);
}

static void print_hex(const char *label, const uint8_t *p, size_t n)
{
    char hex[2 * 64 + 1];
    if (n > 64)
        n = 64;
    secd_hex(p, n, hex);
    printf("%-18s %s\n", label, hex);
}

static const char *hash_name(uint8_t alg)
{
    return alg == SECD_HASH_SHA1 ? "SHA1" : alg == SECD_HASH_SHA256 ? "SHA256"
         : alg == SECD_HASH_SHA512 ? "SHA512" : "?";
}

static void print_header(const struct secd_header *h)
{
    printf("%-18s %u.%u\n", "Version:", h->ver_major, h->ver_minor);
    printf("%-18s %u bytes\n", "Header Length:", h->header_len);
    if (h->has_signer_version)
        printf("%-18s %u.%u\n", "Signer Version:", h->signer_ver_major, h->signer_ver_minor);
    print_bytes_str("Signer Name:", h->signer_name);
    print_bytes_str("Issuer Name:", h->issuer_name);
    print_hex("Serial Number:", h->serial.p, h->serial.len);
    printf("%-18s %s\n", "Hash Algorithm:", hash_name(h->hash_alg));
    printf("%-18s %lu bytes\n", "Signature:", (unsigned long)h->signature.len);
    print_bytes_str("Filename:", h->filename);
    if (h->has_timestamp) {
        time_t t = (time_t)h->timestamp;
        struct tm tm;
        char buf[32];
        gmtime_r(&t, &tm);
        strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
        printf("%-18s %s UTC\n", "Timestamp:", buf);
    }
    if (h->encrypted) {
        printf("%-18s %lu bytes\n", "Encryption IV:", (unsigned long)h->iv.len);
        printf("%-18s %u\n", "Padding Count:", h->pad_count);
        printf("%-18s %u bits\n", "Wrapped Key:", h->wrapped_key_bits);
        printf("%-18s %s\n", "Digest Algorithm:", hash_name(h->digest_alg));
        print_hex("Plaintext Digest:", h->digest.p, h->digest.len);
    }
}

static void print_record(const struct secd_record *r, unsigned index)
{
    printf("\nRecord %u (offset %u)\n", index, (unsigned)r->offset);
    printf("%-18s %u bytes\n", "Record Length:", r->length);
    if (r->dns_name.len)
        print_bytes_str("DNS Name:", r->dns_name);
    print_bytes_str("Subject Name:", r->subject);
    if (r->has_role)
        printf("%-18s %s\n", "Role:", secd_role_name(r->role));
    else
        printf("%-18s (none)\n", "Role:");
    print_bytes_str("Issuer Name:", r->issuer);
    print_hex("Serial Number:", r->serial.p, r->serial.len);
    if (r->public_key.len)
        printf("%-18s %lu bytes\n", "Public Key:", (unsigned long)r->public_key.len);
    if (r->cert_signature.len)
        printf("%-18s %lu bytes\n", "Signature:", (unsigned long)r->cert_signature.len);
    if (r->certificate.len) {
        uint8_t sha1[WC_SHA_DIGEST_SIZE];
        printf("%-18s %lu bytes\n", "Certificate:", (unsigned long)r->certificate.len);
        wc_Sha sha;
        wc_InitSha(&sha);
        wc_ShaUpdate(&sha, r->certificate.p, (word32)r->certificate.len);
        wc_ShaFinal(&sha, sha1);
        wc_ShaFree(&sha);
        print_hex("Certificate SHA1:", sha1, sizeof sha1);
    }
    if (r->cert_hash.len) {
        printf("%-18s %s\n", "Cert Hash Alg:", hash_name(r->cert_hash_alg));
        print_hex("Certificate Hash:", r->cert_hash.p, r->cert_hash.len);
    }
}

static int cmd_show(int argc, char **argv)
{
    if (argc != 1)
        return usage();
    struct blob b;
    if (read_file(argv[0], &b) != 0)
        return EXIT_USAGE;
    uint8_t md5[16];
    secd_md5(b.p, b.len, md5);
    struct secd_header h;
    enum secd_err e = secd_parse_header(b.p, b.len, &h);
    int rc = 0;
    if (e != SECD_OK) {
        printf("header: %s\n", secd_err_reason(e));
        rc = EXIT_REJECT;
    } else {
        print_header(&h);
        if (ends_with(base_name(argv[0]), ".tlv")) {
            struct secd_rec_iter it;
            struct secd_record r;
            unsigned n = 0;
            secd_records_begin(&it, b.p, b.len, &h);
            while ((e = secd_records_next(&it, &r)) == SECD_OK && r.length)
                print_record(&r, ++n);
            if (e != SECD_OK) {
                printf("\nrecords: %s\n", secd_err_reason(e));
                rc = EXIT_REJECT;
            }
            printf("\n%-18s %u\n", "Records:", n);
        } else {
            printf("%-18s %lu bytes\n", "Body:", (unsigned long)(b.len - h.header_len));
        }
    }
    print_hex("File MD5:", md5, sizeof md5);
    free(b.p);
    return rc;
}

struct judge_args {
    const char *ctl, *itl, *as, *key, *out, *file;
};

static int parse_args(int argc, char **argv, struct judge_args *a, int want_key)
{
    memset(a, 0, sizeof *a);
    for (int i = 0; i < argc; i++) {
        const char **slot = NULL;
        if (!strcmp(argv[i], "--ctl"))
            slot = &a->ctl;
        else if (!strcmp(argv[i], "--itl"))
            slot = &a->itl;
        else if (!strcmp(argv[i], "--as"))
            slot = &a->as;
        else if (want_key && !strcmp(argv[i], "--key"))
            slot = &a->key;
        else if (want_key && !strcmp(argv[i], "-o"))
            slot = &a->out;
        else if (argv[i][0] == '-' || a->file)
            return -1;
        else {
            a->file = argv[i];
            continue;
        }
        if (++i >= argc)
            return -1;
        *slot = argv[i];
    }
    return a->file && (!want_key || a->key) ? 0 : -1;
}

static int load_trust_list(const char *path, struct blob *b, struct secd_tl *tl)
{
    if (read_file(path, b) != 0)
        return -1;
    enum secd_err e = secd_tl_load(tl, b->p, b->len);
    if (e != SECD_OK) {
        fprintf(stderr, "secd-tool: %s is not a usable trust list: %s\n", path,
                secd_err_reason(e));
        return -1;
    }
    return 0;
}

static int verdict(enum secd_err e)
{
    if (e == SECD_OK) {
        printf("verdict: ok\n");
        return 0;
    }
    printf("verdict: reject:%s\n", secd_err_reason(e));
    return EXIT_REJECT;
}

static enum secd_kind kind_of(const char *name, int *is_unsigned)
{
    *is_unsigned = 0;
    if (ends_with(name, ".tlv"))
        return strncmp(name, "CTL", 3) == 0 ? SECD_KIND_CTL : SECD_KIND_ITL;
    if (ends_with(name, ".sgn"))
        return SECD_KIND_SIGNED;
    *is_unsigned = 1;
    return SECD_KIND_SIGNED;
}

struct judged {
    struct blob ctl_b, itl_b, file;
    struct secd_tl ctl, itl;
    struct secd_trust trust;
    struct secd_decision d;
};

/* Loads trust lists and the file, judges it; returns a secd verdict, or -1
 * on usage/I/O error. */
static int judge(const struct judge_args *a, struct judged *j)
{
    memset(j, 0, sizeof *j);
    if (a->ctl) {
        if (load_trust_list(a->ctl, &j->ctl_b, &j->ctl) != 0)
            return -1;
        j->trust.ctl = &j->ctl;
    }
    if (a->itl) {
        if (load_trust_list(a->itl, &j->itl_b, &j->itl) != 0)
            return -1;
        j->trust.itl = &j->itl;
    }
    if (read_file(a->file, &j->file) != 0)
        return -1;
    const char *name = a->as ? a->as : base_name(a->file);
    int is_unsigned;
    enum secd_kind kind = kind_of(name, &is_unsigned);
    printf("trust state: %s%s\n", secd_state_name(secd_trust_state(&j->trust)),
           secd_trust_is_blind(&j->trust) && j->trust.itl ? " (rollback ITL)" : "");
    if (j->file.len > SECD_MAX_FILE_SIZE)
        return SECD_ERR_TOO_LARGE;
    if (is_unsigned)
        return secd_check_unsigned_config(&j->trust);
    enum secd_err e = secd_check_file(&j->trust, kind, j->file.p, j->file.len, name, &j->d);
    if (e == SECD_OK) {
        printf("signer: %.*s (anchor: %s)\n", (int)j->d.hdr.signer_name.len,
               (const char *)j->d.hdr.signer_name.p, secd_anchor_name(j->d.anchor));
        if (j->d.rollback)
            printf("rollback ITL: signatures no longer required once installed\n");
    }
    return e;
}

static void judged_free(struct judged *j)
{
    free(j->ctl_b.p);
    free(j->itl_b.p);
    free(j->file.p);
}

static int cmd_verify(int argc, char **argv)
{
    struct judge_args a;
    if (parse_args(argc, argv, &a, 0) != 0)
        return usage();
    struct judged j;
    int e = judge(&a, &j);
    int rc = e < 0 ? EXIT_USAGE : verdict((enum secd_err)e);
    judged_free(&j);
    return rc;
}

/* Loads the device private key (PEM: PKCS#8 or PKCS#1, alone or after
 * a certificate) as DER. */
static int load_key(const char *path, uint8_t *der, size_t cap, size_t *len)
{
    struct blob b;
    if (read_file(path, &b) != 0)
        return -1;
    int n = wc_KeyPemToDer(b.p, (int)b.len, der, (int)cap, NULL);
    free(b.p);
    if (n <= 0) {
        fprintf(stderr, "secd-tool: no private key in %s\n", path);
        return -1;
    }
    *len = (size_t)n;
    return 0;
}

static int write_sink(void *ctx, const uint8_t *p, size_t n)
{
    return fwrite(p, 1, n, (FILE *)ctx) == n ? 0 : -1;
}

static int cmd_decrypt(int argc, char **argv)
{
    struct judge_args a;
    if (parse_args(argc, argv, &a, 1) != 0)
        return usage();
    uint8_t key[4096];
    size_t key_len;
    if (load_key(a.key, key, sizeof key, &key_len) != 0)
        return EXIT_USAGE;
    struct judged j;
    int e = judge(&a, &j);
    FILE *tmp = NULL;
    if (e == SECD_OK && !j.d.hdr.encrypted)
        e = SECD_ERR_MALFORMED;
    if (e == SECD_OK) {
        /* Plaintext goes to a temporary file that only becomes OUT once
         * every check passed. */
        tmp = tmpfile();
        if (!tmp)
            e = -1;
    }
    if (e == SECD_OK) {
        static struct secd_decrypt dec;
        const uint8_t *body = j.file.p + j.d.hdr.header_len;
        size_t body_len = j.file.len - j.d.hdr.header_len;
        e = secd_decrypt_begin(&dec, &j.d.hdr, key, key_len);
        if (e == SECD_OK)
            e = secd_decrypt_update(&dec, body, body_len, write_sink, tmp);
        if (e == SECD_OK)
            e = secd_decrypt_final(&dec, write_sink, tmp);
    }
    memset(key, 0, sizeof key);
    if (e == SECD_OK && a.out) {
        FILE *out = fopen(a.out, "wb");
        char buf[4096];
        size_t n;
        rewind(tmp);
        while (out && (n = fread(buf, 1, sizeof buf, tmp)) > 0)
            if (fwrite(buf, 1, n, out) != n)
                break;
        if (!out || ferror(tmp) || fclose(out) != 0) {
            fprintf(stderr, "secd-tool: cannot write %s\n", a.out);
            e = -1;
        }
    }
    if (tmp)
        fclose(tmp);
    int rc = e < 0 ? EXIT_USAGE : verdict((enum secd_err)e);
    judged_free(&j);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    if (!strcmp(argv[1], "show"))
        return cmd_show(argc - 2, argv + 2);
    if (!strcmp(argv[1], "verify"))
        return cmd_verify(argc - 2, argv + 2);
    if (!strcmp(argv[1], "decrypt"))
        return cmd_decrypt(argc - 2, argv + 2);
    return usage();
}
