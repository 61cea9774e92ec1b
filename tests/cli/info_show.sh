#!/usr/bin/env bash
# memlens info --show: every Process method by its procfs name, checked against the /proc
# files themselves (read here with python), live and on a snapshot, with what cannot be read
# named in "errors".
set -uo pipefail
. "$ML_SOURCE_DIR/tests/support/cli.sh"
fail() { echo "FAIL: $*"; exit 1; }
py=/usr/bin/python3
[ -x "$py" ] || { echo "SKIP: /usr/bin/python3 is needed to check the JSON"; exit 77; }

"$MEMLENS" info --show bogus 1 >/dev/null 2>&1; [ $? -eq 64 ] || fail "unknown method must be a usage error"
err=$("$MEMLENS" info --show status,nope 1 2>&1); [ $? -eq 64 ] || fail "unknown method in a list"
grep -q '"nope"' <<<"$err" || fail "usage error must name the method: $err"
"$MEMLENS" info --show= 1 >/dev/null 2>&1; [ $? -eq 64 ] || fail "an empty list must be a usage error"
names=$("$MEMLENS" info --show=help) || fail "--show=help exit $?"
for m in environ fd io auxv wchan loginuid autogroup schedstat statm root cwd exe mountinfo mountstats \
	namespaces cgroups limits personality tasks "tcp net.tcp" "udp net.udp" "unix net.unix" \
	"arp net.arp" "route net.route" "dev_status net.dev" "snmp net.snmp" "snmp6 net.snmp6"; do
	grep -qx "$m" <<<"$names" || fail "--show=help lacks \"$m\""
done

