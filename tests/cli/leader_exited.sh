#!/bin/bash
# A process whose main thread has exited (pthread_exit) while its other threads run: its
# /proc/PID shows no address space, yet it runs. Every command reads it through a thread and
# shows its real memory: maps lists the region the child filled, grep and read find the needle
# in it, pagemap counts its pages, dump captures it (ptrace and copy-on-write); info says the
# main thread has exited, never "zombie"; nothing is 0 mappings with exit 0.
# The child is tests/helpers/ml_leaderless.c.
set -uo pipefail
. "$ML_SOURCE_DIR/tests/support/cli.sh"
fail() { echo "FAIL: $*"; exit 1; }
M=${MEMLENS:?}
T=$(mktemp -d)
coproc LL { exec "$ML_HELPERS/ml_leaderless" 3; }
read -r ready <&"${LL[0]}" || fail "the child did not start"
[[ $ready == ready* ]] || fail "child: $ready"
kv() { sed -n "s/.* $1=\\([^ ]*\\).*/\\1/p" <<<"$ready"; }
pid=$(kv pid)
trap 'kill -9 "$pid" 2>/dev/null; rm -rf "$T"' EXIT
addr=$(kv addr)
len=$(kv len)
needle_at=$(kv needle)
needle=$(printf 'mlleaderless%x' "$pid")
end=$(printf '%x' $((addr + len)))
range="${addr#0x}-$end"
echo main_exit >&"${LL[1]}"
read -r ans <&"${LL[0]}"
[[ $ans == ok* ]] || fail "main_exit: $ans"
state=$(sed 's/.*) \(.\).*/\1/' "/proc/$pid/stat")
[ "$state" = Z ] || fail "the child's main thread shows state $state, not Z"

# run NAME ARGS...: memlens ARGS into $T/NAME.out and .err, exit status in RC
run() {
	local name=$1
	shift
	"$M" "$@" >"$T/$name.out" 2>"$T/$name.err"
	RC=$?
	# info --json keeps the kernel's own status ("state_desc": "zombie"), beside
	# "main_thread_exited": true
	[ "$name" = infojson ] && return
	if grep -qi zombie "$T/$name.out" "$T/$name.err"; then
		fail "$*: calls a running process a zombie: $(cat "$T/$name.out" "$T/$name.err")"
	fi
}

run maps maps "$pid"
[ $RC -eq 0 ] || fail "maps: exit $RC: $(cat "$T/maps.err")"
grep -q "^$range  *rw-p .* $len  *$len " "$T/maps.out" || fail "maps: no row $range with all $len bytes resident: $(cat "$T/maps.out")"
grep -q ' 0 mappings' "$T/maps.out" && fail "maps: 0 mappings: $(tail -1 "$T/maps.out")"
run mapsjson maps --json "$pid"
[ $RC -eq 0 ] || fail "maps --json: exit $RC"
grep -q "\"start\":\"$addr\"" "$T/mapsjson.out" || fail "maps --json: no mapping at $addr"

run grep grep "$needle" "$pid"
[ $RC -eq 0 ] || fail "grep: exit $RC (1 is no match): $(cat "$T/grep.out" "$T/grep.err")"
grep -q "^$pid:$needle_at:.*$needle" "$T/grep.out" || fail "grep: the needle not found at $needle_at: $(cat "$T/grep.out")"
run grepc grep -c "$needle" "$pid"
[ $RC -eq 0 ] && [ "$(cat "$T/grepc.out")" = "$pid:$needle:1" ] || fail "grep -c: exit $RC: $(cat "$T/grepc.out" "$T/grepc.err")"

run read read "$pid" "$needle_at" 12
[ $RC -eq 0 ] || fail "read: exit $RC: $(cat "$T/read.err")"
grep -q '|mlleaderless|' "$T/read.out" || fail "read: not the needle: $(cat "$T/read.out")"

run pagemap pagemap "$pid"
[ $RC -eq 0 ] || fail "pagemap: exit $RC: $(cat "$T/pagemap.err")"
grep -q "^$range  *rw-p  *$len  *$len " "$T/pagemap.out" || fail "pagemap: no row $range with $len present: $(cat "$T/pagemap.out")"

run info info "$pid"
[ $RC -eq 0 ] || fail "info: exit $RC: $(cat "$T/info.out" "$T/info.err")"
grep -q "^pid  *$pid  ml_leaderless  state Z (main thread exited; 4 other threads run)" "$T/info.out" ||
	fail "info: the first line does not say the main thread exited: $(head -1 "$T/info.out")"
grep -q '^command .*ml_leaderless 3$' "$T/info.out" || fail "info: command line: $(cat "$T/info.out")"
grep -q '^descriptors  *[1-9]' "$T/info.out" || fail "info: descriptors: $(cat "$T/info.out")"
grep -q '^memory  *RSS [1-9]' "$T/info.out" || fail "info: no RSS: $(cat "$T/info.out")"
run infojson info --json "$pid"
[ $RC -eq 0 ] || fail "info --json: exit $RC"
grep -q '"main_thread_exited":true' "$T/infojson.out" || fail "info --json: main_thread_exited is not true"

run wss wss -i 20ms "$pid"
[ $RC -eq 0 ] || fail "wss: exit $RC: $(cat "$T/wss.err")"
awk -v p="$pid" '$1 == p && $6 > 0 { ok = 1 } END { exit !ok }' "$T/wss.out" || fail "wss: no RSS: $(cat "$T/wss.out")"

run ps ps -p "$pid"
[ $RC -eq 0 ] || fail "ps -p: exit $RC: $(cat "$T/ps.out" "$T/ps.err")"
awk -v p="$pid" '$1 == p && $3 > 0 { ok = 1 } END { exit !ok }' "$T/ps.out" || fail "ps: not listed with its RSS: $(cat "$T/ps.out")"

if ! "$M" help | grep -q '^  dump '; then
	ml_not_run "no dump command in this build"
else
	for f in ptrace cow; do
		run "dump-$f" dump -q --freeze=$f -o "$T/$f.mlcore" "$pid"
		if [ $f = cow ] && [ $RC -ne 0 ] && grep -q 'cannot use a copy-on-write copy' "$T/dump-$f.err"; then
			ml_not_run "--freeze=cow refused here: $(cat "$T/dump-$f.err")"
			continue
		fi
		[ $RC -eq 0 ] || fail "dump --freeze=$f: exit $RC: $(cat "$T/dump-$f.err")"
		run "core-$f" grep -c "$needle" "$T/$f.mlcore"
		[ $RC -eq 0 ] && [ "$(cat "$T/core-$f.out")" = "$T/$f.mlcore:$needle:1" ] ||
			fail "dump --freeze=$f: the needle is not in the snapshot: $(cat "$T/core-$f.out" "$T/core-$f.err")"
		run "coremaps-$f" maps "$T/$f.mlcore"
		grep -q "^$range " "$T/coremaps-$f.out" || fail "dump --freeze=$f: no mapping $range in the snapshot"
	done
	# the copy-on-write copy was reaped in the target (through a thread: its main one cannot)
	kids=$(cat /proc/"$pid"/task/*/children 2>/dev/null | wc -w)
	[ "$kids" -eq 0 ] || fail "$kids children of the target left"
fi
echo ok
ml_done
