# ctest script: install only the opsup-sdk component to a temp prefix, then configure,
# build and load (through the real loader) modules built against it alone, as a vendor
# would:
#   - the installed echo_cpp example (C++, WITH_OPAMP_PROTO, -Wall -Wextra -Werror);
#   - the module snippet of README.md verbatim (its CMakeLists.txt) with the C++ snippet of
#     sdk/README.md verbatim (my_module.cpp), and no language settings of our own;
#   - the installed hello_c example (plain C) built with clang and with Protobuf hidden
#     from find_package, so the SDK package must not require it;
#   - a C++ module targeting ABI minor 0 through OPSUP_TARGET_ABI_MINOR (it must declare
#     minor 0), and a C and a C++ file using a minor-1 service, which must compile with the
#     header's default target and fail with OPSUP_TARGET_ABI_MINOR=0;
#   - a C++ module with STATIC_PROTOBUF (step 5): refused with advice against Debian's non-PIC
#     libprotobuf-lite.a; built against a PIC one with no libprotobuf NEEDED and only its
#     entry point exported, loaded, and left at STATIC_PROTOBUF_MODULE.
# Inputs: BUILD_DIR, WORK_DIR, GENERATOR, INSPECT, SOURCE_DIR, CLANG, CXX, PROTOBUF_LITE_PIC,
# PROTOBUF_SOURCE_DIR, STATIC_PROTOBUF_MODULE.
cmake_minimum_required(VERSION 3.25)

function(run_step description)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE output
                  ERROR_VARIABLE output)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${description} failed (${result}):\n${output}")
  endif()
  message(STATUS "${description}: ok")
  set(step_output "${output}" PARENT_SCOPE)
endfunction()

# The fenced block of `file` that starts with the line after "```<language>" and contains
# `marker`, written verbatim to `out_file`.
function(extract_snippet file language marker out_file)
  file(READ "${file}" text)
  string(FIND "${text}" "${marker}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${file}: no snippet containing '${marker}'")
  endif()
  string(SUBSTRING "${text}" 0 ${at} before)
  string(FIND "${before}" "```${language}\n" start REVERSE)
  if(start EQUAL -1)
    message(FATAL_ERROR "${file}: '${marker}' is not inside a ```${language} block")
  endif()
  string(LENGTH "```${language}\n" fence_length)
  math(EXPR start "${start} + ${fence_length}")
  string(SUBSTRING "${text}" ${start} -1 rest)
  string(FIND "${rest}" "\n```" end)
  if(end EQUAL -1)
    message(FATAL_ERROR "${file}: the ```${language} block with '${marker}' is not closed")
  endif()
  math(EXPR end "${end} + 1")
  string(SUBSTRING "${rest}" 0 ${end} snippet)
  file(WRITE "${out_file}" "${snippet}")
endfunction()

# Copies `so_file` alone into a private directory (mode 0755, as the hygiene checks
# require) and loads it with the real loader; `expect` is a regex the listing must match.
function(load_module name so_file expect)
  if(NOT EXISTS "${so_file}")
    message(FATAL_ERROR "${name}: the build did not produce ${so_file}")
  endif()
  set(modules "${WORK_DIR}/modules_${name}")
  file(MAKE_DIRECTORY "${modules}")
  file(CHMOD "${modules}" PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ
    GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
  file(COPY "${so_file}" DESTINATION "${modules}"
    FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ
    WORLD_EXECUTE)
  run_step("load ${name}" "${INSPECT}" "${modules}")
  if(NOT step_output MATCHES "${expect}")
    message(FATAL_ERROR "${name}: the loader's listing does not match '${expect}':\n${step_output}")
  endif()
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
    share/opsup-sdk/examples/echo_cpp/CMakeLists.txt
    share/opsup-sdk/examples/hello_c/CMakeLists.txt)
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

# 1. echo_cpp, strict warnings.
set(source "${prefix}/share/opsup-sdk/examples/echo_cpp")
set(build "${WORK_DIR}/build_echo_cpp")
run_step("configure echo_cpp out of tree"
  ${CMAKE_COMMAND} -S "${source}" -B "${build}" -G "${GENERATOR}"
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release
    "-DCMAKE_CXX_FLAGS=-Wall -Wextra -Werror")
