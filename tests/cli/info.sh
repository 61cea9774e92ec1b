#!/usr/bin/env bash
# memlens info: exit codes, messages, and the JSON fields against a child with known values.
set -uo pipefail
. "$ML_SOURCE_DIR/tests/support/cli.sh"
fail() { echo "FAIL: $*"; exit 1; }
py=/usr/bin/python3
[ -x "$py" ] || { echo "SKIP: /usr/bin/python3 is needed to check the JSON"; exit 77; }

out=$("$MEMLENS" info --help) || fail "--help exit $?"
grep -q '^usage: memlens info' <<<"$out" || fail "--help text"
"$MEMLENS" info >/dev/null 2>&1; [ $? -eq 64 ] || fail "no argument must be a usage error"
"$MEMLENS" info --bogus 1 >/dev/null 2>&1; [ $? -eq 64 ] || fail "unknown option must be a usage error"
err=$("$MEMLENS" info 1073741800 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] || fail "missing pid exit $rc"
grep -q 'pid 1073741800' <<<"$err" || fail "error must name the pid: $err"
"$MEMLENS" info /nonexistent/snapshot >/dev/null 2>&1; [ $? -eq 2 ] || fail "missing snapshot must exit 2"

tmp=$(mktemp -d)
TMPDIR=$tmp
coproc CH { exec "$ML_HELPERS/ml_infochild"; }
read -r ready pidkv <&"${CH[0]}"
pid=${pidkv#pid=}
trap 'kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
say() { echo "$*" >&"${CH[1]}"; read -r ans <&"${CH[0]}"; [[ $ans == ok* ]] || fail "helper: $* -> $ans"; }
say threads 3
# RLIMIT_AS large enough for sanitizer builds, which reserve terabytes of shadow
say rlimit 9 70368744177664 140737488355328
say rlimit 8 65536 65536
say oom_adj 123
say coredump 0x23
say cwd /usr
say map 8388608

"$MEMLENS" info "$pid" > "$TMPDIR/info.txt" 2>&1 || fail "info exit $? ($(cat "$TMPDIR/info.txt"))"
grep -q "^pid  *$pid  ml_infochild" "$TMPDIR/info.txt" || fail "first line: $(head -1 "$TMPDIR/info.txt")"
grep -q "^command .*'arg with space' '' 'x) (y'" "$TMPDIR/info.txt" || fail "command line quoting"
grep -q '^threads  *4$' "$TMPDIR/info.txt" || fail "threads"
grep -q 'address space  *70368744177664 (hard 140737488355328)' "$TMPDIR/info.txt" || fail "RLIMIT_AS in exact bytes when not a terminal"
grep -q 'adj 123' "$TMPDIR/info.txt" || fail "oom adj"
grep -q 'filter 0x23: anon-private anon-shared hugetlb-private' "$TMPDIR/info.txt" || fail "coredump filter"

"$MEMLENS" info --json "$pid" > "$TMPDIR/info.json" || fail "json exit $?"
"$py" - "$TMPDIR/info.json" "$pid" <<'PY' || fail "json content"
import json, sys
d = json.load(open(sys.argv[1]))
pid = int(sys.argv[2])
def check(cond, what):
    if not cond:
        print("json mismatch:", what); sys.exit(1)
check(d["schema"] == "memlens.info/1", "schema")
check(d["pid"] == pid and d["source"] == "live", "pid/source")
check(d["cmdline"][1:] == ["arg with space", "", "x) (y", "\\xff\\xfe"], "cmdline %r" % d["cmdline"])
check(d["cwd"]["path"] == "/usr", "cwd")
check(d["exe"]["path"].endswith("/ml_infochild") and not d["exe"]["deleted"], "exe")
check(d["status"]["threads"] == 4 and len(d["threads"]) == 4, "threads")
check(sorted(t["name"] for t in d["threads"])[1:] == ["mlw-0", "mlw-1", "mlw-2"], "thread names")
check(d["status"]["vm_rss"] >= 8 << 20, "rss")
check(d["status"]["vm_hwm"] >= d["status"]["vm_rss"], "hwm")
check(d["limits"]["as"] == {"soft": 64 << 40, "hard": 128 << 40, "units": "bytes"}, "as")
check(d["limits"]["memlock"]["soft"] == 65536, "memlock")
check(d["limits"]["cpu"]["soft"] is None, "unlimited is null")
check(d["oom_score_adj"] == 123 and d["oom_score"] >= 123, "oom")
check(d["coredump_filter"]["mask"] == 0x23, "coredump")
check(d["fd_count"] == 3 + 2 * 3, "fd count %r" % d["fd_count"])  # stdio + a pipe per thread
check(d["errors"] == {}, "errors %r" % d["errors"])
r = d["rollup"]
check(r is not None and r["rss"] >= 8 << 20 and 0 < r["uss"] <= r["pss"] <= r["rss"], "rollup %r" % r)
check(r["pss_anon"] + r["pss_file"] + r["pss_shmem"] <= r["pss"] + 4096, "pss split")
check("mnt" in d["namespaces"] and d["namespaces"]["mnt"]["same_as_reader"], "namespaces")
PY

# A snapshot of the same child: what it saved reads back the same as live.
if ! "$MEMLENS" help | grep -q '^  dump '; then
	ml_not_run "no dump command in this build; the snapshot check was not run"
elif ! "$MEMLENS" dump "$pid" -o "$TMPDIR/c.mlcore" 2> "$TMPDIR/dump.err" >/dev/null; then
	grep -q 'no snapshot writer' "$TMPDIR/dump.err" || fail "dump: $(cat "$TMPDIR/dump.err")"
	ml_not_run "this build has no snapshot writer; the snapshot check was not run"
else
	"$MEMLENS" info --json "$TMPDIR/c.mlcore" > "$TMPDIR/snap.json" || fail "info on a snapshot exit $?"
	"$py" - "$TMPDIR/info.json" "$TMPDIR/snap.json" <<'PY' || fail "snapshot json"
import json, sys
live, snap = (json.load(open(f)) for f in sys.argv[1:3])
def check(cond, what):
    if not cond:
        print("snapshot mismatch:", what); sys.exit(1)
check(snap["source"] == "snapshot" and snap["pid"] == live["pid"], "source/pid")
check(snap["cmdline"] == live["cmdline"], "cmdline")
check(snap["limits"] == live["limits"], "limits")
check(snap["coredump_filter"] == live["coredump_filter"], "coredump_filter")
check(snap["status"]["name"] == live["status"]["name"], "name")
check(snap["exe"] is None and snap["fd_count"] is None, "live-only fields are null")
r = snap["rollup"]
check(r is not None and 0 < r["uss"] <= r["pss"] <= r["rss"], "rollup from saved smaps %r" % r)
PY
fi

# Another user: what the kernel hides in stat from a reader that may not ptrace the process
# (it writes 1 for start_code and end_code, 0 for the other addresses and the exit code) is
# null and named in errors, never shown as those 0s and 1s.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null && ml_nobody_stage; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "${NB_MEMLENS[@]}" info --json "$pid" \
		> "$TMPDIR/nb.json" 2> "$TMPDIR/nb.err"; rc=$?
	ml_nobody_clean
	[ $rc -eq 1 ] || fail "another user's process: exit $rc (want 1): $(cat "$TMPDIR/nb.err")"
	"$py" - "$TMPDIR/nb.json" "$pid" <<'PY' || fail "hidden stat fields: $(cat "$TMPDIR/nb.err")"
import json, sys
d = json.load(open(sys.argv[1]))
st, e = d["stat"], d["errors"]
raw = open("/proc/%s/stat" % sys.argv[2]).read()
f = raw[raw.rindex(")") + 2:].split()
hidden = ["start_code", "end_code", "start_stack", "kstkesp", "kstkeip", "wchan", "start_data", "end_data",
          "start_brk", "arg_start", "arg_end", "env_start", "env_end", "exit_code"]
for k in hidden:
    if st[k] is not None or e.get("stat." + k) != "permission denied":
        print("stat.%s: %r, error %r" % (k, st[k], e.get("stat." + k))); sys.exit(1)
# what every reader is given stays, as root reads it
if st["vsize"] != int(f[20]) or st["exit_signal"] != int(f[35]) or st["ppid"] != int(f[1]):
    print("stat", st); sys.exit(1)
PY
	[ "$(grep -c 'cannot read stat\.' "$TMPDIR/nb.err")" -eq 1 ] &&
		grep -q "pid $pid: cannot read stat.start_code, end_code, start_stack, kstkesp, kstkeip, wchan, start_data, .*, exit_code: permission denied" "$TMPDIR/nb.err" ||
		fail "one line names the hidden stat fields: $(cat "$TMPDIR/nb.err")"
else
	ml_not_run "not root (or no setpriv); the check of what the kernel hides from another user was not run"
fi

# A kernel thread: no command line, no executable, no address space; still exit 0.
if grep -q '^Kthread:.1' /proc/2/status 2>/dev/null; then
	"$MEMLENS" info 2 > "$TMPDIR/k.txt" 2>&1 || fail "kernel thread exit $? ($(cat "$TMPDIR/k.txt"))"
	grep -q 'kernel thread' "$TMPDIR/k.txt" || fail "kernel thread not said"
	grep -q 'no filter (no address space)' "$TMPDIR/k.txt" || fail "kernel thread coredump_filter"
fi

# A kernel thread as another user: it has no address space, so stat carries no mark of what
# the kernel hid; the refused cwd link tells it. Its addresses are 0 for every reader (shown);
# kstkesp, kstkeip, the wchan flag and the exit code were written as 0 for this reader (null,
# named). Root, who may read them, gets numbers.
if grep -q '^Kthread:.1' /proc/2/status 2>/dev/null && [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null &&
	ml_nobody_stage; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "${NB_MEMLENS[@]}" info --json 2 \
		> "$TMPDIR/knb.json" 2> "$TMPDIR/knb.err"; rc=$?
	setpriv --reuid=65534 --regid=65534 --clear-groups "${NB_MEMLENS[@]}" info --json --show stat,wchan 2 \
		> "$TMPDIR/knbs.json" 2> "$TMPDIR/knbs.err"; rcs=$?
	ml_nobody_clean
	"$MEMLENS" info --json 2 > "$TMPDIR/kroot.json" 2> "$TMPDIR/kroot.err" || fail "kernel thread as root: exit $?"
	[ $rc -eq 1 ] && [ $rcs -eq 1 ] || fail "kernel thread as another user: exit $rc/$rcs (want 1): $(cat "$TMPDIR/knb.err")"
	"$py" - "$TMPDIR/knb.json" "$TMPDIR/knbs.json" "$TMPDIR/kroot.json" <<'PY' || fail "kernel thread's hidden stat fields: $(cat "$TMPDIR/knb.err" "$TMPDIR/knbs.err")"
import json, sys
d, s, root = (json.load(open(f)) for f in sys.argv[1:4])
hid = ("kstkesp", "kstkeip", "wchan", "exit_code")
for k in hid:
    if d["stat"][k] is not None or d["errors"].get("stat." + k) != "permission denied":
        print("info: stat.%s %r, error %r" % (k, d["stat"][k], d["errors"].get("stat." + k))); sys.exit(1)
    if root["stat"][k] is None:
        print("root: stat.%s null" % k); sys.exit(1)
for k in ("start_code", "end_code", "start_stack", "arg_start", "env_end"):
    if d["stat"][k] != "0x0" or ("stat." + k) in d["errors"]:
        print("info: stat.%s %r (no address space: 0 for everyone)" % (k, d["stat"][k])); sys.exit(1)
st = s["stat"]
show = ("kstkesp", "kstkeip", "wchan", "exit_code")
if any(st[k] is not None or s["errors"].get("stat." + k) != "permission denied" for k in show):
    print("--show stat", st, s["errors"]); sys.exit(1)
if s["wchan"] is not None or s["errors"].get("wchan") != "permission denied":
    print("--show wchan", s["wchan"], s["errors"]); sys.exit(1)
if st["startcode"] != "0x0":
    print("--show stat startcode", st["startcode"]); sys.exit(1)
PY
elif grep -q '^Kthread:.1' /proc/2/status 2>/dev/null; then
	ml_not_run "not root (or no setpriv); a kernel thread read as another user was not checked"
fi

# The memory cgroup and its limit, where a v1 memory or v2 cgroup can be made here.
cg=""
own1=$(awk -F: '$2=="memory"{print $3}' /proc/self/cgroup)
own2=$(awk -F: '$1=="0"{print $3}' /proc/self/cgroup)
if [ -n "$own1" ] && [ -d "/sys/fs/cgroup/memory$own1" ] && mkdir "/sys/fs/cgroup/memory$own1/ml-info-cli-$$" 2>/dev/null; then
	cg=/sys/fs/cgroup/memory$own1/ml-info-cli-$$
	echo $((256 << 20)) > "$cg/memory.limit_in_bytes"
elif [ -f /sys/fs/cgroup/cgroup.controllers ] && mkdir "/sys/fs/cgroup$own2/ml-info-cli-$$" 2>/dev/null; then
	cg=/sys/fs/cgroup$own2/ml-info-cli-$$
	echo $((256 << 20)) > "$cg/memory.max" 2>/dev/null || { rmdir "$cg"; cg=""; }
fi
if [ -n "$cg" ] && echo "$pid" > "$cg/cgroup.procs" 2>/dev/null; then
	say map 4194304 # charged to the new cgroup (v1 does not move old charges)
	"$MEMLENS" info --json "$pid" > "$TMPDIR/cg.json" || fail "json exit $?"
	"$py" - "$TMPDIR/cg.json" "ml-info-cli-$$" <<'PY' || fail "cgroup json"
import json, sys
c = json.load(open(sys.argv[1]))["cgroup"]
if not (c["path"].endswith("/" + sys.argv[2]) and c["memory_max"] == 256 << 20 and c["memory_current"] > 0):
    print("cgroup mismatch:", c); sys.exit(1)
PY
	echo "$pid" > "$(dirname "$cg")/cgroup.procs"
	rmdir "$cg"
else
	[ -n "$cg" ] && rmdir "$cg"
	ml_not_run "no writable memory cgroup here; the cgroup limit check was not run"
fi

# A zombie: what it still shows, exit 1 for what it no longer has.
say zombie
zpid=${ans#ok pid=}
"$MEMLENS" info "$zpid" > "$TMPDIR/z.txt" 2> "$TMPDIR/z.err"; rc=$?
[ $rc -eq 1 ] || fail "zombie exit $rc"
grep -q 'state Z' "$TMPDIR/z.txt" || fail "zombie state: $(cat "$TMPDIR/z.txt")"
grep -q "pid $zpid: a zombie (exited; parent $pid has not reaped it)" "$TMPDIR/z.err" || fail "zombie message: $(cat "$TMPDIR/z.err")"
[ "$(wc -l < "$TMPDIR/z.err")" -eq 1 ] || fail "one line for a zombie: $(cat "$TMPDIR/z.err")"
echo "ok"
ml_done
