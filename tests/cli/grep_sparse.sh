#!/bin/bash
# memlens grep on a sparse 16 GiB target (64 MiB populated): every needle, the target untouched (same RSS),
# and what is searched follows what is populated (the untouched 16 GiB skipped, never read).
. "$ML_SOURCE_DIR/tests/support/grep_needles.sh" || { echo "FAIL: tests/support/grep_needles.sh cannot be read"; exit 1; }

start
ask sparse $((16 << 30)) 64 "$T/sparse"
[[ $reply == ok* ]] || { echo "SKIP: cannot map 16 GiB NORESERVE here: $reply"; exit 77; }
rss0=$(awk '/^VmRSS/ {print $2}' /proc/$cpid/status)
"$M" grep -o ZqXsecretNeedle "$cpid" >"$T/o" || fail "sparse: exit $?"
hits "$T/o" "$T/sparse" ascii sparse sparse
rss1=$(awk '/^VmRSS/ {print $2}' /proc/$cpid/status)
[ "$rss0" = "$rss1" ] || fail "sparse: the target's RSS went from $rss0 to $rss1 kB"
# what was searched is about what is populated; the untouched 16 GiB were never read
"$M" grep --json -c -F ZqXsecretNeedle "$cpid" >"$T/o" || fail "sparse --json: exit $?"
"$PY" - "$T/o" <<'EOF' || exit 1
import json, sys
s = [d for d in map(json.loads, filter(str.strip, open(sys.argv[1]))) if d.get("type") == "summary"][0]
scanned, unpop = s["bytes_scanned"], s["bytes_skipped"]["unpopulated"]
if not (64 << 20 <= scanned <= 1 << 30) or unpop < (16 << 30) - (64 << 20):
    sys.exit(f"FAIL: sparse: {scanned} bytes searched, {unpop} skipped as unpopulated")
print(f"sparse 16 GiB with 64 MiB populated: {scanned} bytes searched, {unpop} skipped as unpopulated")
EOF
echo 'exit 0' >&"$cw"

echo ok
