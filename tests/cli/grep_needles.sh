#!/bin/bash
# memlens grep against a child with needles at known addresses (ml_needles), in both engines:
# every needle exactly once and nothing else (ASCII, UTF-16LE, case variants, regexes, a
# thousand literals, hex), the region filters, the heap chunk, -c/-l/-q/-m/--redact, bounded
# memory. Other targets: grep_sparse.sh, grep_target_exits.sh, grep_unreadable.sh.
. "$ML_SOURCE_DIR/tests/support/grep_needles.sh" || { echo "FAIL: tests/support/grep_needles.sh cannot be read"; exit 1; }

# ---------------------------------------------------------------- the needle child
mib=${ML_GREP_FIXTURE_MIB:-256}
if [ -z "${ML_GREP_FIXTURE_MIB:-}" ] && [ -n "${ASAN_OPTIONS:-}" ]; then
	mib=96 # the sanitizer build searches several times slower: keep the suite in seconds
	echo "sanitizer build: a $mib MiB fixture instead of 256 MiB"
fi
start
P=$cpid
N=$T/needles
ask fill $((mib << 20)) "$N"
[[ $reply == ok* ]] || { echo "SKIP: the needle child could not map $mib MiB: $reply"; exit 77; }
chunk=$(kv heap_chunk)
fmap=$(kv file)

engines=(portable)
: >"$T/empty" # an empty image: exit 1 (no match) with Vectorscan, 2 without it
"$M" grep --engine vectorscan -q x --raw "$T/empty" 2>/dev/null
if [ $? -eq 1 ]; then engines+=(vectorscan); else echo "this build has no Vectorscan: only the portable engine is tested"; fi

for e in "${engines[@]}"; do
	# every ASCII needle once; memory bounded whatever the target's size
	"$PY" - "$M" "$e" "$P" "$T/o" <<'EOF' || exit 1
import resource, subprocess, sys
m, e, p, out = sys.argv[1:5]
with open(out, "wb") as f:
    rc = subprocess.run([m, "grep", "--engine", e, "-o", "ZqXsecretNeedle", p], stdout=f).returncode
if rc != 0:
    sys.exit(f"FAIL: {e}: exit {rc}")
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
if rss >= 64 * 1024:
    sys.exit(f"FAIL: memlens grep used {rss} kB")
print(f"{e}: memlens grep max RSS {rss} kB")
EOF
	hits "$T/o" "$N" ascii "" "$e"

	# UTF-16 and case variants
	"$M" grep --engine "$e" -o -i --encoding both ZqXsecretNeedle "$P" >"$T/o" || fail "$e -i both: exit $?"
	hits "$T/o" "$N" "ascii utf16 mixed" "" "$e -i --encoding both"
	"$M" grep --engine "$e" -o --encoding utf16le ZqXsecretNeedle "$P" >"$T/o"
	hits "$T/o" "$N" utf16 "" "$e utf16le"
	grep -qF "ZqXsecretNeedle(utf16le): ZqXsecretNeedle" "$T/o" || fail "$e: utf16 hit not labelled"
	"$M" grep --engine "$e" -o zQxSECRETneedle "$P" >"$T/o"
	hits "$T/o" "$N" mixed "" "$e exact case"

	# a regex: each address once, and the whole of it
	"$M" grep --engine "$e" -o -E '[a-z0-9._%+-]+@needle-mail\.org' "$P" >"$T/o" || fail "$e email: exit $?"
	hits "$T/o" "$N" email "" "$e email"
	"$PY" - "$T/o" "$N" <<'EOF' || exit 1
import sys
out = open(sys.argv[1], encoding="latin-1").read()
for line in open(sys.argv[2]):
    k, w, a, l = line.split()
    if k != "email":
        continue
    i = out.find(f":{int(a, 16):#x}:")
    j = out.find(": user.", i)
    if i < 0 or j < 0 or len(out[j + 2:].split("\n", 1)[0]) != int(l):
        sys.exit(f"FAIL: e-mail at {a} not matched whole")
EOF
	# a general e-mail regex finds them too (random bytes may add a few more)
	c=$("$M" grep --engine "$e" -c -E '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}' "$P") || fail "$e -c email: exit $?"
	[ "${c##*:}" -ge "$(count "$N" email)" ] || fail "$e: general e-mail regex found ${c##*:}"

	# a thousand literals
	"$PY" -c '
s = 12345
for i in range(998):
    w = ""
    for k in range(10 + i % 10):
        s = (s * 1103515245 + 12345) & 0xffffffff
        w += chr(ord("a") + (s >> 16) % 26)
    print(w)