run_step("build echo_cpp out of tree" ${CMAKE_COMMAND} --build "${build}" -j 2)
load_module(echo_cpp "${build}/echo_cpp.so" "io\\.opsup\\.example\\.echo .*\\[loaded\\]")

# 2. The README snippets verbatim: no CMAKE_CXX_STANDARD, no flags of ours.
set(source "${WORK_DIR}/readme_snippet")
file(MAKE_DIRECTORY "${source}")
extract_snippet("${SOURCE_DIR}/README.md" cmake "# your module's CMakeLists.txt"
  "${source}/CMakeLists.txt")
extract_snippet("${SOURCE_DIR}/sdk/README.md" cpp "OPSUP_DEFINE_MODULE(MyModule"
  "${source}/my_module.cpp")
set(build "${WORK_DIR}/build_readme_snippet")
run_step("configure the README snippet"
  ${CMAKE_COMMAND} -S "${source}" -B "${build}" -G "${GENERATOR}" -DCMAKE_PREFIX_PATH=${prefix})
run_step("build the README snippet" ${CMAKE_COMMAND} --build "${build}" -j 2)
load_module(readme_snippet "${build}/my_module.so" "com\\.example\\.my .*\\[loaded\\]")

# 3. hello_c: plain C, clang, and no Protobuf to be found.
if(NOT CLANG OR NOT EXISTS "${CLANG}")
  message(FATAL_ERROR "clang is needed to build the plain-C module (tools/install-deps.sh "
                      "installs it); CLANG='${CLANG}'")
endif()
set(source "${prefix}/share/opsup-sdk/examples/hello_c")
set(build "${WORK_DIR}/build_hello_c")
run_step("configure hello_c out of tree with clang and without Protobuf"
  ${CMAKE_COMMAND} -S "${source}" -B "${build}" -G "${GENERATOR}"
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=${CLANG}
    -DCMAKE_DISABLE_FIND_PACKAGE_Protobuf=ON "-DCMAKE_C_FLAGS=-Wall -Wextra -Werror")
file(READ "${build}/CMakeCache.txt" cache)
if(NOT cache MATCHES "CMAKE_C_COMPILER_ID:[A-Z]*=Clang" AND NOT cache MATCHES "clang")
  message(FATAL_ERROR "hello_c was not configured with clang")
endif()
run_step("build hello_c out of tree" ${CMAKE_COMMAND} --build "${build}" -j 2)
load_module(hello_c "${build}/hello_c.so" "io\\.opsup\\.example\\.hello .*\\[loaded\\]")

