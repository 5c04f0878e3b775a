# cmake -DSOURCE_DIR=... -DBINARY_DIR=... -DINTEROP_DIR=... -P build_image.cmake
# Configures (first time) and builds the QEMU firmware image with the
# qemu-mps2-an385 preset, then prints its size.
include("${CMAKE_CURRENT_LIST_DIR}/../support/run_checked.cmake")

if(NOT EXISTS "${BINARY_DIR}/CMakeCache.txt")
  run(${CMAKE_COMMAND} --preset qemu-mps2-an385 -B "${BINARY_DIR}"
      "-DSECD_INTEROP_DIR=${INTEROP_DIR}")
endif()
run(${CMAKE_COMMAND} --build "${BINARY_DIR}" -j2)
run(${CMAKE_COMMAND} --build "${BINARY_DIR}" --target size)
