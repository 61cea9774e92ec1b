# MEMLENS_SANITIZE=address,undefined instruments every target, library included.
if(MEMLENS_SANITIZE)
  set(_ml_san "-fsanitize=${MEMLENS_SANITIZE}" -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_compile_options(${_ml_san})
  add_link_options(${_ml_san})
endif()

# MEMLENS_FUZZ: coverage for libFuzzer in every object (library included, so the fuzzers
# see the code they exercise); the fuzz_* executables add -fsanitize=fuzzer themselves.
if(MEMLENS_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "MEMLENS_FUZZ needs clang (CC=clang)")
  endif()
  if(NOT MEMLENS_SANITIZE)
    message(FATAL_ERROR "MEMLENS_FUZZ needs MEMLENS_SANITIZE (e.g. address,undefined)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
  add_link_options(-fsanitize=fuzzer-no-link)
endif()
