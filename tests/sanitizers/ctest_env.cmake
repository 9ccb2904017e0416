# Included by ctest (TEST_INCLUDE_FILES) in a -DVET_SANITIZE build: the runtime
# options every test runs with. A variable already in the environment wins, so
# a developer can still ask for more (e.g. ASAN_OPTIONS=...:verbosity=1).
set(_vet_supp "${CMAKE_CURRENT_LIST_DIR}")
if(NOT DEFINED ENV{ASAN_OPTIONS})
  # abort_on_error=0 / exitcode: a report is a non-zero exit, so the test fails.
  set(ENV{ASAN_OPTIONS} "detect_leaks=1:check_initialization_order=1:allow_user_segv_handler=1")
endif()
if(NOT DEFINED ENV{LSAN_OPTIONS})
  set(ENV{LSAN_OPTIONS} "suppressions=${_vet_supp}/lsan.supp:print_suppressions=0")
endif()
if(NOT DEFINED ENV{UBSAN_OPTIONS})
  set(ENV{UBSAN_OPTIONS} "print_stacktrace=1:halt_on_error=1:suppressions=${_vet_supp}/ubsan.supp")
endif()
if(NOT DEFINED ENV{TSAN_OPTIONS})
  set(ENV{TSAN_OPTIONS} "halt_on_error=1:second_deadlock_stack=1:suppressions=${_vet_supp}/tsan.supp")
endif()
