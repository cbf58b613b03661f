# Instrumented builds, each in its own build folder (flags differ from the
# plain build's, so nothing is shared with it):
#   NB_SANITIZE: every target with AddressSanitizer (with LeakSanitizer) and
#     UndefinedBehaviorSanitizer; undefined behaviour aborts (no recovery),
#     so a test that hits any fails. scripts/test.sh --sanitize uses it.
#   NB_FUZZ: the same sanitizers plus libFuzzer's coverage instrumentation
#     on every target, and the fuzz targets of tests/fuzz (clang only).
#     scripts/fuzz.sh uses it.
option(NB_SANITIZE "Build everything with -fsanitize=address,undefined" OFF)
option(NB_FUZZ "Build the libFuzzer targets of tests/fuzz (clang; implies the sanitizers)" OFF)

if(NB_SANITIZE OR NB_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    message(FATAL_ERROR "NB_SANITIZE/NB_FUZZ need GCC or Clang (have ${CMAKE_CXX_COMPILER_ID})")
  endif()
  set(NB_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # Clang's -fsanitize=undefined includes it; GCC's does not. A double
    # converted to an int it cannot hold (NaN, 1e20) is undefined behaviour.
    list(APPEND NB_SANITIZER_FLAGS -fsanitize=float-cast-overflow)
  endif()
  add_compile_options("$<$<COMPILE_LANGUAGE:CXX>:${NB_SANITIZER_FLAGS}>")
  add_link_options(${NB_SANITIZER_FLAGS})
  if(NB_SANITIZE AND NB_WITH_MPI AND MPIEXEC_EXECUTABLE)
    # The MPI tests launch their ranks with this wrapper of mpiexec (see it).
    set(NB_REAL_MPIEXEC ${MPIEXEC_EXECUTABLE})
    configure_file(${CMAKE_CURRENT_LIST_DIR}/sanitize-mpiexec.sh.in ${PROJECT_BINARY_DIR}/sanitize-mpiexec.sh
                   @ONLY FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ
                   WORLD_EXECUTE)
    set(MPIEXEC_EXECUTABLE ${PROJECT_BINARY_DIR}/sanitize-mpiexec.sh)
  endif()
  # A process that is not itself instrumented (python3, loading the
  # sanitized Python module) needs the ASan runtime first in its library
  # list, and the C++ runtime loaded with it (ASan resolves its
  # __cxa_throw interceptor when it starts; python3 does not link
  # libstdc++). NB_SANITIZER_PRELOAD: those files, ':'-joined for
  # LD_PRELOAD, or empty when the compiler does not say where its ASan
  # runtime is.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    set(nb_asan_runtime libasan.so)
  else()
    set(nb_asan_runtime libclang_rt.asan-${CMAKE_SYSTEM_PROCESSOR}.so)
  endif()
  set(NB_SANITIZER_PRELOAD "")
  foreach(runtime ${nb_asan_runtime} libstdc++.so)
    execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=${runtime}
                    OUTPUT_VARIABLE path OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(IS_ABSOLUTE "${path}" AND EXISTS "${path}")
      list(APPEND NB_SANITIZER_PRELOAD ${path})
    elseif(runtime STREQUAL nb_asan_runtime)
      break()
    endif()
  endforeach()
  list(JOIN NB_SANITIZER_PRELOAD ":" NB_SANITIZER_PRELOAD)
  list(JOIN NB_SANITIZER_FLAGS " " shown)
  message(STATUS "nbparity sanitizers: ON (${shown}; runtime to preload: ${NB_SANITIZER_PRELOAD})")
endif()

if(NB_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "NB_FUZZ needs clang++ (libFuzzer): -DCMAKE_CXX_COMPILER=clang++")
  endif()
  if(NB_WITH_CUDA)
    message(FATAL_ERROR "NB_FUZZ builds the host code only: configure with -DNB_CUDA=OFF")
  endif()
  # Coverage feedback from the libraries too, not only from the targets.
  add_compile_options("$<$<COMPILE_LANGUAGE:CXX>:-fsanitize=fuzzer-no-link>")
  message(STATUS "nbparity fuzz targets: ON (tests/fuzz, binaries in ${PROJECT_BINARY_DIR}/fuzz)")
endif()
