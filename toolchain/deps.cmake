# Third-party libraries, compiled from the Debian source packages that
# toolchain/setup.sh unpacked into .deps/, with OUR configuration headers.
set(SECD_DEPS_DIR "${CMAKE_SOURCE_DIR}/.deps" CACHE PATH "unpacked Debian source packages")

foreach(dep wolfssl lwip expat)
  if(NOT EXISTS "${SECD_DEPS_DIR}/${dep}/.version")
    message(FATAL_ERROR "${dep} source missing in ${SECD_DEPS_DIR}: run toolchain/setup.sh first")
  endif()
endforeach()
file(READ "${SECD_DEPS_DIR}/deps.lock" SECD_DEPS_LOCK)
string(REPLACE "\n" ", " SECD_DEPS_LOCK "${SECD_DEPS_LOCK}")
string(REGEX REPLACE ", $" "" SECD_DEPS_LOCK "${SECD_DEPS_LOCK}")

# --- wolfSSL --------------------------------------------------------------
set(WOLFSSL_DIR "${SECD_DEPS_DIR}/wolfssl")
set(_wc "${WOLFSSL_DIR}/wolfcrypt/src")
set(WOLFSSL_SOURCES
  ${_wc}/aes.c ${_wc}/asn.c ${_wc}/coding.c ${_wc}/ecc.c ${_wc}/error.c
  ${_wc}/hash.c ${_wc}/hmac.c ${_wc}/kdf.c ${_wc}/logging.c ${_wc}/md5.c
  ${_wc}/memory.c ${_wc}/random.c ${_wc}/rsa.c ${_wc}/sha.c ${_wc}/sha256.c
  ${_wc}/sha512.c ${_wc}/signature.c ${_wc}/sp_int.c ${_wc}/wc_encrypt.c
  ${_wc}/wc_port.c ${_wc}/wolfmath.c ${_wc}/pwdbased.c
  ${WOLFSSL_DIR}/src/internal.c ${WOLFSSL_DIR}/src/keys.c
  ${WOLFSSL_DIR}/src/ssl.c ${WOLFSSL_DIR}/src/tls.c ${WOLFSSL_DIR}/src/wolfio.c)
if(CMAKE_SYSTEM_PROCESSOR STREQUAL "cortex-m3")
  list(APPEND WOLFSSL_SOURCES ${_wc}/sp_cortexm.c)
  # config/wolfssl/user_settings.h builds the generic multi-precision code
  # (sp_int.c) small and the Cortex-M RSA/ECC code (sp_cortexm.c) fast: it
  # tells them apart by this definition (no wolfSSL header depends on it).
  set_source_files_properties(${_wc}/sp_int.c PROPERTIES COMPILE_DEFINITIONS SECD_WOLFSSL_SP_INT_C)
else()
  list(APPEND WOLFSSL_SOURCES ${_wc}/sp_c64.c ${_wc}/sp_c32.c)
endif()
add_library(wolfssl STATIC ${WOLFSSL_SOURCES})
target_include_directories(wolfssl SYSTEM PUBLIC
  "${CMAKE_SOURCE_DIR}/config/wolfssl" "${WOLFSSL_DIR}")
target_compile_definitions(wolfssl PUBLIC WOLFSSL_USER_SETTINGS)
target_compile_options(wolfssl PRIVATE -w -Os)

# --- expat (streaming XML parser for the phone config) -------------------
set(EXPAT_DIR "${SECD_DEPS_DIR}/expat/expat/lib")
add_library(expat STATIC ${EXPAT_DIR}/xmlparse.c ${EXPAT_DIR}/xmlrole.c ${EXPAT_DIR}/xmltok.c)
target_include_directories(expat SYSTEM PUBLIC "${EXPAT_DIR}" "${CMAKE_SOURCE_DIR}/config/expat")
target_compile_definitions(expat PUBLIC XML_STATIC PRIVATE HAVE_EXPAT_CONFIG_H)
target_compile_options(expat PRIVATE -w -Os)
