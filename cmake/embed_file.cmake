# Writes a .cc that holds a file's bytes as an array, so runner.py ships inside
# the binary. Run as: cmake -DINPUT=... -DOUTPUT=... -DSYMBOL=... -P embed_file.cmake
# Bytes, not a raw string literal: no delimiter can clash with the file's text.
file(READ "${INPUT}" content HEX)
string(LENGTH "${content}" hex_length)
math(EXPR size "${hex_length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${content}")
# CMake's regular expressions have no {n}: spell out twelve bytes a line.
string(REPEAT "0x[0-9a-f][0-9a-f]," 12 line_pattern)
string(REGEX REPLACE "(${line_pattern})" "\\1\n    " bytes "${bytes}")
get_filename_component(input_name "${INPUT}" NAME)
if(NOT NAMESPACE)
  set(NAMESPACE "vet::sandbox::internal")
endif()
file(WRITE "${OUTPUT}"
"// Generated from ${input_name} by embed_file.cmake. Do not edit.
#include \"absl/strings/string_view.h\"

namespace ${NAMESPACE} {
namespace {
constexpr unsigned char kBytes[] = {
    ${bytes}0x00};
}  // namespace

absl::string_view ${SYMBOL}() {
  return absl::string_view(reinterpret_cast<const char*>(kBytes), ${size});
}

}  // namespace ${NAMESPACE}
")
