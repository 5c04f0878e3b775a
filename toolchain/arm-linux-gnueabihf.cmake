# Embedded Linux on 32-bit ARM (ARMv7-A, hard float): the POSIX board
# (boards/host: secd-phone, secd-tool) cross-built with Debian's
# arm-linux-gnueabihf gcc (package gcc-arm-linux-gnueabihf, which brings
# libc6-dev-armhf-cross). Runs on an armhf Linux target, or here under
# qemu-arm user mode: qemu-arm -L /usr/arm-linux-gnueabihf build/linux-armhf/...
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(SECD_CROSS_TRIPLE arm-linux-gnueabihf)

find_program(SECD_CROSS_GCC ${SECD_CROSS_TRIPLE}-gcc)
if(NOT SECD_CROSS_GCC)
  message(FATAL_ERROR "${SECD_CROSS_TRIPLE}-gcc not found: run toolchain/setup.sh (Debian package gcc-arm-linux-gnueabihf)")
endif()
set(CMAKE_C_COMPILER ${SECD_CROSS_GCC})
set(CMAKE_ASM_COMPILER ${SECD_CROSS_GCC})

# The sysroot Debian's cross libc lives in; qemu-arm needs the same path (-L).
set(SECD_CROSS_SYSROOT /usr/${SECD_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH ${SECD_CROSS_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)

# Debian 12's armhf glibc still defaults to a 32-bit time_t. The phone
# checks certificate validity against the wall clock and the cluster's
# certificates may well expire after 2038, so ask glibc for the 64-bit
# time_t ABI (which needs 64-bit file offsets as well).
set(CMAKE_C_FLAGS_INIT "-D_TIME_BITS=64 -D_FILE_OFFSET_BITS=64")
