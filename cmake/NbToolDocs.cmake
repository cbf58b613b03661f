# Invoked with -P by nb_tool_docs (cmake/NbTarget.cmake) once TOOL is linked:
#   TOOL      the built executable       NAME      its installed name
#   SHARE_DIR build/share                VERSION   the project version
#   HELP2MAN  help2man, or empty         STAMP     touched when done
# Reads `TOOL --help`, finds its subcommands (CLI11's "Subcommands:" list)
# and options (help lines "  -x,--name ..."; nbsim's "  -name -alias <1 value>"),
# then writes
#   SHARE_DIR/man/NAME/NAME.1 and NAME-SUB.1 for each subcommand (help2man), and
#   SHARE_DIR/bash-completion/completions/NAME (subcommands, then options).
# The pages come from --help, so they never lag behind the options.
cmake_minimum_required(VERSION 3.20)

# Help text as a CMake list of lines. Brackets and semicolons would split or
# join list items, so they travel as placeholders (restored in descriptions).
function(nb_help_lines out_var)
  execute_process(COMMAND ${ARGN} OUTPUT_VARIABLE text ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    list(JOIN ARGN " " shown)
    message(FATAL_ERROR "`${shown}` exited with ${rc}: ${err}")
  endif()
  string(REPLACE ";" "@SEMI@" text "${text}")
  string(REPLACE "[" "@LB@" text "${text}")
  string(REPLACE "]" "@RB@" text "${text}")
  string(REPLACE "\n" ";" lines "${text}")
  set(${out_var} "${lines}" PARENT_SCOPE)
endfunction()

# From help lines: the subcommands (<prefix>_subs), their one-line
# descriptions (<prefix>_desc_<sub>), the option names (<prefix>_opts) and
# the first sentence of the help (<prefix>_summary), for help2man's NAME.
function(nb_parse_help prefix lines tool_name)
  set(section "")
  set(subs "")
  set(opts "")
  set(summary "")
  foreach(line IN LISTS lines)
    if(line STREQUAL "")
      set(section "")
    elseif(line MATCHES "^([A-Za-z][A-Za-z ]*):$")
      string(TOLOWER "${CMAKE_MATCH_1}" section)
    elseif(section STREQUAL "subcommands" AND line MATCHES "^  ([A-Za-z0-9][A-Za-z0-9_-]*)( +(.*))?$")
      list(APPEND subs ${CMAKE_MATCH_1})
      set(${prefix}_desc_${CMAKE_MATCH_1} "${CMAKE_MATCH_3}" PARENT_SCOPE)
    elseif(line MATCHES "^  (-[^ ]+( -[^ ]+)*)")
      string(REGEX REPLACE "[ ,]+" ";" names "${CMAKE_MATCH_1}")
      foreach(n IN LISTS names)
        if(n MATCHES "^--?[A-Za-z0-9][A-Za-z0-9_-]*$")
          list(APPEND opts ${n})
        endif()
      endforeach()
    elseif(summary STREQUAL "" AND NOT line MATCHES "^[Uu]sage:" AND line MATCHES "[A-Za-z]")
      set(summary "${line}")
    endif()
  endforeach()
  list(REMOVE_DUPLICATES opts)
  set(${prefix}_subs "${subs}" PARENT_SCOPE)
  set(${prefix}_opts "${opts}" PARENT_SCOPE)
  set(${prefix}_summary "${summary}" PARENT_SCOPE)
endfunction()

# "nbtrace: parse and compare trace logs (...). Exit codes: ..." -> "parse and
# compare trace logs (...)": the first clause, up to a period or semicolon (a
# semicolon would also split the help2man argument in two).
function(nb_whatis out_var text tool_name)
  string(REGEX REPLACE "@SEMI@.*$" "" text "${text}")
  string(REPLACE "@LB@" "[" text "${text}")
  string(REPLACE "@RB@" "]" text "${text}")
  string(REGEX REPLACE "^${tool_name}: *" "" text "${text}")
  string(REGEX REPLACE "\\.( .*)?$" "" text "${text}")
  if(text STREQUAL "")
    set(text "${tool_name}")
  endif()
  set(${out_var} "${text}" PARENT_SCOPE)
endfunction()

foreach(var TOOL NAME SHARE_DIR VERSION STAMP)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "NbToolDocs.cmake: ${var} is not set")
  endif()
endforeach()

