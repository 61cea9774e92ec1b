# Swapped-out pages through the commands: pagemap counts them, read shows them as not
# available and leaves them swapped, dump records them as excluded (and reads them with
# --read-swapped), grep finds their bytes only with --swapped. Where no swap space is
# active, MADV_PAGEOUT leaves the pages resident and every command reads them as data.
# CI runs this test again with a swap file (scripts/swap-pass.sh).
set -u
fail() { echo "FAIL: $*"; exit 1; }
command -v python3 >/dev/null || { echo "SKIP: python3 needed to check the output"; exit 77; }

coproc CH { exec "$ML_HELPERS/ml_pages"; }
CHILD=$CH_PID
tmp=$(mktemp -d)
trap 'kill $CHILD 2>/dev/null; rm -rf "$tmp"' EXIT
read -r line <&"${CH[0]}"
PID=${line#ready pid=}
reply=
cmd() { echo "$*" >&"${CH[1]}"; read -r reply <&"${CH[0]}"; case $reply in ok*) ;; *) fail "child: $* -> $reply";; esac; }
kv() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$reply"; }

N=64
cmd anon $N; A=$(kv addr)
cmd write "$A" $N
echo "pageout $A $N" >&"${CH[1]}"; read -r reply <&"${CH[0]}"
case $reply in ok*) ;; *) echo "SKIP: MADV_PAGEOUT refused ($reply): a kernel before 5.4"; exit 77;; esac
END=$(printf '%x' $((A + N * 4096)))

# the truth: how many pagemap entries of [ADDR, ADDR + COUNT pages) are swap entries
# (default: the whole region)
swapped() { python3 - "$PID" "${1:-$A}" "${2:-$N}" <<'EOF'
import sys, struct
pid, a, n = int(sys.argv[1]), int(sys.argv[2], 16), int(sys.argv[3])
with open(f"/proc/{pid}/pagemap", "rb") as f:
    f.seek(a // 4096 * 8)
    d = f.read(n * 8)
print(sum(((e >> 62) & 1) and not ((e >> 63) & 1) for (e,) in struct.iter_unpack("<Q", d)))
EOF
}
sw=$(swapped)
active=$(($(wc -l </proc/swaps) > 1))
if [ "$sw" = 0 ] && [ "$active" = 1 ]; then
  echo "SKIP: swap space is active, but the kernel wrote none of $N pages out (a memory cgroup without swap?)"
  exit 77
fi
echo "$sw of $N pages went to swap (swap space active: $active)"

# pagemap: the swapped count of the mapping is the truth
"$MEMLENS" pagemap --json "$PID" >"$tmp/pm" || fail "pagemap exit $?"
python3 - "$tmp/pm" "$A" "$sw" <<'EOF' || fail "pagemap does not count the swapped pages"
import json, sys
d = json.load(open(sys.argv[1])); a = int(sys.argv[2], 16); sw = int(sys.argv[3])
m = [m for m in d["mappings"] if int(m["start"], 16) <= a < int(m["end"], 16)]
assert len(m) == 1, m
assert m[0]["swapped"] == sw * 4096, (m[0]["swapped"], sw)
EOF

# 24 bytes across the boundary of the last two pages: within a page the bytes only count up,
# so the jump at a page boundary makes them unique in the mapping
needle=$(python3 -c "
a = int('$A', 16) + ($N - 1) * 4096 - 12
print(' '.join('%02x' % ((((a + i) >> 12) * 31 + ((a + i) & 0xfff)) & 0xff or 1) for i in range(24)))")

# read: swapped bytes are not available (--json says so), and stay swapped
"$MEMLENS" read --json "$PID" "$A-$END" >"$tmp/r" || fail "read exit $?"
[ "$(swapped)" = "$sw" ] || fail "read swapped pages in: $(swapped) of $sw left"
python3 - "$tmp/r" "$sw" <<'EOF' || fail "read --json does not say which bytes were swapped"
import json, sys
d = json.load(open(sys.argv[1])); sw = int(sys.argv[2])
runs = d["runs"]
assert d["read"] == 64 * 4096 and sum(r["length"] for r in runs) == d["read"], (d["read"], runs)
na = sum(r["length"] for r in runs if r["kind"] == "unavailable")
assert na == sw * 4096, (na, sw, runs)
assert all(r["kind"] in ("memory", "unavailable") for r in runs), runs
EOF

# grep: without --swapped a swapped page is not searched (so the needle across the last two
# pages is not found if either is swapped), and stays swapped
last_sw=$(swapped "$(printf '0x%x' $((A + (N - 2) * 4096)))" 2)
got=$("$MEMLENS" grep -c --addr="$A-$END" -x "$needle" "$PID" 2>/dev/null)
if [ "$last_sw" != 0 ]; then
  [ "${got##*:}" = 0 ] || fail "grep found a swapped page's bytes without --swapped: $got"
  [ "$(swapped)" = "$sw" ] || fail "grep swapped pages in"
else
  [ "${got##*:}" = 1 ] || fail "grep of resident bytes: $got"
fi

# dump: swapped pages are excluded (not zeros) and stay swapped; --read-swapped has them all
"$MEMLENS" dump -q -o "$tmp/s.mlcore" "$PID" || fail "dump exit $?"
[ "$(swapped)" = "$sw" ] || fail "dump swapped pages in"
"$MEMLENS" pagemap --json "$tmp/s.mlcore" >"$tmp/spm" || fail "pagemap of the snapshot exit $?"
python3 - "$tmp/spm" "$A" "$sw" "$N" <<'EOF' || fail "the snapshot does not record the swapped pages as excluded"
import json, sys
d = json.load(open(sys.argv[1])); a = int(sys.argv[2], 16); sw = int(sys.argv[3]); n = int(sys.argv[4])
m = [m for m in d["mappings"] if int(m["start"], 16) <= a < int(m["end"], 16)]
assert len(m) == 1, m
assert m[0]["excluded"] == sw * 4096 and m[0]["data"] == (n - sw) * 4096, m[0]
EOF
"$MEMLENS" dump -q --read-swapped -o "$tmp/all.mlcore" "$PID" || fail "dump --read-swapped exit $?"
[ "$(swapped)" = 0 ] || fail "dump --read-swapped left $(swapped) pages swapped"
"$MEMLENS" read --raw "$tmp/all.mlcore" "$A-$END" >"$tmp/raw" || fail "read of the --read-swapped dump exit $?"
python3 - "$tmp/raw" "$A" <<'EOF' || fail "dump --read-swapped bytes differ from the child's"
import sys
d = open(sys.argv[1], "rb").read(); a = int(sys.argv[2], 16)
assert len(d) == 64 * 4096, len(d)
for i, b in enumerate(d):
    x = a + i
    w = ((x >> 12) * 31 + (x & 0xfff)) & 0xff or 1
    assert b == w, (hex(x), b, w)
EOF

# grep --swapped: written out again, the bytes are found (and swapped in)
cmd pageout "$A" $N
got=$("$MEMLENS" grep -c --swapped --addr="$A-$END" -x "$needle" "$PID") || fail "grep --swapped exit $?"
[ "${got##*:}" = 1 ] || fail "grep --swapped: $got"
echo "ok: swapped pages ($sw of $N) through pagemap, read, grep and dump"
