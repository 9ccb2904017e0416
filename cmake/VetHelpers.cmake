# Abseil-style helpers: vet_cc_library(NAME x ...) makes target vet_x with alias vet::x;
# vet_cc_test(NAME x_test SRCS ... DEPS ...) adds a GoogleTest binary discovered by ctest.
set(VET_WARNINGS -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers)
if(VET_WERROR)
  list(APPEND VET_WARNINGS -Werror)
endif()

function(vet_cc_library)
  cmake_parse_arguments(VET "" "NAME" "HDRS;SRCS;DEPS;PUBLIC_DEPS" ${ARGN})
  set(target vet_${VET_NAME})
  if(VET_SRCS)
    add_library(${target} STATIC ${VET_SRCS} ${VET_HDRS})
    target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
    target_compile_options(${target} PRIVATE ${VET_WARNINGS})
    target_link_libraries(${target} PUBLIC ${VET_PUBLIC_DEPS} PRIVATE ${VET_DEPS})
  else()
    add_library(${target} INTERFACE)
    target_include_directories(${target} INTERFACE ${PROJECT_SOURCE_DIR})
    target_link_libraries(${target} INTERFACE ${VET_PUBLIC_DEPS} ${VET_DEPS})
  endif()
  add_library(vet::${VET_NAME} ALIAS ${target})
endfunction()

function(vet_cc_test)
  cmake_parse_arguments(VET "" "NAME;TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  if(NOT VET_BUILD_TESTS)
    return()
  endif()
  add_executable(${VET_NAME} ${VET_SRCS})
  target_compile_options(${VET_NAME} PRIVATE ${VET_WARNINGS})
  target_include_directories(${VET_NAME} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${VET_NAME} PRIVATE ${VET_DEPS} GTest::gmock GTest::gtest_main)
  if(NOT VET_TIMEOUT)
    set(VET_TIMEOUT 120)
  endif()
  if(VET_SANITIZE)
    # Sanitized code runs 2 to 15 times slower (ThreadSanitizer the most).
    math(EXPR VET_TIMEOUT "${VET_TIMEOUT} * 3")
  endif()
  gtest_discover_tests(${VET_NAME}
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    PROPERTIES TIMEOUT ${VET_TIMEOUT} LABELS "${VET_LABELS}"
    DISCOVERY_TIMEOUT 30)
endfunction()
