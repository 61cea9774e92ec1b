# Pages of file mappings that are not resident, on a live process: grep finds a string in a
# 1 MiB shared mapping the process never touched where a snapshot (and YARA) do, read shows
# the file's bytes marked as from the file, a private copy of the C library reads as the file, and the
# mapping's Rss, present pages and page tables do not change.
set -u
fail() { echo "FAIL: $*"; exit 1; }
command -v python3 >/dev/null || { echo "SKIP: python3 needed to make the file and check the output"; exit 77; }

T=$(mktemp -d)
coproc CH { exec "$ML_HELPERS/ml_pages"; }
trap 'kill $CH_PID 2>/dev/null; rm -rf "$T"' EXIT
read -r line <&"${CH[0]}"
PID=${line#ready pid=}
cmd() { echo "$*" >&"${CH[1]}"; read -r reply <&"${CH[0]}"; case $reply in ok*) ;; *) fail "child: $* -> $reply";; esac; }
kv() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$reply"; }

# 1 MiB of a byte pattern with the secret at 0x7b123, out of the page cache
python3 - "$T/f" <<'EOF'
import os, sys
b = bytearray((i * 7 + 3) & 0xff for i in range(1 << 20))
b[0x7b123:0x7b123 + 20] = b"FILEPAGE-SECRET-4242"
with open(sys.argv[1], "wb") as f:
    f.write(b)
    f.flush()
    os.fsync(f.fileno())
    os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
EOF
cmd mapfile "$T/f" shared 256; A=$(kv addr)
SEC=$(printf '0x%x' $((A + 0x7b123)))

