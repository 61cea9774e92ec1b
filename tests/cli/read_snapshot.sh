# memlens read prints the same for a live process and for its snapshot (written by dump),
# and the snapshot expands to a core that core verify accepts.
set -u
fail() { echo "FAIL: $*"; exit 1; }

coproc CH { exec "$ML_HELPERS/ml_child"; }
CHILD=$CH_PID # bash unsets CH_PID once the child is gone
tmp=$(mktemp -d)
trap 'kill $CHILD 2>/dev/null; rm -rf "$tmp"' EXIT
read -r line <&"${CH[0]}"
PID=${line#ready pid=}
cmd() { echo "$*" >&"${CH[1]}"; read -r reply <&"${CH[0]}"; case $reply in ok*) ;; *) fail "child: $* -> $reply";; esac; }

# 4 MiB, one page in four touched, a canary at a known place
cmd map 0x400000; A=${reply#ok addr=}
cmd touch "$A" 0x400000 0x4000
cmd write "$(printf '0x%x' $((A + 0x8010)))" memlens-snapshot-canary
at=$(printf '0x%x' $((A + 0x4000)))

"$MEMLENS" dump -q -o "$tmp/child.mlcore" "$PID" || fail "dump exit $?"
"$MEMLENS" read "$PID" "$at" 0x20000 >"$tmp/live" || fail "read of the process: exit $?"
"$MEMLENS" read "$tmp/child.mlcore" "$at" 0x20000 >"$tmp/snap" || fail "read of the snapshot: exit $?"
cmp -s "$tmp/live" "$tmp/snap" || { diff "$tmp/live" "$tmp/snap" | head; fail "read differs between the process and its snapshot"; }
grep -q 'memlens-snaps' "$tmp/snap" || fail "the canary is not in the hexdump"

# the expanded core verifies
"$MEMLENS" core expand "$tmp/child.mlcore" -o "$tmp/child.core" || fail "core expand exit $?"
[ -s "$tmp/child.core" ] || fail "core expand wrote nothing"
"$MEMLENS" core verify "$tmp/child.mlcore" >/dev/null || fail "core verify exit $?"
echo "ok"