nb_help_lines(top_lines ${TOOL} --help)
nb_parse_help(top "${top_lines}" ${NAME})
set(subs ${top_subs})
foreach(sub IN LISTS subs)
  nb_help_lines(sub_lines ${TOOL} ${sub} --help)
  nb_parse_help(sub_${sub} "${sub_lines}" "${NAME} ${sub}")
endforeach()

# Man pages: one per tool and one per subcommand, from a folder of this tool
# alone (cleared first, so a removed subcommand leaves no page behind).
set(man_dir ${SHARE_DIR}/man/${NAME})
file(REMOVE_RECURSE ${man_dir})
file(MAKE_DIRECTORY ${man_dir})
if(HELP2MAN)
  # --version-string: the pages name the release, not a build's git sha.
  set(h2m ${HELP2MAN} --no-info --no-discard-stderr --version-string=${VERSION})
  nb_whatis(whatis "${top_summary}" ${NAME})
  execute_process(COMMAND ${h2m} --name=${whatis} --output=${man_dir}/${NAME}.1 ${TOOL}
                  RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "help2man ${NAME}: ${err}")
  endif()
  # help2man names the page after the program it runs: a two-line script
  # NAME-SUB that runs `TOOL SUB "$@"` gives the page NAME-SUB(1).
  get_filename_component(wrapper_dir ${STAMP} DIRECTORY)
  set(wrapper_dir ${wrapper_dir}/${NAME}-wrappers)
  file(MAKE_DIRECTORY ${wrapper_dir})
  foreach(sub IN LISTS subs)
    set(wrapper ${wrapper_dir}/${NAME}-${sub})
    file(WRITE ${wrapper} "#!/bin/sh\nexec '${TOOL}' ${sub} \"$@\"\n")
    file(CHMOD ${wrapper} PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                                      WORLD_READ WORLD_EXECUTE)
    set(text "${top_desc_${sub}}")
    if(text STREQUAL "")
      set(text "${sub_${sub}_summary}")
    endif()
    nb_whatis(whatis "${text}" "${NAME} ${sub}")
    execute_process(COMMAND ${h2m} --name=${whatis} --output=${man_dir}/${NAME}-${sub}.1 ${wrapper}
                    RESULT_VARIABLE rc ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "help2man ${NAME} ${sub}: ${err}")
    endif()
  endforeach()
endif()

# Bash completion: the subcommands first, then the options of the subcommand
# on the line (or of the tool); anything else completes file names.
string(MAKE_C_IDENTIFIER "${NAME}" id)
list(JOIN top_opts " " top_words)
list(JOIN subs " " sub_words)
set(script "# bash completion for ${NAME}, generated from its --help by cmake/NbToolDocs.cmake.\n")
string(APPEND script "_nb_complete_${id}() {\n")
string(APPEND script "  local cur=\"\${COMP_WORDS[COMP_CWORD]}\" sub=\"\" subs=\"\" opts=\"\" i\n")
if(subs)
  list(JOIN subs "|" sub_alternatives)
  string(APPEND script "  for ((i = 1; i < COMP_CWORD; i++)); do\n")
  string(APPEND script "    case \"\${COMP_WORDS[i]}\" in\n")
  string(APPEND script "      ${sub_alternatives}) sub=\"\${COMP_WORDS[i]}\"; break ;;\n")
  string(APPEND script "    esac\n  done\n")
  string(APPEND script "  case \"\$sub\" in\n")
  foreach(sub IN LISTS subs)
    list(JOIN sub_${sub}_opts " " words)
    string(APPEND script "    ${sub}) opts=\"${words}\" ;;\n")
  endforeach()
  string(APPEND script "    *) opts=\"${top_words}\"; subs=\"${sub_words}\" ;;\n")
  string(APPEND script "  esac\n")
else()
  string(APPEND script "  opts=\"${top_words}\"\n")
endif()
string(APPEND script "  if [[ \"\$cur\" == -* ]]; then\n")
string(APPEND script "    COMPREPLY=(\$(compgen -W \"\$opts\" -- \"\$cur\"))\n")
string(APPEND script "  elif [[ -n \"\$subs\" ]]; then\n")
string(APPEND script "    COMPREPLY=(\$(compgen -W \"\$subs\" -- \"\$cur\"))\n")
string(APPEND script "  else\n    COMPREPLY=()\n  fi\n}\n")
string(APPEND script "complete -o default -F _nb_complete_${id} ${NAME}\n")
file(WRITE ${SHARE_DIR}/bash-completion/completions/${NAME} "${script}")

file(TOUCH ${STAMP})
