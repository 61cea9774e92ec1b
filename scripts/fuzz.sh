#!/usr/bin/env bash
# Fuzzes with libFuzzer under ASan+UBSan (clang), on demand (not in CI; CI replays the corpora).
#   scripts/fuzz.sh [SECONDS] [TARGET...]   default 600 s each, every target
# New interesting inputs go to a scratch corpus; crashes to tests/fuzz/crash-*.
# Minimise and copy the inputs worth keeping into tests/fuzz/corpus/TARGET/.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}
shift || true
bdir=${ML_BUILD_DIR:-build-fuzz}
CC=clang cmake -S . -B "$bdir" -DMEMLENS_FUZZ=ON -DMEMLENS_SANITIZE=address,undefined \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$bdir" -j"$(nproc)" >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in tests/fuzz/fuzz_*.c; do t=$(basename "$f" .c); targets+=("${t#fuzz_}"); done
fi
for t in "${targets[@]}"; do
  scratch=$(mktemp -d)
  echo "fuzz $t: ${secs}s"
  "$bdir/tests/fuzz/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 \
    -artifact_prefix=tests/fuzz/crash-"$t"- "$scratch" "tests/fuzz/corpus/$t" 2>&1 | tail -n 12
  echo "fuzz $t: $(ls "$scratch" | wc -l) new inputs in $scratch"
done
