# install.consumer (tests/CMakeLists.txt), run with cmake -P: installs the
# build into a scratch prefix and checks every piece of it (docs/install.md):
# the tools run, a man page for each tool and subcommand, a bash completion
# that completes them, the archives, headers, docs, the CMake package (a
# project outside the tree builds and runs against it) and the pkg-config
# files (the same sources compiled with `pkg-config --cflags --libs`).
# What the consumers print is checked against the installed nbtrace and
# against the input files, not against numbers written here.
#   BUILD_DIR SOURCE_DIR WORK_DIR VERSION LIBDIR  paths and the version
#   TOOLS ARCHIVES INCLUDE_DIRS TARGETS           comma-separated lists
#   CXX GENERATOR PKG_CONFIG WITH_MPI
# The consumers are built as a user would build them, with no flags of
# their own: a sanitized build's package and .pc files carry the sanitizer
# link flags themselves.
cmake_minimum_required(VERSION 3.20)

foreach(list_var TOOLS ARCHIVES INCLUDE_DIRS TARGETS)
  string(REPLACE "," ";" ${list_var} "${${list_var}}")
endforeach()
set(failures 0)
macro(fail msg)
  message(SEND_ERROR "install.consumer: ${msg}")
  math(EXPR failures "${failures} + 1")
endmacro()
# run(<out_var> <what> COMMAND...): runs a command that must exit 0.
function(run out_var what)
  execute_process(COMMAND ${ARGN} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "install.consumer: ${what} failed (exit ${rc}):\n${out}\n${err}")
  endif()
  set(${out_var} "${out}" PARENT_SCOPE)
endfunction()

