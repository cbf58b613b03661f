# `cmake --install build --prefix P` (docs/install.md). The tools, module
# archives and headers install themselves (nb_add_tool, nb_install_module in
# cmake/NbTarget.cmake); this file writes what is about all of them:
#   P/lib/cmake/nbparity/   the CMake package (one export set, nbparityTargets)
#   P/lib/pkgconfig/        nbtrace.pc, nbsim.pc
#   P/share/doc/nbparity/   README.md and docs/*.md
include(CMakePackageConfigHelpers)

set(NB_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/nbparity CACHE STRING
    "Where the CMake package goes (relative to the prefix)")
mark_as_advanced(NB_INSTALL_CMAKEDIR)

# The imported targets keep their alias names (EXPORT_NAME nbtrace::base, ...),
# hence no NAMESPACE.
install(EXPORT nbparityTargets
  FILE nbparityTargets.cmake
  DESTINATION ${NB_INSTALL_CMAKEDIR})

set(NB_CBF_LIBRARY_DIR "")
if(NB_WITH_CBF)
  get_filename_component(NB_CBF_LIBRARY_DIR ${CBF_LIBRARY} DIRECTORY)
endif()
# A ;-list in the package file: the link options of a sanitized build.
set(NB_INSTALL_SANITIZER_FLAGS "")
if(NB_SANITIZE)
  set(NB_INSTALL_SANITIZER_FLAGS "${NB_SANITIZER_FLAGS}")
endif()
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/nbparityConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/nbparityConfig.cmake
  INSTALL_DESTINATION ${NB_INSTALL_CMAKEDIR})
# SameMajorVersion: 0.x releases may change the API, so find_package(nbparity 0.1)
# accepts 0.1.y and later 0.x (CMake's rule for that compatibility).
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/nbparityConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cmake/nbparityConfig.cmake
              ${PROJECT_BINARY_DIR}/cmake/nbparityConfigVersion.cmake
        DESTINATION ${NB_INSTALL_CMAKEDIR})

# pkg-config: prefix relative to the .pc file, so the files work wherever
# --prefix put them. Libraries found as files (MPI, CBFlib, cudart) are
# listed by path; the rest through their own .pc files (Requires).
file(RELATIVE_PATH NB_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
set(NB_PC_TRACE_EXTRA_LIBS "")
if(NB_WITH_MPI)
  list(APPEND NB_PC_TRACE_EXTRA_LIBS ${MPI_CXX_LIBRARIES})
endif()
if(NB_WITH_CBF)
  list(APPEND NB_PC_TRACE_EXTRA_LIBS ${CBF_LIBRARY})
endif()
list(JOIN NB_PC_TRACE_EXTRA_LIBS " " NB_PC_TRACE_EXTRA_LIBS)
set(NB_PC_SIM_EXTRA_LIBS "")
if(NB_WITH_CUDA)
  set(NB_PC_SIM_EXTRA_LIBS "${CUDA_cudart_static_LIBRARY} -ldl -lrt")
endif()
if(NB_SANITIZE)
  # Instrumented archives link only with the sanitizer runtimes; nbtrace.pc
  # requires nbsim.pc, so every consumer gets them.
  list(JOIN NB_SANITIZER_FLAGS " " nb_pc_sanitizer_flags)
  string(STRIP "${NB_PC_SIM_EXTRA_LIBS} ${nb_pc_sanitizer_flags}" NB_PC_SIM_EXTRA_LIBS)
endif()
foreach(pc nbtrace nbsim)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/${pc}.pc.in ${PROJECT_BINARY_DIR}/pkgconfig/${pc}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/pkgconfig/${pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()

# Docs keep README.md's relative links (docs/...).
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs
        FILES_MATCHING PATTERN "*.md")
