#!/bin/bash
# memlens grep golden tests on raw memory images: output formats, options, exit codes.
set -u
. "$ML_SOURCE_DIR/tests/support/cli.sh"
M=${MEMLENS:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0

# A 3 MiB image: xorshift bytes with strings planted (windows split at 4 MiB: the window
# boundaries are covered by grep_oracle.sh and the integration test).
python3 - "$T/mem.bin" <<'PY'
import sys
x = 0x9e3779b97f4a7c15
out = bytearray()
while len(out) < 3 << 20:
    x ^= (x << 13) & 0xffffffffffffffff; x ^= x >> 7; x ^= (x << 17) & 0xffffffffffffffff
    out += x.to_bytes(8, 'little')
def put(off, b): out[off:off + len(b)] = b
put(0x100, b'\x00password=hunter2\x00')
put(0xffff8, b'\x00ACROSS-BOUNDARY\x00')
put(0x2000, b'\x00' + 'Secret'.encode('utf-16le') + b'\x00\x00')
put(0x3000, b'\x00sEcReT\x00')
put(0x4000, bytes.fromhex('004d45aa4c150303032d00'))
put(0x200000, b'\x00mail bob@example.com now\x00')
put((3 << 20) - 13, b'\x00END-OF-IMAGE')
open(sys.argv[1], 'wb').write(out)
PY
IMG=$T/mem.bin
cd "$T"
IMG=mem.bin

# check NAME EXPECTED-EXIT EXPECTED-STDOUT -- ARGS...
check() {
	local name=$1 want_rc=$2 want_out=$3
	shift 4
	local out rc
	out=$("$M" grep "$@" 2>"$T/err")
	rc=$?
	# the JSON summary holds timings: compare the match lines only
	[[ $name == *json* ]] && out=$(head -1 <<<"$out")
	if [ "$rc" != "$want_rc" ] || [ "$out" != "$want_out" ]; then
		echo "FAIL $name: exit $rc (want $want_rc)"
		diff <(printf '%s\n' "$want_out") <(printf '%s\n' "$out")
		cat "$T/err"
		fail=1
	else
		echo "ok   $name"
	fi
}

for eng in portable vectorscan; do
	: >"$T/empty" # an empty image: exit 1 (no match) with Vectorscan, 2 without it
	"$M" grep --engine $eng -q x --raw "$T/empty" 2>/dev/null
	if [ $? = 2 ]; then
		ml_not_run "built without Vectorscan: the vectorscan runs are not done"
		continue
	fi
	E="--engine $eng --raw --base 0x10000"
	check "$eng literal" 0 "mem.bin:0x10101:mem.bin+0x101:password=: password=hunter2" -- $E password= $IMG
	check "$eng -o" 0 "mem.bin:0x10101:mem.bin+0x101:password=: password=" -- $E -o password= $IMG
	check "$eng 1 MiB boundary" 0 "mem.bin:0x10fff9:mem.bin+0xffff9:ACROSS-BOUNDARY: ACROSS-BOUNDARY" -- $E ACROSS-BOUNDARY $IMG
	check "$eng image end" 0 "mem.bin:0x30fff4:mem.bin+0x2ffff4:END-OF-IMAGE: END-OF-IMAGE" -- $E -o END-OF-IMAGE $IMG
	check "$eng utf16" 0 "mem.bin:0x12001:mem.bin+0x2001:Secret(utf16le): Secret" -- $E --encoding utf16le Secret $IMG
	check "$eng -i both" 0 "mem.bin:0x12001:mem.bin+0x2001:secret(utf16le): Secret
mem.bin:0x13001:mem.bin+0x3001:secret: sEcReT" -- $E -i --encoding both -o secret $IMG
	check "$eng case" 1 "" -- $E secret $IMG
	check "$eng hex" 0 'mem.bin:0x14001:mem.bin+0x4001:4d 45 ?? 4c ?5 [0-8] 2d: ME\xaaL\x15\x03\x03\x03-' -- $E -o -x '4d 45 ?? 4c ?5 [0-8] 2d' $IMG
	check "$eng regex" 0 "mem.bin:0x210006:mem.bin+0x200006:[a-z]+@[a-z]+\\\\.com: bob@example.com" -- $E -o -E '[a-z]+@[a-z]+\.com' $IMG
	check "$eng count" 0 "mem.bin:password=:1
mem.bin:nothere:0
mem.bin:4d 45 ?? 4c ?5:1" -- $E -c -e password= -e nothere -x '4d 45 ?? 4c ?5' $IMG
	check "$eng list" 0 "mem.bin" -- $E -l -e nothere -e hunter $IMG
	check "$eng quiet" 0 "" -- $E -q hunter $IMG
	check "$eng max" 0 "mem.bin:0x10101:mem.bin+0x101:password=: password=hunter2" -- $E -m 1 -e password= -e ACROSS $IMG
	check "$eng context" 0 "mem.bin:0x13001:mem.bin+0x3001:sEcReT: sEcReT
  0000000000012ff0:                                        64 e1 86  |             d..|
  0000000000013000: 00 73 45 63 52 65 54 00 a1 41 09                 |.sEcReT..A.     |" -- $E -C 4 sEcReT $IMG
	check "$eng redact" 0 "mem.bin:0x1010a:mem.bin+0x10a:#1: [redacted length=7 sha256/64=f52fbd32b2b3b86f]" -- $E --redact hunter2 $IMG
	check "$eng json" 0 '{"schema":"memlens.grep/1","type":"match","source":"mem.bin","address":"0x13001","length":6,"pattern_index":0,"pattern":"sEcReT","pattern_kind":"literal","encoding":"ascii","region":{"start":"0x10000","end":"0x310000","name":"mem.bin","kind":"anon","perms":"r--p","offset":12289},"text":"sEcReT"}' -- $E --json -m 1 sEcReT $IMG
	check "$eng addr filter" 1 "" -- $E --addr 0x20000-0x30000 password $IMG
	check "$eng addr filter hit" 0 "mem.bin:0x10101:mem.bin+0x101:password=: password=hunter2" -- $E --addr 0x10000-0x10200 password= $IMG
done

# JSON: the summary line follows the hits
out=$("$M" grep --raw --json nothere "$IMG")
rc=$?
case "$out" in
*'"type":"summary"'*'"matches":0'*'"bytes_scanned":3145728'*) [ $rc = 1 ] && echo "ok   json summary" || { echo "FAIL json summary rc $rc"; fail=1; } ;;
*) echo "FAIL json summary: $out"; fail=1 ;;
esac