rss() { # Rss (kB) of the mapping at $1
	awk -v a="$(printf '%x' "$1")" '$1 ~ "^0*"a"-" { f = 1; next } f && /^Rss:/ { print $2; exit }' "/proc/$PID/smaps"
}
present() { python3 - "$PID" "$1" "$2" <<'EOF'
import sys, struct
pid, a, n = int(sys.argv[1]), int(sys.argv[2], 16), int(sys.argv[3])
with open(f"/proc/{pid}/pagemap", "rb") as f:
    f.seek(a // 4096 * 8)
    d = f.read(n * 8)
print(sum((e >> 63) & 1 for (e,) in struct.iter_unpack("<Q", d)))
EOF
}
pte() { awk '/VmPTE/ {print $2}' "/proc/$PID/status"; }
[ "$(rss "$A")" = 0 ] || fail "setup: the mapping has Rss $(rss "$A") kB"
[ "$(present "$A" 256)" = 0 ] || fail "setup: pages of the mapping are present"
pte0=$(pte)

# grep: found at its address, from the file; not with --resident-only
out=$("$MEMLENS" grep -o FILEPAGE-SECRET-4242 "$PID") || fail "live grep: exit $? ($out)"
grep -q "^$PID:$SEC:" <<<"$out" || fail "live grep: not at $SEC: $out"
"$MEMLENS" grep --json FILEPAGE-SECRET-4242 "$PID" | python3 -c '
import json, sys
hits = [d for d in map(json.loads, sys.stdin) if d["type"] == "match"]
assert len(hits) == 1 and hits[0]["address"] == sys.argv[1] and hits[0]["from"] == "file", hits
' "$SEC" || fail "grep --json: one hit at $SEC, from the file"
"$MEMLENS" grep --json --resident-only FILEPAGE-SECRET-4242 "$PID" >"$T/ro"; rc=$?
[ $rc = 1 ] || fail "grep --resident-only: exit $rc (the page is not resident)"
python3 -c '
import json, sys
d = [json.loads(l) for l in open(sys.argv[1])]
assert len(d) == 1 and d[0]["type"] == "summary" and d[0]["bytes_skipped"]["file"] >= 1 << 20, d
' "$T/ro" || fail "grep --resident-only: the mapping is not counted as skipped file bytes"

# read: the file's bytes, marked F, with a legend
"$MEMLENS" read "$PID" "$(printf '0x%x' $((A + 0x7b120)))" 32 >"$T/hex" || fail "read exit $?"
grep -q '46 49 4c 45 50  41 47 45.*|...FILEPAGE-SECR|  F$' "$T/hex" || { cat "$T/hex"; fail "read: the secret's line, marked F"; }
grep -q '^marks: F = read from the mapped file' "$T/hex" || fail "read: no legend"
"$MEMLENS" read --raw "$PID" "$A" 1M | cmp -s - "$T/f" || fail "read --raw of the mapping is not the file"
"$MEMLENS" read --json "$PID" "$SEC" 20 | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert bytes.fromhex(d["hex"]) == b"FILEPAGE-SECRET-4242", d
assert d["runs"] == [{"addr": sys.argv[1], "length": 20, "kind": "file"}], d["runs"]
' "$SEC" || fail "read --json: the bytes and one run from the file"

# a snapshot finds it at the same address
"$MEMLENS" dump -q --filter 0x1ff -o "$T/s.mlcore" "$PID" 2>"$T/err" || { cat "$T/err"; fail "dump"; }
snap=$("$MEMLENS" grep -o FILEPAGE-SECRET-4242 "$T/s.mlcore") || fail "snapshot grep: exit $?"
grep -q "^$T/s.mlcore:$SEC:" <<<"$snap" || fail "snapshot grep: not at $SEC: $snap"

# a private mapping of a copy of the C library, never touched: the library file's bytes
LIBC=$(awk '$6 ~ /\/libc[.-][^\/]*so/ { print $6; exit }' "/proc/$PID/maps")
[ -f "$LIBC" ] || fail "setup: the child's C library not found in its maps"
cp "$LIBC" "$T/libc.so"
N=$(( ($(stat -c %s "$T/libc.so") + 4095) / 4096 ))
cmd mapfile "$T/libc.so" private "$N"; L=$(kv addr)
"$MEMLENS" read --raw "$PID" "$L" "$(stat -c %s "$T/libc.so")" | cmp -s - "$T/libc.so" || fail "libc copy: read is not the file"
"$MEMLENS" read "$PID" "$L" 16 | grep -q '|.ELF.*|  F$' || fail "libc copy: the ELF header, marked F"
[ "$(rss "$L")" = 0 ] || fail "libc copy: Rss $(rss "$L") kB after reading"
[ "$(present "$L" "$N")" = 0 ] || fail "libc copy: pages faulted in"

# nothing of the target changed
[ "$(rss "$A")" = 0 ] || fail "the mapping's Rss is $(rss "$A") kB after memlens read it"
[ "$(present "$A" 256)" = 0 ] || fail "memlens faulted pages in"
[ "$(pte)" = "$pte0" ] || fail "VmPTE changed: $pte0 -> $(pte) kB"

# YARA finds it at the same address. YARA reads a process by faulting its pages in, all of
# them (a sanitizer build's child reserves terabytes of shadow), so it scans a plain python
# process that maps the same file, never touching it, as memlens grep does
if command -v yara >/dev/null; then
	coproc PY { exec python3 -c '
import mmap, sys
f = open(sys.argv[1], "rb")
m = mmap.mmap(f.fileno(), 0, mmap.MAP_SHARED, mmap.PROT_READ)
print("ready", flush=True)
sys.stdin.readline()
' "$T/f"; }
	PYPID=$PY_PID
	read -r l <&"${PY[0]}"
	PA=$(awk -v f="$T/f" '$6 == f { split($1, r, "-"); print "0x" r[1]; exit }' "/proc/$PYPID/maps")
	[ -n "$PA" ] || fail "python child: the file is not mapped"
	PSEC=$(printf '0x%x' $((PA + 0x7b123)))
	out=$("$MEMLENS" grep -o FILEPAGE-SECRET-4242 "$PYPID") || fail "grep of the python child: exit $?"
	grep -q "^$PYPID:$PSEC:" <<<"$out" || fail "grep of the python child: not at $PSEC: $out"
	echo 'rule s { strings: $a = "FILEPAGE-SECRET-4242" condition: $a }' >"$T/r.yar"
	y=$(yara -s "$T/r.yar" "$PYPID" 2>&1) || fail "yara: $y"
	grep -qi "^$PSEC:\$a" <<<"$y" || fail "yara does not report $PSEC: $y"
	kill "$PYPID" 2>/dev/null
else
	echo "SKIP-PART: yara is not installed: the comparison with YARA is not made"
fi
echo "ok"
