# A target SIGKILLed just before memlens opens it: while the kernel tears down its address
# space (long for a large one) maps reads empty although the process has not yet become a
# zombie. That is "exited" (exit 2), never 0 mappings or "no match", and never "exec'd".
set -u
fail() { echo "FAIL: $*"; exit 1; }
M=${MEMLENS:?}
command -v python3 >/dev/null || { echo "SKIP: python3 needed"; exit 77; }
avail=$(awk '/^MemAvailable/ {print $2}' /proc/meminfo)
[ "${avail:-0}" -gt $((2 * 1024 * 1024)) ] || { echo "SKIP: needs 2 GiB of available memory"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# killed CMD...: starts a 256 MiB target, SIGKILLs it, runs memlens CMD PID at once
killed() {
	local F P
	exec {F}< <(exec python3 -c '
import os, time
b = b"\x01" * (256 << 20)
print(os.getpid(), flush=True)
time.sleep(1000)')
	read -r P <&$F || fail "setup: no target"
	kill -9 "$P"
	"$M" "$@" "$P" >"$T/out" 2>"$T/err"
	RC=$?
	exec {F}<&-
	ERR=$(cat "$T/err")
	OUT=$(cat "$T/out")
	grep -q "exec'd" <<<"$ERR" && fail "$*: a killed process said to have exec'd: $ERR"
	[ -n "$ERR" ] || fail "$*: exit $RC without a message"
	return 0
}

# The kill precedes the start of memlens: nothing it prints can be a reading of the process.
for _ in once; do
	for c in "maps" "maps --json" "grep -c needle" "wss -i 50ms" "pagemap" "info"; do
		killed $c
		[ $RC -eq 2 ] || fail "$c: exit $RC for a process killed before it started, want 2: $OUT $ERR"
	done
done
echo ok
