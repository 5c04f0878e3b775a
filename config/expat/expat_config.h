/* Our expat configuration (host and Cortex-M3). The phone sets the hash
 * salt itself with XML_SetHashSalt() from the HAL entropy source, so expat's
 * own entropy gathering is never relied upon. */
#ifndef EXPAT_CONFIG_H
#define EXPAT_CONFIG_H 1
#define BYTEORDER 1234
#define HAVE_STDINT_H 1
#define HAVE_STDLIB_H 1
#define HAVE_STRING_H 1
#define PACKAGE "expat"
#define PACKAGE_URL ""
#define XML_CONTEXT_BYTES 1024
#define XML_DTD 0
#undef XML_DTD
#define XML_NS 0
#undef XML_NS
#define XML_POOR_ENTROPY 1
#endif
