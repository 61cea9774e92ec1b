#!/usr/bin/env bash
# The README's test command: installs dependencies, builds, runs the whole suite.
#   ML_BUILD_DIR   build directory (default build/)
#   ML_SANITIZE    e.g. address,undefined
#   ML_SKIP_DEPS=1 do not run scripts/deps.sh
#   ML_CTEST_ARGS  extra ctest arguments (e.g. "-L unit")
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${ML_SKIP_DEPS:-}" ] || bash scripts/deps.sh
bash scripts/build.sh
bdir=${ML_BUILD_DIR:-build}
# shellcheck disable=SC2086
ctest --test-dir "$bdir" --output-on-failure -j"$(nproc)" ${ML_CTEST_ARGS:-}
