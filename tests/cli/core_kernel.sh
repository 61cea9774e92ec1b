#!/bin/bash
# The kernel's own core of a test child (core_pattern set here, restored after), plain and zstd/LZ4/xz/gzip-compressed, as a source: grep, read, maps, info, pagemap; a MADV_DONTDUMP range is not captured, never zeros.
set -u
M=${MEMLENS:?}
H=${ML_HELPERS:?}
T=$(mktemp -d)
fail=0
CHILD=
PAT=/proc/sys/kernel/core_pattern
OLD_PAT=$(cat "$PAT" 2>/dev/null)
cleanup() {
	[ -n "$CHILD" ] && kill -9 "$CHILD" 2>/dev/null
	[ "$(cat "$PAT" 2>/dev/null)" != "$OLD_PAT" ] && printf '%s\n' "$OLD_PAT" >"$PAT"
	rm -rf "$T"
}
trap cleanup EXIT
bad() { echo "FAIL: $*"; fail=1; }
. "$(dirname "$0")/../support/corecheck.sh"
for t in zstd lz4 xz gzip; do
	command -v $t >/dev/null || { echo "SKIP: $t is not installed"; exit 77; }
done
# A core_pattern of our own (a file in our directory) needs root; a pipe (systemd-coredump)
# or another directory would take the core away from us.
if ! printf '%s\n' "$T/kcore.%p" 2>/dev/null >"$PAT"; then
	echo "SKIP: cannot set $PAT (needs root in the initial namespaces); it is '$OLD_PAT'"
	exit 77
fi
[ "$(cat "$PAT")" = "$T/kcore.%p" ] || { echo "SKIP: $PAT did not take our pattern"; exit 77; }

mkfifo "$T/in" "$T/out"
"$H/ml_dumpee" <"$T/in" >"$T/out" &
CHILD=$!
exec 7>"$T/in" 8<"$T/out"
read -r ready <&8
send() { echo "$*" >&7; read -r REPLY <&8; }
send setup
RS=$(sed -n 's/.* runtime_str=\(0x[0-9a-f]*\).*/\1/p' <<<"$REPLY")
HS=$(sed -n 's/.* heap_str=\(0x[0-9a-f]*\).*/\1/p' <<<"$REPLY")
DD=$(sed -n 's/.* dontdump=\(0x[0-9a-f]*\).*/\1/p' <<<"$REPLY")
send threads 2
CPID=$CHILD
NTHREADS=3
# the child raises its own RLIMIT_CORE and aborts
echo "crash $T" >&7
wait "$CHILD" 2>/dev/null
CHILD=
printf '%s\n' "$OLD_PAT" >"$PAT"
f=$T/kcore.$CPID
[ -s "$f" ] || { echo "SKIP: the kernel wrote no core at $f (RLIMIT_CORE or fs.suid_dumpable?)"; exit 77; }

check_core "$f" kernel
# SIGABRT, sent by the process to itself
"$M" info --json "$f" >"$T/info" 2>/dev/null
python3 - "$T/info" "$CPID" <<'PY' || bad "kernel core: siginfo: $(cat "$T/info")"
import json, sys
s = json.load(open(sys.argv[1]))["core"]["siginfo"]
assert s["signo"] == 6 and s["sender_pid"] == int(sys.argv[2]), s
PY
# the MADV_DONTDUMP range: in maps, not captured, so --raw stops there instead of printing
# zeros (exit 1, as for a snapshot's excluded range), and the hexdump marks it unavailable
"$M" read --raw "$f" "$DD" 16 >"$T/bytes" 2>"$T/err"; rc=$?
"$M" read --json "$f" "$DD" 16 >"$T/dd.json" 2>/dev/null
grep -q '"hex":"--------------------------------"' "$T/dd.json" && grep -q '"kind":"unavailable"' "$T/dd.json" \
	|| bad "dontdump range in --json: $(cat "$T/dd.json")"
[ $rc -eq 1 ] && [ ! -s "$T/bytes" ] && grep -q "not captured" "$T/err" \
	|| bad "dontdump range: exit $rc, $(wc -c <"$T/bytes") bytes: $(cat "$T/err")"
"$M" pagemap --json "$f" >"$T/pm" 2>/dev/null || bad "pagemap --json"
compress_all "$f" || bad "compressing"
for z in zst lz4 xz gz; do
	check_core "$f.$z" "kernel.$z"
done
exit $fail
