#!/usr/bin/env bash
# Configures and builds memlens into $ML_BUILD_DIR (default build/). Extra CMake
# arguments come from $ML_CMAKE_ARGS; $ML_SANITIZE=address,undefined instruments all.
set -euo pipefail
cd "$(dirname "$0")/.."
bdir=${ML_BUILD_DIR:-build}
args=(-DCMAKE_BUILD_TYPE=${ML_BUILD_TYPE:-RelWithDebInfo})
[ -n "${ML_SANITIZE:-}" ] && args+=(-DMEMLENS_SANITIZE="$ML_SANITIZE")
[ -n "${ML_WERROR:-}" ] && args+=(-DMEMLENS_WERROR=ON)
# shellcheck disable=SC2206
[ -n "${ML_CMAKE_ARGS:-}" ] && args+=($ML_CMAKE_ARGS)
cmake -S . -B "$bdir" "${args[@]}" >/dev/null
cmake --build "$bdir" -j"$(nproc)"
