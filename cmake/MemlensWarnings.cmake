# Warning flags for every target of the project (not for consumers of the installed library).
add_library(memlens_warnings INTERFACE)
target_compile_options(memlens_warnings INTERFACE
  -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes
  -Wno-unused-parameter -Wvla -Wpointer-arith -Wundef)
if(MEMLENS_WERROR)
  target_compile_options(memlens_warnings INTERFACE -Werror)
endif()
