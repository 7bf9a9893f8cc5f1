# Architecture rules over the engine's sources (cmake -DENGINE_DIR=<engine> -P this file); fails listing every
# breach as file:line.
#  1. The core is sans-I/O. Outside the live adapter (engine/runtime/asio/) no source includes Boost.Asio or
#     ns-3. Outside the adapter and the composition root that joins the core to it (engine/cli/main.cc,
#     engine/cli/serve.cc) no code names boost::asio or ns3:: either (comment lines and trailing // comments
#     do not count), so the ban cannot be dodged through a header that includes Asio for you.
#  2. The engine is the product: nothing under engine/ includes "sim/" or "scenario/" headers. The simulator
#     and the scenario layer depend on the engine, never the reverse.
file(GLOB_RECURSE sources "${ENGINE_DIR}/*.h" "${ENGINE_DIR}/*.cc")
set(io_include "^[ \t]*#[ \t]*include[ \t]*[<\"](boost/asio|ns3/)")
set(io_token "(^|[^A-Za-z0-9_])(boost::asio[^A-Za-z0-9_]|ns3::)")
set(upward_include "^[ \t]*#[ \t]*include[ \t]*[<\"](sim|scenario)/")
set(offenders "")

# Where a file stands: "adapter" (may use Asio freely), "root" (may name it, not include it) or "core".
function(role_of file out)
  if(file MATCHES "/engine/runtime/asio/")
    set(${out} adapter PARENT_SCOPE)
  elseif(file MATCHES "/engine/cli/(main|serve)\\.cc$")
    set(${out} root PARENT_SCOPE)
  else()
    set(${out} core PARENT_SCOPE)
  endif()
endfunction()

# A line without its comments, as far as a line shows them: a line that starts a comment (//, /*, or a
# block comment's * continuation) is empty; a trailing // or one-line /* */ comment is dropped.
function(code_of line out)
  if(line MATCHES "^[ \t]*(//|/\\*|\\*)")
    set(line "")
  endif()
  string(REGEX REPLACE "/\\*[^*]*\\*/" "" line "${line}")
  string(REGEX REPLACE "//.*$" "" line "${line}")
  set(${out} "${line}" PARENT_SCOPE)
endfunction()

# Appends a line "file:line: text (rule)" to the offenders string in the caller's scope for every breach in one file.
function(check_file file)
  file(READ "${file}" text)
  if(NOT text MATCHES "boost|ns3|sim/|scenario/")
    return()  # nothing any rule looks for: skip the line-by-line pass
  endif()
  role_of("${file}" role)
  # One list element per line: semicolons and brackets would split or join elements, so they are masked.
  string(REPLACE ";" "<sc>" text "${text}")
  string(REPLACE "[" "<lb>" text "${text}")
  string(REPLACE "]" "<rb>" text "${text}")
  string(REPLACE "\n" ";" lines "${text}")
  set(found "")
  set(number 0)
  foreach(line IN LISTS lines)
    math(EXPR number "${number} + 1")
    set(rule "")
    code_of("${line}" code)
    if(line MATCHES "${upward_include}")
      set(rule "the engine includes the simulator or the scenario layer")
    elseif(NOT role STREQUAL "adapter" AND line MATCHES "${io_include}")
      set(rule "Asio or ns-3 included outside the live adapter")
    elseif(role STREQUAL "core" AND code MATCHES "${io_token}")
      set(rule "Asio or ns-3 named in the sans-I/O core")
    endif()
    if(rule)
      string(REPLACE "<sc>" ";" line "${line}")
      string(REPLACE "<lb>" "[" line "${line}")
      string(REPLACE "<rb>" "]" line "${line}")
      string(STRIP "${line}" line)
      string(APPEND found "\n  ${file}:${number}: ${line}  (${rule})")
    endif()
  endforeach()
  set(offenders "${offenders}${found}" PARENT_SCOPE)
endfunction()

foreach(f ${sources})
  check_file("${f}")
endforeach()
list(LENGTH sources count)
if(offenders)
  message(FATAL_ERROR "The engine breaks its architecture rules:${offenders}")
endif()
message(STATUS "checked ${count} engine sources: the core neither includes nor names Asio or ns-3, and the "
               "engine includes neither sim/ nor scenario/")