# 4. Targeting ABI minor 0 with today's header.
set(source "${SOURCE_DIR}/tests/abi/out_of_tree/minor0")
set(build "${WORK_DIR}/build_minor0")
run_step("configure the minor-0 module"
  ${CMAKE_COMMAND} -S "${source}" -B "${build}" -G "${GENERATOR}"
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS=-Wall -Wextra -Werror")
run_step("build the minor-0 module" ${CMAKE_COMMAND} --build "${build}" -j 2)
load_module(minor0 "${build}/minor0.so" "com\\.example\\.minor0 1\\.0\\.0 minor 0 \\[loaded\\]")

# Newer services are hidden from a module targeting minor 0, in C and in the C++ helper.
foreach(language c cpp)
  if(language STREQUAL "c")
    set(compiler "${CLANG}")
    set(flags -std=c11)
  else()
    set(compiler "${CXX}")
    set(flags -std=c++20)
  endif()
  set(file "${SOURCE_DIR}/tests/abi/out_of_tree/hides_newer.${language}")
  run_step("hides_newer.${language} compiles for the newest minor"
    "${compiler}" ${flags} -fsyntax-only -Werror "-I${prefix}/include" "${file}")
  execute_process(
    COMMAND "${compiler}" ${flags} -fsyntax-only -DOPSUP_TARGET_ABI_MINOR=0 "-I${prefix}/include"
            "${file}"
    RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(result EQUAL 0 OR NOT output MATCHES "own_settings_yaml")
    message(FATAL_ERROR "hides_newer.${language} must not compile for minor 0 (it uses "
                        "own_settings_yaml); result ${result}:\n${output}")
  endif()
  message(STATUS "hides_newer.${language} is refused for minor 0: ok")
endforeach()

# 5. STATIC_PROTOBUF: protobuf-lite inside the module.
# 5a. Debian's libprotobuf-lite.a (what find_library finds without the cache variable) is
# not position-independent: configuring must stop with the advice, not fail at link time.
set(source "${SOURCE_DIR}/tests/abi/out_of_tree/static_protobuf")
set(build "${WORK_DIR}/build_static_protobuf_system")
execute_process(
  COMMAND ${CMAKE_COMMAND} -S "${source}" -B "${build}" -G "${GENERATOR}"
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release
  RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(result EQUAL 0 OR NOT output MATCHES
     "STATIC_PROTOBUF: [^\n]*libprotobuf-lite\\.a is not[ \n]+position-independent"
   OR NOT output MATCHES "CMAKE_POSITION_INDEPENDENT_CODE=ON")
  message(FATAL_ERROR "STATIC_PROTOBUF with the system's libprotobuf-lite.a must be refused "
                      "with the advice; result ${result}:\n${output}")
endif()
file(READ "${build}/opsup_static_protobuf_check/link.log" link_log)
if(NOT link_log MATCHES "recompile with -fPIC|can not be used when making a shared object")
  message(FATAL_ERROR "STATIC_PROTOBUF refused the archive, but not for PIC:\n${link_log}")
endif()
message(STATUS "STATIC_PROTOBUF refuses the system's non-PIC libprotobuf-lite.a with advice: ok")

# 5b. With a position-independent libprotobuf-lite.a (built by the opsup_protobuf_lite_pic
# target from Debian's protobuf source, as sdk/README.md says) the module must build, need no
# libprotobuf at run time and export nothing but its entry point.
if(NOT PROTOBUF_LITE_PIC OR NOT EXISTS "${PROTOBUF_LITE_PIC}")
  message(FATAL_ERROR "no position-independent libprotobuf-lite.a ('${PROTOBUF_LITE_PIC}'): "
                      "tools/install-deps.sh unpacks Debian's protobuf source into "
                      "${PROTOBUF_SOURCE_DIR}; then reconfigure and build (target "
                      "opsup_protobuf_lite_pic)")
endif()
set(build "${WORK_DIR}/build_static_protobuf")
run_step("configure the STATIC_PROTOBUF module"
  ${CMAKE_COMMAND} -S "${source}" -B "${build}" -G "${GENERATOR}"
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release
    "-DCMAKE_CXX_FLAGS=-Wall -Wextra -Werror"
    "-DOPSUP_PROTOBUF_LITE_STATIC_LIBRARY=${PROTOBUF_LITE_PIC}")
run_step("build the STATIC_PROTOBUF module" ${CMAKE_COMMAND} --build "${build}" -j 2)
set(module "${build}/static_probe.so")
run_step("read the STATIC_PROTOBUF module's dynamic section" readelf -d "${module}")
if(step_output MATCHES "protobuf")
  message(FATAL_ERROR "static_probe.so still needs a shared libprotobuf:\n${step_output}")
endif()
run_step("list the STATIC_PROTOBUF module's exported symbols" nm -D --defined-only "${module}")
string(REGEX REPLACE "[^\n]* [A-Za-z] " "" exported "${step_output}")
string(STRIP "${exported}" exported)
if(NOT exported STREQUAL "opsup_module_entry_v1")
  message(FATAL_ERROR "static_probe.so must export only opsup_module_entry_v1, not:\n"
                      "${step_output}")
endif()
message(STATUS "static_probe.so needs no libprotobuf and exports only its entry point: ok")
load_module(static_probe "${module}"
  "com\\.example\\.static_protobuf 1\\.0\\.0 .*\\[loaded\\]")
# For static_protobuf_module_test, which runs it in the supervisor beside modules that use
# the shared libprotobuf-lite.
get_filename_component(module_dir "${STATIC_PROTOBUF_MODULE}" DIRECTORY)
file(REMOVE_RECURSE "${module_dir}")
file(COPY "${module}" DESTINATION "${module_dir}")
