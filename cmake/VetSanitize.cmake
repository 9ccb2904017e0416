# Checking builds (docs/DEVELOPING.md):
#  -DVET_SANITIZE=address,undefined or -DVET_SANITIZE=thread adds the flags to
#   every target (compile and link) and sets the runtime options for every
#   ctest test (tests/sanitizers/ctest_env.cmake), so a report fails the test.
#  -DVET_COVERAGE=ON instruments every target for gcov (scripts/coverage.sh
#   reads the counts with gcovr); forked children flush theirs before _exit
#   (vet::ExitForkedChild, VET_COVERAGE_BUILD).
# Both can be on at once (CI's suite is one ASan+UBSan+coverage build).
set(VET_SANITIZE "" CACHE STRING
    "Sanitizers for every target: empty, address,undefined, or thread")
option(VET_COVERAGE "Instrument every target for line and branch coverage (gcov)" OFF)

option(VET_FUZZ "Build the libFuzzer targets (clang; scripts/fuzz.sh)" OFF)
if(VET_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "VET_FUZZ needs clang (CMAKE_CXX_COMPILER=clang++)")
  endif()
  # Coverage feedback from every library the fuzzers link, not only their
  # own files; the fuzz targets add -fsanitize=fuzzer at link (tests/fuzz).
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

if(VET_SANITIZE)
  set(_vet_san_flags -fsanitize=${VET_SANITIZE} -fno-omit-frame-pointer)
  if(VET_SANITIZE MATCHES "undefined")
    # A UBSan report aborts the test instead of printing and carrying on.
    list(APPEND _vet_san_flags -fno-sanitize-recover=all)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
      # Clang also reports arithmetic on a null pointer, which RapidJSON 1.1.0
      # does on every parse: recoverable so that tests/sanitizers/ubsan.supp
      # can suppress that one header (halt_on_error=1 still stops on others).
      list(APPEND _vet_san_flags -fsanitize-recover=pointer-overflow)
    endif()
  endif()
  add_compile_options(${_vet_san_flags})
  add_link_options(${_vet_san_flags})
  # Read by ctest when it loads the tests: sets ASAN_/UBSAN_/TSAN_OPTIONS.
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES
    "${PROJECT_SOURCE_DIR}/tests/sanitizers/ctest_env.cmake")
  add_compile_definitions(VET_SANITIZE_BUILD=1)
endif()

if(VET_COVERAGE)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    message(FATAL_ERROR "VET_COVERAGE needs g++ (gcov and gcovr read its counts)")
  endif()
  add_compile_options(--coverage)
  add_link_options(--coverage)
  add_compile_definitions(VET_COVERAGE_BUILD=1)
endif()

# Line tables instead of full debug info, and less optimisation: a checking
# build compiles about three times faster (server.cc: 53 s at -O2 -g with
# ASan, 18 s at -O1 -g1, 11 s at -O0 -g1) and its reports still name files and
# lines. Coverage counts best without optimisation moving lines about.
if(VET_SANITIZE OR VET_COVERAGE)
  if(VET_COVERAGE)
    add_compile_options(-O0 -g1)
  else()
    add_compile_options(-O1 -g1)
  endif()
endif()
