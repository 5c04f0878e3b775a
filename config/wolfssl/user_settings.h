/* wolfSSL configuration for the phone (all boards).
 *
 * One file for host and Cortex-M3 so that the host tests exercise the same
 * feature set the firmware ships. Board differences are limited to the math
 * back end and the entropy/time hooks. This file is also read by wolfSSL's
 * .S files: keep C declarations inside #ifndef __ASSEMBLER__. */
#ifndef SECD_WOLFSSL_USER_SETTINGS_H
#define SECD_WOLFSSL_USER_SETTINGS_H

/* --- platform ------------------------------------------------------- */
#define SINGLE_THREADED
#define NO_FILESYSTEM
#define NO_WRITEV
#define WOLFSSL_USER_IO          /* TLS bytes move through our callbacks */
#define WOLFSSL_NO_SOCK
#define WOLFSSL_IGNORE_FILE_WARN
#define NO_MAIN_DRIVER
#define NO_DEV_RANDOM
#define HAVE_HASHDRBG
/* The DRBG is seeded from the HAL entropy source (hal_entropy.h). */
#define CUSTOM_RAND_GENERATE_SEED secd_wolfssl_seed
/* XTIME comes from the HAL wall clock (certificate validity checks). */
#define TIME_OVERRIDES
#define XTIME secd_wolfssl_time
#define XGMTIME secd_wolfssl_gmtime
#define HAVE_TIME_T_TYPE
#define HAVE_TM_TYPE
#define NEED_TMP_TIME

#if defined(__arm__) && !defined(__linux__)
  #define WOLFSSL_SMALL_STACK
  #define WOLFSSL_GENERAL_ALIGNMENT 4
  #define SIZEOF_LONG_LONG 8
  #define WOLFSSL_SP_ASM
  #define WOLFSSL_SP_ARM_CORTEX_M_ASM  /* THUMB_ASM hangs on M3 (platform notes) */
  #define WOLFSSL_SP_ARM_CORTEX_M
  #define WOLFSSL_NO_ASM_HEADERS
  /* Size options of the Cortex-M3 image (flash budget 320 KiB of text +
   * data, measured with the map file: docs/performance.md). Same features
   * as the host, smaller code.
   * Speed where the targets are: sp_cortexm.c (RSA-2048 and P-256, the
   * CTL/ITL/config signatures, the encrypted-config key unwrap, the TLS
   * handshakes) is built unrolled — WOLFSSL_SP_SMALL there costs 1.7x per
   * RSA operation and misses the 6 M and 45 M targets. The generic
   * multi-precision code (sp_int.c: RSA-4096, P-384, key-generation
   * helpers) is built small: toolchain/deps.cmake compiles sp_int.c with
   * SECD_WOLFSSL_SP_INT_C (-8.5 KB). */
  #ifdef SECD_WOLFSSL_SP_INT_C
    #define WOLFSSL_SP_SMALL
  #endif
  #define NO_ERROR_STRINGS         /* TLS failures traced by wolfSSL error code */
  #define WOLFSSL_AES_SMALL_TABLES /* byte S-boxes instead of 4 KB T-tables */
  #define USE_SLOW_SHA             /* SHA-1 and SHA-512/384 rolled up; SHA-256 */
  #define USE_SLOW_SHA512          /* stays unrolled: the TVS cache key (0.4 KB) */
  #define NO_SESSION_CACHE         /* no TLS resumption: every session is fresh */
  #define NO_PWDBASED              /* no PBKDF/PKCS#12: nothing uses them */
  #define SECD_NO_CERT_GEN         /* certificate generation: host tests only */
#endif

/* --- math ----------------------------------------------------------- */
#define WOLFSSL_SP_MATH_ALL
#define WOLFSSL_HAVE_SP_RSA
#define WOLFSSL_HAVE_SP_ECC
#define WOLFSSL_SP_NO_3072
/* Specialised (SP) code only for RSA-2048 and P-256, what the phone uses
 * on every boot and handshake. RSA-4096 signers (allowed for CTL/ITL) and
 * P-384 (CAPF key type, TLS curve) take the generic sp_int/ecc.c path:
 * slower, but the unrolled SP-4096 code and the 24 KB P-384 table do not
 * fit the M3's flash next to fast RSA-2048. Same on the host, so that the
 * host tests exercise the paths the firmware takes. */
#define SP_INT_BITS 4096

/* --- algorithms ----------------------------------------------------- */
#define WC_RSA_BLINDING
/* No RSA-PSS: no trust list, config or peer the phone meets signs with it
 * (TLS 1.2 servers then sign with PKCS#1 v1.5, which the phone offers);
 * 3.3 KB of M3 flash. */
#define WC_NO_RSA_OAEP
#define WOLFSSL_KEY_GEN            /* LSC key pairs are generated on the phone */
#define HAVE_ECC
#define ECC_TIMING_RESISTANT
#define HAVE_ECC384
#define ECC_SHAMIR
#define NO_DH
#define NO_DSA
#define NO_RC4
#define NO_DES3
#define NO_MD4
#define NO_PSK
#define NO_OLD_TLS
#define HAVE_AES_CBC
#define HAVE_AESGCM
#define GCM_SMALL
#define WOLFSSL_AES_128
#define WOLFSSL_AES_256
#define WOLFSSL_SHA512
#define WOLFSSL_SHA384             /* no SHA-224: nothing uses it (0.7 KB of flash) */
#define WOLFSSL_STATIC_RSA         /* older call managers offer plain-RSA suites */

/* --- X.509, PEM, TLS ------------------------------------------------ */
#define WOLFSSL_PEM_TO_DER
#ifndef SECD_NO_CERT_GEN
#define WOLFSSL_CERT_GEN           /* CSR-free LSC flow still needs DER helpers */
#define WOLFSSL_CERT_EXT
#endif
#define WOLFSSL_ASN_TEMPLATE
#define NO_WOLFSSL_SERVER
#define HAVE_TLS_EXTENSIONS
#define HAVE_SUPPORTED_CURVES
#define HAVE_SNI
#define HAVE_EXTENDED_MASTER
#define HAVE_ENCRYPT_THEN_MAC
/* secd/tls pins the server's leaf certificate (TVS/CAPF records) instead of
 * trusting a CA store: its verify callback must run for the leaf even when
 * wolfSSL's own chain check passed. */
#define WOLFSSL_ALWAYS_VERIFY_CB
#define WOLFSSL_BASE64_ENCODE

#ifndef __ASSEMBLER__
  #include <time.h>
  #ifdef __cplusplus
  extern "C" {
  #endif
  int secd_wolfssl_seed(unsigned char *output, unsigned int sz);
  time_t secd_wolfssl_time(time_t *t);
  struct tm *secd_wolfssl_gmtime(const time_t *t, struct tm *out);
  #ifdef __cplusplus
  }
  #endif
#endif

#endif
