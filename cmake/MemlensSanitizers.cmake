# MEMLENS_SANITIZE=address,undefined instruments every target, library included.
if(MEMLENS_SANITIZE)
  set(_ml_san "-fsanitize=${MEMLENS_SANITIZE}" -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_compile_options(${_ml_san})
  add_link_options(${_ml_san})
endif()
