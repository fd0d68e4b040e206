# ctest script: install only the opsup-sdk component to a temp prefix, configure and build
# the installed echo_cpp example against it with find_package(opsup-sdk), and check the
# result loads through the real loader.
# Inputs: BUILD_DIR, WORK_DIR, GENERATOR, INSPECT.
cmake_minimum_required(VERSION 3.25)

function(run_step description)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE output
                  ERROR_VARIABLE output)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${description} failed (${result}):\n${output}")
  endif()
  message(STATUS "${description}: ok")
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")

run_step("install the opsup-sdk component"
  ${CMAKE_COMMAND} --install "${BUILD_DIR}" --component opsup-sdk --prefix "${prefix}")
foreach(expected
    include/opsup/module.h include/opsup/module.hpp include/opsup/opamp_constants.h
    include/opsup/testing/fake_host.hpp lib/cmake/opsup-sdk/opsup-sdkConfig.cmake
    lib/cmake/opsup-sdk/opsup-sdkConfigVersion.cmake lib/cmake/opsup-sdk/OpsupSdkFunctions.cmake
    share/opsup-sdk/proto/opamp.proto share/opsup-sdk/proto/anyvalue.proto
    share/opsup-sdk/examples/echo_cpp/CMakeLists.txt)
  if(NOT EXISTS "${prefix}/${expected}")
    message(FATAL_ERROR "the SDK install lacks ${expected}")
  endif()
endforeach()
# Nothing but the SDK: no supervisor binary or capability module in the component.
file(GLOB_RECURSE installed RELATIVE "${prefix}" "${prefix}/*")
foreach(file IN LISTS installed)
  if(file MATCHES "\\.so$|^bin/")
    message(FATAL_ERROR "the SDK component installed ${file}")
  endif()
endforeach()

set(source "${prefix}/share/opsup-sdk/examples/echo_cpp")
set(build "${WORK_DIR}/build")
run_step("configure echo_cpp out of tree"
  ${CMAKE_COMMAND} -S "${source}" -B "${build}" -G "${GENERATOR}"
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release
    "-DCMAKE_CXX_FLAGS=-Wall -Wextra -Werror")
run_step("build echo_cpp out of tree" ${CMAKE_COMMAND} --build "${build}" -j 2)
if(NOT EXISTS "${build}/echo_cpp.so")
  message(FATAL_ERROR "the out-of-tree build did not produce echo_cpp.so")
endif()

# Load it: a private directory, mode 0755, as the hygiene checks require.
set(modules "${WORK_DIR}/modules")
file(MAKE_DIRECTORY "${modules}")
file(CHMOD "${modules}" PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ
  GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
file(COPY "${build}/echo_cpp.so" DESTINATION "${modules}"
  FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ
  WORLD_EXECUTE)
run_step("load the out-of-tree module" "${INSPECT}" "${modules}")
