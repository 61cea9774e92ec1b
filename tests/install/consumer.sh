#!/usr/bin/env bash
# Installs the built project into a scratch prefix, then builds every docs/examples/*.c
# against the *installed* library twice, through pkg-config and through find_package,
# and runs each.
set -euo pipefail
build=$1 src=$2 san=${3:-}
sanflags=()
[ -n "$san" ] && sanflags=(-fsanitize="$san")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
libdir=$(find "$tmp/prefix" -name memlens.pc -printf '%h\n' | head -n1)
[ -n "$libdir" ] || { echo "memlens.pc was not installed"; exit 1; }
export PKG_CONFIG_PATH=$libdir
test -x "$tmp/prefix/bin/memlens" || { echo "memlens binary was not installed"; exit 1; }
ls "$tmp/prefix"/include/memlens/memlens.h >/dev/null
# The shared library exports only ml_* symbols and has a SONAME.
so=$(find "$tmp/prefix" -name 'libmemlens.so.*.*' | head -n1)
readelf -d "$so" | grep -q 'SONAME.*\[libmemlens.so.0.2\]' || { echo "no SONAME"; exit 1; }
bad=$(nm -D --defined-only "$so" | awk '$2 ~ /[TDB]/ && $3 !~ /^ml_/ {print $3}' | grep -v '^MEMLENS_' || true)
[ -z "$bad" ] || { echo "unexpected exported symbols: $bad"; exit 1; }

for ex in "$src"/docs/examples/*.c; do
  name=$(basename "$ex" .c)
  # shellcheck disable=SC2046
  cc -std=c11 -Wall -Wextra -Werror "${sanflags[@]}" "$ex" $(pkg-config --define-variable=prefix="$tmp/prefix" --cflags --libs memlens) \
     -Wl,-rpath,"$(pkg-config --define-variable=prefix="$tmp/prefix" --variable=libdir memlens)" -o "$tmp/$name"
  "$tmp/$name" >"$tmp/$name.out"
  echo "pkg-config $name: $(head -c 200 "$tmp/$name.out")"
done

# find_package(memlens) gives memlens::memlens.
mkdir -p "$tmp/cm"
cat >"$tmp/cm/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.18)
project(consumer C)
find_package(memlens REQUIRED)
file(GLOB ex "$src/docs/examples/*.c")
foreach(e \${ex})
  get_filename_component(n \${e} NAME_WE)
  add_executable(\${n} \${e})
  target_link_libraries(\${n} PRIVATE memlens::memlens)
endforeach()
CM
cmake -S "$tmp/cm" -B "$tmp/cm/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
  -DCMAKE_C_FLAGS="${sanflags[*]}" -DCMAKE_EXE_LINKER_FLAGS="${sanflags[*]}" >/dev/null
cmake --build "$tmp/cm/build" >/dev/null
for ex in "$src"/docs/examples/*.c; do
  name=$(basename "$ex" .c)
  LD_LIBRARY_PATH="$(pkg-config --define-variable=prefix="$tmp/prefix" --variable=libdir memlens)" "$tmp/cm/build/$name" >/dev/null
  echo "find_package $name: ok"
done
