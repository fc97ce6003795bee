# ATTNC_FUZZ=ON turns this build tree into the fuzzing tree (scripts/fuzz.sh
# configures it as build-fuzz/, next to the normal build): every target is
# compiled with libFuzzer's coverage instrumentation and with AddressSanitizer
# and UndefinedBehaviorSanitizer (any undefined behaviour aborts), and the
# libFuzzer targets of test/Fuzz/ are defined. Keep it a separate tree: its
# attnc and libraries are several times slower than the normal ones.

option(ATTNC_FUZZ
  "Build the libFuzzer targets (test/Fuzz); instruments the whole tree" OFF)
# The attnc that compiles the runtime fuzzer's model. Empty: this tree's own
# attnc (sanitized, so a build of the whole compiler); scripts/fuzz.sh passes
# the normal build's.
set(ATTNC_FUZZ_MODEL_COMPILER "" CACHE FILEPATH
  "attnc used to compile the model of the runtime fuzzer (default: this tree's)")

if(ATTNC_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang" OR
     NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "ATTNC_FUZZ needs clang (libFuzzer): configure with "
      "-DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19")
  endif()
  set(ATTNC_SANITIZERS address,undefined)
  add_compile_options(-fsanitize=fuzzer-no-link,${ATTNC_SANITIZERS}
    -fno-sanitize-recover=all -fno-omit-frame-pointer -gline-tables-only)
  add_link_options(-fsanitize=${ATTNC_SANITIZERS})
  message(STATUS "ATTNC_FUZZ: instrumenting for libFuzzer + ASan + UBSan")
endif()