set(prefix ${WORK_DIR}/prefix)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
run(ignored "cmake --install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

# --- tools, man pages, completions ----------------------------------------
set(completer ${WORK_DIR}/complete.sh)
# complete.sh FILE =CUR WORD...: sources a completion file, completes CUR
# after the words WORD... (the first is the tool) as bash would and prints
# the candidates, one a line. ("=" keeps an empty CUR an argument.)
file(WRITE ${completer} [=[
source "$1"; cur="${2#=}"; shift 2
fn=$(complete -p "$1" | sed -n 's/.* -F \([^ ]*\) .*/\1/p')
[ -n "$fn" ] || { echo "no completion function for $1" >&2; exit 1; }
COMP_WORDS=("$@" "$cur"); COMP_CWORD=$#
"$fn" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
]=])
# completions(<out_var> <tool> <cur> [<word>...]): candidates for `tool word... cur`.
function(completions out_var tool cur)
  run(out "bash completion of '${tool} ${ARGN} ${cur}'" bash ${completer}
      ${prefix}/share/bash-completion/completions/${tool} =${cur} ${tool} ${ARGN})
  string(REPLACE "\n" ";" out "${out}")
  set(${out_var} "${out}" PARENT_SCOPE)
endfunction()

set(expected_pages "")
foreach(tool IN LISTS TOOLS)
  set(exe ${prefix}/bin/${tool})
  if(NOT EXISTS ${exe})
    fail("bin/${tool} is not installed")
    continue()
  endif()
  run(help "${tool} --help" ${exe} --help)
  if(NOT help MATCHES "-h")
    fail("${tool} --help prints no options")
  endif()
  # CLI11's list: "Subcommands:" then one "  name  description" line each.
  set(subs "")
  if(help MATCHES "\nSubcommands:\n(([^\n]+\n)+)")
    string(REGEX MATCHALL "(^|\n)  [a-z][a-z0-9_-]*" found "${CMAKE_MATCH_1}")
    foreach(s IN LISTS found)
      string(STRIP "${s}" s)
      list(APPEND subs ${s})
    endforeach()
  endif()
  if(tool MATCHES "^(nbtrace|nbbundle|nbparity|nb-compare)$" AND NOT subs)
    fail("found no subcommands in `${tool} --help`")
  endif()

  if(HELP2MAN)
    foreach(page IN LISTS subs ITEMS ${tool})
      if(NOT page STREQUAL tool)
        set(page ${tool}-${page})
      endif()
      list(APPEND expected_pages ${page}.1)
      set(file ${prefix}/share/man/man1/${page}.1)
      if(NOT EXISTS ${file})
        fail("no man page share/man/man1/${page}.1")
        continue()
      endif()
      file(READ ${file} text)
      string(TOUPPER "${page}" title)
      if(NOT text MATCHES "\n\\.TH \"?${title}\"? \"?1" OR NOT text MATCHES "\\\\-h")
        fail("share/man/man1/${page}.1 is not ${title}(1) with the options of --help")
      endif()
    endforeach()
  endif()

  if(NOT EXISTS ${prefix}/share/bash-completion/completions/${tool})
    fail("no bash completion share/bash-completion/completions/${tool}")
    continue()
  endif()
  completions(words ${tool} -)
  if(NOT "-h" IN_LIST words)
    fail("bash completion of `${tool} -` lacks -h: ${words}")
  endif()
  if(subs)
    completions(words ${tool} "")
    foreach(s IN LISTS subs)
      if(NOT s IN_LIST words)
        fail("bash completion of `${tool} ` lacks ${s}: ${words}")
      endif()
      completions(sub_words ${tool} -- ${s})
      if(NOT "--help" IN_LIST sub_words)
        fail("bash completion of `${tool} ${s} --` lacks --help: ${sub_words}")
      endif()
    endforeach()
  endif()
endforeach()
if(HELP2MAN)
  # No stray page either: one per tool and subcommand, nothing else.
  file(GLOB pages RELATIVE ${prefix}/share/man/man1 ${prefix}/share/man/man1/*)
  list(SORT pages)
  list(SORT expected_pages)
  if(NOT pages STREQUAL expected_pages)
    fail("man pages ${pages}, expected ${expected_pages}")
  endif()
else()
  fail("help2man was not found when the build was configured: no man pages (apt-get install help2man)")
endif()

# --- archives, headers, docs, package files ---------------------------------
foreach(archive IN LISTS ARCHIVES)
  if(NOT EXISTS ${prefix}/${LIBDIR}/${archive})
    fail("${LIBDIR}/${archive} is not installed")
  endif()
endforeach()
foreach(dir IN LISTS INCLUDE_DIRS)
  file(GLOB_RECURSE headers RELATIVE ${dir} ${dir}/*)
  if(NOT headers)
    fail("no headers under ${dir}")
  endif()
  foreach(h IN LISTS headers)
    if(NOT EXISTS ${prefix}/include/${h})
      fail("header include/${h} is not installed")
    endif()
  endforeach()
endforeach()
file(GLOB docs RELATIVE ${SOURCE_DIR} ${SOURCE_DIR}/docs/*.md)
foreach(doc IN LISTS docs ITEMS README.md)
  if(NOT EXISTS ${prefix}/share/doc/nbparity/${doc})
    fail("share/doc/nbparity/${doc} is not installed")
  endif()
endforeach()
foreach(f cmake/nbparity/nbparityConfig.cmake cmake/nbparity/nbparityConfigVersion.cmake
          cmake/nbparity/nbparityTargets.cmake pkgconfig/nbtrace.pc pkgconfig/nbsim.pc)
  if(NOT EXISTS ${prefix}/${LIBDIR}/${f})
    fail("${LIBDIR}/${f} is not installed")
  endif()
endforeach()

# --- what a consumer prints, and what it should ----------------------------
set(ref_log ${SOURCE_DIR}/examples/demo_scaling/c_trace_s27_f488.log)
set(test_log ${SOURCE_DIR}/examples/demo_scaling/py_trace_s27_f488.log)
set(hkl ${SOURCE_DIR}/examples/sparse_hkl_64/sparse.hkl)

# The installed nbtrace's verdict on the same pair (exit 3: divergent).
execute_process(COMMAND ${prefix}/bin/nbtrace diff --quiet --json ${WORK_DIR}/diff.json ${ref_log} ${test_log}
                OUTPUT_QUIET ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT EXISTS ${WORK_DIR}/diff.json)
  message(FATAL_ERROR "install.consumer: installed nbtrace diff wrote no JSON (exit ${rc}): ${err}")
endif()
file(READ ${WORK_DIR}/diff.json diff_json)
set(expected_trace "version ${VERSION}\n")
foreach(key ref_tag test_tag verdict num_compared num_divergent first_divergence)
  string(JSON value ERROR_VARIABLE json_err GET "${diff_json}" ${key})
  if(json_err OR value STREQUAL "")
    set(value none)
  endif()
  string(APPEND expected_trace "${key} ${value}\n")
endforeach()
file(SHA256 ${ref_log} ref_sha)
string(APPEND expected_trace "ref_sha256 ${ref_sha}\nmpi_built ${WITH_MPI}\n")

# The HKL file's own count, bounds and first F (as the shortest decimal).
file(STRINGS ${hkl} hkl_lines REGEX "[0-9]")
list(LENGTH hkl_lines reflections)
set(bounds "")
foreach(column 0 1 2)
  set(lo "")
  set(hi "")
  foreach(line IN LISTS hkl_lines)
    string(STRIP "${line}" line)
    string(REGEX REPLACE " +" ";" fields "${line}")
    list(GET fields ${column} v)
    if(lo STREQUAL "" OR v LESS lo)
      set(lo ${v})
    endif()
    if(hi STREQUAL "" OR v GREATER hi)
      set(hi ${v})
    endif()
  endforeach()
  string(APPEND bounds " ${lo} ${hi}")
endforeach()
list(GET hkl_lines 0 first)
string(STRIP "${first}" first)
string(REGEX REPLACE " +" ";" first "${first}")
list(GET first 0 h)
list(GET first 1 k)
list(GET first 2 l)
list(GET first 3 F)
string(REGEX REPLACE "(\\.[0-9]*[1-9])0+$" "\\1" F "${F}")
string(REGEX REPLACE "\\.0*$" "" F "${F}")
set(expected_sim "reflections ${reflections}\nbounds${bounds}\nF ${F}\n")

function(check_consumers how trace_exe sim_exe)
  run(out "${how} trace_consumer" ${trace_exe} ${ref_log} ${test_log})
  if(NOT out STREQUAL expected_trace)
    fail("${how} trace_consumer printed\n${out}expected (from the installed nbtrace and the log)\n${expected_trace}")
  endif()
  run(out "${how} sim_consumer" ${sim_exe} ${hkl} ${h} ${k} ${l})
  if(NOT out STREQUAL expected_sim)
    fail("${how} sim_consumer printed\n${out}expected (from ${hkl})\n${expected_sim}")
  endif()
  set(failures ${failures} PARENT_SCOPE)
endfunction()

# --- find_package(nbparity CONFIG) ------------------------------------------
# Debug: no optimisation, the quickest compile of the two small programs.
set(consumer ${WORK_DIR}/consumer)
run(ignored "configuring the find_package consumer" ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/install/consumer
    -B ${consumer} -G ${GENERATOR} -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=${CXX}
    -DCMAKE_PREFIX_PATH=${prefix} "-DNB_EXPECTED_TARGETS=${TARGETS}")
run(ignored "building the find_package consumer" ${CMAKE_COMMAND} --build ${consumer})
check_consumers("find_package" ${consumer}/trace_consumer ${consumer}/sim_consumer)

# --- pkg-config --------------------------------------------------------------
set(ENV{PKG_CONFIG_PATH} "${prefix}/${LIBDIR}/pkgconfig")
foreach(pc nbtrace nbsim)
  run(pc_version "pkg-config --modversion ${pc}" ${PKG_CONFIG} --modversion ${pc})
  string(STRIP "${pc_version}" pc_version)
  if(NOT pc_version STREQUAL VERSION)
    fail("pkg-config --modversion ${pc}: ${pc_version}, expected ${VERSION}")
  endif()
endforeach()
foreach(pair "nbtrace;trace_consumer" "nbsim;sim_consumer")
  list(GET pair 0 pc)
  list(GET pair 1 program)
  run(flags "pkg-config --cflags --libs ${pc}" ${PKG_CONFIG} --cflags --libs ${pc})
  separate_arguments(flags UNIX_COMMAND "${flags}")
  run(ignored "compiling ${program} with pkg-config ${pc}" ${CXX} -std=c++20
      ${SOURCE_DIR}/tests/install/consumer/${program}.cpp -o ${WORK_DIR}/pc_${program} ${flags})
endforeach()
check_consumers("pkg-config" ${WORK_DIR}/pc_trace_consumer ${WORK_DIR}/pc_sim_consumer)

if(failures GREATER 0)
  message(FATAL_ERROR "install.consumer: ${failures} check(s) failed")
endif()
message(STATUS "install.consumer: ${prefix} holds every piece; both consumers agree with nbtrace")
