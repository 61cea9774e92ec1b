# Every command with stdout on /dev/full: the loss is reported on stderr and the exit is 2.
set -u
fail() { echo "FAIL: $*"; exit 1; }
M=${MEMLENS:?}
[ -c /dev/full ] || { echo "SKIP: no /dev/full"; exit 77; }
echo x >/dev/full 2>/dev/null && { echo "SKIP: /dev/full accepts writes here"; exit 77; }

T=$(mktemp -d)
sleep 1000 &
SP=$!
source "$ML_SOURCE_DIR/tests/support/cli.sh"
ml_exec_done $SP sleep || fail "setup: sleep"
trap 'kill $SP 2>/dev/null; rm -rf "$T"' EXIT
"$M" dump -q -o "$T/s.mlcore" "$SP" || fail "setup: dump exit $?"
ADDR=$("$M" maps --json "$SP" | python3 -c 'import json,sys; print(json.load(sys.stdin)["mappings"][0]["start"])') ||
	fail "setup: no first mapping"

# full: command... (stdout goes to /dev/full)
full() {
	local err rc
	err=$("$@" 2>&1 >/dev/full)
	rc=$?
	[ $rc -eq 2 ] || fail "$* > /dev/full: exit $rc, want 2 (stderr: $err)"
	grep -q "cannot write" <<<"$err" || fail "$* > /dev/full: loss not reported: $err"
}

full "$M" maps "$SP"
full "$M" maps --json "$SP"
full "$M" maps "$T/s.mlcore"
full "$M" info "$SP"
full "$M" info --json "$SP"
full "$M" pagemap "$SP"
full "$M" pagemap --json "$SP"
full "$M" grep -c sleep "$SP"
full "$M" grep sleep "$T/s.mlcore"
full "$M" read "$SP" "$ADDR" 64
full "$M" read --raw "$SP" "$ADDR" 64
full "$M" read --json "$SP" "$ADDR" 64
full "$M" wss -i 50ms "$SP"
full "$M" wss --probe
# a series without end stops at the first lost sample (no timeout needed)
full timeout 60 "$M" wss -i 50ms -n 0 "$SP"
full "$M" dump --json -o "$T/j.mlcore" "$SP"
full "$M" core info "$T/s.mlcore"
full "$M" core info --json "$T/s.mlcore"
full "$M" core verify "$T/s.mlcore"
full "$M" core expand -o - "$T/s.mlcore"
full "$M" core export -o - "$T/s.mlcore"
full "$M" --help
full "$M" maps --help
full "$M" --version

# "read --raw" names the output as the problem, not the memory
err=$("$M" read --raw "$SP" "$ADDR" 64 2>&1 >/dev/full)
grep -q "cannot read memory" <<<"$err" && fail "read --raw blames the memory for a write error: $err"

# and a good stdout still exits 0
"$M" maps "$SP" >/dev/null || fail "maps to /dev/null: exit $?"
echo ok
