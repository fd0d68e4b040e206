# CMake helpers for building opampsupervisor modules, in-tree and out of tree
# (find_package(opsup-sdk) includes this file).
include_guard(GLOBAL)

# opsup_add_module(<target> SOURCES <files...>
#                  [WITH_OPAMP_PROTO]
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
# process, and links protobuf-lite.
# In-tree, OUTPUT_DIRECTORY defaults to ${OPSUP_MODULE_OUTPUT_DIRECTORY}.
function(opsup_add_module target)
  cmake_parse_arguments(ARG "WITH_OPAMP_PROTO"
    "OUTPUT_NAME;OUTPUT_DIRECTORY;INSTALL_DESTINATION;INSTALL_COMPONENT" "SOURCES;LIBS" ${ARGN})
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
    target_link_libraries(${target} PRIVATE protobuf::libprotobuf-lite)
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
