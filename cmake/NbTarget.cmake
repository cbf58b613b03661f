# nb_add_module(<target> ALIAS <ns::name> [OUTPUT_NAME <file>] SOURCES ...)
# A static library module: public headers under its folder's include/,
# C++20 as a usage requirement, the project's warnings, used as <ns::name>.
function(nb_add_module target)
  cmake_parse_arguments(ARG "" "ALIAS;OUTPUT_NAME" "SOURCES" ${ARGN})
  add_library(${target} STATIC ${ARG_SOURCES})
  add_library(${ARG_ALIAS} ALIAS ${target})
  if(ARG_OUTPUT_NAME)
    set_target_properties(${target} PROPERTIES OUTPUT_NAME ${ARG_OUTPUT_NAME})
  endif()
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:include>)
  target_compile_features(${target} PUBLIC cxx_std_20)
  nb_set_warnings(${target})
endfunction()

function(nb_set_warnings target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE
      $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion>)
  endif()
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    # GCC 12 reports impossible memcpy overlaps inside std::string operator+.
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wno-restrict>)
  endif()
endfunction()

# nb_add_tool(<name> SOURCES ... LIBS ...) : an executable in build/bin.
function(nb_add_tool name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS})
  nb_set_warnings(${name})
  # A tool's own files parse options and print; the work is in the libraries
  # (built with the project's optimisation), so they compile at -O1.
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${name} PRIVATE $<$<AND:$<CONFIG:Release>,$<COMPILE_LANGUAGE:CXX>>:-O1>)
  endif()
endfunction()

# nb_precompile(<target> <header>...): third-party and standard headers that
# most of the target's C++ files include, compiled once per target (CLI11,
# nlohmann_json and doctest dominate the build time otherwise). Off with
# -DNB_PCH=OFF.
function(nb_precompile target)
  if(NOT NB_PCH)
    return()
  endif()
  set(headers "")
  foreach(h ${ARGN})
    list(APPEND headers "$<$<COMPILE_LANGUAGE:CXX>:<${h}$<ANGLE-R>>")
  endforeach()
  target_precompile_headers(${target} PRIVATE ${headers})
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    # From a precompiled header GCC 12 no longer treats the standard library
    # as system headers and reports its known false positives inside
    # std::string (the same family as -Wrestrict above).
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wno-array-bounds -Wno-stringop-overflow -Wno-stringop-overread>)
  endif()
endfunction()