# the top of the address space: units, context and hexdump lines end at 2^64 without
# wrapping (this used to spin forever), and an image that would pass 2^64 is a usage error
head -c 4096 /dev/zero >"$T/zero4k.bin"
{ head -c 4096 /dev/zero; printf 'xxhunter2yy'; } >"$T/top.bin"
for j in 1 2; do
	out=$(timeout 10 "$M" grep -j$j -c --raw --base=ffffffffff000000 hunter2 "$T/zero4k.bin" 2>&1); rc=$?
	[ $rc = 1 ] && [ "$out" = "$T/zero4k.bin:hunter2:0" ] && echo "ok   top of the address space -j$j" \
		|| { echo "FAIL top of the address space -j$j: exit $rc: $out"; fail=1; }
done
out=$(timeout 10 "$M" grep -j1 -C 20 --raw --base=ffffffffffffeff0 hunter2 "$T/top.bin" 2>&1); rc=$?
want="$T/top.bin:0xfffffffffffffff2:$T/top.bin+0x1002:hunter2: xxhunter2yy
  ffffffffffffffd0:                                           00 00  |              ..|
  ffffffffffffffe0: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  |................|
  fffffffffffffff0: 78 78 68 75 6e 74 65 72 32 79 79                 |xxhunter2yy     |"
[ $rc = 0 ] && [ "$out" = "$want" ] && echo "ok   context in the last bytes below 2^64" \
	|| { echo "FAIL context below 2^64: exit $rc"; diff <(echo "$want") <(echo "$out"); fail=1; }
for b in fffffffffffff000 ffffffffffffeff6; do
	timeout 10 "$M" grep -c --raw --base=$b hunter2 "$T/top.bin" >/dev/null 2>"$T/err"; rc=$?
	[ $rc = 64 ] && grep -q 'would pass the top of the address space' "$T/err" && echo "ok   --base $b wraps: usage error" \
		|| { echo "FAIL --base $b: exit $rc: $(cat "$T/err")"; fail=1; }