print("ZqXsecretNeedle\nzQxSECRETneedle")' >"$T/pats"
	"$M" grep --engine "$e" -o -f "$T/pats" "$P" >"$T/o" || fail "$e -f: exit $?"
	hits "$T/o" "$N" "ascii mixed" "" "$e 1000 literals"

	# hex: Z q X ?3 e [1] r e t N
	"$M" grep --engine "$e" -x '5a 71 58 ?3 65 [1] 72 65 74 4e' "$P" >"$T/o" || fail "$e hex: exit $?"
	hits "$T/o" "$N" ascii "" "$e hex"
done

# ---------------------------------------------------------------- filters and the heap
"$M" grep --heap --json -i --encoding both ZqXsecretNeedle "$P" >"$T/o" || fail "--heap: exit $?"
"$PY" - "$T/o" "$chunk" <<'EOF' || exit 1
import json, sys
docs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
m = [d for d in docs if d.get("type") == "match"]
if len(m) != 3:
    sys.exit(f"FAIL: --heap: {len(m)} matches, expected 3")
for d in m:
    c = d.get("chunk") or {}
    if c.get("start") != sys.argv[2] or c.get("in_use") is not True or (d.get("region") or {}).get("kind") != "heap":
        sys.exit(f"FAIL: heap hit without its malloc chunk {sys.argv[2]}: {d}")
if not any(d.get("type") == "summary" for d in docs):
    sys.exit("FAIL: --heap: no summary")
EOF
"$M" grep --stack -o -i --encoding both ZqXsecretNeedle "$P" >"$T/o"; hits "$T/o" "$N" "ascii utf16 mixed" stack --stack
"$M" grep --file -o ZqXsecretNeedle "$P" >"$T/o"; hits "$T/o" "$N" ascii file --file
"$M" grep --anon -o ZqXsecretNeedle "$P" >"$T/o"; hits "$T/o" "$N" ascii "anon ro" --anon
"$M" grep --perm r--p -o ZqXsecretNeedle "$P" >"$T/o"; hits "$T/o" "$N" ascii "ro file" "--perm r--p"
"$M" grep --perm 'rw?' -o ZqXsecretNeedle "$P" >"$T/o"; hits "$T/o" "$N" ascii "anon heap stack" "--perm rw?"
"$M" grep --name '/tmp/ml_needles.*' -o ZqXsecretNeedle "$P" >"$T/o"; hits "$T/o" "$N" ascii file --name
fend=$(printf '%x' $((fmap + (2 << 20))))
"$M" grep --addr "${fmap#0x}-$fend" -o ZqXsecretNeedle "$P" >"$T/o"; hits "$T/o" "$N" ascii file --addr
# --all: every process (heaps only, to stay quick on a busy machine)
"$M" grep --all --heap -l ZqXsecretNeedle 2>/dev/null >"$T/o" || fail "--all: exit $?"
grep -qx "$P" "$T/o" || fail "--all did not list pid $P: $(cat "$T/o")"
"$M" grep -p "$P,$P" -c ZqXsecretNeedle >/dev/null || fail "-p twice: exit $?"
out=$("$M" grep --heap NoSuchNeedleAnywhere "$P"); rc=$?
[ $rc -eq 1 ] && [ -z "$out" ] || fail "no match: exit $rc, output '$out'"

# ---------------------------------------------------------------- -c -l -q -m --redact
na=$(count "$N" ascii)
out=$("$M" grep -c -e ZqXsecretNeedle -e NoSuchNeedleAnywhere "$P"); rc=$?
[ $rc -eq 0 ] && [ "$out" = "$P:ZqXsecretNeedle:$na
$P:NoSuchNeedleAnywhere:0" ] || fail "-c: exit $rc: $out"
[ "$("$M" grep -l ZqXsecretNeedle "$P")" = "$P" ] || fail "-l"
out=$("$M" grep -q ZqXsecretNeedle "$P"); rc=$?
[ $rc -eq 0 ] && [ -z "$out" ] || fail "-q: exit $rc, output '$out'"
"$M" grep -q NoSuchNeedleAnywhere "$P"; [ $? -eq 1 ] || fail "-q without a match: not 1"
# -m: the first N by address
"$M" grep -m 5 -o ZqXsecretNeedle "$P" >"$T/o"
want=$(awk '$1 == "ascii" {print $3}' "$N" | "$PY" -c 'import sys; print("\n".join(hex(x) for x in sorted(int(l, 16) for l in sys.stdin)[:5]))')
got=$(grep -o ':0x[0-9a-f]*' "$T/o" | cut -c2-)
[ "$got" = "$want" ] || fail "-m 5: $got, expected $want"
"$M" grep --redact ZqXsecretNeedle "$P" >"$T/o"
grep -q ZqXsecret "$T/o" && fail "--redact printed the match"
[ "$(grep -c ':0x' "$T/o")" = "$na" ] || fail "--redact: not one line per hit"
grep -qF '#1: [redacted length=15 sha256/64=' "$T/o" || fail "--redact: no digest"
echo 'exit 0' >&"$cw"

echo ok
