# cmake -DSOURCE_DIR=... -DBINARY_DIR=... -DINTEROP_DIR=... -P build_image.cmake
# Configures (first time) and builds the QEMU firmware image with the
# qemu-mps2-an385 preset, then prints its size.
function(run)
  execute_process(COMMAND ${ARGN} WORKING_DIRECTORY "${SOURCE_DIR}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    list(JOIN ARGN " " cmd)
    message(FATAL_ERROR "failed (${rc}): ${cmd}")
  endif()
endfunction()

if(NOT EXISTS "${BINARY_DIR}/CMakeCache.txt")
  run(${CMAKE_COMMAND} --preset qemu-mps2-an385 -B "${BINARY_DIR}"
      "-DSECD_INTEROP_DIR=${INTEROP_DIR}")
endif()
run(${CMAKE_COMMAND} --build "${BINARY_DIR}" -j2)
run(${CMAKE_COMMAND} --build "${BINARY_DIR}" --target size)
