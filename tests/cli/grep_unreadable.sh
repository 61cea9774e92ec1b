#!/bin/bash
# memlens grep on a target with a memfd_secret mapping: the needle there is never read (exit 1, no
# match) and the summary accounts for the mapping as failed or unreadable.
. "$ML_SOURCE_DIR/tests/support/grep_needles.sh" || { echo "FAIL: tests/support/grep_needles.sh cannot be read"; exit 1; }

start
ask secret
[[ $reply == ok* ]] || { echo "SKIP: memfd_secret is not available here ($reply): no unreadable region to search"; exit 77; }
"$M" grep --json ZqXsecretNeedle "$cpid" >"$T/o" 2>/dev/null; rc=$?
[ $rc -eq 1 ] || fail "secret: exit $rc"
"$PY" - "$T/o" <<'EOF' || exit 1
import json, sys
docs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
if any(d.get("type") == "match" for d in docs):
    sys.exit("FAIL: secret: a match in a mapping that cannot be read")
s = [d for d in docs if d.get("type") == "summary"][0]
missed = sum(v for v in s["bytes_failed"].values() if isinstance(v, int)) + s["bytes_skipped"]["unreadable"]
if missed < 65536:
    sys.exit(f"FAIL: secret: {missed} bytes accounted as failed or unreadable")
EOF
echo 'exit 0' >&"$cw"
echo ok
