# Shared by the grep CLI tests that search an ml_needles child: the child, its needles, and
# the checks of hits against them. Sourced after MEMLENS and ML_SOURCE_DIR are set.
set -uo pipefail
fail() { echo "FAIL: $*"; exit 1; }
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "SKIP: /usr/bin/python3 is needed to compare hits with needles"; exit 77; }
M=$MEMLENS
T=$(mktemp -d)
kids=()
cleanup() { for p in "${kids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT

# start NAME: a needle child on fifos; its pid in $cpid, its descriptors in $cw/$cr
n=0
start() {
	n=$((n + 1))
	mkfifo "$T/in$n" "$T/out$n"
	"$ML_HELPERS/ml_needles" <"$T/in$n" >"$T/out$n" &
	cpid=$!
	kids+=("$cpid")
	exec {cw}>"$T/in$n" {cr}<"$T/out$n"
	read -r line <&"$cr"
	[[ $line == ready* ]] || fail "child: $line"
}
ask() { echo "$*" >&"$cw"; reply=; read -r reply <&"$cr"; }
kv() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$reply"; }

# hits FILE NEEDLES KINDS WHERES LABEL: the output's hits ("PID:0xADDR:...") are exactly the
# needles of those kinds and places (WHERES "" = any), once each, in address order
hits() {
	"$PY" - "$@" <<'EOF' || exit 1
import re, sys
out, nfile, kinds, wheres, label = sys.argv[1:6]
got = []
for line in open(out, encoding="latin-1"):
    m = re.search(r":0x([0-9a-f]+)", line)
    if m:
        got.append(int(m.group(1), 16))
want = []
for line in open(nfile):
    f = line.split()
    if len(f) == 4 and f[0] in kinds.split() and (not wheres or f[1] in wheres.split()):
        want.append(int(f[2], 16))
want.sort()
for a, b in zip(got, got[1:]):
    if a >= b:
        sys.exit(f"FAIL: {label}: hits out of order or duplicated at {b:#x}")
if not want:
    sys.exit(f"FAIL: {label}: no needles of kinds {kinds!r} in {wheres!r}")
extra, missing = sorted(set(got) - set(want)), sorted(set(want) - set(got))
if extra or missing:
    sys.exit(f"FAIL: {label}: {len(got)} hits for {len(want)} needles; unexpected "
             f"{[hex(x) for x in extra[:5]]}, not found {[hex(x) for x in missing[:5]]}")
EOF
}
count() { "$PY" -c 'import sys; print(sum(l.split()[0] in sys.argv[2].split() for l in open(sys.argv[1]) if l.strip()))' "$@"; }
