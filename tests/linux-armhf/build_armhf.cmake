# cmake -DSOURCE_DIR=... -DBINARY_DIR=... -DINTEROP_DIR=... -P build_armhf.cmake
# Configures (first time) the linux-armhf preset into BINARY_DIR and builds
# only secd-phone and secd-tool (the build preset's targets), then prints
# their sizes.
include("${CMAKE_CURRENT_LIST_DIR}/../support/run_checked.cmake")

if(NOT EXISTS "${BINARY_DIR}/CMakeCache.txt")
  run(${CMAKE_COMMAND} --preset linux-armhf -B "${BINARY_DIR}" "-DSECD_INTEROP_DIR=${INTEROP_DIR}")
endif()
run(${CMAKE_COMMAND} --build "${BINARY_DIR}" --target secd-phone secd-tool -j2)
run(arm-linux-gnueabihf-size -B -d "${BINARY_DIR}/boards/host/secd-phone" "${BINARY_DIR}/boards/host/secd-tool")
