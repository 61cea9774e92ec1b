# memlens read: bytes, hexdump layout, zeros for unpopulated pages without faulting, exit codes.
set -u
fail() { echo "FAIL: $*"; exit 1; }
command -v python3 >/dev/null || { echo "SKIP: python3 needed to check the output"; exit 77; }

coproc CH { exec "$ML_HELPERS/ml_pages"; }
CHILD=$CH_PID # bash unsets CH_PID once the child is gone
trap 'kill $CHILD 2>/dev/null' EXIT
read -r line <&"${CH[0]}"
PID=${line#ready pid=}
cmd() { echo "$*" >&"${CH[1]}"; read -r reply <&"${CH[0]}"; case $reply in ok*) ;; *) fail "child: $* -> $reply";; esac; }
kv() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$reply"; }

# pages 0..1023; one byte written every 16 pages
cmd anon 1024; A=$(kv addr)
cmd write1 "$A" 1024 16
cmd anon 4; B=$(kv addr)
cmd write "$B" 4

present() { python3 - "$PID" "$1" "$2" <<'EOF'
import sys, struct
pid, a, n = int(sys.argv[1]), int(sys.argv[2], 16), int(sys.argv[3])
with open(f"/proc/{pid}/pagemap", "rb") as f:
    f.seek(a // 4096 * 8)
    d = f.read(n * 8)
print(sum((e >> 63) & 1 for (e,) in struct.iter_unpack("<Q", d)))
EOF
}
before=$(present "$A" 1024)
[ "$before" = 64 ] || fail "setup: $before present pages, expected 64"
pte_before=$(awk '/VmPTE/ {print $2}' /proc/$PID/status)

tmp=$(mktemp -d); trap 'kill $CHILD 2>/dev/null; rm -rf "$tmp"' EXIT
"$MEMLENS" read --raw "$PID" "$A" 4M >"$tmp/raw" || fail "read --raw exit $?"
[ "$(stat -c %s "$tmp/raw")" = 4194304 ] || fail "raw size"
python3 - "$tmp/raw" "$A" <<'EOF' || fail "raw bytes differ from what the child wrote"
import sys
d = open(sys.argv[1], "rb").read(); a = int(sys.argv[2], 16)
def pat(x):
    b = ((x >> 12) * 31 + (x & 0xfff)) & 0xff
    return b or 1
for pg in range(1024):
    x = a + pg * 4096
    want = pat(x) if pg % 16 == 0 else 0
    if d[pg * 4096] != want or any(d[pg * 4096 + 1: pg * 4096 + 4096]):
        sys.exit(f"page {pg}")
EOF
after=$(present "$A" 1024)
[ "$after" = "$before" ] || fail "reading faulted pages in: $before -> $after present"
[ "$(awk '/VmPTE/ {print $2}' /proc/$PID/status)" = "$pte_before" ] || fail "VmPTE changed"

# ADDR-END is the same as ADDR LEN; the hexdump matches the raw bytes
END=$(printf '0x%x' $((A + 8192)))
"$MEMLENS" read "$PID" "$A-$END" >"$tmp/h1" || fail "range form"
"$MEMLENS" read "$PID" "$A" 8192 >"$tmp/h2" || fail "len form"
cmp -s "$tmp/h1" "$tmp/h2" || fail "ADDR-END and ADDR LEN differ"
"$MEMLENS" read --raw "$PID" "$B" 16K >"$tmp/b"
python3 - "$tmp/b" "$B" "$tmp/hb" <<'EOF'
import sys
d = open(sys.argv[1], "rb").read(); a = int(sys.argv[2], 16)
out, prev, star = [], None, False
for off in range(0, len(d), 16):
    l = d[off:off + 16]
    if l == prev:
        if not star: out.append("*")
        star = True; continue
    star = False; prev = l
    h = " ".join(f"{b:02x}" for b in l[:8]) + "  " + " ".join(f"{b:02x}" for b in l[8:])
    out.append(f"{a + off:016x}  {h}  |" + "".join(chr(b) if 32 <= b < 127 else "." for b in l) + "|")
out.append(f"{a + len(d):016x}")
open(sys.argv[3], "w").write("\n".join(out) + "\n")
EOF
"$MEMLENS" read "$PID" "$B" 16K >"$tmp/hb2" || fail "hexdump exit"
diff -q "$tmp/hb" "$tmp/hb2" >/dev/null || { diff "$tmp/hb" "$tmp/hb2" | head; fail "hexdump layout"; }
grep -q '^\*$' "$tmp/h1" || fail "identical lines are not collapsed"

# a read running into a hole: the prefix, a warning, exit 1
cmd unmap "$(printf '0x%x' $((B + 8192)))" 2
"$MEMLENS" read --raw "$PID" "$B" 16K >"$tmp/p" 2>"$tmp/err"; rc=$?
[ $rc = 1 ] || fail "short read exit $rc"
[ "$(stat -c %s "$tmp/p")" = 8192 ] || fail "short read size"
grep -q "stopped at" "$tmp/err" || fail "no warning on a short read"
# nothing mapped there: exit 2 with the PID and the cause
"$MEMLENS" read "$PID" "$(printf '0x%x' $((B + 8192)))" 16 >/dev/null 2>"$tmp/err"; rc=$?
[ $rc = 2 ] || fail "unmapped exit $rc"
grep -q "pid $PID" "$tmp/err" && grep -q "not mapped" "$tmp/err" || fail "error message: $(cat "$tmp/err")"
# --json
"$MEMLENS" read --json "$PID" "$B" 32 | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["schema"] == "memlens.read/1" and d["read"] == 32 and len(d["hex"]) == 64, d' || fail "json"
# usage
"$MEMLENS" read --help >/dev/null || fail "--help"
"$MEMLENS" read "$PID" zz 16 2>/dev/null; [ $? = 64 ] || fail "bad address is not a usage error"
"$MEMLENS" read "$PID" 2>/dev/null; [ $? = 64 ] || fail "missing argument is not a usage error"
"$MEMLENS" read 999999999 1000 16 2>/dev/null; [ $? = 2 ] || fail "no such process"

# the target dies after part of the range was printed: exit 1 (partial), as the page says.
# read writes 1 MiB at a time; the pipe holds it blocked on the first MiB until the
# child is dead, so exactly that MiB is printed
mkfifo "$tmp/fifo"
"$MEMLENS" read --raw "$PID" "$A" 4M >"$tmp/fifo" 2>"$tmp/err" &
RP=$!
exec 7<"$tmp/fifo"
head -c 1 <&7 >/dev/null
kill -9 "$CHILD"
wait "$CHILD" 2>/dev/null
cat <&7 >"$tmp/rest"
exec 7<&-
wait $RP; rc=$?
[ $rc = 1 ] || fail "target killed during read: exit $rc: $(cat "$tmp/err")"
grep -q "pid $PID: the process exited after 1048576 bytes" "$tmp/err" || fail "target killed during read: $(cat "$tmp/err")"
echo "ok"
