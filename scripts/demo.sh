#!/usr/bin/env bash
# The README's demo: installs dependencies, builds, starts a child with known memory and
# runs memlens on it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh >/dev/null
bin=${ML_BUILD_DIR:-build}/tools/memlens
helper=${ML_BUILD_DIR:-build}/tests/helpers/ml_demo

coproc DEMO { exec "$helper"; }
read -r ready pidkv <&"${DEMO[0]}"
pid=${pidkv#pid=}
trap 'kill "$pid" 2>/dev/null || true' EXIT
echo "demo child: pid $pid ($ready)"
has() { "$bin" help | grep -q "^  $1 "; }
run() { echo; echo "\$ memlens $*"; "$bin" "$@" || echo "(exit status $?)"; }

"$bin" --version
has maps    && run maps "$pid" --sort rss
has maps    && run maps "$pid" --rollup
has pagemap && run pagemap "$pid" --populated
has info    && run info "$pid"
has wss     && run wss "$pid" -i 200ms
has grep    && run grep -F 'memlens-demo-secret' "$pid"
if has dump; then
  out=$(mktemp -d)/demo.mlcore
  run dump "$pid" -o "$out"
  has core && run core info "$out"
  has grep && run grep -F 'memlens-demo-secret' "$out"
  has core && run core expand "$out" -o "${out%.mlcore}.core" && command -v gdb >/dev/null &&
    run_gdb() { echo; echo "\$ gdb -batch -ex 'info threads' $helper ${out%.mlcore}.core";
                gdb -batch -ex 'info threads' "$helper" "${out%.mlcore}.core" 2>&1 | tail -n 4 | tee "$(dirname "$out")/gdb.out"
                if grep -q 'reg-xstate.*too small' "$(dirname "$out")/gdb.out"; then
                  echo "(gdb 13 expects a larger XSAVE area on this CPU than Linux writes; it says the same of the kernel's own core dumps)"
                fi; } && run_gdb
  rm -rf "$(dirname "$out")"
fi
exit 0