done

# a file name is printed escaped, as a region's name is: a name holding a newline and a
# colon-separated line cannot forge a match line in the text, -c or -l output
forged=$'f\n0xdead:fake+0x0:SECRET: forged'
cp "$IMG" "$T/$forged"
want_name='f\n0xdead:fake+0x0:SECRET: forged'
out=$("$M" grep --raw -o hunter2 "$forged" 2>&1); rc=$?
[ $rc = 0 ] && [ "$out" = "$want_name:0x10a:$want_name+0x10a:hunter2: hunter2" ] && echo "ok   escaped file name in a match line" \
	|| { echo "FAIL escaped file name in a match line: exit $rc: $out"; fail=1; }
out=$("$M" grep --raw -c hunter2 "$forged" 2>&1); rc=$?
[ $rc = 0 ] && [ "$out" = "$want_name:hunter2:1" ] && echo "ok   escaped file name with -c" \
	|| { echo "FAIL escaped file name with -c: exit $rc: $out"; fail=1; }
out=$("$M" grep --raw -l hunter2 "$forged" 2>&1); rc=$?
[ $rc = 0 ] && [ "$out" = "$want_name" ] && echo "ok   escaped file name with -l" \
	|| { echo "FAIL escaped file name with -l: exit $rc: $out"; fail=1; }
rm -f "$T/$forged"

# JSON strings are lossless: a byte that is not UTF-8 is the text \xNN, so a backslash is \\
# (the byte 0x80 and the four characters \x80 in memory gave the same "text")
printf 'AB\x80CD AB\\x80CD AB\\CD' >"$T/esc.bin"
"$M" grep --raw -o --json -E 'AB.{1,4}CD' "$T/esc.bin" >"$T/out" 2>"$T/err"; rc=$?
if [ $rc = 0 ] && python3 - "$T/out" <<'PY'
import json, sys
t = [d["text"] for d in map(json.loads, open(sys.argv[1])) if d["type"] == "match"]
assert t == ['AB\\x80CD', 'AB\\\\x80CD', 'AB\\\\CD'], t
PY
then echo "ok   JSON text: \\xNN and a backslash told apart"; else echo "FAIL JSON text escaping: exit $rc"; cat "$T/out" "$T/err"; fail=1; fi

# --raw reads a regular file or a block device; a pipe has no size to search up to, and was
# searched as empty ("0 regions", exit 1: no match) where nothing had been looked at
out=$(cat "$IMG" | "$M" grep --raw --stats hunter2 /dev/stdin 2>&1); rc=$?
[ $rc = 2 ] && grep -q '^memlens: /dev/stdin: cannot search: --raw reads a regular file or a block device' <<<"$out" \
	&& echo "ok   --raw on a pipe: error" || { echo "FAIL --raw on a pipe: exit $rc: $out"; fail=1; }
if [ "$(id -u)" = 0 ] && command -v losetup >/dev/null && loop=$(losetup -f --show -r "$IMG" 2>/dev/null); then
	out=$("$M" grep --raw -c hunter2 "$loop" 2>&1); rc=$?
	losetup -d "$loop"
	[ $rc = 0 ] && [ "$out" = "$loop:hunter2:1" ] && echo "ok   --raw on a block device" \
		|| { echo "FAIL --raw on a block device: exit $rc: $out"; fail=1; }
else
	ml_not_run "--raw on a block device: needs root and a free loop device"
fi

# pattern files: an error while reading one is not its end
printf 'hunter2\n' >"$T/p1"
"$M" grep --raw -c -f "$T" "$IMG" >/dev/null 2>"$T/err"; rc=$?
[ $rc = 2 ] && grep -q "^memlens: $T: cannot read patterns: Is a directory" "$T/err" && echo "ok   -f DIRECTORY" \
	|| { echo "FAIL -f DIRECTORY: exit $rc: $(cat "$T/err")"; fail=1; }
out=$("$M" grep --raw -c -f "$T/p1" -f "$T" "$IMG" 2>"$T/err"); rc=$?
[ $rc = 2 ] && [ -z "$out" ] && grep -q "^memlens: $T: cannot read patterns" "$T/err" && echo "ok   -f FILE -f DIRECTORY" \
	|| { echo "FAIL -f FILE -f DIRECTORY: exit $rc: $out $(cat "$T/err")"; fail=1; }