tmp=$(mktemp -d)
TMPDIR=$tmp
coproc CH { exec "$ML_HELPERS/ml_infochild"; }
read -r ready pidkv <&"${CH[0]}"
pid=${pidkv#pid=}
"$ML_HELPERS/ml_dupenv" /bin/sleep 1000 &
envpid=$!
trap 'kill -9 "$pid" "$envpid" 2>/dev/null; rm -rf "$tmp"; [ -n "${NB_DIR:-}" ] && rm -rf "$NB_DIR"' EXIT
say() { echo "$*" >&"${CH[1]}"; read -r ans <&"${CH[0]}"; [[ $ans == ok* ]] || fail "helper: $* -> $ans"; }
say threads 2
say cwd /usr
say sockets
say personality 0x0040000

"$MEMLENS" info "$pid" --show all --json > "$TMPDIR/all.json" 2> "$TMPDIR/all.err"; rc=$?
[ $rc -eq 0 ] || fail "--show all exit $rc: $(cat "$TMPDIR/all.err")"
# deliberate differences: the first of two definitions wins (as getenv sees it); an entry
# without '=' is a name with a null value
for i in $(seq 100); do [ "$(readlink /proc/$envpid/exe)" = /bin/sleep ] || [ "$(readlink /proc/$envpid/exe)" = /usr/bin/sleep ] && break; sleep 0.05; done
"$MEMLENS" info "$envpid" --json --show environ > "$TMPDIR/env.json" || fail "environ exit $?"
"$py" - "$TMPDIR/env.json" <<'PY' || fail "environ"
import json, sys
env = json.load(open(sys.argv[1]))["environ"]
if env != {"ML_DUP": "first", "ML_NOEQ": None, "PATH": "/usr/bin:/bin"}:
    print("environ", env); sys.exit(1)
PY
"$py" - "$TMPDIR/all.json" "$pid" <<'PY' || fail "live json"
import json, os, socket, struct, sys
d = json.load(open(sys.argv[1]))
pid = int(sys.argv[2])
P = "/proc/%d/" % pid
def check(cond, what):
    if not cond:
        print("mismatch:", what); sys.exit(1)
names = ["is_alive", "uid", "cmdline", "environ", "exe", "cwd", "root", "status", "stat", "statm", "io",
         "limits", "auxv", "wchan", "loginuid", "autogroup", "schedstat", "oom_score", "oom_score_adj",
         "coredump_filter", "personality", "fd_count", "fd", "tasks", "maps", "smaps_rollup", "mountinfo",
         "mountstats", "namespaces", "cgroups", "tcp", "tcp6", "udp", "udp6", "unix", "arp", "route",
         "dev_status", "snmp", "snmp6"]
check(d["schema"] == "memlens.info.show/1" and d["pid"] == pid and d["source"] == "live", "header")
for n in names:
    check(n in d and d[n] is not None, "method %s missing or null (errors %r)" % (n, d["errors"]))
check(d["errors"] == {}, "errors %r" % d["errors"])
raw = lambda f: open(P + f, "rb").read()
# deliberate difference: empty argv strings are kept
check(d["cmdline"][1:] == ["arg with space", "", "x) (y", "\\xff\\xfe"], "cmdline %r" % d["cmdline"])
check(d["environ"]["ML_INFO_EMPTY"] == "" and d["environ"]["ML_INFO_VAR"] == "hello world", "environ")
check(d["is_alive"] is True and d["uid"] == os.stat(P).st_uid, "is_alive/uid")
check(d["cwd"] == {"path": "/usr", "deleted": False}, "cwd")
check(d["exe"]["path"] == os.readlink(P + "exe") and d["root"]["path"] == os.readlink(P + "root"), "links")
st = raw("stat").decode("latin-1")
f = st[st.rindex(")") + 2:].split()
check(d["stat"]["ppid"] == int(f[1]) and d["stat"]["starttime"] == int(f[19]), "stat")
# the child waits in a read, but under load memlens may find it running: the name must be
# the one of the letter read, whichever it was
names = {"R": "running", "S": "sleeping", "D": "disk-sleep"}
check(d["stat"]["state"] in names and d["stat"]["state_name"] == names[d["stat"]["state"]] and
      "PF_KTHREAD" not in d["stat"]["flag_names"], "stat helpers %r %r" % (d["stat"]["state"], d["stat"]["state_name"]))
check(d["stat"]["tty_nr"] == int(f[4]), "tty_nr")
status = dict(l.split(":", 1) for l in raw("status").decode("latin-1").splitlines())
check(d["status"]["cpus_allowed_list"] == d["status"]["cpus_allowed"], "cpus sets agree")
check(len(d["status"]["cpus_allowed"]) == len(os.sched_getaffinity(pid)), "cpus_allowed")
check(d["status"]["threads"] == 3 and len(d["tasks"]) == 3, "threads %r" % d["tasks"])
check(all(t["children"] == [] for t in d["tasks"]), "no children")
check(d["statm"]["size"] == int(raw("statm").split()[0]), "statm")
check(d["personality"]["flags"] == ["ADDR_NO_RANDOMIZE"], "personality %r" % d["personality"])
check(d["loginuid"] == int(raw("loginuid")), "loginuid")
ag = raw("autogroup").decode().split()
if ag:
    check(d["autogroup"] == {"id": int(ag[0].split("-")[1]), "nice": int(ag[2])}, "autogroup")
else:  # our session is the default group's (no setsid() since boot)
    check(d["autogroup"] == {"id": None, "nice": None}, "autogroup %r" % d["autogroup"])
# the child may be between its reply and its next read when memlens looks: the value is
# compared below, bracketed by two reads of the kernel's own file
check(isinstance(d["wchan"], str) and d["wchan"] != "0", "wchan %r" % d["wchan"])
check(d["fd_count"] == len(os.listdir(P + "fd")) == len(d["fd"]), "fd count")
for e in d["fd"]:
    check(e["target"] == os.readlink(P + "fd/%d" % e["fd"]) or e["deleted"], "fd %r" % e)
    mode = os.lstat(P + "fd/%d" % e["fd"]).st_mode
    check(e["mode"] == ("r" if mode & 0o400 else "-") + ("w" if mode & 0o200 else "-") + ("x" if mode & 0o100 else "-"), "fd mode %r" % e)
check(any(e["type"] == "socket" for e in d["fd"]), "sockets")
check(len(d["auxv"]) >= 10 and any(a["name"] == "AT_PAGESZ" and int(a["value"], 16) == os.sysconf("SC_PAGE_SIZE") for a in d["auxv"]), "auxv")
check(len(d["mountinfo"]) == len(raw("mountinfo").splitlines()), "mountinfo")
check(len(d["mountstats"]) == raw("mountstats").count(b"\ndevice ") + raw("mountstats").startswith(b"device "), "mountstats")
check(len(d["cgroups"]) == len(raw("cgroup").splitlines()), "cgroups")
for k, v in d["namespaces"].items():
    check(v["identifier"] == os.stat(P + "ns/" + k).st_ino and v["path"] == P + "ns/" + k, "ns %s" % k)
check(len(d["maps"]) == len(raw("maps").splitlines()), "maps")
# the child's listener and its UDP socket, by inode, in the tables of its namespace
inodes = {e["inode"] for e in d["fd"] if e["type"] == "socket"}
check(any(s["inode"] in inodes and s["state"] == "LISTEN" and s["local_address"].startswith("127.0.0.1:") for s in d["tcp"]), "tcp")
check(isinstance(d["udp"], list) and len(d["udp"]) == len(raw("net/udp").splitlines()) - 1, "udp")
check(any(s["inode"] in inodes for s in d["unix"]), "unix")
check("lo" in d["dev_status"] and len(d["dev_status"]) == len(raw("net/dev").splitlines()) - 2, "dev_status")
check(len(d["route"]) == len(raw("net/route").splitlines()) - 1, "route")
check(len(d["arp"]) == len(raw("net/arp").splitlines()) - 1, "arp")
check(d["snmp"]["Tcp"]["MaxConn"] == -1 and "Ip6" in d["snmp6"], "snmp")
check(d["coredump_filter"]["mask"] == int(raw("coredump_filter"), 16), "coredump_filter")
nofile = [l.split() for l in raw("limits").decode().splitlines() if l.startswith("Max open files")][0]
check(str(d["limits"]["nofile"]["soft_limit"]) == nofile[3] and str(d["limits"]["nofile"]["hard_limit"]) == nofile[4], "limits")
check(d["smaps_rollup"]["rss"] > 0, "smaps_rollup")
PY

# wchan: "0" (running, or hidden) is the empty string; a symbol is kept as the kernel wrote
# it. Compared only when the kernel's file read the same before and after memlens read it.
wchan_ok=
for i in $(seq 50); do
	before=$(cat "/proc/$pid/wchan")
	got=$("$MEMLENS" info "$pid" --show wchan --json) || fail "wchan exit $?"
	after=$(cat "/proc/$pid/wchan")
	[ "$before" = "$after" ] || continue
	want=$before; [ "$want" = 0 ] && want=
	"$py" -c 'import json,sys; sys.exit(json.loads(sys.argv[1])["wchan"] != sys.argv[2])' "$got" "$want" ||
		fail "wchan: memlens $got, kernel '$before'"
	wchan_ok=1; break
done
[ -n "$wchan_ok" ] || fail "wchan never read the same twice in 50 tries"

# Text: one section per method, in the same order, sizes exact when not a terminal.
"$MEMLENS" info "$pid" --show net.tcp,cwd,environ > "$TMPDIR/t.txt" 2>&1 || fail "text exit $?"
grep -q '^cwd:$' "$TMPDIR/t.txt" && grep -q '^  path: /usr$' "$TMPDIR/t.txt" || fail "text cwd: $(cat "$TMPDIR/t.txt")"
grep -q '^  ML_INFO_VAR: hello world$' "$TMPDIR/t.txt" || fail "text environ"
grep -q '^  - local_address: ' "$TMPDIR/t.txt" || fail "text tcp"
[ "$(grep -n '^[a-z]' "$TMPDIR/t.txt" | cut -d: -f2 | tr '\n' ' ')" = "environ cwd tcp " ] || fail "text order"

# Another user: what the ptrace check refuses is named with its reason, the rest still reads.
if [ "$(id -u)" -eq 0 ] && ml_nobody_stage; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "${NB_MEMLENS[@]}" info "$pid" --json \
		--show environ,status,namespaces,fd,limits,stat,wchan > "$TMPDIR/nb.json" 2> "$TMPDIR/nb.err"; rc=$?
	[ $rc -eq 1 ] || fail "another user's process: exit $rc (want 1, partial)"
	"$py" - "$TMPDIR/nb.json" <<'PY' || fail "errors object: $(cat "$TMPDIR/nb.err")"
import json, sys
d = json.load(open(sys.argv[1]))
e = d["errors"]
def check(cond, what):
    if not cond:
        print("mismatch:", what, e); sys.exit(1)
check(d["environ"] is None and e["environ"] == "permission denied", "environ")
check(d["fd"] is None and e["fd"] == "permission denied", "fd")
check(d["status"] is not None and d["limits"] is not None, "readable ones read")
# namespaces: every one named, none left out silently
check(all(("namespaces." + n) in e for n in ("mnt", "net", "pid", "user", "uts", "ipc", "cgroup")), "namespaces")
check(d["namespaces"] == {}, "no namespace shown")
# stat: what the kernel hides from this reader (start_code and end_code written as 1, the rest
# as 0) is null and named; wchan, which it writes as "0", is unknown, not "waits nowhere"
for k in ("startcode", "endcode", "startstack", "kstkesp", "kstkeip", "wchan", "start_data", "end_data",
          "start_brk", "arg_start", "arg_end", "env_start", "env_end", "exit_code"):
    check(d["stat"][k] is None and e["stat." + k] == "permission denied", "stat." + k)
check(d["stat"]["ppid"] > 0 and d["stat"]["exit_signal"] == 17, "stat: the rest is read")
check(d["wchan"] is None and e["wchan"] == "permission denied", "wchan")
PY
	grep -q "pid $pid: cannot read environ: permission denied" "$TMPDIR/nb.err" || fail "stderr names it: $(cat "$TMPDIR/nb.err")"
	ml_nobody_clean
else
	ml_not_run "not root; the other-user errors check was not run"
fi

# A snapshot: what it saved reads as live did; what it did not is named.
if "$MEMLENS" dump "$pid" -o "$TMPDIR/c.mlcore" 2> "$TMPDIR/dump.err" >/dev/null; then
	"$MEMLENS" info "$TMPDIR/c.mlcore" --json --show cmdline,status,limits,auxv,coredump_filter,maps,smaps_rollup,environ,fd,tcp \
		> "$TMPDIR/snap.json" 2> "$TMPDIR/snap.err"; rc=$?
	[ $rc -eq 1 ] || fail "snapshot exit $rc (some methods were not saved)"
	"$py" - "$TMPDIR/all.json" "$TMPDIR/snap.json" <<'PY' || fail "snapshot json"
import json, sys
live, snap = (json.load(open(f)) for f in sys.argv[1:3])
def check(cond, what):
    if not cond:
        print("mismatch:", what); sys.exit(1)
check(snap["source"] == "snapshot", "source")
for k in ("cmdline", "limits", "auxv", "coredump_filter"):
    check(snap[k] == live[k], k)
check(snap["status"]["name"] == live["status"]["name"] and snap["status"]["cpus_allowed"] == live["status"]["cpus_allowed"], "status")
check(len(snap["maps"]) > 0 and snap["smaps_rollup"] is None, "maps saved, rollup not")
e = snap["errors"]
check(e == {"smaps_rollup": "not saved in the snapshot", "environ": "not saved in the snapshot",
            "fd": "only on a live process", "tcp": "not saved in the snapshot"}, "errors %r" % e)
PY
else
	grep -q 'no snapshot writer' "$TMPDIR/dump.err" || fail "dump: $(cat "$TMPDIR/dump.err")"
	ml_not_run "this build has no snapshot writer; the snapshot check was not run"
fi

# A task in the default group (its file reads empty): an answer, not an error. Kernel
# threads always are; in a PID namespace that hides them, a process of a session that never
# called setsid() serves, and where neither is visible only the other side was checked above.
dpid=
for d in /proc/[0-9]*; do
	[ -r "$d/autogroup" ] && [ -z "$(cat "$d/autogroup" 2>/dev/null)" ] && [ -n "$(cat "$d/stat" 2>/dev/null)" ] \
		&& { dpid=${d#/proc/}; break; }
done
if [ -n "$dpid" ]; then
	out=$("$MEMLENS" info "$dpid" --json --show autogroup 2>&1); rc=$?
	if [ -e "/proc/$dpid" ]; then
		[ $rc -eq 0 ] || fail "default group (pid $dpid): exit $rc: $out"
		"$py" -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if d["autogroup"]=={"id":None,"nice":None} and d["errors"]=={} else 1)' "$out" \
			|| fail "default group (pid $dpid): $out"
	fi
else
	ml_not_run "no task of the default autogroup is visible here; only tasks with a group were checked"
fi

# A zombie: its status still reads; its command line is gone with its address space.
say zombie
zpid=${ans#ok pid=}
"$MEMLENS" info "$zpid" --json --show status,cmdline > "$TMPDIR/z.json" 2>/dev/null; rc=$?
[ $rc -eq 1 ] || fail "zombie exit $rc"
"$py" - "$TMPDIR/z.json" <<'PY' || fail "zombie json"
import json, sys
d = json.load(open(sys.argv[1]))
if not (d["status"]["state"]["letter"] == "Z" and d["cmdline"] is None and
        d["errors"] == {"cmdline": "gone with its address space (a zombie)"}):
    print("zombie:", d["errors"]); sys.exit(1)
PY
echo "ok"
ml_done
