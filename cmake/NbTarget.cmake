include(GNUInstallDirs)

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
  nb_install_module(${target} ${ARG_ALIAS})
endfunction()

# nb_install_module(<target> <ns::name>): installs a module (its archive, if
# it has one, and its include/ folder) into the one export set, where the
# imported target is named as the alias is (nbtrace::base, nbsim::physics).
# nb_add_module calls it; header-only and umbrella INTERFACE targets call it
# themselves. cmake/NbInstall.cmake writes the package from the export set.
function(nb_install_module target alias)
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${alias})
  install(TARGETS ${target} EXPORT nbparityTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/include)
    install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
    set_property(GLOBAL APPEND PROPERTY NB_MODULE_INCLUDE_DIRS ${CMAKE_CURRENT_SOURCE_DIR}/include)
  endif()
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "STATIC_LIBRARY")
    set_property(GLOBAL APPEND PROPERTY NB_MODULE_ARCHIVES $<TARGET_FILE_NAME:${target}>)
  endif()
  set_property(GLOBAL APPEND PROPERTY NB_MODULE_TARGETS ${alias})
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

# nb_add_tool(<name> SOURCES ... LIBS ...) : an executable in build/bin,
# installed to bin/ with its man pages and bash completion (nb_tool_docs).
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
  install(TARGETS ${name} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  set_property(GLOBAL APPEND PROPERTY NB_TOOLS ${name})
  nb_tool_docs(${name})
endfunction()

# nb_tool_docs(<tool>): after the tool is linked, cmake/NbToolDocs.cmake runs
# its --help (and each subcommand's) to write build/share/man/<tool>/*.1
# (help2man, when found) and build/share/bash-completion/completions/<tool>;
# both are installed. Part of ALL, so the pages follow the options.
find_program(NB_HELP2MAN help2man DOC "help2man, for the tools' man pages")
if(NOT NB_HELP2MAN)
  message(STATUS "help2man not found: no man pages (Debian: apt-get install help2man)")
endif()
function(nb_tool_docs name)
  set(share ${PROJECT_BINARY_DIR}/share)
  set(stamp ${PROJECT_BINARY_DIR}/CMakeFiles/nb_tool_docs/${name}.stamp)
  set(help2man "")
  if(NB_HELP2MAN)
    set(help2man ${NB_HELP2MAN})
  endif()
  add_custom_command(OUTPUT ${stamp}
    COMMAND ${CMAKE_COMMAND} -DTOOL=$<TARGET_FILE:${name}> -DNAME=${name} -DSHARE_DIR=${share}
            -DVERSION=${PROJECT_VERSION} -DHELP2MAN=${help2man} -DSTAMP=${stamp}
            -P ${PROJECT_SOURCE_DIR}/cmake/NbToolDocs.cmake
    DEPENDS ${name} ${PROJECT_SOURCE_DIR}/cmake/NbToolDocs.cmake
    COMMENT "Man pages and bash completion of ${name}"
    VERBATIM)
  add_custom_target(${name}_docs ALL DEPENDS ${stamp})
  install(DIRECTORY ${share}/man/${name}/ DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
  install(FILES ${share}/bash-completion/completions/${name}
          DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
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
