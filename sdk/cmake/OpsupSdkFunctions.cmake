# CMake helpers for building opampsupervisor modules, in-tree and out of tree
# (find_package(opsup-sdk) includes this file).
include_guard(GLOBAL)

# opsup_add_module(<target> SOURCES <files...>
#                  [WITH_OPAMP_PROTO [STATIC_PROTOBUF]]
#                  [OUTPUT_NAME <name>]          file name without .so (default: <target>)
#                  [OUTPUT_DIRECTORY <dir>]      where the .so is built
#                  [INSTALL_DESTINATION <dir>]   adds an install rule
#                  [INSTALL_COMPONENT <name>]    component of that rule (default: modules)
#                  [LIBS <targets...>])          more libraries to link privately
#
# Builds a MODULE library "<name>.so" that exports only opsup_module_entry_v* (hidden
# visibility plus a linker version script) and refuses undefined symbols at link time (a
# module reaches the host only through the opsup_host_api table). A module with C++
# sources links opsup::sdk_cxx, which requires C++20 (the helper needs it); a plain-C
# module links opsup::sdk and needs neither a C++ compiler nor protobuf.
# WITH_OPAMP_PROTO finds Protobuf (only then), generates lite C++ code from the OpAMP
# .proto files in ${OPSUP_PROTO_DIR} inside this module's own build (#include
# "opamp.pb.h"), so each module has a private copy and several can parse OpAMP in one
# process, and links protobuf-lite: shared by default (the module then needs the same
# libprotobuf-lite.so.<N> as the machine it was built on), or with STATIC_PROTOBUF a
# static, position-independent libprotobuf-lite.a linked into the module with its symbols
# hidden (--exclude-libs,ALL and the version script), so the module needs no protobuf at
# run time. Debian's libprotobuf-lite.a is not position-independent: build protobuf-lite
# (the version of the protoc and headers find_package(Protobuf) finds; on Debian from
# `apt-get source protobuf`) with -DCMAKE_POSITION_INDEPENDENT_CODE=ON
# -Dprotobuf_BUILD_SHARED_LIBS=OFF and pass -DOPSUP_PROTOBUF_LITE_STATIC_LIBRARY=<its
# libprotobuf-lite.a> (sdk/README.md has the commands). The archive is checked at configure
# time and refused with that advice when it cannot go into a shared object.
# In-tree, OUTPUT_DIRECTORY defaults to ${OPSUP_MODULE_OUTPUT_DIRECTORY}.
# Sets <out_var> to a static libprotobuf-lite.a that can be linked into a shared object:
# OPSUP_PROTOBUF_LITE_STATIC_LIBRARY, else the one beside the system's protobuf. Fails the
# configure step with advice when there is none or it is not position-independent.
function(_opsup_static_protobuf_lite out_var)
  if(NOT OPSUP_PROTOBUF_LITE_STATIC_LIBRARY)
    find_library(OPSUP_PROTOBUF_LITE_STATIC_LIBRARY NAMES libprotobuf-lite.a
      DOC "static, position-independent libprotobuf-lite.a for STATIC_PROTOBUF modules")
  endif()
  set(library "${OPSUP_PROTOBUF_LITE_STATIC_LIBRARY}")
  set(advice "build protobuf ${Protobuf_VERSION} (on Debian: apt-get source protobuf) with "
             "-DCMAKE_POSITION_INDEPENDENT_CODE=ON "
             "-Dprotobuf_BUILD_SHARED_LIBS=OFF and pass "
             "-DOPSUP_PROTOBUF_LITE_STATIC_LIBRARY=<its libprotobuf-lite.a>, or drop "
             "STATIC_PROTOBUF to link the shared libprotobuf-lite")
  if(NOT library OR NOT EXISTS "${library}")
    message(FATAL_ERROR "STATIC_PROTOBUF: no static libprotobuf-lite.a found; " ${advice})
  endif()
  string(MD5 key "${library}")
  set(result_var "OPSUP_PROTOBUF_LITE_STATIC_PIC_${key}")
  if(NOT DEFINED ${result_var})
    # Link a shared object that pulls in protobuf's common code, as a module would.
    set(check_dir "${CMAKE_BINARY_DIR}/opsup_static_protobuf_check")
    get_target_property(protobuf_includes protobuf::libprotobuf-lite INTERFACE_INCLUDE_DIRECTORIES)
    file(WRITE "${check_dir}/src/check.cpp" [=[
#include <google/protobuf/stubs/common.h>
extern "C" __attribute__((visibility("default"))) int opsup_check() {
  GOOGLE_PROTOBUF_VERIFY_VERSION;
  return 0;
}
]=])
    file(WRITE "${check_dir}/src/CMakeLists.txt" "
cmake_minimum_required(VERSION 3.25)
project(opsup_static_protobuf_check CXX)
find_package(Threads REQUIRED)
add_library(check MODULE check.cpp)
set_target_properties(check PROPERTIES POSITION_INDEPENDENT_CODE ON)
target_include_directories(check SYSTEM PRIVATE \"${protobuf_includes}\")
target_link_options(check PRIVATE LINKER:--no-undefined LINKER:--exclude-libs,ALL)
target_link_libraries(check PRIVATE \"${library}\" Threads::Threads)
")
    try_compile(pic "${check_dir}/build" "${check_dir}/src" opsup_static_protobuf_check
      OUTPUT_VARIABLE output)
    set(${result_var} ${pic} CACHE INTERNAL "whether ${library} links into a shared object")
    if(NOT pic)
      file(WRITE "${check_dir}/link.log" "${output}")
    endif()
  endif()
  if(NOT ${result_var})
    message(FATAL_ERROR "STATIC_PROTOBUF: ${library} is not position-independent and cannot "
                        "be linked into a module (linker output in "
                        "${CMAKE_BINARY_DIR}/opsup_static_protobuf_check/link.log); " ${advice})
  endif()
  set(${out_var} "${library}" PARENT_SCOPE)
endfunction()

function(opsup_add_module target)
  cmake_parse_arguments(ARG "WITH_OPAMP_PROTO;STATIC_PROTOBUF"
    "OUTPUT_NAME;OUTPUT_DIRECTORY;INSTALL_DESTINATION;INSTALL_COMPONENT" "SOURCES;LIBS" ${ARGN})
  if(ARG_STATIC_PROTOBUF AND NOT ARG_WITH_OPAMP_PROTO)
    message(FATAL_ERROR "opsup_add_module(${target}): STATIC_PROTOBUF needs WITH_OPAMP_PROTO")
  endif()
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "opsup_add_module(${target}): unknown arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "opsup_add_module(${target}): SOURCES is required")
  endif()

  add_library(${target} MODULE ${ARG_SOURCES})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON)
  if(ARG_OUTPUT_NAME)
    set_target_properties(${target} PROPERTIES OUTPUT_NAME ${ARG_OUTPUT_NAME})
  endif()
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIRECTORY}")
  elseif(DEFINED OPSUP_MODULE_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES
      LIBRARY_OUTPUT_DIRECTORY "${OPSUP_MODULE_OUTPUT_DIRECTORY}")
  endif()

  set(version_script "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/opsup-module.map")
  if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
    target_link_options(${target} PRIVATE
      "LINKER:--version-script=${version_script}"
      "LINKER:--no-undefined"
      "LINKER:--exclude-libs,ALL"
      "LINKER:--as-needed")
    set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS "${version_script}")
  endif()

  set(uses_cxx ${ARG_WITH_OPAMP_PROTO})
  foreach(source IN LISTS ARG_SOURCES)
    if(source MATCHES "\\.(cpp|cc|cxx|c\\+\\+|C)$")
      set(uses_cxx ON)
    endif()
  endforeach()
  if(uses_cxx)
    target_link_libraries(${target} PRIVATE opsup::sdk_cxx)
  else()
    target_link_libraries(${target} PRIVATE opsup::sdk)
  endif()
  target_link_libraries(${target} PRIVATE ${ARG_LIBS})

  if(ARG_WITH_OPAMP_PROTO)
    if(NOT TARGET protobuf::libprotobuf-lite OR NOT TARGET protobuf::protoc)
      find_package(Protobuf REQUIRED)
    endif()
    if(ARG_STATIC_PROTOBUF)
      _opsup_static_protobuf_lite(static_library)
      get_target_property(protobuf_includes protobuf::libprotobuf-lite
        INTERFACE_INCLUDE_DIRECTORIES)
      if(protobuf_includes)
        target_include_directories(${target} SYSTEM PRIVATE ${protobuf_includes})
      endif()
      find_package(Threads REQUIRED)
      target_link_libraries(${target} PRIVATE "${static_library}" Threads::Threads)
    else()
      target_link_libraries(${target} PRIVATE protobuf::libprotobuf-lite)
    endif()
    if(NOT OPSUP_PROTO_DIR OR NOT EXISTS "${OPSUP_PROTO_DIR}/opamp.proto")
      message(FATAL_ERROR
        "opsup_add_module(${target} WITH_OPAMP_PROTO): no opamp.proto in OPSUP_PROTO_DIR "
        "('${OPSUP_PROTO_DIR}')")
    endif()
    set(generated_dir "${CMAKE_CURRENT_BINARY_DIR}/${target}_opamp_proto")
    file(MAKE_DIRECTORY "${generated_dir}")
    set(generated
      "${generated_dir}/anyvalue.pb.cc" "${generated_dir}/anyvalue.pb.h"
      "${generated_dir}/opamp.pb.cc" "${generated_dir}/opamp.pb.h")
    add_custom_command(
      OUTPUT ${generated}
      COMMAND protobuf::protoc --cpp_out=${generated_dir} -I "${OPSUP_PROTO_DIR}"
              "${OPSUP_PROTO_DIR}/anyvalue.proto" "${OPSUP_PROTO_DIR}/opamp.proto"
      DEPENDS "${OPSUP_PROTO_DIR}/anyvalue.proto" "${OPSUP_PROTO_DIR}/opamp.proto"
      COMMENT "Generating lite C++ code for the OpAMP protos (module ${target})"
      VERBATIM)
    target_sources(${target} PRIVATE ${generated})
    target_include_directories(${target} SYSTEM PRIVATE "${generated_dir}")
    # Generated code is not ours to warn about.
    set_source_files_properties(${generated} PROPERTIES COMPILE_OPTIONS "-w")
  endif()

  if(ARG_INSTALL_DESTINATION)
    if(NOT ARG_INSTALL_COMPONENT)
      set(ARG_INSTALL_COMPONENT modules)
    endif()
    install(TARGETS ${target}
      LIBRARY DESTINATION "${ARG_INSTALL_DESTINATION}"
      COMPONENT ${ARG_INSTALL_COMPONENT})
  endif()
endfunction()
