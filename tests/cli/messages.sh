# Error messages say the real cause: kernel threads, zombies, bad PIDs, gzip exports, address
# wrap, privileges (who lacks what), namespaces left out of info, grep --all with nothing readable.
set -u
fail() { echo "FAIL: $*"; exit 1; }
M=${MEMLENS:?}
source "$ML_SOURCE_DIR/tests/support/cli.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 needed"; exit 77; }

T=$(mktemp -d)
chmod 755 "$T"
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; rm -rf "$T"; ml_nobody_clean' EXIT
sleep 1000 &
SP=$!
ml_exec_done $SP sleep || fail "setup: sleep"
PIDS+=($SP)

expect() { # RC PATTERN command...
	local want=$1 pat=$2 err rc
	shift 2
	err=$("$@" 2>&1 >/dev/null)
	rc=$?
	[ $rc -eq "$want" ] || fail "$*: exit $rc, want $want ($err)"
	grep -qE -- "$pat" <<<"$err" || fail "$*: stderr does not say /$pat/: $err"
	LAST_ERR=$err
}
nope() { grep -qE -- "$1" <<<"$LAST_ERR" && fail "$2: $LAST_ERR"; return 0; }

# A kernel thread: said so, not "no such process"
KT=
for d in /proc/[0-9]*; do
	f=$(awk '{print $9}' "$d/stat" 2>/dev/null) || continue
	[ -n "$f" ] && (( f & 0x200000 )) && { KT=${d#/proc/}; break; }
done
if [ -n "$KT" ]; then
	expect 2 "pid $KT: .*kernel thread" "$M" pagemap "$KT"
	expect 2 "pid $KT: .*kernel thread" "$M" dump -q -o "$T/kt.mlcore" "$KT"
	[ -e "$T/kt.mlcore" ] && fail "dump of a kernel thread left a file"
else
	ml_not_run "no kernel thread visible: that case not run"
fi

# Digits that are no PID: a usage error that says so, not "cannot open snapshot"
expect 64 "'0' is not a PID" "$M" maps 0
nope "snapshot" "maps 0"
expect 64 "'99999999999999999999' is not a PID" "$M" maps 99999999999999999999
expect 64 "is not a PID" "$M" info 0

# A zombie: named as one
exec {ZF}< <(exec python3 -c '
import os, time
pid = os.fork()
if pid == 0:
    os._exit(0)
os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)   # exited, not reaped: a zombie
print(pid, flush=True)
time.sleep(1000)')
PIDS+=($!)
read -r Z <&$ZF || fail "setup: no zombie"
expect 2 "pid $Z: .*zombie" "$M" maps "$Z"
nope "while its mappings were being read" "maps ZOMBIE"
expect 2 "pid $Z: .*zombie" "$M" pagemap "$Z"

# A gzip export: no stray errno text; info reads it as the core it holds
"$M" dump -q -o "$T/s.mlcore" "$SP" || fail "setup: dump"
"$M" core export -o "$T/s.gz" "$T/s.mlcore" || fail "setup: export"
expect 1 "no smaps saved in it \(a gzip core export" "$M" maps "$T/s.gz"
nope "No such file or directory" "maps FILE.gz"
out=$("$M" info "$T/s.gz" 2>"$T/info.err") || fail "info FILE.gz: exit $? ($(cat "$T/info.err"))"
grep -qE "^pid +$SP .*\[core\]" <<<"$out" || fail "info FILE.gz does not name pid $SP from the core's notes: $out"
[ -s "$T/info.err" ] && fail "info FILE.gz: stderr: $(cat "$T/info.err")"

# An address range that wraps: said so, not "bad length"
expect 64 "runs past the end of the address space" "$M" read "$SP" ffffffffffffffff 16
nope "bad length" "read wrap"

# info names the namespaces it could not read, in text and JSON
if ml_nobody_stage && command -v setpriv >/dev/null; then
	NB=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	out=$("${NB[@]}" "${NB_MEMLENS[@]}" info --json "$SP" 2>"$T/err"); rc=$?
	[ $rc -eq 1 ] || fail "info as nobody on root's process: exit $rc, want 1"
	python3 -c '
import json, sys
d = json.loads(sys.argv[1])
ns = d["namespaces"]
errs = " ".join(d["errors"].keys())
if not ns and "namespaces" not in errs:
    sys.exit("namespaces left out without an error: %r" % d["errors"])
' "$out" || fail "info --json namespaces"
	grep -q "cannot read namespaces" "$T/err" || fail "info text: no namespaces error: $(cat "$T/err")"

	# Privilege hints say who lacks what
	expect 2 "runs as uid 0, not 65534" "${NB[@]}" "${NB_MEMLENS[@]}" maps "$SP"
	exec {NF}< <(exec "${NB[@]}" /usr/bin/python3 -c '
import ctypes, os, time
ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)   # PR_SET_DUMPABLE 0
print(os.getpid(), flush=True)
time.sleep(1000)')
	PIDS+=($!)
	read -r ND <&$NF || fail "setup: no non-dumpable child"
	expect 2 "not dumpable" "${NB[@]}" "${NB_MEMLENS[@]}" maps "$ND"
	[ -e /proc/sys/kernel/yama ] || nope "yama" "non-dumpable process told about Yama that is not there"

	# grep --all where nothing can be read (a uid that owns no process): an error, not "no match"
	expect 2 "no process could be searched" setpriv --reuid=61234 --regid=61234 --clear-groups \
		"${NB_MEMLENS[@]}" grep --all -c needle
else
	ml_not_run "setpriv unavailable: privilege cases not run"
fi

# Denied although CAP_SYS_PTRACE is held: the hint must not ask for it
if grep -q '^CapEff:' /proc/self/status &&
	(( 0x$(awk '/^CapEff/ {print $2}' /proc/self/status) >> 19 & 1 )) &&
	! "$M" maps 1 >/dev/null 2>"$T/p1"; then
	grep -q "permission denied" "$T/p1" && {
		grep -q "needs CAP_SYS_PTRACE" "$T/p1" && fail "hint asks for CAP_SYS_PTRACE we have: $(cat "$T/p1")"
		grep -q "although this process has CAP_SYS_PTRACE" "$T/p1" || fail "no real cause: $(cat "$T/p1")"
	}
fi
echo ok
ml_done
