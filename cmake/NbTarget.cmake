# nb_add_library(<name> SOURCES ...) : a static library used as <name>::<name>
# (the real target is <name>_lib so a tool can be called <name>), public
# headers under <dir>/include and C++20 as a usage requirement.
function(nb_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES" ${ARGN})
  set(target ${name}_lib)
  add_library(${target} STATIC ${ARG_SOURCES})
  add_library(${name}::${name} ALIAS ${target})
  set_target_properties(${target} PROPERTIES OUTPUT_NAME ${name})
  set(name ${target})
  target_include_directories(${name} PUBLIC
    $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:include>)
  target_compile_features(${name} PUBLIC cxx_std_20)
  nb_set_warnings(${name})
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
endfunction()