# a search that fails (Vectorscan refusing a scan) is not memory that cannot be read: its bytes
# count as failed for another reason, and the message says what failed
shim=$ML_BINARY_DIR/tests/hs_fail
if compgen -G "$shim/lib*" >/dev/null; then
	LD_LIBRARY_PATH="$shim${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$M" grep --engine vectorscan --raw --json hunter2 "$IMG" \
		>"$T/out" 2>"$T/err"; rc=$?
	if [ $rc = 2 ] && grep -q ': nothing could be searched: the search engine failed$' "$T/err" &&
		python3 - "$T/out" $((3 << 20)) <<'PY'
import json, sys
s = json.loads(open(sys.argv[1]).read().splitlines()[-1])
assert s["partial"] and s["bytes_failed"]["other"] == int(sys.argv[2]) and s["bytes_failed"]["unreadable"] == 0, s
PY
	then echo "ok   a failed scan: other, not unreadable"
	else echo "FAIL a failed scan: exit $rc: $(cat "$T/err")"; tail -1 "$T/out"; fail=1; fi
else
	ml_not_run "a failed Vectorscan scan: this build has no Vectorscan (no $shim)"
fi

# a regex PCRE2 cannot try at some starts (its JIT stack runs out on (?:x|xy)+ over 100,000
# x): those starts are named as not searched, and the search goes on after them
# (Vectorscan takes the first regex and finds SECRET; it refuses the second, a lookbehind)
python3 -c "open('limit.bin', 'wb').write(b'x' * 100000 + b'..SECRET..')"
for re in '--engine portable -E (?:x|xy)+z|SECRET' '-E (?<=\.)SECRET|(?:x|xy)+z'; do
	out=$("$M" grep --raw -o $re limit.bin 2>"$T/err"); rc=$?
	r=${re##* }
	if [ $rc = 0 ] && [ "$out" = "limit.bin:0x186a2:limit.bin+0x186a2:${r//\\/\\\\}: SECRET" ] &&
	   grep -qF "memlens grep: limit.bin: 0x0-0x1814c not searched for regex ${r//\\/\\\\}: " "$T/err"; then
		echo "ok   regex over a resource limit: $re"
	else
		echo "FAIL regex over a resource limit: $re: exit $rc: $out"; cat "$T/err"; fail=1
	fi
done
# the same in a unit searched again (a{10} over a run across the 64 MiB unit boundary at
# 0x4000000, which the unit after it guesses wrong from its context): the starts are named
# once and counted once, from the first that failed (the run of x at 0x4010000), not from
# where the search that met it began
python3 -c "
b = bytearray(b'.' * (2 << 20))
b[0xfe003:0x102400] = b'a' * (0x102400 - 0xfe003)
b[0x110000:0x1286aa] = b'x' * 100000 + b'..SECRET..'
open('limit2.bin', 'wb').write(b)"
for re in '--engine portable -E -e (?:x|xy)+z|SECRET' '-E -e (?<=\.)SECRET|(?:x|xy)+z'; do
	for j in 1 2; do
		"$M" grep -j $j --raw --base 0x3f00000 --json -c -e 'a{10}' $re limit2.bin >"$T/out" 2>"$T/err"; rc=$?
		if [ $rc = 0 ] && [ "$(grep -c 'not searched for regex' "$T/err")" = 1 ] &&
		   python3 - "$T/out" "$T/err" <<'PY'
import json, re, sys
s = json.loads(open(sys.argv[1]).read().splitlines()[-1])
lo, hi = (int(x, 16) for x in re.search(r': (0x[0-9a-f]+)-(0x[0-9a-f]+) not searched for regex', open(sys.argv[2]).read()).groups())
assert lo == 0x4010000 and [c["count"] for c in s["counts"]] == [1740, 1], s  # where the x run starts
assert s["bytes_failed"]["other"] == hi - lo, s
PY
		then
			echo "ok   regex over a resource limit in a unit searched again, -j$j: $re"
		else
			echo "FAIL regex over a resource limit in a unit searched again, -j$j: $re: exit $rc"; cat "$T/err"; tail -1 "$T/out"; fail=1
		fi
	done
done

# where the regex cannot be compiled anchored (a PCRE2 that refuses it, as out of memory
# would), the starts of a failed search are tried alone by the interpreter, whose limits
# are others: what it answers is taken, and the search goes on after it (SECRET, after the
# run of x and within the same window, is found; it was lost, nothing named)
noanchor=$ML_BINARY_DIR/tests/pcre2_noanchor
python3 -c "
hi = 0x40000
b = bytearray(b'.' * (hi + 0x10000))
b[hi - 2000:hi - 600] = b'x' * 1400
b[hi - 95:hi - 89] = b'SECRET'
open('solo.bin', 'wb').write(b)"
for lib in "" "$noanchor"; do
	[ -z "$lib" ] || [ -d "$lib" ] || { ml_not_run "no PCRE2 stand-in ($lib)"; continue; }
	out=$(LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$M" grep --max-len 16384 --engine portable \
		--raw -o -E '(?:x|xy)+z|x[^!]{0,30000}!|SECRET' solo.bin 2>"$T/err"); rc=$?
	if [ $rc = 0 ] && [ "$out" = "solo.bin:0x3ffa1:solo.bin+0x3ffa1:(?:x|xy)+z|x[^!]{0,30000}!|SECRET: SECRET" ]; then
		echo "ok   failing starts tried alone${lib:+ (no anchored regex)}"
	else
		echo "FAIL failing starts tried alone${lib:+ (no anchored regex)}: exit $rc: $out"; cat "$T/err"; fail=1
	fi
done

# runs of starts that fail, one after another (300 runs of 20,000 x, 7,000 bytes apart, over
# 8 MiB): each run is named from its first x, the dots between runs are searched (a match
# there is found), and the search does not start again from the window's start after each
# failed start (that took minutes: every start's search crossed all the bytes before it)
python3 -c "
b = bytearray(b'.' * (8 << 20))
for i in range(300):
    b[i * 27000 + 500:i * 27000 + 20500] = b'x' * 20000
b[150 * 27000 + 23000:150 * 27000 + 23004] = b'xyz!'
open('runs.bin', 'wb').write(b)"
"$M" grep --engine portable --raw -o -E '(?:x|xy)+z' runs.bin >"$T/out" 2>"$T/err"; rc=$?
if [ $rc = 0 ] && python3 - "$T/out" "$T/err" <<'PY'
import re, sys
out = open(sys.argv[1]).read().split()
want = "runs.bin:0x%x:runs.bin+0x%x:(?:x|xy)+z:" % ((150 * 27000 + 23000,) * 2)
assert out == [want, "xyz"], out
ranges = [(int(a, 16), int(b, 16)) for a, b in re.findall(r': (0x[0-9a-f]+)-(0x[0-9a-f]+) not searched for regex', open(sys.argv[2]).read())]
assert len(ranges) >= 300, len(ranges)
starts = sorted({i * 27000 + 500 for i in range(300)})
for lo, hi in ranges:
    run = (lo - 500) // 27000
    # a range lies in one run of x (or starts a window inside one), never over the dots
    assert 0 <= run < 300 and run * 27000 + 500 <= lo < hi <= run * 27000 + 20500, (hex(lo), hex(hi))
assert starts == sorted({lo for lo, _ in ranges if lo in starts}), "a run not named from its first x"
PY
then echo "ok   runs of failing starts: named from each run's first x, the rest searched"
else echo "FAIL runs of failing starts: exit $rc"; head -3 "$T/err"; head -3 "$T/out"; fail=1; fi

# a regex that begins with .* is tried where PCRE2 starts it, at line starts: before a start
# that fails, a line of 20,000 bytes costs one try, not one per byte (each crossed the rest
# of the line: seconds, growing as the line's length squared); the failing line is named
# whole, from its first x to the next line, and the match on that line is found
# (pcre2_count/ counts the calls)
counter=$ML_BINARY_DIR/tests/pcre2_count
python3 -c "open('lines.bin', 'wb').write(b'.' * 20000 + b'\\n' + b'x' * 20000 + b'\\nxyz\\n')"
if [ -d "$counter" ]; then
	rm -f "$T/count"
	out=$(ML_PCRE2_MATCH_COUNT="$T/count" LD_LIBRARY_PATH="$counter${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
		"$M" grep -j1 --engine portable --raw -o -E '.*(?:x|xy)+z' lines.bin 2>"$T/err"); rc=$?
	n=$(cat "$T/count" 2>/dev/null)
	if [ $rc = 0 ] && [ "$out" = "lines.bin:0x9c42:lines.bin+0x9c42:.*(?:x|xy)+z: xyz" ] &&
	   [ "$(grep -c " not searched for regex " "$T/err")" = 1 ] &&
	   grep -q ": 0x4e21-0x9c42 not searched for regex " "$T/err" && [ -n "$n" ] && [ "$n" -lt 200 ]; then
		echo "ok   a regex starting with .* tried at line starts ($n calls)"
	else
		echo "FAIL a regex starting with .* tried at line starts: exit $rc, ${n:-no count} calls: $out"
		cat "$T/err"; fail=1
	fi
else
	ml_not_run "no counting PCRE2 stand-in ($counter)"
fi

# -C and the text around a match are whole where the match lies at the end of a search window
# (256 KiB) or at the start of one (512 KiB)
python3 -c "
b = bytearray(b'.' * (1 << 20))
b[0x3fffe:0x40001] = b'XYZ'
b[0x80000:0x80003] = b'QRS'
open('ctx.bin', 'wb').write(b)"
for pat in XYZ QRS; do
	n=$("$M" grep --raw -C 32 $pat ctx.bin | grep -o '2e' | wc -l)
	t=$("$M" grep --raw $pat ctx.bin | sed 's/.*: //')
	h=$("$M" grep --raw --json -C 32 $pat ctx.bin | head -1 | grep -o '"context_hex":"[0-9a-f]*"')
	if [ "$n" = 64 ] && [ "$t" = "................................................$pat................................................" ] &&
	   [ ${#h} = $((16 + 2 * 67)) ]; then
		echo "ok   context around $pat at a window edge"
	else
		echo "FAIL context around $pat: $n bytes of hexdump context, text '$t', $h"; fail=1
	fi
done

# usage errors: one line on stderr, exit 64
for args in "--raw" "-x 4 --raw $IMG" "-x '[2] 41' --raw $IMG" "-x '41 [2-1] 42' --raw $IMG" "-x '41 [0-]' --raw $IMG" \
	"-E -e a* --raw $IMG" "-E -e '(' --raw $IMG" "--encoding ebcdic x --raw $IMG" "--redact -C 4 x --raw $IMG" \
	"--perm rwz x --raw $IMG" "--kind nosuch x --raw $IMG" "-j 0 x --raw $IMG" "x"; do
	eval "\"$M\" grep $args" >/dev/null 2>"$T/err"
	rc=$?
	if [ $rc != 64 ] || [ "$(wc -l < "$T/err")" != 1 ]; then
		echo "FAIL usage '$args': exit $rc"; cat "$T/err"; fail=1
	else
		echo "ok   usage '$args': $(cat "$T/err")"
	fi
done

# errors: exit 2, naming the file or PID
"$M" grep x /nonexistent.mlcore 2>"$T/err"; rc=$?
if [ $rc = 2 ] && grep -q '/nonexistent.mlcore' "$T/err"; then echo "ok   missing snapshot"; else echo "FAIL missing snapshot: $rc"; cat "$T/err"; fail=1; fi
"$M" grep x 1073741800 2>"$T/err"; rc=$?
if [ $rc = 2 ] && grep -q 'pid 1073741800' "$T/err"; then echo "ok   no such pid"; else echo "FAIL no such pid: $rc"; cat "$T/err"; fail=1; fi
"$M" grep --raw x /nonexistent.bin 2>"$T/err"; rc=$?
if [ $rc = 2 ]; then echo "ok   missing raw file"; else echo "FAIL missing raw file: $rc"; fail=1; fi
# an error on one source and a match on another: 2, like grep
"$M" grep --raw hunter2 "$IMG" /nonexistent.bin >/dev/null 2>&1; rc=$?
if [ $rc = 2 ]; then echo "ok   error wins over match"; else echo "FAIL error+match: $rc"; fail=1; fi
"$M" grep --help | grep -q -- '--encoding' && echo "ok   help" || { echo "FAIL help"; fail=1; }

ml_done $fail
