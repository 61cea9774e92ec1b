# A target SIGKILLed just before memlens opens it: while the kernel tears down its address
# space (long for a large one) maps reads empty although the process has not yet become a
# zombie. That is "exited" (exit 2), never 0 mappings or "no match", and never "exec'd".
# Once the process is reaped every command says so (exit 2); between the kill and the end
# of its exit a command may still read some of it, which must then say what it is.
set -u
fail() { echo "FAIL: $*"; exit 1; }
M=${MEMLENS:?}
command -v python3 >/dev/null || { echo "SKIP: python3 needed"; exit 77; }
avail=$(awk '/^MemAvailable/ {print $2}' /proc/meminfo)
[ "${avail:-0}" -gt $((2 * 1024 * 1024)) ] || { echo "SKIP: needs 2 GiB of available memory"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# killed [--reaped] CMD...: starts a 256 MiB target, SIGKILLs it (with --reaped also waits
# until its exit is complete: until then a killed process's memory can still be read), runs
# memlens CMD PID at once
killed() {
	local reap=false
	[ "$1" = --reaped ] && { reap=true; shift; }
	local F P
	exec {F}< <(exec python3 -c '
import os, time
b = b"\x01" * (256 << 20)
print(os.getpid(), flush=True)
time.sleep(1000)')
	read -r P <&$F || fail "setup: no target"
	kill -9 "$P"
	# until the kill has taken effect (PF_EXITING in the flags, field 9 of stat, or gone): on a
	# busy machine the target may not run for a while, and memlens would then read a process
	# that is still alive, which it rightly reports as such
	timeout 20 bash -c 'while f=$(awk "{print \$9}" /proc/'"$P"'/stat 2>/dev/null) && [ $((f & 4)) -eq 0 ]; do :; done' ||
		fail "setup: the killed target did not begin to exit"
	$reap && wait "$P" 2>/dev/null
	"$M" "$@" "$P" >"$T/out" 2>"$T/err"
	RC=$?
	exec {F}<&-
	ERR=$(cat "$T/err")
	OUT=$(cat "$T/out")
	grep -q "exec'd" <<<"$ERR" && fail "$*: a killed process said to have exec'd: $ERR"
	[ -n "$ERR" ] || fail "$*: exit $RC without a message"
	return 0
}

# The process is gone before memlens starts: exit 2, whatever the command.
for c in "maps" "maps --json" "grep -c needle" "wss -i 50ms" "pagemap" "info"; do
	killed --reaped $c
	[ $RC -eq 2 ] || fail "$c: exit $RC for a process gone before it started, want 2: $OUT $ERR"
done
# Killed, its exit perhaps still under way: what memlens reads of it is a true reading, but an
# empty result is never a success, and grep that read nothing gives no counts (not zeros).
for c in "maps" "maps --json" "grep -c needle" "pagemap" "info"; do
	killed $c
	[ $RC -eq 2 ] || [ -n "$OUT" ] || fail "$c: exit $RC with nothing printed for a killed process: $ERR"
	if [ "$c" = "grep -c needle" ] && [ $RC -eq 2 ]; then
		[ -z "$OUT" ] || fail "grep -c: exit 2 yet counts printed: $OUT ($ERR)"
	fi
	if [ "$c" = "grep -c needle" ] && [ $RC -eq 1 ]; then
		grep -q "partial" <<<"$ERR" || fail "grep -c: exit 1 for a killed process without saying it is partial: $OUT $ERR"
	fi
done
echo ok
