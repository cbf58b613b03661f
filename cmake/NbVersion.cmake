# Generates nb_version.cpp at build time so the embedded git sha follows new
# commits without re-running CMake (configure_file only rewrites on change).
set(NB_VERSION_CPP ${PROJECT_BINARY_DIR}/generated/nb_version.cpp)
add_custom_target(nb_version_gen
  COMMAND ${CMAKE_COMMAND}
          -DSRC_DIR=${PROJECT_SOURCE_DIR}
          -DOUT=${NB_VERSION_CPP}
          -DVERSION=${PROJECT_VERSION}
          -P ${PROJECT_SOURCE_DIR}/cmake/WriteVersion.cmake
  BYPRODUCTS ${NB_VERSION_CPP}
  COMMENT "Embedding git sha"
  VERBATIM)
